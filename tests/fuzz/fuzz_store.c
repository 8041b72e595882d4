/*
 * fuzz_store: libFuzzer target for the durable store's replay.
 *
 * The input is a log file after one byte of mode bits: bit 0 puts a valid
 * file header before the rest (so that the fuzzer spends its time on
 * records), bit 1 runs the file half as well. Checked:
 *   - storefmt_replay (pure) hands out only records that keep the format's
 *     promises (valid ID and labels, strings NUL-terminated within their
 *     fields, statuses in range), and each re-encodes and decodes to itself;
 *   - store_open on the same bytes as store.log never crashes, delivers only
 *     such jobs, cuts the file exactly where the pure replay found the damage,
 *     and a second open finds nothing more to cut and the same jobs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "storefmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[256], path[300];

static void check_labels(const struct job_labels *l)
{
    if (!storefmt_labels_valid(l))
        abort();
}

static void check_record(const struct job_record *r)
{
    if (strnlen(r->job_id, sizeof(r->job_id)) == sizeof(r->job_id) ||
        strnlen(r->job_type, sizeof(r->job_type)) == sizeof(r->job_type) ||
        strnlen(r->status_raw, sizeof(r->status_raw)) == sizeof(r->status_raw) ||
        strnlen(r->error_code, sizeof(r->error_code)) == sizeof(r->error_code) ||
        strnlen(r->fail_reason, sizeof(r->fail_reason)) == sizeof(r->fail_reason) ||
        strnlen(r->resource_id, sizeof(r->resource_id)) == sizeof(r->resource_id))
        abort();
    if (r->job_id[0] && !job_id_valid(r->job_id, strlen(r->job_id)))
        abort();
    if ((unsigned)r->status >= JOB_STATUS_COUNT ||
        (r->has_begin | r->has_end | r->has_sub_jobs | r->has_sub_jobs_total) & ~1 ||
        r->sub_jobs_total > JOB_SUB_JOBS_TOTAL_MAX)
        abort();
}

static void check_rec(void *arg, const struct storefmt_rec *r, size_t off, size_t sz)
{
    static struct storefmt_rec back;
    static uint8_t buf[STOREFMT_RECORD_MAX];
    long n;

    (void)arg;
    (void)off;
    if (sz < STOREFMT_REC_HEADER || sz > STOREFMT_RECORD_MAX)
        abort();
    if (!job_id_valid(r->id, strnlen(r->id, sizeof(r->id))) || !r->profile_name[0] ||
        (r->profile && strcmp(r->profile->name, r->profile_name) != 0))
        abort();
    if (r->type == STOREFMT_REGISTER)
        check_labels(&r->labels);
    if (r->type == STOREFMT_FINISHED)
        check_record(&r->rec);
    /* what was decoded encodes and decodes to the same */
    n = storefmt_encode(r, buf, sizeof(buf));
    if (n <= 0 || storefmt_decode(buf, (size_t)n, &back) != n || back.type != r->type ||
        strcmp(back.id, r->id) != 0 || strcmp(back.profile_name, r->profile_name) != 0)
        abort();
    if (r->type == STOREFMT_REGISTER &&
        (memcmp(&back.labels, &r->labels, sizeof(r->labels)) != 0 ||
         memcmp(&back.registered_at, &r->registered_at, sizeof(double)) != 0))
        abort();
    if (r->type == STOREFMT_FINISHED && memcmp(&back.rec, &r->rec, sizeof(r->rec)) != 0)
        abort();
}

static void check_job(void *arg, const struct store_job *j)
{
    size_t *n = arg;

    if (!j->profile || !job_id_valid(j->id, strnlen(j->id, sizeof(j->id))))
        abort();
    if (!j->registered && !j->finished)
        abort();
    if (j->registered)
        check_labels(&j->labels);
    if (j->finished)
        check_record(&j->rec);
    (*n)++;
}

static void cleanup(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "fuzz_store: could not remove %s\n", dir);
}

static void setup(void)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

    snprintf(dir, sizeof(dir), "%s/fuzz_store-%ld", base, (long)getpid());
    snprintf(path, sizeof(path), "%s/store.log", dir);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        abort();
    log_setup(LOGL_ERROR, LOGF_LOGFMT);
    log_set_fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
    atexit(cleanup);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct storefmt_replay out;
    struct store_stats st;
    struct store *s;
    uint8_t *log;
    size_t len, n1 = 0, n2 = 0;
    char err[512];
    struct stat sb;
    FILE *f;
    int rc;

    if (!ready) {
        setup();
        ready = 1;
    }
    if (size == 0)
        return 0;
    /* the log: the rest of the input, behind a valid file header if the first byte says so */
    len = size - 1 + (data[0] & 1 ? STOREFMT_FILE_HEADER : 0);
    log = malloc(len ? len : 1);
    if (!log)
        return 0;
    if (data[0] & 1)
        storefmt_file_header(log);
    memcpy(log + (data[0] & 1 ? STOREFMT_FILE_HEADER : 0), data + 1, size - 1);

    rc = storefmt_replay(log, len, check_rec, NULL, &out);
    if (rc == 0 && (out.good_end > len || (out.good_end < len) != (out.damage != 0)))
        abort();

    /* the file half is slower (a thread, files): every other input, by the first byte */
    if (!(data[0] & 2)) {
        free(log);
        return 0;
    }
    f = fopen(path, "wb");
    if (!f || fwrite(log, 1, len, f) != len || fclose(f) != 0)
        abort();
    s = store_open(dir, check_job, &n1, err, sizeof(err));
    if (rc == 0) {
        /* a valid header: the open works and cuts exactly the damage */
        if (!s || stat(path, &sb) != 0 || (size_t)sb.st_size != out.good_end)
            abort();
        store_get_stats(s, &st);
        if (st.bytes_cut != len - out.good_end || (st.records_corrupt != 0) != (out.damage != 0) ||
            st.records_loaded != out.records)
            abort();
        store_close(s);
        s = store_open(dir, check_job, &n2, err, sizeof(err));
        if (!s)
            abort();
        store_get_stats(s, &st);
        if (st.records_corrupt || st.bytes_cut || n1 != n2)
            abort();
    } else if (rc == -EAGAIN) {
        /* shorter than a header: a fresh store if it is a header's beginning, else refused */
        if (s && (stat(path, &sb) != 0 || sb.st_size != STOREFMT_FILE_HEADER || n1 != 0))
            abort();
    } else if (s) {
        abort(); /* not a log, or a newer one: refused */
    }
    store_close(s);
    free(log);
    return 0;
}
