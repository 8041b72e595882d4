/*
 * fuzz_webconfig: libFuzzer target for webconfig_parse (the
 * --web.config.file body, YAML through libyaml).
 *
 * Checks what the parser promises: err is always NUL-terminated; on success
 * it is empty and every value is within its bounds (users, headers, SANs,
 * ciphers and curves known, hashes bcrypt-shaped, TLS settings consistent),
 * the user lookup finds each user, and the priority string builds; on
 * failure err holds lines naming the file without control bytes (hostile
 * values are escaped). Then everything is freed (ASan reports leaks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "webconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ok(const struct webconfig *c)
{
    char prio[WEBCONFIG_PRIORITY_MAX];
    size_t i;

    if (c->n_users > WEBCONFIG_USERS_MAX || c->n_headers > WEBCONFIG_HEADERS_MAX ||
        c->tls.n_allowed_sans > WEBCONFIG_SANS_MAX || c->tls.n_ciphers > WEBCONFIG_CIPHERS_MAX ||
        c->tls.n_curves > WEBCONFIG_CURVES_MAX || c->n_notes > WEBCONFIG_NOTES_MAX)
        abort();
    for (i = 0; i < c->n_users; i++) {
        const struct webconfig_user *u = &c->users[i];

        if (!u->name[0] || webconfig_bcrypt_cost(u->hash, strlen(u->hash)) != u->cost ||
            u->cost > c->max_cost || webconfig_user(c, u->name, strlen(u->name)) != u)
            abort();
    }
    for (i = 0; i < c->n_headers; i++)
        if (!c->headers[i].value[0] || strpbrk(c->headers[i].value, "\r\n"))
            abort();
    for (i = 0; i < c->tls.n_ciphers; i++)
        if (!webconfig_cipher_name(c->tls.ciphers[i]))
            abort();
    for (i = 0; i < c->tls.n_curves; i++)
        if (!webconfig_curve_name(c->tls.curves[i]))
            abort();
    if (c->tls.enabled) {
        if ((!c->tls.cert && !c->tls.cert_file) || (!c->tls.key && !c->tls.key_file) ||
            c->tls.min_version > c->tls.max_version)
            abort();
        if (webconfig_priority(c, prio, sizeof(prio), NULL) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct webconfig *c = NULL;
    char err[WEBCONFIG_ERR_MAX];
    const char *line;
    int rc;

    memset(err, 'X', sizeof(err));
    rc = webconfig_parse((const char *)data, size, "fuzz.yml", "/etc/elb", &c, err, sizeof(err));
    if (memchr(err, '\0', sizeof(err)) == NULL)
        abort();
    if (rc == 0) {
        if (!c || err[0] != '\0')
            abort();
        check_ok(c);
        webconfig_free(c);
        return 0;
    }
    if (c || err[0] == '\0')
        abort();
    for (line = err; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        const char *p;

        if (strncmp(line, "fuzz.yml", 8) != 0 && strncmp(line, "(", 1) != 0)
            abort();
        for (p = line; *p && *p != '\n'; p++)
            if ((unsigned char)*p < 0x20 && *p != '\t')
                abort();
    }
    return 0;
}
