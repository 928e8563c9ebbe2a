#!/usr/bin/env bash
# Benchmark of the build context scan on the s4-context scenario
# (../shared/bench/scenarios/s4-context: 40,000 files, ~800 MB, node_modules
# and .git ignored). Prints cold scan, warm rescan, peak memory, and the
# reference: sha256 over the included bytes on both cores (two sha256sum).
#
# Usage: bench/context.sh [WORKDIR]   (default /var/tmp/bench-work/ctx)
# The page cache is warm for every figure (the context is read once first):
# "cold" means an empty metadata cache, not a cold disk.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-/var/tmp/bench-work/ctx}
scenario=${STRATA_SHARED_DIR:-../shared}/bench/scenarios/s4-context
context=$work/s4-context
store=$work/store
runs=${RUNS:-5}

if [ ! -f "$context/.dockerignore" ]; then
  echo "generating $context" >&2
  mkdir -p "$work"
  sh "$scenario/gen.sh" "$context"
  sleep 1.2 # let the newest files age past the racy window of the cache
fi
cargo build --release -q -p strata
strata=$PWD/target/release/strata

# Warm the page cache over the whole context.
find "$context" -type f -print0 | xargs -0 cat > /dev/null

seconds() { # command... -> wall seconds of one run
  local start end
  start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.3f\n", m}'; }

cold=(); warm=()
for _ in $(seq "$runs"); do
  rm -rf "$store"
  cold+=("$(seconds "$strata" --root "$store" context digest "$context")")
  warm+=("$(seconds "$strata" --root "$store" context digest "$context")")
done
rm -rf "$store"
cold_memory=$( { /usr/bin/time -f '%M' "$strata" --root "$store" context digest "$context" > /dev/null; } 2>&1 | tail -1)
warm_memory=$( { /usr/bin/time -f '%M' "$strata" --root "$store" context digest "$context" > /dev/null; } 2>&1 | tail -1)
"$strata" --root "$store" context digest --stats "$context" 2>&1 >/dev/null | sed 's/^/warm stats: /'
rm -rf "$store"
"$strata" --root "$store" context digest --stats "$context" 2>&1 >/dev/null | sed 's/^/cold stats: /'

# Reference: sha256sum over exactly the included files, split over two cores.
list=$work/included.list
(cd "$context" && "$strata" context ls . | grep -v '/$' | while IFS= read -r p; do [ -f "$p" ] && [ ! -L "$p" ] && printf '%s\0' "$p"; done) > "$list"
bytes=$(cd "$context" && xargs -0 stat -c %s < "$list" | awk '{s+=$1} END {print s}')
files=$(tr -cd '\0' < "$list" | wc -c)
half=$(( files / 2 ))
reference=()
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  (cd "$context" && tr '\0' '\n' < "$list" | sed -n "1,${half}p" | tr '\n' '\0' | xargs -0 cat | sha256sum > /dev/null) &
  (cd "$context" && tr '\0' '\n' < "$list" | tail -n +"$((half + 1))" | tr '\n' '\0' | xargs -0 cat | sha256sum > /dev/null) &
  wait
  end=$(date +%s.%N)
  reference+=("$(echo "$end - $start" | bc -l)")
done

# Pure hashing rate: the same bytes as two files in the page cache.
(cd "$context" && tr '\0' '\n' < "$list" | sed -n "1,${half}p" | tr '\n' '\0' | xargs -0 cat > "$work/half1.bin")
(cd "$context" && tr '\0' '\n' < "$list" | tail -n +"$((half + 1))" | tr '\n' '\0' | xargs -0 cat > "$work/half2.bin")
raw=()
for _ in $(seq "$runs"); do
  start=$(date +%s.%N)
  sha256sum "$work/half1.bin" > /dev/null & sha256sum "$work/half2.bin" > /dev/null & wait
  end=$(date +%s.%N)
  raw+=("$(echo "$end - $start" | bc -l)")
done
rm -f "$work/half1.bin" "$work/half2.bin"
du_seconds=$(seconds "$strata" context du "$context")

cold_median=$(printf '%s\n' "${cold[@]}" | median)
warm_median=$(printf '%s\n' "${warm[@]}" | median)
reference_median=$(printf '%s\n' "${reference[@]}" | median)
echo "included: $files files, $bytes bytes"
echo "cold scan (empty metadata cache): median ${cold_median}s of $runs (${cold[*]}), peak RSS ${cold_memory} kB"
echo "warm rescan: median ${warm_median}s of $runs (${warm[*]}), peak RSS ${warm_memory} kB"
echo "reference sha256sum x2 over the included files (cat | sha256sum): median ${reference_median}s ($(echo "$bytes / $reference_median / 1000000" | bc -l | xargs printf '%.0f') MB/s)"
raw_median=$(printf '%s\n' "${raw[@]}" | median)
echo "reference sha256sum x2 over the same bytes as two files: median ${raw_median}s ($(echo "$bytes / $raw_median / 1000000" | bc -l | xargs printf '%.0f') MB/s)"
echo "context du (walks the ignored 760 MB too, no hashing): ${du_seconds}s"
