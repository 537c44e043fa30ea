"""The loops of a kernel over ``history(@history, @offsets, @items, R)`` (spikec.ir.history_spaces),
for every target: the ages d = R-1 down to 0 in turn, and within an age the positions of the
spike list recorded d steps ago, strided like any space's positions (0/1 on the CPU, the global
thread id / grid size on the GPU), each running its bundle's synapses in order:

    for (i = 0; i < R; i++) { d = R - 1 - i; s = step - d; if (s < 0) continue;
      row = history + (s mod R) * (N + 1); n = row[N];
      for (p = start; p < n; p += stride) { b = row[p] * R + d;
        for (j = offsets[b]; j < offsets[b + 1]; j++) body(items[j]); } }

Sequentially this is Brian's delivery order; on the GPU every thread takes part in every age, so
a step costs R count reads per thread plus the due synapses. A count, neuron or offsets outside
their ranges record an error and end the invocation, as for the other row spaces.
"""

from __future__ import annotations

from llvmlite import ir

from spikec.backends.lower_to_llvm import I64, MEMORY_TYPES, REGISTER_TYPES, for_range
from spikec.ir.history_spaces import History


def lower_history(lowering, exit_block: ir.Block) -> None:
    """Build the loops above in `lowering` (a `KernelLowering` after its prologue); the builder
    ends in the exit block."""
    builder, space = lowering.builder, lowering.kernel.space
    assert isinstance(space, History)
    history = lowering.plan.arrays[space.history.name]
    width = history.length // space.rows
    rows = ir.Constant(I64, space.rows)
    name = lowering.kernel.kernel_name
    with for_range(builder, ir.Constant(I64, 0), rows, ir.Constant(I64, 1), "age") as turn:
        age = builder.sub(ir.Constant(I64, space.rows - 1), turn, name="d")
        sent = builder.sub(lowering.step, age, name="sent")
        with builder.if_then(builder.icmp_signed(">=", sent, ir.Constant(I64, 0))):
            base = builder.mul(builder.urem(sent, rows), ir.Constant(I64, width))
            count = _load_index(lowering, space.history.name,
                                builder.add(base, ir.Constant(I64, width - 1)))
            with builder.if_then(builder.icmp_unsigned(">=", count, ir.Constant(I64, width)),
                                 likely=False):
                lowering.record_error(f"kernel @{name}: history({space.history}): a row holds "
                                      f"count {{value}}, outside 0..{width - 1}", count)
                builder.branch(exit_block)
            start, stride = lowering.hooks.element_range(builder)
            end = lowering.hooks.position_end(builder, count)
            with for_range(builder, start, end, stride, "spike") as position:
                neuron = _load_index(lowering, space.history.name, builder.add(base, position))
                with builder.if_then(builder.icmp_unsigned(">=", neuron,
                                                           ir.Constant(I64, width - 1)),
                                     likely=False):
                    lowering.record_error(f"kernel @{name}: history({space.history}): neuron "
                                          f"{{value}} is outside 0..{width - 2}", neuron)
                    builder.branch(exit_block)
                bundle = builder.add(builder.mul(neuron, rows), age, name="bundle")
                _bundle(lowering, bundle, exit_block)
    builder.branch(exit_block)
    builder.position_at_end(exit_block)
    builder.ret_void()


def _bundle(lowering, bundle: ir.Value, exit_block: ir.Block) -> None:
    """The body over `items[offsets[bundle]:offsets[bundle + 1]]`, in order."""
    builder, space = lowering.builder, lowering.kernel.space
    items = lowering.plan.arrays[space.items.name]
    low = _load_index(lowering, space.offsets.name, bundle)
    high = _load_index(lowering, space.offsets.name, builder.add(bundle, ir.Constant(I64, 1)))
    bad = builder.or_(builder.icmp_signed("<", low, ir.Constant(I64, 0)),
                      builder.or_(builder.icmp_signed(">", low, high),
                                  builder.icmp_signed(">", high, ir.Constant(I64, items.length))))
    with builder.if_then(bad, likely=False):
        lowering.record_error(f"kernel @{lowering.kernel.kernel_name}: history({space.offsets}): "
                              f"offsets of bundle {{value}} are not increasing or exceed "
                              f"{items.length} items", bundle)
        builder.branch(exit_block)
    with for_range(builder, low, high, ir.Constant(I64, 1), "synapse") as slot:
        item = builder.load(lowering.element_pointer(space.items.name, slot),
                            typ=MEMORY_TYPES[items.element_type])
        index_type = REGISTER_TYPES[lowering.kernel.index.type]
        lowering.values[lowering.kernel.index] = lowering.int_cast(item, index_type)
        lowering.lower_body()


def _load_index(lowering, array: str, index: ir.Value) -> ir.Value:
    """Element `index` of an index array, as i64 (the space's own arrays: indices in range by
    the verifier's lengths and the checks above)."""
    element_type = MEMORY_TYPES[lowering.plan.arrays[array].element_type]
    value = lowering.builder.load(lowering.element_pointer(array, index), typ=element_type)
    return lowering.int_cast(value, I64)


__all__ = ["lower_history"]
