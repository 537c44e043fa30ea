"""Hypothesis strategies for random well-typed kernel-IR modules and random inputs for them.

The modules exercise every body op: loads (also at computed, conflicting indices), masked stores,
atomic adds, emit_spike, random numbers, step/time, casts, math, compare/select, arithmetic on all
types, launch-invariant work in the body (for hoist-invariants), repeated subexpressions (for cse),
constant subtrees and identities (for fold) and dead values (for dce).
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Block, Module, Value
from spikec.ir.index_spaces import Elements, Spikes
from spikec.ir.kernel import ClearSpikesOp, ClockOp, KernelOp, LaunchOp, ScheduleOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import (AddOp, AndOp, ArgOp, AtomicAddOp, CastOp, CmpOp, ConstantOp, DivOp,
                                  EmitSpikeOp, FloorDivOp, LoadOp, MathOp, MaxOp, MinOp, ModOp, MulOp,
                                  NegOp, NotOp, OrOp, PowOp, RandNormalOp, RandUniformOp, SelectOp, StepOp,
                                  StoreOp, SubOp, TimeOp)
from spikec.ir.types import Type

N = 6
DATA_ARRAYS = {"A.x": Type.F64, "A.y": Type.F64, "A.f": Type.F32, "A.n": Type.I32, "A.b": Type.BOOL,
               "A.acc": Type.F64}
SPIKES = "A._spikespace"
NUMERIC_BINARY = [AddOp, SubOp, MulOp, DivOp, FloorDivOp, ModOp, MinOp, MaxOp]
SAFE_MATH = ["exp", "sin", "cos", "tanh", "arctan", "abs", "floor", "ceil", "sign", "expm1", "exprel",
             "sqrt", "log"]
CONSTANTS = {Type.F64: [0.0, -0.0, 1.0, -1.0, 0.5, 3.0, 1e-3], Type.F32: [0.0, -0.0, 1.0, 0.25, -2.0],
             Type.I32: [0, 1, -1, 2, 5], Type.I64: [0, 1, 3, -2], Type.BOOL: [True, False]}


class _Pools:
    """Values available so far, by type."""

    def __init__(self) -> None:
        self.by_type: dict[Type, list[Value]] = {t: [] for t in Type}

    def add(self, value: Value) -> Value:
        self.by_type[value.type].append(value)
        return value

    def types(self) -> list[Type]:
        return [t for t, values in self.by_type.items() if values]


def _constant(draw, block: Block, pools: _Pools, type: Type) -> Value:
    return pools.add(block.add(ConstantOp(draw(st.sampled_from(CONSTANTS[type])), type)))


def _value(draw, block: Block, pools: _Pools, type: Type) -> Value:
    if not pools.by_type[type] or draw(st.integers(0, 5)) == 0:
        return _constant(draw, block, pools, type)
    return draw(st.sampled_from(pools.by_type[type]))


def _pure_op(draw, block: Block, pools: _Pools) -> None:
    """One random pure computation on available values."""
    kind = draw(st.sampled_from(["binary", "binary", "unary", "cmp", "select", "cast", "math", "pow", "logic"]))
    type = draw(st.sampled_from([Type.F64, Type.F64, Type.F32, Type.I32, Type.I64]))
    a, b = _value(draw, block, pools, type), _value(draw, block, pools, type)
    if kind == "binary":
        pools.add(block.add(draw(st.sampled_from(NUMERIC_BINARY))(a, b)))
    elif kind == "unary":
        pools.add(block.add(NegOp(a)))
    elif kind == "cmp":
        pools.add(block.add(CmpOp(draw(st.sampled_from(["lt", "le", "gt", "ge", "eq", "ne"])), a, b)))
    elif kind == "select":
        pools.add(block.add(SelectOp(_value(draw, block, pools, Type.BOOL), a, b)))
    elif kind == "cast":
        pools.add(block.add(CastOp(a, draw(st.sampled_from(list(Type))))))
    elif kind == "math" and type.is_float:
        pools.add(block.add(MathOp(draw(st.sampled_from(SAFE_MATH)), [a])))
    elif kind == "pow" and type.is_float:
        pools.add(block.add(PowOp(a, b)))
    else:
        p, q = _value(draw, block, pools, Type.BOOL), _value(draw, block, pools, Type.BOOL)
        pools.add(block.add(draw(st.sampled_from([AndOp, OrOp]))(p, q)))
        pools.add(block.add(NotOp(p)))


def _index(draw, block: Block, pools: _Pools, element: Value) -> Value:
    """The element index, a constant index, or a computed (conflicting) one in 0..N-1."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return block.add(ConstantOp(draw(st.integers(0, N - 1)), Type.I32))
    if choice == 1:
        loaded = block.add(LoadOp("A.n", element, Type.I32))
        return block.add(ModOp(loaded, block.add(ConstantOp(N, Type.I32))))
    return element


def _body_op(draw, block: Block, pools: _Pools, element: Value, emitted: list[bool]) -> None:
    kind = draw(st.sampled_from(["pure", "pure", "pure", "load", "load", "store", "atomic", "rand",
                                 "launch", "emit", "repeat", "reload", "reload"]))
    if kind == "pure":
        _pure_op(draw, block, pools)
    elif kind == "load":
        name = draw(st.sampled_from(sorted(DATA_ARRAYS)))
        pools.add(block.add(LoadOp(name, _index(draw, block, pools, element), DATA_ARRAYS[name])))
    elif kind in ("store", "atomic"):
        name = draw(st.sampled_from(["A.x", "A.y", "A.f", "A.acc"] + (["A.n", "A.b"] if kind == "store" else [])))
        mask = _value(draw, block, pools, Type.BOOL) if draw(st.booleans()) else None
        value = _value(draw, block, pools, DATA_ARRAYS[name])
        op = StoreOp if kind == "store" else AtomicAddOp
        block.append(op(name, _index(draw, block, pools, element), value, mask))
    elif kind == "rand":
        cls = draw(st.sampled_from([RandUniformOp, RandNormalOp]))
        pools.add(block.add(cls(element, draw(st.integers(0, 3)), draw(st.integers(0, 2)))))
    elif kind == "launch":
        pools.add(block.add(draw(st.sampled_from([StepOp, TimeOp]))()))
    elif kind == "emit" and not emitted:
        emitted.append(True)
        mask = _value(draw, block, pools, Type.BOOL) if draw(st.booleans()) else None
        block.append(EmitSpikeOp(SPIKES, element, mask))
    elif kind == "reload":  # load, maybe write the same place, load again: food for cse-loads
        name = draw(st.sampled_from(["A.x", "A.acc"]))
        index = _index(draw, block, pools, element)
        pools.add(block.add(LoadOp(name, index, Type.F64)))
        if draw(st.integers(0, 3)):
            value = _constant(draw, block, pools, Type.F64)
            block.append(draw(st.sampled_from([StoreOp, AtomicAddOp]))(name, index, value))
        pools.add(block.add(LoadOp(name, index, Type.F64)))
    elif kind == "repeat" and pools.by_type[Type.F64]:
        a, b = draw(st.sampled_from(pools.by_type[Type.F64])), draw(st.sampled_from(pools.by_type[Type.F64]))
        for _ in range(2):  # the same computation twice: food for cse
            pools.add(block.add(MulOp(a, b)))


@st.composite
def kernel_modules(draw, max_invariant_ops: int = 5, max_body_ops: int = 14) -> Module:
    """A verified-to-be-valid module: arrays, a clock, one kernel and a schedule launching it."""
    space = draw(st.sampled_from([Elements(N), Elements(N), Spikes(SymbolRef(SPIKES))]))
    kernel = KernelOp("A.k", space, draw(st.sampled_from([Type.I64, Type.I32])))
    invariant = _Pools()
    invariant.add(kernel.invariants.add(ArgOp("tau", Type.F64)))
    invariant.add(kernel.invariants.add(ArgOp("k", Type.I32)))
    for _ in range(draw(st.integers(0, max_invariant_ops))):
        _pure_op(draw, kernel.invariants, invariant)
    body = _Pools()
    for type, values in invariant.by_type.items():
        body.by_type[type] = list(values)
    body.add(kernel.index)
    emitted: list[bool] = [] if isinstance(space, Elements) else [True]  # never emit into the list iterated
    for _ in range(draw(st.integers(1, max_body_ops))):
        _body_op(draw, kernel.body, body, kernel.index, emitted)
    sinks = _sinks(draw, kernel, body, invariant)
    schedule = ScheduleOp()
    if isinstance(space, Elements):
        schedule.step.append(ClearSpikesOp(SPIKES, "defaultclock"))
    schedule.step.append(LaunchOp("A.k", "defaultclock", {"tau": 0.01, "k": 3}))
    arrays = [ArrayOp(name, type, N) for name, type in DATA_ARRAYS.items()] + [ArrayOp(SPIKES, Type.I32, N + 1)]
    arrays += [ArrayOp(name, Type.F64, N) for name in sinks]
    return Module([*arrays, ClockOp("defaultclock", 1e-3), kernel, schedule])


def _sinks(draw, kernel: KernelOp, body: _Pools, invariant: _Pools) -> list[str]:
    """Store a random subset of the body's values (as f64) into arrays A.sink<k>, so that what the
    passes do to them is observable; the others stay dead (food for dce)."""
    names = []
    for value in [v for values in body.by_type.values() for v in values]:
        if value in invariant.by_type[value.type] or not draw(st.integers(0, 3)):
            continue
        name = f"A.sink{len(names)}"
        as_f64 = kernel.body.add(CastOp(value, Type.F64)) if value.type is not Type.F64 else value
        kernel.body.append(StoreOp(name, kernel.index, as_f64))
        names.append(name)
    return names


@st.composite
def array_inputs(draw) -> dict[str, np.ndarray]:
    """Random contents for the arrays of `kernel_modules` (a valid spike list included)."""
    floats = st.floats(-10, 10, allow_nan=False, width=32)
    arrays = {
        "A.x": np.array(draw(st.lists(floats, min_size=N, max_size=N)), dtype=np.float64),
        "A.y": np.array(draw(st.lists(floats, min_size=N, max_size=N)), dtype=np.float64),
        "A.f": np.array(draw(st.lists(floats, min_size=N, max_size=N)), dtype=np.float32),
        "A.n": np.array(draw(st.lists(st.integers(-20, 20), min_size=N, max_size=N)), dtype=np.int32),
        "A.b": np.array(draw(st.lists(st.booleans(), min_size=N, max_size=N)), dtype=np.bool_),
        "A.acc": np.zeros(N, dtype=np.float64),
    }
    spiking = sorted(draw(st.sets(st.integers(0, N - 1))))
    spikes = np.zeros(N + 1, dtype=np.int32)
    spikes[:len(spiking)] = spiking
    spikes[-1] = len(spiking)
    arrays[SPIKES] = spikes
    for k in range(64):
        arrays[f"A.sink{k}"] = np.zeros(N, dtype=np.float64)
    return arrays


def same_arrays(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    """Bit-for-bit equal contents (any nan equals any nan; signed zeros differ)."""
    if a.keys() != b.keys():
        return False
    for name in a:
        x, y = a[name], b[name]
        if x.dtype.kind == "f":
            both_nan = np.isnan(x) & np.isnan(y)
            if not np.array_equal(np.where(both_nan, 0, x), np.where(both_nan, 0, y)):
                return False
            if not np.array_equal(np.signbit(x) | both_nan, np.signbit(y) | both_nan):
                return False
        elif not np.array_equal(x, y):
            return False
    return True
