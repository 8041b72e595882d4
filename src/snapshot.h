/*
 * snapshot: the immutable, reference-counted result of one poll cycle.
 *
 * DESIGN. The poller renders everything a client can ask for (the exposition
 * in both formats, the landing page, and the gzip form of each) once per cycle
 * into a new snapshot, then publishes it with a pointer swap. HTTP threads acquire the current
 * snapshot (one short mutex hold to read the pointer and take a reference), serve straight from its
 * buffers without copying, and release it when libmicrohttpd is done sending.
 * A snapshot is never modified after publication, so readers need no locks;
 * the last release frees it. Scrapes never wait for the API or for rendering.
 * A listener (snapshot_store_listen) hears of every publish: the API wakes
 * the requests waiting for a job from it.
 */
#ifndef ELB_SNAPSHOT_H
#define ELB_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * The pages a snapshot holds, each rendered (or kept) on its own. A *_GZ page
 * is the gzip of the page before it in the same snapshot, or NULL (gzip failed:
 * that page is served identity); when the page before it was kept from an
 * older snapshot, so is its gzip form, so the two always hold the same bytes.
 * The two expositions are rendered together and share their sample lines
 * (expfmt_render_both): SNAPSHOT_METRICS is the text exposition, one buffer;
 * SNAPSHOT_OPENMETRICS owns only its metadata and is a list of pieces of that
 * and of the text's samples; the two are always kept (borrowed) together.
 */
enum snapshot_page {
    SNAPSHOT_METRICS = 0,    /* text format 0.0.4 */
    SNAPSHOT_METRICS_GZ,     /* its gzip */
    SNAPSHOT_OPENMETRICS,    /* OpenMetrics 1.0.0 */
    SNAPSHOT_OPENMETRICS_GZ, /* its gzip */
    SNAPSHOT_LANDING,        /* HTML landing page */
    SNAPSHOT_LANDING_GZ,     /* its gzip */
    SNAPSHOT_PAGES
};

#define SNAPSHOT_IOV_MAX 128 /* pieces of one page at most (EXPFMT_SPANS_MAX) */

struct jobindex; /* jobindex.h */

struct snapshot_buf {
    char *data;        /* bytes this page owns (freed with the snapshot), or NULL */
    size_t len;        /* bytes of the page */
    struct iovec *iov; /* owned: the page as pieces (of its own or another page's data); */
    size_t n_iov;      /*   iov NULL: the page is data[0..len) */
};

struct snapshot {
    struct snapshot_buf page[SNAPSHOT_PAGES]; /* len 0 and no data: not there (gzip failed) */
    uint64_t cycles; /* poll cycles finished when rendered; 0 = before the first */
    /*
     * The per-job views of the API (jobindex.h): the jobs with per-job series,
     * sorted; a reference the snapshot releases. NULL: none (a snapshot not
     * built by the poller).
     */
    struct jobindex *jobs;
    const struct api_profile *profile; /* --elb.profile: whose jobs a bare ID names */
    /* changes posted to the job table (jobtable_applied) that this snapshot shows */
    uint64_t applied;
    /* private */
    struct snapshot *owner[SNAPSHOT_PAGES]; /* page borrowed from an older snapshot, or NULL */
    _Atomic unsigned refs;
};

struct snapshot_store; /* opaque: the published pointer and its lock */
struct api_profile;    /* profile.h */

/* A new snapshot with one reference; buffers NULL. NULL on ENOMEM. */
struct snapshot *snapshot_new(void);
/*
 * Serve page pg of prev in s as well (s must not have that page yet): one page
 * that failed to render keeps its last good form without holding back the
 * others, and without a copy (s holds a reference on the buffer's owner).
 */
void snapshot_borrow(struct snapshot *s, enum snapshot_page pg, struct snapshot *prev);
/* Drop one reference; frees on the last. Accepts NULL. */
void snapshot_release(struct snapshot *s);

struct snapshot_store *snapshot_store_new(void);
/* Free the store and release the published snapshot. Accepts NULL. */
void snapshot_store_free(struct snapshot_store *st);
/* Publish s (the store takes over the caller's reference); the previous one is released. */
void snapshot_publish(struct snapshot_store *st, struct snapshot *s);
/* The current snapshot with a new reference (release it), or NULL before the first publish. */
struct snapshot *snapshot_acquire(struct snapshot_store *st);
/*
 * Call fn(arg, s) after every publish, in the publishing thread, with the
 * snapshot just published (the store holds a reference for the call; take
 * your own to keep it). One listener; NULL removes it. For the API's waiters.
 */
void snapshot_store_listen(struct snapshot_store *st, void (*fn)(void *arg, struct snapshot *s),
                           void *arg);

#endif
