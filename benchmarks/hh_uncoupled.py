"""COBAHH uncoupled on spikec's CPU and CUDA backends: wall time per simulated second, compile
time (cold and with a warm kernel cache), and the GPU's achieved memory bandwidth.

    python benchmarks/hh_uncoupled.py --devices cpu cuda --sizes 1000 10000 100000 1000000 \
        --duration 1.0 --out results.json

Each (device, size) point runs in its own process twice: the first with an empty kernel cache
(cold compile), the second with the cache the first left (warm compile). Run time is the median
of `--repeats` runs of `--duration` seconds of biological time, after a short warm-up run.
Bytes per step are counted from the kernel IR (every array a step loads read once, every array it
stores written once), the floor a memory-bound step cannot beat.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COPY_BANDWIDTH = 3.0e12  # H100, device-to-device copy counting bytes read + written (measured)


def bytes_per_step(kernel_ir) -> int:
    """Bytes one step must move at least: each loaded array read, each stored array written."""
    from spikec.ir.kernel import arrays, kernels
    declared = arrays(kernel_ir)
    loaded, stored = set(), set()
    for kernel in kernels(kernel_ir):
        for op in kernel.walk():
            if op.name == "kernel.load":
                loaded.add(op.attributes["array"].name)
            elif op.name in ("kernel.store", "kernel.atomic_add"):
                stored.add(op.attributes["array"].name)
    size = lambda name: declared[name].length * declared[name].element_type.numpy_dtype.itemsize
    return sum(size(n) for n in loaded) + sum(size(n) for n in stored)


def measure(device: str, n: int, duration: float, repeats: int, pipeline: str | None = None) -> dict:
    """One point, in this process (`pipeline`: the pass pipeline, None for the default)."""
    sys.path.insert(0, str(ROOT))
    import spikec
    from benchmarks.models import cobahh_uncoupled

    spikec.set_device(device, **({"pipeline": pipeline} if pipeline else {}))
    spikec.seed(1)
    start = time.perf_counter()
    net = cobahh_uncoupled.build(spikec, n)
    net.run(0 * spikec.ms)  # builds: model IR, passes, backend compile, load, initial values
    compile_s = time.perf_counter() - start
    net.run(10 * spikec.ms)  # warm-up (first launches, graph instantiation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        net.run(duration * spikec.second)
        times.append(time.perf_counter() - start)
    run_s = statistics.median(times)
    steps = round(duration / float(spikec.defaultclock.dt / spikec.second))
    moved = bytes_per_step(net.build.compiled.kernel_ir)
    return {"model": "cobahh_uncoupled", "n": n, "device": device, "pipeline": pipeline or "default",
            "compile_s": compile_s,
            "run_s": run_s, "run_s_all": times, "duration_bio_s": duration,
            "wall_per_bio_s": run_s / duration, "steps": steps, "bytes_per_step": moved,
            "achieved_bytes_per_s": moved * steps / run_s,
            "fraction_of_copy_bandwidth": moved * steps / run_s / COPY_BANDWIDTH}


def run_point(device: str, n: int, duration: float, repeats: int, cache: str,
              pipeline: str | None = None) -> dict | None:
    """Cold then warm process for one point; None when the device is not available."""
    results = []
    for phase in ("cold", "warm"):
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = dict(os.environ, SPIKEC_CACHE_DIR=cache, PYTHONPATH=path)
        command = [sys.executable, __file__, "--one", device, str(n), str(duration), str(repeats)]
        command += ["--pipeline", pipeline] if pipeline else []
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600)
        if done.returncode != 0:
            print(f"  {device} n={n} {phase}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            return None
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    cold, warm = results
    warm["compile_cold_s"] = cold["compile_s"]
    warm["compile_warm_s"] = warm.pop("compile_s")
    return warm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", nargs="+", default=["cpu"])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000])
    parser.add_argument("--duration", type=float, default=1.0, help="biological seconds")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="hh_uncoupled.json")
    parser.add_argument("--pipeline", default=None,
                        help="pass pipeline (default: spikec's); compares pass changes in one run")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        device, n, duration, repeats = options.one
        print(json.dumps(measure(device, int(n), float(duration), int(repeats), options.pipeline)))
        return
    rows = []
    print(f"{'device':7} {'N':>9} {'cold s':>7} {'warm s':>7} {'run s':>8} {'s/bio s':>8} "
          f"{'MB/step':>8} {'GB/s':>8} {'of copy':>7}")
    for device in options.devices:
        with tempfile.TemporaryDirectory() as cache:
            for n in options.sizes:
                row = run_point(device, n, options.duration, options.repeats, cache, options.pipeline)
                if row is None:
                    continue
                rows.append(row)
                print(f"{device:7} {n:9d} {row['compile_cold_s']:7.2f} {row['compile_warm_s']:7.2f} "
                      f"{row['run_s']:8.3f} {row['wall_per_bio_s']:8.3f} "
                      f"{row['bytes_per_step'] / 1e6:8.2f} {row['achieved_bytes_per_s'] / 1e9:8.1f} "
                      f"{row['fraction_of_copy_bandwidth']:7.1%}", flush=True)
    Path(options.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
