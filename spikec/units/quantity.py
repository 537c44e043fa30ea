"""`Quantity`: a numpy array of SI values that knows its physical dimension.

Values are always stored in SI base units (`10*mV` holds 0.01), so `np.asarray(q)` hands the SI
numbers to code that does not care about units, and the unit a value was written in is not kept:
printing picks a fitting unit afresh, as Brian does. Every numpy operation is routed through
`__array_ufunc__` (elementwise operations, see `ufunc_rules`) or `__array_function__` (the
`np.*` functions in `array_functions`), which check and combine dimensions. A result without
dimension comes back as a plain float or array, so `(10*mV) / mV` is the number 10.0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikec.errors import DimensionMismatchError
from spikec.units.dimension import DIMENSIONLESS, Dimension
from spikec.units.functions import describe_dimension, fail_for_dimension_mismatch, get_dimensions
from spikec.units.ufunc_rules import result_dimension


def plain(value: Any) -> Any:
    """`value` without its dimension: SI numbers (nested lists are converted element by element)."""
    if isinstance(value, Quantity):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def with_dimension(values: Any, dim: Dimension) -> Any:
    """SI `values` as a `Quantity` of dimension `dim`; a dimensionless result stays plain, and a
    plain scalar becomes a Python number (as in Brian, where `v / mV` is a float)."""
    array = np.asarray(values)
    if dim.is_dimensionless:
        return array.item() if array.ndim == 0 else array
    quantity = array.view(Quantity)
    quantity.dim = dim
    return quantity


class Quantity(np.ndarray):
    """An array (or scalar, with shape ()) of SI values with a physical dimension `dim`.

    `Quantity(value, dim)` copies `value`; `value` may itself be a quantity or a list of
    quantities (which must all have one dimension). Integers are stored as floats, since
    physical values are continuous and integer storage would truncate `q *= 0.5` silently.
    """

    dim: Dimension

    def __new__(cls, value: Any = 0.0, dim: Dimension | None = None, dtype: Any = None) -> "Quantity":
        value_dim = get_dimensions(value)
        if dim is None:
            dim = value_dim
        elif not value_dim.is_dimensionless and value_dim != dim:
            fail_for_dimension_mismatch(value_dim, dim, "Cannot give a new dimension to a quantity")
        array = np.array(plain(value), dtype=dtype)
        if array.dtype.kind in "biu":
            array = array.astype(np.float64)
        elif array.dtype.kind not in "fc":
            raise TypeError(f"a quantity needs numeric values, not {array.dtype} ({value!r})")
        quantity = array.view(cls)
        quantity.dim = dim
        return quantity

    def __array_finalize__(self, source: Any) -> None:
        # Views, slices and copies inherit the dimension of the array they come from.
        self.dim = getattr(source, "dim", DIMENSIONLESS)

    # ---- numpy protocols ------------------------------------------------------------------------

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if not all(_is_numeric(value) for value in inputs):
            return NotImplemented
        dim = result_dimension(ufunc, method, inputs)
        out = kwargs.pop("out", None)
        if out is not None and method != "at":
            return _compute_into(out, dim, getattr(ufunc, method), [plain(x) for x in inputs], kwargs)
        result = getattr(ufunc, method)(*(plain(value) for value in inputs), **kwargs)
        if method == "at":
            return None
        if isinstance(result, tuple):
            return tuple(with_dimension(item, dim) for item in result)
        return result if dim is None else with_dimension(result, dim)

    def __array_function__(self, function: Any, types: Any, args: Any, kwargs: Any) -> Any:
        from spikec.units.array_functions import HANDLERS   # it builds on this module
        handler = HANDLERS.get(function)
        if handler is None:
            return super().__array_function__(function, types, args, kwargs)
        return handler(*args, **kwargs)

    def __reduce__(self) -> tuple:
        return Quantity, (self.view(np.ndarray), self.dim)

    # ---- element access -------------------------------------------------------------------------

    def __getitem__(self, key: Any) -> Any:
        item = super().__getitem__(key)
        if isinstance(item, Quantity):
            return item
        # numpy returns a bare numpy scalar for a single element; keep the dimension on it.
        scalar = np.asarray(item).view(Quantity)
        scalar.dim = self.dim
        return scalar

    def __setitem__(self, key: Any, value: Any) -> None:
        fail_for_dimension_mismatch(value, self.dim, lambda: f"Cannot assign {value} to an "
                                    f"element of an array in {describe_dimension(self.dim)}")
        super().__setitem__(key, plain(value))

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a scalar quantity")
        return (self[index] for index in range(len(self)))

    def __eq__(self, other: Any) -> Any:
        # Comparing with something that is not a number (None, a string) is simply unequal.
        return np.equal(self, other) if _is_numeric(other) else NotImplemented

    def __ne__(self, other: Any) -> Any:
        return np.not_equal(self, other) if _is_numeric(other) else NotImplemented

    def item(self, *index: Any) -> Any:
        """One element, as a scalar quantity (as in Brian; `np.asarray(q).item()` gives SI)."""
        return with_dimension(self.view(np.ndarray).item(*index), self.dim)

    def tolist(self) -> Any:
        """Nested lists of scalar quantities (as in Brian)."""
        return self.item() if self.ndim == 0 else [element.tolist() for element in self]

    def __float__(self) -> float:
        return float(self._dimensionless_value("float"))

    def __int__(self) -> int:
        return int(self._dimensionless_value("int"))

    def _dimensionless_value(self, target: str) -> np.ndarray:
        if not self.dim.is_dimensionless:
            raise DimensionMismatchError(
                f"Cannot convert {self} to {target}: it has dimension {describe_dimension(self.dim)}",
                self.dim, hint="divide by a unit first, e.g. float(v / mV)")
        return self.view(np.ndarray)

    # ---- dimensions -----------------------------------------------------------------------------

    @property
    def dimensions(self) -> Dimension:
        return self.dim

    @property
    def is_dimensionless(self) -> bool:
        return self.dim.is_dimensionless

    def has_same_dimensions(self, other: Any) -> bool:
        return self.dim == get_dimensions(other)

    # ---- text -----------------------------------------------------------------------------------

    def in_unit(self, unit: "Quantity", precision: int | None = None, python_code: bool = False) -> str:
        """The value written in `unit`: `(25.123*mV).in_unit(volt)` is `'0.025123 V'`."""
        from spikec.units.display import format_in_unit
        return format_in_unit(self, unit, precision, python_code)

    def in_best_unit(self, precision: int | None = None, python_code: bool = False) -> str:
        from spikec.units.display import best_unit, format_in_unit
        return format_in_unit(self, best_unit(self), precision, python_code)

    def __repr__(self) -> str:
        return self.in_best_unit(python_code=True)

    def __str__(self) -> str:
        return self.in_best_unit()

    def __format__(self, spec: str) -> str:
        return str(self) if spec == "" else format(self.view(np.ndarray).item() if self.ndim == 0
                                                  else self.view(np.ndarray), spec)

    # ---- methods that are numpy functions with units --------------------------------------------

    def _numpy(function: Any):   # a method that is `function(self, ...)`, so it is unit-aware
        def method(self, *args: Any, **kwargs: Any) -> Any:
            return function(self, *args, **kwargs)
        method.__name__ = function.__name__
        method.__doc__ = f"`numpy.{function.__name__}` with dimensions."
        return method

    sum = _numpy(np.sum)
    mean = _numpy(np.mean)
    std = _numpy(np.std)
    var = _numpy(np.var)
    min = _numpy(np.min)
    max = _numpy(np.max)
    prod = _numpy(np.prod)
    cumsum = _numpy(np.cumsum)
    clip = _numpy(np.clip)
    round = _numpy(np.round)
    dot = _numpy(np.dot)
    del _numpy


def _compute_into(out: tuple, dim: Dimension | None, operation: Any, inputs: list, kwargs: dict) -> Any:
    """An in-place operation (`q += x`, `out=`): the target keeps its dimension.

    A scalar quantity behaves like a Python float (`x += y` rebinds `x` to a new value), and an
    operation that would change an array's dimension is refused, since views of the same data
    would then disagree about what the numbers mean.
    """
    target = out[0]
    if len(out) != 1:
        raise TypeError("quantities support only one output array")
    if isinstance(target, Quantity) and target.ndim == 0:
        return with_dimension(operation(*inputs, **kwargs), dim or DIMENSIONLESS)
    target_dim = get_dimensions(target)
    if (dim or DIMENSIONLESS) != target_dim:
        raise DimensionMismatchError(
            f"Cannot store a result in {describe_dimension(dim or DIMENSIONLESS)} in place in an "
            f"array in {describe_dimension(target_dim)}", dim, target_dim,
            hint="assign a new array instead (q = q * x rather than q *= x)")
    operation(*inputs, out=(plain(target),), **kwargs)
    return target


def _is_numeric(value: Any) -> bool:
    try:
        get_dimensions(value)
    except TypeError:
        return False
    return True
