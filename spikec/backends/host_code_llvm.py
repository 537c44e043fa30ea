"""The native function behind compiled host code: `G.v = '...'`, `S.w['i > j'] = '...'` and the
expressions read from Python, over every element of a group, on the host.

`spikec.runtime.host_code` builds one kernel (`host_code`, over `elements(N)`) and its module; the
interpreter runs it as the reference. Here the same kernel is lowered with `lower_module` and the
kernels' `KernelLowering` (so host code has the semantics of every kernel), behind

    void @spikec_host_code(ptr %arrays, ptr %parameters, ptr %state)

`%arrays` holds the addresses of the arrays the kernel touches, in `abi.arrays` order;
`%parameters` one 8-byte slot per invariant the body uses (`kernel_parameters`, evaluated on the
host with the interpreter's semantics, `evaluate_invariants`), each in its memory type at the
slot's start; `%state` the int64 words below. The body runs for positions start..end-1, so threads
take ranges of one evaluation.

Everything that differs between evaluations of the same code is read at run time, so the text,
hence the compiled function, is shared by all of them (`spikec.backends.native`): the seed, the
stream (one per evaluation: `HostCode` counts them), the time (`t` after a run), the namespace's
constants (kernel arguments, so parameters), the element count and the arrays' lengths. The
microcircuit's weight and delay assignments (`clip(mean + sd*randn(), low, high)` per projection)
differ in all of these and compile once.

Index checks: an access at the element's own index is in range by the caller's check (every array
so accessed is at least `end` long); any other index is compared with the array's length from the
state and, out of range, records an error (the load reads element 0, the store is skipped), after
which the caller runs the interpreter to raise the reference's error.
"""

from __future__ import annotations

import ctypes
import functools
import struct
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from llvmlite import ir

from spikec.backends.abi import (STATE_CLOCKS, STATE_SEED, ModulePlan, kernel_parameters,
                                 symbol_name)
from spikec.backends.cache import CompileCache, default_cache
from spikec.backends.cpu import CpuHooks, host_target
from spikec.backends.lower_to_llvm import (F64, I32, I64, MEMORY_TYPES, VOID, KernelABI,
                                           KernelLowering, can_lower, kernel_abi, lower_module)
from spikec.backends.native import NativeFunction, compile_native
from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Module, Value
from spikec.ir.index_spaces import Elements
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_ops import (AtomicAddOp, EmitSpikeOp, LoadOp, RandNormalOp, RandUniformOp,
                                  StoreOp)
from spikec.ir.types import Type

FUNCTION = "spikec_host_code"
# State words: seed, error code, error value (`spikec.backends.abi`); the step of the launch's
# clock (always 0: host code draws at step 0, as the interpreter's launch); then these.
STATE_STREAM = STATE_CLOCKS + 1
STATE_TIME = STATE_CLOCKS + 2     # the time, as the bits of a float64
STATE_START = STATE_CLOCKS + 3    # first position of this call
STATE_END = STATE_CLOCKS + 4      # one past its last
STATE_LENGTHS = STATE_CLOCKS + 5  # then the length of each array, in `abi.arrays` order
_SIGNATURE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)
_PACK = {Type.F64: "<d", Type.F32: "<f", Type.I64: "<q", Type.I32: "<i", Type.BOOL: "<B"}


class HostCodeHooks(CpuHooks):
    """The CPU's hooks, with the positions of a call read from the state (start..end), and the
    scalar libm log and cos in normal draws: the interpreter's numpy calls the same glibc
    functions on AVX2 machines, so initial values are bit for bit the interpreter's there (the
    CPU kernels' vectorised libmvec forms differ by an ulp: a simulation started from values
    differing by an ulp diverges from the interpreter's)."""

    def normal_math(self, module: ir.Module, name: str) -> None:
        return None

    def kernel_prologue(self, builder: ir.IRBuilder, state: ir.Value, clock: ir.Value,
                        exit_block: ir.Block) -> None:
        self._state = state

    def _word(self, builder: ir.IRBuilder, slot: int) -> ir.Value:
        pointer = builder.gep(self._state, [ir.Constant(I64, slot)], source_etype=I64)
        return builder.load(pointer, typ=I64)

    def element_range(self, builder: ir.IRBuilder) -> tuple[ir.Value, ir.Value]:
        return self._word(builder, STATE_START), ir.Constant(I64, 1)

    def position_end(self, builder: ir.IRBuilder, count: ir.Value) -> ir.Value:
        return self._word(builder, STATE_END)


class HostCodeLowering(KernelLowering):
    """`KernelLowering` reading the time, the stream and the arrays' lengths from the state
    (module docstring)."""

    def launch_time(self) -> ir.Value:
        return self.builder.bitcast(self.state_word(STATE_TIME), F64, name="time")

    def random_stream(self, op: RandUniformOp | RandNormalOp) -> ir.Value:
        return self.builder.trunc(self.state_word(STATE_STREAM), I32)

    def checked_index(self, op, array: str, index: Value) -> tuple[ir.Value, ir.Value | None]:
        llvm_index = self.int_cast(self.values[index], I64)
        if index is self.kernel.index:  # in range: `own_index_arrays` are checked by the caller
            return llvm_index, None
        builder = self.builder
        length = self.state_word(STATE_LENGTHS + self.abi.arrays.index(array))
        ok = builder.icmp_unsigned("<", llvm_index, length)
        with builder.if_then(builder.not_(ok), likely=False):
            self.record_error(f"index {{value}} is outside {array} in host code", llvm_index)
        return llvm_index, ok


@dataclass
class HostCodeProgram:
    """A compiled host-code kernel and how to call it: the arrays and parameters in order."""

    native: NativeFunction
    abi: KernelABI
    parameters: list[Value]

    def state(self, seed: int, stream: int, time_: float, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """The state words of an evaluation (start and end set per call by `run`)."""
        state = np.zeros(STATE_LENGTHS + len(self.abi.arrays), dtype=np.int64)
        state[STATE_SEED] = seed & 0xFFFFFFFF
        state[STATE_STREAM] = stream
        state[STATE_TIME] = np.float64(time_).view(np.int64)
        state[STATE_LENGTHS:] = [len(arrays[name]) for name in self.abi.arrays]
        return state

    def table(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.array([arrays[name].ctypes.data for name in self.abi.arrays] or [0], np.uint64)

    def pack(self, values: Mapping[Value, object]) -> np.ndarray:
        """The parameter slots: each value in its memory type at the start of 8 bytes."""
        slots = bytearray(8 * max(1, len(self.parameters)))
        for k, value in enumerate(self.parameters):
            number = values[value]
            number = float(number) if value.type.is_float else int(number)
            struct.pack_into(_PACK[value.type], slots, 8 * k, number)
        return np.frombuffer(slots, dtype=np.uint64).copy()

    def run(self, table: np.ndarray, parameters: np.ndarray, state: np.ndarray, start: int,
            end: int) -> np.ndarray:
        """Run positions start..end-1 on a copy of `state`; return that copy (its error words)."""
        state = state.copy()
        state[STATE_START], state[STATE_END] = start, end
        self.native.function(table.ctypes.data, parameters.ctypes.data, state.ctypes.data)
        return state


def unsupported(kernel: KernelOp) -> str | None:
    """Why the kernel cannot be compiled here, or None: an op without a lowering, a spike list."""
    if not isinstance(kernel.space, Elements):
        return f"its index space is {kernel.space.kind}, not elements"
    for op in kernel.body.ops:
        if not can_lower(op):
            return f"no lowering for {op.name}"
        if isinstance(op, EmitSpikeOp):
            return "it emits spikes"
    return None


def own_index_arrays(kernel: KernelOp) -> set[str]:
    """The arrays the kernel accesses at the element's own index (unchecked in the code)."""
    return {op.array.name for op in kernel.body.ops
            if isinstance(op, (LoadOp, StoreOp, AtomicAddOp)) and op.index is kernel.index}


def compile_host_code(module: Module, cache: CompileCache | None = None) -> HostCodeProgram:
    """The native function of `module`'s one kernel (see `unsupported` for what it may hold).

    Building and printing the LLVM IR costs ~5-10 ms in llvmlite, more than running small
    groups, so the function is first looked up by the kernel's `shape`, printed in ~0.1 ms."""
    started = time.perf_counter()
    cache = default_cache() if cache is None else cache
    plan = ModulePlan(module)
    (kernel,) = plan.kernels.values()
    abi = kernel_abi(plan, kernel, symbol_name("spikec_k", 0, kernel.kernel_name))
    shape_key = cache.key(shape(kernel, plan, abi), f"host_code_shape:{_host_target()}")

    def build() -> NativeFunction:
        lowered = lower_module(plan, HostCodeHooks(), "spikec_host_code", HostCodeLowering)
        _build_entry(lowered.llvm_module, lowered.kernels[kernel.kernel_name])
        return compile_native(str(lowered.llvm_module), "host_code", FUNCTION, _SIGNATURE,
                              lowered.errors, cache, started)

    return HostCodeProgram(cache.get_or_build(shape_key, build), abi, kernel_parameters(kernel))


@functools.cache
def _host_target() -> str:
    """`cpu.host_target()`, once: LLVM's feature query costs ~2 ms, a small group's whole run."""
    return host_target()


def shape(kernel: KernelOp, plan: ModulePlan, abi: KernelABI) -> str:
    """Everything the kernel's LLVM IR depends on, as text: its ops in order with operands
    numbered, result types and attributes, arrays named by their place in `abi.arrays` with
    their element type and whether they are empty, the stream left out (read at run time)."""
    numbers: dict[Value, int] = {kernel.index: 0}
    lines = [str(kernel.index.type)]
    for region in (kernel.invariants, kernel.body):
        for op in region.ops:
            attributes = []
            for name, value in sorted(op.attributes.items()):
                if name == "stream":
                    continue
                if isinstance(value, SymbolRef) and value.name in plan.arrays:
                    array = plan.arrays[value.name]
                    value = (abi.arrays.index(value.name), str(array.element_type),
                             array.length == 0)
                attributes.append(f"{name}={value!r}")
            operands = ",".join(str(numbers.setdefault(v, len(numbers))) for v in op.operands)
            types = ",".join(str(result.type) for result in op.results)
            lines.append(f"{op.name}({operands}) -> ({types}) {' '.join(attributes)}")
            for result in op.results:
                numbers[result] = len(numbers)
    return "\n".join(lines)


def _build_entry(module: ir.Module, abi: KernelABI) -> None:
    """@spikec_host_code: load the arrays' addresses and the parameters, call the kernel."""
    pointer = ir.PointerType()
    entry = ir.Function(module, ir.FunctionType(VOID, [pointer] * 3), FUNCTION)
    table, parameters, state = entry.args
    builder = ir.IRBuilder(entry.append_basic_block("entry"))

    def slot(base: ir.Value, index: int, type_: ir.Type) -> ir.Value:
        return builder.load(builder.gep(base, [ir.Constant(I64, index)], source_etype=I64), typ=type_)

    arrays = [slot(table, k, pointer) for k in range(len(abi.arrays))]
    values = [slot(parameters, k, MEMORY_TYPES[t]) for k, t in enumerate(abi.parameter_types)]
    kernel = module.globals[abi.function_name]
    builder.call(kernel, arrays + [state, ir.Constant(I64, 0), ir.Constant(F64, 0.0)] + values)
    builder.ret_void()
