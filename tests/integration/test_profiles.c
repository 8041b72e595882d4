/*
 * One exporter instance tracks jobs of all four profiles at once against the
 * simulator (which serves every API on one loopback port, so every profile's
 * endpoint is --elb.endpoint itself), with exact values for each: the job's
 * own stateset, a profile label on jobs of another profile than --elb.profile,
 * ECS's failed sub-job lending its error, and ELB v3's rollback ending in
 * ROLLBACK_FAIL with its error code and text, counted as a failure exactly
 * like a classic FAIL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "harness.h"

#define WAIT_S (20.0 * IT_TIME_SCALE)
#define ECS_FAIL "ff80808288d41e1b0189902609552b00"
#define EVS_OK "ff808082739334d80173943ec9b20a00"
#define V3_ROLLBACK "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define V3_COMPLETE "2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70"
#define V3_CANCEL "8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d"

static char dir[H_PATH_MAX];

static void test_four_profiles(void **state)
{
    const char *flags[] = {"--job=" J_SEED,
                           "--job=ecs-v1:" ECS_FAIL,
                           "--job=evs-v1:" EVS_OK,
                           "--job=elb-v3:" V3_ROLLBACK,
                           "--job=elb-v3:" V3_COMPLETE,
                           "--job=elb-v3:" V3_CANCEL,
                           "--poll.interval=500ms",
                           NULL};
    char sim_base[H_URL_MAX], base[H_URL_MAX], url[H_URL_MAX];
    struct h_proc sim, exp;
    struct h_expo e;

    (void)state;
    assert_int_equal(h_test_dir("profiles_four", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, flags, NULL,
                                      10.0 * IT_TIME_SCALE, base, sizeof(base)),
                     0);
    /* the v3 job rolls back one step per answer: RUNNING, ROLLBACKING x2, ROLLBACK_FAIL */
    H_WAIT_METRIC(base, "elb_job_status",
                  "job_id=\"" V3_ROLLBACK "\",job_type=\"cloneLoadbalancer\",profile=\"elb-v3\","
                  "status=\"ROLLBACK_FAIL\"",
                  1, WAIT_S);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(h_scrape(url, &e), 0);
    /* the classic job: no profile label (it is --elb.profile's), the classic stateset */
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    H_EXPECT_ABSENT(&e, "elb_job_status", "job_id=\"" J_SEED "\",status=\"ROLLBACKING\"");
    /* ELB v3: its own stateset, all eight of it */
    assert_int_equal(h_expo_count(&e, "elb_job_status", "job_id=\"" V3_ROLLBACK "\""), 9);
    H_EXPECT(&e, "elb_job_error_info",
             "job_id=\"" V3_ROLLBACK "\",job_type=\"cloneLoadbalancer\",profile=\"elb-v3\","
             "error_code=\"ELB.8907\",fail_reason=\"Rollback failed: listener \\\"web-443\\\" "
             "is still in use.\"",
             1);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" V3_COMPLETE "\",job_type=\"UPGRADE\",profile=\"elb-v3\","
             "status=\"COMPLETE\"",
             1);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" V3_CANCEL "\",job_type=\"batchCreateV3Loadbalancer\",profile=\"elb-v3\","
             "status=\"CANCEL\"",
             1);
    /* ECS: the failed sub-job lends its code and text (entities.errorcode_message) */
    H_EXPECT(&e, "elb_job_error_info",
             "job_id=\"" ECS_FAIL "\",job_type=\"createServer\",profile=\"ecs-v1\","
             "error_code=\"Ecs.0013\",fail_reason=\"Insufficient EIP quota. Apply for more, or "
             "release unused EIPs.\"",
             1);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" EVS_OK "\",job_type=\"batchCreateVolume\",profile=\"evs-v1\","
             "status=\"SUCCESS\"",
             1);
    /* aggregates: the classic statuses always, plus those of the profiles tracked */
    H_EXPECT(&e, "elb_jobs", "status=\"FAIL\"", 1);
    H_EXPECT(&e, "elb_jobs", "status=\"ROLLBACK_FAIL\"", 1);
    H_EXPECT(&e, "elb_jobs", "status=\"COMPLETE\"", 1);
    H_EXPECT(&e, "elb_jobs", "status=\"CANCEL\"", 1);
    H_EXPECT(&e, "elb_jobs", "status=\"SUCCESS\"", 2);
    /* ROLLBACK_FAIL is a failure like FAIL: counted once, with its code */
    H_EXPECT(&e, "elb_jobs_failed_total", "job_type=\"cloneLoadbalancer\",error_code=\"ELB.8907\"",
             1);
    H_EXPECT(&e, "elb_jobs_failed_total", "job_type=\"createServer\",error_code=\"Ecs.0013\"", 1);
    H_EXPECT(&e, "elb_job_exporter_tracked_jobs", "", 6);
    h_expo_free(&e);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_four_profiles, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
