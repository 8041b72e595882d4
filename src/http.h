/*
 * http: the embedded HTTP server (libmicrohttpd, its own threads).
 *
 * Serves the current snapshot: /metrics (GET/HEAD), the landing page,
 * /-/healthy and /-/ready; and routes /api/v1/... and /-/reload to the
 * registration API (registry_http.h), which may suspend a request that waits.
 * The pages come from an immutable snapshot held by reference while
 * libmicrohttpd sends it, so no scrape renders, copies or waits for the
 * poller; the API renders its small JSON answers from the snapshot's job index.
 *
 * Hostile or broken clients cannot starve the scrapes: one client address may
 * hold at most HTTP_PER_IP_LIMIT connections that are not waiting for a job
 * (more are closed at accept; waiting ones have caps of their own), a
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
 * once, 503 (a request of the API that waits for its job is not one of them
 * while it waits). Every refusal is counted by reason. The API is behind the
 * same gate as every other path, and its answers carry the same headers.
 */
#ifndef ELB_HTTP_H
#define ELB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "stats.h"

struct registry_http; /* registry_http.h */

struct http_options {
    const char *host; /* "" = all addresses (dual-stack when possible) */
    uint16_t port;    /* 0 = any free port */
    const char *telemetry_path;
    struct snapshot_store *store;
    struct http_counters *counters; /* written by the server; must outlive it; NULL: none kept */
    const char *web_config_file;    /* --web.config.file; NULL: none (plain HTTP, no auth) */
    unsigned max_requests;          /* --web.max-requests; 0: no limit */
    /* the registration API and POST /-/reload (registry_http.h), or NULL: they are 404 */
    struct registry_http *api;
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
