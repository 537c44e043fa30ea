"""Brian's input objects (TimedArray, PoissonGroup, SpikeGeneratorGroup) in spikec, with Brian 2
itself as the oracle: each model is written once against a simulator module (`brian2` or
`spikec`), as a user's script would be with only the import changed. Deterministic inputs give
Brian's spike trains and traces; Poisson inputs its statistics."""

import numpy as np
import pytest

import spikec
from spikec.errors import SpikecError
from spikec.frontend.build_model import build_model_ir
from spikec.ir.equality import modules_equal
from spikec.ir.parser import parse_module

brian2 = pytest.importorskip("brian2")

from tests.runtime.test_neurons_vs_brian import compare as compare_with_brian  # noqa: E402
from tests.runtime.test_neurons_vs_brian import run_brian  # noqa: E402, F401


@pytest.fixture(autouse=True)
def default_dt():
    spikec.defaultclock.dt = 0.1 * spikec.ms


def compare(model, **kwargs):
    return compare_with_brian(model, rtol=1e-10, atol=1e-15, **kwargs)


# -- models -----------------------------------------------------------------------------------
def generator(sim, period_ms=0.0, duration_ms=12.0):
    indices = np.array([3, 0, 2, 0, 1, 4, 4, 2])
    times = np.array([0.0, 0.0, 0.3, 1.0, 1.0, 1.04, 2.55, 4.9]) * sim.ms
    G = sim.SpikeGeneratorGroup(5, indices, times, period=period_ms * sim.ms)
    M = sim.SpikeMonitor(G)
    net = sim.Network(G, M)
    net.run(duration_ms * sim.ms)
    return {"i": np.asarray(M.i), "t": np.asarray(M.t / sim.ms)}


def generator_set_spikes(sim):
    G = sim.SpikeGeneratorGroup(3, [0], [1] * sim.ms)
    G.set_spikes([2, 1, 0], [0.5, 0.5, 2] * sim.ms, period=3 * sim.ms)
    M = sim.SpikeMonitor(G)
    net = sim.Network(G, M)
    net.run(7 * sim.ms)
    return {"i": np.asarray(M.i), "t": np.asarray(M.t / sim.ms)}


def timed_lif(sim, method="exact", two_d=False, dt_ms=1.0):
    ms, mV = sim.ms, sim.mV
    values = np.array([0.0, 25.0, 8.0, 40.0, 12.0, 30.0, 0.0])
    if two_d:
        stimulus = sim.TimedArray(np.stack([values, values[::-1], 2 * values], axis=1) * mV,
                                  dt=dt_ms * ms)
        drive = "stimulus(t, i % 3)"
    else:
        stimulus = sim.TimedArray(values * mV, dt=dt_ms * ms)
        drive = "stimulus(t)"
    G = sim.NeuronGroup(6, f"dv/dt = ({drive} * (1 + i/5) - v)/(5*ms) : volt",
                        threshold="v > 10*mV", reset="v = 0*mV", method=method,
                        namespace={"stimulus": stimulus})
    S = sim.StateMonitor(G, "v", record=True)
    M = sim.SpikeMonitor(G)
    net = sim.Network(G, S, M)
    net.run(8 * ms)
    return {"v": np.asarray(S.v / mV), "i": np.asarray(M.i), "t": np.asarray(M.t / ms)}


def timed_rates(sim, seed=None):
    if seed is not None:
        sim.seed(seed)
    rate_array = sim.TimedArray([0, 2000, 0, 500] * sim.Hz, dt=5 * sim.ms)
    P = sim.PoissonGroup(200, "rate_array(t)")
    M = sim.SpikeMonitor(P)
    net = sim.Network(P, M)
    net.run(20 * sim.ms)
    return np.asarray(M.i), np.asarray(M.t / sim.ms)


# -- SpikeGeneratorGroup ------------------------------------------------------------------------
@pytest.mark.brian
@pytest.mark.parametrize("period_ms", [0.0, 5.0])
def test_spike_generator_matches_brian(device, period_ms):
    found = compare(generator, period_ms=period_ms)
    assert len(found["i"]) == (8 if period_ms == 0 else 8 * 2 + 6)


@pytest.mark.brian
def test_spike_generator_set_spikes_matches_brian(device):
    compare(generator_set_spikes)


def test_set_spikes_between_runs_rebuilds(device):
    ms = spikec.ms
    G = spikec.SpikeGeneratorGroup(2, [0], [1] * ms)
    M = spikec.SpikeMonitor(G)
    net = spikec.Network(G, M)
    net.run(2 * ms)
    G.set_spikes([1, 0], [3, 4] * ms)
    net.run(3 * ms)
    assert list(M.i) == [0, 1, 0]
    np.testing.assert_allclose(M.t / ms, [1, 3, 4])


# -- TimedArray ---------------------------------------------------------------------------------
@pytest.mark.brian
@pytest.mark.parametrize("method", ["exact", "euler"])
@pytest.mark.parametrize("two_d", [False, True])
def test_timed_array_drives_lif_like_brian(device, method, two_d):
    found = compare(timed_lif, method=method, two_d=two_d)
    assert len(found["i"]) > 0


@pytest.mark.brian
@pytest.mark.parametrize("dt_ms", [0.1, 0.25, 0.05])
def test_timed_array_with_other_steps_like_brian(device, dt_ms):
    """Steps equal to, not a multiple of, and finer than the group's: Brian's rounding."""
    compare(timed_lif, method="euler", dt_ms=dt_ms)


def test_timed_array_called_from_python():
    ms, mV = spikec.ms, spikec.mV
    ta = spikec.TimedArray([1, 2, 3, 4] * mV, dt=0.1 * ms)
    assert float(ta(0.3 * ms) / mV) == 4.0
    assert float(ta(-1 * ms) / mV) == 1.0 and float(ta(5 * ms) / mV) == 4.0


def test_timed_array_ir_round_trip():
    ms, mV = spikec.ms, spikec.mV
    ta = spikec.TimedArray([[1, 2], [3, 4]] * mV, dt=0.1 * ms)
    G = spikec.NeuronGroup(2, "v = ta(t, i) : volt")
    S = spikec.SpikeGeneratorGroup(2, [1, 0], [0, 0.2] * ms, period=1 * ms)
    module = build_model_ir([G, S], {"ta": ta})
    text = str(module)
    assert "model.timed_array @ta {dt = 0.0001" in text and "shape = [2, 2]" in text
    assert "model.spike_generator @spike {indices = [1, 0]" in text
    assert modules_equal(parse_module(text), module)


def test_timed_array_out_of_range_column_gives_nan(device):
    ta = spikec.TimedArray([[1, 2]] * spikec.mV, dt=0.1 * spikec.ms)
    G = spikec.NeuronGroup(3, "v = ta(t, i) : volt")
    S = spikec.StateMonitor(G, "v", record=True)
    spikec.Network(G, S).run(0.1 * spikec.ms, namespace={"ta": ta})
    assert np.isnan(S.v_[2, 0]) and S.v_[1, 0] == 0.002


def test_timed_array_in_string_assignment(device):
    ms, mV = spikec.ms, spikec.mV
    ta = spikec.TimedArray([1, 2] * mV, dt=0.1 * ms)
    tb = spikec.TimedArray([[1, 2], [3, 4]] * mV, dt=0.1 * ms)
    G = spikec.NeuronGroup(3, "v : volt")
    G.v = "ta(t) + tb(0.1*ms, i)"
    values = np.asarray(G.v / mV)
    np.testing.assert_allclose(values[:2], [4, 5])
    assert np.isnan(values[2])
    spikec.Network(G).run(0.2 * ms)
    G.v = "ta(t)"
    np.testing.assert_allclose(np.asarray(G.v / mV), 2)


# -- PoissonGroup -------------------------------------------------------------------------------
def test_poisson_rate_and_independence(device):
    spikec.seed(11)
    N, rate, steps = 400, 200 * spikec.Hz, 250
    P = spikec.PoissonGroup(N, rate)
    M = spikec.SpikeMonitor(P)
    spikec.Network(P, M).run(steps * 0.1 * spikec.ms)
    p = 200 * 1e-4
    count = len(M.i)
    assert abs(count - N * steps * p) < 4 * np.sqrt(N * steps * p * (1 - p))
    trains = np.zeros((N, steps), bool)
    trains[np.asarray(M.i), np.round(np.asarray(M.t_) / 1e-4).astype(int)] = True
    # Independence: the pair (neuron 2k, 2k+1) spikes together as often as chance says.
    together = np.sum(trains[0::2] & trains[1::2])
    expected = N // 2 * steps * p * p
    assert abs(together - expected) < 4 * np.sqrt(expected) + 1


def test_poisson_per_neuron_rates_and_same_seed(device):
    rates = np.where(np.arange(300) < 150, 0.0, 400.0) * spikec.Hz
    spikes = []
    for _ in range(2):
        spikec.seed(5)
        P = spikec.PoissonGroup(300, rates)
        M = spikec.SpikeMonitor(P)
        spikec.Network(P, M).run(10 * spikec.ms)
        spikes.append((np.asarray(M.i).copy(), np.asarray(M.t_).copy()))
    assert np.all(spikes[0][0] >= 150) and len(spikes[0][0]) > 0
    np.testing.assert_array_equal(spikes[0][0], spikes[1][0])
    np.testing.assert_array_equal(spikes[0][1], spikes[1][1])


@pytest.mark.brian
def test_poisson_with_timed_array_rates_like_brian(device):
    """Rates from a TimedArray: silent where the rate is 0, and counts within 4 sigma of
    Brian's expectation where it is not (the random numbers themselves differ)."""
    run_brian(timed_rates)  # Brian accepts the same model
    i, t = timed_rates(spikec, seed=3)
    assert np.all(((t >= 5) & (t < 10)) | ((t >= 15) & (t < 20)))
    for (start, rate) in ((5, 2000), (15, 500)):
        count = np.sum((t >= start) & (t < start + 5))
        mean = 200 * 50 * rate * 1e-4
        assert abs(count - mean) < 4 * np.sqrt(mean)


# -- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda ms: spikec.SpikeGeneratorGroup(2, [0, 1], [1] * ms), "same length"),
    (lambda ms: spikec.SpikeGeneratorGroup(2, [0, 2], [1, 2] * ms), "interval [0, 2["),
    (lambda ms: spikec.SpikeGeneratorGroup(2, [0], [-1] * ms), "cannot be negative"),
    (lambda ms: spikec.SpikeGeneratorGroup(2, [0, 0], [1, 1.02] * ms), "more than once"),
    (lambda ms: spikec.SpikeGeneratorGroup(2, [0], [5] * ms, period=5 * ms), "greater than"),
    (lambda ms: spikec.SpikeGeneratorGroup(2, [0], [1] * ms, period=-1 * ms), "negative"),
    (lambda ms: spikec.SpikeGeneratorGroup(2, [0], [1] * ms, period=2.05 * ms), "multiple"),
    (lambda ms: spikec.SpikeGeneratorGroup(2, [0], [1, 2], period=2 * ms), "array of times"),
    (lambda ms: spikec.PoissonGroup(2, 5 * ms), "rate (Hz)"),
    (lambda ms: spikec.TimedArray([1, 2], dt=2), "must be a time"),
    (lambda ms: spikec.TimedArray(np.zeros((2, 2, 2)), dt=ms), "1-D or 2-D"),
])
def test_construction_errors(make, message):
    with pytest.raises(SpikecError) as error:
        make(spikec.ms)
    assert message in str(error.value)


@pytest.mark.parametrize("model, message", [
    ("v = ta(5) : volt", "must be a time"),
    ("v = ta(t, i) : volt", "takes 1 argument"),
    ("v = ta(t) : amp", "dimension"),
    ("v = ta2(t, 0.5) : volt", "integer index"),
    ("v = ta + 1 : volt", "is a function, not a value"),
])
def test_timed_array_call_errors(model, message):
    ms, mV = spikec.ms, spikec.mV
    names = {"ta": spikec.TimedArray([1, 2] * mV, dt=ms),
             "ta2": spikec.TimedArray([[1, 2]] * mV, dt=ms)}
    G = spikec.NeuronGroup(2, model)
    with pytest.raises(SpikecError) as error:
        build_model_ir([G], names)
    assert message in str(error.value)
    assert error.value.hint or "dimension" in str(error.value)


def test_poisson_rates_expression_must_be_a_rate():
    P = spikec.PoissonGroup(2, "5*mV")
    with pytest.raises(SpikecError) as error:
        build_model_ir([P], {})
    assert "rates" in str(error.value) and "hertz" in str(error.value)


def test_exact_refuses_a_timed_array_finer_than_dt(device):
    ta = spikec.TimedArray([1, 2] * spikec.mV, dt=0.05 * spikec.ms)
    G = spikec.NeuronGroup(1, "dv/dt = (ta(t) - v)/(5*ms) : volt", method="exact")
    with pytest.raises(SpikecError) as error:
        spikec.Network(G).run(0.1 * spikec.ms, namespace={"ta": ta})
    assert "not constant over a time step" in str(error.value)
