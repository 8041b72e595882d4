/*
 * test_websec: the web config's generations and their reload (src/websec.c,
 * with webtls.c and webconfig.c), on real files in a temporary directory:
 * what a first load refuses (missing file, wrong key, no certificate), that
 * an unchanged set of files is not reloaded, that a change is, that a broken
 * change keeps the last good generation and is not retried until the files
 * change again, that a held generation outlives its replacement, and that
 * TLS cannot be switched on or off by a reload.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_pem.h"
#include "websec.h"

#define HASH10 "$2y$10$ieC3icRqSxOV3ZNm/iGr3.zuZ1l/gIb2RIRPhV.t3e1FlYx3U5BiW"

static char dir[64];
static char err[WEBSEC_ERR_MAX];

/* dir/name into out. */
static const char *at(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
    return out;
}

/* Write text to dir/name through a new file renamed over it (a new inode, as rotation tools do). */
static void put(const char *name, const char *text)
{
    char path[128], tmp[140];
    FILE *f;

    at(path, sizeof(path), name);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    f = fopen(tmp, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* Write text into dir/name in place (the same inode; size or times change). */
static void put_in_place(const char *name, const char *text)
{
    char path[128];
    FILE *f = fopen(at(path, sizeof(path), name), "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/test_websec.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    put("cert.pem", test_cert_pem);
    put("key.pem", test_key_pem);
    put("other.key", test_other_key_pem);
    return 0;
}

static int teardown(void **state)
{
    const char *names[] = {"cert.pem", "key.pem", "other.key", "web.yml", "plain.yml"};
    char path[128];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        unlink(at(path, sizeof(path), names[i]));
    rmdir(dir);
    return 0;
}

static const char tls_yml[] = "tls_server_config:\n"
                              "  cert_file: cert.pem\n"
                              "  key_file: key.pem\n"
                              "basic_auth_users:\n"
                              "  alice: " HASH10 "\n";

static struct websec *open_ok(const char *name)
{
    struct websec *ws = NULL;
    char path[128];

    if (websec_open(at(path, sizeof(path), name), &ws, err, sizeof(err)) != 0)
        fail_msg("websec_open: %s", err);
    return ws;
}

static void first_load(void **state)
{
    struct websec *ws;
    struct websec_gen *g;
    char path[128];

    (void)state;
    put("web.yml", tls_yml);
    ws = open_ok("web.yml"); /* cert.pem and key.pem are found beside web.yml */
    assert_true(websec_tls(ws));
    g = websec_acquire(ws);
    assert_non_null(websec_webtls(g));
    assert_int_equal(websec_config(g)->n_users, 1);
    /* the dummy hash: the users' cost, random salt, a hash part no password gives */
    assert_int_equal(strlen(websec_dummy_hash(g)), 60);
    assert_memory_equal(websec_dummy_hash(g), "$2b$10$", 7);
    assert_int_equal(webconfig_bcrypt_cost(websec_dummy_hash(g), 60), 10);
    websec_release(g);
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_UNCHANGED);
    websec_free(ws);
    assert_int_equal(websec_validate(at(path, sizeof(path), "web.yml"), err, sizeof(err)), 0);

    /* without TLS */
    put("plain.yml", "basic_auth_users:\n  alice: " HASH10 "\n");
    ws = open_ok("plain.yml");
    assert_false(websec_tls(ws));
    g = websec_acquire(ws);
    assert_null(websec_webtls(g));
    websec_release(g);
    websec_free(ws);
}

static void first_load_refuses(void **state)
{
    struct websec *ws = NULL;
    char path[128];

    (void)state;
    assert_int_equal(websec_open(at(path, sizeof(path), "missing.yml"), &ws, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "missing.yml"));
    assert_null(ws);

    at(path, sizeof(path), "web.yml");
    put("web.yml", "tls_server_config:\n  cert_file: nothere.pem\n  key_file: key.pem\n");
    assert_int_equal(websec_validate(path, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "tls_server_config.cert_file: cannot read"));
    assert_non_null(strstr(err, "nothere.pem"));

    put("web.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: other.key\n");
    assert_int_equal(websec_validate(path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "the private key is not the certificate's"));

    put("web.yml", "tls_server_config:\n  cert_file: key.pem\n  key_file: key.pem\n");
    assert_int_equal(websec_validate(path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "no PEM certificate could be read"));

    put("web.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: cert.pem\n");
    assert_int_equal(websec_validate(path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "no unencrypted PEM private key"));

    put("web.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  "
                   "client_ca_file: key.pem\n  client_auth_type: RequireAndVerifyClientCert\n");
    assert_int_equal(websec_validate(path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "client_ca_file"));

    put("web.yml", "tls_server_config:\n  cert_file: .\n  key_file: key.pem\n");
    assert_int_equal(websec_validate(path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "is not a regular file"));

    put("web.yml", "tls_server_config:\n  cert_fil: cert.pem\n");
    assert_int_equal(websec_validate(path, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "web.yml:2:3: key tls_server_config.cert_fil: unknown key"));
}

static void reload_on_change_only(void **state)
{
    struct websec *ws;
    struct websec_gen *old, *g;

    (void)state;
    put("web.yml", tls_yml);
    ws = open_ok("web.yml");
    old = websec_acquire(ws);

    /* a header added: a new generation; the held one stays as it was */
    put("web.yml", "http_server_config:\n  headers:\n    X-Frame-Options: deny\n" /**/
                   "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n");
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_RELOADED);
    g = websec_acquire(ws);
    assert_ptr_not_equal(g, old);
    assert_int_equal(websec_config(g)->n_headers, 1);
    assert_int_equal(websec_config(g)->n_users, 0);
    assert_int_equal(websec_config(old)->n_users, 1);
    websec_release(old);
    websec_release(g);
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_UNCHANGED);

    /* a certificate file rewritten in place (same inode, one more byte) is seen too */
    {
        char grown[sizeof(test_cert_pem) + 1];

        snprintf(grown, sizeof(grown), "%s\n", test_cert_pem);
        put_in_place("cert.pem", grown);
    }
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_RELOADED);

    /* a key that is not the certificate's: the last good one stays, and is not retried */
    put("key.pem", test_other_key_pem);
    old = websec_acquire(ws);
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_FAILED);
    assert_non_null(strstr(err, "not the certificate's"));
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_UNCHANGED);
    g = websec_acquire(ws);
    assert_ptr_equal(g, old);
    websec_release(g);
    /* the right key back: reloaded */
    put("key.pem", test_key_pem);
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_RELOADED);
    g = websec_acquire(ws);
    assert_ptr_not_equal(g, old);
    websec_release(g);
    websec_release(old);

    /* a broken file: FAILED once, with the place */
    put("web.yml", "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbogus: 1\n");
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_FAILED);
    assert_non_null(strstr(err, "web.yml:4:1: key bogus"));
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_UNCHANGED);

    /* TLS cannot be switched off by a reload */
    put("web.yml", "basic_auth_users:\n  alice: " HASH10 "\n");
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_FAILED);
    assert_non_null(strstr(err, "restart"));

    /* the file gone, then back */
    unlink(at((char[128]){0}, 128, "web.yml"));
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_FAILED);
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_UNCHANGED);
    put("web.yml", tls_yml);
    assert_int_equal(websec_check(ws, err, sizeof(err)), WEBSEC_RELOADED);
    websec_free(ws);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_load),
        cmocka_unit_test(first_load_refuses),
        cmocka_unit_test(reload_on_change_only),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
