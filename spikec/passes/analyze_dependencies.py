"""The `analyze-dependencies` pass: prints the `DependencyGraph` in the model IR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.ir.core import Module
from spikec.passes.dependencies import DependencyGraph
from spikec.passes.pass_base import ModulePass, PassContext

# The attributes each block's summary goes into; an event's condition (its thresholder) and its
# code (its resetter) are two blocks of one op.
_ATTRIBUTES = {"event_condition": ("condition_reads", "condition_writes")}
_DEFAULT_ATTRIBUTES = ("reads", "writes")


@dataclass(frozen=True)
class AnalyzeDependencies(ModulePass):
    """Compute which code block reads and writes which array at which index, and write each
    block's accesses on the op that holds it: `reads = ["G.v@post", "S.w@synapse"]`,
    `writes = ["G.v@post +="]` (an event op gets `condition_reads`/`condition_writes` for its
    condition and `reads`/`writes` for its code).

    Indices: `own` (the block's own element), `synapse`, `pre` (the synapse's source neuron),
    `post` (its target), `shared`. A compound assignment also reads the old value, so `v_post +=
    w` lists `G.v@post` among the reads too. Spike lists are arrays `G._spikespace`
    (`G._<event>space`): written by the event's condition (`emit`), read by its code, by the
    pathways it triggers and by monitors. The attributes are a snapshot: a pass that changes code
    later leaves them stale, so run this pass again to refresh them. Later passes query the
    analysis itself (`ctx.analysis(DependencyGraph, module)`), not the attributes; see
    `spikec/passes/dependencies.py` for the query API."""

    name: ClassVar[str] = "analyze-dependencies"
    summary: ClassVar[str] = "record which block reads and writes which array, at which index"
    statistics: ClassVar[dict[str, str]] = {
        "blocks": "code blocks analysed",
        "reads": "read accesses (array, index, block)",
        "writes": "write accesses",
        "races": "writes that two iterations of a block may make to one element",
    }

    def apply(self, ctx: PassContext, module: Module) -> None:
        graph = ctx.analysis(DependencyGraph, module)
        annotated: set[tuple[int, str]] = set()
        for block in graph.blocks():
            reads, writes = graph.summary(block)
            ctx.statistics["blocks"] += 1
            ctx.statistics["reads"] += len(reads)
            ctx.statistics["writes"] += len(writes)
            ctx.statistics["races"] += len(graph.races(block))
            op = graph.op_of(block)
            if op is None:
                continue
            read_key, write_key = _ATTRIBUTES.get(block.kind, _DEFAULT_ATTRIBUTES)
            for key, value in ((read_key, reads), (write_key, writes)):
                if (id(op), key) in annotated:  # two blocks, one op: keep both summaries
                    value = tuple(sorted(set(op.attributes[key]) | set(value)))
                annotated.add((id(op), key))
                if op.attributes.get(key) != value:
                    op.attributes[key] = value
                    ctx.mark_changed()
