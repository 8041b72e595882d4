/*
 * promtool: `promtool check metrics` finds nothing to complain about in what
 * the exporter serves (the full scenario: every job state, error labels with
 * quotes, newlines and UTF-8) and in what --once prints.
 */
#include <errno.h>
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
#define PROMTOOL_TIMEOUT_S 30.0

static char dir[H_PATH_MAX];
static char metrics_url[H_URL_MAX];

/* Run promtool check metrics on file; require exit 0 and no output at all. */
static void promtool_check(const char *file, const char *name)
{
    static const char *const argv[] = {PROMTOOL, "check", "metrics", NULL};
    const struct h_spawn_opts o = {.stdin_path = file};
    struct h_proc p;
    char *out, *err, sb[64];
    size_t ol = 0, el = 0;

    assert_int_equal(h_spawn(&p, dir, name, argv, &o), 0);
    if (h_proc_wait(&p, PROMTOOL_TIMEOUT_S, NULL) != 0)
        fail_msg("promtool did not finish");
    out = h_read_file(p.out_path, &ol);
    err = h_read_file(p.err_path, &el);
    assert_non_null(out);
    assert_non_null(err);
    if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0 || ol != 0 || el != 0)
        fail_msg("promtool check metrics on %s: %s\nstdout:\n%s\nstderr:\n%s", file,
                 h_status_str(p.status, sb, sizeof(sb)), out, err);
    free(out);
    free(err);
}

/* The scenario has settled: progressing jobs are terminal (error labels present). */
static int cond_settled(void *ctx)
{
    struct h_expo e;
    const struct h_sample *a, *b;
    int ok;

    (void)ctx;
    if (h_scrape(metrics_url, &e) != 0)
        return 0;
    a = h_expo_find(&e, "elb_job_status", "job_id=\"" J_PROG_FAIL "\",status=\"FAIL\"", 1, NULL);
    b = h_expo_find(&e, "elb_job_status", "job_id=\"" J_F429 "\",status=\"SUCCESS\"", 1, NULL);
    ok = a && a->value == 1 && b && b->value == 1;
    h_expo_free(&e);
    return ok;
}

static void test_promtool_scrape(void **state)
{
    const char *args[H_MAX_ARGS] = {"--poll.interval=1s", "--poll.timeout=1s"};
    size_t n = 2;
    struct h_proc sim, exp;
    char sim_base[H_URL_MAX], exp_base[H_URL_MAX], file[H_PATH_MAX];
    struct h_resp r;
    struct h_expo e;
    char err[256];

    (void)state;
    assert_int_equal(h_test_dir("promtool_scrape", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_add_scenario_jobs(args, &n, H_MAX_ARGS), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, args, NULL, START_TIMEOUT_S,
                                      exp_base, sizeof(exp_base)),
                     0);
    h_fmt(metrics_url, sizeof(metrics_url), "%s/metrics", exp_base);
    if (h_wait_for(WAIT_TIMEOUT_S, cond_settled, NULL) != 0) {
        h_dump_logs(&exp);
        fail_msg("the scenario did not settle");
    }
    assert_int_equal(h_get(metrics_url, &r), 0);
    assert_int_equal(r.code, 200);
    /* the exposition checked is the full one: it has the escaped error labels */
    if (h_expo_parse(r.body, r.len, &e, err, sizeof(err)) != 0)
        fail_msg("exposition does not parse: %s", err);
    assert_int_equal(h_expo_count(&e, "elb_job_error_info", ""), 2);
    assert_true(h_expo_count(&e, "elb_job_sub_jobs", "") >= 5);
    h_expo_free(&e);
    h_fmt(file, sizeof(file), "%s/metrics.prom", dir);
    assert_int_equal(h_write_file(file, r.body, r.len), 0);
    h_resp_free(&r);
    promtool_check(file, "promtool");
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_promtool_once(void **state)
{
    static const char *const env[] = {"OS_AUTH_TOKEN=" H_SIM_TOKEN, NULL};
    const struct h_spawn_opts o = {.env_add = env};
    const char *argv[H_MAX_ARGS] = {EXPORTER_PATH, "--once", "--poll.timeout=1s",
                                    "--elb.project-id=" H_SIM_PROJECT};
    size_t n = 4;
    char endpoint[H_URL_MAX + 32], sim_base[H_URL_MAX], sb[64];
    struct h_proc sim, once;

    (void)state;
    assert_int_equal(h_test_dir("promtool_once", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    h_fmt(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
    argv[n++] = endpoint;
    assert_int_equal(h_add_scenario_jobs(argv, &n, H_MAX_ARGS), 0);
    assert_int_equal(h_spawn(&once, dir, "once", argv, &o), 0);
    if (h_proc_wait(&once, WAIT_TIMEOUT_S, NULL) != 0)
        fail_msg("--once did not finish");
    if (!WIFEXITED(once.status) || WEXITSTATUS(once.status) != 0) {
        h_dump_logs(&once);
        fail_msg("--once: %s", h_status_str(once.status, sb, sizeof(sb)));
    }
    promtool_check(once.out_path, "promtool");
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_promtool_scrape, h_teardown),
        cmocka_unit_test_teardown(test_promtool_once, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
