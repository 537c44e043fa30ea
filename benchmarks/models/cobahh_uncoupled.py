"""COBAHH without synapses or monitors, as in the Brian2CUDA paper's benchmark suite: Traub-Miles
Hodgkin-Huxley neurons with exponentially decaying conductances ge, gi, exponential_euler,
threshold v > -20 mV, refractory 3 ms. State update bound: 6 f64 state variables per neuron.
The model is `cobahh.py` with `coupling='uncoupled'`."""

from benchmarks.models import cobahh


def build(sim, n: int):
    """The network for `n` neurons; `sim` is the simulator module (`brian2` or `spikec`)."""
    return cobahh.build(sim, n, coupling="uncoupled")[0]
