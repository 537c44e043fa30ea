"""Module-level declarations of the kernel IR: arrays and clocks.

    kernel.array @G.v {length = 100} : f64        -- a named array of 100 f64 values
    kernel.clock @defaultclock {dt = 0.0001}      -- a clock ticking every dt seconds

Array names are the model's (``G.v``, ``G._spikespace``, ``S._synaptic_pre``); the runtime owns
their memory, kernels refer to them as symbols. A spike list (``G._spikespace`` for a group of N
neurons) is an array of an index type and length N + 1: entries 0 .. count-1 hold the indices of
this step's spiking neurons in increasing order and the last entry, index N, holds count.
"""

from __future__ import annotations

from typing import ClassVar

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Op, Trait
from spikec.ir.registry import register_op
from spikec.ir.syntax import OpSyntax, ParsedOp
from spikec.ir.types import Type
from spikec.ir.verify import VerifyContext


class DeclarationOp(Op):
    """Base of module-level declarations spelled ``dialect.op @name {attrs} : type``.

    `declared_attributes` are the attributes shown in the dict (all required); `type_attribute`,
    when set, names the attribute shown after the colon."""

    traits = frozenset({Trait.SYMBOL})
    declared_attributes: ClassVar[tuple[str, ...]] = ()
    type_attribute: ClassVar[str | None] = None

    def syntax(self) -> OpSyntax:
        types = [self.attributes[self.type_attribute]] if self.type_attribute else []
        shown = {key: self.attributes[key] for key in self.declared_attributes}
        return OpSyntax(items=[self.attributes["sym_name"]], attributes=shown, types=types)

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "DeclarationOp":
        symbol, types = parsed.symbol_op_parts("the declared @name", cls.declared_attributes,
                                               types=1 if cls.type_attribute else 0)
        attributes = {"sym_name": symbol, **parsed.attributes}
        if cls.type_attribute:
            attributes[cls.type_attribute] = types[0]
        return cls.create(attributes=attributes)


@register_op
class ArrayOp(DeclarationOp):
    """``kernel.array @G.v {length = 100} : f64``: declares array G.v of 100 f64 elements."""

    name = "kernel.array"
    declared_attributes = ("length",)
    type_attribute = "element_type"

    def __init__(self, name: str, element_type: Type, length: int):
        super().__init__(attributes={"sym_name": SymbolRef(name), "length": length,
                                     "element_type": element_type})

    @property
    def array_name(self) -> str:
        return self.attributes["sym_name"].name

    @property
    def element_type(self) -> Type:
        return self.attributes["element_type"]

    @property
    def length(self) -> int:
        return self.attributes["length"]

    def verify(self, ctx: VerifyContext) -> None:
        length = self.attributes.get("length")
        ctx.require(isinstance(length, int) and not isinstance(length, bool) and length >= 0, self,
                    "length must be a non-negative integer")
        ctx.require(isinstance(self.attributes.get("element_type"), Type), self, "element type missing")


@register_op
class ClockOp(DeclarationOp):
    """``kernel.clock @defaultclock {dt = 0.0001}``: a clock whose step k happens at time k*dt."""

    name = "kernel.clock"
    declared_attributes = ("dt",)

    def __init__(self, name: str, dt: float):
        super().__init__(attributes={"sym_name": SymbolRef(name), "dt": dt})

    @property
    def dt(self) -> float:
        return self.attributes["dt"]

    def verify(self, ctx: VerifyContext) -> None:
        dt = self.attributes.get("dt")
        ctx.require(isinstance(dt, float) and dt > 0, self, "dt must be a positive float")
