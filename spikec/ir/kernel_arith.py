"""Kernel ops that compute: arithmetic, logic, math functions, comparison, select and cast."""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np

from spikec.ir.core import Value
from spikec.ir.kernel_base import (PURE_COMMUTATIVE, ComputeOp, is_constant, typed,
                                   verify_same_types)
from spikec.ir.math_functions import MATH_FUNCTIONS
from spikec.ir.registry import register_op
from spikec.ir.syntax import Keyword, OpSyntax, ParsedOp
from spikec.ir.types import Type
from spikec.ir.verify import VerifyContext


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
            if is_constant(constants[mine], 0, negative_zero=zero_sign):
                return self.operands[other]
        return super().fold(constants)


@register_op
class SubOp(BinaryOp):
    """``%r = kernel.sub %a, %b : f64``. Folds x - (+0.0) (floats) and x - 0 (integers) to x."""

    name = "kernel.sub"

    def evaluate(self, a: object, b: object) -> object:
        return np.subtract(a, b)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        if is_constant(constants[1], 0, negative_zero=False if self.result.type.is_float else None):
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
            if is_constant(constants[mine], 1):
                return self.operands[other]
            if not self.result.type.is_float and is_constant(constants[mine], 0):
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
        if is_constant(constants[1], 1):
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
