#!/usr/bin/env bash
# Installs what the tests and the demo need on Debian 12, only when missing:
# Debian packages with apt-get (as root, or through sudo) and the npm
# packages pinned by tests/package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  gcc g++ clang libclang-rt-14-dev make
  libmbedtls-dev libprotobuf-c-dev protobuf-c-compiler nanopb libnanopb-dev liblwip-dev
  gcc-arm-none-eabi libnewlib-arm-none-eabi
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross
  gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
  gcc-s390x-linux-gnu libc6-dev-s390x-cross
  qemu-user qemu-system-arm nodejs npm openssl ca-certificates libssl-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from elsewhere than Debian; then they need no package
if command -v node >/dev/null && command -v npm >/dev/null; then
  kept=(); for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || kept+=("$p"); done
  missing=("${kept[@]+"${kept[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ ! -d tests/node_modules ] || [ tests/package-lock.json -nt tests/node_modules/.package-lock.json ]; then
  echo "deps: installing npm packages from tests/package-lock.json"
  (cd tests && npm ci --no-audit --no-fund --loglevel=error)
fi
