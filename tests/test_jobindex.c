/*
 * Tests for src/jobindex.c: (ID, profile) order, look-ups and page cursors,
 * the metrics' rules for which values a job shows, labels, the arena, caps,
 * and a large index against a linear scan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobindex.h"
#include "jobtable.h"

#define ECS (profile_find("ecs-v1"))
#define ELB (profile_find("elb-v1"))
#define V3 (profile_find("elb-v3"))

static struct expfmt_job view(const char *id, const struct api_profile *p,
                              const struct job_record *rec, enum job_status st)
{
    struct expfmt_job v;

    memset(&v, 0, sizeof(v));
    v.id = id;
    v.profile = p;
    v.rec = rec;
    v.status = st;
    v.fetch_success = rec != NULL;
    v.last_fetch = rec ? 1700000100 : 0;
    v.observed_at = v.last_fetch;
    return v;
}

static void order_and_lookups(void **state)
{
    struct jobindex *ix = jobindex_new(6);
    const char *ids[] = {"b", "a", "c", "b", "a-1", "B"};
    const struct api_profile *ps[] = {ELB, ELB, ELB, ECS, ELB, ELB};
    char got[128] = "";
    size_t i;

    (void)state;
    assert_non_null(ix);
    for (i = 0; i < 6; i++) {
        struct expfmt_job v = view(ids[i], ps[i], NULL, JOB_UNKNOWN);
        assert_int_equal(jobindex_add(ix, &v, JOB_SRC_FLAG, 0, 0), 0);
    }
    assert_int_equal(jobindex_count(ix), 0); /* nothing to look at before the seal */
    assert_int_equal(jobindex_seal(ix), 0);
    assert_int_equal(jobindex_count(ix), 6);
    for (i = 0; i < 6; i++) {
        const struct jobindex_entry *e = jobindex_at(ix, i);
        strcat(got, jobindex_str(ix, e->id));
        strcat(got, "/");
        strcat(got, e->profile->name);
        strcat(got, " ");
    }
    /* bytewise ID order, then profile name: ecs-v1 before elb-v1 */
    assert_string_equal(got, "B/elb-v1 a/elb-v1 a-1/elb-v1 b/ecs-v1 b/elb-v1 c/elb-v1 ");

    assert_ptr_equal(jobindex_find(ix, ELB, "b"), jobindex_at(ix, 4));
    assert_ptr_equal(jobindex_find(ix, ECS, "b"), jobindex_at(ix, 3));
    assert_null(jobindex_find(ix, V3, "b"));
    assert_null(jobindex_find(ix, ELB, "bb"));
    assert_null(jobindex_find(ix, ELB, "0"));
    assert_null(jobindex_find(ix, ELB, "zzz"));
    assert_null(jobindex_find(ix, NULL, "b"));

    assert_int_equal(jobindex_first(ix, "b"), 3);
    assert_int_equal(jobindex_first(ix, "bb"), 5);
    assert_int_equal(jobindex_after(ix, "b", ECS), 4);
    assert_int_equal(jobindex_after(ix, "b", ELB), 5);
    assert_int_equal(jobindex_after(ix, "b", NULL), 5);
    assert_int_equal(jobindex_after(ix, "a", V3), 2); /* a/elb-v1 < a/elb-v3 < a-1 */
    assert_int_equal(jobindex_after(ix, "0", ELB), 0);
    assert_int_equal(jobindex_after(ix, "c", ELB), 6);
    assert_int_equal(jobindex_add(ix, &(struct expfmt_job){.id = "x", .profile = ELB}, 0, 0, 0),
                     -EINVAL); /* sealed */
    jobindex_unref(ix);
}

static void values_follow_the_metrics(void **state)
{
    struct jobindex *ix = jobindex_new(4);
    struct job_record fail, run;
    struct job_labels l;
    struct expfmt_job v;
    const struct jobindex_entry *e;
    const char *n, *val;
    char err[128];

    (void)state;
    memset(&fail, 0, sizeof(fail));
    fail.status = JOB_FAIL;
    snprintf(fail.job_type, sizeof(fail.job_type), "createELB");
    snprintf(fail.error_code, sizeof(fail.error_code), "ELB.1003");
    snprintf(fail.fail_reason, sizeof(fail.fail_reason), "quota");
    snprintf(fail.resource_id, sizeof(fail.resource_id), "lb-1");
    fail.has_begin = fail.has_end = 1;
    fail.begin_time = 1700000000;
    fail.end_time = 1700000002.5;
    fail.has_sub_jobs = 1;
    fail.sub_jobs[JOB_SUCCESS] = 2;
    fail.sub_jobs[JOB_ROLLBACKING] = 1; /* not an elb-v1 status: shown as UNKNOWN */
    fail.sub_jobs[JOB_UNKNOWN] = 1;
    memset(&run, 0, sizeof(run));
    run.status = JOB_RUNNING;
    run.has_begin = 1;
    run.begin_time = 1700000090;
    memset(&l, 0, sizeof(l));
    assert_int_equal(joblabels_add(&l, "team", 4, "net", 3, err, sizeof(err)), 0);
    assert_int_equal(joblabels_add(&l, "env", 3, "prod", 4, err, sizeof(err)), 0);

    v = view("f", ELB, &fail, JOB_FAIL);
    v.labels = &l;
    assert_int_equal(jobindex_add(ix, &v, JOB_SRC_API | JOB_SRC_FILE, 1, 1700000050), 0);
    v = view("g", ELB, &fail, JOB_UNKNOWN); /* a 404 after the FAIL answer */
    v.fetch_success = 0;
    assert_int_equal(jobindex_add(ix, &v, JOB_SRC_FLAG, 0, 0), 0);
    v = view("r", ELB, &run, JOB_RUNNING);
    assert_int_equal(jobindex_add(ix, &v, JOB_SRC_API, 0, 0), 0);
    v = view("u", ELB, NULL, JOB_UNKNOWN);
    assert_int_equal(jobindex_add(ix, &v, JOB_SRC_API, 0, 0), 0);
    assert_int_equal(jobindex_add(ix, &v, JOB_SRC_API, 0, 0), -E2BIG); /* past cap */
    assert_int_equal(jobindex_seal(ix), 0);

    e = jobindex_find(ix, ELB, "f");
    assert_int_equal(e->status, JOB_FAIL);
    assert_int_equal(e->sources, JOB_SRC_API | JOB_SRC_FILE);
    assert_true(e->flags & JOBINDEX_FINISHED);
    assert_true(e->finished_at == 1700000050);
    assert_true(e->flags & JOBINDEX_ERROR);
    assert_string_equal(jobindex_str(ix, e->error_code), "ELB.1003");
    assert_string_equal(jobindex_str(ix, e->fail_reason), "quota");
    assert_string_equal(jobindex_str(ix, e->job_type), "createELB");
    assert_string_equal(jobindex_str(ix, e->resource_id), "lb-1");
    assert_true(e->flags & JOBINDEX_END);
    assert_true(e->duration == 2.5);
    assert_int_equal(e->sub_jobs[JOB_SUCCESS], 2);
    assert_int_equal(e->sub_jobs[JOB_UNKNOWN], 2);
    assert_int_equal(e->sub_jobs[JOB_ROLLBACKING], 0);
    assert_int_equal(e->n_labels, 2);
    jobindex_label(ix, e, 0, &n, &val);
    assert_string_equal(n, "env");
    assert_string_equal(val, "prod");
    jobindex_label(ix, e, 1, &n, &val);
    assert_string_equal(n, "team");
    assert_string_equal(val, "net");

    /* stale record after a 404: type and resource stay (as on elb_job_info), the rest goes */
    e = jobindex_find(ix, ELB, "g");
    assert_int_equal(e->status, JOB_UNKNOWN);
    assert_string_equal(jobindex_str(ix, e->job_type), "createELB");
    assert_int_equal(e->flags & (JOBINDEX_BEGIN | JOBINDEX_END | JOBINDEX_DURATION |
                                 JOBINDEX_ERROR | JOBINDEX_SUB_JOBS | JOBINDEX_FETCH_OK),
                     0);

    e = jobindex_find(ix, ELB, "r");
    assert_true(e->flags & JOBINDEX_DURATION);
    assert_true(e->duration == 10); /* last poll - begin while running */
    assert_false(e->flags & (JOBINDEX_END | JOBINDEX_ERROR | JOBINDEX_FINISHED));

    e = jobindex_find(ix, ELB, "u");
    assert_int_equal(e->flags, 0);
    assert_string_equal(jobindex_str(ix, e->job_type), "");
    assert_int_equal(e->n_labels, 0);
    jobindex_unref(ix);
}

/* A job of status the profile lacks shows UNKNOWN, as its stateset does. */
static void foreign_status_is_unknown(void **state)
{
    struct jobindex *ix = jobindex_new(1);
    struct job_record rec;
    struct expfmt_job v;

    (void)state;
    memset(&rec, 0, sizeof(rec));
    rec.status = JOB_COMPLETE;
    v = view("x", ELB, &rec, JOB_COMPLETE);
    assert_int_equal(jobindex_add(ix, &v, JOB_SRC_FLAG, 0, 0), 0);
    assert_int_equal(jobindex_seal(ix), 0);
    assert_int_equal(jobindex_at(ix, 0)->status, JOB_UNKNOWN);
    jobindex_unref(ix);
}

/* Many jobs: every one is found where a linear scan finds it; entries stay small. */
static void many_jobs(void **state)
{
    enum { N = 5000 };
    struct jobindex *ix = jobindex_new(N), *again;
    static char ids[N][16];
    size_t i, k;

    (void)state;
    assert_true(sizeof(struct jobindex_entry) <= 128);
    for (i = 0; i < N; i++) {
        struct expfmt_job v;
        /* a scrambled order, two profiles */
        snprintf(ids[i], sizeof(ids[i]), "j%05zu", (i * 7919) % N);
        v = view(ids[i], i % 3 ? ELB : ECS, NULL, JOB_UNKNOWN);
        assert_int_equal(jobindex_add(ix, &v, JOB_SRC_FILE, 0, 0), 0);
    }
    assert_int_equal(jobindex_seal(ix), 0);
    for (k = 1; k < N; k++) {
        const struct jobindex_entry *a = jobindex_at(ix, k - 1), *b = jobindex_at(ix, k);
        assert_true(strcmp(jobindex_str(ix, a->id), jobindex_str(ix, b->id)) < 0);
    }
    for (i = 0; i < N; i++) {
        const struct jobindex_entry *e = jobindex_find(ix, i % 3 ? ELB : ECS, ids[i]);
        assert_non_null(e);
        assert_string_equal(jobindex_str(ix, e->id), ids[i]);
        assert_null(jobindex_find(ix, i % 3 ? ECS : ELB, ids[i]));
    }
    again = jobindex_ref(ix);
    jobindex_unref(ix);
    assert_int_equal(jobindex_count(again), N); /* still there: one reference left */
    jobindex_unref(again);
    jobindex_unref(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_and_lookups),
        cmocka_unit_test(values_follow_the_metrics),
        cmocka_unit_test(foreign_status_is_unknown),
        cmocka_unit_test(many_jobs),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
