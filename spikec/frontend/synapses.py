"""`Synapses`: connections between two groups, their variables, pathways and connect requests.

A description as `NeuronGroup` is: connectivity is requested here (`connect(...)`) and built by
the runtime. Names in synaptic code resolve as in Brian: `x_pre`/`x_post` are the pre- and
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
from spikec.frontend.groups import (Code, Condition, Group, as_equations, parse_code,
                                    parse_condition)
from spikec.frontend.variables import DELAY, VariableSpec, index_variable, size_constant
from spikec.ir.expression import Expr
from spikec.ir.expression_parser import parse_expression
from spikec.units import Quantity, get_dimensions, second

SYNAPSES_FLAGS = {
    DIFFERENTIAL_EQUATION: ("event-driven", "clock-driven"),
    PARAMETER: ("constant", "shared"),
    SUBEXPRESSION: ("summed", "shared", "constant over dt"),
}
_TIME = get_dimensions(second)
PROPAGATION_STRATEGIES = ("push-atomic", "pull-ordered", "dendritic-ring", "spike-queue")


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


@dataclass(frozen=True)
class ConnectRequest:
    """One `connect(...)` call, kept as written; the runtime builds the synapses."""

    condition: Condition | None
    i: np.ndarray | None
    j: np.ndarray | Expr | None
    p: float | Expr
    n: int | Expr
    skip_if_invalid: bool


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
        self.connect_requests: list[ConnectRequest] = []
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
                namespace: Mapping[str, Any] | None = None, level: int = 0) -> ConnectRequest:
        """Request synapses, as Brian's `connect` (all forms but the generator syntax for `j`)."""
        owner = f"{self.owner}, connect"
        parsed_condition = None
        if isinstance(condition, str):
            parsed_condition = parse_condition(condition, f"{owner} condition")
        elif condition not in (None, True):
            raise EquationError(f"{owner}: condition must be a string or True, not {condition!r}")
        j_value = self._connect_index(j, "j", len(self.target), owner)
        request = ConnectRequest(parsed_condition, self._connect_index(i, "i", len(self.source),
                                                                       owner),
                                 j_value, _number_or_expression(p, owner, "p"),
                                 _number_or_expression(n, owner, "n"), skip_if_invalid)
        if request.i is not None and isinstance(request.j, np.ndarray):
            if request.i.shape != request.j.shape:
                raise EquationError(f"{owner}: i and j have different lengths "
                                    f"({len(request.i)} and {len(request.j)})")
        self.connect_requests.append(request)
        return request

    @staticmethod
    def _connect_index(value: Any, which: str, size: int, owner: str):
        if value is None:
            return None
        if isinstance(value, str):
            if which == "i":
                raise EquationError(f"{owner}: i cannot be an expression; give j as one instead")
            if " for " in f" {value} ":
                raise EquationError(f"{owner}: the generator syntax j={value!r} is not supported "
                                    "yet", hint="use condition= or explicit i/j arrays for now")
            return parse_expression(value, f"{owner} j")
        indices = np.atleast_1d(np.asarray(value))
        if not np.issubdtype(indices.dtype, np.integer):
            raise EquationError(f"{owner}: {which} must hold integers, not {indices.dtype}")
        if indices.size and (indices.min() < 0 or indices.max() >= size):
            raise EquationError(f"{owner}: {which} holds indices outside 0..{size - 1}")
        return indices.astype(np.int64)

    def __getattr__(self, name: str) -> Any:
        variables = self.__dict__.get("variables")
        if variables is not None and name in variables:
            raise EquationError(f"{self.owner}: synaptic variables have values only once the "
                                "synapses are built",
                                hint="synapse creation and variable access come with the runtime")
        return super().__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        variables = self.__dict__.get("variables")
        if variables is not None and name in variables:
            self.__getattr__(name)
        object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"<Synapses '{self.name}' from '{self.source.name}' to '{self.target.name}'>"


def _number_or_expression(value: Any, owner: str, what: str) -> float | int | Expr:
    if isinstance(value, str):
        return parse_expression(value, f"{owner} {what}")
    if what == "p" and not 0 <= float(value) <= 1:
        raise EquationError(f"{owner}: p must be a probability in [0, 1], not {value!r}")
    if what == "n" and (int(value) != value or value < 0):
        raise EquationError(f"{owner}: n must be a non-negative integer, not {value!r}")
    return float(value) if what == "p" else int(value)
