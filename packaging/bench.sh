#!/usr/bin/env bash
# Scale figures: the exporter tracking N jobs against the simulator on loopback.
# Prints the first poll cycle's duration, the size of every representation a snapshot holds
# (text and OpenMetrics, identity and gzip), resident memory with all of them held, and the
# scrape rate wrk reaches on /metrics, plain and as Prometheus asks (OpenMetrics, gzip).
# Loopback only, bounded in time; stops what it starts.
#
#   packaging/bench.sh [N=10000] [SECONDS=10]     (after packaging/dev.sh build; needs wrk)
#
# The jobs are the simulator's synthetic ones (IDs "b0" + 30 hex digits): real answers'
# shape, mostly SUCCESS, some RUNNING, INIT and FAIL, with resources and sub-jobs.
set -euo pipefail

n=${1:-10000} secs=${2:-10}
here=$(cd "$(dirname "$0")/.." && pwd)
bin=$here/build
work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# wait_line FILE: print the first "listening on http://127.0.0.1:PORT/" URL in FILE (bounded)
wait_line() {
  local url=""
  for _ in $(seq 100); do
    url=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*/' "$1" | head -n1 | sed 's/listening on //') || true
    [ -n "$url" ] && { echo "$url"; return 0; }
    sleep 0.1
  done
  echo "no listening line in $1" >&2
  return 1
}

# synthetic job IDs: the simulator makes up a realistic job for each
for ((i = 0; i < n; i++)); do printf 'b0%030x\n' "$((i * 2654435761 % 4294967296))"; done >"$work/jobs"

"$bin/elb_api_sim" >"$work/sim.out" 2>&1 &
pids+=($!)
sim=$(wait_line "$work/sim.out")
OS_AUTH_TOKEN=sim-token "$bin/elb_job_exporter" --web.listen-address=127.0.0.1:0 \
  --elb.endpoint="${sim%/}" --elb.project-id=0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32 \
  --jobs.file="$work/jobs" --log.level=info 2>"$work/exporter.log" &
epid=$!
pids+=("$epid")
url=$(wait_line "$work/exporter.log")
for _ in $(seq 600); do
  [ "$(curl -s --noproxy '*' -o /dev/null -w '%{http_code}' "${url}-/ready")" = 200 ] && break
  sleep 0.1
done
# what Prometheus 2.42 (Debian 12) sends
accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
curl -s --noproxy '*' "${url}metrics" >"$work/metrics"
curl -s --noproxy '*' -H 'Accept-Encoding: gzip' "${url}metrics" >"$work/metrics.gz"
curl -s --noproxy '*' -H "Accept: $accept" "${url}metrics" >"$work/om"
curl -s --noproxy '*' -H "Accept: $accept" -H 'Accept-Encoding: gzip' "${url}metrics" >"$work/om.gz"
cycle=$(grep '^elb_job_exporter_poll_cycle_duration_seconds ' "$work/metrics" | cut -d' ' -f2)
echo "jobs:                 $n ($(grep -c '^elb_job_status{.*} 1$' "$work/metrics") with a status)"
echo "first poll cycle:     ${cycle} s"
echo "text 0.0.4:           $(wc -c <"$work/metrics") bytes, gzip $(wc -c <"$work/metrics.gz")"
echo "OpenMetrics:          $(wc -c <"$work/om") bytes, gzip $(wc -c <"$work/om.gz")"
echo "resident memory:      $(awk '/VmRSS/ {print $2, $3}' "/proc/$epid/status") (every representation held)"
echo "-- wrk /metrics, identity text:"
wrk -t2 -c16 -d"${secs}s" "${url}metrics" | grep -E 'Requests/sec|Latency|Transfer/sec'
echo "-- wrk /metrics, as Prometheus asks (OpenMetrics, gzip):"
wrk -t2 -c16 -d"${secs}s" -H "Accept: $accept" -H 'Accept-Encoding: gzip' "${url}metrics" |
  grep -E 'Requests/sec|Latency|Transfer/sec'
echo "resident memory after: $(awk '/VmRSS/ {print $2, $3}' "/proc/$epid/status")"
