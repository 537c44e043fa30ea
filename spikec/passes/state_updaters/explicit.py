"""Explicit methods: euler, rk2, rk4 (deterministic), milstein and heun (stochastic).

Each method is written out with two helpers: `f(x, point, t)`, the deterministic part of dx/dt
evaluated with every state variable replaced by its value in `point`, and `g(x, xi, point, t)`,
the factor of the noise `xi` in dx/dt. The formulas are Brian's (brian2/stateupdaters/explicit.py):

    euler     x' = x + dt*f(x,t) + g(x,t)*dW
    rk2       k = dt*f(x,t);  x' = x + dt*f(x + k/2, t + dt/2)
    rk4       k1..k4 as usual;  x' = x + (k1 + 2*k2 + 2*k3 + k4)/6
    milstein  (derivative-free, diagonal noise, per noise name)
              x_s = x + dt*f(x,t) + sqrt(dt)*g(x,t);  g_s = g(x_s, t)
              x' = x + dt*f(x,t) + g(x,t)*dW + (g_s - g(x,t))*dW**2/(2*sqrt(dt))
    heun      (Stratonovich) x_s = x + g(x,t)*dW;  g_s = g(x_s, t + dt)
              x' = x + dt*f(x,t) + dW*(g(x,t) + g_s)/2

with dW = sqrt(dt)*randn(), one draw per noise name. The support points of milstein and heun are
computed per noise name for every variable, as Brian does.
"""

from __future__ import annotations

import sympy

from spikec.passes.state_updaters.system import (DT, T, DifferentialSystem, Integration,
                                                 UnsupportedEquations, finish, noise_draws)


class _Parts:
    """f and g of every equation, evaluable at other points and times."""

    def __init__(self, system: DifferentialSystem):
        self.system = system
        self.symbols = system.symbols
        self.split = {name: system.split(name) for name in system.names}
        self.here = dict(self.symbols)

    def _at(self, expr: sympy.Expr, point: dict, t: sympy.Expr) -> sympy.Expr:
        replacements = {self.symbols[n]: value for n, value in point.items()
                        if value != self.symbols[n]}
        if t != T:
            replacements[T] = t
        return expr.xreplace(replacements) if replacements else expr

    def f(self, name: str, point: dict | None = None, t: sympy.Expr = T) -> sympy.Expr:
        return self._at(self.split[name][0], point or self.here, t)

    def g(self, name: str, xi: str, point: dict | None = None, t: sympy.Expr = T) -> sympy.Expr:
        factor = self.split[name][1].get(xi, sympy.Integer(0))
        return self._at(factor, point or self.here, t)


def _deterministic_only(system: DifferentialSystem, method: str) -> None:
    if system.is_stochastic:
        raise UnsupportedEquations(f"'{method}' cannot integrate stochastic equations "
                                   f"(noise {', '.join(system.noise_names)})")


def euler(system: DifferentialSystem) -> Integration:
    """Forward Euler (Euler-Maruyama for additive noise)."""
    name = system.multiplicative_equation() if system.is_stochastic else None
    if name is not None:
        raise UnsupportedEquations(
            f"'euler' cannot integrate equations with multiplicative noise ({system.texts[name]}: "
            "its noise factor depends on a state variable or on t); use 'heun' or 'milstein'")
    step = Integration("euler")
    parts = _Parts(system)
    dW = noise_draws(system, step)
    new = {x: parts.symbols[x] + DT * parts.f(x) + sum((parts.g(x, xi) * dW[xi] for xi in dW),
                                                        sympy.Integer(0))
           for x in system.names}
    return finish(system, step, new)


def rk2(system: DifferentialSystem) -> Integration:
    """Second-order Runge-Kutta, midpoint form."""
    _deterministic_only(system, "rk2")
    step, parts = Integration("rk2"), _Parts(system)
    k = {x: step.assign(f"_k_{x}", DT * parts.f(x)) for x in system.names}
    middle = {x: parts.symbols[x] + k[x] / 2 for x in system.names}
    new = {x: parts.symbols[x] + DT * parts.f(x, middle, T + DT / 2) for x in system.names}
    return finish(system, step, new)


def rk4(system: DifferentialSystem) -> Integration:
    """Classical fourth-order Runge-Kutta."""
    _deterministic_only(system, "rk4")
    step, parts = Integration("rk4"), _Parts(system)
    X = parts.symbols
    k1 = {x: step.assign(f"_k1_{x}", DT * parts.f(x)) for x in system.names}
    k2 = {x: step.assign(f"_k2_{x}", DT * parts.f(x, {y: X[y] + k1[y] / 2 for y in X}, T + DT / 2))
          for x in system.names}
    k3 = {x: step.assign(f"_k3_{x}", DT * parts.f(x, {y: X[y] + k2[y] / 2 for y in X}, T + DT / 2))
          for x in system.names}
    k4 = {x: step.assign(f"_k4_{x}", DT * parts.f(x, {y: X[y] + k3[y] for y in X}, T + DT))
          for x in system.names}
    new = {x: X[x] + (k1[x] + 2 * k2[x] + 2 * k3[x] + k4[x]) / 6 for x in system.names}
    return finish(system, step, new)


def milstein(system: DifferentialSystem) -> Integration:
    """Derivative-free Milstein for diagonal noise (Ito)."""
    _diagonal_noise(system)
    step, parts = Integration("milstein"), _Parts(system)
    X = parts.symbols
    dW = noise_draws(system, step)
    support = {xi: {x: step.assign(f"_x_support_{x}_{xi}", X[x] + DT * parts.f(x)
                                   + sympy.sqrt(DT) * parts.g(x, xi))
                    for x in system.names} for xi in dW}
    g_support = {xi: {x: parts.g(x, xi, support[xi]) for x in system.names} for xi in dW}
    correction = {}
    for xi in dW:
        for x in system.names:
            value = (g_support[xi][x] - parts.g(x, xi)) * dW[xi] ** 2 / (2 * sympy.sqrt(DT))
            correction[x, xi] = step.assign(f"_k_{x}_{xi}", value) if value != 0 else 0
    new = {x: X[x] + DT * parts.f(x) + sum((parts.g(x, xi) * dW[xi] + correction[x, xi]
                                            for xi in dW), sympy.Integer(0))
           for x in system.names}
    return finish(system, step, new)


def heun(system: DifferentialSystem) -> Integration:
    """Stochastic Heun (Stratonovich), any noise."""
    step, parts = Integration("heun"), _Parts(system)
    X = parts.symbols
    dW = noise_draws(system, step)
    support = {xi: {x: step.assign(f"_x_support_{x}_{xi}", X[x] + parts.g(x, xi) * dW[xi])
                    if parts.g(x, xi) != 0 else X[x]
                    for x in system.names} for xi in dW}
    g_support = {}
    for xi in dW:
        for x in system.names:
            value = parts.g(x, xi, support[xi], T + DT)
            g_support[x, xi] = step.assign(f"_g_support_{x}_{xi}", value) if value != 0 else 0
    new = {x: X[x] + DT * parts.f(x) + sum((dW[xi] * (parts.g(x, xi) + g_support[x, xi]) / 2
                                            for xi in dW), sympy.Integer(0))
           for x in system.names}
    return finish(system, step, new)


def _diagonal_noise(system: DifferentialSystem) -> None:
    """Milstein needs each equation to have at most one noise name, used by no other equation."""
    seen: dict[str, str] = {}
    for x in system.names:
        names = list(system.split(x)[1])
        if len(names) > 1:
            raise UnsupportedEquations(f"'milstein' needs diagonal noise, but {system.texts[x]} "
                                       f"uses {', '.join(names)}; use 'heun'")
        for xi in names:
            if xi in seen:
                raise UnsupportedEquations(f"'milstein' needs diagonal noise, but {xi} appears in "
                                           f"the equations of both '{seen[xi]}' and '{x}'; "
                                           "use 'heun'")
            seen[xi] = x
