#!/usr/bin/env bash
# strata build vs docker build (BuildKit) vs buildah, on every scenario of
# ../shared/bench (or the SCENARIO:MODE arguments), in one interleaved run,
# through the shared harness (run.sh/collect.sh; strata is its `custom`
# builder). Prints a markdown table of wall times and peak memory with the
# ratios against BuildKit (bench/build-table.sh), the s6 stage overlap, and
# the targets.
#
# Usage: bench/build.sh [-n RUNS] [-b "strata buildkit buildah"] [SCENARIO:MODE ...]
#   RUNS defaults to 5; builders that are not installed (or whose store lacks
#   the base image) are left out with a note.
# Environment:
#   STRATA_ROOT       strata's store for the benchmark (default /var/tmp/bench-strata)
#   BENCH_WORK        the harness's work directory: contexts, logs, results.tsv
#                     (default /var/tmp/bench-work-build; an earlier results.tsv
#                     is moved aside to results-<time>.tsv)
#   BENCH_QUIET_MAX   seconds run.sh waits for a quiet machine before each
#                     timed build (default here 20; the harness's own is 60)
#   BENCH_SHARED      the harness (default ../shared/bench beside the repository,
#                     or /work/shared/bench)
#   STRATA_BIN        a strata binary to use instead of building the release one
#   MAX_OTHER         also passed to the table: drop runs during which the rest of
#                     the machine used more than this many cpu-seconds
# Needs root (RUN steps, docker, buildah). Runs `docker builder prune -af` and
# buildah's cache cleanup before cold builds, as the shared harness does.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
repo=$PWD

runs=5
builders="strata buildkit buildah"
while getopts n:b: option; do
  case $option in
    n) runs=$OPTARG ;;
    b) builders=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-b BUILDERS] [SCENARIO:MODE ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

shared=$(bench_shared run.sh)
bench_need /usr/bin/time awk sort python3 -- time gawk coreutils python3

export STRATA_ROOT=${STRATA_ROOT:-/var/tmp/bench-strata}
export BENCH_WORK=${BENCH_WORK:-/var/tmp/bench-work-build}
export BENCH_QUIET_MAX=${BENCH_QUIET_MAX:-20}
base=${BASE_IMAGE:-local/debian:bookworm-minbase}
docker=${DOCKER:-/usr/bin/docker}
mkdir -p "$BENCH_WORK"

if [ -n "${STRATA_BIN:-}" ]; then
  strata=$STRATA_BIN
else
  cargo build --release -q -p strata
  strata=$repo/target/release/strata
fi

# ---------- which builders can run ----------
selected=()
for builder in $builders; do
  case $builder in
    strata)
      if ! "$strata" inspect "$base" >/dev/null 2>&1; then
        if [ -x "$docker" ] && "$docker" image inspect "$base" >/dev/null 2>&1; then
          echo "loading $base into $STRATA_ROOT from docker" >&2
          "$docker" save "$base" | "$strata" load >&2
        elif [ -d /var/tmp/bookworm-rootfs/usr ]; then
          echo "importing /var/tmp/bookworm-rootfs into $STRATA_ROOT as $base" >&2
          SOURCE_DATE_EPOCH=0 "$strata" import /var/tmp/bookworm-rootfs "$base" >&2
        else
          echo "build.sh: $base is not in $STRATA_ROOT and there is nothing to make it from" >&2
          echo "  (debootstrap --variant=minbase bookworm /var/tmp/bookworm-rootfs)" >&2
          exit 1
        fi
      fi
      selected+=(custom) ;;
    buildkit)
      if [ -x "$docker" ] && "$docker" info >/dev/null 2>&1 && "$docker" image inspect "$base" >/dev/null 2>&1; then
        selected+=(buildkit)
      else
        echo "note: docker build (BuildKit) left out: no dockerd running or no $base in it" >&2
      fi ;;
    buildah)
      if command -v buildah >/dev/null && [ -n "$(buildah images -q "$base" 2>/dev/null)" ]; then
        selected+=(buildah)
      else
        echo "note: buildah left out: not installed or no $base in its storage" >&2
      fi ;;
    *) echo "build.sh: unknown builder $builder (strata, buildkit, buildah)" >&2; exit 2 ;;
  esac
done
[ ${#selected[@]} -gt 0 ] || { echo "build.sh: no builder to run" >&2; exit 1; }

# strata as the harness's custom builder. A cold build starts from an empty
# build cache with the base image (and its unpacked layer) kept, as
# `docker builder prune -af` leaves BuildKit.
export BUILD_CMD="exec $strata build --progress=plain -t {tag} -f {dockerfile} {context}"
export PRUNE_CMD="{ $strata rmi {tag} || true; } >/dev/null 2>&1; $strata builder prune --all --force"
export SIZE_CMD="$strata images --format '{{.Size}}' {tag}"

results=$BENCH_WORK/results.tsv
if [ -f "$results" ]; then
  mv "$results" "$BENCH_WORK/results-$(date -u +%Y%m%dT%H%M%S).tsv"
fi
started=$(date -u '+%Y-%m-%d %H:%M UTC')
echo "builders: ${selected[*]} (custom = strata); $runs rounds; results in $results" >&2
"$shared/collect.sh" -n "$runs" -b "${selected[*]}" "$@" >&2
echo "failed runs, if any, are in $BENCH_WORK/collect.err" >&2

echo "## strata build vs docker build vs buildah ($started, $runs rounds)"
echo
"$repo/bench/build-table.sh" "$results"
echo
# s6: did the two stages run at the same time? (overlap of the RUNs' own time stamps)
for builder in custom buildkit buildah; do
  logs=$(awk -F'\t' -v b="$builder" '$2 == b && $3 == "s6-parallel" && $13 == 0 {print $15}' "$results")
  [ -n "$logs" ] || continue
  name=$builder; [ "$builder" = custom ] && name=strata
  # shellcheck disable=SC2086
  "$shared/overlap.sh" $logs | awk -v n="$name" '$2 != "incomplete" && $5 > 0 {f = $4 / ($2 < $3 ? $2 : $3); s += f; c++; if (c == 1 || f < lo) lo = f}
    END {if (c) printf "s6 stage overlap, %s: %.0f%% of the shorter stage on average (lowest %.0f%%, %d runs)\n", n, 100 * s / c, 100 * lo, c}'
done
echo
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "versions: $("$strata" --version); $("$docker" version --format 'docker {{.Server.Version}}' 2>/dev/null || echo 'no docker'); $(buildah --version 2>/dev/null || echo 'no buildah')"
