/*
 * gzip: compress a rendered page into one gzip member (RFC 1952), with zlib. Pure.
 *
 * The poller compresses each page once per snapshot (snapshot.h), so that a
 * scrape that asks for gzip costs what an identity one does: the HTTP threads
 * never compress. The header zlib writes carries no name and mtime 0, so the
 * same page always compresses to the same bytes.
 */
#ifndef ELB_GZIP_H
#define ELB_GZIP_H

#include <stddef.h>
#include <sys/uio.h>

/*
 * The level snapshots are compressed at, chosen by measuring: tests/bench/
 * bench_gzip (realistic jobs, random 32-hex IDs, zlib 1.2.13, one core of the
 * 2-core development machine, CPU ms per compression, median of 5):
 *
 *   10k jobs, text 12.4 MB   level 1: 2.43 MB  79 ms   3: 2.31 MB  75 ms
 *                            level 6: 2.15 MB 194 ms   9: 2.13 MB 345 ms
 *   1k jobs, text 1.24 MB    level 1: 247 kB  6.5 ms   3: 236 kB  7.0 ms
 *                            level 6: 220 kB   15 ms   9: 217 kB   31 ms
 *   (OpenMetrics: the same within 0.1 %.)
 *
 * Level 3: it costs what level 1 costs and is 5 % smaller; level 6 saves
 * another 7 % of the bytes for 2.5 times the CPU, level 9 1 % more for twice
 * that again. The poller compresses two pages (three with the landing page)
 * per publish, in the thread that drives the API requests, and publishes up
 * to once a second while retries land: at 10k jobs level 6 would hold it
 * about 0.25 s longer each time, to save each scrape 160 kB of 2.3 MB.
 */
#define GZIP_LEVEL_SNAPSHOT 3

/* Largest input: zlib counts in 32-bit units, and the bound of the output must fit too. */
#define GZIP_INPUT_MAX (1u << 31)

/*
 * Compress in[0..len) at level (1..9) into a new buffer: *out (free() it) of
 * *out_len bytes. Returns 0, -EINVAL (level, or NULL out), -E2BIG (over
 * GZIP_INPUT_MAX), -ENOMEM, or -EIO (zlib refused); *out and *out_len are
 * untouched on failure.
 */
int gzip_compress(const void *in, size_t len, int level, char **out, size_t *out_len);
/* The same for the n pieces of iov, in order, as one input (a page kept in pieces). */
int gzip_compress_v(const struct iovec *iov, size_t n, int level, char **out, size_t *out_len);

#endif
