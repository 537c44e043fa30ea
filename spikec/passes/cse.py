"""The `cse` pass: common subexpression elimination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.ir.core import Block, Module, Op, Trait
from spikec.ir.equality import op_key_attributes
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class CommonSubexpressions(ModulePass):
    """Replace an op by an earlier identical op: same name, operands, attributes and types.

    Pure ops (arithmetic, math, compare, constants, step/time and the counter-based random
    numbers, which depend only on their key) are merged when the earlier op is visible: earlier in
    the same block, in an enclosing region, or, in a kernel, in the invariants region (the body sees
    it). The operands of commutative ops are compared as a set (a + b equals b + a). With
    `cse-loads`, a load is also merged with an earlier load of the same array and index in the same
    block when no store, atomic_add or emit_spike to that array comes between them.
    """

    name: ClassVar[str] = "cse"
    summary: ClassVar[str] = "eliminate common subexpressions"
    statistics: ClassVar[dict[str, str]] = {
        "eliminated": "pure ops replaced by an earlier identical op",
        "loads-eliminated": "loads replaced by an earlier load of the same place",
    }
    cse_loads: bool = option(True, "also merge repeated loads of one place with no write between")

    def apply(self, ctx: PassContext, module: Module) -> None:
        for op in module.ops:
            self._regions(ctx, op, {})

    def _regions(self, ctx: PassContext, op: Op, scope: dict) -> None:
        shared = dict(scope)
        for region in op.regions:
            self._block(ctx, region.block, shared if op.sequential_regions else dict(scope))

    def _block(self, ctx: PassContext, block: Block, scope: dict) -> None:
        loads: dict[str, dict] = {}
        for op in list(block.ops):
            if op.regions:
                self._regions(ctx, op, scope)
                continue
            if op.has_trait(Trait.SIDE_EFFECT):
                written = op.attributes.get("array", op.attributes.get("spike_list"))
                if written is None:
                    loads.clear()
                else:
                    loads.pop(written.name, None)
                continue
            if op.has_trait(Trait.PURE) and op.results:
                table, statistic = scope, "eliminated"
            elif op.has_trait(Trait.READS_MEMORY) and self.cse_loads and "array" in op.attributes:
                table, statistic = loads.setdefault(op.attributes["array"].name, {}), "loads-eliminated"
            else:
                continue
            key = _key(op)
            earlier = table.get(key)
            if earlier is None:
                table[key] = op
                continue
            for old, new in zip(op.results, earlier.results):
                old.replace_all_uses_with(new)
            block.erase(op)
            ctx.count(statistic)


def _key(op: Op) -> tuple:
    operands = tuple(id(v) for v in op.operands)
    if op.has_trait(Trait.COMMUTATIVE):
        operands = tuple(sorted(operands))
    return (op.name, operands, tuple(r.type for r in op.results), op_key_attributes(op))
