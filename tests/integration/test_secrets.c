/*
 * Secrets stay secret: for each login method the exporter runs with a
 * distinctive secret at --log.level=debug, fetches jobs, fails on purpose
 * (a wrong secret), and the secret is looked for in every place a user can
 * read: the log at every level, /metrics, the landing page, and the error
 * messages of a refused configuration. It must be in none of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define WAIT_S (20.0 * IT_TIME_SCALE)
#define TOKEN "tokSECRETtoken1234567890"
#define PASSWORD "pwSECRETpassword4567"
#define SECRET_KEY "skSECRETsecretkey7890"
#define SEED_OK "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\""

static char dir[H_PATH_MAX];

/* The simulator knowing all three secrets. */
static void start_sim(struct h_proc *p, char *base, size_t cap)
{
    uint16_t port;
    const char *argv[] = {SIM_PATH,
                          "--listen-address=127.0.0.1:0",
                          "--token=" TOKEN,
                          "--project-id=" H_SIM_PROJECT,
                          "--step-ms=0",
                          "--iam-password=" PASSWORD,
                          "--access-key=sim-ak",
                          "--secret-key=" SECRET_KEY,
                          NULL};

    assert_int_equal(h_spawn(p, dir, "sim", argv, NULL), 0);
    assert_int_equal(h_wait_listening(p, 0, 15.0 * IT_TIME_SCALE, base, cap, &port), 0);
}

/* Fail the test if secret appears in text (what names the place). */
static void absent(const char *text, const char *secret, const char *what)
{
    if (text && strstr(text, secret))
        fail_msg("the secret %s appears in %s", secret, what);
}

/* GET base+path and require the secret to be absent from the answer. */
static void check_page(const char *base, const char *path, const char *secret)
{
    char url[H_URL_MAX];
    struct h_resp r;

    h_fmt(url, sizeof(url), "%s%s", base, path);
    assert_int_equal(h_get(url, &r), 0);
    assert_int_equal(r.code, 200);
    absent(r.body, secret, path);
    absent(r.hdr, secret, "the answer's headers");
    h_resp_free(&r);
}

/*
 * Run the exporter with env (the method's secret inside) against sim_base until
 * want holds, then look for secret everywhere. ok: the secret is right (jobs
 * fetched) or wrong (an authentication failure is counted).
 */
static void run_method(const char *name, const char *sim_base, const char *const *env,
                       const char *method, const char *secret, int ok)
{
    char endpoint[H_URL_MAX + 32], base[H_URL_MAX], m[64];
    const char *argv[] = {EXPORTER_PATH,
                          endpoint,
                          "--elb.project-id=" H_SIM_PROJECT,
                          m,
                          "--job=" J_SEED,
                          "--log.level=debug",
                          "--poll.interval=500ms",
                          "--web.listen-address=127.0.0.1:0",
                          NULL};
    const struct h_spawn_opts o = {.env_add = env};
    struct h_proc p;
    uint16_t port;
    char *log;

    h_fmt(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
    h_fmt(m, sizeof(m), "--auth.method=%s", method);
    assert_int_equal(h_spawn(&p, dir, name, argv, &o), 0);
    if (h_wait_listening(&p, 1, 15.0 * IT_TIME_SCALE, base, sizeof(base), &port) != 0) {
        h_dump_logs(&p);
        fail_msg("%s: the exporter did not start", name);
    }
    if (ok)
        H_WAIT_METRIC(base, "elb_job_status", SEED_OK, 1, WAIT_S);
    else
        H_WAIT_METRIC_GE(base, "elb_job_exporter_auth_failures_total", "", 1, WAIT_S);
    check_page(base, "/metrics", secret);
    check_page(base, "/", secret);
    H_STOP_CLEAN(&p, 5.0 * IT_TIME_SCALE);
    log = h_read_file(p.err_path, NULL);
    assert_non_null(log);
    assert_non_null(strstr(log, "level=debug")); /* debug lines were written, and looked at */
    absent(log, secret, "the log");
    free(log);
    log = h_read_file(p.out_path, NULL);
    absent(log, secret, "stdout");
    free(log);
}

static void test_token(void **state)
{
    static const char *const good[] = {"OS_AUTH_TOKEN=" TOKEN, NULL};
    static const char *const bad[] = {"OS_AUTH_TOKEN=" TOKEN "x", NULL};
    char sim_base[H_URL_MAX];
    struct h_proc sim;

    (void)state;
    assert_int_equal(h_test_dir("secrets_token", dir, sizeof(dir)), 0);
    start_sim(&sim, sim_base, sizeof(sim_base));
    run_method("good", sim_base, good, "token", TOKEN, 1);
    run_method("bad", sim_base, bad, "token", TOKEN, 0);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_password(void **state)
{
    char sim_base[H_URL_MAX], auth_url[H_URL_MAX + 32];
    const char *good[] = {auth_url, "OS_USERNAME=sim-user", "OS_USER_DOMAIN_NAME=sim-domain",
                          "OS_PASSWORD=" PASSWORD, NULL};
    const char *bad[] = {auth_url, "OS_USERNAME=sim-user", "OS_USER_DOMAIN_NAME=sim-domain",
                         "OS_PASSWORD=" PASSWORD "x", NULL};
    struct h_proc sim;

    (void)state;
    assert_int_equal(h_test_dir("secrets_password", dir, sizeof(dir)), 0);
    start_sim(&sim, sim_base, sizeof(sim_base));
    h_fmt(auth_url, sizeof(auth_url), "OS_AUTH_URL=%s/v3", sim_base);
    run_method("good", sim_base, good, "password", PASSWORD, 1);
    run_method("bad", sim_base, bad, "password", PASSWORD, 0);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_aksk(void **state)
{
    static const char *const good[] = {"OS_ACCESS_KEY=sim-ak", "OS_SECRET_KEY=" SECRET_KEY, NULL};
    static const char *const bad[] = {"OS_ACCESS_KEY=sim-ak", "OS_SECRET_KEY=" SECRET_KEY "x",
                                      NULL};
    char sim_base[H_URL_MAX];
    struct h_proc sim;

    (void)state;
    assert_int_equal(h_test_dir("secrets_aksk", dir, sizeof(dir)), 0);
    start_sim(&sim, sim_base, sizeof(sim_base));
    run_method("good", sim_base, good, "aksk", SECRET_KEY, 1);
    run_method("bad", sim_base, bad, "aksk", SECRET_KEY, 0);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* A secret put where it does not belong is refused without being repeated. */
static void test_refused_configuration(void **state)
{
    char path[H_PATH_MAX], arg[H_PATH_MAX + 32];
    static const char yaml[] = "auth:\n  method: password\n  password: " PASSWORD "\n";
    const char *with_file[] = {EXPORTER_PATH, arg, "--config.check", NULL};
    const char *as_flag[] = {EXPORTER_PATH, "--auth.password=" PASSWORD, NULL};
    const char *const *runs[] = {with_file, as_flag};
    struct h_proc p;
    char *text;

    (void)state;
    assert_int_equal(h_test_dir("secrets_config", dir, sizeof(dir)), 0);
    h_fmt(path, sizeof(path), "%s/config.yml", dir);
    h_fmt(arg, sizeof(arg), "--config.file=%s", path);
    assert_int_equal(h_write_file(path, yaml, strlen(yaml)), 0);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(h_spawn(&p, dir, i ? "flag" : "file", runs[i], NULL), 0);
        assert_int_equal(h_proc_wait(&p, 10.0 * IT_TIME_SCALE, NULL), 0);
        assert_true(WIFEXITED(p.status) && WEXITSTATUS(p.status) != 0);
        text = h_read_file(p.err_path, NULL);
        assert_non_null(text);
        assert_true(strlen(text) > 0); /* it did say why */
        absent(text, PASSWORD, "a configuration error");
        free(text);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_token, h_teardown),
        cmocka_unit_test_teardown(test_password, h_teardown),
        cmocka_unit_test_teardown(test_aksk, h_teardown),
        cmocka_unit_test_teardown(test_refused_configuration, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
