"""`DependencyGraph` of a kernel-IR module: which kernel reads and writes which array, where.

The model-IR graph (`spikec/passes/dependencies.py`) describes code blocks before lowering; after
`lower-to-kernels` the model IR is gone and what runs is the step's schedule. This builder fills the
same `DependencyGraph` (same nodes, `Access` records and queries) from the kernel IR, so that
`schedule`, `fuse-kernels` and race detection keep asking one analysis, at the level they work on.

Blocks: each kernel (`kind = "kernel"`, printed with its name, `G.stateupdate`; every launch of the
kernel maps to it with `block_of(launch)`) and each spike list some `kernel.clear_spikes` empties
(`kind = "clear_spikes"`, printed `G._spikespace.clear`). Arrays: the module's arrays (`G.v`,
`S._pre_offsets`, `G._spikespace`). Indices, the kernel-level counterparts of the model's `own`,
`synapse`, `pre`, `post`, `shared`:

    own       the body's index argument itself: element i of elements(N), the neuron of a
              spikes(@L) entry, the synapse of outgoing/segments (what `elements` kernels and
              resets of one group share)
    shared    an index every iteration shares (a constant, or a value of the invariants region)
    indirect  any other computed index (a synapse's neuron, a ring buffer row, a monitor slot)
    append    `kernel.emit_spike` of the element itself: the list's next free entry and count
    space     arrays the kernel's index space reads to find its indices (a spike list's entries
              and count, CSR offsets and items)
    count     a `clear_spikes` setting a list's count to zero

`statement` is the op's position in the kernel body (None for space reads and clears); a store
writes with operator `=`, an atomic add with `+=`, an emitted spike with `emit`. Rewriting the
mapping between the two levels (kernel `own` is the model's `own` for group kernels and `synapse`
for synaptic ones; the model's `pre`/`post` become `indirect` loads through `S._pre`/`S._post`) is
what lowering does, so deriving the kernel graph from the kernels, not translating the model's, keeps
it exact after every kernel-level pass (fusion, forwarding, dce).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from spikec.ir.core import Module, OpResult, Value
from spikec.ir.kernel import ClearSpikesOp, KernelOp, LaunchOp, kernels, schedule
from spikec.ir.kernel_ops import AtomicAddOp, ConstantOp, EmitSpikeOp, LoadOp, StoreOp

if TYPE_CHECKING:
    from spikec.passes.dependencies import Access, ArrayNode, BlockNode, DependencyGraph

KERNEL_INDICES = ("own", "shared", "indirect", "append", "space", "count")


def is_kernel_module(module: Module) -> bool:
    """Whether `module` is kernel IR (it has kernels or a schedule), not model IR."""
    return any(op.name in ("kernel.kernel", "kernel.schedule") for op in module.ops)


def array_node(name: str) -> "ArrayNode":
    """`G.v` as an ArrayNode (owner `G`, name `v`); a name without a dot is its own owner."""
    from spikec.passes.dependencies import ArrayNode
    owner, dot, rest = name.partition(".")
    return ArrayNode(owner, rest) if dot else ArrayNode(name, "")


def kernel_block(name: str, kind: str = "kernel") -> "BlockNode":
    from spikec.passes.dependencies import BlockNode
    owner, dot, rest = name.partition(".")
    return BlockNode(kind, owner, rest if dot else "")


def index_kind(kernel: KernelOp, index: Value) -> str:
    """`own`, `shared` or `indirect` (see the module docstring) for an access at `index`."""
    if index is kernel.index:
        return "own"
    if isinstance(index, OpResult) and (isinstance(index.op, ConstantOp)
                                        or index.op.parent is kernel.invariants):
        return "shared"
    return "indirect"


def kernel_accesses(kernel: KernelOp, block: "BlockNode | None" = None) -> list["Access"]:
    """Every access of one kernel (its space's reads, then its body's loads, stores, atomic adds
    and emitted spikes in order). Used for the graph and for kernels made after it was built."""
    from spikec.passes.dependencies import Access
    block = block or kernel_block(kernel.kernel_name)
    found = [Access(block, array_node(ref.name), "space", "read") for ref in kernel.space.arrays()]
    for position, op in enumerate(kernel.body.ops):
        if isinstance(op, LoadOp):
            found.append(Access(block, array_node(op.array.name), index_kind(kernel, op.index),
                                "read", None, position))
        elif isinstance(op, (StoreOp, AtomicAddOp)):
            operator = "=" if isinstance(op, StoreOp) else "+="
            found.append(Access(block, array_node(op.array.name), index_kind(kernel, op.index),
                                "write", operator, position))
        elif isinstance(op, EmitSpikeOp):
            at = "append" if op.index is kernel.index else "indirect"
            found.append(Access(block, array_node(op.spike_list.name), at, "write", "emit",
                                position))
    return found


def build_kernel_graph(module: Module, graph: "DependencyGraph") -> None:
    """Fill `graph` with the kernels, the cleared spike lists and their accesses."""
    from spikec.passes.dependencies import Access
    for kernel in kernels(module):
        block = kernel_block(kernel.kernel_name)
        graph._add_block(block, kernel)
        for access in kernel_accesses(kernel, block):
            graph._add_access(access)
    step = schedule(module)
    for op in step.step.ops if step is not None else ():
        if isinstance(op, LaunchOp):
            kernel = module.lookup(op.kernel)
            graph._ops[id(op)] = graph.block_of(kernel)
        elif isinstance(op, ClearSpikesOp):
            block = kernel_block(op.spike_list.name, "clear_spikes")
            graph._add_block(block, op)
            graph._ops[id(op)] = block
            graph._add_access(Access(block, array_node(op.spike_list.name), "count", "write", "="))
