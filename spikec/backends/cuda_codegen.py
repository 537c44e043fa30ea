"""The CUDA backend's code generation: kernel IR -> LLVM IR (nvptx64) -> libdevice linked and
internalized -> O3 -> PTX text. Runs on any machine (no GPU or driver needed).

Entry points of the PTX (all ``.visible .entry``; 256 threads per block unless said otherwise):

* every kernel of the module, with the signature of `spikec.backends.lower_to_llvm`, run as a
  grid-stride loop; a launch whose clock is not due this tick returns at once (``state[3+C+c]``);
* ``spikec_tick_begin(ptr state, ptr list...)`` (1 thread): computes which clocks are due (the
  interpreter's formula, into ``state[3+C+c]``) and clears the spike lists whose clear_spikes ops
  come before the first launch of the schedule;
* ``spikec_clear_<i32|i64>(ptr state, i64 clock, ptr list, i64 count_index)`` (1 thread): a later
  clear_spikes;
* ``spikec_compact_<i32|i64>(ptr state, i64 clock, ptr flags, ptr values, ptr count, ptr list,
  i64 capacity, i64 error_code)`` (1 block of 1024 threads): the ordered spike compaction;
* ``spikec_tick_end(ptr state)`` (1 thread): advances the due clocks' steps.

Spike order: an emit_spike on the GPU writes, per position p of the launch, a flag byte and the
value into scratch buffers (the "flag pass"; the kernel also stores its position count). The
compaction kernel then walks the positions in chunks of 8192, each thread taking 8 consecutive
flag bytes as one word: the popcount of the word is the thread's count, a warp shuffle scan gives
each thread its offset in its warp, the 32 warp totals (shared memory) give the warp offsets, and
each thread writes its flagged values at count + offset, in position order, which is the
interpreter's order. It costs one extra launch (~1 us as a graph node) and O(n / 8192) block-wide
steps (a multi-block scan is the next step for big groups; see docs/backends.md).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from llvmlite import binding as llvm
from llvmlite import ir

from spikec.backends.abi import STATE_ERROR, STATE_ERROR_VALUE, ClearPlan, LaunchPlan, ModulePlan
from spikec.backends.errors import ToolchainError
from spikec.backends.lower_to_llvm import (I1, I8, I32, I64, MEMORY_TYPES, VOID, LoweredModule,
                                           TargetHooks, lower_module)
from spikec.backends.schedule_llvm import advance_steps, clear_spikes, due_flags, state_pointer

TRIPLE = "nvptx64-nvidia-cuda"
DEFAULT_ARCH = "sm_90"
BLOCK = 256
COMPACT_BLOCK = 1024
FLAGS_PER_THREAD = 8
COMPACT_CHUNK = COMPACT_BLOCK * FLAGS_PER_THREAD   # positions per step of the compaction loop;
# the flag buffers are allocated in multiples of it, as its threads read whole 8-byte words
_PTR = ir.PointerType()
_INITIALIZED: list[bool] = []


def _sreg(builder: ir.IRBuilder, name: str) -> ir.Value:
    module = builder.module
    symbol = f"llvm.nvvm.read.ptx.sreg.{name}"
    function = module.globals.get(symbol) or ir.Function(module, ir.FunctionType(I32, []), symbol)
    return builder.call(function, [])


def _intrinsic(builder: ir.IRBuilder, symbol: str, result: ir.Type, arguments: list[ir.Type]) -> ir.Function:
    module = builder.module
    return module.globals.get(symbol) or ir.Function(module, ir.FunctionType(result, arguments), symbol)


def mark_entry(function: ir.Function) -> None:
    function.calling_convention = "ptx_kernel"


class CudaHooks(TargetHooks):
    """Grid-stride loops, libdevice math, atomicrmw, flag-pass spike emission, due-flag exits."""

    name = "cuda"
    triple = TRIPLE
    compacts_spikes = True

    def __init__(self, plan: ModulePlan):
        self.plan = plan
        self.data_layout = str(nvptx_target_machine(DEFAULT_ARCH).target_data)

    def library_function_name(self, name: str, type) -> str:
        return "__nv_" + super().library_function_name(name, type)

    def configure_kernel(self, function: ir.Function) -> None:
        mark_entry(function)

    def element_range(self, builder: ir.IRBuilder) -> tuple[ir.Value, ir.Value]:
        thread = builder.zext(_sreg(builder, "tid.x"), I64)
        block = builder.zext(_sreg(builder, "ctaid.x"), I64)
        size = builder.zext(_sreg(builder, "ntid.x"), I64)
        grid = builder.zext(_sreg(builder, "nctaid.x"), I64)
        return builder.add(builder.mul(block, size), thread), builder.mul(size, grid)

    def kernel_prologue(self, builder: ir.IRBuilder, state: ir.Value, clock: ir.Value,
                        exit_block: ir.Block) -> None:
        slot = builder.add(clock, ir.Constant(I64, self.plan.due_slot(0)))
        due = builder.load(builder.gep(state, [slot], source_etype=I64), typ=I64)
        go = builder.append_basic_block("due")
        builder.cbranch(builder.icmp_signed("!=", due, ir.Constant(I64, 0)), go, exit_block)
        builder.position_at_end(go)

    def is_first_invocation(self, builder: ir.IRBuilder) -> ir.Value:
        zero = ir.Constant(I32, 0)
        return builder.and_(builder.icmp_signed("==", _sreg(builder, "tid.x"), zero),
                            builder.icmp_signed("==", _sreg(builder, "ctaid.x"), zero))

    def atomic_add(self, builder: ir.IRBuilder, pointer: ir.Value, value: ir.Value, type) -> None:
        builder.atomic_rmw("fadd" if type.is_float else "add", pointer, value, "monotonic")


# -- the tick kernels ------------------------------------------------------------------------------------
def leading_clears(plan: ModulePlan) -> list[ClearPlan]:
    """The clear_spikes ops before the schedule's first launch (done by spikec_tick_begin)."""
    result = []
    for step in plan.steps:
        if isinstance(step, LaunchPlan):
            break
        result.append(step)
    return result


def build_tick_kernels(lowered: LoweredModule) -> None:
    plan, module = lowered.plan, lowered.llvm_module
    clears = leading_clears(plan)
    begin = ir.Function(module, ir.FunctionType(VOID, [_PTR] * (1 + len(clears))), "spikec_tick_begin")
    mark_entry(begin)
    builder = ir.IRBuilder(begin.append_basic_block("entry"))
    state, lists = begin.args[0], begin.args[1:]
    if plan.clocks:
        due = due_flags(builder, plan, state)
        for clock, flag in zip(plan.clocks, due):
            builder.store(builder.zext(flag, I64), state_pointer(builder, state, plan.due_slot(clock.index)))
        for clear, pointer in zip(clears, lists):
            with builder.if_then(due[clear.clock]):
                clear_spikes(builder, plan, clear.spike_list, pointer)
    builder.ret_void()

    end = ir.Function(module, ir.FunctionType(VOID, [_PTR]), "spikec_tick_end")
    mark_entry(end)
    builder = ir.IRBuilder(end.append_basic_block("entry"))
    flags = [builder.icmp_signed("!=", builder.load(state_pointer(builder, end.args[0], plan.due_slot(c.index)),
                                                    typ=I64), ir.Constant(I64, 0)) for c in plan.clocks]
    advance_steps(builder, plan, end.args[0], flags)
    builder.ret_void()


def _due_or_return(builder: ir.IRBuilder, plan: ModulePlan, state: ir.Value, clock: ir.Value,
                   function: ir.Function) -> None:
    slot = builder.add(clock, ir.Constant(I64, plan.due_slot(0)))
    due = builder.load(builder.gep(state, [slot], source_etype=I64), typ=I64)
    go, stop = function.append_basic_block("due"), function.append_basic_block("not_due")
    builder.cbranch(builder.icmp_signed("!=", due, ir.Constant(I64, 0)), go, stop)
    builder.position_at_end(stop)
    builder.ret_void()
    builder.position_at_end(go)


def build_clear_kernel(lowered: LoweredModule, element: ir.IntType) -> None:
    function = ir.Function(lowered.llvm_module, ir.FunctionType(VOID, [_PTR, I64, _PTR, I64]),
                           f"spikec_clear_i{element.width}")
    mark_entry(function)
    state, clock, spikes, count_index = function.args
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    _due_or_return(builder, lowered.plan, state, clock, function)
    builder.store(ir.Constant(element, 0), builder.gep(spikes, [count_index], source_etype=element))
    builder.ret_void()


def build_compaction_kernel(lowered: LoweredModule, element: ir.IntType) -> None:
    """``spikec_compact_i32/i64``: see the module docstring."""
    module = lowered.llvm_module
    function = ir.Function(module, ir.FunctionType(VOID, [_PTR, I64, _PTR, _PTR, _PTR, _PTR, I64, I64]),
                           f"spikec_compact_i{element.width}")
    mark_entry(function)
    module.add_named_metadata("nvvm.annotations", [function, "maxntidx", ir.Constant(I32, COMPACT_BLOCK)])
    state, clock, flags, values, count_pointer, spikes, capacity, error_code = function.args
    warp_counts = ir.GlobalVariable(module, ir.ArrayType(I32, COMPACT_BLOCK // 32),
                                    f"spikec_warp_counts_i{element.width}", addrspace=3)
    warp_counts.linkage = "internal"
    warp_counts.initializer = ir.Constant(warp_counts.value_type, ir.Undefined)
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    _due_or_return(builder, lowered.plan, state, clock, function)
    barrier = _intrinsic(builder, "llvm.nvvm.barrier0", VOID, [])
    shuffle_up = _intrinsic(builder, "llvm.nvvm.shfl.sync.up.i32", I32, [I32] * 4)
    popcount64 = _intrinsic(builder, "llvm.ctpop.i64", I64, [I64])
    count = builder.load(count_pointer, typ=I64)
    start = builder.sext(builder.load(builder.gep(spikes, [capacity], source_etype=element), typ=element), I64)
    thread = _sreg(builder, "tid.x")
    lane = builder.and_(thread, ir.Constant(I32, 31))
    warp = builder.lshr(thread, ir.Constant(I32, 5))
    entry = builder.block
    header, body, done = (function.append_basic_block(n) for n in ("chunk", "chunk.body", "done"))
    builder.branch(header)
    builder.position_at_end(header)
    chunk = builder.phi(I64, "chunk")
    base = builder.phi(I64, "base")
    chunk.add_incoming(ir.Constant(I64, 0), entry)
    base.add_incoming(start, entry)
    builder.cbranch(builder.icmp_signed("<", chunk, count), body, done)

    builder.position_at_end(body)
    # Each thread takes FLAGS_PER_THREAD consecutive flag bytes (0 or 1) as one i64 word.
    first = builder.add(chunk, builder.mul(builder.zext(thread, I64), ir.Constant(I64, FLAGS_PER_THREAD)))
    valid = builder.sub(count, first)
    valid = builder.select(builder.icmp_signed("<", valid, ir.Constant(I64, 0)), ir.Constant(I64, 0), valid)
    full = builder.icmp_signed(">=", valid, ir.Constant(I64, FLAGS_PER_THREAD))
    shift = builder.select(full, ir.Constant(I64, 0), builder.mul(valid, ir.Constant(I64, 8)))
    partial = builder.sub(builder.shl(ir.Constant(I64, 1), shift), ir.Constant(I64, 1))
    mask = builder.select(full, ir.Constant(I64, -1), partial)
    word = builder.and_(builder.load(builder.gep(flags, [first], source_etype=I8), typ=I64, align=8), mask)
    mine = builder.trunc(builder.call(popcount64, [word]), I32)
    inclusive = mine
    for delta in (1, 2, 4, 8, 16):  # warp-inclusive scan of the counts
        up = builder.call(shuffle_up, [ir.Constant(I32, -1), inclusive, ir.Constant(I32, delta),
                                       ir.Constant(I32, 0)])
        has = builder.icmp_unsigned(">=", lane, ir.Constant(I32, delta))
        inclusive = builder.add(inclusive, builder.select(has, up, ir.Constant(I32, 0)))
    with builder.if_then(builder.icmp_signed("==", lane, ir.Constant(I32, 31))):
        builder.store(inclusive, builder.gep(warp_counts, [ir.Constant(I32, 0), warp]))
    builder.call(barrier, [])
    prefix, total = ir.Constant(I32, 0), ir.Constant(I32, 0)
    for w in range(COMPACT_BLOCK // 32):
        c = builder.load(builder.gep(warp_counts, [ir.Constant(I32, 0), ir.Constant(I32, w)]))
        total = builder.add(total, c)
        before = builder.icmp_unsigned("<", ir.Constant(I32, w), warp)
        prefix = builder.add(prefix, builder.select(before, c, ir.Constant(I32, 0)))
    target = builder.add(base, builder.zext(builder.sub(builder.add(prefix, inclusive), mine), I64))
    for k in range(FLAGS_PER_THREAD):  # this thread's flagged values, in position order
        flag = builder.trunc(builder.lshr(word, ir.Constant(I64, 8 * k)), I1)
        with builder.if_then(flag):
            with builder.if_else(builder.icmp_signed("<", target, capacity)) as (fits, overflow):
                with fits:
                    position = builder.add(first, ir.Constant(I64, k))
                    value = builder.load(builder.gep(values, [position], source_etype=element), typ=element)
                    builder.store(value, builder.gep(spikes, [target], source_etype=element))
                with overflow:
                    builder.store(error_code, state_pointer(builder, state, STATE_ERROR))
                    builder.store(target, state_pointer(builder, state, STATE_ERROR_VALUE))
        target = builder.add(target, builder.zext(flag, I64))
    builder.call(barrier, [])
    chunk.add_incoming(builder.add(chunk, ir.Constant(I64, COMPACT_CHUNK)), builder.block)
    base.add_incoming(builder.add(base, builder.zext(total, I64)), builder.block)
    builder.branch(header)

    builder.position_at_end(done)
    with builder.if_then(builder.icmp_signed("==", thread, ir.Constant(I32, 0))):
        final = builder.select(builder.icmp_signed("<", base, capacity), base, capacity)
        builder.store(builder.trunc(final, element) if element.width < 64 else final,
                      builder.gep(spikes, [capacity], source_etype=element))
    builder.ret_void()


@dataclass
class CudaModuleText:
    """The generated LLVM module and what the executable needs to launch it."""

    lowered: LoweredModule
    compaction_errors: dict[tuple[str, str], int] = field(default_factory=dict)  # (kernel, list) -> code


def lower_for_cuda(plan: ModulePlan) -> CudaModuleText:
    lowered = lower_module(plan, CudaHooks(plan))
    result = CudaModuleText(lowered)
    build_tick_kernels(lowered)
    element_types = set()
    for step in plan.steps[len(leading_clears(plan)):]:
        if isinstance(step, ClearPlan):
            element_types.add(("clear", MEMORY_TYPES[plan.arrays[step.spike_list].element_type]))
    for abi in lowered.kernels.values():
        for op in abi.emits:
            element_types.add(("compact", MEMORY_TYPES[plan.arrays[op.spike_list.name].element_type]))
            lowered.errors.append(f"spike list {op.spike_list} overflows (a neuron spiking twice in a "
                                  f"step?) in kernel @{abi.kernel}")
            result.compaction_errors[(abi.kernel, op.spike_list.name)] = len(lowered.errors)
    for kind, element in sorted(element_types, key=lambda t: (t[0], t[1].width)):
        (build_clear_kernel if kind == "clear" else build_compaction_kernel)(lowered, element)
    return result


# -- libdevice, PTX -------------------------------------------------------------------------------------
def find_libdevice() -> Path:
    """libdevice.10.bc: through cuda-pathfinder, the CUDA home, or the nvidia-cuda-nvcc wheel."""
    try:
        from cuda import pathfinder

        return Path(pathfinder.find_bitcode_lib("device"))
    except Exception:  # not installed, or it found nothing: try the usual places ourselves
        pass
    candidates = []
    for variable in ("CUDA_HOME", "CUDA_PATH"):
        if os.environ.get(variable):
            candidates.append(Path(os.environ[variable]) / "nvvm" / "libdevice" / "libdevice.10.bc")
    candidates.append(Path("/usr/local/cuda/nvvm/libdevice/libdevice.10.bc"))
    try:
        import nvidia.cuda_nvcc as wheel

        for root in wheel.__path__:
            candidates.append(Path(root) / "nvvm" / "libdevice" / "libdevice.10.bc")
    except ImportError:
        pass
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise ToolchainError("libdevice (libdevice.10.bc) not found",
                         hint="`pip install nvidia-cuda-nvcc-cu12` (or cuda-pathfinder with a CUDA "
                              "toolkit), or set CUDA_HOME")


_LIBDEVICE: dict[Path, tuple[llvm.ModuleRef, str]] = {}


def libdevice_module(path: Path | None = None) -> tuple[llvm.ModuleRef, str]:
    """(libdevice parsed, a short hash of its bitcode for cache keys), read and parsed once per
    process; link a `clone()` of it (linking consumes the module)."""
    path = path or find_libdevice()
    if path not in _LIBDEVICE:
        data = path.read_bytes()
        _LIBDEVICE[path] = (llvm.parse_bitcode(data), hashlib.sha256(data).hexdigest()[:16])
    return _LIBDEVICE[path]


_MACHINES: dict[str, llvm.TargetMachine] = {}


def nvptx_target_machine(arch: str) -> llvm.TargetMachine:
    """The NVPTX target machine for `arch` (created once per process and kept: LLVM objects made
    from it must not outlive it)."""
    if not _INITIALIZED:
        llvm.initialize_all_targets()
        llvm.initialize_all_asmprinters()
        _INITIALIZED.append(True)
    if arch not in _MACHINES:
        _MACHINES[arch] = llvm.Target.from_triple(TRIPLE).create_target_machine(cpu=arch, opt=3)
    return _MACHINES[arch]


@dataclass
class PtxTimings:
    lower: float = 0.0
    link: float = 0.0
    optimize: float = 0.0
    codegen: float = 0.0

    @property
    def total(self) -> float:
        return self.lower + self.link + self.optimize + self.codegen


def generate_ptx(text: CudaModuleText, arch: str = DEFAULT_ARCH, internalize: bool = True,
                 timings: PtxTimings | None = None) -> str:
    """PTX for `text`: libdevice linked in, its functions internalized (unless `internalize` is
    false, which is only for measuring why it matters), O3, then the NVPTX assembly printer."""
    timings = timings if timings is not None else PtxTimings()
    machine = nvptx_target_machine(arch)
    start = time.perf_counter()
    module = llvm.parse_assembly(str(text.lowered.llvm_module))
    entries = {f.name for f in module.functions if not f.is_declaration and f.name.startswith("spikec_")
               and not f.name.startswith("spikec.")}
    if any(f.is_declaration and f.name.startswith("__nv_") for f in module.functions):
        libdevice, _ = libdevice_module()
        module.link_in(libdevice.clone())
        if internalize:
            for function in module.functions:
                if not function.is_declaration and function.name not in entries:
                    function.linkage = "internal"
            for variable in module.global_variables:
                if not variable.is_declaration:
                    variable.linkage = "internal"
            dead = llvm.create_new_module_pass_manager()  # drop unused libdevice before O3 sees it
            dead.add_global_dead_code_eliminate_pass()
            dead_builder = llvm.create_pass_builder(machine, llvm.create_pipeline_tuning_options())
            dead.run(module, dead_builder)
    module.verify()
    timings.link = time.perf_counter() - start
    start = time.perf_counter()
    tuning = llvm.create_pipeline_tuning_options(speed_level=3)
    passes = llvm.create_pass_builder(machine, tuning)
    passes.getModulePassManager().run(module, passes)
    timings.optimize = time.perf_counter() - start
    start = time.perf_counter()
    ptx = machine.emit_assembly(module)
    timings.codegen = time.perf_counter() - start
    return ptx
