"""Kernel ops with memory effects: load, store, atomic_add and emit_spike."""

from __future__ import annotations

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Trait, Value
from spikec.ir.kernel_base import INDEX_TYPES, BodyOp, symbol_ref
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.registry import register_op
from spikec.ir.syntax import IndexedSymbol, OpSyntax, ParsedOp
from spikec.ir.types import Type
from spikec.ir.verify import VerifyContext


class MemoryOp(BodyOp):
    """Base of ops that access array ``attributes["array"]`` at operand 0, the index."""

    @property
    def array(self) -> SymbolRef:
        return self.attributes["array"]

    @property
    def index(self) -> Value:
        return self.operands[0]

    def verify_array(self, ctx: VerifyContext, value_type: Type) -> ArrayOp:
        array = ctx.symbol(self, self.attributes.get("array"), ArrayOp, "an array")
        assert isinstance(array, ArrayOp)
        ctx.require(self.index.type in INDEX_TYPES, self, f"index must be i32 or i64, not {self.index.type}")
        ctx.require(value_type == array.element_type, self,
                    f"{array.attributes['sym_name']} holds {array.element_type}, not {value_type}")
        return array


@register_op
class LoadOp(MemoryOp):
    """``%v = kernel.load @G.v[%i] : f64``: element i of array G.v."""

    name = "kernel.load"
    traits = frozenset({Trait.READS_MEMORY})

    def __init__(self, array: str | SymbolRef, index: Value, type: Type, name: str | None = None):
        super().__init__([index], [type], {"array": symbol_ref(array)}, name)

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[IndexedSymbol(self.array, self.index)], types=[self.result.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "LoadOp":
        parsed.expect_item_count(1)
        access = parsed.item(0, IndexedSymbol, "an array access @name[%index]")
        return cls.create([access.index], parsed.expect_types(1), {"array": access.symbol}, (),
                          parsed.result_names)

    def verify(self, ctx: VerifyContext) -> None:
        self.verify_array(ctx, self.result.type)


class WriteOp(MemoryOp):
    """``kernel.<op> @A[%i], %value if %mask : T``; operands index, value and the optional mask
    (a bool: when false, this element does not write)."""

    traits = frozenset({Trait.SIDE_EFFECT})

    def __init__(self, array: str | SymbolRef, index: Value, value: Value, mask: Value | None = None):
        super().__init__([index, value] + ([mask] if mask is not None else []), (), {"array": symbol_ref(array)})

    @property
    def value(self) -> Value:
        return self.operands[1]

    @property
    def mask(self) -> Value | None:
        return self.operands[2] if len(self.operands) > 2 else None

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[IndexedSymbol(self.array, self.index), self.value], mask=self.mask,
                        types=[self.value.type])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "WriteOp":
        parsed.expect_item_count(2)
        parsed.expect_results(0)
        access = parsed.item(0, IndexedSymbol, "an array access @name[%index]")
        value = parsed.item(1, Value, "the value to write")
        (declared,) = parsed.expect_types(1)
        if declared != value.type:
            raise parsed.error(f"value is {value.type}, but the text says {declared}")
        operands = [access.index, value] + ([parsed.mask] if parsed.mask is not None else [])
        return cls.create(operands, (), {"array": access.symbol})

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(len(self.operands) in (2, 3) and not self.results, self, "takes index, value and a mask")
        self.verify_array(ctx, self.value.type)
        ctx.require(self.mask is None or self.mask.type is Type.BOOL, self, "mask must be bool")


@register_op
class StoreOp(WriteOp):
    """``kernel.store @G.v[%i], %v if %m : f64``: G.v[i] = v (when m). When several elements of one
    launch store to one place, the highest element index wins."""

    name = "kernel.store"


@register_op
class AtomicAddOp(WriteOp):
    """``kernel.atomic_add @G.ge[%j], %w if %m : f64``: G.ge[j] += w (when m), atomically: adds
    from all elements of a launch accumulate (in element order, in the interpreter)."""

    name = "kernel.atomic_add"

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.require(self.value.type is not Type.BOOL, self, "cannot add bool values")


@register_op
class EmitSpikeOp(BodyOp):
    """``kernel.emit_spike @G._spikespace, %i if %m``: appends index i (when m) to the spike list;
    within a launch the list ends up in increasing element order."""

    name = "kernel.emit_spike"
    traits = frozenset({Trait.SIDE_EFFECT})

    def __init__(self, spike_list: str | SymbolRef, index: Value, mask: Value | None = None):
        super().__init__([index] + ([mask] if mask is not None else []), (), {"spike_list": symbol_ref(spike_list)})

    @property
    def spike_list(self) -> SymbolRef:
        return self.attributes["spike_list"]

    @property
    def index(self) -> Value:
        return self.operands[0]

    @property
    def mask(self) -> Value | None:
        return self.operands[1] if len(self.operands) > 1 else None

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[self.spike_list, self.index], mask=self.mask)

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "EmitSpikeOp":
        parsed.expect_item_count(2)
        parsed.expect_types(0)
        spike_list = parsed.item(0, SymbolRef, "the spike list @name")
        index = parsed.item(1, Value, "the index to emit")
        operands = [index] + ([parsed.mask] if parsed.mask is not None else [])
        return cls.create(operands, (), {"spike_list": spike_list})

    def verify(self, ctx: VerifyContext) -> None:
        from spikec.ir.index_spaces import verify_spike_list  # index spaces build on these ops

        ctx.require(len(self.operands) in (1, 2) and not self.results, self, "takes an index and a mask")
        verify_spike_list(ctx, self, self.attributes.get("spike_list"))
        ctx.require(self.index.type in INDEX_TYPES, self, f"index must be i32 or i64, not {self.index.type}")
        ctx.require(self.mask is None or self.mask.type is Type.BOOL, self, "mask must be bool")
