/*
 * iam: the IAM password login as pure functions (see iam.h).
 */
#include "iam.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "timeutil.h"

int iam_token_url(const char *endpoint, char *out, size_t cap)
{
    size_t n;
    int len;

    if (!endpoint ||
        (strncmp(endpoint, "https://", 8) != 0 && strncmp(endpoint, "http://", 7) != 0))
        return -EINVAL;
    n = strlen(endpoint);
    while (n > 0 && endpoint[n - 1] == '/')
        n--;
    if (n >= 3 && memcmp(endpoint + n - 3, "/v3", 3) == 0)
        n -= 3;
    if (n > (size_t)IAM_URL_MAX)
        return -EINVAL;
    len = snprintf(out, cap, "%.*s/v3/auth/tokens?nocatalog=true", (int)n, endpoint);
    return len < 0 || (size_t)len >= cap ? -EINVAL : 0;
}

/* Append s as a JSON string (quotes included): ", \ and control bytes escaped. */
static int put_json_string(struct strbuf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    int rc = strbuf_putc(out, '"');

    for (; !rc && *p; p++) {
        if (*p == '"' || *p == '\\')
            rc = strbuf_printf(out, "\\%c", *p);
        else if (*p < 0x20)
            rc = strbuf_printf(out, "\\u%04x", *p);
        else
            rc = strbuf_putc(out, (char)*p);
    }
    return rc ? rc : strbuf_putc(out, '"');
}

static int present(const char *s)
{
    return s && s[0];
}

int iam_login_body(struct strbuf *out, const struct iam_login *l)
{
    size_t entry = out->len;
    int rc;

    if (!present(l->username) || !present(l->password) || !present(l->domain) ||
        (!present(l->project_id) && !present(l->project_name)))
        return -EINVAL;
    rc = strbuf_puts(out, "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":"
                          "{\"user\":{\"name\":");
    if (!rc)
        rc = put_json_string(out, l->username);
    if (!rc)
        rc = strbuf_puts(out, ",\"password\":");
    if (!rc)
        rc = put_json_string(out, l->password);
    if (!rc)
        rc = strbuf_puts(out, ",\"domain\":{\"name\":");
    if (!rc)
        rc = put_json_string(out, l->domain);
    if (!rc)
        rc = strbuf_puts(out, present(l->project_id) ? "}}}},\"scope\":{\"project\":{\"id\":"
                                                     : "}}}},\"scope\":{\"project\":{\"name\":");
    if (!rc)
        rc = put_json_string(out, present(l->project_id) ? l->project_id : l->project_name);
    if (!rc)
        rc = strbuf_puts(out, "}}}}");
    if (rc)
        strbuf_truncate(out, entry);
    return rc;
}

int iam_parse_answer(const char *body, size_t len, struct iam_token_info *out, char *err,
                     size_t errsz)
{
    struct iam_token_info info;
    struct json_doc *d = NULL;
    char when[64];
    int token, v, rc;

    memset(&info, 0, sizeof(info));
    if (len > IAM_ANSWER_MAX) {
        snprintf(err, errsz, "answer larger than %u bytes", IAM_ANSWER_MAX);
        return -EINVAL;
    }
    if (json_parse(body, len, &d) != 0) {
        snprintf(err, errsz, "answer is not valid JSON");
        return -EINVAL;
    }
    rc = -EINVAL;
    token = json_get(d, 0, "token");
    if (json_type(d, 0) != JSON_OBJECT || token < 0 || json_type(d, token) != JSON_OBJECT) {
        snprintf(err, errsz, "answer has no \"token\" object");
        goto out;
    }
    v = json_get(d, token, "expires_at");
    if (v < 0 || json_type(d, v) != JSON_STRING ||
        json_string(d, v, when, sizeof(when), NULL) != 0 ||
        time_parse_rfc3339(when, strlen(when), &info.expires_at) != 0) {
        snprintf(err, errsz, "token.expires_at missing or not an RFC 3339 time");
        goto out;
    }
    v = json_get(d, json_get(d, token, "project"), "id");
    if (v >= 0 && json_type(d, v) == JSON_STRING &&
        json_string(d, v, info.project_id, sizeof(info.project_id), NULL) != 0) {
        snprintf(err, errsz, "token.project.id is not a usable string");
        goto out;
    }
    *out = info;
    rc = 0;
out:
    json_free(d);
    return rc;
}
