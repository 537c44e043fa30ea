"""`Synapses.connect` compiled: the generator walk of `spikec.runtime.connect` as native code on
every core, giving the same synapses in the same order (the numpy walk stays the reference, and
what the `interpreter` device runs).

Division of work, per block of `ROW_BLOCK` outer indices (the reference's blocks):

* on the host, with the reference's own code: the rows a condition on the outer index alone
  keeps, and each row's iterator arguments (`low`, `step`, the candidate count, `p`), so their
  errors (a zero step, a bad sample size) are the reference's;
* natively (`spikec.backends.connect_llvm`): the candidates of each row, their random draws,
  element, range check, condition and n, appending pairs. The rows of a block are split into
  pieces of similar expected work, run by a pool of threads (ctypes releases the GIL during the
  call); each piece writes into its own buffers of at most `BUFFER` pairs, taking a new one when
  a row does not fit, so memory stays bounded without a counting pass.

The pieces' buffers are gathered in row order into the result, each freed once copied, so
connecting holds ~8 bytes per synapse (the i32 pairs) plus one buffer per piece in flight.

A candidate that fails (an index out of range without `skip_if_invalid`, a negative n) stops its
piece; the block is then walked again by the reference, from its first row, which raises its
error with its message and position. Forms not compiled go to the reference unchanged
(`candidate_code` returns None): `sample(size=)`, `randn()` (numpy's and libm's log/cos are not
bitwise equal), TimedArrays, a generator variable named like the outer index, an element that
reads the result's group.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from spikec.backends import cpu_threads
from spikec.backends.abi import STATE_ERROR, STATE_ERROR_VALUE, STATE_SEED
from spikec.backends.native import NativeFunction
from spikec.backends.connect_llvm import (STATE_CODE_STREAM, STATE_RESULT_SIZE,
                                          STATE_SAMPLE_STREAM, STATE_WORDS, STATE_WRITTEN, CandidateCode, Segment,
                                          compile_connect, supported)
from spikec.errors import KernelRuntimeError, SpikecError
from spikec.frontend.variables import SUBEXPRESSION_ROLE
from spikec.ir.expression import Expr, identifiers
from spikec.ir.index_spaces import Elements
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import ArgOp, LoadOp
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import BodyEmitter, Names
from spikec.runtime import connect as reference
from spikec.runtime.connect import GeneratorBuild, Pairs
from spikec.runtime.host_code import element_type, type_of
from spikec.runtime.synaptic_code import SynapticHostCode

BUFFER = 1 << 22          # pairs per piece buffer at most (16 MiB per array)
PIECES_PER_THREAD = 4     # pieces of a row block per thread, to even out rows of unequal work
PARALLEL_WORK = 1 << 16   # candidates below which a block runs on the calling thread


def walk_compiled(build: GeneratorBuild) -> Pairs | None:
    """The pairs of `build`, walked natively; None when its form is not compiled."""
    if build.generator.iterator.size is not None:
        return None
    compiled = candidate_code(build)
    if compiled is None:
        return None
    code, inputs = compiled
    walker = _Walker(build, code, inputs, compile_connect(code))
    parts: list[Pairs] = []
    block = reference.ROW_BLOCK
    for start in range(0, build.outer_size, block):
        rows = np.arange(start, min(start + block, build.outer_size), dtype=np.int64)
        parts.extend(walker.block(build.rows_passing(rows)))
    return _gather(parts)


# -- the candidate code as kernel IR ------------------------------------------------------------
class _CandidateEmitter(BodyEmitter):
    """A `BodyEmitter` that loads a group variable (`x_pre`, `x_post`) where code first reads
    it, at the index bound to `i` or `j` then: after the walk's range check for the result's
    side, so that no load happens at an index out of range."""

    def __init__(self, kernel: KernelOp, names: Names, float_type: Type,
                 loads: dict[str, tuple[str, Type, str | None]]):
        super().__init__(kernel, names, float_type, 0)
        self.loads = loads

    def read(self, name: str):
        if name not in self.values and name in self.loads:
            array, type_, index = self.loads[name]
            at = self.constant(0, Type.I64) if index is None else self.read(index)
            self.values[name] = self.body.add(LoadOp(array, at, type_, name))
        return super().read(name)


class _CandidateHostCode(SynapticHostCode):
    """Connect code's names as the reference resolves them (`SynapticHostCode`), emitted for the
    native walk instead of the interpreter."""

    def __init__(self, build: GeneratorBuild):
        super().__init__(build.synapses, build.namespace, build.owner,
                         bindings={"i": np.zeros(0, np.int64)}, extra=build.extra)
        self.arrays: dict[str, ArrayOp] = {}

    def _emitter(self, kernel: KernelOp, trees: list[Expr]) -> _CandidateEmitter | None:
        group = self.group
        names = self._names(trees)
        if names.timed_arrays:
            return None
        names.arrays.clear()
        names.subexpressions.clear()
        names.constants.update({"N_pre": (len(group.source), Type.I64),
                                "N_post": (len(group.target), Type.I64),
                                "N": (len(group), Type.I64)})
        loads = {}
        used = set().union(*(identifiers(tree) for tree in trees))
        for name in sorted(used & set(self.pairs)):
            _, kind, side, variable = self.pairs[name]
            source = group.source if side == "pre" else group.target
            spec = source.variables[variable]
            values = np.ascontiguousarray(source.values.read(variable))
            type_ = element_type(kind, self.float_type)
            if spec.role == SUBEXPRESSION_ROLE or type_of(values) != type_:
                return None  # the reference raises its error, or converts
            array = f"{source.name}.{variable}"
            self.input_values[array] = values
            self.arrays[array] = ArrayOp(array, type_, len(values))
            loads[name] = (array, type_, None if spec.shared else ("i" if side == "pre" else "j"))
        return _CandidateEmitter(kernel, names, self.float_type, loads)


def candidate_code(build: GeneratorBuild) -> tuple[CandidateCode, dict[str, np.ndarray]] | None:
    """The generator's code of `build` as kernel IR for the walk, with the group variables it
    reads (by array name, in the order of the walk's table); None when not compiled."""
    generator = build.generator
    if generator.variable == build.outer \
            or (identifiers(build.element) - {generator.variable}) & build.result_names \
            or any(kind != "rand" for _, kind in build.draws.names):
        return None
    n = build.n
    trees = [t for t in (build.element, build.condition, n if isinstance(n, Expr) else None)
             if t is not None]
    host = _CandidateHostCode(build)
    kernel = KernelOp("connect_candidate", Elements(1))
    try:
        emitter = host._emitter(kernel, trees)
        if emitter is None:
            return None
        bound = {}
        for name, type_ in [(build.outer, Type.I64), (generator.variable, Type.I64)] + [
                (name, Type.F64) for name, _ in build.draws.names]:
            bound[name] = emitter.values[name] = kernel.invariants.add(ArgOp(f"_{name}", type_))

        def segment(tree: Expr, type_: Type) -> Segment:
            start = len(kernel.body.ops)
            value = emitter.expression(tree)
            value = emitter.convert(value if type_ == Type.BOOL else emitter.numeric(value), type_)
            return Segment(list(kernel.body.ops[start:]), value)

        element = segment(build.element, Type.I64)
        emitter.values[build.result] = element.value
        condition = None if build.condition is None else segment(build.condition, Type.BOOL)
        copies = n if isinstance(n, int) else segment(n, Type.I64)
    except SpikecError:
        return None  # the reference raises it where it evaluates the code
    if not supported(kernel):
        return None
    arguments = {op.arg_name: op.result for op in kernel.arguments()}
    constants = {value: emitter.launch_args[name] for name, value in arguments.items()
                 if value not in bound.values()}
    code = CandidateCode(
        kernel, bound[build.outer], bound[generator.variable],
        [bound[name] for name, _ in build.draws.names], element, condition, copies, constants,
        host.arrays, condition is not None and bool(identifiers(build.condition)
                                                    & build.result_names),
        build.outer == "i", build.plan.skip_if_invalid,
        generator.iterator.function == "sample")
    return code, {name: host.input_values[name] for name in host.arrays}


# -- the walk over rows ---------------------------------------------------------------------------
@dataclass
class _Rows:
    """One block's rows and their iterator arguments, as the native function reads them."""

    rows: np.ndarray        # outer indices (i64)
    low: np.ndarray         # i64
    step: np.ndarray        # i64
    count: np.ndarray       # candidates per row (i64)
    p: np.ndarray           # f64 (sample(p=)), else zeros
    log_q: np.ndarray       # log1p(-p), the reference's (0.5 in place of p >= 1)
    expected: np.ndarray    # expected pairs per row, to size buffers and balance pieces

    def address(self, name: str, row: int) -> int:
        array = getattr(self, name)
        return array.ctypes.data + row * array.itemsize


class _Walker:
    """Runs the native function over blocks of rows (module docstring)."""

    def __init__(self, build: GeneratorBuild, code: CandidateCode,
                 inputs: dict[str, np.ndarray], program: NativeFunction):
        self.build, self.code, self.program = build, code, program
        self.inputs = inputs  # kept alive: the table holds their addresses
        self.table = np.array([a.ctypes.data for a in inputs.values()] or [0], dtype=np.uint64)
        self.state = np.zeros(STATE_WORDS, dtype=np.int64)
        self.state[STATE_SEED] = build.seed & 0xFFFFFFFF
        self.state[STATE_SAMPLE_STREAM] = build.sample_stream
        self.state[STATE_CODE_STREAM] = build.code_stream
        self.state[STATE_RESULT_SIZE] = build.result_size
        self.threads = cpu_threads.requested_threads(None) or cpu_threads.available_cores()
        self.copies = code.n if isinstance(code.n, int) else 1

    def rows(self, rows: np.ndarray) -> _Rows:
        values = self.build.iterator_values(rows)
        count = values["count"]
        if "p" in values:
            p = np.ascontiguousarray(values["p"], dtype=np.float64)
            certain = p >= 1
            log_q = np.log1p(-np.where(certain, 0.5, p.clip(0, 1)))
            expected = count * p.clip(0, 1)
        else:
            p = log_q = np.zeros(len(rows))
            expected = count.astype(np.float64)
        return _Rows(rows, np.ascontiguousarray(values["low"]),
                     np.ascontiguousarray(values["step"]), np.ascontiguousarray(count), p,
                     log_q, expected * self.copies)

    def block(self, rows: np.ndarray) -> list[Pairs]:
        """The pairs of one block of rows, as a list of parts in row order."""
        if not len(rows):
            return []
        inputs = self.rows(rows)
        work = np.cumsum(inputs.count, dtype=np.float64)
        pieces = 1 if work[-1] < PARALLEL_WORK or self.threads == 1 else \
            min(len(rows), self.threads * PIECES_PER_THREAD)
        bounds = [0] + [int(np.searchsorted(work, work[-1] * k / pieces)) for k in
                        range(1, pieces)] + [len(rows)]
        ranges = [(a, b) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
        if len(ranges) == 1:
            results = [self.piece(inputs, *ranges[0])]
        else:
            with ThreadPoolExecutor(min(self.threads, len(ranges))) as pool:
                results = list(pool.map(lambda r: self.piece(inputs, *r), ranges))
        failed = [r for r in results if isinstance(r, np.ndarray)]
        if failed:
            self.fail(int(rows[0]), failed[0])
        return [part for parts in results for part in parts]

    def piece(self, inputs: _Rows, start: int, stop: int) -> list[Pairs] | np.ndarray:
        """The pairs of rows start..stop-1 (parts), or the state words of a failed candidate."""
        parts: list[Pairs] = []
        function = self.program.function
        row = start
        expected = float(inputs.expected[start:stop].sum())
        capacity = int(min(BUFFER, max(1024, expected * 1.05 + 1024)))
        while row < stop:
            pre = np.empty(capacity, np.int32)
            post = np.empty(capacity, np.int32)
            state = self.state.copy()
            done = function(stop - row, *(inputs.address(name, row) for name in
                                          ("rows", "low", "step", "count", "p", "log_q")),
                            pre.ctypes.data, post.ctypes.data, capacity, self.table.ctypes.data,
                            state.ctypes.data)
            if done < 0:
                return state
            written = int(state[STATE_WRITTEN])
            if written:
                parts.append((pre[:written], post[:written]))
            if done == 0:  # one row's pairs exceed the buffer: a larger one for it
                capacity *= 4
            row += done
        return parts

    def fail(self, first_row: int, state: np.ndarray) -> None:
        """Raise the reference's error for the block starting at `first_row`."""
        self.build.run(first_row)
        message = self.program.errors[int(state[STATE_ERROR]) - 1]
        raise KernelRuntimeError(f"{self.build.owner}: compiled connect: "
                                 + message.format(value=int(state[STATE_ERROR_VALUE])),
                                 hint="the numpy reference accepted this block: a bug in "
                                      "spikec.backends.connect_llvm")


def _gather(parts: list[Pairs]) -> Pairs:
    """Concatenate the parts, freeing each once copied: the result's pages become resident as
    the parts' are released, so the peak stays near one copy of the pairs."""
    total = sum(len(pre) for pre, _ in parts)
    pre_all, post_all = np.empty(total, np.int32), np.empty(total, np.int32)
    at = 0
    parts.reverse()
    while parts:
        pre, post = parts.pop()
        pre_all[at:at + len(pre)] = pre
        post_all[at:at + len(post)] = post
        at += len(pre)
        del pre, post
    return pre_all, post_all
