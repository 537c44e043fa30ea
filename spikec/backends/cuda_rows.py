"""How the GPU maps the rows of `outgoing(...)` kernels (push propagation) onto threads.

One thread per spiking source walking its row in order makes a push launch as long as the longest
row: ~200 us per step for rows of 1000 synapses on the H100, whatever the number of spikes
(docs/performance.md, "Push propagation on the GPU"). Where the order inside a row does not matter
(`spikec.backends.row_order`), a row goes to a group of L consecutive threads instead: lane l runs
elements offsets[r] + l, + 2L, ..., so a row of K elements takes ceil(K / L) iterations and the
group's loads of items and synaptic variables are coalesced. L is a power of two from 32 (a warp
per source) to the block (256: a block per source), chosen from the mean row length, so that short
rows do not leave most of a block idle and long ones are cut into few iterations.

`segments(...)` kernels keep a thread per segment: they are the ordered strategies (pull-ordered,
spike-queue, summed variables), and have as many rows as targets, which already fills the GPU.

An `outgoing` launch has a position per spike of the step, far fewer than the spike list's
capacity in a normal step, so its grid stops at the blocks the GPU holds at once and the groups
stride over the spikes (a grid sized to capacity x L would be mostly blocks that find no work).
"""

from __future__ import annotations

import os

from llvmlite import ir

from spikec.backends.abi import ModulePlan
from spikec.backends.lower_to_llvm import I64
from spikec.backends.row_order import rows_may_split
from spikec.errors import SpikecError
from spikec.ir.index_spaces import Outgoing
from spikec.ir.kernel import KernelOp

WARP = 32
MAX_LANES = 256              # a group is at most one block (`cuda_codegen.BLOCK`, a multiple of it)
# SPIKEC_CUDA_ROW_LANES forces L for every order-free outgoing kernel ("1" = the sequential walk,
# for measurements); "auto" or unset: `choose_lanes`.
ENVIRONMENT = "SPIKEC_CUDA_ROW_LANES"
AUTO = "auto"


def parse_row_lanes(value: int | str | None) -> int | str:
    """`value` (an option, else the environment variable) as a lane count or "auto"."""
    if value is None:
        value = os.environ.get(ENVIRONMENT) or AUTO
    if value == AUTO:
        return AUTO
    try:
        lanes = int(value)
    except (TypeError, ValueError):
        lanes = 0
    if lanes < 1 or lanes > MAX_LANES or lanes & (lanes - 1):
        raise SpikecError(f"row lanes must be 'auto' or a power of two from 1 to {MAX_LANES}, not {value!r}",
                          hint=f"set {ENVIRONMENT} or the executable's row_lanes= option")
    return lanes


def choose_lanes(mean_row_length: float) -> int:
    """L for rows of this mean length (over all rows of the offsets): the power of two at or above
    4 x the mean, between a warp and a block. Measured on the H100 (docs/performance.md): a block
    per source is fastest for rows of 80-1000 synapses (an idle lane costs less than another
    iteration, ~1 us of latency each), 32-64 lanes for rows of 10 with thousands of spikes per
    step (256 lanes per row then queue for the resident grid: 48.5 against 38.3 us per step).
    4x, because a pathway's rows can be much longer than the mean over the group's rows: CUBA's
    inhibitory pathway has 80 synapses on each of a fifth of the sources, a mean of 16."""
    lanes = WARP
    while lanes < MAX_LANES and lanes < 4 * mean_row_length:
        lanes *= 2
    return lanes


def row_lanes(plan: ModulePlan, kernel: KernelOp, setting: int | str) -> int:
    """Threads per row of `kernel` on the GPU: 1 unless it is an `outgoing` kernel whose rows
    may split; then the forced setting or `choose_lanes` of its mean out-degree."""
    space = kernel.space
    if not isinstance(space, Outgoing) or not rows_may_split(kernel):
        return 1
    if setting != AUTO:
        return int(setting)
    rows = max(1, plan.arrays[space.offsets.name].length - 1)
    return choose_lanes(plan.arrays[space.items.name].length / rows)


def lane_range(builder: ir.IRBuilder, thread: ir.Value, threads: ir.Value,
               lanes: int) -> tuple[ir.Value, ir.Value, ir.Value]:
    """(group, groups, lane) of global thread `thread` among `threads`, groups of `lanes` (a power
    of two, so the divisions are shifts and masks)."""
    size = ir.Constant(I64, lanes)
    return builder.udiv(thread, size), builder.udiv(threads, size), builder.urem(thread, size)
