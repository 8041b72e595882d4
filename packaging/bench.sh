#!/usr/bin/env bash
# Scale figures: the exporter tracking N jobs against the simulator on loopback.
# Prints the first poll cycle's duration, the exposition size, resident memory and the
# scrape rate wrk reaches on /metrics. Loopback only, bounded in time; stops what it starts.
#
#   packaging/bench.sh [N=10000] [SECONDS=10]     (after packaging/dev.sh build; needs wrk)
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

# job IDs the simulator does not know: each answers 404, so each shows UNKNOWN
for ((i = 0; i < n; i++)); do printf '5e%030x\n' "$i"; done >"$work/jobs"

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
curl -s --noproxy '*' "${url}metrics" >"$work/metrics"
cycle=$(grep '^elb_job_exporter_poll_cycle_duration_seconds ' "$work/metrics" | cut -d' ' -f2)
echo "jobs:                 $n"
echo "first poll cycle:     ${cycle} s"
echo "exposition:           $(wc -c <"$work/metrics") bytes"
echo "resident memory:      $(awk '/VmRSS/ {print $2, $3}' "/proc/$epid/status")"
wrk -t2 -c16 -d"${secs}s" "${url}metrics" | grep -E 'Requests/sec|Latency|Transfer/sec'
echo "resident memory after: $(awk '/VmRSS/ {print $2, $3}' "/proc/$epid/status")"
