/*
 * jobtable: the jobs the exporter tracks, where each came from, and what it
 * remembers of finished jobs. Owned by the poller thread; pure (no I/O, no
 * clock: times come in as arguments), so it is unit-tested without curl.
 *
 * DESIGN. A job is keyed by (profile, job ID) and lives in a slot of a slot
 * array. A handle is the slot number plus the slot's generation, so a handle
 * held by an in-flight request or a running cycle stays safe while other jobs
 * come and go: once its job is removed, jobtable_get() answers NULL instead of
 * another job. Slot order is the iteration order (and so the exposition's).
 *
 * Each job carries the set of sources that list it (flag, jobs file, config
 * file, registration API). A source replaces its whole list at once
 * (jobtable_sync_source), so a jobs-file reload can never drop a job that
 * another source still lists; a job leaves when no source lists it any more.
 *
 * Finished jobs are remembered: one that leaves and comes back within the
 * retention time (an editor truncating and rewriting the jobs file) comes back
 * finished, with its last answer, so it is neither polled nor counted again.
 * A finished job's per-job series go --jobs.retention after it was first seen
 * finished (when it ended, for a job watched while it ran); the table forgets
 * it at the same time once no source lists it. retention 0 keeps finished
 * jobs for good (remembered ones bounded by max_jobs, the oldest go first).
 * A registration (JOB_SRC_API) lasts until the same moment: the retention
 * takes that source away, so registered jobs do not pile up to max_jobs.
 *
 * A durable store mirrors the table through the forget hook: it hears of
 * every finished job the table forgets for good and of every registration the
 * retention ends, and jobtable_restore_finished brings finished jobs back at
 * start-up, so after a restart they are neither polled nor counted again.
 *
 * Other threads never touch the table. They post changes to its queue
 * (jobtable_post, thread-safe), which calls the wake function (the poller's
 * curl_multi_wakeup) so that the owner applies them (jobtable_apply_posted) at
 * once, whatever the API is doing. A posted change may carry a done callback
 * (jobtable_post_ex): the owner calls it once the change is applied, with what
 * it did, so that a registration over HTTP can answer exactly (201 new, 200
 * already registered, 507 past max_jobs) instead of guessing from a count.
 *
 * Labels (joblabels.h) belong to the registration: a posted add with labels
 * sets them, dropping JOB_SRC_API (or the retention ending the registration)
 * clears them, and a job that leaves loses them.
 */
#ifndef ELB_JOBTABLE_H
#define ELB_JOBTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "joblabels.h"
#include "profile.h"

/* Where a job came from (bits of job_state.sources). */
enum job_source {
    JOB_SRC_FLAG = 1u << 0,   /* --job */
    JOB_SRC_FILE = 1u << 1,   /* --jobs.file */
    JOB_SRC_CONFIG = 1u << 2, /* jobs.ids of --config.file */
    JOB_SRC_API = 1u << 3     /* the registration API */
};
#define JOB_SRC_ALL 0xfu

/* How the last poll of a job ended. */
enum job_result {
    JOB_RESULT_NONE = 0,  /* not polled yet (or asked again after a 429) */
    JOB_RESULT_OK,        /* a valid answer */
    JOB_RESULT_NOT_FOUND, /* 404 */
    JOB_RESULT_ERROR      /* transport error, 5xx, 401/403, unusable body */
};

/* A handle: slot + 1 in the low 32 bits, generation in the high ones; 0 is no job. */
typedef uint64_t job_handle;
#define JOB_HANDLE_NONE ((job_handle)0)

/* What the poller keeps of one job. */
struct job_state {
    char id[JOB_ID_MAX + 1];
    const struct api_profile *profile;
    unsigned sources;       /* enum job_source bits; 0: remembered only (finished, not listed) */
    struct job_record rec;  /* last good answer */
    int have_rec;           /* rec is valid */
    enum job_status status; /* UNKNOWN until fetched, and after a 404 */
    enum job_result result; /* how the last poll ended */
    int fetch_success;      /* the last poll got a valid answer */
    double last_fetch;      /* wall time of the last HTTP answer, 0 if none */
    double observed_at;     /* wall time rec arrived */
    int finished;           /* seen terminal: never polled again, counted once */
    double finished_at;     /* wall time it was first seen terminal */
    int retired;            /* finished longer than the retention: no per-job series */
    /*
     * The registrant's labels (JOB_SRC_API; owned by the table: set them with
     * jobtable_set_labels), or NULL. A pointer, not the labels: most jobs have
     * none, and a slot is about 1 KB without them.
     */
    const struct job_labels *labels;
    /* scheduling, the poller's own */
    int in_flight;
    int in_cycle;      /* member of the running cycle, not completed yet */
    unsigned failures; /* consecutive failed polls */
    uint64_t next_due; /* monotonic ms of the next poll outside a cycle; 0 = at once */
};

/* A job named by a source. */
struct job_ref {
    const struct api_profile *profile;
    const char *id;
};

/* What a sync or an apply changed. */
struct jobtable_delta {
    size_t added;    /* jobs that were not tracked before */
    size_t returned; /* of those, finished ones restored from memory */
    size_t removed;  /* jobs no source lists any more */
    size_t refused;  /* refused: the table was full (max_jobs) */
    size_t invalid;  /* refused: invalid job ID */
};

struct jobtable;

/*
 * A table for at most max_jobs tracked jobs (and as many remembered), with
 * the retention time in seconds (0: keep finished jobs for good). wake(arg) is
 * called by jobtable_post from any thread; it may be NULL. NULL on ENOMEM.
 */
struct jobtable *jobtable_new(size_t max_jobs, double retention_s, void (*wake)(void *),
                              void *wake_arg);
/* Free the table and every queued change. Accepts NULL. */
void jobtable_free(struct jobtable *t);

/*
 * Add source to job (profile, id), tracking it if it is new (a remembered
 * finished job comes back as it was). *h (may be NULL) gets its handle.
 * Returns 1 if the job was added, 0 if it was already tracked, -EINVAL for an
 * invalid ID or a NULL profile, -E2BIG when max_jobs are tracked, -ENOMEM.
 */
int jobtable_add(struct jobtable *t, const struct api_profile *profile, const char *id,
                 unsigned source, job_handle *h);
/*
 * Take source away from job (profile, id); the job leaves when no source is
 * left. Returns 1 if it left, 0 if it stays (or was not there).
 */
int jobtable_drop(struct jobtable *t, const struct api_profile *profile, const char *id,
                  unsigned source);
/*
 * Make source list exactly refs[0..n): jobs it no longer lists lose it (and
 * leave when no other source lists them), new ones are added. Invalid IDs and
 * jobs past max_jobs are refused and counted in *d (may be NULL); the rest is
 * applied. Returns 0 or -ENOMEM (the table is then consistent but partial).
 */
int jobtable_sync_source(struct jobtable *t, unsigned source, const struct job_ref *refs, size_t n,
                         struct jobtable_delta *d);

/* The job behind h, or NULL once it has left. The pointer is valid until the next change. */
struct job_state *jobtable_get(struct jobtable *t, job_handle h);
/* The job (profile, id) with its handle in *h (may be NULL), or NULL. */
struct job_state *jobtable_find(struct jobtable *t, const struct api_profile *profile,
                                const char *id, job_handle *h);
/*
 * Iterate the tracked jobs (sources != 0) in slot order: start with
 * JOB_HANDLE_NONE; returns the next handle, or JOB_HANDLE_NONE at the end.
 */
job_handle jobtable_next(const struct jobtable *t, job_handle prev);
/* Tracked jobs (listed by at least one source). */
size_t jobtable_count(const struct jobtable *t);
/* Finished jobs remembered although no source lists them. */
size_t jobtable_remembered(const struct jobtable *t);

/*
 * Mark job h finished at wall time now (idempotent: the first call counts).
 * Returns 1 if it was not finished before, 0 if it was, -ENOENT if h is gone.
 */
int jobtable_mark_finished(struct jobtable *t, job_handle h, double now);
/*
 * Apply the retention at wall time now: finished jobs older than it lose
 * their registration (JOB_SRC_API), are retired (no per-job series) and, when
 * no source lists them, forgotten. Returns how many were retired or
 * forgotten by this call.
 */
size_t jobtable_expire(struct jobtable *t, double now);

/* What the forget hook is told. */
enum jobtable_forget {
    JOBTABLE_FORGOTTEN,   /* a finished job left the table for good (retention, memory bound) */
    JOBTABLE_UNREGISTERED /* the retention ended its registration; another source lists it */
};

/*
 * Call fn(arg, why, st) from the owner thread, before the change, whenever the
 * table forgets a finished job for good or the retention ends a registration
 * of a job that stays (see enum jobtable_forget). fn may be NULL (no hook).
 * fn must not change the table.
 */
void jobtable_set_forget_hook(struct jobtable *t,
                              void (*fn)(void *arg, enum jobtable_forget why,
                                         const struct job_state *st),
                              void *arg);

/*
 * Restore what a durable store kept of finished job (profile, id): its last
 * answer rec, when it was first seen finished and when rec arrived. A tracked
 * job becomes finished with that state (not polled again, not counted again);
 * one not tracked is remembered (no source) until a source lists it or the
 * retention forgets it. Returns 0; -EINVAL for an invalid ID, a NULL profile
 * or rec; -E2BIG when max_jobs jobs are remembered already; -ENOMEM.
 */
int jobtable_restore_finished(struct jobtable *t, const struct api_profile *profile, const char *id,
                              const struct job_record *rec, double finished_at, double observed_at);

/* ---- changes from other threads ---- */

enum jobtable_op { JOBTABLE_OP_ADD, JOBTABLE_OP_DROP };

/*
 * Queue a change for the owner thread (any thread; copies id). Returns 0,
 * -EINVAL for an invalid ID, -ENOMEM, or -EAGAIN when max_jobs changes are
 * already queued. Calls wake after queueing.
 */
int jobtable_post(struct jobtable *t, enum jobtable_op op, const struct api_profile *profile,
                  const char *id, unsigned source);
/* What applying one posted change did, for its done callback. */
struct jobtable_outcome {
    /*
     * ADD: jobtable_add's return (1 added, 0 already tracked, -E2BIG past
     * max_jobs, -ENOMEM); DROP: jobtable_drop's (1 left, 0 stays or was not
     * there); -ECANCELED when the table was freed with the change still queued.
     */
    int rc;
    unsigned sources_before; /* the job's sources before the change; 0: not tracked */
    uint64_t seq;            /* jobtable_applied() right after this change */
    /* the job's labels after the change (valid during the callback only), NULL: none */
    const struct job_labels *labels;
};
typedef void (*jobtable_done_fn)(void *arg, const struct jobtable_outcome *o);

/*
 * jobtable_post with labels and a completion (any thread). labels (copied,
 * may be NULL): for ADD, the job's labels once added (NULL leaves them as
 * they are). done (may be NULL) is called exactly once by the owner thread
 * when the change is applied (or with -ECANCELED by jobtable_free), and never
 * when this returns an error. Same returns as jobtable_post.
 */
int jobtable_post_ex(struct jobtable *t, enum jobtable_op op, const struct api_profile *profile,
                     const char *id, unsigned source, const struct job_labels *labels,
                     jobtable_done_fn done, void *done_arg);
/* Owner thread: apply every queued change in order; *d (may be NULL) sums them. Returns applied. */
size_t jobtable_apply_posted(struct jobtable *t, struct jobtable_delta *d);
/* Posted changes applied since the table was made (the seq of jobtable_outcome). */
uint64_t jobtable_applied(const struct jobtable *t);
/*
 * Set (labels non-NULL, copied) or clear (NULL or none) the labels of job h.
 * Returns 1 if they changed, 0 if not, -ENOENT if h is gone, -ENOMEM.
 */
int jobtable_set_labels(struct jobtable *t, job_handle h, const struct job_labels *labels);

#endif
