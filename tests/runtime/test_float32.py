"""Models in float32 (`dtype=float32`): a decimal literal in their code is the nearest float32
(`0.01` -> float32(0.01), as numpy computes float32 arrays with a Python float), so they lower,
run on each CPU-side device and agree with the same model in float64 to float32 precision."""

import numpy as np
import pytest

import spikec
from spikec.ir.kernel_ops import ConstantOp
from spikec.ir.types import Type


def plastic(sim, dtype):
    """The `plastic` effect of benchmarks/synapse_events.py (an event-driven trace, a literal
    increment, clip) from spike-generator sources onto decaying targets; all in `dtype`."""
    ms = sim.ms
    sim.defaultclock.dt = 0.1 * ms
    G = sim.SpikeGeneratorGroup(4, [0, 1, 2, 3, 0, 2, 1, 3, 0, 1],
                                [1, 2, 3, 4, 6, 7.5, 9, 12, 15, 15.5] * ms)
    H = sim.NeuronGroup(3, "dv/dt = -v/(10*ms) : 1", method="exact", dtype=dtype)
    S = sim.Synapses(G, H, """w : 1
                              dapre/dt = -apre/(20*ms) : 1 (event-driven)""",
                     on_pre="""v_post += w
                               apre += 0.01
                               w = clip(w + 0.001*apre, 0, 0.1)""", dtype=dtype)
    S.connect()
    S.w = "0.01 + 0.003*i"   # string code on float32 values: host code with the same literals
    trace = sim.StateMonitor(H, "v", record=True)
    net = sim.Network(G, H, S, trace)
    net.run(20 * ms)
    return net, {"v": trace.v_[:], "w": np.asarray(S.w[:]), "apre": np.asarray(S.apre[:])}


def test_plastic_synapses_in_float32_agree_with_float64(device):
    _, single = plastic(spikec, np.float32)
    _, double = plastic(spikec, np.float64)
    for name in single:
        assert single[name].dtype == np.float32, name
        assert np.ptp(double[name]) > 0, name
        # float32's epsilon is 1.2e-7; a few roundings per step over 200 steps stay well within
        np.testing.assert_allclose(single[name], double[name], rtol=1e-5,
                                   atol=1e-6 * np.abs(double[name]).max(), err_msg=name)


def test_float32_kernel_constants_are_rounded_literals():
    """Every f32 constant of the lowered model is a float32 value, and the literals of the
    on_pre code are there as float32(0.01), float32(0.001), float32(0.1)."""
    spikec.set_device("cpu")
    net, _ = plastic(spikec, np.float32)
    values = [op.value for op in net.build.compiled.kernel_ir.walk()
              if isinstance(op, ConstantOp) and op.result.type is Type.F32]
    assert all(float(np.float32(value)) == value for value in values)
    for literal in (0.01, 0.001, 0.1):
        assert float(np.float32(literal)) in values and literal not in values


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_literal_increment_is_the_literal_in_the_variables_type(device, dtype):
    """`x += 0.01` in float32 code adds float32(0.01) in float32 arithmetic each step: bit for
    bit numpy's float32 sum (in float64, numpy's float64 sum)."""
    spikec.defaultclock.dt = 0.1 * spikec.ms
    G = spikec.NeuronGroup(1, "x : 1", dtype=dtype)
    G.run_regularly("x += 0.01")
    spikec.Network(G).run(10 * 0.1 * spikec.ms)
    expected = dtype(0)
    for _ in range(10):
        expected = expected + dtype(0.01)
    assert np.asarray(G.x[:])[0] == expected
