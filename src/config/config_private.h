/*
 * config_private: what the files of src/config/ share and nobody else sees:
 * the parse state, the setting and layer numbering, the flag table's shape,
 * and the small helpers every layer uses (escaping for messages, problem
 * lists, value checks).
 *
 * DESIGN. A setting is one entry of the flag table (flags.c), whatever layer
 * its value comes from. Every layer runs values through the same setter, so
 * a duration in the YAML file is checked exactly as --poll.interval is. Each
 * setting remembers the layer that set it (rank[]); a setter stores a value
 * only when its layer is at least that high, so the layers may be applied in
 * any order: config.c applies defaults, argv, the environment, the file, then
 * clouds.yaml, and the ranks make flag > env > file > clouds.yaml > default
 * hold for every setting. A value from a lower layer is still validated.
 */
#ifndef ELB_CONFIG_PRIVATE_H
#define ELB_CONFIG_PRIVATE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <yaml.h>

#include "config.h"

#define CONFIG_SHOW_MAX 256 /* bytes of a user value quoted in an error (paths fit whole) */
#define CONFIG_SHOW_BUF (CONFIG_SHOW_MAX * 4 + 8) /* escaped: \xNN per byte, "...", NUL */
#define CONFIG_LINE_MAX 2048                      /* bytes of one problem line */
#define CONFIG_PROBLEMS_MAX 200                   /* problems kept; more are counted */
#define CONFIG_ERRNO_TEXT 128                     /* strerror_r output */
#define CONFIG_ORIGIN_MAX 512                     /* bytes of "auth.username in /etc/x.yml" */
#define CONFIG_SECRET_MAX 4096                    /* bytes of a password, access or secret key */
#define CONFIG_KEY_MAX 64                         /* bytes of a dotted config file key */
#define CONFIG_PROJECT_ID_MAX 64                  /* [A-Za-z0-9_-]{1,64} */
#define CONFIG_PATH_MAX 4096                      /* bytes of a file path setting */

#define JOB_ID_RULE "(1-64 of A-Za-z0-9_-)"

/* Where a value came from, lowest precedence first. */
enum config_layer {
    LAYER_NONE = 0,
    LAYER_DEFAULT,
    LAYER_CLOUDS, /* clouds.yaml / secure.yaml of --os-cloud */
    LAYER_FILE,   /* --config.file */
    LAYER_ENV,
    LAYER_FLAG
};

/* The settings: indexes of flags[] in flags.c, in --help order. */
enum setting {
    S_HELP,
    S_VERSION,
    S_CONFIG_FILE,
    S_CONFIG_CHECK,
    S_LISTEN,
    S_TELEMETRY_PATH,
    S_WEB_CONFIG_FILE,
    S_WEB_ADMIN_API,
    S_WEB_LIFECYCLE,
    S_WEB_MAX_REQUESTS,
    S_SPARSE_STATUS,
    S_ENDPOINT,
    S_ALLOW_INSECURE_HTTP,
    S_PROJECT_ID,
    S_PROFILE,
    S_CLOUD_REGION,
    S_OS_CLOUD,
    S_AUTH_METHOD,
    S_IAM_ENDPOINT,
    S_USERNAME,
    S_USER_DOMAIN,
    S_PROJECT_NAME,
    S_TOKEN_FILE,
    S_PASSWORD_FILE,
    S_ACCESS_KEY_FILE,
    S_SECRET_KEY_FILE,
    S_TLS_CA_FILE,
    S_TLS_INSECURE,
    S_JOB,
    S_JOBS_FILE,
    S_JOBS_RETENTION,
    S_JOBS_MAX,
    S_STORAGE_PATH,
    S_POLL_INTERVAL,
    S_POLL_TIMEOUT,
    S_POLL_CONCURRENCY,
    S_ONCE,
    S_DEMO,
    S_LOG_LEVEL,
    S_LOG_FORMAT,
    S_COUNT
};

/* The credentials that may come from a file or inline (env, clouds.yaml): one slot each. */
enum secret_slot {
    SECRET_TOKEN,
    SECRET_PASSWORD,
    SECRET_ACCESS_KEY,
    SECRET_SECRET_KEY,
    SECRET_COUNT
};

/* Where a credential comes from: the winning *_file path, or an inline value. */
struct config_secret {
    char *path;  /* a *_file setting's path, or NULL */
    char *value; /* inline (environment, clouds.yaml/secure.yaml): secret, wiped */
    char *from;  /* the clouds.yaml/secure.yaml an inline value came from, or NULL */
    mode_t mode; /* that file's mode, for the permission warning */
};

struct config_private {
    int argc; /* a copy of the command line, for config_reload_file */
    char **argv;
    const char *(*getenv_fn)(const char *);
    unsigned char rank[S_COUNT];   /* enum config_layer that set each setting */
    const char *env_name[S_COUNT]; /* the variable, when rank is LAYER_ENV */
    struct config_secret secret[SECRET_COUNT];
    char *clouds_path; /* the clouds.yaml --os-cloud read, or NULL */
    char *secure_path; /* its secure.yaml, or NULL */
    char **warnings;
    size_t n_warnings;
};

struct parse {
    struct config *c;
    struct config_private *v;
    FILE *out;
    const char *(*getenv_fn)(const char *);
    enum config_layer layer; /* of the values being applied */
    const char *who;         /* names the value in problems: "--poll.interval", "OS_PROJECT_ID",
                                "FILE:3:5: key poll.interval" */
    const char *env_name;    /* the variable being applied (LAYER_ENV) */
    int check;               /* --config.check: go on after a problem */
    char **problems;
    size_t n_problems, dropped;
    int nomem; /* a problem could not be recorded */
};

struct flag;
/* Apply one value of flag f. Returns CONFIG_OK, CONFIG_EXIT, or CONFIG_ERROR (problem recorded). */
typedef int (*flag_setter)(struct parse *p, const struct flag *f, const char *val);

enum flag_type {
    FLAG_VALUE, /* --name=VALUE or --name VALUE */
    FLAG_BOOL,  /* --name, --no-name, --name=true|false */
    FLAG_ACTION /* --help, --version: no value */
};

/* Where a setting may be given besides the command line. */
enum flag_scope {
    SCOPE_ANY = 0,  /* also a config file key */
    SCOPE_ARGV_ONLY /* --help, --version, --config.file, --config.check */
};

struct flag {
    const char *name; /* without the leading "--" */
    enum flag_type type;
    const char *metavar;
    const char *def;      /* default applied before parsing and shown by --help, or NULL */
    const char *def_text; /* what --help shows when the default is not a literal, or NULL */
    const char *help;
    flag_setter set;
    enum flag_scope scope;
    const char *key; /* config file key when it is not the derived one ("jobs.ids"), or NULL */
    int arg;         /* for shared setters: the secret slot, ... */
};

/* ---- flags.c ---- */

extern const struct flag config_flags[S_COUNT];
/* Apply every default through its setter (layer DEFAULT). CONFIG_OK or CONFIG_ERROR. */
int cfg_flags_defaults(struct parse *p);
/* Apply argv (layer FLAG). CONFIG_OK, CONFIG_EXIT or CONFIG_ERROR. */
int cfg_flags_argv(struct parse *p, int argc, char **argv);
/* The config file key of flag f into buf ("web.listen_address", "jobs.ids"); "" for --help. */
void cfg_flag_key(const struct flag *f, char *buf, size_t len);
/* Parse a boolean: true/false, 1/0, t/f (kingpin's spellings). -1 if none. */
int cfg_parse_bool(const char *v);
/* Run setting s's setter for val with p->who set to who. */
int cfg_flag_set(struct parse *p, enum setting s, const char *who, const char *val);
/* The profile table's names, comma separated, into buf. */
void cfg_known_profiles(char *buf, size_t len);

/* ---- values.c ---- */

/* Split "host:port", ":port" or "[v6]:port": NULL with the host span and port, or why not. */
const char *cfg_split_listen(const char *v, const char **host, size_t *hlen, uint16_t *port);
/* Why s is not a telemetry path, or NULL. */
const char *cfg_telemetry_path_problem(const char *s);
/* Why the URL is not an API base URL, or NULL; *alen, *skip describe it for set_url. */
const char *cfg_url_problem(const char *val, size_t *skip, size_t *alen);
/* Is the host of a validated http(s) URL loopback? */
int cfg_url_host_is_loopback(const char *url);

/* ---- config.c: shared helpers ---- */

/* Escape n bytes of s for a message into buf; cut at CONFIG_SHOW_MAX. Returns buf. */
const char *cfg_show(char buf[CONFIG_SHOW_BUF], const char *s, size_t n);
/* Write one line to err (if err and errsz > 0); truncated to fit. */
void cfg_set_err(char *err, size_t errsz, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Record a problem line "WHO: reason" (who = p->who). Returns CONFIG_ERROR. */
int cfg_problem(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a problem line as given (no who prefix). Returns CONFIG_ERROR. */
int cfg_problem_line(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Join p's problems into err, one per line (see config_parse). */
void cfg_problems_format(const struct parse *p, char *err, size_t errsz);
/* Free p's problem list. */
void cfg_problems_free(struct parse *p);
/* Record an out-of-memory problem for p->who. Returns CONFIG_ERROR. */
int cfg_problem_oom(struct parse *p);
/* Add a warning line for main to log. 0 or -ENOMEM. */
int config_warn(struct config_private *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/*
 * May the current layer set setting s? Records the layer (and the variable)
 * when it may. A setter validates first, then claims, then stores.
 */
int cfg_claim(struct parse *p, enum setting s);
/* Replace *slot by a copy of s[0..n). Returns 0 or -ENOMEM (*slot unchanged). */
int cfg_replace_str(char **slot, const char *s, size_t n);
/* strerror_r into buf, never failing. Returns buf. */
const char *cfg_errno_text(int err, char buf[CONFIG_ERRNO_TEXT]);
/* Where setting s's value came from ("--auth.username", "OS_USERNAME", "auth.username in F"). */
const char *cfg_setting_origin(const struct config *c, enum setting s, char *buf, size_t len);
/* Is s[0..n) a project ID: 1..64 of [A-Za-z0-9_-]? */
int cfg_project_id_valid(const char *s, size_t n);

/* ---- jobs_file.c ---- */

/*
 * Read the whole regular file at path, at most max bytes. Returns 0 with a
 * malloc'd buffer (caller frees) and its length, -EFBIG if larger, -EINVAL
 * with *kind set if it is not a regular file, or -errno. *st gets its stat
 * when st is non-NULL. Never blocks on a FIFO.
 */
int config_read_file(const char *path, size_t max, char **out, size_t *out_len, const char **kind,
                     struct stat *st);
/* Why "PROFILE:ID" / "ID" s[0..n) is not a job reference, or NULL; the ID part in *id, *idlen. */
const char *cfg_job_ref_problem(const char *s, size_t n, const char **id, size_t *idlen, char *buf,
                                size_t len);
/*
 * Open path for reading without blocking on a FIFO, and refuse anything that is
 * not a regular file (-EINVAL, *kind: "a directory", "a FIFO", ...). Returns
 * the fd (fstat in *st) or a negative errno.
 */
int cfg_open_regular(const char *path, struct stat *st, const char **kind);
/* The bit of config.profiles_named for the profile "PROFILE:ID" s[0..n) names, 0 for a bare ID. */
unsigned cfg_job_ref_profile_bit(const char *s, size_t n);
/* Load c->jobs_file (at the end of config_parse). CONFIG_OK or CONFIG_ERROR. */
int cfg_jobs_file_load(struct parse *p);

/* ---- config_file.c ---- */

/* Read and apply --config.file (layer FILE), every problem recorded. CONFIG_OK or CONFIG_ERROR. */
int config_file_load(struct parse *p, const char *path);
/* The same for a text already in memory. */
int config_file_apply(struct parse *p, const char *path, const char *text, size_t len);

/* Load the one YAML document of text. CONFIG_OK with *doc (yaml_document_delete it, also
 * when it is empty), or CONFIG_ERROR with the syntax problem recorded and *doc empty. */
int cfg_yaml_load(struct parse *p, const char *path, const char *text, size_t len,
                  yaml_document_t *doc);
/* "PATH:LINE:COLUMN" (escaped, 1-based) of node n into buf. */
const char *cfg_yaml_where(const char *path, const yaml_node_t *n, char *buf, size_t len);
/* The value of scalar key in mapping map, or NULL. */
yaml_node_t *cfg_yaml_get(yaml_document_t *d, yaml_node_t *map, const char *key);
/* Is n a plain scalar meaning null: empty, ~, null? */
int cfg_yaml_is_null(const yaml_node_t *n);
/* "a mapping", "a list", "nothing", "a single value": for type errors. */
const char *cfg_yaml_kind(const yaml_node_t *n);

/* ---- credentials.c ---- */

/* Apply the OS_* variables (layer ENV). CONFIG_OK or CONFIG_ERROR. */
int credentials_apply_env(struct parse *p);
/* Read --os-cloud's clouds.yaml + secure.yaml (layer CLOUDS). CONFIG_OK or CONFIG_ERROR. */
int credentials_apply_clouds(struct parse *p);
/* Read the winning secret files / values into c's secret fields. CONFIG_OK or CONFIG_ERROR. */
int credentials_resolve(struct parse *p);
/* Check that the chosen auth method has what it needs (not with --demo). */
int credentials_validate(struct parse *p);
/* The shared setter of the *_file settings (f->arg is the slot). */
int cfg_set_secret_file(struct parse *p, const struct flag *f, const char *val);

#endif
