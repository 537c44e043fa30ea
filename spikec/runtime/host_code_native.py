"""Host code run as native code (`spikec.backends.host_code_llvm`) instead of by the interpreter.

`HostCode` builds the kernel of an assignment or expression and its arrays; on the cpu and cuda
devices (`HostCode(..., compiled=True)`, what `HostCodeRunner` asks for) it comes here first. The
interpreter stays the reference: what it computes is what this must compute, and it runs whatever
does not come through here, for a reason kept in `statistics` and on the `HostCode`:

* fewer than `MIN_ELEMENTS` elements: compiling (tens of ms on a cold cache) costs more than
  interpreting a small group (docs/performance.md, "Set-up: compiled host code");
* a kernel `host_code_llvm.unsupported` refuses (an op without a lowering);
* an array accessed at the element's own index shorter than the elements (the interpreter raises
  its index error);
* the native code recorded an error (an index out of range): the interpreter runs again on fresh
  arrays and raises its own message; if it does not raise, that is a bug here and is reported.

Same numbers: the same kernel with the same seed, stream (one per evaluation), step 0 and time
draws the same Philox words; uniforms and everything exact are bit for bit the interpreter's;
normals, and float32 math, go through libm's log/cos (or expf...) where numpy may use its own
SIMD code: equal where those agree (glibc and numpy on AVX2 do), else within an ulp or two.

Threads: when the kernel's elements are independent (`cpu_threads.splittable`), the elements are
split into contiguous ranges run by a pool of threads (ctypes releases the GIL), as connect's
walk; $SPIKEC_CPU_THREADS caps them, as everywhere on the CPU.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from spikec.backends import cpu_threads
from spikec.backends.abi import STATE_ERROR, evaluate_invariants
from spikec.backends.host_code_llvm import (HostCodeProgram, compile_host_code, own_index_arrays,
                                            unsupported)
from spikec.ir.core import Module
from spikec.ir.kernel import KernelOp

MIN_ELEMENTS = 1 << 14       # below this, the interpreter (the break-even, docs/performance.md)
PARALLEL_ELEMENTS = 1 << 16  # below this, one thread


@dataclass
class NativeStatistics:
    """How host code ran in this process: natively, or interpreted and why (an explicit object,
    for benchmarks and tests)."""

    compiled: int = 0
    interpreted: Counter = field(default_factory=Counter)

    def record(self, reason: str | None) -> None:
        if reason is None:
            self.compiled += 1
        else:
            self.interpreted[reason] += 1


statistics = NativeStatistics()


@dataclass
class Outcome:
    """What `run_native` did: `reason` is None when it ran the kernel, else why it did not;
    `wrote` says whether it wrote into the arrays before giving up (they must be fetched again)."""

    reason: str | None
    wrote: bool = False


def run_native(module: Module, kernel: KernelOp, arrays: Mapping[str, np.ndarray],
               launch_args: Mapping[str, object], seed: int, stream: int, time: float,
               min_elements: int | None = None) -> Outcome:
    """Run `kernel` of `module` over `arrays` (in place) as the interpreter's launch at step 0
    and `time` would, with `seed` and `stream`; or say why not (module docstring).
    `min_elements`: the size below which it does not compile (default `MIN_ELEMENTS`)."""
    min_elements = MIN_ELEMENTS if min_elements is None else min_elements
    outcome = _run(module, kernel, arrays, launch_args, seed, stream, time, min_elements)
    statistics.record(outcome.reason)
    return outcome


def _run(module: Module, kernel: KernelOp, arrays: Mapping[str, np.ndarray],
         launch_args: Mapping[str, object], seed: int, stream: int, time: float,
         min_elements: int) -> Outcome:
    size = kernel.space.size
    if size < min_elements:
        return Outcome(f"fewer than {min_elements} elements")
    refused = unsupported(kernel)
    if refused is not None:
        return Outcome(refused)
    short = sorted(name for name in own_index_arrays(kernel) if len(arrays[name]) < size)
    if short:
        return Outcome(f"{short[0]} is shorter than the {size} elements")
    program = compile_host_code(module)
    invariants = evaluate_invariants(kernel, launch_args)
    table = program.table(arrays)
    parameters = program.pack(invariants)
    state = program.state(seed, stream, time, arrays)
    states = _run_ranges(program, table, parameters, state, size,
                         cpu_threads.splittable(kernel, cpu_threads.GRAIN))
    if any(s[STATE_ERROR] for s in states):
        return Outcome("the native code recorded an error", wrote=True)
    return Outcome(None)


def _run_ranges(program: HostCodeProgram, table: np.ndarray, parameters: np.ndarray,
                state: np.ndarray, size: int, splittable: bool) -> list[np.ndarray]:
    """Run positions 0..size-1, in contiguous ranges on several threads when allowed; the state
    words of each range."""
    threads = cpu_threads.requested_threads(None) or cpu_threads.available_cores()
    if not splittable or threads == 1 or size < PARALLEL_ELEMENTS:
        return [program.run(table, parameters, state, 0, size)]
    grain = cpu_threads.GRAIN
    chunk = -(-size // threads)
    chunk = -(-chunk // grain) * grain  # threads do not share cache lines
    ranges = [(start, min(start + chunk, size)) for start in range(0, size, chunk)]
    with ThreadPoolExecutor(len(ranges) - 1) as pool:  # the first range on this thread
        others = [pool.submit(program.run, table, parameters, state, *r) for r in ranges[1:]]
        first = program.run(table, parameters, state, *ranges[0])
        return [first] + [future.result() for future in others]
