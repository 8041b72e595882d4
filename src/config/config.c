/*
 * config: the life cycle of a struct config (see config.h): the order in
 * which config_parse applies the layers, the checks that need every layer
 * merged (what is required, which auth method, TLS files), the problem list
 * and its error text, release, and reloading (config_reload_file,
 * config_changes). The layers themselves live beside it: flags.c, credentials.c
 * (environment, clouds.yaml, secrets), config_file.c (--config.file) and
 * jobs_file.c.
 *
 * DESIGN. config_parse applies: the defaults; argv (a bad flag stops at once,
 * --help/--version act where they appear); the environment; --config.file;
 * clouds.yaml of --os-cloud; then, with every layer merged, the jobs file,
 * the secrets (read from the winning *_file or taken inline), and the
 * requirements. Precedence does not depend on that order: each setting keeps
 * the layer that set it and a lower layer never overwrites a higher one
 * (config_private.h). A value from the environment is not even looked at when
 * a flag set the same setting, so a stale variable cannot break a command line
 * that overrides it. A broken config file lists every problem it has; under
 * --config.check every problem of every layer is listed.
 *
 * Error messages quote user values escaped (\xNN, \", \\) and cut to
 * CONFIG_SHOW_MAX bytes, so a hostile value cannot forge log lines; secret
 * values are never quoted. Runs before any thread starts (and on reload in
 * main's thread); it does not log (main prints the problems and warnings).
 */
#include "config_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret.h"
#include "websec.h"

const char *cfg_show(char buf[CONFIG_SHOW_BUF], const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0, lim = n > CONFIG_SHOW_MAX ? CONFIG_SHOW_MAX : n;

    for (i = 0; i < lim; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch >= 0x20 && ch < 0x7f) {
            buf[o++] = (char)ch;
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[ch >> 4];
            buf[o++] = hex[ch & 0xf];
        }
    }
    if (n > lim) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

void cfg_set_err(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    if (!err || errsz == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* Keep one formatted line in p's problem list (counted past CONFIG_PROBLEMS_MAX). */
static int add_problem(struct parse *p, const char *line)
{
    char **np, *d;

    if (p->n_problems >= CONFIG_PROBLEMS_MAX) {
        p->dropped++;
        return CONFIG_ERROR;
    }
    d = strdup(line);
    np = d ? realloc(p->problems, (p->n_problems + 1) * sizeof(*np)) : NULL;
    if (!np) {
        free(d);
        p->nomem = 1;
        p->dropped++;
        return CONFIG_ERROR;
    }
    p->problems = np;
    p->problems[p->n_problems++] = d;
    return CONFIG_ERROR;
}

int cfg_problem(struct parse *p, const char *fmt, ...)
{
    char line[CONFIG_LINE_MAX];
    va_list ap;
    int n;

    n = snprintf(line, sizeof(line), "%s: ", p->who ? p->who : "config");
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    return add_problem(p, line);
}

int cfg_problem_line(struct parse *p, const char *fmt, ...)
{
    char line[CONFIG_LINE_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    return add_problem(p, line);
}

int cfg_problem_oom(struct parse *p)
{
    p->nomem = 1;
    return cfg_problem(p, "out of memory");
}

int config_warn(struct config_private *v, const char *fmt, ...)
{
    char line[CONFIG_LINE_MAX], **nw, *d;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    d = strdup(line);
    nw = d ? realloc(v->warnings, (v->n_warnings + 1) * sizeof(*nw)) : NULL;
    if (!nw) {
        free(d);
        return -ENOMEM;
    }
    v->warnings = nw;
    v->warnings[v->n_warnings++] = d;
    return 0;
}

int cfg_claim(struct parse *p, enum setting s)
{
    if (!p->v)
        return 1;
    if ((unsigned)p->layer < p->v->rank[s])
        return 0;
    p->v->rank[s] = (unsigned char)p->layer;
    p->v->env_name[s] = p->layer == LAYER_ENV ? p->env_name : NULL;
    return 1;
}

int cfg_replace_str(char **slot, const char *s, size_t n)
{
    char *d = strndup(s, n);

    if (!d)
        return -ENOMEM;
    free(*slot);
    *slot = d;
    return 0;
}

const char *cfg_errno_text(int err, char buf[CONFIG_ERRNO_TEXT])
{
    if (strerror_r(err, buf, CONFIG_ERRNO_TEXT) != 0)
        snprintf(buf, CONFIG_ERRNO_TEXT, "error %d", err);
    return buf;
}

static int is_alnum(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

int cfg_project_id_valid(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > CONFIG_PROJECT_ID_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

const char *cfg_setting_origin(const struct config *c, enum setting s, char *buf, size_t len)
{
    char key[CONFIG_KEY_MAX], sb[CONFIG_SHOW_BUF];
    const struct config_private *v = c->priv;

    if (!v) {
        snprintf(buf, len, "set");
        return buf;
    }
    switch (v->rank[s]) {
    case LAYER_FLAG:
        snprintf(buf, len, "--%s", config_flags[s].name);
        break;
    case LAYER_ENV:
        snprintf(buf, len, "%s", v->env_name[s] ? v->env_name[s] : "environment");
        break;
    case LAYER_FILE:
        cfg_flag_key(&config_flags[s], key, sizeof(key));
        snprintf(buf, len, "%s in %s", key,
                 c->config_file ? cfg_show(sb, c->config_file, strlen(c->config_file)) : "-");
        break;
    case LAYER_CLOUDS:
        snprintf(buf, len, "cloud \"%s\" in %s",
                 c->os_cloud ? cfg_show(sb, c->os_cloud, strlen(c->os_cloud)) : "",
                 v->secure_path && !v->clouds_path ? "secure.yaml" : "clouds.yaml");
        break;
    case LAYER_DEFAULT:
        snprintf(buf, len, "default");
        break;
    default:
        snprintf(buf, len, "unset");
        break;
    }
    return buf;
}

/* getenv with the const signature config_parse takes. */
static const char *default_getenv(const char *name)
{
    return getenv(name);
}

/* Keep a copy of the command line for config_reload_file. 0 or -ENOMEM. */
static int keep_argv(struct config_private *v, int argc, char **argv)
{
    int i;

    v->argv = calloc((size_t)(argc > 0 ? argc : 0) + 1, sizeof(*v->argv));
    if (!v->argv)
        return -ENOMEM;
    for (i = 0; i < argc; i++) {
        v->argv[i] = strdup(argv[i] ? argv[i] : "");
        if (!v->argv[i])
            return -ENOMEM;
        v->argc = i + 1;
    }
    return 0;
}

/* Should config_parse stop after the current step? (not under --config.check) */
static int stop(const struct parse *p)
{
    return p->n_problems > 0 && (!p->check || p->nomem);
}

/* Is a --tls.ca-file readable: a regular file we may open? */
static void check_ca_file(struct parse *p)
{
    char sb[CONFIG_SHOW_BUF], eb[CONFIG_ERRNO_TEXT], who[CONFIG_ORIGIN_MAX];
    const char *path = p->c->tls_ca_file;
    struct stat st;
    int fd;

    if (!path)
        return;
    p->who = cfg_setting_origin(p->c, S_TLS_CA_FILE, who, sizeof(who));
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        cfg_problem(p, "cannot read \"%s\": %s", cfg_show(sb, path, strlen(path)),
                    cfg_errno_text(errno, eb));
        return;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        cfg_problem(p, "\"%s\" is not a regular file", cfg_show(sb, path, strlen(path)));
    close(fd);
}

/*
 * Is --web.config.file usable: does it parse, are the certificates, key and
 * CA it names readable and right, are its users' hashes bcrypt? One problem
 * per line of what websec says.
 */
static void check_web_config(struct parse *p)
{
    char who[CONFIG_ORIGIN_MAX], why[WEBSEC_ERR_MAX];
    const char *line, *nl;

    if (!p->c->web_config_file || websec_validate(p->c->web_config_file, why, sizeof(why)) == 0)
        return;
    p->who = cfg_setting_origin(p->c, S_WEB_CONFIG_FILE, who, sizeof(who));
    for (line = why; line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        cfg_problem(p, "%.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
    }
}

/*
 * The checks that need every layer merged. With secrets_ok 0 (a secret could
 * not be read, already reported) the auth method is not judged again.
 */
static void validate(struct parse *p, int secrets_ok)
{
    struct config *c = p->c;

    check_ca_file(p);
    check_web_config(p);
    if (stop(p) || c->demo)
        return;
    p->who = NULL;
    if (!c->endpoint && c->cloud_region) {
        char url[256]; /* "https://<service>.<region>.<domain>" */
        if (profile_endpoint_for_region(c->profile, c->cloud_region, url, sizeof(url)) != 0 ||
            cfg_replace_str(&c->endpoint, url, strlen(url)) < 0)
            cfg_problem_line(p, "--cloud.region: cannot derive an endpoint for %s",
                             c->profile->name);
    }
    if (!c->endpoint) {
        cfg_problem_line(p, "--elb.endpoint or --cloud.region is required (or use --demo)");
    } else if (!c->allow_insecure_http && config_endpoint_insecure(c)) {
        cfg_problem_line(p,
                         "--elb.endpoint: plain http:// to a host that is not loopback would send "
                         "the token unencrypted; use https://, or set --elb.allow-insecure-http to "
                         "allow it");
    }
    if (!stop(p) && secrets_ok)
        credentials_validate(p);
}

/*
 * Join p's problems into err, one per line: the first always (cut to fit),
 * each later one only whole, then a count of those left out.
 */
void cfg_problems_format(const struct parse *p, char *err, size_t errsz)
{
    char tail[64];
    size_t i, used, n, more;

    if (!err || errsz == 0 || p->n_problems == 0) {
        if (err && errsz && p->nomem)
            cfg_set_err(err, errsz, "out of memory");
        return;
    }
    cfg_set_err(err, errsz, "%s", p->problems[0]);
    used = strlen(err);
    for (i = 1; i < p->n_problems; i++) {
        n = strlen(p->problems[i]);
        more = p->n_problems - i - 1 + p->dropped;
        /* keep room for the count line unless this is the last line */
        if (used + 1 + n + (more ? sizeof(tail) : 0) >= errsz)
            break;
        err[used++] = '\n';
        memcpy(err + used, p->problems[i], n + 1);
        used += n;
    }
    more = p->n_problems - i + p->dropped;
    if (more) {
        snprintf(tail, sizeof(tail), "\n(%zu more problem%s not shown)", more,
                 more == 1 ? "" : "s");
        if (used + strlen(tail) < errsz)
            memcpy(err + used, tail, strlen(tail) + 1);
    }
}

void cfg_problems_free(struct parse *p)
{
    size_t i;

    for (i = 0; i < p->n_problems; i++)
        free(p->problems[i]);
    free(p->problems);
    p->problems = NULL;
    p->n_problems = 0;
}

/* What a passed --config.check prints: the warnings, the auth method, "config OK". */
static void print_check(const struct config *c, FILE *out)
{
    enum config_auth_method m;
    char why[CONFIG_LINE_MAX];
    const char *w;
    size_t i;

    for (i = 0; (w = config_warning(c, i)) != NULL; i++)
        fprintf(out, "warning: %s\n", w);
    if (!c->demo && config_auth_choose(c, &m, why, sizeof(why)) == 0)
        fprintf(out, "auth method %s: %s\n", config_auth_method_name(m), why);
    fprintf(out, "config OK\n");
}

int config_parse(struct config *c, int argc, char **argv, const char *(*getenv_fn)(const char *),
                 FILE *out, char *err, size_t errsz)
{
    struct parse p;
    size_t before;
    int rc;

    memset(c, 0, sizeof(*c));
    memset(&p, 0, sizeof(p));
    cfg_set_err(err, errsz, "%s", "");
    p.c = c;
    p.out = out ? out : stdout;
    p.getenv_fn = getenv_fn ? getenv_fn : default_getenv;
    c->profile = profile_default();
    c->log_level = LOGL_INFO;
    c->log_format = LOGF_LOGFMT;
    c->priv = p.v = calloc(1, sizeof(*p.v));
    if (!p.v || keep_argv(p.v, argc, argv) < 0) {
        config_release(c);
        cfg_set_err(err, errsz, "out of memory");
        return CONFIG_ERROR;
    }
    p.v->getenv_fn = p.getenv_fn;

    rc = cfg_flags_defaults(&p);
    if (rc == CONFIG_OK)
        rc = cfg_flags_argv(&p, argc, argv);
    if (rc != CONFIG_OK)
        goto done; /* a bad command line stops at once, --config.check or not */
    p.check = c->config_check;
    c->n_flag_jobs = c->n_jobs;
    credentials_apply_env(&p);
    if (!stop(&p) && c->config_file)
        config_file_load(&p, c->config_file);
    c->n_config_jobs = c->n_jobs - c->n_flag_jobs;
    if (!stop(&p))
        credentials_apply_clouds(&p);
    if (!stop(&p) && c->jobs_file)
        cfg_jobs_file_load(&p);
    before = p.n_problems;
    if (!stop(&p))
        credentials_resolve(&p);
    if (!stop(&p))
        validate(&p, p.n_problems == before);
    if (!stop(&p) && c->tls_insecure_skip_verify &&
        config_warn(p.v, "--tls.insecure-skip-verify: the cloud API's TLS certificates are not "
                         "verified; anyone on the network path can read the credentials") < 0)
        cfg_problem_line(&p, "out of memory");
    rc = p.n_problems || p.nomem ? (p.check ? CONFIG_CHECK_FAILED : CONFIG_ERROR) : CONFIG_OK;
done:
    if (rc == CONFIG_ERROR || rc == CONFIG_CHECK_FAILED)
        cfg_problems_format(&p, err, errsz);
    cfg_problems_free(&p);
    if (rc == CONFIG_OK && c->config_check) {
        print_check(c, p.out);
        rc = CONFIG_EXIT;
    }
    if (rc != CONFIG_OK)
        config_release(c);
    return rc;
}

static void free_list(char **l, size_t n)
{
    size_t i;

    for (i = 0; l && i < n; i++)
        free(l[i]);
    free(l);
}

static void release_private(struct config_private *v)
{
    size_t i;

    if (!v)
        return;
    free_list(v->argv, (size_t)v->argc);
    for (i = 0; i < SECRET_COUNT; i++) {
        free(v->secret[i].path);
        free(v->secret[i].from);
        secret_free(v->secret[i].value);
    }
    free(v->clouds_path);
    free(v->secure_path);
    free_list(v->warnings, v->n_warnings);
    free(v);
}

void config_release(struct config *c)
{
    if (!c)
        return;
    free_list(c->jobs, c->n_jobs);
    secret_free(c->auth_token);
    secret_free(c->password);
    secret_free(c->access_key);
    secret_free(c->secret_key);
    free(c->listen_address);
    free(c->listen_host);
    free(c->telemetry_path);
    free(c->endpoint);
    free(c->project_id);
    free(c->jobs_file);
    free(c->config_file);
    free(c->os_cloud);
    free(c->iam_endpoint);
    free(c->username);
    free(c->user_domain_name);
    free(c->project_name);
    free(c->cloud_region);
    free(c->tls_ca_file);
    free(c->web_config_file);
    free(c->storage_path);
    release_private(c->priv);
    memset(c, 0, sizeof(*c));
}

const char *config_warning(const struct config *c, size_t i)
{
    if (!c || !c->priv || i >= c->priv->n_warnings)
        return NULL;
    return c->priv->warnings[i];
}

/* ---- reloading ---------------------------------------------------------- */

int config_reload_file(const struct config *running, struct config *fresh, char *err, size_t errsz)
{
    const struct config_private *v = running ? running->priv : NULL;

    if (!v || !v->argv) {
        memset(fresh, 0, sizeof(*fresh));
        cfg_set_err(err, errsz, "not reloadable: this configuration was not built by config_parse");
        return CONFIG_ERROR;
    }
    return config_parse(fresh, v->argc, v->argv, v->getenv_fn, stdout, err, errsz);
}

static int str_differs(const char *a, const char *b)
{
    if (!a || !b)
        return a != b;
    return strcmp(a, b) != 0;
}

/* Do the jobs.ids of a and b differ (in content or order)? */
static int config_jobs_differ(const struct config *a, const struct config *b)
{
    size_t i;

    if (a->n_config_jobs != b->n_config_jobs)
        return 1;
    for (i = 0; i < a->n_config_jobs; i++)
        if (strcmp(a->jobs[a->n_flag_jobs + i], b->jobs[b->n_flag_jobs + i]) != 0)
            return 1;
    return 0;
}

static const char *secret_path(const struct config *c, enum secret_slot s)
{
    return c->priv ? c->priv->secret[s].path : NULL;
}

/* Does setting s differ between a and b? -1: not compared. */
static int setting_differs(const struct config *a, const struct config *b, enum setting s)
{
    int demo = a->demo && b->demo;

    switch (s) {
    case S_LISTEN:
        return str_differs(a->listen_address, b->listen_address);
    case S_TELEMETRY_PATH:
        return str_differs(a->telemetry_path, b->telemetry_path);
    case S_ENDPOINT:
        return demo ? -1 : str_differs(a->endpoint, b->endpoint);
    case S_ALLOW_INSECURE_HTTP:
        return a->allow_insecure_http != b->allow_insecure_http;
    case S_PROJECT_ID:
        return demo ? -1 : str_differs(a->project_id, b->project_id);
    case S_PROFILE:
        return a->profile != b->profile;
    case S_OS_CLOUD:
        return str_differs(a->os_cloud, b->os_cloud);
    case S_AUTH_METHOD:
        return a->auth_method != b->auth_method;
    case S_IAM_ENDPOINT:
        return str_differs(a->iam_endpoint, b->iam_endpoint);
    case S_USERNAME:
        return str_differs(a->username, b->username);
    case S_USER_DOMAIN:
        return str_differs(a->user_domain_name, b->user_domain_name);
    case S_PROJECT_NAME:
        return str_differs(a->project_name, b->project_name);
    case S_CLOUD_REGION:
        return str_differs(a->cloud_region, b->cloud_region);
    case S_TOKEN_FILE:
    case S_PASSWORD_FILE:
    case S_ACCESS_KEY_FILE:
    case S_SECRET_KEY_FILE:
        return str_differs(secret_path(a, (enum secret_slot)config_flags[s].arg),
                           secret_path(b, (enum secret_slot)config_flags[s].arg));
    case S_TLS_CA_FILE:
        return str_differs(a->tls_ca_file, b->tls_ca_file);
    case S_TLS_INSECURE:
        return a->tls_insecure_skip_verify != b->tls_insecure_skip_verify;
    case S_JOB:
        return config_jobs_differ(a, b);
    case S_JOBS_FILE:
        return demo ? -1 : str_differs(a->jobs_file, b->jobs_file);
    case S_JOBS_RETENTION:
        return a->jobs_retention_ms != b->jobs_retention_ms;
    case S_POLL_INTERVAL:
        return a->poll_interval_ms != b->poll_interval_ms;
    case S_POLL_TIMEOUT:
        return a->poll_timeout_ms != b->poll_timeout_ms;
    case S_POLL_CONCURRENCY:
        return a->poll_concurrency != b->poll_concurrency;
    case S_ONCE:
        return a->once != b->once;
    case S_DEMO:
        return a->demo != b->demo;
    case S_LOG_LEVEL:
        return a->log_level != b->log_level;
    case S_LOG_FORMAT:
        return a->log_format != b->log_format;
    case S_WEB_CONFIG_FILE:
        return str_differs(a->web_config_file, b->web_config_file);
    case S_WEB_ADMIN_API:
        return a->web_enable_admin_api != b->web_enable_admin_api;
    case S_WEB_LIFECYCLE:
        return a->web_enable_lifecycle != b->web_enable_lifecycle;
    case S_WEB_MAX_REQUESTS:
        return a->web_max_requests != b->web_max_requests;
    case S_SPARSE_STATUS:
        return a->metrics_sparse_status != b->metrics_sparse_status;
    case S_STORAGE_PATH:
        return str_differs(a->storage_path, b->storage_path);
    case S_JOBS_MAX:
        return a->jobs_max != b->jobs_max;
    default: /* argv only: the same command line */
        return -1;
    }
}

/* The config file keys of the settings, for config_changes (cfg_flag_key's spelling). */
static const char *const change_keys[S_COUNT] = {
    [S_LISTEN] = "web.listen_address",
    [S_TELEMETRY_PATH] = "web.telemetry_path",
    [S_ENDPOINT] = "elb.endpoint",
    [S_ALLOW_INSECURE_HTTP] = "elb.allow_insecure_http",
    [S_PROJECT_ID] = "elb.project_id",
    [S_PROFILE] = "elb.profile",
    [S_OS_CLOUD] = "os_cloud",
    [S_AUTH_METHOD] = "auth.method",
    [S_IAM_ENDPOINT] = "auth.iam_endpoint",
    [S_USERNAME] = "auth.username",
    [S_USER_DOMAIN] = "auth.user_domain_name",
    [S_PROJECT_NAME] = "auth.project_name",
    [S_CLOUD_REGION] = "cloud.region",
    [S_TOKEN_FILE] = "auth.token_file",
    [S_PASSWORD_FILE] = "auth.password_file",
    [S_ACCESS_KEY_FILE] = "auth.access_key_file",
    [S_SECRET_KEY_FILE] = "auth.secret_key_file",
    [S_TLS_CA_FILE] = "tls.ca_file",
    [S_TLS_INSECURE] = "tls.insecure_skip_verify",
    [S_JOB] = "jobs.ids",
    [S_JOBS_FILE] = "jobs.file",
    [S_JOBS_RETENTION] = "jobs.retention",
    [S_POLL_INTERVAL] = "poll.interval",
    [S_POLL_TIMEOUT] = "poll.timeout",
    [S_POLL_CONCURRENCY] = "poll.concurrency",
    [S_ONCE] = "once",
    [S_DEMO] = "demo",
    [S_LOG_LEVEL] = "log.level",
    [S_LOG_FORMAT] = "log.format",
    [S_WEB_CONFIG_FILE] = "web.config_file",
    [S_WEB_ADMIN_API] = "web.enable_admin_api",
    [S_WEB_LIFECYCLE] = "web.enable_lifecycle",
    [S_WEB_MAX_REQUESTS] = "web.max_requests",
    [S_SPARSE_STATUS] = "metrics.sparse_status",
    [S_STORAGE_PATH] = "storage.path",
    [S_JOBS_MAX] = "jobs.max",
};

size_t config_changes(const struct config *old, const struct config *fresh,
                      struct config_change *out, size_t cap)
{
    size_t k, n = 0;

    for (k = 0; k < S_COUNT; k++) {
        if (!change_keys[k] || setting_differs(old, fresh, (enum setting)k) != 1)
            continue;
        if (n < cap) {
            out[n].key = change_keys[k];
            out[n].restart = !(k == S_LOG_LEVEL || k == S_LOG_FORMAT || k == S_JOB);
        }
        n++;
    }
    return n;
}
