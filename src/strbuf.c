/*
 * strbuf: growable byte buffer with a hard cap (see strbuf.h).
 */
#include "strbuf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void strbuf_init(struct strbuf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->alloc = 0;
    b->max = max;
}

/* Make room for len + extra bytes plus the NUL. */
static int strbuf_grow(struct strbuf *b, size_t extra)
{
    size_t need, n;
    char *p;

    /* len + extra + 1 must not wrap, even with max == SIZE_MAX */
    if (extra > b->max || b->len > b->max - extra || b->len + extra == SIZE_MAX)
        return -E2BIG;
    need = b->len + extra + 1;
    if (need <= b->alloc)
        return 0;
    n = b->alloc ? b->alloc : 256;
    while (n < need)
        n = (n > SIZE_MAX / 2) ? need : n * 2;
    if (n - 1 > b->max)
        n = b->max + 1;
    p = realloc(b->data, n);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->alloc = n;
    return 0;
}

int strbuf_append(struct strbuf *b, const void *p, size_t n)
{
    int rc = strbuf_grow(b, n);

    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int strbuf_puts(struct strbuf *b, const char *s)
{
    return strbuf_append(b, s, strlen(s));
}

int strbuf_putc(struct strbuf *b, char c)
{
    return strbuf_append(b, &c, 1);
}

int strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n, rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return -EINVAL;
    rc = strbuf_grow(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = strbuf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int strbuf_escape(struct strbuf *b, const char *s, const char *(*esc)(unsigned char c))
{
    size_t entry = b->len;
    const char *run = s, *rep;
    int rc;

    for (; *s; s++) {
        rep = esc((unsigned char)*s);
        if (!rep)
            continue;
        rc = strbuf_append(b, run, (size_t)(s - run));
        if (!rc)
            rc = strbuf_puts(b, rep);
        if (rc)
            goto fail;
        run = s + 1;
    }
    rc = strbuf_append(b, run, (size_t)(s - run));
    if (rc)
        goto fail;
    return 0;
fail:
    strbuf_truncate(b, entry);
    return rc;
}

void strbuf_truncate(struct strbuf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

char *strbuf_detach(struct strbuf *b, size_t *len)
{
    char *p;

    if (!b->data) {
        if (strbuf_grow(b, 0))
            return NULL;
        b->data[0] = '\0'; /* fresh memory: the promised NUL is not there yet */
    }
    p = b->data;
    if (len)
        *len = b->len;
    strbuf_init(b, b->max);
    return p;
}

void strbuf_release(struct strbuf *b)
{
    free(b->data);
    strbuf_init(b, b->max);
}
