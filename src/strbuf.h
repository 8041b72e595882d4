/*
 * strbuf: a growable byte buffer with a hard maximum size.
 *
 * Every buffer that holds data a server or a user controls (API bodies, the
 * rendered exposition, HTML pages) is a strbuf with a named cap. Appending past
 * the cap fails with -E2BIG and leaves the buffer as it was, so a caller can
 * roll back to a known length (strbuf_truncate) and never emits half a record.
 * The content is always NUL-terminated (the NUL is not counted in len).
 */
#ifndef ELB_STRBUF_H
#define ELB_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct strbuf {
    char *data;   /* NULL until the first append */
    size_t len;   /* bytes used, excluding the NUL */
    size_t alloc; /* bytes allocated */
    size_t max;   /* hard cap on len */
};

/* Initialise an empty buffer that may grow up to max bytes. */
void strbuf_init(struct strbuf *b, size_t max);

/* Append n bytes. Returns 0, -E2BIG past the cap or -ENOMEM; unchanged on failure. */
int strbuf_append(struct strbuf *b, const void *p, size_t n);

/* Append a NUL-terminated string. Same returns as strbuf_append. */
int strbuf_puts(struct strbuf *b, const char *s);

/* Append one byte. Same returns as strbuf_append. */
int strbuf_putc(struct strbuf *b, char c);

/* Append printf-style formatted text. Same returns as strbuf_append. */
int strbuf_printf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int strbuf_vprintf(struct strbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/*
 * Append s, replacing each byte c for which esc(c) is not NULL by that string
 * (label, HELP and HTML escaping are tables over this). Same returns as
 * strbuf_append; on failure the buffer is as it was.
 */
int strbuf_escape(struct strbuf *b, const char *s, const char *(*esc)(unsigned char c));

/* Cut the buffer back to len bytes (len <= b->len); used to roll back a partial write. */
void strbuf_truncate(struct strbuf *b, size_t len);

/* Hand the data to the caller (free() it) and reset the buffer; never NULL unless ENOMEM. */
char *strbuf_detach(struct strbuf *b, size_t *len);

/* Release the memory; the buffer is empty (and reusable) afterwards. Accepts a zeroed buffer. */
void strbuf_release(struct strbuf *b);

#endif
