"""The `lower-to-kernels` pass: from the model IR to the kernel IR."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.errors import PassError
from spikec.ir import model
from spikec.ir.core import Module, Op
from spikec.ir.kernel import ScheduleOp
from spikec.ir.kernel_decls import ArrayOp, ClockOp
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import LoweringError
from spikec.passes.lowering.input_kernels import input_kernels
from spikec.passes.lowering.poisson_inputs import poisson_input_kernels
from spikec.passes.lowering.monitor_kernels import MonitorLowering
from spikec.passes.lowering.synapse_kernels import SynapseLowering
from spikec.passes.lowering.neuron_kernels import (STORED_ROLES, GroupContext, StreamCounter,
                                                   group_kernels, group_names, spike_list_name)
from spikec.passes.pass_base import ModulePass, PassContext, option


@dataclass(frozen=True)
class LowerToKernels(ModulePass):
    """Turn a model module (after `integrate`) into kernels, arrays and a step schedule.

    Each neuron group becomes arrays for its stored variables (`G.v`, shared ones of length 1),
    a spike list per event (`G._spikespace`, N+1 entries), and kernels: the state update (with
    the refractoriness prelude), one threshold kernel per event (after clearing its spike list),
    the reset and `run_on_event` code over the spike list, and `run_regularly` code. Monitors
    record into buffers on the device (see `spikec.passes.lowering.monitor_kernels`). Inputs
    (docs/inputs.md): each `model.timed_array` becomes an array of its values read by calls, a
    `model.spike_generator` a kernel emitting its spikes from per-step arrays. The
    schedule orders everything as Brian does: by slot (`start`, `groups`, `thresholds`,
    `synapses`, `resets`, `end`, with `before_`/`after_`), then `order`, then name. Constants
    become kernel arguments bound in each launch. Random numbers use one Philox stream per
    kernel, numbered in module order, so every backend draws the same numbers.

    Synapses (`spikec.passes.lowering.synapse_kernels`): their clock-driven update, summed
    variables (per target in synapse order), and each pathway with the strategy
    `select-propagation` chose (push-atomic or pull-ordered, homogeneous delays through a ring of
    spike lists; dendritic-ring or spike-queue for per-synapse delays: docs/propagation.md)."""

    name: ClassVar[str] = "lower-to-kernels"
    summary: ClassVar[str] = "lower the model IR (after integrate) to kernels and a step schedule"
    statistics: ClassVar[dict[str, str]] = {"kernels": "kernels created",
                                            "arrays": "arrays declared"}
    spike_buffer_steps: int = option(16, "spike monitor buffers hold this many all-spiking steps")
    minimum_spike_buffer: int = option(65536, "smallest spike monitor buffer, in entries")
    state_buffer_values: int = option(1 << 22, "values a state monitor's buffer holds")

    def apply(self, ctx: PassContext, module: Module) -> None:
        ops = module.ops
        if not any(isinstance(op, (model.ObjectOp, model.ClockOp)) for op in ops):
            raise PassError("lower-to-kernels expects a model-IR module (model.group, ...)")
        try:
            lowered = self._lower(ops)
        except LoweringError as error:
            raise PassError(f"lower-to-kernels: {error.message}", error.location,
                            error.hint) from None
        for op in list(ops):
            module.body.remove(op)
        for op in lowered:
            module.body.append(op)
        ctx.count("kernels", sum(1 for op in lowered if op.name == "kernel.kernel"))
        ctx.count("arrays", sum(1 for op in lowered if isinstance(op, ArrayOp)))

    def _lower(self, ops: list[Op]) -> list[Op]:
        clocks = [op for op in ops if isinstance(op, model.ClockOp)]
        dt_of = {clock.sym_name: clock.attributes["dt"] for clock in clocks}
        streams = StreamCounter()
        arrays: list[Op] = []
        kernels: list[Op] = []
        items = []
        contexts: dict[str, GroupContext] = {}
        for op in ops:
            if not isinstance(op, model.GroupOp):
                continue
            float_type = op.attributes["dtype"]
            context = GroupContext(op, group_names(op), float_type, streams)
            contexts[op.sym_name] = context
            arrays += _group_arrays(op)
            group_ops, group_items = group_kernels(context, dt_of)
            kernels += group_ops
            items += group_items
            input_arrays, input_ops, input_items = input_kernels(
                context, dt_of[context.clock])
            arrays += input_arrays
            kernels += input_ops
            items += input_items
            poisson_ops, poisson_items = poisson_input_kernels(context, dt_of[context.clock])
            kernels += poisson_ops
            items += poisson_items
        for op in ops:
            if isinstance(op, model.SynapsesOp):
                synapses = SynapseLowering(op, contexts, dt_of, streams)
                synapses.lower()
                # Monitors of synapses record per synapse, with the synapses' names.
                contexts[op.sym_name] = GroupContext(op, synapses.names, synapses.float_type,
                                                     streams)
                arrays += synapses.arrays
                kernels += synapses.kernels
                items += synapses.items
        monitors = MonitorLowering(contexts, dt_of, self.spike_buffer_steps,
                                   self.minimum_spike_buffer, self.state_buffer_values)
        for op in ops:
            if isinstance(op, model.MonitorOp):
                monitors.lower(op)
        schedule = ScheduleOp()
        for item in sorted(items + monitors.items):
            for scheduled in item.ops:
                schedule.step.append(scheduled)
        clock_ops = [ClockOp(clock.sym_name, clock.attributes["dt"]) for clock in clocks]
        return clock_ops + arrays + monitors.arrays + kernels + monitors.kernels + [schedule]


def _group_arrays(group: model.GroupOp) -> list[Op]:
    size = group.attributes["size"]
    arrays: list[Op] = []
    for name, variable in group.variables().items():
        if variable.attributes["role"] in STORED_ROLES:
            length = 1 if variable.attributes.get("shared", False) else size
            arrays.append(ArrayOp(f"{group.sym_name}.{name}", variable.attributes["type"], length))
    for event in group.members(model.EventOp):
        arrays.append(ArrayOp(spike_list_name(group.sym_name, event.sym_name), Type.I32, size + 1))
    return arrays
