"""The `merge-rings` pass: dendritic rings of pathways into one variable share one ring."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import ClassVar

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Module, Op, OpResult, Value
from spikec.ir.equality import code_difference
from spikec.ir.kernel import ClearSpikesOp, KernelOp, LaunchOp, arrays, kernels, schedule
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_memory import AtomicAddOp, LoadOp, MemoryOp, StoreOp
from spikec.ir.kernel_ops import AddOp, ConstantOp, ModOp, MulOp, StepOp
from spikec.ir.types import Type
from spikec.passes.fold import constant_value
from spikec.passes.kernel_dependencies import kernel_accesses
from spikec.passes.pass_base import ModulePass, PassContext

_PLACEHOLDER = SymbolRef("merge-rings.ring")  # a ring's name while two deliveries are compared


@dataclass
class RowSlot:
    """A ring access at ``(x mod rows) * width + column`` (`delayed_pathways._row_offset` plus
    an index): the `kernel.mod` whose divisor says how many rows the ring has."""

    mod: ModOp
    rows: int
    width: int


@dataclass
class Ring:
    """A dendritic ring as `lower-to-kernels` makes it: sends add into it atomically, one
    delivery kernel, launched once, reads its row of the step and stores zero there."""

    array: ArrayOp
    delivery: KernelOp
    launch: LaunchOp
    rows: int
    width: int
    slots: list[RowSlot] = field(default_factory=list)  # the delivery's, then the sends'
    sends: list[AtomicAddOp] = field(default_factory=list)
    senders: set[str] = field(default_factory=set)  # the kernels of the sends

    @property
    def name(self) -> str:
        return self.array.array_name


@dataclass(frozen=True)
class MergeRings(ModulePass):
    """Let dendritic-ring pathways that add into the same variable of the same group share one
    ring: each send adds into the first pathway's ring, whose rows grow to the longest delay of
    them all, and only the first delivery remains.

    Why: a ring has R x N elements per pathway (R: the pathway's longest delay in steps), and
    each step every delivery reads and zeroes its row. A model whose groups receive from many
    groups pays that per pathway: the Potjans-Diesmann microcircuit's 8 populations each have
    up to 8 pathways into `I`, so 64 rings (262 MB at full scale, five times the H100's L2) and
    8 ring reads per neuron and step, one DRAM latency each, one after another in the fused
    population kernel (docs/performance.md, "Microcircuit"). GeNN merges its postsynaptic inputs
    in the same way. Merged, the microcircuit has 8 rings (33 MB) and one read per neuron.

    Which rings merge: rings with a `ring_lead` (every delay at least one step), whose only
    accesses are the sends' atomic adds and one delivery kernel launched once, which reads and
    zeroes the row of the step; deliveries equal op for op but for the ring and its row count
    (so: the same variable, the same group, the same `unless refractory` mask), launched on one
    clock with the same arguments, sends on that clock too, and rows of the same width and
    element type. A later delivery moves to the first one's place in the schedule, so no launch
    or clear between the two may write what it reads or touch what it writes; where one does,
    that delivery starts a new group instead.

    Why the results do not change: a send of step t adds at row (t + d) mod R with 1 <= d < R
    (R at least each pathway's own row count, to which `delay_steps` clamps d), never the row of
    step t, so step t + d's first delivery finds every value sent for it, as each pathway's own
    delivery did, and adds their sum once instead of each pathway's sum. The sum is reassociated
    (floating-point results may differ in the last bits, as atomic adds in any order on the GPU
    already do; integer sums are exact). Runs right after `lower-to-kernels`, whose patterns
    (`delayed_pathways`) it matches; a ring that does not match them is left alone.
    """

    name: ClassVar[str] = "merge-rings"
    summary: ClassVar[str] = "dendritic rings of pathways into one variable share one ring and one delivery"
    statistics: ClassVar[dict[str, str]] = {"merged": "rings folded into another pathway's ring, deliveries removed"}

    def apply(self, ctx: PassContext, module: Module) -> None:
        step = schedule(module)
        if step is None:
            return
        launches = Counter(op.kernel.name for op in step.step.ops if isinstance(op, LaunchOp))
        order = {id(op): position for position, op in enumerate(step.step.ops)}
        rings = [ring for ring in find_rings(module) if launches[ring.delivery.kernel_name] == 1]
        rings.sort(key=lambda ring: order[id(ring.launch)])
        groups: list[list[Ring]] = []
        for ring in rings:
            group = next((g for g in groups if mergeable(g, ring, step.step.ops, order, module)), None)
            if group is None:
                groups.append([ring])
            else:
                group.append(ring)
        for group in groups:
            if len(group) > 1:
                merge(module, group)
                ctx.count("merged", len(group) - 1)


def find_rings(module: Module) -> list[Ring]:
    """The module's rings that match `lower-to-kernels`' dendritic-ring patterns."""
    step = schedule(module)
    launch_of = {op.kernel.name: op for op in step.step.ops if isinstance(op, LaunchOp)} if step else {}
    accesses: dict[str, list[tuple[KernelOp, MemoryOp]]] = {}
    for kernel in kernels(module):
        for op in kernel.body.ops:
            if isinstance(op, MemoryOp):
                accesses.setdefault(op.array.name, []).append((kernel, op))
    found = []
    for array in arrays(module).values():
        if "ring_lead" not in array.attributes:
            continue
        ring = _ring(array, accesses.get(array.array_name, []), launch_of)
        if ring is not None:
            found.append(ring)
    return found


def _ring(array: ArrayOp, uses: list[tuple[KernelOp, MemoryOp]], launch_of: dict[str, LaunchOp]) -> Ring | None:
    reads = [(kernel, op) for kernel, op in uses if isinstance(op, LoadOp)]
    stores = [(kernel, op) for kernel, op in uses if isinstance(op, StoreOp)]
    sends = [(kernel, op) for kernel, op in uses if isinstance(op, AtomicAddOp)]
    if len(reads) != 1 or len(stores) != 1 or len(reads) + len(stores) + len(sends) != len(uses):
        return None
    (delivery, read), (storer, store) = reads[0], stores[0]
    if storer is not delivery or store.index is not read.index or store.mask is not None \
            or not _is_zero(store.value) or delivery.kernel_name not in launch_of:
        return None
    slot = row_slot(read.index, delivery.index)
    if slot is None or not isinstance(_defining(slot.mod.operands[0]), StepOp) \
            or slot.rows * slot.width != array.length:
        return None
    ring = Ring(array, delivery, launch_of[delivery.kernel_name], slot.rows, slot.width, [slot])
    for kernel, op in sends:
        sent = row_slot(op.index, None)
        if sent is None or (sent.rows, sent.width) != (slot.rows, slot.width) or kernel is delivery:
            return None
        ring.slots.append(sent)
        ring.sends.append(op)
        ring.senders.add(kernel.kernel_name)
    return ring


def row_slot(index: Value, column: Value | None) -> RowSlot | None:
    """`index` as ``(x mod rows) * width + column`` with constant rows and width (`column`:
    any value when None), else None."""
    add = _defining(index)
    if not isinstance(add, AddOp):
        return None
    mul, other = _defining(add.operands[0]), add.operands[1]
    if column is not None and other is not column:
        return None
    if not isinstance(mul, MulOp):
        return None
    mod, width = _defining(mul.operands[0]), _integer(mul.operands[1])
    if not isinstance(mod, ModOp) or width is None:
        return None
    rows = _integer(mod.operands[1])
    if rows is None or rows < 1 or width < 1:
        return None
    return RowSlot(mod, rows, width)


def mergeable(group: list[Ring], ring: Ring, steps: list[Op], order: dict[int, int], module: Module) -> bool:
    """Whether `ring` can join `group` (whose first ring keeps its delivery)."""
    first = group[0]
    if (ring.width, ring.array.element_type) != (first.width, first.array.element_type):
        return False
    clock = first.launch.clock
    if ring.launch.clock != clock or ring.launch.args != first.launch.args:
        return False
    if any(launch.clock != clock for launch in _send_launches(ring, steps)):
        return False
    if not same_delivery(first, ring):
        return False
    members = {id(other.launch) for other in group}
    reads, writes = _arrays_of(ring.delivery, {r.name for r in group} | {ring.name})
    for op in steps[order[id(first.launch)] + 1:order[id(ring.launch)]]:
        if id(op) in members:
            continue
        if isinstance(op, ClearSpikesOp):
            other_reads, other_writes = set(), {op.spike_list.name}
        else:
            other_reads, other_writes = _arrays_of(module.lookup(op.kernel), set())
        if other_writes & (reads | writes) or other_reads & writes:
            return False
    return True


def same_delivery(first: Ring, ring: Ring) -> bool:
    """The two delivery kernels equal op for op once their rings and row counts are set aside."""
    if first.delivery.space != ring.delivery.space:
        return False
    return code_difference(_anonymous(first), _anonymous(ring)) is None


def _anonymous(ring: Ring) -> KernelOp:
    """A copy of the ring's delivery with the ring renamed to a placeholder and the row count
    taken from a new constant of value 0 (the old constant goes where nothing else uses it)."""
    mapping: dict[Value, Value] = {}
    copy = ring.delivery.clone(mapping)
    for op in copy.body.ops:
        if isinstance(op, MemoryOp) and op.array.name == ring.name:
            op.attributes["array"] = _PLACEHOLDER
    mod = _defining(mapping[ring.slots[0].mod.result])
    rows = mod.operands[1]
    placeholder = copy.body.insert_before(mod, ConstantOp(0, rows.type))
    mod.set_operand(1, placeholder.result)
    if not rows.has_uses():
        copy.body.erase(rows.op)
    return copy


def merge(module: Module, group: list[Ring]) -> None:
    """Every send of the group into the first ring, the other deliveries and rings removed."""
    first = group[0]
    rows = max(ring.rows for ring in group)
    lead = min(ring.array.attributes["ring_lead"] for ring in group)
    first.array.attributes["length"] = rows * first.width
    first.array.attributes["ring_lead"] = lead
    for ring in group:
        for slot in ring.slots:
            _set_rows(slot, rows)
        for send in ring.sends:
            send.attributes["array"] = SymbolRef(first.name)
    step = schedule(module)
    for ring in group[1:]:
        step.step.erase(ring.launch)
        module.body.erase(ring.delivery)
        module.body.erase(ring.array)


def _set_rows(slot: RowSlot, rows: int) -> None:
    if slot.rows == rows:
        return
    block, old = slot.mod.parent, slot.mod.operands[1]
    constant = block.insert_before(slot.mod, ConstantOp(rows, old.type))
    slot.mod.set_operand(1, constant.result)
    slot.rows = rows
    if not old.has_uses():  # the row count's constant may serve other ops (the emitter shares them)
        block.erase(old.op)


def _send_launches(ring: Ring, steps: list[Op]) -> list[LaunchOp]:
    return [op for op in steps if isinstance(op, LaunchOp) and op.kernel.name in ring.senders]


def _arrays_of(kernel: KernelOp, left_out: set[str]) -> tuple[set[str], set[str]]:
    reads, writes = set(), set()
    for access in kernel_accesses(kernel):
        name = f"{access.array.owner}.{access.array.name}" if access.array.name else access.array.owner
        if name in left_out:
            continue
        (reads if access.mode == "read" else writes).add(name)
    return reads, writes


def _defining(value: Value) -> Op | None:
    return value.op if isinstance(value, OpResult) else None


def _integer(value: Value) -> int | None:
    number = constant_value(value) if value.type.is_integer else None
    return None if number is None else int(number)


def _is_zero(value: Value) -> bool:
    number = constant_value(value) if value.type != Type.BOOL else None
    return number is not None and number == 0
