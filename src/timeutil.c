/*
 * timeutil: RFC 3339 timestamps, Prometheus durations and the two clocks (see timeutil.h).
 *
 * The parsers are pure and byte-exact: calendar arithmetic is done here rather
 * than through mktime/timegm (which consult TZ) or strptime (which consults the
 * locale), so "2017-09-29T09:49:37.399Z" means the same instant everywhere.
 */
#include "timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECS_PER_DAY 86400
#define YEAR_MIN 1970
#define YEAR_MAX 9999
#define FRAC_DIGITS_MAX 9
#define MS_PER_SECOND 1000ull
#define MS_PER_MINUTE (60 * MS_PER_SECOND)
#define MS_PER_HOUR (60 * MS_PER_MINUTE)
#define MS_PER_DAY (24 * MS_PER_HOUR)
#define MS_PER_WEEK (7 * MS_PER_DAY)
#define MS_PER_YEAR (365 * MS_PER_DAY)
#define DURATION_MAX_MS ((uint64_t)INT64_MAX) /* what Prometheus itself can represent */

/* Is y a Gregorian leap year? */
static int is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Leap years in [1, y] (y >= 0). */
static long leaps_through(long y)
{
    return y / 4 - y / 100 + y / 400;
}

/* Days in month m (1..12) of year y. */
static int month_days(long y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d; the date must already be range-checked. */
static long days_since_epoch(long y, int m, int d)
{
    static const unsigned short before[12] = {0,   31,  59,  90,  120, 151,
                                              181, 212, 243, 273, 304, 334};
    long days = 365 * (y - YEAR_MIN) + (leaps_through(y - 1) - leaps_through(YEAR_MIN - 1));

    days += before[m - 1] + (m > 2 && is_leap(y));
    return days + d - 1;
}

/*
 * Read exactly n decimal digits at s[*pos] into *v and advance *pos.
 * Returns 0, or -EINVAL if the input ends or a byte is not a digit (signs included).
 */
static int fixed_digits(const char *s, size_t len, size_t *pos, int n, long *v)
{
    long x = 0;
    int i;

    if (len - *pos < (size_t)n)
        return -EINVAL;
    for (i = 0; i < n; i++) {
        char c = s[*pos + i];

        if (c < '0' || c > '9')
            return -EINVAL;
        x = x * 10 + (c - '0');
    }
    *pos += n;
    *v = x;
    return 0;
}

/* Expect byte c at s[*pos] and advance. Returns 0 or -EINVAL. */
static int expect(const char *s, size_t len, size_t *pos, char c)
{
    if (*pos >= len || s[*pos] != c)
        return -EINVAL;
    (*pos)++;
    return 0;
}

int time_parse_rfc3339(const char *s, size_t len, double *out)
{
    long year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0, off_h = 0, off_m = 0, nanos = 0;
    size_t pos = 0;
    int sign = 0, digits = 0;
    long long secs;

    if (s == NULL)
        return -EINVAL;
    if (fixed_digits(s, len, &pos, 4, &year) || expect(s, len, &pos, '-') ||
        fixed_digits(s, len, &pos, 2, &mon) || expect(s, len, &pos, '-') ||
        fixed_digits(s, len, &pos, 2, &day))
        return -EINVAL;
    if (pos >= len || (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' '))
        return -EINVAL;
    pos++;
    if (fixed_digits(s, len, &pos, 2, &hour) || expect(s, len, &pos, ':') ||
        fixed_digits(s, len, &pos, 2, &min) || expect(s, len, &pos, ':') ||
        fixed_digits(s, len, &pos, 2, &sec))
        return -EINVAL;
    if (pos < len && s[pos] == '.') {
        pos++;
        while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
            if (++digits > FRAC_DIGITS_MAX)
                return -EINVAL;
            nanos = nanos * 10 + (s[pos] - '0');
            pos++;
        }
        if (digits == 0)
            return -EINVAL;
        for (; digits < FRAC_DIGITS_MAX; digits++)
            nanos *= 10;
    }
    if (pos >= len)
        return -EINVAL; /* the zone is mandatory */
    if (s[pos] == 'Z' || s[pos] == 'z') {
        pos++;
    } else if (s[pos] == '+' || s[pos] == '-') {
        sign = s[pos] == '-' ? -1 : 1;
        pos++;
        if (fixed_digits(s, len, &pos, 2, &off_h) || expect(s, len, &pos, ':') ||
            fixed_digits(s, len, &pos, 2, &off_m))
            return -EINVAL;
        if (off_h > 23 || off_m > 59)
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (pos != len)
        return -EINVAL; /* trailing bytes */

    if (year < YEAR_MIN || year > YEAR_MAX || mon < 1 || mon > 12 || day < 1 ||
        day > month_days(year, (int)mon) || hour > 23 || min > 59 || sec > 59)
        return -EINVAL;

    secs = (long long)days_since_epoch(year, (int)mon, (int)day) * SECS_PER_DAY + hour * 3600 +
           min * 60 + sec;
    secs -= (long long)sign * (off_h * 3600 + off_m * 60);
    *out = (double)secs + (double)nanos / 1e9;
    return 0;
}

/* Units in the only order Prometheus accepts them. */
static const struct {
    const char *name;
    uint64_t ms;
} duration_units[] = {
    {"y", MS_PER_YEAR},   {"w", MS_PER_WEEK},   {"d", MS_PER_DAY}, {"h", MS_PER_HOUR},
    {"m", MS_PER_MINUTE}, {"s", MS_PER_SECOND}, {"ms", 1},
};
#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

/* Index in duration_units of the unit spelled at p ("ms" before "m"), or -1. */
static int duration_unit_at(const char *p)
{
    size_t u;

    if (p[0] == 'm' && p[1] == 's')
        return (int)N_DURATION_UNITS - 1;
    for (u = 0; u < N_DURATION_UNITS - 1; u++)
        if (p[0] == duration_units[u].name[0])
            return (int)u;
    return -1;
}

int duration_parse(const char *s, uint64_t *out_ms)
{
    uint64_t total = 0;
    size_t next_unit = 0; /* index of the smallest unit still allowed */
    const char *p = s;

    if (s == NULL || *s == '\0')
        return -EINVAL;
    if (strcmp(s, "0") == 0) {
        *out_ms = 0;
        return 0;
    }
    while (*p != '\0') {
        uint64_t v = 0, part;
        size_t u;
        int ndigits = 0, overflow = 0, unit;

        for (; *p >= '0' && *p <= '9'; p++, ndigits++) {
            unsigned d = (unsigned)(*p - '0');

            if (v > (UINT64_MAX - d) / 10)
                overflow = 1;
            else
                v = v * 10 + d;
        }
        if (ndigits == 0)
            return -EINVAL;
        unit = duration_unit_at(p);
        if (unit < 0)
            return -EINVAL; /* no unit, or an unknown one */
        u = (size_t)unit;
        if (u < next_unit)
            return -EINVAL; /* repeated or out of order */
        next_unit = u + 1;
        p += strlen(duration_units[u].name);
        if (overflow || v > DURATION_MAX_MS / duration_units[u].ms)
            return -ERANGE;
        part = v * duration_units[u].ms;
        if (part > DURATION_MAX_MS - total)
            return -ERANGE;
        total += part;
    }
    *out_ms = total;
    return 0;
}

void duration_format(uint64_t ms, char *buf, size_t len)
{
    size_t used = 0, u;

    if (buf == NULL || len == 0)
        return;
    buf[0] = '\0';
    if (ms == 0) {
        snprintf(buf, len, "0s");
        return;
    }
    for (u = 0; u < N_DURATION_UNITS; u++) {
        uint64_t unit = duration_units[u].ms, v;
        int n;

        /* Years and weeks only when they divide the rest exactly: "90d", not "12w6d". */
        if (unit >= MS_PER_WEEK && ms % unit != 0)
            continue;
        v = ms / unit;
        if (v == 0)
            continue;
        ms -= v * unit;
        n = snprintf(buf + used, len - used, "%llu%s", (unsigned long long)v,
                     duration_units[u].name);
        if (n < 0 || (size_t)n >= len - used)
            return; /* cut; snprintf left it NUL-terminated */
        used += (size_t)n;
    }
}

double time_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t time_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
