"""The `drop-unread-lists` pass: spike lists no one reads are not filled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterator

from spikec.ir.attributes import CallAttr, SymbolRef
from spikec.ir.core import Module, Op
from spikec.ir.kernel import ClearSpikesOp, KernelOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import EmitSpikeOp
from spikec.passes.pass_base import ModulePass, PassContext


@dataclass(frozen=True)
class DropUnreadLists(ModulePass):
    """Remove the spike lists that nothing reads: their `kernel.emit_spike`s, their
    `kernel.clear_spikes` and their array.

    Why: `lower-to-kernels` gives every thresholded group a spike list for whatever consumes its
    spikes (pathways, monitors, resets over `spikes(@L)`); after `fuse-kernels` a reset fused into
    its threshold reads the spike flag, not the list, so a group without pathways or spike
    monitors fills a list that no kernel reads. Filling it costs a compaction per step (on the GPU
    a pass over the flags, a prefix sum and a barrier: ~1.6 us of the ~5 us step of 1000
    uncoupled HH neurons; docs/performance.md, "Clusters"). A list is read when any op other
    than its emits, its clears and its declaration names it: a kernel's index space
    (`spikes(@L)`, `outgoing(@L, ...)`), a load, a launch argument. The array goes too, so that
    reading it from an executable fails by name instead of returning an empty list.
    """

    name: ClassVar[str] = "drop-unread-lists"
    summary: ClassVar[str] = "remove spike lists no kernel reads (their emits, clears and array)"
    statistics: ClassVar[dict[str, str]] = {
        "lists-dropped": "spike lists removed",
        "emits-removed": "kernel.emit_spike ops removed",
    }

    def apply(self, ctx: PassContext, module: Module) -> None:
        emits: dict[str, list[EmitSpikeOp]] = {}
        clears: dict[str, list[ClearSpikesOp]] = {}
        named: set[str] = set()
        for op in module.walk():
            if isinstance(op, EmitSpikeOp):
                emits.setdefault(op.spike_list.name, []).append(op)
            elif isinstance(op, ClearSpikesOp):
                clears.setdefault(op.spike_list.name, []).append(op)
            elif not isinstance(op, ArrayOp):
                named.update(ref.name for ref in _symbol_refs(op))
        declarations = {op.array_name: op for op in module.ops if isinstance(op, ArrayOp)}
        for spike_list, ops in emits.items():
            if spike_list in named or spike_list not in declarations:
                continue
            for op in ops + clears.get(spike_list, []):
                op.parent.erase(op)
            ctx.count("emits-removed", len(ops))
            module.body.erase(declarations[spike_list])
            ctx.count("lists-dropped")


def _symbol_refs(op: Op) -> Iterator[SymbolRef]:
    """Every symbol an op's attributes name, nested in calls, lists and dicts included, and the
    arrays of a kernel's index space."""
    if isinstance(op, KernelOp):
        yield from op.space.arrays()
    pending = list(op.attributes.values())
    while pending:
        value = pending.pop()
        if isinstance(value, SymbolRef):
            yield value
        elif isinstance(value, CallAttr):
            pending.extend(value.args)
        elif isinstance(value, tuple):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
