/*
 * test_sim_aksk: the simulator's own AK/SK verifier (src/sim/sim_aksk.c),
 * without the exporter's signer.
 *
 * The two published vectors of api-notes.md section 2 verbatim: the first's
 * canonical request and Authorization header, the second's sha256 of the
 * canonical request and signature; both verify at their own X-Sdk-Date. Then
 * every single-bit flip of a verifiable request is refused: each bit of the
 * signature, of the access key, of every signed header value, of the method,
 * of the request target (path and query) and of the body. And the date rules
 * (missing, garbled, 15 minutes of skew either way), the required signed
 * headers, malformed Authorization headers, repeated or absent signed headers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "sim_aksk.h"
#include "strbuf.h"

#define V1_NOW 1136214245 /* 20060102T150405Z */
#define V2_NOW 1573789015 /* 20191115T033655Z */
#define V1_AUTH                                                                                    \
    "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "                                 \
    "Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
#define V2_AK "QTWAOYTTINDUT2QVKYUC"
#define V2_SK "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
#define V2_SIG "7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe"
#define V2_AUTH                                                                                    \
    "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=content-type;host;x-sdk-date, "               \
    "Signature=" V2_SIG
#define V2_TARGET                                                                                  \
    "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-"            \
    "536f674975c0"

/* A mutable request: every string a buffer that the flip tests can change. */
struct req {
    char method[16];
    char target[256];
    char names[6][32];
    char values[6][256];
    struct sim_aksk_header h[6];
    size_t n;
    char body[64];
    size_t body_len;
};

static void req_add(struct req *q, const char *name, const char *value)
{
    snprintf(q->names[q->n], sizeof(q->names[0]), "%s", name);
    snprintf(q->values[q->n], sizeof(q->values[0]), "%s", value);
    q->n++;
}

/* The sim_aksk_req view of q (pointers into q). */
static struct sim_aksk_req view(struct req *q)
{
    struct sim_aksk_req r;
    size_t i;

    for (i = 0; i < q->n; i++) {
        q->h[i].name = q->names[i];
        q->h[i].value = q->values[i];
    }
    memset(&r, 0, sizeof(r));
    r.method = q->method;
    r.target = q->target;
    r.headers = q->h;
    r.n_headers = q->n;
    r.body = q->body;
    r.body_len = q->body_len;
    return r;
}

/* Vector 2 as a request, with its Authorization header. */
static void vector2(struct req *q)
{
    memset(q, 0, sizeof(*q));
    snprintf(q->method, sizeof(q->method), "GET");
    snprintf(q->target, sizeof(q->target), "%s", V2_TARGET);
    req_add(q, "Content-Type", "application/json");
    req_add(q, "Host", "service.region.example.com");
    req_add(q, "X-Sdk-Date", "20191115T033655Z");
    req_add(q, "Authorization", V2_AUTH);
}

static enum sim_aksk_verdict verify(struct req *q, const char *ak, const char *sk, time_t now)
{
    struct sim_aksk_req r = view(q);

    return sim_aksk_verify(&r, ak, sk, NULL, now);
}

/* ---- the published vectors -------------------------------------------------------------- */

static void vector1_verbatim(void **state)
{
    struct req q;
    struct sim_aksk_req r;
    struct strbuf b;
    char sig[65];

    (void)state;
    memset(&q, 0, sizeof(q));
    snprintf(q.method, sizeof(q.method), "GET");
    snprintf(q.target, sizeof(q.target), "/path?limit=1");
    req_add(&q, "X-Sdk-Date", "20060102T150405Z");
    r = view(&q);
    strbuf_init(&b, SIM_AKSK_CANON_MAX);
    assert_int_equal(sim_aksk_canonical(&r, "x-sdk-date", &b), 0);
    assert_string_equal(b.data, "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n"
                                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert_int_equal(sim_aksk_signature(b.data, b.len, "20060102T150405Z", "SecretKey", sig), 0);
    assert_string_equal(sig, "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624");
    strbuf_release(&b);

    /* the Authorization header, verbatim, is accepted; the absolute URL form too */
    req_add(&q, "Authorization", V1_AUTH);
    assert_int_equal(verify(&q, "AccessKey", "SecretKey", V1_NOW), SIM_AKSK_OK);
    snprintf(q.target, sizeof(q.target), "https://example.huaweicloud.com/path?limit=1");
    assert_int_equal(verify(&q, "AccessKey", "SecretKey", V1_NOW), SIM_AKSK_OK);
    assert_int_equal(verify(&q, "AccessKey", "SecretKeY", V1_NOW), SIM_AKSK_BAD_SIGNATURE);
}

static void vector2_verbatim(void **state)
{
    struct req q;
    struct sim_aksk_req r;
    struct strbuf b;
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0, i;
    char hex[65], sig[65];

    (void)state;
    vector2(&q);
    r = view(&q);
    strbuf_init(&b, SIM_AKSK_CANON_MAX);
    assert_int_equal(sim_aksk_canonical(&r, "content-type;host;x-sdk-date", &b), 0);
    assert_true(EVP_Q_digest(NULL, "SHA256", NULL, b.data, b.len, md, &mdlen));
    for (i = 0; i < mdlen; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    assert_string_equal(hex, "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a");
    assert_int_equal(sim_aksk_signature(b.data, b.len, "20191115T033655Z", V2_SK, sig), 0);
    assert_string_equal(sig, V2_SIG);
    strbuf_release(&b);
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_OK);
}

/* ---- every flipped bit is refused ------------------------------------------------------- */

/*
 * Flip each bit of s[0..n) in turn; each flipped request must be refused.
 * Returns how many flips were tried.
 */
static size_t flip_all(struct req *q, char *s, size_t n, const char *ak, const char *sk, time_t now,
                       const char *what)
{
    size_t i;
    int bit;

    for (i = 0; i < n; i++) {
        for (bit = 0; bit < 8; bit++) {
            enum sim_aksk_verdict v;
            s[i] ^= (char)(1u << bit);
            v = verify(q, ak, sk, now);
            s[i] ^= (char)(1u << bit);
            if (v == SIM_AKSK_OK)
                fail_msg("%s: flipping bit %d of byte %zu was accepted", what, bit, i);
        }
    }
    assert_int_equal(verify(q, ak, sk, now), SIM_AKSK_OK); /* restored: accepted again */
    return n * 8;
}

static void every_flipped_bit_refused(void **state)
{
    struct req q;
    char *auth, *p;
    size_t i, flips = 0;

    (void)state;
    vector2(&q);
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_OK);
    auth = q.values[3];
    /* the signature, every bit */
    p = strstr(auth, "Signature=") + strlen("Signature=");
    flips += flip_all(&q, p, strlen(p), V2_AK, V2_SK, V2_NOW, "signature");
    /* the access key */
    p = strstr(auth, "Access=") + strlen("Access=");
    flips += flip_all(&q, p, strlen(V2_AK), V2_AK, V2_SK, V2_NOW, "access key");
    /* every signed header value */
    for (i = 0; i < 3; i++)
        flips += flip_all(&q, q.values[i], strlen(q.values[i]), V2_AK, V2_SK, V2_NOW, q.names[i]);
    /* the method, the path and the query */
    flips += flip_all(&q, q.method, strlen(q.method), V2_AK, V2_SK, V2_NOW, "method");
    flips += flip_all(&q, q.target, strlen(q.target), V2_AK, V2_SK, V2_NOW, "target");
    assert_int_equal(flips, 8 * (64 + 20 + 16 + 26 + 16 + 3 + strlen(V2_TARGET)));
}

static void every_flipped_body_bit_refused(void **state)
{
    struct req q;
    struct sim_aksk_req r;
    struct strbuf b;
    char sig[65], auth[256];

    (void)state;
    memset(&q, 0, sizeof(q));
    snprintf(q.method, sizeof(q.method), "POST");
    snprintf(q.target, sizeof(q.target), "/v1.0/p/jobs");
    snprintf(q.body, sizeof(q.body), "{\"name\":\"elb\",\"n\":1}");
    q.body_len = strlen(q.body);
    req_add(&q, "X-Sdk-Date", "20191115T033655Z");
    r = view(&q);
    strbuf_init(&b, SIM_AKSK_CANON_MAX);
    assert_int_equal(sim_aksk_canonical(&r, "x-sdk-date", &b), 0);
    assert_int_equal(sim_aksk_signature(b.data, b.len, "20191115T033655Z", "sk", sig), 0);
    strbuf_release(&b);
    snprintf(auth, sizeof(auth),
             "SDK-HMAC-SHA256 Access=ak, SignedHeaders=x-sdk-date, Signature=%s", sig);
    req_add(&q, "Authorization", auth);
    assert_int_equal(verify(&q, "ak", "sk", V2_NOW), SIM_AKSK_OK);
    flip_all(&q, q.body, q.body_len, "ak", "sk", V2_NOW, "body");
    /* and a body cut short, or none */
    q.body_len--;
    assert_int_equal(verify(&q, "ak", "sk", V2_NOW), SIM_AKSK_BAD_SIGNATURE);
    q.body_len = 0;
    assert_int_equal(verify(&q, "ak", "sk", V2_NOW), SIM_AKSK_BAD_SIGNATURE);
}

/* ---- what does not change the signature ------------------------------------------------- */

static void equivalent_forms_accepted(void **state)
{
    struct req q;

    (void)state;
    /* the query in another order, header names in another case, values padded */
    vector2(&q);
    snprintf(q.target, sizeof(q.target),
             "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?marker=13551d6b-755d-4757-b956-"
             "536f674975c0&limit=2");
    snprintf(q.names[0], sizeof(q.names[0]), "CONTENT-type");
    snprintf(q.values[1], sizeof(q.values[1]), "  service.region.example.com\t");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_OK);
    /* an unsigned header is not covered */
    req_add(&q, "X-Unsigned", "anything");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_OK);
    /* the path with a trailing slash is the same canonical path */
    snprintf(q.target, sizeof(q.target),
             "/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/?limit=2&"
             "marker=13551d6b-755d-4757-b956-536f674975c0");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_OK);
}

/* ---- the date --------------------------------------------------------------------------- */

static void date_rules(void **state)
{
    static const char *const garbled[] = {
        "",
        "2019-11-15T03:36:55Z",
        "20191115T033655",
        "20191115t033655Z",
        "20191315T033655Z",
        "20190231T033655Z", /* no such day */
        "20191115T243655Z",
        "20191115T036055Z",
        "20191115T033660Z",
        "2019111xT033655Z",
    };
    struct req q;
    size_t i;

    (void)state;
    vector2(&q);
    /* 15 minutes either way is fine, a second more is not */
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW + 900), SIM_AKSK_OK);
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW - 900), SIM_AKSK_OK);
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW + 901), SIM_AKSK_DATE_SKEW);
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW - 901), SIM_AKSK_DATE_SKEW);
    assert_int_equal(verify(&q, V2_AK, V2_SK, 0), SIM_AKSK_DATE_SKEW);
    for (i = 0; i < sizeof(garbled) / sizeof(garbled[0]); i++) {
        snprintf(q.values[2], sizeof(q.values[2]), "%s", garbled[i]);
        if (verify(&q, V2_AK, V2_SK, V2_NOW) != SIM_AKSK_DATE_GARBLED)
            fail_msg("X-Sdk-Date \"%s\" not refused as garbled", garbled[i]);
    }
    /* missing, or given twice */
    vector2(&q);
    snprintf(q.names[2], sizeof(q.names[2]), "X-Sdk-Datum");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_DATE_MISSING);
    vector2(&q);
    req_add(&q, "x-sdk-date", "20191115T033655Z");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_DATE_MISSING);
}

/* ---- the Authorization header ----------------------------------------------------------- */

static void authorization_forms(void **state)
{
    static const char *const malformed[] = {
        "SDK-HMAC-SHA256",
        "SDK-HMAC-SHA256 ",
        "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=content-type;host;x-sdk-date",
        "SDK-HMAC-SHA256 Access=" V2_AK ", Signature=" V2_SIG,
        "SDK-HMAC-SHA256 SignedHeaders=content-type;host;x-sdk-date, Signature=" V2_SIG,
        "SDK-HMAC-SHA256 Access=, SignedHeaders=content-type;host;x-sdk-date, Signature=" V2_SIG,
        "SDK-HMAC-SHA256 Access=" V2_AK ", Access=" V2_AK
        ", SignedHeaders=content-type;host;x-sdk-date, Signature=" V2_SIG,
        "SDK-HMAC-SHA256 Access=" V2_AK
        ", SignedHeaders=content-type;host;x-sdk-date, Signature=" V2_SIG ", Extra=1",
        "SDK-HMAC-SHA256Access=" V2_AK
        ", SignedHeaders=content-type;host;x-sdk-date, Signature=" V2_SIG,
        /* upper-case hex, a short or long signature */
        "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=7BE6668032F70418FCC22ABC52071E57AFF61B84A1D2381BB430D6870F4F6EBE",
        "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6eb",
        "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=content-type;host;x-sdk-date, "
        "Signature=" V2_SIG "0",
        /* the list: unsorted, repeated, upper case, an empty name */
        "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=host;content-type;x-sdk-date, "
        "Signature=" V2_SIG,
        "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=content-type;host;host;x-sdk-date, "
        "Signature=" V2_SIG,
        "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=content-type;Host;x-sdk-date, "
        "Signature=" V2_SIG,
        "SDK-HMAC-SHA256 Access=" V2_AK ", SignedHeaders=content-type;;host;x-sdk-date, "
        "Signature=" V2_SIG,
    };
    struct req q;
    size_t i;

    (void)state;
    vector2(&q);
    /* the parameters in another order, without spaces: the same */
    snprintf(q.values[3], sizeof(q.values[3]),
             "SDK-HMAC-SHA256 Signature=" V2_SIG ",Access=" V2_AK
             ",SignedHeaders=content-type;host;x-sdk-date");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_OK);
    for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        snprintf(q.values[3], sizeof(q.values[3]), "%s", malformed[i]);
        if (verify(&q, V2_AK, V2_SK, V2_NOW) != SIM_AKSK_MALFORMED)
            fail_msg("Authorization \"%s\" not refused as malformed", malformed[i]);
    }
    /* another algorithm, or none: not a signed request at all */
    snprintf(q.values[3], sizeof(q.values[3]), "Bearer abc");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_NO_SIGNATURE);
    q.n = 3;
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_NO_SIGNATURE);
    /* another access key */
    vector2(&q);
    assert_int_equal(verify(&q, "QTWAOYTTINDUT2QVKYU", V2_SK, V2_NOW), SIM_AKSK_UNKNOWN_AK);
}

/* ---- which headers are signed ----------------------------------------------------------- */

static void signed_headers_rules(void **state)
{
    static const char *const need_project[] = {"host", "x-project-id", "x-sdk-date", NULL};
    static const char *const need_host[] = {"host", NULL};
    struct req q;
    struct sim_aksk_req r;

    (void)state;
    vector2(&q);
    r = view(&q);
    assert_int_equal(sim_aksk_verify(&r, V2_AK, V2_SK, need_host, V2_NOW), SIM_AKSK_OK);
    assert_int_equal(sim_aksk_verify(&r, V2_AK, V2_SK, need_project, V2_NOW), SIM_AKSK_UNSIGNED);
    /* x-sdk-date must always be signed */
    snprintf(q.values[3], sizeof(q.values[3]),
             "SDK-HMAC-SHA256 Access=" V2_AK
             ", SignedHeaders=content-type;host, Signature=" V2_SIG);
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_UNSIGNED);
    /* a signed header that is absent, or repeated */
    vector2(&q);
    snprintf(q.names[0], sizeof(q.names[0]), "Content-Typo");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_UNCANONICAL);
    vector2(&q);
    req_add(&q, "HOST", "service.region.example.com");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_UNCANONICAL);
    /* a target that cannot be canonicalised */
    vector2(&q);
    snprintf(q.target, sizeof(q.target), "/v1/%%zz");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_UNCANONICAL);
    snprintf(q.target, sizeof(q.target), "/v1/x?a=%%4");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_UNCANONICAL);
    snprintf(q.target, sizeof(q.target), "/v1/x#frag");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_UNCANONICAL);
    snprintf(q.target, sizeof(q.target), "v1/x");
    assert_int_equal(verify(&q, V2_AK, V2_SK, V2_NOW), SIM_AKSK_UNCANONICAL);
}

/* ---- canonical forms, as the algorithm text says ---------------------------------------- */

static void canonical_forms(void **state)
{
    static const struct {
        const char *target, *path_query; /* the second and third lines, joined by '\n' */
    } cases[] = {
        {"/", "/\n"},
        {"/a/b/", "/a/b/\n"},
        {"/a%2fb", "/a/b/\n"},
        {"/a b+c~", "/a%20b%2Bc~/\n"},
        {"/p?b=2&a=1&a=0", "/p/\na=0&a=1&b=2"},
        {"/p?k&j=", "/p/\nj=&k="},
        {"/p?q=a+b%2B%7e/", "/p/\nq=a%20b%2B~%2F"},
        {"/p?&&x=1&", "/p/\nx=1"},
        {"http://h:1?z=1", "/\nz=1"},
    };
    struct req q;
    struct sim_aksk_req r;
    struct strbuf b;
    size_t i, n;

    (void)state;
    memset(&q, 0, sizeof(q));
    snprintf(q.method, sizeof(q.method), "GET");
    req_add(&q, "X-Sdk-Date", "20191115T033655Z");
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(q.target, sizeof(q.target), "%s", cases[i].target);
        r = view(&q);
        strbuf_init(&b, SIM_AKSK_CANON_MAX);
        assert_int_equal(sim_aksk_canonical(&r, "x-sdk-date", &b), 0);
        n = strlen(cases[i].path_query);
        if (strncmp(b.data + 4, cases[i].path_query, n) != 0 || b.data[4 + n] != '\n')
            fail_msg("%s: got \"%s\"", cases[i].target, b.data);
        strbuf_release(&b);
    }
    /* reasons go into a JSON string as they are: nothing to escape */
    for (i = SIM_AKSK_OK; i <= SIM_AKSK_BAD_SIGNATURE; i++) {
        const char *why = sim_aksk_reason((enum sim_aksk_verdict)i);
        assert_true(strlen(why) > 0);
        assert_int_equal(strcspn(why, "\"\\\n"), strlen(why));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vector1_verbatim),
        cmocka_unit_test(vector2_verbatim),
        cmocka_unit_test(every_flipped_bit_refused),
        cmocka_unit_test(every_flipped_body_bit_refused),
        cmocka_unit_test(equivalent_forms_accepted),
        cmocka_unit_test(date_rules),
        cmocka_unit_test(authorization_forms),
        cmocka_unit_test(signed_headers_rules),
        cmocka_unit_test(canonical_forms),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
