/*
 * Regressions of the core review (issue 6): each case failed on 0.1.0's binary.
 *
 * - api_up recovers when a timed-out job's retry finishes it, although no
 *   cycle sends a request any more;
 * - a finished job that leaves the jobs file and comes back (an editor that
 *   truncates and rewrites) is neither counted nor polled again;
 * - a reload takes effect within seconds while every request is slow;
 * - --once waits out a 429's Retry-After instead of printing UNKNOWN, exits 1
 *   when the pause outlasts its budget, and says plainly when it has no jobs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define WAIT_S (15.0 * IT_TIME_SCALE)
#define ONCE_EXIT_S (30.0 * IT_TIME_SCALE)
#define FINISHED "elb_jobs_finished_total"
#define TRACKED "elb_job_exporter_tracked_jobs"

static char dir[H_PATH_MAX];

/* 1. api_up describes the latest answers: a retry that lands after a failed cycle raises it. */
static void test_api_up_recovers_after_retry(void **state)
{
    const char *flags[] = {"--job=" J_SEED, "--poll.interval=2s", "--poll.timeout=500ms", NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX];
    struct h_proc sim, exp;

    (void)state;
    assert_int_equal(h_test_dir("trouble_api_up", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    /* every answer takes 3 s: the first poll times out */
    assert_int_equal(h_sim_fault(sim_base, "timeout"), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, flags, NULL,
                                      10.0 * IT_TIME_SCALE, base, sizeof(base)),
                     0);
    H_WAIT_METRIC_GE(base, "elb_job_exporter_api_request_errors_total", "reason=\"timeout\"", 1,
                     WAIT_S);
    H_WAIT_METRIC(base, "elb_job_exporter_api_up", "", 0, WAIT_S);
    /* the API is back: the retry finishes the job, and nothing is left to poll */
    assert_int_equal(h_sim_fault(sim_base, "none"), 0);
    H_WAIT_METRIC(base, "elb_job_status",
                  "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_exporter_api_up", "", 1, WAIT_S);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* Rewrite path in place (truncate, then write), as many editors do. */
static void rewrite_in_place(const char *path, const char *text)
{
    assert_int_equal(h_write_file(path, text, strlen(text)), 0);
}

/* 2. Once per job holds across a job leaving the jobs file and coming back. */
static void test_returning_job_counted_once(void **state)
{
    char path[H_PATH_MAX], arg[H_PATH_MAX + 16], sim_base[H_URL_MAX], base[H_URL_MAX],
        url[H_URL_MAX];
    const char *flags[] = {arg, "--poll.interval=1s", NULL};
    unsigned long long n = 0;
    struct h_proc sim, exp;
    struct h_expo e;

    (void)state;
    assert_int_equal(h_test_dir("trouble_return", dir, sizeof(dir)), 0);
    h_fmt(path, sizeof(path), "%s/jobs.txt", dir);
    h_fmt(arg, sizeof(arg), "--jobs.file=%s", path);
    rewrite_in_place(path, J_SEED "\n" J_FAIL "\n" J_NOTES "\n");
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, flags, NULL,
                                      10.0 * IT_TIME_SCALE, base, sizeof(base)),
                     0);
    H_WAIT_METRIC(base, FINISHED, "job_type=\"createELB\"", 2, WAIT_S);
    /* the finished jobs leave... */
    rewrite_in_place(path, J_NOTES "\n");
    H_WAIT_METRIC(base, TRACKED, "", 1, WAIT_S);
    /* ...and come back */
    rewrite_in_place(path, J_SEED "\n" J_FAIL "\n" J_NOTES "\n");
    H_WAIT_METRIC(base, TRACKED, "", 3, WAIT_S);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(h_scrape(url, &e), 0);
    /* back with their state, counted once, not asked for again */
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    H_EXPECT(&e, "elb_job_error_info",
             "job_id=\"" J_FAIL "\",job_type=\"createELB\",error_code=\"ELB.1003\","
             "fail_reason=\"Quota exceeded: \\\"elb\\\" limit 10\\nsee \xc3\xbc"
             "ber-docs \xf0\x9f\x9a\x80 \\\\ done\"",
             1);
    H_EXPECT(&e, FINISHED, "job_type=\"createELB\"", 2);
    H_EXPECT(&e, "elb_jobs_failed_total", "job_type=\"createELB\",error_code=\"ELB.1003\"", 1);
    h_expo_free(&e);
    assert_int_equal(h_sim_requests(sim_base, J_SEED, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(h_sim_requests(sim_base, J_FAIL, &n), 0);
    assert_int_equal(n, 1);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* 3. SIGHUP takes effect within seconds while every request takes longer than the interval. */
static void test_reload_while_api_slow(void **state)
{
    char path[H_PATH_MAX], arg[H_PATH_MAX + 16], sim_base[H_URL_MAX], base[H_URL_MAX];
    const char *flags[] = {arg, "--poll.interval=1s", "--poll.timeout=10s", "--poll.concurrency=1",
                           NULL};
    struct h_proc sim, exp;
    double t0;

    (void)state;
    assert_int_equal(h_test_dir("trouble_reload_slow", dir, sizeof(dir)), 0);
    h_fmt(path, sizeof(path), "%s/jobs.txt", dir);
    h_fmt(arg, sizeof(arg), "--jobs.file=%s", path);
    rewrite_in_place(path, J_NOTES "\n" J_INIT "\n" J_SUBS "\n");
    assert_int_equal(h_start_sim(&sim, dir, 2000, sim_base, sizeof(sim_base)), 0);
    /* every answer takes 2 s (then 504): one request is always in flight */
    assert_int_equal(h_sim_fault(sim_base, "timeout"), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, flags, NULL,
                                      10.0 * IT_TIME_SCALE, base, sizeof(base)),
                     0);
    H_WAIT_METRIC_GE(base, "elb_job_exporter_api_requests_total", "code=\"504\"", 2, WAIT_S);
    rewrite_in_place(path, J_NOTES "\n" J_INIT "\n" J_SUBS "\n" J_DEL "\n" J_MOD "\n");
    t0 = h_mono();
    assert_int_equal(kill(exp.pid, SIGHUP), 0);
    /* a few seconds, not "when the API is idle", which is never */
    H_WAIT_METRIC(base, TRACKED, "", 5, 5.0 * IT_TIME_SCALE);
    print_message("reload took effect after %.2f s with a request in flight\n", h_mono() - t0);
    /* the new jobs are asked for although the cycle has not ended */
    assert_int_equal(h_sim_fault(sim_base, "none"), 0);
    H_WAIT_METRIC(base, "elb_job_status",
                  "job_id=\"" J_DEL "\",job_type=\"deleteELB\",status=\"SUCCESS\"", 1, WAIT_S);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* Run --once with args against sim_base (NULL: no endpoint flags); returns the wait status. */
static int run_once(const char *name, const char *sim_base, const char *const *args,
                    struct h_proc *p)
{
    static const char *const env[] = {"OS_AUTH_TOKEN=" H_SIM_TOKEN, NULL};
    const struct h_spawn_opts o = {.env_add = env};
    char endpoint[H_URL_MAX + 32];
    const char *argv[16];
    size_t n = 0;

    argv[n++] = EXPORTER_PATH;
    argv[n++] = "--once";
    if (sim_base) {
        h_fmt(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
        argv[n++] = endpoint;
        argv[n++] = "--elb.project-id=" H_SIM_PROJECT;
    }
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    assert_int_equal(h_spawn(p, dir, name, argv, &o), 0);
    if (h_proc_wait(p, ONCE_EXIT_S, NULL) != 0) {
        h_proc_stop(p, SIGKILL, 1, NULL);
        h_dump_logs(p);
        fail_msg("%s: still running after %.0f s", name, ONCE_EXIT_S);
    }
    return p->status;
}

/* The exit code, and the stderr text (malloc'd) in *err. */
static int exit_code(const struct h_proc *p, char **err)
{
    *err = h_read_file(p->err_path, NULL);
    assert_non_null(*err);
    return WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;
}

/* 4. A throttled job is asked again after Retry-After: --once prints its real state. */
static void test_once_waits_out_429(void **state)
{
    const char *args[] = {"--job=" J_F429, "--job=" J_SEED, NULL};
    char sim_base[H_URL_MAX], err[256], *text, *out;
    struct h_proc sim, p;
    struct h_expo e;
    size_t ol = 0;
    int code;

    (void)state;
    assert_int_equal(h_test_dir("trouble_once_429", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    run_once("once", sim_base, args, &p);
    code = exit_code(&p, &text);
    if (code != 0)
        fail_msg("--once: exit %d, want 0; stderr: %s", code, text);
    free(text);
    out = h_read_file(p.out_path, &ol);
    assert_non_null(out);
    if (h_expo_parse(out, ol, &e, err, sizeof(err)) != 0)
        fail_msg("--once output does not parse: %s", err);
    free(out);
    /* 429 with Retry-After: 1, then SUCCESS: never UNKNOWN */
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_F429 "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    H_EXPECT(&e, "elb_job_fetch_success", "job_id=\"" J_F429 "\",job_type=\"createELB\"", 1);
    H_EXPECT(&e, "elb_job_exporter_api_requests_total", "code=\"429\"", 1);
    H_EXPECT(&e, "elb_jobs", "status=\"UNKNOWN\"", 0);
    h_expo_free(&e);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* 5. Throttled past the run's budget (--poll.interval): exit 1, and say why. */
static void test_once_throttled_exits_1(void **state)
{
    const char *args[] = {"--job=" J_SEED, "--poll.interval=2s", NULL};
    char sim_base[H_URL_MAX], *text;
    struct h_proc sim, p;
    double t0;
    int code;

    (void)state;
    assert_int_equal(h_test_dir("trouble_once_throttled", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_sim_fault(sim_base, "429"), 0);
    t0 = h_mono();
    run_once("once", sim_base, args, &p);
    code = exit_code(&p, &text);
    if (code != 1 || !strstr(text, "1 of 1 jobs got no answer (throttled"))
        fail_msg("--once: exit %d, want 1 and a plain reason; stderr: %s", code, text);
    free(text);
    /* bounded by the interval (plus a request), not by a minute of Retry-After */
    assert_true(h_mono() - t0 < 10.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* 6. --once with no jobs says so, instead of blaming the API. */
static void test_once_no_jobs(void **state)
{
    const char *args[] = {"--elb.endpoint=http://127.0.0.1:9", "--elb.project-id=p", NULL};
    struct h_proc p;
    char *text;
    int code;

    (void)state;
    assert_int_equal(h_test_dir("trouble_once_nojobs", dir, sizeof(dir)), 0);
    run_once("once", NULL, args, &p);
    code = exit_code(&p, &text);
    if (code != 1 || !strstr(text, "no jobs to poll") || strstr(text, "not reached"))
        fail_msg("--once without jobs: exit %d; stderr: %s", code, text);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_api_up_recovers_after_retry, h_teardown),
        cmocka_unit_test_teardown(test_returning_job_counted_once, h_teardown),
        cmocka_unit_test_teardown(test_reload_while_api_slow, h_teardown),
        cmocka_unit_test_teardown(test_once_waits_out_429, h_teardown),
        cmocka_unit_test_teardown(test_once_throttled_exits_1, h_teardown),
        cmocka_unit_test_teardown(test_once_no_jobs, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
