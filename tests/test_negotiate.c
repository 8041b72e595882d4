/*
 * test_negotiate: content negotiation for /metrics (src/negotiate.c).
 *
 * The Accept and Accept-Encoding values real scrapers send, byte for byte
 * (Prometheus 2.42 as Debian 12 ships it, with and without native histograms;
 * 2.49 to 2.55; 3.x with and without escaping on every range, and with the
 * text formats preferred; curl, browsers), then q-value rules (the most
 * specific range decides, q=0 refuses, ties), then hostile and malformed
 * headers, which always get text 0.0.4 and identity.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negotiate.h"

/* Exactly what /usr/bin/prometheus 2.42.0 (Debian 12) sends. */
#define PROM_2_42                                                                                  \
    "application/openmetrics-text;version=1.0.0,application/"                                      \
    "openmetrics-text;version=0.0.1;q=0.75,"                                                       \
    "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
#define PROM_2_42_PROTO                                                                            \
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,"  \
    "application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;version=0.0.1;" \
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
/* scrape.go acceptHeader() with four protocols known (2.49 to 2.55). */
#define PROM_2_49                                                                                  \
    "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;" \
    "q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
/* 3.x defaults: escaping on the 1.0.0 ranges only, and (3.3) on every range. */
#define PROM_3                                                                                     \
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/"           \
    "openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"    \
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
#define PROM_3_3                                                                                   \
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/"           \
    "openmetrics-text;version=0.0.1;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=" \
    "allow-utf-8;q=0.4,text/plain;version=0.0.4;escaping=allow-utf-8;q=0.3,*/*;q=0.2"
/* 3.x with scrape_protocols putting the text formats first. */
#define PROM_3_TEXT_FIRST                                                                          \
    "text/plain;version=1.0.0;escaping=allow-utf-8;q=0.6,text/plain;version=0.0.4;q=0.5,"          \
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.4,*/*;q=0.3"
#define BROWSER                                                                                    \
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"

#define TEXT NEGOTIATE_TEXT_0_0_4
#define OM NEGOTIATE_OPENMETRICS_1_0_0
#define OM001 NEGOTIATE_OPENMETRICS_0_0_1

static void expect_format_at(const char *accept, enum negotiate_format want, int want_malformed,
                             int line)
{
    int malformed = -1;
    enum negotiate_format got = negotiate_format(accept, &malformed);

    if (got != want || malformed != want_malformed)
        fail_msg("line %d: Accept \"%s\": format %d malformed %d, want %d and %d", line,
                 accept ? accept : "(none)", (int)got, malformed, (int)want, want_malformed);
    /* the result does not depend on whether the caller asks about malformation */
    assert_int_equal(negotiate_format(accept, NULL), want);
}
#define expect_format(a, want) expect_format_at(a, want, 0, __LINE__)
#define expect_malformed(a) expect_format_at(a, TEXT, 1, __LINE__)

static void expect_encoding_at(const char *ae, enum negotiate_encoding want, int want_malformed,
                               int line)
{
    int malformed = -1;
    enum negotiate_encoding got = negotiate_encoding(ae, &malformed);

    if (got != want || malformed != want_malformed)
        fail_msg("line %d: Accept-Encoding \"%s\": %d malformed %d, want %d and %d", line,
                 ae ? ae : "(none)", (int)got, malformed, (int)want, want_malformed);
    assert_int_equal(negotiate_encoding(ae, NULL), want);
}
#define expect_encoding(a, want) expect_encoding_at(a, want, 0, __LINE__)
#define expect_encoding_malformed(a) expect_encoding_at(a, NEGOTIATE_IDENTITY, 1, __LINE__)

/* ------------------------------------------------------------- real clients */

static void real_scrapers(void **state)
{
    (void)state;
    expect_format(PROM_2_42, OM);
    expect_format(PROM_2_42_PROTO, OM);
    expect_format(PROM_2_49, OM);
    expect_format(PROM_3, OM);
    expect_format(PROM_3_3, OM);
    /* the client prefers text 0.0.4 to OpenMetrics; text 1.0.0, which it likes best, we lack */
    expect_format(PROM_3_TEXT_FIRST, TEXT);
    /* scrape_protocols: [PrometheusText0.0.4] */
    expect_format("text/plain;version=0.0.4;q=0.6,*/*;q=0.5", TEXT);
    /* scrape_protocols: [OpenMetricsText0.0.1] */
    expect_format("application/openmetrics-text;version=0.0.1;q=0.6,*/*;q=0.5", OM001);
    /* curl, wget, a browser, no header at all */
    expect_format("*/*", TEXT);
    expect_format(BROWSER, TEXT);
    expect_format(NULL, TEXT);
    expect_format("", TEXT);

    expect_encoding("gzip", NEGOTIATE_GZIP); /* every Prometheus */
    expect_encoding("gzip, deflate, br", NEGOTIATE_GZIP);
    expect_encoding("gzip, deflate, br, zstd", NEGOTIATE_GZIP);
    expect_encoding("deflate, gzip", NEGOTIATE_GZIP);
    expect_encoding("identity", NEGOTIATE_IDENTITY); /* enable_compression: false */
    expect_encoding(NULL, NEGOTIATE_IDENTITY);
    expect_encoding("", NEGOTIATE_IDENTITY); /* RFC 9110: no coding wanted */
}

static void content_types(void **state)
{
    (void)state;
    assert_string_equal(negotiate_content_type(TEXT), "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(negotiate_content_type(OM),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_string_equal(negotiate_content_type(OM001),
                        "application/openmetrics-text; version=0.0.1; charset=utf-8");
    assert_string_equal(negotiate_content_type((enum negotiate_format)99),
                        "text/plain; version=0.0.4; charset=utf-8");
    assert_false(negotiate_is_openmetrics(TEXT));
    assert_true(negotiate_is_openmetrics(OM));
    assert_true(negotiate_is_openmetrics(OM001));
}

/* ------------------------------------------------------------ q-value rules */

static void versions_and_wildcards(void **state)
{
    (void)state;
    expect_format("application/openmetrics-text", OM); /* no version: the newest we have */
    expect_format("application/openmetrics-text;version=1.0.0", OM);
    expect_format("application/openmetrics-text;version=0.0.1", OM001);
    expect_format("application/openmetrics-text; version=\"1.0.0\"", OM);  /* quoted */
    expect_format("application/openmetrics-text;version=\"1.0\\.0\"", OM); /* quoted-pair */
    expect_format("application/openmetrics-text;version=2.0.0", TEXT);     /* unknown: not chosen */
    expect_format("application/openmetrics-text;version=1.0.0.0", TEXT);
    expect_format("text/plain;version=1.0.0", TEXT); /* not ours; text is the fallback */
    expect_format("text/plain", TEXT);
    expect_format("text/plain;version=0.0.4", TEXT);
    expect_format("text/plain; charset=utf-8", TEXT);
    expect_format("text/*", TEXT);
    expect_format("application/*", OM);
    expect_format("application/json", TEXT);
    expect_format("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;"
                  "encoding=delimited",
                  TEXT);
    /* a version far longer than any we know matches none of them */
    expect_format("application/openmetrics-text;version=1.0.0000000000000000000000000000000000000",
                  TEXT);
    /* parameters after q are accept-ext: version there does not narrow the range */
    expect_format("application/openmetrics-text;q=0.9;version=9.9.9", OM);
    expect_format("application/openmetrics-text;q=0.9;q=1.5", OM); /* so is a second q */
    /* case does not matter for types and parameter names */
    expect_format("APPLICATION/OpenMetrics-Text; VERSION=1.0.0; Q=0.9, text/plain;q=0.5", OM);
}

static void q_values(void **state)
{
    (void)state;
    /* the most specific range decides, also when it gives a lower q */
    expect_format("*/*, application/openmetrics-text", OM);
    expect_format("text/plain;q=0, */*", OM);
    expect_format("application/openmetrics-text;q=0, */*", TEXT);
    expect_format("application/openmetrics-text;version=1.0.0;q=0, application/openmetrics-text;"
                  "q=0.5",
                  OM001);
    expect_format("application/*;q=0.2, text/*;q=0.3", TEXT);
    expect_format("application/*;q=0.4, text/*;q=0.3", OM);
    expect_format("text/plain;q=0.5, application/openmetrics-text;q=0.501", OM);
    expect_format("text/plain;q=0.501, application/openmetrics-text;q=0.5", TEXT);
    expect_format("text/plain;q=1.000, application/openmetrics-text;q=0.999", TEXT);
    expect_format("application/openmetrics-text;q=0.001", OM);
    /* equal q: the more specific, then the one written first */
    expect_format("text/*, application/openmetrics-text", OM);
    expect_format("application/openmetrics-text, text/plain", OM);
    expect_format("text/plain, application/openmetrics-text", TEXT);
    expect_format("text/plain;q=0.5, application/openmetrics-text;q=0.5", TEXT);
    expect_format("application/openmetrics-text;q=0.5, text/plain;q=0.5", OM);
    /* the first of two equally specific ranges counts */
    expect_format("application/openmetrics-text;q=0, application/openmetrics-text;q=1", TEXT);
    /* nothing acceptable: text anyway, never 406 */
    expect_format("text/plain;q=0", TEXT);
    expect_format("text/plain;q=0, application/openmetrics-text;q=0", TEXT);
    expect_format("*/*;q=0", TEXT);
    expect_format("image/png", TEXT);
}

static void list_syntax(void **state)
{
    (void)state;
    expect_format(" application/openmetrics-text ; version=1.0.0 ;q=1 ,\ttext/plain;q=0.5 ", OM);
    expect_format(",,application/openmetrics-text,,", OM); /* empty elements are allowed */
    expect_format(" , ", TEXT);
    expect_format("application/openmetrics-text;;version=1.0.0", OM); /* an empty parameter */
    expect_format("application/openmetrics-text;", OM);
}

static void malformed_accept(void **state)
{
    static const char *const bad[] = {
        "application/openmetrics-text;q=1.5",
        "application/openmetrics-text;q=2",
        "application/openmetrics-text;q=0.5000",
        "application/openmetrics-text;q=.5",
        "application/openmetrics-text;q=",
        "application/openmetrics-text;q=abc",
        "application/openmetrics-text;q=-0",
        "application/openmetrics-text;q=1.001",
        "application/openmetrics-text;q=0.5x",
        "application/openmetrics-text;version = 1.0.0",
        "application/openmetrics-text;version",
        "application/openmetrics-text;=1.0.0",
        "application/openmetrics-text;version=",
        "application/openmetrics-text;version=\"1.0.0",
        "application/openmetrics-text;version=\"1.0.0\\",
        "application/openmetrics-text;version=1.0.0 garbage",
        "application/openmetrics-text garbage",
        "application",
        "application/",
        "/openmetrics-text",
        "*/openmetrics-text",
        "text/plain/extra",
        ";q=1",
        "t\xc3\xa9xt/plain",
        "text/plain\x01",
        "text/plain\r\nX-Injected: 1",
        "application/openmetrics-text;version=1.0.0,garbage", /* one bad element spoils all */
        "garbage,application/openmetrics-text;version=1.0.0", /* in either place */
        "{}/{}",
        "\"text/plain\"",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_malformed(bad[i]);
}

/* Long and many: a header at the cap still parses; one byte more is malformed. */
static void hostile_sizes(void **state)
{
    const char *unit = "application/openmetrics-text;version=1.0.0;q=0.1,";
    size_t ul = strlen(unit), n;
    char *h = malloc(NEGOTIATE_HEADER_MAX + 2);

    (void)state;
    assert_non_null(h);
    for (n = 0; n + ul <= NEGOTIATE_HEADER_MAX; n += ul)
        memcpy(h + n, unit, ul);
    memset(h + n, ',', NEGOTIATE_HEADER_MAX - n); /* pad with empty elements to the cap exactly */
    h[NEGOTIATE_HEADER_MAX] = '\0';
    expect_format(h, OM);
    h[NEGOTIATE_HEADER_MAX] = ',';
    h[NEGOTIATE_HEADER_MAX + 1] = '\0';
    expect_malformed(h);

    memset(h, ',', NEGOTIATE_HEADER_MAX);
    h[NEGOTIATE_HEADER_MAX] = '\0';
    expect_format(h, TEXT);
    expect_encoding(h, NEGOTIATE_IDENTITY);

    /* a parameter value far over the comparison buffer, quoted and as a token */
    memset(h, 'a', NEGOTIATE_HEADER_MAX);
    memcpy(h, "application/openmetrics-text;x=\"", 32);
    h[NEGOTIATE_HEADER_MAX - 1] = '"';
    h[NEGOTIATE_HEADER_MAX] = '\0';
    expect_format(h, OM);
    memcpy(h, "application/openmetrics-text;q=0", 32);
    expect_malformed(h);
    free(h);
}

/* ------------------------------------------------------------ Accept-Encoding */

static void encodings(void **state)
{
    (void)state;
    expect_encoding("gzip;q=0", NEGOTIATE_IDENTITY);
    expect_encoding("gzip;q=0.5, identity", NEGOTIATE_IDENTITY);
    expect_encoding("gzip, identity;q=0.5", NEGOTIATE_GZIP);
    expect_encoding("gzip;q=0.5, identity;q=0.5", NEGOTIATE_GZIP); /* a tie: the cheaper bytes */
    expect_encoding("*", NEGOTIATE_GZIP);
    expect_encoding("*;q=0.5", NEGOTIATE_GZIP);
    expect_encoding("*;q=0", NEGOTIATE_IDENTITY); /* nothing acceptable: identity anyway */
    expect_encoding("identity;q=0", NEGOTIATE_IDENTITY);
    expect_encoding("identity;q=0, *", NEGOTIATE_GZIP);
    expect_encoding("gzip;q=0, *", NEGOTIATE_IDENTITY); /* the explicit entry wins over "*" */
    expect_encoding("gzip;q=0.5, *;q=0.8", NEGOTIATE_IDENTITY); /* identity gets "*"'s 0.8 */
    expect_encoding("x-gzip", NEGOTIATE_GZIP);
    expect_encoding("GZIP", NEGOTIATE_GZIP);
    expect_encoding("Gzip;Q=1", NEGOTIATE_GZIP);
    expect_encoding("br;q=1, gzip;q=0.8", NEGOTIATE_GZIP); /* identity unlisted ranks last */
    expect_encoding("gzip;q=0.001", NEGOTIATE_GZIP);
    expect_encoding("deflate", NEGOTIATE_IDENTITY);
    expect_encoding("br, zstd", NEGOTIATE_IDENTITY);
    expect_encoding("gzip;q=0, gzip", NEGOTIATE_IDENTITY); /* the first entry of a coding counts */
    expect_encoding(" ,gzip , ", NEGOTIATE_GZIP);
    expect_encoding("gzip ; q=0.001", NEGOTIATE_GZIP);
}

static void malformed_encoding(void **state)
{
    static const char *const bad[] = {
        "gzip;q=1.5",  "gzip;q=",  "gzip;level=9",  "gzip;", "gzip;q=0.5;q=0.6", "gzip garbage",
        "gz\xc3\xadp", "gzip\x01", "gzip;q=\"1\"x", ";q=1",  "gzip, ;q=1",       "gzip/x",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        expect_encoding_malformed(bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_scrapers),
        cmocka_unit_test(content_types),
        cmocka_unit_test(versions_and_wildcards),
        cmocka_unit_test(q_values),
        cmocka_unit_test(list_syntax),
        cmocka_unit_test(malformed_accept),
        cmocka_unit_test(hostile_sizes),
        cmocka_unit_test(encodings),
        cmocka_unit_test(malformed_encoding),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
