#!/usr/bin/env bash
# Compare `rdbkit backup run` with the shell glue it replaces, in the same run, on the
# same server and the same S3 server:
#
#   redis-cli --rdb - | gzip -1 | aws s3 cp - s3://...      (no verification at all)
#   rdbkit backup run --source redis://... --repo s3://...   (parse + CRC + zstd + SHA-256)
#
# and the same two to a local directory (`> file` against `--repo DIR`).
#
#   bench/backup.sh [DUMP]      # default bench/data/dump-256m.rdb (made if missing)
#
# A Redis 7.0 server (Debian package) loads DUMP with repl-diskless-sync yes and no
# delay, so both tools get the same diskless replication stream (bench/lib.sh, shared
# with the `backup` row of bench/run.sh, which compares the two local methods). The S3 server is
# s3s-fs on loopback (scripts/install-servers.sh); the AWS CLI comes from PyPI
# (awscli, pinned) into bench/data/awscli. RUNS=n timed runs per method (default 3),
# alternating between the methods; the best wall time counts. Every server and
# temporary file is removed on exit.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
dump=${1:-$bench_dir/data/dump-256m.rdb}
runs=${RUNS:-3}
awscli_version=1.46.3

s3s=$servers_dir/bin/s3s-fs
[ -x "$s3s" ] || s3s=$(command -v s3s-fs) || die "needs s3s-fs (scripts/install-servers.sh)"
if [ ! -f "$dump" ]; then
    note "no $dump: making one with bench/make-dump.sh 256"
    "$bench_dir/make-dump.sh" 256 "$dump"
fi
aws=$bench_dir/data/awscli/bin/aws
if [ ! -x "$aws" ]; then
    note "installing awscli==$awscli_version into $bench_dir/data/awscli"
    python3 -m venv "$bench_dir/data/awscli"
    "$bench_dir/data/awscli/bin/python" -m pip install --quiet --disable-pip-version-check "awscli==$awscli_version"
fi
(cd "$repo_root" && cargo build --release -q -p rdbkit)
rdbkit=$repo_root/target/release/rdbkit

# The server, loading the dump (Debian's Redis 7.0 when it is installed).
start_backup_source "$dump" "$(command -v redis-server || server_bin redis-7.0)"

# The S3 server.
s3_port=$(free_port)
mkdir -p "$work/s3/bench"
"$s3s" --host 127.0.0.1 --port "$s3_port" --access-key bench --secret-key bench-secret-key "$work/s3" \
    >"$work/s3.log" 2>&1 &
server_pids+=($!)
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$s3_port") 2>/dev/null && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench-secret-key AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=$work/aws-config
printf '[default]\ns3 =\n    addressing_style = path\n' >"$AWS_CONFIG_FILE"
endpoint=http://127.0.0.1:$s3_port

# Each method: $1 = run number. Writes its output size to $work/size.
baseline_s3() {
    "$cli_bin" -p "$port" --rdb - 2>/dev/null | gzip -1 \
        | "$aws" s3 cp - "s3://bench/baseline/dump-$1.rdb.gz" --endpoint-url "$endpoint" --only-show-errors
    stat -c %s "$work/s3/bench/baseline/dump-$1.rdb.gz" >"$work/size"
}
rdbkit_s3() {
    "$rdbkit" -q backup run --source "redis://127.0.0.1:$port" --repo s3://bench/rdbkit \
        --endpoint "$endpoint" --path-style
    "$rdbkit" backup list --repo s3://bench/rdbkit --endpoint "$endpoint" --path-style --format json \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["stored_bytes"])' >"$work/size"
}
baseline_local() {
    mkdir -p "$work/local-baseline"
    backup_gzip_file "$port" "$work/local-baseline/dump-$1.rdb.gz"
    stat -c %s "$work/local-baseline/dump-$1.rdb.gz" >"$work/size"
}
rdbkit_local() {
    backup_rdbkit_dir "$rdbkit" "$port" "$work/local-rdbkit"
    "$rdbkit" backup list --repo "$work/local-rdbkit" --format json \
        | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["stored_bytes"])' >"$work/size"
}

methods=(baseline_s3 rdbkit_s3 baseline_local rdbkit_local)
declare -A best cpu size
TIMEFORMAT='%R %U %S'
for run in $(seq "$runs"); do
    for m in "${methods[@]}"; do
        t=$( { time "$m" "$run" >/dev/null; } 2>&1 | tail -1 )
        read -r wall user sys <<<"$t"
        note "run $run $m: ${wall}s wall, $(python3 -c "print(f'{$user + $sys:.2f}')")s CPU"
        if [ -z "${best[$m]:-}" ] || python3 -c "import sys; sys.exit(0 if $wall < ${best[$m]} else 1)"; then
            best[$m]=$wall
            cpu[$m]=$(python3 -c "print(f'{$user + $sys:.2f}')")
            size[$m]=$(cat "$work/size")
        fi
    done
done

bytes=$(stat -c %s "$dump")
echo
echo "dump: $dump ($bytes bytes); best of $runs runs; CPU = user+sys of the client processes"
printf '%-46s %8s %8s %14s %7s\n' method seconds "CPU s" "stored bytes" ratio
label() {
    case $1 in
        baseline_s3) echo "redis-cli --rdb - | gzip -1 | aws s3 cp - (S3)" ;;
        rdbkit_s3) echo "rdbkit backup run (zstd, verified) (S3)" ;;
        baseline_local) echo "redis-cli --rdb - | gzip -1 > file" ;;
        rdbkit_local) echo "rdbkit backup run (zstd, verified) (dir)" ;;
    esac
}
for m in "${methods[@]}"; do
    printf '%-46s %8s %8s %14s %7s\n' "$(label "$m")" "${best[$m]}" "${cpu[$m]}" "${size[$m]}" \
        "$(python3 -c "print(f'{${size[$m]} / $bytes:.3f}')")"
done
for pair in "s3 baseline_s3 rdbkit_s3" "dir baseline_local rdbkit_local"; do
    read -r name a b <<<"$pair"
    python3 - "$name" "${best[$a]}" "${best[$b]}" "${size[$a]}" "${size[$b]}" <<'PY'
import sys
name, ta, tb, sa, sb = sys.argv[1], *map(float, sys.argv[2:])
print(f"{name}: rdbkit takes {tb / ta:.2f}x the baseline's time ({'not slower' if tb <= ta * 1.05 else 'SLOWER'}), "
      f"stores {sb / sa:.2f}x its bytes ({'smaller' if sb < sa else 'NOT smaller'})")
PY
done
