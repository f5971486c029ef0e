#!/usr/bin/env bash
# memtide benchmark suite: runs every workload bare, under memtide and under
# heaptrack in the same session and writes docs/benchmarks.md.
#
#   bench/run-benchmarks.sh [--runs N] [--quick] [--only a,b] [--no-install]
#                           [--no-inline-check] [--build-dir DIR]
#                           [--work-dir DIR] [--output FILE]
#
# See usage() below, and docs/benchmarks.md for what each column means.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$REPO/bench"
ORIG_ARGS=("$@")

RUNS=""
QUICK=0
ONLY=""
INSTALL=1
INLINE_CHECK=1
BUILD_DIR="$REPO/build-bench"
WORK_DIR=""
OUTPUT="$REPO/docs/benchmarks.md"
SYS_PYTHON=/usr/bin/python3
GNU_TIME=/usr/bin/time
HEAPTRACK="${HEAPTRACK:-heaptrack}"  # the heaptrack script to compare with
# heaptrack's in-line run (interpreting while recording) gets this address-space
# limit, as in the reference measurements of the issue (8 GiB).
INLINE_AS_LIMIT_KIB=$((8 * 1024 * 1024))

usage() {
  cat <<'EOF'
usage: bench/run-benchmarks.sh [options]

Runs each workload bare, under memtide (LD_PRELOAD of the Release agent,
MEMTIDE_QUIET=1) and under heaptrack (record only: heaptrack --raw), N times
each, interleaved, and writes docs/benchmarks.md with medians, ratios and the
issue's targets. Each workload also gets one heaptrack run in its default
in-line mode (interpreting while it records) under an 8 GiB address-space
limit, to show whether that completes and how small its final trace is.

Environment: HEAPTRACK=PATH picks the heaptrack script (default: heaptrack
from PATH).

Options:
  --runs N            runs per workload and mode (default 3; 1 with --quick)
  --quick             small sizes, for a smoke test of the script
  --only LIST         comma-separated workloads: tiny,storm,training,gcc,
                      python,sqlite,torch
  --no-install        do not apt-get install missing tools (skip instead)
  --no-inline-check   skip the heaptrack in-line runs
  --build-dir DIR     where memtide and the workloads are built in Release
                      (default build-bench/)
  --work-dir DIR      traces, logs and raw results (default BUILD_DIR/bench-work)
  --output FILE       the report (default docs/benchmarks.md)
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) RUNS="${2:?--runs needs a value}"; shift 2 ;;
    --runs=*) RUNS="${1#*=}"; shift ;;
    --quick) QUICK=1; shift ;;
    --only) ONLY="${2:?--only needs a value}"; shift 2 ;;
    --only=*) ONLY="${1#*=}"; shift ;;
    --no-install) INSTALL=0; shift ;;
    --no-inline-check) INLINE_CHECK=0; shift ;;
    --build-dir) BUILD_DIR="${2:?--build-dir needs a value}"; shift 2 ;;
    --work-dir) WORK_DIR="${2:?--work-dir needs a value}"; shift 2 ;;
    --output) OUTPUT="${2:?--output needs a value}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-benchmarks.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
if [[ -z "$RUNS" ]]; then
  if [[ $QUICK == 1 ]]; then RUNS=1; else RUNS=3; fi
fi
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then
  echo "run-benchmarks.sh: --runs needs a positive integer" >&2
  exit 2
fi
BUILD_DIR="$(mkdir -p "$BUILD_DIR" && cd "$BUILD_DIR" && pwd)"
WORK_DIR="${WORK_DIR:-$BUILD_DIR/bench-work}"
mkdir -p "$WORK_DIR"
WORK_DIR="$(cd "$WORK_DIR" && pwd)"
mkdir -p "$(dirname "$OUTPUT")"
OUTPUT="$(cd "$(dirname "$OUTPUT")" && pwd)/$(basename "$OUTPUT")"

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

START_EPOCH=$(date +%s)
NOTES_FILE="$WORK_DIR/notes.txt"
RESULTS="$WORK_DIR/results.tsv"
: > "$NOTES_FILE"
note() { printf '%s\n' "$*" >> "$NOTES_FILE"; log "note: $*"; }

# ---------------------------------------------------------------- tools ----
pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_missing() {
  local missing=() p
  for p in heaptrack python3-torch sqlite3 time zstd; do
    pkg_installed "$p" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  if [[ $INSTALL == 0 ]]; then
    note "not installed (--no-install): ${missing[*]}"
    return 0
  fi
  if ! command -v apt-get >/dev/null; then
    note "no apt-get: could not install ${missing[*]}"
    return 0
  fi
  local sudo=()
  [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null && sudo=(sudo)
  log "installing: ${missing[*]}"
  "${sudo[@]}" apt-get update -qq >"$WORK_DIR/apt.log" 2>&1 || true
  # one by one, so that a package that cannot be had does not block the rest
  for p in "${missing[@]}"; do
    if ! DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$p" \
        >>"$WORK_DIR/apt.log" 2>&1; then
      note "apt-get install $p failed (see $WORK_DIR/apt.log)"
    fi
  done
}

install_missing
if [[ ! -x $GNU_TIME ]]; then
  echo "run-benchmarks.sh: $GNU_TIME (Debian package 'time') is needed to measure" >&2
  exit 1
fi
REPORT_PY="$(command -v python3 || true)"
[[ -x $SYS_PYTHON ]] && REPORT_PY="$SYS_PYTHON"
if [[ -z "$REPORT_PY" ]]; then
  echo "run-benchmarks.sh: python3 is needed to compute the report" >&2
  exit 1
fi
HAVE_HEAPTRACK=0
if command -v "$HEAPTRACK" >/dev/null; then HAVE_HEAPTRACK=1; else
  note "heaptrack ($HEAPTRACK) is not available: its columns are empty"; fi

# ---------------------------------------------------------------- build ----
# the version measured is the one built now (the tree may move during the run)
MEMTIDE_VERSION="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')"
if ! git -C "$REPO" diff --quiet HEAD -- agent common analyzer 2>/dev/null; then
  MEMTIDE_VERSION+=" + uncommitted changes in agent/, common/ or analyzer/"
fi
log "building memtide $MEMTIDE_VERSION (Release) and the workloads in $BUILD_DIR"
GEN=()
if [[ ! -f "$BUILD_DIR/CMakeCache.txt" ]] && command -v ninja >/dev/null; then GEN=(-G Ninja); fi
cmake -S "$REPO" -B "$BUILD_DIR" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DMEMTIDE_BUILD_BENCH=ON -DMEMTIDE_BUILD_TESTS=OFF -DMEMTIDE_BUILD_SAMPLES=OFF \
  >"$WORK_DIR/cmake-configure.log" 2>&1 || { cat "$WORK_DIR/cmake-configure.log" >&2; exit 1; }
cmake --build "$BUILD_DIR" -j"$(nproc)" >"$WORK_DIR/cmake-build.log" 2>&1 \
  || { tail -50 "$WORK_DIR/cmake-build.log" >&2; exit 1; }
AGENT="$BUILD_DIR/lib/libmemtide.so"
MEMTIDE="$BUILD_DIR/bin/memtide"
BIN="$BUILD_DIR/bin"
for f in "$AGENT" "$MEMTIDE" "$BIN/bench-tiny-new-delete" "$BIN/bench-storm" "$BIN/bench-training-loop"; do
  [[ -e $f ]] || { echo "run-benchmarks.sh: build did not produce $f" >&2; exit 1; }
done

# ------------------------------------------------------------ workloads ----
if [[ $QUICK == 1 ]]; then
  TINY_N=2000000; STORM_N=400000; TRAIN_STEPS=1; PY_ROUNDS=10; SQL_ROWS=20000; TORCH_STEPS=3
  CC_DEFS=(-DBENCH_QUICK)
else
  TINY_N=20000000; STORM_N=4000000; TRAIN_STEPS=3; PY_ROUNDS=100; SQL_ROWS=200000; TORCH_STEPS=20
  CC_DEFS=()
fi

ALL_WORKLOADS=(tiny storm training gcc python sqlite torch)
WORKLOADS=()
if [[ -n "$ONLY" ]]; then
  IFS=',' read -r -a WORKLOADS <<<"$ONLY"
  for w in "${WORKLOADS[@]}"; do
    [[ " ${ALL_WORKLOADS[*]} " == *" $w "* ]] || { echo "unknown workload $w" >&2; exit 2; }
  done
else
  WORKLOADS=("${ALL_WORKLOADS[@]}")
fi

# The compiler proper, invoked as g++ -O2 would: heaptrack does not follow
# exec (its preload library clears LD_PRELOAD for children), so profiling the
# g++ driver would measure nothing for heaptrack. Both profilers get cc1plus.
CC_SRC="$BENCH/workloads/compile_unit.cpp"
CC1_CMD=()
if command -v g++ >/dev/null; then
  cc1_line="$(g++ -### -O2 "${CC_DEFS[@]}" -S "$CC_SRC" -o "$WORK_DIR/compile_unit.s" 2>&1 \
    | grep -E '^ *[^ ]*cc1plus ' | head -1 || true)"
  if [[ -n "$cc1_line" ]]; then eval "CC1_CMD=($cc1_line)"; fi
fi

SQL_FILE="$WORK_DIR/insert-$SQL_ROWS.sql"
make_sql() {
  awk -v n="$SQL_ROWS" 'BEGIN {
    print "PRAGMA journal_mode=WAL;"
    print "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, score REAL, tag TEXT);"
    print "CREATE INDEX t_name ON t(name);"
    print "BEGIN;"
    for (i = 1; i <= n; i++)
      printf "INSERT INTO t(name, score, tag) VALUES(%cname_%d_%x%c, %d.%d, %ctag%d%c);\n",
             39, i, (i * 2654435761) % 4294967296, 39, i % 1000, i % 97, 39, i % 50, 39
    print "COMMIT;"
    print "SELECT count(*), sum(score), count(DISTINCT tag) FROM t;"
  }' > "$SQL_FILE"
}

# workload_def NAME: sets WL_TITLE, WL_SIZE, WL_ENV (array), WL_CMD (array),
# WL_SKIP (reason, empty when runnable).
workload_def() {
  WL_ENV=(); WL_CMD=(); WL_SKIP=""
  case "$1" in
    tiny)
      WL_TITLE="many tiny new/delete"
      WL_SIZE="$TINY_N new + $TINY_N delete of 16-48 byte objects, one thread"
      WL_CMD=("$BIN/bench-tiny-new-delete" "$TINY_N") ;;
    storm)
      WL_TITLE="malloc/free storm"
      WL_SIZE="2 threads x $STORM_N operations (malloc/calloc/realloc/free/mmap/munmap, 8 B-1 MiB, stacks about 7-30 frames deep)"
      WL_CMD=("$BIN/bench-storm" "$STORM_N" 2) ;;
    training)
      WL_TITLE="training-like loop"
      WL_SIZE="$TRAIN_STEPS steps x 6 layers, 2 MiB activation and gradient blocks, 4 MiB weights"
      WL_CMD=("$BIN/bench-training-loop" "$TRAIN_STEPS") ;;
    gcc)
      WL_TITLE="g++ -O2 compile"
      WL_SIZE="cc1plus -O2 of bench/workloads/compile_unit.cpp${CC_DEFS[*]:+ (${CC_DEFS[*]})} (<regex>, <map>, <variant>, streams; the command g++ -### prints)"
      if [[ ${#CC1_CMD[@]} -eq 0 ]]; then WL_SKIP="g++/cc1plus not found"; fi
      WL_CMD=("${CC1_CMD[@]}") ;;
    python)
      WL_TITLE="Python churn (PYTHONMALLOC=malloc)"
      WL_SIZE="bench/workloads/python_churn.py, $PY_ROUNDS rounds of 20k small dicts/lists/tuples/strings, $SYS_PYTHON"
      WL_ENV=(PYTHONMALLOC=malloc)
      [[ -x $SYS_PYTHON ]] || WL_SKIP="$SYS_PYTHON not found"
      WL_CMD=("$SYS_PYTHON" "$BENCH/workloads/python_churn.py" "$PY_ROUNDS") ;;
    sqlite)
      WL_TITLE="sqlite3 shell, insert $SQL_ROWS rows"
      WL_SIZE="sqlite3 shell reads a generated script: WAL, one indexed table, $SQL_ROWS INSERTs in one transaction, one aggregate query"
      command -v sqlite3 >/dev/null || WL_SKIP="sqlite3 shell not installed"
      WL_CMD=("$(command -v sqlite3 || echo sqlite3)" "$WORK_DIR/sqlite-bench.db" ".read $SQL_FILE") ;;
    torch)
      WL_TITLE="PyTorch CPU training loop"
      WL_SIZE="bench/workloads/torch_mlp.py: MLP 256-512-512-10, batch 256, SGD, $TORCH_STEPS steps, 1 thread, Debian python3-torch"
      if ! "$SYS_PYTHON" -c 'import torch' >/dev/null 2>&1; then
        WL_SKIP="Debian's python3-torch is not importable by $SYS_PYTHON"
      fi
      WL_CMD=("$SYS_PYTHON" "$BENCH/workloads/torch_mlp.py" "$TORCH_STEPS" 1) ;;
  esac
}

workload_prep() {
  case "$1" in
    sqlite)
      [[ -f $SQL_FILE ]] || make_sql
      rm -f "$WORK_DIR/sqlite-bench.db" "$WORK_DIR/sqlite-bench.db-wal" "$WORK_DIR/sqlite-bench.db-shm" ;;
  esac
}

# ------------------------------------------------------------ measuring ----
printf 'workload\tmode\trun\tstatus\twall_s\tmaxrss_kib\ttrace_bytes\tevents\ttrace_live_peak\tlive_peak\tanon_peak_kib\tfile_peak_kib\n' > "$RESULTS"

# memtide_trace_stats STEM: "bytes events live" summed over STEM.db and the
# children's STEM.*.db (and any -wal left by a killed run); live is the most
# heap blocks live at once in any one of those processes (memtide info's
# peak_live_blocks), the count the agent's memory budget is per.
memtide_trace_stats() {
  local stem="$1" bytes=0 events=0 live=0 f s
  shopt -s nullglob
  for f in "$stem".db "$stem".*.db "$stem".db-wal "$stem".*.db-wal; do
    [[ -f $f ]] && bytes=$((bytes + $(stat -c %s "$f")))
  done
  for f in "$stem".db "$stem".*.db; do
    [[ -f $f ]] || continue
    s="$("$MEMTIDE" info --json "$f" 2>/dev/null | "$REPORT_PY" -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print(d.get("counters", {}).get("events", d.get("events", 0)), d.get("peak_live_blocks", 0))
except Exception:
    print(0, 0)' || echo "0 0")"
    events=$((events + ${s% *}))
    (( ${s#* } > live )) && live=${s#* }
  done
  shopt -u nullglob
  echo "$bytes $events $live"
}

# run_measured WORKLOAD MODE RUN LIMIT_S: runs the workload once and appends a
# row to $RESULTS. MODE is bare, memtide, heaptrack or heaptrack-inline.
run_measured() {
  local w="$1" mode="$2" run="$3" limit="$4"
  local tag="$WORK_DIR/logs/$w.$mode.$run" tf rc status wall rss
  local bytes="" events="" trace_live="" live=""
  mkdir -p "$WORK_DIR/logs" "$WORK_DIR/traces"
  workload_prep "$w"
  tf="$tag.time"
  rm -f "$tf"
  local stem="$WORK_DIR/traces/$w.$mode.$run"
  rm -f "$stem".db* "$stem".*.db* "$stem".zst "$stem".gz "$stem".raw.zst "$stem".raw.gz
  local pre=(env "${WL_ENV[@]}")
  case "$mode" in
    bare) ;;
    memtide) pre+=(MEMTIDE_QUIET=1 "MEMTIDE_OUTPUT=$stem.db" "LD_PRELOAD=$AGENT") ;;
    heaptrack) pre+=("$HEAPTRACK" --raw -o "$stem") ;;
    heaptrack-inline) pre+=("$HEAPTRACK" -o "$stem") ;;
  esac
  set +e
  if [[ $mode == heaptrack-inline ]]; then
    ( ulimit -v "$INLINE_AS_LIMIT_KIB"
      exec "$GNU_TIME" -o "$tf" -f '%e %M' timeout -s KILL "$limit" "${pre[@]}" "${WL_CMD[@]}" ) \
      >"$tag.out" 2>"$tag.err"
  else
    "$GNU_TIME" -o "$tf" -f '%e %M' timeout -s KILL "$limit" "${pre[@]}" "${WL_CMD[@]}" \
      >"$tag.out" 2>"$tag.err"
  fi
  rc=$?
  set -e
  read -r wall rss < <(tail -1 "$tf" 2>/dev/null || echo "NA NA")
  if [[ $rc -eq 0 ]]; then status=ok
  elif [[ $rc -eq 137 ]] && grep -q 'signal 9' "$tf" 2>/dev/null && \
       awk -v w="$wall" -v l="$limit" 'BEGIN { exit !(w + 1 >= l) }'; then status="timeout(${limit}s)"
  else status="exit($rc)"; fi
  # heaptrack_interpret running out of memory kills the program with SIGPIPE
  if [[ $status != ok ]] && grep -q 'std::bad_alloc' "$tag.err" 2>/dev/null; then
    status+=" heaptrack_interpret bad_alloc"
  fi
  live="$(grep -o 'live_peak=[0-9]*' "$tag.out" | head -1 | cut -d= -f2 || true)"
  case "$mode" in
    memtide)
      read -r bytes events trace_live < <(memtide_trace_stats "$stem")
      rm -f "$stem".db* "$stem".*.db* ;;
    heaptrack|heaptrack-inline)
      local f
      bytes=0
      for f in "$stem".raw.zst "$stem".raw.gz "$stem".zst "$stem".gz; do
        [[ -f $f ]] && bytes=$((bytes + $(stat -c %s "$f")))
      done
      # keep heaptrack's own summary of the in-line run for the report
      if [[ $mode == heaptrack-inline ]]; then
        grep -E 'allocations:|bad_alloc|what\(\)' "$tag.out" "$tag.err" > "$tag.summary" 2>/dev/null || true
      fi
      rm -f "$stem".raw.zst "$stem".raw.gz "$stem".zst "$stem".gz ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\t\n' "$w" "$mode" "$run" "$status" "$wall" "$rss" \
    "${bytes:-}" "${events:-}" "${trace_live:-}" "${live:-}" >> "$RESULTS"
  log "$w $mode run $run: $status ${wall}s ${rss} KiB${bytes:+ trace ${bytes} B}${events:+ events ${events}}"
  LAST_STATUS="$status"
  LAST_WALL="$wall"
}

# run_sampled WORKLOAD MODE LIMIT_S: one untimed run (bare or memtide) whose
# main process's /proc/PID/status is polled every 50 ms for the peaks of
# RssAnon and RssFile, to split the agent's extra RSS into its own anonymous
# memory and file pages it touched (unwind tables, its own library).
run_sampled() {
  local w="$1" mode="$2" limit="$3" tag stem pid k v _ a=0 f=0 pa=0 pf=0 status=ok rc
  tag="$WORK_DIR/logs/$w.$mode-sampled"
  stem="$WORK_DIR/traces/$w.$mode-sampled"
  workload_prep "$w"
  local pre=(env "${WL_ENV[@]}")
  [[ $mode == memtide ]] && pre+=(MEMTIDE_QUIET=1 "MEMTIDE_OUTPUT=$stem.db" "LD_PRELOAD=$AGENT")
  local t0=$SECONDS
  "${pre[@]}" "${WL_CMD[@]}" >"$tag.out" 2>"$tag.err" &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    a=0; f=0
    while read -r k v _; do
      case "$k" in RssAnon:) a=$v ;; RssFile:) f=$v ;; esac
    done 2>/dev/null < "/proc/$pid/status" || true
    (( a > pa )) && pa=$a
    (( f > pf )) && pf=$f
    if (( SECONDS - t0 > limit )); then kill -KILL "$pid" 2>/dev/null || true; status="timeout(${limit}s)"; fi
    sleep 0.05
  done
  set +e; wait "$pid"; rc=$?; set -e
  [[ $status == ok && $rc -ne 0 ]] && status="exit($rc)"
  rm -f "$stem".db* "$stem".*.db*
  printf '%s\t%s\t1\t%s\t\t\t\t\t\t\t%s\t%s\n' "$w" "$mode-sampled" "$status" "$pa" "$pf" >> "$RESULTS"
  log "$w $mode (sampled /proc) : $status RssAnon peak ${pa} KiB, RssFile peak ${pf} KiB"
}

declare -A SKIP_MODE=()
declare -A WL_TITLES=() WL_SIZES=() WL_SKIPS=() WL_CMDLINES=()
for w in "${WORKLOADS[@]}"; do
  workload_def "$w"
  WL_TITLES[$w]="$WL_TITLE"; WL_SIZES[$w]="$WL_SIZE"; WL_SKIPS[$w]="$WL_SKIP"
  WL_CMDLINES[$w]="${WL_ENV[*]:+${WL_ENV[*]} }${WL_CMD[*]}"
  [[ -n "$WL_SKIP" ]] && note "skipped workload '$w': $WL_SKIP"
done

modes=(bare memtide)
[[ $HAVE_HEAPTRACK == 1 ]] && modes+=(heaptrack)

for w in "${WORKLOADS[@]}"; do
  [[ -n "${WL_SKIPS[$w]}" ]] && continue
  workload_def "$w"
  log "== $w: ${WL_SIZES[$w]}"
  bare_wall=""
  for ((run = 1; run <= RUNS; run++)); do
    for mode in "${modes[@]}"; do
      if [[ -n "${SKIP_MODE[$w.$mode]:-}" ]]; then
        printf '%s\t%s\t%s\t%s\t\t\t\t\t\t\t\t\n' "$w" "$mode" "$run" "not-run(${SKIP_MODE[$w.$mode]})" >> "$RESULTS"
        continue
      fi
      if [[ $mode == bare ]]; then limit=1800
      else
        # a profiled run that takes 25x the bare time (2 min at least) is
        # taken as hung, killed, and not repeated
        limit=$(awk -v b="${bare_wall:-60}" 'BEGIN { l = int(b * 25) + 1; if (l < 120) l = 120; print l }')
      fi
      run_measured "$w" "$mode" "$run" "$limit"
      if [[ $mode == bare && $LAST_STATUS == ok ]]; then bare_wall="$LAST_WALL"; fi
      if [[ $mode != bare && $LAST_STATUS != ok ]]; then
        SKIP_MODE[$w.$mode]="earlier run $LAST_STATUS"
        note "$w under $mode: run $run ended $LAST_STATUS; its later runs are skipped"
      fi
    done
  done
  limit=$(awk -v b="${bare_wall:-60}" 'BEGIN { l = int(b * 25) + 1; if (l < 120) l = 120; print l }')
  run_sampled "$w" bare 1800
  if [[ -z "${SKIP_MODE[$w.memtide]:-}" ]]; then run_sampled "$w" memtide "$limit"; fi
  if [[ $HAVE_HEAPTRACK == 1 && $INLINE_CHECK == 1 ]]; then
    limit=$(awk -v b="${bare_wall:-60}" 'BEGIN { l = int(b * 25) + 1; if (l < 120) l = 120; print l }')
    run_measured "$w" heaptrack-inline 1 "$limit"
  fi
done
rm -f "$WORK_DIR/sqlite-bench.db" "$WORK_DIR/sqlite-bench.db-wal" "$WORK_DIR/sqlite-bench.db-shm"

# --------------------------------------------------------------- report ----
END_EPOCH=$(date +%s)
cmdline="bench/run-benchmarks.sh"
for a in "${ORIG_ARGS[@]}"; do cmdline+=" $(printf '%q' "$a")"; done
versions_file="$WORK_DIR/versions.txt"
{
  echo "memtide=$MEMTIDE_VERSION"
  echo "heaptrack=$( ("$HEAPTRACK" --version 2>/dev/null || echo 'not available') | head -1)"
  echo "g++=$( (g++ --version 2>/dev/null || true) | head -1)"
  echo "python3=$($SYS_PYTHON --version 2>&1 || true)"
  echo "torch=$($SYS_PYTHON -c 'import torch; print(torch.__version__)' 2>/dev/null || echo 'not available')"
  echo "sqlite3=$( (sqlite3 --version 2>/dev/null || echo 'not available') | cut -d' ' -f1)"
} > "$versions_file"

WORKLOADS_TSV="$WORK_DIR/workloads.tsv"
printf 'name\ttitle\tsize\tskip\tcommand\n' > "$WORKLOADS_TSV"
for w in "${WORKLOADS[@]}"; do
  printf '%s\t%s\t%s\t%s\t%s\n' "$w" "${WL_TITLES[$w]}" "${WL_SIZES[$w]}" "${WL_SKIPS[$w]}" \
    "${WL_CMDLINES[$w]}" >> "$WORKLOADS_TSV"
done
# the same call again regenerates the report from the saved raw results
report_cmd=("$REPORT_PY" "$BENCH/benchmark_report.py"
  --workloads "$WORKLOADS_TSV" --results "$RESULTS" --notes "$NOTES_FILE"
  --versions "$versions_file" --command "$cmdline" --runs "$RUNS" --quick "$QUICK"
  --elapsed "$((END_EPOCH - START_EPOCH))" --inline-limit-kib "$INLINE_AS_LIMIT_KIB"
  --output "$OUTPUT")
printf '%q ' "${report_cmd[@]}" > "$WORK_DIR/report-command.sh"
"${report_cmd[@]}"
log "wrote $OUTPUT (raw results: $RESULTS)"
