"""The CUDA backend's host-side work on a warm kernel cache, without a GPU.

    python3 benchmarks/cuda_warm_backend.py --repeats 3 --out warm_backend.json

`CudaExecutable` first plans the module, chooses the tick kernel's shape and gets the program
(`compile_cuda`: PTX and launch metadata), then creates the CUDA context, loads the PTX and
uploads the arrays. The first three steps need no device (llvmlite's NVPTX target), so they are
timed here: per model (the benchmark models of `benchmarks/compile_time.py` at N = 1000), one
fresh process fills an empty `SPIKEC_CACHE_DIR`, then `--repeats` fresh processes each build
the model's kernel IR (a pipeline-cache hit, not timed; it also hashes spikec's sources, as every
run does before its backend) and time, with the cache warm,

    driver        importing cuda-bindings' driver module, which `CudaExecutable` does first
                  (`require_cuda`) and which imports cuda.pathfinder (also used to find libdevice)
    plan          `ModulePlan(module)` and `choose_tick_shape` (the executable's own planning)
    compile_cuda  the program from the kernel cache: key, disk read, and whatever else a hit costs
    backend_host  the three together: the backend's host time before the context is created

The first call of a process is what is timed (imports it triggers included), as in a fresh
`net.run(0*ms)`. The GPU side (cuInit, context, module load, uploads) is `benchmarks/compile_time.py
--device cuda`'s 'backend' stage minus this.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ["cuba", "cobahh_pseudo", "brunel_hakim", "stdp", "mushroom_body"]


def kernel_ir(model: str):
    """The model's kernel IR, built as `net.run(0*ms)` builds it, stopped before the backend."""
    import spikec
    from benchmarks.compile_time import MODELS as BUILDERS
    from spikec.runtime.devices import device_settings
    from spikec.runtime.network import BuildOnlyStop

    spikec.seed(1)
    net = BUILDERS[model](spikec)
    device_settings.build_only = True
    try:
        net.run(0 * spikec.ms, namespace={})
    except BuildOnlyStop as stop:
        return stop.compiled.kernel_ir
    finally:
        device_settings.build_only = False
    raise SystemExit(f"{model}: run(0*ms) built nothing")


def measure(model: str, arch: str) -> dict:
    """One fresh process: the backend's host-side steps for `model` (runs in the child)."""
    module = kernel_ir(model)
    from spikec.backends import cuda_rows, cuda_tick_kernel
    from spikec.backends.abi import ModulePlan
    from spikec.backends.cuda import compile_cuda

    start = time.perf_counter()
    try:
        importlib.import_module("cuda.bindings.driver")  # what require_cuda imports first
    except ImportError:
        pass
    imported = time.perf_counter()
    plan = ModulePlan(module)
    shape = cuda_tick_kernel.choose_tick_shape(plan, None, clusters=cuda_tick_kernel.has_clusters(arch))
    planned = time.perf_counter()
    program = compile_cuda(module, arch, None, cuda_rows.parse_row_lanes(None), shape)
    done = time.perf_counter()
    return {"model": model, "tick_shape": str(shape), "from_disk": program.from_disk,
            "seconds": {"driver": imported - start, "plan": planned - imported,
                        "compile_cuda": done - planned, "backend_host": done - start}}


def run_model(model: str, arch: str, repeats: int) -> dict:
    """A filling process, then `repeats` warm ones, all on one new cache directory."""
    runs = []
    with tempfile.TemporaryDirectory() as cache:
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = dict(os.environ, SPIKEC_CACHE_DIR=cache, PYTHONPATH=path)
        for attempt in range(repeats + 1):
            done = subprocess.run([sys.executable, __file__, "--one", model, arch], capture_output=True,
                                  text=True, env=env, timeout=600)
            if done.returncode != 0:
                raise SystemExit(f"{model} failed:\n{done.stderr[-3000:]}")
            row = json.loads(done.stdout.strip().splitlines()[-1])
            if attempt:
                if not row["from_disk"]:
                    raise SystemExit(f"{model}: the warm process missed the kernel cache")
                runs.append(row)
    median = {stage: statistics.median(r["seconds"][stage] for r in runs) for stage in runs[0]["seconds"]}
    return {"model": model, "arch": arch, "tick_shape": runs[0]["tick_shape"], "median": median,
            "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=MODELS)
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="warm_backend.json")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(*options.one)))
        return
    rows = []
    print(f"{'model':16} {'shape':10} {'driver s':>8} {'plan s':>8} {'compile_cuda s':>15} {'host s':>8}"
          f"  (warm, median of {options.repeats}; load {os.getloadavg()[0]:.2f})")
    for model in options.models:
        row = run_model(model, options.arch, options.repeats)
        rows.append(row)
        median = row["median"]
        print(f"{model:16} {row['tick_shape']:10} {median['driver']:8.4f} {median['plan']:8.4f} "
              f"{median['compile_cuda']:15.4f} {median['backend_host']:8.4f}")
    Path(options.out).write_text(json.dumps({"load_after": os.getloadavg()[0], "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
