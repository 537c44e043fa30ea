"""The CUDA executable against the CPU executable on the same modules (needs a GPU)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spikec.backends import get_backend
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.errors import KernelRuntimeError
from spikec.ir import philox
from spikec.ir.kernel import kernels
from spikec.ir.kernel_ops import AtomicAddOp, StoreOp
from tests.backends.helpers import assert_arrays_match, inexact, race_free
from tests.backends.samples import GATHER, NOISY_LIF, TWO_CLOCKS, parsed, random_spikes, uniform_recorder
from tests.backends.test_cpu_vs_interpreter import make_exact
from tests.ir.kernel_generator import array_inputs, kernel_modules

pytestmark = pytest.mark.cuda
NO_DISK = CompileCache(None)


def both(module, arrays=None, seed=0, tick_kernel=False):
    # a launch per kernel at every size unless asked (test_cuda_tick_kernel.py tests the tick kernel)
    cuda = get_backend("cuda").executable(module, arrays, seed, cache=NO_DISK, tick_kernel=tick_kernel)
    return CpuExecutable(module, arrays, seed, cache=NO_DISK), cuda


def read_all(executable) -> dict:
    return {name: executable.read(name) for name in executable.plan.arrays}


def test_uniforms_are_bit_identical_on_the_gpu():
    n, seed = 100_000, 987654321987
    cpu, gpu = both(parsed(uniform_recorder(n)), seed=seed)
    for step in range(3):
        gpu.run(1)
        np.testing.assert_array_equal(gpu.read("R.u"), philox.uniform(seed, 2, step, np.arange(n), 1))
        np.testing.assert_allclose(gpu.read("R.z"), philox.normal(seed, 3, step, np.arange(n), 0), rtol=1e-14,
                                   atol=1e-14)


@pytest.mark.parametrize("n", [100, 5000, 70_000])
def test_spike_lists_are_in_order_and_equal_to_the_cpu(n):
    cpu, gpu = both(parsed(random_spikes(n)), seed=n)
    for ticks in (1, 1, 5):
        cpu.run(ticks)
        gpu.run(ticks)
        assert gpu.clock_steps == cpu.clock_steps
        for name in ("P._spikespace", "Q._spikespace", "P.count"):
            np.testing.assert_array_equal(gpu.read(name), cpu.read(name), err_msg=name)
    spikes = gpu.read("P._spikespace")
    assert spikes[-1] > 0 and np.all(np.diff(spikes[:spikes[-1]]) > 0)


def compare_spikes(cpu, gpu, chunks=(1, 1, 5)):
    for ticks in chunks:
        cpu.run(ticks)
        gpu.run(ticks)
        assert gpu.clock_steps == cpu.clock_steps
        for name in ("P._spikespace", "Q._spikespace", "P.count"):
            np.testing.assert_array_equal(gpu.read(name), cpu.read(name), err_msg=name)


# Sizes around the one-block compaction's limit (8192 positions) and the multi-block one's tiles
# (8192 positions per block): the last tile partial, exactly full, one position over.
@pytest.mark.parametrize("n, p", [(1023, 0.3), (1024, 0.3), (1025, 0.3), (8191, 0.3), (8192, 0.3),
                                  (8193, 0.3), (16384, 0.5), (2**20 + 3, 0.3), (1025, 1.0),
                                  (2**20 + 3, 1.0), (100, 0.0), (8193, 0.0), (70_001, 0.001)])
@pytest.mark.parametrize("one_block_limit", [None, 1 << 40])
def test_spike_lists_across_block_boundaries(n, p, one_block_limit):
    cpu, gpu = both(parsed(random_spikes(n, p)), seed=n + 1)
    if one_block_limit is not None:  # the one-block compaction at every size (many chunks)
        gpu.one_block_limit = one_block_limit
        gpu.recapture()
    compare_spikes(cpu, gpu)
    spikes = gpu.read("P._spikespace")
    if p == 1.0:
        np.testing.assert_array_equal(spikes, np.r_[np.arange(n), n])
    elif p == 0.0:
        assert spikes[-1] == 0


CLEAR_ON_ANOTHER_CLOCK = """
kernel.array @G.v {length = 20000} : f64
kernel.array @G._spikespace {length = 20001} : i32
kernel.array @H._spikespace {length = 501} : i64
kernel.clock @fast {dt = 0.001}
kernel.clock @slow {dt = 0.003}
kernel.kernel @G.drift {space = elements(20000)} invariants() {
} body(%i: i64) {
  %v = kernel.load @G.v[%i] : f64
  %u = kernel.rand_uniform %i {stream = 1, draw = 0} : f64
  %v2 = kernel.add %v, %u : f64
  kernel.store @G.v[%i], %v2 : f64
}
kernel.kernel @G.fire {space = elements(20000)} invariants() {
} body(%i: i64) {
  %u = kernel.rand_uniform %i {stream = 2, draw = 0} : f64
  %p = kernel.constant 0.2 : f64
  %c = kernel.cmp lt, %u, %p : f64
  kernel.emit_spike @G._spikespace, %i if %c
}
kernel.kernel @H.fire {space = elements(100)} invariants() {
} body(%i: i64) {
  %u = kernel.rand_uniform %i {stream = 3, draw = 0} : f64
  %p = kernel.constant 0.5 : f64
  %c = kernel.cmp lt, %u, %p : f64
  kernel.emit_spike @H._spikespace, %i if %c
}
kernel.schedule step() {
  kernel.launch @G.drift {clock = @fast}
  kernel.clear_spikes @G._spikespace {clock = @fast}
  kernel.launch @G.fire {clock = @slow}
  kernel.clear_spikes @H._spikespace {clock = @slow}
  kernel.launch @H.fire {clock = @fast}
}
"""


def test_clears_merged_into_compactions_follow_their_own_clock():
    # G's list is cleared on the fast clock but filled on the slow one (and H's the other way):
    # the compaction that took over the clear must clear even on ticks where it does not run.
    cpu, gpu = both(parsed(CLEAR_ON_ANOTHER_CLOCK), seed=3)
    assert len(gpu.merged_clears) == 2
    for chunk in (1, 1, 1, 2, 7, 30):
        cpu.run(chunk)
        gpu.run(chunk)
        assert gpu.clock_steps == cpu.clock_steps
        assert_arrays_match(read_all(cpu), read_all(gpu), exact=True)


@pytest.mark.parametrize("ticks_per_graph", [1, 4, None])
def test_many_tick_graphs_run_any_number_of_ticks(ticks_per_graph):
    cpu = CpuExecutable(parsed(TWO_CLOCKS), None, 9, cache=NO_DISK)
    gpu = get_backend("cuda").executable(parsed(TWO_CLOCKS), None, 9, cache=NO_DISK,
                                         ticks_per_graph=ticks_per_graph, tick_kernel=False)
    for chunk in (0, 1, 3, 4, 5, 8, 17, 64, 130, 0, 2):
        cpu.run(chunk)
        gpu.run(chunk)
        assert gpu.clock_steps == cpu.clock_steps
        assert_arrays_match(read_all(cpu), read_all(gpu), exact=True)
    cpu = CpuExecutable(parsed(random_spikes(20_000)), None, 5, cache=NO_DISK)
    gpu = get_backend("cuda").executable(parsed(random_spikes(20_000)), None, 5, cache=NO_DISK,
                                         ticks_per_graph=ticks_per_graph, tick_kernel=False)
    compare_spikes(cpu, gpu, (7, 64, 65, 3))


def test_noisy_lif_and_two_clocks_match_the_cpu():
    v0 = {"G.v": np.linspace(0, 1, 100)}
    cpu, gpu = both(parsed(NOISY_LIF), v0, seed=4)
    for _ in range(30):
        cpu.run(1)
        gpu.run(1)
        np.testing.assert_array_equal(gpu.read("G._spikespace"), cpu.read("G._spikespace"))
    np.testing.assert_allclose(gpu.read("G.v"), cpu.read("G.v"), rtol=1e-12)
    cpu, gpu = both(parsed(TWO_CLOCKS), seed=9)
    for chunk in (1, 3, 40):
        cpu.run(chunk)
        gpu.run(chunk)
        assert gpu.clock_steps == cpu.clock_steps
        assert_arrays_match(read_all(cpu), read_all(gpu), exact=True)


@pytest.mark.parametrize("tick_kernel", [False, True])
def test_errors_and_interface_on_the_gpu(tick_kernel):
    _, gpu = both(parsed(GATHER), {"G.j": np.array([1, 2, 3, 4, 5, 6, 7, 9], np.int32)}, 0, tick_kernel)
    with pytest.raises(KernelRuntimeError, match=r"index 9 is outside 0..7"):
        gpu.run(1)
    gpu.write("G.j", np.zeros(8, np.int32))
    gpu.write("G.x", 2.5)
    gpu.run(3)
    assert np.all(gpu.read("G.x") == 2.5)
    gpu.clock_steps = {"defaultclock": 17}
    assert gpu.clock_steps == {"defaultclock": 17}
    module = parsed(NOISY_LIF.replace("kernel.clear_spikes @G._spikespace {clock = @defaultclock}\n", ""))
    _, gpu = both(module, {"G.v": np.full(100, 5.0), "G._spikespace": np.r_[np.zeros(100, np.int32), 99]}, 0,
                  tick_kernel)
    with pytest.raises(KernelRuntimeError, match="overflows"):
        gpu.run(1)


def deterministic_on_gpu(module) -> bool:
    """Race-free and no two elements store to one place (the GPU keeps an unspecified one)."""
    for kernel in kernels(module):
        for op in kernel.body.ops:
            if isinstance(op, StoreOp) and op.index is not kernel.index:
                return False
    return race_free(module)


def float_atomics(module) -> bool:
    return any(isinstance(op, AtomicAddOp) and op.value.type.is_float for op in module.walk())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                 HealthCheck.too_slow])
@given(module=kernel_modules(), arrays=array_inputs(), seed=st.integers(0, 2**40), exact=st.booleans(),
       tick_kernel=st.booleans())
def test_random_modules_match_the_cpu(module, arrays, seed, exact, tick_kernel):
    """On both CUDA paths: a launch per kernel, and the one-block tick kernel."""
    if exact:
        make_exact(module, seed % 6)
    assume(deterministic_on_gpu(module))
    cpu, gpu = both(module, arrays, seed, tick_kernel)
    try:
        cpu.run(2)
    except KernelRuntimeError:
        with pytest.raises(KernelRuntimeError):
            gpu.run(2)
        return
    gpu.run(2)
    bitwise = exact and not inexact(module) and not float_atomics(module)
    assert_arrays_match(read_all(cpu), read_all(gpu), exact=bitwise, rtol=1e-5)
