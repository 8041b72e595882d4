#!/usr/bin/env python3
"""packaging/Dockerfile, read the way a reviewer would, since no container engine runs here.

Checks:
  1. every stage is FROM debian:bookworm-slim; the build stage installs dev.sh's
     BUILD_PACKAGES (but git and ca-certificates: the context has no .git) and makes the .deb
     with CPack;
  2. the runtime stage puts files in place only by installing that .deb: its one COPY takes
     the .deb from the build stage into /tmp, a RUN installs it with apt-get and deletes it,
     and its other RUN steps only add the user; no ADD, no other COPY, no command that
     writes files. So the image holds the .deb's files (dpkg-deb -c) and no others;
  3. what the image runs is in the .deb: ENTRYPOINT is the .deb's binary, CMD's
     --config.file is the .deb's config file, --storage.path and VOLUME are the unit's
     state directory;
  4. a non-root numeric USER (the uid the Dockerfile gives the user, so that Kubernetes'
     runAsNonRoot can check it), EXPOSE 39123, a HEALTHCHECK on /-/healthy at that port
     that needs nothing the image lacks (no curl, no wget).
--self-test runs the checks on broken copies of the Dockerfile and fails unless each is
caught.

Usage: dockerfile_check.py [--self-test] DOCKERFILE DEB DEV_SH UNIT
"""
import json
import re
import shlex
import subprocess
import sys

PORT = "39123"
BASE = "debian:bookworm-slim"
NOT_IN_CONTEXT = {"git", "ca-certificates"}
# Commands a runtime-stage RUN may use: none of them writes a file of its own choosing.
RUN_ALLOWED = {"apt-get", "groupadd", "useradd", "rm"}


def instructions(text):
    """[(INSTRUCTION, argument text)] with continuations joined and comments dropped."""
    out, cur = [], ""
    for line in text.splitlines():
        if not cur and re.match(r"\s*#", line):
            continue
        if re.match(r"\s*#", line):  # a comment inside a continued instruction
            continue
        if line.rstrip().endswith("\\"):
            cur += line.rstrip()[:-1] + " "
            continue
        cur += line
        if cur.strip():
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def stages(ins):
    """[{"from": image, "name": alias or None, "ins": [...]}]."""
    out = []
    for word, rest in ins:
        if word == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) >= 3 and parts[1].upper() == "AS" else None
            out.append({"from": parts[0], "name": name, "ins": []})
        elif out:
            out[-1]["ins"].append((word, rest))
    return out


def exec_form(rest):
    """An instruction's exec (JSON) form as a list, else None."""
    try:
        v = json.loads(rest)
    except ValueError:
        return None
    return v if isinstance(v, list) and all(isinstance(x, str) for x in v) else None


def commands(run):
    """The simple commands of a shell-form RUN, as word lists."""
    cmds = []
    for part in re.split(r"&&|\|\||;", run):
        words = shlex.split(part)
        while words and re.match(r"^[A-Z_]+=", words[0]):  # VAR=value prefixes
            words.pop(0)
        if words:
            cmds.append(words)
    return cmds


def check(text, deb_files, build_packages, unit):
    """Problems found, as strings (empty: all good)."""
    bad = []
    st = stages(instructions(text))
    if len(st) < 2:
        return ["want a multi-stage build (a build stage and a runtime stage)"]
    for s in st:
        if s["from"] != BASE:
            bad.append(f"FROM {s['from']}: want {BASE}")
    build, runtime = st[:-1], st[-1]
    names = {s["name"] for s in build if s["name"]}

    # 1. the build stage
    build_runs = " ".join(r for s in build for w, r in s["ins"] if w == "RUN")
    installed = set()
    for cmd in commands(build_runs):
        if cmd[:2] == ["apt-get", "install"]:
            installed |= {w for w in cmd[2:] if not w.startswith("-")}
    for p in sorted(set(build_packages) - NOT_IN_CONTEXT - installed):
        bad.append(f"the build stage does not install {p} (dev.sh's BUILD_PACKAGES)")
    if not re.search(r"\bcpack -G DEB\b", build_runs):
        bad.append("the build stage does not make the .deb with cpack -G DEB")

    # 2. the runtime stage installs the .deb and nothing else
    deb_glob = None
    for word, rest in runtime["ins"]:
        if word == "ADD":
            bad.append(f"ADD {rest}: the runtime stage must take files only from the .deb")
        elif word == "COPY":
            m = re.fullmatch(r"--from=(\S+)\s+(\S+\.deb)\s+/tmp/", rest)
            if not m or m.group(1) not in names or deb_glob:
                bad.append(f"COPY {rest}: the runtime stage may copy one .deb from the build stage to /tmp/")
            else:
                deb_glob = "/tmp/" + m.group(2).rsplit("/", 1)[-1]
    if not deb_glob:
        bad.append("the runtime stage copies no .deb from the build stage")
    deb_installed = deb_removed = False
    for word, rest in runtime["ins"]:
        if word != "RUN":
            continue
        if exec_form(rest) is not None:
            bad.append(f"RUN {rest}: use the shell form, so that this check can read it")
            continue
        if re.search(r"(^|[^0-9&<])>", rest) or "tee " in rest:
            bad.append(f"RUN {rest}: writes a file")
        for cmd in commands(rest):
            if cmd[0] not in RUN_ALLOWED:
                bad.append(f"RUN: '{' '.join(cmd)}': only {sorted(RUN_ALLOWED)} may run here")
            elif cmd[0] == "apt-get" and cmd[1:2] == ["install"]:
                pkgs = [w for w in cmd[2:] if not w.startswith("-")]
                if pkgs != [deb_glob]:
                    bad.append(f"apt-get install {' '.join(pkgs)}: install only {deb_glob} (its dependencies come with it)")
                else:
                    deb_installed = True
            elif cmd[0] == "rm" and deb_glob in cmd:
                deb_removed = True
    if deb_glob and not deb_installed:
        bad.append(f"the runtime stage does not apt-get install {deb_glob}")
    if deb_glob and not deb_removed:
        bad.append(f"the runtime stage leaves {deb_glob} in the image")

    # 3. what the image runs is in the .deb
    last = {}
    for word, rest in runtime["ins"]:
        last[word] = rest
    entry = exec_form(last.get("ENTRYPOINT", "")) or []
    cmd = exec_form(last.get("CMD", "")) or []
    if len(entry) != 1 or entry[0] not in deb_files:
        bad.append(f"ENTRYPOINT {entry}: want the .deb's binary, one of {sorted(f for f in deb_files if '/bin/' in f)}")
    flags = dict(a[2:].split("=", 1) for a in cmd if a.startswith("--") and "=" in a)
    if flags.get("config.file") not in deb_files:
        bad.append(f"CMD --config.file={flags.get('config.file')}: not a file of the .deb")
    state = "/var/lib/" + unit["StateDirectory"]
    if flags.get("storage.path") != state:
        bad.append(f"CMD --storage.path={flags.get('storage.path')}: want the unit's {state}")
    if last.get("VOLUME", "").strip('[]" ') != state:
        bad.append(f"VOLUME {last.get('VOLUME')}: want {state}")

    # 4. user, port, health check
    user = last.get("USER", "")
    m = re.fullmatch(r"(\d+)(?::(\d+))?", user)
    if not m or m.group(1) == "0":
        bad.append(f"USER {user!r}: want a numeric non-root uid (Kubernetes' runAsNonRoot checks it)")
    else:
        runs = " ".join(r for w, r in runtime["ins"] if w == "RUN")
        if not re.search(r"useradd\b[^&;]*--uid " + m.group(1) + r"\b[^&;]*\belb_job_exporter\b", runs):
            bad.append(f"USER {user}: no useradd --uid {m.group(1)} elb_job_exporter before the .deb")
    if PORT not in last.get("EXPOSE", "").split():
        bad.append(f"EXPOSE {last.get('EXPOSE')}: want {PORT}")
    hc = last.get("HEALTHCHECK", "")
    hc_cmd = exec_form(hc.split("CMD", 1)[1].strip()) if "CMD" in hc else None
    if not hc_cmd:
        bad.append(f"HEALTHCHECK {hc!r}: want a CMD in exec form")
    else:
        joined = " ".join(hc_cmd)
        if "/-/healthy" not in joined or PORT not in joined:
            bad.append(f"HEALTHCHECK {joined}: want GET /-/healthy on port {PORT}")
        if re.search(r"\b(curl|wget)\b", joined):
            bad.append(f"HEALTHCHECK {joined}: the image has no curl or wget")
        if hc_cmd[0] not in ("bash", "/bin/bash", "/usr/bin/bash"):
            bad.append(f"HEALTHCHECK runs {hc_cmd[0]}: only bash is known to be in the image")
    return bad


def deb_file_list(deb):
    out = subprocess.run(["dpkg-deb", "-c", deb], check=True, capture_output=True, text=True).stdout
    files = set()
    for line in out.splitlines():
        mode, path = line.split()[0], line.split()[5]
        if not mode.startswith("d"):
            files.add(path.lstrip("."))
    return files


def dev_build_packages(dev_sh):
    text = open(dev_sh, encoding="utf-8").read()
    m = re.search(r"^BUILD_PACKAGES=\((.*?)^\)", text, re.S | re.M)
    return m.group(1).split() if m else []


def unit_settings(unit_path):
    out = {}
    for line in open(unit_path, encoding="utf-8"):
        if "=" in line and not line.startswith(("#", ";")):
            k, v = line.rstrip("\n").split("=", 1)
            out.setdefault(k, v)
    return out


def self_test(text, deb_files, build_packages, unit):
    """Broken copies that check() must reject."""
    mutants = {
        "extra COPY": text.replace("USER 10001:10001", "COPY packaging/config.yml /etc/elb_job_exporter/\nUSER 10001:10001"),
        "ADD": text.replace("USER 10001:10001", "ADD https://example.org/x /usr/bin/x\nUSER 10001:10001"),
        "curl in health check": text.replace('CMD ["bash", "-c", "exec 3<>', 'CMD ["curl", "-f", "http://127.0.0.1:39123/-/healthy", "exec 3<>'),
        "root user": text.replace("USER 10001:10001", "USER root"),
        "no EXPOSE": text.replace("EXPOSE 39123\n", ""),
        "other base": text.replace("FROM debian:bookworm-slim\n", "FROM debian:bookworm\n"),
        "extra package": text.replace("      /tmp/elb-job-exporter_*.deb \\", "      /tmp/elb-job-exporter_*.deb curl \\"),
        "writes a file": text.replace(" && rm -rf /tmp/elb-job-exporter_", " && echo x > /etc/elb_job_exporter/config.yml && rm -rf /tmp/elb-job-exporter_"),
        "binary not from the .deb": text.replace('ENTRYPOINT ["/usr/bin/elb_job_exporter"]', 'ENTRYPOINT ["/usr/local/bin/elb_job_exporter"]'),
        "build dependency lost": text.replace(" libyaml-dev ", " "),
        "other state dir": text.replace("VOLUME /var/lib/elb_job_exporter", "VOLUME /data"),
    }
    fails = 0
    for name, broken in mutants.items():
        if broken == text:
            print(f"FAIL self-test {name}: the edit changed nothing")
            fails += 1
            continue
        problems = check(broken, deb_files, build_packages, unit)
        if problems:
            print(f"ok   self-test {name}: caught ({problems[0]})")
        else:
            print(f"FAIL self-test {name}: the check passed")
            fails += 1
    return fails


def main(argv):
    selftest = "--self-test" in argv
    args = [a for a in argv if a != "--self-test"]
    if len(args) != 4:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    dockerfile, deb, dev_sh, unit_path = args
    text = open(dockerfile, encoding="utf-8").read()
    deb_files = deb_file_list(deb)
    build_packages = dev_build_packages(dev_sh)
    unit = unit_settings(unit_path)
    if not build_packages:
        print(f"FAIL no BUILD_PACKAGES in {dev_sh}")
        return 1
    problems = check(text, deb_files, build_packages, unit)
    if selftest:
        if problems:
            print("FAIL the real Dockerfile fails the check (run the dockerfile test)")
            return 1
        fails = self_test(text, deb_files, build_packages, unit)
        if not fails:
            print("dockerfile_check self-test: OK")
        return 1 if fails else 0
    for p in problems:
        print(f"FAIL {p}")
    if problems:
        return 1
    print(f"ok   the image installs the .deb and nothing else: {len(deb_files)} files")
    for f in sorted(deb_files):
        print(f"       {f}")
    print("ok   FROM debian:bookworm-slim, non-root numeric USER, EXPOSE 39123, HEALTHCHECK on /-/healthy")
    print("dockerfile_check: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
