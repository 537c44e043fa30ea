"""Synaptic models agree with Brian 2, and the propagation strategies agree with each other."""

import numpy as np
import pytest

import spikec
from spikec.errors import PassError
from tests.runtime.neuron_models import assert_same_records
from tests.runtime.synapse_models import (accumulate, accumulate_delayed, converging_delayed, counted_delayed,
                                          delayed_on_either_side, non_commutative, stdp, summed)
from tests.runtime.test_neurons_vs_brian import compare

pytestmark = pytest.mark.brian


@pytest.mark.parametrize("delay_ms", [0.0, 1.0, 2.35])
def test_accumulating_effect_with_homogeneous_delays(device, delay_ms):
    compare(accumulate, delay_ms=delay_ms, rtol=1e-12)


def test_non_commutative_effect_keeps_synapse_order(device):
    found = compare(non_commutative, rtol=1e-12)
    assert found["hits"].sum() > 0


def test_stdp_with_event_driven_traces_and_clip(device):
    found = compare(stdp, rtol=1e-9, atol=1e-15)
    assert len(found["spike_i"]) > 0 and np.ptp(found["w"]) > 0


def test_summed_variable_and_clock_driven_synapses(device):
    compare(summed, rtol=1e-10, atol=1e-15)


def test_strategies_agree(device):
    """Forcing pull-ordered on an accumulating pathway gives the push result (bit for bit on
    the CPU and the interpreter, which add in synapse order)."""
    spikec.defaultclock.dt = 0.1 * spikec.ms
    pushed = accumulate(spikec)
    pulled = accumulate(spikec, propagation="pull-ordered")
    assert_same_records(pulled, pushed, rtol=0)


@pytest.mark.parametrize("refractory", [False, True])
def test_accumulation_with_per_synapse_delays(device, refractory):
    """dendritic-ring; with refractory targets, inputs arriving while refractory are dropped."""
    found = compare(accumulate_delayed, refractory=refractory, rtol=1e-12)
    assert not refractory or len(found["spike_i"]) > 0


@pytest.mark.parametrize("refractory", [False, True])
def test_pathways_converging_on_one_variable(device, refractory):
    """Per-synapse delays on three pathways into one variable: one merged ring (`merge-rings`)."""
    found = compare(converging_delayed, refractory=refractory, rtol=1e-12)
    assert not refractory or len(found["spike_i"]) > 0


@pytest.mark.parametrize("direction", ["pre", "post"])
@pytest.mark.parametrize("code", ["x = x*0.5 + w\nhits += 1", "x += w"])
def test_per_synapse_delays_on_either_side(device, direction, code):
    """spike-queue in Brian's delivery order (non-commutative effect), or dendritic-ring,
    for on_pre and on_post pathways."""
    found = compare(delayed_on_either_side, direction=direction, code=code, rtol=1e-12)
    assert np.ptp(found["x"]) > 0


def test_stdp_with_per_synapse_delays(device):
    found = compare(stdp, delays=True, rtol=1e-9, atol=1e-15)
    assert len(found["spike_i"]) > 0 and np.ptp(found["w"]) > 0


def test_spike_history_is_bit_identical_to_the_spike_queue(device):
    """STDP with per-synapse delays on both pathways: the spike history (automatic) visits the
    due synapses in Brian's order, so it gives the spike queue's results bit for bit."""
    spikec.defaultclock.dt = 0.1 * spikec.ms
    history = stdp(spikec, delays=True)
    queued = stdp(spikec, delays=True, propagation="spike-queue")
    assert len(history["spike_i"]) > 0 and np.ptp(history["w"]) > 0
    assert_same_records(queued, history, rtol=0)


@pytest.mark.parametrize("model", [counted_delayed, accumulate_delayed])
def test_delayed_strategies_agree(device, model):
    """spike-queue forced onto accumulations gives the dendritic-ring result: bit for bit with
    exact (integer) sums, and with refractory targets too."""
    spikec.defaultclock.dt = 0.1 * spikec.ms
    kwargs = {"refractory": True} if model is accumulate_delayed else {}
    ring = model(spikec, **kwargs)
    queued = model(spikec, propagation="spike-queue", **kwargs)
    assert_same_records(queued, ring, rtol=0 if model is counted_delayed else 1e-12)


def test_wrong_override_is_refused(device):
    with pytest.raises(PassError, match="push-atomic"):
        non_commutative(spikec, propagation="push-atomic")
