/*
 * config_run: what the configuration's unit tests (test_config.c,
 * test_config_file.c) share: a fake environment that config_parse reads
 * through its getenv hook, and a runner that parses an argument list and
 * keeps the result, the error text and what --help/--version printed.
 */
#ifndef ELB_TEST_CONFIG_RUN_H
#define ELB_TEST_CONFIG_RUN_H

#include <stddef.h>

#include "config.h"

#define RUN_MAX_ARGS 64 /* arguments of one parse call */

/* The fake environment: empty it (a cmocka setup), set one variable (the strings are not copied).
 */
int env_reset(void **state);
void env_set(const char *key, const char *val);
/* config_parse's getenv hook: the fake environment. */
const char *fake_getenv(const char *key);

struct run {
    struct config c;
    int rc;
    char err[CONFIG_ERR_MAX];
    char *out; /* what --help/--version printed (malloc'd, "" if nothing) */
    size_t out_len;
};

/* Parse argv = {"elb_job_exporter", args...} (args NULL-terminated) into r, releasing r's last. */
int parse_list(struct run *r, const char *const *args);
/* parse_list of the variadic arguments (end with NULL; PARSE adds it). */
int parse_v(struct run *r, ...);
#define PARSE(r, ...) parse_v((r), __VA_ARGS__, (const char *)NULL)
#define PARSE0(r) parse_v((r), (const char *)NULL)
/* Release what the last parse left. */
void run_free(struct run *r);

#endif
