/*
 * test_aksk: SDK-HMAC-SHA256 signing (src/auth/aksk.c).
 *
 * The two published vectors of api-notes.md section 2 verbatim (the first's
 * canonical request and Authorization header, the second's sha256 of the
 * canonical request and signature), then the edge cases of every canonical
 * form: query ordering and escaping, path escaping and the trailing slash,
 * header case and trimming, the body hash, which headers are signed, the caps
 * and the refusals, and libcrypto's HMAC against RFC 4231.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aksk.h"
#include "strbuf.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define DATE "20060102T150405Z"

/* ---- the published vectors, verbatim ---------------------------------------------------- */

static void vector1_canonical_and_authorization(void **state)
{
    static const struct aksk_header h[] = {{"X-Sdk-Date", "20060102T150405Z"}};
    const struct aksk_request r = {
        .method = "GET",
        .url = "https://example.huaweicloud.com/path?limit=1",
        .headers = h,
        .n_headers = 1,
    };
    struct strbuf b;

    (void)state;
    strbuf_init(&b, AKSK_CANONICAL_MAX);
    assert_int_equal(aksk_canonical_request(&r, &b), 0);
    assert_string_equal(b.data, "GET\n/path/\nlimit=1\nx-sdk-date:20060102T150405Z\n\nx-sdk-date\n"
                                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    strbuf_release(&b);

    strbuf_init(&b, AKSK_AUTH_MAX);
    assert_int_equal(aksk_sign(&r, "AccessKey", "SecretKey", &b), 0);
    assert_string_equal(b.data, "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
                                "Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c0"
                                "3d58d02ac79624");
    strbuf_release(&b);
}

static void vector2_hash_and_signature(void **state)
{
    static const struct aksk_header h[] = {
        {"Content-Type", "application/json"},
        {"Host", "service.region.example.com"},
        {"X-Sdk-Date", "20191115T033655Z"},
    };
    const struct aksk_request r = {
        .method = "GET",
        .url = "https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs"
               "?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0",
        .headers = h,
        .n_headers = 3,
        .flags = AKSK_SIGN_ALL_HEADERS, /* all three signed: content-type;host;x-sdk-date */
    };
    struct strbuf b, sts;
    char hash[AKSK_HEX_LEN + 1];

    (void)state;
    strbuf_init(&b, AKSK_CANONICAL_MAX);
    assert_int_equal(aksk_canonical_request(&r, &b), 0);
    assert_int_equal(aksk_sha256_hex(b.data, b.len, hash), 0);
    assert_string_equal(hash, "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a");

    strbuf_init(&sts, 256);
    assert_int_equal(aksk_string_to_sign("20191115T033655Z", b.data, b.len, &sts), 0);
    assert_string_equal(sts.data,
                        "SDK-HMAC-SHA256\n20191115T033655Z\n"
                        "b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a");
    strbuf_release(&sts);
    strbuf_release(&b);

    strbuf_init(&b, AKSK_AUTH_MAX);
    assert_int_equal(
        aksk_sign(&r, "QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc", &b), 0);
    assert_string_equal(
        b.data, "SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, "
                "SignedHeaders=content-type;host;x-sdk-date, "
                "Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe");
    strbuf_release(&b);
}

/* ---- helpers ---------------------------------------------------------------------------- */

/* aksk_canonical_query(url) must give want; NULL want: must fail with rc. */
static void check_query(const char *url, const char *want, int rc)
{
    struct strbuf b;

    strbuf_init(&b, AKSK_CANONICAL_MAX);
    assert_true(strbuf_puts(&b, "x") == 0); /* a failure must leave what was there */
    if (want) {
        assert_int_equal(aksk_canonical_query(url, &b), 0);
        if (strcmp(b.data + 1, want) != 0)
            fail_msg("query of %s: got \"%s\", want \"%s\"", url, b.data + 1, want);
    } else {
        assert_int_equal(aksk_canonical_query(url, &b), rc);
        assert_string_equal(b.data, "x");
    }
    strbuf_release(&b);
}

static void check_uri(const char *url, const char *want, int rc)
{
    struct strbuf b;

    strbuf_init(&b, AKSK_CANONICAL_MAX);
    assert_true(strbuf_puts(&b, "x") == 0);
    if (want) {
        assert_int_equal(aksk_canonical_uri(url, &b), 0);
        if (strcmp(b.data + 1, want) != 0)
            fail_msg("URI of %s: got \"%s\", want \"%s\"", url, b.data + 1, want);
    } else {
        assert_int_equal(aksk_canonical_uri(url, &b), rc);
        assert_string_equal(b.data, "x");
    }
    strbuf_release(&b);
}

/* The canonical request of r in a fresh buffer (the caller frees it), or fail. */
static char *canonical(const struct aksk_request *r)
{
    struct strbuf b;
    size_t n;

    strbuf_init(&b, AKSK_CANONICAL_MAX);
    assert_int_equal(aksk_canonical_request(r, &b), 0);
    return strbuf_detach(&b, &n);
}

/* ---- query ------------------------------------------------------------------------------ */

static void query_ordering(void **state)
{
    (void)state;
    check_query("https://h/p?b=2&a=1&c=3", "a=1&b=2&c=3", 0);
    /* repeated keys: ordered by value, as bytes ("10" < "2") */
    check_query("https://h/p?a=2&a=1&a=10", "a=1&a=10&a=2", 0);
    /* a key that is a prefix of another sorts first */
    check_query("https://h/p?ab=1&a=2", "a=2&ab=1", 0);
    /* upper case sorts before lower case (bytes) */
    check_query("https://h/p?b=1&B=2&a=3", "B=2&a=3&b=1", 0);
    /* ordered by the decoded key: '~' (0x7e) before 0x80, although "%" < "~" encoded */
    check_query("https://h/p?a%80=1&a~=2", "a~=2&a%80=1", 0);
    /* no query, an empty one, only separators */
    check_query("https://h/p", "", 0);
    check_query("https://h/p?", "", 0);
    check_query("https://h/p?&&", "", 0);
    check_query("https://h/p?a=1&&b=2&", "a=1&b=2", 0);
    /* the fragment is not part of it */
    check_query("https://h/p?b=1&a=2#c=3", "a=2&b=1", 0);
    check_query("https://h/p#a=1", "", 0);
    /* origin form, and no path at all */
    check_query("/p?z=1&y=2", "y=2&z=1", 0);
    check_query("https://h?b=1&a=2", "a=2&b=1", 0);
}

static void query_keys_without_values(void **state)
{
    (void)state;
    check_query("https://h/p?flag&a=1", "a=1&flag=", 0);
    check_query("https://h/p?flag=", "flag=", 0);
    check_query("https://h/p?flag", "flag=", 0);
    check_query("https://h/p?=v", "=v", 0);
    /* only the first '=' splits */
    check_query("https://h/p?a=b=c", "a=b%3Dc", 0);
}

static void query_escaping(void **state)
{
    (void)state;
    /* a space, sent as '+' or %20 (or raw), is %20; a literal plus is %2B */
    check_query("https://h/p?q=a+b", "q=a%20b", 0);
    check_query("https://h/p?q=a%20b", "q=a%20b", 0);
    check_query("https://h/p?q=a b", "q=a%20b", 0);
    check_query("https://h/p?q=a%2Bb", "q=a%2Bb", 0);
    check_query("https://h/p?a+b=1", "a%20b=1", 0);
    /* unreserved stay, %7E is '~' */
    check_query("https://h/p?t=A-Z_a.z~0", "t=A-Z_a.z~0", 0);
    check_query("https://h/p?t=%7E%41", "t=~A", 0);
    /* reserved characters, decoded or not, are encoded with upper-case hex */
    check_query("https://h/p?r=%2f%3F%3d%26%23", "r=%2F%3F%3D%26%23", 0);
    check_query("https://h/p?r=/:@!$'()*,;", "r=%2F%3A%40%21%24%27%28%29%2A%2C%3B", 0);
    /* non-ASCII, raw or escaped, and NUL */
    check_query("https://h/p?u=\xc3\xbc", "u=%C3%BC", 0);
    check_query("https://h/p?u=%c3%bc&n=%00", "n=%00&u=%C3%BC", 0);
    /* a broken escape cannot be signed */
    check_query("https://h/p?a=%zz", NULL, -EINVAL);
    check_query("https://h/p?a=%4", NULL, -EINVAL);
    check_query("https://h/p?a=%", NULL, -EINVAL);
    check_query("https://h/p?%g1=1", NULL, -EINVAL);
}

/* ---- path ------------------------------------------------------------------------------- */

static void path_trailing_slash(void **state)
{
    (void)state;
    check_uri("https://h/", "/", 0);
    check_uri("https://h", "/", 0);
    check_uri("https://h?x=1", "/", 0);
    check_uri("https://h#f", "/", 0);
    check_uri("https://h/path", "/path/", 0);
    check_uri("https://h/a/b/", "/a/b/", 0); /* never doubled */
    check_uri("https://h/a//b", "/a//b/", 0);
    check_uri("https://h/a%2F", "/a/", 0); /* a decoded '/' is a '/' */
    check_uri("https://h/p#frag/", "/p/", 0);
    check_uri("/v1.0/proj/jobs/id", "/v1.0/proj/jobs/id/", 0);
}

static void path_escaping(void **state)
{
    (void)state;
    check_uri("https://h/~user/x.y-z_w", "/~user/x.y-z_w/", 0);
    check_uri("https://h/a b", "/a%20b/", 0);
    check_uri("https://h/a%20b", "/a%20b/", 0);
    check_uri("https://h/a+b", "/a%2Bb/", 0); /* '+' in a path is a plus */
    check_uri("https://h/a%2fb", "/a/b/", 0);
    check_uri("https://h/%7e%41", "/~A/", 0);
    check_uri("https://h/\xc3\xbc", "/%C3%BC/", 0);
    check_uri("https://h/a:b@c=d;e,f", "/a%3Ab%40c%3Dd%3Be%2Cf/", 0);
    check_uri("https://h/%", NULL, -EINVAL);
    check_uri("https://h/%1", NULL, -EINVAL);
    check_uri("https://h/%1x", NULL, -EINVAL);
    check_uri("no-scheme/x", NULL, -EINVAL);
    check_uri("", NULL, -EINVAL);
}

/* ---- headers ---------------------------------------------------------------------------- */

static void header_case_and_trimming(void **state)
{
    static const struct aksk_header h[] = {
        {"X-SDK-DATE", " " DATE "\t"},
        {"X-Custom", "   a  b \t c  "},
        {"Host", "h.example.com:8443"},
        {"aCCEPT", ""},
        {"X-Tabs", "\t\t"},
    };
    const struct aksk_request r = {
        .method = "GET", .url = "https://h/p", .headers = h, .n_headers = 5};
    char *c = canonical(&r);

    (void)state;
    assert_string_equal(c, "GET\n/p/\n\n"
                           "accept:\n"
                           "host:h.example.com:8443\n"
                           "x-custom:a  b \t c\n"
                           "x-sdk-date:" DATE "\n"
                           "x-tabs:\n"
                           "\n"
                           "accept;host;x-custom;x-sdk-date;x-tabs\n" EMPTY_SHA256);
    free(c);
}

static void header_order_independent_of_input(void **state)
{
    static const struct aksk_header a[] = {{"X-Sdk-Date", DATE}, {"B", "2"}, {"A", "1"}};
    static const struct aksk_header b[] = {{"A", "1"}, {"x-sdk-date", DATE}, {"b", "2"}};
    const struct aksk_request ra = {.method = "GET", .url = "/", .headers = a, .n_headers = 3};
    const struct aksk_request rb = {.method = "GET", .url = "/", .headers = b, .n_headers = 3};
    char *ca = canonical(&ra), *cb = canonical(&rb);

    (void)state;
    assert_string_equal(ca, cb);
    assert_non_null(strstr(ca, "\na:1\nb:2\nx-sdk-date:" DATE "\n\na;b;x-sdk-date\n"));
    free(ca);
    free(cb);
}

static void content_type_and_underscore_unsigned(void **state)
{
    static const struct aksk_header h[] = {
        {"Content-Type", "application/json"},
        {"X_Odd_Name", "1"},
        {"X-Sdk-Date", DATE},
        {"content-TYPE-x", "kept: only Content-Type itself is left out"},
    };
    struct aksk_request r = {.method = "GET", .url = "/", .headers = h, .n_headers = 4};
    struct strbuf b;
    char *c;

    (void)state;
    c = canonical(&r);
    assert_string_equal(c, "GET\n/\n\ncontent-type-x:kept: only Content-Type itself is left out\n"
                           "x-sdk-date:" DATE "\n\ncontent-type-x;x-sdk-date\n" EMPTY_SHA256);
    free(c);
    strbuf_init(&b, AKSK_AUTH_MAX);
    assert_int_equal(aksk_signed_headers(&r, &b), 0);
    assert_string_equal(b.data, "content-type-x;x-sdk-date");
    strbuf_release(&b);

    r.flags = AKSK_SIGN_ALL_HEADERS;
    c = canonical(&r);
    assert_string_equal(c, "GET\n/\n\ncontent-type:application/json\n"
                           "content-type-x:kept: only Content-Type itself is left out\n"
                           "x-sdk-date:" DATE "\nx_odd_name:1\n\n"
                           "content-type;content-type-x;x-sdk-date;x_odd_name\n" EMPTY_SHA256);
    free(c);
}

static void header_refusals(void **state)
{
    struct aksk_header h[2] = {{"X-Sdk-Date", DATE}, {"X-A", "v"}};
    struct aksk_request r = {.method = "GET", .url = "/", .headers = h, .n_headers = 2};
    static const char *const bad_values[] = {"a\r\nb", "a\nb", "a\x01", "a\x7f", "\x1b[0m"};
    static const char *const bad_names[] = {"", "X A", "X:A", "X\tA", "X(A)", "\xc3\xbc"};
    static const char *const bad_dates[] = {"",
                                            "2006-01-02T15:04:05Z",
                                            "20060102T150405",
                                            "20060102 150405Z",
                                            "20061302T150405Z",
                                            "20060100T150405Z",
                                            "20060102T250405Z",
                                            "20060102T156005Z",
                                            "2006010xT150405Z",
                                            "20060102T150405Z0",
                                            "20060230T150405Z", /* no such day */
                                            "20050229T150405Z",
                                            "19691231T235959Z",
                                            "20060102T150460Z"};
    struct strbuf b;
    size_t i;

    (void)state;
    strbuf_init(&b, AKSK_CANONICAL_MAX);
    for (i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
        h[1].value = bad_values[i];
        assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    }
    h[1].value = "v";
    for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
        h[1].name = bad_names[i];
        assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    }
    /* the same name twice, in any case: which value was signed would be ambiguous */
    h[1].name = "x-SDK-date";
    h[1].value = DATE;
    assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    /* X-Sdk-Date is required and must be well formed */
    h[1].name = "X-A";
    h[1].value = "v";
    r.headers = &h[1];
    r.n_headers = 1;
    assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    r.headers = h;
    r.n_headers = 2;
    for (i = 0; i < sizeof(bad_dates) / sizeof(bad_dates[0]); i++) {
        h[0].value = bad_dates[i];
        assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    }
    h[0].value = DATE;
    /* methods: upper-case letters only */
    r.method = "get";
    assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    r.method = "";
    assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    r.method = "GETGETGETGETGETGE";
    assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    r.method = NULL;
    assert_int_equal(aksk_canonical_request(&r, &b), -EINVAL);
    r.method = "DELETE";
    assert_int_equal(aksk_canonical_request(&r, &b), 0);
    assert_int_equal(strncmp(b.data, "DELETE\n/\n\n", 10), 0);
    strbuf_release(&b);
}

/* ---- body ------------------------------------------------------------------------------- */

static void body_hash(void **state)
{
    static const struct aksk_header h[] = {{"X-Sdk-Date", DATE}};
    struct aksk_request r = {.method = "POST", .url = "/jobs", .headers = h, .n_headers = 1};
    struct strbuf a, b;
    char *c;

    (void)state;
    c = canonical(&r);
    assert_string_equal(c, "POST\n/jobs/\n\nx-sdk-date:" DATE "\n\nx-sdk-date\n" EMPTY_SHA256);
    free(c);
    r.body = "{\"a\":1}";
    r.body_len = 7;
    c = canonical(&r);
    assert_string_equal(c, "POST\n/jobs/\n\nx-sdk-date:" DATE "\n\nx-sdk-date\n"
                           "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862");
    free(c);
    /* an empty body given by pointer is the empty body */
    r.body = "";
    r.body_len = 0;
    c = canonical(&r);
    assert_non_null(strstr(c, EMPTY_SHA256));
    free(c);
    /* ...and a body changes the signature */
    strbuf_init(&a, AKSK_AUTH_MAX);
    strbuf_init(&b, AKSK_AUTH_MAX);
    assert_int_equal(aksk_sign(&r, "ak", "sk", &a), 0);
    r.body = "x";
    r.body_len = 1;
    assert_int_equal(aksk_sign(&r, "ak", "sk", &b), 0);
    assert_string_not_equal(a.data, b.data);
    /* NULL with a length is refused */
    r.body = NULL;
    assert_int_equal(aksk_sign(&r, "ak", "sk", &b), -EINVAL);
    strbuf_release(&a);
    strbuf_release(&b);
}

/* ---- keys, caps, helpers ---------------------------------------------------------------- */

static void keys_checked(void **state)
{
    static const struct aksk_header h[] = {{"X-Sdk-Date", DATE}};
    const struct aksk_request r = {.method = "GET", .url = "/", .headers = h, .n_headers = 1};
    static const char *const bad_ak[] = {"", "a b", "a,b", "a\tb", "\xc3\xbc", "a\x7f"};
    char big[AKSK_KEY_MAX + 2];
    struct strbuf b;
    size_t i;

    (void)state;
    strbuf_init(&b, AKSK_AUTH_MAX);
    for (i = 0; i < sizeof(bad_ak) / sizeof(bad_ak[0]); i++)
        assert_int_equal(aksk_sign(&r, bad_ak[i], "sk", &b), -EINVAL);
    assert_int_equal(aksk_sign(&r, NULL, "sk", &b), -EINVAL);
    assert_int_equal(aksk_sign(&r, "ak", NULL, &b), -EINVAL);
    assert_int_equal(aksk_sign(&r, "ak", "", &b), -EINVAL);
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(aksk_sign(&r, big, "sk", &b), -EINVAL);
    assert_int_equal(aksk_sign(&r, "ak", big, &b), -EINVAL);
    assert_null(b.data);
    big[AKSK_KEY_MAX] = '\0'; /* at the cap: fine */
    assert_int_equal(aksk_sign(&r, big, big, &b), 0);
    strbuf_release(&b);
    /* a different secret, a different signature; the same, the same */
    {
        struct strbuf x, y, z;
        strbuf_init(&x, AKSK_AUTH_MAX);
        strbuf_init(&y, AKSK_AUTH_MAX);
        strbuf_init(&z, AKSK_AUTH_MAX);
        assert_int_equal(aksk_sign(&r, "ak", "sk1", &x), 0);
        assert_int_equal(aksk_sign(&r, "ak", "sk2", &y), 0);
        assert_int_equal(aksk_sign(&r, "ak", "sk1", &z), 0);
        assert_string_not_equal(x.data, y.data);
        assert_string_equal(x.data, z.data);
        strbuf_release(&x);
        strbuf_release(&y);
        strbuf_release(&z);
    }
}

static void caps(void **state)
{
    struct aksk_header h[AKSK_HEADERS_MAX + 1];
    char names[AKSK_HEADERS_MAX + 1][16];
    struct aksk_request r = {.method = "GET", .url = "/", .headers = h, .n_headers = 1};
    char *url, *val;
    struct strbuf b;
    size_t i, n;

    (void)state;
    h[0].name = "X-Sdk-Date";
    h[0].value = DATE;
    for (i = 1; i <= AKSK_HEADERS_MAX; i++) {
        snprintf(names[i], sizeof(names[i]), "X-H%zu", i);
        h[i].name = names[i];
        h[i].value = "v";
    }
    strbuf_init(&b, AKSK_CANONICAL_MAX);
    r.n_headers = AKSK_HEADERS_MAX;
    assert_int_equal(aksk_canonical_request(&r, &b), 0);
    strbuf_truncate(&b, 0);
    r.n_headers = AKSK_HEADERS_MAX + 1;
    assert_int_equal(aksk_canonical_request(&r, &b), -E2BIG);
    r.n_headers = 2;

    /* a value at its cap is fine, one byte more is not */
    val = malloc(AKSK_HEADER_VALUE_MAX + 2);
    assert_non_null(val);
    memset(val, 'v', AKSK_HEADER_VALUE_MAX + 1);
    val[AKSK_HEADER_VALUE_MAX + 1] = '\0';
    h[1].value = val;
    assert_int_equal(aksk_canonical_request(&r, &b), -E2BIG);
    val[AKSK_HEADER_VALUE_MAX] = '\0';
    assert_int_equal(aksk_canonical_request(&r, &b), 0);
    h[1].value = "v";
    free(val);

    /* the URL */
    url = malloc(AKSK_URL_MAX + 2);
    assert_non_null(url);
    url[0] = '/';
    memset(url + 1, 'u', AKSK_URL_MAX);
    url[AKSK_URL_MAX + 1] = '\0';
    r.url = url;
    strbuf_truncate(&b, 0);
    assert_int_equal(aksk_canonical_request(&r, &b), -E2BIG);
    url[AKSK_URL_MAX] = '\0';
    assert_int_equal(aksk_canonical_request(&r, &b), 0);

    /* query parameters: AKSK_QUERY_PARAMS_MAX of them, then one more */
    n = 0;
    url[n++] = '/';
    url[n++] = '?';
    for (i = 0; i < AKSK_QUERY_PARAMS_MAX; i++) {
        url[n++] = 'a';
        url[n++] = '&';
    }
    url[n] = '\0';
    strbuf_truncate(&b, 0);
    assert_int_equal(aksk_canonical_request(&r, &b), 0);
    url[n++] = 'a';
    url[n] = '\0';
    strbuf_truncate(&b, 0);
    assert_int_equal(aksk_canonical_request(&r, &b), -E2BIG);
    free(url);
    strbuf_release(&b);

    /* an output buffer too small: -E2BIG and the buffer as it was */
    r.url = "/path?limit=1";
    strbuf_init(&b, 40);
    assert_int_equal(strbuf_puts(&b, "kept"), 0);
    assert_int_equal(aksk_canonical_request(&r, &b), -E2BIG);
    assert_string_equal(b.data, "kept");
    assert_int_equal(aksk_sign(&r, "ak", "sk", &b), -E2BIG);
    assert_string_equal(b.data, "kept");
    strbuf_release(&b);
}

static void dates_and_hosts(void **state)
{
    char d[AKSK_DATE_LEN + 1], host[64];

    (void)state;
    assert_int_equal(aksk_format_date(1136214245, d), 0); /* Go's reference time */
    assert_string_equal(d, "20060102T150405Z");
    assert_int_equal(aksk_format_date(0, d), 0);
    assert_string_equal(d, "19700101T000000Z");
    assert_int_equal(aksk_format_date(1573789015, d), 0);
    assert_string_equal(d, "20191115T033655Z");
    assert_true(aksk_date_valid(d, strlen(d)));
    assert_false(aksk_date_valid(d, strlen(d) - 1));
    assert_true(aksk_date_valid("20240229T235959Z", 16)); /* leap years */
    assert_true(aksk_date_valid("20000229T000000Z", 16));
    assert_false(aksk_date_valid("21000229T000000Z", 16));
    assert_int_equal(aksk_format_date(-1, d), -EINVAL);

    assert_int_equal(aksk_url_host("https://elb.eu-de.otc.t-systems.com/v1.0/p", host, 64), 0);
    assert_string_equal(host, "elb.eu-de.otc.t-systems.com");
    assert_int_equal(aksk_url_host("http://127.0.0.1:39123", host, 64), 0);
    assert_string_equal(host, "127.0.0.1:39123");
    assert_int_equal(aksk_url_host("https://user:pw@h.example.com:8443/x?y#z", host, 64), 0);
    assert_string_equal(host, "h.example.com:8443");
    assert_int_equal(aksk_url_host("http://[::1]:8080?x", host, 64), 0);
    assert_string_equal(host, "[::1]:8080");
    assert_int_equal(aksk_url_host("/path", host, 64), -EINVAL);
    assert_int_equal(aksk_url_host("https:///x", host, 64), -EINVAL);
    assert_int_equal(aksk_url_host("https://u@/x", host, 64), -EINVAL);
    assert_int_equal(aksk_url_host("https://h.example.com/", host, 5), -E2BIG);
}

/* libcrypto through our wrappers: RFC 4231 test case 2 and FIPS 180-2's "abc". */
static void crypto_known_answers(void **state)
{
    char hex[AKSK_HEX_LEN + 1];

    (void)state;
    assert_int_equal(aksk_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex), 0);
    assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_int_equal(aksk_sha256_hex("abc", 3, hex), 0);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_int_equal(aksk_sha256_hex(NULL, 0, hex), 0);
    assert_string_equal(hex, EMPTY_SHA256);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vector1_canonical_and_authorization),
        cmocka_unit_test(vector2_hash_and_signature),
        cmocka_unit_test(query_ordering),
        cmocka_unit_test(query_keys_without_values),
        cmocka_unit_test(query_escaping),
        cmocka_unit_test(path_trailing_slash),
        cmocka_unit_test(path_escaping),
        cmocka_unit_test(header_case_and_trimming),
        cmocka_unit_test(header_order_independent_of_input),
        cmocka_unit_test(content_type_and_underscore_unsigned),
        cmocka_unit_test(header_refusals),
        cmocka_unit_test(body_hash),
        cmocka_unit_test(keys_checked),
        cmocka_unit_test(caps),
        cmocka_unit_test(dates_and_hosts),
        cmocka_unit_test(crypto_known_answers),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
