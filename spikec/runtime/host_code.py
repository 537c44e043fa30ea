"""Running a piece of model code on a group's current values, on the host.

`G.v = 'El + rand()*5*mV'`, `G.v['i > 5'] = ...`, `G.v['i > 5']` and reading a subexpression all
come here. The code is checked as any model code (names, dimensions), lowered with the same
`BodyEmitter` as network kernels into a one-kernel module, and run by the reference interpreter on
copies of the group's arrays; changed arrays are written back through the group's storage. So the
random numbers an initialiser draws do not depend on the device: each evaluation draws from its
own Philox stream (counted from `seed()`), and the same script gives the same values everywhere.

With `compiled=True` (the cpu and cuda devices) the kernel runs as native code when it can
(`spikec.runtime.host_code_native`: same streams, same values), the interpreter otherwise, with
the reason in `interpreted_because`. Only the arrays the kernel touches are copied in and out.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from spikec.frontend.groups import Group
from spikec.frontend.inputs import timed_array_ops
from spikec.frontend.namespace import Namespace
from spikec.frontend.subgroups import in_parent_frame
from spikec.ir.core import Module
from spikec.ir.dimension_rules import (BOOLEAN, INTEGER, Source, check_condition, check_statement,
                                       infer)
from spikec.ir.expression import Expr, Statement, identifiers
from spikec.ir.expression_parser import parse_expression, parse_statements
from spikec.ir.index_spaces import Elements
from spikec.ir.interpreter import Interpreter
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import AtomicAddOp, LoadOp, StoreOp
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import ArrayAccess, BodyEmitter, Names
from spikec.frontend.variables import CONSTANT, INDEX, SUBEXPRESSION_ROLE
from spikec.passes.lowering.neuron_kernels import STORED_ROLES
from spikec.passes.lowering.timed_arrays import timed_array_access
from spikec.runtime.devices import device_settings
from spikec.runtime.host_code_native import run_native

INITIALISER_STREAM_BASE = 1 << 31


class InitialiserStreams:
    """Counts host evaluations so each draws from a fresh random stream; `seed()` restarts it."""

    def __init__(self):
        self.count = 0
        self.seed_calls = 0

    def take(self) -> tuple[int, int]:
        """(seed, stream) for the next evaluation."""
        if self.seed_calls != device_settings.seed_calls:
            self.seed_calls, self.count = device_settings.seed_calls, 0
        self.count += 1
        seed = device_settings.seed if device_settings.seed is not None else _fresh_seed()
        return seed, INITIALISER_STREAM_BASE + self.count


def _fresh_seed() -> int:
    return int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))


initialiser_streams = InitialiserStreams()


def element_type(kind: str, float_type: Type) -> Type:
    """The IR type of a variable of this kind (boolean, integer, or the group's float type)."""
    return {BOOLEAN: Type.BOOL, INTEGER: Type.I32}.get(kind, float_type)


class HostCode:
    """One group's names and arrays, ready to run code on them."""

    def __init__(self, group: Group, namespace: dict[str, Any], owner: str,
                 compiled: bool = False):
        self.group = group
        self.owner = owner
        self.compiled = compiled
        self.interpreted_because: str | None = None  # why the last run was not native
        self.float_type = Type.F32 if group.dtype == np.float32 else Type.F64
        self.namespace = Namespace(self._visible_variables(), group.namespace, namespace)
        self.size = group.size
        # Arrays the code reads besides the group's own: TimedArray values, other groups' values
        self.input_values: dict[str, np.ndarray] = {}

    def _visible_variables(self) -> dict[str, tuple]:
        """The model names code may use: (dimension, kind) of each."""
        return {n: (s.dim, s.kind) for n, s in self.group.variables.items()}

    def _read_only(self) -> set[str]:
        """Names the code cannot assign (Python may set constant parameters: only computed
        names are off limits here)."""
        return {n for n, s in self.group.variables.items()
                if s.role in (INDEX, CONSTANT, SUBEXPRESSION_ROLE)}

    def _own_arrays(self, touched: set[str]) -> dict[str, np.ndarray]:
        """Copies of the group's stored arrays named in `touched` (as the kernel names them)."""
        prefix = f"{self.group.name}."
        return {name: self.group.values.read(name) for name, spec in self.group.variables.items()
                if spec.role in STORED_ROLES and prefix + name in touched}

    def _emitter(self, kernel: KernelOp, trees: list[Expr]) -> BodyEmitter:
        """A body emitter for `kernel` with every name of `trees` bound."""
        emitter = BodyEmitter(kernel, self._names(trees), self.float_type, 0)
        emitter.values["i"] = kernel.index
        return emitter

    def _names(self, trees: list[Expr]) -> Names:
        names = Names()
        for name, spec in self.group.variables.items():
            if spec.role in STORED_ROLES:
                names.arrays[name] = ArrayAccess(f"{self.group.name}.{name}",
                                                 element_type(spec.kind, self.float_type),
                                                 spec.shared)
        for eq_name, eq in self.group.equations.items():
            if eq.type == "subexpression" and eq.expr is not None:
                names.subexpressions[eq_name] = in_parent_frame(self.group, eq.expr.tree)
        pending = list(trees) + [t for t in names.subexpressions.values()]
        for tree in pending:
            for name in identifiers(tree):
                info = self.namespace.resolve(name)
                if info is not None and info.origin not in ("variable", "special", "noise") \
                        and info.value is not None:
                    kind = Type.I64 if isinstance(info.value, int) and info.kind == INTEGER \
                        else (Type.BOOL if info.kind == BOOLEAN else Type.F64)
                    names.constants[name] = (info.value, kind)
        names.constants["N"] = (self.group.size, Type.I64)
        names.constants["dt"] = (self.group.clock.dt_seconds, Type.F64)
        for op in timed_array_ops(pending, self.namespace):
            access = timed_array_access(f"_timedarray_{op.sym_name}", op)
            names.timed_arrays[op.sym_name] = access
            self.input_values[access.array] = np.array(op.attributes["values"], np.float64)
        return names

    def _arrays(self, kernel: KernelOp, extra: dict[str, ArrayOp]) -> dict[str, np.ndarray]:
        """Fresh arrays for a run of `kernel`: copies of the group's, zeros for `extra`, inputs."""
        touched = {op.array.name for op in kernel.body.ops
                   if isinstance(op, (LoadOp, StoreOp, AtomicAddOp))}
        arrays = {f"{self.group.name}.{n}": np.ascontiguousarray(a)
                  for n, a in self._own_arrays(touched).items()}
        for op in extra.values():
            arrays[op.array_name] = np.zeros(op.length, op.element_type.numpy_dtype)
        arrays.update(self.input_values)
        return arrays

    def _run(self, kernel: KernelOp, emitter: BodyEmitter, extra: dict[str, ArrayOp],
             time: float) -> dict[str, np.ndarray]:
        arrays = self._arrays(kernel, extra)
        module = Module([ArrayOp(name, type_of(array), len(array)) for name, array in arrays.items()]
                        + [kernel])
        seed, stream = initialiser_streams.take()
        emitter.stream = stream
        _renumber_streams(kernel, stream)
        outcome = None
        if self.compiled:
            outcome = run_native(module, kernel, arrays, emitter.launch_args, seed, stream, time)
            self.interpreted_because = outcome.reason
            if outcome.reason is None:
                return arrays
            if outcome.wrote:
                arrays = self._arrays(kernel, extra)
        Interpreter(module, arrays, seed).launch(kernel, emitter.launch_args, 0, time)
        if outcome is not None and outcome.wrote:  # the interpreter raised nothing
            warnings.warn(f"{self.owner}: compiled host code recorded an error that the "
                          "interpreter did not raise (a bug in spikec.backends.host_code_llvm); "
                          "the interpreter's values were kept", RuntimeWarning, stacklevel=2)
        return arrays

    def execute(self, code: str | list[Statement], condition: str | None = None,
                time: float = 0.0) -> None:
        """Run statements for every element (or those where `condition` holds)."""
        text = code if isinstance(code, str) else "\n".join(str(s) for s in code)
        statements = parse_statements(text, self.owner) if isinstance(code, str) else code
        source = Source(text, self.owner)
        read_only = self._read_only()
        for statement in statements:
            check_statement(statement, self.namespace, source, read_only)
        trees = [s.expr for s in statements]
        mask_tree = None
        if condition is not None:
            mask_tree = parse_expression(condition, f"{self.owner}, condition")
            check_condition(mask_tree, self.namespace, Source(condition, self.owner),
                            "the index condition")
            trees.append(mask_tree)
        kernel = KernelOp("host_code", Elements(self.size))
        emitter = self._emitter(kernel, trees)
        mask = emitter.convert(emitter.expression(mask_tree), Type.BOOL) if mask_tree else None
        emitter.statements(statements, mask, honour_conditional_writes=False)
        written = dict(emitter.written)
        emitter.store_written()
        arrays = self._run(kernel, emitter, {}, time)
        for name in written:
            self.group.values.write_array(name, arrays[f"{self.group.name}.{name}"])

    def evaluate(self, expression: str | Expr, time: float = 0.0) -> tuple[np.ndarray, Any]:
        """Values of an expression for every element, and what `infer` found (dim, kind)."""
        text = expression if isinstance(expression, str) else str(expression)
        tree = parse_expression(text, self.owner) if isinstance(expression, str) else expression
        inferred = infer(tree, self.namespace, Source(text, self.owner))
        kernel = KernelOp("host_code", Elements(self.size))
        emitter = self._emitter(kernel, [tree])
        value = emitter.expression(tree)
        result_type = Type.BOOL if inferred.kind == BOOLEAN else (
            Type.I64 if inferred.kind == INTEGER else Type.F64)
        value = emitter.convert(emitter.numeric(value) if result_type != Type.BOOL else value,
                                result_type)
        kernel.body.append(StoreOp("_result", kernel.index, value))
        result = ArrayOp("_result", result_type, self.size)
        arrays = self._run(kernel, emitter, {"_result": result}, time)
        return arrays["_result"], inferred


def type_of(array: np.ndarray) -> Type:
    """The IR type whose numpy dtype `array` has (arrays handed to host code keep their dtype)."""
    for candidate in Type:
        if candidate.numpy_dtype == array.dtype:
            return candidate
    raise TypeError(f"no IR type for {array.dtype}")


def _renumber_streams(kernel: KernelOp, stream: int) -> None:
    for op in kernel.body.ops:
        if op.name in ("kernel.rand_uniform", "kernel.rand_normal"):
            op.attributes["stream"] = stream


def _current_time(group: Group) -> float:
    """The time of the group's clock (0 before any run)."""
    return getattr(group.values, "time", lambda: 0.0)()
