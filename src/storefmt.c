/*
 * storefmt: the durable store's log format (see storefmt.h). Pure.
 */
#include "storefmt.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <zlib.h>

#define REC_MAGIC 0xE5
#define PAYLOAD_VERSION 1
static const char file_magic[8] = {'E', 'L', 'B', 'J', 'S', 'T', 'O', 'R'};

/* ---- little-endian primitives ---- */

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (uint16_t)p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint32_t crc(const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen)
{
    uLong c = crc32(0L, Z_NULL, 0);

    c = crc32(c, head, (uInt)hlen);
    if (blen)
        c = crc32(c, body, (uInt)blen);
    return (uint32_t)c;
}

/* A writer over a payload buffer; overflow sticks and is reported once at the end. */
struct wr {
    uint8_t *p;
    size_t len, cap;
    int bad; /* a value could not be encoded so that it decodes back */
    int full;
};

static void w_bytes(struct wr *w, const void *src, size_t n)
{
    if (w->full || n > w->cap - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->len, src, n);
    w->len += n;
}

static void w_u8(struct wr *w, unsigned v)
{
    uint8_t b = (uint8_t)v;

    if (v > 0xff)
        w->bad = 1;
    w_bytes(w, &b, 1);
}

static void w_u32(struct wr *w, uint32_t v)
{
    uint8_t b[4];

    put32(b, v);
    w_bytes(w, b, 4);
}

static void w_f64(struct wr *w, double d)
{
    uint64_t u;
    uint8_t b[8];

    memcpy(&u, &d, sizeof(u));
    put32(b, (uint32_t)u);
    put32(b + 4, (uint32_t)(u >> 32));
    w_bytes(w, b, 8);
}

/* A string field of array size arr: NUL-terminated within it (so at most arr - 1 bytes). */
static void w_str(struct wr *w, const char *s, size_t arr)
{
    size_t n = strnlen(s, arr);
    uint8_t b[2];

    if (n == arr) {
        w->bad = 1;
        return;
    }
    put16(b, (uint16_t)n);
    w_bytes(w, b, 2);
    w_bytes(w, s, n);
}

/* A reader over a payload; any overrun or invalid value sticks. */
struct rd {
    const uint8_t *p;
    size_t len, off;
    int bad;
};

static const uint8_t *r_take(struct rd *r, size_t n)
{
    const uint8_t *at;

    if (r->bad || n > r->len - r->off) {
        r->bad = 1;
        return NULL;
    }
    at = r->p + r->off;
    r->off += n;
    return at;
}

static unsigned r_u8(struct rd *r)
{
    const uint8_t *b = r_take(r, 1);

    return b ? b[0] : 0;
}

/* A 0/1 flag. */
static int r_flag(struct rd *r)
{
    unsigned v = r_u8(r);

    if (v > 1)
        r->bad = 1;
    return (int)(v & 1);
}

static uint32_t r_u32(struct rd *r)
{
    const uint8_t *b = r_take(r, 4);

    return b ? get32(b) : 0;
}

static double r_f64(struct rd *r)
{
    const uint8_t *b = r_take(r, 8);
    uint64_t u;
    double d = 0;

    if (b) {
        u = (uint64_t)get32(b) | (uint64_t)get32(b + 4) << 32;
        memcpy(&d, &u, sizeof(d));
    }
    return d;
}

/* A string into out (arr bytes): at most arr - 1 bytes, no NUL inside; min bytes at least. */
static void r_str(struct rd *r, char *out, size_t arr, size_t min)
{
    const uint8_t *b = r_take(r, 2);
    size_t n = b ? get16(b) : 0;
    const uint8_t *s;

    if (!b)
        return;
    if (n >= arr || n < min) {
        r->bad = 1;
        return;
    }
    s = r_take(r, n);
    if (!s)
        return;
    if (memchr(s, '\0', n)) {
        r->bad = 1;
        return;
    }
    memcpy(out, s, n);
    out[n] = '\0';
}

/* ---- file header ---- */

void storefmt_file_header(uint8_t out[STOREFMT_FILE_HEADER])
{
    memcpy(out, file_magic, sizeof(file_magic));
    put32(out + 8, STOREFMT_VERSION);
    put32(out + 12, crc(out, 12, NULL, 0));
}

int storefmt_check_file_header(const uint8_t *b, size_t len)
{
    if (len < STOREFMT_FILE_HEADER)
        return -EAGAIN;
    if (memcmp(b, file_magic, sizeof(file_magic)) != 0 || get32(b + 12) != crc(b, 12, NULL, 0))
        return -EBADMSG;
    if (get32(b + 8) > STOREFMT_VERSION)
        return -EPROTONOSUPPORT;
    if (get32(b + 8) == 0)
        return -EBADMSG;
    return 0;
}

/* ---- records ---- */

int storefmt_labels_valid(const struct job_labels *l)
{
    unsigned i;

    if (l->n > JOB_LABELS_MAX)
        return 0;
    for (i = 0; i < l->n; i++) {
        size_t n = strnlen(l->kv[i].name, sizeof(l->kv[i].name));
        if (n == 0 || n == sizeof(l->kv[i].name) ||
            strnlen(l->kv[i].value, sizeof(l->kv[i].value)) == sizeof(l->kv[i].value))
            return 0;
        if (i > 0 && strcmp(l->kv[i - 1].name, l->kv[i].name) >= 0)
            return 0; /* sorted, unique */
    }
    return 1;
}

static void encode_record(struct wr *w, const struct job_record *j)
{
    unsigned i;

    w_str(w, j->job_id, sizeof(j->job_id));
    if (j->job_id[0] && !job_id_valid(j->job_id, strnlen(j->job_id, sizeof(j->job_id))))
        w->bad = 1;
    w_str(w, j->job_type, sizeof(j->job_type));
    w_str(w, j->status_raw, sizeof(j->status_raw));
    if ((unsigned)j->status >= JOB_STATUS_COUNT)
        w->bad = 1;
    w_u8(w, (unsigned)j->status);
    w_u8(w, (unsigned)j->has_begin);
    w_u8(w, (unsigned)j->has_end);
    w_f64(w, j->begin_time);
    w_f64(w, j->end_time);
    w_str(w, j->error_code, sizeof(j->error_code));
    w_str(w, j->fail_reason, sizeof(j->fail_reason));
    w_str(w, j->resource_id, sizeof(j->resource_id));
    w_u8(w, (unsigned)j->has_sub_jobs);
    w_u8(w, JOB_STATUS_COUNT);
    for (i = 0; i < JOB_STATUS_COUNT; i++) {
        if (j->sub_jobs[i] > JOB_SUB_JOBS_MAX)
            w->bad = 1;
        w_u32(w, j->sub_jobs[i]);
    }
    w_u8(w, (unsigned)j->has_sub_jobs_total);
    if (j->sub_jobs_total > JOB_SUB_JOBS_TOTAL_MAX)
        w->bad = 1;
    w_u32(w, j->sub_jobs_total);
    if ((j->has_begin | j->has_end | j->has_sub_jobs | j->has_sub_jobs_total) & ~1)
        w->bad = 1; /* flags are 0 or 1 */
}

static void decode_record(struct rd *r, struct job_record *j)
{
    unsigned i, n;

    r_str(r, j->job_id, sizeof(j->job_id), 0);
    if (!r->bad && j->job_id[0] && !job_id_valid(j->job_id, strlen(j->job_id)))
        r->bad = 1;
    r_str(r, j->job_type, sizeof(j->job_type), 0);
    r_str(r, j->status_raw, sizeof(j->status_raw), 0);
    n = r_u8(r);
    if (n >= JOB_STATUS_COUNT)
        r->bad = 1;
    j->status = (enum job_status)(n < JOB_STATUS_COUNT ? n : 0);
    j->has_begin = r_flag(r);
    j->has_end = r_flag(r);
    j->begin_time = r_f64(r);
    j->end_time = r_f64(r);
    r_str(r, j->error_code, sizeof(j->error_code), 0);
    r_str(r, j->fail_reason, sizeof(j->fail_reason), 0);
    r_str(r, j->resource_id, sizeof(j->resource_id), 0);
    j->has_sub_jobs = r_flag(r);
    n = r_u8(r); /* a writer with fewer statuses wrote fewer counts; more is not ours */
    if (n > JOB_STATUS_COUNT)
        r->bad = 1;
    for (i = 0; i < n && !r->bad; i++) {
        j->sub_jobs[i] = r_u32(r);
        if (j->sub_jobs[i] > JOB_SUB_JOBS_MAX)
            r->bad = 1;
    }
    j->has_sub_jobs_total = r_flag(r);
    j->sub_jobs_total = r_u32(r);
    if (j->sub_jobs_total > JOB_SUB_JOBS_TOTAL_MAX)
        r->bad = 1;
}

long storefmt_encode(const struct storefmt_rec *r, uint8_t *out, size_t cap)
{
    struct wr w;
    const char *pname = r->profile ? r->profile->name : r->profile_name;
    size_t plen = pname ? strnlen(pname, STOREFMT_PROFILE_NAME_MAX + 1) : 0;
    unsigned i;

    if (cap < STOREFMT_REC_HEADER)
        return -E2BIG;
    if (plen == 0 || plen > STOREFMT_PROFILE_NAME_MAX ||
        !job_id_valid(r->id, strnlen(r->id, sizeof(r->id))))
        return -EINVAL;
    w = (struct wr){.p = out + STOREFMT_REC_HEADER,
                    .cap = cap - STOREFMT_REC_HEADER < STOREFMT_PAYLOAD_MAX
                               ? cap - STOREFMT_REC_HEADER
                               : STOREFMT_PAYLOAD_MAX};
    w_u8(&w, PAYLOAD_VERSION);
    w_str(&w, pname, STOREFMT_PROFILE_NAME_MAX + 1);
    w_str(&w, r->id, sizeof(r->id));
    switch (r->type) {
    case STOREFMT_REGISTER:
        if (!storefmt_labels_valid(&r->labels))
            return -EINVAL;
        w_f64(&w, r->registered_at);
        w_u8(&w, r->labels.n);
        for (i = 0; i < r->labels.n; i++) {
            w_str(&w, r->labels.kv[i].name, sizeof(r->labels.kv[i].name));
            w_str(&w, r->labels.kv[i].value, sizeof(r->labels.kv[i].value));
        }
        break;
    case STOREFMT_FINISHED:
        w_f64(&w, r->finished_at);
        w_f64(&w, r->observed_at);
        encode_record(&w, &r->rec);
        break;
    case STOREFMT_FORGET:
    case STOREFMT_EXPIRE:
        break;
    default:
        return -EINVAL;
    }
    if (w.bad)
        return -EINVAL;
    if (w.full)
        return -E2BIG;
    out[0] = REC_MAGIC;
    out[1] = (uint8_t)r->type;
    put16(out + 2, (uint16_t)w.len);
    put32(out + 4, crc(out, 4, w.p, w.len));
    return (long)(STOREFMT_REC_HEADER + w.len);
}

long storefmt_decode(const uint8_t *b, size_t len, struct storefmt_rec *r)
{
    struct rd rd;
    size_t plen;
    unsigned i, type;

    if (len < STOREFMT_REC_HEADER)
        return len && b[0] != REC_MAGIC ? -EBADMSG : -EAGAIN;
    type = b[1];
    plen = get16(b + 2);
    if (b[0] != REC_MAGIC || type < STOREFMT_REGISTER || type > STOREFMT_EXPIRE ||
        plen > STOREFMT_PAYLOAD_MAX)
        return -EBADMSG;
    if (len - STOREFMT_REC_HEADER < plen)
        return -EAGAIN;
    if (get32(b + 4) != crc(b, 4, b + STOREFMT_REC_HEADER, plen))
        return -EBADMSG;

    /* zeroed as far as this type fills it (the whole record would be a third of the replay) */
    memset(r, 0, offsetof(struct storefmt_rec, registered_at));
    r->registered_at = r->finished_at = r->observed_at = 0;
    if (type == STOREFMT_REGISTER)
        memset(&r->labels, 0, sizeof(r->labels));
    else if (type == STOREFMT_FINISHED)
        memset(&r->rec, 0, sizeof(r->rec));
    r->type = (enum storefmt_type)type;
    rd = (struct rd){.p = b + STOREFMT_REC_HEADER, .len = plen};
    if (r_u8(&rd) != PAYLOAD_VERSION)
        return -EBADMSG;
    r_str(&rd, r->profile_name, sizeof(r->profile_name), 1);
    r_str(&rd, r->id, sizeof(r->id), 1);
    if (!rd.bad && !job_id_valid(r->id, strlen(r->id)))
        return -EBADMSG;
    switch (r->type) {
    case STOREFMT_REGISTER:
        r->registered_at = r_f64(&rd);
        r->labels.n = r_u8(&rd);
        if (r->labels.n > JOB_LABELS_MAX)
            return -EBADMSG;
        for (i = 0; i < r->labels.n && !rd.bad; i++) {
            r_str(&rd, r->labels.kv[i].name, sizeof(r->labels.kv[i].name), 1);
            r_str(&rd, r->labels.kv[i].value, sizeof(r->labels.kv[i].value), 0);
        }
        if (!rd.bad && !storefmt_labels_valid(&r->labels))
            return -EBADMSG;
        break;
    case STOREFMT_FINISHED:
        r->finished_at = r_f64(&rd);
        r->observed_at = r_f64(&rd);
        decode_record(&rd, &r->rec);
        break;
    default:
        break;
    }
    if (rd.bad || rd.off != rd.len)
        return -EBADMSG;
    r->profile = profile_find(r->profile_name);
    return (long)(STOREFMT_REC_HEADER + plen);
}

int storefmt_replay(const uint8_t *b, size_t len,
                    void (*fn)(void *arg, const struct storefmt_rec *r, size_t off, size_t size),
                    void *arg, struct storefmt_replay *out)
{
    struct storefmt_rec r;
    size_t off = STOREFMT_FILE_HEADER, end;
    long n = 0;
    int rc = storefmt_check_file_header(b, len);

    memset(out, 0, sizeof(*out));
    if (rc)
        return rc;
    while (off < len) {
        n = storefmt_decode(b + off, len - off, &r);
        if (n < 0)
            break;
        if (fn)
            fn(arg, &r, off, (size_t)n);
        out->records++;
        off += (size_t)n;
    }
    out->good_end = off;
    if (off == len)
        return 0;
    out->damage = (int)n;
    /* how much would a cut here lose? valid records past the damage, found byte by byte */
    end = len - off > STOREFMT_RESYNC_MAX ? off + STOREFMT_RESYNC_MAX : len;
    for (off++; off < end;) {
        n = storefmt_decode(b + off, len - off, &r);
        if (n > 0) {
            out->valid_after++;
            off += (size_t)n;
        } else {
            off++;
        }
    }
    return 0;
}
