"""PoissonInput: binomial input per step, as Brian draws it (statistics), and its errors."""

import math

import numpy as np
import pytest

import spikec
from spikec.errors import DimensionMismatchError, EquationError
from spikec.ir.expression import format_expression
from spikec.passes.lowering.poisson_inputs import binomial_expression


@pytest.mark.parametrize("n, rate_hz", [(1000, 10.0), (20, 50.0), (10, 5000.0), (7, 9000.0)])
def test_mean_and_variance_per_step(device, n, rate_hz):
    """Normal approximation (n p > 5), exact inversion (small n p), and mirrored p > 0.5."""
    spikec.seed(4)
    G = spikec.NeuronGroup(4000, "v : 1")
    P = spikec.PoissonInput(G, "v", n, rate_hz * spikec.Hz, weight=0.5)
    spikec.Network(G, P).run(2 * spikec.ms)  # 20 steps
    p = rate_hz * 1e-4
    per_step = np.asarray(G.v[:]) / 20
    mean, variance = n * p * 0.5, n * p * (1 - p) * 0.25 / 20
    assert abs(per_step.mean() - mean) < 5 * math.sqrt(variance / len(per_step))
    assert abs(np.var(per_step) / variance - 1) < 0.15


def test_exact_inversion_reproduces_the_truncated_binomial():
    """The unrolled inversion draws k with probability pmf(k)/F(B), B Brian's bound."""
    setup, _ = binomial_expression(12, 0.1)
    assert len(setup) == 1 and setup[0].target == "_poissoninput_u"
    _, approximated = binomial_expression(1000, 0.01)
    assert "randn()" in format_expression(approximated)


def test_weight_expression_and_slot(device):
    G = spikec.NeuronGroup(10, "v : volt\nscale : 1")
    G.scale = "i"
    P = spikec.PoissonInput(G, "v", 50, 200 * spikec.Hz, weight="scale*mV", when="start")
    spikec.Network(G, P).run(1 * spikec.ms)
    v = np.asarray(G.v[:])
    assert v[0] == 0 and np.all(v[1:] > 0)


def test_errors():
    G = spikec.NeuronGroup(2, "v : volt")
    with pytest.raises(EquationError, match="has no variable 'x'"):
        spikec.PoissonInput(G, "x", 10, 10 * spikec.Hz, 1 * spikec.mV)
    with pytest.raises(DimensionMismatchError, match="the weight has dimension"):
        spikec.PoissonInput(G, "v", 10, 10 * spikec.Hz, 1 * spikec.nA)
    with pytest.raises(DimensionMismatchError, match="rate"):
        spikec.PoissonInput(G, "v", 10, 10 * spikec.ms, 1 * spikec.mV)
    with pytest.raises(EquationError, match="not a probability"):
        spikec.PoissonInput(G, "v", 10, 1e6 * spikec.Hz, 1 * spikec.mV)


def test_input_added_after_a_run_takes_effect(device):
    G = spikec.NeuronGroup(100, "v : 1")
    net = spikec.Network(G)
    net.run(1 * spikec.ms)
    assert np.all(G.v[:] == 0)
    net.add(spikec.PoissonInput(G, "v", 100, 1000 * spikec.Hz, weight=1.0))
    net.run(1 * spikec.ms)
    assert G.v[:].sum() > 0


def test_an_input_outside_the_network_does_nothing(device):
    """As in Brian: a PoissonInput acts where it is part of the network, explicit or found by
    `run()` in the caller's names; one that is neither leaves its target alone."""
    G = spikec.NeuronGroup(100, "v : 1")
    spikec.PoissonInput(G, "v", 100, 1000 * spikec.Hz, weight=1.0)
    spikec.Network(G).run(1 * spikec.ms)
    assert np.all(G.v[:] == 0)
    H = spikec.NeuronGroup(100, "w : 1")
    P = spikec.PoissonInput(H, "w", 100, 1000 * spikec.Hz, weight=1.0)  # noqa: F841 (found by run())
    spikec.run(1 * spikec.ms)
    assert H.w[:].sum() > 0
