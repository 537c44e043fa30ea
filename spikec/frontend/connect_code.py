"""What a `Synapses.connect(...)` call asks for, as a plan the runtime evaluates.

Every form of Brian's `connect` is one of two plans:

* `ArrayPlan`: explicit pairs (`i=`/`j=` arrays or scalars), optionally kept with probability
  `p` and repeated `n` times;
* `GeneratorPlan`: for each index of one side (the *outer* index, `i` unless the generator is
  given as `i=`), the indices of the other side (the *result*) that an iterator produces:
  `j='k for k in range(i-3, i+4) if k != i'`, `j='k for k in sample(N_post, p=0.1)'`,
  `j='i'`, and `condition=`/`p=` (as Brian: `j for j in range(N_post) if condition`, or
  `sample(N_post, p=p)` when `p` does not depend on `j`).

The generator syntax is parsed with the expression grammar plus the rules below
(`GENERATOR_RULES`), so its errors point into the text like every other model code. Names are
resolved and dimensions checked where the plan is evaluated (`spikec.runtime.connect`), with the
namespace of the `connect` call, as in Brian's runtime mode.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from lark import Lark, v_args

from spikec.errors import EquationError, ModelSyntaxError, SourceLocation
from spikec.ir.expression import BoolOp, Call, Compare, Expr, Name, Number, identifiers
from spikec.ir.expression_parser import (ExpressionBuilder, expression_grammar_text,
                                         lalr_parser, parse_expression, parse_with,
                                         require_shallow)

GENERATOR_RULES = r"""
// Brian's synapse generator: `element for k in range(...)|sample(...) if condition`; the loop
// and the condition are both optional (`j='i'`, `j='i + 1 if i < N_pre - 1'`).
generator: expression [generator_loop] [generator_if]
generator_loop: "for" NAME "in" NAME "(" [iterator_arguments] ")"
generator_if: "if" expression
iterator_arguments: iterator_argument ("," iterator_argument)* ","?
?iterator_argument: expression
                  | NAME ASSIGN_OP expression       -> keyword_argument
"""


@dataclass(frozen=True)
class Iterator:
    """`range(low, high, step)` or `sample(low, high, step, p=... | size=...)`."""

    function: str
    low: Expr
    high: Expr
    step: Expr
    p: Expr | None = None
    size: Expr | None = None

    def expressions(self) -> list[Expr]:
        return [e for e in (self.low, self.high, self.step, self.p, self.size) if e is not None]


@dataclass(frozen=True)
class Generator:
    """A parsed generator: the result index is `element` for each value of `variable` the
    iterator produces, where `condition` (None: always) holds. `text` is what the spans of the
    trees point into."""

    text: str
    element: Expr
    variable: str
    iterator: Iterator
    condition: Expr | None


@dataclass(frozen=True)
class GeneratorPlan:
    """Loop over the `outer` index ('i' or 'j'); the other index is the generator's result."""

    outer: str
    generator: Generator
    n: int | Expr
    n_text: str
    skip_if_invalid: bool

    @property
    def result(self) -> str:
        return "j" if self.outer == "i" else "i"


@dataclass(frozen=True)
class ArrayPlan:
    """Explicit pairs (i[k], j[k]), each kept with probability `p`, repeated `n[k]` times."""

    i: np.ndarray
    j: np.ndarray
    n: np.ndarray
    p: float


class _GeneratorBuilder(ExpressionBuilder):
    """Builds `Generator`s; the expression rules are inherited."""

    def __init__(self, text: str, owner: str | None):
        super().__init__()
        self.text = text
        self.owner = owner

    def _error(self, message: str, span: tuple[int, int], hint: str | None = None):
        location = SourceLocation.from_offset(self.text, span[0], self.owner, span[1] - span[0])
        return ModelSyntaxError(message, location, hint)

    def generator(self, children):
        element, loop, condition = children
        if loop is None:  # `j='i'`: one result per outer index (Brian: `for _ in range(1)`)
            loop = ("_", Iterator("range", Number(0), Number(1), Number(1)))
        variable, iterator = loop
        return Generator(self.text, element, variable, iterator, condition)

    def generator_if(self, children):
        return children[0]

    def keyword_argument(self, children):
        name, op, value = children
        if str(op) != "=":
            raise self._error(f"unexpected {str(op)!r} in an iterator's keyword argument",
                              self._token_span(op), "write 'p=0.1' or 'size=10'")
        return (str(name), value, self._token_span(name))

    def iterator_arguments(self, children):
        return list(children)

    @v_args(meta=True)
    def generator_loop(self, meta, children):
        variable, function, arguments = children
        arguments = arguments or []
        positional = [a for a in arguments if not isinstance(a, tuple)]
        keywords = {a[0]: a for a in arguments if isinstance(a, tuple)}
        span = self._token_span(function)
        if str(function) not in ("range", "sample"):
            raise self._error(f"unknown iterator '{function}' in the generator", span,
                              "iterate over range(...) or sample(..., p=...|size=...)")
        seen_keyword = False
        for argument in arguments:
            if isinstance(argument, tuple):
                seen_keyword = True
            elif seen_keyword:
                raise self._error("a positional argument follows a keyword argument",
                                  argument.span or span)
        if not 1 <= len(positional) <= 3:
            raise self._error(f"{function}() takes 1 to 3 positional arguments, got "
                              f"{len(positional)}", span, "e.g. range(i - 3, i + 4)")
        if len(positional) == 1:
            low, high, step = Number(0), positional[0], Number(1)
        elif len(positional) == 2:
            (low, high), step = positional, Number(1)
        else:
            low, high, step = positional
        if str(function) == "range":
            if keywords:
                name, _, name_span = next(iter(keywords.values()))
                raise self._error(f"range() takes no keyword argument ('{name}')", name_span,
                                  "for a random subset use sample(..., p=...)")
            return (str(variable), Iterator("range", low, high, step))
        unknown = [k for k in keywords if k not in ("p", "size")]
        if unknown or len(keywords) != 1:
            where = keywords[unknown[0]][2] if unknown else span
            raise self._error("sample() takes one keyword argument, either p= or size=", where,
                              "e.g. sample(N_post, p=0.1) or sample(N_post, size=10)")
        p = keywords["p"][1] if "p" in keywords else None
        size = keywords["size"][1] if "size" in keywords else None
        return (str(variable), Iterator("sample", low, high, step, p, size))


@functools.cache
def _generator_parser() -> Lark:
    """The generator parser, its LALR tables from Lark's cache on disk (as the expression
    parsers': building them took ~0.1 s per process)."""
    return lalr_parser(expression_grammar_text() + GENERATOR_RULES, "generator")


def parse_generator(text: str, owner: str | None = None) -> Generator:
    """Parse connect's generator syntax (`k for k in range(i-3, i+4) if k != i`)."""
    if not text.strip():
        raise ModelSyntaxError("empty generator expression",
                               SourceLocation.from_offset(text, 0, owner),
                               "e.g. j='k for k in range(i - 3, i + 4) if k != i'")
    generator = parse_with(_generator_parser(), text, _GeneratorBuilder(text, owner), owner,
                           "the generator expression")
    for tree in [generator.element, generator.condition] + generator.iterator.expressions():
        if tree is not None:
            require_shallow(tree, text, owner)
    return generator


def plan_connect(owner: str, condition, i, j, p, n, skip_if_invalid: bool,
                 N_pre: int, N_post: int, target_names: frozenset[str] = frozenset()):
    """The plan of one `connect(...)` call, or None when it creates nothing
    (`condition=False`). Checks the combination of arguments as Brian does."""
    if condition is not None and not isinstance(condition, (bool, str)):
        raise EquationError(f"{owner}: condition must be a string or a bool, not {condition!r}",
                            hint="to connect given indices, use connect(i=..., j=...)")
    if not isinstance(p, (int, float, str)) or isinstance(p, bool):
        raise EquationError(f"{owner}: p must be a number or a string, not {p!r}")
    if not isinstance(n, (int, np.integer, str)) or isinstance(n, bool):
        raise EquationError(f"{owner}: n must be an integer or a string, not {n!r}")
    if isinstance(condition, str) and " for " in f" {condition} ":
        raise EquationError(f"{owner}: the condition {condition!r} is a generator expression",
                            hint=f"write connect(j={condition!r}) instead")
    if not isinstance(p, str) and not 0 <= p <= 1:
        raise EquationError(f"{owner}: p must be a probability in [0, 1], not {p!r}")
    if not isinstance(n, str) and n < 0:
        raise EquationError(f"{owner}: n must not be negative, not {n!r}")
    if condition is None and i is None and j is None:
        condition = True
    if condition is not None:
        if i is not None or j is not None:
            raise EquationError(f"{owner}: a condition cannot be combined with i or j",
                                hint="put the index restriction into the condition")
        if condition is False or (isinstance(condition, str) and condition.strip() == "False"):
            return None
        return _condition_plan(owner, condition, p, n, skip_if_invalid, target_names)
    if isinstance(i, str) or isinstance(j, str):
        which, other, outer = ("j", i, "i") if isinstance(j, str) else ("i", j, "j")
        text = j if which == "j" else i
        if other is not None:
            raise EquationError(f"{owner}: the generator syntax for {which} cannot be combined "
                                f"with an {outer} argument", hint=f"leave out {outer}=")
        if isinstance(p, str) or p != 1:
            raise EquationError(f"{owner}: the generator syntax cannot be combined with p",
                                hint="use sample(..., p=...) as the generator's iterator")
        generator = parse_generator(text, f"{owner} {which}")
        return GeneratorPlan(outer, generator, *_n_value(owner, n), skip_if_invalid)
    if i is None or j is None:
        raise EquationError(f"{owner}: give both i and j, a condition, or a generator for j",
                            hint="e.g. connect(i=[0, 1], j=[2, 3]) or connect(j='i')")
    if skip_if_invalid:
        raise EquationError(f"{owner}: skip_if_invalid works only with the generator syntax")
    if isinstance(p, str) or isinstance(n, str):
        raise EquationError(f"{owner}: explicit indices take a number for p and n, "
                            "not an expression", hint="use the generator syntax for expressions")
    pre = np.atleast_1d(_indices(owner, i, "i", N_pre))
    post = np.atleast_1d(_indices(owner, j, "j", N_post))
    try:
        pre, post, counts = np.broadcast_arrays(pre, post, np.asarray(n, dtype=np.int64))
    except ValueError:
        raise EquationError(f"{owner}: i and j have different lengths "
                            f"({pre.size} and {post.size})") from None
    if pre.ndim > 1:
        raise EquationError(f"{owner}: i and j must be one-dimensional")
    return ArrayPlan(pre.astype(np.int32), post.astype(np.int32), counts.astype(np.int64),
                     float(p))


def _condition_plan(owner: str, condition, p, n, skip_if_invalid: bool,
                    target_names: frozenset[str]) -> GeneratorPlan:
    text = "True" if condition is True else condition
    tree = parse_expression(text, f"{owner} condition")
    cond = None if isinstance(tree, Number) and tree.value is True else tree
    everything = Name("N_post")
    if not isinstance(p, str) and p == 1:
        iterator = Iterator("range", Number(0), everything, Number(1))
    else:
        p_tree = parse_expression(p, f"{owner} p") if isinstance(p, str) else Number(float(p))
        names = identifiers(p_tree)
        if names & {"j", "rand", "randn"} or any(name.endswith("_post") or name in target_names
                                                 for name in names):
            # p differs per target: one draw per candidate, as Brian (`... and rand() < p`)
            draw = Compare("<", Call("rand", ()), p_tree)
            cond = draw if cond is None else BoolOp("and", cond, draw)
            iterator = Iterator("range", Number(0), everything, Number(1))
        else:
            iterator = Iterator("sample", Number(0), everything, Number(1), p=p_tree)
    generator = Generator(text, Name("j"), "j", iterator, cond)
    return GeneratorPlan("i", generator, *_n_value(owner, n), skip_if_invalid)


def _n_value(owner: str, n) -> tuple[int | Expr, str]:
    if isinstance(n, str):
        return parse_expression(n, f"{owner} n"), n
    return int(n), str(n)


def _indices(owner: str, value, which: str, size: int) -> np.ndarray:
    if hasattr(value, "_indices"):
        value = value._indices()
    indices = np.asarray(value)
    if indices.dtype == object or not np.issubdtype(indices.dtype, np.integer):
        raise EquationError(f"{owner}: {which} must hold integers, not {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        bad = indices[(indices < 0) | (indices >= size)].flat[0]
        raise EquationError(f"{owner}: {which} holds the index {bad}, outside 0..{size - 1}",
                            hint="indices count from 0 to the group's size minus one")
    return indices.astype(np.int64)
