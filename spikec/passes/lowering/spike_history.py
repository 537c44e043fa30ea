"""The `spike-history` lowering of a pathway with per-synapse delays (docs/propagation.md): an
O(events) alternative to the spike queue for effects that do not depend on the synapses' order.

Three kernels in the pathway's slot, R = round(max_delay/dt) + 1 and N the trigger group's size:

* `S.<p>_record_count` over `elements(1)` and `S.<p>_record` over `positions(spikes)` copy the
  step's spike list into row (step mod R) of `S._<p>_history` (i32, R x (N + 1), the count
  last): O(spikes). Two kernels because the count must be written when nobody spiked too.
* `S.<p>_history` over `history(@S._<p>_history, @S._<p>_bundle_offsets,
  @S._<p>_bundle_synapses, R)` runs the code (event-driven updates included) for each synapse
  due now: for each age d, the neurons recorded d steps ago, the synapses of their bundle
  (neuron, d). The bundles are filled by the runtime (`spikec.runtime.connectivity.
  history_bundles`, from the delays, as the spike queue's table). Accumulations on neuron
  variables become atomic adds, as in push-atomic.

Cost per step O(R + R x spikes per step + due synapses), against the spike queue's O(M); memory
R x (N + 1) i32 of history and N x R + 1 i32 of bundle offsets (the spike queue: R x N i64).
"""

from __future__ import annotations

from spikec.ir import model
from spikec.ir.attributes import SymbolRef
from spikec.ir.history_spaces import History, Positions
from spikec.ir.index_spaces import Elements
from spikec.ir.kernel import LaunchOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import AddOp, LoadOp, ModOp, MulOp, StepOp, StoreOp
from spikec.ir.types import Type
from spikec.passes.lowering.delayed_pathways import ring_rows


def lower_spike_history(lowering, pathway: model.PathwayOp, spikes: str, trigger, code
                        ) -> list[LaunchOp]:
    """The record kernels and the history kernel of `pathway` (module docstring); returns their
    launches, in order."""
    name = pathway.sym_name
    rows, width = ring_rows(lowering, pathway), trigger.size + 1
    history = f"{lowering.name}._{name}_history"
    offsets = f"{lowering.name}._{name}_bundle_offsets"
    items = f"{lowering.name}._{name}_bundle_synapses"
    lowering.arrays += [ArrayOp(history, Type.I32, rows * width),
                        ArrayOp(offsets, Type.I32, trigger.size * rows + 1),
                        ArrayOp(items, Type.I32, lowering.size)]
    launches = []
    for suffix, space, entry in ((f"{name}_record_count", Elements(1), trigger.size),
                                 (f"{name}_record", Positions(SymbolRef(spikes)), None)):
        kernel, emitter = lowering._kernel(suffix, space)
        body = kernel.body
        row = body.add(ModOp(body.add(StepOp()), emitter.constant(rows, Type.I64)))
        start = body.add(MulOp(row, emitter.constant(width, Type.I64)))
        position = kernel.index if entry is None else emitter.constant(entry, Type.I64)
        value = body.add(LoadOp(spikes, position, Type.I32))
        body.append(StoreOp(history, body.add(AddOp(start, position)), value))
        lowering.kernels.append(kernel)
        launches.append(lowering._launch(kernel, emitter))
    space = History(SymbolRef(history), SymbolRef(offsets), SymbolRef(items), rows)
    kernel, emitter = lowering._push_body(f"{name}_history", space, name, code)
    lowering.kernels.append(kernel)
    launches.append(lowering._launch(kernel, emitter))
    return launches


__all__ = ["lower_spike_history"]
