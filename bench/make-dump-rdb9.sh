#!/usr/bin/env bash
# Make an RDB 9 dump (Redis 6.2) for the memory benchmark: rdbtools, the tool it is
# compared with, reads RDB 9 at most.
#
#   bench/make-dump-rdb9.sh [SIZE_MB] [OUT]
#
#   SIZE_MB  approximate size of the dump (default 200)
#   OUT      where to write it (default bench/data/dump-rdb9-<SIZE_MB>m.rdb;
#            bench/data/ is git-ignored)
#
# Same dataset as bench/make-dump.sh (bench/gen_resp.py: strings, hashes, lists,
# sets, sorted sets, streams with consumer groups, TTLs, two databases) without the
# function library, which Redis 6.2 does not have, loaded into the Redis 6.2 server of
# scripts/install-servers.sh (.servers/bin/redis-6.2.*) on a free loopback port in a
# temporary directory, then SAVE. Deterministic for a given SIZE_MB and SEED
# (environment, default 1).
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
size_mb=${1:-200}
out=${2:-$bench_dir/data/dump-rdb9-${size_mb}m.rdb}
seed=${SEED:-1}

die() { echo "make-dump-rdb9: error: $*" >&2; exit 1; }
note() { echo "make-dump-rdb9: $*" >&2; }

[[ $size_mb =~ ^[0-9]+$ ]] && [ "$size_mb" -ge 1 ] || die "SIZE_MB must be a whole number >= 1 (got '$size_mb')"
# shellcheck source=bench/lib-server.sh
. "$bench_dir/lib-server.sh"
server=$(ls "$bin_dir"/redis-6.2.* 2>/dev/null | head -n 1)
[ -n "$server" ] || die "no Redis 6.2 in $bin_dir (run scripts/install-servers.sh)"
start_server "$server"
note "$("$server" --version | cut -d' ' -f1-3) pid $pid on 127.0.0.1:$port"

# Drops FUNCTION commands from a RESP command stream (stdin to stdout).
without_functions() {
    python3 -c '
import sys
r, w = sys.stdin.buffer, sys.stdout.buffer
while True:
    head = r.readline()
    if not head:
        break
    n = int(head[1:])
    parts = [head]
    for _ in range(n):
        size = r.readline()
        parts += [size, r.read(int(size[1:]) + 2)]
    if parts[2][:-2].upper() != b"FUNCTION":
        w.write(b"".join(parts))
'
}

scale=$(python3 -c "print($size_mb / 1024)")
fill() {
    local part=$1 log="$work/pipe-$1.log"
    python3 "$bench_dir/gen_resp.py" --scale "$scale" --seed "$seed" --part "$part" | without_functions \
        | cli --pipe >"$log" 2>&1 || { cat "$log" >&2; die "redis-cli --pipe failed ($part)"; }
    grep -q '^errors: 0,' "$log" || { cat "$log" >&2; die "the server rejected commands ($part)"; }
}
fill main
cli CONFIG SET list-compress-depth 1 >/dev/null
fill compressed
cli CONFIG SET list-compress-depth 0 >/dev/null
[ "$(cli DEBUG POPULATE "$(python3 -c "print(max(1, int(1_000_000 * $scale)))")" pop)" = OK ] || die "DEBUG POPULATE failed"
[ "$(cli SAVE | tr -d '\r')" = OK ] || die "SAVE failed"

mkdir -p "$(dirname "$out")"
cp "$work/dump.rdb" "$out.tmp"
mv "$out.tmp" "$out"
note "wrote $out ($(stat -c %s "$out") bytes): $(cli DBSIZE) keys in db 0"
echo "$out"
