"""Loop metadata for LLVM's loop vectoriser (`!llvm.loop`), which llvmlite cannot spell itself:
a loop ID must be a distinct node whose first operand is the node itself.

Used by the CPU's spike blocks (`KernelLowering.lower_spike_blocks`): their element loop is a
long dependency chain per element (Philox's ten rounds, then log and cos), which LLVM vectorises
but does not interleave; four vector iterations in flight (interleave count 4) keep the
multipliers busy where one waits on latency (measured: docs/performance.md, "Vectorised draws").
"""

from __future__ import annotations

from llvmlite import ir


class LoopID(ir.values.MDValue):
    """``!N = distinct !{!N, !{!"name", i32 value}...}``: compared and hashed by identity, since
    its operands contain itself."""

    def __init__(self, module: ir.Module, hints: dict[str, int]):
        nodes = [module.add_metadata([ir.MetaDataString(module, name), ir.Constant(ir.IntType(32), value)])
                 for name, value in hints.items()]
        super().__init__(module, nodes, name=str(len(module.metadata)))
        self.operands = (self, *nodes)

    def descr(self, buf: list[str]) -> None:
        buf += ("distinct !{{ {0} }}".format(", ".join(op.get_reference() for op in self.operands)), "\n")

    __eq__ = object.__eq__
    __ne__ = object.__ne__
    __hash__ = object.__hash__


def hint_loop(back_edge: ir.Instruction, hints: dict[str, int]) -> None:
    """Attach `hints` (``llvm.loop.interleave.count``: 2, ...) to the loop whose latch ends with
    `back_edge` (the branch to its header)."""
    back_edge.set_metadata("llvm.loop", LoopID(back_edge.module, hints))
