#!/usr/bin/env bash
# Pull benchmark: the ~200 MB Debian minbase rootfs as a one-layer image on a
# loopback docker-registry, pulled by `strata pull` into a fresh store and by
# `skopeo copy docker://… oci:…` into a fresh layout. Prints wall time and peak
# memory (max RSS) per run and the median of each.
#
# Usage: bench/pull.sh [runs]   (default 5; needs docker-registry, skopeo, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
runs="${1:-5}"
bench_need docker-registry skopeo curl python3 /usr/bin/time -- docker-registry skopeo curl python3 time
rootfs=/var/tmp/bookworm-rootfs
if [ ! -d "$rootfs/usr" ]; then
  echo "creating $rootfs with debootstrap (minbase)..." >&2
  debootstrap --variant=minbase bookworm "$rootfs" >&2
fi
cargo build --release -p strata >&2
strata="$(pwd)/target/release/strata"

work="$(mktemp -d /var/tmp/strata-bench.XXXXXX)"
registry_pid=""
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(bench_free_port)
bench_registry "$work/registry" "127.0.0.1:$port"

image="127.0.0.1:$port/bench/debian:bookworm"
export SOURCE_DATE_EPOCH=1700000000
STRATA_ROOT="$work/seed" "$strata" import "$rootfs" "$image" >/dev/null
STRATA_ROOT="$work/seed" "$strata" push -q "$image" >/dev/null
size="$(STRATA_ROOT="$work/seed" "$strata" images --format '{{.Size}}' "$image")"
echo "image: $image, one gzip layer, $size compressed ($(du -sh "$rootfs" | cut -f1) unpacked)"

measure() { # name, command...: prints "seconds kilobytes"
  local name="$1"; shift
  /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null 2>"$work/$name.err" || {
    cat "$work/$name.err" >&2; exit 1; }
  cat "$work/time"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

: >"$work/strata.txt"; : >"$work/skopeo.txt"
for run in $(seq "$runs"); do
  rm -rf "$work/store" "$work/layout"
  sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
  s="$(measure strata env STRATA_ROOT="$work/store" "$strata" pull -q "$image")"
  k="$(measure skopeo skopeo copy --quiet --src-tls-verify=false "docker://$image" "oci:$work/layout:bookworm")"
  echo "run $run: strata ${s% *} s ${s#* } KB | skopeo ${k% *} s ${k#* } KB"
  echo "$s" >>"$work/strata.txt"; echo "$k" >>"$work/skopeo.txt"
done
for tool in strata skopeo; do
  seconds="$(cut -d' ' -f1 "$work/$tool.txt" | median)"
  kilobytes="$(cut -d' ' -f2 "$work/$tool.txt" | median)"
  echo "median $tool: ${seconds} s wall, $((kilobytes / 1024)) MB peak RSS"
done
