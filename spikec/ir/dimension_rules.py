"""Dimension and type inference for model code, with errors that point into the text.

`infer` walks an expression tree and returns its dimension and kind (float, integer, boolean),
raising a spikec error at the first problem: an unknown name, `v + t` with volt and second, `exp`
of a voltage, a non-boolean condition. `check_statement` applies the rules of the assignment
operators. Positions come from the trees' spans, which are offsets into `source.text`.

These are the only implementation of the rules. Names are looked up through a `Resolver`: the
frontend's `Namespace` (model variables, `namespace=`, the caller's frame, units) when it checks
what a user wrote, and the `check-units` pass's resolver over model IR (variables, constants and
timed arrays of an object) when it re-checks a module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from spikec.errors import (DimensionMismatchError, EquationError, ModelSyntaxError, SourceLocation,
                           UnknownIdentifierError)
from spikec.ir.expression import (BinaryOp, BoolOp, Call, Compare, Expr, Name, Number, Span,
                                  Statement, UnaryOp, format_expression)
from spikec.ir.functions import DEFAULT_CONSTANTS, DimensionRule, FunctionSignature
from spikec.units import DIMENSIONLESS, Dimension, get_unit

FLOAT, INTEGER, BOOLEAN = "float", "integer", "boolean"

TIME = Dimension(time=1)
NOISE = TIME ** -0.5  # xi has dimension second**-0.5: xi*sqrt(dt) is dimensionless


def is_noise_name(name: str) -> bool:
    """`xi`, `xi_1`, ...: the noise terms of stochastic equations."""
    return name == "xi" or name.startswith("xi_")


def builtin_name(name: str) -> NameInfo | None:
    """The names all model code sees without defining them: `t`, `dt` (times), the noise terms
    (`xi`, `xi_*`) and the default constants (`pi`, `e`, `inf`); None for any other name."""
    if name in ("t", "dt"):
        return NameInfo(name, TIME, FLOAT, "special")
    if is_noise_name(name):
        return NameInfo(name, NOISE, FLOAT, "noise")
    if name in DEFAULT_CONSTANTS:
        return NameInfo(name, DIMENSIONLESS, FLOAT, "constant", DEFAULT_CONSTANTS[name])
    return None


@dataclass(frozen=True)
class NameInfo:
    """What a resolved name is: its dimension and kind, where it came from, and (for constants)
    its value in SI units."""

    name: str
    dim: Dimension
    kind: str          # FLOAT, INTEGER or BOOLEAN
    # 'variable', 'special', 'noise', 'constant', 'unit', 'namespace', 'caller', 'temporary'
    origin: str
    value: Any = None
    function: FunctionSignature | None = None


class Resolver(Protocol):
    """What the inference needs to know about names: what a name is, and what a called name is."""

    def resolve(self, name: str) -> NameInfo | None:
        """The meaning of `name` as a value, or None when it is unknown."""

    def function(self, name: str) -> FunctionSignature | None:
        """The signature of the function `name`, or None when it names no function."""


class Locator(Protocol):
    """Where an error points, given a tree's span (`Source`, or an op of model IR)."""

    def location(self, span: Span | None) -> SourceLocation | None: ...


@dataclass(frozen=True)
class Source:
    """The text trees were parsed from, and what it belongs to (for messages)."""

    text: str
    owner: str | None = None

    def location(self, span: Span | None) -> SourceLocation | None:
        if span is None:
            return None
        return SourceLocation.from_offset(self.text, span[0], self.owner, span[1] - span[0])


@dataclass(frozen=True)
class Inferred:
    """An expression's dimension and kind."""

    dim: Dimension
    kind: str

    @property
    def is_boolean(self) -> bool:
        return self.kind == BOOLEAN


def _show(dim: Dimension) -> str:
    """`volt (m^2 kg s^-3 A^-1)`: the unit's name where one exists, and the base dimensions."""
    name = getattr(get_unit(dim), "name", None)
    if dim.is_dimensionless or not name or not name.isidentifier():
        return f"'{dim}'"
    return f"{name} ({dim})"


def infer(expr: Expr, resolver: Resolver, source: Locator) -> Inferred:
    """The dimension and kind of `expr`; raises at the first inconsistency."""
    return _Inference(resolver, source).visit(expr)


class _Inference:
    def __init__(self, resolver: Resolver, source: Locator):
        self.resolver = resolver
        self.source = source

    def visit(self, expr: Expr) -> Inferred:
        method = getattr(self, f"visit_{type(expr).__name__}")
        return method(expr)

    def mismatch(self, expr: Expr, message: str, *dims: Dimension, hint: str | None = None):
        return DimensionMismatchError(message, *dims, location=self.source.location(expr.span),
                                      hint=hint)

    def visit_Number(self, expr: Number) -> Inferred:
        if isinstance(expr.value, bool):
            return Inferred(DIMENSIONLESS, BOOLEAN)
        return Inferred(DIMENSIONLESS, INTEGER if isinstance(expr.value, int) else FLOAT)

    def visit_Name(self, expr: Name) -> Inferred:
        info = self.lookup(expr.id, expr.span)
        return Inferred(info.dim, info.kind)

    def lookup(self, name: str, span: Span | None) -> NameInfo:
        info = self.resolver.resolve(name)
        if info is None:
            if self.resolver.function(name) is not None:
                raise ModelSyntaxError(f"'{name}' is a function, not a value",
                                       self.source.location(span), f"call it: '{name}(...)'")
            raise UnknownIdentifierError(
                f"unknown identifier '{name}'", self.source.location(span),
                "define it as a model variable, in the object's namespace= dictionary, "
                "or as a Python variable where the object is created")
        return info

    def visit_UnaryOp(self, expr: UnaryOp) -> Inferred:
        operand = self.visit(expr.operand)
        if expr.op == "not":
            self.require_boolean(expr.operand, operand, "the operand of 'not'")
            return operand
        kind = INTEGER if operand.kind == BOOLEAN else operand.kind
        return Inferred(operand.dim, kind)

    def visit_BinaryOp(self, expr: BinaryOp) -> Inferred:
        left, right = self.visit(expr.left), self.visit(expr.right)
        op = expr.op
        if op in ("+", "-", "%"):
            if left.dim != right.dim:
                raise self.mismatch(
                    expr, f"the operands of '{op}' in '{format_expression(expr)}' have different "
                    f"dimensions: {_show(left.dim)} and {_show(right.dim)}", left.dim, right.dim,
                    hint="give both sides the same units, e.g. 'v + 5*mV' for a voltage v")
            return Inferred(left.dim, _promote(left.kind, right.kind))
        if op == "*":
            return Inferred(left.dim * right.dim, _promote(left.kind, right.kind))
        if op == "/":
            return Inferred(left.dim / right.dim, FLOAT)
        if op == "//":
            return Inferred(left.dim / right.dim, _promote(left.kind, right.kind))
        return self.power(expr, left, right)

    def power(self, expr: BinaryOp, base: Inferred, exponent: Inferred) -> Inferred:
        if not exponent.dim.is_dimensionless:
            raise self.mismatch(expr.right, f"the exponent '{format_expression(expr.right)}' "
                                f"must be dimensionless, but has dimension {_show(exponent.dim)}",
                                exponent.dim)
        if base.dim.is_dimensionless:
            return Inferred(DIMENSIONLESS, _promote(base.kind, exponent.kind))
        value = constant_value(expr.right, self.resolver)
        if value is None:
            raise self.mismatch(expr, f"'{format_expression(expr.left)}' has dimension "
                                f"{_show(base.dim)}, so its exponent must be a constant number",
                                base.dim, hint="raise only dimensionless values to a variable power")
        if not math.isfinite(value):
            raise self.mismatch(expr, f"'{format_expression(expr.left)}' has dimension "
                                f"{_show(base.dim)}, so its exponent must be a finite number",
                                base.dim)
        return Inferred(base.dim ** value, FLOAT)

    def visit_Compare(self, expr: Compare) -> Inferred:
        left, right = self.visit(expr.left), self.visit(expr.right)
        if left.dim != right.dim:
            raise self.mismatch(
                expr, f"cannot compare '{format_expression(expr.left)}' ({_show(left.dim)}) with "
                f"'{format_expression(expr.right)}' ({_show(right.dim)})", left.dim, right.dim,
                hint="give both sides the same units, e.g. 'v > -50*mV'")
        return Inferred(DIMENSIONLESS, BOOLEAN)

    def visit_BoolOp(self, expr: BoolOp) -> Inferred:
        for operand in (expr.left, expr.right):
            self.require_boolean(operand, self.visit(operand), f"an operand of '{expr.op}'")
        return Inferred(DIMENSIONLESS, BOOLEAN)

    def require_boolean(self, expr: Expr, inferred: Inferred, what: str) -> None:
        if not inferred.is_boolean:
            raise ModelSyntaxError(
                f"{what} must be a condition, but '{format_expression(expr)}' is a "
                f"{inferred.kind} value", self.source.location(expr.span),
                "compare it with something, e.g. 'x > 0'")

    def visit_Call(self, expr: Call) -> Inferred:
        signature = self.resolver.function(expr.func)
        if signature is None:
            location = self.source.location(expr.func_span)
            if self.resolver.resolve(expr.func) is not None:
                raise ModelSyntaxError(f"'{expr.func}' is not a function", location)
            raise UnknownIdentifierError(f"unknown function '{expr.func}'", location,
                                         "the default functions are exp, log, sqrt, clip, rand, "
                                         "...; see docs/model-language.md")
        if not signature.min_args <= len(expr.args) <= signature.max_args:
            raise ModelSyntaxError(f"'{expr.func}' takes {signature.arity_text()}, "
                                   f"got {len(expr.args)}", self.source.location(expr.span),
                                   "see the default functions in docs/model-language.md")
        args = [self.visit(a) for a in expr.args]
        return Inferred(self.call_dimension(expr, signature, args), signature.result_kind
                        if signature.result_kind != FLOAT or not args else
                        _float_result(signature, args))

    def call_dimension(self, expr: Call, signature: FunctionSignature,
                       args: list[Inferred]) -> Dimension:
        rule = signature.rule
        if rule is DimensionRule.DIMENSIONLESS:
            for arg_expr, arg in zip(expr.args, args):
                if not arg.dim.is_dimensionless:
                    raise self.mismatch(
                        arg_expr, f"the argument of '{expr.func}' must be dimensionless, but "
                        f"'{format_expression(arg_expr)}' has dimension {_show(arg.dim)}",
                        arg.dim, hint=f"divide by a unit, e.g. '{expr.func}(v/mV)'")
            return DIMENSIONLESS
        if rule is DimensionRule.SAME:
            for arg_expr, arg in zip(expr.args[1:], args[1:]):
                if arg.dim != args[0].dim:
                    raise self.mismatch(
                        arg_expr, f"the arguments of '{expr.func}' must have the same dimension: "
                        f"{_show(args[0].dim)} and {_show(arg.dim)}", args[0].dim, arg.dim,
                        hint=f"give every argument of '{expr.func}' the same units")
            return args[0].dim
        if rule is DimensionRule.SQRT:
            return args[0].dim ** 0.5
        if rule in (DimensionRule.TIME_TO_DIMENSIONLESS,
                    DimensionRule.TIME_OR_SECONDS_TO_DIMENSIONLESS):
            for arg_expr, arg in zip(expr.args, args):
                literal_seconds = (rule is DimensionRule.TIME_OR_SECONDS_TO_DIMENSIONLESS
                                   and isinstance(arg_expr, Number))
                if arg.dim != TIME and not literal_seconds:
                    raise self.mismatch(arg_expr, f"the arguments of '{expr.func}' must be times, "
                                        f"but '{format_expression(arg_expr)}' has dimension "
                                        f"{_show(arg.dim)}", arg.dim, TIME)
            return DIMENSIONLESS
        if rule is DimensionRule.TIMED_ARRAY:
            return self.timed_array_dimension(expr, signature, args)
        return DIMENSIONLESS  # ANY_TO_DIMENSIONLESS

    def timed_array_dimension(self, expr: Call, signature: FunctionSignature,
                              args: list[Inferred]) -> Dimension:
        """`ta(t)` or `ta(t, i)`: a time, then an integer index; the values' dimension."""
        if args[0].dim != TIME:
            raise self.mismatch(expr.args[0], f"the first argument of '{expr.func}' must be a "
                                f"time, but '{format_expression(expr.args[0])}' has dimension "
                                f"{_show(args[0].dim)}", args[0].dim, TIME,
                                hint=f"call it as '{expr.func}(t)'")
        if len(args) == 2 and (not args[1].dim.is_dimensionless or args[1].kind != INTEGER):
            raise ModelSyntaxError(f"the second argument of '{expr.func}' must be an integer "
                                   f"index, but '{format_expression(expr.args[1])}' is a "
                                   f"{args[1].kind} value of dimension '{args[1].dim}'",
                                   self.source.location(expr.args[1].span),
                                   f"index the columns with an integer, e.g. '{expr.func}(t, i)'")
        return signature.result_dim


def _promote(left: str, right: str) -> str:
    """Kind of an arithmetic result: integer only if both sides are integer-like."""
    return INTEGER if left in (INTEGER, BOOLEAN) and right in (INTEGER, BOOLEAN) else FLOAT


def _float_result(signature: FunctionSignature, args: list[Inferred]) -> str:
    """abs/floor/ceil/clip of integers stay integers; everything else is float."""
    if signature.rule is DimensionRule.SAME and all(a.kind == INTEGER for a in args):
        return INTEGER
    return FLOAT


def constant_value(expr: Expr, resolver: Resolver) -> float | None:
    """The value of `expr` if it is built from literals and external constants, else None."""
    if isinstance(expr, Number):
        return float(expr.value)
    if isinstance(expr, Name):
        info = resolver.resolve(expr.id)
        if info is None or info.origin in ("variable", "special", "noise") or info.value is None:
            return None
        return float(info.value)
    if isinstance(expr, UnaryOp) and expr.op in "+-":
        value = constant_value(expr.operand, resolver)
        return None if value is None else (-value if expr.op == "-" else value)
    if isinstance(expr, BinaryOp) and expr.op in ("+", "-", "*", "/", "**"):
        left, right = constant_value(expr.left, resolver), constant_value(expr.right, resolver)
        if left is None or right is None:
            return None
        try:
            return {"+": left + right, "-": left - right, "*": left * right,
                    "/": left / right if right else None, "**": left ** right}[expr.op]
        except (OverflowError, ZeroDivisionError):
            return None
    return None


def check_dimension(expr: Expr, expected: Dimension, resolver: Resolver, source: Locator,
                    what: str) -> Inferred:
    """Infer `expr` and require `expected` dimension; `what` describes the expression's role."""
    inferred = infer(expr, resolver, source)
    if inferred.dim != expected:
        raise DimensionMismatchError(
            f"{what}: '{format_expression(expr)}' has dimension {_show(inferred.dim)}, "
            f"but should have {_show(expected)}", inferred.dim, expected,
            location=source.location(expr.span), hint=_expected_hint(expected, what))
    return inferred


def _expected_hint(expected: Dimension, what: str) -> str:
    """What to check when a right-hand side has the wrong dimension."""
    if what.startswith("the differential equation"):
        return (f"the right-hand side of dx/dt is x's unit per second ({_show(expected)}); "
                "check the time constants")
    return "check the unit after the colon and the units of the names used"


def check_condition(expr: Expr, resolver: Resolver, source: Locator, what: str) -> None:
    """A threshold, custom event or connect condition: must be a boolean expression."""
    inferred = infer(expr, resolver, source)
    if not inferred.is_boolean:
        raise ModelSyntaxError(f"{what} must be a condition, but '{format_expression(expr)}' is "
                               f"a {inferred.kind} value", source.location(expr.span),
                               "write a comparison, e.g. 'v > -50*mV'")


def check_refractory(expr: Expr, resolver: Resolver, source: Locator, what: str) -> Inferred:
    """A refractory expression: a duration, or a condition (still refractory while true)."""
    inferred = infer(expr, resolver, source)
    if not inferred.is_boolean and inferred.dim != TIME:
        raise DimensionMismatchError(
            f"{what} must be a time or a condition, but '{format_expression(expr)}' has "
            f"dimension '{inferred.dim}'", inferred.dim, TIME, location=source.location(expr.span))
    return inferred


def check_statement(statement: Statement, resolver: Resolver, source: Locator,
                    read_only: set[str] = frozenset()) -> None:
    """One assignment: the target must be a writable variable, and the operator's rule holds:
    `=`, `+=`, `-=` need the target's dimension; `*=`, `/=` need a dimensionless right side."""
    info = resolver.resolve(statement.target)
    location = source.location(statement.target_span)
    if info is None:
        raise UnknownIdentifierError(f"cannot assign to unknown variable '{statement.target}'",
                                     location, "declare it in the model equations")
    if info.origin != "variable" or statement.target in read_only:
        raise EquationError(f"cannot assign to '{statement.target}': it is not a writable model "
                            "variable", location,
                            "only parameters and state variables can be assigned; constants, "
                            "subexpressions and external values cannot")
    value = infer(statement.expr, resolver, source)
    if info.kind == BOOLEAN and statement.op == "=":
        if not value.is_boolean:
            raise ModelSyntaxError(f"'{statement.target}' is boolean, but "
                                   f"'{format_expression(statement.expr)}' is a {value.kind} value",
                                   source.location(statement.expr.span))
        return
    if statement.op in ("*=", "/="):
        expected = DIMENSIONLESS
    else:
        expected = info.dim
    if value.dim != expected:
        raise DimensionMismatchError(
            f"in '{statement}', the right side has dimension {_show(value.dim)}, but "
            f"'{statement.op}' on '{statement.target}' needs {_show(expected)}",
            value.dim, expected, location=source.location(statement.expr.span))
