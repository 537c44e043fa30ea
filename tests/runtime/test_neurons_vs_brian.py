"""Neuron models run by spikec agree with Brian 2 itself (the semantic oracle).

Each model is one function written once against a simulator module (`brian2` or `spikec`), as a
user's script would be with only the import changed; it returns what its monitors recorded.
Deterministic models must give the same spike trains and traces up to float rounding.
"""

import numpy as np
import pytest

import spikec

from tests.runtime.neuron_models import (adex, assert_same_records, events_and_regular_code,
                                         hodgkin_huxley, izhikevich, lif)

brian2 = pytest.importorskip("brian2")
pytestmark = pytest.mark.brian


def run_brian(model, **kwargs):
    brian2.start_scope()
    brian2.prefs.codegen.target = "numpy"
    brian2.defaultclock.dt = 0.1 * brian2.ms
    return model(brian2, **kwargs)


def compare(model, rtol=1e-9, atol=0.0, **kwargs):
    expected = run_brian(model, **kwargs)
    spikec.defaultclock.dt = 0.1 * spikec.ms
    found = model(spikec, **kwargs)
    assert_same_records(found, expected, rtol, atol)
    return found




@pytest.mark.parametrize("method", ["exact", "euler", "rk2", "rk4", "heun"])
def test_lif(device, method):
    found = compare(lif, method=method, rtol=1e-9 if method == "exact" else 1e-7)
    assert len(found["i"]) > 5




def test_hodgkin_huxley(device):
    found = compare(hodgkin_huxley, rtol=1e-7, atol=1e-12)
    assert len(found["i"]) > 0




def test_izhikevich(device):
    found = compare(izhikevich, rtol=1e-9)
    assert len(found["i"]) > 3




def test_adex(device):
    found = compare(adex, rtol=1e-8, atol=1e-15)
    assert len(found["i"]) > 2




def test_events_regular_code_and_monitors(device):
    found = compare(events_and_regular_code)
    assert len(found["half_i"]) > 0 and len(found["i"]) > 0


def test_runs_continue_and_store_restore(device):
    ms = spikec.ms
    G = spikec.NeuronGroup(3, "dv/dt = (1.2 - v)/(10*ms) : 1", threshold="v > 1",
                           reset="v = 0", method="exact")
    spikes = spikec.SpikeMonitor(G)
    net = spikec.Network(G, spikes)
    net.run(10 * ms)
    net.store()
    net.run(30 * ms)
    first = (spikes.i[:].copy(), spikes.t_[:].copy(), G.v[:].copy())
    net.restore()
    assert abs(float(net.t / ms) - 10) < 1e-9
    net.run(30 * ms)
    np.testing.assert_array_equal(spikes.i[:], first[0])
    np.testing.assert_array_equal(spikes.t_[:], first[1])
    np.testing.assert_array_equal(G.v[:], first[2])


def test_same_seed_same_noise(device):
    def noisy():
        spikec.seed(11)
        G = spikec.NeuronGroup(20, "dv/dt = -v/(10*ms) + 0.5*xi/sqrt(ms) : 1", method="euler")
        G.v = "rand()"
        trace = spikec.StateMonitor(G, "v", record=[0, 19])
        spikec.Network(G, trace).run(5 * spikec.ms)
        return trace.v_[:].copy()

    np.testing.assert_array_equal(noisy(), noisy())


def test_ornstein_uhlenbeck_statistics(device):
    """dv = -v/tau dt + sigma*sqrt(2/tau) dW: the stationary variance is sigma**2."""
    spikec.seed(3)
    G = spikec.NeuronGroup(2000, "dv/dt = -v/tau + sigma*sqrt(2/tau)*xi : 1", method="euler",
                           namespace={"tau": 5 * spikec.ms, "sigma": 0.5})
    trace = spikec.StateMonitor(G, "v", record=True, dt=5 * spikec.ms)
    spikec.Network(G, trace).run(40 * spikec.ms)
    late = trace.v_[:, -3:]
    assert abs(late.mean()) < 4 * 0.5 / np.sqrt(late.size)
    assert abs(late.var() - 0.25) < 0.02


def test_unknown_name_at_run_is_a_clear_error(device):
    G = spikec.NeuronGroup(1, "dv/dt = -v/tau_unknown : 1")
    with pytest.raises(spikec.UnknownIdentifierError) as info:
        spikec.Network(G).run(1 * spikec.ms)
    assert "tau_unknown" in str(info.value) and "^" in str(info.value)


def network_operations(sim):
    """A network operation that changes a parameter every 1 ms, one that records the time."""
    ms = sim.ms
    G = sim.NeuronGroup(3, "dv/dt = (drive - v)/(5*ms) : 1\ndrive : 1", threshold="v > 0.8",
                        reset="v = 0", method="exact")
    G.drive = 0.5
    seen = []

    @sim.network_operation(dt=1 * ms)
    def step_up():
        G.drive = G.drive[:] + 0.1

    @sim.network_operation
    def clock(t):
        seen.append(float(t / ms))

    spikes = sim.SpikeMonitor(G)
    trace = sim.StateMonitor(G, "v", record=[0])
    sim.Network(G, step_up, clock, spikes, trace).run(10 * ms)
    return {"i": spikes.i[:], "t": spikes.t_[:], "v": trace.v_[:], "times": np.array(seen),
            "drive": G.drive[:]}


def test_network_operations(device):
    found = compare(network_operations)
    assert len(found["times"]) == 100 and len(found["i"]) > 0


def test_network_operation_rejects_other_slots():
    with pytest.raises(spikec.EquationError, match="when='end' is not supported"):
        spikec.NetworkOperation(lambda: None, when="end")


def test_monitors_copy_only_new_records(device):
    """Draining reads the records written since the last drain, not the whole buffer (copying a
    buffer sized for 16 all-spiking steps each drain cost milliseconds per step on the GPU)."""
    G = spikec.NeuronGroup(1000, "dv/dt = (1.5 - v)/(10*ms) : 1", threshold="v > 1",
                           reset="v = 0", method="exact")
    spikes = spikec.SpikeMonitor(G)
    net = spikec.Network(G, spikes)
    net.run(0 * spikec.ms)
    executable = net.build.executable
    requested = []
    original = executable.read

    def counting_read(name, count=None):
        requested.append((name, count))
        return original(name, count)

    executable.read = counting_read
    net.run(30 * spikec.ms)
    buffer_reads = [count for name, count in requested if name in ("spikemonitor.i",
                                                                    spikes.name + ".i")]
    assert buffer_reads and all(count is not None for count in buffer_reads)
    assert sum(buffer_reads) == spikes.num_spikes
