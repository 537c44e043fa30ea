"""The `share-reciprocals` pass: x / d, y / d with d per element -> r = 1/d once, x * r, y * r."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.ir.core import Module, Value
from spikec.ir.kernel import KernelOp, kernels
from spikec.ir.kernel_ops import ConstantOp, DivOp
from spikec.passes.hoist_reciprocals import multiply_by_reciprocal
from spikec.passes.pass_base import ModulePass, PassContext


@dataclass(frozen=True)
class ShareReciprocals(ModulePass):
    """Turn float divisions in a kernel body that share a divisor computed per element into
    multiplications by its reciprocal, computed once per element before the first of them.

    Why: a rate written as a fraction, `0.32*(13*mV - v + VT)/(exp(...) - 1)/ms`, reaches the
    body as a sum of terms each divided by the same denominator once sympy has expanded it (the
    exponential-Euler update of a Hodgkin-Huxley gate divides three terms by each of its
    denominators: 14 divisions per COBAHH neuron, 6 of them repeats). An f64 division is a
    ~10-instruction Newton iteration on the GPU and the FP64 pipe is what bounds the state
    update once its state stays on chip (docs/performance.md, "Thread ticks"); one division and
    n multiplications replace n divisions. `hoist-reciprocals` does the same for divisors that
    are the same for every element, once per launch; this pass runs after it.

    Rounding: as `hoist-reciprocals`, x * (1/d) may differ from x / d in the last bit (at most
    ~1.5 ulp); the special values are division's (1/0 = inf, x * inf = x / 0 for x != 0, 0 * inf
    = 0 / 0 = nan, 1/inf = 0) except for a subnormal d, whose reciprocal overflows. Only divisions
    directly in the body are counted and rewritten, so every one is dominated by the first;
    integer divisions are never touched.
    """

    name: ClassVar[str] = "share-reciprocals"
    summary: ClassVar[str] = "divide by one per-element value several times as multiplications by its reciprocal"
    statistics: ClassVar[dict[str, str]] = {"rewritten": "divisions replaced by multiplications",
                                            "reciprocals": "reciprocals computed per element"}

    def apply(self, ctx: PassContext, module: Module) -> None:
        for kernel in kernels(module):
            self._rewrite(ctx, kernel)

    @staticmethod
    def _rewrite(ctx: PassContext, kernel: KernelOp) -> None:
        by_divisor: dict[Value, list[DivOp]] = {}
        for op in kernel.body.ops:
            if isinstance(op, DivOp) and op.result.type.is_float:
                by_divisor.setdefault(op.rhs, []).append(op)
        for divisor, divisions in by_divisor.items():
            if len(divisions) < 2:
                continue
            one = kernel.body.insert_before(divisions[0], ConstantOp(1.0, divisor.type)).result
            reciprocal = kernel.body.insert_before(divisions[0], DivOp(one, divisor)).result
            ctx.count("reciprocals")
            for op in divisions:
                multiply_by_reciprocal(ctx, kernel, op, reciprocal)
