/*
 * joblabels: the allow-list and validation of registrant labels (see joblabels.h).
 *
 * Why these four names: they are what a pipeline knows about the job it
 * hands over (which pipeline, which team, which environment, who started it)
 * and what dashboards group by. Each is one label on one series per job
 * (elb_job_info), so the cost is bounded by --jobs.max, not by the values.
 * Free-form names would let one registrant add a series dimension to every
 * query; a name is added here, with a README line, when someone needs it.
 */
#include "joblabels.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Sorted: joblabels_name_allowed searches it in order. */
static const char *const JOB_LABEL_NAMES[] = {"env", "owner", "pipeline", "team", NULL};

const char *const *joblabels_names(void)
{
    return JOB_LABEL_NAMES;
}

int joblabels_name_allowed(const char *name, size_t n)
{
    size_t i;

    for (i = 0; JOB_LABEL_NAMES[i]; i++)
        if (strlen(JOB_LABEL_NAMES[i]) == n && memcmp(JOB_LABEL_NAMES[i], name, n) == 0)
            return 1;
    return 0;
}

/*
 * Length of the UTF-8 character at s[0..n) if it is valid and printable (no
 * C0 control, DEL or C1 control), else 0. Rejects overlongs, surrogates and
 * code points past U+10FFFF.
 */
static size_t printable_char(const unsigned char *s, size_t n)
{
    unsigned cp;
    size_t need, i;

    if (s[0] < 0x80)
        return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        need = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        need = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        need = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n < need)
        return 0;
    for (i = 1; i < need; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((need == 3 && cp < 0x800) || (need == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
        return 0;
    return need;
}

int joblabels_value_valid(const char *value, size_t n)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t i = 0, len;

    if (n == 0 || n > JOB_LABEL_VALUE_MAX)
        return 0;
    while (i < n) {
        len = printable_char(s + i, n - i);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

/* The allow-list as one line, "env, owner, pipeline, team", into buf. */
static void names_line(char *buf, size_t cap)
{
    size_t i, used = 0;

    buf[0] = '\0';
    for (i = 0; JOB_LABEL_NAMES[i] && used < cap; i++) {
        int w = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", JOB_LABEL_NAMES[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int joblabels_add(struct job_labels *l, const char *name, size_t nlen, const char *value,
                  size_t vlen, char *err, size_t errsz)
{
    char names[128];
    unsigned i, at;
    int cmp;

    if (!joblabels_name_allowed(name, nlen)) {
        names_line(names, sizeof(names));
        snprintf(err, errsz, "label \"%.*s\" is not allowed (allowed: %s)",
                 (int)(nlen > JOB_LABEL_NAME_MAX ? JOB_LABEL_NAME_MAX : nlen), name, names);
        return -EINVAL;
    }
    if (!joblabels_value_valid(value, vlen)) {
        snprintf(err, errsz,
                 "label \"%.*s\": the value must be 1 to %u bytes of printable UTF-8 (no "
                 "control characters)",
                 (int)nlen, name, (unsigned)JOB_LABEL_VALUE_MAX);
        return -EINVAL;
    }
    for (at = 0; at < l->n; at++) {
        cmp = strncmp(l->kv[at].name, name, nlen);
        if (cmp == 0 && l->kv[at].name[nlen] == '\0') {
            snprintf(err, errsz, "label \"%.*s\" is given twice", (int)nlen, name);
            return -EEXIST;
        }
        if (cmp > 0 || (cmp == 0 && l->kv[at].name[nlen] != '\0'))
            break;
    }
    if (l->n >= JOB_LABELS_MAX) {
        snprintf(err, errsz, "more than %u labels", (unsigned)JOB_LABELS_MAX);
        return -E2BIG;
    }
    for (i = l->n; i > at; i--)
        l->kv[i] = l->kv[i - 1];
    memset(&l->kv[at], 0, sizeof(l->kv[at]));
    memcpy(l->kv[at].name, name, nlen);
    memcpy(l->kv[at].value, value, vlen);
    l->n++;
    return 0;
}

int joblabels_equal(const struct job_labels *a, const struct job_labels *b)
{
    unsigned na = a ? a->n : 0, nb = b ? b->n : 0, i;

    if (na != nb)
        return 0;
    for (i = 0; i < na; i++)
        if (strcmp(a->kv[i].name, b->kv[i].name) != 0 ||
            strcmp(a->kv[i].value, b->kv[i].value) != 0)
            return 0;
    return 1;
}
