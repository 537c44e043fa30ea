"""The interface both targets' executables share: a compiled kernel-IR module with its arrays.

    exe = get_backend("cpu").executable(module, arrays={"G.v": v0}, seed=1)
    exe.run(1000)                  # 1000 ticks, the semantics of Interpreter.run
    v = exe.read("G.v")            # a host copy
    exe.write("G.v", v * 2)
    exe.clock_steps                # {"defaultclock": 1000}

Semantics are those of `spikec.ir.interpreter.Interpreter` (tick/run): each tick runs the schedule
ops of the clocks due at the earliest clock time, then advances those clocks. Arrays not given start
at zero; given arrays are copied (the executable owns its memory).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Mapping

import numpy as np

from spikec.backends.abi import STATE_ERROR, STATE_ERROR_VALUE, ModulePlan
from spikec.errors import KernelRuntimeError
from spikec.ir.core import Module


class Executable(ABC):
    """A kernel-IR module compiled for one target, holding its arrays and clock steps."""

    target: str = ""

    def __init__(self, module: Module, arrays: Mapping[str, np.ndarray] | None = None, seed: int = 0):
        self.module = module
        self.plan = ModulePlan(module)
        self.seed = seed

    @abstractmethod
    def run(self, ticks: int) -> None:
        """Run `ticks` time steps (each: the due clocks' schedule ops, then their steps advance)."""

    def tick(self) -> None:
        self.run(1)

    @abstractmethod
    def read(self, name: str, count: int | None = None) -> np.ndarray:
        """A host copy of array `name`, or of its first `count` values (monitors copy only the
        records written since they were last drained)."""

    @abstractmethod
    def write(self, name: str, values: object) -> None:
        """Set array `name` to `values` (broadcast and cast to its declared type)."""

    @property
    @abstractmethod
    def clock_steps(self) -> dict[str, int]:
        """The current step of each clock, by clock name (subclasses also let it be set, for
        `restore()`)."""

    def close(self) -> None:
        """Release device resources (nothing to do on the CPU)."""

    # -- helpers for subclasses ------------------------------------------------------------------
    def declared(self, name: str):
        array = self.plan.arrays.get(name)
        if array is None:
            raise KernelRuntimeError(f"the module declares no array {name}",
                                     hint=f"declared: {', '.join(self.plan.arrays) or 'none'}")
        return array

    def converted(self, name: str, values: object) -> np.ndarray:
        array = self.declared(name)
        result = np.asarray(values)
        try:
            result = np.broadcast_to(result, (array.length,))
        except ValueError:
            raise KernelRuntimeError(f"cannot write {result.shape} values into array {name} of length "
                                     f"{array.length}") from None
        return np.ascontiguousarray(result.astype(array.element_type.numpy_dtype, copy=False))

    @staticmethod
    def check_ticks(ticks: int) -> int:
        ticks = int(ticks)
        if ticks < 0:
            raise KernelRuntimeError(f"cannot run a negative number of ticks ({ticks})")
        return ticks

    def raise_recorded_error(self, state: np.ndarray, errors: list[str]) -> None:
        """Raise the error a kernel recorded in the state words (and clear it), if any."""
        code = int(state[STATE_ERROR])
        if code:
            value = int(state[STATE_ERROR_VALUE])
            state[STATE_ERROR] = state[STATE_ERROR_VALUE] = 0
            raise KernelRuntimeError(errors[code - 1].format(value=value))
