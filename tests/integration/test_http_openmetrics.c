/*
 * http_openmetrics: what /metrics answers to what a scraper asks, against the
 * real binary and the simulator, through libcurl (the raw bytes: libcurl does
 * not decode, the test inflates with zlib itself).
 *
 * - Prometheus's exact Accept (2.42, as Debian ships it, and 3.x) with its
 *   Accept-Encoding (gzip): OpenMetrics 1.0.0, gzip, the exact Content-Type,
 *   Content-Encoding: gzip, Vary: Accept-Encoding, Accept; the inflated bytes
 *   are the identity OpenMetrics body of the same snapshot, byte for byte, and
 *   a strict OpenMetrics parser (tests/om_check.py) takes them, with every
 *   scripted and fault job of the simulator in them. HEAD: the same headers,
 *   no body.
 * - A malformed Accept gets text 0.0.4; Accept-Encoding: gzip;q=0 gets
 *   identity; text can be gzip'd too; the landing page is gzip'd when asked.
 * - --metrics.sparse-status: one elb_job_status series per job.
 *
 * ELB_OM_PYTHON and ELB_OM_CHECK come from CMake (Debian's python3 with
 * python3-prometheus-client, and tests/om_check.py).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <zlib.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define WAIT_TIMEOUT_S (60.0 * IT_TIME_SCALE)
#define CHECK_TIMEOUT_S (60.0 * IT_TIME_SCALE)
#define HDR_MAX 256
#define SAME_SNAPSHOT_TRIES 50 /* attempts at three requests that fall in one snapshot */

#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define CT_OM "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define VARY "Accept-Encoding, Accept"

/* Byte for byte what Prometheus sends: 2.42.0 (Debian 12) and 3.x. */
#define ACCEPT_PROM_2_42                                                                           \
    "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;"             \
    "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define ACCEPT_PROM_3                                                                              \
    "Accept: application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"               \
    "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-"    \
    "utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
#define AE_PROM "Accept-Encoding: gzip"

struct env {
    char dir[H_PATH_MAX];
    struct h_proc sim, exp;
    char sim_base[H_URL_MAX], exp_base[H_URL_MAX], metrics[H_URL_MAX];
};

static struct env ev;

/* Start the simulator and the exporter with every scenario job plus extra flags. */
static void start(const char *name, const char *const *extra)
{
    const char *args[H_MAX_ARGS];
    size_t n = 0;

    memset(&ev, 0, sizeof(ev));
    assert_int_equal(h_test_dir(name, ev.dir, sizeof(ev.dir)), 0);
    assert_int_equal(h_start_sim(&ev.sim, ev.dir, 200, ev.sim_base, sizeof(ev.sim_base)), 0);
    args[n++] = "--poll.interval=2s";
    args[n++] = "--poll.timeout=1s";
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    assert_int_equal(h_add_scenario_jobs(args, &n, H_MAX_ARGS - 1), 0);
    args[n] = NULL;
    assert_int_equal(h_start_exporter(&ev.exp, ev.dir, "exporter", ev.sim_base, args, NULL,
                                      START_TIMEOUT_S, ev.exp_base, sizeof(ev.exp_base)),
                     0);
    h_fmt(ev.metrics, sizeof(ev.metrics), "%s/metrics", ev.exp_base);
}

static void finish(void)
{
    H_STOP_CLEAN(&ev.exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&ev.sim, 5.0 * IT_TIME_SCALE);
}

/* The scenario's progressing jobs have ended (so most of the states are in the exposition). */
static int cond_settled(void *ctx)
{
    double v;

    (void)ctx;
    return h_scrape_value(ev.metrics, "elb_job_status",
                          "job_id=\"" J_PROG_FAIL "\",job_type=\"deleteELB\",status=\"FAIL\"",
                          &v) == 0 &&
           v == 1;
}

static void wait_settled(void)
{
    if (h_wait_for(WAIT_TIMEOUT_S, cond_settled, NULL) != 0) {
        h_dump_logs(&ev.exp);
        fail_msg("the scenario did not settle");
    }
}

/* GET (or HEAD) path with the given request headers (NULL-terminated); require 200. */
static void request(const char *method, const char *path, const char *const *hdrs, struct h_resp *r)
{
    char u[H_URL_MAX];

    h_fmt(u, sizeof(u), "%s%s", ev.exp_base, path);
    if (h_http(method, u, NULL, hdrs, r) != 0)
        fail_msg("%s %s: no answer (curl %d)", method, path, r->curl_rc);
    if (r->code != 200)
        fail_msg("%s %s: HTTP %ld", method, path, r->code);
}

static void expect_header(const struct h_resp *r, const char *name, const char *want)
{
    char v[HDR_MAX];

    if (h_resp_header(r, name, v, sizeof(v)) != 0)
        fail_msg("header %s missing", name);
    if (strcmp(v, want) != 0)
        fail_msg("header %s: \"%s\", want \"%s\"", name, v, want);
}

static void expect_no_header(const struct h_resp *r, const char *name)
{
    char v[HDR_MAX];

    if (h_resp_header(r, name, v, sizeof(v)) == 0)
        fail_msg("unexpected header %s: %s", name, v);
}

/* Inflate a gzip body (exactly one member, nothing after it); *n its length. Free it. */
static char *gunzip(const char *gz, size_t len, size_t *n)
{
    size_t cap = 1u << 20;
    char *out = malloc(cap + 1);
    z_stream z;
    int zrc;

    assert_non_null(out);
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)gz;
    z.avail_in = (uInt)len;
    for (;;) {
        z.next_out = (Bytef *)out + z.total_out;
        z.avail_out = (uInt)(cap - z.total_out);
        zrc = inflate(&z, Z_FINISH);
        if (zrc == Z_STREAM_END)
            break;
        if (zrc != Z_BUF_ERROR && zrc != Z_OK)
            fail_msg("not a gzip body (zlib %d)", zrc);
        if (z.avail_out != 0)
            fail_msg("truncated gzip body");
        cap *= 2;
        out = realloc(out, cap + 1);
        assert_non_null(out);
    }
    assert_int_equal(z.avail_in, 0);
    *n = z.total_out;
    out[*n] = '\0';
    inflateEnd(&z);
    return out;
}

/* Run tests/om_check.py on len bytes of body; fail the test with its words when it objects. */
static void om_check(const char *body, size_t len, const char *name)
{
    static const char *const argv[] = {ELB_OM_PYTHON, ELB_OM_CHECK, "-", NULL};
    char in[H_PATH_MAX], sb[64];
    struct h_spawn_opts o = {0};
    struct h_proc p;
    char *out, *err;
    size_t ol = 0, el = 0;

    h_fmt(in, sizeof(in), "%s/%s.om", ev.dir, name);
    assert_int_equal(h_write_file(in, body, len), 0);
    o.stdin_path = in;
    assert_int_equal(h_spawn(&p, ev.dir, name, argv, &o), 0);
    if (h_proc_wait(&p, CHECK_TIMEOUT_S, NULL) != 0)
        fail_msg("om_check.py did not finish");
    out = h_read_file(p.out_path, &ol);
    err = h_read_file(p.err_path, &el);
    assert_non_null(out);
    assert_non_null(err);
    if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0 || !strstr(out, "OpenMetrics OK"))
        fail_msg("om_check.py on %s: %s\n%s%s", in, h_status_str(p.status, sb, sizeof(sb)), out,
                 err);
    free(out);
    free(err);
}

/*
 * Prometheus's request, gzip and identity, from one snapshot: gzip, identity,
 * gzip again until both gzip answers are the same bytes (compression is
 * deterministic, so then no snapshot was published in between).
 */
static void prometheus_request(const char *accept)
{
    const char *const gz_hdrs[] = {accept, AE_PROM, NULL};
    const char *const id_hdrs[] = {accept, NULL};
    struct h_resp g1, id, g2;
    char *om = NULL, len[HDR_MAX];
    size_t n = 0;
    int tries;

    for (tries = 0; tries < SAME_SNAPSHOT_TRIES; tries++) {
        request("GET", "/metrics", gz_hdrs, &g1);
        request("GET", "/metrics", id_hdrs, &id);
        request("GET", "/metrics", gz_hdrs, &g2);
        if (g1.len == g2.len && memcmp(g1.body, g2.body, g1.len) == 0)
            break;
        h_resp_free(&g1);
        h_resp_free(&id);
        h_resp_free(&g2);
    }
    if (tries == SAME_SNAPSHOT_TRIES)
        fail_msg("no three requests fell within one snapshot in %d tries", tries);

    expect_header(&g1, "Content-Type", CT_OM);
    expect_header(&g1, "Content-Encoding", "gzip");
    expect_header(&g1, "Vary", VARY);
    expect_header(&g1, "Cache-Control", "no-cache");
    assert_int_equal(h_resp_header(&g1, "Content-Length", len, sizeof(len)), 0);
    assert_int_equal(strtoul(len, NULL, 10), g1.len);
    expect_header(&id, "Content-Type", CT_OM);
    expect_header(&id, "Vary", VARY);
    expect_no_header(&id, "Content-Encoding");

    om = gunzip(g1.body, g1.len, &n);
    if (n != id.len || memcmp(om, id.body, n) != 0)
        fail_msg("the gzip body inflates to %zu bytes that are not the identity body (%zu bytes)",
                 n, id.len);
    assert_true(g1.len < id.len / 3); /* it is compressed */
    assert_true(n > 7 && strcmp(om + n - 7, "\n# EOF\n") == 0);
    assert_non_null(strstr(om, "# TYPE elb_jobs_finished counter\n"));
    assert_non_null(strstr(om, "\nelb_job_status{job_id=\"" J_SEED
                               "\",job_type=\"createELB\",status=\"SUCCESS\"} 1\n"));
    assert_non_null(strstr(om, "\nelb_job_status{job_id=\"" J_MISSING
                               "\",job_type=\"\",status=\"UNKNOWN\"} 1\n"));
    assert_non_null(strstr(om, "\n# TYPE elb_job_error info\n# HELP elb_job_error "));
    assert_non_null(strstr(om, "\nelb_job_error_info{job_id=\"" J_FAIL "\""));
    om_check(om, n, "prometheus");
    free(om);

    /* HEAD: the same headers, no body */
    {
        struct h_resp h;
        char hl[HDR_MAX];

        request("HEAD", "/metrics", gz_hdrs, &h);
        expect_header(&h, "Content-Type", CT_OM);
        expect_header(&h, "Content-Encoding", "gzip");
        expect_header(&h, "Vary", VARY);
        assert_int_equal(h_resp_header(&h, "Content-Length", hl, sizeof(hl)), 0);
        assert_true(strtoul(hl, NULL, 10) > 100);
        assert_int_equal(h.len, 0);
        h_resp_free(&h);
    }
    h_resp_free(&g1);
    h_resp_free(&id);
    h_resp_free(&g2);
}

static void test_prometheus_gets_openmetrics_gzip(void **state)
{
    (void)state;
    start("http_om_prometheus", NULL);
    wait_settled();
    prometheus_request(ACCEPT_PROM_2_42);
    prometheus_request(ACCEPT_PROM_3);
    finish();
}

static void test_other_requests(void **state)
{
    const char *const malformed[] = {"Accept: application/openmetrics-text;version=1.0.0;q=2",
                                     AE_PROM, NULL};
    const char *const no_gzip[] = {ACCEPT_PROM_2_42, "Accept-Encoding: gzip;q=0", NULL};
    const char *const text_gzip[] = {"Accept: text/plain", "Accept-Encoding: gzip, deflate, br",
                                     NULL};
    const char *const browser[] = {"Accept: text/html,*/*;q=0.8", "Accept-Encoding: gzip", NULL};
    struct h_resp r;
    struct h_expo e;
    char err[256], *body;
    size_t n;

    (void)state;
    start("http_om_other", NULL);
    wait_settled();

    /* a malformed Accept: text 0.0.4 (here gzip'd, Accept-Encoding is fine) */
    request("GET", "/metrics", malformed, &r);
    expect_header(&r, "Content-Type", CT_TEXT);
    expect_header(&r, "Content-Encoding", "gzip");
    expect_header(&r, "Vary", VARY);
    body = gunzip(r.body, r.len, &n);
    if (h_expo_parse(body, n, &e, err, sizeof(err)) != 0)
        fail_msg("text exposition does not parse: %s", err);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    assert_null(strstr(body, "# EOF"));
    h_expo_free(&e);
    free(body);
    h_resp_free(&r);

    /* gzip;q=0: identity */
    request("GET", "/metrics", no_gzip, &r);
    expect_header(&r, "Content-Type", CT_OM);
    expect_header(&r, "Vary", VARY);
    expect_no_header(&r, "Content-Encoding");
    assert_true(r.len > 7 && strcmp(r.body + r.len - 7, "\n# EOF\n") == 0);
    om_check(r.body, r.len, "identity");
    h_resp_free(&r);

    /* text, gzip'd */
    request("GET", "/metrics", text_gzip, &r);
    expect_header(&r, "Content-Type", CT_TEXT);
    expect_header(&r, "Content-Encoding", "gzip");
    body = gunzip(r.body, r.len, &n);
    if (h_expo_parse(body, n, &e, err, sizeof(err)) != 0)
        fail_msg("text exposition does not parse: %s", err);
    h_expo_free(&e);
    free(body);
    h_resp_free(&r);

    /* no headers at all: text, identity, still Vary */
    request("GET", "/metrics", NULL, &r);
    expect_header(&r, "Content-Type", CT_TEXT);
    expect_header(&r, "Vary", VARY);
    expect_no_header(&r, "Content-Encoding");
    h_resp_free(&r);

    /* the landing page, gzip'd for a browser */
    request("GET", "/", browser, &r);
    expect_header(&r, "Content-Encoding", "gzip");
    expect_header(&r, "Vary", "Accept-Encoding");
    body = gunzip(r.body, r.len, &n);
    assert_int_equal(strncasecmp(body, "<!DOCTYPE html>", 15), 0);
    assert_non_null(strstr(body, J_SEED));
    free(body);
    h_resp_free(&r);
    request("GET", "/", NULL, &r);
    expect_no_header(&r, "Content-Encoding");
    assert_int_equal(strncasecmp(r.body, "<!DOCTYPE html>", 15), 0);
    h_resp_free(&r);
    finish();
}

static void test_sparse_status(void **state)
{
    static const char *const extra[] = {"--metrics.sparse-status", NULL};
    const char *const prom[] = {ACCEPT_PROM_2_42, AE_PROM, NULL};
    struct h_resp r;
    struct h_expo e;
    char *body;
    size_t n;

    (void)state;
    start("http_om_sparse", extra);
    wait_settled();
    assert_int_equal(h_scrape(ev.metrics, &e), 0);
    /* one series per job, the current one, at 1 */
    assert_int_equal(h_expo_count(&e, "elb_job_status", ""), h_scenario_job_count());
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    H_EXPECT_ABSENT(&e, "elb_job_status", "job_id=\"" J_SEED "\",status=\"FAIL\"");
    H_EXPECT(&e, "elb_job_status", "job_id=\"" J_MISSING "\",job_type=\"\",status=\"UNKNOWN\"", 1);
    h_expo_free(&e);

    request("GET", "/metrics", prom, &r);
    body = gunzip(r.body, r.len, &n);
    om_check(body, n, "sparse");
    free(body);
    h_resp_free(&r);
    finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_prometheus_gets_openmetrics_gzip, h_teardown),
        cmocka_unit_test_teardown(test_other_requests, h_teardown),
        cmocka_unit_test_teardown(test_sparse_status, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
