/*
 * webauth: bcrypt checks on a worker thread, and a cache of the ones that
 * passed (see webauth.h).
 *
 * DESIGN. The HTTP server's thread and the worker meet in struct webauth,
 * under lock: the queue (a singly linked FIFO of the callers' jobs), the
 * cache and the counters. The HTTP thread computes the digest and looks in
 * the cache (a hit never waits for the worker), or appends the job and
 * signals. The worker takes one job at a time, runs bcrypt without the lock,
 * then takes the lock to insert a passed check into the cache, and calls
 * done without it. After done the job belongs to its caller again (the
 * HTTP server may reuse it for the connection's next request at once), so
 * the worker never touches a job after done. Shutdown sets closing under the
 * lock: the worker then answers what is queued as denied and exits.
 */
#include "webauth.h"

#include <crypt.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIGEST_LEN 32

struct cache_entry {
    unsigned char digest[DIGEST_LEN];
    uint64_t used; /* tick of the last hit or insert; 0: empty */
};

struct webauth {
    pthread_mutex_t lock; /* everything below */
    pthread_cond_t wake;
    struct webauth_job *head, *tail;
    unsigned queued;
    int closing, started;
    pthread_t worker;
    struct cache_entry cache[WEBAUTH_CACHE_MAX];
    uint64_t tick;
    struct webauth_stats stats;
};

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* SHA-256 of (user, password, hash), each length-prefixed so no two triples collide. */
static int digest_of(const char *user, size_t ul, const char *pw, size_t pl, const char *hash,
                     unsigned char out[DIGEST_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    uint64_t lens[2] = {ul, pl};
    unsigned n = 0;
    int ok;

    if (!ctx)
        return -ENOMEM;
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) && EVP_DigestUpdate(ctx, &lens[0], 8) &&
         EVP_DigestUpdate(ctx, user, ul) && EVP_DigestUpdate(ctx, &lens[1], 8) &&
         EVP_DigestUpdate(ctx, pw, pl) && EVP_DigestUpdate(ctx, hash, strlen(hash)) &&
         EVP_DigestFinal_ex(ctx, out, &n) && n == DIGEST_LEN;
    EVP_MD_CTX_free(ctx);
    return ok ? 0 : -EIO;
}

/* Index of digest d in the cache, or -1. Every entry is compared, in constant time. Locked. */
static int cache_find(const struct webauth *a, const unsigned char *d)
{
    int found = -1, i;

    for (i = 0; i < WEBAUTH_CACHE_MAX; i++) {
        int same = a->cache[i].used != 0 && CRYPTO_memcmp(a->cache[i].digest, d, DIGEST_LEN) == 0;

        found = same ? i : found;
    }
    return found;
}

/* Remember digest d, replacing the least recently used entry. Locked. */
static void cache_insert(struct webauth *a, const unsigned char *d)
{
    int i, victim = 0;

    if (cache_find(a, d) >= 0)
        return;
    for (i = 1; i < WEBAUTH_CACHE_MAX; i++)
        if (a->cache[i].used < a->cache[victim].used)
            victim = i;
    memcpy(a->cache[victim].digest, d, DIGEST_LEN);
    a->cache[victim].used = ++a->tick;
}

/* Does password match hash? Runs bcrypt (data: libcrypt's scratch space). */
static int bcrypt_match(const char *password, const char *hash, struct crypt_data *data)
{
    const char *out;
    size_t hl = strlen(hash);
    int ok;

    memset(data, 0, sizeof(*data));
    out = crypt_rn(password, hash, data, (int)sizeof(*data));
    ok = out && out[0] != '*' && strlen(out) == hl && CRYPTO_memcmp(out, hash, hl) == 0;
    explicit_bzero(data, sizeof(*data)); /* it held the password's key schedule */
    return ok;
}

static void *worker_main(void *arg)
{
    struct webauth *a = arg;
    struct crypt_data *data = malloc(sizeof(*data));
    struct webauth_job *job;
    uint64_t t0, spent;
    int ok;

    pthread_mutex_lock(&a->lock);
    for (;;) {
        while (!a->head && !a->closing)
            pthread_cond_wait(&a->wake, &a->lock);
        job = a->head;
        if (!job)
            break; /* closing, nothing queued */
        a->head = job->next;
        if (!a->head)
            a->tail = NULL;
        a->queued--;
        if (a->closing || !data) {
            pthread_mutex_unlock(&a->lock);
            explicit_bzero(job->secret, sizeof(job->secret));
            job->done(job, 0);
            pthread_mutex_lock(&a->lock);
            continue;
        }
        pthread_mutex_unlock(&a->lock);

        t0 = now_ns();
        ok = bcrypt_match(job->secret, job->hash, data) && job->known;
        spent = now_ns() - t0;
        explicit_bzero(job->secret, sizeof(job->secret));

        pthread_mutex_lock(&a->lock);
        a->stats.bcrypts++;
        a->stats.bcrypt_ns += spent;
        if (ok)
            cache_insert(a, job->digest);
        pthread_mutex_unlock(&a->lock);
        job->done(job, ok); /* the job is its caller's again */
        pthread_mutex_lock(&a->lock);
    }
    pthread_mutex_unlock(&a->lock);
    free(data);
    return NULL;
}

struct webauth *webauth_new(void)
{
    struct webauth *a = calloc(1, sizeof(*a));
    int rc;

    if (!a)
        return NULL;
    rc = pthread_mutex_init(&a->lock, NULL);
    if (rc)
        goto fail;
    rc = pthread_cond_init(&a->wake, NULL);
    if (rc) {
        pthread_mutex_destroy(&a->lock);
        goto fail;
    }
    rc = pthread_create(&a->worker, NULL, worker_main, a);
    if (rc) {
        pthread_cond_destroy(&a->wake);
        pthread_mutex_destroy(&a->lock);
        goto fail;
    }
    a->started = 1;
    return a;
fail:
    free(a);
    errno = rc;
    return NULL;
}

void webauth_shutdown(struct webauth *a)
{
    int join;

    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->closing = 1;
    join = a->started;
    a->started = 0;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    if (join)
        pthread_join(a->worker, NULL);
}

void webauth_free(struct webauth *a)
{
    if (!a)
        return;
    webauth_shutdown(a);
    explicit_bzero(a->cache, sizeof(a->cache));
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

enum webauth_result webauth_check(struct webauth *a, const char *user, size_t user_len,
                                  const char *password, size_t password_len, const char *hash,
                                  int known, struct webauth_job *job)
{
    size_t hl = strlen(hash), n;
    int hit;

    if (hl > WEBAUTH_HASH_MAX)
        return WEBAUTH_BUSY; /* not a hash webconfig accepts: cannot happen */
    if (digest_of(user, user_len, password, password_len, hash, job->digest) != 0)
        return WEBAUTH_BUSY;
    pthread_mutex_lock(&a->lock);
    hit = known ? cache_find(a, job->digest) : -1;
    if (hit >= 0) {
        a->cache[hit].used = ++a->tick;
        a->stats.hits++;
        pthread_mutex_unlock(&a->lock);
        return WEBAUTH_OK;
    }
    if (a->closing || a->queued >= WEBAUTH_QUEUE_MAX) {
        a->stats.busy++;
        pthread_mutex_unlock(&a->lock);
        return WEBAUTH_BUSY;
    }
    /* bcrypt reads at most 72 bytes of a password: the copy loses nothing it would use */
    n = password_len > WEBAUTH_SECRET_MAX ? WEBAUTH_SECRET_MAX : password_len;
    memcpy(job->secret, password, n);
    job->secret[n] = '\0';
    memcpy(job->hash, hash, hl + 1);
    job->known = known;
    job->next = NULL;
    if (a->tail)
        a->tail->next = job;
    else
        a->head = job;
    a->tail = job;
    a->queued++;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    return WEBAUTH_PENDING;
}

void webauth_stats(struct webauth *a, struct webauth_stats *out)
{
    pthread_mutex_lock(&a->lock);
    *out = a->stats;
    pthread_mutex_unlock(&a->lock);
}
