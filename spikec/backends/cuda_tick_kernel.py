"""The one-block tick kernel: for small networks, every tick of a `run(k)` inside one CUDA block.

At small N a tick of the multi-kernel path (`spikec.backends.cuda`) is bound by its graph nodes
(~0.8-1 us each, 4+ per tick), not by work. Here the whole schedule is one entry point,

    spikec_ticks(ptr array..., ptr state, [ptr flags, ptr values, ptr count per emit_spike], i64 ticks)

launched as one block of `block` threads (<= 1024), which runs `ticks` ticks:

    thread 0: tick begin (due flags, leading clears); bar.sync
    per tick:  per schedule step, in order:
                 launch: the kernel body as a block-strided loop (start = threadIdx, stride =
                         blockDim), then bar.sync; per emit_spike the one-block ordered compaction
                         (`cuda_codegen.build_compaction_kernel` as a device function), bar.sync
                 clear:  thread 0 clears the list if its clock is due; bar.sync
               thread 0: tick end (advance the due clocks), then the next tick's begin; bar.sync

The kernel bodies are those of `lower_to_llvm` with `TickKernelHooks`: the CUDA hooks (due-flag
exit, libdevice, global atomics, flag-pass emission) with the kernels as internal device
functions that O3 inlines. With one block, CUDA's grid-stride ranges (ctaid = 0, nctaid = 1)
already are block-strided, and a mapping of a row to a warp becomes a warp of the block. The
launches' invariants are constants, as on the CPU. Semantics are those of the multi-kernel path:
clocks not due skip their launches, errors are recorded in the state words, spike lists keep
position order, monitors' buffers are written by their kernels. `bar.sync` orders global memory
within the block, so every step sees the stores of the steps before it.

Which path: `choose_tick_block` (docs/backends.md): the tick kernel when every kernel has at most
`MAX_POSITIONS` positions and the elementwise work of a tick is at most `MAX_WORK` units
(`cpu_threads.work_per_element`): one SM must do all of it, so compute-heavy models leave it
sooner. ``SPIKEC_CUDA_TICK_KERNEL`` = 1/0/auto (or the executable's ``tick_kernel=`` option)
forces either path; ``SPIKEC_CUDA_TICK_BLOCK`` sets the block size (measurements).
"""

from __future__ import annotations

import os

from llvmlite import ir

from spikec.backends.abi import ClearPlan, LaunchPlan, ModulePlan
from spikec.backends.cpu_threads import work_per_element
from spikec.backends.cuda_codegen import (CudaHooks, CudaModuleText, _intrinsic, _sreg, build_compaction_kernel,
                                          leading_clears, mark_entry)
from spikec.backends.lower_to_llvm import (F64, I32, I64, MEMORY_TYPES, VOID, LoweredModule, kernel_abi,
                                           lower_module)
from spikec.backends.schedule_llvm import (advance_steps, clear_spikes, due_flags, parameter_constants,
                                           state_pointer, tick_loop)
from spikec.errors import SpikecError

ENTRY = "spikec_ticks"
ENVIRONMENT = "SPIKEC_CUDA_TICK_KERNEL"
BLOCK_ENVIRONMENT = "SPIKEC_CUDA_TICK_BLOCK"
MAX_BLOCK = 1024
# The policy's limits (measured on the H100, docs/performance.md "One-block tick kernel for small
# networks": faster at CUBA 1e3 (181k units) and Brunel-Hakim 1e3 (67k), equal at Brunel-Hakim 4e3
# (268k), slower at COBAHH 1e3 (318k) and CUBA 4e3 (724k)).
MAX_POSITIONS = 4096
MAX_WORK = 200_000
# Kernel parameters are 8 bytes each and a launch takes at most 4096 bytes of them.
MAX_PARAMETERS = 500
_PTR = ir.PointerType()


class TickKernelHooks(CudaHooks):
    """The CUDA hooks with every kernel an internal device function of `spikec_ticks`, for blocks
    of `block` threads."""

    def __init__(self, plan: ModulePlan, block: int, *arguments):
        super().__init__(plan, *arguments)
        self.block = block

    def row_lanes(self, plan: ModulePlan, kernel) -> int:
        # A row's group of lanes must lie within the block and the groups must tile it: at most
        # the largest power of two dividing the block (lanes are powers of two).
        return min(super().row_lanes(plan, kernel), self.block & -self.block)

    def configure_kernel(self, function: ir.Function) -> None:
        function.linkage = "internal"

    def element_range(self, builder: ir.IRBuilder) -> tuple[ir.Value, ir.Value]:
        return builder.zext(_sreg(builder, "tid.x"), I64), builder.zext(_sreg(builder, "ntid.x"), I64)


def entry_arrays(lowered: LoweredModule) -> list[str]:
    """The arrays `spikec_ticks` takes, in module order: those some kernel or clear touches."""
    used = {name for abi in lowered.kernels.values() for name in abi.arrays}
    used |= {step.spike_list for step in lowered.plan.steps if isinstance(step, ClearPlan)}
    return [name for name in lowered.plan.arrays if name in used]


def entry_emits(lowered: LoweredModule) -> list[tuple[str, str]]:
    """The (kernel, list) pairs whose scratch buffers `spikec_ticks` takes, in kernel order."""
    return [(abi.kernel, op.spike_list.name) for abi in lowered.kernels.values() for op in abi.emits]


def lower_for_tick_kernel(plan: ModulePlan, block: int, *hook_arguments) -> CudaModuleText:
    """The module's kernels as device functions and `spikec_ticks` for blocks of `block` threads;
    `hook_arguments` go to `CudaHooks` after the plan (the push rows' lanes)."""
    lowered = lower_module(plan, TickKernelHooks(plan, block, *hook_arguments))
    text = CudaModuleText(lowered)
    elements = {}
    for abi in lowered.kernels.values():
        for op in abi.emits:
            element = MEMORY_TYPES[plan.arrays[op.spike_list.name].element_type]
            elements[element.width] = element
            lowered.errors.append(f"spike list {op.spike_list} overflows (a neuron spiking twice in a "
                                  f"step?) in kernel @{abi.kernel}")
            text.compaction_errors[(abi.kernel, op.spike_list.name)] = len(lowered.errors)
    for width in sorted(elements):
        build_compaction_kernel(lowered, elements[width])
        # the one-block compaction as a device function of spikec_ticks: its maxntid annotation
        # no longer applies (NVPTX reads it for kernels only)
        compaction = lowered.llvm_module.get_global(f"spikec_compact_i{width}")
        compaction.calling_convention = ""
        compaction.linkage = "internal"
    _TickKernelBuilder(text, block).build()
    return text


class _TickKernelBuilder:
    def __init__(self, text: CudaModuleText, block: int):
        self.text, self.lowered, self.plan = text, text.lowered, text.lowered.plan
        module = self.lowered.llvm_module
        self.arrays = entry_arrays(self.lowered)
        self.emits = entry_emits(self.lowered)
        parameters = [_PTR] * (len(self.arrays) + 1 + 3 * len(self.emits)) + [I64]
        self.function = ir.Function(module, ir.FunctionType(VOID, parameters), ENTRY)
        mark_entry(self.function)
        # The register budget follows from the block size: 65536 / block per thread.
        module.add_named_metadata("nvvm.annotations", [self.function, "maxntidx", ir.Constant(I32, block)])
        args = list(self.function.args)
        self.array_args = {name: args.pop(0) for name in self.arrays}
        self.state = args.pop(0)
        self.scratch = {key: (args.pop(0), args.pop(0), args.pop(0)) for key in self.emits}
        self.ticks = args.pop(0)
        self.builder = ir.IRBuilder(self.function.append_basic_block("entry"))
        self.barrier_function = _intrinsic(self.builder, "llvm.nvvm.barrier0", VOID, [])
        self.first_thread = self.builder.icmp_unsigned("==", _sreg(self.builder, "tid.x"), ir.Constant(I32, 0))

    def barrier(self) -> None:
        self.builder.call(self.barrier_function, [])

    def build(self) -> None:
        builder = self.builder
        with builder.if_then(self.first_thread):
            self.tick_begin()
        self.barrier()
        tick, done = tick_loop(builder, self.ticks)
        for index, step in enumerate(self.plan.steps):
            if index < len(leading_clears(self.plan)):
                continue
            if isinstance(step, ClearPlan):
                self.clear(step)
            else:
                self.launch(step)
        following = builder.add(tick, ir.Constant(I64, 1))
        with builder.if_then(self.first_thread):  # this tick's end; the next tick's begin
            self.tick_end()
            with builder.if_then(builder.icmp_signed("<", following, self.ticks)):
                self.tick_begin()
        self.barrier()
        tick.add_incoming(following, builder.block)
        builder.branch(tick.parent)
        builder.position_at_end(done)
        builder.ret_void()

    # -- thread 0's parts of a tick (`Interpreter.tick`) -------------------------------------------
    def due_flag(self, clock: int) -> ir.Value:
        word = self.builder.load(state_pointer(self.builder, self.state, self.plan.due_slot(clock)), typ=I64)
        return self.builder.icmp_signed("!=", word, ir.Constant(I64, 0))

    def tick_begin(self) -> None:
        builder, plan = self.builder, self.plan
        if not plan.clocks:
            return
        due = due_flags(builder, plan, self.state)
        for clock, flag in zip(plan.clocks, due):
            builder.store(builder.zext(flag, I64), state_pointer(builder, self.state, plan.due_slot(clock.index)))
        for clear in leading_clears(plan):
            with builder.if_then(due[clear.clock]):
                clear_spikes(builder, plan, clear.spike_list, self.array_args[clear.spike_list])

    def tick_end(self) -> None:
        advance_steps(self.builder, self.plan, self.state, [self.due_flag(c.index) for c in self.plan.clocks])

    # -- the schedule's steps ----------------------------------------------------------------------
    def clear(self, step: ClearPlan) -> None:
        builder = self.builder
        with builder.if_then(self.first_thread):
            with builder.if_then(self.due_flag(step.clock)):
                clear_spikes(builder, self.plan, step.spike_list, self.array_args[step.spike_list])
        self.barrier()

    def launch(self, step: LaunchPlan) -> None:
        builder, abi = self.builder, self.lowered.kernels[step.kernel]
        module = self.lowered.llvm_module
        scratch = [self.scratch[(abi.kernel, op.spike_list.name)] for op in abi.emits]
        arguments = [self.array_args[name] for name in abi.arrays]
        arguments += [self.state, ir.Constant(I64, step.clock), ir.Constant(F64, step.dt)]
        arguments += [pointer for buffers in scratch for pointer in buffers]
        arguments += parameter_constants(abi.parameter_types, step.parameters)
        builder.call(module.get_global(abi.function_name), arguments)
        self.barrier()
        for op, (flags, values, count) in zip(abi.emits, scratch):
            array = self.plan.arrays[op.spike_list.name]
            element = MEMORY_TYPES[array.element_type]
            code = self.text.compaction_errors[(abi.kernel, op.spike_list.name)]
            compact = module.get_global(f"spikec_compact_i{element.width}")
            builder.call(compact, [self.state, ir.Constant(I64, step.clock), flags, values, count,
                                   self.array_args[op.spike_list.name], ir.Constant(I64, array.length - 1),
                                   ir.Constant(I64, code), ir.Constant(I64, -1)])
            self.barrier()


# -- the policy --------------------------------------------------------------------------------------
def work_per_tick(plan: ModulePlan) -> int:
    """Estimated work of one tick's launches (units of `cpu_threads.work_per_element`, a position
    counting once: the rows of synapse spaces are not counted, their length is unknown here)."""
    return sum(_positions(plan, step.kernel) * work_per_element(plan.kernels[step.kernel])
               for step in plan.steps if isinstance(step, LaunchPlan))


def _positions(plan: ModulePlan, kernel: str) -> int:
    return kernel_abi(plan, plan.kernels[kernel], kernel).position_capacity


def parameter_count(plan: ModulePlan) -> int:
    """How many parameters `spikec_ticks` takes (an upper bound: every array, every emit)."""
    emits = sum(len(kernel_abi(plan, kernel, name).emits) for name, kernel in plan.kernels.items())
    return len(plan.arrays) + 1 + 3 * emits + 1


def requested(option: bool | str | None) -> bool | None:
    """True/False when the option (else $SPIKEC_CUDA_TICK_KERNEL) forces a path, None for the
    policy ('auto' or unset)."""
    source = "tick_kernel="
    if option is None:
        option, source = os.environ.get(ENVIRONMENT, "").strip() or None, f"${ENVIRONMENT}"
    if option is None or isinstance(option, bool):
        return option
    word = str(option).lower()
    if word in ("1", "on", "true", "yes"):
        return True
    if word in ("0", "off", "false", "no"):
        return False
    if word == "auto":
        return None
    raise SpikecError(f"{source}{option!r} does not choose a CUDA path",
                      hint="give 1 (the one-block tick kernel), 0 (a launch per kernel) or 'auto'")


def block_size(plan: ModulePlan) -> int:
    """Threads of the tick kernel's block: $SPIKEC_CUDA_TICK_BLOCK, else whole warps for the
    largest kernel's positions, above 256 a multiple of 256 (so push rows can take up to 256
    lanes, `TickKernelHooks.row_lanes`), at most 1024."""
    given = os.environ.get(BLOCK_ENVIRONMENT, "").strip()
    if given:
        threads = int(given)
        if not 32 <= threads <= MAX_BLOCK or threads % 32:
            raise SpikecError(f"${BLOCK_ENVIRONMENT}={given!r}: the tick kernel's block is 32 to 1024 "
                              "threads, a multiple of 32")
        return threads
    largest = max((_positions(plan, step.kernel) for step in plan.steps if isinstance(step, LaunchPlan)),
                  default=1)
    whole = 256 if largest > 256 else 32
    return min(MAX_BLOCK, max(32, -(-largest // whole) * whole))


def choose_tick_block(plan: ModulePlan, option: bool | str | None = None) -> int | None:
    """The tick kernel's block size when the module runs on the tick kernel, None for the
    multi-kernel path (module docstring: the policy and its overrides)."""
    forced = requested(option)
    if forced is False or not plan.clocks:
        return None
    if parameter_count(plan) > MAX_PARAMETERS:
        if forced:
            raise SpikecError(f"the one-block tick kernel would take {parameter_count(plan)} parameters, "
                              f"more than {MAX_PARAMETERS}", hint=f"unset ${ENVIRONMENT}")
        return None
    if forced is None:
        launches = [step for step in plan.steps if isinstance(step, LaunchPlan)]
        if any(_positions(plan, step.kernel) > MAX_POSITIONS for step in launches):
            return None
        if work_per_tick(plan) > MAX_WORK:
            return None
    return block_size(plan)
