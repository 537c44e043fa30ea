"""Set-up time of a benchmark model and the part of it spent in assignments from strings
(`G.v = '...'`, `S.w = '...'`: host code), on the `cpu` device, in this process; or the cost per
element of one assignment, compiled and interpreted.

    python3 benchmarks/host_code_setup.py microcircuit 7717        # one JSON line
    python3 benchmarks/host_code_setup.py --elements 3000000       # ns per element, medians of 3

Before/after comparisons run the first form alternately from two trees (`PYTHONPATH=<tree>`),
each in a fresh process; docs/performance.md ("Set-up: compiled host code") has the figures and
docs/results/host_code_setup_2core.jsonl the rows.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from pathlib import Path

MODELS = {"cobahh_pseudo": ("cobahh", {"coupling": "pseudo"}),
          "brunel_hakim_heterog": ("brunel_hakim", {"delays": "heterogeneous"}),
          "microcircuit": ("microcircuit", {})}
CODES = ("v = randn()", "v = rand()", "v = clip(1 + 0.1*randn(), 0, 2)")


def model_setup(model: str, size: int) -> dict:
    """Build the model once; its set-up time and the time inside host-code assignments."""
    import spikec
    from spikec.runtime import code_runner

    sys.path.append(str(Path(__file__).resolve().parent.parent))  # after any PYTHONPATH tree
    module_name, options = MODELS[model]
    models = importlib.import_module(f"benchmarks.models.{module_name}")
    spikec.set_device("cpu")
    spikec.seed(1)
    spent = [0.0]
    execute = code_runner.HostCodeRunner.execute

    def timed(self, *args, **kwargs):
        start = time.perf_counter()
        try:
            return execute(self, *args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    code_runner.HostCodeRunner.execute = timed
    start = time.perf_counter()
    _, info = models.build(spikec, size, **options)
    row = {"model": model, "n": size, "setup_s": time.perf_counter() - start,
           "host_code_s": spent[0], "synapses": int(sum(len(s) for s in info["synapses"]))}
    try:  # only where host code compiles
        from spikec.runtime import host_code_native
        row["native"] = {"compiled": host_code_native.statistics.compiled,
                         "interpreted": dict(host_code_native.statistics.interpreted)}
    except ImportError:
        row["native"] = None
    return row


def per_element(size: int) -> list[dict]:
    """ns per element of each of `CODES` over `size` elements, compiled and interpreted."""
    import spikec
    from spikec.runtime.host_code import HostCode

    spikec.set_device("cpu")
    spikec.seed(1)
    group = spikec.NeuronGroup(size, "v : 1", name="G")
    rows = []
    for code in CODES:
        for compiled in (True, False):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                HostCode(group, {}, "G", compiled=compiled).execute(code)
                times.append((time.perf_counter() - start) / size * 1e9)
            rows.append({"code": code, "compiled": compiled,
                         "ns_per_element": statistics.median(times), "runs": times})
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", choices=sorted(MODELS))
    parser.add_argument("size", nargs="?", type=int)
    parser.add_argument("--elements", type=int, help="time single assignments over this many")
    args = parser.parse_args(argv)
    if args.elements:
        for row in per_element(args.elements):
            print(json.dumps(row))
    elif args.model and args.size:
        print(json.dumps(model_setup(args.model, args.size)))
    else:
        parser.error("give MODEL SIZE or --elements N")


if __name__ == "__main__":
    main()
