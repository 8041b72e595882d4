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
#include "secret.h"
#include "strbuf.h"

struct auth_aksk;

struct auth {
    enum auth_method method;
    char *header;           /* "X-Auth-Token: <token>", built once */
    struct auth_aksk *aksk; /* AUTH_AKSK: the key pair and the project */
};

/* Tokens go into a header line: refuse anything that could break it. */
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
    static const char name[] = "X-Auth-Token: ";
    size_t n;
    struct auth *a;

    if (!token || !token_valid(token))
        return -EINVAL;
    n = strlen(token);
    a = calloc(1, sizeof(*a));
    if (!a)
        return -ENOMEM;
    /* exactly sized, built in place: no temporary copy of the token to forget */
    a->header = malloc(sizeof(name) - 1 + n + 1);
    if (!a->header) {
        free(a);
        return -ENOMEM;
    }
    memcpy(a->header, name, sizeof(name) - 1);
    memcpy(a->header + sizeof(name) - 1, token, n + 1);
    a->method = AUTH_TOKEN;
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
    aksk_free(a->aksk);
    free(a);
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
