/*
 * landing: the HTML landing page (GET /), rendered once per cycle. Pure.
 */
#ifndef ELB_LANDING_H
#define ELB_LANDING_H

#include "expfmt.h"
#include "strbuf.h"

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
