"""Quantity arithmetic and numpy functions: dimensions checked and combined as Brian does."""

import copy
import pickle

import numpy as np
import pytest

from spikec.errors import DimensionMismatchError
from spikec.units import (DIMENSIONLESS, Quantity, amp, get_dimensions, have_same_dimensions,
                          is_dimensionless, metre, mV, ms, nA, second, siemens, uvolt, volt)
from spikec.units import fail_for_dimension_mismatch

VOLTAGES = np.array([1.0, 2.0]) * mV


def test_value_is_si_with_dimension():
    current = 0.5 * nA
    assert isinstance(current, Quantity)
    assert current.dim == amp.dim
    assert np.asarray(current) == pytest.approx(5e-10)
    assert type(np.asarray(VOLTAGES)) is np.ndarray


def test_dimensionless_results_are_plain_numbers():
    ratio = (10 * mV) / mV
    assert type(ratio) is float and ratio == pytest.approx(10.0)
    assert type(VOLTAGES / mV) is np.ndarray
    assert type(np.exp(VOLTAGES / mV)) is np.ndarray


def test_adding_different_dimensions_names_both():
    with pytest.raises(DimensionMismatchError) as error:
        3 * mV + 2 * ms
    assert "V" in str(error.value) and "s" in str(error.value)
    assert set(error.value.dimensions) == {volt.dim, second.dim}


def test_plain_numbers_only_add_to_dimensionless_values():
    with pytest.raises(DimensionMismatchError):
        3 * mV + 2
    assert 3 * (mV / mV) + 2 == pytest.approx(5.0)
    assert Quantity(3.0) + 2 == pytest.approx(5.0)


def test_a_plain_zero_fits_any_dimension():
    assert (3 * mV + 0).dim == volt.dim and (0 + 3 * mV).dim == volt.dim
    assert sum(VOLTAGES) == 3 * mV
    assert not (3 * mV == 0)
    assert np.where(VOLTAGES > 1.5 * mV, VOLTAGES, 0).dim == volt.dim
    with pytest.raises(DimensionMismatchError):
        3 * mV + 0 * ms


def test_non_numbers_are_unequal():
    assert (mV == None) is False and (mV != "mV") is True   # noqa: E711


def test_multiplication_and_division_combine_dimensions():
    assert (3 * mV * 2 * nA).dim == (volt * amp).dim
    assert (3 * mV / (2 * ms)).dim == volt.dim / second.dim
    assert (VOLTAGES ** 2).dim == volt.dim ** 2
    assert np.sqrt(4 * metre ** 2).dim == metre.dim
    assert float(np.sqrt(4 * metre ** 2) / metre) == pytest.approx(2.0)


def test_power_rules():
    with pytest.raises(DimensionMismatchError):
        2 ** VOLTAGES
    with pytest.raises(DimensionMismatchError):
        VOLTAGES ** np.array([1, 2])
    assert list((VOLTAGES / mV) ** np.array([1, 2])) == [1.0, 4.0]
    assert ((2 * mV) ** np.float64(2)).dim == volt.dim ** 2


def test_elementwise_functions():
    assert np.abs(-3 * mV).dim == volt.dim
    assert np.floor(3.5 * mV).dim == volt.dim          # floor of SI values: 0 V, as Brian
    with pytest.raises(DimensionMismatchError):
        np.exp(VOLTAGES)
    with pytest.raises(DimensionMismatchError):
        np.maximum(1 * mV, 1 * ms)
    assert np.maximum(1 * mV, 2 * mV) == 2 * mV
    assert np.sign(-3 * mV) == -1


def test_comparisons_give_plain_booleans():
    result = VOLTAGES > 1.5 * mV
    assert type(result) is np.ndarray and result.dtype == bool
    assert list(result) == [False, True]
    assert isinstance(3 * mV > 2 * mV, (bool, np.bool_))
    with pytest.raises(DimensionMismatchError):
        VOLTAGES > 1


def test_reductions_keep_or_change_dimensions():
    for reduce in (np.sum, np.mean, np.min, np.max, np.median, np.std, np.ptp):
        assert reduce(VOLTAGES).dim == volt.dim
    assert VOLTAGES.sum() == 3 * mV and VOLTAGES.mean() == 1.5 * mV
    assert VOLTAGES.var().dim == volt.dim ** 2
    assert np.prod(VOLTAGES).dim == volt.dim ** 2
    assert np.prod(np.ones((2, 3)) * mV, axis=1).dim == volt.dim ** 3
    assert list(np.cumsum(VOLTAGES) / mV) == [1.0, 3.0]


def test_joining_and_selecting_need_one_dimension():
    assert np.concatenate([VOLTAGES, VOLTAGES]).dim == volt.dim
    assert np.where(VOLTAGES > 1.5 * mV, VOLTAGES, 0 * mV).dim == volt.dim
    assert list(np.clip(VOLTAGES, 1.5 * mV, 3 * mV) / mV) == [1.5, 2.0]
    assert list(np.clip(VOLTAGES, a_min=None, a_max=1.5 * mV) / mV) == [1.0, 1.5]
    for wrong in (lambda: np.concatenate([VOLTAGES, np.ones(2)]),
                  lambda: np.where(VOLTAGES > 1.5 * mV, VOLTAGES, 1),
                  lambda: np.clip(VOLTAGES, 0 * ms, 1 * ms)):
        with pytest.raises(DimensionMismatchError):
            wrong()
    assert np.dot(VOLTAGES, VOLTAGES).dim == volt.dim ** 2
    assert np.allclose(VOLTAGES, VOLTAGES + 0 * mV)


def test_indexing_iteration_and_assignment():
    voltages = VOLTAGES.copy()
    assert len(voltages) == 2
    assert voltages[0].dim == volt.dim and voltages[0].shape == ()
    assert voltages[0:1].dim == volt.dim
    assert [float(v / mV) for v in voltages] == [1.0, 2.0]
    assert [v.dim for v in voltages.tolist()] == [volt.dim, volt.dim]
    assert voltages.item(1) == 2 * mV
    voltages[0] = 5 * mV
    assert float(voltages[0] / mV) == pytest.approx(5.0)
    with pytest.raises(DimensionMismatchError):
        voltages[0] = 5


def test_float_needs_a_dimensionless_value():
    with pytest.raises(DimensionMismatchError):
        float(3 * mV)
    assert float(3 * mV / mV) == pytest.approx(3.0)
    assert int(Quantity(3.0)) == 3


def test_in_place_operations():
    voltages = VOLTAGES.copy()
    voltages += 1 * mV
    assert list(voltages / mV) == [2.0, 3.0]
    with pytest.raises(DimensionMismatchError):
        voltages *= mV
    scalar = 3 * mV
    alias = scalar
    scalar += 1 * mV                      # a scalar quantity behaves like a float
    assert float(alias / mV) == pytest.approx(3.0)
    unit = mV
    unit += 1 * mV                        # units are never modified
    assert float(mV / uvolt) == pytest.approx(1000.0)


def test_construction():
    assert Quantity([1 * mV, 2 * mV]).dim == volt.dim
    with pytest.raises(DimensionMismatchError):
        Quantity([1 * mV, 2 * ms])
    assert Quantity([1, 2], volt.dim).dtype == np.float64
    with pytest.raises(TypeError):
        Quantity(["a"])


def test_pickle_and_copy_keep_the_dimension():
    for value in (VOLTAGES, 3 * mV, mV):
        assert pickle.loads(pickle.dumps(value)).dim == volt.dim
        assert copy.deepcopy(value).dim == volt.dim
    assert repr(pickle.loads(pickle.dumps(mV))) == "mvolt"


def test_dimension_helpers():
    assert get_dimensions(3) is DIMENSIONLESS
    assert get_dimensions(np.ones(3)) == DIMENSIONLESS
    assert get_dimensions(volt.dim) == volt.dim
    assert get_dimensions([1 * mV, 2 * mV]) == volt.dim
    with pytest.raises(TypeError):
        get_dimensions("volt")
    assert have_same_dimensions(3 * mV, volt) and not have_same_dimensions(mV, siemens)
    assert is_dimensionless(mV / volt) and not is_dimensionless(mV)
    assert VOLTAGES.has_same_dimensions(volt) and VOLTAGES.dimensions == volt.dim
    assert fail_for_dimension_mismatch(mV, volt) == (volt.dim, volt.dim)
    with pytest.raises(DimensionMismatchError, match="the reset.*dimensions are V and 1"):
        fail_for_dimension_mismatch(mV, message="the reset")
