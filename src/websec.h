/*
 * websec: the web security state of the HTTP server: the current generation
 * of --web.config.file (its settings, the TLS credentials built from its
 * certificate files, its basic auth users), re-read when a file changes.
 *
 * exporter-toolkit reads the file on every request and the certificates on
 * every new connection, so that they rotate without a restart. This does the
 * equivalent cheaply: websec_check stat(2)s the web config file and the
 * certificate, key and client CA files it names, and builds a new generation
 * only when one of them changed (device, inode, size, modification or change
 * time, or whether it exists). The caller decides how often to look (every
 * new connection, and at most once a second for requests on kept-alive ones).
 * A reload that fails leaves the last good generation in place; the failed
 * files are not tried again until one of them changes again.
 *
 * A generation is immutable and reference counted: a connection keeps the
 * TLS credentials it started its handshake with, a request the settings it
 * was judged with, until they end, while newer ones take the new generation.
 * Whether TLS is on is fixed at websec_open (libmicrohttpd's daemon is either
 * a TLS one or not): a reload that would turn it on or off fails.
 *
 * Thread-safety: websec_check and websec_acquire may be called from any
 * thread (the current pointer is swapped under a lock); a generation may be
 * released from any thread. Library-like: no logging; the caller logs.
 */
#ifndef ELB_WEBSEC_H
#define ELB_WEBSEC_H

#include <stddef.h>

#include "webconfig.h"
#include "webtls.h"

#define WEBSEC_ERR_MAX WEBCONFIG_ERR_MAX

struct websec;
struct websec_gen;

/*
 * Read and check path and the files it names, and build its first
 * generation. Returns 0 and *out, or a negative errno with the reason(s) in
 * err (a bad file is -EINVAL).
 */
int websec_open(const char *path, struct websec **out, char *err, size_t errsz);
/* Free (every generation must have been released). Accepts NULL. */
void websec_free(struct websec *ws);
/* Is TLS on (fixed for the life of ws)? */
int websec_tls(const struct websec *ws);
/* The file's path. */
const char *websec_path(const struct websec *ws);

enum websec_result {
    WEBSEC_UNCHANGED = 0, /* no watched file changed */
    WEBSEC_RELOADED,      /* a new generation is current */
    WEBSEC_FAILED,        /* a file changed, and the new state is unusable (err says why) */
};
/* Look whether a watched file changed; if so, reload. err: why it failed. */
enum websec_result websec_check(struct websec *ws, char *err, size_t errsz);

/* The current generation, with a reference the caller releases. Never NULL. */
struct websec_gen *websec_acquire(struct websec *ws);
/* Drop a reference. Accepts NULL. */
void websec_release(struct websec_gen *g);

/* The generation's settings. */
const struct webconfig *websec_config(const struct websec_gen *g);
/* Its TLS credentials; NULL when TLS is off. */
const struct webtls *websec_webtls(const struct websec_gen *g);
/*
 * A bcrypt setting at the generation's highest user cost with a random salt
 * (and a hash part no password gives), for checking an unknown user's
 * password against, so that an unknown user takes as long as a known one.
 * "" when there are no users.
 */
const char *websec_dummy_hash(const struct websec_gen *g);

/* Read path, check it and the files it names, free everything (for --config.check). */
int websec_validate(const char *path, char *err, size_t errsz);

#endif
