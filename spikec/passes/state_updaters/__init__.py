"""State updaters: one module per family of integration methods, used by the `integrate` pass.

Each method is a function `method(system) -> Integration` that either returns the statements of
one time step or raises `UnsupportedEquations` (then `integrate` tries the object's next method).
`METHODS` maps Brian's method names to those functions; docs/state-updaters.md gives the formulas.
"""

from spikec.passes.state_updaters.exact import exact
from spikec.passes.state_updaters.explicit import euler, heun, milstein, rk2, rk4
from spikec.passes.state_updaters.exponential_euler import exponential_euler
from spikec.passes.state_updaters.system import DifferentialSystem, Integration, UnsupportedEquations

METHODS = {"exact": exact, "linear": exact, "euler": euler, "rk2": rk2, "rk4": rk4, "heun": heun,
           "milstein": milstein, "exponential_euler": exponential_euler}

__all__ = ["METHODS", "DifferentialSystem", "Integration", "UnsupportedEquations"]
