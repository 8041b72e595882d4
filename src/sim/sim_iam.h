/*
 * sim_iam: the simulator's IAM token service (api-notes.md section 2).
 *
 * POST /v3/auth/tokens with a password identity answers 201 Created, the token
 * in X-Subject-Token and {"token":{"expires_at":...,"project":{"id":...}}} in
 * the body, the way the real IAM does; a wrong user, password or domain
 * answers 401, a malformed body 400, an unknown project scope 401. Tokens
 * expire after a lifetime the tests set short, and can be revoked mid-run.
 * Written from the API notes: it parses the body with jsmn directly, never
 * with the exporter's JSON reader, so the two cannot agree on a mistake.
 * Thread-safe: one mutex, held for bookkeeping only.
 */
#ifndef ELB_SIM_IAM_H
#define ELB_SIM_IAM_H

#include <stddef.h>
#include <stdint.h>

#define SIM_IAM_TOKEN_MAX 128 /* bytes of an issued token */

struct sim_iam_options {
    const char *user;         /* default "sim-user" */
    const char *password;     /* default "sim-password" */
    const char *domain;       /* default "sim-domain" */
    const char *project_id;   /* the project tokens are scoped to */
    const char *project_name; /* its name, for scope by name; default "eu-de" */
    unsigned token_ttl_s;     /* token lifetime; 0 = 24 h, as the real IAM */
};

/* What to answer a login. */
struct sim_iam_answer {
    unsigned status;                   /* 201, 400, 401, 429 or 500 */
    char token[SIM_IAM_TOKEN_MAX + 1]; /* for X-Subject-Token when 201, else "" */
    char body[2048];                   /* JSON */
};

/* IAM faults a test can switch on (POST /_sim/iam/fault/<name>). */
enum sim_iam_fault { SIM_IAM_OK = 0, SIM_IAM_500, SIM_IAM_429 };

struct sim_iam;

/* NULL on ENOMEM or a bad option (errno set). */
struct sim_iam *sim_iam_new(const struct sim_iam_options *o);
void sim_iam_free(struct sim_iam *i); /* accepts NULL */

/* Answer a login with body[0..len) at wall time now_ms. */
void sim_iam_login(struct sim_iam *i, const char *body, size_t len, uint64_t now_ms,
                   struct sim_iam_answer *a);
/* Is token one this IAM issued, not expired at now_ms and not revoked? */
int sim_iam_token_valid(struct sim_iam *i, const char *token, uint64_t now_ms);
/* Revoke every token issued so far. */
void sim_iam_revoke_all(struct sim_iam *i);
/* Switch a fault on (SIM_IAM_OK: off). Returns 0, or -EINVAL for an unknown name. */
int sim_iam_set_fault(struct sim_iam *i, const char *name);
/* "logins N\nissued N\nrefused N\n" into buf. */
void sim_iam_stats(struct sim_iam *i, char *buf, size_t cap);

#endif
