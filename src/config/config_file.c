/*
 * config_file: --config.file, the YAML file, read with libyaml's document
 * API. It owns the file's layout (the keys are the flags: `--a.b-c` is key
 * `b_c` in mapping `a`, the job list is `jobs.ids`), its checks (unknown keys,
 * wrong types, duplicate keys, aliases, inline secrets), the FILE:LINE:COLUMN
 * of every problem, and the YAML helpers credentials.c reads clouds.yaml with.
 *
 * Every value goes through the flag's own setter (flags.c) at the file's
 * layer, so a value is checked exactly as its flag is, and a flag or variable
 * still overrides it. The whole file is read whatever it holds: each problem
 * is one line, and a file with problems is not used at all.
 *
 * Bounded: the file is at most CONFIG_FILE_MAX bytes; only the mappings the
 * layout defines are descended into (so nesting depth is bounded by the
 * layout, not the input), and a node reached twice (a YAML alias) is refused
 * instead of being walked again, so "billion laughs" documents cost nothing.
 */
#include "config_private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WHO_MAX (CONFIG_SHOW_BUF + 128) /* "PATH:LINE:COLUMN: key a.b" */

/* Inline secrets the file refuses, and where they belong instead. */
static const struct {
    const char *key, *file_key, *env;
} inline_secrets[] = {
    {"auth.password", "auth.password_file", "OS_PASSWORD"},
    {"auth.token", "auth.token_file", "OS_AUTH_TOKEN"},
    {"auth.secret_key", "auth.secret_key_file", "OS_SECRET_KEY"},
    {"auth.access_key", "auth.access_key_file", "OS_ACCESS_KEY"},
};

/* Words that make an unknown key look like a secret. */
static const char *const secret_words[] = {"password", "passwd", "token", "secret", "credential"};

const char *cfg_yaml_where(const char *path, const yaml_node_t *n, char *buf, size_t len)
{
    char sb[CONFIG_SHOW_BUF];

    snprintf(buf, len, "%s:%zu:%zu", cfg_show(sb, path, strlen(path)), n->start_mark.line + 1,
             n->start_mark.column + 1);
    return buf;
}

/* Line and column (1-based) of byte offset off of text. */
static void offset_mark(const char *text, size_t len, size_t off, size_t *line, size_t *col)
{
    size_t i;

    *line = 1;
    *col = 1;
    for (i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* Record libyaml's error for path. Returns CONFIG_ERROR. */
static int syntax_problem(struct parse *p, const char *path, const char *text, size_t len,
                          const yaml_parser_t *y)
{
    char sb[CONFIG_SHOW_BUF];
    size_t line, col;

    cfg_show(sb, path, strlen(path));
    if (y->error == YAML_MEMORY_ERROR) {
        p->nomem = 1;
        return cfg_problem_line(p, "%s: out of memory", sb);
    }
    if (y->error == YAML_READER_ERROR) {
        offset_mark(text, len, y->problem_offset, &line, &col);
        return cfg_problem_line(p, "%s:%zu:%zu: invalid YAML: %s", sb, line, col,
                                y->problem ? y->problem : "unreadable input");
    }
    if (y->context)
        return cfg_problem_line(p, "%s:%zu:%zu: invalid YAML: %s (%s at line %zu, column %zu)", sb,
                                y->problem_mark.line + 1, y->problem_mark.column + 1,
                                y->problem ? y->problem : "syntax error", y->context,
                                y->context_mark.line + 1, y->context_mark.column + 1);
    return cfg_problem_line(p, "%s:%zu:%zu: invalid YAML: %s", sb, y->problem_mark.line + 1,
                            y->problem_mark.column + 1, y->problem ? y->problem : "syntax error");
}

int cfg_yaml_load(struct parse *p, const char *path, const char *text, size_t len,
                  yaml_document_t *doc)
{
    yaml_parser_t y;
    yaml_document_t extra;
    yaml_node_t *root;
    char where[WHO_MAX];
    int rc = CONFIG_OK;

    memset(doc, 0, sizeof(*doc));
    if (!yaml_parser_initialize(&y))
        return cfg_problem_oom(p);
    yaml_parser_set_input_string(&y, (const unsigned char *)text, len);
    if (!yaml_parser_load(&y, doc)) {
        rc = syntax_problem(p, path, text, len, &y);
        goto out;
    }
    if (yaml_document_get_root_node(doc)) {
        /* one document only: a second one is almost always a paste error */
        if (!yaml_parser_load(&y, &extra)) {
            rc = syntax_problem(p, path, text, len, &y);
        } else {
            root = yaml_document_get_root_node(&extra);
            if (root)
                rc = cfg_problem_line(p, "%s: only one YAML document is allowed",
                                      cfg_yaml_where(path, root, where, sizeof(where)));
            yaml_document_delete(&extra);
        }
        if (rc != CONFIG_OK) {
            yaml_document_delete(doc);
            memset(doc, 0, sizeof(*doc));
        }
    }
out:
    yaml_parser_delete(&y);
    return rc;
}

yaml_node_t *cfg_yaml_get(yaml_document_t *d, yaml_node_t *map, const char *key)
{
    yaml_node_pair_t *pair;
    size_t kl = strlen(key);

    if (!map || map->type != YAML_MAPPING_NODE)
        return NULL;
    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(d, pair->key);

        if (k && k->type == YAML_SCALAR_NODE && k->data.scalar.length == kl &&
            memcmp(k->data.scalar.value, key, kl) == 0)
            return yaml_document_get_node(d, pair->value);
    }
    return NULL;
}

int cfg_yaml_is_null(const yaml_node_t *n)
{
    const char *v;

    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return 0;
    v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *cfg_yaml_kind(const yaml_node_t *n)
{
    if (n->type == YAML_MAPPING_NODE)
        return "a mapping";
    if (n->type == YAML_SEQUENCE_NODE)
        return "a list";
    if (cfg_yaml_is_null(n))
        return "nothing";
    return "a single value";
}

/* ---- walking --config.file ---------------------------------------------- */

struct walk {
    struct parse *p;
    yaml_document_t *doc;
    const char *path;
    unsigned char *visited; /* per node: reached already (a second time means an alias) */
    size_t n_nodes;
};

/* Mark n reached. Returns 1 the first time, 0 when it was reached before (an alias). */
static int first_visit(struct walk *w, const yaml_node_t *n)
{
    size_t i = (size_t)(n - w->doc->nodes.start);

    if (i >= w->n_nodes || w->visited[i])
        return 0;
    w->visited[i] = 1;
    return 1;
}

/* "PATH:LINE:COLUMN: key KEY" for node n into buf. */
static const char *who_at(const struct walk *w, const yaml_node_t *n, const char *key, char *buf,
                          size_t len)
{
    size_t used;

    cfg_yaml_where(w->path, n, buf, len);
    used = strlen(buf);
    snprintf(buf + used, len - used, ": key %s", key);
    return buf;
}

/* Is there a setting whose key starts with prefix "."? */
static int is_section(const char *prefix)
{
    char key[CONFIG_KEY_MAX];
    size_t k, n = strlen(prefix);

    for (k = 0; k < S_COUNT; k++) {
        cfg_flag_key(&config_flags[k], key, sizeof(key));
        if (strncmp(key, prefix, n) == 0 && key[n] == '.')
            return 1;
    }
    return 0;
}

/* The setting whose key is key, or S_COUNT. */
static enum setting find_key(const char *key)
{
    char k2[CONFIG_KEY_MAX];
    size_t k;

    for (k = 0; k < S_COUNT; k++) {
        cfg_flag_key(&config_flags[k], k2, sizeof(k2));
        if (k2[0] && strcmp(k2, key) == 0)
            return (enum setting)k;
    }
    return S_COUNT;
}

/* Apply one scalar value node to setting s (p->who set). */
static void apply_scalar(struct walk *w, enum setting s, const yaml_node_t *val)
{
    const struct flag *f = &config_flags[s];
    const char *v = (const char *)val->data.scalar.value;
    int b;

    if (val->type != YAML_SCALAR_NODE) {
        cfg_problem(w->p, "expected %s, got %s",
                    s == S_JOB             ? "a job ID"
                    : f->type == FLAG_BOOL ? "true or false"
                                           : "a single value",
                    cfg_yaml_kind(val));
        return;
    }
    if (cfg_yaml_is_null(val)) {
        cfg_problem(w->p, "no value (give one, or remove the key)");
        return;
    }
    if (strlen(v) != val->data.scalar.length) {
        cfg_problem(w->p, "contains a NUL byte");
        return;
    }
    if (f->type == FLAG_BOOL) {
        b = cfg_parse_bool(v);
        if (b < 0) {
            char sb[CONFIG_SHOW_BUF];

            cfg_problem(w->p, "invalid boolean \"%s\" (true or false)", cfg_show(sb, v, strlen(v)));
            return;
        }
        v = b ? "1" : "0";
    }
    f->set(w->p, f, v);
}

/* jobs.ids: a list of job references (an empty key is an empty list). */
static void apply_jobs(struct walk *w, const char *key, const yaml_node_t *val)
{
    char who[WHO_MAX];
    yaml_node_item_t *it;

    if (cfg_yaml_is_null(val))
        return;
    if (val->type != YAML_SEQUENCE_NODE) {
        cfg_problem(w->p, "expected a list of job IDs, got %s", cfg_yaml_kind(val));
        return;
    }
    for (it = val->data.sequence.items.start; it < val->data.sequence.items.top; it++) {
        yaml_node_t *item = yaml_document_get_node(w->doc, *it);

        if (!item)
            continue;
        if (!first_visit(w, item)) {
            /* an alias has no place of its own: name the list */
            w->p->who = who_at(w, val, key, who, sizeof(who));
            cfg_problem(w->p, "YAML aliases are not supported");
            continue;
        }
        w->p->who = who_at(w, item, key, who, sizeof(who));
        apply_scalar(w, S_JOB, item);
    }
}

/* A key that is not in the layout: say why, and what was probably meant. */
static void unknown_key(struct walk *w, const char *full)
{
    char guess[CONFIG_KEY_MAX], sb[CONFIG_SHOW_BUF];
    size_t i, n = strlen(full);

    for (i = 0; i < sizeof(inline_secrets) / sizeof(inline_secrets[0]); i++) {
        if (strcmp(full, inline_secrets[i].key) == 0) {
            cfg_problem(w->p,
                        "a secret is not accepted inline in the config file; put it in a file and "
                        "name that with %s (or set %s)",
                        inline_secrets[i].file_key, inline_secrets[i].env);
            return;
        }
    }
    for (i = 0; i < sizeof(secret_words) / sizeof(secret_words[0]); i++) {
        if (strstr(full, secret_words[i])) {
            cfg_problem(w->p,
                        "looks like a secret, which is not accepted inline in the config file; use "
                        "a *_file key (auth.token_file, auth.password_file, auth.secret_key_file) "
                        "or the environment");
            return;
        }
    }
    if (n < sizeof(guess)) {
        memcpy(guess, full, n + 1);
        for (i = 0; i < n; i++)
            if (guess[i] == '-')
                guess[i] = '_';
        if (strcmp(guess, full) != 0 && (find_key(guess) != S_COUNT || is_section(guess))) {
            cfg_problem(w->p, "unknown key (did you mean %s? keys use '_' where flags use '-')",
                        cfg_show(sb, guess, strlen(guess)));
            return;
        }
    }
    cfg_problem(w->p,
                "unknown key (the keys are the flags: --a.b-c is key b_c in mapping a; the job "
                "list is jobs.ids)");
}

static void walk_mapping(struct walk *w, const yaml_node_t *map, const char *prefix);

/* One key: value pair of a mapping at prefix. */
static void walk_pair(struct walk *w, const yaml_node_t *k, const yaml_node_t *val,
                      const char *prefix, const char **seen, const yaml_node_t **seen_at,
                      size_t *n_seen)
{
    char full[CONFIG_KEY_MAX], kshow[CONFIG_SHOW_BUF], who[WHO_MAX], where[WHO_MAX];
    const char *key = (const char *)k->data.scalar.value;
    size_t klen = k->data.scalar.length, plen = strlen(prefix), i;
    enum setting s = S_COUNT;
    int known, n;

    n = snprintf(full, sizeof(full), "%s%s%s", prefix, plen ? "." : "", key);
    known = n > 0 && (size_t)n < sizeof(full) && strlen(key) == klen && !memchr(key, '.', klen) &&
            klen > 0;
    if (known) {
        s = find_key(full);
        known = s != S_COUNT || is_section(full);
    }
    if (!known) {
        char shown[CONFIG_SHOW_BUF + CONFIG_KEY_MAX];

        snprintf(shown, sizeof(shown), "%s%s%s", prefix, plen ? "." : "",
                 cfg_show(kshow, key, klen));
        w->p->who = who_at(w, k, shown, who, sizeof(who));
        unknown_key(w, n > 0 && (size_t)n < sizeof(full) ? full : shown);
        return;
    }
    w->p->who = who_at(w, k, full, who, sizeof(who));
    for (i = 0; i < *n_seen; i++) {
        if (strcmp(seen[i], key) == 0) {
            cfg_problem(w->p, "duplicate key (first at %s)",
                        cfg_yaml_where(w->path, seen_at[i], where, sizeof(where)));
            return;
        }
    }
    seen[*n_seen] = key;
    seen_at[(*n_seen)++] = k;
    if (!first_visit(w, val)) {
        cfg_problem(w->p, "YAML aliases are not supported");
        return;
    }
    w->p->who = who_at(w, val, full, who, sizeof(who));
    if (s == S_COUNT) { /* a section: web, elb, auth, ... */
        if (val->type == YAML_MAPPING_NODE)
            walk_mapping(w, val, full);
        else if (!cfg_yaml_is_null(val))
            cfg_problem(w->p, "expected a mapping of settings, got %s", cfg_yaml_kind(val));
        return;
    }
    if (config_flags[s].scope == SCOPE_ARGV_ONLY) {
        cfg_problem(w->p,
                    "only a command-line flag (--%s): the file cannot name itself or ask to be "
                    "checked",
                    config_flags[s].name);
        return;
    }
    if (s == S_JOB)
        apply_jobs(w, full, val);
    else
        apply_scalar(w, s, val);
}

static void walk_mapping(struct walk *w, const yaml_node_t *map, const char *prefix)
{
    const char *seen[S_COUNT + 1];
    const yaml_node_t *seen_at[S_COUNT + 1];
    size_t n_seen = 0;
    yaml_node_pair_t *pair;
    char who[WHO_MAX];

    for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
        yaml_node_t *k = yaml_document_get_node(w->doc, pair->key);
        yaml_node_t *val = yaml_document_get_node(w->doc, pair->value);

        if (!k || !val)
            continue;
        if (k->type != YAML_SCALAR_NODE || !first_visit(w, k)) {
            w->p->who = who_at(w, k, prefix[0] ? prefix : "(top level)", who, sizeof(who));
            cfg_problem(w->p, "a key must be a plain string, not %s", cfg_yaml_kind(k));
            continue;
        }
        /* seen[] holds distinct known keys only: fewer than S_COUNT per mapping */
        walk_pair(w, k, val, prefix, seen, seen_at, &n_seen);
    }
}

int config_file_apply(struct parse *p, const char *path, const char *text, size_t len)
{
    struct walk w = {p, NULL, path, NULL, 0};
    yaml_document_t doc;
    yaml_node_t *root;
    char where[WHO_MAX];
    size_t before = p->n_problems + p->dropped;

    p->layer = LAYER_FILE;
    if (cfg_yaml_load(p, path, text, len, &doc) != CONFIG_OK)
        return CONFIG_ERROR;
    root = yaml_document_get_root_node(&doc);
    if (root && !cfg_yaml_is_null(root)) {
        w.doc = &doc;
        w.n_nodes = (size_t)(doc.nodes.top - doc.nodes.start);
        w.visited = calloc(w.n_nodes ? w.n_nodes : 1, 1);
        if (!w.visited) {
            cfg_problem_line(p, "%s: out of memory",
                             cfg_yaml_where(path, root, where, sizeof(where)));
            p->nomem = 1;
        } else if (root->type != YAML_MAPPING_NODE) {
            cfg_problem_line(p,
                             "%s: the top level must be a mapping of settings (like \"poll: "
                             "{interval: 15s}\"), not %s",
                             cfg_yaml_where(path, root, where, sizeof(where)), cfg_yaml_kind(root));
        } else {
            first_visit(&w, root);
            walk_mapping(&w, root, "");
        }
        free(w.visited);
    }
    yaml_document_delete(&doc);
    return p->n_problems + p->dropped > before || p->nomem ? CONFIG_ERROR : CONFIG_OK;
}

int config_file_load(struct parse *p, const char *path)
{
    char sb[CONFIG_SHOW_BUF], eb[CONFIG_ERRNO_TEXT];
    const char *kind = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc;

    p->who = "--config.file";
    rc = config_read_file(path, CONFIG_FILE_MAX, &text, &len, &kind, NULL);
    if (rc == -EFBIG)
        return cfg_problem(p, "\"%s\" is larger than %u bytes", cfg_show(sb, path, strlen(path)),
                           CONFIG_FILE_MAX);
    if (rc == -EINVAL && kind)
        return cfg_problem(p, "\"%s\" is not a regular file (%s)", cfg_show(sb, path, strlen(path)),
                           kind);
    if (rc == -ENOMEM)
        return cfg_problem_oom(p);
    if (rc < 0)
        return cfg_problem(p, "cannot read \"%s\": %s", cfg_show(sb, path, strlen(path)),
                           cfg_errno_text(-rc, eb));
    rc = config_file_apply(p, path, text, len);
    free(text);
    return rc;
}

int config_file_apply_text(struct config *c, const char *path, const char *text, size_t len,
                           char *err, size_t errsz)
{
    struct parse p;
    int rc;

    memset(&p, 0, sizeof(p));
    cfg_set_err(err, errsz, "%s", "");
    if (!c->priv)
        c->priv = calloc(1, sizeof(*c->priv));
    if (!c->priv) {
        cfg_set_err(err, errsz, "out of memory");
        return -ENOMEM;
    }
    if (!c->profile)
        c->profile = profile_default();
    p.c = c;
    p.v = c->priv;
    p.out = stdout;
    p.check = 1;
    rc = config_file_apply(&p, path ? path : "-", text ? text : "", text ? len : 0);
    if (rc != CONFIG_OK)
        cfg_problems_format(&p, err, errsz);
    cfg_problems_free(&p);
    return rc == CONFIG_OK ? 0 : -EINVAL;
}

int config_reload_config_jobs(const struct config *c, char ***ids, size_t *n, char *err,
                              size_t errsz)
{
    struct config tmp;
    struct parse p;
    int rc;

    *ids = NULL;
    *n = 0;
    cfg_set_err(err, errsz, "%s", "");
    if (!c->config_file)
        return 0;
    memset(&tmp, 0, sizeof(tmp));
    memset(&p, 0, sizeof(p));
    tmp.profile = profile_default();
    tmp.priv = calloc(1, sizeof(*tmp.priv));
    if (!tmp.priv) {
        cfg_set_err(err, errsz, "out of memory");
        return -ENOMEM;
    }
    p.c = &tmp;
    p.v = tmp.priv;
    p.out = stdout;
    p.check = 1;
    rc = config_file_load(&p, c->config_file);
    if (rc != CONFIG_OK) {
        cfg_problems_format(&p, err, errsz);
        rc = p.nomem ? -ENOMEM : -EINVAL;
    } else {
        *ids = tmp.jobs;
        *n = tmp.n_jobs;
        tmp.jobs = NULL;
        tmp.n_jobs = 0;
        rc = 0;
    }
    cfg_problems_free(&p);
    config_release(&tmp);
    return rc;
}
