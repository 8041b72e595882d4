#!/usr/bin/env bash
# shellcheck disable=SC2015 # `test && ok || bad` is if-then-else here: ok never fails
# Install test: the .deb (and the .rpm) installed for real, used, upgraded and removed, on a
# throw-away copy of this machine, so that the machine itself is never touched.
#
# How: a private mount namespace (unshare) holds an overlay whose lower layer is this
# machine's / and whose upper layer is a tmpfs; the package manager runs chrooted in it with
# its real maintainer scripts (adduser, deb-systemd-helper), and every change lands in the
# tmpfs. The upper layer is then the exact list of what installing and removing left behind.
# Nothing needs cleaning up: the namespace, its mounts and the tmpfs die with this script.
# /run and /tmp of the copy are empty tmpfs, as on a machine without systemd running, which
# is what the maintainer scripts then see (they skip systemctl).
#
# .deb, as an operator would:
#   1. dpkg -i: the system user elb_job_exporter, /var/lib/elb_job_exporter (0750, its
#      owner), the unit passes `systemd-analyze verify` (man page link included);
#   2. configure it the way the README says: elb.project_id and auth.token_file uncommented in
#      config.yml, the token in /etc/credstore/ (--config.check accepts it all), as the
#      LoadCredential file that token_file names, jobs in /etc/elb_job_exporter/jobs, and
#      ARGS in /etc/default/elb_job_exporter (the simulator's endpoint, a free port);
#   3. start the unit's ExecStart= (read from the installed unit, $ARGS expanded) as its
#      User=, with its EnvironmentFile=, against the simulator on loopback; scrape it; reload
#      it with the unit's ExecReload=; stop it with SIGTERM (exit 0);
#   4. upgrade to a newer version of the same package: the edited conffiles stay as edited,
#      dpkg asks nothing;
#   5. dpkg -r: nothing is left but the configuration (conffiles), the state directory (with
#      the store the run of step 3 left in it), the system user, dpkg's and man-db's records;
#      dpkg -P: not even the configuration.
# .rpm (when given): rpm -i --nodeps (this machine's rpm database knows no Debian package),
# the user and the state directory from %pre/%post, the files and modes; rpm -e leaves the
# state directory, the user and rpm's database, nothing else.
#
# Needs root (mount namespaces, overlayfs, chroot). Loopback only; every process it starts
# is stopped by the EXIT trap, by its PID.
#
# Usage: install_check.sh DEB SIM README WORK_DIR [RPM]
set -euo pipefail

if [ "${1:-}" != --inside ]; then
  [ $# -eq 4 ] || [ $# -eq 5 ] || { echo "usage: $0 DEB SIM README WORK_DIR [RPM]" >&2; exit 2; }
  if [ "$(id -u)" -ne 0 ]; then
    echo "FAIL install_check needs root (mount namespace, overlayfs, chroot): run the tests as root"
    exit 1
  fi
  rm -rf "$4" && mkdir -p "$4"
  exec unshare --mount --propagation private -- bash "$0" --inside "$@"
fi
shift
deb=$1 sim=$2 readme=$3 work=$4 rpm=${5:-}
NAME=elb_job_exporter
PKG=elb-job-exporter
TOKEN=install-test-token
PROJECT=0b3d6ac6dbd84d5aaa0c2a7bfe4c2b32
J_SUCCESS=ff8080825ecc523f015ecd0a98f82f77
J_FAIL=2c9eb2c15e1d4e1a015e1e0c3b8a0002

fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
die() { echo "FAIL $*"; exit 1; }

pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill -KILL "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# ---- the throw-away copy of this machine ----
# new_root NAME: an overlay of / in $work/NAME (root: $root, changes: $upper).
new_root() {
  local d=$work/$1
  mkdir -p "$d"
  mount -t tmpfs -o mode=0755 tmpfs "$d"
  mkdir "$d/upper" "$d/work" "$d/root"
  mount -t overlay overlay -o "lowerdir=/,upperdir=$d/upper,workdir=$d/work" "$d/root"
  root=$d/root upper=$d/upper
  mount --rbind /dev "$root/dev"
  mount -t proc proc "$root/proc"
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  # man-db's trigger would rebuild the whole index of this machine's man pages: the
  # documented switch turns it off (the page itself is checked by systemd-analyze below).
  rm -f "$root/var/lib/man-db/auto-update"
}
in_root() { chroot "$root" "$@"; }

# leftovers STAGE REGEX: every entry of the upper layer (files, symlinks, whiteouts, and
# directories this machine does not have) whose path does not match REGEX; fails if any.
leftovers() {
  local stage=$1 allowed=$2 rel left=()
  while IFS= read -r rel; do
    if [ -d "$upper/$rel" ] && [ ! -L "$upper/$rel" ] && [ -d "/$rel" ]; then
      continue # a directory of this machine, copied up because something below it changed
    fi
    [[ $rel =~ $allowed ]] || left+=("$rel")
  done < <(cd "$upper" && find . -mindepth 1 | sed 's|^\./||' | sort)
  if [ "${#left[@]}" -eq 0 ]; then
    ok "$stage: nothing left behind but what is allowed"
  else
    bad "$stage: left behind: ${left[*]}"
  fi
}

# Allowed after removal: the credential the operator made, the package manager's records and
# man-db's index, the system user
# (and the shadow files' lock and backups), for the .deb also the conffiles, the state
# directory, the administrator's enablement of the unit and deb-systemd-helper's record of it,
# which purge takes away.
RECORDS='^etc/credstore(/elb_job_exporter\.token)?$|^etc/(passwd|group|shadow|gshadow)-?$|^etc/\.pwd\.lock$|^var/log/dpkg\.log$|^var/lib/dpkg(/.*)?$|^var/cache/man(/.*)?$|^var/lib/man-db(/.*)?$'
AFTER_REMOVE="$RECORDS|^etc/$NAME(/config\.yml|/jobs)?$|^etc/default/$NAME$|^var/lib/$NAME(/lock|/store\.log)?$|^var/lib/systemd/deb-systemd-helper-enabled(/.*)?$|^etc/systemd/system/multi-user\.target\.wants/$NAME\.service$"
AFTER_PURGE="$RECORDS"

# ---- processes ----
# wait_line FILE REGEX PID SECONDS: wait until FILE has a line matching REGEX; fails early
# if PID exits. Prints the first match.
wait_line() {
  local file=$1 re=$2 pid=$3 deadline=$((SECONDS + $4)) line
  while :; do
    line=$(grep -m1 -E -- "$re" "$file" 2>/dev/null || true)
    [ -n "$line" ] && { echo "$line"; return 0; }
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
# http_code URL: the status code of GET URL ("000": no answer).
http_code() { curl -s --noproxy '*' -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }
# wait_code URL CODE SECONDS
wait_code() {
  local deadline=$((SECONDS + $3))
  while [ "$(http_code "$1")" != "$2" ]; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
# stop PID SECONDS: SIGTERM, then the exit status (124 if it did not exit in time).
stop() {
  local pid=$1 deadline=$((SECONDS + $2)) rc=0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      return 124
    fi
    sleep 0.05
  done
  wait "$pid" || rc=$?
  return "$rc"
}

# ---- the simulator, on this machine, loopback ----
"$sim" --listen-address=127.0.0.1:0 --token="$TOKEN" --project-id="$PROJECT" \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
pids+=("$sim_pid")
sim_url=$(wait_line "$work/sim.out" '^listening on http://127\.0\.0\.1:[0-9]+/$' "$sim_pid" 20) ||
  { cat "$work/sim.err"; die "the simulator did not start"; }
sim_url=${sim_url#listening on }
sim_url=${sim_url%/}

# ======== .deb ========
new_root deb
cp "$deb" "$root/tmp/pkg.deb"

# 1. install
if in_root dpkg -i /tmp/pkg.deb </dev/null >"$work/dpkg-install.log" 2>&1; then
  ok "dpkg -i $(basename "$deb")"
else
  cat "$work/dpkg-install.log"
  die "dpkg -i failed"
fi
# shellcheck disable=SC2016 # dpkg-query's format, not the shell's
status=$(in_root dpkg-query -W -f='${Status}' "$PKG")
[ "$status" = "install ok installed" ] || bad "dpkg-query: $status"
uid=$(in_root id -u "$NAME" 2>/dev/null) || die "postinst made no user $NAME"
gid=$(in_root id -g "$NAME")
[ "$uid" -lt 1000 ] && ok "system user $NAME ($uid:$gid)" || bad "user $NAME has uid $uid, not a system uid"
shell=$(in_root getent passwd "$NAME" | cut -d: -f7)
[ "$shell" = /usr/sbin/nologin ] || bad "user $NAME has the shell $shell"
st=$(stat -c '%a %u %g' "$root/var/lib/$NAME" 2>/dev/null || true)
[ "$st" = "750 $uid $gid" ] && ok "/var/lib/$NAME: 0750, $NAME's" || bad "/var/lib/$NAME: '$st', want '750 $uid $gid'"
st=$(stat -c '%a %U' "$root/etc/default/$NAME")
[ "$st" = "640 root" ] && ok "/etc/default/$NAME: 0640 root" || bad "/etc/default/$NAME: $st"
unit=/usr/lib/systemd/system/$NAME.service
out=$(in_root systemd-analyze verify "$unit" 2>&1) || true
[ -z "$out" ] && ok "systemd-analyze verify $unit (installed, with its man page)" ||
  bad "systemd-analyze verify: $out"
if [ -e "$root/etc/systemd/system/multi-user.target.wants/$NAME.service" ]; then
  bad "dpkg -i enabled the unit (it must wait until it is configured)"
else
  ok "the unit is installed, not enabled"
fi
in_root man -w elb_job_exporter >/dev/null 2>&1 && ok "man elb_job_exporter finds the page" ||
  bad "man -w elb_job_exporter finds no page"
in_root "/usr/bin/$NAME" --version | grep -q "^$NAME, version " || bad "$NAME --version"

# 2. configure, as the README's Install section says
defaults=$root/etc/default/$NAME
echo "ARGS=\"--elb.endpoint=$sim_url --web.listen-address=127.0.0.1:0 --poll.interval=200ms\"" \
  >>"$defaults"
config=$root/etc/$NAME/config.yml
grep -q "^  # project_id: $PROJECT$" "$config" || die "config.yml has no commented elb.project_id $PROJECT"
sed -i "s|^  # project_id: |  project_id: |" "$config"
grep -q "^# auth:$" "$config" && grep -q "^#   token_file: /run/credentials/$NAME.service/$NAME.token$" "$config" ||
  die "config.yml has no commented auth.token_file line naming the credential"
# The README's command: uncomment the first "# auth:" and the token_file line.
sed -i -e '0,/^# auth:$/s//auth:/' -e 's|^#   token_file: |  token_file: |' "$config"
grep -qF "sed -i -e '0,/^# auth:\$/s//auth:/' -e 's|^#   token_file: |  token_file: |'" "$readme" ||
  bad "the README's Install section no longer has the sed command this test runs"
printf '%s\n%s\n' "$J_SUCCESS" "$J_FAIL" >>"$root/etc/$NAME/jobs"
# What LoadCredential= does: the secret, readable by the service's user only.
creds=$root/run/credentials/$NAME.service
mkdir -p "$creds"
printf '%s\n' "$TOKEN" >"$creds/$NAME.token"
chown "$uid:$gid" "$creds/$NAME.token"
chmod 0400 "$creds/$NAME.token"
# The README's check, with the token where the credential comes from.
install -d -m 0700 "$root/etc/credstore"
install -m 0600 /dev/stdin "$root/etc/credstore/$NAME.token" <<<"$TOKEN"
if in_root "/usr/bin/$NAME" --config.file=/etc/$NAME/config.yml \
  --auth.token-file=/etc/credstore/$NAME.token --config.check >"$work/config-check.log" 2>&1; then
  ok "--config.check accepts the configured config.yml"
else
  bad "--config.check: $(cat "$work/config-check.log")"
fi
sum_config=$(md5sum <"$config")
sum_defaults=$(md5sum <"$defaults")
sum_jobs=$(md5sum <"$root/etc/$NAME/jobs")

# 3. run the unit's command line as its user with its environment
unit_line() { sed -n "s/^$1=//p" "$root$unit"; }
[ "$(unit_line User)" = "$NAME" ] || bad "the unit's User= is not $NAME"
envfile=$(unit_line EnvironmentFile)
envfile=${envfile#-}
env_args=()
args_value=""
while IFS= read -r line; do
  case $line in '' | '#'*) continue ;; esac
  key=${line%%=*} value=${line#*=}
  value=${value#\"} value=${value%\"}
  env_args+=("$key=$value")
  [ "$key" = ARGS ] && args_value=$value
done <"$root$envfile"
read -ra words <<<"$(unit_line ExecStart)"
cmd=()
for w in "${words[@]}"; do
  # shellcheck disable=SC2016 # the unit's literal $ARGS
  if [ "$w" = '$ARGS' ]; then
    read -ra extra <<<"$args_value"
    cmd+=("${extra[@]}")
  else
    cmd+=("$w")
  fi
done
echo "     ExecStart as $NAME: ${cmd[*]}"
chroot --userspec="$uid:$gid" "$root" env -i PATH=/usr/bin:/bin "${env_args[@]}" \
  CREDENTIALS_DIRECTORY="/run/credentials/$NAME.service" "${cmd[@]}" \
  >"$work/exporter.out" 2>"$work/exporter.err" &
exp_pid=$!
pids+=("$exp_pid")
if url=$(wait_line "$work/exporter.err" 'listening on http://127\.0\.0\.1:[0-9]+/' "$exp_pid" 20); then
  url=$(sed -E 's|.*listening on (http://127\.0\.0\.1:[0-9]+)/.*|\1|' <<<"$url")
  ok "the installed exporter serves $url"
else
  cat "$work/exporter.err"
  die "the installed exporter did not start"
fi
grep -q "token_file\|/run/credentials/$NAME.service/$NAME.token" "$work/exporter.err" &&
  ok "the token came from the credential file" ||
  bad "the start-up log does not say the token came from the credential file"
[ "$(http_code "$url/-/healthy")" = 200 ] && ok "GET /-/healthy: 200" || bad "GET /-/healthy"
wait_code "$url/-/ready" 200 20 && ok "GET /-/ready: 200" || bad "/-/ready never answered 200"
metrics=$(curl -s --noproxy '*' --max-time 5 "$url/metrics" || true)
expect() {
  if grep -qE -- "$1" <<<"$metrics"; then ok "scrape: $2"; else bad "scrape: no $2 ($1)"; fi
}
expect "^elb_job_status\{[^}]*job_id=\"$J_SUCCESS\"[^}]*status=\"SUCCESS\"[^}]*\} 1$" \
  "$J_SUCCESS SUCCESS"
expect "^elb_job_status\{[^}]*job_id=\"$J_FAIL\"[^}]*status=\"FAIL\"[^}]*\} 1$" "$J_FAIL FAIL"
expect '^elb_job_exporter_api_up 1$' "api_up 1"
# Reload as systemctl reload does: the unit's ExecReload=, $MAINPID substituted.
read -ra reload <<<"$(unit_line ExecReload)"
reload=("${reload[@]/\$MAINPID/$exp_pid}")
in_root "${reload[@]}" || bad "ExecReload (${reload[*]}) failed"
if wait_line "$work/exporter.err" "SIGHUP received: re-reading /etc/$NAME/config.yml" "$exp_pid" 10 >/dev/null; then
  ok "ExecReload: SIGHUP re-reads /etc/$NAME/config.yml"
else
  bad "ExecReload: no 'SIGHUP received: re-reading' in the log"
fi
! grep -q "configuration not reloaded" "$work/exporter.err" || bad "the reload failed: $(grep 'not reloaded' "$work/exporter.err")"
rc=0
stop "$exp_pid" 5 || rc=$?
[ "$rc" -eq 0 ] && ok "SIGTERM: exit 0" || { bad "SIGTERM: exit $rc"; tail -5 "$work/exporter.err"; }

# 4. upgrade: the same package, a newer version; the administrator had enabled the unit
in_root systemctl enable "$NAME.service" >"$work/enable.log" 2>&1 || { cat "$work/enable.log"; bad "systemctl enable failed"; }
wants=$root/etc/systemd/system/multi-user.target.wants/$NAME.service
[ -L "$wants" ] || bad "systemctl enable made no $wants"
rm -rf "$work/v2" && dpkg-deb -R "$deb" "$work/v2"
sed -i 's/^Version: \(.*\)$/Version: \1+upgrade1/' "$work/v2/DEBIAN/control"
dpkg-deb -b --root-owner-group "$work/v2" "$root/tmp/pkg2.deb" >/dev/null
if in_root dpkg -i /tmp/pkg2.deb </dev/null >"$work/dpkg-upgrade.log" 2>&1; then
  # shellcheck disable=SC2016 # dpkg-query's format
  ok "dpkg -i (upgrade to $(in_root dpkg-query -W -f='${Version}' "$PKG"))"
else
  cat "$work/dpkg-upgrade.log"
  bad "the upgrade failed"
fi
[ "$(md5sum <"$config")" = "$sum_config" ] && ok "upgrade kept the edited config.yml" || bad "upgrade changed config.yml"
[ "$(md5sum <"$defaults")" = "$sum_defaults" ] && ok "upgrade kept the edited /etc/default/$NAME" ||
  bad "upgrade changed /etc/default/$NAME"
[ "$(md5sum <"$root/etc/$NAME/jobs")" = "$sum_jobs" ] && ok "upgrade kept the edited jobs file" || bad "upgrade changed the jobs file"
[ "$(in_root id -u "$NAME")" = "$uid" ] || bad "the upgrade changed the user's uid"
[ -L "$wants" ] && ok "upgrade kept the unit enabled" || bad "upgrade disabled the unit"

# 5. remove, purge
in_root dpkg -r "$PKG" </dev/null >"$work/dpkg-remove.log" 2>&1 || { cat "$work/dpkg-remove.log"; bad "dpkg -r failed"; }
[ -f "$config" ] && ok "dpkg -r kept config.yml" || bad "dpkg -r removed config.yml"
leftovers "dpkg -r" "$AFTER_REMOVE"
in_root dpkg -P "$PKG" </dev/null >"$work/dpkg-purge.log" 2>&1 || { cat "$work/dpkg-purge.log"; bad "dpkg -P failed"; }
[ ! -e "$root/etc/$NAME" ] || bad "dpkg -P left /etc/$NAME"
[ ! -e "$root/var/lib/$NAME" ] || bad "dpkg -P left /var/lib/$NAME"
# shellcheck disable=SC2016 # dpkg-query's format
if in_root dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null | grep -q installed; then
  bad "dpkg -P: the package is still known"
fi
leftovers "dpkg -P" "$AFTER_PURGE"

# ======== .rpm ========
if [ -n "$rpm" ]; then
  new_root rpm
  cp "$rpm" "$root/tmp/pkg.rpm"
  if in_root rpm -i --nodeps /tmp/pkg.rpm </dev/null >"$work/rpm-install.log" 2>&1; then
    ok "rpm -i --nodeps $(basename "$rpm")"
  else
    cat "$work/rpm-install.log"
    bad "rpm -i failed"
  fi
  uid=$(in_root id -u "$NAME" 2>/dev/null) || bad "%pre made no user $NAME"
  gid=$(in_root id -g "$NAME" 2>/dev/null || true)
  st=$(stat -c '%a %u %g' "$root/var/lib/$NAME" 2>/dev/null || true)
  [ "$st" = "750 $uid $gid" ] && ok "rpm: /var/lib/$NAME: 0750, $NAME's" || bad "rpm: /var/lib/$NAME: '$st'"
  st=$(stat -c '%a %U' "$root/etc/default/$NAME" 2>/dev/null || true)
  [ "$st" = "640 root" ] && ok "rpm: /etc/default/$NAME: 0640 root" || bad "rpm: /etc/default/$NAME: '$st'"
  in_root "/usr/bin/$NAME" --version | grep -q "^$NAME, version " || bad "rpm: $NAME --version"
  echo "# edited" >>"$root/etc/$NAME/config.yml"
  in_root rpm -e "$PKG" </dev/null >"$work/rpm-erase.log" 2>&1 || { cat "$work/rpm-erase.log"; bad "rpm -e failed"; }
  [ -f "$root/etc/$NAME/config.yml.rpmsave" ] && ok "rpm -e kept the edited config.yml as .rpmsave" ||
    bad "rpm -e did not keep the edited config.yml"
  # rpm's database: Debian's rpm keeps it in ~/.rpmdb.
  leftovers "rpm -e" "$RECORDS|^var/lib/rpm(/.*)?$|^root/\.rpmdb(/.*)?$|^var/lib/$NAME$|^etc/$NAME(/config\.yml\.rpmsave)?$"
fi

[ "$fail" -eq 0 ] && echo "install_check: OK"
exit "$fail"
