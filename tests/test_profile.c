/*
 * test_profile: the table of job API profiles (src/profile.c).
 *
 * Every profile's fields exactly as api-notes.md section 3 describes them, the
 * spelling of every status, what is terminal and what is a failure (the
 * profile-free predicates and each profile's own must agree wherever the
 * profile lists the status), status mapping per profile, and the endpoints
 * derived from a region for Open Telekom Cloud and Huawei Cloud.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile.h"

#define ENDPOINT_MAX 128

/* The path profile p builds for project "P" and job "J". */
static const char *path_of(const struct api_profile *p, char *buf, size_t cap)
{
    snprintf(buf, cap, p->path_fmt, "P", "J");
    return buf;
}

/* Assert that p lists exactly the n statuses of want, in that order. */
static void assert_statuses(const struct api_profile *p, const enum job_status *want, size_t n)
{
    size_t i;

    assert_int_equal(p->n_statuses, n);
    for (i = 0; i < n; i++)
        if (p->statuses[i] != want[i])
            fail_msg("%s: status %zu is %s, want %s", p->name, i, job_status_name(p->statuses[i]),
                     job_status_name(want[i]));
}

static const enum job_status classic[] = {JOB_INIT, JOB_RUNNING, JOB_SUCCESS, JOB_FAIL};
static const enum job_status v3[] = {JOB_INIT,        JOB_RUNNING,  JOB_SUCCESS,       JOB_FAIL,
                                     JOB_ROLLBACKING, JOB_COMPLETE, JOB_ROLLBACK_FAIL, JOB_CANCEL};

static void test_table(void **state)
{
    static const char *const names[] = {"elb-v1", "ecs-v1", "evs-v1", "elb-v3"};
    const struct api_profile *p;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        p = profile_at(i);
        assert_non_null(p);
        assert_string_equal(p->name, names[i]);
        assert_ptr_equal(profile_find(names[i]), p);
    }
    assert_null(profile_at(i));
    assert_null(profile_at((size_t)-1));
    assert_ptr_equal(profile_default(), profile_find("elb-v1"));
    assert_null(profile_find("ELB-V1"));
    assert_null(profile_find("elb-v2"));
    assert_null(profile_find(""));
    assert_null(profile_find(NULL));
}

static void test_elb_v1(void **state)
{
    const struct api_profile *p = profile_find("elb-v1");
    char path[64];

    (void)state;
    assert_string_equal(p->host_prefix, "elb");
    assert_string_equal(path_of(p, path, sizeof(path)), "/v1.0/P/jobs/J");
    assert_null(p->envelope);
    assert_int_equal(p->sub_jobs_at, SUBJOBS_TOP_LEVEL);
    assert_null(p->sub_jobs_total_key);
    assert_string_equal(p->fail_text_key, "fail_reason");
    assert_string_equal(p->error_code_key, "error_code");
    assert_null(p->sub_fail_text_key);
    assert_null(p->resource_id_key);
    assert_statuses(p, classic, 4);
}

static void test_ecs_v1(void **state)
{
    const struct api_profile *p = profile_find("ecs-v1");
    char path[64];

    (void)state;
    assert_string_equal(p->host_prefix, "ecs");
    assert_string_equal(path_of(p, path, sizeof(path)), "/v1/P/jobs/J");
    assert_null(p->envelope);
    assert_int_equal(p->sub_jobs_at, SUBJOBS_IN_ENTITIES);
    assert_string_equal(p->sub_jobs_total_key, "sub_jobs_total");
    assert_string_equal(p->fail_text_key, "fail_reason");
    assert_string_equal(p->error_code_key, "error_code");
    assert_string_equal(p->sub_fail_text_key, "errorcode_message");
    assert_null(p->resource_id_key);
    assert_statuses(p, classic, 4);
}

static void test_evs_v1(void **state)
{
    const struct api_profile *p = profile_find("evs-v1");
    char path[64];

    (void)state;
    assert_string_equal(p->host_prefix, "evs");
    assert_string_equal(path_of(p, path, sizeof(path)), "/v1/P/jobs/J");
    assert_null(p->envelope);
    assert_int_equal(p->sub_jobs_at, SUBJOBS_IN_ENTITIES);
    assert_null(p->sub_jobs_total_key);
    assert_string_equal(p->fail_text_key, "fail_reason");
    assert_string_equal(p->error_code_key, "error_code");
    assert_null(p->sub_fail_text_key);
    assert_null(p->resource_id_key);
    assert_statuses(p, classic, 4);
}

static void test_elb_v3(void **state)
{
    const struct api_profile *p = profile_find("elb-v3");
    char path[64];

    (void)state;
    assert_string_equal(p->host_prefix, "elb");
    assert_string_equal(path_of(p, path, sizeof(path)), "/v3/P/elb/jobs/J");
    assert_string_equal(p->envelope, "job");
    assert_int_equal(p->sub_jobs_at, SUBJOBS_TOP_LEVEL);
    assert_null(p->sub_jobs_total_key);
    assert_string_equal(p->fail_text_key, "error_msg");
    assert_string_equal(p->error_code_key, "error_code");
    assert_null(p->sub_fail_text_key);
    assert_string_equal(p->resource_id_key, "resource_id");
    assert_statuses(p, v3, 8);
}

static void test_status_names(void **state)
{
    static const struct {
        enum job_status s;
        const char *name;
    } names[] = {
        {JOB_UNKNOWN, "UNKNOWN"},   {JOB_INIT, "INIT"},
        {JOB_RUNNING, "RUNNING"},   {JOB_SUCCESS, "SUCCESS"},
        {JOB_FAIL, "FAIL"},         {JOB_ROLLBACKING, "ROLLBACKING"},
        {JOB_COMPLETE, "COMPLETE"}, {JOB_ROLLBACK_FAIL, "ROLLBACK_FAIL"},
        {JOB_CANCEL, "CANCEL"},
    };
    size_t i;

    (void)state;
    /* the values callers already use never move */
    assert_int_equal(JOB_UNKNOWN, 0);
    assert_int_equal(JOB_INIT, 1);
    assert_int_equal(JOB_RUNNING, 2);
    assert_int_equal(JOB_SUCCESS, 3);
    assert_int_equal(JOB_FAIL, 4);
    assert_int_equal(JOB_STATUS_COUNT, sizeof(names) / sizeof(names[0]));
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_string_equal(job_status_name(names[i].s), names[i].name);
    assert_string_equal(job_status_name(JOB_STATUS_COUNT), "UNKNOWN");
    assert_string_equal(job_status_name((enum job_status) - 1), "UNKNOWN");
}

static void test_terminal_and_failed(void **state)
{
    static const struct {
        enum job_status s;
        int terminal, failed;
    } want[] = {
        {JOB_UNKNOWN, 0, 0},  {JOB_INIT, 0, 0},          {JOB_RUNNING, 0, 0},
        {JOB_SUCCESS, 1, 0},  {JOB_FAIL, 1, 1},          {JOB_ROLLBACKING, 0, 0},
        {JOB_COMPLETE, 1, 0}, {JOB_ROLLBACK_FAIL, 1, 1}, {JOB_CANCEL, 1, 0},
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        if (job_status_terminal(want[i].s) != want[i].terminal)
            fail_msg("%s: terminal %d", job_status_name(want[i].s), !want[i].terminal);
        if (job_status_failed(want[i].s) != want[i].failed)
            fail_msg("%s: failed %d", job_status_name(want[i].s), !want[i].failed);
    }
    assert_false(job_status_terminal(JOB_STATUS_COUNT));
    assert_false(job_status_failed(JOB_STATUS_COUNT));
}

/*
 * The profile-free predicates are exact for the whole table: each profile's
 * own sets hold exactly the listed statuses the shared meaning gives, no
 * status is listed twice, UNKNOWN is never listed, and failures are terminal.
 */
static void test_profiles_agree(void **state)
{
    const struct api_profile *p;
    size_t i, k, seen;
    int s;

    (void)state;
    for (i = 0; (p = profile_at(i)) != NULL; i++) {
        assert_int_equal(p->failed & ~p->terminal, 0);
        for (s = 0; s < JOB_STATUS_COUNT; s++) {
            enum job_status st = (enum job_status)s;
            int has = profile_has_status(p, st);

            for (k = 0, seen = 0; k < p->n_statuses; k++)
                seen += p->statuses[k] == st;
            assert_int_equal(seen, st == JOB_UNKNOWN ? 0 : (size_t)has);
            if (profile_terminal(p, st) != (has && job_status_terminal(st)))
                fail_msg("%s: %s terminal disagrees", p->name, job_status_name(st));
            if (profile_failed(p, st) != (has && job_status_failed(st)))
                fail_msg("%s: %s failed disagrees", p->name, job_status_name(st));
            if (!has && ((p->terminal | p->failed) & JOB_STATUS_BIT(st)))
                fail_msg("%s: %s in a set but not listed", p->name, job_status_name(st));
        }
    }
    /* a status the profile does not list is neither, whatever it means elsewhere */
    assert_false(profile_terminal(profile_find("ecs-v1"), JOB_ROLLBACK_FAIL));
    assert_false(profile_failed(profile_find("ecs-v1"), JOB_ROLLBACK_FAIL));
    assert_true(profile_failed(profile_find("elb-v3"), JOB_ROLLBACK_FAIL));
    assert_true(profile_terminal(profile_find("elb-v3"), JOB_CANCEL));
    assert_false(profile_failed(profile_find("elb-v3"), JOB_CANCEL));
    assert_false(profile_terminal(profile_find("elb-v3"), JOB_ROLLBACKING));
    assert_false(profile_has_status(NULL, JOB_FAIL));
    assert_false(profile_terminal(NULL, JOB_FAIL));
    assert_false(profile_failed(NULL, JOB_FAIL));
    assert_false(profile_has_status(profile_default(), JOB_STATUS_COUNT));
}

static void test_status_mapping(void **state)
{
    const struct api_profile *v1 = profile_find("elb-v1"), *ecs = profile_find("ecs-v1");
    const struct api_profile *evs = profile_find("evs-v1"), *p3 = profile_find("elb-v3");
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(v3) / sizeof(v3[0]); i++)
        assert_int_equal(profile_status(p3, job_status_name(v3[i])), v3[i]);
    for (i = 0; i < sizeof(classic) / sizeof(classic[0]); i++) {
        assert_int_equal(profile_status(v1, job_status_name(classic[i])), classic[i]);
        assert_int_equal(profile_status(ecs, job_status_name(classic[i])), classic[i]);
        assert_int_equal(profile_status(evs, job_status_name(classic[i])), classic[i]);
    }
    /* ELB v3's own statuses are foreign to the classic profiles */
    assert_int_equal(profile_status(v1, "ROLLBACK_FAIL"), JOB_UNKNOWN);
    assert_int_equal(profile_status(ecs, "COMPLETE"), JOB_UNKNOWN);
    assert_int_equal(profile_status(evs, "CANCEL"), JOB_UNKNOWN);
    assert_int_equal(profile_status(v1, "ROLLBACKING"), JOB_UNKNOWN);
    /* Huawei's PENDING_PAYMENT is not in api-notes: UNKNOWN, raw text kept by the parser */
    assert_int_equal(profile_status(ecs, "PENDING_PAYMENT"), JOB_UNKNOWN);
    assert_int_equal(profile_status(p3, "UNKNOWN"), JOB_UNKNOWN);
    assert_int_equal(profile_status(p3, "rollback_fail"), JOB_UNKNOWN);
    assert_int_equal(profile_status(p3, "ROLLBACK_FAIL "), JOB_UNKNOWN);
    assert_int_equal(profile_status(p3, ""), JOB_UNKNOWN);
}

/* Assert the endpoint of profile name in region. */
static void assert_endpoint(const char *name, const char *region, const char *want)
{
    char out[ENDPOINT_MAX];
    int rc;

    memset(out, 'X', sizeof(out));
    rc = profile_endpoint_for_region(profile_find(name), region, out, sizeof(out));
    if (rc != 0)
        fail_msg("%s in %s: rc %d", name, region, rc);
    assert_string_equal(out, want);
}

static void test_endpoints(void **state)
{
    (void)state;
    /* Open Telekom Cloud */
    assert_endpoint("elb-v1", "eu-de", "https://elb.eu-de.otc.t-systems.com");
    assert_endpoint("ecs-v1", "eu-de", "https://ecs.eu-de.otc.t-systems.com");
    assert_endpoint("evs-v1", "eu-nl", "https://evs.eu-nl.otc.t-systems.com");
    assert_endpoint("elb-v3", "eu-nl", "https://elb.eu-nl.otc.t-systems.com");
    assert_endpoint("ecs-v1", "eu-ch2", "https://ecs.eu-ch2.sc.otc.t-systems.com");
    assert_endpoint("elb-v1", "eu-xy", "https://elb.eu-xy.otc.t-systems.com"); /* a new one */
    /* Huawei Cloud, including its European regions, which have three labels */
    assert_endpoint("elb-v3", "ap-southeast-1", "https://elb.ap-southeast-1.myhuaweicloud.com");
    assert_endpoint("ecs-v1", "cn-north-4", "https://ecs.cn-north-4.myhuaweicloud.com");
    assert_endpoint("evs-v1", "la-south-2", "https://evs.la-south-2.myhuaweicloud.com");
    assert_endpoint("elb-v1", "eu-west-0", "https://elb.eu-west-0.myhuaweicloud.com");
    assert_endpoint("elb-v3", "my-kualalumpur-1", "https://elb.my-kualalumpur-1.myhuaweicloud.com");
    assert_endpoint("ecs-v1", "de-1", "https://ecs.de-1.myhuaweicloud.com"); /* not "eu-" */
    assert_endpoint("ecs-v1", "eu", "https://ecs.eu.myhuaweicloud.com");     /* one label */
    assert_endpoint("ecs-v1", "abcdefghij-abcdefghij-abcdefghij",
                    "https://ecs.abcdefghij-abcdefghij-abcdefghij.myhuaweicloud.com");
}

/* The other services' endpoints beside --elb.endpoint. */
static void test_sibling_endpoints(void **state)
{
    const struct api_profile *v1 = profile_find("elb-v1"), *ecs = profile_find("ecs-v1"),
                             *evs = profile_find("evs-v1"), *elb3 = profile_find("elb-v3");
    char out[256];

    (void)state;
    assert_int_equal(
        profile_sibling_endpoint("https://elb.eu-de.otc.t-systems.com", v1, ecs, out, sizeof(out)),
        0);
    assert_string_equal(out, "https://ecs.eu-de.otc.t-systems.com");
    assert_int_equal(profile_sibling_endpoint("https://elb.ap-southeast-1.myhuaweicloud.com:443",
                                              v1, evs, out, sizeof(out)),
                     0);
    assert_string_equal(out, "https://evs.ap-southeast-1.myhuaweicloud.com:443");
    assert_int_equal(
        profile_sibling_endpoint("https://elb.eu-de.otc.t-systems.com", v1, elb3, out, sizeof(out)),
        0);
    assert_string_equal(out, "https://elb.eu-de.otc.t-systems.com");
    assert_int_equal(
        profile_sibling_endpoint("https://ecs.eu-nl.otc.t-systems.com", ecs, v1, out, sizeof(out)),
        0);
    assert_string_equal(out, "https://elb.eu-nl.otc.t-systems.com");
    /* an address, a gateway or the simulator: every service on it as it is */
    assert_int_equal(profile_sibling_endpoint("http://127.0.0.1:8080", v1, ecs, out, sizeof(out)),
                     0);
    assert_string_equal(out, "http://127.0.0.1:8080");
    assert_int_equal(
        profile_sibling_endpoint("https://gateway.example.com", v1, ecs, out, sizeof(out)), 0);
    assert_string_equal(out, "https://gateway.example.com");
    assert_int_equal(
        profile_sibling_endpoint("https://elbx.example.com", v1, ecs, out, sizeof(out)), 0);
    assert_string_equal(out, "https://elbx.example.com");
    assert_int_equal(
        profile_sibling_endpoint("https://elb.eu-de.otc.t-systems.com", v1, ecs, out, 10), -E2BIG);
}

static void test_endpoint_errors(void **state)
{
    static const char *const bad[] = {
        "",      "EU-DE",  "eu_de", "-eu-de",       "eu-de-",  "eu--de",
        "eu.de", "eu-de/", "eu de", "eu-d\xc3\xa9", "eu-de\n", "abcdefghij-abcdefghij-abcdefghij1",
    };
    const struct api_profile *p = profile_find("ecs-v1");
    struct api_profile no_host = *p;
    char out[ENDPOINT_MAX];
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(out, 'X', sizeof(out));
        if (profile_endpoint_for_region(p, bad[i], out, sizeof(out)) != -EINVAL)
            fail_msg("region \"%s\" accepted", bad[i]);
        assert_int_equal(out[0], 'X');
    }
    assert_int_equal(profile_endpoint_for_region(NULL, "eu-de", out, sizeof(out)), -EINVAL);
    assert_int_equal(profile_endpoint_for_region(p, NULL, out, sizeof(out)), -EINVAL);
    assert_int_equal(profile_endpoint_for_region(p, "eu-de", NULL, 0), -EINVAL);
    no_host.host_prefix = NULL;
    assert_int_equal(profile_endpoint_for_region(&no_host, "eu-de", out, sizeof(out)), -EINVAL);
    no_host.host_prefix = "";
    assert_int_equal(profile_endpoint_for_region(&no_host, "eu-de", out, sizeof(out)), -EINVAL);

    /* the buffer: exactly enough works, one byte less is -E2BIG with out untouched */
    n = strlen("https://ecs.eu-de.otc.t-systems.com");
    memset(out, 'X', sizeof(out));
    assert_int_equal(profile_endpoint_for_region(p, "eu-de", out, n), -E2BIG);
    assert_int_equal(out[0], 'X');
    assert_int_equal(profile_endpoint_for_region(p, "eu-de", out, 0), -E2BIG);
    assert_int_equal(profile_endpoint_for_region(p, "eu-de", out, n + 1), 0);
    assert_string_equal(out, "https://ecs.eu-de.otc.t-systems.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_elb_v1),
        cmocka_unit_test(test_ecs_v1),
        cmocka_unit_test(test_evs_v1),
        cmocka_unit_test(test_elb_v3),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_terminal_and_failed),
        cmocka_unit_test(test_profiles_agree),
        cmocka_unit_test(test_status_mapping),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_sibling_endpoints),
        cmocka_unit_test(test_endpoint_errors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
