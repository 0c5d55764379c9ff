# Sourced by the memory benchmark scripts: one throw-away server in a temporary
# directory, stopped by its pid and removed on exit.
#
#   start_server BINARY [DUMP]   # sets $work, $port, $pid; DUMP is loaded when given
#   cli ARGS...                  # redis-cli against that server

bin_dir=${RDBKIT_SERVERS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.servers}/bin
cli_bin=$bin_dir/redis-cli
[ -x "$cli_bin" ] || cli_bin=$(command -v redis-cli) || { echo "redis-cli not found" >&2; exit 1; }

work=$(mktemp -d /tmp/rdbkit-bench.XXXXXX)
pid=
port=
stop_server() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop_server EXIT

cli() { "$cli_bin" -h 127.0.0.1 -p "$port" "$@"; }

start_server() {
    local binary=$1 dump=${2:-}
    [ -z "$dump" ] || cp "$dump" "$work/dump.rdb"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    "$binary" --bind 127.0.0.1 --port "$port" --dir "$work" --dbfilename dump.rdb --save '' \
        --appendonly no --daemonize no --logfile "$work/server.log" &
    pid=$!
    # Loading a dump can take a while: PING answers once it is done.
    for _ in $(seq 600); do
        cli PING 2>/dev/null | grep -q PONG && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$work/server.log" >&2; echo "the server exited" >&2; exit 1; }
        sleep 0.1
    done
    echo "the server did not answer on port $port" >&2
    exit 1
}
