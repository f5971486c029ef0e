#!/bin/bash
# Prepares gpu-kit/ for scripts/gpu-check.sh on a GPU machine without a build
# toolchain: the agent, the CLI, the sample engine and the CUDA test apps built
# here (a Debian 12 build loads on newer distributions), with the few shared
# libraries the target may lack. Usage: scripts/gpu-kit.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
kit=$root/gpu-kit
nvcc=${NVCC:-/usr/local/cuda/bin/nvcc}
cmake --build "$build" --target memtide_agent memtide memtide-sample-mlp memtide-engine-cuda-test
rm -rf "$kit"
mkdir -p "$kit/bin" "$kit/lib" "$kit/deps" "$kit/apps"
cp "$build/lib/libmemtide.so" "$kit/lib/"
cp "$build/bin/memtide" "$kit/bin/"
cp "$build/samples/memtide-sample-mlp" "$build/samples/tests/memtide-engine-cuda-test" "$kit/apps/"
for runtime in static shared; do
  "$nvcc" -O2 -arch=sm_90 -cudart=$runtime -I"$root/agent/include" \
    -o "$kit/apps/every_kind_$runtime" "$root/scripts/gpu/every_kind.cu" \
    -L/usr/local/cuda/lib64/stubs -lcuda -lcublas
done
for lib in libunwind.so.8 libsqlite3.so.0 libzstd.so.1; do
  cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')" "$kit/deps/"
done
strip --strip-debug "$kit"/apps/* "$kit"/bin/* "$kit"/lib/*
du -sh "$kit"
