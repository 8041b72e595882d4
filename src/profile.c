/*
 * profile: the table of job APIs (see profile.h).
 */
#include "profile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define B(s) JOB_STATUS_BIT(s)

_Static_assert(JOB_STATUS_COUNT <= 32, "a status set is an unsigned bit mask");

/* INIT -> RUNNING -> SUCCESS | FAIL: classic ELB, ECS and EVS. */
static const enum job_status classic_statuses[] = {JOB_INIT, JOB_RUNNING, JOB_SUCCESS, JOB_FAIL};
#define CLASSIC_TERMINAL (B(JOB_SUCCESS) | B(JOB_FAIL))
#define CLASSIC_FAILED B(JOB_FAIL)

/* ELB v3 adds a rollback and two more ends (api-notes.md section 3). */
static const enum job_status v3_statuses[] = {
    JOB_INIT,        JOB_RUNNING,  JOB_SUCCESS,       JOB_FAIL,
    JOB_ROLLBACKING, JOB_COMPLETE, JOB_ROLLBACK_FAIL, JOB_CANCEL,
};
#define V3_TERMINAL (CLASSIC_TERMINAL | B(JOB_COMPLETE) | B(JOB_ROLLBACK_FAIL) | B(JOB_CANCEL))
#define V3_FAILED (CLASSIC_FAILED | B(JOB_ROLLBACK_FAIL))

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct api_profile profiles[] = {
    {
        .name = "elb-v1",
        .host_prefix = "elb",
        .path_fmt = "/v1.0/%s/jobs/%s",
        .envelope = NULL,
        .sub_jobs_at = SUBJOBS_TOP_LEVEL,
        .sub_jobs_total_key = NULL,
        .fail_text_key = "fail_reason",
        .error_code_key = "error_code",
        .sub_fail_text_key = NULL,
        .resource_id_key = NULL,
        .statuses = classic_statuses,
        .n_statuses = N(classic_statuses),
        .terminal = CLASSIC_TERMINAL,
        .failed = CLASSIC_FAILED,
    },
    {
        .name = "ecs-v1",
        .host_prefix = "ecs",
        .path_fmt = "/v1/%s/jobs/%s",
        .envelope = NULL,
        .sub_jobs_at = SUBJOBS_IN_ENTITIES,
        .sub_jobs_total_key = "sub_jobs_total",
        .fail_text_key = "fail_reason",
        .error_code_key = "error_code",
        .sub_fail_text_key = "errorcode_message",
        .resource_id_key = NULL,
        .statuses = classic_statuses,
        .n_statuses = N(classic_statuses),
        .terminal = CLASSIC_TERMINAL,
        .failed = CLASSIC_FAILED,
    },
    {
        .name = "evs-v1",
        .host_prefix = "evs",
        .path_fmt = "/v1/%s/jobs/%s",
        .envelope = NULL,
        .sub_jobs_at = SUBJOBS_IN_ENTITIES,
        .sub_jobs_total_key = NULL,
        .fail_text_key = "fail_reason",
        .error_code_key = "error_code",
        .sub_fail_text_key = NULL,
        .resource_id_key = NULL,
        .statuses = classic_statuses,
        .n_statuses = N(classic_statuses),
        .terminal = CLASSIC_TERMINAL,
        .failed = CLASSIC_FAILED,
    },
    {
        .name = "elb-v3",
        .host_prefix = "elb",
        .path_fmt = "/v3/%s/elb/jobs/%s",
        .envelope = "job",
        .sub_jobs_at = SUBJOBS_TOP_LEVEL,
        .sub_jobs_total_key = NULL,
        .fail_text_key = "error_msg",
        .error_code_key = "error_code",
        .sub_fail_text_key = NULL,
        .resource_id_key = "resource_id",
        .statuses = v3_statuses,
        .n_statuses = N(v3_statuses),
        .terminal = V3_TERMINAL,
        .failed = V3_FAILED,
    },
};

static const char *const status_names[JOB_STATUS_COUNT] = {
    [JOB_UNKNOWN] = "UNKNOWN",   [JOB_INIT] = "INIT",
    [JOB_RUNNING] = "RUNNING",   [JOB_SUCCESS] = "SUCCESS",
    [JOB_FAIL] = "FAIL",         [JOB_ROLLBACKING] = "ROLLBACKING",
    [JOB_COMPLETE] = "COMPLETE", [JOB_ROLLBACK_FAIL] = "ROLLBACK_FAIL",
    [JOB_CANCEL] = "CANCEL",
};

/* Regions of Open Telekom Cloud whose hosts are not under otc.t-systems.com. */
static const struct {
    const char *region, *domain;
} otc_domains[] = {
    {"eu-ch2", "sc.otc.t-systems.com"}, /* the Swiss cloud */
};
#define OTC_DOMAIN "otc.t-systems.com"
#define HUAWEI_DOMAIN "myhuaweicloud.com"

const struct api_profile *profile_find(const char *name)
{
    size_t i;

    if (name == NULL)
        return NULL;
    for (i = 0; i < N(profiles); i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

const struct api_profile *profile_at(size_t i)
{
    return i < N(profiles) ? &profiles[i] : NULL;
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
        if (strcmp(job_status_name(p->statuses[i]), raw) == 0)
            return p->statuses[i];
    return JOB_UNKNOWN;
}

int profile_has_status(const struct api_profile *p, enum job_status s)
{
    size_t i;

    if (p == NULL || s == JOB_UNKNOWN)
        return 0;
    for (i = 0; i < p->n_statuses; i++)
        if (p->statuses[i] == s)
            return 1;
    return 0;
}

int job_status_terminal(enum job_status s)
{
    switch (s) {
    case JOB_SUCCESS:
    case JOB_FAIL:
    case JOB_COMPLETE:
    case JOB_ROLLBACK_FAIL:
    case JOB_CANCEL:
        return 1;
    default:
        return 0;
    }
}

int job_status_failed(enum job_status s)
{
    return s == JOB_FAIL || s == JOB_ROLLBACK_FAIL;
}

int profile_terminal(const struct api_profile *p, enum job_status s)
{
    return profile_has_status(p, s) && (p->terminal & JOB_STATUS_BIT(s)) != 0;
}

int profile_failed(const struct api_profile *p, enum job_status s)
{
    return profile_has_status(p, s) && (p->failed & JOB_STATUS_BIT(s)) != 0;
}

/*
 * Is region 1..PROFILE_REGION_MAX bytes of [a-z0-9] labels joined by single
 * '-'? The number of labels goes to *labels.
 */
static int region_valid(const char *region, size_t *labels)
{
    size_t i, n = strnlen(region, PROFILE_REGION_MAX + 1);

    if (n == 0 || n > PROFILE_REGION_MAX)
        return 0;
    *labels = 1;
    for (i = 0; i < n; i++) {
        char ch = region[i];

        if (ch == '-') {
            if (i == 0 || i == n - 1 || region[i - 1] == '-')
                return 0;
            ++*labels;
        } else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))) {
            return 0;
        }
    }
    return 1;
}

/* The DNS domain of region's service hosts (region already valid, with labels labels). */
static const char *region_domain(const char *region, size_t labels)
{
    size_t i;

    if (labels != 2 || strncmp(region, "eu-", 3) != 0)
        return HUAWEI_DOMAIN;
    for (i = 0; i < N(otc_domains); i++)
        if (strcmp(region, otc_domains[i].region) == 0)
            return otc_domains[i].domain;
    return OTC_DOMAIN;
}

int profile_endpoint_for_region(const struct api_profile *p, const char *region, char *out,
                                size_t cap)
{
    char buf[256];
    size_t labels;
    int n;

    if (p == NULL || p->host_prefix == NULL || p->host_prefix[0] == '\0' || region == NULL ||
        out == NULL || !region_valid(region, &labels))
        return -EINVAL;
    n = snprintf(buf, sizeof(buf), "https://%s.%s.%s", p->host_prefix, region,
                 region_domain(region, labels));
    if (n < 0 || (size_t)n >= sizeof(buf))
        return -EINVAL; /* a host_prefix no real profile has */
    if ((size_t)n >= cap)
        return -E2BIG;
    memcpy(out, buf, (size_t)n + 1);
    return 0;
}

int profile_sibling_endpoint(const char *endpoint, const struct api_profile *from,
                             const struct api_profile *to, char *out, size_t cap)
{
    const char *host = strstr(endpoint, "://"), *dot;
    size_t pre, n;
    int len;

    host = host ? host + 3 : endpoint;
    dot = strchr(host, '.');
    pre = from && from->host_prefix ? strlen(from->host_prefix) : 0;
    if (!to || !to->host_prefix || !dot || pre == 0 || (size_t)(dot - host) != pre ||
        strncmp(host, from->host_prefix, pre) != 0) {
        len = snprintf(out, cap, "%s", endpoint);
    } else {
        n = (size_t)(host - endpoint);
        len = snprintf(out, cap, "%.*s%s%s", (int)n, endpoint, to->host_prefix, dot);
    }
    return len < 0 || (size_t)len >= cap ? -E2BIG : 0;
}
