/*
 * Tests for the poller's scheduling decisions (src/poller.c): retry backoff,
 * the pause a 429 imposes, and the exit status of --once. These are pure
 * functions; the loop that applies them is covered by the integration tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "api.h"
#include "poller.h"

/* Doubling from the base, per consecutive failure. */
static void backoff_doubles(void **state)
{
    (void)state;
    assert_int_equal(poller_backoff_ms(1, 3600000, 100), POLLER_BACKOFF_BASE_MS);
    assert_int_equal(poller_backoff_ms(2, 3600000, 100), 2 * POLLER_BACKOFF_BASE_MS);
    assert_int_equal(poller_backoff_ms(3, 3600000, 100), 4 * POLLER_BACKOFF_BASE_MS);
    assert_int_equal(poller_backoff_ms(6, 3600000, 100), 32 * POLLER_BACKOFF_BASE_MS);
    /* failures 0 (never happens) behaves as the first */
    assert_int_equal(poller_backoff_ms(0, 3600000, 100), POLLER_BACKOFF_BASE_MS);
}

/* Jitter spreads retries by -25%..+25% and no further. */
static void backoff_jitter_bounds(void **state)
{
    (void)state;
    assert_int_equal(poller_backoff_ms(2, 3600000, 75), 1500);
    assert_int_equal(poller_backoff_ms(2, 3600000, 125), 2500);
    assert_int_equal(poller_backoff_ms(2, 3600000, 0), 1500);   /* clamped to 75 */
    assert_int_equal(poller_backoff_ms(2, 3600000, 999), 2500); /* clamped to 125 */
}

/* Never longer than the interval (a retry is never later than the next cycle), never hot. */
static void backoff_capped(void **state)
{
    (void)state;
    assert_int_equal(poller_backoff_ms(10, 15000, 100), 15000);
    assert_int_equal(poller_backoff_ms(4000000000u, 15000, 125), 15000); /* no shift overflow */
    assert_int_equal(poller_backoff_ms(1, 50, 100), POLLER_BACKOFF_MIN_MS);
    assert_int_equal(poller_backoff_ms(1, 0, 100), POLLER_BACKOFF_MIN_MS);
}

/* A 429 pauses for Retry-After, 60 s when absent, at least a second, at most the cap. */
static void pause_from_retry_after(void **state)
{
    (void)state;
    assert_int_equal(poller_pause_ms(5), 5000);
    assert_int_equal(poller_pause_ms(-1), API_RETRY_AFTER_DEFAULT * 1000);
    assert_int_equal(poller_pause_ms(0), POLLER_PAUSE_MIN_S * 1000);
    assert_int_equal(poller_pause_ms(API_RETRY_AFTER_MAX + 1), API_RETRY_AFTER_MAX * 1000ull);
}

/* --once exits 0 only when nothing is a guess. */
static void once_exit_code(void **state)
{
    struct poller_once_result r = {.jobs = 3, .fetched = 2, .not_found = 1, .api_up = 1};

    (void)state;
    assert_int_equal(poller_once_exit_code(&r), 0);
    /* a failed poll shows fetch_success 0: the exposition says so, no guess */
    r.fetched = 1;
    r.failed = 1;
    assert_int_equal(poller_once_exit_code(&r), 0);
    /* a job never asked about (throttled past the budget) would print UNKNOWN: exit 1 */
    r.failed = 0;
    r.unfetched = 1;
    assert_int_equal(poller_once_exit_code(&r), 1);
    r.unfetched = 0;
    r.fetched = 2;
    r.api_up = 0;
    assert_int_equal(poller_once_exit_code(&r), 1);
    /* nothing to poll is nothing fetched */
    r = (struct poller_once_result){.api_up = 1};
    assert_int_equal(poller_once_exit_code(&r), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backoff_doubles), cmocka_unit_test(backoff_jitter_bounds),
        cmocka_unit_test(backoff_capped),  cmocka_unit_test(pause_from_retry_after),
        cmocka_unit_test(once_exit_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
