"""Kernels over `outgoing(...)` and `segments(...)` on the GPU against the CPU (needs a GPU)."""

from __future__ import annotations

import numpy as np
import pytest

from spikec.backends import get_backend
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.errors import KernelRuntimeError
from tests.backends.samples import parsed
from tests.backends.synapse_samples import (FLOAT_ATOMIC_ARRAYS, synapse_arrays, synapse_module,
                                            with_slow_push, with_source_store)

pytestmark = pytest.mark.cuda
NO_DISK = CompileCache(None)


def both(text, arrays, seed, **gpu_options):
    module = parsed(text)
    return (CpuExecutable(module, arrays, seed, cache=NO_DISK),
            get_backend("cuda").executable(module, arrays, seed, cache=NO_DISK, **gpu_options))


def compare(cpu, gpu, chunks):
    for chunk in chunks:
        cpu.run(chunk)
        gpu.run(chunk)
        assert gpu.clock_steps == cpu.clock_steps
        for name in cpu.plan.arrays:
            want, got = cpu.read(name), gpu.read(name)
            if name in FLOAT_ATOMIC_ARRAYS:  # hardware atomics: any order of the adds
                np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10, err_msg=name)
            else:
                np.testing.assert_array_equal(got, want, err_msg=name)


# Sources and segments around the 256-thread block (255/256/257), one long segment, many blocks,
# no spikes, every source spiking, no synapses; every 7th target has no incoming synapse.
@pytest.mark.parametrize("n_pre, n_post, n_syn, p", [
    (255, 257, 3000, 0.3), (256, 256, 5000, 1.0), (257, 1, 2000, 0.5), (1, 300, 600, 1.0),
    (70_000, 66_000, 700_000, 0.1), (1000, 1000, 20_000, 0.0), (3000, 3000, 30_000, 1.0), (100, 100, 0, 1.0)])
def test_push_and_pull_match_the_cpu(n_pre, n_post, n_syn, p):
    cpu, gpu = both(synapse_module(n_pre, n_post, n_syn, p), synapse_arrays(n_pre, n_post, n_syn, n_syn), 11)
    compare(cpu, gpu, (1, 1, 5, 16, 17))
    if p == 1.0 and n_syn:
        assert cpu.read("S.pushes").min() == 40 and cpu.read("S.pulls").min() == 40
    if p == 0.0:
        assert not cpu.read("H.n").any() and not cpu.read("S.pulls").any()


@pytest.mark.parametrize("ticks_per_graph", [1, 4])
def test_a_push_on_a_slower_clock_in_graphs_of_several_ticks(ticks_per_graph):
    text = with_slow_push(synapse_module(2000, 1500, 25_000, 0.3))
    cpu, gpu = both(text, synapse_arrays(2000, 1500, 25_000, 2), 5, ticks_per_graph=ticks_per_graph)
    compare(cpu, gpu, (1, 2, 4, 9))
    assert 0 < cpu.read("S.pushes").max() < cpu.read("S.pulls").max()


@pytest.mark.parametrize("corrupt, message", [
    (lambda a: a["G._spikespace"].__setitem__(slice(None), [700] + [0] * 299 + [1]), r"source 700 .* outside"),
    (lambda a: a["S._post_offsets"].__setitem__(5, 10**6), "not increasing or exceed"),
    (lambda a: a["S._pre_synapses"].__setitem__(slice(None), 10**6), r"index 1000000 is outside"),
])
def test_bad_sources_offsets_and_items_are_errors_on_the_gpu(corrupt, message):
    text = synapse_module(300, 200, 4000, 0.0).replace(
        "  kernel.clear_spikes @G._spikespace {clock = @defaultclock}\n", "")
    arrays = synapse_arrays(300, 200, 4000, 1)
    arrays["G._spikespace"] = np.r_[np.arange(300, dtype=np.int32), 300]
    corrupt(arrays)
    _, gpu = both(text, arrays, 1)
    with pytest.raises(KernelRuntimeError, match=message):
        gpu.run(1)


# Push rows spread over 1 (the sequential walk), 32 and 256 lanes, and the automatic choice: one
# source with 600 synapses, short rows, many spikes at once (70,000 sources at p = 0.1: 7000 rows
# per step, more groups than the capped grid holds, so the groups stride), every source spiking.
@pytest.mark.parametrize("row_lanes", [1, 32, 256, "auto"])
@pytest.mark.parametrize("n_pre, n_post, n_syn, p", [
    (1, 300, 600, 1.0), (257, 1, 2000, 0.5), (70_000, 66_000, 700_000, 0.1), (3000, 300, 300_000, 1.0)])
def test_push_rows_over_lanes_match_the_cpu(row_lanes, n_pre, n_post, n_syn, p):
    cpu, gpu = both(synapse_module(n_pre, n_post, n_syn, p), synapse_arrays(n_pre, n_post, n_syn, n_syn), 3,
                    row_lanes=row_lanes)
    compare(cpu, gpu, (1, 4, 16))
    assert cpu.read("S.pushes").max() > 0


@pytest.mark.parametrize("row_lanes", [32, 256])
def test_rows_whose_order_matters_are_walked_in_order(row_lanes):
    """A store at the source (the row's last synapse wins) keeps one thread per row whatever the
    lanes asked for: the GPU gives the CPU's value exactly."""
    text = with_source_store(synapse_module(2000, 500, 40_000, 0.3))
    cpu, gpu = both(text, synapse_arrays(2000, 500, 40_000, 9), 9, row_lanes=row_lanes)
    assert gpu.program.launch.kernel("S.push").row_lanes == 1
    compare(cpu, gpu, (1, 3))
    assert cpu.read("G.last").any()


@pytest.mark.parametrize("row_lanes", [32, 256])
def test_bad_rows_are_errors_with_lanes(row_lanes):
    text = synapse_module(300, 200, 4000, 0.0).replace(
        "  kernel.clear_spikes @G._spikespace {clock = @defaultclock}\n", "")
    arrays = synapse_arrays(300, 200, 4000, 1)
    arrays["G._spikespace"] = np.r_[np.arange(300, dtype=np.int32), 300]
    arrays["S._pre_offsets"][7] = 10**6
    _, gpu = both(text, arrays, 1, row_lanes=row_lanes)
    with pytest.raises(KernelRuntimeError, match="not increasing or exceed"):
        gpu.run(1)
