"""Index spaces: which element indices a kernel's body runs for, and in which order.

A kernel names its index space in its ``space`` attribute, spelled as a call attribute:

    elements(100)               -- every element 0..99 of a group of 100, in increasing order
    spikes(@G._spikespace)      -- this step's spiking neurons listed in a spike list array

(The spike list layout is in `spikec.ir.kernel_decls`.) An index space is a small frozen class
registered by its kind; later issues add synapse spaces (synapses of spiking neurons, targets of
a pathway, a queue slot) by subclassing `IndexSpace`: the kernel op, the parser, the printer and
the verifier need no change. `indices` gives the reference semantics the interpreter uses and the
backends reproduce: the body runs for each index it returns, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar, Mapping, TypeVar

import numpy as np

from spikec.ir.attributes import AttributeCodec, CallAttr, SymbolRef, format_attribute
from spikec.ir.core import Op
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.verify import VerifyContext

_SPACES: dict[str, type["IndexSpace"]] = {}
SpaceClass = TypeVar("SpaceClass", bound=type["IndexSpace"])


def register_index_space(cls: SpaceClass) -> SpaceClass:
    """Class decorator: make `cls` the index space spelled ``cls.kind(...)``."""
    _SPACES[cls.kind] = cls
    return cls


@dataclass(frozen=True)
class IndexSpace:
    """Base class: subclasses are frozen dataclasses whose fields are the call's arguments."""

    kind: ClassVar[str] = ""

    def to_attribute(self) -> CallAttr:
        return CallAttr(self.kind, tuple(getattr(self, f.name) for f in fields(self)))

    @classmethod
    def from_arguments(cls, args: tuple) -> "IndexSpace":
        """Build from the call's arguments; raise ValueError when they do not fit."""
        expected = len(fields(cls))
        if len(args) != expected:
            raise ValueError(f"{cls.kind}(...) takes {expected} argument(s), got {len(args)}")
        return cls(*args)

    def arrays(self) -> tuple[SymbolRef, ...]:
        """The arrays this space reads to find its indices."""
        return ()

    def verify(self, ctx: VerifyContext, op: Op) -> None:
        """Check the space's arguments against the module (referenced arrays exist...)."""

    def indices(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """The element indices the body runs for, in order (an int64 array)."""
        raise NotImplementedError

    def __str__(self) -> str:
        return format_attribute(self.to_attribute())


@register_index_space
@dataclass(frozen=True)
class Elements(IndexSpace):
    """``elements(N)``: indices 0, 1, ..., N-1."""

    kind: ClassVar[str] = "elements"
    size: int

    def verify(self, ctx: VerifyContext, op: Op) -> None:
        ctx.require(isinstance(self.size, int) and not isinstance(self.size, bool) and self.size >= 0,
                    op, f"elements(N) needs a non-negative integer N, not {self.size!r}")

    def indices(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.arange(self.size, dtype=np.int64)


@register_index_space
@dataclass(frozen=True)
class Spikes(IndexSpace):
    """``spikes(@G._spikespace)``: the indices in entries 0..count-1 of a spike list, count being
    its last entry."""

    kind: ClassVar[str] = "spikes"
    spike_list: SymbolRef

    def arrays(self) -> tuple[SymbolRef, ...]:
        return (self.spike_list,)

    def verify(self, ctx: VerifyContext, op: Op) -> None:
        verify_spike_list(ctx, op, self.spike_list)

    def indices(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        spikes = arrays[self.spike_list.name]
        count = int(spikes[-1])
        if not 0 <= count < len(spikes):
            raise ValueError(f"spike list {self.spike_list} holds count {count}, "
                             f"outside 0..{len(spikes) - 1}")
        return spikes[:count].astype(np.int64)


def verify_spike_list(ctx: VerifyContext, op: Op, ref: object) -> ArrayOp:
    """Check that `ref` names a spike list: an array of an index type with at least one entry."""
    array = ctx.symbol(op, ref, ArrayOp, "an array")
    assert isinstance(array, ArrayOp)
    ctx.require(array.element_type.is_index, op, f"spike list {ref} must hold i32 or i64, not {array.element_type}")
    ctx.require(array.length >= 1, op, f"spike list {ref} needs length N + 1 >= 1 (the count is last)")
    return array


def decode_index_space(value: object) -> IndexSpace:
    """The index space spelled by a call attribute (the parser's hook for ``space = ...``)."""
    if not isinstance(value, CallAttr):
        raise ValueError(f"an index space is spelled like elements(N), not {format_attribute(value)}")
    cls = _SPACES.get(value.name)
    if cls is None:
        raise ValueError(f"unknown index space {value.name!r}; known: {', '.join(sorted(_SPACES))}")
    return cls.from_arguments(value.args)


INDEX_SPACE_CODEC = AttributeCodec(encode=lambda space: space.to_attribute(), decode=decode_index_space)
