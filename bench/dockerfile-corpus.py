#!/usr/bin/env python3
"""Compare strata's parse and build checks with BuildKit's on real Dockerfiles.

Every file named like a Dockerfile (`Dockerfile`, `Dockerfile.x`, `x.Dockerfile`,
`Containerfile` ...) at HEAD of each git directory given is extracted to a
temporary directory, then:

- parse: `strata parse --json -f FILE` against BuildKit's parser (`dfparse FILE`,
  the same JSON shape); the two agree when both print the same commands or both
  refuse the file;
- checks: `strata lint --buildkit --empty-base-images --format json` against
  BuildKit's build checks (`dflint FILE`: `dockerfile2llb.DockerfileLint` with
  every base image an empty config, no build args, no .dockerignore); the two
  agree when they report the same (rule, line, message) findings.

    /work/shared/peers/buildkit/up.sh GIT_DIR_OF_BUILDKIT   # builds dfparse, dflint
    cargo build --release -p strata
    bench/dockerfile-corpus.py GIT_DIR... [--strata target/release/strata] [--show 20]

The fetched Dockerfiles stay in the temporary directory, which is removed at the
end (`--keep DIR` extracts there instead and keeps them).
"""

import argparse
import collections
import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

# Names `docker build -f` users give Dockerfiles: Dockerfile, Dockerfile.dev,
# Dockerfile-alpine, dev.Dockerfile, Containerfile, Containerfile.in ...
DOCKERFILE_NAME = re.compile(
    r"^(dockerfile|containerfile)([._-].*)?$|[._-](dockerfile|containerfile)$", re.IGNORECASE)
# ... but not the source, templates and ignore files named after them.
NOT_DOCKERFILE = re.compile(
    r"\.(go|md|py|sh|bats|txt|json|ya?ml|toml|template|tmpl|j2|erb|dockerignore|tar|gz|tgz|zip)$",
    re.IGNORECASE)
# Larger files are data, not Dockerfiles (tests of size limits and the like).
MAX_BYTES = 1 << 20


def extract(git_dir, destination):
    """Writes the Dockerfiles at HEAD of `git_dir` under `destination`; returns
    (repository label, commit, paths written)."""
    git = ["git", "--git-dir", git_dir]
    commit = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    label = repository_label(git_dir)
    listing = subprocess.run(git + ["ls-tree", "-r", "-z", "-l", "HEAD"], capture_output=True,
                             check=True).stdout
    blobs = []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, blob, size = meta.split()
        path = path.decode("utf-8", "surrogateescape")
        name = os.path.basename(path)
        if kind != b"blob" or mode == b"120000" or not DOCKERFILE_NAME.search(name) \
                or NOT_DOCKERFILE.search(name):
            continue
        if size == b"-" or int(size) > MAX_BYTES:
            continue
        blobs.append((blob.decode(), path))
    written = []
    batch = subprocess.run(git + ["cat-file", "--batch"], capture_output=True, check=True,
                           input="".join(f"{blob}\n" for blob, _ in blobs).encode())
    data = batch.stdout
    for _, path in blobs:
        header_end = data.index(b"\n")
        size = int(data[:header_end].split()[2])
        content = data[header_end + 1:header_end + 1 + size]
        data = data[header_end + 1 + size + 1:]
        target = os.path.join(destination, label, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if b"\0" in content:
            continue  # binary (an archive named like a Dockerfile)
        with open(target, "wb") as file:
            file.write(content)
        written.append(target)
    return label, commit, written


def repository_label(git_dir):
    """`owner+name` for a mirror (`/work/.mirror/owner+name/repo`), else the
    directory's own name."""
    path = os.path.abspath(git_dir).rstrip("/")
    for suffix in ("/repo", "/.git"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
    return os.path.basename(path).removesuffix(".git")


def run_json(command):
    result = subprocess.run(command, capture_output=True)
    try:
        return result.returncode, json.loads(result.stdout.decode("utf-8", "replace") or "null")
    except json.JSONDecodeError:
        return result.returncode, None


def buildkit_parse(dfparse, path):
    code, output = run_json([dfparse, path])
    if code != 0 or output is None or "error" in output:
        return None
    return output["commands"]


def strata_parse(strata, path):
    code, output = run_json([strata, "parse", "--json", "-f", path])
    if code != 0 or output is None:
        return None
    return output["commands"]


def buildkit_checks(dflint, path):
    """(findings, error message or None); findings None when dflint failed."""
    code, output = run_json([dflint, path])
    if code != 0 or output is None:
        return None, "dflint failed"
    findings = collections.Counter(
        (w["rule"], w["ranges"][0]["start"]["line"] if w["ranges"] else 0, w["detail"])
        for w in output["warnings"]
    )
    error = output["error"]["message"] if output["error"] else None
    return findings, error


def strata_checks(strata, path, context):
    code, output = run_json([strata, "lint", "--buildkit", "--empty-base-images", "--format",
                             "json", "--failure-threshold", "none", "-f", path, context])
    if code != 0 or output is None:
        return None
    return collections.Counter(
        (d["rule"], d["line"], d["message"]) for d in output["diagnostics"])


def parse_diff(theirs, ours):
    """A short unified diff of the two parses (BuildKit's first)."""
    left = json.dumps(theirs, indent=1, ensure_ascii=False).splitlines() if theirs else ["<refused>"]
    right = json.dumps(ours, indent=1, ensure_ascii=False).splitlines() if ours else ["<refused>"]
    lines = list(difflib.unified_diff(left, right, "buildkit", "strata", n=1, lineterm=""))
    return lines[2:14]


def checks_diff(theirs, ours, error):
    lines = [f"  buildkit stopped: {error}"] if error else []
    for finding in sorted((theirs - ours).elements(), key=lambda f: (f[1], f[0])):
        lines.append(f"- buildkit {finding[1]}: {finding[0]}: {finding[2]}")
    for finding in sorted((ours - theirs).elements(), key=lambda f: (f[1], f[0])):
        lines.append(f"+ strata   {finding[1]}: {finding[0]}: {finding[2]}")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("git_dirs", nargs="+", metavar="GIT_DIR")
    parser.add_argument("--strata", default="target/release/strata")
    parser.add_argument("--dfparse", default="/tmp/bk/bin/dfparse")
    parser.add_argument("--dflint", default="/tmp/bk/bin/dflint")
    parser.add_argument("--show", type=int, default=30,
                        help="disagreeing files to print with a diff (default 30)")
    parser.add_argument("--keep", metavar="DIR", help="extract into DIR and keep it")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    for tool in (args.strata, args.dfparse, args.dflint):
        if not (os.path.isfile(tool) and os.access(tool, os.X_OK)):
            sys.exit(f"cannot run {tool}")

    work = args.keep or tempfile.mkdtemp(prefix="dockerfile-corpus-")
    context = os.path.join(work, ".context")  # an empty build context
    os.makedirs(context, exist_ok=True)
    try:
        files = []
        for git_dir in args.git_dirs:
            label, commit, written = extract(git_dir, work)
            print(f"{label} {commit[:12]}: {len(written)} Dockerfiles")
            files.extend(written)
        files.sort()
        report(args, work, context, files)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def report(args, work, context, files):
    def one(path):
        return (path, buildkit_parse(args.dfparse, path), strata_parse(args.strata, path),
                buildkit_checks(args.dflint, path), strata_checks(args.strata, path, context))

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, files))

    parse_agree, parse_disagree = 0, []
    check_agree, check_disagree, skipped = 0, [], collections.Counter()
    rule_counts = collections.defaultdict(collections.Counter)
    for path, bk_parse, our_parse, (bk_checks, bk_error), our_checks in results:
        name = os.path.relpath(path, work)
        if bk_parse == our_parse:
            parse_agree += 1
        else:
            parse_disagree.append((name, parse_diff(bk_parse, our_parse)))
        if bk_checks is None:
            skipped["dflint failed"] += 1
            continue
        if our_checks is None:
            # BuildKit fails such a build; strata refuses to lint it.
            if bk_parse is None or bk_error:
                skipped["both refuse the file"] += 1
            else:
                check_disagree.append((name, ["+ strata refused the file"]))
            continue
        for rule, _, _ in (bk_checks & our_checks).elements():
            rule_counts[rule]["both"] += 1
        for rule, _, _ in (bk_checks - our_checks).elements():
            rule_counts[rule]["buildkit"] += 1
        for rule, _, _ in (our_checks - bk_checks).elements():
            rule_counts[rule]["strata"] += 1
        if bk_checks == our_checks:
            check_agree += 1
        else:
            check_disagree.append((name, checks_diff(bk_checks, our_checks, bk_error)))

    total = len(results)
    compared = check_agree + len(check_disagree)
    print(f"\n{total} Dockerfiles")
    print(f"parse agreement:  {parse_agree}/{total} ({100 * parse_agree / max(total, 1):.1f}%)")
    print(f"check agreement:  {check_agree}/{compared} ({100 * check_agree / max(compared, 1):.1f}%)"
          + "".join(f"; {count} not compared: {why}" for why, count in sorted(skipped.items())))
    print(f"\n{'rule':34} {'both':>6} {'buildkit':>9} {'strata':>7}")
    for rule in sorted(rule_counts):
        counts = rule_counts[rule]
        print(f"{rule:34} {counts['both']:6} {counts['buildkit']:9} {counts['strata']:7}")
    for title, disagreements in (("parse", parse_disagree), ("checks", check_disagree)):
        if not disagreements:
            continue
        print(f"\n{len(disagreements)} files whose {title} disagree"
              + (f" (first {args.show})" if len(disagreements) > args.show else "") + ":")
        for name, diff in disagreements[: args.show]:
            print(f"  {name}")
            for line in diff:
                print(f"      {line}")


if __name__ == "__main__":
    main()
