#!/usr/bin/env bash
# Opens the fixture's HTML report in headless Chromium and checks that it
# renders, that nothing from the trace ran, and that the page's console stays
# silent; saves a screenshot for people to look at.
# Usage: check-in-chromium.sh FIXTURE_PROGRAM OUTPUT_DIR [FIXTURE_ARGS...]
# FIXTURE_PROGRAM is run as `FIXTURE_PROGRAM [FIXTURE_ARGS...] REPORT_PATH`.
# EXPECT_SCOPE and EXPECT_VERDICT (environment) replace the hand-made
# fixture's escaped scope and gate verdict for other reports.
#
# How "nothing from the trace ran" is established, three ways, any one of
# which would catch an escaping bug:
#  1. Structure. --dump-dom prints the DOM after the page loaded and its
#     script ran. Escaped text serializes back with &lt; and &gt;, so a
#     literal "<img" or a second "<script" in the dump is an element a
#     hostile string created.
#  2. Effect. Each hostile payload in the fixture sets data-pwned on <html>
#     if it runs; the report's own script sets data-memtide-script="ready".
#     Seeing the latter proves scripts do run here, so the absence of the
#     former means something.
#  3. Console. With --enable-logging=stderr Chromium prints every console
#     message as "INFO:CONSOLE". The report logs nothing, so any such line is
#     a failure: an exception, a resource refused by the page's CSP (which
#     blocks injected scripts and images and reports them), or a refusal of
#     the report's own script when its CSP hash is stale.
set -euo pipefail

fixture=${1:?usage: check-in-chromium.sh FIXTURE_PROGRAM OUTPUT_DIR}
out_dir=${2:?usage: check-in-chromium.sh FIXTURE_PROGRAM OUTPUT_DIR}
shift 2
fixture_args=("$@")
chromium=${CHROMIUM:-chromium}

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

command -v "$chromium" >/dev/null ||
  fail "'$chromium' not found: install it with scripts/install-deps.sh (Debian package chromium)"

mkdir -p "$out_dir"
report="$out_dir/report.html"
dom="$out_dir/report.dom.html"
log="$out_dir/report.chromium.log"
screenshot="$out_dir/report.png"
rm -f "$report" "$dom" "$log" "$screenshot"
"$fixture" "${fixture_args[@]}" "$report" || fail "$fixture could not write $report"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT

run_chromium() {
  rm -rf "$profile" && mkdir -p "$profile"
  timeout 90 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@"
}

run_chromium --enable-logging=stderr --v=0 --dump-dom "file://$report" >"$dom" 2>"$log" ||
  fail "chromium exited with $? while loading $report (log: $log)"

expect_in_dom() {  # DESCRIPTION FIXED_STRING
  grep -qF -- "$2" "$dom" || fail "the rendered page lacks $1 ('$2'; DOM in $dom)"
}
count_in_dom() {
  grep -oF -- "$1" "$dom" | wc -l
}

expect_in_dom "the leaks table" '<table class="data sortable leaks">'
expect_in_dom "a leak row" '<tr class="leak-row">'
expect_in_dom "the failed-gates verdict" "${EXPECT_VERDICT:-Gates failed: 2 of 3}"
expect_in_dom "the failed gate" '<span class="gate-name">definite</span>'
expect_in_dom "the memory chart" '<polyline class="line line-heap"'
expect_in_dom "the escaped hostile scope" \
  "${EXPECT_SCOPE:-train/&lt;script&gt;document.documentElement.dataset.pwned}"
expect_in_dom "the report's own script having run (CSP hash in html_report.cpp?)" \
  'data-memtide-script="ready"'

grep -q 'data-pwned' "$dom" && fail "a hostile string ran as script: data-pwned is set (DOM in $dom)"
[ "$(count_in_dom '<script')" -eq 1 ] ||
  fail "the DOM holds $(count_in_dom '<script') script elements, expected only the report's own"
[ "$(count_in_dom '<img')" -eq 0 ] || fail "a hostile string became an <img> element (DOM in $dom)"
# Every svg element in the DOM must be one the report wrote (escaped text
# cannot create one); the page has at least the memory chart.
svg_written=$(grep -oF -- '<svg' "$report" | wc -l)
[ "$svg_written" -ge 1 ] || fail "the report has no chart"
[ "$(count_in_dom '<svg')" -eq "$svg_written" ] ||
  fail "the DOM holds $(count_in_dom '<svg') svg elements, the report wrote $svg_written"

if grep -F ':CONSOLE' "$log" >&2; then
  fail "the page wrote to the console (above; full log in $log)"
fi

run_chromium --screenshot="$screenshot" --window-size=1280,2000 --hide-scrollbars \
  "file://$report" >/dev/null 2>>"$log" || fail "chromium exited with $? taking the screenshot"
[ -s "$screenshot" ] || fail "no screenshot at $screenshot"
echo "report renders cleanly; screenshot: $screenshot"
