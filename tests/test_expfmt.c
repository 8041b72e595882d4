/*
 * test_expfmt: the exposition renderer (src/expfmt.c).
 *
 * A fixture with jobs in every state (one FAIL with a hostile fail_reason,
 * one 404 after a known record, one never fetched, one with a status the
 * profile lacks, one with clock skew) is rendered and checked line by line,
 * for structure (HELP/TYPE before samples, each family in one block, no
 * duplicate series) and by `promtool check metrics`. Also: number formatting,
 * label escaping, rollback at every cap.
 *
 * The OpenMetrics form of the same fixture: metadata by the spec (TYPE, UNIT,
 * HELP; counter and info families named without their suffix; # EOF), sample
 * lines byte for byte those of the text form, and a strict OpenMetrics parser
 * (tests/om_check.py, prometheus_client's) on it, the sparse form and a
 * worst case. --metrics.sparse-status in both formats.
 *
 * ELB_PROMTOOL is promtool's path as tests/CMakeLists.txt found it; a promtool
 * that is not there fails the promtool cases. They skip only when a partial run
 * left promtool out by name (-DELB_ALLOW_MISSING_TOOLS=ON, ELB_PROMTOOL "").
 * ELB_OM_PYTHON and ELB_OM_CHECK (Debian's python3 with python3-prometheus-client,
 * and tests/om_check.py) likewise for the OpenMetrics parser cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "expfmt.h"

#define OUT_MAX (1u << 24)
#ifndef ELB_PROMTOOL
#error "ELB_PROMTOOL: the path of promtool, defined by tests/CMakeLists.txt"
#endif
#if !defined(ELB_OM_PYTHON) || !defined(ELB_OM_CHECK)
#error "ELB_OM_PYTHON, ELB_OM_CHECK: python3 and tests/om_check.py, defined by tests/CMakeLists.txt"
#endif
#define PROMTOOL_PACKAGE "prometheus"
#define MAX_FAMILIES 64
#define MAX_SERIES 512
#define NUM_BUF 32

/* A fail_reason with everything that needs escaping, and UTF-8. */
#define NASTY_REASON                                                                               \
    "bad \"quota\" C:\\tmp\\x\nline2 \xc3\xbcn\xc3\xaf"                                            \
    "c\xc3\xb8"                                                                                    \
    "d\xc3\xa9 \xe2\x9c\x93"
#define NASTY_REASON_ESCAPED                                                                       \
    "bad \\\"quota\\\" C:\\\\tmp\\\\x\\nline2 \xc3\xbcn\xc3\xaf"                                   \
    "c\xc3\xb8"                                                                                    \
    "d\xc3\xa9 \xe2\x9c\x93"

enum { J_INIT, J_RUNNING, J_SUCCESS, J_FAIL, J_NEVER, J_GONE, J_ODD, J_SKEW, N_JOBS };

struct fixture {
    struct job_record recs[N_JOBS];
    struct expfmt_job jobs[N_JOBS];
    struct stats stats;
    struct proc_stats proc;
    struct build_info build;
    struct http_counters http;
    struct expfmt_input in;
};

static void set_rec(struct job_record *r, const char *id, const char *type, enum job_status s)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->job_id, sizeof(r->job_id), "%s", id);
    snprintf(r->job_type, sizeof(r->job_type), "%s", type);
    snprintf(r->status_raw, sizeof(r->status_raw), "%s", job_status_name(s));
    r->status = s;
}

static void set_job(struct expfmt_job *j, const char *id, const struct job_record *rec,
                    enum job_status s, int ok, double last_fetch)
{
    j->id = id;
    j->rec = rec;
    j->status = s;
    j->fetch_success = ok;
    j->last_fetch = last_fetch;
    j->observed_at = last_fetch;
}

static void fixture_init(struct fixture *f)
{
    struct job_record *r = f->recs;
    struct stats *st = &f->stats;

    memset(f, 0, sizeof(*f));
    set_rec(&r[J_INIT], "a1", "createELB", JOB_INIT);
    r[J_INIT].has_begin = 1;
    r[J_INIT].begin_time = 1700000000.5;
    set_job(&f->jobs[J_INIT], "a1", &r[J_INIT], JOB_INIT, 1, 1700000010.75);

    set_rec(&r[J_RUNNING], "b2", "deleteELB", JOB_RUNNING);
    r[J_RUNNING].has_begin = 1;
    r[J_RUNNING].begin_time = 1700000000;
    snprintf(r[J_RUNNING].resource_id, sizeof(r[J_RUNNING].resource_id), "%s",
             "ea3e5715b68850a747ec41f335625c08");
    set_job(&f->jobs[J_RUNNING], "b2", &r[J_RUNNING], JOB_RUNNING, 1, 1700000030.5);

    set_rec(&r[J_SUCCESS], "c3", "createELB", JOB_SUCCESS);
    r[J_SUCCESS].has_begin = r[J_SUCCESS].has_end = 1;
    r[J_SUCCESS].begin_time = 1700000000.25;
    r[J_SUCCESS].end_time = 1700000062.75;
    r[J_SUCCESS].has_sub_jobs = 1;
    r[J_SUCCESS].sub_jobs[JOB_SUCCESS] = 2;
    r[J_SUCCESS].sub_jobs[JOB_FAIL] = 1;
    r[J_SUCCESS].sub_jobs[JOB_UNKNOWN] = 1;
    snprintf(r[J_SUCCESS].resource_id, sizeof(r[J_SUCCESS].resource_id), "%s", "lb-1");
    set_job(&f->jobs[J_SUCCESS], "c3", &r[J_SUCCESS], JOB_SUCCESS, 1, 1700000100);

    set_rec(&r[J_FAIL], "d4", "createELB", JOB_FAIL);
    r[J_FAIL].has_begin = r[J_FAIL].has_end = 1;
    r[J_FAIL].begin_time = 1700000000;
    r[J_FAIL].end_time = 1700000003;
    snprintf(r[J_FAIL].error_code, sizeof(r[J_FAIL].error_code), "%s", "ELB.1003");
    snprintf(r[J_FAIL].fail_reason, sizeof(r[J_FAIL].fail_reason), "%s", NASTY_REASON);
    set_job(&f->jobs[J_FAIL], "d4", &r[J_FAIL], JOB_FAIL, 1, 1700000004);

    set_job(&f->jobs[J_NEVER], "e5", NULL, JOB_UNKNOWN, 0, 0);

    /* A 404 after a good RUNNING answer: rec kept, status UNKNOWN. */
    set_rec(&r[J_GONE], "f6", "deleteELB", JOB_RUNNING);
    r[J_GONE].has_begin = 1;
    r[J_GONE].begin_time = 1700000000;
    snprintf(r[J_GONE].resource_id, sizeof(r[J_GONE].resource_id), "%s", "gone-lb");
    set_job(&f->jobs[J_GONE], "f6", &r[J_GONE], JOB_UNKNOWN, 0, 1700000005);

    /* The server sent a status the profile does not know. */
    set_rec(&r[J_ODD], "g7", "modifyELB", JOB_UNKNOWN);
    snprintf(r[J_ODD].status_raw, sizeof(r[J_ODD].status_raw), "%s", "ROLLBACKING");
    r[J_ODD].has_begin = 1;
    r[J_ODD].begin_time = 1700000000;
    set_job(&f->jobs[J_ODD], "g7", &r[J_ODD], JOB_UNKNOWN, 1, 1700000002);

    /* Server clock ahead of ours: begin after the poll. */
    set_rec(&r[J_SKEW], "h8", "deleteELB", JOB_RUNNING);
    r[J_SKEW].has_begin = 1;
    r[J_SKEW].begin_time = 1700000050;
    set_job(&f->jobs[J_SKEW], "h8", &r[J_SKEW], JOB_RUNNING, 1, 1700000040);

    stats_count_code(st, 200);
    stats_count_code(st, 200);
    stats_count_code(st, 404);
    stats_count_code(st, 429);
    stats_count_error(st, API_ERR_TIMEOUT);
    stats_count_error(st, API_ERR_TIMEOUT);
    stats_count_error(st, API_ERR_PARSE);
    stats_observe_duration(st, 0.25);
    stats_observe_duration(st, 0.5);
    stats_observe_duration(st, 0.5);
    stats_observe_duration(st, 2);
    stats_observe_duration(st, 7);
    stats_observe_duration(st, 30);
    st->api_up = 1;
    st->auth_requests = 2;
    st->auth_failures = 1;
    st->auth_token_expiry = 1700086400;
    st->poll_cycles = 42;
    st->last_cycle_ts = 1700000031;
    st->last_cycle_duration = 0.125;
    stats_count_finished(st, "createELB");
    stats_count_finished(st, "createELB");
    stats_count_failed(st, "createELB", "ELB.1003");
    st->series_dropped = 3;
    st->store = (struct stats_store){.enabled = 1,
                                     .jobs = 12,
                                     .log_bytes = 4096,
                                     .records_corrupt = 1,
                                     .bytes_cut = 37,
                                     .appends = 100,
                                     .fsyncs = 9,
                                     .compactions = 2,
                                     .write_errors = 0,
                                     .replay_seconds = 0.25};

    f->proc.ok = 1;
    f->proc.cpu_seconds = 1.5;
    f->proc.start_time = 1699999000;
    f->proc.resident_bytes = 10485760;
    f->proc.virtual_bytes = 123456789;
    f->proc.open_fds = 9;
    f->proc.max_fds = 1024;

    f->build.version = "0.1.0";
    f->build.revision = "abc123def456";
    f->build.libcurl = "7.88.1";
    f->build.libmicrohttpd = "0.9.75";

    f->in.profile = profile_default();
    f->in.jobs = f->jobs;
    f->in.n_jobs = N_JOBS;
    f->in.stats = st;
    f->in.proc = &f->proc;
    f->in.build = &f->build;

    atomic_store(&f->http.refused[HTTP_REFUSE_PER_IP_LIMIT], 536);
    atomic_store(&f->http.cut[HTTP_CUT_HEADER_TIMEOUT], 2);
    atomic_store(&f->http.server_errors, 1234567);
    atomic_store(&f->http.waiting, 1000);
    atomic_store(&f->http.waits_refused, 3);
    atomic_store(&f->http.requests_refused[HTTP_REQ_REFUSE_MAX_REQUESTS], 3);
    atomic_store(&f->http.requests_refused[HTTP_REQ_REFUSE_UNAUTHORIZED], 41);
    f->in.http = &f->http;
}

/* Render in as fmt into a fresh buffer; the caller frees the result. */
static char *render_as(const struct expfmt_input *in, enum expfmt_format fmt)
{
    struct strbuf b;
    char *p;

    strbuf_init(&b, OUT_MAX);
    assert_int_equal(expfmt_render(&b, fmt, in), 0);
    p = strbuf_detach(&b, NULL);
    assert_non_null(p);
    return p;
}

static char *render(const struct expfmt_input *in)
{
    return render_as(in, EXPFMT_TEXT_004);
}

/* Does text hold line as a whole line? */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    const char *p = text;

    while ((p = strstr(p, line)) != NULL) {
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
        p++;
    }
    return 0;
}

#define assert_line(text, line)                                                                    \
    do {                                                                                           \
        if (!has_line((text), (line)))                                                             \
            fail_msg("missing line: %s", (line));                                                  \
    } while (0)

#define assert_no_line(text, line)                                                                 \
    do {                                                                                           \
        if (has_line((text), (line)))                                                              \
            fail_msg("unexpected line: %s", (line));                                               \
    } while (0)

/* Number of lines of text that start with prefix. */
static unsigned count_prefix(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    const char *p = text;
    unsigned count = 0;

    while (*p) {
        const char *nl = strchr(p, '\n');

        if (strncmp(p, prefix, n) == 0)
            count++;
        if (!nl)
            break;
        p = nl + 1;
    }
    return count;
}

static int ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);

    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/*
 * Check the text format's structure: every line ends in \n; each family is
 * "# HELP" then "# TYPE" (same name) then its samples, and never reappears;
 * samples belong to the family above them (histogram parts included);
 * counters end in _total; no series appears twice. Returns the family count.
 */
static unsigned check_structure(const char *text)
{
    char families[MAX_FAMILIES][128];
    const char *series[MAX_SERIES];
    size_t series_len[MAX_SERIES];
    unsigned n_fam = 0, n_series = 0, i;
    char type[16] = "";
    const char *p = text;

    assert_true(*text == '\0' || text[strlen(text) - 1] == '\n');
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = (size_t)(nl - p), name_len;

        assert_non_null(nl);
        assert_true(len > 0);
        if (strncmp(p, "# HELP ", 7) == 0) {
            const char *name = p + 7;
            const char *sp = memchr(name, ' ', len - 7);

            assert_non_null(sp);
            assert_true(sp + 1 < nl); /* non-empty help */
            name_len = (size_t)(sp - name);
            assert_true(name_len < sizeof(families[0]));
            for (i = 0; i < n_fam; i++)
                if (strlen(families[i]) == name_len && memcmp(families[i], name, name_len) == 0)
                    fail_msg("family %s appears twice", families[i]);
            assert_true(n_fam < MAX_FAMILIES);
            memcpy(families[n_fam], name, name_len);
            families[n_fam][name_len] = '\0';
            n_fam++;
            /* TYPE must follow at once, same name */
            p = nl + 1;
            nl = strchr(p, '\n');
            assert_non_null(nl);
            assert_int_equal(strncmp(p, "# TYPE ", 7), 0);
            assert_memory_equal(p + 7, families[n_fam - 1], name_len);
            assert_int_equal(p[7 + name_len], ' ');
            len = (size_t)(nl - (p + 8 + name_len));
            assert_true(len > 0 && len < sizeof(type));
            memcpy(type, p + 8 + name_len, len);
            type[len] = '\0';
            assert_true(strcmp(type, "gauge") == 0 || strcmp(type, "counter") == 0 ||
                        strcmp(type, "histogram") == 0);
            if (strcmp(type, "counter") == 0)
                assert_true(ends_with(families[n_fam - 1], name_len, "_total"));
            p = nl + 1;
            continue;
        }
        assert_int_not_equal(p[0], '#'); /* no other comment lines */
        assert_true(n_fam > 0);
        name_len = strcspn(p, "{ ");
        {
            const char *fam = families[n_fam - 1];
            size_t fl = strlen(fam);
            int ok = name_len == fl && memcmp(p, fam, fl) == 0;

            if (!ok && strcmp(type, "histogram") == 0 && name_len > fl && memcmp(p, fam, fl) == 0)
                ok = ends_with(p, name_len, "_bucket") || ends_with(p, name_len, "_sum") ||
                     ends_with(p, name_len, "_count");
            if (!ok)
                fail_msg("sample %.*s outside its family %s", (int)len, p, fam);
        }
        /* series = everything before the last space */
        {
            const char *sp = nl;

            while (sp > p && sp[-1] != ' ')
                sp--;
            assert_true(sp > p + 1);
            for (i = 0; i < n_series; i++)
                if (series_len[i] == (size_t)(sp - p) && memcmp(series[i], p, series_len[i]) == 0)
                    fail_msg("duplicate series %.*s", (int)series_len[i], p);
            assert_true(n_series < MAX_SERIES);
            series[n_series] = p;
            series_len[n_series] = (size_t)(sp - p);
            n_series++;
        }
        p = nl + 1;
    }
    return n_fam;
}

/* ------------------------------------------------------------ the render */

static void per_job_status_stateset(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_line(t, "# HELP elb_job_status Current status of the job: 1 for the status it is in, 0 "
                   "for the others (UNKNOWN: never fetched or not found).");
    assert_line(t, "# TYPE elb_job_status gauge");
    assert_line(t, "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"INIT\"} 1");
    assert_line(t, "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"RUNNING\"} 0");
    assert_line(t, "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"SUCCESS\"} 0");
    assert_line(t, "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"FAIL\"} 0");
    assert_line(t, "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"UNKNOWN\"} 0");
    assert_line(t, "elb_job_status{job_id=\"b2\",job_type=\"deleteELB\",status=\"RUNNING\"} 1");
    assert_line(t, "elb_job_status{job_id=\"c3\",job_type=\"createELB\",status=\"SUCCESS\"} 1");
    assert_line(t, "elb_job_status{job_id=\"d4\",job_type=\"createELB\",status=\"FAIL\"} 1");
    assert_line(t, "elb_job_status{job_id=\"e5\",job_type=\"\",status=\"UNKNOWN\"} 1");
    assert_line(t, "elb_job_status{job_id=\"e5\",job_type=\"\",status=\"INIT\"} 0");
    assert_line(t, "elb_job_status{job_id=\"f6\",job_type=\"deleteELB\",status=\"UNKNOWN\"} 1");
    assert_line(t, "elb_job_status{job_id=\"f6\",job_type=\"deleteELB\",status=\"RUNNING\"} 0");
    assert_line(t, "elb_job_status{job_id=\"g7\",job_type=\"modifyELB\",status=\"UNKNOWN\"} 1");
    /* 5 samples per job, exactly one of them 1 */
    assert_int_equal(count_prefix(t, "elb_job_status{"), 5 * N_JOBS);
    assert_int_equal(count_prefix(t, "elb_job_status{job_id=\"a1\""), 5);
    /* profile order, then UNKNOWN */
    assert_non_null(strstr(t,
                           "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"INIT\"} "
                           "1\nelb_job_status{job_id=\"a1\",job_type=\"createELB\",status="
                           "\"RUNNING\"} 0\nelb_job_status{job_id=\"a1\",job_type=\"createELB\","
                           "status=\"SUCCESS\"} 0\nelb_job_status{job_id=\"a1\",job_type="
                           "\"createELB\",status=\"FAIL\"} 0\nelb_job_status{job_id=\"a1\","
                           "job_type=\"createELB\",status=\"UNKNOWN\"} 0\n"));
    free(t);
}

static void per_job_info_and_timing(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_line(t, "# TYPE elb_job_info gauge");
    assert_line(t, "elb_job_info{job_id=\"a1\",job_type=\"createELB\",resource_id=\"\"} 1");
    assert_line(t, "elb_job_info{job_id=\"b2\",job_type=\"deleteELB\","
                   "resource_id=\"ea3e5715b68850a747ec41f335625c08\"} 1");
    assert_line(t, "elb_job_info{job_id=\"f6\",job_type=\"deleteELB\",resource_id=\"gone-lb\"} 1");
    assert_int_equal(count_prefix(t, "elb_job_info{job_id=\"e5\""), 0); /* no record, no info */
    assert_int_equal(count_prefix(t, "elb_job_info{"), N_JOBS - 1);

    assert_line(t, "# TYPE elb_job_begin_timestamp_seconds gauge");
    assert_line(t, "elb_job_begin_timestamp_seconds{job_id=\"a1\",job_type=\"createELB\"} "
                   "1700000000.5");
    assert_line(t, "elb_job_begin_timestamp_seconds{job_id=\"c3\",job_type=\"createELB\"} "
                   "1700000000.25");
    assert_line(t, "elb_job_begin_timestamp_seconds{job_id=\"g7\",job_type=\"modifyELB\"} "
                   "1700000000");
    /* 404 after a known record: no stale timing */
    assert_int_equal(count_prefix(t, "elb_job_begin_timestamp_seconds{job_id=\"f6\""), 0);
    assert_int_equal(count_prefix(t, "elb_job_begin_timestamp_seconds{job_id=\"e5\""), 0);
    assert_int_equal(count_prefix(t, "elb_job_begin_timestamp_seconds{"), 6);

    assert_line(t, "# TYPE elb_job_end_timestamp_seconds gauge");
    assert_line(t, "elb_job_end_timestamp_seconds{job_id=\"c3\",job_type=\"createELB\"} "
                   "1700000062.75");
    assert_line(t, "elb_job_end_timestamp_seconds{job_id=\"d4\",job_type=\"createELB\"} "
                   "1700000003");
    assert_int_equal(count_prefix(t, "elb_job_end_timestamp_seconds{"), 2);

    assert_line(t, "# TYPE elb_job_duration_seconds gauge");
    assert_line(t, "elb_job_duration_seconds{job_id=\"a1\",job_type=\"createELB\"} 10.25");
    assert_line(t, "elb_job_duration_seconds{job_id=\"b2\",job_type=\"deleteELB\"} 30.5");
    assert_line(t, "elb_job_duration_seconds{job_id=\"c3\",job_type=\"createELB\"} 62.5");
    assert_line(t, "elb_job_duration_seconds{job_id=\"d4\",job_type=\"createELB\"} 3");
    assert_line(t, "elb_job_duration_seconds{job_id=\"g7\",job_type=\"modifyELB\"} 2");
    assert_line(t, "elb_job_duration_seconds{job_id=\"h8\",job_type=\"deleteELB\"} 0"); /* clamp */
    assert_int_equal(count_prefix(t, "elb_job_duration_seconds{job_id=\"f6\""), 0);
    assert_int_equal(count_prefix(t, "elb_job_duration_seconds{"), 6);
    free(t);
}

/*
 * A job of another profile than the instance's: its own stateset, a profile
 * label (so one ID under two profiles is two series), the same ID under the
 * instance's profile without it, and elb_jobs adding the other profile's
 * statuses; ROLLBACK_FAIL carries error_info like FAIL.
 */
static void other_profile_jobs(void **state)
{
    const struct api_profile *v3 = profile_find("elb-v3");
    struct job_record v3rec, v1rec;
    struct expfmt_job jobs[2];
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    assert_non_null(v3);
    set_rec(&v3rec, "same", "cloneLoadbalancer", JOB_ROLLBACK_FAIL);
    snprintf(v3rec.error_code, sizeof(v3rec.error_code), "%s", "ELB.8907");
    snprintf(v3rec.fail_reason, sizeof(v3rec.fail_reason), "%s", "rolled back");
    set_rec(&v1rec, "same", "createELB", JOB_SUCCESS);
    memset(jobs, 0, sizeof(jobs));
    set_job(&jobs[0], "same", &v3rec, JOB_ROLLBACK_FAIL, 1, 1700000000);
    jobs[0].profile = v3;
    set_job(&jobs[1], "same", &v1rec, JOB_SUCCESS, 1, 1700000000);
    f.in.jobs = jobs;
    f.in.n_jobs = 2;
    t = render(&f.in);
    assert_line(t,
                "elb_job_status{job_id=\"same\",job_type=\"cloneLoadbalancer\",profile=\"elb-v3\","
                "status=\"ROLLBACK_FAIL\"} 1");
    assert_line(t,
                "elb_job_status{job_id=\"same\",job_type=\"cloneLoadbalancer\",profile=\"elb-v3\","
                "status=\"ROLLBACKING\"} 0");
    assert_int_equal(
        count_prefix(t, "elb_job_status{job_id=\"same\",job_type=\"cloneLoadbalancer\""), 9);
    assert_line(t, "elb_job_status{job_id=\"same\",job_type=\"createELB\",status=\"SUCCESS\"} 1");
    assert_int_equal(count_prefix(t, "elb_job_status{job_id=\"same\",job_type=\"createELB\""), 5);
    assert_line(
        t, "elb_job_error_info{job_id=\"same\",job_type=\"cloneLoadbalancer\",profile=\"elb-v3\","
           "error_code=\"ELB.8907\",fail_reason=\"rolled back\"} 1");
    assert_line(t, "elb_jobs{status=\"ROLLBACK_FAIL\"} 1");
    assert_line(t, "elb_jobs{status=\"ROLLBACKING\"} 0");
    assert_line(t, "elb_jobs{status=\"SUCCESS\"} 1");
    assert_line(t, "elb_jobs{status=\"UNKNOWN\"} 0");
    assert_int_equal(check_structure(t) > 0, 1);
    free(t);
}

static void per_job_error_subjobs_fetch(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_line(t, "# TYPE elb_job_error_info gauge");
    assert_line(t,
                "elb_job_error_info{job_id=\"d4\",job_type=\"createELB\",error_code=\"ELB.1003\","
                "fail_reason=\"" NASTY_REASON_ESCAPED "\"} 1");
    assert_int_equal(count_prefix(t, "elb_job_error_info{"), 1);

    assert_line(t, "# TYPE elb_job_sub_jobs gauge");
    assert_line(t, "elb_job_sub_jobs{job_id=\"c3\",job_type=\"createELB\",status=\"INIT\"} 0");
    assert_line(t, "elb_job_sub_jobs{job_id=\"c3\",job_type=\"createELB\",status=\"RUNNING\"} 0");
    assert_line(t, "elb_job_sub_jobs{job_id=\"c3\",job_type=\"createELB\",status=\"SUCCESS\"} 2");
    assert_line(t, "elb_job_sub_jobs{job_id=\"c3\",job_type=\"createELB\",status=\"FAIL\"} 1");
    assert_line(t, "elb_job_sub_jobs{job_id=\"c3\",job_type=\"createELB\",status=\"UNKNOWN\"} 1");
    assert_int_equal(count_prefix(t, "elb_job_sub_jobs{"), 5);

    assert_line(t, "# TYPE elb_job_fetch_success gauge");
    assert_line(t, "elb_job_fetch_success{job_id=\"a1\",job_type=\"createELB\"} 1");
    assert_line(t, "elb_job_fetch_success{job_id=\"e5\",job_type=\"\"} 0");
    assert_line(t, "elb_job_fetch_success{job_id=\"f6\",job_type=\"deleteELB\"} 0");
    assert_int_equal(count_prefix(t, "elb_job_fetch_success{"), N_JOBS);

    assert_line(t, "# TYPE elb_job_last_fetch_timestamp_seconds gauge");
    assert_line(t, "elb_job_last_fetch_timestamp_seconds{job_id=\"a1\",job_type=\"createELB\"} "
                   "1700000010.75");
    assert_line(t, "elb_job_last_fetch_timestamp_seconds{job_id=\"f6\",job_type=\"deleteELB\"} "
                   "1700000005");
    assert_int_equal(count_prefix(t, "elb_job_last_fetch_timestamp_seconds{job_id=\"e5\""), 0);
    assert_int_equal(count_prefix(t, "elb_job_last_fetch_timestamp_seconds{"), N_JOBS - 1);
    free(t);
}

static void aggregates(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_line(t, "# TYPE elb_jobs gauge");
    assert_line(t, "elb_jobs{status=\"INIT\"} 1");
    assert_line(t, "elb_jobs{status=\"RUNNING\"} 2");
    assert_line(t, "elb_jobs{status=\"SUCCESS\"} 1");
    assert_line(t, "elb_jobs{status=\"FAIL\"} 1");
    assert_line(t, "elb_jobs{status=\"UNKNOWN\"} 3");
    assert_int_equal(count_prefix(t, "elb_jobs{"), 5);
    assert_line(t, "# TYPE elb_jobs_finished_total counter");
    assert_line(t, "elb_jobs_finished_total{job_type=\"createELB\"} 2");
    assert_int_equal(count_prefix(t, "elb_jobs_finished_total{"), 1);
    assert_line(t, "# TYPE elb_jobs_failed_total counter");
    assert_line(t, "elb_jobs_failed_total{job_type=\"createELB\",error_code=\"ELB.1003\"} 1");
    assert_int_equal(count_prefix(t, "elb_jobs_failed_total{"), 1);
    free(t);
}

static void exporter_families(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_line(t, "# TYPE elb_job_exporter_api_requests_total counter");
    assert_line(t, "elb_job_exporter_api_requests_total{code=\"200\"} 2");
    assert_line(t, "elb_job_exporter_api_requests_total{code=\"404\"} 1");
    assert_line(t, "elb_job_exporter_api_requests_total{code=\"429\"} 1");
    assert_int_equal(count_prefix(t, "elb_job_exporter_api_requests_total{"), 3);
    /* ascending code order */
    assert_true(strstr(t, "code=\"200\"") < strstr(t, "code=\"404\""));

    assert_line(t, "# TYPE elb_job_exporter_api_request_errors_total counter");
    assert_line(t, "elb_job_exporter_api_request_errors_total{reason=\"timeout\"} 2");
    assert_line(t, "elb_job_exporter_api_request_errors_total{reason=\"connect\"} 0");
    assert_line(t, "elb_job_exporter_api_request_errors_total{reason=\"tls\"} 0");
    assert_line(t, "elb_job_exporter_api_request_errors_total{reason=\"resolve\"} 0");
    assert_line(t, "elb_job_exporter_api_request_errors_total{reason=\"parse\"} 1");
    assert_line(t, "elb_job_exporter_api_request_errors_total{reason=\"too_large\"} 0");
    assert_line(t, "elb_job_exporter_api_request_errors_total{reason=\"other\"} 0");
    assert_int_equal(count_prefix(t, "elb_job_exporter_api_request_errors_total{"), 7);

    assert_line(t, "# TYPE elb_job_exporter_api_request_duration_seconds histogram");
    assert_non_null(strstr(t,
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"0.005\"} 0\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"0.01\"} 0\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"0.025\"} 0\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"0.05\"} 0\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"0.1\"} 0\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"0.25\"} 1\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"0.5\"} 3\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"1.0\"} 3\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"2.5\"} 4\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"5.0\"} 4\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"10.0\"} 5\n"
                           "elb_job_exporter_api_request_duration_seconds_bucket{le=\"+Inf\"} 6\n"
                           "elb_job_exporter_api_request_duration_seconds_sum 40.25\n"
                           "elb_job_exporter_api_request_duration_seconds_count 6\n"));

    assert_line(t, "# TYPE elb_job_exporter_api_up gauge");
    assert_line(t, "elb_job_exporter_api_up 1");
    assert_line(t, "# TYPE elb_job_exporter_auth_requests_total counter");
    assert_line(t, "elb_job_exporter_auth_requests_total 2");
    assert_line(t, "# TYPE elb_job_exporter_auth_failures_total counter");
    assert_line(t, "elb_job_exporter_auth_failures_total 1");
    assert_line(t, "# TYPE elb_job_exporter_auth_token_expiry_timestamp_seconds gauge");
    assert_line(t, "elb_job_exporter_auth_token_expiry_timestamp_seconds 1700086400");
    assert_line(t, "# TYPE elb_job_exporter_poll_cycles_total counter");
    assert_line(t, "elb_job_exporter_poll_cycles_total 42");
    assert_line(t, "# TYPE elb_job_exporter_last_poll_cycle_timestamp_seconds gauge");
    assert_line(t, "elb_job_exporter_last_poll_cycle_timestamp_seconds 1700000031");
    assert_line(t, "# TYPE elb_job_exporter_poll_cycle_duration_seconds gauge");
    assert_line(t, "elb_job_exporter_poll_cycle_duration_seconds 0.125");
    assert_line(t, "# TYPE elb_job_exporter_tracked_jobs gauge");
    assert_line(t, "elb_job_exporter_tracked_jobs 8");
    assert_line(t, "# TYPE elb_job_exporter_series_dropped_total counter");
    assert_line(t, "elb_job_exporter_series_dropped_total 3");
    assert_line(t, "# TYPE elb_job_exporter_build_info gauge");
    assert_line(t, "elb_job_exporter_build_info{version=\"0.1.0\",revision=\"abc123def456\","
                   "libcurl=\"7.88.1\",libmicrohttpd=\"0.9.75\"} 1");
    free(t);
}

/* The HTTP server's counters: every reason always present; left out without a server. */
static void http_families(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_line(t, "# TYPE elb_job_exporter_http_connections_refused_total counter");
    assert_line(t, "elb_job_exporter_http_connections_refused_total{reason=\"per_ip_limit\"} 536");
    assert_line(t, "elb_job_exporter_http_connections_refused_total{reason=\"connection_limit\"} "
                   "0");
    assert_int_equal(count_prefix(t, "elb_job_exporter_http_connections_refused_total{"), 2);
    assert_line(t, "# TYPE elb_job_exporter_http_waiting_requests gauge");
    assert_line(t, "elb_job_exporter_http_waiting_requests 1000");
    assert_line(t, "# TYPE elb_job_exporter_http_waits_refused_total counter");
    assert_line(t, "elb_job_exporter_http_waits_refused_total 3");
    assert_line(t, "# TYPE elb_job_exporter_http_connections_cut_total counter");
    assert_line(t, "elb_job_exporter_http_connections_cut_total{reason=\"header_timeout\"} 2");
    assert_int_equal(count_prefix(t, "elb_job_exporter_http_connections_cut_total{"), 1);
    assert_line(t, "# TYPE elb_job_exporter_http_server_errors_total counter");
    assert_line(t, "elb_job_exporter_http_server_errors_total 1234567");
    assert_line(t, "# TYPE elb_job_exporter_http_requests_refused_total counter");
    assert_line(t, "elb_job_exporter_http_requests_refused_total{reason=\"max_requests\"} 3");
    assert_line(t, "elb_job_exporter_http_requests_refused_total{reason=\"unauthorized\"} 41");
    assert_line(t, "elb_job_exporter_http_requests_refused_total{reason=\"auth_busy\"} 0");
    assert_line(t, "elb_job_exporter_http_requests_refused_total{reason=\"rate_limit\"} 0");
    assert_line(t, "elb_job_exporter_http_requests_refused_total{reason=\"client_cert\"} 0");
    assert_int_equal(count_prefix(t, "elb_job_exporter_http_requests_refused_total{"),
                     HTTP_REQ_REFUSE_COUNT);
    /* no --web.config.file: no web_config family */
    assert_null(strstr(t, "elb_job_exporter_web_config_"));
    free(t);

    /* with one: whether its last reload worked, when one last did, how many failed */
    atomic_store(&f.http.web_config, 1);
    atomic_store(&f.http.web_config_reload_ok, 0);
    atomic_store(&f.http.web_config_reload_ms, 1796229321071u);
    atomic_store(&f.http.web_config_reload_failures, 2);
    t = render(&f.in);
    assert_line(t, "# TYPE elb_job_exporter_web_config_last_reload_successful gauge");
    assert_line(t, "elb_job_exporter_web_config_last_reload_successful 0");
    assert_line(t,
                "elb_job_exporter_web_config_last_reload_success_timestamp_seconds 1796229321.071");
    assert_line(t, "# TYPE elb_job_exporter_web_config_reload_failures_total counter");
    assert_line(t, "elb_job_exporter_web_config_reload_failures_total 2");
    free(t);

    /* no server (--once): no family, not even a header */
    f.in.http = NULL;
    t = render(&f.in);
    assert_null(strstr(t, "elb_job_exporter_http_"));
    free(t);
}

/* The durable store's families (--storage.path); left out without a store. */
static void store_families(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_line(t, "# TYPE elb_job_exporter_store_jobs gauge");
    assert_line(t, "elb_job_exporter_store_jobs 12");
    assert_line(t, "elb_job_exporter_store_size_bytes 4096");
    assert_line(t, "# TYPE elb_job_exporter_store_records_corrupt_total counter");
    assert_line(t, "elb_job_exporter_store_records_corrupt_total 1");
    assert_line(t, "elb_job_exporter_store_bytes_cut_total 37");
    assert_line(t, "elb_job_exporter_store_records_skipped_total 0");
    assert_line(t, "elb_job_exporter_store_appends_total 100");
    assert_line(t, "elb_job_exporter_store_fsyncs_total 9");
    assert_line(t, "elb_job_exporter_store_compactions_total 2");
    assert_line(t, "elb_job_exporter_store_write_errors_total 0");
    assert_line(t, "# TYPE elb_job_exporter_store_replay_duration_seconds gauge");
    assert_line(t, "elb_job_exporter_store_replay_duration_seconds 0.25");
    free(t);

    f.stats.store.enabled = 0;
    t = render(&f.in);
    assert_null(strstr(t, "elb_job_exporter_store_"));
    free(t);
}

static void process_families(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_line(t, "# TYPE process_cpu_seconds_total counter");
    assert_line(t, "process_cpu_seconds_total 1.5");
    assert_line(t, "# TYPE process_resident_memory_bytes gauge");
    assert_line(t, "process_resident_memory_bytes 10485760");
    assert_line(t, "# TYPE process_virtual_memory_bytes gauge");
    assert_line(t, "process_virtual_memory_bytes 123456789");
    assert_line(t, "# TYPE process_start_time_seconds gauge");
    assert_line(t, "process_start_time_seconds 1699999000");
    assert_line(t, "# TYPE process_open_fds gauge");
    assert_line(t, "process_open_fds 9");
    assert_line(t, "# TYPE process_max_fds gauge");
    assert_line(t, "process_max_fds 1024");
    free(t);

    f.proc.ok = 0; /* unreadable /proc: the whole set is left out */
    t = render(&f.in);
    assert_int_equal(count_prefix(t, "process_"), 0);
    assert_int_equal(count_prefix(t, "# HELP process_"), 0);
    free(t);
    f.in.proc = NULL;
    t = render(&f.in);
    assert_int_equal(count_prefix(t, "# HELP process_"), 0);
    free(t);
}

static void structure_is_valid(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    /* 9 per job, 3 aggregate, 14 exporter, 10 store, 6 HTTP server, 6 process */
    assert_int_equal(check_structure(t), 48);
    assert_int_equal(count_prefix(t, "# HELP "), 48);
    assert_int_equal(count_prefix(t, "# TYPE "), 48);
    /* the escaped newline did not split a line: each sample line has a value */
    assert_int_equal(count_prefix(t, "line2"), 0);
    free(t);
}

static void empty_state_has_every_header(void **state)
{
    struct stats st;
    struct expfmt_input in;
    char *t;

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&in, 0, sizeof(in));
    in.profile = profile_default();
    in.stats = &st;
    t = render(&in);
    assert_int_equal(check_structure(t), 26); /* no process set */
    assert_line(t, "# TYPE elb_job_status gauge");
    /* no per-job sample, only the exporter's own */
    assert_int_equal(count_prefix(t, "elb_job_"), count_prefix(t, "elb_job_exporter_"));
    assert_line(t, "elb_jobs{status=\"INIT\"} 0");
    assert_line(t, "elb_jobs{status=\"UNKNOWN\"} 0");
    assert_line(t, "# TYPE elb_jobs_finished_total counter");
    assert_line(t, "# TYPE elb_jobs_failed_total counter");
    assert_int_equal(count_prefix(t, "elb_jobs_f"), 0);
    assert_int_equal(count_prefix(t, "elb_job_exporter_api_requests_total{"), 0);
    assert_int_equal(count_prefix(t, "elb_job_exporter_api_request_errors_total{"), 7);
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_bucket{le=\"+Inf\"} 0");
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_sum 0");
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_count 0");
    assert_line(t, "elb_job_exporter_api_up 0");
    assert_line(t, "# TYPE elb_job_exporter_auth_token_expiry_timestamp_seconds gauge");
    assert_int_equal(count_prefix(t, "elb_job_exporter_auth_token_expiry_timestamp_seconds"), 0);
    assert_line(t, "elb_job_exporter_last_poll_cycle_timestamp_seconds 0");
    assert_line(t, "elb_job_exporter_tracked_jobs 0");
    assert_line(t, "# TYPE elb_job_exporter_build_info gauge");
    assert_int_equal(count_prefix(t, "elb_job_exporter_build_info"), 0);
    free(t);
}

static void profile_order_and_foreign_status(void **state)
{
    /* A profile without FAIL, listed in an unusual order. */
    static const enum job_status order[] = {JOB_SUCCESS, JOB_INIT, JOB_RUNNING};
    struct api_profile prof = *profile_default();
    struct fixture f;
    char *t;

    (void)state;
    prof.statuses = order;
    prof.n_statuses = 3;
    fixture_init(&f);
    f.in.profile = &prof;
    t = render(&f.in);
    assert_non_null(
        strstr(t, "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"SUCCESS\"} "
                  "0\nelb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"INIT\"} "
                  "1\nelb_job_status{job_id=\"a1\",job_type=\"createELB\",status="
                  "\"RUNNING\"} 0\nelb_job_status{job_id=\"a1\",job_type=\"createELB\","
                  "status=\"UNKNOWN\"} 0\n"));
    /* FAIL is not a state of this profile: the FAIL job shows UNKNOWN */
    assert_int_equal(count_prefix(t, "elb_job_status{job_id=\"d4\""), 4);
    assert_line(t, "elb_job_status{job_id=\"d4\",job_type=\"createELB\",status=\"UNKNOWN\"} 1");
    assert_int_equal(strstr(t, "status=\"FAIL\"") == NULL, 1);
    assert_line(t, "elb_jobs{status=\"UNKNOWN\"} 4");
    /* sub-jobs in FAIL count under UNKNOWN */
    assert_line(t, "elb_job_sub_jobs{job_id=\"c3\",job_type=\"createELB\",status=\"UNKNOWN\"} 2");
    assert_int_equal(count_prefix(t, "elb_job_sub_jobs{"), 4);
    check_structure(t);
    free(t);
}

static void failed_job_error_only_while_fail(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    /* A 404 after the FAIL record: error, end and duration go, status and info stay. */
    f.jobs[J_FAIL].status = JOB_UNKNOWN;
    t = render(&f.in);
    assert_int_equal(count_prefix(t, "elb_job_error_info{"), 0);
    assert_int_equal(count_prefix(t, "elb_job_end_timestamp_seconds{job_id=\"d4\""), 0);
    assert_int_equal(count_prefix(t, "elb_job_duration_seconds{job_id=\"d4\""), 0);
    assert_line(t, "elb_job_status{job_id=\"d4\",job_type=\"createELB\",status=\"UNKNOWN\"} 1");
    assert_line(t, "elb_job_status{job_id=\"d4\",job_type=\"createELB\",status=\"FAIL\"} 0");
    assert_no_line(t, "elb_job_status{job_id=\"d4\",job_type=\"createELB\",status=\"FAIL\"} 1");
    assert_line(t, "elb_job_info{job_id=\"d4\",job_type=\"createELB\",resource_id=\"\"} 1");
    free(t);
}

static void duration_without_binary_noise(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    /* The FAIL job of the API notes: 09:49:37.399Z .. 09:49:40.001Z is 2.602 s, not 2.60199999...
     */
    f.recs[J_FAIL].has_begin = f.recs[J_FAIL].has_end = 1;
    f.recs[J_FAIL].begin_time = 1506678577.399;
    f.recs[J_FAIL].end_time = 1506678580.001;
    t = render(&f.in);
    assert_line(t, "elb_job_duration_seconds{job_id=\"d4\",job_type=\"createELB\"} 2.602");
    free(t);
}

static void terminal_without_end(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    f.recs[J_SUCCESS].has_end = 0;        /* SUCCESS but no end_time: no end, no duration */
    f.recs[J_FAIL].end_time = 1699999990; /* ended before it began: clamp at 0 */
    t = render(&f.in);
    assert_int_equal(count_prefix(t, "elb_job_end_timestamp_seconds{job_id=\"c3\""), 0);
    assert_int_equal(count_prefix(t, "elb_job_duration_seconds{job_id=\"c3\""), 0);
    assert_line(t, "elb_job_duration_seconds{job_id=\"d4\",job_type=\"createELB\"} 0");
    /* has_end on a running job (server sent one early): no end timestamp yet */
    f.recs[J_RUNNING].has_end = 1;
    f.recs[J_RUNNING].end_time = 1700000001;
    free(t);
    t = render(&f.in);
    assert_int_equal(count_prefix(t, "elb_job_end_timestamp_seconds{job_id=\"b2\""), 0);
    assert_line(t, "elb_job_duration_seconds{job_id=\"b2\",job_type=\"deleteELB\"} 30.5");
    free(t);
}

static void hostile_label_values(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    snprintf(f.recs[J_INIT].job_type, sizeof(f.recs[J_INIT].job_type), "%s", "a\"b\\c\nd");
    snprintf(f.recs[J_INIT].resource_id, sizeof(f.recs[J_INIT].resource_id), "%s",
             "x\xff"
             "y"); /* invalid UTF-8 */
    t = render(&f.in);
    assert_line(t, "elb_job_info{job_id=\"a1\",job_type=\"a\\\"b\\\\c\\nd\",resource_id=\"x"
                   "\xef\xbf\xbd"
                   "y\"} 1");
    check_structure(t);
    free(t);
}

/* The registrant's labels go on elb_job_info only, after resource_id, in name order. */
static void registrant_labels_on_info(void **state)
{
    struct job_labels l;
    struct fixture f;
    char err[128], *t;

    (void)state;
    fixture_init(&f);
    memset(&l, 0, sizeof(l));
    assert_int_equal(joblabels_add(&l, "team", 4, "net\"ops\\", 8, err, sizeof(err)), 0);
    assert_int_equal(joblabels_add(&l, "env", 3, "prod", 4, err, sizeof(err)), 0);
    f.jobs[J_RUNNING].labels = &l;
    f.jobs[J_NEVER].labels = &l; /* no record yet: no info series, labels or not */
    t = render(&f.in);
    assert_line(t, "elb_job_info{job_id=\"b2\",job_type=\"deleteELB\","
                   "resource_id=\"ea3e5715b68850a747ec41f335625c08\",env=\"prod\","
                   "team=\"net\\\"ops\\\\\"} 1");
    assert_line(t, "elb_job_status{job_id=\"b2\",job_type=\"deleteELB\",status=\"RUNNING\"} 1");
    assert_int_equal(count_prefix(t, "elb_job_info{job_id=\"e5\""), 0);
    check_structure(t);
    free(t);
}

/* Skip when a partial run left promtool out; fail, naming the package, when it is not there. */
static void need_promtool(void)
{
    if (ELB_PROMTOOL[0] == '\0') {
        print_message("promtool left out: -DELB_ALLOW_MISSING_TOOLS=ON\n");
        skip();
    }
    if (access(ELB_PROMTOOL, X_OK) != 0)
        fail_msg("promtool %s: %s (apt-get install " PROMTOOL_PACKAGE ")", ELB_PROMTOOL,
                 strerror(errno));
}

/* Run promtool check metrics on text; fail on any finding. */
static void promtool_check(const char *text)
{
    char path[] = "/tmp/test_expfmt_XXXXXX";
    char cmd[sizeof(ELB_PROMTOOL) + 128], out[4096];
    size_t n, len = strlen(text);
    FILE *p;
    int fd, status;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    snprintf(cmd, sizeof(cmd), "'%s' check metrics < %s 2>&1", ELB_PROMTOOL, path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    status = pclose(p);
    unlink(path);
    if (n > 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("promtool (status %d) says:\n%s", status, out);
}

static void promtool_finds_nothing(void **state)
{
    struct fixture f;
    struct stats st;
    struct expfmt_input empty;
    char *t;

    (void)state;
    need_promtool();
    fixture_init(&f);
    t = render(&f.in);
    promtool_check(t);
    free(t);

    memset(&st, 0, sizeof(st));
    memset(&empty, 0, sizeof(empty));
    empty.profile = profile_default();
    empty.stats = &st;
    t = render(&empty);
    promtool_check(t);
    free(t);
}

static void promtool_catches_a_bad_exposition(void **state)
{
    /* The check above could not fail if promtool's verdict were ignored; make sure it is. */
    char path[] = "/tmp/test_expfmt_XXXXXX";
    static const char bad[] = "# HELP x_count things\n# TYPE x_count counter\nx_count 1\n";
    char cmd[sizeof(ELB_PROMTOOL) + 128];
    int fd, status;

    (void)state;
    need_promtool();
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)(sizeof(bad) - 1));
    close(fd);
    snprintf(cmd, sizeof(cmd), "'%s' check metrics < %s >/dev/null 2>&1", ELB_PROMTOOL, path);
    status = system(cmd);
    unlink(path);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

/* ------------------------------------------------------------ OpenMetrics */

/* The lines of text whose first byte is not '#' (the samples), in order; the caller frees. */
static char *sample_lines(const char *text, const char *skip_prefix)
{
    char *out = malloc(strlen(text) + 1), *o = out;
    const char *p = text;

    assert_non_null(out);
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

        if (p[0] != '#' && !(skip_prefix && strncmp(p, skip_prefix, strlen(skip_prefix)) == 0)) {
            memcpy(o, p, len);
            o += len;
        }
        p += len;
    }
    *o = '\0';
    return out;
}

static void openmetrics_metadata(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render_as(&f.in, EXPFMT_OPENMETRICS);
    /* TYPE, then UNIT when the name ends in one, then HELP */
    assert_non_null(strstr(t, "# TYPE elb_job_status gauge\n# HELP elb_job_status Current status "
                              "of the job: 1 for the status it is in, 0 for the others (UNKNOWN: "
                              "never fetched or not found).\nelb_job_status{"));
    assert_non_null(strstr(t, "# TYPE elb_job_begin_timestamp_seconds gauge\n"
                              "# UNIT elb_job_begin_timestamp_seconds seconds\n"
                              "# HELP elb_job_begin_timestamp_seconds "));
    assert_non_null(strstr(t, "# TYPE process_cpu_seconds counter\n"
                              "# UNIT process_cpu_seconds seconds\n"
                              "# HELP process_cpu_seconds Total user and system CPU time spent, "
                              "in seconds.\nprocess_cpu_seconds_total 1.5\n"));
    assert_line(t, "# UNIT process_resident_memory_bytes bytes");
    assert_line(t, "# UNIT elb_job_exporter_api_request_duration_seconds seconds");
    assert_line(t, "# UNIT elb_job_exporter_auth_token_expiry_timestamp_seconds seconds");
    assert_line(t, "# UNIT elb_job_exporter_poll_cycle_duration_seconds seconds");
    assert_int_equal(count_prefix(t, "# UNIT "), 14);
    /* info families: named without _info, samples keep it */
    assert_line(t, "# TYPE elb_job info");
    assert_line(t, "# HELP elb_job Always 1; carries the resource the job works on and the labels "
                   "it was registered with.");
    assert_line(t, "elb_job_info{job_id=\"a1\",job_type=\"createELB\",resource_id=\"\"} 1");
    assert_line(t, "# TYPE elb_job_error info");
    assert_line(t, "elb_job_error_info{job_id=\"d4\",job_type=\"createELB\",error_code="
                   "\"ELB.1003\",fail_reason=\"" NASTY_REASON_ESCAPED "\"} 1");
    assert_line(t, "# TYPE elb_job_exporter_build info");
    assert_line(t, "elb_job_exporter_build_info{version=\"0.1.0\",revision=\"abc123def456\","
                   "libcurl=\"7.88.1\",libmicrohttpd=\"0.9.75\"} 1");
    /* counters: named without _total, samples keep it, no _created */
    assert_line(t, "# TYPE elb_jobs_finished counter");
    assert_line(t, "# HELP elb_jobs_finished Jobs seen in a terminal status (SUCCESS or FAIL), "
                   "counted once per job.");
    assert_line(t, "elb_jobs_finished_total{job_type=\"createELB\"} 2");
    assert_line(t, "# TYPE elb_job_exporter_api_requests counter");
    assert_line(t, "elb_job_exporter_api_requests_total{code=\"200\"} 2");
    assert_int_equal(count_prefix(t, "# TYPE elb_jobs_finished_total"), 0);
    assert_int_equal(count_prefix(t, "# TYPE elb_job_info"), 0);
    assert_null(strstr(t, "_created"));
    /* histogram: canonical le values, +Inf, _sum and _count */
    assert_line(t, "# TYPE elb_job_exporter_api_request_duration_seconds histogram");
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_bucket{le=\"0.005\"} 0");
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_bucket{le=\"1.0\"} 3");
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_bucket{le=\"10.0\"} 5");
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_bucket{le=\"+Inf\"} 6");
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_sum 40.25");
    assert_line(t, "elb_job_exporter_api_request_duration_seconds_count 6");
    /* every family has TYPE and HELP once; no other comment but # EOF, last */
    assert_int_equal(count_prefix(t, "# TYPE "), 48);
    assert_int_equal(count_prefix(t, "# HELP "), 48);
    assert_int_equal(count_prefix(t, "#"), 48 + 48 + 14 + 1);
    assert_int_equal(count_prefix(t, "# EOF"), 1);
    assert_true(ends_with(t, strlen(t), "\n# EOF\n"));
    free(t);
}

/* Same sample lines in both formats, byte for byte: dashboards work whichever was scraped. */
static void openmetrics_samples_are_the_text_samples(void **state)
{
    struct fixture f;
    char *t, *o, *ts, *os;
    int sparse;

    (void)state;
    fixture_init(&f);
    for (sparse = 0; sparse < 2; sparse++) {
        f.in.sparse_status = sparse;
        t = render_as(&f.in, EXPFMT_TEXT_004);
        o = render_as(&f.in, EXPFMT_OPENMETRICS);
        ts = sample_lines(t, NULL);
        os = sample_lines(o, NULL);
        assert_true(strlen(ts) > 1000);
        assert_string_equal(ts, os);
        free(ts);
        free(os);
        free(t);
        free(o);
    }
}

static void openmetrics_empty_state(void **state)
{
    struct stats st;
    struct expfmt_input in;
    char *t;

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(&in, 0, sizeof(in));
    in.profile = profile_default();
    in.stats = &st;
    t = render_as(&in, EXPFMT_OPENMETRICS);
    assert_line(t, "# TYPE elb_job_status gauge");
    assert_line(t, "# TYPE elb_job_exporter_build info");
    assert_int_equal(count_prefix(t, "elb_job_exporter_build_info"), 0);
    assert_true(ends_with(t, strlen(t), "\n# EOF\n"));
    free(t);
}

static void openmetrics_rollback_and_bound(void **state)
{
    struct fixture f;
    struct strbuf b;
    char *full;
    size_t full_len, cap;

    (void)state;
    fixture_init(&f);
    full = render_as(&f.in, EXPFMT_OPENMETRICS);
    full_len = strlen(full);
    /* every cap short of the whole, including one that cuts "# EOF": nothing is left behind */
    for (cap = 0; cap < full_len; cap += (cap + 7 < full_len - 10) ? 7 : 1) {
        strbuf_init(&b, cap);
        assert_int_equal(expfmt_render(&b, EXPFMT_OPENMETRICS, &f.in), -E2BIG);
        assert_int_equal(b.len, 0);
        strbuf_release(&b);
    }
    strbuf_init(&b, full_len);
    assert_int_equal(expfmt_render(&b, EXPFMT_OPENMETRICS, &f.in), 0);
    assert_string_equal(b.data, full);
    strbuf_release(&b);
    free(full);
}

/* --metrics.sparse-status: one elb_job_status series per job, the current one; nothing else moves.
 */
static void sparse_status(void **state)
{
    static const char *const want[] = {
        "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"INIT\"} 1",
        "elb_job_status{job_id=\"b2\",job_type=\"deleteELB\",status=\"RUNNING\"} 1",
        "elb_job_status{job_id=\"c3\",job_type=\"createELB\",status=\"SUCCESS\"} 1",
        "elb_job_status{job_id=\"d4\",job_type=\"createELB\",status=\"FAIL\"} 1",
        "elb_job_status{job_id=\"e5\",job_type=\"\",status=\"UNKNOWN\"} 1",
        "elb_job_status{job_id=\"f6\",job_type=\"deleteELB\",status=\"UNKNOWN\"} 1",
        "elb_job_status{job_id=\"g7\",job_type=\"modifyELB\",status=\"UNKNOWN\"} 1",
        "elb_job_status{job_id=\"h8\",job_type=\"deleteELB\",status=\"RUNNING\"} 1",
    };
    struct fixture f;
    char *t, *full, *a, *b;
    size_t i;

    (void)state;
    fixture_init(&f);
    full = render(&f.in);
    f.in.sparse_status = 1;
    t = render(&f.in);
    assert_int_equal(count_prefix(t, "elb_job_status{"), N_JOBS);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_line(t, want[i]);
    assert_null(strstr(t, "\"} 0\nelb_job_status{")); /* no series at 0 */
    assert_no_line(t, "elb_job_status{job_id=\"a1\",job_type=\"createELB\",status=\"RUNNING\"} 0");
    /* the family keeps its header; every other sample is as without the flag */
    assert_line(t, "# TYPE elb_job_status gauge");
    a = sample_lines(full, "elb_job_status{");
    b = sample_lines(t, "elb_job_status{");
    assert_string_equal(a, b);
    assert_line(t, "elb_jobs{status=\"UNKNOWN\"} 3");
    check_structure(t);
    free(a);
    free(b);
    free(t);
    free(full);

    /* a job of another profile shows its own status, with its profile label */
    {
        struct job_record v3rec;
        struct expfmt_job job;

        set_rec(&v3rec, "v3", "cloneLoadbalancer", JOB_ROLLBACKING);
        memset(&job, 0, sizeof(job));
        set_job(&job, "v3", &v3rec, JOB_ROLLBACKING, 1, 1700000000);
        job.profile = profile_find("elb-v3");
        assert_non_null(job.profile);
        f.in.jobs = &job;
        f.in.n_jobs = 1;
        t = render_as(&f.in, EXPFMT_OPENMETRICS);
        assert_line(t, "elb_job_status{job_id=\"v3\",job_type=\"cloneLoadbalancer\","
                       "profile=\"elb-v3\",status=\"ROLLBACKING\"} 1");
        assert_int_equal(count_prefix(t, "elb_job_status{"), 1);
        free(t);
    }
}

static void canonical_numbers(void **state)
{
    /* the spec's examples ("Considerations: Canonical Numbers") and the buckets we use */
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0, "0.0"},           {0.001, "0.001"},       {0.002, "0.002"},
        {0.01, "0.01"},       {0.1, "0.1"},           {0.9, "0.9"},
        {0.95, "0.95"},       {0.99, "0.99"},         {0.999, "0.999"},
        {1, "1.0"},           {1.7, "1.7"},           {10, "10.0"},
        {1e-10, "1e-10"},     {1e-09, "1e-09"},       {1e-05, "1e-05"},
        {0.0001, "0.0001"},   {100000, "100000.0"},   {1e+06, "1e+06"},
        {1e+10, "1e+10"},     {0.005, "0.005"},       {0.025, "0.025"},
        {0.25, "0.25"},       {2.5, "2.5"},           {5, "5.0"},
        {-1, "-1.0"},         {123456.5, "123456.5"}, {1234567.5, "1.2345675e+06"},
        {0.00011, "0.00011"}, {1.5e-07, "1.5e-07"},   {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},  {NAN, "NaN"},
    };
    char buf[NUM_BUF];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        memset(buf, 'Z', sizeof(buf));
        expfmt_format_canonical(cases[i].v, buf, sizeof(buf));
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%.17g: \"%s\", want \"%s\"", cases[i].v, buf, cases[i].want);
    }
    expfmt_format_canonical(10, buf, 4); /* "10.0" does not fit 3 bytes + NUL: nothing */
    assert_string_equal(buf, "");
    expfmt_format_canonical(10, buf, 5);
    assert_string_equal(buf, "10.0");
}

/* The OpenMetrics pieces joined (base: the text buffer, meta: the metadata); the caller frees. */
static char *join_spans(const char *base, const char *meta, const struct expfmt_spans *sp)
{
    char *out = malloc(sp->total + 1), *o = out;
    size_t i, sum = 0;

    assert_non_null(out);
    assert_true(sp->n > 0 && sp->n <= EXPFMT_SPANS_MAX);
    for (i = 0; i < sp->n; i++) {
        const struct expfmt_span *x = &sp->span[i];

        assert_true(x->len > 0);
        if (i > 0) /* pieces that follow each other in one buffer were joined */
            assert_false(x->in_meta == sp->span[i - 1].in_meta &&
                         sp->span[i - 1].off + sp->span[i - 1].len == x->off);
        memcpy(o, (x->in_meta ? meta : base) + x->off, x->len);
        o += x->len;
        sum += x->len;
    }
    *o = '\0';
    assert_int_equal(sum, sp->total);
    return out;
}

/*
 * Rendered together: the text buffer is byte for byte the text rendering, the
 * OpenMetrics pieces (samples from it, metadata aside) the OpenMetrics one.
 */
static void both_formats_in_one_buffer(void **state)
{
    static const char prefix[] = "# before\n", mprefix[] = "meta>";
    struct fixture f;
    struct expfmt_spans sp;
    struct strbuf b, m;
    char *flat[2], *joined;
    int sparse, empty;

    (void)state;
    /* empty 2: every optional family too (the most pieces: EXPFMT_SPANS_MAX holds them) */
    for (empty = 0; empty < 3; empty++) {
        for (sparse = 0; sparse < 2; sparse++) {
            fixture_init(&f);
            f.in.sparse_status = sparse;
            if (empty == 1) {
                f.in.n_jobs = 0;
                f.in.proc = NULL;
                f.in.http = NULL;
            } else if (empty == 2) {
                atomic_store(&f.http.web_config, 1);
                f.stats.jobs_file = 1;
            }
            flat[0] = render_as(&f.in, EXPFMT_TEXT_004);
            flat[1] = render_as(&f.in, EXPFMT_OPENMETRICS);
            if (empty == 2) /* 48, the web config's 3 and the jobs file's 2 (EXPFMT_SPANS_MAX) */
                assert_int_equal(count_prefix(flat[1], "# TYPE "), 53);
            strbuf_init(&b, OUT_MAX);
            strbuf_init(&m, OUT_MAX);
            assert_int_equal(strbuf_puts(&b, prefix), 0);
            assert_int_equal(strbuf_puts(&m, mprefix), 0);
            assert_int_equal(expfmt_render_both(&b, &m, &f.in, &sp), 0);
            assert_string_equal(b.data + sizeof(prefix) - 1, flat[0]);
            joined = join_spans(b.data + sizeof(prefix) - 1, m.data + sizeof(mprefix) - 1, &sp);
            assert_string_equal(joined, flat[1]);
            free(joined);
            /* the samples are there once: meta holds only metadata, every piece of b samples */
            joined = sample_lines(m.data + sizeof(mprefix) - 1, NULL);
            assert_string_equal(joined, "");
            free(joined);
            assert_memory_equal(m.data, mprefix, sizeof(mprefix) - 1);
            strbuf_release(&b);
            strbuf_release(&m);
            free(flat[0]);
            free(flat[1]);
        }
    }
}

static void both_formats_roll_back(void **state)
{
    struct fixture f;
    struct expfmt_spans sp;
    struct strbuf b, m;
    size_t full, mfull, cap;

    (void)state;
    fixture_init(&f);
    strbuf_init(&b, OUT_MAX);
    strbuf_init(&m, OUT_MAX);
    assert_int_equal(expfmt_render_both(&b, &m, &f.in, &sp), 0);
    full = b.len;
    mfull = m.len;
    strbuf_release(&b);
    strbuf_release(&m);
    /* either buffer too small: both go back to where they were */
    for (cap = 0; cap < full + mfull; cap += cap + 5 < full + mfull - 8 ? 5 : 1) {
        strbuf_init(&b, cap < full ? cap : OUT_MAX);
        strbuf_init(&m, cap < full ? OUT_MAX : cap - full);
        if (cap >= full && cap - full >= mfull)
            break;
        memset(&sp, 0xab, sizeof(sp));
        assert_int_equal(expfmt_render_both(&b, &m, &f.in, &sp), -E2BIG);
        assert_int_equal(b.len, 0);
        assert_int_equal(m.len, 0);
        assert_int_equal(sp.n + sp.total, 0);
        strbuf_release(&b);
        strbuf_release(&m);
    }
    strbuf_release(&b);
    strbuf_release(&m);
    strbuf_init(&b, OUT_MAX);
    assert_int_equal(expfmt_render_both(&b, &m, NULL, &sp), -EINVAL);
    assert_int_equal(expfmt_render_both(&b, &m, &f.in, NULL), -EINVAL);
    assert_int_equal(expfmt_render_both(&b, NULL, &f.in, &sp), -EINVAL);
    assert_int_equal(expfmt_render_both(&b, &b, &f.in, &sp), -EINVAL);
    strbuf_release(&b);
}

/* Skip when a partial run left the parser out; fail, naming the package, when it is not there. */
static void need_om_parser(void)
{
    if (ELB_OM_PYTHON[0] == '\0') {
        print_message("python3-prometheus-client left out: -DELB_ALLOW_MISSING_TOOLS=ON\n");
        skip();
    }
    if (access(ELB_OM_PYTHON, X_OK) != 0 || access(ELB_OM_CHECK, R_OK) != 0)
        fail_msg("%s or %s: %s (apt-get install python3-prometheus-client)", ELB_OM_PYTHON,
                 ELB_OM_CHECK, strerror(errno));
}

/* Run tests/om_check.py on text; returns its exit status, its output in out. */
static int om_check(const char *text, char *out, size_t cap)
{
    char path[] = "/tmp/test_expfmt_om_XXXXXX";
    char cmd[sizeof(ELB_OM_PYTHON) + sizeof(ELB_OM_CHECK) + 128];
    size_t n, len = strlen(text);
    FILE *p;
    int fd, status;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(close(fd), 0);
    snprintf(cmd, sizeof(cmd), "'%s' '%s' %s 2>&1", ELB_OM_PYTHON, ELB_OM_CHECK, path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    status = pclose(p);
    unlink(path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void expect_om_valid(const char *text)
{
    char out[4096];

    if (om_check(text, out, sizeof(out)) != 0)
        fail_msg("the OpenMetrics parser says:\n%s", out);
}

/*
 * Jobs of every profile in every status of it (plus UNKNOWN), with sub-jobs,
 * errors, the worst strings a job can carry, in both status modes: the strict
 * parser takes all of it.
 */
static void openmetrics_parser_accepts_every_state(void **state)
{
    enum { MAX_JOBS = 128 };
    struct job_record *recs = calloc(MAX_JOBS, sizeof(*recs));
    struct expfmt_job *jobs = calloc(MAX_JOBS, sizeof(*jobs));
    static char ids[MAX_JOBS][16];
    const struct api_profile *prof;
    struct fixture f;
    size_t n = 0, pi, si, k;
    char *t;

    (void)state;
    need_om_parser();
    assert_non_null(recs);
    assert_non_null(jobs);
    fixture_init(&f);
    for (pi = 0; (prof = profile_at(pi)) != NULL; pi++) {
        for (si = 0; si <= prof->n_statuses; si++) {
            enum job_status st = si < prof->n_statuses ? prof->statuses[si] : JOB_UNKNOWN;
            struct job_record *r = &recs[n];

            assert_true(n < MAX_JOBS);
            snprintf(ids[n], sizeof(ids[n]), "j%zu", n);
            set_rec(r, ids[n], n % 3 ? "createELB" : "", st);
            r->has_begin = 1;
            r->begin_time = 1700000000.125 + (double)n;
            r->has_end = job_status_terminal(st);
            r->end_time = r->begin_time + 2.5;
            snprintf(r->resource_id, sizeof(r->resource_id), "res-%zu", n);
            if (job_status_failed(st)) {
                snprintf(r->error_code, sizeof(r->error_code), "ELB.%zu", 1000 + n);
                snprintf(r->fail_reason, sizeof(r->fail_reason), "%s", NASTY_REASON);
            }
            r->has_sub_jobs = n % 2;
            for (k = 0; k < JOB_STATUS_COUNT; k++)
                r->sub_jobs[k] = (unsigned)(k + n) % 3;
            set_job(&jobs[n], ids[n], r, st, (int)(n % 4 != 3), n % 5 ? 1700000100 : 0);
            jobs[n].profile = prof;
            n++;
        }
    }
    /* the worst strings: every field at its cap, in bytes that are not UTF-8 */
    set_rec(&recs[n], "worst", "", JOB_FAIL);
    memset(recs[n].job_type, '\xff', JOB_TYPE_MAX);
    memset(recs[n].fail_reason, '\xff', JOB_FAIL_REASON_MAX);
    memset(recs[n].error_code, '"', JOB_ERROR_CODE_MAX);
    memset(recs[n].resource_id, '\\', JOB_RESOURCE_ID_MAX);
    set_job(&jobs[n], "worst", &recs[n], JOB_FAIL, 1, 1);
    n++;
    f.in.jobs = jobs;
    f.in.n_jobs = n;
    for (f.in.sparse_status = 0; f.in.sparse_status < 2; f.in.sparse_status++) {
        t = render_as(&f.in, EXPFMT_OPENMETRICS);
        expect_om_valid(t);
        free(t);
    }
    /* and the exporter's families with nothing in them */
    f.in.n_jobs = 0;
    f.in.http = NULL;
    f.in.proc = NULL;
    t = render_as(&f.in, EXPFMT_OPENMETRICS);
    expect_om_valid(t);
    free(t);
    free(jobs);
    free(recs);
}

/* The check above could not fail if the parser's verdict were ignored: make sure it is not. */
static void openmetrics_parser_catches_mistakes(void **state)
{
    static const char *const bad[] = {
        "# TYPE x counter\nx_total 1\n",                        /* no # EOF */
        "# TYPE x gauge\n# HELP x a\n# HELP x b\nx 1\n# EOF\n", /* two HELP */
        "# TYPE x gauge\n\nx 1\n# EOF\n",                       /* a blank line */
        "# TYPE x counter\nx 1\n# EOF\n",                       /* counter without _total */
        "# TYPE x histogram\nx_bucket{le=\"1\"} 1\nx_bucket{le=\"+Inf\"} 1\nx_count 1\nx_sum 1\n"
        "# EOF\n",                                                 /* le not canonical */
        "# TYPE x info\nx_info 2\n# EOF\n",                        /* info not 1 */
        "# TYPE x_seconds gauge\n# UNIT x_seconds bytes\n# EOF\n", /* unit not the suffix */
        "# TYPE x gauge\nx{a=\"1\"} 1\n# TYPE y gauge\ny 1\nx{a=\"2\"} 1\n# EOF\n", /* interleaved
                                                                                     */
    };
    char out[4096];
    size_t i;

    (void)state;
    need_om_parser();
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (om_check(bad[i], out, sizeof(out)) == 0)
            fail_msg("case %zu passed the OpenMetrics check:\n%s", i, bad[i]);
    assert_int_equal(om_check("# TYPE x counter\nx_total 1\n# EOF\n", out, sizeof(out)), 0);
}

static void promtool_finds_nothing_sparse(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    need_promtool();
    fixture_init(&f);
    f.in.sparse_status = 1;
    t = render(&f.in);
    promtool_check(t);
    free(t);
}

/* ------------------------------------------------------- errors, rollback */

static void bad_arguments(void **state)
{
    struct fixture f;
    struct expfmt_input in;
    struct strbuf b;

    (void)state;
    fixture_init(&f);
    strbuf_init(&b, OUT_MAX);
    assert_int_equal(expfmt_render(&b, EXPFMT_TEXT_004, NULL), -EINVAL);
    in = f.in;
    in.profile = NULL;
    assert_int_equal(expfmt_render(&b, EXPFMT_TEXT_004, &in), -EINVAL);
    in = f.in;
    in.stats = NULL;
    assert_int_equal(expfmt_render(&b, EXPFMT_TEXT_004, &in), -EINVAL);
    in = f.in;
    in.jobs = NULL;
    assert_int_equal(expfmt_render(&b, EXPFMT_TEXT_004, &in), -EINVAL);
    assert_int_equal(expfmt_render(&b, (enum expfmt_format)7, &f.in), -EINVAL);
    assert_int_equal(b.len, 0);
    strbuf_release(&b);
}

static void rollback_at_every_cap(void **state)
{
    static const char prefix[] = "# previous content\n";
    struct fixture f;
    struct strbuf b;
    char *full;
    size_t full_len, cap;
    int rc;

    (void)state;
    fixture_init(&f);
    full = render(&f.in);
    full_len = strlen(full);
    for (cap = sizeof(prefix) - 1; cap < sizeof(prefix) - 1 + full_len; cap++) {
        strbuf_init(&b, cap);
        assert_int_equal(strbuf_puts(&b, prefix), 0);
        rc = expfmt_render(&b, EXPFMT_TEXT_004, &f.in);
        if (rc != -E2BIG)
            fail_msg("cap %zu: rc %d", cap, rc);
        assert_int_equal(b.len, sizeof(prefix) - 1);
        assert_string_equal(b.data, prefix);
        assert_int_equal(b.max, cap); /* the cap is given back */
        strbuf_release(&b);
    }
    strbuf_init(&b, cap);
    assert_int_equal(strbuf_puts(&b, prefix), 0);
    assert_int_equal(expfmt_render(&b, EXPFMT_TEXT_004, &f.in), 0);
    assert_int_equal(b.len, cap);
    assert_string_equal(b.data + sizeof(prefix) - 1, full);
    strbuf_release(&b);
    free(full);
}

/*
 * The bound is by construction: jobs whose every string is at its cap and made
 * of the bytes that escape worst (invalid UTF-8 grows threefold) still fit
 * expfmt_max_output(n), so a hostile API can never make rendering fail.
 */
static void output_bound_holds_for_worst_jobs(void **state)
{
    const size_t n = 50;
    struct fixture f;
    struct job_record *rec;
    struct expfmt_job *jobs;
    struct job_labels labels;
    struct strbuf b;
    size_t i;

    (void)state;
    fixture_init(&f);
    memset(&labels, 0, sizeof(labels));
    rec = calloc(1, sizeof(*rec));
    jobs = calloc(n, sizeof(*jobs));
    assert_non_null(rec);
    assert_non_null(jobs);
    set_rec(rec, "x", "", JOB_FAIL);
    memset(rec->job_type, '\xff', JOB_TYPE_MAX);
    memset(rec->fail_reason, '\xff', JOB_FAIL_REASON_MAX);
    memset(rec->error_code, '\xff', JOB_ERROR_CODE_MAX);
    memset(rec->resource_id, '\xff', JOB_RESOURCE_ID_MAX);
    rec->has_sub_jobs = 1;
    /* the registrant's labels at their caps, of the byte that escapes worst among valid ones */
    for (i = 0; i < JOB_LABELS_MAX; i++) {
        snprintf(labels.kv[i].name, sizeof(labels.kv[i].name), "%s", joblabels_names()[i]);
        memset(labels.kv[i].value, '"', JOB_LABEL_VALUE_MAX);
    }
    labels.n = JOB_LABELS_MAX;
    for (i = 0; i < n; i++) {
        set_job(&jobs[i], "job", rec, JOB_FAIL, 1, 1);
        jobs[i].labels = &labels;
    }
    f.in.jobs = jobs;
    f.in.n_jobs = n;
    strbuf_init(&b, SIZE_MAX / 2);
    assert_int_equal(strbuf_puts(&b, "keep"), 0);
    assert_int_equal(expfmt_render(&b, EXPFMT_TEXT_004, &f.in), 0);
    assert_true(b.len - 4 <= expfmt_max_output(n));
    /* each job took most of its share: the bound is not loose by orders of magnitude */
    assert_true(b.len > n * EXPFMT_JOB_MAX / 8);
    assert_int_equal(b.max, SIZE_MAX / 2); /* the caller's cap is given back */
    strbuf_release(&b);
    assert_int_equal(expfmt_max_output(0), EXPFMT_FIXED_MAX);
    assert_int_equal(expfmt_max_output(SIZE_MAX / 2), SIZE_MAX);
    free(jobs);
    free(rec);
}

static void appends_after_existing_content(void **state)
{
    struct fixture f;
    struct strbuf b;
    char *full;

    (void)state;
    fixture_init(&f);
    full = render(&f.in);
    strbuf_init(&b, OUT_MAX);
    assert_int_equal(strbuf_puts(&b, "HEAD\n"), 0);
    assert_int_equal(expfmt_render(&b, EXPFMT_TEXT_004, &f.in), 0);
    assert_memory_equal(b.data, "HEAD\n", 5);
    assert_string_equal(b.data + 5, full);
    strbuf_release(&b);
    free(full);
}

/* ------------------------------------------------------ number formatting */

static const char *fmt(double v)
{
    static char buf[NUM_BUF];

    memset(buf, 'Z', sizeof(buf));
    expfmt_format_double(v, buf, sizeof(buf));
    return buf;
}

static void format_double_cases(void **state)
{
    (void)state;
    assert_string_equal(fmt(0), "0");
    assert_string_equal(fmt(1), "1");
    assert_string_equal(fmt(-1), "-1");
    assert_string_equal(fmt(42), "42");
    assert_string_equal(fmt(1700000000), "1700000000");
    assert_string_equal(fmt(1e15), "1000000000000000");
    assert_string_equal(fmt(9007199254740991.0), "9007199254740991"); /* 2^53 - 1 */
    assert_string_equal(fmt(-9007199254740991.0), "-9007199254740991");
    assert_string_equal(fmt(9007199254740992.0), "9007199254740992"); /* 2^53: %.16g */
    assert_string_equal(fmt(1e20), "1e+20");
    assert_string_equal(fmt(1.8446744073709552e19), "1.8446744073709552e+19");
    assert_string_equal(fmt(0.1), "0.1");
    assert_string_equal(fmt(0.005), "0.005");
    assert_string_equal(fmt(2.5), "2.5");
    assert_string_equal(fmt(-0.125), "-0.125");
    assert_string_equal(fmt(1700000000.5), "1700000000.5");
    assert_string_equal(fmt(1.0 / 3), "0.3333333333333333");
    assert_string_equal(fmt(0.1 + 0.2), "0.30000000000000004");
    assert_string_equal(fmt(1e-300), "1e-300");
    assert_string_equal(fmt(1.7976931348623157e308), "1.7976931348623157e+308");
    assert_string_equal(fmt(INFINITY), "+Inf");
    assert_string_equal(fmt(-INFINITY), "-Inf");
    assert_string_equal(fmt(NAN), "NaN");
}

static void format_double_round_trips(void **state)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    double v, back;
    const char *s;
    int i;

    (void)state;
    for (i = 0; i < 200000; i++) {
        /* xorshift64: deterministic bit patterns over the whole double range */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        memcpy(&v, &x, sizeof(v));
        if (i % 2)
            v = (double)(int64_t)(x >> 11) / 1024.0; /* plenty of exact fractions too */
        if (isnan(v) || isinf(v))
            continue;
        s = fmt(v);
        assert_true(strlen(s) > 0 && strlen(s) < 25);
        back = strtod(s, NULL);
        if (memcmp(&back, &v, sizeof(v)) != 0 && !(v == 0 && back == 0))
            fail_msg("%.17g formatted as %s", v, s);
        if (fabs(v) < 9007199254740992.0 && v == trunc(v))
            assert_null(strpbrk(s, ".e"));
    }
}

static void format_double_small_buffer(void **state)
{
    char buf[8];

    (void)state;
    memset(buf, 'Z', sizeof(buf));
    expfmt_format_double(1234567, buf, sizeof(buf));
    assert_string_equal(buf, "1234567"); /* exactly fits */
    expfmt_format_double(12345678, buf, sizeof(buf));
    assert_string_equal(buf, ""); /* never a cut number */
    expfmt_format_double(0.3333, buf, 4);
    assert_string_equal(buf, "");
    expfmt_format_double(NAN, buf, 3);
    assert_string_equal(buf, "");
    buf[0] = 'Z';
    expfmt_format_double(1, buf, 0); /* no room at all: untouched */
    assert_int_equal(buf[0], 'Z');
}

/* --------------------------------------------------------- label escaping */

static void expect_escape(const char *in, const char *want)
{
    struct strbuf b;

    strbuf_init(&b, 1024);
    assert_int_equal(strbuf_puts(&b, "<"), 0);
    assert_int_equal(expfmt_escape_label(&b, in), 0);
    assert_string_equal(b.data + 1, want);
    strbuf_release(&b);
}

static void escape_label_cases(void **state)
{
    (void)state;
    expect_escape("", "");
    expect_escape("plain-value_1.2", "plain-value_1.2");
    expect_escape("a\\b", "a\\\\b");
    expect_escape("say \"hi\"", "say \\\"hi\\\"");
    expect_escape("l1\nl2\n", "l1\\nl2\\n");
    expect_escape("\\\"\n", "\\\\\\\"\\n");
    expect_escape("tab\there\rcr", "tab\there\rcr"); /* only \\ \" \n are escaped */
    expect_escape("\xc3\xbc \xe2\x9c\x93 \xf0\x9f\x98\x80",
                  "\xc3\xbc \xe2\x9c\x93 \xf0\x9f\x98\x80");
    expect_escape("{}=,", "{}=,");
}

#define FFFD "\xef\xbf\xbd"

static void escape_label_invalid_utf8(void **state)
{
    (void)state;
    expect_escape("a\xff"
                  "b",
                  "a" FFFD "b");
    expect_escape("\x80", FFFD);     /* lone continuation byte */
    expect_escape("\xc3", FFFD);     /* truncated at the end */
    expect_escape("\xe2\x82", FFFD); /* truncated 3-byte: one U+FFFD */
    expect_escape("\xe2\x82"
                  "x",
                  FFFD "x");
    expect_escape("\xc0\xaf", FFFD FFFD);                   /* overlong '/' */
    expect_escape("\xe0\x80\xaf", FFFD FFFD FFFD);          /* overlong 3-byte */
    expect_escape("\xed\xa0\x80", FFFD FFFD FFFD);          /* UTF-16 surrogate */
    expect_escape("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* above U+10FFFF */
    expect_escape("\xf0\x9f\x98", FFFD);                    /* truncated 4-byte */
    expect_escape("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf");  /* U+10FFFF is fine */
    expect_escape("\xed\x9f\xbf", "\xed\x9f\xbf");          /* U+D7FF is fine */
    expect_escape("\"\xff\\", "\\\"" FFFD "\\\\");
}

static void escape_label_cap_unchanged(void **state)
{
    struct strbuf b;
    size_t cap;

    (void)state;
    /* "ab\"cd" escapes to 6 bytes; any smaller room fails and leaves "X" alone */
    for (cap = 1; cap < 7; cap++) {
        strbuf_init(&b, cap);
        assert_int_equal(strbuf_putc(&b, 'X'), 0);
        assert_int_equal(expfmt_escape_label(&b, "ab\"cd"), -E2BIG);
        assert_string_equal(b.data, "X");
        strbuf_release(&b);
    }
    strbuf_init(&b, 7);
    assert_int_equal(strbuf_putc(&b, 'X'), 0);
    assert_int_equal(expfmt_escape_label(&b, "ab\"cd"), 0);
    assert_string_equal(b.data, "Xab\\\"cd");
    strbuf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(per_job_status_stateset),
        cmocka_unit_test(per_job_info_and_timing),
        cmocka_unit_test(per_job_error_subjobs_fetch),
        cmocka_unit_test(other_profile_jobs),
        cmocka_unit_test(aggregates),
        cmocka_unit_test(exporter_families),
        cmocka_unit_test(http_families),
        cmocka_unit_test(store_families),
        cmocka_unit_test(process_families),
        cmocka_unit_test(structure_is_valid),
        cmocka_unit_test(empty_state_has_every_header),
        cmocka_unit_test(profile_order_and_foreign_status),
        cmocka_unit_test(failed_job_error_only_while_fail),
        cmocka_unit_test(duration_without_binary_noise),
        cmocka_unit_test(terminal_without_end),
        cmocka_unit_test(hostile_label_values),
        cmocka_unit_test(registrant_labels_on_info),
        cmocka_unit_test(promtool_finds_nothing),
        cmocka_unit_test(promtool_catches_a_bad_exposition),
        cmocka_unit_test(openmetrics_metadata),
        cmocka_unit_test(openmetrics_samples_are_the_text_samples),
        cmocka_unit_test(openmetrics_empty_state),
        cmocka_unit_test(openmetrics_rollback_and_bound),
        cmocka_unit_test(sparse_status),
        cmocka_unit_test(both_formats_in_one_buffer),
        cmocka_unit_test(both_formats_roll_back),
        cmocka_unit_test(canonical_numbers),
        cmocka_unit_test(openmetrics_parser_accepts_every_state),
        cmocka_unit_test(openmetrics_parser_catches_mistakes),
        cmocka_unit_test(promtool_finds_nothing_sparse),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(rollback_at_every_cap),
        cmocka_unit_test(output_bound_holds_for_worst_jobs),
        cmocka_unit_test(appends_after_existing_content),
        cmocka_unit_test(format_double_cases),
        cmocka_unit_test(format_double_round_trips),
        cmocka_unit_test(format_double_small_buffer),
        cmocka_unit_test(escape_label_cases),
        cmocka_unit_test(escape_label_invalid_utf8),
        cmocka_unit_test(escape_label_cap_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
