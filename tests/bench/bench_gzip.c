/*
 * bench_gzip: what rendering and compressing one snapshot costs, to choose the
 * gzip level (src/gzip.h) and to see the memory every representation takes.
 *
 *   build/tests/bench/bench_gzip [JOBS...]     (default: 1000 10000)
 *
 * For each job count it renders an exposition of realistic jobs (32-hex IDs,
 * five job types, mostly SUCCESS, some RUNNING, INIT, FAIL with an error and
 * a fail_reason, UNKNOWN; resources, sub-jobs; the exporter's own families) in
 * text 0.0.4 and OpenMetrics, then compresses each at levels 1, 3, 6 and 9 and
 * prints a table: bytes, ratio, milliseconds (the median of RUNS runs, CPU
 * time of this thread). Then what the poller does per publish: both formats
 * rendered together into one buffer (expfmt_render_both, the samples shared)
 * and each gzip'd at GZIP_LEVEL_SNAPSHOT; it prints that time, the bytes held
 * and the process's resident memory. Not a test: numbers depend on the machine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>

#include "expfmt.h"
#include "gzip.h"
#include "profile.h"

#include <zlib.h>

#define RUNS 5
#define DEFAULT_JOBS_A 1000
#define DEFAULT_JOBS_B 10000
#define MAX_COUNTS 8

static const int levels[] = {1, 3, 6, 9};
static const char *const types[] = {"createELB", "deleteELB", "modifyELB", "batchCreateMembers",
                                    "createListener"};

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static double cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return v[n / 2];
}

/* Resident memory of this process in KiB (VmRSS), 0 if unknown. */
static long rss_kib(void)
{
    char line[256];
    long kib = 0;
    FILE *f = fopen("/proc/self/status", "r");

    if (!f)
        return 0;
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

/* n realistic jobs (records and views); the caller frees both. */
static void make_jobs(size_t n, struct job_record **recs_out, struct expfmt_job **jobs_out)
{
    struct job_record *recs = calloc(n, sizeof(*recs));
    struct expfmt_job *jobs = calloc(n, sizeof(*jobs));
    size_t i;

    if (!recs || !jobs) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (i = 0; i < n; i++) {
        struct job_record *r = &recs[i];
        unsigned roll = next() % 100;
        enum job_status st = roll < 80   ? JOB_SUCCESS
                             : roll < 90 ? JOB_RUNNING
                             : roll < 93 ? JOB_INIT
                             : roll < 98 ? JOB_FAIL
                                         : JOB_UNKNOWN;

        snprintf(r->job_id, sizeof(r->job_id), "%08x%08x%08x%08x", next(), next(), next(), next());
        snprintf(r->job_type, sizeof(r->job_type), "%s", types[next() % 5]);
        r->status = st == JOB_UNKNOWN ? JOB_RUNNING : st;
        r->has_begin = 1;
        r->begin_time = 1764320000.0 + (double)(next() % 86400000) / 1000.0;
        r->has_end = job_status_terminal(r->status);
        r->end_time = r->begin_time + (double)(next() % 600000) / 1000.0;
        if (next() % 10 < 7)
            snprintf(r->resource_id, sizeof(r->resource_id), "%08x%08x%08x%08x", next(), next(),
                     next(), next());
        if (st == JOB_FAIL) {
            snprintf(r->error_code, sizeof(r->error_code), "ELB.%04u", 1000 + next() % 20);
            snprintf(r->fail_reason, sizeof(r->fail_reason),
                     "Quota exceeded: \"elb\" limit %u in project %08x", next() % 50, next());
        }
        if (next() % 5 == 0) {
            r->has_sub_jobs = 1;
            r->sub_jobs[JOB_SUCCESS] = next() % 8;
            r->sub_jobs[JOB_RUNNING] = next() % 2;
        }
        jobs[i] = (struct expfmt_job){
            .id = r->job_id,
            .rec = st == JOB_UNKNOWN && next() % 2 ? NULL : r,
            .status = st,
            .fetch_success = st != JOB_UNKNOWN,
            .last_fetch = r->begin_time + 30,
            .observed_at = r->begin_time + 30,
        };
    }
    *recs_out = recs;
    *jobs_out = jobs;
}

/* Render in as fmt; *ms the median time. The caller frees the text. */
static char *render(const struct expfmt_input *in, enum expfmt_format fmt, size_t *len, double *ms)
{
    double t[RUNS];
    char *text = NULL;
    int r;

    for (r = 0; r < RUNS; r++) {
        struct strbuf b;
        double t0 = cpu_ms();

        strbuf_init(&b, expfmt_max_output(in->n_jobs));
        if (expfmt_render(&b, fmt, in) != 0) {
            fprintf(stderr, "render failed\n");
            exit(1);
        }
        t[r] = cpu_ms() - t0;
        free(text);
        text = strbuf_detach(&b, len);
    }
    *ms = median(t, RUNS);
    return text;
}

/* Compress text at level; returns the size, *ms the median time. */
static size_t compress_timed(const char *text, size_t len, int level, double *ms)
{
    double t[RUNS];
    size_t out_len = 0;
    int r;

    for (r = 0; r < RUNS; r++) {
        char *gz = NULL;
        double t0 = cpu_ms();

        if (gzip_compress(text, len, level, &gz, &out_len) != 0) {
            fprintf(stderr, "gzip failed\n");
            exit(1);
        }
        t[r] = cpu_ms() - t0;
        free(gz);
    }
    *ms = median(t, RUNS);
    return out_len;
}

static void bench(size_t n)
{
    static const char *const names[] = {"text 0.0.4", "OpenMetrics"};
    struct job_record *recs;
    struct expfmt_job *jobs;
    struct stats st;
    struct expfmt_input in;
    char *text[2];
    size_t len[2], held = 0;
    double ms;
    long rss_before;
    int f;
    size_t li;

    memset(&st, 0, sizeof(st));
    st.api_up = 1;
    st.poll_cycles = 42;
    make_jobs(n, &recs, &jobs);
    in = (struct expfmt_input){
        .profile = profile_default(), .jobs = jobs, .n_jobs = n, .tracked_jobs = n, .stats = &st};
    printf("\n%zu jobs\n", n);
    printf("  %-12s %5s %12s %8s %9s\n", "format", "level", "bytes", "ratio", "ms");
    for (f = 0; f < 2; f++) {
        text[f] = render(&in, f ? EXPFMT_OPENMETRICS : EXPFMT_TEXT_004, &len[f], &ms);
        printf("  %-12s %5s %12zu %8s %9.2f   (render)\n", names[f], "-", len[f], "1.00", ms);
        for (li = 0; li < sizeof(levels) / sizeof(levels[0]); li++) {
            size_t gl = compress_timed(text[f], len[f], levels[li], &ms);

            printf("  %-12s %5d %12zu %8.2f %9.2f\n", names[f], levels[li], gl,
                   (double)len[f] / (double)gl, ms);
        }
    }
    /* one publish, as the poller does it: both formats at once, then a gzip of each */
    {
        struct expfmt_spans sp;
        struct iovec iov[EXPFMT_SPANS_MAX];
        struct strbuf b, m;
        char *gz[2] = {NULL, NULL};
        size_t gl[2] = {0, 0}, k;
        double t_render, t_gzip, t0;

        rss_before = rss_kib();
        t0 = cpu_ms();
        strbuf_init(&b, expfmt_max_output(n));
        strbuf_init(&m, EXPFMT_FIXED_MAX);
        if (expfmt_render_both(&b, &m, &in, &sp) != 0)
            exit(1);
        t_render = cpu_ms() - t0;
        for (k = 0; k < sp.n; k++) {
            iov[k].iov_base = (sp.span[k].in_meta ? m.data : b.data) + sp.span[k].off;
            iov[k].iov_len = sp.span[k].len;
        }
        t0 = cpu_ms();
        if (gzip_compress(b.data, b.len, GZIP_LEVEL_SNAPSHOT, &gz[0], &gl[0]) != 0 ||
            gzip_compress_v(iov, sp.n, GZIP_LEVEL_SNAPSHOT, &gz[1], &gl[1]) != 0)
            exit(1);
        t_gzip = cpu_ms() - t0;
        held = b.len + m.len + gl[0] + gl[1];
        printf("  per publish: render both %.1f ms + gzip both (level %d) %.1f ms = %.1f ms\n",
               t_render, GZIP_LEVEL_SNAPSHOT, t_gzip, t_render + t_gzip);
        printf("  held: text %zu + OpenMetrics metadata %zu (OpenMetrics %zu) + gzip %zu + %zu "
               "= %.1f MiB; RSS %.1f MiB (%.1f before this publish)\n",
               b.len, m.len, sp.total, gl[0], gl[1], (double)held / 1048576.0,
               (double)rss_kib() / 1024.0, (double)rss_before / 1024.0);
        free(gz[0]);
        free(gz[1]);
        strbuf_release(&b);
        strbuf_release(&m);
    }
    free(text[0]);
    free(text[1]);
    free(jobs);
    free(recs);
}

int main(int argc, char **argv)
{
    size_t counts[MAX_COUNTS], n = 0;
    int i;

    for (i = 1; i < argc && n < MAX_COUNTS; i++) {
        char *end;
        unsigned long v = strtoul(argv[i], &end, 10);

        if (*end || v == 0 || v > 1000000) {
            fprintf(stderr, "usage: %s [JOBS...] (1..1000000 each)\n", argv[0]);
            return 2;
        }
        counts[n++] = v;
    }
    if (n == 0) {
        counts[n++] = DEFAULT_JOBS_A;
        counts[n++] = DEFAULT_JOBS_B;
    }
    printf("bench_gzip: median of %d runs, CPU ms of one thread; zlib %s\n", RUNS, zlibVersion());
    for (i = 0; i < (int)n; i++)
        bench(counts[i]);
    return 0;
}
