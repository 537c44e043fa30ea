"""The `hoist-reciprocals` pass: x / d with d the same for every element -> x * (1/d), 1/d once per launch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spikec.ir.core import Module, Value
from spikec.ir.kernel import KernelOp, kernels
from spikec.ir.kernel_ops import ConstantOp, DivOp, MulOp
from spikec.passes.fold import constant_value
from spikec.passes.pass_base import ModulePass, PassContext


@dataclass(frozen=True)
class HoistReciprocals(ModulePass):
    """Turn a float division in a kernel body whose divisor is launch-invariant into a
    multiplication by the divisor's reciprocal, computed once in the invariants region.

    Why: integrators write equations as sums of terms each divided by a parameter (the
    exponential-Euler form of Hodgkin-Huxley divides by `Cm` nine times per neuron), and a
    float division is the slowest arithmetic op on every target: an f64 `div.rn` is a Newton
    iteration of ~10 instructions on the GPU, ~4x a multiplication's latency on the CPU. After
    `hoist-invariants` the divisor is either defined in the invariants region (an argument, or
    what derives from arguments) or a body constant; one reciprocal per distinct divisor serves
    every division by it.

    Rounding: x * (1/d) rounds twice where x / d rounds once, so a quotient may differ in its
    last bit (at most ~1.5 ulp); 1/d overflows only for subnormal d. Brian's C++ targets make the
    same trade (-ffast-math implies -freciprocal-math). Runs after `hoist-invariants`, in the
    default pipeline; integer divisions (truncating, x / 0 = 0) are never touched.
    """

    name: ClassVar[str] = "hoist-reciprocals"
    summary: ClassVar[str] = "divide by a launch-invariant value as a multiplication by its reciprocal"
    statistics: ClassVar[dict[str, str]] = {"rewritten": "divisions replaced by multiplications",
                                            "reciprocals": "reciprocals computed per launch"}

    def apply(self, ctx: PassContext, module: Module) -> None:
        for kernel in kernels(module):
            self._rewrite(ctx, kernel)

    @staticmethod
    def _rewrite(ctx: PassContext, kernel: KernelOp) -> None:
        invariant = {result for op in kernel.invariants.ops for result in op.results}
        reciprocals: dict[Value, Value] = {}
        for op in list(kernel.body.ops):
            if not isinstance(op, DivOp) or not op.result.type.is_float:
                continue
            divisor = op.rhs
            constant = constant_value(divisor)
            if constant is None and divisor not in invariant:
                continue
            if divisor not in reciprocals:
                if constant is not None:
                    with np.errstate(divide="ignore", over="ignore"):
                        inverse = np.divide(np.asarray(1, divisor.type.numpy_dtype), constant)
                    reciprocal = kernel.invariants.append(ConstantOp.of(inverse, divisor.type)).result
                else:
                    one = kernel.invariants.append(ConstantOp(1.0, divisor.type)).result
                    reciprocal = kernel.invariants.append(DivOp(one, divisor)).result
                reciprocals[divisor] = reciprocal
                ctx.count("reciprocals")
            multiply_by_reciprocal(ctx, kernel, op, reciprocals[divisor])


def multiply_by_reciprocal(ctx: PassContext, kernel: KernelOp, division: DivOp, reciprocal: Value) -> None:
    """Replace `division` (x / d) in `kernel`'s body by x * `reciprocal` (1/d), counted as
    `rewritten` (also `share-reciprocals`)."""
    product = kernel.body.insert_before(division, MulOp(division.lhs, reciprocal, division.result.name_hint))
    division.result.replace_all_uses_with(product.result)
    kernel.body.erase(division)
    ctx.count("rewritten")
