/*
 * fuzz_negotiate: libFuzzer target for negotiate_format and negotiate_encoding.
 *
 * The input is both an Accept and an Accept-Encoding value. Checks: the answer
 * is one of the representations; a malformed header gets text 0.0.4 and
 * identity; a header that parsed answers the same with an empty list element
 * or a range/coding we do not offer appended (they cannot change a choice),
 * and one that did not parse stays malformed with them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "negotiate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define EXTRA_ACCEPT ", ,image/png;q=0.9"
#define EXTRA_ENCODING ", ,br;q=1"
#define EXTRA_MAX 32

static void check_accept(char *buf, size_t n)
{
    int malformed = -1, again = -1;
    enum negotiate_format f = negotiate_format(buf, &malformed);

    if ((unsigned)f >= NEGOTIATE_FORMAT_COUNT || (malformed != 0 && malformed != 1))
        abort();
    if (malformed && f != NEGOTIATE_TEXT_0_0_4)
        abort();
    if (negotiate_content_type(f) == NULL)
        abort();
    if (n + sizeof(EXTRA_ACCEPT) - 1 > NEGOTIATE_HEADER_MAX)
        return;
    memcpy(buf + n, EXTRA_ACCEPT, sizeof(EXTRA_ACCEPT));
    if (negotiate_format(buf, &again) != f || again != malformed)
        abort();
    buf[n] = '\0';
}

static void check_encoding(char *buf, size_t n)
{
    int malformed = -1, again = -1;
    enum negotiate_encoding e = negotiate_encoding(buf, &malformed);

    if ((e != NEGOTIATE_IDENTITY && e != NEGOTIATE_GZIP) || (malformed != 0 && malformed != 1))
        abort();
    if (malformed && e != NEGOTIATE_IDENTITY)
        abort();
    if (n + sizeof(EXTRA_ENCODING) - 1 > NEGOTIATE_HEADER_MAX)
        return;
    memcpy(buf + n, EXTRA_ENCODING, sizeof(EXTRA_ENCODING));
    if (negotiate_encoding(buf, &again) != e || again != malformed)
        abort();
    buf[n] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + EXTRA_MAX + 1);
    size_t n;

    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    n = strlen(buf); /* a header value ends at its first NUL, as libmicrohttpd hands it over */
    check_accept(buf, n);
    check_encoding(buf, n);
    free(buf);
    return 0;
}
