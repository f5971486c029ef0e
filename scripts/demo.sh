#!/usr/bin/env bash
# The main job: build memtide and the reference training engine, profile a
# short training run (with a planted leak, so the report has something to
# say), print what the trace holds and the leak report, and write the HTML,
# JSON and JUnit reports beside the trace. memtide-gui is built too, to
# browse the trace afterwards.
# Usage: scripts/demo.sh [output.db]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${MEMTIDE_JOBS:-$(nproc)}
output=${1:-$PWD/demo/train.db}
reports=$(dirname "$output")

bash scripts/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMEMTIDE_BUILD_SAMPLES=ON >/dev/null
cmake --build build -j"$jobs" --target memtide memtide_agent memtide-sample-mlp memtide-gui

mkdir -p "$reports"
echo "== profiling: memtide run -o $output -- memtide-sample-mlp --steps 20 --leak workspace"
build/bin/memtide run -o "$output" -- build/samples/memtide-sample-mlp --steps 20 --leak workspace
echo
echo "== memtide info $output"
build/bin/memtide info "$output"
echo
echo "== memtide leaks $output"
build/bin/memtide leaks "$output"
echo
echo "== memtide report $output --html --json --junit"
# The report exits 1 when a gate fails: the planted leak fails --fail-on definite.
status=0
build/bin/memtide report "$output" --fail-on definite --html "$reports/report.html" \
  --json "$reports/report.json" --junit "$reports/report.xml" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 1 ]; then
  echo "memtide report failed ($status)" >&2
  exit "$status"
fi
echo
echo "reports: $reports/report.html, $reports/report.json, $reports/report.xml"
echo "browse:  build/bin/memtide gui $output"
