"""Compile times and per-tick run times of the backends; run by hand (not a test):

    python -m tests.backends.bench_backends [--out results.json]

Prints one line per measurement and a final ``BENCH`` summary line. PTX generation is measured on
any machine; the GPU part runs where a GPU is present.
"""

from __future__ import annotations

import argparse
import json
import time

from spikec.backends.abi import ModulePlan
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.backends.cuda_codegen import PtxTimings, generate_ptx, lower_for_cuda
from tests.backends.samples import noisy_lif, parsed, random_spikes


def ptx_time(module, internalize: bool) -> tuple[float, int, PtxTimings]:
    timings = PtxTimings()
    start = time.perf_counter()
    text = lower_for_cuda(ModulePlan(module))
    timings.lower = time.perf_counter() - start
    ptx = generate_ptx(text, "sm_90", internalize=internalize, timings=timings)
    return time.perf_counter() - start, len(ptx), timings


def per_tick(executable, ticks: int) -> float:
    executable.run(1)
    start = time.perf_counter()
    executable.run(ticks)
    executable.read(next(iter(executable.plan.arrays)))
    return (time.perf_counter() - start) / ticks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    arguments = parser.parse_args()
    results: dict = {}
    module = parsed(noisy_lif(1000))
    results["ptx_cold_s"], size, _ = ptx_time(module, True)
    results["ptx_warm_s"], results["ptx_bytes"], timings = ptx_time(parsed(noisy_lif(1001)), True)
    results["ptx_warm_phases"] = {k: round(v, 4) for k, v in vars(timings).items()}
    results["ptx_not_internalized_s"], results["ptx_not_internalized_bytes"], _ = ptx_time(module, False)
    start = time.perf_counter()
    CpuExecutable(module, cache=CompileCache(None))
    results["cpu_compile_s"] = time.perf_counter() - start
    print("compile:", json.dumps(results))
    from spikec.backends.cuda_driver import unavailable_reason

    gpu = not unavailable_reason()
    for n in (1_000, 100_000, 1_000_000):
        for name, text in (("noisy_lif", noisy_lif(n)), ("random_spikes", random_spikes(n, 0.02))):
            module = parsed(text)
            row = {"cpu_tick_us": 1e6 * per_tick(CpuExecutable(module, cache=CompileCache(None)),
                                                 max(5, 200_000 // n))}
            if gpu:
                from spikec.backends.cuda import CudaExecutable

                start = time.perf_counter()
                executable = CudaExecutable(module, cache=CompileCache(None))
                row["gpu_build_s"] = time.perf_counter() - start
                row["gpu_jit_s"] = executable.cu_module.load_seconds
                row["gpu_tick_us"] = 1e6 * per_tick(executable, 2000)
                executable.close()
            results[f"{name}_{n}"] = row
            print(f"{name} N={n}:", json.dumps(row))
    if arguments.out:
        with open(arguments.out, "w") as file:
            json.dump(results, file, indent=1)
    summary = {k: v for k, v in results.items() if not isinstance(v, dict)}
    print("BENCH", json.dumps(summary), "gpu" if gpu else "no-gpu")


if __name__ == "__main__":
    main()
