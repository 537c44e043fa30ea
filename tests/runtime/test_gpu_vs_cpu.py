"""The same neuron models on the GPU and on the CPU give the same results (under `-m cuda`).

Uniform random numbers are bit-identical on both; math functions (libdevice against libm) may
differ in the last bit, so traces are compared with a tight tolerance and spike trains exactly.
"""

import numpy as np
import pytest

import spikec
from spikec.runtime.devices import device_settings
from tests.runtime.neuron_models import (adex, assert_same_records, events_and_regular_code,
                                         hodgkin_huxley, izhikevich, lif)
from tests.runtime.synapse_models import (accumulate, accumulate_delayed, converging_delayed, counted_delayed,
                                          delayed_on_either_side, non_commutative, stdp, summed)

pytestmark = pytest.mark.cuda


@pytest.fixture(autouse=True)
def keep_device_settings():
    saved = (device_settings.device, device_settings.pipeline, device_settings.seed)
    yield
    device_settings.device, device_settings.pipeline, device_settings.seed = saved


def run_on(device: str, model, **kwargs) -> dict:
    spikec.set_device(device)
    spikec.seed(5)
    spikec.defaultclock.dt = 0.1 * spikec.ms
    return model(spikec, **kwargs)


@pytest.mark.parametrize("model, kwargs", [
    (lif, {"method": "exact"}), (lif, {"method": "rk4"}), (hodgkin_huxley, {}), (izhikevich, {}),
    (adex, {}), (events_and_regular_code, {}), (accumulate, {"delay_ms": 1.0}),
    (accumulate, {"propagation": "pull-ordered"}), (non_commutative, {}), (stdp, {}),
    (summed, {}), (accumulate_delayed, {"refractory": True}), (counted_delayed, {}),
    (counted_delayed, {"propagation": "spike-queue"}), (delayed_on_either_side, {}),
    (delayed_on_either_side, {"direction": "post"}),
    (delayed_on_either_side, {"direction": "post", "code": "x += w"}), (stdp, {"delays": True}),
    (stdp, {"delays": True, "propagation": "spike-queue"}), (converging_delayed, {"refractory": True}),
], ids=["lif-exact", "lif-rk4", "hodgkin-huxley", "izhikevich", "adex", "events",
        "push-delayed", "pull-accumulate", "pull-non-commutative", "stdp", "summed",
        "ring-refractory", "ring-counted", "queue-counted", "queue-non-commutative",
        "queue-on-post", "ring-on-post", "stdp-delays", "stdp-delays-queue", "rings-merged"])
@pytest.mark.parametrize("tick_kernel", ["0", "1", "grid", "cluster"],
                         ids=["launches", "tick-kernel", "grid-tick-kernel", "cluster-tick-kernel"])
def test_gpu_matches_cpu(model, kwargs, tick_kernel, monkeypatch):
    """Every CUDA path: a launch per kernel, and the tick kernel (`cuda_tick_kernel`) on one
    block, on a grid and on a cluster."""
    cpu = run_on("cpu", model, **kwargs)
    monkeypatch.setenv("SPIKEC_CUDA_TICK_KERNEL", tick_kernel)
    gpu = run_on("cuda", model, **kwargs)
    assert_same_records(gpu, cpu, rtol=1e-9, atol=1e-15)


def test_noise_is_identical_on_both_devices():
    """Uniform draws are bit-identical; normals agree to an ulp (log/cos implementations)."""
    def noisy(device):
        spikec.set_device(device)
        spikec.seed(21)
        G = spikec.NeuronGroup(1000, """dv/dt = -v/(10*ms) + 0.3*xi/sqrt(ms) : 1
                                         u : 1""", method="euler")
        G.run_regularly("u = rand()")
        trace = spikec.StateMonitor(G, ["v", "u"], record=[0, 999])
        spikec.Network(G, trace).run(5 * spikec.ms)
        return trace.v_[:].copy(), trace.u_[:].copy()

    (cpu_v, cpu_u), (gpu_v, gpu_u) = noisy("cpu"), noisy("cuda")
    np.testing.assert_array_equal(gpu_u, cpu_u)
    np.testing.assert_allclose(gpu_v, cpu_v, rtol=1e-12, atol=1e-14)


def test_large_group_with_spike_monitor_loses_nothing():
    """A monitor's buffer fills many times over (the runtime drains it between chunks)."""
    def spiking(device):
        spikec.set_device(device)
        G = spikec.NeuronGroup(50_000, "dv/dt = (2 - v)/(2*ms) : 1", threshold="v > 1",
                               reset="v = 0", method="exact")
        G.v = "i/N"
        spikes = spikec.SpikeMonitor(G)
        spikec.Network(G, spikes).run(20 * spikec.ms)
        return spikes.i[:].copy(), spikes.t_[:].copy()

    (cpu_i, cpu_t), (gpu_i, gpu_t) = spiking("cpu"), spiking("cuda")
    assert len(cpu_i) > 200_000
    np.testing.assert_array_equal(gpu_i, cpu_i)
    np.testing.assert_array_equal(gpu_t, cpu_t)


def test_poisson_input_is_the_same_on_both_devices():
    """Inversion draws compare bit-identical uniforms; the normal approximation's randn agrees to
    an ulp."""
    def driven(device):
        spikec.set_device(device)
        spikec.seed(8)
        G = spikec.NeuronGroup(3000, "v : 1\nu : 1")
        inputs = [spikec.PoissonInput(G, "v", 1000, 20 * spikec.Hz, weight=0.1),
                  spikec.PoissonInput(G, "u", 15, 40 * spikec.Hz, weight=1.0)]
        spikec.Network(G, *inputs).run(3 * spikec.ms)
        return np.asarray(G.v[:]), np.asarray(G.u[:])

    (cpu_v, cpu_u), (gpu_v, gpu_u) = driven("cpu"), driven("cuda")
    np.testing.assert_array_equal(gpu_u, cpu_u)
    np.testing.assert_allclose(gpu_v, cpu_v, rtol=1e-12)
