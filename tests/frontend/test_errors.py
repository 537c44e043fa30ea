"""Every kind of user error the frontend raises: its type, message, position, caret and hint; and
that nothing but a SpikecError ever escapes, whatever the text (hypothesis)."""

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from spikec.errors import (DimensionMismatchError, EquationError, FlagError, ModelSyntaxError,
                           SpikecError, UnknownIdentifierError)
from spikec.frontend.equations import Equations
from spikec.ir.expression_parser import parse_expression, parse_statements
from spikec.units import ms

# text, namespace (None: only build the Equations), error type, message part, line, column,
# caret (the marked text), hint part
CASES = [
    ("x : 1\ndv/dt = (v + $)/tau : volt", None, ModelSyntaxError,
     "unexpected character '$'", 2, 14, "$", "expected"),
    ("dv/dt = -v/tau", None, ModelSyntaxError, "ends too early", 1, 15, "", "':'"),
    ("dx/dy = 1 : 1", None, ModelSyntaxError, "'dx/dy' is not a time derivative", 1, 1,
     "dx/dy", "'dx/dt'"),
    ("y = a < b < c : boolean", None, ModelSyntaxError, "unexpected '<'", 1, 11, "<",
     "do not chain"),
    ("dv/dt = exp(v, 2)/ms : 1", {}, ModelSyntaxError, "'exp' takes 1 argument, got 2", 1, 9,
     "exp(v, 2)", "default functions"),
    ("b = v*2 : boolean\nv : 1", {}, ModelSyntaxError, "'b' is boolean", 1, 5, "v*2", None),
    ("y = (v > 1) + exp : 1\nv : 1", {}, ModelSyntaxError, "'exp' is a function", 1, 15,
     "exp", "call it"),
    ("y = not v : boolean\nv : 1", {}, ModelSyntaxError, "the operand of 'not' must be a "
     "condition", 1, 9, "v", "compare it"),
    ("x : 1\n  dv/dt = -v/tau_m : volt", {}, UnknownIdentifierError,
     "unknown identifier 'tau_m'", 2, 14, "tau_m", "namespace="),
    ("dv/dt = -foo(v)/ms : 1", {}, UnknownIdentifierError, "unknown function 'foo'", 1, 10,
     "foo", "default functions"),
    ("x : 1\ndv/dt = (v + t)/tau : volt", {"tau": 10 * ms}, DimensionMismatchError,
     "the operands of '+' in 'v + t' have different dimensions", 2, 10, "v + t", "same units"),
    ("dv/dt = -v : volt", {}, DimensionMismatchError,
     "the differential equation of 'v'", 1, 9, "-v", "per second"),
    ("y = v : 1\nv : volt", {}, DimensionMismatchError, "the subexpression 'y'", 1, 5, "v",
     "unit after the colon"),
    ("y = exp(v) : 1\nv : volt", {}, DimensionMismatchError,
     "the argument of 'exp' must be dimensionless", 1, 9, "v", "exp(v/mV)"),
    ("b = v > 1 : boolean\nv : volt", {}, DimensionMismatchError, "cannot compare 'v'", 1, 5,
     "v > 1", "same units"),
    ("y = v**w : 1\nv : volt\nw : 1", {}, DimensionMismatchError,
     "its exponent must be a constant", 1, 5, "v**w", "dimensionless"),
    ("y = clip(v, 0, 1) : volt\nv : volt", {}, DimensionMismatchError,
     "the arguments of 'clip' must have the same dimension", 1, 13, "0", "same units"),
    ("x : 1\nw : 1 (constant, bogus)", None, FlagError, "unknown flag 'bogus'", 2, 18, "bogus",
     "constant, shared, linked"),
    ("dv/dt = -v/ms\n  + w : 1 (constant)\nw : 1", None, FlagError,
     "unknown flag 'constant' for the differential equation of 'v'", 2, 12, "constant",
     "unless refractory"),
    ("x : 1\nx : volt", None, EquationError, "duplicate definition of variable 'x'", 2, 1, "x",
     "rename"),
    ("v : mV", None, EquationError, "'mV', which is not a base unit", 1, 5, "mV", "'volt'"),
    ("v : 2*volt", None, EquationError, "contains the number 2", 1, 5, "2", "'1'"),
    ("v : frobs", None, EquationError, "unknown unit 'frobs'", 1, 5, "frobs", "base units"),
    ("b : bool", None, EquationError, "'bool'", 1, 5, "bool", "'boolean'"),
    ("x : 1\nt : second", None, EquationError, "'t' has a special meaning", 2, 1, "t",
     "another name"),
    ("dN/dt = 1/ms : 1", None, EquationError, "'N' has a special meaning", 1, 2, "N",
     "another name"),
    ("dn/dt = 1/ms : integer", None, EquationError, "defines an integer variable", 1, 16,
     "integer", "'volt'"),
]


@pytest.mark.parametrize("text, namespace, error, message, line, column, caret, hint", CASES)
def test_errors_point_at_the_mistake(text, namespace, error, message, line, column, caret, hint):
    with pytest.raises(error) as info:
        eqs = Equations(text)
        if namespace is not None:
            eqs.check_units(namespace=namespace)
    err = info.value
    assert message in err.message
    assert (err.location.line, err.location.column) == (line, column)
    assert err.location.owner == "Equations"
    line_text, caret_line = err.location.excerpt().split("\n")
    start = caret_line.index("^")
    assert line_text[start:start + caret_line.count("^")] == caret
    if hint is None:
        assert err.hint is None or err.hint
    else:
        assert hint in err.hint
    rendered = str(err)
    assert f"line {line}, column {column}" in rendered and err.message in rendered


def test_statement_errors_point_into_the_whole_block():
    with pytest.raises(ModelSyntaxError) as info:
        parse_statements("v = vr  # reset\nw += (b *\nx = 1", owner="NeuronGroup 'G', reset")
    err = info.value
    assert (err.location.line, err.location.column) == (2, 10)
    assert "NeuronGroup 'G', reset" in str(err) and "w += (b *" in str(err)


def test_statement_error_after_a_semicolon_has_the_right_column():
    with pytest.raises(ModelSyntaxError) as info:
        parse_statements("v = 1; w == 2")
    assert (info.value.location.line, info.value.location.column) == (1, 11)
    assert "'==' compares" in info.value.hint


def test_a_tab_counts_as_one_column_and_one_space_in_the_excerpt():
    with pytest.raises(ModelSyntaxError) as info:
        Equations("x : 1\n\tdv/dt = -v/ms $ : 1")
    assert info.value.location.column == 16
    assert info.value.location.excerpt().splitlines()[1].index("^") == 4 + 15


def test_too_deep_nesting_is_a_syntax_error_not_a_crash():
    with pytest.raises(ModelSyntaxError, match="nests 1000 levels deep") as info:
        Equations("x : 1\ny = " + " + ".join(["x"] * 1000) + " : 1")
    assert (info.value.location.line, info.value.location.column) == (2, 5)
    assert "subexpressions" in info.value.hint
    Equations("y = " + " + ".join(["x"] * 250) + " : 1\nx : 1").check_units(namespace={})


# --- nothing but SpikecError escapes ------------------------------------------------------------

VALID = ["dv/dt = (g*(E - v) + sigma*sqrt(tau)*xi)/tau : volt (unless refractory)",
         "g : siemens/meter**2 (constant, shared)", "b = v > -50*mV and not c : boolean",
         "y = clip(x, 0, 1)**2 + 1e-3*exp(-x) : 1", "n : integer", "v = vr; w += b*2"]
_PIECES = list("()+-*/=:,.#;\n\\ $_") + ["**", "dt", "xi", "1e", "volt", "(constant)", "and",
                                          "not", "True", "d", "/dt", "mV", "\t", "é", "\x00"]


@st.composite
def mutated(draw):
    """A valid model string with a few characters inserted, deleted or replaced."""
    text = draw(st.sampled_from(VALID))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(_PIECES))
        if action == "insert":
            text = text[:position] + piece + text[position:]
        elif action == "delete":
            text = text[:position] + text[position + draw(st.integers(1, 5)):]
        else:
            text = text[:position] + piece + text[position + 1:]
    return text


def _only_spikec_errors(action, text):
    try:
        result = action(text)
    except SpikecError as err:
        str(err)  # rendering must not fail either
        return None
    return result


def _build_and_check(text):
    eqs = Equations(text)
    eqs.check_units(namespace={})


_fuzz = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@_fuzz
@given(st.one_of(st.text(max_size=60), mutated()))
def test_random_equations_raise_only_spikec_errors(text):
    _only_spikec_errors(_build_and_check, text)


@_fuzz
@given(st.one_of(st.text(max_size=40), mutated()))
def test_random_expressions_raise_only_spikec_errors(text):
    _only_spikec_errors(parse_expression, text)


@_fuzz
@given(st.one_of(st.text(max_size=40), mutated()))
def test_random_statements_raise_only_spikec_errors(text):
    _only_spikec_errors(parse_statements, text)


@pytest.mark.parametrize("text", ["x : 1 (constant", "dv/dt = 1e999999/ms : 1",
                                  "x : metre**1e999", "x : volt**99999999999999999999",
                                  "y = 2**9999 : 1", "y = v**1e999 : 1\nv : volt",
                                  "y = v**(2**9999) : 1\nv : volt", "x : metre**-1e999", "x : " + "(" * 300, "\\", "x = 1 : 1 \\",
                                  "x : 1 (" + "a" * 1000 + ")", "dv/dt = " + "-" * 2000 + "v/ms : 1"])
def test_extreme_inputs_raise_only_spikec_errors(text):
    _only_spikec_errors(_build_and_check, text)
    _only_spikec_errors(parse_expression, text)
    _only_spikec_errors(parse_statements, text)
