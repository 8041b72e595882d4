/*
 * test_timeutil: RFC 3339 parsing, Prometheus duration parsing/formatting, clocks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

#define SENTINEL -12345.0

/* Parse a NUL-terminated timestamp; returns the rc, value in *out. */
static int ts(const char *s, double *out)
{
    *out = SENTINEL;
    return time_parse_rfc3339(s, strlen(s), out);
}

static void assert_ts(const char *s, double want)
{
    double v;

    if (ts(s, &v) != 0)
        fail_msg("rejected valid timestamp \"%s\"", s);
    if (fabs(v - want) > 1e-6)
        fail_msg("\"%s\": got %.9f, want %.9f", s, v, want);
}

static void assert_ts_bad(const char *s)
{
    double v;

    if (ts(s, &v) != -EINVAL)
        fail_msg("accepted invalid timestamp \"%s\"", s);
    assert_true(v == SENTINEL); /* untouched */
}

static void test_rfc3339_api_examples(void **state)
{
    (void)state;
    assert_ts("2017-09-29T09:49:37.399Z", 1506678577.399);
    assert_ts("2017-09-29T09:50:03.272Z", 1506678603.272);
    assert_ts("2015-09-17T03:05:38.756Z", 1442459138.756);
    /* IAM token expiry: microseconds */
    assert_ts("2015-11-09T01:42:57.527363Z", 1447033377.527363);
    assert_ts("2017-09-29T09:49:37Z", 1506678577.0);
}

static void test_rfc3339_bounds(void **state)
{
    (void)state;
    assert_ts("1970-01-01T00:00:00Z", 0.0);
    assert_ts("1970-01-01T00:00:01Z", 1.0);
    assert_ts("9999-12-31T23:59:59Z", 253402300799.0);
    assert_ts("9999-12-31T23:59:59.999999999Z", 253402300799.999999999);
    assert_ts_bad("1969-12-31T23:59:59Z");
    assert_ts_bad("0000-01-01T00:00:00Z");
}

static void test_rfc3339_fraction(void **state)
{
    (void)state;
    assert_ts("2000-01-01T00:00:00.5Z", 946684800.5);
    assert_ts("2000-01-01T00:00:00.05Z", 946684800.05);
    assert_ts("2000-01-01T00:00:00.123456789Z", 946684800.123456789);
    assert_ts("2000-01-01T00:00:00.000000001Z", 946684800.000000001);
    assert_ts("2000-01-01T00:00:00.000Z", 946684800.0);
    assert_ts_bad("2000-01-01T00:00:00.1234567890Z"); /* 10 digits */
    assert_ts_bad("2000-01-01T00:00:00.Z");
    assert_ts_bad("2000-01-01T00:00:00.");
    assert_ts_bad("2000-01-01T00:00:00,5Z");
    assert_ts_bad("2000-01-01T00:00:00.-5Z");
    assert_ts_bad("2000-01-01T00:00:00.5.5Z");
}

static void test_rfc3339_separators_and_zones(void **state)
{
    (void)state;
    assert_ts("2000-01-01t00:00:00Z", 946684800.0);
    assert_ts("2000-01-01 00:00:00Z", 946684800.0);
    assert_ts("2000-01-01T00:00:00z", 946684800.0);
    assert_ts("2000-01-01T01:00:00+01:00", 946684800.0);
    assert_ts("1999-12-31T19:00:00-05:00", 946684800.0);
    assert_ts("2000-01-01T05:30:00.25+05:30", 946684800.25);
    assert_ts("2000-01-01T00:00:00+00:00", 946684800.0);
    assert_ts("2000-01-01T00:00:00-00:00", 946684800.0);
    assert_ts("2000-01-01T23:59:00+23:59", 946684800.0);
    assert_ts_bad("2000-01-01T00:00:00+24:00");
    assert_ts_bad("2000-01-01T00:00:00+01:60");
    assert_ts_bad("2000-01-01T00:00:00+0100");
    assert_ts_bad("2000-01-01T00:00:00+1:00");
    assert_ts_bad("2000-01-01T00:00:00+01");
    assert_ts_bad("2000-01-01T00:00:00+01:");
    assert_ts_bad("2000-01-01T00:00:00UTC");
    assert_ts_bad("2000-01-01T00:00:00"); /* zone is mandatory */
    assert_ts_bad("2000-01-01_00:00:00Z");
    assert_ts_bad("2000-01-01TT00:00:00Z");
    assert_ts_bad("2000-01-0100:00:00Z");
}

static void test_rfc3339_calendar_ranges(void **state)
{
    (void)state;
    assert_ts("2016-02-29T00:00:00Z", 1456704000.0);
    assert_ts("2000-02-29T00:00:00Z", 951782400.0); /* divisible by 400 */
    assert_ts("2400-02-29T00:00:00Z", 13574563200.0);
    assert_ts_bad("2017-02-29T00:00:00Z");
    assert_ts_bad("2100-02-29T00:00:00Z"); /* divisible by 100 */
    assert_ts_bad("2016-02-30T00:00:00Z");
    assert_ts_bad("2017-04-31T00:00:00Z");
    assert_ts_bad("2017-06-31T00:00:00Z");
    assert_ts_bad("2017-09-31T00:00:00Z");
    assert_ts_bad("2017-11-31T00:00:00Z");
    assert_ts("2017-12-31T00:00:00Z", 1514678400.0);
    assert_ts_bad("2017-12-32T00:00:00Z");
    assert_ts_bad("2017-00-10T00:00:00Z");
    assert_ts_bad("2017-13-10T00:00:00Z");
    assert_ts_bad("2017-01-00T00:00:00Z");
    assert_ts_bad("2017-01-01T24:00:00Z");
    assert_ts_bad("2017-01-01T00:60:00Z");
    assert_ts_bad("2016-12-31T23:59:60Z"); /* a real leap second: still rejected */
    assert_ts_bad("2017-01-01T00:00:99Z");
}

static void test_rfc3339_malformed(void **state)
{
    static const char *const bad[] = {
        "",
        "Z",
        "2017",
        "2017-09-29",
        "2017-09-29T",
        "2017-09-29T09:49",
        "2017-09-29T09:49Z",
        "2017-09-29T09:49:37.399Z ",
        " 2017-09-29T09:49:37.399Z",
        "2017-09-29T09:49:37.399Zjunk",
        "2017-09-29T09:49:37.399ZZ",
        "+2017-09-29T09:49:37Z",
        "-2017-09-29T09:49:37Z",
        "2017-+9-29T09:49:37Z",
        "2017-09--9T09:49:37Z",
        "2017-09-29T+9:49:37Z",
        "2017-09-29T09:-9:37Z",
        "2017-09-29T09:49:+7Z",
        "2017-9-29T09:49:37Z",
        "2017-09-9T09:49:37Z",
        "17-09-29T09:49:37Z",
        "20170-09-29T09:49:37Z",
        "2017/09/29T09:49:37Z",
        "2017-09-29T09.49.37Z",
        "2017-09-29T9:49:37Z",
        "2017-09-29T09:49:3Z",
        "２017-09-29T09:49:37Z",
        "null",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_ts_bad(bad[i]);
}

/* len is honoured exactly: no reliance on a NUL, no reading past len. */
static void test_rfc3339_length_exact(void **state)
{
    const char *s = "2017-09-29T09:49:37.399Zgarbage";
    char nul[] = "2017-09-29T09:49:37Z\0";
    double v = SENTINEL;

    (void)state;
    assert_int_equal(time_parse_rfc3339(s, 24, &v), 0);
    assert_true(fabs(v - 1506678577.399) < 1e-6);
    v = SENTINEL;
    assert_int_equal(time_parse_rfc3339(s, 23, &v), -EINVAL); /* zone cut off */
    assert_true(v == SENTINEL);
    assert_int_equal(time_parse_rfc3339(s, 25, &v), -EINVAL);
    assert_int_equal(time_parse_rfc3339(nul, sizeof(nul) - 1, &v), -EINVAL); /* embedded NUL */
    assert_int_equal(time_parse_rfc3339(s, 0, &v), -EINVAL);
    assert_int_equal(time_parse_rfc3339(NULL, 0, &v), -EINVAL);
    assert_true(v == SENTINEL);
}

/* Every 13th day of 1970..2400, at a varying time, against the C library's timegm as oracle. */
static void test_rfc3339_matches_timegm(void **state)
{
    time_t t;
    char buf[64];
    double v;
    int checked = 0;

    (void)state;
    for (t = 0; t < (time_t)13574563200; t += 13 * 86400 + 3671) {
        struct tm tm;

        assert_non_null(gmtime_r(&t, &tm));
        snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
        assert_int_equal(time_parse_rfc3339(buf, strlen(buf), &v), 0);
        if (v != (double)timegm(&tm))
            fail_msg("%s: got %.0f, timegm says %lld", buf, v, (long long)timegm(&tm));
        checked++;
    }
    assert_true(checked > 10000);
}

/* Parse a duration; *out starts as a sentinel. */
static int dur(const char *s, uint64_t *out)
{
    *out = 0xdeadbeef;
    return duration_parse(s, out);
}

static void assert_dur(const char *s, uint64_t want)
{
    uint64_t v;
    int rc = dur(s, &v);

    if (rc != 0)
        fail_msg("rejected valid duration \"%s\" (%d)", s, rc);
    if (v != want)
        fail_msg("\"%s\": got %llu ms, want %llu", s, (unsigned long long)v,
                 (unsigned long long)want);
}

static void assert_dur_rc(const char *s, int want_rc)
{
    uint64_t v;
    int rc = dur(s, &v);

    if (rc != want_rc)
        fail_msg("\"%s\": rc %d, want %d", s, rc, want_rc);
    assert_true(v == 0xdeadbeef); /* untouched */
}

#define SEC 1000ull
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static void test_duration_valid(void **state)
{
    (void)state;
    assert_dur("0", 0);
    assert_dur("0s", 0);
    assert_dur("0ms", 0);
    assert_dur("500ms", 500);
    assert_dur("15s", 15 * SEC);
    assert_dur("10s", 10 * SEC);
    assert_dur("2m", 2 * MIN);
    assert_dur("24h", 24 * HOUR);
    assert_dur("1h30m", HOUR + 30 * MIN);
    assert_dur("1d", DAY);
    assert_dur("1w", 7 * DAY);
    assert_dur("1y", 365 * DAY);
    assert_dur("1y2w3d4h5m6s7ms",
               365 * DAY + 14 * DAY + 3 * DAY + 4 * HOUR + 5 * MIN + 6 * SEC + 7);
    assert_dur("90d", 90 * DAY);
    assert_dur("1m1ms", MIN + 1);
    assert_dur("1h1s", HOUR + SEC);
    assert_dur("015s", 15 * SEC);
    assert_dur("1500ms", 1500);
    assert_dur("9223372036854775807ms", 9223372036854775807ull);
    assert_dur("292471208y", 292471208ull * 365 * DAY);
}

static void test_duration_invalid(void **state)
{
    static const char *const bad[] = {
        "",     "5",    "00",     "1.5s", "-1s",  "+1s",   "1s1h", "1h1h",   "1m1m",  "1ms1s",
        "1x",   "s",    "ms",     " 1s",  "1s ",  "1S",    "1H",   "1msms",  "1h 1m", "1hm",
        "1mss", "1ss",  "1s1ms1", "h1",   "1e3s", "0x10s", "1,5s", "1_000s", "1d1w",  "1m1h",
        "1s1m", "1h1d", "1d1y",   "1w1y", "0s0",  "1 s",   "∞s",   "1µs",    "1us",   "1ns",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_dur_rc(bad[i], -EINVAL);
    {
        uint64_t v = 77;

        assert_int_equal(duration_parse(NULL, &v), -EINVAL);
        assert_int_equal(v, 77);
    }
}

static void test_duration_overflow(void **state)
{
    (void)state;
    assert_dur_rc("9223372036854775808ms", -ERANGE);
    assert_dur_rc("18446744073709551616ms", -ERANGE);
    assert_dur_rc("99999999999999999999999999s", -ERANGE);
    assert_dur_rc("292471209y", -ERANGE);
    assert_dur_rc("9223372036854776s", -ERANGE);
    assert_dur_rc("292471208y1000w", -ERANGE); /* each part fits, the sum does not */
    assert_dur_rc("9223372036854775ms9223372036854775807ms", -EINVAL); /* repeated unit */
}

static void assert_fmt(uint64_t ms, const char *want)
{
    char buf[64];

    memset(buf, 'X', sizeof(buf));
    duration_format(ms, buf, sizeof(buf));
    if (strcmp(buf, want) != 0)
        fail_msg("%llu ms: got \"%s\", want \"%s\"", (unsigned long long)ms, buf, want);
}

static void test_duration_format(void **state)
{
    (void)state;
    assert_fmt(0, "0s");
    assert_fmt(1, "1ms");
    assert_fmt(500, "500ms");
    assert_fmt(SEC, "1s");
    assert_fmt(1500, "1s500ms");
    assert_fmt(15 * SEC, "15s");
    assert_fmt(MIN, "1m");
    assert_fmt(MIN + SEC, "1m1s");
    assert_fmt(HOUR + 30 * MIN, "1h30m");
    assert_fmt(HOUR + 1, "1h1ms");
    assert_fmt(24 * HOUR, "1d");
    assert_fmt(7 * DAY, "1w");
    assert_fmt(14 * DAY, "2w");
    assert_fmt(90 * DAY, "90d"); /* not 12w6d: weeks only when exact */
    assert_fmt(365 * DAY, "1y");
    assert_fmt(366 * DAY, "366d");
    assert_fmt(365 * DAY + 1, "365d1ms");
    assert_fmt(730 * DAY, "2y");
    assert_fmt(8 * DAY + HOUR, "8d1h");
    assert_fmt(9223372036854775807ull, "106751991167d7h12m55s807ms");
}

static void test_duration_format_roundtrip(void **state)
{
    static const uint64_t vals[] = {
        0,
        1,
        999,
        1000,
        1001,
        59999,
        60000,
        3599999,
        3600000,
        86399999,
        86400000,
        604800000,
        31536000000ull,
        31536000001ull,
        12345678901234ull,
        9223372036854775807ull,
    };
    char buf[64];
    size_t i;
    uint64_t back;

    (void)state;
    for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        duration_format(vals[i], buf, sizeof(buf));
        assert_int_equal(duration_parse(buf, &back), 0);
        assert_true(back == vals[i]);
    }
}

static void test_duration_format_small_buffer(void **state)
{
    char buf[8];

    (void)state;
    memset(buf, 'X', sizeof(buf));
    duration_format(HOUR + 30 * MIN, buf, 3);
    assert_string_equal(buf, "1h"); /* the next unit did not fit: cut, NUL-terminated */
    assert_int_equal(buf[3], 'X');  /* nothing written past len */
    memset(buf, 'X', sizeof(buf));
    duration_format(500, buf, 1);
    assert_string_equal(buf, "");
    assert_int_equal(buf[1], 'X');
    memset(buf, 'X', sizeof(buf));
    duration_format(500, buf, 0); /* no room at all: untouched */
    assert_int_equal(buf[0], 'X');
    duration_format(500, NULL, 0);
}

static void test_clocks(void **state)
{
    double now = time_now();
    time_t wall = time(NULL);
    uint64_t a, b;
    int i;

    (void)state;
    assert_true(fabs(now - (double)wall) < 2.0);
    assert_true(now > 1.6e9);
    a = time_mono_ms();
    for (i = 0; i < 1000; i++) {
        b = time_mono_ms();
        assert_true(b >= a);
        a = b;
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339_api_examples),
        cmocka_unit_test(test_rfc3339_bounds),
        cmocka_unit_test(test_rfc3339_fraction),
        cmocka_unit_test(test_rfc3339_separators_and_zones),
        cmocka_unit_test(test_rfc3339_calendar_ranges),
        cmocka_unit_test(test_rfc3339_malformed),
        cmocka_unit_test(test_rfc3339_length_exact),
        cmocka_unit_test(test_rfc3339_matches_timegm),
        cmocka_unit_test(test_duration_valid),
        cmocka_unit_test(test_duration_invalid),
        cmocka_unit_test(test_duration_overflow),
        cmocka_unit_test(test_duration_format),
        cmocka_unit_test(test_duration_format_roundtrip),
        cmocka_unit_test(test_duration_format_small_buffer),
        cmocka_unit_test(test_clocks),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
