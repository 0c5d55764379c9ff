#!/usr/bin/env bash
# Compare `rdbkit verify` with `redis-check-rdb` on one dump, in the same run.
#
#   bench/verify.sh [DUMP]        # default bench/data/dump-1g.rdb
#
# Environment: RUNS (default 3) timed runs per tool; the best wall time is kept.
#
# Builds target/release/rdbkit, reads the dump once to warm the page cache,
# then runs both tools RUNS times each, interleaved, under GNU time
# (`/usr/bin/time -f '%e %M %U %S'`: wall seconds, peak RSS in KiB, user and
# system CPU seconds). Every run of
# both tools must exit 0, or the script fails. Prints the machine, the dump,
# a table and the speed ratio (redis-check-rdb seconds / rdbkit seconds).
# Units: MiB = 2^20 bytes.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$bench_dir/.." && pwd)
dump=${1:-$bench_dir/data/dump-1g.rdb}
runs=${RUNS:-3}

die() { echo "verify.sh: error: $*" >&2; exit 1; }

[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
[ -f "$dump" ] || die "no dump at $dump (make one with bench/make-dump.sh)"

# --- tools --------------------------------------------------------------------
install_pkgs() {
    [ "$(id -u)" = 0 ] || die "missing: $*; install the Debian packages $*"
    made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then  # no init system: start no daemon
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    [ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}
[ -x /usr/bin/time ] || install_pkgs time
command -v redis-check-rdb >/dev/null 2>&1 || install_pkgs redis-tools
check_rdb=$(command -v redis-check-rdb)

echo "== build"
(cd "$repo_root" && cargo build --release -p rdbkit --quiet)
rdbkit=$repo_root/target/release/rdbkit
[ -x "$rdbkit" ] || die "no $rdbkit after the build"

check_version=$("$check_rdb" --version 2>&1 | head -n 1)
rdbkit_version=$("$rdbkit" --version | head -n 1)
commit=$(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$repo_root" status --porcelain -- rdb-parser cli Cargo.toml Cargo.lock 2>/dev/null)" ]; then
    commit="$commit+local-changes"
fi

# --- machine and dump -----------------------------------------------------------
echo "== machine"
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
mem_kib=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo)
echo "cpu:      ${cpu:-unknown}"
echo "cores:    $(nproc)"
echo "memory:   $((mem_kib / 1024)) MiB"
echo "kernel:   $(uname -sr)"
echo "load avg: $(cut -d' ' -f1-3 /proc/loadavg) (before the runs)"

bytes=$(stat -c %s "$dump")
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
header=$(head -c 9 "$dump" | tr -c '[:print:]' '?')
echo "== dump"
echo "file:     $dump"
echo "size:     $bytes bytes ($mib MiB)"
echo "header:   $header"
redis_ver=$(head -c 4096 "$dump" | grep -a -o 'redis-ver.[0-9][0-9.]*' | head -n 1 | cut -c 11- || true)
[ -n "$redis_ver" ] && echo "written by: redis $redis_ver"

# --- runs -----------------------------------------------------------------------
work=$(mktemp -d /tmp/rdbkit-verify-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "== warm-up: one full read of the dump (cat > /dev/null), so the page cache is warm for both tools"
cat "$dump" >/dev/null

# run NAME CMD...: one timed run; appends "seconds rss_kib" to $work/NAME.times.
run() {
    local name=$1 i=$2
    shift 2
    local log="$work/$name.$i.log" rc=0
    /usr/bin/time -o "$work/$name.$i.time" -f '%e %M %U %S' "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        tail -n 20 "$log" >&2
        die "$name exited with $rc on run $i: $*"
    fi
    tail -n 1 "$work/$name.$i.time" >>"$work/$name.times"
    tail -n 1 "$work/$name.$i.time" | awk -v n="$name" -v i="$i" \
        '{ printf "  %-16s run %d: %s s wall, %.2f s CPU (user+sys), peak RSS %s KiB, exit 0\n", n, i, $1, $3 + $4, $2 }'
}

echo "== $runs timed runs per tool, interleaved"
for i in $(seq "$runs"); do
    run redis-check-rdb "$i" "$check_rdb" "$dump"
    run rdbkit "$i" "$rdbkit" verify --quiet "$dump"
done
grep -q 'RDB looks OK' "$work/redis-check-rdb.1.log" || die "redis-check-rdb did not say 'RDB looks OK'"
echo "  redis-check-rdb: $(grep -a 'RDB looks OK' "$work/redis-check-rdb.1.log" | head -n 1)"
echo "  rdbkit:          $(tail -n 1 "$work/rdbkit.1.log")"

# best (lowest) time, and the highest peak RSS seen over the runs
best() { sort -n -k1,1 "$work/$1.times" | head -n 1 | cut -d' ' -f1; }
cpu() { sort -n -k1,1 "$work/$1.times" | head -n 1 | awk '{ print $3 + $4 }'; }
peak() { sort -n -k2,2 "$work/$1.times" | tail -n 1 | cut -d' ' -f2; }
c_s=$(best redis-check-rdb); c_rss=$(peak redis-check-rdb); c_cpu=$(cpu redis-check-rdb)
r_s=$(best rdbkit); r_rss=$(peak rdbkit); r_cpu=$(cpu rdbkit)

echo "== results (best of $runs wall times, warm page cache; CPU = user+sys of that run;"
echo "   peak RSS = highest of the runs; MiB = 2^20 bytes)"
awk -v bytes="$bytes" -v cv="$check_version" -v rv="$rdbkit_version ($commit)" \
    -v cs="$c_s" -v crss="$c_rss" -v ccpu="$c_cpu" -v rs="$r_s" -v rrss="$r_rss" -v rcpu="$r_cpu" 'BEGIN {
    mib = bytes / 1048576
    fmt = "| %-15s | %-36s | %7s | %7s | %7s | %12s |\n"
    printf fmt, "tool", "version", "seconds", "CPU s", "MiB/s", "peak RSS MiB"
    printf "|-----------------|--------------------------------------|---------|---------|---------|--------------|\n"
    printf fmt, "redis-check-rdb", cv, sprintf("%.2f", cs), sprintf("%.2f", ccpu), sprintf("%.1f", mib / cs), sprintf("%.1f", crss / 1024)
    printf fmt, "rdbkit verify", rv, sprintf("%.2f", rs), sprintf("%.2f", rcpu), sprintf("%.1f", mib / rs), sprintf("%.1f", rrss / 1024)
    ratio = cs / rs
    printf "\nratio (redis-check-rdb seconds / rdbkit seconds): %.2fx", ratio
    if (rcpu > 0) printf " (CPU time ratio %.2fx)", ccpu / rcpu
    printf "\n"
    printf "target: >= 2x faster: %s; rdbkit peak RSS under 100 MB (10^8 bytes): %s\n", \
        (ratio >= 2 ? "met" : "NOT met"), (rrss * 1024 < 100000000 ? "met" : "NOT met")
}'
