/*
 * poller: the polling thread (see poller.h for the design).
 */
#include "poller.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "gzip.h"
#include "iam.h"
#include "job.h"
#include "jobindex.h"
#include "jobtable.h"
#include "landing.h"
#include "log.h"
#include "procstat.h"
#include "secret.h"
#include "stats.h"
#include "store.h"
#include "timeutil.h"

#define DUE_NEVER UINT64_MAX /* polled again only by the next cycle */
#define IDLE_WAIT_MAX_MS                                                                           \
    1000                     /* longest single wait, so stop, clocks and the jobs file stay fresh */
#define PUBLISH_GAP_MS 1000  /* least time between two publishes outside cycle ends */
#define FILE_CHECK_MS 1000   /* how often --jobs.file is looked at for a change */
#define EXPIRE_CHECK_MS 1000 /* how often the retention is applied (a scan of the table) */
#define LOOP_ERROR_PAUSE_MS 100 /* after a failed curl_multi_poll/perform, before trying again */
#define LOGIN_BACKOFF_CAP_MS 300000 /* longest wait between two failed IAM logins */
#define PROFILES_MAX 8              /* rows of the profile table the poller makes clients for */

/* A finished job of the store that the table had no room to remember. */
struct unrestored {
    const struct api_profile *profile;
    char id[JOB_ID_MAX + 1];
};

struct poller {
    const struct config *cfg;
    struct api_client client;                /* the default profile's (--elb.profile) */
    struct api_client clients[PROFILES_MAX]; /* one per profile of the table, by its row */
    char endpoints[PROFILES_MAX][API_URL_MAX];
    struct snapshot_store *store;
    struct store *db; /* the durable store (--storage.path), or NULL */
    struct build_info build;
    const struct http_counters *http; /* the HTTP server's, or NULL */
    char user_agent[64];

    struct jobtable *table;
    struct expfmt_job *views; /* scratch for rendering, one per tracked job */
    size_t n_views_cap;

    CURLM *multi;
    struct auth *auth;
    struct api_request login; /* the IAM login's own handle (password method) */
    struct strbuf login_body; /* the login body, password included: wiped after each login */
    int login_ok;             /* login is initialised */
    int login_in_flight;
    unsigned login_failures; /* consecutive failed logins */
    uint64_t login_next_try; /* monotonic ms */
    struct api_request *slots;
    struct api_request **idle; /* stack of free slots */
    unsigned n_idle, n_slots;

    struct stats stats;
    uint64_t cycles;
    int cycle_active;
    job_handle *cycle_jobs; /* members of the running cycle, in table order */
    size_t n_cycle, cycle_cap;
    size_t cycle_cursor;    /* members before it have been started or deferred */
    size_t cycle_in_flight; /* requests started for members and not completed */
    uint64_t cycle_start;   /* monotonic ms */
    uint64_t next_cycle;    /* monotonic ms */
    int cycle_requests, cycle_reached, cycle_unauthorised;
    uint64_t pause_until;  /* monotonic ms; no request starts before it (429) */
    uint64_t earliest_due; /* lower bound of next_due over idle unfinished jobs */
    int dirty;             /* state changed since the last publish */
    int members_changed;   /* jobs came or went since the last publish */
    uint64_t last_publish; /* monotonic ms of the last publish */
    unsigned rng;
    unsigned loop_errors; /* failed curl_multi_poll/perform calls (logged sparsely) */

    /* --jobs.file: what it looked like when last read, and whether to look again */
    struct stat jobs_st;
    int jobs_st_ok;           /* jobs_st is valid (the file could be stat'ed) */
    uint64_t next_file_check; /* monotonic ms */
    uint64_t next_expire;     /* monotonic ms of the next retention scan */
    atomic_int reload;        /* SIGHUP: re-read it even if it looks unchanged */
    /* poller_reload: callers waiting for a reload's outcome (generation numbers) */
    pthread_mutex_t reload_lock;
    pthread_cond_t reload_cond;
    int reload_sync_ok; /* the lock and condition are initialised */
    uint64_t reload_asked, reload_done;
    int reload_rc;
    char reload_err[1024];

    /* restoring from the durable store (before the thread starts) */
    size_t restored_registered, restored_finished, restore_refused;
    struct unrestored *unrestored; /* remembered jobs past the bound: the store forgets them */
    size_t n_unrestored, cap_unrestored;

    pthread_t thread;
    atomic_int thread_started; /* read by poller_reload from other threads */
    atomic_int stop;
};

/* ---- decisions ----------------------------------------------------------- */

uint64_t poller_backoff_ms(unsigned failures, uint64_t interval_ms, unsigned jitter_pct)
{
    unsigned shift = failures > 0 ? failures - 1 : 0;
    uint64_t d;

    if (shift > 20)
        shift = 20;
    if (jitter_pct < 75)
        jitter_pct = 75;
    if (jitter_pct > 125)
        jitter_pct = 125;
    d = (uint64_t)POLLER_BACKOFF_BASE_MS << shift;
    d = d * jitter_pct / 100;
    if (d > interval_ms)
        d = interval_ms;
    if (d < POLLER_BACKOFF_MIN_MS)
        d = POLLER_BACKOFF_MIN_MS;
    return d;
}

uint64_t poller_pause_ms(long retry_after)
{
    long secs = retry_after >= 0 ? retry_after : API_RETRY_AFTER_DEFAULT;

    if (secs > API_RETRY_AFTER_MAX)
        secs = API_RETRY_AFTER_MAX;
    if (secs < POLLER_PAUSE_MIN_S)
        secs = POLLER_PAUSE_MIN_S; /* else a server (or clock skew) saying "now" gets hammered */
    return (uint64_t)secs * 1000;
}

int poller_once_exit_code(const struct poller_once_result *r)
{
    /* a job whose poll failed is in the exposition as such (fetch_success 0): that is no guess */
    if (r->jobs == 0 || !r->api_up || r->unfetched)
        return 1;
    return 0;
}

/* ---- rendering ---------------------------------------------------------- */

/*
 * The rendering view of every job that has per-job series (tracked, not
 * retired), and the API's index of them into *ix (NULL when it could not be
 * built: the caller keeps the previous one).
 */
static size_t build_views(struct poller *p, struct jobindex **ix)
{
    size_t n = 0, want = jobtable_count(p->table);
    job_handle h = JOB_HANDLE_NONE;
    int rc = 0;

    *ix = NULL;
    if (want > p->n_views_cap) {
        struct expfmt_job *v = realloc(p->views, want * sizeof(*v));
        if (!v)
            return SIZE_MAX;
        p->views = v;
        p->n_views_cap = want;
    }
    *ix = jobindex_new(want);
    while ((h = jobtable_next(p->table, h)) != JOB_HANDLE_NONE) {
        const struct job_state *t = jobtable_get(p->table, h);
        if (t->retired)
            continue;
        p->views[n++] = (struct expfmt_job){
            .id = t->id,
            .profile = t->profile,
            .rec = t->have_rec ? &t->rec : NULL,
            .status = t->status,
            .fetch_success = t->fetch_success,
            .last_fetch = t->last_fetch,
            .observed_at = t->observed_at,
            .labels = t->labels,
        };
        if (*ix && rc == 0)
            rc = jobindex_add(*ix, &p->views[n - 1], t->sources, t->finished, t->finished_at);
    }
    if (*ix && (rc != 0 || jobindex_seal(*ix) != 0)) {
        jobindex_unref(*ix);
        *ix = NULL;
    }
    return n;
}

/* A strbuf's data handed over and trimmed to its length (it grew by doubling). NULL: ENOMEM. */
static char *detach_trimmed(struct strbuf *b, size_t *len)
{
    char *data = strbuf_detach(b, len), *trimmed;

    if (!data)
        return NULL;
    trimmed = realloc(data, *len + 1); /* smaller: fails only by keeping data as it is */
    if (trimmed)
        data = trimmed;
    return data;
}

/* The render_failures_total page of a snapshot page. */
static enum render_page render_page_of(enum snapshot_page pg)
{
    switch (pg) {
    case SNAPSHOT_OPENMETRICS:
        return RENDER_OPENMETRICS;
    case SNAPSHOT_LANDING:
        return RENDER_LANDING;
    case SNAPSHOT_METRICS:
    default:
        return RENDER_METRICS;
    }
}

/*
 * Put a rendered page into s; on failure count it, log it and serve the
 * page's last good form from prev (one page never holds back another).
 */
static void render_page(struct poller *p, struct snapshot *s, struct snapshot *prev,
                        enum snapshot_page pg, int rc, struct strbuf *b)
{
    enum render_page rp = render_page_of(pg);

    if (rc == 0) {
        s->page[pg].data = detach_trimmed(b, &s->page[pg].len);
        if (s->page[pg].data)
            return;
        rc = -ENOMEM;
    }
    p->stats.render_failures[rp]++;
    log_error("rendering the %s page failed (%s); serving its previous form", render_page_name(rp),
              strerror(-rc));
    snapshot_borrow(s, pg, prev);
}

_Static_assert(EXPFMT_SPANS_MAX <= SNAPSHOT_IOV_MAX, "the OpenMetrics pieces fit a page");

/*
 * Put the expositions, rendered together (rc: the result), into s: the text
 * page is b, whole; the OpenMetrics page owns the metadata in m and is the
 * list of pieces sp names, of b (the samples) and of m. On failure both are
 * counted, logged and kept from prev together (they share the samples).
 */
static void render_expositions(struct poller *p, struct snapshot *s, struct snapshot *prev, int rc,
                               struct strbuf *b, struct strbuf *m, const struct expfmt_spans *sp)
{
    char *text = NULL, *meta = NULL;
    struct iovec *iov = NULL;
    size_t text_len = 0, meta_len = 0, i;

    if (rc == 0) {
        text = detach_trimmed(b, &text_len);
        meta = detach_trimmed(m, &meta_len);
        iov = calloc(sp->n ? sp->n : 1, sizeof(*iov));
        rc = text && meta && iov ? 0 : -ENOMEM;
    }
    if (rc == 0) {
        for (i = 0; i < sp->n; i++) {
            iov[i].iov_base = (sp->span[i].in_meta ? meta : text) + sp->span[i].off;
            iov[i].iov_len = sp->span[i].len;
        }
        s->page[SNAPSHOT_METRICS] = (struct snapshot_buf){.data = text, .len = text_len};
        s->page[SNAPSHOT_OPENMETRICS] =
            (struct snapshot_buf){.data = meta, .len = sp->total, .iov = iov, .n_iov = sp->n};
        return;
    }
    free(text);
    free(meta);
    free(iov);
    p->stats.render_failures[RENDER_METRICS]++;
    p->stats.render_failures[RENDER_OPENMETRICS]++;
    log_error("rendering the metrics pages failed (%s); serving their previous form",
              strerror(-rc));
    snapshot_borrow(s, SNAPSHOT_METRICS, prev);
    snapshot_borrow(s, SNAPSHOT_OPENMETRICS, prev);
}

/*
 * The gzip form of page pg (at gz, the page after it): compressed once here,
 * never per request. A page kept from prev keeps its gzip form from prev too;
 * a gzip that fails leaves gz empty, and that page is served identity.
 */
static void compress_page(struct poller *p, struct snapshot *s, struct snapshot *prev,
                          enum snapshot_page pg, enum snapshot_page gz)
{
    int rc;

    if (s->owner[pg]) {
        snapshot_borrow(s, gz, prev);
        return;
    }
    if (s->page[pg].iov)
        rc = gzip_compress_v(s->page[pg].iov, s->page[pg].n_iov, GZIP_LEVEL_SNAPSHOT,
                             &s->page[gz].data, &s->page[gz].len);
    else if (s->page[pg].data)
        rc = gzip_compress(s->page[pg].data, s->page[pg].len, GZIP_LEVEL_SNAPSHOT,
                           &s->page[gz].data, &s->page[gz].len);
    else
        return;
    if (rc == 0)
        return;
    p->stats.render_failures[RENDER_GZIP]++;
    log_error("compressing the %s page failed (%s); serving it uncompressed",
              render_page_name(render_page_of(pg)), strerror(-rc));
}

/* Render the expositions and the landing page from the current state, gzip each, publish. */
static void publish(struct poller *p)
{
    static const enum snapshot_page gz_of[][2] = {
        {SNAPSHOT_METRICS, SNAPSHOT_METRICS_GZ},
        {SNAPSHOT_OPENMETRICS, SNAPSHOT_OPENMETRICS_GZ},
        {SNAPSHOT_LANDING, SNAPSHOT_LANDING_GZ},
    };
    struct proc_stats proc;
    struct expfmt_input in;
    struct landing_input li;
    struct expfmt_spans spans;
    struct strbuf b, meta;
    struct snapshot *s, *prev;
    struct jobindex *ix = NULL;
    size_t n = build_views(p, &ix), i;
    int rc;

    s = snapshot_new();
    if (!s || n == SIZE_MAX) {
        snapshot_release(s);
        jobindex_unref(ix);
        p->stats.render_failures[RENDER_METRICS]++;
        p->stats.render_failures[RENDER_OPENMETRICS]++;
        p->stats.render_failures[RENDER_LANDING]++;
        log_error("publishing failed (out of memory); serving the previous snapshot");
        return;
    }
    procstat_read(&proc);
    if (p->db) {
        struct store_stats ss;
        store_get_stats(p->db, &ss);
        p->stats.store = (struct stats_store){
            .enabled = 1,
            .jobs = ss.jobs,
            .log_bytes = ss.log_bytes,
            .records_corrupt = ss.records_corrupt,
            .bytes_cut = ss.bytes_cut,
            .records_skipped = ss.records_skipped,
            .appends = ss.appends,
            .fsyncs = ss.fsyncs,
            .compactions = ss.compactions,
            .write_errors = ss.write_errors,
            .replay_seconds = ss.replay_seconds,
        };
    }
    in = (struct expfmt_input){
        .profile = p->cfg->profile,
        .jobs = p->views,
        .n_jobs = n,
        .tracked_jobs = jobtable_count(p->table),
        .stats = &p->stats,
        .proc = &proc,
        .build = &p->build,
        .http = p->http,
        .sparse_status = p->cfg->metrics_sparse_status,
    };
    li = (struct landing_input){
        .state = &in, .telemetry_path = p->cfg->telemetry_path, .now = time_now()};
    prev = snapshot_acquire(p->store);
    /* each page into a fresh buffer, which becomes the snapshot's */
    strbuf_init(&b, expfmt_max_output(n));
    strbuf_init(&meta, EXPFMT_FIXED_MAX);
    rc = expfmt_render_both(&b, &meta, &in, &spans);
    render_expositions(p, s, prev, rc, &b, &meta, &spans);
    strbuf_release(&b);
    strbuf_release(&meta);
    strbuf_init(&b, LANDING_MAX);
    rc = landing_render(&b, &li);
    render_page(p, s, prev, SNAPSHOT_LANDING, rc, &b);
    strbuf_release(&b);
    for (i = 0; i < sizeof(gz_of) / sizeof(gz_of[0]); i++)
        compress_page(p, s, prev, gz_of[i][0], gz_of[i][1]);
    s->jobs = ix;
    if (!ix && prev && prev->jobs) {
        log_error("building the API's job index failed (out of memory); it shows the previous "
                  "state");
        s->jobs = jobindex_ref(prev->jobs);
    }
    snapshot_release(prev);
    s->cycles = p->cycles;
    s->profile = p->cfg->profile;
    s->applied = jobtable_applied(p->table);
    snapshot_publish(p->store, s);
    p->dirty = 0;
    p->members_changed = 0;
    p->last_publish = time_mono_ms();
}

/* ---- job state ---------------------------------------------------------- */

/* Schedule job t for a poll outside the cycles at monotonic time due. */
static void set_due(struct poller *p, struct job_state *t, uint64_t due)
{
    t->next_due = due;
    if (due < p->earliest_due)
        p->earliest_due = due;
}

/* A poll gave no good answer: the job keeps its last good state and is retried. */
static void job_failed(struct poller *p, struct job_state *t, uint64_t now)
{
    t->fetch_success = 0;
    t->result = JOB_RESULT_ERROR;
    t->failures++;
    set_due(p, t,
            now + poller_backoff_ms(t->failures, p->cfg->poll_interval_ms,
                                    75 + (unsigned)(rand_r(&p->rng) % 51)));
}

/* A valid answer: it becomes the job's state. */
static void job_answered(struct poller *p, job_handle h, struct job_state *t,
                         const struct job_record *rec, double at)
{
    /* an undocumented status is worth one line when it appears, not one per cycle */
    if (rec->status == JOB_UNKNOWN &&
        (!t->have_rec || strcmp(t->rec.status_raw, rec->status_raw) != 0))
        log_warn("job %s: undocumented status \"%s\", shown as UNKNOWN", t->id, rec->status_raw);
    t->rec = *rec;
    t->have_rec = 1;
    t->status = rec->status;
    t->result = JOB_RESULT_OK;
    t->fetch_success = 1;
    t->observed_at = at;
    t->failures = 0;
    t->next_due = DUE_NEVER;
    /* counted once per job, also across leaving and coming back (the table remembers) */
    if (job_status_terminal(rec->status) && jobtable_mark_finished(p->table, h, at) == 1) {
        if (p->db) {
            /* not waited for: a lost record costs one poll after a crash (store.h) */
            int rc = store_finished(p->db, t->profile, t->id, rec, t->finished_at, at);
            if (rc)
                log_debug("job %s: not kept in the store: %s", t->id, strerror(-rc));
        }
        stats_count_finished(&p->stats, rec->job_type);
        if (job_status_failed(rec->status)) {
            stats_count_failed(&p->stats, rec->job_type, rec->error_code);
            log_info("job %s (%s) failed: %s %s", t->id, rec->job_type, rec->error_code,
                     rec->fail_reason);
        } else {
            log_info("job %s (%s) succeeded", t->id, rec->job_type);
        }
    }
}

/* Describe an error answer for a log line (message and code from any of the three shapes). */
static void describe_error(const struct api_request *r, char *out, size_t outsz)
{
    struct api_error e;

    if (r->body.len && job_parse_error(r->body.data, r->body.len, &e) == 0)
        snprintf(out, outsz, "%s%s%s", e.code, e.code[0] && e.message[0] ? ": " : "", e.message);
    else
        snprintf(out, outsz, "(no error body)");
}

/*
 * Whether the API was reached and authorised, from one request's outcome. A
 * cycle sums its members' outcomes when it ends (any answer and no refusal:
 * up). A request outside a cycle (a retry, a new job's first poll) moves
 * api_up on its own when it is clear evidence: an authorised answer raises it,
 * a 401/403 lowers it; one transport failure is left to the next cycle. So
 * api_up describes the most recent answers, also when no cycle sends anything
 * any more (a timed-out job whose retry finished it).
 */
static void note_reach(struct poller *p, int in_cycle, int reached, int unauthorised)
{
    if (in_cycle) {
        p->cycle_reached |= reached;
        p->cycle_unauthorised |= unauthorised;
    } else if (unauthorised) {
        p->stats.api_up = 0;
    } else if (reached) {
        p->stats.api_up = 1;
    }
}

/* What an HTTP answer other than 2xx means for job t. */
static void complete_error_answer(struct poller *p, struct api_request *r, struct job_state *t,
                                  long code, long retry_after, uint64_t now)
{
    char err[512];

    describe_error(r, err, sizeof(err));
    switch (code) {
    case 404:
        if (t->status != JOB_UNKNOWN || !t->failures)
            log_warn("job %s: not found (404): %s", t->id, err);
        t->status = JOB_UNKNOWN;
        job_failed(p, t, now);
        t->result = JOB_RESULT_NOT_FOUND;
        return;
    case 429: {
        uint64_t ms = poller_pause_ms(retry_after);
        if (now + ms > p->pause_until)
            p->pause_until = now + ms;
        t->result = JOB_RESULT_NONE;   /* asked again after the pause: nothing lost */
        set_due(p, t, p->pause_until); /* keeps its failure count: a 429 is not the job's fault */
        log_warn("job %s: throttled (429): pausing all requests for %llus", t->id,
                 (unsigned long long)(ms / 1000));
        return;
    }
    case 401:
        if (r->relogin) { /* a fresh login may cure it: see complete() */
            log_msg(t->failures ? LOGL_DEBUG : LOGL_WARN,
                    "job %s: token refused (401); logging in again, then asking again", t->id);
            t->result = JOB_RESULT_NONE;
            set_due(p, t, now); /* started as soon as the new token is there */
            return;
        }
        /* fall through */
    case 403:
        /* both mean the API refuses us, which api_up says; a 401 rejects our credentials */
        if (code == 401)
            p->stats.auth_failures++;
        log_msg(t->failures ? LOGL_DEBUG : LOGL_ERROR, "job %s: %s (%ld): %s", t->id,
                code == 401 ? "unauthorised" : "forbidden", code, err);
        job_failed(p, t, now);
        return;
    default:
        log_msg(t->failures ? LOGL_DEBUG : LOGL_WARN, "job %s: HTTP %ld: %s", t->id, code, err);
        job_failed(p, t, now);
        return;
    }
}

/* Handle a finished transfer of slot r. */
static void complete(struct poller *p, struct api_request *r, CURLcode rc, uint64_t now)
{
    struct job_state *t = jobtable_get(p->table, r->job);
    struct api_outcome o;
    struct job_record rec;
    char err[512];
    int prc;

    api_request_outcome(r, rc, &o);
    if (r->in_cycle)
        p->cycle_in_flight--;
    p->dirty = 1;
    stats_observe_duration(&p->stats, o.seconds);
    if (o.http_code > 0)
        stats_count_code(&p->stats, o.http_code);
    /* a 401 for a login token that a fresh login may cure is no refusal yet */
    r->relogin = o.http_code == 401 && auth_rejected(p->auth, r->auth_gen);
    if (o.http_code >= 200 && o.http_code < 300)
        auth_accepted(p->auth, r->auth_gen);
    note_reach(p, r->in_cycle, o.http_code > 0,
               (o.http_code == 401 && !r->relogin) || o.http_code == 403);
    if (!o.transport_ok)
        stats_count_error(&p->stats, o.err);
    if (!t) {
        log_debug("dropping an answer for a job that is no longer tracked");
        return;
    }
    t->in_flight = 0;
    t->in_cycle = 0;

    if (!o.transport_ok) {
        log_msg(t->failures ? LOGL_DEBUG : LOGL_WARN, "job %s: request failed (%s): %s", t->id,
                api_err_reason_name(o.err), r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
        job_failed(p, t, now);
        return;
    }
    t->last_fetch = time_now(); /* any HTTP answer, valid or not */

    if (o.http_code < 200 || o.http_code >= 300) {
        complete_error_answer(p, r, t, o.http_code, o.retry_after, now);
        return;
    }
    prc = job_parse(t->profile, r->body.data ? r->body.data : "", r->body.len, &rec, err,
                    sizeof(err));
    if (prc == JOB_PARSE_OK && rec.job_id[0] && strcmp(rec.job_id, t->id) != 0) {
        snprintf(err, sizeof(err), "answer is for another job (%s)", rec.job_id);
        prc = JOB_PARSE_INVALID;
    }
    if (prc != JOB_PARSE_OK) {
        stats_count_error(&p->stats,
                          prc == JOB_PARSE_TOO_LARGE ? API_ERR_TOO_LARGE : API_ERR_PARSE);
        log_msg(t->failures ? LOGL_DEBUG : LOGL_WARN, "job %s: unusable answer: %s", t->id, err);
        job_failed(p, t, now);
        return;
    }
    job_answered(p, r->job, t, &rec, t->last_fetch);
}

/* ---- the job list --------------------------------------------------------- */

/* Remember how --jobs.file looks now; returns 1 if that differs from last time. */
static int jobs_file_changed(struct poller *p)
{
    struct stat st;
    int ok = stat(p->cfg->jobs_file, &st) == 0, changed;

    changed = ok != p->jobs_st_ok ||
              (ok && (st.st_ino != p->jobs_st.st_ino || st.st_dev != p->jobs_st.st_dev ||
                      st.st_size != p->jobs_st.st_size ||
                      st.st_mtim.tv_sec != p->jobs_st.st_mtim.tv_sec ||
                      st.st_mtim.tv_nsec != p->jobs_st.st_mtim.tv_nsec));
    p->jobs_st_ok = ok;
    if (ok)
        p->jobs_st = st;
    return changed;
}

/* Log and account for a change of membership. */
static void note_delta(struct poller *p, const char *what, const struct jobtable_delta *d)
{
    if (d->added || d->removed) {
        p->members_changed = 1;
        p->dirty = 1;
        p->earliest_due = 0; /* rescan: new jobs are due */
    }
    if (d->refused)
        log_error("%s: %zu jobs refused: %zu jobs are tracked already (the maximum)", what,
                  d->refused, jobtable_count(p->table));
    if (d->invalid)
        log_error("%s: %zu invalid job IDs refused", what, d->invalid);
}

/* Make source's members the ids[first..n). Returns 0 or -ENOMEM. */
static int sync_jobs(struct poller *p, unsigned source, char **ids, size_t first, size_t n,
                     struct jobtable_delta *d)
{
    struct job_ref *refs = calloc(n > first ? n - first : 1, sizeof(*refs));
    size_t i;
    int rc;

    if (!refs)
        return -ENOMEM;
    for (i = first; i < n; i++)
        config_job_ref(p->cfg, ids[i], &refs[i - first].profile, &refs[i - first].id);
    rc = jobtable_sync_source(p->table, source, refs, n - first, d);
    free(refs);
    return rc;
}

/*
 * SIGHUP: make the table's JOB_SRC_CONFIG members the jobs.ids --config.file
 * lists now. Returns 0, or -errno with the reason in err.
 */
static int config_jobs_reload(struct poller *p, char *err, size_t errsz)
{
    struct jobtable_delta d;
    char **ids = NULL;
    size_t n = 0;
    int rc = config_reload_config_jobs(p->cfg, &ids, &n, err, errsz);

    if (rc == 0 && (rc = sync_jobs(p, JOB_SRC_CONFIG, ids, 0, n, &d)) != 0)
        snprintf(err, errsz, "out of memory");
    if (rc == 0) {
        log_info("--config.file jobs.ids reloaded: %zu listed (%zu new, %zu returned finished, %zu "
                 "dropped)",
                 n, d.added, d.returned, d.removed);
        note_delta(p, "jobs.ids", &d);
    } else {
        log_error("--config.file jobs.ids: %s; keeping the jobs it listed", err);
    }
    config_free_jobs(ids, n);
    return rc;
}

/* A reload asked for by poller_reload is done: hand its result to the waiting caller. */
static void reload_finished(struct poller *p, uint64_t gen, int rc, const char *err)
{
    pthread_mutex_lock(&p->reload_lock);
    if (gen > p->reload_done) {
        p->reload_done = gen;
        p->reload_rc = rc;
        snprintf(p->reload_err, sizeof(p->reload_err), "%s", rc ? err : "");
    }
    pthread_cond_broadcast(&p->reload_cond);
    pthread_mutex_unlock(&p->reload_lock);
}

/* Re-read --jobs.file when asked to or when it changed (checked once a second). */
static void jobs_file_maybe_reload(struct poller *p, uint64_t now)
{
    int asked = atomic_exchange(&p->reload, 0), rc, first_rc = 0;
    struct jobtable_delta d;
    char err[512], first_err[768] = "", **ids = NULL;
    size_t n = 0;
    uint64_t gen = 0;

    if (asked) {
        pthread_mutex_lock(&p->reload_lock);
        gen = p->reload_asked; /* every request up to here is answered by this reload */
        pthread_mutex_unlock(&p->reload_lock);
    }
    if (asked && p->cfg->config_file) {
        first_rc = config_jobs_reload(p, err, sizeof(err));
        if (first_rc)
            snprintf(first_err, sizeof(first_err), "jobs.ids of %s: %s", p->cfg->config_file, err);
    }
    if (!p->cfg->jobs_file) {
        if (asked)
            reload_finished(p, gen, first_rc, first_err);
        return;
    }
    if (!asked && now < p->next_file_check)
        return;
    p->next_file_check = now + FILE_CHECK_MS;
    if (!jobs_file_changed(p) && !asked)
        return;
    rc = config_reload_jobs(p->cfg, &ids, &n, err, sizeof(err));
    /* the list starts with the --job and jobs.ids IDs, which the table holds under their own */
    if (rc == 0 && (rc = sync_jobs(p, JOB_SRC_FILE, ids,
                                   p->cfg->n_flag_jobs + p->cfg->n_config_jobs, n, &d)) != 0)
        snprintf(err, sizeof(err), "out of memory");
    if (rc == 0) {
        log_info("jobs file loaded: %zu jobs tracked (%zu new, %zu returned finished, %zu "
                 "dropped)",
                 jobtable_count(p->table), d.added, d.returned, d.removed);
        note_delta(p, "--jobs.file", &d);
        p->stats.jobs_reload_success_ts = time_now();
    } else {
        log_error("--jobs.file: %s; keeping the %zu jobs tracked", err, jobtable_count(p->table));
    }
    config_free_jobs(ids, n);
    p->stats.jobs_reload_ok = rc == 0;
    p->dirty = 1;
    if (asked) {
        if (rc && !first_rc)
            snprintf(first_err, sizeof(first_err), "--jobs.file: %s", err);
        reload_finished(p, gen, first_rc ? first_rc : rc, first_err);
    }
}

/* Changes posted by other threads, and the retention (a whole-table scan: once a second). */
static void apply_changes(struct poller *p, uint64_t now)
{
    struct jobtable_delta d;

    if (jobtable_apply_posted(p->table, &d)) {
        note_delta(p, "posted change", &d);
        /* labels or sources changed too: the API's views must show it (within a second) */
        p->dirty = 1;
        p->members_changed = 1;
    }
    if (now < p->next_expire)
        return;
    p->next_expire = now + EXPIRE_CHECK_MS;
    if (jobtable_expire(p->table, time_now())) {
        p->members_changed = 1;
        p->dirty = 1;
    }
}

/* ---- IAM login (password method) ------------------------------------------ */

/* Start a login when the auth wants one and the last failure's backoff has passed. */
static void login_maybe_start(struct poller *p, uint64_t now)
{
    char url[IAM_URL_MAX];
    int rc;

    if (!p->login_ok || p->login_in_flight || now < p->login_next_try || now < p->pause_until ||
        !auth_login_due(p->auth, time_now()))
        return;
    strbuf_truncate(&p->login_body, 0);
    rc = auth_login_request(p->auth, url, sizeof(url), &p->login_body);
    if (rc == 0)
        rc = api_request_prepare_login(&p->login, url, p->login_body.data, p->login_body.len);
    if (rc == 0 && curl_multi_add_handle(p->multi, p->login.easy) != CURLM_OK)
        rc = -ENOMEM;
    if (rc != 0) {
        log_error("cannot start an IAM login: %s", strerror(-rc));
        p->login_next_try = now + LOGIN_BACKOFF_CAP_MS;
        return;
    }
    p->login_in_flight = 1;
    p->stats.auth_requests++;
    log_debug("logging in to IAM (%s)", url);
}

/* Log a failed login: the first of a run of failures loudly, the rest at debug. */
static void login_failed(struct poller *p, uint64_t now, uint64_t wait_ms, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void login_failed(struct poller *p, uint64_t now, uint64_t wait_ms, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_msg(p->login_failures ? LOGL_DEBUG : LOGL_ERROR, "IAM login failed: %s; next try in %llus",
            line, (unsigned long long)(wait_ms / 1000));
    p->login_failures++;
    p->stats.auth_failures++;
    p->login_next_try = now + wait_ms;
    if (!auth_ready(p->auth, time_now()))
        p->stats.api_up = 0;
}

/* A login transfer finished: adopt its token, or back off. */
static void login_complete(struct poller *p, CURLcode rc, uint64_t now)
{
    struct api_request *r = &p->login;
    uint64_t backoff = poller_backoff_ms(p->login_failures + 1, LOGIN_BACKOFF_CAP_MS,
                                         75 + (unsigned)(rand_r(&p->rng) % 51));
    struct api_outcome o;
    char err[512];

    p->login_in_flight = 0;
    p->dirty = 1;
    secret_clear(p->login_body.data);
    api_request_outcome(r, rc, &o);
    if (!o.transport_ok) {
        login_failed(p, now, backoff, "%s (%s)", r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc),
                     api_err_reason_name(o.err));
        return;
    }
    if (o.http_code == 429) {
        login_failed(p, now, poller_pause_ms(o.retry_after), "throttled (429)");
        return;
    }
    if (o.http_code < 200 || o.http_code >= 300) {
        describe_error(r, err, sizeof(err));
        login_failed(p, now, backoff, "HTTP %ld: %s%s", o.http_code, err,
                     o.http_code == 401 ? " (user name, password or domain wrong?)" : "");
        return;
    }
    if (auth_login_answer(p->auth, r->subject_token, r->body.data ? r->body.data : "", r->body.len,
                          time_now(), err, sizeof(err)) != 0) {
        login_failed(p, now, backoff, "unusable answer: %s", err);
        return;
    }
    secret_free(r->subject_token);
    r->subject_token = NULL;
    if (p->login_failures)
        log_info("IAM login works again after %u failures", p->login_failures);
    p->login_failures = 0;
    p->login_next_try = 0;
    p->stats.auth_token_expiry = auth_token_expiry(p->auth);
    p->earliest_due = 0; /* jobs waiting for a token are due */
    log_info("logged in to IAM; the token expires in %.0fs",
             auth_token_expiry(p->auth) - time_now());
}

/* ---- scheduling --------------------------------------------------------- */

static void cycle_begin(struct poller *p, uint64_t now)
{
    size_t want = jobtable_count(p->table);
    job_handle h = JOB_HANDLE_NONE;

    if (want > p->cycle_cap) {
        job_handle *c = realloc(p->cycle_jobs, want * sizeof(*c));
        if (!c) {
            log_error("cannot start a poll cycle: out of memory; trying again next interval");
            p->next_cycle = now + p->cfg->poll_interval_ms;
            return;
        }
        p->cycle_jobs = c;
        p->cycle_cap = want;
    }
    p->cycle_active = 1;
    p->cycle_start = now;
    p->n_cycle = p->cycle_cursor = p->cycle_in_flight = 0;
    p->cycle_requests = p->cycle_reached = p->cycle_unauthorised = 0;
    while ((h = jobtable_next(p->table, h)) != JOB_HANDLE_NONE) {
        struct job_state *t = jobtable_get(p->table, h);
        if (t->finished)
            continue;
        t->in_cycle = 1;
        p->cycle_jobs[p->n_cycle++] = h;
    }
    p->next_cycle = now + p->cfg->poll_interval_ms;
}

static void cycle_end(struct poller *p, uint64_t now)
{
    p->cycle_active = 0;
    p->cycles++;
    p->stats.poll_cycles = p->cycles;
    p->stats.last_cycle_ts = time_now();
    p->stats.last_cycle_duration = (double)(now - p->cycle_start) / 1000.0;
    if (p->cycle_requests)
        p->stats.api_up = p->cycle_reached && !p->cycle_unauthorised;
    log_debug("poll cycle %llu done in %.3fs (%d requests)", (unsigned long long)p->cycles,
              p->stats.last_cycle_duration, p->cycle_requests);
    publish(p);
}

/* While requests cannot start, hand the cycle's unstarted members to the retry schedule. */
static void cycle_defer(struct poller *p, uint64_t due)
{
    for (; p->cycle_cursor < p->n_cycle; p->cycle_cursor++) {
        struct job_state *t = jobtable_get(p->table, p->cycle_jobs[p->cycle_cursor]);
        if (t && t->in_cycle && !t->in_flight) {
            t->in_cycle = 0;
            set_due(p, t, due);
        }
    }
}

/* The API client of profile prof: its own service's endpoint (profile_sibling_endpoint). */
static const struct api_client *client_for(const struct poller *p, const struct api_profile *prof)
{
    size_t i;

    for (i = 0; i < PROFILES_MAX && profile_at(i); i++)
        if (profile_at(i) == prof)
            return &p->clients[i];
    return &p->client;
}

/* Start the request for job h on an idle slot. */
static void start(struct poller *p, job_handle h, int in_cycle, uint64_t now)
{
    struct job_state *t = jobtable_get(p->table, h);
    struct api_request *r = p->idle[--p->n_idle];
    int rc;

    rc = api_request_prepare(r, client_for(p, t->profile), t->id, h);
    if (rc == 0 && curl_multi_add_handle(p->multi, r->easy) != CURLM_OK)
        rc = -ENOMEM;
    if (rc == -EAGAIN) { /* no token right now: not the job's fault */
        p->idle[p->n_idle++] = r;
        t->in_cycle = 0;
        set_due(p, t, 0);
        return;
    }
    if (rc != 0) {
        p->idle[p->n_idle++] = r;
        stats_count_error(&p->stats, API_ERR_OTHER);
        log_error("job %s: cannot start a request: %s", t->id, strerror(-rc));
        t->in_cycle = 0;
        job_failed(p, t, now);
        return;
    }
    r->in_cycle = in_cycle;
    t->in_flight = 1;
    if (in_cycle) {
        p->cycle_requests++;
        p->cycle_in_flight++;
    }
}

/*
 * The next job to poll: first the running cycle's members in table order, then
 * unfinished jobs whose retry (or first poll) is due. JOB_HANDLE_NONE if none;
 * *in_cycle says which kind. Rate limiting (--poll.max-rate) will gate this
 * single choke point.
 */
static job_handle next_job(struct poller *p, uint64_t now, int *in_cycle)
{
    uint64_t earliest = DUE_NEVER;
    job_handle h = JOB_HANDLE_NONE;

    *in_cycle = 0;
    if (p->cycle_active)
        while (p->cycle_cursor < p->n_cycle) {
            job_handle c = p->cycle_jobs[p->cycle_cursor++];
            struct job_state *t = jobtable_get(p->table, c);
            if (t && t->in_cycle && !t->in_flight && !t->finished) {
                *in_cycle = 1;
                return c;
            }
        }
    if (now < p->earliest_due)
        return JOB_HANDLE_NONE;
    while ((h = jobtable_next(p->table, h)) != JOB_HANDLE_NONE) {
        struct job_state *t = jobtable_get(p->table, h);
        if (t->finished || t->in_flight || t->in_cycle)
            continue;
        if (t->next_due <= now) {
            p->earliest_due = 0; /* more may be due: rescan next time */
            return h;
        }
        if (t->next_due < earliest)
            earliest = t->next_due;
    }
    p->earliest_due = earliest;
    return JOB_HANDLE_NONE;
}

static void start_due(struct poller *p, uint64_t now)
{
    job_handle h;
    int in_cycle;

    if (now < p->pause_until) {
        if (p->cycle_active)
            cycle_defer(p, p->pause_until);
        return;
    }
    if (!auth_ready(p->auth, time_now())) {
        /* no usable token (the first login, or logins failing): asked as soon as one comes */
        if (p->cycle_active) {
            cycle_defer(p, 0);
            p->stats.api_up = 0;
        }
        return;
    }
    while (p->n_idle > 0 && (h = next_job(p, now, &in_cycle)) != JOB_HANDLE_NONE)
        start(p, h, in_cycle, now);
}

/*
 * Milliseconds the loop may sleep before something it could act on is due:
 * the next cycle (when none runs), the end of a pause, or a retry (when a slot
 * is free to run it). Transfers in progress wake the loop through their sockets.
 */
static int wait_ms(struct poller *p, uint64_t now)
{
    uint64_t until = DUE_NEVER;

    if (!p->cycle_active)
        until = p->next_cycle;
    /* a publish held back by PUBLISH_GAP_MS (waiters and registrants look for it) */
    if (p->dirty && (!p->cycle_active || p->members_changed) &&
        p->last_publish + PUBLISH_GAP_MS < until)
        until = p->last_publish + PUBLISH_GAP_MS;
    if (p->pause_until > now) {
        if (p->pause_until < until)
            until = p->pause_until;
    } else if (p->n_idle > 0 && p->earliest_due < until) {
        until = p->earliest_due;
    }
    if (until <= now)
        return 0;
    if (until - now > IDLE_WAIT_MAX_MS)
        return IDLE_WAIT_MAX_MS;
    return (int)(until - now);
}

/* A curl_multi call failed: say so (sparsely) and do not spin on it. */
static void loop_error(struct poller *p, const char *call, CURLMcode mc)
{
    const struct timespec pause = {0, LOOP_ERROR_PAUSE_MS * 1000000L};

    if (p->loop_errors++ % 100 == 0)
        log_error("%s failed: %s (%u times so far)", call, curl_multi_strerror(mc), p->loop_errors);
    nanosleep(&pause, NULL);
}

/* Wait for sockets or a timeout, then hand finished transfers to complete(). */
static void transfer(struct poller *p)
{
    CURLMsg *msg;
    CURLMcode mc;
    int running, left;
    uint64_t now;

    /* rendering may have taken a while: measure the wait from now */
    mc = curl_multi_poll(p->multi, NULL, 0, wait_ms(p, time_mono_ms()), NULL);
    if (mc != CURLM_OK)
        loop_error(p, "curl_multi_poll", mc);
    mc = curl_multi_perform(p->multi, &running);
    if (mc != CURLM_OK)
        loop_error(p, "curl_multi_perform", mc);
    now = time_mono_ms();
    while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
        struct api_request *r;
        char *priv = NULL; /* CURLINFO_PRIVATE hands back a char * */
        CURLcode rc;
        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
        r = (struct api_request *)(void *)priv;
        rc = msg->data.result;
        curl_multi_remove_handle(p->multi, r->easy);
        if (r == &p->login) {
            login_complete(p, rc, now);
            continue;
        }
        complete(p, r, rc, now);
        p->idle[p->n_idle++] = r;
    }
}

/* One turn of the loop: changes, cycle bookkeeping, starts, publishes. Returns 1 if a cycle ended.
 */
static int turn(struct poller *p)
{
    uint64_t now = time_mono_ms();
    int ended = 0;

    jobs_file_maybe_reload(p, now);
    apply_changes(p, now);
    login_maybe_start(p, now);
    /* the first cycle waits for the login in flight: it would only find no token */
    if (!p->cycle_active && now >= p->next_cycle &&
        !(p->login_in_flight && !auth_ready(p->auth, time_now())))
        cycle_begin(p, now);
    start_due(p, now);
    if (p->cycle_active && p->cycle_cursor >= p->n_cycle && p->cycle_in_flight == 0) {
        cycle_end(p, now);
        ended = 1;
    }
    /* retries landed, or jobs came or went: publish, but not more than once a second */
    if (p->dirty && (!p->cycle_active || p->members_changed) &&
        time_mono_ms() - p->last_publish >= PUBLISH_GAP_MS)
        publish(p);
    return ended;
}

static void *thread_main(void *arg)
{
    struct poller *p = arg;

    while (!atomic_load(&p->stop)) {
        turn(p);
        transfer(p);
    }
    return NULL;
}

/* ---- --once ------------------------------------------------------------- */

/* Count how the run went; 1 if some job still waits for its first answer. */
static int once_tally(struct poller *p, struct poller_once_result *r)
{
    job_handle h = JOB_HANDLE_NONE;

    memset(r, 0, sizeof(*r));
    while ((h = jobtable_next(p->table, h)) != JOB_HANDLE_NONE) {
        const struct job_state *t = jobtable_get(p->table, h);
        r->jobs++;
        if (t->result == JOB_RESULT_OK || (t->finished && t->result == JOB_RESULT_NONE))
            r->fetched++;
        else if (t->result == JOB_RESULT_NOT_FOUND)
            r->not_found++;
        else if (t->result == JOB_RESULT_ERROR)
            r->failed++;
        else
            r->unfetched++;
    }
    r->api_up = p->stats.api_up;
    return r->unfetched > 0;
}

void poller_run_once(struct poller *p, struct poller_once_result *r)
{
    uint64_t deadline = time_mono_ms() + p->cfg->poll_interval_ms;
    int cycled = 0;

    while (!atomic_load(&p->stop)) {
        cycled |= turn(p);
        if (cycled) {
            p->next_cycle = DUE_NEVER; /* one cycle; after it only throttled jobs are asked again */
            if (!once_tally(p, r))
                break;
            if (p->pause_until > deadline || time_mono_ms() >= deadline) {
                log_warn("--once: %zu jobs still throttled (429); not waiting past --poll.interval",
                         r->unfetched);
                break;
            }
        }
        transfer(p);
    }
    /* in-flight retries are dropped: the exposition describes what is known now */
    publish(p);
    once_tally(p, r);
}

/* ---- the durable store ---------------------------------------------------- */

/* The table forgot a finished job, or the retention ended a registration: so does the store. */
static void forget_hook(void *arg, enum jobtable_forget why, const struct job_state *st)
{
    struct poller *p = arg;
    int rc;

    if (!p->db)
        return;
    rc = why == JOBTABLE_FORGOTTEN ? store_expire(p->db, st->profile, st->id)
                                   : store_expire_registration(p->db, st->profile, st->id);
    if (rc)
        log_debug("job %s: the store could not forget it: %s", st->id, strerror(-rc));
}

void poller_restore(void *arg, const struct store_job *j)
{
    struct poller *p = arg;
    job_handle h;
    int rc;

    if (j->registered) {
        rc = jobtable_add(p->table, j->profile, j->id, JOB_SRC_API, &h);
        if (rc < 0) {
            /* kept in the store: it comes back when --jobs.max allows */
            if (p->restore_refused++ == 0)
                log_error("store: job %s registered but not tracked: %s", j->id,
                          rc == -E2BIG ? "--jobs.max jobs are tracked" : strerror(-rc));
            return;
        }
        if (jobtable_set_labels(p->table, h, &j->labels) < 0)
            log_error("store: job %s registered without its labels (out of memory)", j->id);
        p->restored_registered++;
    }
    if (!j->finished)
        return;
    rc = jobtable_restore_finished(p->table, j->profile, j->id, &j->rec, j->finished_at,
                                   j->observed_at);
    if (rc == 0) {
        p->restored_finished++;
        return;
    }
    if (rc == -E2BIG) {
        /* as many finished jobs are remembered as --jobs.max: the store forgets this one too */
        if (p->n_unrestored == p->cap_unrestored) {
            size_t cap = p->cap_unrestored ? p->cap_unrestored * 2 : 64;
            struct unrestored *u = realloc(p->unrestored, cap * sizeof(*u));
            if (!u)
                return; /* stays in the store; tried again at the next start */
            p->unrestored = u;
            p->cap_unrestored = cap;
        }
        p->unrestored[p->n_unrestored].profile = j->profile;
        memcpy(p->unrestored[p->n_unrestored].id, j->id, sizeof(j->id));
        p->n_unrestored++;
    }
}

void poller_set_store(struct poller *p, struct store *s)
{
    size_t i;

    p->db = s;
    jobtable_set_forget_hook(p->table, forget_hook, p);
    for (i = 0; i < p->n_unrestored; i++)
        store_expire(s, p->unrestored[i].profile, p->unrestored[i].id);
    if (p->restored_registered || p->restored_finished || p->restore_refused || p->n_unrestored)
        log_info("store: %zu registered jobs back, %zu finished jobs back (not polled again)%s",
                 p->restored_registered, p->restored_finished,
                 p->restore_refused || p->n_unrestored ? "; some refused (see above)" : "");
    if (p->restore_refused)
        log_error("store: %zu registered jobs not tracked: --jobs.max (%zu) jobs are tracked; "
                  "they stay in the store",
                  p->restore_refused, jobtable_count(p->table));
    if (p->n_unrestored)
        log_warn("store: %zu finished jobs forgotten: as many as --jobs.max are remembered",
                 p->n_unrestored);
    free(p->unrestored);
    p->unrestored = NULL;
    p->n_unrestored = p->cap_unrestored = 0;
    p->members_changed = 1;
    p->dirty = 1;
    p->earliest_due = 0;
    publish(p); /* restored jobs show before the first cycle */
}

/* ---- life cycle --------------------------------------------------------- */

static void wake_poller(void *arg)
{
    struct poller *p = arg;

    curl_multi_wakeup(p->multi);
}

/* Fill the table from the configuration: --job IDs, jobs.ids, then the jobs file's. 0 or -errno. */
static int load_config_jobs(struct poller *p)
{
    const struct config *cfg = p->cfg;
    struct jobtable_delta d;
    size_t i;
    int rc;

    for (i = 0; i < cfg->n_flag_jobs + cfg->n_config_jobs && i < cfg->n_jobs; i++) {
        const struct api_profile *prof;
        const char *id;

        config_job_ref(cfg, cfg->jobs[i], &prof, &id);
        rc = jobtable_add(p->table, prof, id, i < cfg->n_flag_jobs ? JOB_SRC_FLAG : JOB_SRC_CONFIG,
                          NULL);
        if (rc < 0)
            return rc;
    }
    rc = sync_jobs(p, JOB_SRC_FILE, cfg->jobs, cfg->n_flag_jobs + cfg->n_config_jobs, cfg->n_jobs,
                   &d);
    if (rc == 0 && (d.refused || d.invalid))
        rc = d.refused ? -E2BIG : -EINVAL;
    return rc;
}

/* The lock and (monotonic) condition poller_reload waits on. 0 or -errno. */
static int init_reload_sync(struct poller *p)
{
    pthread_condattr_t ca;
    int rc = pthread_condattr_init(&ca);

    if (rc)
        return -rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&p->reload_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc)
        return -rc;
    rc = pthread_mutex_init(&p->reload_lock, NULL);
    if (rc) {
        pthread_cond_destroy(&p->reload_cond);
        return -rc;
    }
    p->reload_sync_ok = 1;
    return 0;
}

struct poller *poller_new(const struct config *cfg, struct auth *auth, struct snapshot_store *store,
                          const struct build_info *build, const struct http_counters *http)
{
    struct poller *p = calloc(1, sizeof(*p));
    unsigned k;

    if (!p)
        return NULL;
    p->cfg = cfg;
    p->store = store;
    p->build = *build;
    p->http = http;
    atomic_init(&p->stop, 0);
    atomic_init(&p->reload, 0);
    if (init_reload_sync(p) != 0) {
        free(p);
        return NULL;
    }
    p->rng = (unsigned)time_mono_ms() ^ (unsigned)getpid();
    snprintf(p->user_agent, sizeof(p->user_agent), "elb_job_exporter/%s", ELB_VERSION);
    p->auth = auth;
    p->client = (struct api_client){
        .endpoint = cfg->endpoint,
        /* a project scoped by name: the id comes with the token */
        .project_id = cfg->project_id ? cfg->project_id : auth_project_id(auth),
        .profile = cfg->profile,
        .auth = auth,
        .timeout_ms = cfg->poll_timeout_ms,
        .user_agent = p->user_agent,
        .ca_file = cfg->tls_ca_file,
        .insecure_skip_verify = cfg->tls_insecure_skip_verify,
    };
    for (k = 0; k < PROFILES_MAX && profile_at(k); k++) {
        p->clients[k] = p->client;
        p->clients[k].profile = profile_at(k);
        /* --elb.endpoint is the default profile's; the others: the region's, else beside it */
        if (profile_at(k) == cfg->profile)
            continue;
        if (cfg->cloud_region ? profile_endpoint_for_region(profile_at(k), cfg->cloud_region,
                                                            p->endpoints[k], API_URL_MAX) == 0
                              : cfg->endpoint && profile_sibling_endpoint(
                                                     cfg->endpoint, cfg->profile, profile_at(k),
                                                     p->endpoints[k], API_URL_MAX) == 0)
            p->clients[k].endpoint = p->endpoints[k];
    }
    p->n_slots = cfg->poll_concurrency ? cfg->poll_concurrency : 1;
    p->slots = calloc(p->n_slots, sizeof(*p->slots));
    p->idle = calloc(p->n_slots, sizeof(*p->idle));
    p->multi = curl_multi_init();
    if (!p->slots || !p->idle || !p->multi)
        goto fail;
    p->table = jobtable_new(cfg->jobs_max ? cfg->jobs_max : CONFIG_MAX_JOBS,
                            (double)cfg->jobs_retention_ms / 1000.0, wake_poller, p);
    if (!p->table || load_config_jobs(p) != 0)
        goto fail;
    for (k = 0; k < p->n_slots; k++) {
        if (api_request_init(&p->slots[k], &p->client) != 0)
            goto fail;
        p->idle[p->n_idle++] = &p->slots[k];
    }
    strbuf_init(&p->login_body, IAM_BODY_MAX);
    if (auth_method(auth) == AUTH_PASSWORD) {
        if (api_request_init(&p->login, &p->client) != 0)
            goto fail;
        p->login_ok = 1;
    }
    /* keep one connection per slot alive between cycles */
    curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->n_slots);
    curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)p->n_slots);
    if (cfg->jobs_file) {
        p->stats.jobs_file = 1;
        p->stats.jobs_reload_ok = 1; /* config_parse loaded it, or we would not be here */
        p->stats.jobs_reload_success_ts = time_now();
        jobs_file_changed(p); /* remember how it looked when loaded */
        p->next_file_check = time_mono_ms() + FILE_CHECK_MS;
    }
    publish(p); /* /metrics answers before the first cycle ends */
    return p;
fail:
    poller_free(p);
    return NULL;
}

int poller_start(struct poller *p)
{
    int rc = pthread_create(&p->thread, NULL, thread_main, p);

    if (rc != 0)
        return -rc;
    atomic_store(&p->thread_started, 1);
    return 0;
}

void poller_request_reload(struct poller *p)
{
    atomic_store(&p->reload, 1);
    curl_multi_wakeup(p->multi);
}

int poller_reload(struct poller *p, uint64_t timeout_ms, char *err, size_t errsz)
{
    struct timespec until;
    uint64_t gen;
    int rc = 0;

    if (!atomic_load(&p->thread_started)) {
        snprintf(err, errsz, "the poller is not running");
        return -ESRCH;
    }
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)(timeout_ms / 1000);
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->reload_lock);
    gen = ++p->reload_asked;
    atomic_store(&p->reload, 1);
    curl_multi_wakeup(p->multi);
    while (p->reload_done < gen && rc == 0)
        rc = pthread_cond_timedwait(&p->reload_cond, &p->reload_lock, &until);
    if (p->reload_done >= gen) {
        rc = p->reload_rc;
        snprintf(err, errsz, "%s", p->reload_err);
    } else {
        rc = -ETIMEDOUT;
        snprintf(err, errsz, "the poller did not reload within %llu ms",
                 (unsigned long long)timeout_ms);
    }
    pthread_mutex_unlock(&p->reload_lock);
    return rc;
}

int poller_post(struct poller *p, enum jobtable_op op, const struct api_profile *profile,
                const char *id, const struct job_labels *labels, jobtable_done_fn done,
                void *done_arg)
{
    return jobtable_post_ex(p->table, op, profile, id, JOB_SRC_API, labels, done, done_arg);
}

void poller_stop(struct poller *p)
{
    if (!p || !atomic_load(&p->thread_started))
        return;
    atomic_store(&p->stop, 1);
    curl_multi_wakeup(p->multi);
    pthread_join(p->thread, NULL);
    atomic_store(&p->thread_started, 0);
}

void poller_free(struct poller *p)
{
    unsigned k;

    if (!p)
        return;
    for (k = 0; k < p->n_slots && p->slots; k++) {
        if (p->slots[k].easy && p->multi)
            curl_multi_remove_handle(p->multi, p->slots[k].easy);
        api_request_cleanup(&p->slots[k]);
    }
    if (p->login_ok && p->multi)
        curl_multi_remove_handle(p->multi, p->login.easy);
    if (p->login_ok)
        api_request_cleanup(&p->login);
    secret_clear(p->login_body.data);
    strbuf_release(&p->login_body);
    if (p->multi)
        curl_multi_cleanup(p->multi);
    jobtable_free(p->table);
    free(p->slots);
    free(p->idle);
    free(p->views);
    free(p->cycle_jobs);
    if (p->reload_sync_ok) {
        pthread_cond_destroy(&p->reload_cond);
        pthread_mutex_destroy(&p->reload_lock);
    }
    free(p->unrestored);
    free(p);
}
