"""Printing: the best registered unit for the magnitude, Brian's repr (code) and str (text)."""

import numpy as np
import pytest

import spikec.units
from spikec.units import Quantity, mV, volt

# (expression, repr, str): Brian 2.9's output for each, which spikec must reproduce.
EXAMPLES = [
    ("10*mV", "10. * mvolt", "10. mV"),
    ("-70*mV", "-70. * mvolt", "-70. mV"),
    ("0.5*nA", "0.5 * namp", "0.5 nA"),
    ("np.array([1., 2.])*nA", "array([1., 2.]) * namp", "[1. 2.] nA"),
    ("np.array([[1, 2], [3, 4]])*ms", "array([[1., 2.],\n       [3., 4.]]) * msecond",
     "[[1. 2.]\n [3. 4.]] ms"),
    ("np.array([1e-3, 1])*volt", "array([   1., 1000.]) * mvolt", "[   1. 1000.] mV"),
    ("np.array([0., 0.])*volt", "array([0., 0.]) * volt", "[0. 0.] V"),
    ("0*mV", "0. * volt", "0. V"),
    ("1e5*volt", "100. * kvolt", "100. kV"),
    ("1e30*volt", "1000000. * Yvolt", "1000000. YV"),
    ("10**-0.5*volt", "316.22776602 * mvolt", "316.22776602 mV"),   # a tie: mV comes first
    ("1*cm", "10. * mmetre", "10. mm"),                             # centi never prints
    ("1*cm**2", "100. * mmetre2", "100. mm^2"),
    ("5*Hz", "5. * hertz", "5. Hz"),
    ("5*becquerel", "5. * hertz", "5. Hz"),
    ("1*sievert", "1. * gray", "1. Gy"),
    ("2*kilogram", "2. * kilogram", "2. kg"),
    ("1e-3*kilogram", "1. * gram", "1. g"),
    ("1*mmolar", "1. * mmolar", "1. mM"),
    ("1*liter", "0.001 * metre3", "0.001 m^3"),
    ("1*mV*ms", "1. * uweber", "1. uWb"),
    ("2*newton*metre", "2. * joule", "2. J"),
    ("100*Mohm", "100. * Mohm", "100. Mohm"),
    ("1*second**0.5", "1. * second ** 0.5", "1. s^0.5"),
    ("1*coulomb/metre**2", "1. * coulomb / (metre ** 2)", "1. C/(m^2)"),
    ("1*msiemens/cm**2", "10. * metre ** -4 * kilogram ** -1 * second ** 3 * amp ** 2",
     "10. m^-4 kg^-1 s^3 A^2"),
    ("mV", "mvolt", "mV"),
    ("mV*ms", "mvolt * msecond", "mV ms"),
    ("msiemens/cm**2", "msiemens / (cmetre ** 2)", "mS/(cm^2)"),
    ("1/ms", "msecond ** -1", "ms^-1"),
    ("Quantity(5)", "Quantity(5.)", "5."),
    ("Quantity([1, 2])", "Quantity(array([1., 2.]))", "[1. 2.]"),
]


def spikec_namespace() -> dict:
    return {**spikec.units.all_units(), "np": np, "Quantity": Quantity}


@pytest.mark.parametrize("expression, expected_repr, expected_str", EXAMPLES)
def test_repr_and_str(expression, expected_repr, expected_str):
    value = eval(expression, spikec_namespace())
    assert repr(value) == expected_repr
    assert str(value) == expected_str


def test_in_unit_and_format():
    value = 25.123456 * mV
    assert value.in_unit(volt) == "0.02512346 V"
    assert value.in_unit(mV, 3) == "25.123 mV"
    assert value.in_unit(mV, python_code=True) == "25.123456 * mvolt"
    assert f"{10 * mV}" == "10. mV"
    assert f"{10 * mV:.3f}" == "0.010"


@pytest.mark.brian
@pytest.mark.parametrize("expression", [example[0] for example in EXAMPLES])
def test_same_as_brian(expression, monkeypatch):
    brian2 = pytest.importorskip("brian2")
    from brian2.units import allunits, fundamentalunits, stdunits
    # Brian registers every unit made by algebra for printing; start from its built-in units.
    monkeypatch.setattr(fundamentalunits.Unit, "automatically_register_units", False)
    monkeypatch.setattr(fundamentalunits, "user_unit_register", fundamentalunits.UnitRegistry())
    namespace = {**vars(allunits), **vars(stdunits), "np": np, "Quantity": brian2.Quantity}
    theirs, ours = eval(expression, namespace), eval(expression, spikec_namespace())
    assert (repr(ours), str(ours)) == (repr(theirs), str(theirs))
