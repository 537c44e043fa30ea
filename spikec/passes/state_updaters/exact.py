"""`exact` (Brian's `linear`): the analytic solution of a linear system with constant coefficients.

dX/dt = M X + B with M and B free of the state variables and constant over the step (no `t`, no
random function). With b solving M b = B, the solution after dt is

    X(t + dt) = A (X + b) - b = A X + C,   A = exp(M dt),  C = A b - b

(the matrix exponential, from sympy), written as A X + C with product coefficients and sum
constants as temporaries (`coefficient_form`). Like Brian, the method refuses: stochastic equations,
non-linear ones, coefficients that change within a step, a singular M (e.g. dv/dt = 1/tau, or a
variable with dx/dt = 0: use euler, which is exact there), and solutions sympy can only write with
complex numbers (oscillating systems). The `integrate` pass's `event_driven_update` uses it with
dt replaced by the time since the last update, as Brian does for event-driven equations.
"""

from __future__ import annotations

import sympy

from spikec.passes.state_updaters.system import (DT, DifferentialSystem, Integration,
                                                 UnsupportedEquations, constant_over_dt, finish)


def linear_system(system: DifferentialSystem) -> tuple[sympy.Matrix, sympy.Matrix]:
    """(M, B) with dX/dt = M X + B, or UnsupportedEquations when the system is not linear."""
    states = list(system.symbols.values())
    size = len(states)
    M, B = sympy.zeros(size, size), sympy.zeros(size, 1)
    for row, name in enumerate(system.names):
        expr = sympy.expand(system.rhs[name])
        for column, state in enumerate(states):
            coefficient = sympy.diff(expr, state)
            if coefficient.free_symbols & set(states) or coefficient.has(sympy.Derivative):
                raise UnsupportedEquations(f"{system.texts[name]} is not linear in "
                                           f"'{state.name}'")
            M[row, column] = coefficient
        B[row] = sympy.expand(expr.subs({s: 0 for s in states}))
    return M, B


def exact(system: DifferentialSystem) -> Integration:
    """One exact step of length dt."""
    if system.is_stochastic:
        raise UnsupportedEquations("'exact' cannot integrate stochastic equations "
                                   f"(noise {', '.join(system.noise_names)})")
    M, B = linear_system(system)
    for entry in list(M) + list(B):
        if not constant_over_dt(entry, system.locally_constant):
            raise UnsupportedEquations(f"the coefficient '{entry}' is not constant over a time "
                                       "step (it uses t or a random function)")
    if sympy.simplify(M.det()) == 0:
        raise UnsupportedEquations("the system's matrix is singular (a variable has no decay "
                                   "term of its own, e.g. dv/dt = 1/tau)")
    b = M.LUsolve(B).applyfunc(sympy.simplify)
    try:
        A = (M * DT).exp()
    except (NotImplementedError, ValueError) as error:
        raise UnsupportedEquations(f"sympy cannot exponentiate the system's matrix ({error})")
    A = A.applyfunc(lambda x: sympy.factor_terms(sympy.cancel(sympy.signsimp(x))))
    X = sympy.Matrix(list(system.symbols.values()))
    C = (A * b - b).applyfunc(lambda x: sympy.factor_terms(sympy.cancel(x)))
    if any(value.has(sympy.I, sympy.re, sympy.im) for value in list(A) + list(C)):
        raise UnsupportedEquations("the solution involves complex numbers (an oscillating "
                                   "system), which exact integration does not handle")
    return finish(system, *coefficient_form(system, A, C))


def coefficient_form(system: DifferentialSystem, A: sympy.Matrix,
                     C: sympy.Matrix) -> tuple[Integration, dict[str, sympy.Expr]]:
    """X(t + dt) = A X + C written so that each coefficient stays one value: a product
    coefficient (`taue*(...)*exp(...)/(taue - taum)`) is a temporary `__A<row>_<column>` and a sum
    constant a temporary `__C<row>` (as Brian's `A * _S + C`). Written inline, sympy would
    flatten `coefficient * ge` into one product with the state variable first, evaluated left
    to right per element; as temporaries of constants they are launch invariants that
    `hoist-invariants` computes once, leaving a multiplication per coupled term. (Leading `__`:
    no `_<name>` temporary of `finish` can start that way.)"""
    step = Integration("exact")
    new = {}
    for row, name in enumerate(system.names):
        terms = []
        for column, state in enumerate(system.symbols.values()):
            coefficient = A[row, column]
            if coefficient == 0:
                continue
            if isinstance(coefficient, sympy.Mul):
                coefficient = step.assign(f"__A{row}_{column}", coefficient)
            terms.append(coefficient * state)
        constant = C[row]
        if isinstance(constant, sympy.Add):
            constant = step.assign(f"__C{row}", constant)
        new[name] = sympy.Add(*terms, constant)
    return step, new
