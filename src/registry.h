/*
 * registry: the pure half of the job registration API (/api/v1/jobs). No I/O,
 * no clock, no globals: request bodies, job references, query values and
 * Go-style durations in; JSON answers out. registry_http.c is the shell that
 * talks to libmicrohttpd, the job table and the store.
 *
 * Every parser writes, on failure, one line in err that names exactly what is
 * wrong (the field, the value, what was expected), which the API sends back
 * as {"error": "..."}.
 */
#ifndef ELB_REGISTRY_H
#define ELB_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "jobindex.h"
#include "joblabels.h"
#include "profile.h"
#include "strbuf.h"

#define REGISTRY_BODY_MAX 4096                 /* bytes of a POST body; more is 413 */
#define REGISTRY_WAIT_MAX_MS (3600u * 1000u)   /* ?wait= is capped at 1h */
#define REGISTRY_LIMIT_DEFAULT 100             /* jobs per page of GET /api/v1/jobs */
#define REGISTRY_LIMIT_MAX 1000                /* ?limit= at most */
#define REGISTRY_ERR_MAX 320                   /* bytes of one error line */
#define REGISTRY_REF_MAX (32 + 1 + JOB_ID_MAX) /* "PROFILE:ID" */
/* The biggest job JSON (every string at its cap, escaped at worst) and page. */
#define REGISTRY_JOB_JSON_MAX 8192
#define REGISTRY_LIST_JSON_MAX (REGISTRY_LIMIT_MAX * REGISTRY_JOB_JSON_MAX + 1024)

/* A registration: the body of POST /api/v1/jobs, parsed. */
struct registry_reg {
    const struct api_profile *profile;
    char id[JOB_ID_MAX + 1];
    int has_labels; /* "labels" was given ({} clears them); else the job keeps its own */
    struct job_labels labels;
};

/*
 * Parse a registration body of len bytes:
 *   {"job_id": "ID" or "PROFILE:ID", "profile": "NAME", "labels": {NAME: VALUE, ...},
 *    "uri": "/v1/<project>/jobs/<id>"}
 * job_id or uri is required; the rest is optional. uri is the create call's
 * own answer as it stands: a job path of one of the profiles (a full URL is
 * cut to its path); its job ID must equal job_id when both are given, its
 * project project_id when that is known (non-NULL), and it picks the profile
 * when none is named (the default one if its path fits, else the only
 * profile whose path fits). Unknown or repeated fields, wrong types, a body
 * that is not one JSON object, an invalid ID, an unknown profile and labels
 * off the allow-list are errors. Returns 0 with *out, or -EINVAL with err.
 */
int registry_parse_registration(const char *body, size_t len, const struct api_profile *def,
                                const char *project_id, struct registry_reg *out, char *err,
                                size_t errsz);

/*
 * Parse a job reference, "ID" (of profile def) or "PROFILE:ID". Returns 0
 * with *p and id (JOB_ID_MAX + 1 bytes), or -EINVAL with err.
 */
int registry_parse_ref(const char *ref, const struct api_profile *def, const struct api_profile **p,
                       char *id, char *err, size_t errsz);

/*
 * Parse a Go-style duration ("10m", "1h30m", "1.5h", "250ms", "0"; units h m s
 * ms us µs ns, fractions allowed, no sign) into milliseconds (sub-millisecond
 * parts dropped). Returns 0, -EINVAL (err says why) or -ERANGE (past Go's 292 years).
 */
int registry_parse_duration(const char *s, uint64_t *ms, char *err, size_t errsz);

/* Is a Content-Type header value JSON (application/json, any parameters, any case)? */
int registry_content_type_json(const char *ct);

/* What GET /api/v1/jobs lists. */
struct registry_list_query {
    unsigned statuses;                 /* JOB_STATUS_BIT set; 0: every status */
    int finished;                      /* -1: either; 0 or 1: only unfinished / finished */
    const struct api_profile *profile; /* NULL: every profile */
    size_t limit;                      /* 1..REGISTRY_LIMIT_MAX */
    int has_after;                     /* the page starts after (after_profile, after_id) */
    const struct api_profile *after_profile;
    char after_id[JOB_ID_MAX + 1];
};

/* A query with the defaults: every job, REGISTRY_LIMIT_DEFAULT per page. */
void registry_list_query_init(struct registry_list_query *q);
/*
 * Apply one query parameter (name=value, decoded) of GET /api/v1/jobs:
 * status=S[,S...] (status names, any case), finished=true|false,
 * profile=NAME, limit=N (1..REGISTRY_LIMIT_MAX), after=REF (the "next" of the
 * previous page). Returns 0, or -EINVAL with err (an unknown parameter too).
 */
int registry_list_param(struct registry_list_query *q, const char *name, const char *value,
                        const struct api_profile *def, char *err, size_t errsz);

/*
 * Render one job as JSON (registry_http serves it for GET /api/v1/jobs/{id}).
 * Returns 0, or a strbuf error with out rolled back.
 */
int registry_render_job(struct strbuf *out, const struct jobindex *ix,
                        const struct jobindex_entry *e);
/*
 * Render a page of the list: {"jobs": [...], "total": N, "next": "REF"|null}.
 * total counts every job the filter matches; next, when more follow, is the
 * after= of the next page (keyset pagination: stable while jobs come and go).
 */
int registry_render_list(struct strbuf *out, const struct jobindex *ix,
                         const struct registry_list_query *q);
/* Render {"error": msg}. */
int registry_render_error(struct strbuf *out, const char *msg);
/*
 * Render the answer to a registration or a forget: {"job_id", "profile",
 * "registered" (1: it is now; 0: forgotten), "created" (a new registration,
 * 201; else 200), "labels" (when given), "job": "/api/v1/jobs/PROFILE:ID"}.
 */
int registry_render_registration(struct strbuf *out, const struct registry_reg *r, int registered,
                                 int created);
/* Append s as a JSON string (quotes, escapes; invalid UTF-8 becomes U+FFFD). */
int registry_json_string(struct strbuf *out, const char *s);

#endif
