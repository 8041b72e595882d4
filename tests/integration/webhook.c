/*
 * webhook: a tiny loopback receiver of POST bodies for the end-to-end tests
 * (see webhook.h).
 *
 * DESIGN
 *
 * libmicrohttpd's internal polling thread runs every request; a request's
 * body is gathered in its own buffer (the connection's *con_cls, freed by the
 * completion callback), and only the final call, once the body is complete,
 * takes the mutex to append it to the table the test reads. The test thread
 * only ever takes the same mutex to copy a body out, so neither side holds it
 * for more than a copy.
 */
#include "webhook.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct body {
    char *data;
    size_t len;
    int too_large; /* the body went over H_WEBHOOK_BODY_MAX: answered 413, not kept */
};

struct kept {
    char *data; /* NUL-terminated */
    size_t len;
    double wall; /* when it had fully arrived */
};

struct h_webhook {
    struct MHD_Daemon *daemon;
    uint16_t port;
    pthread_mutex_t mu; /* guards bodies, n, dropped */
    struct kept bodies[H_WEBHOOK_BODIES];
    size_t n, dropped;
};

static double wall_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result rc;

    if (!r)
        return MHD_NO;
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* Keep b (its buffer moves into the table) or count it as dropped. */
static void keep(struct h_webhook *w, struct body *b)
{
    double now = wall_s();

    pthread_mutex_lock(&w->mu);
    if (w->n < H_WEBHOOK_BODIES) {
        w->bodies[w->n].data = b->data;
        w->bodies[w->n].len = b->len;
        w->bodies[w->n].wall = now;
        w->n++;
        b->data = NULL;
    } else {
        w->dropped++;
    }
    pthread_mutex_unlock(&w->mu);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct h_webhook *w = cls;
    struct body *b = *con_cls;

    (void)url;
    (void)version;
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
        return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "POST only\n");
    if (!b) {
        b = calloc(1, sizeof(*b));
        if (!b)
            return MHD_NO;
        b->data = malloc(1);
        if (!b->data) {
            free(b);
            return MHD_NO;
        }
        b->data[0] = '\0';
        *con_cls = b;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        size_t add = *upload_data_size;

        *upload_data_size = 0;
        if (b->too_large || b->len + add > H_WEBHOOK_BODY_MAX) {
            b->too_large = 1;
            return MHD_YES;
        }
        char *grown = realloc(b->data, b->len + add + 1);

        if (!grown)
            return MHD_NO;
        b->data = grown;
        memcpy(b->data + b->len, upload_data, add);
        b->len += add;
        b->data[b->len] = '\0';
        return MHD_YES;
    }
    if (b->too_large)
        return answer(conn, MHD_HTTP_CONTENT_TOO_LARGE, "too large\n");
    keep(w, b);
    return answer(conn, MHD_HTTP_OK, "ok\n");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct body *b = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (b) {
        free(b->data);
        free(b);
        *con_cls = NULL;
    }
}

int h_webhook_start(struct h_webhook **out)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    const union MHD_DaemonInfo *info;
    struct h_webhook *w;

    *out = NULL;
    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    if (pthread_mutex_init(&w->mu, NULL) != 0) {
        free(w);
        return -ENOMEM;
    }
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    w->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                 on_request, w, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                                 MHD_OPTION_NOTIFY_COMPLETED, on_completed, (void *)w,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!w->daemon) {
        h_webhook_stop(w);
        return -EADDRNOTAVAIL;
    }
    info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || info->port == 0) {
        h_webhook_stop(w);
        return -EIO;
    }
    w->port = info->port;
    *out = w;
    return 0;
}

uint16_t h_webhook_port(const struct h_webhook *w)
{
    return w->port;
}

size_t h_webhook_count(struct h_webhook *w, size_t *dropped)
{
    size_t n;

    pthread_mutex_lock(&w->mu);
    n = w->n;
    if (dropped)
        *dropped = w->dropped;
    pthread_mutex_unlock(&w->mu);
    return n;
}

char *h_webhook_body(struct h_webhook *w, size_t i, size_t *len, double *received_wall)
{
    char *copy = NULL;

    pthread_mutex_lock(&w->mu);
    if (i < w->n) {
        copy = malloc(w->bodies[i].len + 1);
        if (copy) {
            memcpy(copy, w->bodies[i].data, w->bodies[i].len + 1);
            if (len)
                *len = w->bodies[i].len;
            if (received_wall)
                *received_wall = w->bodies[i].wall;
        }
    }
    pthread_mutex_unlock(&w->mu);
    return copy;
}

void h_webhook_stop(struct h_webhook *w)
{
    if (!w)
        return;
    if (w->daemon)
        MHD_stop_daemon(w->daemon);
    for (size_t i = 0; i < w->n; i++)
        free(w->bodies[i].data);
    pthread_mutex_destroy(&w->mu);
    free(w);
}
