"""The frontend against Brian 2 itself: the same strings must mean the same thing to both.

Brian is the oracle. For valid equations both must report the same names, kinds, dimensions,
types, flags and right-hand sides; for expressions and statements the same sympy form; for invalid
text both must refuse. Where Brian accepts something in `Equations` and rejects it only when a
group is created (unknown flags, flags on the wrong kind of equation), the group creation is the
oracle. Where spikec deliberately differs, docs/model-language.md says so and the test says why.
"""

import re

import pytest
import sympy

from spikec.errors import (DimensionMismatchError, EquationError, FlagError, ModelSyntaxError,
                           SpikecError, UnknownIdentifierError)
from spikec.frontend.equations import Equations
from spikec.ir.expression_parser import parse_expression, parse_statements
from spikec.ir.expression_sympy import to_sympy

brian2 = pytest.importorskip("brian2")
from brian2.parsing.statements import parse_statement as brian_parse_statement  # noqa: E402
from brian2.parsing.sympytools import str_to_sympy as brian_str_to_sympy  # noqa: E402

# Brian 2.9.0 uses pyparsing names that newer pyparsing deprecates; not our concern here.
pytestmark = [pytest.mark.brian, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
brian2.BrianLogger.log_level_error()  # Brian warns about groups never run; we only build them
brian2.prefs.codegen.target = "numpy"


HH = """
dv/dt = (gl*(El - v) - g_na*m**3*h*(v - ENa) - g_kd*n**4*(v - EK) + I)/Cm : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV - v + VT)/(4*mV))/ms : Hz
beta_m = 0.28*(mV**-1)*5*mV/exprel((v - VT - 40*mV)/(5*mV))/ms : Hz
alpha_h = 0.128*exp((17*mV - v + VT)/(18*mV))/ms : Hz
beta_h = 4./(1 + exp((40*mV - v + VT)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV - v + VT)/(5*mV))/ms : Hz
beta_n = .5*exp((10*mV - v + VT)/(40*mV))/ms : Hz
I : amp
"""

VALID_EQUATIONS = [
    "dv/dt = -v/tau : volt",
    "dv/dt = (I - v)/tau : volt (unless refractory)\nI : volt",
    "dv/dt = -v/tau : 1 (clock-driven)",
    "dApre/dt = -Apre/taupre : 1 (event-driven)",
    "x : 1", "n : integer", "b : boolean", "x : metre**0.5", "f : Hz", "r : ohm*meter",
    "I : amp", "g : siemens/meter**2", "c : farad/metre**2", "x : metre**-1",
    "x : volt / second", "x : meter ** 2", "x : Hz**2", "x : metre**0.5*second", "x:1",
    "x : 1/second", "x : kilogram*metre**2/second**3/amp",
    "w : 1 (constant)", "w : 1 (shared)", "w : 1 (constant, shared)", "w : 1 (shared,constant)",
    "v_other : volt (linked)",
    "I = g*(E - v) : amp (constant over dt)\ng : siemens\nE : volt\nv : volt",
    "Isyn_post = g*v : amp (summed)\ng : siemens\nv : volt",
    "s = x*2 : 1 (shared)\nx : 1 (shared)",
    "dv/dt = -v/tau + sigma*xi*tau**-0.5 : volt",
    "dv/dt = (-v + sigma*sqrt(tau)*xi_1)/tau : volt\ndw/dt = xi_2/sqrt(ms) : 1",
    "# leading comment\ndv/dt = -v/tau : volt  # trailing comment\n\n# only a comment\n",
    "dv/dt = (-v\n         + I)/tau : volt\nI : volt",
    "dv/dt = (-v  # the leak\n  + I  # the input\n  )/tau : volt\nI : volt",
    "dv/dt = -v/tau\n   : volt",
    "spiking = v > vt and not_ready : boolean\nv : volt\nvt : volt\nnot_ready : boolean",
    "y = -x**2 + 2**-1 + 1e-3 + 2.5E+2 + 3. + .5 : 1\nx : 1",
    "y = clip(x, 0, 1) + abs(x) + floor(x) + ceil(x) + sign(x) : 1\nx : 1",
    "y = exp(x) + log(x) + log10(x) + sin(x) + cos(x) + tan(x) + sinh(x) + tanh(x) : 1\nx : 1",
    "y = arcsin(x) + arccos(x) + arctan(x) + expm1(x) + log1p(x) + exprel(x) : 1\nx : 1",
    "y = rand() + randn() : 1",
    "y = int(x > 0) + x // 2 + x % 3 : 1\nx : 1",
    "y = (x >= 0) or (x <= 1) and (x != 2) or not (x == 3) : boolean\nx : 1",
    "k = True : boolean", "k = False or True : boolean",
    "y = timestep(t, dt) : integer",
    "dv/dt = -v/(10*ms) + 3*mV/ms*sin(2*pi*t*f) : volt\nf : Hz (constant)",
    HH,
]

# Each string, the SpikecError subclass spikec raises, and where Brian rejects it: "equations"
# (Equations itself), "neurongroup" (NeuronGroup creation) or "synapses" (Synapses creation).
INVALID_EQUATIONS = [
    ("dv/dt = -v/tau", ModelSyntaxError, "equations"),
    ("v = : volt", ModelSyntaxError, "equations"),
    ("dv/dt = -v/tau : volt : volt", ModelSyntaxError, "equations"),
    ("x = $ : 1", ModelSyntaxError, "equations"),
    ("dx/dy = 1 : 1", ModelSyntaxError, "equations"),
    ("dv/dt = a < b < c : 1", ModelSyntaxError, "equations"),
    ("x : 1 (constant", ModelSyntaxError, "equations"),
    ("x : 1 (constant, )", ModelSyntaxError, "equations"),
    ("x : volt**y", ModelSyntaxError, "equations"),
    ("x : (volt/second)", ModelSyntaxError, "equations"),
    ("x : mV", EquationError, "equations"),
    ("x : foo", EquationError, "equations"),
    ("x : 2*volt", EquationError, "equations"),
    ("x : 1*volt", EquationError, "equations"),
    ("x : 1.0", EquationError, "equations"),
    ("b : bool", EquationError, "equations"),
    ("dn/dt = 1/ms : integer", EquationError, "equations"),
    ("db/dt = 1/ms : boolean", EquationError, "equations"),
    ("dv/dt = -v/tau : volt\nv : volt", EquationError, "equations"),
    ("t : second", EquationError, "equations"), ("dt : second", EquationError, "equations"),
    ("xi : 1", EquationError, "equations"), ("dxi_a/dt = 1/ms : 1", EquationError, "equations"),
    ("i : 1", EquationError, "equations"), ("N : 1", EquationError, "equations"),
    ("not_refractory : boolean", EquationError, "equations"),
    ("_x : 1", EquationError, "equations"), ("lambda : 1", EquationError, "equations"),
    ("exp : 1", EquationError, "equations"), ("rand : 1", EquationError, "equations"),
    ("mV : volt", EquationError, "equations"), ("pi : 1", EquationError, "equations"),
    ("e : 1", EquationError, "equations"), ("inf : 1", EquationError, "equations"),
    # Brian's Equations keep any flag; its groups refuse the unknown or misplaced ones. spikec
    # refuses a flag no group accepts at once (docs/model-language.md, "Equations").
    ("x : 1 (foo)", FlagError, "neurongroup"),
    ("x : 1 (Constant)", FlagError, "neurongroup"),
    ("dv/dt = -v/ms : volt (constant)", FlagError, "neurongroup"),
    ("dv/dt = -v/ms : volt (shared)", FlagError, "synapses"),
    ("x = 2 : 1 (unless refractory)", FlagError, "neurongroup"),
    ("x : volt (constant over dt)", FlagError, "neurongroup"),
    ("x : 1 (event-driven)", FlagError, "synapses"),
    ("dv/dt = -v/ms : volt (summed)", FlagError, "synapses"),
    ("x = 1 : 1 (linked)", FlagError, "neurongroup"),
]


def _brian_rejects(text: str, where: str) -> bool:
    try:
        eqs = brian2.Equations(text)
        if where == "neurongroup":
            brian2.NeuronGroup(1, eqs)
        elif where == "synapses":
            source = brian2.NeuronGroup(1, "y : 1\nx : 1")  # x: target of a summed x_post
            brian2.Synapses(source, source, eqs)
    except Exception:  # Brian uses SyntaxError, TypeError, ValueError, EquationError
        return True
    return False


def _exponents(dim) -> tuple[float, ...]:
    return tuple(float(x) for x in dim)


# Functions that one side writes as an undefined or special function and the other in sympy's
# elementary terms; everything else is compared by name.
_AS_ELEMENTARY = {"sqrt": sympy.sqrt, "log10": lambda x: sympy.log(x) / sympy.log(10)}
_BRIAN_FUNCTION_NAMES = {"int_": "int"}


def _is_special_function(expr) -> bool:
    """An application of an undefined function or of one of Brian's or sympy.codegen's function
    classes (`exprel`, `log10`, `timestep`), as opposed to sympy's elementary functions."""
    if not isinstance(expr, sympy.Function):
        return False
    module = getattr(expr.func, "__module__", "") or ""
    return (isinstance(expr.func, sympy.core.function.UndefinedFunction)
            or module.startswith(("brian2", "sympy.codegen")))


def _plain_call(call) -> sympy.Basic:
    name = _BRIAN_FUNCTION_NAMES.get(call.func.__name__, call.func.__name__)
    if name in ("rand", "randn"):
        return sympy.Function(name)()
    if name in _AS_ELEMENTARY:
        return _AS_ELEMENTARY[name](*call.args)
    return sympy.Function(name)(*call.args)


def _normalised(expr) -> sympy.Basic:
    """`expr` with plain symbols, plain undefined functions and constants as symbols, so that two
    libraries' forms compare: Brian turns `pi` into sympy's constant and has its own function
    classes (`exprel`, `timestep`); spikec keeps `pi` a name. Random draws lose their hidden
    argument (spikec's draw index, Brian's placeholder)."""
    expr = sympy.sympify(expr)
    replacements = {sympy.pi: sympy.Symbol("pi"), sympy.E: sympy.Symbol("e")}
    replacements.update({s: sympy.Symbol(s.name) for s in expr.free_symbols})
    return expr.xreplace(replacements).replace(_is_special_function, _plain_call)


def _same_sympy(ours, theirs) -> bool:
    """Mathematically the same expression (structurally first, then by simplification)."""
    ours, theirs = _normalised(ours), _normalised(theirs)
    if ours == theirs:
        return True
    if isinstance(ours, sympy.logic.boolalg.Boolean):
        return sympy.simplify_logic(sympy.Equivalent(ours, theirs)) == sympy.true
    return sympy.simplify(ours - theirs) == 0


@pytest.mark.parametrize("text", VALID_EQUATIONS)
def test_valid_equations_agree_with_brian(text):
    ours, theirs = Equations(text), brian2.Equations(text)
    assert ours.names == set(theirs.names)
    assert ours.diff_eq_names == set(theirs.diff_eq_names)
    assert ours.subexpr_names == set(theirs.subexpr_names)
    assert ours.parameter_names == set(theirs.parameter_names)
    assert ours.identifiers == set(theirs.identifiers)
    for name in ours.names:
        mine, other = ours[name], theirs[name]
        assert _exponents(mine.dim.exponents) == _exponents(other.dim._dims), name
        assert mine.var_type == other.var_type, name
        assert mine.type == other.type, name
        assert list(mine.flags) == list(other.flags), name
        if other.expr is not None:  # Brian's Expression keeps the text; its sympy form is this
            assert _same_sympy(mine.expr.sympy_expr, brian_str_to_sympy(other.expr.code)), name


@pytest.mark.parametrize("text, error, where", INVALID_EQUATIONS)
def test_invalid_equations_are_rejected_by_both(text, error, where):
    with pytest.raises(error):
        Equations(text)
    assert _brian_rejects(text, where)


def test_flags_brian_accepts_on_some_group_are_accepted():
    """spikec's Equations accept every flag some group accepts; Brian's groups are the oracle
    for which group that is (a NeuronGroup refuses event-driven, Synapses accept it)."""
    for text, where in [("dv/dt = 1/ms : 1 (event-driven)", "synapses"),
                        ("dv/dt = 1/ms : 1 (clock-driven)", "synapses"),
                        ("x : 1 (linked)", "neurongroup"), ("x = 1 : 1 (shared)", "neurongroup"),
                        ("x_post = w : 1 (summed)\nw : 1", "synapses")]:
        Equations(text)
        assert not _brian_rejects(text, where), text


# --- expressions --------------------------------------------------------------------------------

VALID_EXPRESSIONS = [
    "v > vt", "-v/tau", "-x**2", "2**-1", "x**y**z", "a - b - c", "a / b * c", "+x", "- -x",
    "not (a or b)", "a != b", "v >= 3*mV and not w", "a or b and c", "1e-3 * x", "2.5E+2",
    "3. + .5", "exp(v/mV)", "clip(v, 0, 1)", "abs(x) + sqrt(y)", "x // 2", "x % 3", "True",
    "False or b", "f(x, )", "(a + b)*(c - d)/(e_ + f)", "sin(2*pi*f*t)", "rand() < p*dt",
    "int(x) + floor(y)", "x == 1.5e+3", "(\n a\n + b  # comment\n)",
]


@pytest.mark.parametrize("text", VALID_EXPRESSIONS)
def test_expressions_agree_with_brians_sympy(text):
    assert _same_sympy(to_sympy(parse_expression(text)), brian_str_to_sympy(text))


INVALID_EXPRESSIONS = ["a < b < c", "a b", "v +", "x[1]", "a if b else c", "lambda: 1", "x.y",
                       "1j", "a = b", "@", "(", "f(,)", ""]


@pytest.mark.parametrize("text", INVALID_EXPRESSIONS)
def test_invalid_expressions_are_rejected_by_both(text):
    with pytest.raises(ModelSyntaxError):
        parse_expression(text)
    with pytest.raises(Exception):
        brian_str_to_sympy(text)


@pytest.mark.parametrize("text", ["'s'", "0x10", "1_000", "(a)(b)"])
def test_python_literals_brian_lets_through_are_refused(text):
    """Brian parses expressions with Python's parser, so strings, hexadecimal numbers, digit
    separators and calls of parenthesized names pass its parser; none means anything in a model
    (Brian's code generators fail on them later). spikec refuses them while parsing
    (docs/model-language.md, "Expressions")."""
    brian_str_to_sympy(text)
    with pytest.raises(ModelSyntaxError):
        parse_expression(text)


# --- statements ---------------------------------------------------------------------------------

def _brian_statements(code: str) -> list[tuple[str, str, str]]:
    """Brian's statement reading: split at newlines and ';' (as its code generation does), then
    its statement parser on each non-empty line."""
    statements = []
    for line in re.split(r"[;\n]", code):
        if line.split("#", 1)[0].strip():
            target, op, expr, _ = brian_parse_statement(line.strip())
            statements.append((target, op, expr))
    return statements


VALID_STATEMENTS = [
    "v = vr", "v += 3*mV", "w -= b", "x *= 2", "x /= 1.5", "v = -x**2 + 2**-1",
    "v = vr; w += b", "v = vr\nw += b\n\nx *= 2", "v = vr  # reset\nw += b  # adapt",
    "ge += w*nS; Apre += dApre; w = clip(w + Apost, 0, wmax)",
    "b = v > vt and not c", "n = int(rand() < p)", "  v = vr  ",
]


@pytest.mark.parametrize("code", VALID_STATEMENTS)
def test_statements_agree_with_brian(code):
    ours = parse_statements(code)
    theirs = _brian_statements(code)
    assert [(s.target, s.op) for s in ours] == [(t, o) for t, o, _ in theirs]
    for statement, (_, _, expr) in zip(ours, theirs):
        assert _same_sympy(to_sympy(statement.expr), brian_str_to_sympy(expr))


@pytest.mark.parametrize("code", ["v == 3", "3 = v", "v = ", "v + = 1", "= v", "v = a = b"])
def test_invalid_statements_are_rejected_by_both(code):
    with pytest.raises(ModelSyntaxError):
        parse_statements(code)
    with pytest.raises(Exception):
        for _, _, expr in _brian_statements(code):
            brian_str_to_sympy(expr)


@pytest.mark.parametrize("code", ["v **= 2", "v //= 2", "v %= 2", "v |= b"])
def test_augmented_operators_brian_only_parses_are_refused(code):
    """Brian's statement parser reads any Python augmented operator and leaves it to the code
    generators, which do not support them all; spikec refuses them while parsing
    (docs/model-language.md, "Not supported yet")."""
    assert _brian_statements(code)
    with pytest.raises(ModelSyntaxError):
        parse_statements(code)


# --- dimension checking -------------------------------------------------------------------------

def _brian_check_units(text: str, namespace: dict) -> None:
    """Brian checks units when a group is about to run; `Equations.check_units` with the group
    is that check without running anything."""
    group = brian2.NeuronGroup(1, text, namespace=namespace)
    group.equations.check_units(group, run_namespace={})


def _namespace():
    from brian2 import mV, ms, nS, pA, pF  # noqa: F401
    return {"tau": 10 * brian2.ms, "vt": -50 * brian2.mV, "sigma": 2 * brian2.mV,
            "gl": 10 * brian2.nS, "C": 200 * brian2.pF, "q": 3, "rate": 5 * brian2.Hz}


def _our_namespace():
    from spikec.units import Hz, mV, ms, nS, pF
    return {"tau": 10 * ms, "vt": -50 * mV, "sigma": 2 * mV, "gl": 10 * nS, "C": 200 * pF,
            "q": 3, "rate": 5 * Hz}


CONSISTENT_MODELS = [
    "dv/dt = -v/tau : volt",
    "dv/dt = (-v + sigma*sqrt(tau)*xi)/tau : volt",
    "dv/dt = -gl*v/C : volt",
    "b = v > vt : boolean\nv : volt",
    "b = v > vt and v < 0*mV : boolean\nv : volt",
    "x = exp(v/mV) : 1\nv : volt",
    "x = (v/mV)**q : 1\nv : volt",
    "y = v**2 : volt**2\nv : volt",
    "y = v**q : volt**3\nv : volt",
    "y = sqrt(a) : metre\na : metre**2",
    "y = clip(v, vt, 0*mV) : volt\nv : volt",
    "y = abs(v) + floor(v) : volt\nv : volt",
    "dx/dt = rate*(1 - x) : 1",
    "y = sin(2*pi*rate*t) : 1",
]

INCONSISTENT_MODELS = [
    "dv/dt = -v : volt",
    "dv/dt = -v/tau + t : volt",
    "dv/dt = (-v + sigma*xi)/tau : volt",
    "b = v > 1 : boolean\nv : volt",
    "x = exp(v) : 1\nv : volt",
    "y = sqrt(a) : metre\na : metre",
    "y = clip(v, 0, 1) : volt\nv : volt",
    "y = v + 1 : volt\nv : volt",
    "y = sin(rate) : 1",
    "dx/dt = rate*(1 - x) : volt",
    "y = v % tau : volt\nv : volt",
]


@pytest.mark.parametrize("text", CONSISTENT_MODELS)
def test_consistent_models_pass_both_unit_checks(text):
    _brian_check_units(text, _namespace())
    Equations(text).check_units(namespace=_our_namespace())


@pytest.mark.parametrize("text", INCONSISTENT_MODELS)
def test_inconsistent_models_fail_both_unit_checks(text):
    with pytest.raises(brian2.DimensionMismatchError):
        _brian_check_units(text, _namespace())
    with pytest.raises(DimensionMismatchError):
        Equations(text).check_units(namespace=_our_namespace())


@pytest.mark.parametrize("text, error", [
    ("y = exp(v, 2) : 1\nv : 1", ModelSyntaxError),
    ("y = clip(v, 1) : 1\nv : 1", ModelSyntaxError),
    ("y = rand(v) : 1\nv : 1", ModelSyntaxError),
    ("y = v*unknown_name : 1\nv : 1", UnknownIdentifierError),
    # Brian calls a dimensionful exponent or base-with-variable-exponent "not constant"
    # (a SyntaxError); spikec reports the dimensions.
    ("x = v**v : 1\nv : volt", DimensionMismatchError),
    ("x = w**v : 1\nv : volt\nw : 1", DimensionMismatchError),
    ("x = v**w : 1\nv : volt\nw : 1", DimensionMismatchError),
])
def test_other_unit_check_errors_fail_both(text, error):
    with pytest.raises(Exception):
        _brian_check_units(text, _namespace())
    with pytest.raises(error):
        Equations(text).check_units(namespace=_our_namespace())


def test_no_spikec_error_is_a_brian_error():
    """The two libraries' errors are unrelated types: catching one never hides the other."""
    assert not issubclass(SpikecError, brian2.DimensionMismatchError)
