/*
 * Tests for src/api.c and src/auth.c: Retry-After parsing, URL and header
 * construction, the token decorator, and failure classification against a
 * port nothing listens on (loopback only).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "profile.h"

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
    struct auth *a = auth_new_token("gAAAAABk-token_value");
    struct curl_slist *h = NULL;

    (void)state;
    assert_non_null(a);
    assert_string_equal(auth_method_name(a), "token");
    assert_int_equal(auth_decorate(a, &h, "GET", "http://127.0.0.1/x", NULL, 0), 0);
    assert_non_null(h);
    assert_string_equal(h->data, "X-Auth-Token: gAAAAABk-token_value");
    assert_null(h->next);
    curl_slist_free_all(h);
    auth_free(a);
    auth_free(NULL);
    /* a token that would break the header line is refused */
    assert_null(auth_new_token(""));
    assert_null(auth_new_token("abc\r\nX-Evil: 1"));
    assert_null(auth_new_token("has space"));
    assert_null(auth_new_token(NULL));
}

/* One cap, AUTH_TOKEN_MAX, for config and auth: a token at it works, one byte more does not. */
static void token_cap(void **state)
{
    char *tok = malloc(AUTH_TOKEN_MAX + 2);
    struct curl_slist *h = NULL;
    struct auth *a;

    (void)state;
    assert_non_null(tok);
    memset(tok, 'k', AUTH_TOKEN_MAX + 1);
    tok[AUTH_TOKEN_MAX] = '\0';
    a = auth_new_token(tok);
    assert_non_null(a);
    assert_int_equal(auth_decorate(a, &h, "GET", "http://127.0.0.1/x", NULL, 0), 0);
    assert_int_equal(strlen(h->data), strlen("X-Auth-Token: ") + AUTH_TOKEN_MAX);
    curl_slist_free_all(h);
    auth_free(a);
    tok[AUTH_TOKEN_MAX] = 'k';
    tok[AUTH_TOKEN_MAX + 1] = '\0';
    assert_null(auth_new_token(tok));
    free(tok);
}

static void request_url_and_failure(void **state)
{
    struct auth *a = auth_new_token("t");
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
    struct auth *a = auth_new_token("t");
    struct api_client c = {.endpoint = endpoint,
                           .project_id = "p",
                           .profile = profile_default(),
                           .auth = a,
                           .timeout_ms = 1000,
                           .user_agent = "test"};
    struct api_request r;

    (void)state;
    memset(endpoint, 'a', sizeof(endpoint) - 1);
    assert_int_equal(api_request_init(&r, &c), 0);
    assert_int_not_equal(api_request_prepare(&r, &c, "abc", 0), 0);
    api_request_cleanup(&r);
    auth_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retry_after_seconds), cmocka_unit_test(retry_after_http_date),
        cmocka_unit_test(token_auth),          cmocka_unit_test(request_url_and_failure),
        cmocka_unit_test(url_too_long),        cmocka_unit_test(token_cap),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
