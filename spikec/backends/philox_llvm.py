"""Philox4x32-10 and spikec's uniform/normal derivations in LLVM IR (the scheme of
`spikec.ir.philox`, followed operation by operation so every target draws the same bits).

Only integer operations and exact float conversions make a uniform, so uniforms are bit-identical
on every target. A normal adds log, sqrt and cos: sqrt is correctly rounded everywhere; log and cos
come from the target's math library (libm on the CPU, libdevice on the GPU), whose results may differ
from numpy's by an ulp, hence normals agree to ~1e-15 relative, not bitwise.
"""

from __future__ import annotations

import math

from llvmlite import ir

from spikec.ir import philox

I32 = ir.IntType(32)
I64 = ir.IntType(64)
F64 = ir.DoubleType()
WORDS = ir.LiteralStructType([I32, I32, I32, I32])
PHILOX_FUNCTION = "spikec.philox4x32_10"
# glibc's libmvec variants (AVX2, 4 lanes of f64) of the functions a normal calls.
VECTOR_WIDTH = 4
LIBMVEC_AVX2 = {"log": "_ZGVdN4v_log", "cos": "_ZGVdN4v_cos"}
VECTOR_VARIANT_ATTRIBUTE = "vector-function-abi-variant"


def declare_philox(module: ir.Module) -> ir.Function:
    """Declare (not define) the Philox helper: (c0, c1, c2, c3, k0, k1) -> {w0, w1, w2, w3}."""
    function = ir.Function(module, ir.FunctionType(WORDS, [I32] * 6), PHILOX_FUNCTION)
    function.linkage = "internal"
    function.attributes.add("alwaysinline")
    function.attributes.add("nounwind")
    return function


def define_philox(function: ir.Function) -> None:
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    c0, c1, c2, c3, k0, k1 = function.args
    m0, m1 = (ir.Constant(I64, int(m)) for m in philox.MULTIPLIERS)
    w0, w1 = (ir.Constant(I32, int(w)) for w in philox.WEYL)
    shift = ir.Constant(I64, 32)

    def mulhilo(multiplier: ir.Constant, x: ir.Value) -> tuple[ir.Value, ir.Value]:
        product = builder.mul(builder.zext(x, I64), multiplier)
        return builder.trunc(builder.lshr(product, shift), I32), builder.trunc(product, I32)

    for round_index in range(philox.ROUNDS):
        if round_index:
            k0, k1 = builder.add(k0, w0), builder.add(k1, w1)
        hi0, lo0 = mulhilo(m0, c0)
        hi1, lo1 = mulhilo(m1, c2)
        c0, c1, c2, c3 = (builder.xor(builder.xor(hi1, c1), k0), lo1,
                          builder.xor(builder.xor(hi0, c3), k1), lo0)
    result = ir.Constant(WORDS, ir.Undefined)
    for i, word in enumerate((c0, c1, c2, c3)):
        result = builder.insert_value(result, word, i)
    builder.ret(result)


def draw_words(builder: ir.IRBuilder, function: ir.Function, seed: ir.Value, stream: int | ir.Value,
               step: ir.Value, element: ir.Value, draw: int) -> list[ir.Value]:
    """The four words of one draw; `seed` and `step` are i64, `element` any integer, `stream` a
    constant or an i32 read at run time."""
    element32 = builder.trunc(element, I32) if element.type.width > 32 else element
    counter = [element32, ir.Constant(I32, draw), builder.trunc(step, I32),
               builder.trunc(builder.lshr(step, ir.Constant(I64, 32)), I32)]
    key = [builder.trunc(seed, I32), ir.Constant(I32, stream) if isinstance(stream, int) else stream]
    words = builder.call(function, counter + key)
    return [builder.extract_value(words, i) for i in range(4)]


def words_to_uniform(builder: ir.IRBuilder, high: ir.Value, low: ir.Value) -> ir.Value:
    a = builder.uitofp(builder.lshr(high, ir.Constant(I32, 5)), F64)
    b = builder.uitofp(builder.lshr(low, ir.Constant(I32, 6)), F64)
    return builder.fmul(builder.fadd(builder.fmul(a, ir.Constant(F64, 67108864.0)), b),
                        ir.Constant(F64, 1.0 / 9007199254740992.0))


def normal_from_words(builder: ir.IRBuilder, words: list[ir.Value], log, cos, sqrt) -> ir.Value:
    """sqrt(-2 log(1 - u1)) * cos(2 pi u2), in numpy's evaluation order; `log`, `cos`, `sqrt`
    build the target's f64 math calls."""
    u1 = words_to_uniform(builder, words[0], words[1])
    u2 = words_to_uniform(builder, words[2], words[3])
    radius = sqrt(builder.fmul(ir.Constant(F64, -2.0), log(builder.fsub(ir.Constant(F64, 1.0), u1))))
    return builder.fmul(radius, cos(builder.fmul(ir.Constant(F64, 2.0 * math.pi), u2)))


def vector_normal_function(module: ir.Module, name: str) -> ir.Function:
    """``double @spikec_normal_<name>(double)`` (log or cos for a normal draw): the libmvec AVX2
    function on a splat of the argument, lane 0 returned; not inlined, so that LLVM's loop
    vectoriser sees a call it can widen to that same libmvec function (`call_vectorisable`).
    Scalar and vector iterations thus compute every element's value with the same code (libmvec
    lanes do not depend on each other), so a normal does not depend on which positions a
    vectorised loop leaves to its scalar remainder, nor on how threads split the positions."""
    symbol = f"spikec_normal_{name}"
    existing = module.globals.get(symbol)
    if existing is not None:
        return existing
    vector_type = ir.VectorType(F64, VECTOR_WIDTH)
    vector = module.globals.get(LIBMVEC_AVX2[name])
    if vector is None:
        vector = ir.Function(module, ir.FunctionType(vector_type, [vector_type]), LIBMVEC_AVX2[name])
    function = ir.Function(module, ir.FunctionType(F64, [F64]), symbol)
    function.linkage = "internal"
    function.attributes.add("noinline")
    function.attributes.add("nounwind")
    builder = ir.IRBuilder(function.append_basic_block("entry"))
    splat = ir.Constant(vector_type, ir.Undefined)
    for lane in range(VECTOR_WIDTH):
        splat = builder.insert_element(splat, function.args[0], ir.Constant(I32, lane))
    builder.ret(builder.extract_element(builder.call(vector, [splat]), ir.Constant(I32, 0)))
    return function


def call_vectorisable(builder: ir.IRBuilder, function: ir.Function, x: ir.Value) -> ir.Value:
    """Call a `vector_normal_function` with its vector variant named at the call site (LLVM's
    vector function ABI, the form `-vector-library` mappings take), so that only these calls, not
    every libm call of the module, may become libmvec calls. llvmlite only accepts a fixed set of
    call attributes, hence the string attribute is added to the set directly."""
    vector = LIBMVEC_AVX2[function.name.removeprefix("spikec_normal_")]
    call = builder.call(function, [x])
    variant = f"_ZGV_LLVM_N{VECTOR_WIDTH}v_{function.name}({vector})"
    set.add(call.attributes, f'"{VECTOR_VARIANT_ATTRIBUTE}"="{variant}"')
    return call
