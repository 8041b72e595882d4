/*
 * registry_http: the registration API and POST /-/reload on libmicrohttpd
 * (see registry_http.h for the design).
 */
#include "registry_http.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobindex.h"
#include "log.h"
#include "registry.h"
#include "store.h"
#include "timeutil.h"

#define API_PREFIX "/api/v1/"
#define JOBS_PATH "/api/v1/jobs"
#define RELOAD_PATH "/-/reload"
#define CT_JSON "application/json"
#define RETRY_AFTER_S "5" /* what a 503 for a full server or a shutdown suggests */

/* HTTP codes libmicrohttpd 0.9.75 spells differently across versions. */
#define HTTP_LENGTH_REQUIRED 411
#define HTTP_TOO_LARGE 413
#define HTTP_UNSUPPORTED_MEDIA 415
#define HTTP_TOO_MANY 429
#define HTTP_INSUFFICIENT_STORAGE 507

enum kind { K_ERROR = 0, K_LIST, K_GET, K_POST, K_DELETE, K_RELOAD };
enum state {
    S_START = 0, /* headers read, nothing done */
    S_WAITING,   /* a GET waiting for its job (suspended, or just resumed) */
    S_OP,        /* a write posted to the table, the store or a reload */
    S_ANSWERED
};

struct api_req {
    struct registry_http *r;
    struct MHD_Connection *c;
    enum kind kind;
    enum state state;
    int refs;      /* libmicrohttpd's (until completed) + a pending callback or worker's */
    int suspended; /* suspended and on r->suspended: exactly one resume is owed */
    int shutdown;  /* resumed by registry_http_quiesce: answer 503 */
    struct api_req *prev, *next; /* r->suspended */
    struct api_req *work_next;   /* r->work */

    /* an error found with the headers, answered on the last call (or at once with a body) */
    unsigned err_code;
    const char *allow;
    char err[REGISTRY_ERR_MAX];

    /* the job a GET or DELETE names */
    const struct api_profile *profile;
    char id[JOB_ID_MAX + 1];

    /* GET */
    int parsed;           /* the query is read */
    int want_wait;        /* ?wait= was given (and is not 0) */
    uint64_t deadline_ms; /* monotonic end of the wait */
    uint64_t wake_at_ms;  /* when the tick resumes it: the end of the wait or of a recheck */
    uint64_t recheck_ms;  /* a job registered a moment ago is looked for until then */
    uint64_t need_seq;    /* waiting for a snapshot that shows this table change */
    int counted;          /* http.c counts the connection as waiting */
    int seen;             /* the job was in a snapshot once (a 404 later means it left) */
    struct registry_list_query q;

    /* POST: the body; DELETE and POST: the change and what became of it */
    char *body;
    size_t body_len;
    int body_over;
    struct registry_reg reg;
    int posted;
    struct jobtable_outcome out;
    struct job_labels labels_after;
    int store_rc;
    char reload_err[512];
};

struct registry_http {
    struct registry_http_options o;
    struct http_conn_ops ops;
    pthread_mutex_t lock;
    pthread_cond_t work_cond;
    struct api_req *suspended; /* every suspended request (waiters and writes) */
    size_t n_suspended;
    struct api_req *work_head, *work_tail; /* for the workers */
    uint64_t acked_seq; /* jobtable_applied() of the latest registration applied */
    int stopping;       /* registry_http_quiesce was called */
    int exiting;        /* the workers are to end */
    pthread_t workers[REGISTRY_WORKERS];
    int n_workers;
};

/* ---- requests and their lists (r->lock held) ------------------------------------ */

static void req_unref_locked(struct api_req *q)
{
    if (--q->refs > 0)
        return;
    free(q->body);
    free(q);
}

static void suspended_add_locked(struct api_req *q)
{
    struct registry_http *r = q->r;

    q->prev = NULL;
    q->next = r->suspended;
    if (r->suspended)
        r->suspended->prev = q;
    r->suspended = q;
    r->n_suspended++;
    q->suspended = 1;
    MHD_suspend_connection(q->c);
}

/* Take q off the suspended list and resume it: libmicrohttpd calls the handler again. */
static void wake_locked(struct api_req *q)
{
    struct registry_http *r = q->r;

    if (!q->suspended)
        return;
    if (q->prev)
        q->prev->next = q->next;
    else
        r->suspended = q->next;
    if (q->next)
        q->next->prev = q->prev;
    q->prev = q->next = NULL;
    q->suspended = 0;
    r->n_suspended--;
    MHD_resume_connection(q->c);
}

/* ---- answers ---------------------------------------------------------------------- */

/* Queue JSON b (taken over, released) with code and optional headers. */
static enum MHD_Result answer_buf(struct api_req *q, unsigned code, struct strbuf *b,
                                  const char *allow, const char *location, const char *retry)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    size_t len = 0;
    char *data;

    q->state = S_ANSWERED;
    if (q->counted) {
        q->r->ops.wait_end(q->r->ops.srv, q->c);
        q->counted = 0;
    }
    data = strbuf_detach(b, &len);
    if (!data)
        return MHD_NO;
    resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CT_JSON);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    if (allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    if (location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, location);
    if (retry)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
    ret = q->r->ops.queue(q->r->ops.srv, q->c, code, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result answer_error_h(struct api_req *q, unsigned code, const char *allow,
                                      const char *retry, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static enum MHD_Result answer_error_h(struct api_req *q, unsigned code, const char *allow,
                                      const char *retry, const char *fmt, ...)
{
    char msg[REGISTRY_ERR_MAX + 128];
    struct strbuf b;
    va_list ap;

    char *p;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (p = msg; *p; p++) /* one line, whatever the path or a header held */
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    strbuf_init(&b, sizeof(msg) * 6 + 32);
    if (registry_render_error(&b, msg) != 0) {
        strbuf_release(&b);
        return MHD_NO;
    }
    return answer_buf(q, code, &b, allow, NULL, retry);
}

#define answer_error(q, code, ...) answer_error_h(q, code, NULL, NULL, __VA_ARGS__)

static enum MHD_Result answer_shutdown(struct api_req *q)
{
    return answer_error_h(q, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, RETRY_AFTER_S,
                          "the exporter is shutting down; try again in a moment");
}

/* Record an error found with the headers (answered on the last call). */
static void set_error(struct api_req *q, unsigned code, const char *allow, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void set_error(struct api_req *q, unsigned code, const char *allow, const char *fmt, ...)
{
    va_list ap;

    q->kind = K_ERROR;
    q->err_code = code;
    q->allow = allow;
    va_start(ap, fmt);
    vsnprintf(q->err, sizeof(q->err), fmt, ap);
    va_end(ap);
}

/* ---- routing, on the first call ----------------------------------------------------- */

int registry_http_route(const char *url)
{
    return strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0 || strcmp(url, RELOAD_PATH) == 0;
}

/* Does the request announce a body (Content-Length other than 0, or Transfer-Encoding)? */
static int announces_body(struct MHD_Connection *c, int *chunked, unsigned long long *length)
{
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    char *end;

    *chunked =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
    *length = 0;
    if (len) {
        errno = 0;
        *length = strtoull(len, &end, 10);
        if (errno || end == len)
            *length = ~0ull;
    }
    return *chunked || *length > 0;
}

/* POST /api/v1/jobs: what can be refused before the body is read. */
static void check_post(struct api_req *q, int chunked, unsigned long long length)
{
    const char *ct =
        MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

    if (!q->r->o.admin)
        set_error(q, MHD_HTTP_FORBIDDEN, NULL,
                  "registering jobs is off: start the exporter with --web.enable-admin-api");
    else if (!registry_content_type_json(ct))
        set_error(q, HTTP_UNSUPPORTED_MEDIA, NULL,
                  "Content-Type must be application/json, not \"%.64s\"", ct ? ct : "(none)");
    else if (chunked && length == 0)
        set_error(q, HTTP_LENGTH_REQUIRED, NULL,
                  "send the body with a Content-Length (at most %u bytes), not chunked",
                  (unsigned)REGISTRY_BODY_MAX);
    else if (length > REGISTRY_BODY_MAX)
        set_error(q, HTTP_TOO_LARGE, NULL, "the body is %llu bytes, more than the %u allowed",
                  length, (unsigned)REGISTRY_BODY_MAX);
    else if (!(q->body = malloc(REGISTRY_BODY_MAX)))
        set_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, "out of memory");
    else
        q->kind = K_POST;
}

/* A job reference in the path (and ?profile=, which must agree). 0 or an error set. */
static int path_ref(struct api_req *q, const char *ref)
{
    const char *prof = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "profile");
    const struct api_profile *def = profile_default(), *p;
    struct snapshot *s = snapshot_acquire(q->r->o.snapshots);
    char err[REGISTRY_ERR_MAX], both[REGISTRY_REF_MAX + 2];

    if (s && s->profile)
        def = s->profile;
    snapshot_release(s);
    if (prof && !strchr(ref, ':')) {
        /* ?profile=NAME&... is the same as NAME:ID in the path */
        snprintf(both, sizeof(both), "%.32s:%.*s", prof, JOB_ID_MAX + 1, ref);
        ref = both;
    }
    if (registry_parse_ref(ref, def, &p, q->id, err, sizeof(err)) != 0) {
        set_error(q, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
        return -1;
    }
    if (prof && strcmp(prof, p->name) != 0) {
        set_error(q, MHD_HTTP_BAD_REQUEST, NULL,
                  "the path names profile %s, but ?profile= says %.32s", p->name, prof);
        return -1;
    }
    q->profile = p;
    return 0;
}

static void classify(struct api_req *q, const char *url, const char *method)
{
    struct registry_http *r = q->r;
    int get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    unsigned long long length;
    int chunked, body = announces_body(q->c, &chunked, &length);

    if (strcmp(url, RELOAD_PATH) == 0) {
        if (!post)
            set_error(q, MHD_HTTP_METHOD_NOT_ALLOWED, "POST", "%s takes POST only", RELOAD_PATH);
        else if (!r->o.lifecycle)
            set_error(q, MHD_HTTP_FORBIDDEN, NULL,
                      "reloading over HTTP is off: start the exporter with --web.enable-lifecycle");
        else
            q->kind = K_RELOAD;
        return;
    }
    if (strcmp(url, JOBS_PATH) == 0) {
        if (get)
            q->kind = K_LIST;
        else if (post)
            check_post(q, chunked, length);
        else
            set_error(q, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, HEAD, POST",
                      "%s takes GET, HEAD and POST, not %.16s", JOBS_PATH, method);
    } else if (strncmp(url, JOBS_PATH "/", strlen(JOBS_PATH) + 1) == 0 &&
               url[strlen(JOBS_PATH) + 1]) {
        const char *ref = url + strlen(JOBS_PATH) + 1;
        int del = strcmp(method, MHD_HTTP_METHOD_DELETE) == 0;
        if (!get && !del)
            set_error(q, MHD_HTTP_METHOD_NOT_ALLOWED, "GET, HEAD, DELETE",
                      "%s/{id} takes GET, HEAD and DELETE, not %.16s", JOBS_PATH, method);
        else if (del && !r->o.admin)
            set_error(q, MHD_HTTP_FORBIDDEN, NULL,
                      "forgetting jobs is off: start the exporter with --web.enable-admin-api");
        else if (path_ref(q, ref) == 0)
            q->kind = get ? K_GET : K_DELETE;
    } else {
        set_error(q, MHD_HTTP_NOT_FOUND, NULL,
                  "no such endpoint: %.100s (the API has %s and %s/{id})", url, JOBS_PATH,
                  JOBS_PATH);
    }
    if (body && q->kind != K_POST && q->kind != K_ERROR && q->kind != K_RELOAD)
        set_error(q, MHD_HTTP_BAD_REQUEST, NULL, "%.16s %.100s takes no body", method, url);
}

/* ---- GET: one job, and waiting for it -------------------------------------------------- */

struct query_ctx {
    struct api_req *q;
    const struct api_profile *def; /* --elb.profile: whose jobs a bare ID names */
    int bad;
};

/* One query parameter of GET /api/v1/jobs/{id}: wait and profile (read with the path). */
static enum MHD_Result job_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct query_ctx *x = cls;
    struct api_req *q = x->q;
    char err[REGISTRY_ERR_MAX];
    uint64_t ms;

    (void)kind;
    if (strcmp(key, "profile") == 0)
        return MHD_YES;
    if (strcmp(key, "wait") != 0) {
        set_error(q, MHD_HTTP_BAD_REQUEST, NULL,
                  "unknown query parameter \"%.32s\" (known: wait, profile)", key);
        x->bad = 1;
        return MHD_NO;
    }
    if (registry_parse_duration(value ? value : "", &ms, err, sizeof(err)) != 0) {
        set_error(q, MHD_HTTP_BAD_REQUEST, NULL, "wait: %s", err);
        x->bad = 1;
        return MHD_NO;
    }
    if (ms > REGISTRY_WAIT_MAX_MS)
        ms = REGISTRY_WAIT_MAX_MS; /* documented: a longer wait ends after an hour */
    q->want_wait = ms > 0;
    q->deadline_ms = time_mono_ms() + ms;
    return MHD_YES;
}

/* One query parameter of GET /api/v1/jobs. */
static enum MHD_Result list_param(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct query_ctx *x = cls;
    struct api_req *q = x->q;
    char err[REGISTRY_ERR_MAX];

    (void)kind;
    if (registry_list_param(&q->q, key, value, x->def, err, sizeof(err)) == 0)
        return MHD_YES;
    set_error(q, MHD_HTTP_BAD_REQUEST, NULL, "%s", err);
    x->bad = 1;
    return MHD_NO;
}

/* Should a waiter on q's job wake for snapshot s? */
static int should_wake(const struct api_req *q, const struct snapshot *s)
{
    const struct jobindex_entry *e;

    if (!s || !s->jobs)
        return 0;
    if (q->need_seq)
        return s->applied >= q->need_seq; /* the registration is published: look again */
    e = jobindex_find(s->jobs, q->profile, q->id);
    return !e || (e->flags & JOBINDEX_FINISHED);
}

/* Suspend GET q until its job is finished, gone or published, or its time is up. */
static enum MHD_Result wait_for_job(struct api_req *q, uint64_t need_seq)
{
    struct registry_http *r = q->r;
    struct snapshot *now;
    unsigned cap = 0;
    int rc;

    if (!q->counted) {
        rc = r->ops.wait_begin(r->ops.srv, q->c, &cap);
        if (rc == -EUSERS)
            return answer_error_h(q, HTTP_TOO_MANY, NULL, RETRY_AFTER_S,
                                  "your address already has %u requests waiting (the most one "
                                  "address may have); try again when some have ended",
                                  cap);
        if (rc)
            return answer_error_h(q, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, RETRY_AFTER_S,
                                  "the exporter already holds %u waiting requests (its most); "
                                  "try again in a moment",
                                  cap);
        q->counted = 1;
    }
    pthread_mutex_lock(&r->lock);
    if (r->stopping) {
        pthread_mutex_unlock(&r->lock);
        return answer_shutdown(q);
    }
    q->state = S_WAITING;
    q->need_seq = need_seq;
    q->wake_at_ms = q->want_wait ? q->deadline_ms : 0;
    if (need_seq && (!q->wake_at_ms || q->recheck_ms < q->wake_at_ms))
        q->wake_at_ms = q->recheck_ms; /* then look at the latest snapshot once more */
    suspended_add_locked(q);
    pthread_mutex_unlock(&r->lock);
    /*
     * A publish between the snapshot we judged and our joining the list found
     * no one to wake: look at the newest snapshot once more now that we are
     * on the list (every later publish sees us).
     */
    now = snapshot_acquire(r->o.snapshots);
    if (should_wake(q, now)) {
        pthread_mutex_lock(&r->lock);
        wake_locked(q);
        pthread_mutex_unlock(&r->lock);
    }
    snapshot_release(now);
    return MHD_YES;
}

/* " (tracked as elb-v3:ID)" when the ID is tracked under other profiles, into buf. */
static void other_profiles(const struct jobindex *ix, const struct api_profile *p, const char *id,
                           char *buf, size_t cap)
{
    size_t pos, used = 0;

    buf[0] = '\0';
    for (pos = jobindex_first(ix, id); pos < jobindex_count(ix) && used + 1 < cap; pos++) {
        const struct jobindex_entry *e = jobindex_at(ix, pos);
        int w;
        if (strcmp(jobindex_str(ix, e->id), id) != 0)
            break;
        if (e->profile == p)
            continue;
        w = snprintf(buf + used, cap - used, "%s%s:%s", used ? ", " : " (tracked as ",
                     e->profile->name, id);
        if (w < 0 || (size_t)w >= cap - used)
            break;
        used += (size_t)w;
    }
    if (used && used + 2 < cap)
        memcpy(buf + used, ")", 2);
}

static enum MHD_Result get_job(struct api_req *q)
{
    struct registry_http *r = q->r;
    const struct jobindex_entry *e;
    struct snapshot *s;
    struct strbuf b;
    struct query_ctx x = {q, NULL, 0};
    enum MHD_Result ret;
    uint64_t now = time_mono_ms(), acked;
    char hint[160];

    if (!q->parsed) {
        q->parsed = 1;
        q->recheck_ms = now + REGISTRY_RECHECK_MS;
        MHD_get_connection_values(q->c, MHD_GET_ARGUMENT_KIND, job_param, &x);
        if (x.bad)
            return answer_error_h(q, q->err_code, NULL, NULL, "%s", q->err);
    }
    s = snapshot_acquire(r->o.snapshots);
    if (!s || !s->jobs) {
        snapshot_release(s);
        return answer_error_h(q, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, RETRY_AFTER_S,
                              "no job data yet; try again in a moment");
    }
    e = jobindex_find(s->jobs, q->profile, q->id);
    if (e) {
        q->seen = 1;
        if (q->want_wait && !(e->flags & JOBINDEX_FINISHED) && now < q->deadline_ms) {
            snapshot_release(s);
            return wait_for_job(q, 0);
        }
        strbuf_init(&b, REGISTRY_JOB_JSON_MAX);
        if (registry_render_job(&b, s->jobs, e) != 0 || strbuf_putc(&b, '\n') != 0) {
            snapshot_release(s);
            strbuf_release(&b);
            return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        }
        snapshot_release(s);
        return answer_buf(q, MHD_HTTP_OK, &b, NULL, NULL, NULL);
    }
    /* not in this snapshot: registered a moment ago and not published yet? */
    pthread_mutex_lock(&r->lock);
    acked = r->acked_seq;
    pthread_mutex_unlock(&r->lock);
    if (!q->seen && s->applied < acked && now < q->recheck_ms) {
        snapshot_release(s);
        return wait_for_job(q, acked);
    }
    other_profiles(s->jobs, q->profile, q->id, hint, sizeof(hint));
    ret = answer_error(
        q, MHD_HTTP_NOT_FOUND, "job %s:%s is %s%s", q->profile->name, q->id,
        q->seen ? "no longer tracked (forgotten, or past --jobs.retention)" : "not tracked", hint);
    snapshot_release(s);
    return ret;
}

static enum MHD_Result list_jobs(struct api_req *q)
{
    struct snapshot *s = snapshot_acquire(q->r->o.snapshots);
    struct strbuf b;
    struct query_ctx x = {q, s && s->profile ? s->profile : profile_default(), 0};

    registry_list_query_init(&q->q);
    MHD_get_connection_values(q->c, MHD_GET_ARGUMENT_KIND, list_param, &x);
    if (x.bad) {
        snapshot_release(s);
        return answer_error_h(q, q->err_code, NULL, NULL, "%s", q->err);
    }
    if (!s || !s->jobs) {
        snapshot_release(s);
        return answer_error_h(q, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, RETRY_AFTER_S,
                              "no job data yet; try again in a moment");
    }
    strbuf_init(&b, REGISTRY_LIST_JSON_MAX);
    if (registry_render_list(&b, s->jobs, &q->q) != 0 || strbuf_putc(&b, '\n') != 0) {
        snapshot_release(s);
        strbuf_release(&b);
        return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    snapshot_release(s);
    return answer_buf(q, MHD_HTTP_OK, &b, NULL, NULL, NULL);
}

/* ---- writes: table, store, reload ------------------------------------------------------ */

/* A write is done (r->lock held): resume its request and drop the callback's reference. */
static void op_finish_locked(struct api_req *q)
{
    wake_locked(q);
    req_unref_locked(q);
}

/* Queue q for a worker (r->lock held). */
static void work_push_locked(struct api_req *q)
{
    struct registry_http *r = q->r;

    q->work_next = NULL;
    if (r->work_tail)
        r->work_tail->work_next = q;
    else
        r->work_head = q;
    r->work_tail = q;
    pthread_cond_signal(&r->work_cond);
}

/* The poller applied a posted registration or forget (poller thread). */
static void op_done(void *arg, const struct jobtable_outcome *o)
{
    struct api_req *q = arg;
    struct registry_http *r = q->r;
    int durable;

    pthread_mutex_lock(&r->lock);
    q->out = *o;
    q->out.labels = NULL;
    memset(&q->labels_after, 0, sizeof(q->labels_after));
    if (o->labels)
        q->labels_after = *o->labels;
    if (q->kind == K_POST && o->rc >= 0 && o->seq > r->acked_seq)
        r->acked_seq = o->seq;
    /* what the store must hear before the 2xx: a registration, or the forget of one */
    durable = r->o.store && o->rc >= 0 && !q->shutdown &&
              (q->kind == K_POST || (o->sources_before & JOB_SRC_API));
    if (durable)
        work_push_locked(q);
    else
        op_finish_locked(q);
    pthread_mutex_unlock(&r->lock);
}

/* Post q's change to the table and suspend until op_done. */
static enum MHD_Result submit(struct api_req *q)
{
    struct registry_http *r = q->r;
    char err[REGISTRY_ERR_MAX];
    struct snapshot *s;
    int rc;

    if (q->kind == K_POST) {
        if (q->body_over)
            return answer_error(q, HTTP_TOO_LARGE, "the body is more than the %u bytes allowed",
                                (unsigned)REGISTRY_BODY_MAX);
        s = snapshot_acquire(r->o.snapshots);
        rc = registry_parse_registration(q->body, q->body_len,
                                         s && s->profile ? s->profile : profile_default(),
                                         r->o.project_id, &q->reg, err, sizeof(err));
        snapshot_release(s);
        if (rc)
            return answer_error(q, MHD_HTTP_BAD_REQUEST, "%s", err);
        q->profile = q->reg.profile;
        memcpy(q->id, q->reg.id, sizeof(q->id));
    }
    pthread_mutex_lock(&r->lock);
    if (r->stopping) {
        pthread_mutex_unlock(&r->lock);
        return answer_shutdown(q);
    }
    q->refs++; /* op_done's */
    rc = r->o.post(r->o.post_arg, q->kind == K_POST ? JOBTABLE_OP_ADD : JOBTABLE_OP_DROP,
                   q->profile, q->id,
                   q->kind == K_POST && q->reg.has_labels ? &q->reg.labels : NULL, op_done, q);
    if (rc) {
        q->refs--;
        pthread_mutex_unlock(&r->lock);
        if (rc == -EAGAIN)
            return answer_error_h(q, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "1",
                                  "too many changes are waiting for the job table; try again");
        return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot queue the change: %s",
                            strerror(-rc));
    }
    q->posted = 1;
    q->state = S_OP;
    suspended_add_locked(q); /* op_done waits for the lock: it cannot resume us first */
    pthread_mutex_unlock(&r->lock);
    return MHD_YES;
}

static enum MHD_Result answer_register(struct api_req *q)
{
    struct registry_http *r = q->r;
    char location[REGISTRY_REF_MAX + 32];
    struct strbuf b;
    int created;

    if (q->out.rc == -ECANCELED)
        return answer_shutdown(q);
    if (q->out.rc == -E2BIG) {
        log_warn("registration of %s:%s refused: --jobs.max (%zu) jobs are tracked",
                 q->profile->name, q->id, r->o.jobs_max);
        return answer_error(q, HTTP_INSUFFICIENT_STORAGE,
                            "cannot register %s:%s: %zu jobs are tracked, the most --jobs.max "
                            "allows; forget some (DELETE %s/{id}) or raise --jobs.max",
                            q->profile->name, q->id, r->o.jobs_max, JOBS_PATH);
    }
    if (q->out.rc < 0)
        return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot register %s:%s: %s",
                            q->profile->name, q->id, strerror(-q->out.rc));
    if (q->store_rc)
        return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                            "cannot store the registration of %s:%s durably (%s); it is not "
                            "registered",
                            q->profile->name, q->id, strerror(-q->store_rc));
    created = !(q->out.sources_before & JOB_SRC_API);
    if (created)
        log_info("job %s:%s registered over the API (%u labels)", q->profile->name, q->id,
                 q->reg.labels.n);
    strbuf_init(&b, REGISTRY_JOB_JSON_MAX);
    if (registry_render_registration(&b, &q->reg, 1, created) != 0) {
        strbuf_release(&b);
        return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    snprintf(location, sizeof(location), "%s/%s:%s", JOBS_PATH, q->profile->name, q->id);
    return answer_buf(q, created ? MHD_HTTP_CREATED : MHD_HTTP_OK, &b, NULL, location, NULL);
}

static enum MHD_Result answer_forget(struct api_req *q)
{
    struct registry_reg reg;
    struct strbuf b;

    if (q->out.rc == -ECANCELED)
        return answer_shutdown(q);
    if (!(q->out.sources_before & JOB_SRC_API)) {
        if (q->out.sources_before) {
            static const char *const names[] = {"--job", "--jobs.file",
                                                "jobs.ids of --config.file"};
            char by[96] = "";
            size_t i;
            for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (q->out.sources_before & (1u << i))
                    snprintf(by + strlen(by), sizeof(by) - strlen(by), "%s%s", by[0] ? ", " : "",
                             names[i]);
            return answer_error(q, MHD_HTTP_CONFLICT,
                                "job %s:%s is not registered over the API: it is listed by %s and "
                                "stays",
                                q->profile->name, q->id, by);
        }
        return answer_error(q, MHD_HTTP_NOT_FOUND, "job %s:%s is not registered", q->profile->name,
                            q->id);
    }
    if (q->store_rc)
        return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                            "job %s:%s is forgotten, but the store could not record it (%s): it "
                            "comes back after a restart",
                            q->profile->name, q->id, strerror(-q->store_rc));
    log_info("job %s:%s forgotten over the API", q->profile->name, q->id);
    memset(&reg, 0, sizeof(reg));
    reg.profile = q->profile;
    memcpy(reg.id, q->id, sizeof(reg.id));
    strbuf_init(&b, REGISTRY_JOB_JSON_MAX);
    if (registry_render_registration(&b, &reg, 0, 0) != 0) {
        strbuf_release(&b);
        return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    return answer_buf(q, MHD_HTTP_OK, &b, NULL, NULL, NULL);
}

static enum MHD_Result submit_reload(struct api_req *q)
{
    struct registry_http *r = q->r;

    pthread_mutex_lock(&r->lock);
    if (r->stopping) {
        pthread_mutex_unlock(&r->lock);
        return answer_shutdown(q);
    }
    q->refs++; /* the worker's */
    q->posted = 1;
    q->state = S_OP;
    suspended_add_locked(q);
    work_push_locked(q);
    pthread_mutex_unlock(&r->lock);
    return MHD_YES;
}

static enum MHD_Result answer_reload(struct api_req *q)
{
    struct strbuf b;

    if (q->store_rc)
        return answer_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "reload failed: %s", q->reload_err);
    strbuf_init(&b, 64);
    if (strbuf_puts(&b, "{\"reloaded\":true}\n") != 0) {
        strbuf_release(&b);
        return MHD_NO;
    }
    return answer_buf(q, MHD_HTTP_OK, &b, NULL, NULL, NULL);
}

/* A worker: makes writes durable and runs reloads, one request at a time. */
static void *worker_main(void *arg)
{
    struct registry_http *r = arg;
    struct api_req *q;
    int rc;

    pthread_mutex_lock(&r->lock);
    for (;;) {
        while (!r->exiting && !r->work_head)
            pthread_cond_wait(&r->work_cond, &r->lock);
        if (!r->work_head)
            break;
        q = r->work_head;
        r->work_head = q->work_next;
        if (!r->work_head)
            r->work_tail = NULL;
        if (q->shutdown || r->exiting) { /* already answered 503 */
            req_unref_locked(q);
            continue;
        }
        pthread_mutex_unlock(&r->lock);
        rc = 0;
        if (q->kind == K_RELOAD) {
            rc = r->o.reload(r->o.reload_arg, q->reload_err, sizeof(q->reload_err));
        } else if (q->kind == K_POST) {
            rc = store_register(r->o.store, q->profile, q->id, &q->labels_after, time_now());
            if (rc && !(q->out.sources_before & JOB_SRC_API)) {
                /* not durable: not registered either (the job stays if another source lists it) */
                log_error("job %s:%s: the store refused the registration (%s); taking it back",
                          q->profile->name, q->id, strerror(-rc));
                r->o.post(r->o.post_arg, JOBTABLE_OP_DROP, q->profile, q->id, NULL, NULL, NULL);
            }
        } else {
            rc = store_forget(r->o.store, q->profile, q->id);
            if (rc)
                log_error("job %s:%s: the store could not record its forget (%s)", q->profile->name,
                          q->id, strerror(-rc));
        }
        pthread_mutex_lock(&r->lock);
        q->store_rc = rc;
        op_finish_locked(q);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* ---- the handler ----------------------------------------------------------------------- */

enum MHD_Result registry_http_request(struct registry_http *r, struct MHD_Connection *c,
                                      const char *url, const char *method, const char *upload_data,
                                      size_t *upload_data_size, void **ctx)
{
    struct api_req *q = *ctx;
    int chunked, shutdown;
    unsigned long long length;

    if (!q) {
        q = calloc(1, sizeof(*q));
        if (!q)
            return MHD_NO;
        q->r = r;
        q->c = c;
        q->refs = 1;
        *ctx = q;
        pthread_mutex_lock(&r->lock);
        shutdown = r->stopping;
        pthread_mutex_unlock(&r->lock);
        if (shutdown)
            set_error(q, MHD_HTTP_SERVICE_UNAVAILABLE, NULL,
                      "the exporter is shutting down; try again in a moment");
        else
            classify(q, url, method);
        /*
         * A refusal of a request with a body is answered now: libmicrohttpd
         * then discards the body unread (and closes the connection).
         */
        if (q->kind == K_ERROR && announces_body(c, &chunked, &length))
            return answer_error_h(q, q->err_code, q->allow, NULL, "%s", q->err);
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        if (q->kind == K_POST) {
            if (q->body_len + n > REGISTRY_BODY_MAX)
                q->body_over = 1; /* more than Content-Length said: refused at the end */
            else
                memcpy(q->body + q->body_len, upload_data, n);
            if (!q->body_over)
                q->body_len += n;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (q->state == S_ANSWERED)
        return MHD_YES;
    pthread_mutex_lock(&r->lock);
    shutdown = q->shutdown;
    pthread_mutex_unlock(&r->lock);
    if (shutdown)
        return answer_shutdown(q);
    switch (q->kind) {
    case K_LIST:
        return list_jobs(q);
    case K_GET:
        if (q->state == S_WAITING)
            q->need_seq = 0; /* woken: judge afresh */
        return get_job(q);
    case K_POST:
        return q->posted ? answer_register(q) : submit(q);
    case K_DELETE:
        return q->posted ? answer_forget(q) : submit(q);
    case K_RELOAD:
        return q->posted ? answer_reload(q) : submit_reload(q);
    case K_ERROR:
    default:
        return answer_error_h(q, q->err_code, q->allow, NULL, "%s", q->err);
    }
}

void registry_http_completed(struct registry_http *r, void *ctx)
{
    struct api_req *q = ctx;

    if (!q)
        return;
    if (q->counted) {
        r->ops.wait_end(r->ops.srv, q->c);
        q->counted = 0;
    }
    pthread_mutex_lock(&r->lock);
    wake_locked(q); /* cannot be suspended here; kept for safety: never leave one on the list */
    req_unref_locked(q);
    pthread_mutex_unlock(&r->lock);
}

/* ---- waking -------------------------------------------------------------------------- */

/* A new snapshot is out (the poller thread): wake the waiters it answers. */
static void on_publish(void *arg, struct snapshot *s)
{
    struct registry_http *r = arg;
    struct api_req *q, *next;

    pthread_mutex_lock(&r->lock);
    for (q = r->suspended; q; q = next) {
        next = q->next;
        if (q->state == S_WAITING && should_wake(q, s))
            wake_locked(q);
    }
    pthread_mutex_unlock(&r->lock);
}

void registry_http_tick(struct registry_http *r, uint64_t now_ms)
{
    struct api_req *q, *next;

    pthread_mutex_lock(&r->lock);
    for (q = r->suspended; q; q = next) {
        next = q->next;
        if (q->state == S_WAITING && now_ms >= q->wake_at_ms)
            wake_locked(q);
    }
    pthread_mutex_unlock(&r->lock);
}

size_t registry_http_suspended(struct registry_http *r)
{
    size_t n;

    pthread_mutex_lock(&r->lock);
    n = r->n_suspended;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void registry_http_quiesce(struct registry_http *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->lock);
    r->stopping = 1;
    while (r->suspended) {
        r->suspended->shutdown = 1;
        wake_locked(r->suspended);
    }
    pthread_mutex_unlock(&r->lock);
}

/* ---- life cycle ------------------------------------------------------------------------- */

static int no_wait_begin(void *srv, struct MHD_Connection *c, unsigned *cap)
{
    (void)srv;
    (void)c;
    if (cap)
        *cap = 0;
    return -ENOSPC;
}

static void no_wait_end(void *srv, struct MHD_Connection *c)
{
    (void)srv;
    (void)c;
}

static enum MHD_Result plain_queue(void *srv, struct MHD_Connection *c, unsigned code,
                                   struct MHD_Response *resp)
{
    (void)srv;
    return MHD_queue_response(c, code, resp);
}

struct registry_http *registry_http_new(const struct registry_http_options *o)
{
    struct registry_http *r = calloc(1, sizeof(*r));
    int i, rc;

    if (!r)
        return NULL;
    r->o = *o;
    r->ops = (struct http_conn_ops){no_wait_begin, no_wait_end, plain_queue, NULL};
    if (pthread_mutex_init(&r->lock, NULL) != 0) {
        free(r);
        errno = ENOMEM;
        return NULL;
    }
    if (pthread_cond_init(&r->work_cond, NULL) != 0) {
        pthread_mutex_destroy(&r->lock);
        free(r);
        errno = ENOMEM;
        return NULL;
    }
    for (i = 0; i < REGISTRY_WORKERS; i++) {
        rc = pthread_create(&r->workers[i], NULL, worker_main, r);
        if (rc) {
            registry_http_free(r);
            errno = rc;
            return NULL;
        }
        r->n_workers++;
    }
    snapshot_store_listen(o->snapshots, on_publish, r);
    return r;
}

void registry_http_attach(struct registry_http *r, const struct http_conn_ops *ops)
{
    r->ops = *ops;
}

void registry_http_free(struct registry_http *r)
{
    struct api_req *q;
    int i;

    if (!r)
        return;
    snapshot_store_listen(r->o.snapshots, NULL, NULL);
    pthread_mutex_lock(&r->lock);
    r->exiting = 1;
    pthread_cond_broadcast(&r->work_cond);
    pthread_mutex_unlock(&r->lock);
    for (i = 0; i < r->n_workers; i++)
        pthread_join(r->workers[i], NULL);
    /* requests the workers never took: their reference is the last one */
    while ((q = r->work_head) != NULL) {
        r->work_head = q->work_next;
        req_unref_locked(q);
    }
    pthread_cond_destroy(&r->work_cond);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
