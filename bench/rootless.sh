#!/usr/bin/env bash
# Rootless strata against root strata and against rootless buildah, in one run:
# the shared scenarios s1-cold (cold: empty build cache, base image kept) and
# s3-edit (edit: one source file changed, rebuilt over a warm cache), through
# the shared harness (../shared/bench/run.sh, its `custom` builder for all
# three), builders interleaved round by round. Prints a markdown table: median
# wall time (client start to exit) with min-max, peak RSS, and the ratios
# rootless strata / root strata and rootless strata / rootless buildah; the
# kernel, the snapshotters strata used and buildah's storage driver.
#
# Usage: bench/rootless.sh [-n RUNS] [-D] [-b "root rootless buildah"] [SCENARIO:MODE ...]
#   -n RUNS   rounds (default 3)
#   -D        make the base image without the rootfs's device nodes (/dev/null,
#             /dev/console, ...), for every builder (the default keeps them, as
#             the shared harness's base has them)
#   -b        builders: root (strata as root, STRATA_ROOT in the scratch
#             directory), rootless (strata as the bench user, its store in
#             $XDG_DATA_HOME/strata), buildah (buildah as the bench user)
#   SCENARIO:MODE defaults to "s1-cold:cold s3-edit:edit"
# Environment:
#   STRATA_BIN        a strata binary (default: cargo build --release -p strata)
#   BENCH_USER        the unprivileged user (default strata-bench); created with
#                     useradd when missing and removed at the end, with the
#                     subordinate ids BENCH_SUBIDS (default 400000:65536) added
#                     to /etc/subuid and /etc/subgid when it has none there
#   ROOTFS            the Debian minbase tree the base image is made from
#                     (default /var/tmp/bookworm-rootfs; debootstrap makes it when
#                     missing, and then it is removed at the end)
#   BUILDAH_DRIVER    rootless buildah's storage driver: overlay (default; vfs
#                     when overlay cannot store the base) or vfs
#   BUILDAH_ISOLATION oci (default, with BUILDAH_RUNTIME, default runc) or chroot
#   BENCH_QUIET_MAX   seconds run.sh waits for a quiet machine (default here 20)
#   BENCH_SHARED      the harness (default ../shared/bench or /work/shared/bench)
#   MAX_OTHER         drop, from the table, runs during which the rest of the
#                     machine used more than this many cpu-seconds (as build-table.sh)
#   KEEP              a directory to copy results.tsv, failures.tsv and the build
#                     logs into before the scratch directory is removed
# Needs root, newuidmap/newgidmap (uidmap), setpriv (util-linux), GNU time,
# python3, useradd/userdel (passwd), debootstrap when ROOTFS is missing;
# installs buildah with apt-get when it is missing. Everything else (stores,
# contexts, the user's home) lives in a mktemp directory under /var/tmp that is
# removed at the end, with the user's processes (pkill -u), the user and its
# subordinate-id lines.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
repo=$PWD
umask 022

runs=3
builders="root rootless buildah"
strip_devices=false
while getopts n:b:D option; do
  case $option in
    n) runs=$OPTARG ;;
    b) builders=$OPTARG ;;
    D) strip_devices=true ;;
    *) echo "usage: $0 [-n RUNS] [-D] [-b BUILDERS] [SCENARIO:MODE ...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
items=("$@")
[ ${#items[@]} -gt 0 ] || items=(s1-cold:cold s3-edit:edit)

[ "$(id -u)" = 0 ] || { echo "rootless.sh: run it as root (it creates the bench user)" >&2; exit 1; }
shared=$(bench_shared run.sh)
bench_need newuidmap newgidmap setpriv /usr/bin/time python3 useradd userdel pkill -- uidmap util-linux time python3 passwd procps
case " $builders " in *" buildah "*)
  if ! command -v buildah >/dev/null; then
    echo "installing buildah" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q buildah >&2
  fi ;;
esac

user=${BENCH_USER:-strata-bench}
subids=${BENCH_SUBIDS:-400000:65536}
rootfs=${ROOTFS:-/var/tmp/bookworm-rootfs}
base=local/debian:bookworm-minbase
export BENCH_QUIET_MAX=${BENCH_QUIET_MAX:-20}
std_path=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin

# ---------- scratch, user, subordinate ids; all undone on exit ----------
work=""; created_user=false; added_subuid=false; added_subgid=false; created_rootfs=false
cleanup() {
  set +e
  if id -u "$user" >/dev/null 2>&1; then
    pkill -KILL -u "$user"
    for _ in $(seq 50); do pgrep -u "$user" >/dev/null || break; sleep 0.1; done
  fi
  if [ -n "$work" ] && [ -d "$work" ]; then
    if [ -n "${KEEP:-}" ]; then
      mkdir -p "$KEEP"
      cp -a "$work/harness/results.tsv" "$work/failures.tsv" "$work/harness/logs" "$KEEP/" 2>/dev/null
    fi
    # root strata's mounts, if any were left under the scratch directory
    awk -v w="$work/" 'index($2, w) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
    rm -rf "$work"
  fi
  $created_user && userdel "$user" && { getent group "$user" >/dev/null && groupdel "$user"; true; }
  $added_subuid && sed -i "/^$user:${subids%%:*}:${subids##*:}\$/d" /etc/subuid
  $added_subgid && sed -i "/^$user:${subids%%:*}:${subids##*:}\$/d" /etc/subgid
  $created_rootfs && rm -rf "$rootfs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -d "$rootfs/usr" ]; then
  command -v debootstrap >/dev/null || { echo "rootless.sh: debootstrap is missing (no $rootfs)" >&2; exit 1; }
  echo "creating $rootfs with debootstrap (minbase)..." >&2
  created_rootfs=true
  debootstrap --variant=minbase bookworm "$rootfs" >&2
fi

work=$(mktemp -d /var/tmp/strata-rootless.XXXXXX)
chmod 755 "$work"   # the user reaches its home, the contexts and the binary through it
home=$work/home
if ! id -u "$user" >/dev/null 2>&1; then
  # no automatic subordinate ids (useradd allocates some when /etc/subuid exists)
  useradd -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 -M -d "$home" -s /bin/sh -U "$user"
  created_user=true
fi
uid=$(id -u "$user"); gid=$(id -g "$user")
if ! grep -q "^$user:" /etc/subuid; then echo "$user:$subids" >> /etc/subuid; added_subuid=true; fi
if ! grep -q "^$user:" /etc/subgid; then echo "$user:$subids" >> /etc/subgid; added_subgid=true; fi
mkdir -p "$home/.local/share" "$home/.config/containers" "$home/run"
chmod 700 "$home" "$home/run"

if [ -n "${STRATA_BIN:-}" ]; then
  install -m 0755 "$STRATA_BIN" "$work/strata"
else
  cargo build --release -q -p strata
  install -m 0755 "$repo/target/release/strata" "$work/strata"
fi
strata=$work/strata

# The builders run through these, so that each build's command chain is alike:
# a clean environment, root with STRATA_ROOT, the user with HOME and XDG_*
# in its directory (no STRATA_ROOT: its store is $XDG_DATA_HOME/strata).
cat > "$work/as-root" <<EOF
#!/bin/sh
cd / && exec env -i PATH=$std_path HOME=/root STRATA_ROOT=$work/root-store "\$@"
EOF
cat > "$work/as-user" <<EOF
#!/bin/sh
cd $home && exec setpriv --reuid=$uid --regid=$gid --clear-groups env -i PATH=$std_path \
  HOME=$home USER=$user LOGNAME=$user XDG_DATA_HOME=$home/.local/share \
  XDG_CONFIG_HOME=$home/.config XDG_RUNTIME_DIR=$home/run "\$@"
EOF
# the shared harness's cold prune for buildah, as the user
cat > "$work/buildah-prune" <<EOF
#!/bin/sh
buildah rm -a >/dev/null 2>&1 || true
base=\$(buildah images -q --no-trunc $base | head -1)
[ -n "\$base" ] || { echo "base $base missing in buildah storage" >&2; exit 3; }
buildah images -a -q --no-trunc | sort -u | grep -vx "\$base" | xargs -r buildah rmi -f >/dev/null 2>&1 || true
EOF
chmod 755 "$work/as-root" "$work/as-user" "$work/buildah-prune"
buildah_driver=${BUILDAH_DRIVER:-overlay}
write_storage_conf() {
  cat > "$home/.config/containers/storage.conf" <<EOF
[storage]
driver = "$1"
graphroot = "$home/.local/share/containers/storage"
runroot = "$home/run/containers"
EOF
}
write_storage_conf "$buildah_driver"
chown -R "$uid:$gid" "$home"

# ---------- the base image, the same in every store ----------
export BENCH_WORK=$work/harness
mkdir -p "$BENCH_WORK"
: > "$work/failures.tsv"   # label scenario mode round reason
declare -A setup_error=()
note() { echo "$*" >&2; }
first_error() { # file: the last error line of a failed command's output
  local line
  line=$(grep -aE '(^|[^A-Za-z])(error|Error|ERROR)([: ]|$)' "$1" | tail -1 | sed -E 's/^[0-9]+\.[0-9]+ //')
  [ -n "$line" ] || line=$(grep -av '^[[:space:]]*$' "$1" | tail -1 | sed -E 's/^[0-9]+\.[0-9]+ //')
  printf '%s' "${line:0:400}" | tr '\t|' '  '
}

if $strip_devices; then
  (cd "$rootfs" && find . \( -type c -o -type b \)) > "$work/devices"
  note "base image without the rootfs's $(wc -l < "$work/devices") device nodes ($(tr '\n' ' ' < "$work/devices"))"
  tar -C "$rootfs" -X "$work/devices" -c . | "$work/as-root" env SOURCE_DATE_EPOCH=0 "$strata" import - "$base" >/dev/null
else
  "$work/as-root" env SOURCE_DATE_EPOCH=0 "$strata" import "$rootfs" "$base" >/dev/null
fi
base_id=$("$work/as-root" "$strata" inspect --format '{{.Id}}' "$base")
"$work/as-root" "$strata" save -o "$work/base-docker.tar" "$base"
"$work/as-root" "$strata" save --format oci -o "$work/base-oci.tar" "$base"
chmod 644 "$work/base-docker.tar" "$work/base-oci.tar"
declare -A store_id=([root]=$base_id)

selected=()
for builder in $builders; do
  case $builder in
    root) selected+=(root) ;;
    rootless)
      if "$work/as-user" "$strata" load -q -i "$work/base-docker.tar" > "$work/setup-rootless.log" 2>&1; then
        store_id[rootless]=$("$work/as-user" "$strata" inspect --format '{{.Id}}' "$base" 2>/dev/null || echo "?")
      else
        setup_error[rootless]="strata load of the base: $(first_error "$work/setup-rootless.log")"
      fi
      selected+=(rootless) ;;
    buildah)
      if ! "$work/as-user" buildah pull -q "oci-archive:$work/base-oci.tar" > "$work/setup-buildah.log" 2>&1 \
          && [ "$buildah_driver" = overlay ]; then
        note "rootless buildah: overlay could not store the base ($(first_error "$work/setup-buildah.log")); trying vfs"
        "$work/as-user" sh -c 'buildah rm -a; buildah rmi -af' >/dev/null 2>&1 || true
        rm -rf "$home/.local/share/containers" "$home/run/containers"
        buildah_driver=vfs
        write_storage_conf vfs; chown "$uid:$gid" "$home/.config/containers/storage.conf"
        "$work/as-user" buildah pull -q "oci-archive:$work/base-oci.tar" > "$work/setup-buildah.log" 2>&1 || true
      fi
      id=$("$work/as-user" buildah images -q --no-trunc "$base" 2>/dev/null | head -1 || true)
      if [ -n "$id" ]; then
        store_id[buildah]=$id
      else
        setup_error[buildah]="buildah pull of the base: $(first_error "$work/setup-buildah.log")"
      fi
      selected+=(buildah) ;;
    *) echo "rootless.sh: unknown builder $builder (root, rootless, buildah)" >&2; exit 2 ;;
  esac
done
for builder in "${!setup_error[@]}"; do note "$builder: setup failed: ${setup_error[$builder]}"; done

# ---------- the builders as the harness's custom builder ----------
isolation=${BUILDAH_ISOLATION:-oci}
buildah_flags="--layers --format=docker --pull=never --network=host --isolation=$isolation"
[ "$isolation" = oci ] && buildah_flags="$buildah_flags --runtime ${BUILDAH_RUNTIME:-runc}"
configure() { # builder: exports BUILD_CMD, PRUNE_CMD, SIZE_CMD, BENCH_LABEL for run.sh
  local as
  case $1 in
    root|rootless)
      as=$work/as-root; [ "$1" = rootless ] && as=$work/as-user
      BUILD_CMD="exec $as $strata build --progress=plain -t {tag} -f {dockerfile} {context}"
      PRUNE_CMD="{ $as $strata rmi {tag} || true; } >/dev/null 2>&1; $as $strata builder prune --all --force"
      SIZE_CMD="$as $strata images --format '{{.Size}}' {tag}" ;;
    buildah)
      BUILD_CMD="exec $work/as-user buildah bud $buildah_flags -t {tag} -f {dockerfile} {context}"
      PRUNE_CMD="$work/as-user $work/buildah-prune"
      SIZE_CMD="$work/as-user buildah images --format '{{.Size}}' localhost/{tag}" ;;
  esac
  export BUILD_CMD PRUNE_CMD SIZE_CMD BENCH_LABEL=$1
}

# one untimed build per builder first (unpacks the base; cold prunes keep it)
first=${items[0]%%:*}
for builder in "${selected[@]}"; do
  [ -z "${setup_error[$builder]:-}" ] || continue
  configure "$builder"
  if ! "$shared/run.sh" custom "$first" warm > /dev/null 2> "$work/warmup-$builder.err"; then
    note "$builder: warm-up build of $first failed: $(first_error "$work/warmup-$builder.err")"
  fi
done
[ -f "$BENCH_WORK/results.tsv" ] && mv "$BENCH_WORK/results.tsv" "$BENCH_WORK/warmup.tsv"

started=$(date -u '+%Y-%m-%d %H:%M UTC')
note "builders: ${selected[*]}; $runs rounds of ${items[*]}; scratch $work"
count=${#selected[@]}
for round in $(seq "$runs"); do
  for item in "${items[@]}"; do
    scenario=${item%%:*} mode=${item##*:}
    for k in $(seq 0 $((count - 1))); do
      builder=${selected[$(( (k + round - 1) % count ))]}   # the order rotates each round
      if [ -n "${setup_error[$builder]:-}" ]; then
        printf '%s\t%s\t%s\t%s\t%s\n' "$builder" "$scenario" "$mode" "$round" "${setup_error[$builder]}" >> "$work/failures.tsv"
        continue
      fi
      configure "$builder"
      err=$work/run-$builder-$scenario-$mode-$round.err
      if line=$("$shared/run.sh" custom "$scenario" "$mode" 2> "$err"); then
        note "round $round: $builder $scenario $mode ${line##* } s"
      else
        reason=$(first_error "$err")
        note "round $round: $builder $scenario $mode FAILED: $reason"
        printf '%s\t%s\t%s\t%s\t%s\n' "$builder" "$scenario" "$mode" "$round" "$reason" >> "$work/failures.tsv"
      fi
    done
  done
done

# ---------- the table ----------
kind() { local f=$1/areas/snapshots/kind; [ -f "$f" ] && cut -d' ' -f1 "$f" || echo "none recorded"; }
echo "## rootless strata vs root strata vs rootless buildah ($started, $runs rounds)"
echo
[ -f "$BENCH_WORK/results.tsv" ] || printf 'label\n' > "$BENCH_WORK/results.tsv"
python3 - "$BENCH_WORK/results.tsv" "$work/failures.tsv" "${MAX_OTHER:-}" "${selected[@]}" <<'PYTHON'
import csv, statistics, sys

results, failures, max_other, builders = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
dropped = 0
names = {"root": "strata (root)", "rootless": "strata (rootless)", "buildah": "buildah (rootless)"}
ok, failed, order = {}, {}, []
for row in csv.DictReader(open(results), delimiter="\t"):
    if row.get("rc") is None:
        continue
    key = (row["scenario"], row["mode"])
    if key not in order:
        order.append(key)
    if row["rc"] == "0":
        if max_other and row["other_cpu_s"] not in ("", "NA") and float(row["other_cpu_s"]) > float(max_other):
            dropped += 1
            continue
        ok.setdefault(key, {}).setdefault(row["label"], []).append(row)
for line in open(failures):
    label, scenario, mode, _round, reason = line.rstrip("\n").split("\t", 4)
    key = (scenario, mode)
    if key not in order:
        order.append(key)
    failed.setdefault(key, {}).setdefault(label, []).append(reason)

def fmt(s):
    return f"{s:.3f}" if s < 1 else f"{s:.2f}"

print("| scenario | mode | builder | wall s median (min-max) n | peak RSS MB | other CPU s | rootless strata / root strata | rootless strata / rootless buildah |")
print("|---|---|---|---|---|---|---|---|")
for key in order:
    medians = {}
    for b in builders:
        times = [float(r["seconds"]) for r in ok.get(key, {}).get(b, [])]
        if times:
            medians[b] = statistics.median(times)
    for b in builders:
        rows = ok.get(key, {}).get(b, [])
        bad = failed.get(key, {}).get(b, [])
        if rows:
            times = [float(r["seconds"]) for r in rows]
            cell = f"**{fmt(medians[b])}** ({fmt(min(times))}-{fmt(max(times))}) {len(times)}"
            rss = [int(r["client_maxrss_kb"]) for r in rows if r["client_maxrss_kb"].isdigit()]
            rss = f"{statistics.median(rss) / 1024:.0f}" if rss else "-"
            other = [float(r["other_cpu_s"]) for r in rows if r["other_cpu_s"] not in ("", "NA")]
            other = f"{statistics.median(other):.2f}" if other else "-"
            if bad:
                cell += f"; {len(bad)} of {len(bad) + len(rows)} failed: {bad[-1]}"
        elif bad:
            cell, rss, other = f"failed ({len(bad)} of {len(bad)}): {bad[-1]}", "-", "-"
        else:
            continue
        ratio_root = ratio_buildah = ""
        if b == "rootless" and "rootless" in medians:
            if "root" in medians:
                ratio_root = f"{medians['rootless'] / medians['root']:.2f}"
            if "buildah" in medians:
                ratio_buildah = f"{medians['rootless'] / medians['buildah']:.2f}"
        print(f"| {key[0]} | {key[1]} | {names.get(b, b)} | {cell} | {rss} | {other} | {ratio_root} | {ratio_buildah} |")
if max_other:
    print(f"\n{dropped} runs left out: the rest of the machine used more than {max_other} cpu-seconds during them")
PYTHON
echo
echo "Ratios are of median wall times (below 1: rootless strata is faster). Peak RSS: the largest process of the build command (GNU time)."
echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "snapshotter: strata as root $(kind "$work/root-store"), rootless strata $(kind "$home/.local/share/strata") (\$XDG_DATA_HOME/strata/areas/snapshots/kind)"
if [[ " ${selected[*]} " == *" buildah "* ]]; then
  graph=$("$work/as-user" buildah info --format '{{.store.GraphDriverName}} (native overlay diff: {{index .store.GraphStatus "Native Overlay Diff"}})' 2>/dev/null \
    || "$work/as-user" buildah info --format '{{.store.GraphDriverName}}' 2>/dev/null || echo "$buildah_driver")
  echo "rootless buildah: storage driver $graph, \`buildah bud $buildah_flags\`, storage in the user's \$HOME/.local/share/containers"
fi
if ! $strip_devices && grep -q "create device node" "$work/failures.tsv"; then
  echo "note: rootless strata could not unpack the base's device nodes; -D makes the base without them for every builder"
fi
if $strip_devices; then what="without the rootfs's device nodes (-D)"; else what="with the rootfs's device nodes"; fi
echo "base image $base from $rootfs, $what: $(for b in "${!store_id[@]}"; do id=${store_id[$b]#sha256:}; printf '%s %.12s\n' "$b" "$id"; done | sort | paste -sd, | sed 's/,/, /g')"
echo "versions: $("$strata" --version); $(buildah --version 2>/dev/null || echo 'no buildah'); $(runc --version 2>/dev/null | head -1 || true)"
