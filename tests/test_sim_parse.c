/*
 * test_sim_parse: every scripted job of the simulator through the parser, with
 * the profile it belongs to.
 *
 * test_sim checks the simulator against the API notes and test_job checks the
 * parser against them, each on its own; this test holds the two together, so
 * that what --demo shows (once jobs carry their own profile) is what the
 * script promises: each job's status, error code and failure text, sub-jobs,
 * and whether its profile takes the status as terminal and as a failure.
 * It also parses every answer with every other profile, which must fail
 * cleanly or give a record, never anything else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "profile.h"
#include "sim.h"

#define BODY_MAX (4u << 20)
#define URL_MAX 512
#define ERR_MAX 256

struct body {
    char *data;
    size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct body *b = ud;
    size_t add = size * n;
    char *nb;

    if (add > BODY_MAX - b->len)
        return 0;
    nb = realloc(b->data, b->len + add + 1);
    if (!nb)
        return 0;
    memcpy(nb + b->len, p, add);
    b->data = nb;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* GET job id of profile p from the simulator; returns the HTTP status, the body in *b. */
static long get(const struct sim *s, const struct api_profile *p, const char *id, struct body *b)
{
    char path[URL_MAX], url[URL_MAX + 32], hdr[URL_MAX];
    struct curl_slist *h;
    long code = 0;
    CURL *c;

    memset(b, 0, sizeof(*b));
    snprintf(path, sizeof(path), p->path_fmt, sim_project_id(s), id);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)sim_port(s), path);
    snprintf(hdr, sizeof(hdr), "X-Auth-Token: %s", sim_token(s));
    h = curl_slist_append(NULL, hdr);
    c = curl_easy_init();
    assert_non_null(h);
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    return code;
}

/* What the script promises for a job, as the parser should see it. */
struct want {
    const char *profile, *id;
    enum job_status status;
    const char *error_code, *fail_reason, *resource_id;
    int terminal, failed;
    unsigned sub[JOB_STATUS_COUNT]; /* direct sub-jobs per status */
    int sub_total;                  /* -1: not sent */
};

#define SUBS(...)                                                                                  \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

static const struct want wants[] = {
    {"ecs-v1", "ff80808288d41e1b0189902609551a00", JOB_SUCCESS, "", "", "", 1, 0,
     SUBS([JOB_SUCCESS] = 1), 1},
    {"ecs-v1", "ff80808288d41e1b0189902609552b00", JOB_FAIL, "Ecs.0013",
     "Insufficient EIP quota. Apply for more, or release unused EIPs.", "", 1, 1,
     SUBS([JOB_SUCCESS] = 1, [JOB_FAIL] = 1), 2},
    {"ecs-v1", "ff80808288d41e1b0189902609553c00", JOB_RUNNING, "", "", "", 0, 0,
     SUBS([JOB_RUNNING] = 1, [JOB_INIT] = 1), 2},
    {"evs-v1", "ff808082739334d80173943ec9b20a00", JOB_SUCCESS, "", "", "", 1, 0,
     SUBS([JOB_SUCCESS] = 2), -1},
    {"evs-v1", "ff808082739334d80173943ec9b20b00", JOB_FAIL, "EVS.2024",
     "the disk is being backed up, try again later", "5d7c3b4e-8f90-41a2-9c3d-4e5f6a7b8c92", 1, 1,
     SUBS(0), -1},
    {"elb-v3", "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", JOB_RUNNING, "", "",
     "c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7", 0, 0, SUBS(0), -1},
    {"elb-v3", "2e4c6a8b-0d1f-4e3a-9c5b-7d9f1b3d5f70", JOB_COMPLETE, "", "",
     "c3d1a2b4-5e6f-4a70-8b91-a2b3c4d5e6f7", 1, 0, SUBS(0), -1},
    {"elb-v3", "8a9b0c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d", JOB_CANCEL, "", "", "", 1, 0,
     SUBS([JOB_SUCCESS] = 1, [JOB_CANCEL] = 1), -1},
};

/* Parse body with p; must be accepted. */
static void parse_ok(const struct api_profile *p, const struct body *b, struct job_record *r)
{
    char err[ERR_MAX];

    if (job_parse(p, b->data, b->len, r, err, sizeof(err)) != JOB_PARSE_OK)
        fail_msg("%s rejected (%s): %s", p->name, err, b->data);
}

static void check(const struct want *w, const struct job_record *r)
{
    const struct api_profile *p = profile_find(w->profile);
    int s;

    assert_string_equal(r->job_id, w->id);
    if (r->status != w->status)
        fail_msg("%s: %s, want %s", w->id, job_status_name(r->status), job_status_name(w->status));
    assert_string_equal(r->error_code, w->error_code);
    assert_string_equal(r->fail_reason, w->fail_reason);
    assert_string_equal(r->resource_id, w->resource_id);
    assert_int_equal(profile_terminal(p, r->status), w->terminal);
    assert_int_equal(profile_failed(p, r->status), w->failed);
    assert_int_equal(job_status_terminal(r->status), w->terminal);
    assert_int_equal(job_status_failed(r->status), w->failed);
    for (s = 0; s < JOB_STATUS_COUNT; s++)
        if (r->sub_jobs[s] != w->sub[s])
            fail_msg("%s: %u sub-jobs %s, want %u", w->id, r->sub_jobs[s],
                     job_status_name((enum job_status)s), w->sub[s]);
    assert_int_equal(r->has_sub_jobs_total, w->sub_total >= 0);
    if (w->sub_total >= 0)
        assert_int_equal(r->sub_jobs_total, (unsigned)w->sub_total);
    assert_true(r->has_begin);
    assert_int_equal(r->has_end, w->terminal);
}

static void test_profiled_jobs(void **state)
{
    const char *const *ids = sim_demo_jobs_profiled();
    struct job_record r;
    struct body b;
    size_t i;

    for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
        char pid[128];

        snprintf(pid, sizeof(pid), "%s:%s", wants[i].profile, wants[i].id);
        assert_non_null(ids[i]);
        assert_string_equal(ids[i], pid); /* the list and this table are the same jobs */
        assert_int_equal(get(*state, profile_find(wants[i].profile), wants[i].id, &b), 200);
        parse_ok(profile_find(wants[i].profile), &b, &r);
        check(&wants[i], &r);
        free(b.data);
    }
    assert_null(ids[i]);
}

/* The ELB v3 rollback, answer by answer: it ends with the alert's code and text. */
static void test_v3_rollback_ends_failed(void **state)
{
    static const enum job_status steps[] = {JOB_RUNNING, JOB_ROLLBACKING, JOB_ROLLBACKING,
                                            JOB_ROLLBACK_FAIL, JOB_ROLLBACK_FAIL};
    const struct api_profile *p = profile_find("elb-v3");
    struct job_record r;
    struct body b;
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        assert_int_equal(get(*state, p, "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", &b), 200);
        parse_ok(p, &b, &r);
        free(b.data);
        assert_int_equal(r.status, steps[i]);
        assert_int_equal(profile_terminal(p, r.status), steps[i] == JOB_ROLLBACK_FAIL);
        assert_int_equal(profile_failed(p, r.status), steps[i] == JOB_ROLLBACK_FAIL);
        assert_int_equal(r.has_end, steps[i] == JOB_ROLLBACK_FAIL);
    }
    assert_string_equal(r.error_code, "ELB.8907");
    assert_string_equal(r.fail_reason, "Rollback failed: listener \"web-443\" is still in use.");
    assert_true(r.end_time - r.begin_time == 33.0);
}

/* The classic demo jobs parse with elb-v1, and none of them is terminal in a status it lacks. */
static void test_classic_jobs(void **state)
{
    const struct api_profile *p = profile_default();
    const char *const *ids = sim_demo_jobs();
    struct job_record r;
    struct body b;
    size_t i;

    for (i = 0; ids[i]; i++) {
        assert_int_equal(get(*state, p, ids[i], &b), 200);
        parse_ok(p, &b, &r);
        free(b.data);
        assert_int_equal(profile_terminal(p, r.status), job_status_terminal(r.status));
        assert_int_equal(profile_failed(p, r.status), r.status == JOB_FAIL);
    }
}

/* Every answer parsed with every profile: a record or a clean error, never anything else. */
static void test_cross_profiles(void **state)
{
    const struct api_profile *p, *q;
    struct job_record r;
    char err[ERR_MAX];
    struct body b;
    size_t i, k;
    int rc;

    for (i = 0; i < sizeof(wants) / sizeof(wants[0]); i++) {
        p = profile_find(wants[i].profile);
        assert_int_equal(get(*state, p, wants[i].id, &b), 200);
        for (k = 0; (q = profile_at(k)) != NULL; k++) {
            rc = job_parse(q, b.data, b.len, &r, err, sizeof(err));
            if ((q->envelope != NULL) != (p->envelope != NULL)) {
                /* an enveloped answer is no classic job, nor the other way round */
                assert_int_equal(rc, JOB_PARSE_INVALID);
                assert_string_equal(err, q->envelope ? "field \"job\": missing"
                                                     : "field \"status\": missing");
            } else {
                assert_int_equal(rc, JOB_PARSE_OK);
            }
        }
        free(b.data);
    }
}

static int setup(void **state)
{
    struct sim_options o = {.host = "127.0.0.1"};

    *state = sim_start(&o);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    sim_stop(*state);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_profiled_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_v3_rollback_ends_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_classic_jobs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_profiles, setup, teardown),
    };
    int rc;

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
