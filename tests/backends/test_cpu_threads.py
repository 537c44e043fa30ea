"""CPU threads: the threaded tick loop gives the single-threaded results bit for bit (arrays, clock
steps, spike order, errors), with T = 2, 3, 4 forced whatever the machine's cores; the thread-count
policy and its overrides."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikec.backends import cpu_threads
from spikec.backends.abi import ModulePlan
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.errors import KernelRuntimeError, SpikecError
from spikec.ir.interpreter import Interpreter
from tests.backends.samples import GATHER, TWO_CLOCKS, noisy_lif, parsed, random_spikes
from tests.ir.kernel_generator import array_inputs, kernel_modules

NO_DISK = CompileCache(None)
THREADS = [2, 3, 4]
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                          HealthCheck.too_slow])


def run_to_end(exe: CpuExecutable, ticks: int) -> str | None:
    """Run; the error message if the run raised (the executable stops where it raised)."""
    try:
        exe.run(ticks)
    except KernelRuntimeError as error:
        return str(error)
    return None


def assert_same(reference: CpuExecutable, threaded: CpuExecutable) -> None:
    assert threaded.clock_steps == reference.clock_steps
    for name in reference.plan.arrays:
        want, got = reference.read(name), threaded.read(name)
        assert got.tobytes() == want.tobytes(), name  # bit for bit, nan payloads and signed zeros too


def pair(module, arrays, seed: int, threads: int, grain: int = cpu_threads.GRAIN):
    reference = CpuExecutable(module, arrays, seed=seed, cache=NO_DISK, threads=1)
    threaded = CpuExecutable(module, arrays, seed=seed, cache=NO_DISK, threads=threads, grain=grain)
    return reference, threaded


# -- random modules ----------------------------------------------------------------------------------
@SETTINGS
@given(module=kernel_modules(), arrays=array_inputs(), seed=st.integers(0, 2**40), ticks=st.integers(1, 3),
       threads=st.sampled_from(THREADS))
def test_random_modules_give_the_single_threaded_results_bit_for_bit(module, arrays, seed, ticks, threads):
    """Any module (races, float atomics, transcendental math and errors included: what cannot be
    split runs on thread 0), kernels of 6 elements split with a grain of 1."""
    reference, threaded = pair(module, arrays, seed, threads, grain=1)
    assert run_to_end(threaded, ticks) == run_to_end(reference, ticks)
    assert_same(reference, threaded)


def test_the_random_modules_do_split_kernels():
    """Guard for the test above: most generated modules have a kernel the threads split."""
    from hypothesis import find

    module = find(kernel_modules(), lambda m: any(info.split for info in
                                                  cpu_threads.analyze(ModulePlan(m), grain=1).values()))
    assert CpuExecutable(module, seed=1, cache=NO_DISK, threads=3, grain=1).threads == 3


# -- spike order ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("start", ["all", "none", "some"])
def test_spike_lists_hold_element_order_across_thread_ranges(threads, start):
    n = 1000  # chunks of 512 / 384 / 256 positions for 2 / 3 / 4 threads
    v0 = {"all": np.full(n, 5.0), "none": np.full(n, -100.0), "some": np.linspace(0, 1.05, n)}[start]
    module = parsed(noisy_lif(n))
    reference, threaded = pair(module, {"G.v": v0}, 3, threads)
    assert threaded.threads == threads
    interpreter = Interpreter(module, {"G.v": v0.copy(), "G._spikespace": np.zeros(n + 1, np.int32)}, seed=3)
    counts = []
    for _ in range(6):
        reference.run(1)
        threaded.run(1)
        interpreter.run(1)
        assert_same(reference, threaded)
        spikes = threaded.read("G._spikespace")
        np.testing.assert_array_equal(spikes, interpreter.arrays["G._spikespace"])
        counts.append(spikes[-1])
    expected = {"all": lambda c: c[0] == n, "none": lambda c: max(c) == 0, "some": lambda c: 0 < c[0] < n}
    assert expected[start](counts), counts


@pytest.mark.parametrize("threads", THREADS)
def test_a_spikes_space_kernel_after_a_split_one(threads):
    module = parsed(random_spikes(2000, p=0.3))
    reference, threaded = pair(module, None, 9, threads)
    for chunk in (1, 3, 10):
        reference.run(chunk)
        threaded.run(chunk)
        assert_same(reference, threaded)
    assert 0 < threaded.read("Q._spikespace")[-1] < 2000


@pytest.mark.parametrize("threads", THREADS)
def test_two_clocks_and_serial_kernels(threads):
    reference, threaded = pair(parsed(TWO_CLOCKS), None, 11, threads, grain=1)
    for chunk in (1, 2, 7, 30):
        reference.run(chunk)
        threaded.run(chunk)
        assert_same(reference, threaded)


# -- errors --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("threads", THREADS)
def test_overflow_of_the_merged_list_is_the_single_threaded_error(threads):
    n = 1000
    module = parsed(noisy_lif(n).replace("kernel.clear_spikes @G._spikespace {clock = @defaultclock}\n", ""))
    spikes = np.r_[np.zeros(n, np.int32), n - 300]  # room for 300 of the 1000 spikes
    reference, threaded = pair(module, {"G.v": np.full(n, 5.0), "G._spikespace": spikes}, 1, threads)
    message = run_to_end(reference, 3)
    assert message is not None and "overflows" in message
    assert run_to_end(threaded, 3) == message
    assert_same(reference, threaded)


@pytest.mark.parametrize("threads", THREADS)
def test_an_index_error_in_a_late_range_stops_after_the_same_launch(threads):
    module = parsed(GATHER)
    bad = np.array([1, 2, 3, 4, 5, 6, 7, 9], np.int32)
    reference, threaded = pair(module, {"G.j": bad, "G.x": np.arange(8.0)}, 0, threads, grain=1)
    assert threaded.threads == 1  # loads of x at other indices while x is stored: serial
    module = parsed(GATHER.replace("kernel.array @G.j", "kernel.array @G.y {length = 8} : f64\nkernel.array @G.j")
                    .replace("kernel.store @G.x[%i]", "kernel.store @G.y[%i]"))
    reference, threaded = pair(module, {"G.j": bad, "G.x": np.arange(8.0)}, 0, threads, grain=1)
    assert threaded.threads == threads
    message = run_to_end(reference, 2)
    assert message is not None and "index 9 is outside 0..7" in message
    assert run_to_end(threaded, 2) == message
    assert_same(reference, threaded)
    threaded.write("G.j", np.zeros(8, np.int32))
    reference.write("G.j", np.zeros(8, np.int32))
    assert run_to_end(threaded, 2) is None and run_to_end(reference, 2) is None
    assert_same(reference, threaded)


# -- the policy --------------------------------------------------------------------------------------------
def plan_and_analysis(text: str):
    plan = ModulePlan(parsed(text))
    return plan, cpu_threads.analyze(plan)


def test_small_networks_run_on_one_thread_large_ones_on_the_cores(monkeypatch):
    monkeypatch.delenv(cpu_threads.ENVIRONMENT, raising=False)
    assert cpu_threads.choose_threads(*plan_and_analysis(noisy_lif(1000)), cores=16) == 1
    assert cpu_threads.choose_threads(*plan_and_analysis(noisy_lif(10**6)), cores=16) == 16
    assert cpu_threads.choose_threads(*plan_and_analysis(noisy_lif(10**6)), cores=2) == 2
    assert cpu_threads.choose_threads(*plan_and_analysis(GATHER), threads=4) == 1  # nothing splits


def test_the_option_overrides_the_environment_which_overrides_the_policy(monkeypatch):
    plan, analysis = plan_and_analysis(noisy_lif(1000))
    monkeypatch.setenv(cpu_threads.ENVIRONMENT, "3")
    assert cpu_threads.choose_threads(plan, analysis, cores=1) == 3
    assert cpu_threads.choose_threads(plan, analysis, threads=2, cores=1) == 2
    assert CpuExecutable(parsed(noisy_lif(1000)), cache=NO_DISK).threads == 3
    monkeypatch.setenv(cpu_threads.ENVIRONMENT, "auto")
    assert cpu_threads.choose_threads(plan, analysis, cores=16) == 1
    monkeypatch.setenv(cpu_threads.ENVIRONMENT, "two")
    with pytest.raises(SpikecError, match="SPIKEC_CPU_THREADS"):
        cpu_threads.choose_threads(plan, analysis)
    with pytest.raises(SpikecError, match="thread count"):
        cpu_threads.choose_threads(plan, analysis, threads=-1)
