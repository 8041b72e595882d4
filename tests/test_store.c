/*
 * Tests for src/store.c and its format src/storefmt.c: round trips of every
 * record and every field, reopening, a torn tail at every byte of the last
 * record, a flipped bit anywhere in a record in the middle, compaction (also
 * with registrations going on), the directory lock, forget / expire, write
 * errors (RLIMIT_FSIZE), 100k jobs, and kill -9 during a burst of
 * registrations and compactions, over and over: every acknowledged
 * registration is back. Label "threads": run under TSan too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "store.h"
#include "storefmt.h"

#define MAXJ 4096 /* jobs a collecting callback keeps */

/* ---- scaffolding ---- */

static char root[256]; /* this run's scratch directory */
static int dir_seq;

static void rm_rf(const char *path)
{
    char cmd[512];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "test_store: could not remove %s\n", path);
}

/* A fresh directory path (not created) under root. */
static void new_dir(char *out, size_t cap)
{
    snprintf(out, cap, "%s/d%d", root, ++dir_seq);
}

static void log_path(const char *dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/store.log", dir);
}

static off_t file_size(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return sb.st_size;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *b;
    long n;

    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_file(const char *path, const uint8_t *b, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* What a reopen delivered. */
struct got {
    size_t n;
    struct store_job *j; /* MAXJ of them */
};

static void collect(void *arg, const struct store_job *j)
{
    struct got *g = arg;

    assert_true(g->n < MAXJ);
    g->j[g->n++] = *j;
}

static struct got *got_new(void)
{
    struct got *g = calloc(1, sizeof(*g));

    assert_non_null(g);
    g->j = calloc(MAXJ, sizeof(*g->j));
    assert_non_null(g->j);
    return g;
}

static void got_free(struct got *g)
{
    free(g->j);
    free(g);
}

static const struct store_job *got_find(const struct got *g, const struct api_profile *p,
                                        const char *id)
{
    size_t i;

    for (i = 0; i < g->n; i++)
        if (g->j[i].profile == p && strcmp(g->j[i].id, id) == 0)
            return &g->j[i];
    return NULL;
}

static struct store *must_open(const char *dir, struct got *g)
{
    char err[512];
    struct store *s;

    if (g)
        g->n = 0;
    s = store_open(dir, g ? collect : NULL, g, err, sizeof(err));
    if (!s)
        fail_msg("store_open(%s): %s", dir, err);
    return s;
}

static struct store_stats stats_of(struct store *s)
{
    struct store_stats st;

    store_get_stats(s, &st);
    return st;
}

/* A job record with every field set to something recognisable (and zero padding). */
static void full_record(struct job_record *r, unsigned seed)
{
    unsigned i;

    memset(r, 0, sizeof(*r));
    snprintf(r->job_id, sizeof(r->job_id), "rec%u", seed);
    snprintf(r->job_type, sizeof(r->job_type), "createELB%u", seed);
    snprintf(r->status_raw, sizeof(r->status_raw), "FAIL");
    r->status = JOB_FAIL;
    r->has_begin = 1;
    r->has_end = 1;
    r->begin_time = 1700000000.123456789 + seed;
    r->end_time = 1700000123.987654321 + seed;
    snprintf(r->error_code, sizeof(r->error_code), "ELB.%04u", seed);
    memset(r->fail_reason, 'x', JOB_FAIL_REASON_MAX); /* at its cap */
    memcpy(r->fail_reason, "caf\xc3\xa9 \"quoted\" \\ back\nline", 26);
    r->fail_reason[JOB_FAIL_REASON_MAX] = '\0';
    snprintf(r->resource_id, sizeof(r->resource_id), "res-%u", seed);
    r->has_sub_jobs = 1;
    for (i = 0; i < JOB_STATUS_COUNT; i++)
        r->sub_jobs[i] = (seed + i * 7) % (JOB_SUB_JOBS_MAX + 1);
    r->has_sub_jobs_total = 1;
    r->sub_jobs_total = JOB_SUB_JOBS_TOTAL_MAX - seed;
}

static void some_labels(struct job_labels *l, unsigned n)
{
    unsigned i;

    memset(l, 0, sizeof(*l));
    l->n = n;
    for (i = 0; i < n; i++) {
        snprintf(l->kv[i].name, sizeof(l->kv[i].name), "name%u", i);
        snprintf(l->kv[i].value, sizeof(l->kv[i].value), "value \"%u\" \xe2\x82\xac", i);
    }
}

static void job_id(char *out, size_t cap, unsigned i)
{
    snprintf(out, cap, "job%08u", i);
}

#define P0 (profile_default())
#define P1 (profile_find("ecs-v1"))

/* ---- the format ---- */

static void format_round_trips_every_field(void **state)
{
    uint8_t buf[STOREFMT_RECORD_MAX];
    struct storefmt_rec in, out;
    long n;

    (void)state;
    memset(&in, 0, sizeof(in));
    in.type = STOREFMT_FINISHED;
    in.profile = P1;
    memset(in.id, 'a', JOB_ID_MAX);
    in.finished_at = 1.0 / 3.0;
    in.observed_at = -0.0;
    full_record(&in.rec, 5);
    n = storefmt_encode(&in, buf, sizeof(buf));
    assert_true(n > STOREFMT_REC_HEADER);
    assert_int_equal(storefmt_decode(buf, (size_t)n, &out), n);
    assert_ptr_equal(out.profile, P1);
    assert_string_equal(out.profile_name, "ecs-v1");
    assert_string_equal(out.id, in.id);
    assert_memory_equal(&out.finished_at, &in.finished_at, sizeof(double));
    assert_memory_equal(&out.observed_at, &in.observed_at, sizeof(double)); /* -0.0 stays */
    assert_memory_equal(&out.rec, &in.rec, sizeof(in.rec));
    /* short by one byte: torn; any flipped bit: damaged */
    assert_int_equal(storefmt_decode(buf, (size_t)n - 1, &out), -EAGAIN);
    buf[n / 2] ^= 0x10;
    assert_int_equal(storefmt_decode(buf, (size_t)n, &out), -EBADMSG);

    memset(&in, 0, sizeof(in));
    in.type = STOREFMT_REGISTER;
    in.profile = P0;
    snprintf(in.id, sizeof(in.id), "x");
    in.registered_at = 1234567890.5;
    some_labels(&in.labels, JOB_LABELS_MAX);
    memset(in.labels.kv[3].value, 'v', JOB_LABEL_VALUE_MAX);
    memset(in.labels.kv[3].name, 'z', JOB_LABEL_NAME_MAX);
    n = storefmt_encode(&in, buf, sizeof(buf));
    assert_true(n > 0);
    assert_int_equal(storefmt_decode(buf, (size_t)n, &out), n);
    assert_memory_equal(&out.labels, &in.labels, sizeof(in.labels));
    assert_true(out.registered_at == in.registered_at);
}

static void format_refuses_what_would_not_decode(void **state)
{
    uint8_t buf[STOREFMT_RECORD_MAX];
    struct storefmt_rec in;

    (void)state;
    memset(&in, 0, sizeof(in));
    in.type = STOREFMT_REGISTER;
    in.profile = P0;
    snprintf(in.id, sizeof(in.id), "bad id");
    assert_int_equal(storefmt_encode(&in, buf, sizeof(buf)), -EINVAL);
    snprintf(in.id, sizeof(in.id), "ok");
    some_labels(&in.labels, 2);
    memcpy(in.labels.kv[0].name, "zz", 3); /* not sorted */
    assert_int_equal(storefmt_encode(&in, buf, sizeof(buf)), -EINVAL);
    some_labels(&in.labels, 2);
    memcpy(in.labels.kv[1].name, in.labels.kv[0].name, sizeof(in.labels.kv[0].name)); /* dup */
    assert_int_equal(storefmt_encode(&in, buf, sizeof(buf)), -EINVAL);
    some_labels(&in.labels, 0);
    in.labels.n = JOB_LABELS_MAX + 1;
    assert_int_equal(storefmt_encode(&in, buf, sizeof(buf)), -EINVAL);
    in.labels.n = 0;
    assert_true(storefmt_encode(&in, buf, sizeof(buf)) > 0);
    assert_int_equal(storefmt_encode(&in, buf, 10), -E2BIG);

    in.type = STOREFMT_FINISHED;
    full_record(&in.rec, 1);
    in.rec.status = JOB_STATUS_COUNT;
    assert_int_equal(storefmt_encode(&in, buf, sizeof(buf)), -EINVAL);
    full_record(&in.rec, 1);
    in.rec.has_end = 2;
    assert_int_equal(storefmt_encode(&in, buf, sizeof(buf)), -EINVAL);
    full_record(&in.rec, 1);
    memset(in.rec.job_type, 'q', sizeof(in.rec.job_type)); /* no NUL within the array */
    assert_int_equal(storefmt_encode(&in, buf, sizeof(buf)), -EINVAL);
    in.type = (enum storefmt_type)9;
    assert_int_equal(storefmt_encode(&in, buf, sizeof(buf)), -EINVAL);
}

static void format_file_header(void **state)
{
    uint8_t h[STOREFMT_FILE_HEADER];

    (void)state;
    storefmt_file_header(h);
    assert_int_equal(storefmt_check_file_header(h, sizeof(h)), 0);
    assert_int_equal(storefmt_check_file_header(h, sizeof(h) - 1), -EAGAIN);
    h[9] ^= 1;
    assert_int_equal(storefmt_check_file_header(h, sizeof(h)), -EBADMSG);
}

/* ---- the store ---- */

static void round_trip_and_reopen(void **state)
{
    char dir[512], id[32];
    struct job_labels l;
    struct job_record rec;
    struct got *g = got_new();
    const struct store_job *j;
    struct store *s;
    struct stat sb;
    unsigned i;

    (void)state;
    new_dir(dir, sizeof(dir));
    s = must_open(dir, g);
    assert_int_equal(g->n, 0);
    /* the directory is made 0700, the files 0600 */
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    for (i = 0; i < 10; i++) {
        job_id(id, sizeof(id), i);
        some_labels(&l, i % (JOB_LABELS_MAX + 1));
        assert_int_equal(store_register(s, i % 2 ? P1 : P0, id, &l, 1000.0 + i), 0);
    }
    full_record(&rec, 3);
    assert_int_equal(store_finished(s, P0, "job00000002", &rec, 2000.25, 2000.5), 0);
    assert_int_equal(store_finished(s, P0, "onlyfinished", &rec, 3000.0, 3000.5), 0);
    assert_int_equal(store_forget(s, P1, "job00000003"), 0); /* registered, not finished: gone */
    assert_int_equal(store_forget(s, P0, "job00000002"), 0); /* finished: stays, unregistered */
    assert_int_equal(store_register(s, P0, "job00000004", NULL, 5.0), 0); /* again: no labels */
    assert_int_equal(store_register(s, P0, "job00000004", NULL, 5.0), 0); /* twice: fine */
    assert_int_equal(store_register(s, P0, "bad id", NULL, 5.0), -EINVAL);
    assert_int_equal(store_register(s, NULL, "x", NULL, 5.0), -EINVAL);
    store_close(s);

    for (i = 0; i < 2; i++) { /* the second reopen sees what the first left */
        s = must_open(dir, g);
        assert_int_equal(g->n, 10);
        assert_null(got_find(g, P1, "job00000003"));
        j = got_find(g, P0, "job00000002");
        assert_non_null(j);
        assert_false(j->registered);
        assert_true(j->finished);
        assert_true(j->finished_at == 2000.25 && j->observed_at == 2000.5);
        assert_memory_equal(&j->rec, &rec, sizeof(rec));
        j = got_find(g, P0, "onlyfinished");
        assert_non_null(j);
        assert_false(j->registered);
        j = got_find(g, P0, "job00000004");
        assert_non_null(j);
        assert_true(j->registered && !j->finished);
        assert_int_equal(j->labels.n, 0);
        j = got_find(g, P1, "job00000001");
        assert_non_null(j);
        assert_true(j->registered && j->registered_at == 1001.0);
        some_labels(&l, 1);
        assert_memory_equal(&j->labels, &l, sizeof(l));
        assert_null(got_find(g, P0, "job00000001")); /* the profile is part of the key */
        assert_int_equal(stats_of(s).jobs, 10);
        assert_int_equal(stats_of(s).records_corrupt, 0);
        store_close(s);
    }
    {
        char p[600];
        log_path(dir, p, sizeof(p));
        assert_int_equal(stat(p, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
    }
    got_free(g);
}

static void expire_and_expire_registration(void **state)
{
    char dir[512];
    struct job_record rec;
    struct got *g = got_new();
    const struct store_job *j;
    struct store *s;

    (void)state;
    new_dir(dir, sizeof(dir));
    s = must_open(dir, g);
    full_record(&rec, 1);
    assert_int_equal(store_register(s, P0, "a", NULL, 1), 0);
    assert_int_equal(store_finished(s, P0, "a", &rec, 2, 3), 0);
    assert_int_equal(store_register(s, P0, "b", NULL, 1), 0);
    assert_int_equal(store_finished(s, P0, "b", &rec, 2, 3), 0);
    assert_int_equal(store_finished(s, P0, "c", &rec, 2, 3), 0);
    assert_int_equal(store_expire(s, P0, "a"), 0);              /* everything goes */
    assert_int_equal(store_expire_registration(s, P0, "b"), 0); /* the finished state stays */
    assert_int_equal(store_expire(s, P0, "nothing"), 0);
    store_close(s); /* flushes the unwaited records */
    s = must_open(dir, g);
    assert_int_equal(g->n, 2);
    assert_null(got_find(g, P0, "a"));
    j = got_find(g, P0, "b");
    assert_non_null(j);
    assert_true(!j->registered && j->finished);
    j = got_find(g, P0, "c");
    assert_non_null(j);
    assert_true(!j->registered && j->finished);
    store_close(s);
    got_free(g);
}

/* Unwaited records reach the disk within about a second, without a close. */
static void finished_records_are_flushed_by_time(void **state)
{
    char dir[512];
    struct job_record rec;
    struct store *s;
    int i;

    (void)state;
    new_dir(dir, sizeof(dir));
    s = must_open(dir, NULL);
    full_record(&rec, 1);
    assert_int_equal(store_finished(s, P0, "a", &rec, 2, 3), 0);
    for (i = 0; i < 100 && stats_of(s).jobs == 0; i++)
        usleep(50 * 1000);
    assert_int_equal(stats_of(s).jobs, 1);
    assert_true(stats_of(s).fsyncs >= 1);
    store_close(s);
}

static void lock_conflict(void **state)
{
    char dir[512], err[512];
    struct store *s, *t;

    (void)state;
    new_dir(dir, sizeof(dir));
    s = must_open(dir, NULL);
    t = store_open(dir, NULL, NULL, err, sizeof(err));
    assert_null(t);
    assert_non_null(strstr(err, "in use by another process"));
    {
        char pid[32];
        snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
        assert_non_null(strstr(err, pid));
    }
    store_close(s);
    t = must_open(dir, NULL); /* released with the close */
    store_close(t);
}

static void foreign_and_newer_files_are_refused(void **state)
{
    char dir[512], p[600], err[512];
    uint8_t h[STOREFMT_FILE_HEADER];

    (void)state;
    new_dir(dir, sizeof(dir));
    store_close(must_open(dir, NULL));
    log_path(dir, p, sizeof(p));
    write_file(p, (const uint8_t *)"hello, this is not a store at all\n", 34);
    assert_null(store_open(dir, NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "not an elb_job_exporter store"));
    write_file(p, (const uint8_t *)"abc", 3);
    assert_null(store_open(dir, NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "not an elb_job_exporter store"));
    /* a newer format */
    storefmt_file_header(h);
    h[8] = STOREFMT_VERSION + 1;
    {
        uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), h, 12);
        h[12] = (uint8_t)c;
        h[13] = (uint8_t)(c >> 8);
        h[14] = (uint8_t)(c >> 16);
        h[15] = (uint8_t)(c >> 24);
    }
    write_file(p, h, sizeof(h));
    assert_null(store_open(dir, NULL, NULL, err, sizeof(err)));
    assert_non_null(strstr(err, "newer version"));
    /* a header torn while the file was created: a fresh store */
    storefmt_file_header(h);
    write_file(p, h, 7);
    store_close(must_open(dir, NULL));
    assert_int_equal(file_size(p), STOREFMT_FILE_HEADER);
}

/*
 * Cut the log at every byte of its last record: what was there before is
 * back, the torn part is cut and counted, and a second open finds nothing.
 */
static void torn_tail_at_every_byte(void **state)
{
    char dir[512], p[600], id[32];
    struct job_record rec;
    struct job_labels l;
    struct got *g = got_new();
    struct store *s;
    uint8_t *full;
    size_t full_len, before, cut;
    int last;

    (void)state;
    for (last = 0; last < 2; last++) { /* the last record a REGISTER, then a FINISHED */
        new_dir(dir, sizeof(dir));
        log_path(dir, p, sizeof(p));
        s = must_open(dir, NULL);
        for (unsigned i = 0; i < 5; i++) {
            job_id(id, sizeof(id), i);
            assert_int_equal(store_register(s, P0, id, NULL, i), 0);
        }
        store_close(s);
        before = (size_t)file_size(p);
        s = must_open(dir, NULL);
        some_labels(&l, 3);
        full_record(&rec, 9);
        if (last == 0)
            assert_int_equal(store_register(s, P1, "last", &l, 77), 0);
        else
            assert_int_equal(store_finished(s, P1, "last", &rec, 1, 2), 0);
        store_close(s);
        full = read_file(p, &full_len);
        assert_true(full_len > before);
        for (cut = before; cut <= full_len; cut++) {
            struct store_stats st;
            write_file(p, full, cut);
            s = must_open(dir, g);
            st = stats_of(s);
            assert_int_equal(g->n, cut == full_len ? 6 : 5);
            assert_int_equal(st.records_corrupt, cut > before && cut < full_len ? 1 : 0);
            assert_int_equal(st.bytes_cut, cut < full_len ? cut - before : 0);
            store_close(s);
            assert_int_equal(file_size(p), cut == full_len ? full_len : before);
            s = must_open(dir, g);
            assert_int_equal(stats_of(s).records_corrupt, 0);
            /* and it goes on: a registration after the cut is kept */
            assert_int_equal(store_register(s, P0, "after", NULL, 1), 0);
            store_close(s);
            s = must_open(dir, g);
            assert_non_null(got_find(g, P0, "after"));
            store_close(s);
        }
        free(full);
    }
    got_free(g);
}

/*
 * A bit flipped anywhere in a record in the middle: the log is cut there, the
 * records before it are back, none after, the cut part is saved beside the
 * log, and the counts say how many records were lost.
 */
static void flipped_bit_in_the_middle(void **state)
{
    char dir[512], p[600], id[32];
    struct got *g = got_new();
    struct store *s;
    uint8_t *full, *work;
    size_t full_len, start, end, at;

    (void)state;
    new_dir(dir, sizeof(dir));
    log_path(dir, p, sizeof(p));
    s = must_open(dir, NULL);
    for (unsigned i = 0; i < 3; i++) {
        job_id(id, sizeof(id), i);
        assert_int_equal(store_register(s, P0, id, NULL, i), 0);
    }
    store_close(s);
    start = (size_t)file_size(p);
    s = must_open(dir, NULL);
    assert_int_equal(store_register(s, P0, "middle", NULL, 1), 0);
    store_close(s);
    end = (size_t)file_size(p);
    s = must_open(dir, NULL);
    for (unsigned i = 3; i < 7; i++) {
        job_id(id, sizeof(id), i);
        assert_int_equal(store_register(s, P0, id, NULL, i), 0);
    }
    store_close(s);
    full = read_file(p, &full_len);
    work = malloc(full_len);
    assert_non_null(work);
    for (at = start; at < end; at++) {
        struct store_stats st;
        memcpy(work, full, full_len);
        work[at] ^= (uint8_t)(1u << (at % 8));
        write_file(p, work, full_len);
        s = must_open(dir, g);
        st = stats_of(s);
        assert_int_equal(g->n, 3);
        assert_null(got_find(g, P0, "middle"));
        assert_int_equal(st.records_corrupt, 1 + 4);
        assert_int_equal(st.bytes_cut, full_len - start);
        store_close(s);
        assert_int_equal(file_size(p), start);
    }
    /* the cut bytes were kept for an operator */
    {
        char cmd[700];
        snprintf(cmd, sizeof(cmd), "ls %s | grep -q '^store.log.damaged-'", dir);
        assert_int_equal(system(cmd), 0);
    }
    free(work);
    free(full);
    got_free(g);
}

/* The model of what a store should hold: registered / finished per job index. */
struct model {
    unsigned char reg[MAXJ], fin[MAXJ];
};

static void check_model(const struct got *g, const struct model *m, unsigned n)
{
    char id[32];
    unsigned i, live = 0;

    for (i = 0; i < n; i++) {
        const struct store_job *j;
        job_id(id, sizeof(id), i);
        j = got_find(g, P0, id);
        if (!m->reg[i] && !m->fin[i]) {
            assert_null(j);
            continue;
        }
        live++;
        assert_non_null(j);
        assert_int_equal(j->registered, m->reg[i]);
        assert_int_equal(j->finished, m->fin[i]);
        if (j->finished)
            assert_int_equal(j->rec.sub_jobs_total, JOB_SUB_JOBS_TOTAL_MAX - i);
    }
    assert_int_equal(g->n, live);
}

static void compaction_keeps_exactly_the_live_jobs(void **state)
{
    char dir[512], p[600], id[32];
    struct job_record rec;
    struct model m;
    struct got *g = got_new();
    struct store *s;
    off_t before, after;
    unsigned i, round;

    (void)state;
    memset(&m, 0, sizeof(m));
    new_dir(dir, sizeof(dir));
    log_path(dir, p, sizeof(p));
    s = must_open(dir, NULL);
    srand(7);
    for (round = 0; round < 6; round++) {
        for (i = 0; i < 2000; i++) {
            unsigned k = (unsigned)rand() % 1000;
            job_id(id, sizeof(id), k);
            switch (rand() % 4) {
            case 0:
                full_record(&rec, k);
                assert_int_equal(store_finished(s, P0, id, &rec, 1, 2), 0);
                m.fin[k] = 1;
                break;
            case 1:
                assert_int_equal(store_expire(s, P0, id), 0);
                m.reg[k] = m.fin[k] = 0;
                break;
            case 2:
                assert_int_equal(store_expire_registration(s, P0, id), 0);
                m.reg[k] = 0;
                break;
            default:
                assert_int_equal(store_register(s, P0, id, NULL, 1), 0);
                m.reg[k] = 1;
                break;
            }
        }
        /* everything before is on disk once a waited record is */
        assert_int_equal(store_register(s, P0, "sync", NULL, 1), 0);
        assert_int_equal(store_forget(s, P0, "sync"), 0);
        before = file_size(p);
        assert_int_equal(store_compact(s), 0);
        after = file_size(p);
        assert_true(after < before);
        assert_int_equal((uint64_t)after, stats_of(s).log_bytes);
        assert_int_equal(stats_of(s).log_bytes, stats_of(s).live_bytes);
        /* the store goes on writing into the new file */
        assert_int_equal(store_register(s, P0, "sync", NULL, 1), 0);
        assert_int_equal(store_forget(s, P0, "sync"), 0);
        store_close(s);
        s = must_open(dir, g);
        check_model(g, &m, 1000);
        assert_int_equal(stats_of(s).records_corrupt, 0);
    }
    store_close(s);
    got_free(g);
}

struct burst {
    struct store *s;
    unsigned first, n;
};

static void *register_burst(void *arg)
{
    struct burst *b = arg;
    char id[32];
    unsigned i;

    for (i = 0; i < b->n; i++) {
        job_id(id, sizeof(id), b->first + i);
        if (store_register(b->s, P0, id, NULL, i) != 0)
            abort();
        if (i % 3 == 0 && store_forget(b->s, P0, id) != 0)
            abort();
    }
    return NULL;
}

/* Registrations from 8 threads while the log is compacted again and again: none is lost. */
static void compaction_while_registering(void **state)
{
    char dir[512], id[32];
    struct burst b[8];
    pthread_t th[8];
    struct got *g = got_new();
    struct store *s;
    unsigned i, compactions = 0;

    (void)state;
    new_dir(dir, sizeof(dir));
    s = must_open(dir, NULL);
    for (i = 0; i < 8; i++) {
        b[i] = (struct burst){s, i * 300, 300};
        assert_int_equal(pthread_create(&th[i], NULL, register_burst, &b[i]), 0);
    }
    for (i = 0; i < 20; i++) {
        if (store_compact(s) == 0)
            compactions++;
        usleep(10 * 1000);
    }
    for (i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    assert_true(compactions > 0);
    assert_true(stats_of(s).compactions >= compactions);
    store_close(s);
    s = must_open(dir, g);
    for (i = 0; i < 2400; i++) {
        job_id(id, sizeof(id), i);
        if (i % 300 % 3 == 0)
            assert_null(got_find(g, P0, id));
        else
            assert_non_null(got_find(g, P0, id));
    }
    assert_int_equal(g->n, 2400 - 8 * 100);
    store_close(s);
    got_free(g);
}

/* A compaction that a crash left unfinished is removed; the log it was made from counts. */
static void leftover_compaction_is_removed(void **state)
{
    char dir[512], p[600];
    struct got *g = got_new();
    struct store *s;

    (void)state;
    new_dir(dir, sizeof(dir));
    s = must_open(dir, NULL);
    assert_int_equal(store_register(s, P0, "kept", NULL, 1), 0);
    store_close(s);
    snprintf(p, sizeof(p), "%s/store.log.tmp", dir);
    write_file(p, (const uint8_t *)"ELBJSTORhalf", 12);
    s = must_open(dir, g);
    assert_int_equal(g->n, 1);
    assert_int_equal(access(p, F_OK), -1);
    store_close(s);
    got_free(g);
}

/* A write that fails (file size limit) is refused, counted, and leaves nothing behind. */
static void write_errors_are_counted_and_cut(void **state)
{
    char dir[512], p[600];
    struct got *g = got_new();
    struct rlimit old, lim;
    struct store *s;
    off_t size;
    int rc;

    (void)state;
    new_dir(dir, sizeof(dir));
    log_path(dir, p, sizeof(p));
    s = must_open(dir, NULL);
    assert_int_equal(store_register(s, P0, "one", NULL, 1), 0);
    size = file_size(p);
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)size + 10; /* room for part of the next record only */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rc = store_register(s, P0, "two", NULL, 1);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(rc, -EFBIG);
    assert_int_equal(stats_of(s).write_errors, 1);
    assert_int_equal(file_size(p), size); /* the partial write was cut off again */
    assert_int_equal(store_register(s, P0, "three", NULL, 1), 0);
    store_close(s);
    s = must_open(dir, g);
    assert_int_equal(g->n, 2);
    assert_null(got_find(g, P0, "two"));
    assert_non_null(got_find(g, P0, "three"));
    assert_int_equal(stats_of(s).records_corrupt, 0);
    store_close(s);
    got_free(g);
}

static void count_job(void *arg, const struct store_job *j)
{
    size_t *n = arg;

    if (!j->registered || !j->finished || j->rec.status != JOB_FAIL)
        abort();
    (*n)++;
}

/* 100k registered and finished jobs: written, reopened, timed. */
static void hundred_thousand_jobs(void **state)
{
    enum { N = 100000 };
    char dir[512], p[600], err[512], id[32];
    struct storefmt_rec *r = calloc(1, sizeof(*r));
    struct job_record rec;
    struct timespec t0, t1;
    struct store *s;
    uint8_t *buf;
    size_t len = 0, cap = (size_t)N * 200 + STOREFMT_FILE_HEADER, n = 0;
    double secs;
    unsigned i;

    (void)state;
    assert_non_null(r);
    new_dir(dir, sizeof(dir));
    log_path(dir, p, sizeof(p));
    store_close(must_open(dir, NULL));
    /* registrations written as a log directly (100k fsyncs would only time the disk) */
    buf = malloc(cap);
    assert_non_null(buf);
    storefmt_file_header(buf);
    len = STOREFMT_FILE_HEADER;
    for (i = 0; i < N; i++) {
        long k;
        memset(r, 0, sizeof(*r));
        r->type = STOREFMT_REGISTER;
        r->profile = P0;
        job_id(r->id, sizeof(r->id), i);
        r->registered_at = i;
        some_labels(&r->labels, 1);
        k = storefmt_encode(r, buf + len, cap - len);
        assert_true(k > 0);
        len += (size_t)k;
    }
    write_file(p, buf, len);
    free(buf);
    /* finished states through the store (unwaited: batched) */
    s = must_open(dir, NULL);
    full_record(&rec, 1);
    for (i = 0; i < N; i++) {
        job_id(id, sizeof(id), i);
        assert_int_equal(store_finished(s, P0, id, &rec, i, i), 0);
    }
    store_close(s);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s = store_open(dir, count_job, &n, err, sizeof(err));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    assert_non_null(s);
    assert_int_equal(n, N);
    assert_int_equal(stats_of(s).jobs, N);
    secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    print_message("store_open with %d jobs (%llu records, %llu bytes): %.3fs\n", N,
                  (unsigned long long)stats_of(s).records_loaded,
                  (unsigned long long)stats_of(s).log_bytes, secs);
    assert_true(secs < 30.0); /* generous: TSan takes 5 s, and the machine is shared */
    store_close(s);
    free(r);
}

/*
 * kill -9 in the middle of a burst of registrations (and compactions), over
 * and over: a child registers from 4 threads and writes every acknowledged ID
 * to a pipe; the parent kills it at a random moment, reopens the store and
 * finds every ID it was told about.
 */
struct child_burst {
    struct store *s;
    int fd;
    unsigned first;
};

static void *child_register(void *arg)
{
    struct child_burst *c = arg;
    char id[32];
    unsigned i;

    for (i = 0; i < 800; i++) { /* 4 x 800 stay below what the collector holds (MAXJ) */
        int len = snprintf(id, sizeof(id), "k%u-%u", c->first, i);
        if (store_register(c->s, P0, id, NULL, i) != 0)
            _exit(3);
        id[len] = '\n';
        if (write(c->fd, id, (size_t)len + 1) != len + 1) /* short of PIPE_BUF: atomic */
            _exit(4);
    }
    return NULL; /* the compactions go on until the kill */
}

static void kill9_during_registrations(void **state)
{
    char dir[512], err[512];
    struct got *g = got_new();
    unsigned round;

    (void)state;
    new_dir(dir, sizeof(dir));
    srand((unsigned)time(NULL));
    for (round = 0; round < 8; round++) {
        int fds[2], st;
        pid_t pid;
        char *acked = NULL, *line, *nl;
        size_t alen = 0, acap = 0, n_acked = 0;
        struct store *s;

        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct child_burst cb[4];
            pthread_t th[4];
            close(fds[0]);
            s = store_open(dir, NULL, NULL, err, sizeof(err));
            if (!s)
                _exit(2);
            for (unsigned i = 0; i < 4; i++) {
                cb[i] = (struct child_burst){s, fds[1], round * 10 + i};
                pthread_create(&th[i], NULL, child_register, &cb[i]);
            }
            for (;;) {
                store_compact(s);
                usleep(5000);
            }
        }
        close(fds[1]);
        {
            /* the kill falls at a random moment after the first acknowledgement */
            char first[64];
            ssize_t r = read(fds[0], first, sizeof(first));
            assert_true(r > 0);
            acked = malloc((size_t)r + 1);
            assert_non_null(acked);
            memcpy(acked, first, (size_t)r);
            alen = acap = (size_t)r;
        }
        usleep((useconds_t)(rand() % 200000));
        kill(pid, SIGKILL);
        for (;;) { /* what the child acknowledged, up to its death */
            char chunk[4096];
            ssize_t r = read(fds[0], chunk, sizeof(chunk));
            if (r <= 0)
                break;
            if (alen + (size_t)r + 1 > acap) {
                acap = (alen + (size_t)r + 1) * 2;
                acked = realloc(acked, acap);
                assert_non_null(acked);
            }
            memcpy(acked + alen, chunk, (size_t)r);
            alen += (size_t)r;
        }
        close(fds[0]);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        g->n = 0;
        s = store_open(dir, collect, g, err, sizeof(err));
        assert_non_null(s);
        if (acked) {
            acked[alen] = '\0';
            for (line = acked; *line; line = nl + 1) {
                nl = strchr(line, '\n');
                if (!nl)
                    break; /* (cannot happen: lines are written whole) */
                *nl = '\0';
                if (!got_find(g, P0, line))
                    fail_msg("round %u: acknowledged %s is lost", round, line);
                n_acked++;
            }
        }
        assert_true(n_acked > 0);
        /* start each round small again (the collector holds MAXJ) */
        for (size_t i = 0; i < g->n; i++)
            assert_int_equal(store_expire(s, P0, g->j[i].id), 0);
        store_close(s);
        free(acked);
    }
    got_free(g);
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");

    (void)state;
    snprintf(root, sizeof(root), "%s/elb-test-store-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root))
        return -1;
    log_setup(LOGL_ERROR, LOGF_LOGFMT);
    {
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd >= 0)
            log_set_fd(fd); /* the damage tests log errors on purpose */
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rm_rf(root);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(format_round_trips_every_field),
        cmocka_unit_test(format_refuses_what_would_not_decode),
        cmocka_unit_test(format_file_header),
        cmocka_unit_test(round_trip_and_reopen),
        cmocka_unit_test(expire_and_expire_registration),
        cmocka_unit_test(finished_records_are_flushed_by_time),
        cmocka_unit_test(lock_conflict),
        cmocka_unit_test(foreign_and_newer_files_are_refused),
        cmocka_unit_test(torn_tail_at_every_byte),
        cmocka_unit_test(flipped_bit_in_the_middle),
        cmocka_unit_test(compaction_keeps_exactly_the_live_jobs),
        cmocka_unit_test(compaction_while_registering),
        cmocka_unit_test(leftover_compaction_is_removed),
        cmocka_unit_test(write_errors_are_counted_and_cut),
        cmocka_unit_test(hundred_thousand_jobs),
        cmocka_unit_test(kill9_during_registrations),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
