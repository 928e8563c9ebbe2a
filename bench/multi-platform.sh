#!/usr/bin/env bash
# Two-platform build (linux/amd64 + linux/arm64, the arm64 RUN steps under
# QEMU user emulation through binfmt_misc) of the bench scenario s1 with strata
# and BuildKit v0.32 (buildkitd built from source), side by side, cold.
#
# Both builders build the same context (s1's gen.sh) with the same Dockerfile,
# whose FROM local/debian:bookworm-minbase is rewritten to a loopback
# docker-registry's REG/local/debian:bookworm-minbase: a multi-platform index
# (amd64 + arm64 Debian bookworm minbase, one layer each) pushed there once,
# untimed, by strata (each rootfs imported with `strata import --platform`,
# then `ARG TARGETARCH / FROM local/debian:$TARGETARCH` built for both
# platforms with --push).
#
# One measured run (wall time, client start to exit) is:
#   strata:   strata --root EMPTY build --no-cache --platform linux/amd64,linux/arm64
#               -f DF -o type=oci,dest=FILE CTX
#             on a new, empty store (so it pulls both bases from the registry)
#   BuildKit: buildctl build --frontend dockerfile.v0 --opt platform=linux/amd64,linux/arm64
#               --local context=CTX --local dockerfile=DF --output type=oci,dest=FILE
#             on a buildkitd with a new, empty --root, started before the clock
#             (so it pulls both bases too); with a caller's buildkitd
#             (BUILDKIT_HOST set) its cache is pruned (`buildctl prune --all`)
#             before the clock instead, and --no-cache is passed.
# Both write the OCI archive of the two-platform index to a file (removed after
# the run). Rounds interleave the builders. Prints a markdown table: builder,
# wall seconds median (min-max), notes (the RUN step's time per platform as the
# builder's progress output reports it, the archive size).
#
# Usage: bench/multi-platform.sh [-n RUNS] [-b "buildkit strata"] [-s SCENARIO] [-p PLATFORMS]
#   RUNS defaults to 3, SCENARIO to s1-cold (any scenario of ../shared/bench whose
#   Dockerfile starts FROM local/debian:bookworm-minbase), PLATFORMS to
#   linux/amd64,linux/arm64 (-p linux/arm64 or -p linux/amd64: one platform alone, to
#   see what emulation costs and what building both at once costs).
# Environment:
#   STRATA_BIN     strata binary (default: cargo build --release -p strata, target/release/strata)
#   BK             BuildKit built from source (default /tmp/bk: $BK/bin/buildkitd, $BK/bin/buildctl;
#                  ../shared/peers/buildkit/up.sh GIT_DIR makes them)
#   BUILDKIT_HOST  use the caller's buildkitd at this address instead of starting one per run;
#                  it must reach the registry over plain http: up.sh's daemon is configured for
#                  127.0.0.1:5000, so REGISTRY_PORT defaults to 5000 then
#   REGISTRY_PORT  the loopback registry's port (default: a free one; 5000 with BUILDKIT_HOST)
#   AMD64_ROOTFS   amd64 Debian bookworm minbase tree (default /var/cache/strata-test/bookworm-minbase,
#                  else /var/tmp/bookworm-rootfs)
#   ARM64_ROOTFS   arm64 one (default /var/tmp/bookworm-rootfs-arm64; made when missing with
#                  debootstrap --arch=arm64 --variant=minbase --foreign + --second-stage, under qemu)
#   WORK_PARENT    where the work directory is made (default /var/tmp)
#   BENCH_SHARED   the harness (default ../shared/bench beside the repository, or /work/shared/bench)
# Needs: root, binfmt_misc entries for aarch64 (`strata system binfmt --install`),
# docker-registry, runc, curl, python3. Everything the script starts (registry,
# buildkitds, stores) lives in a mktemp directory, removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
repo=$PWD

runs=3
builders="buildkit strata"
scenario=s1-cold
platforms=linux/amd64,linux/arm64
while getopts n:b:s:p: option; do
  case $option in
    n) runs=$OPTARG ;;
    b) builders=$OPTARG ;;
    s) scenario=$OPTARG ;;
    p) platforms=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-b \"buildkit strata\"] [-s SCENARIO] [-p PLATFORMS]" >&2; exit 2 ;;
  esac
done
for builder in $builders; do
  case $builder in buildkit|strata) ;; *) echo "multi-platform.sh: unknown builder $builder (buildkit, strata)" >&2; exit 2 ;; esac
done

[ "$(id -u)" = 0 ] || { echo "multi-platform.sh: needs root (RUN steps, buildkitd, binfmt_misc)" >&2; exit 1; }
bench_need docker-registry curl python3 runc -- docker-registry curl python3 runc
shared=$(bench_shared scenarios)
[ -n "$shared" ] && [ -f "$shared/scenarios/$scenario/Dockerfile" ] || { echo "multi-platform.sh: no scenario $scenario (set BENCH_SHARED)" >&2; exit 1; }

BK=${BK:-/tmp/bk}
case " $builders " in *" buildkit "*)
  [ -x "$BK/bin/buildctl" ] || { echo "multi-platform.sh: no $BK/bin/buildctl (../shared/peers/buildkit/up.sh GIT_DIR makes it, or set BK)" >&2; exit 1; }
  [ -n "${BUILDKIT_HOST:-}" ] || [ -x "$BK/bin/buildkitd" ] || { echo "multi-platform.sh: no $BK/bin/buildkitd and no BUILDKIT_HOST" >&2; exit 1; } ;;
esac
if [ -n "${STRATA_BIN:-}" ]; then
  strata=$STRATA_BIN
else
  cargo build --release -q -p strata >&2
  strata=$repo/target/release/strata
fi
[ -e /proc/sys/fs/binfmt_misc/strata-qemu-aarch64 ] || [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || {
  echo "multi-platform.sh: no aarch64 emulator registered in binfmt_misc (strata system binfmt --install)" >&2; exit 1; }

# ---------- the two base trees ----------
amd64_rootfs=${AMD64_ROOTFS:-}
if [ -z "$amd64_rootfs" ]; then
  for candidate in /var/cache/strata-test/bookworm-minbase /var/tmp/bookworm-rootfs; do
    [ -d "$candidate/usr" ] && { amd64_rootfs=$candidate; break; }
  done
fi
[ -n "$amd64_rootfs" ] && [ -d "$amd64_rootfs/usr" ] || {
  echo "multi-platform.sh: no amd64 minbase tree (debootstrap --variant=minbase bookworm /var/tmp/bookworm-rootfs, or set AMD64_ROOTFS)" >&2; exit 1; }
arm64_rootfs=${ARM64_ROOTFS:-/var/tmp/bookworm-rootfs-arm64}
if [ ! -x "$arm64_rootfs/usr/bin/dpkg" ] || [ -d "$arm64_rootfs/debootstrap" ]; then
  command -v debootstrap >/dev/null || { echo "multi-platform.sh: debootstrap is missing (to make $arm64_rootfs)" >&2; exit 1; }
  echo "creating $arm64_rootfs (debootstrap --arch=arm64 --variant=minbase, second stage under qemu; minutes)..." >&2
  rm -rf "$arm64_rootfs"
  debootstrap --arch=arm64 --variant=minbase --foreign bookworm "$arm64_rootfs" http://deb.debian.org/debian >&2
  chroot "$arm64_rootfs" /debootstrap/debootstrap --second-stage >&2
fi

# ---------- work directory, cleanup ----------
work=$(mktemp -d "${WORK_PARENT:-/var/tmp}/strata-multi-platform.XXXXXX")
registry_pid=""
buildkitd_pid=""
unmount_under() { # dir: whatever a killed builder left mounted there
  awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
stop_buildkitd() {
  [ -n "$buildkitd_pid" ] || return 0
  kill "$buildkitd_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$buildkitd_pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$buildkitd_pid" 2>/dev/null || true
  wait "$buildkitd_pid" 2>/dev/null || true
  buildkitd_pid=""
  unmount_under "$work/bk"
  rm -rf "$work/bk"
}
cleanup() {
  stop_buildkitd
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  unmount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- the loopback registry and the two-platform base ----------
port=${REGISTRY_PORT:-}
if [ -z "$port" ]; then
  if [ -n "${BUILDKIT_HOST:-}" ]; then port=5000
  else port=$(bench_free_port); fi
fi
registry=127.0.0.1:$port
bench_registry "$work/registry" "$registry"

base=$registry/local/debian:bookworm-minbase
echo "pushing $amd64_rootfs (amd64) and $arm64_rootfs (arm64) as the index $base..." >&2
setup=$work/setup-store
SOURCE_DATE_EPOCH=0 "$strata" --root "$setup" import --platform linux/amd64 "$amd64_rootfs" local/debian:amd64 >"$work/setup.log" 2>&1
SOURCE_DATE_EPOCH=0 "$strata" --root "$setup" import --platform linux/arm64 "$arm64_rootfs" local/debian:arm64 >>"$work/setup.log" 2>&1
mkdir -p "$work/base-df"
printf 'ARG TARGETARCH\nFROM local/debian:$TARGETARCH\n' > "$work/base-df/Dockerfile"
"$strata" --root "$setup" build --progress=plain --platform linux/amd64,linux/arm64 -t "$base" --push "$work/base-df" >>"$work/setup.log" 2>&1 \
  || { tail -20 "$work/setup.log" >&2; echo "multi-platform.sh: could not push the base index" >&2; exit 1; }
unmount_under "$setup"; rm -rf "$setup"
index_platforms=$(curl -fsS -H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json' \
  "http://$registry/v2/local/debian/manifests/bookworm-minbase" \
  | python3 -c 'import json,sys; print(" ".join(m["platform"]["os"]+"/"+m["platform"]["architecture"] for m in json.load(sys.stdin)["manifests"]))')
echo "base index: $index_platforms" >&2

# ---------- the context ----------
mkdir -p "$work/df"
sed "s#^FROM local/debian:bookworm-minbase#FROM $base#" "$shared/scenarios/$scenario/Dockerfile" > "$work/df/Dockerfile"
grep -q "^FROM $base" "$work/df/Dockerfile" || { echo "multi-platform.sh: $scenario's Dockerfile does not start FROM local/debian:bookworm-minbase" >&2; exit 1; }
sh "$shared/scenarios/$scenario/gen.sh" "$work/ctx" >/dev/null

# ---------- BuildKit ----------
printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$registry" > "$work/buildkitd.toml"
start_buildkitd() { # a buildkitd on a new, empty root
  local dir=$work/bk
  rm -rf "$dir"; mkdir -p "$dir"
  { cat "$work/buildkitd.toml"; printf '[otel]\n  socketPath = "%s"\n' "$dir/otel.sock"; } > "$dir/buildkitd.toml"
  "$BK/bin/buildkitd" --config "$dir/buildkitd.toml" --root "$dir/root" --addr "unix://$dir/buildkitd.sock" \
    --oci-worker=true --oci-worker-binary=runc --oci-worker-snapshotter=overlayfs --containerd-worker=false \
    --oci-worker-net=host >"$dir/buildkitd.log" 2>&1 </dev/null &
  buildkitd_pid=$!
  for _ in $(seq 100); do
    "$BK/bin/buildctl" --addr "unix://$dir/buildkitd.sock" debug workers >/dev/null 2>&1 && return 0
    kill -0 "$buildkitd_pid" 2>/dev/null || break
    sleep 0.1
  done
  cat "$dir/buildkitd.log" >&2; echo "multi-platform.sh: buildkitd did not start" >&2; exit 1
}
bk_addr() { if [ -n "${BUILDKIT_HOST:-}" ]; then echo "$BUILDKIT_HOST"; else echo "unix://$work/bk/buildkitd.sock"; fi; }

now() { date +%s%N; }
calc() { awk "BEGIN {printf \"%.3f\", $1}"; }

# RUN step seconds per platform from a build log (progress=plain for both):
# BuildKit: "#N [linux/arm64 4/6] RUN ..." ... "#N DONE 12.3s" ("#N [4/6] RUN" for one platform)
# strata:   its plain progress, the same shape
run_times() { # log -> "linux/amd64=12.3 linux/arm64=45.6" (a one-platform build's steps name no platform)
  awk -v only="$platforms" '
    /^#[0-9]+ \[[^]]*\] RUN / {
      split($0, a, " "); p = $0; sub(/^#[0-9]+ \[/, "", p); sub(/[ \]].*/, "", p)
      if (p !~ /^[a-z]+\//) p = only
      plat[a[1]] = p; next }
    /^#[0-9]+ DONE [0-9.]+s/ { split($0, a, " "); if (a[1] in plat) { t = a[3]; sub(/s$/, "", t); sum[plat[a[1]]] += t; delete plat[a[1]] } }
    END { for (p in sum) printf "%s=%.1f\n", p, sum[p] }' "$1" | sort | paste -sd' ' -
}

one_run() { # builder run -> appends "builder run status seconds bytes runtimes" to results
  local builder=$1 run=$2 log=$work/$1-$2.log out=$work/out-$1.tar status=ok t0 t1 bytes=0
  rm -f "$out"
  case $builder in
    buildkit)
      local nocache=()
      if [ -n "${BUILDKIT_HOST:-}" ]; then
        "$BK/bin/buildctl" --addr "$(bk_addr)" prune --all >/dev/null
        nocache=(--no-cache)
      else
        start_buildkitd
      fi
      sync; t0=$(now)
      "$BK/bin/buildctl" --addr "$(bk_addr)" build --progress=plain --frontend dockerfile.v0 \
        --local "context=$work/ctx" --local "dockerfile=$work/df" --opt "platform=$platforms" \
        "${nocache[@]}" --output "type=oci,dest=$out" >"$log" 2>&1 || status=failed
      t1=$(now)
      [ -n "${BUILDKIT_HOST:-}" ] || stop_buildkitd ;;
    strata)
      local root=$work/strata-store
      rm -rf "$root"
      sync; t0=$(now)
      "$strata" --root "$root" build --progress=plain --no-cache --platform "$platforms" \
        -f "$work/df/Dockerfile" -o "type=oci,dest=$out" "$work/ctx" >"$log" 2>&1 || status=failed
      t1=$(now)
      unmount_under "$root"; rm -rf "$root" ;;
  esac
  [ -f "$out" ] && bytes=$(stat -c %s "$out")
  rm -f "$out"
  local seconds runtimes
  seconds=$(calc "($t1 - $t0) / 1e9")
  runtimes=$(run_times "$log")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$builder" "$run" "$status" "$seconds" "$bytes" "$runtimes" >> "$work/results.tsv"
  printf '%s run %d: %s %.2f s, archive %.1f MB, RUN steps: %s\n' "$builder" "$run" "$status" "$seconds" "$(calc "$bytes / 1e6")" "${runtimes:--}" >&2
  if [ "$status" != ok ]; then echo "--- last lines of $log:" >&2; tail -15 "$log" >&2; fi
}

: > "$work/results.tsv"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
for run in $(seq "$runs"); do
  for builder in $builders; do one_run "$builder" "$run"; done
done

# ---------- table ----------
label() { case $1 in buildkit) echo "BuildKit v0.32 (buildctl)" ;; strata) echo strata ;; esac; }
echo "## Build for $platforms of $scenario, cold ($started, $runs runs)"
echo
echo "Each run: an empty store / buildkitd root (base index pulled from a loopback registry), every platform of -p built,"
echo "the OCI archive of the index written to a file; wall time from client start to exit."
echo
echo "| builder | wall s median (min-max) | notes |"
echo "|---|---|---|"
for builder in $builders; do
  summary=$(awk -F'\t' -v b="$builder" '$1 == b && $3 == "ok" {print $4}' "$work/results.tsv" | sort -n | awk '
    {v[NR] = $1} END {if (!NR) {print "failed"; exit}
      m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "**%.2f** (%.2f-%.2f)", m, v[1], v[NR]}')
  failed=$(awk -F'\t' -v b="$builder" '$1 == b && $3 != "ok"' "$work/results.tsv" | wc -l)
  # RUN step seconds per platform: medians over the successful runs
  notes=$(awk -F'\t' -v b="$builder" '$1 == b && $3 == "ok" {print $6}' "$work/results.tsv" | tr ' ' '\n' | awk -F= 'NF == 2 {print $1, $2}' \
    | sort -k1,1 -k2,2n | awk '
      function flush() { if (k) { m = k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2; s = s (s == "" ? "" : ", ") sprintf("%s %.1f s", p, m) } }
      $1 != p { flush(); p = $1; k = 0 } { v[++k] = $2 }
      END { flush(); if (s != "") print "RUN step: " s }')
  size=$(awk -F'\t' -v b="$builder" '$1 == b && $3 == "ok" {print $5}' "$work/results.tsv" | sort -n | head -1)
  [ -n "$size" ] && notes="${notes:+$notes; }OCI archive $(awk -v s="$size" 'BEGIN {printf "%.1f", s / 1e6}') MB"
  [ "$failed" -gt 0 ] && notes="${notes:+$notes; }$failed of $runs runs failed"
  echo "| $(label "$builder") | $summary | ${notes:-} |"
done
echo
echo "base: $base, index of $index_platforms (amd64: $amd64_rootfs, arm64: $arm64_rootfs)"
echo "emulators: $(cd /proc/sys/fs/binfmt_misc && for e in strata-qemu-aarch64 qemu-aarch64; do [ -e "$e" ] && awk -v e="$e" '/^interpreter/ {i = $2} /^flags/ {f = $2} END {printf "%s -> %s (flags %s)", e, i, f}' "$e"; done)"
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
versions="$("$strata" --version 2>/dev/null || echo strata)"
case " $builders " in *" buildkit "*) versions="$versions; buildctl $("$BK/bin/buildctl" --version | awk '{print $3}')" ;; esac
echo "versions: $versions"
