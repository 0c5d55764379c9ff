#!/usr/bin/env bash
# Runs the whole test suite against real servers.
#
# Installs the servers first (scripts/install-servers.sh, idempotent; needs root on a
# fresh Debian 12) and chromium for the HTML report test (scripts/install-chromium.sh),
# then runs every test of the workspace. With
# RDBKIT_REQUIRE_SERVERS=1 (CI sets it) a test whose server is missing fails instead
# of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${RDBKIT_SKIP_INSTALL:-0}" != 1 ]; then
    scripts/install-servers.sh
    scripts/install-chromium.sh
fi
cargo test --workspace --locked "$@"
