/*
 * Tests for src/snapshot.c: reference counting and publication across threads.
 * Run under TSan (label "threads") this is the check that readers and the
 * publisher meet only where the design says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"

static struct snapshot *make(uint64_t cycles)
{
    struct snapshot *s = snapshot_new();
    char text[64];
    int n;

    assert_non_null(s);
    n = snprintf(text, sizeof(text), "cycle %llu\n", (unsigned long long)cycles);
    s->page[SNAPSHOT_METRICS].data = strdup(text);
    s->page[SNAPSHOT_METRICS].len = (size_t)n;
    s->page[SNAPSHOT_LANDING].data = strdup("<html></html>");
    s->page[SNAPSHOT_LANDING].len = 13;
    s->cycles = cycles;
    return s;
}

static void empty_store_has_nothing(void **state)
{
    struct snapshot_store *st = snapshot_store_new();

    (void)state;
    assert_non_null(st);
    assert_null(snapshot_acquire(st));
    snapshot_store_free(st);
    snapshot_store_free(NULL);
    snapshot_release(NULL);
}

static void reader_keeps_old_snapshot(void **state)
{
    struct snapshot_store *st = snapshot_store_new();
    struct snapshot *a, *b;

    (void)state;
    snapshot_publish(st, make(1));
    a = snapshot_acquire(st);
    assert_int_equal(a->cycles, 1);
    snapshot_publish(st, make(2)); /* the store drops its reference to 1 */
    b = snapshot_acquire(st);
    assert_int_equal(b->cycles, 2);
    /* a is still fully readable: only our reference keeps it */
    assert_string_equal(a->page[SNAPSHOT_METRICS].data, "cycle 1\n");
    assert_int_equal(atomic_load(&a->refs), 1);
    assert_int_equal(atomic_load(&b->refs), 2);
    snapshot_release(a);
    snapshot_release(b);
    snapshot_store_free(st);
}

/* A page that failed to render is served from an older snapshot, without a copy or a leak. */
static void borrowed_page_outlives_its_owner(void **state)
{
    struct snapshot_store *st = snapshot_store_new();
    struct snapshot *a = make(1), *b = snapshot_new(), *c = snapshot_new(), *got;

    (void)state;
    snapshot_publish(st, a);
    /* b: a new landing page, the metrics of a */
    b->page[SNAPSHOT_LANDING].data = strdup("<p>b</p>");
    b->page[SNAPSHOT_LANDING].len = 8;
    b->cycles = 2;
    got = snapshot_acquire(st);
    snapshot_borrow(b, SNAPSHOT_METRICS, got);
    snapshot_release(got);
    snapshot_publish(st, b); /* a is no longer published, but b still serves its metrics */
    /* c borrows both pages from b: the metrics from their owner a, not a chain */
    got = snapshot_acquire(st);
    snapshot_borrow(c, SNAPSHOT_METRICS, got);
    snapshot_borrow(c, SNAPSHOT_LANDING, got);
    assert_ptr_equal(c->owner[SNAPSHOT_METRICS], a);
    assert_ptr_equal(c->owner[SNAPSHOT_LANDING], b);
    snapshot_release(got);
    snapshot_publish(st, c);
    got = snapshot_acquire(st);
    assert_string_equal(got->page[SNAPSHOT_METRICS].data, "cycle 1\n");
    assert_string_equal(got->page[SNAPSHOT_LANDING].data, "<p>b</p>");
    snapshot_release(got);
    snapshot_store_free(st); /* frees c, then b and a through the borrowed references */
}

struct race {
    struct snapshot_store *st;
    atomic_int done;
};

static void *reader(void *arg)
{
    struct race *r = arg;
    uint64_t last = 0;

    while (!atomic_load(&r->done)) {
        struct snapshot *s = snapshot_acquire(r->st);
        char want[64];
        if (!s)
            continue;
        /* content matches its cycle number: never a half-built snapshot */
        snprintf(want, sizeof(want), "cycle %llu\n", (unsigned long long)s->cycles);
        if (strcmp(s->page[SNAPSHOT_METRICS].data, want) != 0 || s->cycles < last)
            abort();
        last = s->cycles;
        snapshot_release(s);
    }
    return NULL;
}

static void concurrent_publish_and_read(void **state)
{
    struct race r = {.st = snapshot_store_new()};
    pthread_t th[4];
    uint64_t i;
    int k;

    (void)state;
    atomic_init(&r.done, 0);
    snapshot_publish(r.st, make(0));
    for (k = 0; k < 4; k++)
        assert_int_equal(pthread_create(&th[k], NULL, reader, &r), 0);
    for (i = 1; i <= 20000; i++)
        snapshot_publish(r.st, make(i));
    atomic_store(&r.done, 1);
    for (k = 0; k < 4; k++)
        assert_int_equal(pthread_join(th[k], NULL), 0);
    struct snapshot *s = snapshot_acquire(r.st);
    assert_int_equal(s->cycles, 20000);
    snapshot_release(s);
    snapshot_store_free(r.st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(empty_store_has_nothing),
        cmocka_unit_test(reader_keeps_old_snapshot),
        cmocka_unit_test(borrowed_page_outlives_its_owner),
        cmocka_unit_test(concurrent_publish_and_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
