/*
 * test_config_file: the layers beyond the command line: --config.file (YAML:
 * every key, FILE:LINE:COLUMN problems, unknown keys, wrong types, duplicates,
 * aliases, inline secrets, every problem listed), precedence default <
 * clouds.yaml < file < environment < flag setting by setting, secret files,
 * clouds.yaml/secure.yaml, the auth method choice and what each method
 * requires, --config.check, PROFILE:ID jobs, and reloading
 * (config_reload_file, config_changes, config_reload_config_jobs).
 *
 * The environment is faked through config_parse's getenv_fn (HOME included,
 * so clouds.yaml is looked for in a scratch directory); files live in a
 * scratch directory under /tmp made per test.
 */
#include "auth.h"
#include "config.h"
#include "config_run.h"

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

#define PATH_MAX_T 256

#define ENDPOINT "https://elb.eu-de.otc.t-systems.com"
#define IAM "https://iam.eu-de.otc.t-systems.com/v3"
#define PROJECT "0123456789abcdef0123456789abcdef"
#define JOB_A "ff8080825ecc523f015ecd0a98f82f77"
#define JOB_B "4010b39b4fd3d5ff014fd943bac41619"

/* ---- fake environment, scratch files ---- */

static char dir[64];

/* Path of name in the test's scratch directory (a static buffer per call slot). */
static const char *path_of(const char *name)
{
    static char bufs[16][PATH_MAX_T];
    static size_t next;
    char *b = bufs[next++ % 16];

    snprintf(b, PATH_MAX_T, "%s/%s", dir, name);
    return b;
}

/* Write text to name in the scratch directory with mode; returns its path. */
static const char *put(const char *name, const char *text, mode_t mode)
{
    const char *path = path_of(name);
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static int setup(void **state)
{
    (void)state;
    env_reset(NULL);
    snprintf(dir, sizeof(dir), "/tmp/test_config_file.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    env_set("HOME", dir); /* clouds.yaml is looked for in $HOME/.config/openstack */
    return 0;
}

static int teardown(void **state)
{
    char cmd[PATH_MAX_T + 16];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- running config_parse ---- */

static void expect_ok(struct run *r)
{
    if (r->rc != CONFIG_OK)
        fail_msg("expected CONFIG_OK, got rc %d: %s", r->rc, r->err);
    assert_string_equal(r->err, "");
}

/* Failed with rc, and err is exactly want (lines joined by '\n'). */
static void expect_fail(struct run *r, int rc, const char *want)
{
    if (r->rc != rc)
        fail_msg("expected rc %d, got %d: %s", rc, r->rc, r->err);
    if (strcmp(r->err, want) != 0)
        fail_msg("error\n  got:  %s\n  want: %s", r->err, want);
}

/* "--config.file=PATH" for a file written now. */
static const char *cfg_arg(const char *text)
{
    static char arg[PATH_MAX_T + 32];

    snprintf(arg, sizeof(arg), "--config.file=%s", put("c.yml", text, 0600));
    return arg;
}

/* A line "PATH_OF(c.yml):L:C: rest" for expectations. */
static const char *at(const char *rest_fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *at(const char *rest_fmt, ...)
{
    static char bufs[8][1024];
    static size_t next;
    char *b = bufs[next++ % 8];
    va_list ap;
    int n;

    n = snprintf(b, 1024, "%s:", path_of("c.yml"));
    va_start(ap, rest_fmt);
    vsnprintf(b + n, 1024 - (size_t)n, rest_fmt, ap);
    va_end(ap);
    return b;
}

/* A minimal valid non-demo setup from the environment. */
static void env_token(void)
{
    env_set("OS_AUTH_TOKEN", "tok");
    env_set("OS_PROJECT_ID", PROJECT);
}

/* ---- the file: every key, the product's example ---- */

static void test_every_key(void **state)
{
    struct run r = {0};
    char text[4096];

    (void)state;
    put("ak", "AKVALUE\n", 0600);
    put("sk", "SKVALUE\r\n", 0600);
    put("token", "TOKENVALUE", 0600);
    put("password", "pass word\n", 0600);
    put("jobs", JOB_B "\n", 0600);
    put("ca.pem", "not checked for PEM here\n", 0644);
    snprintf(text, sizeof(text),
             "web: {listen_address: \"[::1]:9100\", telemetry_path: /m}\n"
             "elb:\n"
             "  endpoint: \"http://10.0.0.1:8080/base/\"\n"
             "  allow_insecure_http: true\n"
             "  project_id: p-1\n"
             "  profile: elb-v1\n"
             "auth:\n"
             "  method: aksk\n"
             "  iam_endpoint: https://iam.example/v3/\n"
             "  username: \"ops\"\n"
             "  user_domain_name: 'OTC000'\n"
             "  project_name: eu-de\n"
             "  token_file: %s\n"
             "  password_file: %s\n"
             "  access_key_file: %s\n"
             "  secret_key_file: %s\n"
             "tls: {ca_file: %s, insecure_skip_verify: true}\n"
             "jobs: {file: %s, retention: 0, ids: [a, elb-v1:b, \"c-d_e\", a]}\n"
             "poll: {interval: 1m30s, timeout: 3s, concurrency: 16}\n"
             "once: false\n"
             "demo: false\n"
             "log: {level: debug, format: json}\n",
             path_of("token"), path_of("password"), path_of("ak"), path_of("sk"), path_of("ca.pem"),
             path_of("jobs"));
    PARSE(&r, cfg_arg(text), "--job", JOB_A);
    expect_ok(&r);
    assert_string_equal(r.c.listen_address, "[::1]:9100");
    assert_int_equal(r.c.listen_port, 9100);
    assert_string_equal(r.c.telemetry_path, "/m");
    assert_string_equal(r.c.endpoint, "http://10.0.0.1:8080/base");
    assert_int_equal(r.c.allow_insecure_http, 1);
    assert_string_equal(r.c.project_id, "p-1");
    assert_string_equal(r.c.profile->name, "elb-v1");
    assert_int_equal(r.c.auth_method, CONFIG_AUTH_AKSK);
    assert_string_equal(r.c.iam_endpoint, "https://iam.example/v3");
    assert_string_equal(r.c.username, "ops");
    assert_string_equal(r.c.user_domain_name, "OTC000");
    assert_string_equal(r.c.project_name, "eu-de");
    assert_string_equal(r.c.auth_token, "TOKENVALUE");
    assert_string_equal(r.c.password, "pass word");
    assert_string_equal(r.c.access_key, "AKVALUE");
    assert_string_equal(r.c.secret_key, "SKVALUE");
    assert_string_equal(r.c.tls_ca_file, path_of("ca.pem"));
    assert_int_equal(r.c.tls_insecure_skip_verify, 1);
    assert_string_equal(r.c.jobs_file, path_of("jobs"));
    assert_int_equal(r.c.jobs_retention_ms, 0);
    assert_int_equal(r.c.poll_interval_ms, 90000);
    assert_int_equal(r.c.poll_timeout_ms, 3000);
    assert_int_equal(r.c.poll_concurrency, 16);
    assert_int_equal(r.c.log_level, LOGL_DEBUG);
    assert_int_equal(r.c.log_format, LOGF_JSON);
    /* --job first, then jobs.ids (prefix removed, duplicates dropped), then the jobs file */
    assert_int_equal(r.c.n_flag_jobs, 1);
    assert_int_equal(r.c.n_config_jobs, 3);
    assert_int_equal(r.c.n_jobs, 5);
    assert_string_equal(r.c.jobs[0], JOB_A);
    assert_string_equal(r.c.jobs[1], "a");
    assert_string_equal(r.c.jobs[2], "elb-v1:b"); /* kept as given: config_job_ref splits it */
    assert_string_equal(r.c.jobs[3], "c-d_e");
    assert_string_equal(r.c.jobs[4], JOB_B);
    /* the TLS warning is for main to log */
    assert_non_null(config_warning(&r.c, 0));
    assert_non_null(strstr(config_warning(&r.c, 0), "--tls.insecure-skip-verify"));
    assert_null(config_warning(&r.c, 1));
    run_free(&r);
}

/* product.md's example, with the paths made real and elb-v1 as the job's profile. */
static void test_product_example(void **state)
{
    struct run r = {0};
    char text[2048];

    (void)state;
    put("password", "s3cret\n", 0600);
    put("jobs", "# none yet\n", 0600);
    snprintf(text, sizeof(text),
             "web:\n"
             "  listen_address: \":39123\"\n"
             "elb:\n"
             "  endpoint: https://elb.eu-de.otc.t-systems.com\n"
             "  project_id: 0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32\n"
             "auth:\n"
             "  method: password\n"
             "  iam_endpoint: https://iam.eu-de.otc.t-systems.com/v3\n"
             "  username: ops\n"
             "  user_domain_name: OTC00000000001000000001\n"
             "  password_file: %s\n"
             "poll:\n"
             "  interval: 15s\n"
             "jobs:\n"
             "  file: %s\n"
             "  ids:\n"
             "    - ff8080825ecc523f015ecd0a98f82f77\n"
             "    - elb-v1:4010b39b4fd3d5ff014fd943bac41619\n",
             path_of("password"), path_of("jobs"));
    PARSE(&r, cfg_arg(text));
    expect_ok(&r);
    assert_int_equal(r.c.auth_method, CONFIG_AUTH_PASSWORD);
    assert_string_equal(r.c.password, "s3cret");
    assert_string_equal(r.c.project_id, "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32");
    assert_int_equal(r.c.n_config_jobs, 2);
    assert_string_equal(r.c.jobs[1], "elb-v1:4010b39b4fd3d5ff014fd943bac41619");
    assert_null(config_warning(&r.c, 0)); /* 0600: nothing to say */
    run_free(&r);
}

/* ---- problems: where, what, all of them ---- */

static void test_problems_listed(void **state)
{
    struct run r = {0};
    char want[4096];
    const char *arg;

    (void)state;
    env_token();
    arg = cfg_arg("web:\n"
                  "  listen_adress: \":1\"\n"
                  "  listen-address: \":2\"\n"
                  "poll:\n"
                  "  interval: 5x\n"
                  "  interval: 10s\n"
                  "  concurrency: [1, 2]\n"
                  "auth:\n"
                  "  password: hunter2\n"
                  "  method: magic\n"
                  "jobs:\n"
                  "  ids: not-a-list\n");
    snprintf(want, sizeof(want), "%s\n%s\n%s\n%s\n%s\n%s\n%s\n%s",
             at("2:3: key web.listen_adress: unknown key (the keys are the flags: --a.b-c is key "
                "b_c in mapping a; the job list is jobs.ids)"),
             at("3:3: key web.listen-address: unknown key (did you mean web.listen_address? keys "
                "use '_' where flags use '-')"),
             at("5:13: key poll.interval: invalid duration \"5x\" (use Prometheus syntax like "
                "15s, 1m)"),
             at("6:3: key poll.interval: duplicate key (first at %s:5:3)", path_of("c.yml")),
             at("7:16: key poll.concurrency: expected a single value, got a list"),
             at("9:3: key auth.password: a secret is not accepted inline in the config file; put "
                "it in a file and name that with auth.password_file (or set OS_PASSWORD)"),
             at("10:11: key auth.method: invalid method \"magic\" (auto, token, password, aksk)"),
             at("12:8: key jobs.ids: expected a list of job IDs, got a single value"));
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg);
    expect_fail(&r, CONFIG_ERROR, want);
    assert_null(strstr(r.err, "hunter2")); /* a secret is never echoed */
    /* --config.check: the same problems, and those of the merged configuration too */
    PARSE(&r, arg, "--config.check");
    assert_int_equal(r.rc, CONFIG_CHECK_FAILED);
    assert_memory_equal(r.err, want, strlen(want));
    assert_string_equal(r.err + strlen(want),
                        "\n--elb.endpoint or --cloud.region is required (or use --demo)");
    run_free(&r);
}

static void test_wrong_types(void **state)
{
    static const struct {
        const char *yaml, *want;
    } cases[] = {
        {"poll: {interval: {a: 1}}\n",
         "1:18: key poll.interval: expected a single value, got a mapping"},
        {"poll: 5s\n", "1:7: key poll: expected a mapping of settings, got a single value"},
        {"log: [debug]\n", "1:6: key log: expected a mapping of settings, got a list"},
        {"once: maybe\n", "1:7: key once: invalid boolean \"maybe\" (true or false)"},
        {"once: [true]\n", "1:7: key once: expected true or false, got a list"},
        {"elb: {endpoint: }\n", "1:17: key elb.endpoint: no value (give one, or remove the key)"},
        {"elb: {endpoint: ~}\n", "1:17: key elb.endpoint: no value (give one, or remove the key)"},
        {"elb: {endpoint: \"a\\0b\"}\n", "1:17: key elb.endpoint: contains a NUL byte"},
        {"jobs: {ids: [a, [b]]}\n", "1:17: key jobs.ids: expected a job ID, got a list"},
        {"jobs: {ids: {a: 1}}\n", "1:13: key jobs.ids: expected a list of job IDs, got a mapping"},
        {"jobs: {ids: [\"bad id\"]}\n",
         "1:14: key jobs.ids: invalid job ID \"bad id\" (1-64 of A-Za-z0-9_-)"},
        {"jobs: {ids: [ecs-v2:abc]}\n",
         "1:14: key jobs.ids: unknown API profile \"ecs-v2\" in job \"ecs-v2:abc\" (known: "
         "elb-v1, ecs-v1, evs-v1, elb-v3)"},
        {"[1, 2]\n", "1:1: the top level must be a mapping of settings (like \"poll: {interval: "
                     "15s}\"), not a list"},
        {"{[a]: 1}\n", "1:2: key (top level): a key must be a plain string, not a list"},
        {"config: {file: x.yml}\n", "1:16: key config.file: only a command-line flag "
                                    "(--config.file): the file cannot name itself or ask to be "
                                    "checked"},
        {"config: {check: true}\n", "1:17: key config.check: only a command-line flag "
                                    "(--config.check): the file cannot name itself or ask to be "
                                    "checked"},
        {"poll: {interval: 1s}\nlog: &l {level: info}\nweb: *l\n",
         "3:1: key web: YAML aliases are not supported"},
        {"jobs: {ids: [&j a, *j]}\n", "1:13: key jobs.ids: YAML aliases are not supported"},
        {"log: {level: info}\nlog: {format: json}\n", "2:1: key log: duplicate key (first at "},
        {"\"poll.interval\": 1s\n", "1:1: key poll.interval: unknown key (the keys are the "
                                    "flags: --a.b-c is key b_c in mapping a; the job list is "
                                    "jobs.ids)"},
        {"auth: {token: x}\n", "1:8: key auth.token: a secret is not accepted inline in the "
                               "config file; put it in a file and name that with "
                               "auth.token_file (or set OS_AUTH_TOKEN)"},
        {"auth: {secret_key: x}\n", "1:8: key auth.secret_key: a secret is not accepted inline "
                                    "in the config file; put it in a file and name that with "
                                    "auth.secret_key_file (or set OS_SECRET_KEY)"},
        {"auth: {os_password: x}\n",
         "1:8: key auth.os_password: looks like a secret, which is not accepted inline "
         "in the config file; use a *_file key (auth.token_file, auth.password_file, "
         "auth.secret_key_file) or the environment"},
        {"web: {listen_address: \":1\"}\n---\nonce: true\n",
         "3:1: only one YAML document is allowed"},
        {"web: [\n", "2:1: invalid YAML: did not find expected node content (while parsing a "
                     "flow node at line 2, column 1)"},
        {"a: \"\xff\"\n", "1:5: invalid YAML: invalid leading UTF-8 octet"},
        {"log:\n  level: \"\\e[31mred\"\n",
         "2:10: key log.level: invalid level \"\\x1b[31mred\" (debug, info, warn, error)"},
    };
    struct config c;
    char err[CONFIG_ERR_MAX], want[2048];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(&c, 0, sizeof(c));
        snprintf(want, sizeof(want), "f.yml:%s", cases[i].want);
        assert_int_equal(config_file_apply_text(&c, "f.yml", cases[i].yaml, strlen(cases[i].yaml),
                                                err, sizeof(err)),
                         -EINVAL);
        if (strncmp(err, want, strlen(want)) != 0)
            fail_msg("case %zu\n  got:  %s\n  want: %s", i, err, want);
        assert_null(strchr(err, '\n')); /* one problem each */
        config_release(&c);
    }
}

static void test_valid_shapes(void **state)
{
    static const char *const ok[] = {
        "",
        "# only a comment\n",
        "~\n",
        "---\n...\n",
        "web:\n",          /* an empty section */
        "jobs: {ids: }\n", /* an empty list */
        "jobs: {ids: []}\n",
        "log: &anchored {level: warn}\n", /* an anchor nobody refers to */
        "once: TRUE\ndemo: f\n",
        "poll: {concurrency: \"8\", interval: '15s'}\n",
    };
    struct config c;
    char err[CONFIG_ERR_MAX];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        memset(&c, 0, sizeof(c));
        if (config_file_apply_text(&c, "f.yml", ok[i], strlen(ok[i]), err, sizeof(err)) != 0)
            fail_msg("case %zu: %s", i, err);
        assert_string_equal(err, "");
        config_release(&c);
    }
    memset(&c, 0, sizeof(c));
    assert_int_equal(
        config_file_apply_text(&c, "f.yml", "once: TRUE\ndemo: f\n", 19, err, sizeof(err)), 0);
    assert_int_equal(c.once, 1);
    assert_int_equal(c.demo, 0);
    config_release(&c);
}

/* More problems than the error text holds: whole lines, then how many were left out. */
static void test_problem_cap(void **state)
{
    char *text = malloc(300 * 16), err[1024];
    struct config c;
    size_t len = 0, lines = 1;
    int i;

    (void)state;
    assert_non_null(text);
    for (i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, 300 * 16 - len, "k%03d: 1\n", i);
    memset(&c, 0, sizeof(c));
    assert_int_equal(config_file_apply_text(&c, "f.yml", text, len, err, sizeof(err)), -EINVAL);
    for (i = 0; err[i]; i++)
        lines += err[i] == '\n';
    assert_true(lines > 2 && lines < 20);
    assert_memory_equal(err, "f.yml:1:1: key k000: unknown key", 32);
    assert_non_null(strstr(err, " more problems not shown)"));
    assert_true(strlen(err) < sizeof(err));
    config_release(&c);
    free(text);
}

static void test_config_file_unreadable(void **state)
{
    struct run r = {0};
    char want[1024], arg[PATH_MAX_T + 32], *big;

    (void)state;
    PARSE(&r, "--demo", "--config.file=/nonexistent/c.yml");
    expect_fail(&r, CONFIG_ERROR,
                "--config.file: cannot read \"/nonexistent/c.yml\": No such file or directory");
    snprintf(arg, sizeof(arg), "--config.file=%s", dir);
    PARSE(&r, "--demo", arg);
    snprintf(want, sizeof(want), "--config.file: \"%s\" is not a regular file (a directory)", dir);
    expect_fail(&r, CONFIG_ERROR, want);
    big = malloc(CONFIG_FILE_MAX + 2);
    assert_non_null(big);
    memset(big, '#', CONFIG_FILE_MAX + 1);
    big[CONFIG_FILE_MAX + 1] = '\0';
    PARSE(&r, "--demo", cfg_arg(big));
    snprintf(want, sizeof(want), "--config.file: \"%s\" is larger than 1048576 bytes",
             path_of("c.yml"));
    expect_fail(&r, CONFIG_ERROR, want);
    free(big);
    PARSE(&r, "--demo", "--config.file=");
    expect_fail(&r, CONFIG_ERROR, "--config.file: empty path");
    run_free(&r);
}

/* ---- precedence: default < clouds.yaml < file < environment < flag ---- */

static const char *clouds_yaml(void)
{
    return put(".config/openstack/clouds.yaml",
               "clouds:\n"
               "  otc:\n"
               "    auth:\n"
               "      auth_url: https://iam.clouds/v3\n"
               "      username: from-clouds\n"
               "      project_id: fromclouds\n"
               "      user_domain_name: dom-clouds\n"
               "      project_name: pn-clouds\n"
               "      password: pw-clouds\n",
               0600);
}

static void test_precedence_layers(void **state)
{
    struct run r = {0};
    const char *file;

    (void)state;
    assert_int_equal(mkdir(path_of(".config"), 0700), 0);
    assert_int_equal(mkdir(path_of(".config/openstack"), 0700), 0);
    clouds_yaml();
    file = cfg_arg("poll: {interval: 1m}\n"
                   "log: {level: warn}\n"
                   "elb: {project_id: fromfile}\n"
                   "auth: {iam_endpoint: \"https://iam.file/v3\", username: from-file}\n");

    /* default */
    PARSE(&r, "--demo");
    expect_ok(&r);
    assert_int_equal(r.c.poll_interval_ms, 15000);
    assert_int_equal(r.c.log_level, LOGL_INFO);
    assert_null(r.c.project_id);
    assert_null(r.c.iam_endpoint);
    assert_null(r.c.username);
    /* clouds.yaml over the default */
    PARSE(&r, "--demo", "--os-cloud=otc");
    expect_ok(&r);
    assert_string_equal(r.c.project_id, "fromclouds");
    assert_string_equal(r.c.iam_endpoint, "https://iam.clouds/v3");
    assert_string_equal(r.c.username, "from-clouds");
    assert_string_equal(r.c.password, "pw-clouds");
    /* the file over clouds.yaml and the default */
    PARSE(&r, "--demo", "--os-cloud=otc", file);
    expect_ok(&r);
    assert_int_equal(r.c.poll_interval_ms, 60000);
    assert_int_equal(r.c.log_level, LOGL_WARN);
    assert_string_equal(r.c.project_id, "fromfile");
    assert_string_equal(r.c.iam_endpoint, "https://iam.file/v3");
    assert_string_equal(r.c.username, "from-file");
    assert_string_equal(r.c.user_domain_name, "dom-clouds"); /* only clouds.yaml has it */
    /* the environment over the file (poll.interval and log.level have no variable) */
    env_set("OS_PROJECT_ID", "fromenv");
    env_set("OS_AUTH_URL", "https://iam.env/v3");
    env_set("OS_USERNAME", "from-env");
    PARSE(&r, "--demo", "--os-cloud=otc", file);
    expect_ok(&r);
    assert_int_equal(r.c.poll_interval_ms, 60000);
    assert_string_equal(r.c.project_id, "fromenv");
    assert_string_equal(r.c.iam_endpoint, "https://iam.env/v3");
    assert_string_equal(r.c.username, "from-env");
    /* flags over everything, wherever they stand on the command line */
    PARSE(&r, "--poll.interval=2m", "--log.level=error", "--elb.project-id=fromflag", "--demo",
          "--os-cloud=otc", file, "--auth.iam-endpoint=https://iam.flag/v3",
          "--auth.username=from-flag");
    expect_ok(&r);
    assert_int_equal(r.c.poll_interval_ms, 120000);
    assert_int_equal(r.c.log_level, LOGL_ERROR);
    assert_string_equal(r.c.project_id, "fromflag");
    assert_string_equal(r.c.iam_endpoint, "https://iam.flag/v3");
    assert_string_equal(r.c.username, "from-flag");
    /* a variable a flag overrides is not looked at, garbage or not */
    env_set("OS_PROJECT_ID", "bad value!");
    PARSE(&r, "--demo", "--elb.project-id=ok", file);
    expect_ok(&r);
    assert_string_equal(r.c.project_id, "ok");
    PARSE(&r, "--demo", file);
    expect_fail(&r, CONFIG_ERROR,
                "OS_PROJECT_ID: invalid project ID \"bad value!\" (1-64 of A-Za-z0-9_-)");
    /* but a bad value in the file is an error even where a flag overrides it */
    env_set("OS_PROJECT_ID", "");
    PARSE(&r, "--demo", "--poll.interval=1s", cfg_arg("poll: {interval: 5x}\n"));
    expect_fail(&r, CONFIG_ERROR,
                at("1:18: key poll.interval: invalid duration \"5x\" (use Prometheus syntax "
                   "like 15s, 1m)"));
    run_free(&r);
}

/* The secrets follow the same order: clouds.yaml < *_file key < variable < *-file flag. */
static void test_precedence_secrets(void **state)
{
    struct run r = {0};
    char text[512], flag[PATH_MAX_T + 32];

    (void)state;
    env_set("OS_CLIENT_CONFIG_FILE",
            put("clouds.yaml", "clouds:\n  c:\n    auth: {token: tok-clouds}\n", 0600));
    put("t-file", "tok-file\n", 0600);
    put("t-flag", "tok-flag\n", 0600);
    snprintf(text, sizeof(text), "auth: {token_file: %s}\n", path_of("t-file"));
    snprintf(flag, sizeof(flag), "--auth.token-file=%s", path_of("t-flag"));
    PARSE(&r, "--demo", "--os-cloud=c");
    expect_ok(&r);
    assert_string_equal(r.c.auth_token, "tok-clouds");
    PARSE(&r, "--demo", "--os-cloud=c", cfg_arg(text));
    expect_ok(&r);
    assert_string_equal(r.c.auth_token, "tok-file");
    env_set("OS_AUTH_TOKEN", "tok-env");
    PARSE(&r, "--demo", "--os-cloud=c", cfg_arg(text));
    expect_ok(&r);
    assert_string_equal(r.c.auth_token, "tok-env");
    PARSE(&r, "--demo", "--os-cloud=c", cfg_arg(text), flag);
    expect_ok(&r);
    assert_string_equal(r.c.auth_token, "tok-flag");
    /* the losing file is never read: a missing one is no error */
    snprintf(text, sizeof(text), "auth: {token_file: /nonexistent/t}\n");
    PARSE(&r, "--demo", cfg_arg(text));
    expect_ok(&r);
    assert_string_equal(r.c.auth_token, "tok-env");
    run_free(&r);
}

/* ---- secret files ---- */

static void test_secret_files(void **state)
{
    struct run r = {0};
    char flag[PATH_MAX_T + 32], want[1024], big[AUTH_TOKEN_MAX + 8];

    (void)state;
    env_set("OS_PROJECT_ID", PROJECT);
#define TOKEN_FLAG(name) (snprintf(flag, sizeof(flag), "--auth.token-file=%s", path_of(name)), flag)
    /* one trailing newline goes, LF or CRLF; nothing else */
    put("t", "abc\n", 0600);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    expect_ok(&r);
    assert_string_equal(r.c.auth_token, "abc");
    put("t", "abc\r\n", 0600);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    expect_ok(&r);
    assert_string_equal(r.c.auth_token, "abc");
    put("t", "abc\n\n", 0600);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    snprintf(want, sizeof(want),
             "--auth.token-file: \"%s\" contains whitespace, control or non-ASCII characters",
             path_of("t"));
    expect_fail(&r, CONFIG_ERROR, want);
    put("t", "SECRET PART", 0600);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    expect_fail(&r, CONFIG_ERROR, want);
    assert_null(strstr(r.err, "SECRET"));
    put("t", "\n", 0600);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    snprintf(want, sizeof(want), "--auth.token-file: \"%s\" is empty", path_of("t"));
    expect_fail(&r, CONFIG_ERROR, want);
    /* the token cap is auth.h's */
    memset(big, 'k', AUTH_TOKEN_MAX + 1);
    big[AUTH_TOKEN_MAX + 1] = '\0';
    put("t", big, 0600);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    snprintf(want, sizeof(want), "--auth.token-file: \"%s\" is longer than %d bytes", path_of("t"),
             AUTH_TOKEN_MAX);
    expect_fail(&r, CONFIG_ERROR, want);
    big[AUTH_TOKEN_MAX] = '\n';
    put("t", big, 0600);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    expect_ok(&r);
    assert_int_equal(strlen(r.c.auth_token), AUTH_TOKEN_MAX);
    /* missing, a directory */
    PARSE(&r, "--elb.endpoint", ENDPOINT, "--auth.token-file=/nonexistent/t");
    expect_fail(&r, CONFIG_ERROR,
                "--auth.token-file: cannot read \"/nonexistent/t\": No such file or directory");
    snprintf(flag, sizeof(flag), "--auth.token-file=%s", dir);
    PARSE(&r, "--elb.endpoint", ENDPOINT, flag);
    snprintf(want, sizeof(want), "--auth.token-file: \"%s\" is not a regular file (a directory)",
             dir);
    expect_fail(&r, CONFIG_ERROR, want);
    /* loose permissions: used, with a warning for main to log */
    put("t", "abc\n", 0644);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    expect_ok(&r);
    snprintf(want, sizeof(want),
             "--auth.token-file: \"%s\" holds the token and is readable by every user (mode "
             "0644); chmod 600 it",
             path_of("t"));
    assert_string_equal(config_warning(&r.c, 0), want);
    put("t", "abc\n", 0640);
    PARSE(&r, "--elb.endpoint", ENDPOINT, TOKEN_FLAG("t"));
    expect_ok(&r);
    assert_non_null(strstr(config_warning(&r.c, 0), "readable by its group (mode 0640)"));
    /* a password may hold spaces, not a line break; NUL bytes never */
    put("p", "pass word \n", 0600);
    snprintf(flag, sizeof(flag), "--auth.password-file=%s", path_of("p"));
    PARSE(&r, "--demo", flag);
    expect_ok(&r);
    assert_string_equal(r.c.password, "pass word ");
    put("p", "two\nlines\n", 0600);
    PARSE(&r, "--demo", flag);
    snprintf(want, sizeof(want), "--auth.password-file: \"%s\" contains a line break",
             path_of("p"));
    expect_fail(&r, CONFIG_ERROR, want);
    {
        FILE *f = fopen(path_of("p"), "wb");

        assert_non_null(f);
        assert_int_equal(fwrite("a\0b", 1, 3, f), 3);
        assert_int_equal(fclose(f), 0);
    }
    PARSE(&r, "--demo", flag);
    snprintf(want, sizeof(want), "--auth.password-file: \"%s\" contains a NUL byte", path_of("p"));
    expect_fail(&r, CONFIG_ERROR, want);
    /* variables are checked the same way, and never echoed */
    env_set("OS_SECRET_KEY", "has space");
    PARSE(&r, "--demo");
    expect_fail(&r, CONFIG_ERROR,
                "OS_SECRET_KEY contains whitespace, control or non-ASCII characters");
    run_free(&r);
#undef TOKEN_FLAG
}

/* ---- clouds.yaml ---- */

static void test_clouds_yaml(void **state)
{
    struct run r = {0};
    char want[1024];

    (void)state;
    /* none anywhere */
    PARSE(&r, "--demo", "--os-cloud=otc");
    expect_fail(&r, CONFIG_ERROR,
                "--os-cloud: no clouds.yaml found for cloud \"otc\" (looked for "
                "$OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, "
                "/etc/openstack/clouds.yaml)");
    /* in $HOME/.config/openstack, named by OS_CLOUD */
    assert_int_equal(mkdir(path_of(".config"), 0700), 0);
    assert_int_equal(mkdir(path_of(".config/openstack"), 0700), 0);
    put(".config/openstack/clouds.yaml",
        "clouds:\n"
        "  other: {auth: {username: nobody}}\n"
        "  otc:\n"
        "    profile: otc\n" /* keys of other tools are ignored */
        "    interface: public\n"
        "    identity_api_version: 3\n"
        "    region_name: eu-nl\n"
        "    auth:\n"
        "      auth_url: https://iam.eu-nl.otc.t-systems.com:443/v3\n"
        "      username: ops\n"
        "      domain_name: OTC-DOMAIN\n"
        "      password: from-clouds\n",
        0644);
    put(".config/openstack/secure.yaml",
        "clouds:\n  otc:\n    auth:\n      password: from-secure\n", 0600);
    env_set("OS_CLOUD", "otc");
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_ok(&r);
    assert_string_equal(r.c.os_cloud, "otc");
    assert_string_equal(r.c.iam_endpoint, "https://iam.eu-nl.otc.t-systems.com:443/v3");
    assert_string_equal(r.c.username, "ops");
    assert_string_equal(r.c.user_domain_name, "OTC-DOMAIN");
    assert_string_equal(r.c.password, "from-secure"); /* secure.yaml over clouds.yaml */
    assert_string_equal(r.c.project_name, "eu-nl");   /* region_name: OTC's main project */
    assert_null(r.c.project_id);
    /* clouds.yaml is 0644 but its password was overridden: no warning */
    assert_null(config_warning(&r.c, 0));
    {
        enum config_auth_method m;
        char why[512];

        assert_int_equal(config_auth_choose(&r.c, &m, why, sizeof(why)), 0);
        assert_int_equal(m, CONFIG_AUTH_PASSWORD);
        assert_string_equal(why, "auto: no token or access key pair; password login as user "
                                 "from cloud \"otc\" in clouds.yaml, password from cloud \"otc\" "
                                 "in clouds.yaml, at IAM from cloud \"otc\" in clouds.yaml");
    }
    /* --os-cloud beats OS_CLOUD; a cloud that is not there is named */
    PARSE(&r, "--elb.endpoint", ENDPOINT, "--os-cloud=nope");
    snprintf(want, sizeof(want), "--os-cloud: cloud \"nope\" is not in %s nor in %s",
             path_of(".config/openstack/clouds.yaml"), path_of(".config/openstack/secure.yaml"));
    expect_fail(&r, CONFIG_ERROR, want);
    /* without secure.yaml the 0644 clouds.yaml's password is used, with a warning */
    unlink(path_of(".config/openstack/secure.yaml"));
    PARSE(&r, "--demo");
    expect_ok(&r);
    assert_string_equal(r.c.password, "from-clouds");
    snprintf(want, sizeof(want),
             "--os-cloud: \"%s\" holds the password of cloud \"otc\" and is readable by every "
             "user (mode 0644)",
             path_of(".config/openstack/clouds.yaml"));
    assert_string_equal(config_warning(&r.c, 0), want);
    /* OS_CLIENT_CONFIG_FILE wins over the search; AK/SK the OTC way, cacert */
    put("ca.pem", "x", 0644);
    snprintf(want, sizeof(want),
             "clouds:\n  otc:\n    ak: AKID\n    sk: SKSECRET\n    cacert: %s\n"
             "    auth: {project_id: " PROJECT "}\n",
             path_of("ca.pem"));
    env_set("OS_CLIENT_CONFIG_FILE", put("mine.yaml", want, 0600));
    PARSE(&r, "--elb.endpoint", ENDPOINT);
    expect_ok(&r);
    assert_string_equal(r.c.access_key, "AKID");
    assert_string_equal(r.c.secret_key, "SKSECRET");
    assert_string_equal(r.c.tls_ca_file, path_of("ca.pem"));
    assert_string_equal(r.c.project_id, PROJECT);
    assert_null(r.c.project_name); /* a project ID is given: no region fallback */
    /* a bad value in clouds.yaml names where it is */
    env_set("OS_CLIENT_CONFIG_FILE",
            put("bad.yaml", "clouds:\n  otc:\n    auth:\n      auth_url: iam.example\n", 0600));
    PARSE(&r, "--demo");
    snprintf(want, sizeof(want),
             "%s:4:17: clouds.otc.auth.auth_url: invalid URL \"iam.example\": must start with "
             "http:// or https://",
             path_of("bad.yaml"));
    expect_fail(&r, CONFIG_ERROR, want);
    env_set("OS_CLIENT_CONFIG_FILE", put("bad.yaml", "other: 1\n", 0600));
    PARSE(&r, "--demo");
    snprintf(want, sizeof(want), "%s:1:1: no \"clouds:\" mapping", path_of("bad.yaml"));
    expect_fail(&r, CONFIG_ERROR, want);
    run_free(&r);
}

/* ---- the auth method and what it requires ---- */

static void test_auth_choose(void **state)
{
    struct config c;
    enum config_auth_method m = CONFIG_AUTH_AUTO;
    char why[1024];

    (void)state;
    memset(&c, 0, sizeof(c)); /* built by hand: origins are unknown */
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), -ENOENT);
    assert_memory_equal(why, "no credentials: ", 16);
    assert_int_equal(m, CONFIG_AUTH_AUTO); /* untouched */
    c.username = (char *)"u";
    c.password = (char *)"p";
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), -ENOENT);
    assert_non_null(strstr(why, "; for a password login, missing: IAM endpoint "
                                "(--auth.iam-endpoint, OS_AUTH_URL)"));
    c.iam_endpoint = (char *)IAM;
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), 0);
    assert_int_equal(m, CONFIG_AUTH_PASSWORD);
    c.access_key = (char *)"ak";
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), 0);
    assert_int_equal(m, CONFIG_AUTH_PASSWORD); /* half a key pair is not one */
    c.secret_key = (char *)"sk";
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), 0);
    assert_int_equal(m, CONFIG_AUTH_AKSK);
    assert_string_equal(why, "auto: no token; access key from set, secret key from set (other "
                             "credentials are configured too and not used)");
    c.auth_token = (char *)"t";
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), 0);
    assert_int_equal(m, CONFIG_AUTH_TOKEN);
    /* an explicit method wins over the order, and says what it lacks */
    c.auth_method = CONFIG_AUTH_PASSWORD;
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), 0);
    assert_int_equal(m, CONFIG_AUTH_PASSWORD);
    assert_memory_equal(why, "--auth.method: password login", 29);
    c.password = NULL;
    c.username = NULL;
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), -ENOENT);
    assert_string_equal(why, "--auth.method=password needs a username, password and IAM "
                             "endpoint; missing: username (--auth.username, OS_USERNAME), "
                             "password (OS_PASSWORD, --auth.password-file)");
    c.auth_method = CONFIG_AUTH_AKSK;
    c.secret_key = NULL;
    assert_int_equal(config_auth_choose(&c, &m, why, sizeof(why)), -ENOENT);
    assert_string_equal(why, "--auth.method=aksk needs an access key pair; missing: secret key "
                             "(OS_SECRET_KEY, --auth.secret-key-file)");
    /* a short buffer is cut, not overrun; none at all is fine */
    assert_int_equal(config_auth_choose(&c, &m, why, 8), -ENOENT);
    assert_int_equal(strlen(why), 7);
    assert_int_equal(config_auth_choose(&c, &m, NULL, 0), -ENOENT);
    assert_string_equal(config_auth_method_name(CONFIG_AUTH_AUTO), "auto");
    assert_string_equal(config_auth_method_name(CONFIG_AUTH_AKSK), "aksk");
}

static void test_auth_origins(void **state)
{
    struct run r = {0};
    enum config_auth_method m;
    char why[1024], want[1024];

    (void)state;
    env_set("OS_ACCESS_KEY", "AK");
    env_set("OS_SECRET_KEY", "SK");
    env_set("OS_PROJECT_ID", PROJECT);
    PARSE(&r, "--elb.endpoint", ENDPOINT, cfg_arg("auth: {method: auto}\n"));
    expect_ok(&r);
    assert_int_equal(config_auth_choose(&r.c, &m, why, sizeof(why)), 0);
    assert_int_equal(m, CONFIG_AUTH_AKSK);
    assert_string_equal(why, "auto: no token; access key from OS_ACCESS_KEY, secret key from "
                             "OS_SECRET_KEY");
    put("t", "tok\n", 0600);
    snprintf(want, sizeof(want), "auth: {token_file: %s, method: token}\n", path_of("t"));
    PARSE(&r, "--elb.endpoint", ENDPOINT, cfg_arg(want));
    expect_ok(&r);
    assert_int_equal(config_auth_choose(&r.c, &m, why, sizeof(why)), 0);
    assert_int_equal(m, CONFIG_AUTH_TOKEN);
    snprintf(want, sizeof(want),
             "--auth.method: token from auth.token_file in %s (other credentials are configured "
             "too and not used)",
             path_of("c.yml"));
    assert_string_equal(why, want);
    run_free(&r);
}

static void test_requirements(void **state)
{
    struct run r = {0};
    char arg[PATH_MAX_T + 32];

    (void)state;
    put("pw", "pw\n", 0600);
    snprintf(arg, sizeof(arg), "--auth.password-file=%s", path_of("pw"));
    env_set("OS_AUTH_URL", IAM);
    env_set("OS_USERNAME", "ops");
    /* password auth: a project name may stand in for the project ID */
    env_set("OS_PROJECT_NAME", "eu-de");
    env_set("OS_USER_DOMAIN_NAME", "OTC000");
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg);
    expect_ok(&r);
    assert_null(r.c.project_id);
    assert_string_equal(r.c.project_name, "eu-de");
    /* OS_DOMAIN_NAME when OS_USER_DOMAIN_NAME is not set, never over it */
    env_set("OS_DOMAIN_NAME", "OTHER");
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg);
    expect_ok(&r);
    assert_string_equal(r.c.user_domain_name, "OTC000");
    env_set("OS_USER_DOMAIN_NAME", "");
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg);
    expect_ok(&r);
    assert_string_equal(r.c.user_domain_name, "OTHER");
    /* no domain at all */
    env_set("OS_DOMAIN_NAME", "");
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg);
    expect_fail(&r, CONFIG_ERROR,
                "password auth needs the user's domain: --auth.user-domain-name, "
                "auth.user_domain_name or OS_USER_DOMAIN_NAME");
    env_set("OS_USER_DOMAIN_NAME", "OTC000");
    /* neither project ID nor name */
    env_set("OS_PROJECT_NAME", "");
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg);
    expect_fail(&r, CONFIG_ERROR,
                "--elb.project-id (or OS_PROJECT_ID) is required, or for password auth a "
                "project name (--auth.project-name, OS_PROJECT_NAME)");
    /* the password never goes over plain http to another machine unless allowed */
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg, "--elb.project-id=p",
          "--auth.iam-endpoint=http://iam.example/v3");
    expect_fail(&r, CONFIG_ERROR,
                "--auth.iam-endpoint: plain http:// to a host that is not loopback would send "
                "the password unencrypted; use https://, or set --elb.allow-insecure-http to "
                "allow it");
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg, "--elb.project-id=p",
          "--auth.iam-endpoint=http://iam.example/v3", "--elb.allow-insecure-http");
    expect_ok(&r);
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg, "--elb.project-id=p",
          "--auth.iam-endpoint=http://127.0.0.1:5000/v3");
    expect_ok(&r);
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg, "--elb.project-id=p",
          "--auth.iam-endpoint=iam.example");
    expect_fail(&r, CONFIG_ERROR,
                "--auth.iam-endpoint: invalid URL \"iam.example\": must start with http:// or "
                "https://");
    /* AK/SK needs the project ID, a project name is not enough */
    env_set("OS_PROJECT_NAME", "eu-de");
    env_set("OS_ACCESS_KEY", "AK");
    env_set("OS_SECRET_KEY", "SK");
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg);
    expect_fail(&r, CONFIG_ERROR,
                "--elb.project-id or OS_PROJECT_ID is required (AK/SK signing needs it)");
    /* ... unless password is asked for by name */
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg, "--auth.method=password");
    expect_ok(&r);
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg, "--auth.method=bogus");
    expect_fail(&r, CONFIG_ERROR,
                "--auth.method: invalid method \"bogus\" (auto, token, password, aksk)");
    /* --demo needs none of it */
    env_reset(NULL);
    PARSE(&r, "--demo", "--auth.method=password");
    expect_ok(&r);
    run_free(&r);
}

static void test_names_and_paths(void **state)
{
    struct run r = {0};
    char longname[300];

    (void)state;
    PARSE(&r, "--demo", "--auth.username=");
    expect_fail(&r, CONFIG_ERROR, "--auth.username: empty name");
    PARSE(&r, "--demo", "--auth.user-domain-name=a\tb");
    expect_fail(&r, CONFIG_ERROR,
                "--auth.user-domain-name: name \"a\\x09b\" contains control characters");
    memset(longname, 'n', 256);
    longname[256] = '\0';
    env_set("OS_PROJECT_NAME", longname);
    PARSE(&r, "--demo");
    assert_int_equal(r.rc, CONFIG_ERROR);
    assert_memory_equal(r.err, "OS_PROJECT_NAME: name \"nnn", 26);
    assert_non_null(strstr(r.err, "\" is too long (max 255 bytes)"));
    env_set("OS_PROJECT_NAME", "");
    PARSE(&r, "--demo", "--auth.username=Jos\xc3\xa9"); /* UTF-8 is fine */
    expect_ok(&r);
    PARSE(&r, "--demo", "--tls.ca-file=/nonexistent/ca.pem");
    expect_fail(&r, CONFIG_ERROR,
                "--tls.ca-file: cannot read \"/nonexistent/ca.pem\": No such file or directory");
    PARSE(&r, "--demo", "--tls.ca-file=");
    expect_fail(&r, CONFIG_ERROR, "--tls.ca-file: empty path");
    PARSE(&r, "--demo", "--auth.password-file=");
    expect_fail(&r, CONFIG_ERROR, "--auth.password-file: empty path");
    run_free(&r);
}

/* ---- --config.check ---- */

static void test_config_check(void **state)
{
    struct run r = {0};
    char want[1024];

    (void)state;
    env_token();
    put("t", "x\n", 0644);
    snprintf(want, sizeof(want), "--auth.token-file=%s", path_of("t"));
    PARSE(&r, "--config.check", "--elb.endpoint", ENDPOINT, want,
          cfg_arg("poll: {interval: 1m}\n"));
    assert_int_equal(r.rc, CONFIG_EXIT);
    assert_string_equal(r.err, "");
    snprintf(want, sizeof(want),
             "warning: --auth.token-file: \"%s\" holds the token and is readable by every user "
             "(mode 0644); chmod 600 it\n"
             "auth method token: auto: token from --auth.token-file\n"
             "config OK\n",
             path_of("t"));
    assert_string_equal(r.out, want);
    /* problems of every layer, each on its own line; exit 1 */
    env_set("OS_PROJECT_ID", "bad id!");
    PARSE(&r, "--config.check", cfg_arg("poll: {interval: 1}\n"));
    snprintf(want, sizeof(want),
             "OS_PROJECT_ID: invalid project ID \"bad id!\" (1-64 of A-Za-z0-9_-)\n"
             "%s\n"
             "--elb.endpoint or --cloud.region is required (or use --demo)\n"
             "--elb.project-id or OS_PROJECT_ID is required",
             at("1:18: key poll.interval: invalid duration \"1\" (use Prometheus syntax like "
                "15s, 1m)"));
    expect_fail(&r, CONFIG_CHECK_FAILED, want);
    assert_string_equal(r.out, "");
    /* without --config.check the first broken layer stops the parse */
    PARSE(&r, cfg_arg("poll: {interval: 1}\n"));
    expect_fail(&r, CONFIG_ERROR,
                "OS_PROJECT_ID: invalid project ID \"bad id!\" (1-64 of A-Za-z0-9_-)");
    /* a bad command line is a usage error (exit 2), --config.check or not */
    PARSE(&r, "--config.check", "--poll.interval=5x");
    expect_fail(&r, CONFIG_ERROR,
                "--poll.interval: invalid duration \"5x\" (use Prometheus syntax like 15s, 1m)");
    PARSE(&r, "--config.check=maybe");
    expect_fail(&r, CONFIG_ERROR, "--config.check: invalid boolean \"maybe\" (true or false)");
    run_free(&r);
}

/* ---- jobs: PROFILE:ID, the layout of the list ---- */

static void test_job_profiles(void **state)
{
    struct run r = {0};
    struct config c;
    char err[1024], arg[PATH_MAX_T + 32];

    (void)state;
    PARSE(&r, "--demo", "--job", "elb-v1:" JOB_A, "--job", JOB_A, "--job=elb-v1:x", "--job",
          "ecs-v1:" JOB_A, "--job=elb-v1:x");
    expect_ok(&r);
    /* references are kept as given (the job table keys (profile, ID)); exact repeats go */
    assert_int_equal(r.c.n_jobs, 4);
    assert_string_equal(r.c.jobs[0], "elb-v1:" JOB_A);
    assert_string_equal(r.c.jobs[1], JOB_A);
    assert_string_equal(r.c.jobs[2], "elb-v1:x");
    assert_string_equal(r.c.jobs[3], "ecs-v1:" JOB_A);
    {
        const struct api_profile *prof;
        const char *id;
        config_job_ref(&r.c, r.c.jobs[3], &prof, &id);
        assert_string_equal(prof->name, "ecs-v1");
        assert_string_equal(id, JOB_A);
        config_job_ref(&r.c, r.c.jobs[1], &prof, &id);
        assert_ptr_equal(prof, r.c.profile);
        assert_string_equal(id, JOB_A);
    }
    PARSE(&r, "--demo", "--job", "ecs-v2:" JOB_A);
    expect_fail(&r, CONFIG_ERROR,
                "--job: unknown API profile \"ecs-v2\" in job \"ecs-v2:" JOB_A
                "\" (known: elb-v1, ecs-v1, evs-v1, elb-v3)");
    PARSE(&r, "--demo", "--job", ":x");
    expect_fail(&r, CONFIG_ERROR,
                "--job: unknown API profile \"\" in job \":x\" (known: elb-v1, ecs-v1, evs-v1, "
                "elb-v3)");
    PARSE(&r, "--demo", "--job", "elb-v1:");
    expect_fail(&r, CONFIG_ERROR, "--job: invalid job ID \"elb-v1:\" (1-64 of A-Za-z0-9_-)");
    PARSE(&r, "--demo", "--job", "elb-v1:elb-v1:x");
    expect_fail(&r, CONFIG_ERROR,
                "--job: invalid job ID \"elb-v1:elb-v1:x\" (1-64 of A-Za-z0-9_-)");
    memset(&c, 0, sizeof(c));
    assert_int_equal(config_add_job(&c, "elb-v1:abc"), 0);
    assert_int_equal(config_add_job(&c, "elb-v1:abc"), 0);
    assert_int_equal(config_add_job(&c, "nope:abc"), -EINVAL);
    assert_int_equal(c.n_jobs, 1);
    assert_int_equal(
        config_add_jobs_text(&c, "j", "elb-v1:abc\nelb-v1:def\n x:y\n", 28, err, sizeof(err)),
        -EINVAL);
    assert_string_equal(err, "j:3: unknown API profile \"x\" in job \"x:y\" (known: elb-v1, "
                             "ecs-v1, evs-v1, elb-v3)");
    assert_int_equal(
        config_add_jobs_text(&c, "j", "elb-v1:abc\nelb-v1:def # c\n", 25, err, sizeof(err)), 0);
    assert_int_equal(c.n_jobs, 2);
    assert_string_equal(c.jobs[1], "elb-v1:def");
    config_release(&c);
    /* --cloud.region derives the default profile's endpoint; --elb.endpoint wins over it */
    env_token();
    PARSE(&r, "--cloud.region=eu-de", "--job=ecs-v1:" JOB_A);
    expect_ok(&r);
    assert_string_equal(r.c.endpoint, "https://elb.eu-de.otc.t-systems.com");
    assert_string_equal(r.c.cloud_region, "eu-de");
    PARSE(&r, "--cloud.region=ap-southeast-1", "--elb.profile=ecs-v1");
    expect_ok(&r);
    assert_string_equal(r.c.endpoint, "https://ecs.ap-southeast-1.myhuaweicloud.com");
    PARSE(&r, "--cloud.region=eu-de", "--elb.endpoint=https://elb.example.com");
    expect_ok(&r);
    assert_string_equal(r.c.endpoint, "https://elb.example.com");
    PARSE(&r, "--cloud.region=EU DE");
    expect_fail(&r, CONFIG_ERROR,
                "--cloud.region: invalid region \"EU DE\" (like eu-de or ap-southeast-1)");
    /* the jobs file of the config file, relative to nothing: as given */
    put("jobs", "elb-v1:" JOB_B "\n", 0600);
    snprintf(arg, sizeof(arg), "--jobs.file=%s", path_of("jobs"));
    PARSE(&r, "--demo", arg, cfg_arg("jobs: {ids: [" JOB_A ", " JOB_B "]}\n"));
    expect_ok(&r);
    assert_int_equal(r.c.n_flag_jobs, 0);
    assert_int_equal(r.c.n_config_jobs, 2);
    /* kept as given: "elb-v1:B" beside "B"; the job table takes both as one job */
    assert_int_equal(r.c.n_jobs, 3);
    run_free(&r);
}

/* ---- reloading ---- */

static void test_reload_file(void **state)
{
    struct run r = {0};
    struct config fresh;
    struct config_change ch[8];
    char err[CONFIG_ERR_MAX], arg[PATH_MAX_T + 32];
    size_t n;

    (void)state;
    env_token();
    snprintf(
        arg, sizeof(arg), "--config.file=%s",
        put("c.yml", "poll: {interval: 15s}\nlog: {level: info}\njobs: {ids: [a, b]}\n", 0600));
    PARSE(&r, "--elb.endpoint", ENDPOINT, arg, "--job=f");
    expect_ok(&r);
    /* nothing changed */
    assert_int_equal(config_reload_file(&r.c, &fresh, err, sizeof(err)), CONFIG_OK);
    assert_int_equal(config_changes(&r.c, &fresh, ch, 8), 0);
    config_release(&fresh);
    /* the file changed: what applies live and what needs a restart */
    put("c.yml",
        "poll: {interval: 30s}\nlog: {level: debug}\njobs: {ids: [b, c]}\n"
        "web: {listen_address: \":1\"}\nauth: {username: u}\n",
        0600);
    assert_int_equal(config_reload_file(&r.c, &fresh, err, sizeof(err)), CONFIG_OK);
    n = config_changes(&r.c, &fresh, ch, 8);
    assert_int_equal(n, 5);
    assert_string_equal(ch[0].key, "web.listen_address");
    assert_int_equal(ch[0].restart, 1);
    assert_string_equal(ch[1].key, "auth.username");
    assert_int_equal(ch[1].restart, 1);
    assert_string_equal(ch[2].key, "jobs.ids");
    assert_int_equal(ch[2].restart, 0);
    assert_string_equal(ch[3].key, "poll.interval");
    assert_int_equal(ch[3].restart, 1);
    assert_string_equal(ch[4].key, "log.level");
    assert_int_equal(ch[4].restart, 0);
    /* the flag's job and the command line are the same */
    assert_int_equal(fresh.n_flag_jobs, 1);
    assert_string_equal(fresh.jobs[0], "f");
    assert_int_equal(config_changes(&r.c, &fresh, ch, 2), 5); /* counted past cap */
    config_release(&fresh);
    /* a broken file: the running configuration stays, the problems are named */
    put("c.yml", "poll: {interval: 1}\n", 0600);
    assert_int_equal(config_reload_file(&r.c, &fresh, err, sizeof(err)), CONFIG_ERROR);
    assert_non_null(strstr(err, "key poll.interval: invalid duration"));
    assert_string_equal(r.c.config_file, path_of("c.yml"));
    assert_int_equal(r.c.poll_interval_ms, 15000);
    /* a configuration not built by config_parse cannot be reloaded */
    {
        struct config hand;

        memset(&hand, 0, sizeof(hand));
        assert_int_equal(config_reload_file(&hand, &fresh, err, sizeof(err)), CONFIG_ERROR);
        assert_non_null(strstr(err, "not reloadable"));
    }
    run_free(&r);
}

static void test_reload_demo(void **state)
{
    struct run r = {0}, s = {0};
    struct config_change ch[4];

    (void)state;
    PARSE(&r, "--demo", "--elb.endpoint=http://127.0.0.1:1");
    expect_ok(&r);
    PARSE(&s, "--demo", "--elb.endpoint=http://127.0.0.1:2", "--elb.project-id=x");
    expect_ok(&s);
    /* with --demo main replaces these by the simulator's: not compared */
    assert_int_equal(config_changes(&r.c, &s.c, ch, 4), 0);
    run_free(&r);
    run_free(&s);
}

static void test_reload_jobs_sources(void **state)
{
    struct run r = {0};
    char err[CONFIG_ERR_MAX], arg[PATH_MAX_T + 32], **ids = NULL;
    size_t n = 0;

    (void)state;
    snprintf(arg, sizeof(arg), "--jobs.file=%s", put("jobs", "j1\nc1\n", 0600));
    PARSE(&r, "--demo", arg, "--job=f1", cfg_arg("jobs: {ids: [c1, c2]}\n"));
    expect_ok(&r);
    assert_int_equal(r.c.n_jobs, 4); /* f1 c1 c2 j1 */
    /* the config file's list on its own, as it is now */
    put("c.yml", "jobs: {ids: [c2, c3, f1]}\n", 0600);
    assert_int_equal(config_reload_config_jobs(&r.c, &ids, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ids[0], "c2");
    assert_string_equal(ids[1], "c3");
    assert_string_equal(ids[2], "f1"); /* also a --job: each source has its own list */
    config_free_jobs(ids, n);
    /* the jobs file's reload keeps --job and jobs.ids as loaded, then the file now */
    put("jobs", "j2\n", 0600);
    assert_int_equal(config_reload_jobs(&r.c, &ids, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 4);
    assert_string_equal(ids[0], "f1");
    assert_string_equal(ids[1], "c1");
    assert_string_equal(ids[2], "c2");
    assert_string_equal(ids[3], "j2");
    config_free_jobs(ids, n);
    /* a broken config file: no list */
    put("c.yml", "jobs: {ids: [\"no way\"]}\n", 0600);
    ids = NULL;
    assert_int_equal(config_reload_config_jobs(&r.c, &ids, &n, err, sizeof(err)), -EINVAL);
    assert_null(ids);
    assert_string_equal(err, at("1:14: key jobs.ids: invalid job ID \"no way\" (1-64 of "
                                "A-Za-z0-9_-)"));
    run_free(&r);
    /* no config file: an empty list */
    PARSE(&r, "--demo");
    expect_ok(&r);
    assert_int_equal(config_reload_config_jobs(&r.c, &ids, &n, err, sizeof(err)), 0);
    assert_null(ids);
    assert_int_equal(n, 0);
    run_free(&r);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_every_key),
        T(test_product_example),
        T(test_problems_listed),
        T(test_wrong_types),
        T(test_valid_shapes),
        T(test_problem_cap),
        T(test_config_file_unreadable),
        T(test_precedence_layers),
        T(test_precedence_secrets),
        T(test_secret_files),
        T(test_clouds_yaml),
        T(test_auth_choose),
        T(test_auth_origins),
        T(test_requirements),
        T(test_names_and_paths),
        T(test_config_check),
        T(test_job_profiles),
        T(test_reload_file),
        T(test_reload_demo),
        T(test_reload_jobs_sources),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
