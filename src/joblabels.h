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

#endif
