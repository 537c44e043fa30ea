"""`Unit`: a named scalar quantity (`mvolt`, shown as `mV`) that is an exact power of ten of SI.

Units multiply, divide and raise to powers into new named units (`msiemens / cmetre ** 2`), so a
unit written in a model can be printed back the way it was written; with a number they make a
plain `Quantity` (`0.5 * nA`). A unit is read-only: it is shared by every model that names it.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from spikec.units.dimension import DIMENSIONLESS, Dimension, as_exponent, format_exponent
from spikec.units.quantity import Quantity


class Unit(Quantity):
    """`10 ** scale` SI units of dimension `dim`, called `name` in code and `dispname` in text.

    `iscompound` marks units built by algebra (`mvolt / msecond`), whose names need parentheses
    when they are combined again.
    """

    name: str
    dispname: str
    scale: Fraction
    iscompound: bool

    def __new__(cls, dim: Dimension = DIMENSIONLESS, name: str | None = None,
                dispname: str | None = None, scale: object = 0, iscompound: bool = False) -> "Unit":
        scale = as_exponent(scale)
        unit = super().__new__(cls, 10.0 ** float(scale), dim)
        unit.flags.writeable = False
        unit.scale = scale
        unit.name = name if name is not None else _default_name(dim, scale, repr)
        unit.dispname = dispname if dispname is not None else _default_name(dim, scale, str)
        unit.iscompound = iscompound
        return unit

    def __array_finalize__(self, source: Any) -> None:
        super().__array_finalize__(source)
        for attribute, default in (("scale", Fraction(0)), ("iscompound", True)):
            setattr(self, attribute, getattr(source, attribute, default))
        self.name = getattr(source, "name", repr(self.dim))
        self.dispname = getattr(source, "dispname", str(self.dim))

    def __reduce__(self) -> tuple:
        return Unit, (self.dim, self.name, self.dispname, self.scale, self.iscompound)

    def __repr__(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.dispname

    # ---- unit algebra: unit op unit is a unit, anything else is a quantity ----------------------

    def __mul__(self, other: Any) -> Any:
        if isinstance(other, Unit):
            return Unit(self.dim * other.dim, f"{self.name} * {other.name}",
                        f"{self.dispname} {other.dispname}", self.scale + other.scale, True)
        return super().__mul__(other)

    def __truediv__(self, other: Any) -> Any:
        if isinstance(other, Unit):
            return Unit(self.dim / other.dim, f"{_group(self, 'name')} / {_group(other, 'name')}",
                        f"{_group(self, 'dispname')}/{_group(other, 'dispname')}",
                        self.scale - other.scale, True)
        return super().__truediv__(other)

    def __rtruediv__(self, other: Any) -> Any:
        if _is_plain_scalar(other) and other == 1:
            return self ** -1
        return super().__rtruediv__(other)

    def __pow__(self, exponent: Any) -> Any:
        if not _is_plain_scalar(exponent):
            return super().__pow__(exponent)
        power = as_exponent(exponent)
        text = format_exponent(power)
        return Unit(self.dim ** power, f"{_group(self, 'name')} ** {text}",
                    f"{_group(self, 'dispname')}^{text}", self.scale * power, True)


def _group(unit: Unit, attribute: str) -> str:
    """A unit's name, in parentheses if it is compound (so `/` and `**` bind as written)."""
    text = getattr(unit, attribute)
    return f"({text})" if unit.iscompound else text


def _default_name(dim: Dimension, scale: Fraction, spell: Any) -> str:
    """A unit without a name is named after its dimension (and scale, if it is not 1)."""
    if scale == 0:
        return spell(dim)
    return f"{10.0 ** float(scale)!r} * {spell(dim)}"


def _is_plain_scalar(value: Any) -> bool:
    return not isinstance(value, Quantity) and np.ndim(value) == 0 and \
        isinstance(value, (int, float, Fraction, np.integer, np.floating))
