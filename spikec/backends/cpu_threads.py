"""Threads for the CPU target: the native tick loop run by T threads, results bit-identical to one.

Every thread runs the whole schedule loop (`@spikec_worker`) on a private copy of the state words
(seed, clock steps, error words, plus two words giving the position range of the current launch);
the thread-0 copy becomes the executable's state after the run. Per launch:

* A *split* launch (an `elements(N)` kernel whose elements cannot see each other: every store and
  atomic_add at the element's own index, arrays it writes loaded only there, its spike lists not
  otherwise touched, N >= 2 * grain) runs on every thread over a contiguous range of positions
  (chunks of ceil(N / T) rounded up to a multiple of `grain`, 64 by default, so that threads do not
  share cache lines), then all threads meet at a barrier. `emit_spike` appends: thread 0 into the
  list itself, thread t > 0 into a private buffer of the list's size; the merge below appends the
  buffers in thread order, so the list holds the sequential order.
* Everything else (spike-list clears, kernels over `spikes(...)` spaces, kernels with stores at
  other indices, float atomics onto shared places, small kernels) is *serial*: thread 0 runs it
  over the whole range while the others wait at the next barrier.

Serial work between two split launches forms one section on thread 0: the merge of the previous
split launch's spike buffers and error words, then the clears and serial launches up to the next
split launch; then a barrier. When anything in the section can record an error, thread 0 sets a
shared stop word after the first launch that recorded one (the same launch after which the
single-threaded loop stops), and every thread reads it after the barrier and returns. So a tick
costs one barrier per split launch plus one per non-empty serial section (COBAHH: 3).

Errors of a split launch: each thread records into its own state words; the merge keeps the last
one in thread order (as the sequential loop keeps the last one in element order), an overflow of
the merged list counting as recorded after the errors of the thread whose spikes overflowed. When
one thread's range records two different errors the report may name a different one of them than
the single thread does; the arrays are the same.

Threads: `@spikec_run_threads(shared)` starts T - 1 pthreads (`pthread_create`, resolved from
libc in the process), which wait until all exist (if one cannot be created, none runs and the
call returns -1), runs thread 0 itself and joins them. ctypes releases the GIL around the call.
`pthread_barrier_wait` is the barrier (futex based, so more threads than cores, as in the tests,
cost time but never hang).
"""

from __future__ import annotations

import ctypes
import os
import weakref
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir

from spikec.backends.abi import STATE_ERROR, STATE_ERROR_VALUE, ClearPlan, LaunchPlan, ModulePlan
from spikec.backends.lower_to_llvm import I32, I64, MEMORY_TYPES, LoweredModule, lower_module
from spikec.backends.schedule_llvm import (advance_steps, clear_spikes, due_flags, launch_arguments,
                                           state_pointer, tick_loop)
from spikec.errors import KernelRuntimeError, SpikecError
from spikec.ir.index_spaces import Elements, Spikes
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_ops import (AtomicAddOp, ConstantOp, EmitSpikeOp, LoadOp, MathOp, RandNormalOp,
                                  RandUniformOp, StoreOp)

RUN_THREADS_FUNCTION = "spikec_run_threads"
GRAIN = 64                       # positions per chunk are a multiple of this
ENVIRONMENT = "SPIKEC_CPU_THREADS"
# Estimated cost of one element of a split kernel, in units of a simple op (`work_per_element`);
# a thread is worth adding per WORK_PER_THREAD units per tick (calibrated in docs/performance.md).
WORK_PER_THREAD = 200_000
HEAVY_OP_WEIGHT = 20             # a libm call, a random draw

# Words of the shared block (`ThreadedRunner.shared`), all 64-bit.
(SHARED_ARRAYS, SHARED_THREADS, SHARED_BARRIER, SHARED_STOP, SHARED_GO, SHARED_TICKS, SHARED_STATES,
 SHARED_LISTS, SHARED_TIDS, SHARED_CONTEXTS) = range(10)
SHARED_WORDS = 10
BARRIER_BYTES = 128              # >= sizeof(pthread_barrier_t) (32 on x86-64 and aarch64 glibc)
INT64_MAX = 2**63 - 1


# -- which launches split ---------------------------------------------------------------------------------
@dataclass
class KernelThreading:
    """How the threaded program runs one kernel."""

    split: bool
    can_error: bool
    work_per_element: int
    checks: int = 0                                           # record_error sites in its code
    emit_codes: dict[str, int] = field(default_factory=dict)  # list -> its overflow error code


def splittable(kernel: KernelOp, grain: int) -> bool:
    """Whether the kernel's elements are independent, so that ranges may run in any order."""
    space = kernel.space
    if not isinstance(space, Elements) or space.size < 2 * grain:
        return False
    index = kernel.index
    written, emitted, touched_at_other = set(), set(), set()
    for op in kernel.body.ops:
        if isinstance(op, (StoreOp, AtomicAddOp)):
            written.add(op.array.name)
            if op.index is not index:
                return False
        elif isinstance(op, LoadOp) and op.index is not index:
            touched_at_other.add(op.array.name)
        elif isinstance(op, EmitSpikeOp):
            emitted.add(op.spike_list.name)
    accessed = {op.array.name for op in kernel.body.ops if isinstance(op, (LoadOp, StoreOp, AtomicAddOp))}
    return not (written & touched_at_other) and not (emitted & accessed)


def analyze(plan: ModulePlan, grain: int = GRAIN) -> dict[str, KernelThreading]:
    """Per kernel: split or serial, whether its code can record an error, and the error codes of its
    emit_spike overflows. The codes follow `lower_module`'s order of `record_error` calls (kernels in
    module order; per kernel the spike-count check, then each op in order); `check_error_codes`
    compares them with the lowered module's messages."""
    result, code = {}, 0
    for name, kernel in plan.kernels.items():
        checks, emit_codes = 0, {}
        if isinstance(kernel.space, Spikes):
            checks += 1
        for op in kernel.body.ops:
            if isinstance(op, (LoadOp, StoreOp, AtomicAddOp)) and not _index_elided(plan, kernel, op):
                checks += 1
            elif isinstance(op, EmitSpikeOp):
                checks += 1
                emit_codes[op.spike_list.name] = code + checks
        result[name] = KernelThreading(splittable(kernel, grain), checks > 0, work_per_element(kernel), checks,
                                       emit_codes)
        code += checks
    return result


def _index_elided(plan: ModulePlan, kernel: KernelOp, op) -> bool:
    """Mirror of `KernelLowering.checked_index`: the accesses whose range check is not emitted."""
    length = plan.arrays[op.array.name].length
    if op.index is kernel.index and isinstance(kernel.space, Elements) and kernel.space.size <= length:
        return True
    producer = getattr(op.index, "op", None)
    return isinstance(producer, ConstantOp) and 0 <= producer.value < length


def check_error_codes(lowered: LoweredModule, analysis: dict[str, KernelThreading]) -> None:
    """When the lowering's error messages do not follow `analyze`'s count, fall back to 'every
    kernel can record an error' (correct, a barrier more) and look overflow messages up by text."""
    errors = lowered.errors
    if sum(info.checks for info in analysis.values()) == len(errors) and all(
            errors[code - 1].startswith("spike list") and "overflows" in errors[code - 1]
            for info in analysis.values() for code in info.emit_codes.values()):
        return
    for kernel, info in analysis.items():
        info.can_error = True
        for name in info.emit_codes:
            matches = [i + 1 for i, message in enumerate(errors)
                       if "overflows" in message and name in message and message.endswith(f"@{kernel}")]
            info.emit_codes[name] = matches[0] if matches else 1


def work_per_element(kernel: KernelOp) -> int:
    heavy = (MathOp, RandNormalOp, RandUniformOp)
    return sum(HEAVY_OP_WEIGHT if isinstance(op, heavy) and getattr(op, "function", "exp") not in
               ("abs", "sign", "sqrt", "floor", "ceil", "trunc") else 1 for op in kernel.body.ops)


# -- the thread-count policy ------------------------------------------------------------------------------
def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def work_per_tick(plan: ModulePlan, analysis: dict[str, KernelThreading]) -> int:
    """Estimated work of the split launches of one tick of the fastest clock (simple-op units)."""
    return sum(plan.kernels[step.kernel].space.size * analysis[step.kernel].work_per_element
               for step in plan.steps if isinstance(step, LaunchPlan) and analysis[step.kernel].split)


def requested_threads(threads: int | str | None) -> int | None:
    """The explicit thread count: the `threads=` option, else $SPIKEC_CPU_THREADS; None for the
    policy ('auto', 0 or unset)."""
    source = "threads="
    if threads is None:
        threads, source = os.environ.get(ENVIRONMENT, "").strip() or None, f"${ENVIRONMENT}"
    if threads is None or (isinstance(threads, str) and threads.lower() == "auto"):
        return None
    try:
        count = int(threads)
    except (TypeError, ValueError):
        count = -1
    if count < 0:
        raise SpikecError(f"{source}{threads!r} is not a thread count for the CPU backend",
                          hint="give a positive integer, or 0 / 'auto' to let spikec choose")
    return count or None


def choose_threads(plan: ModulePlan, analysis: dict[str, KernelThreading], threads: int | str | None = None,
                   cores: int | None = None) -> int:
    """How many threads run the tick loop: 1 when no launch splits; the explicit count when one is
    given; else one thread per WORK_PER_THREAD units of split work per tick, at most the cores this
    process may use."""
    work = work_per_tick(plan, analysis)
    requested = requested_threads(threads)
    if work == 0:
        return 1
    if requested is not None:
        return requested
    cores = available_cores() if cores is None else cores
    return max(1, min(cores, work // WORK_PER_THREAD))


# -- lowering -----------------------------------------------------------------------------------------------
class ThreadedCpuHooks:
    """Mixin over `CpuHooks`: a launch's positions are ``state[range_slot] .. state[range_slot + 1]``
    (clipped to the count), the range each thread writes into its private state before the call."""

    range_slot = 0

    def kernel_prologue(self, builder: ir.IRBuilder, state: ir.Value, clock: ir.Value,
                        exit_block: ir.Block) -> None:
        self._state = state

    def element_range(self, builder: ir.IRBuilder) -> tuple[ir.Value, ir.Value]:
        return builder.load(state_pointer(builder, self._state, self.range_slot), typ=I64), ir.Constant(I64, 1)

    def position_end(self, builder: ir.IRBuilder, count: ir.Value) -> ir.Value:
        end = builder.load(state_pointer(builder, self._state, self.range_slot + 1), typ=I64)
        return builder.select(builder.icmp_signed("<", count, end), count, end)


def lower_threaded(plan: ModulePlan, base_hooks: type, grain: int = GRAIN) -> LoweredModule:
    """The module with `@spikec_run_threads` (and no `@spikec_run`)."""
    analysis = analyze(plan, grain)
    hooks_class = type("ThreadedHooks", (ThreadedCpuHooks, base_hooks), {"range_slot": plan.state_length})
    lowered = lower_module(plan, hooks_class())
    check_error_codes(lowered, analysis)
    ThreadedBuilder(lowered, analysis, grain).build()
    return lowered


@contextmanager
def counted_loop(builder: ir.IRBuilder, start: ir.Value, stop: ir.Value, name: str):
    """``for (i = start; i < stop; i++)``, yielding i; the builder ends after the loop."""
    function = builder.function
    before = builder.block
    header = function.append_basic_block(f"{name}.header")
    body = function.append_basic_block(f"{name}.body")
    done = function.append_basic_block(f"{name}.done")
    builder.branch(header)
    builder.position_at_end(header)
    index = builder.phi(I64, name=name)
    index.add_incoming(start, before)
    builder.cbranch(builder.icmp_signed("<", index, stop), body, done)
    builder.position_at_end(body)
    yield index
    if not builder.block.is_terminated:
        index.add_incoming(builder.add(index, ir.Constant(I64, 1)), builder.block)
        builder.branch(header)
    builder.position_at_end(done)


def release_store(builder: ir.IRBuilder, value: ir.Value, pointer: ir.Value) -> None:
    """``store atomic ... release`` (llvmlite's `store_atomic` needs typed pointers)."""
    builder._insert(ir.instructions.StoreAtomicInstr(builder.block, value, pointer, "release", 8))


def word(builder: ir.IRBuilder, base: ir.Value, index: int | ir.Value) -> ir.Value:
    index = ir.Constant(I64, index) if isinstance(index, int) else index
    return builder.gep(base, [index], source_etype=I64)


class ThreadedBuilder:
    """Defines `@spikec_worker`, `@spikec_thread` and `@spikec_run_threads` (module docstring)."""

    def __init__(self, lowered: LoweredModule, analysis: dict[str, KernelThreading], grain: int):
        self.grain = grain
        self.lowered = lowered
        self.plan = lowered.plan
        self.module = lowered.llvm_module
        self.analysis = analysis
        self.kernels = {name: self.module.globals[abi.function_name] for name, abi in lowered.kernels.items()}
        pointer = self.pointer = ir.PointerType()
        declare = lambda name, ret, args: ir.Function(self.module, ir.FunctionType(ret, args), name)
        self.barrier_wait = declare("pthread_barrier_wait", I32, [pointer])
        self.pthread_create = declare("pthread_create", I32, [pointer, pointer, pointer, pointer])
        self.pthread_join = declare("pthread_join", I32, [I64, pointer])
        self.sched_yield = declare("sched_yield", I32, [])
        self.memcpy = self.module.declare_intrinsic("llvm.memcpy", [pointer, pointer, I64])

    def build(self) -> None:
        worker = self.build_worker()
        thread = self.build_thread(worker)
        self.build_run_threads(worker, thread)

    # -- the tick loop of one thread --------------------------------------------------------------
    def build_worker(self) -> ir.Function:
        plan, pointer = self.plan, self.pointer
        function = ir.Function(self.module, ir.FunctionType(I64, [pointer, I64]), "spikec_worker")
        function.linkage = "internal"
        shared, thread = function.args
        b = self.builder = ir.IRBuilder(function.append_basic_block("entry"))
        load_pointer = lambda base, i: b.load(word(b, base, i), typ=pointer)
        self.thread = thread
        self.threads = b.load(word(b, shared, SHARED_THREADS), typ=I64)
        self.barrier = load_pointer(shared, SHARED_BARRIER)
        self.stop = word(b, shared, SHARED_STOP)
        self.states = load_pointer(shared, SHARED_STATES)
        self.state = load_pointer(self.states, thread)
        self.lists = load_pointer(shared, SHARED_LISTS)
        self.my_lists = load_pointer(self.lists, thread)
        self.is_main = b.icmp_signed("==", thread, ir.Constant(I64, 0))
        table = load_pointer(shared, SHARED_ARRAYS)
        self.arrays = {name: load_pointer(table, i) for i, name in enumerate(plan.arrays)}
        ticks = b.load(word(b, shared, SHARED_TICKS), typ=I64)
        self.tick, done = tick_loop(b, ticks)
        self.due = due_flags(b, plan, self.state)
        serial: list = []
        for step in plan.steps:
            if isinstance(step, LaunchPlan) and self.analysis[step.kernel].split:
                self.serial_section(serial)
                self.split_launch(step)
                info = self.analysis[step.kernel]
                serial = [("merge", step)] if info.emit_codes or info.can_error else []
            else:
                serial.append(("clear" if isinstance(step, ClearPlan) else "launch", step))
        self.serial_section(serial)
        advance_steps(b, plan, self.state, self.due)
        self.tick.add_incoming(b.add(self.tick, ir.Constant(I64, 1)), b.block)
        b.branch(self.tick.parent)
        b.position_at_end(done)
        b.ret(ticks)
        return function

    def set_range(self, state: ir.Value, start: ir.Value, end: ir.Value) -> None:
        b, slot = self.builder, self.plan.state_length
        b.store(start, state_pointer(b, state, slot))
        b.store(end, state_pointer(b, state, slot + 1))

    def call_kernel(self, step: LaunchPlan, arrays: dict[str, ir.Value], state: ir.Value) -> None:
        arguments = launch_arguments(self.lowered, step, arrays, state)
        self.builder.call(self.kernels[step.kernel], arguments)

    def split_launch(self, step: LaunchPlan) -> None:
        b = self.builder
        info = self.analysis[step.kernel]
        size = ir.Constant(I64, self.plan.kernels[step.kernel].space.size)
        grain = ir.Constant(I64, self.grain)
        with b.if_then(self.due[step.clock]):
            one = ir.Constant(I64, 1)
            share = b.udiv(b.sub(b.add(size, self.threads), one), self.threads)
            chunk = b.mul(b.udiv(b.sub(b.add(share, grain), one), grain), grain)
            umin = lambda x, y: b.select(b.icmp_unsigned("<", x, y), x, y)
            start = umin(b.mul(self.thread, chunk), size)
            self.set_range(self.state, start, umin(b.add(start, chunk), size))
            arrays = dict(self.arrays)
            for name in info.emit_codes:
                own = b.load(word(b, self.my_lists, self.plan.array_index[name]), typ=self.pointer)
                arrays[name] = own
                with b.if_then(b.not_(self.is_main)):
                    clear_spikes(b, self.plan, name, own)
            self.call_kernel(step, arrays, self.state)
            b.call(self.barrier_wait, [self.barrier])

    # -- thread 0's sections ------------------------------------------------------------------
    def serial_section(self, ops: list) -> None:
        if not ops:
            return
        b = self.builder
        end = b.function.append_basic_block("section.end")
        can_error = False
        with b.if_then(self.is_main):
            for kind, step in ops:
                with b.if_then(self.due[step.clock]):
                    if kind == "clear":
                        clear_spikes(b, self.plan, step.spike_list, self.arrays[step.spike_list])
                        continue
                    info = self.analysis[step.kernel]
                    if kind == "merge":
                        self.merge(step, info)
                    else:
                        self.set_range(self.state, ir.Constant(I64, 0), ir.Constant(I64, INT64_MAX))
                        self.call_kernel(step, self.arrays, self.state)
                    if info.can_error:
                        can_error = True
                        error = b.load(state_pointer(b, self.state, STATE_ERROR), typ=I64)
                        with b.if_then(b.icmp_signed("!=", error, ir.Constant(I64, 0)), likely=False):
                            b.store(ir.Constant(I64, 1), self.stop)
                            b.branch(end)
        b.branch(end)
        b.position_at_end(end)
        b.call(self.barrier_wait, [self.barrier])
        if can_error:
            stopped = b.load(self.stop, typ=I64)
            with b.if_then(b.icmp_signed("!=", stopped, ir.Constant(I64, 0)), likely=False):
                b.ret(self.tick)

    def merge(self, step: LaunchPlan, info: KernelThreading) -> None:
        """Thread 0 after a split launch: per thread t > 0 in order, its error words, then its
        spike buffers appended to the lists (an overflow recorded as the sequential loop does)."""
        b, plan = self.builder, self.plan
        state0 = self.state
        with counted_loop(b, ir.Constant(I64, 1), self.threads, "merge") as t:
            other = b.load(word(b, self.states, t), typ=self.pointer)
            if info.can_error:
                error = b.load(state_pointer(b, other, STATE_ERROR), typ=I64)
                with b.if_then(b.icmp_signed("!=", error, ir.Constant(I64, 0))):
                    b.store(error, state_pointer(b, state0, STATE_ERROR))
                    value = b.load(state_pointer(b, other, STATE_ERROR_VALUE), typ=I64)
                    b.store(value, state_pointer(b, state0, STATE_ERROR_VALUE))
            lists = b.load(word(b, self.lists, t), typ=self.pointer)
            for name, code in info.emit_codes.items():
                array = plan.arrays[name]
                element = MEMORY_TYPES[array.element_type]
                size = ir.Constant(I64, element.width // 8)
                capacity = ir.Constant(I64, array.length - 1)
                buffer = b.load(word(b, lists, plan.array_index[name]), typ=self.pointer)
                target = self.arrays[name]
                count_pointer = b.gep(target, [capacity], source_etype=element)
                emitted = b.sext(b.load(b.gep(buffer, [capacity], source_etype=element), typ=element), I64)
                count = b.sext(b.load(count_pointer, typ=element), I64)
                valid = b.icmp_unsigned("<", count, capacity)
                room = b.select(valid, b.sub(capacity, count), ir.Constant(I64, 0))
                taken = b.select(b.icmp_unsigned("<", emitted, room), emitted, room)
                destination = b.gep(target, [b.select(valid, count, ir.Constant(I64, 0))], source_etype=element)
                b.call(self.memcpy, [destination, buffer, b.mul(taken, size), ir.Constant(ir.IntType(1), 0)])
                b.store(b.trunc(b.add(count, taken), element) if element.width < 64 else b.add(count, taken),
                        count_pointer)
                with b.if_then(b.icmp_unsigned(">", emitted, taken), likely=False):
                    b.store(ir.Constant(I64, code), state_pointer(b, state0, STATE_ERROR))
                    b.store(b.select(valid, capacity, count), state_pointer(b, state0, STATE_ERROR_VALUE))

    # -- thread start -----------------------------------------------------------------------------
    def build_thread(self, worker: ir.Function) -> ir.Function:
        """``void *spikec_thread(void *context)``: wait for the go word, run the worker."""
        pointer = self.pointer
        function = ir.Function(self.module, ir.FunctionType(pointer, [pointer]), "spikec_thread")
        function.linkage = "internal"
        b = ir.IRBuilder(function.append_basic_block("entry"))
        (context,) = function.args
        shared = b.load(word(b, context, 0), typ=pointer)
        thread = b.load(word(b, context, 1), typ=I64)
        go = word(b, shared, SHARED_GO)
        wait = function.append_basic_block("wait")
        check = function.append_basic_block("check")
        run = function.append_basic_block("run")
        leave = function.append_basic_block("leave")
        b.branch(wait)
        b.position_at_end(wait)
        state = b.load_atomic(go, "acquire", 8, typ=I64)
        b.cbranch(b.icmp_signed("==", state, ir.Constant(I64, 0)), check, run)
        b.position_at_end(check)
        b.call(self.sched_yield, [])
        b.branch(wait)
        b.position_at_end(run)
        with b.if_then(b.icmp_signed("==", state, ir.Constant(I64, 1))):
            b.call(worker, [shared, thread])
        b.branch(leave)
        b.position_at_end(leave)
        b.ret(ir.Constant(pointer, None))
        return function

    def build_run_threads(self, worker: ir.Function, thread_main: ir.Function) -> None:
        """``i64 spikec_run_threads(shared)``: ticks completed, or -1 when a thread could not start."""
        pointer = self.pointer
        function = ir.Function(self.module, ir.FunctionType(I64, [pointer]), RUN_THREADS_FUNCTION)
        (shared,) = function.args
        b = ir.IRBuilder(function.append_basic_block("entry"))
        threads = b.load(word(b, shared, SHARED_THREADS), typ=I64)
        tids = b.load(word(b, shared, SHARED_TIDS), typ=pointer)
        contexts = b.load(word(b, shared, SHARED_CONTEXTS), typ=pointer)
        go = word(b, shared, SHARED_GO)
        created = b.alloca(I64)
        b.store(ir.Constant(I64, 1), created)
        failed = function.append_basic_block("failed")
        with counted_loop(b, ir.Constant(I64, 1), threads, "create") as t:
            context = word(b, contexts, b.mul(t, ir.Constant(I64, 2)))
            code = b.call(self.pthread_create, [word(b, tids, t), ir.Constant(pointer, None), thread_main, context])
            with b.if_then(b.icmp_signed("!=", code, ir.Constant(I32, 0)), likely=False):
                b.branch(failed)
            b.store(b.add(t, ir.Constant(I64, 1)), created)
        release_store(b, ir.Constant(I64, 1), go)
        result = b.call(worker, [shared, ir.Constant(I64, 0)])
        self.join(b, tids, threads)
        b.ret(result)
        b.position_at_end(failed)
        release_store(b, ir.Constant(I64, 2), go)
        self.join(b, tids, b.load(created, typ=I64))
        b.ret(ir.Constant(I64, -1))

    def join(self, b: ir.IRBuilder, tids: ir.Value, count: ir.Value) -> None:
        with counted_loop(b, ir.Constant(I64, 1), count, "join") as t:
            b.call(self.pthread_join, [b.load(word(b, tids, t), typ=I64), ir.Constant(self.pointer, None)])


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def register_thread_symbols() -> None:
    """Give MCJIT the addresses of the libc functions the threaded program calls."""
    libc = _libc()
    for name in ("pthread_barrier_wait", "pthread_create", "pthread_join", "sched_yield"):
        llvm.add_symbol(name, ctypes.cast(getattr(libc, name), ctypes.c_void_p).value)


def threads_supported() -> str:
    """'' when this process can run the threaded program, else why not."""
    libc = _libc()
    missing = [n for n in ("pthread_barrier_init", "pthread_barrier_wait", "pthread_create") if not hasattr(libc, n)]
    return f"libc lacks {', '.join(missing)}" if missing else ""


# -- running it ---------------------------------------------------------------------------------------------
class ThreadedRunner:
    """The memory one threaded executable's runs share: private states, spike buffers, the barrier,
    thread ids; `run(state, ticks)` copies the state in and out."""

    def __init__(self, run_threads, plan: ModulePlan, arrays: dict[str, np.ndarray], table: np.ndarray,
                 analysis: dict[str, KernelThreading], threads: int):
        self.run_threads = run_threads
        self.plan = plan
        self.threads = threads
        self.states = np.zeros((threads, plan.state_length + 2), dtype=np.int64)
        emitted = sorted({name for info in analysis.values() if info.split for name in info.emit_codes})
        self.buffers = [{name: arrays[name] if t == 0 else np.zeros_like(arrays[name]) for name in emitted}
                        for t in range(threads)]
        self.list_tables = np.zeros((threads, max(1, len(plan.arrays))), dtype=np.uint64)
        for t, buffers in enumerate(self.buffers):
            for name, buffer in buffers.items():
                self.list_tables[t, plan.array_index[name]] = buffer.ctypes.data
        self.state_table = np.array([row.ctypes.data for row in self.states], dtype=np.uint64)
        self.list_table = np.array([row.ctypes.data for row in self.list_tables], dtype=np.uint64)
        self.tids = np.zeros(threads, dtype=np.uint64)
        self.barrier = np.zeros(BARRIER_BYTES // 8, dtype=np.uint64)
        self.shared = np.zeros(SHARED_WORDS, dtype=np.uint64)
        self.contexts = np.zeros((threads, 2), dtype=np.uint64)
        self.contexts[:, 0] = self.shared.ctypes.data
        self.contexts[:, 1] = np.arange(threads)
        self.table = table
        libc = _libc()
        init = libc.pthread_barrier_init
        init.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint]
        if init(self.barrier.ctypes.data, None, threads) != 0:
            raise KernelRuntimeError(f"pthread_barrier_init failed for {threads} threads")
        destroy = libc.pthread_barrier_destroy
        destroy.argtypes = [ctypes.c_void_p]
        weakref.finalize(self, destroy, self.barrier.ctypes.data)
        words = {SHARED_ARRAYS: table.ctypes.data, SHARED_THREADS: threads, SHARED_BARRIER: self.barrier.ctypes.data,
                 SHARED_STATES: self.state_table.ctypes.data, SHARED_LISTS: self.list_table.ctypes.data,
                 SHARED_TIDS: self.tids.ctypes.data, SHARED_CONTEXTS: self.contexts.ctypes.data}
        for slot, value in words.items():
            self.shared[slot] = value

    def run(self, state: np.ndarray, ticks: int) -> None:
        length = self.plan.state_length
        self.states[:, :length] = state
        self.states[:, length:] = 0
        self.shared[SHARED_STOP] = self.shared[SHARED_GO] = 0
        self.shared[SHARED_TICKS] = ticks
        if self.run_threads(self.shared.ctypes.data) < 0:
            raise KernelRuntimeError(f"could not start {self.threads} threads for the CPU backend",
                                     hint=f"use fewer (threads=... or ${ENVIRONMENT})")
        state[:] = self.states[0, :length]
