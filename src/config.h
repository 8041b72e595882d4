/*
 * config: command line + environment -> a validated struct config.
 *
 * Precedence: flag > environment > default. Every value is checked before
 * anything starts; a bad one yields one line naming the flag, and main exits 2.
 * Secrets (the API token) come only from the environment, never from a flag.
 */
#ifndef ELB_CONFIG_H
#define ELB_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"
#include "profile.h"

#define CONFIG_MAX_JOBS 10000           /* tracked jobs, all sources together */
#define CONFIG_JOBS_FILE_MAX (1u << 20) /* bytes of a --jobs.file */

/* --auth.method */
enum config_auth_method {
    CONFIG_AUTH_AUTO =
        0, /* the one the configured credentials allow (token, then aksk, then password) */
    CONFIG_AUTH_TOKEN,    /* X-Auth-Token from OS_AUTH_TOKEN */
    CONFIG_AUTH_PASSWORD, /* IAM password login: a token renewed before it expires */
    CONFIG_AUTH_AKSK      /* every request signed with an access key pair (SDK-HMAC-SHA256) */
};

struct config {
    char *listen_address; /* "[host]:port" as given, default ":39123" */
    char *listen_host;    /* parsed host, "" for all addresses */
    uint16_t listen_port; /* parsed port (0 = any free port) */
    char *telemetry_path; /* "/metrics"; starts with '/', not "/" itself */
    char *endpoint;       /* API base URL without trailing '/', http:// or https:// */
    char *project_id;     /* --elb.project-id, else $OS_PROJECT_ID */
    const struct api_profile *profile;
    char *auth_token; /* $OS_AUTH_TOKEN; never from a flag; wiped by config_release */
    char **jobs;      /* --job values then --jobs.file lines, validated, de-duplicated */
    size_t n_jobs;
    size_t n_flag_jobs; /* jobs[0..n_flag_jobs) came from --job */
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
        auth_method;        /* --auth.method; CONFIG_AUTH_AUTO picks (see config_auth_choose) */
    char *iam_endpoint;     /* --auth.iam-endpoint / $OS_AUTH_URL, e.g.
                               https://iam.eu-de.otc.t-systems.com/v3 */
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
};

enum config_rc {
    CONFIG_OK = 0,   /* run */
    CONFIG_EXIT = 1, /* --help or --version was printed to out: exit 0 */
    CONFIG_ERROR = 2 /* err holds one line naming the flag: exit 2 */
};

/*
 * Fill *c from argv and the environment (looked up through getenv_fn, so tests
 * can pass their own; NULL means getenv). --help/--version text goes to out
 * (NULL: stdout). On CONFIG_ERROR, err (errsz > 0) holds the message; on
 * CONFIG_EXIT and CONFIG_ERROR *c is released. Repeated single-value flags:
 * the last one wins, but every occurrence is validated. --demo relaxes the
 * endpoint/project/token requirements (main fills them from the simulator).
 */
int config_parse(struct config *c, int argc, char **argv, const char *(*getenv_fn)(const char *),
                 FILE *out, char *err, size_t errsz);

/*
 * Parse a jobs file body (one ID per line, '#' comments, blank lines, CRLF
 * tolerated) and append its IDs to c->jobs (skipping duplicates). On error
 * returns -EINVAL (bad line), -E2BIG (more than CONFIG_MAX_JOBS) or -ENOMEM,
 * with "PATH:LINE: reason" in err; c->jobs unchanged.
 */
int config_add_jobs_text(struct config *c, const char *path, const char *text, size_t len,
                         char *err, size_t errsz);

/*
 * Read c->jobs_file again and build the job list it now gives: the --job IDs
 * first, then the file's. Returns 0 with a new list in *jobs / *n (free it with
 * config_free_jobs), or -errno with a one-line reason ("PATH:LINE: ...") in err
 * and nothing allocated (-EINVAL also when the path is not a regular file: a
 * FIFO is refused, never waited on). Does not modify c: the caller swaps lists
 * when it can.
 */
int config_reload_jobs(const struct config *c, char ***jobs, size_t *n, char *err, size_t errsz);
/* Free a list from config_reload_jobs; accepts NULL. */
void config_free_jobs(char **jobs, size_t n);

/*
 * Does c->endpoint send the token unencrypted to another machine: plain
 * http:// to a host that is not loopback (127.0.0.0/8, ::1, ::ffff:127.0.0.0/104,
 * localhost)? config_parse refuses such an endpoint unless
 * c->allow_insecure_http (and never checks it with --demo, whose endpoint main
 * replaces by the loopback simulator); main warns when it is allowed.
 */
int config_endpoint_insecure(const struct config *c);

/* Add one job ID (validated, duplicates ignored). Returns 0, -EINVAL, -E2BIG (too many), -ENOMEM.
 */
int config_add_job(struct config *c, const char *id);

/*
 * Free everything config_parse allocated, wiping auth_token first (secret.h);
 * accepts a zeroed or released config.
 */
void config_release(struct config *c);

/* Usage text as printed by --help. */
void config_usage(FILE *out);

#endif
