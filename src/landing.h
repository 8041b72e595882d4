/*
 * landing: the HTML landing page (GET /), rendered once per cycle. Pure.
 */
#ifndef ELB_LANDING_H
#define ELB_LANDING_H

#include "expfmt.h"
#include "strbuf.h"

/*
 * Bounds by construction: the table shows at most LANDING_ROWS_MAX jobs (failed
 * ones first, then the others, with a visible count of what is left out), a
 * row holds only capped strings (job.h) that escaping grows at most sixfold
 * ("&quot;"), so the page never passes LANDING_MAX, whatever the API sends.
 */
#define LANDING_ROWS_MAX 500
#define LANDING_ROW_MAX                                                                            \
    (512 + 6 * (JOB_ID_MAX + 2 * JOB_STATUS_RAW_MAX + JOB_TYPE_MAX + JOB_RESOURCE_ID_MAX +         \
                JOB_ERROR_CODE_MAX + JOB_FAIL_REASON_MAX))
#define LANDING_FIXED_MAX (64u << 10)
#define LANDING_MAX (LANDING_FIXED_MAX + LANDING_ROWS_MAX * LANDING_ROW_MAX)

struct landing_input {
    const struct expfmt_input *state; /* jobs, stats, build info */
    const char *telemetry_path;       /* link target, e.g. "/metrics" */
    double now;                       /* render time, for running durations */
};

/* Append the whole page; every server- or user-controlled string HTML-escaped. */
int landing_render(struct strbuf *out, const struct landing_input *in);

/* Append s with & < > " ' escaped. Same returns as strbuf_append. */
int html_escape(struct strbuf *out, const char *s);

#endif
