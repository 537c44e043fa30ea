"""`schedule`, `fuse-kernels`, `merge-rings` and `drop-unread-lists` change no result: the runtime test models
(neurons with resets, events and run_regularly code; synapses with every propagation strategy,
delays, STDP, summed variables) give bit-identical records with the default pipeline and with the
same pipeline without those passes, on each CPU-side device. Brian itself is not needed."""

import numpy as np
import pytest

import spikec
from spikec.runtime.devices import DEFAULT_PIPELINE, device_settings
from spikec.runtime.network import BuildOnlyStop
from tests.runtime import neuron_models, synapse_models

UNFUSED = DEFAULT_PIPELINE.replace("schedule,fuse-kernels,", "")
UNMERGED = DEFAULT_PIPELINE.replace("merge-rings,", "")
LISTS_KEPT = DEFAULT_PIPELINE.replace("drop-unread-lists,", "")
MODELS = [
    (neuron_models.lif, {}), (neuron_models.izhikevich, {}), (neuron_models.adex, {}),
    (neuron_models.events_and_regular_code, {}),
    (synapse_models.accumulate, {"delay_ms": 1.0}), (synapse_models.accumulate_delayed, {"refractory": True}),
    (synapse_models.counted_delayed, {}), (synapse_models.delayed_on_either_side, {}),
    (synapse_models.delayed_on_either_side, {"direction": "post"}),
    (synapse_models.non_commutative, {}), (synapse_models.stdp, {}), (synapse_models.stdp, {"delays": True}),
    (synapse_models.summed, {}), (synapse_models.converging_delayed, {"refractory": True}),
]


def _records(model, kwargs: dict, pipeline: str) -> dict:
    device_settings.pipeline = pipeline
    spikec.seed(11)
    spikec.defaultclock.dt = 0.1 * spikec.ms
    return model(spikec, **kwargs)


@pytest.mark.parametrize("model, kwargs", MODELS,
                         ids=[f"{m.__name__}{'-' + '-'.join(map(str, k.values())) if k else ''}"
                              for m, k in MODELS])
def test_fusion_keeps_records(device, model, kwargs):
    assert "schedule,fuse-kernels," in DEFAULT_PIPELINE
    fused = _records(model, kwargs, DEFAULT_PIPELINE)
    plain = _records(model, kwargs, UNFUSED)
    assert fused.keys() == plain.keys()
    for name in fused:
        np.testing.assert_array_equal(np.asarray(fused[name]), np.asarray(plain[name]), err_msg=name)


def _rings(model, kwargs: dict, pipeline: str) -> list[str]:
    """The names of the dendritic rings `model` compiles to with `pipeline`."""
    device_settings.pipeline, device_settings.build_only = pipeline, True
    try:
        model(spikec, **kwargs)
    except BuildOnlyStop as stop:
        return [op.array_name for op in stop.compiled.kernel_ir.ops
                if op.name == "kernel.array" and "ring_lead" in op.attributes]
    finally:
        device_settings.build_only = False
    raise AssertionError("build-only mode did not stop")


@pytest.mark.parametrize("refractory", [False, True])
def test_merged_rings_keep_records(device, refractory):
    """Pathways converging on one variable share one ring: the records are those of one ring
    per pathway, bit for bit (every arriving sum is exact in this model)."""
    assert "merge-rings," in DEFAULT_PIPELINE
    kwargs = {"refractory": refractory}
    assert len(_rings(synapse_models.converging_delayed, kwargs, UNMERGED)) == 2 + refractory
    assert len(_rings(synapse_models.converging_delayed, kwargs, DEFAULT_PIPELINE)) == 1
    merged = _records(synapse_models.converging_delayed, kwargs, DEFAULT_PIPELINE)
    separate = _records(synapse_models.converging_delayed, kwargs, UNMERGED)
    for name in merged:
        np.testing.assert_array_equal(merged[name], separate[name], err_msg=name)
    assert np.ptp(merged["v"]) > 0 and (not refractory or len(merged["spike_i"]) > 0)


def _spike_lists(build, pipeline: str) -> list[str]:
    """The spike lists `build` (a function of the simulator module) compiles to with `pipeline`."""
    device_settings.pipeline, device_settings.build_only = pipeline, True
    try:
        build(spikec)
    except BuildOnlyStop as stop:
        return [op.array_name for op in stop.compiled.kernel_ir.ops
                if op.name == "kernel.array" and op.array_name.endswith("space")]
    finally:
        device_settings.build_only = False
    raise AssertionError("build-only mode did not stop")


def _traced_lif(sim, spike_monitor: bool = False) -> dict:
    """A LIF group with a reset and a refractory period, only its voltage traced (and, with
    `spike_monitor`, its spikes recorded)."""
    ms, mV = sim.ms, sim.mV
    G = sim.NeuronGroup(6, "dv/dt = (-70*mV - v + I)/(10*ms) : volt (unless refractory)\nI : volt (constant)",
                        threshold="v > -50*mV", reset="v = -75*mV", refractory=2 * ms, method="exact",
                        name="G")
    G.v = -70 * mV
    G.I = "i*6*mV + 15*mV"
    trace = sim.StateMonitor(G, "v", record=True)
    monitors = [trace] + ([sim.SpikeMonitor(G)] if spike_monitor else [])
    sim.Network(G, *monitors).run(30 * ms)
    return {"v": trace.v_[:]}


def test_unread_lists_dropped_keep_records(device):
    """A group whose reset is fused into its threshold and whose spikes nothing else consumes
    fills no list, with the same voltage trace (resets and refractoriness included) as with its
    list; a spike monitor keeps it."""
    assert "fuse-kernels,drop-unread-lists," in DEFAULT_PIPELINE
    assert _spike_lists(_traced_lif, LISTS_KEPT) == ["G._spikespace"]
    assert _spike_lists(_traced_lif, DEFAULT_PIPELINE) == []
    assert _spike_lists(lambda sim: _traced_lif(sim, spike_monitor=True), DEFAULT_PIPELINE) == ["G._spikespace"]
    dropped = _records(_traced_lif, {}, DEFAULT_PIPELINE)["v"]
    kept = _records(_traced_lif, {}, LISTS_KEPT)["v"]
    np.testing.assert_array_equal(dropped, kept)
    assert (np.diff(dropped, axis=1) < -10e-3).any()  # resets happened: v fell by over 10 mV
