/*
 * config: command line + environment -> a validated struct config (see config.h).
 *
 * DESIGN. One table (flags[]) drives parsing, the defaults and --help, so the
 * usage text cannot drift from what is accepted: every default shown by --help
 * is applied by running it through the same setter as a user's value.
 *
 * Syntax, Prometheus/kingpin style: `--flag=value` and `--flag value` (a value
 * in the second form may not start with "--": write `--flag=--x` for that);
 * booleans as `--once`, `--no-once`, `--once=true|false` (a boolean never takes
 * the next argument); `-h` is `--help`. A single-value flag given twice: the
 * last one wins (each occurrence is still validated). --help and --version act
 * where they appear: an error in an earlier argument is reported instead.
 * Positional arguments are refused.
 *
 * Precedence: flag > environment > default. OS_AUTH_TOKEN is the only source of
 * the token: a flag that looks like a secret is refused without echoing it.
 * Error messages quote user values escaped (\xNN, \", \\) and cut to
 * CONFIG_SHOW_MAX bytes, so a hostile value cannot forge log lines.
 *
 * Runs before any thread starts; it does not log (main prints the error line).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "job.h"
#include "secret.h"
#include "timeutil.h"

#define CONFIG_SHOW_MAX 256 /* bytes of a user value quoted in an error (paths fit whole) */
#define CONFIG_SHOW_BUF (CONFIG_SHOW_MAX * 4 + 8) /* escaped: \xNN per byte, "...", NUL */
#define CONFIG_HOST_MAX 253                       /* bytes of a DNS name */
#define CONFIG_LABEL_MAX 63                       /* bytes of one DNS label */
#define CONFIG_URL_MAX 2048                       /* bytes of --elb.endpoint */
#define CONFIG_TELEMETRY_PATH_MAX 256             /* bytes of --web.telemetry-path */
#define CONFIG_PROJECT_ID_MAX 64                  /* [A-Za-z0-9_-]{1,64} */
#define CONFIG_POLL_INTERVAL_MIN_MS 100           /* faster polling only hurts the API */
#define CONFIG_DURATION_MAX_MS                                                                     \
    (365ull * 24 * 3600 * 1000) /* keeps deadline sums far from overflow */
#define CONFIG_CONCURRENCY_MAX 256
#define CONFIG_DURATION_TEXT 32   /* duration_format output */
#define CONFIG_ERRNO_TEXT 128     /* strerror_r output */
#define CONFIG_READ_CHUNK 65536   /* growth step reading --jobs.file */
#define CONFIG_JOBS_INITIAL 8     /* first allocation of c->jobs */
#define CONFIG_USAGE_WIDTH 80     /* columns of the --help text */
#define CONFIG_USAGE_TEXT_MAX 512 /* bytes of one flag's help paragraph */

#define JOB_ID_RULE "(1-64 of A-Za-z0-9_-)"
#define LISTEN_RULE "(use host:port, :port or [v6]:port)"

struct parse {
    struct config *c;
    FILE *out;
    char *err;
    size_t errsz;
    const char *(*getenv_fn)(const char *);
    int project_set; /* --elb.project-id was given */
};

struct flag;
/* Apply one value of flag f to p->c. Returns CONFIG_OK, CONFIG_EXIT, or CONFIG_ERROR (err set). */
typedef int (*flag_setter)(struct parse *p, const struct flag *f, const char *val);

enum flag_type {
    FLAG_VALUE, /* --name=VALUE or --name VALUE */
    FLAG_BOOL,  /* --name, --no-name, --name=true|false */
    FLAG_ACTION /* --help, --version: no value */
};

struct flag {
    const char *name; /* without the leading "--" */
    enum flag_type type;
    const char *metavar;
    const char *def;      /* default applied before parsing and shown by --help, or NULL */
    const char *def_text; /* what --help shows when the default is not a literal, or NULL */
    const char *help;
    flag_setter set;
};

/* The API profiles the product defines; --help and errors list those this build knows. */
/* Flags of the product that this version does not implement yet (named in the error). */
static const char *const unsupported_flags[] = {
    "config.file",          "config.check", "web.config.file",   "web.enable-admin-api",
    "web.enable-lifecycle", "auth.method",  "auth.iam-endpoint", "storage.path",
    "poll.max-rate",        "shard",        "tls.ca-file",       "tls.insecure-skip-verify",
};

/* Words that mark a flag as carrying a secret: refused, and its value never echoed. */
static const char *const secret_words[] = {"token",      "password", "passwd",     "secret",
                                           "credential", "aksk",     "access-key", "private-key"};

/*
 * Escape n bytes of s for an error message into buf (CONFIG_SHOW_BUF bytes):
 * printable ASCII as is, '"' and '\' backslashed, anything else \xNN; more than
 * CONFIG_SHOW_MAX bytes are cut and marked "...". Returns buf.
 */
static const char *show(char buf[CONFIG_SHOW_BUF], const char *s, size_t n)
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

/* Write one error line to err (if err and errsz > 0); truncated to fit. */
static void set_err(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;

    if (!err || errsz == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
}

/* Replace *slot by a copy of s. Returns 0 or -ENOMEM (*slot unchanged). */
static int replace_str(char **slot, const char *s, size_t n)
{
    char *d = strndup(s, n);

    if (!d)
        return -ENOMEM;
    free(*slot);
    *slot = d;
    return 0;
}

static int oom(struct parse *p, const struct flag *f)
{
    set_err(p->err, p->errsz, "--%s: out of memory", f->name);
    return CONFIG_ERROR;
}

static int is_alnum(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Is s[0..n) a project ID: 1..64 of [A-Za-z0-9_-]? */
static int project_id_valid(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > CONFIG_PROJECT_ID_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

/*
 * Is s[0..n) a port: 1..5 decimal digits, value min..65535? Returns 0 and the
 * port in *out, or -EINVAL (not digits) / -ERANGE (out of range).
 */
static int parse_port(const char *s, size_t n, unsigned min, uint16_t *out)
{
    unsigned long v = 0;
    size_t i;

    if (n == 0)
        return -EINVAL;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
    if (n > 5)
        return -ERANGE;
    for (i = 0; i < n; i++)
        v = v * 10 + (unsigned long)(s[i] - '0');
    if (v < min || v > 65535)
        return -ERANGE;
    *out = (uint16_t)v;
    return 0;
}

/*
 * Is s[0..n) a host name or dotted IPv4 address: labels of [A-Za-z0-9_-] (not
 * starting or ending with '-') up to 63 bytes, at most 253 bytes, one trailing
 * dot allowed; all-numeric names must be a valid IPv4 address.
 */
static int host_valid(const char *s, size_t n)
{
    char ip[INET_ADDRSTRLEN];
    struct in_addr a4;
    size_t i, label = 0, digits_dots = 0;

    if (n > 0 && s[n - 1] == '.')
        n--;
    if (n == 0 || n > CONFIG_HOST_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if (is_alnum(ch) || ch == '_' || ch == '-') {
            if (label == 0 && ch == '-')
                return 0;
            if (++label > CONFIG_LABEL_MAX)
                return 0;
        } else {
            return 0;
        }
        digits_dots += (ch == '.' || (ch >= '0' && ch <= '9'));
    }
    if (s[n - 1] == '-')
        return 0;
    if (digits_dots == n) {
        if (n >= sizeof(ip))
            return 0;
        memcpy(ip, s, n);
        ip[n] = '\0';
        return inet_pton(AF_INET, ip, &a4) == 1;
    }
    return 1;
}

/* Is s[0..n) an IPv6 address, optionally with a %zone (interface name)? */
static int ipv6_valid(const char *s, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    struct in6_addr a6;
    const char *pct = memchr(s, '%', n);
    size_t alen = pct ? (size_t)(pct - s) : n, i;

    if (alen == 0 || alen >= sizeof(ip))
        return 0;
    if (pct) {
        size_t zlen = n - alen - 1;

        if (zlen == 0 || zlen >= IF_NAMESIZE)
            return 0;
        for (i = alen + 1; i < n; i++)
            if (!is_alnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
                return 0;
    }
    memcpy(ip, s, alen);
    ip[alen] = '\0';
    return inet_pton(AF_INET6, ip, &a6) == 1;
}

/*
 * Split "host:port", ":port" or "[v6]:port". Returns NULL and host span / port,
 * or a reason for the error message.
 */
static const char *split_listen(const char *v, const char **host, size_t *hlen, uint16_t *port)
{
    const char *colon;
    size_t n = strlen(v);
    int rc;

    if (n == 0)
        return "empty address";
    if (v[0] == '[') {
        const char *close = memchr(v, ']', n);

        if (!close)
            return "missing ']'";
        *host = v + 1;
        *hlen = (size_t)(close - v - 1);
        if (!ipv6_valid(*host, *hlen))
            return "invalid IPv6 address";
        if (close[1] != ':')
            return close[1] == '\0' ? "missing port" : "unexpected text after ']'";
        colon = close + 1;
    } else {
        colon = strrchr(v, ':');
        if (!colon)
            return "missing port";
        *host = v;
        *hlen = (size_t)(colon - v);
        if (memchr(v, ':', *hlen))
            return "an IPv6 address must be in brackets";
        if (*hlen > 0 && !host_valid(v, *hlen))
            return "invalid host";
    }
    rc = parse_port(colon + 1, strlen(colon + 1), 0, port);
    if (rc == -ERANGE)
        return "port out of range (0-65535)";
    if (rc < 0)
        return colon[1] == '\0' ? "missing port" : "invalid port";
    return NULL;
}

static int set_listen(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    const char *host = NULL, *why;
    size_t hlen = 0;
    uint16_t port = 0;
    char *addr = NULL, *h = NULL;

    why = split_listen(val, &host, &hlen, &port);
    if (why) {
        set_err(p->err, p->errsz, "--%s: invalid address \"%s\": %s " LISTEN_RULE, f->name,
                show(sb, val, strlen(val)), why);
        return CONFIG_ERROR;
    }
    addr = strdup(val);
    h = strndup(host, hlen);
    if (!addr || !h) {
        free(addr);
        free(h);
        return oom(p, f);
    }
    free(p->c->listen_address);
    free(p->c->listen_host);
    p->c->listen_address = addr;
    p->c->listen_host = h;
    p->c->listen_port = port;
    return CONFIG_OK;
}

/* RFC 3986 path characters without '%' (no escapes: the path is compared verbatim). */
static int path_char_ok(unsigned char ch)
{
    return is_alnum(ch) || (ch != '\0' && strchr("/-._~!$&'()*+,;=:@", ch) != NULL);
}

/* Why s is not a telemetry path, or NULL if it is one. */
static const char *telemetry_path_problem(const char *s)
{
    size_t n = strlen(s), i;

    if (n == 0 || s[0] != '/')
        return "must start with '/'";
    if (n == 1)
        return "must not be \"/\" (the landing page)";
    if (n > CONFIG_TELEMETRY_PATH_MAX)
        return "too long (max 256 bytes)";
    if (strncmp(s, "/-/", 3) == 0 || strcmp(s, "/-") == 0)
        return "\"/-/\" is reserved for the exporter's own endpoints";
    if (strncmp(s, "/api/", 5) == 0 || strcmp(s, "/api") == 0)
        return "\"/api/\" is reserved for the exporter's API";
    for (i = 0; i < n; i++) {
        if (s[i] == '?' || s[i] == '#')
            return "must not contain '?' or '#'";
        if (!path_char_ok((unsigned char)s[i]))
            return "may only contain letters, digits and /-._~!$&'()*+,;=:@ (no spaces, no "
                   "'%')";
    }
    for (i = 0; i < n; i++) {
        if (s[i] != '/')
            continue;
        if (s[i + 1] == '/')
            return "must not contain an empty segment \"//\"";
        if (s[i + 1] == '.' && (s[i + 2] == '/' || s[i + 2] == '\0' ||
                                (s[i + 2] == '.' && (s[i + 3] == '/' || s[i + 3] == '\0'))))
            return "must not contain \".\" or \"..\" segments";
    }
    return NULL;
}

static int set_telemetry_path(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    const char *why = telemetry_path_problem(val);

    if (why) {
        set_err(p->err, p->errsz, "--%s: invalid path \"%s\": %s", f->name,
                show(sb, val, strlen(val)), why);
        return CONFIG_ERROR;
    }
    if (replace_str(&p->c->telemetry_path, val, strlen(val)) < 0)
        return oom(p, f);
    return CONFIG_OK;
}

/* Why the authority a[0..n) ("host[:port]" or "[v6][:port]") is wrong, or NULL. */
static const char *authority_problem(const char *a, size_t n)
{
    const char *port = NULL;
    size_t hlen = n;
    uint16_t pv;

    if (n == 0)
        return "missing host";
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);

        if (!close || !ipv6_valid(a + 1, (size_t)(close - a - 1)))
            return "invalid IPv6 host";
        if ((size_t)(close - a) + 1 < n) {
            if (close[1] != ':')
                return "invalid host";
            port = close + 2;
        }
    } else {
        const char *colon = memchr(a, ':', n);

        if (colon) {
            hlen = (size_t)(colon - a);
            port = colon + 1;
            if (memchr(port, ':', n - hlen - 1))
                return "an IPv6 host must be in brackets";
        }
        if (!host_valid(a, hlen))
            return hlen == 0 ? "missing host" : "invalid host";
    }
    if (port && parse_port(port, n - (size_t)(port - a), 1, &pv) < 0)
        return "invalid port (1-65535)";
    return NULL;
}

/* Is the host h[0..n) of a validated authority a loopback one: 127.0.0.0/8, ::1, localhost? */
static int host_is_loopback(const char *h, size_t n)
{
    char ip[INET6_ADDRSTRLEN];
    struct in_addr a4;
    struct in6_addr a6;
    const char *pct;

    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        pct = memchr(h + 1, '%', n - 2);
        n = pct ? (size_t)(pct - h - 1) : n - 2;
        if (n >= sizeof(ip))
            return 0;
        memcpy(ip, h + 1, n);
        ip[n] = '\0';
        if (inet_pton(AF_INET6, ip, &a6) != 1)
            return 0;
        /* ::1, or ::ffff:127.x.y.z (IPv4-mapped) */
        return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
    }
    if (n > 0 && h[n - 1] == '.')
        n--; /* "localhost." is the same name */
    if (n == 9 && strncasecmp(h, "localhost", 9) == 0)
        return 1;
    if (n == 0 || n >= INET_ADDRSTRLEN)
        return 0;
    memcpy(ip, h, n);
    ip[n] = '\0';
    return inet_pton(AF_INET, ip, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

int config_endpoint_insecure(const struct config *c)
{
    static const char http[] = "http://";
    const char *auth, *colon, *close;
    size_t alen;

    if (!c->endpoint || strncmp(c->endpoint, http, sizeof(http) - 1) != 0)
        return 0; /* https://, or none */
    auth = c->endpoint + sizeof(http) - 1;
    alen = strcspn(auth, "/");
    if (auth[0] == '[') {
        close = memchr(auth, ']', alen);
        alen = close ? (size_t)(close - auth) + 1 : alen;
    } else if ((colon = memchr(auth, ':', alen)) != NULL) {
        alen = (size_t)(colon - auth);
    }
    return !host_is_loopback(auth, alen);
}

static int set_endpoint(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    size_t n = strlen(val), skip, i, alen;
    const char *why = NULL, *auth;
    char *d;

    if (strncasecmp(val, "https://", 8) == 0)
        skip = 8;
    else if (strncasecmp(val, "http://", 7) == 0)
        skip = 7;
    else
        skip = 0;
    auth = val + skip;
    alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen)) {
        /* user:password@host: the value holds a secret, so it is not echoed */
        set_err(p->err, p->errsz,
                "--%s: credentials in the URL are not allowed (the token is read from "
                "OS_AUTH_TOKEN only)",
                f->name);
        return CONFIG_ERROR;
    }
    if (skip == 0)
        why = "must start with http:// or https://";
    else if (n > CONFIG_URL_MAX)
        why = "too long (max 2048 bytes)";
    for (i = 0; !why && i < n; i++) {
        unsigned char ch = (unsigned char)val[i];

        if (ch <= 0x20 || ch >= 0x7f)
            why = "must not contain whitespace, control or non-ASCII characters";
        else if (ch == '?' || ch == '#')
            why = "must not have a query or fragment";
    }
    if (!why)
        why = authority_problem(auth, alen);
    if (why) {
        set_err(p->err, p->errsz, "--%s: invalid URL \"%s\": %s", f->name, show(sb, val, n), why);
        return CONFIG_ERROR;
    }
    while (n > skip + alen && val[n - 1] == '/')
        n--;
    d = strndup(val, n);
    if (!d)
        return oom(p, f);
    for (i = 0; i < skip; i++) /* scheme in lower case, as libcurl and logs expect */
        if (d[i] >= 'A' && d[i] <= 'Z')
            d[i] = (char)(d[i] - 'A' + 'a');
    free(p->c->endpoint);
    p->c->endpoint = d;
    return CONFIG_OK;
}

static int set_project_id(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    size_t n = strlen(val);

    if (!project_id_valid(val, n)) {
        set_err(p->err, p->errsz, "--%s: invalid project ID \"%s\" (1-64 of A-Za-z0-9_-)", f->name,
                show(sb, val, n));
        return CONFIG_ERROR;
    }
    if (replace_str(&p->c->project_id, val, n) < 0)
        return oom(p, f);
    p->project_set = 1;
    return CONFIG_OK;
}

/* The profile table's names, comma separated, into buf. */
static void known_profiles(char *buf, size_t len)
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

    if (!prof) {
        known_profiles(known, sizeof(known));
        set_err(p->err, p->errsz, "--%s: unknown API profile \"%s\" (known: %s)", f->name,
                show(sb, val, strlen(val)), known);
        return CONFIG_ERROR;
    }
    p->c->profile = prof;
    return CONFIG_OK;
}

static int set_job(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    int rc = config_add_job(p->c, val);

    if (rc == -EINVAL)
        set_err(p->err, p->errsz, "--%s: invalid job ID \"%s\" " JOB_ID_RULE, f->name,
                show(sb, val, strlen(val)));
    else if (rc == -E2BIG)
        set_err(p->err, p->errsz, "--%s: too many jobs (max %d)", f->name, CONFIG_MAX_JOBS);
    else if (rc < 0)
        return oom(p, f);
    return rc < 0 ? CONFIG_ERROR : CONFIG_OK;
}

static int set_jobs_file(struct parse *p, const struct flag *f, const char *val)
{
    if (val[0] == '\0') {
        set_err(p->err, p->errsz, "--%s: empty path", f->name);
        return CONFIG_ERROR;
    }
    if (replace_str(&p->c->jobs_file, val, strlen(val)) < 0)
        return oom(p, f);
    return CONFIG_OK;
}

/* Parse a duration flag value of at least min_ms (and at most CONFIG_DURATION_MAX_MS). */
static int parse_flag_duration(struct parse *p, const struct flag *f, const char *val,
                               uint64_t min_ms, uint64_t *out)
{
    char sb[CONFIG_SHOW_BUF], lim[CONFIG_DURATION_TEXT];
    uint64_t ms;
    int rc = duration_parse(val, &ms);

    if (rc == -EINVAL) {
        set_err(p->err, p->errsz,
                "--%s: invalid duration \"%s\" (use Prometheus syntax like 15s, 1m)", f->name,
                show(sb, val, strlen(val)));
        return CONFIG_ERROR;
    }
    if (rc < 0 || ms > CONFIG_DURATION_MAX_MS) {
        duration_format(CONFIG_DURATION_MAX_MS, lim, sizeof(lim));
        set_err(p->err, p->errsz, "--%s: duration \"%s\" is too long (max %s)", f->name,
                show(sb, val, strlen(val)), lim);
        return CONFIG_ERROR;
    }
    if (ms < min_ms) {
        if (min_ms <= 1)
            set_err(p->err, p->errsz, "--%s: must be greater than 0, got \"%s\"", f->name,
                    show(sb, val, strlen(val)));
        else {
            duration_format(min_ms, lim, sizeof(lim));
            set_err(p->err, p->errsz, "--%s: must be at least %s, got \"%s\"", f->name, lim,
                    show(sb, val, strlen(val)));
        }
        return CONFIG_ERROR;
    }
    *out = ms;
    return CONFIG_OK;
}

static int set_poll_interval(struct parse *p, const struct flag *f, const char *val)
{
    return parse_flag_duration(p, f, val, CONFIG_POLL_INTERVAL_MIN_MS, &p->c->poll_interval_ms);
}

static int set_poll_timeout(struct parse *p, const struct flag *f, const char *val)
{
    return parse_flag_duration(p, f, val, 1, &p->c->poll_timeout_ms);
}

static int set_jobs_retention(struct parse *p, const struct flag *f, const char *val)
{
    return parse_flag_duration(p, f, val, 0, &p->c->jobs_retention_ms);
}

static int set_poll_concurrency(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];
    unsigned long v = 0;
    size_t i, n = strlen(val);

    for (i = 0; i < n && i < 4; i++) {
        if (val[i] < '0' || val[i] > '9')
            break;
        v = v * 10 + (unsigned long)(val[i] - '0');
    }
    if (n == 0 || i != n || v < 1 || v > CONFIG_CONCURRENCY_MAX) {
        set_err(p->err, p->errsz, "--%s: invalid value \"%s\" (an integer from 1 to %d)", f->name,
                show(sb, val, n), CONFIG_CONCURRENCY_MAX);
        return CONFIG_ERROR;
    }
    p->c->poll_concurrency = (unsigned)v;
    return CONFIG_OK;
}

static int set_once(struct parse *p, const struct flag *f, const char *val)
{
    (void)f;
    p->c->once = val[0] == '1';
    return CONFIG_OK;
}

static int set_allow_insecure_http(struct parse *p, const struct flag *f, const char *val)
{
    (void)f;
    p->c->allow_insecure_http = val[0] == '1';
    return CONFIG_OK;
}

static int set_demo(struct parse *p, const struct flag *f, const char *val)
{
    (void)f;
    p->c->demo = val[0] == '1';
    return CONFIG_OK;
}

static int set_log_level(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];

    if (log_level_parse(val, &p->c->log_level) < 0) {
        set_err(p->err, p->errsz, "--%s: invalid level \"%s\" (debug, info, warn, error)", f->name,
                show(sb, val, strlen(val)));
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
}

static int set_log_format(struct parse *p, const struct flag *f, const char *val)
{
    char sb[CONFIG_SHOW_BUF];

    if (log_format_parse(val, &p->c->log_format) < 0) {
        set_err(p->err, p->errsz, "--%s: invalid format \"%s\" (logfmt, json)", f->name,
                show(sb, val, strlen(val)));
        return CONFIG_ERROR;
    }
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

static const struct flag flags[] = {
    {"help", FLAG_ACTION, NULL, NULL, NULL, "Show this help and exit (also -h).", do_help},
    {"version", FLAG_ACTION, NULL, NULL, NULL, "Show the version and exit.", do_version},
    {"web.listen-address", FLAG_VALUE, "ADDR", ":39123", NULL,
     "Address to serve on: host:port, :port (all addresses) or [v6]:port; port 0 picks a free "
     "port.",
     set_listen},
    {"web.telemetry-path", FLAG_VALUE, "PATH", "/metrics", NULL,
     "Path under which metrics are served.", set_telemetry_path},
    {"elb.endpoint", FLAG_VALUE, "URL", NULL, NULL,
     "Base URL of the job API, e.g. https://elb.eu-de.otc.t-systems.com (required unless "
     "--demo).",
     set_endpoint},
    {"elb.allow-insecure-http", FLAG_BOOL, NULL, NULL, NULL,
     "Allow a plain http:// --elb.endpoint whose host is not loopback: the token then travels "
     "unencrypted (a warning is logged at start). Loopback (127.0.0.0/8, ::1, localhost) never "
     "needs it.",
     set_allow_insecure_http},
    {"elb.project-id", FLAG_VALUE, "ID", NULL, "$OS_PROJECT_ID",
     "Project ID in the API path, 1-64 of A-Za-z0-9_- (required unless --demo).", set_project_id},
    {"elb.profile", FLAG_VALUE, "NAME", "elb-v1", NULL, "API profile.", set_profile},
    {"job", FLAG_VALUE, "ID", NULL, NULL,
     "Job ID to track, 1-64 of A-Za-z0-9_-; repeatable, duplicates are ignored.", set_job},
    {"jobs.file", FLAG_VALUE, "PATH", NULL, NULL,
     "Regular file with one job ID per line; '#' starts a comment.", set_jobs_file},
    {"jobs.retention", FLAG_VALUE, "DURATION", "24h", NULL,
     "How long a finished job keeps its per-job series after it ended, and is remembered so "
     "that it is not polled or counted again when it leaves a source and comes back; 0 keeps "
     "finished jobs for good.",
     set_jobs_retention},
    {"poll.interval", FLAG_VALUE, "DURATION", "15s", NULL,
     "How often unfinished jobs are polled (at least 100ms).", set_poll_interval},
    {"poll.timeout", FLAG_VALUE, "DURATION", "10s", NULL, "Timeout of one API request.",
     set_poll_timeout},
    {"poll.concurrency", FLAG_VALUE, "N", "8", NULL, "API requests in flight (1-256).",
     set_poll_concurrency},
    {"once", FLAG_BOOL, NULL, NULL, NULL,
     "Poll every job once, print the metrics to stdout and exit.", set_once},
    {"demo", FLAG_BOOL, NULL, NULL, NULL,
     "Poll a built-in simulated job API on loopback instead of the cloud.", set_demo},
    {"log.level", FLAG_VALUE, "LEVEL", "info", NULL, "Log threshold: debug, info, warn, error.",
     set_log_level},
    {"log.format", FLAG_VALUE, "FORMAT", "logfmt", NULL, "Log line format: logfmt, json.",
     set_log_format},
};

#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))

/* The flag named name[0..n), or NULL. Sets *negated for "no-<bool>". */
static const struct flag *find_flag(const char *name, size_t n, int *negated)
{
    size_t i;

    *negated = 0;
    for (i = 0; i < N_FLAGS; i++)
        if (strlen(flags[i].name) == n && memcmp(flags[i].name, name, n) == 0)
            return &flags[i];
    if (n > 3 && memcmp(name, "no-", 3) == 0) {
        for (i = 0; i < N_FLAGS; i++) {
            if (flags[i].type == FLAG_BOOL && strlen(flags[i].name) == n - 3 &&
                memcmp(flags[i].name, name + 3, n - 3) == 0) {
                *negated = 1;
                return &flags[i];
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
        if (contains_word(name, n, secret_words[i])) {
            set_err(p->err, p->errsz,
                    "--%s: secrets are not accepted as flags (they are visible in ps); set "
                    "OS_AUTH_TOKEN in the environment",
                    show(sb, name, n));
            return CONFIG_ERROR;
        }
    }
    for (i = 0; i < sizeof(unsupported_flags) / sizeof(unsupported_flags[0]); i++) {
        const char *u = unsupported_flags[i];

        if ((strlen(u) == n && memcmp(u, name, n) == 0) ||
            (n > 3 && memcmp(name, "no-", 3) == 0 && strlen(u) == n - 3 &&
             memcmp(u, name + 3, n - 3) == 0)) {
            set_err(p->err, p->errsz, "--%s: not supported by this version", u);
            return CONFIG_ERROR;
        }
    }
    set_err(p->err, p->errsz, "unknown flag \"--%s\" (see --help)", show(sb, name, n));
    return CONFIG_ERROR;
}

/* Parse a boolean flag value: true/false, 1/0, t/f (kingpin's spellings). -1 if none. */
static int parse_bool(const char *v)
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
 * CONFIG_ERROR (err set).
 */
static int parse_arg(struct parse *p, int argc, char **argv, int *i)
{
    char sb[CONFIG_SHOW_BUF];
    const char *a = argv[*i], *name, *eq, *val;
    const struct flag *f;
    size_t n;
    int negated, b;

    if (strcmp(a, "-h") == 0)
        return do_help(p, &flags[0], NULL);
    if (a[0] != '-' || strcmp(a, "-") == 0 || strcmp(a, "--") == 0) {
        set_err(p->err, p->errsz, "unexpected argument \"%s\" (flags start with --)",
                show(sb, a, strlen(a)));
        return CONFIG_ERROR;
    }
    if (a[1] != '-') {
        set_err(p->err, p->errsz, "unknown flag \"%s\" (see --help)", show(sb, a, strcspn(a, "=")));
        return CONFIG_ERROR;
    }
    name = a + 2;
    eq = strchr(name, '=');
    n = eq ? (size_t)(eq - name) : strlen(name);
    f = find_flag(name, n, &negated);
    if (!f)
        return unknown_flag(p, name, n);
    switch (f->type) {
    case FLAG_ACTION:
        if (eq) {
            set_err(p->err, p->errsz, "--%s: does not take a value", f->name);
            return CONFIG_ERROR;
        }
        return f->set(p, f, NULL);
    case FLAG_BOOL:
        if (negated && eq) {
            set_err(p->err, p->errsz, "--no-%s: does not take a value", f->name);
            return CONFIG_ERROR;
        }
        b = negated ? 0 : eq ? parse_bool(eq + 1) : 1;
        if (b < 0) {
            set_err(p->err, p->errsz, "--%s: invalid boolean \"%s\" (true or false)", f->name,
                    show(sb, eq + 1, strlen(eq + 1)));
            return CONFIG_ERROR;
        }
        return f->set(p, f, b ? "1" : "0");
    case FLAG_VALUE:
    default:
        if (eq) {
            val = eq + 1;
        } else if (*i + 1 < argc && strncmp(argv[*i + 1], "--", 2) != 0) {
            val = argv[++*i];
        } else {
            set_err(p->err, p->errsz, "--%s: missing value", f->name);
            return CONFIG_ERROR;
        }
        return f->set(p, f, val);
    }
}

/* getenv with the const signature config_parse takes. */
static const char *default_getenv(const char *name)
{
    return getenv(name);
}

/* What kind of file mode is, for "not a regular file" errors. */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "a special file";
}

/*
 * Read the whole regular file at path, at most max bytes. Returns 0 with a
 * malloc'd buffer (caller frees) and its length, -EFBIG if larger, -EINVAL
 * with *kind set (file_kind) if it is not a regular file, or -errno. Opened
 * non-blocking so that a FIFO never blocks the caller waiting for a writer; it
 * is refused before any read.
 */
static int read_file(const char *path, size_t max, char **out, size_t *out_len, const char **kind)
{
    char *buf = NULL, *nb;
    size_t len = 0, cap = 0;
    struct stat st;
    ssize_t n;
    int fd, rc = 0;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        *kind = file_kind(st.st_mode);
        rc = -EINVAL;
        goto out;
    }
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                rc = -EFBIG;
                goto out;
            }
            cap = cap + CONFIG_READ_CHUNK > max + 1 ? max + 1 : cap + CONFIG_READ_CHUNK;
            nb = realloc(buf, cap);
            if (!nb) {
                rc = -ENOMEM;
                goto out;
            }
            buf = nb;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            rc = -EFBIG;
            goto out;
        }
    }
    *out = buf;
    *out_len = len;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

static int load_jobs_file(struct parse *p)
{
    char sb[CONFIG_SHOW_BUF], eb[CONFIG_ERRNO_TEXT], line_err[CONFIG_SHOW_BUF * 3];
    const char *path = p->c->jobs_file, *kind = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc;

    rc = read_file(path, CONFIG_JOBS_FILE_MAX, &text, &len, &kind);
    if (rc == -EFBIG) {
        set_err(p->err, p->errsz, "--jobs.file: \"%s\" is larger than %u bytes",
                show(sb, path, strlen(path)), CONFIG_JOBS_FILE_MAX);
        return CONFIG_ERROR;
    }
    if (rc == -EINVAL && kind) {
        set_err(p->err, p->errsz, "--jobs.file: \"%s\" is not a regular file (%s)",
                show(sb, path, strlen(path)), kind);
        return CONFIG_ERROR;
    }
    if (rc < 0) {
        if (strerror_r(-rc, eb, sizeof(eb)) != 0)
            snprintf(eb, sizeof(eb), "error %d", -rc);
        set_err(p->err, p->errsz, "--jobs.file: cannot read \"%s\": %s",
                show(sb, path, strlen(path)), eb);
        return CONFIG_ERROR;
    }
    rc = config_add_jobs_text(p->c, path, text, len, line_err, sizeof(line_err));
    free(text);
    if (rc < 0) {
        set_err(p->err, p->errsz, "--jobs.file: %s", line_err);
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
}

/* Take the project ID and token from the environment; check what is required. */
static int apply_env(struct parse *p)
{
    char sb[CONFIG_SHOW_BUF];
    const char *v;
    size_t n, i;

    v = p->getenv_fn("OS_PROJECT_ID");
    if (!p->project_set && v && v[0] != '\0') {
        n = strlen(v);
        if (!project_id_valid(v, n)) {
            set_err(p->err, p->errsz,
                    "OS_PROJECT_ID: invalid project ID \"%s\" (1-64 of A-Za-z0-9_-)",
                    show(sb, v, n));
            return CONFIG_ERROR;
        }
        if (replace_str(&p->c->project_id, v, n) < 0)
            goto nomem;
    }
    v = p->getenv_fn("OS_AUTH_TOKEN");
    if (v && v[0] != '\0') {
        /* the token goes into an HTTP header; its value is never echoed */
        n = strlen(v);
        if (n > AUTH_TOKEN_MAX) {
            set_err(p->err, p->errsz, "OS_AUTH_TOKEN is longer than %d bytes", AUTH_TOKEN_MAX);
            return CONFIG_ERROR;
        }
        for (i = 0; i < n; i++) {
            if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f) {
                set_err(p->err, p->errsz,
                        "OS_AUTH_TOKEN contains whitespace, control or non-ASCII characters");
                return CONFIG_ERROR;
            }
        }
        if (replace_str(&p->c->auth_token, v, n) < 0)
            goto nomem;
    }
    if (p->c->demo)
        return CONFIG_OK;
    if (!p->c->endpoint) {
        set_err(p->err, p->errsz, "--elb.endpoint is required (or use --demo)");
        return CONFIG_ERROR;
    }
    if (!p->c->allow_insecure_http && config_endpoint_insecure(p->c)) {
        set_err(p->err, p->errsz,
                "--elb.endpoint: plain http:// to a host that is not loopback would send the "
                "token unencrypted; use https://, or set --elb.allow-insecure-http to allow it");
        return CONFIG_ERROR;
    }
    if (!p->c->project_id) {
        set_err(p->err, p->errsz, "--elb.project-id or OS_PROJECT_ID is required");
        return CONFIG_ERROR;
    }
    if (!p->c->auth_token) {
        set_err(p->err, p->errsz,
                "OS_AUTH_TOKEN is not set (the token is read from the environment only)");
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
nomem:
    set_err(p->err, p->errsz, "out of memory");
    return CONFIG_ERROR;
}

int config_parse(struct config *c, int argc, char **argv, const char *(*getenv_fn)(const char *),
                 FILE *out, char *err, size_t errsz)
{
    struct parse p = {c, out ? out : stdout, err, errsz, getenv_fn ? getenv_fn : default_getenv, 0};
    size_t k;
    int i, rc = CONFIG_OK;

    memset(c, 0, sizeof(*c));
    set_err(err, errsz, "%s", "");
    c->profile = profile_default();
    c->log_level = LOGL_INFO;
    c->log_format = LOGF_LOGFMT;
    for (k = 0; k < N_FLAGS && rc == CONFIG_OK; k++)
        if (flags[k].def)
            rc = flags[k].set(&p, &flags[k], flags[k].def);
    for (i = 1; i < argc && rc == CONFIG_OK; i++)
        rc = parse_arg(&p, argc, argv, &i);
    if (rc == CONFIG_OK)
        rc = apply_env(&p);
    c->n_flag_jobs = c->n_jobs;
    if (rc == CONFIG_OK && c->jobs_file)
        rc = load_jobs_file(&p);
    if (rc != CONFIG_OK)
        config_release(c);
    return rc;
}

/* Append an owned ID to c->jobs, growing by doubling. Returns 0 or -ENOMEM. */
static int jobs_push(struct config *c, char *id)
{
    size_t n = c->n_jobs;
    char **nj;

    /* capacity is CONFIG_JOBS_INITIAL, then the next power of two: full at n == 0 or 8, 16, ... */
    if (n == 0 || (n >= CONFIG_JOBS_INITIAL && (n & (n - 1)) == 0)) {
        nj = realloc(c->jobs, (n == 0 ? CONFIG_JOBS_INITIAL : 2 * n) * sizeof(*nj));
        if (!nj)
            return -ENOMEM;
        c->jobs = nj;
    }
    c->jobs[c->n_jobs++] = id;
    return 0;
}

int config_reload_jobs(const struct config *c, char ***jobs, size_t *n, char *err, size_t errsz)
{
    char sb[CONFIG_SHOW_BUF], eb[CONFIG_ERRNO_TEXT];
    struct config tmp;
    const char *kind = NULL;
    char *text = NULL;
    size_t i, len = 0;
    int rc = 0;

    memset(&tmp, 0, sizeof(tmp));
    set_err(err, errsz, "%s", "");
    if (!c->jobs_file) {
        set_err(err, errsz, "no --jobs.file to reload");
        return -EINVAL;
    }
    for (i = 0; i < c->n_flag_jobs && rc == 0; i++)
        rc = config_add_job(&tmp, c->jobs[i]);
    if (rc) {
        set_err(err, errsz, "out of memory");
        goto fail;
    }
    rc = read_file(c->jobs_file, CONFIG_JOBS_FILE_MAX, &text, &len, &kind);
    if (rc == -EINVAL && kind) {
        set_err(err, errsz, "\"%s\" is not a regular file (%s)",
                show(sb, c->jobs_file, strlen(c->jobs_file)), kind);
        goto fail;
    }
    if (rc) {
        if (rc == -EFBIG)
            snprintf(eb, sizeof(eb), "larger than %u bytes", CONFIG_JOBS_FILE_MAX);
        else if (strerror_r(-rc, eb, sizeof(eb)) != 0)
            snprintf(eb, sizeof(eb), "error %d", -rc);
        set_err(err, errsz, "cannot read \"%s\": %s", show(sb, c->jobs_file, strlen(c->jobs_file)),
                eb);
        goto fail;
    }
    rc = config_add_jobs_text(&tmp, c->jobs_file, text, len, err, errsz);
    free(text);
    if (rc)
        goto fail;
    *jobs = tmp.jobs;
    *n = tmp.n_jobs;
    return 0;
fail:
    config_release(&tmp);
    return rc;
}

void config_free_jobs(char **jobs, size_t n)
{
    size_t i;

    for (i = 0; jobs && i < n; i++)
        free(jobs[i]);
    free(jobs);
}

int config_add_job(struct config *c, const char *id)
{
    size_t i, n;
    char *d;

    if (!id)
        return -EINVAL;
    n = strlen(id);
    if (!job_id_valid(id, n))
        return -EINVAL;
    for (i = 0; i < c->n_jobs; i++)
        if (strcmp(c->jobs[i], id) == 0)
            return 0;
    if (c->n_jobs >= CONFIG_MAX_JOBS)
        return -E2BIG;
    d = strndup(id, n);
    if (!d)
        return -ENOMEM;
    if (jobs_push(c, d) < 0) {
        free(d);
        return -ENOMEM;
    }
    return 0;
}

/* An open-addressing set of job IDs (pointers into c->jobs), for de-duplicating a file. */
struct idset {
    const char **slot;
    size_t mask;
};

static size_t id_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

/* The slot holding s[0..n), or the empty slot where it belongs. */
static const char **idset_slot(struct idset *set, const char *s, size_t n)
{
    size_t i = id_hash(s, n) & set->mask;

    while (set->slot[i] && !(strncmp(set->slot[i], s, n) == 0 && set->slot[i][n] == '\0'))
        i = (i + 1) & set->mask;
    return &set->slot[i];
}

/* A set with room for want IDs at most half full. Returns 0 or -ENOMEM. */
static int idset_init(struct idset *set, size_t want)
{
    size_t slots = 16;

    while (slots < 2 * want)
        slots *= 2;
    set->slot = calloc(slots, sizeof(*set->slot));
    set->mask = slots - 1;
    return set->slot ? 0 : -ENOMEM;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

int config_add_jobs_text(struct config *c, const char *path, const char *text, size_t len,
                         char *err, size_t errsz)
{
    char pb[CONFIG_SHOW_BUF], sb[CONFIG_SHOW_BUF];
    struct idset set = {NULL, 0};
    size_t old_n = c->n_jobs, lines = 1, pos = 0, lineno = 0, i, want;
    int rc = 0;

    if (!path)
        path = "-";
    if (!text) {
        text = "";
        len = 0;
    }
    for (i = 0; i < len; i++)
        lines += text[i] == '\n';
    want = old_n + lines > CONFIG_MAX_JOBS ? CONFIG_MAX_JOBS + 1 : old_n + lines;
    if (idset_init(&set, want) < 0) {
        rc = -ENOMEM;
        set_err(err, errsz, "%s: out of memory", show(pb, path, strlen(path)));
        goto out;
    }
    for (i = 0; i < old_n; i++)
        *idset_slot(&set, c->jobs[i], strlen(c->jobs[i])) = c->jobs[i];
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* UTF-8 byte order mark */

    while (pos <= len) {
        const char *eol = memchr(text + pos, '\n', len - pos), *hash, **slot;
        size_t end = eol ? (size_t)(eol - text) : len, s = pos, e;
        char *d;

        lineno++;
        hash = memchr(text + s, '#', end - s);
        e = hash ? (size_t)(hash - text) : end;
        while (s < e && is_blank(text[s]))
            s++;
        while (e > s && is_blank(text[e - 1]))
            e--;
        pos = end + 1;
        if (e == s)
            continue;
        if (!job_id_valid(text + s, e - s)) {
            rc = -EINVAL;
            set_err(err, errsz, "%s:%zu: invalid job ID \"%s\" " JOB_ID_RULE,
                    show(pb, path, strlen(path)), lineno, show(sb, text + s, e - s));
            goto out;
        }
        slot = idset_slot(&set, text + s, e - s);
        if (*slot)
            continue; /* duplicate */
        if (c->n_jobs >= CONFIG_MAX_JOBS) {
            rc = -E2BIG;
            set_err(err, errsz, "%s:%zu: too many jobs (max %d)", show(pb, path, strlen(path)),
                    lineno, CONFIG_MAX_JOBS);
            goto out;
        }
        d = strndup(text + s, e - s);
        if (!d || jobs_push(c, d) < 0) {
            free(d);
            rc = -ENOMEM;
            set_err(err, errsz, "%s:%zu: out of memory", show(pb, path, strlen(path)), lineno);
            goto out;
        }
        *slot = d;
    }
out:
    if (rc < 0) {
        for (i = old_n; i < c->n_jobs; i++)
            free(c->jobs[i]);
        c->n_jobs = old_n;
    }
    free(set.slot);
    return rc;
}

void config_release(struct config *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->n_jobs; i++)
        free(c->jobs[i]);
    free(c->jobs);
    secret_free(c->auth_token);
    free(c->listen_address);
    free(c->listen_host);
    free(c->telemetry_path);
    free(c->endpoint);
    free(c->project_id);
    free(c->jobs_file);
    memset(c, 0, sizeof(*c));
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
    for (i = 0; i < N_FLAGS; i++) {
        const struct flag *f = &flags[i];
        const char *def = f->def ? f->def : f->def_text;

        if (f->type == FLAG_BOOL)
            fprintf(out, "  --[no-]%s\n", f->name);
        else if (f->type == FLAG_ACTION)
            fprintf(out, "  --%s\n", f->name);
        else
            fprintf(out, "  --%s=%s\n", f->name, f->metavar);
        known[0] = '\0';
        if (f->set == set_profile)
            known_profiles(known, sizeof(known));
        snprintf(text, sizeof(text), "%s%s%s%s%s%s%s", f->help, known[0] ? " Known: " : "", known,
                 known[0] ? "." : "", def ? " (default: " : "", def ? def : "", def ? ")" : "");
        print_wrapped(out, text, 6);
    }
    fputs("\n"
          "Environment:\n"
          "  OS_AUTH_TOKEN   API token, sent as X-Auth-Token (required unless --demo;\n"
          "                  secrets are never read from flags, which are visible in ps)\n"
          "  OS_PROJECT_ID   project ID when --elb.project-id is not given\n"
          "\n"
          "Values: --flag=value or --flag value; a flag given twice keeps the last value\n"
          "(--job adds up). Booleans: --flag, --no-flag or --flag=true|false.\n",
          out);
}
