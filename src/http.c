/*
 * http: the embedded HTTP server (see http.h).
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "expfmt.h"
#include "log.h"
#include "timeutil.h"

#define HTTP_CONNECTION_LIMIT 512  /* concurrent client connections */
#define HTTP_CONNECTION_TIMEOUT 30 /* seconds of client silence before closing */
#define HTTP_LISTEN_BACKLOG 128
#define HTTP_DRAIN_MS 1000    /* on stop, how long in-flight answers may take to finish */
#define HTTP_DRAIN_POLL_MS 10 /* how often the stop checks whether they have */

struct http_server {
    struct MHD_Daemon *daemon;
    int fd;
    char url[128];
    char *telemetry_path;
    struct snapshot_store *store;
    atomic_int active; /* requests handed to on_request and not completed yet */
};

/* Marker stored in *con_cls after the first call for a request. */
static int request_seen;

static void release_snapshot(void *cls)
{
    snapshot_release(cls);
}

/* Queue a fixed text answer. */
static enum MHD_Result answer_text(struct MHD_Connection *c, unsigned code, const char *text,
                                   const char *allow)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (allow)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allow);
    ret = MHD_queue_response(c, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* Queue len bytes of snapshot s (the answer holds the reference until sent). */
static enum MHD_Result answer_snapshot(struct MHD_Connection *c, struct snapshot *s,
                                       const char *data, size_t len, const char *type)
{
    struct MHD_Response *r;
    enum MHD_Result ret;

    r = MHD_create_response_from_buffer_with_free_callback_cls(len, (void *)data, release_snapshot,
                                                               s);
    if (!r) {
        snapshot_release(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Does the request announce a body (Content-Length other than 0, or Transfer-Encoding)? */
static int has_body(struct MHD_Connection *c)
{
    const char *len =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

    if (MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return 1;
    return len && strspn(len, "0") != strlen(len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct http_server *srv = cls;
    struct snapshot *s;
    int get;

    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = &request_seen;
        atomic_fetch_add(&srv->active, 1); /* until on_completed */
        /*
         * We take no bodies. Answering now makes libmicrohttpd discard one unread
         * (and close the connection) instead of feeding us a body of any size.
         */
        if (!has_body(c))
            return MHD_YES; /* answer on the next call: keeps the connection alive */
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* not announced, still not ours: discard */
        return MHD_YES;
    }
    get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;

    if (strcmp(url, srv->telemetry_path) == 0 || strcmp(url, "/") == 0) {
        int metrics = strcmp(url, "/") != 0;
        if (!get)
            return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
                               "GET, HEAD");
        s = snapshot_acquire(srv->store);
        if (!s)
            return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no data yet\n", NULL);
        if (metrics)
            return answer_snapshot(c, s, s->page[SNAPSHOT_METRICS].data,
                                   s->page[SNAPSHOT_METRICS].len, EXPFMT_CONTENT_TYPE_TEXT);
        return answer_snapshot(c, s, s->page[SNAPSHOT_LANDING].data, s->page[SNAPSHOT_LANDING].len,
                               "text/html; charset=utf-8");
    }
    if (strcmp(url, "/-/healthy") == 0) {
        if (!get)
            return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
                               "GET, HEAD");
        return answer_text(c, MHD_HTTP_OK, "elb_job_exporter is Healthy.\n", NULL);
    }
    if (strcmp(url, "/-/ready") == 0) {
        int ready;
        if (!get)
            return answer_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n",
                               "GET, HEAD");
        s = snapshot_acquire(srv->store);
        ready = s && s->cycles > 0;
        snapshot_release(s);
        if (ready)
            return answer_text(c, MHD_HTTP_OK, "elb_job_exporter is Ready.\n", NULL);
        return answer_text(c, MHD_HTTP_SERVICE_UNAVAILABLE,
                           "elb_job_exporter is not ready: the first poll cycle has not "
                           "finished.\n",
                           NULL);
    }
    return answer_text(c, MHD_HTTP_NOT_FOUND, "404 page not found\n", NULL);
}

/* A request handed to on_request is over (answered, failed or cut): it is no longer in flight. */
static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct http_server *srv = cls;

    (void)c;
    (void)toe;
    if (*con_cls != NULL)
        atomic_fetch_sub(&srv->active, 1);
    *con_cls = NULL;
}

/* libmicrohttpd's own complaints go through our log. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    (void)cls;
    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    log_warn("http: %s", line);
}

/*
 * Bind and listen on the first address of res that takes it (dual_stack: an
 * IPv6 socket also accepts IPv4). Returns the fd, or -1 with *saved = errno.
 */
static int listen_first(const struct addrinfo *res, int dual_stack, int *saved)
{
    const struct addrinfo *ai;
    int fd, one = 1, zero = 0;

    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            *saved = errno;
            continue;
        }
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ai->ai_family == AF_INET6 && dual_stack)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, HTTP_LISTEN_BACKLOG) == 0)
            return fd;
        *saved = errno;
        close(fd);
    }
    return -1;
}

/* Open, bind and listen; returns the fd or -1 with err set. */
static int open_listener(const char *host, uint16_t port, char *url, size_t urlsz, char *err,
                         size_t errsz)
{
    struct addrinfo hints, *res = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char portstr[8], addr[INET6_ADDRSTRLEN];
    int fd = -1, rc, saved = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = host[0] ? AF_UNSPEC : AF_INET6;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
    rc = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &res);
    if (rc == 0) {
        fd = listen_first(res, !host[0], &saved);
        freeaddrinfo(res);
    }
    /* all addresses, but no usable IPv6 (kernel without it, ipv6.disable=1): plain IPv4 */
    if (!host[0] && fd < 0 && (rc != 0 || saved == EAFNOSUPPORT || saved == EADDRNOTAVAIL)) {
        hints.ai_family = AF_INET;
        rc = getaddrinfo(NULL, portstr, &hints, &res);
        if (rc == 0) {
            fd = listen_first(res, 0, &saved);
            freeaddrinfo(res);
        }
    }
    if (rc != 0) {
        snprintf(err, errsz, "cannot resolve listen address \"%s\": %s", host, gai_strerror(rc));
        return -1;
    }
    if (fd < 0) {
        snprintf(err, errsz, "cannot listen on \"%s:%u\": %s", host, (unsigned)port,
                 strerror(saved));
        return -1;
    }
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a6->sin6_addr, addr, sizeof(addr));
            snprintf(url, urlsz, "http://[%s]:%u/", host[0] ? addr : "::", ntohs(a6->sin6_port));
        } else {
            struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a4->sin_addr, addr, sizeof(addr));
            snprintf(url, urlsz, "http://%s:%u/", addr, ntohs(a4->sin_port));
        }
    }
    return fd;
}

struct http_server *http_start(const struct http_options *o, char *err, size_t errsz)
{
    struct http_server *s = calloc(1, sizeof(*s));

    if (!s) {
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    atomic_init(&s->active, 0);
    s->store = o->store;
    s->telemetry_path = strdup(o->telemetry_path);
    if (!s->telemetry_path) {
        snprintf(err, errsz, "out of memory");
        goto fail;
    }
    s->fd = open_listener(o->host, o->port, s->url, sizeof(s->url), err, errsz);
    if (s->fd < 0)
        goto fail;
    s->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC, 0,
                                 NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
                                 NULL, MHD_OPTION_LISTEN_SOCKET, s->fd, MHD_OPTION_CONNECTION_LIMIT,
                                 (unsigned)HTTP_CONNECTION_LIMIT, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned)HTTP_CONNECTION_TIMEOUT, MHD_OPTION_NOTIFY_COMPLETED,
                                 on_completed, s, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errsz, "cannot start the HTTP server on %s", s->url);
        close(s->fd);
        goto fail;
    }
    return s;
fail:
    free(s->telemetry_path);
    free(s);
    return NULL;
}

const char *http_url(const struct http_server *s)
{
    return s->url;
}

void http_stop(struct http_server *s)
{
    const struct timespec tick = {0, HTTP_DRAIN_POLL_MS * 1000000L};
    uint64_t deadline;
    int fd;

    if (!s)
        return;
    /*
     * Stop accepting first, then give answers being sent a bounded time to
     * finish: MHD_stop_daemon closes every connection, also one mid-answer.
     */
    fd = MHD_quiesce_daemon(s->daemon);
    deadline = time_mono_ms() + HTTP_DRAIN_MS;
    while (atomic_load(&s->active) > 0 && time_mono_ms() < deadline)
        nanosleep(&tick, NULL);
    if (atomic_load(&s->active) > 0)
        log_warn("http: stopping with %d answers still being sent", atomic_load(&s->active));
    MHD_stop_daemon(s->daemon);
    if (fd >= 0)
        close(fd);
    free(s->telemetry_path);
    free(s);
}
