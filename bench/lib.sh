# Sourced by the benchmark scripts: messages, tools, throw-away servers, timed runs.
#
#   die MSG / note MSG            # stderr, with the script's name
#   need_pkgs CMD:PKG...          # apt-get installs PKG when CMD is missing (as root)
#   server_bin PREFIX             # e.g. redis-7.0 -> $RDBKIT_SERVERS_DIR/bin/redis-7.0.15
#   start_server NAME BINARY [ARGS...]  # in $work/NAME; sets $port; stopped on exit
#   timed NAME CMD                # one run of a shell command under GNU time
#   best NAME / cpu NAME / peak NAME    # best wall s, its CPU s, highest peak RSS KiB
#   make_workload_aof SIZE_MB DIR # a Redis 7.0 AOF of an overwrite-heavy workload
#   aof_commands RDBKIT DIR       # commands in an AOF (`rdbkit aof info`)
#   start_backup_source DUMP      # a Redis 7.0 serving DUMP by diskless replication
#   backup_rdbkit_dir RDBKIT PORT REPO / backup_gzip_file PORT FILE  # one backup each
#                                 # (exported: usable in `timed` command lines)

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$bench_dir/.." && pwd)
servers_dir=${RDBKIT_SERVERS_DIR:-$repo_root/.servers}
me=$(basename "$0" .sh)

die() { echo "$me: error: $*" >&2; exit 1; }
note() { echo "$me: $*" >&2; }

# need_pkgs CMD:PKG ... installs the Debian package PKG for each missing command CMD.
need_pkgs() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || [ -x "${pair%%:*}" ] || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} = 0 ] && return 0
    [ "$(id -u)" = 0 ] || die "missing: ${missing[*]} (install the Debian packages)"
    note "installing ${missing[*]}"
    # No init system here: keep package scripts from starting daemons.
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

# The installed server whose name starts with PREFIX (scripts/install-servers.sh).
server_bin() {
    local found
    found=$(ls -d "$servers_dir/bin/$1"* 2>/dev/null | head -n 1)
    [ -n "$found" ] || die "no $1 server in $servers_dir/bin (run scripts/install-servers.sh)"
    echo "$found"
}

cli_bin=$servers_dir/bin/redis-cli
[ -x "$cli_bin" ] || cli_bin=$(command -v redis-cli || echo redis-cli)

work=$(mktemp -d /tmp/rdbkit-bench.XXXXXX)
server_pids=()
stop_servers() {
    local p
    for p in "${server_pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    server_pids=()
}
cleanup() {
    stop_servers
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_server NAME BINARY [ARGS...]: a server with persistence off in $work/NAME (its
# dump.rdb is loaded when present there); sets $port and waits until it answers.
start_server() {
    local name=$1 binary=$2 dir=$work/$1
    shift 2
    mkdir -p "$dir"
    port=$(free_port)
    "$binary" --bind 127.0.0.1 --port "$port" --dir "$dir" --dbfilename dump.rdb --save '' \
        --appendonly no --daemonize no --logfile "$dir/server.log" "$@" &
    local pid=$!
    server_pids+=("$pid")
    # Loading a dump can take a while: PING answers once it is done.
    for _ in $(seq 1200); do
        "$cli_bin" -p "$port" PING 2>/dev/null | grep -q PONG && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$dir/server.log" >&2; die "server $name exited"; }
        sleep 0.1
    done
    die "server $name did not answer on port $port"
}

cli() { "$cli_bin" -h 127.0.0.1 -p "$port" "$@"; }

# timed NAME CMD: runs the shell command CMD once under GNU time; appends
# "wall_s peak_kib user_s sys_s" to $work/NAME.times. A failure stops the script.
timed() {
    local name=$1 cmd=$2 log=$work/$1.log rc=0
    /usr/bin/time -o "$work/$name.time" -f '%e %M %U %S' bash -c "$cmd" >"$log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        tail -n 20 "$log" >&2
        die "$name exited with $rc: $cmd"
    fi
    tail -n 1 "$work/$name.time" >>"$work/$name.times"
}

best() { sort -n -k1,1 "$work/$1.times" | head -n 1 | cut -d' ' -f1; }
cpu() { sort -n -k1,1 "$work/$1.times" | head -n 1 | awk '{ printf "%.2f", $3 + $4 }'; }
peak() { sort -n -k2,2 "$work/$1.times" | tail -n 1 | cut -d' ' -f2; }

# make_workload_aof SIZE_MB DIR: writes DIR/appendonlydir, the AOF a Redis 7.0 server
# writes (automatic rewrites off) while bench/gen_aof_workload.py's overwrite-heavy
# stream of about SIZE_MB is piped into it. Written next to DIR, then renamed.
make_workload_aof() {
    local size_mb=$1 dir=$2 started
    started=$(date +%s)
    start_server aof-fill "$(server_bin redis-7.0)" --appendonly yes --appendfsync no \
        --auto-aof-rewrite-percentage 0
    note "writing an AOF of about $size_mb MB (127.0.0.1:$port)"
    python3 "$bench_dir/gen_aof_workload.py" --mb "$size_mb" | cli --pipe --pipe-timeout 0 >"$work/aof-fill.log" 2>&1 \
        || { cat "$work/aof-fill.log" >&2; die "redis-cli --pipe failed"; }
    grep -q '^errors: 0,' "$work/aof-fill.log" || { cat "$work/aof-fill.log" >&2; die "the server rejected commands"; }
    cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    stop_servers
    rm -rf "$dir.tmp"
    mkdir -p "$dir.tmp"
    cp -r "$work/aof-fill/appendonlydir" "$dir.tmp/"
    rm -rf "$dir"
    mv "$dir.tmp" "$dir"
    note "wrote $dir/appendonlydir in $(($(date +%s) - started)) s"
}

# aof_commands RDBKIT DIR: the number of commands in the AOF at DIR.
aof_commands() {
    "$1" aof info "$2" --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)["commands"])'
}

# start_backup_source DUMP [BINARY]: a server (default: Redis 7.0) loading DUMP that
# serves it by diskless replication without delay, as `redis-cli --rdb` and
# `rdbkit backup run` both get it; sets $port.
start_backup_source() {
    mkdir -p "$work/backup-src"
    cp "$1" "$work/backup-src/dump.rdb"
    start_server backup-src "${2:-$(server_bin redis-7.0)}" --repl-diskless-sync yes --repl-diskless-sync-delay 0
}

# backup_rdbkit_dir RDBKIT PORT REPO: one `rdbkit backup run` of the server on PORT into
# the directory repository REPO (parse, CRC, zstd, SHA-256, manifest).
backup_rdbkit_dir() {
    "$1" -q backup run --source "redis://127.0.0.1:$2" --repo "$3"
}

# backup_gzip_file PORT FILE: the glue it replaces, `redis-cli --rdb - | gzip -1 > FILE`,
# synced to disk as rdbkit's repository is.
backup_gzip_file() {
    "$cli_bin" -h 127.0.0.1 -p "$1" --rdb - 2>/dev/null | gzip -1 >"$2"
    sync -f "$2"
}
export cli_bin
export -f backup_rdbkit_dir backup_gzip_file
