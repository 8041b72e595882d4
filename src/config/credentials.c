/*
 * credentials: where the login comes from. It owns the OS_* variables the
 * openstack CLI and Terraform users already have, --os-cloud's clouds.yaml
 * and secure.yaml, the *_file secrets (reading them, warning about loose
 * permissions, checking what they hold), which auth method is used
 * (config_auth_choose) and what each method requires.
 *
 * Secrets (token, password, access and secret key) have one slot each
 * (config_private.h). A slot is filled by the layer that wins: an *_file
 * flag or key names a file, a variable (OS_AUTH_TOKEN, ...) or clouds.yaml
 * gives the value inline. Only the winner is read, once every layer is
 * merged; its value is copied into an exactly sized buffer and every other
 * copy is wiped (secret.h). A secret value never appears in a message.
 *
 * Secret files: a regular file, at most AUTH_TOKEN_MAX (token) or
 * CONFIG_SECRET_MAX bytes; one trailing newline (LF or CRLF) is removed, as
 * `echo` and editors leave one. A file that its group or every user can read
 * is used, with a warning that main logs, the way ssh complains about a key
 * file (ssh refuses; we do not, because Kubernetes mounts secrets 0644 and
 * Docker 0444 by default, inside a container where no other user exists).
 *
 * clouds.yaml: the file the openstack CLI reads, searched as it does
 * ($OS_CLIENT_CONFIG_FILE, else ./clouds.yaml, ~/.config/openstack/clouds.yaml,
 * /etc/openstack/clouds.yaml, the first found), and secure.yaml
 * ($OS_CLIENT_SECURE_FILE or the same directories) merged over it. Of the
 * cloud named by --os-cloud we read auth.{auth_url, username, password,
 * token, project_id, project_name, user_domain_name or domain_name},
 * region_name (the project name when none is given: OTC names a region's
 * main project after the region), cacert, and OTC's ak/sk; other keys belong
 * to other tools and are ignored.
 */
#include "config_private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "secret.h"

#define CLOUDS_DIRS 3

/* OS_* variables that set a setting; `unless` is a variable that takes precedence. */
static const struct {
    const char *var;
    enum setting s;
    const char *unless;
} env_settings[] = {
    {"OS_CLOUD", S_OS_CLOUD, NULL},
    {"OS_AUTH_URL", S_IAM_ENDPOINT, NULL},
    {"OS_USERNAME", S_USERNAME, NULL},
    {"OS_USER_DOMAIN_NAME", S_USER_DOMAIN, NULL},
    {"OS_DOMAIN_NAME", S_USER_DOMAIN, "OS_USER_DOMAIN_NAME"},
    {"OS_PROJECT_ID", S_PROJECT_ID, NULL},
    {"OS_PROJECT_NAME", S_PROJECT_NAME, NULL},
};

/* OS_* variables that give a secret inline, and the *_file setting they compete with. */
static const struct {
    const char *var;
    enum setting s;
} env_secrets[] = {
    {"OS_AUTH_TOKEN", S_TOKEN_FILE},
    {"OS_PASSWORD", S_PASSWORD_FILE},
    {"OS_ACCESS_KEY", S_ACCESS_KEY_FILE},
    {"OS_SECRET_KEY", S_SECRET_KEY_FILE},
};

static const char *const secret_what[SECRET_COUNT] = {"token", "password", "access key",
                                                      "secret key"};

const char *config_auth_method_name(enum config_auth_method m)
{
    switch (m) {
    case CONFIG_AUTH_TOKEN:
        return "token";
    case CONFIG_AUTH_PASSWORD:
        return "password";
    case CONFIG_AUTH_AKSK:
        return "aksk";
    case CONFIG_AUTH_AUTO:
    default:
        return "auto";
    }
}

/* A variable's value, NULL when unset or empty (empty counts as unset). */
static const char *env_get(const struct parse *p, const char *name)
{
    const char *v = p->getenv_fn(name);

    return v && v[0] ? v : NULL;
}

/* Put an inline secret in setting s's slot, if the current layer may. */
static int set_inline_secret(struct parse *p, enum setting s, const char *val, size_t n)
{
    struct config_secret *sec = &p->v->secret[config_flags[s].arg];
    char *d;

    if (!cfg_claim(p, s))
        return CONFIG_OK;
    d = strndup(val, n);
    if (!d)
        return cfg_problem_oom(p);
    secret_free(sec->value);
    free(sec->path);
    free(sec->from);
    sec->path = NULL;
    sec->from = NULL;
    sec->value = d;
    return CONFIG_OK;
}

int cfg_set_secret_file(struct parse *p, const struct flag *f, const char *val)
{
    struct config_secret *sec = &p->v->secret[f->arg];
    size_t n = strlen(val);

    if (n == 0)
        return cfg_problem(p, "empty path");
    if (n > CONFIG_PATH_MAX)
        return cfg_problem(p, "path too long (max %d bytes)", CONFIG_PATH_MAX);
    if (!cfg_claim(p, (enum setting)(f - config_flags)))
        return CONFIG_OK;
    if (cfg_replace_str(&sec->path, val, n) < 0)
        return cfg_problem_oom(p);
    secret_free(sec->value);
    free(sec->from);
    sec->value = NULL;
    sec->from = NULL;
    return CONFIG_OK;
}

int credentials_apply_env(struct parse *p)
{
    const char *val;
    size_t i;

    p->layer = LAYER_ENV;
    for (i = 0; i < sizeof(env_settings) / sizeof(env_settings[0]); i++) {
        val = env_get(p, env_settings[i].var);
        if (!val || (env_settings[i].unless && env_get(p, env_settings[i].unless)))
            continue;
        /* set by a flag: the variable is not even looked at */
        if (p->v->rank[env_settings[i].s] > LAYER_ENV)
            continue;
        p->env_name = env_settings[i].var;
        cfg_flag_set(p, env_settings[i].s, env_settings[i].var, val);
        if (p->nomem)
            return CONFIG_ERROR;
    }
    for (i = 0; i < sizeof(env_secrets) / sizeof(env_secrets[0]); i++) {
        val = env_get(p, env_secrets[i].var);
        if (!val || p->v->rank[env_secrets[i].s] > LAYER_ENV)
            continue;
        p->env_name = env_secrets[i].var;
        p->who = env_secrets[i].var;
        if (set_inline_secret(p, env_secrets[i].s, val, strlen(val)) != CONFIG_OK)
            return CONFIG_ERROR;
    }
    p->env_name = NULL;
    return p->n_problems ? CONFIG_ERROR : CONFIG_OK;
}

/* ---- clouds.yaml ---------------------------------------------------------- */

/* The first of the openstack CLI's places holding name, or NULL (malloc'd). */
static char *find_cloud_file(const struct parse *p, const char *name, const char *env)
{
    char path[CONFIG_LINE_MAX];
    const char *dirs[CLOUDS_DIRS], *home = env_get(p, "HOME"), *over = env_get(p, env);
    size_t i;

    if (over)
        return strdup(over);
    dirs[0] = ".";
    dirs[1] = home;
    dirs[2] = "/etc/openstack";
    for (i = 0; i < CLOUDS_DIRS; i++) {
        if (!dirs[i])
            continue;
        snprintf(path, sizeof(path), "%s%s/%s", dirs[i], i == 1 ? "/.config/openstack" : "", name);
        if (access(path, F_OK) == 0)
            return strdup(path);
    }
    return NULL;
}

/* One clouds.yaml value: where it is, and which setting or secret it feeds. */
static const struct {
    int in_auth; /* under the cloud's auth: mapping, else at the cloud's level */
    const char *key;
    enum setting s;
    int secret; /* the value is a secret: goes to s's slot */
} cloud_keys[] = {
    {1, "auth_url", S_IAM_ENDPOINT, 0},   {1, "username", S_USERNAME, 0},
    {1, "project_id", S_PROJECT_ID, 0},   {1, "project_name", S_PROJECT_NAME, 0},
    {1, "domain_name", S_USER_DOMAIN, 0}, {1, "user_domain_name", S_USER_DOMAIN, 0},
    {1, "password", S_PASSWORD_FILE, 1},  {1, "token", S_TOKEN_FILE, 1},
    {0, "ak", S_ACCESS_KEY_FILE, 1},      {0, "sk", S_SECRET_KEY_FILE, 1},
    {0, "cacert", S_TLS_CA_FILE, 0},
};

struct cloud_read {
    const char *path;
    const char *cloud;
    mode_t mode;
    int found;    /* the cloud is in this file */
    char *region; /* its region_name, if any */
};

/* Apply one value of the cloud (p->who set). */
static void apply_cloud_value(struct parse *p, struct cloud_read *r, size_t i, const yaml_node_t *n)
{
    const char *v = (const char *)n->data.scalar.value;
    struct config_secret *sec;

    if (n->type != YAML_SCALAR_NODE || cfg_yaml_is_null(n)) {
        cfg_problem(p, "expected a single value, got %s", cfg_yaml_kind(n));
        return;
    }
    if (strlen(v) != n->data.scalar.length) {
        cfg_problem(p, "contains a NUL byte");
        return;
    }
    if (!cloud_keys[i].secret) {
        cfg_flag_set(p, cloud_keys[i].s, p->who, v);
        return;
    }
    if (set_inline_secret(p, cloud_keys[i].s, v, n->data.scalar.length) != CONFIG_OK ||
        p->v->rank[cloud_keys[i].s] != LAYER_CLOUDS)
        return;
    /* remembered for the permission warning, given only if this value is the one used */
    sec = &p->v->secret[config_flags[cloud_keys[i].s].arg];
    if (cfg_replace_str(&sec->from, r->path, strlen(r->path)) < 0)
        cfg_problem_oom(p);
    sec->mode = r->mode;
}

/* Read the cloud r->cloud of the clouds.yaml or secure.yaml at r->path (layer CLOUDS). */
static void read_cloud_file(struct parse *p, struct cloud_read *r)
{
    char sb[CONFIG_SHOW_BUF], eb[CONFIG_ERRNO_TEXT], who[CONFIG_SHOW_BUF * 2 + 128],
        where[CONFIG_SHOW_BUF + 64], cs[CONFIG_SHOW_BUF];
    const char *kind = NULL;
    yaml_document_t doc;
    yaml_node_t *root, *clouds, *entry, *auth, *n;
    struct stat st;
    char *text = NULL;
    size_t len = 0, i;
    int rc;

    rc = config_read_file(r->path, CONFIG_FILE_MAX, &text, &len, &kind, &st);
    if (rc < 0) {
        if (rc == -EINVAL && kind)
            snprintf(eb, sizeof(eb), "not a regular file (%s)", kind);
        else if (rc == -EFBIG)
            snprintf(eb, sizeof(eb), "larger than %u bytes", CONFIG_FILE_MAX);
        else
            cfg_errno_text(-rc, eb);
        cfg_problem(p, "cannot read \"%s\": %s", cfg_show(sb, r->path, strlen(r->path)), eb);
        return;
    }
    r->mode = st.st_mode;
    rc = cfg_yaml_load(p, r->path, text, len, &doc);
    if (rc == CONFIG_OK) {
        root = yaml_document_get_root_node(&doc);
        clouds = cfg_yaml_get(&doc, root, "clouds");
        entry = cfg_yaml_get(&doc, clouds, r->cloud);
        if (!clouds || clouds->type != YAML_MAPPING_NODE) {
            cfg_problem_line(p, "%s: no \"clouds:\" mapping",
                             root ? cfg_yaml_where(r->path, root, where, sizeof(where))
                                  : cfg_show(sb, r->path, strlen(r->path)));
        } else if (entry && entry->type != YAML_MAPPING_NODE) {
            cfg_problem_line(p, "%s: clouds.%s: expected a mapping, got %s",
                             cfg_yaml_where(r->path, entry, where, sizeof(where)),
                             cfg_show(cs, r->cloud, strlen(r->cloud)), cfg_yaml_kind(entry));
        } else if (entry) {
            r->found = 1;
            auth = cfg_yaml_get(&doc, entry, "auth");
            if (auth && auth->type != YAML_MAPPING_NODE) {
                cfg_problem_line(p, "%s: clouds.%s.auth: expected a mapping, got %s",
                                 cfg_yaml_where(r->path, auth, where, sizeof(where)),
                                 cfg_show(cs, r->cloud, strlen(r->cloud)), cfg_yaml_kind(auth));
                auth = NULL;
            }
            for (i = 0; i < sizeof(cloud_keys) / sizeof(cloud_keys[0]); i++) {
                n = cfg_yaml_get(&doc, cloud_keys[i].in_auth ? auth : entry, cloud_keys[i].key);
                if (!n)
                    continue;
                snprintf(who, sizeof(who), "%s: clouds.%s.%s%s",
                         cfg_yaml_where(r->path, n, where, sizeof(where)),
                         cfg_show(cs, r->cloud, strlen(r->cloud)),
                         cloud_keys[i].in_auth ? "auth." : "", cloud_keys[i].key);
                p->who = who;
                apply_cloud_value(p, r, i, n);
            }
            n = cfg_yaml_get(&doc, entry, "region_name");
            if (n && n->type == YAML_SCALAR_NODE && !cfg_yaml_is_null(n)) {
                free(r->region);
                r->region = strndup((const char *)n->data.scalar.value, n->data.scalar.length);
                if (!r->region)
                    cfg_problem_oom(p);
            }
        }
        yaml_document_delete(&doc);
    }
    free(text);
}

int credentials_apply_clouds(struct parse *p)
{
    struct config *c = p->c;
    char origin[CONFIG_ORIGIN_MAX], who[CONFIG_ORIGIN_MAX], sb[CONFIG_SHOW_BUF],
        s1[CONFIG_SHOW_BUF], s2[CONFIG_SHOW_BUF];
    struct cloud_read r[2];
    size_t i;

    if (!c->os_cloud)
        return CONFIG_OK;
    p->layer = LAYER_CLOUDS;
    p->who = cfg_setting_origin(c, S_OS_CLOUD, who, sizeof(who));
    p->v->clouds_path = find_cloud_file(p, "clouds.yaml", "OS_CLIENT_CONFIG_FILE");
    p->v->secure_path = find_cloud_file(p, "secure.yaml", "OS_CLIENT_SECURE_FILE");
    if (!p->v->clouds_path && !p->v->secure_path)
        return cfg_problem(
            p,
            "no clouds.yaml found for cloud \"%s\" (looked for $OS_CLIENT_CONFIG_FILE, "
            "./clouds.yaml, ~/.config/openstack/clouds.yaml, "
            "/etc/openstack/clouds.yaml)",
            cfg_show(sb, c->os_cloud, strlen(c->os_cloud)));
    memset(r, 0, sizeof(r));
    r[0].path = p->v->clouds_path;
    r[1].path = p->v->secure_path; /* merged over clouds.yaml: the same layer, applied later */
    for (i = 0; i < 2; i++) {
        if (!r[i].path)
            continue;
        r[i].cloud = c->os_cloud;
        p->who = cfg_setting_origin(c, S_OS_CLOUD, who, sizeof(who));
        read_cloud_file(p, &r[i]);
    }
    p->who = cfg_setting_origin(c, S_OS_CLOUD, who, sizeof(who));
    if (!r[0].found && !r[1].found && p->n_problems == 0)
        cfg_problem(p, "cloud \"%s\" is not in %s%s%s",
                    cfg_show(sb, c->os_cloud, strlen(c->os_cloud)),
                    r[0].path ? cfg_show(s1, r[0].path, strlen(r[0].path)) : "",
                    r[0].path && r[1].path ? " nor in " : "",
                    r[1].path ? cfg_show(s2, r[1].path, strlen(r[1].path)) : "");
    /* OTC names a region's main project after the region: the scope when none is given */
    if (!c->project_id && !c->project_name && (r[1].region || r[0].region)) {
        const char *region = r[1].region ? r[1].region : r[0].region;

        snprintf(origin, sizeof(origin), "clouds.%s.region_name", c->os_cloud);
        p->who = origin;
        cfg_flag_set(p, S_PROJECT_NAME, origin, region);
    }
    free(r[0].region);
    free(r[1].region);
    return p->n_problems ? CONFIG_ERROR : CONFIG_OK;
}

/* ---- reading and checking secrets -------------------------------------------------- */

/*
 * Read the secret file at path: at most max bytes after one trailing newline
 * is removed, into an exactly sized string (*out, wiped by the caller with
 * secret_free); no copy is left behind. Returns 0, -EFBIG, -EINVAL (*kind:
 * not a regular file) or -errno; *mode gets the file's mode.
 */
static int read_secret_file(const char *path, size_t max, char **out, size_t *out_len, mode_t *mode,
                            const char **kind)
{
    size_t cap = max + 3, len = 0; /* room for "\r\n" and one byte to see "too long" */
    struct stat st;
    char *buf = NULL;
    ssize_t n;
    int fd, rc = 0;

    fd = cfg_open_regular(path, &st, kind);
    if (fd < 0)
        return fd;
    *mode = st.st_mode;
    buf = malloc(cap);
    if (!buf) {
        rc = -ENOMEM;
        goto out;
    }
    while (len < cap) {
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    if (len > 0 && buf[len - 1] == '\n')
        len--;
    if (len > 0 && buf[len - 1] == '\r')
        len--;
    if (len > max) {
        rc = -EFBIG;
        goto out;
    }
    *out = strndup(buf, len); /* stops at a NUL: the caller compares lengths */
    if (!*out) {
        rc = -ENOMEM;
        goto out;
    }
    *out_len = len;
out:
    if (buf) {
        explicit_bzero(buf, cap);
        free(buf);
    }
    close(fd);
    return rc;
}

/* Why value (len bytes, may hold a NUL) is not a usable secret of slot, or NULL. */
static const char *secret_problem(enum secret_slot slot, const char *value, size_t len)
{
    size_t i;

    if (len == 0)
        return "is empty";
    if (strlen(value) != len)
        return "contains a NUL byte";
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)value[i];

        if (slot == SECRET_PASSWORD) {
            if (ch == '\n' || ch == '\r')
                return "contains a line break";
        } else if (ch <= 0x20 || ch >= 0x7f) {
            return "contains whitespace, control or non-ASCII characters";
        }
    }
    return NULL;
}

/* The field of c a slot fills. */
static char **secret_field(struct config *c, enum secret_slot slot)
{
    switch (slot) {
    case SECRET_TOKEN:
        return &c->auth_token;
    case SECRET_PASSWORD:
        return &c->password;
    case SECRET_ACCESS_KEY:
        return &c->access_key;
    case SECRET_SECRET_KEY:
    default:
        return &c->secret_key;
    }
}

static void resolve_one(struct parse *p, enum setting s)
{
    enum secret_slot slot = (enum secret_slot)config_flags[s].arg;
    struct config_secret *sec = &p->v->secret[slot];
    char origin[CONFIG_ORIGIN_MAX], name[CONFIG_ORIGIN_MAX + CONFIG_SHOW_BUF], sb[CONFIG_SHOW_BUF],
        eb[CONFIG_ERRNO_TEXT];
    size_t max = slot == SECRET_TOKEN ? AUTH_TOKEN_MAX : CONFIG_SECRET_MAX, len = 0;
    const char *kind = NULL, *why;
    char *value = NULL;
    mode_t mode = 0;
    int rc;

    cfg_setting_origin(p->c, s, origin, sizeof(origin));
    if (sec->path) {
        snprintf(name, sizeof(name), "%s: \"%s\"", origin,
                 cfg_show(sb, sec->path, strlen(sec->path)));
        rc = read_secret_file(sec->path, max, &value, &len, &mode, &kind);
        if (rc == -EFBIG) {
            cfg_problem_line(p, "%s is longer than %zu bytes", name, max);
            return;
        }
        if (rc == -EINVAL && kind) {
            cfg_problem_line(p, "%s is not a regular file (%s)", name, kind);
            return;
        }
        if (rc == -ENOMEM) {
            p->nomem = 1;
            cfg_problem_line(p, "%s: out of memory", origin);
            return;
        }
        if (rc < 0) {
            cfg_problem_line(p, "%s: cannot read \"%s\": %s", origin,
                             cfg_show(sb, sec->path, strlen(sec->path)), cfg_errno_text(-rc, eb));
            return;
        }
        if ((mode & 044) &&
            config_warn(p->v, "%s holds the %s and is readable by %s (mode %04o); chmod 600 it",
                        name, secret_what[slot], (mode & 04) ? "every user" : "its group",
                        (unsigned)(mode & 07777)) < 0) {
            secret_free(value);
            cfg_problem_oom(p);
            return;
        }
    } else if (sec->value) {
        snprintf(name, sizeof(name), "%s", origin);
        if (sec->from && (sec->mode & 044) &&
            config_warn(p->v,
                        "--os-cloud: \"%s\" holds the %s of cloud \"%s\" and is readable by %s "
                        "(mode %04o)",
                        cfg_show(sb, sec->from, strlen(sec->from)), secret_what[slot],
                        p->c->os_cloud ? p->c->os_cloud : "",
                        (sec->mode & 04) ? "every user" : "its group",
                        (unsigned)(sec->mode & 07777)) < 0) {
            cfg_problem_oom(p);
            return;
        }
        len = strlen(sec->value);
        if (len > max) {
            cfg_problem_line(p, "%s is longer than %zu bytes", name, max);
            return;
        }
        value = strdup(sec->value);
        if (!value) {
            cfg_problem_oom(p);
            return;
        }
    } else {
        return;
    }
    why = secret_problem(slot, value, len);
    if (why) {
        secret_free(value);
        cfg_problem_line(p, "%s %s", name, why);
        return;
    }
    secret_free(*secret_field(p->c, slot));
    *secret_field(p->c, slot) = value;
}

int credentials_resolve(struct parse *p)
{
    resolve_one(p, S_TOKEN_FILE);
    resolve_one(p, S_PASSWORD_FILE);
    resolve_one(p, S_ACCESS_KEY_FILE);
    resolve_one(p, S_SECRET_KEY_FILE);
    return p->n_problems ? CONFIG_ERROR : CONFIG_OK;
}

/* ---- the auth method ------------------------------------------------------------- */

/* Append text to buf (len bytes, NUL-terminated), cutting what does not fit. */
static void append(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strnlen(buf, len);
    va_list ap;

    if (used + 1 >= len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

/* "what (origin)" for a set credential. */
static const char *from(const struct config *c, enum setting s, char *buf, size_t len)
{
    return cfg_setting_origin(c, s, buf, len);
}

/* List what a password login still lacks into why. Returns how many are missing. */
static int missing_password(const struct config *c, char *why, size_t len)
{
    int n = 0;

    if (!c->username) {
        append(why, len, "%susername (--auth.username, OS_USERNAME)", n++ ? ", " : "");
    }
    if (!c->password) {
        append(why, len, "%spassword (OS_PASSWORD, --auth.password-file)", n++ ? ", " : "");
    }
    if (!c->iam_endpoint) {
        append(why, len, "%sIAM endpoint (--auth.iam-endpoint, OS_AUTH_URL)", n++ ? ", " : "");
    }
    return n;
}

static int missing_aksk(const struct config *c, char *why, size_t len)
{
    int n = 0;

    if (!c->access_key)
        append(why, len, "%saccess key (OS_ACCESS_KEY, --auth.access-key-file)", n++ ? ", " : "");
    if (!c->secret_key)
        append(why, len, "%ssecret key (OS_SECRET_KEY, --auth.secret-key-file)", n++ ? ", " : "");
    return n;
}

int config_auth_choose(const struct config *c, enum config_auth_method *out, char *why,
                       size_t whysz)
{
    char o1[CONFIG_ORIGIN_MAX], o2[CONFIG_ORIGIN_MAX], o3[CONFIG_ORIGIN_MAX];
    char tmp[CONFIG_LINE_MAX];
    int have_token = c->auth_token != NULL, have_aksk = c->access_key && c->secret_key,
        have_pw = c->username && c->password && c->iam_endpoint;
    enum config_auth_method m = c->auth_method;
    const char *head = m == CONFIG_AUTH_AUTO ? "auto" : "--auth.method";

    if (!why || whysz == 0) {
        why = tmp;
        whysz = sizeof(tmp);
    }
    why[0] = '\0';
    if (m == CONFIG_AUTH_AUTO)
        m = have_token  ? CONFIG_AUTH_TOKEN
            : have_aksk ? CONFIG_AUTH_AKSK
            : have_pw   ? CONFIG_AUTH_PASSWORD
                        : CONFIG_AUTH_AUTO;
    switch (m) {
    case CONFIG_AUTH_TOKEN:
        if (!have_token) {
            cfg_set_err(why, whysz,
                        "--auth.method=token needs a token: set OS_AUTH_TOKEN or "
                        "--auth.token-file / auth.token_file");
            return -ENOENT;
        }
        cfg_set_err(why, whysz, "%s: token from %s", head, from(c, S_TOKEN_FILE, o1, sizeof(o1)));
        break;
    case CONFIG_AUTH_AKSK:
        if (!have_aksk) {
            cfg_set_err(why, whysz, "--auth.method=aksk needs an access key pair; missing: ");
            missing_aksk(c, why, whysz);
            return -ENOENT;
        }
        cfg_set_err(why, whysz, "%s: %saccess key from %s, secret key from %s", head,
                    c->auth_method == CONFIG_AUTH_AUTO ? "no token; " : "",
                    from(c, S_ACCESS_KEY_FILE, o1, sizeof(o1)),
                    from(c, S_SECRET_KEY_FILE, o2, sizeof(o2)));
        break;
    case CONFIG_AUTH_PASSWORD:
        if (!have_pw) {
            cfg_set_err(why, whysz,
                        "--auth.method=password needs a username, password and IAM "
                        "endpoint; missing: ");
            missing_password(c, why, whysz);
            return -ENOENT;
        }
        cfg_set_err(why, whysz,
                    "%s: %spassword login as user from %s, password from %s, at IAM from %s", head,
                    c->auth_method == CONFIG_AUTH_AUTO ? "no token or access key pair; " : "",
                    from(c, S_USERNAME, o1, sizeof(o1)), from(c, S_PASSWORD_FILE, o2, sizeof(o2)),
                    from(c, S_IAM_ENDPOINT, o3, sizeof(o3)));
        break;
    case CONFIG_AUTH_AUTO:
    default:
        cfg_set_err(why, whysz,
                    "no credentials: set OS_AUTH_TOKEN (or --auth.token-file), an access key pair "
                    "(OS_ACCESS_KEY and OS_SECRET_KEY), or a username, password and IAM endpoint "
                    "(OS_USERNAME, OS_PASSWORD, OS_AUTH_URL), or name a cloud of clouds.yaml "
                    "(--os-cloud)");
        if (c->access_key || c->secret_key) {
            append(why, whysz, "; for the access key pair, missing: ");
            missing_aksk(c, why, whysz);
        } else if (c->username || c->password || c->iam_endpoint) {
            append(why, whysz, "; for a password login, missing: ");
            missing_password(c, why, whysz);
        }
        return -ENOENT;
    }
    if (have_token + have_aksk + have_pw > 1)
        append(why, whysz, " (other credentials are configured too and not used)");
    *out = m;
    return 0;
}

int credentials_validate(struct parse *p)
{
    struct config *c = p->c;
    enum config_auth_method m;
    char why[CONFIG_LINE_MAX];

    if (config_auth_choose(c, &m, why, sizeof(why)) != 0)
        return cfg_problem_line(p, "%s", why);
    if (m == CONFIG_AUTH_PASSWORD) {
        if (!c->user_domain_name)
            cfg_problem_line(p, "password auth needs the user's domain: --auth.user-domain-name, "
                                "auth.user_domain_name or OS_USER_DOMAIN_NAME");
        if (!c->allow_insecure_http && strncmp(c->iam_endpoint, "http://", 7) == 0 &&
            !cfg_url_host_is_loopback(c->iam_endpoint))
            cfg_problem_line(p, "--auth.iam-endpoint: plain http:// to a host that is not loopback "
                                "would send the password unencrypted; use https://, or set "
                                "--elb.allow-insecure-http to allow it");
        if (!c->project_id && !c->project_name)
            cfg_problem_line(p, "--elb.project-id (or OS_PROJECT_ID) is required, or for password "
                                "auth a project name (--auth.project-name, OS_PROJECT_NAME)");
    } else if (!c->project_id) {
        cfg_problem_line(p, "--elb.project-id or OS_PROJECT_ID is required%s",
                         m == CONFIG_AUTH_AKSK ? " (AK/SK signing needs it)" : "");
    }
    return p->n_problems ? CONFIG_ERROR : CONFIG_OK;
}
