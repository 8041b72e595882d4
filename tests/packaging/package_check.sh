#!/usr/bin/env bash
# shellcheck disable=SC2015 # `test && ok || bad` is if-then-else here: ok never fails
# What the .deb and the .rpm hold, checked without installing them (install_check.sh does that):
#   .deb  lintian reports no error and no hardening- finding (every finding is printed,
#         warnings, infos and overrides included); the control fields; Depends holds the
#         package of every shared library the binary needs (dpkg-shlibdeps computed it,
#         checked here from the ELF's NEEDED entries and dpkg -S); conffiles are exactly
#         the files under /etc; modes (the defaults file 0640); the binary is stripped;
#         copyright; changelog.Debian.gz and the man page compressed with gzip -9n (no name,
#         no time, best compression); the changelog's version is the package's, and the
#         project's version is its upstream part.
#   .rpm  the same files with the same modes, the /etc files %config(noreplace), the
#         scriptlets that make the user, Requires computed from the binary.
# Usage: package_check.sh DEB RPM PROJECT_VERSION WORK_DIR
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 DEB RPM PROJECT_VERSION WORK_DIR" >&2; exit 2; }
deb=$1 rpm=$2 version=$3 work=$4
NAME=elb_job_exporter
PKG=elb-job-exporter
rm -rf "$work" && mkdir -p "$work"

fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# ---- lintian ----
echo "---- lintian --pedantic --display-info --show-overrides $(basename "$deb")"
lintian_rc=0
lintian --pedantic --display-info --show-overrides --fail-on error "$deb" >"$work/lintian.txt" 2>&1 ||
  lintian_rc=$?
grep -v '^running with root privileges' "$work/lintian.txt" || true
echo "----"
errors=$(grep -c '^E: ' "$work/lintian.txt" || true)
warnings=$(grep -c '^W: ' "$work/lintian.txt" || true)
if [ "$lintian_rc" -eq 0 ] && [ "$errors" -eq 0 ]; then
  ok "lintian: no error ($warnings warnings, $(grep -c '^I: ' "$work/lintian.txt" || true) infos, $(grep -c '^O: ' "$work/lintian.txt" || true) overridden)"
else
  bad "lintian: $errors errors (exit $lintian_rc)"
fi

if grep -q 'hardening-' "$work/lintian.txt"; then
  bad "lintian: the binary lacks hardening: $(grep -o 'hardening-[a-z-]*' "$work/lintian.txt" | sort -u | tr '\n' ' ')"
else
  ok "lintian: no hardening- finding (fortify, relro, bindnow, PIE)"
fi

# ---- control ----
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = "$PKG" ] || bad "Package: $(field Package)"
deb_version=$(field Version)
[[ $deb_version == "$version"-* ]] && ok "Version $deb_version (project $version)" ||
  bad "Version $deb_version does not start with the project's $version-"
depends=$(field Depends)
echo "     Depends: $depends"
for f in Maintainer Section Priority Description; do
  [ -n "$(field "$f")" ] || bad "no $f field"
done
[[ $depends == *adduser* ]] || bad "Depends lacks adduser (postinst runs it)"

dpkg-deb -x "$deb" "$work/root"
dpkg-deb -e "$deb" "$work/control"
bin=$work/root/usr/bin/$NAME
[ -x "$bin" ] || bad "no /usr/bin/$NAME"

# Depends holds the package of each NEEDED library (as this machine has them).
while IFS= read -r lib; do
  path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
  [ -n "$path" ] || { bad "NEEDED $lib: not on this machine"; continue; }
  owner=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1) ||
    owner=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1) || true
  [ -n "$owner" ] || { bad "NEEDED $lib: no package owns $path"; continue; }
  if grep -qE "(^|, )$owner( |,|$)" <<<"$depends"; then
    ok "NEEDED $lib -> Depends: $owner"
  else
    bad "NEEDED $lib is in $owner, which Depends lacks"
  fi
done < <(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
file -b "$bin" | grep -q ', stripped' && ok "the binary is stripped" || bad "the binary is not stripped"

# ---- files, conffiles, modes ----
(cd "$work/root" && find . -path ./etc -prune -o -type f -print; find ./etc -type f) |
  sed 's|^\.||' | sort >"$work/deb.files"
sed 's/[[:space:]]*$//' "$work/control/conffiles" | sort >"$work/conffiles"
(cd "$work/root" && find ./etc -type f) | sed 's|^\.||' | sort >"$work/etc.files"
if cmp -s "$work/conffiles" "$work/etc.files"; then
  ok "conffiles: $(tr '\n' ' ' <"$work/conffiles")"
else
  bad "conffiles and the files under /etc differ: $(diff "$work/conffiles" "$work/etc.files" | tr '\n' ' ')"
fi
mode() { stat -c '%a' "$work/root$1"; }
[ "$(mode /etc/default/$NAME)" = 640 ] && ok "/etc/default/$NAME: 0640" || bad "/etc/default/$NAME: $(mode /etc/default/$NAME)"
for f in /etc/$NAME/config.yml /etc/$NAME/jobs /usr/lib/systemd/system/$NAME.service; do
  [ "$(mode "$f")" = 644 ] || bad "$f: mode $(mode "$f")"
done
for s in postinst prerm postrm; do
  [ "$(stat -c %a "$work/control/$s")" = 755 ] || bad "control $s is not 0755"
done
grep -q 'adduser --system' "$work/control/postinst" && ok "postinst makes a system user" || bad "postinst: no adduser --system"
grep -q 'purge' "$work/control/postrm" && ok "postrm handles purge" || bad "postrm: no purge"
doc=/usr/share/doc/$PKG
[ -f "$work/root$doc/copyright" ] && ok "$doc/copyright" || bad "no $doc/copyright"

# gzip9n FILE: a gzip member without a name or a time, written at best compression.
gzip9n() {
  local h
  h=$(od -An -tx1 -N10 "$1" | tr -d ' \n')
  # bytes: 1f 8b 08 FLG MTIME(4) XFL OS; FLG 00 (no name), MTIME 0, XFL 02 (slowest, -9)
  [[ $h == 1f8b08000000000002* ]] && gzip -t "$1"
}
for f in "$doc/changelog.Debian.gz" /usr/share/man/man1/$NAME.1.gz; do
  if [ ! -f "$work/root$f" ]; then
    bad "no $f"
  elif gzip9n "$work/root$f"; then
    ok "$f: gzip -9n"
  else
    bad "$f is not gzip -9n ($(od -An -tx1 -N10 "$work/root$f"))"
  fi
done
top=$(zcat "$work/root$doc/changelog.Debian.gz" | head -1)
[[ $top == "$PKG ($deb_version) "* ]] && ok "changelog: $top" || bad "changelog's first entry '$top' is not $PKG ($deb_version)"

# ---- the .rpm ----
rpmq() { rpm -qp --nosignature "$@" "$rpm" 2>/dev/null; }
rpmq --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' | awk '$1 !~ /^d/ { print $2 }' | sort >"$work/rpm.files"
if cmp -s "$work/deb.files" "$work/rpm.files"; then
  ok "the .rpm holds the .deb's $(wc -l <"$work/deb.files") files"
else
  bad "the .rpm and the .deb hold different files: $(diff "$work/deb.files" "$work/rpm.files" | grep '^[<>]' | tr '\n' ' ')"
fi
rpmq --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' | awk '$2 ~ /c/ && $2 ~ /n/ { print $1 }' |
  sort >"$work/rpm.config"
cmp -s "$work/rpm.config" "$work/conffiles" && ok "rpm: %config(noreplace) are the conffiles" ||
  bad "rpm %config(noreplace): $(tr '\n' ' ' <"$work/rpm.config"), want $(tr '\n' ' ' <"$work/conffiles")"
rpm_mode=$(rpmq --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' | awk -v f="/etc/default/$NAME" '$2 == f { print $1 }')
[ "$rpm_mode" = "-rw-r-----" ] && ok "rpm: /etc/default/$NAME -rw-r-----" || bad "rpm: /etc/default/$NAME is $rpm_mode"
rpmq --scripts >"$work/rpm.scripts"
grep -q 'useradd -r' "$work/rpm.scripts" && ok "rpm %pre makes a system user" || bad "rpm: no useradd -r in the scriptlets"
for lib in libcurl.so.4 libmicrohttpd.so.12 libyaml-0.so.2 libcrypto.so.3; do
  rpmq --requires | grep -q "^$lib()" || bad "rpm Requires lacks $lib (autoreq)"
done
[ "$(rpmq --qf '%{VERSION}')" = "$version" ] || bad "rpm version $(rpmq --qf '%{VERSION}') is not $version"

[ "$fail" -eq 0 ] && echo "package_check: OK"
exit "$fail"
