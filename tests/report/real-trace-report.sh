#!/usr/bin/env bash
# Writes the HTML report of real traces whose names are hostile (a parent and
# its forked child, from tests/programs/hostile_names.cpp) to REPORT_PATH, for
# check-in-chromium.sh. Usage: real-trace-report.sh MEMTIDE PROGRAM REPORT_PATH
set -euo pipefail
memtide=$1 program=$2 report=$3
traces=$(dirname "$report")/traces
rm -rf "$traces" && mkdir -p "$traces"
MEMTIDE_QUIET=1 "$memtide" run -o "$traces/run.db" -- "$program"
# Gates: definite and growth fail, mismatch passes; exit 1 is the expected verdict.
set +e
"$memtide" report "$traces" --html "$report" --fail-on definite,growth,mismatch
status=$?
set -e
[ "$status" -eq 1 ] || { echo "memtide report exited $status, expected 1" >&2; exit 1; }
