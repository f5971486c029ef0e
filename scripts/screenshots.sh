#!/usr/bin/env bash
# Pictures of memtide-gui for the README: builds memtide and the sample
# engine, records two short training runs of the sample MLP (one with a
# planted leak, one with activation checkpointing), and saves a PNG of every
# page of memtide-gui, run under Xvfb, into docs/images/.
# Usage: scripts/screenshots.sh [OUTPUT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MEMTIDE_JOBS:-$(nproc)}
out=${1:-$PWD/docs/images}

bash scripts/install-deps.sh xvfb xauth

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMTIDE_BUILD_SAMPLES=ON \
  -DMEMTIDE_BUILD_GUI=ON >/dev/null
cmake --build build -j"$jobs" --target memtide memtide_agent memtide-gui memtide-sample-mlp

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/bin/memtide run -o "$work/train.db" -- \
  build/samples/memtide-sample-mlp --steps 30 --leak workspace --log-every 0 >/dev/null
build/bin/memtide run -o "$work/checkpoint.db" -- \
  build/samples/memtide-sample-mlp --steps 30 --checkpoint 2 --leak workspace --log-every 0 >/dev/null

mkdir -p "$out"
# A fixed window size and style, so the pictures do not depend on the desktop.
xvfb-run -a -s "-screen 0 1400x900x24" \
  build/bin/memtide-gui --screenshots "$out" "$work/train.db" "$work/checkpoint.db"
echo "screenshots in $out"
