/*
 * expfmt: render the whole exposition from the exporter's state (see expfmt.h).
 *
 * DESIGN. Two layers. The writer (family_begin / sample / writer_end) is the
 * only code that knows the wire format; the metric list below it knows names,
 * types, help texts, labels and values and nothing about syntax. Families are
 * named as OpenMetrics names them: a counter "x" whose sample is "x_total", an
 * info "x" whose sample is "x_info", a histogram whose samples are named by
 * kind (bucket / sum / count). The text writer names the counter family
 * "x_total" and the info family "x_info" (a gauge, text 0.0.4 has no info);
 * the OpenMetrics writer writes TYPE, UNIT, HELP in that order, HELP escaped
 * as the ABNF wants (\\, \n, \"), and ends with "# EOF". Sample lines are the
 * same in both formats, byte for byte.
 *
 * OpenMetrics choices (README, "OpenMetrics"): elb_job_status stays a gauge,
 * not a stateset, because a stateset's label must be named after its family
 * (elb_job_status="FAIL", not status="FAIL") and must list every state, which
 * --metrics.sparse-status does not; the *_info families are info (their
 * sample names are unchanged); no _created samples (Prometheus 2.x stores
 * each as a series of its own, and the counters start with the process,
 * whose start process_start_time_seconds gives); # UNIT for the families
 * whose name ends in a unit (_seconds, _bytes).
 *
 * Every family's samples are written together, per-job families loop over the
 * jobs inside the family. Every family the exporter knows always has its
 * HELP/TYPE header, even with no sample (an empty family is legal and parsers
 * drop it), except the process_* set, which is left out when /proc was not
 * readable. Output is all or nothing: on any strbuf error the buffer goes back
 * to its length on entry.
 *
 * Pure: no I/O, no clock, no globals. Numbers use the "C" locale's decimal
 * point, so the process must not switch LC_NUMERIC.
 */
#include "expfmt.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define DOUBLE_BUF 32 /* holds any expfmt_format_double() result */
#define CODE_BUF 8    /* an HTTP status code as text */
/* job_id, job_type, profile + up to two family labels, or resource_id and the registrant's */
#define MAX_JOB_LABELS (4 + JOB_LABELS_MAX)
#define TWO_POW_53 9007199254740992.0

/* ---------------------------------------------------------------- writer */

enum metric_type { MT_GAUGE, MT_COUNTER, MT_HISTOGRAM, MT_INFO };

/* Which sample of a family: the value itself, or one of the histogram parts. */
enum sample_kind { SK_VALUE, SK_BUCKET, SK_SUM, SK_COUNT };

struct label {
    const char *name;
    const char *value;
};

struct writer {
    struct strbuf *out;
    enum expfmt_format fmt;
    const char *family; /* base name of the family being written */
    enum metric_type type;
    /*
     * Both formats at once (expfmt_render_both): out gets the text exposition,
     * meta the OpenMetrics metadata, sp the OpenMetrics pieces of the two.
     */
    struct expfmt_spans *sp; /* NULL: one format, fmt */
    struct strbuf *meta;
    size_t entry, meta_entry; /* out->len, meta->len when rendering began */
    size_t om_run;            /* start in out of the samples not yet in a piece */
};

/* The TYPE word of t in format fmt (text 0.0.4 has no info: a gauge). */
static const char *type_name(enum expfmt_format fmt, enum metric_type t)
{
    switch (t) {
    case MT_COUNTER:
        return "counter";
    case MT_HISTOGRAM:
        return "histogram";
    case MT_INFO:
        return fmt == EXPFMT_OPENMETRICS ? "info" : "gauge";
    case MT_GAUGE:
    default:
        return "gauge";
    }
}

/* Suffix after the family base name for a sample kind (the same in both formats). */
static const char *sample_suffix(enum metric_type t, enum sample_kind k)
{
    switch (k) {
    case SK_BUCKET:
        return "_bucket";
    case SK_SUM:
        return "_sum";
    case SK_COUNT:
        return "_count";
    case SK_VALUE:
    default:
        return t == MT_COUNTER ? "_total" : t == MT_INFO ? "_info" : "";
    }
}

/* Text 0.0.4 HELP escaping: backslash and newline only. */
static const char *help_escape(unsigned char c)
{
    return c == '\\' ? "\\\\" : c == '\n' ? "\\n" : NULL;
}

/* OpenMetrics HELP is an escaped-string of the ABNF: the double quote too. */
static const char *help_escape_om(unsigned char c)
{
    return c == '"' ? "\\\"" : help_escape(c);
}

/*
 * The unit a family's name ends in, or NULL: OpenMetrics wants # UNIT where it
 * is known, and only as a suffix of the name. Info families have none.
 */
static const char *family_unit(const char *name, enum metric_type type)
{
    static const char *const units[] = {"seconds", "bytes"};
    size_t n = strlen(name), i, k;

    if (type == MT_INFO)
        return NULL;
    for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        k = strlen(units[i]);
        if (n > k + 1 && name[n - k - 1] == '_' && strcmp(name + n - k, units[i]) == 0)
            return units[i];
    }
    return NULL;
}

/* OpenMetrics metadata into b: "# TYPE", "# UNIT" (when the name ends in a unit), "# HELP". */
static int meta_om(struct strbuf *b, const char *name, enum metric_type type, const char *help)
{
    const char *unit = family_unit(name, type);
    int rc;

    rc = strbuf_printf(b, "# TYPE %s %s\n", name, type_name(EXPFMT_OPENMETRICS, type));
    if (rc == 0 && unit)
        rc = strbuf_printf(b, "# UNIT %s %s\n", name, unit);
    if (rc == 0)
        rc = strbuf_printf(b, "# HELP %s ", name);
    if (rc == 0)
        rc = strbuf_escape(b, help, help_escape_om);
    return rc ? rc : strbuf_putc(b, '\n');
}

/* Text 0.0.4 metadata: "# HELP" and "# TYPE" of the name the samples carry. */
static int meta_text(struct writer *w, const char *name, enum metric_type type, const char *help)
{
    const char *suffix = type == MT_COUNTER ? "_total" : type == MT_INFO ? "_info" : "";
    int rc;

    rc = strbuf_printf(w->out, "# HELP %s%s ", name, suffix);
    if (rc)
        return rc;
    rc = strbuf_escape(w->out, help, help_escape);
    if (rc)
        return rc;
    return strbuf_printf(w->out, "\n# TYPE %s%s %s\n", name, suffix,
                         type_name(EXPFMT_TEXT_004, type));
}

/*
 * Both formats: bytes [from, to) of out (in_meta 0) or of meta (1) are the
 * next piece of the OpenMetrics exposition; joined to the last piece when
 * they follow it in the same buffer.
 */
static int span_add(struct writer *w, int in_meta, size_t from, size_t to)
{
    struct expfmt_spans *sp = w->sp;
    struct expfmt_span *last = sp->n ? &sp->span[sp->n - 1] : NULL;
    size_t off = from - (in_meta ? w->meta_entry : w->entry);

    if (to == from)
        return 0;
    sp->total += to - from;
    if (last && last->in_meta == in_meta && last->off + last->len == off) {
        last->len += to - from;
        return 0;
    }
    if (sp->n >= EXPFMT_SPANS_MAX)
        return -E2BIG; /* cannot happen: the families are a fixed list */
    sp->span[sp->n++] = (struct expfmt_span){.in_meta = in_meta, .off = off, .len = to - from};
    return 0;
}

/*
 * Start a family: name is the base name (a counter without "_total", an info
 * without "_info"), help one line of text; the metadata of the format, or of
 * both. Both: the previous family's samples (in out) end an OpenMetrics
 * piece, the OpenMetrics metadata goes to meta as a piece of its own, the
 * text metadata to out, and the samples to come open the next piece.
 * Returns 0 or a strbuf error.
 */
static int family_begin(struct writer *w, const char *name, enum metric_type type, const char *help)
{
    size_t from;
    int rc;

    w->family = name;
    w->type = type;
    if (!w->sp)
        return w->fmt == EXPFMT_OPENMETRICS ? meta_om(w->out, name, type, help)
                                            : meta_text(w, name, type, help);
    rc = span_add(w, 0, w->om_run, w->out->len);
    if (rc)
        return rc;
    from = w->meta->len;
    rc = meta_om(w->meta, name, type, help);
    if (rc == 0)
        rc = span_add(w, 1, from, w->meta->len);
    if (rc == 0)
        rc = meta_text(w, name, type, help);
    w->om_run = w->out->len;
    return rc;
}

/*
 * Write one sample of the current family: labels[0..n) in that order (values
 * escaped), then the value. Returns 0 or a strbuf error.
 */
static int sample(struct writer *w, enum sample_kind kind, const struct label *labels, size_t n,
                  double value)
{
    char num[DOUBLE_BUF];
    size_t i;
    int rc;

    rc = strbuf_puts(w->out, w->family);
    if (rc)
        return rc;
    rc = strbuf_puts(w->out, sample_suffix(w->type, kind));
    if (rc)
        return rc;
    for (i = 0; i < n; i++) {
        rc = strbuf_printf(w->out, "%c%s=\"", i == 0 ? '{' : ',', labels[i].name);
        if (rc)
            return rc;
        rc = expfmt_escape_label(w->out, labels[i].value ? labels[i].value : "");
        if (rc)
            return rc;
        rc = strbuf_putc(w->out, '"');
        if (rc)
            return rc;
    }
    if (n) {
        rc = strbuf_putc(w->out, '}');
        if (rc)
            return rc;
    }
    expfmt_format_double(value, num, sizeof(num));
    return strbuf_printf(w->out, " %s\n", num);
}

/* Finish the exposition (nothing in text 0.0.4; "# EOF" in OpenMetrics), closing the pieces. */
static int writer_end(struct writer *w)
{
    int rc;

    size_t from;

    if (!w->sp)
        return w->fmt == EXPFMT_OPENMETRICS ? strbuf_puts(w->out, "# EOF\n") : 0;
    rc = span_add(w, 0, w->om_run, w->out->len);
    if (rc)
        return rc;
    from = w->meta->len;
    rc = strbuf_puts(w->meta, "# EOF\n");
    return rc ? rc : span_add(w, 1, from, w->meta->len);
}

/* A family with one unlabelled sample. */
static int single(struct writer *w, const char *name, enum metric_type type, const char *help,
                  double value)
{
    int rc = family_begin(w, name, type, help);

    return rc ? rc : sample(w, SK_VALUE, NULL, 0, value);
}

/* ------------------------------------------------------- per-job families */

static int status_in_profile(const struct api_profile *p, enum job_status s)
{
    size_t i;

    for (i = 0; i < p->n_statuses; i++)
        if (p->statuses[i] == s)
            return 1;
    return 0;
}

/* The status a job is shown in: its status, or UNKNOWN when the profile lacks it. */
static enum job_status shown_status(const struct api_profile *p, enum job_status s)
{
    return status_in_profile(p, s) ? s : JOB_UNKNOWN;
}

/*
 * Does the record describe the job's current state? Not after a 404 that
 * followed a good answer (status UNKNOWN, rec still the old answer): then the
 * timing, error and sub-job families are left out rather than shown stale.
 */
static const struct job_record *current_rec(const struct expfmt_job *j)
{
    return j->rec && j->rec->status == j->status ? j->rec : NULL;
}

const struct job_record *expfmt_job_current(const struct expfmt_job *j)
{
    return current_rec(j);
}

int expfmt_job_duration(const struct expfmt_job *j, double *out)
{
    const struct job_record *r = current_rec(j);
    double d;

    if (!r || !r->has_begin)
        return 0;
    if (job_status_terminal(r->status)) {
        if (!r->has_end)
            return 0;
        d = r->end_time - r->begin_time;
    } else {
        d = j->observed_at - r->begin_time;
    }
    if (!(d > 0)) /* clock skew between server and poller, or NaN: never negative */
        d = 0;
    /*
     * The difference of two epoch doubles carries binary noise (2.6019999980926514
     * for 2.602 s); the API's times are milliseconds, so microseconds lose nothing.
     */
    *out = round(d * 1e6) / 1e6;
    return 1;
}

/* The profile a job is polled with. */
static const struct api_profile *job_profile(const struct expfmt_input *in,
                                             const struct expfmt_job *j)
{
    return j->profile ? j->profile : in->profile;
}

/*
 * One sample of a per-job family: job_id, job_type, then profile for a job of
 * another profile than the instance's (only there does it carry information,
 * and it keeps one ID under two profiles two series), then n_extra labels.
 */
static int job_sample(struct writer *w, const struct expfmt_input *in, const struct expfmt_job *j,
                      const struct label *extra, size_t n_extra, double value)
{
    struct label l[MAX_JOB_LABELS];
    size_t i, n = 2;

    if (n_extra > MAX_JOB_LABELS - 3) /* job_id, job_type, profile */
        return -EINVAL;
    l[0].name = "job_id";
    l[0].value = j->id ? j->id : "";
    l[1].name = "job_type";
    l[1].value = j->rec ? j->rec->job_type : "";
    if (job_profile(in, j) != in->profile) {
        l[n].name = "profile";
        l[n++].value = job_profile(in, j)->name;
    }
    for (i = 0; i < n_extra; i++)
        l[n++] = extra[i];
    return sample(w, SK_VALUE, l, n, value);
}

static int emit_status(struct writer *w, const struct expfmt_input *in, const struct expfmt_job *j)
{
    const struct api_profile *prof = job_profile(in, j);
    enum job_status cur = shown_status(prof, j->status);
    struct label l = {"status", NULL};
    size_t i;
    int rc;

    if (in->sparse_status) { /* only the status the job is in */
        l.value = job_status_name(cur);
        return job_sample(w, in, j, &l, 1, 1);
    }
    /* the stateset of the job's own profile, plus UNKNOWN */
    for (i = 0; i < prof->n_statuses; i++) {
        enum job_status s = prof->statuses[i];

        l.value = job_status_name(s);
        rc = job_sample(w, in, j, &l, 1, cur == s);
        if (rc)
            return rc;
    }
    l.value = job_status_name(JOB_UNKNOWN);
    return job_sample(w, in, j, &l, 1, cur == JOB_UNKNOWN);
}

static int emit_info(struct writer *w, const struct expfmt_input *in, const struct expfmt_job *j)
{
    struct label l[1 + JOB_LABELS_MAX];
    size_t n = 1;
    unsigned i;

    if (!j->rec)
        return 0;
    l[0].name = "resource_id";
    l[0].value = j->rec->resource_id;
    /* the registrant's labels (joblabels.h: allow-listed names, sorted, bounded values) */
    for (i = 0; j->labels && i < j->labels->n && i < JOB_LABELS_MAX; i++) {
        l[n].name = j->labels->kv[i].name;
        l[n++].value = j->labels->kv[i].value;
    }
    return job_sample(w, in, j, l, n, 1);
}

static int emit_begin(struct writer *w, const struct expfmt_input *in, const struct expfmt_job *j)
{
    const struct job_record *r = current_rec(j);

    (void)in;
    if (!r || !r->has_begin)
        return 0;
    return job_sample(w, in, j, NULL, 0, r->begin_time);
}

static int emit_end(struct writer *w, const struct expfmt_input *in, const struct expfmt_job *j)
{
    const struct job_record *r = current_rec(j);

    (void)in;
    if (!r || !r->has_end || !job_status_terminal(r->status))
        return 0;
    return job_sample(w, in, j, NULL, 0, r->end_time);
}

static int emit_duration(struct writer *w, const struct expfmt_input *in,
                         const struct expfmt_job *j)
{
    double d;

    if (!expfmt_job_duration(j, &d))
        return 0;
    return job_sample(w, in, j, NULL, 0, d);
}

static int emit_error(struct writer *w, const struct expfmt_input *in, const struct expfmt_job *j)
{
    const struct job_record *r = current_rec(j);
    struct label l[2] = {{"error_code", NULL}, {"fail_reason", NULL}};

    (void)in;
    if (!r || !job_status_failed(j->status))
        return 0;
    l[0].value = r->error_code;
    l[1].value = r->fail_reason;
    return job_sample(w, in, j, l, 2, 1);
}

static int emit_sub_jobs(struct writer *w, const struct expfmt_input *in,
                         const struct expfmt_job *j)
{
    const struct job_record *r = current_rec(j);
    const struct api_profile *prof = job_profile(in, j);
    struct label l = {"status", NULL};
    double unknown = 0;
    size_t i;
    int rc;

    if (!r || !r->has_sub_jobs)
        return 0;
    for (i = 0; i < prof->n_statuses; i++) {
        enum job_status s = prof->statuses[i];

        if ((unsigned)s >= JOB_STATUS_COUNT)
            continue;
        l.value = job_status_name(s);
        rc = job_sample(w, in, j, &l, 1, r->sub_jobs[s]);
        if (rc)
            return rc;
    }
    /* UNKNOWN also takes sub-jobs in a status this profile does not list. */
    for (i = 0; i < JOB_STATUS_COUNT; i++)
        if (i == JOB_UNKNOWN || !status_in_profile(prof, (enum job_status)i))
            unknown += r->sub_jobs[i];
    l.value = job_status_name(JOB_UNKNOWN);
    return job_sample(w, in, j, &l, 1, unknown);
}

static int emit_fetch_success(struct writer *w, const struct expfmt_input *in,
                              const struct expfmt_job *j)
{
    (void)in;
    return job_sample(w, in, j, NULL, 0, j->fetch_success ? 1 : 0);
}

static int emit_last_fetch(struct writer *w, const struct expfmt_input *in,
                           const struct expfmt_job *j)
{
    (void)in;
    if (!(j->last_fetch > 0))
        return 0;
    return job_sample(w, in, j, NULL, 0, j->last_fetch);
}

struct job_family {
    const char *name;
    enum metric_type type;
    const char *help;
    int (*emit)(struct writer *w, const struct expfmt_input *in, const struct expfmt_job *j);
};

static const struct job_family job_families[] = {
    {"elb_job_status", MT_GAUGE,
     "Current status of the job: 1 for the status it is in, 0 for the others (UNKNOWN: never "
     "fetched or not found).",
     emit_status},
    {"elb_job", MT_INFO,
     "Always 1; carries the resource the job works on and the labels it was registered with.",
     emit_info},
    {"elb_job_begin_timestamp_seconds", MT_GAUGE, "Time the job began, in seconds since the epoch.",
     emit_begin},
    {"elb_job_end_timestamp_seconds", MT_GAUGE,
     "Time the job ended, in seconds since the epoch; absent until it has finished.", emit_end},
    {"elb_job_duration_seconds", MT_GAUGE,
     "Job duration in seconds: end minus begin once finished, last poll minus begin while "
     "running.",
     emit_duration},
    {"elb_job_error", MT_INFO, "Always 1 while the job is FAIL; carries its error.", emit_error},
    {"elb_job_sub_jobs", MT_GAUGE, "Number of the job's direct sub-jobs in each status.",
     emit_sub_jobs},
    {"elb_job_fetch_success", MT_GAUGE, "1 if the last poll of the job got a valid answer, else 0.",
     emit_fetch_success},
    {"elb_job_last_fetch_timestamp_seconds", MT_GAUGE,
     "Time of the last HTTP answer for the job (valid or not, any status code), in seconds since "
     "the epoch.",
     emit_last_fetch},
};

static int render_jobs(struct writer *w, const struct expfmt_input *in)
{
    size_t f, i;
    int rc;

    for (f = 0; f < sizeof(job_families) / sizeof(job_families[0]); f++) {
        const struct job_family *jf = &job_families[f];

        rc = family_begin(w, jf->name, jf->type, jf->help);
        if (rc)
            return rc;
        for (i = 0; i < in->n_jobs; i++) {
            rc = jf->emit(w, in, &in->jobs[i]);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ aggregates */

static int render_aggregates(struct writer *w, const struct expfmt_input *in)
{
    const struct stats *st = in->stats;
    double per_status[JOB_STATUS_COUNT] = {0};
    struct label l[2];
    unsigned i, n;
    int rc;

    int extra[JOB_STATUS_COUNT] = {0}; /* statuses only other profiles of tracked jobs have */

    for (i = 0; i < in->n_jobs; i++) {
        const struct api_profile *prof = job_profile(in, &in->jobs[i]);
        unsigned k;

        per_status[shown_status(prof, in->jobs[i].status)]++;
        for (k = 0; prof != in->profile && k < prof->n_statuses; k++)
            if ((unsigned)prof->statuses[k] < JOB_STATUS_COUNT &&
                !status_in_profile(in->profile, prof->statuses[k]))
                extra[prof->statuses[k]] = 1;
    }
    rc = family_begin(w, "elb_jobs", MT_GAUGE, "Tracked jobs per status.");
    if (rc)
        return rc;
    l[0].name = "status";
    /* the instance's profile's statuses always, then those other profiles add, then UNKNOWN */
    for (i = 0; i < in->profile->n_statuses + JOB_STATUS_COUNT; i++) {
        enum job_status s = i < in->profile->n_statuses
                                ? in->profile->statuses[i]
                                : (enum job_status)(i - in->profile->n_statuses);

        if ((unsigned)s >= JOB_STATUS_COUNT || (i >= in->profile->n_statuses && !extra[s]))
            continue;
        l[0].value = job_status_name(s);
        rc = sample(w, SK_VALUE, l, 1, per_status[s]);
        if (rc)
            return rc;
    }
    l[0].value = job_status_name(JOB_UNKNOWN);
    rc = sample(w, SK_VALUE, l, 1, per_status[JOB_UNKNOWN]);
    if (rc)
        return rc;

    rc = family_begin(w, "elb_jobs_finished", MT_COUNTER,
                      "Jobs seen in a terminal status (SUCCESS or FAIL), counted once per job.");
    if (rc)
        return rc;
    l[0].name = "job_type";
    n = st->n_finished < STATS_MAX_SERIES ? st->n_finished : STATS_MAX_SERIES;
    for (i = 0; i < n; i++) {
        l[0].value = st->finished[i].job_type;
        rc = sample(w, SK_VALUE, l, 1, (double)st->finished[i].value);
        if (rc)
            return rc;
    }

    rc = family_begin(w, "elb_jobs_failed", MT_COUNTER,
                      "Jobs seen in status FAIL, counted once per job.");
    if (rc)
        return rc;
    l[1].name = "error_code";
    n = st->n_failed < STATS_MAX_SERIES ? st->n_failed : STATS_MAX_SERIES;
    for (i = 0; i < n; i++) {
        l[0].value = st->failed[i].job_type;
        l[1].value = st->failed[i].error_code;
        rc = sample(w, SK_VALUE, l, 2, (double)st->failed[i].value);
        if (rc)
            return rc;
    }
    return 0;
}

/* -------------------------------------------------------------- exporter */

static int render_api(struct writer *w, const struct stats *st)
{
    char code[CODE_BUF], le[DOUBLE_BUF];
    struct label l;
    uint64_t cum = 0;
    unsigned i;
    int rc;

    rc = family_begin(w, "elb_job_exporter_api_requests", MT_COUNTER,
                      "Answers received from the job API, by HTTP status code.");
    if (rc)
        return rc;
    l.name = "code";
    l.value = code;
    for (i = 100; i < sizeof(st->requests_by_code) / sizeof(st->requests_by_code[0]); i++) {
        if (!st->requests_by_code[i])
            continue;
        snprintf(code, sizeof(code), "%u", i);
        rc = sample(w, SK_VALUE, &l, 1, (double)st->requests_by_code[i]);
        if (rc)
            return rc;
    }

    rc = family_begin(w, "elb_job_exporter_api_request_errors", MT_COUNTER,
                      "Job API requests that got no usable answer, by reason.");
    if (rc)
        return rc;
    l.name = "reason";
    for (i = 0; i < API_ERR_COUNT; i++) {
        l.value = api_err_reason_name((enum api_err_reason)i);
        rc = sample(w, SK_VALUE, &l, 1, (double)st->errors[i]);
        if (rc)
            return rc;
    }

    rc = family_begin(w, "elb_job_exporter_api_request_duration_seconds", MT_HISTOGRAM,
                      "Duration of job API requests, in seconds.");
    if (rc)
        return rc;
    l.name = "le";
    l.value = le;
    for (i = 0; i < STATS_DURATION_BUCKETS; i++) {
        cum += st->duration_buckets[i];
        expfmt_format_canonical(stats_duration_bounds[i], le, sizeof(le));
        rc = sample(w, SK_BUCKET, &l, 1, (double)cum);
        if (rc)
            return rc;
    }
    l.value = "+Inf";
    rc = sample(w, SK_BUCKET, &l, 1, (double)st->duration_count);
    if (rc)
        return rc;
    rc = sample(w, SK_SUM, NULL, 0, st->duration_sum);
    if (rc)
        return rc;
    rc = sample(w, SK_COUNT, NULL, 0, (double)st->duration_count);
    if (rc)
        return rc;

    return single(w, "elb_job_exporter_api_up", MT_GAUGE,
                  "1 if the last poll cycle reached the job API and was authorised, else 0.",
                  st->api_up ? 1 : 0);
}

/* The durable store's families, in this order (a table, not a ladder). */
static const struct store_family {
    const char *name;
    enum metric_type type;
    const char *help;
    size_t off;  /* of the value in struct stats_store */
    int seconds; /* a double, not a uint64_t */
} store_families[] = {
    {"elb_job_exporter_store_jobs", MT_GAUGE,
     "Jobs the durable store keeps: registered, or finished and remembered.",
     offsetof(struct stats_store, jobs), 0},
    {"elb_job_exporter_store_size_bytes", MT_GAUGE, "Bytes of the durable store's log file.",
     offsetof(struct stats_store, log_bytes), 0},
    {"elb_job_exporter_store_records_corrupt", MT_COUNTER,
     "Records cut off the store's log at start-up as torn or damaged (with those after them).",
     offsetof(struct stats_store, records_corrupt), 0},
    {"elb_job_exporter_store_bytes_cut", MT_COUNTER,
     "Bytes cut off the store's log at start-up as torn or damaged.",
     offsetof(struct stats_store, bytes_cut), 0},
    {"elb_job_exporter_store_records_skipped", MT_COUNTER,
     "Valid records of the store's log skipped at start-up: their profile is unknown to this "
     "version.",
     offsetof(struct stats_store, records_skipped), 0},
    {"elb_job_exporter_store_appends", MT_COUNTER, "Records written to the store's log.",
     offsetof(struct stats_store, appends), 0},
    {"elb_job_exporter_store_fsyncs", MT_COUNTER,
     "fdatasync calls on the store's log; appends per fsync is the group commit's batch.",
     offsetof(struct stats_store, fsyncs), 0},
    {"elb_job_exporter_store_compactions", MT_COUNTER, "Compactions of the store's log.",
     offsetof(struct stats_store, compactions), 0},
    {"elb_job_exporter_store_write_errors", MT_COUNTER,
     "Records the store could not write (disk full, I/O error); none of them was acknowledged.",
     offsetof(struct stats_store, write_errors), 0},
    {"elb_job_exporter_store_replay_duration_seconds", MT_GAUGE,
     "Time the store took at start-up to read its log, in seconds.",
     offsetof(struct stats_store, replay_seconds), 1},
};

/* The durable store's families; left out without a store. */
static int render_store(struct writer *w, const struct stats_store *ss)
{
    const char *base = (const char *)ss;
    size_t i;
    int rc = 0;

    for (i = 0; ss->enabled && rc == 0 && i < sizeof(store_families) / sizeof(store_families[0]);
         i++) {
        const struct store_family *f = &store_families[i];
        double v;
        uint64_t u;

        if (f->seconds) {
            memcpy(&v, base + f->off, sizeof(v));
        } else {
            memcpy(&u, base + f->off, sizeof(u));
            v = (double)u;
        }
        rc = single(w, f->name, f->type, f->help, v);
    }
    return rc;
}

static int render_exporter(struct writer *w, const struct expfmt_input *in)
{
    const struct stats *st = in->stats;
    const struct build_info *b = in->build;
    struct label l[4];
    unsigned i;
    int rc;

    rc = render_api(w, st);
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_auth_requests", MT_COUNTER,
                "Authentication requests sent to the identity service.", (double)st->auth_requests);
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_auth_failures", MT_COUNTER,
                "Job API answers with HTTP status 401 Unauthorized (credentials refused), one per "
                "answer.",
                (double)st->auth_failures);
    if (rc)
        return rc;
    rc = family_begin(w, "elb_job_exporter_auth_token_expiry_timestamp_seconds", MT_GAUGE,
                      "Expiry time of the current API token, in seconds since the epoch.");
    if (rc)
        return rc;
    if (st->auth_token_expiry != 0) {
        rc = sample(w, SK_VALUE, NULL, 0, st->auth_token_expiry);
        if (rc)
            return rc;
    }
    rc = single(w, "elb_job_exporter_poll_cycles", MT_COUNTER, "Poll cycles completed.",
                (double)st->poll_cycles);
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_last_poll_cycle_timestamp_seconds", MT_GAUGE,
                "End time of the last poll cycle, in seconds since the epoch (0 before the first).",
                st->last_cycle_ts);
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_poll_cycle_duration_seconds", MT_GAUGE,
                "Duration of the last poll cycle, in seconds.", st->last_cycle_duration);
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_tracked_jobs", MT_GAUGE,
                "Jobs the exporter tracks (finished ones past --jobs.retention included).",
                (double)(in->tracked_jobs > in->n_jobs ? in->tracked_jobs : in->n_jobs));
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_series_dropped", MT_COUNTER,
                "Counter increments dropped because a job_type/error_code label map was full.",
                (double)st->series_dropped);
    if (rc)
        return rc;
    rc = family_begin(w, "elb_job_exporter_render_failures", MT_COUNTER,
                      "Pages whose rendering failed, by page; the page kept its previous form.");
    if (rc)
        return rc;
    for (i = 0; i < RENDER_PAGE_COUNT; i++) {
        l[0].name = "page";
        l[0].value = render_page_name((enum render_page)i);
        rc = sample(w, SK_VALUE, l, 1, (double)st->render_failures[i]);
        if (rc)
            return rc;
    }
    if (st->jobs_file) {
        rc = single(w, "elb_job_exporter_jobs_file_last_reload_successful", MT_GAUGE,
                    "1 if the last (re)load of --jobs.file worked, 0 if it failed.",
                    st->jobs_reload_ok ? 1 : 0);
        if (!rc)
            rc = single(w, "elb_job_exporter_jobs_file_last_reload_success_timestamp_seconds",
                        MT_GAUGE, "Time --jobs.file was last loaded successfully.",
                        st->jobs_reload_success_ts);
        if (rc)
            return rc;
    }
    rc = render_store(w, &st->store);
    if (rc)
        return rc;
    rc = family_begin(w, "elb_job_exporter_build", MT_INFO,
                      "Always 1; carries the exporter's version and the library versions.");
    if (rc || !b)
        return rc;
    l[0].name = "version";
    l[0].value = b->version;
    l[1].name = "revision";
    l[1].value = b->revision;
    l[2].name = "libcurl";
    l[2].value = b->libcurl;
    l[3].name = "libmicrohttpd";
    l[3].value = b->libmicrohttpd;
    return sample(w, SK_VALUE, l, 4, 1);
}

/* Label values of the HTTP server's counters, indexed by their enums (stats.h). */
static const char *const http_refuse_names[HTTP_REFUSE_COUNT] = {
    [HTTP_REFUSE_PER_IP_LIMIT] = "per_ip_limit",
    [HTTP_REFUSE_CONNECTION_LIMIT] = "connection_limit",
};
static const char *const http_cut_names[HTTP_CUT_COUNT] = {
    [HTTP_CUT_HEADER_TIMEOUT] = "header_timeout",
};
static const char *const http_request_refuse_names[HTTP_REQ_REFUSE_COUNT] = {
    [HTTP_REQ_REFUSE_MAX_REQUESTS] = "max_requests",
    [HTTP_REQ_REFUSE_UNAUTHORIZED] = "unauthorized",
    [HTTP_REQ_REFUSE_AUTH_BUSY] = "auth_busy",
    [HTTP_REQ_REFUSE_RATE_LIMIT] = "rate_limit",
    [HTTP_REQ_REFUSE_CLIENT_CERT] = "client_cert",
};

/* One counter family with a "reason" label, every reason always present. */
static int reason_family(struct writer *w, const char *name, const char *help,
                         const char *const *names, const atomic_uint_least64_t *values, size_t n)
{
    struct label l = {"reason", NULL};
    size_t i;
    int rc = family_begin(w, name, MT_COUNTER, help);

    for (i = 0; rc == 0 && i < n; i++) {
        l.value = names[i];
        rc = sample(w, SK_VALUE, &l, 1, (double)atomic_load(&values[i]));
    }
    return rc;
}

/* The HTTP server's families; left out without counters (no server, as in --once). */
static int render_http(struct writer *w, const struct expfmt_input *in)
{
    const struct http_counters *h = in->http;
    int rc;

    if (!h)
        return 0;
    rc = reason_family(w, "elb_job_exporter_http_connections_refused",
                       "Client connections the HTTP server closed at accept, by reason.",
                       http_refuse_names, h->refused, HTTP_REFUSE_COUNT);
    if (rc)
        return rc;
    rc = reason_family(w, "elb_job_exporter_http_connections_cut",
                       "Client connections the HTTP server shut down before their request was "
                       "answered, by reason.",
                       http_cut_names, h->cut, HTTP_CUT_COUNT);
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_http_waiting_requests", MT_GAUGE,
                "Requests waiting for a job to finish (GET /api/v1/jobs/{id}?wait=), as of the "
                "render.",
                (double)atomic_load(&h->waiting));
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_http_waits_refused", MT_COUNTER,
                "Waiting requests refused because their address or the server held the most "
                "waiting requests allowed.",
                (double)atomic_load(&h->waits_refused));
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_http_server_errors", MT_COUNTER,
                "Errors the embedded HTTP server (libmicrohttpd) reported, logged or suppressed "
                "by the log rate limit.",
                (double)atomic_load(&h->server_errors));
    if (rc)
        return rc;
    rc = reason_family(w, "elb_job_exporter_http_requests_refused",
                       "Requests the HTTP server answered with a refusal (401, 403, 429, 503), by "
                       "reason.",
                       http_request_refuse_names, h->requests_refused, HTTP_REQ_REFUSE_COUNT);
    if (rc || !atomic_load(&h->web_config))
        return rc;
    rc = single(w, "elb_job_exporter_web_config_last_reload_successful", MT_GAUGE,
                "1 if the last (re)load of --web.config.file worked, 0 if it failed (the last "
                "good one is in use).",
                atomic_load(&h->web_config_reload_ok) ? 1 : 0);
    if (rc)
        return rc;
    rc = single(w, "elb_job_exporter_web_config_last_reload_success_timestamp_seconds", MT_GAUGE,
                "Time --web.config.file and its certificates were last loaded successfully.",
                (double)atomic_load(&h->web_config_reload_ms) / 1000.0);
    if (rc)
        return rc;
    return single(w, "elb_job_exporter_web_config_reload_failures", MT_COUNTER,
                  "Reloads of --web.config.file (or of the files it names) that failed.",
                  (double)atomic_load(&h->web_config_reload_failures));
}

static int render_process(struct writer *w, const struct proc_stats *p)
{
    int rc;

    if (!p || !p->ok)
        return 0;
    rc = single(w, "process_cpu_seconds", MT_COUNTER,
                "Total user and system CPU time spent, in seconds.", p->cpu_seconds);
    if (rc)
        return rc;
    rc = single(w, "process_resident_memory_bytes", MT_GAUGE, "Resident memory size, in bytes.",
                p->resident_bytes);
    if (rc)
        return rc;
    rc = single(w, "process_virtual_memory_bytes", MT_GAUGE, "Virtual memory size, in bytes.",
                p->virtual_bytes);
    if (rc)
        return rc;
    rc = single(w, "process_start_time_seconds", MT_GAUGE,
                "Start time of the process, in seconds since the epoch.", p->start_time);
    if (rc)
        return rc;
    rc = single(w, "process_open_fds", MT_GAUGE, "Open file descriptors.", p->open_fds);
    if (rc)
        return rc;
    return single(w, "process_max_fds", MT_GAUGE, "Limit on open file descriptors.", p->max_fds);
}

/* ------------------------------------------------------------ public API */

/* Render with w set up (one format, or both with w->sp). Rolls out back on failure. */
static int render(struct writer *w, const struct expfmt_input *in)
{
    struct strbuf *out = w->out;
    size_t entry, saved_max;
    int rc;

    entry = out->len;
    saved_max = out->max;
    /* One exposition never exceeds its bound, whatever room out has. */
    if (out->max - entry > expfmt_max_output(in->n_jobs))
        out->max = entry + expfmt_max_output(in->n_jobs);

    rc = render_jobs(w, in);
    if (rc)
        goto out;
    rc = render_aggregates(w, in);
    if (rc)
        goto out;
    rc = render_exporter(w, in);
    if (rc)
        goto out;
    rc = render_http(w, in);
    if (rc)
        goto out;
    rc = render_process(w, in->proc);
    if (rc)
        goto out;
    rc = writer_end(w);
out:
    out->max = saved_max;
    if (rc)
        strbuf_truncate(out, entry);
    return rc;
}

static int input_ok(const struct strbuf *out, const struct expfmt_input *in)
{
    return out && in && in->profile && in->stats && (!in->n_jobs || in->jobs);
}

int expfmt_render(struct strbuf *out, enum expfmt_format fmt, const struct expfmt_input *in)
{
    struct writer w = {.out = out, .fmt = fmt};

    if (!input_ok(out, in) || (fmt != EXPFMT_TEXT_004 && fmt != EXPFMT_OPENMETRICS))
        return -EINVAL;
    return render(&w, in);
}

int expfmt_render_both(struct strbuf *out, struct strbuf *meta, const struct expfmt_input *in,
                       struct expfmt_spans *sp)
{
    struct writer w = {.out = out, .fmt = EXPFMT_TEXT_004, .sp = sp, .meta = meta};
    size_t meta_saved;
    int rc;

    if (!input_ok(out, in) || !meta || meta == out || !sp)
        return -EINVAL;
    memset(sp, 0, sizeof(*sp));
    w.entry = w.om_run = out->len;
    w.meta_entry = meta->len;
    /* the metadata is a fixed list: bounded like the exposition's fixed part */
    meta_saved = meta->max;
    if (meta->max - meta->len > EXPFMT_FIXED_MAX)
        meta->max = meta->len + EXPFMT_FIXED_MAX;
    rc = render(&w, in);
    meta->max = meta_saved;
    if (rc) {
        strbuf_truncate(meta, w.meta_entry);
        memset(sp, 0, sizeof(*sp));
    }
    return rc;
}

size_t expfmt_max_output(size_t n_jobs)
{
    if (n_jobs > (SIZE_MAX - EXPFMT_FIXED_MAX) / EXPFMT_JOB_MAX)
        return SIZE_MAX;
    return EXPFMT_FIXED_MAX + n_jobs * EXPFMT_JOB_MAX;
}

/*
 * Length of the valid UTF-8 sequence at s[0..n) (1..4), or 0 when it is not
 * valid; then *bad is the length of its maximal valid prefix (at least 1),
 * the bytes one U+FFFD replaces. Rejects overlongs, surrogates, > U+10FFFF.
 */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned char lo = 0x80, hi = 0xBF;
    size_t need, i;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        need = 2;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        need = 3;
        if (s[0] == 0xE0)
            lo = 0xA0;
        else if (s[0] == 0xED)
            hi = 0x9F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        need = 4;
        if (s[0] == 0xF0)
            lo = 0x90;
        else if (s[0] == 0xF4)
            hi = 0x8F;
    } else {
        *bad = 1;
        return 0;
    }
    for (i = 1; i < need; i++) {
        if (i >= n || s[i] < lo || s[i] > hi) {
            *bad = i;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return need;
}

/*
 * Append s as a label value: \ -> \\, " -> \", newline -> \n. Invalid UTF-8
 * (which would make Prometheus reject the whole scrape) becomes U+FFFD.
 * Returns 0, or -E2BIG/-ENOMEM with out unchanged.
 */
int expfmt_escape_label(struct strbuf *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t entry = out->len, n = strlen(s), i = 0, run = 0, len, bad = 0;
    int rc = 0;

    while (i < n) {
        const char *esc = NULL;

        len = utf8_seq(p + i, n - i, &bad);
        if (len == 1 && (p[i] == '\\' || p[i] == '"' || p[i] == '\n'))
            esc = p[i] == '\\' ? "\\\\" : p[i] == '"' ? "\\\"" : "\\n";
        else if (len == 0)
            esc = "\xEF\xBF\xBD";
        if (!esc) {
            i += len;
            continue;
        }
        rc = strbuf_append(out, s + run, i - run);
        if (rc)
            goto fail;
        rc = strbuf_puts(out, esc);
        if (rc)
            goto fail;
        i += len ? len : bad;
        run = i;
    }
    rc = strbuf_append(out, s + run, n - run);
    if (rc)
        goto fail;
    return 0;
fail:
    strbuf_truncate(out, entry);
    return rc;
}

/*
 * Format v into buf: integers below 2^53 in magnitude without exponent or
 * decimals, anything else as the shortest of %.15g/%.16g/%.17g that reads back
 * as v; "+Inf", "-Inf", "NaN". buf should have room for 32 bytes; when the
 * text does not fit, buf gets "" rather than a cut number.
 */
void expfmt_format_double(double v, char *buf, size_t len)
{
    static const char *const fmts[] = {"%.15g", "%.16g", "%.17g"};
    int n = 0;
    size_t i;

    if (!buf || len == 0)
        return;
    if (isnan(v)) {
        n = snprintf(buf, len, "NaN");
    } else if (isinf(v)) {
        n = snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
    } else if (fabs(v) < TWO_POW_53 && v == trunc(v)) {
        n = snprintf(buf, len, "%.0f", v);
    } else {
        for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
            n = snprintf(buf, len, fmts[i], v);
            if (n < 0 || (size_t)n >= len)
                break;
            if (strtod(buf, NULL) == v)
                break;
        }
    }
    if (n < 0 || (size_t)n >= len)
        buf[0] = '\0';
}

void expfmt_format_canonical(double v, char *buf, size_t len)
{
    char e[DOUBLE_BUF];
    int prec, exp = 0, n = -1;
    char *x;

    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    if (isnan(v) || isinf(v) || v == 0) {
        n = snprintf(buf, len, "%s",
                     isnan(v)     ? "NaN"
                     : isinf(v)   ? (v > 0 ? "+Inf" : "-Inf")
                     : signbit(v) ? "-0.0"
                                  : "0.0");
        goto out;
    }
    /* the fewest significant digits that read back as v, and the decimal exponent */
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof(e), "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    x = strchr(e, 'e');
    if (!x)
        goto out;
    exp = (int)strtol(x + 1, NULL, 10);
    if (exp < -4 || exp >= 6) { /* Go's %g with the shortest digits switches at these */
        n = snprintf(buf, len, "%s", e);
        goto out;
    }
    n = snprintf(buf, len, "%.*f", prec - exp > 0 ? prec - exp : 0, v);
    if (n >= 0 && (size_t)n < len && !strchr(buf, '.'))
        n = snprintf(buf + n, len - (size_t)n, ".0") < 0 ? -1 : n + 2;
out:
    if (n < 0 || (size_t)n >= len)
        buf[0] = '\0';
}
