"""Which dimension a numpy ufunc gives, and which dimensions it refuses, as in Brian.

`Quantity.__array_ufunc__` asks `result_dimension` before computing on the plain SI values, so
every arithmetic operator, comparison and `np.*` elementwise function goes through the rules here.
`None` means the result is not a physical value at all (booleans from a comparison) and stays a
plain array; `DIMENSIONLESS` means a number, which `Quantity` also hands back as a plain value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from spikec.errors import DimensionMismatchError
from spikec.units.dimension import DIMENSIONLESS, Dimension
from spikec.units.functions import (common_dimension, describe_dimension,
                                    fail_for_dimension_mismatch, get_dimensions)

# Arguments must agree; the result has their dimension.
SAME_DIMENSION = frozenset({"add", "subtract", "maximum", "minimum", "fmax", "fmin", "remainder",
                            "fmod", "clip", "hypot"})
# Arguments must agree; the result is boolean.
COMPARISONS = frozenset({"less", "less_equal", "greater", "greater_equal", "equal", "not_equal"})
# One argument; the result has its dimension.
KEEP_DIMENSION = frozenset({"absolute", "fabs", "rint", "negative", "positive", "conjugate",
                            "floor", "ceil", "trunc", "spacing"})
# Any dimension; the result is a plain (boolean or sign) array.
PLAIN_RESULT = frozenset({"logical_and", "logical_or", "logical_xor", "logical_not", "isfinite",
                          "isinf", "isnan", "sign", "signbit"})
# Only dimensionless arguments make sense (exponentials, logarithms, angles).
DIMENSIONLESS_ONLY = frozenset({"sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh",
                                "cosh", "tanh", "arcsinh", "arccosh", "arctanh", "exp", "exp2",
                                "expm1", "log", "log2", "log10", "log1p", "logaddexp",
                                "logaddexp2", "arctan2", "deg2rad", "rad2deg", "degrees",
                                "radians"})
# Exponent of the (first) argument's dimension for one-argument ufuncs that change it.
POWER_OF_ARGUMENT = {"sqrt": 0.5, "cbrt": 1 / 3, "square": 2, "reciprocal": -1}

VERBS = {"add": "add", "subtract": "subtract", **{name: "compare" for name in COMPARISONS}}


def result_dimension(ufunc: np.ufunc, method: str, inputs: Sequence[object]) -> Dimension | None:
    """The dimension of `ufunc.method(*inputs)`, or None for a plain (boolean) result.

    Raises `DimensionMismatchError` when the dimensions do not fit the operation, and
    `TypeError` for operations that have no meaning on quantities with dimensions.
    """
    name = ufunc.__name__
    if method == "at":      # ufunc.at(array, indices, values): the indices carry no dimension
        inputs = [inputs[0], *inputs[2:]]
    dims = [get_dimensions(value) for value in inputs]
    if name in PLAIN_RESULT:
        return None
    if method == "reduce":
        return _reduce_dimension(name, dims[0])
    if method == "accumulate" and name not in SAME_DIMENSION and dims[0] != DIMENSIONLESS:
        raise TypeError(f"{name}.accumulate is not supported for quantities with dimensions")
    if method not in ("__call__", "outer", "accumulate", "at"):
        _require_dimensionless(name, inputs)
        return DIMENSIONLESS
    return _call_dimension(name, inputs, dims)


def _call_dimension(name: str, inputs: Sequence[object], dims: list[Dimension]) -> Dimension | None:
    if name in SAME_DIMENSION or name in COMPARISONS:
        dim = common_dimension(list(inputs), f"Cannot {VERBS.get(name, f'apply {name} to')}")
        return None if name in COMPARISONS else dim
    if name in KEEP_DIMENSION:
        return dims[0]
    if name in ("multiply", "matmul"):
        return dims[0] * dims[1]
    if name in ("divide", "true_divide", "floor_divide"):
        return dims[0] / dims[1]
    if name in POWER_OF_ARGUMENT:
        return dims[0] ** POWER_OF_ARGUMENT[name]
    if name in ("power", "float_power"):
        return _power_dimension(inputs[0], inputs[1])
    _require_dimensionless(name, inputs)
    return DIMENSIONLESS


def _reduce_dimension(name: str, dim: Dimension) -> Dimension:
    if name in SAME_DIMENSION or dim == DIMENSIONLESS:
        return dim
    # multiply.reduce multiplies n values, so its dimension depends on n: numpy functions that
    # need it (np.prod) are handled in array_functions, where n is known.
    raise TypeError(f"{name}.reduce is not supported for quantities with dimensions ({describe_dimension(dim)})")


def _power_dimension(base: object, exponent: object) -> Dimension:
    fail_for_dimension_mismatch(exponent, None,
                                lambda: f"The exponent of a power must be dimensionless, not {exponent}")
    base_dim = get_dimensions(base)
    if base_dim == DIMENSIONLESS:
        return DIMENSIONLESS
    if np.size(exponent) != 1:
        raise DimensionMismatchError(
            f"Cannot raise {base} to an array of exponents: the result would have a "
            f"different dimension per element", base_dim,
            hint="divide the base by its unit first, e.g. (x / mV) ** n")
    return base_dim ** np.asarray(exponent).item()


def _require_dimensionless(name: str, inputs: Sequence[object]) -> None:
    for value in inputs:
        fail_for_dimension_mismatch(value, None,
                                    lambda: f"{name} expects dimensionless arguments but got {value}")
