/*
 * job: a job API answer -> a job record. Pure: no I/O, no clock, no logging.
 *
 * Accepts what real servers send (api-notes.md sections 1 and 3), not only
 * what the API pages document: end_time "" or null while running, null or ""
 * error fields, sub_jobs as an array / [] / null / "" / missing (recursively),
 * entities of any shape, and the three error-body shapes. All strings are
 * fully decoded. What differs between the job APIs comes from the profile
 * (profile.h): the envelope ({"job":{...},"request_id":"..."} for elb-v3),
 * where sub-jobs sit (entities.sub_jobs and entities.sub_jobs_total for ECS),
 * the key of the failure text (error_msg for elb-v3), a top-level resource_id,
 * and the statuses; a status the profile does not list is JOB_UNKNOWN with
 * its raw text kept.
 *
 * A failed job whose own error code or failure text is empty (null, "",
 * missing) takes it from its first failed direct sub-job: the sub-job's code,
 * and its text from entities.<sub_fail_text_key> (ECS: errorcode_message) or
 * else its own failure-text field. So a failed ECS batch whose top level says
 * nothing still carries the reason one of its servers failed.
 */
#ifndef ELB_JOB_H
#define ELB_JOB_H

#include <stddef.h>

#include "profile.h"

#define JOB_ID_MAX 64                  /* [A-Za-z0-9_-]{1,64} */
#define JOB_TYPE_MAX 128               /* bytes of job_type */
#define JOB_STATUS_RAW_MAX 32          /* bytes of the raw status kept for logs */
#define JOB_ERROR_CODE_MAX 128         /* bytes of error_code */
#define JOB_FAIL_REASON_MAX 256        /* fail_reason is cut to this on a UTF-8 boundary */
#define JOB_RESOURCE_ID_MAX 128        /* bytes of the resource id taken from entities */
#define JOB_SUB_JOBS_MAX 1024          /* direct sub-jobs of one job */
#define JOB_SUB_JOBS_TOTAL_MAX 1000000 /* largest sub_jobs_total accepted (ECS) */

/* Results of the parsers. */
enum job_parse_rc {
    JOB_PARSE_OK = 0,
    JOB_PARSE_INVALID = -1,  /* malformed, truncated, wrongly typed, missing field */
    JOB_PARSE_TOO_LARGE = -2 /* a cap (body, tokens, depth, string, sub-jobs) exceeded */
};

struct job_record {
    char job_id[JOB_ID_MAX + 1];
    char job_type[JOB_TYPE_MAX + 1];           /* "" if absent */
    char status_raw[JOB_STATUS_RAW_MAX + 1];   /* as sent (cut), for logs */
    enum job_status status;                    /* JOB_UNKNOWN for a value the profile lacks */
    int has_begin, has_end;                    /* 0 when absent, null or "" */
    double begin_time, end_time;               /* seconds since the epoch */
    char error_code[JOB_ERROR_CODE_MAX + 1];   /* "" when null/absent (or a failed sub-job's) */
    char fail_reason[JOB_FAIL_REASON_MAX + 1]; /* failure text (fail_reason, error_msg, or a
                                                  failed sub-job's), "" when null/absent;
                                                  cut on a UTF-8 boundary */
    char resource_id[JOB_RESOURCE_ID_MAX + 1]; /* from resource_id or entities, "" if none */
    int has_sub_jobs;                          /* 1 if sub_jobs held at least one job */
    unsigned sub_jobs[JOB_STATUS_COUNT];       /* direct sub-jobs per status */
    int has_sub_jobs_total;                    /* 1 if the profile's sub_jobs_total was sent */
    unsigned sub_jobs_total;                   /* its value (0..JOB_SUB_JOBS_TOTAL_MAX) */
};

/* An error answer: {"error":{"message","code"}}, {"error_msg","error_code"} or {"message","code"}.
 */
struct api_error {
    char code[64];
    char message[256];
};

/*
 * Parse a job answer body of len bytes for profile p (NULL: the default) into *out.
 * Requires a JSON object (for an enveloped profile, one holding the envelope
 * key with an object) with a string "status"; other fields are optional but,
 * when present, must have the documented type (string or null; timestamps must
 * parse; sub_jobs_total a whole number). On error returns JOB_PARSE_INVALID or
 * JOB_PARSE_TOO_LARGE, writes a one-line reason to err (errsz > 0) and leaves
 * *out untouched.
 */
int job_parse(const struct api_profile *p, const char *body, size_t len, struct job_record *out,
              char *err, size_t errsz);

/*
 * Parse an error body in any of the three shapes. Returns 0 with *out filled
 * (either field may be ""), or JOB_PARSE_INVALID if none matched (out untouched).
 */
int job_parse_error(const char *body, size_t len, struct api_error *out);

/* Is s[0..n) a valid job ID: 1..64 of [A-Za-z0-9_-]? */
int job_id_valid(const char *s, size_t n);

#endif
