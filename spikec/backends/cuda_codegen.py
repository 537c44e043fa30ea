"""The CUDA backend's code generation: kernel IR -> LLVM IR (nvptx64) -> libdevice linked and
internalized -> O3 -> PTX text. Runs on any machine (no GPU or driver needed).

Entry points of the PTX (all ``.visible .entry``; 256 threads per block unless said otherwise):

* every kernel of the module, with the signature of `spikec.backends.lower_to_llvm`, run as a
  grid-stride loop; a launch whose clock is not due this tick returns at once (``state[3+C+c]``);
* ``spikec_tick_begin(ptr state, ptr list...)`` (1 thread): computes which clocks are due (the
  interpreter's formula, into ``state[3+C+c]``) and clears the spike lists whose clear_spikes ops
  come before the first launch of the schedule;
* ``spikec_clear_<i32|i64>(ptr state, i64 clock, ptr list, i64 count_index)`` (1 thread): a later
  clear_spikes;
* ``spikec_tick_next(ptr state, ptr list...)`` (1 thread): tick_end then tick_begin, between the
  ticks of a graph of several;
* ``spikec_clear_<i32|i64>(ptr state, i64 clock, ptr list, i64 count_index)`` (1 thread): a later
  clear_spikes that no compaction absorbed (`absorbed_clears`);
* ``spikec_compact_<i32|i64>(state, clock, flags, values, count, list, capacity, error_code,
  clear_clock)`` (one block, up to 1024 threads): the one-block ordered compaction;
* ``spikec_count_tiles_<i32|i64>`` / ``spikec_scatter_tiles_<i32|i64>`` (1024 threads, a block per
  tile of 8192 positions): the multi-block one (`build_tile_kernels`);
* ``spikec_tick_end(ptr state)`` (1 thread): advances the due clocks' steps.

Spike order: an emit_spike on the GPU writes, per position p of the launch, a flag byte and the
value into scratch buffers (the "flag pass"; the kernel also stores its position count). A
compaction then appends the flagged values in position order, which is the interpreter's order:
threads take 8 consecutive flag bytes as one word (popcount = count), warp shuffle scans and a
scan of the warp totals give each thread its offset. The one-block kernel walks all positions in
chunks; the multi-block one counts per tile, lets the last block to finish scan the tile counts
(no spinning), then scatters each tile at its offset. A clear merged into a compaction
(``clear_clock`` >= 0) makes it start from 0 when that clock is due, and clear even when the
compaction's own clock is not due.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from llvmlite import binding as llvm
from llvmlite import ir

from spikec.backends import cuda_rows
from spikec.backends.abi import STATE_ERROR, STATE_ERROR_VALUE, ClearPlan, LaunchPlan, ModulePlan
from spikec.backends.errors import ToolchainError
from spikec.backends.lower_to_llvm import (I1, I8, I32, I64, MEMORY_TYPES, VOID, LoweredModule,
                                           TargetHooks, lower_module)
from spikec.backends.lower_to_llvm import for_range as _for_range
from spikec.backends.schedule_llvm import advance_steps, clear_spikes, due_flags, state_pointer
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_ops import AtomicAddOp, EmitSpikeOp, LoadOp, StoreOp

TRIPLE = "nvptx64-nvidia-cuda"
DEFAULT_ARCH = "sm_90"
BLOCK = 256
assert BLOCK % cuda_rows.MAX_LANES == 0, "a row's group of lanes must lie in one block"
COMPACT_BLOCK = 1024
FLAGS_PER_THREAD = 8
COMPACT_CHUNK = COMPACT_BLOCK * FLAGS_PER_THREAD   # positions per step of the compaction loop;
# the flag buffers are allocated in multiples of it, as its threads read whole 8-byte words
_PTR = ir.PointerType()
_INITIALIZED: list[bool] = []


def _sreg(builder: ir.IRBuilder, name: str) -> ir.Value:
    module = builder.module
    symbol = f"llvm.nvvm.read.ptx.sreg.{name}"
    function = module.globals.get(symbol) or ir.Function(module, ir.FunctionType(I32, []), symbol)
    return builder.call(function, [])


def _intrinsic(builder: ir.IRBuilder, symbol: str, result: ir.Type, arguments: list[ir.Type]) -> ir.Function:
    module = builder.module
    return module.globals.get(symbol) or ir.Function(module, ir.FunctionType(result, arguments), symbol)


def mark_entry(function: ir.Function) -> None:
    function.calling_convention = "ptx_kernel"


class CudaHooks(TargetHooks):
    """Grid-stride loops, libdevice math, atomicrmw, flag-pass spike emission, due-flag exits,
    push rows spread over lanes (`spikec.backends.cuda_rows`)."""

    name = "cuda"
    triple = TRIPLE
    compacts_spikes = True

    def __init__(self, plan: ModulePlan, row_lanes: int | str = cuda_rows.AUTO):
        self.plan = plan
        self.row_lanes_setting = row_lanes
        self.data_layout = str(nvptx_target_machine(DEFAULT_ARCH).target_data)

    def library_function_name(self, name: str, type) -> str:
        return "__nv_" + super().library_function_name(name, type)

    def configure_kernel(self, function: ir.Function) -> None:
        mark_entry(function)

    def element_range(self, builder: ir.IRBuilder) -> tuple[ir.Value, ir.Value]:
        thread = builder.zext(_sreg(builder, "tid.x"), I64)
        block = builder.zext(_sreg(builder, "ctaid.x"), I64)
        size = builder.zext(_sreg(builder, "ntid.x"), I64)
        grid = builder.zext(_sreg(builder, "nctaid.x"), I64)
        return builder.add(builder.mul(block, size), thread), builder.mul(size, grid)

    def row_lanes(self, plan: ModulePlan, kernel: KernelOp) -> int:
        return cuda_rows.row_lanes(plan, kernel, self.row_lanes_setting)

    def lane_range(self, builder: ir.IRBuilder, lanes: int) -> tuple[ir.Value, ir.Value, ir.Value]:
        thread, threads = self.element_range(builder)
        return cuda_rows.lane_range(builder, thread, threads, lanes)

    def kernel_prologue(self, builder: ir.IRBuilder, state: ir.Value, clock: ir.Value,
                        exit_block: ir.Block) -> None:
        due = self.clock_word(builder, state, builder.add(clock, ir.Constant(I64, self.plan.due_slot(0))))
        go = builder.append_basic_block("due")
        builder.cbranch(builder.icmp_signed("!=", due, ir.Constant(I64, 0)), go, exit_block)
        builder.position_at_end(go)

    def is_first_invocation(self, builder: ir.IRBuilder) -> ir.Value:
        zero = ir.Constant(I32, 0)
        return builder.and_(builder.icmp_signed("==", _sreg(builder, "tid.x"), zero),
                            builder.icmp_signed("==", _sreg(builder, "ctaid.x"), zero))

    def atomic_add(self, builder: ir.IRBuilder, pointer: ir.Value, value: ir.Value, type) -> None:
        builder.atomic_rmw("fadd" if type.is_float else "add", pointer, value, "monotonic")


# -- the tick kernels ------------------------------------------------------------------------------------
def leading_clears(plan: ModulePlan) -> list[ClearPlan]:
    """The clear_spikes ops before the schedule's first launch (done by spikec_tick_begin)."""
    result = []
    for step in plan.steps:
        if isinstance(step, LaunchPlan):
            break
        result.append(step)
    return result


def build_tick_kernels(lowered: LoweredModule) -> None:
    """``spikec_tick_begin(state, lists...)``, ``spikec_tick_end(state)`` and
    ``spikec_tick_next(state, lists...)`` (the end of one tick and the begin of the next, one launch
    between the ticks of a graph of several)."""
    plan, module = lowered.plan, lowered.llvm_module
    clears = leading_clears(plan)

    def begin(builder: ir.IRBuilder, state: ir.Value, lists) -> None:
        if plan.clocks:
            due = due_flags(builder, plan, state)
            for clock, flag in zip(plan.clocks, due):
                builder.store(builder.zext(flag, I64), state_pointer(builder, state, plan.due_slot(clock.index)))
            for clear, pointer in zip(clears, lists):
                with builder.if_then(due[clear.clock]):
                    clear_spikes(builder, plan, clear.spike_list, pointer)

    def end(builder: ir.IRBuilder, state: ir.Value) -> None:
        flags = [builder.icmp_signed("!=", builder.load(state_pointer(builder, state, plan.due_slot(c.index)),
                                                        typ=I64), ir.Constant(I64, 0)) for c in plan.clocks]
        advance_steps(builder, plan, state, flags)

    for name, parts in (("spikec_tick_begin", (begin,)), ("spikec_tick_end", (end,)),
                        ("spikec_tick_next", (end, begin))):
        lists = 0 if parts == (end,) else len(clears)
        function = ir.Function(module, ir.FunctionType(VOID, [_PTR] * (1 + lists)), name)
        mark_entry(function)
        builder = ir.IRBuilder(function.append_basic_block("entry"))
        for part in parts:
            part(builder, function.args[0], *([function.args[1:]] if part is begin else []))
        builder.ret_void()


def clock_due(builder: ir.IRBuilder, plan: ModulePlan, state: ir.Value, clock: ir.Value) -> ir.Value:
    """i1: clock `clock` (an i64 value) is due this tick, by its due flag in the state."""
    slot = builder.add(clock, ir.Constant(I64, plan.due_slot(0)))
    due = builder.load(builder.gep(state, [slot], source_etype=I64), typ=I64)
    return builder.icmp_signed("!=", due, ir.Constant(I64, 0))


def _due_or_return(builder: ir.IRBuilder, plan: ModulePlan, state: ir.Value, clock: ir.Value,
                   function: ir.Function, on_return=None) -> None:
    """Return at once when `clock` is not due (after `on_return(builder)`, if given)."""
    due = clock_due(builder, plan, state, clock)
    go, stop = function.append_basic_block("due"), function.append_basic_block("not_due")
    builder.cbranch(due, go, stop)
    builder.position_at_end(stop)
    if on_return is not None:
        on_return(builder)
    builder.ret_void()
    builder.position_at_end(go)


def build_clear_kernel(lowered: LoweredModule, element: ir.IntType) -> None:
    function = ir.Function(lowered.llvm_module, ir.FunctionType(VOID, [_PTR, I64, _PTR, I64]),
                           f"spikec_clear_i{element.width}")
    mark_entry(function)
    state, clock, spikes, count_index = function.args
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    _due_or_return(builder, lowered.plan, state, clock, function)
    builder.store(ir.Constant(element, 0), builder.gep(spikes, [count_index], source_etype=element))
    builder.ret_void()


# -- the ordered spike compaction ------------------------------------------------------------------------
def shared_array(module: ir.Module, name: str, element: ir.Type, length: int,
                 align: int | None = None) -> ir.GlobalVariable:
    """A block's array in shared memory (uninitialized)."""
    variable = ir.GlobalVariable(module, ir.ArrayType(element, length), name, addrspace=3)
    variable.linkage = "internal"
    variable.initializer = ir.Constant(variable.value_type, ir.Undefined)
    if align is not None:
        variable.align = align
    return variable


def warp_inclusive_scan(builder: ir.IRBuilder, value: ir.Value, lane: ir.Value) -> ir.Value:
    """Inclusive sum of `value` (i32 or i64) over the warp's lanes up to `lane`, this one's."""
    shuffle_up = _intrinsic(builder, "llvm.nvvm.shfl.sync.up.i32", I32, [I32] * 4)
    inclusive = value
    for delta in (1, 2, 4, 8, 16):
        if value.type == I64:
            low = builder.trunc(inclusive, I32)
            high = builder.trunc(builder.lshr(inclusive, ir.Constant(I64, 32)), I32)
            low, high = (builder.call(shuffle_up, [ir.Constant(I32, -1), part, ir.Constant(I32, delta),
                                                   ir.Constant(I32, 0)]) for part in (low, high))
            up = builder.or_(builder.zext(low, I64), builder.shl(builder.zext(high, I64), ir.Constant(I64, 32)))
        else:
            up = builder.call(shuffle_up, [ir.Constant(I32, -1), inclusive, ir.Constant(I32, delta),
                                           ir.Constant(I32, 0)])
        has = builder.icmp_unsigned(">=", lane, ir.Constant(I32, delta))
        inclusive = builder.add(inclusive, builder.select(has, up, ir.Constant(value.type, 0)))
    return inclusive


class _Compaction:
    """What the compaction kernels share: block-wide scans of flag words, shared memory, the
    clear of the list merged into the compaction (`clear_clock` >= 0: see `absorbed_clears`)."""

    def __init__(self, lowered: LoweredModule, element: ir.IntType, name: str, parameters: list[ir.Type]):
        self.lowered, self.plan, self.element = lowered, lowered.plan, element
        module = self.module = lowered.llvm_module
        self.function = ir.Function(module, ir.FunctionType(VOID, parameters), name)
        mark_entry(self.function)
        module.add_named_metadata("nvvm.annotations", [self.function, "maxntidx", ir.Constant(I32, COMPACT_BLOCK)])
        self.warp_counts = self.shared(f"{name}.warp_counts", I32, COMPACT_BLOCK // 32)
        self.builder = builder = ir.IRBuilder(self.function.append_basic_block("entry"))
        self.barrier = _intrinsic(builder, "llvm.nvvm.barrier0", VOID, [])
        self.popcount64 = _intrinsic(builder, "llvm.ctpop.i64", I64, [I64])
        self.thread = _sreg(builder, "tid.x")
        self.block_threads = _sreg(builder, "ntid.x")
        self.lane = builder.and_(self.thread, ir.Constant(I32, 31))
        self.warp = builder.lshr(self.thread, ir.Constant(I32, 5))
        self.warps = builder.lshr(builder.add(self.block_threads, ir.Constant(I32, 31)), ir.Constant(I32, 5))
        # positions per block-wide step: FLAGS_PER_THREAD per thread
        self.chunk = builder.mul(builder.zext(self.block_threads, I64), ir.Constant(I64, FLAGS_PER_THREAD))

    def local(self) -> ir.Value:
        """An i64 local variable (an alloca at the start of the entry block, promoted by O3)."""
        entry = self.function.entry_basic_block
        if self.builder.block is entry:  # a second builder's insertion would shift this one's
            return self.builder.alloca(I64)
        builder = ir.IRBuilder(entry)
        builder.position_at_start(entry)
        return builder.alloca(I64)

    def shared(self, name: str, element: ir.Type, length: int) -> ir.GlobalVariable:
        return shared_array(self.module, name, element, length)

    def shared_at(self, variable: ir.GlobalVariable, index: ir.Value) -> ir.Value:
        return self.builder.gep(variable, [ir.Constant(I32, 0), index])

    def list_count_pointer(self, spikes: ir.Value, capacity: ir.Value) -> ir.Value:
        return self.builder.gep(spikes, [capacity], source_etype=self.element)

    def store_list_count(self, spikes: ir.Value, capacity: ir.Value, value: ir.Value) -> None:
        value = self.builder.trunc(value, self.element) if self.element.width < 64 else value
        self.builder.store(value, self.list_count_pointer(spikes, capacity))

    def clear_due(self, state: ir.Value, clear_clock: ir.Value) -> ir.Value:
        """i1: a clear of the list was merged into this compaction and its clock is due."""
        builder = self.builder
        merged = builder.icmp_signed(">=", clear_clock, ir.Constant(I64, 0))
        due = clock_due(builder, self.plan, state, builder.select(merged, clear_clock, ir.Constant(I64, 0)))
        return builder.and_(merged, due)

    def start_count(self, state, clear_clock, spikes, capacity) -> ir.Value:
        """The list's count before this compaction appends (0 where a merged clear is due), i64."""
        builder = self.builder
        current = builder.sext(builder.load(self.list_count_pointer(spikes, capacity), typ=self.element), I64)
        return builder.select(self.clear_due(state, clear_clock), ir.Constant(I64, 0), current)

    def due_or_clear_and_return(self, state, clock, clear_clock, spikes, capacity) -> None:
        """Not due: do the merged clear (if its clock is due; one thread) and return."""
        def clear(builder: ir.IRBuilder) -> None:
            first = builder.and_(builder.icmp_signed("==", self.thread, ir.Constant(I32, 0)),
                                 builder.icmp_signed("==", _sreg(builder, "ctaid.x"), ir.Constant(I32, 0)))
            with builder.if_then(builder.and_(first, self.clear_due(state, clear_clock))):
                self.store_list_count(spikes, capacity, ir.Constant(I64, 0))
        _due_or_return(self.builder, self.plan, state, clock, self.function, clear)

    def warp_inclusive_scan(self, value: ir.Value) -> ir.Value:
        return warp_inclusive_scan(self.builder, value, self.lane)

    def block_scan(self, value: ir.Value, totals: ir.GlobalVariable) -> tuple[ir.Value, ir.Value]:
        """(exclusive prefix of `value` over the block's threads, block total); `totals` is shared
        memory of 32 entries of value's type. Ends with a barrier, so `totals` can be reused."""
        builder = self.builder
        inclusive = self.warp_inclusive_scan(value)
        with builder.if_then(builder.icmp_signed("==", self.lane, ir.Constant(I32, 31))):
            builder.store(inclusive, self.shared_at(totals, self.warp))
        builder.call(self.barrier, [])
        zero = ir.Constant(value.type, 0)
        with builder.if_then(builder.icmp_unsigned("==", self.warp, ir.Constant(I32, 0))):
            # warp 0 scans the warp totals (warps that do not exist count 0), inclusive, in place
            present = builder.icmp_unsigned("<", self.lane, self.warps)
            slot = self.shared_at(totals, self.lane)
            across = self.warp_inclusive_scan(builder.select(present, builder.load(slot), zero))
            builder.store(across, slot)
        builder.call(self.barrier, [])
        previous = builder.select(builder.icmp_unsigned(">", self.warp, ir.Constant(I32, 0)),
                                  builder.sub(self.warp, ir.Constant(I32, 1)), ir.Constant(I32, 0))
        prefix = builder.select(builder.icmp_unsigned(">", self.warp, ir.Constant(I32, 0)),
                                builder.load(self.shared_at(totals, previous)), zero)
        total = builder.load(self.shared_at(totals, ir.Constant(I32, COMPACT_BLOCK // 32 - 1)))
        builder.call(self.barrier, [])
        return builder.sub(builder.add(prefix, inclusive), value), total

    def flag_word(self, flags: ir.Value, chunk_start: ir.Value, count: ir.Value) -> tuple[ir.Value, ir.Value]:
        """(this thread's FLAGS_PER_THREAD flag bytes from chunk_start as one i64 masked to the
        positions below count, the first of those positions)."""
        builder = self.builder
        first = builder.add(chunk_start, builder.mul(builder.zext(self.thread, I64), ir.Constant(I64, FLAGS_PER_THREAD)))
        valid = builder.sub(count, first)
        valid = builder.select(builder.icmp_signed("<", valid, ir.Constant(I64, 0)), ir.Constant(I64, 0), valid)
        full = builder.icmp_signed(">=", valid, ir.Constant(I64, FLAGS_PER_THREAD))
        shift = builder.select(full, ir.Constant(I64, 0), builder.mul(valid, ir.Constant(I64, 8)))
        partial = builder.sub(builder.shl(ir.Constant(I64, 1), shift), ir.Constant(I64, 1))
        mask = builder.select(full, ir.Constant(I64, -1), partial)
        word = builder.and_(builder.load(builder.gep(flags, [first], source_etype=I8), typ=I64, align=8), mask)
        return word, first

    def chunk_count(self, flags, chunk_start, count) -> ir.Value:
        """The flags set in the chunk at chunk_start (i32, in every thread)."""
        word, _ = self.flag_word(flags, chunk_start, count)
        _, total = self.block_scan(self.builder.trunc(self.builder.call(self.popcount64, [word]), I32),
                                   self.warp_counts)
        return total

    def scatter_chunk(self, flags, values, spikes, capacity, state, error_code, chunk_start, count,
                      base, flag_word: tuple[ir.Value, ir.Value] | None = None,
                      positions: ir.Value | None = None) -> ir.Value:
        """Write the flagged values of the chunk at chunk_start to spikes[base...] in position order
        (an overflow past capacity records error_code); returns the chunk's count (i32).
        `flag_word`: this thread's `flag_word`, loaded earlier; `positions` (i1): where true the
        values are the positions themselves, not loaded."""
        builder = self.builder
        word, first = flag_word or self.flag_word(flags, chunk_start, count)
        mine = builder.trunc(builder.call(self.popcount64, [word]), I32)
        offset, total = self.block_scan(mine, self.warp_counts)
        target = builder.add(base, builder.zext(offset, I64))
        for k in range(FLAGS_PER_THREAD):  # this thread's flagged values, in position order
            flag = builder.trunc(builder.lshr(word, ir.Constant(I64, 8 * k)), I1)
            with builder.if_then(flag):
                with builder.if_else(builder.icmp_signed("<", target, capacity)) as (fits, overflow):
                    with fits:
                        position = builder.add(first, ir.Constant(I64, k))
                        self.scatter_value(values, position, spikes, target, positions)
                    with overflow:
                        builder.store(error_code, state_pointer(builder, state, STATE_ERROR))
                        builder.store(target, state_pointer(builder, state, STATE_ERROR_VALUE))
            target = builder.add(target, builder.zext(flag, I64))
        return total


    def scatter_value(self, values, position: ir.Value, spikes, target: ir.Value, positions: ir.Value | None) -> None:
        """spikes[target] = values[position] (the position itself where `positions` is true)."""
        builder, element = self.builder, self.element

        def loaded() -> None:
            value = builder.load(builder.gep(values, [position], source_etype=element), typ=element)
            builder.store(value, builder.gep(spikes, [target], source_etype=element))
        if positions is None:
            loaded()
            return
        with builder.if_else(positions) as (own, stored):
            with own:
                value = builder.trunc(position, element) if element.width < 64 else position
                builder.store(value, builder.gep(spikes, [target], source_etype=element))
            with stored:
                loaded()


def build_compaction_kernel(lowered: LoweredModule, element: ir.IntType) -> None:
    """``spikec_compact_i32/i64(state, clock, flags, values, count, list, capacity, error_code,
    clear_clock)``, one block (of up to 1024 threads): walks the positions in chunks of 8 per thread."""
    c = _Compaction(lowered, element, f"spikec_compact_i{element.width}", [_PTR, I64, _PTR, _PTR, _PTR, _PTR,
                                                                            I64, I64, I64])
    state, clock, flags, values, count_pointer, spikes, capacity, error_code, clear_clock = c.function.args
    builder = c.builder
    c.due_or_clear_and_return(state, clock, clear_clock, spikes, capacity)
    count = builder.load(count_pointer, typ=I64)
    base = c.local()
    builder.store(c.start_count(state, clear_clock, spikes, capacity), base)
    with _for_range(builder, ir.Constant(I64, 0), count, c.chunk, "chunk") as chunk_start:
        before = builder.load(base)
        total = c.scatter_chunk(flags, values, spikes, capacity, state, error_code, chunk_start, count, before)
        builder.store(builder.add(before, builder.zext(total, I64)), base)
    with builder.if_then(builder.icmp_signed("==", c.thread, ir.Constant(I32, 0))):
        final = builder.load(base)
        c.store_list_count(spikes, capacity, builder.select(builder.icmp_signed("<", final, capacity), final,
                                                            capacity))
    builder.ret_void()


def build_tick_tile_functions(lowered: LoweredModule, element: ir.IntType) -> None:
    """The grid tick kernel's compaction of one list shared out over its blocks: tiles of a
    block's threads x FLAGS_PER_THREAD positions, two device functions with a grid barrier
    between them (`cuda_tick_kernel`, `_TickKernelBuilder.compact_tiles`). `words` is the list's
    region of the tick's words: one per tile, then the list's count before the compaction.

    ``spikec_tile_count_iN(state, clock, flags, count, list, capacity, words, tiles, tile)``:
    words[tile] = the flags set in the tile (0 past the positions); tile 0 also stores the list's
    count in words[tiles].
    ``spikec_tile_scatter_iN(state, clock, flags, values, count, list, capacity, error_code,
    words, count_word, tiles, tile, words_per_tile, values_are_positions)``: writes the tile's
    flagged values (its positions, not loaded, where values_are_positions is nonzero) from list
    index words[count_word] + the counts of the positions before it (words[0 .. tile x
    words_per_tile)), in position order; the last tile stores the list's new count. The count
    before is read from the words, not the list, which the last tile's block may already have
    updated. `words_per_tile`: 1 after the count function (count_word = tiles), FLAGS_PER_THREAD
    where the emitting launch's chunks of a block's threads counted their own flags
    (`_TickKernelBuilder.count_chunk_flags`; count_word = its chunks)."""
    width = element.width
    c = _Compaction(lowered, element, f"spikec_tile_count_i{width}", [_PTR, I64, _PTR, _PTR, _PTR, I64, _PTR, I64, I64])
    state, clock, flags, count_pointer, spikes, capacity, words, tiles, tile = c.function.args
    builder = c.builder
    c.due_or_clear_and_return(state, clock, ir.Constant(I64, -1), spikes, capacity)
    count = builder.load(count_pointer, typ=I64)
    total = c.chunk_count(flags, builder.mul(tile, c.chunk), count)
    with builder.if_then(builder.icmp_signed("==", c.thread, ir.Constant(I32, 0))):
        builder.store(builder.zext(total, I64), builder.gep(words, [tile], source_etype=I64))
        with builder.if_then(builder.icmp_signed("==", tile, ir.Constant(I64, 0))):
            builder.store(c.start_count(state, ir.Constant(I64, -1), spikes, capacity),
                          builder.gep(words, [tiles], source_etype=I64))
    builder.ret_void()

    c = _Compaction(lowered, element, f"spikec_tile_scatter_i{width}",
                    [_PTR, I64, _PTR, _PTR, _PTR, _PTR, I64, I64, _PTR, I64, I64, I64, I64, I64])
    (state, clock, flags, values, count_pointer, spikes, capacity, error_code, words, count_word, tiles, tile,
     words_per_tile, values_are_positions) = c.function.args
    builder = c.builder
    # No return when the clock is not due: a branch on the due flag keeps the other loads behind
    # its latency (O3 sinks them into the due side). The due flag, the count (0 when not due),
    # this thread's flags, the count before and the counts before the tile are independent
    # loads whose latencies overlap; a tile not due writes nothing.
    due = clock_due(builder, c.plan, state, clock)
    count = builder.select(due, builder.load(count_pointer, typ=I64), ir.Constant(I64, 0))
    flag_word = c.flag_word(flags, builder.mul(tile, c.chunk), count)
    start = builder.load(builder.gep(words, [count_word], source_etype=I64), typ=I64)
    earlier = c.local()  # this thread's share of the counts before this tile
    builder.store(ir.Constant(I64, 0), earlier)
    threads = builder.zext(c.block_threads, I64)
    with _for_range(builder, builder.zext(c.thread, I64), builder.mul(tile, words_per_tile), threads,
                    "earlier_word") as index:
        value = builder.load(builder.gep(words, [index], source_etype=I64), typ=I64)
        builder.store(builder.add(builder.load(earlier), value), earlier)
    _, before = c.block_scan(builder.trunc(builder.load(earlier), I32), c.warp_counts)
    base = builder.add(start, builder.zext(before, I64))
    positions = builder.icmp_unsigned("!=", values_are_positions, ir.Constant(I64, 0))
    total = c.scatter_chunk(flags, values, spikes, capacity, state, error_code, builder.mul(tile, c.chunk), count,
                            base, flag_word, positions)
    last = builder.and_(due, builder.icmp_signed("==", tile, builder.sub(tiles, ir.Constant(I64, 1))))
    with builder.if_then(builder.and_(last, builder.icmp_signed("==", c.thread, ir.Constant(I32, 0)))):
        final = builder.add(base, builder.zext(total, I64))
        c.store_list_count(spikes, capacity, builder.select(builder.icmp_signed("<", final, capacity), final,
                                                            capacity))
    builder.ret_void()


def build_tile_kernels(lowered: LoweredModule, element: ir.IntType) -> None:
    """The multi-block compaction, two launches of TILE_BLOCK threads per block, a tile of
    TILE_BLOCK * 8 positions per block (grid-stride over tiles):

    ``spikec_count_tiles_iN(state, clock, flags, count, list, capacity, tiles, control, clear_clock)``:
    tiles[t] = the flags set in tile t; the block that finishes last (a counter in control[0],
    no spinning) turns tiles[] into each tile's first list index (an exclusive scan plus the
    list's count before), writes the list's new count and resets the counter.
    ``spikec_scatter_tiles_iN(state, clock, flags, values, count, list, capacity, error_code, tiles)``:
    each tile writes its flagged values from list index tiles[t] on, in position order."""
    c = _Compaction(lowered, element, f"spikec_count_tiles_i{element.width}",
                    [_PTR, I64, _PTR, _PTR, _PTR, I64, _PTR, _PTR, I64])
    state, clock, flags, count_pointer, spikes, capacity, tiles, control, clear_clock = c.function.args
    builder = c.builder
    c.due_or_clear_and_return(state, clock, clear_clock, spikes, capacity)
    count = builder.load(count_pointer, typ=I64)
    block = builder.zext(_sreg(builder, "ctaid.x"), I64)
    blocks = builder.zext(_sreg(builder, "nctaid.x"), I64)
    first_thread = builder.icmp_signed("==", c.thread, ir.Constant(I32, 0))
    with _for_range(builder, builder.mul(block, c.chunk), count, builder.mul(blocks, c.chunk), "tile") as start:
        total = c.chunk_count(flags, start, count)
        with builder.if_then(first_thread):
            builder.store(builder.zext(total, I64), builder.gep(tiles, [builder.udiv(start, c.chunk)],
                                                                source_etype=I64))
    is_last = c.shared(f"spikec_count_tiles_i{element.width}.last", I32, 1)
    with builder.if_then(first_thread):
        builder.fence("seq_cst")
        done = builder.atomic_rmw("add", control, ir.Constant(I64, 1), "seq_cst")
        last = builder.icmp_signed("==", done, builder.sub(blocks, ir.Constant(I64, 1)))
        builder.store(builder.zext(last, I32), c.shared_at(is_last, ir.Constant(I32, 0)))
    builder.call(c.barrier, [])
    last = builder.load(c.shared_at(is_last, ir.Constant(I32, 0)))
    with builder.if_then(builder.icmp_signed("!=", last, ir.Constant(I32, 0))):
        builder.fence("seq_cst")
        # every tile's count is in tiles[]; an exclusive scan, each thread over a segment of them
        ntiles = builder.sdiv(builder.add(count, builder.sub(c.chunk, ir.Constant(I64, 1))), c.chunk)
        threads = builder.zext(c.block_threads, I64)
        per = builder.sdiv(builder.add(ntiles, builder.sub(threads, ir.Constant(I64, 1))), threads)
        low = builder.mul(builder.zext(c.thread, I64), per)
        low = builder.select(builder.icmp_signed("<", low, ntiles), low, ntiles)
        high = builder.add(low, per)
        high = builder.select(builder.icmp_signed("<", high, ntiles), high, ntiles)
        one = ir.Constant(I64, 1)

        def tile_at(i):
            return builder.gep(tiles, [i], source_etype=I64)
        running = c.local()
        builder.store(ir.Constant(I64, 0), running)
        with _for_range(builder, low, high, one, "sum") as i:
            value = builder.load_atomic(tile_at(i), "monotonic", 8, typ=I64)
            builder.store(builder.add(builder.load(running), value), running)
        mine = builder.load(running)
        totals = c.shared(f"spikec_count_tiles_i{element.width}.totals", I64, COMPACT_BLOCK // 32)
        offset, total = c.block_scan(mine, totals)
        start = c.start_count(state, clear_clock, spikes, capacity)
        builder.store(builder.add(start, offset), running)
        with _for_range(builder, low, high, one, "offsets") as i:
            value = builder.load_atomic(tile_at(i), "monotonic", 8, typ=I64)
            before = builder.load(running)
            builder.store(before, tile_at(i))
            builder.store(builder.add(before, value), running)
        with builder.if_then(first_thread):
            final = builder.add(start, total)
            c.store_list_count(spikes, capacity, builder.select(builder.icmp_signed("<", final, capacity), final,
                                                                capacity))
            builder.store(ir.Constant(I64, 0), control)
    builder.ret_void()

    c = _Compaction(lowered, element, f"spikec_scatter_tiles_i{element.width}",
                    [_PTR, I64, _PTR, _PTR, _PTR, _PTR, I64, I64, _PTR])
    state, clock, flags, values, count_pointer, spikes, capacity, error_code, tiles = c.function.args
    builder = c.builder
    _due_or_return(builder, lowered.plan, state, clock, c.function)
    count = builder.load(count_pointer, typ=I64)
    block = builder.zext(_sreg(builder, "ctaid.x"), I64)
    blocks = builder.zext(_sreg(builder, "nctaid.x"), I64)
    with _for_range(builder, builder.mul(block, c.chunk), count, builder.mul(blocks, c.chunk), "tile") as start:
        base = builder.load(builder.gep(tiles, [builder.udiv(start, c.chunk)], source_etype=I64), typ=I64)
        c.scatter_chunk(flags, values, spikes, capacity, state, error_code, start, count, base)
    builder.ret_void()


def uses_tiles(position_capacity: int) -> bool:
    """Whether an emit_spike of a kernel with this many positions is compacted by the multi-block
    kernels (else by the one-block kernel, one launch instead of two)."""
    return position_capacity > COMPACT_CHUNK


def absorbed_clears(plan: ModulePlan) -> dict[int, int]:
    """Clears done by a compaction instead of a launch of their own: {index of the ClearPlan in
    plan.steps: index of the LaunchPlan whose compaction clears}. A clear (not a leading one) is
    absorbed when only clears of other lists separate it from the next launch, and that kernel
    emits into the list and does not otherwise touch it (so nothing sees the list between the
    clear and the compaction, which then starts from 0 where the clear's clock is due)."""
    result = {}
    steps = plan.steps
    for index in range(len(leading_clears(plan)), len(steps)):
        clear = steps[index]
        if not isinstance(clear, ClearPlan):
            continue
        after = index + 1
        while after < len(steps) and isinstance(steps[after], ClearPlan):
            if steps[after].spike_list == clear.spike_list:
                break
            after += 1
        if after == len(steps) or not isinstance(steps[after], LaunchPlan):
            continue
        kernel = plan.kernels[steps[after].kernel]
        if clear.spike_list in _touched_except_emit(kernel):
            continue
        if any(isinstance(op, EmitSpikeOp) and op.spike_list.name == clear.spike_list for op in kernel.body.ops):
            result[index] = after
    return result


def _touched_except_emit(kernel) -> set[str]:
    used = {ref.name for ref in kernel.space.arrays()}
    for op in kernel.walk():
        if isinstance(op, (LoadOp, StoreOp, AtomicAddOp)):
            used.add(op.array.name)
    return used


@dataclass
class CudaModuleText:
    """The generated LLVM module and what the executable needs to launch it."""

    lowered: LoweredModule
    compaction_errors: dict[tuple[str, str], int] = field(default_factory=dict)  # (kernel, list) -> code


def lower_for_cuda(plan: ModulePlan, row_lanes: int | str = cuda_rows.AUTO) -> CudaModuleText:
    """The module's kernels and the tick kernels in LLVM IR; `row_lanes` forces the threads per
    push row (`cuda_rows.parse_row_lanes`; "auto" chooses per kernel)."""
    lowered = lower_module(plan, CudaHooks(plan, row_lanes))
    result = CudaModuleText(lowered)
    build_tick_kernels(lowered)
    absorbed = absorbed_clears(plan)
    element_types = set()
    for index, step in enumerate(plan.steps[len(leading_clears(plan)):], len(leading_clears(plan))):
        if isinstance(step, ClearPlan) and index not in absorbed:
            element_types.add(("clear", MEMORY_TYPES[plan.arrays[step.spike_list].element_type]))
    for abi in lowered.kernels.values():
        for op in abi.emits:
            element = MEMORY_TYPES[plan.arrays[op.spike_list.name].element_type]
            element_types.add(("compact", element))  # also for large kernels (one_block_limit)
            if uses_tiles(abi.position_capacity):
                element_types.add(("tiles", element))
            lowered.errors.append(f"spike list {op.spike_list} overflows (a neuron spiking twice in a "
                                  f"step?) in kernel @{abi.kernel}")
            result.compaction_errors[(abi.kernel, op.spike_list.name)] = len(lowered.errors)
    builders = {"clear": build_clear_kernel, "compact": build_compaction_kernel, "tiles": build_tile_kernels}
    for kind, element in sorted(element_types, key=lambda t: (t[0], t[1].width)):
        builders[kind](lowered, element)
    return result


# -- libdevice, PTX -------------------------------------------------------------------------------------
def find_libdevice() -> Path:
    """libdevice.10.bc: in the CUDA home that $CUDA_HOME or $CUDA_PATH names, else through
    cuda-pathfinder, /usr/local/cuda, or the nvidia-cuda-nvcc wheel. The named home comes first:
    the user chose it, and it costs a stat where importing cuda-pathfinder costs ~50 ms of a warm
    `run(0*ms)` (the kernel cache's key hashes libdevice, docs/performance.md)."""
    for variable in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(variable):
            named = Path(os.environ[variable]) / "nvvm" / "libdevice" / "libdevice.10.bc"
            if named.is_file():
                return named
    try:
        from cuda import pathfinder

        return Path(pathfinder.find_bitcode_lib("device"))
    except Exception:  # not installed, or it found nothing: try the usual places ourselves
        pass
    candidates = [Path("/usr/local/cuda/nvvm/libdevice/libdevice.10.bc")]
    try:
        import nvidia.cuda_nvcc as wheel

        for root in wheel.__path__:
            candidates.append(Path(root) / "nvvm" / "libdevice" / "libdevice.10.bc")
    except ImportError:
        pass
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ToolchainError("libdevice (libdevice.10.bc) not found",
                         hint="`pip install nvidia-cuda-nvcc-cu12` (or cuda-pathfinder with a CUDA "
                              "toolkit), or set CUDA_HOME")


_LIBDEVICE: dict[Path, tuple[llvm.ModuleRef, str]] = {}
_LIBDEVICE_HASHES: dict[Path, str] = {}


def libdevice_hash(path: Path | None = None) -> str:
    """A short hash of libdevice's bitcode for cache keys, read once per process and not parsed:
    a kernel-cache hit needs only the key (parsing costs ~40 ms)."""
    path = path or find_libdevice()
    if path not in _LIBDEVICE_HASHES:
        _LIBDEVICE_HASHES[path] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    return _LIBDEVICE_HASHES[path]


def libdevice_module(path: Path | None = None) -> tuple[llvm.ModuleRef, str]:
    """(libdevice parsed, `libdevice_hash`), read and parsed once per process; link a `clone()`
    of it (linking consumes the module)."""
    path = path or find_libdevice()
    if path not in _LIBDEVICE:
        _LIBDEVICE[path] = (llvm.parse_bitcode(path.read_bytes()), libdevice_hash(path))
    return _LIBDEVICE[path]


_MACHINES: dict[str, llvm.TargetMachine] = {}


def nvptx_target_machine(arch: str) -> llvm.TargetMachine:
    """The NVPTX target machine for `arch` (created once per process and kept: LLVM objects made
    from it must not outlive it)."""
    if not _INITIALIZED:
        llvm.initialize_all_targets()
        llvm.initialize_all_asmprinters()
        _INITIALIZED.append(True)
    if arch not in _MACHINES:
        _MACHINES[arch] = llvm.Target.from_triple(TRIPLE).create_target_machine(cpu=arch, opt=3)
    return _MACHINES[arch]


@dataclass
class PtxTimings:
    lower: float = 0.0
    link: float = 0.0
    optimize: float = 0.0
    codegen: float = 0.0

    @property
    def total(self) -> float:
        return self.lower + self.link + self.optimize + self.codegen


def generate_ptx(text: CudaModuleText, arch: str = DEFAULT_ARCH, internalize: bool = True,
                 timings: PtxTimings | None = None) -> str:
    """PTX for `text`: libdevice linked in, its functions internalized (unless `internalize` is
    false, which is only for measuring why it matters), O3, then the NVPTX assembly printer."""
    timings = timings if timings is not None else PtxTimings()
    machine = nvptx_target_machine(arch)
    start = time.perf_counter()
    module = llvm.parse_assembly(str(text.lowered.llvm_module))
    entries = {f.name for f in module.functions if not f.is_declaration and f.name.startswith("spikec_")
               and not f.name.startswith("spikec.")}
    if any(f.is_declaration and f.name.startswith("__nv_") for f in module.functions):
        libdevice, _ = libdevice_module()
        module.link_in(libdevice.clone())
        if internalize:
            for function in module.functions:
                if not function.is_declaration and function.name not in entries:
                    function.linkage = "internal"
            for variable in module.global_variables:
                if not variable.is_declaration:
                    variable.linkage = "internal"
            dead = llvm.create_new_module_pass_manager()  # drop unused libdevice before O3 sees it
            dead.add_global_dead_code_eliminate_pass()
            dead_builder = llvm.create_pass_builder(machine, llvm.create_pipeline_tuning_options())
            dead.run(module, dead_builder)
    module.verify()
    timings.link = time.perf_counter() - start
    start = time.perf_counter()
    tuning = llvm.create_pipeline_tuning_options(speed_level=3)
    passes = llvm.create_pass_builder(machine, tuning)
    passes.getModulePassManager().run(module, passes)
    timings.optimize = time.perf_counter() - start
    start = time.perf_counter()
    ptx = machine.emit_assembly(module)
    timings.codegen = time.perf_counter() - start
    return ptx
