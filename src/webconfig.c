/*
 * webconfig: the exporter-toolkit web configuration file (see webconfig.h).
 *
 * Read with libyaml's document API, like config_file.c reads --config.file:
 * only the mappings the layout defines are descended into, a node reached
 * twice (a YAML alias) is refused, and the walk stops after
 * WEBCONFIG_PROBLEMS_MAX problems, so no input costs more than its size.
 *
 * Values are taken the way exporter-toolkit's YAML library (yaml.v2) takes
 * them: any scalar is a string (a plain `123` is "123"), a null or empty value
 * is the default, booleans are true/false (yes/no, on/off).
 */
#include "webconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "timeutil.h"

#define WEBCONFIG_PROBLEMS_MAX 50 /* problems reported before the walk gives up */
#define SHOW_MAX 64               /* bytes of a quoted value in a problem */
#define SHOW_BUF (SHOW_MAX * 4 + 8)
#define PATH_SHOW_MAX 512                   /* bytes of the file's path in a problem */
#define WHERE_MAX (PATH_SHOW_MAX * 4 + 512) /* "PATH:LINE:COLUMN: key a.b" */

/*
 * The cipher suites of Go's tls.CipherSuites() (the ones it does not call
 * insecure), with the GnuTLS key exchange, cipher and MAC each is made of.
 * The three TLS 1.3 suites are accepted and, as in Go, change nothing.
 */
static const struct suite {
    const char *go;
    const char *kx, *cipher, *mac; /* GnuTLS priority keywords; kx NULL: TLS 1.3 */
} suites[] = {
    {"TLS_RSA_WITH_AES_128_CBC_SHA", "RSA", "AES-128-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", "RSA", "AES-256-CBC", "SHA1"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", "RSA", "AES-128-GCM", "AEAD"},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", "RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA", "AES-128-CBC", "SHA1"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA", "AES-256-CBC", "SHA1"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA", "AES-128-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA", "AES-256-GCM", "AEAD"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA", "CHACHA20-POLY1305", "AEAD"},
    {"TLS_AES_128_GCM_SHA256", NULL, NULL, NULL},
    {"TLS_AES_256_GCM_SHA384", NULL, NULL, NULL},
    {"TLS_CHACHA20_POLY1305_SHA256", NULL, NULL, NULL},
};
#define N_SUITES (sizeof(suites) / sizeof(suites[0]))

/* The ciphers of Go's TLS 1.3 suites: kept when cipher_suites narrows TLS 1.2. */
static const char *const tls13_ciphers[] = {"AES-128-GCM", "AES-256-GCM", "CHACHA20-POLY1305"};

/* exporter-toolkit's curves, with their GnuTLS groups. */
static const struct {
    const char *go, *group;
} curves[] = {
    {"CurveP256", "GROUP-SECP256R1"},
    {"CurveP384", "GROUP-SECP384R1"},
    {"CurveP521", "GROUP-SECP521R1"},
    {"X25519", "GROUP-X25519"},
};
#define N_CURVES (sizeof(curves) / sizeof(curves[0]))

static const struct {
    const char *name;
    unsigned version;
    const char *gnutls;
} versions[] = {
    {"TLS10", WEBCONFIG_TLS10, "VERS-TLS1.0"},
    {"TLS11", WEBCONFIG_TLS11, "VERS-TLS1.1"},
    {"TLS12", WEBCONFIG_TLS12, "VERS-TLS1.2"},
    {"TLS13", WEBCONFIG_TLS13, "VERS-TLS1.3"},
};
#define N_VERSIONS (sizeof(versions) / sizeof(versions[0]))

static const struct {
    const char *name;
    enum webconfig_client_auth value;
} client_auths[] = {
    {"NoClientCert", WEBCONFIG_NO_CLIENT_CERT},
    {"RequestClientCert", WEBCONFIG_REQUEST_CLIENT_CERT},
    {"RequireAnyClientCert", WEBCONFIG_REQUIRE_ANY_CLIENT_CERT},
    {"RequireClientCert", WEBCONFIG_REQUIRE_ANY_CLIENT_CERT}, /* exporter-toolkit's old name */
    {"VerifyClientCertIfGiven", WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN},
    {"RequireAndVerifyClientCert", WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT},
};

/*
 * The headers exporter-toolkit lets a file set (web/handler.go), spelled as
 * there, and the values allowed for each (NULL: any).
 */
static const struct {
    const char *name;
    const char *allowed[3];
} header_rules[WEBCONFIG_HEADERS_MAX] = {
    {"Strict-Transport-Security", {NULL}},
    {"X-Content-Type-Options", {"nosniff", NULL}},
    {"X-Frame-Options", {"deny", "sameorigin", NULL}},
    {"X-XSS-Protection", {NULL}},
    {"Content-Security-Policy", {NULL}},
};

const char *webconfig_cipher_name(unsigned i)
{
    return i < N_SUITES ? suites[i].go : NULL;
}

const char *webconfig_curve_name(unsigned i)
{
    return i < N_CURVES ? curves[i].go : NULL;
}

const char *webconfig_client_auth_name(enum webconfig_client_auth a)
{
    size_t i;

    for (i = 0; i < sizeof(client_auths) / sizeof(client_auths[0]); i++)
        if (client_auths[i].value == a)
            return client_auths[i].name;
    return "?";
}

/* ---- problems ------------------------------------------------------------- */

struct pctx {
    const char *path, *dir;
    yaml_document_t *doc;
    unsigned char *visited; /* per node: reached already (twice means an alias) */
    size_t n_nodes;
    struct webconfig *c;
    char *err;
    size_t errsz, used;
    unsigned problems, dropped;
    int nomem;
};

/* s (n bytes) escaped for a problem line (\" \\ \xNN), cut to max bytes with "...". */
static const char *show_max(char *buf, const char *s, size_t n, size_t max)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0, lim = n > max ? max : n;

    for (i = 0; i < lim; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch >= 0x20 && ch < 0x7f) {
            buf[o++] = (char)ch;
        } else {
            buf[o++] = '\\';
            buf[o++] = 'x';
            buf[o++] = hex[ch >> 4];
            buf[o++] = hex[ch & 0xf];
        }
    }
    if (n > lim) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
    return buf;
}

/* A value escaped for a problem line, cut to SHOW_MAX bytes. */
static const char *show(char buf[SHOW_BUF], const char *s, size_t n)
{
    return show_max(buf, s, n, SHOW_MAX);
}

/* Append one problem line "PATH:LINE:COLUMN: key KEY: reason" for node n. */
static void problem(struct pctx *x, const yaml_node_t *n, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void problem(struct pctx *x, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
    char line[WHERE_MAX + 512], pb[PATH_SHOW_MAX * 4 + 8];
    va_list ap;
    int k;
    size_t len;

    x->problems++;
    if (!x->err || x->errsz == 0)
        return;
    k = snprintf(line, sizeof(line),
                 "%s:%zu:%zu: ", show_max(pb, x->path, strlen(x->path), PATH_SHOW_MAX),
                 n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
    if (k < 0)
        return;
    len = (size_t)k;
    if (key && len < sizeof(line)) {
        k = snprintf(line + len, sizeof(line) - len, "key %s: ", key);
        len += k > 0 ? (size_t)k : 0;
    }
    if (len < sizeof(line)) {
        va_start(ap, fmt);
        vsnprintf(line + len, sizeof(line) - len, fmt, ap);
        va_end(ap);
    }
    len = strlen(line);
    if (!x->used && len + 48 >= x->errsz && x->errsz > 96) {
        len = x->errsz - 48 - 4; /* the first problem is always there, cut if need be */
        memcpy(line + len, "...", 4);
        len += 3;
    }
    /* whole lines only, and room kept for the count of those left out */
    if (x->used + (x->used ? 1 : 0) + len + 48 >= x->errsz) {
        x->dropped++;
        return;
    }
    if (x->used)
        x->err[x->used++] = '\n';
    memcpy(x->err + x->used, line, len + 1);
    x->used += len;
}

static void oom(struct pctx *x)
{
    if (!x->nomem)
        problem(x, NULL, NULL, "out of memory");
    x->nomem = 1;
}

/* Has the walk seen enough problems to stop? */
static int give_up(const struct pctx *x)
{
    return x->nomem || x->problems >= WEBCONFIG_PROBLEMS_MAX;
}

/* ---- YAML helpers --------------------------------------------------------- */

static int is_null(const yaml_node_t *n)
{
    const char *v;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static const char *kind(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (is_null(n))
        return "nothing";
    return "a single value";
}

/* Mark n reached. 1 the first time, 0 when reached before (an alias). */
static int first_visit(struct pctx *x, const yaml_node_t *n)
{
    size_t i = (size_t)(n - x->doc->nodes.start);

    if (i >= x->n_nodes || x->visited[i])
        return 0;
    x->visited[i] = 1;
    return 1;
}

/*
 * The text of scalar n, or NULL after a problem (not a scalar, NUL byte).
 * *len gets its length. A null scalar gives "" (the default).
 */
static const char *scalar(struct pctx *x, const yaml_node_t *n, const char *key, const char *want,
                          size_t *len)
{
    const char *v;

    if (n->type != YAML_SCALAR_NODE) {
        problem(x, n, key, "expected %s, got %s", want, kind(n));
        return NULL;
    }
    if (is_null(n)) {
        *len = 0;
        return "";
    }
    v = (const char *)n->data.scalar.value;
    if (strlen(v) != n->data.scalar.length) {
        problem(x, n, key, "contains a NUL byte");
        return NULL;
    }
    *len = n->data.scalar.length;
    return v;
}

/* A string setting into *out (replacing nothing: each key is seen once). "" leaves it NULL. */
static void take_string(struct pctx *x, const yaml_node_t *n, const char *key, char **out)
{
    size_t len;
    const char *v = scalar(x, n, key, "a string", &len);

    if (!v || len == 0)
        return;
    *out = strdup(v);
    if (!*out)
        oom(x);
}

/* A file setting: like take_string, joined with the directory when relative. */
static void take_path(struct pctx *x, const yaml_node_t *n, const char *key, char **out)
{
    size_t len, dl = strlen(x->dir);
    const char *v = scalar(x, n, key, "a file name", &len);

    if (!v || len == 0)
        return;
    if (v[0] == '/' || dl == 0 || strcmp(x->dir, ".") == 0) {
        *out = strdup(v);
    } else {
        *out = malloc(dl + 1 + len + 1);
        if (*out) {
            memcpy(*out, x->dir, dl);
            (*out)[dl] = '/';
            memcpy(*out + dl + 1, v, len + 1);
        }
    }
    if (!*out)
        oom(x);
}

/* A boolean setting; a null leaves *out at its default. */
static void take_bool(struct pctx *x, const yaml_node_t *n, const char *key, int *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes",
                                      "YES",  "on",   "On",   "ON"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No",
                                     "NO",    "off",   "Off",   "OFF"};
    char sb[SHOW_BUF];
    size_t len, i;
    const char *v = scalar(x, n, key, "true or false", &len);

    if (!v || len == 0)
        return;
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcmp(v, yes[i]) == 0) {
            *out = 1;
            return;
        }
        if (strcmp(v, no[i]) == 0) {
            *out = 0;
            return;
        }
    }
    problem(x, n, key, "invalid boolean \"%s\" (true or false)", show(sb, v, len));
}

/* Keep a note (a setting accepted but ignored); more than WEBCONFIG_NOTES_MAX are dropped. */
static void note(struct pctx *x, const char *text)
{
    if (x->c->n_notes >= WEBCONFIG_NOTES_MAX)
        return;
    x->c->notes[x->c->n_notes] = strdup(text);
    if (!x->c->notes[x->c->n_notes])
        oom(x);
    else
        x->c->n_notes++;
}

/*
 * Walk mapping n: call visit for each key: value pair, after checking that
 * the key is a plain string seen once in this mapping and the value is not an
 * alias. prefix names the mapping in problems ("" at the top).
 */
typedef void (*visit_fn)(struct pctx *x, const yaml_node_t *k, const char *key, const char *full,
                         const yaml_node_t *v, void *arg);

static void walk(struct pctx *x, const yaml_node_t *n, const char *prefix, visit_fn visit,
                 void *arg)
{
    yaml_node_pair_t *pair, *q;
    char full[WHERE_MAX], sb[SHOW_BUF];

    for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top && !give_up(x);
         pair++) {
        yaml_node_t *k = yaml_document_get_node(x->doc, pair->key);
        yaml_node_t *v = yaml_document_get_node(x->doc, pair->value);
        const char *key;
        int dup = 0;

        if (!k || !v)
            continue;
        if (k->type != YAML_SCALAR_NODE || !first_visit(x, k) ||
            strlen((const char *)k->data.scalar.value) != k->data.scalar.length) {
            problem(x, k, prefix[0] ? prefix : NULL, "a key must be a plain string, not %s",
                    k->type == YAML_SCALAR_NODE ? "one with a NUL byte or an alias" : kind(k));
            continue;
        }
        key = (const char *)k->data.scalar.value;
        snprintf(full, sizeof(full), "%s%s%s", prefix, prefix[0] ? "." : "",
                 show(sb, key, k->data.scalar.length));
        for (q = n->data.mapping.pairs.start; q < pair && !dup; q++) {
            yaml_node_t *k2 = yaml_document_get_node(x->doc, q->key);

            dup = k2 && k2->type == YAML_SCALAR_NODE &&
                  k2->data.scalar.length == k->data.scalar.length &&
                  memcmp(k2->data.scalar.value, key, k->data.scalar.length) == 0;
            if (dup)
                problem(x, k, full, "duplicate key (first at line %zu)", k2->start_mark.line + 1);
        }
        if (dup)
            continue;
        if (!first_visit(x, v)) {
            problem(x, v, full, "YAML aliases are not supported");
            continue;
        }
        visit(x, k, key, full, v, arg);
    }
}

/* Is n a mapping (or null: an empty one)? Reports a problem when it is neither. */
static int want_mapping(struct pctx *x, const yaml_node_t *n, const char *full)
{
    if (n->type == YAML_MAPPING_NODE)
        return 1;
    if (!is_null(n))
        problem(x, n, full, "expected a mapping, got %s", kind(n));
    return 0;
}

/*
 * Call item for each scalar of list n (a null is an empty list), at most max
 * of them (more is a problem).
 */
static void each_item(struct pctx *x, const yaml_node_t *n, const char *full, size_t max,
                      void (*item)(struct pctx *x, const yaml_node_t *it, const char *full,
                                   const char *v, size_t len))
{
    yaml_node_item_t *it;
    size_t count = 0, len;
    const char *v;

    if (is_null(n))
        return;
    if (n->type != YAML_SEQUENCE_NODE) {
        problem(x, n, full, "expected a list, got %s", kind(n));
        return;
    }
    for (it = n->data.sequence.items.start; it < n->data.sequence.items.top && !give_up(x); it++) {
        yaml_node_t *e = yaml_document_get_node(x->doc, *it);

        if (!e)
            continue;
        if (!first_visit(x, e)) {
            problem(x, n, full, "YAML aliases are not supported");
            continue;
        }
        if (++count > max) {
            problem(x, e, full, "more than %zu entries", max);
            return;
        }
        v = scalar(x, e, full, "a string", &len);
        if (v)
            item(x, e, full, v, len);
    }
}

/* ---- tls_server_config ---------------------------------------------------- */

static void cipher_item(struct pctx *x, const yaml_node_t *e, const char *full, const char *v,
                        size_t len)
{
    struct webconfig_tls *t = &x->c->tls;
    char sb[SHOW_BUF];
    unsigned i;

    for (i = 0; i < N_SUITES; i++) {
        if (strcmp(v, suites[i].go) == 0) {
            t->ciphers[t->n_ciphers++] = i;
            return;
        }
    }
    problem(x, e, full,
            "unknown cipher suite \"%s\" (Go's names, e.g. "
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)",
            show(sb, v, len));
}

static void curve_item(struct pctx *x, const yaml_node_t *e, const char *full, const char *v,
                       size_t len)
{
    struct webconfig_tls *t = &x->c->tls;
    char sb[SHOW_BUF];
    unsigned i;

    for (i = 0; i < N_CURVES; i++) {
        if (strcmp(v, curves[i].go) == 0) {
            t->curves[t->n_curves++] = i;
            return;
        }
    }
    problem(x, e, full, "unknown curve \"%s\" (CurveP256, CurveP384, CurveP521, X25519)",
            show(sb, v, len));
}

static void san_item(struct pctx *x, const yaml_node_t *e, const char *full, const char *v,
                     size_t len)
{
    struct webconfig_tls *t = &x->c->tls;

    if (len == 0 || len > WEBCONFIG_SAN_MAX) {
        problem(x, e, full, "a SAN must be 1 to %u bytes", (unsigned)WEBCONFIG_SAN_MAX);
        return;
    }
    t->allowed_sans[t->n_allowed_sans] = strdup(v);
    if (!t->allowed_sans[t->n_allowed_sans])
        oom(x);
    else
        t->n_allowed_sans++;
}

static void take_version(struct pctx *x, const yaml_node_t *n, const char *full, unsigned *out)
{
    char sb[SHOW_BUF];
    size_t len, i;
    const char *v;

    if (is_null(n))
        return;
    v = scalar(x, n, full, "a TLS version", &len);
    if (!v)
        return;
    for (i = 0; i < N_VERSIONS; i++) {
        if (strcmp(v, versions[i].name) == 0) {
            *out = versions[i].version;
            return;
        }
    }
    problem(x, n, full, "unknown TLS version \"%s\" (TLS10, TLS11, TLS12, TLS13)",
            show(sb, v, len));
}

static void take_client_auth(struct pctx *x, const yaml_node_t *n, const char *full, int *given)
{
    char sb[SHOW_BUF];
    size_t len, i;
    const char *v = scalar(x, n, full, "a client auth type", &len);

    if (!v || len == 0)
        return;
    *given = 1;
    for (i = 0; i < sizeof(client_auths) / sizeof(client_auths[0]); i++) {
        if (strcmp(v, client_auths[i].name) == 0) {
            x->c->tls.client_auth = client_auths[i].value;
            return;
        }
    }
    problem(x, n, full,
            "invalid client auth type \"%s\" (NoClientCert, RequestClientCert, "
            "RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)",
            show(sb, v, len));
}

struct tls_seen {
    int client_auth_given, sans_given;
    const yaml_node_t *node; /* the mapping */
    const yaml_node_t *key;  /* its key, where problems that concern several keys point */
};

static void visit_tls(struct pctx *x, const yaml_node_t *k, const char *key, const char *full,
                      const yaml_node_t *v, void *arg)
{
    struct webconfig_tls *t = &x->c->tls;
    struct tls_seen *s = arg;

    if (strcmp(key, "cert_file") == 0) {
        take_path(x, v, full, &t->cert_file);
    } else if (strcmp(key, "key_file") == 0) {
        take_path(x, v, full, &t->key_file);
    } else if (strcmp(key, "client_ca_file") == 0) {
        take_path(x, v, full, &t->client_ca_file);
    } else if (strcmp(key, "cert") == 0) {
        take_string(x, v, full, &t->cert);
    } else if (strcmp(key, "key") == 0) {
        take_string(x, v, full, &t->key);
    } else if (strcmp(key, "client_ca") == 0) {
        take_string(x, v, full, &t->client_ca);
    } else if (strcmp(key, "client_auth_type") == 0) {
        take_client_auth(x, v, full, &s->client_auth_given);
    } else if (strcmp(key, "min_version") == 0) {
        take_version(x, v, full, &t->min_version);
    } else if (strcmp(key, "max_version") == 0) {
        take_version(x, v, full, &t->max_version);
    } else if (strcmp(key, "cipher_suites") == 0) {
        each_item(x, v, full, WEBCONFIG_CIPHERS_MAX, cipher_item);
    } else if (strcmp(key, "curve_preferences") == 0) {
        each_item(x, v, full, WEBCONFIG_CURVES_MAX, curve_item);
    } else if (strcmp(key, "prefer_server_cipher_suites") == 0) {
        take_bool(x, v, full, &t->prefer_server_cipher_suites);
    } else if (strcmp(key, "client_allowed_sans") == 0) {
        s->sans_given = 1;
        if (!t->allowed_sans) {
            t->allowed_sans = calloc(WEBCONFIG_SANS_MAX, sizeof(char *));
            if (!t->allowed_sans) {
                oom(x);
                return;
            }
        }
        each_item(x, v, full, WEBCONFIG_SANS_MAX, san_item);
    } else {
        problem(x, k, full,
                "unknown key (tls_server_config has cert_file, key_file, cert, key, "
                "client_ca_file, client_ca, client_auth_type, client_allowed_sans, min_version, "
                "max_version, cipher_suites, prefer_server_cipher_suites, curve_preferences)");
    }
}

/* The rules that concern several TLS keys, once the mapping is read. */
static void check_tls(struct pctx *x, const struct tls_seen *s)
{
    struct webconfig_tls *t = &x->c->tls;
    const yaml_node_t *n = s->key;
    const char *k = "tls_server_config";

    t->enabled = t->cert_file || t->cert || t->key_file || t->key || t->client_ca_file ||
                 t->client_ca || s->client_auth_given;
    if (!t->enabled) {
        if (s->node && s->node->type == YAML_MAPPING_NODE &&
            s->node->data.mapping.pairs.top > s->node->data.mapping.pairs.start)
            note(x, "tls_server_config names no certificate, key, client CA or client auth "
                    "type: TLS is off and its other settings do nothing");
        return;
    }
    if (!t->cert_file && !t->cert)
        problem(x, n, k, "missing one of cert or cert_file");
    if (!t->key_file && !t->key)
        problem(x, n, k, "missing one of key or key_file");
    if (t->cert_file && t->cert)
        problem(x, n, k, "give cert or cert_file, not both");
    if (t->key_file && t->key)
        problem(x, n, k, "give key or key_file, not both");
    if (t->client_ca_file && t->client_ca)
        problem(x, n, k, "give client_ca or client_ca_file, not both");
    if ((t->client_ca_file || t->client_ca) && t->client_auth == WEBCONFIG_NO_CLIENT_CERT)
        problem(x, n, k,
                "a client CA is configured without a client auth policy (set client_auth_type, "
                "e.g. RequireAndVerifyClientCert)");
    if ((t->client_auth == WEBCONFIG_VERIFY_CLIENT_CERT_IF_GIVEN ||
         t->client_auth == WEBCONFIG_REQUIRE_AND_VERIFY_CLIENT_CERT) &&
        !t->client_ca_file && !t->client_ca)
        problem(x, n, k,
                "client_auth_type %s verifies client certificates: it needs client_ca_file "
                "(the CA that signed them)",
                webconfig_client_auth_name(t->client_auth));
    if (s->sans_given && t->client_auth == WEBCONFIG_NO_CLIENT_CERT)
        problem(x, n, k,
                "client_allowed_sans needs a client_auth_type that asks for a certificate");
    if (t->min_version > t->max_version)
        problem(x, n, k, "min_version is above max_version");
}

/* ---- http_server_config --------------------------------------------------- */

/* May value v (len bytes) go into a response header? (no control characters but tab) */
static int header_value_ok(const char *v, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)v[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return 0;
    }
    return 1;
}

static void visit_header(struct pctx *x, const yaml_node_t *k, const char *key, const char *full,
                         const yaml_node_t *v, void *arg)
{
    struct webconfig *c = x->c;
    const char *val;
    char sb[SHOW_BUF], allowed[128];
    size_t len, i, j;

    (void)arg;
    for (i = 0; i < WEBCONFIG_HEADERS_MAX; i++)
        if (strcmp(key, header_rules[i].name) == 0)
            break;
    if (i == WEBCONFIG_HEADERS_MAX) {
        problem(x, k, full,
                "this HTTP header can not be configured (Strict-Transport-Security, "
                "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, "
                "Content-Security-Policy)");
        return;
    }
    val = scalar(x, v, full, "a header value", &len);
    if (!val)
        return;
    if (len > WEBCONFIG_HEADER_VALUE_MAX || !header_value_ok(val, len)) {
        problem(x, v, full, "a header value is at most %u bytes without control characters",
                (unsigned)WEBCONFIG_HEADER_VALUE_MAX);
        return;
    }
    if (header_rules[i].allowed[0]) {
        allowed[0] = '\0';
        for (j = 0; header_rules[i].allowed[j]; j++) {
            if (strcmp(val, header_rules[i].allowed[j]) == 0)
                break;
            snprintf(allowed + strlen(allowed), sizeof(allowed) - strlen(allowed), "%s\"%s\"",
                     j ? ", " : "", header_rules[i].allowed[j]);
        }
        if (!header_rules[i].allowed[j]) {
            problem(x, v, full, "invalid value \"%s\" (one of %s)", show(sb, val, len), allowed);
            return;
        }
    }
    if (len == 0)
        return; /* blank: the header is left out, as exporter-toolkit's docs say */
    c->headers[c->n_headers].name = header_rules[i].name;
    c->headers[c->n_headers].value = strdup(val);
    if (!c->headers[c->n_headers].value)
        oom(x);
    else
        c->n_headers++;
}

static void visit_http(struct pctx *x, const yaml_node_t *k, const char *key, const char *full,
                       const yaml_node_t *v, void *arg)
{
    int http2 = 1;

    (void)arg;
    if (strcmp(key, "headers") == 0) {
        if (want_mapping(x, v, full))
            walk(x, v, full, visit_header, NULL);
    } else if (strcmp(key, "http2") == 0) {
        take_bool(x, v, full, &http2);
        note(x, "http_server_config.http2 is accepted and ignored: the server speaks HTTP/1.1 "
                "only");
    } else {
        problem(x, k, full, "unknown key (http_server_config has headers and http2)");
    }
}

/* ---- basic_auth_users ----------------------------------------------------- */

unsigned webconfig_bcrypt_cost(const char *s, size_t len)
{
    static const char b64[] = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned cost;
    size_t i;

    if (len != WEBCONFIG_BCRYPT_LEN || s[0] != '$' || s[1] != '2' ||
        (s[2] != 'a' && s[2] != 'b' && s[2] != 'y') || s[3] != '$' || s[4] < '0' || s[4] > '9' ||
        s[5] < '0' || s[5] > '9' || s[6] != '$')
        return 0;
    cost = (unsigned)(s[4] - '0') * 10 + (unsigned)(s[5] - '0');
    if (cost < 4 || cost > 31)
        return 0;
    for (i = 7; i < len; i++)
        if (!s[i] || !strchr(b64, s[i]))
            return 0;
    return cost;
}

static void visit_user(struct pctx *x, const yaml_node_t *k, const char *key, const char *full,
                       const yaml_node_t *v, void *arg)
{
    struct webconfig *c = x->c;
    struct webconfig_user *u;
    size_t klen = k->data.scalar.length, len;
    unsigned cost;
    const char *hash;

    (void)arg;
    if (klen == 0 || klen > WEBCONFIG_NAME_MAX) {
        problem(x, k, full, "a user name is 1 to %u bytes", (unsigned)WEBCONFIG_NAME_MAX);
        return;
    }
    if (c->n_users >= WEBCONFIG_USERS_MAX) {
        problem(x, k, full, "more than %u users", (unsigned)WEBCONFIG_USERS_MAX);
        return;
    }
    hash = scalar(x, v, full, "a bcrypt hash", &len);
    if (!hash)
        return;
    cost = webconfig_bcrypt_cost(hash, len);
    if (!cost) {
        /* the value is a (hashed) secret: never quoted */
        problem(x, v, full,
                "not a bcrypt hash ($2y$, $2b$ or $2a$, cost 04 to 31, 60 characters; e.g. "
                "htpasswd -nBC 10 \"\" | tr -d ':\\n')");
        return;
    }
    if (!c->users) {
        c->users = calloc(WEBCONFIG_USERS_MAX, sizeof(*c->users));
        if (!c->users) {
            oom(x);
            return;
        }
    }
    u = &c->users[c->n_users];
    u->name = strdup(key);
    if (!u->name) {
        oom(x);
        return;
    }
    memcpy(u->hash, hash, WEBCONFIG_BCRYPT_LEN + 1);
    u->cost = cost;
    if (cost > c->max_cost)
        c->max_cost = cost;
    c->n_users++;
}

/* ---- rate_limit ----------------------------------------------------------- */

static void visit_rate(struct pctx *x, const yaml_node_t *k, const char *key, const char *full,
                       const yaml_node_t *v, void *arg)
{
    char sb[SHOW_BUF], *end;
    size_t len;
    const char *s;
    unsigned long n;
    uint64_t ms;

    (void)arg;
    if (strcmp(key, "interval") == 0) {
        s = scalar(x, v, full, "a duration", &len);
        if (!s || len == 0)
            return;
        if (duration_parse(s, &ms) != 0) {
            problem(x, v, full, "invalid duration \"%s\" (e.g. 1s, 500ms, 0 to disable)",
                    show(sb, s, len));
            return;
        }
        x->c->rate_interval_ms = ms;
    } else if (strcmp(key, "burst") == 0) {
        s = scalar(x, v, full, "a number", &len);
        if (!s || len == 0)
            return;
        errno = 0;
        n = strtoul(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end || errno || n > 1000000) {
            problem(x, v, full, "invalid burst \"%s\" (0 to 1000000)", show(sb, s, len));
            return;
        }
        x->c->rate_burst = (unsigned)n;
    } else {
        problem(x, k, full, "unknown key (rate_limit has interval and burst)");
    }
}

/* ---- the top level -------------------------------------------------------- */

static void visit_top(struct pctx *x, const yaml_node_t *k, const char *key, const char *full,
                      const yaml_node_t *v, void *arg)
{
    struct tls_seen *s = arg;

    if (strcmp(key, "tls_server_config") == 0) {
        s->node = v;
        s->key = k;
        if (want_mapping(x, v, full))
            walk(x, v, full, visit_tls, s);
    } else if (strcmp(key, "http_server_config") == 0) {
        if (want_mapping(x, v, full))
            walk(x, v, full, visit_http, NULL);
    } else if (strcmp(key, "basic_auth_users") == 0) {
        if (want_mapping(x, v, full))
            walk(x, v, full, visit_user, NULL);
    } else if (strcmp(key, "rate_limit") == 0) {
        if (want_mapping(x, v, full))
            walk(x, v, full, visit_rate, NULL);
    } else {
        problem(x, k, full,
                "unknown key (a web config file has tls_server_config, http_server_config, "
                "basic_auth_users and rate_limit)");
    }
}

/* libyaml's syntax error as a problem. */
static void syntax_problem(struct pctx *x, const yaml_parser_t *y)
{
    yaml_node_t at;

    if (y->error == YAML_MEMORY_ERROR) {
        oom(x);
        return;
    }
    memset(&at, 0, sizeof(at));
    at.start_mark = y->problem_mark;
    if (y->error == YAML_READER_ERROR)
        at.start_mark.line = 0, at.start_mark.column = 0;
    if (y->context)
        problem(x, &at, NULL, "invalid YAML: %s (%s at line %zu, column %zu)",
                y->problem ? y->problem : "syntax error", y->context, y->context_mark.line + 1,
                y->context_mark.column + 1);
    else
        problem(x, &at, NULL, "invalid YAML: %s", y->problem ? y->problem : "syntax error");
}

void webconfig_free(struct webconfig *c)
{
    size_t i;

    if (!c)
        return;
    free(c->tls.cert_file);
    free(c->tls.key_file);
    free(c->tls.client_ca_file);
    free(c->tls.cert);
    if (c->tls.key) {
        explicit_bzero(c->tls.key, strlen(c->tls.key)); /* an inline private key */
        free(c->tls.key);
    }
    free(c->tls.client_ca);
    for (i = 0; i < c->tls.n_allowed_sans; i++)
        free(c->tls.allowed_sans[i]);
    free(c->tls.allowed_sans);
    for (i = 0; i < c->n_headers; i++)
        free(c->headers[i].value);
    for (i = 0; i < c->n_users; i++)
        free(c->users[i].name);
    free(c->users);
    for (i = 0; i < c->n_notes; i++)
        free(c->notes[i]);
    free(c);
}

int webconfig_parse(const char *text, size_t len, const char *path, const char *dir,
                    struct webconfig **out, char *err, size_t errsz)
{
    struct pctx x;
    struct tls_seen seen;
    yaml_parser_t y;
    yaml_document_t doc, extra;
    yaml_node_t *root;
    int have_doc = 0, rc;
    size_t extra_suites = 0;

    memset(&x, 0, sizeof(x));
    memset(&seen, 0, sizeof(seen));
    x.path = path ? path : "web config";
    x.dir = dir ? dir : "";
    x.err = err;
    x.errsz = errsz;
    if (err && errsz)
        err[0] = '\0';
    x.c = calloc(1, sizeof(*x.c));
    if (!x.c)
        return -ENOMEM;
    x.c->tls.min_version = WEBCONFIG_TLS12;
    x.c->tls.max_version = WEBCONFIG_TLS13;
    x.c->tls.prefer_server_cipher_suites = 1;
    x.doc = &doc;

    if (len > WEBCONFIG_FILE_MAX) {
        problem(&x, NULL, NULL, "larger than %u bytes", (unsigned)WEBCONFIG_FILE_MAX);
        goto done;
    }
    if (!yaml_parser_initialize(&y)) {
        oom(&x);
        goto done;
    }
    yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
    if (!yaml_parser_load(&y, &doc)) {
        syntax_problem(&x, &y);
        yaml_parser_delete(&y);
        goto done;
    }
    have_doc = 1;
    root = yaml_document_get_root_node(&doc);
    if (root) {
        /* one document only: a second one is almost always a paste error */
        if (!yaml_parser_load(&y, &extra)) {
            syntax_problem(&x, &y);
        } else {
            if (yaml_document_get_root_node(&extra))
                problem(&x, yaml_document_get_root_node(&extra), NULL,
                        "only one YAML document is allowed");
            yaml_document_delete(&extra);
        }
    }
    yaml_parser_delete(&y);
    if (x.problems || !root)
        goto done; /* an empty file: nothing configured */
    x.n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
    x.visited = calloc(x.n_nodes ? x.n_nodes : 1, 1);
    if (!x.visited) {
        oom(&x);
        goto done;
    }
    if (root->type != YAML_MAPPING_NODE) {
        if (!is_null(root))
            problem(&x, root, NULL, "expected a mapping at the top, got %s", kind(root));
        goto done;
    }
    first_visit(&x, root);
    walk(&x, root, "", visit_top, &seen);
    if (!give_up(&x))
        check_tls(&x, &seen);
done:
    if (!x.problems && x.c->tls.enabled && x.c->tls.n_ciphers) {
        char prio[WEBCONFIG_PRIORITY_MAX], msg[160];

        if (webconfig_priority(x.c, prio, sizeof(prio), &extra_suites) == 0 && extra_suites) {
            snprintf(msg, sizeof(msg),
                     "tls_server_config.cipher_suites: GnuTLS chooses key exchange, cipher and "
                     "MAC separately, which allows %zu TLS 1.2 suite(s) beyond the list",
                     extra_suites);
            note(&x, msg);
        }
    }
    if (x.dropped && err && x.used + 48 < errsz)
        snprintf(err + x.used, errsz - x.used, "\n(%u more problems not shown)", x.dropped);
    free(x.visited);
    if (have_doc)
        yaml_document_delete(&doc);
    if (x.problems) {
        rc = x.nomem && x.problems == 1 ? -ENOMEM : -EINVAL;
        webconfig_free(x.c);
        return rc;
    }
    *out = x.c;
    return 0;
}

const struct webconfig_user *webconfig_user(const struct webconfig *c, const char *name, size_t len)
{
    const struct webconfig_user *found = NULL;
    size_t i, j;

    for (i = 0; i < c->n_users; i++) {
        const char *u = c->users[i].name;
        size_t ul = strlen(u);
        unsigned char diff = (unsigned char)(ul != len);

        /* every byte of the shorter is compared, whatever differs first */
        for (j = 0; j < ul && j < len; j++)
            diff |= (unsigned char)(u[j] ^ name[j]);
        if (!diff)
            found = &c->users[i];
    }
    return found;
}

/* Append ":" + word to out (used bytes so far); -ENOSPC when it does not fit. */
static int add(char *out, size_t cap, size_t *used, const char *word)
{
    int n = snprintf(out + *used, cap - *used, "%s%s", *used ? ":" : "", word);

    if (n < 0 || (size_t)n >= cap - *used)
        return -ENOSPC;
    *used += (size_t)n;
    return 0;
}

/* Is word among the first n of list? */
static int listed(const char *const *list, size_t n, const char *word)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (strcmp(list[i], word) == 0)
            return 1;
    return 0;
}

int webconfig_priority(const struct webconfig *c, char *out, size_t cap, size_t *extra)
{
    const struct webconfig_tls *t = &c->tls;
    const char *kx[N_SUITES], *ci[N_SUITES + 3], *mac[N_SUITES + 1];
    size_t nkx = 0, nci = 0, nmac = 0, used = 0, i, n_extra = 0;
    char word[64];
    int tls12 = 0, rc = 0;

    if (cap == 0)
        return -ENOSPC;
    out[0] = '\0';
    rc |= add(out, cap, &used, "NORMAL");
    rc |= add(out, cap, &used, "-VERS-ALL");
    for (i = N_VERSIONS; i-- > 0;) {
        if (versions[i].version < t->min_version || versions[i].version > t->max_version)
            continue;
        snprintf(word, sizeof(word), "+%s", versions[i].gnutls);
        rc |= add(out, cap, &used, word);
        tls12 |= versions[i].version <= WEBCONFIG_TLS12;
    }
    for (i = 0; i < t->n_ciphers; i++) {
        const struct suite *s = &suites[t->ciphers[i]];

        if (!s->kx)
            continue; /* TLS 1.3: as in Go, not configurable */
        if (!listed(kx, nkx, s->kx))
            kx[nkx++] = s->kx;
        if (!listed(ci, nci, s->cipher))
            ci[nci++] = s->cipher;
        if (!listed(mac, nmac, s->mac))
            mac[nmac++] = s->mac;
    }
    if (nkx) {
        if (t->max_version >= WEBCONFIG_TLS13) {
            for (i = 0; i < sizeof(tls13_ciphers) / sizeof(tls13_ciphers[0]); i++)
                if (!listed(ci, nci, tls13_ciphers[i]))
                    ci[nci++] = tls13_ciphers[i];
            if (!listed(mac, nmac, "AEAD"))
                mac[nmac++] = "AEAD";
        }
        rc |= add(out, cap, &used, "-KX-ALL");
        rc |= add(out, cap, &used, "-CIPHER-ALL");
        rc |= add(out, cap, &used, "-MAC-ALL");
        for (i = 0; i < nkx; i++) {
            snprintf(word, sizeof(word), "+%s", kx[i]);
            rc |= add(out, cap, &used, word);
        }
        for (i = 0; i < nci; i++) {
            snprintf(word, sizeof(word), "+%s", ci[i]);
            rc |= add(out, cap, &used, word);
        }
        for (i = 0; i < nmac; i++) {
            snprintf(word, sizeof(word), "+%s", mac[i]);
            rc |= add(out, cap, &used, word);
        }
        /* the TLS 1.2 suites of the table the three sets allow that the list does not name */
        for (i = 0; tls12 && i < N_SUITES; i++) {
            size_t j;
            int named = 0;

            if (!suites[i].kx || !listed(kx, nkx, suites[i].kx) ||
                !listed(ci, nci, suites[i].cipher) || !listed(mac, nmac, suites[i].mac))
                continue;
            for (j = 0; j < t->n_ciphers; j++)
                named |= t->ciphers[j] == i;
            n_extra += !named;
        }
    }
    if (t->n_curves) {
        rc |= add(out, cap, &used, "-GROUP-ALL");
        for (i = 0; i < t->n_curves; i++) {
            snprintf(word, sizeof(word), "+%s", curves[t->curves[i]].group);
            rc |= add(out, cap, &used, word);
        }
    }
    if (t->prefer_server_cipher_suites)
        rc |= add(out, cap, &used, "%SERVER_PRECEDENCE");
    if (rc)
        return -ENOSPC;
    if (extra)
        *extra = n_extra;
    return 0;
}
