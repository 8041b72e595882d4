/*
 * Tests for the IAM password login: src/auth/iam.c (URL, body, answer) and the
 * login protocol of the password method in src/auth/auth.c (when a login is
 * due, token generations, what a 401 means), and src/sim/sim_iam.c, the
 * simulator's IAM, which the integration tests log in to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "iam.h"
#include "sim_iam.h"

#define PROJECT "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32"
#define ANSWER(expires)                                                                            \
    "{\"token\":{\"expires_at\":\"" expires "\",\"methods\":[\"password\"],"                       \
    "\"project\":{\"id\":\"" PROJECT "\",\"name\":\"eu-de\"},\"issued_at\":\"x\"}}"

static void token_url_forms(void **state)
{
    char url[IAM_URL_MAX];

    (void)state;
    assert_int_equal(iam_token_url("https://iam.eu-de.otc.t-systems.com/v3", url, sizeof(url)), 0);
    assert_string_equal(url, "https://iam.eu-de.otc.t-systems.com/v3/auth/tokens?nocatalog=true");
    assert_int_equal(iam_token_url("https://iam.eu-de.otc.t-systems.com/v3/", url, sizeof(url)), 0);
    assert_string_equal(url, "https://iam.eu-de.otc.t-systems.com/v3/auth/tokens?nocatalog=true");
    assert_int_equal(iam_token_url("https://iam.example.com", url, sizeof(url)), 0);
    assert_string_equal(url, "https://iam.example.com/v3/auth/tokens?nocatalog=true");
    assert_int_equal(iam_token_url("http://127.0.0.1:8080/v3", url, sizeof(url)), 0);
    assert_string_equal(url, "http://127.0.0.1:8080/v3/auth/tokens?nocatalog=true");
    assert_int_equal(iam_token_url("ftp://iam", url, sizeof(url)), -EINVAL);
    assert_int_equal(iam_token_url(NULL, url, sizeof(url)), -EINVAL);
    assert_int_equal(iam_token_url("https://iam.example.com", url, 20), -EINVAL);
}

/* The body api-notes.md gives, byte for byte, with escaping of what users type. */
static void login_body(void **state)
{
    struct iam_login l = {"ops", "s3cr\"et\\", "OTC00000000001000000001", PROJECT, NULL};
    struct strbuf b;

    (void)state;
    strbuf_init(&b, IAM_BODY_MAX);
    assert_int_equal(iam_login_body(&b, &l), 0);
    assert_string_equal(
        b.data,
        "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
        "{\"name\":\"ops\",\"password\":\"s3cr\\\"et\\\\\",\"domain\":{\"name\":"
        "\"OTC00000000001000000001\"}}}},\"scope\":{\"project\":{\"id\":\"" PROJECT "\"}}}}");
    strbuf_truncate(&b, 0);
    l.project_id = NULL;
    l.project_name = "eu-de";
    l.password = "p\n\x01";
    assert_int_equal(iam_login_body(&b, &l), 0);
    assert_non_null(strstr(b.data, "\"password\":\"p\\u000a\\u0001\""));
    assert_non_null(strstr(b.data, "\"scope\":{\"project\":{\"name\":\"eu-de\"}}"));
    strbuf_truncate(&b, 0);
    l.project_name = NULL;
    assert_int_equal(iam_login_body(&b, &l), -EINVAL);
    l.project_name = "eu-de";
    l.password = "";
    assert_int_equal(iam_login_body(&b, &l), -EINVAL);
    assert_int_equal(b.len, 0);
    strbuf_release(&b);
}

static void parse_answer(void **state)
{
    static const char ok[] = ANSWER("2015-11-09T01:42:57.527363Z");
    struct iam_token_info info;
    char err[128];

    (void)state;
    assert_int_equal(iam_parse_answer(ok, strlen(ok), &info, err, sizeof(err)), 0);
    /* microseconds, as IAM writes them */
    assert_true(info.expires_at > 1447033377.527362 && info.expires_at < 1447033377.527364);
    assert_string_equal(info.project_id, PROJECT);
    memset(&info, 0x55, sizeof(info));
    assert_int_equal(iam_parse_answer("{}", 2, &info, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "token"));
    assert_int_equal(info.project_id[0], 0x55); /* untouched on error */
    assert_int_equal(
        iam_parse_answer("{\"token\":{\"expires_at\":\"soon\"}}", 31, &info, err, sizeof(err)),
        -EINVAL);
    assert_non_null(strstr(err, "expires_at"));
    assert_int_equal(iam_parse_answer("{\"token\":", 9, &info, err, sizeof(err)), -EINVAL);
    /* no project in the answer: fine, the id is then "" */
    {
        static const char noproj[] = "{\"token\":{\"expires_at\":\"2030-01-01T00:00:00Z\"}}";
        assert_int_equal(iam_parse_answer(noproj, strlen(noproj), &info, err, sizeof(err)), 0);
    }
    assert_string_equal(info.project_id, "");
}

static struct auth *password_auth(void)
{
    const struct auth_password p = {
        "https://iam.example.com/v3", "ops", "pw", "dom", NULL, "eu-de"};
    struct auth *a = NULL;

    assert_int_equal(auth_new_password(&p, &a), 0);
    return a;
}

static void new_password_refuses_missing_fields(void **state)
{
    struct auth_password p = {"https://iam.example.com/v3", "ops", "pw", "dom", PROJECT, NULL};
    struct auth *a = (struct auth *)&p; /* must stay untouched on failure */

    (void)state;
    p.password = "";
    assert_int_equal(auth_new_password(&p, &a), -EINVAL);
    p.password = "pw";
    p.domain = NULL;
    assert_int_equal(auth_new_password(&p, &a), -EINVAL);
    p.domain = "dom";
    p.project_id = NULL;
    assert_int_equal(auth_new_password(&p, &a), -EINVAL);
    p.project_id = PROJECT;
    p.iam_endpoint = "iam.example.com";
    assert_int_equal(auth_new_password(&p, &a), -EINVAL);
    assert_ptr_equal(a, (struct auth *)&p);
}

/* Logins: due without a token, renewed at 3/4 of the life, never on every request. */
static void login_timeline(void **state)
{
    static const char body[] = ANSWER("2030-01-01T00:00:00Z");
    const double expires = 1893456000.0; /* 2030-01-01 */
    const double now = expires - 4000;   /* the token lives 4000 s */
    struct auth *a = password_auth();
    struct curl_slist *h = NULL;
    struct strbuf b;
    char url[IAM_URL_MAX], err[128];

    (void)state;
    assert_string_equal(auth_method_name(a), "password");
    assert_false(auth_ready(a, now));
    assert_true(auth_login_due(a, now));
    assert_int_equal(auth_generation(a), 0);
    assert_int_equal(auth_decorate(a, &h, "GET", "http://x/", NULL, 0), -EAGAIN);
    assert_null(h);
    strbuf_init(&b, IAM_BODY_MAX);
    assert_int_equal(auth_login_request(a, url, sizeof(url), &b), 0);
    assert_string_equal(url, "https://iam.example.com/v3/auth/tokens?nocatalog=true");
    assert_non_null(strstr(b.data, "\"name\":\"eu-de\""));
    strbuf_release(&b);
    /* a broken answer changes nothing */
    assert_int_equal(auth_login_answer(a, "tok en", body, strlen(body), now, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(auth_login_answer(a, "tok", "{}", 2, now, err, sizeof(err)), -EINVAL);
    assert_int_equal(auth_generation(a), 0);
    /* a token that expired before it came is refused (clock skew) */
    assert_int_equal(auth_login_answer(a, "tok", body, strlen(body), expires + 1, err, sizeof(err)),
                     -EINVAL);
    assert_int_equal(auth_login_answer(a, "tok1", body, strlen(body), now, err, sizeof(err)), 0);
    assert_int_equal(auth_generation(a), 1);
    assert_true(auth_ready(a, now));
    assert_true(auth_token_expiry(a) == expires);
    assert_string_equal(auth_project_id(a), PROJECT);
    assert_int_equal(auth_decorate(a, &h, "GET", "http://x/", NULL, 0), 0);
    assert_string_equal(h->data, "X-Auth-Token: tok1");
    auth_headers_free(h);
    /* not due until three quarters of the life have passed */
    assert_false(auth_login_due(a, now + 2999));
    assert_true(auth_login_due(a, now + 3000));
    /* while a renewal runs, the old token still serves; once expired, nothing does */
    assert_true(auth_ready(a, now + 3999));
    assert_false(auth_ready(a, expires));
    auth_free(a);
}

/* A 401: one fresh login; the token it brings refused too means the credentials are wrong. */
static void rejection_protocol(void **state)
{
    static const char body[] = ANSWER("2030-01-01T00:00:00Z");
    const double now = 1893456000.0 - 4000;
    struct auth *a = password_auth(), *t = NULL;
    char err[128];

    (void)state;
    assert_int_equal(auth_login_answer(a, "tok1", body, strlen(body), now, err, sizeof(err)), 0);
    assert_false(auth_login_due(a, now));
    assert_int_equal(auth_rejected(a, 1), 1); /* revoked: log in again */
    assert_true(auth_login_due(a, now));
    assert_int_equal(auth_rejected(a, 1), 1); /* more 401s for the same token: same answer */
    assert_int_equal(auth_login_answer(a, "tok2", body, strlen(body), now, err, sizeof(err)), 0);
    assert_false(auth_login_due(a, now));
    assert_int_equal(auth_rejected(a, 1), 1); /* an old token's 401: just send again */
    assert_int_equal(auth_rejected(a, 2), 0); /* the fresh token is refused too: give up */
    assert_false(auth_login_due(a, now));     /* no login storm */
    auth_accepted(a, 2);                      /* it worked after all: a later 401 may log in */
    assert_int_equal(auth_rejected(a, 2), 1);
    auth_free(a);
    /* a static token never logs in */
    assert_int_equal(auth_new_token("static", &t), 0);
    assert_true(auth_ready(t, 0));
    assert_false(auth_login_due(t, 0));
    assert_int_equal(auth_rejected(t, auth_generation(t)), 0);
    assert_true(auth_token_expiry(t) == 0);
    auth_free(t);
}

/* The simulator's IAM: what the integration tests rely on. */
static void sim_iam_logins(void **state)
{
    struct sim_iam *i =
        sim_iam_new(&(struct sim_iam_options){.project_id = PROJECT, .token_ttl_s = 10});
    struct iam_login l = {"sim-user", "sim-password", "sim-domain", PROJECT, NULL};
    struct sim_iam_answer a;
    struct iam_token_info info;
    struct strbuf b;
    char err[128], stats[128];
    const uint64_t t0 = 1800000000000ull;

    (void)state;
    assert_non_null(i);
    strbuf_init(&b, IAM_BODY_MAX);
    assert_int_equal(iam_login_body(&b, &l), 0);
    sim_iam_login(i, b.data, b.len, t0, &a);
    assert_int_equal(a.status, 201);
    assert_int_equal(iam_parse_answer(a.body, strlen(a.body), &info, err, sizeof(err)), 0);
    assert_true(info.expires_at == 1800000010.0);
    assert_string_equal(info.project_id, PROJECT);
    assert_true(sim_iam_token_valid(i, a.token, t0 + 9999));
    assert_false(sim_iam_token_valid(i, a.token, t0 + 10000)); /* expired */
    assert_false(sim_iam_token_valid(i, "MIIsimforged", t0));
    sim_iam_revoke_all(i);
    assert_false(sim_iam_token_valid(i, a.token, t0));
    /* scope by name */
    strbuf_truncate(&b, 0);
    l.project_id = NULL;
    l.project_name = "eu-de";
    assert_int_equal(iam_login_body(&b, &l), 0);
    sim_iam_login(i, b.data, b.len, t0, &a);
    assert_int_equal(a.status, 201);
    assert_true(sim_iam_token_valid(i, a.token, t0));
    /* wrong password, unknown project, garbage */
    strbuf_truncate(&b, 0);
    l.password = "wrong";
    assert_int_equal(iam_login_body(&b, &l), 0);
    sim_iam_login(i, b.data, b.len, t0, &a);
    assert_int_equal(a.status, 401);
    assert_string_equal(a.token, "");
    strbuf_truncate(&b, 0);
    l.password = "sim-password";
    l.project_name = "eu-nl";
    assert_int_equal(iam_login_body(&b, &l), 0);
    sim_iam_login(i, b.data, b.len, t0, &a);
    assert_int_equal(a.status, 401);
    sim_iam_login(i, "{\"auth\":", 8, t0, &a);
    assert_int_equal(a.status, 400);
    /* faults */
    assert_int_equal(sim_iam_set_fault(i, "429"), 0);
    sim_iam_login(i, b.data, b.len, t0, &a);
    assert_int_equal(a.status, 429);
    assert_int_equal(sim_iam_set_fault(i, "500"), 0);
    sim_iam_login(i, b.data, b.len, t0, &a);
    assert_int_equal(a.status, 500);
    assert_int_equal(sim_iam_set_fault(i, "later"), -EINVAL);
    sim_iam_stats(i, stats, sizeof(stats));
    assert_string_equal(stats, "logins 7\nissued 2\nrefused 3\n");
    strbuf_release(&b);
    sim_iam_free(i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(token_url_forms), cmocka_unit_test(login_body),
        cmocka_unit_test(parse_answer),    cmocka_unit_test(new_password_refuses_missing_fields),
        cmocka_unit_test(login_timeline),  cmocka_unit_test(rejection_protocol),
        cmocka_unit_test(sim_iam_logins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
