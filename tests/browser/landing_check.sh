#!/usr/bin/env bash
# End-to-end check of the landing page in a real browser: start the exporter in --demo
# mode on a free loopback port, wait until it is ready, let headless Chromium load "/",
# and check the DOM Chromium built: every demo job has a row, the FAIL job's reason
# arrives decoded and escaped exactly once, and no markup leaked out of its cell.
# Usage: landing_check.sh EXPORTER CHROMIUM WORKDIR
set -euo pipefail

exporter=$1 chromium=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT

"$exporter" --demo --web.listen-address=127.0.0.1:0 --poll.interval=1s 2>"$work/exporter.log" &
pid=$!

# Wait (bounded) for the bound address, then for readiness.
url=""
for _ in $(seq 100); do
  url=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*/' "$work/exporter.log" | head -n1 | sed 's/listening on //') || true
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/exporter.log"; echo "exporter died"; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/exporter.log"; echo "no listening line"; exit 1; }
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --noproxy '*' "${url}-/ready") || true
  [ "$code" = 200 ] && break
  sleep 0.1
done
[ "$code" = 200 ] || { echo "not ready: $code"; exit 1; }

timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/profile" --dump-dom "$url" >"$work/dom.html" 2>"$work/chromium.log"

dom="$work/dom.html"
fail=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fail=1; fi
}
rows=$(grep -o '<tr><td><code>[0-9a-f-]\{32,36\}</code>' "$dom" | wc -l)
check "21 job rows in the DOM, every profile's (got $rows)" test "$rows" -eq 21
check "FAIL row for job ...0002" grep -q '<td><code>2c9eb2c15e1d4e1a015e1e0c3b8a0002</code></td><td class="st-FAIL">FAIL</td>' "$dom"
# The reason is JSON-decoded once and HTML-escaped once: the browser's text is the API's text.
check "fail_reason decoded, quotes intact" grep -q 'Quota exceeded: "elb" limit 10' "$dom"
check "fail_reason non-ASCII and backslash intact" grep -qF 'see über-docs 🚀 \ done' "$dom"
check "undocumented status shown with its raw value" grep -q 'UNKNOWN (QUEUED)' "$dom"
check "metrics link" grep -q '<a href="/metrics">' "$dom"
check "jobs API link" grep -q '<a href="/api/v1/jobs">' "$dom"
check "no script element" bash -c "! grep -qi '<script' '$dom'"
[ "$fail" -eq 0 ] || { echo "--- DOM:"; cat "$dom"; exit 1; }
echo "landing page checked in $("$chromium" --version 2>/dev/null | head -n1)"
