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

struct api_client {
    const char *endpoint;   /* base URL without trailing '/' */
    const char *project_id; /* must be URL-safe ([A-Za-z0-9_-]) */
    const struct api_profile *profile;
    struct auth *auth;
    uint64_t timeout_ms;
    const char *user_agent;
};

struct api_request {
    CURL *easy;
    struct curl_slist *headers;
    struct strbuf body; /* capped at API_MAX_BODY */
    int too_large;      /* the body hit the cap */
    long retry_after;   /* seconds from Retry-After, -1 if absent */
    char url[API_URL_MAX];
    char errbuf[CURL_ERROR_SIZE];
    uint64_t job; /* the caller's handle of the job (the poller's job_handle) */
    int in_cycle; /* the caller's: started as a member of a poll cycle */
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
 * Aim r at job_id: URL, fresh headers (auth), empty body. Returns 0, -EINVAL, -ENOMEM, or
 * what auth_decorate returns (AK/SK: -EINVAL, -E2BIG for a URL the signer refuses).
 */
int api_request_prepare(struct api_request *r, const struct api_client *c, const char *job_id,
                        uint64_t job);
/* Classify a finished transfer. */
void api_request_outcome(struct api_request *r, CURLcode rc, struct api_outcome *out);
/* Free the handle, headers and body; accepts a zeroed or half-built request. */
void api_request_cleanup(struct api_request *r);

/* Parse a Retry-After value (delta-seconds or HTTP-date relative to now); -1 if invalid. */
long api_parse_retry_after(const char *v, size_t len, double now);

#endif
