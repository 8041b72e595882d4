/*
 * store_bench: figures of the durable store (src/store.c) on this machine's disk.
 *
 *   store_bench [--dir=DIR] [--seconds=S] [--jobs=N] [--threads=1,8,64]
 *
 * 1. Registrations per second with fsync: T threads call store_register (each
 *    returns once its record is fsynced; concurrent ones share an fsync) for S
 *    seconds, for each T; prints registrations/s, fsyncs/s and records per
 *    fsync (the group commit's batch).
 * 2. Start time with N stored jobs: a log of N registered jobs, half of them
 *    finished (a job record each), is replayed by store_open into a job table
 *    the way the exporter starts (jobtable_add, jobtable_restore_finished);
 *    prints the time of the median of 5 opens and the log's size.
 *
 * DIR must be on the disk to measure (default $TMPDIR or /tmp; a tmpfs makes
 * fsync free, and the tool says so).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "jobtable.h"
#include "log.h"
#include "store.h"
#include "storefmt.h"

#define TMPFS_MAGIC_ 0x01021994

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct worker {
    struct store *s;
    unsigned no;
    double until;
    unsigned long done;
};

static void *register_loop(void *arg)
{
    struct worker *w = arg;
    char id[JOB_ID_MAX + 1];
    struct job_labels l;

    memset(&l, 0, sizeof(l));
    l.n = 1;
    memcpy(l.kv[0].name, "pipeline", 9);
    memcpy(l.kv[0].value, "deploy-1234", 12);
    while (now_s() < w->until) {
        snprintf(id, sizeof(id), "b%03u%032lu", w->no, w->done);
        if (store_register(w->s, profile_default(), id, &l, 1700000000.0) != 0) {
            fprintf(stderr, "store_bench: store_register failed\n");
            exit(1);
        }
        w->done++;
    }
    return NULL;
}

static void bench_registrations(const char *root, const unsigned *threads, size_t n_threads,
                                double seconds)
{
    char dir[1100], err[512], cmd[1200];
    size_t k;

    printf("registrations with fsync (%.1fs each):\n", seconds);
    printf("  %8s %14s %10s %16s\n", "threads", "registrations/s", "fsyncs/s", "records/fsync");
    for (k = 0; k < n_threads; k++) {
        unsigned t = threads[k], i;
        struct worker *w = calloc(t, sizeof(*w));
        pthread_t *th = calloc(t, sizeof(*th));
        struct store_stats st;
        struct store *s;
        unsigned long total = 0;
        double t0, t1;

        snprintf(dir, sizeof(dir), "%s/reg-%u", root, t);
        s = store_open(dir, NULL, NULL, err, sizeof(err));
        if (!s || !w || !th) {
            fprintf(stderr, "store_bench: %s\n", s ? "out of memory" : err);
            exit(1);
        }
        t0 = now_s();
        for (i = 0; i < t; i++) {
            w[i] = (struct worker){s, i, t0 + seconds, 0};
            pthread_create(&th[i], NULL, register_loop, &w[i]);
        }
        for (i = 0; i < t; i++) {
            pthread_join(th[i], NULL);
            total += w[i].done;
        }
        t1 = now_s();
        store_get_stats(s, &st);
        printf("  %8u %14.0f %10.0f %16.1f\n", t, (double)total / (t1 - t0),
               (double)st.fsyncs / (t1 - t0),
               st.fsyncs ? (double)st.appends / (double)st.fsyncs : 0);
        fflush(stdout);
        store_close(s);
        free(w);
        free(th);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "store_bench: could not remove %s\n", dir);
    }
}

/* A log of n registered jobs, every second one finished, written with the format's encoder. */
static void write_log(const char *dir, unsigned n)
{
    char path[1200], err[512];
    struct storefmt_rec *r = calloc(1, sizeof(*r));
    uint8_t rec[STOREFMT_RECORD_MAX];
    struct store *s;
    FILE *f;
    unsigned i;

    s = store_open(dir, NULL, NULL, err, sizeof(err)); /* the directory, the lock, the header */
    if (!s || !r) {
        fprintf(stderr, "store_bench: %s\n", s ? "out of memory" : err);
        exit(1);
    }
    store_close(s);
    snprintf(path, sizeof(path), "%s/store.log", dir);
    f = fopen(path, "ab");
    if (!f) {
        perror(path);
        exit(1);
    }
    for (i = 0; i < n; i++) {
        long len;
        memset(r, 0, sizeof(*r));
        r->profile = profile_default();
        snprintf(r->id, sizeof(r->id), "%032x", i * 2654435761u);
        snprintf(r->id + 24, 9, "%08x", i);
        r->type = STOREFMT_REGISTER;
        r->registered_at = 1700000000.0 + i;
        r->labels.n = 2;
        memcpy(r->labels.kv[0].name, "pipeline", 9);
        snprintf(r->labels.kv[0].value, sizeof(r->labels.kv[0].value), "deploy-%u", i % 500);
        memcpy(r->labels.kv[1].name, "team", 5);
        memcpy(r->labels.kv[1].value, "network", 8);
        len = storefmt_encode(r, rec, sizeof(rec));
        if (len < 0 || fwrite(rec, 1, (size_t)len, f) != (size_t)len)
            exit(1);
        if (i % 2)
            continue;
        r->type = STOREFMT_FINISHED;
        r->finished_at = r->observed_at = 1700000300.0 + i;
        memcpy(r->rec.job_id, r->id, sizeof(r->id));
        memcpy(r->rec.job_type, "createMemberV3", 15);
        memcpy(r->rec.status_raw, i % 10 ? "SUCCESS" : "FAIL", i % 10 ? 8 : 5);
        r->rec.status = i % 10 ? JOB_SUCCESS : JOB_FAIL;
        r->rec.has_begin = r->rec.has_end = 1;
        r->rec.begin_time = 1700000000.0 + i;
        r->rec.end_time = 1700000042.0 + i;
        if (i % 10 == 0) {
            memcpy(r->rec.error_code, "ELB.1101", 9);
            memcpy(r->rec.fail_reason, "backend server not found", 25);
        }
        snprintf(r->rec.resource_id, sizeof(r->rec.resource_id), "member-%u", i);
        len = storefmt_encode(r, rec, sizeof(rec));
        if (len < 0 || fwrite(rec, 1, (size_t)len, f) != (size_t)len)
            exit(1);
    }
    if (fclose(f) != 0)
        exit(1);
    free(r);
}

struct feed {
    struct jobtable *t;
    size_t registered, finished;
};

/* What the exporter does with each stored job at start-up (poller_restore). */
static void feed(void *arg, const struct store_job *j)
{
    struct feed *f = arg;
    job_handle h;

    if (j->registered && jobtable_add(f->t, j->profile, j->id, JOB_SRC_API, &h) >= 0) {
        if (jobtable_set_labels(f->t, h, &j->labels) < 0)
            exit(1);
        f->registered++;
    }
    if (j->finished && jobtable_restore_finished(f->t, j->profile, j->id, &j->rec, j->finished_at,
                                                 j->observed_at) == 0)
        f->finished++;
}

static void count(void *arg, const struct store_job *j)
{
    (void)j;
    (*(size_t *)arg)++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void bench_start(const char *root, unsigned n)
{
    char dir[1100], err[512], cmd[1200];
    double times[5], only[5];
    size_t none = 0;
    struct store_stats st;
    struct feed f = {0};
    int i;

    snprintf(dir, sizeof(dir), "%s/start", root);
    write_log(dir, n);
    for (i = 0; i < 5; i++) {
        struct store *s;
        double t0;

        /* the store alone: replay and delivery to a callback that only counts */
        t0 = now_s();
        s = store_open(dir, count, &none, err, sizeof(err));
        only[i] = now_s() - t0;
        store_close(s);
        /* as the exporter starts: into a job table */
        f = (struct feed){jobtable_new(n, 86400.0, NULL, NULL), 0, 0};
        t0 = now_s();
        s = store_open(dir, feed, &f, err, sizeof(err));
        times[i] = now_s() - t0;
        if (!s || !f.t) {
            fprintf(stderr, "store_bench: %s\n", s ? "out of memory" : err);
            exit(1);
        }
        store_get_stats(s, &st);
        store_close(s);
        jobtable_free(f.t);
    }
    qsort(times, 5, sizeof(times[0]), cmp_double);
    qsort(only, 5, sizeof(only[0]), cmp_double);
    printf("start with %u stored jobs (%zu registered, %zu finished; %llu records, %.1f MB), "
           "median of 5:\n  store_open alone %.3fs (%.3f .. %.3f)\n  store_open into a job "
           "table %.3fs (%.3f .. %.3f)\n",
           n, f.registered, f.finished, (unsigned long long)st.records_loaded,
           (double)st.log_bytes / 1e6, only[2], only[0], only[4], times[2], times[0], times[4]);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "store_bench: could not remove %s\n", dir);
}

int main(int argc, char **argv)
{
    const char *tmp = getenv("TMPDIR"), *dir = NULL;
    unsigned threads[16] = {1, 8, 64}, jobs = 100000;
    size_t n_threads = 3;
    double seconds = 5.0;
    char root[1024];
    struct statfs sf;
    int i;

    for (i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--dir=", 6) == 0) {
            dir = argv[i] + 6;
        } else if (strncmp(argv[i], "--seconds=", 10) == 0) {
            seconds = strtod(argv[i] + 10, NULL);
        } else if (strncmp(argv[i], "--jobs=", 7) == 0) {
            jobs = (unsigned)strtoul(argv[i] + 7, NULL, 10);
        } else if (strncmp(argv[i], "--threads=", 10) == 0) {
            char *p = argv[i] + 10, *end;
            n_threads = 0;
            while (*p && n_threads < 16) {
                threads[n_threads++] = (unsigned)strtoul(p, &end, 10);
                p = *end == ',' ? end + 1 : end;
                if (end == p && *p)
                    break;
            }
        } else {
            fprintf(stderr, "usage: store_bench [--dir=DIR] [--seconds=S] [--jobs=N] "
                            "[--threads=1,8,64]\n");
            return 2;
        }
    }
    if (seconds <= 0 || jobs == 0 || n_threads == 0) {
        fprintf(stderr, "store_bench: nothing to do\n");
        return 2;
    }
    snprintf(root, sizeof(root), "%s/store-bench-XXXXXX", dir ? dir : tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror(root);
        return 1;
    }
    log_setup(LOGL_WARN, LOGF_LOGFMT);
    if (statfs(root, &sf) == 0 && sf.f_type == TMPFS_MAGIC_)
        printf("note: %s is a tmpfs: fsync costs nothing there\n", root);
    printf("store_bench in %s\n", root);
    bench_registrations(root, threads, n_threads, seconds);
    bench_start(root, jobs);
    rmdir(root);
    return 0;
}
