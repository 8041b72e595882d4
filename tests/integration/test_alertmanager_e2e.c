/*
 * alertmanager_e2e: a failed job reaches an Alertmanager webhook, a classic
 * FAIL and an ELB v3 ROLLBACK_FAIL alike.
 *
 * The whole chain runs for real, on 127.0.0.1 only: the simulator serves a
 * classic ELB job that goes INIT, RUNNING, FAIL (ELB.2001) and an ELB v3 job
 * that rolls back into ROLLBACK_FAIL (ELB.8907), one step per answer; the
 * exporter polls both (the classic one is --elb.profile's and has no profile
 * label, the v3 one is listed as elb-v3:ID); Prometheus scrapes the exporter
 * every second and evaluates dashboards/alerts.yml as shipped (ElbJobFailed
 * has `for: 0m`, so the rule file is used unchanged); Alertmanager routes
 * every alert, one group per alert, with group_wait 0s, to a webhook receiver
 * inside this test (webhook.c). The test waits, with a deadline, until the
 * webhook has a firing ElbJobFailed for each job, checks that its labels and
 * annotations carry the job id, the error code and the failure text, and
 * prints the time from the failure to the webhook: from the exporter's answer
 * that saw it (elb_job_last_fetch_timestamp_seconds: a finished job is never
 * polled again, and with --step-ms=0 the simulator's transition is that very
 * answer) to the webhook's receipt of the notification.
 *
 * The jobs are listed only once Prometheus scrapes the exporter (through
 * --jobs.file), so that the time measured is the chain's and not its start.
 * Alertmanager and Prometheus listen on port 0 and the port is read from
 * their "Listening on" log line, so no port can be taken in between.
 *
 * Prometheus is also asked the dashboard's profile filter values (README,
 * dashboards/elb_jobs.json): `^$` must select only the default profile's job,
 * which has no profile label, and `.*` both.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "harness.h"
#include "json.h"
#include "webhook.h"

#define START_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define TOOL_START_TIMEOUT_S 30.0 /* Prometheus, Alertmanager */
#define SCRAPE_TIMEOUT_S (20.0 * IT_TIME_SCALE)
#define WEBHOOK_TIMEOUT_S (30.0 * IT_TIME_SCALE)
#define STR_MAX 1024 /* bytes of one decoded JSON string */

/* The two jobs of the simulator's script (src/sim/sim.c) and what they fail with. */
#define V1_ID J_PROG_FAIL
#define V1_TYPE "deleteELB"
#define V1_CODE "ELB.2001"
#define V1_REASON "backend busy"
#define V3_ID "6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
#define V3_TYPE "cloneLoadbalancer"
#define V3_CODE "ELB.8907"
#define V3_REASON "Rollback failed: listener \"web-443\" is still in use."

static char dir[H_PATH_MAX];
static struct h_webhook *hook;

/* ---- JSON (the project's own reader, src/json.c) ---- */

/* Decoded string member key of object obj into out, or NULL if absent or not a string. */
static const char *jstr(const struct json_doc *d, int obj, const char *key, char *out, size_t cap)
{
    int v = obj >= 0 ? json_get(d, obj, key) : -1;

    if (v < 0 || json_type(d, v) != JSON_STRING || json_string(d, v, out, cap, NULL) != 0)
        return NULL;
    return out;
}

/* ---- processes that log their address ---- */

struct listen_ctx {
    struct h_proc *p;
    uint16_t port;
};

/* Has p logged `msg="Listening on" address=127.0.0.1:PORT` (Prometheus, Alertmanager)? */
static int cond_logged_port(void *ctx)
{
    static const char mark[] = "msg=\"Listening on\" address=127.0.0.1:";
    struct listen_ctx *c = ctx;
    char *log, *at;
    unsigned long port;

    if (h_proc_exited(c->p))
        return 1; /* stop waiting: the caller looks at p->exited */
    log = h_read_file(c->p->err_path, NULL);
    if (!log)
        return 0;
    at = strstr(log, mark);
    if (at) {
        char *end;

        errno = 0;
        port = strtoul(at + sizeof(mark) - 1, &end, 10);
        if (errno == 0 && end != at + sizeof(mark) - 1 && port > 0 && port <= 65535)
            c->port = (uint16_t)port;
    }
    free(log);
    return c->port != 0;
}

/* GET base/-/ready is 200 (both tools have it). */
static int cond_ready(void *ctx)
{
    const char *base = ctx;
    struct h_resp r;
    char url[H_URL_MAX];
    int ok;

    h_fmt(url, sizeof(url), "%s/-/ready", base);
    ok = h_get(url, &r) == 0 && r.code == 200;
    h_resp_free(&r);
    return ok;
}

/* Start argv (its web.listen-address 127.0.0.1:0) as name; wait for its port and readiness. */
static void start_tool(struct h_proc *p, const char *name, const char *const *argv, char *base,
                       size_t cap)
{
    struct listen_ctx c = {p, 0};

    assert_int_equal(h_spawn(p, dir, name, argv, NULL), 0);
    if (h_wait_for(TOOL_START_TIMEOUT_S, cond_logged_port, &c) != 0 || p->exited || !c.port) {
        h_dump_logs(p);
        fail_msg("%s did not log the address it listens on", name);
    }
    h_fmt(base, cap, "http://127.0.0.1:%u", c.port);
    if (h_wait_for(TOOL_START_TIMEOUT_S, cond_ready, base) != 0) {
        h_dump_logs(p);
        fail_msg("%s at %s never became ready", name, base);
    }
}

static void start_alertmanager(struct h_proc *p, char *base, size_t cap)
{
    char cfg[H_PATH_MAX], yml[1024], a_cfg[H_PATH_MAX + 32], a_data[H_PATH_MAX + 32];

    h_fmt(cfg, sizeof(cfg), "%s/alertmanager.yml", dir);
    /* every alert its own group ('...'), sent at once; resolved ones are not wanted here */
    h_fmt(yml, sizeof(yml),
          "route:\n"
          "  receiver: test\n"
          "  group_by: ['...']\n"
          "  group_wait: 0s\n"
          "  group_interval: 1s\n"
          "  repeat_interval: 1h\n"
          "receivers:\n"
          "  - name: test\n"
          "    webhook_configs:\n"
          "      - url: http://127.0.0.1:%u/alerts\n"
          "        send_resolved: false\n",
          h_webhook_port(hook));
    assert_int_equal(h_write_file(cfg, yml, strlen(yml)), 0);
    h_fmt(a_cfg, sizeof(a_cfg), "--config.file=%s", cfg);
    h_fmt(a_data, sizeof(a_data), "--storage.path=%s/alertmanager-data", dir);
    const char *argv[] = {ALERTMANAGER,
                          a_cfg,
                          a_data,
                          "--web.listen-address=127.0.0.1:0",
                          "--cluster.listen-address=", /* no gossip: nothing but loopback */
                          NULL};

    start_tool(p, "alertmanager", argv, base, cap);
}

static void start_prometheus(struct h_proc *p, const char *target, const char *am_base, char *base,
                             size_t cap)
{
    char cfg[H_PATH_MAX], yml[2048], a_cfg[H_PATH_MAX + 32], a_data[H_PATH_MAX + 32];

    h_fmt(cfg, sizeof(cfg), "%s/prometheus.yml", dir);
    /* the scrape job's name contains "elb", as alerts.yml's ElbJobExporterDown expects */
    h_fmt(yml, sizeof(yml),
          "global:\n"
          "  scrape_interval: 1s\n"
          "  scrape_timeout: 1s\n"
          "  evaluation_interval: 1s\n"
          "rule_files:\n"
          "  - '%s'\n"
          "alerting:\n"
          "  alertmanagers:\n"
          "    - static_configs:\n"
          "        - targets: ['%s']\n"
          "scrape_configs:\n"
          "  - job_name: elb\n"
          "    static_configs:\n"
          "      - targets: ['%s']\n",
          ALERTS_YML, am_base + strlen("http://"), target);
    assert_int_equal(h_write_file(cfg, yml, strlen(yml)), 0);
    h_fmt(a_cfg, sizeof(a_cfg), "--config.file=%s", cfg);
    h_fmt(a_data, sizeof(a_data), "--storage.tsdb.path=%s/tsdb", dir);
    const char *argv[] = {PROMETHEUS, a_cfg, a_data, "--web.listen-address=127.0.0.1:0", NULL};

    start_tool(p, "prometheus", argv, base, cap);
}

/* ---- Prometheus's query API ---- */

/*
 * GET prom_base's /api/v1/query?query=q and parse it into *d (its text is owned
 * by *r; release both either way). Returns the index of data.result, an array,
 * or -1 when Prometheus gave no good answer.
 */
static int query(const char *prom_base, const char *q, struct h_resp *r, struct json_doc **d)
{
    char url[H_URL_MAX * 2], v[STR_MAX];
    char *esc = curl_easy_escape(NULL, q, 0);
    int data, res;

    assert_non_null(esc);
    h_fmt(url, sizeof(url), "%s/api/v1/query?query=%s", prom_base, esc);
    curl_free(esc);
    *d = NULL;
    if (h_get(url, r) != 0 || r->code != 200 || json_parse(r->body, r->len, d) != 0)
        return -1;
    if (!jstr(*d, 0, "status", v, sizeof(v)) || strcmp(v, "success") != 0)
        return -1;
    data = json_get(*d, 0, "data");
    res = data >= 0 ? json_get(*d, data, "result") : -1;
    return res >= 0 && json_type(*d, res) == JSON_ARRAY ? res : -1;
}

/* The job_id labels of the (at most two) series q returns, sorted, joined by ',' into out. */
static void query_job_ids(const char *prom_base, const char *q, char *out, size_t cap)
{
    char ids[2][STR_MAX];
    struct json_doc *d;
    struct h_resp r;
    int res = query(prom_base, q, &r, &d), e, n = 0;

    if (res < 0)
        fail_msg("%s: no good answer from Prometheus: %.300s", q, r.body ? r.body : "");
    for (e = json_first(d, res); e >= 0; e = json_next(d, e)) {
        if (n == 2 || !jstr(d, json_get(d, e, "metric"), "job_id", ids[n], sizeof(ids[n])))
            fail_msg("%s: an unexpected series in %.1000s", q, r.body);
        n++;
    }
    if (n == 2)
        h_fmt(out, cap, "%s,%s", strcmp(ids[0], ids[1]) < 0 ? ids[0] : ids[1],
              strcmp(ids[0], ids[1]) < 0 ? ids[1] : ids[0]);
    else
        h_fmt(out, cap, "%s", n == 1 ? ids[0] : "");
    json_free(d);
    h_resp_free(&r);
}

/* Prometheus (ctx: its base URL) has scraped the exporter successfully: up{job="elb"} is 1. */
static int cond_scraped(void *ctx)
{
    struct json_doc *d;
    struct h_resp r;
    int res = query(ctx, "up{job=\"elb\"} == 1", &r, &d);
    int ok = res >= 0 && json_size(d, res) == 1;

    json_free(d);
    h_resp_free(&r);
    return ok;
}

/* ---- the webhook's notifications ---- */

/* A firing ElbJobFailed for job_id as the webhook received it. */
struct seen {
    const char *job_id;
    int found;
    size_t body;    /* index of the first body that has it */
    double wall;    /* when that body arrived */
    size_t scanned; /* bodies already looked at */
};

/* Does body (a webhook notification) hold a firing ElbJobFailed alert for job_id? */
static int body_has_alert(const char *body, size_t len, const char *job_id)
{
    struct json_doc *d = NULL;
    char v[STR_MAX];
    int alerts, a, hit = 0;

    if (json_parse(body, len, &d) != 0)
        fail_msg("the webhook got a body that is not JSON: %.300s", body);
    alerts = json_get(d, 0, "alerts");
    if (alerts < 0 || json_type(d, alerts) != JSON_ARRAY)
        fail_msg("a webhook notification without alerts: %.300s", body);
    for (a = json_first(d, alerts); a >= 0 && !hit; a = json_next(d, a)) {
        int labels = json_get(d, a, "labels");

        hit = jstr(d, a, "status", v, sizeof(v)) && strcmp(v, "firing") == 0 &&
              jstr(d, labels, "alertname", v, sizeof(v)) && strcmp(v, "ElbJobFailed") == 0 &&
              jstr(d, labels, "job_id", v, sizeof(v)) && strcmp(v, job_id) == 0;
    }
    json_free(d);
    return hit;
}

/* Look at the bodies that arrived since the last call. */
static void scan_bodies(struct seen *s)
{
    size_t n = h_webhook_count(hook, NULL);

    for (; !s->found && s->scanned < n; s->scanned++) {
        size_t len = 0;
        double wall = 0;
        char *body = h_webhook_body(hook, s->scanned, &len, &wall);

        assert_non_null(body);
        if (body_has_alert(body, len, s->job_id)) {
            s->found = 1;
            s->body = s->scanned;
            s->wall = wall;
        }
        free(body);
    }
}

static int cond_both_alerts(void *ctx)
{
    struct seen *s = ctx;

    scan_bodies(&s[0]);
    scan_bodies(&s[1]);
    return s[0].found && s[1].found;
}

/*
 * Check the alert for job_id in the body where it was first seen: the labels are
 * the failed job's (profile only for a job of another profile than --elb.profile),
 * and the annotations name the job, the error code and the failure text.
 */
static void check_alert(const struct seen *s, const char *type, const char *code,
                        const char *reason, const char *profile, const char *exp_instance)
{
    size_t len = 0;
    char *body = h_webhook_body(hook, s->body, &len, NULL);
    struct json_doc *d = NULL;
    char v[STR_MAX];
    int alerts, a, labels, ann, hit = -1;

    assert_non_null(body);
    assert_int_equal(json_parse(body, len, &d), 0);
    assert_non_null(jstr(d, 0, "version", v, sizeof(v)));
    assert_string_equal(v, "4");
    assert_non_null(jstr(d, 0, "receiver", v, sizeof(v)));
    assert_string_equal(v, "test");
    alerts = json_get(d, 0, "alerts");
    for (a = json_first(d, alerts); a >= 0; a = json_next(d, a))
        if (jstr(d, json_get(d, a, "labels"), "job_id", v, sizeof(v)) && strcmp(v, s->job_id) == 0)
            hit = a;
    assert_true(hit >= 0);
    labels = json_get(d, hit, "labels");
    ann = json_get(d, hit, "annotations");
    assert_true(labels >= 0 && ann >= 0);

    assert_non_null(jstr(d, hit, "status", v, sizeof(v)));
    assert_string_equal(v, "firing");
    assert_non_null(jstr(d, labels, "alertname", v, sizeof(v)));
    assert_string_equal(v, "ElbJobFailed");
    assert_non_null(jstr(d, labels, "severity", v, sizeof(v)));
    assert_string_equal(v, "warning");
    assert_non_null(jstr(d, labels, "job_type", v, sizeof(v)));
    assert_string_equal(v, type);
    assert_non_null(jstr(d, labels, "error_code", v, sizeof(v)));
    assert_string_equal(v, code);
    assert_non_null(jstr(d, labels, "fail_reason", v, sizeof(v)));
    assert_string_equal(v, reason);
    assert_non_null(jstr(d, labels, "job", v, sizeof(v)));
    assert_string_equal(v, "elb");
    assert_non_null(jstr(d, labels, "instance", v, sizeof(v)));
    assert_string_equal(v, exp_instance);
    if (profile) {
        assert_non_null(jstr(d, labels, "profile", v, sizeof(v)));
        assert_string_equal(v, profile);
    } else if (json_get(d, labels, "profile") >= 0) {
        fail_msg("the default profile's job %s has a profile label", s->job_id);
    }

    assert_non_null(jstr(d, ann, "summary", v, sizeof(v)));
    if (!strstr(v, s->job_id) || !strstr(v, type))
        fail_msg("summary without the job id %s and type %s: %s", s->job_id, type, v);
    assert_non_null(jstr(d, ann, "description", v, sizeof(v)));
    if (!strstr(v, s->job_id) || !strstr(v, code) || !strstr(v, reason))
        fail_msg("description without the job id, %s and \"%s\": %s", code, reason, v);
    json_free(d);
    free(body);
}

/* Replace path atomically (write a sibling, rename), as configuration tools do. */
static void replace_file(const char *path, const char *text)
{
    char tmp[H_PATH_MAX + 8];

    h_fmt(tmp, sizeof(tmp), "%s.new", path);
    assert_int_equal(h_write_file(tmp, text, strlen(text)), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void test_failed_jobs_reach_the_webhook(void **state)
{
    char sim_base[H_URL_MAX], exp_base[H_URL_MAX], am_base[H_URL_MAX], prom_base[H_URL_MAX];
    char jobs[H_PATH_MAX], a_jobs[H_PATH_MAX + 16], url[H_URL_MAX], ids[2 * STR_MAX];
    struct h_proc sim, exp, prom, am;
    struct seen seen[2] = {{.job_id = V1_ID}, {.job_id = V3_ID}};
    struct h_expo e;
    double fetched[2], t_listed, t_done;

    (void)state;
    assert_int_equal(h_test_dir("alertmanager_e2e", dir, sizeof(dir)), 0);
    assert_int_equal(h_webhook_start(&hook), 0);
    start_alertmanager(&am, am_base, sizeof(am_base));

    assert_int_equal(h_start_sim(&sim, dir, 3000, sim_base, sizeof(sim_base)), 0);
    h_fmt(jobs, sizeof(jobs), "%s/jobs", dir);
    replace_file(jobs, "# the jobs are listed once Prometheus scrapes the exporter\n");
    h_fmt(a_jobs, sizeof(a_jobs), "--jobs.file=%s", jobs);
    const char *flags[] = {a_jobs, "--poll.interval=500ms", "--poll.timeout=1s", NULL};

    assert_int_equal(h_start_exporter(&exp, dir, "exporter", sim_base, flags, NULL, START_TIMEOUT_S,
                                      exp_base, sizeof(exp_base)),
                     0);
    start_prometheus(&prom, exp_base + strlen("http://"), am_base, prom_base, sizeof(prom_base));
    if (h_wait_for(SCRAPE_TIMEOUT_S, cond_scraped, prom_base) != 0) {
        h_dump_logs(&prom);
        fail_msg("Prometheus never scraped the exporter");
    }

    /* the chain is up: list the jobs; the classic one fails at its third answer, v3 at its 4th */
    t_listed = h_mono();
    replace_file(jobs, V1_ID "\nelb-v3:" V3_ID "\n");
    if (h_wait_for(WEBHOOK_TIMEOUT_S, cond_both_alerts, seen) != 0) {
        size_t dropped = 0, n = h_webhook_count(hook, &dropped);

        fprintf(stderr, "webhook: %zu notifications (%zu dropped); classic %s, v3 %s\n", n, dropped,
                seen[0].found ? "seen" : "missing", seen[1].found ? "seen" : "missing");
        for (size_t i = 0; i < n; i++) {
            char *b = h_webhook_body(hook, i, NULL, NULL);

            fprintf(stderr, "webhook body %zu: %.2000s\n", i, b ? b : "(null)");
            free(b);
        }
        h_dump_logs(&exp);
        h_dump_logs(&prom);
        h_dump_logs(&am);
        fail_msg("the webhook did not get a firing ElbJobFailed for both jobs in %.0f s",
                 WEBHOOK_TIMEOUT_S);
    }
    t_done = h_mono();

    /* what each alert says */
    check_alert(&seen[0], V1_TYPE, V1_CODE, V1_REASON, NULL, exp_base + strlen("http://"));
    check_alert(&seen[1], V3_TYPE, V3_CODE, V3_REASON, "elb-v3", exp_base + strlen("http://"));

    /* when each job was seen failing: its last answer (a finished job is not polled again) */
    h_fmt(url, sizeof(url), "%s/metrics", exp_base);
    assert_int_equal(h_scrape(url, &e), 0);
    H_EXPECT(&e, "elb_job_status", "job_id=\"" V1_ID "\",job_type=\"" V1_TYPE "\",status=\"FAIL\"",
             1);
    H_EXPECT(&e, "elb_job_status",
             "job_id=\"" V3_ID "\",job_type=\"" V3_TYPE "\",profile=\"elb-v3\","
             "status=\"ROLLBACK_FAIL\"",
             1);
    fetched[0] = H_VALUE(&e, "elb_job_last_fetch_timestamp_seconds",
                         "job_id=\"" V1_ID "\",job_type=\"" V1_TYPE "\"");
    fetched[1] = H_VALUE(&e, "elb_job_last_fetch_timestamp_seconds",
                         "job_id=\"" V3_ID "\",job_type=\"" V3_TYPE "\",profile=\"elb-v3\"");
    h_expo_free(&e);
    for (int i = 0; i < 2; i++) {
        double lag = seen[i].wall - fetched[i];

        /* the timestamp is the exporter's wall clock, the receipt this process's: one clock */
        if (lag < -0.01 || lag > WEBHOOK_TIMEOUT_S)
            fail_msg("%s: webhook %.3f s after the failure was fetched", seen[i].job_id, lag);
        printf("time to webhook: %s %s %.2f s (exporter's answer at %.3f, webhook at %.3f)\n",
               i == 0 ? "elb-v1 FAIL" : "elb-v3 ROLLBACK_FAIL", seen[i].job_id, lag, fetched[i],
               seen[i].wall);
    }
    printf("both alerts reached the webhook %.2f s after the jobs were listed\n",
           t_done - t_listed);

    /* the dashboard's profile filter against the real series: ^$ is the default profile */
    query_job_ids(prom_base, "elb_job_info{profile=~\"^$\"}", ids, sizeof(ids));
    assert_string_equal(ids, V1_ID);
    query_job_ids(prom_base, "elb_job_info{profile=~\"elb-v3\"}", ids, sizeof(ids));
    assert_string_equal(ids, V3_ID);
    query_job_ids(prom_base, "elb_job_info{profile=~\"^$|elb-v3\"}", ids, sizeof(ids));
    assert_string_equal(ids, V1_ID "," V3_ID);
    query_job_ids(prom_base, "elb_job_info{profile=~\".*\"}", ids, sizeof(ids));
    assert_string_equal(ids, V1_ID "," V3_ID);

    H_STOP_CLEAN(&exp, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&sim, 5.0 * IT_TIME_SCALE);
    H_STOP_CLEAN(&prom, 30.0);
    H_STOP_CLEAN(&am, 30.0);
    h_webhook_stop(hook);
    hook = NULL;
}

/* The webhook runs in this process: stop it too, whatever happened. */
static int teardown(void **state)
{
    h_webhook_stop(hook);
    hook = NULL;
    return h_teardown(state);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_failed_jobs_reach_the_webhook, teardown),
    };

    return cmocka_run_group_tests(tests, h_group_setup, h_group_teardown);
}
