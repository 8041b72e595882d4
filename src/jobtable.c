/*
 * jobtable: tracked jobs, their sources and the memory of finished jobs (see jobtable.h).
 *
 * Layout: a slot array (grown by doubling; a job's slot never changes, its
 * address may) and a chained hash index over it: buckets hold slot + 1, each
 * slot the next slot + 1 of its chain. Free slots form a list through the same
 * link. A slot's generation changes when its job leaves, so old handles miss.
 * The queue of posted changes is the only part guarded by a lock.
 */
#include "jobtable.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS_MIN 16 /* first allocation of the slot array */

struct slot {
    struct job_state st;
    uint32_t gen;  /* bumped when the job leaves; a handle names (slot, gen) */
    uint32_t link; /* next slot + 1 in the hash chain, or in the free list */
    int used;
};

struct change {
    struct change *next;
    enum jobtable_op op;
    const struct api_profile *profile;
    unsigned source;
    char id[JOB_ID_MAX + 1];
};

struct jobtable {
    struct slot *slots;
    uint32_t n_slots;   /* allocated */
    uint32_t high;      /* slots [0, high) have been used at some time */
    uint32_t free_head; /* slot + 1 of the first free slot below high, 0 if none */
    uint32_t *buckets;  /* slot + 1 of a chain's first slot, 0 if empty */
    uint32_t n_buckets; /* a power of two, at least 2 * n_slots */
    size_t max_jobs;
    size_t n_tracked, n_remembered;
    double retention_s;

    void (*wake)(void *);
    void *wake_arg;
    pthread_mutex_t lock; /* guards the queue below */
    struct change *queue_head, **queue_tail;
    size_t queued;
};

/* ---- keys and the index ---- */

static uint32_t key_hash(const struct api_profile *p, const char *id)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(uintptr_t)p;
    const unsigned char *s = (const unsigned char *)id;

    while (*s) {
        h ^= *s++;
        h *= 1099511628211ull;
    }
    return (uint32_t)(h ^ (h >> 32));
}

static job_handle make_handle(const struct jobtable *t, uint32_t slot)
{
    return ((job_handle)t->slots[slot].gen << 32) | (job_handle)(slot + 1);
}

/* The slot of (p, id), or UINT32_MAX. */
static uint32_t lookup(const struct jobtable *t, const struct api_profile *p, const char *id)
{
    uint32_t i;

    if (!t->n_buckets)
        return UINT32_MAX;
    for (i = t->buckets[key_hash(p, id) & (t->n_buckets - 1)]; i; i = t->slots[i - 1].link) {
        const struct job_state *st = &t->slots[i - 1].st;
        if (st->profile == p && strcmp(st->id, id) == 0)
            return i - 1;
    }
    return UINT32_MAX;
}

static void index_insert(struct jobtable *t, uint32_t slot)
{
    uint32_t *b =
        &t->buckets[key_hash(t->slots[slot].st.profile, t->slots[slot].st.id) & (t->n_buckets - 1)];

    t->slots[slot].link = *b;
    *b = slot + 1;
}

static void index_remove(struct jobtable *t, uint32_t slot)
{
    uint32_t *pp =
        &t->buckets[key_hash(t->slots[slot].st.profile, t->slots[slot].st.id) & (t->n_buckets - 1)];

    while (*pp && *pp != slot + 1)
        pp = &t->slots[*pp - 1].link;
    if (*pp)
        *pp = t->slots[slot].link;
    t->slots[slot].link = 0;
}

/* Make room for one more slot: double the slots and rebuild the index. 0 or -ENOMEM. */
static int grow(struct jobtable *t)
{
    uint32_t n = t->n_slots ? t->n_slots * 2 : SLOTS_MIN, nb, i;
    struct slot *s;
    uint32_t *b;

    if (t->n_slots >= UINT32_MAX / 4)
        return -ENOMEM;
    for (nb = 1; nb < 2 * n; nb <<= 1)
        ;
    s = realloc(t->slots, (size_t)n * sizeof(*s));
    if (!s)
        return -ENOMEM;
    t->slots = s;
    t->n_slots = n; /* slots past high stay as realloc left them: slot_alloc clears each */
    b = calloc(nb, sizeof(*b));
    if (!b)
        return -ENOMEM; /* the old index still covers every used slot */
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = nb;
    for (i = 0; i < t->high; i++)
        if (t->slots[i].used)
            index_insert(t, i);
    return 0;
}

/* A free slot (its generation kept), or UINT32_MAX on ENOMEM. */
static uint32_t slot_alloc(struct jobtable *t)
{
    uint32_t i;

    if (t->free_head) {
        i = t->free_head - 1;
        t->free_head = t->slots[i].link;
        t->slots[i].link = 0;
        return i;
    }
    if (t->high == t->n_slots && grow(t) != 0)
        return UINT32_MAX;
    /*
     * Cleared when first taken, not when the array grows: a doubling leaves up
     * to half of it unused, and untouched pages cost no memory (6.4 MB of a
     * 16 MB array at 10k jobs; a slot is about 1 KB).
     */
    memset(&t->slots[t->high], 0, sizeof(t->slots[0]));
    return t->high++;
}

/* The job in slot i leaves the table for good: old handles miss from now on. */
static void slot_free(struct jobtable *t, uint32_t i)
{
    struct slot *s = &t->slots[i];
    uint32_t gen = s->gen + 1;

    index_remove(t, i);
    memset(s, 0, sizeof(*s));
    s->gen = gen ? gen : 1;
    s->link = t->free_head;
    t->free_head = i + 1;
}

/* ---- life cycle ---- */

struct jobtable *jobtable_new(size_t max_jobs, double retention_s, void (*wake)(void *),
                              void *wake_arg)
{
    struct jobtable *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->max_jobs = max_jobs;
    t->retention_s = retention_s > 0 ? retention_s : 0;
    t->wake = wake;
    t->wake_arg = wake_arg;
    t->queue_tail = &t->queue_head;
    if (pthread_mutex_init(&t->lock, NULL) != 0 || grow(t) != 0) {
        free(t->slots);
        free(t->buckets);
        free(t);
        return NULL;
    }
    return t;
}

void jobtable_free(struct jobtable *t)
{
    struct change *c, *next;

    if (!t)
        return;
    for (c = t->queue_head; c; c = next) {
        next = c->next;
        free(c);
    }
    pthread_mutex_destroy(&t->lock);
    free(t->slots);
    free(t->buckets);
    free(t);
}

/* ---- membership ---- */

/* Forget the remembered finished job that finished first (room for another). */
static void forget_oldest_remembered(struct jobtable *t)
{
    uint32_t i, best = UINT32_MAX;

    for (i = 0; i < t->high; i++) {
        const struct slot *s = &t->slots[i];
        if (s->used && !s->st.sources &&
            (best == UINT32_MAX || s->st.finished_at < t->slots[best].st.finished_at))
            best = i;
    }
    if (best != UINT32_MAX) {
        slot_free(t, best);
        t->n_remembered--;
    }
}

int jobtable_add(struct jobtable *t, const struct api_profile *profile, const char *id,
                 unsigned source, job_handle *h)
{
    uint32_t i;
    struct job_state *st;

    if (!profile || !id || !job_id_valid(id, strlen(id)) || !(source & JOB_SRC_ALL))
        return -EINVAL;
    i = lookup(t, profile, id);
    if (i != UINT32_MAX) {
        st = &t->slots[i].st;
        if (h)
            *h = make_handle(t, i);
        if (st->sources) {
            st->sources |= source;
            return 0;
        }
        /* a remembered finished job comes back as it was */
        if (t->n_tracked >= t->max_jobs)
            return -E2BIG;
        st->sources = source;
        t->n_remembered--;
        t->n_tracked++;
        return 1;
    }
    if (t->n_tracked >= t->max_jobs)
        return -E2BIG;
    i = slot_alloc(t);
    if (i == UINT32_MAX)
        return -ENOMEM;
    t->slots[i].used = 1;
    st = &t->slots[i].st;
    memset(st, 0, sizeof(*st));
    memcpy(st->id, id, strlen(id) + 1);
    st->profile = profile;
    st->sources = source;
    st->status = JOB_UNKNOWN; /* next_due 0: polled at once */
    index_insert(t, i);
    t->n_tracked++;
    if (h)
        *h = make_handle(t, i);
    return 1;
}

/*
 * Take source bits away from the job in slot i; it leaves (or is remembered) when none is left.
 * bound: forget the oldest remembered job when the memory is now past max_jobs (a sync does
 * that itself once it has added its list, which may bring remembered jobs back).
 */
static int drop_slot(struct jobtable *t, uint32_t i, unsigned source, int bound)
{
    struct job_state *st = &t->slots[i].st;

    if (!(st->sources & source))
        return 0;
    st->sources &= ~source;
    if (st->sources)
        return 0;
    t->n_tracked--;
    if (st->finished) {
        st->in_cycle = 0;
        t->n_remembered++;
        if (bound && t->n_remembered > t->max_jobs)
            forget_oldest_remembered(t);
    } else {
        slot_free(t, i);
    }
    return 1;
}

int jobtable_drop(struct jobtable *t, const struct api_profile *profile, const char *id,
                  unsigned source)
{
    uint32_t i;

    if (!profile || !id)
        return 0;
    i = lookup(t, profile, id);
    return i == UINT32_MAX ? 0 : drop_slot(t, i, source, 1);
}

/* Count one add's outcome into d. Returns rc unless it is one the caller should stop on. */
static int count_add(struct jobtable_delta *d, int rc, int was_remembered)
{
    if (rc == 1) {
        d->added++;
        d->returned += was_remembered;
    } else if (rc == -E2BIG) {
        d->refused++;
    } else if (rc == -EINVAL) {
        d->invalid++;
    }
    return rc == -ENOMEM ? rc : 0;
}

int jobtable_sync_source(struct jobtable *t, unsigned source, const struct job_ref *refs, size_t n,
                         struct jobtable_delta *d)
{
    struct jobtable_delta local;
    unsigned mark = 1u << 31; /* "listed by this sync", never a real source bit */
    uint32_t i;
    size_t k;
    int rc = 0;

    if (!d)
        d = &local;
    memset(d, 0, sizeof(*d));
    /* mark what the new list keeps, so the sweep below knows what it dropped */
    for (k = 0; k < n; k++) {
        i = refs[k].id && refs[k].profile ? lookup(t, refs[k].profile, refs[k].id) : UINT32_MAX;
        if (i != UINT32_MAX && (t->slots[i].st.sources & source))
            t->slots[i].st.sources |= mark;
    }
    for (i = 0; i < t->high; i++) {
        struct job_state *st = &t->slots[i].st;
        if (!t->slots[i].used)
            continue;
        if (st->sources & mark)
            st->sources &= ~mark;
        else if (drop_slot(t, i, source, 0))
            d->removed++;
    }
    for (k = 0; k < n && rc == 0; k++) {
        uint32_t before =
            refs[k].id && refs[k].profile ? lookup(t, refs[k].profile, refs[k].id) : UINT32_MAX;
        int remembered = before != UINT32_MAX && !t->slots[before].st.sources;
        rc = count_add(d, jobtable_add(t, refs[k].profile, refs[k].id, source, NULL), remembered);
    }
    /* only now: the jobs the list brought back are no longer candidates */
    while (t->n_remembered > t->max_jobs)
        forget_oldest_remembered(t);
    return rc;
}

/* ---- look-ups ---- */

struct job_state *jobtable_get(struct jobtable *t, job_handle h)
{
    uint32_t slot = (uint32_t)(h & 0xffffffffu), gen = (uint32_t)(h >> 32);

    if (slot == 0 || slot > t->high)
        return NULL;
    if (!t->slots[slot - 1].used || t->slots[slot - 1].gen != gen)
        return NULL;
    return &t->slots[slot - 1].st;
}

struct job_state *jobtable_find(struct jobtable *t, const struct api_profile *profile,
                                const char *id, job_handle *h)
{
    uint32_t i = profile && id ? lookup(t, profile, id) : UINT32_MAX;

    if (i == UINT32_MAX)
        return NULL;
    if (h)
        *h = make_handle(t, i);
    return &t->slots[i].st;
}

job_handle jobtable_next(const struct jobtable *t, job_handle prev)
{
    uint32_t i = (uint32_t)(prev & 0xffffffffu); /* slot + 1 of prev = the slot after it */

    for (; i < t->high; i++)
        if (t->slots[i].used && t->slots[i].st.sources)
            return make_handle(t, i);
    return JOB_HANDLE_NONE;
}

size_t jobtable_count(const struct jobtable *t)
{
    return t->n_tracked;
}

size_t jobtable_remembered(const struct jobtable *t)
{
    return t->n_remembered;
}

/* ---- finished jobs and retention ---- */

int jobtable_mark_finished(struct jobtable *t, job_handle h, double now)
{
    struct job_state *st = jobtable_get(t, h);

    if (!st)
        return -ENOENT;
    if (st->finished)
        return 0;
    st->finished = 1;
    st->finished_at = now;
    return 1;
}

size_t jobtable_expire(struct jobtable *t, double now)
{
    size_t n = 0;
    uint32_t i;

    if (t->retention_s <= 0)
        return 0;
    for (i = 0; i < t->high; i++) {
        struct job_state *st = &t->slots[i].st;

        /*
         * Measured from when the job was first seen finished, which is when it
         * ended for a job watched while it ran, and gives a job that had ended
         * long before it was listed its full retention instead of none.
         */
        if (!t->slots[i].used || !st->finished || now - st->finished_at < t->retention_s)
            continue;
        if (st->sources) {
            if (!st->retired) {
                st->retired = 1;
                n++;
            }
        } else {
            slot_free(t, i);
            t->n_remembered--;
            n++;
        }
    }
    return n;
}

/* ---- the queue ---- */

int jobtable_post(struct jobtable *t, enum jobtable_op op, const struct api_profile *profile,
                  const char *id, unsigned source)
{
    struct change *c;
    size_t n;

    if (!profile || !id || (n = strlen(id), !job_id_valid(id, n)) || !(source & JOB_SRC_ALL))
        return -EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->op = op;
    c->profile = profile;
    c->source = source;
    memcpy(c->id, id, n + 1);
    pthread_mutex_lock(&t->lock);
    if (t->queued >= t->max_jobs) {
        pthread_mutex_unlock(&t->lock);
        free(c);
        return -EAGAIN;
    }
    *t->queue_tail = c;
    t->queue_tail = &c->next;
    t->queued++;
    pthread_mutex_unlock(&t->lock);
    if (t->wake)
        t->wake(t->wake_arg);
    return 0;
}

size_t jobtable_apply_posted(struct jobtable *t, struct jobtable_delta *d)
{
    struct jobtable_delta local;
    struct change *c, *next;
    size_t n = 0;

    if (!d)
        d = &local;
    memset(d, 0, sizeof(*d));
    pthread_mutex_lock(&t->lock);
    c = t->queue_head;
    t->queue_head = NULL;
    t->queue_tail = &t->queue_head;
    t->queued = 0;
    pthread_mutex_unlock(&t->lock);
    for (; c; c = next) {
        next = c->next;
        if (c->op == JOBTABLE_OP_ADD) {
            struct job_state *was = jobtable_find(t, c->profile, c->id, NULL);
            /* read before the add, which sets its sources (argument order is unspecified) */
            int remembered = was && !was->sources;
            (void)count_add(d, jobtable_add(t, c->profile, c->id, c->source, NULL), remembered);
        } else if (jobtable_drop(t, c->profile, c->id, c->source)) {
            d->removed++;
        }
        free(c);
        n++;
    }
    return n;
}
