"""The `fold` pass: constant folding and the algebraic identities that are exact in IEEE."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.ir.core import Module, OpResult, Value
from spikec.ir.kernel_ops import ComputeOp, ConstantOp, MathOp
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class Fold(ModulePass):
    """Replace computations on constants by their value, and exact identities by their operand.

    A computation whose operands are all constants is evaluated with the interpreter's own
    semantics (`ComputeOp.evaluate`), so folding never changes what the interpreter computes; f32
    arithmetic is folded in f32. The identities applied are exact for every input, nan, infinities
    and signed zeros included: x * 1, x / 1, x + (-0.0), x - (+0.0) -> x; for integers also x + 0,
    x - 0 -> x and x * 0 -> 0; select with a constant condition or equal branches; neg(neg x),
    not(not x) -> x; min(x, x), max(x, x) -> x; x and true, x or false -> x; x and false -> false,
    x or true -> true; a cast to the operand's own type -> x. Not applied, because they are not
    exact: x + 0.0 (wrong for x = -0.0), x * 0.0 (wrong for nan, inf, negative x), x - x (nan).

    Math functions (exp, log, ...) are folded with numpy, whose results may differ by an ulp from
    the backends' libm/libdevice; `fold-math=false` leaves them to the backend. Constants that
    lose their last use stay in place: run `dce` after `fold`.
    """

    name: ClassVar[str] = "fold"
    summary: ClassVar[str] = "fold constant computations and exact algebraic identities"
    statistics: ClassVar[dict[str, str]] = {
        "folded": "ops replaced by a new constant",
        "simplified": "ops replaced by one of their operands or an earlier value",
    }
    fold_math: bool = option(True, "also fold math functions (exp, log, sin, ...) of constants")

    def apply(self, ctx: PassContext, module: Module) -> None:
        for op in list(module.walk()):
            if not isinstance(op, ComputeOp) or op.parent is None:
                continue
            if isinstance(op, MathOp) and not self.fold_math:
                continue
            folded = op.fold([constant_value(v) for v in op.operands])
            if folded is None:
                continue
            block = op.parent
            if isinstance(folded, Value):
                replacement, statistic = folded, "simplified"
            else:
                constant = ConstantOp.of(folded, op.result.type, op.result.name_hint)
                replacement, statistic = block.insert_before(op, constant).result, "folded"
            op.result.replace_all_uses_with(replacement)
            block.erase(op)
            ctx.count(statistic)


def constant_value(value: Value) -> object | None:
    """The numpy value of `value` when a constant op defines it, else None."""
    if isinstance(value, OpResult) and isinstance(value.op, ConstantOp):
        return value.op.numpy_value()
    return None
