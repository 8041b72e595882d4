/*
 * poller: the thread that polls jobs and publishes a snapshot per cycle.
 *
 * DESIGN. One thread owns the job table (jobtable.c), the counters and every
 * libcurl handle (one multi handle, a pool of --poll.concurrency easy handles
 * whose connections the multi handle keeps alive and reuses). Every
 * --poll.interval a cycle starts: each unfinished job is queued (by handle)
 * and polled, at most concurrency at a time. A job seen SUCCESS or FAIL is
 * finished and never polled again. A failed poll (transport error, 5xx, 404,
 * unreadable answer) keeps the job's last good state, is counted, and is
 * retried with exponential backoff and jitter, capped by the interval. A 429
 * pauses all requests for Retry-After. A job added while running has no due
 * time and is polled at once.
 *
 * The table changes while requests are in flight: a request holds a handle,
 * not an index, and its answer is dropped when its job has left meanwhile.
 * So a SIGHUP, a changed --jobs.file or a change posted by another thread
 * takes effect within a loop turn (at most a second), whatever the API does.
 *
 * When a cycle ends (every queued job answered, failed or was deferred by a
 * pause) the poller renders the exposition and landing page once and publishes
 * them as a new snapshot; each page falls back to its last good form on its
 * own when it cannot be rendered. Retries between cycles, and membership
 * changes during a cycle, publish again (at most once a second). The HTTP
 * threads never touch anything here but the snapshot store.
 */
#ifndef ELB_POLLER_H
#define ELB_POLLER_H

#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "config.h"
#include "expfmt.h"
#include "jobtable.h"
#include "snapshot.h"

#define POLLER_BACKOFF_BASE_MS 1000 /* first retry after a failed poll */
#define POLLER_BACKOFF_MIN_MS 100   /* never retry sooner than this */
#define POLLER_PAUSE_MIN_S 1 /* a 429 pauses at least this long (Retry-After: 0, past date) */

struct poller;
struct store;
struct store_job;

/*
 * Build a poller for the jobs in cfg (cfg, auth, store and http must outlive
 * it) and publish an initial snapshot (every job UNKNOWN, cycles 0). http: the
 * HTTP server's counters to render, or NULL. NULL on ENOMEM.
 */
struct poller *poller_new(const struct config *cfg, struct auth *auth, struct snapshot_store *store,
                          const struct build_info *build, const struct http_counters *http);
/*
 * The durable store (--storage.path), before poller_start. store_open calls
 * poller_restore(p, j) for each stored job: a registered one is tracked again
 * (JOB_SRC_API, with its labels), a finished one comes back finished with its
 * last answer, so it is not polled again and its series show at once (it is
 * not counted again in elb_jobs_finished_total / elb_jobs_failed_total: those
 * count what this process saw finish). Then poller_set_store(p, s) hands the
 * poller the store: it records every job it sees finish (store_finished), and
 * every job the table forgets (store_expire) or whose registration the
 * retention ends (store_expire_registration), and renders the store's figures.
 */
void poller_restore(void *p, const struct store_job *j);
void poller_set_store(struct poller *p, struct store *s);
/* Start the thread. Returns 0 or -errno. */
int poller_start(struct poller *p);
/*
 * Ask the thread to re-read --jobs.file (safe from any thread, e.g. on SIGHUP).
 * The thread applies it within a loop turn, also while requests are in flight:
 * jobs still listed keep their state, new ones are polled at once, dropped
 * ones and their series go (finished ones are remembered for the retention).
 * The file is also re-read by itself when it changes (checked once a second).
 * A file that fails to load leaves the job list as it was.
 */
void poller_request_reload(struct poller *p);
/*
 * The same, waiting for the outcome (POST /-/reload): up to timeout_ms for the
 * thread to re-read --config.file's jobs.ids and --jobs.file. Returns 0, or
 * -errno with one line in err (a file that does not load; -ETIMEDOUT; -ESRCH
 * when the thread is not running). Any thread but the poller's.
 */
int poller_reload(struct poller *p, uint64_t timeout_ms, char *err, size_t errsz);
/*
 * Register (JOBTABLE_OP_ADD) or forget (JOBTABLE_OP_DROP) a job for the
 * registration API (source JOB_SRC_API), from any thread: jobtable_post_ex on
 * the poller's table. done is called in the poller thread once the change is
 * applied (at once: the thread is woken), so the API can answer exactly.
 */
int poller_post(struct poller *p, enum jobtable_op op, const struct api_profile *profile,
                const char *id, const struct job_labels *labels, jobtable_done_fn done,
                void *done_arg);
/* Ask the thread to stop (safe from any thread), then join it. In-flight requests are dropped. */
void poller_stop(struct poller *p);

/* What a --once run got. */
struct poller_once_result {
    size_t jobs;      /* tracked jobs */
    size_t fetched;   /* got a valid answer (or were finished before) */
    size_t not_found; /* answered 404 */
    size_t failed;    /* got an error or an unusable answer */
    size_t unfetched; /* got no answer at all (throttled past the wait) */
    int api_up;       /* the API was reached and authorised */
};

/*
 * Poll every job once in the calling thread (no thread started), waiting out
 * 429 pauses as long as they end within --poll.interval of the start (the
 * run's time budget), publish the snapshot and describe the run in *r: for
 * --once.
 */
void poller_run_once(struct poller *p, struct poller_once_result *r);
/*
 * The exit status of a --once run: 1 when there were no jobs, the API was not
 * reached or refused us, or a job got no answer at all (throttled past the
 * wait); else 0 (a job whose poll failed shows fetch_success 0).
 */
int poller_once_exit_code(const struct poller_once_result *r);
/* Free; the thread must not be running. Accepts NULL. */
void poller_free(struct poller *p);

/* ---- scheduling decisions (pure, exposed for tests) ---- */

/*
 * Milliseconds until the retry after the failures-th consecutive failed poll:
 * POLLER_BACKOFF_BASE_MS doubled per failure, times jitter_pct (75..125) / 100,
 * at most interval_ms, at least POLLER_BACKOFF_MIN_MS.
 */
uint64_t poller_backoff_ms(unsigned failures, uint64_t interval_ms, unsigned jitter_pct);
/* Milliseconds a 429 pauses every request, from its Retry-After seconds (-1: absent). */
uint64_t poller_pause_ms(long retry_after);

#endif
