"""The kernel IR: kernels over index spaces and the step schedule (importing it registers the
``kernel`` dialect: declarations, body ops and the ops below).

    kernel.kernel @G.update {space = elements(100)} invariants() {
      %dt = kernel.arg "dt" : f64
      %tau = kernel.arg "tau" : f64
      %decay = kernel.div %dt, %tau : f64
    } body(%i: i64) {
      %v = kernel.load @G.v[%i] : f64
      %dv = kernel.mul %v, %decay : f64
      %v_next = kernel.sub %v, %dv : f64
      kernel.store @G.v[%i], %v_next : f64
    }

    kernel.schedule step() {
      kernel.clear_spikes @G._spikespace {clock = @defaultclock}
      kernel.launch @G.update {clock = @defaultclock, args = {dt = 0.0001, tau = 0.01}}
    }

The invariants region is computed once per launch from the kernel's arguments only (no loads, no
step, time or random numbers, no side effects), so a backend may evaluate it on the host; the body
runs once per index of the index space, sees the invariants' values and gets the element index as
its block argument.
"""

from __future__ import annotations

from typing import Iterator, Mapping

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Block, Module, Op, Region, Trait
from spikec.ir.index_spaces import INDEX_SPACE_CODEC, IndexSpace
from spikec.ir.index_spaces import verify_spike_list
from spikec.ir.kernel_decls import ArrayOp, ClockOp
from spikec.ir.kernel_ops import INDEX_TYPES, ArgOp, BodyOp
from spikec.ir.registry import register_op
from spikec.ir.syntax import OpSyntax, ParsedOp
from spikec.ir.types import Type
from spikec.ir.verify import VerifyContext

# What may not run in the invariants region: it is evaluated once per launch, maybe on the host.
NOT_INVARIANT = frozenset({Trait.READS_MEMORY, Trait.SIDE_EFFECT, Trait.VARIES_PER_STEP})


@register_op
class KernelOp(Op):
    """``kernel.kernel @name {space = <index space>} invariants() {...} body(%i: i64) {...}``."""

    name = "kernel.kernel"
    traits = frozenset({Trait.SYMBOL})
    region_names = ("invariants", "body")
    sequential_regions = True
    attribute_codecs = {"space": INDEX_SPACE_CODEC}

    def __init__(self, name: str, space: IndexSpace, index_type: Type = Type.I64, index_name: str = "i"):
        super().__init__(attributes={"sym_name": SymbolRef(name), "space": space},
                         regions=[Region(), Region(Block([index_type], [index_name]))])

    @property
    def kernel_name(self) -> str:
        return self.attributes["sym_name"].name

    @property
    def space(self) -> IndexSpace:
        return self.attributes["space"]

    @property
    def invariants(self) -> Block:
        return self.regions[0].block

    @property
    def body(self) -> Block:
        return self.regions[1].block

    @property
    def index(self):
        """The body's block argument: the element index."""
        return self.body.args[0]

    def arguments(self) -> list[ArgOp]:
        """The kernel's scalar arguments, in order."""
        return [op for op in self.invariants.ops if isinstance(op, ArgOp)]

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[self.attributes["sym_name"]], attributes={"space": self.space})

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "KernelOp":
        symbol, _ = parsed.symbol_op_parts("the kernel's @name", ("space",))
        return cls.create(attributes={"sym_name": symbol, "space": parsed.attributes["space"]},
                          regions=parsed.regions)

    def verify(self, ctx: VerifyContext) -> None:
        space = self.attributes.get("space")
        ctx.require(isinstance(space, IndexSpace), self, "space must be an index space")
        space.verify(ctx, self)
        ctx.require(not self.invariants.args, self, "the invariants region takes no arguments")
        body_args = self.body.args
        ctx.require(len(body_args) == 1 and body_args[0].type in INDEX_TYPES, self,
                    "the body takes one argument, the element index (i32 or i64)")
        names = set()
        for op in self.invariants.ops:
            ctx.require(isinstance(op, BodyOp), op, f"{op.name} cannot appear in a kernel")
            ctx.require(not (op.traits & NOT_INVARIANT), op,
                        "the invariants region may not read arrays, use step/time/random numbers "
                        "or have side effects", "move this op to the body")
            if isinstance(op, ArgOp):
                ctx.require(op.arg_name not in names, op, f"argument {op.arg_name!r} is declared twice")
                names.add(op.arg_name)
        for op in self.body.ops:
            ctx.require(isinstance(op, BodyOp), op, f"{op.name} cannot appear in a kernel")
            ctx.require(not isinstance(op, ArgOp), op, "kernel.arg belongs in the invariants region")


@register_op
class ScheduleOp(Op):
    """``kernel.schedule step() { ... }``: what one time step runs, in order: launches and spike
    list clears, each tied to a clock. At a time when several clocks tick, the ops of those clocks
    run in this order; ops of other clocks are skipped."""

    name = "kernel.schedule"
    region_names = ("step",)

    def __init__(self) -> None:
        super().__init__(regions=[Region()])

    @property
    def step(self) -> Block:
        return self.regions[0].block

    def verify(self, ctx: VerifyContext) -> None:
        ctx.require(not self.attributes, self, "takes no attributes")
        for op in self.step.ops:
            ctx.require(isinstance(op, ScheduledOp), op, f"{op.name} cannot appear in a schedule")
        others = [op for op in ctx.module.ops if isinstance(op, ScheduleOp) and op is not self]
        ctx.require(not others, self, "a module has at most one schedule")


class ScheduledOp(Op):
    """Base of the ops of a schedule: each runs on the ticks of ``attributes["clock"]``."""

    @property
    def clock(self) -> SymbolRef:
        return self.attributes["clock"]

    def verify(self, ctx: VerifyContext) -> None:
        ctx.symbol(self, self.attributes.get("clock"), ClockOp, "a clock")


@register_op
class LaunchOp(ScheduledOp):
    """``kernel.launch @G.update {clock = @defaultclock, args = {tau = 0.01}}``: runs kernel
    G.update with its arguments bound by name to these values (every argument, no other)."""

    name = "kernel.launch"

    def __init__(self, kernel: str, clock: str, args: Mapping[str, float | int | bool] | None = None):
        super().__init__(attributes={"kernel": SymbolRef(kernel), "clock": SymbolRef(clock),
                                     "args": dict(args or {})})

    @property
    def kernel(self) -> SymbolRef:
        return self.attributes["kernel"]

    @property
    def args(self) -> dict[str, float | int | bool]:
        return self.attributes["args"]

    def syntax(self) -> OpSyntax:
        shown = {"clock": self.clock, **({"args": self.args} if self.args else {})}
        return OpSyntax(items=[self.kernel], attributes=shown)

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "LaunchOp":
        kernel, _ = parsed.symbol_op_parts("the kernel's @name", ("clock",), ("args",))
        return cls.create(attributes={"kernel": kernel, "clock": parsed.attributes["clock"],
                                      "args": parsed.attributes.get("args", {})})

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        kernel = ctx.symbol(self, self.attributes.get("kernel"), KernelOp, "a kernel")
        args = self.attributes.get("args")
        ctx.require(isinstance(args, dict), self, "args must be a dict")
        declared = {op.arg_name: op.result.type for op in kernel.arguments()}
        for name in declared.keys() - args.keys():
            ctx.fail(self, f"argument {name!r} of {kernel.attributes['sym_name']} is not given")
        for name, value in args.items():
            ctx.require(name in declared, self, f"{kernel.attributes['sym_name']} has no argument {name!r}")
            ctx.require(_fits(value, declared[name]), self, f"argument {name!r} needs a {declared[name]} value")


def _fits(value: object, type: Type) -> bool:
    if type is Type.BOOL:
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) if type.is_float else isinstance(value, int)


@register_op
class ClearSpikesOp(ScheduledOp):
    """``kernel.clear_spikes @G._spikespace {clock = @defaultclock}``: empties a spike list (sets
    its count to 0) before the kernels that fill it."""

    name = "kernel.clear_spikes"

    def __init__(self, spike_list: str, clock: str):
        super().__init__(attributes={"spike_list": SymbolRef(spike_list), "clock": SymbolRef(clock)})

    @property
    def spike_list(self) -> SymbolRef:
        return self.attributes["spike_list"]

    def syntax(self) -> OpSyntax:
        return OpSyntax(items=[self.spike_list], attributes={"clock": self.clock})

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "ClearSpikesOp":
        spike_list, _ = parsed.symbol_op_parts("the spike list's @name", ("clock",))
        return cls.create(attributes={"spike_list": spike_list, "clock": parsed.attributes["clock"]})

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        verify_spike_list(ctx, self, self.attributes.get("spike_list"))


# -- conveniences for passes and tools ---------------------------------------------------------------
def kernels(module: Module) -> Iterator[KernelOp]:
    return (op for op in module.ops if isinstance(op, KernelOp))


def arrays(module: Module) -> dict[str, ArrayOp]:
    return {op.array_name: op for op in module.ops if isinstance(op, ArrayOp)}


def schedule(module: Module) -> ScheduleOp | None:
    return next((op for op in module.ops if isinstance(op, ScheduleOp)), None)


__all__ = ["ArrayOp", "ClockOp", "KernelOp", "ScheduleOp", "LaunchOp", "ClearSpikesOp", "kernels",
           "arrays", "schedule"]
