"""The `schedule` pass: reorder the step, within its dependencies, so that fusable launches meet."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import ClassVar

from spikec.ir.core import Module, Op
from spikec.ir.kernel import KernelOp, LaunchOp, schedule
from spikec.passes.dependencies import BlockNode, DependencyGraph
from spikec.passes.fusion_rules import Fusible, cleared_before, fusion_rule
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class Schedule(ModulePass):
    """Move launches next to an earlier launch they can fuse with, keeping every dependency.

    `lower-to-kernels` emits Brian's order (slots `groups, thresholds, synapses, resets, ...`).
    Two schedule ops depend on each other when one writes an array the other reads or writes
    (`DependencyGraph.conflicts` on the kernel-level graph, `kernel_dependencies.py`: kernels by
    their loads, stores, atomic adds, emitted spikes and index spaces; clears by the list they
    empty); such ops keep their order, any other pair may be swapped (ops of other clocks
    included: when both run they commute, when one is skipped order is moot).

    Walking the step, each launch H gathers a run of launches it can fuse with
    (`fusion_rules.fusion_rule`, the rules `fuse-kernels` applies). For a later launch C on H's
    clock that the rules accept, the ops between the run and C split in two: U, those C depends
    on, directly or through a later op of U, and the rest R. When nothing in U depends on the run,
    the step becomes `U, run, C, R`: each op of U moves up past the run (independent of it), C
    moves up past R (independent of C, or it would be in U), and ops within U and within R keep
    their order; every pair that changed order is independent, so every array sees the same
    accesses in the same order. Otherwise C stays (statistic `kept`). Typical moves: the clear of
    a spike list up before the group's state update (so that the threshold meets the update), a
    group's reset up past the synapse kernels that read nothing it writes (so that it meets the
    threshold); a reset whose group's `v` a synapse kernel writes stays after it.

    Option `explain` prints each move and each refusal with its reason to stderr."""

    name: ClassVar[str] = "schedule"
    summary: ClassVar[str] = "reorder the step, within its dependencies, so that fusable launches meet"
    statistics: ClassVar[dict[str, str]] = {
        "moved": "schedule ops moved (a launch up to its partner, ops it depends on up before it)",
        "adjacent": "launches next to an earlier launch they can fuse with, after the pass",
        "kept": "launches a fusion rule accepts but a dependency keeps apart",
    }
    explain: bool = option(False, "print why each op moved or stayed (stderr)")

    def apply(self, ctx: PassContext, module: Module) -> None:
        step = schedule(module)
        if step is None:
            return
        order = _Reordering(module, ctx.analysis(DependencyGraph, module), ctx, self.explain)
        ops = order.run(list(step.step.ops))
        if ops != step.step.ops:
            for op in ops:
                step.step.remove(op)
                step.step.append(op)


@dataclass
class _Reordering:
    module: Module
    graph: DependencyGraph
    ctx: PassContext
    explain: bool
    _accesses: dict[BlockNode, tuple[frozenset, frozenset]] = field(default_factory=dict)
    _fusible: dict[str, Fusible] = field(default_factory=dict)

    def run(self, ops: list[Op]) -> list[Op]:
        position = 0
        while position < len(ops):
            if isinstance(ops[position], LaunchOp):
                ops, position = self._gather(ops, position)
            position += 1
        return ops

    def _gather(self, ops: list[Op], start: int) -> tuple[list[Op], int]:
        """Bring launches that can fuse with the one at `start` next to it; the new list and the
        position of the run's last launch."""
        head = ops[start]
        run, summary, end = [head], self._summary(head), start
        refused: set[int] = set()
        position = end + 1
        while position < len(ops):
            candidate = ops[position]
            if not isinstance(candidate, LaunchOp) or candidate.clock != head.clock \
                    or id(candidate) in refused:
                position += 1
                continue
            verdict = fusion_rule(summary, self._summary(candidate), lambda spikes: cleared_before(
                ops, start, spikes, head.clock.name, self._writes))
            if verdict.rule is None:
                position += 1
                continue
            between = ops[end + 1:position]
            needed = self._needed(between, candidate)
            blocker = next(((x, m) for x in needed for m in run if self._conflict(x, m)), None)
            if blocker is not None:
                refused.add(id(candidate))
                self.ctx.statistics["kept"] += 1
                self._say(f"kept {_name(candidate)} apart from {_name(run[-1])}: it must follow "
                          f"{_name(needed[-1])} ({self._shared(needed[-1], candidate)}), and "
                          f"{_name(blocker[0])} must follow {_name(blocker[1])} "
                          f"({self._shared(*blocker)})")
                position += 1
                continue
            rest = [x for x in between if not any(x is n for n in needed)]
            ops = ops[:start] + needed + run + [candidate] + rest + ops[position + 1:]
            if between:
                self.ctx.count("moved", (1 if rest else 0) + len(needed))
                self._say(f"{_name(candidate)} joins {_name(run[-1])} ({verdict.rule}: "
                          f"{verdict.reason})"
                          + (f", moved up past {', '.join(map(_name, rest))}" if rest else "")
                          + (f"; {', '.join(map(_name, needed))} moved up before {_name(head)}"
                             if needed else ""))
            self.ctx.statistics["adjacent"] += 1
            start += len(needed)
            run.append(candidate)
            summary = summary.then(self._summary(candidate), verdict.rule)
            end = start + len(run) - 1
            position = end + 1
        return ops, end

    def _needed(self, between: list[Op], candidate: Op) -> list[Op]:
        """The ops of `between` that `candidate` depends on, directly or through a later one."""
        needed: list[Op] = []
        for op in reversed(between):
            if self._conflict(op, candidate) or any(self._conflict(op, n) for n in needed):
                needed.insert(0, op)
        return needed

    # -- the dependency graph, per schedule op ---------------------------------------------------
    def _sets(self, op: Op) -> tuple[frozenset, frozenset]:
        block = self.graph.block_of(op)
        if block not in self._accesses:
            self._accesses[block] = (frozenset(a.array for a in self.graph.reads(block)),
                                     frozenset(a.array for a in self.graph.writes(block)))
        return self._accesses[block]

    def _conflict(self, a: Op, b: Op) -> bool:
        (a_reads, a_writes), (b_reads, b_writes) = self._sets(a), self._sets(b)
        return bool(a_writes & (b_reads | b_writes) or b_writes & a_reads)

    def _shared(self, a: Op, b: Op) -> str:
        return ", ".join(str(x) for x in self.graph.conflicts(self.graph.block_of(a),
                                                              self.graph.block_of(b)))

    def _writes(self, op: Op) -> set[str]:
        return {str(array) for array in self._sets(op)[1]}

    def _summary(self, launch: LaunchOp) -> Fusible:
        name = launch.kernel.name
        if name not in self._fusible:
            kernel = self.module.lookup(name)
            assert isinstance(kernel, KernelOp)
            self._fusible[name] = Fusible.of(kernel)
        return self._fusible[name]

    def _say(self, message: str) -> None:
        if self.explain:
            print(f"schedule: {message}", file=sys.stderr)


def _name(op: Op) -> str:
    if isinstance(op, LaunchOp):
        return f"@{op.kernel.name}"
    return f"the clear of @{op.spike_list.name}"  # type: ignore[attr-defined]
