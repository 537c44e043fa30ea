"""The functions and constants model code may use by default, with their dimension and type rules.

Brian's default functions (`exp`, `clip`, `rand`, ...). Each entry says how many arguments the
function takes, what dimensions those must have, and what the result's dimension and kind are;
`spikec.ir.dimension_rules` applies the rule (for the frontend and the `check-units` pass), the
lowering later maps the name to an IR math op. An external object can also be called from model
code (a `TimedArray`): it provides its signature as its `function_signature` attribute, and the
frontend's `Namespace.function` finds it there; in model IR a `model.timed_array` stands for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from spikec.units import Dimension


class DimensionRule(Enum):
    """How a function's arguments' dimensions determine its result's."""

    DIMENSIONLESS = "arguments and result dimensionless"          # exp, log, sin, ...
    SAME = "all arguments share one dimension, which the result keeps"  # abs, floor, clip
    SQRT = "the result has half the argument's dimension"           # sqrt
    ANY_TO_DIMENSIONLESS = "any dimension in, dimensionless out"  # sign
    TIME_TO_DIMENSIONLESS = "time arguments, dimensionless result"  # timestep(t, dt)
    TIMED_ARRAY = "a time (and an integer index) in, `result_dim` out"  # ta(t), ta(t, i)
    # Model IR only: a number literal is a value in SI units, and the integrate pass writes a
    # numeric refractory period as `timestep(0.002, dt)`, so there a literal counts as a time.
    TIME_OR_SECONDS_TO_DIMENSIONLESS = "times or literal seconds in, dimensionless out"


@dataclass(frozen=True)
class FunctionSignature:
    name: str
    min_args: int
    max_args: int
    rule: DimensionRule
    result_kind: str = "float"   # 'float', 'integer' or 'boolean'
    stateful: bool = False       # draws random numbers: never merged or folded
    result_dim: Dimension | None = None  # the result's dimension, for TIMED_ARRAY
    # The object behind a function found in a namespace (a `TimedArray`), for building the IR.
    implementation: Any = field(default=None, compare=False)

    def arity_text(self) -> str:
        if self.min_args == self.max_args:
            count = self.min_args
            return f"{count} argument{'s' if count != 1 else ''}"
        return f"{self.min_args} to {self.max_args} arguments"


def _dimensionless(*names: str) -> list[FunctionSignature]:
    return [FunctionSignature(n, 1, 1, DimensionRule.DIMENSIONLESS) for n in names]


DEFAULT_CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e, "inf": math.inf}

DEFAULT_FUNCTIONS: dict[str, FunctionSignature] = {
    f.name: f for f in [
        *_dimensionless("exp", "log", "log10", "expm1", "log1p", "exprel", "sin", "cos", "tan",
                        "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan"),
        FunctionSignature("sqrt", 1, 1, DimensionRule.SQRT),
        FunctionSignature("abs", 1, 1, DimensionRule.SAME),
        FunctionSignature("floor", 1, 1, DimensionRule.SAME),
        FunctionSignature("ceil", 1, 1, DimensionRule.SAME),
        FunctionSignature("clip", 3, 3, DimensionRule.SAME),
        FunctionSignature("sign", 1, 1, DimensionRule.ANY_TO_DIMENSIONLESS, "integer"),
        FunctionSignature("int", 1, 1, DimensionRule.DIMENSIONLESS, "integer"),
        FunctionSignature("rand", 0, 0, DimensionRule.DIMENSIONLESS, stateful=True),
        FunctionSignature("randn", 0, 0, DimensionRule.DIMENSIONLESS, stateful=True),
        FunctionSignature("poisson", 1, 1, DimensionRule.DIMENSIONLESS, "integer", stateful=True),
        FunctionSignature("timestep", 2, 2, DimensionRule.TIME_TO_DIMENSIONLESS, "integer"),
    ]
}

# The default functions as model IR sees them (see TIME_OR_SECONDS_TO_DIMENSIONLESS).
MODEL_IR_FUNCTIONS: dict[str, FunctionSignature] = {
    **DEFAULT_FUNCTIONS,
    "timestep": FunctionSignature("timestep", 2, 2, DimensionRule.TIME_OR_SECONDS_TO_DIMENSIONLESS,
                                  "integer"),
}
