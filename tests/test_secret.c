/*
 * test_secret: secret_clear wipes exactly the string, secret_free wipes before
 * it frees (seen from a free() wrapper, before the memory goes back: no reads
 * of freed memory), and both accept NULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "secret.h"

/* The test links with -Wl,--wrap=free: free() calls from secret.c land here first. */
void __real_free(void *p);
void __wrap_free(void *p);

static const char *watched; /* the buffer whose free we inspect */
static size_t watched_len;  /* bytes that must be zero by then */
static int watched_seen, watched_clean;

void __wrap_free(void *p)
{
    if (p && p == watched) {
        const char *b = p;
        size_t i;

        watched_seen = 1;
        watched_clean = 1;
        for (i = 0; i < watched_len; i++)
            if (b[i] != '\0')
                watched_clean = 0;
    }
    __real_free(p);
}

static void clear_wipes_the_string_only(void **state)
{
    char buf[12];

    (void)state;
    memcpy(buf, "s3cr3t\0XYZ", 11);
    secret_clear(buf);
    assert_memory_equal(buf, "\0\0\0\0\0\0\0XYZ", 11); /* the bytes after the NUL stay */
    secret_clear(buf);                                 /* an empty string: nothing to do */
    secret_clear(NULL);
}

static void free_wipes_before_freeing(void **state)
{
    char *s = strdup("X-Auth-Token: s3cr3t");

    (void)state;
    assert_non_null(s);
    watched = s;
    watched_len = strlen(s);
    watched_seen = watched_clean = 0;
    secret_free(s);
    watched = NULL;
    assert_true(watched_seen);
    assert_true(watched_clean);
    secret_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clear_wipes_the_string_only),
        cmocka_unit_test(free_wipes_before_freeing),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
