"""GPU step cost of COBAHH uncoupled (benchmarks/models/cobahh_uncoupled.py) per tick, by size and
by ticks per CUDA graph; run by hand on a GPU machine (not a test):

    python -m tests.backends.bench_step [--sizes 1000 ...] [--ticks-per-graph 1 4 16 64 256] [--out r.json]

For each size the network is built once (spikec, device 'cuda'); then for each T the executable's
many-tick graph is recaptured with T ticks, and `run(10_000)` (1 s biological) is timed 3 times
after a warm-up (host clock around run(), which synchronizes). Prints a table and a final
``STEP`` line (microseconds per tick).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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
        results[n] = row
        net.build.executable.close()
    if options.out:
        Path(options.out).write_text(json.dumps(results, indent=1))
    print("STEP", json.dumps({n: {t: round(v["us_per_tick"], 2) for t, v in row.items()}
                             for n, row in results.items()}))


if __name__ == "__main__":
    main()
