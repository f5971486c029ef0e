#!/bin/bash
# Prepares gpu-kit/ for scripts/gpu-check.sh on a GPU machine without a build
# toolchain: the agent, the CLI, the sample engine and the CUDA test apps built
# here (a Debian 12 build loads on newer distributions), with the few shared
# libraries the target may lack. Usage: scripts/gpu-kit.sh [BUILD_DIR]
set -euo pipefail
shopt -s extglob
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
kit=$root/gpu-kit
nvcc=${NVCC:-/usr/local/cuda/bin/nvcc}
cmake --build "$build" --target memtide_agent memtide memtide-sample-mlp memtide-engine-cuda-test
rm -rf "$kit"
mkdir -p "$kit/bin" "$kit/lib" "$kit/deps" "$kit/cli-deps" "$kit/apps"
cp "$build/lib/libmemtide.so" "$kit/lib/"
cp "$build/bin/memtide" "$kit/bin/"
cp "$build/samples/memtide-sample-mlp" "$build/samples/tests/memtide-engine-cuda-test" "$kit/apps/"
for runtime in static shared; do
  "$nvcc" -O2 -arch=sm_90 -cudart=$runtime -I"$root/agent/include" \
    -o "$kit/apps/every_kind_$runtime" "$root/scripts/gpu/every_kind.cu" \
    -L/usr/local/cuda/lib64/stubs -lcuda -lcublas
done
# Shared libraries beyond the C and C++ runtimes: the agent's go in deps/
# (on the traced programs' library path), the CLI's others in cli-deps/ (only
# on memtide's own, so that a traced Python keeps its distribution's libz).
# Every distribution has the C and C++ runtimes and the compression libraries
# (a newer one than Debian 12's is fine for the agent's libunwind).
copy_deps() {  # copy_deps BINARY DEST [SKIP-PATTERN]
  ldd "$1" | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
    case $name in libc.so* | libm.so* | libgcc_s.so* | libstdc++.so* | ld-linux*) continue ;; esac
    [[ -n ${3:-} && $name == $3 ]] && continue
    [ -e "$kit/deps/$name" ] || cp -L "$path" "$2/"
  done
}
copy_deps "$kit/lib/libmemtide.so" "$kit/deps" "@(liblzma|libz|libbz2).so*"
copy_deps "$kit/bin/memtide" "$kit/cli-deps"
strip --strip-debug "$kit"/apps/* "$kit"/bin/* "$kit"/lib/*
du -sh "$kit"
