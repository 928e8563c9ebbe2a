#!/usr/bin/env bash
# "Fresh CI machine with a shared cache": machine A builds a scenario and
# exports its build cache to a registry; machine B, an empty store (not even
# the base image), builds the same Dockerfile from its own checkout of the same
# context with that cache imported. Times B's build (client start to exit) and
# counts what B downloads from the registry (the access log of a loopback
# docker-registry: bytes of GET responses, requests by kind), for strata and
# BuildKit v0.32 (buildkitd built from source), beside B building with no cache
# at all (cold) and the floor: the compressed layers of the image A built, what
# a B without any build cache needs at least.
#
#   A, BuildKit: buildctl build --export-cache type=registry,ref=R/cache/S,mode=max
#                --output type=image,name=R/app/S,push=true
#   B, BuildKit: buildctl build --import-cache type=registry,ref=R/cache/S
#                --output type=image,name=R/app/S,push=false   (each B: a new buildkitd, its own --root)
#   A, strata:   strata --root A build --cache-to type=registry,ref=R/cache/S-strata,mode=max -t app ...
#                (then tagged and pushed as R/app/S-strata, for the floor)
#   B, strata:   strata --root B build --cache-from type=registry,ref=R/cache/S-strata -t app ...
#   cold:        the B command without the cache flag
#   and BuildKit's B once more with --output type=oci,tar=false,dest=DIR: with
#   type=image,push=false a fully cached B leaves the image's layers lazy, in
#   the registry (it downloads a few KB); the OCI layout makes it fetch them
# R is the loopback registry; the scenario's FROM local/debian:bookworm-minbase
# becomes FROM R/local/debian:bookworm-minbase (/var/tmp/bookworm-rootfs as a
# one-layer image pushed there first), so every B pulls its base too. Each B
# runs on a new, empty root; B's buildkitd is started before the clock and
# stopped after. Rounds interleave the builders and modes. Prints a markdown
# table per scenario (median wall time, min-max, downloaded MB, requests,
# floor, strata/BuildKit ratios) and what the first B of each row downloaded.
#
# Usage: bench/shared-cache.sh [-n RUNS] [-b "buildkit strata"] [SCENARIO...]
#   RUNS defaults to 3, SCENARIO to "s1-cold s6-parallel" (of ../shared/bench).
#   A builder whose machine A fails (e.g. a strata without --cache-to) keeps
#   its cold rows; its failed runs show as "failed" with the log's last lines
#   printed as they happen.
# Environment:
#   BK            BuildKit built from source (default /tmp/bk: $BK/bin/buildkitd,
#                 $BK/bin/buildctl; ../shared/peers/buildkit/up.sh makes them)
#   STRATA_BIN    a strata binary to use instead of building the release one
#   BENCH_SHARED  the harness (default ../shared/bench beside the repository,
#                 or /work/shared/bench)
# Needs: root, docker-registry, runc, python3, curl, tar; debootstrap when
# /var/tmp/bookworm-rootfs is missing. Everything lives in a mktemp directory
# under /var/tmp, removed on exit with the registry and the buildkitds.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
repo=$PWD

runs=3
builders="buildkit strata"
while getopts n:b: option; do
  case $option in
    n) runs=$OPTARG ;;
    b) builders=$OPTARG ;;
    *) echo "usage: $0 [-n RUNS] [-b \"buildkit strata\"] [SCENARIO...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] || scenarios=(s1-cold s6-parallel)
for builder in $builders; do
  case $builder in buildkit|strata) ;; *) echo "shared-cache.sh: unknown builder $builder (buildkit, strata)" >&2; exit 2 ;; esac
done

[ "$(id -u)" = 0 ] || { echo "shared-cache.sh: needs root (RUN steps, buildkitd)" >&2; exit 1; }
bench_need docker-registry curl python3 tar runc -- docker-registry curl python3 tar runc
shared=$(bench_shared scenarios)
for scenario in "${scenarios[@]}"; do
  [ -f "$shared/scenarios/$scenario/Dockerfile" ] || { echo "shared-cache.sh: no scenario $scenario in $shared/scenarios" >&2; exit 1; }
done

BK=${BK:-/tmp/bk}
strata=""
for builder in $builders; do
  case $builder in
    buildkit)
      [ -x "$BK/bin/buildkitd" ] && [ -x "$BK/bin/buildctl" ] || {
        echo "shared-cache.sh: no $BK/bin/buildkitd or buildctl (build them with ../shared/peers/buildkit/up.sh, or set BK)" >&2; exit 1; } ;;
    strata)
      if [ -n "${STRATA_BIN:-}" ]; then
        strata=$STRATA_BIN
      else
        cargo build --release -q -p strata >&2
        strata=$repo/target/release/strata
      fi ;;
  esac
done

rootfs=/var/tmp/bookworm-rootfs
if [ ! -d "$rootfs/usr" ]; then
  echo "creating $rootfs with debootstrap (minbase)..." >&2
  debootstrap --variant=minbase bookworm "$rootfs" >&2
fi

work=$(mktemp -d /var/tmp/strata-shared-cache.XXXXXX)
registry_pid=""
declare -A buildkitd_pid=()
stop_buildkitd() { # name
  local pid=${buildkitd_pid[$1]:-}
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  unset "buildkitd_pid[$1]"
}
unmount_under() { # dir: whatever a killed builder left mounted there
  awk -v d="$1/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
  for name in "${!buildkitd_pid[@]}"; do stop_buildkitd "$name"; done
  if [ -n "$registry_pid" ]; then kill "$registry_pid" 2>/dev/null || true; wait "$registry_pid" 2>/dev/null || true; fi
  unmount_under "$work"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------- helper: the registry's API and its access log ----------
cat > "$work/reg.py" <<'PY'
import sys, json, hashlib, zlib, subprocess, http.client, re, os

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json"])
MANIFEST_TYPES = {"application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                  "application/vnd.docker.distribution.manifest.list.v2+json",
                  "application/vnd.docker.distribution.manifest.v2+json"}

def request(reg, method, path, body=None, headers=None):
    c = http.client.HTTPConnection(reg, timeout=600)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    if r.status >= 300:
        sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return r, data

def split(ref):
    """127.0.0.1:PORT/REPO:TAG -> REPO, TAG"""
    repo, tag = ref.split("/", 1)[1].rsplit(":", 1) if ":" in ref.split("/", 1)[1] else (ref.split("/", 1)[1], "latest")
    return repo, tag

def upload(reg, repo, path_or_bytes, digest):
    r, _ = request(reg, "POST", f"/v2/{repo}/blobs/uploads/")
    loc = r.getheader("Location")
    loc = re.sub(r"^https?://[^/]+", "", loc)
    loc += ("&" if "?" in loc else "?") + "digest=" + digest
    if isinstance(path_or_bytes, bytes):
        request(reg, "PUT", loc, body=path_or_bytes, headers={"Content-Type": "application/octet-stream"})
    else:
        with open(path_or_bytes, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            request(reg, "PUT", loc, body=f, headers={"Content-Type": "application/octet-stream",
                                                      "Content-Length": str(size)})

def push_base(rootfs, reg, ref, layer_path):
    """rootfs as one gzip layer (tar in name order, numeric owners), pushed as an OCI image."""
    repo, tag = split(ref)
    tar = subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "--sort=name", "-cf", "-", "."],
                           stdout=subprocess.PIPE)
    diff, comp = hashlib.sha256(), hashlib.sha256()
    z = zlib.compressobj(6, zlib.DEFLATED, 31)
    with open(layer_path, "wb") as out:
        while True:
            chunk = tar.stdout.read(1 << 20)
            if not chunk:
                break
            diff.update(chunk)
            data = z.compress(chunk)
            comp.update(data); out.write(data)
        data = z.flush()
        comp.update(data); out.write(data)
    if tar.wait() != 0:
        sys.exit("tar of the rootfs failed")
    layer = {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
             "digest": "sha256:" + comp.hexdigest(), "size": os.path.getsize(layer_path)}
    config = json.dumps({
        "created": "2023-11-14T22:13:20Z", "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff.hexdigest()]},
        "history": [{"created": "2023-11-14T22:13:20Z",
                     "created_by": "debootstrap --variant=minbase bookworm (bench/shared-cache.sh)"}],
    }, separators=(",", ":")).encode()
    cdesc = {"mediaType": "application/vnd.oci.image.config.v1+json",
             "digest": "sha256:" + hashlib.sha256(config).hexdigest(), "size": len(config)}
    upload(reg, repo, layer_path, layer["digest"])
    upload(reg, repo, config, cdesc["digest"])
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": cdesc, "layers": [layer]}, separators=(",", ":")).encode()
    request(reg, "PUT", f"/v2/{repo}/manifests/{tag}", body=manifest,
            headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    print(layer["digest"], layer["size"])

def get_manifest(reg, repo, ref):
    _, data = request(reg, "GET", f"/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT})
    return json.loads(data)

def blobs(reg, ref):
    """(digest, size, role) of every blob an image or a cache ref names: layers, configs,
    and an index's non-manifest entries (BuildKit's cache index lists its blobs)."""
    repo, tag = split(ref)
    out, todo = [], [get_manifest(reg, repo, tag)]
    while todo:
        m = todo.pop()
        if "manifests" in m:
            for d in m["manifests"]:
                if d.get("mediaType") in MANIFEST_TYPES:
                    plat = d.get("platform") or {}
                    if plat.get("os", "linux") == "linux" and plat.get("architecture", "amd64") == "amd64":
                        todo.append(get_manifest(reg, repo, d["digest"]))
                else:
                    out.append((d["digest"], d["size"], "config" if "config" in d.get("mediaType", "") else "layer"))
        else:
            if "config" in m:
                out.append((m["config"]["digest"], m["config"]["size"], "config"))
            for d in m.get("layers", []):
                out.append((d["digest"], d["size"], "layer"))
    return out

def cmd_size(reg, ref):
    """sum of the layers' compressed sizes, the number of layers"""
    layers = [b for b in blobs(reg, ref) if b[2] == "layer"]
    print(sum(b[1] for b in layers), len(layers))

def cmd_labels(reg, ref, label):
    for digest, size, role in blobs(reg, ref):
        print(digest, size, f"{label} {role}")

LINE = re.compile(r'"(\S+) (\S+) [^"]*" (\d{3}) (\d+|-)')

def cmd_stats(log, start, end, labels=None, detail=None):
    """GET bytes and requests in log[start:end]; with a labels file, also writes what the
    GETs of blobs were (by the roles the blobs have in the images and caches) to detail."""
    with open(log, "rb") as f:
        f.seek(int(start)); text = f.read(int(end) - int(start)).decode("utf-8", "replace")
    known = {}
    if labels and os.path.exists(labels):
        for line in open(labels):
            digest, size, label = line.rstrip("\n").split(" ", 2)
            known.setdefault(digest, label)
    nbytes = requests = get_manifests = get_blobs = heads = other = 0
    kinds = {}
    for line in text.splitlines():
        m = LINE.search(line)
        if not m:
            continue
        method, path, status, size = m.group(1), m.group(2), m.group(3), m.group(4)
        size = 0 if size == "-" else int(size)
        requests += 1
        if method == "GET":
            nbytes += size
        if method == "HEAD":
            heads += 1
        elif method == "GET" and "/manifests/" in path:
            get_manifests += 1
        elif method == "GET" and "/blobs/" in path and "/uploads" not in path:
            get_blobs += 1
            digest = path.rsplit("/", 1)[1]
            label = known.get(digest, "other blob")
            k = kinds.setdefault(label, [0, 0]); k[0] += 1; k[1] += size
        else:
            other += 1
        if method == "GET" and "/manifests/" in path:
            k = kinds.setdefault("manifests", [0, 0]); k[0] += 1; k[1] += size
    print(nbytes, requests, get_manifests, get_blobs, heads, other)
    if detail:
        with open(detail, "w") as d:
            size = lambda b: f"{b / 1e6:.2f} MB" if b >= 1e6 else f"{b / 1e3:.1f} KB"
            d.write("; ".join(f"{label}: {n} GET, {size(b)}" for label, (n, b)
                              in sorted(kinds.items(), key=lambda kv: -kv[1][1])) or "nothing")

cmd = sys.argv[1]
{"push-base": push_base, "size": cmd_size, "labels": cmd_labels, "stats": cmd_stats}[cmd](*sys.argv[2:])
PY
reg() { python3 "$work/reg.py" "$@"; }

# ---------- the registry, access log on ----------
port=$(bench_free_port)
registry=127.0.0.1:$port
bench_registry "$work/registry" "$registry" access-log
# the access log (combined log format: "METHOD PATH PROTO" STATUS BYTES)
access_log=$work/registry/access.log
log_mark() { sleep 0.2; stat -c %s "$access_log"; }

base=$registry/local/debian:bookworm-minbase
echo "pushing $rootfs as $base (one gzip layer)..." >&2
read -r base_digest base_size < <(reg push-base "$rootfs" "$registry" "$base" "$work/base-layer.tar.gz")
rm -f "$work/base-layer.tar.gz"
reg labels "$registry" "$base" base > "$work/labels-base"

# ---------- builders ----------
printf '[registry."%s"]\n  http = true\n  insecure = true\n' "$registry" > "$work/buildkitd.toml"
start_buildkitd() { # name: a buildkitd on a new, empty root
  local name=$1 dir=$work/bk-$1
  rm -rf "$dir"; mkdir -p "$dir"
  { cat "$work/buildkitd.toml"; printf '[otel]\n  socketPath = "%s"\n' "$dir/otel.sock"; } > "$dir/buildkitd.toml"
  "$BK/bin/buildkitd" --config "$dir/buildkitd.toml" --root "$dir/root" --addr "unix://$dir/buildkitd.sock" \
    --oci-worker=true --oci-worker-binary=runc --oci-worker-snapshotter=overlayfs --containerd-worker=false \
    --oci-worker-net=host >"$dir/buildkitd.log" 2>&1 </dev/null &
  buildkitd_pid[$name]=$!
  for _ in $(seq 100); do
    "$BK/bin/buildctl" --addr "unix://$dir/buildkitd.sock" debug workers >/dev/null 2>&1 && return 0
    kill -0 "${buildkitd_pid[$name]}" 2>/dev/null || break
    sleep 0.1
  done
  tail -20 "$dir/buildkitd.log" >&2; echo "shared-cache.sh: buildkitd $name did not start" >&2; exit 1
}
remove_buildkitd() { stop_buildkitd "$1"; unmount_under "$work/bk-$1"; rm -rf "$work/bk-$1"; }
buildctl_build() { # name dockerfile-dir context flags...
  local name=$1 dfdir=$2 ctx=$3; shift 3
  "$BK/bin/buildctl" --addr "unix://$work/bk-$name/buildkitd.sock" build --progress=plain \
    --frontend dockerfile.v0 --local "context=$ctx" --local "dockerfile=$dfdir" "$@"
}

# BuildKit's B also once more with --output type=oci,tar=false,dest=DIR (an OCI layout):
# with type=image,push=false it leaves the layers of a fully cached image in the registry
# (lazy refs; unpack=true does not change that with the OCI worker), the layout makes it
# fetch them, as a store that holds the image does
modes() { case $1 in buildkit) echo cache cache-blobs cold ;; *) echo cache cold ;; esac; }
now() { date +%s%N; }
calc() { awk "BEGIN {printf \"%.6f\", $1}"; }
human() { awk -v b="$1" 'BEGIN {if (b >= 1e6) printf "%.2f MB", b / 1e6; else printf "%.1f KB", b / 1e3}'; }
failed_log() { # what, log
  echo "  $1 failed; the end of its log:" >&2; tail -8 "$2" | sed 's/^/    /' >&2
}

# machine A: build, export the cache, push the image; records the image's layers
# (the floor) and the cache's size in $dir/a.txt, sets a_ok[builder]
declare -A a_ok=()
machine_a() { # builder scenario
  local builder=$1 scenario=$2 dir=$work/$2 log=$work/$2/a-$1.log t0 t1 image cache
  local ctx=$dir/ctx-a df=$dir/df/Dockerfile
  cp "$work/labels-base" "$dir/labels-$builder"
  t0=$(now)
  case $builder in
    buildkit)
      image=$registry/app/$scenario cache=$registry/cache/$scenario
      start_buildkitd a
      if buildctl_build a "$dir/df" "$ctx" --export-cache "type=registry,ref=$cache,mode=max" \
           --output "type=image,name=$image,push=true" >"$log" 2>&1; then
        a_ok[$builder]=1
      else a_ok[$builder]=0; fi
      remove_buildkitd a ;;
    strata)
      image=$registry/app/$scenario-strata cache=$registry/cache/$scenario-strata
      rm -rf "$dir/strata-a"
      if "$strata" --root "$dir/strata-a" build --cache-to "type=registry,ref=$cache,mode=max" \
           -t app -f "$df" "$ctx" >"$log" 2>&1 \
         && "$strata" --root "$dir/strata-a" tag app "$image" >>"$log" 2>&1 \
         && "$strata" --root "$dir/strata-a" push -q "$image" >>"$log" 2>&1; then
        a_ok[$builder]=1
      else a_ok[$builder]=0; fi
      unmount_under "$dir/strata-a"; rm -rf "$dir/strata-a" ;;
  esac
  t1=$(now)
  if [ "${a_ok[$builder]}" = 1 ]; then
    local layers_bytes layers cache_bytes cache_blobs
    read -r layers_bytes layers < <(reg size "$registry" "$image")
    reg labels "$registry" "$image" image >> "$dir/labels-$builder"
    reg labels "$registry" "$cache" cache > "$dir/cache-$builder"
    cat "$dir/cache-$builder" >> "$dir/labels-$builder"
    read -r cache_bytes cache_blobs < <(awk '{s += $2; n++} END {print s + 0, n + 0}' "$dir/cache-$builder")
    echo "$builder $layers_bytes $layers $cache_bytes $cache_blobs $(calc "($t1 - $t0) / 1e9")" >> "$dir/a.txt"
    printf '%s %s: machine A built and exported in %.2f s; image %s: %d layers, %.2f MB; cache %s: %d blobs, %.2f MB\n' \
      "$scenario" "$builder" "$(calc "($t1 - $t0) / 1e9")" "$image" "$layers" "$(calc "$layers_bytes / 1e6")" \
      "$cache" "$cache_blobs" "$(calc "$cache_bytes / 1e6")" >&2
  else
    failed_log "$scenario $builder machine A" "$log"
  fi
}

# machine B: one timed build on an empty store; appends a line to results.tsv
machine_b() { # builder scenario mode(cache|cold) run
  local builder=$1 scenario=$2 mode=$3 run=$4 dir=$work/$2 log=$work/$2/b-$1-$3-$4.log
  local ctx=$dir/ctx-b df=$dir/df/Dockerfile cache_flag=() status=ok t0 t1 m0 m1 seconds stats
  if [ "$mode" != cold ] && [ "${a_ok[$builder]}" != 1 ]; then
    printf '%s\t%s\t%s\t%s\tfailed\t\t\t\t\t\t\n' "$scenario" "$builder" "$mode" "$run" >> "$work/results.tsv"
    return
  fi
  case $builder in
    buildkit)
      [ "$mode" != cold ] && cache_flag=(--import-cache "type=registry,ref=$registry/cache/$scenario")
      local output="type=image,name=$registry/app/$scenario,push=false"
      [ "$mode" = cache-blobs ] && output="type=oci,tar=false,dest=$dir/b-layout"
      start_buildkitd b
      sync; m0=$(log_mark); t0=$(now)
      buildctl_build b "$dir/df" "$ctx" "${cache_flag[@]}" \
        --output "$output" >"$log" 2>&1 || status=failed
      t1=$(now); m1=$(log_mark)
      remove_buildkitd b; rm -rf "$dir/b-layout" ;;
    strata)
      [ "$mode" = cache ] && cache_flag=(--cache-from "type=registry,ref=$registry/cache/$scenario-strata")
      rm -rf "$dir/strata-b"
      sync; m0=$(log_mark); t0=$(now)
      "$strata" --root "$dir/strata-b" build "${cache_flag[@]}" -t app -f "$df" "$ctx" >"$log" 2>&1 || status=failed
      t1=$(now); m1=$(log_mark)
      unmount_under "$dir/strata-b"; rm -rf "$dir/strata-b" ;;
  esac
  seconds=$(calc "($t1 - $t0) / 1e9")
  stats=$(reg stats "$access_log" "$m0" "$m1" "$dir/labels-$builder" "$dir/detail-$builder-$mode-$run")
  # scenario builder mode run status seconds bytes requests get_manifests get_blobs heads other
  printf '%s\t%s\t%s\t%s\t%s\t%.3f\t%s\n' "$scenario" "$builder" "$mode" "$run" "$status" "$seconds" "$(echo "$stats" | tr ' ' '\t')" >> "$work/results.tsv"
  printf '%s %s B %s run %d: %s %.2f s, %.2f MB in %s requests\n' "$scenario" "$builder" "$mode" "$run" "$status" "$seconds" \
    "$(calc "${stats%% *} / 1e6")" "$(echo "$stats" | cut -d' ' -f2)" >&2
  [ "$status" = ok ] || failed_log "$scenario $builder B ($mode)" "$log"
}

# ---------- scenarios ----------
: > "$work/results.tsv"
started=$(date -u '+%Y-%m-%d %H:%M UTC')
for scenario in "${scenarios[@]}"; do
  dir=$work/$scenario
  mkdir -p "$dir/df"
  sed "s#^FROM local/debian:bookworm-minbase#FROM $registry/local/debian:bookworm-minbase#" \
    "$shared/scenarios/$scenario/Dockerfile" > "$dir/df/Dockerfile"
  # A's and B's checkouts: the same content, each with its own file times (as two CI clones)
  sh "$shared/scenarios/$scenario/gen.sh" "$dir/ctx-a" >/dev/null
  sleep 1.1
  sh "$shared/scenarios/$scenario/gen.sh" "$dir/ctx-b" >/dev/null
  : > "$dir/a.txt"
  for builder in $builders; do machine_a "$builder" "$scenario"; done
  for run in $(seq "$runs"); do
    for builder in $builders; do
      for mode in $(modes "$builder"); do machine_b "$builder" "$scenario" "$mode" "$run"; done
    done
  done
done

# ---------- tables ----------
label() { case $1 in buildkit) echo "BuildKit v0.32" ;; strata) echo strata ;; esac; }
# medians over a row's successful runs: scenario builder mode ok failed seconds min max bytes requests get_manifests get_blobs heads other
python3 - "$work/results.tsv" > "$work/summary.tsv" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    r = line.rstrip("\n").split("\t")
    rows.setdefault(tuple(r[:3]), []).append(r)
for key, rs in rows.items():
    ok = [r for r in rs if r[4] == "ok"]
    if not ok:
        print(*key, 0, len(rs), sep="\t"); continue
    s = [float(r[5]) for r in ok]
    med = lambda i: int(statistics.median_low([int(r[i]) for r in ok]))
    print(*key, len(ok), len(rs) - len(ok), statistics.median(s), min(s), max(s), *[med(i) for i in range(6, 12)], sep="\t")
PY
echo "## Fresh CI machine with a shared cache ($started, $runs runs)"
echo
echo "Machine B starts empty (no base image, no cache) and builds from its own checkout of the context;"
echo "downloaded = bytes of the registry's GET responses during B's build (median of the runs)."
echo "Floor = the compressed layers of the image machine A built, base included: what B needs without any build cache."
case " $builders " in *" buildkit "*)
  echo "BuildKit's B with --output type=image,push=false (its own store) does not fetch the layers of a fully cached image:"
  echo "they stay lazy, in the registry, until something needs them; the type=oci,tar=false row (an OCI layout) fetches them." ;;
esac
for scenario in "${scenarios[@]}"; do
  dir=$work/$scenario
  echo
  echo "### $scenario"
  echo
  echo "| builder | mode | wall s median (min-max) n | downloaded | % of floor | requests: GET manifests / GET blobs / HEAD / other | floor MB (layers) | strata / BuildKit: s, bytes |"
  echo "|---|---|---|---|---|---|---|---|"
  for builder in $builders; do
    read -r floor floor_layers < <(awk -v b="$builder" '$1 == b {print $2, $3; found = 1} END {if (!found) print "- -"}' "$dir/a.txt")
    floor_text="-"; [ "$floor" != - ] && floor_text="$(calc "$floor / 1e6" | xargs printf '%.2f') ($floor_layers)"
    for mode in $(modes "$builder"); do
      case $mode in
        cache) mode_text="B, cache from A" ;;
        cache-blobs) mode_text="B, cache from A, output type=oci,tar=false" ;;
        cold) mode_text="B, cold (no cache)" ;;
      esac
      ok=0; IFS=$'\t' read -r _ _ _ ok failed sec lo hi bytes req gm gb hd ot < <(awk -F'\t' -v s="$scenario" -v b="$builder" -v m="$mode" '$1 == s && $2 == b && $3 == m' "$work/summary.tsv") || true
      if [ "${ok:-0}" = 0 ]; then
        echo "| $(label "$builder") | $mode_text | failed | - | - | - | $floor_text | |"
        continue
      fi
      pct="-"; [ "$floor" != - ] && pct=$(awk -v b="$bytes" -v f="$floor" 'BEGIN {printf "%.0f%%", 100 * b / f}')
      ratio=""
      if [ "$builder" = strata ]; then
        # against the BuildKit row(s) of the same mode; a cached strata B also against
        # BuildKit's B that fetched the image's blobs (type=oci), not only its lazy one
        ratio=$(awk -F'\t' -v s="$scenario" -v m="$mode" -v sec="$sec" -v by="$bytes" '
          $1 == s && $2 == "buildkit" && $4 > 0 && ($3 == m || (m == "cache" && $3 == "cache-blobs")) {
            t = sprintf("%.2fx, %s", sec / $6, ($9 > 0 ? sprintf("%.2fx", by / $9) : "-"))
            if (m == "cache") t = t ($3 == "cache" ? " (type=image)" : " (type=oci)")
            out = out (out == "" ? "" : "; ") t
          } END {print out}' "$work/summary.tsv")
      fi
      extra=""; [ "$failed" -gt 0 ] && extra=" ($failed failed)"
      printf '| %s | %s | **%.2f** (%.2f-%.2f) %d%s | %s | %s | %d: %d / %d / %d / %d | %s | %s |\n' \
        "$(label "$builder")" "$mode_text" "$sec" "$lo" "$hi" "$ok" "$extra" "$(human "$bytes")" "$pct" \
        "$req" "$gm" "$gb" "$hd" "$ot" "$floor_text" "$ratio"
    done
  done
  echo
  while read -r builder _ _ cache_bytes cache_blobs a_seconds; do
    printf -- '- %s machine A: build, cache export and push %.2f s; the cache on the registry: %d blobs, %.2f MB\n' \
      "$(label "$builder")" "$a_seconds" "$cache_blobs" "$(calc "$cache_bytes / 1e6")"
  done < "$dir/a.txt"
  echo
  echo "What B's first run downloaded (GETs by the blob's role: base image, a layer of A's image, another blob of A's cache):"
  echo
  for builder in $builders; do
    for mode in $(modes "$builder"); do
      [ -f "$dir/detail-$builder-$mode-1" ] || continue
      echo "- $(label "$builder"), $mode ($(grep -c CACHED "$dir/b-$builder-$mode-1.log" || true) steps CACHED in its log): $(cat "$dir/detail-$builder-$mode-1")"
    done
  done
done
echo
printf 'base image: %s, one gzip layer, %.2f MB (%s)\n' "$base" "$(calc "$base_size / 1e6")" "$base_digest"
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
versions="docker-registry $(docker-registry --version 2>/dev/null | awk '{print $3}')"
case " $builders " in *" buildkit "*) versions="$versions; buildkitd $("$BK/bin/buildkitd" --version | awk '{print $3}')" ;; esac
case " $builders " in *" strata "*) versions="$versions; $("$strata" --version 2>/dev/null || echo strata)" ;; esac
echo "versions: $versions"
