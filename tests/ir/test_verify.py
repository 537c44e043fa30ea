"""The verifier: each broken invariant gives an error that quotes the op and says what is wrong."""

from __future__ import annotations

import pytest

from spikec.errors import VerificationError
from spikec.ir.core import Module
from spikec.ir.kernel import KernelOp
from spikec.ir.index_spaces import Elements
from spikec.ir.kernel_ops import AddOp, ConstantOp, LoadOp
from spikec.ir.parser import parse_module
from spikec.ir.types import Type
from spikec.ir.verify import verify_module

HEADER = """kernel.array @G.v {length = 4} : f64
kernel.array @G.n {length = 4} : i32
kernel.array @G._spikespace {length = 5} : i32
kernel.clock @defaultclock {dt = 0.001}
"""


def kernel(body: str, invariants: str = "", space: str = "elements(4)", index: str = "i64") -> str:
    return (HEADER + f"kernel.kernel @k {{space = {space}}} invariants() {{\n{invariants}}} "
            f"body(%i: {index}) {{\n{body}}}\n")


CASES = [
    (kernel("%c = kernel.constant 1.0 : f32\n%v = kernel.load @G.v[%i] : f64\n%s = kernel.add %v, %c : f64\n"),
     "operand and result types differ (f64, f32, f64)", "%s = kernel.add %v, %c : f64"),
    (kernel("%v = kernel.load @G.v[%i] : f32\n"), "@G.v holds f64, not f32", "kernel.load @G.v[%i] : f32"),
    (kernel("%v = kernel.load @G.w[%i] : f64\n"), "@G.w is not defined", "kernel.load @G.w"),
    (kernel("%c = kernel.constant 1.0 : f64\n%v = kernel.load @G.v[%c] : f64\n"), "index must be i32 or i64, not f64", None),
    (kernel("%c = kernel.constant 1 : i64\nkernel.store @G.n[%i], %c : i64\n"), "@G.n holds i32, not i64", None),
    (kernel("%x = kernel.math expo, %i : i64\n"), "unknown math function 'expo'", None),
    (kernel("%x = kernel.cast %i : i64 -> f64\n%y = kernel.math exp, %x, %x : f64\n"), "exp takes 1 operand(s), not 2", None),
    (kernel("%y = kernel.math exp, %i : i64\n"), "type must be float, not i64", None),
    (kernel("%c = kernel.cmp lq, %i, %i : i64\n"), "unknown predicate 'lq'", None),
    (kernel("%x = kernel.select %i, %i, %i : i64\n"), "condition must be bool, not i64", None),
    (kernel("%x = kernel.pow %i, %i : i64\n"), "type must be float, not i64", None),
    (kernel("%x = kernel.and %i, %i : i64\n"), "type must be bool, not i64", None),
    (kernel("%v = kernel.load @G.v[%i] : f64\n", invariants="%z = kernel.constant 0 : i64\n%w = kernel.load @G.v[%z] : f64\n"),
     "the invariants region may not read arrays", "kernel.load @G.v[%z] : f64"),
    (kernel("%t = kernel.step : i64\n", invariants="%t0 = kernel.time : f64\n"), "may not read arrays, use step/time", None),
    (kernel("%a = kernel.arg \"tau\" : f64\n"), "kernel.arg belongs in the invariants region", None),
    (kernel("", invariants="%a = kernel.arg \"tau\" : f64\n%b = kernel.arg \"tau\" : f64\n"), "argument 'tau' is declared twice", None),
    (kernel("", index="f64"), "the body takes one argument, the element index", None),
    (kernel("", space="spikes(@G.v)"), "spike list @G.v must hold i32 or i64", None),
    (kernel("", space="spikes(@G.nothing)"), "@G.nothing is not defined", None),
    (kernel("kernel.emit_spike @G.v, %i\n"), "spike list @G.v must hold i32 or i64", None),
    (kernel("kernel.emit_spike @G._spikespace, %i if %i\n"), "mask must be bool", None),
    (kernel("%c = kernel.constant 2 : i32\n"), None, None),
    (kernel("%c = kernel.constant 0.1 : f32\n"), "not exactly representable in f32", None),
    (kernel("%c = kernel.constant 3000000000 : i32\n"), "does not fit in i32", None),
    (kernel("%r = kernel.rand_uniform %i {stream = -1, draw = 0} : f64\n"), "stream must be an integer in [0, 2**32)", None),
    (kernel("%b = kernel.constant true : bool\nkernel.atomic_add @G.b[%i], %b : bool\n"), "@G.b is not defined", None),
    (HEADER + "kernel.array @G.v {length = 3} : f64\n", "symbol @G.v is defined twice", None),
    (HEADER + "kernel.array @G.x {length = -1} : f64\n", "length must be a non-negative integer", None),
    (HEADER + "kernel.array @G.x {length = 4, ring_lead = 0} : f64\n", "ring_lead must be an integer of at least 1", None),
    (HEADER + "kernel.array @G.x {length = 4, ring_lead = 2} : f64\n", None, None),
    (HEADER + "kernel.clock @c2 {dt = -1.0}\n", "dt must be a positive float", None),
    (kernel("", invariants="%a = kernel.arg \"tau\" : f64\n") + "kernel.schedule step() {\n"
     "  kernel.launch @k {clock = @defaultclock}\n}\n", "argument 'tau' of @k is not given", None),
    (kernel("") + "kernel.schedule step() {\n  kernel.launch @k {clock = @defaultclock, args = {tau = 1.0}}\n}\n",
     "@k has no argument 'tau'", None),
    (kernel("", invariants="%a = kernel.arg \"n\" : i32\n") + "kernel.schedule step() {\n"
     "  kernel.launch @k {clock = @defaultclock, args = {n = 1.5}}\n}\n", "argument 'n' needs a i32 value", None),
    (kernel("") + "kernel.schedule step() {\n  kernel.launch @k {clock = @G.v}\n}\n", "@G.v is a kernel.array, not a clock", None),
    (kernel("") + "kernel.schedule step() {\n  kernel.launch @G.v {clock = @defaultclock}\n}\n", "not a kernel", None),
    (kernel("") + "kernel.schedule step() {\n  kernel.clear_spikes @G.v {clock = @defaultclock}\n}\n",
     "spike list @G.v must hold i32 or i64", None),
]


@pytest.mark.parametrize("text, message, quoted", CASES)
def test_verifier_names_the_op_and_the_problem(text, message, quoted):
    module = parse_module(text, "t.ir")
    if message is None:
        verify_module(module)  # the valid control case
        return
    with pytest.raises(VerificationError) as caught:
        verify_module(module)
    assert message in caught.value.message
    if quoted is not None:
        assert quoted in caught.value.message
    assert caught.value.location is not None and caught.value.location.owner == "t.ir"


def test_dominance_is_checked_for_ops_built_in_python():
    kernel_op = KernelOp("k", Elements(4))
    late = ConstantOp(1, Type.I64)
    kernel_op.body.append(AddOp(kernel_op.index, late.result))  # uses a value defined after it
    kernel_op.body.append(late)
    with pytest.raises(VerificationError, match=r"operand 2 is not defined before this op \(SSA dominance\)"):
        verify_module(Module([kernel_op]))


def test_body_values_are_not_visible_in_the_invariants_region():
    kernel_op = KernelOp("k", Elements(4))
    body_value = kernel_op.body.add(ConstantOp(1.0, Type.F64))
    kernel_op.invariants.append(AddOp(body_value, body_value))
    with pytest.raises(VerificationError, match="SSA dominance"):
        verify_module(Module([kernel_op]))


def test_load_from_another_kernels_value_is_rejected():
    first, second = KernelOp("a", Elements(1)), KernelOp("b", Elements(1))
    value = first.body.add(ConstantOp(0, Type.I64))
    second.body.append(LoadOp("x", value, Type.F64))
    with pytest.raises(VerificationError, match="SSA dominance"):
        verify_module(Module([first, second]))


@pytest.mark.parametrize("value, to, held", [
    (0.1, Type.F32, 0.10000000149011612),        # the nearest float32, not the double 0.1
    (0.01, Type.F32, 0.009999999776482582),
    (1e39, Type.F32, float("inf")),              # beyond f32's range
    (0.1, Type.F64, 0.1),
    (2.7, Type.I32, 2),                          # as a cast: truncates
    (1, Type.BOOL, True),
])
def test_constant_of_converts_the_value_to_the_type(value, to, held):
    """`ConstantOp.of` is how passes make a constant from a Python or numpy value: it holds the
    value converted to the type, which the verifier accepts; the plain constructor with the
    inexact 0.1 in f32 is refused (the case `kernel.constant 0.1 : f32` above)."""
    kernel_op = KernelOp("k", Elements(4))
    constant = kernel_op.body.add(ConstantOp.of(value, to))
    assert constant.op.value == held and type(constant.op.value) is type(held)
    verify_module(Module([kernel_op]))
    if to is Type.F32 and held != value:
        unrounded = KernelOp("k", Elements(4))
        unrounded.body.add(ConstantOp(value, to))
        with pytest.raises(VerificationError, match="not exactly representable in f32"):
            verify_module(Module([unrounded]))
