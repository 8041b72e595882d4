/*
 * expfmt: render the whole exposition from the exporter's state. Pure.
 *
 * The poller calls expfmt_render() once per cycle; the result goes into an
 * immutable snapshot that every scrape serves as is. The renderer writes one
 * metric family at a time through a small writer (family header, then samples)
 * so that a second format (OpenMetrics) is another writer, not another renderer.
 * Label values are escaped (\\, \", \n) after JSON decoding; a family whose
 * rendering fails is rolled back, never left half-written.
 */
#ifndef ELB_EXPFMT_H
#define ELB_EXPFMT_H

#include <stddef.h>

#include "job.h"
#include "stats.h"
#include "strbuf.h"

enum expfmt_format { EXPFMT_TEXT_004 = 0 };

#define EXPFMT_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"

/* One tracked job as the renderer sees it. */
struct expfmt_job {
    const char *id;
    const struct job_record *rec; /* last good answer, NULL if none yet */
    enum job_status status;       /* JOB_UNKNOWN if never fetched or 404 */
    int fetch_success;            /* last poll got a valid answer */
    double last_fetch;            /* time of the last answer, 0 if none */
    double observed_at;           /* time rec was fetched (running duration = this - begin) */
};

/* process_* values; ok = 0 leaves the family out. */
struct proc_stats {
    int ok;
    double cpu_seconds, start_time;
    double resident_bytes, virtual_bytes;
    double open_fds, max_fds;
};

struct build_info {
    const char *version, *revision, *libcurl, *libmicrohttpd;
    /*
     * TRANSITIONAL: carries the HTTP server's counters from main through the
     * poller (which copies build_info whole) until the poller sets
     * expfmt_input.http itself; then this field goes. Not build information.
     */
    const struct http_counters *http;
};

struct expfmt_input {
    const struct api_profile *profile;
    const struct expfmt_job *jobs;
    size_t n_jobs;
    const struct stats *stats;
    const struct proc_stats *proc;
    const struct build_info *build;
    /*
     * The HTTP server's counters, read with atomic_load; NULL (no server, as in
     * --once) leaves the elb_job_exporter_http_* families out. While NULL,
     * build->http is used instead (see build_info).
     */
    const struct http_counters *http;
};

#define EXPFMT_MAX_OUTPUT (64u << 20) /* cap of one rendered exposition */

/*
 * Append the complete exposition to out. Returns 0, or -E2BIG/-ENOMEM with out
 * rolled back to its length on entry.
 */
int expfmt_render(struct strbuf *out, enum expfmt_format fmt, const struct expfmt_input *in);

/* Append s escaped as a label value (\\, \", \n). Same returns as strbuf_append. */
int expfmt_escape_label(struct strbuf *out, const char *s);

/* Format a sample value the shortest way that reads back exactly (+Inf, -Inf, NaN too). */
void expfmt_format_double(double v, char *buf, size_t len);

#endif
