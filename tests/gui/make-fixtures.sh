#!/usr/bin/env bash
# Records the traces memtide-gui's tests open: a short training run of the
# sample MLP with a planted definite leak, the same run with activation
# checkpointing (the Compare page's pair), and a forked pair of processes
# (several traces of one run), and a run killed mid-training. Usage:
# make-fixtures.sh DIR MEMTIDE SAMPLE
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
# A run killed with SIGKILL in the middle of training: the trace holds what
# the writer committed (at most 100 ms apart), and no end.
agent="$(dirname "$memtide")/../lib/libmemtide.so"
MEMTIDE_OUTPUT="$dir/killed.db" MEMTIDE_QUIET=1 LD_PRELOAD="$agent" \
  "$sample" --steps 1000000 --log-every 0 >/dev/null &
victim=$!
sleep 1
kill -9 "$victim"
wait "$victim" || true
# GPU memory without a GPU: the fake CUDA driver's program (built with the
# CUDA headers only), one allocation of every kind on devices 0 and 1.
fake_gpu="$(dirname "$memtide")/../tests/fake_cuda/gpu_every_kind"
if [[ -x "$fake_gpu" ]]; then
  MEMTIDE_GPU=hooks "$memtide" run -o "$dir/gpu.db" -- "$fake_gpu" >/dev/null
fi
# Decode and symbolize every trace now: the tests then only read them, and
# test processes running side by side never race to write the same file.
traces=()
for f in "$dir"/*.db "$dir"/forked/*.db; do
  [[ $f == */not-a-trace.db ]] || traces+=("$f")
done
"$memtide" index "${traces[@]}" >/dev/null
"$memtide" symbolize "${traces[@]}" >/dev/null
ls -l "$dir" "$dir/forked"
