/*
 * test_job: job answers -> job records (the seed, the real RUNNING answer, every
 * optional-field form, sub_jobs variants, entities shapes, caps, truncation,
 * wrong types) and the three error-body shapes; then the four profiles of the
 * table on realistic answers of ECS, EVS and ELB v3 (api-notes.md section 3)
 * with their quirks, and what a failed sub-job lends to a failed job.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_examples.h"
#include "job.h"
#include "json.h"

#define ERR_MAX 256

/* The example response of querying_the_job_status.rst, verbatim. */
static const char seed_example[] = API_EXAMPLE_SEED;

/* The real RUNNING answer of api-notes.md section 1, verbatim. */
static const char running_example[] = API_EXAMPLE_RUNNING;

/* A failed job whose text carries every escape, a surrogate pair and raw UTF-8. */
static const char fail_example[] =
    "{\"status\":\"FAIL\",\"job_id\":\"ff8080825ecc523f015ecd0a98f82f78\","
    "\"job_type\":\"createELB\",\"begin_time\":\"2017-09-29T09:49:37.399Z\","
    "\"end_time\":\"2017-09-29T09:49:40Z\",\"error_code\":\"ELB.1003\","
    "\"fail_reason\":\"Quota \\\"elb\\\" exceeded:\\n\\tsee \\/docs\\\\x \\b\\f\\r "
    "caf\xc3\xa9 \\u00e9 \\u20ac \\ud83d\\ude00\","
    "\"entities\":{},\"message\":\"ignored\",\"code\":\"ignored\",\"sub_jobs\":[]}";

static const enum job_status ecs_statuses[] = {JOB_INIT, JOB_RUNNING, JOB_SUCCESS, JOB_FAIL};

/* A profile shaped like ecs-v1: sub_jobs inside entities. */
static const struct api_profile ecs_like = {
    .name = "ecs-test",
    .path_fmt = "/v1/%s/jobs/%s",
    .envelope = NULL,
    .sub_jobs_at = SUBJOBS_IN_ENTITIES,
    .fail_text_key = "fail_reason",
    .statuses = ecs_statuses,
    .n_statuses = 4,
};

/* A profile shaped like elb-v3: an envelope and error_msg as the failure text. */
static const struct api_profile v3_like = {
    .name = "v3-test",
    .path_fmt = "/v3/%s/elb/jobs/%s",
    .envelope = "job",
    .sub_jobs_at = SUBJOBS_TOP_LEVEL,
    .fail_text_key = "error_msg",
    .statuses = ecs_statuses,
    .n_statuses = 4,
};

/* Parse body for profile p; on error check that *r was left as it was. */
static int parse_p(const struct api_profile *p, const char *body, size_t len, struct job_record *r,
                   char *err)
{
    struct job_record before;
    int rc;

    memset(r, 0xA5, sizeof(*r));
    memcpy(&before, r, sizeof(before));
    memset(err, 'X', ERR_MAX);
    rc = job_parse(p, body, len, r, err, ERR_MAX);
    assert_non_null(memchr(err, '\0', ERR_MAX));
    if (rc != JOB_PARSE_OK) {
        assert_true(rc == JOB_PARSE_INVALID || rc == JOB_PARSE_TOO_LARGE);
        assert_memory_equal(r, &before, sizeof(before));
        assert_true(err[0] != '\0');
    } else {
        assert_string_equal(err, "");
    }
    return rc;
}

static int parse(const char *body, struct job_record *r, char *err)
{
    return parse_p(profile_default(), body, strlen(body), r, err);
}

/* Parse a body that must be accepted. */
static void parse_ok(const char *body, struct job_record *r)
{
    char err[ERR_MAX];

    if (parse(body, r, err) != JOB_PARSE_OK)
        fail_msg("rejected (%s): %s", err, body);
}

/* Parse a body that must fail with rc and, if want_err is set, exactly that message. */
static void parse_fails(const char *body, int want_rc, const char *want_err)
{
    struct job_record r;
    char err[ERR_MAX];
    int rc = parse(body, &r, err);

    if (rc != want_rc)
        fail_msg("rc %d (%s), want %d: %s", rc, err, want_rc, body);
    if (want_err != NULL && strcmp(err, want_err) != 0)
        fail_msg("err \"%s\", want \"%s\"", err, want_err);
}

static void assert_no_sub_jobs(const struct job_record *r)
{
    int s;

    assert_int_equal(r->has_sub_jobs, 0);
    for (s = 0; s < JOB_STATUS_COUNT; s++)
        assert_int_equal(r->sub_jobs[s], 0);
}

static void test_seed_example(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok(seed_example, &r);
    assert_int_equal(r.status, JOB_SUCCESS);
    assert_string_equal(r.status_raw, "SUCCESS");
    assert_string_equal(r.job_id, "ff8080825ecc523f015ecd0a98f82f77");
    assert_string_equal(r.job_type, "createELB");
    assert_int_equal(r.has_begin, 1);
    assert_int_equal(r.has_end, 1);
    assert_true(fabs(r.begin_time - 1506678577.399) < 1e-6);
    assert_true(fabs(r.end_time - 1506678603.272) < 1e-6);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_string_equal(r.resource_id, "ef265755daf84333baf4ddc1d91cbc2f");
    assert_no_sub_jobs(&r);
}

static void test_running_example(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok(running_example, &r);
    assert_int_equal(r.status, JOB_RUNNING);
    assert_string_equal(r.status_raw, "RUNNING");
    assert_string_equal(r.job_id, "4010b39b4fd3d5ff014fd943bac41619");
    assert_string_equal(r.job_type, "deleteELB");
    assert_int_equal(r.has_begin, 1);
    assert_true(fabs(r.begin_time - 1442459138.756) < 1e-6);
    assert_int_equal(r.has_end, 0); /* "" while running */
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_string_equal(r.resource_id, "ea3e5715b68850a747ec41f335625c08");
    assert_no_sub_jobs(&r);
}

static void test_fail_example_decoding(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok(fail_example, &r);
    assert_int_equal(r.status, JOB_FAIL);
    assert_string_equal(r.error_code, "ELB.1003");
    assert_string_equal(r.fail_reason, "Quota \"elb\" exceeded:\n\tsee /docs\\x \b\f\r "
                                       "caf\xc3\xa9 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    assert_true(fabs(r.end_time - 1506678580.0) < 1e-6);
    assert_string_equal(r.resource_id, ""); /* entities {} */
    assert_no_sub_jobs(&r);
}

static void test_minimal_and_missing_fields(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok("{\"status\":\"INIT\"}", &r);
    assert_int_equal(r.status, JOB_INIT);
    assert_string_equal(r.job_id, "");
    assert_string_equal(r.job_type, "");
    assert_int_equal(r.has_begin, 0);
    assert_int_equal(r.has_end, 0);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_string_equal(r.resource_id, "");
    assert_no_sub_jobs(&r);
}

static void test_null_fields(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok("{\"status\":\"RUNNING\",\"job_type\":null,\"begin_time\":null,\"end_time\":null,"
             "\"error_code\":null,\"fail_reason\":null,\"entities\":null,\"sub_jobs\":null}",
             &r);
    assert_int_equal(r.status, JOB_RUNNING);
    assert_string_equal(r.job_type, "");
    assert_int_equal(r.has_begin, 0);
    assert_int_equal(r.has_end, 0);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_string_equal(r.resource_id, "");
    assert_no_sub_jobs(&r);
}

static void test_empty_string_fields(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok("{\"status\":\"RUNNING\",\"job_type\":\"\",\"begin_time\":\"\",\"end_time\":\"\","
             "\"error_code\":\"\",\"fail_reason\":\"\",\"entities\":{},\"sub_jobs\":\"\"}",
             &r);
    assert_string_equal(r.job_type, "");
    assert_int_equal(r.has_begin, 0);
    assert_int_equal(r.has_end, 0);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_no_sub_jobs(&r);
}

static void test_status(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok("{\"status\":\"SUCCESS\"}", &r);
    assert_int_equal(r.status, JOB_SUCCESS);
    parse_ok("{\"status\":\"FAIL\"}", &r);
    assert_int_equal(r.status, JOB_FAIL);
    parse_ok("{\"status\":\"\\u0046AIL\"}", &r); /* decoded before mapping */
    assert_int_equal(r.status, JOB_FAIL);
    parse_ok("{\"status\":\"PENDING\"}", &r);
    assert_int_equal(r.status, JOB_UNKNOWN);
    assert_string_equal(r.status_raw, "PENDING");
    parse_ok("{\"status\":\"running\"}", &r);
    assert_int_equal(r.status, JOB_UNKNOWN);
    parse_ok("{\"status\":\"\"}", &r);
    assert_int_equal(r.status, JOB_UNKNOWN);
    parse_ok("{\"status\":\"UNKNOWN\"}", &r); /* not a status the profile lists */
    assert_int_equal(r.status, JOB_UNKNOWN);
    parse_ok("{\"status\":\"SUCCESS \"}", &r);
    assert_int_equal(r.status, JOB_UNKNOWN);
    /* Longer than the raw cap: cut, and UNKNOWN even if it starts with a real status. */
    parse_ok("{\"status\":\"RUNNING_BUT_WITH_A_VERY_LONG_SUFFIX_ADDED\"}", &r);
    assert_int_equal(r.status, JOB_UNKNOWN);
    assert_int_equal(strlen(r.status_raw), JOB_STATUS_RAW_MAX);
    assert_memory_equal(r.status_raw, "RUNNING_BUT_WITH_A_VERY_LONG_SUF", JOB_STATUS_RAW_MAX);
    /* 31 ASCII bytes then a 2-byte character: the cut keeps 31 bytes. */
    parse_ok("{\"status\":\"0123456789012345678901234567890\xc3\xa9\"}", &r);
    assert_string_equal(r.status_raw, "0123456789012345678901234567890");

    parse_fails("{}", JOB_PARSE_INVALID, "field \"status\": missing");
    parse_fails("{\"job_id\":\"abc\"}", JOB_PARSE_INVALID, "field \"status\": missing");
    parse_fails("{\"status\":null}", JOB_PARSE_INVALID, "field \"status\": not a string");
    parse_fails("{\"status\":1}", JOB_PARSE_INVALID, "field \"status\": not a string");
    parse_fails("{\"status\":[\"RUNNING\"]}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":{\"v\":\"RUNNING\"}}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":true}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"\\ud800\"}", JOB_PARSE_INVALID, "field \"status\": invalid string");
    parse_fails("{\"Status\":\"RUNNING\"}", JOB_PARSE_INVALID, "field \"status\": missing");
}

static void test_job_id_field(void **state)
{
    struct job_record r;
    char body[256];

    (void)state;
    parse_ok("{\"status\":\"INIT\",\"job_id\":\"\\u0061b_C-9\"}", &r);
    assert_string_equal(r.job_id, "ab_C-9");
    snprintf(body, sizeof(body), "{\"status\":\"INIT\",\"job_id\":\"%s\"}",
             "0123456789012345678901234567890123456789012345678901234567890123");
    parse_ok(body, &r);
    assert_int_equal(strlen(r.job_id), JOB_ID_MAX);
    snprintf(body, sizeof(body), "{\"status\":\"INIT\",\"job_id\":\"%s\"}",
             "01234567890123456789012345678901234567890123456789012345678901234");
    parse_fails(body, JOB_PARSE_INVALID, "field \"job_id\": not a valid job ID");
    parse_fails("{\"status\":\"INIT\",\"job_id\":\"\"}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"INIT\",\"job_id\":\"../etc\"}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"INIT\",\"job_id\":\"a b\"}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"INIT\",\"job_id\":\"a\\/b\"}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"INIT\",\"job_id\":\"caf\xc3\xa9\"}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"INIT\",\"job_id\":123}", JOB_PARSE_INVALID,
                "field \"job_id\": not a valid job ID");
    parse_fails("{\"status\":\"INIT\",\"job_id\":null}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"INIT\",\"job_id\":[]}", JOB_PARSE_INVALID, NULL);
}

static void test_job_type_field(void **state)
{
    struct job_record r;
    char body[512], val[JOB_TYPE_MAX + 2];

    (void)state;
    memset(val, 't', JOB_TYPE_MAX);
    val[JOB_TYPE_MAX] = '\0';
    snprintf(body, sizeof(body), "{\"status\":\"INIT\",\"job_type\":\"%s\"}", val);
    parse_ok(body, &r);
    assert_string_equal(r.job_type, val);
    val[JOB_TYPE_MAX] = 't';
    val[JOB_TYPE_MAX + 1] = '\0';
    snprintf(body, sizeof(body), "{\"status\":\"INIT\",\"job_type\":\"%s\"}", val);
    parse_fails(body, JOB_PARSE_TOO_LARGE, "field \"job_type\": longer than 128 bytes");
    parse_ok("{\"status\":\"INIT\",\"job_type\":\"add\\u0020member\"}", &r);
    assert_string_equal(r.job_type, "add member");
    parse_fails("{\"status\":\"INIT\",\"job_type\":7}", JOB_PARSE_INVALID,
                "field \"job_type\": not a string");
    parse_fails("{\"status\":\"INIT\",\"job_type\":{}}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"INIT\",\"job_type\":false}", JOB_PARSE_INVALID, NULL);
}

static void test_time_fields(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok("{\"status\":\"SUCCESS\",\"begin_time\":\"2017-09-29T09:49:37Z\","
             "\"end_time\":\"2017-09-29T11:50:03.5+02:00\"}",
             &r);
    assert_true(fabs(r.begin_time - 1506678577.0) < 1e-6);
    assert_true(fabs(r.end_time - 1506678603.5) < 1e-6); /* 11:50 at +02:00 is 09:50Z */
    parse_ok("{\"status\":\"SUCCESS\",\"begin_time\":\"2017-09-29T09:49:37.399Z\"}", &r);
    assert_int_equal(r.has_begin, 1);
    assert_int_equal(r.has_end, 0);

    parse_fails("{\"status\":\"SUCCESS\",\"end_time\":\"yesterday\"}", JOB_PARSE_INVALID,
                "field \"end_time\": not a valid timestamp");
    parse_fails("{\"status\":\"SUCCESS\",\"begin_time\":\"2017-02-30T00:00:00Z\"}",
                JOB_PARSE_INVALID, "field \"begin_time\": not a valid timestamp");
    parse_fails("{\"status\":\"SUCCESS\",\"begin_time\":\"2017-09-29T09:49:37.399\"}",
                JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"begin_time\":\" \"}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"begin_time\":1506678577}", JOB_PARSE_INVALID,
                "field \"begin_time\": not a string");
    parse_fails("{\"status\":\"SUCCESS\",\"end_time\":{}}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"end_time\":\"2017-09-29T09:49:37.399Z"
                "                                                                 \"}",
                JOB_PARSE_INVALID, "field \"end_time\": not a valid timestamp");
    parse_fails("{\"status\":\"SUCCESS\",\"end_time\":\"\\ud800\"}", JOB_PARSE_INVALID, NULL);
}

static void test_error_code_field(void **state)
{
    struct job_record r;
    char body[512], val[JOB_ERROR_CODE_MAX + 2];

    (void)state;
    memset(val, 'E', JOB_ERROR_CODE_MAX);
    val[JOB_ERROR_CODE_MAX] = '\0';
    snprintf(body, sizeof(body), "{\"status\":\"FAIL\",\"error_code\":\"%s\"}", val);
    parse_ok(body, &r);
    assert_string_equal(r.error_code, val);
    val[JOB_ERROR_CODE_MAX] = 'E';
    val[JOB_ERROR_CODE_MAX + 1] = '\0';
    snprintf(body, sizeof(body), "{\"status\":\"FAIL\",\"error_code\":\"%s\"}", val);
    parse_fails(body, JOB_PARSE_TOO_LARGE, "field \"error_code\": longer than 128 bytes");
    parse_fails("{\"status\":\"FAIL\",\"error_code\":1003}", JOB_PARSE_INVALID,
                "field \"error_code\": not a string");
    parse_fails("{\"status\":\"FAIL\",\"error_code\":[]}", JOB_PARSE_INVALID, NULL);
}

/* Build {"status":"FAIL","fail_reason":"<prefix><unit x count>"}. */
static char *fail_reason_body(const char *key, const char *prefix, const char *unit, int count)
{
    size_t cap = 128 + strlen(prefix) + strlen(unit) * (size_t)count;
    char *b = malloc(cap);
    size_t n;
    int i;

    assert_non_null(b);
    n = (size_t)snprintf(b, cap, "{\"status\":\"FAIL\",\"%s\":\"%s", key, prefix);
    for (i = 0; i < count; i++)
        n += (size_t)snprintf(b + n, cap - n, "%s", unit);
    snprintf(b + n, cap - n, "\"}");
    return b;
}

static void test_fail_reason_cut(void **state)
{
    struct job_record r;
    char *b;
    size_t i;

    (void)state;
    /* 300 ASCII bytes: cut to 256. */
    b = fail_reason_body("fail_reason", "", "x", 300);
    parse_ok(b, &r);
    assert_int_equal(strlen(r.fail_reason), JOB_FAIL_REASON_MAX);
    free(b);
    /* One ASCII byte then 2-byte characters: 1 + 2k <= 256 -> 255 bytes, never half a char. */
    b = fail_reason_body("fail_reason", "a", "\xc3\xa9", 200);
    parse_ok(b, &r);
    assert_int_equal(strlen(r.fail_reason), 255);
    for (i = 1; i < 255; i += 2)
        assert_memory_equal(r.fail_reason + i, "\xc3\xa9", 2);
    free(b);
    /* Escapes are decoded before cutting: 128 x \u00e9 (768 raw bytes) is exactly 256 bytes. */
    b = fail_reason_body("fail_reason", "", "\\u00e9", 128);
    parse_ok(b, &r);
    assert_int_equal(strlen(r.fail_reason), 256);
    free(b);
    /* 4-byte characters from surrogate pairs: 64 fit exactly, the 65th is dropped whole. */
    b = fail_reason_body("fail_reason", "", "\\ud83d\\ude00", 65);
    parse_ok(b, &r);
    assert_int_equal(strlen(r.fail_reason), 256);
    assert_memory_equal(r.fail_reason + 252, "\xf0\x9f\x98\x80", 4);
    free(b);
    b = fail_reason_body("fail_reason", "ab", "\\ud83d\\ude00", 64);
    parse_ok(b, &r);
    assert_int_equal(strlen(r.fail_reason), 254);
    free(b);
    /* Still an error when the text itself is broken, even past the cut. */
    b = fail_reason_body("fail_reason", "", "x", 300);
    memcpy(strstr(b, "\"}"), "\\ud800\"}", 9);
    parse_fails(b, JOB_PARSE_INVALID, "field \"fail_reason\": invalid string");
    free(b);
    parse_fails("{\"status\":\"FAIL\",\"fail_reason\":42}", JOB_PARSE_INVALID,
                "field \"fail_reason\": not a string");
    parse_fails("{\"status\":\"FAIL\",\"fail_reason\":{\"m\":1}}", JOB_PARSE_INVALID, NULL);
}

static void assert_resource(const char *entities, const char *want)
{
    char body[1024];
    struct job_record r;

    snprintf(body, sizeof(body), "{\"status\":\"SUCCESS\",\"entities\":%s}", entities);
    parse_ok(body, &r);
    if (strcmp(r.resource_id, want) != 0)
        fail_msg("entities %s: resource_id \"%s\", want \"%s\"", entities, r.resource_id, want);
}

static void test_entities_shapes(void **state)
{
    (void)state;
    assert_resource("{\"elb\":{\"id\":\"E1\",\"name\":\"n\"}}", "E1");
    assert_resource("{\"elb_id\":\"E2\"}", "E2");
    assert_resource("{\"elb_id\":\"E2\",\"elb\":{\"id\":\"E1\"}}", "E1"); /* elb.id first */
    assert_resource("{\"elb\":{\"id\":5},\"elb_id\":\"E2\"}", "E2");
    assert_resource("{\"elb\":\"x\",\"elb_id\":\"E2\"}", "E2");
    assert_resource("{\"vpc_id\":\"V\",\"elb_id\":\"E2\"}", "E2"); /* elb_id before *_id */
    assert_resource("{\"name\":\"x\",\"pool_id\":\"P\",\"member_id\":\"M\"}", "P");
    assert_resource("{\"a_id\":5,\"b_id\":null,\"c_id\":\"C\"}", "C");
    assert_resource("{\"pool\\u005fid\":\"P\"}", "P"); /* key decoded */
    assert_resource("{\"id\":\"not-a-suffix-match\"}", "");
    assert_resource("{\"_id\":\"U\"}", "U");
    assert_resource("{\"listener\":{\"id\":\"L\",\"x\":1}}", "L");
    assert_resource("{\"listener\":{\"name\":\"n\"},\"pool\":{\"id\":\"P2\"}}", "P2");
    assert_resource("{\"listener\":{\"id\":\"L\"},\"pool_id\":\"P\"}", "P"); /* *_id first */
    assert_resource("{\"listener\":{\"id\":7},\"members\":[{\"id\":\"M\"}]}", "");
    assert_resource("{\"server\":{\"id\":\"S\\n\\u00e9\"}}", "S\n\xc3\xa9");
    assert_resource("{}", "");
    assert_resource("null", "");
    assert_resource("{\"elb\":{\"id\":\"\"},\"elb_id\":\"E2\"}", ""); /* present, empty */
    assert_resource("{\"sub_jobs_total\":3,\"errorcode_message\":\"x\"}", "");
}

static void test_entities_errors(void **state)
{
    char body[512], id[JOB_RESOURCE_ID_MAX + 2];
    struct job_record r;

    (void)state;
    parse_fails("{\"status\":\"SUCCESS\",\"entities\":[]}", JOB_PARSE_INVALID,
                "field \"entities\": not an object");
    parse_fails("{\"status\":\"SUCCESS\",\"entities\":\"\"}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"entities\":1}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"entities\":true}", JOB_PARSE_INVALID, NULL);
    memset(id, 'i', JOB_RESOURCE_ID_MAX);
    id[JOB_RESOURCE_ID_MAX] = '\0';
    snprintf(body, sizeof(body), "{\"status\":\"SUCCESS\",\"entities\":{\"elb_id\":\"%s\"}}", id);
    parse_ok(body, &r);
    assert_string_equal(r.resource_id, id);
    id[JOB_RESOURCE_ID_MAX] = 'i';
    id[JOB_RESOURCE_ID_MAX + 1] = '\0';
    snprintf(body, sizeof(body), "{\"status\":\"SUCCESS\",\"entities\":{\"elb_id\":\"%s\"}}", id);
    parse_fails(body, JOB_PARSE_TOO_LARGE, "field \"entities\": resource id longer than 128 bytes");
    parse_fails("{\"status\":\"SUCCESS\",\"entities\":{\"elb_id\":\"\\udc00\"}}", JOB_PARSE_INVALID,
                NULL);
}

static void test_sub_jobs_empty_forms(void **state)
{
    static const char *const forms[] = {"[]", "null", "\"\""};
    char body[128];
    struct job_record r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(body, sizeof(body), "{\"status\":\"SUCCESS\",\"sub_jobs\":%s}", forms[i]);
        parse_ok(body, &r);
        assert_no_sub_jobs(&r);
    }
}

static void test_sub_jobs_counts(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok("{\"status\":\"RUNNING\",\"sub_jobs\":[{\"status\":\"SUCCESS\"},"
             "{\"status\":\"FAIL\",\"job_id\":\"x\",\"error_code\":\"ELB.1\"},"
             "{\"status\":\"SUCCESS\"},{\"status\":\"WEIRD\"},{\"status\":\"RUNNING\"},"
             "{\"status\":\"INIT\",\"sub_jobs\":null}]}",
             &r);
    assert_int_equal(r.has_sub_jobs, 1);
    assert_int_equal(r.sub_jobs[JOB_SUCCESS], 2);
    assert_int_equal(r.sub_jobs[JOB_FAIL], 1);
    assert_int_equal(r.sub_jobs[JOB_UNKNOWN], 1);
    assert_int_equal(r.sub_jobs[JOB_RUNNING], 1);
    assert_int_equal(r.sub_jobs[JOB_INIT], 1);
}

static void test_sub_jobs_nested(void **state)
{
    struct job_record r;

    (void)state;
    /* Only direct sub-jobs are counted; nested ones are validated. */
    parse_ok("{\"status\":\"RUNNING\",\"sub_jobs\":[{\"status\":\"RUNNING\",\"sub_jobs\":["
             "{\"status\":\"FAIL\"},{\"status\":\"FAIL\",\"sub_jobs\":[{\"status\":\"INIT\"}]}]},"
             "{\"status\":\"SUCCESS\",\"sub_jobs\":\"\"}]}",
             &r);
    assert_int_equal(r.has_sub_jobs, 1);
    assert_int_equal(r.sub_jobs[JOB_RUNNING], 1);
    assert_int_equal(r.sub_jobs[JOB_SUCCESS], 1);
    assert_int_equal(r.sub_jobs[JOB_FAIL], 0);
    assert_int_equal(r.sub_jobs[JOB_INIT], 0);

    parse_fails(
        "{\"status\":\"RUNNING\",\"sub_jobs\":[{\"status\":\"RUNNING\",\"sub_jobs\":["
        "{\"status\":\"FAIL\"},{\"status\":\"FAIL\",\"sub_jobs\":[{\"state\":\"INIT\"}]}]}]}",
        JOB_PARSE_INVALID, "field \"sub_jobs[0].sub_jobs[1].sub_jobs[0].status\": missing");
    parse_fails("{\"status\":\"RUNNING\",\"sub_jobs\":[{\"status\":\"RUNNING\","
                "\"sub_jobs\":{\"status\":\"FAIL\"}}]}",
                JOB_PARSE_INVALID, "field \"sub_jobs[0].sub_jobs\": not an array");
    parse_fails("{\"status\":\"RUNNING\",\"sub_jobs\":[{\"status\":\"RUNNING\","
                "\"sub_jobs\":[null]}]}",
                JOB_PARSE_INVALID, "field \"sub_jobs[0].sub_jobs[0]\": not an object");
}

static void test_sub_jobs_errors(void **state)
{
    (void)state;
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":\"none\"}", JOB_PARSE_INVALID,
                "field \"sub_jobs\": not an array");
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":{}}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":0}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":false}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":[{\"status\":\"SUCCESS\"},\"x\"]}",
                JOB_PARSE_INVALID, "field \"sub_jobs[1]\": not an object");
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":[[]]}", JOB_PARSE_INVALID, NULL);
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":[{}]}", JOB_PARSE_INVALID,
                "field \"sub_jobs[0].status\": missing");
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":[{\"status\":null}]}", JOB_PARSE_INVALID,
                "field \"sub_jobs[0].status\": not a string");
    parse_fails("{\"status\":\"SUCCESS\",\"sub_jobs\":[{\"status\":3}]}", JOB_PARSE_INVALID, NULL);
}

/* A body with n direct sub-jobs. */
static char *many_sub_jobs(int n)
{
    size_t cap = 64 + (size_t)n * 24, len;
    char *b = malloc(cap);
    int i;

    assert_non_null(b);
    len = (size_t)snprintf(b, cap, "{\"status\":\"RUNNING\",\"sub_jobs\":[");
    for (i = 0; i < n; i++)
        len += (size_t)snprintf(b + len, cap - len, "%s{\"status\":\"%s\"}", i ? "," : "",
                                i % 2 ? "SUCCESS" : "RUNNING");
    snprintf(b + len, cap - len, "]}");
    return b;
}

static void test_sub_jobs_cap(void **state)
{
    struct job_record r;
    char *b;

    (void)state;
    b = many_sub_jobs(JOB_SUB_JOBS_MAX);
    parse_ok(b, &r);
    assert_int_equal(r.sub_jobs[JOB_SUCCESS] + r.sub_jobs[JOB_RUNNING], JOB_SUB_JOBS_MAX);
    assert_int_equal(r.sub_jobs[JOB_SUCCESS], JOB_SUB_JOBS_MAX / 2);
    free(b);
    b = many_sub_jobs(JOB_SUB_JOBS_MAX + 1);
    parse_fails(b, JOB_PARSE_TOO_LARGE, "field \"sub_jobs\": more than 1024 sub-jobs");
    free(b);
}

/* Sub-jobs nested levels deep, each level one sub-job. */
static char *nested_sub_jobs(int levels)
{
    size_t cap = 64 + (size_t)levels * 40, len;
    char *b = malloc(cap);
    int i;

    assert_non_null(b);
    len = (size_t)snprintf(b, cap, "{\"status\":\"RUNNING\"");
    for (i = 0; i < levels; i++)
        len += (size_t)snprintf(b + len, cap - len, ",\"sub_jobs\":[{\"status\":\"INIT\"");
    for (i = 0; i < levels; i++)
        len += (size_t)snprintf(b + len, cap - len, "}]");
    snprintf(b + len, cap - len, "}");
    return b;
}

static void test_sub_jobs_depth(void **state)
{
    struct job_record r;
    int levels = (JSON_MAX_DEPTH - 1) / 2; /* each level is an array and an object */
    char *b;

    (void)state;
    b = nested_sub_jobs(levels);
    parse_ok(b, &r);
    assert_int_equal(r.sub_jobs[JOB_INIT], 1);
    free(b);
    b = nested_sub_jobs(levels + 1);
    parse_fails(b, JOB_PARSE_TOO_LARGE, NULL);
    free(b);
}

static void test_profile_sub_jobs_in_entities(void **state)
{
    struct job_record r;
    char err[ERR_MAX];
    const char *b;

    (void)state;
    b = "{\"status\":\"RUNNING\",\"entities\":{\"sub_jobs_total\":2,\"sub_jobs\":["
        "{\"status\":\"SUCCESS\",\"entities\":{\"server_id\":\"s1\"}},"
        "{\"status\":\"FAIL\",\"entities\":{\"sub_jobs\":[{\"status\":\"INIT\"}]}}]},"
        "\"sub_jobs\":\"ignored for this profile\"}";
    assert_int_equal(parse_p(&ecs_like, b, strlen(b), &r, err), JOB_PARSE_OK);
    assert_int_equal(r.has_sub_jobs, 1);
    assert_int_equal(r.sub_jobs[JOB_SUCCESS], 1);
    assert_int_equal(r.sub_jobs[JOB_FAIL], 1);
    assert_int_equal(r.sub_jobs[JOB_INIT], 0);
    /* The top-level profile ignores entities.sub_jobs but rejects the string. */
    assert_int_equal(parse_p(profile_default(), b, strlen(b), &r, err), JOB_PARSE_INVALID);
    assert_string_equal(err, "field \"sub_jobs\": not an array");

    b = "{\"status\":\"RUNNING\",\"entities\":{\"sub_jobs\":7}}";
    assert_int_equal(parse_p(&ecs_like, b, strlen(b), &r, err), JOB_PARSE_INVALID);
    assert_string_equal(err, "field \"entities.sub_jobs\": not an array");
    b = "{\"status\":\"RUNNING\",\"entities\":{\"sub_jobs\":[{\"status\":\"INIT\","
        "\"entities\":[]}]}}";
    assert_int_equal(parse_p(&ecs_like, b, strlen(b), &r, err), JOB_PARSE_INVALID);
    assert_string_equal(err, "field \"entities.sub_jobs[0].entities\": not an object");
    b = "{\"status\":\"RUNNING\",\"entities\":{\"sub_jobs\":[{\"status\":\"INIT\","
        "\"entities\":{\"sub_jobs\":[1]}}]}}";
    assert_int_equal(parse_p(&ecs_like, b, strlen(b), &r, err), JOB_PARSE_INVALID);
    assert_string_equal(err, "field \"entities.sub_jobs[0].entities.sub_jobs[0]\": not an object");
    b = "{\"status\":\"RUNNING\"}";
    assert_int_equal(parse_p(&ecs_like, b, strlen(b), &r, err), JOB_PARSE_OK);
    assert_no_sub_jobs(&r);
}

static void test_profile_envelope(void **state)
{
    struct job_record r;
    char err[ERR_MAX];
    const char *b;

    (void)state;
    b = "{\"job\":{\"status\":\"FAIL\",\"job_id\":\"abc\",\"error_code\":\"ELB.9\","
        "\"error_msg\":\"boom\",\"fail_reason\":\"not this one\"},\"request_id\":\"r\"}";
    assert_int_equal(parse_p(&v3_like, b, strlen(b), &r, err), JOB_PARSE_OK);
    assert_int_equal(r.status, JOB_FAIL);
    assert_string_equal(r.job_id, "abc");
    assert_string_equal(r.fail_reason, "boom");
    b = "{\"status\":\"FAIL\"}";
    assert_int_equal(parse_p(&v3_like, b, strlen(b), &r, err), JOB_PARSE_INVALID);
    assert_string_equal(err, "field \"job\": missing");
    b = "{\"job\":[{\"status\":\"FAIL\"}]}";
    assert_int_equal(parse_p(&v3_like, b, strlen(b), &r, err), JOB_PARSE_INVALID);
    assert_string_equal(err, "field \"job\": not an object");
    b = "{\"job\":{}}";
    assert_int_equal(parse_p(&v3_like, b, strlen(b), &r, err), JOB_PARSE_INVALID);
    assert_string_equal(err, "field \"status\": missing");
}

static void test_unknown_fields_ignored(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok("{\"message\":{\"deep\":[1,2,{\"x\":null}]},\"code\":500,\"status\":\"SUCCESS\","
             "\"extra\":[true,false],\"request_id\":\"\\ud800\",\"n\":-1e400}",
             &r);
    assert_int_equal(r.status, JOB_SUCCESS);
}

static void test_body_errors(void **state)
{
    (void)state;
    parse_fails("", JOB_PARSE_INVALID, "body: empty document");
    parse_fails(" \r\n\t", JOB_PARSE_INVALID, "body: empty document");
    parse_fails("{\"status\":", JOB_PARSE_INVALID, "body: truncated JSON");
    parse_fails("[]", JOB_PARSE_INVALID, "body: not a JSON object");
    parse_fails("\"status\"", JOB_PARSE_INVALID, "body: not a JSON object");
    parse_fails("null", JOB_PARSE_INVALID, "body: not a JSON object");
    parse_fails("{\"status\":\"RUNNING\",}", JOB_PARSE_INVALID,
                "body: invalid JSON at byte 19: unexpected character");
    parse_fails("{\"status\":\"RUNNING\"} {}", JOB_PARSE_INVALID,
                "body: invalid JSON at byte 21: more than one root value");
    parse_fails("{\"status\":\"RUN\xffNING\"}", JOB_PARSE_INVALID,
                "body: invalid JSON at byte 14: invalid UTF-8 in string");
    parse_fails("<html>502 Bad Gateway</html>", JOB_PARSE_INVALID, NULL);
    {
        static const char nul[] = "{\"status\":\"RUNNING\"}\0";
        struct job_record r;
        char err[ERR_MAX];

        assert_int_equal(parse_p(profile_default(), nul, sizeof(nul) - 1, &r, err),
                         JOB_PARSE_INVALID);
    }
}

static void test_caps(void **state)
{
    struct job_record r;
    char err[ERR_MAX];
    size_t n, i;
    char *b;

    (void)state;
    /* A huge string in a field we would cut anyway is still over the JSON cap. */
    b = fail_reason_body("fail_reason", "", "x", JSON_MAX_STRING + 1);
    parse_fails(b, JOB_PARSE_TOO_LARGE, NULL);
    free(b);
    /* Deep nesting in an ignored field. */
    b = malloc(256);
    assert_non_null(b);
    n = (size_t)snprintf(b, 256, "{\"status\":\"INIT\",\"x\":");
    for (i = 0; i < JSON_MAX_DEPTH; i++)
        b[n++] = '[';
    for (i = 0; i < JSON_MAX_DEPTH; i++)
        b[n++] = ']';
    b[n++] = '}';
    b[n] = '\0';
    parse_fails(b, JOB_PARSE_TOO_LARGE, "body: too large: nesting too deep (byte 52)");
    free(b);
    /* Too many tokens. */
    n = (size_t)JSON_MAX_TOKENS * 2 + 64;
    b = malloc(n);
    assert_non_null(b);
    n = (size_t)snprintf(b, n, "{\"status\":\"INIT\",\"x\":[0");
    for (i = 0; i < JSON_MAX_TOKENS; i++) {
        b[n++] = ',';
        b[n++] = '0';
    }
    memcpy(b + n, "]}", 3);
    parse_fails(b, JOB_PARSE_TOO_LARGE, NULL);
    free(b);
    /* An oversize body, valid JSON otherwise. */
    n = JSON_MAX_INPUT + 1;
    b = malloc(n + 1);
    assert_non_null(b);
    memset(b, ' ', n);
    memcpy(b, "{\"status\":\"INIT\"}", 17);
    assert_int_equal(parse_p(profile_default(), b, n, &r, err), JOB_PARSE_TOO_LARGE);
    assert_int_equal(strncmp(err, "body: too large: ", 17), 0);
    assert_int_equal(parse_p(profile_default(), b, n - 1, &r, err), JOB_PARSE_OK);
    free(b);
}

/*
 * Every prefix of a valid body that loses more than trailing whitespace is an
 * error (and never a crash or an out-of-bounds read).
 */
static void check_prefixes(const char *body)
{
    size_t len = strlen(body), cut, end = len;
    struct job_record r;
    char err[ERR_MAX];

    while (end > 0 && strchr(" \t\r\n", body[end - 1]) != NULL)
        end--;
    for (cut = 0; cut < end; cut++) {
        char *copy = malloc(cut + 1); /* exactly cut bytes used: ASan sees any overread */
        int rc;

        assert_non_null(copy);
        memcpy(copy, body, cut);
        rc = parse_p(profile_default(), copy, cut, &r, err);
        if (rc != JOB_PARSE_INVALID)
            fail_msg("prefix of %zu bytes: rc %d", cut, rc);
        if (strcmp(err, cut == 0 ? "body: empty document" : "body: truncated JSON") != 0)
            fail_msg("prefix of %zu bytes: err \"%s\"", cut, err);
        free(copy);
    }
    for (cut = end; cut <= len; cut++)
        assert_int_equal(parse_p(profile_default(), body, cut, &r, err), JOB_PARSE_OK);
}

static void test_truncated_bodies(void **state)
{
    (void)state;
    check_prefixes(seed_example);
    check_prefixes(running_example);
    check_prefixes(fail_example);
    check_prefixes("{\"status\":\"RUNNING\",\"sub_jobs\":[{\"status\":\"FAIL\",\"sub_jobs\":["
                   "{\"status\":\"INIT\"}]},{\"status\":\"SUCCESS\"}],\"n\":-12.5e+3,"
                   "\"t\":true,\"f\":false,\"z\":null}");
}

/* Each field with each wrong JSON type is rejected as INVALID, naming the field. */
static void test_wrong_types_table(void **state)
{
    static const struct {
        const char *field;
        const char *wrong[4];
    } cases[] = {
        {"status", {"null", "1", "[]", "{}"}},      {"job_id", {"null", "1", "[]", "true"}},
        {"job_type", {"1", "[]", "{}", "true"}},    {"begin_time", {"1", "[]", "{}", "false"}},
        {"end_time", {"1", "[]", "{}", "true"}},    {"error_code", {"1", "[]", "{}", "true"}},
        {"fail_reason", {"1", "[]", "{}", "true"}}, {"entities", {"1", "[]", "\"x\"", "true"}},
        {"sub_jobs", {"1", "{}", "\"x\"", "true"}},
    };
    char body[256], want[128];
    size_t i, j;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (j = 0; j < 4; j++) {
            if (strcmp(cases[i].field, "status") == 0)
                snprintf(body, sizeof(body), "{\"status\":%s}", cases[i].wrong[j]);
            else
                snprintf(body, sizeof(body), "{\"status\":\"RUNNING\",\"%s\":%s}", cases[i].field,
                         cases[i].wrong[j]);
            snprintf(want, sizeof(want), "field \"%s\": ", cases[i].field);
            {
                struct job_record r;
                char err[ERR_MAX];

                if (parse(body, &r, err) != JOB_PARSE_INVALID)
                    fail_msg("accepted %s", body);
                if (strncmp(err, want, strlen(want)) != 0)
                    fail_msg("%s: err \"%s\" does not name the field", body, err);
            }
        }
    }
}

static void test_err_buffer_small(void **state)
{
    struct job_record r;
    char err[8];

    (void)state;
    memset(err, 'X', sizeof(err));
    assert_int_equal(job_parse(profile_default(), "{}", 2, &r, err, 4), JOB_PARSE_INVALID);
    assert_string_equal(err, "fie");
    assert_int_equal(err[4], 'X');
    assert_int_equal(job_parse(profile_default(), "{", 1, &r, err, 1), JOB_PARSE_INVALID);
    assert_string_equal(err, "");
}

/* No error buffer and no profile: still safe; the default profile is used. */
static void test_null_err_and_profile(void **state)
{
    char deep[2 * (JSON_MAX_DEPTH + 1)];
    struct job_record r;

    (void)state;
    assert_int_equal(job_parse(profile_default(), "{}", 2, &r, NULL, 0), JOB_PARSE_INVALID);
    memset(deep, '[', JSON_MAX_DEPTH + 1);
    memset(deep + JSON_MAX_DEPTH + 1, ']', JSON_MAX_DEPTH + 1);
    assert_int_equal(job_parse(profile_default(), deep, sizeof(deep), &r, NULL, 0),
                     JOB_PARSE_TOO_LARGE);
    assert_int_equal(job_parse(NULL, "{\"status\":\"FAIL\"}", 17, &r, NULL, 0), JOB_PARSE_OK);
    assert_int_equal(r.status, JOB_FAIL);
}

/* Parse an error body; returns the rc; out starts filled with a marker. */
static int perr(const char *body, struct api_error *e)
{
    memset(e, 0, sizeof(*e));
    snprintf(e->code, sizeof(e->code), "untouched");
    snprintf(e->message, sizeof(e->message), "untouched");
    return job_parse_error(body, strlen(body), e);
}

static void test_error_shapes(void **state)
{
    struct api_error e;

    (void)state;
    assert_int_equal(perr("{\"error\":{\"message\":\"Invalid token\",\"code\":\"ELB.8902\"}}", &e),
                     0);
    assert_string_equal(e.message, "Invalid token");
    assert_string_equal(e.code, "ELB.8902");
    assert_int_equal(perr("{\"error_msg\":\"Incorrect IAM authentication information\","
                          "\"error_code\":\"APIGW.0301\",\"request_id\":\"abc\"}",
                          &e),
                     0);
    assert_string_equal(e.message, "Incorrect IAM authentication information");
    assert_string_equal(e.code, "APIGW.0301");
    assert_int_equal(perr("{\"message\":\"Too many requests\",\"code\":\"APIGW.0308\"}", &e), 0);
    assert_string_equal(e.message, "Too many requests");
    assert_string_equal(e.code, "APIGW.0308");
    /* Numbers as text; a missing half is "". */
    assert_int_equal(perr("{\"error\":{\"code\":404}}", &e), 0);
    assert_string_equal(e.code, "404");
    assert_string_equal(e.message, "");
    assert_int_equal(perr("{\"code\":-1.5e3}", &e), 0);
    assert_string_equal(e.code, "-1.5e3");
    assert_int_equal(perr("{\"message\":\"only text\"}", &e), 0);
    assert_string_equal(e.message, "only text");
    assert_string_equal(e.code, "");
    /* Decoded text. */
    assert_int_equal(perr("{\"error_msg\":\"a\\\"b\\u00e9\\n\"}", &e), 0);
    assert_string_equal(e.message, "a\"b\xc3\xa9\n");
    /* Shape order: "error" object first, then error_msg/error_code, then message/code. */
    assert_int_equal(
        perr("{\"message\":\"m3\",\"error_msg\":\"m2\",\"error\":{\"message\":\"m1\"}}", &e), 0);
    assert_string_equal(e.message, "m1");
    assert_int_equal(perr("{\"message\":\"m3\",\"error_code\":\"c2\"}", &e), 0);
    assert_string_equal(e.code, "c2");
    assert_string_equal(e.message, "");
    /* An "error" that is not a usable object falls through to the other shapes. */
    assert_int_equal(perr("{\"error\":\"denied\",\"message\":\"m3\"}", &e), 0);
    assert_string_equal(e.message, "m3");
    assert_int_equal(perr("{\"error\":{\"message\":null},\"code\":\"c3\"}", &e), 0);
    assert_string_equal(e.code, "c3");
}

static void test_error_shapes_rejected(void **state)
{
    static const char *const bad[] = {
        "",
        "{",
        "[]",
        "\"message\"",
        "{}",
        "{\"error\":{}}",
        "{\"error\":null}",
        "{\"error\":\"denied\"}",
        "{\"msg\":\"x\"}",
        "{\"message\":null,\"code\":null}",
        "{\"message\":{},\"code\":[]}",
        "{\"message\":true}",
        "{\"message\":\"\\ud800\"}",
        "{\"status\":\"RUNNING\",\"error_code\":null,\"fail_reason\":null}",
        "<html>",
    };
    struct api_error e;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (perr(bad[i], &e) != JOB_PARSE_INVALID)
            fail_msg("matched: %s", bad[i]);
        assert_string_equal(e.code, "untouched");
        assert_string_equal(e.message, "untouched");
    }
}

static void test_error_shapes_cut(void **state)
{
    char body[2048];
    struct api_error e;
    size_t n, i;

    (void)state;
    n = (size_t)snprintf(body, sizeof(body), "{\"message\":\"");
    for (i = 0; i < 300; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "\xc3\xa9");
    n += (size_t)snprintf(body + n, sizeof(body) - n, "\",\"code\":\"");
    for (i = 0; i < 100; i++)
        body[n++] = 'c';
    snprintf(body + n, sizeof(body) - n, "\"}");
    assert_int_equal(perr(body, &e), 0);
    assert_int_equal(strlen(e.message), 254); /* 255 would split a character */
    assert_int_equal(strlen(e.code), sizeof(e.code) - 1);
    n = (size_t)snprintf(body, sizeof(body), "{\"code\":1");
    for (i = 0; i < 100; i++)
        body[n++] = '0';
    snprintf(body + n, sizeof(body) - n, "}");
    assert_int_equal(perr(body, &e), 0);
    assert_int_equal(strlen(e.code), sizeof(e.code) - 1);
    assert_int_equal(e.code[0], '1');
}

static void test_job_id_valid(void **state)
{
    char id[JOB_ID_MAX + 2];

    (void)state;
    assert_true(job_id_valid("ff8080825ecc523f015ecd0a98f82f77", 32));
    assert_true(job_id_valid("a", 1));
    assert_true(job_id_valid("A-Z_a-z_0-9", 11));
    assert_true(job_id_valid("abc/def", 3)); /* only n bytes are looked at */
    assert_false(job_id_valid("", 0));
    assert_false(job_id_valid(NULL, 0));
    assert_false(job_id_valid("abc/def", 7));
    assert_false(job_id_valid("a.b", 3));
    assert_false(job_id_valid("a b", 3));
    assert_false(job_id_valid("a%2f", 4));
    assert_false(job_id_valid("caf\xc3\xa9", 5));
    assert_false(job_id_valid("a\0b", 3));
    assert_false(job_id_valid("..", 2));
    memset(id, 'a', sizeof(id));
    assert_true(job_id_valid(id, JOB_ID_MAX));
    assert_false(job_id_valid(id, JOB_ID_MAX + 1));
}

/* ---- the four profiles on realistic answers (api-notes.md section 3) ----------------------- */

#define PROFILE(name) profile_find(name)

/* Parse body for the profile called name; it must be accepted. */
static void parse_ok_p(const char *name, const char *body, struct job_record *r)
{
    char err[ERR_MAX];

    assert_non_null(PROFILE(name));
    if (parse_p(PROFILE(name), body, strlen(body), r, err) != JOB_PARSE_OK)
        fail_msg("%s rejected (%s): %s", name, err, body);
}

/* Parse body for the profile called name; it must fail with want_rc and, if set, want_err. */
static void parse_fails_p(const char *name, const char *body, int want_rc, const char *want_err)
{
    struct job_record r;
    char err[ERR_MAX];
    int rc = parse_p(PROFILE(name), body, strlen(body), &r, err);

    if (rc != want_rc)
        fail_msg("%s: rc %d (%s), want %d: %s", name, rc, err, want_rc, body);
    if (want_err != NULL && strcmp(err, want_err) != 0)
        fail_msg("%s: err \"%s\", want \"%s\"", name, err, want_err);
}

/* Assert the direct sub-job counts: n pairs of (status, count); every other status 0. */
static void assert_sub_jobs(const struct job_record *r, int n, ...)
{
    unsigned want[JOB_STATUS_COUNT] = {0};
    va_list ap;
    int i, s;

    va_start(ap, n);
    for (i = 0; i < n; i++) {
        s = va_arg(ap, int);
        want[s] = va_arg(ap, unsigned);
    }
    va_end(ap);
    for (s = 0; s < JOB_STATUS_COUNT; s++)
        if (r->sub_jobs[s] != want[s])
            fail_msg("sub-jobs in %s: %u, want %u", job_status_name((enum job_status)s),
                     r->sub_jobs[s], want[s]);
}

/* ECS batch creation that succeeded: the shape of the ECS API page, our own ids. */
static const char ecs_success[] =
    "{\"status\":\"SUCCESS\",\"entities\":{\"sub_jobs_total\":1,"
    "\"sub_jobs\":[{\"status\":\"SUCCESS\","
    "\"entities\":{\"server_id\":\"5d2b7f0e-8c1a-4e0b-9a57-3c6f1d2e4b10\"},"
    "\"job_id\":\"ff80808288d41e1b0189902609551a01\",\"job_type\":\"createSingleServer\","
    "\"begin_time\":\"2023-07-25T09:30:12.104Z\",\"end_time\":\"2023-07-25T09:31:40.877Z\","
    "\"error_code\":null,\"fail_reason\":null}]},"
    "\"job_id\":\"ff80808288d41e1b0189902609551a00\",\"job_type\":\"createServer\","
    "\"begin_time\":\"2023-07-25T09:30:10.512Z\",\"end_time\":\"2023-07-25T09:31:44.020Z\","
    "\"error_code\":null,\"fail_reason\":null}";

/*
 * ECS batch creation with one server failed: the top level says nothing, the failed
 * sub-job has its code, a terse fail_reason and the real reason in errorcode_message.
 */
static const char ecs_fail[] =
    "{\"status\":\"FAIL\",\"entities\":{\"sub_jobs_total\":2,"
    "\"sub_jobs\":[{\"status\":\"SUCCESS\","
    "\"entities\":{\"server_id\":\"0e3c5a1b-2d4f-4a6b-8c9d-1e2f3a4b5c6d\"},"
    "\"job_id\":\"ff80808288d41e1b0189902609552b01\",\"job_type\":\"createSingleServer\","
    "\"begin_time\":\"2023-07-25T10:00:02.000Z\",\"end_time\":\"2023-07-25T10:01:12.345Z\","
    "\"error_code\":null,\"fail_reason\":null},{\"status\":\"FAIL\","
    "\"entities\":{\"errorcode_message\":\"Insufficient EIP quota. Apply for more,"
    " or release unused EIPs.\"},\"job_id\":\"ff80808288d41e1b0189902609552b02\","
    "\"job_type\":\"createSingleServer\",\"begin_time\":\"2023-07-25T10:00:02.010Z\","
    "\"end_time\":\"2023-07-25T10:00:09.500Z\",\"error_code\":\"Ecs.0013\","
    "\"fail_reason\":\"create eip failed\"}]},"
    "\"job_id\":\"ff80808288d41e1b0189902609552b00\",\"job_type\":\"createServer\","
    "\"begin_time\":\"2023-07-25T10:00:01.000Z\",\"end_time\":\"2023-07-25T10:01:13.000Z\","
    "\"error_code\":null,\"fail_reason\":null}";

/* EVS batch creation of two disks: sub-jobs inside entities, without a total. */
static const char evs_success[] =
    "{\"status\":\"SUCCESS\",\"entities\":{\"sub_jobs\":[{\"status\":\"SUCCESS\","
    "\"entities\":{\"volume_type\":\"SSD\",\"size\":100,"
    "\"volume_id\":\"3b5a1f2c-6d7e-4f80-9a1b-2c3d4e5f6a70\",\"name\":\"data-1\"},"
    "\"job_id\":\"ff808082739334d80173943ec9b20a01\",\"job_type\":\"createVolume\","
    "\"begin_time\":\"2023-07-25T11:00:00.120Z\",\"end_time\":\"2023-07-25T11:00:18.400Z\","
    "\"error_code\":null,\"fail_reason\":null},{\"status\":\"SUCCESS\","
    "\"entities\":{\"volume_type\":\"SSD\",\"size\":100,"
    "\"volume_id\":\"4c6b2a3d-7e8f-4091-8b2c-3d4e5f6a7b81\",\"name\":\"data-2\"},"
    "\"job_id\":\"ff808082739334d80173943ec9b20a02\",\"job_type\":\"createVolume\","
    "\"begin_time\":\"2023-07-25T11:00:00.130Z\",\"end_time\":\"2023-07-25T11:00:21.050Z\","
    "\"error_code\":null,\"fail_reason\":null}]},"
    "\"job_id\":\"ff808082739334d80173943ec9b20a00\",\"job_type\":\"batchCreateVolume\","
    "\"begin_time\":\"2023-07-25T11:00:00.000Z\",\"end_time\":\"2023-07-25T11:00:22.000Z\","
    "\"error_code\":null,\"fail_reason\":null}";

/* ELB v3: a clone that failed and whose rollback failed too, in its envelope. */
static const char v3_rollback_fail[] =
    "{\"job\":{\"status\":\"ROLLBACK_FAIL\",\"begin_time\":\"2024-03-23T08:20:42Z\","
    "\"end_time\":\"2024-03-23T08:23:05Z\","
    "\"job_id\":\"6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0\","
    "\"resource_id\":\"c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7\","
    "\"job_type\":\"cloneLoadbalancer\",\"error_code\":\"ELB.8907\","
    "\"error_msg\":\"Rollback failed: listener \\\"web-443\\\" is still in use.\","
    "\"project_id\":\"0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\","
    "\"sub_jobs\":[{\"status\":\"SUCCESS\",\"begin_time\":\"2024-03-23T08:20:43Z\","
    "\"end_time\":\"2024-03-23T08:21:10Z\","
    "\"job_id\":\"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d\",\"job_type\":\"cloneLoadbalancer\","
    "\"error_code\":\"\",\"error_msg\":\"\","
    "\"project_id\":\"0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\","
    "\"resource_id\":\"c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7\","
    "\"entities\":[{\"resource_id\":\"c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7\","
    "\"resource_type\":\"loadbalancer\"}]},{\"status\":\"ROLLBACK_FAIL\","
    "\"begin_time\":\"2024-03-23T08:21:10Z\",\"end_time\":\"2024-03-23T08:23:05Z\","
    "\"job_id\":\"1b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e\",\"job_type\":\"cloneListener\","
    "\"error_code\":\"ELB.8907\",\"error_msg\":\"Rollback failed.\","
    "\"project_id\":\"0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\",\"resource_id\":null,"
    "\"entities\":[]}]},\"request_id\":\"5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f\"}";

/* ELB v3: an upgrade that completed; error fields "" rather than null. */
static const char v3_complete[] =
    "{\"job\":{\"status\":\"COMPLETE\",\"begin_time\":\"2024-03-23T08:20:42Z\","
    "\"end_time\":\"2024-03-23T08:49:11Z\","
    "\"job_id\":\"2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70\","
    "\"resource_id\":\"c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7\",\"job_type\":\"UPGRADE\","
    "\"error_code\":\"\",\"error_msg\":\"\","
    "\"project_id\":\"0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\",\"sub_jobs\":[]},"
    "\"request_id\":\"0b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e\"}";

static void test_ecs_success(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok_p("ecs-v1", ecs_success, &r);
    assert_int_equal(r.status, JOB_SUCCESS);
    assert_string_equal(r.status_raw, "SUCCESS");
    assert_string_equal(r.job_id, "ff80808288d41e1b0189902609551a00");
    assert_string_equal(r.job_type, "createServer");
    assert_int_equal(r.has_begin, 1);
    assert_int_equal(r.has_end, 1);
    assert_true(fabs(r.begin_time - 1690277410.512) < 1e-6);
    assert_true(fabs(r.end_time - 1690277504.020) < 1e-6);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_string_equal(r.resource_id, ""); /* a batch: the servers are the sub-jobs' */
    assert_int_equal(r.has_sub_jobs, 1);
    assert_sub_jobs(&r, 1, JOB_SUCCESS, 1u);
    assert_int_equal(r.has_sub_jobs_total, 1);
    assert_int_equal(r.sub_jobs_total, 1);
    assert_true(profile_terminal(PROFILE("ecs-v1"), r.status));
    assert_false(profile_failed(PROFILE("ecs-v1"), r.status));
}

static void test_ecs_failed_sub_job(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok_p("ecs-v1", ecs_fail, &r);
    assert_int_equal(r.status, JOB_FAIL);
    assert_string_equal(r.job_id, "ff80808288d41e1b0189902609552b00");
    assert_string_equal(r.job_type, "createServer");
    /* lent by the failed sub-job: its code, and errorcode_message before its fail_reason */
    assert_string_equal(r.error_code, "Ecs.0013");
    assert_string_equal(r.fail_reason,
                        "Insufficient EIP quota. Apply for more, or release unused EIPs.");
    assert_string_equal(r.resource_id, "");
    assert_sub_jobs(&r, 2, JOB_SUCCESS, 1u, JOB_FAIL, 1u);
    assert_int_equal(r.has_sub_jobs_total, 1);
    assert_int_equal(r.sub_jobs_total, 2);
    assert_true(profile_failed(PROFILE("ecs-v1"), r.status));

    /* EVS reads the same body with sub-jobs in entities but without errorcode_message */
    parse_ok_p("evs-v1", ecs_fail, &r);
    assert_string_equal(r.error_code, "Ecs.0013");
    assert_string_equal(r.fail_reason, "create eip failed");
    assert_int_equal(r.has_sub_jobs_total, 0);
    assert_sub_jobs(&r, 2, JOB_SUCCESS, 1u, JOB_FAIL, 1u);
    /* classic ELB looks for sub_jobs at the top: none, nothing to lend */
    parse_ok_p("elb-v1", ecs_fail, &r);
    assert_int_equal(r.status, JOB_FAIL);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_no_sub_jobs(&r);
}

/* {"status":"<top>","error_code":<ec>,"fail_reason":<fr>,"entities":{"sub_jobs":[<subs>]}} */
static void ecs_lend(const char *top, const char *ec, const char *fr, const char *subs,
                     const char *want_ec, const char *want_fr)
{
    char body[2048];
    struct job_record r;

    snprintf(body, sizeof(body),
             "{\"status\":\"%s\",\"entities\":{\"sub_jobs\":[%s]},\"error_code\":%s,"
             "\"fail_reason\":%s}",
             top, subs, ec, fr);
    parse_ok_p("ecs-v1", body, &r);
    if (strcmp(r.error_code, want_ec) != 0 || strcmp(r.fail_reason, want_fr) != 0)
        fail_msg("%s: got \"%s\" \"%s\", want \"%s\" \"%s\"", body, r.error_code, r.fail_reason,
                 want_ec, want_fr);
}

#define SUB_FAIL(ec, fr, ent)                                                                      \
    "{\"status\":\"FAIL\",\"entities\":" ent ",\"error_code\":" ec ",\"fail_reason\":" fr "}"

static void test_sub_job_failure_lent(void **state)
{
    const char *sub = SUB_FAIL("\"Ecs.0013\"", "\"short\"", "{\"errorcode_message\":\"long\"}");
    char subs[1024];

    (void)state;
    /* the job's own fields win; only an empty one is lent */
    ecs_lend("FAIL", "\"Ecs.0000\"", "\"own\"", sub, "Ecs.0000", "own");
    ecs_lend("FAIL", "\"Ecs.0000\"", "null", sub, "Ecs.0000", "long");
    ecs_lend("FAIL", "null", "\"own\"", sub, "Ecs.0013", "own");
    ecs_lend("FAIL", "\"\"", "\"\"", sub, "Ecs.0013", "long");
    /* no errorcode_message (absent, null, "", wrong type): the sub-job's fail_reason */
    ecs_lend("FAIL", "null", "null", SUB_FAIL("\"Ecs.0013\"", "\"short\"", "{}"), "Ecs.0013",
             "short");
    ecs_lend("FAIL", "null", "null",
             SUB_FAIL("\"Ecs.0013\"", "\"short\"", "{\"errorcode_message\":null}"), "Ecs.0013",
             "short");
    ecs_lend("FAIL", "null", "null",
             SUB_FAIL("\"Ecs.0013\"", "\"short\"", "{\"errorcode_message\":\"\"}"), "Ecs.0013",
             "short");
    ecs_lend("FAIL", "null", "null",
             SUB_FAIL("\"Ecs.0013\"", "\"short\"", "{\"errorcode_message\":13}"), "Ecs.0013",
             "short");
    ecs_lend("FAIL", "null", "null", SUB_FAIL("null", "null", "null"), "", "");
    /* a sub-job field of the wrong type is not lent, and not an error either */
    ecs_lend("FAIL", "null", "null", SUB_FAIL("13", "[]", "{}"), "", "");
    /* the first failed sub-job lends, not a successful one before it, not a later failure */
    snprintf(subs, sizeof(subs), "%s,%s,%s",
             "{\"status\":\"SUCCESS\",\"entities\":{\"errorcode_message\":\"no\"},"
             "\"error_code\":\"Ecs.1111\",\"fail_reason\":\"no\"}",
             SUB_FAIL("\"Ecs.0001\"", "null", "{\"errorcode_message\":\"first\"}"),
             SUB_FAIL("\"Ecs.0002\"", "null", "{\"errorcode_message\":\"second\"}"));
    ecs_lend("FAIL", "null", "null", subs, "Ecs.0001", "first");
    /* a job that has not failed borrows nothing */
    ecs_lend("RUNNING", "null", "null", sub, "", "");
    ecs_lend("SUCCESS", "null", "null", sub, "", "");
    /* nor from a sub-job that has not failed, nor from nested ones */
    ecs_lend("FAIL", "null", "null",
             "{\"status\":\"RUNNING\",\"entities\":{\"sub_jobs\":[" SUB_FAIL(
                 "\"Ecs.0013\"", "\"x\"", "{\"errorcode_message\":\"deep\"}") "]}}",
             "", "");
}

static void test_sub_job_failure_lent_caps(void **state)
{
    char body[2048], code[JOB_ERROR_CODE_MAX + 2];
    struct job_record r;
    size_t n, i;

    (void)state;
    /* the text is cut on a UTF-8 boundary like the job's own: 1 + 2 x 200 bytes -> 255 */
    n = (size_t)snprintf(body, sizeof(body),
                         "{\"status\":\"FAIL\",\"entities\":{\"sub_jobs\":[{\"status\":\"FAIL\","
                         "\"entities\":{\"errorcode_message\":\"a");
    for (i = 0; i < 200; i++)
        n += (size_t)snprintf(body + n, sizeof(body) - n, "\xc3\xa9");
    snprintf(body + n, sizeof(body) - n, "\"}}]}}");
    parse_ok_p("ecs-v1", body, &r);
    assert_int_equal(strlen(r.fail_reason), 255);
    assert_memory_equal(r.fail_reason + 253, "\xc3\xa9", 2);
    /* a code over the cap is not lent (never cut: a cut code is a different code) */
    memset(code, 'E', sizeof(code) - 1);
    code[sizeof(code) - 1] = '\0';
    snprintf(body, sizeof(body),
             "{\"status\":\"FAIL\",\"entities\":{\"sub_jobs\":[{\"status\":\"FAIL\","
             "\"error_code\":\"%s\",\"fail_reason\":\"t\"}]}}",
             code);
    parse_ok_p("ecs-v1", body, &r);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "t");
    code[JOB_ERROR_CODE_MAX] = '\0';
    snprintf(body, sizeof(body),
             "{\"status\":\"FAIL\",\"entities\":{\"sub_jobs\":[{\"status\":\"FAIL\","
             "\"error_code\":\"%s\"}]}}",
             code);
    parse_ok_p("ecs-v1", body, &r);
    assert_string_equal(r.error_code, code);
}

/* Classic ELB and ELB v3 lend the same way, each from its own fields. */
static void test_sub_job_failure_lent_other_profiles(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok_p("elb-v1",
               "{\"status\":\"FAIL\",\"error_code\":null,\"fail_reason\":null,\"sub_jobs\":["
               "{\"status\":\"SUCCESS\"},{\"status\":\"FAIL\",\"error_code\":\"ELB.2001\","
               "\"fail_reason\":\"member busy\"}]}",
               &r);
    assert_string_equal(r.error_code, "ELB.2001");
    assert_string_equal(r.fail_reason, "member busy");
    parse_ok_p("elb-v3",
               "{\"job\":{\"status\":\"ROLLBACK_FAIL\",\"error_code\":\"\",\"error_msg\":\"\","
               "\"sub_jobs\":[{\"status\":\"ROLLBACK_FAIL\",\"error_code\":\"ELB.8907\","
               "\"error_msg\":\"listener in use\",\"fail_reason\":\"not this\","
               "\"entities\":[]}]}}",
               &r);
    assert_string_equal(r.error_code, "ELB.8907");
    assert_string_equal(r.fail_reason, "listener in use");
    /* CANCEL is not a failure: nothing lent */
    parse_ok_p("elb-v3",
               "{\"job\":{\"status\":\"CANCEL\",\"sub_jobs\":[{\"status\":\"FAIL\","
               "\"error_code\":\"ELB.1\",\"error_msg\":\"x\"}]}}",
               &r);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_sub_jobs(&r, 1, JOB_FAIL, 1u);
}

static void test_ecs_sub_jobs_total(void **state)
{
    static const char *const bad[] = {"\"2\"", "-1", "1.5", "1000001", "1e400", "true", "[]", "{}"};
    char body[256];
    struct job_record r;
    size_t i;

    (void)state;
    parse_ok_p("ecs-v1", "{\"status\":\"INIT\",\"entities\":{\"sub_jobs_total\":0}}", &r);
    assert_int_equal(r.has_sub_jobs_total, 1);
    assert_int_equal(r.sub_jobs_total, 0);
    assert_no_sub_jobs(&r);
    parse_ok_p("ecs-v1", "{\"status\":\"INIT\",\"entities\":{\"sub_jobs_total\":1000000}}", &r);
    assert_int_equal(r.sub_jobs_total, 1000000);
    parse_ok_p("ecs-v1", "{\"status\":\"INIT\",\"entities\":{\"sub_jobs_total\":3e0}}", &r);
    assert_int_equal(r.sub_jobs_total, 3);
    /* announced before the sub-jobs are listed: the total is kept, no sub-jobs counted */
    parse_ok_p("ecs-v1",
               "{\"status\":\"RUNNING\",\"entities\":{\"sub_jobs_total\":3,\"sub_jobs\":[]}}", &r);
    assert_int_equal(r.sub_jobs_total, 3);
    assert_no_sub_jobs(&r);
    parse_ok_p("ecs-v1", "{\"status\":\"INIT\",\"entities\":{\"sub_jobs_total\":null}}", &r);
    assert_int_equal(r.has_sub_jobs_total, 0);
    parse_ok_p("ecs-v1", "{\"status\":\"INIT\",\"entities\":null}", &r);
    assert_int_equal(r.has_sub_jobs_total, 0);
    parse_ok_p("ecs-v1", "{\"status\":\"INIT\"}", &r);
    assert_int_equal(r.has_sub_jobs_total, 0);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(body, sizeof(body), "{\"status\":\"INIT\",\"entities\":{\"sub_jobs_total\":%s}}",
                 bad[i]);
        parse_fails_p("ecs-v1", body, JOB_PARSE_INVALID,
                      "field \"entities.sub_jobs_total\": not a whole number of sub-jobs "
                      "(0..1000000)");
        /* profiles without the field ignore it */
        parse_ok_p("evs-v1", body, &r);
        assert_int_equal(r.has_sub_jobs_total, 0);
        parse_ok_p("elb-v1", body, &r);
        assert_int_equal(r.has_sub_jobs_total, 0);
    }
}

static void test_ecs_quirks(void **state)
{
    struct job_record r;

    (void)state;
    /* a single-server job: the server is the resource; sub_jobs null, "" or missing */
    parse_ok_p("ecs-v1",
               "{\"status\":\"RUNNING\",\"entities\":{\"server_id\":\"S1\",\"sub_jobs\":null},"
               "\"job_id\":\"ff80808288d41e1b0189902609553c00\",\"job_type\":\"resizeServer\","
               "\"begin_time\":\"2023-07-25T12:00:00.000Z\",\"end_time\":\"\","
               "\"error_code\":null,\"fail_reason\":null}",
               &r);
    assert_int_equal(r.status, JOB_RUNNING);
    assert_string_equal(r.resource_id, "S1");
    assert_int_equal(r.has_end, 0);
    assert_no_sub_jobs(&r);
    parse_ok_p("ecs-v1",
               "{\"status\":\"RUNNING\",\"entities\":{\"nic_id\":\"N1\",\"sub_jobs\":\"\"}}", &r);
    assert_string_equal(r.resource_id, "N1");
    assert_no_sub_jobs(&r);
    /* a status of ELB v3 (or Huawei's PENDING_PAYMENT) is not ECS's: UNKNOWN, raw kept */
    parse_ok_p("ecs-v1", "{\"status\":\"PENDING_PAYMENT\"}", &r);
    assert_int_equal(r.status, JOB_UNKNOWN);
    assert_string_equal(r.status_raw, "PENDING_PAYMENT");
    parse_ok_p(
        "ecs-v1",
        "{\"status\":\"ROLLBACK_FAIL\",\"entities\":{\"sub_jobs\":[{\"status\":\"COMPLETE\"},"
        "{\"status\":\"FAIL\",\"fail_reason\":\"x\"}]}}",
        &r);
    assert_int_equal(r.status, JOB_UNKNOWN);
    assert_string_equal(r.status_raw, "ROLLBACK_FAIL");
    assert_string_equal(r.fail_reason, ""); /* UNKNOWN is no failure: nothing lent */
    assert_sub_jobs(&r, 2, JOB_UNKNOWN, 1u, JOB_FAIL, 1u);
    /* sub-jobs at the top level are not ECS's */
    parse_ok_p("ecs-v1", "{\"status\":\"RUNNING\",\"sub_jobs\":[{\"status\":\"FAIL\"}]}", &r);
    assert_no_sub_jobs(&r);
    parse_fails_p("ecs-v1", "{\"status\":\"RUNNING\",\"entities\":[]}", JOB_PARSE_INVALID,
                  "field \"entities\": not an object");
    parse_fails_p("ecs-v1",
                  "{\"status\":\"RUNNING\",\"entities\":{\"sub_jobs\":[{\"status\":\"FAIL\","
                  "\"entities\":\"x\"}]}}",
                  JOB_PARSE_INVALID, "field \"entities.sub_jobs[0].entities\": not an object");
}

static void test_evs(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok_p("evs-v1", evs_success, &r);
    assert_int_equal(r.status, JOB_SUCCESS);
    assert_string_equal(r.job_id, "ff808082739334d80173943ec9b20a00");
    assert_string_equal(r.job_type, "batchCreateVolume");
    assert_true(fabs(r.begin_time - 1690282800.0) < 1e-6);
    assert_true(fabs(r.end_time - 1690282822.0) < 1e-6);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_string_equal(r.resource_id, "");
    assert_sub_jobs(&r, 1, JOB_SUCCESS, 2u);
    assert_int_equal(r.has_sub_jobs_total, 0);
    /* one disk: the volume is the resource, sub_jobs "" inside entities */
    parse_ok_p("evs-v1",
               "{\"status\":\"FAIL\",\"entities\":{\"volume_type\":\"SAS\",\"size\":40,"
               "\"volume_id\":\"3b5a1f2c-6d7e-4f80-9a1b-2c3d4e5f6a70\",\"name\":\"data-1\","
               "\"sub_jobs\":\"\"},\"job_id\":\"ff808082739334d80173943ec9b20b00\","
               "\"job_type\":\"extendVolume\",\"begin_time\":\"2023-07-25T11:30:00.000Z\","
               "\"end_time\":\"2023-07-25T11:30:04.250Z\",\"error_code\":\"EVS.2024\","
               "\"fail_reason\":\"the disk is being backed up\"}",
               &r);
    assert_int_equal(r.status, JOB_FAIL);
    assert_string_equal(r.resource_id, "3b5a1f2c-6d7e-4f80-9a1b-2c3d4e5f6a70");
    assert_string_equal(r.error_code, "EVS.2024");
    assert_string_equal(r.fail_reason, "the disk is being backed up");
    assert_no_sub_jobs(&r);
    parse_ok_p("evs-v1", "{\"status\":\"CANCEL\"}", &r);
    assert_int_equal(r.status, JOB_UNKNOWN);
    assert_string_equal(r.status_raw, "CANCEL");
}

static void test_elb_v3_rollback_fail(void **state)
{
    const struct api_profile *p = PROFILE("elb-v3");
    struct job_record r;

    (void)state;
    parse_ok_p("elb-v3", v3_rollback_fail, &r);
    assert_int_equal(r.status, JOB_ROLLBACK_FAIL);
    assert_string_equal(r.status_raw, "ROLLBACK_FAIL");
    assert_string_equal(r.job_id, "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0");
    assert_string_equal(r.job_type, "cloneLoadbalancer");
    assert_true(fabs(r.begin_time - 1711182042.0) < 1e-6); /* whole seconds, no fraction */
    assert_true(fabs(r.end_time - 1711182185.0) < 1e-6);
    assert_string_equal(r.error_code, "ELB.8907");
    assert_string_equal(r.fail_reason, "Rollback failed: listener \"web-443\" is still in use.");
    assert_string_equal(r.resource_id, "c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7");
    assert_sub_jobs(&r, 2, JOB_SUCCESS, 1u, JOB_ROLLBACK_FAIL, 1u);
    assert_int_equal(r.has_sub_jobs_total, 0);
    /* the same alert as a classic FAIL: terminal and a failure */
    assert_true(profile_terminal(p, r.status));
    assert_true(profile_failed(p, r.status));
    assert_true(job_status_failed(r.status));
}

static void test_elb_v3_complete(void **state)
{
    struct job_record r;

    (void)state;
    parse_ok_p("elb-v3", v3_complete, &r);
    assert_int_equal(r.status, JOB_COMPLETE);
    assert_string_equal(r.job_id, "2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70");
    assert_string_equal(r.job_type, "UPGRADE");
    assert_true(fabs(r.end_time - r.begin_time - 1709.0) < 1e-6);
    assert_string_equal(r.error_code, "");
    assert_string_equal(r.fail_reason, "");
    assert_string_equal(r.resource_id, "c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7");
    assert_no_sub_jobs(&r);
    assert_true(profile_terminal(PROFILE("elb-v3"), r.status));
    assert_false(profile_failed(PROFILE("elb-v3"), r.status));
}

static void test_elb_v3_statuses_and_envelope(void **state)
{
    static const struct {
        const char *raw;
        enum job_status want;
    } st[] = {
        {"INIT", JOB_INIT},
        {"RUNNING", JOB_RUNNING},
        {"SUCCESS", JOB_SUCCESS},
        {"FAIL", JOB_FAIL},
        {"ROLLBACKING", JOB_ROLLBACKING},
        {"COMPLETE", JOB_COMPLETE},
        {"ROLLBACK_FAIL", JOB_ROLLBACK_FAIL},
        {"CANCEL", JOB_CANCEL},
        {"PAUSED", JOB_UNKNOWN},
        {"Complete", JOB_UNKNOWN},
    };
    char body[256];
    struct job_record r;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        snprintf(body, sizeof(body), "{\"job\":{\"status\":\"%s\"},\"request_id\":\"r-1\"}",
                 st[i].raw);
        parse_ok_p("elb-v3", body, &r);
        assert_int_equal(r.status, st[i].want);
        assert_string_equal(r.status_raw, st[i].raw);
    }
    /* request_id before the job, or missing, or of any type: beside the envelope, ignored */
    parse_ok_p("elb-v3", "{\"request_id\":\"r\",\"job\":{\"status\":\"CANCEL\"}}", &r);
    assert_int_equal(r.status, JOB_CANCEL);
    parse_ok_p("elb-v3", "{\"job\":{\"status\":\"CANCEL\"},\"request_id\":null}", &r);
    parse_ok_p("elb-v3", "{\"job\":{\"status\":\"CANCEL\"}}", &r);
    /* the job's own fields are inside: a status beside the envelope is not the job's */
    parse_fails_p("elb-v3", "{\"status\":\"SUCCESS\",\"job\":{}}", JOB_PARSE_INVALID,
                  "field \"status\": missing");
    parse_fails_p("elb-v3", "{\"job\":null,\"request_id\":\"r\"}", JOB_PARSE_INVALID,
                  "field \"job\": not an object");
    parse_fails_p("elb-v3", "{\"job\":\"\"}", JOB_PARSE_INVALID, "field \"job\": not an object");
    parse_fails_p("elb-v3", running_example, JOB_PARSE_INVALID, "field \"job\": missing");
    /* and the other way round: a v3 answer is no classic job */
    parse_fails_p("elb-v1", v3_complete, JOB_PARSE_INVALID, "field \"status\": missing");
    parse_fails_p("ecs-v1", v3_complete, JOB_PARSE_INVALID, "field \"status\": missing");
    /* sub-jobs count in the v3 statuses; their entities are arrays, left alone */
    parse_ok_p("elb-v3",
               "{\"job\":{\"status\":\"ROLLBACKING\",\"end_time\":null,\"sub_jobs\":["
               "{\"status\":\"ROLLBACKING\",\"entities\":[{\"resource_id\":\"x\"}]},"
               "{\"status\":\"COMPLETE\",\"entities\":[]},{\"status\":\"CANCEL\"},"
               "{\"status\":\"WAITING\"}]}}",
               &r);
    assert_int_equal(r.status, JOB_ROLLBACKING);
    assert_false(profile_terminal(PROFILE("elb-v3"), r.status));
    assert_int_equal(r.has_end, 0);
    assert_sub_jobs(&r, 4, JOB_ROLLBACKING, 1u, JOB_COMPLETE, 1u, JOB_CANCEL, 1u, JOB_UNKNOWN, 1u);
}

static void test_elb_v3_fields(void **state)
{
    char body[512], id[JOB_RESOURCE_ID_MAX + 2];
    struct job_record r;

    (void)state;
    /* error_msg is the failure text; a fail_reason beside it is not */
    parse_ok_p("elb-v3",
               "{\"job\":{\"status\":\"FAIL\",\"error_code\":\"ELB.1\",\"error_msg\":null,"
               "\"fail_reason\":\"not this\"}}",
               &r);
    assert_string_equal(r.error_code, "ELB.1");
    assert_string_equal(r.fail_reason, "");
    parse_fails_p("elb-v3", "{\"job\":{\"status\":\"FAIL\",\"error_msg\":7}}", JOB_PARSE_INVALID,
                  "field \"error_msg\": not a string");
    /* resource_id at the top; null or absent: entities, if any */
    parse_ok_p("elb-v3", "{\"job\":{\"status\":\"INIT\",\"resource_id\":\"\"}}", &r);
    assert_string_equal(r.resource_id, "");
    parse_ok_p(
        "elb-v3",
        "{\"job\":{\"status\":\"INIT\",\"resource_id\":null,\"entities\":{\"elb_id\":\"E\"}}}", &r);
    assert_string_equal(r.resource_id, "E");
    parse_ok_p(
        "elb-v3",
        "{\"job\":{\"status\":\"INIT\",\"resource_id\":\"R\",\"entities\":{\"elb_id\":\"E\"}}}",
        &r);
    assert_string_equal(r.resource_id, "R");
    parse_fails_p("elb-v3", "{\"job\":{\"status\":\"INIT\",\"resource_id\":5}}", JOB_PARSE_INVALID,
                  "field \"resource_id\": not a string");
    parse_fails_p("elb-v3", "{\"job\":{\"status\":\"INIT\",\"resource_id\":[\"R\"]}}",
                  JOB_PARSE_INVALID, NULL);
    memset(id, 'r', JOB_RESOURCE_ID_MAX + 1);
    id[JOB_RESOURCE_ID_MAX + 1] = '\0';
    snprintf(body, sizeof(body), "{\"job\":{\"status\":\"INIT\",\"resource_id\":\"%s\"}}", id);
    parse_fails_p("elb-v3", body, JOB_PARSE_TOO_LARGE,
                  "field \"resource_id\": resource id longer than 128 bytes");
    /* other profiles have no top-level resource_id */
    parse_ok_p("elb-v1", "{\"status\":\"INIT\",\"resource_id\":5}", &r);
    assert_string_equal(r.resource_id, "");
    /* a job id in UUID form is a valid job id */
    parse_ok_p(
        "elb-v3",
        "{\"job\":{\"status\":\"INIT\",\"job_id\":\"ef6da45b-35d9-4c18-8c35-0b80d94ab9e6\"}}", &r);
    assert_string_equal(r.job_id, "ef6da45b-35d9-4c18-8c35-0b80d94ab9e6");
}

/* Every prefix of the realistic answers is an error, for their own profile too. */
static void test_truncated_profile_bodies(void **state)
{
    static const struct {
        const char *profile, *body;
    } cases[] = {
        {"ecs-v1", ecs_success},      {"ecs-v1", ecs_fail},    {"evs-v1", evs_success},
        {"elb-v3", v3_rollback_fail}, {"elb-v3", v3_complete},
    };
    struct job_record r;
    char err[ERR_MAX];
    size_t i, cut, len;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        len = strlen(cases[i].body);
        for (cut = 0; cut < len; cut++) {
            char *copy = malloc(cut + 1);

            assert_non_null(copy);
            memcpy(copy, cases[i].body, cut);
            if (parse_p(PROFILE(cases[i].profile), copy, cut, &r, err) != JOB_PARSE_INVALID)
                fail_msg("%s: prefix of %zu bytes accepted", cases[i].profile, cut);
            free(copy);
        }
        assert_int_equal(parse_p(PROFILE(cases[i].profile), cases[i].body, len, &r, err),
                         JOB_PARSE_OK);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_example),
        cmocka_unit_test(test_running_example),
        cmocka_unit_test(test_fail_example_decoding),
        cmocka_unit_test(test_minimal_and_missing_fields),
        cmocka_unit_test(test_null_fields),
        cmocka_unit_test(test_empty_string_fields),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_job_id_field),
        cmocka_unit_test(test_job_type_field),
        cmocka_unit_test(test_time_fields),
        cmocka_unit_test(test_error_code_field),
        cmocka_unit_test(test_fail_reason_cut),
        cmocka_unit_test(test_entities_shapes),
        cmocka_unit_test(test_entities_errors),
        cmocka_unit_test(test_sub_jobs_empty_forms),
        cmocka_unit_test(test_sub_jobs_counts),
        cmocka_unit_test(test_sub_jobs_nested),
        cmocka_unit_test(test_sub_jobs_errors),
        cmocka_unit_test(test_sub_jobs_cap),
        cmocka_unit_test(test_sub_jobs_depth),
        cmocka_unit_test(test_profile_sub_jobs_in_entities),
        cmocka_unit_test(test_profile_envelope),
        cmocka_unit_test(test_unknown_fields_ignored),
        cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_caps),
        cmocka_unit_test(test_truncated_bodies),
        cmocka_unit_test(test_wrong_types_table),
        cmocka_unit_test(test_err_buffer_small),
        cmocka_unit_test(test_null_err_and_profile),
        cmocka_unit_test(test_error_shapes),
        cmocka_unit_test(test_error_shapes_rejected),
        cmocka_unit_test(test_error_shapes_cut),
        cmocka_unit_test(test_job_id_valid),
        cmocka_unit_test(test_ecs_success),
        cmocka_unit_test(test_ecs_failed_sub_job),
        cmocka_unit_test(test_sub_job_failure_lent),
        cmocka_unit_test(test_sub_job_failure_lent_caps),
        cmocka_unit_test(test_sub_job_failure_lent_other_profiles),
        cmocka_unit_test(test_ecs_sub_jobs_total),
        cmocka_unit_test(test_ecs_quirks),
        cmocka_unit_test(test_evs),
        cmocka_unit_test(test_elb_v3_rollback_fail),
        cmocka_unit_test(test_elb_v3_complete),
        cmocka_unit_test(test_elb_v3_statuses_and_envelope),
        cmocka_unit_test(test_elb_v3_fields),
        cmocka_unit_test(test_truncated_profile_bodies),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
