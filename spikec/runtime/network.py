"""`Network` and the magic `run()`: building, running in chunks, draining monitors, store/restore.

A network compiles its objects when first run (and again when its objects, a clock's dt, the
device or the pipeline change), attaches storage to each group so `G.v` reaches the executable's
arrays, and runs: as many ticks as every monitor's free buffer space allows, then it drains the
monitors, until the duration is done. Nothing is copied from the device between drains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from spikec.errors import SpikecError
from spikec.frontend.build_model import delay_signature
from spikec.frontend.clocks import Clock
from spikec.frontend.groups import Group, NeuronGroup
from spikec.frontend.monitors import EventMonitor, PopulationRateMonitor, StateMonitor
from spikec.frontend.namespace import caller_namespace
from spikec.frontend.operations import NetworkOperation
from spikec.frontend.poisson_input import PoissonInput
from spikec.frontend.subgroups import Subgroup, element_range
from spikec.frontend.synapses import Synapses
from spikec.frontend.variables import DELAY
from spikec.ir.kernel_ops import WriteOp
from spikec.passes.lowering.input_kernels import input_array_values
from spikec.runtime.compile import CompiledModel, compile_model
from spikec.runtime.connectivity import (connectivity_arrays, fill_history_bundles,
                                         queue_order)
from spikec.runtime.subgroup_connectivity import in_parent_index_space
from spikec.runtime.devices import device_settings
from spikec.runtime.executables import Executable, create_executable
from spikec.runtime.host_code import _fresh_seed
from spikec.runtime.monitor_data import MonitorDrain, make_drain
from spikec.runtime.progress import TextReport
from spikec.runtime.storage import ExecutableValues
from spikec.units import Quantity, get_dimensions, second

MONITORS = (EventMonitor, StateMonitor, PopulationRateMonitor)
# A PoissonInput acts on its target where it is part of the network, as in Brian.
# A Subgroup stores and runs nothing: it brings in its parent (`G[:10]` in a script is enough).
RUNNABLE = (NeuronGroup, Synapses, NetworkOperation, PoissonInput, Subgroup) + MONITORS


class BuildOnlyStop(Exception):
    """Raised by the first `run` in build-only mode (`spikec ir`), carrying what was compiled."""

    def __init__(self, compiled: CompiledModel):
        super().__init__("build-only mode: the network was compiled, not run")
        self.compiled = compiled


@dataclass
class Build:
    """A compiled network: what it was built from (to know when to rebuild) and its parts."""

    signature: tuple
    compiled: CompiledModel
    executable: Executable
    drains: list[MonitorDrain]
    clocks: list[Clock]
    # Arrays that the kernels write: delays among them are re-read before every run.
    written_arrays: frozenset[str] = frozenset()


class Network:
    """A set of objects simulated together (Brian's `Network`)."""

    def __init__(self, *objects: Any, name: str = "network"):
        self.name = name
        self.objects: list[Any] = []
        self.build: Build | None = None
        self.t_seconds = 0.0
        self.snapshots: dict[str, dict] = {}
        self.pipeline_settings: dict[str, object] = {}  # e.g. print_after_all for `spikec ir`
        self.delay_cache = DelaySignatures()
        self.add(*objects)

    @property
    def t(self) -> Quantity:
        return Quantity(self.t_seconds, get_dimensions(second))

    def add(self, *objects: Any) -> None:
        for obj in _flatten(objects):
            if not isinstance(obj, RUNNABLE):
                raise SpikecError(f"{self.name}: cannot add {obj!r}",
                                  hint="add groups, synapses and monitors")
            if all(obj is not known for known in self.objects):
                self.objects.append(obj)

    def remove(self, *objects: Any) -> None:
        for obj in _flatten(objects):
            self.objects = [known for known in self.objects if known is not obj]

    def _all_objects(self) -> list[Any]:
        """The objects plus what they need (a monitor's source, a synapse's groups)."""
        found: list[Any] = []

        def include(obj: Any) -> None:
            if all(obj is not known for known in found):
                for needed in (getattr(obj, "source", None), getattr(obj, "target", None)):
                    if needed is not None:
                        include(needed)
                found.append(obj)

        for obj in self.objects:
            include(obj)
        return found

    # -- building ---------------------------------------------------------------------------
    def _signature(self, objects: list[Any]) -> tuple:
        clocks = {id(c): c for obj in objects for c in _clocks(obj)}
        # A pathway's delays are compiled in (a homogeneous delay, the rings' length, the
        # queue tables' order): changing them rebuilds.
        written = self.build.written_arrays if self.build is not None else frozenset()
        delays = tuple((id(obj), name, self.delay_cache.get(obj, name, written))
                       for obj in objects if isinstance(obj, Synapses) for name in obj.pathways)
        # Objects added after a run (a PoissonInput among them) and new input spikes
        # (set_spikes) rebuild too.
        inputs = tuple((id(obj), getattr(obj, "input_version", 0)) for obj in objects)
        return (inputs,
                tuple((c.name, c.dt_seconds) for c in clocks.values()), delays,
                device_settings.device, device_settings.pipeline, device_settings.seed)

    def _ensure_built(self, namespace: dict[str, Any]) -> Build:
        objects = self._all_objects()
        signature = self._signature(objects)
        if self.build is not None and self.build.signature == signature:
            return self.build
        model_objects = [obj for obj in objects if not isinstance(obj, (NetworkOperation, Subgroup))]
        compiled = compile_model(model_objects, namespace, device_settings.pipeline,
                                 **self.pipeline_settings)
        if device_settings.build_only:
            raise BuildOnlyStop(compiled)
        arrays = self._initial_arrays(model_objects, compiled)
        seed = device_settings.seed if device_settings.seed is not None else _fresh_seed()
        executable = create_executable(compiled.kernel_ir, device_settings.device, arrays, seed)
        clocks = list({id(c): c for obj in model_objects for c in _clocks(obj)}.values())
        executable.clock_steps = {c.name: int(round(self.t_seconds / c.dt_seconds))
                                  for c in clocks}
        for obj in objects:
            if isinstance(obj, Group):
                obj.values = ExecutableValues(executable, obj)
                if isinstance(obj, Synapses):  # same delays, now in the executable
                    self.delay_cache.moved(obj)
        drains = [make_drain(obj, executable) for obj in objects if isinstance(obj, MONITORS)]
        written = frozenset(op.array.name for op in compiled.kernel_ir.walk() if isinstance(op, WriteOp))
        self.build = Build(signature, compiled, executable, drains, clocks, written)
        return self.build

    def _initial_arrays(self, objects: list[Any], compiled: CompiledModel) -> dict[str, np.ndarray]:
        from spikec.ir.interpreter import allocate_arrays
        arrays = allocate_arrays(compiled.kernel_ir)
        for name, values in input_array_values(compiled.model_ir).items():
            arrays[name][...] = values  # TimedArray values, spike generator spikes
        for obj in objects:
            if isinstance(obj, Group):
                for name, values in obj.values.all_arrays().items():
                    if f"{obj.name}.{name}" in arrays:
                        arrays[f"{obj.name}.{name}"][...] = values
            if isinstance(obj, Synapses):  # the arrays the propagation kernels declare
                for name, values in in_parent_index_space(obj, connectivity_arrays(obj)).items():
                    if f"{obj.name}.{name}" in arrays:
                        arrays[f"{obj.name}.{name}"][...] = values
                for pathway in obj.pathways:  # spike-queue tables of per-synapse delays
                    if f"{obj.name}._{pathway}_queue" in arrays:
                        arrays[f"{obj.name}._{pathway}_queue"][...] = queue_order(obj, pathway)
                    fill_history_bundles(obj, pathway, arrays)
            elif isinstance(obj, StateMonitor):
                indices = np.arange(len(obj.source)) if obj.record is True else obj.record
                if obj.record is not False:  # of the parent, for a subgroup
                    start = element_range(obj.source)[1]
                    arrays[f"{obj.name}._indices"][:len(indices)] = indices + start
        return arrays

    # -- running ----------------------------------------------------------------------------
    def run(self, duration: Quantity, report: str | None = None,
            report_period: Quantity = 10 * second, namespace: dict[str, Any] | None = None,
            level: int = 0) -> None:
        """Simulate for `duration`; names in model code resolve in `namespace` (default: the
        caller's locals and globals, as Brian)."""
        if get_dimensions(duration) != get_dimensions(second):
            raise SpikecError(f"{self.name}.run: the duration must be a time, got {duration!r}")
        if report not in (None, "text", "stdout", "stderr"):
            raise SpikecError(f"{self.name}.run: report={report!r} is not supported",
                              hint="use report='text' (or 'stdout'/'stderr')")
        namespace = dict(namespace) if namespace is not None else caller_namespace(level)
        build = self._ensure_built(namespace)
        start = self.t_seconds
        end = start + float(np.asarray(duration))
        times = _tick_times(build.clocks, build.executable.clock_steps, end)
        ticks = len(times)
        operations = sorted((op for op in self._all_objects() if isinstance(op, NetworkOperation)),
                            key=lambda op: (op.order, op.name))
        due = _operation_ticks(operations, times, build.clocks)
        reporter = TextReport(start, end - start, float(np.asarray(report_period)),
                              stream=report) if report else None
        done = 0
        while done < ticks:
            for operation in due.get(done, ()):
                operation(Quantity(times[done], get_dimensions(second)))
            next_operation = min((k for k in due if k > done), default=ticks)
            chunk = min([next_operation - done] + [d.ticks_until_full() for d in build.drains])
            if reporter is not None:
                chunk = min(chunk, max(1, ticks // 100))
            build.executable.run(chunk)
            for drain in build.drains:
                drain.drain(build.executable)
            done += chunk
            if reporter is not None:
                reporter.update(done / ticks)
        self.t_seconds = end
        if reporter is not None:
            reporter.finish()

    # -- store / restore ----------------------------------------------------------------------
    def store(self, name: str = "default") -> None:
        """Remember the state (variables, time, recorded data) under `name`."""
        if self.build is None:
            self._ensure_built(caller_namespace(0))
        executable = self.build.executable
        arrays = {op.attributes["sym_name"].name: executable.read(op.attributes["sym_name"].name)
                  for op in self.build.compiled.kernel_ir.ops if op.name == "kernel.array"}
        recorded = {d.name: d.monitor.recorded.snapshot() for d in self.build.drains}
        self.snapshots[name] = {"arrays": arrays, "t": self.t_seconds,
                                "steps": dict(executable.clock_steps), "recorded": recorded}

    def restore(self, name: str = "default") -> None:
        """Go back to the state stored under `name`."""
        if name not in self.snapshots:
            raise SpikecError(f"{self.name}: nothing was stored under {name!r}",
                              hint=f"stored: {', '.join(self.snapshots) or 'nothing'}")
        snapshot = self.snapshots[name]
        executable = self.build.executable
        self.delay_cache.clear()  # the arrays below are written past the storage's counts
        for array_name, values in snapshot["arrays"].items():
            executable.write(array_name, values)
        executable.clock_steps = dict(snapshot["steps"])
        for drain in self.build.drains:
            drain.monitor.recorded.restore(snapshot["recorded"][drain.name])
        self.t_seconds = snapshot["t"]


class DelaySignatures:
    """Each pathway's `delay_signature`, read again only when its delays may have changed.

    Reading per-synapse delays costs O(synapses) (from the GPU, then rounded and hashed: about
    0.4 s per run at 3e7 synapses, more than the run itself for the microcircuit's 1 s at full
    scale). They change only through a write to the delay variable (counted by the group's
    storage), a restore (which clears this cache), or model code that writes them (`written`:
    such pathways are read every time)."""

    def __init__(self):
        self.entries: dict[tuple[int, str], tuple[Any, int, Any]] = {}

    @staticmethod
    def variable(pathway: str) -> str:
        return DELAY if pathway == "pre" else f"{pathway}_delay"

    def get(self, synapses: Synapses, pathway: str, written: frozenset[str]) -> Any:
        variable = self.variable(pathway)
        values = synapses.values
        count = values.write_counts[variable]
        entry = self.entries.get((id(synapses), pathway))
        if (entry is None or entry[0] is not values or entry[1] != count
                or f"{synapses.name}.{variable}" in written):
            entry = (values, count, delay_signature(synapses, pathway))
            self.entries[(id(synapses), pathway)] = entry
        return entry[2]

    def moved(self, synapses: Synapses) -> None:
        """`synapses.values` was replaced by storage holding the same values."""
        for pathway in synapses.pathways:
            entry = self.entries.get((id(synapses), pathway))
            if entry is not None:
                self.entries[(id(synapses), pathway)] = (synapses.values, 0, entry[2])

    def clear(self) -> None:
        self.entries.clear()


def _flatten(objects: Iterable[Any]) -> Iterable[Any]:
    for obj in objects:
        if isinstance(obj, (list, tuple, set)):
            yield from _flatten(obj)
        elif isinstance(obj, dict):
            yield from _flatten(obj.values())
        else:
            yield obj


def _clocks(obj: Any) -> list[Clock]:
    clocks = [obj.clock] if hasattr(obj, "clock") else []
    clocks += [op.clock for op in getattr(obj, "regular_operations", [])]
    return clocks


def _tick_times(clocks: list[Clock], steps: dict[str, int], end: float) -> np.ndarray:
    """The times of the ticks (moments when at least one clock steps) before `end`, as Brian
    counts them: a clock takes steps round(t/dt) up to round(end/dt) - 1."""
    times = [np.arange(steps[c.name], int(round(end / c.dt_seconds))) * c.dt_seconds
             for c in clocks]
    merged = np.concatenate(times) if times else np.zeros(0)
    if len(clocks) <= 1 or merged.size == 0:
        return merged
    grid = np.round(merged / (min(c.dt_seconds for c in clocks) * 1e-6)).astype(np.int64)
    _, first = np.unique(grid, return_index=True)
    return np.sort(merged[first])


def _operation_ticks(operations: list[NetworkOperation], times: np.ndarray,
                     clocks: list[Clock]) -> dict[int, list[NetworkOperation]]:
    """At which ticks each network operation runs (the ticks its clock's times fall on)."""
    due: dict[int, list[NetworkOperation]] = {}
    if not operations or not len(times):
        return due
    finest = min(c.dt_seconds for c in clocks)
    for operation in operations:
        dt = operation.clock.dt_seconds
        if dt < finest * (1 - 1e-9):
            raise SpikecError(f"network_operation '{operation.name}' has dt={dt:g} s, finer than "
                              f"the network's finest clock ({finest:g} s)",
                              hint="give the network operation the dt of a group, or a multiple")
        phase = times / dt
        on_grid = np.abs(phase - np.round(phase)) < 1e-6
        for tick in np.flatnonzero(on_grid):
            due.setdefault(int(tick), []).append(operation)
    return due


class MagicNetwork(Network):
    """The network of `run()`: every runnable object found in the caller's namespace."""

    def collect(self, level: int) -> None:
        """Take the runnable objects of the frame `level` calls above the caller."""
        namespace = caller_namespace(level)
        found = [obj for obj in namespace.values() if isinstance(obj, RUNNABLE)]
        if not found:
            raise SpikecError("run(): no groups, synapses or monitors found",
                              hint="create them as variables of the script that calls run(), "
                                   "or use Network(...).run()")
        self.objects = []
        self.add(*found)


magic_network = MagicNetwork(name="magic_network")


def run(duration: Quantity, report: str | None = None, report_period: Quantity = 10 * second,
        namespace: dict[str, Any] | None = None, level: int = 0) -> None:
    """Brian's `run()`: simulate every object defined where `run` is called."""
    magic_network.collect(level + 1)
    namespace = dict(namespace) if namespace is not None else caller_namespace(level)
    magic_network.run(duration, report, report_period, namespace)


def store(name: str = "default") -> None:
    magic_network.collect(1)
    magic_network.store(name)


def restore(name: str = "default") -> None:
    magic_network.restore(name)

