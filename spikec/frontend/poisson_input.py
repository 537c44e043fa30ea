"""`PoissonInput`: N independent Poisson sources of one rate driving a variable, without
synapses (Brian's `PoissonInput`): each step, `target_var += binomial(N, rate*dt) * weight`."""

from __future__ import annotations

from typing import Any

import numpy as np

from spikec.errors import DimensionMismatchError, EquationError
from spikec.frontend.groups import Group, check_when, parse_condition
from spikec.frontend.naming import default_names
from spikec.frontend.subgroups import range_attribute
from spikec.units import Quantity, get_dimensions, second


class PoissonInput:
    """Adds `weight` times a binomial(N, rate*dt) draw to `target.target_var` every step of the
    target's clock, at `when` (default 'synapses', as Brian). `weight` is a quantity with the
    variable's dimension or an expression (checked when the network is built). The target may be
    a subgroup (`G[:100]`)."""

    def __init__(self, target: Group, target_var: str, N: int, rate: Quantity, weight: Any,
                 when: str = "synapses", order: int = 0, name: str | None = None):
        self.name = default_names.claim(name, "poissoninput")
        owner = f"PoissonInput '{self.name}'"
        if target_var not in target.variables:
            raise EquationError(f"{owner}: {target.owner} has no variable '{target_var}'",
                                hint=f"its variables: {', '.join(sorted(target.variables))}")
        if isinstance(N, (bool, np.bool_)) or not isinstance(N, (int, np.integer)) or N < 0:
            raise EquationError(f"{owner}: N must be a non-negative integer, not {N!r}")
        if get_dimensions(rate) != get_dimensions(second) ** -1 or np.ndim(rate) != 0:
            raise DimensionMismatchError(f"{owner}: rate must be a single rate (Hz), got "
                                         f"{rate!r}", get_dimensions(rate))
        p = float(np.asarray(rate)) * target.clock.dt_seconds
        if not 0 <= p <= 1:
            raise EquationError(f"{owner}: rate*dt = {p:g} is not a probability",
                                hint="lower the rate or the target's dt")
        spec = target.variables[target_var]
        if isinstance(weight, str):
            self.weight = parse_condition(weight, f"{owner}, weight").expr
        else:
            if get_dimensions(weight) != spec.dim:
                raise DimensionMismatchError(
                    f"{owner}: the weight has dimension '{get_dimensions(weight)}', but "
                    f"'{target_var}' has '{spec.dim}'", get_dimensions(weight), spec.dim)
            self.weight = float(np.asarray(weight))
        self.target, self.target_var, self.N, self.rate, self.p = target, target_var, int(N), rate, p
        self.when = check_when(owner, when)
        self.order = order
        # A subgroup target: the input belongs to the parent, acting on the range only. It acts
        # where it is part of the network (`Network(G, P)`, or found by `run()`), as in Brian.
        self.target_range = range_attribute(target)
