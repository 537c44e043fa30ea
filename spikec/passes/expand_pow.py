"""The `expand-pow` pass: x ** n for a small integer constant n as a chain of multiplications."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.ir.core import Block, Module, Op, OpResult, Value
from spikec.ir.kernel_ops import CastOp, ConstantOp, MulOp, PowOp
from spikec.passes.fold import constant_value
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class ExpandPow(ModulePass):
    """Replace `kernel.pow %x, %n` by multiplications when n is a constant integer, 0 <= n <= `max-exponent`.

    Why: model equations are full of small integer powers (Hodgkin-Huxley's m**3 and n**4), and a
    general `pow` is a library call on the CPU (libm) and ~50 f64 instructions on the GPU
    (libdevice's `__nv_pow`, a log and an exp in extended precision), while m*m*m is two
    multiplications. LLVM does this itself only for n = 2 (and for more under fast-math flags,
    which spikec does not set).

    The product is built by binary powering (x**4 = (x*x)*(x*x), x**5 = x**4 * x), so n <= 16
    costs at most 7 multiplications; n = 0 gives 1.0, as pow does for every x (nan included).
    Negative n stay `pow`: 1 / x**|n| would give 0 where x**|n| overflows but pow's result is a
    small finite number. Special values agree with `pow` (nan, infinities, signed zeros for odd
    n, overflow to inf). Rounding does not: pow is correctly rounded to within 1 ulp, the chain
    rounds once per multiplication (x**3 within 2 ulp, x**16 within a few; subnormal results
    lose more, as any product does). That is the
    same contract as Brian's C++ targets (compiled with -ffast-math) and far below any model's
    tolerance; the pass is in the default pipeline and is left out with a custom pipeline where
    bit-exact `pow` matters.
    """

    name: ClassVar[str] = "expand-pow"
    summary: ClassVar[str] = "turn x ** n (n a small integer constant) into multiplications"
    statistics: ClassVar[dict[str, str]] = {"expanded": "pow ops replaced by multiplications",
                                            "multiplications": "multiplications emitted"}
    max_exponent: int = option(16, "only expand x ** n for integers 0 <= n <= this")

    def apply(self, ctx: PassContext, module: Module) -> None:
        for op in list(module.walk()):
            if not isinstance(op, PowOp):
                continue
            exponent = constant_exponent(op.rhs)
            if exponent is None or not float(exponent).is_integer() or not 0 <= exponent <= self.max_exponent:
                continue
            value = _power(ctx, op.parent, op, op.lhs, int(exponent))
            op.result.replace_all_uses_with(value)
            op.parent.erase(op)
            ctx.count("expanded")


def constant_exponent(value: Value) -> object | None:
    """The value of a constant exponent: a constant op, or a cast of one (model code's `m**3`
    reaches the pass as an i64 constant cast to f64: `fold` runs after this pass)."""
    found = constant_value(value)
    if found is None and isinstance(value, OpResult) and isinstance(value.op, CastOp):
        found = constant_value(value.op.operands[0])
    return found


def _power(ctx: PassContext, block: Block, anchor: Op, base: Value, exponent: int) -> Value:
    """base ** exponent (exponent >= 0) by binary powering, inserted before `anchor`."""
    if exponent == 0:
        return block.insert_before(anchor, ConstantOp(1.0, base.type)).result

    def multiply(a: Value, b: Value) -> Value:
        ctx.count("multiplications")
        return block.insert_before(anchor, MulOp(a, b)).result

    result: Value | None = None
    square = base
    while True:
        if exponent & 1:
            result = square if result is None else multiply(result, square)
        exponent >>= 1
        if not exponent:
            return result
        square = multiply(square, square)
