"""The connectivity arrays of a `Synapses` object, as the propagation kernels index them.

`connectivity_arrays(S)` returns, by name (the kernel IR's array is `<S.name>.<name>`):

| name              | type | length     | contents                                                  |
|-------------------|------|------------|-----------------------------------------------------------|
| `_pre`            | i32  | M          | source neuron of synapse s                                |
| `_post`           | i32  | M          | target neuron of synapse s                                |
| `_pre_offsets`    | i32  | N_pre + 1  | source k's synapses are `_pre_synapses[o[k]:o[k+1]]`      |
| `_pre_synapses`   | i32  | M          | synapse numbers grouped by source, by target then number  |
| `_post_offsets`   | i32  | N_post + 1 | target k's synapses are `_post_synapses[o[k]:o[k+1]]`     |
| `_post_synapses`  | i32  | M          | synapse numbers grouped by target, by source then number  |

M is the number of synapses (< 2**31, checked by `connect`). Within a target's group the
synapses are ordered by source, then number: Brian's spike queue delivers a step's events source
by source (in spike order, i.e. increasing source index), each source's synapses by number, so a
target walking its group in this order (pull propagation, `segments(@S._post_offsets,
@S._post_synapses, N_post)`) applies non-commutative effects in Brian's order, even when several
`connect` calls interleaved the numbers. Symmetrically, a source's group is ordered by target
then number (on_post pathways). `outgoing(@G._spikespace, @S._pre_offsets, @S._pre_synapses)`
pushes each spiking source's synapses. With one `connect` call both orders are plain numbering.
`N_outgoing`/`N_incoming` of a neuron are differences of consecutive offsets.

A pathway with per-synapse delays lowered as a spike queue also reads `_<pathway>_queue` (i32, M,
`queue_order`): the synapses grouped like `_post_synapses` (an `on_pre` pathway; `_pre_synapses`
for one triggered by the target), ordered within a group by decreasing delay in steps, then
triggering neuron, then number: the order in which Brian's queue delivers one step's events
(events pushed earlier, i.e. with longer delays, first).
A pathway lowered as a spike history reads `_<pathway>_bundle_offsets` (i32, N_trigger x R + 1)
and `_<pathway>_bundle_synapses` (i32, M) (`history_bundles`): bundle k*R + d holds the synapses
of triggering neuron k (in the parent group's index space) whose delay is d steps, by number.
Memory: 16 bytes per synapse plus 4 bytes per source and per target neuron, besides the
synapses' own variables (8 bytes each per synapse in float64, 4 in float32).
"""

from __future__ import annotations

import numpy as np

from spikec.backends.counting_sort import counting_sort, key_counts
from spikec.frontend.subgroups import element_range
from spikec.frontend.synapses import Synapses
from spikec.frontend.variables import DELAY

CONNECTIVITY_ARRAYS = ("_pre", "_post", "_pre_offsets", "_pre_synapses", "_post_offsets",
                       "_post_synapses")


def grouped(indices: np.ndarray, count: int, then: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR of the synapse numbers 0..M-1 grouped by `indices` (a neuron per synapse), ordered
    within a group by `then` (the neuron at the other end), then by number: (offsets of length
    count + 1, synapse numbers). O(M): stable counting sorts (by `then` unless the numbers
    already follow it, then by `indices`), the order of `np.lexsort((numbers, then, indices))`."""
    counts, grouped_already, then_sorted = key_counts(indices, then, count)
    offsets = np.zeros(count + 1, dtype=np.int32)
    np.cumsum(counts, out=offsets[1:])
    if grouped_already:  # one connect call over i then j: the numbering is the order
        return offsets, np.arange(len(indices), dtype=np.int32)
    by_then = None
    if not then_sorted:
        then_counts, _, _ = key_counts(then, then, int(then.max()) + 1)
        then_starts = np.zeros(len(then_counts), dtype=np.int64)
        np.cumsum(then_counts[:-1], out=then_starts[1:])
        by_then = counting_sort(then, then_starts)
    return offsets, counting_sort(indices, offsets[:-1], by_then)


def connectivity_arrays(synapses: Synapses) -> dict[str, np.ndarray]:
    """The arrays of the table above for `synapses` (fresh numpy arrays)."""
    pre, post = synapses._pre, synapses._post
    pre_offsets, pre_synapses = grouped(pre, len(synapses.source), post)
    post_offsets, post_synapses = grouped(post, len(synapses.target), pre)
    return {"_pre": pre.astype(np.int32), "_post": post.astype(np.int32),
            "_pre_offsets": pre_offsets, "_pre_synapses": pre_synapses,
            "_post_offsets": post_offsets, "_post_synapses": post_synapses}


def queue_order(synapses: Synapses, pathway: str) -> np.ndarray:
    """`_<pathway>_queue` of the table above, for the pathway's current delays."""
    pre, post = synapses._pre, synapses._post
    values = synapses.values.read(DELAY if pathway == "pre" else f"{pathway}_delay")
    steps = np.round(np.asarray(values, dtype=np.float64) / synapses.clock.dt_seconds)
    written, trigger = (post, pre) if synapses.pathways[pathway].direction == "pre" else (pre, post)
    return np.lexsort((np.arange(len(pre)), trigger, -steps.astype(np.int64),
                       written)).astype(np.int32)


def history_bundles(synapses: Synapses, pathway: str, rows: int, trigger_start: int,
                    trigger_size: int) -> tuple[np.ndarray, np.ndarray]:
    """`_<pathway>_bundle_offsets` and `_<pathway>_bundle_synapses` of the table above, for
    the pathway's current delays: R = `rows` delays in steps (Brian's `np.round`, clamped to
    0..R-1 as the kernels clamp), triggering neurons shifted by `trigger_start` into a parent
    group of `trigger_size` neurons."""
    pre, post = synapses._pre, synapses._post
    values = synapses.values.read(DELAY if pathway == "pre" else f"{pathway}_delay")
    steps = np.round(np.asarray(values, dtype=np.float64) / synapses.clock.dt_seconds)
    steps = np.clip(steps.astype(np.int64), 0, rows - 1)
    trigger = pre if synapses.pathways[pathway].direction == "pre" else post
    bundle = (np.asarray(trigger, dtype=np.int64) + trigger_start) * rows + steps
    offsets = np.zeros(trigger_size * rows + 1, dtype=np.int32)
    np.cumsum(np.bincount(bundle, minlength=trigger_size * rows), out=offsets[1:])
    return offsets, np.argsort(bundle, kind="stable").astype(np.int32)


def fill_history_bundles(synapses: Synapses, pathway: str, arrays: dict[str, np.ndarray]) -> None:
    """Write `history_bundles` into `arrays` (by kernel-IR name) where the pathway is lowered as
    a spike history; R is read off the declared offsets (N_trigger x R + 1 entries)."""
    offsets = arrays.get(f"{synapses.name}._{pathway}_bundle_offsets")
    if offsets is None:
        return
    direction = synapses.pathways[pathway].direction
    parent, start, _ = element_range(synapses.source if direction == "pre" else synapses.target)
    rows = (len(offsets) - 1) // max(1, len(parent))
    offsets[...], arrays[f"{synapses.name}._{pathway}_bundle_synapses"][...] = history_bundles(
        synapses, pathway, max(1, rows), start, len(parent))
