"""How synapse creation scales: time and peak memory of `Synapses.connect` for 10^6..10^8 synapses.

Each case runs in a fresh process (so peak memory is its own): N x N neurons connected with
`p=` (sampled with geometric jumps) or with a `condition=` (every candidate pair evaluated), sized
for the requested number of synapses. Prints one JSON line per case; not a timed test.

    python3 benchmarks/connect_scaling.py                 # 1e6 and 1e7
    python3 benchmarks/connect_scaling.py 1e6 1e7 1e8     # as much as fits in memory
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time

CASES = {
    # name: (connect keyword arguments, fraction of candidate pairs that become synapses)
    "p=0.1": ({"p": 0.1}, 0.1),
    "condition='i != j', p=0.1": ({"condition": "i != j", "p": 0.1}, 0.1),
    "condition='abs(i - j) < band'": ({"condition": "abs(i - j) < band"}, None),
}


def one_case(name: str, synapses: int) -> dict:
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
    spikec.seed(1)
    G = spikec.NeuronGroup(N, "v : 1", threshold="v > 1")
    S = spikec.Synapses(G, G, "w : 1", on_pre="v += w")
    start = time.perf_counter()
    S.connect(**kwargs)
    connect_seconds = time.perf_counter() - start
    start = time.perf_counter()
    arrays = connectivity_arrays(S)
    csr_seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
    return {"case": name, "neurons": N, "synapses": len(S), "connect_s": round(connect_seconds, 2),
            "csr_s": round(csr_seconds, 2), "peak_MiB": round(peak),
            "bytes_per_synapse_arrays": round(sum(a.nbytes for a in arrays.values())
                                              / max(1, len(S)), 1),
            "check": int(np.asarray(S.i[:10]).sum())}


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--case":
        print(json.dumps(one_case(argv[1], int(float(argv[2])))), flush=True)
        return
    sizes = [int(float(a)) for a in argv] or [10 ** 6, 10 ** 7]
    for synapses in sizes:
        for name in CASES:
            result = subprocess.run([sys.executable, __file__, "--case", name, str(synapses)],
                                    capture_output=True, text=True)
            line = result.stdout.strip().splitlines()[-1] if result.returncode == 0 else \
                json.dumps({"case": name, "synapses": synapses,
                            "failed": result.stderr.strip().splitlines()[-1:]})
            print(line, flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
