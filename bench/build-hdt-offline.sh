#!/usr/bin/env bash
# Builds HDT3213/rdb without the Go module proxy, from source trees already on disk.
#
#   bench/build-hdt-offline.sh [-o OUT_DIR] RDB_SRC MODULE=DIR...
#
#   RDB_SRC      a checkout of github.com/hdt3213/rdb (left untouched: it is copied)
#   MODULE=DIR   one source tree per module its build needs, e.g.
#                github.com/bytedance/sonic=/src/sonic (the version go.mod requires)
#   -o OUT_DIR   default ${CACHE:-~/.cache/rdbkit-bench}/hdt-offline; the binary is
#                OUT_DIR/rdb, the scratch copies are under OUT_DIR/src
#
# The copy of RDB_SRC gets one `replace MODULE => DIR` line per argument (nothing else
# of it changes); each DIR is copied too, without its subdirectories that hold their own
# go.mod (a module's zip leaves nested modules out the same way; give them as modules of
# their own). Go runs with GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod, so any module that
# is neither replaced nor in the module cache fails the build with its name.
# Then: HDT_RDB_BIN=OUT_DIR/rdb bench/run.sh ndjson memory
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

out=${CACHE:-$HOME/.cache/rdbkit-bench}/hdt-offline
if [ "${1:-}" = -o ]; then
    [ $# -ge 2 ] || die "-o needs a directory"
    out=$2
    shift 2
fi
[ $# -ge 1 ] || die "usage: $me [-o OUT_DIR] RDB_SRC MODULE=DIR..."
rdb_src=$1
shift
[ -f "$rdb_src/go.mod" ] || die "$rdb_src/go.mod: not found (expected a checkout of HDT3213/rdb)"
need_pkgs go:golang-go

mkdir -p "$out"
out=$(cd "$out" && pwd)
src=$out/src
rm -rf "$src"
mkdir -p "$src"

# copy_tree FROM TO: FROM's files without nested modules (subdirectories with a go.mod).
copy_tree() {
    mkdir -p "$2"
    cp -a "$1/." "$2/"
    find "$2" -mindepth 2 -name go.mod -printf '%h\n' | sort -u | while read -r nested; do
        rm -rf "$nested"
    done
}

copy_tree "$rdb_src" "$src/rdb"
replaces=()
n=0
for arg in "$@"; do
    module=${arg%%=*}
    dir=${arg#*=}
    [ "$module" != "$arg" ] && [ -n "$module" ] || die "$arg: expected MODULE=DIR"
    [ -f "$dir/go.mod" ] || die "$dir/go.mod: not found (source of $module)"
    n=$((n + 1))
    copy_tree "$dir" "$src/dep$n"
    replaces+=("$module => $src/dep$n")
done
{
    echo
    for r in "${replaces[@]}"; do echo "replace $r"; done
} >>"$src/rdb/go.mod"

note "go build $src/rdb -> $out/rdb ($(go version))"
(cd "$src/rdb" && GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod go build -o "$out/rdb" .)
echo "$out/rdb"
