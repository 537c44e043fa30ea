"""The ops of a kernel's invariants region and body, each with its text form in its docstring.

Pure computations (`ComputeOp`) carry their reference semantics in `evaluate` (numpy, on scalars
or on vectors of all elements at once): the interpreter runs it and the `fold` pass folds with it,
so folding can never disagree with the interpreter. Their `fold` hook adds the algebraic identities
that are exact in IEEE arithmetic. Memory, random numbers and the launch state (step, time,
arguments) are interpreted by `spikec.ir.interpreter`.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Op, Trait, Value
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.math_functions import MATH_FUNCTIONS
from spikec.ir.registry import register_op
from spikec.ir.syntax import IndexedSymbol, Keyword, OpSyntax, ParsedOp
from spikec.ir.types import Type
from spikec.ir.verify import VerifyContext

PURE = frozenset({Trait.PURE})
PURE_COMMUTATIVE = frozenset({Trait.PURE, Trait.COMMUTATIVE})
INDEX_TYPES = (Type.I32, Type.I64)


def typed(value: object, type: Type) -> object:
    """`value` as a numpy scalar (0-d input) or array of `type`'s dtype."""
    array = np.asarray(value).astype(type.numpy_dtype, copy=False)
    return array[()] if array.ndim == 0 else array


class BodyOp(Op):
    """Base of the ops allowed inside a kernel's regions."""

    def __init__(self, operands: Sequence[Value] = (), result_types: Sequence[Type] = (),
                 attributes: dict | None = None, name: str | None = None):
        super().__init__(operands, result_types, attributes, result_names=[name] if name else [])


class ComputeOp(BodyOp):
    """A pure op whose result is a function of its operands and attributes (foldable)."""

    traits = PURE

    def evaluate(self, *operands: object) -> object:
        """The result for operand values (numpy scalars or arrays of the operand types)."""
        raise NotImplementedError(self.name)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        """A constant for the result, an existing value equal to it, or None. `constants[i]` is
        operand i's value when a constant defines it, else None."""
        if constants and all(c is not None for c in constants):
            with np.errstate(all="ignore"):
                return typed(self.evaluate(*constants), self.result.type)
        return None


def _is(constant: object, number: float, *, negative_zero: bool | None = None) -> bool:
    """Whether a folded constant equals `number` (and, for zeros, has the given sign)."""
    if constant is None or isinstance(constant, (bool, np.bool_)):
        return False
    if constant != number:
        return False
    return negative_zero is None or bool(np.signbit(constant)) == negative_zero


# -- constants and the launch state ----------------------------------------------------------------
@register_op
class ConstantOp(BodyOp):
    """``%c = kernel.constant 1.5 : f64`` (also ``3 : i32``, ``true : bool``, ``-inf``, ``nan``)."""

    name = "kernel.constant"
    traits = frozenset({Trait.PURE, Trait.CONSTANT_LIKE})

    def __init__(self, value: float | int | bool, type: Type, name: str | None = None):
        if type.is_float:
            value = float(value)
        super().__init__((), [type], {"value": value}, name)

    @property
    def value(self) -> float | int | bool:
        return self.attributes["value"]

    def numpy_value(self) -> object:
        return typed(self.value, self.result.type)

    def syntax(self) -> OpSyntax:
        value = self.value
        item = Keyword("true" if value else "false") if isinstance(value, bool) else value
        return OpSyntax(items=[item], types=[self.result.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "ConstantOp":
        parsed.expect_item_count(1)
        (type,) = parsed.expect_types(1)
        item = parsed.item(0, (int, float, Keyword), "a number, true or false")
        if isinstance(item, Keyword):
            if item.word not in ("true", "false"):
                raise parsed.error(f"unknown constant {item.word}")
            item = item.word == "true"
        elif type.is_float:
            item = float(item)
        return cls.create((), [type], {"value": item}, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        value, type = self.attributes.get("value"), self.result.type
        if type is Type.BOOL:
            ctx.require(isinstance(value, bool), self, "a bool constant needs true or false")
        elif type.is_float:
            ctx.require(isinstance(value, float), self, f"a {type} constant needs a float value")
            ctx.require(type is Type.F64 or np.isnan(value) or float(np.float32(value)) == value, self,
                        "value is not exactly representable in f32")
        else:
            bits = 32 if type is Type.I32 else 64
            ctx.require(isinstance(value, int) and not isinstance(value, bool)
                        and -2 ** (bits - 1) <= value < 2 ** (bits - 1), self,
                        f"value does not fit in {type}")


class LaunchValueOp(BodyOp):
    """Base of nullary ops giving a value of the current launch; `result_type` is fixed."""

    result_type: ClassVar[Type]

    def __init__(self, name: str | None = None):
        super().__init__((), [self.result_type], None, name)

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(not self.operands and len(self.results) == 1, self, "takes no operands, gives one result")
        ctx.require(self.result.type is self.result_type, self, f"result must be {self.result_type}")


@register_op
class StepOp(LaunchValueOp):
    """``%n = kernel.step : i64``: the launch's clock step number (0 at the start)."""

    name = "kernel.step"
    traits = frozenset({Trait.PURE, Trait.VARIES_PER_STEP})
    result_type = Type.I64


@register_op
class TimeOp(LaunchValueOp):
    """``%t = kernel.time : f64``: the launch's time, step * dt of its clock, in seconds."""

    name = "kernel.time"
    traits = frozenset({Trait.PURE, Trait.VARIES_PER_STEP})
    result_type = Type.F64


@register_op
class ArgOp(BodyOp):
    """``%tau = kernel.arg "tau" : f64``: the kernel's scalar argument `tau`, given at launch.

    Only in the invariants region; the kernel's arguments are its arg ops, in order."""

    name = "kernel.arg"
    traits = PURE

    def __init__(self, arg_name: str, type: Type):
        super().__init__((), [type], {"name": arg_name}, arg_name)

    @property
    def arg_name(self) -> str:
        return self.attributes["name"]

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[self.arg_name], types=[self.result.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "ArgOp":
        parsed.expect_item_count(1)
        arg_name = parsed.item(0, str, "the argument's name as a string")
        return cls.create((), parsed.expect_types(1), {"name": arg_name}, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        arg_name = self.attributes.get("name")
        ctx.require(isinstance(arg_name, str) and arg_name.isidentifier(), self,
                    "the argument name must be an identifier")


# -- arithmetic, logic, comparison -----------------------------------------------------------------
_TYPE_CLASSES = {
    "numeric": (Type.F64, Type.F32, Type.I32, Type.I64),
    "float": (Type.F64, Type.F32),
    "integer": INDEX_TYPES,
    "bool": (Type.BOOL,),
}


class BinaryOp(ComputeOp):
    """``%r = kernel.<op> %a, %b : T``: both operands and the result of type T."""

    type_class: ClassVar[str] = "numeric"

    def __init__(self, lhs: Value, rhs: Value, name: str | None = None):
        super().__init__([lhs, rhs], [lhs.type], None, name)

    @property
    def lhs(self) -> Value:
        return self.operands[0]

    @property
    def rhs(self) -> Value:
        return self.operands[1]

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "BinaryOp":
        parsed.expect_item_count(2)
        operands = [parsed.item(i, Value, "a value") for i in range(2)]
        return cls.create(operands, parsed.expect_types(1), parsed.attributes, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        verify_same_types(ctx, self, self.type_class)


def verify_same_types(ctx: VerifyContext, op: Op, type_class: str) -> None:
    """All operands and the single result share one type, of the given class."""
    types = [v.type for v in op.operands] + [r.type for r in op.results]
    ctx.require(len(op.results) == 1, op, "must have one result")
    ctx.require(len(set(types)) == 1, op, f"operand and result types differ ({', '.join(map(str, types))})")
    ctx.require(types[0] in _TYPE_CLASSES[type_class], op, f"type must be {type_class}, not {types[0]}")


@register_op
class AddOp(BinaryOp):
    """``%r = kernel.add %a, %b : f64``. Folds x + (-0.0) (floats) and x + 0 (integers) to x."""

    name = "kernel.add"
    traits = PURE_COMMUTATIVE

    def evaluate(self, a: object, b: object) -> object:
        return np.add(a, b)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        zero_sign = True if self.result.type.is_float else None  # x + 0.0 is not x for x = -0.0
        for mine, other in ((0, 1), (1, 0)):
            if _is(constants[mine], 0, negative_zero=zero_sign):
                return self.operands[other]
        return super().fold(constants)


@register_op
class SubOp(BinaryOp):
    """``%r = kernel.sub %a, %b : f64``. Folds x - (+0.0) (floats) and x - 0 (integers) to x."""

    name = "kernel.sub"

    def evaluate(self, a: object, b: object) -> object:
        return np.subtract(a, b)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        if _is(constants[1], 0, negative_zero=False if self.result.type.is_float else None):
            return self.lhs
        return super().fold(constants)


@register_op
class MulOp(BinaryOp):
    """``%r = kernel.mul %a, %b : f64``. Folds x * 1 to x; x * 0 to 0 only for integers (for floats
    it is -0, nan or 0 depending on x)."""

    name = "kernel.mul"
    traits = PURE_COMMUTATIVE

    def evaluate(self, a: object, b: object) -> object:
        return np.multiply(a, b)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        for mine, other in ((0, 1), (1, 0)):
            if _is(constants[mine], 1):
                return self.operands[other]
            if not self.result.type.is_float and _is(constants[mine], 0):
                return typed(0, self.result.type)
        return super().fold(constants)


@register_op
class DivOp(BinaryOp):
    """``%r = kernel.div %a, %b : f64``: IEEE division; on integers it truncates towards zero and
    x / 0 is 0. Folds x / 1 to x."""

    name = "kernel.div"

    def evaluate(self, a: object, b: object) -> object:
        if not self.result.type.is_integer:
            return np.divide(a, b)
        a, b = np.asarray(a), np.asarray(b)
        safe = np.where(b == 0, 1, b)
        quotient = np.abs(a) // np.abs(safe) * np.sign(a) * np.sign(safe)
        return np.where(b == 0, 0, quotient)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        if _is(constants[1], 1):
            return self.lhs
        return super().fold(constants)


@register_op
class FloorDivOp(BinaryOp):
    """``%r = kernel.floordiv %a, %b : f64``: floor(a / b); on integers x // 0 is 0."""

    name = "kernel.floordiv"

    def evaluate(self, a: object, b: object) -> object:
        if not self.result.type.is_integer:
            return np.floor(np.divide(a, b))
        safe = np.where(np.asarray(b) == 0, 1, b)
        return np.where(np.asarray(b) == 0, 0, np.floor_divide(a, safe))


@register_op
class ModOp(BinaryOp):
    """``%r = kernel.mod %a, %b : f64``: the remainder with the sign of b (Python's %): for floats
    r = fmod(a, b), plus b when r != 0 and r, b differ in sign; on integers x % 0 is 0."""

    name = "kernel.mod"

    def evaluate(self, a: object, b: object) -> object:
        if not self.result.type.is_integer:
            remainder = np.fmod(a, b)
            return np.where((remainder != 0) & ((remainder < 0) != (np.asarray(b) < 0)), remainder + b, remainder)
        safe = np.where(np.asarray(b) == 0, 1, b)
        return np.where(np.asarray(b) == 0, 0, np.mod(a, safe))


@register_op
class PowOp(BinaryOp):
    """``%r = kernel.pow %a, %b : f64``: a to the power b (floats only)."""

    name = "kernel.pow"
    type_class = "float"

    def evaluate(self, a: object, b: object) -> object:
        return np.power(a, b)


class MinMaxOp(BinaryOp):
    """min/max propagate nan; min(x, x) folds to x."""

    traits = PURE_COMMUTATIVE

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        if self.lhs is self.rhs:
            return self.lhs
        return super().fold(constants)


@register_op
class MinOp(MinMaxOp):
    """``%r = kernel.min %a, %b : f64``: the smaller operand, nan if either is nan."""

    name = "kernel.min"

    def evaluate(self, a: object, b: object) -> object:
        return np.minimum(a, b)


@register_op
class MaxOp(MinMaxOp):
    """``%r = kernel.max %a, %b : f64``: the larger operand, nan if either is nan."""

    name = "kernel.max"

    def evaluate(self, a: object, b: object) -> object:
        return np.maximum(a, b)


@register_op
class AndOp(BinaryOp):
    """``%r = kernel.and %a, %b : bool``. Folds x and true to x, x and false to false."""

    name = "kernel.and"
    traits = PURE_COMMUTATIVE
    type_class = "bool"

    def evaluate(self, a: object, b: object) -> object:
        return np.logical_and(a, b)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        return _fold_logic(self, constants, absorbing=False)


@register_op
class OrOp(BinaryOp):
    """``%r = kernel.or %a, %b : bool``. Folds x or false to x, x or true to true."""

    name = "kernel.or"
    traits = PURE_COMMUTATIVE
    type_class = "bool"

    def evaluate(self, a: object, b: object) -> object:
        return np.logical_or(a, b)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        return _fold_logic(self, constants, absorbing=True)


def _fold_logic(op: BinaryOp, constants: Sequence[object | None], absorbing: bool) -> object | Value | None:
    """and (absorbing=False) / or (absorbing=True) with one constant operand."""
    for mine, other in ((0, 1), (1, 0)):
        if constants[mine] is not None:
            return np.bool_(absorbing) if bool(constants[mine]) == absorbing else op.operands[other]
    if op.lhs is op.rhs:
        return op.lhs
    return None


class UnaryOp(ComputeOp):
    """``%r = kernel.<op> %a : T``; folds op(op(x)) to x (both are involutions)."""

    type_class: ClassVar[str] = "numeric"

    def __init__(self, operand: Value, name: str | None = None):
        super().__init__([operand], [operand.type], None, name)

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "UnaryOp":
        parsed.expect_item_count(1)
        operand = parsed.item(0, Value, "a value")
        return cls.create([operand], parsed.expect_types(1), parsed.attributes, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        verify_same_types(ctx, self, self.type_class)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        inner = getattr(self.operands[0], "op", None)
        if type(inner) is type(self):
            return inner.operands[0]
        return super().fold(constants)


@register_op
class NegOp(UnaryOp):
    """``%r = kernel.neg %a : f64``: -a."""

    name = "kernel.neg"

    def evaluate(self, a: object) -> object:
        return np.negative(a)


@register_op
class NotOp(UnaryOp):
    """``%r = kernel.not %a : bool``."""

    name = "kernel.not"
    type_class = "bool"

    def evaluate(self, a: object) -> object:
        return np.logical_not(a)


@register_op
class MathOp(ComputeOp):
    """``%r = kernel.math exp, %x : f64`` (``arctan2, %y, %x``): a named function, see
    `spikec.ir.math_functions`; operands and result share one type."""

    name = "kernel.math"

    def __init__(self, function: str, operands: Sequence[Value], name: str | None = None):
        super().__init__(list(operands), [operands[0].type], {"function": function}, name)

    @property
    def function(self) -> str:
        return self.attributes["function"]

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[Keyword(self.function), *self.operands], types=[self.result.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "MathOp":
        function = parsed.item(0, Keyword, "a function name").word
        operands = [parsed.item(i, Value, "a value") for i in range(1, len(parsed.items))]
        return cls.create(operands, parsed.expect_types(1), {"function": function}, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        function = MATH_FUNCTIONS.get(self.attributes.get("function"))
        if function is None:
            ctx.fail(self, f"unknown math function {self.attributes.get('function')!r}",
                     f"known: {', '.join(sorted(MATH_FUNCTIONS))}")
        ctx.require(len(self.operands) == function.arity, self,
                    f"{function.name} takes {function.arity} operand(s), not {len(self.operands)}")
        verify_same_types(ctx, self, "numeric" if function.integers_allowed else "float")

    def evaluate(self, *operands: object) -> object:
        return MATH_FUNCTIONS[self.function].compute(*operands)


CMP_PREDICATES = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
                  "eq": np.equal, "ne": np.not_equal}


@register_op
class CmpOp(ComputeOp):
    """``%c = kernel.cmp lt, %a, %b : f64``: compares two T values to a bool; predicates lt le gt
    ge eq ne; with a nan operand every predicate but ne is false."""

    name = "kernel.cmp"

    def __init__(self, predicate: str, lhs: Value, rhs: Value, name: str | None = None):
        super().__init__([lhs, rhs], [Type.BOOL], {"predicate": predicate}, name)

    @property
    def predicate(self) -> str:
        return self.attributes["predicate"]

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[Keyword(self.predicate), *self.operands], types=[self.operands[0].type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "CmpOp":
        parsed.expect_item_count(3)
        predicate = parsed.item(0, Keyword, "a predicate (lt le gt ge eq ne)").word
        operands = [parsed.item(i, Value, "a value") for i in (1, 2)]
        parsed.expect_types(1)
        return cls.create(operands, [Type.BOOL], {"predicate": predicate}, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(self.attributes.get("predicate") in CMP_PREDICATES, self,
                    f"unknown predicate {self.attributes.get('predicate')!r}", "use lt, le, gt, ge, eq or ne")
        ctx.require(len(self.operands) == 2 and self.operands[0].type == self.operands[1].type, self,
                    "compares two operands of one type")
        ctx.require(self.result.type is Type.BOOL, self, "result must be bool")

    def evaluate(self, a: object, b: object) -> object:
        return CMP_PREDICATES[self.predicate](a, b)


@register_op
class SelectOp(ComputeOp):
    """``%r = kernel.select %cond, %a, %b : f64``: a where cond is true, else b."""

    name = "kernel.select"

    def __init__(self, condition: Value, if_true: Value, if_false: Value, name: str | None = None):
        super().__init__([condition, if_true, if_false], [if_true.type], None, name)

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "SelectOp":
        parsed.expect_item_count(3)
        operands = [parsed.item(i, Value, "a value") for i in range(3)]
        return cls.create(operands, parsed.expect_types(1), parsed.attributes, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(len(self.operands) == 3, self, "takes a condition and two values")
        condition, if_true, if_false = self.operands
        ctx.require(condition.type is Type.BOOL, self, f"condition must be bool, not {condition.type}")
        ctx.require(if_true.type == if_false.type == self.result.type, self, "value and result types differ")

    def evaluate(self, condition: object, if_true: object, if_false: object) -> object:
        return np.where(condition, if_true, if_false)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        if constants[0] is not None:
            return self.operands[1] if bool(constants[0]) else self.operands[2]
        if self.operands[1] is self.operands[2]:
            return self.operands[1]
        return super().fold(constants)


@register_op
class CastOp(ComputeOp):
    """``%r = kernel.cast %x : f64 -> i32``: converts; floats to integers truncate towards zero
    (undefined out of range or for nan), numbers to bool test != 0, bool to numbers give 0 or 1."""

    name = "kernel.cast"

    def __init__(self, operand: Value, to: Type, name: str | None = None):
        super().__init__([operand], [to], None, name)

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=list(self.operands), types=[self.operands[0].type],
                        result_types=[self.result.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "CastOp":
        parsed.expect_item_count(1)
        operand = parsed.item(0, Value, "a value")
        (source,) = parsed.expect_types(1)
        if parsed.result_types is None or len(parsed.result_types) != 1:
            raise parsed.error("needs '-> type', the type to convert to")
        if source != operand.type:
            raise parsed.error(f"operand is {operand.type}, but the text says {source}")
        return cls.create([operand], parsed.result_types, None, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(len(self.operands) == 1 and len(self.results) == 1, self, "takes one operand")

    def evaluate(self, x: object) -> object:
        target = self.result.type
        if target is Type.BOOL:
            return np.not_equal(x, 0)
        if target.is_integer and self.operands[0].type.is_float:
            return np.trunc(x)
        return x

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        if self.operands[0].type == self.result.type:
            return self.operands[0]
        return super().fold(constants)


# -- memory --------------------------------------------------------------------------------------
class MemoryOp(BodyOp):
    """Base of ops that access array ``attributes["array"]`` at operand 0, the index."""

    @property
    def array(self) -> SymbolRef:
        return self.attributes["array"]

    @property
    def index(self) -> Value:
        return self.operands[0]

    def verify_array(self, ctx: VerifyContext, value_type: Type) -> ArrayOp:
        array = ctx.symbol(self, self.attributes.get("array"), ArrayOp, "an array")
        assert isinstance(array, ArrayOp)
        ctx.require(self.index.type in INDEX_TYPES, self, f"index must be i32 or i64, not {self.index.type}")
        ctx.require(value_type == array.element_type, self,
                    f"{array.attributes['sym_name']} holds {array.element_type}, not {value_type}")
        return array


@register_op
class LoadOp(MemoryOp):
    """``%v = kernel.load @G.v[%i] : f64``: element i of array G.v."""

    name = "kernel.load"
    traits = frozenset({Trait.READS_MEMORY})

    def __init__(self, array: str | SymbolRef, index: Value, type: Type, name: str | None = None):
        super().__init__([index], [type], {"array": _ref(array)}, name)

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[IndexedSymbol(self.array, self.index)], types=[self.result.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "LoadOp":
        parsed.expect_item_count(1)
        access = parsed.item(0, IndexedSymbol, "an array access @name[%index]")
        return cls.create([access.index], parsed.expect_types(1), {"array": access.symbol}, (),
                          parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        self.verify_array(ctx, self.result.type)


class WriteOp(MemoryOp):
    """``kernel.<op> @A[%i], %value if %mask : T``; operands index, value and the optional mask
    (a bool: when false, this element does not write)."""

    traits = frozenset({Trait.SIDE_EFFECT})

    def __init__(self, array: str | SymbolRef, index: Value, value: Value, mask: Value | None = None):
        super().__init__([index, value] + ([mask] if mask is not None else []), (), {"array": _ref(array)})

    @property
    def value(self) -> Value:
        return self.operands[1]

    @property
    def mask(self) -> Value | None:
        return self.operands[2] if len(self.operands) > 2 else None

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[IndexedSymbol(self.array, self.index), self.value], mask=self.mask,
                        types=[self.value.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "WriteOp":
        parsed.expect_item_count(2)
        parsed.expect_results(0)
        access = parsed.item(0, IndexedSymbol, "an array access @name[%index]")
        value = parsed.item(1, Value, "the value to write")
        (declared,) = parsed.expect_types(1)
        if declared != value.type:
            raise parsed.error(f"value is {value.type}, but the text says {declared}")
        operands = [access.index, value] + ([parsed.mask] if parsed.mask is not None else [])
        return cls.create(operands, (), {"array": access.symbol})

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(len(self.operands) in (2, 3) and not self.results, self, "takes index, value and a mask")
        self.verify_array(ctx, self.value.type)
        ctx.require(self.mask is None or self.mask.type is Type.BOOL, self, "mask must be bool")


@register_op
class StoreOp(WriteOp):
    """``kernel.store @G.v[%i], %v if %m : f64``: G.v[i] = v (when m). When several elements of one
    launch store to one place, the highest element index wins."""

    name = "kernel.store"


@register_op
class AtomicAddOp(WriteOp):
    """``kernel.atomic_add @G.ge[%j], %w if %m : f64``: G.ge[j] += w (when m), atomically: adds
    from all elements of a launch accumulate (in element order, in the interpreter)."""

    name = "kernel.atomic_add"

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.require(self.value.type is not Type.BOOL, self, "cannot add bool values")


@register_op
class EmitSpikeOp(BodyOp):
    """``kernel.emit_spike @G._spikespace, %i if %m``: appends index i (when m) to the spike list;
    within a launch the list ends up in increasing element order."""

    name = "kernel.emit_spike"
    traits = frozenset({Trait.SIDE_EFFECT})

    def __init__(self, spike_list: str | SymbolRef, index: Value, mask: Value | None = None):
        super().__init__([index] + ([mask] if mask is not None else []), (), {"spike_list": _ref(spike_list)})

    @property
    def spike_list(self) -> SymbolRef:
        return self.attributes["spike_list"]

    @property
    def index(self) -> Value:
        return self.operands[0]

    @property
    def mask(self) -> Value | None:
        return self.operands[1] if len(self.operands) > 1 else None

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[self.spike_list, self.index], mask=self.mask)

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "EmitSpikeOp":
        parsed.expect_item_count(2)
        parsed.expect_types(0)
        spike_list = parsed.item(0, SymbolRef, "the spike list @name")
        index = parsed.item(1, Value, "the index to emit")
        operands = [index] + ([parsed.mask] if parsed.mask is not None else [])
        return cls.create(operands, (), {"spike_list": spike_list})

    def verify(self, ctx: VerifyContext) -> None:
        from spikec.ir.index_spaces import verify_spike_list  # index spaces build on these ops

        ctx.require(len(self.operands) in (1, 2) and not self.results, self, "takes an index and a mask")
        verify_spike_list(ctx, self, self.attributes.get("spike_list"))
        ctx.require(self.index.type in INDEX_TYPES, self, f"index must be i32 or i64, not {self.index.type}")
        ctx.require(self.mask is None or self.mask.type is Type.BOOL, self, "mask must be bool")


# -- random numbers --------------------------------------------------------------------------------
class RandOp(BodyOp):
    """``%r = kernel.rand_<kind> %i {stream = 3, draw = 0} : f64``: a counter-based random number
    for element i at the current step; see `spikec.ir.philox` for the exact scheme. The same
    (stream, draw, element, step, seed) always gives the same number, so the op is pure."""

    traits = frozenset({Trait.PURE, Trait.VARIES_PER_STEP})

    def __init__(self, index: Value, stream: int, draw: int = 0, name: str | None = None):
        super().__init__([index], [Type.F64], {"stream": stream, "draw": draw}, name)

    @property
    def stream(self) -> int:
        return self.attributes["stream"]

    @property
    def draw(self) -> int:
        return self.attributes["draw"]

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(len(self.operands) == 1 and self.operands[0].type in INDEX_TYPES, self,
                    "takes one i32/i64 element index")
        ctx.require(len(self.results) == 1 and self.result.type is Type.F64, self, "result must be f64")
        ctx.require(set(self.attributes) == {"stream", "draw"}, self, "needs attributes stream and draw")
        for key in ("stream", "draw"):
            value = self.attributes[key]
            ctx.require(isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 32,
                        self, f"{key} must be an integer in [0, 2**32)")


@register_op
class RandUniformOp(RandOp):
    """``%r = kernel.rand_uniform %i {stream = 3, draw = 0} : f64``: uniform in [0, 1)."""

    name = "kernel.rand_uniform"


@register_op
class RandNormalOp(RandOp):
    """``%r = kernel.rand_normal %i {stream = 3, draw = 0} : f64``: standard normal."""

    name = "kernel.rand_normal"


def _ref(array: str | SymbolRef) -> SymbolRef:
    return array if isinstance(array, SymbolRef) else SymbolRef(array)
