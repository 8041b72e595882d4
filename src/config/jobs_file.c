/*
 * jobs_file: job lists. It owns what a job reference is (an ID, or
 * PROFILE:ID), adding one to the list (config_add_job), the --jobs.file text
 * format and reading it at start and on reload (config_reload_jobs), and the
 * bounded, FIFO-safe reading of a whole file that every file of src/config/
 * uses (config_read_file).
 *
 * A job may name its API profile as PROFILE:ID (product.md). This version has
 * one profile, elb-v1, which is also every job's default: a known prefix is
 * accepted and removed, an unknown one is refused naming the known ones. When
 * a second profile arrives, the list must carry each job's profile.
 */
#include "config_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job.h"

#define CONFIG_READ_CHUNK 65536 /* growth step reading a file */
#define CONFIG_JOBS_INITIAL 8   /* first allocation of c->jobs */
#define CONFIG_PROFILE_NAME_MAX 32

/* What kind of file mode is, for "not a regular file" errors. */
static const char *file_kind(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    return "a special file";
}

/*
 * Opened non-blocking so that a FIFO never blocks the caller waiting for a
 * writer; it is refused before any read.
 */
int cfg_open_regular(const char *path, struct stat *st, const char **kind)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), rc;

    if (fd < 0)
        return -errno;
    if (fstat(fd, st) != 0) {
        rc = -errno;
        close(fd);
        return rc;
    }
    if (!S_ISREG(st->st_mode)) {
        *kind = file_kind(st->st_mode);
        close(fd);
        return -EINVAL;
    }
    return fd;
}

int config_read_file(const char *path, size_t max, char **out, size_t *out_len, const char **kind,
                     struct stat *stp)
{
    char *buf = NULL, *nb;
    size_t len = 0, cap = 0;
    struct stat st;
    ssize_t n;
    int fd, rc = 0;

    fd = cfg_open_regular(path, &st, kind);
    if (fd < 0)
        return fd;
    for (;;) {
        if (len == cap) {
            if (cap > max) {
                rc = -EFBIG;
                goto out;
            }
            cap = cap + CONFIG_READ_CHUNK > max + 1 ? max + 1 : cap + CONFIG_READ_CHUNK;
            nb = realloc(buf, cap);
            if (!nb) {
                rc = -ENOMEM;
                goto out;
            }
            buf = nb;
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > max) {
            rc = -EFBIG;
            goto out;
        }
    }
    *out = buf;
    *out_len = len;
    if (stp)
        *stp = st;
    buf = NULL;
out:
    free(buf);
    close(fd);
    return rc;
}

const char *cfg_job_ref_problem(const char *s, size_t n, const char **id, size_t *idlen, char *buf,
                                size_t len)
{
    char sb[CONFIG_SHOW_BUF], pb[CONFIG_SHOW_BUF], known[CONFIG_SHOW_BUF],
        name[CONFIG_PROFILE_NAME_MAX + 1];
    const char *colon = memchr(s, ':', n);

    *id = s;
    *idlen = n;
    if (colon) {
        size_t pl = (size_t)(colon - s);

        if (pl == 0 || pl > CONFIG_PROFILE_NAME_MAX || memchr(s, '\0', pl)) {
            name[0] = '\0';
        } else {
            memcpy(name, s, pl);
            name[pl] = '\0';
        }
        if (!name[0] || !profile_find(name)) {
            cfg_known_profiles(known, sizeof(known));
            snprintf(buf, len, "unknown API profile \"%s\" in job \"%s\" (known: %s)",
                     cfg_show(pb, s, pl), cfg_show(sb, s, n), known);
            return buf;
        }
        *id = colon + 1;
        *idlen = n - pl - 1;
    }
    if (!job_id_valid(*id, *idlen)) {
        snprintf(buf, len, "invalid job ID \"%s\" " JOB_ID_RULE, cfg_show(sb, s, n));
        return buf;
    }
    return NULL;
}

unsigned cfg_job_ref_profile_bit(const char *s, size_t n)
{
    const char *colon = memchr(s, ':', n);
    const struct api_profile *p;
    size_t i;

    for (i = 0; colon && (p = profile_at(i)) != NULL; i++)
        if (strlen(p->name) == (size_t)(colon - s) && memcmp(p->name, s, (size_t)(colon - s)) == 0)
            return 1u << i;
    return 0;
}

void config_job_ref(const struct config *c, const char *ref, const struct api_profile **profile,
                    const char **id)
{
    const char *colon = strchr(ref, ':');
    char name[CONFIG_PROFILE_NAME_MAX + 1];
    size_t n = colon ? (size_t)(colon - ref) : 0;

    *profile = c->profile ? c->profile : profile_default();
    *id = ref;
    if (!colon || n > CONFIG_PROFILE_NAME_MAX)
        return;
    memcpy(name, ref, n);
    name[n] = '\0';
    if (profile_find(name)) { /* validated when the list was built: always found */
        *profile = profile_find(name);
        *id = colon + 1;
    }
}

/* Append an owned ID to c->jobs, growing by doubling. Returns 0 or -ENOMEM. */
static int jobs_push(struct config *c, char *id)
{
    size_t n = c->n_jobs;
    char **nj;

    /* capacity is CONFIG_JOBS_INITIAL, then the next power of two: full at n == 0 or 8, 16, ... */
    if (n == 0 || (n >= CONFIG_JOBS_INITIAL && (n & (n - 1)) == 0)) {
        nj = realloc(c->jobs, (n == 0 ? CONFIG_JOBS_INITIAL : 2 * n) * sizeof(*nj));
        if (!nj)
            return -ENOMEM;
        c->jobs = nj;
    }
    c->jobs[c->n_jobs++] = id;
    return 0;
}

int config_add_job(struct config *c, const char *ref)
{
    char why[CONFIG_LINE_MAX];
    const char *id;
    size_t i, n;
    char *d;

    if (!ref || cfg_job_ref_problem(ref, strlen(ref), &id, &n, why, sizeof(why)))
        return -EINVAL;
    /* kept as given, PROFILE: and all: the job table keys a job by (profile, ID) */
    c->profiles_named |= cfg_job_ref_profile_bit(ref, strlen(ref));
    for (i = 0; i < c->n_jobs; i++)
        if (strcmp(c->jobs[i], ref) == 0)
            return 0;
    if (c->n_jobs >= CONFIG_MAX_JOBS)
        return -E2BIG;
    d = strdup(ref);
    if (!d)
        return -ENOMEM;
    if (jobs_push(c, d) < 0) {
        free(d);
        return -ENOMEM;
    }
    return 0;
}

/* An open-addressing set of job IDs (pointers into c->jobs), for de-duplicating a file. */
struct idset {
    const char **slot;
    size_t mask;
};

static size_t id_hash(const char *s, size_t n)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return (size_t)h;
}

/* The slot holding s[0..n), or the empty slot where it belongs. */
static const char **idset_slot(struct idset *set, const char *s, size_t n)
{
    size_t i = id_hash(s, n) & set->mask;

    while (set->slot[i] && !(strncmp(set->slot[i], s, n) == 0 && set->slot[i][n] == '\0'))
        i = (i + 1) & set->mask;
    return &set->slot[i];
}

/* A set with room for want IDs at most half full. Returns 0 or -ENOMEM. */
static int idset_init(struct idset *set, size_t want)
{
    size_t slots = 16;

    while (slots < 2 * want)
        slots *= 2;
    set->slot = calloc(slots, sizeof(*set->slot));
    set->mask = slots - 1;
    return set->slot ? 0 : -ENOMEM;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\v' || ch == '\f';
}

int config_add_jobs_text(struct config *c, const char *path, const char *text, size_t len,
                         char *err, size_t errsz)
{
    char pb[CONFIG_SHOW_BUF], why[CONFIG_LINE_MAX];
    struct idset set = {NULL, 0};
    size_t old_n = c->n_jobs, lines = 1, pos = 0, lineno = 0, i, want;
    int rc = 0;

    if (!path)
        path = "-";
    if (!text) {
        text = "";
        len = 0;
    }
    for (i = 0; i < len; i++)
        lines += text[i] == '\n';
    want = old_n + lines > CONFIG_MAX_JOBS ? CONFIG_MAX_JOBS + 1 : old_n + lines;
    if (idset_init(&set, want) < 0) {
        rc = -ENOMEM;
        cfg_set_err(err, errsz, "%s: out of memory", cfg_show(pb, path, strlen(path)));
        goto out;
    }
    for (i = 0; i < old_n; i++)
        *idset_slot(&set, c->jobs[i], strlen(c->jobs[i])) = c->jobs[i];
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        pos = 3; /* UTF-8 byte order mark */

    while (pos <= len) {
        const char *eol = memchr(text + pos, '\n', len - pos), *hash, **slot, *id;
        size_t end = eol ? (size_t)(eol - text) : len, s = pos, e, idlen;
        char *d;

        lineno++;
        hash = memchr(text + s, '#', end - s);
        e = hash ? (size_t)(hash - text) : end;
        while (s < e && is_blank(text[s]))
            s++;
        while (e > s && is_blank(text[e - 1]))
            e--;
        pos = end + 1;
        if (e == s)
            continue;
        if (cfg_job_ref_problem(text + s, e - s, &id, &idlen, why, sizeof(why))) {
            rc = -EINVAL;
            cfg_set_err(err, errsz, "%s:%zu: %s", cfg_show(pb, path, strlen(path)), lineno, why);
            goto out;
        }
        c->profiles_named |= cfg_job_ref_profile_bit(text + s, e - s);
        slot = idset_slot(&set, text + s, e - s); /* the reference as given, PROFILE: and all */
        if (*slot)
            continue; /* duplicate */
        if (c->n_jobs >= CONFIG_MAX_JOBS) {
            rc = -E2BIG;
            cfg_set_err(err, errsz, "%s:%zu: too many jobs (max %d)",
                        cfg_show(pb, path, strlen(path)), lineno, CONFIG_MAX_JOBS);
            goto out;
        }
        d = strndup(text + s, e - s);
        if (!d || jobs_push(c, d) < 0) {
            free(d);
            rc = -ENOMEM;
            cfg_set_err(err, errsz, "%s:%zu: out of memory", cfg_show(pb, path, strlen(path)),
                        lineno);
            goto out;
        }
        *slot = d;
    }
out:
    if (rc < 0) {
        for (i = old_n; i < c->n_jobs; i++)
            free(c->jobs[i]);
        c->n_jobs = old_n;
    }
    free(set.slot);
    return rc;
}

/*
 * Read path (at most CONFIG_JOBS_FILE_MAX bytes) into *text. Returns 0 or
 * -errno with the reason, without the path's "who", in why.
 */
static int read_jobs_file(const char *path, char **text, size_t *len, char *why, size_t whysz)
{
    char sb[CONFIG_SHOW_BUF], eb[CONFIG_ERRNO_TEXT];
    const char *kind = NULL;
    int rc = config_read_file(path, CONFIG_JOBS_FILE_MAX, text, len, &kind, NULL);

    if (rc == -EFBIG)
        cfg_set_err(why, whysz, "\"%s\" is larger than %u bytes", cfg_show(sb, path, strlen(path)),
                    CONFIG_JOBS_FILE_MAX);
    else if (rc == -EINVAL && kind)
        cfg_set_err(why, whysz, "\"%s\" is not a regular file (%s)",
                    cfg_show(sb, path, strlen(path)), kind);
    else if (rc < 0)
        cfg_set_err(why, whysz, "cannot read \"%s\": %s", cfg_show(sb, path, strlen(path)),
                    cfg_errno_text(-rc, eb));
    return rc;
}

int cfg_jobs_file_load(struct parse *p)
{
    char why[CONFIG_SHOW_BUF * 3], who[CONFIG_ORIGIN_MAX];
    const char *path = p->c->jobs_file;
    char *text = NULL;
    size_t len = 0;
    int rc;

    p->who = cfg_setting_origin(p->c, S_JOBS_FILE, who, sizeof(who));
    rc = read_jobs_file(path, &text, &len, why, sizeof(why));
    if (rc == 0) {
        rc = config_add_jobs_text(p->c, path, text, len, why, sizeof(why));
        free(text);
    }
    if (rc == -ENOMEM)
        return cfg_problem_oom(p);
    if (rc < 0)
        return cfg_problem(p, "%s", why);
    return CONFIG_OK;
}

int config_reload_jobs(const struct config *c, char ***jobs, size_t *n, char *err, size_t errsz)
{
    struct config tmp;
    char *text = NULL;
    size_t i, len = 0, keep = c->n_flag_jobs + c->n_config_jobs;
    int rc = 0;

    memset(&tmp, 0, sizeof(tmp));
    cfg_set_err(err, errsz, "%s", "");
    if (!c->jobs_file) {
        cfg_set_err(err, errsz, "no --jobs.file to reload");
        return -EINVAL;
    }
    for (i = 0; i < keep && i < c->n_jobs && rc == 0; i++)
        rc = config_add_job(&tmp, c->jobs[i]);
    if (rc) {
        cfg_set_err(err, errsz, "out of memory");
        goto fail;
    }
    rc = read_jobs_file(c->jobs_file, &text, &len, err, errsz);
    if (rc)
        goto fail;
    rc = config_add_jobs_text(&tmp, c->jobs_file, text, len, err, errsz);
    free(text);
    if (rc)
        goto fail;
    *jobs = tmp.jobs;
    *n = tmp.n_jobs;
    return 0;
fail:
    config_release(&tmp);
    return rc;
}

void config_free_jobs(char **jobs, size_t n)
{
    size_t i;

    for (i = 0; jobs && i < n; i++)
        free(jobs[i]);
    free(jobs);
}
