#!/bin/bash
# The GPU checks of memtide, for a machine with an NVIDIA GPU (one prepared
# run; see docs/gpu-validation.md for the last results). Usage:
#   scripts/gpu-check.sh [KIT]     KIT = gpu-kit/ from scripts/gpu-kit.sh
# Without a kit it builds here (needs cmake, ninja and the build dependencies).
# Runs every check under a timeout, keeps going on failure, writes logs to
# $OUT (or a temporary folder) and prints a results table last.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$(mktemp -d)}
logs=$out/logs
mkdir -p "$logs"
start=$(date +%s)
kit=${1:-}
if [ -z "$kit" ]; then
  cmake -S "$root" -B "$root/build-gpu" -G Ninja -DMEMTIDE_BUILD_BENCH=OFF >"$logs/build.txt" 2>&1 &&
    "$root/scripts/gpu-kit.sh" "$root/build-gpu" >>"$logs/build.txt" 2>&1 || {
    echo "build failed: see $logs/build.txt"; tail -20 "$logs/build.txt"; exit 1; }
  kit=$root/gpu-kit
fi
kit=$(cd "$kit" && pwd)
agent=$kit/lib/libmemtide.so
memtide() { LD_LIBRARY_PATH=$kit/cli-deps:$kit/deps "$kit/bin/memtide" "$@"; }
export LD_LIBRARY_PATH=$kit/deps:${LD_LIBRARY_PATH:-}  # libunwind for the agent
# libcublas for the carried binaries: the toolkit's, else PyTorch's wheel.
for d in /usr/local/cuda/lib64 $(python3 -c 'import nvidia,os;print(os.path.dirname(nvidia.__file__))' 2>/dev/null)/cu13/lib; do
  [ -e "$d/libcublas.so.13" ] && export LD_LIBRARY_PATH=$LD_LIBRARY_PATH:$d
done
elapsed() { echo $(( $(date +%s) - start )); }
# GPU_CHECK_ONLY=app,engine,torch,profiler,overhead,unwinder runs only those sections.
want() { [ -z "${GPU_CHECK_ONLY:-}" ] || [[ ",$GPU_CHECK_ONLY," == *",$1,"* ]]; }

# traced NAME MODE CMD...: runs CMD under the agent, writes NAME.db, NAME.out/.err
traced() {
  local name=$1 mode=$2 t0 rc; shift 2
  t0=$(date +%s%N)
  timeout -k 5 120 env LD_PRELOAD="$agent" MEMTIDE_OUTPUT="$logs/$name.db" MEMTIDE_GPU="$mode" \
    "$@" >"$logs/$name.out" 2>"$logs/$name.err"
  rc=$?
  echo "$name rc=$rc wall_ms=$(( ($(date +%s%N) - t0) / 1000000 )) t=$(elapsed)s" >>"$logs/runs.txt"
  memtide gpu --json --at-mark check "$logs/$name.db" >"$logs/$name.gpu.json" 2>>"$logs/$name.err"
}
bare() {
  local name=$1 t0 rc; shift
  t0=$(date +%s%N)
  timeout -k 5 120 "$@" >"$logs/$name.out" 2>"$logs/$name.err"
  rc=$?
  echo "$name rc=$rc wall_ms=$(( ($(date +%s%N) - t0) / 1000000 )) t=$(elapsed)s" >>"$logs/runs.txt"
}

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'
  grep PRETTY_NAME /etc/os-release; } >"$logs/machine.txt" 2>&1

# 1. One allocation of every kind, static and shared cudart, both mechanisms.
want app && for runtime in static shared; do
  for mode in hooks cupti; do
    traced "app_${runtime}_$mode" $mode "$kit/apps/every_kind_$runtime"
  done
done

# 2. The sample engine on the GPU, bare and traced (overhead), with --unified.
want engine && bare engine_test "$kit/apps/memtide-engine-cuda-test"
want engine && for i in 1 2 3; do
  bare "engine_bare_$i" "$kit/apps/memtide-sample-mlp" --device cuda --pool --steps 2000
  traced "engine_hooks_$i" hooks "$kit/apps/memtide-sample-mlp" --device cuda --pool --steps 2000
done
want engine && traced engine_unified hooks "$kit/apps/memtide-sample-mlp" --device cuda --pool --unified --steps 50
want engine && traced engine_nopool hooks "$kit/apps/memtide-sample-mlp" --device cuda --steps 50

# 3. PyTorch in its three allocator modes, bare and traced; default also with CUPTI.
train=$root/scripts/gpu/torch_train.py
want torch && for conf in default expandable_segments:True backend:cudaMallocAsync; do
  tag=${conf%%:*}
  [ "$conf" = default ] && conf=""
  PYTORCH_CUDA_ALLOC_CONF=$conf bare "torch_${tag}_bare" python3 -X faulthandler "$train"
  PYTORCH_CUDA_ALLOC_CONF=$conf traced "torch_${tag}_hooks" hooks python3 -X faulthandler "$train"
done
want torch && traced torch_default_cupti cupti python3 -X faulthandler "$train"

# 4. torch.profiler alongside memtide's hooks keeps its CUDA events.
want profiler && bare profiler_bare python3 "$root/scripts/gpu/torch_profiler.py"
want profiler && traced profiler_hooks hooks python3 "$root/scripts/gpu/torch_profiler.py"

# 5. What GPU tracking adds: longer runs bare, traced without GPU tracking
# (MEMTIDE_GPU=off: host only) and traced with it, side by side, the traced
# runs interleaved OVERHEAD_REPS times (median of the runs' medians). The
# sampler-off variant tells the sampler's share (NVML, pool queries) apart.
# Sections: overhead = overhead-torch + overhead-engine.
reps=${OVERHEAD_REPS:-3}
if want overhead || want overhead-torch; then
  for conf in ${OVERHEAD_TORCH_CONFS:-default backend:cudaMallocAsync}; do
    tag=${conf%%:*}
    [ "$conf" = default ] && conf=""
    export PYTORCH_CUDA_ALLOC_CONF=$conf STEPS=400
    bare "overhead_${tag}_bare_1" python3 "$train"
    for i in $(seq "$reps"); do
      traced "overhead_${tag}_off_$i" off python3 "$train"
      traced "overhead_${tag}_hooks_$i" hooks python3 "$train"
      MEMTIDE_SAMPLE_MS=0 traced "overhead_${tag}_nosampler_$i" hooks python3 "$train"
    done
    unset PYTORCH_CUDA_ALLOC_CONF STEPS
  done
fi
if want overhead || want overhead-engine; then
  # Steady-state step time of the engine: it prints the median of its own
  # per-step wall times (first steps left out). No pool is the worst case (a
  # cudaMalloc and cudaFree per tensor); with --pool is how an engine runs.
  # The last two variants tell the sampler's and the stacks' shares apart.
  for i in $(seq "$reps"); do
    for pool in nopool pool; do
      flag=""; [ $pool = pool ] && flag=--pool
      mlp=("$kit/apps/memtide-sample-mlp" --device cuda --steps 1500 $flag)
      bare "overhead_engine_${pool}_bare_$i" "${mlp[@]}"
      traced "overhead_engine_${pool}_off_$i" off "${mlp[@]}"
      traced "overhead_engine_${pool}_hooks_$i" hooks "${mlp[@]}"
    done
    MEMTIDE_SAMPLE_MS=0 traced "overhead_engine_nopool_nosampler_$i" hooks \
      "$kit/apps/memtide-sample-mlp" --device cuda --steps 1500
    MEMTIDE_STACK_DEPTH=0 traced "overhead_engine_nopool_nostacks_$i" hooks \
      "$kit/apps/memtide-sample-mlp" --device cuda --steps 1500
  done
fi

# 6. memtide's unwinder against libunwind through CUDA's libraries: the same
# PyTorch run traced with each, twice with libunwind to tell the run-to-run
# variation apart, compared as folded stacks weighted by count.
if want unwinder; then
  for u in memtide libunwind libunwind2; do
    MEMTIDE_UNWINDER=${u%2} traced "unwind_$u" hooks python3 "$train"
    memtide export "$logs/unwind_$u.db" --folded "$logs/unwind_$u.folded" --by count \
      >>"$logs/unwind_$u.err" 2>&1
  done
fi

echo "total=$(elapsed)s" >>"$logs/runs.txt"
python3 "$root/scripts/gpu/check_results.py" "$logs" | tee "$out/results.md"
