/*
 * Tests for src/api.c and src/auth/auth.c: Retry-After parsing, URL and header
 * construction, the token and AK/SK decorators, failure classification against
 * a port nothing listens on (loopback only), the certificate-failure hint and
 * the --tls.ca-file check.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include "aksk.h"
#include "api.h"
#include "auth.h"
#include "profile.h"
#include "strbuf.h"

/*
 * Allocation failure on demand: the test links with --wrap=malloc,calloc,realloc,
 * so calls from our objects (not from libcurl or cmocka) go through here. When
 * fail_alloc_at is n > 0, the n-th allocation from now fails.
 */
static int fail_alloc_at;
void *__real_malloc(size_t n);
void *__real_calloc(size_t k, size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t k, size_t n);
void *__wrap_realloc(void *p, size_t n);

/*
 * Freed memory must not hold the token. Every free() from our objects (wrapped)
 * and from libcurl (curl_global_init_mem) passes here first; while watch_token
 * is set, a block that still contains it counts in unscrubbed_frees.
 * malloc_usable_size bounds the scan (ASan reports the requested size).
 */
static const char *watch_token;
static int unscrubbed_frees;
void __real_free(void *p);
void __wrap_free(void *p);

static void check_freed(void *p)
{
    const char *b = p;
    size_t n, k, i;

    if (!p || !watch_token)
        return;
    n = malloc_usable_size(p);
    k = strlen(watch_token);
    for (i = 0; i + k <= n; i++) {
        if (memcmp(b + i, watch_token, k) == 0) {
            unscrubbed_frees++;
            return;
        }
    }
}

void __wrap_free(void *p)
{
    check_freed(p);
    __real_free(p);
}

static int alloc_should_fail(void)
{
    return fail_alloc_at > 0 && --fail_alloc_at == 0;
}

void *__wrap_malloc(size_t n)
{
    return alloc_should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t k, size_t n)
{
    return alloc_should_fail() ? NULL : __real_calloc(k, n);
}

void *__wrap_realloc(void *p, size_t n)
{
    return alloc_should_fail() ? NULL : __real_realloc(p, n);
}

static void retry_after_seconds(void **state)
{
    (void)state;
    assert_int_equal(api_parse_retry_after("1", 1, 0), 1);
    assert_int_equal(api_parse_retry_after(" 120 \r\n", 7, 0), 120);
    assert_int_equal(api_parse_retry_after("0", 1, 0), 0);
    /* absurd values are capped, never overflow */
    assert_int_equal(api_parse_retry_after("99999999999999999999", 20, 0), API_RETRY_AFTER_MAX);
    assert_int_equal(api_parse_retry_after("", 0, 0), -1);
    assert_int_equal(api_parse_retry_after("  ", 2, 0), -1);
    assert_int_equal(api_parse_retry_after("-5", 2, 0), -1);
    assert_int_equal(api_parse_retry_after("5s", 2, 0), -1);
}

static void retry_after_http_date(void **state)
{
    const char *d = "Wed, 21 Oct 2015 07:28:00 GMT"; /* 1445412480 */

    (void)state;
    assert_int_equal(api_parse_retry_after(d, strlen(d), 1445412480.0 - 30), 30);
    assert_int_equal(api_parse_retry_after(d, strlen(d), 1445412480.0 + 5), 0);
    assert_int_equal(api_parse_retry_after(d, strlen(d), 0), API_RETRY_AFTER_MAX);
    assert_int_equal(api_parse_retry_after("not a date at all", 17, 0), -1);
}

static void token_auth(void **state)
{
    struct auth *a = NULL;
    struct curl_slist *h = NULL;

    (void)state;
    assert_int_equal(auth_new_token("gAAAAABk-token_value", &a), 0);
    assert_non_null(a);
    assert_string_equal(auth_method_name(a), "token");
    assert_int_equal(auth_decorate(a, &h, "GET", "http://127.0.0.1/x", NULL, 0), 0);
    assert_non_null(h);
    assert_string_equal(h->data, "X-Auth-Token: gAAAAABk-token_value");
    assert_null(h->next);
    curl_slist_free_all(h);
    auth_free(a);
    auth_free(NULL);
}

/* A token that would break the header line, or none, is -EINVAL; *out stays as it was. */
static void token_invalid(void **state)
{
    static const char *const bad[] = {
        "",         "abc\r\nX-Evil: 1", "has space", "tab\there", "del\x7f",
        "\xc3\xbc", "ctl\x01",          " lead",     "trail ",
    };
    struct auth *sentinel = (struct auth *)&sentinel, *a = sentinel;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        a = sentinel;
        assert_int_equal(auth_new_token(bad[i], &a), -EINVAL);
        assert_ptr_equal(a, sentinel);
    }
    assert_int_equal(auth_new_token(NULL, &a), -EINVAL);
    assert_ptr_equal(a, sentinel);
}

/* Out of memory is -ENOMEM, not a bad token, at each allocation; nothing leaks. */
static void token_out_of_memory(void **state)
{
    struct auth *sentinel = (struct auth *)&sentinel, *a = sentinel;
    int k, rc;

    (void)state;
    for (k = 0;; k++) {
        fail_alloc_at = k + 1;
        rc = auth_new_token("gAAAAABk-token_value", &a);
        fail_alloc_at = 0;
        if (rc == 0)
            break;
        assert_int_equal(rc, -ENOMEM);
        assert_ptr_equal(a, sentinel);
        assert_true(k < 8);
    }
    assert_true(k >= 1); /* at least one allocation was made to fail */
    assert_ptr_not_equal(a, sentinel);
    auth_free(a);
}

/* One cap, AUTH_TOKEN_MAX, for config and auth: a token at it works, one byte more does not. */
static void token_cap(void **state)
{
    char *tok = malloc(AUTH_TOKEN_MAX + 2);
    struct curl_slist *h = NULL;
    struct auth *a = NULL;

    (void)state;
    assert_non_null(tok);
    memset(tok, 'k', AUTH_TOKEN_MAX + 1);
    tok[AUTH_TOKEN_MAX] = '\0';
    assert_int_equal(auth_new_token(tok, &a), 0);
    assert_non_null(a);
    assert_int_equal(auth_decorate(a, &h, "GET", "http://127.0.0.1/x", NULL, 0), 0);
    assert_int_equal(strlen(h->data), strlen("X-Auth-Token: ") + AUTH_TOKEN_MAX);
    curl_slist_free_all(h);
    auth_free(a);
    tok[AUTH_TOKEN_MAX] = 'k';
    tok[AUTH_TOKEN_MAX + 1] = '\0';
    a = NULL;
    assert_int_equal(auth_new_token(tok, &a), -EINVAL);
    assert_null(a);
    free(tok);
}

#define AK "QTWAOYTTINDUT2QVKYUC"
#define SK "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
#define PROJECT "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32"

/* The value of header name in list h ("Name: value"), or NULL. */
static const char *header_value(const struct curl_slist *h, const char *name)
{
    size_t n = strlen(name);

    for (; h; h = h->next)
        if (strncmp(h->data, name, n) == 0 && h->data[n] == ':' && h->data[n + 1] == ' ')
            return h->data + n + 2;
    return NULL;
}

/*
 * AK/SK: X-Sdk-Date (now, UTC), X-Project-Id and Host are added and signed, and
 * Authorization is exactly what aksk_sign gives for them.
 */
static void aksk_auth(void **state)
{
    static const char url[] = "http://127.0.0.1:8080/v1.0/" PROJECT "/jobs/ff80?x=1";
    struct auth *a = NULL;
    struct curl_slist *h = NULL, *l;
    const char *date;
    struct strbuf want;
    char now[AKSK_DATE_LEN + 1], later[AKSK_DATE_LEN + 1];
    time_t t0, t1;
    size_t n = 0;

    (void)state;
    assert_int_equal(auth_new_aksk(AK, SK, PROJECT, &a), 0);
    assert_int_equal(auth_method(a), AUTH_AKSK);
    assert_string_equal(auth_method_name(a), "aksk");
    h = curl_slist_append(NULL, "Accept: application/json");
    t0 = time(NULL);
    assert_int_equal(auth_decorate(a, &h, "GET", url, NULL, 0), 0);
    t1 = time(NULL);
    for (l = h; l; l = l->next)
        n++;
    assert_int_equal(n, 5); /* what was there, and four more */
    assert_string_equal(h->data, "Accept: application/json");
    assert_string_equal(header_value(h, "Host"), "127.0.0.1:8080");
    assert_string_equal(header_value(h, "X-Project-Id"), PROJECT);
    date = header_value(h, "X-Sdk-Date");
    assert_non_null(date);
    assert_int_equal(aksk_format_date(t0, now), 0);
    assert_int_equal(aksk_format_date(t1, later), 0);
    assert_true(strcmp(date, now) >= 0 && strcmp(date, later) <= 0);
    {
        const struct aksk_header sh[] = {
            {"X-Sdk-Date", date}, {"Host", "127.0.0.1:8080"}, {"X-Project-Id", PROJECT}};
        const struct aksk_request r = {.method = "GET", .url = url, .headers = sh, .n_headers = 3};
        strbuf_init(&want, AKSK_AUTH_MAX);
        assert_int_equal(aksk_sign(&r, AK, SK, &want), 0);
    }
    assert_string_equal(header_value(h, "Authorization"), want.data);
    assert_non_null(strstr(want.data, "SDK-HMAC-SHA256 Access=" AK
                                      ", SignedHeaders=host;x-project-id;x-sdk-date, Signature="));
    strbuf_release(&want);
    auth_headers_free(h);
    auth_free(a);
}

/* What cannot be signed or sent is -EINVAL; *out stays as it was. */
static void aksk_invalid(void **state)
{
    static const char *const bad_ak[] = {"", "a b", "a,b", "\xc3\xbc", "a\r\nX: 1"};
    static const char *const bad_project[] = {"", "p q", "p\r\nX: 1", "\x01"};
    struct auth *sentinel = (struct auth *)&sentinel, *a = sentinel;
    struct curl_slist *h = NULL;
    char big[AUTH_PROJECT_MAX + 2];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad_ak) / sizeof(bad_ak[0]); i++)
        assert_int_equal(auth_new_aksk(bad_ak[i], SK, PROJECT, &a), -EINVAL);
    for (i = 0; i < sizeof(bad_project) / sizeof(bad_project[0]); i++)
        assert_int_equal(auth_new_aksk(AK, SK, bad_project[i], &a), -EINVAL);
    assert_int_equal(auth_new_aksk(NULL, SK, PROJECT, &a), -EINVAL);
    assert_int_equal(auth_new_aksk(AK, NULL, PROJECT, &a), -EINVAL);
    assert_int_equal(auth_new_aksk(AK, "", PROJECT, &a), -EINVAL);
    assert_int_equal(auth_new_aksk(AK, SK, NULL, &a), -EINVAL);
    memset(big, 'p', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(auth_new_aksk(AK, SK, big, &a), -EINVAL);
    assert_ptr_equal(a, sentinel);
    big[AUTH_PROJECT_MAX] = '\0';
    assert_int_equal(auth_new_aksk(AK, SK, big, &a), 0);
    /* a URL the signer refuses adds nothing */
    assert_int_equal(auth_decorate(a, &h, "GET", "http://127.0.0.1/bad%zz", NULL, 0), -EINVAL);
    assert_null(h);
    assert_int_equal(auth_decorate(a, &h, "GET", "/no/authority", NULL, 0), -EINVAL);
    assert_null(h);
    auth_free(a);
}

/* Out of memory, creating or decorating, is -ENOMEM at each allocation; nothing leaks. */
static void aksk_out_of_memory(void **state)
{
    struct auth *sentinel = (struct auth *)&sentinel, *a = sentinel;
    struct curl_slist *h = NULL;
    int k, rc;

    (void)state;
    for (k = 0;; k++) {
        fail_alloc_at = k + 1;
        rc = auth_new_aksk(AK, SK, PROJECT, &a);
        fail_alloc_at = 0;
        if (rc == 0)
            break;
        assert_int_equal(rc, -ENOMEM);
        assert_ptr_equal(a, sentinel);
        assert_true(k < 16);
    }
    assert_true(k >= 4); /* the object, its key part and three copies */
    for (k = 0;; k++) {
        fail_alloc_at = k + 1;
        rc = auth_decorate(a, &h, "GET", "https://elb.example.com/v1.0/p/jobs/j?a=1", NULL, 0);
        fail_alloc_at = 0;
        if (rc == 0)
            break;
        assert_int_equal(rc, -ENOMEM);
        assert_null(h);
        assert_true(k < 32);
    }
    assert_true(k >= 1);
    assert_non_null(header_value(h, "Authorization"));
    auth_headers_free(h);
    auth_free(a);
}

static void request_url_and_failure(void **state)
{
    struct auth *a = NULL;
    struct api_client c = {
        .endpoint = "http://127.0.0.1:1", /* port 1: nothing listens, connect fails */
        .project_id = "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32",
        .profile = profile_default(),
        .auth = a,
        .timeout_ms = 2000,
        .user_agent = "test",
    };
    struct api_request r;
    struct api_outcome o;
    CURLcode rc;

    (void)state;
    assert_int_equal(auth_new_token("t", &a), 0);
    c.auth = a;
    assert_int_equal(api_request_init(&r, &c), 0);
    assert_int_equal(api_request_prepare(&r, &c, "ff8080825ecc523f015ecd0a98f82f77", 7), 0);
    assert_string_equal(r.url, "http://127.0.0.1:1/v1.0/0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32/jobs/"
                               "ff8080825ecc523f015ecd0a98f82f77");
    assert_int_equal(r.job, 7);
    assert_string_equal(r.headers->data, "Accept: application/json");
    assert_string_equal(r.headers->next->data, "X-Auth-Token: t");
    rc = curl_easy_perform(r.easy);
    api_request_outcome(&r, rc, &o);
    assert_false(o.transport_ok);
    assert_int_equal(o.http_code, 0);
    assert_int_equal(o.err, API_ERR_CONNECT);
    /* re-aiming the same handle replaces the headers instead of piling them up */
    assert_int_equal(api_request_prepare(&r, &c, "abc", 8), 0);
    assert_string_equal(r.headers->next->data, "X-Auth-Token: t");
    assert_null(r.headers->next->next);
    api_request_cleanup(&r);
    api_request_cleanup(&r); /* idempotent */
    auth_free(a);
}

static void url_too_long(void **state)
{
    static char endpoint[API_URL_MAX + 16];
    struct auth *a = NULL;
    struct api_client c = {.endpoint = endpoint,
                           .project_id = "p",
                           .profile = profile_default(),
                           .auth = a,
                           .timeout_ms = 1000,
                           .user_agent = "test"};
    struct api_request r;

    (void)state;
    assert_int_equal(auth_new_token("t", &a), 0);
    c.auth = a;
    memset(endpoint, 'a', sizeof(endpoint) - 1);
    assert_int_equal(api_request_init(&r, &c), 0);
    assert_int_not_equal(api_request_prepare(&r, &c, "abc", 0), 0);
    api_request_cleanup(&r);
    auth_free(a);
}

/* libcurl's allocator: the real one, with every free checked (see check_freed). */
static void *curl_malloc_cb(size_t n)
{
    return __real_malloc(n);
}

static void curl_free_cb(void *p)
{
    check_freed(p);
    __real_free(p);
}

static void *curl_realloc_cb(void *p, size_t n)
{
    return __real_realloc(p, n);
}

static char *curl_strdup_cb(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = __real_malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

static void *curl_calloc_cb(size_t k, size_t n)
{
    return __real_calloc(k, n);
}

/*
 * The token is copied into every request's header list (curl_slist_append
 * duplicates it); none of those copies, nor auth's own, may be freed with the
 * token still in it: re-aiming a request, cleaning it up, freeing the auth.
 */
static void token_never_freed_unscrubbed(void **state)
{
    static const char token[] = "sEcReT-tOkEn-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    struct auth *a = NULL;
    struct api_client c = {
        .endpoint = "http://127.0.0.1:1",
        .project_id = "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32",
        .profile = profile_default(),
        .timeout_ms = 2000,
        .user_agent = "test",
    };
    struct api_request r;

    (void)state;
    unscrubbed_frees = 0;
    watch_token = token;
    assert_int_equal(auth_new_token(token, &a), 0);
    c.auth = a;
    assert_int_equal(api_request_init(&r, &c), 0);
    assert_int_equal(api_request_prepare(&r, &c, "ff8080825ecc523f015ecd0a98f82f77", 0), 0);
    assert_non_null(strstr(r.headers->next->data, token)); /* the watch can see it */
    assert_int_equal(api_request_prepare(&r, &c, "4010b39b4fd3d5ff014fd943bac41619", 1), 0);
    api_request_cleanup(&r);
    auth_free(a);
    watch_token = NULL;
    assert_int_equal(unscrubbed_frees, 0);
}

/* A certificate that does not verify is "tls", and its text says what to set. */
static void tls_failure_hint(void **state)
{
    struct api_client c = {.endpoint = "https://127.0.0.1:1",
                           .project_id = "p",
                           .profile = profile_default(),
                           .timeout_ms = 1000,
                           .user_agent = "test"};
    struct api_request r;
    struct api_outcome o;

    (void)state;
    assert_int_equal(api_request_init(&r, &c), 0);
    snprintf(r.errbuf, CURL_ERROR_SIZE, "SSL certificate problem: unable to get local issuer");
    api_request_outcome(&r, CURLE_PEER_FAILED_VERIFICATION, &o);
    assert_int_equal(o.err, API_ERR_TLS);
    assert_string_equal(r.errbuf, "certificate verify failed: SSL certificate problem: unable to "
                                  "get local issuer (set --tls.ca-file to the CA that signed the "
                                  "API's certificate)");
    /* libcurl's longest text still fits whole, with the hint */
    memset(r.errbuf, 'x', CURL_ERROR_SIZE - 1);
    r.errbuf[CURL_ERROR_SIZE - 1] = '\0';
    api_request_outcome(&r, CURLE_PEER_FAILED_VERIFICATION, &o);
    assert_true(strstr(r.errbuf, "(set --tls.ca-file") != NULL);
    /* no text from libcurl: its name for the code */
    r.errbuf[0] = '\0';
    api_request_outcome(&r, CURLE_SSL_CACERT_BADFILE, &o);
    assert_int_equal(o.err, API_ERR_TLS);
    assert_true(strncmp(r.errbuf, "CA file not usable: ", 20) == 0);
    assert_true(strstr(r.errbuf, "(check --tls.ca-file)") != NULL);
    /* other failures keep libcurl's text as it is */
    snprintf(r.errbuf, CURL_ERROR_SIZE, "Failed to connect");
    api_request_outcome(&r, CURLE_COULDNT_CONNECT, &o);
    assert_string_equal(r.errbuf, "Failed to connect");
    api_request_cleanup(&r);

    /* with a CA file named, the hint asks whether it is the right one */
    c.ca_file = "/nonexistent/ca.pem";
    c.insecure_skip_verify = 1;
    assert_int_equal(api_request_init(&r, &c), 0);
    snprintf(r.errbuf, CURL_ERROR_SIZE, "SSL: no alternative certificate subject name matches");
    api_request_outcome(&r, CURLE_PEER_FAILED_VERIFICATION, &o);
    assert_string_equal(r.errbuf,
                        "certificate verify failed: SSL: no alternative certificate subject name "
                        "matches (is --tls.ca-file the CA that signed the API's certificate?)");
    api_request_cleanup(&r);
}

/* --tls.ca-file must be a readable regular file with a PEM certificate in it. */
static void ca_file_check(void **state)
{
    static const char cert[] = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    char dir[64], path[128], err[512];
    FILE *f;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_api.XXXXXX");
    assert_non_null(mkdtemp(dir));

    snprintf(path, sizeof(path), "%s/missing.pem", dir);
    assert_int_equal(api_check_ca_file(path, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "--tls.ca-file"));
    assert_non_null(strstr(err, "missing.pem"));

    assert_int_equal(api_check_ca_file(dir, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "not a regular file"));

    snprintf(path, sizeof(path), "%s/fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    assert_int_equal(api_check_ca_file(path, err, sizeof(err)), -EINVAL); /* never waits */
    assert_non_null(strstr(err, "not a regular file"));
    unlink(path);

    snprintf(path, sizeof(path), "%s/key.pem", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n", f);
    fclose(f);
    assert_int_equal(api_check_ca_file(path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "no PEM certificate"));

    /* a bundle: comments and lines longer than the reader's buffer before the certificate */
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("# a bundle\n", f);
    for (int i = 0; i < 300; i++)
        fputc('#', f);
    fputs("\n", f);
    fputs(cert, f);
    fclose(f);
    err[0] = '\0';
    assert_int_equal(api_check_ca_file(path, err, sizeof(err)), 0);
    assert_string_equal(err, ""); /* untouched */
    unlink(path);
    rmdir(dir);
}

/*
 * The secret key is copied into the auth object only (requests carry its
 * signature, never the key); that copy is wiped before it is freed, and no
 * buffer the signing used is freed holding it.
 */
static void aksk_secret_never_freed_unscrubbed(void **state)
{
    static const char sk[] = "sEcReT-kEy-MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc";
    struct auth *a = NULL;
    struct api_client c = {
        .endpoint = "http://127.0.0.1:1",
        .project_id = PROJECT,
        .profile = profile_default(),
        .timeout_ms = 2000,
        .user_agent = "test",
    };
    struct api_request r;
    const struct curl_slist *l;

    (void)state;
    unscrubbed_frees = 0;
    watch_token = sk;
    assert_int_equal(auth_new_aksk(AK, sk, PROJECT, &a), 0);
    c.auth = a;
    assert_int_equal(api_request_init(&r, &c), 0);
    assert_int_equal(api_request_prepare(&r, &c, "ff8080825ecc523f015ecd0a98f82f77", 0), 0);
    for (l = r.headers; l; l = l->next)
        assert_null(strstr(l->data, sk));
    assert_non_null(header_value(r.headers, "Authorization"));
    assert_int_equal(api_request_prepare(&r, &c, "4010b39b4fd3d5ff014fd943bac41619", 1), 0);
    api_request_cleanup(&r);
    auth_free(a);
    watch_token = NULL;
    assert_int_equal(unscrubbed_frees, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_after_seconds),
        cmocka_unit_test(retry_after_http_date),
        cmocka_unit_test(token_auth),
        cmocka_unit_test(token_invalid),
        cmocka_unit_test(token_out_of_memory),
        cmocka_unit_test(request_url_and_failure),
        cmocka_unit_test(url_too_long),
        cmocka_unit_test(tls_failure_hint),
        cmocka_unit_test(ca_file_check),
        cmocka_unit_test(token_cap),
        cmocka_unit_test(token_never_freed_unscrubbed),
        cmocka_unit_test(aksk_auth),
        cmocka_unit_test(aksk_invalid),
        cmocka_unit_test(aksk_out_of_memory),
        cmocka_unit_test(aksk_secret_never_freed_unscrubbed),
    };
    int rc;

    curl_global_init_mem(CURL_GLOBAL_DEFAULT, curl_malloc_cb, curl_free_cb, curl_realloc_cb,
                         curl_strdup_cb, curl_calloc_cb);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
