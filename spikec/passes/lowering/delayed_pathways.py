"""Pathways with per-synapse (heterogeneous) delays: the `dendritic-ring` and `spike-queue`
lowerings (docs/propagation.md).

Both need the pathway's `max_delay` (seconds, written by the frontend on `model.pathway` when the
delays differ): a ring of R = round(max_delay/dt) + 1 rows covers every delay. A synapse's delay in
steps is computed in the kernel from its delay variable (`S.delay` for `pre`, `S.<p>_delay`
otherwise) as Brian's spike queue does, `np.round(delay/dt)` (half to even), clamped to 0..R-1 (the
runtime rebuilds when the delays change, so the clamp never acts on a built network).

* dendritic-ring: at the spike's step, a kernel over `outgoing(spikes, ...)` computes each
  synapse's added value and atomically adds it into `S._<p>_ring` (R x N_target, row-major by
  step) at row (step + d) mod R; one delivery kernel per written variable, over its group's
  elements, adds row (step mod R) into the variable, where its conditional write allows
  (`unless refractory`, evaluated at delivery, as Brian), and zeroes the row. Several written
  variables get one ring each, `S._<p>_ring_<variable>`.
* spike-queue: a kernel over the step's spike list stamps step + 1 into `S._<p>_stamps` at row
  (step mod R) of the spiking neuron (R x N_trigger, i64); a kernel over `segments(offsets,
  S._<p>_queue, N_other)` walks each neuron of the written side through its synapses in the
  order of `S._<p>_queue` (by decreasing delay, then the triggering neuron, then number: filled
  by the runtime, `spikec.runtime.connectivity.queue_order`) and runs the code where the synapse's
  trigger neuron spiked d steps ago. For one step that is exactly the order of Brian's queue
  (events pushed earlier, i.e. with longer delays, first; then spike order; then synapse number).
  Cost: O(M) per step (every synapse checks its stamp).
"""

from __future__ import annotations

import numpy as np

from spikec.ir import model
from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Value
from spikec.ir.index_spaces import Elements, Outgoing, Segments, Spikes
from spikec.ir.kernel import KernelOp, LaunchOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import (AddOp, AndOp, AtomicAddOp, CmpOp, DivOp, LoadOp,
                                  MathOp, MaxOp, MinOp, ModOp, MulOp, NegOp, OrOp, StepOp,
                                  StoreOp, SubOp)
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import (OWN, POST, PRE, SHARED, ArrayAccess, BodyEmitter,
                                                LoweringError)


def delay_variable(pathway: model.PathwayOp) -> str:
    """The synaptic variable holding the pathway's per-synapse delays (Brian's names)."""
    return "delay" if pathway.sym_name == "pre" else f"{pathway.sym_name}_delay"


def ring_rows(lowering, pathway: model.PathwayOp) -> int:
    """R: rows of the pathway's rings, enough for its longest delay."""
    if "max_delay" not in pathway.attributes:
        raise LoweringError(f"@{lowering.name}: pathway '{pathway.sym_name}' has per-synapse "
                            "delays but no max_delay attribute",
                            hint="the frontend writes max_delay (seconds) on model.pathway")
    return int(round(pathway.attributes["max_delay"] / lowering.dt)) + 1


def ring_lead(lowering, pathway: model.PathwayOp) -> int | None:
    """The pathway's shortest delay in steps (`np.round`, as `delay_steps`) when it is at least
    one, else None: a step's sends then never reach the row its delivery reads (`ring_lead` of
    `kernel.array`). The frontend writes `min_delay` with `max_delay`; a model without it is
    treated as possibly 0."""
    shortest = pathway.attributes.get("min_delay")
    if shortest is None:
        return None
    steps = int(np.round(shortest / lowering.dt))
    return steps if steps >= 1 else None


def delay_steps(lowering, emitter: BodyEmitter, pathway: model.PathwayOp, rows: int) -> Value:
    """The synapse's delay in steps, `np.round(delay/dt)` (half to even), clamped to 0..rows-1."""
    name = delay_variable(pathway)
    variable = lowering.op.variables().get(name)
    if variable is None:
        raise LoweringError(f"@{lowering.name}: pathway '{pathway.sym_name}' has per-synapse "
                            f"delays but no variable '{name}'")
    body = emitter.body
    delay = body.add(LoadOp(f"{lowering.name}.{name}", emitter.element,
                            variable.attributes["type"], name))
    scaled = body.add(DivOp(emitter.convert(delay, Type.F64), emitter.read("dt")))
    floor = body.add(MathOp("floor", [scaled]))
    fraction = body.add(SubOp(scaled, floor))  # exact: x - floor(x)
    whole = emitter.convert(floor, Type.I64)
    half = emitter.constant(0.5, Type.F64)
    odd = body.add(CmpOp("eq", body.add(ModOp(whole, emitter.constant(2, Type.I64))),
                         emitter.constant(1, Type.I64)))
    tie_to_odd = body.add(AndOp(body.add(CmpOp("eq", fraction, half)), odd))
    round_up = body.add(OrOp(body.add(CmpOp("gt", fraction, half)), tie_to_odd))
    steps = body.add(AddOp(whole, emitter.convert(round_up, Type.I64)))
    steps = body.add(MaxOp(steps, emitter.constant(0, Type.I64)))
    return body.add(MinOp(steps, emitter.constant(rows - 1, Type.I64), "d"))


def _row_offset(emitter: BodyEmitter, step: Value, rows: int, width: int) -> Value:
    """(step mod rows) * width, the first element of a ring's row."""
    body = emitter.body
    row = body.add(ModOp(step, emitter.constant(rows, Type.I64)))
    return body.add(MulOp(row, emitter.constant(width, Type.I64)))


# -- dendritic-ring ------------------------------------------------------------------------------
def lower_dendritic_ring(lowering, pathway: model.PathwayOp, spikes: str) -> list[LaunchOp]:
    """Send kernel (values into the rings at t + d) and one delivery kernel per written
    variable; returns their launches, in order."""
    name, direction = pathway.sym_name, pathway.attributes["direction"]
    rows = ring_rows(lowering, pathway)
    side = "pre" if direction == "pre" else "post"
    space = Outgoing(SymbolRef(spikes), SymbolRef(f"{lowering.name}._{side}_offsets"),
                     SymbolRef(f"{lowering.name}._{side}_synapses"))
    kernel, emitter = lowering._kernel(f"{name}_send", space)
    steps = delay_steps(lowering, emitter, pathway, rows)
    arrival = kernel.body.add(AddOp(kernel.body.add(StepOp()), steps))
    targets: dict[str, tuple[str, ArrayAccess, int]] = {}
    statements = pathway.attributes["code"]
    written = list(dict.fromkeys(s.target for s in statements))
    for statement in statements:
        access = emitter.names.arrays.get(statement.target)
        if statement.op not in ("+=", "-=") or access is None or access.kind == OWN:
            raise LoweringError(f"@{lowering.name}: pathway '{name}': `{statement}` is not an "
                                "accumulation into a neuron variable, which dendritic-ring "
                                "cannot deliver", hint="select-propagation chooses spike-queue")
        if statement.target not in targets:
            group = {PRE: lowering.source, POST: lowering.target}.get(access.kind)
            width = 1 if access.kind == SHARED else group.size
            ring = f"{lowering.name}._{name}_ring" if len(written) == 1 \
                else f"{lowering.name}._{name}_ring_{statement.target}"
            lowering.arrays.append(ArrayOp(ring, access.type, rows * width, ring_lead(lowering, pathway)))
            targets[statement.target] = (ring, access, width)
        ring, access, width = targets[statement.target]
        value = emitter.convert(emitter.numeric(emitter.expression(statement.expr)), access.type)
        if statement.op == "-=":
            value = kernel.body.add(NegOp(value))
        slot = kernel.body.add(AddOp(_row_offset(emitter, arrival, rows, width),
                                     emitter.array_index(access)))
        kernel.body.append(AtomicAddOp(ring, slot, value))
    lowering.kernels.append(kernel)
    launches = [lowering._launch(kernel, emitter)]
    for variable, (ring, access, width) in targets.items():
        kernel_name = f"{name}_deliver" if len(targets) == 1 else f"{name}_deliver_{variable}"
        launches.append(_deliver(lowering, kernel_name, variable, ring, access, width, rows))
    return launches


def _deliver(lowering, kernel_name: str, variable: str, ring: str, access: ArrayAccess,
             width: int, rows: int) -> LaunchOp:
    """Adds the ring's row of this step into the variable (where its conditional write allows)
    and clears the row."""
    group = lowering.source if access.index == PRE else lowering.target
    group_name = next((n for n, a in group.names.arrays.items() if a.array == access.array), None)
    if group_name is None:
        raise LoweringError(f"@{lowering.name}: {kernel_name} writes {variable!r}, which is "
                            f"not a variable of {group.name}")
    kernel = KernelOp(f"{lowering.name}.{kernel_name}", Elements(width))
    emitter = BodyEmitter(kernel, group.names.for_kernel(lowering.dt), lowering.float_type,
                          lowering.streams.take())
    slot = kernel.body.add(AddOp(_row_offset(emitter, kernel.body.add(StepOp()), rows, width),
                                 kernel.index))
    arrived = kernel.body.add(LoadOp(ring, slot, access.type, "arrived"))
    emitter.assign(group_name, kernel.body.add(AddOp(emitter.read(group_name), arrived)))
    emitter.store_written()
    zero = emitter.constant(0.0 if access.type.is_float else 0, access.type)
    kernel.body.append(StoreOp(ring, slot, zero))
    lowering.kernels.append(kernel)
    return lowering._launch(kernel, emitter)


def masked_effects(synapses: str, pathway: str, emitter: BodyEmitter, code, mask: Value,
                   trigger_side: str) -> None:
    """The code of a segments kernel (pull, spike queue), run and stored where `mask` holds; it
    may not write the triggering side, which other segments' elements share."""
    emitter.statements(code, mask=mask)
    for written in emitter.written:
        if emitter.names.arrays[written].index == trigger_side:
            raise LoweringError(f"@{synapses}: pathway '{pathway}' writes {written!r} on the "
                                "side whose spikes trigger it; this cannot be lowered yet")
    emitter.store_written(mask)


# -- spike-queue ---------------------------------------------------------------------------------
def lower_spike_queue(lowering, pathway: model.PathwayOp, spikes: str, trigger, code
                      ) -> list[LaunchOp]:
    """Stamp kernel (which neuron spiked at which step, R steps back) and the queue kernel
    (segments of the written side, in Brian's delivery order); returns their launches."""
    name, direction = pathway.sym_name, pathway.attributes["direction"]
    rows = ring_rows(lowering, pathway)
    stamps = f"{lowering.name}._{name}_stamps"
    lowering.arrays.append(ArrayOp(stamps, Type.I64, rows * trigger.size))
    marker, marker_emitter = lowering._kernel(f"{name}_stamp", Spikes(SymbolRef(spikes)))
    step = marker.body.add(StepOp())
    slot = marker.body.add(AddOp(_row_offset(marker_emitter, step, rows, trigger.size),
                                 marker.index))
    marker.body.append(StoreOp(stamps, slot,
                               marker.body.add(AddOp(step, marker_emitter.constant(1, Type.I64)))))
    lowering.kernels.append(marker)
    other = "post" if direction == "pre" else "pre"
    other_group = lowering.target if direction == "pre" else lowering.source
    queue = f"{lowering.name}._{name}_queue"
    lowering.arrays.append(ArrayOp(queue, Type.I32, lowering.size))
    space = Segments(SymbolRef(f"{lowering.name}._{other}_offsets"), SymbolRef(queue),
                     other_group.size)
    kernel, emitter = lowering._kernel(f"{name}_queue", space)
    trigger_side = PRE if direction == "pre" else POST
    trigger_neuron = emitter.array_index(ArrayAccess("", Type.I32, False, trigger_side))
    steps = delay_steps(lowering, emitter, pathway, rows)
    sent = kernel.body.add(SubOp(kernel.body.add(StepOp()), steps))
    slot = kernel.body.add(AddOp(_row_offset(emitter, sent, rows, trigger.size), trigger_neuron))
    seen = kernel.body.add(LoadOp(stamps, slot, Type.I64, "sent_stamp"))
    stamped = kernel.body.add(CmpOp("eq", seen,
                                    kernel.body.add(AddOp(sent, emitter.constant(1, Type.I64)))))
    # Before the first step, sent + 1 <= 0: only the never-written stamp 0 could match.
    started = kernel.body.add(CmpOp("ge", sent, emitter.constant(0, Type.I64)))
    due = kernel.body.add(AndOp(stamped, started, "due"))
    masked_effects(lowering.name, name, emitter, code, due, trigger_side)
    lowering.kernels.append(kernel)
    return [lowering._launch(marker, marker_emitter), lowering._launch(kernel, emitter)]


__all__ = ["delay_variable", "lower_dendritic_ring", "lower_spike_queue", "masked_effects",
           "ring_rows"]
