"""spikec: a compiler toolchain for spiking neural networks written in Brian 2's model language.

`from spikec import *` gives what `from brian2 import *` gives a model script: numpy's names,
every unit, and the model-language objects. Importing runs no compiler and touches no device.
"""

import numpy as np  # noqa: F401  (Brian's star-import provides np too)

# Brian scripts expect numpy's names (`from numpy import *`; units override some below). numpy
# imports a few submodules only when first asked for; f2py and testing alone cost ~0.1 s, a fifth
# of `import spikec`, so they stay unloaded until used: `spikec.testing` and `np.testing` work.
_NUMPY_ON_ACCESS = ("f2py", "testing")
globals().update({name: getattr(np, name) for name in np.__all__ if name not in _NUMPY_ON_ACCESS})

from spikec.errors import (DimensionMismatchError, EquationError, FlagError, ModelSyntaxError,
                           SpikecError, SubgroupError, UnknownIdentifierError)
from spikec.frontend.clocks import Clock, defaultclock
from spikec.frontend.equations import Equations
from spikec.frontend.groups import NeuronGroup
from spikec.frontend.inputs import PoissonGroup, SpikeGeneratorGroup, TimedArray
from spikec.frontend.monitors import (EventMonitor, PopulationRateMonitor, SpikeMonitor,
                                      StateMonitor)
from spikec.frontend.operations import NetworkOperation, network_operation
from spikec.frontend.poisson_input import PoissonInput
from spikec.frontend.subgroups import Subgroup
from spikec.frontend.synapses import Synapses
from spikec.runtime.devices import get_device, seed, set_device
from spikec.runtime.network import Network, restore, run, store
from spikec.units import *  # noqa: F401,F403
from spikec.units import Dimension, Quantity, get_dimensions, get_unit, have_same_dimensions

from spikec.frontend.variables import code_runner as _code_runner
from spikec.runtime.code_runner import HostCodeRunner as _HostCodeRunner

_code_runner.runner = _HostCodeRunner()  # string code on variables (G.v = '...') runs here

__version__ = "0.1.0"


def __getattr__(name: str):
    if name in _NUMPY_ON_ACCESS:
        return getattr(np, name)
    raise AttributeError(f"module 'spikec' has no attribute {name!r}")
