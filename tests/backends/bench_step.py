"""GPU step cost of COBAHH uncoupled (benchmarks/models/cobahh_uncoupled.py) per tick, by size and
by ticks per CUDA graph; run by hand on a GPU machine (not a test):

    python -m tests.backends.bench_step [--sizes 1000 ...] [--ticks-per-graph 1 4 16 64 256] [--out r.json]

For each size the network is built once (spikec, device 'cuda'); then for each T the executable's
many-tick graph is recaptured with T ticks, and `run(10_000)` (1 s biological) is timed 3 times
after a warm-up (host clock around run(), which synchronizes). Then, at T = 64, the same with the
one-block compaction for every size ("one-block"), and each kernel of a tick timed alone: the tick's
launches issued directly (not captured) with events around each, median of 50 ticks. Prints a table
and a final ``STEP`` line (microseconds per tick) and ``KERNELS`` line (microseconds per kernel).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class TimedLaunches:
    """Stands in for the driver module during `record_ticks`: events around every launch."""

    def __init__(self, cuda):
        self.cuda = cuda
        self.marks = []

    def __getattr__(self, name):
        return getattr(self.cuda, name)

    def launch(self, function, grid, block, args=(), stream=None, shared_mem=0):
        start = self.cuda.Event().record(stream)
        self.cuda.launch(function, grid, block, args, stream, shared_mem)
        self.marks.append((function.name, grid, block, start, self.cuda.Event().record(stream)))


def kernel_times(executable, ticks: int = 50) -> dict:
    timed = TimedLaunches(executable.cuda)
    executable.cuda = timed
    try:
        for _ in range(ticks):
            executable.record_ticks(executable.stream, 1)
    finally:
        executable.cuda = timed.cuda
    executable.stream.synchronize()
    times = {}
    for name, grid, block, start, end in timed.marks:
        times.setdefault(f"{name} <<<{grid},{block}>>>", []).append(1e3 * start.elapsed_ms(end))
    return {name: round(statistics.median(values), 2) for name, values in times.items()}


def time_run(executable, ticks: int) -> float:
    executable.run(ticks)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        executable.run(ticks)
        times.append(time.perf_counter() - start)
    return 1e6 * statistics.median(times) / ticks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--ticks-per-graph", nargs="+", type=int, default=[1, 4, 16, 64, 256])
    parser.add_argument("--ticks", type=int, default=10_000)
    parser.add_argument("--out")
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import spikec
    from benchmarks.models import cobahh_uncoupled

    results = {}
    for n in options.sizes:
        spikec.set_device("cuda")
        spikec.seed(1)
        net = cobahh_uncoupled.build(spikec, n)
        net.run(0 * spikec.ms)
        executable = net.build.executable
        row = {}
        for t in options.ticks_per_graph:
            if executable.many_graph is not None:
                executable.many_graph.destroy()
                executable.many_graph = None
            executable.ticks_per_graph = t
            start = time.perf_counter()
            executable.run(t)  # captures the T-tick graph
            capture = time.perf_counter() - start
            executable.run(options.ticks)
            times = []
            for _ in range(3):
                start = time.perf_counter()
                executable.run(options.ticks)
                times.append(time.perf_counter() - start)
            row[t] = {"us_per_tick": 1e6 * statistics.median(times) / options.ticks,
                      "all_s": times, "first_run_with_capture_s": capture}
            print(f"N={n:8d} T={t:4d} {row[t]['us_per_tick']:8.2f} us/tick  (capture+1 run {capture:.3f} s)",
                  flush=True)
        executable.ticks_per_graph = 64
        executable.one_block_limit = 1 << 62
        executable.recapture()
        row["one-block T=64"] = time_run(executable, options.ticks)
        print(f"N={n:8d} one-block compaction, T=64: {row['one-block T=64']:8.2f} us/tick", flush=True)
        executable.one_block_limit = 8192
        executable.recapture()
        row["kernels"] = kernel_times(executable)
        print(f"N={n:8d} kernels alone (us):", json.dumps(row["kernels"]), flush=True)
        results[n] = row
        executable.close()
    if options.out:
        Path(options.out).write_text(json.dumps(results, indent=1))
    print("STEP", json.dumps({n: {t: round(v["us_per_tick"], 2) if isinstance(v, dict) else round(v, 2)
                                 for t, v in row.items() if t != "kernels"} for n, row in results.items()}))
    print("KERNELS", json.dumps({n: row["kernels"] for n, row in results.items()}))


if __name__ == "__main__":
    main()
