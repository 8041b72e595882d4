/*
 * integration_scenario: the real exporter polls every scripted and fault job of
 * the real simulator; the test checks every per-job sample exactly, the error
 * counters, the aggregates, that finished jobs are asked for once only, and how
 * the exporter rides out 500s, 404s and 401s and recovers.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define WAIT_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define LABELS_MAX 1024 /* bytes of a label set built by the test */
#define TS_TOL 1e-6     /* timestamps: float seconds from millisecond text */
#define RUN_TOL                                                                                    \
    1e-5 /* running duration = last_fetch - begin (same clock read), to the microsecond */

/* The decoded fail_reason of J_FAIL (split literals: \xbc and \x80 must not eat what follows). */
#define FAIL_REASON                                                                                \
    "Quota exceeded: \"elb\" limit 10\nsee \xc3\xbc"                                               \
    "ber-docs \xf0\x9f\x9a\x80 \\ done"
/* The same as it must appear in the exposition (label escaping: \\ \" \n). */
#define FAIL_REASON_ESCAPED                                                                        \
    "Quota exceeded: \\\"elb\\\" limit 10\\nsee \xc3\xbc"                                          \
    "ber-docs \xf0\x9f\x9a\x80 \\\\ done"

static const char *const statuses[] = {"INIT", "RUNNING", "SUCCESS", "FAIL", "UNKNOWN", NULL};

/* What one job must look like once the scenario has settled. */
struct want_job {
    const char *id;
    const char *type;                     /* job_type label */
    const char *status;                   /* the status row that is 1 */
    const char *resource;                 /* resource_id of elb_job_info; NULL: no info sample */
    double begin, end;                    /* NAN: absent */
    const char *error_code, *fail_reason; /* NULL: no error_info */
    int sub_jobs; /* 1: J_SUBS's direct sub-jobs (INIT, RUNNING, SUCCESS: 1 each) */
    int fetch_success;
};

#define NONE NAN

static const struct want_job want_jobs[] = {
    {J_SEED, "createELB", "SUCCESS", "ef265755daf84333baf4ddc1d91cbc2f", 1506678577.399,
     1506678603.272, NULL, NULL, 0, 1},
    {J_NOTES, "deleteELB", "RUNNING", "ea3e5715b68850a747ec41f335625c08", 1442459138.756, NONE,
     NULL, NULL, 0, 1},
    {J_INIT, "createELB", "INIT", "", 1506679200.0, NONE, NULL, NULL, 0, 1},
    {J_FAIL, "createELB", "FAIL", "0f7e6b7c1d2e4f5a8b9c0d1e2f3a4b5c", 1506678577.399,
     1506678580.001, "ELB.1003", FAIL_REASON, 0, 1},
    {J_SUBS, "batchCreateMembers", "RUNNING", "", 1506682800.0, NONE, NULL, NULL, 1, 1},
    {J_DEL, "deleteELB", "SUCCESS", "5d3f1c2b4a6e4f708192a3b4c5d6e7f8", 1506686400.0, 1506686407.25,
     NULL, NULL, 0, 1},
    {J_MOD, "modifyELB", "SUCCESS", "", 1506688200.5, 1506688201.0, NULL, NULL, 0, 1},
    {J_NULLEND, "createELB", "RUNNING", "6a", 1506690000.0, NONE, NULL, NULL, 0, 1},
    {J_QUEUED, "createELB", "UNKNOWN", "", 1506693600.0, NONE, NULL, NULL, 0, 1},
    {J_PROG_OK, "createELB", "SUCCESS", "8b", 1795867200.0, 1795867242.5, NULL, NULL, 0, 1},
    {J_PROG_FAIL, "deleteELB", "FAIL", "9c", 1795867200.0, 1795867221.0, "ELB.2001", "backend busy",
     0, 1},
    {J_F429, "createELB", "SUCCESS", "4290", 1506697200.0, 1506697201.0, NULL, NULL, 0, 1},
    /* never a valid answer: no record, job_type "" */
    {J_F500, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_F503, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_SLOW, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_MALFORMED, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_TRUNCATED, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_CLOSED, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_HUGE, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_NUMSTATUS, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_HTML, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
    {J_MISSING, "", "UNKNOWN", NULL, NONE, NONE, NULL, NULL, 0, 0},
};
#define N_WANT (sizeof(want_jobs) / sizeof(want_jobs[0]))

/* Unfinished jobs that answer 200: polled every cycle, the ones faults hit. */
static const char *const unfinished_ok[] = {J_NOTES, J_INIT, J_SUBS, J_NULLEND, J_QUEUED, NULL};

/* Jobs that finish and how many answers they take (exactly that many requests, ever). */
static const struct {
    const char *id;
    unsigned long long requests;
} finished_requests[] = {
    {J_SEED, 1},
    {J_FAIL, 1},
    {J_DEL, 1},
    {J_MOD, 1},
    {J_PROG_OK, 4} /* INIT, RUNNING, RUNNING, SUCCESS */,
    {J_PROG_FAIL, 3} /* INIT, RUNNING, FAIL */,
    {J_F429, 2} /* 429, then SUCCESS */,
};

struct scenario {
    char dir[H_PATH_MAX];
    struct h_proc sim, exp;
    char sim_base[H_URL_MAX], exp_base[H_URL_MAX];
    char metrics[H_URL_MAX];
    double t_start; /* wall clock before the exporter started */
};

static struct scenario sc;

/* ---- helpers ---- */

static void job_labels(char *out, size_t cap, const struct want_job *w, const char *extra)
{
    h_fmt(out, cap, "job_id=\"%s\",job_type=\"%s\"%s%s", w->id, w->type, extra ? "," : "",
          extra ? extra : "");
}

static const struct want_job *want(const char *id)
{
    for (size_t i = 0; i < N_WANT; i++)
        if (strcmp(want_jobs[i].id, id) == 0)
            return &want_jobs[i];
    fail_msg("no expectation for job %s", id);
    return NULL;
}

/* Scrape /metrics into e and the raw body into *raw (malloc'd). Fails the test otherwise. */
static void scrape_raw(struct h_expo *e, char **raw)
{
    struct h_resp r;
    char err[256];

    assert_int_equal(h_get(sc.metrics, &r), 0);
    assert_int_equal(r.code, 200);
    if (h_expo_parse(r.body, r.len, e, err, sizeof(err)) != 0)
        fail_msg("exposition does not parse: %s", err);
    *raw = r.body;
    r.body = NULL;
    h_resp_free(&r);
}

static void scrape(struct h_expo *e)
{
    char *raw;

    scrape_raw(e, &raw);
    free(raw);
}

static int is_finished(const struct want_job *w)
{
    return strcmp(w->status, "SUCCESS") == 0 || strcmp(w->status, "FAIL") == 0;
}

/* Check the stateset rows of one job: exactly five, status_on is 1, the others 0. */
static void check_status_rows(const struct h_expo *e, const struct want_job *w,
                              const char *status_on)
{
    char l[LABELS_MAX], st[64], sub[LABELS_MAX];

    for (size_t i = 0; statuses[i]; i++) {
        h_fmt(st, sizeof(st), "status=\"%s\"", statuses[i]);
        job_labels(l, sizeof(l), w, st);
        H_EXPECT(e, "elb_job_status", l, strcmp(statuses[i], status_on) == 0 ? 1 : 0);
    }
    h_fmt(sub, sizeof(sub), "job_id=\"%s\"", w->id);
    assert_int_equal(h_expo_count(e, "elb_job_status", sub), 5);
}

/* Check every per-job family of one job against w. */
static void check_job(const struct h_expo *e, const struct want_job *w)
{
    char l[LABELS_MAX], x[LABELS_MAX], only_id[LABELS_MAX];
    double now = h_wall();

    h_fmt(only_id, sizeof(only_id), "job_id=\"%s\"", w->id);
    check_status_rows(e, w, w->status);

    if (w->resource) {
        h_fmt(x, sizeof(x), "resource_id=\"%s\"", w->resource);
        job_labels(l, sizeof(l), w, x);
        H_EXPECT(e, "elb_job_info", l, 1);
        assert_int_equal(h_expo_count(e, "elb_job_info", only_id), 1);
    } else {
        H_EXPECT_ABSENT(e, "elb_job_info", only_id);
    }

    job_labels(l, sizeof(l), w, NULL);
    if (isnan(w->begin))
        H_EXPECT_ABSENT(e, "elb_job_begin_timestamp_seconds", only_id);
    else
        H_EXPECT_TOL(e, "elb_job_begin_timestamp_seconds", l, w->begin, TS_TOL);
    if (isnan(w->end))
        H_EXPECT_ABSENT(e, "elb_job_end_timestamp_seconds", only_id);
    else
        H_EXPECT_TOL(e, "elb_job_end_timestamp_seconds", l, w->end, TS_TOL);

    H_EXPECT(e, "elb_job_fetch_success", l, w->fetch_success);
    if (w->fetch_success) {
        double lf = H_VALUE(e, "elb_job_last_fetch_timestamp_seconds", l);

        if (!(lf >= sc.t_start - 1.0 && lf <= now + 1.0))
            fail_msg("%s: last_fetch %.3f not within [%.3f, %.3f]", w->id, lf, sc.t_start, now);
    }

    if (isnan(w->begin)) {
        H_EXPECT_ABSENT(e, "elb_job_duration_seconds", only_id);
    } else if (is_finished(w)) {
        H_EXPECT_TOL(e, "elb_job_duration_seconds", l, w->end - w->begin, TS_TOL);
    } else {
        /* while running: time of the last (good) answer minus begin, never negative */
        double lf = H_VALUE(e, "elb_job_last_fetch_timestamp_seconds", l);
        double d = lf - w->begin;

        H_EXPECT_TOL(e, "elb_job_duration_seconds", l, d > 0 ? d : 0, RUN_TOL);
    }

    if (w->error_code) {
        size_t n = 0;
        const struct h_sample *s;

        h_fmt(x, sizeof(x), "error_code=\"%s\"", w->error_code);
        job_labels(l, sizeof(l), w, x);
        s = h_expo_find(e, "elb_job_error_info", l, 1, &n);
        if (!s)
            fail_msg("%s: %zu elb_job_error_info samples with error_code %s", w->id, n,
                     w->error_code);
        assert_int_equal(s->n_labels, 4);
        assert_string_equal(h_sample_label(s, "fail_reason"), w->fail_reason);
        assert_true(s->value == 1.0);
    } else {
        H_EXPECT_ABSENT(e, "elb_job_error_info", only_id);
    }

    if (w->sub_jobs) {
        static const struct {
            const char *status;
            double n;
        } sub[] = {{"INIT", 1}, {"RUNNING", 1}, {"SUCCESS", 1}, {"FAIL", 0}, {"UNKNOWN", 0}};

        for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
            h_fmt(x, sizeof(x), "status=\"%s\"", sub[i].status);
            job_labels(l, sizeof(l), w, x);
            H_EXPECT(e, "elb_job_sub_jobs", l, sub[i].n);
        }
        assert_int_equal(h_expo_count(e, "elb_job_sub_jobs", only_id), 5);
    } else {
        H_EXPECT_ABSENT(e, "elb_job_sub_jobs", only_id);
    }
}

/* Every per-job sample carries job_id then job_type first, in that order. */
static void check_label_order(const struct h_expo *e)
{
    for (size_t i = 0; i < e->n; i++) {
        const struct h_sample *s = &e->s[i];

        if (strncmp(s->name, "elb_job_", 8) != 0 || strncmp(s->name, "elb_job_exporter_", 17) == 0)
            continue;
        if (s->n_labels < 2 || strcmp(s->labels[0].name, "job_id") != 0 ||
            strcmp(s->labels[1].name, "job_type") != 0)
            fail_msg("%s: labels do not start with job_id, job_type", s->name);
    }
}

static void check_aggregates(const struct h_expo *e)
{
    /* from want_jobs: SUCCESS 5, FAIL 2, RUNNING 3, INIT 1, UNKNOWN 11 */
    double per[5] = {0};

    for (size_t i = 0; i < N_WANT; i++)
        for (size_t k = 0; statuses[k]; k++)
            if (strcmp(want_jobs[i].status, statuses[k]) == 0)
                per[k]++;
    H_EXPECT(e, "elb_jobs", "status=\"INIT\"", per[0]);
    H_EXPECT(e, "elb_jobs", "status=\"RUNNING\"", per[1]);
    H_EXPECT(e, "elb_jobs", "status=\"SUCCESS\"", per[2]);
    H_EXPECT(e, "elb_jobs", "status=\"FAIL\"", per[3]);
    H_EXPECT(e, "elb_jobs", "status=\"UNKNOWN\"", per[4]);
    assert_true(per[0] == 1 && per[1] == 3 && per[2] == 5 && per[3] == 2 && per[4] == 11);
    assert_int_equal(h_expo_count(e, "elb_jobs", ""), 5);

    H_EXPECT(e, "elb_job_exporter_tracked_jobs", "", (double)N_WANT);
    H_EXPECT(e, "elb_jobs_finished_total", "job_type=\"createELB\"", 4);
    H_EXPECT(e, "elb_jobs_finished_total", "job_type=\"deleteELB\"", 2);
    H_EXPECT(e, "elb_jobs_finished_total", "job_type=\"modifyELB\"", 1);
    assert_int_equal(h_expo_count(e, "elb_jobs_finished_total", ""), 3);
    H_EXPECT(e, "elb_jobs_failed_total", "job_type=\"createELB\",error_code=\"ELB.1003\"", 1);
    H_EXPECT(e, "elb_jobs_failed_total", "job_type=\"deleteELB\",error_code=\"ELB.2001\"", 1);
    assert_int_equal(h_expo_count(e, "elb_jobs_failed_total", ""), 2);
    assert_string_equal(h_expo_type(e, "elb_jobs_finished_total"), "counter");
    assert_string_equal(h_expo_type(e, "elb_jobs_failed_total"), "counter");
    assert_string_equal(h_expo_type(e, "elb_jobs"), "gauge");
    assert_string_equal(h_expo_type(e, "elb_job_status"), "gauge");
}

static void check_exporter_metrics(const struct h_expo *e)
{
    static const char *const reasons[] = {"timeout", "connect",   "tls",   "resolve",
                                          "parse",   "too_large", "other", NULL};
    const struct h_sample *bi;
    double inf_bucket, count, prev = 0;
    size_t n_buckets = 0;

    for (size_t i = 0; reasons[i]; i++) {
        char l[64];

        h_fmt(l, sizeof(l), "reason=\"%s\"", reasons[i]);
        (void)H_VALUE(e, "elb_job_exporter_api_request_errors_total", l); /* all present */
    }
    assert_int_equal(h_expo_count(e, "elb_job_exporter_api_request_errors_total", ""), 7);
    /* malformed, truncated, wrongly typed and HTML bodies */
    assert_true(H_VALUE(e, "elb_job_exporter_api_request_errors_total", "reason=\"parse\"") >= 4);
    assert_true(H_VALUE(e, "elb_job_exporter_api_request_errors_total", "reason=\"too_large\"") >=
                1);
    assert_true(H_VALUE(e, "elb_job_exporter_api_request_errors_total", "reason=\"timeout\"") >= 1);
    H_EXPECT(e, "elb_job_exporter_api_request_errors_total", "reason=\"tls\"", 0);
    H_EXPECT(e, "elb_job_exporter_api_request_errors_total", "reason=\"resolve\"", 0);

    assert_true(H_VALUE(e, "elb_job_exporter_api_requests_total", "code=\"200\"") >= 11);
    assert_true(H_VALUE(e, "elb_job_exporter_api_requests_total", "code=\"500\"") >= 1);
    assert_true(H_VALUE(e, "elb_job_exporter_api_requests_total", "code=\"503\"") >= 1);
    assert_true(H_VALUE(e, "elb_job_exporter_api_requests_total", "code=\"404\"") >= 1);
    assert_true(H_VALUE(e, "elb_job_exporter_api_requests_total", "code=\"429\"") >= 1);
    /* the 429 came once only: the job answered SUCCESS after the pause */
    H_EXPECT(e, "elb_job_exporter_api_requests_total", "code=\"429\"", 1);
    assert_string_equal(h_expo_type(e, "elb_job_exporter_api_requests_total"), "counter");

    H_EXPECT(e, "elb_job_exporter_api_up", "", 1);
    assert_true(H_VALUE(e, "elb_job_exporter_poll_cycles_total", "") >= 1);

    /* histogram: cumulative buckets, +Inf == count */
    assert_string_equal(h_expo_type(e, "elb_job_exporter_api_request_duration_seconds"),
                        "histogram");
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->s[i].name, "elb_job_exporter_api_request_duration_seconds_bucket") != 0)
            continue;
        assert_true(e->s[i].value >= prev);
        prev = e->s[i].value;
        n_buckets++;
    }
    assert_true(n_buckets >= 2);
    inf_bucket = H_VALUE(e, "elb_job_exporter_api_request_duration_seconds_bucket", "le=\"+Inf\"");
    count = H_VALUE(e, "elb_job_exporter_api_request_duration_seconds_count", "");
    assert_true(inf_bucket == count);
    assert_true(inf_bucket == prev);
    assert_true(count >= N_WANT);
    assert_true(H_VALUE(e, "elb_job_exporter_api_request_duration_seconds_sum", "") > 0);

    bi = h_expo_find(e, "elb_job_exporter_build_info", "version=\"" ELB_VERSION "\"", 1, NULL);
    assert_non_null(bi);
    assert_true(bi->value == 1);
    assert_non_null(h_sample_label(bi, "revision"));
    assert_non_null(h_sample_label(bi, "libcurl"));
    assert_non_null(h_sample_label(bi, "libmicrohttpd"));
    assert_true(H_VALUE(e, "process_start_time_seconds", "") <= h_wall());
    assert_true(H_VALUE(e, "process_resident_memory_bytes", "") > 0);
    assert_true(H_VALUE(e, "process_open_fds", "") > 0);
}

/* ---- wait conditions ---- */

static int cond_ready(void *ctx)
{
    struct h_resp r;
    char url[H_URL_MAX];
    int ok;

    (void)ctx;
    h_fmt(url, sizeof(url), "%s/-/ready", sc.exp_base);
    ok = h_get(url, &r) == 0 && r.code == 200;
    h_resp_free(&r);
    return ok;
}

/* Value of the one sample named name that includes labels, NAN if none or several. */
static double sub_value(const struct h_expo *e, const char *name, const char *labels)
{
    const struct h_sample *s = h_expo_find(e, name, labels, 1, NULL);

    return s ? s->value : NAN;
}

/* All three late finishers are terminal in one scrape, and every job has had an answer. */
static int cond_settled(void *ctx)
{
    struct h_expo e;
    int ok;

    (void)ctx;
    if (h_scrape(sc.metrics, &e) != 0)
        return 0;
    ok = sub_value(&e, "elb_job_status", "job_id=\"" J_PROG_OK "\",status=\"SUCCESS\"") == 1 &&
         sub_value(&e, "elb_job_status", "job_id=\"" J_PROG_FAIL "\",status=\"FAIL\"") == 1 &&
         sub_value(&e, "elb_job_status", "job_id=\"" J_F429 "\",status=\"SUCCESS\"") == 1 &&
         sub_value(&e, "elb_job_fetch_success", "job_id=\"" J_QUEUED "\"") == 1 &&
         sub_value(&e, "elb_job_exporter_api_request_errors_total", "reason=\"timeout\"") >= 1;
    h_expo_free(&e);
    return ok;
}

struct cycles_ctx {
    double target;
};

static int cond_cycles(void *ctx)
{
    struct cycles_ctx *c = ctx;
    double v;

    return h_scrape_value(sc.metrics, "elb_job_exporter_poll_cycles_total", "", &v) == 0 &&
           v >= c->target;
}

/* Every job of unfinished_ok has fetch_success == want, and code counts past a floor. */
struct fetch_ctx {
    double want;
    const char *code_labels; /* NULL: no counter condition */
    double code_floor;
    const char *up_want; /* NULL, or "0"/"1" for api_up */
};

static int cond_fetch(void *ctx)
{
    struct fetch_ctx *c = ctx;
    struct h_expo e;
    int ok = 1;

    if (h_scrape(sc.metrics, &e) != 0)
        return 0;
    for (size_t i = 0; ok && unfinished_ok[i]; i++) {
        char l[LABELS_MAX];
        const struct h_sample *s;

        h_fmt(l, sizeof(l), "job_id=\"%s\"", unfinished_ok[i]);
        s = h_expo_find(&e, "elb_job_fetch_success", l, 1, NULL);
        ok = s && s->value == c->want;
    }
    if (ok && c->code_labels) {
        const struct h_sample *s =
            h_expo_find(&e, "elb_job_exporter_api_requests_total", c->code_labels, 0, NULL);

        ok = s && s->value > c->code_floor;
    }
    if (ok && c->up_want) {
        const struct h_sample *s = h_expo_find(&e, "elb_job_exporter_api_up", "", 0, NULL);

        ok = s && s->value == (c->up_want[0] == '1' ? 1 : 0);
    }
    h_expo_free(&e);
    return ok;
}

static void wait_fetch(double want, const char *code_labels, double floor, const char *up)
{
    struct fetch_ctx c = {want, code_labels, floor, up};

    if (h_wait_for(WAIT_TIMEOUT_S, cond_fetch, &c) != 0) {
        h_dump_logs(&sc.exp);
        fail_msg("unfinished jobs did not reach fetch_success %.0f (%s > %.0f, api_up %s)", want,
                 code_labels ? code_labels : "-", floor, up ? up : "-");
    }
}

static void check_finished_requested_once(void)
{
    for (size_t i = 0; i < sizeof(finished_requests) / sizeof(finished_requests[0]); i++) {
        unsigned long long n = 0;

        assert_int_equal(h_sim_requests(sc.sim_base, finished_requests[i].id, &n), 0);
        if (n != finished_requests[i].requests)
            fail_msg("job %s: the simulator saw %llu requests, want exactly %llu",
                     finished_requests[i].id, n, finished_requests[i].requests);
    }
}

/* Unfinished jobs keep their last good state (status, info, begin, sub-jobs); fetch_success f. */
static void check_unfinished_kept(const struct h_expo *e, double f)
{
    for (size_t i = 0; unfinished_ok[i]; i++) {
        const struct want_job *w = want(unfinished_ok[i]);
        char l[LABELS_MAX], x[LABELS_MAX];

        check_status_rows(e, w, w->status);
        h_fmt(x, sizeof(x), "resource_id=\"%s\"", w->resource);
        job_labels(l, sizeof(l), w, x);
        H_EXPECT(e, "elb_job_info", l, 1);
        job_labels(l, sizeof(l), w, NULL);
        H_EXPECT_TOL(e, "elb_job_begin_timestamp_seconds", l, w->begin, TS_TOL);
        H_EXPECT(e, "elb_job_fetch_success", l, f);
        if (w->sub_jobs) {
            job_labels(l, sizeof(l), w, "status=\"SUCCESS\"");
            H_EXPECT(e, "elb_job_sub_jobs", l, 1);
        }
    }
}

/* ---- the test ---- */

static int setup(void **state)
{
    const char *args[H_MAX_ARGS] = {"--poll.interval=1s", "--poll.timeout=1s", "--log.level=debug"};
    size_t n = 3;

    (void)state;
    memset(&sc, 0, sizeof(sc));
    if (h_test_dir("integration_scenario", sc.dir, sizeof(sc.dir)) != 0)
        return -1;
    if (h_start_sim(&sc.sim, sc.dir, 3000, sc.sim_base, sizeof(sc.sim_base)) != 0)
        return -1;
    if (h_add_scenario_jobs(args, &n, H_MAX_ARGS) != 0)
        return -1;
    sc.t_start = h_wall();
    if (h_start_exporter(&sc.exp, sc.dir, "exporter", sc.sim_base, args, NULL, START_TIMEOUT_S,
                         sc.exp_base, sizeof(sc.exp_base)) != 0)
        return -1;
    h_fmt(sc.metrics, sizeof(sc.metrics), "%s/metrics", sc.exp_base);
    return 0;
}

static void test_scenario(void **state)
{
    struct h_expo e;
    char *raw = NULL;
    struct cycles_ctx cyc;
    double c500, c404, c401;

    (void)state;
    if (h_wait_for(WAIT_TIMEOUT_S, cond_ready, NULL) != 0) {
        h_dump_logs(&sc.exp);
        fail_msg("/-/ready never answered 200");
    }
    if (h_wait_for(WAIT_TIMEOUT_S, cond_settled, NULL) != 0) {
        h_dump_logs(&sc.exp);
        fail_msg("the progressing and 429 jobs did not finish");
    }

    /* 1. every per-job sample, exactly */
    scrape_raw(&e, &raw);
    for (size_t i = 0; i < N_WANT; i++)
        check_job(&e, &want_jobs[i]);
    check_label_order(&e);
    /* the escaped label value, byte for byte, in label order */
    if (!strstr(raw, "elb_job_error_info{job_id=\"" J_FAIL "\",job_type=\"createELB\","
                     "error_code=\"ELB.1003\",fail_reason=\"" FAIL_REASON_ESCAPED "\"} 1\n"))
        fail_msg("the FAIL job's error_info line is not rendered as expected");
    check_aggregates(&e);
    check_exporter_metrics(&e);
    cyc.target = H_VALUE(&e, "elb_job_exporter_poll_cycles_total", "") + 3;
    h_expo_free(&e);
    free(raw);

    /* 2. three more cycles: counters stay, finished jobs are not asked again */
    if (h_wait_for(WAIT_TIMEOUT_S, cond_cycles, &cyc) != 0)
        fail_msg("poll_cycles_total did not reach %.0f", cyc.target);
    scrape(&e);
    check_aggregates(&e);
    for (size_t i = 0; i < N_WANT; i++)
        check_job(&e, &want_jobs[i]);
    c500 = H_VALUE(&e, "elb_job_exporter_api_requests_total", "code=\"500\"");
    h_expo_free(&e);
    check_finished_requested_once();

    /* 3. every answer 500: unfinished jobs keep their last good state, fetch_success 0 */
    assert_int_equal(h_sim_fault(sc.sim_base, "500"), 0);
    wait_fetch(0, "code=\"500\"", c500 + 5, NULL);
    scrape(&e);
    check_unfinished_kept(&e, 0);
    check_aggregates(&e);
    c500 = H_VALUE(&e, "elb_job_exporter_api_requests_total", "code=\"500\"");
    h_expo_free(&e);
    wait_fetch(0, "code=\"500\"", c500, NULL); /* and the errors keep growing */

    /* 4. recovery */
    assert_int_equal(h_sim_fault(sc.sim_base, "none"), 0);
    wait_fetch(1, NULL, 0, "1");
    scrape(&e);
    check_unfinished_kept(&e, 1);
    for (size_t i = 0; i < N_WANT; i++)
        check_job(&e, &want_jobs[i]);
    c404 = H_VALUE(&e, "elb_job_exporter_api_requests_total", "code=\"404\"");
    c401 = 0;
    {
        const struct h_sample *s =
            h_expo_find(&e, "elb_job_exporter_api_requests_total", "code=\"401\"", 0, NULL);

        if (s)
            c401 = s->value;
    }
    h_expo_free(&e);

    /* 5. good, then 404: UNKNOWN, fetch_success 0; the timing families go, info stays */
    assert_int_equal(h_sim_fault(sc.sim_base, "404"), 0);
    wait_fetch(0, "code=\"404\"", c404 + 5, NULL);
    scrape(&e);
    for (size_t i = 0; unfinished_ok[i]; i++) {
        const struct want_job *w = want(unfinished_ok[i]);
        char l[LABELS_MAX];

        check_status_rows(&e, w, "UNKNOWN");
        job_labels(l, sizeof(l), w, NULL);
        H_EXPECT(&e, "elb_job_fetch_success", l, 0);
    }
    H_EXPECT(&e, "elb_jobs", "status=\"RUNNING\"", 0);
    H_EXPECT(&e, "elb_jobs", "status=\"INIT\"", 0);
    H_EXPECT(&e, "elb_jobs", "status=\"SUCCESS\"", 5);
    H_EXPECT(&e, "elb_jobs", "status=\"FAIL\"", 2);
    H_EXPECT(&e, "elb_jobs", "status=\"UNKNOWN\"", 15);
    /* finished jobs are not asked, so a 404 cannot touch them */
    check_job(&e, want(J_SEED));
    check_job(&e, want(J_FAIL));
    h_expo_free(&e);

    assert_int_equal(h_sim_fault(sc.sim_base, "none"), 0);
    wait_fetch(1, NULL, 0, "1");
    scrape(&e);
    check_unfinished_kept(&e, 1);
    check_aggregates(&e);
    h_expo_free(&e);

    /* 6. 401: api_up 0 while unauthorised, 1 again after */
    assert_int_equal(h_sim_fault(sc.sim_base, "401"), 0);
    wait_fetch(0, "code=\"401\"", c401, "0");
    scrape(&e);
    check_unfinished_kept(&e, 0);
    h_expo_free(&e);
    assert_int_equal(h_sim_fault(sc.sim_base, "none"), 0);
    wait_fetch(1, NULL, 0, "1");

    /* 7. after all that, finished jobs were still asked exactly once, counted once */
    scrape(&e);
    check_aggregates(&e);
    h_expo_free(&e);
    check_finished_requested_once();

    /* and the exporter still stops cleanly */
    {
        double el = 0;
        char sb[64];

        assert_int_equal(h_proc_stop(&sc.exp, SIGTERM, 2.0 * IT_TIME_SCALE, &el), 0);
        if (!WIFEXITED(sc.exp.status) || WEXITSTATUS(sc.exp.status) != 0) {
            h_dump_logs(&sc.exp);
            fail_msg("exporter ended with %s after SIGTERM",
                     h_status_str(sc.exp.status, sb, sizeof(sb)));
        }
    }
    H_STOP_CLEAN(&sc.sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_scenario, setup, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
