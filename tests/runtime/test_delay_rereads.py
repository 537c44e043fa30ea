"""A network reads per-synapse delays (O(synapses)) again only when they may have changed: after a
write to the delay variable, a restore, or when model code writes them. The results must stay
those of reading them every time: a changed delay rebuilds and takes effect."""

import numpy as np
import pytest

import spikec
import spikec.runtime.network as network_module


@pytest.fixture
def reads(monkeypatch):
    """How many times the network computed a pathway's delay signature."""
    calls = []
    original = network_module.delay_signature

    def counting(synapses, pathway):
        calls.append((synapses.name, pathway))
        return original(synapses, pathway)

    monkeypatch.setattr(network_module, "delay_signature", counting)
    return calls


def delayed(on_pre="v_post += w"):
    ms = spikec.ms
    spikec.defaultclock.dt = 0.1 * ms
    source = spikec.SpikeGeneratorGroup(1, [0, 0], [0.5, 6.0] * ms)
    target = spikec.NeuronGroup(2, "v : 1")
    S = spikec.Synapses(source, target, "w : 1", on_pre=on_pre)
    S.connect(i=[0, 0], j=[0, 1])
    S.w = 1.0
    S.delay = [1.0, 2.0] * ms
    monitor = spikec.StateMonitor(target, "v", record=True)
    return spikec.Network(source, target, S, monitor), S, monitor


def test_unchanged_delays_are_read_once(device, reads):
    net, S, _ = delayed()
    net.run(1 * spikec.ms)
    first = len(reads)
    assert first >= 1
    net.run(1 * spikec.ms)
    net.run(1 * spikec.ms)
    assert len(reads) == first  # no write, no read
    assert net.build is not None


def test_written_delays_are_read_and_take_effect(device, reads):
    ms = spikec.ms
    net, S, monitor = delayed()
    net.run(5 * ms)
    before = len(reads)
    build = net.build
    S.delay = [3.0, 0.5] * ms  # the second spike (6 ms) arrives at 9 and 6.5 ms
    net.run(5 * ms)
    assert len(reads) > before
    assert net.build is not build  # rebuilt with the new delays
    t = np.asarray(monitor.t / ms)
    v = np.asarray(monitor.v)
    # Brian's StateMonitor records before the synapses act: a jump at t shows at the next step
    assert v[0, np.searchsorted(t, 9.0)] == 1.0 and v[0, np.searchsorted(t, 9.1)] == 2.0
    assert v[1, np.searchsorted(t, 6.5)] == 1.0 and v[1, np.searchsorted(t, 6.6)] == 2.0


def test_delays_written_by_model_code_are_read_every_run(device, reads):
    net, S, _ = delayed(on_pre="v_post += w\ndelay = 1*ms")
    net.run(1 * spikec.ms)
    counts = [len(reads)]
    for _ in range(2):
        net.run(1 * spikec.ms)
        counts.append(len(reads))
    assert counts[0] < counts[1] < counts[2]


def test_restore_reads_delays_again(device, reads):
    ms = spikec.ms
    net, S, _ = delayed()
    net.store()
    net.run(1 * ms)
    before = len(reads)
    net.restore()
    net.run(1 * ms)
    assert len(reads) > before
