"""The CPU executable on hand-written modules: Philox bit-identity, spike order, clocks, errors."""

from __future__ import annotations

import numpy as np
import pytest

from spikec.backends import get_backend
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.errors import KernelRuntimeError
from spikec.ir import philox
from spikec.ir.interpreter import Interpreter
from tests.backends.samples import GATHER, NOISY_LIF, TWO_CLOCKS, parsed, uniform_recorder

NO_DISK = CompileCache(None)


def test_uniforms_are_bit_identical_to_philox_and_normals_within_an_ulp_or_two():
    n, seed = 4096, 2**33 + 12345
    exe = CpuExecutable(parsed(uniform_recorder(n)), seed=seed, cache=NO_DISK)
    elements = np.arange(n)
    for step in range(3):
        exe.run(1)
        np.testing.assert_array_equal(exe.read("R.u"), philox.uniform(seed, 2, step, elements, 1))
        np.testing.assert_allclose(exe.read("R.z"), philox.normal(seed, 3, step, elements, 0), rtol=4e-15,
                                   atol=4e-15)


def test_large_steps_use_both_counter_words():
    exe = CpuExecutable(parsed(uniform_recorder(16)), seed=7, cache=NO_DISK)
    exe.clock_steps = {"defaultclock": 2**32 + 5}
    exe.run(1)
    np.testing.assert_array_equal(exe.read("R.u"), philox.uniform(7, 2, 2**32 + 5, np.arange(16), 1))


def test_noisy_lif_matches_the_interpreter_and_emits_spikes_in_order():
    module = parsed(NOISY_LIF)
    exe = get_backend("cpu").executable(module, {"G.v": np.linspace(0, 1, 100)}, seed=3, cache=NO_DISK)
    interpreter = Interpreter(module, {"G.v": np.linspace(0, 1, 100), "G._spikespace": np.zeros(101, np.int32)},
                              seed=3)
    for _ in range(20):
        exe.run(1)
        interpreter.run(1)
        spikes = exe.read("G._spikespace")
        np.testing.assert_array_equal(spikes, interpreter.arrays["G._spikespace"])
        listed = spikes[:spikes[-1]]
        assert np.all(np.diff(listed) > 0)
    np.testing.assert_allclose(exe.read("G.v"), interpreter.arrays["G.v"], rtol=1e-13)


def test_two_clocks_follow_the_interpreter_tick_by_tick():
    module = parsed(TWO_CLOCKS)
    exe = CpuExecutable(module, seed=11, cache=NO_DISK)
    interpreter = Interpreter(module, seed=11)
    for chunk in (1, 2, 7, 30):
        exe.run(chunk)
        interpreter.run(chunk)
        assert exe.clock_steps == interpreter.clock_steps
        for name, values in interpreter.arrays.items():
            np.testing.assert_array_equal(exe.read(name), values, err_msg=name)
    assert exe.read("G.count")[0] > 0


def test_an_index_out_of_range_is_a_kernel_runtime_error_naming_the_op():
    module = parsed(GATHER)
    exe = CpuExecutable(module, {"G.j": np.array([1, 2, 3, 4, 5, 6, 7, 9], np.int32)}, cache=NO_DISK)
    with pytest.raises(KernelRuntimeError, match=r"index 9 is outside 0..7 in kernel @G.gather"):
        exe.run(2)
    exe.write("G.j", np.zeros(8, np.int32))
    exe.run(1)  # the error was cleared; the executable goes on


def test_read_write_and_errors_of_the_interface():
    exe = CpuExecutable(parsed(NOISY_LIF), cache=NO_DISK)
    exe.write("G.v", 0.5)
    assert np.all(exe.read("G.v") == 0.5)
    with pytest.raises(KernelRuntimeError, match="declares no array"):
        exe.read("H.v")
    with pytest.raises(KernelRuntimeError, match="cannot write"):
        exe.write("G.v", np.zeros(3))
    with pytest.raises(KernelRuntimeError, match="must be f64"):
        CpuExecutable(parsed(NOISY_LIF), {"G.v": np.zeros(100, np.float32)}, cache=NO_DISK)


def test_spike_list_overflow_is_reported():
    module = parsed(NOISY_LIF.replace("kernel.clear_spikes @G._spikespace {clock = @defaultclock}\n", ""))
    exe = CpuExecutable(module, {"G.v": np.full(100, 5.0)}, seed=1, cache=NO_DISK)
    exe.write("G._spikespace", np.r_[np.zeros(100, np.int32), 99])  # full but for one place
    with pytest.raises(KernelRuntimeError, match="overflows"):
        exe.run(1)


def test_the_cuda_backend_says_why_it_is_unavailable():
    from spikec.backends.errors import BackendUnavailableError
    from spikec.backends.cuda_driver import unavailable_reason

    if not unavailable_reason():
        pytest.skip("a GPU is present here")
    with pytest.raises(BackendUnavailableError, match="CUDA backend is unavailable"):
        get_backend("cuda")
