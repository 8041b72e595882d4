/*
 * expfmt: render the whole exposition from the exporter's state. Pure.
 *
 * The poller calls expfmt_render() once per cycle and per format; the result
 * goes into an immutable snapshot that every scrape serves as is. The renderer
 * writes one metric family at a time through a small writer (family header,
 * then samples), so the two formats, text 0.0.4 and OpenMetrics 1.0.0, are
 * two writers over one metric list: every sample has the same name and labels
 * in both (what differs is metadata: family names, types, # UNIT, # EOF).
 * Label values are escaped (\\, \", \n) after JSON decoding; a family whose
 * rendering fails is rolled back, never left half-written.
 */
#ifndef ELB_EXPFMT_H
#define ELB_EXPFMT_H

#include <stddef.h>

#include "job.h"
#include "joblabels.h"
#include "stats.h"
#include "strbuf.h"

enum expfmt_format {
    EXPFMT_TEXT_004 = 0, /* text/plain; version=0.0.4 */
    EXPFMT_OPENMETRICS,  /* application/openmetrics-text; version=1.0.0 */
};

#define EXPFMT_CONTENT_TYPE_TEXT "text/plain; version=0.0.4; charset=utf-8"

/* One tracked job as the renderer sees it. */
struct expfmt_job {
    const char *id;
    const struct job_record *rec;      /* last good answer, NULL if none yet */
    enum job_status status;            /* JOB_UNKNOWN if never fetched or 404 */
    int fetch_success;                 /* last poll got a valid answer */
    double last_fetch;                 /* time of the last answer, 0 if none */
    double observed_at;                /* time rec was fetched (running duration = this - begin) */
    const struct api_profile *profile; /* the job's API; NULL: the input's (--elb.profile) */
    const struct job_labels *labels;   /* the registrant's, on elb_job_info; NULL: none */
};

/* process_* values; ok = 0 leaves the family out. */
struct proc_stats {
    int ok;
    double cpu_seconds, start_time;
    double resident_bytes, virtual_bytes;
    double open_fds, max_fds;
};

struct build_info {
    const char *version, *revision, *libcurl, *libmicrohttpd;
};

struct expfmt_input {
    const struct api_profile *profile;
    const struct expfmt_job *jobs; /* the jobs with per-job series */
    size_t n_jobs;
    size_t tracked_jobs; /* jobs tracked (also those past the retention, without series) */
    const struct stats *stats;
    const struct proc_stats *proc;
    const struct build_info *build;
    /*
     * The HTTP server's counters, read with atomic_load; NULL (no server, as in
     * --once) leaves the elb_job_exporter_http_* families out.
     */
    const struct http_counters *http;
    /*
     * --metrics.sparse-status: elb_job_status has only each job's current
     * status (value 1), not one series per status of its profile.
     */
    int sparse_status;
};

/*
 * Bounds of one exposition, by construction: every string a job carries is
 * capped (job.h), an escaped byte takes at most 3 bytes (U+FFFD for invalid
 * UTF-8), and a job has at most EXPFMT_JOB_SAMPLES_MAX samples. So n jobs
 * never take more than expfmt_max_output(n) bytes; the aggregates and the
 * exporter's own families (label maps capped in stats.h) fit EXPFMT_FIXED_MAX.
 */
#define EXPFMT_JOB_SAMPLES_MAX (2 * JOB_STATUS_COUNT + 7)
#define EXPFMT_SAMPLE_MAX                                                                          \
    (160 + 3 * (JOB_ID_MAX + JOB_TYPE_MAX + JOB_RESOURCE_ID_MAX + JOB_ERROR_CODE_MAX +             \
                JOB_FAIL_REASON_MAX))
/* The registrant's labels, on one sample per job (elb_job_info): name="value", */
#define EXPFMT_JOB_LABELS_MAX (JOB_LABELS_MAX * (JOB_LABEL_NAME_MAX + 4 + 3 * JOB_LABEL_VALUE_MAX))
#define EXPFMT_JOB_MAX (EXPFMT_JOB_SAMPLES_MAX * EXPFMT_SAMPLE_MAX + EXPFMT_JOB_LABELS_MAX)
#define EXPFMT_FIXED_MAX (8u << 20)
/* The cap of an exposition of n_jobs jobs. */
size_t expfmt_max_output(size_t n_jobs);

/*
 * Append the complete exposition to out. Returns 0, or -E2BIG/-ENOMEM with out
 * rolled back to its length on entry.
 */
int expfmt_render(struct strbuf *out, enum expfmt_format fmt, const struct expfmt_input *in);

/*
 * The job's record when it describes its current state, else NULL (none yet,
 * or a 404 after a good answer): the timing, error and sub-job series come
 * from it only. The per-job JSON of the API (jobindex.c) follows the same rule.
 */
const struct job_record *expfmt_job_current(const struct expfmt_job *j);
/*
 * elb_job_duration_seconds of j: end - begin once finished, last poll - begin
 * while running, never negative, to the microsecond. 1 with *out, or 0 when
 * the series is absent.
 */
int expfmt_job_duration(const struct expfmt_job *j, double *out);

/*
 * Both formats at once, as the poller renders them: every sample line is the
 * same in both, so it is written once. out gets the text exposition, exactly
 * what expfmt_render(EXPFMT_TEXT_004) writes (contiguous: the common identity
 * scrape is one buffer); meta gets the OpenMetrics metadata lines and "# EOF";
 * sp->span[0..n) are the pieces, of out (in_meta 0) or of meta (1), offsets
 * from each buffer's length on entry, that in order make up the OpenMetrics
 * exposition byte for byte; sp->total their sum. Half the memory of two
 * renderings, and one pass over the jobs instead of two.
 */
/*
 * OpenMetrics pieces: two per family at most, and # EOF. 53 families with
 * every optional one (HTTP server, store, web config, jobs file): 107 pieces;
 * room to spare, since a family added past it fails every rendering
 * (test_expfmt renders them all and counts them).
 */
#define EXPFMT_SPANS_MAX 128

struct expfmt_span {
    int in_meta; /* 0: a piece of out (samples), 1: of meta */
    size_t off, len;
};

struct expfmt_spans {
    struct expfmt_span span[EXPFMT_SPANS_MAX];
    size_t n;
    size_t total;
};

/*
 * Render both formats into out and meta (two different buffers). Same returns
 * and rollback as expfmt_render (both buffers), *sp zeroed on failure.
 */
int expfmt_render_both(struct strbuf *out, struct strbuf *meta, const struct expfmt_input *in,
                       struct expfmt_spans *sp);

/* Append s escaped as a label value (\\, \", \n). Same returns as strbuf_append. */
int expfmt_escape_label(struct strbuf *out, const char *s);

/* Format a sample value the shortest way that reads back exactly (+Inf, -Inf, NaN too). */
void expfmt_format_double(double v, char *buf, size_t len);

/*
 * Format v as OpenMetrics' canonical number for "le" label values (in both
 * formats, so a bucket is one series whichever format was scraped, and the
 * one Prometheus 3 normalises to): Go's shortest %g, exponent below 1e-4 and
 * from 1e+06 on, ".0" added to a number with neither point nor exponent
 * ("1.0", "10.0", "0.005", "1e+06"); +Inf, -Inf, NaN. buf gets "" when the
 * text does not fit (32 bytes always do).
 */
void expfmt_format_canonical(double v, char *buf, size_t len);

#endif
