/*
 * flags: the flag table, argv parsing and --help. It owns every setting's
 * name, default, help text and value check (the setter), which the other
 * layers (environment, config file, clouds.yaml) run their values through.
 *
 * DESIGN. One table (config_flags[]) drives parsing, the defaults, --help and
 * the config file's keys, so none of them can drift from what is accepted:
 * every default shown by --help is applied by running it through the same
 * setter as a user's value, and `--a.b-c` is the file key `b_c` in mapping
 * `a` (cfg_flag_key). A setter validates, then claims the setting for its layer
 * (config_private.h), then stores.
 *
 * Syntax, Prometheus/kingpin style: `--flag=value` and `--flag value` (a value
 * in the second form may not start with "--": write `--flag=--x` for that);
 * booleans as `--once`, `--no-once`, `--once=true|false` (a boolean never takes
 * the next argument); `-h` is `--help`. A single-value flag given twice: the
 * last one wins (each occurrence is still validated). --help and --version act
 * where they appear: an error in an earlier argument is reported instead.
 * Positional arguments are refused, and so is any flag that looks like it
 * carries a secret, without echoing its value.
 */
#include "config_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "job.h"
#include "timeutil.h"

#define CONFIG_NAME_MAX 255             /* bytes of a user, domain, project or cloud name */
#define CONFIG_POLL_INTERVAL_MIN_MS 100 /* faster polling only hurts the API */
#define CONFIG_DURATION_MAX_MS                                                                     \
    (365ull * 24 * 3600 * 1000) /* keeps deadline sums far from overflow */
#define CONFIG_CONCURRENCY_MAX 256
#define CONFIG_DURATION_TEXT 32 /* duration_format output */
#define CONFIG_USAGE_WIDTH 80   /* columns of the --help text */
#define CONFIG_USAGE_TEXT_MAX                                                                      \
    (CONFIG_SHOW_BUF + 1024) /* one help paragraph: text, "Known: ...", default */
#define CONFIG_WHO_MAX 96    /* bytes of "--flag-name" */

#define LISTEN_RULE "(use host:port, :port or [v6]:port)"

/* Flags of the product that this version does not implement yet (named in the error). */
static const char *const unsupported_flags[] = {
    "storage.redis-url",
    "poll.max-rate",
    "shard",
};

/* Words that mark a flag as carrying a secret: refused, and its value never echoed. */
static const char *const secret_words[] = {"token",      "password", "passwd",     "secret",
                                           "credential", "aksk",     "access-key", "private-key"};

static int set_listen(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    const char *host = NULL, *why;
    size_t hlen = 0;
    uint16_t port = 0;
    char *addr = NULL, *h = NULL;

    (void)f;
    why = cfg_split_listen(val, &host, &hlen, &port);
    if (why)
        return cfg_problem(p, "invalid address \"%s\": %s " LISTEN_RULE,
                           cfg_show(sb, val, strlen(val)), why);
    if (!cfg_claim(p, S_LISTEN))
        return CONFIG_OK;
    addr = strdup(val);
    h = strndup(host, hlen);
    if (!addr || !h) {
        free(addr);
        free(h);
        return cfg_problem_oom(p);
    }
    free(p->c->listen_address);
    free(p->c->listen_host);
    p->c->listen_address = addr;
    p->c->listen_host = h;
    p->c->listen_port = port;
    return CONFIG_OK;
}

static int set_telemetry_path(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    const char *why = cfg_telemetry_path_problem(val);

    (void)f;
    if (why)
        return cfg_problem(p, "invalid path \"%s\": %s", cfg_show(sb, val, strlen(val)), why);
    if (cfg_claim(p, S_TELEMETRY_PATH) &&
        cfg_replace_str(&p->c->telemetry_path, val, strlen(val)) < 0)
        return cfg_problem_oom(p);
    return CONFIG_OK;
}

/* --elb.endpoint, --auth.iam-endpoint: an http(s) base URL, stored without trailing '/'. */
static int set_url(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    size_t n = strlen(val), skip = 0, i, alen = 0;
    const char *why, *auth = val;
    char *d, **slot;

    if (strncasecmp(val, "https://", 8) == 0)
        auth = val + 8;
    else if (strncasecmp(val, "http://", 7) == 0)
        auth = val + 7;
    if (memchr(auth, '@', strcspn(auth, "/?#"))) {
        /* user:password@host: the value holds a secret, so it is not echoed */
        return cfg_problem(p, "credentials in the URL are not allowed (the token is read from "
                              "OS_AUTH_TOKEN only)");
    }
    why = cfg_url_problem(val, &skip, &alen);
    if (why)
        return cfg_problem(p, "invalid URL \"%s\": %s", cfg_show(sb, val, n), why);
    if (!cfg_claim(p, (enum setting)(f - config_flags)))
        return CONFIG_OK;
    while (n > skip + alen && val[n - 1] == '/')
        n--;
    d = strndup(val, n);
    if (!d)
        return cfg_problem_oom(p);
    for (i = 0; i < skip; i++) /* scheme in lower case, as libcurl and logs expect */
        if (d[i] >= 'A' && d[i] <= 'Z')
            d[i] = (char)(d[i] - 'A' + 'a');
    slot = f - config_flags == S_ENDPOINT ? &p->c->endpoint : &p->c->iam_endpoint;
    free(*slot);
    *slot = d;
    return CONFIG_OK;
}

static int set_project_id(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    size_t n = strlen(val);

    (void)f;
    if (!cfg_project_id_valid(val, n))
        return cfg_problem(p, "invalid project ID \"%s\" (1-64 of A-Za-z0-9_-)",
                           cfg_show(sb, val, n));
    if (cfg_claim(p, S_PROJECT_ID) && cfg_replace_str(&p->c->project_id, val, n) < 0)
        return cfg_problem_oom(p);
    return CONFIG_OK;
}

void cfg_known_profiles(char *buf, size_t len)
{
    const struct api_profile *prof;
    size_t i, used = 0;
    int n;

    buf[0] = '\0';
    for (i = 0; (prof = profile_at(i)) != NULL; i++) {
        n = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", prof->name);
        if (n < 0 || (size_t)n >= len - used)
            return;
        used += (size_t)n;
    }
}

static int set_profile(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF], known[CONFIG_SHOW_BUF];
    const struct api_profile *prof = profile_find(val);

    (void)f;
    if (!prof) {
        cfg_known_profiles(known, sizeof(known));
        return cfg_problem(p, "unknown API profile \"%s\" (known: %s)",
                           cfg_show(sb, val, strlen(val)), known);
    }
    if (cfg_claim(p, S_PROFILE))
        p->c->profile = prof;
    return CONFIG_OK;
}

static int set_job(struct parse *p, const struct flag *f, const char *val)
{
    char why[CONFIG_LINE_MAX];
    const char *id;
    size_t idlen;
    int rc;

    (void)f;
    if (cfg_job_ref_problem(val, strlen(val), &id, &idlen, why, sizeof(why)))
        return cfg_problem(p, "%s", why);
    rc = config_add_job(p->c, val);
    if (rc == -E2BIG)
        return cfg_problem(p, "too many jobs (max %d)", CONFIG_MAX_JOBS);
    if (rc < 0)
        return cfg_problem_oom(p);
    return CONFIG_OK;
}

/* The string field of setting s. */
static char **str_field(struct config *c, enum setting s)
{
    switch (s) {
    case S_CONFIG_FILE:
        return &c->config_file;
    case S_OS_CLOUD:
        return &c->os_cloud;
    case S_USERNAME:
        return &c->username;
    case S_USER_DOMAIN:
        return &c->user_domain_name;
    case S_PROJECT_NAME:
        return &c->project_name;
    case S_CLOUD_REGION:
        return &c->cloud_region;
    case S_TLS_CA_FILE:
        return &c->tls_ca_file;
    case S_WEB_CONFIG_FILE:
        return &c->web_config_file;
    case S_STORAGE_PATH:
        return &c->storage_path;
    case S_JOBS_FILE:
    default:
        return &c->jobs_file;
    }
}

/* A file path: not empty, no NUL (a YAML scalar may hold one), at most CONFIG_PATH_MAX bytes. */
static int set_path(struct parse *p, const struct flag *f, const char *val)
{
    enum setting s = (enum setting)(f - config_flags);
    size_t n = strlen(val);

    if (n == 0)
        return cfg_problem(p, "empty path");
    if (n > CONFIG_PATH_MAX)
        return cfg_problem(p, "path too long (max %d bytes)", CONFIG_PATH_MAX);
    if (cfg_claim(p, s) && cfg_replace_str(str_field(p->c, s), val, n) < 0)
        return cfg_problem_oom(p);
    return CONFIG_OK;
}

/* A user, domain, project or cloud name: 1-255 bytes, no control characters. */
static int set_name(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    enum setting s = (enum setting)(f - config_flags);
    size_t n = strlen(val), i;

    if (n == 0)
        return cfg_problem(p, "empty name");
    if (n > CONFIG_NAME_MAX)
        return cfg_problem(p, "name \"%s\" is too long (max %d bytes)", cfg_show(sb, val, n),
                           CONFIG_NAME_MAX);
    for (i = 0; i < n; i++)
        if ((unsigned char)val[i] < 0x20 || (unsigned char)val[i] == 0x7f)
            return cfg_problem(p, "name \"%s\" contains control characters", cfg_show(sb, val, n));
    if (cfg_claim(p, s) && cfg_replace_str(str_field(p->c, s), val, n) < 0)
        return cfg_problem_oom(p);
    return CONFIG_OK;
}

/* A region name that profile_endpoint_for_region takes (eu-de, ap-southeast-1, ...). */
static int set_region(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF], url[256];
    enum setting s = (enum setting)(f - config_flags);

    if (profile_endpoint_for_region(profile_default(), val, url, sizeof(url)) != 0)
        return cfg_problem(p, "invalid region \"%s\" (like eu-de or ap-southeast-1)",
                           cfg_show(sb, val, strlen(val)));
    if (cfg_claim(p, s) && cfg_replace_str(str_field(p->c, s), val, strlen(val)) < 0)
        return cfg_problem_oom(p);
    return CONFIG_OK;
}

static int set_auth_method(struct parse *p, const struct flag *f, const char *val)
{
    static const enum config_auth_method all[] = {CONFIG_AUTH_AUTO, CONFIG_AUTH_TOKEN,
                                                  CONFIG_AUTH_PASSWORD, CONFIG_AUTH_AKSK};
    char sb[CONFIG_SHOW_BUF];
    size_t i;

    (void)f;
    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(val, config_auth_method_name(all[i])) == 0) {
            if (cfg_claim(p, S_AUTH_METHOD))
                p->c->auth_method = all[i];
            return CONFIG_OK;
        }
    }
    return cfg_problem(p, "invalid method \"%s\" (auto, token, password, aksk)",
                       cfg_show(sb, val, strlen(val)));
}

/* Parse a duration value of at least min_ms (and at most CONFIG_DURATION_MAX_MS). */
static int parse_duration_value(struct parse *p, const char *val, uint64_t min_ms, uint64_t *out)
{
    char sb[CONFIG_SHOW_BUF], lim[CONFIG_DURATION_TEXT];
    uint64_t ms;
    int rc = duration_parse(val, &ms);

    if (rc == -EINVAL)
        return cfg_problem(p, "invalid duration \"%s\" (use Prometheus syntax like 15s, 1m)",
                           cfg_show(sb, val, strlen(val)));
    if (rc < 0 || ms > CONFIG_DURATION_MAX_MS) {
        duration_format(CONFIG_DURATION_MAX_MS, lim, sizeof(lim));
        return cfg_problem(p, "duration \"%s\" is too long (max %s)",
                           cfg_show(sb, val, strlen(val)), lim);
    }
    if (ms < min_ms) {
        if (min_ms <= 1)
            return cfg_problem(p, "must be greater than 0, got \"%s\"",
                               cfg_show(sb, val, strlen(val)));
        duration_format(min_ms, lim, sizeof(lim));
        return cfg_problem(p, "must be at least %s, got \"%s\"", lim,
                           cfg_show(sb, val, strlen(val)));
    }
    *out = ms;
    return CONFIG_OK;
}

static int set_duration(struct parse *p, const struct flag *f, const char *val)
{
    enum setting s = (enum setting)(f - config_flags);
    uint64_t min = s == S_POLL_INTERVAL ? CONFIG_POLL_INTERVAL_MIN_MS : s == S_POLL_TIMEOUT ? 1 : 0;
    uint64_t ms = 0;

    if (parse_duration_value(p, val, min, &ms) != CONFIG_OK)
        return CONFIG_ERROR;
    if (!cfg_claim(p, s))
        return CONFIG_OK;
    if (s == S_POLL_INTERVAL)
        p->c->poll_interval_ms = ms;
    else if (s == S_POLL_TIMEOUT)
        p->c->poll_timeout_ms = ms;
    else
        p->c->jobs_retention_ms = ms;
    return CONFIG_OK;
}

/* A count: poll.concurrency, web.max-requests, jobs.max, each with its own range. */
static int set_count(struct parse *p, const struct flag *f, const char *val)
{
    enum setting s = (enum setting)(f - config_flags);
    unsigned long max = s == S_JOBS_MAX           ? CONFIG_JOBS_MAX_LIMIT
                        : s == S_WEB_MAX_REQUESTS ? CONFIG_MAX_REQUESTS_LIMIT
                                                  : CONFIG_CONCURRENCY_MAX;
    char sb[CONFIG_SHOW_BUF];
    unsigned long v = 0;
    size_t i, n = strlen(val);

    for (i = 0; i < n && i < 8; i++) {
        if (val[i] < '0' || val[i] > '9')
            break;
        v = v * 10 + (unsigned long)(val[i] - '0');
    }
    if (n == 0 || i != n || v < 1 || v > max)
        return cfg_problem(p, "invalid value \"%s\" (an integer from 1 to %lu)",
                           cfg_show(sb, val, n), max);
    if (!cfg_claim(p, s))
        return CONFIG_OK;
    if (s == S_JOBS_MAX)
        p->c->jobs_max = v;
    else if (s == S_WEB_MAX_REQUESTS)
        p->c->web_max_requests = (unsigned)v;
    else
        p->c->poll_concurrency = (unsigned)v;
    return CONFIG_OK;
}

/* Every boolean: val is "1" or "0" (argv and the file layer parse the spellings). */
static int set_bool(struct parse *p, const struct flag *f, const char *val)
{
    enum setting s = (enum setting)(f - config_flags);
    int v = val[0] == '1', *field;

    switch (s) {
    case S_CONFIG_CHECK:
        field = &p->c->config_check;
        break;
    case S_ALLOW_INSECURE_HTTP:
        field = &p->c->allow_insecure_http;
        break;
    case S_TLS_INSECURE:
        field = &p->c->tls_insecure_skip_verify;
        break;
    case S_ONCE:
        field = &p->c->once;
        break;
    case S_WEB_ADMIN_API:
        field = &p->c->web_enable_admin_api;
        break;
    case S_WEB_LIFECYCLE:
        field = &p->c->web_enable_lifecycle;
        break;
    case S_SPARSE_STATUS:
        field = &p->c->metrics_sparse_status;
        break;
    case S_DEMO:
    default:
        field = &p->c->demo;
        break;
    }
    if (cfg_claim(p, s))
        *field = v;
    return CONFIG_OK;
}

static int set_log_level(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    enum log_level l;

    (void)f;
    if (log_level_parse(val, &l) < 0)
        return cfg_problem(p, "invalid level \"%s\" (debug, info, warn, error)",
                           cfg_show(sb, val, strlen(val)));
    if (cfg_claim(p, S_LOG_LEVEL))
        p->c->log_level = l;
    return CONFIG_OK;
}

static int set_log_format(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    enum log_format l;

    (void)f;
    if (log_format_parse(val, &l) < 0)
        return cfg_problem(p, "invalid format \"%s\" (logfmt, json)",
                           cfg_show(sb, val, strlen(val)));
    if (cfg_claim(p, S_LOG_FORMAT))
        p->c->log_format = l;
    return CONFIG_OK;
}

static int do_help(struct parse *p, const struct flag *f, const char *val)
{
    (void)f;
    (void)val;
    config_usage(p->out);
    return CONFIG_EXIT;
}

static int do_version(struct parse *p, const struct flag *f, const char *val)
{
    (void)f;
    (void)val;
    fprintf(p->out, "elb_job_exporter, version %s (revision: %s)\n", ELB_VERSION, ELB_REVISION);
    return CONFIG_EXIT;
}

const struct flag config_flags[S_COUNT] = {
    [S_HELP] = {"help", FLAG_ACTION, NULL, NULL, NULL, "Show this help and exit (also -h).",
                do_help, SCOPE_ARGV_ONLY, NULL, 0},
    [S_VERSION] = {"version", FLAG_ACTION, NULL, NULL, NULL, "Show the version and exit.",
                   do_version, SCOPE_ARGV_ONLY, NULL, 0},
    [S_CONFIG_FILE] = {"config.file", FLAG_VALUE, "PATH", NULL, NULL,
                       "YAML file with any of these settings (--a.b-c is key b_c in mapping a) "
                       "and the job list (jobs.ids); flags and the environment override it.",
                       set_path, SCOPE_ARGV_ONLY, NULL, 0},
    [S_CONFIG_CHECK] = {"config.check", FLAG_BOOL, NULL, NULL, NULL,
                        "Validate the configuration, print every problem (exit 1) or \"config "
                        "OK\" (exit 0), and start nothing.",
                        set_bool, SCOPE_ARGV_ONLY, NULL, 0},
    [S_LISTEN] = {"web.listen-address", FLAG_VALUE, "ADDR", ":39123", NULL,
                  "Address to serve on: host:port, :port (all addresses) or [v6]:port; port 0 "
                  "picks a free port.",
                  set_listen, SCOPE_ANY, NULL, 0},
    [S_TELEMETRY_PATH] = {"web.telemetry-path", FLAG_VALUE, "PATH", "/metrics", NULL,
                          "Path under which metrics are served.", set_telemetry_path, SCOPE_ANY,
                          NULL, 0},
    [S_ENDPOINT] = {"elb.endpoint", FLAG_VALUE, "URL", NULL, NULL,
                    "Base URL of the job API, e.g. https://elb.eu-de.otc.t-systems.com (required "
                    "unless --demo).",
                    set_url, SCOPE_ANY, NULL, 0},
    [S_ALLOW_INSECURE_HTTP] = {"elb.allow-insecure-http", FLAG_BOOL, NULL, NULL, NULL,
                               "Allow a plain http:// --elb.endpoint (or --auth.iam-endpoint) "
                               "whose host is not loopback: credentials then travel unencrypted "
                               "(a warning is logged at start). Loopback (127.0.0.0/8, ::1, "
                               "localhost) never needs it.",
                               set_bool, SCOPE_ANY, NULL, 0},
    [S_PROJECT_ID] = {"elb.project-id", FLAG_VALUE, "ID", NULL, "$OS_PROJECT_ID",
                      "Project ID in the API path, 1-64 of A-Za-z0-9_- (required unless --demo, "
                      "or password auth with a project name).",
                      set_project_id, SCOPE_ANY, NULL, 0},
    [S_PROFILE] = {"elb.profile", FLAG_VALUE, "NAME", "elb-v1", NULL,
                   "API profile; a job may name its own as PROFILE:ID.", set_profile, SCOPE_ANY,
                   NULL, 0},
    [S_CLOUD_REGION] = {"cloud.region", FLAG_VALUE, "REGION", NULL, NULL,
                        "Derive every profile's endpoint from a region: eu-de gives "
                        "https://ecs.eu-de.otc.t-systems.com for ecs-v1; Huawei regions "
                        "(ap-southeast-1, ...) give *.myhuaweicloud.com. --elb.endpoint wins for "
                        "--elb.profile's jobs.",
                        set_region, SCOPE_ANY, NULL, 0},
    [S_OS_CLOUD] = {"os-cloud", FLAG_VALUE, "NAME", NULL, "$OS_CLOUD",
                    "Take credentials and project from this cloud of clouds.yaml (+ secure.yaml) "
                    "in ./, ~/.config/openstack/ or /etc/openstack/.",
                    set_name, SCOPE_ANY, NULL, 0},
    [S_AUTH_METHOD] = {"auth.method", FLAG_VALUE, "METHOD", "auto", NULL,
                       "token, password or aksk; auto picks a token if there is one, else an "
                       "access key pair, else a password login.",
                       set_auth_method, SCOPE_ANY, NULL, 0},
    [S_IAM_ENDPOINT] = {"auth.iam-endpoint", FLAG_VALUE, "URL", NULL, "$OS_AUTH_URL",
                        "IAM base URL for password auth, e.g. "
                        "https://iam.eu-de.otc.t-systems.com/v3.",
                        set_url, SCOPE_ANY, NULL, 0},
    [S_USERNAME] = {"auth.username", FLAG_VALUE, "NAME", NULL, "$OS_USERNAME",
                    "IAM user for password auth.", set_name, SCOPE_ANY, NULL, 0},
    [S_USER_DOMAIN] = {"auth.user-domain-name", FLAG_VALUE, "NAME", NULL, "$OS_USER_DOMAIN_NAME",
                       "The user's domain (account) for password auth.", set_name, SCOPE_ANY, NULL,
                       0},
    [S_PROJECT_NAME] = {"auth.project-name", FLAG_VALUE, "NAME", NULL, "$OS_PROJECT_NAME",
                        "Scope a password login by project name (e.g. eu-de) instead of "
                        "--elb.project-id.",
                        set_name, SCOPE_ANY, NULL, 0},
    [S_TOKEN_FILE] = {"auth.token-file", FLAG_VALUE, "PATH", NULL, NULL,
                      "File holding the API token (instead of $OS_AUTH_TOKEN).",
                      cfg_set_secret_file, SCOPE_ANY, NULL, SECRET_TOKEN},
    [S_PASSWORD_FILE] = {"auth.password-file", FLAG_VALUE, "PATH", NULL, NULL,
                         "File holding the password (instead of $OS_PASSWORD).",
                         cfg_set_secret_file, SCOPE_ANY, NULL, SECRET_PASSWORD},
    [S_ACCESS_KEY_FILE] = {"auth.access-key-file", FLAG_VALUE, "PATH", NULL, NULL,
                           "File holding the access key (instead of $OS_ACCESS_KEY).",
                           cfg_set_secret_file, SCOPE_ANY, NULL, SECRET_ACCESS_KEY},
    [S_SECRET_KEY_FILE] = {"auth.secret-key-file", FLAG_VALUE, "PATH", NULL, NULL,
                           "File holding the secret key (instead of $OS_SECRET_KEY).",
                           cfg_set_secret_file, SCOPE_ANY, NULL, SECRET_SECRET_KEY},
    [S_TLS_CA_FILE] = {"tls.ca-file", FLAG_VALUE, "PATH", NULL, "system CAs",
                       "CA bundle (PEM) to verify the cloud API and IAM with.", set_path, SCOPE_ANY,
                       NULL, 0},
    [S_TLS_INSECURE] = {"tls.insecure-skip-verify", FLAG_BOOL, NULL, NULL, NULL,
                        "Do not verify the cloud API's TLS certificates (logs a warning).",
                        set_bool, SCOPE_ANY, NULL, 0},
    [S_JOB] = {"job", FLAG_VALUE, "ID", NULL, NULL,
               "Job ID (or PROFILE:ID) to track, 1-64 of A-Za-z0-9_-; repeatable, duplicates are "
               "ignored.",
               set_job, SCOPE_ANY, "jobs.ids", 0},
    [S_JOBS_FILE] = {"jobs.file", FLAG_VALUE, "PATH", NULL, NULL,
                     "Regular file with one job ID per line; '#' starts a comment.", set_path,
                     SCOPE_ANY, NULL, 0},
    [S_JOBS_RETENTION] = {"jobs.retention", FLAG_VALUE, "DURATION", "24h", NULL,
                          "How long a finished job keeps its per-job series after it ended, and "
                          "is remembered so that it is not polled or counted again when it "
                          "leaves a source and comes back; 0 keeps finished jobs for good.",
                          set_duration, SCOPE_ANY, NULL, 0},
    [S_POLL_INTERVAL] = {"poll.interval", FLAG_VALUE, "DURATION", "15s", NULL,
                         "How often unfinished jobs are polled (at least 100ms).", set_duration,
                         SCOPE_ANY, NULL, 0},
    [S_POLL_TIMEOUT] = {"poll.timeout", FLAG_VALUE, "DURATION", "10s", NULL,
                        "Timeout of one API request.", set_duration, SCOPE_ANY, NULL, 0},
    [S_POLL_CONCURRENCY] = {"poll.concurrency", FLAG_VALUE, "N", "8", NULL,
                            "API requests in flight (1-256).", set_count, SCOPE_ANY, NULL, 0},
    [S_ONCE] = {"once", FLAG_BOOL, NULL, NULL, NULL,
                "Poll every job once, print the metrics to stdout and exit.", set_bool, SCOPE_ANY,
                NULL, 0},
    [S_DEMO] = {"demo", FLAG_BOOL, NULL, NULL, NULL,
                "Poll a built-in simulated job API on loopback instead of the cloud.", set_bool,
                SCOPE_ANY, NULL, 0},
    [S_LOG_LEVEL] = {"log.level", FLAG_VALUE, "LEVEL", "info", NULL,
                     "Log threshold: debug, info, warn, error.", set_log_level, SCOPE_ANY, NULL, 0},
    [S_LOG_FORMAT] = {"log.format", FLAG_VALUE, "FORMAT", "logfmt", NULL,
                      "Log line format: logfmt, json.", set_log_format, SCOPE_ANY, NULL, 0},
    [S_WEB_CONFIG_FILE] = {"web.config.file", FLAG_VALUE, "PATH", NULL, NULL,
                           "Web configuration (exporter-toolkit format): TLS, basic auth, "
                           "response headers. Re-read when it changes.",
                           set_path, SCOPE_ANY, "web.config_file", 0},
    [S_WEB_ADMIN_API] = {"web.enable-admin-api", FLAG_BOOL, NULL, NULL, NULL,
                         "Allow registering and forgetting jobs: POST and DELETE /api/v1/jobs.",
                         set_bool, SCOPE_ANY, NULL, 0},
    [S_WEB_LIFECYCLE] = {"web.enable-lifecycle", FLAG_BOOL, NULL, NULL, NULL,
                         "Allow POST /-/reload (does what SIGHUP does).", set_bool, SCOPE_ANY, NULL,
                         0},
    [S_WEB_MAX_REQUESTS] = {"web.max-requests", FLAG_VALUE, "N", "40", NULL,
                            "Requests served at once (1-512); more are answered 503.", set_count,
                            SCOPE_ANY, NULL, 0},
    [S_SPARSE_STATUS] = {"metrics.sparse-status", FLAG_BOOL, NULL, NULL, NULL,
                         "Emit only each job's current status series (very large fleets).",
                         set_bool, SCOPE_ANY, NULL, 0},
    [S_STORAGE_PATH] = {"storage.path", FLAG_VALUE, "PATH", NULL, NULL,
                        "Directory of the embedded store: registered jobs and finished-job "
                        "state, kept across restarts.",
                        set_path, SCOPE_ANY, NULL, 0},
    [S_JOBS_MAX] = {"jobs.max", FLAG_VALUE, "N", "100000", NULL,
                    "Tracked jobs at most, all sources together (1-1000000); a registration "
                    "past it is refused.",
                    set_count, SCOPE_ANY, NULL, 0},
};

void cfg_flag_key(const struct flag *f, char *buf, size_t len)
{
    size_t i;

    if (len == 0)
        return;
    buf[0] = '\0';
    if (f->scope == SCOPE_ARGV_ONLY && f->type == FLAG_ACTION)
        return;
    snprintf(buf, len, "%s", f->key ? f->key : f->name);
    for (i = 0; buf[i]; i++)
        if (buf[i] == '-')
            buf[i] = '_';
}

int cfg_flag_set(struct parse *p, enum setting s, const char *who, const char *val)
{
    p->who = who;
    return config_flags[s].set(p, &config_flags[s], val);
}

int cfg_flags_defaults(struct parse *p)
{
    char who[CONFIG_WHO_MAX];
    size_t k;
    int rc = CONFIG_OK;

    p->layer = LAYER_DEFAULT;
    for (k = 0; k < S_COUNT && rc == CONFIG_OK; k++) {
        if (!config_flags[k].def)
            continue;
        snprintf(who, sizeof(who), "--%s", config_flags[k].name);
        rc = cfg_flag_set(p, (enum setting)k, who, config_flags[k].def);
    }
    return rc;
}

/* The flag named name[0..n), or NULL. Sets *negated for "no-<bool>". */
static const struct flag *find_flag(const char *name, size_t n, int *negated)
{
    size_t i;

    *negated = 0;
    for (i = 0; i < S_COUNT; i++)
        if (strlen(config_flags[i].name) == n && memcmp(config_flags[i].name, name, n) == 0)
            return &config_flags[i];
    if (n > 3 && memcmp(name, "no-", 3) == 0) {
        for (i = 0; i < S_COUNT; i++) {
            if (config_flags[i].type == FLAG_BOOL && strlen(config_flags[i].name) == n - 3 &&
                memcmp(config_flags[i].name, name + 3, n - 3) == 0) {
                *negated = 1;
                return &config_flags[i];
            }
        }
    }
    return NULL;
}

/* Does name[0..n) contain word (ASCII case-insensitively)? */
static int contains_word(const char *name, size_t n, const char *word)
{
    size_t wl = strlen(word), i;

    for (i = 0; i + wl <= n; i++)
        if (strncasecmp(name + i, word, wl) == 0)
            return 1;
    return 0;
}

/* Error for an unknown flag name[0..n) (without "--"); its value is never echoed. */
static int unknown_flag(struct parse *p, const char *name, size_t n)
{
    char sb[CONFIG_SHOW_BUF];
    size_t i;

    for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
        if (contains_word(name, n, secret_words[i]))
            return cfg_problem_line(p,
                                    "--%s: secrets are not accepted as flags (they are visible in "
                                    "ps); use the environment (OS_AUTH_TOKEN, OS_PASSWORD, "
                                    "OS_SECRET_KEY) or a file (--auth.token-file, "
                                    "--auth.password-file, --auth.secret-key-file)",
                                    cfg_show(sb, name, n));
    }
    for (i = 0; i < sizeof(unsupported_flags) / sizeof(unsupported_flags[0]); i++) {
        const char *u = unsupported_flags[i];

        if ((strlen(u) == n && memcmp(u, name, n) == 0) ||
            (n > 3 && memcmp(name, "no-", 3) == 0 && strlen(u) == n - 3 &&
             memcmp(u, name + 3, n - 3) == 0))
            return cfg_problem_line(p, "--%s: not supported by this version", u);
    }
    return cfg_problem_line(p, "unknown flag \"--%s\" (see --help)", cfg_show(sb, name, n));
}

int cfg_parse_bool(const char *v)
{
    static const char *const yes[] = {"true", "TRUE", "True", "1", "t", "T"};
    static const char *const no[] = {"false", "FALSE", "False", "0", "f", "F"};
    size_t i;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(v, yes[i]) == 0)
            return 1;
        if (strcmp(v, no[i]) == 0)
            return 0;
    }
    return -1;
}

/*
 * Handle argv[*i]; may consume argv[*i + 1]. Returns CONFIG_OK, CONFIG_EXIT or
 * CONFIG_ERROR (problem recorded).
 */
static int parse_arg(struct parse *p, int argc, char **argv, int *i)
{
    char sb[CONFIG_SHOW_BUF], who[CONFIG_WHO_MAX];
    const char *a = argv[*i], *name, *eq, *val;
    const struct flag *f;
    size_t n;
    int negated, b;

    if (strcmp(a, "-h") == 0)
        return do_help(p, &config_flags[S_HELP], NULL);
    if (a[0] != '-' || strcmp(a, "-") == 0 || strcmp(a, "--") == 0)
        return cfg_problem_line(p, "unexpected argument \"%s\" (flags start with --)",
                                cfg_show(sb, a, strlen(a)));
    if (a[1] != '-')
        return cfg_problem_line(p, "unknown flag \"%s\" (see --help)",
                                cfg_show(sb, a, strcspn(a, "=")));
    name = a + 2;
    eq = strchr(name, '=');
    n = eq ? (size_t)(eq - name) : strlen(name);
    f = find_flag(name, n, &negated);
    if (!f)
        return unknown_flag(p, name, n);
    snprintf(who, sizeof(who), "--%s", f->name);
    p->who = who;
    switch (f->type) {
    case FLAG_ACTION:
        if (eq)
            return cfg_problem(p, "does not take a value");
        return f->set(p, f, NULL);
    case FLAG_BOOL:
        if (negated && eq)
            return cfg_problem_line(p, "--no-%s: does not take a value", f->name);
        b = negated ? 0 : eq ? cfg_parse_bool(eq + 1) : 1;
        if (b < 0)
            return cfg_problem(p, "invalid boolean \"%s\" (true or false)",
                               cfg_show(sb, eq + 1, strlen(eq + 1)));
        return f->set(p, f, b ? "1" : "0");
    case FLAG_VALUE:
    default:
        if (eq) {
            val = eq + 1;
        } else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
            val = argv[++*i];
        } else {
            return cfg_problem(p, "missing value");
        }
        return f->set(p, f, val);
    }
}

int cfg_flags_argv(struct parse *p, int argc, char **argv)
{
    int i, rc = CONFIG_OK;

    p->layer = LAYER_FLAG;
    for (i = 1; i < argc && rc == CONFIG_OK; i++)
        rc = parse_arg(p, argc, argv, &i);
    return rc;
}

/* Print text word-wrapped to CONFIG_USAGE_WIDTH columns, each line indented by indent spaces. */
static void print_wrapped(FILE *out, const char *text, int indent)
{
    const char *w = text;
    int col = 0;

    while (*w) {
        size_t wl = strcspn(w, " ");

        if (col > indent && col + 1 + (int)wl > CONFIG_USAGE_WIDTH) {
            fputc('\n', out);
            col = 0;
        }
        if (col == 0)
            col = fprintf(out, "%*s", indent, "");
        else
            col += fprintf(out, " ");
        col += (int)fwrite(w, 1, wl, out);
        w += wl;
        while (*w == ' ')
            w++;
    }
    fputc('\n', out);
}

void config_usage(FILE *out)
{
    char known[CONFIG_SHOW_BUF], text[CONFIG_USAGE_TEXT_MAX];
    size_t i;

    if (!out)
        out = stdout;
    fputs("usage: elb_job_exporter [flags]\n"
          "\n"
          "Prometheus exporter for Open Telekom Cloud / Huawei Cloud asynchronous jobs.\n"
          "\n"
          "Flags:\n",
          out);
    for (i = 0; i < S_COUNT; i++) {
        const struct flag *f = &config_flags[i];
        const char *def = f->def ? f->def : f->def_text;

        if (f->type == FLAG_BOOL)
            fprintf(out, "  --[no-]%s\n", f->name);
        else if (f->type == FLAG_ACTION)
            fprintf(out, "  --%s\n", f->name);
        else
            fprintf(out, "  --%s=%s\n", f->name, f->metavar);
        known[0] = '\0';
        if (f->set == set_profile)
            cfg_known_profiles(known, sizeof(known));
        /* a help text past CONFIG_USAGE_TEXT_MAX is cut (a Debug build's gcc insists on a look) */
        if (snprintf(text, sizeof(text), "%s%s%s%s%s%s%s", f->help, known[0] ? " Known: " : "",
                     known, known[0] ? "." : "", def ? " (default: " : "", def ? def : "",
                     def ? ")" : "") >= (int)sizeof(text))
            text[sizeof(text) - 1] = '\0';
        print_wrapped(out, text, 6);
    }
    fputs("\n"
          "Environment (below flags, above --config.file):\n"
          "  OS_AUTH_TOKEN   API token, sent as X-Auth-Token\n"
          "  OS_PASSWORD     password for --auth.method=password\n"
          "  OS_ACCESS_KEY, OS_SECRET_KEY  access key pair for --auth.method=aksk\n"
          "  OS_AUTH_URL, OS_USERNAME, OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME),\n"
          "  OS_PROJECT_ID, OS_PROJECT_NAME, OS_CLOUD   as the flags above say\n"
          "Secrets are never read from flags, which are visible in ps: only from the\n"
          "environment, the *-file flags or *_file keys, or clouds.yaml/secure.yaml.\n"
          "\n"
          "Values: --flag=value or --flag value; a flag given twice keeps the last value\n"
          "(--job adds up). Booleans: --flag, --no-flag or --flag=true|false.\n"
          "Precedence: flag > environment > --config.file > clouds.yaml > default.\n",
          out);
}
