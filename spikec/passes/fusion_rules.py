"""When two launches may run as one kernel: the rules `schedule` (which makes such launches adjacent)
and `fuse-kernels` (which merges adjacent ones) share, so that the one never moves a launch for a
fusion the other would refuse.

A kernel is summarised from its accesses as the kernel-level `DependencyGraph` records them
(`kernel_accesses`). Three rules, for launches on the same clock, the second right after the first:

* `elements`: both run over `elements(N)` (same N, same index type) and every array one writes and
  the other reads or writes is accessed, by both, only at the element's own index.
* `event-code`: the first runs over `elements(N)` and emits its own element into the spike list L
  once, L is empty when the first starts (its last writer before it is a clear on the same clock),
  and the second runs over `spikes(L)` (a reset, `run_on_event` code) and reads L only as its space.
  The second's body then runs inside the first, masked by the emit's condition: an element runs it
  exactly when it is in L, in L's order (increasing, as the first emits). As for `elements`, arrays
  both touch must be touched only at the own index (besides L), and the second may load only at
  its own or a shared index (its loads now run for every element, spiking or not).
* `same-space`: both run over the same space of another kind (two summed-variable reductions over
  one target's incoming synapses, two stamp kernels of one spike list) and neither writes anything
  the other reads or writes.

Why each keeps the interpreter's results: each element runs the first body then the second.
Arrays only one kernel touches see that kernel's accesses in their old order; an array both touch
is touched only at the element's own place, and the first kernel finished that place for this
element before the second's old launch began, as it has now; no element sees another's work.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable

from spikec.ir.core import Op
from spikec.ir.index_spaces import Elements, IndexSpace, Spikes
from spikec.ir.kernel import ClearSpikesOp, KernelOp
from spikec.ir.types import Type
from spikec.passes.kernel_dependencies import kernel_accesses

RULES = ("elements", "event-code", "same-space")


@dataclass(frozen=True)
class Fusible:
    """What fusion needs of a kernel, or of a run of kernels about to become one: its space and
    index type, the arrays it reads (its space's and its body's loads) and writes, those accessed
    other than at the own index, the spike lists it emits its own element into (once per emit),
    the arrays its body loads, stores or adds to, and those it loads at a computed index."""

    space: IndexSpace
    index_type: Type
    reads: frozenset[str]
    writes: frozenset[str]
    elsewhere: frozenset[str]
    emitted: tuple[str, ...]
    loaded: frozenset[str]
    stored: frozenset[str]
    indirect_loads: frozenset[str]

    @classmethod
    def of(cls, kernel: KernelOp) -> "Fusible":
        accesses = kernel_accesses(kernel)
        names = lambda keep: frozenset(str(a.array) for a in accesses if keep(a))  # noqa: E731
        return cls(kernel.space, kernel.index.type, names(lambda a: a.mode == "read"),
                   names(lambda a: a.mode == "write"), names(lambda a: a.index != "own"),
                   tuple(str(a.array) for a in accesses if a.index == "append"),
                   names(lambda a: a.mode == "read" and a.index != "space"),
                   names(lambda a: a.mode == "write" and a.operator != "emit"),
                   names(lambda a: a.mode == "read" and a.index == "indirect"))

    @property
    def used(self) -> frozenset[str]:
        return self.reads | self.writes

    def conflicts(self, other: "Fusible") -> frozenset[str]:
        """Arrays one writes and the other reads or writes."""
        return (self.writes & other.used) | (other.writes & self.reads)

    def then(self, later: "Fusible", rule: str) -> "Fusible":
        """The summary of this kernel fused with `later` by `rule` (conservative: the union)."""
        if rule == "event-code":  # the second no longer reads its spike list
            listed = frozenset(a.name for a in later.space.arrays())
            later = replace(later, reads=later.reads - listed, elsewhere=later.elsewhere - listed)
        return replace(self, reads=self.reads | later.reads, writes=self.writes | later.writes,
                       elsewhere=self.elsewhere | later.elsewhere,
                       emitted=self.emitted + later.emitted, loaded=self.loaded | later.loaded,
                       stored=self.stored | later.stored, indirect_loads=self.indirect_loads | later.indirect_loads)


@dataclass(frozen=True)
class Verdict:
    """A rule that allows fusing two launches (`rule`), or None and why not (`reason`)."""

    rule: str | None
    reason: str


def fusion_rule(first: Fusible, second: Fusible, cleared: Callable[[str], bool]) -> Verdict:
    """Which rule lets `second`'s launch, right after `first`'s on the same clock, join it;
    `cleared(L)` says whether spike list L is empty when `first` starts."""
    if first.index_type != second.index_type:
        return Verdict(None, "index types differ")
    if isinstance(first.space, Elements) and first.space == second.space:
        return _own_only(first, second, frozenset(), "elements")
    if isinstance(first.space, Elements) and isinstance(second.space, Spikes):
        return _event_code(first, second, second.space.spike_list.name, cleared)
    if first.space == second.space and not isinstance(first.space, Elements):
        shared = first.conflicts(second)
        if shared:
            return Verdict(None, f"both access {_names(shared)}, one writing")
        return Verdict("same-space", f"same space {first.space}, no shared array written")
    return Verdict(None, f"spaces {first.space} and {second.space} differ")


def _event_code(first: Fusible, second: Fusible, spike_list: str,
                cleared: Callable[[str], bool]) -> Verdict:
    if first.emitted.count(spike_list) != 1 or spike_list in first.reads | first.stored:
        return Verdict(None, f"the first does not just emit its own element into {spike_list} once")
    if spike_list in second.writes | second.loaded:
        return Verdict(None, f"the second uses {spike_list} in its body")
    if second.indirect_loads:
        return Verdict(None, f"the second loads {_names(second.indirect_loads)} at a computed index")
    if not cleared(spike_list):
        return Verdict(None, f"{spike_list} is not cleared before the first")
    second = replace(second, reads=second.reads - {spike_list},
                     elsewhere=second.elsewhere - {spike_list})
    return _own_only(first, second, frozenset({spike_list}), "event-code")


def _own_only(first: Fusible, second: Fusible, allowed: frozenset[str], rule: str) -> Verdict:
    outside = (first.conflicts(second) - allowed) & (first.elsewhere | second.elsewhere)
    if outside:
        return Verdict(None, f"{_names(outside)} accessed other than at the own element")
    return Verdict(rule, "arrays both access only at the own element")


def cleared_before(ops: list[Op], position: int, spike_list: str, clock: str,
                   writes: Callable[[Op], Iterable[str]]) -> bool:
    """Whether the last op before `ops[position]` writing `spike_list` is a clear of it on
    `clock` (so the list is empty when `ops[position]` starts)."""
    for op in reversed(ops[:position]):
        if spike_list in writes(op):
            return isinstance(op, ClearSpikesOp) and op.clock.name == clock
    return False


def _names(arrays: Iterable[str]) -> str:
    return ", ".join(sorted(arrays))
