"""Lowering model code (expression trees and statements) into a kernel body, as SSA ops.

A `BodyEmitter` fills one kernel: it knows which names are arrays (loaded at an index on first
read, stored once at the end with their final value), which are constants (kernel arguments
bound at launch), which are computed on the fly (subexpressions left in the model), and what the
special names mean (`t` is the step's time, `dt` an argument, `i` the element index).

Types: integer arithmetic runs in i64, floats in the model's float type (f64 or f32), conditions
in bool; values are converted where the code mixes them, as C would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from spikec.errors import SpikecError
from spikec.ir import expression as ast
from spikec.ir.core import Block, Value
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_ops import (AddOp, AndOp, ArgOp, AtomicAddOp, CastOp, CmpOp, ConstantOp,
                                  DivOp,
                                  FloorDivOp, LoadOp, MathOp, MaxOp, MinOp, ModOp, MulOp, NegOp,
                                  NotOp, OrOp, PowOp, RandNormalOp, RandUniformOp, SelectOp,
                                  StoreOp, SubOp, TimeOp, constant_scalar)
from spikec.ir.types import Type
from spikec.passes.lowering.timed_arrays import TimedArrayAccess, emit_timed_array


class LoweringError(SpikecError):
    """Model code that cannot be turned into kernel code (an unsupported function, say)."""

    kind = "lowering error"


OWN, SHARED, PRE, POST = "own", "shared", "pre", "post"


@dataclass(frozen=True)
class ArrayAccess:
    """A name stored in an array: which array, its element type, and at which index code reads
    it: the kernel's element (`own`), index 0 (`shared`), or, in synaptic code, the synapse's
    source or target neuron (`pre`, `post`: loaded from the connectivity arrays)."""

    array: str
    type: Type
    shared: bool = False
    index: str = OWN

    @property
    def kind(self) -> str:
        return SHARED if self.shared else self.index


@dataclass
class Names:
    """What the names in a kernel's code stand for."""

    arrays: dict[str, ArrayAccess] = field(default_factory=dict)
    constants: dict[str, tuple[float | int | bool, Type]] = field(default_factory=dict)
    subexpressions: dict[str, ast.Expr] = field(default_factory=dict)
    conditional_writes: dict[str, str] = field(default_factory=dict)  # var -> boolean var
    # Synaptic code: the arrays holding each synapse's source and target (S._pre, S._post).
    neuron_indices: dict[str, str] = field(default_factory=dict)
    timed_arrays: dict[str, TimedArrayAccess] = field(default_factory=dict)  # callable by name

    def for_kernel(self, dt: float) -> "Names":
        """A copy one kernel may extend (its own `dt`, extra names) without touching this one."""
        return Names(arrays=dict(self.arrays), constants={**self.constants, "dt": (dt, Type.F64)},
                     subexpressions=dict(self.subexpressions),
                     conditional_writes=dict(self.conditional_writes),
                     neuron_indices=dict(self.neuron_indices),
                     timed_arrays=dict(self.timed_arrays))


_COMPARE = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}
_ARITHMETIC = {"+": AddOp, "-": SubOp, "*": MulOp, "/": DivOp, "//": FloorDivOp, "%": ModOp}
_MATH_SAME_NAME = {"exp", "log", "log10", "expm1", "log1p", "exprel", "sin", "cos", "tan", "sinh",
                   "cosh", "tanh", "arcsin", "arccos", "arctan", "sqrt", "abs", "floor", "ceil"}


class BodyEmitter:
    """Emits ops for code into `kernel`'s body; `stream` keys this kernel's random numbers."""

    def __init__(self, kernel: KernelOp, names: Names, float_type: Type, stream: int):
        self.kernel = kernel
        self.body: Block = kernel.body
        self.names = names
        self.float_type = float_type
        self.stream = stream
        self.draws = 0
        self.values: dict[str, Value] = {}       # current value of each name read or written
        self.written: dict[str, Value] = {}      # final values to store
        self.arguments: dict[str, Value] = {}
        self.launch_args: dict[str, float | int | bool] = {}
        self._time: Value | None = None
        self._constants: dict[tuple, Value] = {}
        # The element whose variables plain names read and write: the kernel's index, or for a
        # monitor the recorded neuron.
        self.element: Value = kernel.index
        self._neuron_index: dict[str, Value] = {}
        # Names whose `+=`/`-=` become atomic adds (push propagation onto shared targets).
        self.atomic_names: set[str] = set()

    # -- small builders ----------------------------------------------------------------------
    def constant(self, value: float | int | bool, type: Type) -> Value:
        """A constant of `type` holding `value` rounded to it (`constant_scalar`): a literal
        `0.01` in f32 code is the f32 nearest to the double 0.01, as numpy's float32(0.01)."""
        value = constant_scalar(value, type)
        key = (type, repr(value))
        if key not in self._constants:
            self._constants[key] = self.body.add(ConstantOp(value, type))
        return self._constants[key]

    def argument(self, name: str, value: float | int | bool, type: Type) -> Value:
        """A kernel argument bound to `value` at every launch."""
        if name not in self.arguments:
            self.arguments[name] = self.kernel.invariants.add(ArgOp(name, type))
            self.launch_args[name] = value
        return self.arguments[name]

    def time(self) -> Value:
        if self._time is None:
            self._time = self.body.add(TimeOp())
        return self._time

    def convert(self, value: Value, type: Type) -> Value:
        return value if value.type == type else self.body.add(CastOp(value, type))

    def index(self) -> Value:
        return self.kernel.index

    def array_index(self, access: ArrayAccess) -> Value:
        kind = access.kind
        if kind == SHARED:
            return self.constant(0, Type.I64)
        if kind == OWN:
            return self.element
        if kind not in self._neuron_index:  # load S._pre[s] / S._post[s] once per kernel
            array = self.names.neuron_indices[kind]
            loaded = self.body.add(LoadOp(array, self.element, Type.I32, kind))
            self._neuron_index[kind] = self.convert(loaded, Type.I64)
        return self._neuron_index[kind]

    # -- reading names ---------------------------------------------------------------------
    def read(self, name: str) -> Value:
        if name in self.values:
            return self.values[name]
        names = self.names
        if name in names.arrays:
            access = names.arrays[name]
            value = self.body.add(LoadOp(access.array, self.array_index(access), access.type, name))
        elif name in names.subexpressions:
            value = self.expression(names.subexpressions[name])
        elif name in names.constants:
            constant, type = names.constants[name]
            value = self.argument(name, constant, type)
        elif name == "t":
            value = self.time()
        else:
            raise LoweringError(f"'{name}' has no meaning in kernel @{self.kernel.kernel_name}",
                                hint="this is a bug in lower-to-kernels: the model IR verified")
        self.values[name] = value
        return value

    # -- expressions -------------------------------------------------------------------------
    def expression(self, expr: ast.Expr) -> Value:
        if isinstance(expr, ast.Number):
            value = expr.value
            if isinstance(value, bool):
                return self.constant(value, Type.BOOL)
            if isinstance(value, int):
                return self.constant(value, Type.I64)
            return self.constant(float(value), self.float_type)
        if isinstance(expr, ast.Name):
            return self.read(expr.id)
        if isinstance(expr, ast.UnaryOp):
            operand = self.expression(expr.operand)
            if expr.op == "not":
                return self.body.add(NotOp(self.convert(operand, Type.BOOL)))
            if expr.op == "+":
                return operand
            operand = self.numeric(operand)
            return self.body.add(NegOp(operand))
        if isinstance(expr, ast.BoolOp):
            left = self.convert(self.expression(expr.left), Type.BOOL)
            right = self.convert(self.expression(expr.right), Type.BOOL)
            return self.body.add((AndOp if expr.op == "and" else OrOp)(left, right))
        if isinstance(expr, ast.Compare):
            left, right = self.common(self.expression(expr.left), self.expression(expr.right))
            return self.body.add(CmpOp(_COMPARE[expr.op], left, right))
        if isinstance(expr, ast.BinaryOp):
            return self.binary(expr)
        if isinstance(expr, ast.Call):
            return self.call(expr)
        raise LoweringError(f"cannot lower {expr!r}")

    def numeric(self, value: Value) -> Value:
        """Booleans take part in arithmetic as integers (0 or 1), as in C and Brian."""
        return self.convert(value, Type.I64) if value.type == Type.BOOL else value

    def common(self, left: Value, right: Value) -> tuple[Value, Value]:
        """Bring two operands to one type: float if either is, else i64 (C's promotion)."""
        left, right = self.numeric(left), self.numeric(right)
        if left.type == right.type:
            return left, right
        if left.type.is_float or right.type.is_float:
            target = self.float_type if not (left.type == Type.F64 or right.type == Type.F64) \
                else Type.F64
            return self.convert(left, target), self.convert(right, target)
        return self.convert(left, Type.I64), self.convert(right, Type.I64)

    def to_float(self, value: Value) -> Value:
        return value if value.type.is_float else self.convert(self.numeric(value),
                                                               self.float_type)

    def binary(self, expr: ast.BinaryOp) -> Value:
        return self.arithmetic(expr.op, self.expression(expr.left), self.expression(expr.right))

    def arithmetic(self, op: str, left: Value, right: Value) -> Value:
        """`left op right` for an arithmetic operator of the model language."""
        if op == "/":  # true division
            left, right = self.common(self.to_float(left), self.to_float(right))
            return self.body.add(DivOp(left, right))
        if op == "**":
            left, right = self.common(self.to_float(left), self.to_float(right))
            return self.body.add(PowOp(left, right))
        left, right = self.common(left, right)
        return self.body.add(_ARITHMETIC[op](left, right))

    def call(self, expr: ast.Call) -> Value:
        func = expr.func
        if func == "rand" or func == "randn":
            op_class = RandUniformOp if func == "rand" else RandNormalOp
            value = self.body.add(op_class(self.index(), self.stream, self.draws))
            self.draws += 1
            return self.convert(value, self.float_type)
        args = [self.expression(a) for a in expr.args]
        if func in self.names.timed_arrays:
            return emit_timed_array(self, self.names.timed_arrays[func], args,
                                    self.names.constants["dt"][0])
        if func in _MATH_SAME_NAME:
            operand = args[0] if func == "abs" and args[0].type == Type.I64 \
                else self.to_float(args[0])
            return self.body.add(MathOp(func, [operand]))
        if func == "sign":
            sign = self.body.add(MathOp("sign", [self.numeric(args[0])]))
            return self.convert(sign, Type.I64)
        if func == "int":
            return self.convert(self.numeric(args[0]), Type.I64)
        if func == "clip":
            value, low = self.common(args[0], args[1])
            value, high = self.common(self.body.add(MaxOp(value, low)), args[2])
            return self.body.add(MinOp(value, high))
        if func == "timestep":  # int((t + 1e-3*dt)/dt), as Brian's timestep()
            time, step = self.common(self.to_float(args[0]), self.to_float(args[1]))
            scaled = self.body.add(MulOp(step, self.constant(1e-3, step.type)))
            shifted = self.body.add(AddOp(time, scaled))
            return self.convert(self.body.add(DivOp(shifted, step)), Type.I64)
        raise LoweringError(f"the function '{func}' cannot be lowered to kernel code yet",
                            hint="supported: the default functions except poisson()")

    # -- statements ----------------------------------------------------------------------------
    def statements(self, statements: tuple[ast.Statement, ...] | list[ast.Statement],
                   mask: Value | None = None, honour_conditional_writes: bool = True) -> None:
        """Run `statements` in order for each element; with `mask`, only where it is true."""
        for statement in statements:
            target = statement.target
            value = self.expression(statement.expr)
            if statement.op in ("+=", "-=") and target in self.atomic_names:
                self.atomic_accumulate(target, value, statement.op, mask)
                continue
            if statement.op != "=":  # x += e is x = x + e
                value = self.arithmetic(statement.op[0], self.read(target), value)
            self.assign(target, value, mask, honour_conditional_writes)

    def assign(self, target: str, value: Value, mask: Value | None = None,
               honour_conditional_writes: bool = True) -> None:
        access = self.names.arrays.get(target)
        if access is None and target.startswith("_"):
            # A temporary of generated code (a state updater's `_v`): an SSA value, never stored.
            self.values[target] = value
            return
        if access is None:
            raise LoweringError(f"cannot assign to '{target}' in kernel "
                                f"@{self.kernel.kernel_name}: it is not stored in an array")
        value = self.convert(self.numeric(value) if access.type != Type.BOOL else value,
                             access.type)
        guard = mask
        condition_name = self.names.conditional_writes.get(target)
        if honour_conditional_writes and condition_name is not None:
            condition = self.convert(self.read(condition_name), Type.BOOL)
            guard = condition if guard is None else self.body.add(AndOp(guard, condition))
        if guard is not None:
            value = self.body.add(SelectOp(guard, value, self.read(target)))
        self.values[target] = value
        self.written[target] = value

    def atomic_accumulate(self, target: str, value: Value, op: str, mask: Value | None) -> None:
        """`target += value` as an atomic add (honouring the target's conditional write)."""
        access = self.names.arrays[target]
        value = self.convert(self.numeric(value), access.type)
        if op == "-=":
            value = self.body.add(NegOp(value))
        guard = mask
        condition_name = self.names.conditional_writes.get(target)
        if condition_name is not None:
            condition = self.convert(self.read(condition_name), Type.BOOL)
            guard = condition if guard is None else self.body.add(AndOp(guard, condition))
        self.body.append(AtomicAddOp(access.array, self.array_index(access), value, guard))

    def store_written(self, mask: Value | None = None) -> None:
        """Store every assigned name's final value (call once, after all code); with `mask`,
        only where it holds (elements that did nothing write nothing)."""
        for name, value in self.written.items():
            access = self.names.arrays[name]
            self.body.append(StoreOp(access.array, self.array_index(access), value, mask))
        self.written = {}
