"""The code language (spikec.ir.expression*): parsing, canonical printing, errors, sympy."""

import pytest
import sympy
from hypothesis import given, settings, strategies as st

from spikec.errors import ModelSyntaxError
from spikec.ir.expression import (BinaryOp, BoolOp, Call, Compare, Name, Number, Statement, UnaryOp,
                                  format_expression, identifiers, substitute_names)
from spikec.ir.expression_parser import parse_expression, parse_statements, split_statements
from spikec.ir.expression_sympy import from_sympy, to_sympy


@pytest.mark.parametrize("text, tree", [
    ("-x**2", UnaryOp("-", BinaryOp("**", Name("x"), Number(2)))),
    ("2**-1", BinaryOp("**", Number(2), UnaryOp("-", Number(1)))),
    ("a**b**c", BinaryOp("**", Name("a"), BinaryOp("**", Name("b"), Name("c")))),
    ("a - b - c", BinaryOp("-", BinaryOp("-", Name("a"), Name("b")), Name("c"))),
    ("a / b * c", BinaryOp("*", BinaryOp("/", Name("a"), Name("b")), Name("c"))),
    ("not a < b", UnaryOp("not", Compare("<", Name("a"), Name("b")))),
    ("a or b and c", BoolOp("or", Name("a"), BoolOp("and", Name("b"), Name("c")))),
    ("1e-3", Number(0.001)), ("3", Number(3)), ("3.", Number(3.0)), (".5", Number(0.5)),
    ("True", Number(True)), ("rand()", Call("rand", ())),
    ("clip(v, 0, 1)", Call("clip", (Name("v"), Number(0), Number(1)))),
    ("andrew + notable", BinaryOp("+", Name("andrew"), Name("notable"))),
    ("x // 2 % 3", BinaryOp("%", BinaryOp("//", Name("x"), Number(2)), Number(3))),
])
def test_precedence_and_associativity_follow_python(text, tree):
    assert parse_expression(text) == tree


def test_newlines_and_comments_inside_expressions():
    assert parse_expression("(a +  # first\n b)") == BinaryOp("+", Name("a"), Name("b"))


def test_spans_point_into_the_text():
    expr = parse_expression("a + foo(b)")
    assert expr.right.span == (4, 10) and expr.right.func_span == (4, 7)


def test_statement_blocks_split_on_newlines_and_semicolons():
    statements = parse_statements("v = vr; w += b  # adapt\n\n  x *= 2 ; ")
    assert [str(s) for s in statements] == ["v = vr", "w += b", "x *= 2"]
    assert statements[2].target_span == (27, 28)


def test_comment_hides_semicolons():
    assert [p for _, p in split_statements("v = 1 # a; b = 2")] == ["v = 1 "]


@pytest.mark.parametrize("text, message, column, hint", [
    ("v +", "ends too early", 4, "expected"),
    ("a < b < c", "unexpected '<'", 7, "do not chain"),
    ("v = 3", "unexpected character '='", 3, "'==' compares"),
    ("3 $ 4", "unexpected character '$'", 3, "expected"),
    ("a b", "unexpected 'b'", 3, "expected"),
])
def test_syntax_errors_point_at_the_problem(text, message, column, hint):
    with pytest.raises(ModelSyntaxError) as info:
        parse_expression(text, owner="NeuronGroup 'G', threshold")
    error = info.value
    assert message in error.message
    assert error.location.column == column
    assert hint in error.hint
    assert "NeuronGroup 'G', threshold, line 1" in str(error)
    assert "^" in str(error)


def test_statement_error_positions_are_in_the_whole_block():
    with pytest.raises(ModelSyntaxError) as info:
        parse_statements("v = vr\nw += ", owner="reset")
    assert info.value.location.line == 2


def test_identifiers_include_functions():
    assert identifiers(parse_expression("exp(-v/tau) + rand()")) == {"exp", "v", "tau", "rand"}


def test_substitute_names_keeps_calls():
    tree = substitute_names(parse_expression("exp(x) + x"), {"x": Name("y"), "exp": Name("z")})
    assert format_expression(tree) == "exp(y) + y"


# ---- printing parses back to the same tree (property) ----------------------------------------
_names = st.sampled_from(["v", "w", "tau", "x_1", "g_Na"])
_numbers = st.one_of(st.integers(0, 10**6), st.floats(0, 1e12, allow_nan=False,
                                                        allow_infinity=False), st.booleans())
_leaves = st.one_of(_names.map(Name), _numbers.map(Number))


def _extend(children):
    arithmetic = st.tuples(st.sampled_from(["+", "-", "*", "/", "//", "%", "**"]), children,
                           children).map(lambda t: BinaryOp(*t))
    compare = st.tuples(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), children,
                        children).map(lambda t: Compare(*t))
    boolean = st.tuples(st.sampled_from(["and", "or"]), children, children).map(lambda t: BoolOp(*t))
    unary = st.tuples(st.sampled_from(["-", "+", "not"]), children).map(lambda t: UnaryOp(*t))
    call = st.tuples(st.sampled_from(["exp", "clip", "f"]), st.lists(children, max_size=3)).map(
        lambda t: Call(t[0], tuple(t[1])))
    return st.one_of(arithmetic, compare, boolean, unary, call)


expressions = st.recursive(_leaves, _extend, max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_printed_expressions_parse_back_to_the_same_tree(tree):
    assert parse_expression(format_expression(tree)) == tree


# Numbers whose products of up to 12 factors stay within float64: sympy computes with more
# precision (3e-239**2 is 1e-477 to sympy), while model code, and from_sympy, use float64.
_moderate_numbers = st.one_of(st.integers(0, 10**6), st.just(0.0), st.floats(1e-12, 1e12))


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.one_of(_names.map(Name), _moderate_numbers.map(Number)),
                    lambda c: st.tuples(st.sampled_from(["+", "-", "*"]), c, c).map(
                        lambda t: BinaryOp(*t)), max_leaves=12))
def test_sympy_round_trip_keeps_the_value(tree):
    value = to_sympy(tree)
    assert sympy.simplify(to_sympy(from_sympy(value)) - value) == 0


def test_each_random_call_stays_its_own_draw():
    value = to_sympy(parse_expression("rand() - rand()"))
    assert value != 0
    assert format_expression(from_sympy(value)).count("rand()") == 2
