"""Asking any value for its dimension, and failing loudly when two dimensions disagree.

These accept everything a model can contain: quantities and units (which carry a `.dim`), plain
numbers and numpy arrays (dimensionless), and `Dimension` objects themselves, so checks can be
written once for values and for the dimensions the frontend infers from expressions.
"""

from __future__ import annotations

import numbers

import numpy as np

from spikec.errors import DimensionMismatchError
from spikec.units.dimension import DIMENSIONLESS, Dimension


def get_dimensions(value: object) -> Dimension:
    """The dimension of `value`: a quantity's `.dim`, a `Dimension` itself, `DIMENSIONLESS` for
    numbers and numeric arrays. A list or tuple has the dimension shared by all its elements.

    Raises `TypeError` for things that are not numeric (strings, None), and
    `DimensionMismatchError` for a sequence that mixes dimensions.
    """
    if isinstance(value, Dimension):
        return value
    dim = getattr(value, "dim", None)
    if isinstance(dim, Dimension):
        return dim
    if isinstance(value, (numbers.Number, np.generic)):
        return DIMENSIONLESS
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "biufc" or value.size == 0:
            return DIMENSIONLESS
        if value.dtype.kind == "O":
            return get_dimensions(value.tolist())
    if isinstance(value, (list, tuple)):
        return _common_dimension(value)
    raise TypeError(f"{type(value).__name__} {value!r} has no physical dimensions")


def _common_dimension(values: list | tuple) -> Dimension:
    dims = {get_dimensions(item) for item in values}
    if len(dims) > 1:
        names = " and ".join(sorted(describe_dimension(dim) for dim in dims))
        raise DimensionMismatchError(
            f"cannot mix values of different dimensions in one array ({names})", *dims)
    return dims.pop() if dims else DIMENSIONLESS


def is_dimensionless(value: object) -> bool:
    return get_dimensions(value).is_dimensionless


def have_same_dimensions(first: object, second: object) -> bool:
    return get_dimensions(first) == get_dimensions(second)


def describe_dimension(dim: Dimension) -> str:
    """How messages name a dimension: by its unscaled unit (`V`, `S/m^2` style) or `1`."""
    from spikec.units.registry import get_unit_for_display   # the registry needs Quantity first
    return get_unit_for_display(dim)


def fail_for_dimension_mismatch(first: object, second: object = None,
                                message: str = "dimensions do not match") -> tuple[Dimension, Dimension]:
    """Raise `DimensionMismatchError` unless `first` and `second` have the same dimension.

    With `second` omitted (None), `first` must be dimensionless. Returns both dimensions so a
    caller can go on using them. The message gets both dimensions appended, so the user sees
    what was compared with what: `... (dimensions are V and s)`.
    """
    first_dim = get_dimensions(first)
    second_dim = DIMENSIONLESS if second is None else get_dimensions(second)
    if first_dim != second_dim:
        raise DimensionMismatchError(
            f"{message} (dimensions are {describe_dimension(first_dim)} and "
            f"{describe_dimension(second_dim)})", first_dim, second_dim)
    return first_dim, second_dim
