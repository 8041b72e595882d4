/*
 * webconfig: the web configuration file of --web.config.file, in the format
 * of Prometheus's exporter-toolkit (docs/web-configuration.md there), so that
 * a file written for node_exporter works here:
 *
 *   tls_server_config:   cert_file, key_file (or cert, key inline), client_ca_file
 *                        (or client_ca), client_auth_type, client_allowed_sans,
 *                        min_version, max_version, cipher_suites,
 *                        prefer_server_cipher_suites, curve_preferences
 *   http_server_config:  headers (the five exporter-toolkit allows), http2 (ignored)
 *   basic_auth_users:    user: bcrypt hash
 *   rate_limit:          interval, burst
 *
 * Pure: webconfig_parse reads a buffer, never a file, the clock or the
 * environment. Relative paths are joined with the directory the caller names
 * (the file's own, as exporter-toolkit does). Every problem is reported as
 * "PATH:LINE:COLUMN: key a.b: reason", one per line: unknown keys, wrong
 * types, duplicate keys, YAML aliases, values outside the allowed sets.
 *
 * Where exporter-toolkit silently accepts a setting that cannot work or would
 * be insecure, this refuses it (README: "Web configuration"): a client CA with
 * NoClientCert (exporter-toolkit refuses that too), verifying client
 * certificates without a client CA (Go would use the system roots),
 * client_allowed_sans without asking for a certificate, both cert and
 * cert_file, min_version above max_version.
 */
#ifndef ELB_WEBCONFIG_H
#define ELB_WEBCONFIG_H

#include <stddef.h>
#include <stdint.h>

#define WEBCONFIG_FILE_MAX (1u << 20) /* bytes of the file (inline PEM included) */
#define WEBCONFIG_ERR_MAX 2048        /* bytes of the problem text */
#define WEBCONFIG_USERS_MAX 1024      /* basic_auth_users entries */
#define WEBCONFIG_NAME_MAX 256        /* bytes of one user name */
#define WEBCONFIG_SANS_MAX 256        /* client_allowed_sans entries */
#define WEBCONFIG_SAN_MAX 1024        /* bytes of one of them */
#define WEBCONFIG_CIPHERS_MAX 32      /* cipher_suites entries */
#define WEBCONFIG_CURVES_MAX 8        /* curve_preferences entries */
#define WEBCONFIG_HEADERS_MAX 5       /* http_server_config.headers: the names allowed */
#define WEBCONFIG_HEADER_VALUE_MAX 4096
#define WEBCONFIG_NOTES_MAX 8      /* notes (things accepted but ignored) kept */
#define WEBCONFIG_PRIORITY_MAX 512 /* bytes of a GnuTLS priority string */
#define WEBCONFIG_BCRYPT_LEN 60    /* "$2y$10$" + 22 salt + 31 hash characters */

enum webconfig_client_auth {
    WEBCONFIG_NO_CLIENT_CERT = 0,
    WEBCONFIG_REQUEST_CLIENT_CERT,
    WEBCONFIG_REQUIRE_ANY_CLIENT_CERT,
    WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN,
    WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

/* TLS protocol versions, as on the wire. */
#define WEBCONFIG_TLS10 0x0301
#define WEBCONFIG_TLS11 0x0302
#define WEBCONFIG_TLS12 0x0303
#define WEBCONFIG_TLS13 0x0304

struct webconfig_user {
    char *name;
    char hash[WEBCONFIG_BCRYPT_LEN + 1];
    unsigned cost; /* bcrypt cost, 4..31 */
};

struct webconfig_header {
    const char *name; /* one of the five, as exporter-toolkit spells it (static) */
    char *value;      /* never empty: a blank value leaves the header out */
};

struct webconfig_tls {
    int enabled; /* any of cert, key, client CA or client_auth_type is set */
    /* files, joined with the file's directory; NULL when not given */
    char *cert_file, *key_file, *client_ca_file;
    /* inline PEM; NULL when not given (exactly one of cert/cert_file when enabled) */
    char *cert, *key, *client_ca;
    enum webconfig_client_auth client_auth;
    unsigned min_version, max_version;       /* WEBCONFIG_TLS1x */
    unsigned ciphers[WEBCONFIG_CIPHERS_MAX]; /* indices for webconfig_cipher_name */
    size_t n_ciphers;
    int prefer_server_cipher_suites;       /* default 1 */
    unsigned curves[WEBCONFIG_CURVES_MAX]; /* indices for webconfig_curve_name */
    size_t n_curves;
    char **allowed_sans; /* client_allowed_sans; NULL when not given */
    size_t n_allowed_sans;
};

struct webconfig {
    struct webconfig_tls tls;
    struct webconfig_header headers[WEBCONFIG_HEADERS_MAX];
    size_t n_headers;
    struct webconfig_user *users; /* basic_auth_users; none: no authentication */
    size_t n_users;
    unsigned max_cost;                /* highest bcrypt cost among the users (0: no users) */
    uint64_t rate_interval_ms;        /* rate_limit.interval; 0: no rate limit */
    unsigned rate_burst;              /* rate_limit.burst */
    char *notes[WEBCONFIG_NOTES_MAX]; /* settings accepted but ignored, for a warning each */
    size_t n_notes;
};

/*
 * Parse len bytes of text (the file at path, named in problems) into a new
 * webconfig. dir is the directory relative paths are taken from ("" or "."
 * leaves them as they are). An empty file is valid: no TLS, no users.
 * Returns 0 and *out, -EINVAL with every problem in err (one per line), or
 * -ENOMEM. *out is untouched on failure.
 */
int webconfig_parse(const char *text, size_t len, const char *path, const char *dir,
                    struct webconfig **out, char *err, size_t errsz);
/* Free a webconfig. Accepts NULL. */
void webconfig_free(struct webconfig *c);

/*
 * The user named name (len bytes), or NULL. Compares against every user with
 * no early exit, so that how long it takes does not depend on which user
 * matched or how much of a name did.
 */
const struct webconfig_user *webconfig_user(const struct webconfig *c, const char *name,
                                            size_t len);

/*
 * The GnuTLS priority string for c's TLS settings (versions, cipher suites,
 * curves, server precedence) into out. GnuTLS enables key exchanges, ciphers
 * and MACs separately, so a cipher_suites list is turned into the three sets
 * its suites use; *extra (if non-NULL) is set to how many TLS 1.2 suites that
 * enables beyond the list (combinations of the parts of different suites),
 * which the caller may warn about. TLS 1.3 suites are GnuTLS's defaults, as
 * in Go, where cipher_suites does not apply to TLS 1.3. Returns 0 or -ENOSPC.
 */
int webconfig_priority(const struct webconfig *c, char *out, size_t cap, size_t *extra);

/* Go's name of cipher suite index i, NULL past the table. */
const char *webconfig_cipher_name(unsigned i);
/* Go's name of curve index i, NULL past the table. */
const char *webconfig_curve_name(unsigned i);
/* Go's name of a client auth type ("RequireAndVerifyClientCert", ...). */
const char *webconfig_client_auth_name(enum webconfig_client_auth a);

/*
 * Is s a bcrypt hash this build checks ($2a$, $2b$ or $2y$, cost 04..31, 53
 * characters of salt and hash)? Returns the cost, or 0 when it is not.
 */
unsigned webconfig_bcrypt_cost(const char *s, size_t len);

#endif
