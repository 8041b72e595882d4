/*
 * store: the embedded durable store of --storage.path (INTERFACE; the
 * implementation is store.c).
 *
 * What it keeps: the jobs registered over the HTTP API (profile, ID, the
 * labels the registrant chose, when), the jobs forgotten over the API, and the
 * state of every finished job (its last answer as a job record), so that after
 * a restart registered jobs come back and finished jobs are not polled again.
 *
 * Durability contract: store_register and store_forget return 0 only once the
 * record is on disk (fsync); the HTTP API answers 2xx only after that. Many
 * threads may call them at once: concurrent appends share one fsync (group
 * commit). store_finished and store_expire(_registration) do not wait: their
 * records go with the next fsync, or within a second, or at store_close (a
 * lost finished record costs one extra poll after a crash, nothing else).
 * A failed append (disk full, I/O error) is counted (write_errors), logged
 * once per run of failures, and leaves nothing in the log or the store's view.
 *
 * A torn or corrupt tail (kill -9, power loss) is detected on open (length +
 * checksum per record), logged, counted and cut off; it never stops the start.
 * Compaction rewrites the live records to a temporary file, fsyncs it, renames
 * it over the log and fsyncs the directory.
 */
#ifndef ELB_STORE_H
#define ELB_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "joblabels.h"
#include "profile.h"

/* One job as the store gives it back on open. */
struct store_job {
    const struct api_profile *profile;
    char id[JOB_ID_MAX + 1];
    int registered;           /* registered over the API and not forgotten since */
    double registered_at;     /* wall time of the registration, 0 if not registered */
    struct job_labels labels; /* chosen at registration */
    int finished;             /* rec holds the job's terminal answer */
    double finished_at;       /* wall time it was first seen terminal */
    double observed_at;       /* wall time rec arrived */
    struct job_record rec;    /* valid when finished */
};

/* What opening found, for logs and metrics. */
struct store_stats {
    uint64_t records_loaded;  /* valid records replayed */
    uint64_t records_corrupt; /* records cut off as torn or corrupt */
    uint64_t bytes_cut;       /* bytes of log cut off */
    uint64_t jobs;            /* jobs live after replay */
    uint64_t appends;         /* records appended since open */
    uint64_t fsyncs;          /* fsync calls since open */
    uint64_t compactions;     /* since open */
    uint64_t write_errors;    /* appends that failed (disk full, I/O error) */
    /* refinements beyond the agreed interface (additions only) */
    uint64_t records_skipped; /* valid records of a profile this version does not know */
    uint64_t log_bytes;       /* bytes of the log now */
    uint64_t live_bytes;      /* of those, the live records' (what a compaction keeps) */
    double replay_seconds;    /* time store_open took */
};

struct store;

/*
 * Open (create) the store in directory dir, replay it, and call each(arg, j)
 * for every live job in a stable order. NULL on failure with a one-line
 * reason in err (unreadable directory, another process holds the lock).
 * Missing directories are created with mode 0700, files with 0600. A torn or
 * damaged log is cut where the damage starts (store.c says why not skipped),
 * logged, and counted in records_corrupt and bytes_cut; it does not fail the
 * open. j is valid during the call only; each runs in the caller's thread.
 */
struct store *store_open(const char *dir, void (*each)(void *arg, const struct store_job *j),
                         void *arg, char *err, size_t errsz);
/* Flush, close, free. Accepts NULL. */
void store_close(struct store *s);

/* Durable on return (0), or -errno. Thread-safe. Registering twice is not an error. */
int store_register(struct store *s, const struct api_profile *p, const char *id,
                   const struct job_labels *labels, double now);
int store_forget(struct store *s, const struct api_profile *p, const char *id);
/* The terminal state of a job (any thread; may be written in a batch). 0 or -errno. */
int store_finished(struct store *s, const struct api_profile *p, const char *id,
                   const struct job_record *rec, double finished_at, double observed_at);
/*
 * The job table forgot a finished job for good (the retention, or the bound on
 * remembered jobs): drop everything the store keeps of it (any thread; may be
 * written in a batch, as store_finished). 0 or -errno.
 */
int store_expire(struct store *s, const struct api_profile *p, const char *id);
/*
 * The retention ended the registration of a finished job that another source
 * (flag, jobs file) still lists: drop the registration, keep the finished
 * state, so that after a restart the job is still not polled again. Batched as
 * store_expire. 0 or -errno.
 */
int store_expire_registration(struct store *s, const struct api_profile *p, const char *id);
/*
 * Compact the log now (the store also does it by itself when the log holds
 * much more dead than live data). Appends go on meanwhile. 0 or -errno.
 */
int store_compact(struct store *s);

/* A copy of the counters (thread-safe). */
void store_get_stats(struct store *s, struct store_stats *out);

#endif
