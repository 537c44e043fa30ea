"""Asking any value for its dimension, and failing loudly when two dimensions disagree.

These accept everything a model can contain: quantities and units (which carry a `.dim`), plain
numbers and numpy arrays (dimensionless), and `Dimension` objects themselves, so checks can be
written once for values and for the dimensions the frontend infers from expressions.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

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


def is_plain_zero(value: object) -> bool:
    """A number or array of zeros without dimension: Brian lets it stand for any dimension, so
    `3*mV + 0`, `sum(voltages)` and `v == 0` work."""
    if isinstance(value, Dimension) or hasattr(value, "dim"):
        return False
    try:
        return bool(np.all(np.asarray(value) == 0))
    except (TypeError, ValueError):
        return False


def common_dimension(values: list, message: str) -> Dimension:
    """The dimension all `values` share (plain zeros fit any); raises `DimensionMismatchError`
    saying `message first and other` for the first value that does not fit the first."""
    for value in values[1:]:
        fail_for_dimension_mismatch(values[0], value, lambda: f"{message} {values[0]} and {value}")
    return next((get_dimensions(value) for value in values if not is_plain_zero(value)),
                get_dimensions(values[0]) if values else DIMENSIONLESS)


def describe_dimension(dim: Dimension) -> str:
    """How messages name a dimension: by its unscaled unit (`V`, `S/m^2` style) or `1`."""
    from spikec.units.registry import get_unit_for_display   # the registry needs Quantity first
    return get_unit_for_display(dim)


def fail_for_dimension_mismatch(first: object, second: object = None,
                                message: str | Callable[[], str] = "dimensions do not match",
                                ) -> tuple[Dimension, Dimension]:
    """Raise `DimensionMismatchError` unless `first` and `second` have the same dimension.

    With `second` omitted (None), `first` must be dimensionless. A plain zero matches any
    dimension (see `is_plain_zero`). Returns both dimensions so a
    caller can go on using them. The message gets both dimensions appended, so the user sees
    what was compared with what: `... (dimensions are V and s)`. `message` may be a function
    that makes it, since printing large arrays is too slow to do before anything failed.
    """
    first_dim = get_dimensions(first)
    second_dim = DIMENSIONLESS if second is None else get_dimensions(second)
    if first_dim != second_dim and not (is_plain_zero(first) or is_plain_zero(second)):
        if callable(message):
            message = message()
        raise DimensionMismatchError(
            f"{message} (dimensions are {describe_dimension(first_dim)} and "
            f"{describe_dimension(second_dim)})", first_dim, second_dim)
    return first_dim, second_dim
