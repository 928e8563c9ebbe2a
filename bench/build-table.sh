#!/usr/bin/env bash
# bench/build-table.sh [RESULTS_TSV]: the markdown table of bench/build.sh
# from the shared harness's results file (default $BENCH_WORK/results.tsv):
# per scenario and mode, each builder's median wall time (min-max, runs),
# its peak memory, and BuildKit's median divided by it ("x faster than
# BuildKit"). Successful runs only; MAX_OTHER=S drops runs during which the
# rest of the machine used more than S cpu-seconds.
set -euo pipefail
results=${1:-${BENCH_WORK:-/var/tmp/bench-work-build}/results.tsv}
exec python3 - "$results" "${MAX_OTHER:-}" <<'PYTHON'
import csv, statistics, sys

path, max_other = sys.argv[1], sys.argv[2]
rows = list(csv.DictReader(open(path), delimiter="\t"))
names = {"custom": "strata", "buildkit": "BuildKit", "buildah": "buildah"}
order = ["custom", "buildkit", "buildah"]

def number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None

runs = {}
for row in rows:
    if row["rc"] != "0":
        continue
    other = number(row.get("other_cpu_s"))
    if max_other and other is not None and other > float(max_other):
        continue
    runs.setdefault((row["scenario"], row["mode"]), {}).setdefault(row["builder"], []).append(row)

present = [b for b in order if any(b in per for per in runs.values())]

def seconds(text):
    return f"{text:.3f}" if text < 1 else f"{text:.2f}"

def megabytes(kilobytes):
    values = [v for v in kilobytes if v is not None]
    return f"{statistics.median(values) / 1024:.0f}" if values else "-"

header = ["scenario", "mode"]
for b in present:
    header.append(f"{names[b]} s median (min-max) n")
for b in present:
    if b != "buildkit" and "buildkit" in present:
        header.append(f"{names[b]}: x faster than BuildKit")
header.append("peak memory MB " + " / ".join(
    "BuildKit (CLI + dockerd)" if b == "buildkit" else names[b] for b in present))
header.append("other CPU s")
print("| " + " | ".join(header) + " |")
print("|" + "---|" * len(header))

for (scenario, mode) in sorted(runs):
    per = runs[(scenario, mode)]
    medians = {}
    cells = [scenario, mode]
    for b in present:
        times = [number(r["seconds"]) for r in per.get(b, [])]
        if not times:
            cells.append("-")
            continue
        medians[b] = statistics.median(times)
        cells.append(f"**{seconds(medians[b])}** ({seconds(min(times))}-{seconds(max(times))}) {len(times)}")
    for b in present:
        if b != "buildkit" and "buildkit" in present:
            if b in medians and "buildkit" in medians:
                cells.append(f"{medians['buildkit'] / medians[b]:.1f}x")
            else:
                cells.append("-")
    memory = []
    for b in present:
        client = [number(r["client_maxrss_kb"]) for r in per.get(b, [])]
        if b == "buildkit":
            daemon = [number(r["daemon_peak_rss_kb"]) for r in per.get(b, [])]
            memory.append(f"{megabytes(client)} + {megabytes(daemon)}")
        else:
            memory.append(megabytes(client))
    cells.append(" / ".join(memory))
    others = [number(r.get("other_cpu_s")) for b in per for r in per[b]]
    others = [o for o in others if o is not None]
    cells.append(f"{statistics.median(others):.2f}" if others else "-")
    print("| " + " | ".join(cells) + " |")

targets = [("s2-noop", "warm", 10, "no-op rebuild at least 10x faster"),
           ("s3-edit", "edit", 3, "one-file edit at least 3x faster"),
           ("s1-cold", "cold", 1, "cold build faster")]
lines = []
for scenario, mode, factor, text in targets:
    per = runs.get((scenario, mode), {})
    if "custom" in per and "buildkit" in per:
        ratio = statistics.median(number(r["seconds"]) for r in per["buildkit"]) / \
            statistics.median(number(r["seconds"]) for r in per["custom"])
        met = ratio >= factor if factor > 1 else ratio > 1
        verdict = "met" if met else "NOT met"
        lines.append(f"{scenario} ({text}): {ratio:.1f}x, {verdict}")
if lines:
    print()
    print("Targets against BuildKit (medians): " + "; ".join(lines) + ".")

# The time from the last RUN's RUN-DONE line to the end of the build: the
# layer's commit, the image and its name (s5: one ~410 MB layer).
after = []
for (scenario, mode), per in sorted(runs.items()):
    cells = []
    for b in present:
        values = [number(r["after_marker_s"]) for r in per.get(b, [])]
        values = [v for v in values if v is not None]
        if values:
            cells.append(f"{names[b]} {statistics.median(values):.2f} s")
    if cells:
        after.append(f"{scenario} {mode}: " + ", ".join(cells))
if after:
    print()
    print("After the last RUN's output to the end of the build (commit, image, name; medians): "
          + "; ".join(after) + ".")
PYTHON
