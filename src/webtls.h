/*
 * webtls: the TLS half of a web config, in GnuTLS terms (libmicrohttpd's TLS
 * is GnuTLS).
 *
 * One struct webtls holds what every connection of one web config generation
 * needs: certificate credentials (the server's chain and key, and the client
 * CA as trust list), a priority cache (versions, cipher suites, curves), the
 * client auth type and the allowed client SANs. It is built from PEM held in
 * memory (websec.c reads the files), so a certificate rotation is a new
 * webtls, and a connection keeps the one it started with until it closes.
 *
 * webtls_session_setup puts a webtls on a session before its handshake: our
 * credentials and priorities instead of libmicrohttpd's, and the certificate
 * request the client auth type asks for, so that a missing or untrusted client
 * certificate fails the handshake, as Go's crypto/tls does. GnuTLS's verify
 * function has no context pointer, so client_allowed_sans cannot be checked
 * there: webtls_check_peer does every check (SANs included), and the request
 * gate calls it once per connection before any request is answered.
 *
 * No logging, no file I/O, no globals.
 */
#ifndef ELB_WEBTLS_H
#define ELB_WEBTLS_H

#include <gnutls/gnutls.h>
#include <stddef.h>

#include "webconfig.h"

struct webtls;

/* PEM in memory; len bytes (the text need not be NUL-terminated). */
struct webtls_pem {
    const char *cert, *key, *client_ca; /* client_ca NULL: none */
    size_t cert_len, key_len, client_ca_len;
};

/*
 * Build the TLS half of config t from pem (the contents of t's files, or its
 * inline PEM). Checks that the certificate chain parses, that the key is the
 * certificate's, that the client CA holds at least one certificate and that
 * GnuTLS takes the priority string (webconfig_priority). Returns 0 and *out,
 * or a negative errno with a one-line reason in err.
 */
int webtls_new(const struct webconfig *c, const struct webtls_pem *pem, struct webtls **out,
               char *err, size_t errsz);
/* Free. Accepts NULL. Every session set up with it must be gone. */
void webtls_free(struct webtls *w);

/*
 * Set up session s (server side, before its handshake) with w: credentials,
 * priorities, and the client auth type's certificate request, GnuTLS
 * refusing a missing certificate itself for the types that require one, and
 * a verify function that checks the chain in the handshake for the types
 * that verify. Returns 0 or a GnuTLS error code.
 */
int webtls_session_setup(const struct webtls *w, gnutls_session_t s);

/* Outcome of webtls_check_peer. */
enum webtls_peer {
    WEBTLS_PEER_OK = 0,    /* acceptable under the client auth type */
    WEBTLS_PEER_MISSING,   /* required (or SANs to check) and none sent */
    WEBTLS_PEER_UNTRUSTED, /* did not verify against the client CA (or not for client auth) */
    WEBTLS_PEER_SAN,       /* verified, but no SAN is in client_allowed_sans */
};

/*
 * Judge session s's client certificate the way Go's crypto/tls and
 * exporter-toolkit do for w's client auth type: RequireAny/RequireAndVerify
 * need one; VerifyIfGiven/RequireAndVerify verify the chain against the
 * client CA for client authentication (an extended key usage, when present,
 * must allow it); client_allowed_sans needs one of the leaf's DNS, e-mail, IP
 * or URI SANs to be listed. why (if non-NULL) gets a short reason.
 */
enum webtls_peer webtls_check_peer(const struct webtls *w, gnutls_session_t s, char *why,
                                   size_t whysz);

/* Does w ask clients for a certificate at all? */
int webtls_asks_client_cert(const struct webtls *w);

#endif
