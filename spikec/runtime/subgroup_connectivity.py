"""Connectivity of synapses between subgroups, in their parents' index space.

`Synapses(G[a:b], H[c:d])` keeps `S.i`/`S.j` relative to the subgroups (what the user sees and
connect code computes), and `connectivity_arrays` groups them over the subgroups' sizes. The
kernels, though, index the parents' arrays and spike lists (the model IR names the parent groups,
docs/model-ir.md), so the network writes the arrays shifted into the parents' range: `_pre`/`_post`
hold parent indices, and the offset tables get empty rows for the neurons outside the subgroup.
Every propagation strategy then works unchanged: a spike of a neuron outside the source's range
finds an empty row (push, the spike queue's and rings' sends), a pull segment of a target outside
the range has no synapses, and the synapse numbers (`_pre_synapses`, `_post_synapses`, queues)
do not move.
"""

from __future__ import annotations

import numpy as np

from spikec.frontend.subgroups import element_range
from spikec.frontend.synapses import Synapses


def in_parent_index_space(synapses: Synapses,
                          arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`arrays` (of `connectivity_arrays(synapses)`) with neuron indices and offset tables
    moved into the source's and target's parent groups (unchanged for whole groups)."""
    shifted = dict(arrays)
    for side, group in (("pre", synapses.source), ("post", synapses.target)):
        parent, start, stop = element_range(group)
        if (start, stop) == (0, len(parent)):
            continue
        shifted[f"_{side}"] = (arrays[f"_{side}"] + start).astype(np.int32)
        offsets = arrays[f"_{side}_offsets"]
        shifted[f"_{side}_offsets"] = np.concatenate([
            np.zeros(start, np.int32), offsets,
            np.full(len(parent) - stop, offsets[-1], np.int32)]).astype(np.int32)
    return shifted
