#!/usr/bin/env bash
# Make a realistic RDB dump with a real Redis server, for benchmarks.
#
#   bench/make-dump.sh [SIZE_MB] [OUT]
#
#   SIZE_MB  approximate size of the dump file (default 1024)
#   OUT      where to write it (default bench/data/dump-1g.rdb; bench/data/ is
#            git-ignored)
#
# A throw-away redis-server (the Debian package, Redis 7.0) is started on
# 127.0.0.1 on a free port with its own temporary directory, persistence off,
# then filled through `redis-cli --pipe` with the RESP stream written by
# bench/gen_resp.py (a mix of strings, hashes, lists, sets, sorted sets,
# streams with consumer groups, big values, TTLs, a function library and two
# databases) plus DEBUG POPULATE for a bulk of plain strings. Then SAVE, copy
# the dump to OUT, and stop the server. The content is deterministic for a
# given SIZE_MB and SEED (environment, default 1).
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
size_mb=${1:-1024}
out=${2:-$bench_dir/data/dump-1g.rdb}
seed=${SEED:-1}

die() { echo "make-dump: error: $*" >&2; exit 1; }
note() { echo "make-dump: $*" >&2; }

if ! [[ $size_mb =~ ^[0-9]+$ ]] || [ "$size_mb" -lt 8 ]; then
    die "SIZE_MB must be a whole number >= 8 (got '$size_mb')"
fi

# --- tools --------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "redis-server / redis-cli missing: apt-get install redis-server redis-tools"
    note "installing redis-server and redis-tools (Debian packages)"
    # No init system here: keep the package scripts from starting a daemon.
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi
command -v python3 >/dev/null 2>&1 || die "python3 is needed for bench/gen_resp.py"

server_version=$(redis-server --version | sed -n 's/.* v=\([0-9.]*\).*/\1/p')
case "$server_version" in
    7.0.*) ;;
    *) note "warning: redis-server is $server_version, the dataset is designed for 7.0" ;;
esac

# --- server -------------------------------------------------------------------
work=$(mktemp -d /tmp/rdbkit-make-dump.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cli() { redis-cli -h 127.0.0.1 -p "$port" "$@"; }

started=$(date +%s.%N)
redis-server --bind 127.0.0.1 --port "$port" --dir "$work" --dbfilename dump.rdb \
    --save '' --appendonly no --daemonize no --logfile "$work/redis.log" \
    --enable-debug-command local --protected-mode yes &
pid=$!
for _ in $(seq 100); do
    cli PING >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/redis.log" >&2; die "redis-server exited"; }
    sleep 0.1
done
cli PING >/dev/null 2>&1 || die "redis-server did not answer on port $port"
note "redis-server $server_version pid $pid on 127.0.0.1:$port, dir $work"

# The counts in gen_resp.py are tuned for 1024 MB at scale 1.0.
scale=$(python3 -c "print($size_mb / 1024)")

# Runs one part of the generator into the server and checks the reply count.
fill() {
    local part=$1 log="$work/pipe-$1.log"
    python3 "$bench_dir/gen_resp.py" --scale "$scale" --seed "$seed" --part "$part" \
        | cli --pipe --pipe-timeout 0 >"$log" 2>&1 || { cat "$log" >&2; die "redis-cli --pipe failed ($part)"; }
    grep -q '^errors: 0,' "$log" || { cat "$log" >&2; die "the server rejected commands ($part)"; }
    note "filled part '$part': $(tail -n 1 "$log")"
}

fill main
# Quicklists created now keep LZF-compressed inner nodes (depth 1).
cli CONFIG SET list-compress-depth 1 >/dev/null
fill compressed
cli CONFIG SET list-compress-depth 0 >/dev/null

# Plain small strings in bulk, made inside the server: keys pop:N, values value:N.
populate=$(python3 -c "print(max(1, int(1_000_000 * $scale)))")
[ "$(cli DEBUG POPULATE "$populate" pop)" = OK ] || die "DEBUG POPULATE failed"
filled=$(date +%s.%N)

note "keys: $(cli INFO keyspace | grep '^db' | tr -d '\r' | tr '\n' ' ')"
note "memory: $(cli INFO memory | grep '^used_memory_human' | tr -d '\r')"

reply=$(cli SAVE | tr -d '\r')
[ "$reply" = OK ] || die "SAVE failed: $reply"
saved=$(date +%s.%N)

mkdir -p "$(dirname "$out")"
cp "$work/dump.rdb" "$out.tmp"
mv "$out.tmp" "$out"

kill "$pid"
wait "$pid" 2>/dev/null || true
pid=

bytes=$(stat -c %s "$out")
python3 - "$started" "$filled" "$saved" "$bytes" "$out" <<'EOF' >&2
import sys
started, filled, saved, size, out = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
print(f"make-dump: wrote {out}: {size} bytes ({size / 2**20:.1f} MiB)")
print(f"make-dump: fill {filled - started:.1f} s, SAVE {saved - filled:.1f} s")
EOF
echo "$out"
