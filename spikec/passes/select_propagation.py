"""The `select-propagation` pass: how each synaptic pathway delivers its effects."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from spikec.errors import PassError
from spikec.ir.core import Module
from spikec.ir.model import PathwayOp, SynapsesOp
from spikec.passes.dependencies import Access, DependencyGraph, expression_names
from spikec.passes.pass_base import ModulePass, PassContext, option

STRATEGIES = ("push-atomic", "pull-ordered", "dendritic-ring", "spike-queue", "spike-history")
Strategy = Literal["push-atomic", "pull-ordered", "dendritic-ring", "spike-queue", "spike-history"]
# Correct whatever the effects: both keep Brian's synapse order where it matters.
ALWAYS_CORRECT = ("pull-ordered", "spike-queue")


@dataclass
class PathwayEffects:
    """What a pathway's code does, as far as the choice of strategy is concerned.

    `order_dependent`: why its effects on neuron (or shared) variables depend on the order of
    the synapses (None: they are pure accumulations, or there are none). `accumulations`: the
    statements adding into such variables; `synaptic`: statements writing synaptic variables
    only; `delivery_dependent`: why an accumulated value must be computed when the event arrives
    rather than when it is sent (it reads something that changes meanwhile)."""

    heterogeneous_delays: bool
    order_dependent: str | None = None
    accumulations: list[str] = field(default_factory=list)
    synaptic: list[str] = field(default_factory=list)
    delivery_dependent: str | None = None

    def automatic(self) -> tuple[str, str]:
        """The strategy this pass picks, and why."""
        if self.heterogeneous_delays:
            delays = "heterogeneous delays (one per synapse)"
            if self.order_dependent:
                return "spike-queue", f"{delays}; {self.order_dependent}"
            independent = "; effects independent of the synapses' order: due synapses only"
            if self.synaptic:
                return "spike-history", (f"{delays}; writes synaptic variables "
                                         f"({_quote(self.synaptic)}) when the event arrives"
                                         f"{independent}")
            if self.delivery_dependent:
                return "spike-history", f"{delays}; {self.delivery_dependent}{independent}"
            if self.accumulations:
                return "dendritic-ring", (f"{delays}; pure accumulations ({_quote(self.accumulations)})"
                                          " whose values are known when the event is sent")
        if self.order_dependent:
            return "pull-ordered", self.order_dependent
        if self.accumulations:
            return "push-atomic", (f"pure accumulations ({_quote(self.accumulations)}) commute: "
                                   "atomic adds")
        if self.synaptic:
            return "push-atomic", (f"writes only synaptic variables ({_quote(self.synaptic)}): "
                                   "one writer per synapse")
        return "push-atomic", "no effect on any variable"

    def why_not(self, strategy: str) -> str | None:
        """Why `strategy` would give wrong results for this pathway (None: it is correct)."""
        if strategy in ALWAYS_CORRECT:
            return None
        if self.order_dependent:
            return self.order_dependent
        if strategy == "dendritic-ring":
            if self.synaptic:
                return (f"it writes synaptic variables ({_quote(self.synaptic)}), which a ring of "
                        "summed values cannot do")
            return self.delivery_dependent
        return None


def analyse_pathway(deps: DependencyGraph, pathway: PathwayOp) -> PathwayEffects:
    """The effects of `pathway`'s code, from the dependency graph's record of its accesses."""
    block = deps.block_of(pathway)
    effects = PathwayEffects(heterogeneous_delays="delay" not in pathway.attributes)
    racing = {(a.array, a.index) for a in deps.races(block)}
    for position, statement in enumerate(pathway.attributes["code"]):
        text = str(statement)
        accesses = [a for a in deps.accesses(block=block) if a.statement == position]
        writes = [a for a in accesses if a.mode == "write"]
        shared_writes = [a for a in writes if (a.array, a.index) in racing]
        for write in shared_writes:
            if write.operator not in ("+=", "-="):
                what = "assigns" if write.operator == "=" else f"updates with {write.operator}"
                _first(effects, f"`{text}` {what} {_describe(write)}, so the result depends "
                                "on the order of the synapses")
        for read in accesses:
            if read.mode == "read" and not read.implicit and (read.array, read.index) in racing:
                _first(effects, f"`{text}` reads {_describe(read)}, which this pathway writes, "
                                "so it sees the effects of earlier synapses")
        if shared_writes:
            effects.accumulations.append(text)
            if effects.delivery_dependent is None:
                effects.delivery_dependent = _delivery_dependence(
                    deps, text, [a for a in accesses if a.mode == "read"],
                    expression_names(statement.expr))
        elif writes:
            effects.synaptic.append(text)
    return effects


def _delivery_dependence(deps: DependencyGraph, text: str, reads: list[Access],
                         names: list[str]) -> str | None:
    """Why an accumulated value cannot be computed when the event is sent: the statement reads
    `t`, or an array that some block (other than connect) writes while the event travels."""
    if "t" in names:
        return f"`{text}` reads t, which has changed when the event arrives"
    for read in reads:
        writers = [w.describe() for w in deps.writers(read.array) if w.kind != "connect"]
        if writers and not read.implicit:
            return (f"`{text}` reads {read.array}, which {writers[0]} writes, so its value is "
                    "needed when the event arrives")
    return None


def _first(effects: PathwayEffects, reason: str) -> None:
    if effects.order_dependent is None:
        effects.order_dependent = reason


def _describe(access: Access) -> str:
    side = {"pre": "presynaptic", "post": "postsynaptic", "shared": "shared"}.get(access.index,
                                                                                  access.index)
    return f"the {side} variable {access.array}"


def _quote(statements: list[str]) -> str:
    return "; ".join(f"`{s}`" for s in statements)


@dataclass(frozen=True)
class SelectPropagation(ModulePass):
    """Choose, per synaptic pathway, how its events reach their targets, and write the choice
    on the `model.pathway` op: `strategy = "push-atomic"`, `reason = "..."`.

    Brian's contract is that the effects of one step behave as if the synapses were processed
    one by one in order of their index. Effects on synaptic variables have one writer per
    synapse and never conflict; effects on neuron variables (`x_post`, or `x_pre`, e.g. in an
    on_post pathway) and shared variables do, when several synapses of one step meet there:

    * `push-atomic`: every write to a neuron variable is `x += expr` / `x -= expr` and no
      statement reads a neuron variable the pathway writes: additions commute, so a thread per
      (spiking source, synapse) may add atomically. Also chosen when only synaptic variables
      are written.
    * `pull-ordered`: any other effect on a neuron variable (`=`, `*=`, `x_post = x_post*0.5 + w`,
      reading `x_post` after adding to it): a thread per written neuron walks its synapses in
      synapse order. Correct for every effect, and bitwise deterministic.
    * `dendritic-ring` (per-synapse delays, no scalar `delay`): pure accumulations whose values
      are known when the event is sent (they read nothing that a block writes meanwhile, nor
      `t`) are added into a per-target ring buffer slot for step t + d.
    * `spike-history` (per-synapse delays, effects that do not depend on the synapses' order,
      e.g. plasticity with pure accumulations): keep the last R steps' spike lists and run the
      code for the synapses due now only, accumulations as atomic adds.
    * `spike-queue` (per-synapse delays, any other effects): every synapse checks whether its
      event is due, each target walking its synapses in Brian's delivery order. Correct for
      every effect.

    Overrides: `Synapses(..., propagation="...")` (the pathway's `propagation` attribute) and
    the option `select-propagation{force=pull-ordered}`, which wins over both. An override that
    would be wrong (push-atomic, dendritic-ring or spike-history on order-dependent effects,
    dendritic-ring on plasticity or on values read at arrival) is an error naming the pathway
    and the statement;
    pull-ordered and spike-queue are always accepted. See docs/propagation.md."""

    name: ClassVar[str] = "select-propagation"
    summary: ClassVar[str] = "choose how each synaptic pathway delivers its effects"
    statistics: ClassVar[dict[str, str]] = {s: f"pathways delivered by {s}" for s in STRATEGIES}
    force: Strategy | None = option(None, "use this strategy for every pathway (checked)")

    def apply(self, ctx: PassContext, module: Module) -> None:
        deps = ctx.analysis(DependencyGraph, module)
        for synapses in module.ops:
            if not isinstance(synapses, SynapsesOp):
                continue
            for pathway in synapses.members(PathwayOp):
                strategy, reason = self._choose(deps, synapses, pathway)
                ctx.statistics[strategy] += 1
                for key, value in (("strategy", strategy), ("reason", reason)):
                    if pathway.attributes.get(key) != value:
                        pathway.attributes[key] = value
                        ctx.mark_changed()

    def _choose(self, deps: DependencyGraph, synapses: SynapsesOp,
                pathway: PathwayOp) -> tuple[str, str]:
        effects = analyse_pathway(deps, pathway)
        automatic, reason = effects.automatic()
        name = f"@{synapses.sym_name}.{pathway.sym_name}"
        requested = pathway.attributes.get("propagation")
        if self.force is not None:
            wanted, source = self.force, f"select-propagation{{force={self.force}}}"
        elif requested is not None:
            wanted, source = requested, f"propagation='{requested}' of @{synapses.sym_name}"
        else:
            return automatic, reason
        if wanted not in STRATEGIES:
            raise PassError(f"{name}: unknown propagation strategy {wanted!r}", pathway.location,
                            hint=f"choose one of {', '.join(STRATEGIES)}")
        problem = effects.why_not(wanted)
        if problem is not None:
            raise PassError(f"{name}: {source} is wrong for this pathway: {problem}",
                            pathway.location,
                            hint=f"'pull-ordered' is correct for every effect (automatic choice: "
                                 f"'{automatic}')")
        if wanted == automatic:
            return wanted, f"{source}; {reason}"
        return wanted, f"{source} (automatic: {automatic}, because {reason})"


__all__ = ["STRATEGIES", "PathwayEffects", "SelectPropagation", "analyse_pathway"]
