"""Building the model IR from description objects, checking names and dimensions on the way.

This is where external names are resolved (the objects' `namespace=`, then the namespace given
here, which defaults to the caller's locals and globals, as Brian's `run` does) and frozen into
`model.constant` ops, and where every equation, condition and statement is checked for
dimensions against the object's variables. The result verifies and prints as text.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from spikec.errors import EquationError
from spikec.frontend.clocks import Clock
from spikec.frontend.equations import DIFFERENTIAL_EQUATION, SUBEXPRESSION
from spikec.frontend.groups import Code, Condition, Event, Group, NeuronGroup
from spikec.frontend.inputs import SpikeGeneratorGroup, timed_array_ops
from spikec.ir.model_inputs import PoissonInputOp
from spikec.frontend.monitors import EventMonitor, PopulationRateMonitor, StateMonitor
from spikec.frontend.namespace import Namespace, caller_namespace
from spikec.frontend.poisson_input import PoissonInput
from spikec.frontend.subgroups import element_range, range_attribute
from spikec.frontend.synapses import Synapses
from spikec.frontend.variables import DELAY, VariableSpec
from spikec.ir import model
from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Block, Module, Op, Region
from spikec.ir.dimension_rules import (BOOLEAN, INTEGER, TIME, Source, check_condition,
                                       check_dimension, check_refractory, check_statement)
from spikec.ir.expression import Expr, identifiers
from spikec.ir.types import Type
from spikec.ir.verify import verify_module

_DYNAMIC_ORIGINS = ("variable", "special", "noise")


def build_model_ir(objects: Iterable[Any], namespace: Mapping[str, Any] | None = None,
                   level: int = 0) -> Module:
    """The verified model IR of `objects` (groups, synapses, monitors, Poisson inputs). Names are
    resolved in each object's own `namespace=` first, then in `namespace` (default: the caller's
    frame). A `PoissonInput` acts only where it is among `objects`, as in Brian."""
    run_namespace = dict(namespace) if namespace is not None else caller_namespace(level)
    objects = list(objects)
    inputs = [obj for obj in objects if isinstance(obj, PoissonInput)]

    def inputs_on(group: Group) -> list[PoissonInput]:
        return [poisson for poisson in inputs if element_range(poisson.target)[0] is group]
    ops: list[Op] = []
    clocks: dict[int, Clock] = {}
    for obj in objects:
        for clock in _clocks_of(obj):
            clocks.setdefault(id(clock), clock)
    ops += [model.ClockOp.create(attributes={"sym_name": SymbolRef(c.name), "dt": c.dt_seconds})
            for c in clocks.values()]
    for obj in objects:
        if isinstance(obj, NeuronGroup):
            ops.append(_object_op(model.GroupOp, obj, _group_namespace(obj, run_namespace),
                                  poisson_inputs=inputs_on(obj)))
    for obj in objects:
        if isinstance(obj, Synapses):
            ops.append(_object_op(model.SynapsesOp, obj, _synapses_namespace(obj, run_namespace),
                                  _ends(obj), poisson_inputs=inputs_on(obj)))
    check_summed_targets([obj for obj in objects if isinstance(obj, Synapses)])
    for obj in objects:
        if isinstance(obj, (EventMonitor, StateMonitor, PopulationRateMonitor)):
            ops.append(_monitor_op(obj))
    module = Module(ops)
    verify_module(module)
    return module


def _ends(synapses: Synapses) -> dict[str, Any]:
    """`source`/`target` attributes: the groups, and for a subgroup its parent and the range
    (`source_range = [start, stop]`, docs/model-ir.md)."""
    attributes: dict[str, Any] = {}
    for end in ("source", "target"):
        group = getattr(synapses, end)
        attributes[end] = SymbolRef(element_range(group)[0].name)
        if range_attribute(group) is not None:
            attributes[f"{end}_range"] = range_attribute(group)
    return attributes


def check_summed_targets(all_synapses: list[Synapses]) -> None:
    """Two summed variables may write one variable only in disjoint subgroups (Brian's rule):
    each sets the variable over its whole target, so overlapping writes would overwrite."""
    seen: dict[tuple[str, str], list[tuple[Synapses, int, int]]] = {}
    for synapses in all_synapses:
        for name, eq in synapses.equations.items():
            if "summed" not in eq.flags:
                continue
            base, _, side = name.rpartition("_")
            parent, start, stop = element_range(synapses.target if side == "post"
                                                else synapses.source)
            key = (parent.name, base)
            for other, other_start, other_stop in seen.get(key, []):
                if start < other_stop and other_start < stop:
                    raise EquationError(
                        f"{synapses.owner} and {other.owner} both sum into '{base}' of "
                        f"{parent.owner}, on overlapping elements ({start}..{stop - 1} and "
                        f"{other_start}..{other_stop - 1})",
                        hint="use a separate variable per summed variable, or disjoint subgroups")
            seen.setdefault(key, []).append((synapses, start, stop))


def _clocks_of(obj: Any) -> list[Clock]:
    clocks = [obj.clock] if hasattr(obj, "clock") else []
    clocks += [operation.clock for operation in getattr(obj, "regular_operations", [])]
    return clocks


def _group_namespace(group: Group, run_namespace: dict) -> Namespace:
    return Namespace({n: (s.dim, s.kind) for n, s in group.variables.items()}, group.namespace,
                     run_namespace)


def _synapses_namespace(synapses: Synapses, run_namespace: dict) -> Namespace:
    """Synaptic code sees, by priority: the synapse's variables, `x_pre`/`x_post`, then the
    target's variables without suffix (Brian's rule)."""
    known: dict[str, tuple] = {n: (s.dim, s.kind) for n, s in synapses.target.variables.items()}
    known.update({f"{n}_pre": (s.dim, s.kind) for n, s in synapses.source.variables.items()})
    known.update({f"{n}_post": (s.dim, s.kind) for n, s in synapses.target.variables.items()})
    known.update({n: (s.dim, s.kind) for n, s in synapses.variables.items()})
    return Namespace(known, synapses.namespace, run_namespace)


def _object_op(op_class: type, obj: Group, namespace: Namespace,
               extra_attributes: dict | None = None, poisson_inputs: list[PoissonInput] = ()) -> Op:
    trees = _check_object(obj, namespace, poisson_inputs)
    body = Block()
    for spec in obj.variables.values():
        body.append(_variable_op(spec, obj.dtype))
    for name in sorted(_constants_used(trees, namespace)):
        info = namespace.resolve(name)
        body.append(model.ConstantOp.create(attributes={
            "sym_name": SymbolRef(name), "value": info.value, "dim": info.dim}))
    for op in timed_array_ops(trees, namespace):
        body.append(op)
    for name, eq in obj.equations.items():
        if eq.expr is not None and "summed" not in eq.flags:
            kind = "differential" if eq.type == DIFFERENTIAL_EQUATION else "subexpression"
            body.append(model.EquationOp.create(attributes={
                "sym_name": SymbolRef(name), "kind": kind, "expr": eq.expr.tree}))
    for event in _events(obj):
        attributes: dict[str, Any] = {"sym_name": SymbolRef(event.name),
                                      "condition": event.condition.expr}
        if event.code is not None:
            attributes["code"] = event.code.statements
        if event.refractory is not None:
            attributes["refractory"] = (event.refractory.expr
                                        if isinstance(event.refractory, Condition)
                                        else float(np.asarray(event.refractory)))
        body.append(model.EventOp.create(attributes=attributes))
    for operation in obj.regular_operations:
        body.append(model.RegularOp.create(attributes={
            "sym_name": SymbolRef(operation.name), "clock": SymbolRef(operation.clock.name),
            "when": operation.when, "order": operation.order,
            "code": operation.code.statements}))
    if isinstance(obj, SpikeGeneratorGroup):
        body.append(obj.model_op())
    for poisson in poisson_inputs:
        body.append(PoissonInputOp.create(attributes={
            "sym_name": SymbolRef(poisson.name), "target_var": poisson.target_var,
            "n": poisson.N, "p": poisson.p, "weight": poisson.weight, "when": poisson.when,
            "order": poisson.order,
            **({"range": poisson.target_range} if poisson.target_range else {})}))
    if isinstance(obj, Synapses):
        _append_synapse_members(obj, body)
    attributes = {"sym_name": SymbolRef(obj.name), "size": obj.size,
                  "clock": SymbolRef(obj.clock.name),
                  "dtype": Type.F32 if obj.dtype == np.float32 else Type.F64,
                  "methods": tuple(obj.method), **(extra_attributes or {})}
    return op_class.create(attributes=attributes, regions=[Region(body)])


def _variable_op(spec: VariableSpec, dtype: np.dtype) -> Op:
    element_type = {BOOLEAN: Type.BOOL, INTEGER: Type.I32}.get(
        spec.kind, Type.F32 if dtype == np.float32 else Type.F64)
    attributes: dict[str, Any] = {"sym_name": SymbolRef(spec.name), "role": spec.role,
                                  "dim": spec.dim, "type": element_type}
    if spec.flags:
        attributes["flags"] = tuple(spec.flags)
    if spec.shared:
        attributes["shared"] = True
    if spec.read_only:
        attributes["read_only"] = True
    return model.VariableOp.create(attributes=attributes)


def _append_synapse_members(synapses: Synapses, body: Block) -> None:
    for name, eq in synapses.equations.items():
        if "summed" in eq.flags:
            body.append(model.EquationOp.create(attributes={
                "sym_name": SymbolRef(name), "kind": "subexpression", "expr": eq.expr.tree}))
    for pathway in synapses.pathways.values():
        attributes: dict[str, Any] = {"sym_name": SymbolRef(pathway.name),
                                      "direction": pathway.direction, "event": pathway.event,
                                      "code": pathway.code.statements}
        delay = homogeneous_delay(synapses, pathway.name)
        if delay is not None:
            attributes["delay"] = delay
        else:  # per-synapse delays: the lowering sizes its rings by the longest, and knows
            # from the shortest whether a step's sends can reach the row it delivers
            attributes["max_delay"] = max_delay(synapses, pathway.name)
            attributes["min_delay"] = min_delay(synapses, pathway.name)
        if pathway.name in synapses.propagation:
            attributes["propagation"] = synapses.propagation[pathway.name]
        body.append(model.PathwayOp.create(attributes=attributes))


def homogeneous_delay(synapses: Synapses, pathway: str) -> float | None:
    """The pathway's delay in seconds when all its synapses share one (Brian: `delay=` given,
    or every per-synapse delay equal, 0 by default), else None (heterogeneous delays)."""
    declared = synapses.pathways[pathway].delay
    if declared is not None:
        return float(np.asarray(declared))
    values = synapses.values.read(DELAY if pathway == "pre" else f"{pathway}_delay")
    if len(values) == 0:
        return 0.0
    first = float(values[0])
    return first if np.all(values == first) else None


def max_delay(synapses: Synapses, pathway: str) -> float:
    """The longest of the pathway's per-synapse delays, in seconds (0 without synapses)."""
    values = synapses.values.read(DELAY if pathway == "pre" else f"{pathway}_delay")
    return float(np.max(values)) if len(values) else 0.0


def min_delay(synapses: Synapses, pathway: str) -> float:
    """The shortest of the pathway's per-synapse delays, in seconds (0 without synapses)."""
    values = synapses.values.read(DELAY if pathway == "pre" else f"{pathway}_delay")
    return float(np.min(values)) if len(values) else 0.0


def delay_signature(synapses: Synapses, pathway: str) -> float | tuple:
    """What a built network's lowering of `pathway` depends on in its delays: the homogeneous
    delay, or for per-synapse delays the delays in steps (Brian's rounding), whose longest sizes
    the rings and whose order the runtime's queue tables follow."""
    delay = homogeneous_delay(synapses, pathway)
    if delay is not None:
        return delay
    values = synapses.values.read(DELAY if pathway == "pre" else f"{pathway}_delay")
    steps = np.round(np.asarray(values, dtype=np.float64) / synapses.clock.dt_seconds)
    return ("per-synapse", hash(steps.astype(np.int64).tobytes()))


def _monitor_op(monitor: Any) -> Op:
    attributes: dict[str, Any] = {"sym_name": SymbolRef(monitor.name),
                                  "source": SymbolRef(element_range(monitor.source)[0].name)}
    if range_attribute(monitor.source) is not None:
        attributes["source_range"] = range_attribute(monitor.source)
    if isinstance(monitor, EventMonitor):
        attributes.update(kind="spike" if monitor.event == "spike" else "event",
                          event=monitor.event, variables=monitor.variables,
                          record=monitor.record, when=monitor.when, order=monitor.order)
    elif isinstance(monitor, StateMonitor):
        record = monitor.record if isinstance(monitor.record, bool) \
            else tuple(int(x) for x in monitor.record)
        attributes.update(kind="state", variables=monitor.variables, record=record,
                          clock=SymbolRef(monitor.clock.name), when=monitor.when,
                          order=monitor.order)
    else:
        attributes["kind"] = "rate"
    return model.MonitorOp.create(attributes=attributes)


def _constants_used(trees: list[Expr], namespace: Namespace) -> set[str]:
    """External names (constants, units, namespace values) the trees use."""
    names = set()
    for tree in trees:
        for name in identifiers(tree):
            info = namespace.resolve(name)
            if info is not None and info.origin not in _DYNAMIC_ORIGINS and info.value is not None:
                names.add(name)
    return names


def _check_object(obj: Group, namespace: Namespace, poisson_inputs: list[PoissonInput] = ()) -> list[Expr]:
    """Check every piece of code of `obj` and of the Poisson inputs acting on it; return all
    their trees (for finding constants)."""
    trees: list[Expr] = []
    read_only = {n for n, s in obj.variables.items() if s.read_only}
    for eq in obj.equations.values():
        if eq.expr is None:
            continue
        source = eq.source or Source(eq.expr.code, obj.owner)
        if eq.type == DIFFERENTIAL_EQUATION:
            check_dimension(eq.expr.tree, eq.dim / TIME, namespace, source,
                            f"{obj.owner}: the differential equation of '{eq.varname}'")
        elif eq.var_type == BOOLEAN:
            check_condition(eq.expr.tree, namespace, source, f"the subexpression '{eq.varname}'")
        elif eq.type == SUBEXPRESSION:
            check_dimension(eq.expr.tree, eq.dim, namespace, source,
                            f"{obj.owner}: the subexpression '{eq.varname}'")
        trees.append(eq.expr.tree)
    for event in _events(obj):
        trees += _check_condition(event.condition, namespace)
        if event.code is not None:
            trees += _check_code(event.code, namespace, read_only)
        if isinstance(event.refractory, Condition):
            trees += _check_refractory(event.refractory, namespace)
    for operation in obj.regular_operations:
        trees += _check_code(operation.code, namespace, read_only)
    if isinstance(obj, Synapses):
        for pathway in obj.pathways.values():
            trees += _check_code(pathway.code, namespace, read_only)
    for poisson in poisson_inputs:
        if not isinstance(poisson.weight, float):  # an expression: the variable's dimension
            check_dimension(poisson.weight, obj.variables[poisson.target_var].dim, namespace,
                            Source(str(poisson.weight), f"PoissonInput '{poisson.name}'"),
                            f"PoissonInput '{poisson.name}': the weight")
            trees.append(poisson.weight)
    return trees


def _events(obj: Group) -> list[Event]:
    """The object's events with a condition (a SpikeGeneratorGroup's 'spike' has none)."""
    return [event for event in getattr(obj, "events", {}).values() if event is not None]


def _check_condition(condition: Condition, namespace: Namespace) -> list[Expr]:
    check_condition(condition.expr, namespace, Source(condition.text, condition.owner),
                    condition.owner)
    return [condition.expr]


def _check_code(code: Code, namespace: Namespace, read_only: set[str]) -> list[Expr]:
    source = Source(code.text, code.owner)
    for statement in code.statements:
        check_statement(statement, namespace, source, read_only)
    return [s.expr for s in code.statements]


def _check_refractory(refractory: Condition, namespace: Namespace) -> list[Expr]:
    """`refractory='...'` is either a duration or a condition (still refractory while true)."""
    check_refractory(refractory.expr, namespace, Source(refractory.text, refractory.owner),
                     refractory.owner)
    return [refractory.expr]
