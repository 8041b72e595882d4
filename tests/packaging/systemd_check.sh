#!/usr/bin/env bash
# The shipped systemd unit (packaging/elb_job_exporter.service):
#   1. `systemd-analyze verify` is silent, with ExecStart aimed at the built binary (the
#      man: link is checked by the install test, where the man page is installed);
#   2. `systemd-analyze security --offline=yes` rates it at most 2.0, and at exactly the
#      exposure the README states ("an exposure of N.N"), so that the rating can neither
#      rise unseen nor the README go stale; a copy without ProtectSystem= and
#      CapabilityBoundingSet= must rate higher, or the rating proves nothing;
#   3. it has what issue 13 asks: StateDirectory= for --storage.path, LoadCredential=,
#      the defaults file, reload through SIGHUP; and every
#      /run/credentials/elb_job_exporter.service/ID that the example configuration, the man
#      page and the README name is an ID the unit loads.
# Usage: systemd_check.sh SYSTEMD_ANALYZE SOURCE_DIR EXPORTER WORK_DIR
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 SYSTEMD_ANALYZE SOURCE_DIR EXPORTER WORK_DIR" >&2; exit 2; }
sa=$1 src=$2 exporter=$3 work=$4
unit_src=$src/packaging/elb_job_exporter.service
ceiling=2.0
rm -rf "$work" && mkdir -p "$work"

fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# The unit as installed, but running the binary of this build.
unit=$work/elb_job_exporter.service
sed "s|^ExecStart=/usr/bin/elb_job_exporter |ExecStart=$exporter |" "$unit_src" >"$unit"
grep -q "^ExecStart=$exporter " "$unit" || bad "ExecStart does not start /usr/bin/elb_job_exporter"

# 1. verify
out=$(cd "$work" && "$sa" verify --man=no ./elb_job_exporter.service 2>&1) || true
if [ -z "$out" ]; then ok "systemd-analyze verify: nothing to report"; else bad "systemd-analyze verify: $out"; fi

# 2. security
# exposure UNIT: the overall exposure level, e.g. 1.1.
exposure() {
  (cd "$(dirname "$1")" && "$sa" security --offline=yes "./$(basename "$1")" 2>&1) |
    sed -n 's/^→ Overall exposure level for [^:]*: \([0-9][0-9]*\.[0-9]\).*/\1/p'
}
score=$(exposure "$unit")
if [ -z "$score" ]; then
  bad "systemd-analyze security printed no overall exposure level"
  (cd "$work" && "$sa" security --offline=yes ./elb_job_exporter.service 2>&1 | tail -5) || true
else
  echo "     systemd-analyze security --offline=yes: exposure $score (the open items:)"
  (cd "$work" && "$sa" security --offline=yes ./elb_job_exporter.service 2>&1) |
    grep '^✗' | sed 's/^/       /' || true
  if awk -v s="$score" -v c="$ceiling" 'BEGIN { exit !(s <= c) }'; then
    ok "exposure $score <= $ceiling"
  else
    bad "exposure $score > $ceiling: the unit lost hardening"
  fi
  readme=$({ grep -o 'an exposure of [0-9][0-9]*\.[0-9]' "$src/README.md" || true; } |
    head -1 | awk '{print $4}')
  if [ "$readme" = "$score" ]; then
    ok "the README states exposure $score"
  else
    bad "the README states exposure '${readme:-none}' ('an exposure of N.N'), systemd-analyze says $score"
  fi
  comment=$(sed -n 's/^# .*rates this unit \([0-9][0-9]*\.[0-9]\).*/\1/p' "$unit_src")
  [ "$comment" = "$score" ] || bad "the unit's comment says 'rates this unit ${comment:-?}', systemd-analyze says $score"
  weak=$work/weak/elb_job_exporter.service
  mkdir -p "$work/weak"
  grep -v -e '^ProtectSystem=' -e '^CapabilityBoundingSet=' "$unit" >"$weak"
  weak_score=$(exposure "$weak")
  if [ -n "$weak_score" ] && awk -v w="$weak_score" -v s="$score" 'BEGIN { exit !(w > s) }'; then
    ok "self-test: without ProtectSystem= and CapabilityBoundingSet= the exposure rises to $weak_score"
  else
    bad "self-test: a weaker unit rates '${weak_score:-?}', not above $score"
  fi
fi

# 3. what the unit must have
need() {
  if grep -qxE -- "$1" "$unit_src"; then ok "unit has $2"; else bad "unit lacks $2 ($1)"; fi
}
need 'StateDirectory=elb_job_exporter' "StateDirectory="
need 'ExecStart=/usr/bin/elb_job_exporter .*--storage\.path=/var/lib/elb_job_exporter( .*)?' \
  "--storage.path in StateDirectory's directory"
need 'ExecStart=/usr/bin/elb_job_exporter .*--config\.file=/etc/elb_job_exporter/config\.yml( .*)?' \
  "--config.file (what SIGHUP re-reads)"
# shellcheck disable=SC2016 # the unit's literal $MAINPID
need 'ExecReload=/bin/kill -HUP \$MAINPID' "reload through SIGHUP"
need 'EnvironmentFile=-/etc/default/elb_job_exporter' "the defaults file"
need 'User=elb_job_exporter' "the packages' system user"
need 'LoadCredential=elb_job_exporter\.[a-z-]+' "LoadCredential="
loaded=$(sed -n 's/^LoadCredential=\([^:]*\)$/\1/p' "$unit_src" | sort -u)
named=$(cat "$src/packaging/config.yml" "$src/packaging/elb_job_exporter.1.scd" "$src/README.md" |
  { grep -oE '/run/credentials/elb_job_exporter\.service/[A-Za-z][A-Za-z0-9._-]*' || true; } |
  sed 's|.*/||' | sort -u)
[ -n "$named" ] || bad "no /run/credentials/elb_job_exporter.service/ID in config.yml, man page, README"
for id in $named; do
  if grep -qxF -- "$id" <<<"$loaded"; then
    ok "credential $id is loaded by the unit"
  else
    bad "credential $id is named (config.yml, man page or README) but the unit does not load it"
  fi
done

[ "$fail" -eq 0 ] && echo "systemd_check: OK"
exit "$fail"
