#!/usr/bin/env bash
# Records the traces memtide-gui's tests open: a short training run of the
# sample MLP with a planted definite leak, the same run with activation
# checkpointing (the Compare page's pair), and a forked pair of processes
# (several traces of one run). Usage: make-fixtures.sh DIR MEMTIDE SAMPLE
set -euo pipefail
dir=$1 memtide=$2 sample=$3
rm -rf "$dir"
mkdir -p "$dir"
"$memtide" run -o "$dir/train.db" -- "$sample" --steps 12 --leak workspace --log-every 0 >/dev/null
"$memtide" run -o "$dir/checkpoint.db" -- "$sample" --steps 12 --checkpoint 2 --log-every 0 >/dev/null
"$memtide" run -o "$dir/pooled.db" -- "$sample" --steps 6 --pool --log-every 0 >/dev/null
mkdir -p "$dir/forked"
"$memtide" run -o "$dir/forked/run.db" -- sh -c 'sort /etc/passwd >/dev/null; true' >/dev/null
echo "not a trace" >"$dir/not-a-trace.db"
ls -l "$dir" "$dir/forked"
