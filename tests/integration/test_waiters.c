/*
 * waiters: GET /api/v1/jobs/{id}?wait= against the real binary.
 *
 * 1000 concurrent waiters from one address (libcurl multi, one connection
 * each) wait for a job that the simulator (wall-clock mode) finishes at a
 * known time; every one must be answered SUCCESS within one poll interval of
 * the finish, none before it, while the job is polled once per interval as
 * if nobody waited. Prints the latency figures and the memory the waiters
 * took. Then the caps: under a low RLIMIT_NOFILE the exporter takes fewer
 * waiters, refuses the rest with 503 and a JSON error, and a shutdown answers
 * every waiter 503 at once and exits cleanly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <curl/curl.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#define N_WAITERS 1000
#define INTERVAL_S 1.0                  /* --poll.interval */
#define STEP_MS (3000u * IT_TIME_SCALE) /* the simulator's step: J_PROG_OK ends at 3 steps */
#define FINISH_STEPS 3
#define SLACK_S (0.25 * IT_TIME_SCALE) /* answering 1000 after the publish */
#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define WAIT_TIMEOUT_S (20.0 * IT_TIME_SCALE)
#define BODY_MAX 4096
#define PRLIMIT "/usr/bin/prlimit"
#define LOW_NOFILE 700 /* leaves 700 - 512 - 64 = 124 waiters */
#define LOW_CAP 124
#define N_OVER 130

struct waiter {
    CURL *e;
    char body[BODY_MAX];
    size_t len;
    long code;
    double done; /* h_mono() when the answer was complete; 0 while waiting */
};

struct pump {
    struct waiter *w;
    size_t n;
    double give_up; /* h_mono() */
    atomic_size_t finished;
    int failed; /* a curl call failed */
};

static size_t keep(char *p, size_t size, size_t n, void *ctx)
{
    struct waiter *w = ctx;
    size_t k = size * n;

    if (w->len + k < BODY_MAX) {
        memcpy(w->body + w->len, p, k);
        w->len += k;
        w->body[w->len] = '\0';
    }
    return k;
}

/* The pump thread: every waiter's transfer, until all are done or it gives up. */
static void *pump_main(void *arg)
{
    struct pump *p = arg;
    CURLM *m = curl_multi_init();
    size_t i, left = p->n;
    int running, msgs;
    CURLMsg *msg;

    if (!m) {
        p->failed = 1;
        return NULL;
    }
    for (i = 0; i < p->n; i++)
        if (curl_multi_add_handle(m, p->w[i].e) != CURLM_OK)
            p->failed = 1;
    while (left > 0 && h_mono() < p->give_up) {
        if (curl_multi_perform(m, &running) != CURLM_OK ||
            curl_multi_poll(m, NULL, 0, 50, NULL) != CURLM_OK) {
            p->failed = 1;
            break;
        }
        while ((msg = curl_multi_info_read(m, &msgs)) != NULL) {
            struct waiter *w;
            char *priv = NULL; /* CURLINFO_PRIVATE hands back a char * */
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            w = (struct waiter *)(void *)priv;
            w->done = h_mono();
            if (msg->data.result == CURLE_OK)
                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &w->code);
            curl_multi_remove_handle(m, msg->easy_handle);
            left--;
            atomic_fetch_add(&p->finished, 1);
        }
    }
    for (i = 0; i < p->n; i++)
        if (!p->w[i].done)
            curl_multi_remove_handle(m, p->w[i].e);
    curl_multi_cleanup(m);
    return NULL;
}

/* n waiters on url; the caller starts the pump. */
static struct waiter *waiters(size_t n, const char *url, double timeout_s)
{
    struct waiter *w = calloc(n, sizeof(*w));
    size_t i;

    assert_non_null(w);
    for (i = 0; i < n; i++) {
        w[i].e = curl_easy_init();
        assert_non_null(w[i].e);
        curl_easy_setopt(w[i].e, CURLOPT_URL, url);
        curl_easy_setopt(w[i].e, CURLOPT_PROXY, "");
        curl_easy_setopt(w[i].e, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(w[i].e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(w[i].e, CURLOPT_TIMEOUT_MS, (long)(timeout_s * 1000));
        curl_easy_setopt(w[i].e, CURLOPT_WRITEFUNCTION, keep);
        curl_easy_setopt(w[i].e, CURLOPT_WRITEDATA, &w[i]);
        curl_easy_setopt(w[i].e, CURLOPT_PRIVATE, (char *)&w[i]);
        curl_easy_setopt(w[i].e, CURLOPT_FORBID_REUSE, 1L);
    }
    return w;
}

static void waiters_free(struct waiter *w, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        curl_easy_cleanup(w[i].e);
    free(w);
}

/* The test holds a socket per waiter: the soft descriptor limit up to the hard one. */
static void raise_nofile(size_t need)
{
    struct rlimit rl;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need + 64) {
        rl.rlim_cur = rl.rlim_max;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need + 64)
        fail_msg("RLIMIT_NOFILE hard limit %llu is too low for %zu waiters",
                 (unsigned long long)rl.rlim_max, need);
}

/* VmRSS of pid in KiB, 0 if unknown. */
static long rss_kib(pid_t pid)
{
    char path[64], *text, *at;
    size_t len;
    long kib = 0;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    text = h_read_file(path, &len);
    if (text && (at = strstr(text, "VmRSS:")) != NULL)
        kib = strtol(at + 6, NULL, 10);
    free(text);
    return kib;
}

struct want {
    const char *base, *name, *labels;
    double value;
};

static int metric_is(void *ctx)
{
    const struct want *w = ctx;
    char url[H_URL_MAX];
    double v;

    snprintf(url, sizeof(url), "%s/metrics", w->base);
    return h_scrape_value(url, w->name, w->labels, &v) == 0 && v == w->value;
}

struct job_seen {
    const char *url;
};

/* The job is in the API with a status other than UNKNOWN (it has been polled). */
static int job_polled(void *ctx)
{
    const struct job_seen *j = ctx;
    struct h_resp r;
    int ok;

    if (h_get(j->url, &r) != 0) {
        h_resp_free(&r);
        return 0;
    }
    ok = r.code == 200 && !strstr(r.body, "\"status\":\"UNKNOWN\"");
    h_resp_free(&r);
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void test_thousand_waiters(void **state)
{
    char dir[H_PATH_MAX], sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX], step[32];
    const char *flags[] = {"--web.enable-admin-api", "--poll.interval=1s", "--poll.timeout=2s",
                           NULL};
    struct h_proc sim, exp;
    struct h_resp r;
    struct pump p;
    struct waiter *w;
    pthread_t th;
    double t_sent, t_finish, lat[N_WAITERS], max_lat;
    long rss_before, rss_during;
    unsigned long long polls;
    uint16_t port;
    size_t i;

    (void)state;
    raise_nofile(N_WAITERS);
    assert_int_equal(h_test_dir("waiters", dir, sizeof(dir)), 0);
    h_fmt(step, sizeof(step), "--step-ms=%u", STEP_MS);
    {
        const char *argv[] = {SIM_PATH,
                              "--listen-address=127.0.0.1:0",
                              "--token=" H_SIM_TOKEN,
                              "--project-id=" H_SIM_PROJECT,
                              step,
                              NULL};
        assert_int_equal(h_spawn(&sim, dir, "sim", argv, NULL), 0);
        assert_int_equal(
            h_wait_listening(&sim, 0, START_TIMEOUT_S, sim_base, sizeof(sim_base), &port), 0);
    }
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, flags, NULL, START_TIMEOUT_S,
                                      base, sizeof(base)),
                     0);

    /* the pipeline's part: hand the job over, then wait on the exporter */
    h_fmt(url, sizeof(url), "%s/api/v1/jobs", base);
    {
        static const char *const json[] = {"Content-Type: application/json", NULL};
        assert_int_equal(h_http("POST", url, "{\"job_id\":\"" J_PROG_OK "\"}", json, &r), 0);
        assert_int_equal(r.code, 201);
        h_resp_free(&r);
    }
    h_fmt(url, sizeof(url), "%s/api/v1/jobs/" J_PROG_OK, base);
    {
        struct job_seen j = {url};
        assert_int_equal(h_wait_for(WAIT_TIMEOUT_S, job_polled, &j), 0);
    }
    rss_before = rss_kib(exp.pid);

    /* the job's clock starts now: SUCCESS from FINISH_STEPS steps on, not a moment earlier */
    h_fmt(url, sizeof(url), "%s/_sim/reset", sim_base);
    t_sent = h_mono();
    assert_int_equal(h_post(url, &r), 0);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    t_finish = t_sent + FINISH_STEPS * STEP_MS / 1000.0;

    h_fmt(url, sizeof(url), "%s/api/v1/jobs/" J_PROG_OK "?wait=2m", base);
    w = waiters(N_WAITERS, url, FINISH_STEPS * STEP_MS / 1000.0 + 60);
    p = (struct pump){.w = w, .n = N_WAITERS, .give_up = t_finish + 30 * IT_TIME_SCALE};
    atomic_init(&p.finished, 0);
    assert_int_equal(pthread_create(&th, NULL, pump_main, &p), 0);

    /* all of them hold a suspended request before the job finishes */
    {
        struct want all = {base, "elb_job_exporter_http_waiting_requests", "", N_WAITERS};
        double left = t_finish - h_mono() - 0.2;
        if (left <= 0 || h_wait_for(left, metric_is, &all) != 0) {
            pthread_join(th, NULL);
            fail_msg("not all %d waiters were waiting before the job finished (%zu answered)",
                     N_WAITERS, atomic_load(&p.finished));
        }
    }
    rss_during = rss_kib(exp.pid);
    assert_int_equal(atomic_load(&p.finished), 0);
    pthread_join(th, NULL);
    assert_false(p.failed);

    for (i = 0, max_lat = 0; i < N_WAITERS; i++) {
        if (w[i].code != 200 || !strstr(w[i].body, "\"status\":\"SUCCESS\"") ||
            !strstr(w[i].body, "\"finished\":true"))
            fail_msg("waiter %zu: %ld %s", i, w[i].code, w[i].body);
        if (w[i].done < t_finish)
            fail_msg("waiter %zu answered %.3f s before the job could finish", i,
                     t_finish - w[i].done);
        lat[i] = w[i].done - t_finish;
        if (lat[i] > max_lat)
            max_lat = lat[i];
    }
    qsort(lat, N_WAITERS, sizeof(lat[0]), cmp_double);
    printf("waiters: %d answered SUCCESS from one address; after the job finished: first %.0f ms, "
           "median %.0f ms, max %.0f ms (poll interval %.0f ms); exporter RSS %ld KiB before, "
           "%ld KiB with all waiting (%.1f KiB per waiter)\n",
           N_WAITERS, lat[0] * 1000, lat[N_WAITERS / 2] * 1000, max_lat * 1000, INTERVAL_S * 1000,
           rss_before, rss_during, (double)(rss_during - rss_before) / N_WAITERS);
    if (max_lat > INTERVAL_S + SLACK_S)
        fail_msg("a waiter was answered %.0f ms after the job finished, more than one poll "
                 "interval (%.0f ms)",
                 max_lat * 1000, INTERVAL_S * 1000);

    /* a thousand waiters cost no polls: about one per interval since the reset */
    assert_int_equal(h_sim_requests(sim_base, J_PROG_OK, &polls), 0);
    if ((double)polls > (h_mono() - t_sent) / INTERVAL_S + 2)
        fail_msg("%llu polls of the job in %.1f s", polls, h_mono() - t_sent);
    /* and none of the burst was refused at accept */
    H_WAIT_METRIC(base, "elb_job_exporter_http_connections_refused_total",
                  "reason=\"per_ip_limit\"", 0, WAIT_TIMEOUT_S);
    H_WAIT_METRIC(base, "elb_job_exporter_http_waiting_requests", "", 0, WAIT_TIMEOUT_S);
    waiters_free(w, N_WAITERS);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* Under RLIMIT_NOFILE 700 there is room for 124 waiters; the rest get 503; SIGTERM answers all. */
static void test_waiter_cap_and_shutdown(void **state)
{
    char dir[H_PATH_MAX], sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX];
    const char *flags[] = {"--poll.interval=1s", "--job=" J_INIT, NULL};
    const char *wrap[] = {PRLIMIT, "--nofile=700:700", NULL};
    struct h_proc sim, exp;
    struct waiter *w;
    struct pump p;
    pthread_t th;
    size_t i, refused = 0, early = 0;
    double stopped;
    char *log;
    size_t len;

    (void)state;
    if (access(PRLIMIT, X_OK) != 0)
        fail_msg(PRLIMIT " is missing (Debian package util-linux)");
    raise_nofile(N_OVER);
    assert_int_equal(h_test_dir("waiters_cap", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, flags, wrap, START_TIMEOUT_S,
                                      base, sizeof(base)),
                     0);
    H_WAIT_METRIC(base, "elb_job_status",
                  "job_id=\"" J_INIT "\",job_type=\"createELB\",status=\"INIT\"", 1,
                  WAIT_TIMEOUT_S);
    h_fmt(url, sizeof(url), "%s/api/v1/jobs/" J_INIT "?wait=1m", base);
    w = waiters(N_OVER, url, 90);
    p = (struct pump){.w = w, .n = N_OVER, .give_up = h_mono() + 60 * IT_TIME_SCALE};
    atomic_init(&p.finished, 0);
    assert_int_equal(pthread_create(&th, NULL, pump_main, &p), 0);
    H_WAIT_METRIC(base, "elb_job_exporter_http_waiting_requests", "", LOW_CAP, WAIT_TIMEOUT_S);
    H_WAIT_METRIC(base, "elb_job_exporter_http_waits_refused_total", "", N_OVER - LOW_CAP,
                  WAIT_TIMEOUT_S);

    /* shutdown: every waiter is answered at once, and the exporter exits 0 */
    stopped = h_mono();
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    pthread_join(th, NULL);
    assert_false(p.failed);
    for (i = 0; i < N_OVER; i++) {
        if (w[i].code != 503)
            fail_msg("waiter %zu: %ld %s", i, w[i].code, w[i].body);
        if (strcmp(w[i].body, "{\"error\":\"the exporter already holds 124 waiting requests "
                              "(its most); try again in a moment\"}\n") == 0) {
            refused++;
            early += w[i].done < stopped;
        } else if (strcmp(w[i].body, "{\"error\":\"the exporter is shutting down; try again in a "
                                     "moment\"}\n") != 0 ||
                   w[i].done < stopped) {
            fail_msg("waiter %zu: %s", i, w[i].body);
        }
    }
    assert_int_equal(refused, N_OVER - LOW_CAP);
    assert_int_equal(early, refused);
    log = h_read_file(exp.err_path, &len);
    assert_non_null(log);
    if (!strstr(log, "at most 124 waiting requests instead of 4096"))
        fail_msg("no RLIMIT_NOFILE warning in the log:\n%s", log);
    free(log);
    waiters_free(w, N_OVER);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_thousand_waiters, h_teardown),
        cmocka_unit_test_teardown(test_waiter_cap_and_shutdown, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
