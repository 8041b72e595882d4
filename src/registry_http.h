/*
 * registry_http: the job registration API and POST /-/reload on the HTTP
 * server (libmicrohttpd). http.c routes /api/v1/... and /-/reload here.
 *
 *   GET  /api/v1/jobs             list (status, finished, profile, limit, after)
 *   POST /api/v1/jobs             register (--web.enable-admin-api)
 *   GET  /api/v1/jobs/{ref}       one job; ?wait=DUR holds the answer until it is finished
 *   DELETE /api/v1/jobs/{ref}     forget a registration (--web.enable-admin-api)
 *   POST /-/reload                what SIGHUP does (--web.enable-lifecycle)
 *
 * DESIGN. Four kinds of threads meet here, under one lock (struct
 * registry_http.lock), never held while rendering or doing I/O:
 *
 * - libmicrohttpd's thread runs every request. Reads come from the published
 *   snapshot's job index (jobindex.h); nothing here touches the job table.
 *   A request that must wait is suspended (MHD_suspend_connection, under the
 *   lock) and costs no thread: a waiter for a job to finish, or a write
 *   waiting for the table, the store or a reload.
 * - The poller thread applies registrations posted with poller_post and calls
 *   back (op_done) with what the table did, so the answer is exact: 201 new,
 *   200 already registered, 507 past --jobs.max. It also publishes snapshots;
 *   the snapshot listener (on_publish) resumes the waiters whose job is now
 *   finished or gone. Many waiters on one job cost nothing extra: they read
 *   the snapshot the poller publishes anyway, and never cause a poll.
 * - Worker threads (REGISTRY_WORKERS) make a registration durable
 *   (store_register / store_forget, which block on fsync and group-commit
 *   across callers) before the 2xx, and run POST /-/reload.
 * - The server's reaper thread calls registry_http_tick every 250 ms to end
 *   waits whose time is up.
 *
 * Every suspended request is resumed exactly once per suspension, by whoever
 * takes it off its list under the lock (listener, tick, op_done, worker or
 * registry_http_quiesce); libmicrohttpd then calls the handler again, which
 * looks at the request's state and answers, or suspends it again (a waiter
 * woken for a job that is not finished yet). A request's memory is freed when
 * libmicrohttpd is done with it and no callback still refers to it (refs).
 *
 * Capacity: waiting requests hold a connection each but are not active
 * requests; http.c counts them apart (http_conn_ops.wait_begin), with their
 * own per-address and global caps, so that they never use up the room kept
 * for scrapes, and a waiter gives back its place of --web.max-requests.
 *
 * http.c routes a request here only once its gate (client certificate, rate
 * limit, basic auth, --web.max-requests) has let it through, before any of
 * its body is read; every answer goes out through http_conn_ops.queue, which
 * adds the web config's headers.
 */
#ifndef ELB_REGISTRY_HTTP_H
#define ELB_REGISTRY_HTTP_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "jobtable.h"
#include "snapshot.h"

#define REGISTRY_WORKERS 4 /* threads for the store's fsyncs and reloads */
/* A GET for a job registered a moment ago waits at most this long for it to be published. */
#define REGISTRY_RECHECK_MS 5000

struct store; /* store.h */

struct registry_http_options {
    struct snapshot_store *snapshots;
    int admin;              /* --web.enable-admin-api: POST and DELETE */
    int lifecycle;          /* --web.enable-lifecycle: POST /-/reload */
    size_t jobs_max;        /* --jobs.max, for the refusal's message */
    const char *project_id; /* a create call's uri must name it; NULL: not checked */
    struct store *store;    /* registrations are durable in it before the 2xx; NULL: none */
    /* poller_post (poller.h): register or forget on the job table */
    int (*post)(void *arg, enum jobtable_op op, const struct api_profile *p, const char *id,
                const struct job_labels *labels, jobtable_done_fn done, void *done_arg);
    void *post_arg;
    /* what SIGHUP does; 0, or -errno with one line in err. Runs in a worker thread. */
    int (*reload)(void *arg, char *err, size_t errsz);
    void *reload_arg;
};

/* What http.c lends for waiting requests (the per-address accounting is its). */
struct http_conn_ops {
    /*
     * Connection c starts waiting: 0, -EUSERS when its address holds its cap of
     * waiting requests, -ENOSPC when the server holds its cap. *cap (may be
     * NULL) gets the cap that was hit, for the message.
     */
    int (*wait_begin)(void *srv, struct MHD_Connection *c, unsigned *cap);
    /* c waits no longer (idempotent). */
    void (*wait_end)(void *srv, struct MHD_Connection *c);
    /*
     * Queue r as c's answer (MHD_queue_response, with what the server adds to
     * every answer: the web config's headers). Every answer of the API goes
     * through here.
     */
    enum MHD_Result (*queue)(void *srv, struct MHD_Connection *c, unsigned code,
                             struct MHD_Response *r);
    void *srv;
};

struct registry_http;

/* Start the workers and listen to the snapshots. NULL with errno on failure. */
struct registry_http *registry_http_new(const struct registry_http_options *o);
/* The server's ops (http_start calls this before it serves). */
void registry_http_attach(struct registry_http *r, const struct http_conn_ops *ops);
/* Is url one of ours (/api/v1/..., /-/reload)? */
int registry_http_route(const char *url);
/*
 * libmicrohttpd's access handler for our URLs. *ctx is the request's context
 * (NULL on the first call; it is always set then, release it with
 * registry_http_completed).
 */
enum MHD_Result registry_http_request(struct registry_http *r, struct MHD_Connection *c,
                                      const char *url, const char *method, const char *upload_data,
                                      size_t *upload_data_size, void **ctx);
/* libmicrohttpd is done with a request (MHD_OPTION_NOTIFY_COMPLETED). */
void registry_http_completed(struct registry_http *r, void *ctx);
/* End the waits whose time is up (any thread; the reaper calls it). */
void registry_http_tick(struct registry_http *r, uint64_t now_ms);
/* Requests waiting now (waiters and writes), for logs and tests. */
size_t registry_http_suspended(struct registry_http *r);
/*
 * Shutting down: answer every suspended request 503 at once and every new one
 * too, so that libmicrohttpd can stop (it must not hold a suspended one).
 */
void registry_http_quiesce(struct registry_http *r);
/*
 * Stop the workers and free. Call after the HTTP server and the poller have
 * stopped (callbacks may still arrive until then). Accepts NULL.
 */
void registry_http_free(struct registry_http *r);

#endif
