"""The IR text: printing then parsing gives an equal module; errors point at the text."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given, settings

from spikec.errors import IRParseError
from spikec.ir.attributes import AttributeCodec, CallAttr, SymbolRef
from spikec.ir.core import Block, Module, Op, Region
from spikec.ir.equality import module_difference
from spikec.ir.kernel_ops import AddOp, ConstantOp
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module, print_op
from spikec.ir.registry import register_op
from spikec.ir.types import Type
from spikec.ir.verify import verify_module
from tests.ir.kernel_generator import kernel_modules

SAMPLE = (Path(__file__).parent / "sample.ir").read_text()


def test_sample_round_trips_and_verifies():
    module = parse_module(SAMPLE, "sample.ir")
    verify_module(module)
    text = print_module(module)
    again = parse_module(text)
    assert module_difference(module, again) is None
    assert print_module(again) == text
    assert "%v_next = kernel.sub %v, %dv : f64" in text
    assert "kernel.store @G.v[%i], %v_next if %c : f64" in text


@settings(max_examples=60, deadline=None)
@given(kernel_modules())
def test_random_modules_round_trip(module):
    verify_module(module)
    text = print_module(module)
    parsed = parse_module(text)
    assert module_difference(module, parsed) is None
    assert print_module(parsed) == text


def test_equality_sees_differences_names_do_not_matter():
    a = parse_module("kernel.array @x {length = 2} : f64\n")
    assert module_difference(a, parse_module("kernel.array @x {length = 3} : f64\n")) is not None
    assert module_difference(a, parse_module("kernel.array @x {length = 2} : f32\n")) is not None
    body = "kernel.kernel @k {space = elements(2)} invariants() {\n  %%a = kernel.constant %s : f64\n} body(%%i: i64) {\n}\n"
    assert module_difference(parse_module(body % "0.0"), parse_module(body % "-0.0")) is not None
    assert module_difference(parse_module(body % "0.0"), parse_module(body.replace("%%a", "%%zzz") % "0.0")) is None


def test_printer_makes_names_unique_and_numbers_unnamed_values():
    block = Block([Type.F64], ["v"])
    one = block.add(ConstantOp(1.0, Type.F64, "v"))
    block.add(AddOp(block.args[0], one))
    region_op = _Holder.create(regions=[Region(block)])
    text = print_op(region_op)
    assert "test.holder body(%v: f64) {" in text
    assert "%v_1 = kernel.constant 1.0 : f64" in text
    assert "%0 = kernel.add %v, %v_1 : f64" in text


def test_comments_and_wrapped_attribute_lists_are_accepted():
    text = ("// leading comment\n\nkernel.clock @c {  // the clock\n  dt = 0.5\n}\n"
            "kernel.array @\"odd name\" {length = 1} : i32 // trailing\n")
    module = parse_module(text)
    assert module.lookup("odd name") is not None
    assert '@"odd name"' in print_module(module)


@pytest.mark.parametrize("text, message, line, column", [
    ("kernel.array @x {length = 2} : f99\n", "unknown type f99", 1, 32),
    ("kernel.frob @x\n", "unknown op kernel.frob", 1, 1),
    ("kernel.array @x {length = 2 : f64\n", "unexpected ':'", 1, 29),
    ("kernel.kernel @k {space = elements(2)} invariants() {\n} body(%i: i64) {\n  %a = kernel.add %i, %b : i64\n}\n",
     "use of undefined value %b", 3, 23),
    ("kernel.kernel @k {space = elements(2)} invariants() {\n} body(%i: i64) {\n  %i = kernel.step : i64\n}\n",
     "redefinition of %i", 3, 3),
    ("kernel.kernel @k {space = galaxies(2)} invariants() {\n} body(%i: i64) {\n}\n", "unknown index space", 1, 19),
    ("kernel.kernel @k {space = elements(2)} body(%i: i64) {\n}\n", "expected (invariants, body)", 1, 1),
    ("kernel.array @x {length = 2, length = 3} : f64\n", "given twice", 1, 30),
    ("kernel.clock @c {dt = 0.5}\nkernel.clock @d {dt = 0.5", "unexpected end of input", 2, 26),
    ("kernel.array @x {length = 2} : f64 $\n", "unexpected character '$'", 1, 36),
])
def test_parse_errors_point_at_the_text(text, message, line, column):
    with pytest.raises(IRParseError) as caught:
        parse_module(text, "t.ir")
    error = caught.value
    assert message in error.message
    assert (error.location.line, error.location.column) == (line, column)
    assert "^" in str(error) and "t.ir" in str(error)


# -- a dialect defined outside the kernel IR, as the model dialect will be ------------------------
class Expr:
    """Stands for an expression object kept in an attribute."""

    def __init__(self, source: str):
        if "?" in source:
            raise ValueError(f"cannot parse {source!r}")
        self.source = source


@register_op
class _Holder(Op):
    """``test.holder body(...) { ... }``"""

    name = "test.holder"
    region_names = ("body",)


@register_op
class _Equation(Op):
    """``test.equation @G {expr = "v/tau", ...}``: a symbol op with an expression attribute."""

    name = "test.equation"
    attribute_codecs: ClassVar = {"expr": AttributeCodec(encode=lambda e: e.source, decode=Expr)}


def test_custom_attribute_codec_and_every_attribute_kind_round_trip():
    attributes = {"expr": Expr("v/tau"), "n": 3, "x": -2.5, "s": 'quote " here', "flag": True, "type": Type.F32,
                  "ref": SymbolRef("G.v"), "items": (1, "two", (3.0,)), "table": {"a": 1, "b c": [].__len__()},
                  "call": CallAttr("spikes", (SymbolRef("G._spikespace"),)), "inf": float("inf")}
    module = Module([_Equation.create(attributes=attributes)])
    text = print_module(module)
    assert 'expr = "v/tau"' in text and '"b c" = 0' in text
    parsed = parse_module(text)
    assert isinstance(parsed.ops[0].attributes["expr"], Expr)
    assert module_difference(module, parsed) is None
    verify_module(parsed)


def test_custom_attribute_decode_failure_is_a_parse_error():
    with pytest.raises(IRParseError, match="bad attribute 'expr'"):
        parse_module('test.equation {expr = "v ? w"}\n')
