#!/usr/bin/env bash
# Builds memtide and runs every test: the full suite (warnings as errors),
# then the unit tests of the non-preload code under AddressSanitizer+UBSan and
# under ThreadSanitizer. Installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${MEMTIDE_JOBS:-$(nproc)}

bash scripts/install-deps.sh

echo "== build (RelWithDebInfo, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMTIDE_WERROR=ON \
  -DMEMTIDE_BUILD_TESTS=ON -DMEMTIDE_BUILD_SAMPLES=ON -DMEMTIDE_BUILD_BENCH=ON -DMEMTIDE_SANITIZE= >/dev/null
cmake --build build -j"$jobs"

echo "== tests"
(cd build && ctest --output-on-failure --no-tests=error -j"$jobs" --timeout 600)

for sanitizer in address,undefined thread; do
  dir=build-sanitize-${sanitizer%%,*}
  echo "== unit tests under -fsanitize=$sanitizer"
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Debug -DMEMTIDE_SANITIZE="$sanitizer" \
    -DMEMTIDE_BUILD_SAMPLES=OFF -DMEMTIDE_BUILD_BENCH=OFF -DMEMTIDE_WERROR=ON >/dev/null
  cmake --build "$dir" -j"$jobs" --target memtide_unit_tests
  # TSan needs a fixed address layout; setarch turns off randomisation.
  TSAN_OPTIONS="halt_on_error=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
    setarch "$(uname -m)" -R "$root/$dir/tests/memtide_unit_tests" --gtest_brief=1
done
echo "== all tests passed"
