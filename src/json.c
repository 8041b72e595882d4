/*
 * json: a bounded, validating reader over jsmn tokens (see json.h).
 *
 * DESIGN. jsmn (strict mode, parent links) finds the tokens; it is compiled
 * into this file only. jsmn does not check the punctuation between tokens
 * ("[1 2]", "[1,]", "{"a" "b"}" and "{}{}" all tokenise), nor the inside of
 * primitives ("tru", "01", "1.") and strings (raw control bytes, bad UTF-8).
 * So after jsmn has run, validate_tokens() walks the tokens in document order
 * with its own stack and accounts for every byte of the input exactly once:
 * each byte lies either inside a token (checked by the grammar of that token
 * kind) or in the "glue" between tokens, which must be exactly the JSON
 * punctuation the position calls for (whitespace, one ':' or one ',').
 * Containment is taken from the token byte spans, not from jsmn's parent
 * links, so a wrong link can only make validation fail, never pass. The same
 * walk enforces the depth cap and builds our own compact token array with a
 * precomputed next-sibling index, which makes iteration O(1) per step.
 *
 * Escapes are checked for syntax at parse time (one of \" \\ \/ \b \f \n \r \t
 * or \u plus four hex digits); what they mean (surrogate pairing, \u0000) is
 * judged when a string is decoded, so an odd string in a field nobody reads
 * does not sink the document.
 *
 * The token array is sized by a counting pass of jsmn over the same input
 * (bounded by JSON_MAX_TOKENS before anything is allocated).
 */
#define JSMN_STATIC
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JSON_NUMBER_TEXT_MAX 128 /* longest number json_number converts */
#define JSON_SUFFIX_MAX 16       /* longest suffix json_strsuffix compares */

struct json_tok {
    int start, end; /* content bytes: strings without their quotes, containers with brackets */
    int size;       /* members of an object, elements of an array */
    int next;       /* next sibling key / element, or -1 */
    enum json_type type;
};

struct json_doc {
    const char *js;
    size_t len;
    int n;
    struct json_tok tok[];
};

/* One open container during validation. */
struct frame {
    int tok;        /* its token */
    int is_obj;     /* object (keys and values alternate) or array */
    int want_value; /* object: a key was read, its value is next */
    int last;       /* last key / element read, -1 before the first */
    size_t end;     /* offset just past its closing bracket */
};

/* Record an error in *e and return rc. */
static int fail(struct json_error *e, int rc, const char *what, size_t offset, int truncated)
{
    e->what = what;
    e->offset = offset;
    e->truncated = truncated;
    return rc;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * Length (1..4) of the well-formed UTF-8 character at p (p < end), or 0 if it
 * is not one: rejects stray continuation bytes, overlong forms, UTF-16
 * surrogates encoded in UTF-8, code points above U+10FFFF and cut sequences.
 */
static size_t utf8_char_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Is p[0..n) exactly a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_valid(const char *p, size_t n)
{
    size_t i = 0, d;

    if (i < n && p[i] == '-')
        i++;
    if (i >= n || !is_digit(p[i]))
        return 0;
    if (p[i++] != '0')
        while (i < n && is_digit(p[i]))
            i++;
    if (i < n && p[i] == '.') {
        for (i++, d = 0; i < n && is_digit(p[i]); i++)
            d++;
        if (d == 0)
            return 0;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        for (d = 0; i < n && is_digit(p[i]); i++)
            d++;
        if (d == 0)
            return 0;
    }
    return i == n;
}

/*
 * Check the raw bytes js[start..end) of a string token: length cap, no raw
 * control bytes, escape syntax, well-formed UTF-8. Returns 0, -EINVAL or -E2BIG.
 */
static int string_valid(const char *js, size_t start, size_t end, struct json_error *e)
{
    const unsigned char *u = (const unsigned char *)js;
    size_t i = start, k, n;

    if (end - start > JSON_MAX_STRING)
        return fail(e, -E2BIG, "string too long", start, 0);
    while (i < end) {
        if (u[i] < 0x20)
            return fail(e, -EINVAL, "control character in string", i, 0);
        if (u[i] == '"')
            return fail(e, -EINVAL, "unescaped quote in string", i, 0);
        if (u[i] == '\\') {
            if (end - i < 2)
                return fail(e, -EINVAL, "invalid escape", i, 0);
            switch (js[i + 1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                i += 2;
                continue;
            case 'u':
                if (end - i < 6)
                    return fail(e, -EINVAL, "invalid \\u escape", i, 0);
                for (k = 2; k < 6; k++)
                    if (hex_value(js[i + k]) < 0)
                        return fail(e, -EINVAL, "invalid \\u escape", i, 0);
                i += 6;
                continue;
            default:
                return fail(e, -EINVAL, "invalid escape", i, 0);
            }
        }
        n = utf8_char_len(u + i, u + end);
        if (n == 0)
            return fail(e, -EINVAL, "invalid UTF-8 in string", i, 0);
        i += n;
    }
    return 0;
}

/*
 * Byte span [*s, *e) of jsmn token t including quotes / brackets, checked to
 * lie inside the input and to begin and end with the right delimiters.
 */
static int token_span(const char *js, size_t len, const jsmntok_t *t, size_t *s, size_t *e,
                      struct json_error *err)
{
    if (t->start < 0 || t->end < t->start || (size_t)t->end > len)
        return fail(err, -EINVAL, "malformed token", 0, 0);
    *s = (size_t)t->start;
    *e = (size_t)t->end;
    switch (t->type) {
    case JSMN_STRING:
        if (*s == 0 || *e >= len || js[*s - 1] != '"' || js[*e] != '"')
            return fail(err, -EINVAL, "malformed string", *s, 0);
        (*s)--;
        (*e)++;
        return 0;
    case JSMN_PRIMITIVE:
        if (*e == *s)
            return fail(err, -EINVAL, "empty value", *s, 0);
        return 0;
    case JSMN_OBJECT:
    case JSMN_ARRAY:
        if (*e - *s < 2 || js[*s] != (t->type == JSMN_OBJECT ? '{' : '[') ||
            js[*e - 1] != (t->type == JSMN_OBJECT ? '}' : ']'))
            return fail(err, -EINVAL, "unbalanced brackets", *s, 0);
        return 0;
    default:
        return fail(err, -EINVAL, "malformed token", *s, 0);
    }
}

/*
 * Check that js[from..to) is whitespace, or whitespace, the byte sep and
 * whitespace when sep is not 0.
 */
static int glue_valid(const char *js, size_t from, size_t to, char sep, struct json_error *e)
{
    size_t i = from;

    while (i < to && is_ws(js[i]))
        i++;
    if (sep != 0) {
        if (i >= to || js[i] != sep)
            return fail(e, -EINVAL, sep == ':' ? "expected ':'" : "expected ','", i, 0);
        i++;
        while (i < to && is_ws(js[i]))
            i++;
    }
    if (i != to)
        return fail(e, -EINVAL, "unexpected character", i, 0);
    return 0;
}

/* Check one token's own bytes and fill its entry in the output array. */
static int token_check(const char *js, const jsmntok_t *t, size_t s, size_t e, struct json_tok *out,
                       struct json_error *err)
{
    size_t n = e - s;
    int rc;

    out->start = t->start;
    out->end = t->end;
    out->size = 0;
    out->next = -1;
    switch (t->type) {
    case JSMN_OBJECT:
        out->type = JSON_OBJECT;
        return 0;
    case JSMN_ARRAY:
        out->type = JSON_ARRAY;
        return 0;
    case JSMN_STRING:
        out->type = JSON_STRING;
        rc = string_valid(js, s + 1, e - 1, err);
        return rc;
    default:
        break;
    }
    if (n == 4 && memcmp(js + s, "true", 4) == 0)
        out->type = JSON_TRUE;
    else if (n == 5 && memcmp(js + s, "false", 5) == 0)
        out->type = JSON_FALSE;
    else if (n == 4 && memcmp(js + s, "null", 4) == 0)
        out->type = JSON_NULL;
    else if (number_valid(js + s, n))
        out->type = JSON_NUMBER;
    else
        return fail(err, -EINVAL, "invalid literal or number", s, 0);
    return 0;
}

/* Close the innermost container: only whitespace may precede its closing bracket. */
static int frame_close(const char *js, const struct frame *f, size_t *pos, struct json_error *e)
{
    int rc = glue_valid(js, *pos, f->end - 1, 0, e);

    if (rc != 0)
        return rc;
    if (f->is_obj && f->want_value)
        return fail(e, -EINVAL, "object key without a value", f->end - 1, 0);
    *pos = f->end;
    return 0;
}

/*
 * The validation walk described at the top of this file: jt[0..n) from jsmn
 * over js[0..len) -> out[0..n). Returns 0, -EINVAL or -E2BIG (depth).
 */
static int validate_tokens(const char *js, size_t len, const jsmntok_t *jt, int n,
                           struct json_tok *out, struct json_error *e)
{
    struct frame st[JSON_MAX_DEPTH];
    int depth = 0, i, rc;
    size_t pos = 0;

    for (i = 0; i < n; i++) {
        size_t s, end;
        struct frame *f;
        int is_container = jt[i].type == JSMN_OBJECT || jt[i].type == JSMN_ARRAY;

        rc = token_span(js, len, &jt[i], &s, &end, e);
        if (rc != 0)
            return rc;
        while (depth > 0 && s >= st[depth - 1].end) {
            rc = frame_close(js, &st[depth - 1], &pos, e);
            if (rc != 0)
                return rc;
            depth--;
        }
        if (s < pos)
            return fail(e, -EINVAL, "overlapping tokens", s, 0);
        f = depth > 0 ? &st[depth - 1] : NULL;
        if (f == NULL) {
            if (i > 0)
                return fail(e, -EINVAL, "more than one root value", s, 0);
            rc = glue_valid(js, pos, s, 0, e);
        } else if (end > f->end - 1) {
            return fail(e, -EINVAL, "unbalanced brackets", s, 0);
        } else if (f->is_obj && !f->want_value) {
            if (jt[i].type != JSMN_STRING)
                return fail(e, -EINVAL, "object key is not a string", s, 0);
            rc = glue_valid(js, pos, s, f->last >= 0 ? ',' : 0, e);
        } else if (f->is_obj) {
            rc = glue_valid(js, pos, s, ':', e);
        } else {
            rc = glue_valid(js, pos, s, f->last >= 0 ? ',' : 0, e);
        }
        if (rc != 0)
            return rc;
        rc = token_check(js, &jt[i], s, end, &out[i], e);
        if (rc != 0)
            return rc;
        if (f != NULL) {
            if (f->is_obj && f->want_value) {
                f->want_value = 0; /* a value: not a sibling in the key chain */
            } else {
                if (f->last >= 0)
                    out[f->last].next = i;
                f->last = i;
                out[f->tok].size++;
                f->want_value = f->is_obj;
            }
        }
        if (is_container) {
            if (depth == JSON_MAX_DEPTH)
                return fail(e, -E2BIG, "nesting too deep", s, 0);
            st[depth].tok = i;
            st[depth].is_obj = jt[i].type == JSMN_OBJECT;
            st[depth].want_value = 0;
            st[depth].last = -1;
            st[depth].end = end;
            depth++;
            pos = s + 1;
        } else {
            pos = end;
        }
    }
    while (depth > 0) {
        rc = frame_close(js, &st[depth - 1], &pos, e);
        if (rc != 0)
            return rc;
        depth--;
    }
    if (n == 0)
        return fail(e, -EINVAL, "empty document", len, 1);
    return glue_valid(js, pos, len, 0, e);
}

/* Map a jsmn error to ours. */
static int jsmn_fail(int r, const jsmn_parser *p, size_t len, struct json_error *e)
{
    if (r == JSMN_ERROR_PART)
        return fail(e, -EINVAL, "truncated JSON", len, 1);
    if (r == JSMN_ERROR_INVAL)
        return fail(e, -EINVAL, "invalid JSON", p->pos, 0);
    return fail(e, -EINVAL, "token count mismatch", p->pos, 0);
}

int json_parse_diag(const char *js, size_t len, struct json_doc **out, struct json_error *why)
{
    struct json_error local = {NULL, 0, 0};
    struct json_error *e = why != NULL ? why : &local;
    jsmntok_t *jt = NULL;
    struct json_doc *d = NULL;
    jsmn_parser p;
    size_t i0 = 0;
    int n, r, rc;

    if (js == NULL && len > 0)
        return fail(e, -EINVAL, "no input", 0, 0);
    if (len > JSON_MAX_INPUT)
        return fail(e, -E2BIG, "document too large", JSON_MAX_INPUT, 0);
    if (len > 0 && memchr(js, '\0', len) != NULL)
        return fail(e, -EINVAL, "NUL byte in document",
                    (size_t)((const char *)memchr(js, '\0', len) - js), 0);
    while (i0 < len && is_ws(js[i0]))
        i0++;
    if (i0 == len)
        return fail(e, -EINVAL, "empty document", len, 1);

    if (js[i0] != '{' && js[i0] != '[' && js[i0] != '"') {
        /*
         * A scalar root. Strict jsmn wants a delimiter after a primitive and
         * reports "123" as partial, so the one token is made here.
         */
        size_t j = i0;

        while (j < len && !is_ws(js[j]))
            j++;
        n = 1;
        jt = calloc(1, sizeof(*jt));
        if (jt == NULL) {
            rc = fail(e, -ENOMEM, "out of memory", 0, 0);
            goto out;
        }
        jt[0].type = JSMN_PRIMITIVE;
        jt[0].start = (int)i0;
        jt[0].end = (int)j;
        jt[0].parent = -1;
    } else {
        jsmn_init(&p);
        n = jsmn_parse(&p, js, len, NULL, 0);
        if (n < 0) {
            rc = jsmn_fail(n, &p, len, e);
            goto out;
        }
        if (n > JSON_MAX_TOKENS) {
            rc = fail(e, -E2BIG, "too many tokens", len, 0);
            goto out;
        }
        jt = calloc((size_t)n + 1, sizeof(*jt));
        if (jt == NULL) {
            rc = fail(e, -ENOMEM, "out of memory", 0, 0);
            goto out;
        }
        jsmn_init(&p);
        r = jsmn_parse(&p, js, len, jt, (unsigned)n);
        if (r < 0) {
            rc = jsmn_fail(r, &p, len, e);
            goto out;
        }
        if (r != n) {
            rc = fail(e, -EINVAL, "token count mismatch", len, 0);
            goto out;
        }
    }

    d = malloc(sizeof(*d) + (size_t)n * sizeof(d->tok[0]));
    if (d == NULL) {
        rc = fail(e, -ENOMEM, "out of memory", 0, 0);
        goto out;
    }
    d->js = js;
    d->len = len;
    d->n = n;
    rc = validate_tokens(js, len, jt, n, d->tok, e);
    if (rc == 0) {
        *out = d;
        d = NULL;
    }
out:
    free(jt);
    free(d);
    return rc;
}

int json_parse(const char *js, size_t len, struct json_doc **out)
{
    return json_parse_diag(js, len, out, NULL);
}

void json_free(struct json_doc *d)
{
    free(d);
}

/* The token tok of d, or NULL for a bad index. */
static const struct json_tok *tok_at(const struct json_doc *d, int tok)
{
    if (d == NULL || tok < 0 || tok >= d->n)
        return NULL;
    return &d->tok[tok];
}

/* Returns the type, or 0 (no type) for a bad index. */
enum json_type json_type(const struct json_doc *d, int tok)
{
    const struct json_tok *t = tok_at(d, tok);

    return t != NULL ? t->type : (enum json_type)0;
}

int json_size(const struct json_doc *d, int tok)
{
    const struct json_tok *t = tok_at(d, tok);

    if (t == NULL || (t->type != JSON_OBJECT && t->type != JSON_ARRAY))
        return 0;
    return t->size;
}

int json_first(const struct json_doc *d, int tok)
{
    return json_size(d, tok) > 0 ? tok + 1 : -1;
}

int json_next(const struct json_doc *d, int tok)
{
    const struct json_tok *t = tok_at(d, tok);

    return t != NULL ? t->next : -1;
}

/*
 * Decode the character at raw[*i] (*i < n) of a validated string body into
 * buf (1..4 UTF-8 bytes), advancing *i. Returns the byte count, or -EINVAL
 * for a bad escape, a lone surrogate, \u0000 or bad UTF-8.
 */
static int decode_char(const char *raw, size_t n, size_t *i, unsigned char buf[4])
{
    const unsigned char *u = (const unsigned char *)raw;
    uint32_t cp = 0, lo = 0;
    size_t k, len;

    if (raw[*i] != '\\') {
        len = utf8_char_len(u + *i, u + n);
        if (len == 0 || u[*i] < 0x20)
            return -EINVAL;
        memcpy(buf, u + *i, len);
        *i += len;
        return (int)len;
    }
    if (n - *i < 2)
        return -EINVAL;
    switch (raw[*i + 1]) {
    case '"':
    case '\\':
    case '/':
        buf[0] = (unsigned char)raw[*i + 1];
        break;
    case 'b':
        buf[0] = '\b';
        break;
    case 'f':
        buf[0] = '\f';
        break;
    case 'n':
        buf[0] = '\n';
        break;
    case 'r':
        buf[0] = '\r';
        break;
    case 't':
        buf[0] = '\t';
        break;
    case 'u':
        if (n - *i < 6)
            return -EINVAL;
        for (k = 2; k < 6; k++) {
            int h = hex_value(raw[*i + k]);

            if (h < 0)
                return -EINVAL;
            cp = cp << 4 | (uint32_t)h;
        }
        *i += 6;
        if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
            return -EINVAL; /* \u0000, or a low surrogate first */
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (n - *i < 6 || raw[*i] != '\\' || raw[*i + 1] != 'u')
                return -EINVAL; /* lone high surrogate */
            for (k = 2; k < 6; k++) {
                int h = hex_value(raw[*i + k]);

                if (h < 0)
                    return -EINVAL;
                lo = lo << 4 | (uint32_t)h;
            }
            if (lo < 0xDC00 || lo > 0xDFFF)
                return -EINVAL;
            *i += 6;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        if (cp < 0x80) {
            buf[0] = (unsigned char)cp;
            return 1;
        }
        if (cp < 0x800) {
            buf[0] = (unsigned char)(0xC0 | cp >> 6);
            buf[1] = (unsigned char)(0x80 | (cp & 0x3F));
            return 2;
        }
        if (cp < 0x10000) {
            buf[0] = (unsigned char)(0xE0 | cp >> 12);
            buf[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
            buf[2] = (unsigned char)(0x80 | (cp & 0x3F));
            return 3;
        }
        buf[0] = (unsigned char)(0xF0 | cp >> 18);
        buf[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        buf[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        buf[3] = (unsigned char)(0x80 | (cp & 0x3F));
        return 4;
    default:
        return -EINVAL;
    }
    *i += 2;
    return 1;
}

/* The raw body of string token tok in *raw, *n; -EINVAL if tok is not a string. */
static int string_body(const struct json_doc *d, int tok, const char **raw, size_t *n)
{
    const struct json_tok *t = tok_at(d, tok);

    if (t == NULL || t->type != JSON_STRING)
        return -EINVAL;
    *raw = d->js + t->start;
    *n = (size_t)(t->end - t->start);
    return 0;
}

int json_string(const struct json_doc *d, int tok, char *out, size_t outsz, size_t *outlen)
{
    const char *raw;
    size_t n, i = 0, used = 0;
    int full = 0, k;
    unsigned char buf[4];

    if (out == NULL || outsz == 0)
        return -EINVAL;
    out[0] = '\0';
    if (outlen != NULL)
        *outlen = 0;
    if (string_body(d, tok, &raw, &n) != 0)
        return -EINVAL;
    while (i < n) {
        k = decode_char(raw, n, &i, buf);
        if (k < 0) {
            out[0] = '\0';
            return -EINVAL;
        }
        /* Keep decoding after the buffer is full: a bad escape later is still -EINVAL. */
        if (!full && (size_t)k < outsz - used) {
            memcpy(out + used, buf, (size_t)k);
            used += (size_t)k;
        } else {
            full = 1;
        }
    }
    out[used] = '\0';
    if (outlen != NULL)
        *outlen = used;
    return full ? -E2BIG : 0;
}

int json_streq(const struct json_doc *d, int tok, const char *s)
{
    const char *raw;
    size_t n, i = 0, used = 0, slen;
    unsigned char buf[4];
    int k;

    if (s == NULL || string_body(d, tok, &raw, &n) != 0)
        return 0;
    slen = strlen(s);
    while (i < n) {
        k = decode_char(raw, n, &i, buf);
        if (k < 0 || (size_t)k > slen - used || memcmp(s + used, buf, (size_t)k) != 0)
            return 0;
        used += (size_t)k;
    }
    return used == slen;
}

int json_strsuffix(const struct json_doc *d, int tok, const char *suffix)
{
    unsigned char tail[JSON_SUFFIX_MAX], buf[4];
    const char *raw;
    size_t n, i = 0, total = 0, m, j;
    int k, b;

    if (suffix == NULL || string_body(d, tok, &raw, &n) != 0)
        return 0;
    m = strlen(suffix);
    if (m > JSON_SUFFIX_MAX)
        return 0;
    while (i < n) {
        k = decode_char(raw, n, &i, buf);
        if (k < 0)
            return 0;
        for (b = 0; b < k; b++)
            tail[total++ % JSON_SUFFIX_MAX] = buf[b];
    }
    if (total < m)
        return 0;
    for (j = 0; j < m; j++)
        if (tail[(total - m + j) % JSON_SUFFIX_MAX] != (unsigned char)suffix[j])
            return 0;
    return 1;
}

int json_get(const struct json_doc *d, int obj, const char *key)
{
    int k;

    if (json_type(d, obj) != JSON_OBJECT)
        return -1;
    for (k = json_first(d, obj); k >= 0; k = json_next(d, k))
        if (json_streq(d, k, key))
            return k + 1;
    return -1;
}

int json_number(const struct json_doc *d, int tok, double *out)
{
    const struct json_tok *t = tok_at(d, tok);
    char buf[JSON_NUMBER_TEXT_MAX + 1], *endp;
    size_t n;
    double v;

    if (t == NULL || t->type != JSON_NUMBER)
        return -EINVAL;
    n = (size_t)(t->end - t->start);
    if (n > JSON_NUMBER_TEXT_MAX)
        return -EINVAL;
    memcpy(buf, d->js + t->start, n);
    buf[n] = '\0';
    /* The grammar was checked at parse time; strtod must consume it all (C locale). */
    v = strtod(buf, &endp);
    if (endp != buf + n || !isfinite(v))
        return -EINVAL;
    *out = v;
    return 0;
}

int json_raw(const struct json_doc *d, int tok, const char **p, size_t *n)
{
    const struct json_tok *t = tok_at(d, tok);

    if (t == NULL || t->type == JSON_OBJECT || t->type == JSON_ARRAY || p == NULL || n == NULL)
        return -EINVAL;
    *p = d->js + t->start;
    *n = (size_t)(t->end - t->start);
    return 0;
}
