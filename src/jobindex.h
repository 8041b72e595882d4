/*
 * jobindex: the per-job views of one snapshot, sorted by (job ID, profile),
 * for the HTTP API (GET /api/v1/jobs, /api/v1/jobs/{id}, waiters). Pure.
 *
 * DESIGN. The poller builds one index per publish from the same views the
 * exposition is rendered from (tracked jobs that still have per-job series,
 * so a job past --jobs.retention is gone here too), seals it and hangs it on
 * the snapshot. It is never modified after that: HTTP threads read it without
 * locks for as long as they hold the snapshot, and find a job by binary search.
 *
 * Memory, at 100k jobs: one fixed entry per job (about 140 bytes) plus its
 * strings, each stored once in one arena (empty strings cost nothing), plus a
 * 4-byte sort order: some 20 MB, against about 1 KB per job in the job table.
 * The fields follow the metrics' rules (expfmt.h): timing, error and sub-job
 * values only while the record describes the current state.
 *
 * An index is reference-counted so that a snapshot whose index could not be
 * built (out of memory) can share its predecessor's.
 */
#ifndef ELB_JOBINDEX_H
#define ELB_JOBINDEX_H

#include <stddef.h>
#include <stdint.h>

#include "expfmt.h"
#include "joblabels.h"
#include "profile.h"

/* Bits of jobindex_entry.flags. */
enum jobindex_flag {
    JOBINDEX_HAVE_REC = 1u << 0,      /* an answer was parsed once (job_type, resource_id) */
    JOBINDEX_FETCH_OK = 1u << 1,      /* the last poll got a valid answer */
    JOBINDEX_FINISHED = 1u << 2,      /* seen terminal: never polled again */
    JOBINDEX_BEGIN = 1u << 3,         /* begin_time is set */
    JOBINDEX_END = 1u << 4,           /* end_time is set (finished jobs only) */
    JOBINDEX_DURATION = 1u << 5,      /* duration is set */
    JOBINDEX_ERROR = 1u << 6,         /* failed: error_code, fail_reason carry its error */
    JOBINDEX_SUB_JOBS = 1u << 7,      /* sub_jobs[] is set */
    JOBINDEX_SUB_JOBS_TOTAL = 1u << 8 /* sub_jobs_total is set */
};

/* One job. Strings are offsets into the index's arena (jobindex_str). */
struct jobindex_entry {
    const struct api_profile *profile;
    uint32_t id, job_type, error_code, fail_reason, resource_id;
    uint32_t labels; /* n_labels pairs "name\0value\0" */
    uint32_t sub_jobs_total;
    uint32_t sub_jobs[JOB_STATUS_COUNT]; /* by status as the metrics show them (UNKNOWN takes
                                            the statuses the profile lacks) */
    double begin_time, end_time, duration, last_fetch, finished_at;
    uint16_t flags;  /* enum jobindex_flag */
    uint8_t status;  /* enum job_status as shown: UNKNOWN for one the profile lacks */
    uint8_t sources; /* enum job_source bits (jobtable.h) */
    uint8_t n_labels;
};

struct jobindex;

/* An empty index for at most cap jobs, one reference. NULL on ENOMEM. */
struct jobindex *jobindex_new(size_t cap);
/*
 * Add job v (v->profile must be set) with its sources, whether and when it
 * was first seen finished. Before jobindex_seal only. Returns 0, -E2BIG past
 * cap or the arena's 4 GiB, -ENOMEM (the index then stays usable without it).
 */
int jobindex_add(struct jobindex *ix, const struct expfmt_job *v, unsigned sources, int finished,
                 double finished_at);
/* Sort; the index is immutable from now on. Returns 0 or -ENOMEM. */
int jobindex_seal(struct jobindex *ix);
/* Another reference (any thread). Returns ix. */
struct jobindex *jobindex_ref(struct jobindex *ix);
/* Drop a reference; frees on the last. Accepts NULL. */
void jobindex_unref(struct jobindex *ix);

/* Jobs in the index. */
size_t jobindex_count(const struct jobindex *ix);
/* The pos-th job in (ID, profile name) order, pos < jobindex_count. */
const struct jobindex_entry *jobindex_at(const struct jobindex *ix, size_t pos);
/* Job (p, id), or NULL. */
const struct jobindex_entry *jobindex_find(const struct jobindex *ix, const struct api_profile *p,
                                           const char *id);
/*
 * Position of the first job whose (ID, profile name) is after (id, p) (p NULL:
 * after every profile of id): where a page that ended at (id, p) goes on.
 */
size_t jobindex_after(const struct jobindex *ix, const char *id, const struct api_profile *p);
/* Position of the first job with ID id (or where it would be). */
size_t jobindex_first(const struct jobindex *ix, const char *id);
/* A string of the arena ("" for 0). */
const char *jobindex_str(const struct jobindex *ix, uint32_t off);
/* The i-th label of e (i < e->n_labels). */
void jobindex_label(const struct jobindex *ix, const struct jobindex_entry *e, unsigned i,
                    const char **name, const char **value);

#endif
