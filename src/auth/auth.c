/*
 * auth: request decoration for the cloud API (see auth.h).
 */
#include "auth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "secret.h"

struct auth {
    enum auth_method method;
    char *header; /* "X-Auth-Token: <token>", built once */
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

void auth_free(struct auth *a)
{
    if (!a)
        return;
    secret_free(a->header);
    free(a);
}

enum auth_method auth_method(const struct auth *a)
{
    return a->method;
}

const char *auth_method_name(const struct auth *a)
{
    (void)a;
    return "token";
}

int auth_decorate(struct auth *a, struct curl_slist **headers, const char *method, const char *url,
                  const char *body, size_t body_len)
{
    struct curl_slist *l;

    (void)method;
    (void)url;
    (void)body;
    (void)body_len;
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
