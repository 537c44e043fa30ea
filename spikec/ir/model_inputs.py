"""Model ops of Brian's input objects: TimedArray values and SpikeGeneratorGroup spike lists.

    model.timed_array @ta {dt = 0.0001, dim = "m^2 kg s^-3 A^-1", shape = [3, 2],
                           values = [0.001, 0.002, 0.003, 0.004, 0.005, 0.006]}
    model.spike_generator @spike {indices = [0, 2, 1], times = [0.0, 0.0, 0.0015],
                                  period = 0.0}
    model.poisson_input @poissoninput {target_var = "v", n = 1000, p = 0.0002, weight = 0.0001,
                                       when = "synapses", order = 0}

A `model.timed_array` sits in the body of each object whose code calls it, under the name the
code uses (`ta(t)`, `ta(t, i)`); it holds the values in SI units, flattened row by row (`shape`
is `[rows]` or `[rows, columns]`; rows are time steps of `dt` seconds). Calls are lowered to a
load from an array holding these values (see docs/inputs.md).

A `model.spike_generator @spike` makes its group (a `model.group` without events) emit the
'spike' event at given times: neuron `indices[k]` at `times[k]` seconds, sorted by time, then
index; with `period > 0` the pattern repeats every `period` seconds.
"""

from __future__ import annotations

import math

import numpy as np

from spikec.ir.model import (DIMENSION, EXPRESSION_OR_NUMBER, FunctionMemberOp, MemberOp,
                            verify_range)
from spikec.ir.registry import register_op
from spikec.ir.verify import VerifyContext


def upsampling_factor(group_dt: float, dt: float) -> int:
    """Brian's K for a TimedArray of step `dt` read by code on a clock of step `group_dt`: time is
    measured in units of dt/K, K a power of two with dt/K <= group_dt/8, so rounding t/(dt/K) is
    safe whatever the ratio of the steps. The row read at time t is int((t/(dt/K) + 0.5)/K)."""
    return max(int(2 ** np.ceil(np.log2(8 / group_dt * dt))), 1)


def spike_steps(times: np.ndarray, dt: float) -> np.ndarray:
    """The step of each spike time: int((t + 1e-3*dt)/dt), Brian's `timestep`."""
    return ((np.asarray(times, dtype=np.float64) + 1e-3 * dt) / dt).astype(np.int64)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_float_list(value: object) -> bool:
    return isinstance(value, tuple) and all(isinstance(v, float) for v in value)


@register_op
class TimedArrayOp(FunctionMemberOp):
    """``model.timed_array @ta {dt, dim, shape, values}``: a function of time (and a column)."""

    name = "model.timed_array"
    required = ("dt", "dim", "shape", "values")
    attribute_codecs = {"dim": DIMENSION}

    @property
    def shape(self) -> tuple[int, ...]:
        return self.attributes["shape"]

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        dt, shape = self.attributes["dt"], self.attributes["shape"]
        ctx.require(isinstance(dt, float) and dt > 0 and math.isfinite(dt), self,
                    "dt must be a positive float")
        ctx.require(isinstance(shape, tuple) and len(shape) in (1, 2)
                    and all(_is_int(n) and n >= 1 for n in shape), self,
                    "shape must be [rows] or [rows, columns] of positive integers")
        values = self.attributes["values"]
        ctx.require(_is_float_list(values), self, "values must be a list of floats")
        ctx.require(len(values) == math.prod(shape), self,
                    f"{len(values)} values do not fill shape {list(shape)}")


@register_op
class SpikeGeneratorOp(MemberOp):
    """``model.spike_generator @spike {indices, times, period}``: spikes at given times."""

    name = "model.spike_generator"
    required = ("indices", "times", "period")

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        indices, times = self.attributes["indices"], self.attributes["times"]
        period = self.attributes["period"]
        ctx.require(isinstance(indices, tuple) and all(_is_int(i) and i >= 0 for i in indices),
                    self, "indices must be a list of non-negative integers")
        ctx.require(_is_float_list(times) and all(t >= 0 for t in times), self,
                    "times must be a list of non-negative floats (seconds)")
        ctx.require(len(indices) == len(times), self, "indices and times differ in length")
        ctx.require(list(zip(times, indices)) == sorted(zip(times, indices)), self,
                    "spikes must be sorted by time, then index")
        ctx.require(isinstance(period, float) and period >= 0, self,
                    "period must be a non-negative float (0.0: no repetition)")

    def verify_names(self, ctx: VerifyContext, owner, known: set[str]) -> None:
        size = owner.attributes["size"]
        ctx.require(all(i < size for i in self.attributes["indices"]), self,
                    f"indices must be below the size of @{owner.sym_name} ({size})")


__all__ = ["TimedArrayOp", "SpikeGeneratorOp", "upsampling_factor", "spike_steps"]


@register_op
class PoissonInputOp(MemberOp):
    """``model.poisson_input @poissoninput {target_var = "v", n = 1000, p = 0.0002,
    weight = 0.0001 | "expression", when = "synapses", order = 0, range = [start, stop]?}``: each
    step, every element of its group (of the subgroup `range`, if given) adds `weight` times a
    binomial(n, p) draw to `target_var` (Brian's PoissonInput: n independent Poisson sources of
    rate p/dt)."""

    name = "model.poisson_input"
    required = ("target_var", "n", "p", "weight", "when", "order")
    attribute_codecs = {"weight": EXPRESSION_OR_NUMBER}

    def expressions(self) -> list:
        weight = self.attributes["weight"]
        return [] if isinstance(weight, (int, float)) else [weight]

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        n, p = self.attributes["n"], self.attributes["p"]
        ctx.require(_is_int(n) and n >= 0, self, "n must be a non-negative integer")
        ctx.require(isinstance(p, float) and 0.0 <= p <= 1.0, self, "p must be in [0, 1]")

    def verify_names(self, ctx: VerifyContext, owner, known: set[str]) -> None:
        verify_range(ctx, self, "range", owner)
        ctx.require(self.attributes["target_var"] in owner.variables(), self,
                    f"@{owner.sym_name} has no variable {self.attributes['target_var']!r}")
        super().verify_names(ctx, owner, known)
