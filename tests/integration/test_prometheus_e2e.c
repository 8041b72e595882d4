/*
 * prometheus_e2e: a real Prometheus server scrapes the real exporter (which
 * polls the real simulator) every second; the test asks Prometheus's query API
 * for the failed jobs and checks that the fail_reason label (quotes, a
 * newline, a backslash, UTF-8 including a 4-byte character) arrives intact.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <curl/curl.h>

#define JSMN_STATIC
#include <jsmn.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"

#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define PROM_START_TIMEOUT_S 30.0
#define WAIT_TIMEOUT_S (40.0 * IT_TIME_SCALE)
#define PROM_TRIES 5      /* free-port races: start Prometheus again on a new port */
#define JSON_TOKENS 4096  /* tokens of one query answer */
#define JSON_STR_MAX 1024 /* bytes of one decoded JSON string */

#define FAIL_REASON                                                                                \
    "Quota exceeded: \"elb\" limit 10\nsee \xc3\xbc"                                               \
    "ber-docs \xf0\x9f\x9a\x80 \\ done"

static char dir[H_PATH_MAX];
static char prom_base[H_URL_MAX];

/* ---- a little JSON over jsmn ---- */

struct json {
    const char *text;
    jsmntok_t tok[JSON_TOKENS];
    int n;
};

/* Index of the token after the subtree at i. */
static int json_skip(const struct json *j, int i)
{
    int end = i + 1;

    switch (j->tok[i].type) {
    case JSMN_OBJECT:
        for (int k = 0; k < j->tok[i].size; k++)
            end = json_skip(j, json_skip(j, end));
        return end;
    case JSMN_ARRAY:
        for (int k = 0; k < j->tok[i].size; k++)
            end = json_skip(j, end);
        return end;
    default:
        return end;
    }
}

/* Append the UTF-8 form of code point cp to out[*n] (cap bytes). Returns 0 or -1. */
static int put_utf8(char *out, size_t *n, size_t cap, unsigned long cp)
{
    unsigned char b[4];
    size_t k;

    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        k = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (unsigned char)(0x80 | (cp & 0x3f));
        k = 4;
    }
    if (*n + k >= cap)
        return -1;
    memcpy(out + *n, b, k);
    *n += k;
    return 0;
}

static int hex4(const char *s, unsigned long *v)
{
    char buf[5];
    char *end;

    memcpy(buf, s, 4);
    buf[4] = '\0';
    *v = strtoul(buf, &end, 16);
    return end == buf + 4 ? 0 : -1;
}

/* Decode string token i into out (cap bytes, NUL-terminated). Fails the test on bad JSON. */
static void json_str(const struct json *j, int i, char *out, size_t cap)
{
    const char *s = j->text + j->tok[i].start, *e = j->text + j->tok[i].end;
    size_t n = 0;

    if (j->tok[i].type != JSMN_STRING)
        fail_msg("JSON token %d is not a string", i);
    while (s < e) {
        unsigned long cp = 0;

        if (*s != '\\') {
            if (n + 1 >= cap)
                fail_msg("JSON string too long");
            out[n++] = *s++;
            continue;
        }
        s++;
        switch (*s) {
        case 'n':
            cp = '\n';
            break;
        case 't':
            cp = '\t';
            break;
        case 'r':
            cp = '\r';
            break;
        case 'b':
            cp = '\b';
            break;
        case 'f':
            cp = '\f';
            break;
        case '/':
            cp = '/';
            break;
        case '\\':
            cp = '\\';
            break;
        case '"':
            cp = '"';
            break;
        case 'u':
            if (e - s < 5 || hex4(s + 1, &cp) != 0)
                fail_msg("bad \\u escape");
            s += 4;
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned long lo = 0;

                if (e - s < 7 || s[1] != '\\' || s[2] != 'u' || hex4(s + 3, &lo) != 0 ||
                    lo < 0xdc00 || lo > 0xdfff)
                    fail_msg("bad surrogate pair");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                s += 6;
            }
            break;
        default:
            fail_msg("bad JSON escape \\%c", *s);
            return;
        }
        s++;
        if (put_utf8(out, &n, cap, cp) != 0)
            fail_msg("JSON string too long");
    }
    out[n] = '\0';
}

/* Is token i the string key? */
static int json_eq(const struct json *j, int i, const char *key)
{
    size_t kl = strlen(key);

    return j->tok[i].type == JSMN_STRING && (size_t)(j->tok[i].end - j->tok[i].start) == kl &&
           strncmp(j->text + j->tok[i].start, key, kl) == 0;
}

/* Value token of key in object i, -1 if absent. */
static int json_get(const struct json *j, int i, const char *key)
{
    int k = i + 1;

    if (j->tok[i].type != JSMN_OBJECT)
        return -1;
    for (int m = 0; m < j->tok[i].size; m++) {
        if (json_eq(j, k, key))
            return k + 1;
        k = json_skip(j, k + 1);
    }
    return -1;
}

/* ---- Prometheus ---- */

/* GET /api/v1/query?query=q; parse into j (j->text is owned by *r). Returns data.result index. */
static int query(const char *q, struct h_resp *r, struct json *j)
{
    char url[H_URL_MAX * 2];
    char *esc = curl_easy_escape(NULL, q, 0);
    jsmn_parser p;
    int data, result, status;
    char sv[32];

    assert_non_null(esc);
    h_fmt(url, sizeof(url), "%s/api/v1/query?query=%s", prom_base, esc);
    curl_free(esc);
    if (h_get(url, r) != 0 || r->code != 200)
        return -1;
    j->text = r->body;
    jsmn_init(&p);
    j->n = jsmn_parse(&p, r->body, r->len, j->tok, JSON_TOKENS);
    if (j->n <= 0)
        fail_msg("Prometheus answer does not parse as JSON: %.200s", r->body);
    status = json_get(j, 0, "status");
    assert_true(status > 0);
    json_str(j, status, sv, sizeof(sv));
    assert_string_equal(sv, "success");
    data = json_get(j, 0, "data");
    assert_true(data > 0);
    result = json_get(j, data, "result");
    assert_true(result > 0);
    assert_int_equal(j->tok[result].type, JSMN_ARRAY);
    return result;
}

/* In result array res, the element whose metric has label=value; -1 if none. */
static int find_series(const struct json *j, int res, const char *label, const char *value)
{
    int k = res + 1;
    char v[JSON_STR_MAX];

    for (int m = 0; m < j->tok[res].size; m++) {
        int metric = json_get(j, k, "metric"), lv;

        if (metric > 0 && (lv = json_get(j, metric, label)) > 0) {
            json_str(j, lv, v, sizeof(v));
            if (strcmp(v, value) == 0)
                return k;
        }
        k = json_skip(j, k);
    }
    return -1;
}

/* The sample value (second element of "value") of series element s, as text. */
static void series_value(const struct json *j, int s, char *out, size_t cap)
{
    int v = json_get(j, s, "value");

    assert_true(v > 0);
    assert_int_equal(j->tok[v].type, JSMN_ARRAY);
    assert_int_equal(j->tok[v].size, 2);
    json_str(j, json_skip(j, v + 1), out, cap);
}

struct has_ctx {
    const char *q, *label, *value;
};

static int cond_has_series(void *ctx)
{
    struct has_ctx *c = ctx;
    struct h_resp r;
    static struct json j;
    int res, found;

    res = query(c->q, &r, &j);
    found = res > 0 && find_series(&j, res, c->label, c->value) > 0;
    h_resp_free(&r);
    return found;
}

static int cond_prom_ready(void *ctx)
{
    struct h_proc *p = ctx;
    struct h_resp r;
    char url[H_URL_MAX];
    int ok;

    if (h_proc_exited(p))
        return 1; /* stop waiting: the caller looks at p->exited */
    h_fmt(url, sizeof(url), "%s/-/ready", prom_base);
    ok = h_get(url, &r) == 0 && r.code == 200;
    h_resp_free(&r);
    return ok;
}

/* Start Prometheus scraping target every second; retry on a port race. */
static void start_prometheus(struct h_proc *p, const char *target)
{
    char cfg[H_PATH_MAX], data[H_PATH_MAX], yml[1024], a_cfg[H_PATH_MAX + 32],
        a_data[H_PATH_MAX + 32], a_listen[64], name[32];

    h_fmt(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
    h_fmt(yml, sizeof(yml),
          "global:\n"
          "  scrape_interval: 1s\n"
          "  scrape_timeout: 1s\n"
          "  evaluation_interval: 1s\n"
          "scrape_configs:\n"
          "  - job_name: elb\n"
          "    static_configs:\n"
          "      - targets: ['%s']\n",
          target);
    assert_int_equal(h_write_file(cfg, yml, strlen(yml)), 0);
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

static void test_prometheus_scrapes_exporter(void **state)
{
    const char *args[H_MAX_ARGS] = {"--poll.interval=1s", "--poll.timeout=1s"};
    size_t n = 2;
    struct h_proc sim, exp, prom;
    char sim_base[H_URL_MAX], exp_base[H_URL_MAX], v[JSON_STR_MAX];
    struct h_resp r;
    static struct json j;
    int res, s, metric, lv;

    (void)state;
    assert_int_equal(h_test_dir("prometheus_e2e", dir, sizeof(dir)), 0);
    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    assert_int_equal(h_add_scenario_jobs(args, &n, H_MAX_ARGS), 0);
    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, args, NULL, START_TIMEOUT_S,
                                      exp_base, sizeof(exp_base)),
                     0);
    start_prometheus(&prom, exp_base + strlen("http://"));

    /* both failed jobs show up as FAIL == 1 */
    {
        struct has_ctx c1 = {"elb_job_status{status=\"FAIL\"} == 1", "job_id", J_FAIL};
        struct has_ctx c2 = {"elb_job_status{status=\"FAIL\"} == 1", "job_id", J_PROG_FAIL};

        if (h_wait_for(WAIT_TIMEOUT_S, cond_has_series, &c1) != 0 ||
            h_wait_for(WAIT_TIMEOUT_S, cond_has_series, &c2) != 0) {
            h_dump_logs(&prom);
            h_dump_logs(&exp);
            fail_msg("Prometheus never saw the FAIL jobs");
        }
    }

    /* the scrape is clean: up == 1 */
    res = query("up{job=\"elb\"}", &r, &j);
    assert_true(res > 0);
    assert_int_equal(j.tok[res].size, 1);
    series_value(&j, res + 1, v, sizeof(v));
    assert_string_equal(v, "1");
    h_resp_free(&r);

    /* the error labels, decoded, are byte for byte what the API sent */
    res = query("elb_job_error_info{job_id=\"" J_FAIL "\"}", &r, &j);
    assert_true(res > 0);
    assert_int_equal(j.tok[res].size, 1);
    s = res + 1;
    metric = json_get(&j, s, "metric");
    assert_true(metric > 0);
    lv = json_get(&j, metric, "fail_reason");
    assert_true(lv > 0);
    json_str(&j, lv, v, sizeof(v));
    if (strcmp(v, FAIL_REASON) != 0)
        fail_msg("fail_reason came back as \"%s\"", v);
    lv = json_get(&j, metric, "error_code");
    assert_true(lv > 0);
    json_str(&j, lv, v, sizeof(v));
    assert_string_equal(v, "ELB.1003");
    lv = json_get(&j, metric, "job_type");
    assert_true(lv > 0);
    json_str(&j, lv, v, sizeof(v));
    assert_string_equal(v, "createELB");
    series_value(&j, s, v, sizeof(v));
    assert_string_equal(v, "1");
    h_resp_free(&r);

    /* the same series found by its exact fail_reason: PromQL escaping round-trips too */
    res = query("elb_job_error_info{fail_reason=\"Quota exceeded: \\\"elb\\\" limit 10\\nsee "
                "\xc3\xbc"
                "ber-docs \xf0\x9f\x9a\x80 \\\\ done\"}",
                &r, &j);
    assert_true(res > 0);
    assert_int_equal(j.tok[res].size, 1);
    assert_true(find_series(&j, res, "job_id", J_FAIL) > 0);
    h_resp_free(&r);

    res = query("elb_job_error_info{job_id=\"" J_PROG_FAIL "\"}", &r, &j);
    assert_true(res > 0);
    assert_int_equal(j.tok[res].size, 1);
    metric = json_get(&j, res + 1, "metric");
    lv = json_get(&j, metric, "fail_reason");
    assert_true(lv > 0);
    json_str(&j, lv, v, sizeof(v));
    assert_string_equal(v, "backend busy");
    h_resp_free(&r);

    /* a timestamp survives as a float */
    res = query("elb_job_begin_timestamp_seconds{job_id=\"" J_SEED "\"}", &r, &j);
    assert_true(res > 0);
    assert_int_equal(j.tok[res].size, 1);
    series_value(&j, res + 1, v, sizeof(v));
    assert_string_equal(v, "1506678577.399");
    h_resp_free(&r);

    /* the counter of failed jobs, once per job */
    res = query("elb_jobs_failed_total{job_type=\"createELB\",error_code=\"ELB.1003\"}", &r, &j);
    assert_true(res > 0);
    assert_int_equal(j.tok[res].size, 1);
    series_value(&j, res + 1, v, sizeof(v));
    assert_string_equal(v, "1");
    h_resp_free(&r);

    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&prom, 30.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_prometheus_scrapes_exporter, h_teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
