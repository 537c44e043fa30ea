"""Helpers for the integrate tests (no tests here): build spikec's state update for an equation text, get Brian's
for the same text, and run both one step on the same numbers with numpy."""

from __future__ import annotations

import re

import numpy as np

from spikec.frontend.build_model import build_model_ir
from spikec.frontend.groups import NeuronGroup
from spikec.ir import model
from spikec.ir.model_state_update import state_update_of
from spikec.passes.manager import run_pipeline

FUNCTIONS = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
             "abs": np.abs, "exprel": lambda x: np.where(x == 0, 1.0, np.expm1(x) / np.where(x == 0, 1, x)),
             "int": lambda x: np.asarray(x, dtype=float), "tanh": np.tanh}


def spikec_group(equations: str, method, namespace: dict, **kwargs):
    """The integrated model.group of a NeuronGroup with `equations`."""
    methods = method if isinstance(method, (list, tuple)) or method is None else [method]
    extra = {"method": methods} if methods is not None else {}
    group = NeuronGroup(4, equations, namespace=namespace, **extra, **kwargs)
    module = build_model_ir([group], namespace={})
    run_pipeline(module, "integrate")
    return next(op for op in module.ops if isinstance(op, model.GroupOp))


def spikec_code(equations: str, method, namespace: dict, **kwargs):
    """(statement texts, conditional-write variables, method used, constants in SI)."""
    group = spikec_group(equations, method, namespace, **kwargs)
    update = state_update_of(group)
    constants = {n: op.attributes["value"] for n, op in group.constants().items()}
    return ([str(s) for s in update.code if s.target != "not_refractory"],
            set(update.attributes.get("unless_refractory", ())), update.method, constants)


def brian_code(equations: str, method: str, refractory: bool = False) -> list[str]:
    import brian2
    from brian2.equations.refractory import add_refractoriness
    from brian2.stateupdaters.base import StateUpdateMethod
    eqs = brian2.Equations(equations)
    if refractory:
        eqs = add_refractoriness(eqs)
    code = StateUpdateMethod.stateupdaters[method](eqs, {})
    return [line for line in code.splitlines() if line.strip()]


def run_step(lines: list[str], values: dict, noise: dict, conditional: set[str],
             noise_target=lambda target: target) -> dict:
    """Execute statements `target = expr` in order on numpy arrays. A line drawing randn()
    gets the samples of the noise its target names (`noise_target` maps target to noise name);
    assignments to `conditional` variables only take effect where not_refractory is true."""
    scope = dict(FUNCTIONS, **values)
    for line in lines:
        target, expression = (part.strip() for part in line.split("=", 1))
        if "randn()" in expression:
            scope["_samples"] = noise[noise_target(target)]
            expression = expression.replace("randn()", "_samples")
        value = eval(expression, {"__builtins__": {}}, scope)  # noqa: S307 (test-only evaluation)
        if target in conditional:
            value = np.where(scope["not_refractory"], value, scope[target])
        scope[target] = value * np.ones(np.shape(values["_shape"]))
    return scope


def compare_one_step(equations: str, method: str, state: dict, namespace: dict, *,
                     noise_names=(), refractory=None, rng=None, rtol=1e-12, **kwargs):
    """Run Brian's and spikec's code for one step of `method` on the same random numbers;
    assert the new state agrees within `rtol`. Returns spikec's code lines."""
    rng = rng or np.random.default_rng(1)
    size = len(next(iter(state.values())))
    extra = dict(refractory=refractory, threshold="False") if refractory is not None else {}
    lines, conditional, used, constants = spikec_code(equations, method, namespace, **extra, **kwargs)
    assert used == method
    brian = brian_code(equations, method, refractory=refractory is not None)
    values = dict(constants, **state, t=np.full(size, 0.0123), dt=1e-4, _shape=np.zeros(size))
    if refractory is not None:
        values["not_refractory"] = rng.random(size) < 0.6
    noise = {xi: rng.standard_normal(size) for xi in noise_names}
    ours = run_step(lines, values, noise, conditional,
                    lambda target: re.sub(r"^_dW_", "", target))
    theirs = run_step(brian, values, noise, conditional)
    for name in state:
        scale = np.max(np.abs(theirs[name]))
        np.testing.assert_allclose(ours[name], theirs[name], rtol=rtol, atol=rtol * scale,
                                   err_msg=f"{method}: variable {name}")
    return lines
