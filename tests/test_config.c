/*
 * test_config: every flag of config_parse (good and bad values, both syntaxes,
 * defaults), environment precedence, required settings and --demo, --help and
 * --version, the jobs file text format, duplicates, caps, and that hostile
 * values are escaped in error messages.
 *
 * The environment is faked through config_parse's getenv_fn, so tests never
 * depend on (or change) the real one, except the test of the NULL fallback.
 */
#include "auth.h"
#include "config.h"
#include "config_run.h"
#include "job.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define ERR_MAX 512 /* the error buffer tests pass */

#define ENDPOINT "https://elb.eu-de.otc.t-systems.com"
#define PROJECT "0123456789abcdef0123456789abcdef"
#define TOKEN "MIIXtoken-value.+/="
#define JOB_A "ff8080825ecc523f015ecd0a98f82f77"
#define JOB_B "4010b39b4fd3d5ff014fd943bac41619"

/* What config_parse says when no credential at all is configured. */
#define NO_CREDS                                                                                   \
    "no credentials: set OS_AUTH_TOKEN (or --auth.token-file), an access key pair "                \
    "(OS_ACCESS_KEY and OS_SECRET_KEY), or a username, password and IAM endpoint (OS_USERNAME, "   \
    "OS_PASSWORD, OS_AUTH_URL), or name a cloud of clouds.yaml (--os-cloud)"

/* Each test starts with an empty environment. */
static int reset_env(void **state)
{
    return env_reset(state);
}

/* A full, valid non-demo environment. */
static void env_full(void)
{
    env_set("OS_PROJECT_ID", PROJECT);
    env_set("OS_AUTH_TOKEN", TOKEN);
}

/* ---- running config_parse ---- */

static int config_is_zero(const struct config *c)
{
    static const struct config zero;

    return memcmp(c, &zero, sizeof(zero)) == 0;
}

/* The parse failed with exactly this message, and *c was released. */
static void expect_err(struct run *r, const char *msg)
{
    if (r->rc != CONFIG_ERROR)
        fail_msg("expected CONFIG_ERROR \"%s\", got rc %d", msg, r->rc);
    if (strcmp(r->err, msg) != 0)
        fail_msg("error\n  got:  %s\n  want: %s", r->err, msg);
    assert_true(config_is_zero(&r->c));
}

static void expect_ok(struct run *r)
{
    if (r->rc != CONFIG_OK)
        fail_msg("expected CONFIG_OK, got rc %d: %s", r->rc, r->err);
    assert_string_equal(r->err, "");
}

/* ---- defaults, required settings, environment ---- */

static void test_defaults_demo(void **state)
{
    struct run r = {0};

    (void)state;
    PARSE(&r, "--demo");
    expect_ok(&r);
    assert_string_equal(r.c.listen_address, ":39123");
    assert_string_equal(r.c.listen_host, "");
    assert_int_equal(r.c.listen_port, 39123);
    assert_string_equal(r.c.telemetry_path, "/metrics");
    assert_null(r.c.endpoint);
    assert_null(r.c.project_id);
    assert_ptr_equal(r.c.profile, profile_default());
    assert_string_equal(r.c.profile->name, "elb-v1");
    assert_null(r.c.auth_token);
    assert_int_equal(r.c.n_jobs, 0);
    assert_null(r.c.jobs_file);
    assert_int_equal(r.c.poll_interval_ms, 15000);
    assert_int_equal(r.c.poll_timeout_ms, 10000);
    assert_int_equal(r.c.poll_concurrency, 8);
    assert_int_equal(r.c.once, 0);
    assert_int_equal(r.c.demo, 1);
    assert_int_equal(r.c.allow_insecure_http, 0);
    assert_int_equal(r.c.log_level, LOGL_INFO);
    assert_int_equal(r.c.log_format, LOGF_LOGFMT);
    assert_null(r.c.web_config_file);
    assert_null(r.c.storage_path);
    assert_int_equal(r.c.web_enable_admin_api, 0);
    assert_int_equal(r.c.web_enable_lifecycle, 0);
    assert_int_equal(r.c.metrics_sparse_status, 0);
    assert_int_equal(r.c.web_max_requests, 40);
    assert_int_equal(r.c.jobs_max, 100000);
    assert_int_equal(r.out_len, 0);
    run_free(&r);
}

static void test_full_from_flags_and_env(void **state)
{
    struct run r = {0};

    (void)state;
    env_full();
    PARSE(&r, "--elb.endpoint=" ENDPOINT);
    expect_ok(&r);
    assert_string_equal(r.c.endpoint, ENDPOINT);
    assert_string_equal(r.c.project_id, PROJECT);
    assert_string_equal(r.c.auth_token, TOKEN);
    assert_int_equal(r.c.demo, 0);
    run_free(&r);
}

static void test_required_endpoint(void **state)
{
    struct run r = {0};

    (void)state;
    env_full();
    PARSE0(&r);
    expect_err(&r, "--elb.endpoint or --cloud.region is required (or use --demo)");
    PARSE(&r, "--once");
    expect_err(&r, "--elb.endpoint or --cloud.region is required (or use --demo)");
    run_free(&r);
}

static void test_required_project(void **state)
{
    struct run r = {0};

    (void)state;
    env_set("OS_AUTH_TOKEN", TOKEN);
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_err(&r, "--elb.project-id or OS_PROJECT_ID is required");
    env_set("OS_PROJECT_ID", ""); /* empty counts as unset */
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_err(&r, "--elb.project-id or OS_PROJECT_ID is required");
    PARSE(&r, "--elb.endpoint", ENDPOINT, "--elb.project-id", PROJECT);
    expect_ok(&r);
    assert_string_equal(r.c.project_id, PROJECT);
    run_free(&r);
}

static void test_required_token(void **state)
{
    struct run r = {0};

    (void)state;
    env_set("OS_PROJECT_ID", PROJECT);
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_err(&r, NO_CREDS);
    env_set("OS_AUTH_TOKEN", "");
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_err(&r, NO_CREDS);
    PARSE(&r, "--elb.endpoint", ENDPOINT, "--auth.method=token");
    expect_err(&r, "--auth.method=token needs a token: set OS_AUTH_TOKEN or --auth.token-file / "
                   "auth.token_file");
    run_free(&r);
}

static void test_demo_relaxes_requirements(void **state)
{
    struct run r = {0};

    (void)state;
    PARSE(&r, "--demo");
    expect_ok(&r);
    /* and still takes what is given */
    env_full();
    PARSE(&r, "--demo", "--elb.endpoint", "http://127.0.0.1:1234/");
    expect_ok(&r);
    assert_string_equal(r.c.endpoint, "http://127.0.0.1:1234");
    assert_string_equal(r.c.project_id, PROJECT);
    assert_string_equal(r.c.auth_token, TOKEN);
    /* --no-demo after --demo: requirements are back */
    env_reset(NULL);
    PARSE(&r, "--demo", "--no-demo");
    expect_err(&r, "--elb.endpoint or --cloud.region is required (or use --demo)");
    run_free(&r);
}

static void test_project_precedence(void **state)
{
    struct run r = {0};

    (void)state;
    env_set("OS_PROJECT_ID", "fromenv");
    PARSE(&r, "--demo", "--elb.project-id=fromflag");
    expect_ok(&r);
    assert_string_equal(r.c.project_id, "fromflag"); /* flag > env */
    PARSE(&r, "--demo");
    expect_ok(&r);
    assert_string_equal(r.c.project_id, "fromenv"); /* env > default */
    /* a flag wins even when the environment holds garbage */
    env_set("OS_PROJECT_ID", "bad value!");
    PARSE(&r, "--demo", "--elb.project-id", "ok");
    expect_ok(&r);
    assert_string_equal(r.c.project_id, "ok");
    PARSE(&r, "--demo");
    expect_err(&r, "OS_PROJECT_ID: invalid project ID \"bad value!\" (1-64 of A-Za-z0-9_-)");
    /* an empty flag value is an error, not a fall-back to the environment */
    env_set("OS_PROJECT_ID", "fromenv");
    PARSE(&r, "--demo", "--elb.project-id=");
    expect_err(&r, "--elb.project-id: invalid project ID \"\" (1-64 of A-Za-z0-9_-)");
    run_free(&r);
}

static void test_project_values(void **state)
{
    static const char *const good[] = {
        "a",
        "Z",
        "0",
        "_",
        "-",
        PROJECT,
        "eu-de_project-1",
        "1234567890123456789012345678901234567890123456789012345678901234"};
    static const char *const bad[] = {
        "a b", "a/b", "a.b",
        "ä",   "a\n", "12345678901234567890123456789012345678901234567890123456789012345"};
    struct run r = {0};
    char want[ERR_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        PARSE(&r, "--demo", "--elb.project-id", good[i]);
        expect_ok(&r);
        assert_string_equal(r.c.project_id, good[i]);
    }
    PARSE(&r, "--demo", "--elb.project-id", "a/b");
    expect_err(&r, "--elb.project-id: invalid project ID \"a/b\" (1-64 of A-Za-z0-9_-)");
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        PARSE(&r, "--demo", "--elb.project-id", bad[i]);
        assert_int_equal(r.rc, CONFIG_ERROR);
        snprintf(want, sizeof(want), "--elb.project-id: invalid project ID \"");
        assert_memory_equal(r.err, want, strlen(want));
    }
    run_free(&r);
}

static void test_token_env_only(void **state)
{
    struct run r = {0};
    char big[AUTH_TOKEN_MAX + 16], want[ERR_MAX];

    (void)state;
    env_full();
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_ok(&r);
    assert_string_equal(r.c.auth_token, TOKEN);
    /* a token with a line break would split the HTTP header: refused, never echoed */
    env_set("OS_AUTH_TOKEN", "SECRETPART\r\nX-Evil: 1");
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_err(&r, "OS_AUTH_TOKEN contains whitespace, control or non-ASCII characters");
    env_set("OS_AUTH_TOKEN", "SECRET PART");
    PARSE(&r, "--demo");
    expect_err(&r, "OS_AUTH_TOKEN contains whitespace, control or non-ASCII characters");
    /* the cap is auth.h's AUTH_TOKEN_MAX, the same one auth_new_token applies */
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    env_set("OS_AUTH_TOKEN", big);
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    snprintf(want, sizeof(want), "OS_AUTH_TOKEN is longer than %d bytes", AUTH_TOKEN_MAX);
    expect_err(&r, want);
    big[AUTH_TOKEN_MAX + 1] = '\0';
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_err(&r, want);
    big[AUTH_TOKEN_MAX] = '\0';
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_ok(&r);
    assert_int_equal(strlen(r.c.auth_token), AUTH_TOKEN_MAX);
    run_free(&r);
}

static void test_secret_flags_refused(void **state)
{
    static const char *const flags[] = {
        "--auth.token=SECRETVALUE",    "--auth.token",
        "--os-auth-token=SECRETVALUE", "--auth.password=SECRETVALUE",
        "--OS_PASSWORD=SECRETVALUE",   "--auth.secret-key=SECRETVALUE",
        "--token=SECRETVALUE",         "--no-auth.token",
    };
    struct run r = {0};
    size_t i;

    (void)state;
    env_full();
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        PARSE(&r, "--elb.endpoint", ENDPOINT, flags[i], "SECRETVALUE");
        assert_int_equal(r.rc, CONFIG_ERROR);
        assert_non_null(strstr(r.err, "use the environment (OS_AUTH_TOKEN, OS_PASSWORD"));
        assert_non_null(strstr(r.err, "not accepted as flags"));
        assert_null(strstr(r.err, "SECRETVALUE"));
        assert_true(config_is_zero(&r.c));
    }
    PARSE(&r, "--auth.token=abc");
    expect_err(&r, "--auth.token: secrets are not accepted as flags (they are visible in ps); use "
                   "the environment (OS_AUTH_TOKEN, OS_PASSWORD, OS_SECRET_KEY) or a file "
                   "(--auth.token-file, --auth.password-file, --auth.secret-key-file)");
    run_free(&r);
}

/* With getenv_fn NULL, the process environment is used. */
static void test_real_environment(void **state)
{
    struct config c;
    char err[ERR_MAX];
    char *argv[] = {(char *)"x", (char *)"--elb.endpoint=" ENDPOINT, NULL};

    (void)state;
    assert_int_equal(setenv("OS_PROJECT_ID", "realproject", 1), 0);
    assert_int_equal(setenv("OS_AUTH_TOKEN", "realtoken", 1), 0);
    assert_int_equal(config_parse(&c, 2, argv, NULL, stdout, err, sizeof(err)), CONFIG_OK);
    assert_string_equal(c.project_id, "realproject");
    assert_string_equal(c.auth_token, "realtoken");
    config_release(&c);
    unsetenv("OS_AUTH_TOKEN");
    assert_int_equal(config_parse(&c, 2, argv, NULL, stdout, err, sizeof(err)), CONFIG_ERROR);
    assert_string_equal(err, NO_CREDS);
    unsetenv("OS_PROJECT_ID");
}

/* ---- --web.listen-address ---- */

static void test_listen_good(void **state)
{
    static const struct {
        const char *in, *host;
        unsigned port;
    } cases[] = {
        {":39123", "", 39123},
        {":0", "", 0},
        {":65535", "", 65535},
        {":080", "", 80},
        {"localhost:9100", "localhost", 9100},
        {"127.0.0.1:80", "127.0.0.1", 80},
        {"0.0.0.0:39123", "0.0.0.0", 39123},
        {"[::1]:9100", "::1", 9100},
        {"[::]:1", "::", 1},
        {"[fe80::1%eth0]:9", "fe80::1%eth0", 9},
        {"[::ffff:127.0.0.1]:5", "::ffff:127.0.0.1", 5},
        {"example.com.:1", "example.com.", 1},
        {"my_host-1.example:2", "my_host-1.example", 2},
        {"a1:3", "a1", 3},
    };
    struct run r = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PARSE(&r, "--demo", "--web.listen-address", cases[i].in);
        expect_ok(&r);
        assert_string_equal(r.c.listen_address, cases[i].in);
        assert_string_equal(r.c.listen_host, cases[i].host);
        assert_int_equal(r.c.listen_port, cases[i].port);
        run_free(&r);
        PARSE(&r, "--web.listen-address=x:1", "--demo");
        expect_ok(&r);
    }
    run_free(&r);
}

static void test_listen_bad(void **state)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        {"", "empty address"},
        {"9100", "missing port"},
        {"localhost", "missing port"},
        {":", "missing port"},
        {"host:", "missing port"},
        {":65536", "port out of range (0-65535)"},
        {":99999999", "port out of range (0-65535)"},
        {":-1", "invalid port"},
        {":+1", "invalid port"},
        {": 80", "invalid port"},
        {":80 ", "invalid port"},
        {":8o", "invalid port"},
        {"::1:9100", "an IPv6 address must be in brackets"},
        {"::9100", "an IPv6 address must be in brackets"},
        {"[::1]", "missing port"},
        {"[::1]9100", "unexpected text after ']'"},
        {"[::1:9100", "missing ']'"},
        {"[zz]:1", "invalid IPv6 address"},
        {"[]:1", "invalid IPv6 address"},
        {"[1.2.3.4]:1", "invalid IPv6 address"},
        {"[fe80::1%]:1", "invalid IPv6 address"},
        {"[fe80::1%e/0]:1", "invalid IPv6 address"},
        {"ho st:1", "invalid host"},
        {"-host:1", "invalid host"},
        {"host-:1", "invalid host"},
        {"a..b:1", "invalid host"},
        {".a:1", "invalid host"},
        {"256.1.1.1:1", "invalid host"},
        {"1.2.3:1", "invalid host"},
        {"h\xc3\xa9:1", "invalid host"},
        {"a-.b:1", "invalid host"},
    };
    struct run r = {0};
    char want[ERR_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PARSE(&r, "--demo", "--web.listen-address", cases[i].in);
        if (strcmp(cases[i].in, "h\xc3\xa9:1") == 0)
            snprintf(want, sizeof(want),
                     "--web.listen-address: invalid address \"h\\xc3\\xa9:1\": %s (use "
                     "host:port, :port or [v6]:port)",
                     cases[i].why);
        else
            snprintf(want, sizeof(want),
                     "--web.listen-address: invalid address \"%s\": %s (use host:port, :port "
                     "or [v6]:port)",
                     cases[i].in, cases[i].why);
        expect_err(&r, want);
    }
    run_free(&r);
}

static void test_listen_long_names(void **state)
{
    char v[400];
    struct run r = {0};

    (void)state;
    /* a 63-byte label is fine, 64 is not */
    memset(v, 'a', 63);
    memcpy(v + 63, ":1", 3);
    PARSE(&r, "--demo", "--web.listen-address", v);
    expect_ok(&r);
    memset(v, 'a', 64);
    memcpy(v + 64, ":1", 3);
    PARSE(&r, "--demo", "--web.listen-address", v);
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_non_null(strstr(r.err, ": invalid host (use"));
    /* 253 bytes of name are fine, 254 are not */
    memset(v, 'a', 253);
    for (size_t i = 50; i < 253; i += 51)
        v[i] = '.';
    memcpy(v + 253, ":1", 3);
    PARSE(&r, "--demo", "--web.listen-address", v);
    expect_ok(&r);
    assert_int_equal(strlen(r.c.listen_host), 253);
    memset(v, 'a', 254);
    for (size_t i = 50; i < 254; i += 51)
        v[i] = '.';
    memcpy(v + 254, ":1", 3);
    PARSE(&r, "--demo", "--web.listen-address", v);
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_non_null(strstr(r.err, ": invalid host (use"));
    run_free(&r);
}

/* ---- --web.telemetry-path ---- */

static void test_telemetry_path_good(void **state)
{
    static const char *const good[] = {
        "/metrics", "/m",  "/a/b/c", "/metrics/",  "/-x", "/x-y_z.~!$&'()*+,;=:@",
        "/..a",     "/a.", "/apis",  "/v1/metrics"};
    struct run r = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        PARSE(&r, "--demo", "--web.telemetry-path", good[i]);
        expect_ok(&r);
        assert_string_equal(r.c.telemetry_path, good[i]);
        PARSE(&r, "--demo", "--web.telemetry-path=/other", "--web.telemetry-path", good[i]);
        expect_ok(&r);
        assert_string_equal(r.c.telemetry_path, good[i]);
    }
    run_free(&r);
}

static void test_telemetry_path_bad(void **state)
{
    static const struct {
        const char *in, *shown, *why;
    } cases[] = {
        {"", "", "must start with '/'"},
        {"metrics", "metrics", "must start with '/'"},
        {"/", "/", "must not be \"/\" (the landing page)"},
        {"/-/healthy", "/-/healthy", "\"/-/\" is reserved for the exporter's own endpoints"},
        {"/-/", "/-/", "\"/-/\" is reserved for the exporter's own endpoints"},
        {"/-", "/-", "\"/-/\" is reserved for the exporter's own endpoints"},
        {"/api/v1/jobs", "/api/v1/jobs", "\"/api/\" is reserved for the exporter's API"},
        {"/api", "/api", "\"/api/\" is reserved for the exporter's API"},
        {"/m?x", "/m?x", "must not contain '?' or '#'"},
        {"/m#x", "/m#x", "must not contain '?' or '#'"},
        {"/me trics", "/me trics",
         "may only contain letters, digits and /-._~!$&'()*+,;=:@ (no spaces, no '%')"},
        {"/m%20", "/m%20",
         "may only contain letters, digits and /-._~!$&'()*+,;=:@ (no spaces, no '%')"},
        {"/m\n", "/m\\x0a",
         "may only contain letters, digits and /-._~!$&'()*+,;=:@ (no spaces, no '%')"},
        {"/\xc3\xa9", "/\\xc3\\xa9",
         "may only contain letters, digits and /-._~!$&'()*+,;=:@ (no spaces, no '%')"},
        {"/m\"", "/m\\\"",
         "may only contain letters, digits and /-._~!$&'()*+,;=:@ (no spaces, no '%')"},
        {"//m", "//m", "must not contain an empty segment \"//\""},
        {"/a//b", "/a//b", "must not contain an empty segment \"//\""},
        {"/./m", "/./m", "must not contain \".\" or \"..\" segments"},
        {"/a/..", "/a/..", "must not contain \".\" or \"..\" segments"},
        {"/a/../b", "/a/../b", "must not contain \".\" or \"..\" segments"},
        {"/a/.", "/a/.", "must not contain \".\" or \"..\" segments"},
    };
    struct run r = {0};
    char want[ERR_MAX], longp[300];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PARSE(&r, "--demo", "--web.telemetry-path", cases[i].in);
        snprintf(want, sizeof(want), "--web.telemetry-path: invalid path \"%s\": %s",
                 cases[i].shown, cases[i].why);
        expect_err(&r, want);
    }
    longp[0] = '/';
    memset(longp + 1, 'p', 256);
    longp[256] = '\0'; /* 256 bytes: allowed */
    PARSE(&r, "--demo", "--web.telemetry-path", longp);
    expect_ok(&r);
    longp[256] = 'p';
    longp[257] = '\0';
    PARSE(&r, "--demo", "--web.telemetry-path", longp);
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_non_null(strstr(r.err, "...\": too long (max 256 bytes)"));
    run_free(&r);
}

/* ---- --elb.endpoint ---- */

static void test_endpoint_good(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {ENDPOINT, ENDPOINT},
        {ENDPOINT "/", ENDPOINT},
        {ENDPOINT "///", ENDPOINT},
        {"http://127.0.0.1:8080/base/", "http://127.0.0.1:8080/base"},
        {"http://127.0.0.1:8080/a/b", "http://127.0.0.1:8080/a/b"},
        {"HTTPS://Elb.Example", "https://Elb.Example"},
        {"Http://x", "http://x"},
        {"http://[::1]:39124", "http://[::1]:39124"},
        {"http://[::1]/", "http://[::1]"},
        {"https://x:65535", "https://x:65535"},
        {"https://elb.example.com.", "https://elb.example.com."},
    };
    struct run r = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PARSE(&r, "--demo", "--elb.endpoint", cases[i].in);
        expect_ok(&r);
        assert_string_equal(r.c.endpoint, cases[i].out);
        PARSE(&r, "--demo", "--elb.endpoint=http://first",
              "--elb.endpoint="
              "https://x",
              "--elb.endpoint", cases[i].in);
        expect_ok(&r);
        assert_string_equal(r.c.endpoint, cases[i].out);
    }
    run_free(&r);
}

static void test_endpoint_bad(void **state)
{
    static const struct {
        const char *in, *shown, *why;
    } cases[] = {
        {"", "", "must start with http:// or https://"},
        {"elb.example.com", "elb.example.com", "must start with http:// or https://"},
        {"ftp://x", "ftp://x", "must start with http:// or https://"},
        {"https:/x", "https:/x", "must start with http:// or https://"},
        {"https://", "https://", "missing host"},
        {"https:///path", "https:///path", "missing host"},
        {"https://:80", "https://:80", "missing host"},
        {"https://x?y=1", "https://x?y=1", "must not have a query or fragment"},
        {"https://x/?", "https://x/?", "must not have a query or fragment"},
        {"https://x#f", "https://x#f", "must not have a query or fragment"},
        {"https://x y", "https://x y",
         "must not contain whitespace, control or non-ASCII characters"},
        {"https://x\t", "https://x\\x09",
         "must not contain whitespace, control or non-ASCII characters"},
        {"https://x\n/", "https://x\\x0a/",
         "must not contain whitespace, control or non-ASCII characters"},
        {"https://\xc3\xa9.com", "https://\\xc3\\xa9.com",
         "must not contain whitespace, control or non-ASCII characters"},
        {"https://x:0", "https://x:0", "invalid port (1-65535)"},
        {"https://x:65536", "https://x:65536", "invalid port (1-65535)"},
        {"https://x:abc", "https://x:abc", "invalid port (1-65535)"},
        {"https://x:", "https://x:", "invalid port (1-65535)"},
        {"https://::1/", "https://::1/", "an IPv6 host must be in brackets"},
        {"https://[::1/", "https://[::1/", "invalid IPv6 host"},
        {"https://[zz]/", "https://[zz]/", "invalid IPv6 host"},
        {"https://[::1]x/", "https://[::1]x/", "invalid host"},
        {"https://a..b", "https://a..b", "invalid host"},
        {"https://a_b!c", "https://a_b!c", "invalid host"},
    };
    struct run r = {0};
    char want[ERR_MAX], longu[2100];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PARSE(&r, "--demo", "--elb.endpoint", cases[i].in);
        snprintf(want, sizeof(want), "--elb.endpoint: invalid URL \"%s\": %s", cases[i].shown,
                 cases[i].why);
        expect_err(&r, want);
    }
    memcpy(longu, "https://x/", 10);
    memset(longu + 10, 'p', 2048 - 10);
    longu[2048] = '\0';
    PARSE(&r, "--demo", "--elb.endpoint", longu);
    expect_ok(&r);
    longu[2048] = 'p';
    longu[2049] = '\0';
    PARSE(&r, "--demo", "--elb.endpoint", longu);
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_non_null(strstr(r.err, "...\": too long (max 2048 bytes)"));
    run_free(&r);
}

/* user:password@ in the URL is a secret on the command line: refused, not echoed. */
static void test_endpoint_credentials(void **state)
{
    static const char *const urls[] = {"https://user:SECRETPW@elb.example",
                                       "http://SECRETPW@127.0.0.1/x", "SECRETPW@x"};
    struct run r = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        PARSE(&r, "--demo", "--elb.endpoint", urls[i]);
        expect_err(&r, "--elb.endpoint: credentials in the URL are not allowed (the token is read "
                       "from OS_AUTH_TOKEN only)");
        assert_null(strstr(r.err, "SECRETPW"));
    }
    /* an '@' in the path is not userinfo */
    PARSE(&r, "--demo", "--elb.endpoint", "https://x/a@b");
    expect_ok(&r);
    assert_string_equal(r.c.endpoint, "https://x/a@b");
    run_free(&r);
}

/*
 * Plain http:// sends the token unencrypted: refused unless the host is
 * loopback (127.0.0.0/8, ::1, localhost) or --elb.allow-insecure-http is given.
 * --demo is exempt (its endpoint is always the in-process simulator on loopback).
 */
#define INSECURE_ERR                                                                               \
    "--elb.endpoint: plain http:// to a host that is not loopback would send the token "           \
    "unencrypted; use https://, or set --elb.allow-insecure-http to allow it"

static void test_endpoint_insecure_http(void **state)
{
    static const char *const remote[] = {
        "http://x",
        "http://elb.eu-de.otc.t-systems.com",
        "HTTP://elb.example.com:8080/base",
        "http://10.0.0.1",
        "http://128.0.0.1:80",
        "http://126.255.255.255",
        "http://[2001:db8::1]:39124/",
        "http://[::2]",
        "http://localhost.example.com",
        "http://127.0.0.1.nip.io",
        "http://my-localhost",
    };
    static const char *const loopback[] = {
        "http://127.0.0.1:8080",
        "http://127.0.0.1",
        "http://127.1.2.3/base/",
        "http://127.255.255.254:1",
        "http://localhost",
        "http://LocalHost:39124/x",
        "http://localhost./x",
        "http://[::1]:39124",
        "http://[::1]",
        "http://[0:0:0:0:0:0:0:1]/",
        "http://[::ffff:127.0.0.1]:80",
    };
    struct run r = {0};
    size_t i;

    (void)state;
    env_full();
    for (i = 0; i < sizeof(remote) / sizeof(remote[0]); i++) {
        print_message("remote %s\n", remote[i]);
        PARSE(&r, "--elb.endpoint", remote[i]);
        expect_err(&r, INSECURE_ERR);
        /* the flag allows it, before or after the endpoint */
        PARSE(&r, "--elb.endpoint", remote[i], "--elb.allow-insecure-http");
        expect_ok(&r);
        assert_int_equal(r.c.allow_insecure_http, 1);
        assert_int_equal(config_endpoint_insecure(&r.c), 1);
        PARSE(&r, "--elb.allow-insecure-http=true", "--elb.endpoint", remote[i]);
        expect_ok(&r);
        /* and the last word wins */
        PARSE(&r, "--elb.allow-insecure-http", "--elb.endpoint", remote[i],
              "--no-elb.allow-insecure-http");
        expect_err(&r, INSECURE_ERR);
    }
    for (i = 0; i < sizeof(loopback) / sizeof(loopback[0]); i++) {
        print_message("loopback %s\n", loopback[i]);
        PARSE(&r, "--elb.endpoint", loopback[i]);
        expect_ok(&r);
        assert_int_equal(r.c.allow_insecure_http, 0);
        assert_int_equal(config_endpoint_insecure(&r.c), 0);
    }
    /* https never needs it */
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_ok(&r);
    assert_int_equal(config_endpoint_insecure(&r.c), 0);
    PARSE(&r, "--elb.endpoint", "https://10.0.0.1:8443");
    expect_ok(&r);
    assert_int_equal(config_endpoint_insecure(&r.c), 0);
    /* --demo replaces the endpoint by the loopback simulator: nothing to refuse */
    PARSE(&r, "--demo", "--elb.endpoint", "http://elb.example.com");
    expect_ok(&r);
    /* a bad boolean value is named */
    PARSE(&r, "--elb.endpoint", ENDPOINT, "--elb.allow-insecure-http=yes");
    expect_err(&r, "--elb.allow-insecure-http: invalid boolean \"yes\" (true or false)");
    run_free(&r);
}

/* ---- --elb.profile ---- */

static void test_profile(void **state)
{
    struct run r = {0};

    (void)state;
    PARSE(&r, "--demo", "--elb.profile", "elb-v1");
    expect_ok(&r);
    assert_ptr_equal(r.c.profile, profile_find("elb-v1"));
    PARSE(&r, "--demo", "--elb.profile=elb-v1");
    expect_ok(&r);
    assert_ptr_equal(r.c.profile, profile_find("elb-v1"));
    PARSE(&r, "--demo", "--elb.profile=nope");
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_memory_equal(r.err, "--elb.profile: unknown API profile \"nope\" (known: elb-v1",
                        strlen("--elb.profile: unknown API profile \"nope\" (known: elb-v1"));
    assert_int_equal(r.err[strlen(r.err) - 1], ')');
    PARSE(&r, "--demo", "--elb.profile=");
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_non_null(strstr(r.err, "unknown API profile \"\""));
    PARSE(&r, "--demo", "--elb.profile=ELB-V1");
    assert_int_equal(r.rc, CONFIG_ERROR);
    run_free(&r);
}

/* ---- --job and --jobs.file ---- */

static void test_jobs_flags(void **state)
{
    struct run r = {0};
    char id64[65], id65[66];

    (void)state;
    PARSE(&r, "--demo", "--job", JOB_A, "--job=" JOB_B, "--job", JOB_A, "--job=-abc", "--job",
          "-h");
    expect_ok(&r);
    assert_int_equal(r.c.n_jobs, 4); /* the duplicate is dropped; "-abc" and "-h" are IDs */
    assert_string_equal(r.c.jobs[0], JOB_A);
    assert_string_equal(r.c.jobs[1], JOB_B);
    assert_string_equal(r.c.jobs[2], "-abc");
    assert_string_equal(r.c.jobs[3], "-h");
    assert_int_equal(r.out_len, 0); /* "-h" as a value did not print help */

    memset(id64, 'f', 64);
    id64[64] = '\0';
    PARSE(&r, "--demo", "--job", id64);
    expect_ok(&r);
    assert_string_equal(r.c.jobs[0], id64);
    memset(id65, 'f', 65);
    id65[65] = '\0';
    PARSE(&r, "--demo", "--job", id65);
    expect_err(&r, "--job: invalid job ID \"fffffffffffffffffffffffffffffffffffffffffffffffff"
                   "ffffffffffffffff\" (1-64 of A-Za-z0-9_-)");
    PARSE(&r, "--demo", "--job=");
    expect_err(&r, "--job: invalid job ID \"\" (1-64 of A-Za-z0-9_-)");
    PARSE(&r, "--demo", "--job", "../../admin");
    expect_err(&r, "--job: invalid job ID \"../../admin\" (1-64 of A-Za-z0-9_-)");
    PARSE(&r, "--demo", "--job", "a b");
    expect_err(&r, "--job: invalid job ID \"a b\" (1-64 of A-Za-z0-9_-)");
    PARSE(&r, "--demo", "--job");
    expect_err(&r, "--job: missing value");
    PARSE(&r, "--job", "--demo");
    expect_err(&r, "--job: missing value");
    /* an ID starting with "--" needs the = form */
    PARSE(&r, "--demo", "--job=--weird");
    expect_ok(&r);
    assert_string_equal(r.c.jobs[0], "--weird");
    run_free(&r);
}

static void test_jobs_cap_via_flags(void **state)
{
    enum { N = CONFIG_MAX_JOBS + 1 };
    char **argv = calloc(N + 2, sizeof(*argv));
    char(*ids)[24] = calloc(N, sizeof(*ids));
    struct config c;
    char err[ERR_MAX];
    int i;

    (void)state;
    assert_non_null(argv);
    assert_non_null(ids);
    argv[0] = (char *)"x";
    argv[1] = (char *)"--demo";
    for (i = 0; i < N; i++) {
        snprintf(ids[i], sizeof(ids[i]), "--job=j%d", i);
        argv[i + 2] = ids[i];
    }
    /* exactly the cap is fine */
    assert_int_equal(config_parse(&c, N + 1, argv, fake_getenv, stdout, err, sizeof(err)),
                     CONFIG_OK);
    assert_int_equal(c.n_jobs, CONFIG_MAX_JOBS);
    assert_string_equal(c.jobs[CONFIG_MAX_JOBS - 1], "j9999");
    config_release(&c);
    /* one more is an error */
    assert_int_equal(config_parse(&c, N + 2, argv, fake_getenv, stdout, err, sizeof(err)),
                     CONFIG_ERROR);
    assert_string_equal(err, "--job: too many jobs (max 10000)");
    assert_true(config_is_zero(&c));
    free(ids);
    free(argv);
}

static void test_add_job_direct(void **state)
{
    struct config c;
    char id[16];
    int i;

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(config_add_job(&c, JOB_A), 0);
    assert_int_equal(config_add_job(&c, JOB_A), 0);
    assert_int_equal(c.n_jobs, 1);
    assert_int_equal(config_add_job(&c, "bad id"), -EINVAL);
    assert_int_equal(config_add_job(&c, ""), -EINVAL);
    assert_int_equal(config_add_job(&c, NULL), -EINVAL);
    assert_int_equal(c.n_jobs, 1);
    for (i = 1; i < CONFIG_MAX_JOBS; i++) {
        snprintf(id, sizeof(id), "id%d", i);
        assert_int_equal(config_add_job(&c, id), 0);
    }
    assert_int_equal(c.n_jobs, CONFIG_MAX_JOBS);
    assert_int_equal(config_add_job(&c, "one-more"), -E2BIG);
    assert_int_equal(config_add_job(&c, "id5"), 0); /* a duplicate at the cap is fine */
    assert_int_equal(config_add_job(&c, "bad/"), -EINVAL);
    assert_int_equal(c.n_jobs, CONFIG_MAX_JOBS);
    for (i = 1; i < CONFIG_MAX_JOBS; i++) {
        snprintf(id, sizeof(id), "id%d", i);
        assert_string_equal(c.jobs[i], id);
    }
    config_release(&c);
    assert_true(config_is_zero(&c));
    config_release(&c); /* twice is fine */
}

/* Parse a text into a fresh config holding the given pre-existing IDs. */
static int add_text(struct config *c, const char *text, char *err)
{
    return config_add_jobs_text(c, "jobs.txt", text, strlen(text), err, ERR_MAX);
}

static void test_jobs_text_format(void **state)
{
    struct config c;
    char err[ERR_MAX];
    const char *text = "\xEF\xBB\xBF# jobs of the nightly rollout\n"
                       "\n" JOB_A "\n"
                       "   " JOB_B "   # second one\r\n"
                       "\t\tabc\t\r\n"
                       "def#comment right after\n"
                       "  # indented comment with \"quotes\" and bad/chars\n"
                       "\r\n"
                       "   \t \n" JOB_A "\n"
                       "last-without-newline";

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(add_text(&c, text, err), 0);
    assert_int_equal(c.n_jobs, 5);
    assert_string_equal(c.jobs[0], JOB_A);
    assert_string_equal(c.jobs[1], JOB_B);
    assert_string_equal(c.jobs[2], "abc");
    assert_string_equal(c.jobs[3], "def");
    assert_string_equal(c.jobs[4], "last-without-newline");
    /* again: everything is a duplicate now */
    assert_int_equal(add_text(&c, text, err), 0);
    assert_int_equal(c.n_jobs, 5);
    /* empty and comment-only texts add nothing */
    assert_int_equal(add_text(&c, "", err), 0);
    assert_int_equal(add_text(&c, "# nothing\n\n", err), 0);
    assert_int_equal(config_add_jobs_text(&c, "x", NULL, 0, err, sizeof(err)), 0);
    assert_int_equal(c.n_jobs, 5);
    config_release(&c);
}

static void test_jobs_text_errors(void **state)
{
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"bad id\n", "jobs.txt:1: invalid job ID \"bad id\" (1-64 of A-Za-z0-9_-)"},
        {"ok\n\n# c\nalso-ok\r\nnot/ok\n",
         "jobs.txt:5: invalid job ID \"not/ok\" (1-64 of A-Za-z0-9_-)"},
        {"a\r\nb\r\nc d\r\n", "jobs.txt:3: invalid job ID \"c d\" (1-64 of A-Za-z0-9_-)"},
        {"x\n\"quoted\"", "jobs.txt:2: invalid job ID \"\\\"quoted\\\"\" (1-64 of A-Za-z0-9_-)"},
        {"a\rb\n", "jobs.txt:1: invalid job ID \"a\\x0db\" (1-64 of A-Za-z0-9_-)"},
        {"caf\xc3\xa9\n", "jobs.txt:1: invalid job ID \"caf\\xc3\\xa9\" (1-64 of A-Za-z0-9_-)"},
        {"\xEF\xBB\xBF\xEF\xBB\xBFx\n",
         "jobs.txt:1: invalid job ID \"\\xef\\xbb\\xbfx\" (1-64 of A-Za-z0-9_-)"},
        {"ab\x1b[2Jcd", "jobs.txt:1: invalid job ID \"ab\\x1b[2Jcd\" (1-64 of A-Za-z0-9_-)"},
        {"fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff\n",
         "jobs.txt:1: invalid job ID \"fffffffffffffffffffffffffffffffffffffffffffffffff"
         "ffffffffffffffff\" (1-64 of A-Za-z0-9_-)"},
    };
    struct config c;
    char err[ERR_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&c, 0, sizeof(c));
        assert_int_equal(config_add_job(&c, "pre"), 0);
        assert_int_equal(add_text(&c, cases[i].text, err), -EINVAL);
        if (strcmp(err, cases[i].msg) != 0)
            fail_msg("case %zu\n  got:  %s\n  want: %s", i, err, cases[i].msg);
        /* c->jobs unchanged: lines before the bad one were not kept */
        assert_int_equal(c.n_jobs, 1);
        assert_string_equal(c.jobs[0], "pre");
        config_release(&c);
    }
}

static void test_jobs_text_nul_and_hostile(void **state)
{
    static const char text[] = "good\nx\0y\n";
    struct config c;
    char err[4096], big[1000], path[300];

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(config_add_jobs_text(&c, "f", text, sizeof(text) - 1, err, sizeof(err)),
                     -EINVAL);
    assert_string_equal(err, "f:2: invalid job ID \"x\\x00y\" (1-64 of A-Za-z0-9_-)");
    assert_int_equal(c.n_jobs, 0);
    /* a NUL inside a comment is ignored */
    assert_int_equal(config_add_jobs_text(&c, "f", "a # \0 x\nb", 9, err, sizeof(err)), 0);
    assert_int_equal(c.n_jobs, 2);
    /* a huge hostile line is shown cut, and the path is escaped too */
    memset(big, '\n', sizeof(big));
    memset(big, 'A', 400);
    big[5] = '\n';
    big[6] = '\x1b';
    memset(path, 'p', sizeof(path) - 1);
    path[0] = '\n';
    path[sizeof(path) - 1] = '\0';
    assert_int_equal(config_add_jobs_text(&c, path, big, sizeof(big), err, sizeof(err)), -EINVAL);
    assert_null(strchr(err, '\n'));
    assert_null(strchr(err, '\x1b'));
    assert_memory_equal(err, "\\x0appp", 7);
    assert_non_null(strstr(err, "...:2: invalid job ID \"\\x1bAAAA"));
    assert_non_null(strstr(err, "AAA...\" (1-64 of A-Za-z0-9_-)"));
    assert_true(strlen(err) < 2 * 256 * 4 + 64);
    assert_int_equal(c.n_jobs, 2);
    config_release(&c);
}

static void test_jobs_text_cap(void **state)
{
    struct config c;
    char err[ERR_MAX], id[16];
    int i;

    (void)state;
    memset(&c, 0, sizeof(c));
    for (i = 0; i < CONFIG_MAX_JOBS - 1; i++) {
        snprintf(id, sizeof(id), "id%d", i);
        assert_int_equal(config_add_job(&c, id), 0);
    }
    /* duplicates of existing IDs do not count against the cap; the third new line breaks it */
    assert_int_equal(add_text(&c, "id1\nid2\nnew1\nid3\nnew2\n", err), -E2BIG);
    assert_string_equal(err, "jobs.txt:5: too many jobs (max 10000)");
    assert_int_equal(c.n_jobs, CONFIG_MAX_JOBS - 1); /* new1 rolled back */
    assert_int_equal(add_text(&c, "id1\nnew1\nid0\nnew1\n", err), 0);
    assert_int_equal(c.n_jobs, CONFIG_MAX_JOBS);
    assert_string_equal(c.jobs[CONFIG_MAX_JOBS - 1], "new1");
    config_release(&c);
}

/* A large file of distinct IDs parses quickly (the de-duplication is not quadratic). */
static void test_jobs_text_many(void **state)
{
    size_t cap = (size_t)CONFIG_MAX_JOBS * 40, len = 0;
    char *text = malloc(cap), err[ERR_MAX];
    struct config c;
    int i;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < CONFIG_MAX_JOBS; i++)
        len += (size_t)snprintf(text + len, cap - len, "%032x\n", (unsigned)i * 2654435761u);
    memset(&c, 0, sizeof(c));
    assert_int_equal(config_add_jobs_text(&c, "f", text, len, err, sizeof(err)), 0);
    assert_int_equal(c.n_jobs, CONFIG_MAX_JOBS);
    assert_int_equal(config_add_jobs_text(&c, "f", text, len, err, sizeof(err)), 0);
    assert_int_equal(c.n_jobs, CONFIG_MAX_JOBS);
    config_release(&c);
    free(text);
}

/* ---- --jobs.file through config_parse ---- */

struct tmpdir {
    char dir[64];
    char path[128];
};

static void write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_jobs_file(void **state)
{
    struct tmpdir t;
    struct run r = {0};
    char want[ERR_MAX];

    (void)state;
    snprintf(t.dir, sizeof(t.dir), "/tmp/test_config.XXXXXX");
    assert_non_null(mkdtemp(t.dir));
    snprintf(t.path, sizeof(t.path), "%s/jobs.txt", t.dir);
    write_file(t.path, "# ids\n" JOB_B "\nfromfile\n" JOB_A "\n",
               strlen("# ids\n" JOB_B "\nfromfile\n" JOB_A "\n"));

    /* --job values come first, then the file's lines, duplicates dropped */
    PARSE(&r, "--demo", "--jobs.file", t.path, "--job", JOB_A);
    expect_ok(&r);
    assert_string_equal(r.c.jobs_file, t.path);
    assert_int_equal(r.c.n_jobs, 3);
    assert_string_equal(r.c.jobs[0], JOB_A);
    assert_string_equal(r.c.jobs[1], JOB_B);
    assert_string_equal(r.c.jobs[2], "fromfile");

    /* last --jobs.file wins: the first (missing) one is never read */
    PARSE(&r, "--demo", "--jobs.file=/nonexistent/x",
          "--jobs.file="
          "",
          "--jobs.file", t.path);
    expect_err(&r, "--jobs.file: empty path");
    PARSE(&r, "--demo", "--jobs.file=/nonexistent/x", "--jobs.file", t.path);
    expect_ok(&r);
    assert_int_equal(r.c.n_jobs, 3);

    PARSE(&r, "--demo", "--jobs.file=/nonexistent/x");
    expect_err(&r, "--jobs.file: cannot read \"/nonexistent/x\": No such file or directory");
    PARSE(&r, "--demo", "--jobs.file", t.dir);
    snprintf(want, sizeof(want), "--jobs.file: \"%s\" is not a regular file (a directory)", t.dir);
    expect_err(&r, want);
    PARSE(&r, "--demo", "--jobs.file");
    expect_err(&r, "--jobs.file: missing value");

    write_file(t.path, "ok\nbad id here\n", 15);
    PARSE(&r, "--demo", "--jobs.file", t.path);
    snprintf(want, sizeof(want),
             "--jobs.file: %s:2: invalid job ID \"bad id here\" (1-64 of A-Za-z0-9_-)", t.path);
    expect_err(&r, want);

    write_file(t.path, "", 0);
    PARSE(&r, "--demo", "--jobs.file", t.path);
    expect_ok(&r);
    assert_int_equal(r.c.n_jobs, 0);
    run_free(&r);
    unlink(t.path);
    rmdir(t.dir);
}

static void test_jobs_file_reload(void **state)
{
    struct tmpdir t;
    struct run r = {0};
    char err[ERR_MAX], want[ERR_MAX], **jobs = NULL;
    size_t n = 0;

    (void)state;
    snprintf(t.dir, sizeof(t.dir), "/tmp/test_config.XXXXXX");
    assert_non_null(mkdtemp(t.dir));
    snprintf(t.path, sizeof(t.path), "%s/jobs.txt", t.dir);
    write_file(t.path, "one\ntwo\n", 8);
    PARSE(&r, "--demo", "--jobs.file", t.path, "--job", JOB_A);
    expect_ok(&r);
    assert_int_equal(r.c.n_flag_jobs, 1);
    assert_int_equal(r.c.n_jobs, 3);

    /* the file changed: --job IDs first, then what the file says now */
    write_file(t.path, "two\n" JOB_A "\nthree\n", strlen("two\n" JOB_A "\nthree\n"));
    assert_int_equal(config_reload_jobs(&r.c, &jobs, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(jobs[0], JOB_A);
    assert_string_equal(jobs[1], "two");
    assert_string_equal(jobs[2], "three");
    /* the config itself is untouched: the caller swaps lists */
    assert_int_equal(r.c.n_jobs, 3);
    assert_string_equal(r.c.jobs[1], "one");
    config_free_jobs(jobs, n);
    config_free_jobs(NULL, 0);

    /* a bad line: an error naming PATH:LINE and no list */
    jobs = NULL;
    write_file(t.path, "two\nno way\n", 11);
    assert_int_equal(config_reload_jobs(&r.c, &jobs, &n, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "%s:2: invalid job ID \"no way\" (1-64 of A-Za-z0-9_-)", t.path);
    assert_string_equal(err, want);
    assert_null(jobs);

    /* the file vanished */
    unlink(t.path);
    assert_int_equal(config_reload_jobs(&r.c, &jobs, &n, err, sizeof(err)), -ENOENT);
    snprintf(want, sizeof(want), "cannot read \"%s\": No such file or directory", t.path);
    assert_string_equal(err, want);
    assert_null(jobs);
    run_free(&r);

    /* nothing to reload without --jobs.file */
    PARSE(&r, "--demo", "--job", JOB_A);
    expect_ok(&r);
    assert_int_equal(config_reload_jobs(&r.c, &jobs, &n, err, sizeof(err)), -EINVAL);
    assert_null(jobs);
    run_free(&r);
    rmdir(t.dir);
}

/*
 * A FIFO (or any file that is not a regular one) is refused at once, at start
 * and on reload: opening one for reading used to wait for a writer forever.
 * No deadline here on purpose: the calls must simply return.
 */
static void test_jobs_file_fifo(void **state)
{
    struct tmpdir t;
    struct run r = {0};
    char err[ERR_MAX], want[ERR_MAX], **jobs = NULL;
    size_t n = 0;

    (void)state;
    snprintf(t.dir, sizeof(t.dir), "/tmp/test_config.XXXXXX");
    assert_non_null(mkdtemp(t.dir));
    snprintf(t.path, sizeof(t.path), "%s/jobs.fifo", t.dir);
    assert_int_equal(mkfifo(t.path, 0600), 0);
    PARSE(&r, "--demo", "--jobs.file", t.path);
    snprintf(want, sizeof(want), "--jobs.file: \"%s\" is not a regular file (a FIFO)", t.path);
    expect_err(&r, want);
    unlink(t.path);

    /* loaded from a regular file, then the path becomes a FIFO: the reload refuses it */
    write_file(t.path, "one\n", 4);
    PARSE(&r, "--demo", "--jobs.file", t.path);
    expect_ok(&r);
    unlink(t.path);
    assert_int_equal(mkfifo(t.path, 0600), 0);
    assert_int_equal(config_reload_jobs(&r.c, &jobs, &n, err, sizeof(err)), -EINVAL);
    snprintf(want, sizeof(want), "\"%s\" is not a regular file (a FIFO)", t.path);
    assert_string_equal(err, want);
    assert_null(jobs);
    run_free(&r);
    unlink(t.path);
    rmdir(t.dir);
}

static void test_jobs_file_size_cap(void **state)
{
    struct tmpdir t;
    struct run r = {0};
    char want[ERR_MAX];
    char *data = malloc(CONFIG_JOBS_FILE_MAX + 1);

    (void)state;
    assert_non_null(data);
    snprintf(t.dir, sizeof(t.dir), "/tmp/test_config.XXXXXX");
    assert_non_null(mkdtemp(t.dir));
    snprintf(t.path, sizeof(t.path), "%s/big.txt", t.dir);
    /* exactly the cap: blank lines and one ID at the very end */
    memset(data, '\n', CONFIG_JOBS_FILE_MAX + 1);
    memcpy(data + CONFIG_JOBS_FILE_MAX - 4, "last", 4);
    write_file(t.path, data, CONFIG_JOBS_FILE_MAX);
    PARSE(&r, "--demo", "--jobs.file", t.path);
    expect_ok(&r);
    assert_int_equal(r.c.n_jobs, 1);
    assert_string_equal(r.c.jobs[0], "last");
    /* one byte more */
    write_file(t.path, data, CONFIG_JOBS_FILE_MAX + 1);
    PARSE(&r, "--demo", "--jobs.file", t.path);
    snprintf(want, sizeof(want), "--jobs.file: \"%s\" is larger than 1048576 bytes", t.path);
    expect_err(&r, want);
    run_free(&r);
    free(data);
    unlink(t.path);
    rmdir(t.dir);
}

/* ---- durations ---- */

static void test_poll_interval(void **state)
{
    static const struct {
        const char *in;
        uint64_t ms;
    } good[] = {{"15s", 15000}, {"100ms", 100},    {"1m30s", 90000},      {"1h", 3600000},
                {"1s", 1000},   {"2d", 172800000}, {"1y", 31536000000ull}};
    static const struct {
        const char *in, *msg;
    } bad[] = {
        {"5x", "--poll.interval: invalid duration \"5x\" (use Prometheus syntax like 15s, 1m)"},
        {"", "--poll.interval: invalid duration \"\" (use Prometheus syntax like 15s, 1m)"},
        {"15", "--poll.interval: invalid duration \"15\" (use Prometheus syntax like 15s, 1m)"},
        {"1.5s", "--poll.interval: invalid duration \"1.5s\" (use Prometheus syntax like 15s, 1m)"},
        {"-1s", "--poll.interval: invalid duration \"-1s\" (use Prometheus syntax like 15s, 1m)"},
        {"1s1m", "--poll.interval: invalid duration \"1s1m\" (use Prometheus syntax like 15s, 1m)"},
        {" 1s", "--poll.interval: invalid duration \" 1s\" (use Prometheus syntax like 15s, 1m)"},
        {"50ms", "--poll.interval: must be at least 100ms, got \"50ms\""},
        {"99ms", "--poll.interval: must be at least 100ms, got \"99ms\""},
        {"0", "--poll.interval: must be at least 100ms, got \"0\""},
        {"0s", "--poll.interval: must be at least 100ms, got \"0s\""},
        {"1y1ms", "--poll.interval: duration \"1y1ms\" is too long (max 1y)"},
        {"2y", "--poll.interval: duration \"2y\" is too long (max 1y)"},
        {"99999999999999999999y",
         "--poll.interval: duration \"99999999999999999999y\" is too long (max 1y)"},
    };
    struct run r = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        PARSE(&r, "--demo", "--poll.interval", good[i].in);
        expect_ok(&r);
        assert_int_equal(r.c.poll_interval_ms, good[i].ms);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        PARSE(&r, "--demo", "--poll.interval", bad[i].in);
        expect_err(&r, bad[i].msg);
    }
    run_free(&r);
}

static void test_poll_timeout(void **state)
{
    struct run r = {0};

    (void)state;
    PARSE(&r, "--demo", "--poll.timeout=1ms");
    expect_ok(&r);
    assert_int_equal(r.c.poll_timeout_ms, 1);
    PARSE(&r, "--demo", "--poll.timeout", "2m");
    expect_ok(&r);
    assert_int_equal(r.c.poll_timeout_ms, 120000);
    /* a timeout longer than the interval is allowed */
    PARSE(&r, "--demo", "--poll.timeout=1m", "--poll.interval=15s");
    expect_ok(&r);
    assert_int_equal(r.c.poll_timeout_ms, 60000);
    assert_int_equal(r.c.poll_interval_ms, 15000);
    PARSE(&r, "--demo", "--poll.timeout=0");
    expect_err(&r, "--poll.timeout: must be greater than 0, got \"0\"");
    PARSE(&r, "--demo", "--poll.timeout=0ms");
    expect_err(&r, "--poll.timeout: must be greater than 0, got \"0ms\"");
    PARSE(&r, "--demo", "--poll.timeout=10");
    expect_err(&r, "--poll.timeout: invalid duration \"10\" (use Prometheus syntax like 15s, 1m)");
    PARSE(&r, "--demo", "--poll.timeout=3y");
    expect_err(&r, "--poll.timeout: duration \"3y\" is too long (max 1y)");
    run_free(&r);
}

static void test_poll_concurrency(void **state)
{
    static const char *const bad[] = {
        "0",   "257", "-1", "+1", "", "abc", "1.5", " 8", "8 ", "0x10", "99999999999999999999",
        "1000"};
    struct run r = {0};
    char want[ERR_MAX];
    size_t i;

    (void)state;
    PARSE(&r, "--demo", "--poll.concurrency", "1");
    expect_ok(&r);
    assert_int_equal(r.c.poll_concurrency, 1);
    PARSE(&r, "--demo", "--poll.concurrency=256");
    expect_ok(&r);
    assert_int_equal(r.c.poll_concurrency, 256);
    PARSE(&r, "--demo", "--poll.concurrency=016");
    expect_ok(&r);
    assert_int_equal(r.c.poll_concurrency, 16);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        PARSE(&r, "--demo", "--poll.concurrency", bad[i]);
        snprintf(want, sizeof(want),
                 "--poll.concurrency: invalid value \"%s\" (an integer from 1 to 256)", bad[i]);
        expect_err(&r, want);
    }
    run_free(&r);
}

/* The web, storage and limit settings of the registry and the server. */
static void test_web_and_limit_settings(void **state)
{
    struct run r = {0};
    char dir[64], path[128], flag[160], want[ERR_MAX];

    (void)state;
    /* --web.config.file is read and checked (an empty one configures nothing) */
    snprintf(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/w.yml", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fclose(f), 0);
    snprintf(flag, sizeof(flag), "--web.config.file=%s", path);
    PARSE(&r, "--demo", flag, "--storage.path", "/var/lib/x", "--web.enable-admin-api",
          "--web.enable-lifecycle", "--metrics.sparse-status", "--web.max-requests=512",
          "--jobs.max=1000000");
    expect_ok(&r);
    assert_string_equal(r.c.web_config_file, path);
    assert_string_equal(r.c.storage_path, "/var/lib/x");
    assert_int_equal(r.c.web_enable_admin_api, 1);
    assert_int_equal(r.c.web_enable_lifecycle, 1);
    assert_int_equal(r.c.metrics_sparse_status, 1);
    assert_int_equal(r.c.web_max_requests, 512);
    assert_int_equal(r.c.jobs_max, 1000000);
    PARSE(&r, "--demo", "--web.max-requests=513");
    expect_err(&r, "--web.max-requests: invalid value \"513\" (an integer from 1 to 512)");
    PARSE(&r, "--demo", "--jobs.max=0");
    expect_err(&r, "--jobs.max: invalid value \"0\" (an integer from 1 to 1000000)");
    PARSE(&r, "--demo", "--jobs.max=1000001");
    expect_err(&r, "--jobs.max: invalid value \"1000001\" (an integer from 1 to 1000000)");
    PARSE(&r, "--demo", "--storage.path=");
    expect_err(&r, "--storage.path: empty path");
    /* a missing or broken web config stops the start, naming the file and the place */
    PARSE(&r, "--demo", "--web.config.file=/nonexistent/w.yml");
    expect_err(&r, "--web.config.file: cannot read \"/nonexistent/w.yml\": No such file or "
                   "directory");
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs("tls_server_config:\n  cert_file: c.pem\n", f) >= 0);
    assert_int_equal(fclose(f), 0);
    PARSE(&r, "--demo", flag);
    snprintf(want, sizeof(want),
             "--web.config.file: %s:1:1: key tls_server_config: missing one of key or key_file",
             path);
    expect_err(&r, want);
    run_free(&r);
    unlink(path);
    rmdir(dir);
}

/* ---- booleans ---- */

static void test_booleans(void **state)
{
    static const struct {
        const char *arg;
        int want;
    } cases[] = {
        {"--once", 1},      {"--no-once", 0},    {"--once=true", 1}, {"--once=false", 0},
        {"--once=1", 1},    {"--once=0", 0},     {"--once=t", 1},    {"--once=f", 0},
        {"--once=TRUE", 1}, {"--once=False", 0}, {"--once=T", 1},    {"--once=FALSE", 0},
    };
    struct run r = {0};
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        PARSE(&r, "--demo", cases[i].arg);
        expect_ok(&r);
        assert_int_equal(r.c.once, cases[i].want);
        /* last wins in both directions */
        PARSE(&r, "--demo", "--once", cases[i].arg);
        expect_ok(&r);
        assert_int_equal(r.c.once, cases[i].want);
        PARSE(&r, "--demo", "--no-once", cases[i].arg);
        expect_ok(&r);
        assert_int_equal(r.c.once, cases[i].want);
    }
    PARSE(&r, "--demo=true");
    expect_ok(&r);
    assert_int_equal(r.c.demo, 1);
    PARSE(&r, "--demo", "--once=yes");
    expect_err(&r, "--once: invalid boolean \"yes\" (true or false)");
    PARSE(&r, "--demo", "--once=");
    expect_err(&r, "--once: invalid boolean \"\" (true or false)");
    PARSE(&r, "--demo", "--no-once=true");
    expect_err(&r, "--no-once: does not take a value");
    /* a boolean never takes the next argument */
    PARSE(&r, "--demo", "--once", "true");
    expect_err(&r, "unexpected argument \"true\" (flags start with --)");
    PARSE(&r, "--demo", "--no-demo=1");
    expect_err(&r, "--no-demo: does not take a value");
    run_free(&r);
}

/* ---- logging flags ---- */

static void test_log_flags(void **state)
{
    static const char *const levels[] = {"debug", "info", "warn", "error"};
    struct run r = {0};
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        PARSE(&r, "--demo", "--log.level", levels[i]);
        expect_ok(&r);
        assert_int_equal(r.c.log_level, (enum log_level)i);
    }
    PARSE(&r, "--demo", "--log.format=json");
    expect_ok(&r);
    assert_int_equal(r.c.log_format, LOGF_JSON);
    PARSE(&r, "--demo", "--log.format", "logfmt", "--log.level=debug", "--log.level=error");
    expect_ok(&r);
    assert_int_equal(r.c.log_format, LOGF_LOGFMT);
    assert_int_equal(r.c.log_level, LOGL_ERROR);
    PARSE(&r, "--demo", "--log.level=verbose");
    expect_err(&r, "--log.level: invalid level \"verbose\" (debug, info, warn, error)");
    PARSE(&r, "--demo", "--log.level=INFO");
    expect_err(&r, "--log.level: invalid level \"INFO\" (debug, info, warn, error)");
    PARSE(&r, "--demo", "--log.format=text");
    expect_err(&r, "--log.format: invalid format \"text\" (logfmt, json)");
    PARSE(&r, "--demo", "--log.format");
    expect_err(&r, "--log.format: missing value");
    run_free(&r);
}

/* ---- syntax: both forms for every value flag, last wins, unknown, positional ---- */

static void test_both_syntaxes_every_value_flag(void **state)
{
    static const struct {
        const char *flag, *val;
    } cases[] = {
        {"--web.listen-address", "127.0.0.1:1"},
        {"--web.telemetry-path", "/m"},
        {"--elb.endpoint", "http://x"},
        {"--elb.project-id", "p"},
        {"--elb.profile", "elb-v1"},
        {"--job", "j"},
        {"--poll.interval", "1m"},
        {"--poll.timeout", "3s"},
        {"--poll.concurrency", "3"},
        {"--log.level", "warn"},
        {"--log.format", "json"},
    };
    struct run a = {0}, b = {0};
    char eq[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(eq, sizeof(eq), "%s=%s", cases[i].flag, cases[i].val);
        PARSE(&a, "--demo", eq);
        expect_ok(&a);
        PARSE(&b, "--demo", cases[i].flag, cases[i].val);
        expect_ok(&b);
        /* same result: compare the fields the flags set */
        assert_string_equal(a.c.listen_address, b.c.listen_address);
        assert_string_equal(a.c.listen_host, b.c.listen_host);
        assert_int_equal(a.c.listen_port, b.c.listen_port);
        assert_string_equal(a.c.telemetry_path, b.c.telemetry_path);
        assert_int_equal(a.c.endpoint == NULL, b.c.endpoint == NULL);
        assert_int_equal(a.c.project_id == NULL, b.c.project_id == NULL);
        assert_int_equal(a.c.n_jobs, b.c.n_jobs);
        assert_int_equal(a.c.poll_interval_ms, b.c.poll_interval_ms);
        assert_int_equal(a.c.poll_timeout_ms, b.c.poll_timeout_ms);
        assert_int_equal(a.c.poll_concurrency, b.c.poll_concurrency);
        assert_int_equal(a.c.log_level, b.c.log_level);
        assert_int_equal(a.c.log_format, b.c.log_format);
        /* and a missing value is reported for each */
        PARSE(&a, "--demo", cases[i].flag);
        snprintf(eq, sizeof(eq), "%s: missing value", cases[i].flag);
        expect_err(&a, eq);
    }
    run_free(&a);
    run_free(&b);
}

static void test_last_wins(void **state)
{
    struct run r = {0};

    (void)state;
    PARSE(&r, "--demo", "--web.listen-address=:1", "--web.listen-address", "[::1]:2",
          "--elb.project-id=a", "--elb.project-id=b", "--poll.interval=1s", "--poll.interval=2s",
          "--poll.timeout=1s", "--poll.timeout=3s", "--poll.concurrency=1", "--poll.concurrency=2");
    expect_ok(&r);
    assert_string_equal(r.c.listen_address, "[::1]:2");
    assert_string_equal(r.c.listen_host, "::1");
    assert_int_equal(r.c.listen_port, 2);
    assert_string_equal(r.c.project_id, "b");
    assert_int_equal(r.c.poll_interval_ms, 2000);
    assert_int_equal(r.c.poll_timeout_ms, 3000);
    assert_int_equal(r.c.poll_concurrency, 2);
    /* every occurrence is validated, even one later overridden */
    PARSE(&r, "--demo", "--poll.interval=bad", "--poll.interval=2s");
    expect_err(&r,
               "--poll.interval: invalid duration \"bad\" (use Prometheus syntax like 15s, 1m)");
    run_free(&r);
}

static void test_unknown_and_positional(void **state)
{
    struct run r = {0};

    (void)state;
    PARSE(&r, "--demo", "--foo");
    expect_err(&r, "unknown flag \"--foo\" (see --help)");
    PARSE(&r, "--demo", "--foo=bar-value");
    expect_err(&r, "unknown flag \"--foo\" (see --help)");
    PARSE(&r, "--demo", "-x");
    expect_err(&r, "unknown flag \"-x\" (see --help)");
    PARSE(&r, "--demo", "-x=1");
    expect_err(&r, "unknown flag \"-x\" (see --help)");
    PARSE(&r, "--demo", "-help");
    expect_err(&r, "unknown flag \"-help\" (see --help)");
    PARSE(&r, "--demo", "--no-job");
    expect_err(&r, "unknown flag \"--no-job\" (see --help)");
    PARSE(&r, "--demo", "--no-elb.endpoint");
    expect_err(&r, "unknown flag \"--no-elb.endpoint\" (see --help)");
    PARSE(&r, "--demo", "--Once");
    expect_err(&r, "unknown flag \"--Once\" (see --help)");
    PARSE(&r, "--demo", "--=x");
    expect_err(&r, "unknown flag \"--\" (see --help)");
    PARSE(&r, "--demo", "foo");
    expect_err(&r, "unexpected argument \"foo\" (flags start with --)");
    PARSE(&r, "foo", "--demo");
    expect_err(&r, "unexpected argument \"foo\" (flags start with --)");
    PARSE(&r, "--demo", "-");
    expect_err(&r, "unexpected argument \"-\" (flags start with --)");
    PARSE(&r, "--demo", "--");
    expect_err(&r, "unexpected argument \"--\" (flags start with --)");
    PARSE(&r, "--demo", "");
    expect_err(&r, "unexpected argument \"\" (flags start with --)");
    run_free(&r);
}

static void test_unsupported_product_flags(void **state)
{
    static const char *const names[] = {
        "storage.redis-url",
        "poll.max-rate",
        "shard",
    };
    struct run r = {0};
    char arg[64], want[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(arg, sizeof(arg), "--%s=x", names[i]);
        PARSE(&r, "--demo", arg);
        snprintf(want, sizeof(want), "--%s: not supported by this version", names[i]);
        expect_err(&r, want);
    }
    PARSE(&r, "--demo", "--shard");
    expect_err(&r, "--shard: not supported by this version");
    run_free(&r);
}

/* ---- hostile values in messages ---- */

static void assert_safe_line(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            fail_msg("unsafe byte 0x%02x in error message", (unsigned char)*s);
}

static void test_hostile_values(void **state)
{
    static const char *const flags[] = {
        "--web.listen-address", "--web.telemetry-path", "--elb.endpoint",
        "--elb.project-id",     "--elb.profile",        "--job",
        "--poll.interval",      "--poll.timeout",       "--poll.concurrency",
        "--log.level",          "--log.format",
    };
    char hostile[1200], arg[1300];
    struct run r = {0};
    size_t i;

    (void)state;
    memset(hostile, 'A', sizeof(hostile) - 1);
    hostile[sizeof(hostile) - 1] = '\0';
    {
        static const char forged[] = "x\"\nts=2026 level=error msg=\"forged\x1b[31m\r\\";

        memcpy(hostile, forged, sizeof(forged) - 1);
    }
    for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        PARSE(&r, "--demo", flags[i], hostile);
        assert_int_equal(r.rc, CONFIG_ERROR);
        assert_safe_line(r.err);
        assert_memory_equal(r.err, flags[i], strlen(flags[i]));
        assert_non_null(strstr(r.err, "\"x\\\"\\x0ats=2026 level=error msg=\\\"forged\\x1b[31m"
                                      "\\x0d\\\\AAA"));
        assert_non_null(strstr(r.err, "AAA...\""));
        assert_true(strlen(r.err) < 2 * 256 + 100);
    }
    /* unknown flag names and positional arguments too */
    snprintf(arg, sizeof(arg), "--%s", hostile);
    PARSE(&r, "--demo", arg);
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_safe_line(r.err);
    assert_true(strlen(r.err) < 2 * 256 + 100);
    PARSE(&r, "--demo", hostile);
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_safe_line(r.err);
    assert_true(strlen(r.err) < 2 * 256 + 100);
    run_free(&r);
}

/* A short error buffer gets a cut, NUL-terminated message; none at all is fine too. */
static void test_small_error_buffer(void **state)
{
    char *argv[] = {(char *)"x", (char *)"--foo", NULL};
    struct config c;
    char err[8];

    (void)state;
    memset(err, 'Z', sizeof(err));
    assert_int_equal(config_parse(&c, 2, argv, fake_getenv, stdout, err, sizeof(err)),
                     CONFIG_ERROR);
    assert_string_equal(err, "unknown");
    assert_int_equal(config_parse(&c, 2, argv, fake_getenv, stdout, NULL, 0), CONFIG_ERROR);
    assert_true(config_is_zero(&c));
    err[0] = 'Z';
    assert_int_equal(config_parse(&c, 2, argv, fake_getenv, stdout, err, 0), CONFIG_ERROR);
    assert_int_equal(err[0], 'Z'); /* errsz 0: not written */
}

/* ---- --help, --version, usage ---- */

static void test_version(void **state)
{
    struct run r = {0};
    char want[256];

    (void)state;
    snprintf(want, sizeof(want), "elb_job_exporter, version %s (revision: %s)\n", ELB_VERSION,
             ELB_REVISION);
    PARSE(&r, "--version");
    assert_int_equal(r.rc, CONFIG_EXIT);
    assert_string_equal(r.out, want);
    assert_string_equal(r.err, "");
    assert_true(config_is_zero(&r.c));
    /* required settings are not checked when --version is given */
    PARSE(&r, "--poll.interval=1m", "--version", "--bogus");
    assert_int_equal(r.rc, CONFIG_EXIT);
    assert_string_equal(r.out, want);
    /* an error before it wins */
    PARSE(&r, "--bogus", "--version");
    expect_err(&r, "unknown flag \"--bogus\" (see --help)");
    assert_string_equal(r.out, "");
    PARSE(&r, "--version=1");
    expect_err(&r, "--version: does not take a value");
    run_free(&r);
}

static void test_help(void **state)
{
    struct run r = {0};
    char *first;

    (void)state;
    PARSE(&r, "--help");
    assert_int_equal(r.rc, CONFIG_EXIT);
    assert_true(config_is_zero(&r.c));
    assert_memory_equal(r.out, "usage: elb_job_exporter [flags]\n", 32);
    first = strdup(r.out);
    assert_non_null(first);
    PARSE(&r, "-h");
    assert_int_equal(r.rc, CONFIG_EXIT);
    assert_string_equal(r.out, first);
    PARSE(&r, "--demo", "--job", JOB_A, "-h");
    assert_int_equal(r.rc, CONFIG_EXIT);
    assert_string_equal(r.out, first);
    PARSE(&r, "--help=yes");
    expect_err(&r, "--help: does not take a value");
    free(first);
    run_free(&r);
}

/* config_usage's flag list is exactly what config_parse accepts, with the real defaults. */
static void test_usage_matches_parser(void **state)
{
    static const struct {
        const char *usage_line, *arg, *def;
    } want[] = {
        {"  --help\n", NULL, NULL},
        {"  --version\n", NULL, NULL},
        {"  --config.file=PATH\n", NULL, NULL},
        {"  --[no-]config.check\n", NULL, NULL},
        {"  --web.listen-address=ADDR\n", "--web.listen-address=:1", "(default: :39123)"},
        {"  --web.telemetry-path=PATH\n", "--web.telemetry-path=/x", "(default: /metrics)"},
        {"  --web.config.file=PATH\n", NULL, NULL},
        {"  --[no-]web.enable-admin-api\n", "--web.enable-admin-api", NULL},
        {"  --[no-]web.enable-lifecycle\n", "--web.enable-lifecycle", NULL},
        {"  --web.max-requests=N\n", "--web.max-requests=40", "(default: 40)"},
        {"  --[no-]metrics.sparse-status\n", "--metrics.sparse-status", NULL},
        {"  --elb.endpoint=URL\n", "--elb.endpoint=http://x", NULL},
        {"  --[no-]elb.allow-insecure-http\n", "--elb.allow-insecure-http", NULL},
        {"  --elb.project-id=ID\n", "--elb.project-id=p", "(default: $OS_PROJECT_ID)"},
        {"  --elb.profile=NAME\n", "--elb.profile=elb-v1", "(default: elb-v1)"},
        {"  --cloud.region=REGION\n", "--cloud.region=eu-de", NULL},
        {"  --os-cloud=NAME\n", NULL, "(default: $OS_CLOUD)"},
        {"  --auth.method=METHOD\n", "--auth.method=token", "(default: auto)"},
        {"  --auth.iam-endpoint=URL\n", "--auth.iam-endpoint=https://iam.example/v3",
         "(default: $OS_AUTH_URL)"},
        {"  --auth.username=NAME\n", "--auth.username=u", "(default: $OS_USERNAME)"},
        {"  --auth.user-domain-name=NAME\n", "--auth.user-domain-name=d",
         "(default: $OS_USER_DOMAIN_NAME)"},
        {"  --auth.project-name=NAME\n", "--auth.project-name=eu-de",
         "(default: $OS_PROJECT_NAME)"},
        {"  --auth.token-file=PATH\n", NULL, NULL},
        {"  --auth.password-file=PATH\n", NULL, NULL},
        {"  --auth.access-key-file=PATH\n", NULL, NULL},
        {"  --auth.secret-key-file=PATH\n", NULL, NULL},
        {"  --tls.ca-file=PATH\n", NULL, "(default: system CAs)"},
        {"  --[no-]tls.insecure-skip-verify\n", "--no-tls.insecure-skip-verify", NULL},
        {"  --job=ID\n", "--job=x", NULL},
        {"  --jobs.file=PATH\n", NULL, NULL},
        {"  --jobs.retention=DURATION\n", "--jobs.retention=0", "(default: 24h)"},
        {"  --jobs.max=N\n", "--jobs.max=10", "(default: 100000)"},
        {"  --storage.path=PATH\n", NULL, NULL},
        {"  --poll.interval=DURATION\n", "--poll.interval=1s", "(default: 15s)"},
        {"  --poll.timeout=DURATION\n", "--poll.timeout=1s", "(default: 10s)"},
        {"  --poll.concurrency=N\n", "--poll.concurrency=2", "(default: 8)"},
        {"  --[no-]once\n", "--no-once", NULL},
        {"  --[no-]demo\n", "--demo", NULL},
        {"  --log.level=LEVEL\n", "--log.level=info", "(default: info)"},
        {"  --log.format=FORMAT\n", "--log.format=logfmt", "(default: logfmt)"},
    };
    struct run r = {0};
    char *text = NULL, *p, *line;
    size_t len = 0, i, nflags = 0;
    FILE *f = open_memstream(&text, &len);

    (void)state;
    assert_non_null(f);
    config_usage(f);
    assert_int_equal(fclose(f), 0);
    /* every flag line of the usage is expected, in order, with its default on the next line */
    for (p = text, i = 0; (line = strstr(p, "\n  --")) != NULL; p = line + 1, i++) {
        char para[1024];
        const char *q, *end;
        size_t n = 0;

        assert_true(i < sizeof(want) / sizeof(want[0]));
        assert_memory_equal(line + 1, want[i].usage_line, strlen(want[i].usage_line));
        /* the help paragraph runs to the next flag or blank line; join its wrapped lines */
        q = line + strlen(want[i].usage_line);
        end = strstr(q, "\n  --");
        if (!end)
            end = strstr(q, "\n\n");
        assert_non_null(end);
        for (; q < end; q++) {
            if (*q == '\n') {
                while (q + 1 < end && q[1] == ' ')
                    q++;
                para[n++] = ' ';
            } else {
                para[n++] = *q;
            }
            assert_true(n < sizeof(para));
        }
        para[n] = '\0';
        assert_true(strlen(para) > 6);
        if (want[i].def)
            assert_non_null(strstr(para, want[i].def));
        else
            assert_null(strstr(para, "(default:"));
        nflags++;
        if (want[i].arg) {
            PARSE(&r, "--demo", want[i].arg);
            expect_ok(&r);
        }
    }
    assert_int_equal(nflags, sizeof(want) / sizeof(want[0]));
    assert_non_null(strstr(text, "OS_AUTH_TOKEN"));
    assert_non_null(strstr(text, "OS_PROJECT_ID"));
    for (p = text; *p; p = line + 1) { /* fits 80 columns */
        line = strchr(p, '\n');
        assert_non_null(line);
        assert_true(line - p <= 80);
    }
    assert_non_null(strstr(text, "Known: elb-v1"));
    /* --help prints the same text */
    PARSE(&r, "--help");
    assert_string_equal(r.out, text);
    free(text);
    run_free(&r);
}

/* ---- release ---- */

static void test_release(void **state)
{
    struct config c;
    struct run r = {0};

    (void)state;
    memset(&c, 0, sizeof(c));
    config_release(&c);
    assert_true(config_is_zero(&c));
    config_release(NULL);
    env_full();
    PARSE(&r, "--elb.endpoint", ENDPOINT, "--job", JOB_A, "--job", JOB_B);
    expect_ok(&r);
    config_release(&r.c);
    assert_true(config_is_zero(&r.c));
    config_release(&r.c);
    run_free(&r);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, reset_env)
    const struct CMUnitTest tests[] = {
        T(test_defaults_demo),
        T(test_full_from_flags_and_env),
        T(test_required_endpoint),
        T(test_required_project),
        T(test_required_token),
        T(test_demo_relaxes_requirements),
        T(test_project_precedence),
        T(test_project_values),
        T(test_token_env_only),
        T(test_secret_flags_refused),
        T(test_real_environment),
        T(test_listen_good),
        T(test_listen_bad),
        T(test_listen_long_names),
        T(test_telemetry_path_good),
        T(test_telemetry_path_bad),
        T(test_endpoint_good),
        T(test_endpoint_bad),
        T(test_endpoint_credentials),
        T(test_endpoint_insecure_http),
        T(test_profile),
        T(test_jobs_flags),
        T(test_jobs_cap_via_flags),
        T(test_add_job_direct),
        T(test_jobs_text_format),
        T(test_jobs_text_errors),
        T(test_jobs_text_nul_and_hostile),
        T(test_jobs_text_cap),
        T(test_jobs_text_many),
        T(test_jobs_file),
        T(test_jobs_file_reload),
        T(test_jobs_file_fifo),
        T(test_jobs_file_size_cap),
        T(test_poll_interval),
        T(test_poll_timeout),
        T(test_poll_concurrency),
        T(test_booleans),
        T(test_log_flags),
        T(test_both_syntaxes_every_value_flag),
        T(test_last_wins),
        T(test_unknown_and_positional),
        T(test_unsupported_product_flags),
        T(test_web_and_limit_settings),
        T(test_hostile_values),
        T(test_small_error_buffer),
        T(test_version),
        T(test_help),
        T(test_usage_matches_parser),
        T(test_release),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
