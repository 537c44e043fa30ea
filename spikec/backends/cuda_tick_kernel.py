"""The tick kernel: every tick of a `run(k)` in one CUDA launch, on one block or on a grid.

At small and middle N a tick of the multi-kernel path (`spikec.backends.cuda`) is bound by its
graph nodes (~1-2 us each; 87 per tick for the microcircuit), not by work. Here the whole schedule
is one entry point,

    spikec_ticks(ptr table, ptr state, ptr barrier, i64 ticks)

(`table`: the device pointers of `entry_arrays` then of each emit's flags, values and count, in
`entry_emits` order; `barrier`: an i64 counter, zero when allocated), which runs `ticks` ticks:

    thread 0 of block 0: the first tick's due flags; barrier; thread 0 of each block: the
    block's copy of the clocks' steps and due flags (`clock_words`, what kernels read); bar.sync
    per tick:  per schedule step, in order:
                 launch: the kernel body as a strided loop over the launch's threads; each
                         emit_spike leaves a pending compaction
                 clear:  thread 0 of block 0 clears the list if its clock is due
               grouped in phases of independent steps (`tick_phases`), a barrier after each
               phase; then the phase's compactions (the one-block ordered compaction,
               `cuda_codegen.build_compaction_kernel` as a device function, one list per
               block; on a grid by tiles, `compact_tiles`), followed by a barrier
               thread 0 of each block: tick end (advance the due clocks, the next tick's due
               flags) in the block's copy, block 0 also in the state; bar.sync

Three shapes (`TickShape`): one block of up to 1024 threads (`bar.sync` is the barrier; start =
threadIdx, stride = blockDim), or a grid of as many blocks as the GPU holds at once, launched
cooperatively (so they are all resident), with a grid barrier (`bar.sync`, then thread 0 of each
block: fence, an atomic add on the counter, a spin until all blocks of this barrier arrived,
fence; `bar.sync`), or a grid that is one thread-block cluster (sm_90; up to
CLUSTER_MAX_BLOCKS blocks, resident together by construction) whose barrier is the hardware's
(`barrier.cluster.arrive` / `.wait`: ~1.5 us of fences and global atomics less per barrier on
the H100, docs/performance.md "Clusters"); on a grid or cluster a phase's launches are handed
out in chunks of a block's worth of positions to whichever block is free
(`_TickKernelBuilder.launch_phase`). Independent steps
share a phase: the microcircuit's eight populations run in one phase, their compactions in the
next, its 55 sends (after `merge-rings`) and one population's delivery in the third.

The kernel bodies are those of `lower_to_llvm` with `TickKernelHooks`: the CUDA hooks (due-flag
exit, libdevice, global atomics, flag-pass emission) with the kernels as internal device
functions that O3 inlines; a mapping of a row to a warp becomes a warp of the block. The
launches' invariants are constants, as on the CPU; the arrays' pointers are loaded from the table
where a step uses them (a launch takes at most 4 KB of parameters; the microcircuit has ~450
arrays). Semantics are those of the multi-kernel path: clocks not due skip their launches, errors
are recorded in the state words, spike lists keep position order, monitors' buffers are written
by their kernels. The barrier orders global memory, so every step sees the stores of the steps it
depends on.

Which path: `choose_tick_shape` (docs/backends.md): one block when every kernel has at most
`MAX_POSITIONS` positions and the elementwise work of a tick is at most `MAX_WORK` units
(`cpu_threads.work_per_element`): one SM must do all of it, so compute-heavy models leave it
sooner; on a GPU with clusters, the cluster when each phase's launches have at most
`CLUSTER_MAX_POSITIONS` positions together (one pass over its blocks); the grid at any size when
the ticks are thread-local (`thread_local_ticks`: then, without timers, each thread runs all the
ticks of its elements alone, `_TickKernelBuilder.build_thread_ticks`), else when every kernel has at
most `GRID_MAX_POSITIONS` positions; else a launch per kernel. ``SPIKEC_CUDA_TICK_KERNEL`` = 1
(one block) / grid / cluster / 0 / auto (or the executable's
``tick_kernel=`` option) forces a path; ``SPIKEC_CUDA_TICK_BLOCK`` sets the threads per block
(measurements).

Where a tick goes (``SPIKEC_CUDA_TICK_TIMERS=1``, `TickShape.timers`): one launch has no graph
nodes to time, so thread 0 of block 0 reads ``%globaltimer`` after every barrier and adds the time
since the previous barrier to that interval's total (`tick_intervals`: a phase's launches, its
compactions, the tick's end), in the words after the barrier counter. After a barrier every block
has finished the interval, so each total is the interval's slowest block plus its barrier. Costs
one global read-modify-write per barrier on one thread; off by default.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from llvmlite import ir

from spikec.backends import cuda_rows
from spikec.backends.abi import ClearPlan, LaunchPlan, ModulePlan
from spikec.backends.cpu_threads import work_per_element
from spikec.backends.cuda_codegen import (COMPACT_CHUNK, FLAGS_PER_THREAD, CudaHooks, CudaModuleText, _intrinsic,
                                          _sreg, build_compaction_kernel, build_tick_tile_functions,
                                          mark_entry, shared_array, warp_inclusive_scan)
from spikec.backends.lower_to_llvm import (F64, I8, I32, I64, MEMORY_TYPES, VOID, LoweredModule, for_range, kernel_abi,
                                           lower_module)
from spikec.backends.schedule_llvm import (advance_steps, clear_spikes, due_flags, parameter_constants,
                                           state_pointer, tick_loop)
from spikec.errors import SpikecError
from spikec.ir.index_spaces import Elements
from spikec.passes.kernel_dependencies import kernel_accesses

ENTRY = "spikec_ticks"
ENVIRONMENT = "SPIKEC_CUDA_TICK_KERNEL"
BLOCK_ENVIRONMENT = "SPIKEC_CUDA_TICK_BLOCK"
TIMERS_ENVIRONMENT = "SPIKEC_CUDA_TICK_TIMERS"
MAX_BLOCK = 1024
# The one-block policy's limits (measured on the H100, docs/performance.md "One-block tick kernel
# for small networks": faster at CUBA 1e3 (181k units) and Brunel-Hakim 1e3 (67k), equal at
# Brunel-Hakim 4e3 (268k), slower at COBAHH 1e3 (318k) and CUBA 4e3 (724k)).
MAX_POSITIONS = 4096
MAX_WORK = 200_000
# The grid's: kernels of at most this many positions (docs/performance.md "Microcircuit: the grid
# tick kernel": as fast or faster than a launch per kernel at 1e4 neurons, 2.6x slower at 1e5; the
# full-scale microcircuit's largest population has 21,915 neurons).
GRID_MAX_POSITIONS = 32768
GRID_BLOCK = 256  # threads per block of the grid: push rows take up to 256 lanes
# The cluster shape: one thread-block cluster of up to 16 blocks (the H100's largest, a
# non-portable size; the executable falls back to fewer where the GPU holds no such cluster),
# chosen over the grid when each phase's launches fit it in one pass (docs/performance.md,
# "Clusters").
CLUSTER_MAX_BLOCKS = 16
CLUSTER_MAX_POSITIONS = CLUSTER_MAX_BLOCKS * GRID_BLOCK
# Blocks a grid of thread-local ticks (`thread_local_ticks`) spreads its largest launch over at
# least, with blocks of 32 to GRID_BLOCK threads (`spread_threads`): COBAHH 1e4 ran 0.0166-0.0168
# with 64 or 128 threads against 0.0184 with 256 (40 chunks for the H100's 132 SMs; H100,
# docs/performance.md "Thread ticks").
THREAD_TICK_BLOCKS = 128
GRID_MAX_LANES = 1024  # on the grid, a long push row's lanes may span chunks (`grid_lanes`)
CHUNK_FIELDS = 5  # words per launch in a phase's chunk descriptions (`chunk_descriptions`)
# Up to this many launches a phase finds a chunk's launch inline, above through its chunk table
# (`launch_phase`; docs/performance.md: the table costs ~5% on 1e4 networks of few launches per
# phase and halves the microcircuit's tick with 56).
INLINE_CHUNK_LAUNCHES = 8
# A phase whose tiles need the count function (a list over spikes, `tiled_lists`) is compacted by
# tiles (`compact_tiles`) only when its largest list has more than this many tiles (one block's
# steps), else one block per list: the count's extra grid barrier made CUBA 1e4 (5 tiles) 9% and
# the scale-0.1 microcircuit (2) 17% slower, the full-scale one (11) 10% faster (H100,
# docs/performance.md); lists counted in their emitting chunks are tiled at any size.
TILED_COMPACTION_MIN_TILES = 8
_PTR = ir.PointerType()


@dataclass(frozen=True)
class TickShape:
    """How `spikec_ticks` runs: blocks of `threads` threads; `grid`: as many blocks as the GPU
    holds at once (at most what the largest launch needs), else one block. `cluster` (with
    `grid`): the grid is one thread-block cluster of at most CLUSTER_MAX_BLOCKS blocks (sm_90),
    whose barrier is the hardware's cluster barrier instead of the counter in global memory."""

    threads: int
    grid: bool = False
    timers: bool = False  # time each interval between barriers (module docstring)
    cluster: bool = False

    def __post_init__(self) -> None:
        if self.cluster and not self.grid:
            raise ValueError("a cluster tick kernel is a grid (TickShape(threads, grid=True, cluster=True))")

    def __str__(self) -> str:
        kind = "cluster" if self.cluster else "grid" if self.grid else "block"
        return f"{kind}{self.threads}{'+timers' if self.timers else ''}"


@dataclass(frozen=True)
class TiledList:
    """A list a phase compacts in tiles (`_TickKernelBuilder.compact_tiles`) and its region of the
    tick's words, from `words_at`: a count per tile (the count function's), or per chunk where
    the emitting launch's chunks count their own flags (`chunks` > 0, `count_chunk_flags`); then
    the list's count before the compaction. `clear_clock`: the clock of a clear of the list in
    the emitter's phase (-1: none), which the count before must see without a barrier.
    `positions`: the emitted values are the positions (a neuron's index), which the scatter
    writes without loading them."""

    step: LaunchPlan
    op: object
    tiles: int
    first_tile: int
    words_at: int
    chunks: int
    clear_clock: int
    positions: bool

    @property
    def key(self) -> tuple[str, str]:
        """The (kernel, list) pair naming the emit's scratch buffers (`entry_emits`)."""
        return self.step.kernel, self.op.spike_list.name

    @property
    def count_word(self) -> int:
        return self.chunks or self.tiles

    @property
    def words(self) -> int:
        return self.count_word + 1


class TickKernelHooks(CudaHooks):
    """The CUDA hooks with every kernel an internal device function of `spikec_ticks`, for blocks
    of `block` threads; one block strides over the block, a grid over the grid."""

    def __init__(self, plan: ModulePlan, shape: TickShape, *arguments, thread_ticks: bool = False):
        super().__init__(plan, *arguments)
        self.shape = shape
        self.thread_ticks = thread_ticks  # each thread runs its elements' ticks alone (`build_thread_ticks`)
        # On a grid, a kernel runs one chunk at a time (`_TickKernelBuilder.launch_phase`): its
        # function takes the chunk's index and the launch's chunk count as trailing parameters,
        # its block index and block count in a grid of chunks. Last, on every shape: where it
        # reads the clocks' words (`clock_word`): the block's copy, or the thread's own in a
        # tick kernel whose threads run their ticks alone (`_TickKernelBuilder.build_thread_ticks`).
        self.trailing_parameters = (I64, I64, _PTR) if shape.grid else (_PTR,)

    def row_lanes(self, plan: ModulePlan, kernel) -> int:
        # One block: a row's group of lanes must lie within the block and the groups must tile it,
        # so at most the largest power of two dividing the block (lanes are powers of two). A grid
        # runs a launch in chunks of a block's threads (`launch_phase`), and a group may span
        # chunks: long rows get up to GRID_MAX_LANES lanes (`grid_lanes`), so that one spike's row
        # is not one block's long serial walk.
        lanes = super().row_lanes(plan, kernel)
        if not self.shape.grid:
            return min(lanes, self.shape.threads & -self.shape.threads)
        if lanes < self.shape.threads or self.row_lanes_setting != cuda_rows.AUTO:
            return lanes
        space = kernel.space
        rows = max(1, plan.arrays[space.offsets.name].length - 1)
        return grid_lanes(plan.arrays[space.items.name].length / rows, self.shape.threads)

    def configure_kernel(self, function: ir.Function) -> None:
        function.linkage = "internal"

    def element_range(self, builder: ir.IRBuilder) -> tuple[ir.Value, ir.Value]:
        thread, size = builder.zext(_sreg(builder, "tid.x"), I64), builder.zext(_sreg(builder, "ntid.x"), I64)
        if self.thread_ticks:
            # the block's size as a constant: a chunk's stride then covers the launch, so LLVM
            # sees one pass of the strided loop in the tick loop (`build_thread_ticks`). Not on
            # the other shapes: it made the scale-0.1 microcircuit 20% slower (docs/performance.md)
            size = ir.Constant(I64, self.shape.threads)
        if not self.shape.grid:
            return thread, size
        block, blocks = builder.function.args[-3:-1]  # the chunk and the chunks (trailing_parameters)
        return builder.add(builder.mul(block, size), thread), builder.mul(size, blocks)

    def clock_word(self, builder: ir.IRBuilder, state: ir.Value, slot: ir.Value) -> ir.Value:
        # not the state's: thread 0 of block 0 writes the state's words for the next tick while
        # other blocks may already run its first phase (the last trailing parameter)
        words = builder.function.args[-1]
        return builder.load(builder.gep(words, [slot], source_etype=I64), typ=I64)

    def is_first_invocation(self, builder: ir.IRBuilder) -> ir.Value:
        if not self.shape.grid:
            return super().is_first_invocation(builder)
        first = builder.icmp_signed("==", _sreg(builder, "tid.x"), ir.Constant(I32, 0))
        return builder.and_(first, builder.icmp_signed("==", builder.function.args[-3], ir.Constant(I64, 0)))


def clock_words(module: ir.Module, plan: ModulePlan) -> ir.GlobalVariable:
    """The block's copy of the state's words up to the clocks' due flags (only the clocks' steps
    and due flags used: the same slots as the state's), in shared memory. Why: with it each
    block's thread 0 advances the clocks at the end of a tick after a block barrier, not thread 0
    of block 0 between two grid barriers (the second cost ~2 us of every grid tick, the
    microcircuit's ~8%; docs/performance.md)."""
    name = "spikec_ticks.clock_words"
    return module.globals.get(name) or shared_array(module, name, I64, plan.due_slot(len(plan.clocks)),
                                                    align=16)


def grid_lanes(mean_row_length: float, threads: int) -> int:
    """Lanes per push row on the grid for rows that fill a block: the power of two at or above
    half the mean row (about two iterations per lane), from the block to GRID_MAX_LANES. At full
    scale the microcircuit's rows of ~1000-2000 synapses took one block 8 iterations of ~3.5 us
    each (a latency chain of gathers and an atomic), the longest single chunk of its send phase
    (docs/performance.md, "Microcircuit")."""
    lanes = threads
    while lanes < GRID_MAX_LANES and lanes < mean_row_length / 2:
        lanes *= 2
    return lanes


def entry_arrays(lowered: LoweredModule) -> list[str]:
    """The arrays `spikec_ticks` uses, in module order: those some kernel or clear touches."""
    used = {name for abi in lowered.kernels.values() for name in abi.arrays}
    used |= {step.spike_list for step in lowered.plan.steps if isinstance(step, ClearPlan)}
    return [name for name in lowered.plan.arrays if name in used]


def entry_emits(lowered: LoweredModule) -> list[tuple[str, str]]:
    """The (kernel, list) pairs whose scratch buffers `spikec_ticks` uses, in kernel order."""
    return [(abi.kernel, op.spike_list.name) for abi in lowered.kernels.values() for op in abi.emits]


def grid_blocks(lowered: LoweredModule, threads: int) -> int:
    """Blocks the largest launch of the grid tick kernel can use (each position a group of its
    row lanes); the executable caps it at the blocks the GPU holds at once."""
    needed = [-(-max(1, abi.position_capacity) * abi.row_lanes // threads)
              for abi in lowered.kernels.values()]
    return max(needed, default=1)


def lower_for_tick_kernel(plan: ModulePlan, shape: TickShape, *hook_arguments) -> CudaModuleText:
    """The module's kernels as device functions and `spikec_ticks` of `shape`; `hook_arguments`
    go to `CudaHooks` after the plan (the push rows' lanes)."""
    phases = tick_phases(plan)
    # no step reads another thread's writes: block barriers only, chunks in a fixed order; then,
    # unless timers time a tick's intervals (which needs the ticks in step), each thread runs its
    # elements' ticks alone (`_TickKernelBuilder.build_thread_ticks`)
    thread_local = shape.grid and thread_local_ticks(plan, shape.threads, phases)
    hooks = TickKernelHooks(plan, shape, *hook_arguments, thread_ticks=thread_local and not shape.timers)
    lowered = lower_module(plan, hooks)
    text = CudaModuleText(lowered)
    elements = {}
    for abi in lowered.kernels.values():
        for op in abi.emits:
            element = MEMORY_TYPES[plan.arrays[op.spike_list.name].element_type]
            elements[element.width] = element
            lowered.errors.append(f"spike list {op.spike_list} overflows (a neuron spiking twice in a "
                                  f"step?) in kernel @{abi.kernel}")
            text.compaction_errors[(abi.kernel, op.spike_list.name)] = len(lowered.errors)
    for width in sorted(elements):
        build_compaction_kernel(lowered, elements[width])
        names = [f"spikec_compact_i{width}"]
        if compacts_in_tiles(shape):
            build_tick_tile_functions(lowered, elements[width])
            names += [f"spikec_tile_count_i{width}", f"spikec_tile_scatter_i{width}"]
        # the compactions as device functions of spikec_ticks: their maxntid annotation no
        # longer applies (NVPTX reads it for kernels only)
        for name in names:
            compaction = lowered.llvm_module.get_global(name)
            compaction.calling_convention = ""
            compaction.linkage = "internal"
    _TickKernelBuilder(text, shape, phases, thread_local).build()
    return text


def tick_intervals(plan: ModulePlan) -> list[str]:
    """The names of a tick's intervals between barriers, in the order `spikec_ticks` runs them
    (what `TickShape.timers` times): per phase its launches and clears, then, where the phase emits
    spikes, its compactions. The tick's end (the clocks advanced by every block's thread 0, a
    block barrier) counts in the next tick's first interval."""
    intervals = []
    for number, phase in enumerate(tick_phases(plan)):
        steps = [plan.steps[index] for index in phase]
        names = [f"clear {step.spike_list}" if isinstance(step, ClearPlan) else step.kernel for step in steps]
        intervals.append(f"phase {number}: {', '.join(names)}")
        lists = [op.spike_list.name for step in steps if isinstance(step, LaunchPlan)
                 for op in kernel_abi(plan, plan.kernels[step.kernel], step.kernel).emits]
        if lists:
            intervals.append(f"phase {number} compactions: {', '.join(lists)}")
    return intervals


def timers_at(plan: ModulePlan) -> int:
    """Where the timers start in the barrier's words: after the barrier counter, room for a
    chunk counter per phase (`_TickKernelBuilder.launch_phase`): one per schedule step, which
    bounds the phases without computing them (the executable reads its launch metadata from the
    kernel cache and does not analyse dependencies), and the compactions' tile words."""
    return tiles_at(plan) + tile_words(plan)


def tiles_at(plan: ModulePlan) -> int:
    """Where the grid's compaction tiles' words start (`_TickKernelBuilder.compact_tiles`)."""
    return 1 + len(plan.steps)


def tile_words(plan: ModulePlan) -> int:
    """Room for every emitted list's tile words in a grid tick kernel of any block size: a word
    per chunk of the smallest block (32 positions; a tile's count takes fewer words, one per
    32 x FLAGS_PER_THREAD positions) and one more."""
    smallest = 32
    abis = [kernel_abi(plan, plan.kernels[step.kernel], step.kernel) for step in plan.steps
            if isinstance(step, LaunchPlan)]
    return sum((-(-max(1, abi.position_capacity) // smallest) + 1) * len(abi.emits) for abi in abis)


def compacts_in_tiles(shape: TickShape) -> bool:
    """The grid compacts a list over its blocks by tiles (`compact_tiles`) when a tile divides
    the flags' padding (COMPACT_CHUNK positions), so a tile's loads stay inside the buffer."""
    return shape.grid and COMPACT_CHUNK % (shape.threads * FLAGS_PER_THREAD) == 0


def tick_launches(plan: ModulePlan) -> list[str]:
    """The kernels of a tick's launches in the order `spikec_ticks` runs them (phase by phase):
    with `TickShape.timers` each has three words after the intervals' totals (the ns its blocks
    spent in it, summed; the most one block spent in one tick; the blocks that ran it)."""
    return [plan.steps[index].kernel for phase in tick_phases(plan) for index in phase
            if isinstance(plan.steps[index], LaunchPlan)]


def tick_phases(plan: ModulePlan) -> list[list[int]]:
    """The schedule's steps (indices into `plan.steps`) in phases: each
    step goes into the first phase after those of the steps it depends on, so steps of one phase
    are independent and run without a barrier between them, dependent steps keep the schedule's
    order. Dependences are on array names (the kernel-level dependency analysis): a step depends
    on an earlier one that wrote what it reads, or read or wrote what it writes. An emitted spike
    list is written by its compaction, at the end of the emitter's phase: a step reading or
    writing the list goes into a later phase than the emitter, while the emitter may share the
    phase of an earlier step that read or cleared the list (a second emitter of one list goes into
    a later phase). Conservative: two steps adding atomically into one array are ordered."""
    placed: list[tuple[int, set[str], set[str], set[str]]] = []
    phases: list[list[int]] = []
    for index, step in enumerate(plan.steps):
        if isinstance(step, ClearPlan):
            reads, writes, emits = set(), {step.spike_list}, set()
        else:
            reads, writes, emits = step_accesses(plan, step.kernel)
        phase = 0
        for level, read, written, emitted in placed:
            if reads & (written | emitted) or writes & (read | written | emitted) or emits & emitted:
                phase = max(phase, level + 1)
            elif emits & (read | written):
                phase = max(phase, level)
        placed.append((phase, reads, writes, emits))
        if phase == len(phases):
            phases.append([])
        phases[phase].append(index)
    return phases


def step_accesses(plan: ModulePlan, kernel: str) -> tuple[set[str], set[str], set[str]]:
    """(arrays read, arrays written, spike lists emitted) by one launch of `kernel`. Rings with a
    `ring_lead` are left out: a step's send writes rows its delivery does not touch, and a row is
    written (sends of step t) and read (delivery at t + d) in different ticks."""
    reads, writes, emits = set(), set(), set()
    for access in kernel_accesses(plan.kernels[kernel]):
        name = _array_name(access)
        if "ring_lead" in plan.arrays[name].attributes:
            continue
        if access.operator == "emit":
            emits.add(name)
        elif access.mode == "read":
            reads.add(name)
        else:
            writes.add(name)
    return reads, writes, emits


def _array_name(access) -> str:
    """The module's name of the array an `Access` of `kernel_accesses` touches (`G.v`)."""
    return str(access.array) if access.array.name else access.array.owner


def thread_local_ticks(plan: ModulePlan, threads: int, phases: list[list[int]] | None = None) -> bool:
    """Whether no step of a tick reads what another thread wrote, so that on a grid (or cluster)
    whose blocks take their chunks in a fixed order (`_TickKernelBuilder.launch_phase`) the
    phases need no grid barrier between them, nor the ticks: every launch is over elements, emits
    nothing, writes only its own element, and reads an array some step writes only at its own
    element; no clears; and every launch that touches an array some step writes starts at the
    same chunk of its phase (so element i is thread t of block b in each). Such a schedule is a
    group without pathways, monitors or spike lists (1000 uncoupled HH neurons after
    `drop-unread-lists`; docs/performance.md, "Clusters"). `phases`: `tick_phases`, where known."""
    if not plan.steps or any(isinstance(step, ClearPlan) for step in plan.steps):
        return False
    accesses = {}
    for step in plan.steps:
        kernel = plan.kernels[step.kernel]
        if not isinstance(kernel.space, Elements):
            return False
        accesses[step.kernel] = [(_array_name(access), access) for access in kernel_accesses(kernel)]
    written = {name for found in accesses.values() for name, access in found if access.mode == "write"}
    for found in accesses.values():
        for name, access in found:
            if access.operator == "emit" or (name in written and access.index != "own"):
                return False
    firsts: dict[str, set[int]] = {}
    for phase in phases or tick_phases(plan):
        first = 0
        for index in phase:
            step = plan.steps[index]
            for name, _ in accesses[step.kernel]:
                if name in written:
                    firsts.setdefault(name, set()).add(first)
            first += -(-max(1, _positions(plan, step.kernel)) // threads)
    return all(len(chunks) == 1 for chunks in firsts.values())


class _TickKernelBuilder:
    def __init__(self, text: CudaModuleText, shape: TickShape, phases: list[list[int]], thread_local: bool):
        self.text, self.lowered, self.plan = text, text.lowered, text.lowered.plan
        self.shape = shape
        module = self.lowered.llvm_module
        self.arrays = entry_arrays(self.lowered)
        self.emits = entry_emits(self.lowered)
        self.function = ir.Function(module, ir.FunctionType(VOID, [_PTR, _PTR, _PTR, I64]), ENTRY)
        mark_entry(self.function)
        # The register budget follows from the block size: 65536 / block per thread.
        module.add_named_metadata("nvvm.annotations", [self.function, "maxntidx", ir.Constant(I32, shape.threads)])
        self.phases = phases  # `tick_phases`
        self.thread_local = thread_local  # `thread_local_ticks` on a grid (`lower_for_tick_kernel`)
        self.thread_ticks = thread_local and not shape.timers
        self.table, self.state, self.counter, self.ticks = self.function.args
        self.slots = {name: index for index, name in enumerate(self.arrays)}
        for index, key in enumerate(self.emits):
            for part in range(3):
                self.slots[(key, part)] = len(self.arrays) + 3 * index + part
        self.invariant = module.add_metadata([])
        self.builder = ir.IRBuilder(self.function.append_basic_block("entry"))
        self.barrier_function = _intrinsic(self.builder, "llvm.nvvm.barrier0", VOID, [])
        # bar.red.popc: a block barrier that also counts the threads passing a true value
        self.counting_barrier = _intrinsic(self.builder, "llvm.nvvm.barrier0.popc", I32, [I32])
        self.fence_function = _intrinsic(self.builder, "llvm.nvvm.membar.gl", VOID, [])
        if shape.cluster:
            self.cluster_arrive = _intrinsic(self.builder, "llvm.nvvm.barrier.cluster.arrive", VOID, [])
            self.cluster_wait = _intrinsic(self.builder, "llvm.nvvm.barrier.cluster.wait", VOID, [])
        zero = ir.Constant(I32, 0)
        self.first_thread = self.builder.icmp_unsigned("==", _sreg(self.builder, "tid.x"), zero)
        self.block_index = _sreg(self.builder, "ctaid.x")
        self.blocks = _sreg(self.builder, "nctaid.x")
        self.first_of_grid = self.builder.and_(self.first_thread,
                                               self.builder.icmp_unsigned("==", self.block_index, zero))
        self.pending: list[tuple[LaunchPlan, object, tuple[str, str]]] = []
        # the block's copy of the clocks' words, as a generic pointer laid out like the state
        words = clock_words(module, self.plan)
        first = self.builder.gep(words, [ir.Constant(I64, 0), ir.Constant(I64, 0)])
        self.local_state = self.builder.addrspacecast(first, _PTR)
        self.clock_pointer = self.local_state  # what the launches read their clocks from
        self.tiled: dict[tuple[str, str], TiledList] = {}  # the phase's lists compacted in tiles
        self.intervals = tick_intervals(self.plan) if shape.timers else []
        self.interval = 0
        self.timed_launches = tick_launches(self.plan) if shape.timers else []
        self.launch_index = 0
        # the phases' chunk counters follow the barrier counter; the timers follow them
        self.phase_index = 0
        self.phase_resets: list[ir.Value] = []
        self.timers_at = timers_at(self.plan)
        if shape.grid:  # the chunk thread 0 took, for the whole block (`launch_phase`)
            self.shared_chunk = ir.GlobalVariable(module, I64, "spikec_ticks.chunk", addrspace=3)
            self.shared_chunk.linkage = "internal"
            self.shared_chunk.initializer = ir.Constant(I64, ir.Undefined)
            self.chunk_variable = self.builder.alloca(I64, name="chunk")
            # the chunk table (`chunk_table`): launches' first chunks, the warps' sums of counts
            most = most_launches_in_a_phase(self.plan, self.phases)
            if most > shape.threads:  # the policy does not choose the grid then; forced, it cannot run
                raise SpikecError(f"the grid tick kernel has a phase of {most} launches, more than its "
                                  f"{shape.threads} threads per block can count",
                                  hint=f"set {ENVIRONMENT}=0 (a launch per kernel) or auto, or "
                                       f"{BLOCK_ENVIRONMENT} to at least {most}")
            # aligned to 16 bytes: the vectorizer pairs neighbouring stores into
            # `st.shared.v2.b64`, which faults (misaligned address) on an 8-aligned array
            self.firsts = shared_array(module, "spikec_ticks.firsts", I64, most + 1, align=16)
            self.warp_sums = shared_array(module, "spikec_ticks.warp_sums", I32, 32, align=16)
            self.thread_chunks = self.builder.alloca(I64, name="thread_chunks")
            self.chunk_count_variable = self.builder.alloca(I64, name="chunk_count")
            self.chunk_spikes_variable = self.builder.alloca(I64, name="chunk_spikes")
        if shape.timers:
            self.globaltimer = _intrinsic(self.builder, "llvm.nvvm.read.ptx.sreg.globaltimer", I64, [])
            self.last_time = self.builder.alloca(I64, name="last_time")

    def pointer(self, slot) -> ir.Value:
        """An array's or scratch buffer's device pointer, loaded from the table where used."""
        address = self.builder.gep(self.table, [ir.Constant(I64, self.slots[slot])], source_etype=I64)
        value = self.builder.load(address, typ=I64)
        value.set_metadata("invariant.load", self.invariant)
        return self.builder.inttoptr(value, _PTR)

    # -- barriers ----------------------------------------------------------------------------------
    def block_barrier(self) -> None:
        self.builder.call(self.barrier_function, [])

    def barrier(self) -> None:
        """All threads of the launch have finished what came before (their global stores visible).
        A cluster's barrier (`barrier.cluster.arrive` releases, `.wait` acquires, at cluster scope)
        waits for every thread of every block of the cluster, so it is a block barrier too."""
        if self.shape.cluster:
            self.builder.call(self.cluster_arrive, [])
            self.builder.call(self.cluster_wait, [])
            return
        self.block_barrier()
        if not self.shape.grid:
            return
        builder = self.builder
        with builder.if_then(self.first_thread):
            builder.call(self.fence_function, [])
            arrived = builder.atomic_rmw("add", self.counter, ir.Constant(I64, 1), "monotonic")
            blocks = builder.zext(self.blocks, I64)
            target = builder.mul(builder.add(builder.udiv(arrived, blocks), ir.Constant(I64, 1)), blocks)
            spin = builder.append_basic_block("grid_barrier_spin")
            done = builder.append_basic_block("grid_barrier_done")
            builder.branch(spin)
            builder.position_at_end(spin)
            seen = builder.load_atomic(self.counter, "monotonic", 8, typ=I64)
            builder.cbranch(builder.icmp_unsigned("<", seen, target), spin, done)
            builder.position_at_end(done)
            builder.call(self.fence_function, [])
        self.block_barrier()

    def timed_barrier(self) -> None:
        """A barrier, then (with timers) the time since the previous one added to the next interval's
        total: the word after the barrier counter and the intervals before it. With thread-local
        ticks (`thread_local_ticks`) a block barrier (the timers then time block 0)."""
        if self.thread_local:
            self.block_barrier()
        else:
            self.barrier()
        if not self.shape.timers:
            return
        builder = self.builder
        with builder.if_then(self.first_of_grid):
            now = builder.call(self.globaltimer, [])
            total = builder.gep(self.counter, [ir.Constant(I64, self.timers_at + self.interval)],
                                source_etype=I64)
            elapsed = builder.sub(now, builder.load(self.last_time, typ=I64))
            builder.store(builder.add(builder.load(total, typ=I64), elapsed), total)
            builder.store(now, self.last_time)
        self.interval += 1

    def start_timers(self) -> None:
        if self.shape.timers:
            with self.builder.if_then(self.first_of_grid):
                self.builder.store(self.builder.call(self.globaltimer, []), self.last_time)

    def end_phase(self) -> None:
        """A barrier (then the phase's chunk counter back to zero: every block has taken its last
        chunk, and the next tick's phase is barriers away); then the pending compactions (list k on
        block k mod blocks), and a barrier."""
        self.timed_barrier()
        if self.phase_resets:
            with self.builder.if_then(self.first_of_grid):
                for counter in self.phase_resets:
                    self.builder.store(ir.Constant(I64, 0), counter)
            self.phase_resets = []
        if self.pending:
            if self.tiled:
                self.compact_tiles()
            else:
                for index, (step, op, key) in enumerate(self.pending):
                    self.compact(index, step, op, key)
            self.timed_barrier()
        self.pending = []

    # -- the entry ---------------------------------------------------------------------------------
    def build(self) -> None:
        if self.thread_ticks:
            self.build_thread_ticks()
            return
        builder = self.builder
        with builder.if_then(self.first_of_grid):
            self.tick_begin()
        self.barrier()
        with builder.if_then(self.first_thread):  # the block's copy of the clocks' words
            self.copy_clock_words(self.state, self.local_state)
        self.block_barrier()
        self.start_timers()
        tick, done = tick_loop(builder, self.ticks)
        for self.phase_index, phase in enumerate(self.phases):
            steps = [self.plan.steps[index] for index in phase]
            for step in steps:
                if isinstance(step, ClearPlan):
                    self.clear(step)
            self.tiled = self.tiled_lists(steps)
            self.launch_phase([step for step in steps if isinstance(step, LaunchPlan)])
            self.end_phase()
        following = builder.add(tick, ir.Constant(I64, 1))
        # this tick's end and the next one's due flags: every block in its copy of the clocks'
        # words (after the last phase's barrier no block reads them for this tick), block 0 also
        # in the state's (read after the next tick's first barrier: compactions, the host)
        with builder.if_then(self.first_thread):
            self.tick_end()
        self.block_barrier()
        if self.interval != len(self.intervals) or self.launch_index != len(self.timed_launches):
            raise AssertionError(f"spikec_ticks timed {self.interval} intervals and {self.launch_index} "
                                 f"launches, tick_intervals names {len(self.intervals)}, tick_launches "
                                 f"{len(self.timed_launches)}")
        tick.add_incoming(following, builder.block)
        builder.branch(tick.parent)
        builder.position_at_end(done)
        builder.ret_void()

    def build_thread_ticks(self) -> None:
        """The loops exchanged for thread-local ticks (`thread_local_ticks`, no timers): block b
        takes chunks b, b + blocks, ... and its threads run every tick of the launch on their
        element of the chunk, each with its own copy of the clocks' words, then the next chunk:

            every thread: the state's clock words, the first tick's due flags; a barrier
            for each of the block's chunks:  clocks := the launch's first
                for each tick:  each phase's launch of the chunk;  advance the clocks
            thread 0 of block 0: its clocks (the last tick's) into the state

        Why: an element's state is then loaded and stored by the same thread tick after tick,
        from its SM's L1 (the PTX keeps the loads and stores in the tick loop), not from DRAM
        once per tick: a state-update-bound network runs on the SMs' arithmetic
        instead of the memory bandwidth, and no barrier or clock update is shared by threads
        (docs/performance.md, "Thread ticks"). Same results: each element goes through the same
        operations in the same order, and a launch reads only its own element's writes."""
        builder, plan = self.builder, self.plan
        words = ir.ArrayType(I64, plan.due_slot(len(plan.clocks)))
        origin = [ir.Constant(I64, 0), ir.Constant(I64, 0)]
        first_clocks = builder.gep(builder.alloca(words, name="first_clocks"), origin)
        clocks = builder.gep(builder.alloca(words, name="thread_clocks"), origin)
        self.copy_clock_words(self.state, first_clocks)
        self.set_due_flags(first_clocks)
        self.barrier()  # every thread has read the state's words before block 0 writes them back
        self.clock_pointer = clocks
        # per phase its chunks and how to run one (launches over elements: constant counts)
        phases = [self.inline_chunks([plan.steps[index] for index in phase]) for phase in self.phases]
        most = ir.Constant(I64, 0)
        for total, _ in phases:
            most = builder.select(builder.icmp_unsigned(">", total, most), total, most)
        blocks = builder.zext(self.blocks, I64)
        builder.store(builder.zext(self.block_index, I64), self.chunk_variable)
        loop = builder.append_basic_block("thread_chunk")
        work = builder.append_basic_block("thread_chunk_work")
        done = builder.append_basic_block("thread_chunks_done")
        builder.branch(loop)
        builder.position_at_end(loop)
        chunk = builder.load(self.chunk_variable, typ=I64)
        builder.cbranch(builder.icmp_unsigned("<", chunk, most), work, done)
        builder.position_at_end(work)
        self.copy_clock_words(first_clocks, clocks)
        tick, ticks_done = tick_loop(builder, self.ticks)
        for _, run_chunk in phases:
            run_chunk(chunk)
        advance_steps(builder, plan, clocks, [self.due_flag(c.index, clocks) for c in plan.clocks])
        self.set_due_flags(clocks)
        tick.add_incoming(builder.add(tick, ir.Constant(I64, 1)), builder.block)
        builder.branch(tick.parent)
        builder.position_at_end(ticks_done)
        builder.store(builder.add(chunk, blocks), self.chunk_variable)
        builder.branch(loop)
        builder.position_at_end(done)
        with builder.if_then(self.first_of_grid):  # block 0 took chunk 0: its clocks are the last tick's
            self.copy_clock_words(clocks, self.state)
        builder.ret_void()

    # -- thread 0's parts of a tick (`Interpreter.tick`) -------------------------------------------
    def copy_clock_words(self, source: ir.Value, target: ir.Value) -> None:
        """The clocks' steps and due flags from one state layout to the other (`clock_words`)."""
        for slot in range(self.plan.step_slot(0), self.plan.due_slot(len(self.plan.clocks))):
            value = self.builder.load(state_pointer(self.builder, source, slot), typ=I64)
            self.builder.store(value, state_pointer(self.builder, target, slot))

    def due_flag(self, clock: int, words: ir.Value | None = None) -> ir.Value:
        """i1: `clock` is due this tick (in `words`, else the block's copy)."""
        words = self.local_state if words is None else words
        word = self.builder.load(state_pointer(self.builder, words, self.plan.due_slot(clock)), typ=I64)
        return self.builder.icmp_signed("!=", word, ir.Constant(I64, 0))

    def set_due_flags(self, state: ir.Value) -> None:
        builder, plan = self.builder, self.plan
        for clock, flag in zip(plan.clocks, due_flags(builder, plan, state)):
            builder.store(builder.zext(flag, I64), state_pointer(builder, state, plan.due_slot(clock.index)))

    def tick_begin(self) -> None:
        """The first tick's due flags, in the state (the clears are phase steps, `tick_phases`)."""
        self.set_due_flags(self.state)

    def tick_end(self) -> None:
        """Advance the due clocks and set the next tick's due flags in the block's copy; block 0
        also stores them in the state."""
        builder = self.builder
        advance_steps(builder, self.plan, self.local_state, [self.due_flag(c.index) for c in self.plan.clocks])
        self.set_due_flags(self.local_state)
        with builder.if_then(builder.icmp_unsigned("==", self.block_index, ir.Constant(I32, 0))):
            self.copy_clock_words(self.local_state, self.state)

    # -- the schedule's steps ----------------------------------------------------------------------
    def clear(self, step: ClearPlan) -> None:
        builder = self.builder
        with builder.if_then(self.first_of_grid):
            with builder.if_then(self.due_flag(step.clock)):
                clear_spikes(builder, self.plan, step.spike_list, self.pointer(step.spike_list))

    def launch_phase(self, steps: list[LaunchPlan]) -> None:
        """The phase's launches. One block runs them one after another. A grid shares them out
        in chunks of one block's worth of positions (`chunk_table`; a block runs chunk c of launch
        k as that launch's block c of a grid of its chunks, one pass of the kernel's strided loop):
        block b takes chunk b, and where there are more chunks than blocks, each block that
        finishes takes the next from the phase's counter (thread 0's atomic add, shared with the
        block). Blocks that finish early take more chunks, so a phase
        costs about its work over the grid whatever the launches' sizes and costs (a static split
        left most blocks waiting on the few with the longest rows; docs/performance.md). With
        thread-local ticks (`thread_local_ticks`) block b takes chunks b, b + blocks, ... instead,
        so that an element is on the same thread in every phase and tick.

        Finding a chunk's launch: with up to INLINE_CHUNK_LAUNCHES launches every thread counts
        each launch's chunks (`chunks`) and compares the chunk with each range in turn; with more,
        a table in shared memory (`chunk_table`), a binary search and a `switch` (`dispatch`)."""
        builder = self.builder
        if not self.shape.grid:
            for step in steps:
                self.launch(step, [])
            return
        if not steps:
            return
        if len(steps) <= INLINE_CHUNK_LAUNCHES:
            total, run_chunk = self.inline_chunks(steps)
        else:
            table = self.chunk_table(steps)
            total = builder.load(self.shared_at(table, len(steps)), typ=I64)

            def run_chunk(chunk: ir.Value) -> None:
                self.dispatch(steps, table, chunk)
        counter = builder.gep(self.counter, [ir.Constant(I64, 1 + self.phase_index)], source_etype=I64)
        blocks = builder.zext(self.blocks, I64)
        builder.store(builder.zext(self.block_index, I64), self.chunk_variable)  # block b: chunk b first
        loop = builder.append_basic_block("phase_chunk")
        work = builder.append_basic_block("phase_chunk_work")
        more = None if self.thread_local else builder.append_basic_block("phase_chunk_take")
        done = builder.append_basic_block("phase_chunks_done")
        builder.branch(loop)
        builder.position_at_end(loop)
        chunk = builder.load(self.chunk_variable, typ=I64)
        builder.cbranch(builder.icmp_unsigned("<", chunk, total), work, done)
        builder.position_at_end(work)
        run_chunk(chunk)
        if self.thread_local:  # chunk c always on block c mod blocks, whatever the blocks' pace
            builder.store(builder.add(chunk, blocks), self.chunk_variable)
            builder.branch(loop)
            builder.position_at_end(done)
            return
        # more chunks than blocks: the next one from the phase's counter (uniform across the block)
        builder.cbranch(builder.icmp_unsigned(">", total, blocks), more, done)
        builder.position_at_end(more)
        with builder.if_then(self.first_thread):
            taken = builder.atomic_rmw("add", counter, ir.Constant(I64, 1), "monotonic")
            builder.store(builder.add(blocks, taken), self.shared_chunk)
        self.block_barrier()
        builder.store(builder.load(self.shared_chunk, typ=I64), self.chunk_variable)
        self.block_barrier()  # every thread has read it before thread 0 takes the next
        builder.branch(loop)
        builder.position_at_end(done)
        self.phase_resets.append(counter)

    def inline_chunks(self, steps: list[LaunchPlan]) -> tuple[ir.Value, Callable[[ir.Value], None]]:
        """(the chunks of `steps` together, run_chunk): every thread counts each launch's chunks
        here (`chunks`); run_chunk(c) runs chunk c of the launch whose range holds it, comparing c
        with each range in turn."""
        builder = self.builder
        counts = [self.chunks(step) for step in steps]
        firsts, total = [], ir.Constant(I64, 0)
        for count in counts:
            firsts.append(total)
            total = builder.add(total, count)

        def run_chunk(chunk: ir.Value) -> None:
            for step, first, count in zip(steps, firsts, counts):
                mine = builder.and_(builder.icmp_unsigned("<=", first, chunk),
                                    builder.icmp_unsigned("<", chunk, builder.add(first, count)))
                with builder.if_then(mine):
                    self.launch(step, [builder.sub(chunk, first), count])
        return total, run_chunk

    def chunk_table(self, steps: list[LaunchPlan]) -> ir.GlobalVariable:
        """The block's table of the phase's chunks in shared memory: entry k the first chunk of
        launch k, entry n (n launches) their total. Thread k counts launch k's chunks (`chunks_of`,
        its description read from a constant array), then a scan over the block. Why not every
        thread counting every launch: the microcircuit's send phase has 56 launches, whose counts
        and running sums (two dependent loads each, 112 live values, spilled to local memory) took
        ~12% of the tick kernel's warp time in ncu's samples, in every block, every tick."""
        builder, n = self.builder, len(steps)
        thread = _sreg(builder, "tid.x")
        descriptions = self.chunk_descriptions(steps)
        count = self.thread_chunks
        builder.store(ir.Constant(I64, 0), count)
        with builder.if_then(builder.icmp_unsigned("<", thread, ir.Constant(I32, n))):
            builder.store(self.chunks_of(descriptions, builder.zext(thread, I64)), count)
        mine = builder.trunc(builder.load(count, typ=I64), I32)  # chunks of a tick are far below 2**31
        lane = builder.and_(thread, ir.Constant(I32, 31))
        warp = builder.lshr(thread, ir.Constant(I32, 5))
        inclusive = warp_inclusive_scan(builder, mine, lane)
        warps = -(-n // 32)  # the warps holding launches; the others' sums are not needed
        with builder.if_then(builder.and_(builder.icmp_unsigned("==", lane, ir.Constant(I32, 31)),
                                          builder.icmp_unsigned("<", warp, ir.Constant(I32, warps)))):
            builder.store(inclusive, builder.gep(self.warp_sums, [ir.Constant(I32, 0), warp]))
        self.block_barrier()
        before = inclusive
        for other in range(warps - 1):
            earlier = builder.icmp_unsigned(">", warp, ir.Constant(I32, other))
            value = builder.load(builder.gep(self.warp_sums, [ir.Constant(I32, 0), ir.Constant(I32, other)]), typ=I32)
            before = builder.add(before, builder.select(earlier, value, ir.Constant(I32, 0)))
        with builder.if_then(builder.icmp_unsigned("<", thread, ir.Constant(I32, n))):
            entry = self.shared_at(self.firsts, builder.add(thread, ir.Constant(I32, 1)))
            builder.store(builder.zext(before, I64), entry)
        with builder.if_then(self.first_thread):
            builder.store(ir.Constant(I64, 0), self.shared_at(self.firsts, 0))
        self.block_barrier()
        return self.firsts

    def shared_at(self, variable: ir.GlobalVariable, index) -> ir.Value:
        index = ir.Constant(I32, index) if isinstance(index, int) else index
        return self.builder.gep(variable, [ir.Constant(I32, 0), index])

    def dispatch(self, steps: list[LaunchPlan], firsts: ir.GlobalVariable, chunk: ir.Value) -> None:
        """Run `chunk`: launch k, the last whose first chunk is at most `chunk` (counts are at
        least one, so the firsts increase), found by an unrolled binary search of the table."""
        builder, n = self.builder, len(steps)
        found = ir.Constant(I32, 0)
        stride = 1 << ((n - 1).bit_length() - 1) if n > 1 else 0
        while stride:
            probe = builder.add(found, ir.Constant(I32, stride))
            inside = builder.icmp_unsigned("<", probe, ir.Constant(I32, n))
            clamped = builder.select(inside, probe, ir.Constant(I32, 0))
            starts = builder.load(self.shared_at(firsts, clamped), typ=I64)
            found = builder.select(builder.and_(inside, builder.icmp_unsigned("<=", starts, chunk)), probe, found)
            stride //= 2
        first = builder.load(self.shared_at(firsts, found), typ=I64)
        end = builder.load(self.shared_at(firsts, builder.add(found, ir.Constant(I32, 1))), typ=I64)
        part = [builder.sub(chunk, first), builder.sub(end, first)]
        after = builder.append_basic_block("phase_chunk_done")
        switch = builder.switch(found, after)
        for k, step in enumerate(steps):
            case = builder.append_basic_block(f"phase_chunk_launch{k}")
            switch.add_case(ir.Constant(I32, k), case)
            builder.position_at_end(case)
            self.launch(step, part)
            builder.branch(after)
        builder.position_at_end(after)

    def chunk_description(self, step: LaunchPlan) -> tuple[str | None, int, int, int, int]:
        """What counting a launch's chunks takes: its spike list (None: a launch of fixed
        positions), the list's capacity, the bytes of its elements, the row's lanes, and the
        fixed chunk count."""
        abi = self.lowered.kernels[step.kernel]
        spike_list = getattr(self.plan.kernels[step.kernel].space, "spike_list", None)
        if spike_list is None:
            return None, 0, 8, 1, max(1, -(-abi.position_capacity * abi.row_lanes // self.shape.threads))
        array = self.plan.arrays[spike_list.name]
        return spike_list.name, array.length - 1, MEMORY_TYPES[array.element_type].width // 8, abi.row_lanes, 1

    def chunks(self, step: LaunchPlan) -> ir.Value:
        """`chunks_of` for one launch known here: its description's values as constants."""
        spike_list, capacity, _, lanes, fixed = self.chunk_description(step)
        if spike_list is None:
            return ir.Constant(I64, fixed)
        return self.chunks_of_spikes(self.list_count(spike_list), ir.Constant(I64, capacity), ir.Constant(I64, lanes))

    def list_count(self, spike_list: str) -> ir.Value:
        """Spike list `spike_list`'s count (its last element) now, as i64."""
        builder = self.builder
        array = self.plan.arrays[spike_list]
        element = MEMORY_TYPES[array.element_type]
        count = builder.load(builder.gep(self.pointer(spike_list), [ir.Constant(I64, array.length - 1)],
                                         source_etype=element), typ=element)
        return builder.sext(count, I64) if element.width < 64 else count

    def chunks_of_spikes(self, spikes: ir.Value, capacity: ir.Value, lanes: ir.Value) -> ir.Value:
        """ceil(spikes x lanes / threads), at least one; a count out of range is the kernel's
        error to report, here it only must stay bounded (by the capacity)."""
        builder = self.builder
        spikes = builder.select(builder.icmp_unsigned("<=", spikes, capacity), spikes, capacity)
        threads = ir.Constant(I64, self.shape.threads)
        lanes_over = builder.add(builder.mul(spikes, lanes), builder.sub(threads, ir.Constant(I64, 1)))
        count = builder.udiv(lanes_over, threads)
        return builder.select(builder.icmp_unsigned("<", count, ir.Constant(I64, 1)), ir.Constant(I64, 1), count)

    def chunk_descriptions(self, steps: list[LaunchPlan]) -> ir.GlobalVariable:
        """A constant array of CHUNK_FIELDS words per launch, what `chunks_of` needs: the table
        slot of the launch's spike list (-1: a launch of fixed positions), the list's capacity,
        the bytes of its elements, the row's lanes, and the fixed chunk count."""
        words = []
        for step in steps:
            spike_list, *numbers = self.chunk_description(step)
            words += [-1 if spike_list is None else self.slots[spike_list], *numbers]
        kind = ir.ArrayType(I64, len(words))
        variable = ir.GlobalVariable(self.lowered.llvm_module, kind, f"spikec_ticks.phase{self.phase_index}.chunks",
                                     addrspace=4)
        variable.linkage = "internal"
        variable.global_constant = True
        variable.initializer = ir.Constant(kind, [ir.Constant(I64, word) for word in words])
        return variable

    def chunks_of(self, descriptions: ir.GlobalVariable, launch: ir.Value) -> ir.Value:
        """Blocks' worth of positions of launch `launch` of the phase in this tick, at least one
        (its block 0 also records the launch's position count for its compaction): a launch over
        a spike list counts its spikes now (times the row's lanes for a push), other launches
        their fixed positions."""
        builder = self.builder

        def field(number: int) -> ir.Value:
            index = builder.add(builder.mul(launch, ir.Constant(I64, CHUNK_FIELDS)), ir.Constant(I64, number))
            return builder.load(builder.gep(descriptions, [ir.Constant(I64, 0), index]), typ=I64)
        slot, capacity, width, lanes, fixed = (field(number) for number in range(CHUNK_FIELDS))
        result = self.chunk_count_variable
        builder.store(fixed, result)
        with builder.if_then(builder.icmp_signed(">=", slot, ir.Constant(I64, 0))):
            address = builder.load(builder.gep(self.table, [slot], source_etype=I64), typ=I64)
            address.set_metadata("invariant.load", self.invariant)
            count_at = builder.add(address, builder.mul(capacity, width))
            spikes = self.chunk_spikes_variable
            with builder.if_else(builder.icmp_signed("==", width, ir.Constant(I64, 8))) as (wide, narrow):
                with wide:
                    builder.store(builder.load(builder.inttoptr(count_at, _PTR), typ=I64), spikes)
                with narrow:
                    builder.store(builder.sext(builder.load(builder.inttoptr(count_at, _PTR), typ=I32), I64), spikes)
            builder.store(self.chunks_of_spikes(builder.load(spikes, typ=I64), capacity, lanes), result)
        return builder.load(result, typ=I64)

    def launch(self, step: LaunchPlan, grid_part: list[ir.Value]) -> None:
        builder, abi = self.builder, self.lowered.kernels[step.kernel]
        keys = [(abi.kernel, op.spike_list.name) for op in abi.emits]
        arguments = [self.pointer(name) for name in abi.arrays]
        arguments += [self.state, ir.Constant(I64, step.clock), ir.Constant(F64, step.dt)]
        arguments += [self.pointer((key, part)) for key in keys for part in range(3)]
        arguments += parameter_constants(abi.parameter_types, step.parameters)
        started = builder.call(self.globaltimer, []) if self.shape.timers else None
        builder.call(self.lowered.llvm_module.get_global(abi.function_name),
                     arguments + grid_part + [self.clock_pointer])
        if started is not None:
            self.time_launch(started)
        for key in keys:
            if key in self.tiled and self.tiled[key].chunks:
                self.count_chunk_flags(self.tiled[key], grid_part[0])
        self.pending += [(step, op, key) for op, key in zip(abi.emits, keys)]

    def time_launch(self, started: ir.Value) -> None:
        """After a block barrier (the whole block is done), thread 0 adds the block's time in the
        launch to its words (`tick_launches`)."""
        builder = self.builder
        self.block_barrier()
        with builder.if_then(self.first_thread):
            elapsed = builder.sub(builder.call(self.globaltimer, []), started)
            first = self.timers_at + len(self.intervals) + 3 * self.launch_index
            words = [builder.gep(self.counter, [ir.Constant(I64, first + k)], source_etype=I64) for k in range(3)]
            builder.atomic_rmw("add", words[0], elapsed, "monotonic")
            builder.atomic_rmw("umax", words[1], elapsed, "monotonic")
            builder.atomic_rmw("add", words[2], ir.Constant(I64, 1), "monotonic")
        self.launch_index += 1

    def tiles(self, step: LaunchPlan) -> int:
        """The tiles of a list `step` emits (`compact_tiles`): its positions over a block's
        threads x FLAGS_PER_THREAD."""
        positions = max(1, self.lowered.kernels[step.kernel].position_capacity)
        return -(-positions // (self.shape.threads * FLAGS_PER_THREAD))

    def tiled_lists(self, steps: list) -> dict[tuple[str, str], TiledList]:
        """The lists the phase of `steps` compacts in tiles, with their words (where tiles fit
        the flags' padding, `compacts_in_tiles`), else none (one block per list, `compact`). A
        launch of fixed positions, one per thread of a chunk, counts its flags in its chunks; a
        launch over a spike list (chunks of spikes x lanes) leaves them to the count function and
        its grid barrier, which pays only where the largest list has more than
        TILED_COMPACTION_MIN_TILES tiles. With every list counted in its chunks, tiles have no
        barrier more than one block per list and take a list's steps in parallel: CUBA 1e4 15%,
        the mushroom body 1e4 12% and the scale-0.1 microcircuit 4% faster (docs/performance.md)."""
        emits = [(step, op) for step in steps if isinstance(step, LaunchPlan)
                 for op in self.lowered.kernels[step.kernel].emits]
        if not emits or not compacts_in_tiles(self.shape):
            return {}
        clears: dict[str, list[int]] = {}
        for step in steps:
            if isinstance(step, ClearPlan):
                clears.setdefault(step.spike_list, []).append(step.clock)
        lists, first_tile, words_at = {}, 0, tiles_at(self.plan)
        for step, op in emits:
            abi = self.lowered.kernels[step.kernel]
            spike_list, *_ = self.chunk_description(step)
            clocks = clears.get(op.spike_list.name, [])
            in_chunks = spike_list is None and abi.row_lanes == 1 and len(clocks) <= 1
            chunks = -(-max(1, abi.position_capacity) // self.shape.threads) if in_chunks else 0
            kernel = self.plan.kernels[step.kernel]
            positions = isinstance(kernel.space, Elements) and op.index is kernel.index
            tiled = TiledList(step, op, self.tiles(step), first_tile, words_at, chunks,
                              clocks[0] if clocks else -1, positions)
            lists[tiled.key] = tiled
            first_tile += tiled.tiles
            words_at += tiled.words
        counted_after = any(not tiled.chunks for tiled in lists.values())
        if counted_after and max(tiled.tiles for tiled in lists.values()) <= TILED_COMPACTION_MIN_TILES:
            return {}
        return lists

    def count_chunk_flags(self, tiled: TiledList, chunk: ir.Value) -> None:
        """After the block ran `chunk` of an emitting launch, its flags' count in the list's word
        for the chunk: thread t reads the flag it wrote itself (position chunk x threads + t), a
        counting block barrier sums them. The first chunk also stores the list's count before the
        compaction (0 where a clear in this phase is due: thread 0 of block 0 may clear the list
        while this block reads it). Why: a count function over the tiles after the phase's
        barrier took 4.1 us of the full-scale microcircuit's 29.5 us tick, most of it latency
        and a grid barrier (docs/performance.md)."""
        builder = self.builder
        position = builder.add(builder.mul(chunk, ir.Constant(I64, self.shape.threads)),
                               builder.zext(_sreg(builder, "tid.x"), I64))
        positions = ir.Constant(I64, max(1, self.lowered.kernels[tiled.step.kernel].position_capacity))
        # in the flags' buffer (padded to COMPACT_CHUNK, which a chunk divides), past the
        # positions not written: masked
        flag = builder.load(builder.gep(self.pointer((tiled.key, 0)), [position], source_etype=I8), typ=I8)
        flagged = builder.and_(builder.icmp_unsigned("<", position, positions),
                               builder.icmp_unsigned("!=", flag, ir.Constant(I8, 0)))
        total = builder.call(self.counting_barrier, [builder.zext(flagged, I32)])
        with builder.if_then(self.first_thread):
            word = builder.add(ir.Constant(I64, tiled.words_at), chunk)
            builder.store(builder.zext(total, I64), builder.gep(self.counter, [word], source_etype=I64))
            with builder.if_then(builder.icmp_unsigned("==", chunk, ir.Constant(I64, 0))):
                builder.store(self.count_before(tiled),
                              builder.gep(self.counter, [ir.Constant(I64, tiled.words_at + tiled.count_word)],
                                          source_etype=I64))

    def count_before(self, tiled: TiledList) -> ir.Value:
        """The list's count before the compaction appends (i64)."""
        count = self.list_count(tiled.op.spike_list.name)
        if tiled.clear_clock < 0:
            return count
        return self.builder.select(self.due_flag(tiled.clear_clock), ir.Constant(I64, 0), count)

    def compact_tiles(self) -> None:
        """The phase's compactions over the grid (`cuda_codegen.build_tick_tile_functions`): the
        lists' tiles numbered one after another, tile g on block g mod blocks; every tile of a
        list not counted in its chunks counts its flags, then a grid barrier; every tile writes
        its spikes. Why: one block per list walked the microcircuit's largest population (21,915
        positions) in 11 steps of a block-wide scan, ~12 us of a ~32 us tick, while the other
        blocks waited (docs/performance.md)."""
        builder = self.builder
        blocks = builder.zext(self.blocks, I64)
        block = builder.zext(self.block_index, I64)
        uncounted = [tiled for tiled in self.tiled.values() if not tiled.chunks]
        for function, lists in (("count", uncounted), ("scatter", list(self.tiled.values()))):
            for tiled in lists:
                array = self.plan.arrays[tiled.op.spike_list.name]
                element = MEMORY_TYPES[array.element_type]
                words = builder.gep(self.counter, [ir.Constant(I64, tiled.words_at)], source_etype=I64)
                capacity = ir.Constant(I64, array.length - 1)
                # this block's first tile of the list: the g = first + t with g mod blocks = block
                shift = builder.urem(ir.Constant(I64, tiled.first_tile), blocks)
                start = builder.urem(builder.sub(builder.add(block, blocks), shift), blocks)
                callee = self.lowered.llvm_module.get_global(f"spikec_tile_{function}_i{element.width}")
                clock = ir.Constant(I64, tiled.step.clock)
                tiles = ir.Constant(I64, tiled.tiles)
                with for_range(builder, start, tiles, blocks, f"{function}_tiles") as tile:
                    # the pointers loaded where used: loaded once for both passes, 8 lists' would
                    # stay live across the barrier (the microcircuit's kernel: 64 -> 121 registers)
                    flags, values, count = (self.pointer((tiled.key, part)) for part in range(3))
                    spikes = self.pointer(tiled.op.spike_list.name)
                    if function == "count":
                        arguments = [self.state, clock, flags, count, spikes, capacity, words, tiles, tile]
                    else:
                        code = ir.Constant(I64, self.text.compaction_errors[tiled.key])
                        per_tile = FLAGS_PER_THREAD if tiled.chunks else 1
                        arguments = [self.state, clock, flags, values, count, spikes, capacity, code, words,
                                     ir.Constant(I64, tiled.count_word), tiles, tile, ir.Constant(I64, per_tile),
                                     ir.Constant(I64, int(tiled.positions))]
                    builder.call(callee, arguments)
            if function == "count" and lists:
                self.barrier()

    def compact(self, index: int, step: LaunchPlan, op, key: tuple[str, str]) -> None:
        builder = self.builder
        array = self.plan.arrays[op.spike_list.name]
        element = MEMORY_TYPES[array.element_type]
        code = self.text.compaction_errors[key]
        compact = self.lowered.llvm_module.get_global(f"spikec_compact_i{element.width}")
        mine = builder.icmp_unsigned("==", builder.urem(ir.Constant(I32, index), self.blocks), self.block_index)
        with builder.if_then(mine):
            flags, values, count = (self.pointer((key, part)) for part in range(3))
            builder.call(compact, [self.state, ir.Constant(I64, step.clock), flags, values, count,
                                   self.pointer(op.spike_list.name), ir.Constant(I64, array.length - 1),
                                   ir.Constant(I64, code), ir.Constant(I64, -1)])


# -- the policy --------------------------------------------------------------------------------------
def work_per_tick(plan: ModulePlan) -> int:
    """Estimated work of one tick's launches (units of `cpu_threads.work_per_element`, a position
    counting once: the rows of synapse spaces are not counted, their length is unknown here)."""
    return sum(_positions(plan, step.kernel) * work_per_element(plan.kernels[step.kernel])
               for step in plan.steps if isinstance(step, LaunchPlan))


def largest_positions(plan: ModulePlan) -> int:
    """The most positions one launch of the schedule has (0: no launch)."""
    return max((_positions(plan, step.kernel) for step in plan.steps if isinstance(step, LaunchPlan)), default=0)


def _positions(plan: ModulePlan, kernel: str) -> int:
    return kernel_abi(plan, plan.kernels[kernel], kernel).position_capacity


def requested(option: bool | str | None) -> bool | str | None:
    """True (one block), "grid", "cluster" or False when the option (else $SPIKEC_CUDA_TICK_KERNEL) forces a
    path, None for the policy ('auto' or unset)."""
    source = "tick_kernel="
    if option is None:
        option, source = os.environ.get(ENVIRONMENT, "").strip() or None, f"${ENVIRONMENT}"
    if option is None or isinstance(option, bool):
        return option
    word = str(option).lower()
    if word in ("1", "on", "true", "yes", "block"):
        return True
    if word in ("0", "off", "false", "no"):
        return False
    if word in ("grid", "cluster"):
        return word
    if word == "auto":
        return None
    raise SpikecError(f"{source}{option!r} does not choose a CUDA path",
                      hint="give 1 (the one-block tick kernel), grid (the tick kernel on a grid of "
                           "blocks), cluster (on one thread-block cluster), 0 (a launch per kernel) "
                           "or 'auto'")


def _block_setting() -> int | None:
    given = os.environ.get(BLOCK_ENVIRONMENT, "").strip()
    if not given:
        return None
    try:
        threads = int(given)
    except ValueError:
        threads = 0
    if not 32 <= threads <= MAX_BLOCK or threads % 32:
        raise SpikecError(f"${BLOCK_ENVIRONMENT}={given!r}: the tick kernel's block is 32 to 1024 "
                          "threads, a multiple of 32")
    return threads


def block_size(plan: ModulePlan) -> int:
    """Threads of the one-block tick kernel: $SPIKEC_CUDA_TICK_BLOCK, else whole warps for the
    largest kernel's positions, above 256 a multiple of 256 (so push rows can take up to 256
    lanes, `TickKernelHooks.row_lanes`), at most 1024."""
    given = _block_setting()
    if given:
        return given
    largest = max(1, largest_positions(plan))
    whole = 256 if largest > 256 else 32
    return min(MAX_BLOCK, max(32, -(-largest // whole) * whole))


def has_clusters(arch: str) -> bool:
    """Whether PTX for `arch` ('sm_90', 'sm_90a', 'sm_100') may use thread-block clusters."""
    return int(arch.removeprefix("sm_").rstrip("abf")) >= 90


def cluster_threads(plan: ModulePlan) -> int:
    """Threads per block of the cluster shape: $SPIKEC_CUDA_TICK_BLOCK, else the largest kernel's
    positions spread over CLUSTER_MAX_BLOCKS blocks, a power of two from 32 to GRID_BLOCK (it
    divides the compaction's chunk, `compacts_in_tiles`). Why spread: a small compute-heavy
    kernel (1000 HH neurons) is a latency chain per thread, so fewer threads per SM on more SMs
    finish sooner (docs/performance.md, "Clusters")."""
    return _block_setting() or spread_threads(plan, CLUSTER_MAX_BLOCKS)


def spread_threads(plan: ModulePlan, blocks: int) -> int:
    """The fewest threads per block, a power of two from 32 to GRID_BLOCK, that give the largest
    kernel's positions at most `blocks` blocks (GRID_BLOCK where that is not enough)."""
    largest = max(1, largest_positions(plan))
    threads = 32
    while threads < GRID_BLOCK and threads * blocks < largest:
        threads *= 2
    return threads


def choose_tick_shape(plan: ModulePlan, option: bool | str | None = None,
                      clusters: bool = False) -> TickShape | None:
    """The tick kernel's shape when the module runs on the tick kernel, None for the multi-kernel
    path (module docstring: the policy and its overrides); `clusters`: the GPU launches
    thread-block clusters (sm_90 and later)."""
    forced = requested(option)
    if forced is False or not plan.clocks:
        return None
    timers = _timers_setting()
    if forced == "cluster":
        if not clusters:
            raise SpikecError("the cluster tick kernel needs thread-block clusters (sm_90 or later); "
                              "this GPU has none",
                              hint=f"set {ENVIRONMENT} to grid, 1 (one block), 0 or auto")
        return TickShape(cluster_threads(plan), grid=True, timers=timers, cluster=True)
    if forced == "grid":
        return TickShape(_block_setting() or GRID_BLOCK, grid=True, timers=timers)
    if forced:
        return TickShape(block_size(plan), timers=timers)
    largest = largest_positions(plan)
    if largest <= MAX_POSITIONS and work_per_tick(plan) <= MAX_WORK:
        return TickShape(block_size(plan), timers=timers)
    phases = tick_phases(plan)  # once: the dependency analysis of every step
    if clusters and most_positions_in_a_phase(plan, phases) <= CLUSTER_MAX_POSITIONS:
        threads = cluster_threads(plan)
        if most_launches_in_a_phase(plan, phases) <= threads:
            return TickShape(threads, grid=True, timers=timers, cluster=True)
    launches = most_launches_in_a_phase(plan, phases)
    threads = _block_setting() or spread_threads(plan, THREAD_TICK_BLOCKS)
    if launches <= threads and thread_local_ticks(plan, threads, phases):  # at any size
        return TickShape(threads, grid=True, timers=timers)
    threads = _block_setting() or GRID_BLOCK
    if largest <= GRID_MAX_POSITIONS and launches <= threads:
        return TickShape(threads, grid=True, timers=timers)
    return None


def most_positions_in_a_phase(plan: ModulePlan, phases: list[list[int]] | None = None) -> int:
    """The most positions the launches of one phase (of `phases`, else `tick_phases`) have
    together: a phase above a cluster's threads takes more than one pass over it (the scale-0.1
    microcircuit, 7717 neurons in one phase and 55 sends in another, ran 0.237 on a cluster
    against 0.138 on the grid)."""
    return max((sum(_positions(plan, plan.steps[index].kernel) for index in phase
                    if isinstance(plan.steps[index], LaunchPlan)) for phase in phases or tick_phases(plan)),
               default=0)


def most_launches_in_a_phase(plan: ModulePlan, phases: list[list[int]] | None = None) -> int:
    """The grid's chunk table has a thread count each launch of a phase (of `phases`, else
    `tick_phases`; `chunk_table`)."""
    return max((sum(isinstance(plan.steps[index], LaunchPlan) for index in phase)
                for phase in phases or tick_phases(plan)), default=0)


def _timers_setting() -> bool:
    given = os.environ.get(TIMERS_ENVIRONMENT, "").strip().lower()
    if given in ("", "0", "off", "false", "no"):
        return False
    if given in ("1", "on", "true", "yes"):
        return True
    raise SpikecError(f"${TIMERS_ENVIRONMENT}={given!r}: give 1 to time the tick kernel's intervals, 0 "
                      "(or nothing) for none")
