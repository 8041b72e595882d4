#!/usr/bin/env bash
# check_dashboard.sh: static checks of the Grafana dashboard dashboards/elb_jobs.json.
#
#   check_dashboard.sh DASHBOARD              check it; exit 0 if clean, 1 with one line per problem
#   check_dashboard.sh --exprs DASHBOARD      print every PromQL expression of it (panel targets and
#                                             the selectors of label_values() variables), one per
#                                             line, Grafana variables replaced by sample values so
#                                             that a Prometheus server can parse them
#   check_dashboard.sh --self-test DASHBOARD  prove the checker rejects broken copies of DASHBOARD
#
# What "clean" means:
#   - valid JSON, schemaVersion >= 36, a `datasource` variable of type datasource for prometheus,
#     and every panel and target using that variable as its data source;
#   - every panel that is not a row (also the ones inside collapsed rows) has at least one target,
#     and every target a non-empty `expr`; panel ids are unique;
#   - every metric name in any expression is one of the exporter's metrics (the product
#     definition's "Metrics" section, listed below), every label name in a matcher, a by/without/
#     on/ignoring/group_* list or a legend `{{label}}` is one the exporter or Prometheus puts on
#     them, and every Grafana variable used is defined (or a Grafana built-in);
#   - the profile filter: a variable `profile` with All = `.*` and an option `^$`; every selector
#     of a per-job metric (the ones that carry `profile`) has `profile=~"${profile:pipe}"`, and no
#     other metric has a profile matcher. Jobs of an exporter's --elb.profile carry no profile
#     label, so the filter must match the empty label: All's `.*` does, and so does `^$`, the
#     "default" option. `:pipe` leaves the values unescaped (plain `$profile` is regex-escaped by
#     Grafana when the variable is multi-value, and `^$` would then match nothing).
# Metric names are found by a small tokenizer (strings, label matchers, label lists, ranges and
# numbers are removed; what is left and not a keyword or a function call is a metric name). That
# is enough for the expressions a dashboard holds; check_promql.sh has a real Prometheus parse them.
#
# Needs bash, jq, grep, sed.

# shellcheck disable=SC2016 # the jq programs are single-quoted on purpose
set -euo pipefail

# The exporter's metric names, exactly as the product definition lists them (counters with
# _total, the histogram with its _bucket/_sum/_count series).
readonly METRICS="
elb_job_status
elb_job_info
elb_job_begin_timestamp_seconds
elb_job_end_timestamp_seconds
elb_job_duration_seconds
elb_job_error_info
elb_job_sub_jobs
elb_job_fetch_success
elb_job_last_fetch_timestamp_seconds
elb_jobs
elb_jobs_finished_total
elb_jobs_failed_total
elb_job_exporter_api_requests_total
elb_job_exporter_api_request_errors_total
elb_job_exporter_api_request_duration_seconds_bucket
elb_job_exporter_api_request_duration_seconds_sum
elb_job_exporter_api_request_duration_seconds_count
elb_job_exporter_api_up
elb_job_exporter_auth_requests_total
elb_job_exporter_auth_failures_total
elb_job_exporter_auth_token_expiry_timestamp_seconds
elb_job_exporter_poll_cycles_total
elb_job_exporter_last_poll_cycle_timestamp_seconds
elb_job_exporter_poll_cycle_duration_seconds
elb_job_exporter_tracked_jobs
elb_job_exporter_build_info
process_cpu_seconds_total
process_resident_memory_bytes
process_virtual_memory_bytes
process_start_time_seconds
process_open_fds
process_max_fds
"

# The per-job metrics: the only ones with a profile label (on jobs of another profile than the
# exporter's --elb.profile), so the only ones the dashboard's profile filter applies to.
readonly PER_JOB_METRICS="
elb_job_status
elb_job_info
elb_job_begin_timestamp_seconds
elb_job_end_timestamp_seconds
elb_job_duration_seconds
elb_job_error_info
elb_job_sub_jobs
elb_job_fetch_success
elb_job_last_fetch_timestamp_seconds
"

# Label names of those metrics, plus the target labels Prometheus adds (job, instance).
readonly LABELS="
job_id job_type profile status resource_id error_code fail_reason
code reason le
version revision libcurl libmicrohttpd
job instance
"

# PromQL words that are not metric names when not followed by "(".
readonly KEYWORDS="
and or unless bool offset atan2 by without on ignoring group_left group_right inf nan
sum min max avg group stddev stdvar count count_values bottomk topk quantile
"

# Grafana's built-in variables the expressions may use, and the value each gets in --exprs.
readonly BUILTIN_VARS="__rate_interval __interval __range __range_s __range_ms __interval_ms"

# All panels, including those kept inside (collapsed) row panels.
readonly JQ_PANELS='def allpanels: .panels[]? | ., (.panels[]?);'

progname=${0##*/}

die() {
    printf '%s: %s\n' "$progname" "$*" >&2
    exit 2
}

# JQ_EXPRS: defines exprs, a stream of {where, expr}: every panel target's expr (newlines
# folded) and, for query variables, the selector of label_values(SELECTOR, label) or the
# expression of query_result(EXPR).
readonly JQ_EXPRS="$JQ_PANELS"'
    def exprs:
        ( allpanels | select(.type != "row") | . as $p | .targets[]?
          | select((.expr | type) == "string")
          | { where: "panel \($p.id) \"\($p.title)\" target \(.refId)",
              expr: (.expr | gsub("[\r\n\t]"; " ")) } ),
        ( .templating.list[]? | select(.type == "query") | .name as $n
          | (.query | if type == "object" then .query else . end)
          | select(type == "string")
          | ( capture("^\\s*label_values\\s*\\((?<sel>.*),\\s*[a-zA-Z_][a-zA-Z0-9_]*\\s*\\)\\s*$")
              // capture("^\\s*query_result\\s*\\((?<sel>.*)\\)\\s*$") // empty )
          | { where: "variable \($n)", expr: (.sel | gsub("[\r\n\t]"; " ")) } );'

# JQ_TOKENS: defines tokens, which turns an expression into [kind, name] pairs: kind is
# "metric", "label", "var" (a Grafana variable) or "error". $keywords: whitespace-separated words.
readonly JQ_TOKENS='
    def strip_strings:
        gsub("\"([^\"\\\\]|\\\\.)*\""; "\"\"") | gsub("'"'"'([^'"'"'\\\\]|\\\\.)*'"'"'"; "'"''"'")
        | gsub("`[^`]*`"; "'"''"'");
    def lists:
        "(?i)(?<![A-Za-z0-9_:])(?<k>by|without|on|ignoring|group_left|group_right)"
        + "\\s*\\((?<l>[^)]*)\\)";
    def tokens:
        . as $raw
        | ($raw | strip_strings) as $e
        | ($e | gsub("\\{[^}]*\\}"; " ") | gsub("\\[[^\\]]*\\]"; " ") | gsub(lists; " \(.k) ")
              | gsub("(?<![A-Za-z0-9_:])\\.?[0-9][0-9A-Za-z_.]*"; " ")) as $rest
        | ([$keywords | splits("\\s+")] | map(select(. != ""))) as $kw
        | ( ($raw | scan("\\$\\{?([A-Za-z_][A-Za-z0-9_]*)") | ["var", .[0]]),
            ($e | scan("\\{[^}]*\\}") | scan("([A-Za-z_][A-Za-z0-9_]*)\\s*(?:=~|!~|!=|=)")
                | ["label", .[0]]),
            ($e | scan(lists) | .[1] | scan("[A-Za-z_][A-Za-z0-9_]*") | ["label", .]),
            (if $rest | test("\\$")
             then ["error", "a Grafana variable outside a label matcher or a range"]
             else empty end),
            ($rest | scan("([A-Za-z_:][A-Za-z0-9_:]*)(\\s*\\()?") | select(.[1] == null) | .[0]
                | select((ascii_downcase) as $w | $kw | index([$w]) | not) | ["metric", .]) );'

# JQ_PROFILE: defines profile_problems, which lists what is wrong with the profile filter of one
# expression: `${name:fmt}` is first written `$name@fmt`, so that selectors end at their own
# closing brace. $pj: the per-job metrics (an array).
readonly JQ_PROFILE='
    def profile_problems($pj):
        (gsub("\\$\\{(?<n>[A-Za-z_][A-Za-z0-9_]*)(?<f>:[A-Za-z]+)?\\}";
              "$\(.n)\(if .f then "@" + .f[1:] else "" end)")) as $x
        | ( $x | scan("(?<![A-Za-z0-9_:])(" + ($pj | join("|")) + ")(?![A-Za-z0-9_:])\\s*(\\{[^}]*\\})?")
            | select((.[1] // "")
                     | test("(?<![A-Za-z0-9_])profile\\s*=~\\s*\"\\$profile@pipe\"") | not)
            | "\(.[0]) without the filter profile=~\"${profile:pipe}\"" ),
          ( $x | scan("(?<![A-Za-z0-9_:])([A-Za-z_:][A-Za-z0-9_:]*)\\s*(\\{[^}]*\\})")
            | select(.[0] as $m | $pj | index([$m]) | not)
            | select(.[1] | test("(?<![A-Za-z0-9_])profile\\s*(=~|!~|!=|=)"))
            | "\(.[0]) has a profile matcher but no profile label (it would vanish when a profile"
              + " is selected)" ),
          ( if ([$x | scan("\\$profile(?![A-Za-z0-9_])")] | length)
               != ([$x | scan("\\$profile@pipe(?![A-Za-z0-9_])")] | length)
            then "use ${profile:pipe}, not $profile or another format: Grafana regex-escapes a"
                 + " multi-value variable, and the default profile'"'"'s ^$ would match nothing"
            else empty end );'

# JQ_CHECK: one line per problem of the dashboard. $metrics, $labels, $keywords, $builtins,
# $perjob: whitespace-separated word lists.
readonly JQ_CHECK="$JQ_EXPRS $JQ_TOKENS $JQ_PROFILE"'
    def words: [splits("\\s+")] | map(select(. != ""));
    def ds_ok: (.datasource | type) == "object" and .datasource.uid == "${datasource}"
               and .datasource.type == "prometheus";
    ($metrics | words) as $M | ($labels | words) as $L
    | (([.templating.list[]?.name] + ($builtins | words))) as $V
    | ( if (.schemaVersion | type) != "number" or .schemaVersion < 36
        then "schemaVersion is \(.schemaVersion), must be 36 or newer" else empty end ),
      ( [ .templating.list[]? | select(.name == "datasource" and .type == "datasource"
                                       and .query == "prometheus") ] | length
        | if . != 1 then "no variable \"datasource\" of type datasource with query prometheus"
          else empty end ),
      ( [ allpanels ] | length | if . == 0 then "no panels" else empty end ),
      ( [ allpanels | .id ] | group_by(.) | map(select(length > 1) | .[0]) | .[]
        | "panel id \(.) is used more than once" ),
      ( allpanels | select(.type != "row") | "panel \(.id) \"\(.title)\"" as $w
        | ( if (.targets | type) != "array" or (.targets | length) == 0
            then "\($w): no targets" else empty end ),
          ( if ds_ok | not then "\($w): data source is not ${datasource}" else empty end ),
          ( .targets[]?
            | ( if (.expr | type) != "string" or (.expr | test("^\\s*$"))
                then "\($w) target \(.refId): empty expr" else empty end ),
              ( if ds_ok | not then "\($w) target \(.refId): data source is not ${datasource}"
                else empty end ),
              ( .refId as $r | .legendFormat // "" | strings
                | scan("\\{\\{\\s*([^}\\s]*)\\s*\\}\\}") | .[0]
                | select(. as $x | $L | index([$x]) | not)
                | "\($w) target \($r): legend uses unknown label {{\(.)}}" ) ),
          ( [ .targets[]?.refId ] | group_by(.) | map(select(length > 1) | .[0]) | .[]
            | "\($w): refId \(.) is used more than once" ) ),
      ( [ .templating.list[]? | select(.name == "profile") ] as $pv
        | if ($pv | length) != 1 then "no variable \"profile\""
          else $pv[0]
            | ( if .multi != true or .includeAll != true or .allValue != ".*"
                then "variable profile: needs multi, includeAll and allValue .* (All must also"
                     + " match the jobs without a profile label)"
                else empty end ),
              ( if [ .query | strings | splits(",") | select(test("\\s:\\s*\\^\\$\\s*$")) ]
                   | length == 0
                then "variable profile: no option with the value ^$ (the jobs of --elb.profile,"
                     + " which carry no profile label)"
                else empty end )
          end ),
      ( .templating.list[]? | select(.type == "query") | "variable \(.name)" as $w
        | if (.datasource.uid // "") != "${datasource}"
          then "\($w): data source is not ${datasource}" else empty end ),
      ( [exprs] | if length == 0 then "no expressions" else empty end ),
      ( exprs | .where as $w | .expr as $x | [ .expr | tokens ] as $t
        | ( $t[] | select(.[0] == "metric" and (.[1] as $m | $M | index([$m]) | not))
            | "\($w): unknown metric \(.[1])" ),
          ( $t[] | select(.[0] == "label" and (.[1] as $l | $L | index([$l]) | not))
            | "\($w): unknown label \(.[1])" ),
          ( $t[] | select(.[0] == "var" and (.[1] as $v | $V | index([$v]) | not))
            | "\($w): undefined variable $\(.[1])" ),
          ( $t[] | select(.[0] == "error") | "\($w): \(.[1])" ),
          ( $x | profile_problems($perjob | words) | "\($w): \(.)" ),
          ( if [ $t[] | select(.[0] == "metric") ] | length == 0
            then "\($w): no metric name in: \($x)" else empty end ) )'

# JQ_SUMMARY: "<expressions> <metric references> <distinct metrics>" of a clean dashboard.
readonly JQ_SUMMARY="$JQ_EXPRS $JQ_TOKENS"'
    [ exprs | .expr | tokens | select(.[0] == "metric") | .[1] ] as $m
    | "\([exprs] | length) expressions, \($m | length) metric references, "
      + "\($m | unique | length) distinct metrics"'

# check FILE: print problems to stderr; return 0 if none.
check() {
    local file=$1 errs=0 line

    if ! jq -e 'type == "object"' "$file" >/dev/null 2>&1; then
        printf '%s: %s: not a JSON object\n' "$progname" "$file" >&2
        return 1
    fi

    # The heart of it in one jq -e: every non-row panel has targets, every target a non-empty expr.
    if ! jq -e "$JQ_PANELS"'
            [ allpanels | select(.type != "row") ] as $ps
            | ($ps | length) > 0
              and ($ps | all((.targets | type) == "array" and (.targets | length) > 0
                             and (.targets | all((.expr | type) == "string"
                                                 and (.expr | test("\\S"))))))
        ' "$file" >/dev/null; then
        printf '%s: %s: a panel without targets or a target without expr\n' "$progname" "$file" >&2
        errs=1
    fi

    while IFS= read -r line; do
        printf '%s: %s: %s\n' "$progname" "$file" "$line" >&2
        errs=1
    done < <(jq -r --arg metrics "$METRICS" --arg labels "$LABELS" --arg keywords "$KEYWORDS" \
        --arg builtins "$BUILTIN_VARS" --arg perjob "$PER_JOB_METRICS" "$JQ_CHECK" "$file" ||
        echo "jq failed")

    if [ "$errs" -eq 0 ]; then
        printf '%s: %s: OK (%s)\n' "$progname" "$file" \
            "$(jq -r --arg keywords "$KEYWORDS" "$JQ_SUMMARY" "$file")"
    fi
    return "$errs"
}

# exprs FILE: the expressions with Grafana variables given sample values.
exprs() {
    jq -r "$JQ_EXPRS exprs | .expr" "$1" | sed -E '
        s/\$\{?__rate_interval\}?/1m/g; s/\$\{?__interval_ms\}?/60000/g; s/\$\{?__interval\}?/1m/g
        s/\$\{?__range_ms\}?/3600000/g; s/\$\{?__range_s\}?/3600/g; s/\$\{?__range\}?/1h/g
        s/\$\{[A-Za-z_][A-Za-z0-9_]*(:[a-z]+)?\}/.*/g; s/\$[A-Za-z_][A-Za-z0-9_]*/.*/g'
}

# self_test FILE: FILE passes, and each broken copy of it is rejected.
self_test() {
    local file=$1 tmp name filter fails=0 n=0
    tmp=$(mktemp -d)
    # shellcheck disable=SC2064 # expand now: $tmp is local
    trap "rm -rf '$tmp'" EXIT

    if ! check "$file" >/dev/null 2>"$tmp/err"; then
        cat "$tmp/err" >&2
        printf '%s: self-test: the dashboard itself does not pass\n' "$progname" >&2
        return 1
    fi

    # name <TAB> the complaint expected <TAB> jq filter that breaks one thing.
    while IFS=$'\t' read -r name expect filter; do
        [ -n "$name" ] || continue
        n=$((n + 1))
        jq "$JQ_PANELS $filter" "$file" >"$tmp/broken.json"
        if jq -S . "$file" | cmp -s - <(jq -S . "$tmp/broken.json"); then
            printf '%s: self-test: mutation "%s" changed nothing\n' "$progname" "$name" >&2
            fails=1
        elif check "$tmp/broken.json" >/dev/null 2>"$tmp/err"; then
            printf '%s: self-test: mutation "%s" was NOT rejected\n' "$progname" "$name" >&2
            fails=1
        elif ! grep -qF -- "$expect" "$tmp/err"; then
            printf '%s: self-test: mutation "%s" rejected without "%s":\n' "$progname" "$name" \
                "$expect" >&2
            cat "$tmp/err" >&2
            fails=1
        fi
    done <<'EOF'
unknown metric	unknown metric elb_job_errors	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("elb_job_error_info"; "elb_job_errors")
histogram without suffix	unknown metric elb_job_exporter_api_request_duration_seconds	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("duration_seconds_bucket"; "duration_seconds")
counter without _total	unknown metric elb_jobs_failed	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("elb_jobs_failed_total"; "elb_jobs_failed")
metric after an operator	unknown metric elb_job_bogus	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("\\* 1000"; "* elb_job_bogus")
metric in a nested row	unknown metric elb_bogus_total	.panels += [{"type": "row", "id": 9001, "title": "r", "collapsed": true, "panels": ([.panels[] | select(.type == "timeseries")][0:1] | map(.id = 9002 | .targets[0].expr = "rate(elb_bogus_total[5m])"))}]
empty expr	target A: empty expr	(first(.panels[] | select(.type == "table")) | .targets[0].expr) = " "
missing expr	target A: empty expr	first(.panels[] | select(.type == "table")) |= (.targets[0] |= del(.expr))
no targets	: no targets	(first(.panels[] | select(.type == "stat")) | .targets) = []
targets removed	: no targets	first(.panels[] | select(.type == "timeseries")) |= del(.targets)
unknown label in matcher	unknown label jobtype	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("job_type=~"; "jobtype=~")
unknown label in by	unknown label error_reason	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("by \\(reason\\)"; "by (error_reason)")
unknown label in on	unknown label state	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("ignoring \\(status\\)"; "ignoring (state)")
unknown legend label	unknown label {{state}}	(.panels[] | select(.targets?) | .targets[].legendFormat) |= gsub("\\{\\{status\\}\\}"; "{{state}}")
undefined variable	undefined variable $jobtype	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("\\$job_type"; "$jobtype")
variable outside a matcher	outside a label matcher	(first(.panels[] | select(.type == "timeseries")) | .targets[0].expr) |= . + " > $threshold"
hard-coded data source	data source is not ${datasource}	(first(.panels[] | select(.type == "stat")) | .datasource) = {"type": "prometheus", "uid": "abc123"}
target data source	target A: data source is not ${datasource}	(first(.panels[] | select(.type == "stat")) | .targets[0].datasource) = {"type": "loki", "uid": "${datasource}"}
no datasource variable	no variable "datasource"	.templating.list |= map(select(.name != "datasource"))
old schema	schemaVersion is 27	.schemaVersion = 27
duplicate panel id	is used more than once	.panels[2].id = .panels[1].id
unknown metric in a variable	variable job: unknown metric elb_exporter_build_info	.templating.list |= map(if .name == "job" then .query = "label_values(elb_exporter_build_info, job)" else . end)
misspelled profile label	unknown label profle	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("profile=~"; "profle=~")
per-job query without the profile filter	elb_job_error_info without the filter	(first(.panels[] | select(.type == "table")) | .targets[0].expr) |= gsub(", profile=~\"\\$\\{profile:pipe\\}\""; "")
profile filter on a bare per-job metric	elb_job_duration_seconds without the filter	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("^elb_job_duration_seconds\\{[^}]*\\}\"\\}"; "elb_job_duration_seconds")
profile filter as $profile	use ${profile:pipe}	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("\\$\\{profile:pipe\\}"; "$profile")
profile filter as ${profile:regex}	use ${profile:pipe}	(first(.panels[] | select(.type == "table")) | .targets[0].expr) |= gsub("profile:pipe"; "profile:regex")
profile matcher on an aggregate	elb_jobs has a profile matcher	(.panels[] | select(.targets?) | .targets[].expr) |= gsub("elb_jobs\\{job=~"; "elb_jobs{profile=~\"${profile:pipe}\", job=~")
variable job_type without the profile filter	variable job_type: elb_job_info without the filter	.templating.list |= map(if .name == "job_type" then .query |= gsub(", profile=~\"\\$\\{profile:pipe\\}\""; "") else . end)
profile variable without allValue	variable profile: needs multi, includeAll and allValue	.templating.list |= map(if .name == "profile" then del(.allValue) else . end)
profile variable without ^$	variable profile: no option with the value ^$	.templating.list |= map(if .name == "profile" then .query |= gsub(" : \\^\\$"; "") else . end)
no profile variable	no variable "profile"	.templating.list |= map(select(.name != "profile"))
EOF

    printf '{"panels": [' >"$tmp/broken.json"
    n=$((n + 1))
    if check "$tmp/broken.json" >/dev/null 2>"$tmp/err" || ! grep -qF "not a JSON object" "$tmp/err"
    then
        printf '%s: self-test: invalid JSON was NOT rejected\n' "$progname" >&2
        fails=1
    fi

    if [ "$fails" -eq 0 ]; then
        printf '%s: self-test: OK (%d broken dashboards rejected)\n' "$progname" "$n"
    fi
    return "$fails"
}

main() {
    command -v jq >/dev/null || die "jq is required"
    case "${1:-}" in
    --exprs)
        [ $# -eq 2 ] || die "usage: $progname --exprs DASHBOARD"
        exprs "$2"
        ;;
    --self-test)
        [ $# -eq 2 ] || die "usage: $progname --self-test DASHBOARD"
        self_test "$2"
        ;;
    -* | '')
        die "usage: $progname [--exprs | --self-test] DASHBOARD"
        ;;
    *)
        [ $# -eq 1 ] || die "usage: $progname [--exprs | --self-test] DASHBOARD"
        check "$1"
        ;;
    esac
}

main "$@"
