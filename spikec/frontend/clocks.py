"""Clocks: the time steps objects advance by. A description only; the runtime keeps the time."""

from __future__ import annotations

import numpy as np

from spikec.errors import DimensionMismatchError, EquationError
from spikec.frontend.naming import default_names
from spikec.units import Quantity, get_dimensions, second

_TIME = get_dimensions(second)


class Clock:
    """A time step `dt`; objects with the same clock step together (Brian's `Clock`)."""

    def __init__(self, dt: Quantity, name: str | None = None):
        self.name = default_names.claim(name, "clock")
        self.dt = dt

    @property
    def dt(self) -> Quantity:
        return Quantity(self._dt, _TIME)

    @dt.setter
    def dt(self, value: Quantity) -> None:
        if get_dimensions(value) != _TIME:
            raise DimensionMismatchError(f"clock '{self.name}': dt must be a time, got {value!r}",
                                         get_dimensions(value), _TIME)
        dt = float(np.asarray(value))
        if not dt > 0:
            raise EquationError(f"clock '{self.name}': dt must be positive, got {value!r}")
        self._dt = dt

    @property
    def dt_seconds(self) -> float:
        return self._dt

    def __repr__(self) -> str:
        return f"Clock(dt={self.dt!r}, name={self.name!r})"


defaultclock = Clock(Quantity(1e-4, _TIME), name="defaultclock")
"""The clock of every object not given `dt=` or `clock=` (0.1 ms, as in Brian)."""


def clock_for(owner: str, dt: Quantity | None, clock: Clock | None) -> Clock:
    """The clock an object uses from its `dt=` and `clock=` arguments (at most one of them)."""
    if dt is not None and clock is not None:
        raise EquationError(f"{owner}: give either dt= or clock=, not both")
    if clock is not None:
        return clock
    if dt is not None:
        return Clock(dt)
    return defaultclock
