/*
 * http: the embedded HTTP server (libmicrohttpd, its own thread).
 *
 * Serves the current snapshot and nothing else: /metrics (GET/HEAD), the landing
 * page, /-/healthy and /-/ready. Every answer comes from an immutable snapshot
 * held by reference while libmicrohttpd sends it, so no request renders, copies
 * or waits for the poller.
 */
#ifndef ELB_HTTP_H
#define ELB_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"

struct http_options {
    const char *host; /* "" = all addresses (dual-stack when possible) */
    uint16_t port;    /* 0 = any free port */
    const char *telemetry_path;
    struct snapshot_store *store;
};

struct http_server;

/* Bind and start serving. NULL on failure, with a one-line reason in err. */
struct http_server *http_start(const struct http_options *o, char *err, size_t errsz);
/* The address actually bound, as a URL: "http://127.0.0.1:39123/", "http://[::1]:39123/". */
const char *http_url(const struct http_server *s);
/* Stop accepting, finish in-flight answers, free. Accepts NULL. */
void http_stop(struct http_server *s);

#endif
