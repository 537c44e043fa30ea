"""The index spaces of the `spike-history` propagation (docs/propagation.md): a pathway with
per-synapse delays that keeps the last R steps' spike lists of its trigger group and, each step,
walks only the synapses whose events are due.

    positions(@G._spikespace)
        -- positions 0..count-1 of a spike list; the index is the position, not the neuron, so
           a kernel can copy the list (the record kernel writes it into a history row)
    history(@S._pre_history, @S._pre_bundle_offsets, @S._pre_bundle_synapses, R)
        -- at step t, for d = R-1 down to 0 (t - d >= 0), for each neuron k listed in history
           row (t - d) mod R, the synapses of bundle k*R + d (k's synapses whose delay is d
           steps): `items[offsets[k*R + d]:offsets[k*R + d + 1]]`

The history array holds R rows of N + 1 entries (N = the trigger group's size): row r is the
spike list recorded at a step s with s mod R = r (neurons at 0..count-1, count at entry N).
Sequentially, `history` visits a step's events in Brian's delivery order (earlier spikes, i.e.
longer delays, first; then spike order; then synapse number within a bundle). Its elements do
not see each other's stores (one round, as `outgoing`): effects on neuron variables must be
atomic adds, which is what `select-propagation` allows it for. A synapse has one delay, so it is
due at most once per step: writes of its own variables never meet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Mapping

import numpy as np

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Op
from spikec.ir.index_spaces import (IndexSpace, SpikeListSpace, Spikes, _verify_index_array,
                                    register_index_space)
from spikec.ir.verify import VerifyContext


@register_index_space
@dataclass(frozen=True)
class Positions(SpikeListSpace):
    """``positions(@G._spikespace)``: indices 0..count-1, the positions of a spike list's
    entries (the list's count is its last entry). Not a `Spikes`: its index is no neuron."""

    kind: ClassVar[str] = "positions"

    def indices(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> np.ndarray:
        return np.arange(len(Spikes(self.spike_list).indices(arrays)), dtype=np.int64)


@register_index_space
@dataclass(frozen=True)
class History(IndexSpace):
    """``history(@history, @offsets, @items, R)``: the synapses due at this step, from the spike
    lists of the last R steps (module docstring)."""

    kind: ClassVar[str] = "history"
    history: SymbolRef
    offsets: SymbolRef
    items: SymbolRef
    rows: int

    def arrays(self) -> tuple[SymbolRef, ...]:
        return (self.history, self.offsets, self.items)

    def verify(self, ctx: VerifyContext, op: Op) -> None:
        ctx.require(isinstance(self.rows, int) and not isinstance(self.rows, bool)
                    and self.rows >= 1, op, "history(...) needs a row count R >= 1")
        history = _verify_index_array(ctx, op, self.history, "history")
        offsets = _verify_index_array(ctx, op, self.offsets, "offsets")
        _verify_index_array(ctx, op, self.items, "items")
        ctx.require(history.length % self.rows == 0 and history.length >= self.rows, op,
                    f"{self.history} needs R = {self.rows} rows of N + 1 entries, not "
                    f"{history.length} entries")
        width = history.length // self.rows
        ctx.require(offsets.length == (width - 1) * self.rows + 1, op,
                    f"{self.offsets} needs one entry per (neuron, delay) bundle plus one "
                    f"({(width - 1) * self.rows + 1}), not {offsets.length}")

    def indices(self, arrays: Mapping[str, np.ndarray], step: int = 0) -> np.ndarray:
        history = arrays[self.history.name]
        offsets, items = arrays[self.offsets.name], arrays[self.items.name]
        width = len(history) // self.rows
        parts = []
        for delay in range(min(self.rows - 1, step), -1, -1):
            row = history[(step - delay) % self.rows * width:][:width]
            count = int(row[-1])
            if not 0 <= count < width:
                raise ValueError(f"history({self.history}): row of step {step - delay} holds "
                                 f"count {count}, outside 0..{width - 1}")
            bundles = row[:count].astype(np.int64) * self.rows + delay
            if len(bundles) and (bundles.min() < 0 or bundles.max() + 1 >= len(offsets)):
                raise ValueError(f"history({self.history}): a neuron is outside 0..{width - 2}")
            starts, ends = offsets[bundles].astype(np.int64), offsets[bundles + 1].astype(np.int64)
            if np.any(starts > ends) or (len(ends) and ends.max() > len(items)):
                raise ValueError(f"history({self.offsets}): offsets are not increasing or "
                                 f"exceed {len(items)} items")
            parts += [items[a:b].astype(np.int64) for a, b in zip(starts, ends)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


__all__ = ["History", "Positions"]
