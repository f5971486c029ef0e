#!/usr/bin/env bash
# Profiles the sample MLP with and without each memory technique and writes the
# measured table into samples/README.md (between the "measured" markers).
# Usage: samples/measure.sh   (from anywhere; builds what it needs)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build -DMEMTIDE_BUILD_SAMPLES=ON >/dev/null
cmake --build build -j"$(nproc)" --target memtide memtide_agent memtide-sample-mlp measure_techniques
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
table=$(build/samples/tools/measure_techniques build/bin/memtide build/samples "$work")
echo "$table"
command="samples/measure.sh"
python3 - "$table" "$command" <<'PY'
import re, sys, datetime
table, command = sys.argv[1], sys.argv[2]
path = "samples/README.md"
text = open(path).read()
block = ("<!-- measured:begin -->\n"
         f"Measured by `{command}` on {datetime.date.today()} (sample MLP, 6 steps, default sizes):\n\n"
         f"{table}\n<!-- measured:end -->")
new, n = re.subn(r"<!-- measured:begin -->.*?<!-- measured:end -->", block, text, flags=re.S)
if n == 0:
    sys.exit("samples/README.md has no measured markers")
open(path, "w").write(new)
PY
