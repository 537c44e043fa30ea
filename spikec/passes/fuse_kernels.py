"""The `fuse-kernels` pass: merge launches of kernels over the same elements into one kernel."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Module, Op, Value
from spikec.ir.index_spaces import Elements
from spikec.ir.kernel import ClearSpikesOp, KernelOp, LaunchOp, ScheduleOp, kernels, schedule
from spikec.ir.kernel_ops import ArgOp, AtomicAddOp, EmitSpikeOp, LoadOp, StoreOp
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class FuseKernels(ModulePass):
    """Merge the launch of a kernel into an earlier launch of a kernel over the same elements.

    Two launches fuse when (1) both kernels run over `elements(N)` with the same N and the same
    index type, on the same clock; (2) every array one of them writes and the other reads or
    writes is accessed, in both, only at the element's own index (the body's argument used
    directly as the index; emit_spike counts as a write elsewhere, so a spike list one emits and
    the other uses forbids fusion); and (3) every op of the schedule between them commutes with
    the second launch (a launch: neither writes what the other reads or writes; a clear_spikes:
    the second kernel does not use the list), or is a clear_spikes of a list that neither the first
    kernel nor the ops before it use, which then moves to just before the first launch (the clear
    of `G._spikespace` between `G.stateupdate` and `G.spike_threshold`). The fused kernel takes
    the place of the first launch: arguments of both (an argument of the second with the same
    name, type and launch value as one of the first is shared, a clashing one renamed), the
    invariants of both, and the first body followed by the second, whose loads of places the first
    stored unmasked (own index, no later write) read the stored value instead (store-to-load
    forwarding). Chains fuse further, up to `max-kernels` kernels per launch.

    Why the interpreter's results cannot change: each element runs the first body and then the
    second; an array only one kernel touches sees that kernel's accesses in their order, and an
    array both touch is accessed only at the element's own index, so no element can see another
    element's work that it would not have seen before (the first launch finished before the second
    began); the operations moved over the second launch are independent of it. A kernel left with
    no launch is removed (the fused kernel is named `G.stateupdate+spike_threshold`).
    """

    name: ClassVar[str] = "fuse-kernels"
    summary: ClassVar[str] = "merge launches of kernels over the same elements into one kernel"
    statistics: ClassVar[dict[str, str]] = {
        "fused": "launches merged into an earlier launch",
        "forwarded": "loads replaced by the value the earlier kernel stored",
        "stores-removed": "stores of the earlier kernel that the later one overwrites unread",
        "clears-moved": "clear_spikes ops moved before a fused launch",
    }
    max_kernels: int = option(16, "at most this many kernels in one fused kernel (1: no fusion)")

    def apply(self, ctx: PassContext, module: Module) -> None:
        step = schedule(module)
        if step is None or self.max_kernels < 2:
            return
        launched_before = {op.kernel.name for op in step.step.ops if isinstance(op, LaunchOp)}
        sizes: dict[int, int] = {}  # id(launch) -> kernels fused into it
        position = 0
        while position < len(step.step.ops):
            head = step.step.ops[position]
            if isinstance(head, LaunchOp) and self._fuse_next(ctx, module, step, head, sizes):
                continue  # try the next one into the same (now fused) launch
            position += 1
        launched = {op.kernel.name for op in step.step.ops if isinstance(op, LaunchOp)}
        for kernel in list(kernels(module)):
            if kernel.kernel_name in launched_before - launched:
                module.body.erase(kernel)

    def _fuse_next(self, ctx: PassContext, module: Module, step: ScheduleOp, head: LaunchOp,
                   sizes: dict[int, int]) -> bool:
        """Fuse the first later launch that can be fused into `head`; whether one was."""
        first = module.lookup(head.kernel)
        if not _fusable_space(first) or sizes.get(id(head), 1) >= self.max_kernels:
            return False
        first_effects = Effects.of(first)
        ops = step.step.ops
        start = ops.index(head) + 1
        for q in range(start, len(ops)):
            candidate = ops[q]
            if not isinstance(candidate, LaunchOp) or candidate.clock != head.clock:
                continue
            second = module.lookup(candidate.kernel)
            if not _fusable_space(second) or second.space != first.space \
                    or second.index.type != first.index.type:
                continue
            second_effects = Effects.of(second)
            if not first_effects.may_fuse_with(second_effects):
                continue
            moved = _clears_to_move(module, ops[start:q], first_effects, second_effects)
            if moved is None:
                continue
            fused, args = _fuse(module, first, head.args, second, candidate.args, ctx)
            module.body.insert_before(first, fused)
            head.attributes["kernel"] = SymbolRef(fused.kernel_name)
            head.attributes["args"] = args
            step.step.erase(candidate)
            for clear in moved:
                step.step.remove(clear)
                step.step.insert_before(head, clear)
                ctx.count("clears-moved")
            sizes[id(head)] = sizes.get(id(head), 1) + sizes.pop(id(candidate), 1)
            if not _still_launched(step, first.kernel_name):
                module.body.erase(first)
            ctx.count("fused")
            return True
        return False


# -- what a kernel touches ----------------------------------------------------------------------------
@dataclass
class Effects:
    """The arrays a kernel reads (loads, its space) and writes (stores, atomic adds, emitted spike
    lists), and those it accesses anywhere other than the element's own index."""

    reads: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    elsewhere: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, kernel: KernelOp) -> "Effects":
        effects = cls(reads={a.name for a in kernel.space.arrays()})
        effects.elsewhere |= effects.reads
        for op in kernel.body.ops:
            if isinstance(op, EmitSpikeOp):
                effects.writes.add(op.spike_list.name)
                effects.elsewhere.add(op.spike_list.name)
            elif isinstance(op, (LoadOp, StoreOp, AtomicAddOp)):
                name = op.array.name
                (effects.reads if isinstance(op, LoadOp) else effects.writes).add(name)
                if op.index is not kernel.index:
                    effects.elsewhere.add(name)
        return effects

    @property
    def used(self) -> set[str]:
        return self.reads | self.writes

    def conflicts(self, other: "Effects") -> set[str]:
        """Arrays one writes and the other reads or writes."""
        return (self.writes & other.used) | (other.writes & self.reads)

    def may_fuse_with(self, later: "Effects") -> bool:
        return not (self.conflicts(later) & (self.elsewhere | later.elsewhere))


def _fusable_space(kernel: Op | None) -> bool:
    return isinstance(kernel, KernelOp) and isinstance(kernel.space, Elements)


def _effects_of_op(op: Op, module_kernels: dict[str, KernelOp]) -> Effects:
    if isinstance(op, ClearSpikesOp):
        return Effects(writes={op.spike_list.name}, elsewhere={op.spike_list.name})
    return Effects.of(module_kernels[op.kernel.name])  # type: ignore[attr-defined]


def _clears_to_move(module: Module, between: list[Op], first: Effects,
                    second: Effects) -> list[ClearSpikesOp] | None:
    """The clears among `between` that must move before the first launch so that the second
    launch can move up to it; None when some op between cannot be passed."""
    module_kernels = {k.kernel_name: k for k in kernels(module)}
    moved: list[ClearSpikesOp] = []
    passed = Effects(reads=set(first.used))  # what the clears moved up must not touch
    for op in between:
        effects = _effects_of_op(op, module_kernels)
        if not effects.conflicts(second):
            passed.reads |= effects.used
            continue
        if isinstance(op, ClearSpikesOp) and op.spike_list.name not in passed.reads:
            moved.append(op)
            continue
        return None
    return moved


def _still_launched(step: ScheduleOp, kernel: str) -> bool:
    return any(isinstance(op, LaunchOp) and op.kernel.name == kernel for op in step.step.ops)


# -- building the fused kernel ------------------------------------------------------------------------
def _fuse(module: Module, first: KernelOp, first_args: dict, second: KernelOp, second_args: dict,
          ctx: PassContext) -> tuple[KernelOp, dict]:
    """The fused kernel and its launch arguments."""
    fused = KernelOp(_fused_name(module, first.kernel_name, second.kernel_name), first.space,
                     first.index.type, first.index.name_hint or "i")
    values: dict[Value, Value] = {first.index: fused.index}
    for op in first.invariants.ops:
        fused.invariants.append(op.clone(values))
    args = dict(first_args)
    names = {op.arg_name: op for op in fused.arguments()}
    for op in second.invariants.ops:
        if isinstance(op, ArgOp):
            shared = names.get(op.arg_name)
            value = second_args[op.arg_name]
            if shared is not None and shared.result.type == op.result.type \
                    and _same_value(args[op.arg_name], value):
                values[op.result] = shared.result
                continue
            copy = op.clone(values)
            if shared is not None:
                copy.attributes["name"] = _fresh_name(op.arg_name, names)
            names[copy.arg_name] = copy
            args[copy.arg_name] = value
            fused.invariants.append(copy)
        else:
            fused.invariants.append(op.clone(values))
    for op in first.body.ops:
        fused.body.append(op.clone(values))
    stored = _stored_values(fused)
    # first's last stores that no later op of first reads, until the second reads the place
    overwritten = {name: store for name, store in stored.items() if not _read_after(fused, store)}
    values[second.index] = fused.index
    for op in second.body.ops:
        copy = op.clone(values)
        if isinstance(copy, LoadOp) and copy.index is fused.index and copy.array.name in stored:
            values[op.result] = stored[copy.array.name].value
            copy.drop_operand_uses()
            ctx.count("forwarded")
            continue
        name = copy.spike_list.name if isinstance(copy, EmitSpikeOp) else copy.attributes.get("array")
        name = getattr(name, "name", name)
        if isinstance(copy, StoreOp) and copy.index is fused.index and copy.mask is None \
                and name in overwritten:
            fused.body.erase(overwritten.pop(name))  # no element can read it any more
            ctx.count("stores-removed")
        elif isinstance(copy, (LoadOp, AtomicAddOp, EmitSpikeOp)):
            overwritten.pop(name, None)
        if isinstance(copy, (StoreOp, AtomicAddOp, EmitSpikeOp)):
            stored.pop(name, None)
        fused.body.append(copy)
    return fused, args


def _read_after(kernel: KernelOp, store: StoreOp) -> bool:
    later = kernel.body.ops[kernel.body.index_of(store) + 1:]
    return any(isinstance(op, LoadOp) and op.array == store.array for op in later)


def _stored_values(kernel: KernelOp) -> dict[str, StoreOp]:
    """Per array, the body's last store when it is unmasked at the element's own index and no
    other write to the array follows it."""
    stored: dict[str, StoreOp] = {}
    for op in kernel.body.ops:
        if isinstance(op, StoreOp) and op.index is kernel.index and op.mask is None:
            stored[op.array.name] = op
        elif isinstance(op, (StoreOp, AtomicAddOp)):
            stored.pop(op.array.name, None)
        elif isinstance(op, EmitSpikeOp):
            stored.pop(op.spike_list.name, None)
    return stored


def _same_value(a: object, b: object) -> bool:
    if type(a) is not type(b) or a != b:
        return False
    return not isinstance(a, float) or math.copysign(1.0, a) == math.copysign(1.0, b)


def _fresh_name(name: str, taken: dict) -> str:
    k = 2
    while f"{name}_{k}" in taken:
        k += 1
    return f"{name}_{k}"


def _fused_name(module: Module, first: str, second: str) -> str:
    group, _, rest = second.partition(".")
    suffix = rest if rest and first.split(".", 1)[0] == group else second
    name, k = f"{first}+{suffix}", 2
    symbols = module.symbols()
    while name in symbols:
        name, k = f"{first}+{suffix}_{k}", k + 1
    return name
