"""`Equations`: a model's differential equations, subexpressions and parameters, as in Brian.

An `Equations` object is built from a string (or from other equations), checks everything that
does not depend on where it will be used (syntax, names, units after the colon, flags, types),
and offers Brian's interface (`names`, `diff_eq_names`, `identifiers`, `dimensions`,
`eqs['v'].expr`, `+`, substitution). What depends on the namespace (the dimensions of the
right-hand sides) is checked by `check_units`, which groups call when they are created.
"""

from __future__ import annotations

import collections.abc
import math
from dataclasses import dataclass, replace
from typing import Any, Iterable, Iterator

import numpy as np

from spikec.errors import EquationError, FlagError, ModelSyntaxError
from spikec.frontend.equation_parser import (DIFFERENTIAL_EQUATION, PARAMETER, SUBEXPRESSION,
                                             ParsedEquation, parse_equations_text)
from spikec.frontend.namespace import (Namespace, base_units, caller_namespace, default_units,
                                       reserved_name_problem)
from spikec.ir.dimension_rules import (BOOLEAN, FLOAT, INTEGER, TIME, Source, check_dimension,
                                       infer, is_noise_name)
from spikec.ir.expression import (BinaryOp, Expr, Name, Number, Span, UnaryOp, format_expression,
                                  identifiers, substitute_names)
from spikec.ir.expression_parser import parse_expression
from spikec.units import DIMENSIONLESS, Dimension, Quantity, get_dimensions
from spikec.units import get_unit

__all__ = ["Equations", "SingleEquation", "Expression", "DIFFERENTIAL_EQUATION", "SUBEXPRESSION",
           "PARAMETER", "FLOAT", "INTEGER", "BOOLEAN"]

# Flags each kind of equation may carry, over all kinds of groups. A group narrows this further
# (NeuronGroup allows 'unless refractory' but not 'event-driven'; Synapses the reverse).
ALLOWED_FLAGS: dict[str, tuple[str, ...]] = {
    DIFFERENTIAL_EQUATION: ("unless refractory", "event-driven", "clock-driven"),
    SUBEXPRESSION: ("shared", "constant over dt", "summed"),
    PARAMETER: ("constant", "shared", "linked"),
}


class Expression:
    """A piece of model code: its text (`code`), its tree, and (on demand) a sympy form."""

    def __init__(self, code: str | None = None, tree: Expr | None = None):
        if tree is None:
            if code is None:
                raise TypeError("Expression needs code or a tree")
            tree = parse_expression(code)
        self.tree = tree
        self.code = " ".join(code.split()) if code is not None else format_expression(tree)

    @property
    def identifiers(self) -> set[str]:
        return identifiers(self.tree)

    @property
    def sympy_expr(self):
        from spikec.ir.expression_sympy import to_sympy
        return to_sympy(self.tree)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expression) and self.tree == other.tree

    def __hash__(self) -> int:
        return hash(self.tree)

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"Expression({self.code!r})"


@dataclass(frozen=True)
class SingleEquation:
    """One equation or parameter of an `Equations` object.

    `type` is one of 'differential equation', 'subexpression', 'parameter' (Brian's words);
    `var_type` one of 'float', 'integer', 'boolean'. `source` and `name_span` keep where the
    equation was written, for error messages that come later (when units are checked)."""

    type: str
    varname: str
    dim: Dimension
    var_type: str = FLOAT
    expr: Expression | None = None
    flags: tuple[str, ...] = ()
    unit_text: str = "1"
    source: Source | None = None
    name_span: Span | None = None

    @property
    def unit(self) -> Quantity:
        return get_unit(self.dim)

    @property
    def identifiers(self) -> set[str]:
        return self.expr.identifiers if self.expr is not None else set()

    @property
    def stochastic_variables(self) -> set[str]:
        return {name for name in self.identifiers if is_noise_name(name)}

    def __str__(self) -> str:
        lhs = f"d{self.varname}/dt" if self.type == DIFFERENTIAL_EQUATION else self.varname
        text = lhs if self.expr is None else f"{lhs} = {self.expr}"
        text += f" : {self.unit_text}"
        if self.flags:
            text += f" ({', '.join(self.flags)})"
        return text

    def __repr__(self) -> str:
        return f"<{self.type} {self}>"


class Equations(collections.abc.Mapping):
    """A set of model equations, as in Brian: `Equations('dv/dt = -v/tau : volt')`.

    Keyword arguments substitute names: a string renames (`v='u'`), a number or quantity
    replaces the name by its value (`tau=5*ms`)."""

    def __init__(self, eqns: str | Iterable[SingleEquation] = "", **substitutions: Any):
        if isinstance(eqns, str):
            equations = _from_text(eqns)
        else:
            equations = list(eqns)
        self._equations: dict[str, SingleEquation] = {}
        for eq in equations:
            if eq.varname in self._equations:
                location = eq.source.location(eq.name_span) if eq.source else None
                raise EquationError(f"duplicate definition of variable '{eq.varname}'", location,
                                    "each variable is defined once; rename one of them")
            self._equations[eq.varname] = eq
        if substitutions:
            self._equations = _substitute(self._equations, substitutions)

    # --- Mapping ---------------------------------------------------------------------------
    def __getitem__(self, name: str) -> SingleEquation:
        return self._equations[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._equations)

    def __len__(self) -> int:
        return len(self._equations)

    def __hash__(self) -> int:
        return hash(tuple(str(eq) for eq in self._equations.values()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Equations):
            return NotImplemented
        return {k: str(v) for k, v in self.items()} == {k: str(v) for k, v in other.items()}

    def __add__(self, other: "Equations | str") -> "Equations":
        if isinstance(other, str):
            other = Equations(other)
        return Equations(list(self._equations.values()) + list(other._equations.values()))

    def __radd__(self, other: str) -> "Equations":
        return Equations(other) + self

    def __str__(self) -> str:
        return "\n".join(str(eq) for eq in self._equations.values())

    def __repr__(self) -> str:
        return f"Equations({str(self)!r})"

    # --- Brian's interface -------------------------------------------------------------------
    def _names_of(self, kind: str) -> set[str]:
        return {name for name, eq in self._equations.items() if eq.type == kind}

    @property
    def names(self) -> set[str]:
        return set(self._equations)

    @property
    def diff_eq_names(self) -> set[str]:
        return self._names_of(DIFFERENTIAL_EQUATION)

    @property
    def subexpr_names(self) -> set[str]:
        return self._names_of(SUBEXPRESSION)

    @property
    def parameter_names(self) -> set[str]:
        return self._names_of(PARAMETER)

    @property
    def identifiers(self) -> set[str]:
        """Names the equations use but do not define (constants, units, functions, xi...)."""
        used = set().union(*(eq.identifiers for eq in self._equations.values()))
        return used - self.names

    @property
    def dimensions(self) -> dict[str, Dimension]:
        return {name: eq.dim for name, eq in self._equations.items()}

    @property
    def stochastic_variables(self) -> set[str]:
        return set().union(*(eq.stochastic_variables for eq in self._equations.values()))

    @property
    def is_stochastic(self) -> bool:
        return bool(self.stochastic_variables)

    def variable_kinds(self) -> dict[str, tuple[Dimension, str]]:
        """Each defined name's (dimension, kind), the form `Namespace` takes."""
        return {name: (eq.dim, eq.var_type) for name, eq in self._equations.items()}

    def check_flags(self, allowed: dict[str, tuple[str, ...]], owner: str) -> None:
        """Require every flag to be in `allowed[kind]` (what a particular group accepts)."""
        for eq in self._equations.values():
            for flag in eq.flags:
                if flag not in allowed.get(eq.type, ()):
                    location = eq.source.location(eq.name_span) if eq.source else None
                    options = ", ".join(allowed.get(eq.type, ())) or "none"
                    raise FlagError(f"{owner} does not accept the flag '{flag}' on the "
                                    f"{eq.type} of '{eq.varname}'", location,
                                    f"flags it accepts there: {options}")

    def check_units(self, namespace: dict[str, Any] | None = None, level: int = 0,
                    variables: dict[str, tuple[Dimension, str]] | None = None) -> None:
        """Check every right-hand side against its variable's dimension.

        Names are resolved in the model's variables (these equations plus `variables`, which a
        group adds: `i`, `N`, `lastspike`, ...), then `namespace`, then the caller's frame
        (`level` frames further up)."""
        known = self.variable_kinds()
        known.update(variables or {})
        resolver = Namespace(known, namespace, caller_namespace(level))
        for eq in self._equations.values():
            if eq.expr is None:
                continue
            source = eq.source or Source(eq.expr.code)
            if eq.type == DIFFERENTIAL_EQUATION:
                check_dimension(eq.expr.tree, eq.dim / TIME, resolver, source,
                                f"the differential equation of '{eq.varname}'")
            elif eq.var_type == BOOLEAN:
                inferred = infer(eq.expr.tree, resolver, source)
                if not inferred.is_boolean:
                    raise ModelSyntaxError(f"'{eq.varname}' is boolean, but its expression "
                                           f"'{eq.expr}' is a {inferred.kind} value",
                                           source.location(eq.expr.tree.span))
            else:
                check_dimension(eq.expr.tree, eq.dim, resolver, source,
                                f"the subexpression '{eq.varname}'")


def _from_text(text: str) -> list[SingleEquation]:
    source = Source(text, "Equations")
    return [_single_equation(parsed, text, source) for parsed in parse_equations_text(text,
                                                                                       "Equations")]


def _single_equation(parsed: ParsedEquation, text: str, source: Source) -> SingleEquation:
    problem = reserved_name_problem(parsed.name)
    if problem:
        raise EquationError(problem, source.location(parsed.name_span),
                            "choose another name for the variable")
    dim, var_type = _unit_and_type(parsed, source)
    if parsed.kind == DIFFERENTIAL_EQUATION and var_type != FLOAT:
        article = "an" if var_type == INTEGER else "a"
        raise EquationError(f"the differential equation of '{parsed.name}' defines {article} "
                            f"{var_type} variable; differential equations define floating point "
                            "variables",
                            source.location(parsed.unit_span), "use a unit such as 'volt' or '1'")
    for flag, span in zip(parsed.flags, parsed.flag_spans):
        if flag not in ALLOWED_FLAGS[parsed.kind]:
            known = ", ".join(ALLOWED_FLAGS[parsed.kind])
            raise FlagError(f"unknown flag '{flag}' for the {parsed.kind} of '{parsed.name}'",
                            source.location(span), f"flags allowed on a {parsed.kind}: {known}")
    expr = None
    if parsed.expr is not None:
        start, end = parsed.expr.span
        expr = Expression(text[start:end], parsed.expr)
    return SingleEquation(parsed.kind, parsed.name, dim, var_type, expr, parsed.flags,
                          text[parsed.unit_span[0]:parsed.unit_span[1]], source, parsed.name_span)


def _unit_and_type(parsed: ParsedEquation, source: Source) -> tuple[Dimension, str]:
    """The dimension and kind a unit specification stands for (Brian allows only base units
    after the colon: `volt`, not `mV`; `1` for dimensionless; `boolean`, `integer`)."""
    unit = parsed.unit
    location = source.location(parsed.unit_span)
    if isinstance(unit, Name) and unit.id in ("boolean", "integer"):
        return DIMENSIONLESS, BOOLEAN if unit.id == "boolean" else INTEGER
    if isinstance(unit, Name) and unit.id == "bool":
        raise EquationError(f"the unit of '{parsed.name}' is 'bool'", location,
                            "write 'boolean' for a boolean variable")
    return _evaluate_unit(unit, parsed.name, source), FLOAT


def _evaluate_unit(unit: Expr, varname: str, source: Source,
                   one_allowed: bool = True) -> Dimension:
    """The dimension of a unit tree. The integer `1` may stand alone or as the numerator of a
    '/' (`1`, `1/second`), as in Brian, where anything else with a number (`1*volt`, `volt/1`,
    `1.0`) is a quantity rather than a unit."""
    if isinstance(unit, Number):
        if one_allowed and type(unit.value) is int and unit.value == 1:
            return DIMENSIONLESS
        raise EquationError(f"the unit of '{varname}' contains the number {unit.value}",
                            source.location(unit.span),
                            "a unit specification names units only, e.g. 'siemens/metre**2' "
                            "and not '1*siemens/metre**2'; write '1' for dimensionless")
    if isinstance(unit, Name):
        base = base_units()
        if unit.id in base:
            return get_dimensions(base[unit.id])
        if unit.id in default_units():
            better = get_unit(get_dimensions(default_units()[unit.id]))
            raise EquationError(f"the unit of '{varname}' refers to '{unit.id}', which is not a "
                                "base unit", source.location(unit.span),
                                f"use '{better.name}' instead: values stay in SI units")
        raise EquationError(f"unknown unit '{unit.id}' for '{varname}'", source.location(unit.span),
                            "use base units such as volt, amp, siemens, farad, second, metre, "
                            "'1', 'boolean' or 'integer'")
    assert isinstance(unit, BinaryOp)
    left = _evaluate_unit(unit.left, varname, source, one_allowed=unit.op == "/")
    if unit.op == "**":
        assert isinstance(unit.right, Number)
        if not math.isfinite(unit.right.value):
            raise EquationError(f"the unit of '{varname}' has the exponent "
                                f"{source.text[slice(*unit.right.span)]}, which is too large",
                                source.location(unit.right.span), "use an exponent such as 2 or 0.5")
        return left ** unit.right.value
    right = _evaluate_unit(unit.right, varname, source, one_allowed=False)
    return left * right if unit.op == "*" else left / right


def _substitute(equations: dict[str, SingleEquation],
                substitutions: dict[str, Any]) -> dict[str, SingleEquation]:
    """Apply `Equations(..., name='new_name', other=value)`."""
    renames: dict[str, str] = {}
    values: dict[str, Expr] = {}
    used = set(equations).union(*(eq.identifiers for eq in equations.values()))
    for name, replacement in substitutions.items():
        if name not in used:
            raise EquationError(f"cannot substitute '{name}': the equations do not use it",
                                hint=f"names used: {', '.join(sorted(used))}")
        if isinstance(replacement, str):
            problem = reserved_name_problem(replacement)
            if problem or not replacement.isidentifier():
                raise EquationError(f"cannot rename '{name}' to '{replacement}': "
                                    f"{problem or 'not a valid name'}")
            renames[name] = replacement
        elif isinstance(replacement, (int, float, np.number, Quantity, np.ndarray)):
            if name in equations:
                raise EquationError(f"cannot replace the model variable '{name}' by a value",
                                    hint="substitute values only for external constants")
            values[name] = quantity_tree(replacement)
        else:
            raise EquationError(f"cannot substitute '{name}' by a {type(replacement).__name__}",
                                hint="give a new name (a string) or a number/quantity")
    trees = {old: Name(new) for old, new in renames.items()}
    trees.update(values)
    result: dict[str, SingleEquation] = {}
    for name, eq in equations.items():
        expr = eq.expr
        if expr is not None:
            expr = Expression(tree=substitute_names(expr.tree, trees))
        new_name = renames.get(name, name)
        result[new_name] = replace(eq, varname=new_name, expr=expr)
    return result


def quantity_tree(value: Any) -> Expr:
    """A tree for a constant with units: its SI value times the SI base units of its dimension
    (`5*ms` becomes `0.005 * second`), so dimension checking still sees the units."""
    magnitude = float(np.asarray(value))
    number: Expr = Number(abs(magnitude))
    if magnitude < 0:
        number = UnaryOp("-", number)
    dim = get_dimensions(value)
    if dim.is_dimensionless:
        return number
    return BinaryOp("*", number, base_unit_tree(dim))


def base_unit_tree(dim: Dimension) -> Expr:
    """`metre**2 * kilogram * second**-3 * amp**-1`-style tree for a nonzero dimension."""
    factors: list[Expr] = []
    for unit_name, exponent in zip(Dimension.UNIT_NAMES, dim.exponents):
        if exponent == 0:
            continue
        factor: Expr = Name(unit_name)
        if exponent != 1:
            power = int(exponent) if exponent.denominator == 1 else float(exponent)
            exponent_tree = Number(abs(power))
            factor = BinaryOp("**", factor, UnaryOp("-", exponent_tree) if power < 0
                              else exponent_tree)
        factors.append(factor)
    tree = factors[0]
    for factor in factors[1:]:
        tree = BinaryOp("*", tree, factor)
    return tree
