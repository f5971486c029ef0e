#!/usr/bin/env bash
# memtide-gui's benchmark: time to the first page (TraceLoader::loadNow on a
# trace already indexed), the timeline's whole-run series, the chart's
# redraw over zoom and pan steps (offscreen, median and p95), the refinement
# of a zoomed window, and the peak RSS, on traces of the tiny new/delete
# workload (bench/analysis-benchmark.sh's generator). Medians of the runs.
#
# Writes its section of docs/benchmarks.md (between the gui-benchmark
# markers) and prints it.
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

rows=""
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
  rows+=$(printf '| %s | %s | %s | %s | %s | %s | %s |' "$events" "${cols[0]}" "${cols[1]}" \
    "${cols[2]}" "${cols[3]}" "${cols[4]}" "$((cols[5] / 1024))")$'\n'
  rm -f "$trace"*
done

ROWS="$rows" RUNS="$RUNS" SIZES="$SIZES" python3 - "$REPO/docs/benchmarks.md" <<'PY'
import datetime, os, platform, sys
output = sys.argv[1]
cpu = "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
begin, end = "<!-- gui-benchmark:begin -->", "<!-- gui-benchmark:end -->"
lines = [begin, "## memtide-gui: first page, timeline redraw, memory", "",
         f"`bench/gui-benchmark.sh --runs {os.environ['RUNS']} --sizes {os.environ['SIZES']}` on "
         f"{datetime.date.today()}, {cpu}, {os.cpu_count()} CPUs, Release build. Traces of the tiny "
         "new/delete workload, already indexed. `load`: `TraceLoader::loadNow` (what the window "
         "does before the first page: the report, layers and peak passes side by side); "
         "`whole-run series`: the timeline's 16,384 buckets per track; `redraw`: the chart "
         "rendered offscreen at 1600x500 after each of 200 zoom and pan steps; `refine`: "
         "re-bucketing a zoomed window; peak RSS of the whole benchmark process. Medians of the runs.",
         "",
         "| events | load s | whole-run series s | redraw median ms | redraw p95 ms | refine s | peak RSS MiB |",
         "| --- | --- | --- | --- | --- | --- | --- |"]
lines += [r for r in os.environ["ROWS"].splitlines() if r.strip()]
lines += ["", "Target (issue): the first page of a 10M-event indexed trace in under 2 s, zoom and "
          "pan redraws under 16 ms, memory bounded by the summaries rather than the event count.",
          end]
section = "\n".join(lines)
try:
    text = open(output).read()
except OSError:
    text = ""
b, e = text.find(begin), text.find(end)
if b >= 0 and e > b:
    text = text[:b] + section + text[e + len(end):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(output, "w").write(text)
print(section)
PY
