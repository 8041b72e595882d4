/*
 * stats: the exporter's own counters, as the poller keeps them.
 *
 * The poller thread is the only writer and also the renderer, so these are
 * plain fields: the HTTP threads never see them, only the rendered snapshot.
 * Maps keyed by server-controlled strings (job_type, error_code) are capped.
 * The exception is struct http_counters at the end: the HTTP server's threads
 * write it and the renderer reads it, so its fields are C11 atomics.
 */
#ifndef ELB_STATS_H
#define ELB_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "job.h"

/* Reasons a request produced no usable answer (label values of api_request_errors_total). */
enum api_err_reason {
    API_ERR_TIMEOUT = 0,
    API_ERR_CONNECT,
    API_ERR_TLS,
    API_ERR_RESOLVE,
    API_ERR_PARSE,
    API_ERR_TOO_LARGE,
    API_ERR_OTHER,
    API_ERR_COUNT
};
const char *api_err_reason_name(enum api_err_reason r);

/*
 * Pages rendered per cycle (label values of render_failures_total): the text
 * exposition, the landing page, the OpenMetrics exposition, and "gzip", the
 * compression of any of them (that page is then served identity).
 */
enum render_page {
    RENDER_METRICS = 0,
    RENDER_LANDING,
    RENDER_OPENMETRICS,
    RENDER_GZIP,
    RENDER_PAGE_COUNT
};
const char *render_page_name(enum render_page p);

/* Upper bounds of api_request_duration_seconds buckets (+Inf is implicit). */
#define STATS_DURATION_BUCKETS 11
extern const double stats_duration_bounds[STATS_DURATION_BUCKETS];

#define STATS_MAX_SERIES 512 /* distinct job_type / (job_type,error_code) label sets kept */

struct stats_count {
    char job_type[JOB_TYPE_MAX + 1];
    char error_code[JOB_ERROR_CODE_MAX + 1]; /* "" for the finished counter */
    uint64_t value;
};

/*
 * The durable store's figures (--storage.path), copied from store_get_stats
 * before each rendering; enabled 0 without a store (no store families then).
 */
struct stats_store {
    int enabled;
    uint64_t jobs, log_bytes;
    uint64_t records_corrupt, bytes_cut, records_skipped; /* found at start-up */
    uint64_t appends, fsyncs, compactions, write_errors;
    double replay_seconds;
};

struct stats {
    uint64_t requests_by_code[600]; /* index: HTTP status code 100..599 */
    uint64_t errors[API_ERR_COUNT];
    uint64_t duration_buckets[STATS_DURATION_BUCKETS]; /* per bucket; the renderer accumulates */
    uint64_t duration_count;
    double duration_sum;
    int api_up;
    uint64_t auth_requests, auth_failures;
    double auth_token_expiry; /* 0: unknown (not rendered) */
    uint64_t poll_cycles;
    double last_cycle_ts;       /* 0 before the first cycle */
    double last_cycle_duration; /* seconds */
    struct stats_count finished[STATS_MAX_SERIES];
    unsigned n_finished;
    struct stats_count failed[STATS_MAX_SERIES];
    unsigned n_failed;
    uint64_t series_dropped; /* increments refused because a map was full */
    uint64_t
        render_failures[RENDER_PAGE_COUNT]; /* renders that failed; the page kept its last form */
    int jobs_file;                          /* a --jobs.file is watched: render its reload state */
    int jobs_reload_ok;                     /* the last (re)load of it worked */
    double jobs_reload_success_ts;          /* when it last loaded */
    struct stats_store store;
};

/* Count one answer / one error / one request duration. */
void stats_count_code(struct stats *s, long code);
void stats_count_error(struct stats *s, enum api_err_reason r);
void stats_observe_duration(struct stats *s, double seconds);
/* Count a job seen finished (and failed, with its error code). */
void stats_count_finished(struct stats *s, const char *job_type);
void stats_count_failed(struct stats *s, const char *job_type, const char *error_code);

/* Why the HTTP server refused a connection at accept (label values of connections_refused). */
enum http_refuse_reason {
    HTTP_REFUSE_PER_IP_LIMIT = 0, /* the address holds HTTP_PER_IP_LIMIT connections not waiting */
    HTTP_REFUSE_CONNECTION_LIMIT, /* the server holds HTTP_CONNECTION_LIMIT not waiting */
    HTTP_REFUSE_COUNT
};
/* Why it cut one before the request was answered (label values of connections_cut). */
enum http_cut_reason { HTTP_CUT_HEADER_TIMEOUT = 0, HTTP_CUT_COUNT };

/* Why it refused a request with an error status (label values of requests_refused). */
enum http_request_refuse_reason {
    HTTP_REQ_REFUSE_MAX_REQUESTS = 0, /* 503: --web.max-requests already being served */
    HTTP_REQ_REFUSE_UNAUTHORIZED,     /* 401: basic auth credentials missing or wrong */
    HTTP_REQ_REFUSE_AUTH_BUSY,        /* 503: too many password checks waiting */
    HTTP_REQ_REFUSE_RATE_LIMIT,       /* 429: the web config's rate_limit */
    HTTP_REQ_REFUSE_CLIENT_CERT,      /* 403: the client certificate's SANs (or check) failed */
    HTTP_REQ_REFUSE_COUNT
};

/*
 * The HTTP server's counters: owned by main, incremented by the server's
 * threads (http.c), read with atomic_load by the renderer. Never reset.
 */
struct http_counters {
    atomic_uint_least64_t refused[HTTP_REFUSE_COUNT]; /* connections closed at accept */
    atomic_uint_least64_t cut[HTTP_CUT_COUNT];        /* connections shut down by us */
    atomic_uint_least64_t server_errors; /* libmicrohttpd's complaints, logged or not */
    atomic_uint_least64_t waiting;       /* requests waiting now (GET /api/v1/jobs/{id}?wait=) */
    atomic_uint_least64_t waits_refused; /* waits refused: the address's or the server's cap */
    atomic_uint_least64_t requests_refused[HTTP_REQ_REFUSE_COUNT];
    /* --web.config.file, when one is used (web_config 1): its reloads */
    atomic_int web_config;
    atomic_int web_config_reload_ok;                  /* the last (re)load worked */
    atomic_uint_least64_t web_config_reload_ms;       /* wall clock ms of the last good one */
    atomic_uint_least64_t web_config_reload_failures; /* reloads that failed */
};

#endif
