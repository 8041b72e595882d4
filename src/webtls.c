/*
 * webtls: GnuTLS credentials and checks for one web config generation (see webtls.h).
 */
#include "webtls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct webtls {
    gnutls_certificate_credentials_t cred; /* chain + key, client CA as trust list */
    gnutls_priority_t prio;
    enum webconfig_client_auth auth;
    char **sans; /* client_allowed_sans (copies); n_sans 0: not checked */
    size_t n_sans;
};

/* "tls_server_config.cert_file (PATH)" or "tls_server_config.cert" for problems. */
static const char *which(char *buf, size_t len, const char *key, const char *file)
{
    if (file)
        snprintf(buf, len, "tls_server_config.%s_file (%s)", key, file);
    else
        snprintf(buf, len, "tls_server_config.%s", key);
    return buf;
}

void webtls_free(struct webtls *w)
{
    size_t i;

    if (!w)
        return;
    if (w->cred)
        gnutls_certificate_free_credentials(w->cred);
    if (w->prio)
        gnutls_priority_deinit(w->prio);
    for (i = 0; i < w->n_sans; i++)
        free(w->sans[i]);
    free(w->sans);
    free(w);
}

/* Does the PEM in d hold a certificate chain GnuTLS reads? 0 or a GnuTLS error. */
static int check_chain(const gnutls_datum_t *d, unsigned *n)
{
    gnutls_x509_crt_t *list = NULL;
    unsigned i;
    int rc;

    *n = 0;
    rc = gnutls_x509_crt_list_import2(&list, n, d, GNUTLS_X509_FMT_PEM, 0);
    if (rc < 0)
        return rc;
    for (i = 0; i < *n; i++)
        gnutls_x509_crt_deinit(list[i]);
    gnutls_free(list);
    return *n ? 0 : GNUTLS_E_NO_CERTIFICATE_FOUND;
}

/* Does the PEM in d hold an unencrypted private key GnuTLS reads? 0 or a GnuTLS error. */
static int check_key(const gnutls_datum_t *d)
{
    gnutls_x509_privkey_t k;
    int rc = gnutls_x509_privkey_init(&k);

    if (rc < 0)
        return rc;
    rc = gnutls_x509_privkey_import2(k, d, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
    gnutls_x509_privkey_deinit(k);
    return rc;
}

int webtls_new(const struct webconfig *c, const struct webtls_pem *pem, struct webtls **out,
               char *err, size_t errsz)
{
    const struct webconfig_tls *t = &c->tls;
    char prio[WEBCONFIG_PRIORITY_MAX], what[1200];
    gnutls_datum_t cert, key, ca;
    const char *errpos = NULL;
    struct webtls *w;
    unsigned n;
    size_t i;
    int rc;

    w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    w->auth = t->client_auth;
    cert.data = (unsigned char *)pem->cert;
    cert.size = (unsigned)pem->cert_len;
    key.data = (unsigned char *)pem->key;
    key.size = (unsigned)pem->key_len;
    rc = check_chain(&cert, &n);
    if (rc < 0) {
        snprintf(err, errsz, "%s: no PEM certificate could be read: %s",
                 which(what, sizeof(what), "cert", t->cert_file), gnutls_strerror(rc));
        goto fail;
    }
    rc = check_key(&key);
    if (rc < 0) {
        snprintf(err, errsz, "%s: no unencrypted PEM private key could be read: %s",
                 which(what, sizeof(what), "key", t->key_file), gnutls_strerror(rc));
        goto fail;
    }
    rc = gnutls_certificate_allocate_credentials(&w->cred);
    if (rc < 0) {
        w->cred = NULL;
        snprintf(err, errsz, "cannot set up TLS credentials: %s", gnutls_strerror(rc));
        goto fail;
    }
    rc = gnutls_certificate_set_x509_key_mem2(w->cred, &cert, &key, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc < 0) {
        snprintf(err, errsz, "%s and %s: %s", which(what, sizeof(what), "cert", t->cert_file),
                 t->key_file ? t->key_file : "tls_server_config.key",
                 rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH
                     ? "the private key is not the certificate's"
                     : gnutls_strerror(rc));
        goto fail;
    }
    if (pem->client_ca) {
        ca.data = (unsigned char *)pem->client_ca;
        ca.size = (unsigned)pem->client_ca_len;
        rc = gnutls_certificate_set_x509_trust_mem(w->cred, &ca, GNUTLS_X509_FMT_PEM);
        if (rc <= 0) {
            snprintf(err, errsz, "%s: no PEM certificate could be read%s%s",
                     which(what, sizeof(what), "client_ca", t->client_ca_file), rc < 0 ? ": " : "",
                     rc < 0 ? gnutls_strerror(rc) : "");
            goto fail;
        }
    }
    if (webconfig_priority(c, prio, sizeof(prio), NULL) != 0) {
        snprintf(err, errsz, "tls_server_config: too many TLS settings for one priority string");
        goto fail;
    }
    rc = gnutls_priority_init(&w->prio, prio, &errpos);
    if (rc < 0) {
        w->prio = NULL;
        snprintf(err, errsz,
                 "tls_server_config: GnuTLS does not take the TLS settings (priority \"%s\", "
                 "at \"%.40s\"): %s",
                 prio, errpos ? errpos : "", gnutls_strerror(rc));
        goto fail;
    }
    if (t->n_allowed_sans) {
        w->sans = calloc(t->n_allowed_sans, sizeof(char *));
        if (!w->sans)
            goto nomem;
        for (i = 0; i < t->n_allowed_sans; i++) {
            w->sans[i] = strdup(t->allowed_sans[i]);
            if (!w->sans[i])
                goto nomem;
            w->n_sans++;
        }
    }
    *out = w;
    return 0;
nomem:
    snprintf(err, errsz, "out of memory");
    webtls_free(w);
    return -ENOMEM;
fail:
    webtls_free(w);
    return -EINVAL;
}

int webtls_asks_client_cert(const struct webtls *w)
{
    return w->auth != WEBCONFIG_NO_CLIENT_CERT;
}

/*
 * The handshake's verify function for the client auth types that verify
 * (GnuTLS calls it after the client's Certificate message, also an empty
 * one). It has no context pointer, so it checks what the session's own
 * credentials can: the chain against their trust list (the client CA), for
 * client authentication. No certificate is fine here: the types that require
 * one have GnuTLS refuse that itself (GNUTLS_CERT_REQUIRE). SANs are the
 * request gate's (webtls_check_peer).
 */
static int verify_chain(gnutls_session_t s)
{
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    unsigned n = 0, status = 0;

    if (!gnutls_certificate_get_peers(s, &n) || n == 0)
        return 0;
    if (gnutls_certificate_verify_peers(s, &purpose, 1, &status) < 0 || status != 0)
        return GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR;
    return 0;
}

int webtls_session_setup(const struct webtls *w, gnutls_session_t s)
{
    int rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, w->cred);

    if (rc < 0)
        return rc;
    rc = gnutls_priority_set(s, w->prio);
    if (rc < 0)
        return rc;
    switch (w->auth) {
    case WEBCONFIG_NO_CLIENT_CERT:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
        break;
    case WEBCONFIG_REQUEST_CLIENT_CERT:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
        break;
    case WEBCONFIG_REQUIRE_ANY_CLIENT_CERT:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
        break;
    case WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
        gnutls_session_set_verify_function(s, verify_chain);
        break;
    case WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_function(s, verify_chain);
        break;
    }
    return 0;
}

/* Text of IP SAN raw (4 or 16 bytes) as Go's net.IP.String writes it; "" if neither. */
static void ip_text(const unsigned char *raw, size_t len, char *out, size_t cap)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    out[0] = '\0';
    if (len == 16 && memcmp(raw, v4mapped, 12) == 0) {
        raw += 12;
        len = 4;
    }
    if (len == 4)
        inet_ntop(AF_INET, raw, out, (socklen_t)cap);
    else if (len == 16)
        inet_ntop(AF_INET6, raw, out, (socklen_t)cap);
}

/* Is one of leaf's DNS, e-mail, IP or URI SANs in w->sans? */
static int san_allowed(const struct webtls *w, const gnutls_datum_t *leaf)
{
    gnutls_x509_crt_t crt;
    char buf[WEBCONFIG_SAN_MAX + 1], ip[INET6_ADDRSTRLEN];
    unsigned idx;
    size_t i, size;
    int type, ok = 0;

    if (gnutls_x509_crt_init(&crt) < 0)
        return 0;
    if (gnutls_x509_crt_import(crt, leaf, GNUTLS_X509_FMT_DER) < 0)
        goto out;
    for (idx = 0; !ok; idx++) {
        const char *text = buf;

        size = sizeof(buf) - 1;
        type = gnutls_x509_crt_get_subject_alt_name(crt, idx, buf, &size, NULL);
        if (type == GNUTLS_E_SHORT_MEMORY_BUFFER)
            continue; /* longer than any allowed SAN */
        if (type < 0)
            break; /* GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE: no more */
        if (type == GNUTLS_SAN_IPADDRESS) {
            ip_text((const unsigned char *)buf, size, ip, sizeof(ip));
            text = ip;
            size = strlen(ip);
        } else if (type != GNUTLS_SAN_DNSNAME && type != GNUTLS_SAN_RFC822NAME &&
                   type != GNUTLS_SAN_URI) {
            continue;
        }
        for (i = 0; i < w->n_sans && !ok; i++)
            ok = size && strlen(w->sans[i]) == size && memcmp(w->sans[i], text, size) == 0;
    }
out:
    gnutls_x509_crt_deinit(crt);
    return ok;
}

enum webtls_peer webtls_check_peer(const struct webtls *w, gnutls_session_t s, char *why,
                                   size_t whysz)
{
    gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
                                     (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
    const gnutls_datum_t *certs;
    unsigned n = 0, status = 0;
    int rc;

    if (why && whysz)
        why[0] = '\0';
    if (w->auth == WEBCONFIG_NO_CLIENT_CERT)
        return WEBTLS_PEER_OK;
    certs = gnutls_certificate_get_peers(s, &n);
    if (!certs || n == 0) {
        if (w->auth == WEBCONFIG_REQUIRE_ANY_CLIENT_CERT ||
            w->auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT || w->n_sans) {
            if (why)
                snprintf(why, whysz, "no client certificate (client_auth_type %s%s)",
                         webconfig_client_auth_name(w->auth),
                         w->n_sans ? ", client_allowed_sans" : "");
            return WEBTLS_PEER_MISSING;
        }
        return WEBTLS_PEER_OK;
    }
    if (w->auth == WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN ||
        w->auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT) {
        rc = gnutls_certificate_verify_peers(s, &purpose, 1, &status);
        if (rc < 0 || status != 0) {
            if (why) {
                gnutls_datum_t text = {NULL, 0};

                if (rc < 0)
                    snprintf(why, whysz, "client certificate not verified: %s",
                             gnutls_strerror(rc));
                else if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
                                                                      &text, 0) == 0) {
                    snprintf(why, whysz, "client certificate refused: %s", text.data);
                    gnutls_free(text.data);
                } else {
                    snprintf(why, whysz, "client certificate refused (status 0x%x)", status);
                }
            }
            return WEBTLS_PEER_UNTRUSTED;
        }
    }
    if (w->n_sans && !san_allowed(w, &certs[0])) {
        if (why)
            snprintf(why, whysz, "client certificate has no SAN in client_allowed_sans");
        return WEBTLS_PEER_SAN;
    }
    return WEBTLS_PEER_OK;
}
