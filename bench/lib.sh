# Shared by the bench scripts (sourced, after `set -euo pipefail` and `cd` to
# the repository): the shared harness's folder, tool checks, a loopback registry.
# Each function's messages start with the calling script's name.

bench_name=$(basename "$0")

# bench_need TOOL... -- PACKAGES: exits naming what is missing.
bench_need() {
  local tools=() tool
  while [ $# -gt 0 ] && [ "$1" != -- ]; do tools+=("$1"); shift; done
  shift || true
  for tool in "${tools[@]}"; do
    command -v "$tool" >/dev/null || { echo "$bench_name: $tool is missing (packages: $*)" >&2; exit 1; }
  done
}

# bench_shared MARKER: prints the shared bench harness folder ($BENCH_SHARED, or
# ../shared/bench beside the repository, or /work/shared/bench): the first that
# holds MARKER (a path inside it, e.g. run.sh or scenarios).
bench_shared() {
  local marker=$1 candidate
  for candidate in ${BENCH_SHARED:-} "$PWD/../shared/bench" /work/shared/bench; do
    [ -e "$candidate/$marker" ] && { (cd "$candidate" && pwd); return; }
  done
  echo "$bench_name: no benchmark harness with $marker (set BENCH_SHARED)" >&2
  exit 1
}

# bench_free_port: a free loopback TCP port.
bench_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_registry DIR ADDRESS [access-log]: starts docker-registry on ADDRESS with
# its storage and config in DIR (deletes allowed) and waits until it answers.
# Sets registry_pid. With access-log, its stdout DIR/access.log is the access log
# (combined log format). Its other output goes to DIR/registry.log.
bench_registry() {
  local dir=$1 address=$2 access=true
  [ "${3:-}" = access-log ] && access=false
  mkdir -p "$dir/storage"
  cat > "$dir/registry.yml" <<CONFIG
version: 0.1
log:
  level: error
  accesslog:
    disabled: $access
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: $address
CONFIG
  docker-registry serve "$dir/registry.yml" >"$dir/access.log" 2>"$dir/registry.log" &
  registry_pid=$!
  for _ in $(seq 100); do curl -fsS "http://$address/v2/" >/dev/null 2>&1 && return; sleep 0.1; done
  cat "$dir/registry.log" >&2
  echo "$bench_name: the registry did not start on $address" >&2
  exit 1
}
