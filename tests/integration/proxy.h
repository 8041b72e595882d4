/*
 * proxy: a tiny HTTP proxy on 127.0.0.1 for the integration tests, so that a
 * test can show that the exporter goes through http_proxy / https_proxy (and
 * around them with no_proxy) the way curl users expect.
 *
 * It speaks the two forms a client uses with a plain-HTTP proxy:
 *   CONNECT 127.0.0.1:PORT          a tunnel (https:// URLs): "200 Connection
 *                                   established", then bytes both ways;
 *   GET http://127.0.0.1:PORT/path  absolute-URI (http:// URLs): the request
 *                                   is sent on in origin form with
 *                                   "Connection: close", the answer relayed.
 * Only 127.0.0.1 is ever connected to (anything else gets 403), at most
 * H_PROXY_CONNS connections at once (more are closed at once), a request head
 * of at most H_PROXY_HEAD_MAX bytes within H_PROXY_HEAD_TIMEOUT_S. Runs in its
 * own threads in the test process; h_proxy_stop() ends every one of them.
 */
#ifndef ELB_IT_PROXY_H
#define ELB_IT_PROXY_H

#include <stdint.h>

#define H_PROXY_CONNS 32            /* client connections served at once */
#define H_PROXY_HEAD_MAX 8192       /* bytes of a request head */
#define H_PROXY_HEAD_TIMEOUT_S 10.0 /* for the whole request head to arrive */
#define H_PROXY_TARGET_MAX 256      /* bytes kept of the last request target */

struct h_proxy;

/* What the proxy has seen so far. */
struct h_proxy_counts {
    unsigned long tunnels;                /* CONNECT requests it tunnelled */
    unsigned long forwards;               /* absolute-URI requests it forwarded */
    unsigned long refused;                /* bad, non-loopback or over-the-cap requests */
    char last_target[H_PROXY_TARGET_MAX]; /* request target of the last tunnel or forward */
};

/* Listen on 127.0.0.1 (a free port) and serve. Returns 0 or a negative errno. */
int h_proxy_start(struct h_proxy **out);
/* The bound port. */
uint16_t h_proxy_port(const struct h_proxy *p);
/* A consistent copy of the counts. */
void h_proxy_counts(struct h_proxy *p, struct h_proxy_counts *out);
/* Stop serving, close every connection, join every thread, free; accepts NULL. */
void h_proxy_stop(struct h_proxy *p);

#endif
