/*
 * landing: the HTML landing page served at GET / (see landing.h).
 *
 * One small HTML5 document, no external assets, a few lines of inline CSS:
 * name and version, a link to the metrics, the API health and a table of the
 * tracked jobs. Every string that comes from the cloud API, the configuration
 * or the build goes through html_escape(), attribute values included.
 * Rendered once per poll cycle like the exposition, so it is pure: the render
 * time comes in as in->now. Output is all or nothing: on error the buffer goes
 * back to its length on entry.
 */
#include "landing.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define TIME_TEXT_MAX 32     /* "2006-01-02 15:04:05 UTC" */
#define DURATION_TEXT_MAX 48 /* "106751991167300d 15h 30m 8s" and the like */

static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>elb_job_exporter</title>\n"
    "<style>\n"
    "body{font-family:sans-serif;margin:2em;color:#222}\n"
    "table{border-collapse:collapse;margin-bottom:1.5em}\n"
    "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\n"
    "th{background:#f2f2f2}\n"
    "td.num{text-align:right}\n"
    ".st-SUCCESS,.st-COMPLETE{color:#1a7f37}\n"
    ".st-FAIL,.st-ROLLBACK_FAIL{color:#cf222e;font-weight:bold}\n"
    ".st-RUNNING,.st-INIT,.st-ROLLBACKING{color:#9a6700}.st-UNKNOWN,.st-CANCEL{color:#6e7781}\n"
    ".err{white-space:pre-wrap}\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<h1>elb_job_exporter</h1>\n";

/* The HTML entity for c, or NULL when c stands for itself. */
static const char *html_entity(unsigned char c)
{
    switch (c) {
    case '&':
        return "&amp;";
    case '<':
        return "&lt;";
    case '>':
        return "&gt;";
    case '"':
        return "&quot;";
    case '\'':
        return "&#39;";
    default:
        return NULL;
    }
}

/* Append s with & < > " ' replaced by entities. Returns 0, or -E2BIG/-ENOMEM, out unchanged. */
int html_escape(struct strbuf *out, const char *s)
{
    return strbuf_escape(out, s, html_entity);
}

/* Append before, s escaped, after. Returns 0 or a strbuf error. */
static int put_escaped(struct strbuf *out, const char *before, const char *s, const char *after)
{
    int rc = strbuf_puts(out, before);

    if (!rc)
        rc = html_escape(out, s ? s : "");
    if (!rc)
        rc = strbuf_puts(out, after);
    return rc;
}

/* Format a time (seconds since the epoch) as "YYYY-MM-DD hh:mm:ss UTC"; "" if out of range. */
static void format_utc(double t, char *buf, size_t len)
{
    struct tm tm;
    time_t tt;

    buf[0] = '\0';
    if (!(t >= 0 && t < 253402300800.0)) /* before year 10000 */
        return;
    tt = (time_t)t;
    if (!gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm))
        buf[0] = '\0';
}

/* Format a duration in seconds as "4.2 s" below a minute, else "1d 2h 3m 4s" (leading units). */
static void format_duration(double d, char *buf, size_t len)
{
    unsigned long long s, days, hours, mins;

    if (!(d >= 0) || d > 1e15) {
        snprintf(buf, len, "?");
        return;
    }
    if (d < 60) {
        snprintf(buf, len, "%.1f s", d);
        return;
    }
    s = (unsigned long long)d;
    days = s / 86400;
    hours = s / 3600 % 24;
    mins = s / 60 % 60;
    s %= 60;
    if (days)
        snprintf(buf, len, "%llud %lluh %llum %llus", days, hours, mins, s);
    else if (hours)
        snprintf(buf, len, "%lluh %llum %llus", hours, mins, s);
    else
        snprintf(buf, len, "%llum %llus", mins, s);
}

/*
 * Duration shown for a job, same rule as elb_job_duration_seconds except that
 * a running job is measured to the render time. Returns 0 when there is none.
 */
static int job_duration(const struct expfmt_job *j, double now, double *d)
{
    const struct job_record *r = j->rec;

    if (!r || r->status != j->status || !r->has_begin)
        return 0;
    if (job_status_terminal(r->status)) {
        if (!r->has_end)
            return 0;
        *d = r->end_time - r->begin_time;
    } else {
        *d = now - r->begin_time;
    }
    if (!(*d > 0))
        *d = 0;
    return 1;
}

static int render_header(struct strbuf *out, const struct landing_input *in)
{
    const struct build_info *b = in->state->build;
    int rc;

    rc = strbuf_puts(out, page_head);
    if (!rc && b) {
        rc = put_escaped(out, "<p>Version ", b->version, "");
        if (!rc)
            rc = put_escaped(out, " (revision ", b->revision, ")");
        if (!rc)
            rc = put_escaped(out, ", libcurl ", b->libcurl, "");
        if (!rc)
            rc = put_escaped(out, ", libmicrohttpd ", b->libmicrohttpd, "</p>\n");
    }
    if (!rc)
        rc = put_escaped(out, "<p><a href=\"", in->telemetry_path ? in->telemetry_path : "/metrics",
                         "\">Metrics</a>");
    /* the registration API (registry_http.h): its list, and the README's section on it */
    if (!rc)
        rc = strbuf_puts(out, " &middot; <a href=\"/api/v1/jobs\">Jobs API</a> (JSON; "
                              "<code>GET /api/v1/jobs/{id}?wait=10m</code> waits for a job)</p>\n");
    return rc;
}

static int render_health(struct strbuf *out, const struct landing_input *in)
{
    const struct stats *st = in->state->stats;
    char when[TIME_TEXT_MAX], dur[DURATION_TEXT_MAX];
    int rc;

    rc = strbuf_printf(out,
                       "<h2>API health</h2>\n<table>\n"
                       "<tr><th>API up</th><td>%s</td></tr>\n"
                       "<tr><th>Poll cycles</th><td class=\"num\">%llu</td></tr>\n",
                       st->api_up ? "yes" : "no", (unsigned long long)st->poll_cycles);
    if (rc)
        return rc;
    if (st->last_cycle_ts > 0) {
        format_utc(st->last_cycle_ts, when, sizeof(when));
        format_duration(in->now - st->last_cycle_ts, dur, sizeof(dur));
        rc = strbuf_printf(out, "<tr><th>Last poll cycle</th><td>%s (%s ago)</td></tr>\n", when,
                           dur);
    } else {
        rc = strbuf_puts(out, "<tr><th>Last poll cycle</th><td>none yet</td></tr>\n");
    }
    if (rc)
        return rc;
    return strbuf_printf(out,
                         "<tr><th>Tracked jobs</th><td class=\"num\">%zu</td></tr>\n"
                         "</table>\n",
                         in->state->n_jobs);
}

static int render_job_row(struct strbuf *out, const struct expfmt_job *j, double now)
{
    const struct job_record *r = j->rec;
    const char *status = job_status_name(j->status);
    char dur[DURATION_TEXT_MAX];
    double d;
    int rc;

    rc = put_escaped(out, "<tr><td><code>", j->id, "</code></td>");
    if (!rc)
        rc = put_escaped(out, "<td class=\"st-", status, "\">");
    if (!rc)
        rc = put_escaped(out, "", status, "");
    /* an undocumented status is shown as UNKNOWN: say what the API really sent */
    if (!rc && r && r->status == JOB_UNKNOWN && j->status == JOB_UNKNOWN && r->status_raw[0])
        rc = put_escaped(out, " (", r->status_raw, ")");
    if (!rc)
        rc = strbuf_puts(out, "</td>");
    if (!rc)
        rc = put_escaped(out, "<td>", r ? r->job_type : "", "</td>");
    if (rc)
        return rc;
    dur[0] = '\0';
    if (job_duration(j, now, &d))
        format_duration(d, dur, sizeof(dur));
    rc = put_escaped(out, "<td class=\"num\">", dur, "</td>");
    if (!rc)
        rc = put_escaped(out, "<td><code>", r ? r->resource_id : "", "</code></td>");
    if (rc)
        return rc;
    if (r && r->status == j->status && job_status_failed(j->status)) {
        rc = put_escaped(out, "<td class=\"err\"><code>", r->error_code, "</code> ");
        if (!rc)
            rc = put_escaped(out, "", r->fail_reason, "</td></tr>\n");
    } else {
        rc = strbuf_puts(out, "<td></td></tr>\n");
    }
    return rc;
}

static int render_jobs_table(struct strbuf *out, const struct landing_input *in)
{
    const struct expfmt_input *st = in->state;
    size_t i, shown = 0;
    int pass, rc;

    rc = strbuf_puts(out, "<h2>Jobs</h2>\n");
    if (rc)
        return rc;
    if (st->n_jobs == 0)
        return strbuf_puts(out, "<p>No jobs are tracked.</p>\n");
    if (st->n_jobs > LANDING_ROWS_MAX) {
        rc =
            strbuf_printf(out, "<p>Showing %u of %zu jobs, failed ones first. Every job is in the ",
                          LANDING_ROWS_MAX, st->n_jobs);
        if (!rc)
            rc =
                put_escaped(out, "<a href=\"", in->telemetry_path ? in->telemetry_path : "/metrics",
                            "\">metrics</a>.</p>\n");
        if (rc)
            return rc;
    }
    rc = strbuf_puts(out, "<table>\n<thead><tr><th>Job ID</th><th>Status</th><th>Type</th>"
                          "<th>Duration</th><th>Resource ID</th><th>Error</th></tr></thead>\n"
                          "<tbody>\n");
    /* pass 0: failed jobs, pass 1: the others, until the cap */
    for (pass = 0; pass < 2; pass++)
        for (i = 0; !rc && i < st->n_jobs && shown < LANDING_ROWS_MAX; i++) {
            if ((job_status_failed(st->jobs[i].status) != 0) != (pass == 0))
                continue;
            rc = render_job_row(out, &st->jobs[i], in->now);
            shown++;
        }
    if (!rc)
        rc = strbuf_puts(out, "</tbody>\n</table>\n");
    return rc;
}

int landing_render(struct strbuf *out, const struct landing_input *in)
{
    size_t entry;
    int rc;

    if (!out || !in || !in->state || !in->state->stats || (in->state->n_jobs && !in->state->jobs))
        return -EINVAL;
    entry = out->len;
    rc = render_header(out, in);
    if (rc)
        goto out;
    rc = render_health(out, in);
    if (rc)
        goto out;
    rc = render_jobs_table(out, in);
    if (rc)
        goto out;
    rc = strbuf_puts(out, "</body>\n</html>\n");
out:
    if (rc)
        strbuf_truncate(out, entry);
    return rc;
}
