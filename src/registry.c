/*
 * registry: registration bodies, references, durations, queries and the
 * API's JSON (see registry.h). Pure.
 */
#include "registry.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json.h"

#define KEY_MAX 64   /* bytes of a field name we decode (longer ones are unknown anyway) */
#define URI_MAX 1024 /* bytes of a decoded "uri" */
#define NAME_MAX_ 64 /* bytes of a decoded profile name */
#define NUM_TEXT 32  /* a formatted number */
#define NS_PER_MS 1000000ull
#define DURATION_NS_MAX ((uint64_t)INT64_MAX) /* about 292 years, as Go's time.Duration */

/* ---- small helpers ------------------------------------------------------- */

/* "a JSON array", "a number", ...: what a token is, for error lines. */
static const char *type_name(enum json_type t)
{
    switch (t) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_NUMBER:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
    default:
        return "null";
    }
}

/* The profiles' names as one line, "elb-v1, ecs-v1, ...". */
static void profile_names(char *buf, size_t cap)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; profile_at(i) && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", profile_at(i)->name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* The profile named name[0..n), or NULL. */
static const struct api_profile *profile_named(const char *name, size_t n)
{
    size_t i;

    for (i = 0; profile_at(i); i++)
        if (strlen(profile_at(i)->name) == n && memcmp(profile_at(i)->name, name, n) == 0)
            return profile_at(i);
    return NULL;
}

static int parse_ref(const char *ref, const struct api_profile *def, const struct api_profile **p,
                     char *id, char *err, size_t errsz)
{
    const char *colon = strchr(ref, ':'), *bare = ref;
    const struct api_profile *prof = def;
    char names[128];
    size_t n;

    if (colon) {
        prof = profile_named(ref, (size_t)(colon - ref));
        if (!prof) {
            profile_names(names, sizeof(names));
            snprintf(err, errsz, "unknown profile \"%.*s\" in \"%.*s\" (known: %s)",
                     (int)(colon - ref > 32 ? 32 : colon - ref), ref, 100, ref, names);
            return -EINVAL;
        }
        bare = colon + 1;
    }
    n = strlen(bare);
    if (!job_id_valid(bare, n)) {
        snprintf(err, errsz,
                 "\"%.*s\" is not a valid job ID (1 to %u characters of A-Z a-z 0-9 _ -)", 100,
                 bare, (unsigned)JOB_ID_MAX);
        return -EINVAL;
    }
    *p = prof;
    memcpy(id, bare, n + 1);
    return 0;
}

/* ---- the create call's uri --------------------------------------------- */

/*
 * Does path fit profile p's job path (path_fmt "PRE%sMID%sPOST")? Then the
 * project segment goes to proj and the rest (the job ID, unchecked) to id.
 */
static int uri_fits(const struct api_profile *p, const char *path, char *proj, size_t projsz,
                    char *id, size_t idsz)
{
    const char *fmt = p->path_fmt, *s1 = strstr(fmt, "%s"), *s2, *seg, *slash;
    size_t pre, mid, post, n;

    if (!s1 || !(s2 = strstr(s1 + 2, "%s")))
        return 0;
    pre = (size_t)(s1 - fmt);
    mid = (size_t)(s2 - (s1 + 2));
    post = strlen(s2 + 2);
    if (strncmp(path, fmt, pre) != 0)
        return 0;
    seg = path + pre;
    slash = strchr(seg, '/');
    if (!slash || slash == seg || strncmp(slash, s1 + 2, mid) != 0)
        return 0;
    if ((size_t)(slash - seg) >= projsz)
        return 0;
    memcpy(proj, seg, (size_t)(slash - seg));
    proj[slash - seg] = '\0';
    seg = slash + mid;
    n = strlen(seg);
    if (n < post || strcmp(seg + n - post, s2 + 2) != 0)
        return 0;
    n -= post;
    if (n == 0 || n >= idsz || memchr(seg, '/', n))
        return 0;
    memcpy(id, seg, n);
    id[n] = '\0';
    return 1;
}

/*
 * Read the create call's uri: the job ID into id, the profile into *p (the
 * named one must fit; else the default if it fits, else the only one that
 * does). Returns 0 or -EINVAL with err.
 */
static int parse_uri(const char *uri, const struct api_profile *named,
                     const struct api_profile *def, const char *project_id,
                     const struct api_profile **p, char *id, char *err, size_t errsz)
{
    char proj[128], got[JOB_ID_MAX + 2], fits[128] = "";
    const struct api_profile *only = NULL, *pick = NULL;
    const char *path = uri;
    size_t i, n_fit = 0, used = 0;

    if (strncmp(uri, "https://", 8) == 0 || strncmp(uri, "http://", 7) == 0) {
        path = strchr(strstr(uri, "://") + 3, '/');
        if (!path) {
            snprintf(err, errsz, "uri \"%.*s\" has no path", 200, uri);
            return -EINVAL;
        }
    }
    for (i = 0; profile_at(i); i++) {
        const struct api_profile *cand = profile_at(i);
        char pj[128], jid[JOB_ID_MAX + 2];
        int w;

        if (!uri_fits(cand, path, pj, sizeof(pj), jid, sizeof(jid)))
            continue;
        n_fit++;
        if (!only || cand == def || cand == named)
            only = cand;
        if (cand == named || (!named && cand == def))
            pick = cand;
        w = snprintf(fits + used, sizeof(fits) - used, "%s%s", used ? ", " : "", cand->name);
        if (w > 0 && (size_t)w < sizeof(fits) - used)
            used += (size_t)w;
    }
    if (n_fit == 0) {
        snprintf(err, errsz,
                 "uri \"%.*s\" is not a job path of any profile (for example "
                 "/v1.0/{project_id}/jobs/{job_id}, /v1/{project_id}/jobs/{job_id} or "
                 "/v3/{project_id}/elb/jobs/{job_id})",
                 200, uri);
        return -EINVAL;
    }
    if (named && !pick) {
        snprintf(err, errsz, "uri \"%.*s\" is not a job path of profile %s (it fits %s)", 200, uri,
                 named->name, fits);
        return -EINVAL;
    }
    if (!pick && n_fit > 1) {
        snprintf(err, errsz,
                 "uri \"%.*s\" is the job path of several profiles (%s): name one with "
                 "\"profile\"",
                 200, uri, fits);
        return -EINVAL;
    }
    if (!pick)
        pick = only;
    uri_fits(pick, path, proj, sizeof(proj), got, sizeof(got));
    if (!job_id_valid(got, strlen(got))) {
        snprintf(err, errsz,
                 "uri \"%.*s\": \"%s\" is not a valid job ID (1 to %u characters of A-Z a-z 0-9 "
                 "_ -)",
                 200, uri, got, (unsigned)JOB_ID_MAX);
        return -EINVAL;
    }
    if (project_id && strcmp(proj, project_id) != 0) {
        snprintf(err, errsz, "uri \"%.*s\" names project %s, but this exporter polls project %.64s",
                 200, uri, proj, project_id);
        return -EINVAL;
    }
    *p = pick;
    memcpy(id, got, strlen(got) + 1);
    return 0;
}

/* ---- the registration body ------------------------------------------------ */

enum field { F_JOB_ID = 0, F_URI, F_PROFILE, F_LABELS, F_COUNT };
static const char *const field_names[F_COUNT] = {"job_id", "uri", "profile", "labels"};

/* Decode string token tok into buf; a one-line error naming what when it is no string. */
static int get_string(const struct json_doc *d, int tok, const char *what, char *buf, size_t cap,
                      char *err, size_t errsz)
{
    int rc;

    if (json_type(d, tok) != JSON_STRING) {
        snprintf(err, errsz, "%s must be a string, not %s", what, type_name(json_type(d, tok)));
        return -EINVAL;
    }
    rc = json_string(d, tok, buf, cap, NULL);
    if (rc == -E2BIG) {
        snprintf(err, errsz, "%s is longer than %zu bytes", what, cap - 1);
        return -EINVAL;
    }
    if (rc) {
        snprintf(err, errsz, "%s is not a valid string (a bad escape, a lone surrogate or \\u0000)",
                 what);
        return -EINVAL;
    }
    return 0;
}

static int parse_labels(const struct json_doc *d, int obj, struct job_labels *out, char *err,
                        size_t errsz)
{
    char name[KEY_MAX + 1], value[JOB_LABEL_VALUE_MAX + 2], what[KEY_MAX + 16];
    size_t nlen, vlen;
    int k, rc;

    memset(out, 0, sizeof(*out));
    if (json_type(d, obj) != JSON_OBJECT) {
        snprintf(err, errsz, "labels must be an object of strings, not %s",
                 type_name(json_type(d, obj)));
        return -EINVAL;
    }
    for (k = json_first(d, obj); k >= 0; k = json_next(d, k)) {
        rc = json_string(d, k, name, sizeof(name), &nlen);
        if (rc == -E2BIG) {
            snprintf(err, errsz, "label \"%.32s...\" is not allowed (a name is at most %u bytes)",
                     name, (unsigned)JOB_LABEL_NAME_MAX);
            return -EINVAL;
        }
        if (rc) {
            snprintf(err, errsz, "a label name is not a valid string");
            return -EINVAL;
        }
        snprintf(what, sizeof(what), "label \"%s\"", name);
        if (!joblabels_name_allowed(name, nlen))
            return joblabels_add(out, name, nlen, "", 0, err, errsz); /* names the allow-list */
        if (json_type(d, k + 1) != JSON_STRING) {
            snprintf(err, errsz, "%s: the value must be a string, not %s", what,
                     type_name(json_type(d, k + 1)));
            return -EINVAL;
        }
        rc = json_string(d, k + 1, value, sizeof(value), &vlen);
        if (rc == -E2BIG)
            vlen = JOB_LABEL_VALUE_MAX + 1; /* joblabels_add says it is too long */
        else if (rc) {
            snprintf(err, errsz, "%s: the value is not a valid string", what);
            return -EINVAL;
        }
        rc = joblabels_add(out, name, nlen, value, vlen, err, errsz);
        if (rc)
            return -EINVAL;
    }
    return 0;
}

static int parse_registration(const char *body, size_t len, const struct api_profile *def,
                              const char *project_id, struct registry_reg *out, char *err,
                              size_t errsz)
{
    char key[KEY_MAX + 1], ref[REGISTRY_REF_MAX + 2], uri[URI_MAX + 1], pname[NAME_MAX_ + 1];
    char names[128], uri_id[JOB_ID_MAX + 1];
    const struct api_profile *named = NULL, *from_ref = NULL, *from_uri = NULL;
    struct registry_reg r;
    struct json_doc *d = NULL;
    struct json_error why;
    unsigned seen = 0;
    int k, f, rc = -EINVAL;

    memset(&r, 0, sizeof(r));
    if (len == 0) {
        snprintf(err, errsz, "the body is empty: send {\"job_id\": \"...\"}");
        return -EINVAL;
    }
    if (len > REGISTRY_BODY_MAX) {
        snprintf(err, errsz, "the body is %zu bytes, more than the %u allowed", len,
                 (unsigned)REGISTRY_BODY_MAX);
        return -EINVAL;
    }
    if (json_parse_diag(body, len, &d, &why) != 0) {
        snprintf(err, errsz, "the body is not valid JSON: %s at byte %zu", why.what, why.offset);
        return -EINVAL;
    }
    if (json_type(d, 0) != JSON_OBJECT) {
        snprintf(err, errsz, "the body must be a JSON object, not %s", type_name(json_type(d, 0)));
        goto out;
    }
    for (k = json_first(d, 0); k >= 0; k = json_next(d, k)) {
        if (json_string(d, k, key, sizeof(key), NULL) != 0)
            f = F_COUNT;
        else
            for (f = 0; f < F_COUNT && strcmp(key, field_names[f]) != 0; f++)
                ;
        if (f == F_COUNT) {
            snprintf(err, errsz, "unknown field \"%.64s\" (known: job_id, uri, profile, labels)",
                     key);
            goto out;
        }
        if (seen & (1u << f)) {
            snprintf(err, errsz, "field \"%s\" is given twice", field_names[f]);
            goto out;
        }
        seen |= 1u << f;
        switch (f) {
        case F_JOB_ID:
            if (get_string(d, k + 1, "job_id", ref, sizeof(ref), err, errsz) ||
                parse_ref(ref, def, &from_ref, r.id, err, errsz))
                goto out;
            if (!strchr(ref, ':'))
                from_ref = NULL; /* a bare ID names no profile */
            break;
        case F_URI:
            if (get_string(d, k + 1, "uri", uri, sizeof(uri), err, errsz))
                goto out;
            break;
        case F_PROFILE:
            if (get_string(d, k + 1, "profile", pname, sizeof(pname), err, errsz))
                goto out;
            named = profile_named(pname, strlen(pname));
            if (!named) {
                profile_names(names, sizeof(names));
                snprintf(err, errsz, "unknown profile \"%.64s\" (known: %s)", pname, names);
                goto out;
            }
            break;
        case F_LABELS:
            if (json_type(d, k + 1) == JSON_NULL)
                break; /* as if not given */
            if (parse_labels(d, k + 1, &r.labels, err, errsz))
                goto out;
            r.has_labels = 1;
            break;
        default:
            break;
        }
    }
    if (named && from_ref && named != from_ref) {
        snprintf(err, errsz, "job_id names profile %s, but \"profile\" says %s", from_ref->name,
                 named->name);
        goto out;
    }
    if (!named)
        named = from_ref;
    if (seen & (1u << F_URI)) {
        if (parse_uri(uri, named, def, project_id, &from_uri, uri_id, err, errsz))
            goto out;
        if ((seen & (1u << F_JOB_ID)) && strcmp(uri_id, r.id) != 0) {
            snprintf(err, errsz, "uri names job %s, but job_id says %s", uri_id, r.id);
            goto out;
        }
        memcpy(r.id, uri_id, strlen(uri_id) + 1);
        named = from_uri;
    } else if (!(seen & (1u << F_JOB_ID))) {
        snprintf(err, errsz, "job_id (or the create call's uri) is required");
        goto out;
    }
    r.profile = named ? named : def;
    *out = r;
    rc = 0;
out:
    json_free(d);
    return rc;
}

/* ---- durations -------------------------------------------------------------- */

/* Go's units, longest spelling first where one is a prefix of another. */
static const struct {
    const char *name;
    uint64_t ns;
} go_units[] = {
    {"ns", 1ull},           {"us", 1000ull},      {"\xc2\xb5s", 1000ull}, /* U+00B5 micro sign */
    {"\xce\xbcs", 1000ull},                                               /* U+03BC Greek mu */
    {"ms", 1000000ull},     {"s", 1000000000ull}, {"m", 60000000000ull},  {"h", 3600000000000ull},
};

static int parse_duration(const char *s, uint64_t *ms, char *err, size_t errsz)
{
    const char *p = s;
    uint64_t total = 0;

    if (!s || !*s) {
        snprintf(err, errsz, "empty duration (write e.g. 30s, 10m, 1h30m)");
        return -EINVAL;
    }
    if (*p == '-') {
        snprintf(err, errsz, "duration \"%.32s\" is negative", s);
        return -EINVAL;
    }
    if (*p == '+')
        p++;
    if (strcmp(p, "0") == 0) {
        *ms = 0;
        return 0;
    }
    if (!*p) {
        snprintf(err, errsz, "duration \"%.32s\" has no number", s);
        return -EINVAL;
    }
    while (*p) {
        uint64_t whole = 0, frac = 0, scale = 1, unit = 0, part;
        int digits = 0, overflow = 0;
        size_t u, ulen = 0;

        for (; *p >= '0' && *p <= '9'; p++, digits++) {
            if (whole > (UINT64_MAX - 9) / 10)
                overflow = 1;
            else
                whole = whole * 10 + (uint64_t)(*p - '0');
        }
        if (*p == '.') {
            for (p++; *p >= '0' && *p <= '9'; p++, digits++)
                if (scale < 1000000000000000000ull) { /* digits past 18 cannot matter */
                    frac = frac * 10 + (uint64_t)(*p - '0');
                    scale *= 10;
                }
        }
        if (!digits) {
            snprintf(err, errsz, "duration \"%.32s\": a number must come before each unit", s);
            return -EINVAL;
        }
        for (u = 0; u < sizeof(go_units) / sizeof(go_units[0]); u++) {
            size_t n = strlen(go_units[u].name);
            if (strncmp(p, go_units[u].name, n) == 0 && n > ulen) {
                ulen = n;
                unit = go_units[u].ns;
            }
        }
        if (!ulen) {
            snprintf(err, errsz,
                     "duration \"%.32s\": %s unit (use h, m, s or ms, e.g. 30s, 10m, 1h30m)", s,
                     *p ? "unknown" : "missing");
            return -EINVAL;
        }
        p += ulen;
        if (overflow || whole > DURATION_NS_MAX / unit)
            goto range;
        part = whole * unit + (uint64_t)((double)frac * ((double)unit / (double)scale));
        if (part > DURATION_NS_MAX - total)
            goto range;
        total += part;
    }
    *ms = total / NS_PER_MS;
    return 0;
range:
    snprintf(err, errsz, "duration \"%.32s\" is too long", s);
    return -ERANGE;
}

int registry_content_type_json(const char *ct)
{
    size_t n;

    if (!ct)
        return 0;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    n = strcspn(ct, "; \t");
    return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

/* ---- list queries ---------------------------------------------------------- */

void registry_list_query_init(struct registry_list_query *q)
{
    memset(q, 0, sizeof(*q));
    q->finished = -1;
    q->limit = REGISTRY_LIMIT_DEFAULT;
}

/* The status named s[0..n) in any case, or -1. */
static int status_named(const char *s, size_t n)
{
    int i;

    for (i = 0; i < JOB_STATUS_COUNT; i++) {
        const char *name = job_status_name((enum job_status)i);
        if (strlen(name) == n && strncasecmp(name, s, n) == 0)
            return i;
    }
    return -1;
}

static int list_param(struct registry_list_query *q, const char *name, const char *value,
                      const struct api_profile *def, char *err, size_t errsz)
{
    char names[160];
    size_t used;
    int i;

    if (!value)
        value = "";
    if (strcmp(name, "status") == 0) {
        const char *s = value;
        do {
            size_t n = strcspn(s, ",");
            int st = status_named(s, n);
            if (st < 0) {
                for (i = 0, used = 0; i < JOB_STATUS_COUNT && used < sizeof(names); i++) {
                    int w = snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
                                     job_status_name((enum job_status)i));
                    if (w < 0)
                        break;
                    used += (size_t)w;
                }
                snprintf(err, errsz, "status: unknown status \"%.*s\" (known: %s)",
                         (int)(n > 32 ? 32 : n), s, names);
                return -EINVAL;
            }
            q->statuses |= JOB_STATUS_BIT(st);
            s += n;
        } while (*s++ == ',');
        return 0;
    }
    if (strcmp(name, "finished") == 0) {
        if (strcmp(value, "true") == 0 || strcmp(value, "false") == 0) {
            q->finished = value[0] == 't';
            return 0;
        }
        snprintf(err, errsz, "finished: \"%.32s\" is not true or false", value);
        return -EINVAL;
    }
    if (strcmp(name, "profile") == 0) {
        q->profile = profile_named(value, strlen(value));
        if (q->profile)
            return 0;
        profile_names(names, sizeof(names));
        snprintf(err, errsz, "profile: unknown profile \"%.32s\" (known: %s)", value, names);
        return -EINVAL;
    }
    if (strcmp(name, "limit") == 0) {
        size_t v = 0, k;
        for (k = 0; value[k] >= '0' && value[k] <= '9' && v <= REGISTRY_LIMIT_MAX; k++)
            v = v * 10 + (size_t)(value[k] - '0');
        if (k == 0 || value[k] || v < 1 || v > REGISTRY_LIMIT_MAX) {
            snprintf(err, errsz, "limit: \"%.32s\" is not a number from 1 to %u", value,
                     (unsigned)REGISTRY_LIMIT_MAX);
            return -EINVAL;
        }
        q->limit = v;
        return 0;
    }
    if (strcmp(name, "after") == 0) {
        char why[REGISTRY_ERR_MAX];
        if (parse_ref(value, def, &q->after_profile, q->after_id, why, sizeof(why))) {
            snprintf(err, errsz, "after: %s", why);
            return -EINVAL;
        }
        q->has_after = 1;
        return 0;
    }
    snprintf(err, errsz,
             "unknown query parameter \"%.32s\" (known: status, finished, profile, limit, after)",
             name);
    return -EINVAL;
}

/* ---- the public parsers: one line, whatever the input held ----------------------------- */

/*
 * An error line quotes what the client sent (a field name, a value): a control
 * character in it (a decoded \n) becomes '?', so the line stays one line.
 */
static int one_line(int rc, char *err)
{
    for (; rc && *err; err++)
        if ((unsigned char)*err < 0x20 || *err == 0x7f)
            *err = '?';
    return rc;
}

int registry_parse_ref(const char *ref, const struct api_profile *def, const struct api_profile **p,
                       char *id, char *err, size_t errsz)
{
    return one_line(parse_ref(ref, def, p, id, err, errsz), err);
}

int registry_parse_registration(const char *body, size_t len, const struct api_profile *def,
                                const char *project_id, struct registry_reg *out, char *err,
                                size_t errsz)
{
    return one_line(parse_registration(body, len, def, project_id, out, err, errsz), err);
}

int registry_parse_duration(const char *s, uint64_t *ms, char *err, size_t errsz)
{
    return one_line(parse_duration(s, ms, err, errsz), err);
}

int registry_list_param(struct registry_list_query *q, const char *name, const char *value,
                        const struct api_profile *def, char *err, size_t errsz)
{
    return one_line(list_param(q, name, value, def, err, errsz), err);
}

/* ---- JSON ---------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s[0..n), or 0 (overlongs, surrogates, > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    size_t need, i;
    unsigned cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        need = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        need = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        need = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return need;
}

int registry_json_string(struct strbuf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t entry = out->len, n = strlen(s), i = 0, run = 0, len;
    char esc[8];
    int rc;

    rc = strbuf_putc(out, '"');
    while (rc == 0 && i < n) {
        const char *rep = NULL;

        len = utf8_len(p + i, n - i);
        if (len == 1 && (p[i] == '"' || p[i] == '\\' || p[i] < 0x20)) {
            if (p[i] == '"')
                rep = "\\\"";
            else if (p[i] == '\\')
                rep = "\\\\";
            else if (p[i] == '\n')
                rep = "\\n";
            else if (p[i] == '\t')
                rep = "\\t";
            else if (p[i] == '\r')
                rep = "\\r";
            else {
                snprintf(esc, sizeof(esc), "\\u%04x", p[i]);
                rep = esc;
            }
        } else if (len == 0) {
            rep = "\xef\xbf\xbd";
            len = 1;
        }
        if (!rep) {
            i += len;
            continue;
        }
        rc = strbuf_append(out, s + run, i - run);
        if (rc == 0)
            rc = strbuf_puts(out, rep);
        i += len;
        run = i;
    }
    if (rc == 0)
        rc = strbuf_append(out, s + run, n - run);
    if (rc == 0)
        rc = strbuf_putc(out, '"');
    if (rc)
        strbuf_truncate(out, entry);
    return rc;
}

/* "name": */
static int key(struct strbuf *out, const char *name, int first)
{
    return strbuf_printf(out, "%s\"%s\":", first ? "" : ",", name);
}

/* A number, or null when it is not finite. */
static int number(struct strbuf *out, double v)
{
    char buf[NUM_TEXT];

    if (!isfinite(v))
        return strbuf_puts(out, "null");
    expfmt_format_double(v, buf, sizeof(buf));
    return strbuf_puts(out, buf[0] ? buf : "null");
}

/* "name": number, or null unless flag is set in e. */
static int opt_number(struct strbuf *out, const char *name, const struct jobindex_entry *e,
                      unsigned flag, double v)
{
    int rc = key(out, name, 0);

    if (rc == 0)
        rc = e->flags & flag ? number(out, v) : strbuf_puts(out, "null");
    return rc;
}

static const char *const source_names[] = {"flag", "file", "config", "api"};

int registry_render_job(struct strbuf *out, const struct jobindex *ix,
                        const struct jobindex_entry *e)
{
    const struct api_profile *prof = e->profile;
    size_t entry = out->len, i;
    int rc, first;

    rc = strbuf_puts(out, "{");
    rc = rc ? rc : key(out, "job_id", 1);
    rc = rc ? rc : registry_json_string(out, jobindex_str(ix, e->id));
    rc = rc ? rc : key(out, "profile", 0);
    rc = rc ? rc : registry_json_string(out, prof->name);
    rc = rc ? rc : key(out, "status", 0);
    rc = rc ? rc : registry_json_string(out, job_status_name((enum job_status)e->status));
    rc = rc ? rc
            : strbuf_printf(out, ",\"finished\":%s,\"failed\":%s",
                            e->flags & JOBINDEX_FINISHED ? "true" : "false",
                            job_status_failed((enum job_status)e->status) ? "true" : "false");
    rc = rc ? rc : key(out, "job_type", 0);
    rc = rc ? rc : registry_json_string(out, jobindex_str(ix, e->job_type));
    rc = rc ? rc : key(out, "resource_id", 0);
    rc = rc ? rc : registry_json_string(out, jobindex_str(ix, e->resource_id));
    rc = rc ? rc : opt_number(out, "begin_timestamp_seconds", e, JOBINDEX_BEGIN, e->begin_time);
    rc = rc ? rc : opt_number(out, "end_timestamp_seconds", e, JOBINDEX_END, e->end_time);
    rc = rc ? rc : opt_number(out, "duration_seconds", e, JOBINDEX_DURATION, e->duration);
    rc = rc ? rc : key(out, "error_code", 0);
    if (rc == 0)
        rc = e->flags & JOBINDEX_ERROR ? registry_json_string(out, jobindex_str(ix, e->error_code))
                                       : strbuf_puts(out, "null");
    rc = rc ? rc : key(out, "fail_reason", 0);
    if (rc == 0)
        rc = e->flags & JOBINDEX_ERROR ? registry_json_string(out, jobindex_str(ix, e->fail_reason))
                                       : strbuf_puts(out, "null");
    rc = rc ? rc : key(out, "sub_jobs", 0);
    if (rc == 0 && e->flags & JOBINDEX_SUB_JOBS) {
        /* the profile's statuses, then UNKNOWN: elb_job_sub_jobs{status} */
        rc = strbuf_putc(out, '{');
        for (i = 0; rc == 0 && i <= prof->n_statuses; i++) {
            enum job_status st = i < prof->n_statuses ? prof->statuses[i] : JOB_UNKNOWN;
            rc = strbuf_printf(out, "%s\"%s\":%u", i ? "," : "", job_status_name(st),
                               (unsigned)e->sub_jobs[st]);
        }
        rc = rc ? rc : strbuf_putc(out, '}');
    } else if (rc == 0) {
        rc = strbuf_puts(out, "null");
    }
    rc = rc ? rc : key(out, "sub_jobs_total", 0);
    if (rc == 0)
        rc = e->flags & JOBINDEX_SUB_JOBS_TOTAL
                 ? strbuf_printf(out, "%u", (unsigned)e->sub_jobs_total)
                 : strbuf_puts(out, "null");
    rc = rc ? rc
            : strbuf_printf(out, ",\"fetch_success\":%s",
                            e->flags & JOBINDEX_FETCH_OK ? "true" : "false");
    rc = rc ? rc : key(out, "last_fetch_timestamp_seconds", 0);
    rc = rc ? rc : (e->last_fetch > 0 ? number(out, e->last_fetch) : strbuf_puts(out, "null"));
    rc = rc ? rc
            : opt_number(out, "finished_timestamp_seconds", e, JOBINDEX_FINISHED, e->finished_at);
    rc = rc ? rc : key(out, "labels", 0);
    rc = rc ? rc : strbuf_putc(out, '{');
    for (i = 0; rc == 0 && i < e->n_labels; i++) {
        const char *n, *v;
        jobindex_label(ix, e, (unsigned)i, &n, &v);
        rc = i ? strbuf_putc(out, ',') : 0;
        rc = rc ? rc : registry_json_string(out, n);
        rc = rc ? rc : strbuf_putc(out, ':');
        rc = rc ? rc : registry_json_string(out, v);
    }
    rc = rc ? rc : strbuf_puts(out, "},\"sources\":[");
    for (i = 0, first = 1; rc == 0 && i < sizeof(source_names) / sizeof(source_names[0]); i++) {
        if (!(e->sources & (1u << i)))
            continue;
        rc = strbuf_printf(out, "%s\"%s\"", first ? "" : ",", source_names[i]);
        first = 0;
    }
    rc = rc ? rc : strbuf_puts(out, "]}");
    if (rc)
        strbuf_truncate(out, entry);
    return rc;
}

/* Does e pass q's filter? */
static int matches(const struct jobindex_entry *e, const struct registry_list_query *q)
{
    if (q->statuses && !(q->statuses & JOB_STATUS_BIT(e->status)))
        return 0;
    if (q->finished >= 0 && !!(e->flags & JOBINDEX_FINISHED) != q->finished)
        return 0;
    return !q->profile || e->profile == q->profile;
}

int registry_render_list(struct strbuf *out, const struct jobindex *ix,
                         const struct registry_list_query *q)
{
    size_t entry = out->len, n = ix ? jobindex_count(ix) : 0, total = 0, shown = 0, pos, i;
    const struct jobindex_entry *last = NULL;
    int rc, more = 0;

    for (i = 0; i < n; i++)
        total += matches(jobindex_at(ix, i), q);
    pos = q->has_after && n ? jobindex_after(ix, q->after_id, q->after_profile) : 0;
    rc = strbuf_puts(out, "{\"jobs\":[");
    for (; rc == 0 && pos < n; pos++) {
        const struct jobindex_entry *e = jobindex_at(ix, pos);
        if (!matches(e, q))
            continue;
        if (shown == q->limit) {
            more = 1;
            break;
        }
        rc = shown ? strbuf_putc(out, ',') : 0;
        rc = rc ? rc : registry_render_job(out, ix, e);
        shown++;
        last = e;
    }
    rc = rc ? rc : strbuf_printf(out, "],\"total\":%zu,\"next\":", total);
    if (rc == 0 && more && last)
        rc = strbuf_printf(out, "\"%s:%s\"", last->profile->name, jobindex_str(ix, last->id));
    else if (rc == 0)
        rc = strbuf_puts(out, "null");
    rc = rc ? rc : strbuf_putc(out, '}');
    if (rc)
        strbuf_truncate(out, entry);
    return rc;
}

int registry_render_error(struct strbuf *out, const char *msg)
{
    size_t entry = out->len;
    int rc = strbuf_puts(out, "{\"error\":");

    rc = rc ? rc : registry_json_string(out, msg);
    rc = rc ? rc : strbuf_puts(out, "}\n");
    if (rc)
        strbuf_truncate(out, entry);
    return rc;
}

int registry_render_registration(struct strbuf *out, const struct registry_reg *r, int registered,
                                 int created)
{
    size_t entry = out->len;
    unsigned i;
    int rc;

    rc = strbuf_puts(out, "{\"job_id\":");
    rc = rc ? rc : registry_json_string(out, r->id);
    rc = rc ? rc
            : strbuf_printf(out, ",\"profile\":\"%s\",\"registered\":%s,\"created\":%s",
                            r->profile->name, registered ? "true" : "false",
                            created ? "true" : "false");
    if (rc == 0 && r->has_labels) {
        rc = strbuf_puts(out, ",\"labels\":{");
        for (i = 0; rc == 0 && i < r->labels.n; i++) {
            rc = i ? strbuf_putc(out, ',') : 0;
            rc = rc ? rc : registry_json_string(out, r->labels.kv[i].name);
            rc = rc ? rc : strbuf_putc(out, ':');
            rc = rc ? rc : registry_json_string(out, r->labels.kv[i].value);
        }
        rc = rc ? rc : strbuf_putc(out, '}');
    }
    rc =
        rc ? rc : strbuf_printf(out, ",\"job\":\"/api/v1/jobs/%s:%s\"}\n", r->profile->name, r->id);
    if (rc)
        strbuf_truncate(out, entry);
    return rc;
}
