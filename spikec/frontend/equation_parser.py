"""Parsing equation strings (`dv/dt = -v/tau : volt (unless refractory)`) into plain records.

The grammar is the expression grammar of `spikec.ir` plus the rules in `equations.lark`. This
module only turns text into `ParsedEquation` records with source spans; meaning (units, flags,
reserved names) is checked by `spikec.frontend.equations`, which knows the rules.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from lark import Lark, v_args

from spikec.errors import ModelSyntaxError, SourceLocation
from spikec.ir.expression import BinaryOp, Expr, Name, Number, Span
from spikec.ir.expression_parser import (ExpressionBuilder, expression_grammar_text, lalr_parser,
                                         parse_with, require_shallow)

DIFFERENTIAL_EQUATION = "differential equation"
SUBEXPRESSION = "subexpression"
PARAMETER = "parameter"


@dataclass(frozen=True)
class ParsedEquation:
    """One equation as written: its kind, the variable, the right-hand side (None for a
    parameter), the unit as a small expression tree over unit names, and the flags."""

    kind: str
    name: str
    expr: Expr | None
    unit: Expr
    flags: tuple[str, ...]
    name_span: Span
    unit_span: Span
    flag_spans: tuple[Span, ...]
    span: Span


class EquationBuilder(ExpressionBuilder):
    """Builds `ParsedEquation`s; expression callbacks come from `ExpressionBuilder`."""

    def __init__(self, text: str, owner: str | None):
        super().__init__()
        self.text = text
        self.owner = owner

    def equations(self, children):
        return list(children)

    @v_args(meta=True)
    def differential(self, meta, children):
        d_name, dt, expr, unit, flags = _pad(children, 5)
        name = str(d_name)
        if not name.startswith("d") or len(name) == 1 or str(dt) != "dt":
            location = SourceLocation.from_offset(self.text, d_name.start_pos, self.owner,
                                                  dt.end_pos - d_name.start_pos)
            raise ModelSyntaxError(f"'{d_name}/{dt}' is not a time derivative", location,
                                   "a differential equation starts with 'dx/dt' for a "
                                   "variable x")
        name_span = (d_name.start_pos + 1, d_name.end_pos)
        return self._equation(DIFFERENTIAL_EQUATION, name[1:], expr, unit, flags, name_span, meta)

    @v_args(meta=True)
    def subexpression(self, meta, children):
        name, expr, unit, flags = _pad(children, 4)
        return self._equation(SUBEXPRESSION, str(name), expr, unit, flags,
                              self._token_span(name), meta)

    @v_args(meta=True)
    def parameter(self, meta, children):
        name, unit, flags = _pad(children, 3)
        return self._equation(PARAMETER, str(name), None, unit, flags, self._token_span(name), meta)

    def _equation(self, kind, name, expr, unit, flags, name_span, meta) -> ParsedEquation:
        unit_tree, unit_span = unit
        if expr is not None:
            require_shallow(expr, self.text, self.owner)
        flag_tokens = flags or []
        return ParsedEquation(kind, name, expr, unit_tree, tuple(f.strip() for f in flag_tokens),
                              name_span, unit_span, tuple(self._token_span(f) for f in flag_tokens),
                              self._span(meta))

    def flags(self, children):
        return list(children)

    @v_args(meta=True)
    def unit(self, meta, children):
        return (children[0], self._span(meta))

    @v_args(meta=True)
    def unit_multiply(self, meta, children):
        return BinaryOp("*", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def unit_divide(self, meta, children):
        return BinaryOp("/", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def unit_raise(self, meta, children):
        base, _, exponent = children
        text = str(exponent)
        value = float(text) if any(c in text for c in ".eE") else int(text)
        return BinaryOp("**", base, Number(value, self._token_span(exponent)), self._span(meta))

    def unit_name(self, children):
        return self.name(children)

    def unit_number(self, children):
        return self.number(children)


def _pad(children: list, length: int) -> list:
    """Optional trailing parts (flags) arrive as None or are missing; make the length fixed."""
    return list(children) + [None] * (length - len(children))


@functools.cache
def _parser() -> Lark:
    grammar = expression_grammar_text() + Path(__file__).with_name("equations.lark").read_text()
    return lalr_parser(grammar, "equations")


def parse_equations_text(text: str, owner: str | None = None) -> list[ParsedEquation]:
    """Every equation in `text`, in order of appearance."""
    return parse_with(_parser(), text, EquationBuilder(text, owner), owner, "the equations")


def unit_is_name(unit: Expr, name: str) -> bool:
    """Whether a parsed unit is the single word `name` (`boolean`, `integer`, `bool`)."""
    return isinstance(unit, Name) and unit.id == name
