"""The `np.*` functions that need to know about dimensions (`__array_function__` handlers).

Each handler checks the dimensions, calls numpy on the plain SI values and puts the right
dimension on the result. The handlers come in a few families (keep the first argument's
dimension, require all data to agree, multiply dimensions, ...), listed in tables at the end.
numpy functions not listed run numpy's own code on the quantity; the ones that only reshape or
index (`np.reshape`, `np.argmax`, `np.shape`) work that way, since views keep the dimension.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from spikec.units.dimension import Dimension
from spikec.units.functions import common_dimension, fail_for_dimension_mismatch, get_dimensions
from spikec.units.quantity import plain, with_dimension

Handler = Callable[..., Any]


def _wrap(result: Any, dim: Dimension) -> Any:
    """Put `dim` on a result; of a tuple (`np.unique(..., return_counts=True)`), on the first item."""
    if isinstance(result, tuple):
        return (with_dimension(result[0], dim), *result[1:])
    return with_dimension(result, dim)


def _require_same(values: list[Any], what: str) -> Dimension:
    """The dimension shared by `values` (None entries skipped; plain zeros fit any dimension)."""
    return common_dimension([value for value in values if value is not None], f"{what}:")


def keep_dimension(function: Callable) -> Handler:
    """`function(a, ...)` has the dimension of `a`; other quantity arguments must share it
    (plain arguments are parameters: an axis, a percentile)."""
    def handler(array: Any, *args: Any, **kwargs: Any) -> Any:
        dim = get_dimensions(array)
        for value in (*args, *kwargs.values()):
            if getattr(value, "dim", None) is not None:
                fail_for_dimension_mismatch(array, value, f"np.{function.__name__}")
        return _wrap(function(plain(array), *plain(list(args)), **_plain_values(kwargs)), dim)
    return handler


def join_arrays(function: Callable) -> Handler:
    """`np.concatenate([a, b, ...])` and friends: all parts must have one dimension."""
    def handler(arrays: Any, *args: Any, **kwargs: Any) -> Any:
        parts = list(arrays)
        dim = _require_same(parts, f"Cannot join with np.{function.__name__}")
        return with_dimension(function(plain(parts), *args, **kwargs), dim)
    return handler


def match_arguments(function: Callable, names: tuple[str, ...]) -> Handler:
    """The arguments called `names` must agree (absent or None ones are skipped); the result has
    the dimension of the first (`np.clip(a, a_min, a_max)`, `np.linspace(start, stop)`)."""
    signature = inspect.signature(function)

    def handler(*args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(*args, **kwargs).arguments
        values = [arguments[name] for name in names
                  if arguments.get(name, np._NoValue) is not np._NoValue]
        dim = _require_same(values, f"np.{function.__name__}")
        return with_dimension(function(*plain(list(args)), **_plain_values(kwargs)), dim)
    return handler


def where(condition: Any, *values: Any) -> Any:
    """`np.where(condition, x, y)`: x and y must agree; `np.where(condition)` gives indices."""
    if not values:
        return np.where(plain(condition))
    dim = _require_same(list(values), "np.where")
    return with_dimension(np.where(plain(condition), *plain(list(values))), dim)


def multiply_dimensions(function: Callable) -> Handler:
    """`np.dot(a, b)` and other products: the dimensions multiply."""
    def handler(first: Any, second: Any, *args: Any, **kwargs: Any) -> Any:
        dim = get_dimensions(first) * get_dimensions(second)
        return with_dimension(function(plain(first), plain(second), *args, **kwargs), dim)
    return handler


def square_dimension(function: Callable) -> Handler:
    """`np.var`: the dimension squared."""
    def handler(array: Any, *args: Any, **kwargs: Any) -> Any:
        return with_dimension(function(plain(array), *args, **kwargs), get_dimensions(array) ** 2)
    return handler


def product(function: Callable) -> Handler:
    """`np.prod`: n values of dimension d multiply to d**n (n: the values per result element)."""
    def handler(array: Any, *args: Any, **kwargs: Any) -> Any:
        values = np.asarray(plain(array))
        result = function(values, *args, **kwargs)
        count = values.size // max(np.size(result), 1) if values.size else 0
        return with_dimension(result, get_dimensions(array) ** count)
    return handler


def compare_values(function: Callable) -> Handler:
    """`np.isclose(a, b)`, `np.allclose`, `np.array_equal`: a and b (and a quantity `atol`) must
    agree; the result is plain."""
    def handler(first: Any, second: Any, *args: Any, **kwargs: Any) -> Any:
        _require_same([first, second], f"np.{function.__name__}")
        atol = kwargs.get("atol")
        if getattr(atol, "dim", None) is not None:
            fail_for_dimension_mismatch(first, atol, f"np.{function.__name__}: atol")
        return function(plain(first), plain(second), *args, **_plain_values(kwargs))
    return handler


def dimensionless_only(function: Callable) -> Handler:
    """Functions whose result would need a dimension per element (`np.cumprod`)."""
    def handler(array: Any, *args: Any, **kwargs: Any) -> Any:
        fail_for_dimension_mismatch(array, None, f"np.{function.__name__} needs a dimensionless array")
        return function(plain(array), *args, **kwargs)
    return handler


def _plain_values(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {key: plain(value) for key, value in kwargs.items()}


FAMILIES: dict[Callable[[Callable], Handler], tuple[Callable, ...]] = {
    keep_dimension: (np.sum, np.nansum, np.mean, np.nanmean, np.median, np.nanmedian, np.std,
                     np.nanstd, np.min, np.max, np.amin, np.amax, np.nanmin, np.nanmax, np.ptp,
                     np.percentile, np.nanpercentile, np.quantile, np.nanquantile, np.average,
                     np.cumsum, np.nancumsum, np.diff, np.ediff1d, np.sort, np.unique, np.copy,
                     np.round, np.around, np.trace, np.take, np.tile, np.repeat, np.flip, np.roll,
                     np.broadcast_to, np.delete, np.real, np.imag, np.squeeze),
    join_arrays: (np.concatenate, np.stack, np.hstack, np.vstack, np.dstack, np.column_stack),
    multiply_dimensions: (np.dot, np.vdot, np.inner, np.outer, np.tensordot, np.cross, np.kron),
    square_dimension: (np.var, np.nanvar),
    product: (np.prod, np.nanprod),
    compare_values: (np.isclose, np.allclose, np.array_equal),
    dimensionless_only: (np.cumprod, np.nancumprod),
}

HANDLERS: dict[Callable, Handler] = {
    function: family(function) for family, functions in FAMILIES.items() for function in functions}
HANDLERS.update({
    np.where: where,
    np.append: match_arguments(np.append, ("arr", "values")),
    np.clip: match_arguments(np.clip, ("a", "a_min", "a_max", "min", "max")),
    np.linspace: match_arguments(np.linspace, ("start", "stop")),
    np.searchsorted: compare_values(np.searchsorted),
})
