/*
 * cli: the exporter's command line, against the real binary.
 *
 * Every bad flag, value or file is one line on stderr naming the flag (and
 * PATH:LINE for a jobs file) and exit code 2, before anything starts;
 * --version/--help exit 0; SIGTERM and SIGINT end the process with 0 within
 * 2 s even with a slow request in flight; --once prints one complete
 * exposition and exits; --jobs.file feeds the tracked jobs, and one that is
 * not a regular file (a FIFO) is refused at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "auth.h"
#include "harness.h"

#define EXIT_TIMEOUT_S (10.0 * IT_TIME_SCALE) /* a refused start or --once */
#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define STOP_LIMIT_S (2.0 * IT_TIME_SCALE) /* the contract: exit within 2 s of SIGTERM/SIGINT */
#define ARGS_MAX 32

static char dir[H_PATH_MAX];

/* Run the exporter with argv tail args and env, wait for its exit; returns the wait status. */
static int run_exporter(const char *name, const char *const *args, const char *const *env,
                        struct h_proc *p)
{
    const char *argv[ARGS_MAX + 2];
    const struct h_spawn_opts o = {.env_add = env};
    size_t n = 0;

    argv[n++] = EXPORTER_PATH;
    for (size_t i = 0; args[i] && n < ARGS_MAX; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    assert_int_equal(h_spawn(p, dir, name, argv, &o), 0);
    if (h_proc_wait(p, EXIT_TIMEOUT_S, NULL) != 0) {
        h_proc_stop(p, SIGKILL, 1, NULL);
        h_dump_logs(p);
        fail_msg("%s: still running after %.0f s", name, EXIT_TIMEOUT_S);
    }
    return p->status;
}

static const char *const token_env[] = {"OS_AUTH_TOKEN=t0k3n", NULL};
static const char *const no_env[] = {NULL};

struct bad_case {
    const char *name;
    const char *args[8];
    int with_token;
    const char *must[3]; /* substrings of the one stderr line */
};

/* Valid flags every bad case starts from, unless it replaces one. */
#define OK_ENDPOINT "--elb.endpoint=http://127.0.0.1:9"
#define OK_PROJECT "--elb.project-id=" H_SIM_PROJECT
#define OK_LISTEN "--web.listen-address=127.0.0.1:0"
#define OK_JOB "--job=" J_SEED

/* Run a bad case with environment env: exit 2, one line on stderr naming c->must, no stdout. */
static void check_bad_env(const struct bad_case *c, const char *const *env)
{
    struct h_proc p;
    char *err, *out, sb[64];
    size_t el = 0, ol = 0;
    int st;

    print_message("case %s\n", c->name);
    st = run_exporter(c->name, c->args, env, &p);
    err = h_read_file(p.err_path, &el);
    out = h_read_file(p.out_path, &ol);
    assert_non_null(err);
    assert_non_null(out);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 2)
        fail_msg("%s: %s, want exit 2; stderr: %s", c->name, h_status_str(st, sb, sizeof(sb)), err);
    /* exactly one line */
    if (el == 0 || err[el - 1] != '\n' || memchr(err, '\n', el - 1) != NULL)
        fail_msg("%s: stderr is not exactly one line: \"%s\"", c->name, err);
    for (size_t i = 0; i < 3 && c->must[i]; i++)
        if (!strstr(err, c->must[i]))
            fail_msg("%s: stderr \"%s\" does not name \"%s\"", c->name, err, c->must[i]);
    if (ol != 0)
        fail_msg("%s: stdout is not empty: \"%s\"", c->name, out);
    free(err);
    free(out);
}

static void check_bad(const struct bad_case *c)
{
    check_bad_env(c, c->with_token ? token_env : no_env);
}

static void test_bad_flags(void **state)
{
    char jf_bad[H_PATH_MAX], jf_missing[H_PATH_MAX], jf_fifo[H_PATH_MAX], arg_bad[H_PATH_MAX + 16],
        arg_missing[H_PATH_MAX + 16], arg_fifo[H_PATH_MAX + 16], where[H_PATH_MAX + 8],
        long_id[128];
    static const char jobs_bad[] = "# ok so far\n" J_SEED "\n"
                                   "bad/job/id\n" J_FAIL "\n";

    (void)state;
    assert_int_equal(h_test_dir("cli_bad_flags", dir, sizeof(dir)), 0);
    h_fmt(jf_bad, sizeof(jf_bad), "%s/jobs-bad.txt", dir);
    h_fmt(jf_missing, sizeof(jf_missing), "%s/no-such-file.txt", dir);
    assert_int_equal(h_write_file(jf_bad, jobs_bad, sizeof(jobs_bad) - 1), 0);
    h_fmt(arg_bad, sizeof(arg_bad), "--jobs.file=%s", jf_bad);
    h_fmt(arg_missing, sizeof(arg_missing), "--jobs.file=%s", jf_missing);
    h_fmt(where, sizeof(where), "%s:3", jf_bad);
    /* a FIFO nobody writes to: refused at once instead of waiting for a writer */
    h_fmt(jf_fifo, sizeof(jf_fifo), "%s/jobs.fifo", dir);
    assert_int_equal(mkfifo(jf_fifo, 0600), 0);
    h_fmt(arg_fifo, sizeof(arg_fifo), "--jobs.file=%s", jf_fifo);
    /* 65 characters: one over the cap */
    h_fmt(long_id, sizeof(long_id), "--job=%s%s", J_SEED, J_SEED "a");

    const struct bad_case cases[] = {
        {"unknown_flag", {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--nope"}, 1, {"--nope"}},
        {"unknown_flag_value",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--poll.intervall=1s"},
         1,
         {"--poll.intervall"}},
        {"bad_duration",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--poll.interval=5x"},
         1,
         {"--poll.interval", "5x"}},
        {"negative_duration",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--poll.timeout=-1s"},
         1,
         {"--poll.timeout"}},
        {"empty_duration",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--poll.interval="},
         1,
         {"--poll.interval"}},
        {"bad_job_id",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--job=bad/id"},
         1,
         {"--job", "bad/id"}},
        {"long_job_id", {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, long_id}, 1, {"--job"}},
        {"empty_job_id", {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--job="}, 1, {"--job"}},
        {"listen_no_port",
         {OK_ENDPOINT, OK_PROJECT, OK_JOB, "--web.listen-address=nohost"},
         1,
         {"--web.listen-address"}},
        {"listen_bad_port",
         {OK_ENDPOINT, OK_PROJECT, OK_JOB, "--web.listen-address=127.0.0.1:99999"},
         1,
         {"--web.listen-address"}},
        {"telemetry_path",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--web.telemetry-path=metrics"},
         1,
         {"--web.telemetry-path"}},
        {"concurrency_zero",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--poll.concurrency=0"},
         1,
         {"--poll.concurrency"}},
        {"concurrency_junk",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--poll.concurrency=8x"},
         1,
         {"--poll.concurrency"}},
        {"log_level",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--log.level=loud"},
         1,
         {"--log.level"}},
        {"log_format",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB, "--log.format=xml"},
         1,
         {"--log.format"}},
        {"missing_endpoint", {OK_PROJECT, OK_LISTEN, OK_JOB}, 1, {"--elb.endpoint"}},
        {"bad_endpoint",
         {"--elb.endpoint=ftp://example.com", OK_PROJECT, OK_LISTEN, OK_JOB},
         1,
         {"--elb.endpoint"}},
        {"missing_project", {OK_ENDPOINT, OK_LISTEN, OK_JOB}, 1, {"--elb.project-id"}},
        /* the token would travel unencrypted: refused, naming the flag that allows it */
        {"insecure_http",
         {"--elb.endpoint=http://elb.example.com", OK_PROJECT, OK_LISTEN, OK_JOB, "--once",
          "--poll.timeout=1s"},
         1,
         {"--elb.endpoint", "--elb.allow-insecure-http"}},
        {"missing_token", {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, OK_JOB}, 0, {"OS_AUTH_TOKEN"}},
        {"unreadable_jobs_file",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, arg_missing},
         1,
         {"--jobs.file", jf_missing}},
        {"jobs_file_bad_line", {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, arg_bad}, 1, {where}},
        {"jobs_file_fifo",
         {OK_ENDPOINT, OK_PROJECT, OK_LISTEN, arg_fifo},
         1,
         {"--jobs.file", jf_fifo, "not a regular file"}},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_bad(&cases[i]);
}

static void test_version_help(void **state)
{
    static const char *const version[] = {"--version", NULL};
    static const char *const help[] = {"--help", NULL};
    /* flag names without the dashes: booleans may be shown as --[no-]once */
    static const char *const help_flags[] = {"web.listen-address",
                                             "web.telemetry-path",
                                             "elb.endpoint",
                                             "elb.project-id",
                                             "elb.allow-insecure-http",
                                             "--job",
                                             "jobs.file",
                                             "poll.interval",
                                             "poll.timeout",
                                             "poll.concurrency",
                                             "once",
                                             "demo",
                                             "log.level",
                                             "log.format",
                                             "OS_AUTH_TOKEN",
                                             NULL};
    struct h_proc p;
    char *out;
    int st;

    (void)state;
    assert_int_equal(h_test_dir("cli_version_help", dir, sizeof(dir)), 0);

    st = run_exporter("version", version, no_env, &p);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    out = h_read_file(p.out_path, NULL);
    assert_non_null(out);
    assert_non_null(strstr(out, "elb_job_exporter"));
    assert_non_null(strstr(out, ELB_VERSION));
    free(out);

    st = run_exporter("help", help, no_env, &p);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    out = h_read_file(p.out_path, NULL);
    assert_non_null(out);
    for (size_t i = 0; help_flags[i]; i++)
        if (!strstr(out, help_flags[i]))
            fail_msg("--help does not mention %s", help_flags[i]);
    free(out);
}

/*
 * The token cap is one constant (auth.h's AUTH_TOKEN_MAX) for the flag check and
 * the request decorator: a token at the cap starts (--once against a port
 * nothing answers: exit 1, the API was not reached), one byte more is refused
 * up front with one line naming OS_AUTH_TOKEN.
 */
static void test_token_cap(void **state)
{
    static const char prefix[] = "OS_AUTH_TOKEN=";
    const char *args[] = {OK_ENDPOINT, OK_PROJECT, OK_JOB, "--once", "--poll.timeout=2s", NULL};
    const char *env[] = {NULL, NULL};
    size_t n = sizeof(prefix) - 1;
    char *kv = malloc(n + AUTH_TOKEN_MAX + 2), *err, sb[64];
    struct h_proc p;
    int st;

    (void)state;
    assert_non_null(kv);
    assert_int_equal(h_test_dir("cli_token_cap", dir, sizeof(dir)), 0);
    memcpy(kv, prefix, n);
    memset(kv + n, 'k', AUTH_TOKEN_MAX + 1);
    kv[n + AUTH_TOKEN_MAX] = '\0';
    env[0] = kv;
    st = run_exporter("at_cap", args, env, &p);
    err = h_read_file(p.err_path, NULL);
    assert_non_null(err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
        fail_msg("token of %d bytes: %s, want exit 1 (API not reached); stderr: %s", AUTH_TOKEN_MAX,
                 h_status_str(st, sb, sizeof(sb)), err);
    assert_null(strstr(err, "longer than"));
    assert_null(strstr(err, "not a usable token"));
    free(err);

    kv[n + AUTH_TOKEN_MAX] = 'k';
    kv[n + AUTH_TOKEN_MAX + 1] = '\0';
    const struct bad_case over = {"over_cap",
                                  {OK_ENDPOINT, OK_PROJECT, OK_JOB, "--once"},
                                  0,
                                  {"OS_AUTH_TOKEN", "longer than"}};
    check_bad_env(&over, env);
    free(kv);
}

/* How often needle occurs in hay. */
static int count_of(const char *hay, const char *needle)
{
    int n = 0;

    while ((hay = strstr(hay, needle)) != NULL) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

/*
 * --elb.allow-insecure-http lets a plain http:// endpoint that is not loopback
 * start, with exactly one warning at start-up; loopback http:// (what every
 * test and the simulator use) starts without one. --once against addresses
 * that answer nothing: exit 1, the API was not reached.
 */
static void test_insecure_http_allowed(void **state)
{
    /* 192.0.2.1 (TEST-NET-1) is not loopback and answers nothing */
    const char *remote[] = {"--elb.endpoint=http://192.0.2.1:9",
                            "--elb.allow-insecure-http",
                            OK_PROJECT,
                            OK_JOB,
                            "--once",
                            "--poll.timeout=1s",
                            NULL};
    const char *local[] = {OK_ENDPOINT, OK_PROJECT, OK_JOB, "--once", "--poll.timeout=1s", NULL};
    struct h_proc p;
    char *err, sb[64];
    int st;

    (void)state;
    assert_int_equal(h_test_dir("cli_insecure_http", dir, sizeof(dir)), 0);
    st = run_exporter("remote", remote, token_env, &p);
    err = h_read_file(p.err_path, NULL);
    assert_non_null(err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
        fail_msg("--elb.allow-insecure-http: %s, want exit 1; stderr: %s",
                 h_status_str(st, sb, sizeof(sb)), err);
    if (count_of(err, "level=warn") < 1 || count_of(err, "unencrypted") != 1 ||
        count_of(err, "--elb.allow-insecure-http") != 1)
        fail_msg("want one start-up warning about the unencrypted token; stderr: %s", err);
    assert_null(strstr(err, "t0k3n")); /* and the token itself is never logged */
    free(err);

    st = run_exporter("loopback", local, token_env, &p);
    err = h_read_file(p.err_path, NULL);
    assert_non_null(err);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
        fail_msg("loopback http://: %s, want exit 1; stderr: %s", h_status_str(st, sb, sizeof(sb)),
                 err);
    assert_null(strstr(err, "unencrypted"));
    assert_null(strstr(err, "insecure"));
    free(err);
}

/* ---- signals ---- */

struct req_ctx {
    const char *sim_base, *job;
};

static int cond_requested(void *ctx)
{
    struct req_ctx *c = ctx;
    unsigned long long n = 0;

    return h_sim_requests(c->sim_base, c->job, &n) == 0 && n >= 1;
}

/* Start sim + exporter, wait until a request for job is in flight (or done), send sig. */
static void stop_with(const char *name, int sig, const char *job, const char *timeout_flag)
{
    const char *extra[] = {"--poll.interval=1s", timeout_flag, NULL, NULL};
    char job_flag[128], sim_base[H_URL_MAX], exp_base[H_URL_MAX], sb[64];
    struct h_proc sim, exp;
    struct req_ctx rc = {sim_base, job};
    double el = 0;

    h_fmt(job_flag, sizeof(job_flag), "--job=%s", job);
    extra[2] = job_flag;
    assert_int_equal(h_test_dir(name, dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 5000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, extra, NULL, START_TIMEOUT_S,
                                      exp_base, sizeof(exp_base)),
                     0);
    assert_int_equal(h_wait_for(START_TIMEOUT_S, cond_requested, &rc), 0);

    if (h_proc_stop(&exp, sig, STOP_LIMIT_S, &el) != 0) {
        h_dump_logs(&exp);
        fail_msg("%s: signal %d: still running after %.1f s (killed)", name, sig, STOP_LIMIT_S);
    }
    print_message("%s: exited %.3f s after signal %d\n", name, el, sig);
    if (!WIFEXITED(exp.status) || WEXITSTATUS(exp.status) != 0) {
        h_dump_logs(&exp);
        fail_msg("%s: %s after signal %d, want exit 0", name,
                 h_status_str(exp.status, sb, sizeof(sb)), sig);
    }
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_sigterm_slow_request_in_flight(void **state)
{
    (void)state;
    /* the slow job's answer takes 5 s and the timeout allows 30: a request is in flight */
    stop_with("cli_sigterm", SIGTERM, J_SLOW, "--poll.timeout=30s");
}

static void test_sigint(void **state)
{
    (void)state;
    stop_with("cli_sigint", SIGINT, J_NOTES, "--poll.timeout=5s");
}

static void test_sigint_slow_request_in_flight(void **state)
{
    (void)state;
    stop_with("cli_sigint_slow", SIGINT, J_SLOW, "--poll.timeout=30s");
}

/* ---- --once and --jobs.file ---- */

/* Run --once against a fresh simulator with the given flags; parse stdout into e. */
static void run_once(const char *name, const char *const *flags, struct h_expo *e,
                     struct h_proc *sim, char *sim_base, size_t cap)
{
    const char *args[ARGS_MAX + 1];
    char endpoint[H_URL_MAX + 32], err[256], sb[64];
    struct h_proc p;
    char *out, *errtext;
    size_t n = 0, ol = 0;
    int st;

    assert_int_equal(h_test_dir(name, dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(sim, dir, 3000, sim_base, cap), 0);
    h_fmt(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
    args[n++] = endpoint;
    args[n++] = OK_PROJECT;
    args[n++] = "--once";
    args[n++] = "--poll.timeout=5s";
    for (size_t i = 0; flags[i] && n < ARGS_MAX; i++)
        args[n++] = flags[i];
    args[n] = NULL;
    static const char *const env[] = {"OS_AUTH_TOKEN=" H_SIM_TOKEN, NULL};
    st = run_exporter("once", args, env, &p);
    errtext = h_read_file(p.err_path, NULL);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail_msg("--once: %s, want exit 0; stderr: %s", h_status_str(st, sb, sizeof(sb)),
                 errtext ? errtext : "?");
    free(errtext);
    out = h_read_file(p.out_path, &ol);
    assert_non_null(out);
    if (h_expo_parse(out, ol, e, err, sizeof(err)) != 0)
        fail_msg("--once output does not parse: %s", err);
    free(out);
}

static void test_once(void **state)
{
    static const char *const flags[] = {"--job=" J_SEED,    "--job=" J_FAIL, "--job=" J_NOTES,
                                        "--job=" J_MISSING, "--job=" J_SUBS, NULL};
    static const char *const families[] = {"elb_job_status",
                                           "elb_job_info",
                                           "elb_job_begin_timestamp_seconds",
                                           "elb_job_end_timestamp_seconds",
                                           "elb_job_duration_seconds",
                                           "elb_job_error_info",
                                           "elb_job_sub_jobs",
                                           "elb_job_fetch_success",
                                           "elb_job_last_fetch_timestamp_seconds",
                                           "elb_jobs",
                                           "elb_jobs_finished_total",
                                           "elb_jobs_failed_total",
                                           "elb_job_exporter_api_requests_total",
                                           "elb_job_exporter_api_request_errors_total",
                                           "elb_job_exporter_api_request_duration_seconds",
                                           "elb_job_exporter_api_up",
                                           "elb_job_exporter_poll_cycles_total",
                                           "elb_job_exporter_tracked_jobs",
                                           "elb_job_exporter_build_info",
                                           NULL};
    struct h_expo e;
    struct h_proc sim;
    char sim_base[H_URL_MAX];
    unsigned long long n = 0;

    (void)state;
    run_once("cli_once", flags, &e, &sim, sim_base, sizeof(sim_base));

    for (size_t i = 0; families[i]; i++)
        if (!h_expo_type(&e, families[i]))
            fail_msg("--once output has no # TYPE for %s", families[i]);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    H_EXPECT(&e, "elb_job_info",
             "job_id=\"" J_SEED "\",job_type=\"createELB\","
             "resource_id=\"ef265755daf84333baf4ddc1d91cbc2f\"",
             1);
    H_EXPECT_TOL(&e, "elb_job_begin_timestamp_seconds",
                 "job_id=\"" J_SEED "\",job_type=\"createELB\"", 1506678577.399, 1e-6);
    H_EXPECT_TOL(&e, "elb_job_end_timestamp_seconds",
                 "job_id=\"" J_SEED "\",job_type=\"createELB\"", 1506678603.272, 1e-6);
    H_EXPECT_TOL(&e, "elb_job_duration_seconds", "job_id=\"" J_SEED "\",job_type=\"createELB\"",
                 25.873, 1e-6);
    /* rendered the shortest way that reads back exactly */
    H_EXPECT_TEXT(&e, "elb_job_begin_timestamp_seconds",
                  "job_id=\"" J_SEED "\",job_type=\"createELB\"", "1506678577.399");
    H_EXPECT_TEXT(&e, "elb_job_end_timestamp_seconds",
                  "job_id=\"" J_SEED "\",job_type=\"createELB\"", "1506678603.272");
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_NOTES "\",job_type=\"deleteELB\",status=\"RUNNING\"", 1);
    H_EXPECT_ABSENT(&e, "elb_job_end_timestamp_seconds", "job_id=\"" J_NOTES "\"");
    H_EXPECT(&e, "elb_job_error_info",
             "job_id=\"" J_FAIL "\",job_type=\"createELB\",error_code=\"ELB.1003\","
             "fail_reason=\"Quota exceeded: \\\"elb\\\" limit 10\\nsee \xc3\xbc"
             "ber-docs \xf0\x9f\x9a\x80 \\\\ done\"",
             1);
    H_EXPECT(&e, "elb_job_sub_jobs",
             "job_id=\"" J_SUBS "\",job_type=\"batchCreateMembers\",status=\"RUNNING\"", 1);
    H_EXPECT(&e, "elb_job_status", "job_id=\"" J_MISSING "\",job_type=\"\",status=\"UNKNOWN\"", 1);
    H_EXPECT(&e, "elb_job_fetch_success", "job_id=\"" J_MISSING "\",job_type=\"\"", 0);
    H_EXPECT(&e, "elb_jobs", "status=\"SUCCESS\"", 1);
    H_EXPECT(&e, "elb_jobs", "status=\"FAIL\"", 1);
    H_EXPECT(&e, "elb_jobs", "status=\"RUNNING\"", 2);
    H_EXPECT(&e, "elb_jobs", "status=\"INIT\"", 0);
    H_EXPECT(&e, "elb_jobs", "status=\"UNKNOWN\"", 1);
    H_EXPECT(&e, "elb_jobs_finished_total", "job_type=\"createELB\"", 2);
    H_EXPECT(&e, "elb_jobs_failed_total", "job_type=\"createELB\",error_code=\"ELB.1003\"", 1);
    H_EXPECT(&e, "elb_job_exporter_poll_cycles_total", "", 1);
    H_EXPECT(&e, "elb_job_exporter_tracked_jobs", "", 5);
    H_EXPECT(&e, "elb_job_exporter_api_requests_total", "code=\"200\"", 4);
    H_EXPECT(&e, "elb_job_exporter_api_requests_total", "code=\"404\"", 1);
    H_EXPECT(&e, "elb_job_exporter_api_up", "", 1);
    h_expo_free(&e);

    /* one request per job, and nothing more */
    assert_int_equal(h_sim_requests(sim_base, J_SEED, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(h_sim_requests(sim_base, J_NOTES, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(h_sim_requests(sim_base, J_MISSING, &n), 0);
    assert_int_equal(n, 1);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* The API refuses us (403 for a project the token does not cover): --once says so by exit 1. */
static void test_once_refused(void **state)
{
    static const char *const env[] = {"OS_AUTH_TOKEN=" H_SIM_TOKEN, NULL};
    char endpoint[H_URL_MAX + 32], sim_base[H_URL_MAX], err[256], sb[64];
    const char *args[] = {endpoint, "--elb.project-id=00000000000000000000000000000bad", "--once",
                          "--job=" J_SEED, NULL};
    struct h_proc sim, p;
    struct h_expo e;
    size_t ol = 0;
    char *out;
    int st;

    (void)state;
    assert_int_equal(h_test_dir("cli_once_refused", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    h_fmt(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
    st = run_exporter("once", args, env, &p);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 1)
        fail_msg("--once against a refusing API: %s, want exit 1",
                 h_status_str(st, sb, sizeof(sb)));
    out = h_read_file(p.out_path, &ol);
    assert_non_null(out);
    if (h_expo_parse(out, ol, &e, err, sizeof(err)) != 0)
        fail_msg("--once output does not parse: %s", err);
    free(out);
    /* the exposition is still printed, and says what went wrong */
    H_EXPECT(&e, "elb_job_exporter_api_up", "", 0);
    H_EXPECT(&e, "elb_job_exporter_api_requests_total", "code=\"403\"", 1);
    H_EXPECT(&e, "elb_job_fetch_success", "job_id=\"" J_SEED "\",job_type=\"\"", 0);
    H_EXPECT(&e, "elb_job_status", "job_id=\"" J_SEED "\",job_type=\"\",status=\"UNKNOWN\"", 1);
    h_expo_free(&e);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

static void test_jobs_file(void **state)
{
    /* comments, blank lines, CRLF, surrounding blanks, a duplicate of --job */
    static const char body[] = "# tracked jobs\n"
                               "\n" J_SEED "\r\n"
                               "  " J_FAIL "  \n"
                               "# " J_NOTES "\n"
                               "\t\n" J_PROG_OK "\n";
    char path[H_PATH_MAX], arg[H_PATH_MAX + 16], sim_base[H_URL_MAX];
    const char *flags[] = {arg, "--job=" J_SEED, NULL};
    struct h_expo e;
    struct h_proc sim;

    (void)state;
    /* the file lives in the test dir that run_once() recreates: write it to a sibling */
    assert_int_equal(h_test_dir("cli_jobs_file_input", path, sizeof(path)), 0);
    h_fmt(path + strlen(path), sizeof(path) - strlen(path), "/jobs.txt");
    assert_int_equal(h_write_file(path, body, sizeof(body) - 1), 0);
    h_fmt(arg, sizeof(arg), "--jobs.file=%s", path);
    run_once("cli_jobs_file", flags, &e, &sim, sim_base, sizeof(sim_base));

    H_EXPECT(&e, "elb_job_exporter_tracked_jobs", "", 3);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_SEED "\",job_type=\"createELB\",status=\"SUCCESS\"", 1);
    H_EXPECT(&e, "elb_job_status", "job_id=\"" J_FAIL "\",job_type=\"createELB\",status=\"FAIL\"",
             1);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" J_PROG_OK "\",job_type=\"createELB\",status=\"INIT\"", 1);
    H_EXPECT_ABSENT(&e, "elb_job_status", "job_id=\"" J_NOTES "\"");
    assert_int_equal(h_expo_count(&e, "elb_job_status", "status=\"UNKNOWN\""), 3);
    h_expo_free(&e);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_bad_flags, h_teardown),
        cmocka_unit_test_teardown(test_version_help, h_teardown),
        cmocka_unit_test_teardown(test_token_cap, h_teardown),
        cmocka_unit_test_teardown(test_insecure_http_allowed, h_teardown),
        cmocka_unit_test_teardown(test_sigterm_slow_request_in_flight, h_teardown),
        cmocka_unit_test_teardown(test_sigint, h_teardown),
        cmocka_unit_test_teardown(test_sigint_slow_request_in_flight, h_teardown),
        cmocka_unit_test_teardown(test_once, h_teardown),
        cmocka_unit_test_teardown(test_once_refused, h_teardown),
        cmocka_unit_test_teardown(test_jobs_file, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
