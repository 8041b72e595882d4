/*
 * aksk: SDK-HMAC-SHA256 request signing (see aksk.h). Pure: every function
 * works on the buffers it is given; SHA-256 and HMAC come from libcrypto.
 */
#include "aksk.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

static const char hexdig[] = "0123456789ABCDEF";
static const char hexlow[] = "0123456789abcdef";

/* ---- URL pieces ------------------------------------------------------------------------- */

struct url_parts {
    const char *authority, *path, *query; /* query NULL when there is no '?' */
    size_t authority_len, path_len, query_len;
};

/* Does url start with "scheme://"? Returns the length of "scheme://", or 0. */
static size_t scheme_len(const char *url)
{
    size_t i = 0;

    if (!((url[0] >= 'a' && url[0] <= 'z') || (url[0] >= 'A' && url[0] <= 'Z')))
        return 0;
    for (i = 1; url[i]; i++) {
        char c = url[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '+' || c == '-' || c == '.')
            continue;
        break;
    }
    return strncmp(url + i, "://", 3) == 0 ? i + 3 : 0;
}

/*
 * Split url ("scheme://authority/path?query#fragment" or "/path?query") into
 * its pieces. Returns 0, -EINVAL (neither form) or -E2BIG (over AKSK_URL_MAX).
 */
static int split_url(const char *url, struct url_parts *u)
{
    size_t n, s, i, end;

    if (!url)
        return -EINVAL;
    n = strnlen(url, AKSK_URL_MAX + 1);
    if (n > AKSK_URL_MAX)
        return -E2BIG;
    memset(u, 0, sizeof(*u));
    if (url[0] == '/') {
        i = 0;
        u->authority = url;
    } else {
        s = scheme_len(url);
        if (s == 0)
            return -EINVAL;
        u->authority = url + s;
        i = s + strcspn(url + s, "/?#");
        u->authority_len = i - s;
    }
    end = i + strcspn(url + i, "?#");
    u->path = url + i;
    u->path_len = end - i;
    if (url[end] == '?') {
        u->query = url + end + 1;
        u->query_len = strcspn(u->query, "#");
    }
    return 0;
}

/* ---- percent encoding ------------------------------------------------------------------- */

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Decode s[0..n) ("%XX" escapes; '+' is a space when plus_space) into out,
 * which has room for n bytes. Returns the decoded length, or -EINVAL for a '%'
 * not followed by two hex digits.
 */
static long pct_decode(const char *s, size_t n, int plus_space, char *out)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return -EINVAL;
            hi = hexval((unsigned char)s[i + 1]);
            lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0)
                return -EINVAL;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        out[k++] = (char)c;
    }
    return (long)k;
}

/*
 * Append s[0..n) to b with every byte but the unreserved ones (and '/' when
 * keep_slash) as "%XX". Returns 0 or a strbuf error (b may hold part of it:
 * the callers roll back).
 */
static int pct_encode(struct strbuf *b, const char *s, size_t n, int keep_slash)
{
    size_t i = 0, run;
    int rc = 0;

    while (i < n && rc == 0) {
        for (run = i;
             run < n && (unreserved((unsigned char)s[run]) || (keep_slash && s[run] == '/')); run++)
            ;
        if (run > i) {
            rc = strbuf_append(b, s + i, run - i);
            i = run;
        } else {
            unsigned char c = (unsigned char)s[i++];
            char e[3] = {'%', hexdig[c >> 4], hexdig[c & 15]};
            rc = strbuf_append(b, e, sizeof(e));
        }
    }
    return rc;
}

/* ---- canonical URI and query ------------------------------------------------------------ */

/* The canonical URI of path[0..n) appended to out. Returns 0 or -errno; out rolled back. */
static int canonical_uri(const char *path, size_t n, struct strbuf *out)
{
    size_t start = out->len, i;
    char buf[256];
    size_t k = 0;
    int rc = 0;

    /* decoded one byte at a time, encoded again; '/' (also a decoded %2F) separates segments */
    for (i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)path[i];
        if (c == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)path[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)path[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                rc = -EINVAL;
                break;
            }
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        }
        if (unreserved(c) || c == '/') {
            buf[k++] = (char)c;
        } else {
            buf[k++] = '%';
            buf[k++] = hexdig[c >> 4];
            buf[k++] = hexdig[c & 15];
        }
        if (k + 3 > sizeof(buf)) {
            rc = strbuf_append(out, buf, k);
            k = 0;
        }
    }
    if (rc == 0 && k)
        rc = strbuf_append(out, buf, k);
    if (rc == 0 && (out->len == start || out->data[out->len - 1] != '/'))
        rc = strbuf_putc(out, '/');
    if (rc != 0 && out->len > start)
        strbuf_truncate(out, start);
    return rc;
}

struct qparam {
    const char *k, *v; /* decoded, not NUL-terminated */
    size_t kl, vl;
};

static int bytes_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);

    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl;
}

static int qparam_cmp(const void *x, const void *y)
{
    const struct qparam *a = x, *b = y;
    int c = bytes_cmp(a->k, a->kl, b->k, b->kl);

    return c != 0 ? c : bytes_cmp(a->v, a->vl, b->v, b->vl);
}

/* The canonical query of q[0..n) appended to out. Returns 0 or -errno; out rolled back. */
static int canonical_query(const char *q, size_t n, struct strbuf *out)
{
    struct qparam ps[AKSK_QUERY_PARAMS_MAX];
    size_t np = 0, i = 0, start = out->len;
    char *dec;
    long dl;
    int rc = 0;

    if (n == 0)
        return 0;
    dec = malloc(n);
    if (!dec)
        return -ENOMEM;
    dl = 0;
    while (i < n) {
        size_t part = i, end, eq;
        long kl, vl;

        while (i < n && q[i] != '&')
            i++;
        end = i++;
        if (end == part)
            continue; /* "a=1&&b=2": empty parts carry nothing */
        if (np == AKSK_QUERY_PARAMS_MAX) {
            rc = -E2BIG;
            goto out;
        }
        for (eq = part; eq < end && q[eq] != '='; eq++)
            ;
        kl = pct_decode(q + part, eq - part, 1, dec + dl);
        if (kl < 0) {
            rc = (int)kl;
            goto out;
        }
        ps[np].k = dec + dl;
        ps[np].kl = (size_t)kl;
        dl += kl;
        vl = eq < end ? pct_decode(q + eq + 1, end - eq - 1, 1, dec + dl) : 0;
        if (vl < 0) {
            rc = (int)vl;
            goto out;
        }
        ps[np].v = dec + dl;
        ps[np].vl = (size_t)vl;
        dl += vl;
        np++;
    }
    qsort(ps, np, sizeof(ps[0]), qparam_cmp);
    for (i = 0; i < np && rc == 0; i++) {
        if (i > 0)
            rc = strbuf_putc(out, '&');
        if (rc == 0)
            rc = pct_encode(out, ps[i].k, ps[i].kl, 0);
        if (rc == 0)
            rc = strbuf_putc(out, '=');
        if (rc == 0)
            rc = pct_encode(out, ps[i].v, ps[i].vl, 0);
    }
out:
    free(dec);
    if (rc != 0 && out->len > start)
        strbuf_truncate(out, start);
    return rc;
}

int aksk_canonical_uri(const char *url, struct strbuf *out)
{
    struct url_parts u;
    int rc = split_url(url, &u);

    return rc ? rc : canonical_uri(u.path, u.path_len, out);
}

int aksk_canonical_query(const char *url, struct strbuf *out)
{
    struct url_parts u;
    int rc = split_url(url, &u);

    return rc ? rc : canonical_query(u.query, u.query_len, out);
}

/* ---- headers ---------------------------------------------------------------------------- */

static int tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Compare two header names as their lower-case forms. */
static int name_cmp(const char *a, const char *b)
{
    while (*a && lower((unsigned char)*a) == lower((unsigned char)*b))
        a++, b++;
    return (int)lower((unsigned char)*a) - (int)lower((unsigned char)*b);
}

/* Trim leading and trailing spaces and tabs of v: start in *p, length returned. */
static size_t trim(const char *v, const char **p)
{
    size_t n = strlen(v);

    while (n && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    *p = v;
    return n;
}

/* Is header h signed under flags? */
static int signable(const struct aksk_header *h, unsigned flags)
{
    if (flags & AKSK_SIGN_ALL_HEADERS)
        return 1;
    return !strchr(h->name, '_') && name_cmp(h->name, "content-type") != 0;
}

/* The headers being sorted (qsort has no context argument). */
struct hsort {
    const struct aksk_header *h;
};

static int hsort_cmp(const void *x, const void *y)
{
    return name_cmp(((const struct hsort *)x)->h->name, ((const struct hsort *)y)->h->name);
}

/*
 * Check r's method and headers; the signed ones, sorted by name, into s[*n],
 * and the trimmed X-Sdk-Date value into *date / *date_len. Returns 0, -EINVAL
 * or -E2BIG.
 */
static int collect(const struct aksk_request *r, struct hsort s[AKSK_HEADERS_MAX], size_t *n,
                   const char **date, size_t *date_len)
{
    size_t i, j, k = 0, ml;
    int have_date = 0;

    if (!r->method || !r->url || (!r->headers && r->n_headers) || (!r->body && r->body_len))
        return -EINVAL;
    ml = strnlen(r->method, AKSK_METHOD_MAX + 1);
    if (ml == 0 || ml > AKSK_METHOD_MAX)
        return -EINVAL;
    for (i = 0; i < ml; i++)
        if (r->method[i] < 'A' || r->method[i] > 'Z')
            return -EINVAL;
    if (r->n_headers > AKSK_HEADERS_MAX || r->body_len > AKSK_BODY_MAX)
        return -E2BIG;
    for (i = 0; i < r->n_headers; i++) {
        const struct aksk_header *h = &r->headers[i];
        size_t nl, vl;

        if (!h->name || !h->value)
            return -EINVAL;
        nl = strnlen(h->name, AKSK_HEADER_NAME_MAX + 1);
        vl = strnlen(h->value, AKSK_HEADER_VALUE_MAX + 1);
        if (nl > AKSK_HEADER_NAME_MAX || vl > AKSK_HEADER_VALUE_MAX)
            return -E2BIG;
        if (nl == 0)
            return -EINVAL;
        for (j = 0; j < nl; j++)
            if (!tchar((unsigned char)h->name[j]))
                return -EINVAL;
        for (j = 0; j < vl; j++) {
            unsigned char c = (unsigned char)h->value[j];
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return -EINVAL;
        }
        for (j = 0; j < i; j++)
            if (name_cmp(h->name, r->headers[j].name) == 0)
                return -EINVAL; /* one value per name: which one was signed would be ambiguous */
        if (name_cmp(h->name, AKSK_DATE_HEADER) == 0) {
            *date_len = trim(h->value, date);
            if (!aksk_date_valid(*date, *date_len))
                return -EINVAL;
            have_date = 1;
        }
        if (signable(h, r->flags))
            s[k++].h = h;
    }
    if (!have_date)
        return -EINVAL;
    qsort(s, k, sizeof(s[0]), hsort_cmp);
    *n = k;
    return 0;
}

/* Append the lower-case form of name. */
static int put_lower(struct strbuf *out, const char *name)
{
    char buf[AKSK_HEADER_NAME_MAX];
    size_t n = strlen(name), i;

    for (i = 0; i < n; i++)
        buf[i] = (char)lower((unsigned char)name[i]);
    return strbuf_append(out, buf, n);
}

static int put_signed_list(struct strbuf *out, const struct hsort *s, size_t n)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        if (i > 0)
            rc = strbuf_putc(out, ';');
        if (rc == 0)
            rc = put_lower(out, s[i].h->name);
    }
    return rc;
}

int aksk_signed_headers(const struct aksk_request *r, struct strbuf *out)
{
    struct hsort s[AKSK_HEADERS_MAX];
    size_t n, start = out->len, dl;
    const char *d;
    int rc = collect(r, s, &n, &d, &dl);

    if (rc == 0)
        rc = put_signed_list(out, s, n);
    if (rc != 0 && out->len > start)
        strbuf_truncate(out, start);
    return rc;
}

/*
 * The canonical request of r appended to out; the signed headers, sorted, in
 * s[*n], the X-Sdk-Date value in *date / *date_len.
 */
static int canonical_request(const struct aksk_request *r, struct strbuf *out,
                             struct hsort s[AKSK_HEADERS_MAX], size_t *np, const char **date,
                             size_t *date_len)
{
    struct url_parts u;
    char hash[AKSK_HEX_LEN + 1];
    size_t n = 0, i, start = out->len;
    int rc;

    rc = collect(r, s, &n, date, date_len);
    if (rc == 0)
        rc = split_url(r->url, &u);
    if (rc == 0)
        rc = aksk_sha256_hex(r->body, r->body_len, hash);
    if (rc == 0)
        rc = strbuf_puts(out, r->method);
    if (rc == 0)
        rc = strbuf_putc(out, '\n');
    if (rc == 0)
        rc = canonical_uri(u.path, u.path_len, out);
    if (rc == 0)
        rc = strbuf_putc(out, '\n');
    if (rc == 0)
        rc = canonical_query(u.query, u.query_len, out);
    if (rc == 0)
        rc = strbuf_putc(out, '\n');
    for (i = 0; i < n && rc == 0; i++) {
        const char *v;
        size_t vl = trim(s[i].h->value, &v);

        rc = put_lower(out, s[i].h->name);
        if (rc == 0)
            rc = strbuf_putc(out, ':');
        if (rc == 0)
            rc = strbuf_append(out, v, vl);
        if (rc == 0)
            rc = strbuf_putc(out, '\n');
    }
    if (rc == 0)
        rc = strbuf_putc(out, '\n');
    if (rc == 0)
        rc = put_signed_list(out, s, n);
    if (rc == 0)
        rc = strbuf_putc(out, '\n');
    if (rc == 0)
        rc = strbuf_append(out, hash, AKSK_HEX_LEN);
    if (rc != 0 && out->len > start)
        strbuf_truncate(out, start);
    *np = n;
    return rc;
}

int aksk_canonical_request(const struct aksk_request *r, struct strbuf *out)
{
    struct hsort s[AKSK_HEADERS_MAX];
    const char *d;
    size_t n, dl;

    return canonical_request(r, out, s, &n, &d, &dl);
}

/* ---- hashing and signing ---------------------------------------------------------------- */

static void to_hex(const unsigned char *md, size_t n, char *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = hexlow[md[i] >> 4];
        out[2 * i + 1] = hexlow[md[i] & 15];
    }
    out[2 * n] = '\0';
}

int aksk_sha256_hex(const void *p, size_t n, char out[AKSK_HEX_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (!EVP_Digest(n ? p : "", n, md, &mdlen, EVP_sha256(), NULL) || mdlen * 2 != AKSK_HEX_LEN)
        return -EIO;
    to_hex(md, mdlen, out);
    return 0;
}

int aksk_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
                         char out[AKSK_HEX_LEN + 1])
{
    static const unsigned char empty[1];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (key_len > AKSK_KEY_MAX)
        return -EINVAL;
    if (!HMAC(EVP_sha256(), key_len ? key : empty, (int)key_len,
              msg_len ? (const unsigned char *)msg : empty, msg_len, md, &mdlen) ||
        mdlen * 2 != AKSK_HEX_LEN)
        return -EIO;
    to_hex(md, mdlen, out);
    return 0;
}

int aksk_string_to_sign(const char *sdk_date, const char *canonical, size_t len, struct strbuf *out)
{
    char hash[AKSK_HEX_LEN + 1];
    size_t start = out->len;
    int rc;

    if (!sdk_date || !aksk_date_valid(sdk_date, strlen(sdk_date)))
        return -EINVAL;
    rc = aksk_sha256_hex(canonical, len, hash);
    if (rc == 0)
        rc = strbuf_printf(out, "%s\n%s\n%s", AKSK_ALGORITHM, sdk_date, hash);
    if (rc != 0 && out->len > start)
        strbuf_truncate(out, start);
    return rc;
}

int aksk_ak_valid(const char *ak)
{
    size_t n, i;

    if (!ak)
        return 0;
    n = strnlen(ak, AKSK_KEY_MAX + 1);
    if (n == 0 || n > AKSK_KEY_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)ak[i] <= ' ' || (unsigned char)ak[i] >= 0x7f || ak[i] == ',')
            return 0;
    return 1;
}

int aksk_sign(const struct aksk_request *r, const char *ak, const char *sk, struct strbuf *out)
{
    struct strbuf canon, sts;
    struct hsort s[AKSK_HEADERS_MAX];
    char date[AKSK_DATE_LEN + 1], sig[AKSK_HEX_LEN + 1];
    const char *d;
    size_t dl, n, skl, start = out->len;
    int rc;

    if (!aksk_ak_valid(ak) || !sk)
        return -EINVAL;
    skl = strnlen(sk, AKSK_KEY_MAX + 1);
    if (skl == 0 || skl > AKSK_KEY_MAX)
        return -EINVAL;
    strbuf_init(&canon, AKSK_CANONICAL_MAX);
    strbuf_init(&sts, 2 * AKSK_HEX_LEN);
    rc = canonical_request(r, &canon, s, &n, &d, &dl);
    if (rc == 0 && !canon.data)
        rc = -ENOMEM; /* cannot be empty: it holds at least the method */
    if (rc == 0) {
        memcpy(date, d, dl); /* dl == AKSK_DATE_LEN: collect checked its shape */
        date[dl] = '\0';
        rc = aksk_string_to_sign(date, canon.data, canon.len, &sts);
    }
    if (rc == 0)
        rc = aksk_hmac_sha256_hex(sk, skl, sts.data, sts.len, sig);
    if (rc == 0)
        rc = strbuf_printf(out, "%s Access=%s, SignedHeaders=", AKSK_ALGORITHM, ak);
    if (rc == 0)
        rc = put_signed_list(out, s, n);
    if (rc == 0)
        rc = strbuf_printf(out, ", Signature=%s", sig);
    if (rc != 0 && out->len > start)
        strbuf_truncate(out, start);
    strbuf_release(&canon);
    strbuf_release(&sts);
    return rc;
}

/* ---- dates and hosts -------------------------------------------------------------------- */

int aksk_format_date(time_t t, char out[AKSK_DATE_LEN + 1])
{
    struct tm tm;
    char buf[64];
    int n;

    if (t < 0 || !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
        return -EINVAL;
    n = snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (n != AKSK_DATE_LEN)
        return -EINVAL;
    memcpy(out, buf, AKSK_DATE_LEN + 1);
    return 0;
}

/* Value of the n digits at p, or -1. */
static int num(const char *p, size_t n)
{
    int v = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int aksk_date_valid(const char *v, size_t len)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int year, mon, day, leap;

    if (len != AKSK_DATE_LEN || v[8] != 'T' || v[15] != 'Z')
        return 0;
    year = num(v, 4);
    mon = num(v + 4, 2);
    day = num(v + 6, 2);
    if (year < 1970 || mon < 1 || mon > 12 || day < 1)
        return 0;
    leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (day > mdays[mon - 1] + (mon == 2 && leap))
        return 0;
    return num(v + 9, 2) >= 0 && num(v + 9, 2) <= 23 && num(v + 11, 2) >= 0 &&
           num(v + 11, 2) <= 59 && num(v + 13, 2) >= 0 && num(v + 13, 2) <= 59;
}

int aksk_url_host(const char *url, char *out, size_t cap)
{
    struct url_parts u;
    const char *a;
    size_t n, i;
    int rc = split_url(url, &u);

    if (rc)
        return rc;
    if (url[0] == '/')
        return -EINVAL;
    a = u.authority;
    n = u.authority_len;
    for (i = n; i > 0; i--) {
        if (a[i - 1] == '@') {
            a += i;
            n -= i;
            break;
        }
    }
    if (n == 0 || a[0] == ':')
        return -EINVAL;
    if (n >= cap)
        return -E2BIG;
    memcpy(out, a, n);
    out[n] = '\0';
    return 0;
}
