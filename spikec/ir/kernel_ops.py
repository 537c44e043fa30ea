"""Every op of a kernel's regions, gathered from the modules that define them by family:

* `spikec.ir.kernel_base`: `BodyOp`, `ComputeOp` and shared helpers;
* `spikec.ir.kernel_values`: constant, arg, step, time, rand_uniform, rand_normal;
* `spikec.ir.kernel_arith`: add sub mul div floordiv mod pow min max and or neg not math cmp
  select cast;
* `spikec.ir.kernel_memory`: load, store, atomic_add, emit_spike.

Each op's docstring shows its text form; docs/ir.md lists them all.
"""

from spikec.ir.kernel_arith import (AddOp, AndOp, BinaryOp, CastOp, CmpOp, CMP_PREDICATES, DivOp,
                                    FloorDivOp, MathOp, MaxOp, MinOp, ModOp, MulOp, NegOp, NotOp,
                                    OrOp, PowOp, SelectOp, SubOp, UnaryOp)
from spikec.ir.kernel_base import INDEX_TYPES, BodyOp, ComputeOp, typed
from spikec.ir.kernel_memory import AtomicAddOp, EmitSpikeOp, LoadOp, MemoryOp, StoreOp, WriteOp
from spikec.ir.kernel_values import (ArgOp, ConstantOp, LaunchValueOp, RandNormalOp, RandOp,
                                     RandUniformOp, StepOp, TimeOp, constant_scalar)

__all__ = [
    "AddOp", "AndOp", "ArgOp", "AtomicAddOp", "BinaryOp", "BodyOp", "CMP_PREDICATES", "CastOp",
    "CmpOp", "ComputeOp", "ConstantOp", "DivOp", "EmitSpikeOp", "FloorDivOp", "INDEX_TYPES",
    "LaunchValueOp", "LoadOp", "MathOp", "MaxOp", "MemoryOp", "MinOp", "ModOp", "MulOp", "NegOp",
    "NotOp", "OrOp", "PowOp", "RandNormalOp", "RandOp", "RandUniformOp", "SelectOp", "StepOp",
    "StoreOp", "SubOp", "TimeOp", "UnaryOp", "WriteOp", "constant_scalar", "typed",
]
