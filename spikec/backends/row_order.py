"""Whether the elements of one row of a row space may run in any order, decided from the kernel body.

A row space (`outgoing(...)`, `segments(...)`) runs, per row, the row's elements; the sequential
lowering walks them in order, one invocation per row. A target that spreads a row over several
threads (the GPU's lanes, `spikec.backends.cuda_rows`) may do so only where no element can see or
overwrite what another element of the row did. With the row's items distinct (a CSR of synapse
indices lists each synapse once; the lowering of synapses builds them so), that holds when every
array the body writes is either

* touched only at the element's own index (loads, stores and atomic adds at ``%i``, the body's
  argument: a synaptic variable, written by its own synapse), or
* only atomically added to, at any index and never loaded or stored (an accumulation onto the
  targets: additions commute, up to the rounding of float atomics the GPU already has between
  rows),

and the body emits no spike (a spike list's order is element order). Anything else keeps the
sequential walk: a store at another index (`x_pre = ...`: the row's last element wins), a load of
an array that other elements write (a read after their write), a store and an atomic add to one
array. The arrays of the space itself (spike list, offsets, items) count as read at other indices.

This is what Brian's `permutation_analysis` asks of the synapses of one source; `select-propagation`
already keeps order-dependent effects out of `outgoing` kernels (push-atomic and the dendritic
ring's send are accumulations plus own-synapse writes), so here it is a check, not a choice.
"""

from __future__ import annotations

from spikec.ir.index_spaces import Outgoing, Segments
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_ops import AtomicAddOp, EmitSpikeOp, LoadOp, StoreOp


def row_order_dependence(kernel: KernelOp) -> str | None:
    """None when the elements of a row of `kernel` may run in any order (and concurrently), else
    why not, naming the op. Kernels over other spaces have no rows: always a reason."""
    if not isinstance(kernel.space, (Outgoing, Segments)):
        return f"{kernel.space.kind}(...) has no rows"
    own = kernel.index
    space_arrays = {ref.name for ref in kernel.space.arrays()}
    at_other: set[str] = set(space_arrays)      # arrays touched at an index other than own
    loaded_or_stored: set[str] = set(space_arrays)
    added: set[str] = set()
    for op in kernel.body.ops:
        if isinstance(op, EmitSpikeOp):
            return f"`{op.name}` into {op.spike_list} appends in element order"
        if isinstance(op, StoreOp) and op.index is not own:
            return f"`{op.name}` into {op.array} at another index than the element's: the last element wins"
        if isinstance(op, (LoadOp, StoreOp, AtomicAddOp)):
            name = op.array.name
            if op.index is not own:
                at_other.add(name)
            if isinstance(op, AtomicAddOp):
                added.add(name)
            else:
                loaded_or_stored.add(name)
    read_after_add = sorted(added & loaded_or_stored & at_other)
    if read_after_add:
        return (f"@{read_after_add[0]} is atomically added to and also loaded or stored: a read "
                "after another element's add")
    written = added | {op.array.name for op in kernel.body.ops if isinstance(op, StoreOp)}
    read_after_write = sorted((written - added) & at_other)  # the space's arrays are in at_other
    if read_after_write:
        return (f"@{read_after_write[0]} is written at the element's index and read at another: a "
                "read after another element's write")
    return None


def rows_may_split(kernel: KernelOp) -> bool:
    """Whether a target may spread each row of `kernel` over concurrent invocations."""
    return row_order_dependence(kernel) is None
