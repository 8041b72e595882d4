/*
 * test_landing: the HTML landing page (src/landing.c): html_escape, the page's
 * content (version, metrics link, API health, job table), escaping of hostile
 * server-controlled strings, tag balance, rollback at every cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "landing.h"

#define OUT_MAX (1u << 20)
#define HOSTILE_TYPE "<script>alert('x')</script>"
#define HOSTILE_REASON "\"><img src=x onerror=alert(1)> & 'q' </td></table>"

enum { J_RUNNING, J_SUCCESS, J_FAIL, J_NEVER, J_GONE, N_JOBS };

struct fixture {
    struct job_record recs[N_JOBS];
    struct expfmt_job jobs[N_JOBS];
    struct stats stats;
    struct build_info build;
    struct expfmt_input state;
    struct landing_input in;
};

static void set_rec(struct job_record *r, const char *type, enum job_status s, double begin)
{
    memset(r, 0, sizeof(*r));
    snprintf(r->job_type, sizeof(r->job_type), "%s", type);
    r->status = s;
    r->has_begin = 1;
    r->begin_time = begin;
}

static void fixture_init(struct fixture *f)
{
    memset(f, 0, sizeof(*f));
    set_rec(&f->recs[J_RUNNING], "deleteELB", JOB_RUNNING, 1700000000);
    snprintf(f->recs[J_RUNNING].resource_id, sizeof(f->recs[J_RUNNING].resource_id), "%s",
             "ea3e5715b68850a747ec41f335625c08");
    f->jobs[J_RUNNING] = (struct expfmt_job){"run1",     &f->recs[J_RUNNING], JOB_RUNNING, 1,
                                             1700000010, 1700000010,          NULL,        NULL};

    set_rec(&f->recs[J_SUCCESS], "createELB", JOB_SUCCESS, 1700000000);
    f->recs[J_SUCCESS].has_end = 1;
    f->recs[J_SUCCESS].end_time = 1700003723; /* 1h 2m 3s */
    f->jobs[J_SUCCESS] = (struct expfmt_job){"ok2",      &f->recs[J_SUCCESS], JOB_SUCCESS, 1,
                                             1700003800, 1700003800,          NULL,        NULL};

    set_rec(&f->recs[J_FAIL], HOSTILE_TYPE, JOB_FAIL, 1700000000);
    f->recs[J_FAIL].has_end = 1;
    f->recs[J_FAIL].end_time = 1700000004.5;
    snprintf(f->recs[J_FAIL].error_code, sizeof(f->recs[J_FAIL].error_code), "%s", "ELB<1003>");
    snprintf(f->recs[J_FAIL].fail_reason, sizeof(f->recs[J_FAIL].fail_reason), "%s",
             HOSTILE_REASON);
    snprintf(f->recs[J_FAIL].resource_id, sizeof(f->recs[J_FAIL].resource_id), "%s", "a&b");
    f->jobs[J_FAIL] = (struct expfmt_job){"bad3",     &f->recs[J_FAIL], JOB_FAIL, 1,
                                          1700000005, 1700000005,       NULL,     NULL};

    f->jobs[J_NEVER] = (struct expfmt_job){"never4", NULL, JOB_UNKNOWN, 0, 0, 0, NULL, NULL};

    /* 404 after a FAIL answer: no stale error or duration */
    set_rec(&f->recs[J_GONE], "deleteELB", JOB_FAIL, 1700000000);
    f->recs[J_GONE].has_end = 1;
    f->recs[J_GONE].end_time = 1700000001;
    snprintf(f->recs[J_GONE].error_code, sizeof(f->recs[J_GONE].error_code), "%s", "STALE.1");
    f->jobs[J_GONE] = (struct expfmt_job){"gone5",    &f->recs[J_GONE], JOB_UNKNOWN, 0,
                                          1700000002, 1700000002,       NULL,        NULL};

    f->stats.api_up = 1;
    f->stats.poll_cycles = 17;
    f->stats.last_cycle_ts = 1700000040; /* 2023-11-14 22:14:00 UTC */

    f->build.version = "0.1.0";
    f->build.revision = "abc123";
    f->build.libcurl = "7.88.1";
    f->build.libmicrohttpd = "0.9.75";

    f->state.profile = profile_default();
    f->state.jobs = f->jobs;
    f->state.n_jobs = N_JOBS;
    f->state.stats = &f->stats;
    f->state.build = &f->build;
    f->in.state = &f->state;
    f->in.telemetry_path = "/metrics";
    f->in.now = 1700000070; /* 30 s after the last cycle, 70 s after begin */
}

static char *render(const struct landing_input *in)
{
    struct strbuf b;
    char *p;

    strbuf_init(&b, OUT_MAX);
    assert_int_equal(landing_render(&b, in), 0);
    p = strbuf_detach(&b, NULL);
    assert_non_null(p);
    return p;
}

static unsigned count(const char *text, const char *needle)
{
    unsigned n = 0;

    while ((text = strstr(text, needle)) != NULL) {
        n++;
        text += strlen(needle);
    }
    return n;
}

#define assert_has(text, s)                                                                        \
    do {                                                                                           \
        if (!strstr((text), (s)))                                                                  \
            fail_msg("missing: %s", (s));                                                          \
    } while (0)

/* The row of job id (from "<tr><td><code>id" to the end of the row). */
static char *row_of(const char *text, const char *id)
{
    char key[96];
    const char *start, *end;
    char *row;

    snprintf(key, sizeof(key), "<tr><td><code>%s</code>", id);
    start = strstr(text, key);
    assert_non_null(start);
    end = strstr(start, "</tr>");
    assert_non_null(end);
    row = strndup(start, (size_t)(end - start));
    assert_non_null(row);
    return row;
}

/* ------------------------------------------------------------ html_escape */

static void expect_escape(const char *in, const char *want)
{
    struct strbuf b;

    strbuf_init(&b, 1024);
    assert_int_equal(strbuf_puts(&b, "="), 0);
    assert_int_equal(html_escape(&b, in), 0);
    assert_string_equal(b.data + 1, want);
    strbuf_release(&b);
}

static void html_escape_cases(void **state)
{
    (void)state;
    expect_escape("", "");
    expect_escape("plain text 123", "plain text 123");
    expect_escape("&", "&amp;");
    expect_escape("<", "&lt;");
    expect_escape(">", "&gt;");
    expect_escape("\"", "&quot;");
    expect_escape("'", "&#39;");
    expect_escape("&amp;", "&amp;amp;"); /* no double-decoding tricks */
    expect_escape("<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    expect_escape("a\"b'c<d>e&f", "a&quot;b&#39;c&lt;d&gt;e&amp;f");
    expect_escape("\xc3\xbc\xe2\x9c\x93", "\xc3\xbc\xe2\x9c\x93");
}

static void html_escape_cap_unchanged(void **state)
{
    struct strbuf b;
    size_t cap;

    (void)state;
    /* "x<y" -> "x&lt;y" is 6 bytes after the "=" */
    for (cap = 1; cap < 7; cap++) {
        strbuf_init(&b, cap);
        assert_int_equal(strbuf_puts(&b, "="), 0);
        assert_int_equal(html_escape(&b, "x<y"), -E2BIG);
        assert_string_equal(b.data, "=");
        strbuf_release(&b);
    }
    strbuf_init(&b, 7);
    assert_int_equal(strbuf_puts(&b, "="), 0);
    assert_int_equal(html_escape(&b, "x<y"), 0);
    assert_string_equal(b.data, "=x&lt;y");
    strbuf_release(&b);
}

/* ------------------------------------------------------------------ page */

static void page_frame(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_int_equal(strncmp(t, "<!DOCTYPE html>\n<html lang=\"en\">\n", 33), 0);
    assert_has(t, "<meta charset=\"utf-8\">");
    assert_has(t, "<title>elb_job_exporter</title>");
    assert_has(t, "<h1>elb_job_exporter</h1>");
    assert_has(t, "Version 0.1.0 (revision abc123)");
    assert_has(t, "libcurl 7.88.1");
    assert_has(t, "libmicrohttpd 0.9.75");
    assert_has(t, "<a href=\"/metrics\">Metrics</a>");
    assert_has(t, "<a href=\"/api/v1/jobs\">Jobs API</a>");
    assert_true(strlen(t) > 16);
    assert_string_equal(t + strlen(t) - 16, "</body>\n</html>\n");
    /* no external assets */
    assert_null(strstr(t, "<img"));
    assert_null(strstr(t, "<script"));
    assert_null(strstr(t, "<link"));
    assert_null(strstr(t, "http://"));
    assert_null(strstr(t, "https://"));
    free(t);
}

static void tags_balanced(void **state)
{
    static const char *const tags[] = {"html", "head", "style", "body",  "h1",
                                       "h2",   "p",    "table", "thead", "tbody",
                                       "tr",   "th",   "td",    "code",  "a"};
    char open[16], open_attr[16], close[16];
    struct fixture f;
    size_t i;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
        snprintf(open, sizeof(open), "<%s>", tags[i]);
        snprintf(open_attr, sizeof(open_attr), "<%s ", tags[i]);
        snprintf(close, sizeof(close), "</%s>", tags[i]);
        if (count(t, open) + count(t, open_attr) != count(t, close))
            fail_msg("<%s> opened %u times, closed %u times", tags[i],
                     count(t, open) + count(t, open_attr), count(t, close));
    }
    /* the only script-ish text is escaped */
    assert_int_equal(count(t, "<script"), 0);
    assert_int_equal(count(t, "<img"), 0);
    free(t);
}

static void api_health(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_has(t, "<tr><th>API up</th><td>yes</td></tr>");
    assert_has(t, "<tr><th>Poll cycles</th><td class=\"num\">17</td></tr>");
    assert_has(t, "<tr><th>Last poll cycle</th><td>2023-11-14 22:14:00 UTC (30.0 s ago)</td></tr>");
    assert_has(t, "<tr><th>Tracked jobs</th><td class=\"num\">5</td></tr>");
    free(t);

    f.stats.api_up = 0;
    f.stats.poll_cycles = 0;
    f.stats.last_cycle_ts = 0;
    t = render(&f.in);
    assert_has(t, "<tr><th>API up</th><td>no</td></tr>");
    assert_has(t, "<tr><th>Last poll cycle</th><td>none yet</td></tr>");
    free(t);
}

static void job_rows(void **state)
{
    struct fixture f;
    char *t, *row;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_int_equal(count(t, "<tr><td><code>"), N_JOBS);
    assert_has(t, "<th>Job ID</th><th>Status</th><th>Type</th><th>Duration</th>"
                  "<th>Resource ID</th><th>Error</th>");

    row = row_of(t, "run1");
    assert_string_equal(row, "<tr><td><code>run1</code></td><td class=\"st-RUNNING\">RUNNING</td>"
                             "<td>deleteELB</td><td class=\"num\">1m 10s</td>"
                             "<td><code>ea3e5715b68850a747ec41f335625c08</code></td><td></td>");
    free(row);

    row = row_of(t, "ok2");
    assert_string_equal(row, "<tr><td><code>ok2</code></td><td class=\"st-SUCCESS\">SUCCESS</td>"
                             "<td>createELB</td><td class=\"num\">1h 2m 3s</td>"
                             "<td><code></code></td><td></td>");
    free(row);

    row = row_of(t, "never4");
    assert_string_equal(row, "<tr><td><code>never4</code></td><td class=\"st-UNKNOWN\">UNKNOWN"
                             "</td><td></td><td class=\"num\"></td><td><code></code></td>"
                             "<td></td>");
    free(row);

    /* 404 after a FAIL record: type and resource stay, no stale error or duration */
    row = row_of(t, "gone5");
    assert_string_equal(row, "<tr><td><code>gone5</code></td><td class=\"st-UNKNOWN\">UNKNOWN"
                             "</td><td>deleteELB</td><td class=\"num\"></td>"
                             "<td><code></code></td><td></td>");
    free(row);
    assert_null(strstr(t, "STALE.1"));
    free(t);
}

static void undocumented_status_shown_raw(void **state)
{
    struct fixture f;
    char *t, *row;

    (void)state;
    fixture_init(&f);
    /* the API sent a status the profile does not know: UNKNOWN, plus what it really said */
    f.recs[J_RUNNING].status = JOB_UNKNOWN;
    snprintf(f.recs[J_RUNNING].status_raw, sizeof(f.recs[J_RUNNING].status_raw), "%s", "<Q&D>");
    f.jobs[J_RUNNING].status = JOB_UNKNOWN;
    t = render(&f.in);
    row = row_of(t, "run1");
    assert_has(row, "<td class=\"st-UNKNOWN\">UNKNOWN (&lt;Q&amp;D&gt;)</td>");
    free(row);
    /* a documented status shows no raw text */
    row = row_of(t, "ok2");
    assert_has(row, "<td class=\"st-SUCCESS\">SUCCESS</td>");
    free(row);
    free(t);
}

static void hostile_strings_escaped(void **state)
{
    struct fixture f;
    char *t, *row;

    (void)state;
    fixture_init(&f);
    t = render(&f.in);
    assert_null(strstr(t, HOSTILE_TYPE));
    assert_null(strstr(t, HOSTILE_REASON));
    row = row_of(t, "bad3");
    assert_string_equal(row, "<tr><td><code>bad3</code></td><td class=\"st-FAIL\">FAIL</td>"
                             "<td>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</td>"
                             "<td class=\"num\">4.5 s</td><td><code>a&amp;b</code></td>"
                             "<td class=\"err\"><code>ELB&lt;1003&gt;</code> "
                             "&quot;&gt;&lt;img src=x onerror=alert(1)&gt; &amp; &#39;q&#39; "
                             "&lt;/td&gt;&lt;/table&gt;</td>");
    free(row);
    free(t);

    /* configured and build strings are escaped too, attribute included */
    f.in.telemetry_path = "/m\"><script>x</script>";
    f.build.version = "<b>1</b>";
    t = render(&f.in);
    assert_has(t, "<a href=\"/m&quot;&gt;&lt;script&gt;x&lt;/script&gt;\">Metrics</a>");
    assert_has(t, "Version &lt;b&gt;1&lt;/b&gt;");
    assert_int_equal(count(t, "<script"), 0);
    free(t);
}

static void durations(void **state)
{
    struct fixture f;
    char *t, *row;

    (void)state;
    fixture_init(&f);
    f.recs[J_RUNNING].begin_time = f.in.now - 2 * 86400 - 5 * 3600 - 7; /* 2d 5h 0m 7s */
    f.recs[J_SUCCESS].end_time = f.recs[J_SUCCESS].begin_time - 10;     /* clock skew: 0 */
    f.recs[J_FAIL].has_end = 0; /* finished without end_time: no duration */
    t = render(&f.in);
    row = row_of(t, "run1");
    assert_has(row, "<td class=\"num\">2d 5h 0m 7s</td>");
    free(row);
    row = row_of(t, "ok2");
    assert_has(row, "<td class=\"num\">0.0 s</td>");
    free(row);
    row = row_of(t, "bad3");
    assert_has(row, "<td class=\"num\"></td>");
    free(row);
    free(t);
}

static void no_jobs_no_build(void **state)
{
    struct fixture f;
    char *t;

    (void)state;
    fixture_init(&f);
    f.state.n_jobs = 0;
    f.state.jobs = NULL;
    f.state.build = NULL;
    f.in.telemetry_path = NULL;
    t = render(&f.in);
    assert_has(t, "<p>No jobs are tracked.</p>");
    assert_null(strstr(t, "<tbody>"));
    assert_null(strstr(t, "Version"));
    assert_has(t, "<a href=\"/metrics\">Metrics</a>"); /* default path */
    assert_has(t, "<tr><th>Tracked jobs</th><td class=\"num\">0</td></tr>");
    free(t);
}

/*
 * Bounded by construction (the defect: 10k jobs with long hostile strings pushed
 * the page past its cap and the whole snapshot, metrics included, was dropped).
 * Any number of worst-case jobs fits LANDING_MAX; failed jobs come first and
 * the page says how many it left out.
 */
static void page_bounded_for_worst_jobs(void **state)
{
    const size_t n = 5000;
    struct fixture f;
    struct job_record *bad, *ok;
    struct expfmt_job *jobs;
    struct strbuf b;
    char want[128];
    size_t i;

    (void)state;
    fixture_init(&f);
    bad = calloc(1, sizeof(*bad));
    ok = calloc(1, sizeof(*ok));
    jobs = calloc(n, sizeof(*jobs));
    assert_non_null(bad);
    assert_non_null(ok);
    assert_non_null(jobs);
    set_rec(bad, "", JOB_FAIL, 1700000000);
    memset(bad->job_type, '"', JOB_TYPE_MAX); /* each one 6 bytes escaped */
    memset(bad->fail_reason, '"', JOB_FAIL_REASON_MAX);
    memset(bad->error_code, '"', JOB_ERROR_CODE_MAX);
    memset(bad->resource_id, '"', JOB_RESOURCE_ID_MAX);
    set_rec(ok, "createELB", JOB_SUCCESS, 1700000000);
    for (i = 0; i < n; i++) {
        /* the only failed job is the last one: it must still be shown */
        int failed = i == n - 1;
        jobs[i] = (struct expfmt_job){failed ? "thefailedone" : "job",
                                      failed ? bad : ok,
                                      failed ? JOB_FAIL : JOB_SUCCESS,
                                      1,
                                      1700000001,
                                      1700000001,
                                      NULL,
                                      NULL};
        if (i % 2 == 0 && !failed) {
            jobs[i].rec = bad;
            jobs[i].status = JOB_RUNNING;
            bad->status = JOB_FAIL;
        }
    }
    f.state.jobs = jobs;
    f.state.n_jobs = n;
    strbuf_init(&b, LANDING_MAX);
    assert_int_equal(landing_render(&b, &f.in), 0);
    assert_true(b.len <= LANDING_MAX);
    snprintf(want, sizeof(want), "Showing %u of %zu jobs, failed ones first.", LANDING_ROWS_MAX, n);
    assert_non_null(strstr(b.data, want));
    assert_non_null(strstr(b.data, "<code>thefailedone</code>"));
    strbuf_release(&b);
    free(jobs);
    free(ok);
    free(bad);
}

static void bad_arguments(void **state)
{
    struct fixture f;
    struct landing_input in;
    struct expfmt_input st;
    struct strbuf b;

    (void)state;
    fixture_init(&f);
    strbuf_init(&b, OUT_MAX);
    assert_int_equal(landing_render(&b, NULL), -EINVAL);
    in = f.in;
    in.state = NULL;
    assert_int_equal(landing_render(&b, &in), -EINVAL);
    st = f.state;
    st.stats = NULL;
    in.state = &st;
    assert_int_equal(landing_render(&b, &in), -EINVAL);
    st = f.state;
    st.jobs = NULL;
    assert_int_equal(landing_render(&b, &in), -EINVAL);
    assert_int_equal(b.len, 0);
    strbuf_release(&b);
}

static void rollback_at_every_cap(void **state)
{
    static const char prefix[] = "HTTP body so far";
    struct fixture f;
    struct strbuf b;
    size_t cap, full_len;
    char *full;
    int rc;

    (void)state;
    fixture_init(&f);
    full = render(&f.in);
    full_len = strlen(full);
    for (cap = sizeof(prefix) - 1; cap < sizeof(prefix) - 1 + full_len; cap++) {
        strbuf_init(&b, cap);
        assert_int_equal(strbuf_puts(&b, prefix), 0);
        rc = landing_render(&b, &f.in);
        if (rc != -E2BIG)
            fail_msg("cap %zu: rc %d", cap, rc);
        assert_string_equal(b.data, prefix);
        strbuf_release(&b);
    }
    strbuf_init(&b, cap);
    assert_int_equal(strbuf_puts(&b, prefix), 0);
    assert_int_equal(landing_render(&b, &f.in), 0);
    assert_string_equal(b.data + sizeof(prefix) - 1, full);
    strbuf_release(&b);
    free(full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(html_escape_cases),
        cmocka_unit_test(html_escape_cap_unchanged),
        cmocka_unit_test(page_frame),
        cmocka_unit_test(tags_balanced),
        cmocka_unit_test(api_health),
        cmocka_unit_test(job_rows),
        cmocka_unit_test(undocumented_status_shown_raw),
        cmocka_unit_test(hostile_strings_escaped),
        cmocka_unit_test(durations),
        cmocka_unit_test(no_jobs_no_build),
        cmocka_unit_test(page_bounded_for_worst_jobs),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(rollback_at_every_cap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
