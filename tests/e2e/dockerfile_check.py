#!/usr/bin/env python3
"""Static checks of the Dockerfile, for machines with no image builder.

usage: dockerfile_check.py DOCKERFILE DEBIAN_CONTROL BINARY

Fails (exit 1, one line per problem) when:
  - a line is no Dockerfile instruction, or a continuation runs off the end;
  - a COPY --from names no earlier stage; the last stage has no USER, or
    runs as root; its ENTRYPOINT is not the exec (JSON) form of
    traffic-reproducer;
  - the build stage does not install a Build-Depends package of
    debian/control (but debhelper and the test-only ones, <!nocheck>);
  - the runtime stage does not install the Debian package of a shared
    library that BINARY (built on this Debian host) needs, but libc's,
    which the base image has, and the sanitizers' runtimes (a test build's).
"""
import json
import re
import subprocess
import sys

INSTRUCTIONS = {"FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY",
                "ENTRYPOINT", "VOLUME", "USER", "WORKDIR", "ARG", "ONBUILD",
                "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER"}


def instructions(path):
    """(line number, keyword, arguments) of each instruction, continuations joined."""
    out, pending, start = [], None, 0
    for n, line in enumerate(open(path), 1):
        line = line.rstrip("\n")
        if pending is None and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if pending is not None and line.lstrip().startswith("#"):
            continue
        text = line[:-1] if line.endswith("\\") else line
        if pending is None:
            pending, start = text, n
        else:
            pending += " " + text.strip()
        if not line.endswith("\\"):
            word, _, args = pending.strip().partition(" ")
            out.append((start, word.upper(), args.strip()))
            pending = None
    if pending is not None:
        out.append((start, "<unterminated>", pending))
    return out


def apt_packages(run_args):
    """The packages an `apt-get install` in a RUN line names."""
    pkgs = []
    for cmd in re.split(r"&&|;", run_args):
        words = cmd.split()
        if "apt-get" in words and "install" in words:
            pkgs += [w for w in words[words.index("install") + 1:] if not w.startswith("-")]
    return set(pkgs)


def build_depends(control):
    text = open(control).read()
    m = re.search(r"^Build-Depends:(.*?)(?=^\S)", text, re.M | re.S)
    deps = set()
    for item in m.group(1).split(","):
        item = item.strip()
        if not item or "<!nocheck>" in item:
            continue
        name = re.split(r"[\s(]", item)[0]
        if not name.startswith("debhelper"):
            deps.add(name)
    return deps


def needed_packages(binary):
    """Debian package of each shared library the binary needs, but libc6."""
    dyn = subprocess.run(["objdump", "-p", binary], capture_output=True, text=True, check=True).stdout
    sonames = re.findall(r"^\s*NEEDED\s+(\S+)", dyn, re.M)
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
    pkgs = {}
    for so in sonames:
        path = paths.get(so, so)
        # /lib is a link to /usr/lib on Debian 12, and dpkg knows each file by one of the two names.
        for name in (path, re.sub(r"^/lib/", "/usr/lib/", path), re.sub(r"^/usr/lib/", "/lib/", path)):
            q = subprocess.run(["dpkg", "-S", name], capture_output=True, text=True)
            if q.returncode == 0:
                break
        if q.returncode != 0:
            sys.exit(f"dockerfile_check: no Debian package owns {so} ({paths.get(so)})")
        pkg = q.stdout.split(":")[0]
        # libc's is the base image's; a sanitized test build's runtimes are no release's.
        if pkg != "libc6" and not re.match(r"lib(a|ub|l|t|hwa)san\.so", so):
            pkgs[so] = pkg
    return pkgs


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    dockerfile, control, binary = sys.argv[1:]
    problems, stages = [], []   # stages: [name, [instructions]]
    for n, word, args in instructions(dockerfile):
        if word not in INSTRUCTIONS:
            problems.append(f"line {n}: {word!r} is no Dockerfile instruction")
            continue
        if word == "FROM":
            m = re.match(r"(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$", args, re.I)
            if not m:
                problems.append(f"line {n}: FROM {args!r}: expected IMAGE [AS NAME]")
                continue
            stages.append([m.group(2), []])
            continue
        if not stages:
            problems.append(f"line {n}: {word} before any FROM")
            continue
        m = re.search(r"--from=(\S+)", args) if word == "COPY" else None
        if m and m.group(1) not in [s[0] for s in stages[:-1]]:
            problems.append(f"line {n}: COPY --from={m.group(1)} names no earlier stage")
        stages[-1][1].append((n, word, args))
    if len(stages) < 2:
        problems.append("expected a build stage and a runtime stage")
    else:
        build, final = stages[0][1], stages[-1][1]
        users = [a for _, w, a in final if w == "USER"]
        if not users or users[-1].split(":")[0] in ("root", "0"):
            problems.append("the runtime stage runs as root (no USER, or USER root)")
        entry = [a for _, w, a in final if w == "ENTRYPOINT"]
        try:
            ok = bool(entry) and json.loads(entry[-1])[0] == "traffic-reproducer"
        except (ValueError, IndexError):
            ok = False
        if not ok:
            problems.append('the runtime stage needs ENTRYPOINT ["traffic-reproducer"] (exec form)')
        build_pkgs = set().union(*(apt_packages(a) for _, w, a in build if w == "RUN"))
        for dep in sorted(build_depends(control) - build_pkgs):
            problems.append(f"the build stage does not install {dep} (Build-Depends of debian/control)")
        run_pkgs = set().union(*(apt_packages(a) for _, w, a in final if w == "RUN"))
        for so, pkg in sorted(needed_packages(binary).items()):
            if pkg not in run_pkgs:
                problems.append(f"the runtime stage does not install {pkg}, which has {so}")
    for p in problems:
        print(f"{dockerfile}: {p}")
    if problems:
        return 1
    print(f"dockerfile_check: {len(stages)} stages; the build stage has debian/control's "
          f"build dependencies, the runtime stage the libraries {binary} needs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
