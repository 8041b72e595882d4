/*
 * http_endpoints: the exporter's HTTP surface, against the real binary.
 *
 * /metrics (GET, HEAD without a body, exact Content-Type, 405 + Allow for other
 * methods), the landing page (lists the tracked jobs, escapes what the API
 * sent), /-/healthy, /-/ready (503 until the first cycle ends, then 200), 404
 * for everything else, a custom --web.telemetry-path, and an IPv6 listener.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define WAIT_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define HDR_MAX 256

struct env {
    char dir[H_PATH_MAX];
    struct h_proc sim, exp;
    char sim_base[H_URL_MAX], exp_base[H_URL_MAX];
};

static struct env ev;

/* Start the simulator (slow_ms) and the exporter with extra flags, in test dir name. */
static void start(const char *name, unsigned slow_ms, const char *const *extra)
{
    memset(&ev, 0, sizeof(ev));
    assert_int_equal(h_test_dir(name, ev.dir, sizeof(ev.dir)), 0);
    assert_int_equal(h_start_sim(&ev.sim, ev.dir, slow_ms, ev.sim_base, sizeof(ev.sim_base)), 0);
    assert_int_equal(h_start_exporter(&ev.exp, ev.dir, "exporter", ev.sim_base, extra, NULL,
                                      START_TIMEOUT_S, ev.exp_base, sizeof(ev.exp_base)),
                     0);
}

/* Stop both processes and require clean exits (catches sanitizer reports and leaks at exit). */
static void finish(void)
{
    H_STOP_CLEAN(&ev.exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&ev.sim, 5.0 * IT_TIME_SCALE);
}

/* base + path into out. */
static void url(char *out, size_t cap, const char *path)
{
    h_fmt(out, cap, "%s%s", ev.exp_base, path);
}

static int cond_ready(void *ctx)
{
    struct h_resp r;
    char u[H_URL_MAX];
    int ok;

    (void)ctx;
    url(u, sizeof(u), "/-/ready");
    ok = h_get(u, &r) == 0 && r.code == 200;
    h_resp_free(&r);
    return ok;
}

static void wait_ready(void)
{
    if (h_wait_for(WAIT_TIMEOUT_S, cond_ready, NULL) != 0) {
        h_dump_logs(&ev.exp);
        fail_msg("/-/ready never answered 200");
    }
}

/* GET path and require status code; returns the answer (caller frees). */
static void expect_code(const char *method, const char *path, long code, struct h_resp *r)
{
    char u[H_URL_MAX];

    url(u, sizeof(u), path);
    if (h_http(method, u, NULL, NULL, r) != 0)
        fail_msg("%s %s: no answer (curl %d)", method, path, r->curl_rc);
    if (r->code != code)
        fail_msg("%s %s: HTTP %ld, want %ld", method, path, r->code, code);
}

static void expect_header(const struct h_resp *r, const char *name, const char *want)
{
    char v[HDR_MAX];

    if (h_resp_header(r, name, v, sizeof(v)) != 0)
        fail_msg("header %s missing", name);
    if (strcmp(v, want) != 0)
        fail_msg("header %s: \"%s\", want \"%s\"", name, v, want);
}

/* Case-insensitive strstr (ASCII). */
static const char *ci_find(const char *hay, const char *needle)
{
    size_t nl = strlen(needle);

    for (; *hay; hay++)
        if (strncasecmp(hay, needle, nl) == 0)
            return hay;
    return NULL;
}

static size_t count_str(const char *hay, const char *needle)
{
    size_t n = 0, nl = strlen(needle);

    for (const char *p = strstr(hay, needle); p; p = strstr(p + nl, needle))
        n++;
    return n;
}

/* ---- /metrics ---- */

static void test_metrics_methods(void **state)
{
    static const char *const extra[] = {"--poll.interval=1s", "--poll.timeout=2s", "--job=" J_SEED,
                                        "--job=" J_NOTES, NULL};
    static const char *const bad_methods[] = {"POST", "PUT", "DELETE", "PATCH", NULL};
    struct h_resp r;
    struct h_expo e;
    char err[256], u[H_URL_MAX], len[HDR_MAX];

    (void)state;
    start("http_metrics_methods", 3000, extra);
    wait_ready();

    expect_code("GET", "/metrics", 200, &r);
    expect_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    if (h_expo_parse(r.body, r.len, &e, err, sizeof(err)) != 0)
        fail_msg("exposition does not parse: %s", err);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    h_expo_free(&e);
    h_resp_free(&r);

    for (size_t i = 0; bad_methods[i]; i++) {
        expect_code(bad_methods[i], "/metrics", 405, &r);
        expect_header(&r, "Allow", "GET, HEAD");
        h_resp_free(&r);
    }

    /* HEAD through libcurl: 200, same headers */
    expect_code("HEAD", "/metrics", 200, &r);
    expect_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(h_resp_header(&r, "Content-Length", len, sizeof(len)), 0);
    assert_true(strtol(len, NULL, 10) > 100);
    assert_int_equal(r.len, 0);
    h_resp_free(&r);

    /* HEAD on the wire: the connection closes with nothing after the header block */
    {
        uint16_t port = (uint16_t)strtoul(strrchr(ev.exp_base, ':') + 1, NULL, 10);
        char *raw = NULL;
        size_t rl = 0;
        const char *end;

        assert_int_equal(h_raw_http("127.0.0.1", port,
                                    "HEAD /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
                                    10.0 * IT_TIME_SCALE, &raw, &rl),
                         0);
        if (strncmp(raw, "HTTP/1.0 200", 12) != 0 && strncmp(raw, "HTTP/1.1 200", 12) != 0)
            fail_msg("HEAD answer: %.80s", raw);
        end = strstr(raw, "\r\n\r\n");
        assert_non_null(end);
        if ((size_t)(end + 4 - raw) != rl)
            fail_msg("HEAD answer has %zu body bytes", rl - (size_t)(end + 4 - raw));
        if (!ci_find(raw, "\r\nContent-Length: "))
            fail_msg("HEAD answer has no Content-Length");
        free(raw);
    }

    /* other paths */
    static const char *const missing[] = {"/nope",        "/metricsx",   "/metric", "/-/",
                                          "/favicon.ico", "/index.html", NULL};
    for (size_t i = 0; missing[i]; i++) {
        expect_code("GET", missing[i], 404, &r);
        h_resp_free(&r);
    }

    expect_code("GET", "/-/healthy", 200, &r);
    h_resp_free(&r);
    expect_code("GET", "/-/ready", 200, &r);
    h_resp_free(&r);

    /* a query string does not change the path */
    url(u, sizeof(u), "/metrics?x=1");
    assert_int_equal(h_get(u, &r), 0);
    assert_int_equal(r.code, 200);
    h_resp_free(&r);
    finish();
}

/* ---- landing page ---- */

static void test_landing(void **state)
{
    static const char *const extra[] = {"--poll.interval=1s",
                                        "--poll.timeout=2s",
                                        "--job=" J_SEED,
                                        "--job=" J_FAIL,
                                        "--job=" J_SUBS,
                                        "--job=" J_MISSING,
                                        NULL};
    static const char *const ids[] = {J_SEED, J_FAIL, J_SUBS, J_MISSING, NULL};
    struct h_resp r;
    char ct[HDR_MAX];

    (void)state;
    start("http_landing", 3000, extra);
    wait_ready();

    expect_code("GET", "/", 200, &r);
    assert_int_equal(h_resp_header(&r, "Content-Type", ct, sizeof(ct)), 0);
    if (strncasecmp(ct, "text/html", 9) != 0)
        fail_msg("landing Content-Type \"%s\"", ct);
    if (strncasecmp(r.body, "<!DOCTYPE html>", 15) != 0)
        fail_msg("landing does not start with a doctype: %.40s", r.body);
    assert_non_null(strstr(r.body, "</html>"));
    for (size_t i = 0; ids[i]; i++)
        if (!strstr(r.body, ids[i]))
            fail_msg("landing page does not list %s", ids[i]);
    assert_non_null(strstr(r.body, "href=\"/metrics\""));
    assert_non_null(strstr(r.body, ELB_VERSION));

    /* the FAIL job's reason is shown escaped: quotes as entities, no raw markup */
    if (!strstr(r.body, "Quota exceeded: &quot;elb&quot; limit 10") &&
        !strstr(r.body, "Quota exceeded: &#34;elb&#34; limit 10"))
        fail_msg("the fail_reason is not on the page, HTML-escaped");
    assert_null(strstr(r.body, "Quota exceeded: \"elb\""));
    assert_null(ci_find(r.body, "<script"));
    /* every '<' starts a tag, a comment or a doctype: nothing raw leaked into text */
    for (const char *p = strchr(r.body, '<'); p; p = strchr(p + 1, '<'))
        if (!(p[1] == '/' || p[1] == '!' || (p[1] >= 'a' && p[1] <= 'z') ||
              (p[1] >= 'A' && p[1] <= 'Z')))
            fail_msg("raw '<' in the landing page: %.40s", p);
    /* tables are balanced */
    assert_int_equal(count_str(r.body, "<table"), count_str(r.body, "</table>"));
    assert_int_equal(count_str(r.body, "<tr"), count_str(r.body, "</tr>"));
    assert_int_equal(count_str(r.body, "<td"), count_str(r.body, "</td>"));
    h_resp_free(&r);

    expect_code("HEAD", "/", 200, &r);
    assert_int_equal(r.len, 0);
    h_resp_free(&r);
    expect_code("POST", "/", 405, &r);
    expect_header(&r, "Allow", "GET, HEAD");
    h_resp_free(&r);
    finish();
}

/* ---- readiness ---- */

static void test_ready_after_first_cycle(void **state)
{
    /* the slow job answers after 3 s and the timeout waits for it: the first cycle takes 3 s */
    static const char *const extra[] = {"--poll.interval=1s", "--poll.timeout=10s", "--job=" J_SLOW,
                                        "--job=" J_SEED, NULL};
    struct h_resp r;
    struct h_expo e;
    char u[H_URL_MAX], err[256];
    double t0;

    (void)state;
    start("http_ready", 3000, extra);
    t0 = h_mono();
    expect_code("GET", "/-/ready", 503, &r);
    h_resp_free(&r);
    /* the test is only meaningful if we asked before the slow answer could have come */
    assert_true(h_mono() - t0 < 2.5);

    /* /metrics answers at once, before the first cycle, and shows the job as not yet known */
    expect_code("GET", "/metrics", 200, &r);
    if (h_expo_parse(r.body, r.len, &e, err, sizeof(err)) != 0)
        fail_msg("exposition does not parse: %s", err);
    H_EXPECT(&e, "elb_job_status", "job_id=\"" J_SLOW "\",job_type=\"\",status=\"UNKNOWN\"", 1);
    H_EXPECT(&e, "elb_job_exporter_poll_cycles_total", "", 0);
    h_expo_free(&e);
    h_resp_free(&r);
    expect_code("GET", "/-/healthy", 200, &r);
    h_resp_free(&r);

    wait_ready();
    url(u, sizeof(u), "/metrics");
    assert_int_equal(h_scrape(u, &e), 0);
    assert_true(H_VALUE(&e, "elb_job_exporter_poll_cycles_total", "") >= 1);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SLOW "\",job_type=\"createELB\",status=\"RUNNING\"", 1);
    h_expo_free(&e);
    finish();
}

/* ---- custom telemetry path ---- */

static void test_telemetry_path(void **state)
{
    static const char *const extra[] = {"--poll.interval=1s", "--web.telemetry-path=/custom/m",
                                        "--job=" J_SEED, NULL};
    struct h_resp r;
    struct h_expo e;
    char err[256];

    (void)state;
    start("http_telemetry_path", 3000, extra);
    wait_ready();
    expect_code("GET", "/custom/m", 200, &r);
    expect_header(&r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    if (h_expo_parse(r.body, r.len, &e, err, sizeof(err)) != 0)
        fail_msg("exposition does not parse: %s", err);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    h_expo_free(&e);
    h_resp_free(&r);
    expect_code("POST", "/custom/m", 405, &r);
    expect_header(&r, "Allow", "GET, HEAD");
    h_resp_free(&r);
    expect_code("GET", "/metrics", 404, &r);
    h_resp_free(&r);
    expect_code("GET", "/", 200, &r);
    assert_non_null(strstr(r.body, "href=\"/custom/m\""));
    h_resp_free(&r);
    finish();
}

/* ---- IPv6 ---- */

static void test_ipv6(void **state)
{
    static const char *const extra[] = {"--web.listen-address=[::1]:0", "--poll.interval=1s",
                                        "--job=" J_SEED, NULL};
    struct h_resp r;
    struct h_expo e;
    char err[256];
    uint16_t port;
    char *raw = NULL;

    (void)state;
    if (!h_have_ipv6_loopback())
        skip();
    start("http_ipv6", 3000, extra);
    if (strncmp(ev.exp_base, "http://[::1]:", 13) != 0)
        fail_msg("listening line names %s, want http://[::1]:PORT", ev.exp_base);
    wait_ready();
    expect_code("GET", "/metrics", 200, &r);
    if (h_expo_parse(r.body, r.len, &e, err, sizeof(err)) != 0)
        fail_msg("exposition does not parse: %s", err);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    h_expo_free(&e);
    h_resp_free(&r);

    /* bound to ::1 only: the same port on 127.0.0.1 is not this server */
    port = (uint16_t)strtoul(strrchr(ev.exp_base, ':') + 1, NULL, 10);
    if (h_raw_http("127.0.0.1", port, "GET /-/healthy HTTP/1.0\r\n\r\n", 2.0, &raw, NULL) == 0) {
        int ours = strstr(raw, "200") != NULL;

        free(raw);
        if (ours)
            fail_msg("[::1]:%u also answers on 127.0.0.1", port);
    }
    assert_int_equal(h_raw_http("::1", port, "GET /-/healthy HTTP/1.0\r\n\r\n",
                                10.0 * IT_TIME_SCALE, &raw, NULL),
                     0);
    assert_non_null(strstr(raw, " 200 "));
    free(raw);
    finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_metrics_methods, h_teardown),
        cmocka_unit_test_teardown(test_landing, h_teardown),
        cmocka_unit_test_teardown(test_ready_after_first_cycle, h_teardown),
        cmocka_unit_test_teardown(test_telemetry_path, h_teardown),
        cmocka_unit_test_teardown(test_ipv6, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
