/*
 * config: command line + environment + config file + clouds.yaml -> a
 * validated struct config.
 *
 * Precedence, the same for every setting: flag > environment > --config.file
 * > clouds.yaml (--os-cloud) > default. Every value is checked before anything
 * starts; a bad one yields a line naming the flag, variable or FILE:LINE:COLUMN
 * and key, and main exits 2. Secrets (token, password, secret key) come only
 * from the environment, *_file keys/flags or clouds.yaml/secure.yaml, never
 * from a flag value (flags are visible in ps) nor inline in --config.file.
 *
 * The implementation is split by concern (src/config/): config.c (life
 * cycle, precedence, validation, reload), flags.c (the flag table, argv,
 * --help), values.c (address, URL and path checks), config_file.c (the YAML
 * file), jobs_file.c (job lists), and credentials.c (OS_* variables,
 * clouds.yaml, secret files, the auth method).
 */
#ifndef ELB_CONFIG_H
#define ELB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "profile.h"

#define CONFIG_MAX_JOBS 10000         /* jobs listed by flags, the config file and the jobs file */
#define CONFIG_JOBS_MAX_LIMIT 1000000 /* the largest --jobs.max */
#define CONFIG_MAX_REQUESTS_LIMIT 512 /* the largest --web.max-requests (the connection limit) */
#define CONFIG_JOBS_FILE_MAX (1u << 20) /* bytes of a --jobs.file */
#define CONFIG_FILE_MAX (1u << 20)      /* bytes of a --config.file, clouds.yaml, secure.yaml */
#define CONFIG_ERR_MAX 8192 /* an err buffer that holds every problem --config.check lists */

/* --auth.method */
enum config_auth_method {
    CONFIG_AUTH_AUTO =
        0, /* the one the configured credentials allow (token, then aksk, then password) */
    CONFIG_AUTH_TOKEN,    /* X-Auth-Token from OS_AUTH_TOKEN */
    CONFIG_AUTH_PASSWORD, /* IAM password login: a token renewed before it expires */
    CONFIG_AUTH_AKSK      /* every request signed with an access key pair (SDK-HMAC-SHA256) */
};

struct config_private; /* provenance, secret sources, warnings, what a reload needs */

struct config {
    char *listen_address; /* "[host]:port" as given, default ":39123" */
    char *listen_host;    /* parsed host, "" for all addresses */
    uint16_t listen_port; /* parsed port (0 = any free port) */
    char *telemetry_path; /* "/metrics"; starts with '/', not "/" itself */
    char *endpoint;       /* API base URL without trailing '/', http:// or https:// */
    char *project_id;     /* --elb.project-id, else $OS_PROJECT_ID; NULL allowed only for
                             password auth with a project_name (the token's project is used) */
    const struct api_profile *profile;
    char *cloud_region; /* --cloud.region: every profile's endpoint derived from it */
    char *auth_token;   /* secret: $OS_AUTH_TOKEN / auth.token_file; wiped by config_release */
    /*
     * Job references, validated, de-duplicated: "ID" (of --elb.profile) or
     * "PROFILE:ID", as given (split them with config_job_ref):
     * jobs[0..n_flag_jobs) came from --job, the next n_config_jobs from
     * jobs.ids of --config.file, the rest from --jobs.file.
     */
    char **jobs;
    size_t n_jobs;
    size_t n_flag_jobs;
    size_t n_config_jobs;
    unsigned profiles_named; /* bit i: a job was given as PROFILE:ID with profile_at(i) */
    char *jobs_file;
    uint64_t jobs_retention_ms; /* --jobs.retention; 0 keeps finished jobs for good */
    uint64_t poll_interval_ms, poll_timeout_ms;
    unsigned poll_concurrency;
    int once, demo;
    int allow_insecure_http; /* --elb.allow-insecure-http: plain http:// to a non-loopback host */

    /*
     * Issue 7 (logins): what the auth methods need. Filled by the flags,
     * OS_* variables, --config.file and clouds.yaml (--os-cloud), in that
     * order of precedence. Secrets (marked) come only from the environment
     * or *_file keys, are wiped by config_release, and are never logged.
     */
    char *config_file; /* --config.file */
    int config_check;  /* --config.check */
    char *os_cloud;    /* --os-cloud / $OS_CLOUD */
    enum config_auth_method
        auth_method;        /* --auth.method as given; the method used: config_auth_choose */
    char *iam_endpoint;     /* --auth.iam-endpoint / $OS_AUTH_URL, e.g.
                               https://iam.eu-de.otc.t-systems.com/v3 (no trailing '/') */
    char *username;         /* auth.username / $OS_USERNAME */
    char *user_domain_name; /* auth.user_domain_name / $OS_USER_DOMAIN_NAME / $OS_DOMAIN_NAME */
    char *project_name;     /* auth.project_name / $OS_PROJECT_NAME: scope by name (e.g. eu-de) */
    char *password;         /* secret: $OS_PASSWORD / auth.password_file */
    char *access_key;       /* $OS_ACCESS_KEY / auth.access_key_file */
    char *secret_key;       /* secret: $OS_SECRET_KEY / auth.secret_key_file */
    char *tls_ca_file;      /* --tls.ca-file: CA bundle for the cloud API and IAM */
    int tls_insecure_skip_verify; /* --tls.insecure-skip-verify (logs a warning) */
    enum log_level log_level;
    enum log_format log_format;
    char *web_config_file;     /* --web.config.file: TLS, basic auth, headers (exporter-toolkit) */
    int web_enable_admin_api;  /* --web.enable-admin-api: POST/DELETE /api/v1/jobs */
    int web_enable_lifecycle;  /* --web.enable-lifecycle: POST /-/reload */
    unsigned web_max_requests; /* --web.max-requests: requests served at once, 503 past it */
    int metrics_sparse_status; /* --metrics.sparse-status: only each job's current status */
    char *storage_path;        /* --storage.path: the embedded store's directory */
    size_t jobs_max;           /* --jobs.max: tracked jobs at most, all sources together */

    struct config_private *priv; /* config's own bookkeeping; NULL in a config built by hand */
};

enum config_rc {
    CONFIG_OK = 0,    /* run */
    CONFIG_EXIT = 1,  /* --help, --version or a passed --config.check printed to out: exit 0 */
    CONFIG_ERROR = 2, /* err holds the cfg_problem(s), one per line: exit 2 */
    CONFIG_CHECK_FAILED = 3 /* --config.check found problems, listed in err: exit 1 */
};

/*
 * Fill *c from argv, the environment (looked up through getenv_fn, so tests
 * can pass their own; NULL means getenv), --config.file and --os-cloud's
 * clouds.yaml. --help/--version/--config.check's "config OK" go to out (NULL:
 * stdout). On CONFIG_ERROR and CONFIG_CHECK_FAILED, err (errsz > 0) holds
 * the problems, one per line ('\n' between them, no trailing one): a bad
 * flag or variable stops at once (one line); a config file is read to its
 * end and every problem in it is listed, as are all problems under
 * --config.check; lines that do not fit errsz are counted in a last line.
 * On anything but CONFIG_OK *c is released. Repeated single-value flags: the
 * last one wins, but every occurrence is validated. --demo relaxes the
 * endpoint/project/credential requirements (main fills them from the
 * simulator).
 */
int config_parse(struct config *c, int argc, char **argv, const char *(*getenv_fn)(const char *),
                 FILE *out, char *err, size_t errsz);

/*
 * Parse a jobs file body (one ID or PROFILE:ID per line, '#' comments, blank
 * lines, CRLF tolerated) and append its IDs to c->jobs (skipping duplicates).
 * On error returns -EINVAL (bad line), -E2BIG (more than CONFIG_MAX_JOBS) or
 * -ENOMEM, with "PATH:LINE: reason" in err; c->jobs unchanged.
 */
int config_add_jobs_text(struct config *c, const char *path, const char *text, size_t len,
                         char *err, size_t errsz);

/*
 * Read c->jobs_file again and build the job list it now gives: c's --job and
 * jobs.ids IDs first (jobs[0..n_flag_jobs + n_config_jobs), as loaded), then
 * the file's. Returns 0 with a new list in *jobs / *n (free it with
 * config_free_jobs), or -errno with a one-line reason ("PATH:LINE: ...") in
 * err and nothing allocated (-EINVAL also when the path is not a regular
 * file: a FIFO is refused, never waited on). Does not modify c: the caller
 * swaps lists when it can.
 */
int config_reload_jobs(const struct config *c, char ***jobs, size_t *n, char *err, size_t errsz);
/* Free a list from config_reload_jobs or config_reload_config_jobs; accepts NULL. */
void config_free_jobs(char **jobs, size_t n);

/*
 * Does c->endpoint send the token unencrypted to another machine: plain
 * http:// to a host that is not loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104,
 * localhost)? config_parse refuses such an endpoint unless
 * c->allow_insecure_http (and never checks it with --demo, whose endpoint main
 * replaces by the loopback simulator); main warns when it is allowed.
 * config_parse applies the same rule to c->iam_endpoint when password auth
 * uses it.
 */
int config_endpoint_insecure(const struct config *c);

/*
 * Add one job ID or "PROFILE:ID" (validated, the prefix removed, duplicates
 * ignored). Returns 0, -EINVAL (bad ID or unknown profile), -E2BIG (too
 * many), -ENOMEM.
 */
int config_add_job(struct config *c, const char *id);

/*
 * Free everything config_parse allocated, wiping the secrets first
 * (secret.h); accepts a zeroed or released config, and NULL.
 */
void config_release(struct config *c);

/*
 * Split a job reference of c->jobs (or of a reloaded list): *profile gets the
 * profile its "PROFILE:" prefix names, or c->profile for a bare ID; *id points
 * at the ID inside ref.
 */
void config_job_ref(const struct config *c, const char *ref, const struct api_profile **profile,
                    const char **id);

/* Usage text as printed by --help. */
void config_usage(FILE *out);

/* Spelling of a method: "auto", "token", "password", "aksk". */
const char *config_auth_method_name(enum config_auth_method m);

/*
 * The auth method c's credentials are used with: c->auth_method when it is
 * not CONFIG_AUTH_AUTO and its credentials are there; for auto, a token
 * (auth_token) if there is one, else an access key pair (access_key +
 * secret_key), else a password login (username + password + iam_endpoint).
 * Returns 0 with *out (never CONFIG_AUTH_AUTO) and in why (whysz bytes) one
 * line saying why and where each credential came from (main logs it at
 * start-up; it never holds a secret), or -ENOENT with what is missing in why
 * (*out untouched).
 */
int config_auth_choose(const struct config *c, enum config_auth_method *out, char *why,
                       size_t whysz);

/*
 * Warnings about an accepted configuration, for main to log at start-up:
 * a secret file others can read, TLS verification switched off, ... The i-th
 * one, or NULL past the last.
 */
const char *config_warning(const struct config *c, size_t i);

/* ---- reloading (SIGHUP, POST /-/reload) ---- */

/*
 * Parse the configuration again as running was parsed (the same command line
 * and environment lookup), which re-reads --config.file, clouds.yaml, the
 * secret files and --jobs.file. Returns config_parse's code: CONFIG_OK with a
 * new config in *fresh (release it with config_release), or CONFIG_ERROR with
 * the problems in err and *fresh zeroed. running is not modified; -like
 * config_parse- this does not log. CONFIG_ERROR with "not reloadable" in err
 * for a config config_parse did not build.
 */
int config_reload_file(const struct config *running, struct config *fresh, char *err, size_t errsz);

/* One setting that differs between two configurations. */
struct config_change {
    const char *key; /* the config file key, e.g. "poll.interval", "jobs.ids" */
    int restart;     /* 1: takes effect only after a restart; 0: can be applied live */
};

/*
 * The settings whose values differ between old and fresh, in the order of
 * --help, the first cap of them in out[]; returns how many differ (may be
 * more than cap). What can be applied live: log.level and log.format (main
 * calls log_setup) and jobs.ids (the job table's JOB_SRC_CONFIG source, from
 * config_reload_config_jobs). Everything else needs a restart: the listener,
 * the API endpoint, project and profile, every credential setting, TLS,
 * polling and retention (the poller and job table are built from them).
 * Secret values are not compared (main drops its copy of the token once the
 * auth object holds it); a changed secret file is read at the next start.
 * When both configs are --demo, the API endpoint, project and jobs file
 * (replaced by the simulator's) are not compared.
 */
size_t config_changes(const struct config *old, const struct config *fresh,
                      struct config_change *out, size_t cap);

/*
 * The jobs.ids list of c's --config.file as the file says now, on its own
 * (an ID may also be listed by --job or --jobs.file): for the poller's
 * JOB_SRC_CONFIG source. Returns 0 with the list in *ids / *n (free with
 * config_free_jobs; an empty list when there is no config file), or a
 * negative errno with the problems in err and nothing allocated.
 */
int config_reload_config_jobs(const struct config *c, char ***ids, size_t *n, char *err,
                              size_t errsz);

/* ---- for tests and fuzzers ---- */

/*
 * Apply the text of a config file to c as config_parse applies --config.file
 * (at the file's precedence; c zeroed or from config_parse), without reading
 * any file it names. Returns 0, or -EINVAL with every problem in err, one
 * "PATH:LINE:COLUMN: ..." per line; c stays releasable either way.
 */
int config_file_apply_text(struct config *c, const char *path, const char *text, size_t len,
                           char *err, size_t errsz);

#endif
