"""select-propagation on models built by the frontend: automatic choices, overrides, errors."""

import pytest

from spikec.errors import EquationError, PassError
from spikec.frontend.build_model import build_model_ir
from spikec.frontend.groups import NeuronGroup
from spikec.frontend.synapses import Synapses
from spikec.ir import model
from spikec.passes.manager import run_pipeline
from spikec.units import ms


def strategies(*synapses, pipeline="select-propagation", groups=None):
    objects = list(groups or []) + list(synapses)
    module = build_model_ir(objects, namespace={"ms": ms})
    run_pipeline(module, pipeline)
    return {f"{s.sym_name}.{p.sym_name}": (p.attributes["strategy"], p.attributes["reason"])
            for s in module.ops if isinstance(s, model.SynapsesOp)
            for p in s.members(model.PathwayOp)}


@pytest.fixture
def G():
    return NeuronGroup(4, "v : 1\nge : 1", threshold="v > 1", reset="v = 0", name="G")


@pytest.mark.parametrize("on_pre, delay, expected", [
    ("v_post += w", 0 * ms, "push-atomic"),
    ("v_post -= w; ge_post += 2*w", 1 * ms, "push-atomic"),
    ("v_post = v_post*0.5 + w", 0 * ms, "pull-ordered"),
    ("v_post += w*v_post", 0 * ms, "pull-ordered"),
    ("v_post = 0", 1 * ms, "pull-ordered"),
    ("v_post *= 2", 0 * ms, "pull-ordered"),
    ("w += 1", 0 * ms, "push-atomic"),
    ("v_post += w", None, "dendritic-ring"),
    ("v_post += w; w += 0.1", None, "spike-history"),
    ("v_post = w", None, "spike-queue"),
    ("v_post = v_post*0.5 + w; w += 0.1", None, "spike-queue"),
    # the reset writes v, so v_pre may change while the event travels: read it on arrival
    ("v_post += w*v_pre", None, "spike-history"),
])
def test_automatic_choice(G, on_pre, delay, expected):
    S = Synapses(G, G, "w : 1", on_pre=on_pre, delay=delay, name="S")
    if delay is None:  # different delays per synapse: heterogeneous (equal ones are homogeneous)
        S.connect(j="i")
        S.delay = "i*ms"
    assert strategies(S, groups=[G])["S.pre"][0] == expected


def test_equal_per_synapse_delays_are_homogeneous(G):
    """As Brian: without delay= every synapse's delay is 0, one delay for the pathway."""
    S = Synapses(G, G, "w : 1", on_pre="v_post += w", name="S")
    S.connect(j="i")
    assert strategies(S, groups=[G])["S.pre"][0] == "push-atomic"


def test_on_post_effects_on_pre_variables(G):
    """on_post pathways with different delays per synapse choose between the delayed
    strategies; homogeneous cases are in select-propagation.ir."""
    S = Synapses(G, G, "w : 1", on_pre="ge_post += w",
                 on_post={"add": "ge_pre += w", "set": "v_pre = w"}, delay=0 * ms, name="S")
    S.connect(j="i")
    S.add.delay = "i*ms"
    S.set.delay = "i*ms"
    found = strategies(S, groups=[G])
    assert found["S.pre"][0] == "push-atomic"
    assert found["S.add"][0] == "dendritic-ring"
    assert found["S.set"][0] == "spike-queue"
    assert "`v_pre = w` assigns the presynaptic variable G.v" in found["S.set"][1]


def test_user_override_is_kept_or_refused(G):
    S = Synapses(G, G, "w : 1", on_pre="v_post += w", delay=0 * ms, propagation="pull-ordered",
                 name="S")
    assert strategies(S, groups=[G])["S.pre"][0] == "pull-ordered"
    bad = Synapses(G, G, "w : 1", on_pre="v_post = v_post*0.5 + w", delay=0 * ms,
                   propagation="push-atomic", name="bad")
    with pytest.raises(PassError, match=r"@bad.pre: propagation='push-atomic' of @bad is wrong "
                                        r"for this pathway: `v_post = v_post \* 0.5 \+ w`"):
        strategies(bad, groups=[G])
    with pytest.raises(EquationError, match="names no pathway or strategy"):
        Synapses(G, G, "w : 1", on_pre="v_post += w", propagation="atomic")


def test_pass_option_forces_every_pathway(G):
    S = Synapses(G, G, "w : 1", on_pre="v_post += w", on_post="w += 1", name="S")
    found = strategies(S, groups=[G], pipeline="select-propagation{force=pull-ordered}")
    assert {s for s, _ in found.values()} == {"pull-ordered"}
    with pytest.raises(PassError, match="force=dendritic-ring.*reads S.w, which pathway S.post writes"):
        strategies(S, groups=[G], pipeline="select-propagation{force=dendritic-ring}")
