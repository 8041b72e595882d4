/*
 * poller: the thread that polls jobs and publishes a snapshot per cycle.
 *
 * DESIGN. One thread owns the job table, the counters and every libcurl handle
 * (one multi handle, a pool of --poll.concurrency easy handles whose
 * connections the multi handle keeps alive and reuses). Every --poll.interval a
 * cycle starts: each unfinished job is queued and polled, at most concurrency
 * at a time. A job seen SUCCESS or FAIL is finished and never polled again. A
 * failed poll (transport error, 5xx, 404, unreadable answer) keeps the job's
 * last good state, is counted, and is retried with exponential backoff and
 * jitter, capped by the interval. A 429 pauses all requests for Retry-After.
 * A job added while running has no due time and is polled at once.
 * When a cycle ends (every queued job answered, failed or was deferred by a
 * pause) the poller renders the exposition and landing page once and publishes
 * them as a new snapshot; retries between cycles publish again when they land.
 * The HTTP threads never touch anything here but the snapshot store.
 */
#ifndef ELB_POLLER_H
#define ELB_POLLER_H

#include "auth.h"
#include "config.h"
#include "expfmt.h"
#include "snapshot.h"

struct poller;

/*
 * Build a poller for the jobs in cfg (cfg, auth and store must outlive it) and
 * publish an initial snapshot (every job UNKNOWN, cycles 0). NULL on ENOMEM.
 */
struct poller *poller_new(const struct config *cfg, struct auth *auth, struct snapshot_store *store,
                          const struct build_info *build);
/* Start the thread. Returns 0 or -errno. */
int poller_start(struct poller *p);
/*
 * Ask the thread to re-read --jobs.file (safe from any thread, e.g. on SIGHUP).
 * The thread swaps job lists between cycles, when no request is in flight: jobs
 * still listed keep their state, new ones are polled at once, dropped ones and
 * their series go. The file is also re-read by itself when it changes (checked
 * once per cycle). A file that fails to load leaves the job list as it was.
 */
void poller_request_reload(struct poller *p);
/* Ask the thread to stop (safe from any thread), then join it. In-flight requests are dropped. */
void poller_stop(struct poller *p);
/*
 * Run exactly one cycle in the calling thread (no thread started) and publish
 * its snapshot: for --once. Returns 1 if the API was reached and authorised
 * (api_up), 0 if not.
 */
int poller_run_once(struct poller *p);
/* Free; the thread must not be running. Accepts NULL. */
void poller_free(struct poller *p);

#endif
