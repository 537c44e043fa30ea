"""Properties that hold for any values and units (hypothesis)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from spikec.errors import DimensionMismatchError
from spikec.units import all_units, have_same_dimensions

UNITS = sorted(all_units().items())
units = st.sampled_from(UNITS).map(lambda item: item[1])
numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).filter(lambda x: abs(x) > 1e-6)
arrays = st.lists(numbers, min_size=1, max_size=5).map(np.array)


@given(numbers, units)
def test_a_value_times_a_unit_divided_by_it_is_the_value(value, unit):
    assert (value * unit) / unit == pytest.approx(value)


@given(arrays, units)
def test_arrays_round_trip_through_units(values, unit):
    np.testing.assert_allclose((values * unit) / unit, values)


@given(numbers, numbers, units)
def test_addition_commutes_and_compares_like_si_values(a, b, unit):
    first, second = a * unit, b * unit
    assert (first + second) / unit == pytest.approx((second + first) / unit)
    assert bool(first < second) == bool(np.asarray(first) < np.asarray(second))


@given(numbers, units, units)
def test_addition_needs_the_same_dimension(value, first, second):
    if have_same_dimensions(first, second):
        assert have_same_dimensions(value * first + value * second, first)
    else:
        with pytest.raises(DimensionMismatchError):
            value * first + value * second


@given(units, units)
def test_unit_algebra_matches_quantity_algebra(first, second):
    assert (first * second).dim == first.dim * second.dim
    assert (first / second).dim == first.dim / second.dim
    np.testing.assert_allclose(np.asarray(first / second), np.asarray(first) / np.asarray(second))
