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

    `declared_attributes` are the attributes shown in the dict (all required), then those of
    `optional_attributes` that are set; `type_attribute`, when set, names the attribute shown
    after the colon."""

    traits = frozenset({Trait.SYMBOL})
    declared_attributes: ClassVar[tuple[str, ...]] = ()
    optional_attributes: ClassVar[tuple[str, ...]] = ()
    type_attribute: ClassVar[str | None] = None

    def syntax(self) -> OpSyntax:
        types = [self.attributes[self.type_attribute]] if self.type_attribute else []
        shown = {key: self.attributes[key] for key in self.declared_attributes}
        shown.update((key, self.attributes[key]) for key in self.optional_attributes if key in self.attributes)
        return OpSyntax(items=[self.attributes["sym_name"]], attributes=shown, types=types)

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "DeclarationOp":
        symbol, types = parsed.symbol_op_parts("the declared @name", cls.declared_attributes,
                                               cls.optional_attributes,
                                               types=1 if cls.type_attribute else 0)
        attributes = {"sym_name": symbol, **parsed.attributes}
        if cls.type_attribute:
            attributes[cls.type_attribute] = types[0]
        return cls.create(attributes=attributes)


@register_op
class ArrayOp(DeclarationOp):
    """``kernel.array @G.v {length = 100} : f64``: declares array G.v of 100 f64 elements.

    A dendritic ring may carry ``ring_lead = k`` (k >= 1): the sends of a step write only rows at
    least k rows after the row that step's delivery reads and zeroes (k: the pathway's shortest
    delay in steps), so within a step its send and its delivery touch different rows: the
    tick kernel (`cuda_tick_kernel.tick_phases`) need not order them."""

    name = "kernel.array"
    declared_attributes = ("length",)
    optional_attributes = ("ring_lead",)
    type_attribute = "element_type"

    def __init__(self, name: str, element_type: Type, length: int, ring_lead: int | None = None):
        attributes = {"sym_name": SymbolRef(name), "length": length, "element_type": element_type}
        if ring_lead is not None:
            attributes["ring_lead"] = ring_lead
        super().__init__(attributes=attributes)

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
        lead = self.attributes.get("ring_lead", 1)
        ctx.require(isinstance(lead, int) and not isinstance(lead, bool) and lead >= 1, self,
                    "ring_lead must be an integer of at least 1")


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
