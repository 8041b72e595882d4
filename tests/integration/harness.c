/*
 * harness: processes, HTTP, polling and exposition parsing shared by the
 * integration and end-to-end tests (see harness.h for the promises).
 *
 * Children are started with fork/execv into their own process group and are
 * recorded on a kill list; h_teardown() (cmocka), an atexit handler and
 * PR_SET_PDEATHSIG each make sure none survives the test that started it.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include "harness.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

extern char **environ;

#define H_POLL_STEP_MS 50      /* step of h_wait_for and the process waits */
#define H_LOG_TAIL 4096        /* bytes of a child's log printed on failure */
#define H_ENV_MAX 512          /* environment entries passed to a child */
#define H_ERR_MAX 256          /* bytes of an error message */
#define H_PRINT_SAMPLES_MAX 40 /* samples listed when an expectation fails */

/* ---- time and polling ---- */

double h_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double h_wall(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void h_nap_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int h_wait_for(double timeout_s, int (*cond)(void *ctx), void *ctx)
{
    double deadline = h_mono() + timeout_s;

    for (;;) {
        int past = h_mono() > deadline;

        if (cond(ctx))
            return 0;
        if (past)
            return -ETIMEDOUT;
        h_nap_ms(H_POLL_STEP_MS);
    }
}

/* ---- files and directories ---- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 ? 0 : -1;
}

/* mkdir -p for an absolute path; returns 0 or a negative errno. */
static int mkdir_p(const char *path)
{
    char buf[H_PATH_MAX];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];

        buf[i] = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -errno;
        buf[i] = saved;
    }
    return 0;
}

int h_test_dir(const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", IT_TMP_ROOT, name);

    if (n < 0 || (size_t)n >= cap)
        return -ENAMETOOLONG;
    if (access(out, F_OK) == 0 && nftw(out, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return -errno;
    return mkdir_p(out);
}

char *h_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        if (cap - n < 4096) {
            size_t ncap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, ncap);

            if (!nb) {
                free(buf);
                buf = NULL;
                goto out;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);

        n += got;
        if (got == 0)
            break;
    }
    buf[n] = '\0';
    if (len)
        *len = n;
out:
    fclose(f);
    return buf;
}

int h_write_file(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    int rc = 0;

    if (!f)
        return -errno;
    if (fwrite(data, 1, len, f) != len)
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    return rc;
}

void h_fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap)
        fail_msg("h_fmt: %zu bytes are too few for \"%s\"", cap, fmt);
}

/* ---- processes ---- */

static pid_t live[H_MAX_PROCS];
static int atexit_done;

static void live_add(pid_t pid)
{
    for (size_t i = 0; i < H_MAX_PROCS; i++) {
        if (live[i] == 0) {
            live[i] = pid;
            return;
        }
    }
}

static void live_del(pid_t pid)
{
    for (size_t i = 0; i < H_MAX_PROCS; i++)
        if (live[i] == pid)
            live[i] = 0;
}

/* atexit: SIGKILL every group still on the list (no waiting; the kernel reaps after us). */
static void kill_live_at_exit(void)
{
    for (size_t i = 0; i < H_MAX_PROCS; i++) {
        if (live[i] > 0) {
            kill(-live[i], SIGKILL);
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
    }
}

static void ensure_atexit(void)
{
    if (!atexit_done && atexit(kill_live_at_exit) == 0)
        atexit_done = 1;
}

/* Is kv an environment entry a child must not inherit (proxies; OS_* unless keep_os)? */
static int env_dropped(const char *kv, int keep_os)
{
    static const char *const drop[] = {
        "http_proxy=", "https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "all_proxy=", "ALL_PROXY=",
        "no_proxy=",   "NO_PROXY=",    NULL};

    if (!keep_os && strncmp(kv, "OS_", 3) == 0)
        return 1;
    for (size_t i = 0; drop[i]; i++)
        if (strncmp(kv, drop[i], strlen(drop[i])) == 0)
            return 1;
    return 0;
}

/* Does the NULL-terminated list kv (may be NULL) set a proxy variable? */
static int env_has_proxy(const char *const *kv)
{
    for (size_t i = 0; kv && kv[i]; i++)
        if (env_dropped(kv[i], 1))
            return 1;
    return 0;
}

int h_spawn(struct h_proc *p, const char *dir, const char *name, const char *const *argv,
            const struct h_spawn_opts *o)
{
    static const struct h_spawn_opts none = {0};
    const char *env[H_ENV_MAX];
    size_t ne = 0;
    char in_path[H_PATH_MAX];
    pid_t pid;
    int n;

    if (!o)
        o = &none;
    ensure_atexit();
    memset(p, 0, sizeof(*p));
    n = snprintf(p->name, sizeof(p->name), "%s", name);
    if (n < 0 || (size_t)n >= sizeof(p->name))
        return -ENAMETOOLONG;
    n = snprintf(p->out_path, sizeof(p->out_path), "%s/%s.out", dir, name);
    if (n < 0 || (size_t)n >= sizeof(p->out_path))
        return -ENAMETOOLONG;
    n = snprintf(p->err_path, sizeof(p->err_path), "%s/%s.err", dir, name);
    if (n < 0 || (size_t)n >= sizeof(p->err_path))
        return -ENAMETOOLONG;
    n = snprintf(in_path, sizeof(in_path), "%s", o->stdin_path ? o->stdin_path : "/dev/null");
    if (n < 0 || (size_t)n >= sizeof(in_path))
        return -ENAMETOOLONG;

    for (char **e = environ; *e && ne < H_ENV_MAX - 32; e++)
        if (!env_dropped(*e, o->keep_os_env))
            env[ne++] = *e;
    if (!env_has_proxy(o->env_add))
        env[ne++] = "no_proxy=*";
    for (size_t i = 0; o->env_add && o->env_add[i]; i++) {
        if (ne >= H_ENV_MAX - 1)
            return -E2BIG;
        env[ne++] = o->env_add[i];
    }
    env[ne] = NULL;

    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        int in, out, err;

        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        in = open(in_path, O_RDONLY);
        out = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        err = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0)
            _exit(126);
        if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
            _exit(126);
        close(in);
        close(out);
        close(err);
        signal(SIGPIPE, SIG_DFL);
        execve(argv[0], (char *const *)argv, (char *const *)env);
        _exit(127);
    }
    setpgid(pid, pid); /* also in the parent, so a kill of the group cannot race the child's */
    p->pid = pid;
    live_add(pid);
    return 0;
}

int h_proc_exited(struct h_proc *p)
{
    int st;
    pid_t r;

    if (p->exited)
        return 1;
    if (p->pid <= 0)
        return 0;
    r = waitpid(p->pid, &st, WNOHANG);
    if (r == p->pid) {
        p->exited = 1;
        p->status = st;
        kill(-p->pid, SIGKILL); /* leftovers of the group, if any */
        live_del(p->pid);
        return 1;
    }
    return 0;
}

int h_proc_wait(struct h_proc *p, double timeout_s, double *elapsed_s)
{
    double t0 = h_mono(), deadline = t0 + timeout_s;

    for (;;) {
        if (h_proc_exited(p)) {
            if (elapsed_s)
                *elapsed_s = h_mono() - t0;
            return 0;
        }
        if (h_mono() > deadline)
            return -ETIMEDOUT;
        h_nap_ms(5);
    }
}

int h_proc_stop(struct h_proc *p, int sig, double timeout_s, double *elapsed_s)
{
    double t0 = h_mono();
    int rc;

    if (p->pid <= 0 || h_proc_exited(p)) {
        if (elapsed_s)
            *elapsed_s = 0;
        return 0;
    }
    kill(p->pid, sig);
    rc = h_proc_wait(p, timeout_s, NULL);
    if (elapsed_s)
        *elapsed_s = h_mono() - t0;
    if (rc == 0)
        return 0;
    kill(-p->pid, SIGKILL);
    kill(p->pid, SIGKILL);
    if (waitpid(p->pid, &p->status, 0) == p->pid)
        p->exited = 1;
    live_del(p->pid);
    return -ETIMEDOUT;
}

void h_stop_clean_at(struct h_proc *p, double timeout_s, const char *file, int line)
{
    char sb[64];
    double el = 0;
    int rc = h_proc_stop(p, SIGTERM, timeout_s, &el);

    if (rc == 0 && WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0)
        return;
    h_dump_logs(p);
    print_error("%s: %s after SIGTERM (%.2f s)\n", p->name,
                rc == 0 ? h_status_str(p->status, sb, sizeof(sb)) : "still running, killed", el);
    _fail(file, line);
}

void h_stop_all(void)
{
    for (size_t i = 0; i < H_MAX_PROCS; i++) {
        struct h_proc tmp;

        if (live[i] <= 0)
            continue;
        memset(&tmp, 0, sizeof(tmp));
        tmp.pid = live[i];
        h_proc_stop(&tmp, SIGTERM, 5.0 * IT_TIME_SCALE, NULL);
        live_del(tmp.pid);
    }
}

int h_teardown(void **state)
{
    (void)state;
    h_stop_all();
    return 0;
}

int h_group_setup(void **state)
{
    (void)state;
    ensure_atexit();
    signal(SIGPIPE, SIG_IGN);
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

int h_group_teardown(void **state)
{
    (void)state;
    h_stop_all();
    curl_global_cleanup();
    return 0;
}

const char *h_status_str(int status, char *buf, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(buf, cap, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "signal %d", WTERMSIG(status));
    else
        snprintf(buf, cap, "status 0x%x", (unsigned)status);
    return buf;
}

/* Parse "listening on http[s]://HOST:PORT/" out of text. Returns 0 or -ENOENT. */
static int find_listening(const char *text, char *base, size_t cap, uint16_t *port)
{
    static const char key[] = "listening on http";
    const char *s = strstr(text, key);
    const char *h, *he, *ps;
    unsigned long v = 0;
    size_t digits = 0;
    int tls, n;

    if (!s)
        return -ENOENT;
    h = s + sizeof(key) - 1;
    tls = *h == 's';
    h += tls;
    if (strncmp(h, "://", 3) != 0)
        return -ENOENT;
    h += 3;
    if (*h == '[') {
        he = strchr(h, ']');
        if (!he)
            return -ENOENT;
        he++;
    } else {
        he = h;
        while (*he && *he != ':' && *he != '/' && *he != '"' && *he != '\n')
            he++;
    }
    if (*he != ':')
        return -ENOENT;
    ps = he + 1;
    while (isdigit((unsigned char)ps[digits]) && digits < 6) {
        v = v * 10 + (unsigned long)(ps[digits] - '0');
        digits++;
    }
    if (digits == 0 || v == 0 || v > 65535 || ps[digits] != '/')
        return -ENOENT;
    n = snprintf(base, cap, "%s://%.*s:%lu", tls ? "https" : "http", (int)(he - h), h, v);
    if (n < 0 || (size_t)n >= cap)
        return -ENOENT;
    *port = (uint16_t)v;
    return 0;
}

int h_wait_listening(struct h_proc *p, int from_stderr, double timeout_s, char *base, size_t cap,
                     uint16_t *port)
{
    double deadline = h_mono() + timeout_s;
    const char *path = from_stderr ? p->err_path : p->out_path;

    for (;;) {
        int past = h_mono() > deadline;
        int exited = h_proc_exited(p);
        char *text = h_read_file(path, NULL);
        int rc = text ? find_listening(text, base, cap, port) : -ENOENT;

        free(text);
        if (rc == 0)
            return 0;
        if (exited)
            return -ECHILD;
        if (past)
            return -ETIMEDOUT;
        h_nap_ms(20);
    }
}

static void dump_tail(const char *label, const char *path)
{
    size_t len = 0;
    char *text = h_read_file(path, &len);

    if (!text) {
        fprintf(stderr, "---- %s (%s): unreadable\n", label, path);
        return;
    }
    fprintf(stderr, "---- %s (%s), last %d bytes:\n%s\n", label, path, H_LOG_TAIL,
            len > H_LOG_TAIL ? text + len - H_LOG_TAIL : text);
    free(text);
}

void h_dump_logs(const struct h_proc *p)
{
    dump_tail("stdout", p->out_path);
    dump_tail("stderr", p->err_path);
}

uint16_t h_free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    uint16_t port = 0;

    if (fd < 0)
        return 0;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int h_have_ipv6_loopback(void)
{
    struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = 0};
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok;

    if (fd < 0)
        return 0;
    a.sin6_addr = in6addr_loopback;
    ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
    close(fd);
    return ok;
}

/* ---- HTTP ---- */

struct growbuf {
    char *p;
    size_t n, cap;
    int too_big;
};

static size_t grow_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct growbuf *b = ud;
    size_t len = size * nmemb;

    if (b->n + len + 1 > H_BODY_MAX) {
        b->too_big = 1;
        return 0;
    }
    if (b->n + len + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : 4096;
        char *np;

        while (ncap < b->n + len + 1)
            ncap *= 2;
        np = realloc(b->p, ncap);
        if (!np)
            return 0;
        b->p = np;
        b->cap = ncap;
    }
    memcpy(b->p + b->n, data, len);
    b->n += len;
    b->p[b->n] = '\0';
    return len;
}

/* Make b a valid NUL-terminated string (possibly empty). */
static char *grow_finish(struct growbuf *b)
{
    if (!b->p) {
        b->p = calloc(1, 1);
        b->n = 0;
    }
    return b->p;
}

int h_http(const char *method, const char *url, const char *body, const char *const *extra_headers,
           struct h_resp *r)
{
    struct growbuf bb = {0}, hb = {0};
    struct curl_slist *hdrs = NULL;
    CURL *c;
    CURLcode rc;
    int ret = 0;

    memset(r, 0, sizeof(*r));
    c = curl_easy_init();
    if (!c) {
        r->body = calloc(1, 1);
        r->hdr = calloc(1, 1);
        r->curl_rc = CURLE_FAILED_INIT;
        return -EIO;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)H_HTTP_TIMEOUT_MS * IT_TIME_SCALE);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)H_HTTP_TIMEOUT_MS * IT_TIME_SCALE);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, grow_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &bb);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, grow_write);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hb);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        if (body)
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    for (size_t i = 0; extra_headers && extra_headers[i]; i++)
        hdrs = curl_slist_append(hdrs, extra_headers[i]);
    if (hdrs)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(c);
    r->curl_rc = (int)rc;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->code);
    else
        ret = -EIO;
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    r->body = grow_finish(&bb);
    r->len = bb.n;
    r->hdr = grow_finish(&hb);
    r->hlen = hb.n;
    return ret;
}

int h_get(const char *url, struct h_resp *r)
{
    return h_http("GET", url, NULL, NULL, r);
}

int h_post(const char *url, struct h_resp *r)
{
    return h_http("POST", url, "", NULL, r);
}

void h_resp_free(struct h_resp *r)
{
    free(r->body);
    free(r->hdr);
    memset(r, 0, sizeof(*r));
}

int h_resp_header(const struct h_resp *r, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *line = r->hdr;
    int found = -ENOENT;

    while (line && *line) {
        const char *end = strchr(line, '\n');
        size_t ll = end ? (size_t)(end - line) : strlen(line);

        if (ll > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            const char *ve = line + ll;

            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            if (cap > 0) {
                size_t vl = (size_t)(ve - v) < cap - 1 ? (size_t)(ve - v) : cap - 1;

                memcpy(out, v, vl);
                out[vl] = '\0';
            }
            found = 0;
        }
        line = end ? end + 1 : NULL;
    }
    return found;
}

int h_raw_http(const char *host, uint16_t port, const char *req, double timeout_s, char **out,
               size_t *out_len)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    struct growbuf b = {0};
    double deadline = h_mono() + timeout_s;
    size_t off = 0, rl = strlen(req);
    int fd, rc = 0;

    memset(&ss, 0, sizeof(ss));
    if (strchr(host, ':')) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return -EINVAL;
        sl = sizeof(*a6);
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return -EINVAL;
        sl = sizeof(*a4);
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (connect(fd, (struct sockaddr *)&ss, sl) != 0) {
        rc = -errno;
        goto out;
    }
    while (off < rl) {
        ssize_t w = send(fd, req + off, rl - off, MSG_NOSIGNAL);

        if (w < 0) {
            rc = -errno;
            goto out;
        }
        off += (size_t)w;
    }
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        double left = deadline - h_mono();
        char chunk[4096];
        ssize_t got;

        if (left <= 0) {
            rc = -ETIMEDOUT;
            goto out;
        }
        if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        got = recv(fd, chunk, sizeof(chunk), 0);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        if (got == 0)
            break;
        if (grow_write(chunk, 1, (size_t)got, &b) != (size_t)got) {
            rc = -ENOMEM;
            goto out;
        }
    }
out:
    close(fd);
    if (rc != 0) {
        free(b.p);
        return rc;
    }
    *out = grow_finish(&b);
    if (out_len)
        *out_len = b.n;
    return 0;
}

/* ---- exposition ---- */

struct cursor {
    const char *p, *end;
};

static int is_name_start(int c)
{
    return isalpha(c) || c == '_' || c == ':';
}

static int is_name_char(int c)
{
    return isalnum(c) || c == '_' || c == ':';
}

static char *dup_range(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* Read a metric or label name at c (label names: no ':'). NULL on error. */
static char *read_name(struct cursor *c, int allow_colon)
{
    const char *s = c->p;

    if (c->p >= c->end || !is_name_start((unsigned char)*c->p) || (!allow_colon && *c->p == ':'))
        return NULL;
    while (c->p < c->end && is_name_char((unsigned char)*c->p) && (allow_colon || *c->p != ':'))
        c->p++;
    return dup_range(s, (size_t)(c->p - s));
}

/* Read a quoted label value with \\ \" \n escapes; NULL on error (bad escape, unterminated). */
static char *read_label_value(struct cursor *c)
{
    struct growbuf b = {0};

    if (c->p >= c->end || *c->p != '"')
        return NULL;
    c->p++;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p;

        if (ch == '\n')
            goto bad;
        if (ch == '\\') {
            if (c->p + 1 >= c->end)
                goto bad;
            c->p++;
            if (*c->p == 'n')
                ch = '\n';
            else if (*c->p == '\\' || *c->p == '"')
                ch = *c->p;
            else
                goto bad;
        }
        if (grow_write(&ch, 1, 1, &b) != 1)
            goto bad;
        c->p++;
    }
    if (c->p >= c->end)
        goto bad;
    c->p++;
    return grow_finish(&b);
bad:
    free(b.p);
    return NULL;
}

static void free_labels(struct h_label *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].name);
        free(l[i].value);
    }
    free(l);
}

/*
 * Parse `name="v",...` up to (not including) a closing brace or the end of c.
 * Duplicate label names are an error. Returns 0 or -EINVAL.
 */
static int parse_labels(struct cursor *c, struct h_label **out, size_t *n_out)
{
    struct h_label *l = NULL;
    size_t n = 0;

    while (c->p < c->end && *c->p != '}') {
        struct h_label *nl;
        char *name = read_name(c, 0), *value;

        if (!name)
            goto bad;
        if (c->p >= c->end || *c->p != '=') {
            free(name);
            goto bad;
        }
        c->p++;
        value = read_label_value(c);
        if (!value) {
            free(name);
            goto bad;
        }
        for (size_t i = 0; i < n; i++) {
            if (strcmp(l[i].name, name) == 0) {
                free(name);
                free(value);
                goto bad;
            }
        }
        nl = realloc(l, (n + 1) * sizeof(*l));
        if (!nl) {
            free(name);
            free(value);
            goto bad;
        }
        l = nl;
        l[n].name = name;
        l[n].value = value;
        n++;
        if (c->p < c->end && *c->p == ',')
            c->p++;
        else if (c->p < c->end && *c->p != '}')
            goto bad;
    }
    *out = l;
    *n_out = n;
    return 0;
bad:
    free_labels(l, n);
    return -EINVAL;
}

/* Parse a sample value: a float, +Inf, -Inf, NaN. Returns 0 or -EINVAL. */
static int parse_value(const char *s, double *v)
{
    char *end;

    if (strcmp(s, "+Inf") == 0 || strcmp(s, "Inf") == 0) {
        *v = __builtin_inf();
        return 0;
    }
    if (strcmp(s, "-Inf") == 0) {
        *v = -__builtin_inf();
        return 0;
    }
    if (strcmp(s, "NaN") == 0) {
        *v = __builtin_nan("");
        return 0;
    }
    if (*s == '\0' || isspace((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    *v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE)
        return -EINVAL;
    return 0;
}

static struct h_family *family_get(struct h_expo *e, const char *name, size_t n)
{
    struct h_family *nf;

    for (size_t i = 0; i < e->nf; i++)
        if (strlen(e->f[i].name) == n && strncmp(e->f[i].name, name, n) == 0)
            return &e->f[i];
    nf = realloc(e->f, (e->nf + 1) * sizeof(*nf));
    if (!nf)
        return NULL;
    e->f = nf;
    nf = &e->f[e->nf];
    memset(nf, 0, sizeof(*nf));
    nf->name = dup_range(name, n);
    nf->type = dup_range("", 0);
    if (!nf->name || !nf->type) {
        free(nf->name);
        free(nf->type);
        return NULL;
    }
    e->nf++;
    return nf;
}

/* A "# HELP name text" or "# TYPE name type" line; other comments are ignored. */
static int parse_comment(struct h_expo *e, const char *line, size_t n, char *err, size_t errsz)
{
    const char *p = line + 1, *end = line + n, *ns;
    int is_type;
    struct h_family *f;

    while (p < end && *p == ' ')
        p++;
    if (end - p >= 5 && strncmp(p, "HELP ", 5) == 0)
        is_type = 0;
    else if (end - p >= 5 && strncmp(p, "TYPE ", 5) == 0)
        is_type = 1;
    else
        return 0;
    p += 5;
    while (p < end && *p == ' ')
        p++;
    ns = p;
    while (p < end && is_name_char((unsigned char)*p))
        p++;
    if (p == ns || !is_name_start((unsigned char)*ns)) {
        snprintf(err, errsz, "bad metric name in %s line", is_type ? "TYPE" : "HELP");
        return -EINVAL;
    }
    f = family_get(e, ns, (size_t)(p - ns));
    if (!f)
        return -ENOMEM;
    if (p < end && *p != ' ') {
        snprintf(err, errsz, "junk after metric name");
        return -EINVAL;
    }
    while (p < end && *p == ' ')
        p++;
    if (is_type) {
        static const char *const types[] = {"counter", "gauge",   "histogram",
                                            "summary", "untyped", NULL};
        int ok = 0;

        for (size_t i = 0; types[i]; i++)
            if ((size_t)(end - p) == strlen(types[i]) &&
                strncmp(p, types[i], strlen(types[i])) == 0)
                ok = 1;
        if (!ok || f->type[0] != '\0') {
            snprintf(err, errsz, ok ? "second TYPE line" : "bad TYPE");
            return -EINVAL;
        }
        free(f->type);
        f->type = dup_range(p, (size_t)(end - p));
        return f->type ? 0 : -ENOMEM;
    }
    if (f->help) {
        snprintf(err, errsz, "second HELP line");
        return -EINVAL;
    }
    f->help = dup_range(p, (size_t)(end - p));
    return f->help ? 0 : -ENOMEM;
}

static int parse_sample(struct h_expo *e, const char *line, size_t n, char *err, size_t errsz)
{
    struct cursor c = {line, line + n};
    struct h_sample s = {0};
    struct h_sample *ns;
    const char *vs;
    char vbuf[64];
    size_t vl;

    s.name = read_name(&c, 1);
    if (!s.name) {
        snprintf(err, errsz, "bad metric name");
        return -EINVAL;
    }
    if (c.p < c.end && *c.p == '{') {
        c.p++;
        if (parse_labels(&c, &s.labels, &s.n_labels) != 0 || c.p >= c.end || *c.p != '}') {
            snprintf(err, errsz, "bad label set");
            goto bad;
        }
        c.p++;
    }
    if (c.p >= c.end || *c.p != ' ') {
        snprintf(err, errsz, "no space before the value");
        goto bad;
    }
    while (c.p < c.end && *c.p == ' ')
        c.p++;
    vs = c.p;
    while (c.p < c.end && *c.p != ' ')
        c.p++;
    vl = (size_t)(c.p - vs);
    if (vl == 0 || vl >= sizeof(vbuf)) {
        snprintf(err, errsz, "bad value");
        goto bad;
    }
    memcpy(vbuf, vs, vl);
    vbuf[vl] = '\0';
    if (parse_value(vbuf, &s.value) != 0) {
        snprintf(err, errsz, "bad value \"%s\"", vbuf);
        goto bad;
    }
    while (c.p < c.end && *c.p == ' ')
        c.p++;
    if (c.p < c.end) { /* an optional integer timestamp */
        const char *ts = c.p;

        if (*c.p == '-')
            c.p++;
        while (c.p < c.end && isdigit((unsigned char)*c.p))
            c.p++;
        if (c.p != c.end || c.p == ts) {
            snprintf(err, errsz, "junk after the value");
            goto bad;
        }
    }
    s.value_text = dup_range(vbuf, vl);
    ns = realloc(e->s, (e->n + 1) * sizeof(*ns));
    if (!s.value_text || !ns) {
        free(s.value_text);
        if (ns)
            e->s = ns;
        snprintf(err, errsz, "out of memory");
        goto bad;
    }
    e->s = ns;
    e->s[e->n++] = s;
    return 0;
bad:
    free(s.name);
    free_labels(s.labels, s.n_labels);
    return -EINVAL;
}

int h_expo_parse(const char *text, size_t len, struct h_expo *e, char *err, size_t errsz)
{
    const char *p = text, *end = text + len;
    unsigned lineno = 0;
    char why[H_ERR_MAX];

    memset(e, 0, sizeof(*e));
    if (len > 0 && text[len - 1] != '\n') {
        snprintf(err, errsz, "exposition does not end with a newline");
        return -EINVAL;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)(nl - p);
        int rc = 0;

        lineno++;
        why[0] = '\0';
        if (memchr(p, '\0', n)) {
            snprintf(why, sizeof(why), "NUL byte");
            rc = -EINVAL;
        } else if (n == 0) {
            rc = 0;
        } else if (p[0] == '#') {
            rc = parse_comment(e, p, n, why, sizeof(why));
        } else {
            rc = parse_sample(e, p, n, why, sizeof(why));
        }
        if (rc != 0) {
            snprintf(err, errsz, "line %u: %s: %.*s", lineno, why, (int)(n > 200 ? 200 : n), p);
            h_expo_free(e);
            return -EINVAL;
        }
        p = nl + 1;
    }
    return 0;
}

void h_expo_free(struct h_expo *e)
{
    for (size_t i = 0; i < e->n; i++) {
        free(e->s[i].name);
        free(e->s[i].value_text);
        free_labels(e->s[i].labels, e->s[i].n_labels);
    }
    for (size_t i = 0; i < e->nf; i++) {
        free(e->f[i].name);
        free(e->f[i].type);
        free(e->f[i].help);
    }
    free(e->s);
    free(e->f);
    memset(e, 0, sizeof(*e));
}

const char *h_sample_label(const struct h_sample *s, const char *lname)
{
    for (size_t i = 0; i < s->n_labels; i++)
        if (strcmp(s->labels[i].name, lname) == 0)
            return s->labels[i].value;
    return NULL;
}

/* Does s carry every label of want (and, if exact, nothing else)? */
static int labels_match(const struct h_sample *s, const struct h_label *want, size_t nw, int exact)
{
    if (exact && s->n_labels != nw)
        return 0;
    for (size_t i = 0; i < nw; i++) {
        const char *v = h_sample_label(s, want[i].name);

        if (!v || strcmp(v, want[i].value) != 0)
            return 0;
    }
    return 1;
}

/* Parse a query label set; fails the test on bad syntax (a bug in the test). */
static void query_labels(const char *labels, struct h_label **l, size_t *n)
{
    struct cursor c = {labels, labels + strlen(labels)};

    if (parse_labels(&c, l, n) != 0 || c.p != c.end)
        fail_msg("harness: bad label set in a test: %s", labels);
}

const struct h_sample *h_expo_find(const struct h_expo *e, const char *name, const char *labels,
                                   int subset, size_t *n_match)
{
    struct h_label *l = NULL;
    size_t nl = 0, matches = 0;
    const struct h_sample *found = NULL;

    query_labels(labels, &l, &nl);
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->s[i].name, name) == 0 && labels_match(&e->s[i], l, nl, !subset)) {
            matches++;
            found = &e->s[i];
        }
    }
    free_labels(l, nl);
    if (n_match)
        *n_match = matches;
    return matches == 1 ? found : NULL;
}

size_t h_expo_count(const struct h_expo *e, const char *name, const char *labels_subset)
{
    size_t n = 0;

    h_expo_find(e, name, labels_subset, 1, &n);
    return n;
}

const char *h_expo_type(const struct h_expo *e, const char *family)
{
    for (size_t i = 0; i < e->nf; i++)
        if (strcmp(e->f[i].name, family) == 0)
            return e->f[i].type[0] ? e->f[i].type : NULL;
    return NULL;
}

int h_scrape(const char *url, struct h_expo *e)
{
    struct h_resp r;
    char err[H_ERR_MAX];
    int rc;

    memset(e, 0, sizeof(*e));
    rc = h_get(url, &r);
    if (rc != 0 || r.code != 200) {
        h_resp_free(&r);
        return -EIO;
    }
    rc = h_expo_parse(r.body, r.len, e, err, sizeof(err));
    if (rc != 0)
        fprintf(stderr, "harness: %s: exposition does not parse: %s\n", url, err);
    h_resp_free(&r);
    return rc;
}

int h_scrape_value(const char *url, const char *name, const char *labels, double *v)
{
    struct h_expo e;
    const struct h_sample *s;
    int rc = h_scrape(url, &e);

    if (rc != 0)
        return rc;
    s = h_expo_find(&e, name, labels, 0, NULL);
    if (s)
        *v = s->value;
    h_expo_free(&e);
    return s ? 0 : -ENOENT;
}

struct metric_want {
    const char *url, *name, *labels;
    double value, last;
    int at_least, seen;
};

static int metric_has_value(void *ctx)
{
    struct metric_want *w = ctx;
    double v;

    if (h_scrape_value(w->url, w->name, w->labels, &v) != 0)
        return 0;
    w->last = v;
    w->seen = 1;
    return w->at_least ? v >= w->value : v == w->value;
}

void h_wait_metric_at(const char *base, const char *name, const char *labels, double value,
                      int at_least, double timeout_s, const char *file, int line)
{
    char url[H_URL_MAX];
    struct metric_want w = {url, name, labels, value, 0, at_least, 0};

    h_fmt(url, sizeof(url), "%s/metrics", base);
    if (h_wait_for(timeout_s, metric_has_value, &w) == 0)
        return;
    if (w.seen)
        print_error("%s:%d: timed out after %.0f s waiting for %s{%s} == %g (last seen %g)\n", file,
                    line, timeout_s, name, labels, value, w.last);
    else
        print_error("%s:%d: timed out after %.0f s waiting for %s{%s} %s %g (never seen)\n", file,
                    line, timeout_s, name, labels, at_least ? ">=" : "==", value);
    fail();
}

/* Print every sample named name (for a failed expectation). */
static void print_family(const struct h_expo *e, const char *name)
{
    size_t shown = 0;

    for (size_t i = 0; i < e->n && shown < H_PRINT_SAMPLES_MAX; i++) {
        if (strcmp(e->s[i].name, name) != 0)
            continue;
        print_error("    have %s{", name);
        for (size_t j = 0; j < e->s[i].n_labels; j++)
            print_error("%s%s=\"%s\"", j ? "," : "", e->s[i].labels[j].name,
                        e->s[i].labels[j].value);
        print_error("} %s\n", e->s[i].value_text);
        shown++;
    }
    if (shown == 0)
        print_error("    (no sample named %s at all)\n", name);
}

static const struct h_sample *expect_one(const struct h_expo *e, const char *name,
                                         const char *labels, const char *file, int line)
{
    size_t n = 0;
    const struct h_sample *s = h_expo_find(e, name, labels, 0, &n);

    if (!s) {
        print_error("%s{%s}: %s\n", name, labels, n ? "several samples" : "missing");
        print_family(e, name);
        _fail(file, line);
    }
    return s;
}

void h_expect_at(const struct h_expo *e, const char *name, const char *labels, double want,
                 double tol, const char *file, int line)
{
    const struct h_sample *s = expect_one(e, name, labels, file, line);
    double d = s->value - want;

    if (!(d <= tol && d >= -tol)) {
        print_error("%s{%s}: got %s (%.17g), want %.17g (tolerance %g)\n", name, labels,
                    s->value_text, s->value, want, tol);
        _fail(file, line);
    }
}

void h_expect_text_at(const struct h_expo *e, const char *name, const char *labels,
                      const char *want, const char *file, int line)
{
    const struct h_sample *s = expect_one(e, name, labels, file, line);

    if (strcmp(s->value_text, want) != 0) {
        print_error("%s{%s}: rendered as %s, want %s\n", name, labels, s->value_text, want);
        _fail(file, line);
    }
}

void h_expect_absent_at(const struct h_expo *e, const char *name, const char *labels_subset,
                        const char *file, int line)
{
    size_t n = h_expo_count(e, name, labels_subset);

    if (n != 0) {
        print_error("%s{%s}: want absent, found %zu sample(s)\n", name, labels_subset, n);
        print_family(e, name);
        _fail(file, line);
    }
}

double h_value_at(const struct h_expo *e, const char *name, const char *labels, const char *file,
                  int line)
{
    return expect_one(e, name, labels, file, line)->value;
}

/* ---- the simulator and the exporter ---- */

const char *const h_scenario_jobs[] = {
    J_SEED,      J_NOTES,   J_INIT,      J_FAIL,      J_SUBS, J_DEL,     J_MOD,  J_NULLEND,
    J_QUEUED,    J_PROG_OK, J_PROG_FAIL, J_F429,      J_F500, J_F503,    J_SLOW, J_MALFORMED,
    J_TRUNCATED, J_CLOSED,  J_HUGE,      J_NUMSTATUS, J_HTML, J_MISSING, NULL};

static const char *const scenario_job_flags[] = {"--job=" J_SEED,
                                                 "--job=" J_NOTES,
                                                 "--job=" J_INIT,
                                                 "--job=" J_FAIL,
                                                 "--job=" J_SUBS,
                                                 "--job=" J_DEL,
                                                 "--job=" J_MOD,
                                                 "--job=" J_NULLEND,
                                                 "--job=" J_QUEUED,
                                                 "--job=" J_PROG_OK,
                                                 "--job=" J_PROG_FAIL,
                                                 "--job=" J_F429,
                                                 "--job=" J_F500,
                                                 "--job=" J_F503,
                                                 "--job=" J_SLOW,
                                                 "--job=" J_MALFORMED,
                                                 "--job=" J_TRUNCATED,
                                                 "--job=" J_CLOSED,
                                                 "--job=" J_HUGE,
                                                 "--job=" J_NUMSTATUS,
                                                 "--job=" J_HTML,
                                                 "--job=" J_MISSING,
                                                 NULL};

size_t h_scenario_job_count(void)
{
    size_t n = 0;

    while (h_scenario_jobs[n])
        n++;
    return n;
}

int h_add_scenario_jobs(const char **args, size_t *n, size_t cap)
{
    for (size_t i = 0; scenario_job_flags[i]; i++) {
        if (*n + 1 >= cap)
            return -E2BIG;
        args[(*n)++] = scenario_job_flags[i];
    }
    args[*n] = NULL;
    return 0;
}

int h_start_sim(struct h_proc *p, const char *dir, unsigned slow_ms, char *base, size_t cap)
{
    char slow[32];
    uint16_t port;
    int rc;

    snprintf(slow, sizeof(slow), "--slow-ms=%u", slow_ms);
    const char *argv[] = {SIM_PATH,
                          "--listen-address=127.0.0.1:0",
                          "--token=" H_SIM_TOKEN,
                          "--project-id=" H_SIM_PROJECT,
                          "--step-ms=0",
                          slow,
                          NULL};

    rc = h_spawn(p, dir, "sim", argv, NULL);
    if (rc != 0)
        return rc;
    rc = h_wait_listening(p, 0, 15.0 * IT_TIME_SCALE, base, cap, &port);
    if (rc != 0) {
        char sb[64];

        fprintf(stderr, "harness: simulator did not start (%d, %s)\n", rc,
                p->exited ? h_status_str(p->status, sb, sizeof(sb)) : "running");
        h_dump_logs(p);
    }
    return rc;
}

int h_start_exporter(struct h_proc *p, const char *dir, const char *name, const char *sim_base,
                     const char *const *extra, const char *const *wrapper, double timeout_s,
                     char *base, size_t cap)
{
    static const char *const env[] = {"OS_AUTH_TOKEN=" H_SIM_TOKEN, NULL};
    const struct h_spawn_opts o = {.env_add = env};
    const char *argv[H_MAX_ARGS];
    char endpoint[H_URL_MAX];
    size_t n = 0;
    int have_listen = 0, rc;
    uint16_t port;

    for (size_t i = 0; wrapper && wrapper[i]; i++)
        if (n < H_MAX_ARGS - 1)
            argv[n++] = wrapper[i];
    argv[n++] = EXPORTER_PATH;
    if (sim_base) {
        rc = snprintf(endpoint, sizeof(endpoint), "--elb.endpoint=%s", sim_base);
        if (rc < 0 || (size_t)rc >= sizeof(endpoint))
            return -ENAMETOOLONG;
        argv[n++] = endpoint;
        argv[n++] = "--elb.project-id=" H_SIM_PROJECT;
    }
    for (size_t i = 0; extra && extra[i]; i++) {
        if (n >= H_MAX_ARGS - 2)
            return -E2BIG;
        if (strncmp(extra[i], "--web.listen-address=", 21) == 0)
            have_listen = 1;
        argv[n++] = extra[i];
    }
    if (!have_listen)
        argv[n++] = "--web.listen-address=127.0.0.1:0";
    argv[n] = NULL;
    rc = h_spawn(p, dir, name, argv, &o);
    if (rc != 0)
        return rc;
    rc = h_wait_listening(p, 1, timeout_s, base, cap, &port);
    if (rc != 0) {
        char sb[64];

        fprintf(stderr, "harness: exporter %s did not start (%d, %s)\n", name, rc,
                p->exited ? h_status_str(p->status, sb, sizeof(sb)) : "running");
        h_dump_logs(p);
    }
    return rc;
}

int h_sim_fault(const char *sim_base, const char *mode)
{
    char url[H_URL_MAX];
    struct h_resp r;
    int rc, n = snprintf(url, sizeof(url), "%s/_sim/fault/%s", sim_base, mode);

    if (n < 0 || (size_t)n >= sizeof(url))
        return -ENAMETOOLONG;
    rc = h_post(url, &r);
    if (rc == 0 && r.code != 200)
        rc = -EIO;
    h_resp_free(&r);
    return rc;
}

int h_sim_requests(const char *sim_base, const char *job_id, unsigned long long *count)
{
    char url[H_URL_MAX];
    struct h_resp r;
    size_t idl = strlen(job_id);
    const char *line;
    int rc, n = snprintf(url, sizeof(url), "%s/_sim/requests", sim_base);

    if (n < 0 || (size_t)n >= sizeof(url))
        return -ENAMETOOLONG;
    rc = h_get(url, &r);
    if (rc == 0 && r.code != 200)
        rc = -EIO;
    *count = 0;
    for (line = r.body; rc == 0 && line && *line;) {
        const char *nl = strchr(line, '\n');

        if (strncmp(line, job_id, idl) == 0 && line[idl] == ' ') {
            char *end;

            errno = 0;
            *count = strtoull(line + idl + 1, &end, 10);
            if (errno != 0 || end == line + idl + 1 || (*end != '\n' && *end != '\0'))
                rc = -EINVAL;
        }
        line = nl ? nl + 1 : NULL;
    }
    h_resp_free(&r);
    return rc;
}

int h_run_tool(const char *dir, const char *name, const char *const *argv, double timeout_s)
{
    struct h_proc p;
    char sb[64];

    if (h_spawn(&p, dir, name, argv, NULL) != 0)
        return -1;
    if (h_proc_wait(&p, timeout_s, NULL) != 0) {
        h_proc_stop(&p, SIGKILL, 1, NULL);
        fprintf(stderr, "%s: still running after %.0f s\n", name, timeout_s);
        h_dump_logs(&p);
        return -1;
    }
    if (!WIFEXITED(p.status) || WEXITSTATUS(p.status) != 0) {
        fprintf(stderr, "%s: %s\n", name, h_status_str(p.status, sb, sizeof(sb)));
        h_dump_logs(&p);
        return -1;
    }
    return 0;
}
