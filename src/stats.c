/*
 * stats: the exporter's own counters (see stats.h).
 */
#include "stats.h"

#include <stdio.h>
#include <string.h>

const double stats_duration_bounds[STATS_DURATION_BUCKETS] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static const char *const reason_names[API_ERR_COUNT] = {
    [API_ERR_TIMEOUT] = "timeout", [API_ERR_CONNECT] = "connect", [API_ERR_TLS] = "tls",
    [API_ERR_RESOLVE] = "resolve", [API_ERR_PARSE] = "parse",     [API_ERR_TOO_LARGE] = "too_large",
    [API_ERR_OTHER] = "other",
};

const char *api_err_reason_name(enum api_err_reason r)
{
    if ((unsigned)r >= API_ERR_COUNT)
        return "other";
    return reason_names[r];
}

const char *render_page_name(enum render_page p)
{
    static const char *const names[RENDER_PAGE_COUNT] = {
        [RENDER_METRICS] = "metrics",
        [RENDER_LANDING] = "landing",
        [RENDER_OPENMETRICS] = "openmetrics",
        [RENDER_GZIP] = "gzip",
    };

    return (unsigned)p < RENDER_PAGE_COUNT ? names[p] : "metrics";
}

void stats_count_code(struct stats *s, long code)
{
    if (code >= 100 && code <= 599)
        s->requests_by_code[code]++;
}

void stats_count_error(struct stats *s, enum api_err_reason r)
{
    if ((unsigned)r >= API_ERR_COUNT)
        r = API_ERR_OTHER;
    s->errors[r]++;
}

void stats_observe_duration(struct stats *s, double seconds)
{
    size_t i;

    for (i = 0; i < STATS_DURATION_BUCKETS; i++)
        if (seconds <= stats_duration_bounds[i]) {
            s->duration_buckets[i]++;
            break;
        }
    s->duration_count++;
    s->duration_sum += seconds;
}

/* Find or add the (job_type, error_code) entry of a map; NULL when full. */
static struct stats_count *stats_slot(struct stats_count *map, unsigned *n, const char *job_type,
                                      const char *error_code)
{
    unsigned i;

    for (i = 0; i < *n; i++)
        if (strcmp(map[i].job_type, job_type) == 0 && strcmp(map[i].error_code, error_code) == 0)
            return &map[i];
    if (*n >= STATS_MAX_SERIES)
        return NULL;
    map += (*n)++;
    memset(map, 0, sizeof(*map));
    snprintf(map->job_type, sizeof(map->job_type), "%s", job_type);
    snprintf(map->error_code, sizeof(map->error_code), "%s", error_code);
    return map;
}

void stats_count_finished(struct stats *s, const char *job_type)
{
    struct stats_count *c = stats_slot(s->finished, &s->n_finished, job_type, "");

    if (c)
        c->value++;
    else
        s->series_dropped++;
}

void stats_count_failed(struct stats *s, const char *job_type, const char *error_code)
{
    struct stats_count *c = stats_slot(s->failed, &s->n_failed, job_type, error_code);

    if (c)
        c->value++;
    else
        s->series_dropped++;
}
