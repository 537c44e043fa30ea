"""What both targets agree on about a kernel-IR module: the state words, the order of the arrays,
the clocks, and each scheduled op with its host-evaluated invariants.

The state is one int64 array the generated code reads and writes (host memory on the CPU, device
memory on the GPU), so nothing needs to come back to the host per step:

    state[0]            the seed (Philox key word 0 is its low 32 bits)
    state[1]            error code: 0, or 1 + an index into `LoweredModule.errors`
    state[2]            the offending value (an index, a spike count)
    state[3 + c]        the step of clock c (clocks in module order)
    state[3 + C + c]    1 when clock c is due in the current tick (written by the GPU's tick kernel)

Invariants: a launch binds its kernel's arguments to constants (``kernel.launch ... {args = ...}``),
so the invariants region of every launch is known when the module is built. It is evaluated here,
once, on the host, with the ops' own reference semantics (`ComputeOp.evaluate`, exactly what the
interpreter does); the values the body uses become the kernel's trailing scalar parameters. The CPU
passes them as constants (LLVM folds them into the inlined kernel); the GPU passes them as launch
parameters recorded in the CUDA graph. Both targets therefore see bit-identical invariants, equal to
the interpreter's, and no transcendental work of the invariants runs per thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

from spikec.errors import KernelRuntimeError
from spikec.ir.core import Module, Value
from spikec.ir.kernel import ClearSpikesOp, ClockOp, KernelOp, LaunchOp, arrays as declared_arrays
from spikec.ir.kernel import kernels as module_kernels, schedule as find_schedule
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import ArgOp, ComputeOp, ConstantOp, typed

STATE_SEED = 0
STATE_ERROR = 1
STATE_ERROR_VALUE = 2
STATE_CLOCKS = 3


@dataclass(frozen=True)
class ClockPlan:
    name: str
    index: int
    dt: float


@dataclass(frozen=True)
class LaunchPlan:
    """One ``kernel.launch``: its kernel, clock, and the body's invariant values (in the order of
    `kernel_parameters(kernel)`)."""

    kernel: str
    clock: int
    dt: float
    parameters: tuple


@dataclass(frozen=True)
class ClearPlan:
    """One ``kernel.clear_spikes``."""

    spike_list: str
    clock: int


class ModulePlan:
    """The ABI of one verified kernel-IR module (see the module docstring)."""

    def __init__(self, module: Module):
        self.module = module
        self.arrays: dict[str, ArrayOp] = declared_arrays(module)
        self.array_index = {name: i for i, name in enumerate(self.arrays)}
        clocks = [op for op in module.ops if isinstance(op, ClockOp)]
        self.clocks = [ClockPlan(op.symbol.name, i, op.dt) for i, op in enumerate(clocks)]
        clock_index = {clock.name: clock.index for clock in self.clocks}
        self.kernels: dict[str, KernelOp] = {k.kernel_name: k for k in module_kernels(module)}
        self.steps: list[LaunchPlan | ClearPlan] = []
        schedule = find_schedule(module)
        for op in schedule.step.ops if schedule is not None else ():
            clock = clock_index[op.clock.name]
            if isinstance(op, ClearSpikesOp):
                self.steps.append(ClearPlan(op.spike_list.name, clock))
            elif isinstance(op, LaunchOp):
                kernel = self.kernels[op.kernel.name]
                values = evaluate_invariants(kernel, op.args)
                parameters = tuple(values[v] for v in kernel_parameters(kernel))
                self.steps.append(LaunchPlan(kernel.kernel_name, clock, self.clocks[clock].dt, parameters))

    @property
    def state_length(self) -> int:
        return STATE_CLOCKS + 2 * len(self.clocks)

    def step_slot(self, clock: int) -> int:
        return STATE_CLOCKS + clock

    def due_slot(self, clock: int) -> int:
        return STATE_CLOCKS + len(self.clocks) + clock

    @property
    def tolerance(self) -> float:
        """The interpreter's tolerance for clocks being due at the same time."""
        return 1e-9 * min(clock.dt for clock in self.clocks)

    def new_state(self, seed: int) -> np.ndarray:
        state = np.zeros(self.state_length, dtype=np.int64)
        state[STATE_SEED] = seed & 0xFFFFFFFF
        return state

    def check_arrays(self, arrays: Mapping[str, np.ndarray] | None) -> dict[str, np.ndarray]:
        """Private copies of the initial arrays (zeros where none is given), checked like the
        interpreter checks them (arrays the module does not declare are ignored, as there)."""
        result = {}
        arrays = arrays or {}
        for name, op in self.arrays.items():
            dtype = op.element_type.numpy_dtype
            given = arrays.get(name)
            if given is None:
                result[name] = np.zeros(op.length, dtype=dtype)
                continue
            given = np.asarray(given)
            if given.dtype != dtype or given.shape != (op.length,):
                raise KernelRuntimeError(f"array {name} must be {op.element_type}[{op.length}], "
                                         f"found {given.dtype}[{given.shape}]")
            result[name] = np.array(given, dtype=dtype, copy=True)
        return result

    def require_clocks(self) -> None:
        if not self.clocks:
            raise KernelRuntimeError("the module declares no clock, so its schedule cannot run")


def kernel_parameters(kernel: KernelOp) -> list[Value]:
    """The invariants-region values the body uses, in definition order: the kernel's scalar
    parameters after the fixed ones."""
    used = {v for op in kernel.body.ops for v in op.operands}
    return [r for op in kernel.invariants.ops for r in op.results if r in used]


def evaluate_invariants(kernel: KernelOp, args: Mapping[str, object]) -> dict[Value, object]:
    """The invariants region's values for one launch, computed as the interpreter computes them."""
    env: dict[Value, object] = {}
    for op in kernel.invariants.ops:
        if isinstance(op, ArgOp):
            value = args[op.arg_name]
        elif isinstance(op, ConstantOp):
            value = op.numpy_value()
        elif isinstance(op, ComputeOp):
            with np.errstate(all="ignore"):
                value = op.evaluate(*(env[v] for v in op.operands))
        else:  # the verifier keeps everything else out of the invariants region
            raise KernelRuntimeError(f"{op.name} cannot be evaluated in the invariants of @{kernel.kernel_name}")
        if op.results:
            env[op.result] = typed(value, op.result.type)
    return env


def symbol_name(prefix: str, index: int, name: str) -> str:
    """A name valid in LLVM IR and PTX for module-level symbol `name`."""
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in name)
    return f"{prefix}{index}_{cleaned}"
