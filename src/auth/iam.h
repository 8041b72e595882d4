/*
 * iam: the IAM password login (api-notes.md section 2), as pure functions.
 *
 * POST {iam}/v3/auth/tokens?nocatalog=true with a password identity scoped to
 * a project (by id, or by name such as "eu-de"); the token comes back in the
 * X-Subject-Token header, its expiry (microseconds) and project in the body.
 * This module builds the URL and body and reads the answer; the poller sends
 * the request on its own curl multi handle, and auth.c keeps the token.
 * No I/O, no clock, no globals, no logging: the password passes through the
 * body buffer only, which the caller wipes.
 */
#ifndef ELB_IAM_H
#define ELB_IAM_H

#include <stddef.h>

#include "strbuf.h"

#define IAM_URL_MAX 2048          /* bytes of the token URL */
#define IAM_BODY_MAX 16384        /* bytes of a login request body */
#define IAM_ANSWER_MAX (1u << 20) /* bytes of a login answer (nocatalog keeps it small) */
#define IAM_PROJECT_ID_MAX 64     /* bytes of the token's project id */

/* Who logs in, and where the token is scoped. */
struct iam_login {
    const char *username;
    const char *password; /* secret */
    const char
        *domain; /* the user's domain name (OTC: the account, e.g. OTC00000000001000000001) */
    const char *project_id;   /* scope by id, or */
    const char *project_name; /* by name (e.g. "eu-de") when project_id is NULL */
};

/* What a login answer says about its token. */
struct iam_token_info {
    double expires_at;                       /* seconds since the epoch */
    char project_id[IAM_PROJECT_ID_MAX + 1]; /* "" when the answer names none */
};

/*
 * The token URL for an IAM endpoint as users write it: "https://iam.x/v3",
 * "https://iam.x/v3/", or "https://iam.x" (then "/v3" is added); query
 * ?nocatalog=true. Returns 0, or -EINVAL (not http(s), too long).
 */
int iam_token_url(const char *endpoint, char *out, size_t cap);

/*
 * Append the login body for l to out (JSON, strings escaped). Returns 0,
 * -EINVAL when a field is missing (username, password, domain, and a project
 * id or name), or a strbuf error.
 */
int iam_login_body(struct strbuf *out, const struct iam_login *l);

/*
 * Read a login answer body: token.expires_at (RFC 3339, any fraction) is
 * required; token.project.id is taken when present. Returns 0, or -EINVAL
 * with a one-line reason in err (out untouched).
 */
int iam_parse_answer(const char *body, size_t len, struct iam_token_info *out, char *err,
                     size_t errsz);

#endif
