/*
 * test_strbuf: the capped byte buffer (src/strbuf.c): caps, -E2BIG leaving the
 * buffer unchanged, truncate, detach, release and printf growth.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

#define BIG_MAX (1u << 20)

/* The buffer holds exactly s (content, length, NUL). */
static void assert_content(const struct strbuf *b, const char *s)
{
    assert_int_equal(b->len, strlen(s));
    assert_non_null(b->data);
    assert_memory_equal(b->data, s, b->len + 1);
    assert_true(b->alloc >= b->len + 1);
}

static void init_is_empty(void **state)
{
    struct strbuf b;

    (void)state;
    memset(&b, 0xa5, sizeof(b));
    strbuf_init(&b, 77);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    assert_int_equal(b.max, 77);
    strbuf_release(&b); /* releasing a never-used buffer is fine */
    assert_null(b.data);
    assert_int_equal(b.max, 77);
}

static void append_puts_putc(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, BIG_MAX);
    assert_int_equal(strbuf_append(&b, "abc", 3), 0);
    assert_content(&b, "abc");
    assert_int_equal(strbuf_puts(&b, "def"), 0);
    assert_int_equal(strbuf_putc(&b, 'g'), 0);
    assert_content(&b, "abcdefg");
    assert_int_equal(strbuf_append(&b, "xyz", 0), 0);
    assert_int_equal(strbuf_puts(&b, ""), 0);
    assert_content(&b, "abcdefg");
    /* embedded NUL bytes are data */
    assert_int_equal(strbuf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 10);
    assert_memory_equal(b.data + 7, "a\0b\0", 4);
    strbuf_release(&b);
}

static void empty_append_allocates_terminated(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 10);
    assert_int_equal(strbuf_append(&b, "", 0), 0);
    assert_content(&b, "");
    strbuf_release(&b);
}

static void cap_exact_fit_and_one_past(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 5);
    assert_int_equal(strbuf_puts(&b, "12345"), 0);
    assert_content(&b, "12345");
    assert_int_equal(strbuf_putc(&b, 'x'), -E2BIG);
    assert_content(&b, "12345");
    assert_int_equal(strbuf_append(&b, "", 0), 0); /* nothing still fits */
    assert_true(b.alloc <= b.max + 1);             /* never allocates past the cap */
    strbuf_release(&b);
}

static void e2big_leaves_buffer_unchanged(void **state)
{
    struct strbuf b;
    char *before_data;
    size_t before_alloc;

    (void)state;
    strbuf_init(&b, 8);
    assert_int_equal(strbuf_puts(&b, "abcdef"), 0);
    before_data = b.data;
    before_alloc = b.alloc;
    assert_int_equal(strbuf_puts(&b, "ghi"), -E2BIG);
    assert_int_equal(strbuf_printf(&b, "%d", 123), -E2BIG);
    assert_int_equal(strbuf_append(&b, "x", SIZE_MAX), -E2BIG);
    assert_ptr_equal(b.data, before_data);
    assert_int_equal(b.alloc, before_alloc);
    assert_content(&b, "abcdef");
    /* what still fits still goes in */
    assert_int_equal(strbuf_printf(&b, "%d", 12), 0);
    assert_content(&b, "abcdef12");
    strbuf_release(&b);
}

static void zero_cap(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 0);
    assert_int_equal(strbuf_putc(&b, 'a'), -E2BIG);
    assert_null(b.data);
    assert_int_equal(strbuf_puts(&b, ""), 0);
    assert_content(&b, "");
    assert_int_equal(strbuf_printf(&b, "%s", ""), 0);
    assert_int_equal(strbuf_printf(&b, "%s", "x"), -E2BIG);
    assert_content(&b, "");
    strbuf_release(&b);
}

static void huge_cap_does_not_wrap(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, SIZE_MAX);
    assert_int_equal(strbuf_puts(&b, "ab"), 0);
    /* len + SIZE_MAX - 2 would fit the cap but len + extra + 1 wraps */
    assert_int_equal(strbuf_append(&b, "x", SIZE_MAX - 2), -E2BIG);
    assert_content(&b, "ab");
    assert_int_equal(strbuf_puts(&b, "cd"), 0);
    assert_content(&b, "abcd");
    strbuf_release(&b);
}

static void growth_keeps_content(void **state)
{
    struct strbuf b;
    size_t i;

    (void)state;
    strbuf_init(&b, BIG_MAX);
    for (i = 0; i < 10000; i++)
        assert_int_equal(strbuf_putc(&b, (char)('a' + i % 26)), 0);
    assert_int_equal(b.len, 10000);
    for (i = 0; i < 10000; i++)
        assert_int_equal(b.data[i], (char)('a' + i % 26));
    assert_int_equal(b.data[10000], '\0');
    strbuf_release(&b);
}

static void printf_basic_and_growth(void **state)
{
    struct strbuf b;
    char big[5000];

    (void)state;
    strbuf_init(&b, BIG_MAX);
    assert_int_equal(strbuf_printf(&b, "%s=%d;", "x", -42), 0);
    assert_content(&b, "x=-42;");
    /* longer than the first allocation: must grow and format everything */
    memset(big, 'q', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(strbuf_printf(&b, "[%s]", big), 0);
    assert_int_equal(b.len, 6 + 2 + sizeof(big) - 1);
    assert_memory_equal(b.data, "x=-42;[qqq", 10);
    assert_int_equal(b.data[b.len - 1], ']');
    assert_int_equal(b.data[b.len], '\0');
    assert_int_equal(strbuf_printf(&b, "%s", ""), 0);
    assert_int_equal(b.len, 6 + 2 + sizeof(big) - 1);
    strbuf_release(&b);
}

static void printf_exactly_to_cap(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 6);
    assert_int_equal(strbuf_printf(&b, "%03d", 7), 0);
    assert_int_equal(strbuf_printf(&b, "%.3s", "abcdef"), 0);
    assert_content(&b, "007abc");
    assert_int_equal(strbuf_printf(&b, "%c", 'z'), -E2BIG);
    assert_content(&b, "007abc");
    strbuf_release(&b);
}

static void truncate_rolls_back(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 64);
    assert_int_equal(strbuf_puts(&b, "keep"), 0);
    assert_int_equal(strbuf_puts(&b, "-partial"), 0);
    strbuf_truncate(&b, 4);
    assert_content(&b, "keep");
    strbuf_truncate(&b, 4); /* same length: no-op */
    assert_content(&b, "keep");
    strbuf_truncate(&b, 100); /* longer than len: no-op, never extends */
    assert_content(&b, "keep");
    assert_int_equal(strbuf_puts(&b, "!"), 0);
    assert_content(&b, "keep!");
    strbuf_truncate(&b, 0);
    assert_content(&b, "");
    strbuf_release(&b);

    strbuf_init(&b, 64);
    strbuf_truncate(&b, 0); /* unused buffer */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void truncate_frees_room_under_cap(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 4);
    assert_int_equal(strbuf_puts(&b, "abcd"), 0);
    assert_int_equal(strbuf_putc(&b, 'e'), -E2BIG);
    strbuf_truncate(&b, 2);
    assert_int_equal(strbuf_puts(&b, "xy"), 0);
    assert_content(&b, "abxy");
    strbuf_release(&b);
}

static void detach_hands_over(void **state)
{
    struct strbuf b;
    size_t len = 99;
    char *p;

    (void)state;
    strbuf_init(&b, 32);
    assert_int_equal(strbuf_puts(&b, "hello"), 0);
    p = strbuf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 5);
    assert_string_equal(p, "hello");
    /* the buffer is empty, keeps its cap and is reusable */
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    assert_int_equal(b.max, 32);
    assert_int_equal(strbuf_puts(&b, "again"), 0);
    assert_content(&b, "again");
    assert_true(b.data != p);
    free(p);
    strbuf_release(&b);
}

static void detach_unused_gives_empty_string(void **state)
{
    struct strbuf b;
    size_t len = 99;
    char *p;

    (void)state;
    strbuf_init(&b, 0);
    p = strbuf_detach(&b, &len);
    assert_non_null(p);
    assert_int_equal(len, 0);
    assert_int_equal(p[0], '\0');
    free(p);

    strbuf_init(&b, 16);
    p = strbuf_detach(&b, NULL); /* len is optional */
    assert_non_null(p);
    assert_string_equal(p, "");
    free(p);
}

static void release_then_reuse(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 16);
    assert_int_equal(strbuf_puts(&b, "0123456789abcdef"), 0);
    strbuf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.alloc, 0);
    assert_int_equal(b.max, 16);
    assert_int_equal(strbuf_puts(&b, "0123456789abcdef"), 0);
    assert_int_equal(strbuf_putc(&b, 'x'), -E2BIG);
    strbuf_release(&b);
    strbuf_release(&b); /* twice is fine */
}

/* Test map: 'a' -> "<A>", '!' -> "" (dropped), everything else itself. */
static const char *test_map(unsigned char c)
{
    return c == 'a' ? "<A>" : c == '!' ? "" : NULL;
}

static void escape_maps_and_rolls_back(void **state)
{
    struct strbuf b;

    (void)state;
    strbuf_init(&b, 16);
    assert_int_equal(strbuf_puts(&b, "x:"), 0);
    assert_int_equal(strbuf_escape(&b, "bab!c", test_map), 0);
    assert_content(&b, "x:b<A>bc");
    assert_int_equal(strbuf_escape(&b, "", test_map), 0);
    assert_content(&b, "x:b<A>bc");
    /* 8 + 3 * 3 = 17 > 16: fails and leaves no partial escape behind */
    assert_int_equal(strbuf_escape(&b, "aaa", test_map), -E2BIG);
    assert_content(&b, "x:b<A>bc");
    /* a replacement ending exactly at the cap fits */
    assert_int_equal(strbuf_escape(&b, "aa", test_map), 0);
    assert_content(&b, "x:b<A>bc<A><A>");
    strbuf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_is_empty),
        cmocka_unit_test(escape_maps_and_rolls_back),
        cmocka_unit_test(append_puts_putc),
        cmocka_unit_test(empty_append_allocates_terminated),
        cmocka_unit_test(cap_exact_fit_and_one_past),
        cmocka_unit_test(e2big_leaves_buffer_unchanged),
        cmocka_unit_test(zero_cap),
        cmocka_unit_test(huge_cap_does_not_wrap),
        cmocka_unit_test(growth_keeps_content),
        cmocka_unit_test(printf_basic_and_growth),
        cmocka_unit_test(printf_exactly_to_cap),
        cmocka_unit_test(truncate_rolls_back),
        cmocka_unit_test(truncate_frees_room_under_cap),
        cmocka_unit_test(detach_hands_over),
        cmocka_unit_test(detach_unused_gives_empty_string),
        cmocka_unit_test(release_then_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
