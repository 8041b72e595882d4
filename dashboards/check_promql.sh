#!/usr/bin/env bash
# check_promql.sh: have a real Prometheus parse and type-check every PromQL expression of the
# Grafana dashboard.
#
#   check_promql.sh DASHBOARD
#
# Starts `prometheus` (or $PROMETHEUS) on 127.0.0.1 on a free port with a configuration that
# scrapes nothing and a throw-away TSDB, sends each expression that check_dashboard.sh --exprs
# lists (Grafana variables replaced by sample values) to /api/v1/query, and requires
# "status": "success" for each. An empty result is fine: the point is that Prometheus accepts
# the expression (syntax, function names and argument types, vector matching grammar).
# The server is stopped on every way out, failures and signals included.
# Exit status: 0 all accepted, 1 some rejected, 2 could not run the check.
#
# Needs bash, jq, curl, ss (iproute2) and prometheus.

set -euo pipefail

readonly START_DEADLINE_S=60 # per attempt, for Prometheus to answer /-/ready
readonly START_ATTEMPTS=5    # ports tried when the chosen one is taken meanwhile
readonly QUERY_TIMEOUT_S=20

progname=${0##*/}
here=$(cd "$(dirname "$0")" && pwd)
prometheus=${PROMETHEUS:-prometheus}
tmp=
pid=
url=

die() {
    printf '%s: %s\n' "$progname" "$*" >&2
    exit 2
}

# Stop the Prometheus this script started (only that pid) and remove the scratch directory.
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        # Prometheus exits within a second or two on SIGTERM; insist after a deadline.
        for _ in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    pid=
    [ -n "$tmp" ] && rm -rf "$tmp"
    tmp=
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port: print a TCP port nobody listens on right now (the bind may still race: callers retry).
free_port() {
    local port
    for _ in $(seq 1 50); do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! ss -Htln "sport = :$port" | grep -q .; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# start_prometheus: start it on a free port; sets pid and url. Returns 1 if it never got ready.
start_prometheus() {
    local attempt port deadline
    for attempt in $(seq 1 "$START_ATTEMPTS"); do
        port=$(free_port) || die "no free port found"
        rm -rf "$tmp/data"
        "$prometheus" --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
            --web.listen-address="127.0.0.1:$port" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
        pid=$!
        url="http://127.0.0.1:$port"
        deadline=$((SECONDS + START_DEADLINE_S))
        while [ "$SECONDS" -lt "$deadline" ]; do
            if ! kill -0 "$pid" 2>/dev/null; then
                break
            fi
            # Ready, and really ours: the server on that port reports our storage path.
            if curl -fsS --max-time 2 "$url/-/ready" >/dev/null 2>&1 &&
                curl -fsS --max-time 2 "$url/api/v1/status/flags" 2>/dev/null |
                jq -e --arg p "$tmp/data" '.data["storage.tsdb.path"] == $p' >/dev/null; then
                return 0
            fi
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            printf '%s: prometheus not ready after %ss\n' "$progname" "$START_DEADLINE_S" >&2
            cat "$tmp/prometheus.log" >&2
            return 1
        fi
        wait "$pid" 2>/dev/null || true
        pid=
        if ! grep -q 'address already in use' "$tmp/prometheus.log"; then
            printf '%s: prometheus exited at start:\n' "$progname" >&2
            cat "$tmp/prometheus.log" >&2
            return 1
        fi
        printf '%s: port %s taken meanwhile (attempt %d), trying another\n' "$progname" "$port" \
            "$attempt" >&2
    done
    return 1
}

main() {
    local dashboard=${1:-} expr n=0 bad=0 answer

    [ $# -eq 1 ] || die "usage: $progname DASHBOARD"
    [ -r "$dashboard" ] || die "cannot read $dashboard"
    command -v "$prometheus" >/dev/null || die "prometheus not found (set PROMETHEUS)"
    local tool
    for tool in jq curl ss; do
        command -v "$tool" >/dev/null || die "$tool is required"
    done

    tmp=$(mktemp -d)
    printf 'global:\n  scrape_interval: 15s\nscrape_configs: []\n' >"$tmp/prometheus.yml"
    bash "$here/check_dashboard.sh" --exprs "$dashboard" >"$tmp/exprs" ||
        die "cannot list the expressions of $dashboard"
    [ -s "$tmp/exprs" ] || die "no expressions in $dashboard"

    start_prometheus || die "could not start prometheus"

    while IFS= read -r expr; do
        n=$((n + 1))
        answer=$(curl -sS --max-time "$QUERY_TIMEOUT_S" --data-urlencode "query=$expr" \
            "$url/api/v1/query" 2>&1) || true
        if ! printf '%s' "$answer" | jq -e '.status == "success"' >/dev/null 2>&1; then
            printf '%s: rejected: %s\n    %s\n' "$progname" "$expr" \
                "$(printf '%s' "$answer" | jq -r '"\(.errorType): \(.error)"' 2>/dev/null ||
                    printf '%s' "$answer")" >&2
            bad=$((bad + 1))
        fi
    done <"$tmp/exprs"

    if [ "$bad" -ne 0 ]; then
        printf '%s: %d of %d expressions rejected by Prometheus\n' "$progname" "$bad" "$n" >&2
        return 1
    fi
    printf '%s: %s: all %d expressions accepted by Prometheus\n' "$progname" "$dashboard" "$n"
}

main "$@"
