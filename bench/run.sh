#!/usr/bin/env bash
# `strata run --rm IMAGE true` vs `docker run --rm IMAGE true`, start to exit,
# on the same busybox image, interleaved round by round in one run; the same
# with `--network none`; and the memory a running container costs beside its
# own process: strata's monitor against docker's containerd-shim.
#
# Usage: bench/run.sh [-n ROUNDS]        (ROUNDS defaults to 20)
# Environment:
#   STRATA_ROOT   strata's store for the benchmark (default /var/tmp/bench-run-strata)
#   DOCKER        docker client (default /usr/bin/docker); a dockerd is started
#                 (--iptables=false, data under /var/tmp/bench-run-docker) when
#                 none answers, and stopped at the end
#   STRATA_BIN    a strata binary to use instead of building the release one
# Needs root, busybox-static, docker.io.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

rounds=20
while getopts n: option; do
  case $option in
    n) rounds=$OPTARG ;;
    *) echo "usage: $0 [-n ROUNDS]" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" -eq 0 ] || { echo "run.sh: needs root" >&2; exit 1; }
[ -x /bin/busybox ] || { echo "run.sh: busybox-static is missing" >&2; exit 1; }
export STRATA_ROOT=${STRATA_ROOT:-/var/tmp/bench-run-strata}
docker=${DOCKER:-/usr/bin/docker}
image=local/busybox:bench

if [ -n "${STRATA_BIN:-}" ]; then
  strata=$STRATA_BIN
else
  cargo build --release -q -p strata
  strata=$repo/target/release/strata
fi

# ---------- the image, in both stores ----------
if ! "$strata" inspect "$image" >/dev/null 2>&1; then
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/proc" "$rootfs/sys" "$rootfs/dev" "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in sh true sleep echo; do ln -s busybox "$rootfs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  echo 'root:x:0:' > "$rootfs/etc/group"
  SOURCE_DATE_EPOCH=0 "$strata" import -c 'CMD ["/bin/sh"]' "$rootfs" "$image" >/dev/null
  rm -rf "$rootfs"
fi

started_dockerd=""
if ! "$docker" info >/dev/null 2>&1; then
  echo "starting dockerd (data under /var/tmp/bench-run-docker)" >&2
  mkdir -p /var/tmp/bench-run-docker
  setsid dockerd --iptables=false --data-root /var/tmp/bench-run-docker \
    >/var/tmp/bench-run-docker.log 2>&1 &
  started_dockerd=$!
  for _ in $(seq 100); do "$docker" info >/dev/null 2>&1 && break; sleep 0.2; done
  "$docker" info >/dev/null 2>&1 || { echo "dockerd did not start: /var/tmp/bench-run-docker.log" >&2; exit 1; }
fi
cleanup() {
  "$docker" rm -f bench-memory >/dev/null 2>&1 || true
  "$strata" rm -f bench-memory >/dev/null 2>&1 || true
  if [ -n "$started_dockerd" ]; then
    kill "$started_dockerd" 2>/dev/null || true
    wait "$started_dockerd" 2>/dev/null || true
  fi
}
trap cleanup EXIT
"$strata" save "$image" | "$docker" load >/dev/null

# ---------- timings ----------
results=$(mktemp)
measure() { # label command...
  local label=$1; shift
  local t0=$EPOCHREALTIME
  "$@" >/dev/null
  local t1=$EPOCHREALTIME
  awk -v l="$label" -v a="$t0" -v b="$t1" 'BEGIN {printf "%s\t%.4f\n", l, b - a}' >> "$results"
}
# One untimed round each: images unpacked, caches warm.
"$strata" run --rm "$image" true
"$docker" run --rm "$image" true >/dev/null
for _ in $(seq "$rounds"); do
  measure "strata run --rm" "$strata" run --rm "$image" true
  measure "docker run --rm" "$docker" run --rm "$image" true
  measure "strata run --rm --network none" "$strata" run --rm --network none "$image" true
  measure "docker run --rm --network none" "$docker" run --rm --network none "$image" true
done

echo "| command | median ms | min-max ms | runs |"
echo "|---|---|---|---|"
for label in "strata run --rm" "docker run --rm" "strata run --rm --network none" "docker run --rm --network none"; do
  awk -F'\t' -v l="$label" '$1 == l {print $2 * 1000}' "$results" | sort -n |
    awk -v l="$label" '{v[NR] = $1} END {
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "| `%s IMAGE true` | %.1f | %.1f-%.1f | %d |\n", l, m, v[1], v[NR], NR }'
done
median() { awk -F'\t' -v l="$1" '$1 == l {print $2}' "$results" | sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
awk -v s="$(median 'strata run --rm')" -v d="$(median 'docker run --rm')" \
  'BEGIN {printf "\nstrata is %.1fx faster than docker (default network, medians)\n", d / s}'
rm -f "$results"

# ---------- memory of a running container beside its process ----------
kb() { awk -v f="$2" '$1 == f":" {print $2}' "/proc/$1/$3"; }
"$strata" run -d --name bench-memory "$image" sleep 1000 >/dev/null
sleep 1
id=$("$strata" inspect -f '{{.Id}}' bench-memory)
monitor=$(pgrep -f "__strata-monitor .* $id" | head -1)
echo
echo "| per container | RSS KB | PSS KB | private KB |"
echo "|---|---|---|---|"
echo "| strata monitor | $(kb "$monitor" VmRSS status) | $(kb "$monitor" Pss smaps_rollup) | $(( $(kb "$monitor" Private_Clean smaps_rollup) + $(kb "$monitor" Private_Dirty smaps_rollup) )) |"
"$docker" run -d --name bench-memory "$image" sleep 1000 >/dev/null
sleep 1
container=$("$docker" inspect -f '{{.Id}}' bench-memory)
shim=$(pgrep -f "containerd-shim.*$container" | head -1 || true)
if [ -n "$shim" ]; then
  echo "| docker containerd-shim | $(kb "$shim" VmRSS status) | $(kb "$shim" Pss smaps_rollup) | $(( $(kb "$shim" Private_Clean smaps_rollup) + $(kb "$shim" Private_Dirty smaps_rollup) )) |"
else
  echo "| docker containerd-shim | (one shim serves several containers here: not found by id) | | |"
fi
