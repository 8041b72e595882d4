/*
 * config_file: --config.file against the real binary.
 *
 * --config.check prints "config OK" and exits 0, or prints every problem
 * (FILE:LINE:COLUMN: key ...) one per line and exits 1, starting nothing; a
 * broken file without it prints every problem and exits 2; a file can carry
 * the whole configuration (endpoint, project, jobs.ids, a token file) and the
 * start-up log says which auth method was chosen and why; SIGHUP re-reads the
 * file, applies log.level and names each changed setting that needs a restart,
 * and keeps the running configuration when the file is broken.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#define EXIT_TIMEOUT_S (10.0 * IT_TIME_SCALE)
#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define LOG_TIMEOUT_S (10.0 * IT_TIME_SCALE)

static char dir[H_PATH_MAX];

/* Run the exporter with args (NULL-terminated), no OS_* variables; wait for its exit. */
static int run_exporter(const char *name, const char *const *args, struct h_proc *p)
{
    const char *argv[16];
    const struct h_spawn_opts o = {0};
    size_t n = 0;

    argv[n++] = EXPORTER_PATH;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    assert_int_equal(h_spawn(p, dir, name, argv, &o), 0);
    if (h_proc_wait(p, EXIT_TIMEOUT_S, NULL) != 0) {
        h_proc_stop(p, SIGKILL, 1, NULL);
        h_dump_logs(p);
        fail_msg("%s: still running after %.0f s", name, EXIT_TIMEOUT_S);
    }
    return p->status;
}

static int exit_code(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count_lines(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_check_and_broken(void **state)
{
    char path[H_PATH_MAX], arg[H_PATH_MAX + 32], line[H_PATH_MAX + 64];
    const char *good_args[] = {"--config.check", arg, NULL};
    const char *bad_args[] = {arg, NULL};
    static const char good[] = "elb: {endpoint: \"https://elb.eu-de.otc.t-systems.com\"}\n"
                               "demo: true\n"
                               "jobs: {ids: [" J_SEED "]}\n";
    static const char broken[] = "poll:\n"
                                 "  interval: 5x\n"
                                 "  colour: blue\n"
                                 "auth: {password: hunter2}\n";
    struct h_proc p;
    char *out, *err;
    int st;

    (void)state;
    assert_int_equal(h_test_dir("config_check", dir, sizeof(dir)), 0);
    h_fmt(path, sizeof(path), "%s/c.yml", dir);
    h_fmt(arg, sizeof(arg), "--config.file=%s", path);

    assert_int_equal(h_write_file(path, good, sizeof(good) - 1), 0);
    st = run_exporter("check_ok", good_args, &p);
    out = h_read_file(p.out_path, NULL);
    assert_non_null(out);
    assert_int_equal(exit_code(st), 0);
    assert_string_equal(out, "config OK\n");
    free(out);

    /* every problem, one line each, exit 1 */
    assert_int_equal(h_write_file(path, broken, sizeof(broken) - 1), 0);
    st = run_exporter("check_bad", good_args, &p);
    err = h_read_file(p.err_path, NULL);
    assert_non_null(err);
    if (exit_code(st) != 1)
        fail_msg("--config.check on a broken file: exit %d, want 1; stderr: %s", exit_code(st),
                 err);
    h_fmt(line, sizeof(line), "elb_job_exporter: %s:2:13: key poll.interval: invalid duration",
          path);
    assert_non_null(strstr(err, line));
    h_fmt(line, sizeof(line), "elb_job_exporter: %s:3:3: key poll.colour: unknown key", path);
    assert_non_null(strstr(err, line));
    h_fmt(line, sizeof(line), "elb_job_exporter: %s:4:8: key auth.password: a secret is not", path);
    assert_non_null(strstr(err, line));
    assert_null(strstr(err, "hunter2"));
    /* and the merged configuration's problems too */
    assert_non_null(strstr(err, "elb_job_exporter: --elb.endpoint or --cloud.region is required"));
    assert_int_equal(count_lines(err), 5);
    free(err);

    /* without --config.check: the file's problems, exit 2, nothing started */
    st = run_exporter("broken", bad_args, &p);
    err = h_read_file(p.err_path, NULL);
    out = h_read_file(p.out_path, NULL);
    assert_non_null(err);
    assert_non_null(out);
    assert_int_equal(exit_code(st), 2);
    assert_int_equal(count_lines(err), 3);
    assert_null(strstr(err, "listening on"));
    assert_string_equal(out, "");
    free(err);
    free(out);
}

struct logwait {
    const struct h_proc *p;
    const char *needle;
    int times;
};

static int log_has(void *ctx)
{
    const struct logwait *w = ctx;
    char *err = h_read_file(w->p->err_path, NULL);
    const char *s = err;
    int n = 0;

    while (s && (s = strstr(s, w->needle)) != NULL) {
        n++;
        s++;
    }
    free(err);
    return n >= w->times;
}

static void wait_log(const struct h_proc *p, const char *needle, int times)
{
    struct logwait w = {p, needle, times};

    if (h_wait_for(LOG_TIMEOUT_S, log_has, &w) != 0) {
        h_dump_logs(p);
        fail_msg("timed out waiting for \"%s\" in the log", needle);
    }
}

static void test_run_and_sighup(void **state)
{
    char path[H_PATH_MAX], tok[H_PATH_MAX], arg[H_PATH_MAX + 32], tokarg[H_PATH_MAX + 32],
        sim_base[H_URL_MAX], base[H_URL_MAX], text[2048], want[H_PATH_MAX + 128];
    const char *flags[] = {arg, tokarg, NULL};
    struct h_proc sim, exp;

    (void)state;
    assert_int_equal(h_test_dir("config_run", dir, sizeof(dir)), 0);
    h_fmt(path, sizeof(path), "%s/c.yml", dir);
    h_fmt(tok, sizeof(tok), "%s/token", dir);
    h_fmt(arg, sizeof(arg), "--config.file=%s", path);
    h_fmt(tokarg, sizeof(tokarg), "--auth.token-file=%s", tok);
    assert_int_equal(h_write_file(tok, H_SIM_TOKEN "\n", strlen(H_SIM_TOKEN "\n")), 0);
    assert_int_equal(chmod(tok, 0600), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    h_fmt(text, sizeof(text),
          "elb: {endpoint: \"%s\", project_id: %s}\n"
          "poll: {interval: 1s, timeout: 2s}\n"
          "log: {level: info}\n"
          "jobs:\n"
          "  ids:\n"
          "    - " J_SEED "\n"
          "    - elb-v1:" J_FAIL "\n",
          sim_base, H_SIM_PROJECT);
    assert_int_equal(h_write_file(path, text, strlen(text)), 0);
    /* h_start_exporter sets OS_AUTH_TOKEN too: --auth.token-file wins over it */
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", NULL, flags, NULL, START_TIMEOUT_S,
                                      base, sizeof(base)),
                     0);
    h_fmt(want, sizeof(want), "auth method token: auto: token from --auth.token-file");
    wait_log(&exp, want, 1);
    H_WAIT_METRIC(base, "elb_job_status",
                  "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1,
                  15.0 * IT_TIME_SCALE);
    H_WAIT_METRIC(base, "elb_job_status",
                  "job_id=\"" J_FAIL "\",job_type=\"createELB\",status=\"FAIL\"", 1,
                  15.0 * IT_TIME_SCALE);

    /* SIGHUP: log.level applies, the rest is named as needing a restart */
    h_fmt(text, sizeof(text),
          "elb: {endpoint: \"%s\", project_id: %s}\n"
          "poll: {interval: 2s, timeout: 2s}\n"
          "log: {level: debug}\n"
          "jobs: {ids: [" J_SEED "]}\n",
          sim_base, H_SIM_PROJECT);
    assert_int_equal(h_write_file(path, text, strlen(text)), 0);
    assert_int_equal(kill(exp.pid, SIGHUP), 0);
    wait_log(&exp, "SIGHUP: log.level changed: applied", 1);
    wait_log(&exp, "SIGHUP: poll.interval changed: takes effect after a restart", 1);
    wait_log(&exp, "SIGHUP: jobs.ids changed", 1);

    /* a broken file: named, and the running configuration stays */
    assert_int_equal(h_write_file(path, "poll: {interval: 5x}\n", 21), 0);
    assert_int_equal(kill(exp.pid, SIGHUP), 0);
    wait_log(&exp, "SIGHUP: configuration not reloaded, the running one stays", 1);
    wait_log(&exp, "key poll.interval: invalid duration", 1);
    H_WAIT_METRIC(base, "elb_job_exporter_tracked_jobs", "", 2, 5.0 * IT_TIME_SCALE);

    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_check_and_broken, h_teardown),
        cmocka_unit_test_teardown(test_run_and_sighup, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
