/*
 * scrape_https: issue 9's "Done means" in one run of the real programs.
 *
 * A real Prometheus (Debian's, default scrape settings but a 1 s interval)
 * scrapes two targets of this test in one configuration, both with the same
 * basic_auth:
 * - "recorder": a small libmicrohttpd server in this process, over plain HTTP,
 *   that keeps the headers of every request it gets: exactly what Prometheus
 *   asks every target for (Accept, Accept-Encoding, Authorization, ...);
 * - "exporter": the real exporter (polling the real simulator with every
 *   scenario job) over HTTPS, with a --web.config.file that has
 *   tls_server_config (a CA and a certificate for 127.0.0.1 and localhost that
 *   the test makes with openssl) and basic_auth_users (a bcrypt hash of cost
 *   10 made with libcrypt).
 *
 * The test then shows that
 * - Prometheus sees up == 1 for the exporter, the right values and exact label
 *   sets of known simulator jobs (a FAIL job one-hot, a SUCCESS one, a job that
 *   progresses into FAIL, its error info, the failed-jobs counter),
 *   scrape_samples_scraped > 0, the target healthy at an https:// URL, and
 *   metadata only OpenMetrics can carry (an `info` family, a counter family
 *   named without `_total`): Prometheus itself negotiated OpenMetrics;
 * - the very request Prometheus sends (the recorded headers, Authorization
 *   included, replayed byte for byte over HTTPS to the same /metrics, libcurl
 *   not decoding) gets 200, `Content-Type: application/openmetrics-text;
 *   version=1.0.0; charset=utf-8`, `Content-Encoding: gzip`, `Vary` naming
 *   Accept-Encoding and Accept; the body inflates (zlib) to an exposition that
 *   ends with `# EOF` and that tests/om_check.py (prometheus_client's strict
 *   parser) takes;
 * - the text form (no Accept header) over HTTPS with basic auth passes
 *   `promtool check metrics` without a word, and says that none of
 *   Prometheus's scrapes was refused;
 * - on the same port, a wrong password and no credentials get 401 (counted),
 *   and plain HTTP gets no HTTP answer at all.
 *
 * No fixed sleeps: every wait polls with a deadline. Everything listens on
 * 127.0.0.1 on a port the kernel picks (Prometheus's is read from its log).
 * Every process is on the harness's kill list and the recorder is stopped by
 * the teardown, whatever fails.
 */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <zlib.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <curl/curl.h>
#include <microhttpd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "json.h"

#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define TOOL_START_TIMEOUT_S 30.0 /* Prometheus */
#define WAIT_S (20.0 * IT_TIME_SCALE)
#define TOOL_TIMEOUT_S (60.0 * IT_TIME_SCALE) /* openssl, promtool, om_check.py */
#define PLAIN_TIMEOUT_S (5.0 * IT_TIME_SCALE)
#define BCRYPT_COST 10
#define STR_MAX 1024 /* bytes of one decoded JSON string */
#define HDR_MAX 1024 /* bytes of one response header value */

#define USER "prometheus"
#define PASSWORD "correct horse battery staple"

#define CT_OM "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define CT_TEXT "text/plain; version=0.0.4; charset=utf-8"

/* What the recorder keeps. */
#define REC_REQUESTS 8   /* requests kept (all later ones are only counted) */
#define REC_HEADERS 32   /* headers of one request */
#define REC_NAME_MAX 128 /* bytes of one header name */
#define REC_VALUE_MAX 1024

static char dir[H_PATH_MAX];
static char ca_pem[H_PATH_MAX];
static char user_hash[CRYPT_OUTPUT_SIZE];

/* ---- set-up: a CA, a server certificate, a bcrypt hash ------------------------------------ */

/* Run a tool to its end in dir (h_run_tool: 0, or -1 with its logs dumped). */
static int run_tool(const char *name, const char *const *argv)
{
    return h_run_tool(dir, name, argv, TOOL_TIMEOUT_S);
}

/* dir/ca.pem (a CA) and dir/server.pem, dir/server.key (P-256, for 127.0.0.1 and localhost). */
static int make_certs(void)
{
    static const char srv_ext[] = "subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                                  "basicConstraints=critical,CA:FALSE\n"
                                  "keyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=serverAuth\n";
    char ca_key[H_PATH_MAX], srv_pem[H_PATH_MAX], srv_key[H_PATH_MAX], csr[H_PATH_MAX],
        ext[H_PATH_MAX];

    h_fmt(ca_pem, sizeof(ca_pem), "%s/ca.pem", dir);
    h_fmt(ca_key, sizeof(ca_key), "%s/ca.key", dir);
    h_fmt(srv_pem, sizeof(srv_pem), "%s/server.pem", dir);
    h_fmt(srv_key, sizeof(srv_key), "%s/server.key", dir);
    h_fmt(csr, sizeof(csr), "%s/server.csr", dir);
    h_fmt(ext, sizeof(ext), "%s/server.ext", dir);
    if (h_write_file(ext, srv_ext, strlen(srv_ext)) != 0)
        return -1;
    const char *const ca[] = {OPENSSL_PATH,
                              "req",
                              "-x509",
                              "-newkey",
                              "ec",
                              "-pkeyopt",
                              "ec_paramgen_curve:P-256",
                              "-nodes",
                              "-keyout",
                              ca_key,
                              "-out",
                              ca_pem,
                              "-days",
                              "2",
                              "-subj",
                              "/CN=elb_job_exporter scrape_https test CA",
                              "-addext",
                              "basicConstraints=critical,CA:TRUE",
                              "-addext",
                              "keyUsage=critical,keyCertSign,cRLSign",
                              NULL};
    const char *const req[] = {
        OPENSSL_PATH, "req",     "-new",  "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes",     "-keyout", srv_key, "-out",    csr,  "-subj",    "/CN=127.0.0.1",
        NULL};
    const char *const sign[] = {OPENSSL_PATH, "x509",     "-req", "-in",         csr,     "-CA",
                                ca_pem,       "-CAkey",   ca_key, "-set_serial", "9",     "-days",
                                "2",          "-extfile", ext,    "-out",        srv_pem, NULL};

    if (run_tool("openssl-ca", ca) != 0 || run_tool("openssl-req", req) != 0 ||
        run_tool("openssl-sign", sign) != 0)
        return -1;
    return 0;
}

/* bcrypt of PASSWORD at BCRYPT_COST, as htpasswd -B would make it. */
static int make_hash(void)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data data;
    const char *h;

    memset(&data, 0, sizeof(data));
    if (!crypt_gensalt_rn("$2y$", BCRYPT_COST, NULL, 0, salt, sizeof(salt)))
        return -1;
    h = crypt_rn(PASSWORD, salt, &data, sizeof(data));
    if (!h || h[0] == '*' || strlen(h) >= sizeof(user_hash))
        return -1;
    strcpy(user_hash, h);
    return 0;
}

static int group_setup(void **state)
{
    if (h_group_setup(state) != 0 || h_test_dir("scrape_https", dir, sizeof(dir)) != 0 ||
        make_certs() != 0 || make_hash() != 0)
        return -1;
    return 0;
}

/* "Basic " + base64(USER ":" PASSWORD): what a client sends for these credentials. */
static void basic_credentials(char *out, size_t cap)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char plain[] = USER ":" PASSWORD;
    const unsigned char *s = (const unsigned char *)plain;
    size_t len = sizeof(plain) - 1, n = 0;

    assert_true(cap > 6 + (len + 2) / 3 * 4);
    memcpy(out, "Basic ", 6);
    n = 6;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)s[i] << 16 | (i + 1 < len ? (unsigned)s[i + 1] << 8 : 0) |
                     (i + 2 < len ? s[i + 2] : 0);

        out[n++] = b64[v >> 18 & 63];
        out[n++] = b64[v >> 12 & 63];
        out[n++] = i + 1 < len ? b64[v >> 6 & 63] : '=';
        out[n++] = i + 2 < len ? b64[v & 63] : '=';
    }
    out[n] = '\0';
}

/* ---- the recorder: what Prometheus asks a target for -------------------------------------- */

struct rec_req {
    char method[16], url[256];
    size_t n;
    char name[REC_HEADERS][REC_NAME_MAX];
    char value[REC_HEADERS][REC_VALUE_MAX];
    int truncated; /* a header did not fit: the test fails rather than replay part of it */
};

struct recorder {
    struct MHD_Daemon *daemon;
    uint16_t port;
    pthread_mutex_t mu; /* guards req, n, total */
    struct rec_req req[REC_REQUESTS];
    size_t n, total;
};

static struct recorder *rec;

static enum MHD_Result rec_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    struct rec_req *q = cls;

    (void)kind;
    if (q->n == REC_HEADERS || strlen(key) >= REC_NAME_MAX ||
        strlen(value ? value : "") >= REC_VALUE_MAX) {
        q->truncated = 1;
        return MHD_YES;
    }
    strcpy(q->name[q->n], key);
    strcpy(q->value[q->n], value ? value : "");
    q->n++;
    return MHD_YES;
}

/* Every request: its headers kept (the first REC_REQUESTS), a small text exposition answered. */
static enum MHD_Result rec_request(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    struct recorder *r = cls;
    struct MHD_Response *resp;
    char body[256];
    size_t total;
    enum MHD_Result rc;
    int n;

    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    (void)con_cls;
    pthread_mutex_lock(&r->mu);
    if (r->n < REC_REQUESTS) {
        struct rec_req *q = &r->req[r->n++];

        snprintf(q->method, sizeof(q->method), "%s", method);
        snprintf(q->url, sizeof(q->url), "%s", url);
        MHD_get_connection_values(conn, MHD_HEADER_KIND, rec_header, q);
    }
    total = ++r->total;
    pthread_mutex_unlock(&r->mu);
    n = snprintf(body, sizeof(body),
                 "# HELP scrape_https_recorder_requests Requests the recorder has answered.\n"
                 "# TYPE scrape_https_recorder_requests gauge\n"
                 "scrape_https_recorder_requests %zu\n",
                 total);
    resp = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, CT_TEXT);
    rc = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

static void rec_stop(struct recorder *r)
{
    if (!r)
        return;
    if (r->daemon)
        MHD_stop_daemon(r->daemon);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Listen on 127.0.0.1, a port the kernel picks; serve from libmicrohttpd's own thread. */
static struct recorder *rec_start(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0};
    const union MHD_DaemonInfo *info;
    struct recorder *r = calloc(1, sizeof(*r));

    assert_non_null(r);
    assert_int_equal(pthread_mutex_init(&r->mu, NULL), 0);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                                 rec_request, r, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    info = r->daemon ? MHD_get_daemon_info(r->daemon, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || info->port == 0) {
        rec_stop(r);
        fail_msg("the recorder did not start on a port of 127.0.0.1");
        return NULL;
    }
    r->port = info->port;
    return r;
}

/* A copy of request i (i < what rec_count says). */
static void rec_get(struct recorder *r, size_t i, struct rec_req *out)
{
    pthread_mutex_lock(&r->mu);
    assert_true(i < r->n);
    *out = r->req[i];
    pthread_mutex_unlock(&r->mu);
}

static size_t rec_count(struct recorder *r)
{
    size_t n;

    pthread_mutex_lock(&r->mu);
    n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static int cond_recorded(void *ctx)
{
    (void)ctx;
    return rec_count(rec) >= 2; /* two scrapes: the headers are Prometheus's every time */
}

/* The value of header name (case-insensitive) in q, or NULL. */
static const char *rec_header_value(const struct rec_req *q, const char *name)
{
    for (size_t i = 0; i < q->n; i++)
        if (strcasecmp(q->name[i], name) == 0)
            return q->value[i];
    return NULL;
}

/* ---- an HTTPS client that hides nothing --------------------------------------------------- */

struct answer {
    long code;   /* 0: no HTTP answer */
    int curl_rc; /* CURLcode */
    char *body, *hdr;
    size_t len;
};

struct buf {
    char *p;
    size_t n;
};

static size_t collect(char *data, size_t size, size_t nmemb, void *ctx)
{
    struct buf *b = ctx;
    size_t add = size * nmemb;
    char *p = realloc(b->p, b->n + add + 1);

    if (!p)
        return 0;
    memcpy(p + b->n, data, add);
    b->n += add;
    p[b->n] = '\0';
    b->p = p;
    return add;
}

/*
 * GET url on a new connection, verifying the server against the test's CA;
 * user/pass (NULL: none) as basic auth; hdrs (NULL-terminated, or NULL) sent as
 * they are. libcurl is not asked to decode: the body is the bytes on the wire.
 */
static void get(const char *url, const char *user, const char *pass, const char *const *hdrs,
                struct answer *a)
{
    struct buf body = {0}, hdr = {0};
    struct curl_slist *hl = NULL;
    CURL *h = curl_easy_init();

    memset(a, 0, sizeof(*a));
    assert_non_null(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(H_HTTP_TIMEOUT_MS * IT_TIME_SCALE));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_pem);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hdr);
    if (user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, pass);
    }
    for (size_t i = 0; hdrs && hdrs[i]; i++) {
        struct curl_slist *n = curl_slist_append(hl, hdrs[i]);

        assert_non_null(n);
        hl = n;
    }
    if (hl)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    a->curl_rc = (int)curl_easy_perform(h);
    if (a->curl_rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->code);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    a->body = body.p ? body.p : calloc(1, 1);
    a->len = body.n;
    a->hdr = hdr.p ? hdr.p : calloc(1, 1);
    assert_non_null(a->body);
    assert_non_null(a->hdr);
}

static void answer_free(struct answer *a)
{
    free(a->body);
    free(a->hdr);
    memset(a, 0, sizeof(*a));
}

/* The value of header name (case-insensitive) in a, or NULL. */
static const char *header(const struct answer *a, const char *name, char *out, size_t cap)
{
    struct h_resp r = {.hdr = a->hdr, .hlen = strlen(a->hdr)};

    return h_resp_header(&r, name, out, cap) == 0 ? out : NULL;
}

static void expect_header(const struct answer *a, const char *name, const char *want)
{
    char v[HDR_MAX];

    if (!header(a, name, v, sizeof(v)))
        fail_msg("header %s missing; the answer's headers:\n%s", name, a->hdr);
    if (strcmp(v, want) != 0)
        fail_msg("header %s: \"%s\", want \"%s\"", name, v, want);
}

/* Does the comma-separated list have name among its elements (case-insensitive)? */
static int list_has(const char *list, const char *name)
{
    size_t nl = strlen(name);

    for (const char *s = list; *s;) {
        const char *e;

        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        e = s;
        while (*e && *e != ',')
            e++;
        {
            const char *t = e;

            while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
                t--;
            if ((size_t)(t - s) == nl && strncasecmp(s, name, nl) == 0)
                return 1;
        }
        s = e;
    }
    return 0;
}

/* ---- checks of an exposition -------------------------------------------------------------- */

/* Inflate a gzip body (exactly one member, nothing after it); *n its length. Free it. */
static char *gunzip(const char *gz, size_t len, size_t *n)
{
    size_t cap = 1u << 20;
    char *out = malloc(cap + 1);
    z_stream z;
    int zrc;

    assert_non_null(out);
    memset(&z, 0, sizeof(z));
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)gz;
    z.avail_in = (uInt)len;
    for (;;) {
        z.next_out = (Bytef *)out + z.total_out;
        z.avail_out = (uInt)(cap - z.total_out);
        zrc = inflate(&z, Z_FINISH);
        if (zrc == Z_STREAM_END)
            break;
        if (zrc != Z_BUF_ERROR && zrc != Z_OK)
            fail_msg("not a gzip body (zlib %d)", zrc);
        if (z.avail_out != 0)
            fail_msg("truncated gzip body");
        cap *= 2;
        out = realloc(out, cap + 1);
        assert_non_null(out);
    }
    assert_int_equal(z.avail_in, 0);
    *n = z.total_out;
    out[*n] = '\0';
    inflateEnd(&z);
    return out;
}

/* Run argv with stdin from dir/file; fail unless it exits 0 and its output passes ok(). */
static void run_check(const char *name, const char *const *argv, const char *file,
                      int (*ok)(const char *out, size_t ol, const char *err, size_t el))
{
    const struct h_spawn_opts o = {.stdin_path = file};
    struct h_proc p;
    char *out, *err, sb[64];
    size_t ol = 0, el = 0;

    assert_int_equal(h_spawn(&p, dir, name, argv, &o), 0);
    if (h_proc_wait(&p, TOOL_TIMEOUT_S, NULL) != 0)
        fail_msg("%s did not finish in %.0f s", name, TOOL_TIMEOUT_S);
    out = h_read_file(p.out_path, &ol);
    err = h_read_file(p.err_path, &el);
    assert_non_null(out);
    assert_non_null(err);
    if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0 || !ok(out, ol, err, el))
        fail_msg("%s on %s: %s\nstdout:\n%s\nstderr:\n%s", name, file,
                 h_status_str(p.status, sb, sizeof(sb)), out, err);
    free(out);
    free(err);
}

static int om_ok(const char *out, size_t ol, const char *err, size_t el)
{
    (void)ol;
    (void)err;
    (void)el;
    return strstr(out, "OpenMetrics OK") != NULL;
}

/* promtool check metrics says nothing at all about a clean exposition. */
static int promtool_ok(const char *out, size_t ol, const char *err, size_t el)
{
    (void)out;
    (void)err;
    return ol == 0 && el == 0;
}

/* Write len bytes of body to dir/file and return its path in path. */
static void save(const char *file, const char *body, size_t len, char *path, size_t cap)
{
    h_fmt(path, cap, "%s/%s", dir, file);
    assert_int_equal(h_write_file(path, body, len), 0);
}

/* ---- Prometheus --------------------------------------------------------------------------- */

struct listen_ctx {
    struct h_proc *p;
    uint16_t port;
};

/* Has p logged `msg="Listening on" address=127.0.0.1:PORT`? */
static int cond_logged_port(void *ctx)
{
    static const char mark[] = "msg=\"Listening on\" address=127.0.0.1:";
    struct listen_ctx *c = ctx;
    char *log, *at;

    if (h_proc_exited(c->p))
        return 1; /* stop waiting: the caller looks at p->exited */
    log = h_read_file(c->p->err_path, NULL);
    if (!log)
        return 0;
    at = strstr(log, mark);
    if (at) {
        char *end;
        unsigned long port;

        errno = 0;
        port = strtoul(at + sizeof(mark) - 1, &end, 10);
        if (errno == 0 && end != at + sizeof(mark) - 1 && port > 0 && port <= 65535)
            c->port = (uint16_t)port;
    }
    free(log);
    return c->port != 0;
}

static int cond_ready(void *ctx)
{
    const char *base = ctx;
    struct h_resp r;
    char url[H_URL_MAX];
    int ok;

    h_fmt(url, sizeof(url), "%s/-/ready", base);
    ok = h_get(url, &r) == 0 && r.code == 200;
    h_resp_free(&r);
    return ok;
}

/* Start Prometheus with cfg on 127.0.0.1:0; its base URL (from its log) into base. */
static void start_prometheus(struct h_proc *p, const char *cfg, char *base, size_t cap)
{
    char a_cfg[H_PATH_MAX + 32], a_data[H_PATH_MAX + 32];
    struct listen_ctx c = {p, 0};

    h_fmt(a_cfg, sizeof(a_cfg), "--config.file=%s", cfg);
    h_fmt(a_data, sizeof(a_data), "--storage.tsdb.path=%s/tsdb", dir);
    const char *argv[] = {PROMETHEUS, a_cfg, a_data, "--web.listen-address=127.0.0.1:0", NULL};

    assert_int_equal(h_spawn(p, dir, "prometheus", argv, NULL), 0);
    if (h_wait_for(TOOL_START_TIMEOUT_S, cond_logged_port, &c) != 0 || p->exited || !c.port) {
        h_dump_logs(p);
        fail_msg("Prometheus did not log the address it listens on");
    }
    h_fmt(base, cap, "http://127.0.0.1:%u", c.port);
    if (h_wait_for(TOOL_START_TIMEOUT_S, cond_ready, base) != 0) {
        h_dump_logs(p);
        fail_msg("Prometheus at %s never became ready", base);
    }
}

static char prom_base[H_URL_MAX];

/* Decoded string member key of object obj into out, or NULL if absent or not a string. */
static const char *jstr(const struct json_doc *d, int obj, const char *key, char *out, size_t cap)
{
    int v = obj >= 0 ? json_get(d, obj, key) : -1;

    if (v < 0 || json_type(d, v) != JSON_STRING || json_string(d, v, out, cap, NULL) != 0)
        return NULL;
    return out;
}

/*
 * GET prom_base + path (+ the escaped query q, if any) and parse it into *d (its text is
 * owned by *r: release both either way). Returns the index of "data", or -1 when
 * Prometheus gave no good answer.
 */
static int prom_api(const char *path, const char *q, struct h_resp *r, struct json_doc **d)
{
    char url[H_URL_MAX * 2], v[STR_MAX];
    char *esc = curl_easy_escape(NULL, q ? q : "", 0);

    assert_non_null(esc);
    h_fmt(url, sizeof(url), "%s%s%s", prom_base, path, esc);
    curl_free(esc);
    *d = NULL;
    if (h_get(url, r) != 0 || r->code != 200 || json_parse(r->body, r->len, d) != 0)
        return -1;
    if (!jstr(*d, 0, "status", v, sizeof(v)) || strcmp(v, "success") != 0)
        return -1;
    return json_get(*d, 0, "data");
}

/* An instant query: the index of data.result (an array), or -1. */
static int query(const char *q, struct h_resp *r, struct json_doc **d)
{
    int data = prom_api("/api/v1/query?query=", q, r, d), res;

    res = data >= 0 ? json_get(*d, data, "result") : -1;
    return res >= 0 && json_type(*d, res) == JSON_ARRAY ? res : -1;
}

/* The sample value (as Prometheus writes it) of result element e into out, or NULL. */
static const char *series_value(const struct json_doc *d, int e, char *out, size_t cap)
{
    int v = json_get(d, e, "value"), s;

    if (v < 0 || json_type(d, v) != JSON_ARRAY || json_size(d, v) != 2)
        return NULL;
    s = json_next(d, json_first(d, v));
    return s >= 0 && json_type(d, s) == JSON_STRING && json_string(d, s, out, cap, NULL) == 0
               ? out
               : NULL;
}

struct one_ctx {
    const char *q;
    char last[STR_MAX]; /* what the last answer was, for the failure message */
};

/* q returns exactly one series, of value 1. */
static int cond_one(void *ctx)
{
    struct one_ctx *c = ctx;
    struct json_doc *d;
    struct h_resp r;
    char v[64];
    int res = query(c->q, &r, &d), ok;

    ok = res >= 0 && json_size(d, res) == 1 && series_value(d, json_first(d, res), v, sizeof(v)) &&
         strcmp(v, "1") == 0;
    snprintf(c->last, sizeof(c->last), "%.1000s", r.body ? r.body : "(no answer)");
    json_free(d);
    h_resp_free(&r);
    return ok;
}

static void wait_one(const char *q, const struct h_proc *prom, const struct h_proc *exp)
{
    struct one_ctx c = {q, ""};

    if (h_wait_for(WAIT_S, cond_one, &c) != 0) {
        h_dump_logs(prom);
        h_dump_logs(exp);
        fail_msg("Prometheus never had exactly one series of value 1 for %s; last answer: %s", q,
                 c.last);
    }
}

/*
 * Result element e's metric has exactly the labels kv (name, value, ..., NULL) and the value
 * want; what names the series in a failure.
 */
static void expect_series(const struct json_doc *d, int e, const char *const *kv, const char *want,
                          const char *what)
{
    int m = json_get(d, e, "metric");
    size_t n;
    char v[STR_MAX];

    assert_true(m >= 0);
    for (n = 0; kv[2 * n]; n++)
        if (!jstr(d, m, kv[2 * n], v, sizeof(v)) || strcmp(v, kv[2 * n + 1]) != 0)
            fail_msg("%s: label %s is \"%s\", want \"%s\"", what, kv[2 * n],
                     jstr(d, m, kv[2 * n], v, sizeof(v)) ? v : "(absent)", kv[2 * n + 1]);
    if ((size_t)json_size(d, m) != n)
        fail_msg("%s: %d labels, want exactly %zu", what, json_size(d, m), n);
    if (!series_value(d, e, v, sizeof(v)) || strcmp(v, want) != 0)
        fail_msg("%s: value %s, want %s", what, series_value(d, e, v, sizeof(v)) ? v : "(none)",
                 want);
}

/*
 * The job's elb_job_status series in Prometheus: exactly one at 1, the one of status want
 * with exactly the labels {__name__, instance, job, job_id, job_type, status}; the others 0.
 */
static void expect_status(const char *instance, const char *job_id, const char *job_type,
                          const char *want)
{
    char q[256], status[64], what[256], v[64];
    struct json_doc *d;
    struct h_resp r;
    int res, e, ones = 0;

    h_fmt(q, sizeof(q), "elb_job_status{job=\"exporter\",job_id=\"%s\"}", job_id);
    res = query(q, &r, &d);
    if (res < 0 || json_size(d, res) < 2)
        fail_msg("%s: no good answer or fewer than two series: %.1000s", q, r.body ? r.body : "");
    for (e = json_first(d, res); e >= 0; e = json_next(d, e)) {
        assert_non_null(jstr(d, json_get(d, e, "metric"), "status", status, sizeof(status)));
        h_fmt(what, sizeof(what), "elb_job_status{job_id=\"%s\",status=\"%s\"}", job_id, status);
        if (strcmp(status, want) == 0) {
            const char *const kv[] = {
                "__name__", "elb_job_status", "instance", instance, "job", "exporter", "job_id",
                job_id,     "job_type",       job_type,   "status", want,  NULL};

            expect_series(d, e, kv, "1", what);
            ones++;
        } else {
            assert_non_null(series_value(d, e, v, sizeof(v)));
            if (strcmp(v, "0") != 0)
                fail_msg("%s is %s, want 0 (the job is %s)", what, v, want);
        }
    }
    assert_int_equal(ones, 1);
    json_free(d);
    h_resp_free(&r);
}

/* The type Prometheus's metadata has for family metric of the exporter's target, into out. */
static const char *target_metadata_type(const char *metric, char *out, size_t cap)
{
    char path[256];
    struct json_doc *d;
    struct h_resp r;
    int data, e;
    const char *t = NULL;

    h_fmt(path, sizeof(path), "/api/v1/targets/metadata?metric=%s&match_target=", metric);
    data = prom_api(path, "{job=\"exporter\"}", &r, &d);
    if (data < 0 || json_type(d, data) != JSON_ARRAY)
        fail_msg("metadata of %s: no good answer: %.500s", metric, r.body ? r.body : "");
    e = json_first(d, data);
    if (e >= 0 && json_size(d, data) == 1)
        t = jstr(d, e, "type", out, cap);
    if (!t)
        fail_msg("metadata of %s: want one entry with a type: %.500s", metric, r.body);
    json_free(d);
    h_resp_free(&r);
    return t;
}

/* ---- the exporter ------------------------------------------------------------------------- */

struct refused_want {
    const char *metrics;
    double want, last;
};

/* elb_job_exporter_http_requests_refused_total{reason="unauthorized"} >= want, over HTTPS. */
static int cond_refused(void *ctx)
{
    struct refused_want *w = ctx;
    struct answer a;
    struct h_expo e;
    const struct h_sample *s;
    char err[256];

    get(w->metrics, USER, PASSWORD, NULL, &a);
    if (a.code == 200 && h_expo_parse(a.body, a.len, &e, err, sizeof(err)) == 0) {
        s = h_expo_find(&e, "elb_job_exporter_http_requests_refused_total",
                        "reason=\"unauthorized\"", 0, NULL);
        w->last = s ? s->value : -1;
        h_expo_free(&e);
    }
    answer_free(&a);
    return w->last >= w->want;
}

/* ---- the test ----------------------------------------------------------------------------- */

static void test_prometheus_scrapes_https_openmetrics_gzip(void **state)
{
    char sim_base[H_URL_MAX], exp_base[H_URL_MAX], metrics[H_URL_MAX], plain_url[H_URL_MAX];
    char web[H_PATH_MAX], web_flag[H_PATH_MAX + 32], pw[H_PATH_MAX], cfg[H_PATH_MAX];
    char yml[4096], v[HDR_MAX], creds[256], file[H_PATH_MAX], instance[64];
    const char *args[H_MAX_ARGS];
    const char *replay[REC_HEADERS + 1];
    char replay_buf[REC_HEADERS][REC_NAME_MAX + REC_VALUE_MAX + 4];
    struct h_proc sim, exp, prom;
    struct rec_req q, q2;
    struct answer a;
    struct h_expo e;
    struct json_doc *d;
    struct h_resp r;
    size_t n = 0, nr = 0, om_len = 0;
    double t0 = h_mono(), t_up, t_checked;
    char *om, *plain;
    uint16_t port;
    int res;

    (void)state;

    /* the exporter over HTTPS with basic auth, every scenario job, against the simulator */
    h_fmt(yml, sizeof(yml),
          "tls_server_config:\n"
          "  cert_file: server.pem\n"
          "  key_file: server.key\n"
          "basic_auth_users:\n"
          "  " USER ": %s\n",
          user_hash);
    save("web.yml", yml, strlen(yml), web, sizeof(web));
    h_fmt(web_flag, sizeof(web_flag), "--web.config.file=%s", web);
    assert_int_equal(h_start_sim(&sim, dir, 200, sim_base, sizeof(sim_base)), 0);
    args[n++] = "--poll.interval=1s";
    args[n++] = "--poll.timeout=1s";
    args[n++] = web_flag;
    assert_int_equal(h_add_scenario_jobs(args, &n, H_MAX_ARGS - 1), 0);
    args[n] = NULL;
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, args, NULL, START_TIMEOUT_S,
                                      exp_base, sizeof(exp_base)),
                     0);
    assert_true(strncmp(exp_base, "https://127.0.0.1:", 18) == 0);
    h_fmt(instance, sizeof(instance), "%s", exp_base + strlen("https://"));
    h_fmt(metrics, sizeof(metrics), "%s/metrics", exp_base);
    port = (uint16_t)atoi(strrchr(exp_base, ':') + 1);

    /* one Prometheus, two jobs with the same credentials: the recorder (HTTP), the exporter */
    rec = rec_start();
    save("password", PASSWORD, strlen(PASSWORD), pw, sizeof(pw));
    h_fmt(yml, sizeof(yml),
          "global:\n"
          "  scrape_interval: 1s\n"
          "scrape_configs:\n"
          "  - job_name: recorder\n"
          "    basic_auth:\n"
          "      username: " USER "\n"
          "      password_file: %s\n"
          "    static_configs:\n"
          "      - targets: ['127.0.0.1:%u']\n"
          "  - job_name: exporter\n"
          "    scheme: https\n"
          "    basic_auth:\n"
          "      username: " USER "\n"
          "      password_file: %s\n"
          "    tls_config:\n"
          "      ca_file: %s\n"
          "    static_configs:\n"
          "      - targets: ['%s']\n",
          pw, rec->port, pw, ca_pem, instance);
    save("prometheus.yml", yml, strlen(yml), cfg, sizeof(cfg));
    start_prometheus(&prom, cfg, prom_base, sizeof(prom_base));

    /* ---- what Prometheus sees ---- */
    wait_one("up{job=\"exporter\"} == 1", &prom, &exp);
    t_up = h_mono();
    wait_one("up{job=\"recorder\"} == 1", &prom, &exp);
    /* a job that goes INIT, RUNNING, FAIL, one step per poll: it has been scraped as it ended */
    wait_one("elb_job_status{job=\"exporter\",job_id=\"" J_PROG_FAIL "\",status=\"FAIL\"} == 1",
             &prom, &exp);
    expect_status(instance, J_FAIL, "createELB", "FAIL");
    expect_status(instance, J_SEED, "createELB", "SUCCESS");
    expect_status(instance, J_PROG_FAIL, "deleteELB", "FAIL");

    res = query("elb_job_error_info{job=\"exporter\",job_id=\"" J_PROG_FAIL "\"}", &r, &d);
    if (res < 0 || json_size(d, res) != 1)
        fail_msg("elb_job_error_info of " J_PROG_FAIL ": %.1000s", r.body ? r.body : "");
    {
        const char *const kv[] = {"__name__",    "elb_job_error_info", "instance",   instance,
                                  "job",         "exporter",           "job_id",     J_PROG_FAIL,
                                  "job_type",    "deleteELB",          "error_code", "ELB.2001",
                                  "fail_reason", "backend busy",       NULL};

        expect_series(d, json_first(d, res), kv, "1", "elb_job_error_info{" J_PROG_FAIL "}");
    }
    json_free(d);
    h_resp_free(&r);

    res = query("elb_jobs_failed_total{job=\"exporter\",job_type=\"createELB\","
                "error_code=\"ELB.1003\"}",
                &r, &d);
    if (res < 0 || json_size(d, res) != 1 || !series_value(d, json_first(d, res), v, sizeof(v)) ||
        strcmp(v, "1") != 0)
        fail_msg("elb_jobs_failed_total{createELB,ELB.1003}: %.1000s", r.body ? r.body : "");
    json_free(d);
    h_resp_free(&r);

    res = query("scrape_samples_scraped{job=\"exporter\"}", &r, &d);
    if (res < 0 || json_size(d, res) != 1 || !series_value(d, json_first(d, res), v, sizeof(v)) ||
        !(strtod(v, NULL) > 0))
        fail_msg("scrape_samples_scraped{job=\"exporter\"}: %.1000s", r.body ? r.body : "");
    printf("scrape_https: Prometheus: scrape_samples_scraped{job=\"exporter\"} %s\n", v);
    json_free(d);
    h_resp_free(&r);

    /* the target: healthy, scraped at its https:// URL, no error */
    res = prom_api("/api/v1/targets?state=active", NULL, &r, &d);
    {
        int active = res >= 0 ? json_get(d, res, "activeTargets") : -1, found = 0;
        char url[H_URL_MAX];

        if (active < 0 || json_type(d, active) != JSON_ARRAY)
            fail_msg("/api/v1/targets: %.1000s", r.body ? r.body : "");
        h_fmt(url, sizeof(url), "%s/metrics", exp_base);
        for (int t = json_first(d, active); t >= 0; t = json_next(d, t)) {
            if (!jstr(d, t, "scrapePool", v, sizeof(v)) || strcmp(v, "exporter") != 0)
                continue;
            found++;
            assert_string_equal(jstr(d, t, "scrapeUrl", v, sizeof(v)), url);
            assert_string_equal(jstr(d, t, "health", v, sizeof(v)), "up");
            assert_string_equal(jstr(d, t, "lastError", v, sizeof(v)), "");
        }
        assert_int_equal(found, 1);
    }
    json_free(d);
    h_resp_free(&r);

    /*
     * Prometheus parsed OpenMetrics: only that format has an info type and names a counter
     * family without _total (text 0.0.4 would give elb_job_error_info a gauge, and the
     * family elb_jobs_finished_total).
     */
    assert_string_equal(target_metadata_type("elb_job_error", v, sizeof(v)), "info");
    assert_string_equal(target_metadata_type("elb_jobs_finished", v, sizeof(v)), "counter");
    t_checked = h_mono();

    /* ---- what Prometheus asks for, replayed on the exporter's request path ---- */
    if (h_wait_for(WAIT_S, cond_recorded, NULL) != 0)
        fail_msg("the recorder got %zu requests from Prometheus", rec_count(rec));
    rec_get(rec, 0, &q);
    rec_get(rec, 1, &q2);
    assert_false(q.truncated);
    assert_string_equal(q.method, "GET");
    assert_string_equal(q.url, "/metrics");
    basic_credentials(creds, sizeof(creds));
    if (!rec_header_value(&q, "Accept") || !rec_header_value(&q, "Accept-Encoding"))
        fail_msg("Prometheus sent no Accept or no Accept-Encoding");
    assert_string_equal(rec_header_value(&q, "Authorization"), creds);
    /* the same on every scrape */
    assert_string_equal(rec_header_value(&q2, "Accept"), rec_header_value(&q, "Accept"));
    assert_string_equal(rec_header_value(&q2, "Accept-Encoding"),
                        rec_header_value(&q, "Accept-Encoding"));
    printf("scrape_https: Prometheus's request to a target (%s %s):\n", q.method, q.url);
    for (size_t i = 0; i < q.n; i++) {
        int is_auth = strcasecmp(q.name[i], "Authorization") == 0;

        printf("  %s: %s\n", q.name[i], is_auth ? "Basic (the test's credentials)" : q.value[i]);
        if (strcasecmp(q.name[i], "Host") == 0)
            continue; /* libcurl writes the exporter's */
        /* "Name;" is how libcurl sends a header with an empty value */
        h_fmt(replay_buf[nr], sizeof(replay_buf[nr]), q.value[i][0] ? "%s: %s" : "%s;", q.name[i],
              q.value[i]);
        replay[nr] = replay_buf[nr];
        nr++;
    }
    replay[nr] = NULL;

    get(metrics, NULL, NULL, replay, &a);
    if (a.code != 200)
        fail_msg("Prometheus's request replayed: HTTP %ld (curl %d): %.300s", a.code, a.curl_rc,
                 a.body);
    expect_header(&a, "Content-Type", CT_OM);
    expect_header(&a, "Content-Encoding", "gzip");
    assert_non_null(header(&a, "Vary", v, sizeof(v)));
    if (!list_has(v, "Accept-Encoding") || !list_has(v, "Accept"))
        fail_msg("Vary: %s, want Accept-Encoding and Accept", v);
    assert_non_null(header(&a, "Content-Length", v, sizeof(v)));
    assert_int_equal(strtoul(v, NULL, 10), a.len);
    om = gunzip(a.body, a.len, &om_len);
    printf("scrape_https: the replayed request got %zu bytes of gzip, %zu of OpenMetrics\n", a.len,
           om_len);
    assert_true(om_len > 7 && strcmp(om + om_len - 7, "\n# EOF\n") == 0);
    assert_non_null(strstr(om, "\nelb_job_status{job_id=\"" J_FAIL
                               "\",job_type=\"createELB\",status=\"FAIL\"} 1\n"));
    assert_non_null(strstr(om, "\n# TYPE elb_job_error info\n"));
    save("replayed.om", om, om_len, file, sizeof(file));
    {
        const char *const argv[] = {ELB_OM_PYTHON, ELB_OM_CHECK, "-", NULL};

        run_check("om_check", argv, file, om_ok);
    }
    free(om);
    answer_free(&a);

    /* ---- the text form: no Accept header at all ("Accept:" makes libcurl leave it out) ---- */
    {
        const char *const no_accept[] = {"Accept:", NULL};
        const char *const argv[] = {PROMTOOL, "check", "metrics", NULL};
        char err[256];

        get(metrics, USER, PASSWORD, no_accept, &a);
        assert_int_equal(a.code, 200);
        expect_header(&a, "Content-Type", CT_TEXT);
        assert_null(header(&a, "Content-Encoding", v, sizeof(v)));
        if (h_expo_parse(a.body, a.len, &e, err, sizeof(err)) != 0)
            fail_msg("the text form does not parse: %s", err);
        H_EXPECT(&e, "elb_job_status",
                 "job_id=\"" J_FAIL "\",job_type=\"createELB\",status=\"FAIL\"", 1);
        /* every scrape of Prometheus's went through the gate */
        H_EXPECT(&e, "elb_job_exporter_http_requests_refused_total", "reason=\"unauthorized\"", 0);
        h_expo_free(&e);
        assert_null(strstr(a.body, "# EOF"));
        save("metrics.prom", a.body, a.len, file, sizeof(file));
        answer_free(&a);
        run_check("promtool", argv, file, promtool_ok);
    }

    /* ---- refusals on the same port ---- */
    get(metrics, USER, "wrong password", NULL, &a);
    assert_int_equal(a.code, 401);
    assert_non_null(header(&a, "WWW-Authenticate", v, sizeof(v)));
    assert_int_equal(strncmp(v, "Basic", 5), 0);
    answer_free(&a);
    get(metrics, NULL, NULL, NULL, &a);
    assert_int_equal(a.code, 401);
    answer_free(&a);
    {
        struct refused_want w = {metrics, 2, -1};

        if (h_wait_for(WAIT_S, cond_refused, &w) != 0)
            fail_msg("refused{reason=\"unauthorized\"} stayed at %g, want >= 2", w.last);
    }
    /* plain HTTP to the TLS port: no HTTP answer, the connection closed */
    assert_int_equal(h_raw_http("127.0.0.1", port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                                PLAIN_TIMEOUT_S, &plain, NULL),
                     0);
    if (strstr(plain, "HTTP/"))
        fail_msg("plain HTTP got an HTTP answer: %.200s", plain);
    free(plain);
    h_fmt(plain_url, sizeof(plain_url), "http://%s/metrics", instance);
    get(plain_url, USER, PASSWORD, NULL, &a);
    if (a.code != 0)
        fail_msg("plain HTTP through libcurl got HTTP %ld", a.code);
    answer_free(&a);
    /* and the exporter still serves Prometheus */
    wait_one("up{job=\"exporter\"} == 1", &prom, &exp);

    printf("scrape_https: up == 1 after %.1f s, Prometheus checked after %.1f s, all done in "
           "%.1f s\n",
           t_up - t0, t_checked - t0, h_mono() - t0);
    H_STOP_CLEAN(&prom, 30.0);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
    rec_stop(rec);
    rec = NULL;
}

/* The recorder runs in this process: stop it too, whatever happened. */
static int teardown(void **state)
{
    int rc = h_teardown(state);

    rec_stop(rec);
    rec = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_prometheus_scrapes_https_openmetrics_gzip, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, h_group_teardown);
}
