#!/usr/bin/env bash
# Install Debian's chromium, which the `rdbkit memory --html` test opens headless to
# check that the report renders without script errors and to take a screenshot.
#
# Meant for a fresh Debian 12 machine, run as root (scripts/test.sh calls it). Safe to
# run again: nothing happens when chromium is already on PATH.
set -euo pipefail

if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    echo "install-chromium: chromium already present" >&2
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "install-chromium: error: chromium is missing and not running as root" >&2; exit 1; }
command -v apt-get >/dev/null 2>&1 || { echo "install-chromium: error: apt-get not found; install chromium by hand" >&2; exit 1; }
echo "install-chromium: apt-get install chromium" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
