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
    int has_labels;
    struct job_labels labels;
    jobtable_done_fn done;
    void *done_arg;
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
    uint64_t applied; /* posted changes applied */
    double retention_s;

    void (*wake)(void *);
    void *wake_arg;
    void (*forget)(void *, enum jobtable_forget, const struct job_state *);
    void *forget_arg;
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
    /*
     * Not zeroed here: slot_alloc zeroes a slot past high when it hands it out,
     * so the new half's pages stay untouched, not resident, until used (at 10k
     * jobs the table has 16384 slots of about 1 KB).
     */
    t->n_slots = n;
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
    memset(&t->slots[t->high], 0, sizeof(t->slots[0]));
    return t->high++;
}

/* The job in slot i leaves the table for good: old handles miss from now on. */
static void slot_free(struct jobtable *t, uint32_t i)
{
    struct slot *s = &t->slots[i];
    uint32_t gen = s->gen + 1;

    index_remove(t, i);
    free((void *)s->st.labels);
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

    uint32_t i;

    if (!t)
        return;
    for (c = t->queue_head; c; c = next) {
        next = c->next;
        if (c->done) {
            struct jobtable_outcome o = {.rc = -ECANCELED, .seq = t->applied};
            c->done(c->done_arg, &o);
        }
        free(c);
    }
    for (i = 0; i < t->high; i++)
        free((void *)t->slots[i].st.labels);
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
        if (t->forget)
            t->forget(t->forget_arg, JOBTABLE_FORGOTTEN, &t->slots[best].st);
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
    if (source & JOB_SRC_API || !st->sources) {
        /* the registrant's labels go with the registration */
        free((void *)st->labels);
        st->labels = NULL;
    }
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
        if (st->sources & JOB_SRC_API) {
            /* a registration lasts until the retention of the job's end */
            st->sources &= ~(unsigned)JOB_SRC_API;
            if (!st->sources) {
                if (t->forget)
                    t->forget(t->forget_arg, JOBTABLE_FORGOTTEN, st);
                slot_free(t, i);
                t->n_tracked--;
                n++;
                continue;
            }
            if (t->forget)
                t->forget(t->forget_arg, JOBTABLE_UNREGISTERED, st);
            /* the registrant's labels go with the registration */
            free((void *)st->labels);
            st->labels = NULL;
        }
        if (st->sources) {
            if (!st->retired) {
                st->retired = 1;
                n++;
            }
        } else {
            if (t->forget)
                t->forget(t->forget_arg, JOBTABLE_FORGOTTEN, st);
            slot_free(t, i);
            t->n_remembered--;
            n++;
        }
    }
    return n;
}

void jobtable_set_forget_hook(struct jobtable *t,
                              void (*fn)(void *arg, enum jobtable_forget why,
                                         const struct job_state *st),
                              void *arg)
{
    t->forget = fn;
    t->forget_arg = arg;
}

int jobtable_restore_finished(struct jobtable *t, const struct api_profile *profile, const char *id,
                              const struct job_record *rec, double finished_at, double observed_at)
{
    struct job_state *st;
    uint32_t i;

    if (!profile || !id || !rec || !job_id_valid(id, strlen(id)))
        return -EINVAL;
    i = lookup(t, profile, id);
    if (i == UINT32_MAX) {
        if (t->n_remembered >= t->max_jobs)
            return -E2BIG;
        i = slot_alloc(t);
        if (i == UINT32_MAX)
            return -ENOMEM;
        t->slots[i].used = 1;
        st = &t->slots[i].st;
        memset(st, 0, sizeof(*st));
        memcpy(st->id, id, strlen(id) + 1);
        st->profile = profile;
        index_insert(t, i);
        t->n_remembered++;
    }
    st = &t->slots[i].st;
    st->rec = *rec;
    st->have_rec = 1;
    st->status = rec->status;
    st->result = JOB_RESULT_NONE; /* not polled by this process */
    st->fetch_success = 1;        /* its last poll, before the restart, got this answer */
    st->last_fetch = observed_at;
    st->observed_at = observed_at;
    st->finished = 1;
    st->finished_at = finished_at;
    st->in_cycle = 0;
    st->next_due = UINT64_MAX;
    return 0;
}

/* ---- the queue ---- */

int jobtable_post(struct jobtable *t, enum jobtable_op op, const struct api_profile *profile,
                  const char *id, unsigned source)
{
    return jobtable_post_ex(t, op, profile, id, source, NULL, NULL, NULL);
}

int jobtable_post_ex(struct jobtable *t, enum jobtable_op op, const struct api_profile *profile,
                     const char *id, unsigned source, const struct job_labels *labels,
                     jobtable_done_fn done, void *done_arg)
{
    struct change *c;
    size_t n;

    if (!profile || !id || (n = strlen(id), !job_id_valid(id, n)) || !(source & JOB_SRC_ALL) ||
        (labels && labels->n > JOB_LABELS_MAX))
        return -EINVAL;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->op = op;
    c->profile = profile;
    c->source = source;
    memcpy(c->id, id, n + 1);
    if (labels) {
        c->has_labels = 1;
        c->labels = *labels;
    }
    c->done = done;
    c->done_arg = done_arg;
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
        struct job_state *was = jobtable_find(t, c->profile, c->id, NULL);
        struct jobtable_outcome o = {.sources_before = was ? was->sources : 0};
        job_handle h;

        next = c->next;
        if (c->op == JOBTABLE_OP_ADD) {
            /* read before the add, which sets its sources (argument order is unspecified) */
            int remembered = was && !was->sources;
            o.rc = jobtable_add(t, c->profile, c->id, c->source, &h);
            (void)count_add(d, o.rc, remembered);
            if (o.rc >= 0 && c->has_labels && jobtable_set_labels(t, h, &c->labels) < 0) {
                /* the job is tracked without its labels: say so rather than half-register */
                if (!(o.sources_before & c->source))
                    jobtable_drop(t, c->profile, c->id, c->source);
                o.rc = -ENOMEM;
            }
        } else {
            o.rc = jobtable_drop(t, c->profile, c->id, c->source);
            if (o.rc)
                d->removed++;
        }
        o.seq = ++t->applied;
        if (c->done) {
            struct job_state *now = jobtable_find(t, c->profile, c->id, NULL);
            o.labels = now ? now->labels : NULL;
            c->done(c->done_arg, &o);
        }
        free(c);
        n++;
    }
    return n;
}

uint64_t jobtable_applied(const struct jobtable *t)
{
    return t->applied;
}

int jobtable_set_labels(struct jobtable *t, job_handle h, const struct job_labels *labels)
{
    struct job_state *st = jobtable_get(t, h);
    struct job_labels *copy = NULL;

    if (!st)
        return -ENOENT;
    if (labels && labels->n == 0)
        labels = NULL;
    if (joblabels_equal(st->labels, labels))
        return 0;
    if (labels) {
        copy = malloc(sizeof(*copy));
        if (!copy)
            return -ENOMEM;
        *copy = *labels;
    }
    free((void *)st->labels);
    st->labels = copy;
    return 1;
}
