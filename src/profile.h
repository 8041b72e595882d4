/*
 * profile: the table of job APIs the exporter can poll.
 *
 * Job APIs of several services share one job shape with small differences
 * (path, where sub-jobs sit, extra statuses, an envelope, the failure-text key).
 * A profile names those differences so the parser and the client stay generic.
 * Only elb-v1 (the seed) is in the table so far; the others follow the same form.
 */
#ifndef ELB_PROFILE_H
#define ELB_PROFILE_H

#include <stddef.h>

/* Every status any profile knows. JOB_UNKNOWN: never fetched, 404, or a value not listed. */
enum job_status { JOB_UNKNOWN = 0, JOB_INIT, JOB_RUNNING, JOB_SUCCESS, JOB_FAIL, JOB_STATUS_COUNT };

enum profile_subjobs { SUBJOBS_TOP_LEVEL, SUBJOBS_IN_ENTITIES };

struct api_profile {
    const char *name;     /* "elb-v1" */
    const char *path_fmt; /* printf format taking project_id then job_id */
    const char *envelope; /* key that wraps the job object, or NULL */
    enum profile_subjobs sub_jobs_at;
    const char *fail_text_key; /* "fail_reason" */
    /* statuses of this profile, in display order, excluding JOB_UNKNOWN */
    const enum job_status *statuses;
    size_t n_statuses;
};

/* The profile called name, or NULL. */
const struct api_profile *profile_find(const char *name);
/* The i-th profile of the table (0-based), or NULL past its end: to list them. */
const struct api_profile *profile_at(size_t i);
/* The default profile (elb-v1). */
const struct api_profile *profile_default(void);

/* Canonical spelling of a status ("INIT", ..., "UNKNOWN"). */
const char *job_status_name(enum job_status s);
/* Map a raw status string to a status of the profile; anything else is JOB_UNKNOWN. */
enum job_status profile_status(const struct api_profile *p, const char *raw);
/* Is s terminal (SUCCESS/FAIL): a job in it never changes again. */
int job_status_terminal(enum job_status s);

#endif
