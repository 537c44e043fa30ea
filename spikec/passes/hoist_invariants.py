"""The `hoist-invariants` pass: move launch-invariant work out of kernel bodies."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.ir.core import Module, Op, OpResult, Trait, Value
from spikec.ir.kernel import NOT_INVARIANT, KernelOp, kernels
from spikec.ir.kernel_ops import BodyOp, ConstantOp
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class HoistInvariants(ModulePass):
    """Move body computations that are the same for every element into the invariants region.

    A body op moves when it is pure, does not read arrays, does not depend on the step, the time
    or random numbers, and all its operands are computed in the invariants region (arguments and
    what derives from them, such as exp(-dt/tau)) or are constants. It then runs once per launch,
    maybe on the host, instead of once per element. Constants move only as operands of a hoisted
    op (copied when the body still uses them), unless `hoist-constants` moves every constant.
    """

    name: ClassVar[str] = "hoist-invariants"
    summary: ClassVar[str] = "compute element-independent values once per launch"
    statistics: ClassVar[dict[str, str]] = {
        "hoisted": "ops moved from a body to its invariants region",
        "constants-moved": "constants moved or copied along with them",
    }
    hoist_constants: bool = option(False, "move every body constant, used by hoisted ops or not")

    def apply(self, ctx: PassContext, module: Module) -> None:
        for kernel in kernels(module):
            self._hoist(ctx, kernel)

    def _hoist(self, ctx: PassContext, kernel: KernelOp) -> None:
        invariant: set[Value] = {r for op in kernel.invariants.ops for r in op.results}
        copies: dict[Op, Value] = {}  # body constant -> its copy in the invariants region
        for op in list(kernel.body.ops):
            if isinstance(op, ConstantOp):
                if self.hoist_constants:
                    self._move(kernel, op)
                    invariant.add(op.result)
                    ctx.count("constants-moved")
                continue
            if not _hoistable(op) or not all(v in invariant or _body_constant(v, kernel) for v in op.operands):
                continue
            for index, operand in enumerate(op.operands):
                if operand not in invariant:
                    op.set_operand(index, self._constant_copy(ctx, kernel, operand, copies))
            self._move(kernel, op)
            invariant.update(op.results)
            ctx.count("hoisted")
        for constant in copies:
            if not constant.result.has_uses():
                kernel.body.erase(constant)

    @staticmethod
    def _move(kernel: KernelOp, op: Op) -> None:
        kernel.body.remove(op)
        kernel.invariants.append(op)

    @staticmethod
    def _constant_copy(ctx: PassContext, kernel: KernelOp, operand: Value, copies: dict[Op, Value]) -> Value:
        constant = operand.op  # type: ignore[attr-defined]
        if constant not in copies:
            copies[constant] = kernel.invariants.append(constant.clone()).result
            ctx.count("constants-moved")
        return copies[constant]


def _hoistable(op: Op) -> bool:
    return (isinstance(op, BodyOp) and op.has_trait(Trait.PURE) and not op.regions
            and not (op.traits & NOT_INVARIANT) and bool(op.results))


def _body_constant(value: Value, kernel: KernelOp) -> bool:
    return isinstance(value, OpResult) and isinstance(value.op, ConstantOp) and value.op.parent is kernel.body
