#!/bin/bash
# The grid tick kernel against a launch per kernel on the GPU: the cuda tests of both tick-kernel
# shapes, the microcircuit's step (scale 0.1) on both paths and three block sizes, then benchmark
# points with SPIKEC_CUDA_TICK_KERNEL forced. Rows and logs under $OUT.
#   bash benchmarks/grid_tick_kernel.sh [duration]
set -u
duration=${1:-0.5}
log=$OUT/grid_tick_kernel.log
python3 -m pytest -q -p no:cacheprovider -m cuda tests/backends/test_cuda_tick_kernel.py \
    tests/runtime/test_gpu_vs_cpu.py 2>&1 | tail -4 | tee -a $log
profile() {  # label, then environment assignments
    local label=$1; shift
    env "$@" timeout 120 python3 benchmarks/cuda_step_profile.py microcircuit 7717 --warmup 0.05 \
        --ticks 2000 --top 8 --out $OUT/profile_microcircuit_$label.json 2>&1 | tee -a $log
}
profile launches SPIKEC_CUDA_TICK_KERNEL=0
profile grid256 SPIKEC_CUDA_TICK_KERNEL=grid
profile grid512 SPIKEC_CUDA_TICK_KERNEL=grid SPIKEC_CUDA_TICK_BLOCK=512
profile grid1024 SPIKEC_CUDA_TICK_KERNEL=grid SPIKEC_CUDA_TICK_BLOCK=1024
n=0
points() {  # path, then run.py's models and sizes; each call its own folder
    local path=$1; shift
    n=$((n + 1))
    SPIKEC_CUDA_TICK_KERNEL=$path python3 benchmarks/run.py --targets spikec-cuda --no-monitors \
        --duration "$duration" --timeout 120 --out /tmp/grid_${n}_$path "$@" > /dev/null 2>&1
    python3 - "$path" /tmp/grid_${n}_$path/rows.json <<'PY' | tee -a $log
import json, os, sys
path, rows = sys.argv[1], json.load(open(sys.argv[2]))
out = os.environ["OUT"] + "/grid_tick_kernel_rows.json"
kept = json.load(open(out)) if os.path.exists(out) else []
for r in rows:
    r["tick_kernel"] = path
    print(f"{r['model']:20} {r['size']:>8.0f} {path:>5} {r['status']:8} run {r.get('run_s', float('nan')):8.3f} s"
          f"  compile {r.get('compile_s', float('nan')):6.2f} s")
json.dump(kept + rows, open(out, "w"), indent=1)
PY
}
for path in 0 grid; do
    points $path --models cuba cobahh_uncoupled brunel_hakim_homog --sizes 10000 100000
    points $path --models cobahh_pseudo brunel_hakim_heterog --sizes 10000
done
