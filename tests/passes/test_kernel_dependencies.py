"""The DependencyGraph of a kernel-IR module: kernels and clears as blocks, indices by how the
body addresses each array, launches mapped to their kernel's block."""

from spikec.ir.kernel import schedule
from spikec.ir.parser import parse_module
from spikec.passes.dependencies import DependencyGraph

MODULE = """
kernel.clock @c {dt = 0.0001}
kernel.array @G.v {length = 4} : f64
kernel.array @G.s {length = 1} : f64
kernel.array @G._spikespace {length = 5} : i32
kernel.array @S._post {length = 6} : i32
kernel.array @S._pre_offsets {length = 5} : i32
kernel.array @S._pre_synapses {length = 6} : i32

kernel.kernel @G.spike_threshold {space = elements(4)} invariants() {
} body(%i: i64) {
  %v = kernel.load @G.v[%i] : f64
  %zero = kernel.constant 0 : i64
  %s = kernel.load @G.s[%zero] : f64
  %spike = kernel.cmp gt, %v, %s : f64
  kernel.emit_spike @G._spikespace, %i if %spike
}

kernel.kernel @S.pre_push {space = outgoing(@G._spikespace, @S._pre_offsets, @S._pre_synapses)} invariants() {
} body(%i: i64) {
  %post = kernel.load @S._post[%i] : i32
  %w = kernel.constant 0.5 : f64
  kernel.atomic_add @G.v[%post], %w : f64
}

kernel.schedule step() {
  kernel.clear_spikes @G._spikespace {clock = @c}
  kernel.launch @G.spike_threshold {clock = @c}
  kernel.launch @S.pre_push {clock = @c}
}
"""


def test_kernel_graph_accesses_and_conflicts():
    module = parse_module(MODULE)
    graph = DependencyGraph(module)
    clear, threshold, push = (graph.block_of(op) for op in schedule(module).step.ops)
    assert (str(clear), str(threshold), str(push)) == ("G._spikespace.clear", "G.spike_threshold",
                                                       "S.pre_push")
    assert graph.summary(threshold) == (("G.s@shared", "G.v@own"), ("G._spikespace@append emit",))
    assert graph.summary(push) == (
        ("G._spikespace@space", "S._post@own", "S._pre_offsets@space", "S._pre_synapses@space"),
        ("G.v@indirect +=",))
    assert graph.summary(clear) == ((), ("G._spikespace@count =",))
    assert [str(a) for a in graph.conflicts(threshold, push)] == ["G._spikespace", "G.v"]
    assert [a.text for a in graph.races(push)] == ["G.v@indirect +="]
    assert graph.races(threshold) == []
