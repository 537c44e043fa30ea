"""Monitor descriptions: what to record from which object, and when. The runtime records."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from spikec.errors import EquationError
from spikec.frontend.clocks import Clock, clock_for
from spikec.frontend.groups import Group, check_when
from spikec.frontend.naming import default_names
from spikec.units import Quantity


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


class EventMonitor:
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


class SpikeMonitor(EventMonitor):
    """Records spikes: neuron indices `i` and times `t` (Brian's `SpikeMonitor`)."""

    _basename = "spikemonitor"

    def __init__(self, source: Group, variables: Any = None, record: bool = True,
                 when: str | None = None, order: int | None = None, name: str | None = None):
        super().__init__(source, "spike", variables, record, when, order, name)


class StateMonitor:
    """Records variables of chosen elements at every step of its clock."""

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


class PopulationRateMonitor:
    """Records the fraction of `source` that spikes per step, as a rate."""

    def __init__(self, source: Group, name: str | None = None):
        self.name = default_names.claim(name, "ratemonitor")
        if "spike" not in getattr(source, "events", {}):
            raise EquationError(f"PopulationRateMonitor '{self.name}': {source.owner} has no "
                                "threshold", hint="give the group a threshold=")
        self.source = source
