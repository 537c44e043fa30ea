"""STDP with heterogeneous delays (benchmarks/models/stdp.py) with its `on_pre` pathway delivered
by each per-synapse-delay strategy that is correct for it (spike-history, the automatic choice,
and spike-queue), in one process: the same network built once per strategy, a warm-up run, then
runs alternating between the strategies, so load changes hit both alike. Prints seconds per
biological second (median and all runs) per strategy, and checks both gave the same weights.

    python benchmarks/stdp_heterog_strategies.py --n 10000 --duration 1 --repeats 3
    python benchmarks/stdp_heterog_strategies.py --device cuda --n 10000000 --duration 0.2
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import spikec  # noqa: E402
from benchmarks.models import stdp  # noqa: E402

STRATEGIES = ("spike-history", "spike-queue")


def build(strategy: str, n: int):
    spikec.seed(1)
    net, info = stdp.build(spikec, n, delays="heterogeneous")
    synapses = info["synapses"][0]
    synapses.propagation = {"pre": strategy}
    return net, synapses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n", type=int, default=10000, help="synapses (= Poisson inputs)")
    parser.add_argument("--duration", type=float, default=1.0, help="biological s per run")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    spikec.set_device(args.device)
    networks = {s: build(s, args.n) for s in STRATEGIES}
    for strategy, (net, _) in networks.items():
        started = time.perf_counter()
        net.run(10 * spikec.ms)  # compile and first steps
        print(f"{strategy}: built and warmed up in {time.perf_counter() - started:.1f} s")
    runs: dict[str, list[float]] = {s: [] for s in STRATEGIES}
    for _ in range(args.repeats):
        for strategy, (net, _) in networks.items():
            started = time.perf_counter()
            net.run(args.duration * spikec.second)
            runs[strategy].append((time.perf_counter() - started) / args.duration)
    for strategy, times in runs.items():
        print(f"{strategy}: {statistics.median(times):.3f} s per biological second "
              f"(runs: {', '.join(f'{t:.3f}' for t in times)})")
    weights = [np.asarray(s.w[:]) for _, s in networks.values()]
    same = np.array_equal(weights[0], weights[1])
    print(f"same weights after {args.repeats * args.duration + 0.01:g} s: {same}")


if __name__ == "__main__":
    main()
