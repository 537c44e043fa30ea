"""The CPU's vectorised element loops: spikes flagged per block then appended (`spike_block`), and
normals through libmvec (`philox_llvm.vector_normal_function`). Uniform bits and spike lists must
stay exactly those of the interpreter; a normal must not depend on which positions the vectoriser
leaves to a scalar remainder, nor on how threads split the positions."""

from __future__ import annotations

import re
import numpy as np
import pytest
from llvmlite import binding as llvm

from spikec.backends import cpu
from spikec.backends.abi import ModulePlan
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.ir import philox
from spikec.ir.interpreter import Interpreter
from tests.backends.samples import noisy_lif, parsed

NO_DISK = CompileCache(None)


def poisson_like(n: int, p: float) -> str:
    """A uniform per element and step, stored, and a spike where it is below p."""
    return f"""
kernel.array @P.u {{length = {n}}} : f64
kernel.array @P._spikespace {{length = {n + 1}}} : i32
kernel.clock @defaultclock {{dt = 0.0001}}
kernel.kernel @P.threshold {{space = elements({n})}} invariants() {{
}} body(%i: i64) {{
  %u = kernel.rand_uniform %i {{stream = 1, draw = 0}} : f64
  kernel.store @P.u[%i], %u : f64
  %p = kernel.constant {p} : f64
  %c = kernel.cmp lt, %u, %p : f64
  kernel.emit_spike @P._spikespace, %i if %c
}}
kernel.schedule step() {{
  kernel.clear_spikes @P._spikespace {{clock = @defaultclock}}
  kernel.launch @P.threshold {{clock = @defaultclock}}
}}
"""


def noisy_recorder(n: int) -> str:
    """noisy_lif, its normal also stored, so the draws can be compared directly."""
    text = noisy_lif(n).replace("kernel.array @G.v", f"kernel.array @G.z {{length = {n}}} : f64\nkernel.array @G.v")
    return text.replace("  %dv = kernel.mul", "  kernel.store @G.z[%i], %r : f64\n  %dv = kernel.mul")


@pytest.mark.parametrize("n", [1, 255, 256, 1037])
def test_uniforms_and_spike_lists_are_the_interpreters_bit_for_bit(n):
    module, seed = parsed(poisson_like(n, 0.3)), 2**32 + 77
    exe = CpuExecutable(module, seed=seed, cache=NO_DISK)
    interpreter = Interpreter(module, seed=seed)
    for step in range(3):
        exe.run(1)
        interpreter.run(1)
        u = exe.read("P.u")
        np.testing.assert_array_equal(u, philox.uniform(seed, 1, step, np.arange(n), 0))
        spikes = exe.read("P._spikespace")
        np.testing.assert_array_equal(spikes, interpreter.arrays["P._spikespace"])
        np.testing.assert_array_equal(spikes[:spikes[-1]], np.flatnonzero(u < 0.3))


def test_the_element_loop_with_an_emit_is_vectorised():
    lowered = cpu.lower_for_cpu(ModulePlan(parsed(noisy_recorder(1037))))
    optimized = llvm.parse_assembly(str(lowered.llvm_module))
    cpu.optimize(optimized, cpu.host_target_machine())
    text = str(optimized)
    if not cpu.libmvec_normals():
        pytest.skip("no AVX2 or no libmvec here: normals use libm's scalar log and cos")
    assert "vector.body" in text
    assert "call <4 x double> @_ZGVdN4v_log(<4 x double>" in text
    assert "call <4 x double> @_ZGVdN4v_cos(<4 x double>" in text
    assert re.search(r"mul nuw (nsw )?<4 x i64>", text)  # Philox's 32x32->64 products, 4-wide


def test_a_normal_does_not_depend_on_the_vector_remainder_or_the_thread_split():
    n, seed = 1037, 5
    v0 = np.linspace(0.0, 0.9, n)
    reference = CpuExecutable(parsed(noisy_recorder(n)), {"G.v": v0}, seed=seed, cache=NO_DISK, threads=1)
    threaded = CpuExecutable(parsed(noisy_recorder(n)), {"G.v": v0}, seed=seed, cache=NO_DISK, threads=3,
                             grain=1)
    small = CpuExecutable(parsed(noisy_recorder(3)), {"G.v": v0[:3]}, seed=seed, cache=NO_DISK, threads=1)
    for step in range(4):
        for exe in (reference, threaded, small):
            exe.run(1)
        z = reference.read("G.z")
        np.testing.assert_allclose(z, philox.normal(seed, 1, step, np.arange(n), 0), rtol=4e-15, atol=4e-15)
        np.testing.assert_array_equal(threaded.read("G.z"), z)
        np.testing.assert_array_equal(small.read("G.z"), z[:3])   # all three in the scalar remainder
        np.testing.assert_array_equal(threaded.read("G._spikespace"), reference.read("G._spikespace"))
