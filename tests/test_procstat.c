/*
 * Tests for src/procstat.c against this very process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

static void reads_this_process(void **state)
{
    struct proc_stats a, b;
    struct rlimit rl;
    int fd;

    (void)state;
    procstat_read(&a);
    assert_true(a.ok);
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    assert_true(a.max_fds == (double)rl.rlim_cur);
    assert_true(a.resident_bytes > 0);
    assert_true(a.virtual_bytes >= a.resident_bytes);
    assert_true(a.cpu_seconds >= 0);
    /* this test process started moments ago */
    assert_true(a.start_time <= (double)time(NULL) + 1);
    assert_true(a.start_time > (double)time(NULL) - 120);
    fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    procstat_read(&b);
    assert_true(b.ok);
    assert_true(b.open_fds == a.open_fds + 1);
    close(fd);
}

static void cpu_time_grows(void **state)
{
    struct proc_stats a, b;
    volatile unsigned long x = 0;
    struct timespec t0, t;

    (void)state;
    procstat_read(&a);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    do { /* burn a little over 50 ms of CPU, measured, not slept */
        for (int i = 0; i < 100000; i++)
            x += (unsigned long)i;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 60000000L);
    procstat_read(&b);
    assert_true(b.cpu_seconds > a.cpu_seconds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reads_this_process),
        cmocka_unit_test(cpu_time_grows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
