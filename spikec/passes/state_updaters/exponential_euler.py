"""`exponential_euler`: for conditionally linear systems (Hodgkin-Huxley type models).

Each equation must be linear in its own variable: dx/dt = A x + B, with A and B free of x (but
possibly depending on the other variables, which keep their old values during the step). Then

    x' = (x + B/A) exp(A dt) - B/A      (temporary _BA_x = B/A)
    x' = x exp(A dt)                    when B = 0
    x' = x + dt B                       when A = 0

As in Brian; refused for stochastic equations and for equations not linear in their variable.
"""

from __future__ import annotations

import sympy

from spikec.passes.state_updaters.system import (DT, DifferentialSystem, Integration,
                                                 UnsupportedEquations, finish)


def exponential_euler(system: DifferentialSystem) -> Integration:
    if system.is_stochastic:
        raise UnsupportedEquations("'exponential_euler' cannot integrate stochastic equations "
                                   f"(noise {', '.join(system.noise_names)})")
    step = Integration("exponential_euler")
    new = {}
    for name, x in system.symbols.items():
        expr = sympy.expand(system.rhs[name])
        A = sympy.diff(expr, x)
        if x in A.free_symbols or A.has(sympy.Derivative):
            raise UnsupportedEquations(f"{system.texts[name]} is not linear in '{name}' (the "
                                       "system is not conditionally linear)")
        B = sympy.expand(expr - A * x)
        if A == 0:
            new[name] = x + DT * B
        elif B == 0:
            new[name] = x * sympy.exp(A * DT)
        else:
            BA = step.assign(f"_BA_{name}", B / A)
            new[name] = (x + BA) * sympy.exp(A * DT) - BA
    return finish(system, step, new)
