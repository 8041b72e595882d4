/*
 * websec: the current web config generation and its reload (see websec.h).
 */
#include "websec.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WEBSEC_WATCH_MAX 4 /* the web config file, cert_file, key_file, client_ca_file */

/* What stat(2) says about a file, as far as a change is concerned. */
struct filesig {
    int err; /* errno of a failed stat, 0 when it exists */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtim, ctim;
};

struct watch {
    char *path;
    struct filesig sig; /* as of the last load attempt */
};

struct websec_gen {
    atomic_uint refs;
    struct webconfig *cfg;
    struct webtls *tls; /* NULL: TLS off */
    char dummy[WEBCONFIG_BCRYPT_LEN + 1];
};

struct websec {
    char *path, *dir;
    int tls;
    pthread_mutex_t lock; /* cur, watch: checks are serialised */
    struct websec_gen *cur;
    struct watch watch[WEBSEC_WATCH_MAX];
    size_t n_watch;
};

static void sig_of(const struct stat *st, struct filesig *s)
{
    memset(s, 0, sizeof(*s));
    s->dev = st->st_dev;
    s->ino = st->st_ino;
    s->size = st->st_size;
    s->mtim = st->st_mtim;
    s->ctim = st->st_ctim;
}

static void sig_stat(const char *path, struct filesig *s)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        memset(s, 0, sizeof(*s));
        s->err = errno ? errno : EIO;
        return;
    }
    sig_of(&st, s);
}

static int sig_equal(const struct filesig *a, const struct filesig *b)
{
    return a->err == b->err && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
           a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static void watch_clear(struct watch *w, size_t *n)
{
    size_t i;

    for (i = 0; i < *n; i++)
        free(w[i].path);
    *n = 0;
}

/* Remember path in w (n entries, cap WEBSEC_WATCH_MAX) with signature s. Returns 0 or -ENOMEM. */
static int watch_add(struct watch *w, size_t *n, const char *path, const struct filesig *s)
{
    if (*n >= WEBSEC_WATCH_MAX)
        return 0;
    w[*n].path = strdup(path);
    if (!w[*n].path)
        return -ENOMEM;
    w[*n].sig = *s;
    ++*n;
    return 0;
}

/*
 * Read the regular file path (at most WEBCONFIG_FILE_MAX bytes) into a new
 * NUL-terminated buffer; *sig gets what fstat said of the file read (or the
 * open's errno). what names the file in err ("": the path says it all).
 * Returns 0 or a negative errno.
 */
static int read_file(const char *path, const char *what, char **buf, size_t *len,
                     struct filesig *sig, char *err, size_t errsz)
{
    struct stat st;
    char *b = NULL;
    size_t n = 0;
    ssize_t r;
    int fd, rc;

    memset(sig, 0, sizeof(*sig));
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        rc = errno;
        sig->err = rc;
        snprintf(err, errsz, "%s%scannot read \"%s\": %s", what, what[0] ? ": " : "", path,
                 strerror(rc));
        return -rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = errno;
        sig->err = rc;
        snprintf(err, errsz, "%s%scannot read \"%s\": %s", what, what[0] ? ": " : "", path,
                 strerror(rc));
        close(fd);
        return -rc;
    }
    sig_of(&st, sig);
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errsz, "%s%s\"%s\" is not a regular file", what, what[0] ? ": " : "", path);
        close(fd);
        return -EINVAL;
    }
    b = malloc(WEBCONFIG_FILE_MAX + 2);
    if (!b) {
        snprintf(err, errsz, "out of memory");
        close(fd);
        return -ENOMEM;
    }
    for (;;) {
        r = read(fd, b + n, WEBCONFIG_FILE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
        if (n > WEBCONFIG_FILE_MAX)
            break;
    }
    rc = r < 0 ? errno : 0;
    close(fd);
    if (rc || n > WEBCONFIG_FILE_MAX) {
        if (rc)
            snprintf(err, errsz, "%s%scannot read \"%s\": %s", what, what[0] ? ": " : "", path,
                     strerror(rc));
        else
            snprintf(err, errsz, "%s%s\"%s\" is larger than %u bytes", what, what[0] ? ": " : "",
                     path, (unsigned)WEBCONFIG_FILE_MAX);
        explicit_bzero(b, n);
        free(b);
        return rc ? -rc : -EFBIG;
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* Wipe (it may hold a private key) and free a buffer of read_file. */
static void drop_file(char *b, size_t len)
{
    if (b) {
        explicit_bzero(b, len);
        free(b);
    }
}

static void gen_free(struct websec_gen *g)
{
    if (!g)
        return;
    webtls_free(g->tls);
    webconfig_free(g->cfg);
    free(g);
}

/* A bcrypt setting of cost with a random salt and a hash part of '.'s (see websec.h). */
static int make_dummy(unsigned cost, char out[WEBCONFIG_BCRYPT_LEN + 1])
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    size_t n;

    if (!crypt_gensalt_rn("$2b$", cost, NULL, 0, salt, sizeof(salt)))
        return errno ? -errno : -EINVAL;
    n = strlen(salt);
    if (n != 29) /* "$2b$NN$" + 22 characters of salt */
        return -EINVAL;
    memcpy(out, salt, n);
    memset(out + n, '.', WEBCONFIG_BCRYPT_LEN - n);
    out[WEBCONFIG_BCRYPT_LEN] = '\0';
    return 0;
}

/*
 * Build a generation from path (relative files taken from dir). *w and *nw get
 * every file looked at, with its signature, also when the load fails, so that
 * the next check knows what to watch. Returns 0 and *out, or a negative errno.
 */
static int load(const char *path, const char *dir, struct websec_gen **out, struct watch *w,
                size_t *nw, char *err, size_t errsz)
{
    struct websec_gen *g = NULL;
    struct webtls_pem pem;
    char *text = NULL, *files[3] = {NULL, NULL, NULL};
    size_t len = 0, flen[3] = {0, 0, 0}, i;
    struct filesig sig;
    int rc;

    rc = read_file(path, "", &text, &len, &sig, err, errsz);
    if (watch_add(w, nw, path, &sig) != 0 && !rc)
        rc = -ENOMEM;
    if (rc)
        goto out;
    g = calloc(1, sizeof(*g));
    if (!g) {
        rc = -ENOMEM;
        snprintf(err, errsz, "out of memory");
        goto out;
    }
    atomic_init(&g->refs, 1);
    rc = webconfig_parse(text, len, path, dir, &g->cfg, err, errsz);
    if (rc)
        goto out;
    if (g->cfg->tls.enabled) {
        const struct webconfig_tls *t = &g->cfg->tls;
        const char *paths[3] = {t->cert_file, t->key_file, t->client_ca_file};
        static const char *const what[3] = {"tls_server_config.cert_file",
                                            "tls_server_config.key_file",
                                            "tls_server_config.client_ca_file"};

        for (i = 0; i < 3; i++) {
            if (!paths[i])
                continue;
            rc = read_file(paths[i], what[i], &files[i], &flen[i], &sig, err, errsz);
            if (watch_add(w, nw, paths[i], &sig) != 0 && !rc)
                rc = -ENOMEM;
            if (rc)
                goto out;
        }
        pem.cert = files[0] ? files[0] : t->cert;
        pem.cert_len = files[0] ? flen[0] : strlen(t->cert);
        pem.key = files[1] ? files[1] : t->key;
        pem.key_len = files[1] ? flen[1] : strlen(t->key);
        pem.client_ca = files[2] ? files[2] : t->client_ca;
        pem.client_ca_len = pem.client_ca ? (files[2] ? flen[2] : strlen(t->client_ca)) : 0;
        rc = webtls_new(g->cfg, &pem, &g->tls, err, errsz);
        if (rc)
            goto out;
    }
    if (g->cfg->n_users) {
        rc = make_dummy(g->cfg->max_cost, g->dummy);
        if (rc) {
            snprintf(err, errsz, "cannot make a bcrypt salt: %s", strerror(-rc));
            goto out;
        }
    }
    *out = g;
    g = NULL;
out:
    gen_free(g);
    drop_file(text, len);
    for (i = 0; i < 3; i++)
        drop_file(files[i], flen[i]);
    return rc;
}

int websec_open(const char *path, struct websec **out, char *err, size_t errsz)
{
    struct websec *ws = calloc(1, sizeof(*ws));
    const char *slash;
    int rc;

    if (!ws) {
        snprintf(err, errsz, "out of memory");
        return -ENOMEM;
    }
    ws->path = strdup(path);
    slash = strrchr(path, '/');
    ws->dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!ws->path || !ws->dir) {
        snprintf(err, errsz, "out of memory");
        rc = -ENOMEM;
        goto fail;
    }
    rc = load(ws->path, ws->dir, &ws->cur, ws->watch, &ws->n_watch, err, errsz);
    if (rc)
        goto fail;
    ws->tls = ws->cur->tls != NULL;
    rc = pthread_mutex_init(&ws->lock, NULL);
    if (rc) {
        snprintf(err, errsz, "cannot set up --web.config.file: %s", strerror(rc));
        rc = -rc;
        gen_free(ws->cur);
        goto fail;
    }
    *out = ws;
    return 0;
fail:
    watch_clear(ws->watch, &ws->n_watch);
    free(ws->path);
    free(ws->dir);
    free(ws);
    return rc;
}

void websec_free(struct websec *ws)
{
    if (!ws)
        return;
    websec_release(ws->cur);
    watch_clear(ws->watch, &ws->n_watch);
    pthread_mutex_destroy(&ws->lock);
    free(ws->path);
    free(ws->dir);
    free(ws);
}

int websec_tls(const struct websec *ws)
{
    return ws->tls;
}

const char *websec_path(const struct websec *ws)
{
    return ws->path;
}

enum websec_result websec_check(struct websec *ws, char *err, size_t errsz)
{
    struct watch w[WEBSEC_WATCH_MAX];
    struct websec_gen *g = NULL, *old = NULL;
    struct filesig s;
    size_t nw = 0, i;
    int changed = 0, rc;

    if (err && errsz)
        err[0] = '\0';
    pthread_mutex_lock(&ws->lock);
    for (i = 0; i < ws->n_watch && !changed; i++) {
        sig_stat(ws->watch[i].path, &s);
        changed = !sig_equal(&s, &ws->watch[i].sig);
    }
    if (!changed) {
        pthread_mutex_unlock(&ws->lock);
        return WEBSEC_UNCHANGED;
    }
    rc = load(ws->path, ws->dir, &g, w, &nw, err, errsz);
    /* what this attempt looked at is watched from now on, whether it worked or not */
    watch_clear(ws->watch, &ws->n_watch);
    memcpy(ws->watch, w, sizeof(w[0]) * nw);
    ws->n_watch = nw;
    if (rc == 0 && (g->tls != NULL) != ws->tls) {
        snprintf(err, errsz,
                 "the new web config would turn TLS %s: that takes a restart (the running one "
                 "stays)",
                 ws->tls ? "off" : "on");
        gen_free(g);
        rc = -EINVAL;
    }
    if (rc == 0) {
        old = ws->cur;
        ws->cur = g;
    }
    pthread_mutex_unlock(&ws->lock);
    websec_release(old);
    return rc == 0 ? WEBSEC_RELOADED : WEBSEC_FAILED;
}

struct websec_gen *websec_acquire(struct websec *ws)
{
    struct websec_gen *g;

    pthread_mutex_lock(&ws->lock);
    g = ws->cur;
    atomic_fetch_add(&g->refs, 1);
    pthread_mutex_unlock(&ws->lock);
    return g;
}

void websec_release(struct websec_gen *g)
{
    if (g && atomic_fetch_sub(&g->refs, 1) == 1)
        gen_free(g);
}

const struct webconfig *websec_config(const struct websec_gen *g)
{
    return g->cfg;
}

const struct webtls *websec_webtls(const struct websec_gen *g)
{
    return g->tls;
}

const char *websec_dummy_hash(const struct websec_gen *g)
{
    return g->dummy;
}

int websec_validate(const char *path, char *err, size_t errsz)
{
    struct websec *ws = NULL;
    int rc = websec_open(path, &ws, err, errsz);

    websec_free(ws);
    return rc;
}
