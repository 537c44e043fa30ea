"""The unit names: every one of Brian's, with its dimension, scale and display name."""

import numpy as np
import pytest

from spikec.units import (DIMENSIONLESS, Unit, all_units, base_units_namespace, get_unit,
                          get_unit_for_display, metre, mV, mvolt, volt)

import spikec.units


def si_value(unit: Unit) -> float:
    return unit.view(np.ndarray).item()


def test_prefixes_powers_and_short_names():
    units = all_units()
    assert si_value(units["kohm"]) == pytest.approx(1e3)
    assert si_value(units["umetre3"]) == pytest.approx(1e-18)
    assert units["cm2"] is units["cmetre2"] and repr(units["cm2"]) == "cmetre2"
    assert mV is mvolt and str(mV) == "mV" and repr(mV) == "mvolt"
    assert units["kgram"].dim == units["kilogram"].dim and "kkilogram" not in units
    assert "metre2" in units and "liter2" not in units
    assert units["molar"].dim == units["mole"].dim / metre.dim ** 3


def test_star_import_gives_every_name():
    names = set(spikec.units.__all__)
    assert set(all_units()) <= names
    assert {"Quantity", "Unit", "Dimension", "get_dimensions", "mV", "nS"} <= names


def test_units_cannot_be_changed():
    with pytest.raises(ValueError):
        mV[()] = 3.0 * volt
    units = all_units()
    units["mV"] = None                     # a fresh dict each call
    assert all_units()["mV"] is mV


def test_base_units_namespace():
    names = base_units_namespace()
    assert {"volt", "siemens", "metre", "meter", "Hz", "hertz", "kilogram", "mmolar"} <= set(names)
    assert not {"mvolt", "mV", "cm", "metre2", "molar", "gram"} & set(names)


def test_get_unit():
    assert get_unit(mV.dim) is volt
    assert repr(get_unit(metre.dim)) == "metre"
    assert repr(get_unit((volt / metre).dim)) == "metre * kilogram * second ** -3 * amp ** -1"
    assert get_unit_for_display(DIMENSIONLESS) == "1"
    assert get_unit_for_display(mV.dim) == "V"


@pytest.mark.brian
def test_every_brian_unit_exists_with_the_same_meaning():
    pytest.importorskip("brian2")
    from brian2.units import allunits, stdunits
    from brian2.units.fundamentalunits import Unit as BrianUnit
    brian = {name: getattr(module, name) for module in (allunits, stdunits)
             for name in module.__all__ if isinstance(getattr(module, name), BrianUnit)}
    ours = all_units()
    assert set(brian) == set(ours)
    for name, theirs in brian.items():
        unit = ours[name]
        assert (repr(unit), str(unit), str(unit.dim)) == (repr(theirs), str(theirs), str(theirs.dim))
        assert si_value(unit) == pytest.approx(float(theirs), rel=1e-12)


@pytest.mark.brian
def test_base_units_namespace_is_brians():
    pytest.importorskip("brian2")
    import brian2.equations.equations as equations
    equations.dimensions_and_type_from_string("volt")      # builds Brian's table of base units
    assert set(base_units_namespace()) == set(equations._base_units) - {"__builtins__"}
