/*
 * values: what a valid listen address, host, URL and telemetry path are.
 * Pure checks over strings (no I/O, no state) that the setters of flags.c
 * run for every layer, and the loopback test behind --elb.allow-insecure-http.
 */
#include "config_private.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <strings.h>

#define CONFIG_HOST_MAX 253           /* bytes of a DNS name */
#define CONFIG_LABEL_MAX 63           /* bytes of one DNS label */
#define CONFIG_URL_MAX 2048           /* bytes of --elb.endpoint, --auth.iam-endpoint */
#define CONFIG_TELEMETRY_PATH_MAX 256 /* bytes of --web.telemetry-path */

static int is_alnum(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
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
const char *cfg_split_listen(const char *v, const char **host, size_t *hlen, uint16_t *port)
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

/* RFC 3986 path characters without '%' (no escapes: the path is compared verbatim). */
static int path_char_ok(unsigned char ch)
{
    return is_alnum(ch) || (ch != '\0' && strchr("/-._~!$&'()*+,;=:@", ch) != NULL);
}

/* Why s is not a telemetry path, or NULL if it is one. */
const char *cfg_telemetry_path_problem(const char *s)
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

int cfg_url_host_is_loopback(const char *url)
{
    const char *auth, *colon, *close;
    size_t alen;

    auth = strstr(url, "://");
    if (!auth)
        return 0;
    auth += 3;
    alen = strcspn(auth, "/");
    if (auth[0] == '[') {
        close = memchr(auth, ']', alen);
        alen = close ? (size_t)(close - auth) + 1 : alen;
    } else if ((colon = memchr(auth, ':', alen)) != NULL) {
        alen = (size_t)(colon - auth);
    }
    return host_is_loopback(auth, alen);
}

int config_endpoint_insecure(const struct config *c)
{
    if (!c->endpoint || strncmp(c->endpoint, "http://", 7) != 0)
        return 0; /* https://, or none */
    return !cfg_url_host_is_loopback(c->endpoint);
}

const char *cfg_url_problem(const char *val, size_t *skip, size_t *alen)
{
    size_t n = strlen(val), i;
    const char *auth;

    if (strncasecmp(val, "https://", 8) == 0)
        *skip = 8;
    else if (strncasecmp(val, "http://", 7) == 0)
        *skip = 7;
    else
        *skip = 0;
    auth = val + *skip;
    *alen = strcspn(auth, "/?#");
    if (*skip == 0)
        return "must start with http:// or https://";
    if (n > CONFIG_URL_MAX)
        return "too long (max 2048 bytes)";
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)val[i];

        if (ch <= 0x20 || ch >= 0x7f)
            return "must not contain whitespace, control or non-ASCII characters";
        if (ch == '?' || ch == '#')
            return "must not have a query or fragment";
    }
    return authority_problem(auth, *alen);
}
