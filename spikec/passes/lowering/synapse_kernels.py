"""Kernels of a `Synapses` object: clock-driven state update, summed variables, and each pathway
lowered with the strategy `select-propagation` chose.

Connectivity arrives as arrays the runtime fills before the first step (`connectivity_arrays`):
each synapse's source and target (`S._pre`, `S._post`, i32[M]), and CSR tables listing, for each
source (`S._pre_offsets` i32[N_pre+1], `S._pre_synapses` i32[M]) and each target (`S._post_*`),
its synapses in increasing synapse order.

Strategies (docs/propagation.md):
* push-atomic: one kernel over `outgoing(spikes, offsets, synapses)`; accumulations onto neuron
  variables become atomic adds, synaptic variables are written per synapse.
* pull-ordered: a kernel stamps the step into `S._<pathway>_stamp[k]` for each spiking source k;
  one kernel over `segments(...)` (a segment per neuron on the other side, in synapse order) runs
  the code where the synapse's source has this step's stamp: any effect keeps Brian's order.
* a homogeneous delay of d steps (d > 0): each step the source's spike list is written into row
  `step mod (d+1)` of a ring and row `(step+1) mod (d+1)` (written d steps ago) is copied into
  `S._<pathway>_delayed`, the list the pathway then uses.
* per-synapse (heterogeneous) delays: dendritic-ring and spike-queue, in `delayed_pathways.py`,
  and spike-history, in `spike_history.py`.

Subgroups (`source_range`/`target_range`): the contexts are the parent groups and the runtime
lays connectivity out over the parents (empty rows outside the ranges), so the strategies above
need no change; `i`, `j`, `N_pre`, `N_post` and the zeroing of summed variables use the ranges.
"""

from __future__ import annotations

from spikec.ir import expression as ast
from spikec.ir import model
from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Op
from spikec.ir.index_spaces import Elements, Outgoing, Segments, Spikes
from spikec.ir.kernel import KernelOp, LaunchOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import AddOp, CmpOp, LoadOp, ModOp, MulOp, StepOp, StoreOp
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import (OWN, POST, PRE, ArrayAccess, BodyEmitter,
                                                LoweringError, Names)
from spikec.passes.lowering.delayed_pathways import (lower_dendritic_ring, lower_spike_queue,
                                                     masked_effects)
from spikec.passes.lowering.neuron_kernels import (STORED_ROLES, GroupContext, spike_list_name)
from spikec.passes.lowering.schedule_order import ScheduledItem, slot_key
from spikec.passes.lowering.spike_history import lower_spike_history

PATHWAY_ORDER = {"pre": -1, "post": 1}  # Brian: on_pre before on_post within the slot
STRATEGIES = ("push-atomic", "pull-ordered", "dendritic-ring", "spike-queue", "spike-history")


def connectivity_array_ops(name: str, size: int, sources: int, targets: int) -> list[Op]:
    """Declarations of a synapses object's connectivity arrays (see the module docstring)."""
    return [ArrayOp(f"{name}._pre", Type.I32, size), ArrayOp(f"{name}._post", Type.I32, size),
            ArrayOp(f"{name}._pre_offsets", Type.I32, sources + 1),
            ArrayOp(f"{name}._pre_synapses", Type.I32, size),
            ArrayOp(f"{name}._post_offsets", Type.I32, targets + 1),
            ArrayOp(f"{name}._post_synapses", Type.I32, size)]


def synapse_names(synapses: model.SynapsesOp, source: GroupContext,
                  target: GroupContext) -> Names:
    """Names in synaptic code: its own variables per synapse, `x_pre`/`x_post` the neurons',
    unsuffixed names the synapse's or else the target's (Brian's rule)."""
    names = Names(neuron_indices={PRE: f"{synapses.sym_name}._pre",
                                  POST: f"{synapses.sym_name}._post"})
    sides = ((target, POST, ""), (source, PRE, "_pre"), (target, POST, "_post"))
    for group, index, suffix in sides:  # later sides win: _post/_pre names over plain ones
        for name, access in group.names.arrays.items():
            names.arrays[f"{name}{suffix}"] = ArrayAccess(access.array, access.type,
                                                          access.shared, index)
        for name, condition in group.names.conditional_writes.items():
            names.conditional_writes[f"{name}{suffix}"] = f"{condition}{suffix or '_post'}"
    for name, variable in synapses.variables().items():
        if variable.attributes["role"] in STORED_ROLES:
            names.arrays[name] = ArrayAccess(f"{synapses.sym_name}.{name}",
                                             variable.attributes["type"],
                                             variable.attributes.get("shared", False), OWN)
    for name, constant in synapses.constants().items():
        value = constant.attributes["value"]
        names.constants[name] = (value, Type.I64 if isinstance(value, int) else Type.F64)
    (source_start, source_stop), (target_start, target_stop) = ends_of(synapses, source, target)
    names.constants.update({"N": (synapses.attributes["size"], Type.I64),
                            "N_pre": (source_stop - source_start, Type.I64),
                            "N_post": (target_stop - target_start, Type.I64)})
    for equation in synapses.members(model.EquationOp):
        flags = synapses.variables()[equation.sym_name].attributes.get("flags", ())
        if equation.attributes["kind"] == "subexpression" and "summed" not in flags:
            names.subexpressions[equation.sym_name] = equation.attributes["expr"]
    return names


def ends_of(synapses: model.SynapsesOp, source: GroupContext,
            target: GroupContext) -> tuple[tuple[int, int], tuple[int, int]]:
    """(start, stop) of the source's and target's elements: a subgroup's range in its parent,
    which is the group the model IR names (`source_range`, `target_range`)."""
    return (model.element_range(synapses, "source_range", source.size),
            model.element_range(synapses, "target_range", target.size))


class SynapseLowering:
    """Arrays, kernels and schedule items of one `model.synapses` op."""

    def __init__(self, synapses: model.SynapsesOp, contexts: dict[str, GroupContext],
                 dt_of: dict[str, float], streams):
        self.op = synapses
        self.name = synapses.sym_name
        self.size = synapses.attributes["size"]
        self.source = contexts[synapses.attributes["source"].name]
        self.target = contexts[synapses.attributes["target"].name]
        self.clock = synapses.attributes["clock"].name
        self.dt = dt_of[self.clock]
        self.streams = streams
        self.names = synapse_names(synapses, self.source, self.target)
        # Subgroups: neuron arrays and spike lists are the parents'; only `i`, `j`, `N_pre`,
        # `N_post` and the elements a summed variable sets are relative to the ranges.
        self.source_range, self.target_range = ends_of(synapses, self.source, self.target)
        self.float_type = synapses.attributes["dtype"]
        self.arrays: list[Op] = connectivity_array_ops(self.name, self.size, self.source.size,
                                                       self.target.size)
        self.kernels: list[Op] = []
        self.items: list[ScheduledItem] = []
        self.event_driven = _event_driven_update(synapses)
        if self.event_driven:
            self.names.arrays["lastupdate"] = ArrayAccess(f"{self.name}.lastupdate", Type.F64)
            self.arrays.append(ArrayOp(f"{self.name}.lastupdate", Type.F64, self.size))

    def lower(self) -> None:
        for name, variable in self.op.variables().items():
            if variable.attributes["role"] in STORED_ROLES:
                length = 1 if variable.attributes.get("shared", False) else self.size
                self.arrays.append(ArrayOp(f"{self.name}.{name}", variable.attributes["type"],
                                           length))
        self._state_update()
        self._summed_variables()
        for pathway in self.op.members(model.PathwayOp):
            self._pathway(pathway)

    # -- helpers ---------------------------------------------------------------------------------
    def _kernel(self, suffix: str, space) -> tuple[KernelOp, BodyEmitter]:
        kernel = KernelOp(f"{self.name}.{suffix}", space)
        names = self.names.for_kernel(self.dt)
        # A synapse's i and j are its neurons, counted from the start of a subgroup.
        for name, side, (start, _) in (("i", PRE, self.source_range),
                                       ("j", POST, self.target_range)):
            neuron = ArrayAccess(names.neuron_indices[side], Type.I32)
            if start == 0:
                names.arrays.setdefault(name, neuron)
            else:
                names.arrays[f"_{name}_in_parent"] = neuron
                names.subexpressions.setdefault(name, ast.BinaryOp(
                    "-", ast.Name(f"_{name}_in_parent"), ast.Number(start)))
        return kernel, BodyEmitter(kernel, names, self.float_type, self.streams.take())

    def _schedule(self, when: str, order: int, part: int, launches: list[LaunchOp],
                  label: str) -> None:
        self.items.append(ScheduledItem(slot_key(when), order, label, part, launches))

    def _launch(self, kernel: KernelOp, emitter: BodyEmitter) -> LaunchOp:
        return LaunchOp(kernel.kernel_name, self.clock, dict(emitter.launch_args))

    # -- clock-driven equations and summed variables --------------------------------------------
    def _state_update(self) -> None:
        update = next((op for op in self.op.body.ops if op.name == "model.state_update"), None)
        if update is None or self.size == 0:
            return
        kernel, emitter = self._kernel("stateupdate", Elements(self.size))
        emitter.statements(update.attributes["code"])
        emitter.store_written()
        self.kernels.append(kernel)
        self._schedule("groups", 0, 0, [self._launch(kernel, emitter)], self.name)

    def _summed_variables(self) -> None:
        for equation in self.op.members(model.EquationOp):
            flags = self.op.variables()[equation.sym_name].attributes.get("flags", ())
            if "summed" not in flags:
                continue
            base, _, side = equation.sym_name.rpartition("_")
            group = self.target if side == "post" else self.source
            start, stop = self.target_range if side == "post" else self.source_range
            offsets = f"{self.name}._{side}_offsets"
            items = f"{self.name}._{side}_synapses"
            access = group.names.arrays[base]
            # Only the (sub)group's elements are set: a disjoint subgroup's summed variable may
            # write the same parent variable (the sums below touch only targets of synapses).
            zero, zero_emitter = self._kernel(f"{equation.sym_name}_zero", Elements(stop - start))
            element = zero.body.add(AddOp(zero.index, zero_emitter.constant(start, Type.I64))) \
                if start else zero.index
            zero.body.append(StoreOp(access.array, element,
                                     zero_emitter.constant(0.0, access.type)))
            total, emitter = self._kernel(f"{equation.sym_name}_sum",
                                          Segments(SymbolRef(offsets), SymbolRef(items),
                                                   group.size))
            # In synapse order per neuron: the same sum on every device (no atomics).
            emitter.statements([ast.Statement(equation.sym_name, "+=",
                                              equation.attributes["expr"])])
            emitter.store_written()
            self.kernels += [zero, total]
            # Brian: in `groups` at the target's order - 1, and a subgroup's order is its
            # parent's + 1.
            order = group.order - (f"{'target' if side == 'post' else 'source'}_range"
                                   not in self.op.attributes)
            self._schedule("groups", order, 0,
                           [self._launch(zero, zero_emitter), self._launch(total, emitter)],
                           f"{self.name}.{equation.sym_name}")

    # -- pathways ---------------------------------------------------------------------------------
    def _pathway(self, pathway: model.PathwayOp) -> None:
        name = pathway.sym_name
        direction = pathway.attributes["direction"]
        strategy = pathway.attributes.get("strategy")
        if strategy is None:
            raise LoweringError(f"@{self.name}: pathway '{name}' has no propagation strategy",
                                hint="run select-propagation before lower-to-kernels")
        if strategy not in STRATEGIES:
            raise LoweringError(f"@{self.name}: the strategy {strategy!r} of pathway '{name}' "
                                "cannot be lowered yet", hint="force pull-ordered: always correct")
        trigger = self.source if direction == "pre" else self.target
        spikes = spike_list_name(trigger.name, pathway.attributes["event"])
        order = PATHWAY_ORDER[direction]
        if "delay" not in pathway.attributes:  # per-synapse delays
            self._schedule("synapses", order, 0, self._delayed(pathway, strategy, spikes, trigger),
                           f"{self.name}.{name}")
            return
        launches: list[LaunchOp] = []
        delay_steps = int(round(pathway.attributes["delay"] / self.dt))
        if delay_steps > 0:
            spikes = self._delay_ring(name, spikes, trigger.size, delay_steps, launches)
        code = list(self.event_driven) + list(pathway.attributes["code"])
        if self.event_driven:
            code.append(ast.Statement("lastupdate", "=", ast.Name("t")))
        # One delay for all synapses: a ring of sums or a history is a push, a queue is a pull.
        if strategy in ("push-atomic", "dendritic-ring", "spike-history"):
            kernel, emitter = self._push(name, direction, spikes, code)
        else:
            kernel, emitter = self._pull(name, direction, spikes, trigger, code, launches)
        launches.append(self._launch(kernel, emitter))
        self.kernels.append(kernel)
        self._schedule("synapses", order, 0, launches, f"{self.name}.{name}")

    def _delayed(self, pathway: model.PathwayOp, strategy: str, spikes: str,
                 trigger: GroupContext) -> list[LaunchOp]:
        """Per-synapse delays: dendritic-ring for accumulations known at send time; the spike
        history for order-independent effects (also dendritic-ring's when event-driven
        variables must be updated on arrival); else the spike queue, which is correct for every
        effect (so it also serves push-atomic and pull-ordered)."""
        if strategy == "dendritic-ring" and not self.event_driven:
            return lower_dendritic_ring(self, pathway, spikes)
        code = list(self.event_driven) + list(pathway.attributes["code"])
        if self.event_driven:
            code.append(ast.Statement("lastupdate", "=", ast.Name("t")))
        if strategy in ("spike-history", "dendritic-ring"):
            return lower_spike_history(self, pathway, spikes, trigger, code)
        return lower_spike_queue(self, pathway, spikes, trigger, code)

    def _push(self, name: str, direction: str, spikes: str, code) -> tuple[KernelOp, BodyEmitter]:
        side = "pre" if direction == "pre" else "post"
        space = Outgoing(SymbolRef(spikes), SymbolRef(f"{self.name}._{side}_offsets"),
                         SymbolRef(f"{self.name}._{side}_synapses"))
        return self._push_body(f"{name}_push", space, name, code)

    def _push_body(self, suffix: str, space, name: str, code) -> tuple[KernelOp, BodyEmitter]:
        """A kernel running `code` once per synapse of `space` in no particular order:
        accumulations on neuron variables are atomic adds, anything else on them an error."""
        kernel, emitter = self._kernel(suffix, space)
        emitter.atomic_names = {n for n, a in emitter.names.arrays.items() if a.index != OWN}
        emitter.statements(code)
        written_neurons = [n for n in emitter.written if emitter.names.arrays[n].index != OWN]
        if written_neurons:
            raise LoweringError(f"@{self.name}: pathway '{name}' assigns {written_neurons[0]!r} "
                                "with more than an accumulation, which a kernel without synapse "
                                "order (push-atomic, spike-history) cannot do",
                                hint="select-propagation chooses pull-ordered or spike-queue "
                                     "for such effects")
        emitter.store_written()
        return kernel, emitter

    def _pull(self, name: str, direction: str, spikes: str, trigger: GroupContext, code,
              launches: list[LaunchOp]) -> tuple[KernelOp, BodyEmitter]:
        stamp = f"{self.name}._{name}_stamp"
        self.arrays.append(ArrayOp(stamp, Type.I64, trigger.size))
        marker, marker_emitter = self._kernel(f"{name}_stamp", Spikes(SymbolRef(spikes)))
        stamped = marker.body.add(AddOp(marker.body.add(StepOp()),
                                        marker_emitter.constant(1, Type.I64)))
        marker.body.append(StoreOp(stamp, marker.index, stamped))
        self.kernels.append(marker)
        launches.append(self._launch(marker, marker_emitter))
        other = "post" if direction == "pre" else "pre"
        other_group = self.target if direction == "pre" else self.source
        space = Segments(SymbolRef(f"{self.name}._{other}_offsets"),
                         SymbolRef(f"{self.name}._{other}_synapses"), other_group.size)
        kernel, emitter = self._kernel(f"{name}_pull", space)
        trigger_side = PRE if direction == "pre" else POST
        trigger_neuron = emitter.array_index(ArrayAccess("", Type.I32, False, trigger_side))
        seen = kernel.body.add(LoadOp(stamp, trigger_neuron, Type.I64))
        now = kernel.body.add(AddOp(kernel.body.add(StepOp()), emitter.constant(1, Type.I64)))
        active = kernel.body.add(CmpOp("eq", seen, now))
        masked_effects(self.name, name, emitter, code, active, trigger_side)
        return kernel, emitter

    def _delay_ring(self, name: str, spikes: str, size: int, delay: int,
                    launches: list[LaunchOp]) -> str:
        """Spike lists delayed by `delay` steps through a ring of `delay + 1` rows."""
        ring, delayed, width = f"{self.name}._{name}_ring", f"{self.name}._{name}_delayed", size + 1
        self.arrays += [ArrayOp(ring, Type.I32, (delay + 1) * width),
                        ArrayOp(delayed, Type.I32, width)]
        for suffix, row_shift, source, target in (("ring_write", 0, spikes, ring),
                                                  ("ring_read", 1, ring, delayed)):
            kernel, emitter = self._kernel(f"{name}_{suffix}", Elements(width))
            body = kernel.body
            step = body.add(StepOp())
            shifted = body.add(AddOp(step, emitter.constant(row_shift, Type.I64)))
            row = body.add(ModOp(shifted, emitter.constant(delay + 1, Type.I64)))
            offset = body.add(AddOp(body.add(MulOp(row, emitter.constant(width, Type.I64))),
                                    kernel.index))
            read_at, write_at = (kernel.index, offset) if row_shift == 0 else (offset, kernel.index)
            value = body.add(LoadOp(source, read_at, Type.I32))
            body.append(StoreOp(target, write_at, value))
            self.kernels.append(kernel)
            launches.append(self._launch(kernel, emitter))
        return delayed


def _event_driven_update(synapses: model.SynapsesOp) -> tuple[ast.Statement, ...]:
    from spikec.passes.integrate import event_driven_update
    return event_driven_update(synapses)
