/*
 * joblabels: the labels a registrant may give a job (POST /api/v1/jobs).
 *
 * Cardinality is bounded by construction: only the names of an allow-list
 * (JOB_LABEL_NAMES in joblabels.c: chosen by the registry work), at most
 * JOB_LABELS_MAX per job, values of at most JOB_LABEL_VALUE_MAX bytes of
 * printable UTF-8. They are rendered on the job's elb_job_info series only.
 */
#ifndef ELB_JOBLABELS_H
#define ELB_JOBLABELS_H

#include <stddef.h>

#define JOB_LABELS_MAX 4
#define JOB_LABEL_NAME_MAX 32
#define JOB_LABEL_VALUE_MAX 64

struct job_label {
    char name[JOB_LABEL_NAME_MAX + 1];
    char value[JOB_LABEL_VALUE_MAX + 1];
};

struct job_labels {
    unsigned n; /* used entries of kv, sorted by name, names unique */
    struct job_label kv[JOB_LABELS_MAX];
};

/*
 * The allow-list (JOB_LABEL_NAMES in joblabels.c), sorted, NULL-terminated:
 * env, owner, pipeline, team. None of them is a label the exporter sets itself
 * (job_id, job_type, profile, resource_id, status, error_code, fail_reason).
 */
const char *const *joblabels_names(void);
/* Is name[0..n) on the allow-list? */
int joblabels_name_allowed(const char *name, size_t n);
/*
 * Is value[0..n) a valid label value: 1..JOB_LABEL_VALUE_MAX bytes of valid
 * UTF-8 without control characters (C0, DEL, C1)? Pure.
 */
int joblabels_value_valid(const char *value, size_t n);
/*
 * Add name = value to l, kept sorted by name. Returns 0, or with a one-line
 * reason in err (errsz > 0): -EINVAL for a name off the allow-list or an
 * invalid value, -EEXIST for a name l already has, -E2BIG past JOB_LABELS_MAX.
 * l is unchanged on failure.
 */
int joblabels_add(struct job_labels *l, const char *name, size_t nlen, const char *value,
                  size_t vlen, char *err, size_t errsz);
/* Do a and b hold the same labels (NULL counts as none)? */
int joblabels_equal(const struct job_labels *a, const struct job_labels *b);

#endif
