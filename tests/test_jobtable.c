/*
 * Tests for src/jobtable.c: membership, stable handles, sources, the memory of
 * finished jobs, the retention, the queue of changes from other threads (run
 * under TSan: label "threads"), and a randomized run against a reference model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobtable.h"

/* A second profile, distinct from profile_default() by address (the key is the pointer). */
static const enum job_status other_statuses[] = {JOB_INIT, JOB_RUNNING, JOB_SUCCESS, JOB_FAIL};
static const struct api_profile other_profile = {
    .name = "test-v2",
    .path_fmt = "/v2/%s/jobs/%s",
    .envelope = "job",
    .sub_jobs_at = SUBJOBS_IN_ENTITIES,
    .fail_text_key = "fail_reason",
    .statuses = other_statuses,
    .n_statuses = sizeof(other_statuses) / sizeof(other_statuses[0]),
};

#define P0 (profile_default())
#define P1 (&other_profile)

static struct jobtable *table(size_t max_jobs, double retention_s)
{
    struct jobtable *t = jobtable_new(max_jobs, retention_s, NULL, NULL);

    assert_non_null(t);
    return t;
}

/* The job (p, id), which must be there; its handle in *h (may be NULL). */
static struct job_state *must_find(struct jobtable *t, const struct api_profile *p, const char *id,
                                   job_handle *h)
{
    job_handle got = JOB_HANDLE_NONE;
    struct job_state *st = jobtable_find(t, p, id, &got);

    assert_non_null(st);
    assert_string_equal(st->id, id);
    assert_ptr_equal(st->profile, p);
    assert_true(got != JOB_HANDLE_NONE);
    assert_ptr_equal(jobtable_get(t, got), st);
    if (h)
        *h = got;
    return st;
}

/* Iterate: the IDs of the tracked jobs in order, joined by ','. Returns how many. */
static size_t walk(struct jobtable *t, char *out, size_t outsz)
{
    job_handle h = JOB_HANDLE_NONE;
    size_t n = 0, used = 0;

    out[0] = '\0';
    while ((h = jobtable_next(t, h)) != JOB_HANDLE_NONE) {
        struct job_state *st = jobtable_get(t, h);
        int w;
        assert_non_null(st);
        assert_true(st->sources != 0);
        w = snprintf(out + used, outsz - used, "%s%s", n ? "," : "", st->id);
        assert_true(w > 0 && (size_t)w < outsz - used);
        used += (size_t)w;
        n++;
    }
    return n;
}

static uint32_t slot_of(job_handle h)
{
    return (uint32_t)(h & 0xffffffffu);
}

/* ---- add / find / get / next ---- */

static void add_find_and_count(void **state)
{
    struct jobtable *t = table(16, 0);
    job_handle h1 = JOB_HANDLE_NONE, h2 = JOB_HANDLE_NONE, again = JOB_HANDLE_NONE;
    struct job_state *st;

    (void)state;
    assert_int_equal(jobtable_count(t), 0);
    assert_int_equal(jobtable_remembered(t), 0);
    assert_int_equal(jobtable_next(t, JOB_HANDLE_NONE), JOB_HANDLE_NONE);
    assert_null(jobtable_find(t, P0, "a", NULL));

    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FLAG, &h1), 1);
    assert_true(h1 != JOB_HANDLE_NONE);
    assert_int_equal(jobtable_count(t), 1);
    st = jobtable_get(t, h1);
    assert_non_null(st);
    assert_string_equal(st->id, "a");
    assert_ptr_equal(st->profile, P0);
    assert_int_equal(st->sources, JOB_SRC_FLAG);
    /* a new job: never fetched, due at once, not finished */
    assert_int_equal(st->status, JOB_UNKNOWN);
    assert_int_equal(st->result, JOB_RESULT_NONE);
    assert_int_equal(st->have_rec, 0);
    assert_int_equal(st->finished, 0);
    assert_int_equal(st->retired, 0);
    assert_int_equal(st->failures, 0);
    assert_int_equal(st->next_due, 0);
    assert_int_equal(st->in_flight, 0);
    assert_int_equal(st->in_cycle, 0);

    /* again: not added, the source bit is ORed in, same handle */
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FILE, &again), 0);
    assert_int_equal(again, h1);
    assert_int_equal(jobtable_get(t, h1)->sources, JOB_SRC_FLAG | JOB_SRC_FILE);
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FILE, NULL), 0);
    assert_int_equal(jobtable_get(t, h1)->sources, JOB_SRC_FLAG | JOB_SRC_FILE);
    assert_int_equal(jobtable_count(t), 1);

    assert_int_equal(jobtable_add(t, P0, "b-2_X", JOB_SRC_API, &h2), 1);
    assert_true(h2 != h1);
    assert_int_equal(jobtable_count(t), 2);
    assert_ptr_equal(must_find(t, P0, "a", &again), jobtable_get(t, h1));
    assert_int_equal(again, h1);
    assert_ptr_equal(must_find(t, P0, "b-2_X", &again), jobtable_get(t, h2));
    assert_int_equal(again, h2);
    assert_non_null(jobtable_find(t, P0, "a", NULL));
    /* case matters; a prefix is another ID */
    assert_null(jobtable_find(t, P0, "A", NULL));
    assert_null(jobtable_find(t, P0, "b-2_", NULL));
    assert_null(jobtable_find(t, P0, "b-2_XY", NULL));
    /* NULL arguments find nothing */
    assert_null(jobtable_find(t, NULL, "a", NULL));
    assert_null(jobtable_find(t, P0, NULL, NULL));
    jobtable_free(t);
    jobtable_free(NULL);
}

static void invalid_ids_are_refused(void **state)
{
    struct jobtable *t = table(16, 0);
    char id65[JOB_ID_MAX + 2], id64[JOB_ID_MAX + 1];
    job_handle h = JOB_HANDLE_NONE;

    (void)state;
    memset(id65, 'x', JOB_ID_MAX + 1);
    id65[JOB_ID_MAX + 1] = '\0';
    memset(id64, 'y', JOB_ID_MAX);
    id64[JOB_ID_MAX] = '\0';

    assert_int_equal(jobtable_add(t, P0, "", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, id65, JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, "a/b", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, "a b", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, " a", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, "a\n", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, "a.b", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, "..", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, "\xc3\xa9", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, NULL, JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, NULL, "a", JOB_SRC_FLAG, &h), -EINVAL);
    assert_int_equal(jobtable_add(t, P0, "a", 0, &h), -EINVAL); /* no source */
    assert_int_equal(h, JOB_HANDLE_NONE);
    assert_int_equal(jobtable_count(t), 0);
    assert_int_equal(jobtable_next(t, JOB_HANDLE_NONE), JOB_HANDLE_NONE);

    /* 64 characters of the whole alphabet is fine */
    assert_int_equal(jobtable_add(t, P0, id64, JOB_SRC_FLAG, &h), 1);
    assert_string_equal(jobtable_get(t, h)->id, id64);
    assert_int_equal(jobtable_add(t, P0, "AZaz09_-", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_count(t), 2);

    /* dropping what cannot be there is a no-op */
    assert_int_equal(jobtable_drop(t, P0, "", JOB_SRC_FLAG), 0);
    assert_int_equal(jobtable_drop(t, P0, NULL, JOB_SRC_FLAG), 0);
    assert_int_equal(jobtable_drop(t, NULL, id64, JOB_SRC_FLAG), 0);
    assert_int_equal(jobtable_drop(t, P0, "nope", JOB_SRC_FLAG), 0);
    assert_int_equal(jobtable_drop(t, P0, id64, 0), 0);
    assert_int_equal(jobtable_count(t), 2);
    jobtable_free(t);
}

static void max_jobs_is_enforced(void **state)
{
    struct jobtable *t = table(3, 0);
    job_handle h = JOB_HANDLE_NONE;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_add(t, P0, "b", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_add(t, P1, "a", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_add(t, P0, "c", JOB_SRC_FLAG, &h), -E2BIG);
    assert_int_equal(jobtable_add(t, P1, "c", JOB_SRC_API, NULL), -E2BIG);
    assert_int_equal(jobtable_count(t), 3);
    assert_null(jobtable_find(t, P0, "c", NULL));
    /* a job already tracked still takes another source when the table is full */
    assert_int_equal(jobtable_add(t, P0, "b", JOB_SRC_FILE, NULL), 0);
    assert_int_equal(must_find(t, P0, "b", NULL)->sources, JOB_SRC_FLAG | JOB_SRC_FILE);
    /* room again once one leaves */
    assert_int_equal(jobtable_drop(t, P0, "a", JOB_SRC_FLAG), 1);
    assert_int_equal(jobtable_count(t), 2);
    assert_int_equal(jobtable_add(t, P0, "c", JOB_SRC_FLAG, &h), 1);
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FLAG, NULL), -E2BIG);
    assert_int_equal(jobtable_count(t), 3);
    jobtable_free(t);

    /* max_jobs 0: nothing is ever tracked */
    t = table(0, 0);
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FLAG, NULL), -E2BIG);
    assert_int_equal(jobtable_count(t), 0);
    jobtable_free(t);
}

static void iteration_is_in_slot_order(void **state)
{
    struct jobtable *t = table(16, 0);
    char seen[256];
    job_handle hb = JOB_HANDLE_NONE, he = JOB_HANDLE_NONE, h;

    (void)state;
    assert_int_equal(walk(t, seen, sizeof(seen)), 0);
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_add(t, P0, "b", JOB_SRC_FLAG, &hb), 1);
    assert_int_equal(jobtable_add(t, P1, "c", JOB_SRC_FILE, NULL), 1);
    assert_int_equal(jobtable_add(t, P0, "d", JOB_SRC_API, NULL), 1);
    assert_int_equal(walk(t, seen, sizeof(seen)), 4);
    assert_string_equal(seen, "a,b,c,d");
    assert_int_equal(jobtable_count(t), 4);

    /* b leaves; the iteration skips its slot, and goes on from a dropped job's handle */
    assert_int_equal(jobtable_drop(t, P0, "b", JOB_SRC_FLAG), 1);
    assert_int_equal(walk(t, seen, sizeof(seen)), 3);
    assert_string_equal(seen, "a,c,d");
    h = jobtable_next(t, hb);
    assert_non_null(jobtable_get(t, h));
    assert_string_equal(jobtable_get(t, h)->id, "c");

    /* e takes b's free slot, so it is iterated where b was */
    assert_int_equal(jobtable_add(t, P0, "e", JOB_SRC_FLAG, &he), 1);
    assert_int_equal(slot_of(he), slot_of(hb));
    assert_int_equal(walk(t, seen, sizeof(seen)), 4);
    assert_string_equal(seen, "a,e,c,d");
    assert_int_equal(jobtable_count(t), 4);

    /* every tracked job's handle as found equals the one iterated */
    h = JOB_HANDLE_NONE;
    while ((h = jobtable_next(t, h)) != JOB_HANDLE_NONE) {
        job_handle f = JOB_HANDLE_NONE;
        const struct job_state *st = jobtable_get(t, h);
        must_find(t, st->profile, st->id, &f);
        assert_int_equal(f, h);
    }
    jobtable_free(t);
}

static void bad_handles_resolve_to_null(void **state)
{
    struct jobtable *t = table(16, 0);
    job_handle h = JOB_HANDLE_NONE;

    (void)state;
    assert_null(jobtable_get(t, JOB_HANDLE_NONE));
    assert_null(jobtable_get(t, 1)); /* slot 0, nothing there */
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FLAG, &h), 1);
    assert_non_null(jobtable_get(t, h));
    assert_null(jobtable_get(t, h + 1));                            /* slot 1: free */
    assert_null(jobtable_get(t, (h & 0xffffffffu) | (5ull << 32))); /* wrong generation */
    assert_null(jobtable_get(t, 0xffffffffu));                      /* far past the slots */
    assert_null(jobtable_get(t, ~(job_handle)0));
    assert_int_equal(jobtable_mark_finished(t, JOB_HANDLE_NONE, 1.0), -ENOENT);
    assert_int_equal(jobtable_mark_finished(t, h + 1, 1.0), -ENOENT);
    assert_int_equal(jobtable_next(t, ~(job_handle)0), JOB_HANDLE_NONE);
    jobtable_free(t);
}

/* ---- handles ---- */

static void handles_survive_growth(void **state)
{
    enum { N = 10000 };
    struct jobtable *t = table(N + 16, 0);
    job_handle keep = JOB_HANDLE_NONE, h;
    struct job_state *st;
    char id[32];
    size_t i, n;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "keep", JOB_SRC_FLAG, &keep), 1);
    st = jobtable_get(t, keep);
    st->failures = 7;
    st->next_due = 123456789u;
    st->in_cycle = 1;
    st->have_rec = 1;
    st->status = JOB_RUNNING;
    st->result = JOB_RESULT_OK;
    st->last_fetch = 1700000000.5;
    memcpy(st->rec.job_id, "keep", 5);
    memcpy(st->rec.job_type, "createServer", 13);
    st->rec.sub_jobs[JOB_RUNNING] = 3;

    /* 10k others, many dropped on the way: the slots and the index grow ~10 times */
    for (i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "job-%zu", i);
        assert_int_equal(jobtable_add(t, i % 2 ? P1 : P0, id, JOB_SRC_FILE, NULL), 1);
        if (i % 3 == 0)
            assert_int_equal(jobtable_drop(t, i % 2 ? P1 : P0, id, JOB_SRC_FILE), 1);
        if (i % 1000 == 0) {
            st = jobtable_get(t, keep);
            assert_non_null(st);
            assert_string_equal(st->id, "keep");
        }
    }
    n = N - (N + 2) / 3 + 1;
    assert_int_equal(jobtable_count(t), n);

    st = jobtable_get(t, keep);
    assert_non_null(st);
    assert_ptr_equal(st, jobtable_find(t, P0, "keep", &h));
    assert_int_equal(h, keep);
    assert_string_equal(st->id, "keep");
    assert_int_equal(st->sources, JOB_SRC_FLAG);
    assert_int_equal(st->failures, 7);
    assert_int_equal(st->next_due, 123456789u);
    assert_int_equal(st->in_cycle, 1);
    assert_int_equal(st->have_rec, 1);
    assert_int_equal(st->status, JOB_RUNNING);
    assert_int_equal(st->result, JOB_RESULT_OK);
    assert_true(st->last_fetch == 1700000000.5);
    assert_string_equal(st->rec.job_id, "keep");
    assert_string_equal(st->rec.job_type, "createServer");
    assert_int_equal(st->rec.sub_jobs[JOB_RUNNING], 3);

    /* every survivor is still found under its own key, and iterated once */
    for (i = 0; i < N; i++) {
        struct job_state *o;
        snprintf(id, sizeof(id), "job-%zu", i);
        o = jobtable_find(t, i % 2 ? P1 : P0, id, NULL);
        if (i % 3 == 0) {
            assert_null(o);
        } else {
            assert_non_null(o);
            assert_string_equal(o->id, id);
            assert_null(jobtable_find(t, i % 2 ? P0 : P1, id, NULL));
        }
    }
    h = JOB_HANDLE_NONE;
    i = 0;
    while ((h = jobtable_next(t, h)) != JOB_HANDLE_NONE)
        i++;
    assert_int_equal(i, n);
    jobtable_free(t);
}

static void handle_of_dropped_job_misses(void **state)
{
    struct jobtable *t = table(16, 0);
    job_handle hx = JOB_HANDLE_NONE, hy = JOB_HANDLE_NONE, hz = JOB_HANDLE_NONE;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "x", JOB_SRC_FLAG, &hx), 1);
    assert_int_equal(jobtable_add(t, P0, "other", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_drop(t, P0, "x", JOB_SRC_FLAG), 1);
    assert_null(jobtable_get(t, hx));
    assert_null(jobtable_find(t, P0, "x", NULL));
    assert_int_equal(jobtable_mark_finished(t, hx, 5.0), -ENOENT);

    /* y reuses x's slot: x's handle must not resolve to y */
    assert_int_equal(jobtable_add(t, P0, "y", JOB_SRC_FLAG, &hy), 1);
    assert_int_equal(slot_of(hy), slot_of(hx));
    assert_true(hy != hx);
    assert_null(jobtable_get(t, hx));
    assert_string_equal(jobtable_get(t, hy)->id, "y");
    assert_int_equal(jobtable_mark_finished(t, hx, 5.0), -ENOENT);
    assert_int_equal(jobtable_get(t, hy)->finished, 0);

    /* and x itself back: a new job with a new handle; the old one still misses */
    assert_int_equal(jobtable_drop(t, P0, "y", JOB_SRC_FLAG), 1);
    assert_null(jobtable_get(t, hy));
    assert_int_equal(jobtable_add(t, P0, "x", JOB_SRC_FLAG, &hz), 1);
    assert_int_equal(slot_of(hz), slot_of(hx));
    assert_true(hz != hx && hz != hy);
    assert_null(jobtable_get(t, hx));
    assert_null(jobtable_get(t, hy));
    assert_string_equal(jobtable_get(t, hz)->id, "x");
    jobtable_free(t);
}

/* ---- profiles ---- */

static void same_id_two_profiles_are_two_jobs(void **state)
{
    struct jobtable *t = table(16, 0);
    job_handle h0 = JOB_HANDLE_NONE, h1 = JOB_HANDLE_NONE;
    char seen[64];

    (void)state;
    assert_true(P0 != P1);
    assert_int_equal(jobtable_add(t, P0, "same", JOB_SRC_FLAG, &h0), 1);
    assert_int_equal(jobtable_add(t, P1, "same", JOB_SRC_FLAG, &h1), 1);
    assert_true(h0 != h1);
    assert_int_equal(jobtable_count(t), 2);
    assert_ptr_equal(must_find(t, P0, "same", NULL)->profile, P0);
    assert_ptr_equal(must_find(t, P1, "same", NULL)->profile, P1);
    assert_ptr_not_equal(jobtable_get(t, h0), jobtable_get(t, h1));
    assert_int_equal(walk(t, seen, sizeof(seen)), 2);
    assert_string_equal(seen, "same,same");

    /* state is per job */
    assert_int_equal(jobtable_mark_finished(t, h0, 10.0), 1);
    assert_int_equal(jobtable_get(t, h1)->finished, 0);

    /* dropping one (unfinished: forgotten) leaves the other */
    assert_int_equal(jobtable_drop(t, P1, "same", JOB_SRC_FLAG), 1);
    assert_null(jobtable_get(t, h1));
    assert_null(jobtable_find(t, P1, "same", NULL));
    assert_ptr_equal(must_find(t, P0, "same", NULL), jobtable_get(t, h0));
    assert_int_equal(jobtable_count(t), 1);
    jobtable_free(t);
}

/* ---- sources ---- */

static void job_leaves_with_its_last_source(void **state)
{
    struct jobtable *t = table(16, 0);
    job_handle h = JOB_HANDLE_NONE;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "j", JOB_SRC_FLAG, &h), 1);
    assert_int_equal(jobtable_add(t, P0, "j", JOB_SRC_FILE, NULL), 0);
    /* a source that does not list it: no change */
    assert_int_equal(jobtable_drop(t, P0, "j", JOB_SRC_API), 0);
    assert_int_equal(jobtable_get(t, h)->sources, JOB_SRC_FLAG | JOB_SRC_FILE);
    /* FILE drops it: FLAG still lists it */
    assert_int_equal(jobtable_drop(t, P0, "j", JOB_SRC_FILE), 0);
    assert_non_null(jobtable_get(t, h));
    assert_int_equal(jobtable_get(t, h)->sources, JOB_SRC_FLAG);
    assert_int_equal(jobtable_count(t), 1);
    assert_int_equal(jobtable_drop(t, P0, "j", JOB_SRC_FILE), 0); /* twice: no-op */
    assert_int_equal(jobtable_count(t), 1);
    /* the last one drops it: gone */
    assert_int_equal(jobtable_drop(t, P0, "j", JOB_SRC_FLAG), 1);
    assert_null(jobtable_get(t, h));
    assert_int_equal(jobtable_count(t), 0);
    assert_int_equal(jobtable_remembered(t), 0);
    assert_int_equal(jobtable_drop(t, P0, "j", JOB_SRC_FLAG), 0);

    /* dropping several sources at once */
    assert_int_equal(jobtable_add(t, P0, "k", JOB_SRC_FLAG | JOB_SRC_CONFIG, &h), 1);
    assert_int_equal(jobtable_get(t, h)->sources, JOB_SRC_FLAG | JOB_SRC_CONFIG);
    assert_int_equal(jobtable_drop(t, P0, "k", JOB_SRC_ALL), 1);
    assert_int_equal(jobtable_count(t), 0);
    jobtable_free(t);
}

static void sync_replaces_one_source(void **state)
{
    struct jobtable *t = table(16, 0);
    struct jobtable_delta d;
    char seen[256];
    const struct job_ref first[] = {{P0, "a"}, {P0, "b"}, {P0, "c"}, {P1, "a"}};
    const struct job_ref second[] = {
        {P0, "b"}, {P0, "c"},   {P0, "d"},  {P0, "bad/id"},
        {P0, ""},  {NULL, "e"}, {P0, NULL}, {P0, "d"}, /* a duplicate counts once */
    };

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "c", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_add(t, P0, "z", JOB_SRC_API, NULL), 1);

    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, first, 4, &d), 0);
    assert_int_equal(d.added, 3); /* a, b, P1:a; c was tracked already */
    assert_int_equal(d.returned, 0);
    assert_int_equal(d.removed, 0);
    assert_int_equal(d.refused, 0);
    assert_int_equal(d.invalid, 0);
    assert_int_equal(jobtable_count(t), 5);
    assert_int_equal(must_find(t, P0, "c", NULL)->sources, JOB_SRC_FLAG | JOB_SRC_FILE);
    assert_int_equal(must_find(t, P1, "a", NULL)->sources, JOB_SRC_FILE);

    /* the same list again changes nothing */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, first, 4, &d), 0);
    assert_int_equal(d.added + d.removed + d.returned + d.refused + d.invalid, 0);
    assert_int_equal(jobtable_count(t), 5);

    memset(&d, 0x5a, sizeof(d)); /* the sync zeroes it first */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, second, 8, &d), 0);
    assert_int_equal(d.added, 1);   /* d */
    assert_int_equal(d.removed, 2); /* a, P1:a */
    assert_int_equal(d.invalid, 4); /* "bad/id", "", NULL profile, NULL id */
    assert_int_equal(d.refused, 0);
    assert_int_equal(d.returned, 0);
    assert_null(jobtable_find(t, P0, "a", NULL));
    assert_null(jobtable_find(t, P1, "a", NULL));
    assert_int_equal(must_find(t, P0, "b", NULL)->sources, JOB_SRC_FILE);
    assert_int_equal(must_find(t, P0, "c", NULL)->sources, JOB_SRC_FLAG | JOB_SRC_FILE);
    assert_int_equal(must_find(t, P0, "d", NULL)->sources, JOB_SRC_FILE);
    assert_int_equal(must_find(t, P0, "z", NULL)->sources, JOB_SRC_API); /* untouched */
    assert_int_equal(jobtable_count(t), 4);
    assert_int_equal(walk(t, seen, sizeof(seen)), 4);

    /* another source's sync leaves FILE's jobs alone */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_CONFIG, NULL, 0, &d), 0);
    assert_int_equal(d.added + d.removed + d.returned + d.refused + d.invalid, 0);
    assert_int_equal(jobtable_count(t), 4);
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_CONFIG, second, 3, &d), 0);
    assert_int_equal(d.added, 0); /* b, c, d are all tracked already */
    assert_int_equal(d.removed, 0);
    assert_int_equal(must_find(t, P0, "d", NULL)->sources, JOB_SRC_FILE | JOB_SRC_CONFIG);
    assert_int_equal(must_find(t, P0, "z", NULL)->sources, JOB_SRC_API);
    assert_int_equal(jobtable_count(t), 4);
    jobtable_free(t);
}

static void sync_empties_a_source(void **state)
{
    struct jobtable *t = table(16, 0);
    struct jobtable_delta d;
    const struct job_ref refs[] = {{P0, "b"}, {P0, "c"}, {P0, "d"}};

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "c", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, refs, 3, &d), 0);
    assert_int_equal(d.added, 2);
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_CONFIG, refs, 1, &d), 0);
    assert_int_equal(d.added, 0); /* b is tracked already */
    assert_int_equal(must_find(t, P0, "b", NULL)->sources, JOB_SRC_FILE | JOB_SRC_CONFIG);

    /* FILE lists nothing now: d leaves; c (FLAG) and b (CONFIG) stay */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, NULL, 0, NULL), 0);
    assert_int_equal(jobtable_count(t), 2);
    assert_null(jobtable_find(t, P0, "d", NULL));
    assert_int_equal(must_find(t, P0, "b", NULL)->sources, JOB_SRC_CONFIG);
    assert_int_equal(must_find(t, P0, "c", NULL)->sources, JOB_SRC_FLAG);
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_CONFIG, NULL, 0, &d), 0);
    assert_int_equal(d.removed, 1);
    assert_int_equal(jobtable_count(t), 1);
    jobtable_free(t);
}

static void sync_refuses_past_max_jobs(void **state)
{
    struct jobtable *t = table(3, 0);
    struct jobtable_delta d;
    const struct job_ref five[] = {{P0, "a"}, {P0, "b"}, {P0, "x/y"},
                                   {P0, "c"}, {P0, "d"}, {P0, "e"}};
    const struct job_ref swap[] = {{P0, "d"}, {P0, "e"}, {P0, "a"}};

    (void)state;
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, five, 6, &d), 0);
    assert_int_equal(d.added, 3);
    assert_int_equal(d.refused, 2);
    assert_int_equal(d.invalid, 1);
    assert_int_equal(jobtable_count(t), 3);
    /* the first ones listed got in */
    must_find(t, P0, "a", NULL);
    must_find(t, P0, "b", NULL);
    must_find(t, P0, "c", NULL);
    assert_null(jobtable_find(t, P0, "d", NULL));

    /* the jobs it drops make room for the ones it adds in the same sync */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, swap, 3, &d), 0);
    assert_int_equal(d.removed, 2);
    assert_int_equal(d.added, 2);
    assert_int_equal(d.refused, 0);
    assert_int_equal(jobtable_count(t), 3);
    must_find(t, P0, "d", NULL);
    must_find(t, P0, "e", NULL);
    must_find(t, P0, "a", NULL);
    assert_null(jobtable_find(t, P0, "b", NULL));

    /* another source, table full: refused, FILE's jobs unharmed */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_CONFIG, five, 2, &d), 0);
    assert_int_equal(d.added, 0);
    assert_int_equal(d.refused, 1); /* b */
    assert_int_equal(must_find(t, P0, "a", NULL)->sources, JOB_SRC_FILE | JOB_SRC_CONFIG);
    jobtable_free(t);
}

/* ---- the memory of finished jobs ---- */

static void finish(struct jobtable *t, job_handle h, double at)
{
    struct job_state *st = jobtable_get(t, h);

    assert_non_null(st);
    assert_int_equal(jobtable_mark_finished(t, h, at), 1);
    st->have_rec = 1;
    st->status = JOB_SUCCESS;
    st->result = JOB_RESULT_OK;
    st->fetch_success = 1;
    st->observed_at = at;
    st->last_fetch = at;
    memcpy(st->rec.job_id, st->id, strlen(st->id) + 1);
    memcpy(st->rec.status_raw, "SUCCESS", 8);
    st->rec.status = JOB_SUCCESS;
    st->rec.has_end = 1;
    st->rec.end_time = at - 1;
    memcpy(st->rec.resource_id, "res-1", 6);
}

static void assert_finished_as_left(const struct job_state *st, double at)
{
    assert_int_equal(st->finished, 1);
    assert_true(st->finished_at == at);
    assert_int_equal(st->have_rec, 1);
    assert_int_equal(st->status, JOB_SUCCESS);
    assert_int_equal(st->result, JOB_RESULT_OK);
    assert_int_equal(st->fetch_success, 1);
    assert_true(st->observed_at == at);
    assert_string_equal(st->rec.job_id, st->id);
    assert_string_equal(st->rec.status_raw, "SUCCESS");
    assert_int_equal(st->rec.status, JOB_SUCCESS);
    assert_int_equal(st->rec.has_end, 1);
    assert_true(st->rec.end_time == at - 1);
    assert_string_equal(st->rec.resource_id, "res-1");
}

static void mark_finished_counts_once(void **state)
{
    struct jobtable *t = table(16, 0);
    job_handle h = JOB_HANDLE_NONE;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "j", JOB_SRC_FLAG, &h), 1);
    assert_int_equal(jobtable_mark_finished(t, h, 100.0), 1);
    assert_int_equal(jobtable_get(t, h)->finished, 1);
    assert_true(jobtable_get(t, h)->finished_at == 100.0);
    assert_int_equal(jobtable_mark_finished(t, h, 200.0), 0);
    assert_int_equal(jobtable_mark_finished(t, h, 50.0), 0);
    /* the first time counts: finished_at is not moved */
    assert_true(jobtable_get(t, h)->finished_at == 100.0);
    assert_int_equal(jobtable_get(t, h)->retired, 0);
    /* a finished job is still tracked, counted and iterated */
    assert_int_equal(jobtable_count(t), 1);
    assert_int_equal(jobtable_next(t, JOB_HANDLE_NONE), h);
    jobtable_free(t);
}

static void finished_job_is_remembered(void **state)
{
    struct jobtable *t = table(16, 0);
    job_handle h = JOB_HANDLE_NONE, h2 = JOB_HANDLE_NONE;
    struct job_state *st;
    char seen[64];

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "other", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_add(t, P0, "done", JOB_SRC_FILE, &h), 1);
    finish(t, h, 1000.0);
    jobtable_get(t, h)->in_cycle = 1;

    /* it leaves its only source: no longer counted nor iterated, but remembered */
    assert_int_equal(jobtable_drop(t, P0, "done", JOB_SRC_FILE), 1);
    assert_int_equal(jobtable_count(t), 1);
    assert_int_equal(jobtable_remembered(t), 1);
    assert_int_equal(walk(t, seen, sizeof(seen)), 1);
    assert_string_equal(seen, "other");
    /* still reachable, as a job no source lists, out of any cycle */
    st = jobtable_get(t, h);
    assert_non_null(st);
    assert_int_equal(st->sources, 0);
    assert_int_equal(st->in_cycle, 0);
    assert_ptr_equal(jobtable_find(t, P0, "done", NULL), st);
    assert_finished_as_left(st, 1000.0);
    /* a second drop of a remembered job changes nothing */
    assert_int_equal(jobtable_drop(t, P0, "done", JOB_SRC_FILE), 0);
    assert_int_equal(jobtable_remembered(t), 1);
    /* marking it again is a no-op */
    assert_int_equal(jobtable_mark_finished(t, h, 2000.0), 0);

    /* back: added, finished, its answer intact, the same handle */
    assert_int_equal(jobtable_add(t, P0, "done", JOB_SRC_API, &h2), 1);
    assert_int_equal(h2, h);
    assert_int_equal(jobtable_count(t), 2);
    assert_int_equal(jobtable_remembered(t), 0);
    st = jobtable_get(t, h);
    assert_int_equal(st->sources, JOB_SRC_API);
    assert_finished_as_left(st, 1000.0);
    assert_int_equal(walk(t, seen, sizeof(seen)), 2);
    assert_int_equal(jobtable_mark_finished(t, h, 3000.0), 0); /* not counted again */
    jobtable_free(t);
}

static void finished_job_returns_through_sync(void **state)
{
    struct jobtable *t = table(16, 0);
    struct jobtable_delta d;
    const struct job_ref refs[] = {{P0, "a"}, {P0, "b"}, {P1, "b"}};
    job_handle ha = JOB_HANDLE_NONE, hb = JOB_HANDLE_NONE;
    struct job_state *st;

    (void)state;
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, refs, 3, &d), 0);
    assert_int_equal(d.added, 3);
    must_find(t, P0, "a", &ha);
    must_find(t, P0, "b", &hb);
    finish(t, ha, 500.0);
    jobtable_get(t, hb)->failures = 4; /* b is still running */

    /* an editor truncates the jobs file ... */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, NULL, 0, &d), 0);
    assert_int_equal(d.removed, 3);
    assert_int_equal(jobtable_count(t), 0);
    assert_int_equal(jobtable_remembered(t), 1);
    assert_null(jobtable_get(t, hb));
    assert_int_equal(jobtable_next(t, JOB_HANDLE_NONE), JOB_HANDLE_NONE);

    /* ... and writes it back */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, refs, 3, &d), 0);
    assert_int_equal(d.added, 3);
    assert_int_equal(d.returned, 1);
    assert_int_equal(d.removed, 0);
    assert_int_equal(jobtable_count(t), 3);
    assert_int_equal(jobtable_remembered(t), 0);
    st = jobtable_get(t, ha);
    assert_non_null(st);
    assert_int_equal(st->sources, JOB_SRC_FILE);
    assert_finished_as_left(st, 500.0);
    /* the unfinished one comes back fresh */
    st = must_find(t, P0, "b", NULL);
    assert_int_equal(st->finished, 0);
    assert_int_equal(st->failures, 0);
    jobtable_free(t);
}

static void finished_job_returns_through_the_queue(void **state)
{
    struct jobtable *t = table(16, 0);
    struct jobtable_delta d;
    job_handle h = JOB_HANDLE_NONE;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_API, &h), 1);
    finish(t, h, 42.0);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_DROP, P0, "a", JOB_SRC_API), 0);
    assert_int_equal(jobtable_apply_posted(t, &d), 1);
    assert_int_equal(d.removed, 1);
    assert_int_equal(jobtable_remembered(t), 1);
    assert_int_equal(jobtable_count(t), 0);

    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "a", JOB_SRC_API), 0);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "b", JOB_SRC_API), 0);
    assert_int_equal(jobtable_apply_posted(t, &d), 2);
    assert_int_equal(d.added, 2);
    assert_int_equal(d.returned, 1);
    assert_int_equal(d.removed, 0);
    assert_int_equal(jobtable_remembered(t), 0);
    assert_finished_as_left(jobtable_get(t, h), 42.0);
    jobtable_free(t);
}

static void unfinished_job_is_forgotten(void **state)
{
    struct jobtable *t = table(16, 0);
    job_handle h = JOB_HANDLE_NONE, h2 = JOB_HANDLE_NONE;
    struct job_state *st;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "run", JOB_SRC_FILE, &h), 1);
    st = jobtable_get(t, h);
    st->have_rec = 1;
    st->status = JOB_RUNNING;
    st->result = JOB_RESULT_ERROR;
    st->failures = 3;
    st->next_due = 99;
    st->last_fetch = 5.0;
    memcpy(st->rec.job_id, "run", 4);
    assert_int_equal(jobtable_drop(t, P0, "run", JOB_SRC_FILE), 1);
    assert_int_equal(jobtable_count(t), 0);
    assert_int_equal(jobtable_remembered(t), 0);
    assert_null(jobtable_get(t, h));
    assert_null(jobtable_find(t, P0, "run", NULL));

    assert_int_equal(jobtable_add(t, P0, "run", JOB_SRC_FILE, &h2), 1);
    assert_true(h2 != h);
    st = jobtable_get(t, h2);
    assert_int_equal(st->finished, 0);
    assert_int_equal(st->have_rec, 0);
    assert_int_equal(st->status, JOB_UNKNOWN);
    assert_int_equal(st->result, JOB_RESULT_NONE);
    assert_int_equal(st->failures, 0);
    assert_int_equal(st->next_due, 0);
    assert_true(st->last_fetch == 0);
    assert_string_equal(st->rec.job_id, "");
    jobtable_free(t);
}

static void remembered_job_waits_for_room(void **state)
{
    struct jobtable *t = table(2, 0);
    job_handle h = JOB_HANDLE_NONE, got = JOB_HANDLE_NONE;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "done", JOB_SRC_FILE, &h), 1);
    finish(t, h, 1.0);
    assert_int_equal(jobtable_drop(t, P0, "done", JOB_SRC_FILE), 1);
    assert_int_equal(jobtable_add(t, P0, "x", JOB_SRC_FLAG, NULL), 1);
    assert_int_equal(jobtable_add(t, P0, "y", JOB_SRC_FLAG, NULL), 1);
    /* full: the remembered job cannot come back, and stays remembered */
    assert_int_equal(jobtable_add(t, P0, "done", JOB_SRC_FILE, &got), -E2BIG);
    assert_int_equal(jobtable_count(t), 2);
    assert_int_equal(jobtable_remembered(t), 1);
    assert_int_equal(jobtable_get(t, h)->sources, 0);
    assert_int_equal(jobtable_drop(t, P0, "x", JOB_SRC_FLAG), 1);
    assert_int_equal(jobtable_add(t, P0, "done", JOB_SRC_FILE, &got), 1);
    assert_int_equal(got, h);
    assert_finished_as_left(jobtable_get(t, h), 1.0);
    assert_int_equal(jobtable_remembered(t), 0);
    jobtable_free(t);
}

/* ---- retention ---- */

static void retention_retires_and_forgets(void **state)
{
    struct jobtable *t = table(16, 100.0);
    job_handle ha = JOB_HANDLE_NONE, hb = JOB_HANDLE_NONE, hc = JOB_HANDLE_NONE, hn;
    char seen[64];

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FLAG, &ha), 1);  /* stays listed */
    assert_int_equal(jobtable_add(t, P0, "b", JOB_SRC_FILE, &hb), 1);  /* leaves */
    assert_int_equal(jobtable_add(t, P0, "c", JOB_SRC_FILE, &hc), 1);  /* finishes later */
    assert_int_equal(jobtable_add(t, P0, "r", JOB_SRC_FILE, NULL), 1); /* runs */
    finish(t, ha, 1000.0);
    finish(t, hb, 1000.0);
    finish(t, hc, 1050.0);
    assert_int_equal(jobtable_drop(t, P0, "b", JOB_SRC_FILE), 1);
    assert_int_equal(jobtable_remembered(t), 1);

    assert_int_equal(jobtable_expire(t, 1000.0), 0);
    assert_int_equal(jobtable_expire(t, 1099.9), 0);
    assert_int_equal(jobtable_get(t, ha)->retired, 0);
    assert_int_equal(jobtable_remembered(t), 1);

    /* exactly the retention after: a is retired, b forgotten, c not yet */
    assert_int_equal(jobtable_expire(t, 1100.0), 2);
    assert_int_equal(jobtable_get(t, ha)->retired, 1);
    assert_int_equal(jobtable_get(t, ha)->finished, 1);
    assert_int_equal(jobtable_get(t, hc)->retired, 0);
    assert_int_equal(jobtable_count(t), 3); /* a still tracked, counted, iterated */
    assert_int_equal(walk(t, seen, sizeof(seen)), 3);
    assert_string_equal(seen, "a,c,r");
    assert_int_equal(jobtable_remembered(t), 0);
    assert_null(jobtable_get(t, hb));
    assert_null(jobtable_find(t, P0, "b", NULL));
    /* a retired job is not counted again */
    assert_int_equal(jobtable_expire(t, 1100.0), 0);
    assert_int_equal(jobtable_expire(t, 1149.0), 0);
    assert_int_equal(jobtable_expire(t, 1150.0), 1); /* c */
    assert_int_equal(jobtable_get(t, hc)->retired, 1);
    assert_int_equal(jobtable_expire(t, 1e9), 0);

    /* b, forgotten, comes back as a new job */
    assert_int_equal(jobtable_add(t, P0, "b", JOB_SRC_FILE, &hn), 1);
    assert_true(hn != hb);
    assert_int_equal(jobtable_get(t, hn)->finished, 0);
    assert_int_equal(jobtable_get(t, hn)->retired, 0);
    assert_int_equal(jobtable_get(t, hn)->have_rec, 0);

    /* a retired job that leaves is forgotten at the next expiry */
    assert_int_equal(jobtable_drop(t, P0, "a", JOB_SRC_FLAG), 1);
    assert_int_equal(jobtable_remembered(t), 1);
    assert_int_equal(jobtable_get(t, ha)->retired, 1);
    assert_int_equal(jobtable_expire(t, 1200.0), 1);
    assert_int_equal(jobtable_remembered(t), 0);
    assert_null(jobtable_get(t, ha));
    /* the running one never expires */
    assert_int_equal(must_find(t, P0, "r", NULL)->retired, 0);
    jobtable_free(t);
}

/* What the forget hook heard, as "F:id" / "U:id" joined by commas. */
struct heard {
    char text[256];
};

static void hear(void *arg, enum jobtable_forget why, const struct job_state *st)
{
    struct heard *h = arg;
    size_t used = strlen(h->text);

    snprintf(h->text + used, sizeof(h->text) - used, "%s%c:%s", used ? "," : "",
             why == JOBTABLE_FORGOTTEN ? 'F' : 'U', st->id);
}

/* The retention ends registrations; the hook hears every job forgotten and every registration
 * ended, which is what a durable store mirrors. */
static void retention_ends_registrations_and_tells_the_hook(void **state)
{
    struct jobtable *t = table(2, 100.0);
    job_handle h1, h2, h3, h4;
    struct heard heard = {""};

    (void)state;
    jobtable_set_forget_hook(t, hear, &heard);
    assert_int_equal(jobtable_add(t, P0, "api", JOB_SRC_API, &h1), 1);
    assert_int_equal(jobtable_add(t, P0, "both", JOB_SRC_API, &h2), 1);
    assert_int_equal(jobtable_add(t, P0, "both", JOB_SRC_FILE, &h2), 0);
    finish(t, h1, 1000.0);
    finish(t, h2, 1000.0);
    assert_int_equal(jobtable_expire(t, 1099.0), 0);
    assert_string_equal(heard.text, "");
    assert_int_equal(jobtable_expire(t, 1100.0), 2);
    assert_string_equal(heard.text, "F:api,U:both");
    assert_null(jobtable_find(t, P0, "api", NULL));
    assert_int_equal(must_find(t, P0, "both", NULL)->sources, JOB_SRC_FILE);
    assert_int_equal(must_find(t, P0, "both", NULL)->retired, 1);
    assert_int_equal(jobtable_count(t), 1);

    /* the bound on remembered jobs tells the hook too */
    heard.text[0] = '\0';
    assert_int_equal(jobtable_add(t, P0, "r1", JOB_SRC_FILE, &h3), 1);
    assert_int_equal(jobtable_add(t, P1, "r2", JOB_SRC_FILE, &h4), -E2BIG); /* max 2 tracked */
    finish(t, h3, 1500.0);
    assert_int_equal(jobtable_drop(t, P0, "r1", JOB_SRC_FILE), 1);
    assert_int_equal(jobtable_drop(t, P0, "both", JOB_SRC_FILE), 1);
    assert_int_equal(jobtable_remembered(t), 2);
    assert_int_equal(jobtable_restore_finished(t, P1, "r3", &jobtable_get(t, h3)->rec, 1400, 1400),
                     -E2BIG);
    assert_string_equal(heard.text, "");
    assert_int_equal(jobtable_add(t, P1, "x", JOB_SRC_FILE, &h4), 1);
    finish(t, h4, 1600.0);
    assert_int_equal(jobtable_drop(t, P1, "x", JOB_SRC_FILE), 1); /* 3 remembered: oldest goes */
    assert_string_equal(heard.text, "F:both");
    jobtable_free(t);
}

/* Finished jobs a store kept come back finished: tracked ones take the state, others are
 * remembered until a source lists them. */
static void restore_finished_jobs(void **state)
{
    struct jobtable *t = table(8, 100.0);
    struct job_record rec;
    struct job_state *st;
    job_handle h;

    (void)state;
    memset(&rec, 0, sizeof(rec));
    memcpy(rec.job_id, "listed", 7);
    memcpy(rec.job_type, "createELB", 10);
    rec.status = JOB_FAIL;
    assert_int_equal(jobtable_add(t, P0, "listed", JOB_SRC_FILE, &h), 1);
    assert_int_equal(jobtable_restore_finished(t, P0, "listed", &rec, 500.0, 501.0), 0);
    st = jobtable_get(t, h);
    assert_true(st->finished && st->have_rec && st->fetch_success);
    assert_int_equal(st->status, JOB_FAIL);
    assert_true(st->finished_at == 500.0 && st->observed_at == 501.0 && st->last_fetch == 501.0);
    assert_string_equal(st->rec.job_type, "createELB");
    assert_int_equal(jobtable_mark_finished(t, h, 600.0), 0); /* not counted again */

    assert_int_equal(jobtable_restore_finished(t, P0, "later", &rec, 550.0, 551.0), 0);
    assert_int_equal(jobtable_count(t), 1);
    assert_int_equal(jobtable_remembered(t), 1);
    assert_int_equal(jobtable_add(t, P0, "later", JOB_SRC_FILE, &h), 1);
    assert_int_equal(jobtable_get(t, h)->finished, 1);
    assert_int_equal(jobtable_remembered(t), 0);
    assert_int_equal(jobtable_restore_finished(t, P0, "bad id", &rec, 1, 1), -EINVAL);
    assert_int_equal(jobtable_restore_finished(t, NULL, "x", &rec, 1, 1), -EINVAL);
    /* the retention counts from the stored time */
    assert_int_equal(jobtable_expire(t, 600.0), 1);
    assert_int_equal(jobtable_get(t, h)->retired, 0);
    assert_int_equal(must_find(t, P0, "listed", NULL)->retired, 1);
    jobtable_free(t);
}

static void retention_zero_keeps_everything(void **state)
{
    struct jobtable *t;
    job_handle ha = JOB_HANDLE_NONE, hb = JOB_HANDLE_NONE;
    double retentions[] = {0.0, -5.0};
    size_t k;

    (void)state;
    for (k = 0; k < 2; k++) {
        t = table(16, retentions[k]);
        assert_int_equal(jobtable_add(t, P0, "a", JOB_SRC_FLAG, &ha), 1);
        assert_int_equal(jobtable_add(t, P0, "b", JOB_SRC_FILE, &hb), 1);
        finish(t, ha, 1.0);
        finish(t, hb, 1.0);
        assert_int_equal(jobtable_drop(t, P0, "b", JOB_SRC_FILE), 1);
        assert_int_equal(jobtable_expire(t, 1.0), 0);
        assert_int_equal(jobtable_expire(t, 1e12), 0);
        assert_int_equal(jobtable_get(t, ha)->retired, 0);
        assert_int_equal(jobtable_remembered(t), 1);
        assert_non_null(jobtable_get(t, hb));
        jobtable_free(t);
    }
}

static void remembered_are_bounded_by_max_jobs(void **state)
{
    struct jobtable *t = table(3, 0);
    const char *ids[] = {"a", "b", "c"};
    const double at[] = {30.0, 10.0, 20.0};
    job_handle h[3], hd = JOB_HANDLE_NONE, hb = JOB_HANDLE_NONE;
    size_t i;

    (void)state;
    for (i = 0; i < 3; i++) {
        assert_int_equal(jobtable_add(t, P0, ids[i], JOB_SRC_FILE, &h[i]), 1);
        finish(t, h[i], at[i]);
    }
    for (i = 0; i < 3; i++)
        assert_int_equal(jobtable_drop(t, P0, ids[i], JOB_SRC_FILE), 1);
    assert_int_equal(jobtable_remembered(t), 3);
    assert_int_equal(jobtable_count(t), 0);

    /* a fourth: the one that finished first (b) goes */
    assert_int_equal(jobtable_add(t, P0, "d", JOB_SRC_FILE, &hd), 1);
    finish(t, hd, 40.0);
    assert_int_equal(jobtable_drop(t, P0, "d", JOB_SRC_FILE), 1);
    assert_int_equal(jobtable_remembered(t), 3);
    assert_null(jobtable_get(t, h[1]));
    assert_null(jobtable_find(t, P0, "b", NULL));
    assert_non_null(jobtable_get(t, h[0]));
    assert_non_null(jobtable_get(t, h[2]));
    assert_non_null(jobtable_get(t, hd));

    /* a fifth that finished before all of them is the oldest itself */
    assert_int_equal(jobtable_add(t, P0, "e", JOB_SRC_FILE, NULL), 1);
    {
        job_handle he = JOB_HANDLE_NONE;
        must_find(t, P0, "e", &he);
        assert_int_equal(jobtable_mark_finished(t, he, 5.0), 1);
        assert_int_equal(jobtable_drop(t, P0, "e", JOB_SRC_FILE), 1);
        assert_null(jobtable_get(t, he));
    }
    assert_int_equal(jobtable_remembered(t), 3);

    /* b comes back as a new job */
    assert_int_equal(jobtable_add(t, P0, "b", JOB_SRC_FILE, &hb), 1);
    assert_int_equal(jobtable_get(t, hb)->finished, 0);
    /* a remembered one comes back as it was */
    assert_int_equal(jobtable_add(t, P0, "c", JOB_SRC_FILE, NULL), 1);
    assert_finished_as_left(must_find(t, P0, "c", NULL), 20.0);
    assert_int_equal(jobtable_remembered(t), 2);
    jobtable_free(t);
}

/*
 * A sync that drops a finished job (pushing the memory past max_jobs) and
 * relists a remembered one must bring the latter back as it was, not forget
 * it to make room and then add it as a new job.
 */
static void sync_relisting_remembered_job_at_the_bound(void **state)
{
    struct jobtable *t = table(2, 0);
    struct jobtable_delta d;
    const struct job_ref ab[] = {{P0, "a"}, {P0, "b"}};
    const struct job_ref c[] = {{P0, "c"}};
    const struct job_ref a[] = {{P0, "a"}};
    job_handle h = JOB_HANDLE_NONE;

    (void)state;
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, ab, 2, &d), 0);
    must_find(t, P0, "a", &h);
    finish(t, h, 10.0);
    must_find(t, P0, "b", &h);
    finish(t, h, 20.0);
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, c, 1, &d), 0);
    assert_int_equal(jobtable_remembered(t), 2); /* a, b: at the bound */
    must_find(t, P0, "c", &h);
    finish(t, h, 30.0);

    /* the file now lists a instead of c */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, a, 1, &d), 0);
    assert_int_equal(d.added, 1);
    assert_int_equal(d.removed, 1);
    assert_int_equal(d.returned, 1);
    assert_finished_as_left(must_find(t, P0, "a", NULL), 10.0);
    assert_int_equal(jobtable_count(t), 1);
    /* a came back, so b and c fit in the memory */
    assert_int_equal(jobtable_remembered(t), 2);
    assert_int_equal(must_find(t, P0, "b", NULL)->sources, 0);
    assert_int_equal(must_find(t, P0, "c", NULL)->sources, 0);

    /* a sync still bounds the memory: a leaves again, and as the oldest it goes */
    assert_int_equal(jobtable_sync_source(t, JOB_SRC_FILE, NULL, 0, &d), 0);
    assert_int_equal(d.removed, 1);
    assert_int_equal(jobtable_count(t), 0);
    assert_int_equal(jobtable_remembered(t), 2);
    assert_null(jobtable_find(t, P0, "a", NULL));
    must_find(t, P0, "b", NULL);
    must_find(t, P0, "c", NULL);
    jobtable_free(t);
}

/* ---- the queue ---- */

static void count_wake(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

static void post_validates_and_bounds(void **state)
{
    atomic_int wakes;
    struct jobtable *t;
    struct jobtable_delta d;
    char id65[JOB_ID_MAX + 2];

    (void)state;
    atomic_init(&wakes, 0);
    t = jobtable_new(3, 0, count_wake, &wakes);
    assert_non_null(t);
    memset(id65, 'x', JOB_ID_MAX + 1);
    id65[JOB_ID_MAX + 1] = '\0';

    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "", JOB_SRC_API), -EINVAL);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, id65, JOB_SRC_API), -EINVAL);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "a/b", JOB_SRC_API), -EINVAL);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "a b", JOB_SRC_API), -EINVAL);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, NULL, JOB_SRC_API), -EINVAL);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, NULL, "a", JOB_SRC_API), -EINVAL);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_DROP, P0, "a/b", JOB_SRC_API), -EINVAL);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "a", 0), -EINVAL);
    assert_int_equal(atomic_load(&wakes), 0);
    assert_int_equal(jobtable_apply_posted(t, &d), 0);
    assert_int_equal(d.added + d.removed + d.returned + d.refused + d.invalid, 0);

    /* max_jobs (3) changes queued: the next one must wait */
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "a", JOB_SRC_API), 0);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "b", JOB_SRC_API), 0);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_DROP, P0, "a", JOB_SRC_API), 0);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "c", JOB_SRC_API), -EAGAIN);
    assert_int_equal(atomic_load(&wakes), 3);
    /* nothing is applied until the owner asks */
    assert_int_equal(jobtable_count(t), 0);
    assert_int_equal(jobtable_apply_posted(t, &d), 3);
    assert_int_equal(d.added, 2);
    assert_int_equal(d.removed, 1);
    assert_int_equal(jobtable_count(t), 1);
    assert_null(jobtable_find(t, P0, "a", NULL)); /* in order: added, then dropped */
    must_find(t, P0, "b", NULL);
    assert_int_equal(jobtable_apply_posted(t, NULL), 0);

    /* room in the queue again; the table's own limits apply when applied */
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "c", JOB_SRC_API), 0);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "d", JOB_SRC_API), 0);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "e", JOB_SRC_API), 0);
    assert_int_equal(jobtable_apply_posted(t, &d), 3);
    assert_int_equal(d.added, 2);
    assert_int_equal(d.refused, 1);
    assert_int_equal(jobtable_count(t), 3);
    assert_int_equal(atomic_load(&wakes), 6);

    /* changes still queued are freed with the table (ASan checks) */
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_DROP, P0, "b", JOB_SRC_API), 0);
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "f", JOB_SRC_API), 0);
    jobtable_free(t);
}

static void post_copies_the_id(void **state)
{
    struct jobtable *t = table(4, 0);
    char id[8] = "copied";

    (void)state;
    assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P1, id, JOB_SRC_CONFIG), 0);
    memset(id, 'z', sizeof(id) - 1);
    assert_int_equal(jobtable_apply_posted(t, NULL), 1);
    assert_int_equal(must_find(t, P1, "copied", NULL)->sources, JOB_SRC_CONFIG);
    jobtable_free(t);
}

/* What done callbacks heard, in order. */
struct outcomes {
    int n;
    struct jobtable_outcome o[8];
};

static void note_outcome(void *arg, const struct jobtable_outcome *o)
{
    struct outcomes *r = arg;

    assert_true(r->n < 8);
    r->o[r->n++] = *o;
}

static struct job_labels two_labels(const char *team)
{
    struct job_labels l;
    char err[128];

    memset(&l, 0, sizeof(l));
    assert_int_equal(joblabels_add(&l, "team", 4, team, strlen(team), err, sizeof(err)), 0);
    assert_int_equal(joblabels_add(&l, "env", 3, "prod", 4, err, sizeof(err)), 0);
    return l;
}

/*
 * A posted change tells its poster what it did once applied: new, already
 * there (with the sources it had), refused past max_jobs; labels are set with
 * the add and go with the registration.
 */
static void post_ex_reports_outcome_and_sets_labels(void **state)
{
    struct jobtable *t = table(2, 0);
    struct job_labels l = two_labels("net"), l2 = two_labels("db");
    struct outcomes r = {0};
    struct job_state *st;
    job_handle h;

    (void)state;
    assert_int_equal(jobtable_add(t, P0, "f", JOB_SRC_FILE, NULL), 1);
    assert_int_equal(
        jobtable_post_ex(t, JOBTABLE_OP_ADD, P0, "a", JOB_SRC_API, &l, note_outcome, &r), 0);
    assert_int_equal(
        jobtable_post_ex(t, JOBTABLE_OP_ADD, P0, "a", JOB_SRC_API, &l2, note_outcome, &r), 0);
    assert_int_equal(r.n, 0);                            /* nothing before the owner applies */
    assert_int_equal(jobtable_apply_posted(t, NULL), 2); /* the queue holds max_jobs changes */
    assert_int_equal(
        jobtable_post_ex(t, JOBTABLE_OP_ADD, P0, "b", JOB_SRC_API, NULL, note_outcome, &r), 0);
    assert_int_equal(
        jobtable_post_ex(t, JOBTABLE_OP_ADD, P0, "f", JOB_SRC_API, NULL, note_outcome, &r), 0);
    assert_int_equal(jobtable_apply_posted(t, NULL), 2);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.o[0].rc, 1);
    assert_int_equal(r.o[0].sources_before, 0);
    assert_int_equal(r.o[1].rc, 0);
    assert_int_equal(r.o[1].sources_before, JOB_SRC_API);
    assert_int_equal(r.o[2].rc, -E2BIG); /* "f" and "a" fill the table */
    assert_int_equal(r.o[3].rc, 0);
    assert_int_equal(r.o[3].sources_before, JOB_SRC_FILE);
    assert_true(r.o[0].seq < r.o[1].seq && r.o[2].seq < r.o[3].seq);
    assert_int_equal(r.o[3].seq, jobtable_applied(t));

    st = must_find(t, P0, "a", &h);
    assert_non_null(st->labels);
    assert_true(joblabels_equal(st->labels, &l2)); /* the second registration's labels won */
    assert_null(must_find(t, P0, "f", NULL)->labels);
    assert_int_equal(jobtable_set_labels(t, h, &l2), 0);
    assert_int_equal(jobtable_set_labels(t, h, &l), 1);

    /* forgetting the registration takes the labels; "f" stays for its file */
    assert_int_equal(jobtable_set_labels(t, must_find(t, P0, "f", &h) ? h : 0, &l), 1);
    assert_int_equal(
        jobtable_post_ex(t, JOBTABLE_OP_DROP, P0, "f", JOB_SRC_API, NULL, note_outcome, &r), 0);
    assert_int_equal(
        jobtable_post_ex(t, JOBTABLE_OP_DROP, P0, "a", JOB_SRC_API, NULL, note_outcome, &r), 0);
    assert_int_equal(jobtable_apply_posted(t, NULL), 2);
    assert_int_equal(
        jobtable_post_ex(t, JOBTABLE_OP_DROP, P0, "zz", JOB_SRC_API, NULL, note_outcome, &r), 0);
    assert_int_equal(jobtable_apply_posted(t, NULL), 1);
    assert_int_equal(r.o[4].rc, 0);
    assert_int_equal(r.o[4].sources_before, JOB_SRC_FILE | JOB_SRC_API);
    assert_null(must_find(t, P0, "f", NULL)->labels);
    assert_int_equal(r.o[5].rc, 1);
    assert_null(jobtable_find(t, P0, "a", NULL));
    assert_int_equal(r.o[6].rc, 0);
    assert_int_equal(r.o[6].sources_before, 0);

    /* a change still queued when the table goes is cancelled, never lost silently */
    assert_int_equal(
        jobtable_post_ex(t, JOBTABLE_OP_ADD, P0, "c", JOB_SRC_API, &l, note_outcome, &r), 0);
    jobtable_free(t);
    assert_int_equal(r.n, 8);
    assert_int_equal(r.o[7].rc, -ECANCELED);
}

enum { POSTERS = 4, POSTS = 1000 };

struct post_race {
    struct jobtable *t;
    atomic_int wakes;
    atomic_int done;
    atomic_int errors;
    atomic_int drained; /* the owner applied changes while posters were running */
};

struct poster_arg {
    struct post_race *r;
    int idx;
};

static void *poster(void *arg)
{
    const struct poster_arg *a = arg;
    struct post_race *r = a->r;
    const int *idx = &a->idx;
    static const unsigned src[POSTERS] = {JOB_SRC_FLAG, JOB_SRC_FILE, JOB_SRC_CONFIG, JOB_SRC_API};
    const struct api_profile *p;
    char id[32];
    int i, rc;

    for (i = 0; i < POSTS; i++) {
        /* half-way, wait for the owner to drain once: posting and draining do overlap */
        if (i == POSTS / 2)
            while (!atomic_load(&r->drained))
                sched_yield();
        /* the last post of each thread names one job all of them share */
        if (i == POSTS - 1) {
            p = P0;
            snprintf(id, sizeof(id), "shared");
        } else {
            p = *idx % 2 ? P1 : P0;
            snprintf(id, sizeof(id), "t%d-%d", *idx, i);
        }
        while ((rc = jobtable_post(r->t, JOBTABLE_OP_ADD, p, id, src[*idx])) == -EAGAIN)
            sched_yield();
        if (rc != 0)
            atomic_fetch_add(&r->errors, 1);
        if (jobtable_post(r->t, JOBTABLE_OP_ADD, P0, "bad id", JOB_SRC_API) != -EINVAL)
            atomic_fetch_add(&r->errors, 1);
    }
    atomic_fetch_add(&r->done, 1);
    return NULL;
}

static void posts_from_many_threads(void **state)
{
    struct post_race *r = calloc(1, sizeof(*r));
    pthread_t th[POSTERS];
    struct poster_arg args[POSTERS];
    struct jobtable_delta d;
    size_t applied = 0, added = 0, removed = 0, refused = 0, n;
    job_handle h = JOB_HANDLE_NONE;
    char id[32];
    int k, i;

    (void)state;
    assert_non_null(r);
    atomic_init(&r->wakes, 0);
    atomic_init(&r->done, 0);
    atomic_init(&r->errors, 0);
    atomic_init(&r->drained, 0);
    /* room for every job; the queue bound (max_jobs) is not what this tests */
    r->t = jobtable_new(POSTERS * POSTS, 0, count_wake, &r->wakes);
    assert_non_null(r->t);
    for (k = 0; k < POSTERS; k++) {
        args[k].r = r;
        args[k].idx = k;
        assert_int_equal(pthread_create(&th[k], NULL, poster, &args[k]), 0);
    }
    /* the owner drains while they post, reading the table between rounds */
    while (atomic_load(&r->done) < POSTERS) {
        n = jobtable_apply_posted(r->t, &d);
        applied += n;
        added += d.added;
        removed += d.removed;
        refused += d.refused + d.invalid;
        assert_int_equal(d.returned, 0);
        assert_true(jobtable_count(r->t) <= applied);
        if (n)
            atomic_store(&r->drained, 1);
        else
            sched_yield();
    }
    for (k = 0; k < POSTERS; k++)
        assert_int_equal(pthread_join(th[k], NULL), 0);
    applied += jobtable_apply_posted(r->t, &d);
    added += d.added;
    removed += d.removed;
    refused += d.refused + d.invalid;
    assert_int_equal(jobtable_apply_posted(r->t, NULL), 0);

    assert_int_equal(atomic_load(&r->errors), 0);
    assert_int_equal(atomic_load(&r->wakes), POSTERS * POSTS);
    assert_int_equal(applied, POSTERS * POSTS);
    /* every add applied once: the shared job is one job listed by all four sources */
    assert_int_equal(added, POSTERS * (POSTS - 1) + 1);
    assert_int_equal(removed, 0);
    assert_int_equal(refused, 0);
    assert_int_equal(jobtable_count(r->t), POSTERS * (POSTS - 1) + 1);
    assert_int_equal(must_find(r->t, P0, "shared", NULL)->sources, JOB_SRC_ALL);
    for (k = 0; k < POSTERS; k++)
        for (i = 0; i < POSTS - 1; i++) {
            snprintf(id, sizeof(id), "t%d-%d", k, i);
            must_find(r->t, k % 2 ? P1 : P0, id, NULL);
        }
    n = 0;
    while ((h = jobtable_next(r->t, h)) != JOB_HANDLE_NONE)
        n++;
    assert_int_equal(n, POSTERS * (POSTS - 1) + 1);
    jobtable_free(r->t);
    free(r);
}

/* ---- a randomized run against a reference model ---- */

enum { M_IDS = 12, M_KEYS = 2 * M_IDS, M_MAX = 8, M_STEPS = 6000 };

struct mjob {
    int exists; /* tracked or remembered */
    unsigned sources;
    int finished, retired;
    double finished_at;
};

struct model {
    struct mjob j[M_KEYS];
    size_t tracked, remembered;
    double retention;
};

static const struct api_profile *m_profile(int k)
{
    return k < M_IDS ? P0 : P1;
}

static const char *m_id(int k)
{
    static const char *const ids[M_IDS] = {"j00", "j01", "j02", "j03", "j04", "j05",
                                           "j06", "j07", "j08", "j09", "j10", "j11"};
    return ids[k % M_IDS];
}

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    /* xorshift64*: the same sequence everywhere */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 2685821657736338717ull) >> 33) % n;
}

/* The memory back within its bound: forget the remembered jobs that finished first. */
static void m_bound(struct model *m)
{
    while (m->remembered > M_MAX) {
        int k, best = -1;
        for (k = 0; k < M_KEYS; k++)
            if (m->j[k].exists && !m->j[k].sources &&
                (best < 0 || m->j[k].finished_at < m->j[best].finished_at))
                best = k;
        m->j[best].exists = 0;
        m->remembered--;
    }
}

static int m_add(struct model *m, int k, unsigned src, int *returned)
{
    struct mjob *j = &m->j[k];

    *returned = 0;
    if (j->exists && j->sources) {
        j->sources |= src;
        return 0;
    }
    if (m->tracked >= M_MAX)
        return -E2BIG;
    if (j->exists) {
        *returned = 1;
        m->remembered--;
    } else {
        memset(j, 0, sizeof(*j));
        j->exists = 1;
    }
    j->sources = src;
    m->tracked++;
    return 1;
}

/* Take src away; 1 if the job left. Does not bound the memory. */
static int m_unlist(struct model *m, int k, unsigned src)
{
    struct mjob *j = &m->j[k];

    if (!j->exists || !(j->sources & src))
        return 0;
    j->sources &= ~src;
    if (j->sources)
        return 0;
    m->tracked--;
    if (j->finished)
        m->remembered++;
    else
        j->exists = 0;
    return 1;
}

static int m_drop(struct model *m, int k, unsigned src)
{
    int rc = m_unlist(m, k, src);

    m_bound(m);
    return rc;
}

static void m_count(struct jobtable_delta *d, int rc, int returned)
{
    if (rc == 1) {
        d->added++;
        d->returned += (size_t)returned;
    } else if (rc == -E2BIG) {
        d->refused++;
    } else if (rc == -EINVAL) {
        d->invalid++;
    }
}

/* keys[i] < 0: an invalid ID */
static void m_sync(struct model *m, unsigned src, const int *keys, size_t n,
                   struct jobtable_delta *d)
{
    int listed[M_KEYS] = {0};
    size_t i;
    int k, rc, ret;

    memset(d, 0, sizeof(*d));
    for (i = 0; i < n; i++)
        if (keys[i] >= 0)
            listed[keys[i]] = 1;
    for (k = 0; k < M_KEYS; k++)
        if (!listed[k] && m_unlist(m, k, src))
            d->removed++;
    for (i = 0; i < n; i++) {
        if (keys[i] < 0) {
            d->invalid++;
            continue;
        }
        rc = m_add(m, keys[i], src, &ret);
        m_count(d, rc, ret);
    }
    m_bound(m);
}

static size_t m_expire(struct model *m, double now)
{
    size_t n = 0;
    int k;

    if (m->retention <= 0)
        return 0;
    for (k = 0; k < M_KEYS; k++) {
        struct mjob *j = &m->j[k];
        if (!j->exists || !j->finished || now - j->finished_at < m->retention)
            continue;
        if (j->sources & JOB_SRC_API) { /* the registration ends with the retention */
            j->sources &= ~(unsigned)JOB_SRC_API;
            if (!j->sources) {
                j->exists = 0;
                m->tracked--;
                n++;
                continue;
            }
        }
        if (j->sources) {
            if (!j->retired) {
                j->retired = 1;
                n++;
            }
        } else {
            j->exists = 0;
            m->remembered--;
            n++;
        }
    }
    return n;
}

static void m_check(struct jobtable *t, const struct model *m, int step)
{
    size_t iterated = 0;
    job_handle h = JOB_HANDLE_NONE;
    int k;

    if (jobtable_count(t) != m->tracked || jobtable_remembered(t) != m->remembered)
        fail_msg("step %d: count %zu/%zu remembered %zu/%zu", step, jobtable_count(t), m->tracked,
                 jobtable_remembered(t), m->remembered);
    for (k = 0; k < M_KEYS; k++) {
        const struct mjob *j = &m->j[k];
        const struct job_state *st = jobtable_find(t, m_profile(k), m_id(k), NULL);
        if (!j->exists) {
            if (st)
                fail_msg("step %d: key %d should be gone", step, k);
            continue;
        }
        if (!st)
            fail_msg("step %d: key %d missing", step, k);
        if (st->sources != j->sources || st->finished != j->finished || st->retired != j->retired ||
            (j->finished && st->finished_at != j->finished_at))
            fail_msg("step %d: key %d: sources %u/%u finished %d/%d retired %d/%d", step, k,
                     st->sources, j->sources, st->finished, j->finished, st->retired, j->retired);
    }
    while ((h = jobtable_next(t, h)) != JOB_HANDLE_NONE) {
        const struct job_state *st = jobtable_get(t, h);
        k = (st->profile == P0 ? 0 : M_IDS) + (st->id[1] - '0') * 10 + (st->id[2] - '0');
        assert_true(m->j[k].exists && m->j[k].sources);
        iterated++;
    }
    assert_int_equal(iterated, m->tracked);
}

static const unsigned m_sources[] = {JOB_SRC_FLAG, JOB_SRC_FILE, JOB_SRC_CONFIG, JOB_SRC_API};

static void m_assert_delta(const char *what, const struct jobtable_delta *got,
                           const struct jobtable_delta *want, int step)
{
    if (got->added != want->added || got->returned != want->returned ||
        got->removed != want->removed || got->refused != want->refused ||
        got->invalid != want->invalid)
        fail_msg(
            "step %d: %s: delta added %zu/%zu returned %zu/%zu removed %zu/%zu refused %zu/%zu "
            "invalid %zu/%zu",
            step, what, got->added, want->added, got->returned, want->returned, got->removed,
            want->removed, got->refused, want->refused, got->invalid, want->invalid);
}

static void model_run(double retention, uint64_t seed)
{
    struct jobtable *t = table(M_MAX, retention);
    struct model m;
    double now = 1000.0;
    int step;

    memset(&m, 0, sizeof(m));
    m.retention = retention > 0 ? retention : 0;
    rng_state = seed;
    for (step = 0; step < M_STEPS; step++) {
        uint32_t op = rnd(100);
        int k = (int)rnd(M_KEYS), rc, want, ret;
        unsigned src = m_sources[rnd(4)];

        now += 1.0; /* every finish at its own time: "the oldest" is never a tie */
        if (op < 30) {
            job_handle h = JOB_HANDLE_NONE;
            rc = jobtable_add(t, m_profile(k), m_id(k), src, &h);
            want = m_add(&m, k, src, &ret);
            if (rc != want)
                fail_msg("step %d: add %d: %d, want %d", step, k, rc, want);
            if (rc >= 0 && jobtable_get(t, h) != jobtable_find(t, m_profile(k), m_id(k), NULL))
                fail_msg("step %d: add %d: handle", step, k);
        } else if (op < 50) {
            rc = jobtable_drop(t, m_profile(k), m_id(k), src);
            want = m_drop(&m, k, src);
            if (rc != want)
                fail_msg("step %d: drop %d: %d, want %d", step, k, rc, want);
        } else if (op < 58) {
            struct job_ref refs[12];
            int keys[12];
            struct jobtable_delta got, want_d;
            size_t n = rnd(12), i;
            for (i = 0; i < n; i++) {
                keys[i] = rnd(10) ? (int)rnd(M_KEYS) : -1;
                refs[i].profile = keys[i] < 0 ? P0 : m_profile(keys[i]);
                refs[i].id = keys[i] < 0 ? "bad id" : m_id(keys[i]);
            }
            rc = jobtable_sync_source(t, src, refs, n, &got);
            assert_int_equal(rc, 0);
            m_sync(&m, src, keys, n, &want_d);
            m_assert_delta("sync", &got, &want_d, step);
        } else if (op < 80) {
            job_handle h = JOB_HANDLE_NONE;
            struct job_state *st = jobtable_find(t, m_profile(k), m_id(k), &h);
            struct mjob *j = &m.j[k];
            want = !j->exists ? -ENOENT : j->finished ? 0 : 1;
            rc = jobtable_mark_finished(t, st ? h : JOB_HANDLE_NONE, now);
            if (rc != want)
                fail_msg("step %d: mark_finished %d: %d, want %d", step, k, rc, want);
            if (want == 1) {
                j->finished = 1;
                j->finished_at = now;
            }
        } else if (op < 90) {
            size_t got = jobtable_expire(t, now), want_d = m_expire(&m, now);
            if (got != want_d)
                fail_msg("step %d: expire: %zu, want %zu", step, got, want_d);
        } else {
            /* a few changes through the queue, applied in order */
            struct jobtable_delta got, want_d;
            size_t n = 1 + rnd(M_MAX), i, applied;
            memset(&want_d, 0, sizeof(want_d));
            for (i = 0; i < n; i++) {
                int key = (int)rnd(M_KEYS), drop = (int)rnd(3) == 0;
                unsigned s = m_sources[rnd(4)];
                assert_int_equal(jobtable_post(t, drop ? JOBTABLE_OP_DROP : JOBTABLE_OP_ADD,
                                               m_profile(key), m_id(key), s),
                                 0);
                if (drop) {
                    want_d.removed += (size_t)m_drop(&m, key, s);
                } else {
                    rc = m_add(&m, key, s, &ret);
                    m_count(&want_d, rc, ret);
                }
            }
            /* the queue holds at most max_jobs changes */
            if (n == M_MAX)
                assert_int_equal(jobtable_post(t, JOBTABLE_OP_ADD, P0, "j00", JOB_SRC_API),
                                 -EAGAIN);
            applied = jobtable_apply_posted(t, &got);
            assert_int_equal(applied, n);
            m_assert_delta("apply_posted", &got, &want_d, step);
        }
        m_check(t, &m, step);
    }
    jobtable_free(t);
}

static void model_random_with_retention(void **state)
{
    (void)state;
    model_run(40.0, 0x9e3779b97f4a7c15ull);
}

static void model_random_keep_forever(void **state)
{
    (void)state;
    model_run(0.0, 0x0123456789abcdefull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_find_and_count),
        cmocka_unit_test(invalid_ids_are_refused),
        cmocka_unit_test(max_jobs_is_enforced),
        cmocka_unit_test(iteration_is_in_slot_order),
        cmocka_unit_test(bad_handles_resolve_to_null),
        cmocka_unit_test(handles_survive_growth),
        cmocka_unit_test(handle_of_dropped_job_misses),
        cmocka_unit_test(same_id_two_profiles_are_two_jobs),
        cmocka_unit_test(job_leaves_with_its_last_source),
        cmocka_unit_test(sync_replaces_one_source),
        cmocka_unit_test(sync_empties_a_source),
        cmocka_unit_test(sync_refuses_past_max_jobs),
        cmocka_unit_test(mark_finished_counts_once),
        cmocka_unit_test(finished_job_is_remembered),
        cmocka_unit_test(finished_job_returns_through_sync),
        cmocka_unit_test(finished_job_returns_through_the_queue),
        cmocka_unit_test(unfinished_job_is_forgotten),
        cmocka_unit_test(remembered_job_waits_for_room),
        cmocka_unit_test(retention_retires_and_forgets),
        cmocka_unit_test(retention_zero_keeps_everything),
        cmocka_unit_test(retention_ends_registrations_and_tells_the_hook),
        cmocka_unit_test(restore_finished_jobs),
        cmocka_unit_test(remembered_are_bounded_by_max_jobs),
        cmocka_unit_test(sync_relisting_remembered_job_at_the_bound),
        cmocka_unit_test(post_validates_and_bounds),
        cmocka_unit_test(post_copies_the_id),
        cmocka_unit_test(post_ex_reports_outcome_and_sets_labels),
        cmocka_unit_test(posts_from_many_threads),
        cmocka_unit_test(model_random_with_retention),
        cmocka_unit_test(model_random_keep_forever),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
