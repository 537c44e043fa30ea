"""A stable counting sort of int32 keys, compiled once per process (machine code cached on disk):
O(M + K) where numpy's stable argsort of int32 is O(M log M) (timsort; its O(M) radix sort is
for 16-bit keys only).

    i64 @spikec_key_counts(i64 %M, ptr %keys, ptr %then, ptr %counts)

adds each key's count to `counts` (i64, K words) and returns bit 0 set when the pairs
(keys[s], then[s]) never decrease (already grouped), bit 1 when `then` never decreases: one pass
without the temporaries and the int64 copy that `np.bincount` and numpy comparisons make.

    void @spikec_counting_scatter(i64 %M, ptr %keys, ptr %order, ptr %next, ptr %out)

writes ``e = order ? order[s] : s`` to ``out[next[keys[e]]++]`` for s = 0..M-1: with `next` the
start of each key's group (the exclusive prefix sum of the key counts), `out` lists the elements
grouped by key, in the order `order` gives them (number order when `order` is null). Two calls,
by a secondary key then by the primary one, sort by (primary, secondary, number): the LSD radix
construction. Keys must lie in 0..K-1 (the caller's arrays are synapse indices, checked when
created).
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np
from llvmlite import ir

from spikec.backends.cache import default_cache
from spikec.backends.cpu import CpuHooks, host_target, jit
from spikec.backends.lower_to_llvm import I32, I64, VOID, for_range

FUNCTION = "spikec_counting_scatter"
COUNTS_FUNCTION = "spikec_key_counts"


def _module() -> ir.Module:
    module = ir.Module(name="spikec_counting_sort")
    hooks = CpuHooks()
    module.triple, module.data_layout = hooks.triple, hooks.data_layout
    _define_counts(module)
    pointer = ir.PointerType()
    function = ir.Function(module, ir.FunctionType(VOID, [I64] + [pointer] * 4), FUNCTION)
    count, keys, order, next_, out = function.args
    for argument in (keys, order, next_, out):
        argument.add_attribute("noalias")
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    given = builder.icmp_unsigned("!=", builder.ptrtoint(order, I64), ir.Constant(I64, 0))
    with for_range(builder, ir.Constant(I64, 0), count, ir.Constant(I64, 1), "s") as s:
        with builder.if_else(given) as (then, otherwise):
            with then:
                loaded = builder.sext(builder.load(builder.gep(order, [s], source_etype=I32), typ=I32), I64)
                picked = builder.block
            with otherwise:
                plain = builder.block
        element = builder.phi(I64, "element")
        element.add_incoming(loaded, picked)
        element.add_incoming(s, plain)
        key = builder.sext(builder.load(builder.gep(keys, [element], source_etype=I32), typ=I32), I64)
        slot_pointer = builder.gep(next_, [key], source_etype=I64)
        slot = builder.load(slot_pointer, typ=I64)
        builder.store(builder.trunc(element, I32), builder.gep(out, [slot], source_etype=I32))
        builder.store(builder.add(slot, ir.Constant(I64, 1)), slot_pointer)
    builder.ret_void()
    return module


def _define_counts(module: ir.Module) -> None:
    pointer = ir.PointerType()
    function = ir.Function(module, ir.FunctionType(I64, [I64] + [pointer] * 3), COUNTS_FUNCTION)
    count, keys, then, counts = function.args
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    flags = builder.alloca(I64, name="flags")
    builder.store(ir.Constant(I64, 3), flags)
    with for_range(builder, ir.Constant(I64, 0), count, ir.Constant(I64, 1), "s") as s:
        key = builder.load(builder.gep(keys, [s], source_etype=I32), typ=I32)
        slot = builder.gep(counts, [builder.sext(key, I64)], source_etype=I64)
        builder.store(builder.add(builder.load(slot, typ=I64), ir.Constant(I64, 1)), slot)
        with builder.if_then(builder.icmp_signed(">", s, ir.Constant(I64, 0))):
            before = builder.sub(s, ir.Constant(I64, 1))
            key_before = builder.load(builder.gep(keys, [before], source_etype=I32), typ=I32)
            other = builder.load(builder.gep(then, [s], source_etype=I32), typ=I32)
            other_before = builder.load(builder.gep(then, [before], source_etype=I32), typ=I32)
            then_ok = builder.icmp_signed(">=", other, other_before)
            grouped = builder.or_(builder.icmp_signed(">", key, key_before),
                                  builder.and_(builder.icmp_signed("==", key, key_before), then_ok))
            bits = builder.or_(builder.zext(grouped, I64),
                               builder.shl(builder.zext(then_ok, I64), ir.Constant(I64, 1)))
            builder.store(builder.and_(builder.load(flags, typ=I64), bits), flags)
    builder.ret(builder.load(flags, typ=I64))


@functools.cache
def _compiled():
    """The engine (kept alive with the functions) and the two functions, built on first use
    (machine code from the kernel cache's disk level when an earlier process compiled it)."""
    text = str(_module())
    cache = default_cache()
    engine, _ = jit(text, cache, cache.key(text, f"counting-sort:{host_target()}"))
    scatter = ctypes.CFUNCTYPE(None, ctypes.c_int64, *([ctypes.c_void_p] * 4))
    counts = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, *([ctypes.c_void_p] * 3))
    return (engine, scatter(engine.get_function_address(FUNCTION)),
            counts(engine.get_function_address(COUNTS_FUNCTION)))


def key_counts(keys: np.ndarray, then: np.ndarray, size: int) -> tuple[np.ndarray, bool, bool]:
    """(how many times each of 0..size-1 occurs in `keys`, whether the pairs (keys, then) never
    decrease, whether `then` never decreases); both arrays int32 of one length."""
    keys = np.ascontiguousarray(keys, dtype=np.int32)
    then = np.ascontiguousarray(then, dtype=np.int32)
    counts = np.zeros(size, dtype=np.int64)
    flags = _compiled()[2](len(keys), keys.ctypes.data, then.ctypes.data, counts.ctypes.data)
    return counts, bool(flags & 1), bool(flags & 2)


def counting_sort(keys: np.ndarray, starts: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """The elements grouped by `keys` (int32, each in 0..len(starts)-1), stably: in the order of
    `order` (a permutation, int32) or of their numbers. `starts[k]` is where key k's group begins
    (the exclusive prefix sum of the key counts)."""
    keys = np.ascontiguousarray(keys, dtype=np.int32)
    following = np.array(starts, dtype=np.int64)  # a copy: the function advances it
    out = np.empty(len(keys), dtype=np.int32)
    if order is not None:
        order = np.ascontiguousarray(order, dtype=np.int32)
    function = _compiled()[1]
    function(len(keys), keys.ctypes.data, 0 if order is None else order.ctypes.data,
             following.ctypes.data, out.ctypes.data)
    return out
