/*
 * test_gzip: compression of snapshot pages (src/gzip.c).
 *
 * What a client needs: a gzip member (magic, deflate, no name, mtime 0) that
 * zlib's inflate turns back into exactly the input, for empty, small,
 * exposition-like and incompressible input at every level; the same input
 * gives the same bytes; bad arguments leave the outputs alone.
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
#include <zlib.h>

#include "gzip.h"

#define BIG (4u << 20)

/* Inflate a gzip member (and only that: trailing bytes fail); returns the bytes, *n their count. */
static unsigned char *gunzip(const char *gz, size_t len, size_t cap, size_t *n)
{
    unsigned char *out = malloc(cap + 1);
    z_stream z;

    assert_non_null(out);
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)gz;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap + 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    assert_int_equal(z.avail_in, 0);
    *n = z.total_out;
    inflateEnd(&z);
    return out;
}

static void round_trip(const char *in, size_t len, int level)
{
    char *gz = NULL, *again = NULL;
    size_t gl = 0, al = 0, n;
    unsigned char *back;

    assert_int_equal(gzip_compress(in, len, level, &gz, &gl), 0);
    assert_non_null(gz);
    assert_true(gl >= 18); /* header 10 + trailer 8 */
    /* RFC 1952: magic, deflate, no flags (no name), mtime 0 */
    assert_memory_equal(gz, "\x1f\x8b\x08\x00\x00\x00\x00\x00", 8);
    back = gunzip(gz, gl, len, &n);
    assert_int_equal(n, len);
    if (len)
        assert_memory_equal(back, in, len);
    /* deterministic */
    assert_int_equal(gzip_compress(in, len, level, &again, &al), 0);
    assert_int_equal(al, gl);
    assert_memory_equal(again, gz, gl);
    free(back);
    free(again);
    free(gz);
}

static void small_and_empty(void **state)
{
    int level;

    (void)state;
    for (level = 1; level <= 9; level++) {
        round_trip("", 0, level);
        round_trip("x", 1, level);
        round_trip("# HELP a b\n# TYPE a gauge\na 1\n", 31, level);
    }
}

static void exposition_like(void **state)
{
    char *text = malloc(BIG);
    size_t n = 0;
    char *gz = NULL;
    size_t gl = 0;
    unsigned i = 0;

    (void)state;
    assert_non_null(text);
    while (n + 200 < BIG)
        n += (size_t)snprintf(text + n, BIG - n,
                              "elb_job_status{job_id=\"%032x\",job_type=\"createELB\","
                              "status=\"SUCCESS\"} %u\n",
                              i * 2654435761u, i % 2),
            i++;
    round_trip(text, n, 1);
    round_trip(text, n, GZIP_LEVEL_SNAPSHOT);
    /* it compresses: what the whole exercise is for */
    assert_int_equal(gzip_compress(text, n, GZIP_LEVEL_SNAPSHOT, &gz, &gl), 0);
    assert_true(gl < n / 4);
    free(gz);
    free(text);
}

static void incompressible(void **state)
{
    char *noise = malloc(BIG);
    uint64_t x = 0x9E3779B97F4A7C15u;
    size_t i;

    (void)state;
    assert_non_null(noise);
    for (i = 0; i < BIG; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        noise[i] = (char)(x >> 32);
    }
    round_trip(noise, BIG, 9); /* the bound holds: output bigger than input fits */
    free(noise);
}

/* A page kept in pieces compresses as the pieces joined: same bytes. */
static void pieces(void **state)
{
    static const char whole[] = "# HELP a x\n# TYPE a gauge\na{b=\"1\"} 1\na{b=\"2\"} 2\n# EOF\n";
    size_t n = sizeof(whole) - 1, cut1 = 11, cut2 = 25;
    struct iovec iov[5] = {
        {(void *)whole, cut1},
        {NULL, 0},
        {(void *)(whole + cut1), cut2 - cut1},
        {(void *)(whole + cut2), n - cut2},
        {(void *)whole, 0},
    };
    char *a = NULL, *b = NULL;
    size_t al = 0, bl = 0, back_len;
    unsigned char *back;

    (void)state;
    assert_int_equal(gzip_compress(whole, n, GZIP_LEVEL_SNAPSHOT, &a, &al), 0);
    assert_int_equal(gzip_compress_v(iov, 5, GZIP_LEVEL_SNAPSHOT, &b, &bl), 0);
    back = gunzip(b, bl, n, &back_len);
    assert_int_equal(back_len, n);
    assert_memory_equal(back, whole, n);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    free(back);
    free(a);
    free(b);
    assert_int_equal(gzip_compress_v(NULL, 0, 6, &a, &al), 0); /* no pieces: an empty member */
    back = gunzip(a, al, 0, &back_len);
    assert_int_equal(back_len, 0);
    free(back);
    free(a);
}

static void bad_arguments(void **state)
{
    char *out = (char *)"untouched";
    size_t len = 42;

    (void)state;
    assert_int_equal(gzip_compress("a", 1, 0, &out, &len), -EINVAL);
    assert_int_equal(gzip_compress("a", 1, 10, &out, &len), -EINVAL);
    assert_int_equal(gzip_compress(NULL, 1, 6, &out, &len), -EINVAL);
    assert_int_equal(gzip_compress("a", 1, 6, NULL, &len), -EINVAL);
    assert_int_equal(gzip_compress("a", 1, 6, &out, NULL), -EINVAL);
    assert_int_equal(gzip_compress("a", (size_t)GZIP_INPUT_MAX + 1, 6, &out, &len), -E2BIG);
    {
        struct iovec bad = {NULL, 3};

        assert_int_equal(gzip_compress_v(&bad, 1, 6, &out, &len), -EINVAL);
        assert_int_equal(gzip_compress_v(NULL, 2, 6, &out, &len), -EINVAL);
    }
    assert_string_equal(out, "untouched");
    assert_int_equal(len, 42);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_and_empty), cmocka_unit_test(exposition_like),
        cmocka_unit_test(incompressible),  cmocka_unit_test(pieces),
        cmocka_unit_test(bad_arguments),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
