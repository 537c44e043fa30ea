"""The `Equations` interface (spikec.frontend.equations) and the checks that use a namespace."""

import pytest
import sympy

from spikec.errors import (DimensionMismatchError, EquationError, ModelSyntaxError,
                           UnknownIdentifierError)
from spikec.frontend.equations import Equations, Expression
from spikec.frontend.namespace import Namespace
from spikec.ir.dimension_rules import BOOLEAN, FLOAT, INTEGER, Source, check_statement
from spikec.ir.expression_parser import parse_statements
from spikec.units import DIMENSIONLESS, get_dimensions, mV, ms, nS, second, volt

MODEL = """
dv/dt = (gl*(El - v) + I)/C : volt (unless refractory)
I = g*(E - v) : amp (constant over dt)
g : siemens (constant)
n : integer
active : boolean (shared)
"""


@pytest.fixture
def eqs():
    return Equations(MODEL)


def test_names_by_kind(eqs):
    assert eqs.names == {"v", "I", "g", "n", "active"}
    assert eqs.diff_eq_names == {"v"}
    assert eqs.subexpr_names == {"I"}
    assert eqs.parameter_names == {"g", "n", "active"}
    assert len(eqs) == 5 and list(eqs) == ["v", "I", "g", "n", "active"]


def test_identifiers_are_the_names_used_but_not_defined(eqs):
    assert eqs.identifiers == {"gl", "El", "C", "E"}
    assert Equations("dv/dt = -v/tau + xi/sqrt(ms)*mV : volt").identifiers == {
        "tau", "xi", "sqrt", "ms", "mV"}


def test_dimensions_types_and_flags(eqs):
    assert eqs.dimensions["v"] == get_dimensions(volt)
    assert eqs["g"].dim == get_dimensions(nS)
    assert eqs["n"].dim == DIMENSIONLESS and eqs["n"].var_type == INTEGER
    assert eqs["active"].var_type == BOOLEAN and eqs["v"].var_type == FLOAT
    assert eqs["v"].type == "differential equation" and eqs["g"].type == "parameter"
    assert eqs["v"].flags == ("unless refractory",)
    assert eqs["I"].flags == ("constant over dt",)
    assert eqs["active"].flags == ("shared",)
    assert eqs["n"].flags == ()


def test_expressions_keep_their_text_and_offer_sympy(eqs):
    expr = eqs["v"].expr
    assert isinstance(expr, Expression)
    assert expr.code == "(gl*(El - v) + I)/C"
    assert eqs["g"].expr is None
    gl, El, v, I, C = (sympy.Symbol(n, real=True) for n in ("gl", "El", "v", "I", "C"))
    assert sympy.simplify(expr.sympy_expr - (gl*(El - v) + I)/C) == 0


def test_multi_line_expressions_are_joined_into_one_line_of_code():
    eqs = Equations("dv/dt = (-v  # leak\n   + I)/tau : volt\nI : volt")
    assert "\n" not in eqs["v"].expr.code
    assert eqs["v"].expr == Expression("(-v + I)/tau")


def test_stochastic_variables():
    eqs = Equations("dv/dt = xi_a/sqrt(ms) : 1\ndw/dt = xi/sqrt(ms) : 1\nx : 1")
    assert eqs.stochastic_variables == {"xi", "xi_a"}
    assert eqs.is_stochastic and not Equations("x : 1").is_stochastic


def test_addition_combines_and_keeps_order():
    both = Equations("dv/dt = -v/tau : volt") + "w : 1"
    assert list(both) == ["v", "w"]
    assert list("w : 1" + Equations("x : 1")) == ["w", "x"]


def test_addition_refuses_a_name_defined_twice():
    with pytest.raises(EquationError, match="duplicate definition of variable 'v'") as info:
        Equations("dv/dt = -v/tau : volt") + Equations("v : volt")
    assert info.value.location.line == 1


def test_equality_and_hash_follow_the_text():
    assert Equations("x : 1\ny : volt") == Equations("x:1\n\ny : volt  # comment")
    assert hash(Equations("x : 1")) == hash(Equations("x  :  1"))
    assert Equations("x : 1") != Equations("x : volt")


def test_substitution_renames_and_replaces_values():
    eqs = Equations("dv/dt = -v/tau : volt", tau=5 * ms, v="u")
    assert eqs.names == {"u"}
    assert eqs["u"].expr.code == "-u / (0.005 * second)"
    assert eqs.identifiers == {"second"}
    eqs.check_units(namespace={})  # the value keeps its unit


def test_substitution_of_a_dimensionless_and_a_negative_value():
    eqs = Equations("y = a*x + b : 1\nx : 1", a=2, b=-3 * mV / volt)
    assert eqs["y"].expr.code == "2.0 * x + -0.003"  # values become floats, in SI units
    eqs.check_units(namespace={})


def test_substitution_renames_in_every_equation():
    eqs = Equations("dv/dt = -v/tau + I/C : volt\nI = g*v : amp", v="V", g="gL")
    assert eqs.names == {"V", "I"}
    assert eqs.identifiers == {"tau", "C", "gL"}


@pytest.mark.parametrize("substitution, message", [
    ({"w": "x"}, "the equations do not use it"),
    ({"v": "t"}, "special meaning"),
    ({"v": "2x"}, "not a valid name"),
    ({"v": 3 * mV}, "cannot replace the model variable"),
    ({"tau": [1, 2]}, "cannot substitute 'tau' by a list"),
])
def test_substitution_errors(substitution, message):
    with pytest.raises(EquationError, match=message):
        Equations("dv/dt = -v/tau : volt", **substitution)


def test_check_units_with_an_explicit_namespace():
    eqs = Equations("dv/dt = (El - v)/tau : volt\nEl : volt")
    eqs.check_units(namespace={"tau": 10 * ms})
    with pytest.raises(DimensionMismatchError, match="should have"):
        eqs.check_units(namespace={"tau": 10 * mV})


def test_check_units_with_the_callers_locals():
    tau = 10 * ms  # noqa: F841 -- found in this frame by check_units
    Equations("dv/dt = -v/tau : volt").check_units()
    tau = 3 * volt  # noqa: F841
    with pytest.raises(DimensionMismatchError):
        Equations("dv/dt = -v/tau : volt").check_units()


def test_check_units_explicit_namespace_shadows_the_caller():
    tau = 10 * volt  # noqa: F841 -- would be wrong
    Equations("dv/dt = -v/tau : volt").check_units(namespace={"tau": 1 * second})


def test_check_units_level_looks_further_up():
    def helper():
        Equations("dv/dt = -v/tau_helper : volt").check_units(level=1)

    tau_helper = 10 * ms  # noqa: F841 -- one frame above helper
    helper()


def test_check_units_with_variables_a_group_adds():
    eqs = Equations("x = i*mV : volt")
    with pytest.raises(UnknownIdentifierError):
        eqs.check_units(namespace={})
    eqs.check_units(namespace={}, variables={"i": (DIMENSIONLESS, INTEGER)})


def test_check_units_boolean_subexpression_needs_a_condition():
    Equations("b = v > 1*mV : boolean\nv : volt").check_units(namespace={})
    with pytest.raises(ModelSyntaxError, match="is boolean"):
        Equations("b = v/mV : boolean\nv : volt").check_units(namespace={})


def test_check_units_unknown_name():
    with pytest.raises(UnknownIdentifierError, match="unknown identifier 'nowhere_defined'"):
        Equations("dv/dt = -v/nowhere_defined : volt").check_units(namespace={})


def test_check_flags_narrows_to_what_a_group_accepts():
    eqs = Equations("dv/dt = -v/ms : 1 (event-driven)")
    eqs.check_flags({"differential equation": ("event-driven",)}, "Synapses 'S'")
    with pytest.raises(Exception, match="does not accept the flag 'event-driven'"):
        eqs.check_flags({"differential equation": ("unless refractory",)}, "NeuronGroup 'G'")


# --- statements -------------------------------------------------------------------------------

def _namespace():
    variables = {"v": (get_dimensions(volt), FLOAT), "w": (DIMENSIONLESS, FLOAT),
                 "n": (DIMENSIONLESS, INTEGER), "b": (DIMENSIONLESS, BOOLEAN),
                 "I": (get_dimensions(volt), FLOAT)}
    return Namespace(variables, {"vr": -70 * mV, "k": 2.0})


def _check(code: str, read_only=frozenset()) -> None:
    source = Source(code, "reset")
    for statement in parse_statements(code, "reset"):
        check_statement(statement, _namespace(), source, read_only)


@pytest.mark.parametrize("code", [
    "v = vr", "v += 3*mV", "v -= vr", "v *= k", "v /= 2", "w = 1; n += 1", "b = v > vr",
    "b = b and not (v > vr)", "v = clip(v, vr, 0*mV)\nw *= exp(-v/vr)",
])
def test_consistent_statements(code):
    _check(code)


@pytest.mark.parametrize("code, error, message", [
    ("v = 3", DimensionMismatchError, "needs"),
    ("v += 3*ms", DimensionMismatchError, "'\\+=' on 'v' needs"),
    ("v *= 3*mV", DimensionMismatchError, "'\\*=' on 'v' needs"),
    ("v /= vr", DimensionMismatchError, "needs"),
    ("b = v", ModelSyntaxError, "is boolean"),
    ("x = 1", UnknownIdentifierError, "unknown variable 'x'"),
    ("vr = 1*mV", EquationError, "not a writable model variable"),
    ("t = 1*second", EquationError, "not a writable model variable"),
    ("v = nothing", UnknownIdentifierError, "unknown identifier 'nothing'"),
])
def test_inconsistent_statements(code, error, message):
    with pytest.raises(error, match=message):
        _check(code)


def test_read_only_targets_are_refused():
    with pytest.raises(EquationError, match="cannot assign to 'I'"):
        _check("I = 0*mV", read_only={"I"})
