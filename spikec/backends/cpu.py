"""The CPU backend: the host triple and features, O3, MCJIT; the whole schedule loop in native code.

The lowered kernels (internal functions, inlined by LLVM) are called from one generated entry point

    i64 @spikec_run(ptr %arrays, ptr %state, i64 %ticks)

that runs `ticks` ticks exactly as `Interpreter.run` does (due clocks, spike-list clears, launches
with their invariants as constants, clock advance) and returns the number of complete ticks; it
stops after the first launch that records an error. `%arrays` is a table of the arrays' addresses
in module order (numpy arrays owned by the executable); `%state` the int64 state words
(`spikec.backends.abi`). One Python call therefore runs any number of ticks.

Threads: with `threads=T` (or $SPIKEC_CPU_THREADS, or the policy of `cpu_threads.choose_threads`
for large networks) the executable compiles `@spikec_run_threads` instead (`spikec.backends.cpu_threads`):
the same tick loop on T threads, independent element kernels split into ranges, everything else on
thread 0, results bit-identical to one thread. One thread is the default for small networks.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from dataclasses import dataclass
from typing import Mapping

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir

from spikec.backends.abi import STATE_ERROR, ModulePlan
from spikec.backends import cpu_threads, philox_llvm
from spikec.backends.cache import CompileCache, default_cache
from spikec.backends.executable import Executable
from spikec.backends.lower_to_llvm import I64, LoweredModule, TargetHooks, lower_module
from spikec.backends.schedule_llvm import (advance_steps, clear_spikes, due_flags, launch_arguments,
                                           state_pointer, tick_loop)
from spikec.ir.core import Module
from spikec.ir.printer import print_module

RUN_FUNCTION = "spikec_run"
_INITIALIZED: list[llvm.TargetMachine] = []


def new_host_target_machine() -> llvm.TargetMachine:
    """A target machine for the host's triple, CPU and features."""
    if not _INITIALIZED:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=llvm.get_host_cpu_name(),
                                        features=llvm.get_host_cpu_features().flatten(), opt=3, jit=True)


def host_target_machine() -> llvm.TargetMachine:
    """The host's target machine for lowering and optimization, created once (an MCJIT engine
    takes ownership of the machine it is given, so each engine gets a new one)."""
    if not _INITIALIZED:
        _INITIALIZED.append(new_host_target_machine())
    return _INITIALIZED[0]


_LIBMVEC: list[bool] = []


def libmvec_normals() -> bool:
    """Whether normals use glibc's libmvec (`philox_llvm.vector_normal_function`): the host has
    AVX2 and libmvec loads into the process with both functions (loaded once, for MCJIT)."""
    if not _LIBMVEC:
        available = False
        path = ctypes.util.find_library("mvec")
        if llvm.get_host_cpu_features().get("avx2", False) and path is not None:
            try:
                llvm.load_library_permanently(path)
                available = all(llvm.address_of_symbol(symbol) for symbol in philox_llvm.LIBMVEC_AVX2.values())
            except RuntimeError:
                available = False
        _LIBMVEC.append(available)
    return _LIBMVEC[0]


class CpuHooks(TargetHooks):
    """A sequential loop per kernel; libm for math; plain read-modify-write for atomic_add.

    `spike_block`: an `elements(N)` kernel's spikes are flagged per block of 256 positions and
    appended after each block, so LLVM vectorises the element loop; normals' log and cos are
    libmvec's where `libmvec_normals` (docs/performance.md, "Vectorised draws")."""

    name = "cpu"
    spike_block = 256
    spike_block_interleave = 4

    def __init__(self) -> None:
        machine = host_target_machine()
        self.triple = machine.triple
        self.data_layout = str(machine.target_data)

    def configure_kernel(self, function: ir.Function) -> None:
        function.linkage = "internal"

    def normal_math(self, module: ir.Module, name: str) -> ir.Function | None:
        return philox_llvm.vector_normal_function(module, name) if libmvec_normals() else None


def build_run_function(lowered: LoweredModule, kernels: dict[str, ir.Function]) -> None:
    """Define `@spikec_run` (module docstring)."""
    plan = lowered.plan
    module = lowered.llvm_module
    pointer = ir.PointerType()
    function = ir.Function(module, ir.FunctionType(I64, [pointer, pointer, I64]), RUN_FUNCTION)
    table, state, ticks = function.args
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    arrays = {name: builder.load(builder.gep(table, [ir.Constant(I64, i)], source_etype=pointer), typ=pointer)
              for i, name in enumerate(plan.arrays)}
    tick, done = tick_loop(builder, ticks)
    due = due_flags(builder, plan, state)
    for step in plan.steps:
        with builder.if_then(due[step.clock]):
            if not hasattr(step, "kernel"):
                clear_spikes(builder, plan, step.spike_list, arrays[step.spike_list])
                continue
            arguments = launch_arguments(lowered, step, arrays, state)
            builder.call(kernels[step.kernel], arguments)
            error = builder.load(state_pointer(builder, state, STATE_ERROR), typ=I64)
            with builder.if_then(builder.icmp_signed("!=", error, ir.Constant(I64, 0)), likely=False):
                builder.ret(tick)
    advance_steps(builder, plan, state, due)
    tick.add_incoming(builder.add(tick, ir.Constant(I64, 1)), builder.block)
    builder.branch(tick.parent)
    builder.position_at_end(done)
    builder.ret(ticks)


def lower_for_cpu(plan: ModulePlan) -> LoweredModule:
    lowered = lower_module(plan, CpuHooks())
    functions = {name: lowered.llvm_module.globals[abi.function_name] for name, abi in lowered.kernels.items()}
    build_run_function(lowered, functions)
    return lowered


def optimize(module: llvm.ModuleRef, machine: llvm.TargetMachine, level: int = 3) -> None:
    tuning = llvm.create_pipeline_tuning_options(speed_level=level)
    builder = llvm.create_pass_builder(machine, tuning)
    builder.getModulePassManager().run(module, builder)


@dataclass
class CpuProgram:
    """A compiled module: the engine (kept alive), the entry point and the error messages."""

    engine: llvm.ExecutionEngine
    run: ctypes._CFuncPtr
    errors: list[str]
    compile_seconds: float
    from_disk: bool


def host_target() -> str:
    """The host's triple, CPU name and features: what machine code compiled here depends on."""
    machine = host_target_machine()
    normals = ":libmvec" if libmvec_normals() else ""
    return f"{machine.triple}:{llvm.get_host_cpu_name()}:{llvm.get_host_cpu_features().flatten()}{normals}"


def jit(text: str, cache: CompileCache, key: str) -> tuple[llvm.ExecutionEngine, bool]:
    """An MCJIT engine of the LLVM IR `text` and whether its machine code came from the cache's
    disk level (`<key>.o`, through MCJIT's object-cache hooks): on a hit LLVM neither optimizes
    nor generates code; on a miss it does both and the object file is kept for later processes."""
    parsed = llvm.parse_assembly(text)
    parsed.verify()
    cached_object = cache.read(key, ".o")
    if cached_object is None:
        cache.statistics.misses += 1
        optimize(parsed, host_target_machine())
    engine = llvm.create_mcjit_compiler(parsed, new_host_target_machine())

    def notify(_module: llvm.ModuleRef, data: bytes) -> None:
        if cached_object is None:
            cache.write(key, ".o", data)

    engine.set_object_cache(notify, lambda _module: cached_object)
    engine.finalize_object()
    return engine, cached_object is not None


def compile_cpu(module: Module, cache: CompileCache | None = None, threaded: bool = False,
                grain: int = cpu_threads.GRAIN) -> CpuProgram:
    """The CPU program of `module`, from the cache when it was compiled before: `@spikec_run`, or
    with `threaded` `@spikec_run_threads` (chunks of positions a multiple of `grain`)."""
    cache = default_cache() if cache is None else cache
    target = host_target()
    if threaded:
        target += f":threads:{grain}"
        cpu_threads.register_thread_symbols()
    key = cache.key(print_module(module), target)
    return cache.get_or_build(key, lambda: _compile(module, cache, key, threaded, grain))


def _compile(module: Module, cache: CompileCache, key: str, threaded: bool, grain: int) -> CpuProgram:
    start = time.perf_counter()
    plan = ModulePlan(module)
    lowered = cpu_threads.lower_threaded(plan, CpuHooks, grain) if threaded else lower_for_cpu(plan)
    engine, from_disk = jit(str(lowered.llvm_module), cache, key)
    if threaded:
        address = engine.get_function_address(cpu_threads.RUN_THREADS_FUNCTION)
        run = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p)(address)
    else:
        address = engine.get_function_address(RUN_FUNCTION)
        run = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64)(address)
    return CpuProgram(engine, run, lowered.errors, time.perf_counter() - start, from_disk)


class CpuExecutable(Executable):
    """A module compiled to native code for this machine (see `Executable`).

    `threads`: how many threads run the tick loop: an int (1 = the single-threaded program), or
    None / 0 / 'auto' for $SPIKEC_CPU_THREADS if set, else the policy (`cpu_threads.choose_threads`:
    1 for small networks). `self.threads` is the count used (1 when no kernel can be split).
    `grain`: positions per thread chunk are a multiple of it (tests use 1 to split tiny kernels)."""

    target = "cpu"

    def __init__(self, module: Module, arrays: Mapping[str, np.ndarray] | None = None, seed: int = 0,
                 cache: CompileCache | None = None, threads: int | str | None = None,
                 grain: int = cpu_threads.GRAIN):
        super().__init__(module, arrays, seed)
        self.arrays = self.plan.check_arrays(arrays)
        self.state = self.plan.new_state(seed)
        self.table = np.array([a.ctypes.data for a in self.arrays.values()] or [0], dtype=np.uint64)
        analysis = cpu_threads.analyze(self.plan, grain)
        self.threads = cpu_threads.choose_threads(self.plan, analysis, threads)
        if self.threads > 1 and cpu_threads.threads_supported():
            self.threads = 1
        self.program = compile_cpu(module, cache, self.threads > 1, grain)
        self.runner = None
        if self.threads > 1:
            self.runner = cpu_threads.ThreadedRunner(self.program.run, self.plan, self.arrays, self.table,
                                                     analysis, self.threads)

    def run(self, ticks: int) -> None:
        ticks = self.check_ticks(ticks)
        if ticks == 0:
            return
        self.plan.require_clocks()
        if self.runner is not None:
            self.runner.run(self.state, ticks)
        else:
            self.program.run(self.table.ctypes.data, self.state.ctypes.data, ticks)
        self.raise_recorded_error(self.state, self.program.errors)

    def read(self, name: str, count: int | None = None) -> np.ndarray:
        self.declared(name)
        return self.arrays[name][:count].copy()

    def write(self, name: str, values: object) -> None:
        self.arrays[name][...] = self.converted(name, values)

    @property
    def clock_steps(self) -> dict[str, int]:
        return {clock.name: int(self.state[self.plan.step_slot(clock.index)]) for clock in self.plan.clocks}

    @clock_steps.setter
    def clock_steps(self, steps: Mapping[str, int]) -> None:
        for clock in self.plan.clocks:
            if clock.name in steps:
                self.state[self.plan.step_slot(clock.index)] = int(steps[clock.name])

    @clock_steps.setter
    def clock_steps(self, steps: Mapping[str, int]) -> None:
        """Move clocks to given steps (the runtime continues time after a rebuild, restores)."""
        for clock in self.plan.clocks:
            if clock.name in steps:
                self.state[self.plan.step_slot(clock.index)] = int(steps[clock.name])
