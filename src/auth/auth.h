/*
 * auth: how a request to the cloud API is authorised.
 *
 * An auth object decorates each outgoing request (adds headers) right before
 * it is sent. This version knows the static token (X-Auth-Token, from
 * OS_AUTH_TOKEN) and AK/SK request signing (SDK-HMAC-SHA256, aksk.h: every
 * request gets X-Sdk-Date, X-Project-Id, Host and an Authorization header
 * signed for its method, URL and body); IAM password tokens plug in behind the
 * same decorate call, which is why it sees the method, URL and body.
 * Secrets never reach a log line.
 *
 * SCRUBBING. Every copy of the token this program makes is wiped
 * (secret.h) before its memory is freed:
 *   - config's auth_token, from OS_AUTH_TOKEN (main drops it as soon as the
 *     auth object holds its copy; config_release; --demo replacing it);
 *   - the "X-Auth-Token: <token>" line an auth object holds (auth_free);
 *   - the copies in request header lists (curl_slist_append duplicates each
 *     line): free those lists with auth_headers_free, not curl_slist_free_all.
 * The same holds for the secret key of AK/SK signing: the auth object's copy
 * is wiped by auth_free; it never enters a header (only the signature does,
 * and the lines holding it are wiped like the token's); libcrypto wipes the
 * copies HMAC makes of it (OPENSSL_cleanse) itself.
 * Not covered, because this program does not own them: the process
 * environment (OS_AUTH_TOKEN, OS_SECRET_KEY stay there, readable in
 * /proc/PID/environ by the same user and root), and libcurl's own per-transfer
 * buffers (the request as sent, and the TLS library's), which libcurl frees
 * without wiping.
 */
#ifndef ELB_AUTH_H
#define ELB_AUTH_H

#include <curl/curl.h>
#include <stddef.h>

#include "strbuf.h"

/*
 * Bytes of a static token (OS_AUTH_TOKEN) at most: IAM tokens run to ~10 KiB.
 * The one cap for every check of a token: config refuses a longer one up
 * front (naming OS_AUTH_TOKEN), auth_new_token applies it again.
 */
#define AUTH_TOKEN_MAX 65536

/* Bytes of a project ID that AK/SK signing sends as X-Project-Id, at most. */
#define AUTH_PROJECT_MAX 128

enum auth_method { AUTH_TOKEN = 0, AUTH_PASSWORD, AUTH_AKSK };

struct auth;

/*
 * A static-token authoriser (the token is copied) in *out. Returns 0, -EINVAL
 * when token is NULL, empty, longer than AUTH_TOKEN_MAX or holds a byte that
 * cannot go into a header line (space, control, non-ASCII), or -ENOMEM. *out
 * is untouched on failure.
 */
int auth_new_token(const char *token, struct auth **out);
/*
 * An AK/SK authoriser: every request is signed with the access key ak and the
 * secret key sk (SDK-HMAC-SHA256) and carries X-Project-Id: project_id. All
 * three are copied. Returns 0, -EINVAL when ak is not 1..AKSK_KEY_MAX printable
 * ASCII bytes without space or ',', sk is NULL, empty or longer than
 * AKSK_KEY_MAX, or project_id is not 1..AUTH_PROJECT_MAX bytes a header can
 * carry; or -ENOMEM. *out is untouched on failure.
 */
int auth_new_aksk(const char *ak, const char *sk, const char *project_id, struct auth **out);
void auth_free(struct auth *a); /* wipes the token or secret key, accepts NULL */

/* What an IAM password login needs (strings are copied; password is a secret). */
struct auth_password {
    const char *iam_endpoint; /* e.g. https://iam.eu-de.otc.t-systems.com/v3 */
    const char *username, *password, *domain;
    const char *project_id;   /* scope by id, or */
    const char *project_name; /* by name, when project_id is NULL */
};

/*
 * An IAM password authoriser in *out: it holds no token until
 * auth_login_answer gives it one. Returns 0, -EINVAL (a field missing, an
 * endpoint that is not http(s)), or -ENOMEM; *out untouched on failure.
 */
int auth_new_password(const struct auth_password *p, struct auth **out);

/*
 * LOGIN PROTOCOL (password method; the poller drives it on its own curl handle):
 *   auth_login_due(now)   a login should start: no token yet, the token is past
 *                         three quarters of its life, or a 401 rejected it;
 *   auth_login_request    the URL and body to POST (wipe the body after);
 *   auth_login_answer     the X-Subject-Token value and body of a 2xx answer:
 *                         the new token replaces the old one (which is wiped),
 *                         and its generation goes up.
 * Requests are decorated with the newest token while a renewal is in flight,
 * so polling never waits for a renewal; only before the first token, or once
 * the token has expired, auth_ready says no.
 */
int auth_ready(const struct auth *a, double now);
int auth_login_due(const struct auth *a, double now);
int auth_login_request(const struct auth *a, char *url, size_t urlsz, struct strbuf *body);
int auth_login_answer(struct auth *a, const char *token, const char *body, size_t len, double now,
                      char *err, size_t errsz);
/* Expiry of the current token (seconds since the epoch), 0 when unknown (static token). */
double auth_token_expiry(const struct auth *a);
/* The project id the token is scoped to ("" if unknown), for a project scoped by name. */
const char *auth_project_id(const struct auth *a);
/* Generation of the token requests are decorated with now (0: none yet). */
unsigned auth_generation(const struct auth *a);
/*
 * A request decorated with token generation gen got 401. Returns 1 when it is
 * worth sending again after a fresh login (the first 401 for this token: a
 * login is made due; or the token has been replaced since), 0 when a token
 * that a 401 had already made us fetch is refused as well: the credentials
 * are wrong, and counting it as an authentication failure is right. A static
 * token always gives 0.
 */
int auth_rejected(struct auth *a, unsigned gen);
/* A request decorated with generation gen was accepted: a later 401 may log in again. */
void auth_accepted(struct auth *a, unsigned gen);

enum auth_method auth_method(const struct auth *a);
const char *auth_method_name(const struct auth *a);

/*
 * Append the authorising headers for one request to *headers (a new list is
 * created when *headers is NULL). AK/SK reads the clock (X-Sdk-Date, UTC) and
 * signs method, url (absolute) and body[0..body_len). Returns 0, -EAGAIN when the
 * password method holds no token yet, -ENOMEM, or (AK/SK only) -EINVAL / -E2BIG for
 * a request the signer refuses (aksk.h), with *headers as it was (possibly grown by
 * complete headers only).
 */
int auth_decorate(struct auth *a, struct curl_slist **headers, const char *method, const char *url,
                  const char *body, size_t body_len);

/* Free a header list that auth_decorate added to, wiping every line first. Accepts NULL. */
void auth_headers_free(struct curl_slist *headers);

#endif
