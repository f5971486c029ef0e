#!/usr/bin/env bash
# The analysis benchmark: how fast `memtide index`, `report`, `export`,
# `layers`, `peak` and `top` get through traces of 1M, 10M and 50M events, and
# how much memory they need.
# Writes its section of docs/benchmarks.md (between the analysis-benchmark
# markers; bench/run-benchmarks.sh keeps it).
#
#   bench/analysis-benchmark.sh [--runs N] [--sizes 1,10,50] [--build-dir DIR]
#                               [--work-dir DIR] [--output FILE]
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS=3
SIZES="1,10,50"
BUILD_DIR="$REPO/build-bench"
WORK_DIR=""
OUTPUT="$REPO/docs/benchmarks.md"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    --work-dir) WORK_DIR=$2; shift 2 ;;
    --output) OUTPUT=$2; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
WORK_DIR=${WORK_DIR:-$BUILD_DIR/analysis-work}
mkdir -p "$WORK_DIR"
cmake -S "$REPO" -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DMEMTIDE_BUILD_TESTS=OFF \
  -DMEMTIDE_BUILD_SAMPLES=OFF -DMEMTIDE_WITH_CUDA=OFF >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" --target memtide memtide_agent bench-tiny-new-delete \
  bench-leak-scan-heap >/dev/null
MEMTIDE="$BUILD_DIR/bin/memtide"
AGENT="$BUILD_DIR/lib/libmemtide.so"

results="$WORK_DIR/results.tsv"
printf 'workload\tevents\ttrace_bytes\tstep\trun\twall_s\tmaxrss_kib\n' >"$results"

# measure LABEL CMD...: wall seconds and peak RSS of one command
measure() {
  /usr/bin/time -o "$WORK_DIR/time.txt" -f '%e %M' "$@" >/dev/null 2>&1 || true
  tail -1 "$WORK_DIR/time.txt"
}

IFS=, read -ra sizes <<<"$SIZES"
for millions in "${sizes[@]}"; do
  trace="$WORK_DIR/tiny-${millions}M.db"
  rm -f "$trace"*
  # new + delete of small objects: COUNT pairs make 2 x COUNT events.
  LD_PRELOAD="$AGENT" MEMTIDE_OUTPUT="$trace" MEMTIDE_QUIET=1 \
    "$BUILD_DIR/bin/bench-tiny-new-delete" $((millions * 500000)) >/dev/null
  events=$(sqlite3 "$trace" "SELECT sum(event_count) FROM pages")
  bytes=$(stat -c %s "$trace")
  for run in $(seq 1 "$RUNS"); do
    sqlite3 "$trace" "DELETE FROM meta WHERE key = 'index_signature'"
    read -r wall rss < <(measure "$MEMTIDE" index "$trace")
    printf 'tiny\t%s\t%s\tindex\t%s\t%s\t%s\n' "$events" "$bytes" "$run" "$wall" "$rss" >>"$results"
    read -r wall rss < <(measure "$MEMTIDE" report "$trace" --json "$WORK_DIR/r.json")
    printf 'tiny\t%s\t%s\treport\t%s\t%s\t%s\n' "$events" "$bytes" "$run" "$wall" "$rss" >>"$results"
    read -r wall rss < <(measure "$MEMTIDE" frag "$trace" --json)
    printf 'tiny\t%s\t%s\tfrag\t%s\t%s\t%s\n' "$events" "$bytes" "$run" "$wall" "$rss" >>"$results"
    read -r wall rss < <(measure "$MEMTIDE" export "$trace" --folded "$WORK_DIR/e.folded")
    printf 'tiny\t%s\t%s\texport --folded\t%s\t%s\t%s\n' "$events" "$bytes" "$run" "$wall" "$rss" \
      >>"$results"
    read -r wall rss < <(measure "$MEMTIDE" export "$trace" --chrome-trace "$WORK_DIR/e.json")
    printf 'tiny\t%s\t%s\texport --chrome-trace\t%s\t%s\t%s\n' "$events" "$bytes" "$run" "$wall" \
      "$rss" >>"$results"
    read -r wall rss < <(measure "$MEMTIDE" report "$trace" --html "$WORK_DIR/r.html")
    printf 'tiny\t%s\t%s\treport --html\t%s\t%s\t%s\n' "$events" "$bytes" "$run" "$wall" "$rss" \
      >>"$results"
    for step in layers peak top; do
      read -r wall rss < <(measure "$MEMTIDE" "$step" "$trace" --json)
      printf 'tiny\t%s\t%s\t%s\t%s\t%s\t%s\n' "$events" "$bytes" "$step" "$run" "$wall" "$rss" \
        >>"$results"
    done
  done
  rm -f "$trace"*
done

# The agent's leak scan at exit over a heap of 1M live blocks (meta.leak_scan_ms).
scan_results="$WORK_DIR/scan.tsv"
: >"$scan_results"
for run in $(seq 1 "$RUNS"); do
  trace="$WORK_DIR/scan.db"
  rm -f "$trace"*
  LD_PRELOAD="$AGENT" MEMTIDE_OUTPUT="$trace" MEMTIDE_QUIET=1 "$BUILD_DIR/bin/bench-leak-scan-heap" \
    >/dev/null
  sqlite3 "$trace" "SELECT (SELECT value FROM meta WHERE key = 'leak_scan_ms'),
                           (SELECT count(*) FROM leak_scan)" | tr '|' '\t' >>"$scan_results"
  rm -f "$trace"*
done

python3 - "$results" "$OUTPUT" "$RUNS" "$scan_results" <<'PY'
import csv, statistics, subprocess, sys, datetime, os
results, output, runs = sys.argv[1], sys.argv[2], sys.argv[3]
rows = list(csv.DictReader(open(results), delimiter="\t"))
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
lines = ["<!-- analysis-benchmark:begin -->", "## Analysis: index, report and export", "",
         f"`bench/analysis-benchmark.sh --runs {runs}` on {datetime.date.today()}, {cpu}, "
         f"{os.cpu_count()} cores. Traces of the tiny new/delete workload (256 live "
         "blocks at most, so memory should stay flat as traces grow). `index`: "
         "`memtide index` from scratch (the `allocations` table: one SQL row per block); "
         "`report`: `memtide report --json`, which aggregates the event stream and needs "
         "no index; `export --folded` (bytes allocated per stack, symbolized) and "
         "`export --chrome-trace` (counters, scopes, steps as Trace Event JSON) stream "
         "the events once; `layers`, `peak`, `top`: `memtide layers|peak|top --json` "
         "(lifetimes by scope, the peak with what was live, temporaries), one pass each; "
         "`report --html`: the report with the HTML page's analyses (layers, peak, "
         "temporaries, fragmentation: five passes in all). "
         "Medians of the runs; `index + report` adds the two medians (a CI job that "
         "wants the SQL index too).", "",
         "| events | trace MiB | step | wall s | events/s | peak RSS MiB |",
         "|---:|---:|---|---:|---:|---:|"]
by = {}
for r in rows:
    by.setdefault((int(r["events"]), r["step"]), []).append(r)
medians = {}
for (events, step), rs in sorted(by.items()):
    wall = statistics.median(float(r["wall_s"]) for r in rs)
    rss = statistics.median(int(r["maxrss_kib"]) for r in rs) / 1024
    mib = int(rs[0]["trace_bytes"]) / 2**20
    medians[(events, step)] = (wall, rss, mib)
for events in sorted({e for e, _ in medians}):
    for step in ("report", "report --html", "index", "export --folded", "export --chrome-trace",
                 "layers", "peak", "top"):
        if (events, step) not in medians:
            continue
        wall, rss, mib = medians[(events, step)]
        rate = events / wall if wall else 0
        lines.append(f"| {events:,} | {mib:.1f} | {step} | {wall:.2f} | {rate/1e6:.2f} M | {rss:.0f} |")
    if (events, "index") in medians and (events, "report") in medians:
        wall = medians[(events, "index")][0] + medians[(events, "report")][0]
        rss = max(medians[(events, "index")][1], medians[(events, "report")][1])
        lines.append(f"| {events:,} | {mib:.1f} | index + report | {wall:.2f} | "
                     f"{events / wall / 1e6:.2f} M | {rss:.0f} |")
# `memtide frag --json` (allocator overhead per sample, holes over time, the
# peak and the end in detail): one pass; its rows close the table.
for events in sorted({e for e, _ in medians}):
    if (events, "frag") in medians:
        wall, rss, mib = medians[(events, "frag")]
        lines.append(f"| {events:,} | {mib:.1f} | frag | {wall:.2f} | {events / wall / 1e6:.2f} M | "
                     f"{rss:.0f} |")
scan = [l.split("\t") for l in open(sys.argv[4]) if l.strip()]
if scan:
    ms = statistics.median(float(s[0]) for s in scan)
    blocks = int(scan[0][1])
    lines += ["", f"Leak scan at exit (`bench-leak-scan-heap`, {blocks:,} live blocks classified): "
              f"median {ms:.0f} ms over {len(scan)} runs (`meta.leak_scan_ms`; target under 2 s "
              "for 1M live blocks)."]
lines += ["", "Target (issue): index plus report at least 5M events/s, each export at least "
          "5M events/s, and so each of layers, peak and top, memory bounded by the live allocations rather than the trace's length.",
          "<!-- analysis-benchmark:end -->"]
section = "\n".join(lines)
try:
    text = open(output).read()
except OSError:
    text = ""
b, e = text.find("<!-- analysis-benchmark:begin -->"), text.find("<!-- analysis-benchmark:end -->")
if b >= 0 and e > b:
    text = text[:b] + section + text[e + len("<!-- analysis-benchmark:end -->"):]
else:
    text = text.rstrip("\n") + "\n\n" + section + "\n"
open(output, "w").write(text)
print(section)
PY
