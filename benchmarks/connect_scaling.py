"""How synapse creation scales: time and peak memory of `Synapses.connect` for 10^6..10^8 synapses.

Each case runs in a fresh process (so peak memory is its own): N x N neurons connected with
`p=` (sampled with geometric jumps) or with a `condition=` (every candidate pair evaluated), sized
for the requested number of synapses. A connect of the same form on 16 neurons comes first
(`first_small_connect_s`: on the cpu device, mostly the JIT compile of the walk, which the timed
connect then reuses). `--device cpu` (default) connects with the compiled walk
(`spikec.runtime.connect_compiled`), `--device interpreter` with the numpy reference; with
`--repeat R` each case runs R times (R processes) and the times are medians. Prints one JSON line
per case; not a timed test.

    python3 benchmarks/connect_scaling.py                 # 1e6 and 1e7
    python3 benchmarks/connect_scaling.py 1e6 1e7 1e8 --device interpreter --repeat 3
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time

CASES = {
    # name: (connect keyword arguments, fraction of candidate pairs that become synapses)
    "p=0.1": ({"p": 0.1}, 0.1),
    "condition='i != j', p=0.1": ({"condition": "i != j", "p": 0.1}, 0.1),
    "condition='abs(i - j) < band'": ({"condition": "abs(i - j) < band"}, None),
}


def one_case(name: str, synapses: int, device: str) -> dict:
    import numpy as np

    import spikec
    from spikec.runtime.connectivity import connectivity_arrays

    kwargs, fraction = CASES[name]
    band = None
    if fraction is None:  # a band of width 2*band-1 around the diagonal
        N = int(math.sqrt(synapses * 10))
        band = max(1, synapses // (2 * N))
        kwargs = dict(kwargs, namespace={"band": band})
    else:
        N = int(math.sqrt(synapses / fraction))
    spikec.set_device(device)
    spikec.seed(1)
    start = time.perf_counter()  # a small connect of the same form: the JIT compile, timed apart
    small = spikec.NeuronGroup(16, "v : 1", threshold="v > 1")
    spikec.Synapses(small, small, "w : 1", on_pre="v += w").connect(**kwargs)
    first_seconds = time.perf_counter() - start
    G = spikec.NeuronGroup(N, "v : 1", threshold="v > 1")
    S = spikec.Synapses(G, G, "w : 1", on_pre="v += w")
    start = time.perf_counter()
    S.connect(**kwargs)
    connect_seconds = time.perf_counter() - start
    start = time.perf_counter()
    arrays = connectivity_arrays(S)
    csr_seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
    return {"case": name, "device": device, "neurons": N, "synapses": len(S), "connect_s": round(connect_seconds, 2),
            "first_small_connect_s": round(first_seconds, 3),
            "csr_s": round(csr_seconds, 2), "peak_MiB": round(peak),
            "bytes_per_synapse_arrays": round(sum(a.nbytes for a in arrays.values())
                                              / max(1, len(S)), 1),
            "check": int(np.asarray(S.i[:10]).sum())}


def run_case(name: str, synapses: int, device: str) -> dict:
    result = subprocess.run([sys.executable, __file__, "--case", name, str(synapses), device],
                            capture_output=True, text=True)
    if result.returncode:
        return {"case": name, "synapses": synapses, "failed": result.stderr.strip().splitlines()[-1:]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--case":
        print(json.dumps(one_case(argv[1], int(float(argv[2])), argv[3])), flush=True)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=float, default=[1e6, 1e7])
    parser.add_argument("--device", default="cpu", choices=("cpu", "interpreter"))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    options = parser.parse_args(argv)
    for synapses in (int(size) for size in options.sizes):
        for name in options.cases:
            runs = [run_case(name, synapses, options.device) for _ in range(options.repeat)]
            if any("failed" in run for run in runs):
                print(json.dumps(next(run for run in runs if "failed" in run)), flush=True)
                continue
            result = dict(runs[0])
            for key in ("connect_s", "csr_s", "peak_MiB", "first_small_connect_s"):
                result[key] = statistics.median(run[key] for run in runs)
            result["connect_s_all"] = [run["connect_s"] for run in runs]
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
