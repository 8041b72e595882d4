/*
 * snapshot: publication of immutable per-cycle renderings (see snapshot.h).
 */
#include "snapshot.h"

#include "jobindex.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

struct snapshot_store {
    pthread_mutex_t lock; /* guards cur and the listener: held only to swap, take a reference
                             or read the listener */
    struct snapshot *cur;
    void (*listener)(void *arg, struct snapshot *s);
    void *listener_arg;
};

struct snapshot *snapshot_new(void)
{
    struct snapshot *s = calloc(1, sizeof(*s));

    if (s)
        atomic_init(&s->refs, 1);
    return s;
}

void snapshot_release(struct snapshot *s)
{
    int pg;

    if (!s)
        return;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (pg = 0; pg < SNAPSHOT_PAGES; pg++) {
        if (s->owner[pg]) {
            snapshot_release(s->owner[pg]); /* one level deep: owners own their pages */
        } else {
            free(s->page[pg].data);
            free(s->page[pg].iov);
        }
    }
    jobindex_unref(s->jobs);
    free(s);
}

void snapshot_borrow(struct snapshot *s, enum snapshot_page pg, struct snapshot *prev)
{
    struct snapshot *owner;

    if (!prev || (!prev->page[pg].data && !prev->page[pg].iov))
        return;
    owner = prev->owner[pg] ? prev->owner[pg] : prev;
    atomic_fetch_add_explicit(&owner->refs, 1, memory_order_relaxed);
    s->owner[pg] = owner;
    s->page[pg] = prev->page[pg];
}

struct snapshot_store *snapshot_store_new(void)
{
    struct snapshot_store *st = calloc(1, sizeof(*st));

    if (st && pthread_mutex_init(&st->lock, NULL) != 0) {
        free(st);
        return NULL;
    }
    return st;
}

void snapshot_store_free(struct snapshot_store *st)
{
    if (!st)
        return;
    snapshot_release(st->cur);
    pthread_mutex_destroy(&st->lock);
    free(st);
}

void snapshot_publish(struct snapshot_store *st, struct snapshot *s)
{
    void (*fn)(void *, struct snapshot *);
    struct snapshot *old;
    void *arg;

    pthread_mutex_lock(&st->lock);
    old = st->cur;
    st->cur = s;
    fn = st->listener;
    arg = st->listener_arg;
    if (fn && s)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed); /* for the call */
    pthread_mutex_unlock(&st->lock);
    snapshot_release(old);
    if (fn && s) {
        fn(arg, s);
        snapshot_release(s);
    }
}

void snapshot_store_listen(struct snapshot_store *st, void (*fn)(void *arg, struct snapshot *s),
                           void *arg)
{
    pthread_mutex_lock(&st->lock);
    st->listener = fn;
    st->listener_arg = arg;
    pthread_mutex_unlock(&st->lock);
}

struct snapshot *snapshot_acquire(struct snapshot_store *st)
{
    struct snapshot *s;

    pthread_mutex_lock(&st->lock);
    s = st->cur;
    if (s)
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&st->lock);
    return s;
}
