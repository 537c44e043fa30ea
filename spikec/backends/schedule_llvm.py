"""The parts of a tick both targets build in LLVM IR: which clocks are due, spike-list clears and
the advance of the clock steps (the semantics of `Interpreter.tick`)."""

from __future__ import annotations

from llvmlite import ir

from spikec.backends.abi import LaunchPlan, ModulePlan
from spikec.backends.lower_to_llvm import F64, I1, I64, MEMORY_TYPES, LoweredModule


def state_pointer(builder: ir.IRBuilder, state: ir.Value, slot: int) -> ir.Value:
    return builder.gep(state, [ir.Constant(I64, slot)], source_etype=I64)


def due_flags(builder: ir.IRBuilder, plan: ModulePlan, state: ir.Value) -> list[ir.Value]:
    """An i1 per clock: its time ``step * dt`` is at most the earliest clock time plus the
    interpreter's tolerance (the same double operations as `Interpreter.tick`)."""
    if len(plan.clocks) == 1:
        return [ir.Constant(I1, 1)]
    times = []
    for clock in plan.clocks:
        step = builder.load(state_pointer(builder, state, plan.step_slot(clock.index)), typ=I64)
        times.append(builder.fmul(builder.sitofp(step, F64), ir.Constant(F64, clock.dt)))
    now = times[0]
    for time in times[1:]:
        now = builder.select(builder.fcmp_ordered("<", time, now), time, now)
    limit = builder.fadd(now, ir.Constant(F64, plan.tolerance))
    return [builder.fcmp_ordered("<=", time, limit) for time in times]


def clear_spikes(builder: ir.IRBuilder, plan: ModulePlan, spike_list: str, pointer: ir.Value) -> None:
    """Set the count (the last entry) of spike list `spike_list` at `pointer` to 0."""
    array = plan.arrays[spike_list]
    element_type = MEMORY_TYPES[array.element_type]
    builder.store(ir.Constant(element_type, 0),
                  builder.gep(pointer, [ir.Constant(I64, array.length - 1)], source_etype=element_type))


def advance_steps(builder: ir.IRBuilder, plan: ModulePlan, state: ir.Value, due: list[ir.Value]) -> None:
    for clock, flag in zip(plan.clocks, due):
        pointer = state_pointer(builder, state, plan.step_slot(clock.index))
        step = builder.load(pointer, typ=I64)
        builder.store(builder.add(step, builder.zext(flag, I64)), pointer)


def parameter_constants(types, values) -> list[ir.Constant]:
    """A launch's invariant values as LLVM constants of the kernel's parameter types."""
    result = []
    for type, value in zip(types, values):
        llvm_type = MEMORY_TYPES[type]
        result.append(ir.Constant(llvm_type, float(value) if type.is_float else int(value)))
    return result


def launch_arguments(lowered: LoweredModule, step: LaunchPlan, arrays: dict[str, ir.Value],
                     state: ir.Value) -> list[ir.Value]:
    """The arguments of a CPU kernel call for launch `step` (arrays by name, the state words)."""
    abi = lowered.kernels[step.kernel]
    arguments = [arrays[name] for name in abi.arrays]
    arguments += [state, ir.Constant(I64, step.clock), ir.Constant(F64, step.dt)]
    return arguments + parameter_constants(abi.parameter_types, step.parameters)


def tick_loop(builder: ir.IRBuilder, ticks: ir.Value) -> tuple[ir.PhiInstr, ir.Block]:
    """Start ``for (tick = 0; tick < ticks; tick++)``: returns the tick phi (the caller adds the
    incoming value of the next tick and branches back to its block) and the block after the loop;
    the builder is left in the loop body."""
    function = builder.function
    entry = builder.block
    header = function.append_basic_block("tick.header")
    body = function.append_basic_block("tick.body")
    done = function.append_basic_block("done")
    builder.branch(header)
    builder.position_at_end(header)
    tick = builder.phi(I64, name="tick")
    tick.add_incoming(ir.Constant(I64, 0), entry)
    builder.cbranch(builder.icmp_signed("<", tick, ticks), body, done)
    builder.position_at_end(body)
    return tick, done
