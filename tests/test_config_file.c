/*
 * test_config_file: --config.file (YAML).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void test_empty(void **state)
{
    struct config c;
    char err[CONFIG_ERR_MAX];

    (void)state;
    memset(&c, 0, sizeof(c));
    assert_int_equal(config_file_apply_text(&c, "f.yml", "", 0, err, sizeof(err)), 0);
    config_release(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
