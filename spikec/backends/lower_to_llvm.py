"""lower-to-llvm: kernel IR to llvmlite IR, once for every target, with small `TargetHooks`.

Every kernel becomes one function (all are declared before any body is built):

    void @spikec_k<i>_<name>(ptr %array..., ptr %state, i64 %clock, double %dt,
                             [ptr %flags, ptr %values, ptr %count per emit_spike, if the target
                              compacts spikes after the kernel], <invariant parameters>...)

`%array...` are the arrays the kernel touches, in module order; `%state` the int64 state words
(`spikec.backends.abi`); `%clock`/`%dt` those of the launch, from which the body's step and time
come (``step = state[3 + clock]``, ``time = step * dt``, the interpreter's product). The body runs in
a loop ``for (p = start; p < n; p += stride)`` over positions of the index space, `start`/`stride`
given by the hooks (0/1 on the CPU, the global thread id / grid size on the GPU); the element index
is p (``elements(N)``) or ``list[p]`` (``spikes(@list)``, n being the list's count at entry).

The synapse spaces are row spaces: a position is a row of a CSR structure, and an inner loop runs
the row's elements in order, ``for (j = offsets[r]; j < offsets[r + 1]; j++) body(items[j])``:
``outgoing(@list, @offsets, @items)`` has a position per spiking source (r = ``list[p]``, n the
list's count), ``segments(@offsets, @items, N)`` a position per segment (r = p, n = N). So one
invocation runs a source's synapses or a whole segment, in order. A target may instead give each
row to a group of L invocations (`TargetHooks.row_lanes`, the GPU for rows whose order does not
matter, `spikec.backends.row_order`): the groups stride the positions and lane l of a group runs
``for (j = offsets[r] + l; j < offsets[r + 1]; j += L)``. A row outside the offsets, or offsets
that decrease, are negative or pass the items' length, record an error and end the invocation
(the interpreter checks them before running any element).

Semantics kept from the interpreter (`spikec.ir.interpreter`): integer x/0 and x%0 are 0; floor
division and remainder follow Python; casts of nan or out-of-range floats to integers give the
integer minimum (what numpy gives on x86); min/max propagate nan; bools are i1 in registers and one
byte in memory. Array accesses whose index is not provably in range are checked: an out-of-range
access is skipped (a load reads element 0) and records an error in ``state[1]``/``state[2]``, which
the executable turns into a `KernelRuntimeError` naming the kernel and op.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Callable

from llvmlite import ir

from spikec.backends import philox_llvm
from spikec.backends.loop_hints import hint_loop
from spikec.backends.abi import (STATE_CLOCKS, STATE_ERROR, STATE_ERROR_VALUE, STATE_SEED, ModulePlan,
                                 kernel_parameters, symbol_name)
from spikec.backends.errors import UnsupportedOpError
from spikec.ir.core import Op, Value
from spikec.ir.history_spaces import History, Positions
from spikec.ir.index_spaces import Elements, Outgoing, Segments, Spikes
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_ops import (AddOp, AndOp, AtomicAddOp, CastOp, CmpOp, ConstantOp, DivOp,
                                  EmitSpikeOp, FloorDivOp, LoadOp, MathOp, MaxOp, MinOp, ModOp, MulOp,
                                  NegOp, NotOp, OrOp, PowOp, RandNormalOp, RandUniformOp, SelectOp,
                                  StepOp, StoreOp, SubOp, TimeOp)
from spikec.ir.printer import describe_op
from spikec.ir.types import Type

I1, I8, I32, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(32), ir.IntType(64)
F32, F64 = ir.FloatType(), ir.DoubleType()
VOID = ir.VoidType()
REGISTER_TYPES = {Type.F64: F64, Type.F32: F32, Type.I32: I32, Type.I64: I64, Type.BOOL: I1}
MEMORY_TYPES = {**REGISTER_TYPES, Type.BOOL: I8}
# Functions every target must spell (name -> arity); sqrt floor ceil trunc fabs are LLVM intrinsics.
LIBRARY_FUNCTIONS = {"exp": 1, "log": 1, "log10": 1, "log2": 1, "sin": 1, "cos": 1, "tan": 1,
                     "sinh": 1, "cosh": 1, "tanh": 1, "asin": 1, "acos": 1, "atan": 1, "expm1": 1,
                     "log1p": 1, "atan2": 2, "pow": 2, "fmod": 2}
INTRINSICS = {"sqrt": "llvm.sqrt", "floor": "llvm.floor", "ceil": "llvm.ceil", "trunc": "llvm.trunc",
              "fabs": "llvm.fabs"}
IR_TO_LIBRARY = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arctan2": "atan2"}


class TargetHooks:
    """What differs between targets. Subclasses set the triple and data layout and override the
    methods below; the defaults are those of a sequential CPU loop."""

    name = "generic"
    triple = ""
    data_layout = ""
    # Whether emit_spike writes per-position flags for an ordered compaction after the kernel
    # (GPU) instead of appending directly (sequential CPU loop).
    compacts_spikes = False
    # Positions per block of the flag-then-append form of an `elements(N)` kernel's emit_spike
    # (`KernelLowering.lower_spike_blocks`, the CPU); 0 appends inside the element loop.
    spike_block = 0
    # Vector iterations of a spike block's element loop in flight (`llvm.loop.interleave.count`;
    # 0 leaves it to LLVM).
    spike_block_interleave = 0
    # Trailing parameters of every kernel function, read by the target's own hooks (the grid
    # tick kernel passes the part of the grid a kernel runs on).
    trailing_parameters: tuple[ir.Type, ...] = ()

    def library_function_name(self, name: str, type: Type) -> str:
        """The symbol of libm-style function `name` (``exp``) for `type`."""
        return name if type is Type.F64 else name + "f"

    def configure_kernel(self, function: ir.Function) -> None:
        """Linkage, calling convention, target annotations of a kernel function."""

    def element_range(self, builder: ir.IRBuilder) -> tuple[ir.Value, ir.Value]:
        """(start, stride) of this invocation's positions, as i64."""
        return ir.Constant(I64, 0), ir.Constant(I64, 1)

    def row_lanes(self, plan: ModulePlan, kernel: KernelOp) -> int:
        """How many invocations share each row of a row space, striding its elements (a power of
        two); 1 walks every row in order in one invocation (the sequential CPU loop)."""
        return 1

    def lane_range(self, builder: ir.IRBuilder, lanes: int) -> tuple[ir.Value, ir.Value, ir.Value]:
        """(start, stride, lane) as i64 where groups of `lanes` invocations share a position: the
        group's first position, the stride between its positions, this invocation's lane."""
        raise NotImplementedError(f"{self.name}: rows shared by {lanes} invocations")

    def position_end(self, builder: ir.IRBuilder, count: ir.Value) -> ir.Value:
        """Where this invocation's positions end, given the launch's count (the CPU's threads
        each take a sub-range)."""
        return count

    def kernel_prologue(self, builder: ir.IRBuilder, state: ir.Value, clock: ir.Value,
                        exit_block: ir.Block) -> None:
        """Code at kernel entry (the GPU returns early when the launch's clock is not due)."""

    def clock_word(self, builder: ir.IRBuilder, state: ir.Value, slot: ir.Value) -> ir.Value:
        """A clock's step or due flag (`ModulePlan.step_slot`, `due_slot`) as a kernel reads it:
        the state word (the grid tick kernel reads a copy per block, or per thread)."""
        return builder.load(builder.gep(state, [slot], source_etype=I64), typ=I64)

    def is_first_invocation(self, builder: ir.IRBuilder) -> ir.Value:
        """An i1 true in exactly one invocation of a launch."""
        return ir.Constant(I1, 1)

    def atomic_add(self, builder: ir.IRBuilder, pointer: ir.Value, value: ir.Value, type: Type) -> None:
        old = builder.load(pointer, typ=value.type)
        builder.store(builder.fadd(old, value) if type.is_float else builder.add(old, value), pointer)

    def normal_math(self, module: ir.Module, name: str) -> ir.Function | None:
        """The f64 -> f64 function a normal draw calls for `name` (log, cos), or None for the
        library function `math_call` uses (the CPU's vectorisable libmvec forms)."""
        return None


@dataclass
class KernelABI:
    """How to call the lowered kernel: see the module docstring."""

    kernel: str
    function_name: str
    arrays: list[str]
    emits: list[EmitSpikeOp]
    parameter_types: list[Type]
    position_capacity: int          # the most positions a launch can have (grid sizing, scratch)
    row_lanes: int = 1              # invocations per row of a row space (`TargetHooks.row_lanes`)


@dataclass
class LoweredModule:
    llvm_module: ir.Module
    plan: ModulePlan
    kernels: dict[str, KernelABI]
    errors: list[str] = field(default_factory=list)   # error code - 1 -> message ({value} inside)


def lower_module(plan: ModulePlan, hooks: TargetHooks, name: str = "spikec",
                 lowering: type[KernelLowering] | None = None) -> LoweredModule:
    """Lower every kernel of `plan.module` (declarations first, then bodies); `lowering` is a
    `KernelLowering` subclass where a caller changes how the launch's time or streams are read
    (compiled host code, `spikec.backends.host_code_llvm`)."""
    lowering = KernelLowering if lowering is None else lowering
    module = ir.Module(name=name)
    module.triple = hooks.triple
    module.data_layout = hooks.data_layout
    lowered = LoweredModule(module, plan, {})
    philox = philox_llvm.declare_philox(module)
    functions = {}
    for index, (kernel_name, kernel) in enumerate(plan.kernels.items()):
        abi = kernel_abi(plan, kernel, symbol_name("spikec_k", index, kernel_name))
        abi.row_lanes = hooks.row_lanes(plan, kernel)
        lowered.kernels[kernel_name] = abi
        functions[kernel_name] = declare_kernel(module, abi, hooks)
    philox_llvm.define_philox(philox)
    for kernel_name, kernel in plan.kernels.items():
        lowering(lowered, hooks, kernel, functions[kernel_name], philox).lower()
    return lowered


def kernel_abi(plan: ModulePlan, kernel: KernelOp, function_name: str) -> KernelABI:
    used = {ref.name for ref in kernel.space.arrays()}
    emits = []
    for op in kernel.body.ops:
        if isinstance(op, (LoadOp, StoreOp, AtomicAddOp)):
            used.add(op.array.name)
        elif isinstance(op, EmitSpikeOp):
            used.add(op.spike_list.name)
            if any(e.spike_list == op.spike_list for e in emits):
                raise UnsupportedOpError(op.name, kernel.kernel_name, "any",
                                         f"a second emit_spike into {op.spike_list} in one kernel")
            emits.append(op)
    arrays = [name for name in plan.arrays if name in used]
    space = kernel.space
    if isinstance(space, Elements):
        capacity = space.size
    elif isinstance(space, (Spikes, Outgoing, Positions)):
        capacity = plan.arrays[space.spike_list.name].length - 1
    elif isinstance(space, History):  # positions of one recorded spike list at a time
        capacity = plan.arrays[space.history.name].length // space.rows - 1
    elif isinstance(space, Segments):
        capacity = space.count
    else:
        raise UnsupportedOpError(f"index space {space.kind}", kernel.kernel_name, "any")
    return KernelABI(kernel.kernel_name, function_name, arrays, emits,
                     [v.type for v in kernel_parameters(kernel)], capacity)


def kernel_function_type(abi: KernelABI, hooks: TargetHooks) -> ir.FunctionType:
    pointer = ir.PointerType()
    scratch = [pointer] * (3 * len(abi.emits)) if hooks.compacts_spikes else []
    parameters = [MEMORY_TYPES[t] for t in abi.parameter_types]
    return ir.FunctionType(VOID, [pointer] * (len(abi.arrays) + 1) + [I64, F64] + scratch + parameters
                           + list(hooks.trailing_parameters))


def declare_kernel(module: ir.Module, abi: KernelABI, hooks: TargetHooks) -> ir.Function:
    function = ir.Function(module, kernel_function_type(abi, hooks), abi.function_name)
    for argument in function.args[:len(abi.arrays)]:
        argument.add_attribute("noalias")
    hooks.configure_kernel(function)
    return function


@contextmanager
def for_range(builder: ir.IRBuilder, start: ir.Value, stop: ir.Value, step: ir.Value, name: str):
    """``for (i = start; i < stop; i += step)`` (signed); yields i; the builder ends after the loop."""
    function = builder.function
    entry = builder.block
    header, body, done = (function.append_basic_block(f"{name}.{part}") for part in ("header", "body", "done"))
    builder.branch(header)
    builder.position_at_end(header)
    index = builder.phi(start.type, name)
    index.add_incoming(start, entry)
    builder.cbranch(builder.icmp_signed("<", index, stop), body, done)
    builder.position_at_end(body)
    yield index
    index.add_incoming(builder.add(index, step), builder.block)
    builder.branch(header)
    builder.position_at_end(done)


# -- one kernel -----------------------------------------------------------------------------------------
_LOWERINGS: dict[type, Callable] = {}


def can_lower(op: Op) -> bool:
    """Whether `KernelLowering` has a builder method for `op`'s class."""
    return type(op) in _LOWERINGS


def lowers(*op_classes: type) -> Callable:
    """Method decorator: the builder method for these op classes (the dispatch table)."""
    def register(method: Callable) -> Callable:
        for cls in op_classes:
            _LOWERINGS[cls] = method
        return method
    return register


class KernelLowering:
    """Builds one kernel's function body; `values` maps kernel-IR values to LLVM values."""

    def __init__(self, lowered: LoweredModule, hooks: TargetHooks, kernel: KernelOp,
                 function: ir.Function, philox: ir.Function):
        self.lowered = lowered
        self.plan = lowered.plan
        self.hooks = hooks
        self.kernel = kernel
        self.abi = lowered.kernels[kernel.kernel_name]
        self.function = function
        self.philox = philox
        self.values: dict[Value, ir.Value] = {}
        self.overflow_codes: dict[EmitSpikeOp, int] = {}
        args = list(function.args)
        self.arrays = {name: args.pop(0) for name in self.abi.arrays}
        self.state, self.clock, self.dt = args.pop(0), args.pop(0), args.pop(0)
        self.scratch = {}
        if hooks.compacts_spikes:
            for op in self.abi.emits:
                self.scratch[op] = (args.pop(0), args.pop(0), args.pop(0))
        self.builder = ir.IRBuilder(function.append_basic_block("entry"))
        for value, argument in zip(kernel_parameters(kernel), args):  # bools travel as bytes
            self.values[value] = self.from_memory(argument, value.type)

    # -- structure ------------------------------------------------------------------------------
    def lower(self) -> None:
        builder = self.builder
        exit_block = self.function.append_basic_block("exit")
        self.hooks.kernel_prologue(builder, self.state, self.clock, exit_block)
        self.seed = self.state_word(STATE_SEED)
        self.step = self.hooks.clock_word(builder, self.state,
                                          builder.add(self.clock, ir.Constant(I64, STATE_CLOCKS)))
        self.time = self.launch_time()
        if isinstance(self.kernel.space, History):  # nested loops of its own
            from spikec.backends.history_llvm import lower_history  # it builds on this module
            return lower_history(self, exit_block)
        count = self.position_count(exit_block)
        if self.hooks.compacts_spikes:
            with builder.if_then(self.hooks.is_first_invocation(builder)):
                for _, _, scratch_count in self.scratch.values():
                    builder.store(count, scratch_count)
        if self.abi.row_lanes > 1:
            start, stride, self.lane = self.hooks.lane_range(builder, self.abi.row_lanes)
        else:
            start, stride = self.hooks.element_range(builder)
            self.lane = None
        end = self.hooks.position_end(builder, count)
        if self.spike_block():
            self.lower_spike_blocks(start, end)
            builder.branch(exit_block)
            builder.position_at_end(exit_block)
            builder.ret_void()
            return
        entry = builder.block
        header = self.function.append_basic_block("loop.header")
        body = self.function.append_basic_block("loop.body")
        builder.branch(header)
        builder.position_at_end(header)
        position = builder.phi(I64, name="p")
        position.add_incoming(start, entry)
        builder.cbranch(builder.icmp_signed("<", position, end), body, exit_block)
        builder.position_at_end(body)
        self.position = position
        if isinstance(self.kernel.space, (Outgoing, Segments)):
            self.lower_rows(position, exit_block)
        else:
            self.values[self.kernel.index] = self.element_index(position)
            self.lower_body()
        position.add_incoming(builder.add(position, stride, name="p.next"), builder.block)
        builder.branch(header)
        builder.position_at_end(exit_block)
        builder.ret_void()

    def launch_time(self) -> ir.Value:
        """The launch's time: step * dt, the interpreter's product (at kernel entry)."""
        return self.builder.fmul(self.builder.sitofp(self.step, F64), self.dt, name="time")

    def random_stream(self, op: RandUniformOp | RandNormalOp) -> int | ir.Value:
        """The Philox stream (key word 1) of a draw: the op's own, a constant."""
        return op.stream

    def lower_body(self) -> None:
        for op in self.kernel.body.ops:
            self.lower_op(op)

    def spike_block(self) -> int:
        """Positions per block of the flag-then-append form for this kernel, 0 when it appends in
        the loop: only `elements(N)` kernels, and only when the body does not itself access a list
        it appends to (it would see the appends late)."""
        if not (self.hooks.spike_block and self.abi.emits and isinstance(self.kernel.space, Elements)):
            return 0
        lists = {op.spike_list.name for op in self.abi.emits}
        if any(isinstance(op, (LoadOp, StoreOp, AtomicAddOp)) and op.array.name in lists
               for op in self.kernel.body.ops):
            return 0
        return self.hooks.spike_block

    def lower_spike_blocks(self, start: ir.Value, end: ir.Value) -> None:
        """The positions (stride 1: a CPU loop) in blocks of B (`TargetHooks.spike_block`): the
        body over a block stores each emit_spike's flag and index into stack buffers, then the
        flagged indices are appended in position order. The list is the sequential loop's; the
        body loop has no loop-carried count, so LLVM can vectorise it (Philox 4-wide with AVX2).
        One difference: where one block records two different errors, an overflow is recorded
        after the body's errors of that block, so the launch may report another of them (the
        arrays are the same)."""
        builder, block = self.builder, self.spike_block()
        self.blocks = {}
        for op in self.abi.emits:
            element_type = MEMORY_TYPES[self.plan.arrays[op.spike_list.name].element_type]
            self.blocks[op] = (builder.alloca(ir.ArrayType(I8, block)),
                               builder.alloca(ir.ArrayType(element_type, block)))
        size, one = ir.Constant(I64, block), ir.Constant(I64, 1)
        with for_range(builder, start, end, size, "block") as first:
            self.block_first = first
            limit = builder.add(first, size)
            last = builder.select(builder.icmp_signed("<", limit, end), limit, end)
            with for_range(builder, first, last, one, "p") as position:
                self.position = position
                self.values[self.kernel.index] = self.element_index(position)
                self.lower_body()
            if self.hooks.spike_block_interleave:
                hint_loop(position.incomings[-1][1].terminator,
                          {"llvm.loop.interleave.count": self.hooks.spike_block_interleave})
            for op, (flags, indices) in self.blocks.items():
                element_type = indices.type.pointee.element
                with for_range(builder, ir.Constant(I64, 0), builder.sub(last, first), one, "append") as slot:
                    flag = builder.load(builder.gep(flags, [ir.Constant(I64, 0), slot]), typ=I8)
                    with builder.if_then(builder.icmp_unsigned("!=", flag, ir.Constant(I8, 0))):
                        value = builder.load(builder.gep(indices, [ir.Constant(I64, 0), slot]), typ=element_type)
                        self.append_spike(op, value, self.overflow_codes[op])

    def lower_rows(self, position: ir.Value, exit_block: ir.Block) -> None:
        """The body over the elements of row r of a CSR space: all of them in order, or this
        lane's share where lanes share the row (module docstring)."""
        builder, space = self.builder, self.kernel.space
        offsets = self.plan.arrays[space.offsets.name]
        items = self.plan.arrays[space.items.name]
        name = self.kernel.kernel_name
        if isinstance(space, Outgoing):
            spikes = self.plan.arrays[space.spike_list.name]
            row = self.int_cast(builder.load(self.element_pointer(space.spike_list.name, position),
                                             typ=MEMORY_TYPES[spikes.element_type]), I64)
            rows = ir.Constant(I64, offsets.length - 1)
            with builder.if_then(builder.icmp_unsigned(">=", row, rows), likely=False):
                self.record_error(f"kernel @{name}: outgoing({space.offsets}): source {{value}} of "
                                  f"{space.spike_list} is outside 0..{offsets.length - 2}", row)
                builder.branch(exit_block)
        else:  # segments: one per position, in range by the loop's bound
            row = position
        offset_type = MEMORY_TYPES[offsets.element_type]
        low = self.int_cast(builder.load(self.element_pointer(space.offsets.name, row), typ=offset_type), I64)
        high = self.int_cast(builder.load(self.element_pointer(space.offsets.name,
                                                               builder.add(row, ir.Constant(I64, 1))),
                                          typ=offset_type), I64)
        bad = builder.or_(builder.icmp_signed("<", low, ir.Constant(I64, 0)),
                          builder.or_(builder.icmp_signed(">", low, high),
                                      builder.icmp_signed(">", high, ir.Constant(I64, items.length))))
        with builder.if_then(bad, likely=False):
            self.record_error(f"kernel @{name}: {space.kind}({space.offsets}): offsets of row {{value}} are "
                              f"not increasing or exceed {items.length} items", row)
            builder.branch(exit_block)
        first = low if self.lane is None else builder.add(low, self.lane)
        with for_range(builder, first, high, ir.Constant(I64, self.abi.row_lanes), "row") as slot:
            item = builder.load(self.element_pointer(space.items.name, slot), typ=MEMORY_TYPES[items.element_type])
            self.values[self.kernel.index] = self.int_cast(item, REGISTER_TYPES[self.kernel.index.type])
            self.lower_body()

    def position_count(self, exit_block: ir.Block) -> ir.Value:
        space = self.kernel.space
        if isinstance(space, Elements):
            return ir.Constant(I64, space.size)
        if isinstance(space, Segments):
            return ir.Constant(I64, space.count)
        builder = self.builder
        spikes = self.plan.arrays[space.spike_list.name]
        pointer = self.element_pointer(space.spike_list.name, ir.Constant(I64, spikes.length - 1))
        count = builder.sext(builder.load(pointer, typ=MEMORY_TYPES[spikes.element_type]), I64)
        bad = builder.icmp_unsigned(">=", count, ir.Constant(I64, spikes.length))
        with builder.if_then(bad, likely=False):
            self.record_error(f"kernel @{self.kernel.kernel_name}: spike list {space.spike_list} holds "
                              f"count {{value}}, outside 0..{spikes.length - 1}", count)
            builder.branch(exit_block)
        return count

    def element_index(self, position: ir.Value) -> ir.Value:
        index_type = REGISTER_TYPES[self.kernel.index.type]
        space = self.kernel.space
        if isinstance(space, (Elements, Positions)):
            return position if index_type is I64 else self.builder.trunc(position, I32)
        element_type = self.plan.arrays[space.spike_list.name].element_type
        element = self.builder.load(self.element_pointer(space.spike_list.name, position),
                                    typ=MEMORY_TYPES[element_type])
        return self.int_cast(element, index_type)

    def lower_op(self, op: Op) -> None:
        method = _LOWERINGS.get(type(op))
        if method is None:
            raise UnsupportedOpError(op.name, self.kernel.kernel_name, self.hooks.name)
        result = method(self, op, *(self.values[v] for v in op.operands))
        if op.results:
            self.values[op.result] = result

    # -- helpers ---------------------------------------------------------------------------------
    def state_word(self, slot: int) -> ir.Value:
        return self.builder.load(self.builder.gep(self.state, [ir.Constant(I64, slot)], source_etype=I64), typ=I64)

    def record_error(self, message: str, value: ir.Value) -> None:
        """Store error `message` (with ``{value}``) and `value` into the state (current block)."""
        self.store_error(self.reserve_error(message), value)

    def reserve_error(self, message: str) -> int:
        """The code of error `message`, numbered in lowering order (`cpu_threads.analyze` counts
        on that order) even where the store is built later (`lower_spike_blocks`)."""
        self.lowered.errors.append(message)
        return len(self.lowered.errors)

    def store_error(self, code: int, value: ir.Value) -> None:
        builder = self.builder
        builder.store(ir.Constant(I64, code), builder.gep(self.state, [ir.Constant(I64, STATE_ERROR)], source_etype=I64))
        builder.store(self.int_cast(value, I64),
                      builder.gep(self.state, [ir.Constant(I64, STATE_ERROR_VALUE)], source_etype=I64))

    def element_pointer(self, array: str, index: ir.Value) -> ir.Value:
        element_type = MEMORY_TYPES[self.plan.arrays[array].element_type]
        return self.builder.gep(self.arrays[array], [index], inbounds=True, source_etype=element_type)

    def int_cast(self, value: ir.Value, to: ir.IntType, signed: bool = True) -> ir.Value:
        width = value.type.width
        if width == to.width:
            return value
        if width > to.width:
            return self.builder.trunc(value, to)
        return self.builder.sext(value, to) if signed and width > 1 else self.builder.zext(value, to)

    def checked_index(self, op: Op, array: str, index: Value) -> tuple[ir.Value, ir.Value | None]:
        """(the i64 index, an i1 that is true when it is in range, or None when it provably is)."""
        length = self.plan.arrays[array].length
        llvm_index = self.int_cast(self.values[index], I64)
        space = self.kernel.space
        if index is self.kernel.index and isinstance(space, Elements) and space.size <= length:
            return llvm_index, None
        producer = getattr(index, "op", None)
        if isinstance(producer, ConstantOp) and 0 <= producer.value < length:
            return llvm_index, None
        builder = self.builder
        ok = builder.icmp_unsigned("<", llvm_index, ir.Constant(I64, length))
        with builder.if_then(builder.not_(ok), likely=False):
            self.record_error(f"index {{value}} is outside 0..{length - 1} in kernel "
                              f"@{self.kernel.kernel_name}, op '{describe_op(op)}'", llvm_index)
        return llvm_index, ok

    def from_memory(self, value: ir.Value, type: Type) -> ir.Value:
        return self.builder.icmp_unsigned("!=", value, ir.Constant(I8, 0)) if type is Type.BOOL else value

    def to_memory(self, value: ir.Value, type: Type) -> ir.Value:
        return self.builder.zext(value, I8) if type is Type.BOOL else value

    def guarded(self, *conditions: ir.Value | None):
        """A context running its code only where every given condition holds (None: always)."""
        conditions = [c for c in conditions if c is not None]
        if not conditions:
            return _NoGuard()
        condition = conditions[0]
        for other in conditions[1:]:
            condition = self.builder.and_(condition, other)
        return self.builder.if_then(condition)

    def math_call(self, name: str, type: Type, *args: ir.Value) -> ir.Value:
        """A library (libm/libdevice) or intrinsic math function of `type`."""
        llvm_type = REGISTER_TYPES[type]
        module = self.function.module
        if name in INTRINSICS:
            symbol = f"{INTRINSICS[name]}.{'f64' if type is Type.F64 else 'f32'}"
        else:
            symbol = self.hooks.library_function_name(name, type)
        function = module.globals.get(symbol)
        if function is None:
            function = ir.Function(module, ir.FunctionType(llvm_type, [llvm_type] * len(args)), symbol)
        return self.builder.call(function, list(args))

    def constant(self, type: Type, value: float | int) -> ir.Constant:
        return ir.Constant(REGISTER_TYPES[type], value)

    # -- values ---------------------------------------------------------------------------------
    @lowers(ConstantOp)
    def lower_constant(self, op: ConstantOp) -> ir.Value:
        value = op.value
        return ir.Constant(REGISTER_TYPES[op.result.type], int(value) if isinstance(value, bool) else value)

    @lowers(StepOp)
    def lower_step(self, op: StepOp) -> ir.Value:
        return self.step

    @lowers(TimeOp)
    def lower_time(self, op: TimeOp) -> ir.Value:
        return self.time

    @lowers(RandUniformOp, RandNormalOp)
    def lower_rand(self, op, element: ir.Value) -> ir.Value:
        words = philox_llvm.draw_words(self.builder, self.philox, self.seed, self.random_stream(op),
                                       self.step, element, op.draw)
        if isinstance(op, RandUniformOp):
            return philox_llvm.words_to_uniform(self.builder, words[0], words[1])
        return philox_llvm.normal_from_words(
            self.builder, words, lambda x: self.normal_math_call("log", x),
            lambda x: self.normal_math_call("cos", x), lambda x: self.math_call("sqrt", Type.F64, x))

    def normal_math_call(self, name: str, x: ir.Value) -> ir.Value:
        function = self.hooks.normal_math(self.function.module, name)
        if function is None:
            return self.math_call(name, Type.F64, x)
        return philox_llvm.call_vectorisable(self.builder, function, x)

    # -- arithmetic -----------------------------------------------------------------------------
    @lowers(AddOp, SubOp, MulOp)
    def lower_ring(self, op, a: ir.Value, b: ir.Value) -> ir.Value:
        b_ = self.builder
        floats = {AddOp: b_.fadd, SubOp: b_.fsub, MulOp: b_.fmul}
        integers = {AddOp: b_.add, SubOp: b_.sub, MulOp: b_.mul}
        return (floats if op.result.type.is_float else integers)[type(op)](a, b)

    def safe_divisor(self, b: ir.Value) -> tuple[ir.Value, ir.Value, ir.Value]:
        """(b with 0 and -1 replaced by 1, b == 0, b == -1): sdiv/srem are undefined on those."""
        builder = self.builder
        zero = builder.icmp_signed("==", b, ir.Constant(b.type, 0))
        minus_one = builder.icmp_signed("==", b, ir.Constant(b.type, -1))
        safe = builder.select(builder.or_(zero, minus_one), ir.Constant(b.type, 1), b)
        return safe, zero, minus_one

    @lowers(DivOp)
    def lower_div(self, op, a: ir.Value, b: ir.Value) -> ir.Value:
        builder = self.builder
        if op.result.type.is_float:
            return builder.fdiv(a, b)
        safe, zero, minus_one = self.safe_divisor(b)
        quotient = builder.select(minus_one, builder.neg(a), builder.sdiv(a, safe))
        return builder.select(zero, ir.Constant(a.type, 0), quotient)

    @lowers(FloorDivOp)
    def lower_floordiv(self, op, a: ir.Value, b: ir.Value) -> ir.Value:
        builder = self.builder
        if op.result.type.is_float:
            return self.math_call("floor", op.result.type, builder.fdiv(a, b))
        safe, zero, minus_one = self.safe_divisor(b)
        quotient, remainder = builder.sdiv(a, safe), builder.srem(a, safe)
        adjust = self.remainder_needs_adjustment(remainder, safe)
        quotient = builder.sub(quotient, builder.zext(adjust, a.type))
        quotient = builder.select(minus_one, builder.neg(a), quotient)
        return builder.select(zero, ir.Constant(a.type, 0), quotient)

    def remainder_needs_adjustment(self, remainder: ir.Value, divisor: ir.Value) -> ir.Value:
        """Python's rule: a nonzero remainder whose sign differs from the divisor's."""
        builder = self.builder
        if remainder.type in (F32, F64):
            zero = ir.Constant(remainder.type, 0.0)
            nonzero = builder.fcmp_unordered("!=", remainder, zero)
            signs_differ = builder.xor(builder.fcmp_ordered("<", remainder, zero),
                                       builder.fcmp_ordered("<", divisor, zero))
        else:
            zero = ir.Constant(remainder.type, 0)
            nonzero = builder.icmp_signed("!=", remainder, zero)
            signs_differ = builder.xor(builder.icmp_signed("<", remainder, zero),
                                       builder.icmp_signed("<", divisor, zero))
        return builder.and_(nonzero, signs_differ)

    @lowers(ModOp)
    def lower_mod(self, op, a: ir.Value, b: ir.Value) -> ir.Value:
        builder = self.builder
        if op.result.type.is_float:
            remainder = self.math_call("fmod", op.result.type, a, b)
            adjust = self.remainder_needs_adjustment(remainder, b)
            return builder.select(adjust, builder.fadd(remainder, b), remainder)
        safe, zero, minus_one = self.safe_divisor(b)
        remainder = builder.srem(a, safe)
        remainder = builder.select(self.remainder_needs_adjustment(remainder, safe),
                                   builder.add(remainder, safe), remainder)
        return builder.select(builder.or_(zero, minus_one), ir.Constant(a.type, 0), remainder)

    @lowers(PowOp)
    def lower_pow(self, op, a: ir.Value, b: ir.Value) -> ir.Value:
        return self.math_call("pow", op.result.type, a, b)

    @lowers(MinOp, MaxOp)
    def lower_min_max(self, op, a: ir.Value, b: ir.Value) -> ir.Value:
        builder = self.builder
        less = "<=" if isinstance(op, MinOp) else ">="
        if op.result.type.is_float:  # numpy: (a <= b or isnan(a)) ? a : b, so nan propagates
            keep_a = builder.or_(builder.fcmp_ordered(less, a, b), builder.fcmp_unordered("uno", a, a))
        else:
            keep_a = builder.icmp_signed(less, a, b)
        return builder.select(keep_a, a, b)

    @lowers(AndOp)
    def lower_and(self, op, a: ir.Value, b: ir.Value) -> ir.Value:
        return self.builder.and_(a, b)

    @lowers(OrOp)
    def lower_or(self, op, a: ir.Value, b: ir.Value) -> ir.Value:
        return self.builder.or_(a, b)

    @lowers(NotOp)
    def lower_not(self, op, a: ir.Value) -> ir.Value:
        return self.builder.not_(a)

    @lowers(NegOp)
    def lower_neg(self, op, a: ir.Value) -> ir.Value:
        return self.builder.fneg(a) if op.result.type.is_float else self.builder.neg(a)

    @lowers(CmpOp)
    def lower_cmp(self, op: CmpOp, a: ir.Value, b: ir.Value) -> ir.Value:
        symbol = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}[op.predicate]
        operand_type = op.operands[0].type
        if operand_type.is_float:  # ordered, except ne (true with a nan operand, as numpy)
            if symbol == "!=":
                return self.builder.fcmp_unordered(symbol, a, b)
            return self.builder.fcmp_ordered(symbol, a, b)
        if operand_type is Type.BOOL:
            return self.builder.icmp_unsigned(symbol, a, b)
        return self.builder.icmp_signed(symbol, a, b)

    @lowers(SelectOp)
    def lower_select(self, op, condition: ir.Value, a: ir.Value, b: ir.Value) -> ir.Value:
        return self.builder.select(condition, a, b)

    @lowers(CastOp)
    def lower_cast(self, op: CastOp, x: ir.Value) -> ir.Value:
        builder, source, target = self.builder, op.operands[0].type, op.result.type
        to = REGISTER_TYPES[target]
        if source == target:
            return x
        if target is Type.BOOL:
            if source.is_float:
                return builder.fcmp_unordered("!=", x, ir.Constant(x.type, 0.0))
            return builder.icmp_signed("!=", x, ir.Constant(x.type, 0))
        if source is Type.BOOL:
            return builder.uitofp(x, to) if target.is_float else builder.zext(x, to)
        if source.is_float and target.is_float:
            return builder.fptrunc(x, to) if target is Type.F32 else builder.fpext(x, to)
        if target.is_float:
            return builder.sitofp(x, to)
        if source.is_float:  # truncate; nan and out-of-range give the minimum, as on x86
            wide = builder.fpext(x, F64) if source is Type.F32 else x
            limit = 2.0 ** (to.width - 1)
            in_range = builder.and_(builder.fcmp_ordered(">", wide, ir.Constant(F64, -limit - 1.0)),
                                    builder.fcmp_ordered("<", wide, ir.Constant(F64, limit)))
            safe = builder.select(in_range, wide, ir.Constant(F64, 0.0))
            return builder.select(in_range, builder.fptosi(safe, to), ir.Constant(to, -(1 << (to.width - 1))))
        return self.int_cast(x, to)

    @lowers(MathOp)
    def lower_math(self, op: MathOp, *args: ir.Value) -> ir.Value:
        builder, type, name = self.builder, op.result.type, op.function
        x = args[0]
        if name == "abs":
            if type.is_float:
                return self.math_call("fabs", type, x)
            return builder.select(builder.icmp_signed("<", x, ir.Constant(x.type, 0)), builder.neg(x), x)
        if name == "sign":
            if type.is_float:
                zero = ir.Constant(x.type, 0.0)
                one, minus = ir.Constant(x.type, 1.0), ir.Constant(x.type, -1.0)
                negative = builder.select(builder.fcmp_ordered("<", x, zero), minus, x)
                return builder.select(builder.fcmp_ordered(">", x, zero), one, negative)
            zero = ir.Constant(x.type, 0)
            return builder.sub(builder.zext(builder.icmp_signed(">", x, zero), x.type),
                               builder.zext(builder.icmp_signed("<", x, zero), x.type))
        if name == "exprel":
            zero, one = ir.Constant(x.type, 0.0), ir.Constant(x.type, 1.0)
            is_zero = builder.fcmp_ordered("==", x, zero)
            safe = builder.select(is_zero, one, x)
            return builder.select(is_zero, one, builder.fdiv(self.math_call("expm1", type, safe), safe))
        name = IR_TO_LIBRARY.get(name, name)
        if name not in LIBRARY_FUNCTIONS and name not in INTRINSICS:
            raise UnsupportedOpError(f"{op.name} {op.function}", self.kernel.kernel_name, self.hooks.name)
        return self.math_call(name, type, *args)

    # -- memory ---------------------------------------------------------------------------------
    @lowers(LoadOp)
    def lower_load(self, op: LoadOp, _index: ir.Value) -> ir.Value:
        array = op.array.name
        element_type = self.plan.arrays[array].element_type
        index, ok = self.checked_index(op, array, op.index)
        if ok is not None:
            if self.plan.arrays[array].length == 0:
                return ir.Constant(REGISTER_TYPES[element_type], 0)
            index = self.builder.select(ok, index, ir.Constant(I64, 0))
        value = self.builder.load(self.element_pointer(array, index), typ=MEMORY_TYPES[element_type])
        return self.from_memory(value, element_type)

    @lowers(StoreOp, AtomicAddOp)
    def lower_write(self, op, _index: ir.Value, value: ir.Value, mask: ir.Value | None = None) -> None:
        array = op.array.name
        element_type = self.plan.arrays[array].element_type
        if mask is not None:  # check the index only where the element writes
            with self.builder.if_then(mask):
                self.write(op, array, element_type, value)
        else:
            self.write(op, array, element_type, value)

    def write(self, op, array: str, element_type: Type, value: ir.Value) -> None:
        index, ok = self.checked_index(op, array, op.index)
        with self.guarded(ok):
            pointer = self.element_pointer(array, index)
            if isinstance(op, StoreOp):
                self.builder.store(self.to_memory(value, element_type), pointer)
            else:
                self.hooks.atomic_add(self.builder, pointer, value, element_type)

    @lowers(EmitSpikeOp)
    def lower_emit(self, op: EmitSpikeOp, index: ir.Value, mask: ir.Value | None = None) -> None:
        builder = self.builder
        spikes = self.plan.arrays[op.spike_list.name]
        element_type = MEMORY_TYPES[spikes.element_type]
        value = self.int_cast(index, element_type)
        if self.spike_block():  # the flag pass of `lower_spike_blocks`; the block's appends follow
            flags, indices = self.blocks[op]
            slot = builder.sub(self.position, self.block_first)
            flag = mask if mask is not None else ir.Constant(I1, 1)
            builder.store(builder.zext(flag, I8), builder.gep(flags, [ir.Constant(I64, 0), slot]))
            builder.store(value, builder.gep(indices, [ir.Constant(I64, 0), slot]))
            self.overflow_codes[op] = self.reserve_error(self.overflow_message(op))
            return
        if self.hooks.compacts_spikes:  # the flag pass; an ordered compaction kernel follows
            if isinstance(self.kernel.space, (Outgoing, Segments, History)):  # flags per position
                raise UnsupportedOpError(op.name, self.kernel.kernel_name, self.hooks.name,
                                         f"emit_spike in a kernel over {self.kernel.space.kind}(...)")
            flags, values, _ = self.scratch[op]
            flag = mask if mask is not None else ir.Constant(I1, 1)
            builder.store(builder.zext(flag, I8), builder.gep(flags, [self.position], source_etype=I8))
            builder.store(value, builder.gep(values, [self.position], source_etype=element_type))
            return
        with self.guarded(mask):
            self.append_spike(op, value, self.reserve_error(self.overflow_message(op)))

    def overflow_message(self, op: EmitSpikeOp) -> str:
        return (f"spike list {op.spike_list} overflows (a neuron spiking twice in a step?) in kernel "
                f"@{self.kernel.kernel_name}")

    def append_spike(self, op: EmitSpikeOp, value: ir.Value, code: int) -> None:
        """Append `value` to `op`'s list, or record error `code` when the list is full."""
        builder = self.builder
        spikes = self.plan.arrays[op.spike_list.name]
        element_type = MEMORY_TYPES[spikes.element_type]
        capacity = ir.Constant(I64, spikes.length - 1)
        count_pointer = self.element_pointer(op.spike_list.name, capacity)
        count = self.int_cast(builder.load(count_pointer, typ=element_type), I64)
        fits = builder.icmp_unsigned("<", count, capacity)
        with builder.if_else(fits) as (then, otherwise):
            with then:
                builder.store(value, self.element_pointer(op.spike_list.name, count))
                builder.store(self.int_cast(builder.add(count, ir.Constant(I64, 1)), element_type),
                              count_pointer)
            with otherwise:
                self.store_error(code, count)


class _NoGuard:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
