"""Resolving the names model code uses, in Brian's order.

A name in an equation or statement is, in this order of lookup:
1. a variable of the model (its equations, plus what the group adds: `i`, `N`, `lastspike`...);
2. one of the special names every model has: `t`, `dt`, and the noise terms `xi`, `xi_*`;
3. a default constant (`pi`, `e`, `inf`), unit (`mV`, `nS`, ...) or function (`exp`, `rand`);
4. the object's explicit `namespace=` dictionary, if given;
5. the caller's local, then global variables (captured where the object was created or run).
External values keep their units: `tau = 10*ms` in the caller makes `tau` a time constant.

`Namespace` is the frontend's `spikec.ir.dimension_rules.Resolver`: the dimension rules there ask it
what each name is.
"""

from __future__ import annotations

import functools
import keyword
import numbers
import sys
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from spikec.ir.dimension_rules import (BOOLEAN, FLOAT, INTEGER, NameInfo, builtin_name,
                                       is_noise_name)
from spikec.ir.functions import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS, FunctionSignature
from spikec.units import DIMENSIONLESS, Dimension, all_units, base_units_namespace, get_dimensions


# Names every group defines or uses itself (the index `i`, the size `N`, the refractoriness flag),
# so no equation may define them; Brian refuses the same ones.
SPECIAL_NAMES = ("t", "dt", "t_in_timesteps", "i", "N", "not_refractory")


@functools.cache
def default_units() -> Mapping[str, Any]:
    """Every unit name model code may use, read-only. Built once: `all_units()` copies the whole
    table on each call, and name lookups happen for every name of every equation."""
    return MappingProxyType(all_units())


@functools.cache
def base_units() -> Mapping[str, Any]:
    """The unit names allowed after an equation's colon (`volt`, not `mV`), read-only, built once."""
    return MappingProxyType(base_units_namespace())


class Namespace:
    """Looks names up for one model object (a group, or a free `Equations`).

    `variables` maps model variable names to (dimension, kind); `explicit` is the object's
    `namespace=`; `caller` is the captured locals-then-globals mapping."""

    def __init__(self, variables: Mapping[str, tuple[Dimension, str]] | None = None,
                 explicit: Mapping[str, Any] | None = None,
                 caller: Mapping[str, Any] | None = None):
        self.variables = dict(variables or {})
        self.explicit = explicit
        self.caller = caller or {}

    def function(self, name: str) -> FunctionSignature | None:
        """The signature of the function `name` names: a default function, else an external
        object that provides a `function_signature` (a `TimedArray`), looked up like a value."""
        if name in self.variables:
            return None
        if name in DEFAULT_FUNCTIONS:
            return DEFAULT_FUNCTIONS[name]
        for mapping in (self.explicit, self.caller):
            if mapping is not None and name in mapping:
                return getattr(mapping[name], "function_signature", None)
        return None

    def resolve(self, name: str) -> NameInfo | None:
        """The meaning of `name`, or None when it is unknown."""
        if name in self.variables:
            dim, kind = self.variables[name]
            return NameInfo(name, dim, kind, "variable")
        builtin = builtin_name(name)
        if builtin is not None:
            return builtin
        units = default_units()
        if name in units:
            unit = units[name]
            return NameInfo(name, get_dimensions(unit), FLOAT, "unit", float(np.asarray(unit)))
        for origin, mapping in (("namespace", self.explicit), ("caller", self.caller)):
            if mapping is not None and name in mapping:
                return external_value_info(name, mapping[name], origin)
        return None


def external_value_info(name: str, value: Any, origin: str) -> NameInfo | None:
    """Describe an external Python value used in model code, or None if it cannot be used
    (a module, a class, a string...)."""
    if isinstance(value, (bool, np.bool_)):
        return NameInfo(name, DIMENSIONLESS, BOOLEAN, origin, bool(value))
    if isinstance(value, (numbers.Integral, np.integer)):
        return NameInfo(name, DIMENSIONLESS, INTEGER, origin, int(value))
    if isinstance(value, (numbers.Number, np.ndarray, np.number)):
        array = np.asarray(value)
        if array.ndim != 0:
            return None  # arrays are only usable through TimedArray or as variable values
        kind = INTEGER if np.issubdtype(array.dtype, np.integer) else FLOAT
        return NameInfo(name, get_dimensions(value), kind, origin, float(array))
    return None


def caller_namespace(level: int = 0) -> dict[str, Any]:
    """The locals and globals of the frame `level` calls above the caller of this function's
    caller (level=0: whoever called the function that calls this), locals shadowing globals."""
    frame = sys._getframe(level + 2)
    try:
        namespace = dict(frame.f_globals)
        namespace.update(frame.f_locals)
        return namespace
    finally:
        del frame


def reserved_name_problem(name: str) -> str | None:
    """Why `name` cannot name a model variable, or None if it can (Brian's rules)."""
    if keyword.iskeyword(name):
        return f"'{name}' is a Python keyword and cannot be used as a variable name"
    if name.startswith("_"):
        return f"variable '{name}' starts with an underscore, which is reserved for internal names"
    if name in SPECIAL_NAMES or is_noise_name(name):
        return f"'{name}' has a special meaning in equations and cannot be used as a variable name"
    if name in default_units():
        return f"'{name}' is the name of a unit and cannot be used as a variable name"
    if name in DEFAULT_FUNCTIONS:
        return f"'{name}' is the name of a function and cannot be used as a variable name"
    if name in DEFAULT_CONSTANTS:
        return f"'{name}' is the name of a constant and cannot be used as a variable name"
    return None
