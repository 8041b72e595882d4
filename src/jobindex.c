/*
 * jobindex: sorted, immutable per-job views of a snapshot (see jobindex.h).
 *
 * Layout: entries[] in the order they were added, order[] the permutation
 * that sorts them by (ID, profile name), and one arena of NUL-terminated
 * strings addressed by 32-bit offsets (offset 0 is ""). Sorting is a
 * bottom-up merge sort of order[] (stable, O(n log n), no recursion, no
 * global comparison context as qsort would need).
 */
#include "jobindex.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_MIN 4096u
#define ARENA_MAX UINT32_MAX

struct jobindex {
    _Atomic unsigned refs;
    int sealed;
    size_t n, cap;
    struct jobindex_entry *entries;
    uint32_t *order;
    char *arena;
    size_t arena_len, arena_cap;
};

struct jobindex *jobindex_new(size_t cap)
{
    struct jobindex *ix = calloc(1, sizeof(*ix));

    if (!ix)
        return NULL;
    atomic_init(&ix->refs, 1);
    ix->cap = cap;
    ix->entries = calloc(cap ? cap : 1, sizeof(*ix->entries));
    ix->arena = malloc(ARENA_MIN);
    if (!ix->entries || !ix->arena || cap > UINT32_MAX) {
        jobindex_unref(ix);
        return NULL;
    }
    ix->arena[0] = '\0';
    ix->arena_len = 1;
    ix->arena_cap = ARENA_MIN;
    return ix;
}

struct jobindex *jobindex_ref(struct jobindex *ix)
{
    atomic_fetch_add_explicit(&ix->refs, 1, memory_order_relaxed);
    return ix;
}

void jobindex_unref(struct jobindex *ix)
{
    if (!ix || atomic_fetch_sub_explicit(&ix->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(ix->entries);
    free(ix->order);
    free(ix->arena);
    free(ix);
}

/* Make room for need more arena bytes. 0, -E2BIG or -ENOMEM. */
static int arena_room(struct jobindex *ix, size_t need)
{
    size_t cap = ix->arena_cap;
    char *a;

    if (need > ARENA_MAX - ix->arena_len)
        return -E2BIG;
    if (ix->arena_len + need <= cap)
        return 0;
    while (cap < ix->arena_len + need)
        cap = cap > ARENA_MAX / 2 ? ARENA_MAX : cap * 2;
    a = realloc(ix->arena, cap);
    if (!a)
        return -ENOMEM;
    ix->arena = a;
    ix->arena_cap = cap;
    return 0;
}

/* Append s (with its NUL) unless it is empty; its offset in *off. Room checked by the caller. */
static uint32_t arena_put(struct jobindex *ix, const char *s)
{
    size_t n = strlen(s);
    uint32_t off = (uint32_t)ix->arena_len;

    if (n == 0)
        return 0;
    memcpy(ix->arena + ix->arena_len, s, n + 1);
    ix->arena_len += n + 1;
    return off;
}

int jobindex_add(struct jobindex *ix, const struct expfmt_job *v, unsigned sources, int finished,
                 double finished_at)
{
    const struct job_record *any = v->rec, *cur = expfmt_job_current(v);
    const struct api_profile *prof = v->profile;
    struct jobindex_entry *e;
    size_t need, i;
    int rc;

    if (ix->sealed || !prof || !v->id)
        return -EINVAL;
    if (ix->n >= ix->cap)
        return -E2BIG;
    need = strlen(v->id) + 1;
    if (any)
        need += strlen(any->job_type) + strlen(any->resource_id) + strlen(any->error_code) +
                strlen(any->fail_reason) + 4;
    for (i = 0; v->labels && i < v->labels->n && i < JOB_LABELS_MAX; i++)
        need += strlen(v->labels->kv[i].name) + strlen(v->labels->kv[i].value) + 2;
    rc = arena_room(ix, need);
    if (rc)
        return rc;
    e = &ix->entries[ix->n];
    memset(e, 0, sizeof(*e));
    e->profile = prof;
    e->id = arena_put(ix, v->id);
    e->status = (uint8_t)(profile_has_status(prof, v->status) ? v->status : JOB_UNKNOWN);
    e->sources = (uint8_t)sources;
    if (v->fetch_success)
        e->flags |= JOBINDEX_FETCH_OK;
    e->last_fetch = v->last_fetch > 0 ? v->last_fetch : 0;
    if (finished) {
        e->flags |= JOBINDEX_FINISHED;
        e->finished_at = finished_at;
    }
    if (any) {
        /* as elb_job_info: job_type and resource_id of the last good answer */
        e->flags |= JOBINDEX_HAVE_REC;
        e->job_type = arena_put(ix, any->job_type);
        e->resource_id = arena_put(ix, any->resource_id);
    }
    if (cur) {
        if (cur->has_begin) {
            e->flags |= JOBINDEX_BEGIN;
            e->begin_time = cur->begin_time;
        }
        if (cur->has_end && job_status_terminal(cur->status)) {
            e->flags |= JOBINDEX_END;
            e->end_time = cur->end_time;
        }
        if (job_status_failed(v->status)) {
            e->flags |= JOBINDEX_ERROR;
            e->error_code = arena_put(ix, cur->error_code);
            e->fail_reason = arena_put(ix, cur->fail_reason);
        }
        if (cur->has_sub_jobs) {
            e->flags |= JOBINDEX_SUB_JOBS;
            for (i = 0; i < JOB_STATUS_COUNT; i++) {
                size_t shown = profile_has_status(prof, (enum job_status)i) ? i : JOB_UNKNOWN;
                e->sub_jobs[shown] += cur->sub_jobs[i];
            }
        }
        if (cur->has_sub_jobs_total) {
            e->flags |= JOBINDEX_SUB_JOBS_TOTAL;
            e->sub_jobs_total = cur->sub_jobs_total;
        }
    }
    if (expfmt_job_duration(v, &e->duration))
        e->flags |= JOBINDEX_DURATION;
    if (v->labels && v->labels->n) {
        e->labels = (uint32_t)ix->arena_len;
        for (i = 0; i < v->labels->n && i < JOB_LABELS_MAX; i++) {
            size_t nl = strlen(v->labels->kv[i].name) + 1, vl = strlen(v->labels->kv[i].value) + 1;
            memcpy(ix->arena + ix->arena_len, v->labels->kv[i].name, nl);
            memcpy(ix->arena + ix->arena_len + nl, v->labels->kv[i].value, vl);
            ix->arena_len += nl + vl;
            e->n_labels++;
        }
    }
    ix->n++;
    return 0;
}

/* Order of two keys: ID first, then profile name. */
static int key_cmp(const char *id_a, const struct api_profile *pa, const char *id_b,
                   const struct api_profile *pb)
{
    int c = strcmp(id_a, id_b);

    if (c || pa == pb)
        return c;
    return strcmp(pa->name, pb->name);
}

static int entry_cmp(const struct jobindex *ix, uint32_t a, uint32_t b)
{
    const struct jobindex_entry *ea = &ix->entries[a], *eb = &ix->entries[b];

    return key_cmp(ix->arena + ea->id, ea->profile, ix->arena + eb->id, eb->profile);
}

int jobindex_seal(struct jobindex *ix)
{
    uint32_t *a, *b, *t;
    size_t width, lo, i;

    if (ix->sealed)
        return 0;
    a = malloc((ix->n ? ix->n : 1) * sizeof(*a));
    b = malloc((ix->n ? ix->n : 1) * sizeof(*b));
    if (!a || !b) {
        free(a);
        free(b);
        return -ENOMEM;
    }
    for (i = 0; i < ix->n; i++)
        a[i] = (uint32_t)i;
    /* bottom-up merge sort: runs of width merged from a into b, then swapped */
    for (width = 1; width < ix->n; width *= 2) {
        for (lo = 0; lo < ix->n; lo += 2 * width) {
            size_t mid = lo + width < ix->n ? lo + width : ix->n;
            size_t hi = lo + 2 * width < ix->n ? lo + 2 * width : ix->n;
            size_t l = lo, r = mid, k = lo;

            while (l < mid && r < hi)
                b[k++] = entry_cmp(ix, a[r], a[l]) < 0 ? a[r++] : a[l++];
            while (l < mid)
                b[k++] = a[l++];
            while (r < hi)
                b[k++] = a[r++];
        }
        t = a;
        a = b;
        b = t;
    }
    free(b);
    ix->order = a;
    ix->sealed = 1;
    return 0;
}

size_t jobindex_count(const struct jobindex *ix)
{
    return ix->sealed ? ix->n : 0;
}

const struct jobindex_entry *jobindex_at(const struct jobindex *ix, size_t pos)
{
    return &ix->entries[ix->order[pos]];
}

const char *jobindex_str(const struct jobindex *ix, uint32_t off)
{
    return ix->arena + off;
}

/*
 * First position whose key is not before (id, p) (strict: after it), with p
 * NULL as "after every profile" (strict) or "before every profile" (not).
 */
static size_t bound(const struct jobindex *ix, const char *id, const struct api_profile *p,
                    int strict)
{
    size_t lo = 0, hi = jobindex_count(ix);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct jobindex_entry *e = jobindex_at(ix, mid);
        int c = strcmp(ix->arena + e->id, id);

        if (c == 0 && p)
            c = e->profile == p ? 0 : strcmp(e->profile->name, p->name);
        else if (c == 0)
            c = strict ? -1 : 1;
        if (c < 0 || (c == 0 && strict))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct jobindex_entry *jobindex_find(const struct jobindex *ix, const struct api_profile *p,
                                           const char *id)
{
    size_t pos;
    const struct jobindex_entry *e;

    if (!p || !id)
        return NULL;
    pos = bound(ix, id, p, 0);
    if (pos >= jobindex_count(ix))
        return NULL;
    e = jobindex_at(ix, pos);
    return e->profile == p && strcmp(ix->arena + e->id, id) == 0 ? e : NULL;
}

size_t jobindex_after(const struct jobindex *ix, const char *id, const struct api_profile *p)
{
    return bound(ix, id, p, 1);
}

size_t jobindex_first(const struct jobindex *ix, const char *id)
{
    return bound(ix, id, NULL, 0);
}

void jobindex_label(const struct jobindex *ix, const struct jobindex_entry *e, unsigned i,
                    const char **name, const char **value)
{
    const char *s = ix->arena + e->labels;

    for (; i > 0; i--) {
        s += strlen(s) + 1;
        s += strlen(s) + 1;
    }
    *name = s;
    *value = s + strlen(s) + 1;
}
