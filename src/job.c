/*
 * job: a job API answer -> a job record (see job.h).
 *
 * Field rules follow what servers really send (api-notes.md sections 1 and 3):
 * optional fields may be absent or null, end_time may be "", sub_jobs may be
 * an array, [], null, "" or missing, and entities has any shape. A field that
 * is present with the wrong type is an error rather than silently ignored,
 * because it means the API changed under us. Every failure writes one short
 * line naming the field; the record is only written on success. The one
 * exception is what a failed sub-job lends to a failed job with empty error
 * fields (job.h): that is best effort, and a sub-job field of the wrong type
 * there is simply not lent.
 */
#include "job.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "timeutil.h"

#define JOB_TIME_TEXT_MAX 64 /* longest timestamp text considered (RFC 3339 needs 35) */
#define JOB_PATH_MAX 256     /* field path in error messages, e.g. sub_jobs[3].status */
#define JOB_STR_(x) #x
#define JOB_STR(x) JOB_STR_(x) /* a numeric cap as text, for messages */

/* What one parse works on. */
struct job_ctx {
    const struct api_profile *p;
    const struct json_doc *d;
    char *err;
    size_t errsz;
};

/* Write `field "<field>": <why>` to the error buffer and return rc. */
static int reject(struct job_ctx *c, int rc, const char *field, const char *why)
{
    if (c->err != NULL && c->errsz > 0)
        snprintf(c->err, c->errsz, "field \"%s\": %s", field, why);
    return rc;
}

/* Is v absent (-1) or JSON null? */
static int absent(const struct job_ctx *c, int v)
{
    return v < 0 || json_type(c->d, v) == JSON_NULL;
}

/*
 * Optional string member key of obj into out[outsz] (fully decoded), "" when
 * absent or null. Longer than outsz - 1: cut on a UTF-8 boundary if cut is
 * set, else JOB_PARSE_TOO_LARGE. Wrong type or bad string: JOB_PARSE_INVALID.
 */
static int opt_string(struct job_ctx *c, int obj, const char *key, char *out, size_t outsz, int cut)
{
    int v = json_get(c->d, obj, key), rc;

    out[0] = '\0';
    if (absent(c, v))
        return JOB_PARSE_OK;
    if (json_type(c->d, v) != JSON_STRING)
        return reject(c, JOB_PARSE_INVALID, key, "not a string");
    rc = json_string(c->d, v, out, outsz, NULL);
    if (rc == -E2BIG && cut)
        return JOB_PARSE_OK;
    if (rc == -E2BIG) {
        char why[48];

        out[0] = '\0';
        snprintf(why, sizeof(why), "longer than %zu bytes", outsz - 1);
        return reject(c, JOB_PARSE_TOO_LARGE, key, why);
    }
    if (rc != 0)
        return reject(c, JOB_PARSE_INVALID, key, "invalid string");
    return JOB_PARSE_OK;
}

/* Optional timestamp member key of obj: RFC 3339 string, "" / null / absent for none. */
static int opt_time(struct job_ctx *c, int obj, const char *key, int *has, double *t)
{
    char buf[JOB_TIME_TEXT_MAX + 1];
    int v = json_get(c->d, obj, key);
    size_t n;

    *has = 0;
    *t = 0;
    if (absent(c, v))
        return JOB_PARSE_OK;
    if (json_type(c->d, v) != JSON_STRING)
        return reject(c, JOB_PARSE_INVALID, key, "not a string");
    if (json_string(c->d, v, buf, sizeof(buf), &n) != 0)
        return reject(c, JOB_PARSE_INVALID, key, "not a valid timestamp");
    if (n == 0)
        return JOB_PARSE_OK;
    if (time_parse_rfc3339(buf, n, t) != 0)
        return reject(c, JOB_PARSE_INVALID, key, "not a valid timestamp");
    *has = 1;
    return JOB_PARSE_OK;
}

/*
 * The status member of job object obj, named path in errors: required string.
 * Raw text (cut to JOB_STATUS_RAW_MAX) to raw if not NULL, status to *st.
 */
static int get_status(struct job_ctx *c, int obj, const char *path, char *raw, enum job_status *st)
{
    char buf[JOB_STATUS_RAW_MAX + 1];
    int v = json_get(c->d, obj, "status"), rc;

    if (v < 0)
        return reject(c, JOB_PARSE_INVALID, path, "missing");
    if (json_type(c->d, v) != JSON_STRING)
        return reject(c, JOB_PARSE_INVALID, path, "not a string");
    rc = json_string(c->d, v, buf, sizeof(buf), NULL);
    if (rc != 0 && rc != -E2BIG)
        return reject(c, JOB_PARSE_INVALID, path, "invalid string");
    /* A cut value is longer than any status name, so it is UNKNOWN. */
    *st = rc == 0 ? profile_status(c->p, buf) : JOB_UNKNOWN;
    if (raw != NULL)
        memcpy(raw, buf, sizeof(buf));
    return JOB_PARSE_OK;
}

/* A field path for error messages, built up and cut back while descending. */
struct job_path {
    char buf[JOB_PATH_MAX];
    size_t len;
};

/* Append formatted text (cut at the cap); returns the previous length for path_pop. */
static size_t path_push(struct job_path *pa, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t path_push(struct job_path *pa, const char *fmt, ...)
{
    size_t old = pa->len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(pa->buf + pa->len, sizeof(pa->buf) - pa->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        pa->len +=
            (size_t)n < sizeof(pa->buf) - pa->len ? (size_t)n : sizeof(pa->buf) - 1 - pa->len;
    return old;
}

static void path_pop(struct job_path *pa, size_t len)
{
    pa->len = len;
    pa->buf[len] = '\0';
}

/*
 * Where the sub_jobs of job object obj sit for this profile: *tok is the
 * value token or -1. For SUBJOBS_IN_ENTITIES an entities member of the wrong
 * type is an error; pa is the path of obj ("" for the job itself) and comes
 * back extended by the name of the sub_jobs field.
 */
static int find_sub_jobs(struct job_ctx *c, int obj, struct job_path *pa, int *tok)
{
    int ent;

    *tok = -1;
    if (c->p->sub_jobs_at == SUBJOBS_TOP_LEVEL) {
        path_push(pa, "sub_jobs");
        *tok = json_get(c->d, obj, "sub_jobs");
        return JOB_PARSE_OK;
    }
    path_push(pa, "entities");
    ent = json_get(c->d, obj, "entities");
    if (!absent(c, ent) && json_type(c->d, ent) != JSON_OBJECT)
        return reject(c, JOB_PARSE_INVALID, pa->buf, "not an object");
    path_push(pa, ".sub_jobs");
    if (!absent(c, ent))
        *tok = json_get(c->d, ent, "sub_jobs");
    return JOB_PARSE_OK;
}

/*
 * Check the sub_jobs value tok (array, null, "" or absent) named pa, and
 * recursively every sub-job's own sub_jobs. Direct sub-jobs are counted per
 * status into counts (NULL: do not count); *n gets the number of elements;
 * *failed (when not NULL) the first direct sub-job whose status is a failure
 * of the profile, or -1. Recursion is bounded: each level is two JSON levels,
 * and JSON depth is capped.
 */
static int check_sub_jobs(struct job_ctx *c, int tok, struct job_path *pa, unsigned *counts, int *n,
                          int *failed)
{
    int e, i = 0, rc, child, dummy;
    enum job_status st;
    size_t mark, el;

    *n = 0;
    if (failed != NULL)
        *failed = -1;
    if (absent(c, tok))
        return JOB_PARSE_OK;
    if (json_type(c->d, tok) == JSON_STRING && json_streq(c->d, tok, ""))
        return JOB_PARSE_OK;
    if (json_type(c->d, tok) != JSON_ARRAY)
        return reject(c, JOB_PARSE_INVALID, pa->buf, "not an array");
    if (json_size(c->d, tok) > JOB_SUB_JOBS_MAX)
        return reject(c, JOB_PARSE_TOO_LARGE, pa->buf,
                      "more than " JOB_STR(JOB_SUB_JOBS_MAX) " sub-jobs");
    for (e = json_first(c->d, tok); e >= 0; e = json_next(c->d, e), i++) {
        mark = path_push(pa, "[%d]", i);
        if (json_type(c->d, e) != JSON_OBJECT)
            return reject(c, JOB_PARSE_INVALID, pa->buf, "not an object");
        el = path_push(pa, ".status");
        rc = get_status(c, e, pa->buf, NULL, &st);
        if (rc != JOB_PARSE_OK)
            return rc;
        if (counts != NULL)
            counts[st]++;
        if (failed != NULL && *failed < 0 && profile_failed(c->p, st))
            *failed = e;
        path_pop(pa, el);
        path_push(pa, ".");
        rc = find_sub_jobs(c, e, pa, &child);
        if (rc == JOB_PARSE_OK)
            rc = check_sub_jobs(c, child, pa, NULL, &dummy, NULL);
        if (rc != JOB_PARSE_OK)
            return rc;
        path_pop(pa, mark);
    }
    *n = i;
    return JOB_PARSE_OK;
}

/*
 * Copy the resource id string v, found in field, into out, or fail if it is
 * too long or undecodable.
 */
static int take_resource_id(struct job_ctx *c, int v, const char *field, char *out)
{
    int rc = json_string(c->d, v, out, JOB_RESOURCE_ID_MAX + 1, NULL);

    if (rc == -E2BIG) {
        out[0] = '\0';
        return reject(c, JOB_PARSE_TOO_LARGE, field,
                      "resource id longer than " JOB_STR(JOB_RESOURCE_ID_MAX) " bytes");
    }
    if (rc != 0)
        return reject(c, JOB_PARSE_INVALID, field, "resource id is not a valid string");
    return JOB_PARSE_OK;
}

/*
 * resource_id from the entities object ent, first match wins: entities.elb.id,
 * entities.elb_id, the first "*_id" member holding a string, the "id" string
 * of the first member object that has one; else "".
 */
static int resource_id(struct job_ctx *c, int ent, char *out)
{
    const struct json_doc *d = c->d;
    int v, k;

    out[0] = '\0';
    if (json_type(d, ent) != JSON_OBJECT)
        return JOB_PARSE_OK;
    v = json_get(d, json_get(d, ent, "elb"), "id");
    if (json_type(d, v) == JSON_STRING)
        return take_resource_id(c, v, "entities", out);
    v = json_get(d, ent, "elb_id");
    if (json_type(d, v) == JSON_STRING)
        return take_resource_id(c, v, "entities", out);
    for (k = json_first(d, ent); k >= 0; k = json_next(d, k))
        if (json_type(d, k + 1) == JSON_STRING && json_strsuffix(d, k, "_id"))
            return take_resource_id(c, k + 1, "entities", out);
    for (k = json_first(d, ent); k >= 0; k = json_next(d, k)) {
        v = json_get(d, k + 1, "id");
        if (json_type(d, v) == JSON_STRING)
            return take_resource_id(c, v, "entities", out);
    }
    return JOB_PARSE_OK;
}

/*
 * The resource id of job object obj into out: the profile's top-level
 * resource_id_key when it is sent (a string; null counts as not sent), else
 * from the entities object ent (resource_id above).
 */
static int job_resource_id(struct job_ctx *c, int obj, int ent, char *out)
{
    const char *key = c->p->resource_id_key;
    int v = key != NULL ? json_get(c->d, obj, key) : -1;

    if (absent(c, v))
        return resource_id(c, ent, out);
    if (json_type(c->d, v) != JSON_STRING)
        return reject(c, JOB_PARSE_INVALID, key, "not a string");
    return take_resource_id(c, v, key, out);
}

/*
 * The profile's sub_jobs_total in the entities object ent (absent or null:
 * not sent): a whole number 0..JOB_SUB_JOBS_TOTAL_MAX.
 */
static int sub_jobs_total(struct job_ctx *c, int ent, struct job_record *r)
{
    const char *key = c->p->sub_jobs_total_key;
    char field[64];
    double v;
    int t;

    r->has_sub_jobs_total = 0;
    r->sub_jobs_total = 0;
    if (key == NULL || json_type(c->d, ent) != JSON_OBJECT)
        return JOB_PARSE_OK;
    t = json_get(c->d, ent, key);
    if (absent(c, t))
        return JOB_PARSE_OK;
    snprintf(field, sizeof(field), "entities.%s", key);
    if (json_type(c->d, t) != JSON_NUMBER || json_number(c->d, t, &v) != 0 || v < 0 ||
        v > JOB_SUB_JOBS_TOTAL_MAX || v != (double)(unsigned)v)
        return reject(c, JOB_PARSE_INVALID, field,
                      "not a whole number of sub-jobs (0.." JOB_STR(JOB_SUB_JOBS_TOTAL_MAX) ")");
    r->has_sub_jobs_total = 1;
    r->sub_jobs_total = (unsigned)v;
    return JOB_PARSE_OK;
}

/*
 * Lend the string member key of object obj to out (outsz bytes, at most
 * JOB_FAIL_REASON_MAX + 1) if it is a non-empty valid string: decoded, and cut
 * on a UTF-8 boundary if cut is set, else only if it fits. Returns 1 if out
 * was written, else 0 with out untouched; never an error (see the file comment).
 */
static int lend_text(const struct job_ctx *c, int obj, const char *key, char *out, size_t outsz,
                     int cut)
{
    char buf[JOB_FAIL_REASON_MAX + 1];
    size_t n;
    int v, rc;

    if (key == NULL || outsz > sizeof(buf) || json_type(c->d, obj) != JSON_OBJECT)
        return 0;
    v = json_get(c->d, obj, key);
    if (json_type(c->d, v) != JSON_STRING)
        return 0;
    rc = json_string(c->d, v, buf, outsz, &n);
    if ((rc != 0 && !(rc == -E2BIG && cut)) || n == 0)
        return 0;
    memcpy(out, buf, n + 1);
    return 1;
}

/*
 * A failed job with an empty error code or failure text takes it from sub,
 * its first failed direct sub-job (job.h): the code from the sub-job's code
 * field, the text from its entities' sub_fail_text_key, else its own text field.
 */
static void lend_sub_job_failure(const struct job_ctx *c, int sub, struct job_record *r)
{
    const struct api_profile *p = c->p;
    const char *text_key = p->fail_text_key ? p->fail_text_key : "fail_reason";

    if (r->error_code[0] == '\0')
        lend_text(c, sub, p->error_code_key ? p->error_code_key : "error_code", r->error_code,
                  sizeof(r->error_code), 0);
    if (r->fail_reason[0] == '\0' &&
        !lend_text(c, json_get(c->d, sub, "entities"), p->sub_fail_text_key, r->fail_reason,
                   sizeof(r->fail_reason), 1))
        lend_text(c, sub, text_key, r->fail_reason, sizeof(r->fail_reason), 1);
}

/* The body-level failure of json_parse_diag as a job_parse result and message. */
static int reject_body(struct job_ctx *c, int rc, const struct json_error *je)
{
    if (c->err == NULL || c->errsz == 0)
        return rc == -E2BIG || rc == -ENOMEM ? JOB_PARSE_TOO_LARGE : JOB_PARSE_INVALID;
    if (rc == -E2BIG) {
        snprintf(c->err, c->errsz, "body: too large: %s (byte %zu)", je->what, je->offset);
        return JOB_PARSE_TOO_LARGE;
    }
    if (rc == -ENOMEM) {
        snprintf(c->err, c->errsz, "body: out of memory");
        return JOB_PARSE_TOO_LARGE;
    }
    if (je->truncated)
        snprintf(c->err, c->errsz, "body: %s", je->what); /* truncated JSON, empty document */
    else
        snprintf(c->err, c->errsz, "body: invalid JSON at byte %zu: %s", je->offset, je->what);
    return JOB_PARSE_INVALID;
}

/* The job fields of job object obj into *r. */
static int parse_job_object(struct job_ctx *c, int obj, struct job_record *r)
{
    const struct json_doc *d = c->d;
    char id[JOB_ID_MAX + 1];
    struct job_path pa;
    int rc, v, ent, n, failed_sub;
    size_t idlen;

    rc = get_status(c, obj, "status", r->status_raw, &r->status);
    if (rc != JOB_PARSE_OK)
        return rc;

    v = json_get(d, obj, "job_id");
    if (v >= 0) {
        if (json_type(d, v) != JSON_STRING || json_string(d, v, id, sizeof(id), &idlen) != 0 ||
            !job_id_valid(id, idlen))
            return reject(c, JOB_PARSE_INVALID, "job_id", "not a valid job ID");
        memcpy(r->job_id, id, idlen + 1);
    }

    rc = opt_string(c, obj, "job_type", r->job_type, sizeof(r->job_type), 0);
    if (rc == JOB_PARSE_OK)
        rc = opt_time(c, obj, "begin_time", &r->has_begin, &r->begin_time);
    if (rc == JOB_PARSE_OK)
        rc = opt_time(c, obj, "end_time", &r->has_end, &r->end_time);
    if (rc == JOB_PARSE_OK)
        rc = opt_string(c, obj, c->p->error_code_key ? c->p->error_code_key : "error_code",
                        r->error_code, sizeof(r->error_code), 0);
    if (rc == JOB_PARSE_OK)
        rc = opt_string(c, obj, c->p->fail_text_key ? c->p->fail_text_key : "fail_reason",
                        r->fail_reason, sizeof(r->fail_reason), 1);
    if (rc != JOB_PARSE_OK)
        return rc;

    ent = json_get(d, obj, "entities");
    if (!absent(c, ent) && json_type(d, ent) != JSON_OBJECT)
        return reject(c, JOB_PARSE_INVALID, "entities", "not an object");
    rc = job_resource_id(c, obj, ent, r->resource_id);
    if (rc == JOB_PARSE_OK)
        rc = sub_jobs_total(c, ent, r);
    if (rc != JOB_PARSE_OK)
        return rc;

    pa.buf[0] = '\0';
    pa.len = 0;
    rc = find_sub_jobs(c, obj, &pa, &v);
    if (rc == JOB_PARSE_OK)
        rc = check_sub_jobs(c, v, &pa, r->sub_jobs, &n, &failed_sub);
    if (rc != JOB_PARSE_OK)
        return rc;
    r->has_sub_jobs = n > 0;
    if (failed_sub >= 0 && profile_failed(c->p, r->status) &&
        (r->error_code[0] == '\0' || r->fail_reason[0] == '\0'))
        lend_sub_job_failure(c, failed_sub, r);
    return JOB_PARSE_OK;
}

int job_parse(const struct api_profile *p, const char *body, size_t len, struct job_record *out,
              char *err, size_t errsz)
{
    struct job_ctx c = {p, NULL, err, errsz};
    struct json_doc *d = NULL;
    struct json_error je = {NULL, 0, 0};
    struct job_record r;
    int rc, obj = 0;

    if (err != NULL && errsz > 0)
        err[0] = '\0';
    if (p == NULL)
        p = c.p = profile_default();
    memset(&r, 0, sizeof(r));
    rc = json_parse_diag(body, len, &d, &je);
    if (rc != 0)
        return reject_body(&c, rc, &je);
    c.d = d;
    if (json_type(d, 0) != JSON_OBJECT) {
        rc = JOB_PARSE_INVALID;
        if (err != NULL && errsz > 0)
            snprintf(err, errsz, "body: not a JSON object");
        goto out;
    }
    if (p->envelope != NULL) {
        obj = json_get(d, 0, p->envelope);
        if (obj < 0) {
            rc = reject(&c, JOB_PARSE_INVALID, p->envelope, "missing");
            goto out;
        }
        if (json_type(d, obj) != JSON_OBJECT) {
            rc = reject(&c, JOB_PARSE_INVALID, p->envelope, "not an object");
            goto out;
        }
    }
    rc = parse_job_object(&c, obj, &r);
    if (rc == JOB_PARSE_OK)
        *out = r;
out:
    json_free(d);
    return rc;
}

/*
 * The string or number at tok as text in out (strings decoded, numbers as
 * written), cut to outsz - 1 bytes on a UTF-8 boundary. Returns 1 if tok held
 * such a value, else 0 with out "".
 */
static int error_text(const struct json_doc *d, int tok, char *out, size_t outsz)
{
    const char *raw;
    size_t n;
    int rc;

    out[0] = '\0';
    if (json_type(d, tok) == JSON_STRING) {
        rc = json_string(d, tok, out, outsz, NULL);
        if (rc == 0 || rc == -E2BIG)
            return 1;
        out[0] = '\0';
        return 0;
    }
    if (json_type(d, tok) == JSON_NUMBER && json_raw(d, tok, &raw, &n) == 0) {
        if (n > outsz - 1)
            n = outsz - 1; /* ASCII: any cut is on a boundary */
        memcpy(out, raw, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* Does object obj carry an error as msg_key/code_key? Fills *out when it does. */
static int error_shape(const struct json_doc *d, int obj, const char *msg_key, const char *code_key,
                       struct api_error *out)
{
    struct api_error e;
    int m, k;

    if (json_type(d, obj) != JSON_OBJECT)
        return 0;
    m = error_text(d, json_get(d, obj, msg_key), e.message, sizeof(e.message));
    k = error_text(d, json_get(d, obj, code_key), e.code, sizeof(e.code));
    if (!m && !k)
        return 0;
    *out = e;
    return 1;
}

int job_parse_error(const char *body, size_t len, struct api_error *out)
{
    struct json_doc *d = NULL;
    int rc = JOB_PARSE_INVALID;

    if (json_parse(body, len, &d) != 0)
        return JOB_PARSE_INVALID;
    if (error_shape(d, json_get(d, 0, "error"), "message", "code", out) ||
        error_shape(d, 0, "error_msg", "error_code", out) ||
        error_shape(d, 0, "message", "code", out))
        rc = JOB_PARSE_OK;
    json_free(d);
    return rc;
}

int job_id_valid(const char *s, size_t n)
{
    size_t i;

    if (s == NULL || n == 0 || n > JOB_ID_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}
