/*
 * test_json: the validating jsmn reader: grammar, UTF-8, escapes, decoding, caps, truncation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define NOT_TOUCHED ((struct json_doc *)0x1)

/* Parse n bytes; returns rc. On success the doc is freed unless keep is given. */
static int parse_n(const char *s, size_t n, struct json_doc **keep)
{
    struct json_doc *d = NOT_TOUCHED;
    int rc = json_parse(s, n, &d);

    if (rc != 0) {
        if (d != NOT_TOUCHED)
            fail_msg("*out written on error for \"%.*s\"", (int)n, s);
        return rc;
    }
    if (d == NOT_TOUCHED || d == NULL)
        fail_msg("no doc returned for \"%.*s\"", (int)n, s);
    if (keep != NULL)
        *keep = d;
    else
        json_free(d);
    return 0;
}

static int parse_s(const char *s)
{
    return parse_n(s, strlen(s), NULL);
}

static void assert_valid(const char *s)
{
    int rc = parse_s(s);

    if (rc != 0)
        fail_msg("rejected valid JSON (%d): %s", rc, s);
}

static void assert_invalid(const char *s)
{
    int rc = parse_s(s);

    if (rc != -EINVAL)
        fail_msg("wanted -EINVAL, got %d: %s", rc, s);
}

static struct json_doc *doc(const char *s)
{
    struct json_doc *d = NULL;

    if (parse_n(s, strlen(s), &d) != 0)
        fail_msg("rejected: %s", s);
    return d;
}

static void test_valid_documents(void **state)
{
    static const char *const ok[] = {
        "{}",
        "[]",
        " \t\r\n{ \t\r\n} \t\r\n",
        "{\"a\":1}",
        "{ \"a\" : 1 , \"b\" : [ 1 , 2 ] }",
        "[1,\"x\",true,false,null,{},[],-0.5e+3]",
        "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
        "{\"\":\"\"}",
        "{\"a\":1,\"a\":2}",
        "\"just a string\"",
        "123",
        "-0",
        " true ",
        "false",
        "null",
        "[\"\\u00e9\\n\\\"\"]",
        "[\"\x7f\"]", /* DEL is not a control character in JSON */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_valid(ok[i]);
}

static void test_numbers(void **state)
{
    static const char *const ok[] = {
        "0",   "-0",  "1",    "-1",   "10",     "1234567890", "0.5", "-0.5", "1.25",
        "1e5", "1E5", "1e+5", "1e-5", "1.5e10", "-1.5E-10",   "0e0", "0.0",  "1e0005",
    };
    static const char *const bad[] = {
        "01",    "-01",  "00",  "1.",    ".5",    "-",   "+1",       "1e",
        "1e+",   "1e-",  "0x1", "1.5.5", "--1",   "NaN", "Infinity", "-Infinity",
        "1e5.5", "1.e5", "- 1", "1a",    "1_000", "١",
    };
    char buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_valid(ok[i]);
        snprintf(buf, sizeof(buf), "[%s]", ok[i]);
        assert_valid(buf);
        snprintf(buf, sizeof(buf), "{\"k\":%s}", ok[i]);
        assert_valid(buf);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_invalid(bad[i]);
        snprintf(buf, sizeof(buf), "[%s]", bad[i]);
        assert_invalid(buf);
        snprintf(buf, sizeof(buf), "{\"k\":%s}", bad[i]);
        assert_invalid(buf);
    }
}

static void test_literals(void **state)
{
    static const char *const bad[] = {"tru",  "truee", "nul", "nulll", "False", "TRUE",
                                      "Null", "fals",  "t",   "n",     "f",     "true1"};
    char buf[64];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_invalid(bad[i]);
        snprintf(buf, sizeof(buf), "[%s]", bad[i]);
        assert_invalid(buf);
        snprintf(buf, sizeof(buf), "{\"k\":%s}", bad[i]);
        assert_invalid(buf);
    }
}

/* What jsmn tokenises happily but JSON forbids. */
static void test_structure_errors(void **state)
{
    static const char *const bad[] = {
        "[1 2]",
        "[1,]",
        "[,1]",
        "[1,,2]",
        "[,]",
        "{\"a\" \"b\"}",
        "{\"a\":}",
        "{\"a\"}",
        "{\"a\":1,}",
        "{,}",
        "{,\"a\":1}",
        "{1:2}",
        "{true:1}",
        "{null:1}",
        "{[]:1}",
        "{{}:1}",
        "{}{}",
        "[][]",
        "{} x",
        "{} 1",
        "[]]",
        "[[]",
        "{]",
        "[}",
        "{\"a\"::1}",
        "{\"a\":1 \"b\":2}",
        "{\"a\":1,,\"b\":2}",
        "[1:2]",
        "{\"a\",1}",
        "\"a\":1",
        ":",
        ",",
        "[1]x",
        "[\"a\" \"b\"]",
        "{\"a\":1}}",
        "{\"a\":1:2}",
        "{\"a\":\"b\":\"c\"}",
        "[\"a\":1]",
        "\"a\" \"b\"",
        "1 2",
        "[01]",
        "{\"a\":[}]",
        "]",
        "}",
        "[1]]",
        "{\"a\" : 1 ,}",
        "{'a':1}",
        "['a']",
        "[1,2,]",
        "{\"a\":1,\"b\"}",
        "{\"a\":{\"b\":1}",
        "[[1],[2]",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_invalid(bad[i]);
}

static void test_whitespace(void **state)
{
    (void)state;
    assert_invalid("");
    assert_invalid("   ");
    assert_invalid(" \t\r\n");
    assert_invalid("\f{}");
    assert_invalid("{}\v");
    assert_invalid("{\f}");
    assert_invalid("\xc2\xa0{}");     /* NBSP */
    assert_invalid("\xef\xbb\xbf{}"); /* BOM */
    assert_valid("\n{\n\t\"a\" :\r\n 1\n}\n");
    assert_int_equal(json_parse(NULL, 0, &(struct json_doc *){NULL}), -EINVAL);
}

static void test_nul_bytes(void **state)
{
    static const char a[] = "{}\0";
    static const char b[] = "{\"a\":\"x\0y\"}";
    static const char c[] = "\0{}";

    (void)state;
    assert_int_equal(parse_n(a, sizeof(a) - 1, NULL), -EINVAL);
    assert_int_equal(parse_n(b, sizeof(b) - 1, NULL), -EINVAL);
    assert_int_equal(parse_n(c, sizeof(c) - 1, NULL), -EINVAL);
    /* The length is honoured: the NUL is outside it here. */
    assert_int_equal(parse_n(a, 2, NULL), 0);
}

static void test_control_chars_in_strings(void **state)
{
    char buf[16];
    int ch;

    (void)state;
    for (ch = 1; ch < 0x20; ch++) {
        snprintf(buf, sizeof(buf), "[\"a%cb\"]", ch);
        if (parse_s(buf) != -EINVAL)
            fail_msg("raw control byte 0x%02x accepted in a string", ch);
        snprintf(buf, sizeof(buf), "{\"a%cb\":1}", ch);
        if (parse_s(buf) != -EINVAL)
            fail_msg("raw control byte 0x%02x accepted in a key", ch);
    }
}

static void test_escape_syntax(void **state)
{
    static const char *const ok[] = {
        "[\"\\\"\"]",
        "[\"\\\\\"]",
        "[\"\\/\"]",
        "[\"\\b\\f\\n\\r\\t\"]",
        "[\"\\u0041\"]",
        "[\"\\u00e9\\u00E9\"]",
        "[\"\\uD83D\\uDE00\"]",
        "[\"\\ud800\"]", /* lone surrogate: syntax is fine, decoding rejects it */
        "[\"\\u0000\"]", /* likewise */
    };
    static const char *const bad[] = {
        "[\"\\x41\"]",   "[\"\\'\"]", "[\"\\a\"]",  "[\"\\u12\"]", "[\"\\u12G4\"]",
        "[\"\\U0041\"]", "[\"\\0\"]", "[\"\\ \"]",  "[\"\\\"]",    "[\"\\u\"]",
        "[\"\\u 123\"]", "[\"\\e\"]", "[\"\\\n\"]", "{\"\\q\":1}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_valid(ok[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_invalid(bad[i]);
}

static void test_utf8(void **state)
{
    static const char *const ok[] = {
        "[\"\x7f\"]",
        "[\"\xc2\x80\"]",         /* U+0080 */
        "[\"\xdf\xbf\"]",         /* U+07FF */
        "[\"\xe0\xa0\x80\"]",     /* U+0800 */
        "[\"\xed\x9f\xbf\"]",     /* U+D7FF */
        "[\"\xee\x80\x80\"]",     /* U+E000 */
        "[\"\xef\xbf\xbf\"]",     /* U+FFFF */
        "[\"\xf0\x90\x80\x80\"]", /* U+10000 */
        "[\"\xf4\x8f\xbf\xbf\"]", /* U+10FFFF */
        "[\"Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80\"]",
        "{\"\xc3\xa9\":1}",
    };
    static const char *const bad[] = {
        "[\"\x80\"]", /* lone continuation */
        "[\"\xbf\"]",
        "[\"\xc0\x80\"]",         /* overlong NUL */
        "[\"\xc1\xbf\"]",         /* overlong */
        "[\"\xe0\x80\x80\"]",     /* overlong */
        "[\"\xe0\x9f\xbf\"]",     /* overlong */
        "[\"\xed\xa0\x80\"]",     /* U+D800 in UTF-8 */
        "[\"\xed\xbf\xbf\"]",     /* U+DFFF in UTF-8 */
        "[\"\xf0\x80\x80\x80\"]", /* overlong */
        "[\"\xf0\x8f\xbf\xbf\"]", /* overlong */
        "[\"\xf4\x90\x80\x80\"]", /* U+110000 */
        "[\"\xf5\x80\x80\x80\"]",
        "[\"\xf8\x88\x80\x80\x80\"]", /* 5-byte form */
        "[\"\xfe\"]",
        "[\"\xff\"]",
        "[\"\xc3\"]", /* cut before the quote */
        "[\"\xe2\x82\"]",
        "[\"\xf0\x9f\x98\"]",
        "[\"\xc3\x28\"]", /* bad continuation */
        "[\"\xe2\x28\xa1\"]",
        "[\"\xf0\x9f\x28\x80\"]",
        "{\"\xff\":1}", /* in a key */
        "[\xc3\xa9]",   /* outside a string */
        "{}\xc3\xa9",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        assert_valid(ok[i]);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_invalid(bad[i]);
}

/* Decode the only string in [ "..." ] into a buffer of outsz; returns the rc. */
static int decode(const char *json, char *out, size_t outsz, size_t *outlen)
{
    struct json_doc *d = doc(json);
    int rc;

    assert_int_equal(json_type(d, 1), JSON_STRING);
    rc = json_string(d, 1, out, outsz, outlen);
    json_free(d);
    return rc;
}

static void assert_decodes(const char *json, const char *want)
{
    char out[128];
    size_t n = 999;

    assert_int_equal(decode(json, out, sizeof(out), &n), 0);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
}

static void test_string_decoding(void **state)
{
    (void)state;
    assert_decodes("[\"\"]", "");
    assert_decodes("[\"plain\"]", "plain");
    assert_decodes("[\"q\\\"b\\\\s\\/\"]", "q\"b\\s/");
    assert_decodes("[\"\\b\\f\\n\\r\\t\"]", "\b\f\n\r\t");
    assert_decodes("[\"\\u0041\\u0062\"]", "Ab");
    assert_decodes("[\"\\u00e9\\u00C9\"]", "\xc3\xa9\xc3\x89");
    assert_decodes("[\"\\u007f\\u0080\\u07ff\"]", "\x7f\xc2\x80\xdf\xbf");
    assert_decodes("[\"\\u0800\\u20AC\\uffff\"]", "\xe0\xa0\x80\xe2\x82\xac\xef\xbf\xbf");
    assert_decodes("[\"\\u001f\"]", "\x1f"); /* escaped control chars are fine */
    assert_decodes("[\"\\uD83D\\uDE00\"]", "\xf0\x9f\x98\x80");
    assert_decodes("[\"\\ud83d\\ude00\"]", "\xf0\x9f\x98\x80");
    assert_decodes("[\"\\uD800\\uDC00\"]", "\xf0\x90\x80\x80");
    assert_decodes("[\"\\uDBFF\\uDFFF\"]", "\xf4\x8f\xbf\xbf");
    assert_decodes("[\"x\\uD83D\\uDE00y\"]", "x\xf0\x9f\x98\x80y");
    assert_decodes("[\"\xc3\xa9\\u00e9\"]", "\xc3\xa9\xc3\xa9");
    assert_decodes("[\"ELB.1003: \\\"quoted\\\"\\nline two\"]", "ELB.1003: \"quoted\"\nline two");
}

static void test_string_decoding_rejects(void **state)
{
    static const char *const bad[] = {
        "[\"\\uD800\"]",                         /* lone high surrogate */
        "[\"\\uDBFF\"]",        "[\"\\uDC00\"]", /* lone low surrogate */
        "[\"\\uDFFF\\uD800\"]",                  /* reversed pair */
        "[\"\\uD800\\u0041\"]",                  /* high + non-surrogate */
        "[\"\\uD800\\uD800\"]",                  /* high + high */
        "[\"\\uD800x\"]",       "[\"\\uD800\\n\"]",
        "[\"a\\uD83D\"]", /* high surrogate at the end */
        "[\"\\u0000\"]",        "[\"a\\u0000b\"]",
    };
    char out[64];
    size_t i, n;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        n = 77;
        if (decode(bad[i], out, sizeof(out), &n) != -EINVAL)
            fail_msg("decoded %s", bad[i]);
        assert_string_equal(out, "");
        assert_int_equal(n, 0);
    }
}

/* Cuts land on UTF-8 character boundaries, for every buffer size. */
static void test_string_cut_on_boundary(void **state)
{
    /* a (1) é (2) € (3) 😀 (4) b (1), the last three written as escapes */
    const char *json = "[\"a\xc3\xa9\\u20ac\\ud83d\\ude00b\"]";
    const char *full = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"
                       "b";
    static const size_t fit[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 11};
    char out[16];
    size_t sz, n;
    int rc;

    (void)state;
    for (sz = 1; sz <= 12; sz++) {
        memset(out, 'X', sizeof(out));
        rc = decode(json, out, sz, &n);
        assert_int_equal(rc, sz == 12 ? 0 : -E2BIG);
        assert_int_equal(n, fit[sz - 1]);
        assert_int_equal(strlen(out), fit[sz - 1]);
        assert_memory_equal(out, full, fit[sz - 1]);
        assert_int_equal(out[sz], 'X'); /* nothing past outsz */
    }
}

/* A bad escape after the cut point still makes the string invalid. */
static void test_string_cut_then_invalid(void **state)
{
    char out[4];

    (void)state;
    assert_int_equal(decode("[\"abcdefgh\\ud800\"]", out, sizeof(out), NULL), -EINVAL);
    assert_int_equal(decode("[\"abcdefgh\"]", out, sizeof(out), NULL), -E2BIG);
    assert_string_equal(out, "abc");
}

static void test_string_bad_args(void **state)
{
    struct json_doc *d = doc("{\"a\":1,\"s\":\"x\"}");
    char out[8] = "junk";
    size_t n = 5;

    (void)state;
    assert_int_equal(json_string(d, 2, out, sizeof(out), &n), -EINVAL); /* a number */
    assert_string_equal(out, "");
    assert_int_equal(n, 0);
    assert_int_equal(json_string(d, 0, out, sizeof(out), NULL), -EINVAL); /* an object */
    assert_int_equal(json_string(d, 99, out, sizeof(out), NULL), -EINVAL);
    assert_int_equal(json_string(d, -1, out, sizeof(out), NULL), -EINVAL);
    assert_int_equal(json_string(d, 4, out, 0, NULL), -EINVAL);
    assert_int_equal(json_string(d, 4, out, sizeof(out), NULL), 0);
    assert_string_equal(out, "x");
    assert_int_equal(json_string(d, 3, out, sizeof(out), NULL), 0); /* keys are strings */
    assert_string_equal(out, "s");
    json_free(d);
}

static void test_types_and_iteration(void **state)
{
    const char *js = "{\"o\":{\"x\":[1,2]},\"a\":[true,false,null,\"s\",{\"k\":\"v\"},[]],"
                     "\"n\":-1.5,\"e\":{}}";
    static const char *const keys[] = {"o", "a", "n", "e"};
    static const enum json_type elem_types[] = {JSON_TRUE,   JSON_FALSE,  JSON_NULL,
                                                JSON_STRING, JSON_OBJECT, JSON_ARRAY};
    struct json_doc *d = doc(js);
    int k, e, i, a;

    (void)state;
    assert_int_equal(json_type(d, 0), JSON_OBJECT);
    assert_int_equal(json_size(d, 0), 4);
    for (i = 0, k = json_first(d, 0); k >= 0; k = json_next(d, k), i++) {
        assert_true(i < 4);
        assert_true(json_streq(d, k, keys[i]));
    }
    assert_int_equal(i, 4);

    a = json_get(d, 0, "a");
    assert_int_equal(json_type(d, a), JSON_ARRAY);
    assert_int_equal(json_size(d, a), 6);
    for (i = 0, e = json_first(d, a); e >= 0; e = json_next(d, e), i++)
        assert_int_equal(json_type(d, e), elem_types[i]);
    assert_int_equal(i, 6);

    assert_int_equal(json_type(d, json_get(d, 0, "n")), JSON_NUMBER);
    assert_int_equal(json_size(d, json_get(d, 0, "n")), 0);
    assert_int_equal(json_first(d, json_get(d, 0, "n")), -1);
    assert_int_equal(json_type(d, json_get(d, 0, "e")), JSON_OBJECT);
    assert_int_equal(json_size(d, json_get(d, 0, "e")), 0);
    assert_int_equal(json_first(d, json_get(d, 0, "e")), -1);
    assert_int_equal(json_size(d, json_get(d, json_get(d, 0, "o"), "x")), 2);
    /* The last key has no next; nor does a bad index. */
    assert_int_equal(json_next(d, json_get(d, 0, "e") - 1), -1);
    assert_int_equal(json_next(d, -1), -1);
    assert_int_equal(json_next(d, 1000), -1);
    assert_int_equal((int)json_type(d, -1), 0);
    assert_int_equal((int)json_type(d, 1000), 0);
    assert_int_equal((int)json_type(NULL, 0), 0);
    assert_int_equal(json_size(NULL, 0), 0);
    assert_int_equal(json_first(NULL, 0), -1);
    json_free(d);
    json_free(NULL);
}

static void test_get(void **state)
{
    struct json_doc *d = doc("{\"st\\u0061tus\":\"A\",\"dup\":1,\"dup\":2,\"n\":{\"status\":\"B\"},"
                             "\"\":\"empty\",\"stat\":\"C\"}");
    double v = 0;
    int t;

    (void)state;
    t = json_get(d, 0, "status"); /* keys compare after decoding */
    assert_true(json_streq(d, t, "A"));
    assert_true(json_streq(d, json_get(d, 0, "stat"), "C"));
    assert_int_equal(json_number(d, json_get(d, 0, "dup"), &v), 0);
    assert_true(v == 1.0); /* first of duplicates */
    assert_true(json_streq(d, json_get(d, 0, ""), "empty"));
    assert_int_equal(json_get(d, 0, "missing"), -1);
    assert_int_equal(json_get(d, 0, "statu"), -1);
    assert_int_equal(json_get(d, 0, "statuss"), -1);
    assert_int_equal(json_get(d, t, "status"), -1); /* not an object */
    assert_int_equal(json_get(d, -1, "status"), -1);
    assert_true(json_streq(d, json_get(d, json_get(d, 0, "n"), "status"), "B"));
    json_free(d);
}

static void test_streq_and_suffix(void **state)
{
    struct json_doc *d = doc("[\"a\\u0062c\",\"\",\"elb\\u005fid\",\"x_id\",\"id\",\"_id\",1,"
                             "\"\\ud800\",\"\xc3\xa9_id\"]");

    (void)state;
    assert_true(json_streq(d, 1, "abc"));
    assert_false(json_streq(d, 1, "ab"));
    assert_false(json_streq(d, 1, "abcd"));
    assert_false(json_streq(d, 1, "abd"));
    assert_false(json_streq(d, 1, ""));
    assert_true(json_streq(d, 2, ""));
    assert_false(json_streq(d, 2, "a"));
    assert_false(json_streq(d, 7, "1"));            /* a number */
    assert_false(json_streq(d, 8, "\xed\xa0\x80")); /* undecodable */
    assert_false(json_streq(d, 1, NULL));
    assert_true(json_strsuffix(d, 3, "_id")); /* escape decoded */
    assert_true(json_strsuffix(d, 3, "elb_id"));
    assert_true(json_strsuffix(d, 4, "_id"));
    assert_false(json_strsuffix(d, 5, "_id")); /* "id" is too short */
    assert_true(json_strsuffix(d, 6, "_id"));
    assert_true(json_strsuffix(d, 9, "\xc3\xa9_id"));
    assert_true(json_strsuffix(d, 1, ""));
    assert_false(json_strsuffix(d, 7, "1"));
    assert_false(json_strsuffix(d, 8, "0"));
    assert_false(json_strsuffix(d, 3, "12345678901234567_id")); /* longer than the window */
    json_free(d);
}

static void test_long_key_suffix(void **state)
{
    size_t n = 5000, i;
    char *js = malloc(n + 16);
    struct json_doc *d;

    (void)state;
    assert_non_null(js);
    js[0] = '[';
    js[1] = '"';
    for (i = 2; i < n; i++)
        js[i] = (char)('a' + i % 26);
    memcpy(js + n, "\\u005Fid\"]", 11);
    d = doc(js);
    assert_true(json_strsuffix(d, 1, "_id"));
    assert_false(json_strsuffix(d, 1, "xid"));
    json_free(d);
    free(js);
}

static void test_number_values(void **state)
{
    struct json_doc *d = doc("[0,-0,1.5,-2.5e3,1e308,1e309,1e-400,\"1\",true,"
                             "1.00000000000000000000000000000000000000000000000000000000000000000"
                             "00000000000000000000000000000000000000000000000000000000000000001]");
    double v;

    (void)state;
    assert_int_equal(json_number(d, 1, &v), 0);
    assert_true(v == 0.0);
    assert_int_equal(json_number(d, 2, &v), 0);
    assert_true(v == 0.0);
    assert_int_equal(json_number(d, 3, &v), 0);
    assert_true(v == 1.5);
    assert_int_equal(json_number(d, 4, &v), 0);
    assert_true(v == -2500.0);
    assert_int_equal(json_number(d, 5, &v), 0);
    assert_true(v == 1e308);
    v = 42;
    assert_int_equal(json_number(d, 6, &v), -EINVAL); /* overflows a double */
    assert_true(v == 42);
    assert_int_equal(json_number(d, 7, &v), 0); /* underflow is zero, not an error */
    assert_true(v == 0.0);
    assert_int_equal(json_number(d, 8, &v), -EINVAL);  /* a string */
    assert_int_equal(json_number(d, 9, &v), -EINVAL);  /* a literal */
    assert_int_equal(json_number(d, 10, &v), -EINVAL); /* longer than the text cap */
    assert_int_equal(json_number(d, 0, &v), -EINVAL);  /* the array */
    json_free(d);
}

static void test_raw(void **state)
{
    struct json_doc *d = doc("[12.5e1,\"a\\nb\",null,{}]");
    const char *p;
    size_t n;

    (void)state;
    assert_int_equal(json_raw(d, 1, &p, &n), 0);
    assert_int_equal(n, 6);
    assert_memory_equal(p, "12.5e1", 6);
    assert_int_equal(json_raw(d, 2, &p, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(p, "a\\nb", 4);
    assert_int_equal(json_raw(d, 3, &p, &n), 0);
    assert_memory_equal(p, "null", 4);
    assert_int_equal(json_raw(d, 4, &p, &n), -EINVAL);
    assert_int_equal(json_raw(d, 0, &p, &n), -EINVAL);
    assert_int_equal(json_raw(d, 5, &p, &n), -EINVAL);
    json_free(d);
}

/* Parse a NUL-terminated heap buffer and return the rc. */
static int parse_heap(char *js, size_t n)
{
    int rc = parse_n(js, n, NULL);

    free(js);
    return rc;
}

/* "[" repeated depth times, then "]" as often. */
static char *nested(int depth, size_t *n)
{
    char *js = malloc((size_t)depth * 2 + 1);
    int i;

    assert_non_null(js);
    for (i = 0; i < depth; i++) {
        js[i] = '[';
        js[depth * 2 - 1 - i] = ']';
    }
    js[depth * 2] = '\0';
    *n = (size_t)depth * 2;
    return js;
}

static void test_cap_depth(void **state)
{
    struct json_error e;
    struct json_doc *d = NULL;
    size_t n;
    char *js;
    int depth;

    (void)state;
    js = nested(JSON_MAX_DEPTH, &n);
    assert_int_equal(parse_heap(js, n), 0);
    js = nested(JSON_MAX_DEPTH + 1, &n);
    assert_int_equal(json_parse_diag(js, n, &d, &e), -E2BIG);
    assert_null(d);
    assert_string_equal(e.what, "nesting too deep");
    free(js);
    js = nested(JSON_MAX_TOKENS - 1, &n);
    assert_int_equal(parse_heap(js, n), -E2BIG);
    js = nested(200000, &n); /* beyond the token cap too */
    assert_int_equal(parse_heap(js, n), -E2BIG);
    /* Objects count as well: {"a":{"a":...{}...}} */
    for (depth = JSON_MAX_DEPTH; depth <= JSON_MAX_DEPTH + 1; depth++) {
        char buf[512];
        size_t len = 0;
        int i;

        for (i = 1; i < depth; i++)
            len += (size_t)snprintf(buf + len, sizeof(buf) - len, "{\"a\":");
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "{}");
        for (i = 1; i < depth; i++)
            buf[len++] = '}';
        assert_int_equal(parse_n(buf, len, NULL), depth > JSON_MAX_DEPTH ? -E2BIG : 0);
    }
}

/* An array of count zeros: count + 1 tokens. */
static char *zeros(size_t count, size_t *n)
{
    char *js = malloc(count * 2 + 2);
    size_t i;

    assert_non_null(js);
    js[0] = '[';
    for (i = 0; i < count; i++) {
        js[1 + 2 * i] = '0';
        js[2 + 2 * i] = i + 1 < count ? ',' : ']';
    }
    js[count * 2 + 1] = '\0';
    *n = count * 2 + 1;
    return js;
}

static void test_cap_tokens(void **state)
{
    struct json_doc *d = NULL;
    size_t n;
    char *js;

    (void)state;
    js = zeros(JSON_MAX_TOKENS - 1, &n);
    assert_int_equal(parse_n(js, n, &d), 0);
    assert_int_equal(json_size(d, 0), JSON_MAX_TOKENS - 1);
    json_free(d);
    free(js);
    js = zeros(JSON_MAX_TOKENS, &n);
    assert_int_equal(parse_heap(js, n), -E2BIG);
}

static void test_cap_string(void **state)
{
    char *js = malloc(JSON_MAX_STRING + 16);
    size_t i;
    struct json_doc *d = NULL;
    size_t outlen;
    char *out;

    (void)state;
    assert_non_null(js);
    js[0] = '[';
    js[1] = '"';
    for (i = 2; i < JSON_MAX_STRING + 2; i++)
        js[i] = 'x';
    memcpy(js + JSON_MAX_STRING + 2, "\"]", 3);
    assert_int_equal(parse_n(js, JSON_MAX_STRING + 4, &d), 0);
    out = malloc(JSON_MAX_STRING + 1);
    assert_non_null(out);
    assert_int_equal(json_string(d, 1, out, JSON_MAX_STRING + 1, &outlen), 0);
    assert_int_equal(outlen, JSON_MAX_STRING);
    json_free(d);
    free(out);
    /* One byte more is over the cap, as a value or as a key. */
    js[JSON_MAX_STRING + 2] = 'x';
    memcpy(js + JSON_MAX_STRING + 3, "\"]", 3);
    assert_int_equal(parse_n(js, JSON_MAX_STRING + 5, NULL), -E2BIG);
    js[0] = '{';
    memcpy(js + JSON_MAX_STRING + 3, "\":1}", 5);
    assert_int_equal(parse_n(js, JSON_MAX_STRING + 7, NULL), -E2BIG);
    free(js);
}

static void test_cap_input(void **state)
{
    char *js = malloc(JSON_MAX_INPUT + 2);

    (void)state;
    assert_non_null(js);
    memset(js, ' ', JSON_MAX_INPUT + 1);
    memcpy(js, "{}", 2);
    assert_int_equal(parse_n(js, JSON_MAX_INPUT, NULL), 0); /* exactly at the cap */
    assert_int_equal(parse_n(js, JSON_MAX_INPUT + 1, NULL), -E2BIG);
    free(js);
}

static const char sample[] =
    "{\"status\": \"FAIL\", \"entities\": {\"elb\": {\"id\": \"ef26\", \"bw\": 1, \"up\": false}},"
    " \"job_id\": \"ff8080825ecc523f015ecd0a98f82f77\", \"n\": [-1.5e-3, 0, true, null],"
    " \"fail_reason\": \"caf\xc3\xa9 \\u20ac \\ud83d\\ude00 \\\"q\\\"\\n\", \"sub_jobs\": []}";

/* Every proper prefix of a valid document is an error, flagged as truncated. */
static void test_truncated_prefixes(void **state)
{
    size_t len = strlen(sample), cut;

    (void)state;
    assert_int_equal(parse_n(sample, len, NULL), 0);
    for (cut = 0; cut < len; cut++) {
        struct json_doc *d = NOT_TOUCHED;
        struct json_error e = {NULL, 0, 0};
        char *copy = malloc(cut + 1); /* exact size: ASan catches a read past len */

        assert_non_null(copy);
        memcpy(copy, sample, cut);
        if (json_parse_diag(copy, cut, &d, &e) != -EINVAL)
            fail_msg("prefix of %zu bytes accepted", cut);
        assert_ptr_equal(d, NOT_TOUCHED);
        if (!e.truncated)
            fail_msg("prefix of %zu bytes not flagged truncated (%s)", cut, e.what);
        free(copy);
    }
}

static void test_diag(void **state)
{
    struct json_error e = {NULL, 0, 0};
    struct json_doc *d = NULL;

    (void)state;
    assert_int_equal(json_parse_diag("[1 2]", 5, &d, &e), -EINVAL);
    assert_int_equal(e.offset, 3);
    assert_string_equal(e.what, "expected ','");
    assert_false(e.truncated);
    assert_int_equal(json_parse_diag("{\"a\":1}x", 8, &d, &e), -EINVAL);
    assert_int_equal(e.offset, 7);
    assert_int_equal(json_parse_diag("[\"\\q\"]", 6, &d, &e), -EINVAL);
    assert_string_equal(e.what, "invalid JSON"); /* jsmn itself refuses bad escapes */
    assert_int_equal(json_parse_diag("[\"\x01\"]", 5, &d, &e), -EINVAL);
    assert_string_equal(e.what, "control character in string");
    assert_int_equal(e.offset, 2);
    assert_int_equal(json_parse_diag("[\"\xff\"]", 5, &d, &e), -EINVAL);
    assert_string_equal(e.what, "invalid UTF-8 in string");
    assert_int_equal(json_parse_diag("{\"a\":1", 6, &d, &e), -EINVAL);
    assert_true(e.truncated);
    assert_null(d);
    assert_int_equal(json_parse_diag("[1]", 3, &d, NULL), 0); /* why may be NULL */
    assert_non_null(d);
    json_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_literals),
        cmocka_unit_test(test_structure_errors),
        cmocka_unit_test(test_whitespace),
        cmocka_unit_test(test_nul_bytes),
        cmocka_unit_test(test_control_chars_in_strings),
        cmocka_unit_test(test_escape_syntax),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_string_decoding),
        cmocka_unit_test(test_string_decoding_rejects),
        cmocka_unit_test(test_string_cut_on_boundary),
        cmocka_unit_test(test_string_cut_then_invalid),
        cmocka_unit_test(test_string_bad_args),
        cmocka_unit_test(test_types_and_iteration),
        cmocka_unit_test(test_get),
        cmocka_unit_test(test_streq_and_suffix),
        cmocka_unit_test(test_long_key_suffix),
        cmocka_unit_test(test_number_values),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_cap_depth),
        cmocka_unit_test(test_cap_tokens),
        cmocka_unit_test(test_cap_string),
        cmocka_unit_test(test_cap_input),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_diag),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
