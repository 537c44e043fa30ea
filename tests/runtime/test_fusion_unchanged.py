"""`schedule`, `fuse-kernels` and `merge-rings` change no result: the runtime test models
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
