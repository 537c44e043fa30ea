"""Making an executable of a kernel-IR module on the chosen device.

Every executable offers what the runtime needs: `run(ticks)`, `read(name)`, `write(name,
values)`, and the steps each clock has taken (`clock_steps`, settable for `restore()`). The
interpreter's is defined here; the CPU and CUDA ones come from `spikec.backends`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from spikec.errors import SpikecError
from spikec.ir.core import Module
from spikec.ir.interpreter import Interpreter


class Executable(Protocol):
    clock_steps: dict[str, int]

    def run(self, ticks: int) -> None: ...

    def read(self, name: str, count: int | None = None) -> np.ndarray: ...

    def write(self, name: str, values: np.ndarray) -> None: ...


class InterpreterExecutable:
    """The reference interpreter behind the executable interface (device 'interpreter')."""

    def __init__(self, module: Module, arrays: dict[str, np.ndarray], seed: int):
        self.interpreter = Interpreter(module, arrays, seed)

    @property
    def clock_steps(self) -> dict[str, int]:
        return self.interpreter.clock_steps

    @clock_steps.setter
    def clock_steps(self, steps: dict[str, int]) -> None:
        self.interpreter.clock_steps.update(steps)

    def run(self, ticks: int) -> None:
        self.interpreter.run(ticks)

    def read(self, name: str, count: int | None = None) -> np.ndarray:
        return self.interpreter.arrays[name][:count].copy()

    def write(self, name: str, values: np.ndarray) -> None:
        self.interpreter.arrays[name][...] = values


def create_executable(module: Module, device: str, arrays: dict[str, np.ndarray],
                      seed: int) -> Executable:
    """An executable of `module` on `device`, its arrays starting at `arrays`' values."""
    if device == "interpreter":
        return InterpreterExecutable(module, arrays, seed)
    try:
        from spikec.backends import get_backend
    except ImportError as error:  # pragma: no cover - the backends package is part of spikec
        raise SpikecError(f"device {device!r} is not available: {error}") from None
    return get_backend(device).executable(module, arrays, seed)
