"""Every unit name Brian knows, built from a table of named SI units, prefixes and powers.

The names are generated, not listed: each named unit (`volt`, `siemens`, ...) gets the 20 SI
prefixes (`mvolt`, `kohm`, `cmetre`) and squares and cubes of all of those (`umetre2`), as in
Brian; `kilogram`, `kilogramme` and `kelvin` take no prefix, litres take no power. Brian's short
names (`mV`, `ms`, `nS`, ...) are aliases of the same objects.

Two `UnitRegister`s decide how quantities print: the standard one (Brian's "standard units")
and an additional one with a few compound units (`coulomb / metre ** 2`). Both are built once at
import and never changed; unlike Brian, units made by algebra are not registered on the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from spikec.units.dimension import (AMOUNT, CURRENT, DIMENSIONLESS, LENGTH, LUMINOSITY, MASS,
                                    TEMPERATURE, TIME, Dimension)
from spikec.units.unit import Unit

PREFIXES: dict[str, int] = {"y": -24, "z": -21, "a": -18, "f": -15, "p": -12, "n": -9, "u": -6,
                            "m": -3, "c": -2, "d": -1, "da": 1, "h": 2, "k": 3, "M": 6, "G": 9,
                            "T": 12, "P": 15, "E": 18, "Z": 21, "Y": 24}
# The prefixes whose units are used for printing, in the order Brian registers them; the order
# breaks ties in the choice of the best unit, so it is kept. (c, d, da, h never print.)
DISPLAY_PREFIXES = ("Y", "k", "M", "z", "E", "y", "T", "u", "p", "n", "m", "f", "G", "P", "Z", "a")


@dataclass(frozen=True)
class NamedUnit:
    """One row of the unit table: a name, its symbol, dimension and power-of-ten scale."""

    name: str
    symbol: str
    dim: Dimension
    scale: int = 0
    prefixable: bool = True


_NEWTON = MASS * LENGTH / TIME ** 2
_JOULE = _NEWTON * LENGTH
_WATT = _JOULE / TIME
_VOLT = _WATT / CURRENT
_WEBER = _VOLT * TIME

NAMED_UNITS: tuple[NamedUnit, ...] = (
    NamedUnit("metre", "m", LENGTH), NamedUnit("meter", "m", LENGTH),
    NamedUnit("kilogram", "kg", MASS, prefixable=False), NamedUnit("second", "s", TIME),
    NamedUnit("amp", "A", CURRENT), NamedUnit("ampere", "A", CURRENT),
    NamedUnit("kelvin", "K", TEMPERATURE, prefixable=False),
    NamedUnit("mole", "mol", AMOUNT), NamedUnit("mol", "mol", AMOUNT),
    NamedUnit("candle", "cd", LUMINOSITY),
    NamedUnit("kilogramme", "kg", MASS, prefixable=False),
    NamedUnit("gram", "g", MASS, -3), NamedUnit("gramme", "g", MASS, -3),
    NamedUnit("molar", "M", AMOUNT / LENGTH ** 3, 3),
    NamedUnit("radian", "rad", DIMENSIONLESS), NamedUnit("steradian", "sr", DIMENSIONLESS),
    NamedUnit("hertz", "Hz", TIME ** -1), NamedUnit("newton", "N", _NEWTON),
    NamedUnit("pascal", "Pa", _NEWTON / LENGTH ** 2), NamedUnit("joule", "J", _JOULE),
    NamedUnit("watt", "W", _WATT), NamedUnit("coulomb", "C", CURRENT * TIME),
    NamedUnit("volt", "V", _VOLT), NamedUnit("farad", "F", CURRENT * TIME / _VOLT),
    NamedUnit("ohm", "ohm", _VOLT / CURRENT), NamedUnit("siemens", "S", CURRENT / _VOLT),
    NamedUnit("weber", "Wb", _WEBER), NamedUnit("tesla", "T", _WEBER / LENGTH ** 2),
    NamedUnit("henry", "H", _WEBER / CURRENT), NamedUnit("lumen", "lm", LUMINOSITY),
    NamedUnit("lux", "lx", LUMINOSITY / LENGTH ** 2), NamedUnit("becquerel", "Bq", TIME ** -1),
    NamedUnit("gray", "Gy", _JOULE / MASS), NamedUnit("sievert", "Sv", _JOULE / MASS),
    NamedUnit("katal", "kat", AMOUNT / TIME),
)
LITRES = (NamedUnit("liter", "l", LENGTH ** 3, -3), NamedUnit("litre", "l", LENGTH ** 3, -3))

# Brian's short names (brian2.units.stdunits).
SHORT_NAMES: dict[str, str] = {
    "mV": "mvolt", "mA": "mamp", "uA": "uamp", "nA": "namp", "pA": "pamp", "pF": "pfarad",
    "uF": "ufarad", "nF": "nfarad", "nS": "nsiemens", "uS": "usiemens", "mS": "msiemens",
    "ms": "msecond", "us": "usecond", "Hz": "hertz", "kHz": "khertz", "MHz": "Mhertz",
    "cm": "cmetre", "cm2": "cmetre2", "cm3": "cmetre3", "mm": "mmetre", "mm2": "mmetre2",
    "mm3": "mmetre3", "um": "umetre", "um2": "umetre2", "um3": "umetre3", "mM": "mmolar",
    "uM": "umolar", "nM": "nmolar"}


class UnitRegister:
    """The units one may print a dimension in, keyed by dimension and then power-of-ten scale.

    Adding a unit with a scale already present replaces the unit but keeps its place, as in
    Brian (so `metre` prints, not `meter`, and `hertz`, not `becquerel`).
    """

    def __init__(self, units: list[Unit]) -> None:
        self.units: dict[str, Unit] = {unit.name: unit for unit in units}
        self._by_dimension: dict[Dimension, dict[Fraction, Unit]] = {}
        for unit in units:
            self._by_dimension.setdefault(unit.dim, {})[unit.scale] = unit

    def candidates(self, dim: Dimension) -> list[Unit]:
        return list(self._by_dimension.get(dim, {}).values())

    def unscaled(self, dim: Dimension) -> Unit | None:
        return self._by_dimension.get(dim, {}).get(Fraction(0))


def _prefixed(row: NamedUnit, prefix: str) -> Unit:
    return Unit(row.dim, prefix + row.name, prefix + row.symbol,
                row.scale + PREFIXES.get(prefix, 0))


def _powered(unit: Unit, power: int) -> Unit:
    return Unit(unit.dim ** power, f"{unit.name}{power}", f"{unit.dispname}^{power}",
                unit.scale * power)


def _build_named_units() -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    for row in NAMED_UNITS + LITRES:
        for prefix in ("", *PREFIXES) if row.prefixable else ("",):
            unit = units[prefix + row.name] = _prefixed(row, prefix)
            if row not in LITRES:
                for power in (2, 3):
                    units[f"{unit.name}{power}"] = _powered(unit, power)
    return units


_NAMED = _build_named_units()


def _standard_register() -> UnitRegister:
    """Brian's registration order: powers (prefixed, then not), prefixed units, then the named
    units, each walking the table from its end."""
    rows = list(reversed(NAMED_UNITS))
    prefixed = [row for row in rows if row.prefixable]
    names = [f"{prefix}{row.name}{power}" for row in prefixed for prefix in DISPLAY_PREFIXES
             for power in (3, 2)]
    names += [f"{row.name}{power}" for row in rows for power in (3, 2)]
    names += [prefix + row.name for row in prefixed for prefix in DISPLAY_PREFIXES]
    names += [row.name for row in rows]
    return UnitRegister([_NAMED[name] for name in names])


def _additional_register() -> UnitRegister:
    """Compound units Brian prints when no standard unit fits, and the litres."""
    u = _NAMED
    compound = [u["pascal"] * u["second"], u["newton"] * u["metre"], u["watt"] / u["metre"] ** 2,
                u["joule"] / u["kelvin"], u["joule"] / (u["kilogram"] * u["kelvin"]),
                u["joule"] / u["kilogram"], u["watt"] / (u["metre"] * u["kelvin"]),
                u["joule"] / u["metre"] ** 3, u["volt"] / u["metre"] ** 3,
                u["coulomb"] / u["metre"] ** 3, u["coulomb"] / u["metre"] ** 2,
                u["farad"] / u["metre"], u["henry"] / u["metre"], u["joule"] / u["mole"],
                u["joule"] / (u["mole"] * u["kelvin"]), u["coulomb"] / u["kilogram"],
                u["gray"] / u["second"], u["katal"] / u["metre"] ** 3]
    litres = [_NAMED[prefix + row.name] for row in LITRES for prefix in ("", *PREFIXES)]
    return UnitRegister(compound + litres)


STANDARD_REGISTER = _standard_register()
ADDITIONAL_REGISTER = _additional_register()


def all_units() -> dict[str, Unit]:
    """Every unit name (Brian's `allunits` and `stdunits`), as a fresh dict the caller may extend:
    the frontend's default namespace for model text."""
    return {**_NAMED, **{short: _NAMED[long] for short, long in SHORT_NAMES.items()}}


def base_units_namespace() -> dict[str, Unit]:
    """The unit names Brian accepts after the colon of an equation (`v : volt`).

    Brian allows only unscaled, unpowered names there: `volt`, `siemens`, `metre`, `Hz`, and the
    few prefixed names whose scale is 1 (`kgram`, `mmolar`, `mM`, `kliter`).
    """
    default = {**STANDARD_REGISTER.units, **{short: _NAMED[long] for short, long in SHORT_NAMES.items()},
               **{name: unit for name, unit in ADDITIONAL_REGISTER.units.items() if not unit.iscompound}}
    return {name: unit for name, unit in default.items()
            if unit.scale == 0 and unit.name[-1] not in "23"}


def get_unit(dim: Dimension) -> Unit:
    """The unscaled unit of `dim` (`volt` for `m^2 kg s^-3 A^-1`), or one named after `dim`."""
    for register in (STANDARD_REGISTER, ADDITIONAL_REGISTER):
        unit = register.unscaled(dim)
        if unit is not None:
            return unit
    return Unit(dim)


def get_unit_for_display(dim: Dimension) -> str:
    """How a dimension is named in messages: its unscaled unit's symbol (`V`), or `1`."""
    return "1" if dim.is_dimensionless else str(get_unit(dim))


def display_candidates(dim: Dimension) -> list[Unit]:
    """The units a quantity of dimension `dim` may be printed in (the first register that has any)."""
    return STANDARD_REGISTER.candidates(dim) or ADDITIONAL_REGISTER.candidates(dim) or [get_unit(dim)]
