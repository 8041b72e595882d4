/*
 * harness: what the integration and end-to-end tests share.
 *
 * - processes: spawn a real binary (fork/execv) in its own process group with
 *   stdout/stderr in files under a per-test directory, wait for its
 *   "listening on http://HOST:PORT/" line, stop it (signal, wait with a
 *   deadline, then SIGKILL). Every live child is on a kill list that
 *   h_teardown(), an atexit handler and PR_SET_PDEATHSIG all honour, so no
 *   process outlives a failed assertion or a killed test binary.
 * - HTTP: GET/HEAD/POST/... through libcurl to loopback only (proxies off), and
 *   a raw-socket request for what libcurl hides (a HEAD answer's missing body).
 * - polling: h_wait_for() runs a condition until it holds or a deadline passes;
 *   the tests never sleep for a fixed time.
 * - exposition: a strict parser of the Prometheus text format and lookups of a
 *   sample by exact name + label set (or a label subset).
 *
 * Paths of binaries and tools come from CMake as compile definitions:
 * EXPORTER_PATH, SIM_PATH, PROMETHEUS, PROMTOOL, VALGRIND, IT_TMP_ROOT.
 */
#ifndef ELB_IT_HARNESS_H
#define ELB_IT_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define H_PATH_MAX 1024 /* bytes of any path the harness builds */
#define H_URL_MAX 512   /* bytes of a base URL or request URL */
#define H_MAX_PROCS 16  /* children alive at once */
#define H_MAX_ARGS 128  /* argv entries of one child */
#define H_NAME_MAX 64   /* bytes of a child's short name (file names derive from it) */
#define H_HTTP_TIMEOUT_MS 10000
#define H_BODY_MAX (64u << 20) /* bytes the HTTP client keeps of one answer */

/* Slow-down factor for deadlines when the binaries run under a sanitizer (1, or more). */
#ifndef IT_TIME_SCALE
#define IT_TIME_SCALE 1
#endif

/* ---- time and polling ---- */

/* Monotonic seconds. */
double h_mono(void);
/* Wall-clock seconds since the epoch. */
double h_wall(void);
/* Sleep ms milliseconds (a polling step, never a synchronisation). */
void h_nap_ms(unsigned ms);
/*
 * Call cond(ctx) every step until it returns non-zero (returns 0) or timeout_s
 * passes (returns -ETIMEDOUT). cond is called at least once, and once more
 * after the deadline so a condition that became true at the last moment counts.
 */
int h_wait_for(double timeout_s, int (*cond)(void *ctx), void *ctx);

/* ---- files and directories ---- */

/*
 * Make an empty directory IT_TMP_ROOT/<name> (removed first if it exists) and
 * write its path to out (cap bytes). Returns 0 or a negative errno.
 */
int h_test_dir(const char *name, char *out, size_t cap);
/* Read a whole file into a NUL-terminated malloc'd buffer (*len without the NUL). NULL on error. */
char *h_read_file(const char *path, size_t *len);
/* Write len bytes to path (created/truncated). Returns 0 or a negative errno. */
int h_write_file(const char *path, const char *data, size_t len);
/* snprintf into out that fails the test (cmocka) on truncation. */
void h_fmt(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- processes ---- */

struct h_proc {
    pid_t pid; /* 0: not started or already reaped */
    char name[H_NAME_MAX];
    char out_path[H_PATH_MAX], err_path[H_PATH_MAX];
    int exited; /* waitpid() reported it */
    int status; /* raw wait status once exited */
};

struct h_spawn_opts {
    const char *const *env_add; /* NULL-terminated "K=V" added to the environment, or NULL */
    const char *stdin_path;     /* file for stdin, NULL: /dev/null */
    int keep_os_env;            /* 0: drop OS_* variables inherited from the test's environment */
};

/*
 * Start argv[0] (an absolute path) with argv in dir: stdout to dir/<name>.out,
 * stderr to dir/<name>.err, own process group, the test's environment minus
 * OS_* and proxy variables, plus no_proxy=* (so that no proxy is ever used),
 * plus o->env_add. When o->env_add sets a proxy variable (http_proxy,
 * https_proxy, no_proxy, ... in either case), no_proxy=* is left out: the
 * test's proxy settings are the only ones. The child dies with the test
 * (PR_SET_PDEATHSIG). Returns 0 or a negative errno (p->pid stays 0).
 */
int h_spawn(struct h_proc *p, const char *dir, const char *name, const char *const *argv,
            const struct h_spawn_opts *o);
/* Reap without blocking. Returns 1 if the process has exited (p->status valid), else 0. */
int h_proc_exited(struct h_proc *p);
/*
 * Wait up to timeout_s for the process to exit by itself. Returns 0 (p->status
 * valid, *elapsed_s set if non-NULL) or -ETIMEDOUT (still running).
 */
int h_proc_wait(struct h_proc *p, double timeout_s, double *elapsed_s);
/*
 * Send sig to the process, wait up to timeout_s, then SIGKILL its whole group
 * if it has not exited. Returns 0 if it exited within the deadline, -ETIMEDOUT
 * if it had to be killed. *elapsed_s: time from the signal to the exit.
 */
int h_proc_stop(struct h_proc *p, int sig, double timeout_s, double *elapsed_s);
/*
 * SIGTERM p and require that it exits 0 within timeout_s (sanitizer reports and
 * leaks at exit make the status non-zero); fails the test with its logs otherwise.
 */
void h_stop_clean_at(struct h_proc *p, double timeout_s, const char *file, int line);
#define H_STOP_CLEAN(p, timeout_s) h_stop_clean_at(p, timeout_s, __FILE__, __LINE__)
/* Stop every live child (SIGTERM, 5 s, SIGKILL). Safe to call any time. */
void h_stop_all(void);
/* cmocka teardown: h_stop_all(). Returns 0. */
int h_teardown(void **state);
/* cmocka group setup: curl_global_init, atexit kill list. Returns 0 or -1. */
int h_group_setup(void **state);
/* cmocka group teardown: h_stop_all, curl_global_cleanup. Returns 0. */
int h_group_teardown(void **state);
/* A readable description of a wait status ("exit 2", "signal 9"). */
const char *h_status_str(int status, char *buf, size_t cap);

/*
 * Wait until the process's stdout (from_stderr 0) or stderr (1) holds
 * "listening on http://HOST:PORT/" (or https://). Writes "http[s]://HOST:PORT" to base (cap
 * bytes) and the port to *port. Fails early if the process exits. Returns 0,
 * -ETIMEDOUT, -ECHILD (exited: p->status valid) or -EINVAL.
 */
int h_wait_listening(struct h_proc *p, int from_stderr, double timeout_s, char *base, size_t cap,
                     uint16_t *port);
/* Print the last bytes of a child's stdout and stderr to stderr (for failure context). */
void h_dump_logs(const struct h_proc *p);

/* A free TCP port on 127.0.0.1 right now (bind port 0, read it, close). 0 on error. */
uint16_t h_free_port(void);
/* Does this host have a usable ::1? */
int h_have_ipv6_loopback(void);

/* ---- HTTP ---- */

struct h_resp {
    long code;  /* HTTP status, 0 if no answer */
    char *body; /* NUL-terminated, may be "" */
    size_t len;
    char *hdr; /* raw header block(s), NUL-terminated */
    size_t hlen;
    int curl_rc; /* CURLcode */
};

/*
 * Request method url (loopback only; no proxy). body may be NULL. extra_headers
 * is NULL or a NULL-terminated list of "Name: value". HEAD uses CURLOPT_NOBODY.
 * Returns 0 when an answer came (r->code set), else -EIO (r->curl_rc set).
 * Release r with h_resp_free() either way.
 */
int h_http(const char *method, const char *url, const char *body, const char *const *extra_headers,
           struct h_resp *r);
/* h_http GET. */
int h_get(const char *url, struct h_resp *r);
/* h_http POST with an empty body. */
int h_post(const char *url, struct h_resp *r);
void h_resp_free(struct h_resp *r);
/*
 * Value of the last header named name (case-insensitive) in r, copied to out
 * (cap bytes, trimmed). Returns 0, or -ENOENT.
 */
int h_resp_header(const struct h_resp *r, const char *name, char *out, size_t cap);
/*
 * Send req verbatim over a new TCP connection to host:port (host numeric) and
 * read until the server closes or timeout_s. *out: malloc'd, NUL-terminated.
 * Returns 0 or a negative errno.
 */
int h_raw_http(const char *host, uint16_t port, const char *req, double timeout_s, char **out,
               size_t *out_len);

/* ---- Prometheus text exposition ---- */

struct h_label {
    char *name;
    char *value; /* unescaped */
};

struct h_sample {
    char *name;
    struct h_label *labels;
    size_t n_labels;
    double value;
    char *value_text; /* as written */
};

struct h_family {
    char *name;
    char *type; /* from # TYPE, "" if none */
    char *help; /* from # HELP (escaped form as written), NULL if none */
};

struct h_expo {
    struct h_sample *s;
    size_t n;
    struct h_family *f;
    size_t nf;
};

/*
 * Parse a text-format 0.0.4 exposition strictly (every line is a comment, a
 * blank line or a well-formed sample). Returns 0, or -EINVAL with the line
 * number and reason in err (errsz bytes). Release with h_expo_free().
 */
int h_expo_parse(const char *text, size_t len, struct h_expo *e, char *err, size_t errsz);
void h_expo_free(struct h_expo *e);
/*
 * The sample named name whose label set equals labels exactly (subset 0) or
 * includes every label of labels (subset 1). labels uses exposition syntax
 * without braces: `job_id="x",status="FAIL"` ("" = no labels). Returns the
 * sample if exactly one matches; NULL if none, or if several match (*n_match
 * tells which, when n_match is non-NULL).
 */
const struct h_sample *h_expo_find(const struct h_expo *e, const char *name, const char *labels,
                                   int subset, size_t *n_match);
/* Number of samples named name that include every label of labels_subset. */
size_t h_expo_count(const struct h_expo *e, const char *name, const char *labels_subset);
/* TYPE of a family, NULL if the exposition has no # TYPE line for it. */
const char *h_expo_type(const struct h_expo *e, const char *family);
/* Value of label lname in sample s, NULL if absent. */
const char *h_sample_label(const struct h_sample *s, const char *lname);

/*
 * GET url, require 200, parse. Returns 0, -EIO (no answer or not 200) or
 * -EINVAL (parse error; reason printed to stderr).
 */
int h_scrape(const char *url, struct h_expo *e);

/*
 * Value of name{labels} (exact set) in a fresh scrape of url, for wait
 * conditions. Returns 0 with *v, or a negative errno (not found: -ENOENT).
 */
int h_scrape_value(const char *url, const char *name, const char *labels, double *v);

/*
 * Wait until base's telemetry path (base + "/metrics") has name{labels} (exact
 * set) == value, for at most timeout_s; fails the test, printing the last
 * value seen, when it does not.
 */
void h_wait_metric_at(const char *base, const char *name, const char *labels, double value,
                      int at_least, double timeout_s, const char *file, int line);
#define H_WAIT_METRIC(base, name, labels, value, timeout_s)                                        \
    h_wait_metric_at(base, name, labels, value, 0, timeout_s, __FILE__, __LINE__)
/* The same, for name{labels} >= value. */
#define H_WAIT_METRIC_GE(base, name, labels, value, timeout_s)                                     \
    h_wait_metric_at(base, name, labels, value, 1, timeout_s, __FILE__, __LINE__)

/*
 * Assertions (cmocka failures with the sample's context printed):
 * H_EXPECT: name{labels} exists exactly once with value want (|diff| <= tol).
 * H_EXPECT_TEXT: ... and is rendered exactly as text.
 * H_EXPECT_ABSENT: no sample named name includes labels_subset.
 */
void h_expect_at(const struct h_expo *e, const char *name, const char *labels, double want,
                 double tol, const char *file, int line);
void h_expect_text_at(const struct h_expo *e, const char *name, const char *labels,
                      const char *want, const char *file, int line);
void h_expect_absent_at(const struct h_expo *e, const char *name, const char *labels_subset,
                        const char *file, int line);
/* Value of name{labels} (exact set) or fail the test. */
double h_value_at(const struct h_expo *e, const char *name, const char *labels, const char *file,
                  int line);
#define H_EXPECT(e, name, labels, want) h_expect_at(e, name, labels, want, 0.0, __FILE__, __LINE__)
#define H_EXPECT_TOL(e, name, labels, want, tol)                                                   \
    h_expect_at(e, name, labels, want, tol, __FILE__, __LINE__)
#define H_EXPECT_TEXT(e, name, labels, want)                                                       \
    h_expect_text_at(e, name, labels, want, __FILE__, __LINE__)
#define H_EXPECT_ABSENT(e, name, labels) h_expect_absent_at(e, name, labels, __FILE__, __LINE__)
#define H_VALUE(e, name, labels) h_value_at(e, name, labels, __FILE__, __LINE__)

/* ---- the simulator and the exporter ---- */

#define H_SIM_TOKEN "it-token"
#define H_SIM_PROJECT "0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32"

/* Job IDs of the simulator's script (src/sim.c). */
#define J_SEED "ff8080825ecc523f015ecd0a98f82f77"
#define J_NOTES "4010b39b4fd3d5ff014fd943bac41619"
#define J_INIT "2c9eb2c15e1d4e1a015e1e0c3b8a0001"
#define J_FAIL "2c9eb2c15e1d4e1a015e1e0c3b8a0002"
#define J_SUBS "2c9eb2c15e1d4e1a015e1e0c3b8a0003"
#define J_DEL "2c9eb2c15e1d4e1a015e1e0c3b8a0004"
#define J_MOD "2c9eb2c15e1d4e1a015e1e0c3b8a0005"
#define J_NULLEND "2c9eb2c15e1d4e1a015e1e0c3b8a0006"
#define J_QUEUED "2c9eb2c15e1d4e1a015e1e0c3b8a0007"
#define J_PROG_OK "2c9eb2c15e1d4e1a015e1e0c3b8a0008"
#define J_PROG_FAIL "2c9eb2c15e1d4e1a015e1e0c3b8a0009"
#define J_F429 "fa170000000000000000000000000429"
#define J_F500 "fa170000000000000000000000000500"
#define J_F503 "fa170000000000000000000000000503"
#define J_SLOW "fa17000000000000000000000000000a"
#define J_MALFORMED "fa17000000000000000000000000000b"
#define J_TRUNCATED "fa17000000000000000000000000000c"
#define J_CLOSED "fa17000000000000000000000000000d"
#define J_HUGE "fa17000000000000000000000000000e"
#define J_NUMSTATUS "fa17000000000000000000000000000f"
#define J_HTML "fa170000000000000000000000000010"
#define J_MISSING "0000000000000000000000000000dead" /* not in the script: 404 */

/* Scripted + fault jobs + J_MISSING, NULL-terminated. */
extern const char *const h_scenario_jobs[];
/* Number of entries of h_scenario_jobs. */
size_t h_scenario_job_count(void);

/*
 * Start the simulator in dir (name "sim") with step-ms 0 and the given
 * slow-ms, and wait for its listening line. Writes its base URL. Returns 0 or
 * a negative errno (logs dumped).
 */
int h_start_sim(struct h_proc *p, const char *dir, unsigned slow_ms, char *base, size_t cap);

/*
 * Start the exporter in dir under name with OS_AUTH_TOKEN=H_SIM_TOKEN, the
 * given extra flags (NULL-terminated), and, if sim_base is non-NULL,
 * --elb.endpoint/--elb.project-id for it; --web.listen-address=127.0.0.1:0
 * unless extra has a --web.listen-address. If wrapper is non-NULL it is a
 * NULL-terminated argv prefix (e.g. valgrind and its options). Waits up to
 * timeout_s for the listening line and writes the base URL. Returns 0 or a
 * negative errno (logs dumped).
 */
int h_start_exporter(struct h_proc *p, const char *dir, const char *name, const char *sim_base,
                     const char *const *extra, const char *const *wrapper, double timeout_s,
                     char *base, size_t cap);

/* POST /_sim/fault/<mode> to the simulator; returns 0 if it answered 200. */
int h_sim_fault(const char *sim_base, const char *mode);
/*
 * Requests the simulator saw for job_id (GET /_sim/requests; 0 if not listed).
 * Returns 0 or a negative errno.
 */
int h_sim_requests(const char *sim_base, const char *job_id, unsigned long long *count);

/*
 * Append "--job=ID" for every scenario job to args (at *n, cap entries, the
 * strings are static). Returns 0 or -E2BIG.
 */
int h_add_scenario_jobs(const char **args, size_t *n, size_t cap);

/*
 * Run a tool (openssl, promtool, ...) to its end in dir: 0 if it exited 0
 * within timeout_s, else -1 with the reason and its logs on stderr (killed
 * when it overran). For set-up outside cmocka assertions.
 */
int h_run_tool(const char *dir, const char *name, const char *const *argv, double timeout_s);

#endif
