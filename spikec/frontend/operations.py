"""`network_operation`: Python code called during a run, as in Brian.

A network operation runs between time steps: at the start of each step of its clock, before any
of the step's kernels (Brian's `when='start'`). Other schedule slots would need Python in the
middle of a compiled step, which the device executes as a whole, so they are refused.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable

from spikec.errors import EquationError
from spikec.frontend.clocks import Clock, clock_for
from spikec.frontend.naming import default_names
from spikec.units import Quantity

SUPPORTED_WHEN = ("start", "before_start")


class NetworkOperation:
    """Calls `function()` or `function(t)` at every step of its clock during a run."""

    def __init__(self, function: Callable, dt: Quantity | None = None, clock: Clock | None = None,
                 when: str = "start", order: int = 0, name: str | None = None):
        self.name = default_names.claim(name, "networkoperation")
        owner = f"network_operation '{self.name}'"
        if not callable(function):
            raise EquationError(f"{owner}: {function!r} is not callable")
        if when not in SUPPORTED_WHEN:
            raise EquationError(f"{owner}: when={when!r} is not supported",
                                hint="network operations run at the start of a time step "
                                     "(when='start'): a step runs as a whole on the device")
        self.function = function
        self.clock = clock_for(owner, dt, clock)
        self.when, self.order = when, order
        self.takes_time = _takes_time(function, owner)

    def __call__(self, t: Quantity) -> None:
        if self.takes_time:
            self.function(t)
        else:
            self.function()


def _takes_time(function: Callable, owner: str) -> bool:
    try:
        parameters = [p for p in inspect.signature(function).parameters.values()
                      if p.default is inspect.Parameter.empty
                      and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    except (TypeError, ValueError):
        return False
    if len(parameters) > 1:
        raise EquationError(f"{owner}: the function takes {len(parameters)} arguments",
                            hint="it may take none, or one: the current time t")
    return len(parameters) == 1


def network_operation(*args: Any, **options: Any):
    """Decorator: `@network_operation` or `@network_operation(dt=1*ms)` makes the function a
    `NetworkOperation` (collected by `run()` like a group)."""
    if len(args) == 1 and callable(args[0]) and not options:
        return NetworkOperation(args[0])

    def wrap(function: Callable) -> NetworkOperation:
        return NetworkOperation(function, *args, **options)

    return wrap
