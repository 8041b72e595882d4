/*
 * Tests for src/registry.c: registration bodies (every error says exactly
 * what is wrong), job references, Go-style durations, Content-Type, list
 * queries, and the JSON the API answers with (checked by parsing it back).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "jobtable.h"
#include "registry.h"

#define ELB (profile_find("elb-v1"))
#define ECS (profile_find("ecs-v1"))
#define EVS (profile_find("evs-v1"))
#define V3 (profile_find("elb-v3"))
#define PROJECT "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32"
#define ID "ff8080825ecc523f015ecd0a98f82f77"

static struct registry_reg reg;
static char err[REGISTRY_ERR_MAX];

static int parse(const char *body)
{
    memset(&reg, 0, sizeof(reg));
    err[0] = '\0';
    return registry_parse_registration(body, strlen(body), ELB, PROJECT, &reg, err, sizeof(err));
}

/* body must be refused with exactly why. */
static void refused(const char *body, const char *why)
{
    if (parse(body) != -EINVAL)
        fail_msg("accepted: %s", body);
    if (strcmp(err, why) != 0)
        fail_msg("body %s\n  got:  %s\n  want: %s", body, err, why);
}

static void registration_bodies(void **state)
{
    (void)state;
    assert_int_equal(parse("{\"job_id\":\"" ID "\"}"), 0);
    assert_ptr_equal(reg.profile, ELB);
    assert_string_equal(reg.id, ID);
    assert_int_equal(reg.has_labels, 0);

    /* the create call's answer as it stands */
    assert_int_equal(parse("{\"uri\":\"/v1.0/" PROJECT "/jobs/" ID "\",\"job_id\":\"" ID "\"}"), 0);
    assert_ptr_equal(reg.profile, ELB);
    assert_string_equal(reg.id, ID);
    assert_int_equal(parse("{\"uri\":\"/v1.0/" PROJECT "/jobs/" ID "\"}"), 0);
    assert_string_equal(reg.id, ID);
    assert_int_equal(parse("{\"uri\":\"https://elb.eu-de.otc.t-systems.com/v1.0/" PROJECT
                           "/jobs/" ID "\",\"job_id\":\"" ID "\"}"),
                     0);
    /* the uri picks the profile: v3's path is v3's alone */
    assert_int_equal(parse("{\"uri\":\"/v3/" PROJECT "/elb/jobs/abc-1\"}"), 0);
    assert_ptr_equal(reg.profile, V3);
    assert_string_equal(reg.id, "abc-1");
    /* ECS and EVS share a path: the profile must say which */
    assert_int_equal(parse("{\"uri\":\"/v1/" PROJECT "/jobs/x1\",\"profile\":\"evs-v1\"}"), 0);
    assert_ptr_equal(reg.profile, EVS);
    refused("{\"uri\":\"/v1/" PROJECT "/jobs/x1\"}",
            "uri \"/v1/" PROJECT "/jobs/x1\" is the job path of several profiles (ecs-v1, "
            "evs-v1): name one with \"profile\"");
    refused("{\"uri\":\"/v1/" PROJECT "/jobs/x1\",\"profile\":\"elb-v3\"}",
            "uri \"/v1/" PROJECT "/jobs/x1\" is not a job path of profile elb-v3 (it fits ecs-v1, "
            "evs-v1)");

    /* profile, PROFILE:ID and labels */
    assert_int_equal(parse("{\"job_id\":\"x\",\"profile\":\"ecs-v1\"}"), 0);
    assert_ptr_equal(reg.profile, ECS);
    assert_int_equal(parse("{\"job_id\":\"ecs-v1:x\"}"), 0);
    assert_ptr_equal(reg.profile, ECS);
    assert_string_equal(reg.id, "x");
    assert_int_equal(parse("{\"job_id\":\"ecs-v1:x\",\"profile\":\"ecs-v1\"}"), 0);
    refused("{\"job_id\":\"ecs-v1:x\",\"profile\":\"evs-v1\"}",
            "job_id names profile ecs-v1, but \"profile\" says evs-v1");
    assert_int_equal(parse("{\"labels\":{\"team\":\"net\",\"env\":\"prod\"},\"job_id\":\"x\"}"), 0);
    assert_int_equal(reg.has_labels, 1);
    assert_int_equal(reg.labels.n, 2);
    assert_string_equal(reg.labels.kv[0].name, "env");
    assert_string_equal(reg.labels.kv[1].value, "net");
    assert_int_equal(parse("{\"job_id\":\"x\",\"labels\":{}}"), 0); /* clears them */
    assert_int_equal(reg.has_labels, 1);
    assert_int_equal(reg.labels.n, 0);
    assert_int_equal(parse("{\"job_id\":\"x\",\"labels\":null}"), 0);
    assert_int_equal(reg.has_labels, 0);
    assert_int_equal(parse(" {\"job_id\" : \"x\"} \n"), 0);
    assert_int_equal(parse("{\"job_id\":\"\\u0078\"}"), 0); /* escapes are decoded */
    assert_string_equal(reg.id, "x");
}

static void registration_errors(void **state)
{
    char big[REGISTRY_BODY_MAX + 2];

    (void)state;
    assert_int_equal(registry_parse_registration("", 0, ELB, NULL, &reg, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "the body is empty: send {\"job_id\": \"...\"}");
    memset(big, ' ', sizeof(big));
    assert_int_equal(
        registry_parse_registration(big, sizeof(big), ELB, NULL, &reg, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "the body is 4098 bytes, more than the 4096 allowed");
    refused("{\"job_id\":\"x\"", "the body is not valid JSON: truncated JSON at byte 13");
    refused("{\"job_id\":\"x\",}", "the body is not valid JSON: unexpected character at byte 13");
    refused("[\"x\"]", "the body must be a JSON object, not an array");
    refused("\"x\"", "the body must be a JSON object, not a string");
    refused("{}", "job_id (or the create call's uri) is required");
    refused("{\"labels\":{}}", "job_id (or the create call's uri) is required");
    refused("{\"job_id\":\"x\",\"jobid\":\"y\"}",
            "unknown field \"jobid\" (known: job_id, uri, profile, labels)");
    refused("{\"job_id\":\"x\",\"job_id\":\"y\"}", "field \"job_id\" is given twice");
    /* what the client sent stays on one line in the error */
    refused("{\"job\\nid\":1}", "unknown field \"job?id\" (known: job_id, uri, profile, labels)");
    refused("{\"job_id\":42}", "job_id must be a string, not a number");
    refused("{\"job_id\":null}", "job_id must be a string, not null");
    refused("{\"job_id\":\"a/b\"}",
            "\"a/b\" is not a valid job ID (1 to 64 characters of A-Z a-z 0-9 _ -)");
    refused("{\"job_id\":\"\"}",
            "\"\" is not a valid job ID (1 to 64 characters of A-Z a-z 0-9 _ -)");
    refused("{\"job_id\":\"nope-v9:x\"}",
            "unknown profile \"nope-v9\" in \"nope-v9:x\" (known: elb-v1, ecs-v1, evs-v1, elb-v3)");
    refused("{\"job_id\":\"x\",\"profile\":\"ELB-V1\"}",
            "unknown profile \"ELB-V1\" (known: elb-v1, ecs-v1, evs-v1, elb-v3)");
    refused("{\"job_id\":\"x\",\"profile\":1}", "profile must be a string, not a number");
    refused("{\"job_id\":\"x\",\"labels\":[\"team\"]}",
            "labels must be an object of strings, not an array");
    refused("{\"job_id\":\"x\",\"labels\":{\"tier\":\"a\"}}",
            "label \"tier\" is not allowed (allowed: env, owner, pipeline, team)");
    refused("{\"job_id\":\"x\",\"labels\":{\"team\":7}}",
            "label \"team\": the value must be a string, not a number");
    refused("{\"job_id\":\"x\",\"labels\":{\"team\":\"a\\nb\"}}",
            "label \"team\": the value must be 1 to 64 bytes of printable UTF-8 (no control "
            "characters)");
    refused("{\"job_id\":\"x\",\"labels\":{\"team\":\"\"}}",
            "label \"team\": the value must be 1 to 64 bytes of printable UTF-8 (no control "
            "characters)");
    refused("{\"job_id\":\"x\",\"labels\":{\"team\":"
            "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}",
            "label \"team\": the value must be 1 to 64 bytes of printable UTF-8 (no control "
            "characters)");
    refused("{\"job_id\":\"x\",\"labels\":{\"team\":\"a\",\"team\":\"b\"}}",
            "label \"team\" is given twice");
    refused("{\"uri\":\"/v1.0/" PROJECT "/jobs/" ID "\",\"job_id\":\"other\"}",
            "uri names job " ID ", but job_id says other");
    refused("{\"uri\":\"/v1.0/otherproject/jobs/" ID "\"}",
            "uri \"/v1.0/otherproject/jobs/" ID "\" names project otherproject, but this "
            "exporter polls project " PROJECT);
    refused("{\"uri\":\"/v2.0/" PROJECT "/jobs/" ID "\"}",
            "uri \"/v2.0/" PROJECT "/jobs/" ID "\" is not a job path of any profile (for example "
            "/v1.0/{project_id}/jobs/{job_id}, /v1/{project_id}/jobs/{job_id} or "
            "/v3/{project_id}/elb/jobs/{job_id})");
    refused("{\"uri\":\"/v1.0/" PROJECT "/jobs/a b\"}",
            "uri \"/v1.0/" PROJECT "/jobs/a b\": \"a b\" is not a valid job ID (1 to 64 "
            "characters of A-Z a-z 0-9 _ -)");
    refused("{\"uri\":\"https://elb.example\"}", "uri \"https://elb.example\" has no path");
    refused("{\"uri\":\"/v1.0/" PROJECT "/jobs/\"}",
            "uri \"/v1.0/" PROJECT "/jobs/\" is not a job path of any profile (for example "
            "/v1.0/{project_id}/jobs/{job_id}, /v1/{project_id}/jobs/{job_id} or "
            "/v3/{project_id}/elb/jobs/{job_id})");
    /* the project is not checked when the exporter does not know it (yet) */
    assert_int_equal(registry_parse_registration("{\"uri\":\"/v1.0/p/jobs/x\"}", 24, ELB, NULL,
                                                 &reg, err, sizeof(err)),
                     0);
}

static void refs(void **state)
{
    const struct api_profile *p = NULL;
    char id[JOB_ID_MAX + 1];

    (void)state;
    assert_int_equal(registry_parse_ref("abc", ECS, &p, id, err, sizeof(err)), 0);
    assert_ptr_equal(p, ECS);
    assert_string_equal(id, "abc");
    assert_int_equal(registry_parse_ref("elb-v3:abc-1", ECS, &p, id, err, sizeof(err)), 0);
    assert_ptr_equal(p, V3);
    assert_string_equal(id, "abc-1");
    assert_int_equal(registry_parse_ref("elb-v3:", ECS, &p, id, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "\"\" is not a valid job ID (1 to 64 characters of A-Z a-z 0-9 _ -)");
    assert_int_equal(registry_parse_ref("x:y:z", ECS, &p, id, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "unknown profile \"x\" in \"x:y:z\" (known: elb-v1, ecs-v1, evs-v1, "
                             "elb-v3)");
}

static uint64_t dur(const char *s)
{
    uint64_t ms = 12345;

    if (registry_parse_duration(s, &ms, err, sizeof(err)) != 0)
        fail_msg("%s refused: %s", s, err);
    return ms;
}

static void durations(void **state)
{
    uint64_t ms = 7;

    (void)state;
    assert_int_equal(dur("0"), 0);
    assert_int_equal(dur("0s"), 0);
    assert_int_equal(dur("10m"), 600000);
    assert_int_equal(dur("1h30m"), 5400000);
    assert_int_equal(dur("1.5h"), 5400000);
    assert_int_equal(dur("2.3s"), 2300);
    assert_int_equal(dur("250ms"), 250);
    assert_int_equal(dur("1500us"), 1);
    assert_int_equal(dur("1500\xc2\xb5s"), 1);
    assert_int_equal(dur("999999ns"), 0);
    assert_int_equal(dur(".5s"), 500);
    assert_int_equal(dur("1m1h"), 3660000); /* Go takes any order */
    assert_int_equal(dur("+5s"), 5000);
    assert_int_equal(dur("87600h"), 315360000000ull); /* parsed as is; the API caps it */

    assert_int_equal(registry_parse_duration("", &ms, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "empty duration (write e.g. 30s, 10m, 1h30m)");
    assert_int_equal(registry_parse_duration("10", &ms, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "duration \"10\": missing unit (use h, m, s or ms, e.g. 30s, 10m, "
                             "1h30m)");
    assert_int_equal(registry_parse_duration("10d", &ms, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "duration \"10d\": unknown unit (use h, m, s or ms, e.g. 30s, 10m, "
                             "1h30m)");
    assert_int_equal(registry_parse_duration("-5s", &ms, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "duration \"-5s\" is negative");
    assert_int_equal(registry_parse_duration("m", &ms, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "duration \"m\": a number must come before each unit");
    assert_int_equal(registry_parse_duration("1s ", &ms, err, sizeof(err)), -EINVAL);
    assert_int_equal(registry_parse_duration("+", &ms, err, sizeof(err)), -EINVAL);
    assert_int_equal(registry_parse_duration("99999999999999999999h", &ms, err, sizeof(err)),
                     -ERANGE);
    assert_int_equal(registry_parse_duration("3000000000000h", &ms, err, sizeof(err)), -ERANGE);
    assert_int_equal(ms, 7); /* untouched on failure */
}

static void content_types(void **state)
{
    (void)state;
    assert_true(registry_content_type_json("application/json"));
    assert_true(registry_content_type_json("application/json; charset=utf-8"));
    assert_true(registry_content_type_json("Application/JSON;charset=UTF-8"));
    assert_true(registry_content_type_json(" application/json"));
    assert_false(registry_content_type_json(NULL));
    assert_false(registry_content_type_json(""));
    assert_false(registry_content_type_json("text/plain"));
    assert_false(registry_content_type_json("application/x-www-form-urlencoded"));
    assert_false(registry_content_type_json("application/jsonx"));
    assert_false(registry_content_type_json("application/json-seq"));
}

static void list_params(void **state)
{
    struct registry_list_query q;

    (void)state;
    registry_list_query_init(&q);
    assert_int_equal(q.limit, REGISTRY_LIMIT_DEFAULT);
    assert_int_equal(q.finished, -1);
    assert_int_equal(registry_list_param(&q, "status", "FAIL,rollback_fail", ELB, err, sizeof(err)),
                     0);
    assert_int_equal(q.statuses, JOB_STATUS_BIT(JOB_FAIL) | JOB_STATUS_BIT(JOB_ROLLBACK_FAIL));
    assert_int_equal(registry_list_param(&q, "status", "FAIL,", ELB, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "status: unknown status \"\" (known: UNKNOWN, INIT, RUNNING, SUCCESS, "
                             "FAIL, ROLLBACKING, COMPLETE, ROLLBACK_FAIL, CANCEL)");
    assert_int_equal(registry_list_param(&q, "finished", "true", ELB, err, sizeof(err)), 0);
    assert_int_equal(q.finished, 1);
    assert_int_equal(registry_list_param(&q, "finished", "yes", ELB, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "finished: \"yes\" is not true or false");
    assert_int_equal(registry_list_param(&q, "limit", "1000", ELB, err, sizeof(err)), 0);
    assert_int_equal(q.limit, 1000);
    assert_int_equal(registry_list_param(&q, "limit", "1001", ELB, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "limit: \"1001\" is not a number from 1 to 1000");
    assert_int_equal(registry_list_param(&q, "limit", "0", ELB, err, sizeof(err)), -EINVAL);
    assert_int_equal(
        registry_list_param(&q, "limit", "99999999999999999999999", ELB, err, sizeof(err)),
        -EINVAL);
    assert_int_equal(registry_list_param(&q, "limit", "", ELB, err, sizeof(err)), -EINVAL);
    assert_int_equal(registry_list_param(&q, "profile", "ecs-v1", ELB, err, sizeof(err)), 0);
    assert_ptr_equal(q.profile, ECS);
    assert_int_equal(registry_list_param(&q, "after", "abc", ELB, err, sizeof(err)), 0);
    assert_int_equal(q.has_after, 1);
    assert_ptr_equal(q.after_profile, ELB);
    assert_int_equal(registry_list_param(&q, "after", "a b", ELB, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "after: \"a b\" is not a valid job ID (1 to 64 characters of A-Z a-z "
                             "0-9 _ -)");
    assert_int_equal(registry_list_param(&q, "stauts", "FAIL", ELB, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "unknown query parameter \"stauts\" (known: status, finished, "
                             "profile, limit, after)");
}

/* Parse JSON text (must be valid) and return the doc. */
static struct json_doc *must_parse(const char *text, size_t len)
{
    struct json_doc *d = NULL;
    struct json_error why;

    if (json_parse_diag(text, len, &d, &why) != 0)
        fail_msg("invalid JSON (%s at %zu): %.*s", why.what, why.offset, (int)len, text);
    return d;
}

static struct jobindex *small_index(void)
{
    static struct job_record fail, ok;
    static struct job_labels l;
    struct jobindex *ix = jobindex_new(8);
    struct expfmt_job v;
    char e[128];
    size_t i;

    memset(&fail, 0, sizeof(fail));
    fail.status = JOB_FAIL;
    snprintf(fail.job_type, sizeof(fail.job_type), "create\"ELB\"");
    snprintf(fail.error_code, sizeof(fail.error_code), "ELB.1003");
    snprintf(fail.fail_reason, sizeof(fail.fail_reason), "bad\n\x01\xff quota \xc3\xbc");
    fail.has_begin = fail.has_end = 1;
    fail.begin_time = 1700000000.5;
    fail.end_time = 1700000002;
    fail.has_sub_jobs = 1;
    fail.sub_jobs[JOB_SUCCESS] = 2;
    fail.sub_jobs[JOB_FAIL] = 1;
    fail.has_sub_jobs_total = 1;
    fail.sub_jobs_total = 3;
    memset(&ok, 0, sizeof(ok));
    ok.status = JOB_SUCCESS;
    memset(&l, 0, sizeof(l));
    assert_int_equal(joblabels_add(&l, "team", 4, "n\"et", 4, e, sizeof(e)), 0);
    for (i = 0; i < 8; i++) {
        static char ids[8][8];
        memset(&v, 0, sizeof(v));
        snprintf(ids[i], sizeof(ids[i]), "j%zu", i);
        v.id = ids[i];
        v.profile = i == 3 ? ECS : ELB;
        v.rec = i == 0 ? &fail : i % 2 ? &ok : NULL;
        v.status = i == 0 ? JOB_FAIL : i % 2 ? JOB_SUCCESS : JOB_RUNNING;
        v.fetch_success = v.rec != NULL;
        v.last_fetch = v.rec ? 1700000003 : 0;
        v.labels = i == 0 ? &l : NULL;
        assert_int_equal(jobindex_add(ix, &v, i == 0 ? JOB_SRC_API | JOB_SRC_FLAG : JOB_SRC_API,
                                      v.status != JOB_RUNNING, 1700000003),
                         0);
    }
    assert_int_equal(jobindex_seal(ix), 0);
    return ix;
}

static void job_json(void **state)
{
    struct jobindex *ix = small_index();
    struct strbuf b;
    struct json_doc *d;
    char s[128];
    double num;

    (void)state;
    strbuf_init(&b, REGISTRY_JOB_JSON_MAX);
    assert_int_equal(registry_render_job(&b, ix, jobindex_find(ix, ELB, "j0")), 0);
    assert_string_equal(
        b.data,
        "{\"job_id\":\"j0\",\"profile\":\"elb-v1\",\"status\":\"FAIL\",\"finished\":true,"
        "\"failed\":true,\"job_type\":\"create\\\"ELB\\\"\",\"resource_id\":\"\","
        "\"begin_timestamp_seconds\":1700000000.5,\"end_timestamp_seconds\":1700000002,"
        "\"duration_seconds\":1.5,\"error_code\":\"ELB.1003\","
        "\"fail_reason\":\"bad\\n\\u0001\xef\xbf\xbd quota \xc3\xbc\","
        "\"sub_jobs\":{\"INIT\":0,\"RUNNING\":0,\"SUCCESS\":2,\"FAIL\":1,\"UNKNOWN\":0},"
        "\"sub_jobs_total\":3,\"fetch_success\":true,\"last_fetch_timestamp_seconds\":1700000003,"
        "\"finished_timestamp_seconds\":1700000003,\"labels\":{\"team\":\"n\\\"et\"},"
        "\"sources\":[\"flag\",\"api\"]}");
    d = must_parse(b.data, b.len);
    assert_int_equal(json_string(d, json_get(d, 0, "fail_reason"), s, sizeof(s), NULL), 0);
    assert_string_equal(s, "bad\n\x01\xef\xbf\xbd quota \xc3\xbc");
    assert_int_equal(json_number(d, json_get(d, 0, "duration_seconds"), &num), 0);
    assert_true(num == 1.5);
    json_free(d);

    strbuf_truncate(&b, 0);
    assert_int_equal(registry_render_job(&b, ix, jobindex_find(ix, ELB, "j2")), 0);
    assert_string_equal(
        b.data, "{\"job_id\":\"j2\",\"profile\":\"elb-v1\",\"status\":\"RUNNING\","
                "\"finished\":false,\"failed\":false,\"job_type\":\"\",\"resource_id\":\"\","
                "\"begin_timestamp_seconds\":null,\"end_timestamp_seconds\":null,"
                "\"duration_seconds\":null,\"error_code\":null,\"fail_reason\":null,"
                "\"sub_jobs\":null,\"sub_jobs_total\":null,\"fetch_success\":false,"
                "\"last_fetch_timestamp_seconds\":null,\"finished_timestamp_seconds\":null,"
                "\"labels\":{},\"sources\":[\"api\"]}");
    /* a cap too small: nothing half-written */
    strbuf_release(&b);
    strbuf_init(&b, 100);
    assert_int_equal(strbuf_puts(&b, "keep"), 0);
    assert_int_equal(registry_render_job(&b, ix, jobindex_find(ix, ELB, "j0")), -E2BIG);
    assert_string_equal(b.data, "keep");
    strbuf_release(&b);
    jobindex_unref(ix);
}

/* Page through the whole index with limit per page; returns the IDs seen, joined by ' '. */
static void pages(const struct jobindex *ix, struct registry_list_query *q, char *seen,
                  size_t seen_cap, size_t *n_pages, size_t *total)
{
    struct strbuf b;

    seen[0] = '\0';
    *n_pages = 0;
    for (;;) {
        struct json_doc *d;
        int jobs, e, next;
        char ref[REGISTRY_REF_MAX + 1];
        double t;

        strbuf_init(&b, REGISTRY_LIST_JSON_MAX);
        assert_int_equal(registry_render_list(&b, ix, q), 0);
        d = must_parse(b.data, b.len);
        (*n_pages)++;
        jobs = json_get(d, 0, "jobs");
        assert_int_equal(json_type(d, jobs), JSON_ARRAY);
        assert_true((size_t)json_size(d, jobs) <= q->limit);
        for (e = json_first(d, jobs); e >= 0; e = json_next(d, e)) {
            char id[JOB_ID_MAX + 1];
            assert_int_equal(json_string(d, json_get(d, e, "job_id"), id, sizeof(id), NULL), 0);
            strncat(seen, id, seen_cap - strlen(seen) - 2);
            strcat(seen, " ");
        }
        assert_int_equal(json_number(d, json_get(d, 0, "total"), &t), 0);
        *total = (size_t)t;
        next = json_get(d, 0, "next");
        if (json_type(d, next) == JSON_NULL) {
            json_free(d);
            strbuf_release(&b);
            return;
        }
        assert_int_equal(json_string(d, next, ref, sizeof(ref), NULL), 0);
        assert_int_equal(registry_list_param(q, "after", ref, ELB, err, sizeof(err)), 0);
        json_free(d);
        strbuf_release(&b);
        assert_true(*n_pages < 100);
    }
}

static void list_json(void **state)
{
    struct jobindex *ix = small_index();
    struct registry_list_query q;
    char seen[256];
    size_t n, total;

    (void)state;
    registry_list_query_init(&q);
    pages(ix, &q, seen, sizeof(seen), &n, &total);
    assert_string_equal(seen, "j0 j1 j2 j3 j4 j5 j6 j7 ");
    assert_int_equal(n, 1);
    assert_int_equal(total, 8);

    registry_list_query_init(&q);
    assert_int_equal(registry_list_param(&q, "limit", "3", ELB, err, sizeof(err)), 0);
    pages(ix, &q, seen, sizeof(seen), &n, &total);
    assert_string_equal(seen, "j0 j1 j2 j3 j4 j5 j6 j7 ");
    assert_int_equal(n, 3);

    registry_list_query_init(&q);
    assert_int_equal(registry_list_param(&q, "status", "RUNNING", ELB, err, sizeof(err)), 0);
    assert_int_equal(registry_list_param(&q, "limit", "2", ELB, err, sizeof(err)), 0);
    pages(ix, &q, seen, sizeof(seen), &n, &total);
    assert_string_equal(seen, "j2 j4 j6 ");
    assert_int_equal(total, 3);
    assert_int_equal(n, 2);

    registry_list_query_init(&q);
    assert_int_equal(registry_list_param(&q, "finished", "true", ELB, err, sizeof(err)), 0);
    assert_int_equal(registry_list_param(&q, "profile", "elb-v1", ELB, err, sizeof(err)), 0);
    pages(ix, &q, seen, sizeof(seen), &n, &total);
    assert_string_equal(seen, "j0 j1 j5 j7 "); /* j3 is ECS's */

    /* a cursor that names a job gone since still goes on from its place */
    registry_list_query_init(&q);
    assert_int_equal(registry_list_param(&q, "after", "j35", ELB, err, sizeof(err)), 0);
    pages(ix, &q, seen, sizeof(seen), &n, &total);
    assert_string_equal(seen, "j4 j5 j6 j7 ");

    /* no index at all: an empty list */
    {
        struct strbuf b;
        registry_list_query_init(&q);
        strbuf_init(&b, 1024);
        assert_int_equal(registry_render_list(&b, NULL, &q), 0);
        assert_string_equal(b.data, "{\"jobs\":[],\"total\":0,\"next\":null}");
        strbuf_release(&b);
    }
    jobindex_unref(ix);
}

static void answers(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 4096);
    assert_int_equal(registry_render_error(&b, "label \"x\"\n\x01"), 0);
    assert_string_equal(b.data, "{\"error\":\"label \\\"x\\\"\\n\\u0001\"}\n");
    strbuf_truncate(&b, 0);
    assert_int_equal(parse("{\"job_id\":\"ecs-v1:x\",\"labels\":{\"team\":\"a\"}}"), 0);
    assert_int_equal(registry_render_registration(&b, &reg, 1, 1), 0);
    assert_string_equal(b.data, "{\"job_id\":\"x\",\"profile\":\"ecs-v1\",\"registered\":true,"
                                "\"created\":true,\"labels\":{\"team\":\"a\"},"
                                "\"job\":\"/api/v1/jobs/ecs-v1:x\"}\n");
    strbuf_truncate(&b, 0);
    assert_int_equal(parse("{\"job_id\":\"x\"}"), 0);
    assert_int_equal(registry_render_registration(&b, &reg, 0, 0), 0);
    assert_string_equal(b.data, "{\"job_id\":\"x\",\"profile\":\"elb-v1\",\"registered\":false,"
                                "\"created\":false,\"job\":\"/api/v1/jobs/elb-v1:x\"}\n");
    strbuf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registration_bodies),
        cmocka_unit_test(registration_errors),
        cmocka_unit_test(refs),
        cmocka_unit_test(durations),
        cmocka_unit_test(content_types),
        cmocka_unit_test(list_params),
        cmocka_unit_test(job_json),
        cmocka_unit_test(list_json),
        cmocka_unit_test(answers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
