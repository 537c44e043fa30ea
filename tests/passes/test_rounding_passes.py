"""`expand-pow`, `hoist-reciprocals` and `share-reciprocals` trade `pow`'s and division's single rounding for a few
multiplications' roundings: results must stay within the few ulps their docstrings promise, and
special values must be those of `pow` and division."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spikec.ir.interpreter import Interpreter, allocate_arrays
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.passes.manager import run_pipeline

SIZE = 64


def _module(exponent: float) -> str:
    return (f"kernel.array @x {{length = {SIZE}}} : f64\nkernel.array @p {{length = {SIZE}}} : f64\n"
            f"kernel.array @q {{length = {SIZE}}} : f64\n"
            f"kernel.kernel @k {{space = elements({SIZE})}} invariants() {{\n"
            '  %d = kernel.arg "d" : f64\n'
            "} body(%i: i64) {\n"
            "  %x = kernel.load @x[%i] : f64\n"
            f"  %n = kernel.constant {exponent!r} : f64\n"
            "  %p = kernel.pow %x, %n : f64\n  kernel.store @p[%i], %p : f64\n"
            "  %q = kernel.div %x, %d : f64\n  kernel.store @q[%i], %q : f64\n}\n")


def _run(exponent: float, x: np.ndarray, d: float, pipeline: str | None) -> dict[str, np.ndarray]:
    module = parse_module(_module(exponent))
    if pipeline:
        run_pipeline(module, pipeline)
    arrays = allocate_arrays(module)
    arrays["x"][:] = x
    with np.errstate(all="ignore"):
        Interpreter(module, arrays).launch("k", {"d": d})
    return arrays


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units in the last place where `a` is a normal number; the same special values
    (nan, infinities) elsewhere."""
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.array_equal(a[np.isinf(a)], b[np.isinf(a)])
    finite = np.isfinite(a) & (np.abs(a) >= np.finfo(np.float64).tiny)
    return np.abs(a[finite] - b[finite]) / np.spacing(np.maximum(np.abs(a[finite]), np.abs(b[finite])))


@settings(max_examples=60, deadline=None)
@given(exponent=st.integers(0, 16), seed=st.integers(0, 2**32 - 1),
       d=st.floats(1e-300, 1e300) | st.floats(-1e300, -1e-300))
def test_within_promised_ulps(exponent, seed, d):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, SIZE) * 10.0 ** rng.integers(-20, 20, SIZE)
    exact = _run(float(exponent), x, d, None)
    rewritten = _run(float(exponent), x, d, "expand-pow,hoist-reciprocals")
    # binary powering rounds once per multiplication, each error growing with the power taken
    assert _ulps(exact["p"], rewritten["p"]).max(initial=0) <= 1 + exponent
    assert _ulps(exact["q"], rewritten["q"]).max(initial=0) <= 2


@pytest.mark.parametrize("exponent", [0.0, 1.0, 2.0, 3.0, 4.0, 7.0])
def test_special_values_are_pows(exponent):
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e200, -1e200, 1e-200] + [1.5] * (SIZE - 8))
    exact = _run(exponent, x, 1.0, None)["p"]
    rewritten = _run(exponent, x, 1.0, "expand-pow")["p"]
    assert np.array_equal(exact, rewritten, equal_nan=True)
    assert np.array_equal(np.signbit(exact), np.signbit(rewritten))


SHARED = (f"kernel.array @x {{length = {SIZE}}} : f64\nkernel.array @y {{length = {SIZE}}} : f64\n"
          f"kernel.array @d {{length = {SIZE}}} : f64\n"
          f"kernel.kernel @k {{space = elements({SIZE})}} invariants() {{\n}} body(%i: i64) {{\n"
          "  %x = kernel.load @x[%i] : f64\n  %y = kernel.load @y[%i] : f64\n  %d = kernel.load @d[%i] : f64\n"
          "  %p = kernel.div %x, %d : f64\n  kernel.store @x[%i], %p : f64\n"
          "  %q = kernel.div %y, %d : f64\n  kernel.store @y[%i], %q : f64\n}\n")


def _run_shared(x: np.ndarray, y: np.ndarray, d: np.ndarray, pipeline: str | None) -> dict[str, np.ndarray]:
    module = parse_module(SHARED)
    if pipeline:
        run_pipeline(module, pipeline)
    arrays = allocate_arrays(module)
    arrays["x"][:], arrays["y"][:], arrays["d"][:] = x, y, d
    with np.errstate(all="ignore"):
        Interpreter(module, arrays).launch("k", {})
    return arrays


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_shared_reciprocals_within_promised_ulps(seed):
    """Two divisions by a per-element divisor, as `share-reciprocals` rewrites them: within 2 ulps
    for normal divisors, and division's special values for zeros, infinities and nan."""
    rng = np.random.default_rng(seed)
    x, y = (rng.uniform(-2, 2, SIZE) * 10.0 ** rng.integers(-20, 20, SIZE) for _ in range(2))
    d = rng.uniform(-2, 2, SIZE) * 10.0 ** rng.integers(-300, 300, SIZE)
    d[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1.0]
    x[5] = np.inf
    exact = _run_shared(x, y, d, None)
    rewritten = _run_shared(x, y, d, "share-reciprocals")
    module = parse_module(SHARED)
    run_pipeline(module, "share-reciprocals")
    assert print_module(module).count("kernel.div") == 1  # 1/d: the two quotients are products
    for name in ("x", "y"):
        assert _ulps(exact[name], rewritten[name]).max(initial=0) <= 2
        assert np.array_equal(np.signbit(exact[name][:4]), np.signbit(rewritten[name][:4]))
