/*
 * poller: the polling thread (see poller.h for the design).
 */
#include "poller.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "job.h"
#include "landing.h"
#include "log.h"
#include "procstat.h"
#include "stats.h"
#include "timeutil.h"

#define DUE_NEVER UINT64_MAX    /* polled again only by the next cycle */
#define BACKOFF_BASE_MS 1000    /* first retry after a failed poll */
#define BACKOFF_MIN_MS 100      /* never retry sooner than this */
#define IDLE_WAIT_MAX_MS 1000   /* longest single wait, so stop and clocks stay fresh */
#define PAUSE_MIN_S 1           /* a 429 pauses at least this long (Retry-After: 0, past date) */
#define PUBLISH_GAP_MS 1000     /* least time between two publishes outside cycle ends */
#define LANDING_MAX (16u << 20) /* cap of the rendered landing page */

struct tracked {
    char id[JOB_ID_MAX + 1];
    struct job_record rec; /* last good answer */
    int have_rec;
    enum job_status status; /* UNKNOWN until fetched, and after a 404 */
    int fetch_success;
    double last_fetch;  /* wall time of the last answer */
    double observed_at; /* wall time rec arrived */
    int finished;       /* seen SUCCESS/FAIL: never polled again */
    int in_flight;
    int in_cycle;      /* belongs to the running cycle and has not completed */
    unsigned failures; /* consecutive failed polls */
    uint64_t next_due; /* monotonic ms of the next poll outside a cycle; 0 = at once */
};

struct poller {
    const struct config *cfg;
    struct api_client client;
    struct snapshot_store *store;
    struct build_info build;
    char user_agent[64];

    struct tracked *jobs;
    size_t n_jobs;
    struct expfmt_job *views; /* scratch for rendering, one per job */

    CURLM *multi;
    struct api_request *slots;
    struct api_request **idle; /* stack of free slots */
    unsigned n_idle, n_slots;

    struct stats stats;
    uint64_t cycles;
    int cycle_active;
    size_t cycle_cursor;  /* jobs before it have been started in this cycle */
    size_t cycle_left;    /* members not yet completed */
    uint64_t cycle_start; /* monotonic ms */
    uint64_t next_cycle;  /* monotonic ms */
    int cycle_requests, cycle_reached, cycle_unauthorised;
    uint64_t pause_until;  /* monotonic ms; no request starts before it (429) */
    uint64_t earliest_due; /* lower bound of next_due over idle unfinished jobs */
    int dirty;             /* state changed since the last publish */
    uint64_t last_publish; /* monotonic ms of the last publish */
    unsigned rng;

    /* --jobs.file: what it looked like when last read, and whether to look again */
    struct stat jobs_st;
    int jobs_st_ok;    /* jobs_st is valid (the file could be stat'ed) */
    int check_jobs;    /* a cycle ended: see whether the file changed */
    atomic_int reload; /* SIGHUP: re-read it even if it looks unchanged */

    pthread_t thread;
    int thread_started;
    atomic_int stop;
};

/* ---- rendering ---------------------------------------------------------- */

/* Render the exposition and landing page from the current state and publish them. */
static void publish(struct poller *p)
{
    struct proc_stats proc;
    struct expfmt_input in;
    struct landing_input li;
    struct strbuf m, l;
    struct snapshot *s;
    size_t i;
    int rc;

    for (i = 0; i < p->n_jobs; i++) {
        struct tracked *t = &p->jobs[i];
        p->views[i] = (struct expfmt_job){
            .id = t->id,
            .rec = t->have_rec ? &t->rec : NULL,
            .status = t->status,
            .fetch_success = t->fetch_success,
            .last_fetch = t->last_fetch,
            .observed_at = t->observed_at,
        };
    }
    procstat_read(&proc);
    in = (struct expfmt_input){
        .profile = p->cfg->profile,
        .jobs = p->views,
        .n_jobs = p->n_jobs,
        .stats = &p->stats,
        .proc = &proc,
        .build = &p->build,
    };
    li = (struct landing_input){
        .state = &in, .telemetry_path = p->cfg->telemetry_path, .now = time_now()};
    strbuf_init(&m, EXPFMT_MAX_OUTPUT);
    strbuf_init(&l, LANDING_MAX);
    rc = expfmt_render(&m, EXPFMT_TEXT_004, &in);
    if (rc == 0)
        rc = landing_render(&l, &li);
    s = rc == 0 ? snapshot_new() : NULL;
    if (!s) {
        /* Keep serving the previous snapshot: stale beats broken. */
        log_error("rendering failed (%s); serving the previous snapshot",
                  rc ? strerror(-rc) : "out of memory");
        goto out;
    }
    s->metrics = strbuf_detach(&m, &s->metrics_len);
    s->landing = strbuf_detach(&l, &s->landing_len);
    s->cycles = p->cycles;
    if (!s->metrics || !s->landing) {
        snapshot_release(s);
        log_error("rendering failed (out of memory); serving the previous snapshot");
        goto out;
    }
    snapshot_publish(p->store, s);
    p->dirty = 0;
    p->last_publish = time_mono_ms();
out:
    strbuf_release(&m);
    strbuf_release(&l);
}

/* ---- job state ---------------------------------------------------------- */

/* Next retry time after a failed poll: exponential with jitter, capped by the interval. */
static uint64_t backoff_due(struct poller *p, struct tracked *t, uint64_t now)
{
    uint64_t cap = p->cfg->poll_interval_ms, d;
    unsigned shift = t->failures > 0 ? t->failures - 1 : 0;

    if (shift > 20)
        shift = 20;
    d = (uint64_t)BACKOFF_BASE_MS << shift;
    /* jitter: 75% .. 125% */
    d = d * (75 + (uint64_t)(rand_r(&p->rng) % 51)) / 100;
    if (d > cap)
        d = cap;
    if (d < BACKOFF_MIN_MS)
        d = BACKOFF_MIN_MS;
    return now + d;
}

/* Schedule job t for a poll outside the cycles at monotonic time due. */
static void set_due(struct poller *p, struct tracked *t, uint64_t due)
{
    t->next_due = due;
    if (due < p->earliest_due)
        p->earliest_due = due;
}

/* A poll gave no good answer: the job keeps its last good state and is retried. */
static void job_failed(struct poller *p, struct tracked *t, uint64_t now)
{
    t->fetch_success = 0;
    t->failures++;
    set_due(p, t, backoff_due(p, t, now));
}

/* A valid answer: it becomes the job's state. */
static void job_answered(struct poller *p, struct tracked *t, const struct job_record *rec,
                         double at)
{
    /* an undocumented status is worth one line when it appears, not one per cycle */
    if (rec->status == JOB_UNKNOWN &&
        (!t->have_rec || strcmp(t->rec.status_raw, rec->status_raw) != 0))
        log_warn("job %s: undocumented status \"%s\", shown as UNKNOWN", t->id, rec->status_raw);
    t->rec = *rec;
    t->have_rec = 1;
    t->status = rec->status;
    t->fetch_success = 1;
    t->observed_at = at;
    t->failures = 0;
    t->next_due = DUE_NEVER;
    if (job_status_terminal(rec->status) && !t->finished) {
        t->finished = 1;
        stats_count_finished(&p->stats, rec->job_type);
        if (rec->status == JOB_FAIL) {
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

/* Handle a finished transfer of slot r. */
static void complete(struct poller *p, struct api_request *r, CURLcode rc, uint64_t now)
{
    struct tracked *t = &p->jobs[r->job];
    struct api_outcome o;
    struct job_record rec;
    char err[512];
    int prc;

    api_request_outcome(r, rc, &o);
    t->in_flight = 0;
    if (t->in_cycle) {
        t->in_cycle = 0;
        p->cycle_left--;
    }
    p->dirty = 1;
    stats_observe_duration(&p->stats, o.seconds);
    if (o.http_code > 0)
        stats_count_code(&p->stats, o.http_code);

    if (!o.transport_ok) {
        stats_count_error(&p->stats, o.err);
        if (o.http_code > 0)
            p->cycle_reached = 1;
        log_msg(t->failures ? LOGL_DEBUG : LOGL_WARN, "job %s: request failed (%s): %s", t->id,
                api_err_reason_name(o.err), r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc));
        job_failed(p, t, now);
        return;
    }
    p->cycle_reached = 1;
    t->last_fetch = time_now();

    if (o.http_code >= 200 && o.http_code < 300) {
        prc = job_parse(p->cfg->profile, r->body.data ? r->body.data : "", r->body.len, &rec, err,
                        sizeof(err));
        if (prc == JOB_PARSE_OK && rec.job_id[0] && strcmp(rec.job_id, t->id) != 0) {
            snprintf(err, sizeof(err), "answer is for another job (%s)", rec.job_id);
            prc = JOB_PARSE_INVALID;
        }
        if (prc != JOB_PARSE_OK) {
            stats_count_error(&p->stats,
                              prc == JOB_PARSE_TOO_LARGE ? API_ERR_TOO_LARGE : API_ERR_PARSE);
            log_msg(t->failures ? LOGL_DEBUG : LOGL_WARN, "job %s: unusable answer: %s", t->id,
                    err);
            job_failed(p, t, now);
            return;
        }
        job_answered(p, t, &rec, t->last_fetch);
        return;
    }

    describe_error(r, err, sizeof(err));
    switch (o.http_code) {
    case 404:
        if (t->status != JOB_UNKNOWN || !t->failures)
            log_warn("job %s: not found (404): %s", t->id, err);
        t->status = JOB_UNKNOWN;
        job_failed(p, t, now);
        return;
    case 429: {
        long secs = o.retry_after >= 0 ? o.retry_after : API_RETRY_AFTER_DEFAULT;
        uint64_t until;
        if (secs < PAUSE_MIN_S)
            secs = PAUSE_MIN_S; /* else a server (or clock skew) saying "now" gets hammered */
        until = now + (uint64_t)secs * 1000;
        if (until > p->pause_until)
            p->pause_until = until;
        set_due(p, t, p->pause_until); /* nothing lost: asked again after the pause */
        log_warn("job %s: throttled (429): pausing all requests for %lds", t->id, secs);
        return;
    }
    case 401:
    case 403:
        /* both mean the API refuses us, which api_up must say; 401 is also an auth failure */
        if (o.http_code == 401)
            p->stats.auth_failures++;
        p->cycle_unauthorised = 1;
        log_msg(t->failures ? LOGL_DEBUG : LOGL_ERROR, "job %s: %s (%ld): %s", t->id,
                o.http_code == 401 ? "unauthorised" : "forbidden", o.http_code, err);
        job_failed(p, t, now);
        return;
    default:
        log_msg(t->failures ? LOGL_DEBUG : LOGL_WARN, "job %s: HTTP %ld: %s", t->id, o.http_code,
                err);
        job_failed(p, t, now);
        return;
    }
}

/* ---- the job list --------------------------------------------------------- */

static int tracked_cmp(const void *a, const void *b)
{
    return strcmp((*(struct tracked *const *)a)->id, (*(struct tracked *const *)b)->id);
}

/*
 * Replace the job table by ids[0..n): listed jobs keep their state, new ones
 * are due at once. Only between cycles with nothing in flight, so no request
 * or cycle refers to a table index. Returns 0 or -ENOMEM (table unchanged).
 */
static int jobs_replace(struct poller *p, char **ids, size_t n)
{
    struct tracked *nj = calloc(n ? n : 1, sizeof(*nj)), **sorted = NULL, key, *kp = &key, **hit;
    struct expfmt_job *nv = calloc(n ? n : 1, sizeof(*nv));
    size_t i, kept = 0;

    if (p->n_jobs)
        sorted = malloc(p->n_jobs * sizeof(*sorted));
    if (!nj || !nv || (p->n_jobs && !sorted)) {
        free(nj);
        free(nv);
        free(sorted);
        return -ENOMEM;
    }
    for (i = 0; i < p->n_jobs; i++)
        sorted[i] = &p->jobs[i];
    if (p->n_jobs)
        qsort(sorted, p->n_jobs, sizeof(*sorted), tracked_cmp);
    for (i = 0; i < n; i++) {
        snprintf(key.id, sizeof(key.id), "%s", ids[i]);
        hit = p->n_jobs ? bsearch(&kp, sorted, p->n_jobs, sizeof(*sorted), tracked_cmp) : NULL;
        if (hit) {
            nj[i] = **hit;
            kept++;
        } else {
            memcpy(nj[i].id, key.id, sizeof(key.id));
            nj[i].status = JOB_UNKNOWN; /* next_due 0: polled at once */
        }
    }
    log_info("jobs file loaded: %zu jobs (%zu new, %zu dropped)", n, n - kept, p->n_jobs - kept);
    free(sorted);
    free(p->jobs);
    free(p->views);
    p->jobs = nj;
    p->views = nv;
    p->n_jobs = n;
    p->earliest_due = 0; /* rescan: the new jobs are due */
    p->dirty = 1;
    return 0;
}

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

/* Between cycles: re-read --jobs.file when asked to or when it changed. */
static void jobs_file_maybe_reload(struct poller *p)
{
    int asked = atomic_exchange(&p->reload, 0), changed;
    char err[512], **ids = NULL;
    size_t n = 0;
    int rc;

    if (!asked && !p->check_jobs)
        return;
    p->check_jobs = 0;
    changed = jobs_file_changed(p);
    if (!asked && !changed)
        return;
    rc = config_reload_jobs(p->cfg, &ids, &n, err, sizeof(err));
    if (rc == 0 && (rc = jobs_replace(p, ids, n)) != 0)
        snprintf(err, sizeof(err), "out of memory");
    if (rc != 0)
        log_error("--jobs.file: %s; keeping the %zu jobs tracked", err, p->n_jobs);
    config_free_jobs(ids, n);
    p->stats.jobs_reload_ok = rc == 0;
    if (rc == 0)
        p->stats.jobs_reload_success_ts = time_now();
    p->dirty = 1;
}

/* ---- scheduling --------------------------------------------------------- */

static void cycle_begin(struct poller *p, uint64_t now)
{
    size_t i;

    p->cycle_active = 1;
    p->cycle_start = now;
    p->cycle_cursor = 0;
    p->cycle_left = 0;
    p->cycle_requests = p->cycle_reached = p->cycle_unauthorised = 0;
    for (i = 0; i < p->n_jobs; i++) {
        struct tracked *t = &p->jobs[i];
        if (t->finished)
            continue;
        t->in_cycle = 1;
        p->cycle_left++;
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
    p->check_jobs = p->cfg->jobs_file != NULL;
    publish(p);
}

/* While requests are paused, hand the cycle's unstarted jobs to the retry schedule. */
static void cycle_defer(struct poller *p)
{
    size_t i;

    for (i = p->cycle_cursor; i < p->n_jobs; i++) {
        struct tracked *t = &p->jobs[i];
        if (t->in_cycle && !t->in_flight) {
            t->in_cycle = 0;
            p->cycle_left--;
            set_due(p, t, p->pause_until);
        }
    }
    p->cycle_cursor = p->n_jobs;
}

/* Start the request for job i on an idle slot. */
static void start(struct poller *p, size_t i, uint64_t now)
{
    struct tracked *t = &p->jobs[i];
    struct api_request *r = p->idle[--p->n_idle];
    int rc;

    rc = api_request_prepare(r, &p->client, t->id, i);
    if (rc == 0 && curl_multi_add_handle(p->multi, r->easy) != CURLM_OK)
        rc = -ENOMEM;
    if (rc != 0) {
        p->idle[p->n_idle++] = r;
        stats_count_error(&p->stats, API_ERR_OTHER);
        log_error("job %s: cannot start a request: %s", t->id, strerror(-rc));
        if (t->in_cycle) {
            t->in_cycle = 0;
            p->cycle_left--;
        }
        job_failed(p, t, now);
        return;
    }
    t->in_flight = 1;
    if (t->in_cycle)
        p->cycle_requests++;
}

/*
 * The next job to poll: first the running cycle's members in table order, then
 * unfinished jobs whose retry (or first poll) is due. SIZE_MAX if none.
 * Rate limiting (--poll.max-rate) will gate this single choke point.
 */
static size_t next_job(struct poller *p, uint64_t now)
{
    size_t i;
    uint64_t earliest = DUE_NEVER;

    if (p->cycle_active)
        for (; p->cycle_cursor < p->n_jobs; p->cycle_cursor++) {
            struct tracked *t = &p->jobs[p->cycle_cursor];
            if (t->in_cycle && !t->in_flight)
                return p->cycle_cursor++;
        }
    if (now < p->earliest_due)
        return SIZE_MAX;
    for (i = 0; i < p->n_jobs; i++) {
        struct tracked *t = &p->jobs[i];
        if (t->finished || t->in_flight || t->in_cycle)
            continue;
        if (t->next_due <= now) {
            p->earliest_due = 0; /* more may be due: rescan next time */
            return i;
        }
        if (t->next_due < earliest)
            earliest = t->next_due;
    }
    p->earliest_due = earliest;
    return SIZE_MAX;
}

static void start_due(struct poller *p, uint64_t now)
{
    size_t i;

    if (now < p->pause_until) {
        if (p->cycle_active)
            cycle_defer(p);
        return;
    }
    while (p->n_idle > 0 && (i = next_job(p, now)) != SIZE_MAX)
        start(p, i, now);
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

/* The poll loop; with once set, returns after the first cycle. */
static void run(struct poller *p, int once)
{
    CURLMsg *msg;
    int running, left;
    uint64_t now;

    while (!atomic_load(&p->stop)) {
        now = time_mono_ms();
        if (!p->cycle_active && now >= p->next_cycle)
            cycle_begin(p, now);
        start_due(p, now);
        if (p->cycle_active && p->cycle_left == 0) {
            cycle_end(p, now);
            if (once)
                return;
        }
        if (!p->cycle_active && p->n_idle == p->n_slots && p->cfg->jobs_file) {
            jobs_file_maybe_reload(p); /* the one moment no index is in use */
            start_due(p, now);         /* new jobs are polled at once */
        }
        /* retries between cycles landed: publish, but not more than once a second */
        if (!p->cycle_active && p->dirty && p->n_idle == p->n_slots &&
            time_mono_ms() - p->last_publish >= PUBLISH_GAP_MS)
            publish(p);
        /* rendering may have taken a while: measure the wait from now */
        curl_multi_poll(p->multi, NULL, 0, wait_ms(p, time_mono_ms()), NULL);
        curl_multi_perform(p->multi, &running);
        now = time_mono_ms();
        while ((msg = curl_multi_info_read(p->multi, &left)) != NULL) {
            struct api_request *r;
            char *priv = NULL; /* CURLINFO_PRIVATE hands back a char * */
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            r = (struct api_request *)(void *)priv;
            CURLcode rc = msg->data.result;
            curl_multi_remove_handle(p->multi, r->easy);
            complete(p, r, rc, now);
            p->idle[p->n_idle++] = r;
        }
    }
}

static void *thread_main(void *arg)
{
    run(arg, 0);
    return NULL;
}

/* ---- life cycle --------------------------------------------------------- */

struct poller *poller_new(const struct config *cfg, struct auth *auth, struct snapshot_store *store,
                          const struct build_info *build)
{
    struct poller *p = calloc(1, sizeof(*p));
    size_t i, n = cfg->n_jobs;
    unsigned k;

    if (!p)
        return NULL;
    p->cfg = cfg;
    p->store = store;
    p->build = *build;
    atomic_init(&p->stop, 0);
    p->rng = (unsigned)time_mono_ms() ^ (unsigned)getpid();
    snprintf(p->user_agent, sizeof(p->user_agent), "elb_job_exporter/%s", ELB_VERSION);
    p->client = (struct api_client){
        .endpoint = cfg->endpoint,
        .project_id = cfg->project_id,
        .profile = cfg->profile,
        .auth = auth,
        .timeout_ms = cfg->poll_timeout_ms,
        .user_agent = p->user_agent,
    };
    p->n_jobs = n;
    p->jobs = calloc(n ? n : 1, sizeof(*p->jobs));
    p->views = calloc(n ? n : 1, sizeof(*p->views));
    p->n_slots = cfg->poll_concurrency ? cfg->poll_concurrency : 1;
    p->slots = calloc(p->n_slots, sizeof(*p->slots));
    p->idle = calloc(p->n_slots, sizeof(*p->idle));
    p->multi = curl_multi_init();
    if (!p->jobs || !p->views || !p->slots || !p->idle || !p->multi)
        goto fail;
    for (i = 0; i < n; i++) {
        snprintf(p->jobs[i].id, sizeof(p->jobs[i].id), "%s", cfg->jobs[i]);
        p->jobs[i].status = JOB_UNKNOWN;
    }
    for (k = 0; k < p->n_slots; k++) {
        if (api_request_init(&p->slots[k], &p->client) != 0)
            goto fail;
        p->idle[p->n_idle++] = &p->slots[k];
    }
    /* keep one connection per slot alive between cycles */
    curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)p->n_slots);
    curl_multi_setopt(p->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)p->n_slots);
    if (cfg->jobs_file) {
        p->stats.jobs_file = 1;
        p->stats.jobs_reload_ok = 1; /* config_parse loaded it, or we would not be here */
        p->stats.jobs_reload_success_ts = time_now();
        jobs_file_changed(p); /* remember how it looked when loaded */
    }
    atomic_init(&p->reload, 0);
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
    p->thread_started = 1;
    return 0;
}

void poller_request_reload(struct poller *p)
{
    atomic_store(&p->reload, 1);
    curl_multi_wakeup(p->multi);
}

void poller_stop(struct poller *p)
{
    if (!p || !p->thread_started)
        return;
    atomic_store(&p->stop, 1);
    curl_multi_wakeup(p->multi);
    pthread_join(p->thread, NULL);
    p->thread_started = 0;
}

int poller_run_once(struct poller *p)
{
    run(p, 1);
    return p->stats.api_up;
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
    if (p->multi)
        curl_multi_cleanup(p->multi);
    free(p->slots);
    free(p->idle);
    free(p->jobs);
    free(p->views);
    free(p);
}
