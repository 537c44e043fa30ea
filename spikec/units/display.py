"""How quantities print: in the registered unit that fits their magnitude best, as Brian does.

Brian does not remember the unit a value was written in; it picks, among the registered units of
the value's dimension, the one that brings the printed numbers closest to 10 (for an array: the
smallest sum of squared distances of log10(|value| / unit) from 1, zeros ignored).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikec.units.functions import fail_for_dimension_mismatch
from spikec.units.quantity import Quantity
from spikec.units.registry import display_candidates
from spikec.units.unit import Unit


def best_unit(quantity: Quantity) -> Unit | None:
    """The unit `quantity` prints in, None for a dimensionless one."""
    if quantity.dim.is_dimensionless:
        return None
    candidates = display_candidates(quantity.dim)
    scales = np.array([unit.view(np.ndarray).item() for unit in candidates])
    magnitudes = np.abs(_shown_values(quantity.view(np.ndarray)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = magnitudes[:, np.newaxis] / scales[np.newaxis, :]
        ratios[ratios == 0] = np.nan          # zero prints well in any unit
        if np.all(np.isnan(ratios)):
            return next((unit for unit in candidates if unit.scale == 0), candidates[0])
        deviations = np.nansum((np.log10(ratios) - 1) ** 2, axis=0)
    return candidates[int(np.argmin(deviations))]


def _shown_values(values: np.ndarray) -> np.ndarray:
    """The values numpy will print: for an array above the print threshold, only its edges."""
    flat = values.ravel()
    options = np.get_printoptions()
    if flat.size > options["threshold"]:
        edge = options["edgeitems"]
        flat = np.concatenate([flat[:edge], flat[-edge:]])
    return flat


def format_in_unit(quantity: Quantity, unit: Unit | Quantity | None, precision: int | None = None,
                   python_code: bool = False) -> str:
    """`quantity` written in `unit`: `'10. mV'`, or as code `'10. * mvolt'` (python_code).

    A dimensionless quantity (unit None) prints as its number, or as code `Quantity(5.)`.
    """
    if unit is not None and unit.dim != quantity.dim:
        fail_for_dimension_mismatch(quantity, unit, f"Cannot write {quantity!s} in {unit!s}")
    values = quantity.view(np.ndarray) / (1.0 if unit is None else unit.view(np.ndarray).item())
    if values.ndim == 0:
        text = np.array_str(np.array([values]), precision=precision).strip("[] ")
    elif python_code:
        text = np.array_repr(values, precision=precision)
    else:
        text = np.array_str(values, precision=precision)
    if unit is None or unit.dim.is_dimensionless:
        return f"Quantity({text})" if python_code else text
    return f"{text} * {_unit_code(unit)}" if python_code else f"{text} {_unit_text(unit)}"


def _unit_code(unit: Any) -> str:
    return repr(unit) if isinstance(unit, Unit) else repr(unit.dim)


def _unit_text(unit: Any) -> str:
    return str(unit) if isinstance(unit, Unit) else str(unit.dim)
