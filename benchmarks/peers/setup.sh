#!/usr/bin/env bash
# benchmarks/peers/setup.sh - install what the peer benchmarks need: Debian's
# PyTorch, scikit-learn and Optuna for /usr/bin/python3, and procps (pgrep:
# run.sh waits for the peers' leftover processes). Does nothing (and prints
# nothing) when all are already installed; uses sudo when not root. Exits 1
# with a one-line error when it cannot install them.
set -euo pipefail

PKGS="python3-torch python3-sklearn python3-optuna procps"
missing=""
for p in $PKGS; do
    if ! dpkg -s "$p" 2> /dev/null | grep -q '^Status: install ok installed'; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
    SUDO=""
elif command -v sudo > /dev/null 2>&1; then
    SUDO="sudo"
else
    echo "peers/setup.sh: missing$missing and not root, and sudo is not available" >&2
    exit 1
fi

echo "peers/setup.sh: installing$missing" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt_install() {
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends $PKGS > "$log" 2>&1
}
# a stale package index is the usual failure: update it once and retry
if ! apt_install && ! { $SUDO apt-get update -qq > "$log" 2>&1 && apt_install; }; then
    why=$(grep -E '^(E|W):' "$log" | head -n 1)
    echo "peers/setup.sh: apt-get install$missing failed: ${why:-$(tail -n 1 "$log")}" >&2
    exit 1
fi
