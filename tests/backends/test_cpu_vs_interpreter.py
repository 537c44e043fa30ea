"""The CPU executable against the reference interpreter on random well-typed modules."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.errors import KernelRuntimeError
from spikec.ir.interpreter import Interpreter
from spikec.ir.kernel_ops import MathOp, MulOp, PowOp, RandNormalOp, RandUniformOp
from spikec.ir.verify import verify_module
from tests.backends.helpers import TRANSCENDENTAL, assert_arrays_match, inexact, race_free
from tests.ir.kernel_generator import array_inputs, kernel_modules

NO_DISK = CompileCache(None)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much,
                                                                          HealthCheck.too_slow])
EXACT_REPLACEMENTS = ["floor", "ceil", "trunc", "abs", "sign", "sqrt"]


def make_exact(module, draw_index: int) -> None:
    """Swap transcendental math for correctly rounded functions, normals for uniforms, pow for mul,
    so that every result must match the interpreter bit for bit."""
    for n, op in enumerate(module.walk()):
        if isinstance(op, MathOp) and op.function in TRANSCENDENTAL:
            op.attributes["function"] = EXACT_REPLACEMENTS[(n + draw_index) % len(EXACT_REPLACEMENTS)]
        elif isinstance(op, RandNormalOp):
            op.__class__ = RandUniformOp
        elif isinstance(op, PowOp):
            op.__class__ = MulOp


def run_both(module, arrays, seed: int, ticks: int):
    interpreter = Interpreter(module, {k: v.copy() for k, v in arrays.items()}, seed=seed)
    executable = CpuExecutable(module, arrays, seed=seed, cache=NO_DISK)
    try:
        interpreter.run(ticks)
    except KernelRuntimeError:
        with pytest.raises(KernelRuntimeError):
            executable.run(ticks)
        return None, None
    executable.run(ticks)
    assert executable.clock_steps == interpreter.clock_steps
    declared = executable.plan.arrays
    return ({n: interpreter.arrays[n] for n in declared}, {n: executable.read(n) for n in declared})


@SETTINGS
@given(module=kernel_modules(), arrays=array_inputs(), seed=st.integers(0, 2**40), ticks=st.integers(1, 3),
       salt=st.integers(0, 5))
def test_exact_modules_match_the_interpreter_bit_for_bit(module, arrays, seed, ticks, salt):
    make_exact(module, salt)
    verify_module(module)
    assume(race_free(module))
    expected, actual = run_both(module, arrays, seed, ticks)
    if expected is not None:
        assert_arrays_match(expected, actual, exact=True)


@SETTINGS
@given(module=kernel_modules(), arrays=array_inputs(), seed=st.integers(0, 2**40))
def test_modules_with_math_match_the_interpreter_closely(module, arrays, seed):
    assume(race_free(module) and inexact(module))
    expected, actual = run_both(module, arrays, seed, 2)
    if expected is not None:
        assert_arrays_match(expected, actual, exact=False, rtol=1e-5)
