"""The `fuse-kernels` pass: merge launches of kernels over the same elements into one kernel."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Module, Op, Value
from spikec.ir.kernel import ClearSpikesOp, KernelOp, LaunchOp, ScheduleOp, kernels, schedule
from spikec.ir.kernel_ops import AndOp, ArgOp, AtomicAddOp, EmitSpikeOp, LoadOp, StoreOp
from spikec.passes.fusion_rules import Fusible, cleared_before, fusion_rule
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class FuseKernels(ModulePass):
    """Merge each launch into the launch right before it when a fusion rule allows it.

    The rules (`spikec/passes/fusion_rules.py`, shared with `schedule`, which makes fusable
    launches adjacent): `elements` (two kernels over the same `elements(N)` touching shared arrays
    only at the element's own index: a group's state update and threshold), `event-code` (a kernel
    over `spikes(L)` after the `elements` kernel that emits into L, L cleared before it: a group's
    reset runs inside its threshold kernel, masked by the threshold's decision) and `same-space`
    (two kernels over the same other space sharing no written array: summed-variable reductions
    over one target's synapses, stamp kernels of one spike list). Both launches must be on the
    same clock. The fused kernel takes the first launch's place and its space: arguments of both
    (one of the second with the same name, type and launch value as one of the first is shared, a
    clashing one renamed), the invariants of both, the first body, then the second's, whose loads
    of places the first stored unmasked (own index, no later write) read the stored value instead
    (store-to-load forwarding), and whose stores make a store of the first they overwrite unread
    unnecessary. For `event-code` the second's body index becomes the element, and every store,
    atomic add and emitted spike of it is masked by the condition under which the first emits the
    element into L (`and`-ed with its own mask). Chains fuse further, up to `max-kernels`.

    Why the interpreter's results cannot change: each element runs the first body and then the
    second; an array only one kernel touches sees that kernel's accesses in their order, and an
    array both touch is accessed only at the element's own index, so no element can see another
    element's work that it would not have seen before (the first launch finished before the second
    began). For `event-code` the second ran for the entries of L, which was empty before the first
    and got exactly the elements whose emit condition held, in increasing order: the masked body
    runs for the same elements in the same order, after their own threshold, and its loads (at own
    or shared indices only) read places every element may read. A kernel left with no launch is
    removed (the fused kernel is named `G.stateupdate+spike_threshold+spike_reset`).
    """

    name: ClassVar[str] = "fuse-kernels"
    summary: ClassVar[str] = "merge adjacent launches of kernels over the same elements into one kernel"
    statistics: ClassVar[dict[str, str]] = {
        "fused": "launches merged into the launch before them",
        "event-code": "of these, kernels over a spike list run masked inside the kernel emitting it",
        "forwarded": "loads replaced by the value the earlier kernel stored",
        "stores-removed": "stores of the earlier kernel that the later one overwrites unread",
    }
    max_kernels: int = option(16, "at most this many kernels in one fused kernel (1: no fusion)")

    def apply(self, ctx: PassContext, module: Module) -> None:
        step = schedule(module)
        if step is None or self.max_kernels < 2:
            return
        launched_before = {op.kernel.name for op in step.step.ops if isinstance(op, LaunchOp)}
        summaries = _Summaries(module)
        position = 0
        while position < len(step.step.ops):
            head = step.step.ops[position]
            size = 1
            while isinstance(head, LaunchOp) and size < self.max_kernels \
                    and self._fuse_next(ctx, module, step, position, summaries):
                size += 1
            position += 1
        launched = {op.kernel.name for op in step.step.ops if isinstance(op, LaunchOp)}
        for kernel in list(kernels(module)):
            if kernel.kernel_name in launched_before - launched:
                module.body.erase(kernel)

    def _fuse_next(self, ctx: PassContext, module: Module, step: ScheduleOp, position: int,
                   summaries: "_Summaries") -> bool:
        """Fuse the op after `step`'s op at `position` into it when a rule allows; whether it did."""
        ops = step.step.ops
        head = ops[position]
        if position + 1 >= len(ops) or not isinstance(ops[position + 1], LaunchOp):
            return False
        candidate = ops[position + 1]
        if candidate.clock != head.clock:
            return False
        first, second = module.lookup(head.kernel), module.lookup(candidate.kernel)
        verdict = fusion_rule(summaries.of(first), summaries.of(second), lambda spikes: cleared_before(
            ops, position, spikes, head.clock.name, summaries.writes))
        if verdict.rule is None:
            return False
        fused, args = _fuse(module, first, head.args, second, candidate.args, verdict.rule, ctx)
        module.body.insert_before(first, fused)
        head.attributes["kernel"] = SymbolRef(fused.kernel_name)
        head.attributes["args"] = args
        step.step.erase(candidate)
        if not _still_launched(step, first.kernel_name):
            module.body.erase(first)
        ctx.count("fused")
        if verdict.rule == "event-code":
            ctx.count("event-code")
        return True


class _Summaries:
    """`Fusible` summaries of the module's kernels, by name (fused kernels are new names)."""

    def __init__(self, module: Module):
        self.module = module
        self._by_name: dict[str, Fusible] = {}

    def of(self, kernel: Op | None) -> Fusible:
        assert isinstance(kernel, KernelOp)
        if kernel.kernel_name not in self._by_name:
            self._by_name[kernel.kernel_name] = Fusible.of(kernel)
        return self._by_name[kernel.kernel_name]

    def writes(self, op: Op) -> frozenset[str]:
        if isinstance(op, ClearSpikesOp):
            return frozenset({op.spike_list.name})
        return self.of(self.module.lookup(op.kernel)).writes  # type: ignore[attr-defined]


def _still_launched(step: ScheduleOp, kernel: str) -> bool:
    return any(isinstance(op, LaunchOp) and op.kernel.name == kernel for op in step.step.ops)


# -- building the fused kernel ------------------------------------------------------------------------
def _fuse(module: Module, first: KernelOp, first_args: dict, second: KernelOp, second_args: dict,
          rule: str, ctx: PassContext) -> tuple[KernelOp, dict]:
    """The fused kernel and its launch arguments (`rule`: the fusion rule that allowed it)."""
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
    condition = _emit_condition(fused, second) if rule == "event-code" else None
    for op in second.body.ops:
        copy = op.clone(values)
        if rule == "event-code" and isinstance(copy, (StoreOp, AtomicAddOp, EmitSpikeOp)):
            copy = _masked(fused, copy, condition)
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


def _emit_condition(fused: KernelOp, second: KernelOp) -> Value | None:
    """The mask under which the fused body emits its element into the list `second` runs over
    (None: always); the rule made sure there is exactly one such emit."""
    spike_list = second.space.arrays()[0].name
    emit = next(op for op in fused.body.ops
                if isinstance(op, EmitSpikeOp) and op.spike_list.name == spike_list)
    return emit.mask


def _masked(fused: KernelOp, op: Op, condition: Value | None) -> Op:
    """`op` (a store, atomic add or emitted spike) also masked by `condition`; the combined mask
    is computed in the fused body, where `op` will be appended."""
    if condition is None:
        return op
    mask = condition
    if op.mask is not None:  # type: ignore[attr-defined]
        mask = fused.body.add(AndOp(condition, op.mask))  # type: ignore[attr-defined]
    if isinstance(op, EmitSpikeOp):
        masked: Op = EmitSpikeOp(op.spike_list, op.index, mask)
    else:
        masked = type(op)(op.array, op.index, op.value, mask)  # type: ignore[attr-defined]
    op.drop_operand_uses()
    return masked


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
