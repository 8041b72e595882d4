/*
 * timeutil: pure time and duration parsing, plus the two clocks the daemon uses.
 *
 * Parsing never consults TZ, the locale or the clock: the same input gives the
 * same answer on every machine.
 */
#ifndef ELB_TIMEUTIL_H
#define ELB_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse an RFC 3339 / ISO 8601 UTC timestamp of exactly len bytes:
 * "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm)". 't' and a space are accepted
 * in place of 'T', 'z' for 'Z'. Calendar values are range-checked (Feb 30 is an
 * error, leap seconds are not accepted). Years 1970..9999.
 * Returns 0 and seconds since the Unix epoch in *out, or -EINVAL (*out untouched).
 */
int time_parse_rfc3339(const char *s, size_t len, double *out);

/*
 * Parse a Prometheus duration: one or more "<integer><unit>" in decreasing unit
 * order, units y w d h m s ms, e.g. "500ms", "15s", "1h30m", "0". Returns 0 and
 * milliseconds in *out_ms, or -EINVAL / -ERANGE (*out_ms untouched).
 */
int duration_parse(const char *s, uint64_t *out_ms);

/* Format milliseconds the way Prometheus does ("1h30m", "500ms", "0s") into buf. */
void duration_format(uint64_t ms, char *buf, size_t len);

/* Wall clock, seconds since the epoch (for timestamps in metrics). */
double time_now(void);
/* Monotonic clock in milliseconds (for scheduling and timeouts). */
uint64_t time_mono_ms(void);

#endif
