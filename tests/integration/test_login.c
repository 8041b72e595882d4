/*
 * IAM password login, end to end: the real exporter logs in to the
 * simulator's IAM (src/sim/sim_iam.c) with OS_* variables, as users do.
 *
 * - password login: jobs are fetched with the token IAM issued;
 * - renewal before expiry with no gap: tokens that live 6 s are renewed at
 *   three quarters of their life while every scrape in between shows the job,
 *   api_up 1 and no 401;
 * - a token revoked mid-run: the 401 makes one fresh login, and the values
 *   carry on;
 * - a wrong password: one clear log line, api_up 0, auth_failures_total
 *   rising, scrapes still answered;
 * - a project scoped by name: the job path uses the id the token names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define WAIT_S (20.0 * IT_TIME_SCALE)
#define EXPIRY "elb_job_exporter_auth_token_expiry_timestamp_seconds"
#define SEED_OK "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\""
#define NOTES_RUNNING "job_id=\"" J_NOTES "\",job_type=\"deleteELB\",status=\"RUNNING\""

static char dir[H_PATH_MAX];

/* The simulator with an IAM whose tokens live ttl_s seconds. */
static void start_sim(struct h_proc *p, unsigned ttl_s, char *base, size_t cap)
{
    char ttl[48];
    uint16_t port;
    const char *argv[] = {SIM_PATH,
                          "--listen-address=127.0.0.1:0",
                          "--token=" H_SIM_TOKEN,
                          "--project-id=" H_SIM_PROJECT,
                          "--step-ms=0",
                          ttl,
                          NULL};

    h_fmt(ttl, sizeof(ttl), "--iam-token-ttl-s=%u", ttl_s);
    assert_int_equal(h_spawn(p, dir, "sim", argv, NULL), 0);
    assert_int_equal(h_wait_listening(p, 0, 15.0 * IT_TIME_SCALE, base, cap, &port), 0);
}

/*
 * The exporter with password auth against sim_base: env holds the OS_* login
 * (no OS_AUTH_TOKEN), extra more flags. Writes its base URL.
 */
static void start_exporter(struct h_proc *p, const char *sim_base, const char *password,
                           int project_by_name, const char *const *extra, char *base, size_t cap)
{
    char endpoint[H_URL_MAX + 32], auth_url[H_URL_MAX + 32], pw[128];
    const char *env[8], *argv[24];
    size_t n = 0, e = 0;
    uint16_t port;

    h_fmt(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
    h_fmt(auth_url, sizeof(auth_url), "OS_AUTH_URL=%s/v3", sim_base);
    h_fmt(pw, sizeof(pw), "OS_PASSWORD=%s", password);
    env[e++] = auth_url;
    env[e++] = "OS_USERNAME=sim-user";
    env[e++] = pw;
    env[e++] = "OS_USER_DOMAIN_NAME=sim-domain";
    env[e++] = project_by_name ? "OS_PROJECT_NAME=eu-de" : "OS_PROJECT_ID=" H_SIM_PROJECT;
    env[e] = NULL;
    argv[n++] = EXPORTER_PATH;
    argv[n++] = endpoint;
    argv[n++] = "--auth.method=password";
    argv[n++] = "--web.listen-address=127.0.0.1:0";
    for (size_t i = 0; extra && extra[i] && n < 23; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    const struct h_spawn_opts o = {.env_add = env};
    assert_int_equal(h_spawn(p, dir, "exporter", argv, &o), 0);
    if (h_wait_listening(p, 1, 15.0 * IT_TIME_SCALE, base, cap, &port) != 0) {
        h_dump_logs(p);
        fail_msg("the exporter did not start");
    }
}

/* GET sim_base/_sim/iam and read one of its counters. */
static unsigned long long iam_count(const char *sim_base, const char *what)
{
    char url[H_URL_MAX], key[64];
    struct h_resp r;
    const char *p;
    unsigned long long v = 0;

    h_fmt(url, sizeof(url), "%s/_sim/iam", sim_base);
    assert_int_equal(h_get(url, &r), 0);
    h_fmt(key, sizeof(key), "%s ", what);
    p = strstr(r.body, key);
    assert_non_null(p);
    v = strtoull(p + strlen(key), NULL, 10);
    h_resp_free(&r);
    return v;
}

static void test_password_login(void **state)
{
    const char *flags[] = {"--job=" J_SEED, "--job=" J_NOTES, "--poll.interval=1s", NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX];
    struct h_proc sim, exp;
    struct h_expo e;
    char *log;

    (void)state;
    assert_int_equal(h_test_dir("login_password", dir, sizeof(dir)), 0);
    start_sim(&sim, 86400, sim_base, sizeof(sim_base));
    start_exporter(&exp, sim_base, "sim-password", 0, flags, base, sizeof(base));
    H_WAIT_METRIC(base, "elb_job_status", SEED_OK, 1, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_status", NOTES_RUNNING, 1, WAIT_S);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_exporter_api_up", "", 1);
    H_EXPECT(&e, "elb_job_exporter_auth_requests_total", "", 1);
    H_EXPECT(&e, "elb_job_exporter_auth_failures_total", "", 0);
    /* the token lives 24 h: its expiry is exported */
    H_EXPECT_TOL(&e, EXPIRY, "", h_wall() + 86400, 60);
    h_expo_free(&e);
    assert_int_equal(iam_count(sim_base, "issued"), 1);
    /* the start-up log says which method and why; the password is nowhere */
    log = h_read_file(exp.err_path, NULL);
    assert_non_null(log);
    assert_null(strstr(log, "sim-password"));
    assert_non_null(strstr(log, "logged in to IAM"));
    free(log);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

struct no_gap {
    const char *url;
    double first_expiry;
    int bad; /* a scrape saw a gap */
};

/* Every scrape while tokens come and go: the job, api_up 1, no 401; until a renewal. */
static int renewed_without_gap(void *ctx)
{
    struct no_gap *g = ctx;
    const struct h_sample *s;
    struct h_expo e;
    int renewed = 0;

    if (h_scrape(g->url, &e) != 0) {
        g->bad = 1;
        return 1;
    }
    s = h_expo_find(&e, "elb_job_status", NOTES_RUNNING, 0, NULL);
    if (!s || s->value != 1)
        g->bad = 1;
    s = h_expo_find(&e, "elb_job_exporter_api_up", "", 0, NULL);
    if (!s || s->value != 1)
        g->bad = 1;
    if (h_expo_find(&e, "elb_job_exporter_api_requests_total", "code=\"401\"", 0, NULL))
        g->bad = 1;
    s = h_expo_find(&e, EXPIRY, "", 0, NULL);
    if (s && g->first_expiry == 0)
        g->first_expiry = s->value;
    /* two renewals: the second proves the first token was replaced before it expired */
    renewed = s && g->first_expiry > 0 && s->value >= g->first_expiry + 8;
    h_expo_free(&e);
    return g->bad || renewed;
}

static void test_renewal_without_gap(void **state)
{
    const char *flags[] = {"--job=" J_NOTES, "--poll.interval=500ms", NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX];
    struct no_gap g = {url, 0, 0};
    struct h_proc sim, exp;

    (void)state;
    assert_int_equal(h_test_dir("login_renewal", dir, sizeof(dir)), 0);
    start_sim(&sim, 6, sim_base, sizeof(sim_base));
    start_exporter(&exp, sim_base, "sim-password", 0, flags, base, sizeof(base));
    H_WAIT_METRIC(base, "elb_job_status", NOTES_RUNNING, 1, WAIT_S);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    /* tokens live 6 s and are renewed at 4.5 s: expiry moves by 4.5 s per renewal */
    assert_int_equal(h_wait_for(WAIT_S, renewed_without_gap, &g), 0);
    if (g.bad)
        fail_msg("a scrape saw a gap while the token was renewed");
    /* renewals, not a login per request */
    assert_true(iam_count(sim_base, "issued") >= 3);
    assert_true(iam_count(sim_base, "issued") <= 6);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_revoked_token_recovers(void **state)
{
    const char *flags[] = {"--job=" J_NOTES, "--poll.interval=500ms", NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX];
    struct h_proc sim, exp;
    struct h_resp r;
    double ok = 0;

    (void)state;
    assert_int_equal(h_test_dir("login_revoked", dir, sizeof(dir)), 0);
    start_sim(&sim, 86400, sim_base, sizeof(sim_base));
    start_exporter(&exp, sim_base, "sim-password", 0, flags, base, sizeof(base));
    H_WAIT_METRIC(base, "elb_job_status", NOTES_RUNNING, 1, WAIT_S);
    h_fmt(url, sizeof(url), "%s/_sim/iam/revoke", sim_base);
    assert_int_equal(h_post(url, &r), 0);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    /* a 401 comes, one fresh login follows, and the job is fetched again */
    H_WAIT_METRIC_GE(base, "elb_job_exporter_api_requests_total", "code=\"401\"", 1, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_exporter_auth_requests_total", "", 2, WAIT_S);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(
        h_scrape_value(url, "elb_job_exporter_api_requests_total", "code=\"200\"", &ok), 0);
    H_WAIT_METRIC_GE(base, "elb_job_exporter_api_requests_total", "code=\"200\"", ok + 2, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_status", NOTES_RUNNING, 1, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_exporter_api_up", "", 1, WAIT_S);
    /* the 401 was cured by the login: not an authentication failure */
    H_WAIT_METRIC(base, "elb_job_exporter_auth_failures_total", "", 0, WAIT_S);
    assert_int_equal(iam_count(sim_base, "issued"), 2);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_wrong_password(void **state)
{
    const char *flags[] = {"--job=" J_SEED, "--poll.interval=500ms", NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX];
    struct h_proc sim, exp;
    struct h_resp r;
    char *log, *p;
    int lines = 0;

    (void)state;
    assert_int_equal(h_test_dir("login_wrong", dir, sizeof(dir)), 0);
    start_sim(&sim, 86400, sim_base, sizeof(sim_base));
    start_exporter(&exp, sim_base, "not-the-password", 0, flags, base, sizeof(base));
    /* logins are retried with backoff (1 s, 2 s, ...): the counter rises */
    H_WAIT_METRIC_GE(base, "elb_job_exporter_auth_failures_total", "", 2, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_exporter_api_up", "", 0, WAIT_S);
    /* scrapes are still answered, and the landing page too */
    h_fmt(url, sizeof(url), "%s/", base);
    assert_int_equal(h_get(url, &r), 0);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    /* no job request went out without a token */
    H_WAIT_METRIC(base, "elb_job_status", "job_id=\"" J_SEED "\",job_type=\"\",status=\"UNKNOWN\"",
                  1, WAIT_S);
    log = h_read_file(exp.err_path, NULL);
    assert_non_null(log);
    for (p = log; (p = strstr(p, "IAM login failed")) != NULL; p++)
        lines++;
    if (lines != 1)
        fail_msg("want one clear line about the failed login, got %d:\n%s", lines, log);
    assert_non_null(strstr(log, "The username or password is wrong."));
    assert_null(strstr(log, "not-the-password"));
    free(log);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_project_by_name(void **state)
{
    const char *flags[] = {"--job=" J_SEED, NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX];
    struct h_proc sim, exp;

    (void)state;
    assert_int_equal(h_test_dir("login_project_name", dir, sizeof(dir)), 0);
    start_sim(&sim, 86400, sim_base, sizeof(sim_base));
    start_exporter(&exp, sim_base, "sim-password", 1, flags, base, sizeof(base));
    /* the sim answers 403 for any other project: SUCCESS means the token's id was used */
    H_WAIT_METRIC(base, "elb_job_status", SEED_OK, 1, WAIT_S);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_password_login, h_teardown),
        cmocka_unit_test_teardown(test_renewal_without_gap, h_teardown),
        cmocka_unit_test_teardown(test_revoked_token_recovers, h_teardown),
        cmocka_unit_test_teardown(test_wrong_password, h_teardown),
        cmocka_unit_test_teardown(test_project_by_name, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
