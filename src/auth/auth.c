/*
 * auth: request decoration for the cloud API (see auth.h).
 */
#include "auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aksk.h"
#include "iam.h"
#include "secret.h"
#include "strbuf.h"

struct auth_aksk;

#define AUTH_RENEW_AT 0.75 /* a token is renewed after this share of its life */

struct auth {
    enum auth_method method;
    char *header;           /* "X-Auth-Token: <token>": built once (token), per login (password) */
    struct auth_aksk *aksk; /* AUTH_AKSK: the key pair and the project */
    /* password method */
    char *username, *password, *domain, *project_id, *project_name; /* password: a secret */
    char token_url[IAM_URL_MAX];
    double issued_at, expires_at; /* of the current token (wall clock), 0 without one */
    char token_project[IAM_PROJECT_ID_MAX + 1];
    unsigned gen;         /* generation of the current token, 0 without one */
    int relogin_pending;  /* a 401 refused the current token: log in again now */
    unsigned relogin_gen; /* the generation that login gave; a 401 for it too means give up */
};

/* Tokens go into a header line: refuse anything that could break it. */
static int token_valid(const char *t);

/* "X-Auth-Token: <token>", exactly sized, built in place: no temporary copy to forget. */
static char *token_header(const char *token)
{
    static const char name[] = "X-Auth-Token: ";
    size_t n = strlen(token);
    char *h = malloc(sizeof(name) - 1 + n + 1);

    if (!h)
        return NULL;
    memcpy(h, name, sizeof(name) - 1);
    memcpy(h + sizeof(name) - 1, token, n + 1);
    return h;
}

static int token_valid(const char *t)
{
    size_t n = strlen(t), i;

    if (n == 0 || n > AUTH_TOKEN_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)t[i] <= ' ' || (unsigned char)t[i] >= 0x7f)
            return 0;
    return 1;
}

int auth_new_token(const char *token, struct auth **out)
{
    struct auth *a;

    if (!token || !token_valid(token))
        return -EINVAL;
    a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->header = token_header(token);
    if (!a->header) {
        free(a);
        return -ENOMEM;
    }
    a->method = AUTH_TOKEN;
    a->gen = 1;
    *out = a;
    return 0;
}

/* strdup that leaves *dst NULL for NULL or "". Returns 0 or -ENOMEM. */
static int dup_opt(char **dst, const char *s)
{
    if (!s || !s[0])
        return 0;
    *dst = strdup(s);
    return *dst ? 0 : -ENOMEM;
}

int auth_new_password(const struct auth_password *p, struct auth **out)
{
    struct auth *a;
    int rc;

    if (!p || !p->username || !p->username[0] || !p->password || !p->password[0] || !p->domain ||
        !p->domain[0] ||
        ((!p->project_id || !p->project_id[0]) && (!p->project_name || !p->project_name[0])))
        return -EINVAL;
    a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    a->method = AUTH_PASSWORD;
    rc = iam_token_url(p->iam_endpoint, a->token_url, sizeof(a->token_url));
    if (!rc)
        rc = dup_opt(&a->username, p->username);
    if (!rc)
        rc = dup_opt(&a->password, p->password);
    if (!rc)
        rc = dup_opt(&a->domain, p->domain);
    if (!rc)
        rc = dup_opt(&a->project_id, p->project_id);
    if (!rc)
        rc = dup_opt(&a->project_name, p->project_name);
    if (rc) {
        auth_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

/* ---- AK/SK (aksk.h does the signing; this part reads the clock) -------------------------- */

struct auth_aksk {
    char *ak, *sk, *project_id; /* sk: exactly sized, wiped by aksk_free */
};

#define AUTH_HOST_MAX 1024 /* bytes of a Host header's value (the URL's authority), with NUL */

static void aksk_free(struct auth_aksk *k)
{
    if (!k)
        return;
    free(k->ak);
    secret_free(k->sk);
    free(k->project_id);
    free(k);
}

/* An exactly sized copy of s, or NULL. */
static char *dup_exact(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);

    if (d)
        memcpy(d, s, n);
    return d;
}

int auth_new_aksk(const char *ak, const char *sk, const char *project_id, struct auth **out)
{
    struct auth *a;
    struct auth_aksk *k;
    size_t skl;

    if (!aksk_ak_valid(ak) || !sk || !project_id || !token_valid(project_id) ||
        strlen(project_id) > AUTH_PROJECT_MAX)
        return -EINVAL;
    skl = strnlen(sk, AKSK_KEY_MAX + 1);
    if (skl == 0 || skl > AKSK_KEY_MAX)
        return -EINVAL;
    a = calloc(1, sizeof(*a));
    k = calloc(1, sizeof(*k));
    if (a && k) {
        k->ak = dup_exact(ak);
        k->sk = dup_exact(sk);
        k->project_id = dup_exact(project_id);
    }
    if (!a || !k || !k->ak || !k->sk || !k->project_id) {
        aksk_free(k);
        free(a);
        return -ENOMEM;
    }
    a->method = AUTH_AKSK;
    a->aksk = k;
    *out = a;
    return 0;
}

/* Append one header line to *headers. Returns 0 or -ENOMEM (*headers as it was). */
static int add_line(struct curl_slist **headers, const char *line)
{
    struct curl_slist *l = curl_slist_append(*headers, line);

    if (!l)
        return -ENOMEM;
    *headers = l;
    return 0;
}

/*
 * Sign one request: X-Sdk-Date (now), X-Project-Id and Host (the URL's
 * authority, sent explicitly so that what libcurl sends is what was signed),
 * then the Authorization header.
 */
static int aksk_decorate(const struct auth_aksk *k, struct curl_slist **headers, const char *method,
                         const char *url, const char *body, size_t body_len)
{
    /* line: "Host: ", "X-Project-Id: " or "X-Sdk-Date: " and a value */
    char date[AKSK_DATE_LEN + 1], host[AUTH_HOST_MAX], line[AUTH_HOST_MAX + AUTH_PROJECT_MAX + 32];
    const struct aksk_header h[] = {
        {"Host", host}, {"X-Project-Id", k->project_id}, {AKSK_DATE_HEADER, date}};
    const struct aksk_request r = {
        .method = method,
        .url = url,
        .headers = h,
        .n_headers = sizeof(h) / sizeof(h[0]),
        .body = body,
        .body_len = body_len,
    };
    struct strbuf auth;
    int rc;

    strbuf_init(&auth, sizeof("Authorization: ") + AKSK_AUTH_MAX);
    rc = aksk_format_date(time(NULL), date);
    if (rc == 0)
        rc = aksk_url_host(url, host, sizeof(host));
    if (rc == 0)
        rc = strbuf_puts(&auth, "Authorization: ");
    if (rc == 0)
        rc = aksk_sign(&r, k->ak, k->sk, &auth);
    if (rc == 0) {
        snprintf(line, sizeof(line), "Host: %s", host);
        rc = add_line(headers, line);
    }
    if (rc == 0) {
        snprintf(line, sizeof(line), "X-Project-Id: %s", k->project_id);
        rc = add_line(headers, line);
    }
    if (rc == 0) {
        snprintf(line, sizeof(line), "%s: %s", AKSK_DATE_HEADER, date);
        rc = add_line(headers, line);
    }
    if (rc == 0)
        rc = add_line(headers, auth.data);
    secret_clear(auth.data);
    strbuf_release(&auth);
    return rc;
}

void auth_free(struct auth *a)
{
    if (!a)
        return;
    secret_free(a->header);
    secret_free(a->password);
    free(a->username);
    free(a->domain);
    free(a->project_id);
    free(a->project_name);
    aksk_free(a->aksk);
    free(a);
}

int auth_ready(const struct auth *a, double now)
{
    if (a->method != AUTH_PASSWORD)
        return 1;
    return a->header != NULL && now < a->expires_at;
}

int auth_login_due(const struct auth *a, double now)
{
    if (a->method != AUTH_PASSWORD)
        return 0;
    if (!a->header || a->relogin_pending)
        return 1;
    return now >= a->issued_at + (a->expires_at - a->issued_at) * AUTH_RENEW_AT;
}

int auth_login_request(const struct auth *a, char *url, size_t urlsz, struct strbuf *body)
{
    const struct iam_login l = {a->username, a->password, a->domain, a->project_id,
                                a->project_name};

    if (a->method != AUTH_PASSWORD || strlen(a->token_url) >= urlsz)
        return -EINVAL;
    memcpy(url, a->token_url, strlen(a->token_url) + 1);
    return iam_login_body(body, &l);
}

/* A project id goes into URL paths: only what a path segment takes as it is. */
static int project_id_ok(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

int auth_login_answer(struct auth *a, const char *token, const char *body, size_t len, double now,
                      char *err, size_t errsz)
{
    struct iam_token_info info;
    char *h;

    if (a->method != AUTH_PASSWORD)
        return -EINVAL;
    if (!token || !token_valid(token)) {
        snprintf(err, errsz, "the answer has no usable X-Subject-Token header");
        return -EINVAL;
    }
    if (iam_parse_answer(body, len, &info, err, errsz) != 0)
        return -EINVAL;
    if (!(info.expires_at > now)) {
        snprintf(err, errsz, "the token expired before it arrived (clock skew?)");
        return -EINVAL;
    }
    if (!project_id_ok(info.project_id)) {
        snprintf(err, errsz,
                 "token.project.id holds characters a URL path cannot take as they are");
        return -EINVAL;
    }
    h = token_header(token);
    if (!h) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    secret_free(a->header);
    a->header = h;
    a->issued_at = now;
    a->expires_at = info.expires_at;
    memcpy(a->token_project, info.project_id, sizeof(a->token_project));
    a->gen++;
    if (a->relogin_pending)
        a->relogin_gen = a->gen; /* fetched because a 401 refused the last one */
    a->relogin_pending = 0;
    return 0;
}

double auth_token_expiry(const struct auth *a)
{
    return a->method == AUTH_PASSWORD && a->header ? a->expires_at : 0;
}

const char *auth_project_id(const struct auth *a)
{
    return a->token_project;
}

unsigned auth_generation(const struct auth *a)
{
    return a->gen;
}

int auth_rejected(struct auth *a, unsigned gen)
{
    if (a->method != AUTH_PASSWORD)
        return 0;
    if (gen != a->gen)
        return 1; /* sent with a token replaced since: try the new one */
    if (a->relogin_gen == gen)
        return 0;           /* the token a 401 made us fetch is refused too */
    a->relogin_pending = 1; /* log in again now (auth_login_due) */
    return 1;
}

void auth_accepted(struct auth *a, unsigned gen)
{
    if (gen == a->gen)
        a->relogin_gen = 0;
}

enum auth_method auth_method(const struct auth *a)
{
    return a->method;
}

const char *auth_method_name(const struct auth *a)
{
    switch (a->method) {
    case AUTH_AKSK:
        return "aksk";
    case AUTH_PASSWORD:
        return "password";
    case AUTH_TOKEN:
        break;
    }
    return "token";
}

int auth_decorate(struct auth *a, struct curl_slist **headers, const char *method, const char *url,
                  const char *body, size_t body_len)
{
    struct curl_slist *l;

    if (a->method == AUTH_AKSK)
        return aksk_decorate(a->aksk, headers, method, url, body, body_len);
    if (!a->header)
        return -EAGAIN;
    l = curl_slist_append(*headers, a->header);
    if (!l)
        return -ENOMEM;
    *headers = l;
    return 0;
}

void auth_headers_free(struct curl_slist *headers)
{
    struct curl_slist *l;

    for (l = headers; l; l = l->next)
        secret_clear(l->data);
    curl_slist_free_all(headers);
}
