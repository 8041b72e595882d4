#!/usr/bin/env bash
# serve_bench: /metrics of elb_job_exporter against nginx serving the very same bytes.
#
# For 100, 1k and 10k tracked jobs it starts the simulator (elb_api_sim) and the exporter,
# waits for /-/ready, fetches the exporter's exact bytes of each representation, writes them
# as static files for nginx (Debian's nginx-light, started here with its own configuration)
# and runs wrk against both, one server at a time, for four cases:
#
#   identity  text 0.0.4, no Accept-Encoding
#   gzip      Accept-Encoding: gzip (nginx: gzip_static on the exporter's own .gz bytes)
#   om-gzip   Prometheus's Accept header (OpenMetrics first) and Accept-Encoding: gzip
#   tls       identity over HTTPS: the exporter with a --web.config.file tls_server_config,
#             nginx with the same certificate and key
#
# A case this build does not serve (probed: Content-Encoding, Content-Type, an HTTPS answer)
# prints "n/a (not supported by this build)". It also prints idle RSS with 100 jobs against
# Debian's prometheus-blackbox-exporter, render time per cycle, and the exporter's memory at
# 10k jobs after serving every representation. Not a test: figures, for a person to read.
#
#   packaging/dev.sh bench                     (installs the packages, builds, runs this)
#   tests/bench/serve_bench.sh                 (after a build in build/)
#
# Environment (defaults in brackets):
#   BENCH_BUILD        directory with elb_job_exporter and elb_api_sim [build]
#   BENCH_JOBS         tracked-job counts [100 1000 10000]
#   BENCH_CASES        cases to run [identity gzip om-gzip tls]
#   BENCH_DURATION     wrk -d of each measured run [10s]
#   BENCH_WARMUP       wrk -d of the unmeasured run before it, 0 for none [2s]
#   BENCH_THREADS      wrk -t [2]
#   BENCH_CONNECTIONS  wrk -c, at most 64 (the exporter's per-address limit) [16]
#   BENCH_ROUNDS       measured runs per server and case, the median is printed [1]
#   BENCH_PIN          1: servers on CPU 0, wrk on the other CPUs (taskset) [0]
#   BENCH_NGINX_WORKERS  nginx worker_processes; auto = the exporter's serving threads [auto]
#   BENCH_NGINX_NOPUSH nginx tcp_nopush, on as in Debian's stock nginx.conf [off]
#   BENCH_SETTLE       seconds between the last scrape and an idle-memory reading [3]
#   BENCH_ONCE_RUNS    hyperfine runs of --once per job count, 0 for none [3]
#   BENCH_KEEP         1: keep the work directory (bodies, configurations, logs) [0]
#
# Loopback only (127.0.0.1), bounded in time; every process it starts is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${BENCH_BUILD:-$here/build}
case $build in /*) ;; *) build=$here/$build ;; esac
jobs_list=${BENCH_JOBS:-100 1000 10000}
cases=${BENCH_CASES:-identity gzip om-gzip tls}
duration=${BENCH_DURATION:-10s}
warmup=${BENCH_WARMUP:-2s}
threads=${BENCH_THREADS:-2}
conns=${BENCH_CONNECTIONS:-16}
rounds=${BENCH_ROUNDS:-1}
pin=${BENCH_PIN:-0}
nginx_workers=${BENCH_NGINX_WORKERS:-auto}
settle=${BENCH_SETTLE:-3}
once_runs=${BENCH_ONCE_RUNS:-3}
keep=${BENCH_KEEP:-0}
# nginx's own default. Debian's stock nginx.conf turns it on: more requests per second with
# sendfile, but on loopback 1-2% of the answers then wait for a delayed ACK (p99 about 30 ms
# instead of 5 ms at 100 jobs), which would flatter the exporter's p99 ratio.
nopush=${BENCH_NGINX_NOPUSH:-off}

# What Prometheus 2.x/3.x sends (scrape_protocols default, OpenMetrics first).
PROM_ACCEPT='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
PROJECT=0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32
TOKEN=sim-token
PER_IP_LIMIT=64           # the exporter's connections per client address
SIM_HOLD_MS=3600000       # the simulator's slow answer once the exporter is ready: 1 h
READY_TIMEOUT_S=${BENCH_READY_TIMEOUT:-300}

die() {
  echo "serve_bench: $*" >&2
  exit 2
}

# ---- checks before anything starts --------------------------------------------------------

nginx_bin=$(command -v nginx || echo /usr/sbin/nginx)
blackbox_bin=$(command -v prometheus-blackbox-exporter || echo /usr/bin/prometheus-blackbox-exporter)
missing=()
for t in wrk curl openssl awk cmp gzip; do
  command -v "$t" >/dev/null || missing+=("$t")
done
[ -x "$nginx_bin" ] || missing+=(nginx)
[ "${#missing[@]}" -eq 0 ] ||
  die "missing: ${missing[*]} (packaging/dev.sh bench installs every tool it needs)"
for b in elb_job_exporter elb_api_sim; do
  [ -x "$build/$b" ] || die "no $build/$b: build first (packaging/dev.sh bench builds and runs)"
done
# count NAME VALUE MIN MAX: VALUE is a whole number in MIN..MAX, or the run stops
count() {
  if ! [[ $2 =~ ^[0-9]+$ ]] || [ "$2" -lt "$3" ] || [ "$2" -gt "$4" ]; then
    die "$1=$2: a whole number from $3 to $4"
  fi
}
# wrk connects from one address, and the exporter refuses connections past the limit
count BENCH_CONNECTIONS "$conns" 1 "$PER_IP_LIMIT"
count BENCH_THREADS "$threads" 1 "$conns"
count BENCH_ROUNDS "$rounds" 1 99
[[ $duration =~ ^[0-9]+[smh]?$ ]] || die "BENCH_DURATION=$duration: like 10s"
[[ $warmup =~ ^[0-9]+[smh]?$ ]] || die "BENCH_WARMUP=$warmup: like 2s, or 0"
[[ $settle =~ ^[0-9]+$ ]] || die "BENCH_SETTLE=$settle: whole seconds"
[[ $once_runs =~ ^[0-9]+$ ]] || die "BENCH_ONCE_RUNS=$once_runs: a count"
case $nopush in on | off) ;; *) die "BENCH_NGINX_NOPUSH=$nopush: on or off" ;; esac
for n in $jobs_list; do count BENCH_JOBS "$n" 1 1000000; done
for c in $cases; do
  case $c in identity | gzip | om-gzip | tls) ;; *) die "BENCH_CASES: unknown case $c" ;; esac
done
server_cpu=() wrk_cpu=()
if [ "$pin" = 1 ]; then
  command -v taskset >/dev/null || die "BENCH_PIN=1 needs taskset (util-linux)"
  ncpu=$(nproc)
  [ "$ncpu" -ge 2 ] || die "BENCH_PIN=1 needs two CPUs at least"
  server_cpu=(taskset -c 0)
  wrk_cpu=(taskset -c "1-$((ncpu - 1))")
fi

# ---- processes: every one started is stopped on exit ----------------------------------------

work=$(mktemp -d /tmp/serve_bench.XXXXXX)
chmod 755 "$work" # nginx's workers read the bodies (as root, nginx runs them as root below)
pids=()

stop_pid() {
  local p=$1 i
  kill -TERM "$p" 2>/dev/null || return 0
  for i in $(seq 50); do
    kill -0 "$p" 2>/dev/null || break
    [ "$i" -eq 50 ] && kill -KILL "$p" 2>/dev/null
    sleep 0.1
  done
  wait "$p" 2>/dev/null || true
}

cleanup() {
  local p
  for p in "${pids[@]}"; do stop_pid "$p"; done
  if [ "$keep" = 1 ]; then
    echo "serve_bench: kept $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# forget PID: it was stopped by the caller
forget() {
  local p kept=()
  for p in "${pids[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  pids=("${kept[@]}")
}

stop() {
  stop_pid "$1"
  forget "$1"
}

# wait_url FILE PID: print the first "listening on http(s)://127.0.0.1:PORT/" URL in FILE
wait_url() {
  local url i
  for i in $(seq 300); do
    url=$(grep -o -m1 'listening on https\{0,1\}://127\.0\.0\.1:[0-9]*/' "$1" 2>/dev/null |
      sed 's/^listening on //') || true
    [ -n "$url" ] && {
      echo "$url"
      return 0
    }
    kill -0 "$2" 2>/dev/null || break
    [ "$i" -lt 300 ] && sleep 0.1
  done
  echo "serve_bench: no listening line in $1:" >&2
  tail -n 5 "$1" >&2
  return 1
}

# A port on 127.0.0.1 nothing listens on, below the ephemeral range. The caller retries when
# the bind fails anyway (someone took it in between).
free_port() {
  local p i
  for i in $(seq 100); do
    p=$((20000 + RANDOM % 12000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
    [ "$i" -lt 100 ] || break
  done
  return 1
}

# curl on loopback, never through a proxy from the environment
lcurl() {
  curl -sS --noproxy '*' --max-time 60 "$@"
}

# mem PID: "rss pss anon file" in kB (Anonymous counts the private pages written, also the
# libraries' relocated data; file = Rss - Anonymous: shared libraries and the binary)
mem() {
  awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Anonymous:/ {a = $2}
       END {print r, p, a, r - a}' "/proc/$1/smaps_rollup"
}

hwm() {
  awk '/^VmHWM:/ {print $2}' "/proc/$1/status"
}

mb() {
  awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'
}

# ---- the simulator and the exporter ---------------------------------------------------------

sim_pid="" sim_url=""
start_sim() {
  "$build/elb_api_sim" --listen-address=127.0.0.1:0 --slow-ms="$SIM_HOLD_MS" \
    >"$work/sim.out" 2>&1 &
  sim_pid=$!
  pids+=("$sim_pid")
  sim_url=$(wait_url "$work/sim.out" "$sim_pid")
}

# After the exporter's first cycle every later request hangs in the simulator for an hour
# (its timeout fault, --slow-ms), so the exporter neither polls nor renders while it is
# measured: the bytes stay the very bytes nginx serves.
hold_sim() {
  [ "$(lcurl -o /dev/null -w '%{http_code}' -X POST "${sim_url}_sim/fault/timeout")" = 200 ] ||
    die "the simulator refused its timeout fault"
}

jobs_file() {
  local f=$work/jobs.$1 i
  if [ ! -f "$f" ]; then
    # the simulator's synthetic jobs, as packaging/bench.sh: realistic answers made up from
    # the ID (mostly SUCCESS, some RUNNING, INIT, FAIL; resources, sub-jobs)
    for ((i = 0; i < $1; i++)); do printf 'b0%030x\n' "$((i * 2654435761 % 4294967296))"; done >"$f"
  fi
  echo "$f"
}

exp_pid="" exp_url=""
# start_exporter N LOGNAME [flags...]: a simulator of its own, wait for /-/ready, hold the sim
start_exporter() {
  local n=$1 log=$work/$2.log i code="" other
  shift 2
  start_sim
  OS_AUTH_TOKEN=$TOKEN "${server_cpu[@]}" "$build/elb_job_exporter" \
    --web.listen-address=127.0.0.1:0 --elb.endpoint="${sim_url%/}" --elb.project-id="$PROJECT" \
    --jobs.file="$(jobs_file "$n")" --poll.interval=1h --poll.timeout=1h "$@" 2>"$log" &
  exp_pid=$!
  pids+=("$exp_pid")
  exp_url=$(wait_url "$log" "$exp_pid") || return 1
  for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
    code=$(lcurl -k -o /dev/null -w '%{http_code}' "${exp_url}-/ready" 2>/dev/null) || true
    [ "$code" = 200 ] && break
    # a build that serves HTTPS but names its address http:// (or the other way round)
    other=https://${exp_url#*://}
    [[ $exp_url == https://* ]] && other=http://${exp_url#*://}
    code=$(lcurl -k -o /dev/null -w '%{http_code}' "${other}-/ready" 2>/dev/null) || true
    if [ "$code" = 200 ]; then
      exp_url=$other
      break
    fi
    kill -0 "$exp_pid" 2>/dev/null || return 1
    sleep 0.1
  done
  [ "$code" = 200 ] || die "the exporter with $n jobs was not ready in ${READY_TIMEOUT_S}s"
  hold_sim
  sleep 1.5 # a retry that landed before the hold is published at most once a second
}

stop_exporter() {
  [ -n "$exp_pid" ] && stop "$exp_pid"
  [ -n "$sim_pid" ] && stop "$sim_pid"
  exp_pid="" sim_pid=""
}

# The threads libmicrohttpd answers from (named MHD-*, less the listening one of a pool).
serving_threads() {
  local t n=0 comm
  for t in /proc/"$1"/task/*; do
    comm=$(cat "$t/comm" 2>/dev/null) || continue
    case $comm in MHD-listen*) ;; MHD-*) n=$((n + 1)) ;; esac
  done
  echo "$n"
}

# ---- nginx ---------------------------------------------------------------------------------

ng_pid="" ng_port="" ng_tls_port=""
# start_nginx WORKERS CT_TEXT CT_OM: serve $work/www on a free port, and with TLS on another
start_nginx() {
  local dir=$work/nginx i user=""
  mkdir -p "$dir" "$dir/tmp"
  [ "$(id -u)" = 0 ] && user="user root;"
  for _ in 1 2 3 4 5; do
    ng_port=$(free_port) || die "no free port for nginx"
    ng_tls_port=$(free_port) || die "no free port for nginx"
    [ "$ng_port" != "$ng_tls_port" ] || continue
    cat >"$dir/nginx.conf" <<EOF
# written by tests/bench/serve_bench.sh
$user
daemon off;
worker_processes $1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    types { }
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush $nopush;
    tcp_nodelay on;
    server_tokens off;
    # as libmicrohttpd: a kept-alive connection is closed after 30 s idle, never after N requests
    keepalive_timeout 30s;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$ng_port;
        listen 127.0.0.1:$ng_tls_port ssl;
        ssl_certificate $work/tls/cert.pem;
        ssl_certificate_key $work/tls/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        root $work/www;
        location = /text { default_type "$2"; gzip_static on; }
        location = /om { default_type "$3"; gzip_static on; }
    }
}
EOF
    "${server_cpu[@]}" "$nginx_bin" -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log" \
      >"$dir/stdout" 2>&1 &
    ng_pid=$!
    pids+=("$ng_pid")
    for i in $(seq 50); do
      if [ "$(lcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$ng_port/text" 2>/dev/null)" = 200 ]; then
        return 0
      fi
      kill -0 "$ng_pid" 2>/dev/null || break
      sleep 0.1
    done
    stop "$ng_pid"
    ng_pid=""
    grep -q 'Address already in use' "$dir/error.log" 2>/dev/null || break
  done
  echo "serve_bench: nginx did not start:" >&2
  tail -n 5 "$dir/error.log" "$dir/stdout" >&2 2>/dev/null || true
  exit 2
}

stop_nginx() {
  [ -n "$ng_pid" ] && stop "$ng_pid"
  ng_pid=""
}

# ---- wrk -----------------------------------------------------------------------------------

# wrk_run URL OUT [headers...]: the warm-up run, then the measured one into OUT
wrk_run() {
  local url=$1 out=$2 h args=()
  shift 2
  for h in "$@"; do args+=(-H "$h"); done
  if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
    "${wrk_cpu[@]}" wrk -t"$threads" -c"$conns" -d"$warmup" --timeout 10s "${args[@]}" "$url" \
      >/dev/null 2>&1 || true
  fi
  "${wrk_cpu[@]}" wrk -t"$threads" -c"$conns" -d"$duration" --timeout 10s --latency \
    "${args[@]}" "$url" >"$out" 2>&1 || true
}

# wrk_parse OUT: "req_per_s p99_ms bytes_per_request errors" (errors: socket errors and
# answers other than 2xx/3xx; bytes per request to check that the right body was served)
wrk_parse() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return v * 0.001
      if (v ~ /ms$/) return v + 0
      if (v ~ /m$/) return v * 60000
      if (v ~ /s$/) return v * 1000
      return -1
    }
    function bytes(v) {
      if (v ~ /KB$/) return v * 1024
      if (v ~ /MB$/) return v * 1048576
      if (v ~ /GB$/) return v * 1073741824
      if (v ~ /TB$/) return v * 1099511627776
      return v + 0
    }
    /^ +99%/ { p99 = ms($2) }
    / requests in / { n = $1; rd = bytes($5) }
    /^Requests\/sec:/ { rps = $2 }
    /Socket errors:/ { gsub(/,/, ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { err += $NF }
    END {
      if (rps == "") { print "- - - -"; exit }
      printf "%s %s %.0f %d\n", rps, p99, (n ? rd / n : 0), err
    }' "$1"
}

# median of numbers on stdin
median() {
  sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
    else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# ---- one case -------------------------------------------------------------------------------

rows=() notes=()

# run_case CASE N BYTES EXP_URL NGINX_URL [headers...]: ROUNDS runs of each server, a row
run_case() {
  local cs=$1 n=$2 size=$3 eurl=$4 nurl=$5 r e_rps=() n_rps=() e_p99=() n_p99=()
  local er ep eb ee nr np nb ne err_e=0 err_n=0
  shift 5
  for ((r = 1; r <= rounds; r++)); do
    # the two servers take turns at going first, so that neither always meets the other's
    # leftovers (TIME_WAIT sockets, a warm or cold cache)
    if ((r % 2)); then
      wrk_run "$eurl" "$work/wrk.$cs.$n.exporter.$r" "$@"
      wrk_run "$nurl" "$work/wrk.$cs.$n.nginx.$r" "$@"
    else
      wrk_run "$nurl" "$work/wrk.$cs.$n.nginx.$r" "$@"
      wrk_run "$eurl" "$work/wrk.$cs.$n.exporter.$r" "$@"
    fi
    read -r er ep eb ee < <(wrk_parse "$work/wrk.$cs.$n.exporter.$r")
    read -r nr np nb ne < <(wrk_parse "$work/wrk.$cs.$n.nginx.$r")
    [ "$er" = - ] && notes+=("$cs $n: wrk failed against the exporter: $(tail -n 1 "$work/wrk.$cs.$n.exporter.$r")")
    [ "$nr" = - ] && notes+=("$cs $n: wrk failed against nginx: $(tail -n 1 "$work/wrk.$cs.$n.nginx.$r")")
    [ "$er" = - ] || [ "$nr" = - ] && continue
    e_rps+=("$er") n_rps+=("$nr") e_p99+=("$ep") n_p99+=("$np")
    err_e=$((err_e + ee)) err_n=$((err_n + ne))
    # a body of the wrong representation shows in the bytes per answer (another coding is
    # several times larger or smaller; wrk's count also holds the headers, under 1 KiB, and
    # the answers cut by the end of the run, so it is only near the body's size)
    awk -v b="$eb" -v s="$size" 'BEGIN {exit !(b < s * 0.9 || b > s * 1.1 + 1024)}' &&
      notes+=("$cs $n: the exporter sent $eb bytes per answer for a $size-byte body")
    awk -v b="$nb" -v s="$size" 'BEGIN {exit !(b < s * 0.9 || b > s * 1.1 + 1024)}' &&
      notes+=("$cs $n: nginx sent $nb bytes per answer for a $size-byte body")
  done
  [ "$err_e" -eq 0 ] || notes+=("$cs $n: the exporter: $err_e socket errors or non-2xx answers")
  [ "$err_n" -eq 0 ] || notes+=("$cs $n: nginx: $err_n socket errors or non-2xx answers")
  if [ "${#e_rps[@]}" -eq 0 ]; then
    rows+=("$cs|$n|$size|failed (see the notes)")
    return
  fi
  er=$(printf '%s\n' "${e_rps[@]}" | median)
  nr=$(printf '%s\n' "${n_rps[@]}" | median)
  ep=$(printf '%s\n' "${e_p99[@]}" | median)
  np=$(printf '%s\n' "${n_p99[@]}" | median)
  rows+=("$(awk -v c="$cs" -v n="$n" -v s="$size" -v er="$er" -v nr="$nr" -v ep="$ep" -v np="$np" \
    'BEGIN {printf "%s|%s|%s|%.0f|%.0f|%.2fx|%.2f ms|%.2f ms|%.2fx", c, n, s, er, nr,
      (nr > 0 ? er / nr : 0), ep, np, (np > 0 ? ep / np : 0)}')")
}

na_row() {
  rows+=("$1|$2|-|n/a (not supported by this build)")
}

# header NAME FILE: the value of header NAME in a curl -D dump (lowercase name match)
header() {
  awk -v h="$1" 'tolower($0) ~ "^" h ":" {
    sub(/^[^:]*:[ \t]*/, ""); sub(/\r$/, ""); print; exit}' "$2"
}

# ---- the run --------------------------------------------------------------------------------

mkdir -p "$work/www" "$work/tls"
chmod 755 "$work/www"
# One self-signed certificate for both servers (ECDSA P-256, for 127.0.0.1).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$work/tls/key.pem" -out "$work/tls/cert.pem" >/dev/null 2>&1 ||
  die "openssl could not make the certificate"
cat >"$work/web.yml" <<EOF
tls_server_config:
  cert_file: $work/tls/cert.pem
  key_file: $work/tls/key.pem
EOF

echo "serve_bench: $("$build/elb_job_exporter" --version 2>&1 | head -n 1)"
echo "serve_bench: $("$nginx_bin" -v 2>&1), $(wrk -v 2>&1 | head -n 1 | cut -d' ' -f1-2)," \
  "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "serve_bench: wrk -t$threads -c$conns -d$duration --latency (warm-up $warmup), $rounds" \
  "round(s), median; pinned: $([ "$pin" = 1 ] && echo "servers CPU 0, wrk the others" || echo no)"
echo

# -- idle memory, 100 jobs, against blackbox_exporter
idle_line="" bb_line=""
start_exporter 100 exporter-idle || die "the exporter did not start (see above)"
lcurl -o /dev/null "${exp_url}metrics"
sleep "$settle"
read -r e_rss e_pss e_anon e_file < <(mem "$exp_pid")
idle_line=$(printf 'exporter, 100 jobs:     Rss %5s MB  Pss %5s MB  anonymous %5s MB  file-backed %5s MB' \
  "$(mb "$e_rss")" "$(mb "$e_pss")" "$(mb "$e_anon")" "$(mb "$e_file")")
stop_exporter
if [ -x "$blackbox_bin" ]; then
  printf 'modules:\n  http_2xx:\n    prober: http\n' >"$work/blackbox.yml"
  bb_ok=0
  for _ in 1 2 3 4 5; do
    bb_port=$(free_port) || die "no free port for blackbox_exporter"
    "$blackbox_bin" --config.file="$work/blackbox.yml" --web.listen-address="127.0.0.1:$bb_port" \
      >"$work/blackbox.log" 2>&1 &
    bb_pid=$!
    pids+=("$bb_pid")
    for i in $(seq 100); do
      if [ "$(lcurl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$bb_port/metrics" 2>/dev/null)" = 200 ]; then
        bb_ok=1
        break
      fi
      kill -0 "$bb_pid" 2>/dev/null || break
      sleep 0.1
    done
    [ "$bb_ok" = 1 ] && break
    stop "$bb_pid"
    grep -q 'address already in use' "$work/blackbox.log" || break
  done
  if [ "$bb_ok" = 1 ]; then
    sleep "$settle"
    read -r b_rss b_pss b_anon b_file < <(mem "$bb_pid")
    bb_line=$(printf 'blackbox_exporter:      Rss %5s MB  Pss %5s MB  anonymous %5s MB  file-backed %5s MB' \
      "$(mb "$b_rss")" "$(mb "$b_pss")" "$(mb "$b_anon")" "$(mb "$b_file")")
    bb_line+=$(awk -v e="$e_rss" -v b="$b_rss" -v ea="$e_anon" -v ba="$b_anon" \
      'BEGIN {printf "\nexporter / blackbox:    Rss %.2fx (target <= 0.50x), anonymous %.2fx", e / b, ea / ba}')
    stop "$bb_pid"
  else
    bb_line="blackbox_exporter:      did not start: $(tail -n 1 "$work/blackbox.log")"
  fi
else
  bb_line="blackbox_exporter:      n/a ($blackbox_bin not installed: apt-get install prometheus-blackbox-exporter)"
fi

# -- the table
cycle_rows=() big_line="" fairness=""
for n in $jobs_list; do
  rm -f "$work/www"/*
  start_exporter "$n" "exporter-$n" || die "the exporter with $n jobs did not start (see above)"
  # identity: the reference bytes, and the text's Content-Type for nginx
  lcurl -o "$work/www/text" -D "$work/h.identity" "${exp_url}metrics"
  [ -z "$(header content-encoding "$work/h.identity")" ] ||
    die "the exporter compressed an answer to a request without Accept-Encoding"
  ct_text=$(header content-type "$work/h.identity")
  size_text=$(wc -c <"$work/www/text")
  # gzip: supported when the answer says Content-Encoding: gzip
  lcurl -o "$work/gz" -D "$work/h.gzip" -H 'Accept-Encoding: gzip' "${exp_url}metrics"
  gzip_ok=0
  if [ "$(header content-encoding "$work/h.gzip")" = gzip ]; then
    gzip_ok=1
    mv "$work/gz" "$work/www/text.gz"
  fi
  # OpenMetrics + gzip: supported when both the type and the encoding say so
  lcurl -o "$work/omgz" -D "$work/h.om" -H "Accept: $PROM_ACCEPT" -H 'Accept-Encoding: gzip' \
    "${exp_url}metrics"
  ct_om=$(header content-type "$work/h.om")
  om_ok=0
  if [[ $ct_om == application/openmetrics-text* ]] &&
    [ "$(header content-encoding "$work/h.om")" = gzip ]; then
    om_ok=1
    mv "$work/omgz" "$work/www/om.gz"
    gzip -dc "$work/www/om.gz" >"$work/www/om" || die "the OpenMetrics answer is not gzip"
  else
    ct_om=application/openmetrics-text
    : >"$work/www/om"
  fi
  chmod 644 "$work/www"/*
  # render time: a metric of the exporter's own, if this build has one
  render=$(grep -E '^elb_job_exporter_[a-z_]*render[a-z_]*_seconds(\{[^}]*\})? ' "$work/www/text" |
    grep -v '_total' | head -n 3 | awk '{printf "%s%s %s", (NR > 1 ? "; " : ""), $1, $2}') || true
  cycle=$(awk '/^elb_job_exporter_poll_cycle_duration_seconds / {print $2}' "$work/www/text")
  workers=$nginx_workers
  st=$(serving_threads "$exp_pid")
  if [ "$workers" = auto ]; then
    workers=$((st > 0 ? st : 1))
  fi
  fairness="nginx worker_processes $workers (sendfile on, tcp_nopush $nopush, access_log off);"
  fairness+=" the exporter answers from $st libmicrohttpd thread(s)"
  start_nginx "$workers" "$ct_text" "$ct_om"
  ng="http://127.0.0.1:$ng_port"
  # the very same bytes, or the comparison means nothing
  lcurl -o "$work/ng.text" "$ng/text"
  cmp -s "$work/ng.text" "$work/www/text" || die "nginx does not serve the exporter's text bytes"
  for cs in $cases; do
    case $cs in
    identity)
      run_case identity "$n" "$size_text" "${exp_url}metrics" "$ng/text"
      ;;
    gzip)
      if [ "$gzip_ok" = 1 ]; then
        lcurl -o "$work/ng.gz" -H 'Accept-Encoding: gzip' "$ng/text"
        cmp -s "$work/ng.gz" "$work/www/text.gz" || die "nginx does not serve the exporter's gzip bytes"
        run_case gzip "$n" "$(wc -c <"$work/www/text.gz")" "${exp_url}metrics" "$ng/text" \
          'Accept-Encoding: gzip'
      else
        na_row gzip "$n"
      fi
      ;;
    om-gzip)
      if [ "$om_ok" = 1 ]; then
        lcurl -o "$work/ng.omgz" -H "Accept: $PROM_ACCEPT" -H 'Accept-Encoding: gzip' "$ng/om"
        cmp -s "$work/ng.omgz" "$work/www/om.gz" ||
          die "nginx does not serve the exporter's OpenMetrics gzip bytes"
        run_case om-gzip "$n" "$(wc -c <"$work/www/om.gz")" "${exp_url}metrics" "$ng/om" \
          "Accept: $PROM_ACCEPT" 'Accept-Encoding: gzip'
      else
        na_row om-gzip "$n"
      fi
      ;;
    esac
  done
  # the exporter must still serve what nginx serves: nothing re-rendered meanwhile
  lcurl -o "$work/after" "${exp_url}metrics"
  cmp -s "$work/after" "$work/www/text" ||
    notes+=("$n jobs: the exporter's text changed during the runs (a re-render): compare with care")
  if [ "$n" = 10000 ]; then
    read -r m_rss _ m_anon _ < <(mem "$exp_pid")
    big_line=$(printf 'exporter, 10k jobs, after serving every representation: Rss %s MB (anonymous %s MB), peak Rss %s MB (target < 40 MiB = 41.9 MB)' \
      "$(mb "$m_rss")" "$(mb "$m_anon")" "$(mb "$(hwm "$exp_pid")")")
  fi
  stop_exporter

  # TLS: an exporter with tls_server_config, identity over HTTPS
  if [[ " $cases " == *" tls "* ]]; then
    tls_ok=0
    if start_exporter "$n" "exporter-tls-$n" --web.config.file="$work/web.yml"; then
      tls_url="https://${exp_url#*://}"
      if lcurl --cacert "$work/tls/cert.pem" -o "$work/tls.text" "${tls_url}metrics" 2>/dev/null; then
        tls_ok=1
        st=$(serving_threads "$exp_pid")
        [ "$st" = "$workers" ] ||
          notes+=("tls $n: the exporter with TLS answers from $st threads, nginx has $workers workers")
        # the bytes of this instance: same jobs, but its own counters and timestamps
        cp "$work/tls.text" "$work/www/text"
        lcurl -k -o "$work/ng.tls" "https://127.0.0.1:$ng_tls_port/text"
        cmp -s "$work/ng.tls" "$work/www/text" || die "nginx does not serve the exporter's bytes over TLS"
        run_case tls "$n" "$(wc -c <"$work/www/text")" "${tls_url}metrics" \
          "https://127.0.0.1:$ng_tls_port/text"
      fi
    fi
    [ "$tls_ok" = 1 ] || na_row tls "$n"
    stop_exporter
  fi
  stop_nginx

  # --once: poll N jobs, render, print (hyperfine), for the render time's order of magnitude
  once=""
  if [ "$once_runs" -gt 0 ] && command -v hyperfine >/dev/null; then
    start_sim
    once_cmd=$(printf '%q ' "$build/elb_job_exporter" --once --log.level=error \
      --elb.endpoint="${sim_url%/}" --elb.project-id="$PROJECT" --jobs.file="$(jobs_file "$n")")
    if OS_AUTH_TOKEN=$TOKEN hyperfine --runs "$once_runs" --warmup 1 --style none \
      --export-json "$work/once.$n.json" "$once_cmd" >"$work/once.$n.out" 2>&1; then
      once=$(awk -F'[:,]' '/"mean"/ {m = $2} /"stddev"/ {s = $2}
        END {printf "%.3f s +- %.3f", m, s}' "$work/once.$n.json")
    else
      once="failed"
    fi
    stop "$sim_pid"
    sim_pid=""
  elif [ "$once_runs" -gt 0 ]; then
    once="n/a (hyperfine not installed)"
  fi
  cycle_rows+=("$n|$size_text|${cycle:-?} s|${render:-not exposed by this build}|${once:--}")
done

# ---- the report -----------------------------------------------------------------------------

printf '%-9s %6s %10s %11s %11s %7s %12s %12s %7s\n' case jobs bytes 'exporter/s' 'nginx/s' \
  ratio 'exporter p99' 'nginx p99' 'p99'
for r in "${rows[@]}"; do
  IFS='|' read -r -a f <<<"$r"
  if [ "${#f[@]}" -le 4 ]; then
    printf '%-9s %6s %10s %s\n' "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}"
  else
    printf '%-9s %6s %10s %11s %11s %7s %12s %12s %7s\n' "${f[@]}"
  fi
done
echo "(ratio = exporter / nginx: above 1 the exporter answers more requests per second; p99 above"
echo " 1 its 99th percentile latency is longer. $fairness.)"
echo
echo "Idle memory (/proc/PID/smaps_rollup, ${settle}s after one scrape):"
echo "$idle_line"
echo "$bb_line"
echo
echo "Render time per cycle:"
printf '%6s %10s %22s  %-40s %s\n' jobs bytes 'first poll cycle' 'render metric' \
  "--once run (hyperfine, $once_runs runs)"
for r in "${cycle_rows[@]}"; do
  IFS='|' read -r -a f <<<"$r"
  printf '%6s %10s %22s  %-40s %s\n' "${f[@]}"
done
echo "(the poll cycle is the exporter's elb_job_exporter_poll_cycle_duration_seconds: the API"
echo " requests and the render; a --once run adds start-up and printing)"
echo
if [ -n "$big_line" ]; then
  echo "$big_line"
else
  echo "exporter, 10k jobs: not measured (10000 is not in BENCH_JOBS)"
fi
if [ "${#notes[@]}" -gt 0 ]; then
  echo
  echo "Notes:"
  printf '  %s\n' "${notes[@]}"
fi
