"""`Synapses`: connections between two groups, their variables, pathways and connect requests.

`connect(...)` creates synapses at once (Brian's runtime mode): the plan of the call
(`spikec.frontend.connect_code`) is evaluated on the host by the runtime's code runner, and the
source and target of each synapse are kept here (`_pre`, `_post`, int32); the synapses'
variables then have one value per synapse. Names in synaptic code resolve as in Brian: `x_pre`/`x_post` are the pre- and
postsynaptic neuron's variables, a plain name is a synaptic variable or else the postsynaptic
neuron's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from spikec.errors import EquationError
from spikec.frontend.clocks import Clock
from spikec.frontend.equations import DIFFERENTIAL_EQUATION, PARAMETER, SUBEXPRESSION, Equations
from spikec.frontend.connect_code import plan_connect
from spikec.frontend.groups import Code, Group, as_equations, parse_code
from spikec.frontend.namespace import caller_namespace
from spikec.frontend.variables import (DELAY, HostValues, VariableSpec, VariableView, code_runner,
                                       index_variable, size_constant)
from spikec.units import Quantity, get_dimensions, second

SYNAPSES_FLAGS = {
    DIFFERENTIAL_EQUATION: ("event-driven", "clock-driven"),
    PARAMETER: ("constant", "shared"),
    SUBEXPRESSION: ("summed", "shared", "constant over dt"),
}
_TIME = get_dimensions(second)
PROPAGATION_STRATEGIES = ("push-atomic", "pull-ordered", "dendritic-ring", "spike-queue",
                          "spike-history")


@dataclass(frozen=True)
class Pathway:
    """One way events travel: `pre` (source spikes act on synapses) or `post` (target spikes),
    the code run per synapse, the source event, and the delay (a scalar time, or None when each
    synapse has its own `delay` variable, set later)."""

    name: str
    direction: str           # 'pre' or 'post': whose event triggers it
    code: Code
    event: str
    delay: Quantity | None


class Synapses(Group):
    """Brian's `Synapses`: model equations per synapse, on_pre/on_post code (or a dict of named
    pathways), delays, and connectivity requested with `connect`."""

    def __init__(self, source: Group, target: Group | None = None,
                 model: str | Equations | None = None, on_pre: str | dict | None = None,
                 on_post: str | dict | None = None, delay: Any = None,
                 on_event: str | dict = "spike", namespace: Mapping[str, Any] | None = None,
                 dtype: Any = None, dt: Quantity | None = None, clock: Clock | None = None,
                 method: Any = None, name: str | None = None,
                 propagation: str | dict | None = None):
        object.__setattr__(self, "name", name or "synapses")
        self.source = source
        self.target = target if target is not None else source
        equations = as_equations(model, f"Synapses '{self.name}'")
        extra = {"i": index_variable("i"), "j": index_variable("j"), "N": size_constant("N"),
                 "N_incoming": index_variable("N_incoming"),
                 "N_outgoing": index_variable("N_outgoing")}
        self._setup(name, "synapses", 0, equations, extra, namespace, dtype, dt, clock, method)
        equations.check_flags(SYNAPSES_FLAGS, self.owner)
        self.pathways: dict[str, Pathway] = {}
        self._add_pathways("pre", on_pre, on_event, delay)
        self._add_pathways("post", on_post, on_event, None)
        self.values = HostValues(self.owner, 0, self.variables, self.dtype)  # with the delays
        # How events reach their targets (docs/propagation.md): one strategy for every pathway,
        # or {pathway name: strategy}; the select-propagation pass checks it is correct.
        chosen = propagation if isinstance(propagation, dict) else dict.fromkeys(self.pathways,
                                                                                 propagation)
        for pathway_name, strategy in chosen.items():
            if pathway_name not in self.pathways or strategy not in PROPAGATION_STRATEGIES + (None,):
                raise EquationError(f"{self.owner}: propagation {strategy!r} for pathway "
                                    f"{pathway_name!r} names no pathway or strategy",
                                    hint=f"strategies: {', '.join(PROPAGATION_STRATEGIES)}")
        self.propagation = {k: v for k, v in chosen.items() if v is not None}
        object.__setattr__(self, "_connect_called", False)
        object.__setattr__(self, "_pre", np.zeros(0, np.int32))
        object.__setattr__(self, "_post", np.zeros(0, np.int32))
        self._check_summed_variables()

    def _add_pathways(self, direction: str, code: str | dict | None, on_event: str | dict,
                      delay: Any) -> None:
        if code is None:
            return
        named = code if isinstance(code, dict) else {direction: code}
        for pathway_name, text in named.items():
            if pathway_name in self.pathways:
                raise EquationError(f"{self.owner}: two pathways are named '{pathway_name}'")
            event = on_event.get(pathway_name, "spike") if isinstance(on_event, dict) else on_event
            source_group = self.source if direction == "pre" else self.target
            if event not in getattr(source_group, "events", {"spike": None}):
                raise EquationError(f"{self.owner}: pathway '{pathway_name}' waits for event "
                                    f"'{event}', which {source_group.owner} does not have")
            pathway_delay = delay.get(pathway_name) if isinstance(delay, dict) else delay
            self.pathways[pathway_name] = Pathway(
                pathway_name, direction,
                parse_code(text, f"{self.owner}, {'on_' + direction} pathway '{pathway_name}'"),
                event, self._scalar_delay(pathway_name, pathway_delay))
            delay_name = DELAY if pathway_name == "pre" else f"{pathway_name}_delay"
            self.variables[delay_name] = VariableSpec(delay_name, _TIME, "float", DELAY)

    def _scalar_delay(self, pathway: str, delay: Any) -> Quantity | None:
        if delay is None:
            return None
        if get_dimensions(delay) != _TIME or np.ndim(delay) != 0:
            raise EquationError(f"{self.owner}: the delay of pathway '{pathway}' must be a single "
                                f"time, not {delay!r}",
                                hint="for one delay per synapse, set S.delay after connect")
        return delay

    def _check_summed_variables(self) -> None:
        for name, eq in self.equations.items():
            if "summed" not in eq.flags:
                continue
            base, _, side = name.rpartition("_")
            group = {"post": self.target, "pre": self.source}.get(side)
            location = eq.source.location(eq.name_span) if eq.source else None
            if group is None or base not in group.variables:
                raise EquationError(f"{self.owner}: the summed variable '{name}' must name a "
                                    "parameter of the source or target, as 'x_post' or 'x_pre'",
                                    location)
            target = group.variables[base]
            if target.role != "parameter" or target.dim != eq.dim:
                raise EquationError(f"{self.owner}: '{base}' of {group.owner} must be a parameter "
                                    f"of dimension '{eq.dim}' to receive the summed variable",
                                    location)

    def connect(self, condition: str | bool | None = None, i: Any = None, j: Any = None,
                p: float | str = 1.0, n: int | str = 1, skip_if_invalid: bool = False,
                namespace: Mapping[str, Any] | None = None, level: int = 0) -> None:
        """Create synapses now, as Brian's `connect` in runtime mode (every form: condition,
        p, n, i/j arrays, the generator syntax for j or i). Names in the code resolve in the
        source's and target's variables, the Synapses' `namespace=`, then `namespace` (default:
        the caller's frame, `level` frames further up)."""
        owner = f"{self.owner}, connect"
        if not isinstance(self.values, HostValues):
            raise EquationError(f"{owner}: the synapses are part of a built network",
                                hint="call connect before the first run")
        plan = plan_connect(owner, condition, i, j, p, n, skip_if_invalid, len(self.source),
                            len(self.target), frozenset(self.target.variables))
        self._connect_called = True
        if plan is None:
            return
        names = dict(namespace) if namespace is not None else caller_namespace(level)
        pre, post = code_runner.get(owner).connect(self, plan, names)
        if len(self._pre) + len(pre) >= 2 ** 31:
            raise EquationError(f"{owner}: more than 2**31 - 1 synapses",
                                hint="synapse numbers are 32-bit integers")
        for name, new in (("_pre", pre), ("_post", post)):  # no copy for a first connect
            old = getattr(self, name)
            joined = np.concatenate([old, new]) if len(old) else new
            object.__setattr__(self, name, joined.astype(np.int32, copy=False))
        self.size = len(self._pre)
        self.values.resize(self.size, self._initial_delays())

    def _initial_delays(self) -> dict[str, float]:
        """New synapses of a pathway with one delay for all get that delay."""
        return {(DELAY if name == "pre" else f"{name}_delay"): float(np.asarray(pathway.delay))
                for name, pathway in self.pathways.items() if pathway.delay is not None}

    def index_values(self, name: str) -> np.ndarray:
        """`S.i`, `S.j` (source and target of each synapse), `S.N_incoming` (synapses onto
        each synapse's target), `S.N_outgoing` (from each synapse's source)."""
        if name == "i":
            return self._pre.copy()
        if name == "j":
            return self._post.copy()
        if name == "N_incoming":
            return np.bincount(self._post, minlength=len(self.target)).astype(
                np.int32)[self._post]
        if name == "N_outgoing":
            return np.bincount(self._pre, minlength=len(self.source)).astype(np.int32)[self._pre]
        return super().index_values(name)

    def __getattr__(self, name: str) -> Any:
        pathways = self.__dict__.get("pathways", {})
        variables = self.__dict__.get("variables", {})
        if name in pathways and name not in variables:
            return PathwayView(self, pathways[name])
        return super().__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        variables = self.__dict__.get("variables")
        if variables is not None and name in variables and not self._connect_called:
            raise EquationError(f"{self.owner}: cannot set '{name}' before connect(...) is "
                                "called", hint="create the synapses first")
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        return f"<Synapses '{self.name}' from '{self.source.name}' to '{self.target.name}'>"


class PathwayView:
    """`S.pre`: a pathway, whose `delay` is Brian's `S.pre.delay` (the pathway's per-synapse
    delay variable: `delay` for `pre`, `<name>_delay` for the others)."""

    def __init__(self, synapses: Synapses, pathway: Pathway):
        object.__setattr__(self, "_synapses", synapses)
        object.__setattr__(self, "_pathway", pathway)

    @property
    def _delay_name(self) -> str:
        return DELAY if self._pathway.name == "pre" else f"{self._pathway.name}_delay"

    def __getattr__(self, name: str) -> Any:
        if name == "delay":
            return VariableView(self._synapses, self._delay_name)
        return getattr(self._pathway, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name != "delay":
            raise EquationError(f"{self._synapses.owner}: pathway '{self._pathway.name}' has "
                                f"no settable attribute '{name}'")
        VariableView(self._synapses, self._delay_name).set_item(slice(None), value, level=1)
