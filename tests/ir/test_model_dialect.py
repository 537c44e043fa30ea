"""The model IR: built from description objects, verified, printed and parsed back."""

import numpy as np
import pytest

from spikec.errors import (DimensionMismatchError, EquationError, IRParseError, ModelSyntaxError,
                           UnknownIdentifierError, VerificationError)
from spikec.frontend.build_model import build_model_ir
from spikec.frontend.groups import NeuronGroup
from spikec.frontend.monitors import PopulationRateMonitor, SpikeMonitor, StateMonitor
from spikec.frontend.synapses import Synapses
from spikec.ir import model
from spikec.ir.equality import modules_equal
from spikec.ir.parser import parse_module
from spikec.ir.verify import verify_module
from spikec.units import Dimension, get_dimensions, mV, ms, second

tau = 10 * ms
v_threshold = -50 * mV


def cuba_like_objects():
    G = NeuronGroup(20, """dv/dt = (-60*mV - v + ge*(0*mV - v)/nS*mV/mV)/tau : volt (unless refractory)
                           dge/dt = -ge/(5*ms) : siemens
                           I_syn : siemens""",
                    threshold="v > v_threshold", reset="v = -60*mV", refractory=2 * ms,
                    method="exact")
    S = Synapses(G, G, "w : siemens\nI_syn_post = w : siemens (summed)", on_pre="ge += w",
                 delay=1 * ms)
    S.connect(condition="i != j", p=0.1)
    S.connect(i=np.array([0, 1]), j=np.array([2, 3]))
    return [G, S, SpikeMonitor(G), StateMonitor(G, "v", record=[0, 5]),
            PopulationRateMonitor(G)]


def test_built_module_prints_and_parses_back_equal():
    module = build_model_ir(cuba_like_objects())
    text = str(module)
    parsed = parse_module(text)
    verify_module(parsed)
    assert modules_equal(parsed, module)
    assert str(parsed) == text


def test_constants_are_frozen_in_si_units():
    module = build_model_ir(cuba_like_objects())
    group = next(op for op in module.ops if isinstance(op, model.GroupOp))
    constants = group.constants()
    assert constants["tau"].attributes["value"] == pytest.approx(0.01)
    assert constants["v_threshold"].attributes["value"] == pytest.approx(-0.05)
    assert constants["mV"].attributes["dim"] == Dimension(length=2, mass=1, time=-3, current=-1)
    assert "ge" not in constants and "t" not in constants


def test_synapse_code_sees_target_variables_without_suffix():
    objects = cuba_like_objects()
    module = build_model_ir(objects)
    synapses = next(op for op in module.ops if isinstance(op, model.SynapsesOp))
    (pathway,) = synapses.members(model.PathwayOp)
    assert [str(s) for s in pathway.attributes["code"]] == ["ge += w"]
    assert pathway.attributes["delay"] == pytest.approx(0.001)
    # connect() built the synapses at once: the IR has their number, the runtime their arrays
    S = next(obj for obj in objects if isinstance(obj, Synapses))
    assert synapses.attributes["size"] == len(S) >= 2
    assert not synapses.members(model.ConnectOp)


def test_object_namespace_takes_precedence_over_the_caller():
    G = NeuronGroup(1, "dv/dt = -v/tau : 1", namespace={"tau": 20 * ms})
    group = build_model_ir([G]).ops[1]
    assert group.constants()["tau"].attributes["value"] == pytest.approx(0.02)


def test_explicit_namespace_replaces_the_caller_frame():
    G = NeuronGroup(1, "dv/dt = -v/tau_x : 1")
    with pytest.raises(UnknownIdentifierError):
        build_model_ir([G], namespace={})
    group = build_model_ir([G], namespace={"tau_x": 3 * ms}).ops[1]
    assert group.constants()["tau_x"].attributes["value"] == pytest.approx(0.003)


@pytest.mark.parametrize("kwargs, error, fragment", [
    (dict(threshold="v + 1*mV"), ModelSyntaxError, "must be a condition"),
    (dict(threshold="v > 1"), DimensionMismatchError, "cannot compare"),
    (dict(threshold="v > vmax"), UnknownIdentifierError, "unknown identifier 'vmax'"),
    (dict(threshold="v > 0*mV", reset="v = 3*ms"), DimensionMismatchError, "right side"),
    (dict(threshold="v > 0*mV", reset="v *= 2*mV"), DimensionMismatchError, "'*='"),
    (dict(threshold="v > 0*mV", reset="i = 3"), EquationError, "cannot assign to 'i'"),
    (dict(threshold="v > 0*mV", reset="N = 3"), EquationError, "cannot assign to 'N'"),
    (dict(threshold="v > 0*mV", reset="tau = 3*ms"), EquationError, "not a writable"),
    (dict(threshold="v > 0*mV", refractory="v"), DimensionMismatchError, "time or a condition"),
])
def test_group_code_is_checked_when_the_ir_is_built(kwargs, error, fragment):
    G = NeuronGroup(3, "dv/dt = -v/tau : volt", **kwargs)
    with pytest.raises(error) as info:
        build_model_ir([G])
    assert fragment in str(info.value)
    assert "^" in str(info.value)


def test_refractory_may_be_a_condition_or_a_duration_expression():
    for refractory in ("v > -55*mV", "2*ms + 0*tau"):
        G = NeuronGroup(3, "dv/dt = -v/tau : volt (unless refractory)", threshold="v > 0*mV",
                        refractory=refractory)
        event = build_model_ir([G]).ops[1].members(model.EventOp)[0]
        assert not isinstance(event.attributes["refractory"], float)


def test_synaptic_code_errors_name_the_pathway():
    G = NeuronGroup(2, "v : volt", threshold="v > 0*mV")
    S = Synapses(G, G, "w : 1", on_pre="v_post += w")
    with pytest.raises(DimensionMismatchError) as info:
        build_model_ir([G, S])
    assert "on_pre pathway 'pre'" in str(info.value)


def test_summed_variable_target_must_be_a_parameter():
    G = NeuronGroup(2, "dv/dt = -v/tau : 1")
    with pytest.raises(EquationError, match="summed variable 'x_post'"):
        Synapses(G, G, "x_post = 1 : 1 (summed)")


def test_verifier_rejects_unknown_names_in_hand_written_ir():
    text = """
model.clock @c {dt = 0.0001}
model.group @G {size = 2, clock = @c, dtype = f64, methods = ["euler"]} body() {
  model.variable @v {role = "state", dim = "1"} : f64
  model.equation @v {kind = "differential", expr = "-v / tau"}
}
"""
    with pytest.raises(VerificationError, match="'tau' is neither a variable nor a constant"):
        verify_module(parse_module(text))


@pytest.mark.parametrize("member, message", [
    ('model.equation @u {kind = "differential", expr = "1"}', "'u' is not declared"),
    ('model.variable @v {role = "state", dim = "1"} : f64', "defined twice"),
    ('model.variable @w {role = "weird", dim = "1"} : f64', "role must be one of"),
    ('model.event @spike {code = ["v = 0"]}', "'condition' is missing"),
    ('model.pathway @pre {direction = "up", event = "spike", code = []}', "direction"),
])
def test_verifier_rejects_malformed_members(member, message):
    text = f"""
model.clock @c {{dt = 0.0001}}
model.group @G {{size = 2, clock = @c, dtype = f64, methods = ["euler"]}} body() {{
  model.variable @v {{role = "state", dim = "1"}} : f64
  {member}
}}
"""
    with pytest.raises(VerificationError, match=message):
        verify_module(parse_module(text))


def test_monitor_of_a_missing_variable_is_rejected():
    text = """
model.clock @c {dt = 0.0001}
model.group @G {size = 2, clock = @c, dtype = f64, methods = ["euler"]} body() {
}
model.monitor @M {kind = "state", source = @G, variables = ["v"], record = true}
"""
    with pytest.raises(VerificationError, match="has no variable 'v'"):
        verify_module(parse_module(text))


def test_bad_expression_text_in_an_attribute_points_at_its_line():
    text = """model.clock @c {dt = 0.0001}
model.group @G {size = 2, clock = @c, dtype = f64, methods = ["euler"]} body() {
  model.variable @v {role = "state", dim = "1"} : f64
  model.equation @v {kind = "differential", expr = "-v +"}
}
"""
    with pytest.raises(IRParseError) as info:
        parse_module(text)
    assert info.value.location.line == 4


@pytest.mark.parametrize("text", ["1", "m^2 kg s^-3 A^-1", "s^0.5", "m^-4 kg^-1 s^3 A^2"])
def test_dimension_text_round_trips(text):
    assert model.format_dimension(model.parse_dimension(text)) == text


def test_dimension_text_errors():
    with pytest.raises(ValueError, match="not a base symbol"):
        model.parse_dimension("volt")
    assert model.parse_dimension("s") == get_dimensions(second)
