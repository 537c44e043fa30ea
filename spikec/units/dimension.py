"""Physical dimensions: the exponents of the seven SI base quantities.

A `Dimension` is what stays of a unit once its scale is forgotten: `mV` and `volt` have the same
dimension, `m^2 kg s^-3 A^-1`. The IR records one per variable, and the frontend checks that both
sides of every equation agree. Exponents are `Fraction`s so that `sqrt(second)` is exactly
`second ** (1/2)` and squaring it again gives back `second`, with no floating-point residue.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import ClassVar

import numpy as np


def as_exponent(value: object) -> Fraction:
    """An exponent as an exact `Fraction`; floats are read as the nearest simple fraction.

    `0.5` becomes 1/2 and `1/3` (a float) becomes 1/3, so exponents written in Python code as
    decimals still compose exactly.
    """
    if type(value) is Fraction:  # the common case (the unit table builds ~2000 units at import)
        return value
    if type(value) is int:
        return Fraction(value)
    if isinstance(value, np.ndarray) and value.size == 1:
        value = value.item()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"a dimension exponent must be a real number, not {value!r}")
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    if not np.isfinite(value):
        raise ValueError(f"a dimension exponent must be finite, not {value!r}")
    return Fraction(value).limit_denominator(1000)


def format_exponent(exponent: Fraction) -> str:
    """`2`, `-1`, `0.5`: integers as integers, other fractions as decimals (as Brian prints them)."""
    if exponent.denominator == 1:
        return str(exponent.numerator)
    return repr(float(exponent))


@dataclass(frozen=True)
class Dimension:
    """The exponents of metre, kilogram, second, amp, kelvin, mole and candle.

    Immutable and hashable, so dimensions can key dictionaries (the unit registry does) and be
    compared with `==`. Build one with keywords (`Dimension(length=1, time=-1)`) or by algebra on
    the `BASE_DIMENSIONS` (`LENGTH / TIME`).
    """

    length: Fraction = Fraction(0)
    mass: Fraction = Fraction(0)
    time: Fraction = Fraction(0)
    current: Fraction = Fraction(0)
    temperature: Fraction = Fraction(0)
    amount: Fraction = Fraction(0)
    luminosity: Fraction = Fraction(0)

    # Symbols for str() and base unit names for repr(), in field order.
    SYMBOLS: ClassVar[tuple[str, ...]] = ("m", "kg", "s", "A", "K", "mol", "cd")
    UNIT_NAMES: ClassVar[tuple[str, ...]] = ("metre", "kilogram", "second", "amp", "kelvin",
                                             "mole", "candle")

    def __post_init__(self) -> None:
        for name in _FIELD_NAMES:
            value = getattr(self, name)
            if type(value) is not Fraction:
                object.__setattr__(self, name, as_exponent(value))

    @property
    def exponents(self) -> tuple[Fraction, ...]:
        return (self.length, self.mass, self.time, self.current, self.temperature, self.amount,
                self.luminosity)

    @property
    def is_dimensionless(self) -> bool:
        return not any(self.exponents)

    def __mul__(self, other: "Dimension") -> "Dimension":
        if not isinstance(other, Dimension):
            return NotImplemented
        return Dimension(*(a + b for a, b in zip(self.exponents, other.exponents)))

    def __truediv__(self, other: "Dimension") -> "Dimension":
        if not isinstance(other, Dimension):
            return NotImplemented
        return Dimension(*(a - b for a, b in zip(self.exponents, other.exponents)))

    def __pow__(self, exponent: object) -> "Dimension":
        power = as_exponent(exponent)
        return Dimension(*(a * power if a else a for a in self.exponents))  # most exponents are 0

    def _parts(self, names: tuple[str, ...], power_sign: str) -> list[str]:
        return [name if exponent == 1 else f"{name}{power_sign}{format_exponent(exponent)}"
                for name, exponent in zip(names, self.exponents) if exponent != 0]

    def __str__(self) -> str:
        """Brian's short form: `m^2 kg s^-3 A^-1`; a dimensionless one prints as `1`."""
        return " ".join(self._parts(self.SYMBOLS, "^")) or "1"

    def __repr__(self) -> str:
        """As Python code in base unit names: `metre ** 2 * kilogram * second ** -3 * amp ** -1`."""
        return " * ".join(self._parts(self.UNIT_NAMES, " ** ")) or "Dimension()"


_FIELD_NAMES = tuple(field.name for field in fields(Dimension))

DIMENSIONLESS = Dimension()

LENGTH = Dimension(length=1)
MASS = Dimension(mass=1)
TIME = Dimension(time=1)
CURRENT = Dimension(current=1)
TEMPERATURE = Dimension(temperature=1)
AMOUNT = Dimension(amount=1)
LUMINOSITY = Dimension(luminosity=1)

BASE_DIMENSIONS = (LENGTH, MASS, TIME, CURRENT, TEMPERATURE, AMOUNT, LUMINOSITY)
