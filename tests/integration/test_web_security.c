/*
 * web_security: --web.config.file and --web.max-requests against the real
 * binaries. The test makes its own CA and certificates (openssl) and bcrypt
 * hashes (libcrypt), and shows that
 * - HTTPS works with the configured certificate, and the configured headers
 *   are on every answer, refusals included;
 * - basic auth guards every path: no credentials, a wrong password, an unknown
 *   user or a malformed header get 401 with WWW-Authenticate: Basic, counted;
 *   an unknown user takes as long as a known one with a wrong password (the
 *   medians of interleaved samples within a factor 2), and a right password is
 *   checked once, then answered from the cache (far faster than bcrypt);
 * - plain HTTP to the TLS port gets no HTTP answer, does not flood the log
 *   (at most the log limiter's burst of lines), and is counted;
 * - RequireAndVerifyClientCert refuses a client without a certificate or with
 *   one from another CA, in the handshake, and takes the right one; a changed
 *   client_allowed_sans applies to the next connection (403, counted);
 * - certificates rotate without a restart: new files are presented on a new
 *   connection, a broken pair keeps the last good one (and the reload metrics
 *   say so), the fixed pair is taken again;
 * - --web.max-requests=1 answers 503 to a second request while a first one
 *   is held open by a client that does not read a large answer;
 * - rate_limit answers 429 past its burst;
 * - the registration API is behind the same gate (401 before its body is
 *   read, 201 after bcrypt's suspension), its answers carry the headers, and
 *   its waiters hold no place of --web.max-requests;
 * - a bad web config stops the start (exit 2) and fails --config.check
 *   (exit 1), naming the file and the place;
 * - a real Prometheus scrapes the exporter over HTTPS with basic_auth and
 *   tls_config.ca_file and sees up == 1.
 */
#include <crypt.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define WAIT_S (20.0 * IT_TIME_SCALE)
#define EXIT_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define TOOL_TIMEOUT_S (60.0 * IT_TIME_SCALE)
#define PROM_START_TIMEOUT_S 30.0
#define PROM_TRIES 5
#define BCRYPT_COST 10 /* exporter-toolkit's documented example cost */
#define SAMPLES 7      /* per kind, for the timing medians */
#define PLAIN_TRIES 25 /* plain HTTP requests to the TLS port */
#define LOG_BURST 10   /* HTTP_LOG_BURST of http.c */
#define BIG_JOBS 2000  /* jobs whose exposition (~1.2 MB) no socket buffer below holds */
#define SMALL_RCVBUF 2048
#define SMALL_MSS 536
#define API_WAITERS 3 /* one more than --web.max-requests */
/* The waiters' ?wait=: well within the client's timeout (H_HTTP_TIMEOUT_MS * IT_TIME_SCALE). */
#if IT_TIME_SCALE >= 4
#define API_WAIT "24s"
#elif IT_TIME_SCALE >= 2
#define API_WAIT "12s"
#else
#define API_WAIT "6s"
#endif

#define PASSWORD "correct horse battery staple"

static char gdir[H_PATH_MAX]; /* the group's: CA, certificates */
static char ca_pem[H_PATH_MAX], srv1_pem[H_PATH_MAX], srv1_key[H_PATH_MAX];
static char srv2_pem[H_PATH_MAX], srv2_key[H_PATH_MAX];
static char cli_pem[H_PATH_MAX], cli_key[H_PATH_MAX], other_pem[H_PATH_MAX], other_key[H_PATH_MAX];
static char alice_hash[CRYPT_OUTPUT_SIZE];
static char dir[H_PATH_MAX]; /* the running case's */

/* ---- set-up ------------------------------------------------------------------------------- */

/* Run a tool to its end in gdir (h_run_tool: 0, or -1 with its logs dumped). */
static int run_tool(const char *name, const char *const *argv)
{
    return h_run_tool(gdir, name, argv, TOOL_TIMEOUT_S);
}

/* gdir/file into out: 0, or -1 when it does not fit. */
static int fmt_path(char *out, size_t cap, const char *file)
{
    int n = snprintf(out, cap, "%s/%s", gdir, file);

    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/*
 * A certificate (P-256, 2 days) with subject cn and the extensions in ext,
 * signed by the CA (ca_key given) or self-signed (ca_key NULL), into pem/key.
 */
static int make_cert(const char *name, const char *cn, const char *ext, const char *ca_key,
                     char *pem, char *key)
{
    char csr[H_PATH_MAX], ext_path[H_PATH_MAX], subj[128], file[64];

    snprintf(file, sizeof(file), "%s.pem", name);
    if (fmt_path(pem, H_PATH_MAX, file))
        return -1;
    snprintf(file, sizeof(file), "%s.key", name);
    if (fmt_path(key, H_PATH_MAX, file))
        return -1;
    snprintf(file, sizeof(file), "%s.csr", name);
    if (fmt_path(csr, sizeof(csr), file))
        return -1;
    snprintf(file, sizeof(file), "%s.ext", name);
    if (fmt_path(ext_path, sizeof(ext_path), file) || h_write_file(ext_path, ext, strlen(ext)))
        return -1;
    snprintf(subj, sizeof(subj), "/CN=%s", cn);
    const char *const req[] = {
        OPENSSL_PATH, "req",     "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes",     "-keyout", key,    "-out",    csr,  "-subj",    subj,
        NULL};
    const char *const sign[] = {OPENSSL_PATH, "x509",     "-req",   "-in",         csr, "-CA",
                                ca_pem,       "-CAkey",   ca_key,   "-set_serial", "7", "-days",
                                "2",          "-extfile", ext_path, "-out",        pem, NULL};
    const char *const self[] = {OPENSSL_PATH, "x509", "-req",     "-in",    csr,    "-key", key,
                                "-days",      "2",    "-extfile", ext_path, "-out", pem,    NULL};

    if (run_tool("openssl-req", req) != 0)
        return -1;
    return run_tool("openssl-sign", ca_key ? sign : self);
}

static int make_certs(void)
{
    static const char srv_ext[] = "subjectAltName=IP:127.0.0.1\n"
                                  "basicConstraints=critical,CA:FALSE\n"
                                  "keyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=serverAuth\n";
    static const char cli_ext[] = "subjectAltName=DNS:prom.example\n"
                                  "basicConstraints=critical,CA:FALSE\n"
                                  "keyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=clientAuth\n";
    char ca_key[H_PATH_MAX];

    if (fmt_path(ca_pem, sizeof(ca_pem), "ca.pem") || fmt_path(ca_key, sizeof(ca_key), "ca.key"))
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
                              "/CN=elb_job_exporter web test CA",
                              "-addext",
                              "basicConstraints=critical,CA:TRUE",
                              "-addext",
                              "keyUsage=critical,keyCertSign,cRLSign",
                              NULL};

    if (run_tool("openssl-ca", ca) != 0 ||
        make_cert("server1", "rotation-one", srv_ext, ca_key, srv1_pem, srv1_key) != 0 ||
        make_cert("server2", "rotation-two", srv_ext, ca_key, srv2_pem, srv2_key) != 0 ||
        make_cert("client", "prometheus", cli_ext, ca_key, cli_pem, cli_key) != 0 ||
        make_cert("stranger", "stranger", cli_ext, NULL, other_pem, other_key) != 0)
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
    if (!h || h[0] == '*' || strlen(h) >= sizeof(alice_hash))
        return -1;
    strcpy(alice_hash, h);
    return 0;
}

static int group_setup(void **state)
{
    if (h_group_setup(state) != 0 || h_test_dir("web_security", gdir, sizeof(gdir)) != 0 ||
        make_certs() != 0 || make_hash() != 0)
        return -1;
    return 0;
}

/* Copy file src to dir/name. */
static void copy_in(const char *src, const char *name)
{
    char path[H_PATH_MAX];
    size_t len;
    char *text = h_read_file(src, &len);

    assert_non_null(text);
    h_fmt(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(h_write_file(path, text, len), 0);
    free(text);
}

/* Write text to dir/name through a temporary file renamed over it (as rotation tools do). */
static void put(const char *name, const char *text)
{
    char path[H_PATH_MAX], tmp[H_PATH_MAX + 8];

    h_fmt(path, sizeof(path), "%s/%s", dir, name);
    h_fmt(tmp, sizeof(tmp), "%s.new", path);
    assert_int_equal(h_write_file(tmp, text, strlen(text)), 0);
    assert_int_equal(rename(tmp, path), 0);
}

/* Copy src over dir/name atomically. */
static void put_file(const char *src, const char *name)
{
    char *text = h_read_file(src, NULL);

    assert_non_null(text);
    put(name, text);
    free(text);
}

/* ---- an HTTPS client ---------------------------------------------------------------------- */

struct client {
    const char *user, *pass; /* basic auth; NULL: none */
    const char *cert, *key;  /* client certificate; NULL: none */
    const char *header;      /* one more request header, or NULL */
    const char *post;        /* a JSON body to POST instead of a GET, or NULL */
};

struct answer {
    long code;   /* 0: no HTTP answer */
    int curl_rc; /* CURLcode */
    char *body, *hdr;
    size_t len;
    char subject[512]; /* the server certificate's subject */
    double secs;       /* how long the request took */
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
 * GET (or POST c->post to) base + path as c, on a new connection, verifying
 * the server against the test CA.
 */
static void get(const char *base, const char *path, const struct client *c, struct answer *a)
{
    struct buf body = {0}, hdr = {0};
    struct curl_slist *hl = NULL;
    struct curl_certinfo *ci = NULL;
    char url[H_URL_MAX];
    CURL *h = curl_easy_init();
    double t0;

    memset(a, 0, sizeof(*a));
    assert_non_null(h);
    h_fmt(url, sizeof(url), "%s%s", base, path);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(H_HTTP_TIMEOUT_MS * IT_TIME_SCALE));
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_CAINFO, ca_pem);
    curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &hdr);
    if (c && c->user) {
        curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
        curl_easy_setopt(h, CURLOPT_USERNAME, c->user);
        curl_easy_setopt(h, CURLOPT_PASSWORD, c->pass);
    }
    if (c && c->cert) {
        curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert);
        curl_easy_setopt(h, CURLOPT_SSLKEY, c->key);
    }
    if (c && c->header)
        hl = curl_slist_append(hl, c->header);
    if (c && c->post) {
        hl = curl_slist_append(hl, "Content-Type: application/json");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->post);
    }
    if (hl)
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    t0 = h_mono();
    a->curl_rc = (int)curl_easy_perform(h);
    a->secs = h_mono() - t0;
    if (a->curl_rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->code);
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) == CURLE_OK && ci && ci->num_of_certs > 0)
        for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next)
            if (strncmp(s->data, "Subject:", 8) == 0)
                snprintf(a->subject, sizeof(a->subject), "%s", s->data + 8);
    curl_slist_free_all(hl);
    curl_easy_cleanup(h);
    a->body = body.p ? body.p : calloc(1, 1);
    a->len = body.n;
    a->hdr = hdr.p ? hdr.p : calloc(1, 1);
}

static void answer_free(struct answer *a)
{
    free(a->body);
    free(a->hdr);
    memset(a, 0, sizeof(*a));
}

/* The value of header name in a (case-insensitive name), or NULL. */
static const char *header(const struct answer *a, const char *name, char *out, size_t cap)
{
    struct h_resp r = {.hdr = a->hdr, .hlen = strlen(a->hdr)};

    return h_resp_header(&r, name, out, cap) == 0 ? out : NULL;
}

/* GET and require code; returns nothing (the answer is freed). */
static void expect_code(const char *base, const char *path, const struct client *c, long code)
{
    struct answer a;

    get(base, path, c, &a);
    if (a.code != code)
        fail_msg("GET %s%s: got %ld (curl %d), want %ld: %.200s", base, path, a.code, a.curl_rc,
                 code, a.body);
    answer_free(&a);
}

/* GET and require that no HTTP answer came (refused in the TLS handshake). */
static void expect_refused(const char *base, const char *path, const struct client *c)
{
    struct answer a;

    get(base, path, c, &a);
    if (a.code != 0)
        fail_msg("GET %s%s: got %ld, want no answer (a refused handshake)", base, path, a.code);
    answer_free(&a);
}

/* name{labels} in a fresh scrape of base as c; NAN when absent or the scrape failed. */
static double metric(const char *base, const struct client *c, const char *name, const char *labels)
{
    struct answer a;
    struct h_expo e;
    const struct h_sample *s;
    char perr[256];
    double v = NAN;

    get(base, "/metrics", c, &a);
    if (a.code == 200 && h_expo_parse(a.body, a.len, &e, perr, sizeof(perr)) == 0) {
        s = h_expo_find(&e, name, labels, 0, NULL);
        if (s)
            v = s->value;
        h_expo_free(&e);
    }
    answer_free(&a);
    return v;
}

struct metric_want {
    const char *base, *name, *labels;
    const struct client *c;
    double want, last;
    int at_least; /* 1: >= want, 0: == want */
};

static int cond_metric(void *ctx)
{
    struct metric_want *w = ctx;

    w->last = metric(w->base, w->c, w->name, w->labels);
    return !isnan(w->last) && (w->at_least ? w->last >= w->want : w->last == w->want);
}

/* Wait until name{labels} >= want (at_least) or == want (the HTTP families are rendered per cycle).
 */
static void wait_metric(const char *base, const struct client *c, const char *name,
                        const char *labels, double want, int at_least)
{
    struct metric_want w = {base, name, labels, c, want, NAN, at_least};

    if (h_wait_for(WAIT_S, cond_metric, &w) != 0)
        fail_msg("%s{%s} stayed at %g, want %s%g", name, labels, w.last, at_least ? ">= " : "",
                 want);
}

static void wait_metric_ge(const char *base, const struct client *c, const char *name,
                           const char *labels, double want)
{
    wait_metric(base, c, name, labels, want, 1);
}

/* name{labels} in a fresh scrape is exactly want. */
static void expect_metric(const char *base, const struct client *c, const char *name,
                          const char *labels, double want)
{
    double v = metric(base, c, name, labels);

    if (v != want)
        fail_msg("%s{%s} is %g, want %g", name, labels, v, want);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof(v[0]), cmp_double);
    return v[n / 2];
}

/* Lines of the process's stderr that hold needle. */
static size_t log_count(const struct h_proc *p, const char *needle)
{
    char *text = h_read_file(p->err_path, NULL), *line, *save = NULL;
    size_t n = 0;

    assert_non_null(text);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        n += strstr(line, needle) != NULL;
    free(text);
    return n;
}

/* Start the simulator and the exporter with the web config dir/web.yml (if web) and extra. */
static void start(struct h_proc *sim, struct h_proc *exp, int web, const char *const *extra,
                  char *base, size_t cap)
{
    char sim_base[H_URL_MAX], web_flag[H_PATH_MAX + 32];
    const char *args[H_MAX_ARGS];
    size_t n = 0;

    assert_int_equal(h_start_sim(sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    args[n++] = "--poll.interval=1s";
    args[n++] = "--job=" J_SEED;
    args[n++] = "--job=" J_FAIL;
    if (web) {
        h_fmt(web_flag, sizeof(web_flag), "--web.config.file=%s/web.yml", dir);
        args[n++] = web_flag;
    }
    for (size_t i = 0; extra && extra[i]; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    assert_int_equal(
        h_start_exporter(exp, dir, "exporter", sim_base, args, NULL, START_TIMEOUT_S, base, cap),
        0);
}

/* ---- the cases ---------------------------------------------------------------------------- */

static const char headers_yml[] = "http_server_config:\n"
                                  "  headers:\n"
                                  "    X-Frame-Options: deny\n"
                                  "    X-Content-Type-Options: nosniff\n"
                                  "    Strict-Transport-Security: max-age=63072000\n";

/* HTTPS, basic auth on every path, headers on every answer, timing, plain HTTP refused. */
static void test_https_basic_auth_headers(void **state)
{
    static const char *const paths[] = {"/metrics",     "/",    "/-/healthy", "/-/ready",
                                        "/api/v1/jobs", "/nope"};
    const struct client alice = {"alice", PASSWORD, NULL, NULL, NULL, NULL};
    const struct client wrong = {"alice", "wrong password", NULL, NULL, NULL, NULL};
    const struct client mallory = {"mallory", "wrong password", NULL, NULL, NULL, NULL};
    const struct client empty = {"alice", "", NULL, NULL, NULL, NULL};
    const struct client garbled = {NULL, NULL, NULL, NULL, "Authorization: Basic !!!", NULL};
    double t_wrong[SAMPLES], t_unknown[SAMPLES], t_cached[SAMPLES], m_wrong, m_unknown, m_cached;
    char yml[2048], v[256], *plain;
    char base[H_URL_MAX];
    struct h_proc sim, exp;
    struct answer a;
    struct h_expo e;
    unsigned refusals = 0;
    uint16_t port;
    size_t plain_len;

    (void)state;
    assert_int_equal(h_test_dir("web_security_auth", dir, sizeof(dir)), 0);
    copy_in(srv1_pem, "server.pem");
    copy_in(srv1_key, "server.key");
    h_fmt(yml, sizeof(yml),
          "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n%s"
          "basic_auth_users:\n  alice: %s\n",
          headers_yml, alice_hash);
    put("web.yml", yml);
    start(&sim, &exp, 1, NULL, base, sizeof(base));
    assert_true(strncmp(base, "https://127.0.0.1:", 18) == 0);

    /* the right user: the exposition over HTTPS, with the configured headers */
    get(base, "/metrics", &alice, &a);
    assert_int_equal(a.code, 200);
    assert_non_null(strstr(a.subject, "rotation-one"));
    assert_non_null(header(&a, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(header(&a, "X-Frame-Options", v, sizeof(v)), "deny");
    assert_string_equal(header(&a, "X-Content-Type-Options", v, sizeof(v)), "nosniff");
    assert_string_equal(header(&a, "Strict-Transport-Security", v, sizeof(v)), "max-age=63072000");
    assert_int_equal(h_expo_parse(a.body, a.len, &e, v, sizeof(v)), 0);
    h_expo_free(&e);
    answer_free(&a);

    /* every path is guarded, and the refusal carries the challenge and the headers */
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        get(base, paths[i], NULL, &a);
        if (a.code != 401)
            fail_msg("GET %s without credentials: %ld, want 401", paths[i], a.code);
        assert_non_null(header(&a, "WWW-Authenticate", v, sizeof(v)));
        assert_true(strncmp(v, "Basic", 5) == 0);
        assert_string_equal(header(&a, "X-Frame-Options", v, sizeof(v)), "deny");
        answer_free(&a);
        refusals++;
    }
    expect_code(base, "/-/healthy", &alice, 200);
    expect_code(base, "/nope", &alice, 404);
    expect_code(base, "/metrics", &wrong, 401);
    expect_code(base, "/metrics", &mallory, 401);
    expect_code(base, "/metrics", &empty, 401);
    expect_code(base, "/metrics", &garbled, 401);
    refusals += 4;

    /*
     * An unknown user takes as long as a known one with a wrong password (both
     * run bcrypt at the same cost), and a right password is answered from the
     * cache. Interleaved, so that the machine's load weighs on both alike.
     */
    for (int i = 0; i < SAMPLES; i++) {
        get(base, "/-/healthy", &wrong, &a);
        assert_int_equal(a.code, 401);
        t_wrong[i] = a.secs;
        answer_free(&a);
        get(base, "/-/healthy", &mallory, &a);
        assert_int_equal(a.code, 401);
        t_unknown[i] = a.secs;
        answer_free(&a);
        get(base, "/-/healthy", &alice, &a);
        assert_int_equal(a.code, 200);
        t_cached[i] = a.secs;
        answer_free(&a);
        refusals += 2;
    }
    m_wrong = median(t_wrong, SAMPLES);
    m_unknown = median(t_unknown, SAMPLES);
    m_cached = median(t_cached, SAMPLES);
    fprintf(stderr,
            "web_security: medians over %d requests (new TLS connection each): wrong password "
            "%.1f ms, unknown user %.1f ms, right password (cached) %.1f ms\n",
            SAMPLES, m_wrong * 1e3, m_unknown * 1e3, m_cached * 1e3);
    if (m_unknown < m_wrong / 2 || m_unknown > m_wrong * 2)
        fail_msg("unknown user %.1f ms vs wrong password %.1f ms: not within a factor 2",
                 m_unknown * 1e3, m_wrong * 1e3);
    if (m_cached > m_wrong / 2)
        fail_msg("a right password took %.1f ms, a wrong one %.1f ms: not cached?", m_cached * 1e3,
                 m_wrong * 1e3);

    /* plain HTTP to the TLS port: no HTTP answer, and not one log line each */
    port = (uint16_t)atoi(strrchr(base, ':') + 1);
    for (int i = 0; i < PLAIN_TRIES; i++) {
        assert_int_equal(h_raw_http("127.0.0.1", port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
                                    5.0 * IT_TIME_SCALE, &plain, &plain_len),
                         0);
        if (strstr(plain, "HTTP/1."))
            fail_msg("plain HTTP got an HTTP answer: %.200s", plain);
        free(plain);
    }
    expect_code(base, "/-/healthy", &alice, 200); /* still serving */

    /* counted: the refusals, and libmicrohttpd's complaints about the handshakes */
    wait_metric_ge(base, &alice, "elb_job_exporter_http_requests_refused_total",
                   "reason=\"unauthorized\"", refusals);
    wait_metric_ge(base, &alice, "elb_job_exporter_http_server_errors_total", "", PLAIN_TRIES);
    expect_metric(base, &alice, "elb_job_exporter_http_requests_refused_total",
                  "reason=\"max_requests\"", 0);
    expect_metric(base, &alice, "elb_job_exporter_web_config_last_reload_successful", "", 1);
    if (log_count(&exp, "handshake") > LOG_BURST) {
        h_dump_logs(&exp);
        fail_msg("%zu log lines about handshakes for %d plain requests: not rate-limited",
                 log_count(&exp, "handshake"), PLAIN_TRIES);
    }
    assert_int_equal(log_count(&exp, PASSWORD), 0);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* RequireAndVerifyClientCert: refused in the handshake without the right certificate. */
static void test_client_certificates(void **state)
{
    const struct client prom = {NULL, NULL, cli_pem, cli_key, NULL, NULL};
    const struct client stranger = {NULL, NULL, other_pem, other_key, NULL, NULL};
    static const char tls[] = "tls_server_config:\n"
                              "  cert_file: server.pem\n"
                              "  key_file: server.key\n"
                              "  client_ca_file: ca.pem\n"
                              "  client_auth_type: RequireAndVerifyClientCert\n";
    char base[H_URL_MAX], yml[1024];
    struct h_proc sim, exp;

    (void)state;
    assert_int_equal(h_test_dir("web_security_mtls", dir, sizeof(dir)), 0);
    copy_in(srv1_pem, "server.pem");
    copy_in(srv1_key, "server.key");
    copy_in(ca_pem, "ca.pem");
    put("web.yml", tls);
    start(&sim, &exp, 1, NULL, base, sizeof(base));

    expect_refused(base, "/-/healthy", NULL);
    expect_refused(base, "/metrics", &stranger);
    expect_code(base, "/metrics", &prom, 200);

    /* client_allowed_sans without the certificate's SAN: the next connection gets 403 */
    h_fmt(yml, sizeof(yml), "%s  client_allowed_sans: [other.example]\n", tls);
    put("web.yml", yml);
    expect_code(base, "/-/healthy", &prom, 403);
    h_fmt(yml, sizeof(yml), "%s  client_allowed_sans: [other.example, prom.example]\n", tls);
    put("web.yml", yml);
    expect_code(base, "/-/healthy", &prom, 200);
    wait_metric_ge(base, &prom, "elb_job_exporter_http_requests_refused_total",
                   "reason=\"client_cert\"", 1);
    wait_metric_ge(base, &prom, "elb_job_exporter_http_server_errors_total", "", 2);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

struct subject_want {
    const char *base, *want;
    char last[512];
};

static int cond_subject(void *ctx)
{
    struct subject_want *w = ctx;
    struct answer a;
    int ok;

    get(w->base, "/-/healthy", NULL, &a);
    if (snprintf(w->last, sizeof(w->last), "%.400s (HTTP %ld)", a.subject, a.code) < 0)
        w->last[0] = '\0';
    ok = a.code == 200 && strstr(a.subject, w->want) != NULL;
    answer_free(&a);
    return ok;
}

static void wait_subject(const char *base, const char *want)
{
    struct subject_want w = {base, want, ""};

    if (h_wait_for(WAIT_S, cond_subject, &w) != 0)
        fail_msg("new connections never presented \"%s\"; the last one: %s", want, w.last);
}

/* Certificates rotate without a restart; a broken pair keeps the last good one. */
static void test_certificate_rotation(void **state)
{
    char base[H_URL_MAX];
    struct h_proc sim, exp;
    struct answer a;

    (void)state;
    assert_int_equal(h_test_dir("web_security_rotation", dir, sizeof(dir)), 0);
    copy_in(srv1_pem, "server.pem");
    copy_in(srv1_key, "server.key");
    put("web.yml", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n");
    start(&sim, &exp, 1, NULL, base, sizeof(base));
    wait_subject(base, "rotation-one");

    /* the new pair, key first: in between, the pair does not match (and is not taken) */
    put_file(srv2_key, "server.key");
    put_file(srv2_pem, "server.pem");
    wait_subject(base, "rotation-two");
    wait_metric_ge(base, NULL, "elb_job_exporter_web_config_last_reload_successful", "", 1);

    /* a key that is not the certificate's: refused, the last good pair stays */
    put_file(other_key, "server.key");
    get(base, "/-/healthy", NULL, &a);
    assert_int_equal(a.code, 200);
    assert_non_null(strstr(a.subject, "rotation-two"));
    answer_free(&a);
    wait_metric(base, NULL, "elb_job_exporter_web_config_last_reload_successful", "", 0, 0);
    wait_metric_ge(base, NULL, "elb_job_exporter_web_config_reload_failures_total", "", 1);
    assert_true(log_count(&exp, "the private key is not the certificate's") >= 1);

    /* fixed: taken again */
    put_file(srv2_key, "server.key");
    wait_subject(base, "rotation-two");
    wait_metric(base, NULL, "elb_job_exporter_web_config_last_reload_successful", "", 1, 0);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/*
 * A connection that asks for base's /metrics and does not read: with a tiny
 * receive buffer and maximum segment size (which keep the server's send
 * buffer small too), a large answer stays being sent until the test reads it.
 */
static int hold_request(uint16_t port)
{
    struct sockaddr_in sa;
    static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), rcv = SMALL_RCVBUF, mss = SMALL_MSS;

    assert_true(fd >= 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv)), 0);
    assert_int_equal(setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL), (ssize_t)(sizeof(req) - 1));
    return fd;
}

struct code_want {
    const char *url;
    long code;
    long last;
};

static int cond_code(void *ctx)
{
    struct code_want *w = ctx;
    struct h_resp r;

    h_get(w->url, &r);
    w->last = r.code;
    h_resp_free(&r);
    return w->last == w->code;
}

/* --web.max-requests=1: a second request while the first is being sent gets 503. */
static void test_max_requests(void **state)
{
    char base[H_URL_MAX], jobs[H_PATH_MAX], jobs_flag[H_PATH_MAX + 32], url[H_URL_MAX];
    /* an hour between cycles: the unknown jobs are asked once, not every second */
    const char *extra[] = {"--web.max-requests=1", jobs_flag, "--poll.interval=1h", NULL};
    struct h_proc sim, exp;
    struct h_resp r;
    char *text, *held, *end;
    size_t n = 0, total = 0, want = 0;
    ssize_t got;
    double v;
    int fd;

    (void)state;
    assert_int_equal(h_test_dir("web_security_max_requests", dir, sizeof(dir)), 0);
    /* jobs the simulator does not know: each is an UNKNOWN series set, ~600 bytes */
    text = malloc(BIG_JOBS * 34 + 1);
    assert_non_null(text);
    for (int i = 0; i < BIG_JOBS; i++)
        n += (size_t)sprintf(text + n, "%032x\n", 0x5ec0000 + i);
    h_fmt(jobs, sizeof(jobs), "%s/jobs", dir);
    assert_int_equal(h_write_file(jobs, text, n), 0);
    free(text);
    h_fmt(jobs_flag, sizeof(jobs_flag), "--jobs.file=%s", jobs);
    start(&sim, &exp, 0, extra, base, sizeof(base));
    h_fmt(url, sizeof(url), "%s/-/healthy", base);
    {
        struct code_want w = {url, 200, 0};

        assert_int_equal(h_wait_for(WAIT_S, cond_code, &w), 0);
    }

    fd = hold_request((uint16_t)atoi(strrchr(base, ':') + 1));
    {
        struct code_want w = {url, 503, 0};

        if (h_wait_for(WAIT_S, cond_code, &w) != 0)
            fail_msg("a second request got %ld while the first was held, want 503", w.last);
    }
    h_get(url, &r);
    assert_int_equal(r.code, 503);
    assert_non_null(strstr(r.body, "--web.max-requests"));
    h_resp_free(&r);

    /* the first one read to its end (headers, then Content-Length bytes): the place is free */
    held = malloc(H_BODY_MAX);
    assert_non_null(held);
    while ((!want || total < want) && total < H_BODY_MAX - 1 &&
           (got = recv(fd, held + total, H_BODY_MAX - 1 - total, 0)) > 0) {
        total += (size_t)got;
        held[total] = '\0';
        if (!want && (end = strstr(held, "\r\n\r\n")) != NULL) {
            const char *cl = strstr(held, "\r\nContent-Length:") /* as libmicrohttpd spells it */;

            assert_non_null(cl);
            want = (size_t)(end + 4 - held) + strtoul(cl + 17, NULL, 10);
        }
    }
    close(fd);
    assert_true(strncmp(held, "HTTP/1.1 200", 12) == 0);
    free(held);
    fprintf(stderr, "web_security: the held answer was %zu bytes\n", total);
    assert_true(want > 512 * 1024 && total == want);
    {
        struct code_want w = {url, 200, 0};

        assert_int_equal(h_wait_for(WAIT_S, cond_code, &w), 0);
    }
    /* counted; a job more in the jobs file makes the poller render the counters again */
    assert_int_equal(h_write_file(jobs, "feedfeedfeedfeedfeedfeedfeedfeed\n", 33), 0);
    H_WAIT_METRIC_GE(base, "elb_job_exporter_http_requests_refused_total",
                     "reason=\"max_requests\"", 1, WAIT_S);
    h_fmt(url, sizeof(url), "%s/metrics", base);
    assert_int_equal(h_scrape_value(url, "elb_job_exporter_http_requests_refused_total",
                                    "reason=\"unauthorized\"", &v),
                     0);
    assert_true(v == 0);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* rate_limit: a burst, then 429, counted. */
static void test_rate_limit(void **state)
{
    char base[H_URL_MAX];
    struct h_proc sim, exp;

    (void)state;
    assert_int_equal(h_test_dir("web_security_rate_limit", dir, sizeof(dir)), 0);
    put("web.yml", "rate_limit:\n  interval: 1h\n  burst: 3\n");
    start(&sim, &exp, 1, NULL, base, sizeof(base));
    expect_code(base, "/-/healthy", NULL, 200);
    expect_code(base, "/-/healthy", NULL, 200);
    expect_code(base, "/-/healthy", NULL, 200);
    expect_code(base, "/-/healthy", NULL, 429);
    expect_code(base, "/metrics", NULL, 429);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

/* A bad web config: --config.check lists the problem (exit 1), a start stops (exit 2). */
static void test_bad_web_config(void **state)
{
    char web[H_PATH_MAX], flag[H_PATH_MAX + 32], want[H_PATH_MAX + 128], *out;
    struct h_proc p;

    (void)state;
    assert_int_equal(h_test_dir("web_security_bad", dir, sizeof(dir)), 0);
    put("web.yml", "tls_server_config:\n  cert_file: server.pem\n  key_fiel: server.key\n");
    h_fmt(web, sizeof(web), "%s/web.yml", dir);
    h_fmt(flag, sizeof(flag), "--web.config.file=%s", web);
    h_fmt(want, sizeof(want), "%s:3:3: key tls_server_config.key_fiel: unknown key", web);

    const char *const check[] = {EXPORTER_PATH, "--demo", "--config.check", flag, NULL};
    assert_int_equal(h_spawn(&p, dir, "check", check, NULL), 0);
    assert_int_equal(h_proc_wait(&p, EXIT_TIMEOUT_S, NULL), 0);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 1);
    out = h_read_file(p.err_path, NULL);
    assert_non_null(out);
    if (!strstr(out, want))
        fail_msg("--config.check said:\n%s\nwant a line with: %s", out, want);
    free(out);

    /* a good file naming a certificate that is not there: the start stops, naming it */
    put("web.yml", "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n");
    const char *const run[] = {EXPORTER_PATH, "--demo", "--web.listen-address=127.0.0.1:0", flag,
                               NULL};
    assert_int_equal(h_spawn(&p, dir, "start", run, NULL), 0);
    assert_int_equal(h_proc_wait(&p, EXIT_TIMEOUT_S, NULL), 0);
    assert_true(WIFEXITED(p.status));
    assert_int_equal(WEXITSTATUS(p.status), 2);
    out = h_read_file(p.err_path, NULL);
    assert_non_null(out);
    assert_non_null(strstr(out, "tls_server_config.cert_file: cannot read"));
    assert_non_null(strstr(out, "server.pem"));
    assert_null(strstr(out, "listening on"));
    free(out);
}

/* ---- a real Prometheus -------------------------------------------------------------------- */

static char prom_base[H_URL_MAX];

static int cond_prom_ready(void *ctx)
{
    struct h_proc *p = ctx;
    struct h_resp r;
    char url[H_URL_MAX];
    int ok;

    if (h_proc_exited(p))
        return 1;
    h_fmt(url, sizeof(url), "%s/-/ready", prom_base);
    ok = h_get(url, &r) == 0 && r.code == 200;
    h_resp_free(&r);
    return ok;
}

/* Start Prometheus with config file cfg (its own port, retried on a port race). */
static void start_prometheus(struct h_proc *p, const char *cfg)
{
    char data[H_PATH_MAX], a_cfg[H_PATH_MAX + 32], a_data[H_PATH_MAX + 32], a_listen[64], name[32];

    h_fmt(a_cfg, sizeof(a_cfg), "--config.file=%s", cfg);
    for (int attempt = 0; attempt < PROM_TRIES; attempt++) {
        uint16_t port = h_free_port();

        assert_true(port != 0);
        h_fmt(data, sizeof(data), "%s/tsdb%d", dir, attempt);
        h_fmt(a_data, sizeof(a_data), "--storage.tsdb.path=%s", data);
        h_fmt(a_listen, sizeof(a_listen), "--web.listen-address=127.0.0.1:%u", port);
        h_fmt(prom_base, sizeof(prom_base), "http://127.0.0.1:%u", port);
        h_fmt(name, sizeof(name), "prometheus%d", attempt);
        const char *argv[] = {PROMETHEUS, a_cfg, a_data, a_listen, "--log.level=warn", NULL};

        assert_int_equal(h_spawn(p, dir, name, argv, NULL), 0);
        if (h_wait_for(PROM_START_TIMEOUT_S, cond_prom_ready, p) == 0 && !p->exited)
            return;
        h_proc_stop(p, SIGTERM, 5, NULL);
        fprintf(stderr, "prometheus attempt %d on port %u failed\n", attempt, port);
        h_dump_logs(p);
    }
    fail_msg("Prometheus did not start in %d attempts", PROM_TRIES);
}

/* Does Prometheus have up{job="elb"} == 1? */
static int cond_up(void *ctx)
{
    struct h_resp r;
    char url[H_URL_MAX];
    int ok;

    (void)ctx;
    h_fmt(url, sizeof(url), "%s/api/v1/query?query=up%%7Bjob%%3D%%22elb%%22%%7D%%3D%%3D1",
          prom_base);
    ok = h_get(url, &r) == 0 && r.code == 200 && strstr(r.body, "\"job\":\"elb\"") &&
         strstr(r.body, ",\"1\"]");
    h_resp_free(&r);
    return ok;
}

static void test_prometheus_scrapes_https_with_basic_auth(void **state)
{
    const struct client alice = {"alice", PASSWORD, NULL, NULL, NULL, NULL};
    char base[H_URL_MAX], yml[2048], cfg[H_PATH_MAX], pw[H_PATH_MAX];
    struct h_proc sim, exp, prom;

    (void)state;
    assert_int_equal(h_test_dir("web_security_prometheus", dir, sizeof(dir)), 0);
    copy_in(srv1_pem, "server.pem");
    copy_in(srv1_key, "server.key");
    h_fmt(yml, sizeof(yml),
          "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n"
          "basic_auth_users:\n  alice: %s\n",
          alice_hash);
    put("web.yml", yml);
    start(&sim, &exp, 1, NULL, base, sizeof(base));

    h_fmt(pw, sizeof(pw), "%s/password", dir);
    assert_int_equal(h_write_file(pw, PASSWORD, strlen(PASSWORD)), 0);
    h_fmt(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
    h_fmt(yml, sizeof(yml),
          "global:\n"
          "  scrape_interval: 1s\n"
          "  scrape_timeout: 1s\n"
          "scrape_configs:\n"
          "  - job_name: elb\n"
          "    scheme: https\n"
          "    basic_auth:\n"
          "      username: alice\n"
          "      password_file: %s\n"
          "    tls_config:\n"
          "      ca_file: %s\n"
          "    static_configs:\n"
          "      - targets: ['%s']\n",
          pw, ca_pem, base + strlen("https://"));
    assert_int_equal(h_write_file(cfg, yml, strlen(yml)), 0);
    start_prometheus(&prom, cfg);
    if (h_wait_for(WAIT_S * 2, cond_up, NULL) != 0) {
        h_dump_logs(&prom);
        h_dump_logs(&exp);
        fail_msg("Prometheus never saw up{job=\"elb\"} == 1 over HTTPS with basic auth");
    }
    /* its scrapes went through the gate without a single refusal */
    expect_metric(base, &alice, "elb_job_exporter_http_requests_refused_total",
                  "reason=\"unauthorized\"", 0);
    H_STOP_CLEAN(&prom, 30.0);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

struct waiter {
    const char *base;
    const struct client *c;
    struct answer a;
};

static void *waiter_main(void *arg)
{
    struct waiter *w = arg;

    get(w->base, "/api/v1/jobs/" J_INIT "?wait=" API_WAIT, w->c, &w->a);
    return NULL;
}

/*
 * The registration API is behind the same gate as every path, and its answers
 * carry the web config's headers: a POST without credentials is 401 (its body
 * unread); with them (the first check is bcrypt's, off the server's thread,
 * the request suspended meanwhile) it is 201, JSON, with the headers. Waiters
 * hold no place of --web.max-requests: with a limit of 2 and 3 requests
 * waiting, a scrape and a health check are served at once, and every waiter
 * is answered 200 when its wait ends.
 */
static void test_api_behind_the_gate(void **state)
{
    const struct client alice = {"alice", PASSWORD, NULL, NULL, NULL, NULL};
    const struct client post_alice = {"alice", PASSWORD, NULL,
                                      NULL,    NULL,     "{\"job_id\":\"" J_INIT "\"}"};
    const struct client post_nobody = {NULL, NULL, NULL, NULL, NULL, "{\"job_id\":\"" J_INIT "\"}"};
    const char *extra[] = {"--web.enable-admin-api", "--web.max-requests=2", NULL};
    struct waiter w[API_WAITERS];
    pthread_t th[API_WAITERS];
    char yml[2048], v[256], base[H_URL_MAX];
    struct h_proc sim, exp;
    struct answer a;
    int i;

    (void)state;
    assert_int_equal(h_test_dir("web_security_api", dir, sizeof(dir)), 0);
    copy_in(srv1_pem, "server.pem");
    copy_in(srv1_key, "server.key");
    h_fmt(yml, sizeof(yml),
          "tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n%s"
          "basic_auth_users:\n  alice: %s\n",
          headers_yml, alice_hash);
    put("web.yml", yml);
    start(&sim, &exp, 1, extra, base, sizeof(base));

    get(base, "/api/v1/jobs", &post_nobody, &a);
    if (a.code != 401)
        fail_msg("POST /api/v1/jobs without credentials: %ld, want 401", a.code);
    assert_non_null(header(&a, "WWW-Authenticate", v, sizeof(v)));
    assert_string_equal(header(&a, "X-Frame-Options", v, sizeof(v)), "deny");
    answer_free(&a);

    get(base, "/api/v1/jobs", &post_alice, &a);
    if (a.code != 201)
        fail_msg("POST /api/v1/jobs as alice: %ld, want 201: %s", a.code, a.body);
    assert_string_equal(header(&a, "Content-Type", v, sizeof(v)), "application/json");
    assert_string_equal(header(&a, "X-Frame-Options", v, sizeof(v)), "deny");
    assert_string_equal(header(&a, "Strict-Transport-Security", v, sizeof(v)), "max-age=63072000");
    answer_free(&a);

    for (i = 0; i < API_WAITERS; i++) {
        w[i] = (struct waiter){.base = base, .c = &alice};
        assert_int_equal(pthread_create(&th[i], NULL, waiter_main, &w[i]), 0);
    }
    wait_metric(base, &alice, "elb_job_exporter_http_waiting_requests", "", API_WAITERS, 0);
    /* 3 waiting, a limit of 2: the others are served */
    expect_code(base, "/metrics", &alice, 200);
    expect_code(base, "/-/healthy", &alice, 200);
    for (i = 0; i < API_WAITERS; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < API_WAITERS; i++) {
        int ok = w[i].a.code == 200 && strstr(w[i].a.body, "\"finished\":false") &&
                 header(&w[i].a, "X-Frame-Options", v, sizeof(v)) && strcmp(v, "deny") == 0;
        if (!ok)
            snprintf(yml, sizeof(yml), "waiter %d: %ld (curl %d): %.200s", i, w[i].a.code,
                     w[i].a.curl_rc, w[i].a.body);
        answer_free(&w[i].a);
        if (!ok) {
            for (int j = i + 1; j < API_WAITERS; j++)
                answer_free(&w[j].a);
            fail_msg("%s", yml);
        }
    }
    expect_metric(base, &alice, "elb_job_exporter_http_requests_refused_total",
                  "reason=\"max_requests\"", 0);
    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_https_basic_auth_headers, h_teardown),
        cmocka_unit_test_teardown(test_client_certificates, h_teardown),
        cmocka_unit_test_teardown(test_certificate_rotation, h_teardown),
        cmocka_unit_test_teardown(test_max_requests, h_teardown),
        cmocka_unit_test_teardown(test_rate_limit, h_teardown),
        cmocka_unit_test_teardown(test_api_behind_the_gate, h_teardown),
        cmocka_unit_test_teardown(test_bad_web_config, h_teardown),
        cmocka_unit_test_teardown(test_prometheus_scrapes_https_with_basic_auth, h_teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, h_group_teardown);
}
