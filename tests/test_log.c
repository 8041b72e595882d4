/*
 * test_log: the log module's line formats, escaping, cutting, level filtering,
 * UTC timestamps, one write(2) per line and thread safety.
 *
 * Lines are captured through log_set_fd on an AF_UNIX SOCK_SEQPACKET socket:
 * every write(2) arrives as one packet, so "one recv = one line" proves that a
 * line was written with a single write. The thread test uses a pipe with lines
 * larger than PIPE_BUF, where only the module's lock keeps lines whole.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#define CAP_MAX (64 * 1024) /* bytes of one captured packet (longest line is ~25 KiB) */
#define TS_LEN 24           /* "2026-11-28T17:00:00.123Z" */

/* A capture: log lines go to wfd, the test reads them from rfd. */
struct cap {
    int rfd, wfd;
    char buf[CAP_MAX + 1];
    long long before_ms; /* wall clock (ms) when the capture started */
};

static long long now_ms(void)
{
    struct timespec ts;

    assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct cap *cap_open(enum log_level level, enum log_format format)
{
    struct cap *c = calloc(1, sizeof(*c));
    int sv[2];

    assert_non_null(c);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    c->rfd = sv[0];
    c->wfd = sv[1];
    log_set_fd(c->wfd);
    log_setup(level, format);
    c->before_ms = now_ms();
    return c;
}

static void cap_close(struct cap *c)
{
    log_set_fd(2);
    log_setup(LOGL_INFO, LOGF_LOGFMT);
    close(c->rfd);
    close(c->wfd);
    free(c);
}

/* The next line (one packet), NUL-terminated in c->buf; NULL if nothing was written. */
static const char *cap_next(struct cap *c, size_t *len)
{
    ssize_t n = recv(c->rfd, c->buf, CAP_MAX, MSG_TRUNC);

    if (n < 0) {
        assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
        return NULL;
    }
    assert_true(n <= CAP_MAX); /* the packet was not bigger than the buffer */
    c->buf[n] = '\0';
    if (len)
        *len = (size_t)n;
    return c->buf;
}

static int two_digits(const char *p, int *out)
{
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
        return -1;
    *out = (p[0] - '0') * 10 + (p[1] - '0');
    return 0;
}

/* Check "YYYY-MM-DDTHH:MM:SS.mmmZ" and that it lies between before_ms and now. */
static void check_ts(const char *ts, long long before_ms)
{
    struct tm tm;
    int hi = 0, lo = 0, ms0 = 0, ms1;
    long long t, after_ms = now_ms();

    memset(&tm, 0, sizeof(tm));
    assert_int_equal(ts[4], '-');
    assert_int_equal(ts[7], '-');
    assert_int_equal(ts[10], 'T');
    assert_int_equal(ts[13], ':');
    assert_int_equal(ts[16], ':');
    assert_int_equal(ts[19], '.');
    assert_int_equal(ts[23], 'Z');
    assert_int_equal(two_digits(ts, &hi), 0);
    assert_int_equal(two_digits(ts + 2, &lo), 0);
    tm.tm_year = hi * 100 + lo - 1900;
    assert_int_equal(two_digits(ts + 5, &tm.tm_mon), 0);
    tm.tm_mon--;
    assert_int_equal(two_digits(ts + 8, &tm.tm_mday), 0);
    assert_int_equal(two_digits(ts + 11, &tm.tm_hour), 0);
    assert_int_equal(two_digits(ts + 14, &tm.tm_min), 0);
    assert_int_equal(two_digits(ts + 17, &tm.tm_sec), 0);
    assert_int_equal(two_digits(ts + 20, &ms0), 0);
    assert_true(ts[22] >= '0' && ts[22] <= '9');
    ms1 = ms0 * 10 + (ts[22] - '0');
    t = (long long)timegm(&tm) * 1000 + ms1;
    assert_true(t >= before_ms);
    assert_true(t <= after_ms);
}

/* Check a logfmt line and return a pointer to its escaped message (ended by "\"\n"). */
static const char *check_logfmt(struct cap *c, const char *line, size_t len, const char *level,
                                size_t *msg_len)
{
    char want[64];
    size_t wl;

    assert_true(len > 3 + TS_LEN);
    assert_memory_equal(line, "ts=", 3);
    check_ts(line + 3, c->before_ms);
    wl = (size_t)snprintf(want, sizeof(want), " level=%s msg=\"", level);
    assert_memory_equal(line + 3 + TS_LEN, want, wl);
    assert_true(len >= 3 + TS_LEN + wl + 2);
    assert_memory_equal(line + len - 2, "\"\n", 2);
    assert_null(memchr(line, '\n', len - 1)); /* one line */
    *msg_len = len - (3 + TS_LEN + wl) - 2;
    return line + 3 + TS_LEN + wl;
}

/* Check a JSON line and return a pointer to its escaped message (ended by "\"}\n"). */
static const char *check_json(struct cap *c, const char *line, size_t len, const char *level,
                              size_t *msg_len)
{
    char want[64];
    size_t wl;

    assert_true(len > 7 + TS_LEN);
    assert_memory_equal(line, "{\"ts\":\"", 7);
    check_ts(line + 7, c->before_ms);
    wl = (size_t)snprintf(want, sizeof(want), "\",\"level\":\"%s\",\"msg\":\"", level);
    assert_memory_equal(line + 7 + TS_LEN, want, wl);
    assert_true(len >= 7 + TS_LEN + wl + 3);
    assert_memory_equal(line + len - 3, "\"}\n", 3);
    assert_null(memchr(line, '\n', len - 1));
    *msg_len = len - (7 + TS_LEN + wl) - 3;
    return line + 7 + TS_LEN + wl;
}

/* The next line must be logfmt at level with exactly this escaped message. */
static void expect_logfmt(struct cap *c, const char *level, const char *msg)
{
    size_t len = 0, ml;
    const char *line = cap_next(c, &len), *m;

    assert_non_null(line);
    m = check_logfmt(c, line, len, level, &ml);
    assert_int_equal(ml, strlen(msg));
    assert_memory_equal(m, msg, ml);
}

static void expect_json(struct cap *c, const char *level, const char *msg)
{
    size_t len = 0, ml;
    const char *line = cap_next(c, &len), *m;

    assert_non_null(line);
    m = check_json(c, line, len, level, &ml);
    assert_int_equal(ml, strlen(msg));
    assert_memory_equal(m, msg, ml);
}

static void expect_nothing(struct cap *c)
{
    assert_null(cap_next(c, NULL));
}

/* Runs first: with no setup at all, lines go to fd 2 at info and above, as logfmt. */
static void test_defaults_stderr_info_logfmt(void **state)
{
    struct cap *c = calloc(1, sizeof(*c));
    int sv[2], saved;

    (void)state;
    assert_non_null(c);
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    assert_int_equal(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
    c->rfd = sv[0];
    c->wfd = sv[1];
    c->before_ms = now_ms();
    saved = dup(2);
    assert_true(saved >= 0);
    assert_int_equal(dup2(c->wfd, 2), 2);
    assert_false(log_enabled(LOGL_DEBUG));
    assert_true(log_enabled(LOGL_INFO));
    log_debug("hidden");
    log_info("to stderr");
    assert_int_equal(dup2(saved, 2), 2);
    close(saved);
    expect_logfmt(c, "info", "to stderr");
    expect_nothing(c);
    cap_close(c);
}

static void test_level_parse(void **state)
{
    static const char *const good[] = {"debug", "info", "warn", "error"};
    static const char *const bad[] = {"",      "INFO",  "Info",  "warning", "err",
                                      "info ", " info", "fatal", "debugx"};
    enum log_level lv;
    size_t i;

    (void)state;
    for (i = 0; i < 4; i++) {
        lv = (enum log_level)99;
        assert_int_equal(log_level_parse(good[i], &lv), 0);
        assert_int_equal(lv, (enum log_level)i);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        lv = LOGL_WARN;
        assert_int_equal(log_level_parse(bad[i], &lv), -EINVAL);
        assert_int_equal(lv, LOGL_WARN); /* untouched */
    }
    lv = LOGL_WARN;
    assert_int_equal(log_level_parse(NULL, &lv), -EINVAL);
    assert_int_equal(lv, LOGL_WARN);
}

static void test_format_parse(void **state)
{
    static const char *const bad[] = {"", "JSON", "text", "logfmt ", "jsonl", "log"};
    enum log_format f;
    size_t i;

    (void)state;
    f = LOGF_JSON;
    assert_int_equal(log_format_parse("logfmt", &f), 0);
    assert_int_equal(f, LOGF_LOGFMT);
    assert_int_equal(log_format_parse("json", &f), 0);
    assert_int_equal(f, LOGF_JSON);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        f = LOGF_JSON;
        assert_int_equal(log_format_parse(bad[i], &f), -EINVAL);
        assert_int_equal(f, LOGF_JSON);
    }
    assert_int_equal(log_format_parse(NULL, &f), -EINVAL);
}

static void test_logfmt_line(void **state)
{
    struct cap *c = cap_open(LOGL_DEBUG, LOGF_LOGFMT);

    (void)state;
    log_info("job %s: HTTP %d", "ff80", 503);
    expect_logfmt(c, "info", "job ff80: HTTP 503");
    log_debug("d");
    expect_logfmt(c, "debug", "d");
    log_warn("w");
    expect_logfmt(c, "warn", "w");
    log_error("e");
    expect_logfmt(c, "error", "e");
    log_info("%s", "");
    expect_logfmt(c, "info", "");
    expect_nothing(c);
    cap_close(c);
}

static void test_json_line(void **state)
{
    struct cap *c = cap_open(LOGL_DEBUG, LOGF_JSON);

    (void)state;
    log_warn("job %s: HTTP %d", "ff80", 503);
    expect_json(c, "warn", "job ff80: HTTP 503");
    log_debug("d");
    expect_json(c, "debug", "d");
    log_info("i");
    expect_json(c, "info", "i");
    log_error("%s", "");
    expect_json(c, "error", "");
    expect_nothing(c);
    cap_close(c);
}

/* The same escaping applies to both formats; check it in both. */
static const struct {
    const char *in, *out;
} escapes[] = {
    {"say \"hi\"", "say \\\"hi\\\""},
    {"C:\\dir\\", "C:\\\\dir\\\\"},
    {"a\nb\r\nc\td", "a\\nb\\r\\nc\\td"},
    {"bell\x07 esc\x1b us\x1f del\x7f", "bell\\u0007 esc\\u001b us\\u001f del\\u007f"},
    {"\x01\x02\x08\x0b\x0c", "\\u0001\\u0002\\u0008\\u000b\\u000c"},
    {"key=value level=error msg=x", "key=value level=error msg=x"},
    {"{\"json\":[1,2]}", "{\\\"json\\\":[1,2]}"},
    {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"},
    {"max \xf4\x8f\xbf\xbf ok", "max \xf4\x8f\xbf\xbf ok"},
    {"bad \xff byte", "bad \\ufffd byte"},
    {"lone \x80 cont", "lone \\ufffd cont"},
    {"cut \xc3", "cut \\ufffd"},
    {"cut3 \xe2\x82", "cut3 \\ufffd\\ufffd"},
    {"overlong \xc0\xaf", "overlong \\ufffd\\ufffd"},
    {"overlong3 \xe0\x80\xaf", "overlong3 \\ufffd\\ufffd\\ufffd"},
    {"surrogate \xed\xa0\x80", "surrogate \\ufffd\\ufffd\\ufffd"},
    {"too big \xf4\x90\x80\x80", "too big \\ufffd\\ufffd\\ufffd\\ufffd"},
    {"f5 \xf5\x80\x80\x80", "f5 \\ufffd\\ufffd\\ufffd\\ufffd"},
    {"\xc3\xa9\xc3", "\xc3\xa9\\ufffd"},
    {"\\u0041 stays", "\\\\u0041 stays"},
};

static void test_escaping_logfmt(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_LOGFMT);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        log_info("%s", escapes[i].in);
        expect_logfmt(c, "info", escapes[i].out);
    }
    cap_close(c);
}

static void test_escaping_json(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_JSON);
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(escapes) / sizeof(escapes[0]); i++) {
        log_error("%s", escapes[i].in);
        expect_json(c, "error", escapes[i].out);
    }
    cap_close(c);
}

/* A NUL cannot be passed through %s, but %c writes one into the message. */
static void test_escaping_nul(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_JSON);

    (void)state;
    log_info("a%cb", 0);
    expect_json(c, "info", "a\\u0000b");
    cap_close(c);
}

static void test_level_filter(void **state)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    int threshold, lv;
    struct cap *c;

    (void)state;
    for (threshold = LOGL_DEBUG; threshold <= LOGL_ERROR; threshold++) {
        c = cap_open((enum log_level)threshold, LOGF_LOGFMT);
        for (lv = LOGL_DEBUG; lv <= LOGL_ERROR; lv++) {
            assert_int_equal(log_enabled((enum log_level)lv), lv >= threshold);
            log_msg((enum log_level)lv, "at %s", names[lv]);
        }
        for (lv = threshold; lv <= LOGL_ERROR; lv++) {
            char want[32];

            snprintf(want, sizeof(want), "at %s", names[lv]);
            expect_logfmt(c, names[lv], want);
        }
        expect_nothing(c);
        cap_close(c);
    }
}

/* A level outside the enum is clamped: above error logs as error, below debug as debug. */
static void test_level_out_of_range(void **state)
{
    struct cap *c = cap_open(LOGL_WARN, LOGF_LOGFMT);

    (void)state;
    assert_true(log_enabled((enum log_level)42));
    log_msg((enum log_level)42, "high");
    expect_logfmt(c, "error", "high");
    assert_false(log_enabled((enum log_level) - 1));
    log_msg((enum log_level) - 1, "low");
    expect_nothing(c);
    cap_close(c);
    /* an invalid threshold is clamped too */
    c = cap_open((enum log_level)77, LOGF_LOGFMT);
    assert_false(log_enabled(LOGL_WARN));
    assert_true(log_enabled(LOGL_ERROR));
    cap_close(c);
}

/* An unknown format value falls back to logfmt. */
static void test_format_out_of_range(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, (enum log_format)9);

    (void)state;
    log_info("x");
    expect_logfmt(c, "info", "x");
    cap_close(c);
}

/* Build a message of n copies of s (len sl), NUL-terminated; caller frees. */
static char *repeat(const char *s, size_t sl, size_t n, const char *tail)
{
    size_t tl = strlen(tail), i;
    char *p = malloc(sl * n + tl + 1);

    assert_non_null(p);
    for (i = 0; i < n; i++)
        memcpy(p + i * sl, s, sl);
    memcpy(p + sl * n, tail, tl + 1);
    return p;
}

static void test_cut_exact_limit_not_cut(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_LOGFMT);
    char *m = repeat("a", 1, LOG_MSG_MAX, "");

    (void)state;
    log_info("%s", m);
    expect_logfmt(c, "info", m);
    free(m);
    cap_close(c);
}

static void test_cut_one_over(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_JSON);
    char *m = repeat("a", 1, LOG_MSG_MAX + 1, "");
    char *want = repeat("a", 1, LOG_MSG_MAX, "...");

    (void)state;
    log_info("%s", m);
    expect_json(c, "info", want);
    free(m);
    free(want);
    cap_close(c);
}

static void test_cut_huge(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_LOGFMT);
    char *m = repeat("xy", 2, 50000, "");
    char *want = repeat("xy", 2, LOG_MSG_MAX / 2, "...");

    (void)state;
    log_warn("%s", m);
    expect_logfmt(c, "warn", want);
    free(m);
    free(want);
    cap_close(c);
}

/* "é" (2 bytes) straddling byte LOG_MSG_MAX is dropped whole, never split. */
static void test_cut_utf8_two_byte_boundary(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_LOGFMT);
    char *m = repeat("a", 1, LOG_MSG_MAX - 1, "\xc3\xa9zzz");
    char *want = repeat("a", 1, LOG_MSG_MAX - 1, "...");

    (void)state;
    log_info("%s", m);
    expect_logfmt(c, "info", want);
    free(m);
    free(want);
    cap_close(c);
}

/* A 4-byte character starting at LOG_MSG_MAX - 3, -2 or -1 is dropped; at -4 it fits. */
static void test_cut_utf8_four_byte_boundary(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_JSON);
    size_t pre;

    (void)state;
    for (pre = LOG_MSG_MAX - 4; pre <= LOG_MSG_MAX - 1; pre++) {
        char *m = repeat("b", 1, pre, "\xf0\x9f\x98\x80tail");
        char *want = pre == LOG_MSG_MAX - 4 ? repeat("b", 1, pre, "\xf0\x9f\x98\x80...")
                                            : repeat("b", 1, pre, "...");

        log_info("%s", m);
        expect_json(c, "info", want);
        free(m);
        free(want);
    }
    cap_close(c);
}

/* Multi-byte text is cut only at character starts: 2-byte chars, odd limit offset. */
static void test_cut_all_multibyte(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_LOGFMT);
    char *m = repeat("\xc3\xa9", 2, 3000, "");
    char *want = repeat("\xc3\xa9", 2, LOG_MSG_MAX / 2, "...");

    (void)state;
    log_info("%s", m);
    expect_logfmt(c, "info", want);
    free(m);
    free(want);
    /* shifted by one ASCII byte, byte LOG_MSG_MAX is the second half of an "é" */
    m = repeat("\xc3\xa9", 2, 3000, "");
    want = repeat("\xc3\xa9", 2, LOG_MSG_MAX / 2 - 1, "...");
    log_info("%s%s", "x", m);
    {
        size_t len = 0, ml;
        const char *line = cap_next(c, &len), *got;

        assert_non_null(line);
        got = check_logfmt(c, line, len, "info", &ml);
        assert_int_equal(ml, 1 + strlen(want)); /* 4095 bytes kept + "..." */
        assert_int_equal(got[0], 'x');
        assert_memory_equal(got + 1, want, ml - 1);
    }
    free(m);
    free(want);
    cap_close(c);
}

/* The worst case: every byte escaped to six; the line still arrives whole in one write. */
static void test_cut_worst_case_expansion(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_JSON);
    char *m = repeat("\x01", 1, LOG_MSG_MAX * 2, "");
    char *want = repeat("\\u0001", 6, LOG_MSG_MAX, "...");

    (void)state;
    log_info("%s", m);
    expect_json(c, "info", want);
    expect_nothing(c);
    free(m);
    free(want);
    cap_close(c);
}

/* Invalid UTF-8 cut at the limit: continuation bytes are not mistaken for a whole character. */
static void test_cut_invalid_bytes(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_LOGFMT);
    char *m = repeat("\xff", 1, LOG_MSG_MAX + 10, "");
    char *want = repeat("\\ufffd", 6, LOG_MSG_MAX, "...");

    (void)state;
    log_info("%s", m);
    expect_logfmt(c, "info", want);
    free(m);
    free(want);
    cap_close(c);
}

/* With TZ far from UTC, the timestamp is still UTC (check_ts compares with timegm). */
static void test_ts_is_utc(void **state)
{
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;
    struct cap *c;

    (void)state;
    assert_int_equal(setenv("TZ", "<+0530>-5:30", 1), 0);
    tzset();
    c = cap_open(LOGL_INFO, LOGF_LOGFMT);
    log_info("utc");
    expect_logfmt(c, "info", "utc");
    cap_close(c);
    c = cap_open(LOGL_INFO, LOGF_JSON);
    log_info("utc");
    expect_json(c, "info", "utc");
    cap_close(c);
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}

static void test_errno_preserved(void **state)
{
    struct cap *c = cap_open(LOGL_INFO, LOGF_LOGFMT);

    (void)state;
    errno = ENOSPC;
    log_info("keeps errno");
    assert_int_equal(errno, ENOSPC);
    expect_logfmt(c, "info", "keeps errno");
    errno = EACCES;
    log_debug("filtered");
    assert_int_equal(errno, EACCES);
    cap_close(c);
    /* a broken sink loses the line but neither crashes nor changes errno */
    log_set_fd(-1);
    errno = ERANGE;
    log_error("into the void");
    assert_int_equal(errno, ERANGE);
    log_set_fd(2);
}

/* Several threads logging lines larger than PIPE_BUF into one pipe: every line stays whole. */
#define T_THREADS 4
#define T_LINES 50
#define T_FILL 4000 /* filler bytes per message, each escaped to six: lines > PIPE_BUF */

struct tparam {
    int id;
};

static void *log_thread(void *arg)
{
    const struct tparam *p = arg;
    char *fill = malloc(T_FILL + 1);
    int i;

    if (!fill)
        return NULL;
    memset(fill, 1 + p->id, T_FILL); /* a control byte: written as \u000N */
    fill[T_FILL] = '\0';
    for (i = 0; i < T_LINES; i++)
        log_info("T%d %03d %s", p->id, i, fill);
    free(fill);
    return NULL;
}

static void test_threads_lines_whole(void **state)
{
    pthread_t th[T_THREADS];
    struct tparam par[T_THREADS];
    int pfd[2], i, seen[T_THREADS][T_LINES];
    size_t total = 0, cap = 8u << 20, off, nlines = 0;
    char *all = malloc(cap);
    long long deadline;
    struct cap meta = {0};

    (void)state;
    assert_non_null(all);
    memset(seen, 0, sizeof(seen));
    assert_int_equal(pipe(pfd), 0);
    assert_int_equal(fcntl(pfd[0], F_SETFL, O_NONBLOCK), 0);
    log_set_fd(pfd[1]);
    log_setup(LOGL_INFO, LOGF_LOGFMT);
    meta.before_ms = now_ms();
    for (i = 0; i < T_THREADS; i++) {
        par[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, log_thread, &par[i]), 0);
    }
    /* drain while the threads write, until every line arrived or the deadline passes */
    deadline = now_ms() + 60000;
    for (;;) {
        struct pollfd pf = {pfd[0], POLLIN, 0};
        ssize_t n;

        if (nlines == T_THREADS * T_LINES)
            break;
        assert_true(now_ms() < deadline);
        if (poll(&pf, 1, 100) <= 0)
            continue;
        assert_true(total < cap);
        n = read(pfd[0], all + total, cap - total);
        if (n < 0) {
            assert_true(errno == EAGAIN || errno == EINTR);
            continue;
        }
        for (off = total; off < total + (size_t)n; off++)
            nlines += all[off] == '\n';
        total += (size_t)n;
    }
    for (i = 0; i < T_THREADS; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    log_set_fd(2);
    close(pfd[0]);
    close(pfd[1]);

    for (off = 0; off < total;) {
        char *nl = memchr(all + off, '\n', total - off);
        size_t len, ml, k;
        const char *m;
        int id, idx;

        assert_non_null(nl);
        len = (size_t)(nl - (all + off)) + 1;
        m = check_logfmt(&meta, all + off, len, "info", &ml);
        assert_int_equal(ml, 1 + 1 + 1 + 3 + 1 + 6 * T_FILL);
        assert_true(len > PIPE_BUF);
        assert_int_equal(m[0], 'T');
        id = m[1] - '0';
        assert_true(id >= 0 && id < T_THREADS);
        idx = (m[3] - '0') * 100 + (m[4] - '0') * 10 + (m[5] - '0');
        assert_true(idx >= 0 && idx < T_LINES);
        seen[id][idx]++;
        for (k = 7; k < ml; k += 6)
            if (memcmp(m + k, "\\u000", 5) != 0 || m[k + 5] != '1' + id)
                fail_msg("line of thread %d mixed with other output at %zu", id, k);
        off += len;
    }
    for (i = 0; i < T_THREADS; i++) {
        int j;

        for (j = 0; j < T_LINES; j++)
            assert_int_equal(seen[i][j], 1);
    }
    free(all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_stderr_info_logfmt), /* must stay first */
        cmocka_unit_test(test_level_parse),
        cmocka_unit_test(test_format_parse),
        cmocka_unit_test(test_logfmt_line),
        cmocka_unit_test(test_json_line),
        cmocka_unit_test(test_escaping_logfmt),
        cmocka_unit_test(test_escaping_json),
        cmocka_unit_test(test_escaping_nul),
        cmocka_unit_test(test_level_filter),
        cmocka_unit_test(test_level_out_of_range),
        cmocka_unit_test(test_format_out_of_range),
        cmocka_unit_test(test_cut_exact_limit_not_cut),
        cmocka_unit_test(test_cut_one_over),
        cmocka_unit_test(test_cut_huge),
        cmocka_unit_test(test_cut_utf8_two_byte_boundary),
        cmocka_unit_test(test_cut_utf8_four_byte_boundary),
        cmocka_unit_test(test_cut_all_multibyte),
        cmocka_unit_test(test_cut_worst_case_expansion),
        cmocka_unit_test(test_cut_invalid_bytes),
        cmocka_unit_test(test_ts_is_utc),
        cmocka_unit_test(test_errno_preserved),
        cmocka_unit_test(test_threads_lines_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
