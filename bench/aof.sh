#!/usr/bin/env bash
# Offline AOF rewrite: `rdbkit aof rewrite` on an AOF of about SIZE_MB written by a
# real Redis 7.0 under an overwrite-heavy workload (bench/gen_aof_workload.py).
# Reports commands replayed per second (best of RUNS), peak memory, and the size
# before and after. The AOF is kept in bench/data/ for later runs. `bench/run.sh aof`
# makes the same measurement as one row of its table.
#
#   bench/aof.sh [SIZE_MB]        # default 1024; RUNS=n (default 3); PREAMBLE=resp
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
size_mb=${1:-1024}
runs=${RUNS:-3}
data=$repo_root/bench/data/aof-${size_mb}m
need_pkgs /usr/bin/time:time python3:python3

[ -f "$data/appendonlydir/appendonly.aof.manifest" ] || make_workload_aof "$size_mb" "$data"

(cd "$repo_root" && cargo build --release -q -p rdbkit)
rdbkit=$repo_root/target/release/rdbkit
cat "$data"/appendonlydir/* >/dev/null
commands=$(aof_commands "$rdbkit" "$data/appendonlydir")
before=$(du -sb "$data/appendonlydir" | cut -f1)
for i in $(seq "$runs"); do
    rm -rf "$work/new"
    timed rewrite "'$rdbkit' aof rewrite '$data/appendonlydir' -o '$work/new' --preamble '${PREAMBLE:-rdb}'"
    read -r secs _ user sys < <(tail -n 1 "$work/rewrite.times")
    grep 'commands/s' "$work/rewrite.log" >>"$work/replay.lines"
    note "run $i: ${secs} s wall (${user} s user, ${sys} s sys); $(tail -n 1 "$work/replay.lines")"
    after=$(du -sb "$work/new" | cut -f1)
done
# The best run's own timing of reading and replaying.
best_n=$(awk '{ print NR, $1 }' "$work/rewrite.times" | sort -n -k2,2 | head -n 1 | cut -d' ' -f1)
echo "best run, rdbkit's own timing: $(sed -n "${best_n}p" "$work/replay.lines")"
python3 - "$commands" "$(best rewrite)" "$(cpu rewrite)" "$(peak rewrite)" "$before" "$after" <<'PY'
import sys
commands, secs, cpu, rss, before, after = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(f"AOF: {before/2**20:.0f} MiB, {commands} commands")
print(f"rewrite, whole (read, replay, write): {secs:.2f} s wall, {cpu:.2f} s CPU -> {commands/secs/1e6:.2f} M commands/s")
print(f"peak RSS {rss/1024:.0f} MiB; result: {after/2**20:.1f} MiB ({after*100/before:.1f}% of the AOF)")
PY
