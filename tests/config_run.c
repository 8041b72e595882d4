/*
 * config_run: the configuration tests' fake environment and parse runner (see config_run.h).
 */
#include "config_run.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct {
    const char *key, *val;
} env_tab[24];
static size_t env_n;

int env_reset(void **state)
{
    (void)state;
    env_n = 0;
    return 0;
}

const char *fake_getenv(const char *key)
{
    size_t i;

    for (i = 0; i < env_n; i++)
        if (strcmp(env_tab[i].key, key) == 0)
            return env_tab[i].val;
    return NULL;
}

void env_set(const char *key, const char *val)
{
    size_t i;

    for (i = 0; i < env_n; i++) {
        if (strcmp(env_tab[i].key, key) == 0) {
            env_tab[i].val = val;
            return;
        }
    }
    assert_true(env_n < sizeof(env_tab) / sizeof(env_tab[0]));
    env_tab[env_n].key = key;
    env_tab[env_n].val = val;
    env_n++;
}

int parse_list(struct run *r, const char *const *args)
{
    char *argv[RUN_MAX_ARGS + 2];
    FILE *out;
    int argc = 0;

    argv[argc++] = (char *)"elb_job_exporter";
    for (; *args; args++) {
        assert_true(argc <= RUN_MAX_ARGS);
        argv[argc++] = (char *)*args;
    }
    argv[argc] = NULL;
    config_release(&r->c); /* the previous parse's result */
    free(r->out);
    r->out = NULL;
    out = open_memstream(&r->out, &r->out_len);
    assert_non_null(out);
    memset(r->err, 'Z', sizeof(r->err) - 1); /* config_parse must set or clear it */
    r->err[sizeof(r->err) - 1] = '\0';
    r->rc = config_parse(&r->c, argc, argv, fake_getenv, out, r->err, sizeof(r->err));
    assert_int_equal(fclose(out), 0);
    return r->rc;
}

int parse_v(struct run *r, ...)
{
    const char *args[RUN_MAX_ARGS + 1];
    va_list ap;
    size_t n = 0;

    va_start(ap, r);
    for (;;) {
        const char *a = va_arg(ap, const char *);

        assert_true(n <= RUN_MAX_ARGS);
        args[n++] = a;
        if (!a)
            break;
    }
    va_end(ap);
    return parse_list(r, args);
}

void run_free(struct run *r)
{
    config_release(&r->c);
    free(r->out);
    r->out = NULL;
}
