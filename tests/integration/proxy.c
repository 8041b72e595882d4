/*
 * proxy: a tiny loopback HTTP proxy for the integration tests (see proxy.h).
 *
 * DESIGN
 *
 * One acceptor thread polls the listening socket; each client connection gets
 * a worker thread from a fixed table of H_PROXY_CONNS slots (no free slot: the
 * connection is closed and counted as refused). Every blocking step (waiting
 * for the request head, relaying, writing) is a poll of at most POLL_STEP_MS
 * that looks at the stop flag, so h_proxy_stop() sets it and joins the
 * acceptor, which joins every worker: nothing outlives the call. The counts are
 * the only state workers share, behind one mutex; the slot table belongs to
 * the acceptor (a worker only raises its slot's done flag).
 */
#define _GNU_SOURCE /* accept4 */

#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define POLL_STEP_MS 50 /* longest wait before the stop flag is looked at again */
#define RELAY_CHUNK 16384

static const char loopback_authority[] = "127.0.0.1:";

struct conn {
    pthread_t thread;
    int used;        /* the acceptor's: a thread runs or ran here and is not joined */
    atomic_int done; /* raised by the worker as it ends */
    int fd;          /* the client connection, the worker's */
    struct h_proxy *p;
};

struct h_proxy {
    int lfd;
    uint16_t port;
    pthread_t acceptor;
    atomic_int stop;
    pthread_mutex_t mu; /* guards counts */
    struct h_proxy_counts counts;
    struct conn conns[H_PROXY_CONNS];
};

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void count(struct h_proxy *p, unsigned long *field, const char *target)
{
    pthread_mutex_lock(&p->mu);
    (*field)++;
    if (target)
        snprintf(p->counts.last_target, sizeof(p->counts.last_target), "%s", target);
    pthread_mutex_unlock(&p->mu);
}

/* Wait until fd is ready for events, up to one step. 1 ready, 0 not yet, -1 stop or error. */
static int wait_fd(struct h_proxy *p, int fd, short events)
{
    struct pollfd pf = {.fd = fd, .events = events};
    int rc;

    if (atomic_load(&p->stop))
        return -1;
    rc = poll(&pf, 1, POLL_STEP_MS);
    if (rc < 0)
        return errno == EINTR ? 0 : -1;
    return rc > 0 ? 1 : 0;
}

/* Send all n bytes, never blocking past a stop. Returns 0 or -1. */
static int send_all(struct h_proxy *p, int fd, const char *b, size_t n)
{
    while (n > 0) {
        ssize_t w;
        int rc = wait_fd(p, fd, POLLOUT);

        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        w = send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * Read until the head (through the blank line) is in buf (cap bytes, kept
 * NUL-terminated). Returns the head's length with *n the bytes read (the rest
 * is body), or -1 (closed, too long, too slow, stop).
 */
static long read_head(struct h_proxy *p, int fd, char *buf, size_t cap, size_t *n)
{
    double deadline = mono_s() + H_PROXY_HEAD_TIMEOUT_S;
    char *end;

    *n = 0;
    buf[0] = '\0';
    for (;;) {
        ssize_t r;
        int rc;

        end = strstr(buf, "\r\n\r\n");
        if (end)
            return (long)(end + 4 - buf);
        if (*n + 1 >= cap || mono_s() > deadline)
            return -1;
        rc = wait_fd(p, fd, POLLIN);
        if (rc < 0)
            return -1;
        if (rc == 0)
            continue;
        r = recv(fd, buf + *n, cap - 1 - *n, MSG_DONTWAIT);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r <= 0)
            return -1;
        *n += (size_t)r;
        buf[*n] = '\0';
    }
}

/* Parse "127.0.0.1:PORT" at s (ending at end or at '/'); *rest after the port. Returns port or 0.
 */
static uint16_t loopback_port(const char *s, const char **rest)
{
    unsigned long v = 0;
    size_t digits = 0;

    if (strncmp(s, loopback_authority, sizeof(loopback_authority) - 1) != 0)
        return 0;
    s += sizeof(loopback_authority) - 1;
    while (s[digits] >= '0' && s[digits] <= '9' && digits < 5) {
        v = v * 10 + (unsigned long)(s[digits] - '0');
        digits++;
    }
    if (digits == 0 || v == 0 || v > 65535)
        return 0;
    *rest = s + digits;
    return (uint16_t)v;
}

/* A connected socket to 127.0.0.1:port, or -1. */
static int connect_loopback(uint16_t port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Copy bytes both ways until either side closes or the proxy stops. */
static void relay(struct h_proxy *p, int a, int b)
{
    char buf[RELAY_CHUNK];

    while (!atomic_load(&p->stop)) {
        struct pollfd pf[2] = {{.fd = a, .events = POLLIN}, {.fd = b, .events = POLLIN}};
        int rc = poll(pf, 2, POLL_STEP_MS);

        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return;
        for (int i = 0; i < 2; i++) {
            ssize_t r;

            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            r = recv(pf[i].fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
                continue;
            if (r <= 0 || send_all(p, pf[1 - i].fd, buf, (size_t)r) != 0)
                return;
        }
    }
}

/* Is the header line at line (len bytes, no CRLF) one a proxy must not pass on? */
static int hop_by_hop(const char *line, size_t len)
{
    static const char *const names[] = {"proxy-connection:", "connection:", "keep-alive:", NULL};

    for (size_t i = 0; names[i]; i++) {
        size_t k = strlen(names[i]);

        if (len >= k && strncasecmp(line, names[i], k) == 0)
            return 1;
    }
    return 0;
}

/*
 * Send on an absolute-URI request: "METHOD PATH VERSION", the end-to-end
 * headers, "Connection: close", then the body bytes already read. 0 or -1.
 */
static int forward_head(struct h_proxy *p, int up, const char *head, size_t head_len,
                        const char *method, const char *path, const char *version,
                        const char *extra, size_t extra_len)
{
    char out[H_PROXY_HEAD_MAX + 64];
    const char *line = strstr(head, "\r\n") + 2, *end = head + head_len - 2;
    size_t n;
    int k = snprintf(out, sizeof(out), "%s %s %s\r\n", method, path, version);

    if (k < 0 || (size_t)k >= sizeof(out))
        return -1;
    n = (size_t)k;
    while (line < end) {
        const char *eol = strstr(line, "\r\n");
        size_t len = (size_t)(eol - line);

        if (!hop_by_hop(line, len)) {
            if (n + len + 2 >= sizeof(out))
                return -1;
            memcpy(out + n, line, len + 2);
            n += len + 2;
        }
        line = eol + 2;
    }
    k = snprintf(out + n, sizeof(out) - n, "Connection: close\r\n\r\n");
    if (k < 0 || (size_t)k >= sizeof(out) - n)
        return -1;
    n += (size_t)k;
    if (send_all(p, up, out, n) != 0)
        return -1;
    return extra_len ? send_all(p, up, extra, extra_len) : 0;
}

/* One client connection: read its request head, then tunnel or forward it. */
static void serve(struct h_proxy *p, int fd)
{
    static const char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";
    static const char forbidden[] =
        "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    static const char bad_gateway[] =
        "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    char head[H_PROXY_HEAD_MAX + 1], method[16], target[H_PROXY_TARGET_MAX], version[16];
    const char *rest = NULL;
    size_t n;
    long hl = read_head(p, fd, head, sizeof(head), &n);
    uint16_t port;
    int up;

    if (hl < 0 || sscanf(head, "%15s %255s %15s", method, target, version) != 3) {
        count(p, &p->counts.refused, NULL);
        return;
    }
    if (strcmp(method, "CONNECT") == 0) {
        port = loopback_port(target, &rest);
        if (!port || *rest != '\0') {
            count(p, &p->counts.refused, target);
            send_all(p, fd, forbidden, sizeof(forbidden) - 1);
            return;
        }
        up = connect_loopback(port);
        if (up < 0) {
            count(p, &p->counts.refused, target);
            send_all(p, fd, bad_gateway, sizeof(bad_gateway) - 1);
            return;
        }
        count(p, &p->counts.tunnels, target);
        if (send_all(p, fd, established, sizeof(established) - 1) == 0 &&
            (n == (size_t)hl || send_all(p, up, head + hl, n - (size_t)hl) == 0))
            relay(p, fd, up);
        close(up);
        return;
    }
    port = strncmp(target, "http://", 7) == 0 ? loopback_port(target + 7, &rest) : 0;
    if (!port || *rest != '/') {
        count(p, &p->counts.refused, target);
        send_all(p, fd, forbidden, sizeof(forbidden) - 1);
        return;
    }
    up = connect_loopback(port);
    if (up < 0) {
        count(p, &p->counts.refused, target);
        send_all(p, fd, bad_gateway, sizeof(bad_gateway) - 1);
        return;
    }
    count(p, &p->counts.forwards, target);
    if (forward_head(p, up, head, (size_t)hl, method, rest, version, head + hl, n - (size_t)hl) ==
        0)
        relay(p, fd, up);
    close(up);
}

static void *worker_main(void *arg)
{
    struct conn *c = arg;

    serve(c->p, c->fd);
    close(c->fd);
    atomic_store(&c->done, 1);
    return NULL;
}

/* A slot for a new connection (joining finished workers first), or NULL when all are busy. */
static struct conn *free_slot(struct h_proxy *p)
{
    struct conn *found = NULL;

    for (size_t i = 0; i < H_PROXY_CONNS; i++) {
        struct conn *c = &p->conns[i];

        if (c->used && atomic_load(&c->done)) {
            pthread_join(c->thread, NULL);
            c->used = 0;
        }
        if (!c->used && !found)
            found = c;
    }
    return found;
}

static void *acceptor_main(void *arg)
{
    struct h_proxy *p = arg;

    while (!atomic_load(&p->stop)) {
        struct conn *c;
        int fd;

        if (wait_fd(p, p->lfd, POLLIN) <= 0)
            continue;
        fd = accept4(p->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        c = free_slot(p);
        if (!c) {
            close(fd);
            count(p, &p->counts.refused, NULL);
            continue;
        }
        c->fd = fd;
        c->p = p;
        atomic_store(&c->done, 0);
        if (pthread_create(&c->thread, NULL, worker_main, c) != 0) {
            close(fd);
            count(p, &p->counts.refused, NULL);
            continue;
        }
        c->used = 1;
    }
    for (size_t i = 0; i < H_PROXY_CONNS; i++) {
        if (p->conns[i].used)
            pthread_join(p->conns[i].thread, NULL);
        p->conns[i].used = 0;
    }
    return NULL;
}

int h_proxy_start(struct h_proxy **out)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t al = sizeof(a);
    struct h_proxy *p = calloc(1, sizeof(*p));
    int rc;

    *out = NULL;
    if (!p)
        return -ENOMEM;
    atomic_init(&p->stop, 0);
    for (size_t i = 0; i < H_PROXY_CONNS; i++)
        atomic_init(&p->conns[i].done, 0);
    p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->lfd < 0) {
        rc = -errno;
        free(p);
        return rc;
    }
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(p->lfd, 64) != 0 ||
        getsockname(p->lfd, (struct sockaddr *)&a, &al) != 0) {
        rc = -errno;
        goto fail;
    }
    p->port = ntohs(a.sin_port);
    rc = pthread_mutex_init(&p->mu, NULL);
    if (rc != 0) {
        rc = -rc;
        goto fail;
    }
    rc = pthread_create(&p->acceptor, NULL, acceptor_main, p);
    if (rc != 0) {
        pthread_mutex_destroy(&p->mu);
        rc = -rc;
        goto fail;
    }
    *out = p;
    return 0;
fail:
    close(p->lfd);
    free(p);
    return rc;
}

uint16_t h_proxy_port(const struct h_proxy *p)
{
    return p->port;
}

void h_proxy_counts(struct h_proxy *p, struct h_proxy_counts *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->counts;
    pthread_mutex_unlock(&p->mu);
}

void h_proxy_stop(struct h_proxy *p)
{
    if (!p)
        return;
    atomic_store(&p->stop, 1);
    pthread_join(p->acceptor, NULL);
    close(p->lfd);
    pthread_mutex_destroy(&p->mu);
    free(p);
}
