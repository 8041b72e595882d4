/*
 * store: the embedded durable store of --storage.path (see store.h for what it
 * promises; storefmt.h for the bytes on disk).
 *
 * DESIGN. Files in the directory: "lock" (flock'ed for the store's life, holds
 * the owner's pid), "store.log" (the log), "store.log.tmp" (a compaction being
 * written; removed on open) and "store.log.damaged-<time>" (bytes cut off a log
 * damaged in the middle, kept for an operator).
 *
 * Threads meet at one mutex (mu). Appenders encode their record outside it,
 * then add it to the pending batch under it. Whoever finds the batch not being
 * written takes the writer role (writing = 1) and becomes the leader: it swaps
 * the batch out, drops mu, writes it with one pwrite and one fdatasync, takes
 * mu again, applies the records to the index, marks every waiter of the batch
 * done and wakes the others. Appenders who came meanwhile have filled the next
 * batch; one of them leads it. So concurrent registrations share an fsync
 * (group commit) without a thread of their own or a timer in their path.
 * store_finished and store_expire(_registration) add their record without
 * waiting; the next batch carries them, or the background thread flushes them
 * within STORE_FLUSH_MS, or store_close does.
 *
 * The index (profile + ID -> the log offsets of the job's live REGISTER and
 * FINISHED records) holds only records that are on disk: a batch is applied
 * after its fdatasync, and a failed batch is cut off the file again
 * (ftruncate) and never applied, its waiters told the error. So the index, the
 * file and what was acknowledged always agree.
 *
 * Compaction (background thread, when the log is STORE_COMPACT_RATIO times
 * its live data and at least STORE_COMPACT_MIN bytes; or store_compact):
 *   1. under mu, list the live records (all at offsets below the written end E);
 *   2. without any lock, copy them from the log into store.log.tmp (CRC checked);
 *      appenders and leaders go on meanwhile;
 *   3. take the writer role (no batch in flight, new ones wait), copy what was
 *      appended since E verbatim, fsync the temporary file, rename it over the
 *      log, fsync the directory, switch the file descriptor and move the index's
 *      offsets to the new file; give the role back.
 * A crash before the rename leaves the old log whole (the temporary file is
 * removed on the next open); after it, the new log is whole (fsynced before
 * the rename). No acknowledged record is lost: it was below E (copied in 2) or
 * between E and the switch (copied in 3), or it goes to the new file.
 *
 * Replay on open reads the log through mmap and applies every valid record in
 * order. The first torn or damaged record ends the log: it and everything
 * after it is cut (ftruncate), logged and counted. When valid records follow
 * the damage (not a torn tail: a damage in the middle), the cut bytes are
 * first saved beside the log and the log says how many records were lost; the
 * replay does not skip over the damage, because a lost FORGET or EXPIRE would
 * bring back a job that was gone, and what follows a damage cannot be trusted
 * to be what was written.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "storefmt.h"

#define STORE_LOG "store.log"
#define STORE_TMP "store.log.tmp"
#define STORE_LOCK "lock"
#define STORE_FLUSH_MS 1000            /* unwaited records reach the disk within this */
#define STORE_PENDING_MAX (4u << 20)   /* bytes waiting for a write; past it unwaited ones drop */
#define STORE_PENDING_KICK (64u << 10) /* bytes of unwaited records that wake the flusher */
#define STORE_COMPACT_MIN (1u << 20)   /* a log smaller than this is never compacted */
#define STORE_COMPACT_RATIO 3          /* compact when the log is this many times its live data */
#define STORE_COMPACT_RETRY_MS 60000   /* after a failed compaction */
#define STORE_COPY_CHUNK (1u << 20)    /* bytes per write while compacting */
#define STORE_SLOTS_MIN 64

/* A record in the log; len 0: none. */
struct sref {
    uint64_t off;
    uint32_t len;
};

/* One live job of the index. */
struct sentry {
    const struct api_profile *profile;
    char id[JOB_ID_MAX + 1];
    struct sref reg, fin; /* its live REGISTER and FINISHED records */
    uint32_t link;        /* next slot + 1 in its chain or in the free list */
    int used;
};

/* An appender waiting for its record to be durable. */
struct waiter {
    int done;
    int rc;
};

/* A record of a batch. */
struct pend {
    enum storefmt_type type;
    const struct api_profile *profile;
    char id[JOB_ID_MAX + 1];
    size_t off; /* in the batch's buffer */
    uint32_t len;
    struct waiter *w; /* NULL: nobody waits */
};

struct batch {
    uint8_t *buf;
    size_t len, cap;
    struct pend *recs;
    size_t n, cap_n;
    size_t unwaited; /* bytes of records nobody waits for */
};

struct store {
    char *dir;
    int dirfd, lockfd, fd;

    pthread_mutex_t mu;
    pthread_cond_t cond;    /* the writer role was given back */
    pthread_cond_t bg_cond; /* the background thread has something to do */
    pthread_t bg;
    int bg_started;
    int closing;

    /* guarded by mu; written only by the holder of the writer role */
    int writing;
    uint64_t written_end; /* bytes of the log file that are whole, durable records */
    uint64_t live_bytes;  /* of those, the live records' */
    int dir_dirty;        /* the directory needs an fsync before the next acknowledgement */
    int failed;           /* a failed batch could not be cut off: refuse further appends */
    int failing;          /* the last batch failed (logged once per streak) */

    struct batch batches[2];
    struct batch *pending; /* records to write next */
    struct batch *spare;   /* the other one (the leader's while it writes) */

    struct sentry *slots;
    uint32_t n_slots, high, free_head, n_used;
    uint32_t *buckets;
    uint32_t n_buckets;

    int compacting;
    uint64_t next_compact_try; /* monotonic ms */
    struct store_stats st;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the index ---- */

static uint32_t key_hash(const struct api_profile *p, const char *id)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)p;
    const unsigned char *c = (const unsigned char *)id;

    while (*c) {
        h ^= *c++;
        h *= 1099511628211ull;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static uint32_t idx_find(const struct store *s, const struct api_profile *p, const char *id)
{
    uint32_t i;

    if (!s->n_buckets)
        return UINT32_MAX;
    for (i = s->buckets[key_hash(p, id) & (s->n_buckets - 1)]; i; i = s->slots[i - 1].link)
        if (s->slots[i - 1].profile == p && strcmp(s->slots[i - 1].id, id) == 0)
            return i - 1;
    return UINT32_MAX;
}

static void idx_link(struct store *s, uint32_t i)
{
    uint32_t *b = &s->buckets[key_hash(s->slots[i].profile, s->slots[i].id) & (s->n_buckets - 1)];

    s->slots[i].link = *b;
    *b = i + 1;
}

static int idx_grow(struct store *s)
{
    uint32_t n = s->n_slots ? s->n_slots * 2 : STORE_SLOTS_MIN, nb, i;
    struct sentry *sl;
    uint32_t *b;

    if (s->n_slots >= UINT32_MAX / 4)
        return -ENOMEM;
    for (nb = 1; nb < 2 * n; nb <<= 1)
        ;
    sl = realloc(s->slots, (size_t)n * sizeof(*sl));
    if (!sl)
        return -ENOMEM;
    s->slots = sl;
    memset(sl + s->n_slots, 0, (size_t)(n - s->n_slots) * sizeof(*sl));
    s->n_slots = n;
    b = calloc(nb, sizeof(*b));
    if (!b)
        return -ENOMEM; /* the old index still covers every used slot */
    free(s->buckets);
    s->buckets = b;
    s->n_buckets = nb;
    for (i = 0; i < s->high; i++)
        if (s->slots[i].used)
            idx_link(s, i);
    return 0;
}

/* The slot of (p, id), added if new; UINT32_MAX on ENOMEM. */
static uint32_t idx_get(struct store *s, const struct api_profile *p, const char *id)
{
    uint32_t i = idx_find(s, p, id);

    if (i != UINT32_MAX)
        return i;
    if (s->free_head) {
        i = s->free_head - 1;
        s->free_head = s->slots[i].link;
    } else {
        if (s->high == s->n_slots && idx_grow(s) != 0)
            return UINT32_MAX;
        i = s->high++;
    }
    memset(&s->slots[i], 0, sizeof(s->slots[i]));
    s->slots[i].used = 1;
    s->slots[i].profile = p;
    memcpy(s->slots[i].id, id, strlen(id) + 1);
    idx_link(s, i);
    s->n_used++;
    return i;
}

static void idx_remove(struct store *s, uint32_t i)
{
    struct sentry *e = &s->slots[i];
    uint32_t *pp = &s->buckets[key_hash(e->profile, e->id) & (s->n_buckets - 1)];

    while (*pp && *pp != i + 1)
        pp = &s->slots[*pp - 1].link;
    if (*pp)
        *pp = e->link;
    s->live_bytes -= e->reg.len + e->fin.len;
    memset(e, 0, sizeof(*e));
    e->link = s->free_head;
    s->free_head = i + 1;
    s->n_used--;
}

/* Apply one record that is in the log at off (len bytes). 0 or -ENOMEM. */
static int apply(struct store *s, enum storefmt_type type, const struct api_profile *p,
                 const char *id, uint64_t off, uint32_t len)
{
    uint32_t i;
    struct sentry *e;

    if (type == STOREFMT_REGISTER || type == STOREFMT_FINISHED) {
        i = idx_get(s, p, id);
        if (i == UINT32_MAX)
            return -ENOMEM;
        e = &s->slots[i];
        if (type == STOREFMT_REGISTER) {
            s->live_bytes = s->live_bytes - e->reg.len + len;
            e->reg = (struct sref){off, len};
        } else {
            s->live_bytes = s->live_bytes - e->fin.len + len;
            e->fin = (struct sref){off, len};
        }
        return 0;
    }
    i = idx_find(s, p, id);
    if (i == UINT32_MAX)
        return 0;
    e = &s->slots[i];
    if (type == STOREFMT_FORGET && e->fin.len) {
        s->live_bytes -= e->reg.len;
        e->reg = (struct sref){0, 0};
    } else {
        idx_remove(s, i); /* EXPIRE, or FORGET of a job with nothing else kept */
    }
    return 0;
}

/* ---- files ---- */

/* mkdir -p with mode 0700 for what it creates. 0 or -errno. */
static int make_dirs(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir), i;

    if (n == 0 || n >= sizeof(path))
        return -ENAMETOOLONG;
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -errno;
        path[i] = i < n ? '/' : '\0';
    }
    return 0;
}

static int write_all_at(int fd, const uint8_t *b, size_t n, uint64_t at)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, b, n, (off_t)at);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        b += w;
        n -= (size_t)w;
        at += (uint64_t)w;
    }
    return 0;
}

static int read_all_at(int fd, uint8_t *b, size_t n, uint64_t at)
{
    while (n > 0) {
        ssize_t r = pread(fd, b, n, (off_t)at);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -EIO; /* shorter than the index says */
        b += r;
        n -= (size_t)r;
        at += (uint64_t)r;
    }
    return 0;
}

/* Take the lock file; on conflict say who holds it. 0 or -errno. */
static int take_lock(struct store *s, char *err, size_t errsz)
{
    char pid[32];
    ssize_t n;
    int len;

    s->lockfd = openat(s->dirfd, STORE_LOCK, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0) {
        snprintf(err, errsz, "%s/%s: %s", s->dir, STORE_LOCK, strerror(errno));
        return -errno;
    }
    if (flock(s->lockfd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        if (e == EWOULDBLOCK) {
            n = pread(s->lockfd, pid, sizeof(pid) - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            snprintf(err, errsz,
                     "--storage.path %s is in use by another process (pid %s holds %s/%s); "
                     "two exporters cannot share one store",
                     s->dir, pid[0] ? pid : "unknown", s->dir, STORE_LOCK);
            return -EBUSY;
        }
        snprintf(err, errsz, "%s/%s: cannot lock: %s", s->dir, STORE_LOCK, strerror(e));
        return -e;
    }
    len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(s->lockfd, 0) != 0 || pwrite(s->lockfd, pid, (size_t)len, 0) != len)
        log_warn("store: cannot write the pid into %s/%s: %s", s->dir, STORE_LOCK, strerror(errno));
    return 0;
}

/* Make the log a fresh one: just the file header, durable. 0 or -errno. */
static int init_log(struct store *s)
{
    uint8_t h[STOREFMT_FILE_HEADER];

    storefmt_file_header(h);
    if (ftruncate(s->fd, 0) != 0)
        return -errno;
    if (write_all_at(s->fd, h, sizeof(h), 0) != 0 || fsync(s->fd) != 0 || fsync(s->dirfd) != 0)
        return errno ? -errno : -EIO;
    s->written_end = sizeof(h);
    return 0;
}

/* ---- replay ---- */

struct replay_ctx {
    struct store *s;
    int rc;
};

static void replay_one(void *arg, const struct storefmt_rec *r, size_t off, size_t size)
{
    struct replay_ctx *c = arg;

    c->s->st.records_loaded++;
    if (!r->profile) {
        /* written by a version with more profiles: not ours to poll; gone at the next compaction */
        if (c->s->st.records_skipped++ == 0)
            log_warn("store: skipping records of profile \"%s\", which this version does not "
                     "know",
                     r->profile_name);
        return;
    }
    if (c->rc == 0)
        c->rc = apply(c->s, r->type, r->profile, r->id, off, (uint32_t)size);
}

/* Save the bytes a cut removes when they hold valid records (a damage in the middle). */
static void save_damaged(struct store *s, const uint8_t *b, size_t len, char *name, size_t cap)
{
    int fd;

    snprintf(name, cap, "%s.damaged-%lld", STORE_LOG, (long long)time(NULL));
    fd = openat(s->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write_all_at(fd, b, len, 0) != 0 || fsync(fd) != 0) {
        log_error("store: cannot save the damaged part of the log in %s/%s: %s", s->dir, name,
                  strerror(errno));
        name[0] = '\0';
    }
    if (fd >= 0)
        close(fd);
}

/* Hand every live job to each(arg, j), decoding its records from the mapped log. */
static void deliver(struct store *s, const uint8_t *map,
                    void (*each)(void *, const struct store_job *), void *arg)
{
    struct storefmt_rec *r = malloc(sizeof(*r));
    struct store_job *j = malloc(sizeof(*j));
    uint32_t i;

    if (!r || !j) {
        free(r);
        free(j);
        return;
    }
    for (i = 0; i < s->high; i++) {
        const struct sentry *e = &s->slots[i];
        if (!e->used)
            continue;
        memset(j, 0, sizeof(*j));
        j->profile = e->profile;
        memcpy(j->id, e->id, sizeof(j->id));
        if (e->reg.len && storefmt_decode(map + e->reg.off, e->reg.len, r) > 0) {
            j->registered = 1;
            j->registered_at = r->registered_at;
            j->labels = r->labels;
        }
        if (e->fin.len && storefmt_decode(map + e->fin.off, e->fin.len, r) > 0) {
            j->finished = 1;
            j->finished_at = r->finished_at;
            j->observed_at = r->observed_at;
            j->rec = r->rec;
        }
        each(arg, j);
    }
    free(r);
    free(j);
}

/* Read the log, cut what is damaged, build the index, deliver the jobs. 0 or -errno. */
static int replay(struct store *s, void (*each)(void *, const struct store_job *), void *arg,
                  char *err, size_t errsz)
{
    struct storefmt_replay out;
    struct replay_ctx ctx = {s, 0};
    struct stat sb;
    uint8_t *map = NULL;
    size_t size;
    int rc;

    if (fstat(s->fd, &sb) != 0) {
        snprintf(err, errsz, "%s/%s: %s", s->dir, STORE_LOG, strerror(errno));
        return -errno;
    }
    size = (size_t)sb.st_size;
    if (size < STOREFMT_FILE_HEADER) {
        uint8_t h[STOREFMT_FILE_HEADER];
        uint8_t got[STOREFMT_FILE_HEADER];
        storefmt_file_header(h);
        /* empty, or torn while it was being created: start afresh; anything else is not ours */
        if (size > 0 && (read_all_at(s->fd, got, size, 0) != 0 || memcmp(h, got, size) != 0)) {
            snprintf(err, errsz,
                     "%s/%s: not an elb_job_exporter store (%zu bytes, no file header); move it "
                     "away or point --storage.path elsewhere",
                     s->dir, STORE_LOG, size);
            return -EBADMSG;
        }
        rc = init_log(s);
        if (rc)
            snprintf(err, errsz, "%s/%s: cannot create it: %s", s->dir, STORE_LOG, strerror(-rc));
        return rc;
    }
    map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, s->fd, 0);
    if (map == MAP_FAILED) {
        snprintf(err, errsz, "%s/%s: cannot map it: %s", s->dir, STORE_LOG, strerror(errno));
        return -errno;
    }
    rc = storefmt_replay(map, size, replay_one, &ctx, &out);
    if (rc == 0)
        rc = ctx.rc;
    if (rc) {
        if (rc == -EPROTONOSUPPORT)
            snprintf(err, errsz,
                     "%s/%s: written by a newer version of elb_job_exporter (format above %d)",
                     s->dir, STORE_LOG, STOREFMT_VERSION);
        else if (rc == -EBADMSG)
            snprintf(err, errsz,
                     "%s/%s: not an elb_job_exporter store (bad file header); move it away or "
                     "point --storage.path elsewhere",
                     s->dir, STORE_LOG);
        else
            snprintf(err, errsz, "%s/%s: %s", s->dir, STORE_LOG, strerror(-rc));
        munmap(map, size);
        return rc;
    }
    if (out.damage) {
        char saved[64] = "";
        s->st.records_corrupt = 1 + out.valid_after;
        s->st.bytes_cut = size - out.good_end;
        if (out.valid_after) {
            save_damaged(s, map + out.good_end, size - out.good_end, saved, sizeof(saved));
            log_error("store: %s/%s is damaged at byte %zu, before its end: %llu valid records "
                      "after the damage are cut off with it (%llu bytes%s%s%s)",
                      s->dir, STORE_LOG, out.good_end, (unsigned long long)out.valid_after,
                      (unsigned long long)s->st.bytes_cut, saved[0] ? ", saved in " : "",
                      saved[0] ? s->dir : "", saved[0] ? "/" : "");
            if (saved[0])
                log_error("store: the cut-off bytes are in %s/%s", s->dir, saved);
        } else {
            log_warn("store: %s/%s ends in a %s record at byte %zu (an interrupted write): cut "
                     "off %llu bytes",
                     s->dir, STORE_LOG, out.damage == -EAGAIN ? "torn" : "damaged", out.good_end,
                     (unsigned long long)s->st.bytes_cut);
        }
        if (ftruncate(s->fd, (off_t)out.good_end) != 0 || fdatasync(s->fd) != 0) {
            snprintf(err, errsz, "%s/%s: cannot cut off its damaged end: %s", s->dir, STORE_LOG,
                     strerror(errno));
            munmap(map, size);
            return -EIO;
        }
    }
    s->written_end = out.good_end;
    if (each)
        deliver(s, map, each, arg);
    munmap(map, size);
    return 0;
}

/* ---- writing ---- */

/* Empty a batch, keeping its memory. */
static void batch_reset(struct batch *b)
{
    b->len = b->n = b->unwaited = 0;
}

/* Add an encoded record to the pending batch (mu held). 0 or -ENOMEM. */
static int batch_add(struct store *s, const struct storefmt_rec *r, const uint8_t *rec, size_t len,
                     struct waiter *w)
{
    struct batch *b = s->pending;
    struct pend *p;

    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 64 * 1024;
        uint8_t *nb;
        while (cap < b->len + len)
            cap *= 2;
        nb = realloc(b->buf, cap);
        if (!nb)
            return -ENOMEM;
        b->buf = nb;
        b->cap = cap;
    }
    if (b->n == b->cap_n) {
        size_t cap = b->cap_n ? b->cap_n * 2 : 256;
        struct pend *np = realloc(b->recs, cap * sizeof(*np));
        if (!np)
            return -ENOMEM;
        b->recs = np;
        b->cap_n = cap;
    }
    memcpy(b->buf + b->len, rec, len);
    p = &b->recs[b->n++];
    p->type = r->type;
    p->profile = r->profile;
    memcpy(p->id, r->id, sizeof(p->id));
    p->off = b->len;
    p->len = (uint32_t)len;
    p->w = w;
    b->len += len;
    if (!w)
        b->unwaited += len;
    return 0;
}

/*
 * Take the writer role and write the pending batch: one pwrite, one fdatasync
 * (and the directory's fsync after a compaction's rename), then apply it to
 * the index and tell its waiters. Called and returns with mu held; the caller
 * checked !writing.
 */
static void flush_locked(struct store *s)
{
    struct batch *b = s->pending;
    uint64_t at = s->written_end;
    int fd = s->fd, dir_dirty = s->dir_dirty, rc = 0, cut_failed = 0;
    size_t i;

    if (b->n == 0)
        return;
    s->writing = 1;
    s->pending = s->spare;
    s->spare = b;
    pthread_mutex_unlock(&s->mu);

    rc = write_all_at(fd, b->buf, b->len, at);
    if (rc == 0 && fdatasync(fd) != 0)
        rc = -errno;
    if (rc == 0 && dir_dirty && fsync(s->dirfd) != 0)
        rc = -errno;
    if (rc && ftruncate(fd, (off_t)at) != 0)
        cut_failed = 1;

    pthread_mutex_lock(&s->mu);
    s->st.fsyncs++;
    if (rc == 0) {
        if (dir_dirty)
            s->dir_dirty = 0;
        for (i = 0; i < b->n; i++) {
            const struct pend *p = &b->recs[i];
            int arc = apply(s, p->type, p->profile, p->id, at + p->off, p->len);
            if (arc) /* on disk, but the index could not grow: the next open has it */
                log_error("store: job %s: cannot index its record: %s", p->id, strerror(-arc));
            if (p->w) {
                p->w->rc = 0;
                p->w->done = 1;
            }
        }
        s->written_end = at + b->len;
        s->st.appends += b->n;
        if (s->failing)
            log_info("store: writes to %s/%s work again", s->dir, STORE_LOG);
        s->failing = 0;
    } else {
        for (i = 0; i < b->n; i++)
            if (b->recs[i].w) {
                b->recs[i].w->rc = rc;
                b->recs[i].w->done = 1;
            }
        s->st.write_errors += b->n;
        if (!s->failing)
            log_error("store: cannot write %zu records to %s/%s: %s%s", b->n, s->dir, STORE_LOG,
                      strerror(-rc),
                      cut_failed ? "; nor cut them off again: refusing further writes" : "");
        s->failing = 1;
        if (cut_failed)
            s->failed = 1;
    }
    batch_reset(b);
    s->writing = 0;
    pthread_cond_broadcast(&s->cond);
    if (s->written_end > STORE_COMPACT_MIN)
        pthread_cond_signal(&s->bg_cond);
}

/* Append one record; wait until it is durable when wait is set. 0 or -errno. */
static int append(struct store *s, const struct storefmt_rec *r, int wait)
{
    uint8_t rec[STOREFMT_RECORD_MAX];
    struct waiter w = {0, 0};
    long n;
    int rc;

    if (!s)
        return -EINVAL;
    n = storefmt_encode(r, rec, sizeof(rec));
    if (n < 0)
        return (int)n;
    pthread_mutex_lock(&s->mu);
    if (s->failed || s->closing) {
        pthread_mutex_unlock(&s->mu);
        return s->failed ? -EIO : -ESHUTDOWN;
    }
    /* the disk does not keep up: the appender writes (or waits for) a batch itself */
    while (!wait && s->pending->len + (size_t)n > STORE_PENDING_MAX && !s->failed) {
        if (!s->writing)
            flush_locked(s);
        else
            pthread_cond_wait(&s->cond, &s->mu);
    }
    if (s->failed) {
        pthread_mutex_unlock(&s->mu);
        return -EIO;
    }
    rc = batch_add(s, r, rec, (size_t)n, wait ? &w : NULL);
    if (rc) {
        pthread_mutex_unlock(&s->mu);
        return rc;
    }
    if (!wait) {
        if (s->pending->unwaited >= STORE_PENDING_KICK)
            pthread_cond_signal(&s->bg_cond);
        pthread_mutex_unlock(&s->mu);
        return 0;
    }
    while (!w.done) {
        if (!s->writing)
            flush_locked(s);
        else
            pthread_cond_wait(&s->cond, &s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return w.rc;
}

/* ---- compaction ---- */

/* A live record's place in the old log and in the new one. */
struct moved {
    uint64_t old_off, new_off;
    uint32_t len;
};

static int moved_cmp(const void *a, const void *b)
{
    const struct moved *x = a, *y = b;

    return x->old_off < y->old_off ? -1 : x->old_off > y->old_off;
}

static uint64_t moved_find(const struct moved *m, size_t n, uint64_t old_off)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m[mid].old_off < old_off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && m[lo].old_off == old_off ? m[lo].new_off : UINT64_MAX;
}

/* Move one index reference into the new file. */
static void remap(struct sref *r, const struct moved *m, size_t n, uint64_t cut, uint64_t tail_at)
{
    if (!r->len)
        return;
    r->off = r->off < cut ? moved_find(m, n, r->off) : r->off - cut + tail_at;
}

/* Copy old[from, to) to the end of the new file (*at advances). 0 or -errno. */
static int copy_range(int from_fd, int to_fd, uint64_t from, uint64_t to, uint64_t *at,
                      uint8_t *buf)
{
    while (from < to) {
        size_t n = to - from > STORE_COPY_CHUNK ? STORE_COPY_CHUNK : (size_t)(to - from);
        int rc = read_all_at(from_fd, buf, n, from);
        if (rc == 0)
            rc = write_all_at(to_fd, buf, n, *at);
        if (rc)
            return rc;
        from += n;
        *at += n;
    }
    return 0;
}

/* Steps 1 and 2 of the DESIGN: the live records below cut, copied into tmpfd. */
static int compact_copy(struct store *s, int tmpfd, struct moved **mp, size_t *np, uint64_t *cut,
                        uint64_t *at)
{
    struct storefmt_rec *r = NULL;
    struct moved *m = NULL;
    uint8_t *out = NULL, *map = MAP_FAILED;
    size_t n = 0, i, olen = 0;
    uint32_t k;
    int rc = 0, fd;

    pthread_mutex_lock(&s->mu);
    m = malloc(((size_t)s->n_used * 2 + 1) * sizeof(*m));
    for (k = 0; m && k < s->high; k++) {
        const struct sentry *e = &s->slots[k];
        if (e->used && e->reg.len)
            m[n++] = (struct moved){e->reg.off, 0, e->reg.len};
        if (e->used && e->fin.len)
            m[n++] = (struct moved){e->fin.off, 0, e->fin.len};
    }
    *cut = s->written_end;
    fd = s->fd; /* only the compactor switches it, and there is one compactor */
    pthread_mutex_unlock(&s->mu);
    if (!m)
        return -ENOMEM;
    qsort(m, n, sizeof(*m), moved_cmp);

    r = malloc(sizeof(*r));
    out = malloc(STORE_COPY_CHUNK + STOREFMT_RECORD_MAX);
    if (!r || !out) {
        rc = -ENOMEM;
        goto out;
    }
    map = mmap(NULL, (size_t)*cut, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = -errno;
        goto out;
    }
    storefmt_file_header(out);
    olen = STOREFMT_FILE_HEADER;
    *at = 0;
    for (i = 0; i < n; i++) {
        /* checked again: a record damaged on disk since it was written stops the compaction */
        if (storefmt_decode(map + m[i].old_off, m[i].len, r) != (long)m[i].len) {
            log_error("store: %s/%s: the record at byte %llu is damaged on disk; not compacting",
                      s->dir, STORE_LOG, (unsigned long long)m[i].old_off);
            rc = -EBADMSG;
            goto out;
        }
        m[i].new_off = *at + olen;
        memcpy(out + olen, map + m[i].old_off, m[i].len);
        olen += m[i].len;
        if (olen >= STORE_COPY_CHUNK) {
            rc = write_all_at(tmpfd, out, olen, *at);
            if (rc)
                goto out;
            *at += olen;
            olen = 0;
        }
    }
    rc = write_all_at(tmpfd, out, olen, *at);
    *at += olen;
out:
    if (map != MAP_FAILED)
        munmap(map, (size_t)*cut);
    free(out);
    free(r);
    if (rc) {
        free(m);
        return rc;
    }
    *mp = m;
    *np = n;
    return 0;
}

static int compact(struct store *s)
{
    struct moved *m = NULL;
    size_t n = 0;
    uint64_t cut = 0, at = 0, tail_at, end, before;
    uint8_t *buf = NULL;
    int tmpfd, rc, oldfd;
    uint32_t k;

    pthread_mutex_lock(&s->mu);
    while (s->compacting) /* one at a time: store_compact waits for the background one */
        pthread_cond_wait(&s->cond, &s->mu);
    if (s->failed) {
        pthread_mutex_unlock(&s->mu);
        return -EIO;
    }
    s->compacting = 1;
    before = s->written_end;
    pthread_mutex_unlock(&s->mu);

    tmpfd = openat(s->dirfd, STORE_TMP, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (tmpfd < 0) {
        rc = -errno;
        goto done;
    }
    rc = compact_copy(s, tmpfd, &m, &n, &cut, &at);
    if (rc == 0 && !(buf = malloc(STORE_COPY_CHUNK)))
        rc = -ENOMEM;
    if (rc)
        goto fail;

    /* step 3: the writer role; what was appended since cut goes over verbatim */
    pthread_mutex_lock(&s->mu);
    while (s->writing)
        pthread_cond_wait(&s->cond, &s->mu);
    s->writing = 1;
    end = s->written_end;
    oldfd = s->fd;
    pthread_mutex_unlock(&s->mu);
    tail_at = at;
    rc = copy_range(oldfd, tmpfd, cut, end, &at, buf);
    if (rc == 0 && fsync(tmpfd) != 0)
        rc = -errno;
    if (rc == 0 && renameat(s->dirfd, STORE_TMP, s->dirfd, STORE_LOG) != 0)
        rc = -errno;
    pthread_mutex_lock(&s->mu);
    if (rc) {
        s->writing = 0;
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->mu);
        goto fail;
    }
    /* renamed: the new file is the log whatever the directory's fsync says */
    if (fsync(s->dirfd) != 0) {
        log_warn("store: fsync of %s after a compaction failed (%s); trying again before the "
                 "next acknowledgement",
                 s->dir, strerror(errno));
        s->dir_dirty = 1;
    }
    for (k = 0; k < s->high; k++) {
        if (!s->slots[k].used)
            continue;
        remap(&s->slots[k].reg, m, n, cut, tail_at);
        remap(&s->slots[k].fin, m, n, cut, tail_at);
    }
    s->fd = tmpfd;
    s->written_end = at;
    s->st.compactions++;
    s->writing = 0;
    pthread_cond_broadcast(&s->cond);
    s->compacting = 0;
    s->next_compact_try = 0;
    pthread_mutex_unlock(&s->mu);
    close(oldfd);
    log_info("store: compacted %s/%s from %llu to %llu bytes (%zu live records)", s->dir, STORE_LOG,
             (unsigned long long)before, (unsigned long long)at, n);
    free(m);
    free(buf);
    return 0;

fail:
    close(tmpfd);
    unlinkat(s->dirfd, STORE_TMP, 0);
done:
    free(m);
    free(buf);
    log_error("store: compaction of %s/%s failed: %s; the log stays as it is", s->dir, STORE_LOG,
              strerror(-rc));
    pthread_mutex_lock(&s->mu);
    s->compacting = 0;
    s->next_compact_try = mono_ms() + STORE_COMPACT_RETRY_MS;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    return rc;
}

static int compact_due(const struct store *s)
{
    return !s->compacting && !s->failed && s->written_end >= STORE_COMPACT_MIN &&
           s->written_end > STORE_COMPACT_RATIO * (s->live_bytes + STOREFMT_FILE_HEADER) &&
           mono_ms() >= s->next_compact_try;
}

/* The background thread: flushes unwaited records, compacts when due. */
static void *bg_main(void *arg)
{
    struct store *s = arg;
    struct timespec ts;

    pthread_mutex_lock(&s->mu);
    while (!s->closing) {
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += STORE_FLUSH_MS / 1000;
        ts.tv_nsec += (long)(STORE_FLUSH_MS % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->bg_cond, &s->mu, &ts);
        if (s->pending->n && !s->writing && !s->failed)
            flush_locked(s);
        if (compact_due(s)) {
            pthread_mutex_unlock(&s->mu);
            compact(s);
            pthread_mutex_lock(&s->mu);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the API ---- */

struct store *store_open(const char *dir, void (*each)(void *arg, const struct store_job *j),
                         void *arg, char *err, size_t errsz)
{
    struct store *s = calloc(1, sizeof(*s));
    pthread_condattr_t ca;
    struct timespec t0, t1;
    int rc, removed;

    if (!s || !(s->dir = strdup(dir))) {
        snprintf(err, errsz, "out of memory");
        free(s);
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    s->dirfd = s->lockfd = s->fd = -1;
    s->pending = &s->batches[0];
    s->spare = &s->batches[1];
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->bg_cond, &ca);
    pthread_condattr_destroy(&ca);

    rc = make_dirs(dir);
    if (rc) {
        snprintf(err, errsz, "--storage.path %s: cannot create it: %s", dir, strerror(-rc));
        goto fail;
    }
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        snprintf(err, errsz, "--storage.path %s: %s", dir, strerror(errno));
        goto fail;
    }
    if (take_lock(s, err, errsz) != 0)
        goto fail;
    removed = unlinkat(s->dirfd, STORE_TMP, 0) == 0;
    if (removed)
        log_info("store: removed %s/%s, a compaction that did not finish", dir, STORE_TMP);
    s->fd = openat(s->dirfd, STORE_LOG, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->fd < 0) {
        snprintf(err, errsz, "%s/%s: %s", dir, STORE_LOG, strerror(errno));
        goto fail;
    }
    if (replay(s, each, arg, err, errsz) != 0)
        goto fail;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s->st.replay_seconds =
        (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    s->st.jobs = s->n_used;
    rc = pthread_create(&s->bg, NULL, bg_main, s);
    if (rc) {
        snprintf(err, errsz, "cannot start the store's thread: %s", strerror(rc));
        goto fail;
    }
    s->bg_started = 1;
    log_info("store: %s: %u jobs from %llu records (%llu bytes) in %.3fs", dir, s->n_used,
             (unsigned long long)s->st.records_loaded, (unsigned long long)s->written_end,
             s->st.replay_seconds);
    return s;
fail:
    store_close(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    if (s->bg_started) {
        pthread_mutex_lock(&s->mu);
        s->closing = 1;
        pthread_cond_signal(&s->bg_cond);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->bg, NULL);
    }
    pthread_mutex_lock(&s->mu);
    s->closing = 1;
    while (s->writing)
        pthread_cond_wait(&s->cond, &s->mu);
    if (s->pending->n && !s->failed)
        flush_locked(s);
    pthread_mutex_unlock(&s->mu);
    if (s->fd >= 0)
        close(s->fd);
    if (s->lockfd >= 0)
        close(s->lockfd); /* releases the flock */
    if (s->dirfd >= 0)
        close(s->dirfd);
    pthread_cond_destroy(&s->bg_cond);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->mu);
    free(s->batches[0].buf);
    free(s->batches[0].recs);
    free(s->batches[1].buf);
    free(s->batches[1].recs);
    free(s->slots);
    free(s->buckets);
    free(s->dir);
    free(s);
}

/* A record of type for (p, id), with nothing else set. */
static void key_rec(struct storefmt_rec *r, enum storefmt_type type, const struct api_profile *p,
                    const char *id)
{
    memset(r, 0, offsetof(struct storefmt_rec, labels));
    r->type = type;
    r->profile = p;
    if (id && strlen(id) < sizeof(r->id))
        memcpy(r->id, id, strlen(id) + 1);
}

int store_register(struct store *s, const struct api_profile *p, const char *id,
                   const struct job_labels *labels, double now)
{
    struct storefmt_rec r;

    if (!p || !id)
        return -EINVAL;
    key_rec(&r, STOREFMT_REGISTER, p, id);
    r.registered_at = now;
    if (labels)
        r.labels = *labels;
    else
        r.labels.n = 0;
    return append(s, &r, 1);
}

int store_forget(struct store *s, const struct api_profile *p, const char *id)
{
    struct storefmt_rec r;

    if (!p || !id)
        return -EINVAL;
    key_rec(&r, STOREFMT_FORGET, p, id);
    return append(s, &r, 1);
}

int store_finished(struct store *s, const struct api_profile *p, const char *id,
                   const struct job_record *rec, double finished_at, double observed_at)
{
    struct storefmt_rec *r;
    int rc;

    if (!p || !id || !rec)
        return -EINVAL;
    r = malloc(sizeof(*r));
    if (!r)
        return -ENOMEM;
    key_rec(r, STOREFMT_FINISHED, p, id);
    r->finished_at = finished_at;
    r->observed_at = observed_at;
    r->rec = *rec;
    rc = append(s, r, 0);
    free(r);
    return rc;
}

int store_expire(struct store *s, const struct api_profile *p, const char *id)
{
    struct storefmt_rec r;

    if (!p || !id)
        return -EINVAL;
    key_rec(&r, STOREFMT_EXPIRE, p, id);
    return append(s, &r, 0);
}

int store_expire_registration(struct store *s, const struct api_profile *p, const char *id)
{
    struct storefmt_rec r;

    if (!p || !id)
        return -EINVAL;
    key_rec(&r, STOREFMT_FORGET, p, id);
    return append(s, &r, 0);
}

int store_compact(struct store *s)
{
    return s ? compact(s) : -EINVAL;
}

void store_get_stats(struct store *s, struct store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    s->st.jobs = s->n_used;
    s->st.log_bytes = s->written_end;
    s->st.live_bytes = s->live_bytes + STOREFMT_FILE_HEADER;
    *out = s->st;
    pthread_mutex_unlock(&s->mu);
}
