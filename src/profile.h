/*
 * profile: the table of job APIs the exporter can poll.
 *
 * Job APIs of several services share one job shape with small differences
 * (path, host, where sub-jobs sit, extra statuses, an envelope, the keys of
 * the failure text and the resource id). A profile names those differences so
 * the parser and the client stay generic. The table (api-notes.md section 3):
 *
 *   elb-v1  classic ELB, /v1.0/{project}/jobs/{id} on elb.*, sub_jobs at the top
 *   ecs-v1  ECS, /v1/{project}/jobs/{id} on ecs.*, entities.sub_jobs (+ sub_jobs_total),
 *           a failed sub-job's text in its entities.errorcode_message
 *   evs-v1  EVS, /v1/{project}/jobs/{id} on evs.*, entities.sub_jobs
 *   elb-v3  ELB v3, /v3/{project}/elb/jobs/{id} on elb.*, {"job":{...},"request_id":"..."},
 *           error_msg, resource_id at the top, the statuses ROLLBACKING, COMPLETE,
 *           ROLLBACK_FAIL and CANCEL besides the classic four
 *
 * What a status means is the same in every profile that lists it, so the
 * profile-free predicates (job_status_terminal, job_status_failed) and the
 * profile's own (profile_terminal, profile_failed) agree wherever the profile
 * lists the status; test_profile checks that for the whole table.
 * Pure: no I/O, no globals besides the constant table.
 */
#ifndef ELB_PROFILE_H
#define ELB_PROFILE_H

#include <stddef.h>

/*
 * Every status any profile knows. JOB_UNKNOWN: never fetched, 404, or a value
 * the job's profile does not list. The values are stable: new ones go before
 * JOB_STATUS_COUNT.
 */
enum job_status {
    JOB_UNKNOWN = 0,
    JOB_INIT,
    JOB_RUNNING,
    JOB_SUCCESS,
    JOB_FAIL,
    JOB_ROLLBACKING,   /* elb-v3: undoing a failed job; still changing */
    JOB_COMPLETE,      /* elb-v3: finished, a success */
    JOB_ROLLBACK_FAIL, /* elb-v3: the rollback failed; finished, a failure */
    JOB_CANCEL,        /* elb-v3: cancelled; finished, not a failure */
    JOB_STATUS_COUNT
};

/* The bit of status s in a status set (struct api_profile's terminal and failed). */
#define JOB_STATUS_BIT(s) (1u << (unsigned)(s))

enum profile_subjobs { SUBJOBS_TOP_LEVEL, SUBJOBS_IN_ENTITIES };

#define PROFILE_REGION_MAX 32 /* bytes of a region name, e.g. "ap-southeast-1" */

/*
 * One job API. NULL keys take the classic name where there is one (error_code,
 * fail_reason), or mean "not in this API" (envelope, sub_jobs_total_key,
 * sub_fail_text_key, resource_id_key).
 */
struct api_profile {
    const char *name;        /* "elb-v1" */
    const char *host_prefix; /* first label of the service's host: "elb", "ecs", "evs" */
    const char *path_fmt;    /* printf format taking project_id then job_id */
    const char *envelope;    /* key that wraps the job object ("job"), or NULL */
    enum profile_subjobs sub_jobs_at;
    const char *sub_jobs_total_key; /* number of sub-jobs, beside entities.sub_jobs, or NULL */
    const char *fail_text_key;      /* the job's failure text: "fail_reason" or "error_msg" */
    const char *error_code_key;     /* the job's error code: "error_code" */
    const char *sub_fail_text_key;  /* a failed sub-job's text in its entities, or NULL */
    const char *resource_id_key;    /* the resource id at the job's top level, or NULL */
    /* statuses of this profile, in display order, excluding JOB_UNKNOWN */
    const enum job_status *statuses;
    size_t n_statuses;
    unsigned terminal; /* JOB_STATUS_BIT of each listed status a job never leaves */
    unsigned failed;   /* JOB_STATUS_BIT of each listed status that is a failure (all terminal) */
};

/* The profile called name, or NULL. */
const struct api_profile *profile_find(const char *name);
/* The i-th profile of the table (0-based), or NULL past its end: to list them. */
const struct api_profile *profile_at(size_t i);
/* The default profile (elb-v1). */
const struct api_profile *profile_default(void);

/* Canonical spelling of a status ("INIT", ..., "CANCEL", "UNKNOWN"). */
const char *job_status_name(enum job_status s);
/* Map a raw status string to a status of the profile; anything else is JOB_UNKNOWN. */
enum job_status profile_status(const struct api_profile *p, const char *raw);
/* Does profile p list status s (JOB_UNKNOWN never)? */
int profile_has_status(const struct api_profile *p, enum job_status s);

/*
 * Is s terminal: a job in it never changes again. SUCCESS, FAIL, COMPLETE,
 * ROLLBACK_FAIL and CANCEL are; INIT, RUNNING, ROLLBACKING and UNKNOWN are not.
 */
int job_status_terminal(enum job_status s);
/*
 * Is s a failure: the job counts as failed and carries error_info. FAIL and
 * ROLLBACK_FAIL are; CANCEL is not (README, "Profiles", says why). Every
 * failure is terminal.
 */
int job_status_failed(enum job_status s);
/* Does profile p list s as terminal / as a failure? 0 for a status p does not list. */
int profile_terminal(const struct api_profile *p, enum job_status s);
int profile_failed(const struct api_profile *p, enum job_status s);

/*
 * The endpoint of profile p's service in region, "https://<host_prefix>.<region>.<domain>",
 * into out (cap bytes, NUL-terminated). The domain follows the region's name:
 *   - two labels starting with "eu-" (eu-de, eu-nl, eu-ch2): Open Telekom Cloud,
 *     otc.t-systems.com, except the Swiss eu-ch2, which is sc.otc.t-systems.com;
 *   - anything else (ap-southeast-1, cn-north-4, la-south-2, eu-west-0): Huawei Cloud,
 *     myhuaweicloud.com.
 * A region is 1..PROFILE_REGION_MAX bytes of [a-z0-9] labels joined by single '-'.
 * Returns 0; -EINVAL for a bad region or a profile without host_prefix; -E2BIG
 * when cap is too small. out is untouched on failure.
 */
/*
 * The endpoint of profile to's service next to from's endpoint: a host whose
 * first label is from's host_prefix ("https://elb.eu-de.otc.t-systems.com")
 * gets to's in its place ("https://ecs.eu-de.otc.t-systems.com"); any other
 * endpoint (an address, a proxy or gateway name, the simulator on loopback)
 * serves every profile as it is. Returns 0, or -E2BIG when out (cap bytes) is
 * too small.
 */
int profile_sibling_endpoint(const char *endpoint, const struct api_profile *from,
                             const struct api_profile *to, char *out, size_t cap);
int profile_endpoint_for_region(const struct api_profile *p, const char *region, char *out,
                                size_t cap);

#endif
