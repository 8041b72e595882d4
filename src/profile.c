/*
 * profile: the table of job APIs (see profile.h).
 */
#include "profile.h"

#include <string.h>

static const enum job_status classic_statuses[] = {JOB_INIT, JOB_RUNNING, JOB_SUCCESS, JOB_FAIL};

static const struct api_profile profiles[] = {
    {
        .name = "elb-v1",
        .path_fmt = "/v1.0/%s/jobs/%s",
        .envelope = NULL,
        .sub_jobs_at = SUBJOBS_TOP_LEVEL,
        .fail_text_key = "fail_reason",
        .statuses = classic_statuses,
        .n_statuses = sizeof(classic_statuses) / sizeof(classic_statuses[0]),
    },
};

static const char *const status_names[JOB_STATUS_COUNT] = {
    [JOB_UNKNOWN] = "UNKNOWN", [JOB_INIT] = "INIT", [JOB_RUNNING] = "RUNNING",
    [JOB_SUCCESS] = "SUCCESS", [JOB_FAIL] = "FAIL",
};

const struct api_profile *profile_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const struct api_profile *profile_at(size_t i)
{
    return i < sizeof(profiles) / sizeof(profiles[0]) ? &profiles[i] : NULL;
}

const struct api_profile *profile_default(void)
{
    return &profiles[0];
}

const char *job_status_name(enum job_status s)
{
    if ((unsigned)s >= JOB_STATUS_COUNT)
        return "UNKNOWN";
    return status_names[s];
}

enum job_status profile_status(const struct api_profile *p, const char *raw)
{
    size_t i;

    for (i = 0; i < p->n_statuses; i++)
        if (strcmp(status_names[p->statuses[i]], raw) == 0)
            return p->statuses[i];
    return JOB_UNKNOWN;
}

int job_status_terminal(enum job_status s)
{
    return s == JOB_SUCCESS || s == JOB_FAIL;
}
