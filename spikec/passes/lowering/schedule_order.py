"""Brian's schedule: the order in which the operations of one time step run.

Slots `start, groups, thresholds, synapses, resets, end`, each with `before_`/`after_` variants;
within a slot, operations run by their `order`, then by name (as Brian's `Network` sorts them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SLOTS = ("start", "groups", "thresholds", "synapses", "resets", "end")


def slot_key(when: str) -> tuple[int, int]:
    """Position of a `when` value: its slot, then -1 / 0 / +1 for before_ / plain / after_."""
    for prefix, offset in (("before_", -1), ("after_", 1)):
        if when.startswith(prefix) and when[len(prefix):] in SLOTS:
            return SLOTS.index(when[len(prefix):]), offset
    if when in SLOTS:
        return SLOTS.index(when), 0
    raise ValueError(f"unknown schedule slot {when!r}; use one of {', '.join(SLOTS)}, "
                     "optionally with before_ or after_")


@dataclass(order=True)
class ScheduledItem:
    """Something to put in the step: sorted by (slot, order, name, part) — `part` keeps the
    pieces of one operation (clear the spike list, find spikes) in their own order."""

    slot: tuple[int, int]
    order: int
    name: str
    part: int
    ops: list[Any] = field(compare=False)
