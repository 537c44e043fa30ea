"""Where a GPU step goes: every launch of a tick timed on its own, for a benchmark model.

    python3 benchmarks/cuda_step_profile.py microcircuit 7717 --warmup 0.05 --ticks 200 --out p.json

The model is built as `benchmarks/run.py` builds it (spikec, device cuda, no monitors), run for
`--warmup` biological seconds (so that the network is in its steady state: spikes in the rings),
then timed twice:

* `net.run`: `net.run` of `--ticks` ticks, per tick (with the run's own host work);
* `graph`: the executable's `run` of as many ticks (graph replays, or the tick kernel), per tick;
* with the tick kernel (one launch for all ticks, nothing to capture) and
  `SPIKEC_CUDA_TICK_TIMERS=1`: the time of each interval between the kernel's barriers (a phase's
  launches, its compactions, the tick's end; `cuda_tick_kernel.tick_intervals`) per tick, and
  per launch the mean and the most time a block spent in it (`cuda_tick_kernel.tick_launches`);
* `profiled graph`: the same ticks captured into one graph with an event-record node before and
  after each kernel node (`CU_EVENT_RECORD_EXTERNAL`), replayed once. A launch's time is the gap
  between its two events: the kernel plus the GPU's cost of starting a graph node, without the
  host (a launch-by-launch profile from Python measures the host's ~15 us per launch instead).
  The event nodes themselves add a little per node: compare the profiled graph's time per tick
  with the plain graph's.

Per kernel the table gives the launches per tick, the grid, the median and the total us per tick
over the timed ticks, sorted by total. That is the measurement behind docs/performance.md's
microcircuit section; it needs the GPU (`cuda_driver` available).
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class TimedDriver:
    """The CUDA driver module with `launch` wrapped: an external event-record node before and
    after every launch recorded into a graph."""

    def __init__(self, driver):
        self.driver = driver
        self.launches: list[tuple[str, int, int, object, object]] = []

    def __getattr__(self, name):
        return getattr(self.driver, name)

    def _record(self, stream):
        from spikec.backends.cuda_driver_core import _driver, check
        raw = _driver()
        event = self.driver.Event()
        check(raw.cuEventRecordWithFlags(event.handle, stream.handle,
                                         raw.CUevent_record_flags.CU_EVENT_RECORD_EXTERNAL),
              "cuEventRecordWithFlags")
        return event

    def launch(self, function, grid, block, args=(), stream=None, shared_mem=0):
        start = self._record(stream)
        self.driver.launch(function, grid, block, args, stream, shared_mem)
        end = self._record(stream)
        self.launches.append((function.name, grid, block, start, end))


def tick_kernel_profile(executable, ticks: int) -> dict:
    """`ticks` ticks of a tick-kernel executable: time per tick, the kernel's resources, and with
    timers each interval's and each launch's time per tick."""
    timed = executable.tick_shape.timers
    before = executable.tick_times() if timed else {}
    launches_before = executable.tick_launch_times() if timed else []
    start = time.perf_counter()
    executable.run(ticks)
    elapsed_us = (time.perf_counter() - start) / ticks * 1e6
    function = executable.cu_module.function("spikec_ticks")
    result = {"tick_kernel": str(executable.tick_shape), "blocks": executable.tick_blocks,
              "graph_us_per_tick": elapsed_us, "registers": function.attribute("NUM_REGS"),
              "local_bytes": function.attribute("LOCAL_SIZE_BYTES"),
              "shared_bytes": function.attribute("SHARED_SIZE_BYTES"), "intervals": [], "launches": []}
    if not timed:
        return result
    after = executable.tick_times()
    result["intervals"] = [{"interval": name, "us_per_tick": (after[name] - before[name]) / ticks * 1e6}
                           for name in after]
    for (name, spent, most, runs), (_, spent_before, _, runs_before) in zip(executable.tick_launch_times(),
                                                                           launches_before):
        runs -= runs_before
        result["launches"].append({"kernel": name, "block_us_per_tick": (spent - spent_before) / ticks * 1e6,
                                   "blocks_per_tick": runs / ticks, "max_block_us": most * 1e6,
                                   "mean_block_us": (spent - spent_before) / max(runs, 1) * 1e6})
    return result


def variant_profile(executable, variant: dict[str, str], ticks: int) -> dict:
    """The same network from its present arrays and clocks in a new executable built under the
    environment `variant` (SPIKEC_CUDA_* knobs), warmed up for `ticks` ticks, then profiled."""
    import os

    from spikec.backends.cuda import CudaExecutable

    saved = {key: os.environ.get(key) for key in variant}
    os.environ.update(variant)
    try:
        arrays = {name: executable.read(name) for name in executable.plan.arrays}
        other = CudaExecutable(executable.module, arrays, executable.seed)
        del arrays
        other.clock_steps = executable.clock_steps
        other.run(ticks)
        result = {"variant": variant, **tick_kernel_profile(other, ticks)}
        other.close()
        return result
    except Exception as error:  # a variant that does not build or run is reported, not fatal
        return {"variant": variant, "error": repr(error)}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def profile(model: str, size: int, warmup: float, ticks: int, variants: list[dict[str, str]] = ()) -> dict:
    sys.path.insert(0, str(ROOT))
    import spikec
    from benchmarks.run import MODELS

    module_name, options, *_ = MODELS[model]
    models = importlib.import_module(f"benchmarks.models.{module_name}")
    spikec.set_device("cuda")
    spikec.seed(1)
    start = time.perf_counter()
    net, info = models.build(spikec, size, monitor=False, **options)
    setup_s = time.perf_counter() - start
    start = time.perf_counter()
    net.run(0 * spikec.ms, namespace={})
    compile_s = time.perf_counter() - start
    net.run(warmup * spikec.second, namespace={})
    executable = net.build.executable
    dt = float(spikec.defaultclock.dt / spikec.second)

    start = time.perf_counter()
    net.run(ticks * dt * spikec.second, namespace={})
    net_run_us = (time.perf_counter() - start) / ticks * 1e6
    result = {"model": model, "size": size, "neurons": info["neurons"],
              "synapses": int(sum(len(s) for s in info["synapses"])), "setup_s": setup_s,
              "compile_s": compile_s, "warmup_bio_s": warmup, "ticks": ticks,
              "net_run_us_per_tick": net_run_us, "tick_kernel": None}
    if executable.tick_shape:  # every tick in one launch: its intervals where timed; variants
        result.update(tick_kernel_profile(executable, ticks))
        result["variants"] = [variant_profile(executable, variant, ticks) for variant in variants]
        return result
    start = time.perf_counter()
    executable.run(ticks)
    result["graph_us_per_tick"] = (time.perf_counter() - start) / ticks * 1e6
    timed = TimedDriver(executable.cuda)
    executable.cuda = timed
    try:
        executable.context.make_current()
        graph = timed.driver.Graph.capture(lambda stream: executable.record_ticks(stream, ticks),
                                           executable.stream)
        graph.launch(1)  # the first replay uploads the graph
        executable.stream.synchronize()
        start = time.perf_counter()
        graph.launch(1)
        executable.stream.synchronize()
        launches_us = (time.perf_counter() - start) / ticks * 1e6
    finally:
        executable.cuda = timed.driver
    per_kernel: dict[str, list[float]] = defaultdict(list)
    grids: dict[str, set] = defaultdict(set)
    for name, grid, block, start_event, end_event in timed.launches:
        per_kernel[name].append(start_event.elapsed_ms(end_event) * 1e3)
        grids[name].add((grid, block))
    kernels = []
    for name, times in per_kernel.items():
        kernels.append({"kernel": name, "launches_per_tick": len(times) / ticks,
                        "grids": sorted(grids[name]), "median_us": statistics.median(times),
                        "total_us_per_tick": sum(times) / ticks})
    kernels.sort(key=lambda k: -k["total_us_per_tick"])
    result.update(profiled_graph_us_per_tick=launches_us,
                  sum_of_launches_us_per_tick=sum(k["total_us_per_tick"] for k in kernels),
                  launches_per_tick=sum(k["launches_per_tick"] for k in kernels), kernels=kernels)
    return result


def print_tick_kernel(result: dict, top: int) -> None:
    if "error" in result:
        print(f"{result['variant']}: {result['error']}")
        return
    print(f"{result.get('variant', 'as built')}: tick kernel {result['tick_kernel']} on {result['blocks']} "
          f"blocks, {result['registers']} registers, {result['local_bytes']} B local, "
          f"{result['shared_bytes']} B shared: {result['graph_us_per_tick']:.1f} us per tick")
    for interval in result["intervals"]:
        print(f"{interval['us_per_tick']:9.2f} us  {interval['interval'][:150]}")
    if result["launches"]:
        print(f"{'launch (mean us per block, max us, blocks per tick)':60} {'mean':>7} {'max':>7} {'blocks':>6}")
        for launch in sorted(result["launches"], key=lambda launch: -launch["mean_block_us"])[:top]:
            print(f"{launch['kernel'][:60]:60} {launch['mean_block_us']:7.2f} {launch['max_block_us']:7.2f} "
                  f"{launch['blocks_per_tick']:6.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("size", type=int)
    parser.add_argument("--warmup", type=float, default=0.05, help="biological seconds first")
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--top", type=int, default=25, help="kernels in the printed table")
    parser.add_argument("--out", help="JSON file")
    parser.add_argument("--variant", action="append", default=[], metavar="KEY=VALUE[,KEY=VALUE]",
                        help="tick kernel only: also profile the network, as it stands after the "
                             "timed ticks, in an executable built under these environment settings")
    options = parser.parse_args()
    variants = [dict(item.split("=", 1) for item in text.split(",")) for text in options.variant]
    result = profile(options.model, options.size, options.warmup, options.ticks, variants)
    print(f"{result['model']} {result['neurons']} neurons, {result['synapses']} synapses: "
          f"setup {result['setup_s']:.1f} s, compile {result['compile_s']:.1f} s")
    if result["tick_kernel"]:
        print(f"net.run {result['net_run_us_per_tick']:.1f} us per tick")
        for profiled in [result] + result["variants"]:
            print_tick_kernel(profiled, options.top)
        if options.out:
            Path(options.out).write_text(json.dumps(result, indent=1))
        return
    print(f"per tick: net.run {result['net_run_us_per_tick']:.1f} us; "
          f"graph {result['graph_us_per_tick']:.1f} us; profiled graph "
          f"{result['profiled_graph_us_per_tick']:.1f} us; sum of launches "
          f"{result['sum_of_launches_us_per_tick']:.1f} us over {result['launches_per_tick']:.1f} "
          "launches")
    print(f"{'kernel':60} {'per tick':>8} {'median us':>9} {'us/tick':>8}  grid x block")
    for k in result["kernels"][:options.top]:
        grids = ", ".join(f"{g}x{b}" for g, b in k["grids"][:3])
        print(f"{k['kernel'][:60]:60} {k['launches_per_tick']:8.2f} {k['median_us']:9.2f} "
              f"{k['total_us_per_tick']:8.2f}  {grids}")
    if options.out:
        Path(options.out).write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
