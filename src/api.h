/*
 * api: one request to the job API on a reusable libcurl easy handle.
 *
 * The poller owns a pool of api_request slots and a curl multi handle; this
 * module only knows how to aim a slot at a job (URL from the profile, headers
 * from the auth decorator, a capped body buffer, the Retry-After header) and how
 * to classify what came back. Easy handles never leave the poller thread.
 */
#ifndef ELB_API_H
#define ELB_API_H

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "profile.h"
#include "stats.h"
#include "strbuf.h"

#define API_MAX_BODY (1u << 20) /* bytes of one answer; more is "too_large" */
#define API_URL_MAX 2048
#define API_RETRY_AFTER_DEFAULT 60 /* seconds, when a 429 names no delay */
#define API_RETRY_AFTER_MAX 3600   /* seconds; a larger Retry-After is capped */
#define API_ERR_HINT_MAX 256       /* bytes a hint adds to libcurl's error text */

struct api_client {
    const char *endpoint;   /* base URL without trailing '/' */
    const char *project_id; /* must be URL-safe ([A-Za-z0-9_-]) */
    const struct api_profile *profile;
    struct auth *auth;
    uint64_t timeout_ms;
    const char *user_agent;
    /*
     * TLS towards the API. ca_file: a PEM bundle that replaces libcurl's system
     * CAs (NULL: the system's). insecure_skip_verify: neither the certificate nor
     * the host name is checked (the caller warns). Proxies come from the
     * environment as curl users know them (http_proxy, https_proxy, no_proxy, ...):
     * nothing here turns that off.
     */
    const char *ca_file;
    int insecure_skip_verify;
};

struct api_request {
    CURL *easy;
    struct curl_slist *headers;
    struct strbuf body; /* capped at API_MAX_BODY */
    int too_large;      /* the body hit the cap */
    long retry_after;   /* seconds from Retry-After, -1 if absent */
    char url[API_URL_MAX];
    /* libcurl's error text (CURL_ERROR_SIZE), then room for a hint api_request_outcome adds */
    char errbuf[CURL_ERROR_SIZE + API_ERR_HINT_MAX];
    int ca_file_set;     /* the client named a --tls.ca-file (for the hint) */
    char *subject_token; /* X-Subject-Token of the answer (a login's token), wiped; NULL if none */
    unsigned auth_gen;   /* generation of the token the request was decorated with */
    int relogin;         /* the caller's: a 401 that a fresh login may cure */
    uint64_t job;        /* the caller's handle of the job (the poller's job_handle) */
    int in_cycle;        /* the caller's: started as a member of a poll cycle */
};

/* What a finished request amounts to. */
struct api_outcome {
    long http_code;          /* 0 when no HTTP answer arrived */
    int transport_ok;        /* 1 when an HTTP answer arrived complete */
    enum api_err_reason err; /* when !transport_ok */
    double seconds;          /* total time of the request */
    long retry_after;        /* seconds, -1 if absent */
};

/* Create the easy handle with the options all requests share. Returns 0 or -ENOMEM. */
int api_request_init(struct api_request *r, const struct api_client *c);
/*
 * Aim r at job_id: URL, fresh headers (auth), empty body. Returns 0, -EINVAL, -ENOMEM,
 * -EAGAIN when the auth holds no token yet, or what else auth_decorate returns (AK/SK:
 * -EINVAL, -E2BIG for a URL the signer refuses).
 */
int api_request_prepare(struct api_request *r, const struct api_client *c, const char *job_id,
                        uint64_t job);
/*
 * Aim r at an IAM login: POST body[0..len) (not copied: it must stay valid, and
 * be wiped by the caller, until the transfer is done) to url as JSON, with no
 * auth header. Returns 0, -EINVAL, -ENOMEM.
 */
int api_request_prepare_login(struct api_request *r, const char *url, const char *body, size_t len);
/*
 * Classify a finished transfer. A certificate that does not verify also
 * rewrites r->errbuf to "certificate verify failed: <libcurl's reason>" and what
 * to do about it (--tls.ca-file), since that is what the caller logs.
 */
void api_request_outcome(struct api_request *r, CURLcode rc, struct api_outcome *out);
/* Free the handle, headers and body; accepts a zeroed or half-built request. */
void api_request_cleanup(struct api_request *r);

/*
 * Can path serve as --tls.ca-file: a readable regular file (a FIFO is refused,
 * never waited on) holding at least one PEM certificate? Returns 0, or -errno
 * (-EINVAL: not a regular file or no certificate in it) with one line in err
 * (untouched on success).
 */
int api_check_ca_file(const char *path, char *err, size_t errsz);

/* Parse a Retry-After value (delta-seconds or HTTP-date relative to now); -1 if invalid. */
long api_parse_retry_after(const char *v, size_t len, double now);

#endif
