"""Measure what the CUDA driver layer costs on this machine's GPU: kernel launches from Python,
graph replays per kernel node, copy bandwidths, context creation and PTX JIT loads.

    python3 benchmarks/cuda_driver_costs.py [results.json]

Method: every figure is a median over repetitions after warm-up runs. Host costs are
`time.perf_counter` around a batch of calls (the GPU keeps up, so the queue never fills); device
costs are CUDA events recorded on the stream around the work. Kernels are the hand-written ones of
spikec.backends.cuda_driver_samples. docs/cuda-driver.md records the results and discusses them.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import statistics
import sys
import time

import numpy as np

from spikec.backends import cuda_driver as cuda
from spikec.backends.cuda_driver_samples import sample_ptx

BATCH = 2000          # launches per timed batch
BATCHES = 15
WARMUP = 3


def median(values):
    return float(statistics.median(values))


def event_ms(stream, work) -> float:
    """Milliseconds of device time that `work()` puts on `stream`, by events."""
    start, end = cuda.Event(), cuda.Event()
    start.record(stream)
    work()
    end.record(stream)
    return start.elapsed_ms(end)


def per_call_us(stream, call, count=BATCH):
    """(host us per call, device us per call): medians over BATCHES batches of `count` calls."""
    def batch():
        for _ in range(count):
            call()
    for _ in range(WARMUP):
        batch()
    stream.synchronize()
    host, device = [], []
    for _ in range(BATCHES):
        start, end = cuda.Event(), cuda.Event()
        start.record(stream)
        begin = time.perf_counter()
        batch()
        host.append((time.perf_counter() - begin) / count * 1e6)
        end.record(stream)
        device.append(start.elapsed_ms(end) * 1e3 / count)
    return median(host), median(device)


def measure_launches(module, stream):
    driver = importlib.import_module("cuda.bindings.driver")
    kernel = module.function("affine_f32")
    x, y = cuda.DeviceArray.from_host(np.ones(32, np.float32)), cuda.DeviceArray(32, np.float32)
    args = [x, y, np.float32(2), np.float32(1), np.uint32(32)]
    params = cuda.KernelParams(args)
    prepared = cuda.PreparedLaunch(kernel, 1, 32, params, stream)
    typed = ((x.device_pointer, y.device_pointer, 2.0, 1.0, 32),
             (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_float, ctypes.c_float, ctypes.c_uint))
    handle = stream.handle

    def bindings_tuple_form():
        cuda.check(driver.cuLaunchKernel(kernel.handle, 1, 1, 1, 32, 1, 1, 0, handle, typed, 0))

    variants = {
        "launch(), packing 5 args each call": lambda: cuda.launch(kernel, 1, 32, args, stream),
        "launch(), prepacked KernelParams": lambda: cuda.launch(kernel, 1, 32, params, stream),
        "PreparedLaunch()": prepared,
        "cuLaunchKernel, bindings' (values, types) form": bindings_tuple_form,
    }
    results = {name: per_call_us(stream, call) for name, call in variants.items()}
    stream.synchronize()
    assert np.all(y.to_host() == 3.0), "affine kernel gave a wrong result"
    return results


def measure_graphs(module, stream):
    results = {}
    counter = cuda.DeviceArray.zeros(1, np.uint32, stream)
    x, y = cuda.DeviceArray.from_host(np.ones(32, np.float32)), cuda.DeviceArray(32, np.float32)
    nodes = 1000
    kernels = {
        "empty": (module.function("empty"), []),
        "affine_f32, 32 elements": (module.function("affine_f32"),
                                    [x, y, np.float32(2), np.float32(1), np.uint32(32)]),
        "increment": (module.function("increment"), [counter]),
    }
    for name, (kernel, args) in kernels.items():
        params = cuda.KernelParams(args)
        graph = cuda.Graph.capture(lambda s: [cuda.launch(kernel, 1, 32, params, s) for _ in range(nodes)], stream)
        assert graph.node_count == nodes
        for _ in range(WARMUP):
            graph.launch()
        times = [event_ms(stream, graph.launch) for _ in range(20)]
        results[f"graph of {nodes} '{name}' nodes, us per node"] = median(times) * 1e3 / nodes
        graph.destroy()
    stream.synchronize()
    replays = (WARMUP + 20) * 1
    assert counter.to_host()[0] == nodes * replays, "graph replays lost increments"

    increment, _ = kernels["increment"]
    single = cuda.Graph.capture(lambda s: cuda.launch(increment, 1, 32, [counter], s), stream)
    host, device = per_call_us(stream, single.launch)
    results["graph of 1 node, host us per cuGraphLaunch"] = host
    results["graph of 1 node, device us per replay"] = device
    single.destroy()
    return results


def measure_copies(stream):
    results = {}
    nbytes = 1 << 30
    source, target = cuda.DeviceBuffer(nbytes), cuda.DeviceBuffer(nbytes)
    source.memset32(0x3F800000, stream)
    target.memset(0, stream)
    copy = lambda: target.copy_from_device(source, stream=stream)   # noqa: E731
    for _ in range(WARMUP):
        copy()
    times = [event_ms(stream, copy) for _ in range(20)]
    results["device-to-device copy of 1 GiB, TB/s (read + write)"] = 2 * nbytes / (median(times) * 1e-3) / 1e12
    check = np.empty(1 << 18, np.float32)
    stream.synchronize()
    target.copy_to_host(check, nbytes=check.nbytes)
    assert np.all(check == 1.0), "device copy gave wrong data"
    source.free()
    target.free()

    nbytes = 1 << 28
    host = cuda.pinned_empty(nbytes, np.uint8)
    host[:] = 7
    device = cuda.DeviceBuffer(nbytes)
    for name, work in (("host-to-device (pinned) 256 MiB, GB/s", lambda: device.copy_from_host(host, stream)),
                       ("device-to-host (pinned) 256 MiB, GB/s", lambda: device.copy_to_host(host, stream))):
        work()
        times = [event_ms(stream, work) for _ in range(10)]
        results[name] = nbytes / (median(times) * 1e-3) / 1e9
    stream.synchronize()
    device.free()
    return results


def many_kernels_ptx(arch: str, count: int, tag: str) -> str:
    """A module of `count` renamed copies of the sample kernels (a bigger JIT job)."""
    body = sample_ptx(arch).split(".address_size 64", 1)[1]
    copies = [body.replace(".entry ", f".entry k{i}_") for i in range(count)]
    return sample_ptx(arch).split(".address_size 64", 1)[0] + ".address_size 64\n" + "".join(copies) + f"\n// {tag}\n"


def measure_jit(arch):
    results = {}
    stamp = f"{time.time_ns()}"
    small = sample_ptx(arch)
    results["small module (4 kernels), first load in process, ms"] = cuda.Module(small + f"// {stamp}\n").load_seconds * 1e3
    results["small module, new text (JIT cache miss), ms"] = median(
        [cuda.Module(small + f"// {stamp} {i}\n").load_seconds * 1e3 for i in range(10)])
    results["small module, same text again (JIT cache hit), ms"] = median(
        [cuda.Module(small).load_seconds * 1e3 for _ in range(10)])
    results["module of 256 kernels, new text, ms"] = median(
        [cuda.Module(many_kernels_ptx(arch, 64, f"{stamp} {i}")).load_seconds * 1e3 for i in range(3)])
    results["small module, PTX size, bytes"] = len(small)
    return results


def main(argv):
    begin = time.perf_counter()
    if not cuda.available():
        print("no GPU:", cuda.unavailable_reason())
        return 1
    context = cuda.Context.primary(0)
    results = {"context creation (cuInit + primary context), ms": (time.perf_counter() - begin) * 1e3}
    device = context.device
    driver = importlib.import_module("cuda.bindings.driver")
    bindings = importlib.import_module("cuda.bindings")
    info = {"device": device.name, "arch": device.arch, "multiprocessors": device.multiprocessor_count,
            "driver_version": cuda.check(driver.cuDriverGetVersion()),
            "cuda_bindings": bindings.__version__}
    results.update(measure_jit(device.arch))
    module = cuda.Module(sample_ptx(device.arch), "samples")
    stream = cuda.Stream()
    launch_results = measure_launches(module, stream)
    for name, (host, device_us) in launch_results.items():
        results[f"{name}: host us per launch"] = host
        results[f"{name}: device us per launch"] = device_us
    results.update(measure_graphs(module, stream))
    results.update(measure_copies(stream))

    print(f"{info['device']} ({info['arch']}, {info['multiprocessors']} SMs), driver "
          f"{info['driver_version']}, cuda-bindings {info['cuda_bindings']}")
    width = max(map(len, results))
    for name, value in results.items():
        print(f"  {name:<{width}}  {value:10.3f}")
    if len(argv) > 1:
        with open(argv[1], "w") as file:
            json.dump({"info": info, "results": results, "method": {
                "batch": BATCH, "batches": BATCHES, "warmup": WARMUP, "statistic": "median"}}, file, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
