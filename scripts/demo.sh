#!/usr/bin/env bash
# The main job: build memtide and the reference training engine, profile a
# short training run, and print what the trace holds.
# Usage: scripts/demo.sh [output.db]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MEMTIDE_JOBS:-$(nproc)}
output=${1:-$PWD/demo/train.db}

bash scripts/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMTIDE_BUILD_SAMPLES=ON >/dev/null
cmake --build build -j"$jobs" --target memtide memtide_agent memtide-sample-mlp

mkdir -p "$(dirname "$output")"
echo "== profiling: memtide run -o $output -- memtide-sample-mlp --steps 20"
build/bin/memtide run -o "$output" -- build/samples/memtide-sample-mlp --steps 20
echo
echo "== memtide info $output"
build/bin/memtide info "$output"
