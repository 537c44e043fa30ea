"""Kernels of a neuron group: state update, event detection (threshold), resets and
`run_regularly` code, with Brian's refractoriness.

Refractoriness, as Brian implements it: at the start of the state update
`not_refractory = timestep(t - lastspike, dt) >= timestep(refractory, dt)` (or, for a condition,
`not_refractory = not_refractory or not (condition)`); the threshold is `(cond) and
not_refractory`; a spiking neuron gets `not_refractory = False` and `lastspike = t`. Variables
flagged `unless refractory` are only written where `not_refractory` holds, except by resets.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikec.ir import expression as ast
from spikec.ir import model
from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Op
from spikec.ir.index_spaces import Elements, Spikes
from spikec.ir.kernel import ClearSpikesOp, KernelOp, LaunchOp
from spikec.ir.kernel_ops import EmitSpikeOp
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import ArrayAccess, BodyEmitter, LoweringError, Names
from spikec.passes.lowering.schedule_order import ScheduledItem, slot_key
from spikec.passes.lowering.timed_arrays import timed_array_accesses

STORED_ROLES = ("state", "parameter", "lastspike", "not_refractory", "delay")


def spike_list_name(group: str, event: str) -> str:
    return f"{group}._{event}space"


@dataclass
class GroupContext:
    """What kernels of one group share: its op, names, size, clock, float type."""

    op: model.ObjectOp
    names: Names
    float_type: Type
    streams: "StreamCounter"

    @property
    def name(self) -> str:
        return self.op.sym_name

    @property
    def size(self) -> int:
        return self.op.attributes["size"]

    @property
    def clock(self) -> str:
        return self.op.attributes["clock"].name

    @property
    def order(self) -> int:
        return self.op.attributes.get("order", 0)


class StreamCounter:
    """Hands out random stream ids, one per kernel, in a fixed order (so CPU and GPU agree)."""

    def __init__(self):
        self.next = 1

    def take(self) -> int:
        stream, self.next = self.next, self.next + 1
        return stream


def group_names(group: model.ObjectOp) -> Names:
    """Names in a group's code: stored variables are arrays indexed by the element (index 0 for
    shared ones), constants are kernel arguments, `i` the element index, `N` the size."""
    names = Names()
    variables = group.variables()
    for name, variable in variables.items():
        role = variable.attributes["role"]
        if role in STORED_ROLES:
            names.arrays[name] = ArrayAccess(f"{group.sym_name}.{name}",
                                             variable.attributes["type"],
                                             variable.attributes.get("shared", False))
        if "unless refractory" in variable.attributes.get("flags", ()):
            names.conditional_writes[name] = "not_refractory"
    for name, constant in group.constants().items():
        value = constant.attributes["value"]
        names.constants[name] = (value, Type.I64 if isinstance(value, int) else Type.F64)
    names.constants["N"] = (group.attributes["size"], Type.I64)
    names.timed_arrays = timed_array_accesses(group)
    for equation in group.members(model.EquationOp):
        if equation.attributes["kind"] == "subexpression":
            names.subexpressions[equation.sym_name] = equation.attributes["expr"]
    return names


def new_kernel(context: GroupContext, suffix: str, space, dt: float) -> tuple[KernelOp, BodyEmitter]:
    """An empty kernel of the group and its emitter; `dt` is the launching clock's step."""
    kernel = KernelOp(f"{context.name}.{suffix}", space)
    names = context.names.for_kernel(dt)
    emitter = BodyEmitter(kernel, names, context.float_type, context.streams.take())
    if "i" in context.op.variables():
        emitter.values["i"] = kernel.index
    return kernel, emitter


def launch(kernel: KernelOp, emitter: BodyEmitter, clock: str) -> LaunchOp:
    return LaunchOp(kernel.kernel_name, clock, dict(emitter.launch_args))


def group_kernels(context: GroupContext, dt_of: dict[str, float]) -> tuple[list[Op], list[ScheduledItem]]:
    """The kernels of one neuron group and where they go in the step."""
    kernels: list[Op] = []
    items: list[ScheduledItem] = []
    group, clock = context.op, context.clock
    events = {op.sym_name: op for op in group.members(model.EventOp)}
    spike = events.get("spike")
    refractory = spike.attributes.get("refractory") if spike is not None else None
    update = next((op for op in group.body.ops if op.name == "model.state_update"), None)
    leftover = [op for op in group.members(model.EquationOp)
                if op.attributes["kind"] == "differential"]
    if leftover:
        raise LoweringError(f"@{context.name} still has differential equations "
                            f"({', '.join(op.sym_name for op in leftover)})",
                            hint="run the integrate pass before lower-to-kernels")
    if update is not None or refractory is not None:
        kernel, emitter = new_kernel(context, "stateupdate", Elements(context.size), dt_of[clock])
        code = list(update.attributes["code"]) if update is not None else []
        # `integrate` starts the state update with Brian's not_refractory update; a group with
        # refractoriness but no differential equation gets it here.
        if refractory is not None and not any(s.target == "not_refractory" for s in code):
            code.insert(0, _refractory_statement(refractory))
        emitter.statements(code)
        emitter.store_written()
        kernels.append(kernel)
        items.append(ScheduledItem(slot_key("groups"), context.order, context.name, 0,
                                   [launch(kernel, emitter, clock)]))
    for event in events.values():
        kernels_and_items = _event_kernels(context, event, refractory is not None, dt_of[clock])
        kernels += kernels_and_items[0]
        items += kernels_and_items[1]
    for regular in group.members(model.RegularOp):
        regular_clock = regular.attributes["clock"].name
        kernel, emitter = new_kernel(context, regular.sym_name.replace(".", "_"),
                                     Elements(context.size), dt_of[regular_clock])
        emitter.statements(regular.attributes["code"])
        emitter.store_written()
        kernels.append(kernel)
        items.append(ScheduledItem(slot_key(regular.attributes["when"]),
                                   regular.attributes["order"], regular.sym_name, 0,
                                   [launch(kernel, emitter, regular_clock)]))
    return kernels, items


def _refractory_statement(refractory) -> ast.Statement:
    if isinstance(refractory, (int, float)):
        duration: ast.Expr = ast.Number(float(refractory))
    else:
        duration = refractory
    if isinstance(refractory, (int, float)) or not _is_condition(refractory):
        elapsed = ast.Call("timestep", (ast.BinaryOp("-", ast.Name("t"), ast.Name("lastspike")),
                                        ast.Name("dt")))
        period = ast.Call("timestep", (duration, ast.Name("dt")))
        return ast.Statement("not_refractory", "=", ast.Compare(">=", elapsed, period))
    still = ast.UnaryOp("not", refractory)
    return ast.Statement("not_refractory", "=",
                         ast.BoolOp("or", ast.Name("not_refractory"), still))


def _is_condition(expr: ast.Expr) -> bool:
    """Whether a refractory expression is a condition (the builder checked it is that or a
    time): conditions have a comparison, boolean operator or boolean literal at the top."""
    return isinstance(expr, (ast.Compare, ast.BoolOp)) or (
        isinstance(expr, ast.UnaryOp) and expr.op == "not") or (
        isinstance(expr, ast.Number) and isinstance(expr.value, bool))


def _event_kernels(context: GroupContext, event: model.EventOp, refractory: bool,
                   dt: float) -> tuple[list[Op], list[ScheduledItem]]:
    name, clock = event.sym_name, context.clock
    space = spike_list_name(context.name, name)
    kernel, emitter = new_kernel(context, f"{name}_threshold", Elements(context.size), dt)
    condition = event.attributes["condition"]
    uses_refractory = refractory and name == "spike"
    if uses_refractory:
        condition = ast.BoolOp("and", condition, ast.Name("not_refractory"))
    fired = emitter.convert(emitter.expression(condition), Type.BOOL)
    kernel.body.append(EmitSpikeOp(space, kernel.index, fired))
    if uses_refractory:
        emitter.assign("not_refractory", emitter.constant(False, Type.BOOL), fired,
                       honour_conditional_writes=False)
        emitter.assign("lastspike", emitter.time(), fired, honour_conditional_writes=False)
        emitter.store_written()
    kernels: list[Op] = [kernel]
    items = [ScheduledItem(slot_key("thresholds"), context.order, context.name, 0,
                           [ClearSpikesOp(space, clock), launch(kernel, emitter, clock)])]
    code = event.attributes.get("code")
    if code:
        reset, reset_emitter = new_kernel(context, f"{name}_reset", Spikes(SymbolRef(space)), dt)
        reset_emitter.statements(code, honour_conditional_writes=False)
        reset_emitter.store_written()
        kernels.append(reset)
        when = event.attributes.get("when", "resets" if name == "spike" else "after_resets")
        items.append(ScheduledItem(slot_key(when), context.order, context.name, 1,
                                   [launch(reset, reset_emitter, clock)]))
    return kernels, items
