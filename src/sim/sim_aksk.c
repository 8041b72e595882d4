/*
 * sim_aksk: the simulator's AK/SK signature check (see sim_aksk.h). Written
 * from api-notes.md section 2 only; it must never call src/auth/aksk.c.
 */
#include "sim_aksk.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define ALG "SDK-HMAC-SHA256"
#define HEXSIG 64      /* hex characters of a signature */
#define LIST_MAX 16384 /* bytes of SignedHeaders */
#define ACCESS_MAX 256 /* bytes of an Access value */
#define DATE_NAME "x-sdk-date"

static const char *const reasons[] = {
    [SIM_AKSK_OK] = "ok",
    [SIM_AKSK_NO_SIGNATURE] = "no SDK-HMAC-SHA256 Authorization header",
    [SIM_AKSK_MALFORMED] = "the Authorization header is not of the form SDK-HMAC-SHA256 "
                           "Access=..., SignedHeaders=..., Signature=...",
    [SIM_AKSK_UNKNOWN_AK] = "the access key does not exist",
    [SIM_AKSK_DATE_MISSING] = "X-Sdk-Date is missing (or given twice)",
    [SIM_AKSK_DATE_GARBLED] = "X-Sdk-Date is not a UTC time YYYYMMDDTHHMMSSZ",
    [SIM_AKSK_DATE_SKEW] = "X-Sdk-Date is more than 15 minutes away from the server's clock",
    [SIM_AKSK_UNSIGNED] = "SignedHeaders lacks a header that must be signed (host, x-project-id, "
                          "x-sdk-date)",
    [SIM_AKSK_UNCANONICAL] = "a signed header is missing or repeated, or the request cannot be "
                             "canonicalised",
    [SIM_AKSK_BAD_SIGNATURE] = "verify aksk signature fail",
};

const char *sim_aksk_reason(enum sim_aksk_verdict v)
{
    if ((size_t)v >= sizeof(reasons) / sizeof(reasons[0]))
        return "unknown";
    return reasons[v];
}

/* ---- escapes ---------------------------------------------------------------------------- */

static int hexdigit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return 10 + c - 'A';
    if (c >= 'a' && c <= 'f')
        return 10 + c - 'a';
    return -1;
}

/*
 * "%XX" escapes of s[0..n) resolved into out (room for n bytes); with form,
 * '+' stands for a space. Returns the decoded length or -1 on a broken escape.
 */
static long unescape(const char *s, size_t n, int form, char *out)
{
    const char *end = s + n;
    char *o = out;

    while (s < end) {
        if (*s == '%') {
            if (end - s < 3 || hexdigit(s[1]) < 0 || hexdigit(s[2]) < 0)
                return -1;
            *o++ = (char)(hexdigit(s[1]) * 16 + hexdigit(s[2]));
            s += 3;
        } else if (form && *s == '+') {
            *o++ = ' ';
            s++;
        } else {
            *o++ = *s++;
        }
    }
    return (long)(o - out);
}

/* RFC 3986 unreserved: ALPHA DIGIT - . _ ~ */
static int plain(unsigned char c)
{
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
        return 1;
    if (c >= '0' && c <= '9')
        return 1;
    return c == '-' || c == '.' || c == '_' || c == '~';
}

/* Append s[0..n) with everything but unreserved bytes (and '/' when slash) as %XX. */
static int escape(struct strbuf *b, const char *s, size_t n, int slash)
{
    static const char up[] = "0123456789ABCDEF";
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (plain(c) || (slash && c == '/')) {
            rc = strbuf_putc(b, (char)c);
        } else {
            char t[3];
            t[0] = '%';
            t[1] = up[c / 16];
            t[2] = up[c % 16];
            rc = strbuf_append(b, t, 3);
        }
    }
    return rc;
}

/* ---- the request target ----------------------------------------------------------------- */

/* Path and query of a request target. Returns 0 or -EINVAL. */
static int target_parts(const char *t, const char **path, size_t *path_len, const char **query,
                        size_t *query_len)
{
    const char *q;

    if (!t)
        return -EINVAL;
    if (strlen(t) > SIM_AKSK_TARGET_MAX)
        return -E2BIG;
    if (*t != '/') { /* absolute form: skip "scheme://authority" */
        const char *sep = strstr(t, "://");
        if (!sep || sep == t)
            return -EINVAL;
        t = sep + 3;
        t += strcspn(t, "/?");
    }
    if (strchr(t, '#'))
        return -EINVAL; /* a fragment never travels */
    q = strchr(t, '?');
    *path = t;
    *path_len = q ? (size_t)(q - t) : strlen(t);
    *query = q ? q + 1 : "";
    *query_len = q ? strlen(q + 1) : 0;
    return 0;
}

static int put_path(struct strbuf *b, const char *p, size_t n)
{
    char *raw = calloc(1, n + 1); /* zeroed: GCC -O3 cannot see unescape() set it */
    long k;
    int rc;

    if (!raw)
        return -ENOMEM;
    k = unescape(p, n, 0, raw);
    if (k < 0) {
        free(raw);
        return -EINVAL;
    }
    rc = escape(b, raw, (size_t)k, 1);
    if (rc == 0 && (k == 0 || raw[k - 1] != '/'))
        rc = strbuf_putc(b, '/');
    free(raw);
    return rc;
}

struct param {
    const char *key, *val;
    size_t klen, vlen;
};

static int bytes_order(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;
    int c = n ? memcmp(a, b, n) : 0;

    if (c)
        return c;
    if (an == bn)
        return 0;
    return an < bn ? -1 : 1;
}

static int param_order(const struct param *a, const struct param *b)
{
    int c = bytes_order(a->key, a->klen, b->key, b->klen);

    return c ? c : bytes_order(a->val, a->vlen, b->val, b->vlen);
}

static int put_query(struct strbuf *b, const char *q, size_t n)
{
    struct param *ps = NULL;
    char *arena = NULL;
    size_t np = 0, used = 0, i, j;
    const char *p = q, *end = q + n;
    int rc = 0;

    if (n == 0)
        return 0;
    ps = calloc(SIM_AKSK_PARAMS_MAX, sizeof(*ps));
    arena = malloc(n);
    if (!ps || !arena) {
        rc = -ENOMEM;
        goto out;
    }
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        const char *eq = memchr(p, '=', (size_t)(stop - p));
        long kl, vl = 0;

        if (stop > p) {
            if (np == SIM_AKSK_PARAMS_MAX) {
                rc = -E2BIG;
                goto out;
            }
            kl = unescape(p, (size_t)((eq ? eq : stop) - p), 1, arena + used);
            if (kl < 0) {
                rc = -EINVAL;
                goto out;
            }
            ps[np].key = arena + used;
            ps[np].klen = (size_t)kl;
            used += (size_t)kl;
            if (eq) {
                vl = unescape(eq + 1, (size_t)(stop - eq - 1), 1, arena + used);
                if (vl < 0) {
                    rc = -EINVAL;
                    goto out;
                }
            }
            ps[np].val = arena + used;
            ps[np].vlen = (size_t)vl;
            used += (size_t)vl;
            np++;
        }
        p = amp ? amp + 1 : end;
    }
    /* insertion sort: stable, and np is small */
    for (i = 1; i < np; i++) {
        struct param cur = ps[i];
        for (j = i; j > 0 && param_order(&ps[j - 1], &cur) > 0; j--)
            ps[j] = ps[j - 1];
        ps[j] = cur;
    }
    for (i = 0; i < np && rc == 0; i++) {
        if (i)
            rc = strbuf_putc(b, '&');
        if (!rc)
            rc = escape(b, ps[i].key, ps[i].klen, 0);
        if (!rc)
            rc = strbuf_putc(b, '=');
        if (!rc)
            rc = escape(b, ps[i].val, ps[i].vlen, 0);
    }
out:
    free(ps);
    free(arena);
    return rc;
}

/* ---- headers ---------------------------------------------------------------------------- */

static int same_name(const char *a, const char *b, size_t bn)
{
    size_t i;

    for (i = 0; i < bn; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x == '\0')
            return 0;
        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x + ('a' - 'A'));
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y + ('a' - 'A'));
        if (x != y)
            return 0;
    }
    return a[bn] == '\0';
}

/*
 * The value of the one header of r named name[0..nl) (any case), trimmed of
 * spaces and tabs. Returns 0, -ENOENT (absent) or -EEXIST (more than one).
 */
static int one_header(const struct sim_aksk_req *r, const char *name, size_t nl, const char **v,
                      size_t *vl)
{
    const char *found = NULL;
    size_t i, n;

    for (i = 0; i < r->n_headers; i++) {
        if (!same_name(r->headers[i].name, name, nl))
            continue;
        if (found)
            return -EEXIST;
        found = r->headers[i].value ? r->headers[i].value : "";
    }
    if (!found)
        return -ENOENT;
    n = strlen(found);
    while (n > 0 && (found[n - 1] == ' ' || found[n - 1] == '\t'))
        n--;
    while (n > 0 && (*found == ' ' || *found == '\t'))
        found++, n--;
    *v = found;
    *vl = n;
    return 0;
}

/* Is list "a;b;c" lower-case names, none empty, strictly ascending? */
static int list_ok(const char *list)
{
    const char *prev = NULL, *p = list;
    size_t prevlen = 0;

    for (;;) {
        size_t n = strcspn(p, ";"), i;
        if (n == 0)
            return 0;
        for (i = 0; i < n; i++) {
            unsigned char c = (unsigned char)p[i];
            if (c <= ' ' || c >= 0x7f || (c >= 'A' && c <= 'Z') || strchr("\"(),/:<=>?@[\\]{}", c))
                return 0;
        }
        if (prev && bytes_order(prev, prevlen, p, n) >= 0)
            return 0;
        prev = p;
        prevlen = n;
        if (p[n] == '\0')
            return 1;
        p += n + 1;
    }
}

/* ---- canonical request and signature ---------------------------------------------------- */

int sim_aksk_canonical(const struct sim_aksk_req *r, const char *signed_list, struct strbuf *out)
{
    const char *path, *query, *p;
    size_t plen, qlen;
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0, i;
    char hex[2 * EVP_MAX_MD_SIZE + 1];
    int rc;

    if (!r->method || !signed_list || !list_ok(signed_list) || r->n_headers > SIM_AKSK_HEADERS_MAX)
        return -EINVAL;
    rc = target_parts(r->target, &path, &plen, &query, &qlen);
    if (rc)
        return rc;
    if (!EVP_Q_digest(NULL, "SHA256", NULL, r->body_len ? r->body : "", r->body_len, md, &mdlen))
        return -EIO;
    for (i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);

    rc = strbuf_printf(out, "%s\n", r->method);
    if (!rc)
        rc = put_path(out, path, plen);
    if (!rc)
        rc = strbuf_putc(out, '\n');
    if (!rc)
        rc = put_query(out, query, qlen);
    if (!rc)
        rc = strbuf_putc(out, '\n');
    for (p = signed_list; !rc;) {
        size_t n = strcspn(p, ";"), vl;
        const char *v;

        rc = one_header(r, p, n, &v, &vl);
        if (rc)
            return -EINVAL; /* a signed header must be there, once */
        rc = strbuf_append(out, p, n);
        if (!rc)
            rc = strbuf_putc(out, ':');
        if (!rc)
            rc = strbuf_append(out, v, vl);
        if (!rc)
            rc = strbuf_putc(out, '\n');
        if (p[n] == '\0')
            break;
        p += n + 1;
    }
    if (!rc)
        rc = strbuf_printf(out, "\n%s\n%s", signed_list, hex);
    return rc;
}

int sim_aksk_signature(const char *canonical, size_t len, const char *date, const char *sk,
                       char sig[65])
{
    unsigned char md[EVP_MAX_MD_SIZE], mac[EVP_MAX_MD_SIZE];
    size_t mdlen = 0, maclen = 0, i;
    char sts[256];
    int n;

    if (!EVP_Q_digest(NULL, "SHA256", NULL, canonical, len, md, &mdlen) || mdlen != 32)
        return -EIO;
    n = snprintf(sts, sizeof(sts), ALG "\n%s\n", date);
    if (n < 0 || (size_t)n + 2 * mdlen >= sizeof(sts))
        return -EIO;
    for (i = 0; i < mdlen; i++)
        snprintf(sts + n + 2 * i, 3, "%02x", md[i]);
    if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, sk, strlen(sk), (unsigned char *)sts,
                   (size_t)n + 2 * mdlen, mac, sizeof(mac), &maclen) ||
        maclen != 32)
        return -EIO;
    for (i = 0; i < maclen; i++)
        snprintf(sig + 2 * i, 3, "%02x", mac[i]);
    return 0;
}

/* ---- the verdict ------------------------------------------------------------------------ */

struct authz {
    char access[ACCESS_MAX + 1];
    char list[LIST_MAX + 1];
    char sig[HEXSIG + 1];
};

/* Copy v[0..n) into dst (cap bytes with NUL). Returns 0 or -1 when empty or too long. */
static int take(char *dst, size_t cap, const char *v, size_t n)
{
    if (n == 0 || n >= cap)
        return -1;
    memcpy(dst, v, n);
    dst[n] = '\0';
    return 0;
}

/* Parse "SDK-HMAC-SHA256 Access=.., SignedHeaders=.., Signature=..". Returns 0 or -1. */
static int parse_authz(const char *h, struct authz *a)
{
    int seen_a = 0, seen_l = 0, seen_s = 0;
    const char *p = h;

    if (strncmp(p, ALG, sizeof(ALG) - 1) != 0 || p[sizeof(ALG) - 1] != ' ')
        return -1;
    p += sizeof(ALG) - 1;
    for (;;) {
        const char *key, *eq, *val, *stop;
        size_t kl, vl;

        while (*p == ' ')
            p++;
        key = p;
        eq = strchr(p, '=');
        if (!eq)
            return -1;
        kl = (size_t)(eq - key);
        val = eq + 1;
        stop = val + strcspn(val, ",");
        vl = (size_t)(stop - val);
        while (vl > 0 && val[vl - 1] == ' ')
            vl--;
        if (kl == 6 && strncmp(key, "Access", 6) == 0 && !seen_a++) {
            if (take(a->access, sizeof(a->access), val, vl))
                return -1;
        } else if (kl == 13 && strncmp(key, "SignedHeaders", 13) == 0 && !seen_l++) {
            if (take(a->list, sizeof(a->list), val, vl))
                return -1;
        } else if (kl == 9 && strncmp(key, "Signature", 9) == 0 && !seen_s++) {
            if (take(a->sig, sizeof(a->sig), val, vl))
                return -1;
        } else {
            return -1; /* unknown or repeated */
        }
        if (*stop == '\0')
            break;
        p = stop + 1;
    }
    return seen_a && seen_l && seen_s ? 0 : -1;
}

/* "YYYYMMDDTHHMMSSZ" -> seconds since the epoch, or -1 when garbled (also 20230231...). */
static int64_t parse_date(const char *v, size_t n)
{
    static const unsigned char digit_at[] = {0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14};
    int f[14];
    struct tm tm, back, want;
    time_t t;
    size_t i;

    if (n != 16 || v[8] != 'T' || v[15] != 'Z')
        return -1;
    for (i = 0; i < sizeof(digit_at); i++) {
        if (v[digit_at[i]] < '0' || v[digit_at[i]] > '9')
            return -1;
        f[i] = v[digit_at[i]] - '0';
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = f[0] * 1000 + f[1] * 100 + f[2] * 10 + f[3] - 1900;
    tm.tm_mon = f[4] * 10 + f[5] - 1;
    tm.tm_mday = f[6] * 10 + f[7];
    tm.tm_hour = f[8] * 10 + f[9];
    tm.tm_min = f[10] * 10 + f[11];
    tm.tm_sec = f[12] * 10 + f[13];
    if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 59)
        return -1;
    want = tm; /* timegm normalises its argument: 31 February becomes 3 March */
    t = timegm(&tm);
    if (t == (time_t)-1 || !gmtime_r(&t, &back) || back.tm_mday != want.tm_mday ||
        back.tm_mon != want.tm_mon)
        return -1; /* the day does not exist */
    return (int64_t)t;
}

static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;

    for (;;) {
        size_t k = strcspn(p, ";");
        if (k == n && strncmp(p, name, n) == 0)
            return 1;
        if (p[k] == '\0')
            return 0;
        p += k + 1;
    }
}

/* The verdict on everything but the signature itself: the header, the key, the date, the list. */
static enum sim_aksk_verdict check_header(const struct sim_aksk_req *r, const char *ak,
                                          const char *const *must_sign, time_t now, struct authz *a,
                                          char date_z[17])
{
    const char *h, *date;
    char *copy;
    size_t hl, dl, i;
    int64_t t, skew;
    int bad;

    if (one_header(r, "authorization", 13, &h, &hl) != 0 || hl < sizeof(ALG) - 1 ||
        strncmp(h, ALG, sizeof(ALG) - 1) != 0)
        return SIM_AKSK_NO_SIGNATURE;
    if (hl > ACCESS_MAX + LIST_MAX + HEXSIG + 128)
        return SIM_AKSK_MALFORMED;
    copy = malloc(hl + 1);
    if (!copy)
        return SIM_AKSK_UNCANONICAL; /* out of memory: refused all the same */
    memcpy(copy, h, hl);
    copy[hl] = '\0';
    bad = parse_authz(copy, a);
    free(copy);
    if (bad || strlen(a->sig) != HEXSIG || strspn(a->sig, "0123456789abcdef") != HEXSIG ||
        !list_ok(a->list))
        return SIM_AKSK_MALFORMED;
    if (strcmp(a->access, ak) != 0)
        return SIM_AKSK_UNKNOWN_AK;
    if (one_header(r, DATE_NAME, sizeof(DATE_NAME) - 1, &date, &dl) != 0)
        return SIM_AKSK_DATE_MISSING;
    t = parse_date(date, dl);
    if (t < 0)
        return SIM_AKSK_DATE_GARBLED;
    skew = (int64_t)now - t;
    if (skew > SIM_AKSK_SKEW_MAX_S || skew < -SIM_AKSK_SKEW_MAX_S)
        return SIM_AKSK_DATE_SKEW;
    if (!in_list(a->list, DATE_NAME))
        return SIM_AKSK_UNSIGNED;
    for (i = 0; must_sign && must_sign[i]; i++)
        if (!in_list(a->list, must_sign[i]))
            return SIM_AKSK_UNSIGNED;
    memcpy(date_z, date, 16);
    date_z[16] = '\0';
    return SIM_AKSK_OK;
}

enum sim_aksk_verdict sim_aksk_verify(const struct sim_aksk_req *r, const char *ak, const char *sk,
                                      const char *const *must_sign, time_t now)
{
    struct authz *a = malloc(sizeof(*a));
    struct strbuf canon;
    char want[HEXSIG + 1], date_z[17];
    enum sim_aksk_verdict v;

    if (!a)
        return SIM_AKSK_UNCANONICAL;
    v = check_header(r, ak, must_sign, now, a, date_z);
    if (v != SIM_AKSK_OK) {
        free(a);
        return v;
    }
    strbuf_init(&canon, SIM_AKSK_CANON_MAX);
    if (sim_aksk_canonical(r, a->list, &canon) != 0 || !canon.data)
        v = SIM_AKSK_UNCANONICAL;
    else if (sim_aksk_signature(canon.data, canon.len, date_z, sk, want) != 0)
        v = SIM_AKSK_BAD_SIGNATURE;
    else
        v = CRYPTO_memcmp(want, a->sig, HEXSIG) == 0 ? SIM_AKSK_OK : SIM_AKSK_BAD_SIGNATURE;
    strbuf_release(&canon);
    free(a);
    return v;
}
