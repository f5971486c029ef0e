#!/usr/bin/env bash
# Installs the Debian packages memtide needs to build and test, only those
# missing; safe to run again. Usage: scripts/install-deps.sh [extra packages...]
set -euo pipefail

packages=(
  build-essential cmake pkg-config binutils
  libsqlite3-dev sqlite3 libunwind-dev libzstd-dev nlohmann-json3-dev
  libeigen3-dev libgtest-dev libgmock-dev libbenchmark-dev
  libdw-dev elfutils
  chromium
  qt6-base-dev libqt6svg6-dev fonts-dejavu-core
  "$@"
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "memtide: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
