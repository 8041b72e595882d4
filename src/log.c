/*
 * log: one line per event, logfmt or JSON, to stderr (or the fd given to log_set_fd).
 *
 * DESIGN. Any thread may log. A line is built completely in a buffer on the
 * caller's stack (bounded: LOG_LINE_MAX) and handed to the kernel with one
 * write(2) under a mutex, so lines never interleave, even lines longer than
 * PIPE_BUF or a write(2) the kernel completes only partially (the rest is
 * written before the mutex is released). The threshold, format and fd are
 * module-private C11 atomics: reading them needs no lock, and log_setup /
 * log_set_fd are meant to be called before threads start (changing them later
 * is safe but a line in flight may use the old value).
 *
 * Escaping is the same for both formats and valid in both: '"' and '\' are
 * backslash-escaped, \n \r \t as such, other control bytes (and DEL) as \u00XX,
 * and bytes that are not well-formed UTF-8 as \ufffd, so a JSON line is always
 * valid JSON and a logfmt value never breaks the line.
 *
 * Not async-signal-safe (vsnprintf, mutex): never log from a signal handler.
 */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_ELLIPSIS "..." /* marks a message cut at LOG_MSG_MAX */
#define LOG_ESC_MAX 6      /* worst-case output bytes per input byte */
#define LOG_TS_LEN 24      /* "2026-11-28T17:00:00.123Z" */
#define LOG_FRAME_MAX 64   /* everything of a line but ts and the message */
#define LOG_LINE_MAX (LOG_FRAME_MAX + LOG_TS_LEN + LOG_ESC_MAX * LOG_MSG_MAX + 8)

static atomic_int log_threshold = LOGL_INFO;
static atomic_int log_fmt = LOGF_LOGFMT;
static atomic_int log_fd = 2;
static pthread_mutex_t log_write_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = {"debug", "info", "warn", "error"};
static const char *const format_names[] = {"logfmt", "json"};

/* Bounded output cursor over a caller-provided buffer. */
struct line {
    char *buf;
    size_t len, cap;
};

int log_level_parse(const char *s, enum log_level *out)
{
    int i;

    if (!s)
        return -EINVAL;
    for (i = LOGL_DEBUG; i <= LOGL_ERROR; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -EINVAL;
}

int log_format_parse(const char *s, enum log_format *out)
{
    int i;

    if (!s)
        return -EINVAL;
    for (i = LOGF_LOGFMT; i <= LOGF_JSON; i++) {
        if (strcmp(s, format_names[i]) == 0) {
            *out = (enum log_format)i;
            return 0;
        }
    }
    return -EINVAL;
}

/* Map any int to a valid level: out-of-range values are clamped. */
static int clamp_level(int level)
{
    if (level < LOGL_DEBUG)
        return LOGL_DEBUG;
    if (level > LOGL_ERROR)
        return LOGL_ERROR;
    return level;
}

void log_setup(enum log_level level, enum log_format format)
{
    atomic_store_explicit(&log_threshold, clamp_level((int)level), memory_order_relaxed);
    atomic_store_explicit(&log_fmt, format == LOGF_JSON ? LOGF_JSON : LOGF_LOGFMT,
                          memory_order_relaxed);
}

void log_set_fd(int fd)
{
    atomic_store_explicit(&log_fd, fd, memory_order_relaxed);
}

int log_enabled(enum log_level level)
{
    return clamp_level((int)level) >= atomic_load_explicit(&log_threshold, memory_order_relaxed);
}

/* Append n bytes if they fit; the buffer is sized so that they always do. */
static void line_put(struct line *l, const char *s, size_t n)
{
    if (n > l->cap - l->len)
        n = l->cap - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void line_puts(struct line *l, const char *s)
{
    line_put(l, s, strlen(s));
}

/*
 * Length (1..4) of the well-formed UTF-8 sequence at s[0..n), or 0 if the bytes
 * there are not one (overlong forms, surrogates and code points past U+10FFFF
 * are not well-formed).
 */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;
    if (n < len)
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* Append s[0..n) escaped (see the top of the file); at most LOG_ESC_MAX bytes per input byte. */
static void line_put_escaped(struct line *l, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, k;
    char esc[LOG_ESC_MAX];

    while (i < n) {
        unsigned char c = p[i];

        if (c >= 0x80) {
            k = utf8_seq_len(p + i, n - i);
            if (k == 0) {
                line_puts(l, "\\ufffd");
                i++;
            } else {
                line_put(l, s + i, k);
                i += k;
            }
            continue;
        }
        switch (c) {
        case '"':
            line_puts(l, "\\\"");
            break;
        case '\\':
            line_puts(l, "\\\\");
            break;
        case '\n':
            line_puts(l, "\\n");
            break;
        case '\r':
            line_puts(l, "\\r");
            break;
        case '\t':
            line_puts(l, "\\t");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[c >> 4];
                esc[5] = hex[c & 0xf];
                line_put(l, esc, sizeof(esc));
            } else {
                line_put(l, s + i, 1);
            }
        }
        i++;
    }
}

/* Write v as exactly width decimal digits into p (v is reduced modulo 10^width). */
static void put_digits(char *p, long v, int width)
{
    int i;

    if (v < 0)
        v = 0;
    for (i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* Current UTC time as "YYYY-MM-DDTHH:MM:SS.mmmZ" (exactly LOG_TS_LEN bytes, NUL added). */
static void format_ts(char ts[LOG_TS_LEN + 1])
{
    struct timespec now;
    struct tm tm;

    if (clock_gettime(CLOCK_REALTIME, &now) != 0) {
        now.tv_sec = 0;
        now.tv_nsec = 0;
    }
    if (!gmtime_r(&now.tv_sec, &tm))
        memset(&tm, 0, sizeof(tm));
    memcpy(ts, "0000-00-00T00:00:00.000Z", LOG_TS_LEN + 1);
    put_digits(ts, (long)tm.tm_year + 1900, 4);
    put_digits(ts + 5, (long)tm.tm_mon + 1, 2);
    put_digits(ts + 8, tm.tm_mday, 2);
    put_digits(ts + 11, tm.tm_hour, 2);
    put_digits(ts + 14, tm.tm_min, 2);
    put_digits(ts + 17, tm.tm_sec, 2);
    put_digits(ts + 20, now.tv_nsec / 1000000, 3);
}

/*
 * Where to cut a message longer than max bytes: at max, moved back to the start
 * of a UTF-8 sequence that would otherwise be split. s[max] must be readable
 * (it is the first byte dropped).
 */
static size_t utf8_cut(const char *s, size_t max)
{
    size_t cut = max, back = 0;

    while (back < 3 && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80) {
        cut--;
        back++;
    }
    return cut;
}

/* Hand the whole line to the kernel; other threads' lines wait on the mutex. */
static void write_line(const char *buf, size_t len)
{
    int fd = atomic_load_explicit(&log_fd, memory_order_relaxed);
    ssize_t n;

    pthread_mutex_lock(&log_write_lock);
    while (len > 0) {
        n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere to report a failing log sink */
        buf += n;
        len -= (size_t)n;
    }
    pthread_mutex_unlock(&log_write_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    char msg[LOG_MSG_MAX + 2]; /* one byte past the cap, to see a split UTF-8 sequence */
    char buf[LOG_LINE_MAX];
    char ts[LOG_TS_LEN + 1];
    struct line l = {buf, 0, sizeof(buf)};
    int saved_errno = errno, n, lv;
    size_t mlen, keep;
    va_list ap;

    if (!log_enabled(level))
        return;
    lv = clamp_level((int)level);

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0) {
        memcpy(msg, "(unformattable log message)", sizeof("(unformattable log message)"));
        n = (int)strlen(msg);
    }
    mlen = (size_t)n;
    keep = mlen > LOG_MSG_MAX ? utf8_cut(msg, LOG_MSG_MAX) : mlen;
    format_ts(ts);

    if (atomic_load_explicit(&log_fmt, memory_order_relaxed) == LOGF_JSON) {
        line_puts(&l, "{\"ts\":\"");
        line_puts(&l, ts);
        line_puts(&l, "\",\"level\":\"");
        line_puts(&l, level_names[lv]);
        line_puts(&l, "\",\"msg\":\"");
        line_put_escaped(&l, msg, keep);
        if (mlen > LOG_MSG_MAX)
            line_puts(&l, LOG_ELLIPSIS);
        line_puts(&l, "\"}\n");
    } else {
        line_puts(&l, "ts=");
        line_puts(&l, ts);
        line_puts(&l, " level=");
        line_puts(&l, level_names[lv]);
        line_puts(&l, " msg=\"");
        line_put_escaped(&l, msg, keep);
        if (mlen > LOG_MSG_MAX)
            line_puts(&l, LOG_ELLIPSIS);
        line_puts(&l, "\"\n");
    }
    write_line(l.buf, l.len);
    errno = saved_errno;
}
