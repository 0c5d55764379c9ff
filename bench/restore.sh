#!/usr/bin/env bash
# Compare `rdbkit restore` with `redis-cli --pipe` of the RESP stream of the same dump,
# in the same run, against fresh Redis 7.0 servers on loopback.
#
#   bench/restore.sh [DUMP]      # default bench/data/dump-256m.rdb (made if missing)
#
# Three fresh servers, one per method:
#   1. rdbkit restore DUMP (pipelined RESTORE)
#   2. redis-cli --pipe < RESP file made beforehand by `rdbkit convert --to resp`
#      (conversion time reported separately)
#   3. rdbkit convert --to resp | redis-cli --pipe (end to end)
# Every server must end with the same DEBUG DIGEST, or the script fails.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$bench_dir/.." && pwd)
dump=${1:-$bench_dir/data/dump-256m.rdb}
die() { echo "restore.sh: error: $*" >&2; exit 1; }
note() { echo "restore.sh: $*" >&2; }

command -v redis-server >/dev/null && command -v redis-cli >/dev/null || die "needs redis-server and redis-cli (scripts/install-servers.sh)"
if [ ! -f "$dump" ]; then
    note "no $dump: making one with bench/make-dump.sh 256"
    "$bench_dir/make-dump.sh" 256 "$dump"
fi
(cd "$repo_root" && cargo build --release -q -p rdbkit)
rdbkit=$repo_root/target/release/rdbkit

work=$(mktemp -d /tmp/rdbkit-bench-restore.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

# Starts a fresh server in $work/$1; sets $port. (Not run in a subshell, so that the
# pid reaches the cleanup, and the server holds no pipe of ours open.)
start_server() {
    local dir=$work/$1
    mkdir -p "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
        --enable-debug-command local --logfile "$dir/redis.log" --daemonize no >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do redis-cli -p "$port" PING >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$port" PING >/dev/null || die "server $1 did not start"
}

seconds() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }

keys=$("$rdbkit" info --format json "$dump" | python3 -c 'import json,sys; print(json.load(sys.stdin)["keys"])')
bytes=$(stat -c %s "$dump")

# 1. rdbkit restore
start_server restore; p1=$port
t0=$(date +%s.%N)
"$rdbkit" restore -q "$dump" --to "redis://127.0.0.1:$p1" --pipeline 256 --format json >"$work/restore.json"
t1=$(date +%s.%N)
restore_s=$(seconds "$t0" "$t1")

# 2. RESP file made first, then redis-cli --pipe
t0=$(date +%s.%N)
"$rdbkit" convert -q "$dump" --to resp -o "$work/dump.resp"
t1=$(date +%s.%N)
convert_s=$(seconds "$t0" "$t1")
start_server pipe; p2=$port
t0=$(date +%s.%N)
redis-cli -p "$p2" --pipe --pipe-timeout 0 <"$work/dump.resp" >"$work/pipe.log"
t1=$(date +%s.%N)
pipe_s=$(seconds "$t0" "$t1")
grep -q '^errors: 0,' "$work/pipe.log" || { cat "$work/pipe.log"; die "redis-cli --pipe reported errors"; }
resp_bytes=$(stat -c %s "$work/dump.resp")
rm -f "$work/dump.resp"

# 3. convert piped into redis-cli
start_server piped; p3=$port
t0=$(date +%s.%N)
"$rdbkit" convert -q "$dump" --to resp | redis-cli -p "$p3" --pipe --pipe-timeout 0 >"$work/piped.log"
t1=$(date +%s.%N)
piped_s=$(seconds "$t0" "$t1")

d1=$(redis-cli -p "$p1" DEBUG DIGEST); d2=$(redis-cli -p "$p2" DEBUG DIGEST); d3=$(redis-cli -p "$p3" DEBUG DIGEST)
[ "$d1" = "$d2" ] && [ "$d2" = "$d3" ] || die "digests differ: restore $d1, pipe $d2, piped $d3"

echo "machine: $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM, kernel $(uname -r)"
echo "server:  $(redis-server --version | cut -d' ' -f3), loopback"
echo "dump:    $dump ($bytes bytes, $keys keys, $(head -c 9 "$dump")); RESP stream $resp_bytes bytes"
echo "digest:  $d1 (same on all three servers)"
echo
printf '%-44s %9s %12s\n' method seconds keys/s
rate() { python3 -c "import sys; print(f'{int(sys.argv[1]) / float(sys.argv[2]):,.0f}')" "$keys" "$1"; }
printf '%-44s %9s %12s\n' "rdbkit restore (RESTORE, pipeline 256)" "$restore_s" "$(rate "$restore_s")"
printf '%-44s %9s %12s\n' "redis-cli --pipe < RESP file" "$pipe_s" "$(rate "$pipe_s")"
printf '%-44s %9s %12s\n' "  (making the RESP file: rdbkit convert)" "$convert_s" ""
printf '%-44s %9s %12s\n' "rdbkit convert --to resp | redis-cli --pipe" "$piped_s" "$(rate "$piped_s")"
echo
python3 -c "import sys; r=float(sys.argv[2])/float(sys.argv[1]); print(f'ratio: redis-cli --pipe seconds / rdbkit restore seconds = {r:.2f}')" "$restore_s" "$pipe_s"
