/*
 * test_webauth: bcrypt checks on the worker thread and the cache of passed
 * ones (src/webauth.c): right, wrong and unknown-user answers, what is cached
 * and what never is, least-recently-used replacement, the bounded queue, and
 * shutdown answering what still waits.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "webauth.h"

/* bcrypt("secret") at cost 4 (fast), and another hash of "secret". */
#define HASH "$2y$04$YJhRyXP57MmR8ARYb9F1lOUjjxCfnujPfBxzflsNyTDQFBe/FNc3q"
#define HASH2 "$2y$04$DUB3lhAIDK.OH9rvTMfQlOw82nzemW1/LeTFDS9qNZbc86x6B5KAi"

/* A job and the answer its done callback got; done can be made to block. */
struct waiter {
    struct webauth_job job;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int called, ok;
    int hold; /* done blocks while this is set */
};

static void on_done(struct webauth_job *job, int ok)
{
    struct waiter *w = job->cls;

    pthread_mutex_lock(&w->lock);
    w->called++;
    w->ok = ok;
    pthread_cond_broadcast(&w->cond);
    while (w->hold)
        pthread_cond_wait(&w->cond, &w->lock);
    pthread_mutex_unlock(&w->lock);
}

static void waiter_init(struct waiter *w)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->cond, NULL);
    w->job.done = on_done;
    w->job.cls = w;
}

static void waiter_destroy(struct waiter *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

/* Wait until done was called; returns its ok. */
static int waiter_wait(struct waiter *w)
{
    int ok;

    pthread_mutex_lock(&w->lock);
    while (!w->called)
        pthread_cond_wait(&w->cond, &w->lock);
    ok = w->ok;
    pthread_mutex_unlock(&w->lock);
    return ok;
}

static void release_hold(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    w->hold = 0;
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

/* Check and wait: WEBAUTH_OK from the cache, else the worker's answer (1/0) + 10. */
static int check(struct webauth *a, const char *user, const char *pw, const char *hash, int known)
{
    struct waiter w;
    enum webauth_result r;
    int ans;

    waiter_init(&w);
    r = webauth_check(a, user, strlen(user), pw, strlen(pw), hash, known, &w.job);
    if (r == WEBAUTH_PENDING)
        ans = 10 + waiter_wait(&w);
    else
        ans = (int)r;
    waiter_destroy(&w);
    return ans;
}

#define BCRYPT_OK 11
#define BCRYPT_DENIED 10

static void right_password_is_checked_once_then_cached(void **state)
{
    struct webauth *a = webauth_new();
    struct webauth_stats st;

    (void)state;
    assert_non_null(a);
    assert_int_equal(check(a, "alice", "secret", HASH, 1), BCRYPT_OK);
    assert_int_equal(check(a, "alice", "secret", HASH, 1), WEBAUTH_OK);
    assert_int_equal(check(a, "alice", "secret", HASH, 1), WEBAUTH_OK);
    webauth_stats(a, &st);
    assert_int_equal(st.bcrypts, 1);
    assert_int_equal(st.hits, 2);
    assert_true(st.bcrypt_ns > 0);
    /* the key is (user, password, hash): any other one is not a hit */
    assert_int_equal(check(a, "bob", "secret", HASH, 1), BCRYPT_OK);
    assert_int_equal(check(a, "alice", "secret", HASH2, 1), BCRYPT_OK); /* hash changed */
    assert_int_equal(check(a, "alice", "secretX", HASH, 1), BCRYPT_DENIED);
    webauth_stats(a, &st);
    assert_int_equal(st.bcrypts, 4);
    webauth_free(a);
}

static void failures_are_never_cached(void **state)
{
    struct webauth *a = webauth_new();
    struct webauth_stats st;
    int i;

    (void)state;
    for (i = 0; i < 3; i++)
        assert_int_equal(check(a, "alice", "wrong", HASH, 1), BCRYPT_DENIED);
    /* an unknown user is denied after the same work, even if the password fits the hash */
    for (i = 0; i < 3; i++)
        assert_int_equal(check(a, "mallory", "secret", HASH, 0), BCRYPT_DENIED);
    webauth_stats(a, &st);
    assert_int_equal(st.bcrypts, 6);
    assert_int_equal(st.hits, 0);
    /* a passed check of a known user does not let the same triple through as unknown */
    assert_int_equal(check(a, "alice", "secret", HASH, 1), BCRYPT_OK);
    assert_int_equal(check(a, "alice", "secret", HASH, 0), BCRYPT_DENIED);
    webauth_free(a);
}

static void long_passwords_and_odd_bytes(void **state)
{
    struct webauth *a = webauth_new();
    char pw[300];

    (void)state;
    memset(pw, 'x', sizeof(pw) - 1);
    pw[sizeof(pw) - 1] = '\0';
    assert_int_equal(check(a, "alice", pw, HASH, 1), BCRYPT_DENIED);
    assert_int_equal(check(a, "", "", HASH, 1), BCRYPT_DENIED);
    assert_int_equal(check(a, "alice", "secret", "not a hash", 1), BCRYPT_DENIED);
    webauth_free(a);
}

static void least_recently_used_is_replaced(void **state)
{
    struct webauth *a = webauth_new();
    char user[32];
    int i;

    (void)state;
    for (i = 0; i < WEBAUTH_CACHE_MAX; i++) {
        snprintf(user, sizeof(user), "user%d", i);
        assert_int_equal(check(a, user, "secret", HASH, 1), BCRYPT_OK);
    }
    /* user0 is used again: user1 is now the least recently used */
    assert_int_equal(check(a, "user0", "secret", HASH, 1), WEBAUTH_OK);
    assert_int_equal(check(a, "newcomer", "secret", HASH, 1), BCRYPT_OK);
    assert_int_equal(check(a, "user0", "secret", HASH, 1), WEBAUTH_OK);
    assert_int_equal(check(a, "user2", "secret", HASH, 1), WEBAUTH_OK);
    assert_int_equal(check(a, "user1", "secret", HASH, 1), BCRYPT_OK); /* evicted */
    webauth_free(a);
}

/* Hold the worker inside a done callback, fill the queue, see BUSY, then let it all go. */
static void full_queue_is_busy_and_shutdown_answers_the_rest(void **state)
{
    static struct waiter held, queued[WEBAUTH_QUEUE_MAX];
    struct webauth *a = webauth_new();
    struct webauth_stats st;
    struct waiter extra;
    int i;

    (void)state;
    waiter_init(&held);
    held.hold = 1;
    assert_int_equal(webauth_check(a, "alice", 5, "wrong", 5, HASH, 1, &held.job), WEBAUTH_PENDING);
    waiter_wait(&held); /* the worker is now blocked in held's done */
    for (i = 0; i < WEBAUTH_QUEUE_MAX; i++) {
        waiter_init(&queued[i]);
        assert_int_equal(webauth_check(a, "alice", 5, "wrong", 5, HASH, 1, &queued[i].job),
                         WEBAUTH_PENDING);
    }
    waiter_init(&extra);
    assert_int_equal(webauth_check(a, "alice", 5, "wrong", 5, HASH, 1, &extra.job), WEBAUTH_BUSY);
    assert_int_equal(extra.called, 0);

    /* shutdown: every job still waiting is answered (denied: wrong, or not checked at all) */
    release_hold(&held);
    webauth_shutdown(a);
    for (i = 0; i < WEBAUTH_QUEUE_MAX; i++) {
        assert_int_equal(waiter_wait(&queued[i]), 0);
        assert_int_equal(queued[i].called, 1);
    }
    webauth_stats(a, &st);
    assert_true(st.bcrypts <= 1 + WEBAUTH_QUEUE_MAX);
    assert_int_equal(st.busy, 1);
    /* and nothing is taken after it */
    assert_int_equal(webauth_check(a, "alice", 5, "secret", 6, HASH, 1, &extra.job), WEBAUTH_BUSY);
    webauth_shutdown(a); /* idempotent */
    webauth_free(a);
    for (i = 0; i < WEBAUTH_QUEUE_MAX; i++)
        waiter_destroy(&queued[i]);
    waiter_destroy(&held);
    waiter_destroy(&extra);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(right_password_is_checked_once_then_cached),
        cmocka_unit_test(failures_are_never_cached),
        cmocka_unit_test(long_passwords_and_odd_bytes),
        cmocka_unit_test(least_recently_used_is_replaced),
        cmocka_unit_test(full_queue_is_busy_and_shutdown_answers_the_rest),
    };
    webauth_free(NULL);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
