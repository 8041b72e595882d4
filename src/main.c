/*
 * main: wires configuration, signals, the poller and the HTTP server together
 * and owns start-up and shutdown.
 *
 * Threads: main (signals via sigwait), the poller thread, libmicrohttpd's
 * thread(s) and the HTTP server's reaper, the registration API's workers, and
 * in --demo the simulator's threads. All signals we handle are blocked before
 * any thread starts, so only sigwait here ever sees them.
 *
 * A reload comes from SIGHUP (here) or POST /-/reload (a worker of the API);
 * both run reload(), one at a time (reload_lock), and only touch what may
 * change live (log settings) and ask the poller to re-read the job lists.
 */
#include <curl/curl.h>
#include <errno.h>
#include <malloc.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "poller.h"
#include "registry_http.h"
#include "secret.h"
#include "sim.h"
#include "snapshot.h"
#include "store.h"

#define DEMO_STEP_MS 10000      /* the demo's progressing jobs advance one state per 10 s */
#define RELOAD_TIMEOUT_MS 10000 /* POST /-/reload waits this long for the poller's re-read */

/* What a reload needs, from either thread that asks for one. */
struct app {
    struct config *cfg;
    struct poller *poller;
    pthread_mutex_t reload_lock; /* one reload at a time: SIGHUP and POST /-/reload */
    int lock_ok;                 /* reload_lock is initialised */
};

/*
 * glibc's allocator, set before any thread exists (measured in README,
 * "Memory"):
 * - one arena: each thread that allocates would otherwise get an arena of its
 *   own (the poller, libmicrohttpd's thread, and every thread of libcurl's
 *   threaded resolver, one per name lookup), each keeping its free pages.
 *   These threads allocate little (the poller renders into a few large
 *   buffers), so they do not contend; -130 kB idle with 100 jobs.
 * - a fixed mmap threshold: glibc raises it to the size of every large block
 *   freed (up to 32 MiB), after which each cycle's rendering buffers come from
 *   the heap and their pages stay with the process when freed. Fixed at its
 *   default, blocks of 128 KiB or more are mapped and unmapped (one cycle's
 *   renderings and the job table's array); -6.7 MB idle with 10k jobs.
 */
static void tune_malloc(void)
{
#ifdef __GLIBC__
    mallopt(M_ARENA_MAX, 1);
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
}

static const char *env_lookup(const char *name)
{
    return getenv(name);
}

/*
 * Build the authoriser for the method config_auth_choose picked. *what says
 * which settings were unusable, for an error line. Returns auth_new_*'s code.
 */
static int make_auth(const struct config *cfg, enum config_auth_method method, struct auth **out,
                     const char **what)
{
    switch (method) {
    case CONFIG_AUTH_AKSK:
        *what = "OS_ACCESS_KEY/OS_SECRET_KEY: not a usable key pair (empty or too long, or the "
                "access key or project ID holds spaces, commas or control characters)";
        return auth_new_aksk(cfg->access_key, cfg->secret_key, cfg->project_id, out);
    case CONFIG_AUTH_PASSWORD: {
        const struct auth_password pw = {cfg->iam_endpoint,     cfg->username,   cfg->password,
                                         cfg->user_domain_name, cfg->project_id, cfg->project_name};
        *what = "--auth.iam-endpoint / OS_AUTH_URL: not an http(s) URL the login can use";
        return auth_new_password(&pw, out);
    }
    case CONFIG_AUTH_TOKEN:
    case CONFIG_AUTH_AUTO:
    default:
        *what = "OS_AUTH_TOKEN: not a usable token (empty, too long, or contains spaces or "
                "control characters)";
        return auth_new_token(cfg->auth_token, out);
    }
}

/* The auth object holds its own copies now: one live copy of each secret, not two. */
static void drop_config_secrets(struct config *cfg)
{
    secret_free(cfg->auth_token);
    secret_free(cfg->password);
    secret_free(cfg->secret_key);
    cfg->auth_token = cfg->password = cfg->secret_key = NULL;
}

/* In --demo, aim the configuration at an in-process simulator. Returns 0 or -errno. */
static int demo_setup(struct config *cfg, struct sim **simp)
{
    struct sim_options so = {.host = "127.0.0.1", .port = 0, .step_ms = DEMO_STEP_MS};
    const char *const *ids;
    char url[64];
    struct sim *s;
    int rc;

    s = sim_start(&so);
    if (!s)
        return errno ? -errno : -EIO;
    *simp = s;
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", (unsigned)sim_port(s));
    free(cfg->endpoint);
    free(cfg->project_id);
    secret_free(cfg->auth_token); /* whatever OS_AUTH_TOKEN held: the demo uses its own */
    cfg->endpoint = strdup(url);
    cfg->project_id = strdup(sim_project_id(s));
    cfg->auth_token = strdup(sim_token(s));
    if (!cfg->endpoint || !cfg->project_id || !cfg->auth_token)
        return -ENOMEM;
    /* the demo's job list is the simulator's: a jobs file is read once, never re-read */
    free(cfg->jobs_file);
    cfg->jobs_file = NULL;
    for (ids = sim_demo_jobs(); *ids; ids++) {
        rc = config_add_job(cfg, *ids);
        if (rc)
            return rc;
    }
    /* the ECS, EVS and ELB v3 jobs too: one instance watches every profile */
    for (ids = sim_demo_jobs_profiled(); *ids; ids++) {
        rc = config_add_job(cfg, *ids);
        if (rc)
            return rc;
    }
    log_info("demo: simulated job API on %s with %zu jobs", url, cfg->n_jobs);
    return 0;
}

/* Write a page (whole, or its pieces in order) to f. Returns 1, or 0 on a write error. */
static int write_page(const struct snapshot_buf *b, FILE *f)
{
    size_t i;

    if (!b->iov)
        return fwrite(b->data, 1, b->len, f) == b->len;
    for (i = 0; i < b->n_iov; i++)
        if (fwrite(b->iov[i].iov_base, 1, b->iov[i].iov_len, f) != b->iov[i].iov_len)
            return 0;
    return 1;
}

/*
 * Poll every job once and print the exposition to stdout (--once). Returns the
 * exit code (poller_once_exit_code), so that a textfile-collector run never
 * writes UNKNOWN for jobs it did not get to ask about.
 */
static int run_once(struct poller *p, struct snapshot_store *store)
{
    struct poller_once_result r;
    struct snapshot *s;
    int ok;

    poller_run_once(p, &r);
    s = snapshot_acquire(store);
    if (!s)
        return 1;
    ok = write_page(&s->page[SNAPSHOT_METRICS], stdout) && fflush(stdout) == 0;
    snapshot_release(s);
    if (!ok) {
        log_error("cannot write the exposition to stdout: %s", strerror(errno));
        return 1;
    }
    if (r.jobs == 0)
        log_error(
            "--once: no jobs to poll (give --job, --jobs.file or jobs.ids); nothing was fetched");
    else if (r.unfetched)
        log_error("--once: %zu of %zu jobs got no answer (throttled by the API); their status "
                  "is UNKNOWN",
                  r.unfetched, r.jobs);
    else if (!r.api_up)
        log_error("--once: the API was not reached or refused our credentials");
    else if (r.failed)
        log_warn("--once: %zu of %zu jobs could not be fetched (see the lines above); they show "
                 "elb_job_fetch_success 0",
                 r.failed, r.jobs);
    return poller_once_exit_code(&r);
}

/* Print config_parse's problems, one line each, to stderr. */
static void print_problems(const char *err)
{
    const char *line = err, *nl;

    do {
        nl = strchr(line, '\n');
        fprintf(stderr, "elb_job_exporter: %.*s\n", nl ? (int)(nl - line) : (int)strlen(line),
                line);
        line = nl ? nl + 1 : NULL;
    } while (line);
}

/*
 * With --config.file: read the configuration again and apply what can change
 * live (log.level, log.format); name every other changed setting as needing a
 * restart. The jobs file is re-read by the poller (the caller asks). why
 * ("SIGHUP", "POST /-/reload") starts the log lines. Returns 0, or -EINVAL
 * with the first problem in out (outsz bytes): the running configuration stays.
 */
static int reload_config(struct config *cfg, const char *why, char *out, size_t outsz)
{
    struct config_change ch[32];
    struct config fresh;
    char err[CONFIG_ERR_MAX];
    const char *line, *nl;
    size_t i, n;

    log_info("%s received: re-reading %s", why, cfg->config_file);
    if (config_reload_file(cfg, &fresh, err, sizeof(err)) != CONFIG_OK) {
        for (line = err; line; line = nl ? nl + 1 : NULL) {
            nl = strchr(line, '\n');
            log_error("%s: configuration not reloaded, the running one stays: %.*s", why,
                      nl ? (int)(nl - line) : (int)strlen(line), line);
        }
        nl = strchr(err, '\n');
        snprintf(out, outsz, "%.*s", nl ? (int)(nl - err) : (int)strlen(err), err);
        return -EINVAL;
    }
    n = config_changes(cfg, &fresh, ch, sizeof(ch) / sizeof(ch[0]));
    if (n == 0)
        log_info("%s: no setting changed", why);
    for (i = 0; i < n && i < sizeof(ch) / sizeof(ch[0]); i++) {
        if (strncmp(ch[i].key, "log.", 4) == 0) {
            /* log's settings are atomics: safe to change while threads log */
            cfg->log_level = fresh.log_level;
            cfg->log_format = fresh.log_format;
            log_setup(cfg->log_level, cfg->log_format);
            log_info("%s: %s changed: applied", why, ch[i].key);
        } else if (ch[i].restart) {
            log_warn("%s: %s changed: takes effect after a restart", why, ch[i].key);
        } else {
            log_info("%s: %s changed: applied", why, ch[i].key); /* jobs.ids: the poller syncs it */
        }
    }
    config_release(&fresh);
    return 0;
}

/* SIGHUP: the configuration file here, the job lists in the poller (not waited for). */
static void reload_on_signal(struct app *a)
{
    char err[512];

    pthread_mutex_lock(&a->reload_lock);
    if (a->cfg->config_file)
        reload_config(a->cfg, "SIGHUP", err, sizeof(err));
    if (a->cfg->jobs_file || a->cfg->config_file) {
        if (a->cfg->jobs_file)
            log_info("SIGHUP received: re-reading %s", a->cfg->jobs_file);
        poller_request_reload(a->poller); /* the jobs file and jobs.ids */
    } else {
        log_info("SIGHUP received: no --config.file or --jobs.file to re-read");
    }
    pthread_mutex_unlock(&a->reload_lock);
}

/*
 * POST /-/reload (an API worker thread): what SIGHUP does, waiting for the
 * poller's re-read of the job lists so that the answer says whether it all
 * worked. Returns 0, or -errno with one line in err.
 */
static int reload_on_request(void *arg, char *err, size_t errsz)
{
    struct app *a = arg;
    int rc = 0;

    pthread_mutex_lock(&a->reload_lock);
    log_info("POST /-/reload received");
    if (a->cfg->config_file)
        rc = reload_config(a->cfg, "POST /-/reload", err, errsz);
    if (rc == 0 && (a->cfg->jobs_file || a->cfg->config_file))
        rc = poller_reload(a->poller, RELOAD_TIMEOUT_MS, err, errsz);
    pthread_mutex_unlock(&a->reload_lock);
    return rc;
}

/* The registration API's way to the job table. */
static int post_to_table(void *arg, enum jobtable_op op, const struct api_profile *p,
                         const char *id, const struct job_labels *labels, jobtable_done_fn done,
                         void *done_arg)
{
    return poller_post(arg, op, p, id, labels, done, done_arg);
}

int main(int argc, char **argv)
{
    struct config cfg;
    struct sim *sim = NULL;
    struct auth *auth = NULL;
    struct snapshot_store *store = NULL;
    struct poller *poller = NULL;
    struct store *db = NULL; /* --storage.path */
    struct http_server *http = NULL;
    struct registry_http *api = NULL;
    struct app app = {.cfg = &cfg};
    struct http_counters http_counters = {0}; /* written by http, rendered by the poller */
    struct build_info build;
    sigset_t sigs;
    char err[CONFIG_ERR_MAX], why[512];
    enum config_auth_method method = CONFIG_AUTH_TOKEN;
    const char *warning, *what = NULL;
    size_t w;
    int rc, sig, status = 1;

    tune_malloc();
    memset(&cfg, 0, sizeof(cfg));
    rc = config_parse(&cfg, argc, argv, env_lookup, stdout, err, sizeof(err));
    if (rc == CONFIG_EXIT)
        return 0;
    if (rc != CONFIG_OK) {
        print_problems(err);
        return rc == CONFIG_CHECK_FAILED ? 1 : 2;
    }
    log_setup(cfg.log_level, cfg.log_format);
    for (w = 0; (warning = config_warning(&cfg, w)) != NULL; w++)
        log_warn("%s", warning);
    if (cfg.tls_ca_file && api_check_ca_file(cfg.tls_ca_file, err, sizeof(err)) != 0) {
        fprintf(stderr, "elb_job_exporter: %s\n", err);
        config_release(&cfg);
        return 2;
    }
    if (!cfg.demo && config_endpoint_insecure(&cfg))
        log_warn("--elb.endpoint %s is plain http:// to a host that is not loopback: the token "
                 "travels unencrypted (allowed by --elb.allow-insecure-http)",
                 cfg.endpoint);
    if (!cfg.demo) {
        if (config_auth_choose(&cfg, &method, why, sizeof(why)) != 0) {
            fprintf(stderr, "elb_job_exporter: %s\n", why);
            config_release(&cfg);
            return 2;
        }
        log_info("auth method %s: %s", config_auth_method_name(method), why);
    }

    /*
     * Before any thread exists: handled signals go to sigwait only; SIGPIPE never
     * kills us. --once never reaches sigwait, so there they keep their default
     * action: Ctrl-C must still end a run stuck on a slow API.
     */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    if (!cfg.once)
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* past a file size limit (RLIMIT_FSIZE) a store write fails (EFBIG, counted, a 500) */
    signal(SIGXFSZ, SIG_IGN);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("cannot initialise libcurl");
        goto out;
    }
    if (cfg.demo && (rc = demo_setup(&cfg, &sim)) != 0) {
        log_error("demo: cannot start the simulated API: %s", strerror(-rc));
        goto out;
    }
    rc = make_auth(&cfg, method, &auth, &what);
    if (rc == -ENOMEM) {
        log_error("cannot set up authentication: out of memory");
        goto out;
    }
    if (rc) {
        fprintf(stderr, "elb_job_exporter: %s\n", what);
        status = 2;
        goto out;
    }
    drop_config_secrets(&cfg);
    build = (struct build_info){
        .version = ELB_VERSION,
        .revision = ELB_REVISION,
        .libcurl = curl_version_info(CURLVERSION_NOW)->version,
        .libmicrohttpd = MHD_get_version(),
    };
    store = snapshot_store_new();
    /* --once has no server, so no server counters */
    poller = store ? poller_new(&cfg, auth, store, &build, cfg.once ? NULL : &http_counters) : NULL;
    if (!poller) {
        log_error("cannot set up the poller: out of memory");
        goto out;
    }
    if (cfg.storage_path) {
        /* registered and finished jobs come back before anything is polled */
        db = store_open(cfg.storage_path, poller_restore, poller, err, sizeof(err));
        if (!db) {
            fprintf(stderr, "elb_job_exporter: %s\n", err);
            goto out;
        }
        poller_set_store(poller, db);
    }
    if (cfg.n_jobs == 0 && !db)
        log_warn("no jobs to poll: give --job, --jobs.file or jobs.ids in --config.file");

    if (cfg.once) {
        status = run_once(poller, store);
        goto out;
    }

    app.poller = poller;
    if (pthread_mutex_init(&app.reload_lock, NULL) != 0) {
        log_error("cannot set up reloads: out of memory");
        goto out;
    }
    app.lock_ok = 1;
    api = registry_http_new(&(struct registry_http_options){
        .snapshots = store,
        .admin = cfg.web_enable_admin_api,
        .lifecycle = cfg.web_enable_lifecycle,
        .jobs_max = cfg.jobs_max ? cfg.jobs_max : CONFIG_MAX_JOBS,
        .project_id = cfg.project_id,
        .store = db, /* registrations durable before their 2xx */
        .post = post_to_table,
        .post_arg = poller,
        .reload = reload_on_request,
        .reload_arg = &app,
    });
    if (!api) {
        log_error("cannot start the registration API: %s", strerror(errno));
        goto out;
    }
    http = http_start(&(struct http_options){.host = cfg.listen_host,
                                             .port = cfg.listen_port,
                                             .telemetry_path = cfg.telemetry_path,
                                             .store = store,
                                             .counters = &http_counters,
                                             .web_config_file = cfg.web_config_file,
                                             .max_requests = cfg.web_max_requests,
                                             .api = api},
                      err, sizeof(err));
    if (!http) {
        log_error("%s", err);
        goto out;
    }
    log_info("elb_job_exporter %s (revision %s) polling %zu jobs at %s every %llums", ELB_VERSION,
             ELB_REVISION, cfg.n_jobs, cfg.endpoint, (unsigned long long)cfg.poll_interval_ms);
    log_info("listening on %s", http_url(http));
    rc = poller_start(poller);
    if (rc) {
        log_error("cannot start the poller thread: %s", strerror(-rc));
        goto out;
    }

    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload_on_signal(&app);
            continue;
        }
        log_info("%s received: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    status = 0;
out:
    http_stop(http); /* first: no new scrapes, in-flight ones finish, waiters get 503 */
    poller_stop(poller);
    poller_free(poller);     /* changes still queued for the table are cancelled */
    registry_http_free(api); /* after both: their callbacks are over */
    store_close(db);         /* after every writer: flushes what is still pending */
    if (app.lock_ok)
        pthread_mutex_destroy(&app.reload_lock);
    snapshot_store_free(store);
    auth_free(auth);
    sim_stop(sim);
    config_release(&cfg);
    curl_global_cleanup();
    return status;
}
