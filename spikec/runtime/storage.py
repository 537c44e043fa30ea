"""Storage attached to groups once a network is built: their variables live in the executable
(host memory for the CPU, device memory for the GPU), read and written through it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from spikec.frontend.groups import Group
from spikec.frontend.variables import CONSTANT, INDEX, SUBEXPRESSION_ROLE
from spikec.runtime.executables import Executable


class ExecutableValues:
    """The same interface as the frontend's `HostValues`, backed by an executable's arrays."""

    def __init__(self, executable: Executable, group: Group):
        self.executable = executable
        self.group = group
        self.write_counts: Counter[str] = Counter()  # as HostValues'
        self.stored = [name for name, spec in group.variables.items()
                       if spec.role not in (SUBEXPRESSION_ROLE, INDEX, CONSTANT)]

    def _array(self, name: str) -> str:
        return f"{self.group.name}.{name}"

    def read(self, name: str) -> np.ndarray:
        return self.executable.read(self._array(name))

    def write(self, name: str, values: np.ndarray, index: Any = slice(None)) -> None:
        array = self.read(name)
        array[index] = values
        self.executable.write(self._array(name), array)
        self.write_counts[name] += 1

    def all_arrays(self) -> dict[str, np.ndarray]:
        return {name: self.read(name) for name in self.stored}

    def write_array(self, name: str, values: np.ndarray) -> None:
        self.executable.write(self._array(name), values)
        self.write_counts[name] += 1

    def time(self) -> float:
        clock = self.group.clock
        return self.executable.clock_steps.get(clock.name, 0) * clock.dt_seconds
