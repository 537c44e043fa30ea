"""What monitors recorded, gathered on the host from the device buffers.

After each chunk of ticks the runtime drains every monitor: it reads the counter, copies the
records written since the last drain, and resets the counter. A monitor's data object is attached
to the monitor (`monitor.recorded`), where its public attributes (`M.i`, `M.t`, `M.v`) read it.
"""

from __future__ import annotations

import numpy as np

from spikec.frontend.monitors import EventMonitor, StateMonitor
from spikec.runtime.executables import Executable


class Recording:
    """Chunks of records of named fields, concatenated on demand."""

    def __init__(self, fields: list[str], dtypes: dict[str, np.dtype]):
        self.chunks: dict[str, list[np.ndarray]] = {name: [] for name in fields}
        self.dtypes = dtypes

    def append(self, name: str, values: np.ndarray) -> None:
        self.chunks[name].append(values)

    def field(self, name: str) -> np.ndarray:
        chunks = self.chunks[name]
        if not chunks:
            return np.zeros(0, dtype=self.dtypes.get(name, np.float64))
        if len(chunks) > 1:  # concatenate once, keep the result
            self.chunks[name] = [np.concatenate(chunks)]
        return self.chunks[name][0]

    def snapshot(self) -> dict[str, list[np.ndarray]]:
        return {name: [self.field(name).copy()] for name in self.chunks}

    def restore(self, snapshot: dict[str, list[np.ndarray]]) -> None:
        self.chunks = {name: [c.copy() for c in chunks] for name, chunks in snapshot.items()}


class MonitorDrain:
    """Drains one monitor's device buffers into a `Recording`."""

    def __init__(self, monitor, executable: Executable, capacity: int, per_tick: int):
        self.monitor = monitor
        self.name = monitor.name
        self.capacity = capacity
        self.per_tick = max(per_tick, 1)
        if isinstance(monitor, EventMonitor):
            self.fields = ["i", "t", *monitor.variables]
        elif isinstance(monitor, StateMonitor):
            self.fields = ["t", *monitor.variables]
        else:
            self.fields = ["t", "rate"]
        dtypes = {f: executable.read(f"{self.name}.{f}", 0).dtype for f in self.fields}
        # Values per record of each field: a state monitor writes one per recorded element.
        self.widths = {f: self._width(monitor, f) for f in self.fields}
        if getattr(monitor, "recorded", None) is None:
            monitor.recorded = Recording(self.fields, dtypes)

    @staticmethod
    def _width(monitor, field: str) -> int:
        if not isinstance(monitor, StateMonitor) or field == "t":
            return 1
        return len(monitor.source) if monitor.record is True else (
            0 if monitor.record is False else len(monitor.record))

    def ticks_until_full(self) -> int:
        """Ticks that surely fit in an empty buffer."""
        return max(1, self.capacity // self.per_tick)

    def drain(self, executable: Executable) -> None:
        count = int(executable.read(f"{self.name}._count")[0])
        if count == 0:
            return
        recording = self.monitor.recorded
        for field in self.fields:  # copy only the records written since the last drain
            width = self.widths.get(field, 1)
            values = executable.read(f"{self.name}.{field}", count * width)
            if isinstance(self.monitor, StateMonitor) and field != "t":
                values = values.reshape(count, width)  # one row per tick
            recording.append(field, values)
        executable.write(f"{self.name}._count", np.zeros(1, dtype=np.int64))


def make_drain(monitor, executable: Executable) -> MonitorDrain:
    if isinstance(monitor, EventMonitor):
        capacity = len(executable.read(f"{monitor.name}.i"))
        return MonitorDrain(monitor, executable, capacity, len(monitor.source))
    rows = len(executable.read(f"{monitor.name}.t"))
    return MonitorDrain(monitor, executable, rows, 1)

