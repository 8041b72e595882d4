#!/usr/bin/env bash
# The man page and --help describe the same command line, compared both ways so that a new
# flag cannot miss either:
#   1. every flag of `elb_job_exporter --help` is in the man page's SYNOPSIS and has an entry
#      in its OPTIONS, written the same (--flag=VALUE, --[no-]flag, --flag), and the man page
#      has no flag that --help lacks;
#   2. a default that --help shows, "(default: X)", is the man entry's default, and the other
#      way round;
#   3. the variables of --help's Environment section are the man page's ENVIRONMENT entries.
# The man page is compared as groff renders it (the built roff, not its scdoc source), so
# whatever produced the roff, what a reader sees is what is checked.
#
# Usage: man_check.sh check EXPORTER MAN_ROFF WORK_DIR
#        man_check.sh self-test EXPORTER MAN_ROFF WORK_DIR
# self-test runs the check on broken copies (a flag dropped from OPTIONS, one dropped from
# SYNOPSIS, a flag --help gained, another value name, another default, a variable dropped)
# and fails unless each is caught.
set -euo pipefail

[ $# -eq 4 ] || { echo "usage: $0 check|self-test EXPORTER MAN_ROFF WORK_DIR" >&2; exit 2; }
mode=$1 exporter=$2 roff=$3 work=$4
rm -rf "$work" && mkdir -p "$work"

# render ROFF OUT: plain text, one line per paragraph, no hyphenation, no page headers.
render() {
  groff -man -Tutf8 -P-cbou -rLL=2000n -rHY=0 -rcR=1 "$1" >"$2" 2>"$2.err"
  if [ -s "$2.err" ]; then
    echo "groff warns about $1:"
    cat "$2.err"
    return 1
  fi
}

# section TEXT NAME: the lines of man section NAME (a line of capitals at column 0 opens one).
section() {
  awk -v name="$2" '/^[A-Z][A-Z ]*$/ { on = ($0 == name); next } on' "$1"
}

# help_flags HELP: "SPEC<TAB>DEFAULT" for each flag of --help (DEFAULT may be empty).
help_flags() {
  awk '
    function flush() {
      if (spec != "") {
        d = ""
        if (match(text, /\(default: [^)]*\)/)) d = substr(text, RSTART + 10, RLENGTH - 11)
        print spec "\t" d
      }
      spec = ""; text = ""
    }
    /^Flags:$/ { on = 1; next }
    on && /^$/ { flush(); on = 0 }
    on && /^  --/ { flush(); spec = $1; next }
    on && spec != "" { sub(/^ +/, ""); text = text " " $0 }
    END { flush() }' "$1" | sed 's/  */ /g'
}

# man_options MAN_TXT: "SPEC<TAB>DEFAULT" for each entry of OPTIONS (tag lines at column 7).
man_options() {
  section "$1" OPTIONS | awk '
    function flush() {
      if (spec != "") {
        d = ""
        if (match(text, /\(default: [^)]*\)/)) d = substr(text, RSTART + 10, RLENGTH - 11)
        print spec "\t" d
      }
      spec = ""; text = ""
    }
    /^       --/ { flush(); spec = $1; next }
    /^           / && spec != "" { sub(/^ +/, ""); text = text " " $0; next }
    /^[^ ]/ || /^   [^ ]/ { flush() }
    END { flush() }' | sed 's/  */ /g'
}

# synopsis_flags MAN_TXT: each flag of SYNOPSIS, as --flag=VALUE, --[no-]flag or --flag.
synopsis_flags() {
  section "$1" SYNOPSIS | grep -oE -- '--(\[no-\])?[a-z][a-z0-9.-]*(=[A-Z_/]+)?' || true
}

# env_vars TEXT: OS_* names in TEXT.
env_vars() { grep -oE 'OS_[A-Z_]+' | sort -u; }

# compare NAME_A FILE_A NAME_B FILE_B WHAT: lines of A missing from B and the other way.
compare() {
  local bad=0 line
  while IFS= read -r line; do
    echo "FAIL $5 $line: in $1, not in $3"
    bad=1
  done < <(comm -23 <(sort -u "$2") <(sort -u "$4"))
  while IFS= read -r line; do
    echo "FAIL $5 $line: in $3, not in $1"
    bad=1
  done < <(comm -13 <(sort -u "$2") <(sort -u "$4"))
  return "$bad"
}

# check HELP_TXT MAN_TXT DIR: 0 when they agree; prints every difference.
check() {
  local help=$1 man=$2 d=$3 fail=0 n
  mkdir -p "$d"
  help_flags "$help" >"$d/help.tsv"
  man_options "$man" >"$d/man.tsv"
  synopsis_flags "$man" >"$d/synopsis"
  n=$(wc -l <"$d/help.tsv")
  if [ "$n" -lt 10 ]; then
    echo "FAIL --help lists $n flags: the parser no longer understands it"
    return 1
  fi
  cut -f1 "$d/help.tsv" >"$d/help.flags"
  cut -f1 "$d/man.tsv" >"$d/man.flags"
  compare "--help" "$d/help.flags" "the man page's SYNOPSIS" "$d/synopsis" flag || fail=1
  compare "--help" "$d/help.flags" "the man page's OPTIONS" "$d/man.flags" flag || fail=1
  # Defaults: "--flag=V (default: D)" lines, compared like the flags.
  sed 's/\t/ (default: /; s/$/)/; s/ (default: )$//' "$d/help.tsv" >"$d/help.defaults"
  sed 's/\t/ (default: /; s/$/)/; s/ (default: )$//' "$d/man.tsv" >"$d/man.defaults"
  compare "--help" <(grep -F '(default:' "$d/help.defaults" || true) "the man page" \
    <(grep -F '(default:' "$d/man.defaults" || true) default || fail=1
  # Environment.
  sed -n '/^Environment/,/^$/p' "$help" | env_vars >"$d/help.env"
  section "$man" ENVIRONMENT | env_vars >"$d/man.env"
  if [ ! -s "$d/help.env" ]; then
    echo "FAIL --help names no OS_* variable: the parser no longer understands it"
    fail=1
  fi
  compare "--help's Environment" "$d/help.env" "the man page's ENVIRONMENT" "$d/man.env" \
    variable || fail=1
  [ "$fail" -eq 0 ] && echo "ok   $n flags, their defaults and $(wc -l <"$d/help.env") variables agree"
  return "$fail"
}

"$exporter" --help >"$work/help.txt" || { echo "FAIL $exporter --help failed"; exit 1; }
render "$roff" "$work/man.txt" || { echo "FAIL groff could not render $roff"; exit 1; }

if [ "$mode" = check ]; then
  check "$work/help.txt" "$work/man.txt" "$work/check"
  exit
fi
[ "$mode" = self-test ] || { echo "unknown mode $mode" >&2; exit 2; }

# The real pair must pass, or the broken copies prove nothing.
check "$work/help.txt" "$work/man.txt" "$work/real" >/dev/null ||
  { echo "FAIL the real man page and --help disagree (run the man_page test)"; exit 1; }

fail=0
# mutant NAME FILE_KIND SED: a broken copy of the help (help) or the man text (man) must fail.
mutant() {
  local name=$1 kind=$2 expr=$3 h=$work/help.txt m=$work/man.txt
  if [ "$kind" = help ]; then
    h=$work/$name.help
    sed "$expr" "$work/help.txt" >"$h"
    cmp -s "$h" "$work/help.txt" && { echo "FAIL self-test $name: the edit changed nothing"; fail=1; return; }
  else
    m=$work/$name.man
    sed "$expr" "$work/man.txt" >"$m"
    cmp -s "$m" "$work/man.txt" && { echo "FAIL self-test $name: the edit changed nothing"; fail=1; return; }
  fi
  if check "$h" "$m" "$work/$name" >"$work/$name.out"; then
    echo "FAIL self-test $name: the check passed"
    fail=1
  else
    echo "ok   self-test $name: caught ($(head -1 "$work/$name.out"))"
  fi
}
mutant options-lost man '/^       --jobs\.max=N$/d'
mutant synopsis-lost man '/^SYNOPSIS/,/^[A-Z]/s/ \[--poll\.timeout=DURATION\]//'
mutant help-gained help 's/^  --jobs\.max=N$/  --jobs.max=N\n      Tracked jobs.\n  --shard=I\/N\n      Poll one shard./'
mutant value-name man '/^OPTIONS/,/^[A-Z]/s/^       --poll\.interval=DURATION$/       --poll.interval=DUR/'
mutant bool-form man '/^OPTIONS/,/^[A-Z]/s/^       --\[no-\]once$/       --once/'
mutant default help 's/(default: 15s)/(default: 30s)/'
mutant env-lost man '/^ENVIRONMENT/,/^[A-Z]/s/OS_PASSWORD/OS_PASSWD/'
[ "$fail" -eq 0 ] && echo "man_check self-test: OK"
exit "$fail"
