"""The functions `kernel.math` may call, with their arity, accepted types and reference semantics.

The numpy implementation here is what the interpreter computes; the backends call the matching
libm / libdevice function (``exp`` -> ``exp``/``__nv_exp``), which may differ by an ulp or so.
``exprel(x)`` is ``expm1(x)/x`` with ``exprel(0) = 1``, as in Brian.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class MathFunction:
    name: str
    arity: int
    integers_allowed: bool         # abs and sign also take i32/i64; the rest need f32/f64
    compute: Callable[..., object]


def _exprel(x: object) -> object:
    x = np.asarray(x)
    safe = np.where(x == 0, np.ones_like(x), x)
    return np.where(x == 0, np.ones_like(x), np.expm1(safe) / safe)


_FLOAT_UNARY = {
    "exp": np.exp, "log": np.log, "log10": np.log10, "log2": np.log2, "sqrt": np.sqrt,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh,
    "tanh": np.tanh, "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan,
    "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc, "expm1": np.expm1, "log1p": np.log1p,
    "exprel": _exprel,
}

MATH_FUNCTIONS: dict[str, MathFunction] = {
    **{name: MathFunction(name, 1, False, fn) for name, fn in _FLOAT_UNARY.items()},
    "abs": MathFunction("abs", 1, True, np.abs),
    "sign": MathFunction("sign", 1, True, np.sign),
    "arctan2": MathFunction("arctan2", 2, False, np.arctan2),
}
