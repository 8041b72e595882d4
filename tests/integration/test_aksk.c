/*
 * AK/SK end to end: the real exporter, given OS_ACCESS_KEY and OS_SECRET_KEY
 * (and no OS_AUTH_TOKEN), signs every request; the real simulator checks the
 * signatures with its own implementation (src/sim/sim_aksk.c).
 *
 * - the right key pair: the jobs are fetched (elb_job_status), api_up is 1,
 *   no 401 is counted;
 * - a wrong secret key: every answer is 401 (APIGW.0301), counted in
 *   auth_failures_total and api_requests_total{code="401"}, api_up is 0;
 * - a token as well as a key pair: the token wins (auto picks token first).
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

#define WAIT_S (15.0 * IT_TIME_SCALE)
#define IT_AK "it-access-key-0123456789"
#define IT_SK "it-secret-key-MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
#define STATUS(id, type, st) "job_id=\"" id "\",job_type=\"" type "\",status=\"" st "\""

static char dir[H_PATH_MAX];

/* The simulator with this test's key pair, waited for. */
static void start_sim(struct h_proc *p, char *base, size_t cap)
{
    static const char *const argv[] = {SIM_PATH,
                                       "--listen-address=127.0.0.1:0",
                                       "--token=" H_SIM_TOKEN,
                                       "--project-id=" H_SIM_PROJECT,
                                       "--access-key=" IT_AK,
                                       "--secret-key=" IT_SK,
                                       "--step-ms=0",
                                       NULL};
    uint16_t port;

    assert_int_equal(h_spawn(p, dir, "sim", argv, NULL), 0);
    if (h_wait_listening(p, 0, WAIT_S, base, cap, &port) != 0) {
        h_dump_logs(p);
        fail_msg("the simulator did not start");
    }
}

/* The exporter with env (the credentials) polling jobs on sim_base, waited for. */
static void start_exporter(struct h_proc *p, const char *name, const char *sim_base,
                           const char *const *env, char *base, size_t cap)
{
    char endpoint[H_URL_MAX];
    const struct h_spawn_opts o = {.env_add = env};
    uint16_t port;

    h_fmt(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
    {
        const char *const argv[] = {EXPORTER_PATH,
                                    endpoint,
                                    "--elb.project-id=" H_SIM_PROJECT,
                                    "--web.listen-address=127.0.0.1:0",
                                    "--poll.interval=1s",
                                    "--job=" J_SEED,
                                    "--job=" J_FAIL,
                                    "--job=" J_INIT,
                                    "--job=" J_NOTES,
                                    NULL};
        assert_int_equal(h_spawn(p, dir, name, argv, &o), 0);
    }
    if (h_wait_listening(p, 1, WAIT_S, base, cap, &port) != 0) {
        h_dump_logs(p);
        fail_msg("exporter %s did not start", name);
    }
}

/* Does the process's stderr contain needle? */
static int log_has(const struct h_proc *p, const char *needle)
{
    size_t len;
    char *text = h_read_file(p->err_path, &len);
    int found = text && strstr(text, needle) != NULL;

    free(text);
    return found;
}

static void test_aksk_jobs_fetched(void **state)
{
    static const char *const env[] = {"OS_ACCESS_KEY=" IT_AK, "OS_SECRET_KEY=" IT_SK, NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX];
    struct h_proc sim, exp;
    unsigned long long n = 0;
    struct h_expo e;

    (void)state;
    assert_int_equal(h_test_dir("aksk_fetched", dir, sizeof(dir)), 0);
    start_sim(&sim, sim_base, sizeof(sim_base));
    start_exporter(&exp, "exporter", sim_base, env, base, sizeof(base));
    H_WAIT_METRIC(base, "elb_job_status", STATUS(J_SEED, "createELB", "SUCCESS"), 1, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_status", STATUS(J_FAIL, "createELB", "FAIL"), 1, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_status", STATUS(J_INIT, "createELB", "INIT"), 1, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_status", STATUS(J_NOTES, "deleteELB", "RUNNING"), 1, WAIT_S);
    /* a second cycle of the unfinished jobs, signed afresh */
    H_WAIT_METRIC_GE(base, "elb_job_exporter_poll_cycles_total", "", 2, WAIT_S);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_exporter_api_up", "", 1);
    H_EXPECT(&e, "elb_job_exporter_auth_failures_total", "", 0);
    H_EXPECT_ABSENT(&e, "elb_job_exporter_api_requests_total", "code=\"401\"");
    assert_true(H_VALUE(&e, "elb_job_exporter_api_requests_total", "code=\"200\"") >= 4);
    H_EXPECT(&e, "elb_job_fetch_success", "job_id=\"" J_SEED "\",job_type=\"createELB\"", 1);
    h_expo_free(&e);
    assert_int_equal(h_sim_requests(sim_base, J_NOTES, &n), 0);
    assert_true(n >= 2);
    assert_true(log_has(&exp, "auth method aksk:"));
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_aksk_wrong_secret(void **state)
{
    static const char *const env[] = {"OS_ACCESS_KEY=" IT_AK, "OS_SECRET_KEY=" IT_SK "-wrong",
                                      NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX];
    struct h_proc sim, exp;
    struct h_expo e;

    (void)state;
    assert_int_equal(h_test_dir("aksk_wrong_sk", dir, sizeof(dir)), 0);
    start_sim(&sim, sim_base, sizeof(sim_base));
    start_exporter(&exp, "exporter", sim_base, env, base, sizeof(base));
    H_WAIT_METRIC_GE(base, "elb_job_exporter_auth_failures_total", "", 4, WAIT_S);
    H_WAIT_METRIC_GE(base, "elb_job_exporter_poll_cycles_total", "", 1, WAIT_S);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_exporter_api_up", "", 0);
    assert_true(H_VALUE(&e, "elb_job_exporter_api_requests_total", "code=\"401\"") >= 4);
    H_EXPECT_ABSENT(&e, "elb_job_exporter_api_requests_total", "code=\"200\"");
    H_EXPECT(&e, "elb_job_status", STATUS(J_SEED, "", "UNKNOWN"), 1);
    H_EXPECT(&e, "elb_job_fetch_success", "job_id=\"" J_SEED "\",job_type=\"\"", 0);
    h_expo_free(&e);
    assert_true(log_has(&exp, "verify aksk signature fail"));
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_token_wins_over_key_pair(void **state)
{
    static const char *const env[] = {"OS_AUTH_TOKEN=" H_SIM_TOKEN, "OS_ACCESS_KEY=" IT_AK,
                                      "OS_SECRET_KEY=wrong", NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX];
    struct h_proc sim, exp;

    (void)state;
    assert_int_equal(h_test_dir("aksk_token_first", dir, sizeof(dir)), 0);
    start_sim(&sim, sim_base, sizeof(sim_base));
    start_exporter(&exp, "exporter", sim_base, env, base, sizeof(base));
    H_WAIT_METRIC(base, "elb_job_status", STATUS(J_SEED, "createELB", "SUCCESS"), 1, WAIT_S);
    H_WAIT_METRIC(base, "elb_job_exporter_api_up", "", 1, WAIT_S);
    assert_true(log_has(&exp, "auth method token:"));
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_aksk_jobs_fetched, h_teardown),
        cmocka_unit_test_teardown(test_aksk_wrong_secret, h_teardown),
        cmocka_unit_test_teardown(test_token_wins_over_key_pair, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
