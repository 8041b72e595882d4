#!/usr/bin/env bash
# A missing test tool must fail the configuration, naming the tool and its Debian package,
# and a partial run must be asked for by name. Configures scratch builds of the source tree
# with tools hidden through tests/tools.cmake's ELB_FAKE_MISSING hook and checks:
#   1. strict (the default): configuration fails with one error that names every hidden
#      tool with its package and the option for a partial run;
#   2. -DELB_ALLOW_MISSING_TOOLS=ON: configuration works, warns about the hidden tools,
#      and registers every test but theirs; every package the tool lookups name is in
#      packaging/dev.sh's TEST_PACKAGES (or BUILD_PACKAGES), so `dev.sh test` installs it;
#   3. -DELB_TESTS=OFF: no tests, and `ctest --no-tests=error` fails on that build.
# Usage: tools_check.sh CMAKE CTEST SOURCE_DIR WORK_DIR
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 CMAKE CTEST SOURCE_DIR WORK_DIR" >&2; exit 2; }
cmake=$1 ctest=$2 src=$3 work=$4
rm -rf "$work" && mkdir -p "$work"

fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
# has FILE TEXT: FILE contains the fixed string TEXT.
has() { grep -qF -- "$2" "$1"; }

# configure NAME ARGS...: configure a scratch build $work/NAME, log in $work/NAME.log.
configure() {
  local name=$1
  shift
  "$cmake" -S "$src" -B "$work/$name" "$@" >"$work/$name.log" 2>&1
}

# 1. strict
if configure strict "-DELB_FAKE_MISSING=cmocka;promtool;valgrind;systemd-analyze;prometheus-alertmanager"; then
  bad "strict: configuration succeeded with cmocka, promtool, valgrind, systemd-analyze, prometheus-alertmanager missing"
else
  ok "strict: configuration fails"
fi
log=$work/strict.log
for want in "cmocka (apt-get install libcmocka-dev)" "promtool (apt-get install prometheus)" \
  "valgrind (apt-get install valgrind)" "systemd-analyze (apt-get install systemd)" \
  "prometheus-alertmanager (apt-get install prometheus-alertmanager)"; do
  if has "$log" "missing test tools:" && has "$log" "$want"; then
    ok "strict: the error names $want"
  else
    bad "strict: no 'missing test tools: ... $want'"
  fi
done
errors=$(grep -c '^CMake Error' "$log" || true)
if [ "$errors" -eq 1 ]; then ok "strict: one error"; else bad "strict: $errors errors, want 1"; fi
if has "$log" "-DELB_ALLOW_MISSING_TOOLS=ON"; then
  ok "strict: the error names -DELB_ALLOW_MISSING_TOOLS=ON"
else
  bad "strict: the error does not say how to ask for a partial run"
fi
[ "$fail" -eq 0 ] || { echo "--- $log:"; cat "$log"; }

# 2. partial run, asked for by name (with the fuzzers, so that every lookup runs)
f2=0
if configure partial -DELB_ALLOW_MISSING_TOOLS=ON -DELB_FUZZ=ON \
  "-DELB_FAKE_MISSING=valgrind;systemd-analyze;chromium;prometheus-alertmanager"; then
  ok "partial: configuration works"
  log=$work/partial.log
  for want in "valgrind (apt-get install valgrind)" "systemd-analyze (apt-get install systemd)" \
    "chromium (apt-get install chromium)" \
    "prometheus-alertmanager (apt-get install prometheus-alertmanager)"; do
    if has "$log" "$want"; then ok "partial: the warning names $want"; else bad "partial: no $want" && f2=1; fi
  done
  if grep -q '^CMake Warning' "$log" && has "$log" "left out:"; then
    ok "partial: a warning lists what is left out"
  else
    bad "partial: no warning listing what is left out" && f2=1
  fi
  tests=$(cd "$work/partial" && "$ctest" -N | sed -n 's/^ *Test *#[0-9]*: *//p')
  for t in test_strbuf test_expfmt integration_scenario promtool prometheus_e2e cppcheck \
    shellcheck fuzz_job dashboards_promql; do
    if grep -qx "$t" <<<"$tests"; then ok "partial: $t registered"; else bad "partial: $t not registered" && f2=1; fi
  done
  for t in valgrind systemd_unit browser_landing alertmanager_e2e; do
    if grep -qx "$t" <<<"$tests"; then bad "partial: $t registered" && f2=1; else ok "partial: $t left out"; fi
  done
  # Every package the lookups name is installed by packaging/dev.sh test.
  dev_packages=$(sed -n '/^\(BUILD\|TEST\)_PACKAGES=(/,/^)/p' "$src/packaging/dev.sh" |
    sed 's/^[A-Z_]*=(//; s/)$//' | tr -s '[:blank:]' '\n')
  packages=$work/partial/test-packages.txt
  if [ -s "$packages" ]; then
    while IFS= read -r p; do
      [ -n "$p" ] || continue
      if grep -qx -- "$p" <<<"$dev_packages"; then
        ok "package $p is in dev.sh's packages"
      else
        bad "package $p (tests/CMakeLists.txt) is not in dev.sh's TEST_PACKAGES" && f2=1
      fi
    done <"$packages"
  else
    bad "partial: no $packages (the packages the tool lookups name)" && f2=1
  fi
else
  bad "partial: configuration failed with -DELB_ALLOW_MISSING_TOOLS=ON" && f2=1
fi
[ "$f2" -eq 0 ] || { echo "--- $work/partial.log:"; cat "$work/partial.log"; }

# 3. no tests at all, asked for by name; ctest --no-tests=error refuses such a build
if configure notests -DELB_TESTS=OFF "-DELB_FAKE_MISSING=cmocka"; then
  ok "notests: configuration works without cmocka"
  if (cd "$work/notests" && "$ctest" -N | grep -q '^Total Tests: 0$'); then
    ok "notests: no tests registered"
  else
    bad "notests: tests registered with -DELB_TESTS=OFF"
  fi
  if (cd "$work/notests" && "$ctest" --no-tests=error >/dev/null 2>&1); then
    bad "notests: ctest --no-tests=error passed on a build without tests"
  else
    ok "notests: ctest --no-tests=error fails on a build without tests"
  fi
else
  bad "notests: configuration failed with -DELB_TESTS=OFF"
  cat "$work/notests.log"
fi

[ "$fail" -eq 0 ] && echo "tools_check: OK"
exit "$fail"
