/*
 * valgrind: the exporter runs the whole scenario under memcheck (every job
 * kind, a few cycles, a fault period, scrapes of every endpoint including 405
 * and 404 answers), then stops on SIGTERM: exit 0 and no memcheck error or
 * definite/indirect leak. --once is checked the same way.
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

#define VG_START_TIMEOUT_S 60.0 /* valgrind start-up is slow */
#define VG_WAIT_TIMEOUT_S 60.0
#define VG_STOP_TIMEOUT_S 30.0 /* leak check at exit takes a while */
#define VG_ERROR_EXIT 99

static char dir[H_PATH_MAX];
static char metrics_url[H_URL_MAX];
static char vg_log_arg[H_PATH_MAX + 16], vg_log[H_PATH_MAX];

/* The valgrind argv prefix; its report goes to vg_log. */
static const char *const *vg_wrapper(const char *name)
{
    static const char *w[16];
    size_t n = 0;

    h_fmt(vg_log, sizeof(vg_log), "%s/%s.valgrind", dir, name);
    h_fmt(vg_log_arg, sizeof(vg_log_arg), "--log-file=%s", vg_log);
    w[n++] = VALGRIND;
    w[n++] = "--error-exitcode=99";
    w[n++] = "--leak-check=full";
    w[n++] = "--show-leak-kinds=definite,indirect";
    w[n++] = "--errors-for-leak-kinds=definite,indirect";
    w[n++] = "--track-fds=no";
    w[n++] = "--num-callers=30";
    w[n++] = vg_log_arg;
    w[n] = NULL;
    return w;
}

/* Require a clean exit and a clean memcheck report. */
static void check_clean(const struct h_proc *p)
{
    char *log = h_read_file(vg_log, NULL);
    char sb[64];
    int code = WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1;

    if (code != 0 || !log || !strstr(log, "ERROR SUMMARY: 0 errors")) {
        h_dump_logs(p);
        fprintf(stderr, "---- valgrind report (%s):\n%s\n", vg_log, log ? log : "(missing)");
        free(log);
        fail_msg("%s under valgrind: %s%s", p->name, h_status_str(p->status, sb, sizeof(sb)),
                 code == VG_ERROR_EXIT ? " (memcheck errors)" : "");
    }
    free(log);
}

struct value_ctx {
    const char *name, *labels_subset;
    double at_least;
};

static int cond_value(void *ctx)
{
    struct value_ctx *c = ctx;
    struct h_expo e;
    const struct h_sample *s;
    int ok;

    if (h_scrape(metrics_url, &e) != 0)
        return 0;
    s = h_expo_find(&e, c->name, c->labels_subset, 1, NULL);
    ok = s && s->value >= c->at_least;
    h_expo_free(&e);
    return ok;
}

static void wait_value(const struct h_proc *exp, const char *name, const char *labels,
                       double at_least)
{
    struct value_ctx c = {name, labels, at_least};

    if (h_wait_for(VG_WAIT_TIMEOUT_S, cond_value, &c) != 0) {
        h_dump_logs(exp);
        fail_msg("%s{%s} did not reach %g", name, labels, at_least);
    }
}

/* One request; only that an answer with the given code came. */
static void hit(const char *base, const char *method, const char *path, long code)
{
    char u[H_URL_MAX];
    struct h_resp r;

    h_fmt(u, sizeof(u), "%s%s", base, path);
    assert_int_equal(h_http(method, u, NULL, NULL, &r), 0);
    if (r.code != code)
        fail_msg("%s %s: HTTP %ld, want %ld", method, path, r.code, code);
    h_resp_free(&r);
}

static void test_valgrind_daemon(void **state)
{
    const char *args[H_MAX_ARGS] = {"--poll.interval=1s", "--poll.timeout=2s"};
    size_t n = 2;
    struct h_proc sim, exp;
    char sim_base[H_URL_MAX], exp_base[H_URL_MAX];
    double el = 0;

    (void)state;
    assert_int_equal(h_test_dir("valgrind_daemon", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_add_scenario_jobs(args, &n, H_MAX_ARGS), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, args, vg_wrapper("exporter"),
                                      VG_START_TIMEOUT_S, exp_base, sizeof(exp_base)),
                     0);
    h_fmt(metrics_url, sizeof(metrics_url), "%s/metrics", exp_base);

    /* the progressing jobs finish, the 429 pause passes, a few cycles run */
    wait_value(&exp, "elb_job_status", "job_id=\"" J_PROG_OK "\",status=\"SUCCESS\"", 1);
    wait_value(&exp, "elb_job_status", "job_id=\"" J_F429 "\",status=\"SUCCESS\"", 1);
    wait_value(&exp, "elb_job_exporter_poll_cycles_total", "", 3);

    hit(exp_base, "GET", "/", 200);
    hit(exp_base, "HEAD", "/metrics", 200);
    hit(exp_base, "POST", "/metrics", 405);
    hit(exp_base, "DELETE", "/metrics", 405);
    hit(exp_base, "GET", "/nope", 404);
    hit(exp_base, "GET", "/-/healthy", 200);
    hit(exp_base, "GET", "/-/ready", 200);

    /* a fault period: 500s, then 404s, then back to normal */
    assert_int_equal(h_sim_fault(sim_base, "500"), 0);
    wait_value(&exp, "elb_job_exporter_api_requests_total", "code=\"500\"", 10);
    assert_int_equal(h_sim_fault(sim_base, "404"), 0);
    wait_value(&exp, "elb_job_status", "job_id=\"" J_NOTES "\",status=\"UNKNOWN\"", 1);
    assert_int_equal(h_sim_fault(sim_base, "none"), 0);
    wait_value(&exp, "elb_job_status", "job_id=\"" J_NOTES "\",status=\"RUNNING\"", 1);
    hit(exp_base, "GET", "/", 200);
    hit(exp_base, "GET", "/metrics", 200);

    if (h_proc_stop(&exp, SIGTERM, VG_STOP_TIMEOUT_S, &el) != 0) {
        h_dump_logs(&exp);
        fail_msg("the exporter under valgrind did not exit within %.0f s of SIGTERM",
                 VG_STOP_TIMEOUT_S);
    }
    print_message("exited %.1f s after SIGTERM\n", el);
    check_clean(&exp);
    H_STOP_CLEAN(&sim, 5.0);
}

static void test_valgrind_once(void **state)
{
    static const char *const env[] = {"OS_AUTH_TOKEN=" H_SIM_TOKEN, NULL};
    const struct h_spawn_opts o = {.env_add = env};
    const char *argv[H_MAX_ARGS];
    const char *const *w;
    size_t n = 0;
    char endpoint[H_URL_MAX + 32], sim_base[H_URL_MAX];
    struct h_proc sim, once;
    struct h_expo e;
    char *out, err[256];
    size_t ol = 0;

    (void)state;
    assert_int_equal(h_test_dir("valgrind_once", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    w = vg_wrapper("once");
    for (size_t i = 0; w[i]; i++)
        argv[n++] = w[i];
    argv[n++] = EXPORTER_PATH;
    argv[n++] = "--once";
    argv[n++] = "--poll.timeout=2s";
    argv[n++] = "--elb.project-id=" H_SIM_PROJECT;
    h_fmt(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
    argv[n++] = endpoint;
    assert_int_equal(h_add_scenario_jobs(argv, &n, H_MAX_ARGS), 0);
    assert_int_equal(h_spawn(&once, dir, "once", argv, &o), 0);
    if (h_proc_wait(&once, VG_WAIT_TIMEOUT_S, NULL) != 0) {
        h_dump_logs(&once);
        fail_msg("--once under valgrind did not finish");
    }
    check_clean(&once);
    out = h_read_file(once.out_path, &ol);
    assert_non_null(out);
    if (h_expo_parse(out, ol, &e, err, sizeof(err)) != 0)
        fail_msg("--once output does not parse: %s", err);
    H_EXPECT(&e, "elb_job_exporter_tracked_jobs", "", (double)h_scenario_job_count());
    H_EXPECT(&e, "elb_job_status", "job_id=\"" J_FAIL "\",job_type=\"createELB\",status=\"FAIL\"",
             1);
    h_expo_free(&e);
    free(out);
    H_STOP_CLEAN(&sim, 5.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_valgrind_daemon, h_teardown),
        cmocka_unit_test_teardown(test_valgrind_once, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
