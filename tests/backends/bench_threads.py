"""CPU threads on COBAHH uncoupled (benchmarks/models/cobahh_uncoupled.py): time per tick for 1..T
threads, interleaved; run by hand (not a test):

    python -m tests.backends.bench_threads [--sizes 10000 100000] [--threads 1 2] [--ticks 200]

The network is built once per size through spikec (device 'cpu'); its kernel IR and initial
arrays then go to one `CpuExecutable` per thread count ('1t' is the threaded program on one thread:
the cost of the barriers and ranges without a second core). Each round runs every executable for
`--ticks` ticks, in turn; prints the medians (wall and process CPU time per tick) over `--rounds`,
the machine's load average, and checks the arrays are equal across thread counts.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 100_000])
    parser.add_argument("--threads", nargs="+", default=["1", "1t", "2"])
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import numpy as np

    import spikec
    from benchmarks.models import cobahh_uncoupled
    from spikec.backends.cache import CompileCache
    from spikec.backends.cpu import CpuExecutable
    from spikec.backends import cpu_threads

    results = []
    for n in options.sizes:
        spikec.set_device("cpu")
        spikec.seed(1)
        net = cobahh_uncoupled.build(spikec, n)
        net.run(0 * spikec.ms)
        module = net.build.compiled.kernel_ir
        built = net.build.executable
        arrays = {name: built.read(name) for name in built.plan.arrays}
        executables = {}
        for label in options.threads:
            threads = int(label.rstrip("t"))
            exe = CpuExecutable(module, arrays, seed=1, cache=CompileCache(None), threads=max(threads, 2))
            if label.endswith("t") or threads == 1:
                if label.endswith("t"):   # the threaded program run by one thread
                    exe.runner = cpu_threads.ThreadedRunner(exe.program.run, exe.plan, exe.arrays, exe.table,
                                                            cpu_threads.analyze(exe.plan), 1)
                    exe.threads = 1
                else:
                    exe = CpuExecutable(module, arrays, seed=1, cache=CompileCache(None), threads=1)
            executables[label] = exe
        wall = {label: [] for label in executables}
        cpu = {label: [] for label in executables}
        for exe in executables.values():
            exe.run(10)
        for _ in range(options.rounds):
            for label, exe in executables.items():
                t0, c0 = time.perf_counter(), time.process_time()
                exe.run(options.ticks)
                wall[label].append((time.perf_counter() - t0) / options.ticks)
                cpu[label].append((time.process_time() - c0) / options.ticks)
        reference = next(iter(executables.values()))
        for label, exe in executables.items():
            for name in exe.plan.arrays:
                np.testing.assert_array_equal(exe.read(name), reference.read(name), err_msg=f"{label} {name}")
        base = statistics.median(wall[next(iter(wall))])
        for label in executables:
            w, c = statistics.median(wall[label]), statistics.median(cpu[label])
            row = {"n": n, "threads": label, "us_per_tick": w * 1e6, "cpu_us_per_tick": c * 1e6,
                   "speedup": base / w, "load_average": os.getloadavg()[0], "all_us": [x * 1e6 for x in wall[label]]}
            results.append(row)
            print(f"n={n:8d} threads={label:3} {w * 1e6:10.1f} us/tick  cpu {c * 1e6:10.1f} us/tick  "
                  f"speedup {base / w:5.2f}  load {os.getloadavg()[0]:.2f}", flush=True)
    if options.out:
        Path(options.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
