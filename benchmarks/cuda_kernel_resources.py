"""Registers, local memory (spills) and occupancy of every PTX entry of a benchmark model on the GPU,
as the driver's JIT compiled it: what decides how many threads an SM keeps in flight.

    python benchmarks/cuda_kernel_resources.py --model cobahh_uncoupled --size 1000000

Set SPIKEC_CUDA_MAX_REGISTERS to see a register cap's effect; the output is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ATTRIBUTES = ("NUM_REGS", "LOCAL_SIZE_BYTES", "SHARED_SIZE_BYTES", "MAX_THREADS_PER_BLOCK")
REGISTERS_PER_SM, THREADS_PER_SM, BLOCK = 65536, 2048, 256  # Hopper, spikec's block size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="cobahh_uncoupled")
    parser.add_argument("--size", type=int, default=100000)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    import importlib

    import spikec
    from benchmarks.run import MODELS

    module_name, build_options = MODELS[options.model][:2]
    model = importlib.import_module(f"benchmarks.models.{module_name}")
    spikec.set_device("cuda")
    spikec.seed(1)
    net = model.build(spikec, options.size, **build_options)
    net = net[0] if isinstance(net, tuple) else net
    net.run(0 * spikec.ms)
    executable = net.build.executable
    entries = re.findall(r"\.entry\s+(\w+)", executable.program.ptx)
    report = {}
    for name in entries:
        function = executable.cu_module.function(name)
        values = {attribute: function.attribute(attribute) for attribute in ATTRIBUTES}
        registers = max(values["NUM_REGS"], 1)
        blocks = min(REGISTERS_PER_SM // (registers * BLOCK), THREADS_PER_SM // BLOCK)
        values["occupancy_at_256"] = blocks * BLOCK / THREADS_PER_SM
        report[name] = values
    print(json.dumps({"model": options.model, "size": options.size, "kernels": report}, indent=1))


if __name__ == "__main__":
    main()
