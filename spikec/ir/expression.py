"""The code language of models: expression and statement trees, and their canonical text.

Brian models carry code as strings (`-v/tau`, `v > 20*mV`, `v = vr; w += b`). spikec parses each
string once into these trees (see `expression_parser`), checks their dimensions in the frontend,
stores them in the model IR, and converts them to sympy only where algebra is needed (state
updaters). The trees are plain frozen dataclasses: equality is structural, and source positions
(`span`, offsets into the text they were parsed from) take no part in it, so a tree printed and
parsed again compares equal to the original.

`format_expression` prints the fewest parentheses that keep the meaning; the printed text parses
back to an equal tree (a property the tests check with hypothesis).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterator, Union

Span = tuple[int, int]
"""Start and end offsets (0-based, end exclusive) into the source text of a tree."""


def _span_field():
    return field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Number:
    """A literal: `3` (int), `0.5`, `1e-3` (float), `True`/`False` (bool). Never negative when
    parsed: `-3` is `UnaryOp('-', Number(3))`."""

    value: int | float | bool
    span: Span | None = _span_field()


@dataclass(frozen=True)
class Name:
    """An identifier: a model variable, an external constant, a unit, `t`, `dt`, `xi`..."""

    id: str
    span: Span | None = _span_field()


@dataclass(frozen=True)
class UnaryOp:
    """`-x`, `+x`, `not x`."""

    op: str
    operand: "Expr"
    span: Span | None = _span_field()


@dataclass(frozen=True)
class BinaryOp:
    """Arithmetic: `+ - * / // % **`. `/` is true division, as in Python 3 and Brian."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span_field()


@dataclass(frozen=True)
class Compare:
    """One comparison `< <= > >= == !=`; the result is boolean."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span_field()


@dataclass(frozen=True)
class BoolOp:
    """`a and b`, `a or b` (boolean operands, boolean result)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _span_field()


@dataclass(frozen=True)
class Call:
    """A function call `f(a, b)`: math functions, `rand()`, `clip(x, lo, hi)`, TimedArrays..."""

    func: str
    args: tuple["Expr", ...]
    span: Span | None = _span_field()
    func_span: Span | None = _span_field()


Expr = Union[Number, Name, UnaryOp, BinaryOp, Compare, BoolOp, Call]

ASSIGNMENT_OPERATORS = ("=", "+=", "-=", "*=", "/=")


@dataclass(frozen=True)
class Statement:
    """`target op expr` with op one of `= += -= *= /=`: one line of reset, on_pre, on_post code."""

    target: str
    op: str
    expr: Expr
    span: Span | None = _span_field()
    target_span: Span | None = _span_field()

    def __str__(self) -> str:
        return f"{self.target} {self.op} {format_expression(self.expr)}"


# Binding strength, higher binds tighter (Python's order). Unary minus sits between * and **.
_PRECEDENCE = {
    "or": 1, "and": 2, "not": 3,
    "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
    "+": 5, "-": 5,
    "*": 6, "/": 6, "//": 6, "%": 6,
    "unary": 7,
    "**": 8,
}
_ATOM = 9


def precedence(expr: Expr) -> int:
    """How tightly the top of `expr` binds, for deciding where parentheses go."""
    if isinstance(expr, UnaryOp):
        return _PRECEDENCE["not"] if expr.op == "not" else _PRECEDENCE["unary"]
    if isinstance(expr, (BinaryOp, Compare, BoolOp)):
        return _PRECEDENCE[expr.op]
    if isinstance(expr, Number) and not isinstance(expr.value, bool) and expr.value < 0:
        return _PRECEDENCE["unary"]
    return _ATOM


def format_number(value: int | float | bool) -> str:
    """Python's shortest round-tripping form; floats always look like floats (`1.0`, `1e-05`)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    text = repr(float(value))
    if text in ("inf", "-inf", "nan"):
        raise ValueError(f"{text} has no literal in the model language; use the constant 'inf'")
    return text


def format_expression(expr: Expr) -> str:
    """The canonical text of `expr`, with only the parentheses its meaning needs."""
    if isinstance(expr, Number):
        return format_number(expr.value)
    if isinstance(expr, Name):
        return expr.id
    if isinstance(expr, Call):
        return f"{expr.func}({', '.join(format_expression(a) for a in expr.args)})"
    if isinstance(expr, UnaryOp):
        inner = _wrap(expr.operand, precedence(expr))
        return f"not {inner}" if expr.op == "not" else f"{expr.op}{inner}"
    if isinstance(expr, (BinaryOp, Compare, BoolOp)):
        own = precedence(expr)
        if expr.op == "**":  # right-associative; its left side needs parens even for unary ops
            return f"{_wrap(expr.left, _ATOM)}**{_wrap(expr.right, _PRECEDENCE['unary'])}"
        # Left-associative: an equal-precedence left side needs no parens, a right side does.
        # Comparisons do not chain, so both of their sides must bind tighter.
        left_needed = own + 1 if isinstance(expr, Compare) else own
        return f"{_wrap(expr.left, left_needed)} {expr.op} {_wrap(expr.right, own + 1)}"
    raise TypeError(f"not an expression tree: {expr!r}")


def _wrap(expr: Expr, needed: int) -> str:
    """`expr`'s text, parenthesized when its top binds less tightly than its place needs."""
    text = format_expression(expr)
    return f"({text})" if precedence(expr) < needed else text


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of `expr`."""
    if isinstance(expr, UnaryOp):
        return (expr.operand,)
    if isinstance(expr, (BinaryOp, Compare, BoolOp)):
        return (expr.left, expr.right)
    if isinstance(expr, Call):
        return expr.args
    return ()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of `expr`, parents before children, left to right."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(children(node)))


def nesting_depth(expr: Expr) -> int:
    """How many levels the deepest path of `expr` has (a name: 1, `-x`: 2). Computed without
    recursion, so that it can vet trees too deep for the recursive functions."""
    deepest = 0
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children(node))
    return deepest


def identifiers(expr: Expr) -> set[str]:
    """The names `expr` uses: variables, constants, units and called functions (as Brian's
    `Expression.identifiers`)."""
    names = set()
    for node in walk(expr):
        if isinstance(node, Name):
            names.add(node.id)
        elif isinstance(node, Call):
            names.add(node.func)
    return names


def map_tree(expr: Expr, rewrite: Callable[[Expr], Expr]) -> Expr:
    """`expr` rebuilt bottom-up: children first (left to right), then `rewrite` applied to each
    rebuilt node. Spans are kept."""
    if isinstance(expr, UnaryOp):
        expr = UnaryOp(expr.op, map_tree(expr.operand, rewrite), expr.span)
    elif isinstance(expr, Call):
        expr = Call(expr.func, tuple(map_tree(a, rewrite) for a in expr.args), expr.span,
                    expr.func_span)
    elif isinstance(expr, (BinaryOp, Compare, BoolOp)):
        expr = type(expr)(expr.op, map_tree(expr.left, rewrite), map_tree(expr.right, rewrite),
                          expr.span)
    return rewrite(expr)


def substitute_names(expr: Expr, replacements: dict[str, Expr]) -> Expr:
    """`expr` with every `Name` in `replacements` replaced by its tree (calls' function names are
    left alone)."""
    return map_tree(expr, lambda node: replacements.get(node.id, node)
                    if isinstance(node, Name) else node)


def rename_calls(expr: Expr, renames: dict[str, str]) -> Expr:
    """`expr` with called function names renamed (for `Equations(..., f='g')`)."""
    return map_tree(expr, lambda node: Call(renames.get(node.func, node.func), node.args,
                                            node.span, node.func_span)
                    if isinstance(node, Call) else node)
