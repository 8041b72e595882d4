/*
 * test_webconfig: the web config file (src/webconfig.c): exporter-toolkit's
 * keys and defaults, its rules (header names and values, client auth types,
 * what needs what), the ones this build adds, FILE:LINE:COLUMN problems, the
 * GnuTLS priority string, bcrypt hash checks and the user lookup.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "webconfig.h"

/* bcrypt("secret", cost 10) (crypt_gensalt_rn + crypt_rn), and a well-formed cost 12 hash. */
#define HASH10 "$2y$10$ieC3icRqSxOV3ZNm/iGr3.zuZ1l/gIb2RIRPhV.t3e1FlYx3U5BiW"
#define HASH12 "$2b$12$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"

static char err[WEBCONFIG_ERR_MAX];

/* Parse text as /etc/elb/web.yml (directory /etc/elb); require success. */
static struct webconfig *ok(const char *text)
{
    struct webconfig *c = NULL;
    int rc =
        webconfig_parse(text, strlen(text), "/etc/elb/web.yml", "/etc/elb", &c, err, sizeof(err));

    if (rc != 0)
        fail_msg("parse failed (%d): %s", rc, err);
    assert_non_null(c);
    return c;
}

/* Parse text; require -EINVAL and a problem text containing each of the NULL-terminated wants. */
static void bad(const char *text, ...)
{
    struct webconfig *c = NULL;
    const char *want;
    va_list ap;
    int rc = webconfig_parse(text, strlen(text), "web.yml", ".", &c, err, sizeof(err));

    if (rc != -EINVAL)
        fail_msg("parse gave %d, want -EINVAL, for:\n%s", rc, text);
    assert_null(c);
    va_start(ap, text);
    while ((want = va_arg(ap, const char *)) != NULL)
        if (!strstr(err, want))
            fail_msg("problem text lacks \"%s\":\n%s", want, err);
    va_end(ap);
}

static void empty_file_configures_nothing(void **state)
{
    struct webconfig *c;

    (void)state;
    c = ok("");
    assert_false(c->tls.enabled);
    assert_int_equal(c->n_users, 0);
    assert_int_equal(c->n_headers, 0);
    assert_int_equal(c->rate_interval_ms, 0);
    webconfig_free(c);
    c = ok("# only a comment\n");
    assert_false(c->tls.enabled);
    webconfig_free(c);
    c = ok("tls_server_config:\nbasic_auth_users:\n");
    assert_false(c->tls.enabled);
    webconfig_free(c);
}

static void full_config_and_defaults(void **state)
{
    struct webconfig *c;

    (void)state;
    c = ok("tls_server_config:\n"
           "  cert_file: server.crt\n"
           "  key_file: /abs/server.key\n"
           "  client_ca_file: sub/ca.pem\n"
           "  client_auth_type: RequireAndVerifyClientCert\n"
           "  client_allowed_sans: [prom.example, 10.0.0.1]\n"
           "http_server_config:\n"
           "  headers:\n"
           "    X-Frame-Options: deny\n"
           "    Strict-Transport-Security: max-age=31536000\n"
           "basic_auth_users:\n"
           "  alice: " HASH10 "\n"
           "  bob: '" HASH12 "'\n");
    assert_true(c->tls.enabled);
    /* relative to the file's directory, as exporter-toolkit does; absolute as given */
    assert_string_equal(c->tls.cert_file, "/etc/elb/server.crt");
    assert_string_equal(c->tls.key_file, "/abs/server.key");
    assert_string_equal(c->tls.client_ca_file, "/etc/elb/sub/ca.pem");
    assert_null(c->tls.cert);
    assert_int_equal(c->tls.client_auth, WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT);
    assert_int_equal(c->tls.n_allowed_sans, 2);
    assert_string_equal(c->tls.allowed_sans[1], "10.0.0.1");
    /* exporter-toolkit's defaults */
    assert_int_equal(c->tls.min_version, WEBCONFIG_TLS12);
    assert_int_equal(c->tls.max_version, WEBCONFIG_TLS13);
    assert_true(c->tls.prefer_server_cipher_suites);
    assert_int_equal(c->n_headers, 2);
    assert_string_equal(c->headers[0].name, "X-Frame-Options");
    assert_string_equal(c->headers[0].value, "deny");
    assert_string_equal(c->headers[1].value, "max-age=31536000");
    assert_int_equal(c->n_users, 2);
    assert_string_equal(c->users[0].name, "alice");
    assert_string_equal(c->users[0].hash, HASH10);
    assert_int_equal(c->users[0].cost, 10);
    assert_int_equal(c->users[1].cost, 12);
    assert_int_equal(c->max_cost, 12);
    assert_int_equal(c->n_notes, 0);
    webconfig_free(c);
}

static void inline_pem_and_dot_directory(void **state)
{
    struct webconfig *c = NULL;
    const char *text = "tls_server_config:\n"
                       "  cert: |\n"
                       "    -----BEGIN CERTIFICATE-----\n"
                       "    abc\n"
                       "  key: \"-----BEGIN PRIVATE KEY-----\"\n"
                       "  client_ca_file: ca.pem\n"
                       "  client_auth_type: RequireClientCert\n";

    (void)state;
    assert_int_equal(webconfig_parse(text, strlen(text), "web.yml", ".", &c, err, sizeof(err)), 0);
    assert_string_equal(c->tls.cert, "-----BEGIN CERTIFICATE-----\nabc\n");
    assert_string_equal(c->tls.key, "-----BEGIN PRIVATE KEY-----");
    assert_null(c->tls.cert_file);
    assert_string_equal(c->tls.client_ca_file, "ca.pem"); /* "." leaves it as given */
    /* RequireClientCert: exporter-toolkit's old name of RequireAnyClientCert */
    assert_int_equal(c->tls.client_auth, WEBCONFIG_REQUIRE_ANY_CLIENT_CERT);
    webconfig_free(c);
}

static void unknown_and_duplicate_keys_name_the_place(void **state)
{
    (void)state;
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\nfoo: 1\n",
        "web.yml:4:1: key foo:", "unknown key", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_fiel: b\n",
        "web.yml:3:3: key tls_server_config.key_fiel: unknown key", NULL);
    bad("http_server_config:\n  header: {}\n", "key http_server_config.header: unknown key", NULL);
    bad("rate_limit:\n  intervall: 1s\n", "key rate_limit.intervall: unknown key", NULL);
    bad("basic_auth_users:\n  alice: " HASH10 "\n  alice: " HASH10 "\n",
        "web.yml:3:3: key basic_auth_users.alice: duplicate key (first at line 2)", NULL);
    bad("tls_server_config: {cert_file: a, cert_file: b, key_file: c}\n", "duplicate key", NULL);
    /* every problem, one per line */
    bad("a: 1\nb: 2\n", "web.yml:1:1: key a:", "\nweb.yml:2:1: key b:", NULL);
}

static void yaml_shapes(void **state)
{
    (void)state;
    bad("tls_server_config: [a]\n", "key tls_server_config: expected a mapping, got a list", NULL);
    bad("- a\n", "web.yml:1:1: expected a mapping at the top, got a list", NULL);
    bad("tls_server_config:\n  cert_file: [a]\n", "key tls_server_config.cert_file: expected",
        NULL);
    bad("a: [\n", "web.yml:", "invalid YAML", NULL);
    bad("tls_server_config: {}\n---\nx: 1\n", "only one YAML document is allowed", NULL);
    bad("x: &a {cert_file: a}\ntls_server_config: *a\n", "YAML aliases are not supported", NULL);
    bad("? [a]\n: b\n", "a key must be a plain string", NULL);
    bad("basic_auth_users:\n  alice: \"a\\0b\"\n", "contains a NUL byte", NULL);
}

static void tls_rules(void **state)
{
    struct webconfig *c;

    (void)state;
    bad("tls_server_config:\n  cert_file: a\n", "missing one of key or key_file", NULL);
    bad("tls_server_config:\n  key_file: a\n", "missing one of cert or cert_file", NULL);
    bad("tls_server_config:\n  client_auth_type: RequestClientCert\n",
        "missing one of cert or cert_file", NULL);
    bad("tls_server_config:\n  cert_file: a\n  cert: b\n  key_file: c\n",
        "give cert or cert_file, not both", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n",
        "a client CA is configured without a client auth policy", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: "
        "VerifyClientCertIfGiven\n",
        "needs client_ca_file", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_allowed_sans: [x]\n",
        "client_allowed_sans needs a client_auth_type", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Maybe\n",
        "invalid client auth type \"Maybe\"", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS14\n",
        "key tls_server_config.min_version: unknown TLS version \"TLS14\"", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  max_version: "
        "TLS12\n",
        "min_version is above max_version", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: [TLS_FOO]\n",
        "unknown cipher suite \"TLS_FOO\"", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  curve_preferences: [P256]\n",
        "unknown curve \"P256\"", NULL);
    bad("tls_server_config:\n  cert_file: a\n  key_file: b\n  prefer_server_cipher_suites: "
        "maybe\n",
        "invalid boolean \"maybe\"", NULL);

    /* settings without a certificate: TLS stays off, with a note */
    c = ok("tls_server_config:\n  min_version: TLS13\n");
    assert_false(c->tls.enabled);
    assert_int_equal(c->n_notes, 1);
    assert_non_null(strstr(c->notes[0], "TLS is off"));
    webconfig_free(c);

    c = ok("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS10\n  "
           "prefer_server_cipher_suites: false\n  cipher_suites:\n    - "
           "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n    - TLS_AES_128_GCM_SHA256\n  "
           "curve_preferences: [X25519, CurveP384]\n");
    assert_int_equal(c->tls.min_version, WEBCONFIG_TLS10);
    assert_false(c->tls.prefer_server_cipher_suites);
    assert_int_equal(c->tls.n_ciphers, 2);
    assert_string_equal(webconfig_cipher_name(c->tls.ciphers[0]),
                        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    assert_int_equal(c->tls.n_curves, 2);
    assert_string_equal(webconfig_curve_name(c->tls.curves[1]), "CurveP384");
    webconfig_free(c);
}

static void headers_follow_exporter_toolkit(void **state)
{
    struct webconfig *c;

    (void)state;
    bad("http_server_config:\n  headers:\n    Server: x\n",
        "key http_server_config.headers.Server: this HTTP header can not be configured", NULL);
    /* names as exporter-toolkit spells them: its map is case-sensitive */
    bad("http_server_config:\n  headers:\n    x-frame-options: deny\n", "can not be configured",
        NULL);
    bad("http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
        "invalid value \"allow\" (one of \"deny\", \"sameorigin\")", NULL);
    bad("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
        "one of \"nosniff\"", NULL);
    bad("http_server_config:\n  headers:\n    Content-Security-Policy: \"a\\r\\nSet-Cookie: x\"\n",
        "without control characters", NULL);
    c = ok("http_server_config:\n  http2: false\n  headers:\n    X-Content-Type-Options: "
           "nosniff\n    X-XSS-Protection: ''\n    Content-Security-Policy: default-src 'self'\n");
    /* a blank value leaves the header out */
    assert_int_equal(c->n_headers, 2);
    assert_string_equal(c->headers[0].name, "X-Content-Type-Options");
    assert_string_equal(c->headers[1].value, "default-src 'self'");
    /* http2 is accepted, and said to be ignored */
    assert_int_equal(c->n_notes, 1);
    assert_non_null(strstr(c->notes[0], "http2"));
    webconfig_free(c);
}

static void users_need_bcrypt_hashes(void **state)
{
    struct webconfig *c;

    (void)state;
    bad("basic_auth_users:\n  alice: secret\n", "key basic_auth_users.alice: not a bcrypt hash",
        NULL);
    /* the value is never quoted in the problem: it may be a password pasted by mistake */
    assert_null(strstr(err, "secret"));
    bad("basic_auth_users:\n  alice:\n", "not a bcrypt hash", NULL);
    bad("basic_auth_users:\n  \"\": " HASH10 "\n", "a user name is 1 to", NULL);
    bad("basic_auth_users: [alice]\n", "expected a mapping", NULL);
    c = ok("basic_auth_users:\n  123: " HASH10 "\n");
    assert_string_equal(c->users[0].name, "123"); /* any scalar is a string, as in yaml.v2 */
    webconfig_free(c);
}

static void bcrypt_hash_shapes(void **state)
{
    char h[WEBCONFIG_BCRYPT_LEN + 1];

    (void)state;
    assert_int_equal(webconfig_bcrypt_cost(HASH10, strlen(HASH10)), 10);
    assert_int_equal(webconfig_bcrypt_cost(HASH12, strlen(HASH12)), 12);
    memcpy(h, HASH10, sizeof(h));
    h[2] = 'a';
    assert_int_equal(webconfig_bcrypt_cost(h, strlen(h)), 10);
    h[2] = 'x'; /* $2x$: the buggy variant, not accepted */
    assert_int_equal(webconfig_bcrypt_cost(h, strlen(h)), 0);
    memcpy(h, HASH10, sizeof(h));
    h[4] = '0', h[5] = '3'; /* cost 3 */
    assert_int_equal(webconfig_bcrypt_cost(h, strlen(h)), 0);
    h[4] = '3', h[5] = '2'; /* cost 32 */
    assert_int_equal(webconfig_bcrypt_cost(h, strlen(h)), 0);
    h[4] = '3', h[5] = '1';
    assert_int_equal(webconfig_bcrypt_cost(h, strlen(h)), 31);
    memcpy(h, HASH10, sizeof(h));
    h[40] = '!';
    assert_int_equal(webconfig_bcrypt_cost(h, strlen(h)), 0);
    assert_int_equal(webconfig_bcrypt_cost(HASH10, strlen(HASH10) - 1), 0);
    assert_int_equal(webconfig_bcrypt_cost("$1$abc", 6), 0);
}

static void rate_limit(void **state)
{
    struct webconfig *c;

    (void)state;
    c = ok("rate_limit:\n  interval: 500ms\n  burst: 20\n");
    assert_int_equal(c->rate_interval_ms, 500);
    assert_int_equal(c->rate_burst, 20);
    webconfig_free(c);
    c = ok("rate_limit:\n  interval: 0\n  burst: 20\n");
    assert_int_equal(c->rate_interval_ms, 0);
    webconfig_free(c);
    bad("rate_limit:\n  interval: fast\n", "invalid duration \"fast\"", NULL);
    bad("rate_limit:\n  burst: -1\n", "invalid burst \"-1\"", NULL);
}

static void user_lookup(void **state)
{
    struct webconfig *c;

    (void)state;
    c = ok("basic_auth_users:\n  alice: " HASH10 "\n  alicia: " HASH12 "\n");
    assert_ptr_equal(webconfig_user(c, "alice", 5), &c->users[0]);
    assert_ptr_equal(webconfig_user(c, "alicia", 6), &c->users[1]);
    assert_null(webconfig_user(c, "ali", 3));
    assert_null(webconfig_user(c, "alice2", 6));
    assert_null(webconfig_user(c, "Alice", 5));
    assert_null(webconfig_user(c, "", 0));
    webconfig_free(c);
}

static void priority_strings(void **state)
{
    struct webconfig *c;
    char p[WEBCONFIG_PRIORITY_MAX];
    size_t extra = 99;

    (void)state;
    c = ok("tls_server_config:\n  cert_file: a\n  key_file: b\n");
    assert_int_equal(webconfig_priority(c, p, sizeof(p), &extra), 0);
    assert_string_equal(p, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:%SERVER_PRECEDENCE");
    assert_int_equal(extra, 0);
    webconfig_free(c);

    /* TLS 1.2 only, two suites of one kind: exactly the list */
    c = ok("tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS12\n  "
           "cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
           "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n  curve_preferences: [CurveP256]\n  "
           "prefer_server_cipher_suites: false\n");
    assert_int_equal(webconfig_priority(c, p, sizeof(p), &extra), 0);
    assert_string_equal(p, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:-CIPHER-ALL:-MAC-ALL:"
                           "+ECDHE-RSA:+AES-128-GCM:+AES-256-GCM:+AEAD:-GROUP-ALL:"
                           "+GROUP-SECP256R1");
    assert_int_equal(extra, 0);
    webconfig_free(c);

    /* mixed suites: GnuTLS allows the combinations of their parts too, and says how many */
    c = ok("tls_server_config:\n  cert_file: a\n  key_file: b\n  max_version: TLS12\n  "
           "cipher_suites: [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
           "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]\n");
    assert_int_equal(webconfig_priority(c, p, sizeof(p), &extra), 0);
    assert_int_equal(extra, 2); /* ECDHE-RSA + CHACHA20, ECDHE-ECDSA + AES-128-GCM */
    assert_int_equal(c->n_notes, 1);
    assert_non_null(strstr(c->notes[0], "2 TLS 1.2 suite(s) beyond the list"));
    webconfig_free(c);

    /* with TLS 1.3, its ciphers stay (Go does not configure TLS 1.3 suites) */
    c = ok("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: TLS13\n  "
           "cipher_suites: [TLS_AES_128_GCM_SHA256]\n");
    assert_int_equal(webconfig_priority(c, p, sizeof(p), &extra), 0);
    assert_string_equal(p, "NORMAL:-VERS-ALL:+VERS-TLS1.3:%SERVER_PRECEDENCE");
    webconfig_free(c);
    c = ok("tls_server_config:\n  cert_file: a\n  key_file: b\n  cipher_suites: "
           "[TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]\n");
    assert_int_equal(webconfig_priority(c, p, sizeof(p), &extra), 0);
    assert_non_null(strstr(p, "+AES-128-CBC:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305"));
    assert_non_null(strstr(p, "+SHA1:+AEAD"));
    assert_int_equal(extra, 3);
    assert_int_equal(webconfig_priority(c, p, 10, &extra), -ENOSPC);
    webconfig_free(c);
}

static void problems_are_bounded(void **state)
{
    char text[8192];
    size_t n = 0;
    int i;

    (void)state;
    for (i = 0; i < 400; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "k%d: 1\n", i);
    bad(text, "web.yml:1:1: key k0: unknown key", "more problems not shown", NULL);
    assert_true(strlen(err) < sizeof(err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_file_configures_nothing),
        cmocka_unit_test(full_config_and_defaults),
        cmocka_unit_test(inline_pem_and_dot_directory),
        cmocka_unit_test(unknown_and_duplicate_keys_name_the_place),
        cmocka_unit_test(yaml_shapes),
        cmocka_unit_test(tls_rules),
        cmocka_unit_test(headers_follow_exporter_toolkit),
        cmocka_unit_test(users_need_bcrypt_hashes),
        cmocka_unit_test(bcrypt_hash_shapes),
        cmocka_unit_test(rate_limit),
        cmocka_unit_test(user_lookup),
        cmocka_unit_test(priority_strings),
        cmocka_unit_test(problems_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
