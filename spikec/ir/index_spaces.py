"""Index spaces: which element indices a kernel's body runs for, and in which order.

A kernel names its index space in its ``space`` attribute, spelled as a call attribute:

    elements(100)               -- every element 0..99 of a group of 100, in increasing order
    spikes(@G._spikespace)      -- this step's spiking neurons listed in a spike list array
    outgoing(@G._spikespace, @S._pre_offsets, @S._pre_synapses)
                                -- the synapses of each spiking source (push propagation)
    segments(@S._post_offsets, @S._post_synapses, 100)
                                -- 100 independent segments, each run in order (pull propagation)

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

    def indices(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> np.ndarray:
        """The element indices the body runs for, in order (an int64 array), at `step` (only
        `history(...)` depends on it)."""
        raise NotImplementedError

    def rounds(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> list[np.ndarray]:
        """The indices split into rounds the interpreter runs one after the other, each round
        vectorised. One round for every space whose elements do not see each other's stores."""
        return [self.indices(arrays, step)]

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

    def indices(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> np.ndarray:
        return np.arange(self.size, dtype=np.int64)


@dataclass(frozen=True)
class SpikeListSpace(IndexSpace):
    """Base of the spaces spelled ``kind(@G._spikespace)``: one spike list, read and checked."""

    spike_list: SymbolRef

    def arrays(self) -> tuple[SymbolRef, ...]:
        return (self.spike_list,)

    def verify(self, ctx: VerifyContext, op: Op) -> None:
        verify_spike_list(ctx, op, self.spike_list)


@register_index_space
@dataclass(frozen=True)
class Spikes(SpikeListSpace):
    """``spikes(@G._spikespace)``: the indices in entries 0..count-1 of a spike list, count being
    its last entry."""

    kind: ClassVar[str] = "spikes"

    def indices(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> np.ndarray:
        spikes = arrays[self.spike_list.name]
        count = int(spikes[-1])
        if not 0 <= count < len(spikes):
            raise ValueError(f"spike list {self.spike_list} holds count {count}, "
                             f"outside 0..{len(spikes) - 1}")
        return spikes[:count].astype(np.int64)


def _csr_rows(offsets: np.ndarray, items: np.ndarray, rows: np.ndarray, what: str) -> list[np.ndarray]:
    """`items[offsets[r]:offsets[r+1]]` for each row r in `rows`, checked."""
    if len(rows) and (rows.min() < 0 or rows.max() + 1 >= len(offsets)):
        raise ValueError(f"{what}: a row index is outside 0..{len(offsets) - 2}")
    starts, ends = offsets[rows].astype(np.int64), offsets[rows + 1].astype(np.int64)
    if np.any(starts > ends) or (len(ends) and ends.max() > len(items)):
        raise ValueError(f"{what}: offsets are not increasing or exceed {len(items)} items")
    return [items[a:b].astype(np.int64) for a, b in zip(starts, ends)]


@register_index_space
@dataclass(frozen=True)
class Outgoing(IndexSpace):
    """``outgoing(@G._spikespace, @S._pre_offsets, @S._pre_synapses)``: for each spiking source k
    (in spike-list order), the items `items[offsets[k]:offsets[k+1]]` in order: the synapses
    of the step's spikes, for push propagation. Elements do not see each other's stores (as in
    every one-round space): effects on shared targets must be atomic adds."""

    kind: ClassVar[str] = "outgoing"
    spike_list: SymbolRef
    offsets: SymbolRef
    items: SymbolRef

    def arrays(self) -> tuple[SymbolRef, ...]:
        return (self.spike_list, self.offsets, self.items)

    def verify(self, ctx: VerifyContext, op: Op) -> None:
        spikes = verify_spike_list(ctx, op, self.spike_list)
        offsets = _verify_index_array(ctx, op, self.offsets, "offsets")
        _verify_index_array(ctx, op, self.items, "items")
        ctx.require(offsets.length == spikes.length, op,
                    f"{self.offsets} needs one entry per source plus one ({spikes.length}), "
                    f"not {offsets.length}")

    def indices(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> np.ndarray:
        sources = Spikes(self.spike_list).indices(arrays)
        rows = _csr_rows(arrays[self.offsets.name], arrays[self.items.name], sources,
                         f"outgoing({self.offsets})")
        return np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)


@register_index_space
@dataclass(frozen=True)
class Segments(IndexSpace):
    """``segments(@S._post_offsets, @S._post_synapses, N)``: N segments, segment g being
    `items[offsets[g]:offsets[g+1]]`. Segments are independent; within a segment the elements run
    strictly in order, each seeing the stores of the ones before it (a target's incoming synapses
    in synapse order: pull propagation of effects that are not commutative). The interpreter runs
    round r on the r-th element of every segment; elements of different segments must not touch
    the same place (each segment owns its target)."""

    kind: ClassVar[str] = "segments"
    offsets: SymbolRef
    items: SymbolRef
    count: int

    def arrays(self) -> tuple[SymbolRef, ...]:
        return (self.offsets, self.items)

    def verify(self, ctx: VerifyContext, op: Op) -> None:
        offsets = _verify_index_array(ctx, op, self.offsets, "offsets")
        _verify_index_array(ctx, op, self.items, "items")
        ctx.require(isinstance(self.count, int) and not isinstance(self.count, bool)
                    and self.count >= 0, op, "segments(...) needs a non-negative segment count")
        ctx.require(offsets.length == self.count + 1, op,
                    f"{self.offsets} needs count + 1 = {self.count + 1} entries, "
                    f"not {offsets.length}")

    def _segments(self, arrays: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        return _csr_rows(arrays[self.offsets.name], arrays[self.items.name],
                         np.arange(self.count, dtype=np.int64), f"segments({self.offsets})")

    def indices(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> np.ndarray:
        segments = self._segments(arrays)
        return np.concatenate(segments) if segments else np.zeros(0, dtype=np.int64)

    def rounds(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> list[np.ndarray]:
        segments = self._segments(arrays)
        longest = max((len(s) for s in segments), default=0)
        return [np.array([s[r] for s in segments if len(s) > r], dtype=np.int64)
                for r in range(longest)]


def _verify_index_array(ctx: VerifyContext, op: Op, ref: object, what: str) -> ArrayOp:
    array = ctx.symbol(op, ref, ArrayOp, "an array")
    assert isinstance(array, ArrayOp)
    ctx.require(array.element_type.is_index, op, f"{what} array {ref} must hold i32 or i64")
    return array


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


# The spike-history spaces build on the ones above; importing them here registers them wherever
# index spaces are parsed.
from spikec.ir import history_spaces  # noqa: E402,F401  (registration)
