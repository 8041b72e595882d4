/*
 * registry_api: the job registration API of the real binary against the
 * simulator.
 *
 * A job registered over the API (with labels) is polled and shows on the next
 * cycle with exact values, in /metrics and in GET /api/v1/jobs/{id};
 * registering twice is 200, the create call's own answer is accepted, past
 * --jobs.max the answer is 507 and nothing is dropped silently; DELETE forgets
 * (the counters keep the job) and refuses jobs other sources list; the list
 * filters and pages. Bad requests get a 4xx with a JSON error that says
 * exactly what is wrong. Without the flags the API is read-only and
 * /-/reload is refused; with --web.enable-lifecycle POST /-/reload does what
 * SIGHUP does and says whether it worked. Retention takes a finished job out
 * of the per-job views. A registration the store cannot write (the log may
 * not grow: RLIMIT_FSIZE on the running exporter) is answered 500 and taken
 * back, and is not there after a restart.
 */
#define _GNU_SOURCE /* prlimit */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "json.h"

#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define WAIT_TIMEOUT_S (20.0 * IT_TIME_SCALE)
#define JSON_HDR "Content-Type: application/json"
#define ID_RULE "(1 to 64 characters of A-Z a-z 0-9 _ -)"

/* The decoded fail_reason of J_FAIL (test_scenario.c has the same). */
#define FAIL_REASON                                                                                \
    "Quota exceeded: \"elb\" limit 10\nsee \xc3\xbc"                                               \
    "ber-docs \xf0\x9f\x9a\x80 \\ done"

struct env {
    char dir[H_PATH_MAX];
    struct h_proc sim, exp;
    char sim_base[H_URL_MAX], base[H_URL_MAX];
};

static struct env ev;

static void start(const char *name, const char *const *extra)
{
    memset(&ev, 0, sizeof(ev));
    assert_int_equal(h_test_dir(name, ev.dir, sizeof(ev.dir)), 0);
    assert_int_equal(h_start_sim(&ev.sim, ev.dir, 3000, ev.sim_base, sizeof(ev.sim_base)), 0);
    assert_int_equal(h_start_exporter(&ev.exp, ev.dir, "exporter", ev.sim_base, extra, NULL,
                                      START_TIMEOUT_S, ev.base, sizeof(ev.base)),
                     0);
}

static void finish(void)
{
    H_STOP_CLEAN(&ev.exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&ev.sim, 5.0 * IT_TIME_SCALE);
}

/* method base+path with body (JSON content type unless headers say otherwise). */
static void call(const char *method, const char *path, const char *body, const char *const *headers,
                 struct h_resp *r)
{
    static const char *const json[] = {JSON_HDR, NULL};
    char url[H_URL_MAX];

    h_fmt(url, sizeof(url), "%s%s", ev.base, path);
    if (h_http(method, url, body, headers ? headers : json, r) != 0)
        fail_msg("%s %s: no answer (curl %d)", method, path, r->curl_rc);
}

/* The body of r as a JSON document (must be one). */
static struct json_doc *doc(const struct h_resp *r)
{
    struct json_doc *d = NULL;

    if (json_parse(r->body, r->len, &d) != 0)
        fail_msg("not JSON: %s", r->body);
    return d;
}

/* The string member key of object tok, decoded ("" when absent or not a string). */
static const char *str(const struct json_doc *d, int tok, const char *key)
{
    static char buf[8][1024];
    static int next;
    char *out = buf[next++ % 8];
    int v = json_get(d, tok, key);

    out[0] = '\0';
    if (v >= 0 && json_type(d, v) == JSON_STRING)
        json_string(d, v, out, sizeof(buf[0]), NULL);
    return out;
}

static double num(const struct json_doc *d, int tok, const char *key)
{
    double v = NAN;

    if (json_number(d, json_get(d, tok, key), &v) != 0)
        fail_msg("%s is not a number", key);
    return v;
}

static int boolean(const struct json_doc *d, int tok, const char *key)
{
    int v = json_get(d, tok, key);

    assert_true(v >= 0);
    assert_true(json_type(d, v) == JSON_TRUE || json_type(d, v) == JSON_FALSE);
    return json_type(d, v) == JSON_TRUE;
}

/* r must be code with {"error": want} exactly. */
static void expect_error(const struct h_resp *r, long code, const char *want)
{
    struct json_doc *d;
    char ct[128];

    if (r->code != code)
        fail_msg("want %ld, got %ld: %s", code, r->code, r->body);
    assert_int_equal(h_resp_header(r, "Content-Type", ct, sizeof(ct)), 0);
    assert_string_equal(ct, "application/json");
    d = doc(r);
    if (strcmp(str(d, 0, "error"), want) != 0)
        fail_msg("error\n  got:  %s\n  want: %s", str(d, 0, "error"), want);
    assert_int_equal(json_size(d, 0), 1);
    json_free(d);
}

/* One request that must fail with code and error text. */
static void refused(const char *method, const char *path, const char *body,
                    const char *const *headers, long code, const char *want)
{
    struct h_resp r;

    call(method, path, body, headers, &r);
    expect_error(&r, code, want);
    h_resp_free(&r);
}

struct absent {
    const char *name, *labels;
};

/* Wait condition: no sample of name includes labels. */
static int is_absent(void *ctx)
{
    const struct absent *a = ctx;
    char url[H_URL_MAX + 16];
    struct h_expo e;
    size_t n;

    snprintf(url, sizeof(url), "%s/metrics", ev.base);
    if (h_scrape(url, &e) != 0)
        return 0;
    n = h_expo_count(&e, a->name, a->labels);
    h_expo_free(&e);
    return n == 0;
}

struct code_of {
    const char *path;
    long code;
};

/* Wait condition: GET path answers code. */
static int answers(void *ctx)
{
    const struct code_of *w = ctx;
    struct h_resp r;
    int ok;

    call("GET", w->path, NULL, NULL, &r);
    ok = r.code == w->code;
    h_resp_free(&r);
    return ok;
}

static void test_register_poll_and_forget(void **state)
{
    const char *flags[] = {"--web.enable-admin-api", "--jobs.max=3",  "--poll.interval=1s",
                           "--poll.timeout=2s",      "--job=" J_SEED, NULL};
    char loc[256], url[H_URL_MAX];
    struct json_doc *d;
    struct h_resp r;
    struct h_expo e;
    int jobs, labels;

    (void)state;
    start("registry_api", flags);
    h_fmt(url, sizeof(url), "%s/metrics", ev.base);

    /* 1. register with labels: 201, where to find it, what was registered */
    call("POST", "/api/v1/jobs",
         "{\"job_id\":\"" J_FAIL "\",\"labels\":{\"team\":\"net\",\"env\":\"prod\"}}", NULL, &r);
    if (r.code != 201)
        fail_msg("POST: %ld %s", r.code, r.body);
    assert_int_equal(h_resp_header(&r, "Location", loc, sizeof(loc)), 0);
    assert_string_equal(loc, "/api/v1/jobs/elb-v1:" J_FAIL);
    d = doc(&r);
    assert_string_equal(str(d, 0, "job_id"), J_FAIL);
    assert_string_equal(str(d, 0, "profile"), "elb-v1");
    assert_true(boolean(d, 0, "created"));
    assert_true(boolean(d, 0, "registered"));
    assert_string_equal(str(d, json_get(d, 0, "labels"), "team"), "net");
    json_free(d);
    h_resp_free(&r);

    /* 2. polled on the next cycle: the metrics, with the labels on elb_job_info */
    H_WAIT_METRIC(ev.base, "elb_job_status",
                  "job_id=\"" J_FAIL "\",job_type=\"createELB\",status=\"FAIL\"", 1,
                  WAIT_TIMEOUT_S);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_info",
             "job_id=\"" J_FAIL "\",job_type=\"createELB\","
             "resource_id=\"0f7e6b7c1d2e4f5a8b9c0d1e2f3a4b5c\",env=\"prod\",team=\"net\"",
             1);
    H_EXPECT(&e, "elb_job_info",
             "job_id=\"" J_SEED "\",job_type=\"createELB\","
             "resource_id=\"ef265755daf84333baf4ddc1d91cbc2f\"",
             1);
    H_EXPECT_TOL(&e, "elb_job_begin_timestamp_seconds",
                 "job_id=\"" J_FAIL "\",job_type=\"createELB\"", 1506678577.399, 1e-6);
    H_EXPECT_TOL(&e, "elb_job_end_timestamp_seconds",
                 "job_id=\"" J_FAIL "\",job_type=\"createELB\"", 1506678580.001, 1e-6);
    H_EXPECT(&e, "elb_jobs_failed_total", "job_type=\"createELB\",error_code=\"ELB.1003\"", 1);
    h_expo_free(&e);

    /* ... and the same values in the API */
    call("GET", "/api/v1/jobs/" J_FAIL, NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    d = doc(&r);
    assert_string_equal(str(d, 0, "job_id"), J_FAIL);
    assert_string_equal(str(d, 0, "status"), "FAIL");
    assert_true(boolean(d, 0, "finished"));
    assert_true(boolean(d, 0, "failed"));
    assert_string_equal(str(d, 0, "job_type"), "createELB");
    assert_string_equal(str(d, 0, "resource_id"), "0f7e6b7c1d2e4f5a8b9c0d1e2f3a4b5c");
    assert_string_equal(str(d, 0, "error_code"), "ELB.1003");
    assert_string_equal(str(d, 0, "fail_reason"), FAIL_REASON);
    assert_true(fabs(num(d, 0, "begin_timestamp_seconds") - 1506678577.399) < 1e-6);
    assert_true(fabs(num(d, 0, "end_timestamp_seconds") - 1506678580.001) < 1e-6);
    assert_true(num(d, 0, "duration_seconds") == 2.602);
    assert_true(boolean(d, 0, "fetch_success"));
    labels = json_get(d, 0, "labels");
    assert_int_equal(json_size(d, labels), 2);
    assert_string_equal(str(d, labels, "env"), "prod");
    assert_true(json_streq(d, json_first(d, json_get(d, 0, "sources")), "api"));
    json_free(d);
    h_resp_free(&r);
    /* PROFILE:ID and ?profile= name the same job */
    call("GET", "/api/v1/jobs/elb-v1:" J_FAIL, NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    call("GET", "/api/v1/jobs/" J_FAIL "?profile=elb-v1", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    refused("GET", "/api/v1/jobs/" J_FAIL "?profile=ecs-v1", NULL, NULL, 404,
            "job ecs-v1:" J_FAIL " is not tracked (tracked as elb-v1:" J_FAIL ")");

    /* 3. registering again is no error: 200, and the labels stay */
    call("POST", "/api/v1/jobs", "{\"job_id\":\"" J_FAIL "\"}", NULL, &r);
    assert_int_equal(r.code, 200);
    d = doc(&r);
    assert_false(boolean(d, 0, "created"));
    json_free(d);
    h_resp_free(&r);

    /* 4. the create call's answer as it stands */
    call("POST", "/api/v1/jobs",
         "{\"uri\":\"/v1.0/" H_SIM_PROJECT "/jobs/" J_DEL "\",\"job_id\":\"" J_DEL "\"}", NULL, &r);
    assert_int_equal(r.code, 201);
    h_resp_free(&r);

    /* 5. --jobs.max=3 is reached (J_SEED, J_FAIL, J_DEL): refused, said so, nothing dropped */
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"" J_SUBS "\"}", NULL, 507,
            "cannot register elb-v1:" J_SUBS ": 3 jobs are tracked, the most --jobs.max "
            "allows; forget some (DELETE /api/v1/jobs/{id}) or raise --jobs.max");
    H_WAIT_METRIC(ev.base, "elb_job_status",
                  "job_id=\"" J_DEL "\",job_type=\"deleteELB\",status=\"SUCCESS\"", 1,
                  WAIT_TIMEOUT_S);
    H_WAIT_METRIC(ev.base, "elb_job_exporter_tracked_jobs", "", 3, WAIT_TIMEOUT_S);

    /* 6. the list: filters and pages */
    call("GET", "/api/v1/jobs?limit=2", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    d = doc(&r);
    jobs = json_get(d, 0, "jobs");
    assert_int_equal(json_size(d, jobs), 2);
    assert_true(num(d, 0, "total") == 3);
    assert_string_equal(str(d, 0, "next"), "elb-v1:" J_DEL); /* ...0002 < ...0004 < ff80... */
    json_free(d);
    h_resp_free(&r);
    call("GET", "/api/v1/jobs?limit=2&after=elb-v1:" J_DEL, NULL, NULL, &r);
    d = doc(&r);
    jobs = json_get(d, 0, "jobs");
    assert_int_equal(json_size(d, jobs), 1);
    assert_string_equal(str(d, json_first(d, jobs), "job_id"), J_SEED);
    assert_int_equal(json_type(d, json_get(d, 0, "next")), JSON_NULL);
    json_free(d);
    h_resp_free(&r);
    call("GET", "/api/v1/jobs?status=fail&finished=true", NULL, NULL, &r);
    d = doc(&r);
    assert_true(num(d, 0, "total") == 1);
    assert_string_equal(str(d, json_first(d, json_get(d, 0, "jobs")), "job_id"), J_FAIL);
    json_free(d);
    h_resp_free(&r);

    /* 7. DELETE: only registrations, and the counters keep the job */
    refused("DELETE", "/api/v1/jobs/" J_SEED, NULL, NULL, 409,
            "job elb-v1:" J_SEED " is not registered over the API: it is listed by --job and "
            "stays");
    refused("DELETE", "/api/v1/jobs/" J_MISSING, NULL, NULL, 404,
            "job elb-v1:" J_MISSING " is not registered");
    call("DELETE", "/api/v1/jobs/" J_FAIL, NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    d = doc(&r);
    assert_false(boolean(d, 0, "registered"));
    json_free(d);
    h_resp_free(&r);
    {
        struct absent a = {"elb_job_status", "job_id=\"" J_FAIL "\""};
        struct code_of gone = {"/api/v1/jobs/" J_FAIL, 404};
        assert_int_equal(h_wait_for(WAIT_TIMEOUT_S, is_absent, &a), 0);
        assert_int_equal(h_wait_for(WAIT_TIMEOUT_S, answers, &gone), 0);
    }
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_jobs_failed_total", "job_type=\"createELB\",error_code=\"ELB.1003\"", 1);
    H_EXPECT_ABSENT(&e, "elb_job_info", "job_id=\"" J_FAIL "\"");
    h_expo_free(&e);

    /* 8. room again */
    call("POST", "/api/v1/jobs", "{\"job_id\":\"" J_SUBS "\"}", NULL, &r);
    assert_int_equal(r.code, 201);
    h_resp_free(&r);
    H_WAIT_METRIC(ev.base, "elb_job_status",
                  "job_id=\"" J_SUBS "\",job_type=\"batchCreateMembers\",status=\"RUNNING\"", 1,
                  WAIT_TIMEOUT_S);
    finish();
}

static void test_bad_requests(void **state)
{
    const char *flags[] = {"--web.enable-admin-api", "--poll.interval=1s", NULL};
    static const char *const text[] = {"Content-Type: text/plain", NULL};
    static const char *const none[] = {"Content-Type:", NULL};
    static const char *const chunked[] = {JSON_HDR, "Transfer-Encoding: chunked", NULL};
    char big[5001];
    struct h_resp r;
    char allow[64];

    (void)state;
    start("registry_bad", flags);
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"x\"}", text, 415,
            "Content-Type must be application/json, not \"text/plain\"");
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"x\"}", none, 415,
            "Content-Type must be application/json, not \"(none)\"");
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"x\"", NULL, 400,
            "the body is not valid JSON: truncated JSON at byte 13");
    refused("POST", "/api/v1/jobs", "", NULL, 400, "the body is empty: send {\"job_id\": \"...\"}");
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"x\",\"team\":\"net\"}", NULL, 400,
            "unknown field \"team\" (known: job_id, uri, profile, labels)");
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"../etc\"}", NULL, 400,
            "\"../etc\" is not a valid job ID " ID_RULE);
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"x\",\"labels\":{\"customer\":\"acme\"}}", NULL,
            400, "label \"customer\" is not allowed (allowed: env, owner, pipeline, team)");
    refused("POST", "/api/v1/jobs", "{\"uri\":\"/v1.0/other/jobs/x\"}", NULL, 400,
            "uri \"/v1.0/other/jobs/x\" names project other, but this exporter polls "
            "project " H_SIM_PROJECT);
    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    refused("POST", "/api/v1/jobs", big, NULL, 413,
            "the body is 5000 bytes, more than the 4096 allowed");
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"x\"}", chunked, 411,
            "send the body with a Content-Length (at most 4096 bytes), not chunked");

    call("PUT", "/api/v1/jobs", "{}", NULL, &r);
    expect_error(&r, 405, "/api/v1/jobs takes GET, HEAD and POST, not PUT");
    assert_int_equal(h_resp_header(&r, "Allow", allow, sizeof(allow)), 0);
    assert_string_equal(allow, "GET, HEAD, POST");
    h_resp_free(&r);
    refused("PATCH", "/api/v1/jobs/x", NULL, NULL, 405,
            "/api/v1/jobs/{id} takes GET, HEAD and DELETE, not PATCH");
    refused("GET", "/api/v1/jobz", NULL, NULL, 404,
            "no such endpoint: /api/v1/jobz (the API has /api/v1/jobs and /api/v1/jobs/{id})");
    refused("GET", "/api/v1/jobs/a.b", NULL, NULL, 400, "\"a.b\" is not a valid job ID " ID_RULE);
    refused("GET", "/api/v1/jobs/nope-v2:x", NULL, NULL, 400,
            "unknown profile \"nope-v2\" in \"nope-v2:x\" (known: elb-v1, ecs-v1, evs-v1, elb-v3)");
    refused("GET", "/api/v1/jobs/" J_SEED "?wait=10", NULL, NULL, 400,
            "wait: duration \"10\": missing unit (use h, m, s or ms, e.g. 30s, 10m, 1h30m)");
    refused("GET", "/api/v1/jobs/" J_SEED "?timeout=1s", NULL, NULL, 400,
            "unknown query parameter \"timeout\" (known: wait, profile)");
    refused("GET", "/api/v1/jobs?limit=5000", NULL, NULL, 400,
            "limit: \"5000\" is not a number from 1 to 1000");
    refused("GET", "/api/v1/jobs?status=DONE", NULL, NULL, 400,
            "status: unknown status \"DONE\" (known: UNKNOWN, INIT, RUNNING, SUCCESS, FAIL, "
            "ROLLBACKING, COMPLETE, ROLLBACK_FAIL, CANCEL)");
    {
        /* a GET with a body (libcurl would not send one): refused at once */
        char *raw = NULL;
        size_t n;
        uint16_t port = (uint16_t)atoi(strrchr(ev.base, ':') + 1);
        assert_int_equal(h_raw_http("127.0.0.1", port,
                                    "GET /api/v1/jobs/" J_SEED " HTTP/1.1\r\nHost: x\r\n"
                                    "Content-Length: 2\r\n\r\n{}",
                                    5.0 * IT_TIME_SCALE, &raw, &n),
                         0);
        if (strncmp(raw, "HTTP/1.1 400", 12) != 0 ||
            !strstr(raw, "{\"error\":\"GET /api/v1/jobs/" J_SEED " takes no body\"}"))
            fail_msg("GET with a body: %s", raw);
        free(raw);
    }
    /* after all that, the server still answers */
    call("GET", "/api/v1/jobs", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    finish();
}

static void test_read_only_without_the_flags(void **state)
{
    const char *flags[] = {"--poll.interval=1s", "--job=" J_SEED, NULL};
    struct h_resp r;
    char allow[64];

    (void)state;
    start("registry_read_only", flags);
    H_WAIT_METRIC(ev.base, "elb_job_status",
                  "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1,
                  WAIT_TIMEOUT_S);
    call("GET", "/api/v1/jobs", NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    call("GET", "/api/v1/jobs/" J_SEED, NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    refused("POST", "/api/v1/jobs", "{\"job_id\":\"" J_DEL "\"}", NULL, 403,
            "registering jobs is off: start the exporter with --web.enable-admin-api");
    refused("DELETE", "/api/v1/jobs/" J_SEED, NULL, NULL, 403,
            "forgetting jobs is off: start the exporter with --web.enable-admin-api");
    refused("POST", "/-/reload", NULL, NULL, 403,
            "reloading over HTTP is off: start the exporter with --web.enable-lifecycle");
    call("GET", "/-/reload", NULL, NULL, &r);
    expect_error(&r, 405, "/-/reload takes POST only");
    assert_int_equal(h_resp_header(&r, "Allow", allow, sizeof(allow)), 0);
    assert_string_equal(allow, "POST");
    h_resp_free(&r);
    finish();
}

static void test_reload_over_http(void **state)
{
    char path[H_PATH_MAX], arg[H_PATH_MAX + 16];
    const char *flags[] = {"--web.enable-lifecycle", "--poll.interval=1s", arg, NULL};
    struct h_resp r;
    struct json_doc *d;

    (void)state;
    memset(&ev, 0, sizeof(ev));
    assert_int_equal(h_test_dir("registry_reload", ev.dir, sizeof(ev.dir)), 0);
    h_fmt(path, sizeof(path), "%s/jobs.txt", ev.dir);
    h_fmt(arg, sizeof(arg), "--jobs.file=%s", path);
    assert_int_equal(h_write_file(path, J_SEED "\n", strlen(J_SEED "\n")), 0);
    assert_int_equal(h_start_sim(&ev.sim, ev.dir, 3000, ev.sim_base, sizeof(ev.sim_base)), 0);
    assert_int_equal(h_start_exporter(&ev.exp, ev.dir, "exporter", ev.sim_base, flags, NULL,
                                      START_TIMEOUT_S, ev.base, sizeof(ev.base)),
                     0);
    H_WAIT_METRIC(ev.base, "elb_job_status",
                  "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1,
                  WAIT_TIMEOUT_S);

    /* a good file: 200 once the poller has re-read it */
    assert_int_equal(h_write_file(path, J_SEED "\n" J_DEL "\n", strlen(J_SEED "\n" J_DEL "\n")), 0);
    call("POST", "/-/reload", NULL, NULL, &r);
    if (r.code != 200)
        fail_msg("reload: %ld %s", r.code, r.body);
    d = doc(&r);
    assert_true(boolean(d, 0, "reloaded"));
    json_free(d);
    h_resp_free(&r);
    H_WAIT_METRIC(ev.base, "elb_job_status",
                  "job_id=\"" J_DEL "\",job_type=\"deleteELB\",status=\"SUCCESS\"", 1,
                  WAIT_TIMEOUT_S);

    /* a broken one: 500 with the reason, and the jobs stay */
    assert_int_equal(h_write_file(path, J_SEED "\nnot/a/job\n", strlen(J_SEED "\nnot/a/job\n")), 0);
    call("POST", "/-/reload", NULL, NULL, &r);
    assert_int_equal(r.code, 500);
    d = doc(&r);
    if (!strstr(str(d, 0, "error"), "reload failed: --jobs.file: ") ||
        !strstr(str(d, 0, "error"), "jobs.txt:2"))
        fail_msg("error: %s", str(d, 0, "error"));
    json_free(d);
    h_resp_free(&r);
    H_WAIT_METRIC(ev.base, "elb_job_exporter_jobs_file_last_reload_successful", "", 0,
                  WAIT_TIMEOUT_S);
    H_WAIT_METRIC(ev.base, "elb_job_exporter_tracked_jobs", "", 2, WAIT_TIMEOUT_S);
    finish();
}

/*
 * Past --jobs.retention a finished job leaves the per-job views, and its
 * registration ends; the counters keep it.
 */
static void test_retention_in_the_api(void **state)
{
    const char *flags[] = {"--web.enable-admin-api", "--poll.interval=1s", "--jobs.retention=2s",
                           NULL};
    struct code_of gone = {"/api/v1/jobs/" J_DEL, 404};
    struct h_resp r;
    char url[H_URL_MAX];
    struct h_expo e;

    (void)state;
    start("registry_retention", flags);
    call("POST", "/api/v1/jobs", "{\"job_id\":\"" J_DEL "\"}", NULL, &r);
    assert_int_equal(r.code, 201);
    h_resp_free(&r);
    /* a GET right after the 201 finds the job, before the next publish too */
    call("GET", "/api/v1/jobs/" J_DEL, NULL, NULL, &r);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    H_WAIT_METRIC(ev.base, "elb_jobs_finished_total", "job_type=\"deleteELB\"", 1, WAIT_TIMEOUT_S);
    assert_int_equal(h_wait_for(WAIT_TIMEOUT_S, answers, &gone), 0);
    refused("GET", "/api/v1/jobs/" J_DEL, NULL, NULL, 404, "job elb-v1:" J_DEL " is not tracked");
    h_fmt(url, sizeof(url), "%s/metrics", ev.base);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT_ABSENT(&e, "elb_job_status", "job_id=\"" J_DEL "\"");
    H_EXPECT(&e, "elb_jobs_finished_total", "job_type=\"deleteELB\"", 1);
    /* the retention ended the registration too (README, "Durable store"): nothing tracked */
    H_EXPECT(&e, "elb_job_exporter_tracked_jobs", "", 0);
    h_expo_free(&e);
    call("GET", "/api/v1/jobs", NULL, NULL, &r);
    assert_non_null(strstr(r.body, "\"total\":0"));
    h_resp_free(&r);
    finish();
}

/* dir/store.log's size now; -1 when it cannot be read. */
static long long log_size(const char *dir)
{
    char path[H_PATH_MAX + 16];
    struct stat st;

    h_fmt(path, sizeof(path), "%s/store.log", dir);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/*
 * Set the running exporter's soft RLIMIT_FSIZE (bytes; RLIM_INFINITY: none),
 * under its hard one, which stays: raising it back needs no privilege.
 */
static void exporter_fsize(rlim_t bytes)
{
    struct rlimit rl;

    if (prlimit(ev.exp.pid, RLIMIT_FSIZE, NULL, &rl) != 0)
        fail_msg("prlimit(RLIMIT_FSIZE) of the exporter: %s", strerror(errno));
    rl.rlim_cur = bytes < rl.rlim_max ? bytes : rl.rlim_max;
    if (prlimit(ev.exp.pid, RLIMIT_FSIZE, &rl, NULL) != 0)
        fail_msg("prlimit(RLIMIT_FSIZE) on the exporter: %s", strerror(errno));
}

/*
 * A registration the store cannot make durable is refused (500) and taken
 * back: the store's log may not grow (RLIMIT_FSIZE set on the running
 * exporter to the log's size, so the next append fails with EFBIG, as a full
 * disk would fail it with ENOSPC). The failure is counted; once the log may
 * grow again registrations work, and after a restart only the acknowledged one
 * is back.
 */
static void test_store_refusal_takes_it_back(void **state)
{
    char store_dir[H_PATH_MAX + 16], store_flag[H_PATH_MAX + 32];
    const char *extra[] = {"--web.enable-admin-api", "--poll.interval=1s", store_flag, NULL};
    struct code_of gone = {"/api/v1/jobs/" J_DEL, 404};
    struct code_of back = {"/api/v1/jobs/" J_INIT, 200};
    struct h_resp r;
    long long size;

    (void)state;
    memset(&ev, 0, sizeof(ev));
    assert_int_equal(h_test_dir("registry_store", ev.dir, sizeof(ev.dir)), 0);
    h_fmt(store_dir, sizeof(store_dir), "%s/store", ev.dir);
    h_fmt(store_flag, sizeof(store_flag), "--storage.path=%s", store_dir);
    assert_int_equal(h_start_sim(&ev.sim, ev.dir, 3000, ev.sim_base, sizeof(ev.sim_base)), 0);
    assert_int_equal(h_start_exporter(&ev.exp, ev.dir, "exporter", ev.sim_base, extra, NULL,
                                      START_TIMEOUT_S, ev.base, sizeof(ev.base)),
                     0);
    size = log_size(store_dir);
    assert_true(size > 0);
    exporter_fsize((rlim_t)size);

    refused("POST", "/api/v1/jobs", "{\"job_id\":\"" J_DEL "\"}", NULL, 500,
            "cannot store the registration of elb-v1:" J_DEL
            " durably (File too large); it is not registered");
    assert_int_equal(h_wait_for(WAIT_TIMEOUT_S, answers, &gone), 0);
    H_WAIT_METRIC(ev.base, "elb_job_exporter_tracked_jobs", "", 0, WAIT_TIMEOUT_S);
    /* the registration's record, and the job's finished one when its first poll was quicker */
    H_WAIT_METRIC_GE(ev.base, "elb_job_exporter_store_write_errors_total", "", 1, WAIT_TIMEOUT_S);
    assert_int_equal(log_size(store_dir), size); /* nothing half-written stays */

    /* room again: the store goes on */
    exporter_fsize(RLIM_INFINITY);
    call("POST", "/api/v1/jobs", "{\"job_id\":\"" J_INIT "\"}", NULL, &r);
    if (r.code != 201)
        fail_msg("want 201, got %ld: %s", r.code, r.body);
    h_resp_free(&r);
    assert_true(log_size(store_dir) > size);
    H_STOP_CLEAN(&ev.exp, 5.0 * IT_TIME_SCALE);

    /* a restart brings back what was acknowledged, and only that */
    memset(&ev.exp, 0, sizeof(ev.exp));
    assert_int_equal(h_start_exporter(&ev.exp, ev.dir, "exporter2", ev.sim_base, extra, NULL,
                                      START_TIMEOUT_S, ev.base, sizeof(ev.base)),
                     0);
    assert_int_equal(h_wait_for(WAIT_TIMEOUT_S, answers, &back), 0);
    refused("GET", "/api/v1/jobs/" J_DEL, NULL, NULL, 404, "job elb-v1:" J_DEL " is not tracked");
    finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_register_poll_and_forget, h_teardown),
        cmocka_unit_test_teardown(test_bad_requests, h_teardown),
        cmocka_unit_test_teardown(test_read_only_without_the_flags, h_teardown),
        cmocka_unit_test_teardown(test_reload_over_http, h_teardown),
        cmocka_unit_test_teardown(test_retention_in_the_api, h_teardown),
        cmocka_unit_test_teardown(test_store_refusal_takes_it_back, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
