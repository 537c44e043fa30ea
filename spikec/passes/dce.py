"""The `dce` pass: dead code elimination."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.ir.core import Block, Module, Op, Trait
from spikec.ir.kernel import KernelOp, LaunchOp, kernels, schedule
from spikec.ir.kernel_ops import ArgOp
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class DeadCodeElimination(ModulePass):
    """Remove ops whose results are unused and that have no side effect.

    Pure ops and loads are removed when nothing uses their results (a chain of dead ops goes at
    once: blocks are scanned from the end, inner regions before the ops that feed them). Stores,
    atomic_adds and emit_spikes are side effects and always stay, as do ops with regions. A
    kernel's unused arguments (`kernel.arg`) are removed with `prune-arguments`, and dropped from
    every launch of the kernel at the same time, so launches and kernels stay consistent.
    """

    name: ClassVar[str] = "dce"
    summary: ClassVar[str] = "remove unused side-effect-free ops"
    statistics: ClassVar[dict[str, str]] = {
        "removed": "dead ops removed",
        "arguments-removed": "unused kernel arguments removed (and dropped from launches)",
    }
    prune_arguments: bool = option(True, "also remove unused kernel arguments and their launch values")

    def apply(self, ctx: PassContext, module: Module) -> None:
        for op in reversed(module.ops):
            for region in reversed(op.regions):
                self._block(ctx, region.block)
        if self.prune_arguments:
            for kernel in kernels(module):
                self._prune_arguments(ctx, module, kernel)

    def _block(self, ctx: PassContext, block: Block) -> None:
        for op in reversed(list(block.ops)):
            for region in reversed(op.regions):
                self._block(ctx, region.block)
            if _removable(op):
                block.erase(op)
                ctx.count("removed")

    def _prune_arguments(self, ctx: PassContext, module: Module, kernel: KernelOp) -> None:
        unused = [arg for arg in kernel.arguments() if not arg.result.has_uses()]
        if not unused:
            return
        names = {arg.arg_name for arg in unused}
        for arg in unused:
            kernel.invariants.erase(arg)
            ctx.count("arguments-removed")
        found = schedule(module)
        for launch in found.step.ops if found is not None else ():
            if isinstance(launch, LaunchOp) and launch.kernel.name == kernel.kernel_name:
                launch.attributes["args"] = {k: v for k, v in launch.args.items() if k not in names}


def _removable(op: Op) -> bool:
    if op.regions or isinstance(op, ArgOp) or any(r.has_uses() for r in op.results):
        return False
    return op.has_trait(Trait.PURE) or op.has_trait(Trait.READS_MEMORY)
