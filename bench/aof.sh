#!/usr/bin/env bash
# Offline AOF rewrite: `rdbkit aof rewrite` on an AOF of about SIZE_MB written by a
# real Redis 7.0 under an overwrite-heavy workload (bench/gen_aof_workload.py).
# Reports commands replayed per second (best of RUNS), peak memory, and the size
# before and after. Standalone; the AOF is kept in bench/data/ for later runs.
#
#   bench/aof.sh [SIZE_MB]        # default 1024; RUNS=n (default 3); PREAMBLE=resp
set -euo pipefail
cd "$(dirname "$0")/.."
size_mb=${1:-1024}
runs=${RUNS:-3}
data=bench/data/aof-${size_mb}m
server=$(command -v redis-server || echo /usr/bin/redis-server)
command -v /usr/bin/time >/dev/null || { apt-get install -y time >/dev/null; }

if [ ! -f "$data/appendonlydir/appendonly.aof.manifest" ]; then
    source bench/lib.sh
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$server" --bind 127.0.0.1 --port "$port" --dir "$work" --save '' --appendonly yes \
        --appendfsync no --auto-aof-rewrite-percentage 0 --daemonize no --logfile "$work/server.log" &
    pid=$!
    for _ in $(seq 100); do cli PING 2>/dev/null | grep -q PONG && break; sleep 0.1; done
    echo "writing an AOF of about ${size_mb} MB with $server ..." >&2
    start=$(date +%s)
    python3 bench/gen_aof_workload.py --mb "$size_mb" | cli --pipe >/dev/null
    cli SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    wait "$pid" 2>/dev/null || true
    mkdir -p "$data"
    rm -rf "$data/appendonlydir"
    cp -r "$work/appendonlydir" "$data/"
    echo "written in $(( $(date +%s) - start )) s" >&2
fi

cargo build --release -q -p rdbkit
rdbkit=target/release/rdbkit
cat "$data"/appendonlydir/* > /dev/null
commands=$($rdbkit aof info "$data/appendonlydir" --format json | python3 -c 'import json,sys; print(json.load(sys.stdin)["commands"])')
before=$(du -b "$data/appendonlydir" | cut -f1)
best=
for i in $(seq "$runs"); do
    out=$(mktemp -d /tmp/rdbkit-aof-bench.XXXXXX)
    rm -rf "$out/new"
    /usr/bin/time -f '%e %U %S %M' -o "$out/time" $rdbkit aof rewrite "$data/appendonlydir" -o "$out/new" \
        --preamble "${PREAMBLE:-rdb}" > "$out/log"
    read -r secs user sys rss < "$out/time"
    replay=$(sed -n 's/.* in \([0-9.]*\) s (.*/\1/p' "$out/log" | head -1)
    after=$(du -b "$out/new" | cut -f1)
    rm -rf "$out"
    echo "run $i: ${secs} s wall (${user} s user, ${sys} s sys), replay ${replay} s, peak RSS ${rss} KiB" >&2
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $secs < $best else 1)"; then
        best=$secs; best_cpu=$(python3 -c "print($user + $sys)"); best_replay=$replay; best_rss=$rss
    fi
done
python3 - "$commands" "$best" "$best_cpu" "$best_replay" "$best_rss" "$before" "$after" <<'PY'
import sys
commands, secs, cpu, replay, rss, before, after = int(sys.argv[1]), *map(float, sys.argv[2:5]), int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
print(f"AOF: {before/2**20:.0f} MiB, {commands} commands")
print(f"rewrite, whole (read, replay, write): {secs:.2f} s wall, {cpu:.2f} s CPU -> {commands/secs/1e6:.2f} M commands/s")
print(f"read + replay alone: {replay:.2f} s -> {commands/replay/1e6:.2f} M commands/s; peak RSS {rss/1024:.0f} MiB")
print(f"result: {after/2**20:.1f} MiB ({after*100/before:.1f}% of the AOF)")
PY
