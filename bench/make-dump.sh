#!/usr/bin/env bash
# Make a realistic dump with a real server, for benchmarks.
#
#   bench/make-dump.sh [--server PREFIX] [--aof] [--streams] SIZE_MB OUT
#   bench/make-dump.sh [--server PREFIX] --big-keys OUT
#
#   --server  the installed server to use, by name prefix (default redis-7.0; redis-6.2
#             writes RDB 9, the newest version rdbtools reads)
#   --aof     write the server's append-only file (commands, no RDB preamble) instead
#             of an RDB dump
#   SIZE_MB   approximate size of the dump (the counts in gen_resp.py are tuned for
#             1024 MB of RDB at scale 1.0)
#   --streams only small streams with consumer groups (about 20 entries each, the
#             `streams` part of gen_resp.py), instead of the usual mix
#   --big-keys  instead, one big key of each type from bench/gen_big_keys.py, each
#             checked to stay under 64 MiB of MEMORY USAGE
#   OUT       where to write it (written to OUT.tmp, then renamed)
#
# The server (from $RDBKIT_SERVERS_DIR/bin, see scripts/install-servers.sh) runs on a
# free loopback port in a temporary directory with persistence off. It is filled by
# piping the RESP stream of bench/gen_resp.py (strings, hashes, lists, sets, sorted sets,
# streams with consumer groups, big values, TTLs, a function library from 7.0 on, two
# databases) into `redis-cli --pipe`, plus DEBUG POPULATE for a bulk of plain strings;
# then SAVE, and the dump is copied to OUT. Deterministic for a given SIZE_MB and SEED
# (environment, default 1), apart from the TTLs (relative to the time of the run) and
# the byte order (the server's hash seed).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

server_prefix=redis-7.0
aof=0
big_keys=0
streams=0
while [ $# -gt 0 ]; do
    case $1 in
        --server) server_prefix=$2; shift 2 ;;
        --aof) aof=1; shift ;;
        --big-keys) big_keys=1; shift ;;
        --streams) streams=1; shift ;;
        *) break ;;
    esac
done
[ "$big_keys" = 1 ] && [ $# = 1 ] && set -- 1 "$1"
[ $# = 2 ] || die "usage: make-dump.sh [--server PREFIX] [--aof] [--streams] SIZE_MB OUT | [--server PREFIX] --big-keys OUT"
size_mb=$1
out=$2
seed=${SEED:-1}
[[ $size_mb =~ ^[0-9]+$ ]] && [ "$size_mb" -ge 1 ] || die "SIZE_MB must be a whole number >= 1 (got '$size_mb')"
need_pkgs python3:python3

server=$(server_bin "$server_prefix")
version=$("$server" --version | sed -n 's/.* v=\([0-9]*\.[0-9]*\).*/\1/p')
gen_args=()
extra=()
if [ "${version%%.*}" -ge 7 ]; then
    extra+=(--enable-debug-command local)
else
    gen_args+=(--no-functions)
fi
# A pure command log: no RDB preamble, no rewrite while filling.
[ "$aof" = 1 ] && extra+=(--appendonly yes --aof-use-rdb-preamble no --auto-aof-rewrite-percentage 0 --appendfsync no)
started=$(date +%s)
start_server fill "$server" "${extra[@]}"
note "$("$server" --version | cut -d' ' -f1-3) on 127.0.0.1:$port, dir $work/fill"

scale=$(python3 -c "print($size_mb / 1024)")
fill() {
    local part=$1 log=$work/pipe-$1.log
    python3 "$bench_dir/gen_resp.py" --scale "$scale" --seed "$seed" --part "$part" "${gen_args[@]}" \
        | cli --pipe --pipe-timeout 0 >"$log" 2>&1 || { cat "$log" >&2; die "redis-cli --pipe failed ($part)"; }
    grep -q '^errors: 0,' "$log" || { cat "$log" >&2; die "the server rejected commands ($part)"; }
    note "filled part '$part': $(tail -n 1 "$log")"
}
if [ "$big_keys" = 1 ]; then
    log=$work/pipe-big.log
    python3 "$bench_dir/gen_big_keys.py" --seed "$seed" | cli --pipe --pipe-timeout 0 >"$log" 2>&1 \
        || { cat "$log" >&2; die "redis-cli --pipe failed (big keys)"; }
    grep -q '^errors: 0,' "$log" || { cat "$log" >&2; die "the server rejected commands (big keys)"; }
    for key in big:string big:set big:hash big:zset big:list big:stream; do
        bytes=$(cli MEMORY USAGE "$key" SAMPLES 0 | tr -d '\r')
        note "$key: $bytes bytes (MEMORY USAGE)"
        [ "$bytes" -lt $((64 << 20)) ] || die "$key takes $bytes bytes, over the 64 MiB premise"
    done
    [ "$(cli SAVE | tr -d '\r')" = OK ] || die "SAVE failed"
    cp "$work/fill/dump.rdb" "$out.tmp"
    mv "$out.tmp" "$out"
    note "wrote $out: $(stat -c %s "$out") bytes in $(($(date +%s) - started)) s"
    echo "$out"
    exit 0
fi
if [ "$streams" = 1 ]; then
    fill streams
else
    fill main
    # Quicklists created now keep LZF-compressed inner nodes (depth 1).
    cli CONFIG SET list-compress-depth 1 >/dev/null
    fill compressed
    cli CONFIG SET list-compress-depth 0 >/dev/null
    # Plain small strings in bulk, made inside the server: keys pop:N, values value:N.
    [ "$(cli DEBUG POPULATE "$(python3 -c "print(max(1, int(1_000_000 * $scale)))")" pop)" = OK ] \
        || die "DEBUG POPULATE failed"
fi
note "keys: $(cli INFO keyspace | grep '^db' | tr -d '\r' | tr '\n' ' ')"

mkdir -p "$(dirname "$out")"
if [ "$aof" = 1 ]; then
    # Redis 7 keeps the log in appendonlydir/ (base + incr files), older ones in one file.
    cli CONFIG SET appendfsync always >/dev/null
    src=$(ls "$work"/fill/appendonlydir/*.incr.aof 2>/dev/null | tail -n 1 || true)
    [ -n "$src" ] || src=$work/fill/appendonly.aof
    cat "$src" >"$out.tmp"
else
    [ "$(cli SAVE | tr -d '\r')" = OK ] || die "SAVE failed"
    cp "$work/fill/dump.rdb" "$out.tmp"
fi
mv "$out.tmp" "$out"
note "wrote $out: $(stat -c %s "$out") bytes in $(($(date +%s) - started)) s"
echo "$out"
