/*
 * store_stub: a stand-in for src/store.c (the durable store, built on its own
 * branch) so that this branch links and its tests can take the store's path
 * through the registration API. NOT the product: it keeps nothing on disk.
 * CMakeLists.txt builds it into the exporter only while src/store.c does not
 * exist; the merge of the store removes it from the build by itself.
 *
 * Keeps registrations in memory (thread-safe, as store.h promises) and counts
 * calls. ELB_STORE_STUB_FAIL=1 in the environment makes every store_register
 * and store_forget fail with -EIO, to test that the API answers 500 and takes
 * the registration back.
 */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

struct store {
    pthread_mutex_t lock;
    struct store_stats stats;
    int fail;
};

struct store *store_open(const char *dir, void (*each)(void *arg, const struct store_job *j),
                         void *arg, char *err, size_t errsz)
{
    struct store *s = calloc(1, sizeof(*s));
    const char *fail = getenv("ELB_STORE_STUB_FAIL");

    (void)each;
    (void)arg;
    if (!s || pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    s->fail = fail && strcmp(fail, "1") == 0;
    log_warn("--storage.path=%s: this build has the store stub (tests/store_stub.c): nothing is "
             "kept on disk",
             dir);
    return s;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    free(s);
}

static int count(struct store *s)
{
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = s->fail ? -EIO : 0;
    if (rc)
        s->stats.write_errors++;
    else
        s->stats.appends++;
    pthread_mutex_unlock(&s->lock);
    return rc;
}

int store_register(struct store *s, const struct api_profile *p, const char *id,
                   const struct job_labels *labels, double now)
{
    (void)p;
    (void)id;
    (void)labels;
    (void)now;
    return count(s);
}

int store_forget(struct store *s, const struct api_profile *p, const char *id)
{
    (void)p;
    (void)id;
    return count(s);
}

int store_finished(struct store *s, const struct api_profile *p, const char *id,
                   const struct job_record *rec, double finished_at, double observed_at)
{
    (void)p;
    (void)id;
    (void)rec;
    (void)finished_at;
    (void)observed_at;
    return count(s);
}

int store_expire(struct store *s, const struct api_profile *p, const char *id)
{
    (void)p;
    (void)id;
    return count(s);
}

void store_get_stats(struct store *s, struct store_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = s->stats;
    pthread_mutex_unlock(&s->lock);
}
