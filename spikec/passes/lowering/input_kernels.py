"""Arrays and kernels of Brian's input objects: TimedArray values and SpikeGeneratorGroups.

A `model.spike_generator` becomes a spike list (`G._spikespace`) filled in the `thresholds` slot
by one kernel reading its spikes per step in compressed rows (CSR):

    G._offsets  (i32, bins + 1)   spikes of bin b are entries offsets[b] .. offsets[b+1]-1 of
    G._indices  (i32, >= 1)       the neuron indices, in increasing order within a bin

Bins are steps: `int((time + 1e-3*dt)/dt)` (Brian's rounding). With a period of P steps, step n
reads bin n mod P; without one, bin min(n, last + 1), the last bin being empty. The kernel runs
over `elements(M)`, M the most spikes of one bin: element k emits `indices[offsets[b] + k]`
when k < offsets[b+1] - offsets[b], so the spike list is in increasing index order. The array
contents come from `input_array_values`, which the runtime writes before the first step.
"""

from __future__ import annotations

import numpy as np

from spikec.ir import model
from spikec.ir.core import Module, Op
from spikec.ir.index_spaces import Elements
from spikec.ir.kernel import ClearSpikesOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import AddOp, CmpOp, EmitSpikeOp, LoadOp, MinOp, ModOp, StepOp
from spikec.ir.model_inputs import SpikeGeneratorOp, spike_steps
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import LoweringError
from spikec.passes.lowering.neuron_kernels import (GroupContext, launch, new_kernel,
                                                   spike_list_name)
from spikec.passes.lowering.schedule_order import ScheduledItem, slot_key
from spikec.passes.lowering.timed_arrays import timed_array_values


def input_kernels(context: GroupContext, dt: float) -> tuple[list[Op], list[Op], list]:
    """(arrays, kernels, scheduled items) for the inputs of one group: its TimedArrays' value
    arrays and its spike generator, if any."""
    arrays: list[Op] = [ArrayOp(access.array, Type.F64, access.rows * max(access.columns, 1))
                        for access in context.names.timed_arrays.values()]
    kernels: list[Op] = []
    items: list[ScheduledItem] = []
    for generator in context.op.members(SpikeGeneratorOp):
        offsets, indices, most = spike_generator_csr(context.name, generator, dt)
        space = spike_list_name(context.name, "spike")
        arrays += [ArrayOp(space, Type.I32, context.size + 1),
                   ArrayOp(f"{context.name}._offsets", Type.I32, len(offsets)),
                   ArrayOp(f"{context.name}._indices", Type.I32, max(len(indices), 1))]
        kernel, emitter = new_kernel(context, "spike_generator", Elements(most), dt)
        _generator_body(context.name, kernel, emitter, len(offsets) - 1, len(indices),
                        generator.attributes["period"] > 0)
        kernels.append(kernel)
        items.append(ScheduledItem(slot_key("thresholds"), context.order, context.name, 0,
                                   [ClearSpikesOp(space, context.clock),
                                    launch(kernel, emitter, context.clock)]))
    return arrays, kernels, items


def _generator_body(name: str, kernel, emitter, bins: int, spikes: int, periodic: bool) -> None:
    body, constant = kernel.body, emitter.constant
    step = body.add(StepOp())
    last = constant(bins - 1, Type.I64)
    current = body.add(ModOp(step, constant(bins, Type.I64)) if periodic else MinOp(step, last))
    after = body.add(AddOp(current, constant(1, Type.I64)))
    start = emitter.convert(body.add(LoadOp(f"{name}._offsets", current, Type.I32)), Type.I64)
    end = emitter.convert(body.add(LoadOp(f"{name}._offsets", after, Type.I32)), Type.I64)
    position = body.add(AddOp(start, kernel.index))
    present = body.add(CmpOp("lt", position, end))
    safe = body.add(MinOp(position, constant(max(spikes - 1, 0), Type.I64)))
    neuron = body.add(LoadOp(f"{name}._indices", safe, Type.I32))
    body.append(EmitSpikeOp(spike_list_name(name, "spike"), neuron, present))


def spike_generator_csr(owner: str, generator: SpikeGeneratorOp,
                        dt: float) -> tuple[np.ndarray, np.ndarray, int]:
    """(offsets, indices, most spikes in one bin) of a spike generator on a clock of step dt."""
    indices = np.array(generator.attributes["indices"], dtype=np.int64)
    steps = spike_steps(np.array(generator.attributes["times"], dtype=np.float64), dt)
    period = generator.attributes["period"]
    bins = int(round(period / dt)) if period > 0 else (int(steps.max()) + 2 if len(steps) else 1)
    if len(steps) and steps.max() >= bins:
        raise LoweringError(f"@{owner}: a spike time lies beyond the period of {period} s")
    order = np.lexsort((indices, steps))
    indices, steps = indices[order], steps[order]
    if np.any((np.diff(steps) == 0) & (np.diff(indices) == 0)):
        raise LoweringError(f"@{owner}: a neuron spikes twice in one step of {dt} s")
    counts = np.bincount(steps, minlength=bins)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
    return offsets, indices.astype(np.int32), int(counts.max(initial=0))


def input_array_values(module: Module) -> dict[str, np.ndarray]:
    """The contents of the input arrays of a model module, for the runtime to write before the
    first step: TimedArray values and spike generator CSR arrays."""
    values = timed_array_values(module)
    dt_of = {op.sym_name: op.attributes["dt"] for op in module.ops
             if isinstance(op, model.ClockOp)}
    for owner in module.ops:
        if not isinstance(owner, model.GroupOp):
            continue
        for generator in owner.members(SpikeGeneratorOp):
            offsets, indices, _ = spike_generator_csr(
                owner.sym_name, generator, dt_of[owner.attributes["clock"].name])
            values[f"{owner.sym_name}._offsets"] = offsets
            values[f"{owner.sym_name}._indices"] = indices if len(indices) else np.zeros(1, np.int32)
    return values


__all__ = ["input_kernels", "input_array_values", "spike_generator_csr"]
