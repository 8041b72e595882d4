/*
 * http: the embedded HTTP server (see http.h).
 *
 * DESIGN. libmicrohttpd runs one internal thread (accept, parse, answer, close)
 * and we add one, the reaper. They meet in the connection table, under
 * conn_lock:
 *
 * - libmicrohttpd's thread adds a slot when a connection starts (its fd, its
 *   peer address, a header deadline HTTP_HEADER_DEADLINE_MS after accept),
 *   clears the deadline when a request's headers are complete (on_request's
 *   first call), sets a new one when a request is over (the next request on a
 *   kept-alive connection), and frees the slot when the connection closes.
 * - The reaper wakes every HTTP_REAP_TICK_MS and shutdown(2)s every connection
 *   past its deadline. It does not close the fd: libmicrohttpd then reads
 *   end-of-file and closes the connection the ordinary way.
 * - libmicrohttpd 0.9.75 calls MHD_CONNECTION_NOTIFY_CLOSED before it closes
 *   the socket (MHD_cleanup_connections, and the failure path of
 *   new_connection_process_); our CLOSED handler takes conn_lock, so while the
 *   reaper holds it a slot's fd is open and still that connection's: it
 *   cannot be shut down after reuse by another connection.
 *
 * The per-address limit is ours, not MHD_OPTION_PER_IP_CONNECTION_LIMIT: the
 * accept policy callback counts the table's slots for the peer address and
 * refuses past HTTP_PER_IP_LIMIT. libmicrohttpd's own limit refuses with the
 * same log line as its global limit and nothing we could count by reason.
 * Accept, the policy callback and the STARTED notification all run in
 * libmicrohttpd's single internal thread, one connection after the other, so
 * the count cannot race with the slot being added.
 *
 * Waiting requests (GET /api/v1/jobs/{id}?wait=, registry_http.c) are
 * suspended connections: no thread, no timeout, no header deadline. Two pools
 * of connections keep them from the room kept for scrapes:
 *
 * - active: at most HTTP_PER_IP_LIMIT per address and HTTP_CONNECTION_LIMIT
 *   in all, as before waiting existed;
 * - the waiter pool (conn.pool): at most HTTP_WAITERS_PER_IP per address and
 *   HTTP_WAITERS_MAX in all (less when RLIMIT_NOFILE is short). A request that
 *   starts to wait moves its connection here (wait_begin; 429 / 503 from the
 *   registry past the caps). And a connection from an address whose active
 *   ones are all taken is accepted into this pool "on credit" instead of
 *   being refused: a burst of CI jobs starting their waits at once from one
 *   address (behind one NAT) arrives faster than their requests are read, so
 *   at accept most of them are not waiting yet. Whatever such a connection
 *   then sends, it never takes an active slot; a slowloris from one address
 *   holds at most HTTP_PER_IP_LIMIT + HTTP_WAITERS_PER_IP connections, each
 *   for the header deadline, and cannot touch the active pool of the others.
 *
 * A connection stays in the pool it joined (or moved to) until it closes.
 * libmicrohttpd's own limit is the sum of both pools.
 *
 * Logging: every complaint of libmicrohttpd is counted (server_errors), and it
 * and our own refusal and cut lines share one rate limiter under log_lock: at
 * most HTTP_LOG_BURST lines per HTTP_LOG_WINDOW_MS, then one line saying how
 * many were held back, written when the window is over (the reaper looks each
 * tick) or at stop. The two locks are never held together, and nothing is
 * logged while conn_lock is held.
 *
 * Web security (--web.config.file). Every request passes the gate (gate())
 * before it is routed: the client certificate's check (once per TLS
 * connection), the rate limit, basic auth, then --web.max-requests. All of it
 * runs in libmicrohttpd's thread, except bcrypt: a password the cache does not
 * know is checked by webauth's worker thread while the request is suspended
 * (MHD_suspend_connection); the worker's done callback stores the answer in
 * the request and resumes it, and the gate then goes on where it stopped. A
 * request lives in its connection's slot (a connection has one at a time), so
 * a suspended one is found again without an allocation. The web config's
 * generation (websec.h) is re-checked on every new connection and at most
 * once per HTTP_WEB_RECHECK_MS for requests on kept-alive ones; a TLS
 * connection keeps the generation its handshake used (its credentials) in its
 * slot until it closes, and a request the one it was judged with until it
 * completes (its headers). libmicrohttpd's own TLS credentials are never used:
 * each session gets its generation's before its handshake (on_connection), and
 * libmicrohttpd's certificate callback refuses, so a session we could not set
 * up fails its handshake instead of going out with something else.
 *
 * --web.max-requests counts requests between request_begin (the gate's last
 * step) and request_end (on_completed): the ones whose answers are being made
 * or sent. A request parked for a long time without work (a long poll) is to
 * call request_end before it suspends, so that it does not hold a place: a
 * waiter does, in wait_begin, and is not counted again when it is woken to
 * answer (its place would make a long wait end in a 503).
 *
 * The registration API (registry_http.c) is routed after the gate: a request
 * for /api/v1/... or /-/reload is judged like any other (client certificate,
 * rate limit, basic auth, --web.max-requests) on its first call, before the
 * API sees it or reads its body, and its answers go through queue_response
 * (the web config's headers), lent to the API in http_conn_ops. Two kinds of
 * suspension meet on one connection, one after the other and never at once:
 * the gate's (REQ_AUTH_WAIT, resumed by webauth's worker only) ends before
 * the request is routed, and the API's (a waiter, or a write waiting for the
 * table or the store) starts after it (REQ_PASSED), in the API's own request
 * context (request.api, resumed by the API only, and only while it is on the
 * API's suspended list). A resumed call is told apart by the phase: while it
 * is not REQ_PASSED the call is the gate's, after it the API's.
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>

#include "expfmt.h"
#include "log.h"
#include "negotiate.h"
#include "ratelimit.h"
#include "registry_http.h"
#include "timeutil.h"
#include "webauth.h"
#include "websec.h"
#include "webtls.h"

#define HTTP_CONNECTION_LIMIT 512 /* concurrent client connections that are not waiting */
#define HTTP_WAITERS_MAX 4096     /* connections waiting for a job (?wait=), all addresses */
#define HTTP_WAITERS_PER_IP 2048  /* of those, from one client address */
/* libmicrohttpd's limit, and the slots of our connection table */
#define HTTP_SLOTS (HTTP_CONNECTION_LIMIT + HTTP_WAITERS_MAX)
/*
 * libmicrohttpd's memory pool per connection (its default, made explicit): it
 * holds the request's headers and the answer's header block; bodies and
 * answers we send live outside it. Pages are touched only as used, so a
 * suspended waiter costs a few KiB of it (README, "Capacity").
 */
#define HTTP_CONNECTION_MEMORY (32u * 1024u)
#define HTTP_CONNECTION_TIMEOUT 30 /* seconds of client silence before closing */
#define HTTP_LISTEN_BACKLOG 128
#define HTTP_DRAIN_MS 1000    /* on stop, how long in-flight answers may take to finish */
#define HTTP_DRAIN_POLL_MS 10 /* how often the stop checks whether they have */
#define HTTP_PER_IP_LIMIT 64  /* connections one client address may hold at once, not waiting */
/* From accept until the first request's headers are complete. */
#define HTTP_HEADER_DEADLINE_MS 10000
/*
 * From the end of a request until the next one's headers are complete on a
 * kept-alive connection. An idle one is closed by the inactivity timeout
 * first, so only a connection that keeps trickling bytes is cut by this.
 */
#define HTTP_NEXT_HEADER_DEADLINE_MS (HTTP_CONNECTION_TIMEOUT * 1000 + HTTP_HEADER_DEADLINE_MS)
#define HTTP_REAP_TICK_MS 250 /* how often the reaper looks for connections past a deadline */
#define HTTP_LOG_BURST 10     /* complaints logged per window; the rest only counted */
#define HTTP_LOG_WINDOW_MS 60000
#define HTTP_FD_RESERVE 64 /* descriptors beyond client connections: listener, API, files */
#define HTTP_LINE_MAX 512  /* bytes of one complaint */
/* At most this often a request on a kept-alive connection looks for a changed web config. */
#define HTTP_WEB_RECHECK_MS 1000
#define HTTP_AUTH_CHALLENGE "Basic realm=\"elb_job_exporter\""

/* A client address, as the per-address limit compares them. */
struct peer {
    int family; /* AF_INET, AF_INET6; 0: not an IP peer (never limited) */
    unsigned char addr[16];
};

/* Where a request is in the gate. */
enum req_phase {
    REQ_NEW = 0,   /* not judged yet */
    REQ_AUTH_WAIT, /* suspended while webauth's worker checks its password */
    REQ_PASSED,    /* let through */
};

/* The request a connection is serving (see DESIGN); libmicrohttpd's thread only. */
struct request {
    struct http_server *srv;
    struct MHD_Connection *conn;
    struct websec_gen *gen; /* web config it is judged and answered with; NULL: none */
    enum req_phase phase;
    int counted;        /* holds a place of --web.max-requests (request_begin) */
    atomic_int auth_ok; /* webauth's answer, stored before the request is resumed */
    struct webauth_job job;
    void *api; /* the registration API's context (registry_http_request), or NULL */
};

/* One open client connection (a slot of the table). */
struct conn {
    int in_use;
    int fd;
    int pool;             /* in the waiter pool (on credit, or moved there by a wait) */
    int waiting;          /* a request on it waits now (registry_http.c) */
    int cut;              /* shut down by the reaper; libmicrohttpd has yet to close it */
    uint64_t deadline_ms; /* monotonic ms the pending request's headers are due; 0: none pending */
    struct peer peer;
    /* libmicrohttpd's thread only: */
    struct websec_gen *tls_gen; /* TLS: the generation its handshake used; held until close */
    gnutls_session_t session;   /* TLS: its session; NULL: plain HTTP */
    int peer_checked;           /* TLS: its client certificate passed webtls_check_peer */
    struct request req;
};

struct http_server {
    struct MHD_Daemon *daemon;
    int fd;
    char url[128];
    char *telemetry_path;
    struct snapshot_store *store;
    /*
     * Requests handed to on_request and not completed yet, waiting ones
     * included (counters->waiting of them are suspended waiters): what the
     * stop drains, after registry_http_quiesce has answered the waiters.
     * --web.max-requests counts apart (served), and not the waiters.
     */
    atomic_int active;
    struct registry_http *api; /* /api/v1/... and /-/reload, or NULL (404) */
    unsigned waiter_cap;       /* HTTP_WAITERS_MAX, or less when RLIMIT_NOFILE is short */
    unsigned n_pool;           /* slots in the waiter pool (conn_lock) */
    int accept_credit; /* on_accept let the next connection in on credit (one thread: see above) */
    struct http_counters *counters;
    struct http_counters own_counters; /* when the caller keeps none */

    pthread_mutex_t conn_lock; /* conns, stopping */
    pthread_cond_t reaper_wake;
    struct conn conns[HTTP_SLOTS]; /* libmicrohttpd never starts more at once */
    int stopping;
    pthread_t reaper;
    int reaper_started;

    pthread_mutex_t log_lock; /* log_limit */
    struct ratelimit log_limit;

    /* web security; libmicrohttpd's thread only unless said */
    struct websec *sec;      /* NULL: no --web.config.file */
    struct webauth *auth;    /* password checks (its own thread); NULL: no web config */
    int tls;                 /* the daemon speaks TLS */
    uint64_t sec_checked_ms; /* when the web config was last looked at */
    unsigned max_requests;   /* --web.max-requests; 0: no limit */
    atomic_int served;       /* requests between request_begin and request_end */
    /* rate_limit's token bucket (Go's rate.Limiter): refilled one per interval up to burst */
    uint64_t rate_interval_ms, rate_last_ms;
    unsigned rate_burst;
    double rate_tokens;
};

/* Marker stored in *con_cls after the first call for a request. */
static int request_seen;

/* ---- logging, rate-limited ---------------------------------------------- */

/* Say how many lines the limiter held back, if any. */
static void report_suppressed(uint64_t n)
{
    if (n)
        log_warn("http: %llu more messages suppressed (at most %u are logged per %u s)",
                 (unsigned long long)n, (unsigned)HTTP_LOG_BURST,
                 (unsigned)(HTTP_LOG_WINDOW_MS / 1000));
}

/* Log one complaint at warn unless the limiter holds it back. Never with conn_lock held. */
static void complain(struct http_server *srv, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void complain(struct http_server *srv, const char *fmt, ...)
{
    char line[HTTP_LINE_MAX];
    uint64_t dropped;
    va_list ap;
    int ok;

    pthread_mutex_lock(&srv->log_lock);
    dropped = ratelimit_roll(&srv->log_limit, time_mono_ms());
    ok = ratelimit_allow(&srv->log_limit);
    pthread_mutex_unlock(&srv->log_lock);
    report_suppressed(dropped);
    if (!ok)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_warn("http: %s", line);
}

/* libmicrohttpd's own complaints: every one counted, logged through the limiter. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct http_server *srv = cls;
    char line[HTTP_LINE_MAX];
    size_t n;

    atomic_fetch_add(&srv->counters->server_errors, 1);
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    complain(srv, "%s", line);
}

/* ---- the connection table ----------------------------------------------- */

/* The peer of sa (family 0 when it is not IPv4 or IPv6). */
static struct peer peer_of(const struct sockaddr *sa, socklen_t len)
{
    struct peer p;

    memset(&p, 0, sizeof(p));
    if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        p.family = AF_INET;
        memcpy(p.addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        p.family = AF_INET6;
        memcpy(p.addr, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    }
    return p;
}

static int peer_equal(const struct peer *a, const struct peer *b)
{
    return a->family == b->family && memcmp(a->addr, b->addr, sizeof(a->addr)) == 0;
}

/*
 * Accept policy: a connection joins the active pool while its address holds
 * fewer than HTTP_PER_IP_LIMIT active ones and the server fewer than
 * HTTP_CONNECTION_LIMIT; else the waiter pool, on credit, while that has room
 * for the address (HTTP_WAITERS_PER_IP) and in all (waiter_cap); else it is
 * refused (libmicrohttpd closes it at once), counted and logged.
 */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct http_server *srv = cls;
    struct peer p = peer_of(addr, addrlen);
    char text[INET6_ADDRSTRLEN];
    unsigned n = 0, active = 0, pooled = 0;
    int credit = 0;
    size_t i;

    pthread_mutex_lock(&srv->conn_lock);
    for (i = 0; i < HTTP_SLOTS; i++) {
        const struct conn *k = &srv->conns[i];
        int mine;
        if (!k->in_use)
            continue;
        mine = p.family && peer_equal(&k->peer, &p);
        if (k->pool) {
            pooled += (unsigned)mine;
            continue;
        }
        active++;
        n += (unsigned)mine;
    }
    if (n >= HTTP_PER_IP_LIMIT || active >= HTTP_CONNECTION_LIMIT)
        credit = p.family && pooled < HTTP_WAITERS_PER_IP && srv->n_pool < srv->waiter_cap;
    srv->accept_credit = credit;
    pthread_mutex_unlock(&srv->conn_lock);
    if ((n < HTTP_PER_IP_LIMIT && active < HTTP_CONNECTION_LIMIT) || credit)
        return MHD_YES;
    if (!p.family || !inet_ntop(p.family, p.addr, text, sizeof(text)))
        snprintf(text, sizeof(text), "?");
    if (n >= HTTP_PER_IP_LIMIT) {
        atomic_fetch_add(&srv->counters->refused[HTTP_REFUSE_PER_IP_LIMIT], 1);
        complain(srv,
                 "refused a connection from %s: %u already open from that address (the limit), "
                 "%u more in the waiter pool",
                 text, n, pooled);
    } else {
        atomic_fetch_add(&srv->counters->refused[HTTP_REFUSE_CONNECTION_LIMIT], 1);
        complain(srv, "refused a connection from %s: %u connections open (the limit)", text,
                 active);
    }
    return MHD_NO;
}

/* ---- the web config -------------------------------------------------------- */

/* Log each line of a (multi-line) problem text of the web config at level. */
static void log_lines(enum log_level level, const char *prefix, const char *text)
{
    const char *line = text, *nl;

    do {
        nl = strchr(line, '\n');
        log_msg(level, "%s%.*s", prefix, nl ? (int)(nl - line) : (int)strlen(line), line);
        line = nl ? nl + 1 : NULL;
    } while (line);
}

/* Log the notes (settings accepted but ignored) of the current web config. */
static void log_notes(struct http_server *srv)
{
    struct websec_gen *g = websec_acquire(srv->sec);
    const struct webconfig *w = websec_config(g);
    size_t i;

    for (i = 0; i < w->n_notes; i++)
        log_warn("web config %s: %s", websec_path(srv->sec), w->notes[i]);
    websec_release(g);
}

/*
 * Look whether the web config or a file it names changed (always when force,
 * else at most once per HTTP_WEB_RECHECK_MS), and reload it if so. A failed
 * reload keeps the last good generation; it is logged and counted, once per
 * change of the files. libmicrohttpd's thread.
 */
static void web_refresh(struct http_server *srv, int force)
{
    char err[WEBSEC_ERR_MAX];
    uint64_t now = time_mono_ms();

    if (!srv->sec || (!force && now - srv->sec_checked_ms < HTTP_WEB_RECHECK_MS))
        return;
    srv->sec_checked_ms = now;
    switch (websec_check(srv->sec, err, sizeof(err))) {
    case WEBSEC_RELOADED:
        atomic_store(&srv->counters->web_config_reload_ok, 1);
        atomic_store(&srv->counters->web_config_reload_ms, (uint64_t)(time_now() * 1000.0));
        log_info("web config %s reloaded (a file changed)", websec_path(srv->sec));
        log_notes(srv);
        break;
    case WEBSEC_FAILED:
        atomic_store(&srv->counters->web_config_reload_ok, 0);
        atomic_fetch_add(&srv->counters->web_config_reload_failures, 1);
        log_lines(LOGL_ERROR, "web config not reloaded, the last good one stays: ", err);
        break;
    case WEBSEC_UNCHANGED:
        break;
    }
}

/*
 * libmicrohttpd's certificate callback: never used for a session we set up
 * (they have our credentials), so refuse: a session we could not set up must
 * fail its handshake rather than go out with something else.
 */
static int no_certificate(gnutls_session_t s, const gnutls_datum_t *req_ca_rdn, int nreqs,
                          const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                          gnutls_pcert_st **pcert, unsigned int *pcert_length,
                          gnutls_privkey_t *privkey)
{
    (void)s, (void)req_ca_rdn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
    (void)pcert, (void)pcert_length, (void)privkey;
    return -1;
}

/*
 * A TLS connection starts: give its session the current generation's
 * credentials, priorities and client certificate request before the
 * handshake, and keep the generation in the slot until the connection closes.
 */
static void tls_setup(struct http_server *srv, struct MHD_Connection *c, struct conn *slot)
{
    const union MHD_ConnectionInfo *ti =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    struct websec_gen *g = websec_acquire(srv->sec);
    int rc =
        ti ? webtls_session_setup(websec_webtls(g), ti->tls_session) : GNUTLS_E_INVALID_SESSION;

    if (rc < 0) {
        websec_release(g);
        complain(srv, "cannot set up a TLS session: %s (its handshake will fail)",
                 gnutls_strerror(rc));
        return;
    }
    slot->tls_gen = g;
    slot->session = ti->tls_session;
}

/* A connection starts (add its slot, store it as the socket context) or closes (free it). */
static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct http_server *srv = cls;
    const union MHD_ConnectionInfo *fd, *addr;
    const struct sockaddr *sa;
    struct conn *slot = NULL;
    struct websec_gen *held[2] = {NULL, NULL};
    struct peer peer;
    size_t i;

    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        slot = *socket_context;
        if (slot) {
            /* libmicrohttpd has freed the TLS session: its credentials may go */
            held[0] = slot->tls_gen;
            held[1] = slot->req.gen; /* on_completed released it unless the request was cut */
            pthread_mutex_lock(&srv->conn_lock);
            if (slot->waiting)
                atomic_fetch_sub(&srv->counters->waiting, 1);
            if (slot->pool)
                srv->n_pool--;
            slot->pool = slot->waiting = 0;
            slot->in_use = 0;
            slot->fd = -1;
            slot->tls_gen = NULL;
            slot->session = NULL;
            slot->req.gen = NULL;
            pthread_mutex_unlock(&srv->conn_lock);
            websec_release(held[0]);
            websec_release(held[1]);
        }
        *socket_context = NULL;
        return;
    }
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    web_refresh(srv, 1); /* a new connection sees changed certificates, as exporter-toolkit's do */
    fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    addr = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    sa = addr ? addr->client_addr : NULL;
    /* libmicrohttpd keeps the address accept() gave, at the full length of its family */
    peer = peer_of(sa, sa && sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                       : sizeof(struct sockaddr_in));
    pthread_mutex_lock(&srv->conn_lock);
    for (i = 0; i < HTTP_SLOTS && !slot; i++)
        if (!srv->conns[i].in_use)
            slot = &srv->conns[i];
    if (slot) {
        *slot = (struct conn){
            .in_use = 1,
            .fd = fd ? fd->connect_fd : -1,
            .pool = srv->accept_credit, /* on_accept ran for this connection just before */
            .deadline_ms = time_mono_ms() + HTTP_HEADER_DEADLINE_MS,
            .peer = peer,
        };
        srv->n_pool += (unsigned)slot->pool;
    }
    srv->accept_credit = 0;
    pthread_mutex_unlock(&srv->conn_lock);
    /* no free slot cannot happen (the table is as large as the connection limit): untracked */
    if (slot && srv->tls)
        tls_setup(srv, c, slot);
    *socket_context = slot;
}

/* The slot of connection c, NULL if untracked. */
static struct conn *slot_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

/* Set (ms > 0: due then) or clear (0) the header deadline of connection c. */
static void set_deadline(struct http_server *srv, struct MHD_Connection *c, uint64_t ms)
{
    struct conn *slot = slot_of(c);

    if (!slot)
        return;
    pthread_mutex_lock(&srv->conn_lock);
    slot->deadline_ms = ms;
    pthread_mutex_unlock(&srv->conn_lock);
}

static void request_end(struct http_server *srv, struct request *q);

/*
 * A request on connection c starts waiting (registry_http.c suspends it
 * next). A connection in the waiter pool already may; an active one moves
 * there if the pool has room for its address and in all. 0, -EUSERS (the
 * address's cap, in *cap) or -ENOSPC (the server's). A waiter gives its place
 * of --web.max-requests back (see DESIGN). libmicrohttpd's thread.
 */
static int wait_begin(void *cls, struct MHD_Connection *c, unsigned *cap_out)
{
    struct http_server *srv = cls;
    struct conn *slot = slot_of(c);
    char text[INET6_ADDRSTRLEN] = "?";
    unsigned n = 0, cap = 0;
    size_t i;
    int rc = 0;

    if (cap_out)
        *cap_out = 0;
    if (!slot)
        return -ENOSPC;
    pthread_mutex_lock(&srv->conn_lock);
    if (slot->waiting) {
        pthread_mutex_unlock(&srv->conn_lock);
        request_end(srv, &slot->req);
        return 0;
    }
    if (slot->pool) {
        /* counted in the pool already: on credit, or a wait before this one on it */
    } else if (srv->n_pool >= srv->waiter_cap) {
        rc = -ENOSPC;
        cap = srv->waiter_cap;
    } else if (slot->peer.family) {
        for (i = 0; i < HTTP_SLOTS; i++)
            if (srv->conns[i].in_use && srv->conns[i].pool &&
                peer_equal(&srv->conns[i].peer, &slot->peer))
                n++;
        if (n >= HTTP_WAITERS_PER_IP) {
            rc = -EUSERS;
            cap = HTTP_WAITERS_PER_IP;
        }
    }
    if (rc == 0) {
        srv->n_pool += (unsigned)!slot->pool;
        slot->pool = 1;
        slot->waiting = 1;
    }
    if (slot->peer.family)
        inet_ntop(slot->peer.family, slot->peer.addr, text, sizeof(text));
    pthread_mutex_unlock(&srv->conn_lock);
    if (rc == 0) {
        atomic_fetch_add(&srv->counters->waiting, 1);
        request_end(srv, &slot->req); /* a waiter holds no place of --web.max-requests */
        return 0;
    }
    if (cap_out)
        *cap_out = cap;
    atomic_fetch_add(&srv->counters->waits_refused, 1);
    complain(srv, "refused a wait from %s: %u waiting requests %s (the limit)", text, cap,
             rc == -EUSERS ? "from that address" : "in all");
    return rc;
}

/*
 * The request on c waits no longer (idempotent). The connection stays in the
 * waiter pool until it closes: a thousand answered waiters do not flood the
 * active pool for the moment they take to close.
 */
static void wait_end(void *cls, struct MHD_Connection *c)
{
    struct http_server *srv = cls;
    struct conn *slot = slot_of(c);
    int was;

    if (!slot)
        return;
    pthread_mutex_lock(&srv->conn_lock);
    was = slot->waiting;
    slot->waiting = 0;
    pthread_mutex_unlock(&srv->conn_lock);
    if (was)
        atomic_fetch_sub(&srv->counters->waiting, 1);
}

/*
 * The reaper thread: every HTTP_REAP_TICK_MS, shut down connections past their
 * header deadline (counted, logged), and report what the log limiter held back
 * once its window is over. Ends when stopping is set.
 */
static void *reaper_main(void *arg)
{
    struct http_server *srv = arg;
    struct timespec until;
    uint64_t now, dropped;
    unsigned cut;
    size_t i;

    pthread_mutex_lock(&srv->conn_lock);
    while (!srv->stopping) {
        now = time_mono_ms();
        cut = 0;
        for (i = 0; i < HTTP_SLOTS; i++) {
            struct conn *k = &srv->conns[i];

            if (!k->in_use || k->cut || !k->deadline_ms || now < k->deadline_ms || k->fd < 0)
                continue;
            shutdown(k->fd, SHUT_RDWR); /* libmicrohttpd reads EOF and closes it */
            k->cut = 1;
            cut++;
        }
        pthread_mutex_unlock(&srv->conn_lock);

        /* waits whose time is up are answered (with the job's state then) */
        if (srv->api)
            registry_http_tick(srv->api, now);
        if (cut) {
            atomic_fetch_add(&srv->counters->cut[HTTP_CUT_HEADER_TIMEOUT], cut);
            complain(srv, "cut %u connection(s) whose request headers were not complete in %u s",
                     cut, (unsigned)(HTTP_HEADER_DEADLINE_MS / 1000));
        }
        pthread_mutex_lock(&srv->log_lock);
        dropped = ratelimit_roll(&srv->log_limit, now);
        pthread_mutex_unlock(&srv->log_lock);
        report_suppressed(dropped);

        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += HTTP_REAP_TICK_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        pthread_mutex_lock(&srv->conn_lock);
        if (!srv->stopping)
            pthread_cond_timedwait(&srv->reaper_wake, &srv->conn_lock, &until);
    }
    pthread_mutex_unlock(&srv->conn_lock);
    return NULL;
}

/* ---- answers ------------------------------------------------------------- */

static void release_snapshot(void *cls)
{
    snapshot_release(cls);
}

/* The request connection c is serving, NULL if c is untracked. */
static struct request *request_of(struct MHD_Connection *c)
{
    struct conn *slot = slot_of(c);

    return slot ? &slot->req : NULL;
}

/*
 * Queue r as c's answer with code, adding the web config's headers
 * (http_server_config.headers): every answer goes through here.
 */
static enum MHD_Result queue_response(struct MHD_Connection *c, unsigned code,
                                      struct MHD_Response *r)
{
    struct request *q = request_of(c);
    size_t i;

    if (q && q->gen) {
        const struct webconfig *w = websec_config(q->gen);

        for (i = 0; i < w->n_headers; i++)
            MHD_add_response_header(r, w->headers[i].name, w->headers[i].value);
    }
    return MHD_queue_response(c, code, r);
}

/* queue_response lent to the registration API (http_conn_ops.queue). */
static enum MHD_Result api_queue(void *cls, struct MHD_Connection *c, unsigned code,
                                 struct MHD_Response *r)
{
    (void)cls;
    return queue_response(c, code, r);
}

/* Queue a fixed text answer; extra_name/extra_value: one more header, or NULL. */
static enum MHD_Result answer_text_with(struct MHD_Connection *c, unsigned code, const char *text,
                                        const char *extra_name, const char *extra_value)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (extra_name)
        MHD_add_response_header(r, extra_name, extra_value);
    ret = queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* Queue a fixed text answer. */
static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned code, const char *text,
                                   const char *allow)
{
    return answer_text_with(c, code, text, allow ? MHD_HTTP_HEADER_ALLOW : NULL, allow);
}

/*
 * Queue page pg of snapshot s (the answer holds the reference until sent), or
 * its gzip form (the page after it) when gzip is asked for and there is one:
 * Content-Encoding then says so. vary: the request headers the choice read.
 */
static enum MHD_Result answer_snapshot(struct MHD_Connection *c, struct snapshot *s,
                                       enum snapshot_page pg, int gzip, const char *type,
                                       const char *vary)
{
    const struct snapshot_buf *b = &s->page[pg];
    struct MHD_IoVec iov[SNAPSHOT_IOV_MAX];
    struct MHD_Response *r;
    enum MHD_Result ret;
    size_t i;

    gzip = gzip && s->page[pg + 1].data; /* no gzip form (compression failed): identity */
    if (gzip)
        b = &s->page[pg + 1];
    if (b->iov) { /* pieces of a shared body (snapshot.h) */
        for (i = 0; i < b->n_iov && i < SNAPSHOT_IOV_MAX; i++) {
            iov[i].iov_base = b->iov[i].iov_base;
            iov[i].iov_len = b->iov[i].iov_len;
        }
        r = MHD_create_response_from_iovec(iov, (unsigned)i, release_snapshot, s);
    } else {
        r = MHD_create_response_from_buffer_with_free_callback_cls(b->len, b->data,
                                                                   release_snapshot, s);
    }
    if (!r) {
        snapshot_release(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, vary);
    if (gzip)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
    ret = queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Does the request's Accept-Encoding take gzip (negotiate.h)? */
static int wants_gzip(struct MHD_Connection *c)
{
    const char *ae =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

    return negotiate_encoding(ae, NULL) == NEGOTIATE_GZIP;
}

/*
 * The exposition: the format Accept asks for (text 0.0.4 or OpenMetrics, with
 * its exact Content-Type), gzip'd when Accept-Encoding takes it, both already
 * in the snapshot. HEAD gets the same headers (libmicrohttpd leaves out the body).
 */
static enum MHD_Result answer_metrics(struct MHD_Connection *c, struct snapshot *s)
{
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    enum negotiate_format f = negotiate_format(accept, NULL);

    return answer_snapshot(c, s,
                           negotiate_is_openmetrics(f) ? SNAPSHOT_OPENMETRICS : SNAPSHOT_METRICS,
                           wants_gzip(c), negotiate_content_type(f), "Accept-Encoding, Accept");
}

/* Does the request announce a body (Content-Length other than 0, or Transfer-Encoding)? */
static int has_body(struct MHD_Connection *c)
{
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return 1;
    return len && strspn(len, "0") != strlen(len);
}

/* ---- the gate -------------------------------------------------------------- */

/* Count a refused request by reason. */
static void refused(struct http_server *srv, enum http_request_refuse_reason why)
{
    atomic_fetch_add(&srv->counters->requests_refused[why], 1);
}

/*
 * Take a place of --web.max-requests for q (once). 0 when all are taken (q
 * takes none). A request that parks without work for long calls request_end.
 */
static int request_begin(struct http_server *srv, struct request *q)
{
    if (q->counted)
        return 1;
    if (atomic_fetch_add(&srv->served, 1) >= (int)srv->max_requests && srv->max_requests) {
        atomic_fetch_sub(&srv->served, 1);
        return 0;
    }
    q->counted = 1;
    return 1;
}

/* Give q's place back (if it holds one). */
static void request_end(struct http_server *srv, struct request *q)
{
    if (q->counted) {
        atomic_fetch_sub(&srv->served, 1);
        q->counted = 0;
    }
}

/*
 * rate_limit: take a token from the bucket of the web config's interval and
 * burst (a changed setting starts a full bucket). 1 = allowed.
 */
static int rate_allow(struct http_server *srv, const struct webconfig *w)
{
    uint64_t now = time_mono_ms();

    if (!w->rate_interval_ms)
        return 1;
    if (srv->rate_interval_ms != w->rate_interval_ms || srv->rate_burst != w->rate_burst) {
        srv->rate_interval_ms = w->rate_interval_ms;
        srv->rate_burst = w->rate_burst;
        srv->rate_tokens = w->rate_burst;
        srv->rate_last_ms = now;
    }
    srv->rate_tokens += (double)(now - srv->rate_last_ms) / (double)w->rate_interval_ms;
    if (srv->rate_tokens > w->rate_burst)
        srv->rate_tokens = w->rate_burst;
    srv->rate_last_ms = now;
    if (srv->rate_tokens < 1.0)
        return 0;
    srv->rate_tokens -= 1.0;
    return 1;
}

/* From webauth's worker: store the answer and let the request go on (on_request again). */
static void on_auth_done(struct webauth_job *job, int ok)
{
    struct request *q = job->cls;

    atomic_store(&q->auth_ok, ok);
    MHD_resume_connection(q->conn);
}

static enum MHD_Result answer_unauthorized(struct http_server *srv, struct MHD_Connection *c)
{
    refused(srv, HTTP_REQ_REFUSE_UNAUTHORIZED);
    return answer_text_with(c, MHD_HTTP_UNAUTHORIZED, "401 Unauthorized\n",
                            MHD_HTTP_HEADER_WWW_AUTHENTICATE, HTTP_AUTH_CHALLENGE);
}

/*
 * Basic auth for q (the web config has users). Answers a refusal itself
 * (*ret), or suspends q until webauth's worker has checked the password.
 * Returns 1 = let through, 0 = answered or suspended.
 */
static int gate_auth(struct http_server *srv, struct MHD_Connection *c, struct request *q,
                     enum MHD_Result *ret)
{
    const struct webconfig *w = websec_config(q->gen);
    const struct webconfig_user *u;
    char *user, *pass = NULL;
    enum webauth_result r;

    user = MHD_basic_auth_get_username_password(c, &pass);
    if (!user || !pass) {
        free(user);
        free(pass);
        *ret = answer_unauthorized(srv, c);
        return 0;
    }
    u = webconfig_user(w, user, strlen(user));
    q->job.done = on_auth_done;
    q->job.cls = q;
    atomic_store(&q->auth_ok, 0);
    /* an unknown user is checked against the dummy hash: the same work, then denied */
    r = webauth_check(srv->auth, user, strlen(user), pass, strlen(pass),
                      u ? u->hash : websec_dummy_hash(q->gen), u != NULL, &q->job);
    explicit_bzero(pass, strlen(pass));
    free(pass);
    free(user);
    switch (r) {
    case WEBAUTH_OK:
        return 1;
    case WEBAUTH_PENDING:
        q->phase = REQ_AUTH_WAIT;
        MHD_suspend_connection(c);
        *ret = MHD_YES;
        return 0;
    case WEBAUTH_BUSY:
        refused(srv, HTTP_REQ_REFUSE_AUTH_BUSY);
        *ret = answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "503 too many password checks waiting; try again\n", NULL);
        return 0;
    case WEBAUTH_DENIED:
    default:
        *ret = answer_unauthorized(srv, c);
        return 0;
    }
}

/*
 * Judge request q before it is routed (see DESIGN): the client certificate
 * (once per TLS connection), rate_limit, basic auth, --web.max-requests.
 * Returns 1 = route it, 0 = answered or suspended (*ret: on_request's result).
 */
static int gate(struct http_server *srv, struct MHD_Connection *c, struct request *q,
                enum MHD_Result *ret)
{
    struct conn *slot = slot_of(c);
    const struct webconfig *w = q->gen ? websec_config(q->gen) : NULL;
    char why[256];

    if (q->phase == REQ_PASSED)
        return 1;
    if (q->phase == REQ_AUTH_WAIT) { /* resumed: the worker has answered */
        q->phase = REQ_NEW;
        if (!atomic_load(&q->auth_ok)) {
            *ret = answer_unauthorized(srv, c);
            return 0;
        }
        goto limit;
    }
    if (slot && slot->tls_gen && !slot->peer_checked) {
        if (webtls_check_peer(websec_webtls(slot->tls_gen), slot->session, why, sizeof(why)) !=
            WEBTLS_PEER_OK) {
            refused(srv, HTTP_REQ_REFUSE_CLIENT_CERT);
            complain(srv, "refused a request: %s", why);
            *ret = answer_text_with(c, MHD_HTTP_FORBIDDEN, "403 client certificate refused\n",
                                    MHD_HTTP_HEADER_CONNECTION, "close");
            return 0;
        }
        slot->peer_checked = 1;
    }
    if (w && !rate_allow(srv, w)) {
        refused(srv, HTTP_REQ_REFUSE_RATE_LIMIT);
        *ret = answer_text(c, MHD_HTTP_TOO_MANY_REQUESTS, "429 Too Many Requests\n", NULL);
        return 0;
    }
    if (w && w->n_users && !gate_auth(srv, c, q, ret))
        return 0;
limit:
    if (!request_begin(srv, q)) {
        refused(srv, HTTP_REQ_REFUSE_MAX_REQUESTS);
        *ret = answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "503 too many requests being served (--web.max-requests); try again\n",
                           NULL);
        return 0;
    }
    q->phase = REQ_PASSED;
    return 1;
}

/* The first call for a request (its headers are complete): set up its state in the slot. */
static struct request *request_start(struct http_server *srv, struct MHD_Connection *c)
{
    struct request *q = request_of(c);

    if (!q)
        return NULL;
    websec_release(q->gen); /* cannot be set: on_completed released it */
    q->srv = srv;
    q->conn = c;
    q->gen = NULL;
    q->phase = REQ_NEW;
    q->counted = 0;
    q->api = NULL; /* on_completed handed the last one back */
    if (srv->sec) {
        web_refresh(srv, 0);
        q->gen = websec_acquire(srv->sec);
    }
    return q;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct snapshot *s;
    struct request *q;
    enum MHD_Result ret;
    int get, api;

    (void)version;
    api = srv->api && registry_http_route(url);
    if (*con_cls == NULL) {
        q = request_start(srv, c);
        *con_cls = q ? (void *)q : (void *)&request_seen;
        atomic_fetch_add(&srv->active, 1); /* until on_completed */
        set_deadline(srv, c, 0);           /* the headers are complete */
        /*
         * We take no bodies but the API's. Answering now makes libmicrohttpd
         * discard one unread (and close the connection) instead of feeding us a
         * body of any size. The API is judged on this call, before its body.
         */
        if (!api && !has_body(c))
            return MHD_YES; /* answer on the next call: keeps the connection alive */
    }
    q = *con_cls == (void *)&request_seen ? NULL : *con_cls;
    if (!api && *upload_data_size != 0) {
        *upload_data_size = 0; /* not announced, still not ours: discard */
        return MHD_YES;
    }
    /* untracked: cannot happen (a slot per connection); cannot be judged, nor hold the API's state
     */
    if (!q && (srv->sec || srv->max_requests || api))
        return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "503 server busy\n", NULL);
    /*
     * The gate first, for every URL. Until it has let q through (REQ_PASSED),
     * every call is the gate's: its first, or the one after webauth's worker
     * resumed q; only then does the API see q (its first call, without body
     * data: the gate runs before libmicrohttpd reads any), and every later
     * call, resumed by the API or carrying the body, goes to the API at once.
     */
    if (q && !gate(srv, c, q, &ret))
        return ret;
    if (api) {
        /* bounded bodies (POST /api/v1/jobs); it may suspend q (its own state, request.api) */
        return registry_http_request(srv->api, c, url, method, upload_data, upload_data_size,
                                     &q->api);
    }
    get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

    if (strcmp(url, srv->telemetry_path) == 0 || strcmp(url, "/") == 0) {
        int metrics = strcmp(url, "/") != 0;
        if (!get)
            return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
                               "GET, HEAD");
        s = snapshot_acquire(srv->store);
        if (!s)
            return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no data yet\n", NULL);
        if (metrics)
            return answer_metrics(c, s);
        return answer_snapshot(c, s, SNAPSHOT_LANDING, wants_gzip(c), "text/html; charset=utf-8",
                               "Accept-Encoding");
    }
    if (strcmp(url, "/-/healthy") == 0) {
        if (!get)
            return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
                               "GET, HEAD");
        return answer_text(c, MHD_HTTP_OK, "elb_job_exporter is Healthy.\n", NULL);
    }
    if (strcmp(url, "/-/ready") == 0) {
        int ready;
        if (!get)
            return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
                               "GET, HEAD");
        s = snapshot_acquire(srv->store);
        ready = s && s->cycles > 0;
        snapshot_release(s);
        if (ready)
            return answer_text(c, MHD_HTTP_OK, "elb_job_exporter is Ready.\n", NULL);
        return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "elb_job_exporter is not ready: the first poll cycle has not "
                           "finished.\n",
                           NULL);
    }
    return answer_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n", NULL);
}

/*
 * A request handed to on_request is over (answered, failed or cut): it is no
 * longer in flight, and the next one's headers are due (kept-alive connection).
 */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;
    struct request *q = *con_cls == (void *)&request_seen ? NULL : *con_cls;

    (void)toe;
    if (q) {
        if (q->api)
            registry_http_completed(srv->api, q->api); /* it may outlive this: refs */
        q->api = NULL;
        request_end(srv, q);
        websec_release(q->gen);
        q->gen = NULL;
        q->phase = REQ_NEW;
    }
    if (*con_cls != NULL)
        atomic_fetch_sub(&srv->active, 1);
    *con_cls = NULL;
    set_deadline(srv, c, time_mono_ms() + HTTP_NEXT_HEADER_DEADLINE_MS);
}

/*
 * Bind and listen on the first address of res that takes it (dual_stack: an
 * IPv6 socket also accepts IPv4). Returns the fd, or -1 with *saved = errno.
 */
static int listen_first(const struct addrinfo *res, int dual_stack, int *saved)
{
    const struct addrinfo *ai;
    int fd, one = 1, zero = 0;

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            *saved = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6 && dual_stack)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, HTTP_LISTEN_BACKLOG) == 0)
            return fd;
        *saved = errno;
        close(fd);
    }
    return -1;
}

/* Open, bind and listen; returns the fd or -1 with err set. */
static int open_listener(const char *host, uint16_t port, char *url, size_t urlsz, char *err,
                         size_t errsz)
{
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char portstr[8], addr[INET6_ADDRSTRLEN];
    int fd = -1, rc, saved = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = host[0] ? AF_UNSPEC : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
    if (rc == 0) {
        fd = listen_first(res, !host[0], &saved);
        freeaddrinfo(res);
    }
    /* all addresses, but no usable IPv6 (kernel without it, ipv6.disable=1): plain IPv4 */
    if (!host[0] && fd < 0 && (rc != 0 || saved == EAFNOSUPPORT || saved == EADDRNOTAVAIL)) {
        hints.ai_family = AF_INET;
        rc = getaddrinfo(NULL, portstr, &hints, &res);
        if (rc == 0) {
            fd = listen_first(res, 0, &saved);
            freeaddrinfo(res);
        }
    }
    if (rc != 0) {
        snprintf(err, errsz, "cannot resolve listen address \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    if (fd < 0) {
        snprintf(err, errsz, "cannot listen on \"%s:%u\": %s", host, (unsigned)port,
                 strerror(saved));
        return -1;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a6->sin6_addr, addr, sizeof(addr));
            snprintf(url, urlsz, "http://[%s]:%u/", host[0] ? addr : "::", ntohs(a6->sin6_port));
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a4->sin_addr, addr, sizeof(addr));
            snprintf(url, urlsz, "http://%s:%u/", addr, ntohs(a4->sin_port));
        }
    }
    return fd;
}

/*
 * Make room for HTTP_SLOTS clients (active and waiting) plus our own
 * descriptors: raise the soft RLIMIT_NOFILE to the hard limit if it is lower
 * than that (the server polls with epoll, so high descriptor numbers are
 * fine). Returns the waiter cap the limit leaves room for: HTTP_WAITERS_MAX,
 * or what is left after the active connections and our own (logged).
 */
static unsigned ensure_fd_room(void)
{
    const rlim_t need = HTTP_SLOTS + HTTP_FD_RESERVE,
                 base = HTTP_CONNECTION_LIMIT + HTTP_FD_RESERVE;
    struct rlimit rl;
    unsigned cap;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return HTTP_WAITERS_MAX;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || getrlimit(RLIMIT_NOFILE, &rl) != 0)
        getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
        return HTTP_WAITERS_MAX;
    cap = rl.rlim_cur > base ? (unsigned)(rl.rlim_cur - base) : 0;
    if (rl.rlim_cur < base)
        log_warn("http: RLIMIT_NOFILE is %llu descriptors, fewer than the %u client connections "
                 "and %u more the exporter may need",
                 (unsigned long long)rl.rlim_cur, (unsigned)HTTP_CONNECTION_LIMIT,
                 (unsigned)HTTP_FD_RESERVE);
    log_warn("http: RLIMIT_NOFILE is %llu descriptors: at most %u waiting requests instead of %u "
             "(raise LimitNOFILE to %llu)",
             (unsigned long long)rl.rlim_cur, cap, (unsigned)HTTP_WAITERS_MAX,
             (unsigned long long)need);
    return cap;
}

/* Free a server that is not (or no longer) serving; accepts a half-built one. */
static void server_free(struct http_server *s, int locks)
{
    if (locks) {
        pthread_cond_destroy(&s->reaper_wake);
        pthread_mutex_destroy(&s->conn_lock);
        pthread_mutex_destroy(&s->log_lock);
    }
    webauth_free(s->auth);
    websec_free(s->sec);
    free(s->telemetry_path);
    free(s);
}

/* Set up the locks and the condition variable (monotonic clock). Returns 0 or -errno. */
static int init_locks(struct http_server *s)
{
    pthread_condattr_t ca;
    int rc;

    rc = pthread_condattr_init(&ca);
    if (rc)
        return -rc;
    rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&s->reaper_wake, &ca);
    pthread_condattr_destroy(&ca);
    if (rc)
        return -rc;
    rc = pthread_mutex_init(&s->conn_lock, NULL);
    if (rc) {
        pthread_cond_destroy(&s->reaper_wake);
        return -rc;
    }
    rc = pthread_mutex_init(&s->log_lock, NULL);
    if (rc) {
        pthread_mutex_destroy(&s->conn_lock);
        pthread_cond_destroy(&s->reaper_wake);
        return -rc;
    }
    return 0;
}

/*
 * The web security half of http_start: read --web.config.file (a bad one
 * fails the start with its problems in err), start the password checker when
 * it has users, set --web.max-requests. Returns 0 or -1.
 */
static int web_start(struct http_server *s, const struct http_options *o, char *err, size_t errsz)
{
    char why[WEBSEC_ERR_MAX];
    const struct webconfig *w;
    struct websec_gen *g;

    s->max_requests = o->max_requests;
    atomic_init(&s->served, 0);
    if (!o->web_config_file)
        return 0;
    if (websec_open(o->web_config_file, &s->sec, why, sizeof(why)) != 0) {
        snprintf(err, errsz, "--web.config.file: %s", why);
        return -1;
    }
    s->tls = websec_tls(s->sec);
    if (s->tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
        snprintf(err, errsz, "--web.config.file asks for TLS, and this libmicrohttpd has none");
        return -1;
    }
    /* the worker also runs when there are no users yet: a reload may add some */
    s->auth = webauth_new();
    if (!s->auth) {
        snprintf(err, errsz, "cannot start the password checker: %s", strerror(errno));
        return -1;
    }
    s->sec_checked_ms = time_mono_ms();
    atomic_store(&s->counters->web_config, 1);
    atomic_store(&s->counters->web_config_reload_ok, 1);
    atomic_store(&s->counters->web_config_reload_ms, (uint64_t)(time_now() * 1000.0));
    g = websec_acquire(s->sec);
    w = websec_config(g);
    log_info("web config %s: TLS %s, basic auth %s (%zu user%s), %zu extra header%s%s",
             o->web_config_file, s->tls ? "on" : "off", w->n_users ? "on" : "off", w->n_users,
             w->n_users == 1 ? "" : "s", w->n_headers, w->n_headers == 1 ? "" : "s",
             w->rate_interval_ms ? ", rate limit on" : "");
    if (w->n_users && !s->tls)
        log_warn("web config %s: basic auth without TLS sends the passwords in clear text",
                 o->web_config_file);
    websec_release(g);
    log_notes(s);
    return 0;
}

struct http_server *http_start(const struct http_options *o, char *err, size_t errsz)
{
    struct http_server *s = calloc(1, sizeof(*s));
    int rc, locks = 0;

    if (!s) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    atomic_init(&s->active, 0);
    s->store = o->store;
    s->api = o->api;
    s->counters = o->counters ? o->counters : &s->own_counters;
    ratelimit_init(&s->log_limit, HTTP_LOG_BURST, HTTP_LOG_WINDOW_MS, time_mono_ms());
    s->telemetry_path = strdup(o->telemetry_path);
    if (!s->telemetry_path) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    rc = init_locks(s);
    if (rc) {
        snprintf(err, errsz, "cannot set up the HTTP server: %s", strerror(-rc));
        goto fail;
    }
    locks = 1;
    if (web_start(s, o, err, errsz) != 0)
        goto fail;
    s->waiter_cap = ensure_fd_room();
    if (s->api) {
        const struct http_conn_ops ops = {wait_begin, wait_end, api_queue, s};
        registry_http_attach(s->api, &ops);
    }
    s->fd = open_listener(o->host, o->port, s->url, sizeof(s->url), err, errsz);
    if (s->fd < 0)
        goto fail;
    if (s->tls) {
        /* "http://..." becomes "https://...": the url has room, it is far shorter than the buffer
         */
        size_t n = strlen(s->url);

        if (n + 1 < sizeof(s->url) && strncmp(s->url, "http://", 7) == 0) {
            memmove(s->url + 5, s->url + 4, n - 4 + 1);
            s->url[4] = 's';
        }
    }
    {
        /* TLS: libmicrohttpd's own credentials only refuse (no_certificate, see DESIGN) */
        struct MHD_OptionItem tls_opts[] = {
            {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)no_certificate},
            {MHD_OPTION_END, 0, NULL},
        };
        /*
         * Suspend/resume always: requests wait for bcrypt (web config with
         * users) and the API's waiters and writes wait for their job, the
         * table or the store.
         */
        unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                         MHD_ALLOW_SUSPEND_RESUME;

        if (s->tls)
            flags |= MHD_USE_TLS;
        s->daemon = MHD_start_daemon(
            flags, 0, on_accept, s, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
            MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_SLOTS,
            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_CONNECTION_TIMEOUT,
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION,
            on_connection, s, MHD_OPTION_ARRAY, s->tls ? tls_opts : tls_opts + 1, MHD_OPTION_END);
    }
    if (!s->daemon) {
        snprintf(err, errsz, "cannot start the HTTP server on %s", s->url);
        close(s->fd);
        goto fail;
    }
    rc = pthread_create(&s->reaper, NULL, reaper_main, s);
    if (rc) {
        snprintf(err, errsz, "cannot start the HTTP server's reaper thread: %s", strerror(rc));
        MHD_stop_daemon(s->daemon);
        close(s->fd);
        goto fail;
    }
    s->reaper_started = 1;
    return s;
fail:
    server_free(s, locks);
    return NULL;
}

const char *http_url(const struct http_server *s)
{
    return s->url;
}

void http_stop(struct http_server *s)
{
    const struct timespec tick = {0, HTTP_DRAIN_POLL_MS * 1000000L};
    uint64_t deadline, dropped;
    int fd;

    if (!s)
        return;
    /*
     * Stop accepting first, then give answers being sent a bounded time to
     * finish: MHD_stop_daemon closes every connection, also one mid-answer.
     */
    fd = MHD_quiesce_daemon(s->daemon);
    /* waiting requests are answered 503 now: libmicrohttpd must not stop with one suspended */
    registry_http_quiesce(s->api);
    deadline = time_mono_ms() + HTTP_DRAIN_MS;
    while (atomic_load(&s->active) > 0 && time_mono_ms() < deadline)
        nanosleep(&tick, NULL);
    if (atomic_load(&s->active) > 0)
        log_warn("http: stopping with %d answers still being sent", atomic_load(&s->active));
    /*
     * libmicrohttpd must not be stopped with a suspended connection: the
     * password checker answers what still waits (denied) and resumes it, and
     * takes no more (a new request gets 503).
     */
    webauth_shutdown(s->auth);
    pthread_mutex_lock(&s->conn_lock);
    s->stopping = 1;
    pthread_cond_signal(&s->reaper_wake);
    pthread_mutex_unlock(&s->conn_lock);
    if (s->reaper_started)
        pthread_join(s->reaper, NULL);
    MHD_stop_daemon(s->daemon);
    if (fd >= 0)
        close(fd);
    /* what the limiter held back since its last report */
    pthread_mutex_lock(&s->log_lock);
    dropped = ratelimit_drain(&s->log_limit);
    pthread_mutex_unlock(&s->log_lock);
    report_suppressed(dropped);
    server_free(s, 1);
}
