#!/usr/bin/env bash
# Developer entry point: the two commands of the README's quick start, and their parts.
#
#   packaging/dev.sh demo    install what is missing, build, run --demo on http://localhost:39123/
#   packaging/dev.sh test    install what is missing, build, run every test (unit, sanitizers,
#                            integration, valgrind, promtool, Prometheus, fuzzing)
#   packaging/dev.sh deps    only install the Debian packages
#   packaging/dev.sh build   only build (build/)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)

# Debian 12 packages the build, the tests and the demo need.
PACKAGES=(
  build-essential cmake pkg-config git ca-certificates curl clang-format-14 cppcheck
  libcurl4-openssl-dev libmicrohttpd-dev libjsmn-dev libcmocka-dev
  clang-14 libclang-rt-14-dev valgrind prometheus prometheus-alertmanager jq iproute2 shellcheck chromium wrk
)

need_install() {
  local p missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  printf '%s\n' "${missing[@]}"
}

deps() {
  local missing
  missing=$(need_install)
  [ -z "$missing" ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "dev.sh: installing: $(echo "$missing" | tr '\n' ' ')" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# configure_build DIR [cmake options...]
configure_build() {
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$jobs" >/dev/null
}

build() {
  deps
  configure_build build
}

demo() {
  build
  echo "dev.sh: open http://localhost:39123/ (Ctrl-C to stop)" >&2
  exec build/elb_job_exporter --demo "$@"
}

test_all() {
  deps
  echo "== sanitizer build (ASan+UBSan)"
  configure_build build-asan -DELB_SANITIZE=ON
  (cd build-asan && ctest --output-on-failure -j "$jobs" -LE slow 2>&1)
  echo "== ThreadSanitizer build"
  configure_build build-tsan -DELB_TSAN=ON
  (cd build-tsan && ctest --output-on-failure -j "$jobs" -L threads 2>&1)
  echo "== main build: unit, integration, valgrind, promtool, Prometheus, fuzzing"
  configure_build build -DELB_FUZZ=ON
  cd build && ctest --output-on-failure -j "$jobs" 2>&1
}

case "${1:-}" in
  deps) deps ;;
  build) build ;;
  demo) shift; demo "$@" ;;
  test) test_all ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
