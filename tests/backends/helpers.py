"""Shared helpers of the backend tests: race-free random modules and array comparison."""

from __future__ import annotations

import numpy as np

from spikec.ir.core import Module
from spikec.ir.kernel import kernels
from spikec.ir.kernel_ops import AtomicAddOp, LoadOp, MathOp, RandNormalOp, StoreOp

# Math whose libm / libdevice / numpy results may differ by an ulp or so.
TRANSCENDENTAL = {"exp", "log", "log10", "log2", "sin", "cos", "tan", "sinh", "cosh", "tanh", "arcsin",
                  "arccos", "arctan", "arctan2", "expm1", "log1p", "exprel"}


def race_free(module: Module) -> bool:
    """Whether no element of a launch can see another element's write, so that the interpreter's
    op-by-op order and a backend's element-by-element order must agree: per array, only loads, or
    one store or one atomic add, or every access at the element's own index. (Two stores, or two
    atomic adds, at other indices conflict: the interpreter applies them op after op, a backend
    element after element, e.g. ``y[0] = 0; y[i] = t`` leaves y[0] = t in the interpreter and 0
    when element 1 runs after element 0.)"""
    for kernel in kernels(module):
        accesses: dict[str, list] = {}
        for op in kernel.body.ops:
            if isinstance(op, (LoadOp, StoreOp, AtomicAddOp)):
                accesses.setdefault(op.array.name, []).append(op)
        for ops in accesses.values():
            kinds = {type(op) for op in ops}
            if kinds == {LoadOp} or len(ops) == 1:
                continue
            if not all(op.index is kernel.index for op in ops):
                return False
    return True


def inexact(module: Module) -> bool:
    """Whether results may differ from the interpreter's by rounding (transcendental math, normals)."""
    return any((isinstance(op, MathOp) and op.function in TRANSCENDENTAL) or isinstance(op, RandNormalOp)
               or op.name == "kernel.pow" for op in module.walk())


def assert_arrays_match(expected: dict, actual: dict, exact: bool, rtol: float = 1e-12) -> None:
    """Equal arrays: bit-for-bit (signed zeros aside, any nan equals any nan) or, when not `exact`,
    floats within `rtol`/1e-300 absolute and integers equal where the floats agree."""
    for name, want in expected.items():
        got = actual[name]
        assert got.dtype == want.dtype, name
        if want.dtype.kind == "f":
            if exact:
                np.testing.assert_array_equal(got, want, err_msg=name)
            else:
                np.testing.assert_allclose(got, want, rtol=rtol, atol=1e-300, equal_nan=True, err_msg=name)
        else:
            np.testing.assert_array_equal(got, want, err_msg=name)
