"""The reference interpreter of the kernel IR: the semantics every pass and backend must keep.

A kernel's body runs as if each index of its space were processed one after the other, in the
space's order. The interpreter gets the same results vectorised: each op runs once on vectors
holding all elements' values, and the ops with effects resolve conflicts the sequential way:

* ``store``: when several elements write one place, the last element (in order) wins;
* ``atomic_add``: every element's value is added, in element order (``np.add.at``);
* ``emit_spike``: indices are appended in element order; the list's last entry counts them.

A load of a place that another element of the same launch writes is a race: its value is not
defined (a GPU gives no order). A load after the element's own store sees that store. Integer
division and remainder by zero give 0. Out-of-range indices raise `KernelRuntimeError`.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from spikec.errors import KernelRuntimeError
from spikec.ir import philox
from spikec.ir.core import Module, Op, Value
from spikec.ir.kernel import ClearSpikesOp, ClockOp, KernelOp, LaunchOp, arrays as declared_arrays
from spikec.ir.kernel import schedule as find_schedule
from spikec.ir.kernel_ops import (ArgOp, AtomicAddOp, ComputeOp, ConstantOp, EmitSpikeOp, LoadOp,
                                  RandNormalOp, RandUniformOp, StepOp, StoreOp, TimeOp, typed)
from spikec.ir.printer import describe_op

Scalar = float | int | bool


def allocate_arrays(module: Module) -> dict[str, np.ndarray]:
    """Zero-filled arrays for every array the module declares (spike lists start empty)."""
    return {name: np.zeros(op.length, dtype=op.element_type.numpy_dtype)
            for name, op in declared_arrays(module).items()}


class Interpreter:
    """Runs kernels and the schedule of a verified kernel-IR module over numpy arrays.

    `arrays` maps array names to numpy arrays of the declared dtype and length; they are updated
    in place. `seed` keys the random numbers (see `spikec.ir.philox`)."""

    def __init__(self, module: Module, arrays: dict[str, np.ndarray] | None = None, seed: int = 0):
        self.module = module
        self.arrays = allocate_arrays(module) if arrays is None else arrays
        self.seed = seed
        self.clock_steps = {op.symbol.name: 0 for op in module.ops if isinstance(op, ClockOp)}
        for name, op in declared_arrays(module).items():
            array = self.arrays.get(name)
            if array is None or array.dtype != op.element_type.numpy_dtype or array.shape != (op.length,):
                found = "missing" if array is None else f"{array.dtype}[{array.shape}]"
                raise KernelRuntimeError(f"array {name} must be {op.element_type}[{op.length}], found {found}")

    # -- the schedule -------------------------------------------------------------------------------
    def tick(self) -> float:
        """Run one time step of every clock due now (the clocks with the earliest time); return
        that time."""
        clocks = {op.symbol.name: op for op in self.module.ops if isinstance(op, ClockOp)}
        if not clocks:
            raise KernelRuntimeError("the module declares no clock, so its schedule cannot run")
        times = {name: self.clock_steps[name] * clock.dt for name, clock in clocks.items()}
        now = min(times.values())
        tolerance = 1e-9 * min(clock.dt for clock in clocks.values())
        due = {name for name, time in times.items() if time <= now + tolerance}
        schedule = find_schedule(self.module)
        for op in schedule.step.ops if schedule is not None else ():
            if op.clock.name not in due:
                continue
            if isinstance(op, ClearSpikesOp):
                self.arrays[op.spike_list.name][-1] = 0
            elif isinstance(op, LaunchOp):
                step = self.clock_steps[op.clock.name]
                self.launch(op.kernel.name, op.args, step, step * clocks[op.clock.name].dt)
        for name in due:
            self.clock_steps[name] += 1
        return now

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.tick()

    # -- one launch -------------------------------------------------------------------------------
    def launch(self, kernel: str | KernelOp, args: Mapping[str, Scalar] | None = None,
               step: int = 0, time: float = 0.0) -> None:
        """Run `kernel` once over its index space, at the given step and time."""
        if isinstance(kernel, str):
            found = self.module.lookup(kernel)
            if not isinstance(found, KernelOp):
                raise KernelRuntimeError(f"no kernel @{kernel} in the module")
            kernel = found
        launch = _Launch(self, kernel, dict(args or {}), step, time)
        launch.run()


class _Launch:
    """The state of one kernel launch: value environment, element count, step and time."""

    def __init__(self, interpreter: Interpreter, kernel: KernelOp, args: dict[str, Scalar], step: int,
                 time: float):
        self.arrays = interpreter.arrays
        self.seed = interpreter.seed
        self.kernel = kernel
        self.args = args
        self.step = step
        self.time = time
        self.env: dict[Value, object] = {}
        self.count = 0

    def run(self) -> None:
        for op in self.kernel.invariants.ops:
            self.execute(op)
        try:
            rounds = self.kernel.space.rounds(self.arrays, self.step)
        except ValueError as error:
            raise KernelRuntimeError(f"kernel @{self.kernel.kernel_name}: {error}") from None
        for indices in rounds:  # later rounds see the stores of earlier ones (segments)
            self.count = len(indices)
            self.env[self.kernel.index] = typed(indices, self.kernel.index.type)
            for op in self.kernel.body.ops:
                self.execute(op)

    def execute(self, op: Op) -> None:
        handler = _HANDLERS.get(type(op))
        if handler is not None:
            result = handler(self, op)
        elif isinstance(op, ComputeOp):
            with np.errstate(all="ignore"):
                result = op.evaluate(*(self.env[v] for v in op.operands))
        else:
            raise NotImplementedError(f"the interpreter cannot run {op.name}")
        if op.results:
            self.env[op.result] = typed(result, op.result.type)

    # -- helpers for ops with effects -----------------------------------------------------------------
    def per_element(self, op: Op) -> list[np.ndarray]:
        """The operands of an op with effects as vectors of one entry per element."""
        return [np.broadcast_to(self.env[v], (self.count,)) for v in op.operands]

    def active(self, values: list[np.ndarray], has_mask: bool) -> list[np.ndarray]:
        if not has_mask:
            return values
        mask = values[-1]
        return [v[mask] for v in values[:-1]]

    def checked_index(self, op: Op, array: np.ndarray, index: np.ndarray) -> np.ndarray:
        index = np.asarray(index, dtype=np.int64)
        bad = (index < 0) | (index >= len(array))
        if np.any(bad):
            raise KernelRuntimeError(
                f"index {int(index[bad].flat[0])} is outside 0..{len(array) - 1} in kernel "
                f"@{self.kernel.kernel_name}, op '{describe_op(op)}'")
        return index


def _load(launch: _Launch, op: LoadOp) -> object:
    array = launch.arrays[op.array.name]
    return array[launch.checked_index(op, array, launch.env[op.index])]


def _store(launch: _Launch, op: StoreOp) -> None:
    array = launch.arrays[op.array.name]
    index, value = launch.active(launch.per_element(op), op.mask is not None)
    index = launch.checked_index(op, array, index)
    _, first_from_end = np.unique(index[::-1], return_index=True)
    last = len(index) - 1 - first_from_end  # the last element writing each place wins
    array[index[last]] = value[last]


def _atomic_add(launch: _Launch, op: AtomicAddOp) -> None:
    array = launch.arrays[op.array.name]
    index, value = launch.active(launch.per_element(op), op.mask is not None)
    np.add.at(array, launch.checked_index(op, array, index), value)


def _emit_spike(launch: _Launch, op: EmitSpikeOp) -> None:
    spikes = launch.arrays[op.spike_list.name]
    (index,) = launch.active(launch.per_element(op), op.mask is not None)
    count = int(spikes[-1])
    if count + len(index) > len(spikes) - 1:
        raise KernelRuntimeError(f"spike list {op.spike_list} overflows (a neuron spiking twice in a "
                                 f"step?) in kernel @{launch.kernel.kernel_name}")
    spikes[count:count + len(index)] = index
    spikes[-1] = count + len(index)


def _arg(launch: _Launch, op: ArgOp) -> object:
    if op.arg_name not in launch.args:
        raise KernelRuntimeError(f"kernel @{launch.kernel.kernel_name} needs argument {op.arg_name!r}")
    return launch.args[op.arg_name]


def _rand(draw: Callable[..., np.ndarray]) -> Callable[[_Launch, Op], object]:
    def handler(launch: _Launch, op: Op) -> object:
        return draw(launch.seed, op.attributes["stream"], launch.step, launch.env[op.operands[0]],
                    op.attributes["draw"])
    return handler


_HANDLERS: dict[type, Callable[[_Launch, Op], object]] = {
    ConstantOp: lambda launch, op: op.numpy_value(),
    ArgOp: _arg,
    StepOp: lambda launch, op: launch.step,
    TimeOp: lambda launch, op: launch.time,
    LoadOp: _load,
    StoreOp: _store,
    AtomicAddOp: _atomic_add,
    EmitSpikeOp: _emit_spike,
    RandUniformOp: _rand(philox.uniform),
    RandNormalOp: _rand(philox.normal),
}
