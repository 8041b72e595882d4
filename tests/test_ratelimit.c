/*
 * test_ratelimit: the log rate limiter (src/ratelimit.c), on a made-up clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

#define BURST 3
#define WINDOW_MS 60000

/* The first BURST events of a window pass, the rest are counted, the roll reports them once. */
static void burst_then_suppress_then_report(void **state)
{
    struct ratelimit r;
    unsigned i;

    (void)state;
    ratelimit_init(&r, BURST, WINDOW_MS, 1000);
    for (i = 0; i < BURST; i++) {
        assert_int_equal(ratelimit_roll(&r, 1000 + i), 0);
        assert_int_equal(ratelimit_allow(&r), 1);
    }
    for (i = 0; i < 7; i++) {
        assert_int_equal(ratelimit_roll(&r, 2000 + i), 0);
        assert_int_equal(ratelimit_allow(&r), 0);
    }
    /* one ms before the window ends: still the same window */
    assert_int_equal(ratelimit_roll(&r, 1000 + WINDOW_MS - 1), 0);
    assert_int_equal(ratelimit_allow(&r), 0);
    /* the window is over: 8 suppressed, reported once, and the quota is back */
    assert_int_equal(ratelimit_roll(&r, 1000 + WINDOW_MS), 8);
    assert_int_equal(ratelimit_roll(&r, 1000 + WINDOW_MS), 0);
    for (i = 0; i < BURST; i++)
        assert_int_equal(ratelimit_allow(&r), 1);
    assert_int_equal(ratelimit_allow(&r), 0);
}

/* A window with nothing suppressed reports 0 when it rolls; a quiet gap is one roll. */
static void quiet_windows_report_nothing(void **state)
{
    struct ratelimit r;

    (void)state;
    ratelimit_init(&r, BURST, WINDOW_MS, 0);
    assert_int_equal(ratelimit_allow(&r), 1);
    assert_int_equal(ratelimit_roll(&r, WINDOW_MS * 10), 0);
    assert_int_equal(ratelimit_allow(&r), 1);
    assert_int_equal(ratelimit_allow(&r), 1);
    assert_int_equal(ratelimit_allow(&r), 1);
    assert_int_equal(ratelimit_allow(&r), 0);
    assert_int_equal(ratelimit_roll(&r, WINDOW_MS * 10 + WINDOW_MS / 2), 0);
    assert_int_equal(ratelimit_roll(&r, WINDOW_MS * 11), 1);
}

/* drain hands over the current window's count once (the last report at shutdown). */
static void drain_reports_once(void **state)
{
    struct ratelimit r;
    unsigned i;

    (void)state;
    ratelimit_init(&r, 0, WINDOW_MS, 5);
    for (i = 0; i < 4; i++)
        assert_int_equal(ratelimit_allow(&r), 0);
    assert_int_equal(ratelimit_drain(&r), 4);
    assert_int_equal(ratelimit_drain(&r), 0);
    assert_int_equal(ratelimit_roll(&r, 5 + WINDOW_MS), 0);
}

/* A clock that goes backwards ends the window instead of freezing it. */
static void clock_going_back_rolls(void **state)
{
    struct ratelimit r;

    (void)state;
    ratelimit_init(&r, 1, WINDOW_MS, 100000);
    assert_int_equal(ratelimit_allow(&r), 1);
    assert_int_equal(ratelimit_allow(&r), 0);
    assert_int_equal(ratelimit_roll(&r, 50), 1);
    assert_int_equal(ratelimit_allow(&r), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(burst_then_suppress_then_report),
        cmocka_unit_test(quiet_windows_report_nothing),
        cmocka_unit_test(drain_reports_once),
        cmocka_unit_test(clock_going_back_rolls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
