/*
 * fuzz_time: libFuzzer target for time_parse_rfc3339 and duration_parse.
 *
 * Checks: timestamps that parse are finite and inside the documented year
 * range (allowing for the zone offset); durations that parse survive a
 * duration_format / duration_parse round trip unchanged; rejected input
 * leaves the output untouched.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TIME_MIN (-86400.0)                 /* 1970-01-01 with the largest + offset */
#define FUZZ_TIME_MAX (253402300800.0 + 86400.0) /* 9999-12-31 with the largest - offset */
#define FUZZ_DURATION_TEXT_MAX 256

static void check_time(const uint8_t *data, size_t size)
{
    double v = -1e300, again = 0;
    int rc = time_parse_rfc3339((const char *)data, size, &v);

    if (rc != 0) {
        if (rc != -EINVAL || v != -1e300)
            abort();
        return;
    }
    if (!isfinite(v) || v < FUZZ_TIME_MIN || v > FUZZ_TIME_MAX)
        abort();
    if (time_parse_rfc3339((const char *)data, size, &again) != 0 || again != v)
        abort();
}

static void check_duration(const uint8_t *data, size_t size)
{
    char text[FUZZ_DURATION_TEXT_MAX + 1], out[64], small[6];
    uint64_t ms = 12345, back = 0;
    int rc;

    if (size > FUZZ_DURATION_TEXT_MAX)
        size = FUZZ_DURATION_TEXT_MAX;
    memcpy(text, data, size);
    text[size] = '\0';
    rc = duration_parse(text, &ms);
    if (rc != 0) {
        if ((rc != -EINVAL && rc != -ERANGE) || ms != 12345)
            abort();
        return;
    }
    if (ms > (uint64_t)INT64_MAX)
        abort();
    duration_format(ms, out, sizeof(out));
    if (duration_parse(out, &back) != 0 || back != ms)
        abort();
    duration_format(ms, small, sizeof(small));
    if (memchr(small, '\0', sizeof(small)) == NULL || strncmp(small, out, strlen(small)) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_time(data, size);
    check_duration(data, size);
    return 0;
}
