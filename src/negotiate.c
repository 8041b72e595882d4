/*
 * negotiate: content negotiation for /metrics (see negotiate.h).
 *
 * One pass over the header, no allocation: each list element is parsed
 * strictly (RFC 9110 5.6: tokens, quoted strings, OWS around ';' and ',' only,
 * empty elements allowed) and scored against every representation at once;
 * only the best match per representation is kept. q-values are held as
 * thousandths (0..1000), exactly as the grammar writes them.
 */
#include "negotiate.h"

#include <string.h>
#include <strings.h>

#define Q_MAX 1000 /* q=1 in thousandths */
#define PARAM_VALUE                                                                                \
    32 /* bytes of a parameter value kept for comparison; longer ones match nothing */

struct cursor {
    const char *p, *end;
};

/* One representation the server offers, in the server's order of preference. */
struct offer {
    const char *type, *subtype, *version;
};

static const struct offer offers[NEGOTIATE_FORMAT_COUNT] = {
    [NEGOTIATE_TEXT_0_0_4] = {"text", "plain", "0.0.4"},
    [NEGOTIATE_OPENMETRICS_1_0_0] = {"application", "openmetrics-text", "1.0.0"},
    [NEGOTIATE_OPENMETRICS_0_0_1] = {"application", "openmetrics-text", "0.0.1"},
};

/* The best match so far of one offer: the most specific range, and its q. */
struct match {
    int found;
    int spec;       /* 0 any type, 1 type wildcard, 2 type and subtype, 3 and version */
    unsigned q;     /* thousandths */
    unsigned index; /* list position of the range */
};

/* A span of the header. */
struct span {
    const char *s;
    size_t n;
};

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void skip_ows(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int at(const struct cursor *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

/* A token (one or more tchar). Returns 0, or -1 when there is none. */
static int token(struct cursor *c, struct span *t)
{
    t->s = c->p;
    while (c->p < c->end && is_tchar((unsigned char)*c->p))
        c->p++;
    t->n = (size_t)(c->p - t->s);
    return t->n ? 0 : -1;
}

/*
 * A parameter value, token or quoted-string, unescaped into out (cap bytes,
 * NUL-terminated). *long_value is set when it did not fit (it then equals no
 * value we compare with). Returns 0, or -1 on a syntax error.
 */
static int param_value(struct cursor *c, char *out, size_t cap, int *long_value)
{
    size_t n = 0;

    *long_value = 0;
    if (!at(c, '"')) {
        struct span t;

        if (token(c, &t))
            return -1;
        if (t.n >= cap) {
            *long_value = 1;
        } else {
            n = t.n;
            memcpy(out, t.s, n);
        }
        out[n] = '\0';
        return 0;
    }
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        unsigned char ch = (unsigned char)*c->p;

        if (ch == '\\') {
            c->p++;
            if (c->p >= c->end)
                return -1;
            ch = (unsigned char)*c->p;
            if (!(ch == '\t' || ch >= 0x20) || ch == 0x7f)
                return -1;
        } else if (!(ch == '\t' || ch >= 0x20) || ch == 0x7f) {
            return -1;
        }
        if (n + 1 < cap)
            out[n++] = (char)ch;
        else
            *long_value = 1;
        c->p++;
    }
    if (!at(c, '"'))
        return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

/* RFC 9110 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")]. Returns 0 with *q, or -1. */
static int qvalue(const char *s, unsigned *q)
{
    unsigned v, scale = 100;
    size_t i;

    if (s[0] != '0' && s[0] != '1')
        return -1;
    v = (unsigned)(s[0] - '0') * Q_MAX;
    if (s[1] == '\0') {
        *q = v;
        return 0;
    }
    if (s[1] != '.')
        return -1;
    for (i = 2; s[i]; i++) {
        if (i > 4 || s[i] < '0' || s[i] > '9')
            return -1;
        v += (unsigned)(s[i] - '0') * scale;
        scale /= 10;
    }
    if (v > Q_MAX)
        return -1;
    *q = v;
    return 0;
}

static int span_is(const struct span *t, const char *word)
{
    return t->n == strlen(word) && strncasecmp(t->s, word, t->n) == 0;
}

/*
 * Parameters after a media range or a coding: *( OWS ";" OWS [ name "=" value ] ).
 * q ends the media type's own parameters (what follows it is accept-ext,
 * read and ignored). version (before q) is copied to version (has_version).
 * only_q: Accept-Encoding, where a weight is the only parameter allowed.
 * Returns 0, or -1 on a syntax error.
 */
static int parameters(struct cursor *c, unsigned *q, char *version, int *has_version, int only_q)
{
    char val[PARAM_VALUE];
    int seen_q = 0, long_value;
    struct span name;

    *q = Q_MAX;
    *has_version = 0;
    for (;;) {
        const char *save = c->p;

        skip_ows(c);
        if (!at(c, ';')) {
            c->p = save;
            return 0;
        }
        c->p++;
        skip_ows(c);
        if (c->p >= c->end || *c->p == ';' || *c->p == ',') {
            if (only_q)
                return -1;
            continue; /* an empty parameter */
        }
        if (token(c, &name) || !at(c, '='))
            return -1;
        c->p++;
        if (param_value(c, val, sizeof(val), &long_value))
            return -1;
        if (span_is(&name, "q") && !seen_q) {
            if (long_value || qvalue(val, q))
                return -1;
            seen_q = 1;
        } else if (only_q) {
            return -1;
        } else if (!seen_q && span_is(&name, "version") && !*has_version) {
            *has_version = long_value ? -1 : 1; /* -1: present, but matches no version */
            memcpy(version, val, sizeof(val));
        }
    }
}

/* After an element: OWS, then ',' (consumed) or the end. Returns 0, or -1. */
static int element_end(struct cursor *c)
{
    skip_ows(c);
    if (c->p >= c->end)
        return 0;
    if (*c->p != ',')
        return -1;
    c->p++;
    return 0;
}

/* Is the rest of this element empty (an empty list element)? Consumes its comma. */
static int empty_element(struct cursor *c)
{
    skip_ows(c);
    if (c->p >= c->end)
        return 1;
    if (*c->p == ',') {
        c->p++;
        return 1;
    }
    return 0;
}

/* Does the header fit and hold no byte a field value cannot (CTL other than HTAB)? */
static int field_ok(const char *v, size_t *len)
{
    size_t n = strnlen(v, NEGOTIATE_HEADER_MAX + 1), i;

    if (n > NEGOTIATE_HEADER_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)v[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 0;
    }
    *len = n;
    return 1;
}

/* Score one media range against every offer, keeping the most specific match of each. */
static void score(struct match *best, const struct span *type, const struct span *sub, unsigned q,
                  const char *version, int has_version, unsigned index)
{
    int any_type = span_is(type, "*"), any_sub = span_is(sub, "*");
    size_t i;

    for (i = 0; i < NEGOTIATE_FORMAT_COUNT; i++) {
        const struct offer *o = &offers[i];
        int spec;

        if (!any_type && !span_is(type, o->type))
            continue;
        if (!any_sub && !span_is(sub, o->subtype))
            continue;
        spec = any_type ? 0 : any_sub ? 1 : 2;
        if (has_version) {
            if (has_version < 0 || strcmp(version, o->version) != 0)
                continue;
            spec++;
        }
        /* the most specific range decides; among equals, the first one written */
        if (best[i].found && best[i].spec >= spec)
            continue;
        best[i] = (struct match){.found = 1, .spec = spec, .q = q, .index = index};
    }
}

/* Is match a better than b (both acceptable)? Ties: more specific, then written first. */
static int better(const struct match *a, const struct match *b)
{
    if (a->q != b->q)
        return a->q > b->q;
    if (a->spec != b->spec)
        return a->spec > b->spec;
    return a->index < b->index;
}

enum negotiate_format negotiate_format(const char *accept, int *malformed)
{
    struct match best[NEGOTIATE_FORMAT_COUNT];
    enum negotiate_format pick = NEGOTIATE_TEXT_0_0_4;
    struct cursor c;
    char version[PARAM_VALUE];
    unsigned index = 0, q;
    int has_version, found = 0;
    size_t len, i;

    if (malformed)
        *malformed = 0;
    if (!accept)
        return NEGOTIATE_TEXT_0_0_4;
    if (!field_ok(accept, &len))
        goto bad;
    memset(best, 0, sizeof(best));
    c.p = accept;
    c.end = accept + len;
    while (c.p < c.end) {
        struct span type, sub;

        if (empty_element(&c))
            continue;
        if (token(&c, &type) || !at(&c, '/'))
            goto bad;
        c.p++;
        if (token(&c, &sub) || (span_is(&type, "*") && !span_is(&sub, "*")))
            goto bad;
        if (parameters(&c, &q, version, &has_version, 0) || element_end(&c))
            goto bad;
        score(best, &type, &sub, q, version, has_version, index++);
    }
    for (i = 0; i < NEGOTIATE_FORMAT_COUNT; i++) {
        if (!best[i].found || best[i].q == 0)
            continue;
        /* strictly better only: on a full tie the server's order (text first) stands */
        if (!found || better(&best[i], &best[pick])) {
            pick = (enum negotiate_format)i;
            found = 1;
        }
    }
    return found ? pick : NEGOTIATE_TEXT_0_0_4;
bad:
    if (malformed)
        *malformed = 1;
    return NEGOTIATE_TEXT_0_0_4;
}

const char *negotiate_content_type(enum negotiate_format f)
{
    switch (f) {
    case NEGOTIATE_OPENMETRICS_1_0_0:
        return NEGOTIATE_CT_OPENMETRICS;
    case NEGOTIATE_OPENMETRICS_0_0_1:
        return NEGOTIATE_CT_OPENMETRICS_001;
    case NEGOTIATE_TEXT_0_0_4:
    default:
        return NEGOTIATE_CT_TEXT;
    }
}

int negotiate_is_openmetrics(enum negotiate_format f)
{
    return f == NEGOTIATE_OPENMETRICS_1_0_0 || f == NEGOTIATE_OPENMETRICS_0_0_1;
}

enum negotiate_encoding negotiate_encoding(const char *accept_encoding, int *malformed)
{
    /* q of gzip, identity and "*" as written (-1: not listed); the first entry of each counts */
    int gzip = -1, identity = -1, star = -1, *slot;
    unsigned q;
    char unused[PARAM_VALUE];
    int has_version;
    struct cursor c;
    size_t len;

    if (malformed)
        *malformed = 0;
    if (!accept_encoding)
        return NEGOTIATE_IDENTITY;
    if (!field_ok(accept_encoding, &len))
        goto bad;
    c.p = accept_encoding;
    c.end = accept_encoding + len;
    while (c.p < c.end) {
        struct span coding;

        if (empty_element(&c))
            continue;
        if (token(&c, &coding))
            goto bad;
        if (parameters(&c, &q, unused, &has_version, 1) || element_end(&c))
            goto bad;
        if (span_is(&coding, "gzip") || span_is(&coding, "x-gzip"))
            slot = &gzip;
        else if (span_is(&coding, "identity"))
            slot = &identity;
        else if (span_is(&coding, "*"))
            slot = &star;
        else
            continue; /* br, zstd, deflate, ...: not offered */
        if (*slot < 0)
            *slot = (int)q;
    }
    if (gzip < 0)
        gzip = star >= 0 ? star : 0;
    /*
     * identity not listed: acceptable, but below any coding the client names
     * ("gzip;q=0.8" asks for gzip); "*" gives it its q.
     */
    if (identity < 0)
        identity = star >= 0 ? star : 0;
    /* gzip when acceptable and not less wanted than identity; else identity (also when neither is)
     */
    return gzip > 0 && gzip >= identity ? NEGOTIATE_GZIP : NEGOTIATE_IDENTITY;
bad:
    if (malformed)
        *malformed = 1;
    return NEGOTIATE_IDENTITY;
}
