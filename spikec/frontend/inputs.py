"""Brian's input objects: `TimedArray`, `PoissonGroup` and `SpikeGeneratorGroup`.

* A `TimedArray` is a function of time model code calls (`ta(t)`, `ta(t, i)`). It is found like
  any external name (the object's `namespace=`, then the caller's variables) through its
  `function_signature`; the model IR gets a `model.timed_array` op holding its values in each
  object whose code calls it.
* A `PoissonGroup` is a `NeuronGroup` whose only variable is `rates` (a parameter, or a
  subexpression when given as a string) and whose threshold is Brian's `rand() < rates*dt`.
* A `SpikeGeneratorGroup` is a `NeuronGroup` without equations whose 'spike' event comes from a
  list of (index, time) pairs: a `model.spike_generator` op in its body.

The lowering of each is described in docs/inputs.md.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from spikec.errors import EquationError
from spikec.frontend.clocks import Clock, defaultclock
from spikec.frontend.groups import NeuronGroup
from spikec.frontend.naming import default_names
from spikec.ir.attributes import SymbolRef
from spikec.ir.expression import Call, Expr, walk
from spikec.ir.functions import DimensionRule, FunctionSignature
from spikec.ir.model_inputs import (SpikeGeneratorOp, TimedArrayOp, spike_steps,
                                     upsampling_factor)
from spikec.units import Hz, Quantity, get_dimensions, second

_TIME = get_dimensions(second)
_RATE = get_dimensions(Hz)


def _seconds(value: Any, owner: str, what: str) -> float:
    """A time quantity (or a plain 0) as float seconds; EquationError otherwise."""
    if not (get_dimensions(value) == _TIME or (np.ndim(value) == 0 and value == 0)):
        raise EquationError(f"{owner}: {what} must be a time, not {value!r}",
                            hint=f"give {what} with a time unit, e.g. 1*ms")
    return float(np.asarray(value))


class TimedArray:
    """`TimedArray(values, dt)`: a function of time from values at steps of `dt` (Brian's
    `TimedArray`). 1-D values are called as `ta(t)`, 2-D ones (rows are times) as `ta(t, i)`.
    Before the first and after the last step the first and last row hold; a column outside the
    array gives NaN."""

    def __init__(self, values: Any, dt: Quantity, name: str | None = None):
        self.name = default_names.claim(name, "_timedarray")
        owner = f"TimedArray '{self.name}'"
        self.dt = _seconds(dt, owner, "dt")
        if not self.dt > 0:
            raise EquationError(f"{owner}: dt must be positive, not {dt!r}")
        self.dim = get_dimensions(values)
        try:
            self.values = np.array(np.asarray(values), dtype=np.float64)
        except (TypeError, ValueError):
            raise EquationError(f"{owner}: values must be numbers (a 1-D or 2-D array with "
                                f"units), not {type(values).__name__}") from None
        if self.values.ndim not in (1, 2) or self.values.size == 0:
            raise EquationError(f"{owner}: values must be a non-empty 1-D or 2-D array, "
                                f"not of shape {self.values.shape}",
                                hint="rows are time steps; a 2-D array is called as ta(t, i)")

    @property
    def function_signature(self) -> FunctionSignature:
        """How model code may call it (found by `Namespace.function`)."""
        arguments = self.values.ndim
        return FunctionSignature(self.name, arguments, arguments, DimensionRule.TIMED_ARRAY,
                                 result_dim=self.dim, implementation=self)

    def __call__(self, t: Quantity, i: Any = None) -> Quantity:
        """The values at times `t` (rounded as in a network on `defaultclock`)."""
        owner = f"TimedArray '{self.name}'"
        if (i is None) != (self.values.ndim == 1):
            raise EquationError(f"{owner} takes {self.values.ndim} argument(s)",
                                hint="call a 1-D TimedArray as ta(t), a 2-D one as ta(t, i)")
        if get_dimensions(t) != _TIME:
            raise EquationError(f"{owner}: the argument must be a time, not {t!r}")
        K = upsampling_factor(defaultclock.dt_seconds, self.dt)
        step = np.asarray((np.asarray(t) / (self.dt / K) + 0.5) / K).astype(np.int64)
        step = np.clip(step, 0, len(self.values) - 1)
        found = self.values[step] if i is None else self.values[step, np.asarray(i)]
        return Quantity(found, self.dim)

    def model_op(self, name: str) -> TimedArrayOp:
        """The `model.timed_array` op for code that calls this array `name`."""
        return TimedArrayOp.create(attributes={
            "sym_name": SymbolRef(name), "dt": self.dt, "dim": self.dim,
            "shape": tuple(int(n) for n in self.values.shape),
            "values": tuple(float(v) for v in self.values.ravel())})

    def __repr__(self) -> str:
        return f"<TimedArray '{self.name}' of shape {self.values.shape}, dt={self.dt} s>"


def timed_array_ops(trees: Iterable[Expr], namespace: Any) -> list[TimedArrayOp]:
    """`model.timed_array` ops for the TimedArrays called in `trees`, sorted by name."""
    found: dict[str, TimedArray] = {}
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, Call) and node.func not in found:
                signature = namespace.function(node.func)
                if signature is not None and isinstance(signature.implementation, TimedArray):
                    found[node.func] = signature.implementation
    return [found[name].model_op(name) for name in sorted(found)]


class PoissonGroup(NeuronGroup):
    """`PoissonGroup(N, rates)`: N independent Poisson spike trains (Brian's `PoissonGroup`).

    `rates` is a rate (one for all, or one per neuron), or a string expression in Hz that may use
    `t`, `i` and TimedArrays; each neuron spikes in a step with probability `rates*dt`."""

    def __init__(self, N: int, rates: Any, dt: Quantity | None = None, clock: Clock | None = None,
                 order: int = 0, namespace: Mapping[str, Any] | None = None,
                 name: str | None = None):
        name = default_names.claim(name, "poissongroup")
        owner = f"PoissonGroup '{name}'"
        if isinstance(rates, str):
            if "\n" in rates or "#" in rates or ":" in rates:
                raise EquationError(f"{owner}: rates must be a single expression, not {rates!r}",
                                    hint="e.g. rates='10*Hz + 5*Hz*sin(2*pi*t/second)'")
            model = f"rates = {rates} : Hz"
        else:
            if get_dimensions(rates) != _RATE:
                raise EquationError(f"{owner}: rates must be a rate (Hz) or a string "
                                    f"expression, not {rates!r}", hint="e.g. rates=10*Hz")
            model = "rates : Hz"
        super().__init__(N, model, threshold="rand() < rates * dt", namespace=namespace, dt=dt,
                         clock=clock, order=order, name=name)
        self._rates = rates
        if not isinstance(rates, str):
            self.rates = rates

    def __repr__(self) -> str:
        return f"PoissonGroup({self.size}, rates={self._rates!r})"


class SpikeGeneratorGroup(NeuronGroup):
    """`SpikeGeneratorGroup(N, indices, times, period=0*ms)`: neuron `indices[k]` spikes at
    `times[k]` (Brian's `SpikeGeneratorGroup`); with `period > 0`, the pattern repeats. A time
    falls in the step `int((time + 1e-3*dt)/dt)`, as in Brian."""

    def __init__(self, N: int, indices: Any, times: Quantity, period: Quantity = 0 * second,
                 dt: Quantity | None = None, clock: Clock | None = None, order: int = 0,
                 sorted: bool = False, name: str | None = None):
        name = default_names.claim(name, "spikegeneratorgroup")
        super().__init__(N, "", dt=dt, clock=clock, order=order, name=name)
        self.events["spike"] = None  # a source of spikes, without a threshold
        self.input_version = 0       # changes with set_spikes: the network rebuilds
        self.set_spikes(indices, times, period, sorted)

    def set_spikes(self, indices: Any, times: Quantity, period: Quantity = 0 * second,
                   sorted: bool = False) -> None:
        """Replace the spikes (and period) this group generates from the next run on."""
        self.indices, self.times, self.period = _check_spikes(
            self.owner, self.size, indices, times, period, sorted)
        _check_steps(self.owner, self.indices, self.times, self.period, self.clock.dt_seconds)
        self.input_version += 1

    def model_op(self) -> SpikeGeneratorOp:
        """The `model.spike_generator` op, checked against the clock's current dt."""
        _check_steps(self.owner, self.indices, self.times, self.period, self.clock.dt_seconds)
        return SpikeGeneratorOp.create(attributes={
            "sym_name": SymbolRef("spike"), "indices": tuple(int(i) for i in self.indices),
            "times": tuple(float(t) for t in self.times), "period": self.period})

    def run_on_event(self, event: str, code: str, when: str = "resets", order: int | None = None):
        raise EquationError(f"{self.owner}: a SpikeGeneratorGroup runs no code on its spikes",
                            hint="connect it with Synapses to act on other groups")

    def __repr__(self) -> str:
        return (f"SpikeGeneratorGroup({self.size}, indices=<length {len(self.indices)} array>, "
                f"times=<length {len(self.times)} array>)")


def _check_spikes(owner: str, N: int, indices: Any, times: Any, period: Any,
                  is_sorted: bool) -> tuple[np.ndarray, np.ndarray, float]:
    """The checks that do not depend on dt (Brian's `_check_args`); sorted copies."""
    period_seconds = _seconds(period, owner, "period")
    indices = np.atleast_1d(np.asarray(indices))
    if np.ndim(times) == 0 or get_dimensions(times) != _TIME:
        if not (np.size(times) == 0 and np.size(indices) == 0):
            raise EquationError(f"{owner}: times must be an array of times, not {times!r}",
                                hint="e.g. times=[1, 2, 3]*ms")
    times = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if len(indices) != len(times):
        raise EquationError(f"{owner}: the indices and times arrays must have the same length, "
                            f"but {len(indices)} != {len(times)}")
    if len(indices) and not np.issubdtype(indices.dtype, np.integer):
        raise EquationError(f"{owner}: indices must be integers, not {indices.dtype} values")
    indices = indices.astype(np.int64)
    if period_seconds < 0:
        raise EquationError(f"{owner}: the period cannot be negative ({period!r})")
    if len(times) and np.min(times) < 0:
        raise EquationError(f"{owner}: spike times cannot be negative "
                            f"(found {np.min(times)} s)")
    if len(indices) and (indices.min() < 0 or indices.max() >= N):
        raise EquationError(f"{owner}: indices have to lie in the interval [0, {N}[",
                            hint=f"found {indices.min()} .. {indices.max()}")
    if not is_sorted:
        order = np.lexsort((indices, times))
        indices, times = indices[order], times[order]
    return indices, times, period_seconds


def _check_steps(owner: str, indices: np.ndarray, times: np.ndarray, period: float,
                 dt: float) -> None:
    """The checks that depend on the clock's dt (Brian's `before_run`)."""
    steps = spike_steps(times, dt)
    if period > 0:
        if period < dt:
            raise EquationError(f"{owner}: the period ({period} s) is smaller than dt ({dt} s)")
        period_steps = np.round(period / dt)
        if abs(period_steps * dt - period) > period * np.finfo(np.float64).eps:
            raise EquationError(f"{owner}: the period ({period} s) is not an integer multiple "
                                f"of dt ({dt} s)", hint="choose a period that is a multiple of dt")
        if len(steps) and steps.max() >= period_steps:
            raise EquationError(f"{owner}: the period ({period} s) has to be greater than the "
                                f"maximum of the spike times ({times.max()} s)")
    pairs = np.stack([steps, indices]) if len(steps) else np.zeros((2, 0), np.int64)
    if len(steps) != np.unique(pairs, axis=1).shape[1]:
        raise EquationError(f"{owner}: using a dt of {dt} s, some neurons spike more than "
                            "once during a time step",
                            hint="give each neuron at most one spike time per step of dt")
