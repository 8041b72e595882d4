/*
 * fuzz_aksk: libFuzzer target for AK/SK canonicalisation and signing
 * (src/auth/aksk.c), checked against the simulator's independent verifier
 * (src/sim/sim_aksk.c).
 *
 * Input: an optional '!' (sign every header, AKSK_SIGN_ALL_HEADERS), then
 *   METHOD '\n' URL '\n' (NAME ':' VALUE '\n')* '\n' BODY
 * For what it accepts, the signer must hold its promises: a canonical URI that
 * starts and ends with '/' and holds only unreserved bytes, '/' and upper-case
 * %XX; a canonical query of k=v parts joined by '&' in the same alphabet; a
 * canonical request of the documented shape. And, wherever the input is a
 * request both sides can see the same way (an origin-form target without
 * '#', no Authorization header of its own), the verifier must rebuild the
 * very same canonical request and accept the signature, and refuse it with
 * any one of its bits flipped.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "aksk.h"
#include "sim_aksk.h"
#include "strbuf.h"

#define FUZZ_AK "fuzz-ak"
#define FUZZ_SK "fuzz-sk"
#define FUZZ_INPUT_MAX 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Only unreserved bytes, '/' (when slash), and "%XX" with upper-case hex? */
static int encoded_only(const char *s, size_t n, int slash, const char *also)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || (slash && c == '/') ||
            (c && strchr(also, c)))
            continue;
        if (c != '%' || i + 2 >= n || !strchr("0123456789ABCDEF", s[i + 1]) || !s[i + 1] ||
            !strchr("0123456789ABCDEF", s[i + 2]) || !s[i + 2])
            return 0;
        i += 2;
    }
    return 1;
}

/* Every '&'-separated part of q[0..n) has exactly one '='. */
static int pairs_only(const char *q, size_t n)
{
    size_t i, eq = 0, start = 0;

    for (i = 0; i <= n; i++) {
        if (i == n || q[i] == '&') {
            if (eq != 1 || i == start)
                return n == 0;
            eq = 0;
            start = i + 1;
        } else if (q[i] == '=') {
            eq++;
        }
    }
    return 1;
}

/* Seconds since the epoch of a valid X-Sdk-Date value. */
static time_t date_seconds(const char *d)
{
    struct tm tm;
    int v[6], i;
    static const int at[6] = {0, 4, 6, 9, 11, 13}, len[6] = {4, 2, 2, 2, 2, 2};

    for (i = 0; i < 6; i++) {
        int k;
        v[i] = 0;
        for (k = 0; k < len[i]; k++)
            v[i] = v[i] * 10 + (d[at[i] + k] - '0');
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = v[0] - 1900;
    tm.tm_mon = v[1] - 1;
    tm.tm_mday = v[2];
    tm.tm_hour = v[3];
    tm.tm_min = v[4];
    tm.tm_sec = v[5];
    return timegm(&tm);
}

static void check_uri_and_query(const char *url)
{
    struct strbuf b;

    strbuf_init(&b, AKSK_CANONICAL_MAX);
    if (aksk_canonical_uri(url, &b) == 0) {
        if (!b.data || b.data[0] != '/' || b.data[b.len - 1] != '/' ||
            !encoded_only(b.data, b.len, 1, ""))
            abort();
    } else if (b.len != 0) {
        abort(); /* a failure leaves the buffer as it was */
    }
    strbuf_truncate(&b, 0);
    if (aksk_canonical_query(url, &b) == 0) {
        if (b.len && (!encoded_only(b.data, b.len, 0, "=&") || !pairs_only(b.data, b.len)))
            abort();
    } else if (b.len != 0) {
        abort();
    }
    strbuf_release(&b);
}

/*
 * The differential check: the verifier rebuilds the same canonical request,
 * accepts the signature and refuses it with one bit flipped.
 */
static void check_with_verifier(const struct aksk_request *r, const char *canon, const char *auth)
{
    struct sim_aksk_header vh[AKSK_HEADERS_MAX + 1];
    struct sim_aksk_req vr;
    struct strbuf list, vc;
    const char *date = NULL;
    char *flipped;
    size_t i, n;

    if (r->url[0] != '/' || strchr(r->url, '#'))
        return;
    for (i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, "authorization") == 0)
            return;
        if (strcasecmp(r->headers[i].name, AKSK_DATE_HEADER) == 0)
            date = r->headers[i].value;
        vh[i].name = r->headers[i].name;
        vh[i].value = r->headers[i].value;
    }
    while (*date == ' ' || *date == '\t')
        date++;
    vh[i].name = "Authorization";
    vh[i].value = auth;
    memset(&vr, 0, sizeof(vr));
    vr.method = r->method;
    vr.target = r->url;
    vr.headers = vh;
    vr.n_headers = r->n_headers + 1;
    vr.body = r->body;
    vr.body_len = r->body_len;

    strbuf_init(&list, AKSK_CANONICAL_MAX);
    strbuf_init(&vc, SIM_AKSK_CANON_MAX);
    if (aksk_signed_headers(r, &list) != 0 || !list.data)
        abort();
    if (sim_aksk_canonical(&vr, list.data, &vc) != 0 || !vc.data || strcmp(vc.data, canon) != 0)
        abort();
    if (sim_aksk_verify(&vr, FUZZ_AK, FUZZ_SK, NULL, date_seconds(date)) != SIM_AKSK_OK)
        abort();
    /* one flipped bit of the signature, chosen by the input's length */
    n = strlen(auth);
    flipped = strdup(auth);
    if (!flipped)
        abort();
    i = n - 1 - (vr.body_len + strlen(r->url)) % 64;
    flipped[i] ^= (char)(1u << (strlen(r->url) % 8));
    vh[r->n_headers].value = flipped;
    if (sim_aksk_verify(&vr, FUZZ_AK, FUZZ_SK, NULL, date_seconds(date)) == SIM_AKSK_OK)
        abort();
    free(flipped);
    strbuf_release(&list);
    strbuf_release(&vc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aksk_header h[AKSK_HEADERS_MAX + 2];
    struct aksk_request r;
    struct strbuf canon, auth;
    char *buf, *p, *end, *line;
    size_t n = 0;
    unsigned flags = 0;
    int rc;

    if (size > FUZZ_INPUT_MAX)
        return 0;
    buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    p = buf;
    end = buf + size;
    if (p < end && *p == '!') {
        flags = AKSK_SIGN_ALL_HEADERS;
        p++;
    }
    memset(&r, 0, sizeof(r));
    /* method and URL: the first two lines */
    r.method = p;
    p = memchr(p, '\n', (size_t)(end - p));
    if (!p)
        goto out;
    *p++ = '\0';
    r.url = p;
    p = memchr(p, '\n', (size_t)(end - p));
    if (!p)
        goto out;
    *p++ = '\0';
    /* headers until an empty line (at most one more than the cap, to reach it) */
    while (p < end && *p != '\n' && n < AKSK_HEADERS_MAX + 2) {
        char *colon, *nl = memchr(p, '\n', (size_t)(end - p));
        line = p;
        if (!nl)
            goto out;
        *nl = '\0';
        p = nl + 1;
        colon = strchr(line, ':');
        if (!colon)
            goto out;
        *colon = '\0';
        h[n].name = line;
        h[n].value = colon + 1;
        n++;
    }
    if (p < end && *p == '\n')
        p++;
    r.headers = h;
    r.n_headers = n;
    r.body = p;
    r.body_len = (size_t)(end - p);
    r.flags = flags;

    check_uri_and_query(r.url);

    strbuf_init(&canon, AKSK_CANONICAL_MAX);
    strbuf_init(&auth, AKSK_AUTH_MAX);
    rc = aksk_canonical_request(&r, &canon);
    if (rc == 0) {
        /* METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n 64 hex */
        if (!canon.data || canon.len < AKSK_HEX_LEN + 6 ||
            strspn(canon.data + canon.len - AKSK_HEX_LEN, "0123456789abcdef") != AKSK_HEX_LEN ||
            canon.data[canon.len - AKSK_HEX_LEN - 1] != '\n' ||
            strncmp(canon.data, r.method, strlen(r.method)) != 0)
            abort();
        if (aksk_sign(&r, FUZZ_AK, FUZZ_SK, &auth) != 0 || !auth.data ||
            strncmp(auth.data, AKSK_ALGORITHM " Access=" FUZZ_AK ", SignedHeaders=",
                    sizeof(AKSK_ALGORITHM " Access=" FUZZ_AK ", SignedHeaders=") - 1) != 0)
            abort();
        check_with_verifier(&r, canon.data, auth.data);
    } else if (canon.len != 0 || (rc != -EINVAL && rc != -E2BIG)) {
        abort();
    } else if (aksk_sign(&r, FUZZ_AK, FUZZ_SK, &auth) != rc || auth.len != 0) {
        abort(); /* signing refuses what canonicalising refuses, the same way */
    }
    strbuf_release(&canon);
    strbuf_release(&auth);
out:
    free(buf);
    return 0;
}
