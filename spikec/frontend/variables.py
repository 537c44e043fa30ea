"""What a model object's variables are, and their values before a network is built.

Each group turns its equations into `VariableSpec`s (plus the variables every group of its kind
has: `i`, `N`, `lastspike`, ...). Until the runtime builds the network, values live in host numpy
arrays in SI units; setting one checks the dimension, as `G.v = -70*mV` does in Brian. The runtime
later attaches a storage object through which the same attribute reaches device memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from spikec.errors import DimensionMismatchError, EquationError
from spikec.frontend.equations import DIFFERENTIAL_EQUATION, PARAMETER, SUBEXPRESSION, Equations
from spikec.frontend.namespace import BOOLEAN, FLOAT, INTEGER
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


class HostValues:
    """Values of an object's stored variables on the host, in SI units (before a build)."""

    def __init__(self, owner: str, size: int, specs: dict[str, VariableSpec], float_dtype):
        self.owner = owner
        self.size = size
        self.specs = specs
        self.arrays: dict[str, np.ndarray] = {}
        for name, spec in specs.items():
            if spec.role in (SUBEXPRESSION_ROLE, INDEX, CONSTANT):
                continue  # computed, not stored
            length = 1 if spec.shared else size
            initial = -np.inf if spec.role == LASTSPIKE else 0
            self.arrays[name] = np.full(length, initial, dtype=spec.numpy_dtype(float_dtype))
        if NOT_REFRACTORY in self.arrays:
            self.arrays[NOT_REFRACTORY][:] = True

    def get(self, name: str) -> Any:
        spec = self.specs[name]
        if spec.role == INDEX:
            return np.arange(self.size, dtype=np.int32)
        if spec.role == CONSTANT:
            return self.size
        if spec.role == SUBEXPRESSION_ROLE:
            raise EquationError(f"{self.owner}: '{name}' is a subexpression; its value is only "
                                "known once the network runs",
                                hint="record it with a StateMonitor, or read the variables it "
                                     "is computed from")
        values = self.arrays[name]
        if spec.kind != FLOAT or spec.dim.is_dimensionless:
            return values.copy()
        return Quantity(values.copy(), spec.dim)

    def set(self, name: str, value: Any, index: Any = slice(None)) -> None:
        spec = self.specs[name]
        if spec.role in (INDEX, CONSTANT, SUBEXPRESSION_ROLE):
            raise EquationError(f"{self.owner}: cannot set '{name}', a {spec.role} variable")
        if isinstance(value, str):
            raise EquationError(
                f"{self.owner}: setting '{name}' from the string {value!r} needs the runtime",
                hint="string initialisers are evaluated when a network is built (the runtime "
                     "comes with the neuron-model issue); assign numbers or quantities for now")
        value_dim = get_dimensions(value)
        if value_dim != spec.dim:
            raise DimensionMismatchError(
                f"{self.owner}: '{name}' has dimension '{spec.dim}', but the value assigned has "
                f"'{value_dim}'", spec.dim, value_dim)
        values = np.asarray(value)
        target = self.arrays[name]
        try:
            target[index] = values
        except (ValueError, IndexError) as err:
            raise EquationError(f"{self.owner}: cannot assign {values.shape}-shaped values to "
                                f"'{name}' ({target.shape[0]} values): {err}") from None
