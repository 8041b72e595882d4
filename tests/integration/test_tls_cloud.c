/*
 * tls_cloud: TLS towards the cloud and proxies, against the real binaries.
 *
 * The test makes its own CA and a certificate for 127.0.0.1 (openssl), serves
 * the simulator over HTTPS with it, and shows that the exporter
 * - with the test CA as --tls.ca-file fetches every job (exact elb_job_status);
 * - with the system CAs (no --tls.ca-file) refuses the server: reason="tls" in
 *   api_request_errors_total, api_up 0, and a log line that says to set
 *   --tls.ca-file (the test CA is in no system store);
 * - with --tls.insecure-skip-verify fetches, and warns at start-up;
 * - refuses at start a --tls.ca-file that is missing, not a file, or holds no
 *   certificate (exit 2, one line);
 * - goes through the proxies curl users set (https_proxy, HTTPS_PROXY,
 *   all_proxy for https://; http_proxy, ALL_PROXY for http://), ignores
 *   uppercase HTTP_PROXY as curl does, and goes around them for hosts in
 *   no_proxy / NO_PROXY. The proxy is a tiny loopback one in the test process
 *   (proxy.c) that counts what it tunnels and forwards.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "proxy.h"

#define WAIT_S (15.0 * IT_TIME_SCALE)
#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define EXIT_TIMEOUT_S (30.0 * IT_TIME_SCALE) /* --once, or a refused start */
#define TOOL_TIMEOUT_S (60.0 * IT_TIME_SCALE) /* one openssl run */
#define ARGS_MAX 24
#define ENV_MAX 8

static char gdir[H_PATH_MAX]; /* the group's: CA and server certificate */
static char ca_pem[H_PATH_MAX], srv_pem[H_PATH_MAX], srv_key[H_PATH_MAX];
static char dir[H_PATH_MAX];  /* the running case's */
static struct h_proxy *proxy; /* the running case's; the teardown stops it if the case fails */

/* The jobs every case polls, and what the simulator answers for them. */
static const struct {
    const char *id, *flag, *type, *status;
} jobs[] = {{J_SEED, "--job=" J_SEED, "createELB", "SUCCESS"},
            {J_FAIL, "--job=" J_FAIL, "createELB", "FAIL"},
            {J_INIT, "--job=" J_INIT, "createELB", "INIT"},
            {J_NOTES, "--job=" J_NOTES, "deleteELB", "RUNNING"}};
#define N_JOBS (sizeof(jobs) / sizeof(jobs[0]))
static const char *const statuses[] = {"INIT", "RUNNING", "SUCCESS", "FAIL", "UNKNOWN"};

/* ---- set-up ------------------------------------------------------------------------------- */

/* Run a tool to its end in gdir (h_run_tool: 0, or -1 with its logs dumped). */
static int run_tool(const char *name, const char *const *argv)
{
    return h_run_tool(gdir, name, argv, TOOL_TIMEOUT_S);
}

/* snprintf for set-up (no cmocka assertions outside a test): 0 or -1 when it does not fit. */
static int fmt_path(char *out, size_t cap, const char *file)
{
    int n = snprintf(out, cap, "%s/%s", gdir, file);

    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/*
 * A CA (P-256, 2 days) and a server certificate it signed for IP 127.0.0.1
 * (subjectAltName, serverAuth), PEM, in gdir.
 */
static int make_certs(void)
{
    static const char ext[] = "subjectAltName=IP:127.0.0.1\n"
                              "basicConstraints=critical,CA:FALSE\n"
                              "keyUsage=critical,digitalSignature\n"
                              "extendedKeyUsage=serverAuth\n";
    char ca_key[H_PATH_MAX], csr[H_PATH_MAX], ext_path[H_PATH_MAX];

    if (fmt_path(ca_pem, sizeof(ca_pem), "ca.pem") || fmt_path(ca_key, sizeof(ca_key), "ca.key") ||
        fmt_path(srv_pem, sizeof(srv_pem), "server.pem") ||
        fmt_path(srv_key, sizeof(srv_key), "server.key") ||
        fmt_path(csr, sizeof(csr), "server.csr") ||
        fmt_path(ext_path, sizeof(ext_path), "server.ext") ||
        h_write_file(ext_path, ext, sizeof(ext) - 1) != 0)
        return -1;
    const char *const ca[] = {OPENSSL_PATH,
                              "req",
                              "-x509",
                              "-newkey",
                              "ec",
                              "-pkeyopt",
                              "ec_paramgen_curve:P-256",
                              "-nodes",
                              "-keyout",
                              ca_key,
                              "-out",
                              ca_pem,
                              "-days",
                              "2",
                              "-subj",
                              "/CN=elb_job_exporter test CA",
                              "-addext",
                              "basicConstraints=critical,CA:TRUE",
                              "-addext",
                              "keyUsage=critical,keyCertSign,cRLSign",
                              NULL};
    const char *const req[] = {
        OPENSSL_PATH, "req",     "-new",  "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes",     "-keyout", srv_key, "-out",    csr,  "-subj",    "/CN=127.0.0.1",
        NULL};
    const char *const sign[] = {OPENSSL_PATH, "x509",     "-req",   "-in",         csr,     "-CA",
                                ca_pem,       "-CAkey",   ca_key,   "-set_serial", "1",     "-days",
                                "2",          "-extfile", ext_path, "-out",        srv_pem, NULL};

    if (run_tool("openssl-ca", ca) != 0 || run_tool("openssl-req", req) != 0 ||
        run_tool("openssl-sign", sign) != 0)
        return -1;
    return 0;
}

static int group_setup(void **state)
{
    if (h_group_setup(state) != 0 || h_test_dir("tls_cloud", gdir, sizeof(gdir)) != 0 ||
        make_certs() != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    h_teardown(state); /* the exporters first: they hold the proxy's tunnels */
    h_proxy_stop(proxy);
    proxy = NULL;
    return 0;
}

/* ---- the processes ---------------------------------------------------------------------- */

/* Start the simulator over HTTPS with the test's certificate; writes its https:// base URL. */
static void start_tls_sim(struct h_proc *p, char *base, size_t cap)
{
    char cert[H_PATH_MAX + 32], key[H_PATH_MAX + 32];
    uint16_t port;

    h_fmt(cert, sizeof(cert), "--tls-cert-file=%s", srv_pem);
    h_fmt(key, sizeof(key), "--tls-key-file=%s", srv_key);
    const char *const argv[] = {SIM_PATH,
                                "--listen-address=127.0.0.1:0",
                                "--token=" H_SIM_TOKEN,
                                "--project-id=" H_SIM_PROJECT,
                                "--step-ms=0",
                                cert,
                                key,
                                NULL};

    assert_int_equal(h_spawn(p, dir, "tls-sim", argv, NULL), 0);
    if (h_wait_listening(p, 0, START_TIMEOUT_S, base, cap, &port) != 0) {
        h_dump_logs(p);
        fail_msg("the simulator did not start over HTTPS");
    }
    assert_true(strncmp(base, "https://127.0.0.1:", 18) == 0);
}

struct tls_opts {
    const char *ca_file;    /* --tls.ca-file, or NULL */
    int insecure;           /* --tls.insecure-skip-verify */
    const char *const *env; /* more environment (proxy variables), NULL-terminated, or NULL */
    int once;               /* --once: run to the end instead of serving */
};

/*
 * Start the exporter on the four jobs against endpoint with the TLS settings
 * of o, as flags or through the bridge environment. Serving: waits for the
 * listening line and writes the base URL. --once: waits for the exit.
 */
static void start_exporter(struct h_proc *p, const char *name, const char *endpoint,
                           const struct tls_opts *o, char *base, size_t cap)
{
    char ep[H_URL_MAX + 32], ca[H_PATH_MAX + 32];
    const char *argv[ARGS_MAX], *env[ENV_MAX + 4];
    size_t n = 0, ne = 0;
    uint16_t port;

    h_fmt(ep, sizeof(ep), "--elb.endpoint=%s", endpoint);
    argv[n++] = EXPORTER_PATH;
    argv[n++] = ep;
    argv[n++] = "--elb.project-id=" H_SIM_PROJECT;
    for (size_t i = 0; i < N_JOBS; i++)
        argv[n++] = jobs[i].flag;
    argv[n++] = o->once ? "--once" : "--web.listen-address=127.0.0.1:0";
    env[ne++] = "OS_AUTH_TOKEN=" H_SIM_TOKEN;
    if (o->ca_file) {
        h_fmt(ca, sizeof(ca), "--tls.ca-file=%s", o->ca_file);
        argv[n++] = ca;
    }
    if (o->insecure)
        argv[n++] = "--tls.insecure-skip-verify";
    for (size_t i = 0; o->env && o->env[i]; i++) {
        assert_true(ne < ENV_MAX);
        env[ne++] = o->env[i];
    }
    argv[n] = NULL;
    env[ne] = NULL;
    const struct h_spawn_opts so = {.env_add = env};

    assert_int_equal(h_spawn(p, dir, name, argv, &so), 0);
    if (o->once) {
        if (h_proc_wait(p, EXIT_TIMEOUT_S, NULL) != 0) {
            h_proc_stop(p, SIGKILL, 1, NULL);
            h_dump_logs(p);
            fail_msg("%s: --once still running after %.0f s", name, EXIT_TIMEOUT_S);
        }
        return;
    }
    if (h_wait_listening(p, 1, START_TIMEOUT_S, base, cap, &port) != 0) {
        h_dump_logs(p);
        fail_msg("%s did not start", name);
    }
}

/* ---- checks ------------------------------------------------------------------------------- */

/* Every job's elb_job_status is exactly the simulator's answer: 1 for it, 0 for the rest. */
static void expect_jobs_fetched(const struct h_expo *e)
{
    char labels[256];

    for (size_t i = 0; i < N_JOBS; i++) {
        for (size_t s = 0; s < sizeof(statuses) / sizeof(statuses[0]); s++) {
            h_fmt(labels, sizeof(labels), "job_id=\"%s\",job_type=\"%s\",status=\"%s\"", jobs[i].id,
                  jobs[i].type, statuses[s]);
            H_EXPECT(e, "elb_job_status", labels, strcmp(statuses[s], jobs[i].status) == 0);
        }
    }
}

/* Scrape base's /metrics into e (fails the test if it cannot). */
static void scrape(const char *base, struct h_expo *e)
{
    char url[H_URL_MAX];

    h_fmt(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(h_scrape(url, e), 0);
}

struct log_want {
    const struct h_proc *p;
    const char *a, *b; /* both on one line */
};

/* Has the process's stderr a line holding both w->a and w->b? */
static int log_has(void *ctx)
{
    const struct log_want *w = ctx;
    char *text = h_read_file(w->p->err_path, NULL), *line, *save = NULL;
    int found = 0;

    if (!text)
        return 0;
    for (line = strtok_r(text, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save))
        found = strstr(line, w->a) && strstr(line, w->b);
    free(text);
    return found;
}

/* Lines of the process's stderr that hold needle. */
static size_t log_count(const struct h_proc *p, const char *needle)
{
    char *text = h_read_file(p->err_path, NULL), *line, *save = NULL;
    size_t n = 0;

    assert_non_null(text);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        n += strstr(line, needle) != NULL;
    free(text);
    return n;
}

static void expect_log(const struct h_proc *p, const char *a, const char *b)
{
    struct log_want w = {p, a, b};

    if (h_wait_for(WAIT_S, log_has, &w) != 0) {
        h_dump_logs(p);
        fail_msg("%s: no log line with \"%s\" and \"%s\"", p->name, a, b);
    }
}

/* ---- the cases ---------------------------------------------------------------------------- */

/* (a) The test CA as --tls.ca-file: every job is fetched over HTTPS. */
static void test_ca_file_verifies(void **state)
{
    char sim_base[H_URL_MAX], base[H_URL_MAX];
    const struct tls_opts o = {.ca_file = ca_pem};
    struct h_proc sim, exp;
    struct h_expo e;

    (void)state;
    assert_int_equal(h_test_dir("tls_cloud_ca", dir, sizeof(dir)), 0);
    start_tls_sim(&sim, sim_base, sizeof(sim_base));
    start_exporter(&exp, "exporter", sim_base, &o, base, sizeof(base));
    H_WAIT_METRIC_GE(base, "elb_job_exporter_poll_cycles_total", "", 1, WAIT_S);
    scrape(base, &e);
    expect_jobs_fetched(&e);
    H_EXPECT(&e, "elb_job_exporter_api_up", "", 1);
    H_EXPECT(&e, "elb_job_exporter_api_requests_total", "code=\"200\"", N_JOBS);
    H_EXPECT(&e, "elb_job_exporter_api_request_errors_total", "reason=\"tls\"", 0);
    h_expo_free(&e);
    assert_int_equal(log_count(&exp, "insecure-skip-verify"), 0);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* (b) The system CAs only: the test CA is in no system store, so every request fails as "tls". */
static void test_system_cas_refuse(void **state)
{
    char sim_base[H_URL_MAX], base[H_URL_MAX], labels[128];
    const struct tls_opts o = {0};
    struct h_proc sim, exp;
    struct h_expo e;

    (void)state;
    assert_int_equal(h_test_dir("tls_cloud_system", dir, sizeof(dir)), 0);
    start_tls_sim(&sim, sim_base, sizeof(sim_base));
    start_exporter(&exp, "exporter", sim_base, &o, base, sizeof(base));
    H_WAIT_METRIC_GE(base, "elb_job_exporter_poll_cycles_total", "", 1, WAIT_S);
    scrape(base, &e);
    H_EXPECT(&e, "elb_job_exporter_api_up", "", 0);
    assert_true(H_VALUE(&e, "elb_job_exporter_api_request_errors_total", "reason=\"tls\"") >=
                N_JOBS);
    H_EXPECT(&e, "elb_job_exporter_api_request_errors_total", "reason=\"connect\"", 0);
    H_EXPECT(&e, "elb_job_exporter_api_request_errors_total", "reason=\"other\"", 0);
    H_EXPECT_ABSENT(&e, "elb_job_exporter_api_requests_total", "");
    for (size_t i = 0; i < N_JOBS; i++) {
        h_fmt(labels, sizeof(labels), "job_id=\"%s\",job_type=\"\",status=\"UNKNOWN\"", jobs[i].id);
        H_EXPECT(&e, "elb_job_status", labels, 1);
        h_fmt(labels, sizeof(labels), "job_id=\"%s\",job_type=\"\"", jobs[i].id);
        H_EXPECT(&e, "elb_job_fetch_success", labels, 0);
    }
    h_expo_free(&e);
    /* the log says what failed and what to do about it */
    expect_log(&exp, "certificate verify failed", "set --tls.ca-file");
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* (c) --tls.insecure-skip-verify: fetched without a CA, and one warning at start-up. */
static void test_insecure_skip_verify(void **state)
{
    char sim_base[H_URL_MAX], base[H_URL_MAX];
    const struct tls_opts o = {.insecure = 1};
    struct h_proc sim, exp;
    struct h_expo e;

    (void)state;
    assert_int_equal(h_test_dir("tls_cloud_insecure", dir, sizeof(dir)), 0);
    start_tls_sim(&sim, sim_base, sizeof(sim_base));
    start_exporter(&exp, "exporter", sim_base, &o, base, sizeof(base));
    H_WAIT_METRIC_GE(base, "elb_job_exporter_poll_cycles_total", "", 1, WAIT_S);
    scrape(base, &e);
    expect_jobs_fetched(&e);
    H_EXPECT(&e, "elb_job_exporter_api_up", "", 1);
    H_EXPECT(&e, "elb_job_exporter_api_request_errors_total", "reason=\"tls\"", 0);
    h_expo_free(&e);
    expect_log(&exp, "level=warn", "--tls.insecure-skip-verify");
    assert_int_equal(log_count(&exp, "--tls.insecure-skip-verify"), 1);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* A --tls.ca-file that cannot serve is refused at start: exit 2, one line naming the flag. */
static void test_bad_ca_file(void **state)
{
    char missing[H_PATH_MAX], text[H_PATH_MAX];
    const char *const paths[] = {missing, gdir /* a directory */, srv_key /* no certificate */,
                                 text};
    struct h_proc exp;
    char *err, *out, sb[64];
    size_t el = 0, ol = 0;

    (void)state;
    assert_int_equal(h_test_dir("tls_cloud_bad_ca", dir, sizeof(dir)), 0);
    h_fmt(missing, sizeof(missing), "%s/no-such-ca.pem", dir);
    h_fmt(text, sizeof(text), "%s/empty.pem", dir);
    assert_int_equal(h_write_file(text, "", 0), 0);
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        const struct tls_opts o = {.ca_file = paths[i], .once = 1};

        print_message("--tls.ca-file=%s\n", paths[i]);
        start_exporter(&exp, "exporter", "https://127.0.0.1:9", &o, NULL, 0);
        err = h_read_file(exp.err_path, &el);
        out = h_read_file(exp.out_path, &ol);
        assert_non_null(err);
        assert_non_null(out);
        if (!WIFEXITED(exp.status) || WEXITSTATUS(exp.status) != 2 || ol != 0 || el == 0 ||
            strchr(err, '\n') != err + el - 1 || !strstr(err, "tls.ca-file")) {
            h_dump_logs(&exp);
            fail_msg("want exit 2 and one line about --tls.ca-file, got %s",
                     h_status_str(exp.status, sb, sizeof(sb)));
        }
        free(err);
        free(out);
    }
}

struct proxy_case {
    const char *var;      /* set to the proxy's URL */
    const char *no_proxy; /* a further "K=V", or NULL */
    int tls;              /* the endpoint is the HTTPS simulator (else the plain one) */
    int through;          /* the requests must go through the proxy (else around it) */
};

/*
 * Proxies the way curl users know them: per row, one --once run; the proxy's
 * counts tell whether the requests went through it, the exposition that they
 * were answered.
 */
static void test_proxies(void **state)
{
    static const struct proxy_case rows[] = {
        {"https_proxy", NULL, 1, 1},
        {"HTTPS_PROXY", NULL, 1, 1},
        {"all_proxy", NULL, 1, 1},
        {"https_proxy", "no_proxy=127.0.0.1", 1, 0},
        {"https_proxy", "NO_PROXY=127.0.0.1", 1, 0},
        {"http_proxy", NULL, 1, 0}, /* not for https:// URLs */
        {"http_proxy", NULL, 0, 1},
        {"ALL_PROXY", NULL, 0, 1},
        {"HTTP_PROXY", NULL, 0, 0}, /* ignored by libcurl, as by curl */
        {"http_proxy", "no_proxy=127.0.0.1", 0, 0},
    };
    char tls_base[H_URL_MAX], plain_base[H_URL_MAX], proxy_url[64], want[H_URL_MAX];
    struct h_proc tls_sim, plain_sim, exp;
    struct h_proxy_counts before, after;
    struct h_expo e;
    char err[256];

    (void)state;
    assert_int_equal(h_test_dir("tls_cloud_proxy", dir, sizeof(dir)), 0);
    start_tls_sim(&tls_sim, tls_base, sizeof(tls_base));
    assert_int_equal(h_start_sim(&plain_sim, dir, 3000, plain_base, sizeof(plain_base)), 0);
    assert_int_equal(h_proxy_start(&proxy), 0);
    h_fmt(proxy_url, sizeof(proxy_url), "http://127.0.0.1:%u", (unsigned)h_proxy_port(proxy));
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct proxy_case *r = &rows[i];
        char var[96];
        const char *env[3] = {var, r->no_proxy, NULL};
        const struct tls_opts o = {.ca_file = r->tls ? ca_pem : NULL, .env = env, .once = 1};
        const char *endpoint = r->tls ? tls_base : plain_base;
        char name[32], *text;
        size_t len = 0;
        unsigned long through;

        h_fmt(var, sizeof(var), "%s=%s", r->var, proxy_url);
        print_message("%s %s against %s: %s the proxy\n", var, r->no_proxy ? r->no_proxy : "",
                      endpoint, r->through ? "through" : "around");
        h_proxy_counts(proxy, &before);
        h_fmt(name, sizeof(name), "exporter-%zu", i);
        start_exporter(&exp, name, endpoint, &o, NULL, 0);
        h_proxy_counts(proxy, &after);
        if (!WIFEXITED(exp.status) || WEXITSTATUS(exp.status) != 0) {
            h_dump_logs(&exp);
            fail_msg("row %zu: --once did not exit 0", i);
        }
        text = h_read_file(exp.out_path, &len);
        assert_non_null(text);
        if (h_expo_parse(text, len, &e, err, sizeof(err)) != 0)
            fail_msg("row %zu: the exposition does not parse: %s", i, err);
        free(text);
        expect_jobs_fetched(&e);
        h_expo_free(&e);
        assert_int_equal(after.refused, before.refused);
        through = r->tls ? after.tunnels - before.tunnels : after.forwards - before.forwards;
        assert_int_equal(after.tunnels - before.tunnels + after.forwards - before.forwards,
                         through);
        if (!r->through) {
            assert_int_equal(through, 0);
            continue;
        }
        /* a tunnel to the simulator, or one forward per job with the job's URL */
        assert_true(through >= (r->tls ? 1 : N_JOBS));
        if (r->tls)
            h_fmt(want, sizeof(want), "%s", tls_base + strlen("https://"));
        else
            h_fmt(want, sizeof(want), "%s/v1.0/" H_SIM_PROJECT "/jobs/", plain_base);
        if (strncmp(after.last_target, want, strlen(want)) != 0 ||
            (r->tls && strlen(after.last_target) != strlen(want)))
            fail_msg("row %zu: the proxy's last target is %s, want %s...", i, after.last_target,
                     want);
    }
    h_proxy_stop(proxy);
    proxy = NULL;
    H_STOP_CLEAN(&plain_sim, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&tls_sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_ca_file_verifies, teardown),
        cmocka_unit_test_teardown(test_system_cas_refuse, teardown),
        cmocka_unit_test_teardown(test_insecure_skip_verify, teardown),
        cmocka_unit_test_teardown(test_bad_ca_file, teardown),
        cmocka_unit_test_teardown(test_proxies, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, h_group_teardown);
}
