/*
 * sim_iam: the simulator's IAM token service (see sim_iam.h).
 */
#include "sim_iam.h"

#define JSMN_STATIC
#include <jsmn.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IAM_TOKENS_KEPT 256 /* issued tokens remembered (the oldest is forgotten first) */
#define IAM_JSON_TOKENS 128 /* jsmn tokens of a login body */
#define IAM_FIELD_MAX 256   /* bytes of a decoded user, password, domain or project */
#define IAM_DEFAULT_TTL_S 86400

struct issued {
    char token[SIM_IAM_TOKEN_MAX + 1];
    uint64_t expires_ms;
    int revoked;
};

struct sim_iam {
    char user[IAM_FIELD_MAX], password[IAM_FIELD_MAX], domain[IAM_FIELD_MAX];
    char project_id[IAM_FIELD_MAX], project_name[IAM_FIELD_MAX];
    unsigned ttl_s;
    pthread_mutex_t mu; /* guards everything below */
    struct issued tokens[IAM_TOKENS_KEPT];
    size_t next; /* ring position of the next issued token */
    unsigned long long logins, issued, refused, serial;
    enum sim_iam_fault fault;
};

static int copy_field(char *dst, const char *src, const char *def)
{
    const char *s = src ? src : def;

    if (strlen(s) >= IAM_FIELD_MAX)
        return -1;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}

struct sim_iam *sim_iam_new(const struct sim_iam_options *o)
{
    struct sim_iam *i = calloc(1, sizeof(*i));

    if (!i) {
        errno = ENOMEM;
        return NULL;
    }
    if (copy_field(i->user, o->user, "sim-user") ||
        copy_field(i->password, o->password, "sim-password") ||
        copy_field(i->domain, o->domain, "sim-domain") ||
        copy_field(i->project_id, o->project_id, "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32") ||
        copy_field(i->project_name, o->project_name, "eu-de") ||
        pthread_mutex_init(&i->mu, NULL) != 0) {
        free(i);
        errno = EINVAL;
        return NULL;
    }
    i->ttl_s = o->token_ttl_s ? o->token_ttl_s : IAM_DEFAULT_TTL_S;
    return i;
}

void sim_iam_free(struct sim_iam *i)
{
    if (!i)
        return;
    pthread_mutex_destroy(&i->mu);
    free(i);
}

/* ---- reading the body (jsmn, directly) ---- */

struct body {
    const char *js;
    jsmntok_t t[IAM_JSON_TOKENS];
    int n;
};

/* Index of the token after the subtree at k (jsmn: a key's one child is its value). */
static int skip(const struct body *b, int k)
{
    int end = k + 1, left = b->t[k].size;

    while (left-- > 0 && end < b->n)
        end = skip(b, end);
    return end;
}

/* Value index of key in object obj, or -1. Keys are compared raw (they hold no escapes). */
static int get(const struct body *b, int obj, const char *key)
{
    int k, i, n;

    if (obj < 0 || obj >= b->n || b->t[obj].type != JSMN_OBJECT)
        return -1;
    n = b->t[obj].size;
    for (i = 0, k = obj + 1; i < n && k + 1 < b->n; i++) {
        size_t len = (size_t)(b->t[k].end - b->t[k].start);
        if (b->t[k].type == JSMN_STRING && len == strlen(key) &&
            memcmp(b->js + b->t[k].start, key, len) == 0)
            return k + 1;
        k = skip(b, k);
    }
    return -1;
}

/* Decode string token k into out (IAM_FIELD_MAX). Returns 0, or -1 if not a usable string. */
static int text(const struct body *b, int k, char *out)
{
    const char *p, *e;
    size_t n = 0;

    if (k < 0 || k >= b->n || b->t[k].type != JSMN_STRING)
        return -1;
    p = b->js + b->t[k].start;
    e = b->js + b->t[k].end;
    while (p < e) {
        unsigned c = (unsigned char)*p++;
        if (c == '\\') {
            if (p >= e)
                return -1;
            c = (unsigned char)*p++;
            switch (c) {
            case 'n':
                c = '\n';
                break;
            case 't':
                c = '\t';
                break;
            case 'r':
                c = '\r';
                break;
            case 'b':
                c = '\b';
                break;
            case 'f':
                c = '\f';
                break;
            case '"':
            case '\\':
            case '/':
                break;
            case 'u': {
                char hex[5];
                if (e - p < 4)
                    return -1;
                memcpy(hex, p, 4);
                hex[4] = '\0';
                c = (unsigned)strtoul(hex, NULL, 16);
                p += 4;
                if (c == 0 || c >= 0xD800) /* this simulator takes the BMP below surrogates */
                    return -1;
                if (c >= 0x80) { /* to UTF-8 */
                    if (n + 3 >= IAM_FIELD_MAX)
                        return -1;
                    if (c >= 0x800) {
                        out[n++] = (char)(0xE0 | (c >> 12));
                        out[n++] = (char)(0x80 | ((c >> 6) & 0x3F));
                    } else {
                        out[n++] = (char)(0xC0 | (c >> 6));
                    }
                    c = 0x80 | (c & 0x3F);
                }
                break;
            }
            default:
                return -1;
            }
        }
        if (n + 1 >= IAM_FIELD_MAX)
            return -1;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return 0;
}

/* ---- answers ---- */

static void answer_error(struct sim_iam_answer *a, unsigned status, const char *title,
                         const char *message)
{
    a->status = status;
    a->token[0] = '\0';
    snprintf(a->body, sizeof(a->body),
             "{\"error\":{\"code\":%u,\"message\":\"%s\",\"title\":\"%s\"}}", status, message,
             title);
}

static void format_time(uint64_t ms, char *buf, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    char date[32];

    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
    /* IAM writes microseconds */
    snprintf(buf, cap, "%s.%03u000Z", date, (unsigned)(ms % 1000));
}

void sim_iam_login(struct sim_iam *i, const char *js, size_t len, uint64_t now_ms,
                   struct sim_iam_answer *a)
{
    char user[IAM_FIELD_MAX], password[IAM_FIELD_MAX], domain[IAM_FIELD_MAX];
    char scope[IAM_FIELD_MAX], issued[64], expires[64];
    struct body *b = calloc(1, sizeof(*b));
    jsmn_parser parser;
    int auth, ident, pw, usr, proj, methods, by_id;
    enum sim_iam_fault fault;
    struct issued *t;

    memset(a, 0, sizeof(*a));
    pthread_mutex_lock(&i->mu);
    i->logins++;
    fault = i->fault;
    pthread_mutex_unlock(&i->mu);
    if (fault == SIM_IAM_500 || !b) {
        answer_error(a, 500, "Internal Server Error", "IAM is not available");
        free(b);
        return;
    }
    if (fault == SIM_IAM_429) {
        answer_error(a, 429, "Too Many Requests", "Too many requests, please try again later");
        free(b);
        return;
    }
    b->js = js;
    jsmn_init(&parser);
    b->n = jsmn_parse(&parser, js, len, b->t, IAM_JSON_TOKENS);
    auth = b->n > 0 ? get(b, 0, "auth") : -1;
    ident = get(b, auth, "identity");
    methods = get(b, ident, "methods");
    pw = get(b, ident, "password");
    usr = get(b, pw, "user");
    proj = get(b, get(b, auth, "scope"), "project");
    by_id = get(b, proj, "id") >= 0;
    if (b->n <= 0 || methods < 0 || b->t[methods].type != JSMN_ARRAY ||
        text(b, get(b, usr, "name"), user) || text(b, get(b, usr, "password"), password) ||
        text(b, get(b, get(b, usr, "domain"), "name"), domain) ||
        text(b, get(b, proj, by_id ? "id" : "name"), scope)) {
        answer_error(a, 400, "Bad Request", "The request you have made requires authentication.");
        goto refused;
    }
    if (strcmp(user, i->user) != 0 || strcmp(password, i->password) != 0 ||
        strcmp(domain, i->domain) != 0) {
        answer_error(a, 401, "Unauthorized", "The username or password is wrong.");
        goto refused;
    }
    if (strcmp(scope, by_id ? i->project_id : i->project_name) != 0) {
        answer_error(a, 401, "Unauthorized", "No permission to access the project.");
        goto refused;
    }
    free(b);
    format_time(now_ms, issued, sizeof(issued));
    format_time(now_ms + (uint64_t)i->ttl_s * 1000, expires, sizeof(expires));
    pthread_mutex_lock(&i->mu);
    t = &i->tokens[i->next];
    i->next = (i->next + 1) % IAM_TOKENS_KEPT;
    i->serial++;
    i->issued++;
    snprintf(t->token, sizeof(t->token), "MIIsim%06llx%08lx%016llx", i->serial,
             (unsigned long)rand(), (unsigned long long)now_ms);
    t->expires_ms = now_ms + (uint64_t)i->ttl_s * 1000;
    t->revoked = 0;
    memcpy(a->token, t->token, sizeof(a->token));
    pthread_mutex_unlock(&i->mu);
    a->status = 201;
    snprintf(
        a->body, sizeof(a->body),
        "{\"token\":{\"expires_at\":\"%s\",\"methods\":[\"password\"],\"catalog\":[],"
        "\"roles\":[{\"name\":\"te_admin\",\"id\":\"0\"}],"
        "\"project\":{\"domain\":{\"name\":\"%s\",\"id\":\"d0000000000000000000000000000001\"},"
        "\"name\":\"%s\",\"id\":\"%s\"},\"issued_at\":\"%s\","
        "\"user\":{\"domain\":{\"name\":\"%s\",\"id\":\"d0000000000000000000000000000001\"},"
        "\"name\":\"%s\",\"id\":\"u0000000000000000000000000000001\","
        "\"password_expires_at\":\"\"}}}",
        expires, i->domain, i->project_name, i->project_id, issued, i->domain, i->user);
    return;
refused:
    free(b);
    pthread_mutex_lock(&i->mu);
    i->refused++;
    pthread_mutex_unlock(&i->mu);
}

int sim_iam_token_valid(struct sim_iam *i, const char *token, uint64_t now_ms)
{
    size_t k;
    int ok = 0;

    if (!token || strncmp(token, "MIIsim", 6) != 0)
        return 0;
    pthread_mutex_lock(&i->mu);
    for (k = 0; k < IAM_TOKENS_KEPT && !ok; k++)
        ok = strcmp(i->tokens[k].token, token) == 0 && !i->tokens[k].revoked &&
             now_ms < i->tokens[k].expires_ms;
    pthread_mutex_unlock(&i->mu);
    return ok;
}

void sim_iam_revoke_all(struct sim_iam *i)
{
    size_t k;

    pthread_mutex_lock(&i->mu);
    for (k = 0; k < IAM_TOKENS_KEPT; k++)
        i->tokens[k].revoked = 1;
    pthread_mutex_unlock(&i->mu);
}

int sim_iam_set_fault(struct sim_iam *i, const char *name)
{
    enum sim_iam_fault f;

    if (strcmp(name, "none") == 0)
        f = SIM_IAM_OK;
    else if (strcmp(name, "500") == 0)
        f = SIM_IAM_500;
    else if (strcmp(name, "429") == 0)
        f = SIM_IAM_429;
    else
        return -EINVAL;
    pthread_mutex_lock(&i->mu);
    i->fault = f;
    pthread_mutex_unlock(&i->mu);
    return 0;
}

void sim_iam_stats(struct sim_iam *i, char *buf, size_t cap)
{
    pthread_mutex_lock(&i->mu);
    snprintf(buf, cap, "logins %llu\nissued %llu\nrefused %llu\n", i->logins, i->issued,
             i->refused);
    pthread_mutex_unlock(&i->mu);
}
