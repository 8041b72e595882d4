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

int gzip_compress_v(const struct iovec *iov, size_t n, int level, char **out, size_t *out_len)
{
    z_stream z = {0};
    unsigned char *buf = NULL, *shrunk;
    size_t len = 0, i;
    uLong bound;
    int rc, zrc = Z_OK;

    if (!out || !out_len || (!iov && n) || level < 1 || level > 9)
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (!iov[i].iov_base && iov[i].iov_len)
            return -EINVAL;
        if (iov[i].iov_len > GZIP_INPUT_MAX - len)
            return -E2BIG;
        len += iov[i].iov_len;
    }
    if (deflateInit2(&z, level, Z_DEFLATED, GZIP_WINDOW_BITS, GZIP_MEM_LEVEL, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -ENOMEM;
    /* deflateBound covers the wrapper and incompressible input: no regrowth */
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
    z.next_out = buf;
    z.avail_out = (uInt)bound;
    for (i = 0; i <= n; i++) {
        z.next_in = i < n ? (Bytef *)iov[i].iov_base : NULL; /* zlib never writes through it */
        z.avail_in = i < n ? (uInt)iov[i].iov_len : 0;
        zrc = deflate(&z, i < n ? Z_NO_FLUSH : Z_FINISH);
        if (zrc == Z_STREAM_ERROR || z.avail_in != 0)
            break;
    }
    if (zrc != Z_STREAM_END) {
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

int gzip_compress(const void *in, size_t len, int level, char **out, size_t *out_len)
{
    struct iovec one = {.iov_base = (void *)(uintptr_t)in, .iov_len = len};

    if (!in && len)
        return -EINVAL;
    return gzip_compress_v(&one, 1, level, out, out_len);
}
