"""Attribute values: the compile-time data an op carries (names, numbers, types, symbol refs...).

An attribute is a plain Python value of one of these kinds, so ops and passes handle them without
wrapper classes:

=============  ======================  ===========================
kind           Python value            text
=============  ======================  ===========================
int            ``int``                 ``42``, ``-3``
float          ``float``               ``0.5``, ``1e-05``, ``inf``, ``nan``
string         ``str``                 ``"tau_m"`` (JSON escapes)
bool           ``bool``                ``true``, ``false``
type           `Type`                  ``f64``
symbol ref     `SymbolRef`             ``@G.v``, ``@"odd name"``
list           ``tuple``               ``[1, 2.0, "x"]``
dict           ``dict`` (str keys)     ``{a = 1, "b c" = 2}``
call           `CallAttr`              ``elements(100)``, ``spikes(@G._spikespace)``
=============  ======================  ===========================

Lists are tuples so attributes are hashable (CSE keys ops by them). A `CallAttr` is the generic
spelling of structured values such as index spaces; an op turns it into a richer object through an
`AttributeCodec`, its hook for custom attribute printing and parsing (the model dialect uses one to
keep expression objects in attributes that print as quoted strings).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Union

from spikec.ir.types import Type

_PLAIN_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_.$]*\Z")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@dataclass(frozen=True)
class SymbolRef:
    """A reference to a module-level symbol (an array, a kernel, a clock): ``@G.v``."""

    name: str

    def __str__(self) -> str:
        if _PLAIN_SYMBOL.match(self.name):
            return "@" + self.name
        return "@" + json.dumps(self.name)


@dataclass(frozen=True)
class CallAttr:
    """A named tuple of attributes, ``name(arg, ...)``: the generic form of structured values."""

    name: str
    args: tuple["Attribute", ...] = ()


Attribute = Union[int, float, str, bool, Type, SymbolRef, CallAttr, tuple, dict]


@dataclass(frozen=True)
class AttributeCodec:
    """How an op keeps a richer object in an attribute: `encode` turns it into a generic attribute
    value for printing, `decode` turns the parsed generic value back into the object.

    `decode` may raise any exception (ValueError, SpikecError, ...); the parser reports it as an
    IRParseError at the attribute's position, so a bad expression string points at its line.
    """

    encode: Callable[[Any], Attribute]
    decode: Callable[[Attribute], Any]


def is_attribute(value: object) -> bool:
    """Whether `value` is a generic attribute value (recursively)."""
    if isinstance(value, (bool, int, float, str, Type, SymbolRef)):
        return True
    if isinstance(value, CallAttr):
        return all(is_attribute(a) for a in value.args)
    if isinstance(value, tuple):
        return all(is_attribute(a) for a in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_attribute(v) for k, v in value.items())
    return False


def format_attribute(value: Attribute) -> str:
    """The IR text of a generic attribute value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return format_float(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (Type, SymbolRef)):
        return str(value)
    if isinstance(value, CallAttr):
        return f"{value.name}({', '.join(format_attribute(a) for a in value.args)})"
    if isinstance(value, tuple):
        return "[" + ", ".join(format_attribute(a) for a in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_key(k)} = {format_attribute(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"not an attribute value: {value!r} ({type(value).__name__})")


def format_float(value: float) -> str:
    """Shortest text that reads back to the same double, always recognisable as a float."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)
    return text if any(c in text for c in ".eE") else text + ".0"


def format_key(key: str) -> str:
    return key if _PLAIN_KEY.match(key) else json.dumps(key)


def attributes_equal(a: Attribute, b: Attribute) -> bool:
    """Structural equality that tells 1 from 1.0 from True, -0.0 from 0.0, and nan equals nan."""
    return freeze_attribute(a) == freeze_attribute(b)


def freeze_attribute(value: Attribute) -> object:
    """A hashable key such that equal keys mean the same attribute (kinds distinguished)."""
    if isinstance(value, float):
        return ("float", format_float(value))
    if isinstance(value, tuple):
        return ("list",) + tuple(freeze_attribute(v) for v in value)
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: item[0])
        return ("dict",) + tuple((k, freeze_attribute(v)) for k, v in items)
    if isinstance(value, CallAttr):
        return ("call", value.name) + tuple(freeze_attribute(v) for v in value.args)
    return (type(value).__name__, value)
