#!/bin/sh
# Installs the Debian packages ltsim needs, only those that are missing: dpkg-query first,
# then one apt-get update + install (through sudo when not root). A second run costs nothing.
# Usage: .ci/deps.sh [extra packages...]
set -eu
PKGS="gcc make pkg-config libopenblas-dev libyaml-dev libcjson-dev libcmocka-dev libsqlite3-dev gnuplot-nox $*"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "ltsim: installing missing Debian packages:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
        echo "ltsim: need root or sudo to install:$missing" >&2
        exit 1
    }
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
