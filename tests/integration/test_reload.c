/*
 * --jobs.file is re-read while the exporter runs: by itself when the file
 * changes, and on SIGHUP. Jobs still listed keep their state (a finished one
 * is not asked for again), new ones are polled at once, dropped ones lose their
 * series, and a broken file changes nothing but the reload metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

#define RELOAD_OK "elb_job_exporter_jobs_file_last_reload_successful"

struct want {
    const char *base;   /* exporter base URL */
    const char *name;   /* sample name */
    const char *labels; /* exact label set */
    double value;
};

/* Wait condition: base's /metrics has name{labels} == value. */
static int has_value(void *ctx)
{
    const struct want *w = ctx;
    char url[H_URL_MAX];
    double v;

    snprintf(url, sizeof(url), "%s/metrics", w->base);
    return h_scrape_value(url, w->name, w->labels, &v) == 0 && v == w->value;
}

static void wait_value(const char *base, const char *name, const char *labels, double value)
{
    struct want w = {base, name, labels, value};

    if (h_wait_for(15.0 * IT_TIME_SCALE, has_value, &w) != 0)
        fail_msg("timed out waiting for %s{%s} == %g", name, labels, value);
}

/* Replace path atomically (write a sibling, rename), as editors and config tools do. */
static void replace_file(const char *path, const char *text)
{
    char tmp[H_PATH_MAX];

    h_fmt(tmp, sizeof(tmp), "%s.new", path);
    assert_int_equal(h_write_file(tmp, text, strlen(text)), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void test_reload(void **state)
{
    char dir[H_PATH_MAX], path[H_PATH_MAX], arg[H_PATH_MAX + 16], sim_base[H_URL_MAX],
        base[H_URL_MAX], url[H_URL_MAX];
    const char *flags[] = {arg, "--poll.interval=1s", "--poll.timeout=2s", NULL};
    unsigned long long n;
    struct h_proc sim, exp;
    struct h_expo e;

    (void)state;
    assert_int_equal(h_test_dir("reload", dir, sizeof(dir)), 0);
    h_fmt(path, sizeof(path), "%s/jobs.txt", dir);
    h_fmt(arg, sizeof(arg), "--jobs.file=%s", path);
    assert_int_equal(h_write_file(path, J_SEED "\n", strlen(J_SEED "\n")), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, flags, NULL,
                                      10.0 * IT_TIME_SCALE, base, sizeof(base)),
                     0);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    wait_value(base, "elb_job_status",
               "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    wait_value(base, RELOAD_OK, "", 1);

    /* 1. the file changes: no signal needed */
    replace_file(path, "# now two\n" J_SEED "\n" J_NOTES "\n");
    wait_value(base, "elb_job_status",
               "job_id=\"" J_NOTES "\",job_type=\"deleteELB\",status=\"RUNNING\"", 1);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_exporter_tracked_jobs", "", 2);
    /* the finished job kept its state and was not asked for again */
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    H_EXPECT(&e, "elb_jobs_finished_total", "job_type=\"createELB\"", 1);
    H_EXPECT(&e, RELOAD_OK, "", 1);
    h_expo_free(&e);
    assert_int_equal(h_sim_requests(sim_base, J_SEED, &n), 0);
    assert_int_equal(n, 1);

    /* 2. a broken file, then SIGHUP: nothing changes but the reload metric */
    replace_file(path, J_SEED "\nnot a job id\n");
    assert_int_equal(kill(exp.pid, SIGHUP), 0);
    wait_value(base, RELOAD_OK, "", 0);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_exporter_tracked_jobs", "", 2);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_NOTES "\",job_type=\"deleteELB\",status=\"RUNNING\"", 1);
    h_expo_free(&e);

    /* 3. fixed and SIGHUP: the dropped job's series go, the kept one stays */
    replace_file(path, J_NOTES "\n");
    assert_int_equal(kill(exp.pid, SIGHUP), 0);
    wait_value(base, RELOAD_OK, "", 1);
    wait_value(base, "elb_job_exporter_tracked_jobs", "", 1);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT_ABSENT(&e, "elb_job_status", "job_id=\"" J_SEED "\"");
    H_EXPECT_ABSENT(&e, "elb_job_info", "job_id=\"" J_SEED "\"");
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_NOTES "\",job_type=\"deleteELB\",status=\"RUNNING\"", 1);
    /* counters count jobs seen, not jobs tracked: dropping one does not undo it */
    H_EXPECT(&e, "elb_jobs_finished_total", "job_type=\"createELB\"", 1);
    h_expo_free(&e);

    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_reload, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
