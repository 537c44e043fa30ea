"""The `div-by-power-of-two` pass: x / 2^k -> x * 2^-k, which is exact."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from spikec.ir.core import Module
from spikec.ir.kernel_ops import ConstantOp, DivOp, MulOp, constant_scalar
from spikec.passes.fold import constant_value
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class DivByPowerOfTwo(ModulePass):
    """Replace a float division by a constant power of two with a multiplication by its inverse.

    Multiplying is cheaper than dividing on every target, and for c = 2^k the product x * 2^-k
    is exactly x / c (both are x with its exponent shifted) unless 2^-k itself overflows, so the
    rewrite never changes a result. Other constants are left alone: 1/c would be rounded.
    """

    name: ClassVar[str] = "div-by-power-of-two"
    summary: ClassVar[str] = "turn x / 2^k into the exact x * 2^-k"
    statistics: ClassVar[dict[str, str]] = {"rewritten": "divisions replaced by multiplications"}
    max_exponent: int = option(64, "only rewrite divisors 2^k with |k| <= this")

    def apply(self, ctx: PassContext, module: Module) -> None:
        for op in list(module.walk()):
            if not isinstance(op, DivOp) or not op.result.type.is_float:
                continue
            divisor = constant_value(op.rhs)
            if divisor is None or divisor == 0 or not math.isfinite(divisor):
                continue
            mantissa, exponent = math.frexp(float(divisor))
            if abs(mantissa) != 0.5 or abs(exponent - 1) > self.max_exponent:
                continue
            # 1/c in the division's type: exact, unless it overflows (c subnormal: 1/c beyond
            # 2^127 in f32, 2^1023 in f64): then the rewrite would not be exact.
            with np.errstate(over="ignore"):
                value = constant_scalar(np.divide(np.ones((), divisor.dtype), divisor), op.result.type)
            if not math.isfinite(value):
                continue
            block = op.parent
            inverse = block.insert_before(op, ConstantOp(value, op.result.type))
            product = block.insert_before(op, MulOp(op.lhs, inverse.result, op.result.name_hint))
            op.result.replace_all_uses_with(product.result)
            block.erase(op)
            ctx.count("rewritten")
