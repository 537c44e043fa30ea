"""DependencyGraph: the query API, name resolution as in Brian, and models built by the frontend."""

import networkx as nx
import pytest

from spikec.frontend.build_model import build_model_ir
from spikec.frontend.groups import NeuronGroup
from spikec.frontend.monitors import SpikeMonitor
from spikec.frontend.synapses import Synapses
from spikec.ir import model
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.passes.dependencies import ArrayNode, BlockNode, DependencyGraph
from spikec.passes.manager import run_pipeline
from spikec.units import ms

HAND_WRITTEN = """
model.clock @c {dt = 0.0001}
model.group @G {size = 4, clock = @c, dtype = f64, methods = ["euler"]} body() {
  model.variable @v {role = "state", dim = "1"} : f64
  model.variable @ge {role = "parameter", dim = "1"} : f64
  model.variable @theta {role = "parameter", dim = "1", shared = true} : f64
  model.constant @tau {value = 0.01, dim = "s"}
  model.equation @v {kind = "differential", expr = "(ge - v) / tau"}
  model.event @spike {condition = "v > theta", code = ["v = 0", "theta += 0.1"]}
}
model.synapses @S {size = 0, clock = @c, dtype = f64, methods = ["euler"], source = @G, target = @G} body() {
  model.variable @w {role = "parameter", dim = "1"} : f64
  model.variable @v {role = "parameter", dim = "1"} : f64
  model.pathway @pre {direction = "pre", event = "spike", code = ["ge_post += w * v_pre", "v = v_post", "w = ge"], delay = 0.0}
}
"""

G_V, G_GE, G_THETA = ArrayNode("G", "v"), ArrayNode("G", "ge"), ArrayNode("G", "theta")
S_W, S_V, SPIKES = ArrayNode("S", "w"), ArrayNode("S", "v"), ArrayNode("G", "_spikespace")


@pytest.fixture
def deps():
    return DependencyGraph(parse_module(HAND_WRITTEN))


def test_blocks_and_arrays(deps):
    assert [str(b) for b in deps.blocks()] == [
        "G.v.equation", "G.spike.code", "G.spike.condition", "S.pre"]
    assert [str(b) for b in deps.blocks(kind="pathway")] == ["S.pre"]
    assert {str(a) for a in deps.arrays()} == {"G.v", "G.ge", "G.theta", "G._spikespace",
                                               "S.w", "S.v"}
    assert isinstance(deps.graph, nx.DiGraph)
    pathway = deps.find("S.pre")
    assert deps.graph.has_edge(S_W, pathway) and deps.graph.has_edge(pathway, G_GE)
    assert deps.graph.edges[G_V, pathway]["indices"] == {"pre", "post"}


def test_synaptic_names_resolve_as_in_brian(deps):
    """`x_pre` at pre, `x_post` at post; a plain name is the synapse's variable if it has one
    (S.v), else the target's (G.ge at post)."""
    pathway = deps.find("S.pre")
    reads = {(a.array, a.index, a.statement) for a in deps.reads(pathway)}
    assert (G_V, "pre", 0) in reads and (S_W, "synapse", 0) in reads
    assert (G_V, "post", 1) in reads
    assert (G_GE, "post", 2) in reads
    assert [(a.array, a.index, a.operator) for a in deps.writes(pathway)] == [
        (G_GE, "post", "+="), (S_V, "synapse", "="), (S_W, "synapse", "=")]


def test_compound_assignment_reads_its_target_implicitly(deps):
    pathway = deps.find("S.pre")
    implicit = [a for a in deps.reads(pathway) if a.implicit]
    assert [(a.array, a.index, a.statement) for a in implicit] == [(G_GE, "post", 0)]


def test_readers_writers_and_indices(deps):
    assert [str(b) for b in deps.writers(G_V)] == ["G.v.equation", "G.spike.code"]
    assert [str(b) for b in deps.readers(G_V, index="pre")] == ["S.pre"]
    assert [str(b) for b in deps.readers(G_V, index="own")] == [
        "G.v.equation", "G.spike.condition"]
    assert [str(b) for b in deps.writers(SPIKES)] == ["G.spike.condition"]
    assert {str(b) for b in deps.readers(SPIKES)} == {"G.spike.code", "S.pre"}
    assert [a.index for a in deps.accesses(array=G_THETA, mode="write")] == ["shared"]


def test_feeds_and_conflicts(deps):
    condition, reset = deps.find("G.spike.condition"), deps.find("G.spike.code")
    equation, pathway = deps.find("G.v.equation"), deps.find("S.pre")
    assert deps.feeds(condition, reset) == [SPIKES]        # the reset iterates the spike list
    assert deps.feeds(reset, condition) == [G_THETA, G_V]
    assert deps.feeds(pathway, equation) == [G_GE]         # the pathway adds what v integrates
    assert deps.feeds(equation, condition) == [G_V]
    assert deps.feeds(condition, equation) == []
    assert deps.conflicts(equation, reset) == [G_V]
    assert deps.conflicts(condition, condition) == [SPIKES]


def test_races(deps):
    """A synaptic write at post may meet another synapse's; a shared variable written per
    neuron too; synaptic variables never."""
    assert [a.text for a in deps.races(deps.find("S.pre"))] == ["G.ge@post +="]
    assert [a.text for a in deps.races(deps.find("G.spike.code"))] == ["G.theta@shared +="]
    assert deps.races(deps.find("G.v.equation")) == []


def test_block_graph_orders_writers_before_readers(deps):
    flow = deps.block_graph()
    assert flow.has_edge(deps.find("S.pre"), deps.find("G.v.equation"))
    assert flow.edges[deps.find("G.spike.condition"), deps.find("S.pre")]["arrays"] == [SPIKES]
    assert all(isinstance(node, BlockNode) for node in flow)


def test_block_of_op_and_summary(deps):
    module_deps = deps
    pathway = module_deps.find("S.pre")
    op = module_deps.op_of(pathway)
    assert isinstance(op, model.PathwayOp) and module_deps.block_of(op) == pathway
    reads, writes = module_deps.summary(pathway)
    assert writes == ("G.ge@post +=", "S.v@synapse =", "S.w@synapse =")
    assert "G.v@pre" in reads and "G.v@post" in reads
    with pytest.raises(KeyError):
        module_deps.find("S.nothing")


def test_subexpressions_are_read_through_their_definitions():
    module = parse_module("""
model.clock @c {dt = 0.0001}
model.group @G {size = 2, clock = @c, dtype = f64, methods = ["euler"]} body() {
  model.variable @v {role = "state", dim = "1"} : f64
  model.variable @g {role = "parameter", dim = "1"} : f64
  model.variable @I {role = "subexpression", dim = "1", read_only = true} : f64
  model.equation @I {kind = "subexpression", expr = "g * 2"}
  model.event @spike {condition = "v > 1"}
}
model.synapses @S {size = 0, clock = @c, dtype = f64, methods = ["euler"], source = @G, target = @G} body() {
  model.pathway @pre {direction = "pre", event = "spike", code = ["v_post += I_pre + I"], delay = 0.0}
}
""")
    deps = DependencyGraph(module)
    reads = {a.text for a in deps.reads(deps.find("S.pre"))}
    assert {"G.g@pre", "G.g@post"} <= reads
    assert ArrayNode("G", "I") not in deps.arrays()


def test_frontend_model_with_plasticity_and_summed_variable():
    G = NeuronGroup(5, "dv/dt = -v/(10*ms) : 1\ng : 1", threshold="v > 1", reset="v = 0",
                    refractory=2 * ms, name="G")
    S = Synapses(G, G, """w : 1
                          dapre/dt = -apre/(5*ms) : 1 (event-driven)
                          g_post = w : 1 (summed)""",
                 on_pre="v_post += w; apre += 0.1", on_post="w += apre", name="S")
    S.connect(condition="i != j")
    S.delay = "i*ms"  # different delays per synapse: the pathways read them
    S.post.delay = "j*ms"
    monitor = SpikeMonitor(G, name="M")
    module = build_model_ir([G, S, monitor], namespace={"ms": ms})
    run_pipeline(module, "integrate")
    deps = DependencyGraph(module)
    pre, post = deps.find("S.pre"), deps.find("S.post")
    assert deps.feeds(post, pre) == [ArrayNode("S", "apre"), ArrayNode("S", "w")]
    assert [a.text for a in deps.races(pre)] == ["G.v@post +="]
    assert [a.text for a in deps.races(deps.find("S.g_post"))] == ["G.g@post sum"]
    assert deps.races(post) == []
    # heterogeneous delays: the pathways read their per-synapse delays
    assert "S.delay@synapse" in deps.summary(pre)[0]
    assert "S.post_delay@synapse" in deps.summary(post)[0]
    # refractoriness: the threshold writes lastspike, the state update reads it
    update = deps.find("G.state_update")
    assert deps.feeds(deps.find("G.spike.condition"), update) == [ArrayNode("G", "lastspike")]
    assert deps.feeds(deps.find("G.spike.code"), update) == [ArrayNode("G", "v")]
    assert deps.readers(ArrayNode("G", "_spikespace")) == sorted(
        [deps.find("G.spike.code"), pre, post, deps.find("M")])  # recurrent: post too


def test_analyze_dependencies_pass_round_trips_and_is_idempotent():
    G = NeuronGroup(3, "v : 1", threshold="v > 1", name="G")
    S = Synapses(G, G, "w : 1", on_pre="v_post += w", delay=1 * ms, name="S")
    module = build_model_ir([G, S], namespace={})
    first = run_pipeline(module, "analyze-dependencies")
    assert first.changed
    text = print_module(module)
    assert 'reads = ["G._spikespace@pre", "G.v@post", "S.w@synapse"], writes = ["G.v@post +="]' in text
    assert print_module(parse_module(text)) == text
    again = run_pipeline(module, "analyze-dependencies")
    assert not again.changed and print_module(module) == text
    assert again.records[0].statistics == {"blocks": 2, "reads": 4, "writes": 2, "races": 1}
