"""check-units: the frontend's build-time checks, repeated on model IR, agree with them."""

import pytest

from spikec.errors import PassError
from spikec.frontend.build_model import build_model_ir
from spikec.frontend.groups import NeuronGroup
from spikec.ir.expression_parser import parse_expression
from spikec.ir.model import EquationOp
from spikec.ir.parser import parse_module
from spikec.passes.manager import run_pipeline
from spikec.units import mV, ms

MODELS = [
    ("dv/dt = (El - v)/tau + sigma*xi/sqrt(tau) : volt (unless refractory)", dict(threshold="v > -50*mV", reset="v = El", refractory=2 * ms)),
    ("dv/dt = (El - v + I)/tau : volt\nI = 2*mV*sin(t/ms) : volt\nJ = I*2 : volt (constant over dt)", dict(threshold="v > -50*mV", refractory="v > -40*mV")),
    ("dv/dt = (0.04*v**2 + 5*v + 140 - u)/ms : 1\ndu/dt = 0.02*(0.2*v - u)/ms : 1", dict(threshold="v > 30", reset="v = -65; u += 8")),
]


@pytest.mark.parametrize("equations, kwargs", MODELS)
def test_frontend_models_pass_before_and_after_the_other_model_passes(equations, kwargs):
    group = NeuronGroup(3, equations, namespace=dict(El=-60 * mV, tau=10 * ms, sigma=2 * mV), **kwargs)
    module = build_model_ir([group], namespace={})
    report = run_pipeline(module, "check-units,inline-subexpressions,integrate,check-units")
    assert report.records[0].statistics["checked"] > 0 and not report.records[0].changed


def test_a_hand_written_mismatch_is_reported_with_both_dimensions():
    module = parse_module("""
model.clock @c {dt = 0.0001}
model.group @G {size = 1, clock = @c, dtype = f64, methods = ["euler"]} body() {
  model.variable @v {role = "state", dim = "m^2 kg s^-3 A^-1"} : f64
  model.constant @tau {value = 0.01, dim = "s"}
  model.equation @v {kind = "differential", expr = "v + tau"}
}""")
    with pytest.raises(PassError, match=r"operands of '\+' in 'v \+ tau' have different dimensions"):
        run_pipeline(module, "check-units")


def test_errors_in_a_module_built_in_memory_name_the_object_and_quote_the_op():
    group = NeuronGroup(1, "dv/dt = -v/tau : volt", namespace=dict(tau=10 * ms))
    module = build_model_ir([group], namespace={})
    equation = next(op for op in module.lookup(group.name).members(EquationOp))
    equation.attributes["expr"] = parse_expression("v * 1")  # volt, not volt/second
    with pytest.raises(PassError, match=rf"@{group.name}, line 1, column 1\):\n    model.equation @v"):
        run_pipeline(module, "check-units")
