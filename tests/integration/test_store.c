/*
 * --storage.path end to end: a job that finished is kept in the store, and
 * after kill -9 and a restart it shows finished at once and is never asked
 * for again (the simulator's request counter proves it), nor counted again; a
 * torn tail left in the log is cut, counted and logged at start; a second
 * exporter on the same directory is refused with a clear line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "harness.h"

#define SEED_SUCCESS "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\""
#define NOTES_RUNNING "job_id=\"" J_NOTES "\",job_type=\"deleteELB\",status=\"RUNNING\""

struct env {
    char dir[H_PATH_MAX], db[H_PATH_MAX], log[H_PATH_MAX], arg[H_PATH_MAX + 32];
    char sim_base[H_URL_MAX];
    struct h_proc sim;
};

static void env_init(struct env *e, const char *name)
{
    assert_int_equal(h_test_dir(name, e->dir, sizeof(e->dir)), 0);
    h_fmt(e->db, sizeof(e->db), "%s/db/nested", e->dir); /* created by the exporter */
    h_fmt(e->log, sizeof(e->log), "%s/store.log", e->db);
    h_fmt(e->arg, sizeof(e->arg), "--storage.path=%s", e->db);
    assert_int_equal(h_start_sim(&e->sim, e->dir, 3000, e->sim_base, sizeof(e->sim_base)), 0);
}

static void start(struct env *e, struct h_proc *p, const char *name, char *base, size_t cap)
{
    const char *flags[] = {
        e->arg, "--job=" J_SEED, "--job=" J_NOTES, "--poll.interval=1s", "--poll.timeout=2s", NULL};

    assert_int_equal(h_start_exporter(p, e->dir, name, e->sim_base, flags, NULL,
                                      10.0 * IT_TIME_SCALE, base, cap),
                     0);
}

static unsigned long long requests_for(const struct env *e, const char *id)
{
    unsigned long long n = 0;

    assert_int_equal(h_sim_requests(e->sim_base, id, &n), 0);
    return n;
}

static double value_now(const char *base, const char *name, const char *labels)
{
    char url[H_URL_MAX];
    double v = -1;

    h_fmt(url, sizeof(url), "%s/metrics", base);
    if (h_scrape_value(url, name, labels, &v) != 0)
        return -1;
    return v;
}

static off_t size_of(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

/* A finished job survives kill -9: back finished at once, never polled again, not counted again. */
static void finished_job_not_polled_after_kill9(void **state)
{
    char base[H_URL_MAX], url[H_URL_MAX];
    unsigned long long seed_before, notes_before;
    struct h_proc exp1, exp2;
    struct h_expo e;
    struct env env;
    struct stat sb;

    (void)state;
    env_init(&env, "store_kill9");
    start(&env, &exp1, "exporter1", base, sizeof(base));
    H_WAIT_METRIC(base, "elb_job_status", SEED_SUCCESS, 1, 15.0 * IT_TIME_SCALE);
    H_WAIT_METRIC(base, "elb_jobs_finished_total", "job_type=\"createELB\"", 1,
                  5.0 * IT_TIME_SCALE);
    /* the finished record is on disk (written and fsynced) once the store counts the job */
    H_WAIT_METRIC(base, "elb_job_exporter_store_jobs", "", 1, 10.0 * IT_TIME_SCALE);
    assert_int_equal(stat(env.db, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(h_proc_stop(&exp1, SIGKILL, 5.0, NULL), 0);
    seed_before = requests_for(&env, J_SEED);
    assert_int_equal(seed_before, 1);
    notes_before = requests_for(&env, J_NOTES);

    start(&env, &exp2, "exporter2", base, sizeof(base));
    h_fmt(url, sizeof(url), "%s/metrics", base);
    /* before any cycle: the finished job is already there, finished */
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_status", SEED_SUCCESS, 1);
    H_EXPECT(&e, "elb_job_exporter_store_jobs", "", 1);
    H_EXPECT(&e, "elb_job_exporter_store_records_corrupt_total", "", 0);
    h_expo_free(&e);
    /* a few cycles later the running job was asked again and again, the finished one never */
    H_WAIT_METRIC_GE(base, "elb_job_exporter_poll_cycles_total", "", 3, 15.0 * IT_TIME_SCALE);
    assert_true(requests_for(&env, J_NOTES) >= notes_before + 2);
    assert_int_equal(requests_for(&env, J_SEED), seed_before);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_status", SEED_SUCCESS, 1);
    H_EXPECT(&e, "elb_job_status", NOTES_RUNNING, 1);
    /* counted by the process that saw it finish, not again by this one */
    H_EXPECT_ABSENT(&e, "elb_jobs_finished_total", "job_type=\"createELB\"");
    h_expo_free(&e);
    H_STOP_CLEAN(&exp2, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&env.sim, 5.0 * IT_TIME_SCALE);
}

/* A torn record at the end of the log is cut, counted and logged; nothing before it is lost. */
static void torn_tail_is_cut_and_counted(void **state)
{
    static const char torn[] = "\xe5\x01\x40\x00\x12"; /* a record header, cut short */
    char base[H_URL_MAX];
    struct h_proc exp1, exp2;
    struct env env;
    off_t good;
    char *err;
    FILE *f;

    (void)state;
    env_init(&env, "store_torn");
    start(&env, &exp1, "exporter1", base, sizeof(base));
    H_WAIT_METRIC(base, "elb_job_exporter_store_jobs", "", 1, 15.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&exp1, 5.0 * IT_TIME_SCALE);
    good = size_of(env.log);
    f = fopen(env.log, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(torn, 1, sizeof(torn) - 1, f), sizeof(torn) - 1);
    assert_int_equal(fclose(f), 0);

    start(&env, &exp2, "exporter2", base, sizeof(base));
    assert_true(value_now(base, "elb_job_exporter_store_records_corrupt_total", "") == 1);
    assert_true(value_now(base, "elb_job_exporter_store_bytes_cut_total", "") == 5);
    assert_true(value_now(base, "elb_job_status", SEED_SUCCESS) == 1);
    assert_int_equal(size_of(env.log), good);
    err = h_read_file(exp2.err_path, NULL);
    assert_non_null(err);
    if (!strstr(err, "torn record") || !strstr(err, "cut off 5 bytes"))
        fail_msg("no log line about the cut:\n%s", err);
    free(err);
    assert_int_equal(requests_for(&env, J_SEED), 1);
    H_STOP_CLEAN(&exp2, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&env.sim, 5.0 * IT_TIME_SCALE);
}

/* Two exporters on one directory: the second is refused with one clear line. */
static void second_exporter_is_refused(void **state)
{
    char base[H_URL_MAX], base2[H_URL_MAX], sb[64];
    struct h_proc exp1, exp2;
    struct env env;
    char *err;
    int rc;

    (void)state;
    env_init(&env, "store_lock");
    start(&env, &exp1, "exporter1", base, sizeof(base));
    {
        const char *flags[] = {env.arg, "--job=" J_SEED, NULL};
        rc = h_start_exporter(&exp2, env.dir, "exporter2", env.sim_base, flags, NULL,
                              10.0 * IT_TIME_SCALE, base2, sizeof(base2));
    }
    assert_int_equal(rc, -ECHILD);
    assert_true(WIFEXITED(exp2.status) && WEXITSTATUS(exp2.status) == 1);
    err = h_read_file(exp2.err_path, NULL);
    assert_non_null(err);
    if (!strstr(err, "is in use by another process"))
        fail_msg("exit %s without the reason:\n%s", h_status_str(exp2.status, sb, sizeof(sb)), err);
    free(err);
    H_STOP_CLEAN(&exp1, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&env.sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(finished_job_not_polled_after_kill9, h_teardown),
        cmocka_unit_test_teardown(torn_tail_is_cut_and_counted, h_teardown),
        cmocka_unit_test_teardown(second_exporter_is_refused, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
