"""The native function behind a compiled `Synapses.connect`: rows in, (pre, post) pairs out.

`spikec.runtime.connect` is the reference (numpy); this module generates, with llvmlite, the same
walk over candidates as one native loop, so that the pairs are bit for bit the reference's:

    i64 @spikec_connect_rows(i64 %rows_count, ptr %rows, ptr %low, ptr %step, ptr %count,
                             ptr %p, ptr %log_q, ptr %out_pre, ptr %out_post, i64 %capacity,
                             ptr %arrays, ptr %state)

For each row r (an outer index `rows[r]`, with its iterator's `low`, `step`, `count` evaluated on
the host), the candidates are ``low + step * position`` for the positions of a `range` (all of
0..count-1) or of a `sample(p=)` (geometric gaps from Philox, the reference's counters and
formulas, with `log_q = log1p(-p)` computed on the host); each candidate runs the generator's
code (element, range check, condition, n) and appends n pairs. `%arrays` holds the addresses of
the group variables the code reads; `%state` the i64 words of `ConnectState`.

It returns the number of rows it completed: all of them; fewer when the next row's pairs do not
fit the `capacity` left (that row's pairs are taken back, so the caller continues at that row with
a fresh buffer); or -1 when a candidate failed (an index out of range without `skip_if_invalid`,
a negative n, a load out of range): the row is in the state, and the caller reruns the reference
from there to raise its exact error.

The generator's code is kernel IR built by `BodyEmitter` (`spikec.runtime.connect_compiled`),
lowered here op by op with `KernelLowering`'s own methods, so connect code has the semantics of
every kernel. Why a dedicated loop and not a kernel: the kernel IR has no loop with a
data-dependent trip count (geometric gaps) nor an output whose length is only known after the
run; a connect function runs once, on the host, so these stay here rather than in the IR.
"""

from __future__ import annotations

import ctypes
import time
from dataclasses import dataclass
from typing import Any

from llvmlite import ir

from spikec.backends import philox_llvm
from spikec.backends.abi import STATE_ERROR, STATE_SEED
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuHooks
from spikec.backends.native import NativeFunction, compile_native
from spikec.backends.lower_to_llvm import (F64, I1, I32, I64, REGISTER_TYPES, KernelLowering,
                                           LoweredModule, can_lower)
from spikec.ir.core import Op, Value
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import RandNormalOp, RandUniformOp, StepOp
from spikec.ir.types import Type

FUNCTION = "spikec_connect_rows"
# State words: seed, error code and value (as kernels: `spikec.backends.abi`), then these.
STATE_SAMPLE_STREAM = 3
STATE_CODE_STREAM = 4
STATE_WRITTEN = 5       # pairs written into the buffers by the call
STATE_ERROR_ROW = 6     # the outer index of the row that failed
STATE_RESULT_SIZE = 7   # the size of the result's group (a word, so any size reuses the code)
STATE_WORDS = 8


@dataclass
class Segment:
    """Ops of the candidate code computing one value, run where the walk needs that value."""

    ops: list[Op]
    value: Value


@dataclass
class CandidateCode:
    """The generator's code for one candidate, as kernel IR (`kernel.body` holds every op).

    `outer`, `variable` and `draws` are `kernel.arg`s of the invariants region that the walk binds
    per candidate (the row's outer index, the iterator's value, the uniform of rand() number k);
    every other `kernel.arg` is a constant of the connect call (`constants`). `element` is i64,
    `condition` bool, `n` i64 or a constant. With `check_first` the result index is checked
    before the condition (the condition reads the result's group)."""

    kernel: KernelOp
    outer: Value
    variable: Value
    draws: list[Value]
    element: Segment
    condition: Segment | None
    n: Segment | int
    constants: dict[Value, Any]
    arrays: dict[str, ArrayOp]
    check_first: bool
    outer_is_pre: bool
    skip_if_invalid: bool
    sampled: bool                   # sample(p=) rather than range


@dataclass
class _Plan:
    """What `KernelLowering`'s op methods read from a module plan: the arrays."""

    arrays: dict[str, ArrayOp]


class _CandidateLowering(KernelLowering):
    """`KernelLowering`'s op methods at the position of the walk's builder, not in a kernel loop:
    `values` is bound by the walk."""

    def __init__(self, lowered: LoweredModule, kernel: KernelOp, function: ir.Function,
                 builder: ir.IRBuilder, arrays: dict[str, ir.Value], state: ir.Value):
        self.lowered, self.plan, self.hooks = lowered, lowered.plan, CpuHooks()
        self.kernel, self.function, self.builder = kernel, function, builder
        self.arrays, self.state = arrays, state
        self.values: dict[Value, ir.Value] = {}
        self.time = ir.Constant(F64, 0.0)  # host code runs at time 0, as the reference's

    def run(self, segment: Segment) -> ir.Value:
        for op in segment.ops:
            self.lower_op(op)
        return self.values[segment.value]


class _ConnectFunction:
    """Builds @spikec_connect_rows for one `CandidateCode` (module docstring)."""

    def __init__(self, code: CandidateCode):
        self.code = code
        module = ir.Module(name="spikec_connect")
        hooks = CpuHooks()
        module.triple, module.data_layout = hooks.triple, hooks.data_layout
        self.module = module
        self.lowered = LoweredModule(module, _Plan(code.arrays), {})
        self.philox = philox_llvm.declare_philox(module)
        philox_llvm.define_philox(self.philox)
        pointer = ir.PointerType()
        type_ = ir.FunctionType(I64, [I64] + [pointer] * 8 + [I64, pointer, pointer])
        self.function = ir.Function(module, type_, FUNCTION)
        (self.rows_count, self.rows, self.low, self.step, self.count, self.p, self.log_q,
         self.out_pre, self.out_post, self.capacity, table, self.state) = self.function.args
        self.builder = ir.IRBuilder(self.function.append_basic_block("entry"))
        b = self.builder
        arrays = {}
        for index, name in enumerate(code.arrays):  # the table's addresses, in `arrays` order
            slot = b.gep(table, [ir.Constant(I64, index)], source_etype=pointer)
            arrays[name] = b.load(slot, typ=pointer, name=name)
        self.lowering = _CandidateLowering(self.lowered, code.kernel, self.function, b, arrays,
                                           self.state)
        for argument, value in code.constants.items():
            self.lowering.values[argument] = _constant(argument, value)
        self.written = b.alloca(I64, name="written")
        self.overflow = b.alloca(I1, name="overflow")
        self.words = b.alloca(I32, size=4, name="words")  # the current draw's words (sampling)
        b.store(ir.Constant(I64, 0), self.written)
        self.seed = self.state_word(STATE_SEED)
        self.sample_stream = b.trunc(self.state_word(STATE_SAMPLE_STREAM), I32)
        self.code_stream = b.trunc(self.state_word(STATE_CODE_STREAM), I32)
        self.result_size = self.state_word(STATE_RESULT_SIZE)

    # -- helpers ---------------------------------------------------------------------------------
    def state_pointer(self, slot: int) -> ir.Value:
        return self.builder.gep(self.state, [ir.Constant(I64, slot)], source_etype=I64)

    def state_word(self, slot: int) -> ir.Value:
        return self.builder.load(self.state_pointer(slot), typ=I64)

    def load(self, array: ir.Value, index: ir.Value, type_: ir.Type) -> ir.Value:
        return self.builder.load(self.builder.gep(array, [index], source_etype=type_), typ=type_)

    def philox_words(self, c0: ir.Value, c1: int, row: ir.Value, stream: ir.Value) -> list[ir.Value]:
        """Words of counter (c0, c1, row lo, row hi), key (seed lo, stream): the reference's."""
        b = self.builder
        counter = [b.trunc(c0, I32), ir.Constant(I32, c1), b.trunc(row, I32),
                   b.trunc(b.lshr(row, ir.Constant(I64, 32)), I32)]
        words = b.call(self.philox, counter + [b.trunc(self.seed, I32), stream])
        return [b.extract_value(words, i) for i in range(4)]

    def word_pointer(self, which: ir.Value) -> ir.Value:
        return self.builder.gep(self.words, [which], source_etype=I32)

    def block(self, name: str) -> ir.Block:
        return self.function.append_basic_block(name)

    # -- the walk --------------------------------------------------------------------------------
    def build(self) -> ir.Module:
        b = self.builder
        row_header, row_body, done = self.block("row.header"), self.block("row.body"), self.block("done")
        entry = b.block
        b.branch(row_header)
        b.position_at_end(row_header)
        r = b.phi(I64, "r")
        r.add_incoming(ir.Constant(I64, 0), entry)
        b.cbranch(b.icmp_signed("<", r, self.rows_count), row_body, done)
        b.position_at_end(row_body)
        row = self.load(self.rows, r, I64)
        row_start = b.load(self.written, typ=I64)
        b.store(ir.Constant(I1, 0), self.overflow)
        low, step, count = (self.load(a, r, I64) for a in (self.low, self.step, self.count))
        row_end = self.block("row.end")
        if self.code.sampled:
            self.sampled_positions(r, row, low, step, count, row_end)
        else:
            self.range_positions(row, low, step, count, row_end)
        b.position_at_end(row_end)
        failed, overflowed, next_row = self.block("row.failed"), self.block("row.overflow"), self.block("row.next")
        b.cbranch(b.icmp_signed("!=", self.state_word(STATE_ERROR), ir.Constant(I64, 0)), failed, next_row)
        b.position_at_end(next_row)
        advance = self.block("row.advance")
        b.cbranch(b.load(self.overflow, typ=I1), overflowed, advance)
        b.position_at_end(advance)
        r.add_incoming(b.add(r, ir.Constant(I64, 1)), advance)
        b.branch(row_header)
        b.position_at_end(failed)
        b.store(row, self.state_pointer(STATE_ERROR_ROW))
        b.store(b.load(self.written, typ=I64), self.state_pointer(STATE_WRITTEN))
        b.ret(ir.Constant(I64, -1))
        b.position_at_end(overflowed)  # take the row back: the caller resumes at it
        b.store(row_start, self.state_pointer(STATE_WRITTEN))
        b.ret(r)
        b.position_at_end(done)
        b.store(b.load(self.written, typ=I64), self.state_pointer(STATE_WRITTEN))
        b.ret(self.rows_count)
        return self.module

    def range_positions(self, row, low, step, count, row_end: ir.Block) -> None:
        """Positions 0..count-1, in order."""
        position, next_ = self.counted_loop("position", count, row_end)
        b = self.builder
        self.candidate(row, b.add(low, b.mul(step, position)), next_, row_end)
        self.close_loop(position, next_)

    def sampled_positions(self, r, row, low, step, count, row_end: ir.Block) -> None:
        """The reference's geometric gaps: gap d from word d % 4 of counter (d // 4, 0, row),
        floor(log(u) / log_q) with u = (word + 0.5) * 2**-32, 0 when p >= 1, clipped at `count`
        (such a gap ends the row); the position after gap d is the previous one plus gap + 1."""
        b = self.builder
        p = self.load(self.p, r, F64)
        log_q = self.load(self.log_q, r, F64)
        active = b.and_(b.icmp_signed(">", count, ir.Constant(I64, 0)),
                        b.fcmp_ordered(">", p, ir.Constant(F64, 0.0)))
        certain = b.fcmp_ordered(">=", p, ir.Constant(F64, 1.0))
        header, body, next_ = self.block("gap.header"), self.block("gap.body"), self.block("gap.next")
        entry = b.block
        b.cbranch(active, header, row_end)
        b.position_at_end(header)
        draw = b.phi(I64, "gap")
        last = b.phi(I64, "last")
        draw.add_incoming(ir.Constant(I64, 0), entry)
        last.add_incoming(ir.Constant(I64, -1), entry)
        which = b.trunc(b.and_(draw, ir.Constant(I64, 3)), I32)
        with b.if_then(b.icmp_unsigned("==", which, ir.Constant(I32, 0))):
            words = self.philox_words(b.lshr(draw, ir.Constant(I64, 2)), 0, row, self.sample_stream)
            for i, word in enumerate(words):
                b.store(word, self.word_pointer(ir.Constant(I32, i)))
        word = b.load(self.word_pointer(which), typ=I32)
        uniform = b.fmul(b.fadd(b.uitofp(word, F64), ir.Constant(F64, 0.5)), ir.Constant(F64, 2.0 ** -32))
        math = self.lowering.math_call
        gap = math("floor", Type.F64, b.fdiv(math("log", Type.F64, uniform), log_q))
        gap = b.select(certain, ir.Constant(F64, 0.0), gap)
        limit = b.sitofp(count, F64)
        gap = b.select(b.fcmp_ordered("<=", gap, limit), gap, limit)
        position = b.add(last, b.add(b.fptosi(gap, I64), ir.Constant(I64, 1)))
        b.cbranch(b.icmp_signed("<", position, count), body, row_end)
        b.position_at_end(body)
        self.candidate(row, b.add(low, b.mul(step, position)), next_, row_end)
        b.position_at_end(next_)
        draw.add_incoming(b.add(draw, ir.Constant(I64, 1)), next_)
        last.add_incoming(position, next_)
        b.branch(header)

    def candidate(self, row: ir.Value, inner: ir.Value, next_: ir.Block, row_end: ir.Block) -> None:
        """The generator's code for candidate (row, inner); ends with a branch to `next_`, or to
        `row_end` after an error or when the buffers are full."""
        code, b, lowering = self.code, self.builder, self.lowering
        lowering.values[code.outer] = row
        lowering.values[code.variable] = inner
        for number, argument in enumerate(code.draws):
            words = self.philox_words(inner, number, row, self.code_stream)
            lowering.values[argument] = philox_llvm.words_to_uniform(b, words[0], words[1])
        result = lowering.run(code.element)
        if code.check_first:
            self.check_range(result, next_, row_end)
        if code.condition is not None:
            keep = self.block("candidate.keep")
            b.cbranch(lowering.run(code.condition), keep, next_)
            b.position_at_end(keep)
        if not code.check_first:
            self.check_range(result, next_, row_end)
        if isinstance(code.n, int):
            copies = ir.Constant(I64, code.n)
        else:
            copies = lowering.run(code.n)
            valid = self.block("n.valid")
            with b.if_then(b.icmp_signed("<", copies, ir.Constant(I64, 0)), likely=False):
                lowering.record_error("n is negative ({value}) for some pairs", copies)
                b.branch(row_end)
            b.branch(valid)
            b.position_at_end(valid)
        pre, post = (row, result) if code.outer_is_pre else (result, row)
        self.append(b.trunc(pre, I32), b.trunc(post, I32), copies, next_, row_end)

    def check_range(self, result: ir.Value, next_: ir.Block, row_end: ir.Block) -> None:
        b, code = self.builder, self.code
        inside = b.icmp_unsigned("<", result, self.result_size)
        ok = self.block("range.ok")
        if code.skip_if_invalid:
            b.cbranch(inside, ok, next_)
        else:
            with b.if_then(b.not_(inside), likely=False):
                self.lowering.record_error("index {value} is outside the result's group", result)
                b.branch(row_end)
            b.branch(ok)
        b.position_at_end(ok)

    def append(self, pre: ir.Value, post: ir.Value, copies: ir.Value, next_: ir.Block,
               row_end: ir.Block) -> None:
        """Write (pre, post) `copies` times; a full buffer sets `overflow` and ends the row."""
        b = self.builder
        copy, next_copy = self.counted_loop("copy", copies, next_)
        written = b.load(self.written, typ=I64)
        full, store = self.block("copy.full"), self.block("copy.store")
        b.cbranch(b.icmp_signed(">=", written, self.capacity), full, store)
        b.position_at_end(full)
        b.store(ir.Constant(I1, 1), self.overflow)
        b.branch(row_end)
        b.position_at_end(store)
        b.store(pre, b.gep(self.out_pre, [written], source_etype=I32))
        b.store(post, b.gep(self.out_post, [written], source_etype=I32))
        b.store(b.add(written, ir.Constant(I64, 1)), self.written)
        b.branch(next_copy)
        self.close_loop(copy, next_copy)

    def counted_loop(self, name: str, count: ir.Value, exit_block: ir.Block) -> tuple[ir.Value, ir.Block]:
        """Open ``for (c = 0; c < count; c++)``, leaving the builder in the body, whose code ends
        with a branch to the returned `next` block; `close_loop` closes the loop there."""
        b = self.builder
        header, body, next_ = (self.block(f"{name}.{part}") for part in ("header", "body", "next"))
        entry = b.block
        b.branch(header)
        b.position_at_end(header)
        counter = b.phi(I64, name)
        counter.add_incoming(ir.Constant(I64, 0), entry)
        b.cbranch(b.icmp_signed("<", counter, count), body, exit_block)
        b.position_at_end(body)
        return counter, next_

    def close_loop(self, counter: ir.PhiInstr, next_: ir.Block) -> None:
        b = self.builder
        b.position_at_end(next_)
        counter.add_incoming(b.add(counter, ir.Constant(I64, 1)), next_)
        b.branch(counter.parent)


def _constant(argument: Value, value: Any) -> ir.Constant:
    return ir.Constant(REGISTER_TYPES[argument.type], int(value) if isinstance(value, bool) else value)


_SIGNATURE = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, *([ctypes.c_void_p] * 8),
                              ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p)


def compile_connect(code: CandidateCode, cache: CompileCache | None = None) -> NativeFunction:
    """The native connect function of `code`; a connect whose code prints the same LLVM IR
    (the same generator and constants, any seed and streams) reuses the compiled one."""
    start = time.perf_counter()
    builder = _ConnectFunction(code)
    text = str(builder.build())
    return compile_native(text, "connect", FUNCTION, _SIGNATURE, builder.lowered.errors, cache,
                          start)


def supported(kernel: KernelOp) -> bool:
    """Whether every op of the candidate code has a lowering here. Random-number and step ops do
    not: connect code's draws are bound per candidate by the walk, and there is no step."""
    return all(can_lower(op) and not isinstance(op, (RandNormalOp, RandUniformOp, StepOp))
               for op in kernel.body.ops)
