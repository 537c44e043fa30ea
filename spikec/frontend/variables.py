"""What a model object's variables are, and their values before a network is built.

Each group turns its equations into `VariableSpec`s (plus the variables every group of its kind
has: `i`, `N`, `lastspike`, ...). Until the runtime builds the network, values live in host numpy
arrays in SI units; setting one checks the dimension, as `G.v = -70*mV` does in Brian. The runtime
later attaches a storage object through which the same attribute reaches device memory.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from spikec.errors import DimensionMismatchError, EquationError
from spikec.frontend.equations import DIFFERENTIAL_EQUATION, PARAMETER, SUBEXPRESSION, Equations
from spikec.ir.dimension_rules import BOOLEAN, FLOAT, INTEGER
from spikec.units import DIMENSIONLESS, Dimension, Quantity, get_dimensions

# The roles a variable can play; the model IR prints them.
STATE, PARAMETER_ROLE, SUBEXPRESSION_ROLE = "state", "parameter", "subexpression"
INDEX, CONSTANT, LASTSPIKE, NOT_REFRACTORY, DELAY = ("index", "constant", "lastspike",
                                                     "not_refractory", "delay")

_ROLE_OF_KIND = {DIFFERENTIAL_EQUATION: STATE, PARAMETER: PARAMETER_ROLE,
                 SUBEXPRESSION: SUBEXPRESSION_ROLE}


@dataclass(frozen=True)
class VariableSpec:
    """One variable of a model object: dimension, kind (float/integer/boolean), role, flags,
    whether it has one value per element or one shared value, and whether code may write it."""

    name: str
    dim: Dimension
    kind: str
    role: str
    flags: tuple[str, ...] = ()
    shared: bool = False
    read_only: bool = False

    def numpy_dtype(self, float_dtype: np.dtype) -> np.dtype:
        if self.kind == BOOLEAN:
            return np.dtype(np.bool_)
        if self.kind == INTEGER:
            return np.dtype(np.int32)
        return float_dtype


def variables_from_equations(equations: Equations) -> dict[str, VariableSpec]:
    """The variables the equations define."""
    specs = {}
    for name, eq in equations.items():
        role = _ROLE_OF_KIND[eq.type]
        read_only = role == SUBEXPRESSION_ROLE or "constant" in eq.flags
        specs[name] = VariableSpec(name, eq.dim, eq.var_type, role, eq.flags,
                                   shared="shared" in eq.flags, read_only=read_only)
    return specs


def index_variable(name: str) -> VariableSpec:
    return VariableSpec(name, DIMENSIONLESS, INTEGER, INDEX, read_only=True)


def size_constant(name: str) -> VariableSpec:
    return VariableSpec(name, DIMENSIONLESS, INTEGER, CONSTANT, shared=True, read_only=True)


class CodeRunner(Protocol):
    """Runs model code on a group's values (string initialisers, conditions, subexpressions).
    The runtime provides it; the frontend cannot import the runtime (it is a layer above)."""

    def execute(self, group: Any, code: str, condition: str | None, namespace: dict) -> None: ...

    def evaluate(self, group: Any, expression: str, namespace: dict) -> np.ndarray: ...


class CodeRunnerSlot:
    """Where the runtime registers its `CodeRunner` (spikec/__init__.py does, on import)."""

    def __init__(self):
        self.runner: CodeRunner | None = None

    def get(self, owner: str) -> CodeRunner:
        if self.runner is None:
            raise EquationError(f"{owner}: string code needs spikec's runtime",
                                hint="import spikec (from spikec import *), which loads it")
        return self.runner


code_runner = CodeRunnerSlot()


class HostValues:
    """Values of an object's stored variables on the host, in SI units (before a build).

    The same interface as the runtime's storage, which replaces it when a network is built:
    `read`/`write` of one variable, `all_arrays`/`write_array` for code run on every value."""

    def __init__(self, owner: str, size: int, specs: dict[str, VariableSpec], float_dtype):
        self.owner = owner
        self.size = size
        self.specs = specs
        # Writes per variable: a network re-reads a variable it compiles in (per-synapse delays)
        # only when this count moved, not on every run.
        self.write_counts: Counter[str] = Counter()
        self.arrays: dict[str, np.ndarray] = {}
        for name, spec in specs.items():
            if spec.role in (SUBEXPRESSION_ROLE, INDEX, CONSTANT):
                continue  # computed, not stored
            length = 1 if spec.shared else size
            self.arrays[name] = np.full(length, self._initial(name),
                                        dtype=spec.numpy_dtype(float_dtype))
        if NOT_REFRACTORY in self.arrays:
            self.arrays[NOT_REFRACTORY][:] = True

    def _initial(self, name: str) -> float:
        return -1e4 if self.specs[name].role == LASTSPIKE else 0  # Brian: -10000 s, never recent

    def resize(self, size: int, initial: dict[str, float] | None = None) -> None:
        """Grow to `size` elements (synapses being created): new elements get the initial value
        (0, or `initial[name]`); shared values stay."""
        for name, array in self.arrays.items():
            if self.specs[name].shared or len(array) >= size:
                continue
            value = (initial or {}).get(name, self._initial(name))
            grown = np.empty(size, dtype=array.dtype)
            grown[:len(array)] = array
            grown[len(array):] = value
            self.arrays[name] = grown
            self.write_counts[name] += 1
        self.size = size

    def read(self, name: str) -> np.ndarray:
        return self.arrays[name].copy()

    def write(self, name: str, values: np.ndarray, index: Any = slice(None)) -> None:
        self.arrays[name][index] = values
        self.write_counts[name] += 1

    def all_arrays(self) -> dict[str, np.ndarray]:
        return {name: array.copy() for name, array in self.arrays.items()}

    def write_array(self, name: str, values: np.ndarray) -> None:
        self.arrays[name][...] = values
        self.write_counts[name] += 1


class VariableView:
    """`G.v`: reads and writes a variable with units, as Brian's `VariableView`.

    `G.v[:10]`, `G.v['i > 5']` (a condition), `G.v = -70*mV`, `G.v = 'El + rand()*5*mV'`
    (code run for each element), `G.v['i > 5'] = 'v + 1*mV'`. Arithmetic and numpy functions
    work on the values (`G.v + 1*mV`, `np.mean(G.v)`)."""

    def __init__(self, group: Any, name: str):
        self._group = group
        self._name = name
        self._spec: VariableSpec = group.variables[name]

    @property
    def _owner(self) -> str:
        return f"{self._group.owner}, variable '{self._name}'"

    def _with_units(self, values: np.ndarray) -> Any:
        spec = self._spec
        if spec.kind != FLOAT or spec.dim.is_dimensionless:
            return values
        return Quantity(values, spec.dim)

    def get_value(self) -> Any:
        """All values (a copy), with units."""
        spec, group = self._spec, self._group
        if spec.role == INDEX:
            return group.index_values(self._name)
        if spec.role == CONSTANT:
            return group.size
        if spec.role == SUBEXPRESSION_ROLE:
            values = code_runner.get(self._owner).evaluate(group, self._name, _caller(2))
            return self._with_units(values)
        return self._with_units(group.values.read(self._name))

    def _mask(self, condition: str) -> np.ndarray:
        return code_runner.get(self._owner).evaluate(self._group, condition, _caller(3))

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, str):
            index = self._mask(index)
        values = self.get_value()
        return values[index] if np.ndim(values) else values

    def __setitem__(self, index: Any, value: Any) -> None:
        self.set_item(index, value, level=1)

    def set_item(self, index: Any, value: Any, level: int = 0) -> None:
        spec = self._spec
        if spec.role in (INDEX, CONSTANT, SUBEXPRESSION_ROLE):
            raise EquationError(f"{self._owner}: cannot set a {spec.role} variable")
        condition = index if isinstance(index, str) else None
        if isinstance(value, str) or condition is not None:
            code = value if isinstance(value, str) else None
            if code is None:  # G.v['i > 5'] = 3*mV: a constant written where the condition holds
                self._check_dimension(value)
                mask = self._mask(condition)
                self._group.values.write(self._name, np.asarray(value), mask)
                return
            code_runner.get(self._owner).execute(self._group, f"{self._name} = {code}",
                                                 condition, _caller(level + 2))
            return
        self._check_dimension(value)
        try:
            self._group.values.write(self._name, np.asarray(value), index)
        except (ValueError, IndexError) as err:
            raise EquationError(f"{self._owner}: cannot assign these values: {err}") from None

    def _check_dimension(self, value: Any) -> None:
        value_dim = get_dimensions(value)
        if value_dim != self._spec.dim and not _is_plain_zero(value):
            raise DimensionMismatchError(
                f"{self._owner} has dimension '{self._spec.dim}', but the value assigned has "
                f"'{value_dim}'", self._spec.dim, value_dim,
                hint="give the value in matching units, e.g. G.v = -70*mV")

    # -- behaving like the values -------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.get_value(), dtype=dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(i.get_value() if isinstance(i, VariableView) else i for i in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        return getattr(self.get_value(), attribute)  # .shape, .mean(), .dim, ...

    def __len__(self) -> int:
        return len(self.get_value())

    def __iter__(self):
        return iter(self.get_value())

    def __repr__(self) -> str:
        return f"<{self._group.name}.{self._name}: {self.get_value()!r}>"

    def __str__(self) -> str:
        return str(self.get_value())


def _arithmetic(operator_name: str):
    """A dunder applying `operator_name` to the view's values (explicit list below)."""
    import operator

    function = getattr(operator, operator_name)

    def method(self, other):
        other = other.get_value() if isinstance(other, VariableView) else other
        return function(self.get_value(), other)

    def reflected(self, other):
        return function(other, self.get_value())

    return method, reflected


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow"):
    _method, _reflected = _arithmetic(_name)
    setattr(VariableView, f"__{_name}__", _method)
    setattr(VariableView, f"__r{_name}__", _reflected)
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(VariableView, f"__{_name}__", _arithmetic(_name)[0])
VariableView.__neg__ = lambda self: -self.get_value()
VariableView.__abs__ = lambda self: abs(self.get_value())
VariableView.__hash__ = None  # mutable, compares by value


def _is_plain_zero(value: Any) -> bool:
    return not isinstance(value, Quantity) and np.all(np.asarray(value) == 0)


def _caller(depth: int) -> dict[str, Any]:
    """Locals and globals of the frame `depth` calls up from this function (for resolving names
    in code: the user's frame is 3 up from `set_item` called by `__setitem__`/`__setattr__`)."""
    import sys
    frame = sys._getframe(depth)
    try:
        return {**frame.f_globals, **frame.f_locals}
    finally:
        del frame
