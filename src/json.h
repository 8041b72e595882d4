/*
 * json: a bounded, validating reader over jsmn tokens.
 *
 * json_parse() tokenises a whole document with jsmn (strict mode) and then
 * validates what jsmn leaves loose: exactly one root value with only whitespace
 * around it, object keys are strings, literals are exactly true/false/null,
 * numbers follow the JSON grammar, string escapes are valid and raw bytes are
 * valid UTF-8. Hard caps (below) bound memory and work; exceeding one is
 * -E2BIG, never a crash. Pure: no I/O, no globals, no logging.
 *
 * Tokens are addressed by index; the root is token 0. Iteration:
 *   for (k = json_first(d, obj); k >= 0; k = json_next(d, k))  // object: k is a key,
 *       value = k + 1;                                           // its value follows it
 *   for (e = json_first(d, arr); e >= 0; e = json_next(d, e))  // array: e is an element
 */
#ifndef ELB_JSON_H
#define ELB_JSON_H

#include <stddef.h>

#define JSON_MAX_INPUT (4u << 20) /* bytes of one document */
#define JSON_MAX_TOKENS 16384     /* jsmn tokens of one document */
#define JSON_MAX_DEPTH 32         /* nesting of arrays/objects */
#define JSON_MAX_STRING 65536     /* raw bytes of one string token */

enum json_type {
    JSON_OBJECT = 1,
    JSON_ARRAY,
    JSON_STRING,
    JSON_NUMBER,
    JSON_TRUE,
    JSON_FALSE,
    JSON_NULL
};

struct json_doc; /* opaque; refers to (does not copy) the input buffer */

/*
 * Tokenise and validate len bytes at js (need not be NUL-terminated; js must
 * outlive the doc). Returns 0 and a new doc in *out, -EINVAL for malformed or
 * truncated input, -E2BIG when a cap is exceeded, -ENOMEM. *out untouched on error.
 */
int json_parse(const char *js, size_t len, struct json_doc **out);
void json_free(struct json_doc *d); /* accepts NULL */

/* Why json_parse_diag failed: for a caller's one-line error message. */
struct json_error {
    const char *what; /* static text, e.g. "truncated JSON", "empty document" */
    size_t offset;    /* byte offset where the problem was found */
    int truncated;    /* 1 if the input ended before the root value was complete (or began) */
};

/* json_parse that also says why it failed (why may be NULL; filled only on error). */
int json_parse_diag(const char *js, size_t len, struct json_doc **out, struct json_error *why);

enum json_type json_type(const struct json_doc *d, int tok);
/* Number of members of an object / elements of an array; 0 for scalars. */
int json_size(const struct json_doc *d, int tok);
/* First key of an object / first element of an array, or -1 if empty or a scalar. */
int json_first(const struct json_doc *d, int tok);
/* The next sibling key (object) or element (array) after tok, or -1 at the end. */
int json_next(const struct json_doc *d, int tok);
/* Value token of the first member named key (compared after decoding), or -1. */
int json_get(const struct json_doc *d, int obj, const char *key);

/*
 * Decode a string token (all escapes, \uXXXX with surrogate pairs, to UTF-8)
 * into out (outsz > 0, always NUL-terminated), length in *outlen if not NULL.
 * Returns 0; -EINVAL if tok is not a string or holds an invalid escape, a lone
 * surrogate or \u0000; -E2BIG if the decoded text does not fit, in which case
 * out holds the longest prefix ending on a UTF-8 character boundary.
 */
int json_string(const struct json_doc *d, int tok, char *out, size_t outsz, size_t *outlen);
/* Is tok a string equal to s after decoding? */
int json_streq(const struct json_doc *d, int tok, const char *s);
/* Number token as a double. Returns 0 or -EINVAL (not a number / out of range). */
int json_number(const struct json_doc *d, int tok, double *out);

/* Is tok a string whose decoded text ends with suffix (at most 16 bytes)? */
int json_strsuffix(const struct json_doc *d, int tok, const char *suffix);
/*
 * The raw bytes of a scalar token (a string without its quotes and undecoded,
 * a number or literal as written) in *p, *n. Returns 0, or -EINVAL for a
 * container or a bad index.
 */
int json_raw(const struct json_doc *d, int tok, const char **p, size_t *n);

#endif
