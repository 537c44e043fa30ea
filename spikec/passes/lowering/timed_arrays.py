"""Lowering TimedArray calls: `ta(t)` becomes a load from the array of its values.

The object's `model.timed_array @ta` becomes the array `G._timedarray_ta` (f64, the values row
by row, written by the runtime before the first step). A call reads, as Brian's generated code,

    row = clip(int((t/epsilon + 0.5)/K), 0, rows - 1)     epsilon = dt_ta/K, K from the code's dt
    ta(t) = values[row]       ta(t, j) = values[row*columns + j]  (NaN unless 0 <= j < columns)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from spikec.ir.core import Module, Value
from spikec.ir.kernel_ops import (AddOp, AndOp, CmpOp, DivOp, LoadOp, MaxOp, MinOp, MulOp,
                                  SelectOp)
from spikec.ir.model import ObjectOp
from spikec.ir.model_inputs import TimedArrayOp, upsampling_factor
from spikec.ir.types import Type


@dataclass(frozen=True)
class TimedArrayAccess:
    """Where a TimedArray's values are and how to index them (columns = 0: one-dimensional)."""

    array: str
    dt: float
    rows: int
    columns: int


def timed_array_name(owner: str, name: str) -> str:
    return f"{owner}._timedarray_{name}"


def timed_array_access(array: str, op: TimedArrayOp) -> TimedArrayAccess:
    """How to read the values of `op`, kept in `array`."""
    shape = op.shape
    return TimedArrayAccess(array, op.attributes["dt"], shape[0], shape[1] if len(shape) == 2 else 0)


def timed_array_accesses(owner: ObjectOp) -> dict[str, TimedArrayAccess]:
    """The TimedArrays code of `owner` may call, by the name the code uses."""
    return {op.sym_name: timed_array_access(timed_array_name(owner.sym_name, op.sym_name), op)
            for op in owner.members(TimedArrayOp)}


def timed_array_values(module: Module) -> dict[str, np.ndarray]:
    """The initial contents of every TimedArray array of a model module (for the runtime)."""
    return {timed_array_name(owner.sym_name, op.sym_name):
            np.array(op.attributes["values"], dtype=np.float64)
            for owner in module.ops if isinstance(owner, ObjectOp)
            for op in owner.members(TimedArrayOp)}


def emit_timed_array(emitter, access: TimedArrayAccess, args: list[Value], dt: float) -> Value:
    """The value of a call with lowered `args`, read by code running on a clock of step `dt`
    (`emitter` is the kernel's `BodyEmitter`)."""
    body, constant = emitter.body, emitter.constant
    K = upsampling_factor(dt, access.dt)
    time = emitter.convert(emitter.to_float(args[0]), Type.F64)
    scaled = body.add(DivOp(time, constant(access.dt / K, Type.F64)))
    shifted = body.add(AddOp(scaled, constant(0.5, Type.F64)))
    row = emitter.convert(body.add(DivOp(shifted, constant(float(K), Type.F64))), Type.I64)
    row = _clip(emitter, row, access.rows - 1)
    if not access.columns:
        return body.add(LoadOp(access.array, row, Type.F64))
    column = emitter.convert(emitter.numeric(args[1]), Type.I64)
    inside = body.add(AndOp(body.add(CmpOp("ge", column, constant(0, Type.I64))),
                            body.add(CmpOp("lt", column, constant(access.columns, Type.I64)))))
    index = body.add(AddOp(body.add(MulOp(row, constant(access.columns, Type.I64))),
                           _clip(emitter, column, access.columns - 1)))
    value = body.add(LoadOp(access.array, index, Type.F64))
    return body.add(SelectOp(inside, value, constant(math.nan, Type.F64)))


def _clip(emitter, value: Value, high: int) -> Value:
    low = emitter.body.add(MaxOp(value, emitter.constant(0, Type.I64)))
    return emitter.body.add(MinOp(low, emitter.constant(high, Type.I64)))


__all__ = ["TimedArrayAccess", "timed_array_access", "timed_array_accesses", "timed_array_values", "emit_timed_array",
           "timed_array_name"]
