/*
 * gzip: one gzip member from a buffer, with zlib (see gzip.h).
 */
#include "gzip.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

#define GZIP_WINDOW_BITS (15 + 16) /* 32 KiB window, gzip wrapper instead of zlib's */
#define GZIP_MEM_LEVEL 8           /* zlib's default */

int gzip_compress(const void *in, size_t len, int level, char **out, size_t *out_len)
{
    z_stream z = {0};
    unsigned char *buf = NULL, *shrunk;
    uLong bound;
    int rc;

    if (!out || !out_len || (!in && len) || level < 1 || level > 9)
        return -EINVAL;
    if (len > GZIP_INPUT_MAX)
        return -E2BIG;
    if (deflateInit2(&z, level, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -ENOMEM;
    /* deflateBound covers the wrapper and incompressible input: one call, no regrowth */
    bound = deflateBound(&z, (uLong)len);
    if (bound > UINT_MAX) {
        rc = -E2BIG;
        goto fail;
    }
    buf = malloc(bound);
    if (!buf) {
        rc = -ENOMEM;
        goto fail;
    }
    z.next_in = (Bytef *)(uintptr_t)in; /* zlib never writes through next_in */
    z.avail_in = (uInt)len;
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        rc = -EIO;
        goto fail;
    }
    /* give back what the bound reserved beyond the compressed size */
    shrunk = realloc(buf, z.total_out);
    *out = (char *)(shrunk ? shrunk : buf);
    *out_len = z.total_out;
    deflateEnd(&z);
    return 0;
fail:
    free(buf);
    deflateEnd(&z);
    return rc;
}
