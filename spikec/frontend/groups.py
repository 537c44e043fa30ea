"""`NeuronGroup` and the parts every model object shares: a description, not an executor.

A group checks at creation what it can without knowing the namespace: syntax of every piece of
code, flags, reserved names, the kinds of its arguments. Dimensions and names are checked when the
model IR is built (`spikec.frontend.build_model`), with the namespace of that moment, which is
when Brian checks them too (at `run`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from spikec.errors import EquationError
from spikec.frontend.clocks import Clock, clock_for
from spikec.frontend.equations import DIFFERENTIAL_EQUATION, PARAMETER, SUBEXPRESSION, Equations
from spikec.frontend.naming import default_names
from spikec.frontend.subgroups import Subgroup, element_range_of
from spikec.frontend.variables import (LASTSPIKE, NOT_REFRACTORY, HostValues, VariableSpec,
                                       VariableView, index_variable, size_constant,
                                       variables_from_equations)
from spikec.ir.expression import Expr, Statement
from spikec.ir.expression_parser import parse_expression, parse_statements
from spikec.units import DIMENSIONLESS, Quantity, get_dimensions, second

NEURON_GROUP_FLAGS = {
    DIFFERENTIAL_EQUATION: ("unless refractory",),
    PARAMETER: ("constant", "shared", "linked"),
    SUBEXPRESSION: ("shared", "constant over dt"),
}
SCHEDULE_SLOTS = ("start", "groups", "thresholds", "synapses", "resets", "end")
STATE_UPDATE_METHODS = ("exact", "linear", "euler", "rk2", "rk4", "heun", "milstein",
                        "exponential_euler", "independent")


@dataclass(frozen=True)
class Code:
    """A block of statements with its source text and where it came from (for messages)."""

    text: str
    statements: tuple[Statement, ...]
    owner: str


@dataclass(frozen=True)
class Condition:
    """A boolean expression with its source text (threshold, custom event, connect condition)."""

    text: str
    expr: Expr
    owner: str


@dataclass(frozen=True)
class Event:
    """An event of a group: its condition, the code run when it happens (reset for 'spike'),
    and for 'spike' the refractoriness (a time, a time expression, or a condition)."""

    name: str
    condition: Condition
    code: Code | None = None
    refractory: Quantity | Condition | None = None


@dataclass(frozen=True)
class RegularOperation:
    """`run_regularly`: code run on a clock at a schedule slot."""

    name: str
    code: Code
    clock: Clock
    when: str
    order: int


def parse_code(text: str, owner: str) -> Code:
    if not isinstance(text, str):
        raise EquationError(f"{owner}: code must be a string, not {type(text).__name__}")
    return Code(text, tuple(parse_statements(text, owner)), owner)


def parse_condition(text: str, owner: str) -> Condition:
    if not isinstance(text, str):
        raise EquationError(f"{owner}: a condition must be a string, not {type(text).__name__}")
    return Condition(text, parse_expression(text, owner), owner)


def as_equations(model: str | Equations | None, owner: str) -> Equations:
    if model is None:
        return Equations("")
    if isinstance(model, str):
        return Equations(model)
    if isinstance(model, Equations):
        return model
    raise EquationError(f"{owner}: the model must be a string or Equations, "
                        f"not {type(model).__name__}")


def check_when(owner: str, when: str) -> str:
    if when not in SCHEDULE_SLOTS:
        raise EquationError(f"{owner}: unknown schedule slot when={when!r}",
                            hint=f"use one of {', '.join(SCHEDULE_SLOTS)}")
    return when


class Group:
    """Common base: a name, a size, a clock, variables and their host values, a namespace.

    Variables read and write as attributes (`G.v = -70*mV`, `G.v[:10]`), with units."""

    _kind = "group"

    def _setup(self, name: str | None, basename: str, size: int, equations: Equations,
               extra: dict[str, VariableSpec], namespace: Mapping[str, Any] | None,
               dtype: Any, dt: Quantity | None, clock: Clock | None, method: Any) -> None:
        object.__setattr__(self, "name", default_names.claim(name, basename))
        self.size = size
        self.equations = equations
        self.namespace = dict(namespace) if namespace is not None else None
        self.clock = clock_for(self.owner, dt, clock)
        self.method = _check_method(self.owner, method)
        self.dtype = np.dtype(dtype if dtype is not None else np.float64)
        if self.dtype not in (np.float64, np.float32):
            raise EquationError(f"{self.owner}: dtype must be float64 or float32, not {self.dtype}")
        self.variables = {**variables_from_equations(equations), **extra}
        self.values = HostValues(self.owner, size, self.variables, self.dtype)
        self.regular_operations: list[RegularOperation] = []

    @property
    def owner(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def __len__(self) -> int:
        return self.size

    def index_values(self, name: str) -> np.ndarray:
        """The values of an index variable (`i`: 0..size-1 in a group)."""
        return np.arange(self.size, dtype=np.int32)

    def __getattr__(self, name: str) -> Any:
        variables = self.__dict__.get("variables")
        if variables is not None and name in variables:
            return VariableView(self, name)
        raise AttributeError(f"{self.owner} has no attribute or variable '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        variables = self.__dict__.get("variables")
        if variables is not None and name in variables:
            VariableView(self, name).set_item(slice(None), value, level=1)
        else:
            object.__setattr__(self, name, value)

    def run_regularly(self, code: str, dt: Quantity | None = None, clock: Clock | None = None,
                      when: str = "start", order: int = 0, name: str | None = None):
        """Run `code` on the group's elements every `dt` (Brian's `run_regularly`)."""
        op_name = name or f"{self.name}_run_regularly_{len(self.regular_operations)}"
        owner = f"{self.owner}, run_regularly"
        operation = RegularOperation(op_name, parse_code(code, owner),
                                     clock_for(owner, dt, clock) if dt or clock else self.clock,
                                     check_when(owner, when), order)
        self.regular_operations.append(operation)
        return operation


class NeuronGroup(Group):
    """A group of neurons (Brian's `NeuronGroup`): equations, threshold, reset, refractoriness,
    custom events."""

    def __init__(self, N: int, model: str | Equations, method: Any = None,
                 threshold: str | None = None, reset: str | None = None,
                 refractory: Quantity | str | bool = False, events: dict[str, str] | None = None,
                 namespace: Mapping[str, Any] | None = None, dtype: Any = None,
                 dt: Quantity | None = None, clock: Clock | None = None, order: int = 0,
                 name: str | None = None):
        object.__setattr__(self, "name", name or "neurongroup")
        size = _check_size(f"NeuronGroup '{self.name}'", N)
        equations = as_equations(model, f"NeuronGroup '{self.name}'")
        extra = {"i": index_variable("i"), "N": size_constant("N")}
        if refractory is not False and refractory is not None:
            extra[LASTSPIKE] = VariableSpec(LASTSPIKE, get_dimensions(second), "float", LASTSPIKE,
                                            read_only=True)
            extra[NOT_REFRACTORY] = VariableSpec(NOT_REFRACTORY, DIMENSIONLESS, "boolean",
                                                 NOT_REFRACTORY)
        self._setup(name, "neurongroup", size, equations, extra, namespace, dtype, dt, clock,
                    method)
        equations.check_flags(NEURON_GROUP_FLAGS, self.owner)
        self.order = order
        self.events: dict[str, Event] = {}
        if threshold is not None:
            spike = Event("spike", parse_condition(threshold, f"{self.owner}, threshold"),
                          parse_code(reset, f"{self.owner}, reset") if reset is not None else None,
                          self._refractory(refractory))
            self.events["spike"] = spike
        elif reset is not None:
            raise EquationError(f"{self.owner}: a reset needs a threshold",
                                hint="give threshold='...' to say when the reset happens")
        for event_name, condition in (events or {}).items():
            if event_name == "spike":
                raise EquationError(f"{self.owner}: the event name 'spike' is reserved for the "
                                    "threshold", hint="give it another name, or use threshold=")
            self.events[event_name] = Event(
                event_name, parse_condition(condition, f"{self.owner}, event '{event_name}'"))

    def _refractory(self, refractory: Any) -> Quantity | Condition | None:
        if refractory is False or refractory is None:
            return None
        if isinstance(refractory, str):
            return parse_condition(refractory, f"{self.owner}, refractory")
        if get_dimensions(refractory) != get_dimensions(second):
            raise EquationError(f"{self.owner}: refractory must be a time, an expression or a "
                                f"condition, not {refractory!r}", hint="e.g. refractory=5*ms")
        return refractory

    def run_on_event(self, event: str, code: str, when: str = "resets", order: int | None = None):
        """Run `code` for the neurons in which `event` happened this step (Brian's
        `run_on_event`; the reset of the 'spike' event is the common case)."""
        if event not in self.events:
            raise EquationError(f"{self.owner} has no event '{event}'",
                                hint=f"its events: {', '.join(self.events) or 'none'}")
        current = self.events[event]
        if current.code is not None:
            raise EquationError(f"{self.owner}: event '{event}' already has code")
        self.events[event] = Event(current.name, current.condition,
                                   parse_code(code, f"{self.owner}, on event '{event}'"),
                                   current.refractory)

    def __getitem__(self, item: Any) -> Subgroup:
        """`G[10:50]`: the subgroup of elements 10..49 (contiguous; see subgroups.py)."""
        start, stop = element_range_of(self, item)
        return Subgroup(self, start, stop)

    def __repr__(self) -> str:
        return f"<NeuronGroup '{self.name}' of {self.size} neurons>"


def _check_size(owner: str, N: Any) -> int:
    if isinstance(N, (bool, np.bool_)) or not isinstance(N, (int, np.integer)) or N < 1:
        raise EquationError(f"{owner}: the number of elements must be a positive integer, "
                            f"not {N!r}")
    return int(N)


def _check_method(owner: str, method: Any) -> tuple[str, ...]:
    """Brian's `method=`: a name or a sequence to try in order; default exact, euler, heun."""
    if method is None:
        return ("exact", "euler", "heun")
    names = (method,) if isinstance(method, str) else tuple(method)
    for name in names:
        if name not in STATE_UPDATE_METHODS:
            raise EquationError(f"{owner}: unknown integration method {name!r}",
                                hint=f"use one of {', '.join(STATE_UPDATE_METHODS)}")
    return names
