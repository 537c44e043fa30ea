"""spikec: a compiler toolchain for spiking neural networks written in Brian 2's model language.

`from spikec import *` gives what `from brian2 import *` gives a model script: numpy's names,
every unit, and the model-language objects. Importing runs no compiler and touches no device.
"""

from numpy import *  # noqa: F401,F403  (Brian scripts expect numpy's names; units override below)

from spikec.errors import (DimensionMismatchError, EquationError, FlagError, ModelSyntaxError,
                           SpikecError, UnknownIdentifierError)
from spikec.frontend.equations import Equations
from spikec.units import *  # noqa: F401,F403
from spikec.units import Dimension, Quantity, get_dimensions, get_unit, have_same_dimensions

__version__ = "0.1.0"
