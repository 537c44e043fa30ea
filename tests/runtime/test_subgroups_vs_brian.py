"""Subgroups (`G[a:b]`) agree with Brian 2: synapses onto and between subgroups under every
propagation strategy, summed variables onto disjoint subgroups, monitors and variable access on
subgroups; and the errors a bad subgroup gives."""

import numpy as np
import pytest

import spikec
from spikec.errors import EquationError, SubgroupError
from tests.runtime.neuron_models import assert_same_records
from tests.runtime.subgroup_models import (connect_on_subgroups, exc_inh, monitors_on_subgroups,
                                           on_post_between_subgroups, summed_onto_subgroups,
                                           variable_access)
from tests.runtime.test_neurons_vs_brian import run_brian

pytestmark = pytest.mark.brian


def compare(model, rtol=1e-9, atol=0.0, **kwargs):
    """`model` under spikec (with `kwargs`) against Brian (without spikec's `propagation`)."""
    expected = run_brian(model, **{k: v for k, v in kwargs.items() if k != "propagation"})
    spikec.defaultclock.dt = 0.1 * spikec.ms
    found = model(spikec, **kwargs)
    assert_same_records(found, expected, rtol, atol)
    return found


@pytest.mark.parametrize("kwargs", [
    {}, {"propagation": "pull-ordered"}, {"delay_ms": 1.0}, {"per_synapse_delays": True},
    {"per_synapse_delays": True, "propagation": "spike-queue"},
    {"per_synapse_delays": True, "propagation": "spike-history"}],
    ids=["push-atomic", "pull-ordered", "homogeneous-delay", "dendritic-ring", "spike-queue",
         "spike-history"])
def test_exc_inh_split_of_one_group(device, kwargs):
    found = compare(exc_inh, rtol=1e-12, **kwargs)
    assert len(found["pi_i"]) > 2 and set(found["pi_i"]) <= {0, 1, 2}
    assert len(found["i"]) > len(found["pi_i"])


def test_summed_variables_onto_disjoint_subgroups(device):
    found = compare(summed_onto_subgroups, rtol=1e-10, atol=1e-15)
    assert np.all(found["I"][[3, 6]] == 0.25) and np.ptp(found["I"][0]) > 0


def test_on_post_pathway_between_subgroups(device):
    found = compare(on_post_between_subgroups, rtol=1e-12)
    assert np.all(found["x"][:5] == 0) and np.ptp(found["x"][5:]) > 0


def test_monitors_on_subgroups(device):
    found = compare(monitors_on_subgroups, rtol=1e-12)
    assert set(found["i"]) == {0, 1, 2, 3} and set(found["half_i"]) == {0, 1, 2}


def test_variable_access_through_subgroups():
    compare(variable_access)


def test_connect_between_subgroups_of_one_group(device):
    compare(connect_on_subgroups, rtol=1e-12)


def test_writes_through_a_subgroup_after_a_run(device):
    """After a build the parent's values live in the executable: a subgroup reads and writes
    them there."""
    G = spikec.NeuronGroup(6, "v : 1")
    spikec.Network(G).run(0.1 * spikec.ms)
    G[2:5].v = "i + 1"
    G[2:5].v[0] = 9
    assert list(G.v[:]) == [0, 0, 9, 2, 3, 0] and list(G[1:3].v[:]) == [0, 9]


def test_poisson_input_on_a_subgroup(device):
    """Only the subgroup's elements receive the input; each gets its binomial mean."""
    spikec.seed(3)
    G = spikec.NeuronGroup(40, "x : 1")
    P = spikec.PoissonInput(G[10:30], "x", 50, 200 * spikec.Hz, weight=1.0)
    spikec.Network(G, P).run(100 * spikec.ms)
    x = np.asarray(G.x[:])
    assert np.all(x[:10] == 0) and np.all(x[30:] == 0)
    expected = 1000 * 50 * 200 * 1e-4  # steps * N * p
    assert abs(x[10:30].mean() - expected) < 4 * np.sqrt(expected * (1 - 0.02) / 20)


@pytest.mark.parametrize("item, message", [
    (slice(None, None, 2), "the step must be 1"),
    (slice(5, 25), "the bound 25 is outside the group"),
    (slice(7, 3), "would be empty"),
    (20, "index 20 is outside"),
    ([1, 2, 4], "consecutive increasing"),
    ("i > 3", "cannot make a subgroup from a str"),
])
def test_bad_subgroups_are_refused(item, message):
    G = spikec.NeuronGroup(20, "v : 1", name="cells")
    with pytest.raises(SubgroupError, match=message) as error:
        G[item]
    assert "NeuronGroup 'cells'[" in str(error.value) and error.value.hint
    assert isinstance(error.value, IndexError)  # as Brian raises


def test_subgroup_of_a_subgroup_stays_in_its_range():
    G = spikec.NeuronGroup(20, "v : 1", name="cells")
    sub = G[10:15]
    assert (sub[1:3].start, sub[1:3].stop) == (11, 13) and (sub[-1].start, sub[-1].stop) == (14, 15)
    with pytest.raises(SubgroupError, match=r"cells\[10:15\]\)\[3:8\]: the bound 8") as error:
        sub[3:8]
    assert "indices 0..4" in error.value.hint


def test_overlapping_summed_variables_are_refused():
    G = spikec.NeuronGroup(4, "v : 1", threshold="v > 1")
    H = spikec.NeuronGroup(6, "I : 1")
    A = spikec.Synapses(G, H[:4], "I_post = 1 : 1 (summed)")
    B = spikec.Synapses(G, H[3:], "I_post = 2 : 1 (summed)")
    A.connect()
    B.connect()
    with pytest.raises(EquationError, match="overlapping elements"):
        spikec.Network(G, H, A, B).run(0.1 * spikec.ms)


def test_model_ir_names_the_parent_with_a_range():
    """Synapses, monitors and Poisson inputs on subgroups name the parent group and carry the
    range; the text parses back equal, and a range outside the group does not verify."""
    from spikec.errors import VerificationError
    from spikec.frontend.build_model import build_model_ir
    from spikec.ir.equality import modules_equal
    from spikec.ir.parser import parse_module
    from spikec.ir.verify import verify_module

    P = spikec.NeuronGroup(10, "dv/dt = -v/(5*ms) : 1", threshold="v > 1", name="P")
    S = spikec.Synapses(P[:7], P[7:], on_pre="v_post += 1", name="S")
    S.connect()
    monitor = spikec.SpikeMonitor(P[2:5], name="M")
    background = spikec.PoissonInput(P[7:], "v", 5, 10 * spikec.Hz, 0.1)
    text = str(build_model_ir([P, S, monitor, background], {"ms": spikec.ms}))
    assert "source = @P, source_range = [0, 7], target = @P, target_range = [7, 10]" in text
    assert "source = @P, source_range = [2, 5]" in text and "range = [7, 10]" in text
    parsed = parse_module(text)
    verify_module(parsed)
    assert modules_equal(parsed, parse_module(text))
    with pytest.raises(VerificationError, match="source_range must be"):
        verify_module(parse_module(text.replace("source_range = [2, 5]", "source_range = [2, 11]")))
