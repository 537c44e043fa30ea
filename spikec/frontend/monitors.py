"""Monitor descriptions: what to record from which object, and when. The runtime records."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from spikec.errors import EquationError
from spikec.frontend.clocks import Clock, clock_for
from spikec.frontend.groups import Group, check_when
from spikec.frontend.naming import default_names
from spikec.units import Quantity, get_dimensions, second

_TIME = get_dimensions(second)


def _variable_names(source: Group, variables: Any, owner: str) -> tuple[str, ...]:
    if variables is None or variables is False:
        return ()
    if variables is True:
        return tuple(sorted(n for n, s in source.variables.items() if s.role in
                            ("state", "parameter")))
    names = (variables,) if isinstance(variables, str) else tuple(variables)
    for name in names:
        if name not in source.variables:
            raise EquationError(f"{owner}: {source.owner} has no variable '{name}'",
                                hint=f"its variables: {', '.join(sorted(source.variables))}")
    return names


def _record_indices(source: Group, record: Any, owner: str) -> bool | np.ndarray:
    if record is True or record is False:
        return record
    indices = np.atleast_1d(np.asarray(record))
    if not np.issubdtype(indices.dtype, np.integer):
        raise EquationError(f"{owner}: record= must be True, False or integer indices")
    size = len(source)
    if size and indices.size and (indices.min() < 0 or indices.max() >= size):
        raise EquationError(f"{owner}: record= holds indices outside 0..{size - 1}")
    return indices.astype(np.int64)


class RecordedData:
    """What a monitor shows once it has run: the runtime attaches `recorded` (an object with
    `field(name) -> numpy array`); before a run the attributes raise a clear error."""

    recorded = None

    def _field(self, name: str):
        if self.recorded is None:
            raise EquationError(f"{type(self).__name__} '{self.name}' has not recorded anything "
                                "yet", hint="run the network first")
        return self.recorded.field(name)

    def _with_unit_of(self, values, variable: str):
        spec = self.source.variables[variable]
        if spec.kind != "float" or spec.dim.is_dimensionless:
            return values
        return Quantity(values, spec.dim)

    @property
    def t(self) -> Quantity:
        return Quantity(self._field("t"), _TIME)

    @property
    def t_(self):
        return self._field("t")

    def __getattr__(self, name: str):
        variables = self.__dict__.get("variables", ())
        if name in variables:
            return self._with_unit_of(self._recorded_variable(name), name)
        if name.endswith("_") and name[:-1] in variables:
            return self._recorded_variable(name[:-1])
        raise AttributeError(f"{type(self).__name__} '{self.__dict__.get('name')}' has no "
                             f"attribute '{name}'")

    def _recorded_variable(self, name: str):
        return self._field(name)


class EventMonitor(RecordedData):
    """Records when `event` happens in `source` (and, optionally, variables at that moment)."""

    _basename = "eventmonitor"

    def __init__(self, source: Group, event: str, variables: Any = None, record: bool = True,
                 when: str | None = None, order: int | None = None, name: str | None = None):
        self.name = default_names.claim(name, self._basename)
        owner = f"{type(self).__name__} '{self.name}'"
        if event not in getattr(source, "events", {}):
            raise EquationError(f"{owner}: {source.owner} has no event '{event}'",
                                hint="give the group a threshold= or events={...}")
        self.source, self.event = source, event
        self.variables = _variable_names(source, variables, owner)
        if record not in (True, False):
            raise EquationError(f"{owner}: record= must be True or False for event monitors")
        self.record = record
        self.when = check_when(owner, when or "thresholds")
        self.order = 1 if order is None else order

    @property
    def i(self) -> np.ndarray:
        return self._field("i")

    @property
    def num_events(self) -> int:
        return len(self.i)

    @property
    def count(self) -> np.ndarray:
        """Events per element of the source."""
        return np.bincount(self.i, minlength=len(self.source))

    @property
    def it(self) -> tuple:
        return self.i, self.t

    def event_trains(self) -> dict[int, Quantity]:
        """Each element's event times, in order."""
        indices, times = self.i, self._field("t")
        order = np.argsort(indices, kind="stable")
        split = np.searchsorted(indices[order], np.arange(len(self.source) + 1))
        return {k: Quantity(times[order[split[k]:split[k + 1]]], _TIME)
                for k in range(len(self.source))}


class SpikeMonitor(EventMonitor):
    """Records spikes: neuron indices `i` and times `t` (Brian's `SpikeMonitor`)."""

    _basename = "spikemonitor"

    def __init__(self, source: Group, variables: Any = None, record: bool = True,
                 when: str | None = None, order: int | None = None, name: str | None = None):
        super().__init__(source, "spike", variables, record, when, order, name)

    @property
    def num_spikes(self) -> int:
        return self.num_events

    def spike_trains(self) -> dict[int, Quantity]:
        return self.event_trains()


class StateMonitor(RecordedData):
    """Records variables of chosen elements at every step of its clock; `M.v` has one row per
    recorded element (`M.v[k]` is the trace of the k-th recorded element), `M[i].v` is the trace
    of element i."""

    def __init__(self, source: Group, variables: str | Sequence[str] | bool, record: Any,
                 dt: Quantity | None = None, clock: Clock | None = None, when: str = "start",
                 order: int = 0, name: str | None = None):
        self.name = default_names.claim(name, "statemonitor")
        owner = f"StateMonitor '{self.name}'"
        self.source = source
        self.variables = _variable_names(source, variables, owner)
        self.record = _record_indices(source, record, owner)
        self.clock = clock_for(owner, dt, clock) if dt is not None or clock is not None \
            else source.clock
        self.when = check_when(owner, when)
        self.order = order

    def _recorded_variable(self, name: str):
        return self._field(name).T  # stored one row per tick; Brian shows one row per element

    def __getitem__(self, element: int) -> "_RecordedElement":
        indices = np.arange(len(self.source)) if self.record is True else self.record
        matches = np.flatnonzero(np.asarray(indices) == element)
        if not len(matches):
            raise IndexError(f"StateMonitor '{self.name}' does not record element {element}")
        return _RecordedElement(self, int(matches[0]))


class _RecordedElement:
    """`M[i]`: the traces of one recorded element (`M[i].v`)."""

    def __init__(self, monitor: StateMonitor, row: int):
        self.monitor, self.row = monitor, row

    def __getattr__(self, name: str):
        return getattr(self.monitor, name)[self.row]


class PopulationRateMonitor(RecordedData):
    """Records the fraction of `source` that spikes per step, as a rate."""

    def __init__(self, source: Group, name: str | None = None):
        self.name = default_names.claim(name, "ratemonitor")
        if "spike" not in getattr(source, "events", {}):
            raise EquationError(f"PopulationRateMonitor '{self.name}': {source.owner} has no "
                                "threshold", hint="give the group a threshold=")
        self.source = source
        self.variables = ()

    @property
    def rate(self) -> Quantity:
        return Quantity(self._field("rate"), _TIME ** -1)

    @property
    def rate_(self):
        return self._field("rate")

    def smooth_rate(self, window: str = "gaussian", width: Quantity | None = None) -> Quantity:
        """The rate smoothed with a Gaussian (width = its standard deviation) or flat window,
        as Brian's `smooth_rate`."""
        if width is None:
            raise EquationError(f"PopulationRateMonitor '{self.name}': smooth_rate needs width=",
                                hint="e.g. smooth_rate(width=1*ms)")
        dt = self.source.clock.dt_seconds
        width_steps = float(np.asarray(width)) / dt
        if window == "gaussian":
            half = int(round(2 * width_steps))
            x = np.arange(-half, half + 1)
            kernel = np.exp(-x**2 / (2 * width_steps**2))
        elif window == "flat":
            kernel = np.ones(int(round(width_steps)) // 2 * 2 + 1)
        else:
            raise EquationError(f"unknown window {window!r}", hint="use 'gaussian' or 'flat'")
        smoothed = np.convolve(self._field("rate"), kernel / kernel.sum(), mode="same")
        return Quantity(smoothed, _TIME ** -1)
