/*
 * aksk: AK/SK request signing, SDK-HMAC-SHA256 (the API-gateway variant of
 * Huawei Cloud / Open Telekom Cloud), as docs api-notes.md section 2 states it.
 *
 * Pure: no clock, no I/O, no globals. The caller brings the X-Sdk-Date header
 * (aksk_format_date turns a time into one) and every other header to sign; this
 * module builds
 *
 *   CanonicalRequest = METHOD \n URI \n QUERY \n HEADERS \n SIGNED \n hex(sha256(body))
 *   StringToSign     = SDK-HMAC-SHA256 \n X-Sdk-Date \n hex(sha256(CanonicalRequest))
 *   Signature        = hex(HMAC-SHA256(SK, StringToSign))
 *   Authorization    = SDK-HMAC-SHA256 Access=AK, SignedHeaders=SIGNED, Signature=...
 *
 * with SHA-256 and HMAC from OpenSSL's libcrypto. The canonical forms, as the
 * official SDKs compute them:
 *   URI     the URL's path, percent-decoded, then every byte but A-Z a-z 0-9
 *           - _ . ~ and '/' encoded as %XX (upper-case hex); a '/' is always
 *           appended when it does not end in one ("" -> "/").
 *   QUERY   the query split at '&' (empty parts skipped), each part at its first
 *           '='; keys and values percent-decoded with '+' meaning a space (form
 *           decoding, as the Go and Java SDKs' query parsers do: send a literal
 *           plus as %2B), re-encoded as the URI is (with '/' encoded too), sorted
 *           by key then value (bytes of the decoded text), written k=v joined by
 *           '&'; a key without '=' gets an empty value ("k=").
 *   HEADERS lower-case name ':' value without leading/trailing spaces and tabs
 *           (inner ones kept) '\n', per signed header, sorted by name.
 *   SIGNED  the signed names, lower-case, sorted, joined by ';'.
 * Which headers are signed: by default every header given except Content-Type
 * and names containing '_', which the official cloud SDKs leave unsigned;
 * AKSK_SIGN_ALL_HEADERS signs every one (the API-gateway SDK does, and the
 * second published vector signs Content-Type). X-Sdk-Date is required.
 *
 * Bounded: the URL, the headers (count, name, value), the query parameters and
 * the keys have named caps; hitting one is -E2BIG (output left as it was).
 * Errors are negative errno values: -EINVAL for input that cannot be signed
 * (bad method, malformed percent escape, header name or value a request line
 * cannot carry, duplicate header, missing or malformed X-Sdk-Date), -E2BIG,
 * -ENOMEM, -EIO (libcrypto failed).
 */
#ifndef ELB_AKSK_H
#define ELB_AKSK_H

#include <stddef.h>
#include <time.h>

#include "strbuf.h"

#define AKSK_ALGORITHM "SDK-HMAC-SHA256"
#define AKSK_DATE_HEADER "X-Sdk-Date"
#define AKSK_DATE_LEN 16                /* "YYYYMMDDTHHMMSSZ" */
#define AKSK_HEX_LEN 64                 /* hex of a SHA-256 digest or an HMAC-SHA256 */
#define AKSK_METHOD_MAX 16              /* bytes of a method: 1..16 of A-Z */
#define AKSK_URL_MAX 8192               /* bytes of a URL */
#define AKSK_QUERY_PARAMS_MAX 256       /* k=v parts of a query */
#define AKSK_HEADERS_MAX 64             /* headers given */
#define AKSK_HEADER_NAME_MAX 128        /* bytes of one header name */
#define AKSK_HEADER_VALUE_MAX 8192      /* bytes of one header value */
#define AKSK_KEY_MAX 256                /* bytes of an AK and of an SK */
#define AKSK_BODY_MAX ((size_t)1 << 30) /* bytes of a body that is hashed */

/*
 * Bytes a canonical request can take at most: the URI and the query grow at
 * most 3-fold by encoding, every header line by its name, value, ':' and '\n',
 * the signed list by a name and ';' per header, plus the method, the hash and
 * the line breaks. aksk_canonical_request never needs a strbuf cap above it.
 */
#define AKSK_CANONICAL_MAX                                                                         \
    (AKSK_METHOD_MAX + 3 * AKSK_URL_MAX + 1 +                                                      \
     AKSK_HEADERS_MAX * (2 * AKSK_HEADER_NAME_MAX + AKSK_HEADER_VALUE_MAX + 3) + AKSK_HEX_LEN + 8)
/* Bytes of an Authorization value at most (algorithm, AK, signed list, signature, labels). */
#define AKSK_AUTH_MAX                                                                              \
    (sizeof(AKSK_ALGORITHM) + AKSK_KEY_MAX + AKSK_HEADERS_MAX * (AKSK_HEADER_NAME_MAX + 1) +       \
     AKSK_HEX_LEN + 48)

/* Flags of struct aksk_request. */
#define AKSK_SIGN_ALL_HEADERS 1u /* sign Content-Type and names with '_' too */

struct aksk_header {
    const char *name;  /* RFC 9110 token, any case */
    const char *value; /* as sent: no CR, LF or other control byte but tab */
};

struct aksk_request {
    const char *method; /* "GET": 1..AKSK_METHOD_MAX of A-Z */
    /*
     * "scheme://authority/path?query#fragment" (the authority is not signed:
     * pass a Host header for that) or "/path?query" as on a request line.
     */
    const char *url;
    const struct aksk_header *headers; /* must include X-Sdk-Date */
    size_t n_headers;
    const void *body; /* NULL when body_len is 0 */
    size_t body_len;
    unsigned flags; /* AKSK_SIGN_ALL_HEADERS or 0 */
};

/*
 * Each builder appends to out (a strbuf whose cap the caller chose); on failure
 * out is as it was. Returns 0 or a negative errno as above.
 */
/* The canonical URI of url's path (see above). */
int aksk_canonical_uri(const char *url, struct strbuf *out);
/* The canonical query of url's query ("" when it has none). */
int aksk_canonical_query(const char *url, struct strbuf *out);
/* The signed header names of r, joined by ';'. */
int aksk_signed_headers(const struct aksk_request *r, struct strbuf *out);
/* The whole CanonicalRequest of r. */
int aksk_canonical_request(const struct aksk_request *r, struct strbuf *out);
/* StringToSign for a canonical request (len bytes) and an X-Sdk-Date value. */
int aksk_string_to_sign(const char *sdk_date, const char *canonical, size_t len,
                        struct strbuf *out);
/*
 * Sign r with the key pair: appends the Authorization header's value
 * ("SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...") to out.
 * ak: 1..AKSK_KEY_MAX printable ASCII bytes, no space or ','; sk: 1..AKSK_KEY_MAX
 * bytes. The secret key is only handed to HMAC (libcrypto wipes its copies).
 */
int aksk_sign(const struct aksk_request *r, const char *ak, const char *sk, struct strbuf *out);

/* hex(sha256(p[0..n))) into out (AKSK_HEX_LEN + 1 bytes). Returns 0 or -EIO. */
int aksk_sha256_hex(const void *p, size_t n, char out[AKSK_HEX_LEN + 1]);
/* hex(HMAC-SHA256(key, msg)) into out. Returns 0, -EINVAL (key too long) or -EIO. */
int aksk_hmac_sha256_hex(const void *key, size_t key_len, const void *msg, size_t msg_len,
                         char out[AKSK_HEX_LEN + 1]);

/*
 * t (seconds since the epoch) as an X-Sdk-Date value, UTC. Returns 0 or -EINVAL
 * (before 1970 or after 9999).
 */
int aksk_format_date(time_t t, char out[AKSK_DATE_LEN + 1]);
/*
 * Is v (len bytes) an X-Sdk-Date value, "YYYYMMDDTHHMMSSZ": a day of the
 * calendar from 1970 on, 00:00:00 to 23:59:59? 1 or 0.
 */
int aksk_date_valid(const char *v, size_t len);
/* Is ak a usable access key (see aksk_sign)? 1 or 0. */
int aksk_ak_valid(const char *ak);

/*
 * The authority of an absolute URL without user info ("host", "host:port",
 * "[v6]:port"), which is what a Host header carries, into out (cap bytes).
 * Returns 0, -EINVAL (no "scheme://" or an empty host) or -E2BIG.
 */
int aksk_url_host(const char *url, char *out, size_t cap);

#endif
