"""Kernels that record monitors on the device, into fixed-size buffers the runtime drains.

Every monitor has a counter `M._count` (i64[1]) of records written since the runtime last drained
its buffers. A spike (event) monitor appends this step's spike list: a `record` kernel over the
positions 0..N-1 of the list writes positions below the count at `_count + position`, and an
`advance` kernel adds the count (a monitor on a subgroup first copies its range's spikes out of the
parent's list into its own, relative to the range's start). A state monitor writes one row of its recorded elements per tick
(row `_count`), a rate monitor one value. The buffers are sized so that one more step always fits
after the runtime has checked the counter: the runtime runs as many ticks as the free space allows
(for a spike monitor, `free // N` ticks), then drains. So no record is ever lost or overwritten.
"""

from __future__ import annotations

from spikec.ir import model
from spikec.ir.core import Op, Value
from spikec.ir.index_spaces import Elements
from spikec.ir.kernel import ClearSpikesOp, KernelOp, LaunchOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import (AddOp, AndOp, CmpOp, DivOp, EmitSpikeOp, LoadOp, MulOp,
                                  StoreOp, SubOp)
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import BodyEmitter, Names
from spikec.passes.lowering.neuron_kernels import GroupContext, spike_list_name
from spikec.passes.lowering.schedule_order import ScheduledItem, slot_key


def spike_buffer_capacity(source_size: int, steps: int, minimum: int) -> int:
    """Entries of a spike monitor's buffers: room for `steps` steps in which every neuron spikes,
    and never less than `minimum`."""
    return max(minimum, steps * source_size)


def state_buffer_rows(recorded: int, budget: int) -> int:
    """Rows of a state monitor's buffers: `budget` values in all, at least 2 rows."""
    return max(2, min(4096, budget // max(recorded, 1)))


class MonitorLowering:
    """Builds the arrays, kernels and schedule items of the monitors of a module."""

    def __init__(self, contexts: dict[str, GroupContext], dt_of: dict[str, float],
                 spike_buffer_steps: int, minimum_spike_buffer: int, state_buffer_values: int):
        self.contexts = contexts
        self.dt_of = dt_of
        self.spike_buffer_steps = spike_buffer_steps
        self.minimum_spike_buffer = minimum_spike_buffer
        self.state_buffer_values = state_buffer_values
        self.arrays: list[Op] = []
        self.kernels: list[Op] = []
        self.items: list[ScheduledItem] = []

    def lower(self, monitor: model.MonitorOp) -> None:
        kind = monitor.attributes["kind"]
        source = self.contexts[monitor.attributes["source"].name]
        self.arrays.append(ArrayOp(f"{monitor.sym_name}._count", Type.I64, 1))
        if kind in ("spike", "event"):
            self._event_monitor(monitor, source)
        elif kind == "state":
            self._state_monitor(monitor, source)
        else:
            self._rate_monitor(monitor, source)

    def _kernel(self, monitor: model.MonitorOp, suffix: str, size: int,
                source: GroupContext) -> tuple[KernelOp, BodyEmitter]:
        kernel = KernelOp(f"{monitor.sym_name}.{suffix}", Elements(size))
        emitter = BodyEmitter(kernel, Names(), source.float_type, 0)
        return kernel, emitter

    def _schedule(self, monitor: model.MonitorOp, clock: str, launches: list[LaunchOp],
                  default_when: str, default_order: int) -> None:
        when = monitor.attributes.get("when", default_when)
        order = monitor.attributes.get("order", default_order)
        self.items.append(ScheduledItem(slot_key(when), order, monitor.sym_name, 0, launches))

    def _spike_list(self, monitor: model.MonitorOp, source: GroupContext,
                    event: str) -> tuple[str, int, int, list]:
        """(spike list, its neurons' count, their first index in the source, launches that fill
        it first): the source's list, or for a subgroup `M._spikespace`, this step's spikes of
        the range, relative to its start and in the parent's order (Brian records a subgroup's
        spikes so)."""
        parent_list = spike_list_name(source.name, event)
        start, stop = model.element_range(monitor, "source_range", source.size)
        if (start, stop) == (0, source.size):
            return parent_list, source.size, 0, []
        own = f"{monitor.sym_name}._spikespace"
        self.arrays.append(ArrayOp(own, Type.I32, stop - start + 1))
        kernel, emitter = self._kernel(monitor, "subgroup_spikes", source.size, source)
        body = kernel.body
        count = emitter.convert(body.add(LoadOp(parent_list, emitter.constant(
            source.size, Type.I64), Type.I32)), Type.I64)
        neuron = emitter.convert(body.add(LoadOp(parent_list, kernel.index, Type.I32, "neuron")),
                                 Type.I64)
        inside = body.add(AndOp(body.add(CmpOp("ge", neuron, emitter.constant(start, Type.I64))),
                                body.add(CmpOp("lt", neuron, emitter.constant(stop, Type.I64)))))
        listed = body.add(AndOp(body.add(CmpOp("lt", kernel.index, count)), inside))
        relative = body.add(SubOp(neuron, emitter.constant(start, Type.I64)))
        body.append(EmitSpikeOp(own, relative, listed))
        self.kernels.append(kernel)
        return own, stop - start, start, [ClearSpikesOp(own, source.clock),
                                          LaunchOp(kernel.kernel_name, source.clock)]

    def _event_monitor(self, monitor: model.MonitorOp, source: GroupContext) -> None:
        name = monitor.sym_name
        space, size, start, launches = self._spike_list(
            monitor, source, monitor.attributes.get("event", "spike"))
        capacity = spike_buffer_capacity(size, self.spike_buffer_steps, self.minimum_spike_buffer)
        variables = monitor.attributes.get("variables", ())
        self.arrays += [ArrayOp(f"{name}.i", Type.I32, capacity),
                        ArrayOp(f"{name}.t", Type.F64, capacity)]
        record, emitter = self._kernel(monitor, "record", size, source)
        body = record.body
        count = emitter.convert(body.add(LoadOp(space, emitter.constant(size, Type.I64),
                                                Type.I32)), Type.I64)
        valid = body.add(CmpOp("lt", record.index, count))
        neuron = body.add(LoadOp(space, record.index, Type.I32, "neuron"))
        base = body.add(LoadOp(f"{name}._count", emitter.constant(0, Type.I64), Type.I64))
        position = body.add(AddOp(base, record.index))
        body.append(StoreOp(f"{name}.i", position, neuron, valid))
        body.append(StoreOp(f"{name}.t", position, emitter.time(), valid))
        element = emitter.convert(neuron, Type.I64)
        if start:  # a subgroup's spike list is relative; the variables are the parent's
            element = body.add(AddOp(element, emitter.constant(start, Type.I64)))
        values = self._source_values(emitter, source, variables, element)
        for variable, value in values.items():
            self.arrays.append(ArrayOp(f"{name}.{variable}", value.type, capacity))
            body.append(StoreOp(f"{name}.{variable}", position, value, valid))
        advance, advance_emitter = self._kernel(monitor, "advance", 1, source)
        zero = advance_emitter.constant(0, Type.I64)
        spikes = advance_emitter.convert(advance.body.add(LoadOp(
            space, advance_emitter.constant(size, Type.I64), Type.I32)), Type.I64)
        old = advance.body.add(LoadOp(f"{name}._count", zero, Type.I64))
        advance.body.append(StoreOp(f"{name}._count", zero, advance.body.add(AddOp(old, spikes))))
        self.kernels += [record, advance]
        self._schedule(monitor, source.clock, launches + [
            LaunchOp(record.kernel_name, source.clock),
            LaunchOp(advance.kernel_name, source.clock)], "thresholds", 1)

    def _source_values(self, emitter: BodyEmitter, source: GroupContext, variables,
                       element: Value) -> dict[str, Value]:
        """Values of `variables` of the source at `element` (subexpressions computed there)."""
        emitter.names = source.names.for_kernel(self.dt_of[source.clock])
        emitter.names.conditional_writes = {}  # monitors only read
        emitter.element = element
        emitter.values["i"] = element
        return {variable: emitter.read(variable) for variable in variables}

    def _state_monitor(self, monitor: model.MonitorOp, source: GroupContext) -> None:
        name = monitor.sym_name
        record_attr = monitor.attributes["record"]
        start, stop = model.element_range(monitor, "source_range", source.size)
        # `_indices` (filled by the runtime) holds the recorded elements' indices in the parent.
        recorded = stop - start if record_attr is True else (0 if record_attr is False
                                                           else len(record_attr))
        rows = state_buffer_rows(recorded, self.state_buffer_values)
        clock = monitor.attributes["clock"].name
        self.arrays += [ArrayOp(f"{name}._indices", Type.I32, max(recorded, 1)),
                        ArrayOp(f"{name}.t", Type.F64, rows)]
        launches = []
        if recorded:
            record, emitter = self._kernel(monitor, "record", recorded, source)
            body = record.body
            zero = emitter.constant(0, Type.I64)
            element = emitter.convert(body.add(LoadOp(f"{name}._indices", record.index,
                                                      Type.I32)), Type.I64)
            row = body.add(LoadOp(f"{name}._count", zero, Type.I64))
            position = body.add(AddOp(body.add(MulOp(row, emitter.constant(recorded, Type.I64))),
                                      record.index))
            values = self._source_values(emitter, source, monitor.attributes["variables"],
                                         element)
            for variable, value in values.items():
                self.arrays.append(ArrayOp(f"{name}.{variable}", value.type, rows * recorded))
                body.append(StoreOp(f"{name}.{variable}", position, value))
            self.kernels.append(record)
            launches.append(LaunchOp(record.kernel_name, clock,
                                     {k: v for k, v in emitter.launch_args.items()}))
        advance, emitter = self._kernel(monitor, "advance", 1, source)
        zero = emitter.constant(0, Type.I64)
        row = advance.body.add(LoadOp(f"{name}._count", zero, Type.I64))
        advance.body.append(StoreOp(f"{name}.t", row, emitter.time()))
        advance.body.append(StoreOp(f"{name}._count", zero,
                                    advance.body.add(AddOp(row, emitter.constant(1, Type.I64)))))
        self.kernels.append(advance)
        launches.append(LaunchOp(advance.kernel_name, clock))
        self._schedule(monitor, clock, launches, "start", 0)

    def _rate_monitor(self, monitor: model.MonitorOp, source: GroupContext) -> None:
        name = monitor.sym_name
        space, size, _, launches = self._spike_list(monitor, source, "spike")
        rows = state_buffer_rows(1, self.state_buffer_values)
        self.arrays += [ArrayOp(f"{name}.rate", Type.F64, rows), ArrayOp(f"{name}.t", Type.F64,
                                                                          rows)]
        kernel, emitter = self._kernel(monitor, "record", 1, source)
        body = kernel.body
        zero = emitter.constant(0, Type.I64)
        spikes = emitter.convert(body.add(LoadOp(space, emitter.constant(size, Type.I64),
                                                 Type.I32)), Type.F64)
        dt = self.dt_of[source.clock]
        rate = body.add(DivOp(spikes, emitter.constant(size * dt, Type.F64)))
        row = body.add(LoadOp(f"{name}._count", zero, Type.I64))
        body.append(StoreOp(f"{name}.rate", row, rate))
        body.append(StoreOp(f"{name}.t", row, emitter.time()))
        body.append(StoreOp(f"{name}._count", zero,
                            body.add(AddOp(row, emitter.constant(1, Type.I64)))))
        self.kernels.append(kernel)
        self._schedule(monitor, source.clock,
                       launches + [LaunchOp(kernel.kernel_name, source.clock)], "end", 0)


