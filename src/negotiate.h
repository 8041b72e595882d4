/*
 * negotiate: which representation of /metrics a request asked for. Pure.
 *
 * Two headers, each read the way RFC 9110 (sections 12.4 and 12.5) defines
 * them, with q-values:
 *
 * - Accept chooses the format: OpenMetrics 1.0.0 (also when a client asks for
 *   the draft version 0.0.1, whose wire form is the same; the answer then names
 *   0.0.1) or the text format 0.0.4. The most specific media range that matches
 *   a format gives its q (so "text/plain;q=0, * / *" refuses text and takes
 *   OpenMetrics); the highest q wins, a tie goes to the more specific range,
 *   then to the range written first, then to text. A version we do not serve
 *   (text/plain;version=1.0.0) matches nothing. Parameters other than version
 *   (charset, escaping: every name the exporter writes is a legacy name) do not
 *   narrow a match.
 * - Accept-Encoding chooses gzip or identity: gzip when its q (from "gzip",
 *   "x-gzip" or "*") is above 0 and not below identity's. identity is
 *   always acceptable unless "identity;q=0" or "*;q=0" says otherwise, but
 *   when neither it nor "*" is listed it ranks below any coding the client
 *   names ("gzip;q=0.8" gets gzip).
 *
 * Never an error: a header that is absent, empty or malformed (any syntax
 * error: one bad element spoils the header, we do not guess what the rest
 * meant) gets text 0.0.4 and identity, what every client understands. When
 * nothing the client lists is acceptable (text/plain;q=0 alone, or
 * identity;q=0 with no acceptable coding), the answer is text 0.0.4 and
 * identity as well, not 406: a scrape that gets data is worth more than one
 * refused, and node_exporter (client_golang) answers the same.
 */
#ifndef ELB_NEGOTIATE_H
#define ELB_NEGOTIATE_H

#include <stddef.h>

/* Longest header value read; a longer one is malformed (libmicrohttpd caps requests anyway). */
#define NEGOTIATE_HEADER_MAX 8192

enum negotiate_format {
    NEGOTIATE_TEXT_0_0_4 = 0,    /* text/plain; version=0.0.4 */
    NEGOTIATE_OPENMETRICS_1_0_0, /* application/openmetrics-text; version=1.0.0 */
    NEGOTIATE_OPENMETRICS_0_0_1, /* the same body, named as the draft version the client asked */
    NEGOTIATE_FORMAT_COUNT
};

enum negotiate_encoding { NEGOTIATE_IDENTITY = 0, NEGOTIATE_GZIP };

#define NEGOTIATE_CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define NEGOTIATE_CT_OPENMETRICS "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define NEGOTIATE_CT_OPENMETRICS_001 "application/openmetrics-text; version=0.0.1; charset=utf-8"

/*
 * The format for an Accept header value (NULL: no header). *malformed (may be
 * NULL) is set to 1 when the value did not parse (the answer is then text).
 */
enum negotiate_format negotiate_format(const char *accept, int *malformed);
/* The exact Content-Type of a format. */
const char *negotiate_content_type(enum negotiate_format f);
/* Is f one of the OpenMetrics formats? */
int negotiate_is_openmetrics(enum negotiate_format f);
/*
 * The coding for an Accept-Encoding header value (NULL: no header).
 * *malformed as above (the answer is then identity).
 */
enum negotiate_encoding negotiate_encoding(const char *accept_encoding, int *malformed);

#endif
