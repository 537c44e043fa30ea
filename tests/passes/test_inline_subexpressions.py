"""inline-subexpressions: substitution order, what is kept, constant over dt, cycles."""

import numpy as np
import pytest

from spikec.errors import PassError
from spikec.frontend.build_model import build_model_ir
from spikec.frontend.groups import NeuronGroup
from spikec.frontend.monitors import StateMonitor
from spikec.ir import model
from spikec.ir.parser import parse_module
from spikec.passes.manager import run_pipeline
from spikec.units import mV, ms


def group_of(module):
    return next(op for op in module.ops if isinstance(op, model.GroupOp))


def test_inlining_then_integrating_equals_integrating_directly():
    """integrate substitutes subexpressions itself; running inline-subexpressions first must not
    change the step it computes."""
    equations = "dv/dt = (I - v)/tau : volt\nI = K + 2*mV : volt\nK = -v/3 : volt"
    def step(pipeline):
        module = build_model_ir([NeuronGroup(2, equations, namespace=dict(tau=10 * ms))], namespace={})
        run_pipeline(module, pipeline)
        code = group_of(module).members(model.model_state_update.StateUpdateOp)[0].code
        scope = {"v": np.array([-0.06, 0.01]), "dt": 1e-4, "tau": 0.01, "mV": 1e-3, "exp": np.exp}
        for statement in code:
            scope[statement.target] = eval(str(statement).split(" = ", 1)[1], {}, scope)
        return scope["v"]
    np.testing.assert_allclose(step("inline-subexpressions,integrate"), step("integrate"), rtol=1e-14)


def test_monitored_subexpressions_are_kept_and_others_removed():
    G = NeuronGroup(2, "dv/dt = (I - v)/tau : 1\nI = 2*J : 1\nJ = v + 1 : 1", namespace=dict(tau=10 * ms))
    module = build_model_ir([G, StateMonitor(G, "I", record=True)], namespace={})
    report = run_pipeline(module, "inline-subexpressions")
    group = group_of(module)
    assert "I" in group.variables() and "J" not in group.variables()
    assert report.records[0].statistics == {"inlined": 1, "removed": 1, "kept": 1}


def test_constant_over_dt_becomes_a_parameter_updated_first():
    G = NeuronGroup(2, "dv/dt = (I - v)/tau : 1\nI = 3*rand() : 1 (constant over dt)",
                    namespace=dict(tau=10 * ms))
    module = build_model_ir([G], namespace={})
    run_pipeline(module, "inline-subexpressions,integrate")
    group = group_of(module)
    (update,) = group.members(model.RegularOp)
    assert [str(s) for s in update.attributes["code"]] == ["I = 3 * rand()"]
    assert update.attributes["when"] == "start" and update.attributes["order"] == -2 ** 31
    assert group.variables()["I"].attributes["role"] == "parameter"


def test_cycles_are_an_error_naming_them():
    module = parse_module("""
model.clock @c {dt = 0.0001}
model.group @G {size = 1, clock = @c, dtype = f64, methods = ["euler"]} body() {
  model.variable @a {role = "subexpression", dim = "1", read_only = true} : f64
  model.variable @b {role = "subexpression", dim = "1", read_only = true} : f64
  model.equation @a {kind = "subexpression", expr = "b + 1"}
  model.equation @b {kind = "subexpression", expr = "a"}
}""")
    with pytest.raises(PassError, match="a -> b -> a"):
        run_pipeline(module, "inline-subexpressions")
