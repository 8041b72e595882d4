/*
 * webauth: checks basic auth passwords against bcrypt hashes (libcrypt's
 * crypt_rn) without stalling the HTTP server, and remembers the checks that
 * passed.
 *
 * bcrypt is slow on purpose (cost 10 is 50-150 ms), and the HTTP server
 * answers every connection from one thread, so a check never runs there:
 * webauth_check looks in the cache and, on a miss, queues the check for
 * webauth's own worker thread and returns WEBAUTH_PENDING; the worker calls
 * the job's done function when it is over (the HTTP server suspends the
 * request meanwhile, and resumes it from done). One worker, as
 * exporter-toolkit runs one bcrypt at a time: a flood of wrong passwords costs
 * one core at most, and the queue is bounded (WEBAUTH_QUEUE_MAX; past it,
 * WEBAUTH_BUSY).
 *
 * The cache holds the checks that passed, as exporter-toolkit's does, so that
 * a scrape does not pay for bcrypt every time: up to WEBAUTH_CACHE_MAX
 * SHA-256 digests of (user, password, hash), the least recently used one
 * replaced first. A lookup compares every entry in constant time. Because the
 * hash is part of the key, a password changed in the web config never matches
 * an old entry. Failures are not cached: each wrong password costs a bcrypt,
 * for an unknown user too (the caller passes a dummy hash of the same cost),
 * so that a wrong user and a wrong password take as long.
 */
#ifndef ELB_WEBAUTH_H
#define ELB_WEBAUTH_H

#include <stddef.h>
#include <stdint.h>

#define WEBAUTH_CACHE_MAX 64  /* checks that passed, remembered */
#define WEBAUTH_QUEUE_MAX 32  /* checks waiting for the worker */
#define WEBAUTH_SECRET_MAX 72 /* bytes of a password bcrypt looks at */
#define WEBAUTH_HASH_MAX 63   /* bytes of a bcrypt hash (60) with room */

enum webauth_result {
    WEBAUTH_DENIED = 0, /* wrong user or password */
    WEBAUTH_OK,         /* right, from the cache */
    WEBAUTH_PENDING,    /* queued: done will be called from the worker */
    WEBAUTH_BUSY,       /* the queue is full, or webauth is shutting down */
};

/*
 * One check, owned by the caller (for the HTTP server: in the connection's
 * slot). webauth_check fills the private part; the caller sets done (and
 * whatever it needs to find its request from the job) before calling.
 */
struct webauth_job {
    /* the caller's */
    void (*done)(struct webauth_job *job, int ok); /* from the worker thread; last use of job */
    void *cls;
    /* webauth's */
    struct webauth_job *next;
    unsigned char digest[32];
    char secret[WEBAUTH_SECRET_MAX + 1];
    char hash[WEBAUTH_HASH_MAX + 1];
    int known;
};

struct webauth_stats {
    uint64_t hits;      /* checks answered from the cache */
    uint64_t bcrypts;   /* bcrypt runs */
    uint64_t bcrypt_ns; /* time they took */
    uint64_t busy;      /* checks refused with WEBAUTH_BUSY */
};

struct webauth;

/* Start the worker. NULL with errno on failure. */
struct webauth *webauth_new(void);
/*
 * Stop taking checks (webauth_check returns WEBAUTH_BUSY from now on),
 * answer every queued one as denied without running bcrypt, and join the
 * worker. Idempotent. Accepts NULL.
 */
void webauth_shutdown(struct webauth *a);
/* webauth_shutdown, then free. Accepts NULL. */
void webauth_free(struct webauth *a);

/*
 * Check user's password against hash (a bcrypt hash, or the dummy setting
 * when the user is unknown, known 0: then the answer is always denied, after
 * the same work). Returns WEBAUTH_OK from the cache, WEBAUTH_PENDING when job
 * was queued (job->done is called once, later, from the worker), or
 * WEBAUTH_BUSY. Never WEBAUTH_DENIED itself: a wrong password is only known
 * after bcrypt. The password is copied into job (and wiped after use); the
 * caller may wipe its own copy at once.
 */
enum webauth_result webauth_check(struct webauth *a, const char *user, size_t user_len,
                                  const char *password, size_t password_len, const char *hash,
                                  int known, struct webauth_job *job);

/* Counters since webauth_new. */
void webauth_stats(struct webauth *a, struct webauth_stats *out);

#endif
