/*
 * http: the embedded HTTP server (libmicrohttpd, its own threads).
 *
 * Serves the current snapshot and nothing else: /metrics (GET/HEAD), the landing
 * page, /-/healthy and /-/ready. Every answer comes from an immutable snapshot
 * held by reference while libmicrohttpd sends it, so no request renders, copies
 * or waits for the poller.
 *
 * Hostile or broken clients cannot starve the scrapes: one client address may
 * hold at most HTTP_PER_IP_LIMIT connections (more are closed at accept), a
 * request's headers must be complete within HTTP_HEADER_DEADLINE_MS of the
 * connection's accept (else it is cut), and libmicrohttpd's complaints are
 * logged at most HTTP_LOG_BURST per minute. All three are counted in struct
 * http_counters (stats.h). The limits are in http.c.
 *
 * Web security (--web.config.file, exporter-toolkit's format, websec.h): TLS
 * from libmicrohttpd's own GnuTLS, with the certificates re-read when their
 * files change; basic auth on every path (bcrypt checks off the server's
 * thread, webauth.h); the file's extra response headers on every answer; its
 * rate limit. And --web.max-requests: past that many requests being served at
 * once, 503. Every refusal is counted by reason.
 */
#ifndef ELB_HTTP_H
#define ELB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "stats.h"

struct http_options {
    const char *host; /* "" = all addresses (dual-stack when possible) */
    uint16_t port;    /* 0 = any free port */
    const char *telemetry_path;
    struct snapshot_store *store;
    struct http_counters *counters; /* written by the server; must outlive it; NULL: none kept */
    const char *web_config_file;    /* --web.config.file; NULL: none (plain HTTP, no auth) */
    unsigned max_requests;          /* --web.max-requests; 0: no limit */
};

struct http_server;

/*
 * Bind and start serving. NULL on failure, with a one-line reason in err.
 * Raises the process's soft RLIMIT_NOFILE to its hard limit when the soft one
 * is too low for the connection limit (logged if even the hard one is).
 */
struct http_server *http_start(const struct http_options *o, char *err, size_t errsz);
/*
 * The address actually bound, as a URL: "http://127.0.0.1:39123/", "http://[::1]:39123/",
 * "https://..." with TLS.
 */
const char *http_url(const struct http_server *s);
/* Stop accepting, finish in-flight answers, free. Accepts NULL. */
void http_stop(struct http_server *s);

#endif
