"""Dimension algebra, exact fractional exponents, and Brian's spelling of dimensions."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from spikec.units.dimension import (BASE_DIMENSIONS, CURRENT, DIMENSIONLESS, LENGTH, MASS, TIME,
                                    Dimension)

VOLT = MASS * LENGTH ** 2 / TIME ** 3 / CURRENT

exponents = st.fractions(min_value=-6, max_value=6, max_denominator=6)
dimensions = st.builds(Dimension, *([exponents] * 7))


def test_str_and_repr_follow_brian():
    assert str(VOLT) == "m^2 kg s^-3 A^-1"
    assert repr(VOLT) == "metre ** 2 * kilogram * second ** -3 * amp ** -1"
    assert str(DIMENSIONLESS) == "1"
    assert repr(DIMENSIONLESS) == "Dimension()"
    assert str(TIME ** 0.5) == "s^0.5"


def test_square_root_is_exact():
    half = TIME ** 0.5
    assert half.time == Fraction(1, 2)
    assert half * half == TIME
    assert (TIME ** (1 / 3)) ** 3 == TIME


def test_keyword_construction_and_hash():
    assert Dimension(length=1, time=-1) == LENGTH / TIME
    assert len({LENGTH / TIME, Dimension(length=1, time=-1)}) == 1
    assert DIMENSIONLESS.is_dimensionless and not LENGTH.is_dimensionless
    assert len(set(BASE_DIMENSIONS)) == 7


def test_bad_exponents_are_refused():
    with pytest.raises(TypeError):
        LENGTH ** "2"
    with pytest.raises(ValueError):
        LENGTH ** float("nan")


@given(dimensions, dimensions, dimensions)
def test_multiplication_is_an_abelian_group(a, b, c):
    assert (a * b) * c == a * (b * c)
    assert a * b == b * a
    assert a * DIMENSIONLESS == a
    assert a * (DIMENSIONLESS / a) == DIMENSIONLESS
    assert (a / b) * b == a


@given(dimensions, exponents, exponents)
def test_powers_compose(a, p, q):
    assert (a ** p) ** q == a ** (p * q)
    assert a ** p * a ** q == a ** (p + q)
