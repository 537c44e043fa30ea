"""Kernel ops giving values that come from outside the dataflow: constants, the launch's
arguments, step and time, and counter-based random numbers (scheme in `spikec.ir.philox`)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from spikec.ir.core import Trait, Value
from spikec.ir.kernel_base import INDEX_TYPES, PURE, BodyOp, typed
from spikec.ir.registry import register_op
from spikec.ir.syntax import Keyword, OpSyntax, ParsedOp
from spikec.ir.types import Type
from spikec.ir.verify import VerifyContext


@register_op
class ConstantOp(BodyOp):
    """``%c = kernel.constant 1.5 : f64`` (also ``3 : i32``, ``true : bool``, ``-inf``, ``nan``)."""

    name = "kernel.constant"
    traits = frozenset({Trait.PURE, Trait.CONSTANT_LIKE})

    def __init__(self, value: float | int | bool, type: Type, name: str | None = None):
        if type.is_float:
            value = float(value)
        super().__init__((), [type], {"value": value}, name)

    @classmethod
    def of(cls, value: object, type: Type, name: str | None = None) -> "ConstantOp":
        """A constant of `type` holding `value` converted to it (`constant_scalar`): the way to
        make a constant from a value computed or written in another type, such as a decimal
        literal in f32 code (`0.01` holds 0.009999999776482582). The plain constructor takes
        `value` as it is, and the verifier refuses an f32 constant that is not exact."""
        return cls(constant_scalar(value, type), type, name)

    @property
    def value(self) -> float | int | bool:
        return self.attributes["value"]

    def numpy_value(self) -> object:
        return typed(self.value, self.result.type)

    def syntax(self) -> OpSyntax:
        value = self.value
        item = Keyword("true" if value else "false") if isinstance(value, bool) else value
        return OpSyntax(items=[item], types=[self.result.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "ConstantOp":
        parsed.expect_item_count(1)
        (type,) = parsed.expect_types(1)
        item = parsed.item(0, (int, float, Keyword), "a number, true or false")
        if isinstance(item, Keyword):
            if item.word not in ("true", "false"):
                raise parsed.error(f"unknown constant {item.word}")
            item = item.word == "true"
        elif type.is_float:
            item = float(item)
        return cls.create((), [type], {"value": item}, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        value, type = self.attributes.get("value"), self.result.type
        if type is Type.BOOL:
            ctx.require(isinstance(value, bool), self, "a bool constant needs true or false")
        elif type.is_float:
            ctx.require(isinstance(value, float), self, f"a {type} constant needs a float value")
            ctx.require(type is Type.F64 or np.isnan(value) or constant_scalar(value, type) == value, self,
                        "value is not exactly representable in f32")
        else:
            bits = 32 if type is Type.I32 else 64
            ctx.require(isinstance(value, int) and not isinstance(value, bool)
                        and -2 ** (bits - 1) <= value < 2 ** (bits - 1), self,
                        f"value does not fit in {type}")


def constant_scalar(value: object, type: Type) -> float | int | bool:
    """`value` (a Python or numpy scalar) converted to `type`, as the Python scalar a
    `kernel.constant` of that type holds. A float becomes the nearest value of the type (IEEE
    round-to-nearest-even, as numpy's `float32(x)` and C's `(float)x` do; beyond f32's range,
    +-inf); nan stays nan. A float to an integer type truncates, an integer wraps to the type's
    width, as `cast` does. The one rule for every pass that makes a constant from a value
    computed in Python or numpy (lowering's literals, `fold`, `hoist-reciprocals`,
    `div-by-power-of-two`)."""
    scalar = typed(value, type)
    if type is Type.BOOL:
        return bool(scalar)
    return float(scalar) if type.is_float else int(scalar)


class LaunchValueOp(BodyOp):
    """Base of nullary ops giving a value of the current launch; `result_type` is fixed."""

    result_type: ClassVar[Type]

    def __init__(self, name: str | None = None):
        super().__init__((), [self.result_type], None, name)

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(not self.operands and len(self.results) == 1, self, "takes no operands, gives one result")
        ctx.require(self.result.type is self.result_type, self, f"result must be {self.result_type}")


@register_op
class StepOp(LaunchValueOp):
    """``%n = kernel.step : i64``: the launch's clock step number (0 at the start)."""

    name = "kernel.step"
    traits = frozenset({Trait.PURE, Trait.VARIES_PER_STEP})
    result_type = Type.I64


@register_op
class TimeOp(LaunchValueOp):
    """``%t = kernel.time : f64``: the launch's time, step * dt of its clock, in seconds."""

    name = "kernel.time"
    traits = frozenset({Trait.PURE, Trait.VARIES_PER_STEP})
    result_type = Type.F64


@register_op
class ArgOp(BodyOp):
    """``%tau = kernel.arg "tau" : f64``: the kernel's scalar argument `tau`, given at launch.

    Only in the invariants region; the kernel's arguments are its arg ops, in order."""

    name = "kernel.arg"
    traits = PURE

    def __init__(self, arg_name: str, type: Type):
        super().__init__((), [type], {"name": arg_name}, arg_name)

    @property
    def arg_name(self) -> str:
        return self.attributes["name"]

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[self.arg_name], types=[self.result.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "ArgOp":
        parsed.expect_item_count(1)
        arg_name = parsed.item(0, str, "the argument's name as a string")
        return cls.create((), parsed.expect_types(1), {"name": arg_name}, (), parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        arg_name = self.attributes.get("name")
        ctx.require(isinstance(arg_name, str) and arg_name.isidentifier(), self,
                    "the argument name must be an identifier")


class RandOp(BodyOp):
    """``%r = kernel.rand_<kind> %i {stream = 3, draw = 0} : f64``: a counter-based random number
    for element i at the current step; see `spikec.ir.philox` for the exact scheme. The same
    (stream, draw, element, step, seed) always gives the same number, so the op is pure."""

    traits = frozenset({Trait.PURE, Trait.VARIES_PER_STEP})

    def __init__(self, index: Value, stream: int, draw: int = 0, name: str | None = None):
        super().__init__([index], [Type.F64], {"stream": stream, "draw": draw}, name)

    @property
    def stream(self) -> int:
        return self.attributes["stream"]

    @property
    def draw(self) -> int:
        return self.attributes["draw"]

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(len(self.operands) == 1 and self.operands[0].type in INDEX_TYPES, self,
                    "takes one i32/i64 element index")
        ctx.require(len(self.results) == 1 and self.result.type is Type.F64, self, "result must be f64")
        ctx.require(set(self.attributes) == {"stream", "draw"}, self, "needs attributes stream and draw")
        for key in ("stream", "draw"):
            value = self.attributes[key]
            ctx.require(isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2 ** 32,
                        self, f"{key} must be an integer in [0, 2**32)")


@register_op
class RandUniformOp(RandOp):
    """``%r = kernel.rand_uniform %i {stream = 3, draw = 0} : f64``: uniform in [0, 1)."""

    name = "kernel.rand_uniform"


@register_op
class RandNormalOp(RandOp):
    """``%r = kernel.rand_normal %i {stream = 3, draw = 0} : f64``: standard normal."""

    name = "kernel.rand_normal"
