#!/usr/bin/env bash
# memtide-gui's benchmark: time to the first page (TraceLoader::loadNow on a
# trace already indexed), the timeline's whole-run series, the chart's
# redraw over zoom and pan steps (offscreen, median and p95), the refinement
# of a zoomed window, and the peak RSS, on traces of the tiny new/delete
# workload (bench/analysis-benchmark.sh's generator). Medians of the runs.
#
#   bench/gui-benchmark.sh [--runs N] [--sizes 1,10] [--build-dir DIR] [--work-dir DIR]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=3
SIZES="1,10"
BUILD_DIR="$REPO/build-gui-bench"
WORK_DIR=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
WORK_DIR=${WORK_DIR:-$BUILD_DIR/gui-work}
mkdir -p "$WORK_DIR"
cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMEMTIDE_BUILD_TESTS=OFF \
  -DMEMTIDE_BUILD_SAMPLES=OFF -DMEMTIDE_WITH_CUDA=OFF -DMEMTIDE_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD_DIR" -j2 --target memtide memtide_agent bench-tiny-new-delete \
  bench-gui-timeline >/dev/null
BENCH="$BUILD_DIR/bin/bench-gui-timeline"

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }

printf '| events | load s | whole-run series s | redraw median ms | redraw p95 ms | refine s | peak RSS MiB |\n'
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
IFS=, read -ra sizes <<<"$SIZES"
for millions in "${sizes[@]}"; do
  trace="$WORK_DIR/tiny-${millions}M.db"
  rm -f "$trace"*
  # new + delete of small objects: COUNT pairs make 2 x COUNT events.
  LD_PRELOAD="$BUILD_DIR/lib/libmemtide.so" MEMTIDE_OUTPUT="$trace" MEMTIDE_QUIET=1 \
    "$BUILD_DIR/bin/bench-tiny-new-delete" $((millions * 500000)) >/dev/null
  "$BUILD_DIR/bin/memtide" index "$trace" >/dev/null
  : >"$WORK_DIR/runs.txt"
  for _ in $(seq 1 "$RUNS"); do "$BENCH" "$trace" 200 >>"$WORK_DIR/runs.txt"; done
  events=$(head -1 "$WORK_DIR/runs.txt" | field events)
  cols=()
  for key in load_s whole_timeline_s redraw_median_ms redraw_p95_ms refine_s maxrss_kib; do
    cols+=("$(field "$key" <"$WORK_DIR/runs.txt" | median)")
  done
  printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$events" "${cols[0]}" "${cols[1]}" \
    "${cols[2]}" "${cols[3]}" "${cols[4]}" "$((cols[5] / 1024))"
  rm -f "$trace"*
done
