#!/usr/bin/env bash
# Developer entry point: the two commands of the README's quick start, and their parts.
#
#   packaging/dev.sh demo    install what is missing, build, run --demo on http://localhost:39123/
#   packaging/dev.sh test    install what is missing, build, run every test (unit, sanitizers,
#                            integration, valgrind, promtool, Prometheus, fuzzing)
#   packaging/dev.sh deps    only install the Debian packages
#   packaging/dev.sh build   only build (build/, without tests: -DELB_TESTS=OFF)
#   packaging/dev.sh bench   install the benchmark's packages, build a Release build in
#                            build-bench/, run tests/bench/serve_bench.sh (not a test: figures;
#                            BENCH_* variables as its header says)
#   packaging/dev.sh package build the .deb and the .rpm into build/packages/
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
jobs=$(nproc 2>/dev/null || echo 2)

# Debian 12 packages: what building and the demo need, and what the tests add. Every test
# tool is required (tests/tools.cmake: a missing one fails the configuration and names its
# package); the test_tools test checks that TEST_PACKAGES has every package it names.
BUILD_PACKAGES=(
  build-essential cmake pkg-config git ca-certificates
  libcurl4-openssl-dev libmicrohttpd-dev libjsmn-dev libssl-dev libyaml-dev libgnutls28-dev
  libcrypt-dev zlib1g-dev scdoc
)
TEST_PACKAGES=(
  libcmocka-dev curl clang-14 libclang-rt-14-dev valgrind clang-format-14 cppcheck shellcheck
  prometheus prometheus-alertmanager jq iproute2 chromium systemd wrk openssl
  python3-prometheus-client
  lintian rpm dpkg-dev file binutils groff-base python3-yaml adduser util-linux
)
# What tests/bench/serve_bench.sh compares the exporter with and measures it by (not a test:
# `bench` installs these, `test` does not need them).
BENCH_PACKAGES=(
  nginx-light wrk hyperfine prometheus-blackbox-exporter openssl curl
)

# deps PACKAGE...: install those of the packages that are missing.
deps() {
  local p missing=() sudo=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "dev.sh: installing: ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# configure_build DIR [cmake options...]: quiet when it works, the full log when it does not.
configure_build() {
  local dir=$1 log
  shift
  mkdir -p "$dir"
  log="$dir/dev-build.log"
  echo "dev.sh: building in $dir ($*) ..." >&2
  if ! { cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" &&
    cmake --build "$dir" -j "$jobs"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "dev.sh: build in $dir failed" >&2
    return 1
  fi
}

build() {
  deps "${BUILD_PACKAGES[@]}"
  configure_build build -DELB_TESTS=OFF
}

# The .deb and the .rpm (CPack: packaging/package.cmake) from the build of `build`.
PACKAGE_PACKAGES=(dpkg-dev file rpm)
package() {
  deps "${BUILD_PACKAGES[@]}" "${PACKAGE_PACKAGES[@]}"
  configure_build build -DELB_TESTS=OFF
  rm -rf build/packages
  (cd build && cpack -G "DEB;RPM" -B "$here/build/packages" >cpack.log 2>&1) ||
    { cat build/cpack.log >&2; echo "dev.sh: cpack failed" >&2; return 1; }
  ls -1 "$here"/build/packages/*.deb "$here"/build/packages/*.rpm
}

demo() {
  build
  echo "dev.sh: open http://localhost:39123/ (Ctrl-C to stop)" >&2
  exec build/elb_job_exporter --demo "$@"
}

# Every test, every tool: a missing tool fails the configuration, no tests fails ctest, even
# when an earlier partial run (or `build`) left its choice in a build directory's cache.
ALL_TESTS=(-DELB_TESTS=ON -DELB_ALLOW_MISSING_TOOLS=OFF -DELB_FAKE_MISSING=)

test_all() {
  deps "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  echo "== sanitizer build (ASan+UBSan)"
  configure_build build-asan -DELB_SANITIZE=ON "${ALL_TESTS[@]}"
  (cd build-asan && ctest --no-tests=error --output-on-failure -j "$jobs" -LE slow 2>&1)
  echo "== ThreadSanitizer build"
  configure_build build-tsan -DELB_TSAN=ON "${ALL_TESTS[@]}"
  (cd build-tsan && ctest --no-tests=error --output-on-failure -j "$jobs" -L threads 2>&1)
  echo "== main build: unit, integration, valgrind, promtool, Prometheus, fuzzing"
  configure_build build -DELB_FUZZ=ON "${ALL_TESTS[@]}"
  cd build && ctest --no-tests=error --output-on-failure -j "$jobs" 2>&1
}

# The serving benchmark on a Release build of its own (build/ keeps its test configuration).
bench() {
  deps "${BUILD_PACKAGES[@]}" "${BENCH_PACKAGES[@]}"
  configure_build build-bench -DCMAKE_BUILD_TYPE=Release -DELB_TESTS=OFF
  BENCH_BUILD="$here/build-bench" tests/bench/serve_bench.sh
}

case "${1:-}" in
  deps) deps "${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" ;;
  build) build ;;
  package) package ;;
  demo) shift; demo "$@" ;;
  test) test_all ;;
  bench) bench ;;
  *) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
