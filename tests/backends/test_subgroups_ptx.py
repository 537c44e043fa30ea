"""Networks with subgroups lower to PTX on any machine (the GPU comparison runs under -m cuda)."""

from __future__ import annotations

import pytest

import spikec
from spikec.runtime.devices import device_settings
from spikec.runtime.network import BuildOnlyStop
from tests.backends.test_cuda_codegen import assemble, needs_ptxas, ptx_of
from tests.runtime.subgroup_models import (exc_inh, monitors_on_subgroups,
                                           on_post_between_subgroups, summed_onto_subgroups)


@pytest.fixture
def build_only():
    saved = (device_settings.device, device_settings.pipeline, device_settings.build_only)
    spikec.set_device("cpu")
    device_settings.build_only = True
    yield
    device_settings.device, device_settings.pipeline, device_settings.build_only = saved


def kernel_ir_of(model, **kwargs):
    with pytest.raises(BuildOnlyStop) as stop:
        model(spikec, **kwargs)
    return stop.value.compiled.kernel_ir


@needs_ptxas
@pytest.mark.parametrize("model, kwargs", [
    (exc_inh, {}), (exc_inh, {"propagation": "pull-ordered"}),
    (exc_inh, {"per_synapse_delays": True}),
    (exc_inh, {"per_synapse_delays": True, "propagation": "spike-history"}),
    (summed_onto_subgroups, {}), (on_post_between_subgroups, {}), (monitors_on_subgroups, {})])
def test_subgroup_networks_assemble(build_only, tmp_path, model, kwargs):
    assemble(ptx_of(kernel_ir_of(model, **kwargs)), tmp_path)


@pytest.mark.cuda
@pytest.mark.parametrize("model, kwargs", [
    (exc_inh, {}), (exc_inh, {"per_synapse_delays": True}),
    (exc_inh, {"per_synapse_delays": True, "propagation": "spike-history"}),
    (summed_onto_subgroups, {}), (on_post_between_subgroups, {}), (monitors_on_subgroups, {})])
def test_subgroup_networks_on_the_gpu_match_the_cpu(model, kwargs):
    from tests.runtime.neuron_models import assert_same_records

    saved = (device_settings.device, device_settings.pipeline)
    try:
        results = []
        for device in ("cpu", "cuda"):
            spikec.set_device(device)
            spikec.defaultclock.dt = 0.1 * spikec.ms
            results.append(model(spikec, **kwargs))
    finally:
        device_settings.device, device_settings.pipeline = saved
    assert_same_records(results[1], results[0], rtol=1e-12, atol=1e-15)
