/*
 * registry_crash: kill -9 in the middle of a burst of registrations, over and
 * over (issue 10: "a test kills the exporter in the middle of a burst of
 * registrations, over and over, and checks that every job acknowledged with
 * 2xx is back after the restart").
 *
 * ROUNDS times: start the exporter on one --storage.path; check that every
 * job acknowledged in an earlier round is tracked again (GET
 * /api/v1/jobs/{id} answers 200 at once: the store is replayed before the
 * server listens) and that the list holds no job that was never posted; check
 * that the jobs seen finished before an earlier kill come back finished and
 * are never asked of the simulator again (its /_sim/requests counter stays
 * where it was at the kill, over several poll cycles). Then register one more
 * job that finishes at its first poll and wait for it to be finished, make its
 * finished record durable (store.h: it goes with the next fsync, which the
 * next acknowledged registration waits for), start BURST_THREADS threads
 * POSTing distinct jobs as fast as they are answered, and kill -9 the
 * exporter once KILL_AFTER(round) of them have been acknowledged, while the
 * threads are still posting. A final start checks the last round.
 *
 * The jobs are the simulator's synthetic ones ("b0" and 30 hex digits: 80 %
 * SUCCESS at the first poll, the rest RUNNING, INIT or FAIL), so the exporter
 * polls real answers for all of them. Loopback only; every wait has a
 * deadline; the threads stop by themselves when the exporter is gone, and
 * the harness stops every process when a check fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"
#include "json.h"

#define ROUNDS 5
#define BURST_THREADS 4
#define POSTS_PER_THREAD 100 /* the most one thread posts in a round: the kill comes first */
#define KILL_AFTER(round) (8u + 17u * (unsigned)(round)) /* acknowledgements before the kill */
#define MAX_JOBS (ROUNDS * (BURST_THREADS * POSTS_PER_THREAD + 2))
#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define WAIT_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define JSON_HDR "Content-Type: application/json"

struct env {
    char dir[H_PATH_MAX], db_arg[H_PATH_MAX + 32];
    char sim_base[H_URL_MAX], base[H_URL_MAX];
    struct h_proc sim, exp;
};

static struct env ev;

/* Every job acknowledged with 2xx so far, and how many were posted at all. */
static char acked[MAX_JOBS][40];
static size_t n_acked;
static size_t n_posted;

/* The jobs seen finished before a kill, and the simulator's count for each then. */
static char finished_ids[ROUNDS][40];
static unsigned long long finished_polls[ROUNDS];

/* A synthetic job ID of the simulator: "b0" and 30 lowercase hex digits. */
static void job_id(char *out, size_t cap, unsigned round, unsigned thread, unsigned n)
{
    h_fmt(out, cap, "b0%06x%04x%020x", round, thread, n);
}

/* The simulator's status roll of a synthetic ID (FNV-1a, sim.c reply_synthetic): < 80 SUCCESS. */
static unsigned synthetic_roll(const char *id)
{
    uint64_t h = 14695981039346656037u;
    size_t i;

    for (i = 0; id[i]; i++)
        h = (h ^ (unsigned char)id[i]) * 1099511628211u;
    return (unsigned)(h % 100);
}

/* POST /api/v1/jobs {"job_id": id}: the HTTP code, or 0 when there was no answer. */
static long post_job(const char *id)
{
    static const char *const hdrs[] = {JSON_HDR, NULL};
    char url[H_URL_MAX + 16], body[96];
    struct h_resp r;
    long code;

    h_fmt(url, sizeof(url), "%s/api/v1/jobs", ev.base);
    h_fmt(body, sizeof(body), "{\"job_id\":\"%s\"}", id);
    code = h_http("POST", url, body, hdrs, &r) == 0 ? r.code : 0;
    h_resp_free(&r);
    return code;
}

static void ack(const char *id)
{
    assert_true(n_acked < MAX_JOBS);
    h_fmt(acked[n_acked++], sizeof(acked[0]), "%s", id);
}

/* ---- the burst ---------------------------------------------------------------- */

/* Acknowledgements of every thread this round; the main thread waits for a number of them. */
struct acks {
    pthread_mutex_t mu;
    pthread_cond_t cond; /* CLOCK_MONOTONIC */
    unsigned n, want;
};

struct burst {
    unsigned round, thread;
    struct acks *acks;
    char ids[POSTS_PER_THREAD][40];
    unsigned n_posted; /* requests sent */
    unsigned n_acked;  /* the first n_acked of ids were answered 2xx */
    long refusal;      /* a non-2xx answer (the test fails on it), 0: none */
    int cut;           /* ended by a request without an answer: the exporter was gone */
};

static void *burst_main(void *arg)
{
    struct burst *b = arg;
    unsigned i;

    for (i = 0; i < POSTS_PER_THREAD; i++) {
        long code;

        job_id(b->ids[b->n_acked], sizeof(b->ids[0]), b->round + 1, b->thread + 1, i);
        b->n_posted++;
        code = post_job(b->ids[b->n_acked]);
        if (code == 0) {
            b->cut = 1;
            break;
        }
        if (code != 200 && code != 201) {
            b->refusal = code;
            break;
        }
        b->n_acked++;
        pthread_mutex_lock(&b->acks->mu);
        if (++b->acks->n == b->acks->want)
            pthread_cond_signal(&b->acks->cond);
        pthread_mutex_unlock(&b->acks->mu);
    }
    return NULL;
}

/* Wait (timeout_s at most) until a->want acknowledgements. 1 if they came. */
static int wait_acks(struct acks *a, double timeout_s)
{
    struct timespec until;
    int ok;

    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)timeout_s;
    pthread_mutex_lock(&a->mu);
    while (a->n < a->want && pthread_cond_timedwait(&a->cond, &a->mu, &until) != ETIMEDOUT)
        ;
    ok = a->n >= a->want;
    pthread_mutex_unlock(&a->mu);
    return ok;
}

/*
 * BURST_THREADS threads register jobs; kill -9 the exporter after `kill_after`
 * acknowledgements, join the threads, and keep what was acknowledged.
 */
static void burst_and_kill(unsigned round, unsigned kill_after)
{
    static struct burst b[BURST_THREADS];
    pthread_t th[BURST_THREADS];
    struct acks acks = {.want = kill_after};
    pthread_condattr_t ca;
    unsigned t, i, cut = 0, got = 0, started = 0;
    long refusal = 0;
    int reached, stopped;

    assert_int_equal(pthread_mutex_init(&acks.mu, NULL), 0);
    assert_int_equal(pthread_condattr_init(&ca), 0);
    assert_int_equal(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC), 0);
    assert_int_equal(pthread_cond_init(&acks.cond, &ca), 0);
    pthread_condattr_destroy(&ca);
    for (t = 0; t < BURST_THREADS; t++) {
        memset(&b[t], 0, sizeof(b[t]));
        b[t].round = round;
        b[t].thread = t;
        b[t].acks = &acks;
        if (pthread_create(&th[t], NULL, burst_main, &b[t]) != 0)
            break;
        started++;
    }
    reached = started == BURST_THREADS && wait_acks(&acks, WAIT_TIMEOUT_S);
    /* kill -9 whatever happened: the threads end when their requests find nobody */
    stopped = h_proc_stop(&ev.exp, SIGKILL, 10.0 * IT_TIME_SCALE, NULL);
    for (t = 0; t < started; t++)
        pthread_join(th[t], NULL);
    pthread_cond_destroy(&acks.cond);
    pthread_mutex_destroy(&acks.mu);
    assert_int_equal(started, BURST_THREADS);
    assert_int_equal(stopped, 0);
    assert_true(WIFSIGNALED(ev.exp.status) && WTERMSIG(ev.exp.status) == SIGKILL);
    for (t = 0; t < started; t++) {
        for (i = 0; i < b[t].n_acked; i++)
            ack(b[t].ids[i]);
        n_posted += b[t].n_posted;
        got += b[t].n_acked;
        cut += (unsigned)b[t].cut;
        if (b[t].refusal)
            refusal = b[t].refusal;
    }
    if (refusal)
        fail_msg("round %u: a registration was answered %ld", round, refusal);
    if (!reached)
        fail_msg("round %u: %u registrations acknowledged in %.0f s, wanted %u before the kill",
                 round, got, WAIT_TIMEOUT_S, kill_after);
    /* in the middle of the burst: the kill cut threads that were still posting */
    if (cut == 0)
        fail_msg("round %u: every thread had ended before the kill", round);
    print_message("round %u: killed after %u acknowledged registrations (%u threads cut)\n", round,
                  got, cut);
}

/* ---- the checks after a restart -------------------------------------------------- */

static void start_exporter(unsigned round)
{
    const char *flags[] = {ev.db_arg, "--web.enable-admin-api", "--poll.interval=1s",
                           "--poll.timeout=2s", NULL};
    char name[32];

    h_fmt(name, sizeof(name), "exporter%u", round);
    memset(&ev.exp, 0, sizeof(ev.exp));
    assert_int_equal(h_start_exporter(&ev.exp, ev.dir, name, ev.sim_base, flags, NULL,
                                      START_TIMEOUT_S, ev.base, sizeof(ev.base)),
                     0);
}

/* An answer and its body parsed (the document refers to the body). */
struct got {
    struct h_resp r;
    struct json_doc *d;
};

/* GET path into g, its body parsed; release with got_free. */
static void get_json(const char *path, struct got *g)
{
    char url[H_URL_MAX + 128];

    g->d = NULL;
    h_fmt(url, sizeof(url), "%s%s", ev.base, path);
    if (h_get(url, &g->r) != 0)
        fail_msg("GET %s: no answer (curl %d)", path, g->r.curl_rc);
    if (json_parse(g->r.body, g->r.len, &g->d) != 0)
        fail_msg("GET %s: %ld, not JSON: %s", path, g->r.code, g->r.body);
}

static void got_free(struct got *g)
{
    json_free(g->d);
    h_resp_free(&g->r);
}

static int is_true(const struct json_doc *d, const char *key)
{
    int v = json_get(d, 0, key);

    return v >= 0 && json_type(d, v) == JSON_TRUE;
}

/* Every acknowledged job is tracked again, at once; the list has no job never posted. */
static void check_all_back(unsigned round)
{
    char path[128];
    double total = -1;
    struct got g;
    long code;
    size_t i;

    for (i = 0; i < n_acked; i++) {
        h_fmt(path, sizeof(path), "/api/v1/jobs/%s", acked[i]);
        get_json(path, &g);
        code = g.r.code;
        got_free(&g);
        if (code != 200)
            fail_msg("start %u: job %s was acknowledged before a kill and is not back (%ld)", round,
                     acked[i], code);
    }
    get_json("/api/v1/jobs?limit=1", &g);
    code = g.r.code;
    if (json_number(g.d, json_get(g.d, 0, "total"), &total) != 0)
        total = -1;
    got_free(&g);
    assert_int_equal(code, 200);
    if (total < (double)n_acked || total > (double)n_posted)
        fail_msg("start %u: %.0f jobs tracked, %zu acknowledged, %zu posted", round, total, n_acked,
                 n_posted);
    print_message("start %u: all %zu acknowledged registrations back (%.0f tracked of %zu "
                  "posted)\n",
                  round, n_acked, total, n_posted);
}

/* The jobs seen finished before the kills: finished at once, and never polled again. */
static void check_finished_not_polled(unsigned round)
{
    unsigned long long now;
    char path[128];
    struct got g;
    int finished;
    long code;
    unsigned k;

    for (k = 0; k < round; k++) {
        h_fmt(path, sizeof(path), "/api/v1/jobs/%s", finished_ids[k]);
        get_json(path, &g);
        code = g.r.code;
        finished = is_true(g.d, "finished");
        got_free(&g);
        assert_int_equal(code, 200);
        if (!finished)
            fail_msg("start %u: job %s finished before kill %u and is not finished now", round,
                     finished_ids[k], k);
    }
    if (round == 0)
        return;
    /* a few poll cycles of this process: the running jobs are asked, the finished ones not */
    H_WAIT_METRIC_GE(ev.base, "elb_job_exporter_poll_cycles_total", "", 3, WAIT_TIMEOUT_S);
    for (k = 0; k < round; k++) {
        assert_int_equal(h_sim_requests(ev.sim_base, finished_ids[k], &now), 0);
        if (now != finished_polls[k])
            fail_msg("start %u: job %s, finished before kill %u, was polled again (%llu "
                     "requests, %llu at the kill)",
                     round, finished_ids[k], k, now, finished_polls[k]);
    }
}

struct finished_wait {
    const char *id;
};

/* Wait condition: GET /api/v1/jobs/{id}?wait=5s says finished. */
static int job_finished(void *ctx)
{
    const struct finished_wait *w = ctx;
    char url[H_URL_MAX + 128];
    struct h_resp r;
    int ok;

    h_fmt(url, sizeof(url), "%s/api/v1/jobs/%s?wait=5s", ev.base, w->id);
    ok = h_get(url, &r) == 0 && r.code == 200 && strstr(r.body, "\"finished\":true") != NULL;
    h_resp_free(&r);
    return ok;
}

/*
 * A job that finishes at its first poll, seen finished, its finished record
 * made durable by one more acknowledged registration (the same fsync batch or
 * a later one carries it).
 */
static void one_finished_job(unsigned round)
{
    struct finished_wait w = {finished_ids[round]};
    char sentinel[40];
    unsigned n = 0;
    long code;

    do
        job_id(finished_ids[round], sizeof(finished_ids[0]), round + 1, 0xf00, n++);
    while (synthetic_roll(finished_ids[round]) >= 80); /* SUCCESS */
    code = post_job(finished_ids[round]);
    if (code != 201)
        fail_msg("round %u: registering %s: %ld", round, finished_ids[round], code);
    ack(finished_ids[round]);
    n_posted++;
    assert_int_equal(h_wait_for(WAIT_TIMEOUT_S, job_finished, &w), 0);
    job_id(sentinel, sizeof(sentinel), round + 1, 0xf01, 0);
    code = post_job(sentinel);
    if (code != 201)
        fail_msg("round %u: registering %s: %ld", round, sentinel, code);
    ack(sentinel);
    n_posted++;
}

static void kill9_in_bursts(void **state)
{
    unsigned round, k;

    (void)state;
    memset(&ev, 0, sizeof(ev));
    n_acked = n_posted = 0;
    assert_int_equal(h_test_dir("registry_crash", ev.dir, sizeof(ev.dir)), 0);
    h_fmt(ev.db_arg, sizeof(ev.db_arg), "--storage.path=%s/store", ev.dir);
    assert_int_equal(h_start_sim(&ev.sim, ev.dir, 3000, ev.sim_base, sizeof(ev.sim_base)), 0);

    for (round = 0; round <= ROUNDS; round++) {
        start_exporter(round);
        check_all_back(round);
        check_finished_not_polled(round);
        if (round == ROUNDS)
            break;
        one_finished_job(round);
        burst_and_kill(round, KILL_AFTER(round));
        /* what the simulator had answered for the finished jobs when the exporter died */
        for (k = 0; k <= round; k++) {
            unsigned long long n = 0;
            assert_int_equal(h_sim_requests(ev.sim_base, finished_ids[k], &n), 0);
            if (k == round)
                finished_polls[k] = n;
            else
                assert_true(n == finished_polls[k]);
        }
        assert_true(finished_polls[round] >= 1);
    }
    print_message("%u kill -9 rounds: %zu registrations acknowledged, all back after every "
                  "restart; %zu posted\n",
                  ROUNDS, n_acked, n_posted);
    H_STOP_CLEAN(&ev.exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&ev.sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(kill9_in_bursts, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
