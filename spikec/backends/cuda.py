"""The CUDA executable: PTX (`cuda_codegen`, cached) loaded through `spikec.backends.cuda_driver`,
ticks captured as CUDA graphs and replayed.

A tick: ``spikec_tick_begin`` (which clocks are due, leading spike-list clears), then the schedule
in order (a launch per kernel, followed by the compaction of each emit_spike: ``spikec_compact_*``
up to `one_block_limit` positions, else ``spikec_count_tiles_*`` + ``spikec_scatter_tiles_*``; a
``spikec_clear_*`` per later clear that no compaction absorbed), then ``spikec_tick_end`` (advance
the due clocks). Two graphs: one tick, and `ticks_per_graph` ticks with ``spikec_tick_next`` (end +
begin) between ticks; `run(k)` replays the second k // T times and the first k % T times on one
stream and synchronizes once, then reads the 3 + 2C state words to report a recorded error. The
clock steps, due flags, seed and error word live in the device state array, so a replay needs no
host work and nothing is copied back per tick.

Float atomic adds (`kernel.atomic_add` on f32/f64) are hardware atomics here: their order between
threads is not defined, so sums may differ from the interpreter's (and between runs) by rounding;
stores of several elements to one place likewise keep an unspecified one (the interpreter keeps the
last). Integer atomics and everything else are deterministic.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np

from spikec.backends import cuda_launch, cuda_rows, cuda_tick_kernel
from spikec.backends.abi import ClearPlan, LaunchPlan, ModulePlan
from spikec.backends.cache import CompileCache, default_cache
from spikec.backends.cuda_codegen import (BLOCK, COMPACT_BLOCK, COMPACT_CHUNK, DEFAULT_ARCH,
                                          FLAGS_PER_THREAD, TRIPLE, PtxTimings, absorbed_clears,
                                          generate_ptx, leading_clears, libdevice_hash, lower_for_cuda,
                                          uses_tiles)
from spikec.backends.cuda_launch import KernelLaunch, LaunchMetadata
from spikec.backends.errors import BackendUnavailableError
from spikec.backends.executable import Executable
from spikec.errors import SpikecError
from spikec.ir.core import Module
from spikec.ir.history_spaces import History
from spikec.ir.index_spaces import Outgoing
from spikec.ir.printer import print_module

MAX_GRID = 65535
THREADS_PER_MULTIPROCESSOR = 2048
# Ticks captured in the many-tick graph (`run(k)` replays it k // T times, then the one-tick graph
# k % T times); SPIKEC_CUDA_TICKS_PER_GRAPH overrides it (measurements).
TICKS_PER_GRAPH = 16


# Registers per thread the JIT may give a kernel: 64 lets 4 blocks of 256 threads (50% occupancy)
# share an SM's 65536 registers. Measured on the H100 (docs/performance.md, "State update: pow,
# reciprocals, registers"): COBAHH's state update takes 90 without a cap (2 blocks, 25%) and runs
# 15% faster capped at 64 despite 136 bytes of spills; 48 spills too much. The other kernels use
# fewer than 40. SPIKEC_CUDA_MAX_REGISTERS overrides it (0: the JIT's own choice).
MAX_REGISTERS = 64


def max_registers() -> int | None:
    """The register cap for the module's kernels (None: none)."""
    value = int(os.environ.get("SPIKEC_CUDA_MAX_REGISTERS", MAX_REGISTERS))
    return value or None


def _driver():
    # The driver layer (cuda-bindings) is imported on use only: the CPU never needs it.
    from spikec.backends import cuda_driver

    return cuda_driver


def require_cuda() -> None:
    """Raise `BackendUnavailableError` saying why no CUDA GPU can be used, if none can."""
    try:
        driver = _driver()
    except ImportError as error:
        raise BackendUnavailableError(f"the CUDA backend is unavailable: {error}",
                                      hint="`pip install spikec[cuda]`, or use the 'cpu' backend") from None
    reason = driver.unavailable_reason()
    if reason:
        raise BackendUnavailableError(f"the CUDA backend is unavailable: {reason}",
                                      hint="install the NVIDIA driver and `pip install spikec[cuda]`, "
                                           "or use the 'cpu' backend")


@dataclass
class CudaProgram:
    """PTX text and its launch metadata (`cuda_launch`: kernels, error messages, tick table);
    `timings` are zero for a program from disk, which was not lowered."""

    ptx: str
    launch: LaunchMetadata
    arch: str
    timings: PtxTimings
    from_disk: bool


def cuda_cache_key(module: Module, arch: str, cache: CompileCache, row_lanes: int | str = cuda_rows.AUTO,
                   tick_shape: cuda_tick_kernel.TickShape | None = None) -> str:
    """The kernel-cache key of `module`'s program: everything the PTX and the launch metadata
    depend on. The environment's knobs enter through `row_lanes` (SPIKEC_CUDA_ROW_LANES) and
    `tick_shape` (SPIKEC_CUDA_TICK_KERNEL, _TICK_BLOCK, _TICK_TIMERS); SPIKEC_CUDA_MAX_REGISTERS
    is not in it, as it changes neither: the driver's JIT applies it when the PTX is loaded."""
    return cache.key(print_module(module), f"{TRIPLE}:{arch}:rows={row_lanes}:ticks={tick_shape}",
                     libdevice=libdevice_hash())


def compile_cuda(module: Module, arch: str = DEFAULT_ARCH, cache: CompileCache | None = None,
                 row_lanes: int | str = cuda_rows.AUTO,
                 tick_shape: cuda_tick_kernel.TickShape | None = None) -> CudaProgram:
    """The PTX of `module` for `arch` and its launch metadata, from the cache when they were
    generated before (then nothing is lowered); with `tick_shape`, the tick kernel of that shape
    (`cuda_tick_kernel`)."""
    cache = default_cache() if cache is None else cache
    key = cuda_cache_key(module, arch, cache, row_lanes, tick_shape)

    def build() -> CudaProgram:
        cached = cache.read_entry(key, (".ptx", cuda_launch.SUFFIX),
                                  lambda files: (files[0].decode(), cuda_launch.loads(files[1])))
        if cached is not None:
            return CudaProgram(cached[0], cached[1], arch, PtxTimings(), True)
        cache.statistics.misses += 1
        timings = PtxTimings()
        start = time.perf_counter()
        plan = ModulePlan(module)
        text = (cuda_tick_kernel.lower_for_tick_kernel(plan, tick_shape, row_lanes) if tick_shape
                else lower_for_cuda(plan, row_lanes))
        launch = cuda_launch.from_text(text, tick_shape)
        timings.lower = time.perf_counter() - start
        ptx = generate_ptx(text, arch, timings=timings)
        cache.write(key, ".ptx", ptx.encode())
        cache.write(key, cuda_launch.SUFFIX, cuda_launch.dumps(launch))
        return CudaProgram(ptx, launch, arch, timings, False)

    return cache.get_or_build(key, build)


class CudaExecutable(Executable):
    """A module on the GPU (see `Executable` and the module docstring)."""

    target = "cuda"

    def __init__(self, module: Module, arrays: Mapping[str, np.ndarray] | None = None, seed: int = 0,
                 arch: str | None = None, cache: CompileCache | None = None, device: int = 0,
                 ticks_per_graph: int | None = None, row_lanes: int | str | None = None,
                 tick_kernel: bool | str | None = None):
        super().__init__(module, arrays, seed)
        require_cuda()
        cuda = self.cuda = _driver()
        self.context = cuda.Context.primary(device)
        # Threads per push row: "auto" (per kernel), or forced (`cuda_rows`; 1 = one per source).
        self.row_lanes = cuda_rows.parse_row_lanes(row_lanes)
        device_arch = cuda.Device(device).arch
        arch = arch or device_arch
        # thread-block clusters (sm_90 and later, in the GPU and in the PTX's target) give the tick
        # kernel its cluster shape
        self.clusters = cuda_tick_kernel.has_clusters(device_arch) and cuda_tick_kernel.has_clusters(arch)
        # Small and middle networks run every tick of a `run` in one launch, of one block, one
        # cluster or a grid (`cuda_tick_kernel`: the policy, SPIKEC_CUDA_TICK_KERNEL or
        # `tick_kernel=`); None: a launch per kernel.
        self.tick_shape = cuda_tick_kernel.choose_tick_shape(self.plan, tick_kernel, self.clusters)
        self.program = compile_cuda(module, arch, cache, self.row_lanes, self.tick_shape)
        self.multiprocessors = cuda.Device(device).multiprocessor_count
        self.cu_module = cuda.Module(self.program.ptx, name="spikec", max_registers=max_registers())
        host = self.plan.check_arrays(arrays)
        # Zero-length arrays get one element: a kernel never touches it, the pointer is valid.
        self.arrays = {name: cuda.DeviceArray.from_host(values if values.size else np.zeros(1, values.dtype))
                       for name, values in host.items()}
        self.state = cuda.DeviceArray.from_host(self.plan.new_state(seed))
        self.stream = cuda.Stream()
        # Per emit_spike: flags, values, position count; with the multi-block compaction also the
        # per-tile counts/offsets and the finished-blocks counter (zero between launches).
        self.scratch = {}
        for abi in self.program.launch.kernels:
            for spike_list in abi.emits:
                dtype = self.plan.arrays[spike_list].element_type.numpy_dtype
                size = max(1, abi.position_capacity)
                flag_bytes = -(-size // COMPACT_CHUNK) * COMPACT_CHUNK
                buffers = (cuda.DeviceArray.zeros(flag_bytes, np.uint8), cuda.DeviceArray.zeros(size, dtype),
                           cuda.DeviceArray.zeros(1, np.int64))
                if uses_tiles(abi.position_capacity):
                    buffers += (cuda.DeviceArray.zeros(flag_bytes // COMPACT_CHUNK, np.int64),
                                cuda.DeviceArray.zeros(1, np.int64))
                self.scratch[(abi.kernel, spike_list)] = buffers
        # Clears done by the following compaction: {(launch step index, list): clear's clock}.
        self.merged_clears = {(launch, self.plan.steps[clear].spike_list): self.plan.steps[clear].clock
                              for clear, launch in absorbed_clears(self.plan).items()}
        self.ticks_per_graph = max(1, int(ticks_per_graph or os.environ.get("SPIKEC_CUDA_TICKS_PER_GRAPH")
                                          or TICKS_PER_GRAPH))
        # Emitting kernels with more positions than this use the multi-block compaction (settable,
        # then `recapture()`: measurements).
        self.one_block_limit = COMPACT_CHUNK
        self.graph = self.many_graph = None
        self.recapture()

    def recapture(self) -> None:
        """(Re)capture the one-tick graph; the many-tick graph is captured on first use."""
        self.close()
        self.context.make_current()
        self.context.synchronize()
        if self.tick_shape:
            self.tick_launch = self.prepare_tick_kernel()
            return
        self.graph = self.cuda.Graph.capture(lambda stream: self.record_ticks(stream, 1), self.stream)

    def prepare_tick_kernel(self):
        """The launch of `spikec_ticks` (its last parameter, the tick count, is set per `run`):
        its table of pointers, its barrier counter and its grid (for the grid shape: as many blocks
        as the largest launch needs, at most as many as the GPU holds at once, launched
        cooperatively so that all are resident; for the cluster shape: one cluster of as many,
        at most CLUSTER_MAX_BLOCKS and halved until the GPU holds such a cluster)."""
        table, shape = self.program.launch.tick, self.tick_shape
        buffers = [self.arrays[name] for name in table.arrays]
        buffers += [buffer for key in table.emits for buffer in self.scratch[key][:3]]
        self.tick_table = self.cuda.DeviceArray.from_host(
            np.array([buffer.device_pointer for buffer in buffers] or [0], dtype=np.uint64))
        # the barrier's counter, the phases' chunk counters, then with timers each interval's total in
        # ns (`tick_times`) and each launch's words (`tick_launch_times`)
        timed = 0
        if shape.timers:
            timed = len(cuda_tick_kernel.tick_intervals(self.plan)) + 3 * len(cuda_tick_kernel.tick_launches(self.plan))
        self.tick_barrier = self.cuda.DeviceArray.zeros(cuda_tick_kernel.timers_at(self.plan) + timed, np.int64)
        function = self.cu_module.function(cuda_tick_kernel.ENTRY)
        blocks = 1
        if shape.cluster:
            blocks = max(1, min(cuda_tick_kernel.CLUSTER_MAX_BLOCKS, table.grid_blocks))
            while blocks > 1 and function.max_active_clusters(blocks, shape.threads) < 1:
                blocks //= 2
        elif shape.grid:
            resident = function.max_active_blocks(shape.threads) * self.multiprocessors
            blocks = max(1, min(resident, table.grid_blocks))
        self.tick_blocks = blocks
        return self.cuda.PreparedLaunch(function, blocks, shape.threads,
                                        [self.tick_table, self.state, self.tick_barrier, np.int64(0)],
                                        self.stream, cooperative=shape.grid and not shape.cluster,
                                        cluster=blocks if shape.cluster else 0)

    def tick_times(self) -> dict[str, float]:
        """Seconds spent in each interval of the tick kernel (`cuda_tick_kernel.tick_intervals`)
        since it was prepared, summed over ticks; needs a shape with timers
        (SPIKEC_CUDA_TICK_TIMERS=1)."""
        if not (self.tick_shape and self.tick_shape.timers):
            raise SpikecError("tick_times() needs the tick kernel with timers",
                              hint="set SPIKEC_CUDA_TICK_TIMERS=1 before the network is built")
        self.context.make_current()
        totals = self.tick_barrier.to_host()[cuda_tick_kernel.timers_at(self.plan):]
        return {name: float(total) * 1e-9
                for name, total in zip(cuda_tick_kernel.tick_intervals(self.plan), totals)}

    def tick_launch_times(self) -> list[tuple[str, float, float, int]]:
        """Per launch of a tick (`cuda_tick_kernel.tick_launches`): (kernel, seconds its blocks
        spent in it summed, the most one block spent in one tick, block runs), since the launch
        was prepared; needs timers as `tick_times`."""
        self.tick_times()  # the same checks
        words = self.tick_barrier.to_host()[cuda_tick_kernel.timers_at(self.plan)
                                            + len(cuda_tick_kernel.tick_intervals(self.plan)):]
        return [(name, float(words[3 * k]) * 1e-9, float(words[3 * k + 1]) * 1e-9, int(words[3 * k + 2]))
                for k, name in enumerate(cuda_tick_kernel.tick_launches(self.plan))]

    # -- the graphs ------------------------------------------------------------------------------
    def record_ticks(self, stream, ticks: int) -> None:
        """`ticks` ticks: tick_begin, the schedule, then tick_next between ticks, tick_end."""
        function = self.cu_module.function
        lists = [self.arrays[c.spike_list] for c in leading_clears(self.plan)]
        self.cuda.launch(function("spikec_tick_begin"), 1, 1, [self.state] + lists, stream)
        for tick in range(ticks):
            if tick:
                self.cuda.launch(function("spikec_tick_next"), 1, 1, [self.state] + lists, stream)
            self.record_schedule(stream)
        self.cuda.launch(function("spikec_tick_end"), 1, 1, [self.state], stream)

    def record_schedule(self, stream) -> None:
        cuda, plan, launch = self.cuda, self.plan, self.program.launch
        function = self.cu_module.function
        absorbed = absorbed_clears(plan)
        for index, step in enumerate(plan.steps):
            if index < len(leading_clears(plan)) or index in absorbed:
                continue
            if isinstance(step, ClearPlan):
                array = plan.arrays[step.spike_list]
                cuda.launch(function(f"spikec_clear_i{array.element_type.numpy_dtype.itemsize * 8}"), 1, 1,
                            [self.state, np.int64(step.clock), self.arrays[step.spike_list],
                             np.int64(array.length - 1)], stream)
                continue
            assert isinstance(step, LaunchPlan)
            abi = launch.kernel(step.kernel)
            scratch = [self.scratch[(abi.kernel, spike_list)] for spike_list in abi.emits]
            args = [self.arrays[name] for name in abi.arrays]
            args += [self.state, np.int64(step.clock), np.float64(step.dt)]
            args += [buffer for buffers in scratch for buffer in buffers[:3]]
            args += [np.uint8(v) if isinstance(v, np.bool_) else v for v in step.parameters]
            cuda.launch(function(abi.function_name), self.launch_blocks(step.kernel), BLOCK, args, stream)
            for spike_list, buffers in zip(abi.emits, scratch):
                self.record_compaction(stream, step, index, abi, spike_list, buffers)

    def launch_blocks(self, kernel: str) -> int:
        """Blocks of `BLOCK` threads: enough for every position (a group of `row_lanes` threads
        each), and for `outgoing` kernels, whose positions are the step's spikes, no more than the
        GPU holds at once: their groups stride over the spikes (`cuda_rows`); likewise for
        `history` kernels, whose every thread walks the R recorded spike lists."""
        abi = self.program.launch.kernel(kernel)
        blocks = -(-max(1, abi.position_capacity) * abi.row_lanes // BLOCK)
        if isinstance(self.plan.kernels[kernel].space, (Outgoing, History)):
            blocks = min(blocks, self.multiprocessors * (THREADS_PER_MULTIPROCESSOR // BLOCK))
        return max(1, min(blocks, MAX_GRID))

    def record_compaction(self, stream, step: LaunchPlan, index: int, abi: KernelLaunch, name: str,
                          buffers) -> None:
        function = self.cu_module.function
        spikes = self.plan.arrays[name]
        bits = spikes.element_type.numpy_dtype.itemsize * 8
        code = np.int64(self.program.launch.compaction_error(abi.kernel, name))
        clear_clock = np.int64(self.merged_clears.get((index, name), -1))
        capacity = np.int64(spikes.length - 1)
        flags, values, count = buffers[:3]
        clock = np.int64(step.clock)
        if abi.position_capacity > self.one_block_limit:
            tiles, control = buffers[3:]
            grid = min(-(-abi.position_capacity // COMPACT_CHUNK), MAX_GRID)
            self.cuda.launch(function(f"spikec_count_tiles_i{bits}"), grid, COMPACT_BLOCK,
                             [self.state, clock, flags, count, self.arrays[name], capacity, tiles, control,
                              clear_clock], stream)
            self.cuda.launch(function(f"spikec_scatter_tiles_i{bits}"), grid, COMPACT_BLOCK,
                             [self.state, clock, flags, values, count, self.arrays[name], capacity, code, tiles],
                             stream)
            return
        # one block, as many whole warps as 8 flags per thread need (at most 1024 threads)
        threads = min(COMPACT_BLOCK, max(32, -(-abi.position_capacity // (FLAGS_PER_THREAD * 32)) * 32))
        self.cuda.launch(function(f"spikec_compact_i{bits}"), 1, threads,
                         [self.state, clock, flags, values, count, self.arrays[name], capacity, code,
                          clear_clock], stream)

    # -- the Executable interface ---------------------------------------------------------------
    def run(self, ticks: int) -> None:
        ticks = self.check_ticks(ticks)
        if ticks == 0:
            return
        self.plan.require_clocks()
        self.context.make_current()
        many, rest = divmod(ticks, self.ticks_per_graph)
        if self.tick_shape:  # one launch runs them all
            self.tick_launch.params.set(self.tick_launch.params.count - 1, np.int64(ticks))
            self.tick_launch()
            many = rest = 0
        elif many and self.ticks_per_graph > 1:
            if self.many_graph is None:
                self.many_graph = self.cuda.Graph.capture(
                    lambda stream: self.record_ticks(stream, self.ticks_per_graph), self.stream)
            self.many_graph.launch(many)
        else:
            rest = ticks
        if rest:
            self.graph.launch(rest)
        self.stream.synchronize()
        state = self._to_host(self.state)
        if state[1]:
            recorded = state.copy()
            state[1] = state[2] = 0
            self._set(self.state, state)
            self.raise_recorded_error(recorded, list(self.program.launch.errors))

    # Copies go through the executable's stream, which the graph replays on, so they are ordered
    # with the ticks (the stream does not synchronize with the legacy default stream).
    def _to_host(self, array) -> np.ndarray:
        self.context.make_current()
        values = array.to_host(stream=self.stream)
        self.stream.synchronize()
        return values

    def _set(self, array, values: np.ndarray) -> None:
        self.context.make_current()
        array.set(values, stream=self.stream)
        self.stream.synchronize()

    def read(self, name: str, count: int | None = None) -> np.ndarray:
        array = self.declared(name)
        if count is None:
            return self._to_host(self.arrays[name])[:array.length].copy()
        device_array = self.arrays[name]
        values = np.empty(max(0, min(count, array.length)), device_array.dtype)
        self.context.make_current()  # only the first `count` values cross the bus
        device_array.buffer.copy_to_host(values, self.stream, values.nbytes)
        self.stream.synchronize()
        return values

    def write(self, name: str, values: object) -> None:
        converted = self.converted(name, values)
        if converted.size:
            self._set(self.arrays[name], converted)

    @property
    def clock_steps(self) -> dict[str, int]:
        state = self._to_host(self.state)
        return {clock.name: int(state[self.plan.step_slot(clock.index)]) for clock in self.plan.clocks}

    @clock_steps.setter
    def clock_steps(self, steps: Mapping[str, int]) -> None:
        state = self._to_host(self.state)
        for clock in self.plan.clocks:
            if clock.name in steps:
                state[self.plan.step_slot(clock.index)] = int(steps[clock.name])
        self._set(self.state, state)

    def close(self) -> None:
        for name in ("graph", "many_graph"):
            graph = getattr(self, name, None)
            if graph is not None:
                graph.destroy()
                setattr(self, name, None)
