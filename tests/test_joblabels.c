/*
 * Tests for src/joblabels.c: the allow-list, value validation (printable,
 * bounded UTF-8), sorted insertion, duplicates and the cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "joblabels.h"

static void allow_list_is_sorted_and_bounded(void **state)
{
    const char *const *n = joblabels_names();
    size_t i;

    (void)state;
    assert_string_equal(n[0], "env");
    assert_string_equal(n[1], "owner");
    assert_string_equal(n[2], "pipeline");
    assert_string_equal(n[3], "team");
    assert_null(n[4]);
    for (i = 0; n[i]; i++) {
        assert_true(strlen(n[i]) <= JOB_LABEL_NAME_MAX);
        assert_true(joblabels_name_allowed(n[i], strlen(n[i])));
        if (i)
            assert_true(strcmp(n[i - 1], n[i]) < 0);
    }
    /* what the exporter sets itself, and what Prometheus reserves, are never the registrant's */
    assert_false(joblabels_name_allowed("job_id", 6));
    assert_false(joblabels_name_allowed("job_type", 8));
    assert_false(joblabels_name_allowed("profile", 7));
    assert_false(joblabels_name_allowed("resource_id", 11));
    assert_false(joblabels_name_allowed("job", 3));
    assert_false(joblabels_name_allowed("instance", 8));
    assert_false(joblabels_name_allowed("__name__", 8));
    assert_false(joblabels_name_allowed("tea", 3)); /* a prefix is not the name */
    assert_false(joblabels_name_allowed("teams", 5));
    assert_false(joblabels_name_allowed("Team", 4));
    assert_false(joblabels_name_allowed("", 0));
}

static void values(void **state)
{
    char max[JOB_LABEL_VALUE_MAX + 2];

    (void)state;
    assert_true(joblabels_value_valid("prod", 4));
    assert_true(joblabels_value_valid("a b/c:d=e \"q\" \\", 15));
    assert_true(joblabels_value_valid("M\xc3\xbcller \xe2\x9c\x93 \xf0\x9f\x9a\x80", 16));
    memset(max, 'x', sizeof(max));
    assert_true(joblabels_value_valid(max, JOB_LABEL_VALUE_MAX));
    assert_false(joblabels_value_valid(max, JOB_LABEL_VALUE_MAX + 1));
    assert_false(joblabels_value_valid("", 0));
    assert_false(joblabels_value_valid("a\nb", 3));
    assert_false(joblabels_value_valid("a\tb", 3));
    assert_false(joblabels_value_valid("a\x7f", 2));            /* DEL */
    assert_false(joblabels_value_valid("a\xc2\x85", 3));        /* C1 NEL */
    assert_false(joblabels_value_valid("a\0b", 3));             /* NUL inside */
    assert_false(joblabels_value_valid("\xff", 1));             /* not UTF-8 */
    assert_false(joblabels_value_valid("\xc0\xaf", 2));         /* overlong */
    assert_false(joblabels_value_valid("\xed\xa0\x80", 3));     /* surrogate */
    assert_false(joblabels_value_valid("\xe2\x9c", 2));         /* cut */
    assert_false(joblabels_value_valid("\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
}

static void add_sorts_and_refuses(void **state)
{
    struct job_labels l, before;
    char err[256];

    (void)state;
    memset(&l, 0, sizeof(l));
    assert_int_equal(joblabels_add(&l, "team", 4, "net", 3, err, sizeof(err)), 0);
    assert_int_equal(joblabels_add(&l, "env", 3, "prod", 4, err, sizeof(err)), 0);
    assert_int_equal(joblabels_add(&l, "pipeline", 8, "deploy-42", 9, err, sizeof(err)), 0);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.kv[0].name, "env");
    assert_string_equal(l.kv[1].name, "pipeline");
    assert_string_equal(l.kv[2].name, "team");
    assert_string_equal(l.kv[2].value, "net");
    before = l;

    assert_int_equal(joblabels_add(&l, "team", 4, "db", 2, err, sizeof(err)), -EEXIST);
    assert_string_equal(err, "label \"team\" is given twice");
    assert_int_equal(joblabels_add(&l, "tier", 4, "x", 1, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "label \"tier\" is not allowed (allowed: env, owner, pipeline, team)");
    assert_int_equal(joblabels_add(&l, "owner", 5, "a\nb", 3, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "label \"owner\": the value must be 1 to 64 bytes of printable "
                             "UTF-8 (no control characters)");
    assert_true(joblabels_equal(&l, &before)); /* unchanged by the failures */

    assert_int_equal(joblabels_add(&l, "owner", 5, "ana", 3, err, sizeof(err)), 0);
    assert_int_equal(l.n, JOB_LABELS_MAX);
    assert_string_equal(l.kv[1].name, "owner");
    assert_false(joblabels_equal(&l, &before));
    assert_false(joblabels_equal(&l, NULL));
    assert_true(joblabels_equal(NULL, NULL));
    memset(&before, 0, sizeof(before));
    assert_true(joblabels_equal(&before, NULL)); /* none and NULL are the same */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allow_list_is_sorted_and_bounded),
        cmocka_unit_test(values),
        cmocka_unit_test(add_sorts_and_refuses),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
