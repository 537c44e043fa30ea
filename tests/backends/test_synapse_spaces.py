"""Kernels over the synapse index spaces `outgoing(...)` (push) and `segments(...)` (pull): the CPU
executable against the interpreter, errors, and the PTX of both spaces."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from spikec.backends.abi import ModulePlan
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.backends.cuda_codegen import lower_for_cuda
from spikec.backends.errors import UnsupportedOpError
from spikec.errors import KernelRuntimeError
from spikec.ir.interpreter import Interpreter
from tests.backends.samples import parsed
from tests.backends.synapse_samples import (FLOAT_ATOMIC_ARRAYS, synapse_arrays, synapse_module,
                                            with_slow_push)
from tests.backends.test_cuda_codegen import assemble, needs_ptxas, ptx_of

NO_DISK = CompileCache(None)


def run_both(n_pre, n_post, n_syn, p, seed, chunks=(1, 2, 3), arrays=None, slow_push=False):
    text = synapse_module(n_pre, n_post, n_syn, p)
    module = parsed(with_slow_push(text) if slow_push else text)
    arrays = arrays if arrays is not None else synapse_arrays(n_pre, n_post, n_syn, seed)
    interpreter = Interpreter(module, {**ModulePlan(module).check_arrays(arrays)}, seed=seed)
    executable = CpuExecutable(module, arrays, seed=seed, cache=NO_DISK)
    for chunk in chunks:
        interpreter.run(chunk)
        executable.run(chunk)
        assert executable.clock_steps == interpreter.clock_steps
        for name, want in interpreter.arrays.items():
            got = executable.read(name)
            if name in FLOAT_ATOMIC_ARRAYS:
                np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)
            else:
                np.testing.assert_array_equal(got, want, err_msg=name)
    return interpreter, executable


@pytest.mark.parametrize("n_pre, n_post, n_syn, p", [
    (3, 3, 6, 0.5), (1, 1, 0, 1.0), (50, 40, 400, 0.3), (200, 300, 3000, 0.1), (64, 20, 1000, 1.0),
    (30, 30, 100, 0.0)])
@pytest.mark.parametrize("seed", [1, 2])
def test_push_and_pull_match_the_interpreter(n_pre, n_post, n_syn, p, seed):
    interpreter, _ = run_both(n_pre, n_post, n_syn, p, seed)
    if p == 1.0 and n_syn:
        assert interpreter.arrays["S.pushes"].min() == 6  # every synapse pushed and pulled each step
        assert interpreter.arrays["S.pulls"].min() == 6


def test_a_push_on_a_slower_clock():
    interpreter, _ = run_both(40, 30, 300, 0.5, 4, chunks=(1, 1, 1, 4, 7), slow_push=True)
    assert 0 < interpreter.arrays["S.pushes"].max() < interpreter.arrays["S.pulls"].max()


@pytest.mark.skipif("threads" not in inspect.signature(CpuExecutable).parameters,
                    reason="the CPU executable has no threads yet")
def test_threads_give_the_single_threaded_results():
    """Kernels over outgoing/segments run on one thread of a threaded program (serial launches)."""
    module = parsed(synapse_module(3000, 2000, 40_000, 0.2))
    arrays = synapse_arrays(3000, 2000, 40_000, seed=8)
    one = CpuExecutable(module, arrays, seed=8, cache=NO_DISK, threads=1)
    many = CpuExecutable(module, arrays, seed=8, cache=NO_DISK, threads=4, grain=1)
    for chunk in (1, 3, 6):
        one.run(chunk)
        many.run(chunk)
        for name in one.plan.arrays:
            np.testing.assert_array_equal(many.read(name), one.read(name), err_msg=name)


def test_the_pull_order_is_synapse_order():
    """y = y * 0.5 + w over a target's synapses, all active: the CPU's result is the sequential one."""
    arrays = synapse_arrays(10, 4, 60, seed=5, empty_every=0)
    _, executable = run_both(10, 4, 60, 1.0, 5, chunks=(1,), arrays=arrays)
    y = arrays["H.y"].copy()
    for t in range(4):
        for s in arrays["S._post_synapses"][arrays["S._post_offsets"][t]:arrays["S._post_offsets"][t + 1]]:
            y[t] = y[t] * 0.5 + arrays["S.w"][s]
    np.testing.assert_array_equal(executable.read("H.y"), y)


def test_a_source_listed_twice_pushes_twice():
    """Atomic adds count every visit (the synapse's own counter would be a race: not compared)."""
    text = synapse_module(4, 3, 8, 0.0)
    push_only = text.replace("  kernel.clear_spikes @G._spikespace {clock = @defaultclock}\n"
                             "  kernel.launch @G.fire {clock = @defaultclock, args = {p = 0.0}}\n", "")
    push_only = push_only.replace("  kernel.launch @S.pull {clock = @defaultclock}\n", "")
    module = parsed(push_only)
    arrays = synapse_arrays(4, 3, 8, seed=3)
    arrays["G._spikespace"] = np.array([2, 0, 2, 0, 3], np.int32)
    interpreter = Interpreter(module, ModulePlan(module).check_arrays(arrays))
    interpreter.run(1)
    executable = CpuExecutable(module, arrays, cache=NO_DISK)
    executable.run(1)
    for name in ("H.x", "H.n", "S.u"):
        np.testing.assert_array_equal(executable.read(name), interpreter.arrays[name], err_msg=name)
    assert executable.read("H.n").sum() == 2 * np.diff(arrays["S._pre_offsets"])[2] + np.diff(
        arrays["S._pre_offsets"])[0]


@pytest.mark.parametrize("corrupt, message", [
    (lambda a: a["G._spikespace"].__setitem__(slice(None), [9, 0, 0, 0, 0, 1]), r"source 9 .* outside 0..4"),
    (lambda a: (a["S._pre_offsets"].__setitem__(2, 99), a["G._spikespace"].__setitem__(slice(None),
                                                                                     [1, 0, 0, 0, 0, 1])),
     "not increasing or exceed"),
    (lambda a: a["S._post_offsets"].__setitem__(1, -1), "not increasing or exceed"),
    (lambda a: a["S._post_synapses"].__setitem__(0, 1000), r"index 1000 is outside 0..11"),
])
def test_bad_spike_lists_offsets_and_items_are_errors(corrupt, message):
    text = synapse_module(5, 4, 12, 0.0).replace(
        "  kernel.clear_spikes @G._spikespace {clock = @defaultclock}\n", "")
    module = parsed(text)
    arrays = {k: v.copy() for k, v in ModulePlan(module).check_arrays(synapse_arrays(5, 4, 12, 1)).items()}
    corrupt(arrays)
    with pytest.raises(KernelRuntimeError):
        Interpreter(module, {k: v.copy() for k, v in arrays.items()}).run(1)
    with pytest.raises(KernelRuntimeError, match=message):
        CpuExecutable(module, arrays, cache=NO_DISK).run(1)


EMIT_FROM_SEGMENTS = """
kernel.array @S._offsets {length = 4} : i32
kernel.array @S._items {length = 5} : i32
kernel.array @S._post {length = 5} : i32
kernel.array @H._spikespace {length = 6} : i32
kernel.clock @defaultclock {dt = 0.001}
kernel.kernel @S.relay {space = segments(@S._offsets, @S._items, 3)} invariants() {
} body(%s: i64) {
  %post = kernel.load @S._post[%s] : i32
  kernel.emit_spike @H._spikespace, %s
}
kernel.schedule step() {
  kernel.clear_spikes @H._spikespace {clock = @defaultclock}
  kernel.launch @S.relay {clock = @defaultclock}
}
"""


def test_emit_spike_over_segments_on_the_cpu_and_not_on_the_gpu():
    module = parsed(EMIT_FROM_SEGMENTS)
    arrays = {"S._offsets": np.array([0, 2, 2, 5], np.int32), "S._items": np.array([4, 0, 3, 1, 2], np.int32)}
    executable = CpuExecutable(module, arrays, cache=NO_DISK)
    executable.run(1)
    np.testing.assert_array_equal(executable.read("H._spikespace"), [4, 0, 3, 1, 2, 5])
    with pytest.raises(UnsupportedOpError, match="emit_spike in a kernel over segments"):
        lower_for_cuda(ModulePlan(module))


@needs_ptxas
def test_synapse_spaces_assemble(tmp_path):
    ptx = ptx_of(parsed(synapse_module(300, 200, 5000)))
    for kernel in ("S_push", "S_pull"):
        assert kernel in ptx
    assemble(ptx, tmp_path)
