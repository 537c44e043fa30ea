"""The differential equations of one object, in the form state updaters work on.

`DifferentialSystem` holds, for each state variable, the right-hand side of dx/dt as a sympy
expression (subexpressions already substituted, `int(not_refractory)` already applied), and splits
it into a deterministic part f and one noise factor g per noise name (`xi`, `xi_*`), as Brian's
`Expression.split_stochastic` does. `Integration` is what a method returns: the statements of one
step, as (target, value) pairs, turned into code trees by `code()`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy

from spikec.ir.expression import BinaryOp, Call, Expr, Name, Statement, format_expression
from spikec.ir.expression_sympy import from_sympy, symbol, to_sympy

DT = symbol("dt")
T = symbol("t")
STATEFUL_FUNCTIONS = ("rand", "randn", "poisson")


class UnsupportedEquations(Exception):
    """A method cannot integrate a system; the message says why (Brian's reasons)."""


def is_noise(name: str) -> bool:
    return name == "xi" or name.startswith("xi_")


@dataclass
class DifferentialSystem:
    """dx/dt = rhs[x] for x in `names` (in the order of the model's equations)."""

    owner: str
    names: tuple[str, ...]
    rhs: dict[str, sympy.Expr]
    texts: dict[str, str] = field(default_factory=dict)   # equations as written, for messages
    # Functions constant over a step when called at t (TimedArrays whose dt is a multiple of
    # the object's): Brian's `is_locally_constant`.
    locally_constant: frozenset[str] = frozenset()

    @classmethod
    def from_trees(cls, owner: str, trees: dict[str, Expr],
                   unless_refractory: frozenset[str] = frozenset()) -> "DifferentialSystem":
        """Build from code trees; variables in `unless_refractory` get Brian's factor
        `int(not_refractory)` on their derivative."""
        rhs = {}
        for name, tree in trees.items():
            if name in unless_refractory:
                tree = BinaryOp("*", Call("int", (Name("not_refractory"),)), tree)
            rhs[name] = to_sympy(tree)
        return cls(owner, tuple(trees), rhs,
                   {n: f"d{n}/dt = {format_expression(t)}" for n, t in trees.items()})

    @property
    def symbols(self) -> dict[str, sympy.Symbol]:
        return {name: symbol(name) for name in self.names}

    @property
    def noise_names(self) -> list[str]:
        found = {s.name for expr in self.rhs.values() for s in expr.free_symbols if is_noise(s.name)}
        return sorted(found)

    @property
    def is_stochastic(self) -> bool:
        return bool(self.noise_names)

    def split(self, name: str) -> tuple[sympy.Expr, dict[str, sympy.Expr]]:
        """(f, {xi: g}) with rhs = f + sum(g * xi); raises when rhs is not linear in the noise."""
        expr = self.rhs[name]
        noise = [symbol(n) for n in self.noise_names]
        factors = {}
        for xi in noise:
            factor = sympy.diff(expr, xi)
            if factor.free_symbols & set(noise):
                raise UnsupportedEquations(
                    f"{self.texts.get(name, name)}: the noise terms must be of the form "
                    "'g * xi' with g free of noise; this equation cannot be split that way")
            if factor != 0:
                factors[xi.name] = factor
        deterministic = expr.subs({xi: 0 for xi in noise})
        return deterministic, factors

    def stochastic_type(self) -> str | None:
        """None, 'additive', or 'multiplicative' (a noise factor uses t or a state variable)."""
        if not self.is_stochastic:
            return None
        states = set(self.symbols.values())
        for name in self.names:
            for factor in self.split(name)[1].values():
                if T in factor.free_symbols or factor.free_symbols & states:
                    return "multiplicative"
        return "additive"

    def multiplicative_equation(self) -> str | None:
        """The first equation whose noise factor is not constant over the step, if any."""
        states = set(self.symbols.values())
        for name in self.names:
            for factor in self.split(name)[1].values():
                if not constant_over_dt(factor) or factor.free_symbols & states:
                    return name
        return None


def constant_over_dt(expr: sympy.Expr, locally_constant: frozenset[str] = frozenset()) -> bool:
    """Brian's `is_constant_over_dt`: no random function, and no `t` except as an argument of
    a function in `locally_constant` (`ta(t)`)."""
    if expr == T:
        return False
    name = getattr(expr.func, "__name__", "") if isinstance(expr, sympy.Function) else ""
    if name in STATEFUL_FUNCTIONS:
        return False
    return all((arg == T and name in locally_constant) or constant_over_dt(arg, locally_constant)
               for arg in expr.args)


@dataclass
class Integration:
    """One step: statements (target, value) in order; values are sympy or code trees."""

    method: str
    statements: list[tuple[str, object]] = field(default_factory=list)

    def assign(self, target: str, value: object) -> sympy.Symbol:
        self.statements.append((target, value))
        return symbol(target)

    def code(self) -> tuple[Statement, ...]:
        return tuple(Statement(target, "=", value if _is_tree(value) else from_sympy(value))
                     for target, value in self.statements)


def _is_tree(value: object) -> bool:
    return not isinstance(value, sympy.Basic)


def noise_draws(system: DifferentialSystem, step: Integration) -> dict[str, sympy.Symbol]:
    """`_dW_xi = sqrt(dt) * randn()` for every noise name: one standard normal draw per name,
    element and step, scaled to a Wiener increment."""
    draw = BinaryOp("*", Call("sqrt", (Name("dt"),)), Call("randn", ()))
    return {xi: step.assign(f"_dW_{xi}", draw) for xi in system.noise_names}


def finish(system: DifferentialSystem, step: Integration, new: dict[str, sympy.Expr]) -> Integration:
    """`_x = new value` for every variable, then `x = _x`: every update reads the old values."""
    for name in system.names:
        step.assign(f"_{name}", new[name])
    for name in system.names:
        step.statements.append((name, Name(f"_{name}")))
    return step
