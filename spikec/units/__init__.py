"""Physical units and dimensions (Brian's names and behaviour). A leaf package: it imports only
`spikec.errors`, so the IR (which records each variable's dimension) can use it.

`from spikec.units import *` gives the types and helpers below and every unit name Brian has
(`mV`, `ms`, `nS`, `volt`, `siemens`, `umetre2`, ...); `all_units()` is the same names as a dict.
"""

from spikec.units.dimension import (BASE_DIMENSIONS, DIMENSIONLESS, Dimension)
from spikec.units.functions import (fail_for_dimension_mismatch, get_dimensions,
                                    have_same_dimensions, is_dimensionless)
from spikec.units.quantity import Quantity
from spikec.units.registry import (all_units, base_units_namespace, get_unit,
                                   get_unit_for_display)
from spikec.units.unit import Unit
from spikec.units import display as _display  # noqa: F401  (printing: loaded with the package)

_UNITS = all_units()
globals().update(_UNITS)

__all__ = ["BASE_DIMENSIONS", "DIMENSIONLESS", "Dimension", "Quantity", "Unit", "all_units",
           "base_units_namespace", "fail_for_dimension_mismatch", "get_dimensions", "get_unit",
           "get_unit_for_display", "have_same_dimensions", "is_dimensionless", *_UNITS]
