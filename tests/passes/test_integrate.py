"""integrate: one step of every method agrees with Brian 2's state updaters on the same numbers.

Brian's abstract code (its state updater objects called on the same equation text) and spikec's
`model.state_update` code are both run with numpy on the same random state, constants and
standard-normal samples; the new states agree to 1e-12 relative.
"""

import numpy as np
import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikec.errors import EquationError, PassError
from spikec.ir.parser import parse_module
from spikec.passes.integrate import event_driven_update
from spikec.units import amp, mV, ms, msiemens, nA, nS, pF, siemens, ufarad, volt

from tests.passes.test_integrate_helpers import compare_one_step, spikec_code

RNG = np.random.default_rng(7)
N = 64


def uniform(low, high):
    return RNG.uniform(low, high, N)


LIF = "dv/dt = (El - v + R*I)/tau : volt (unless refractory)"
LIF_NS = dict(El=-60 * mV, R=100 * 1e6 * (volt / amp), I=0.2 * nA, tau=10 * ms)


def test_lif_exact_with_refractoriness():
    lines = compare_one_step(LIF, "exact", {"v": uniform(-0.07, -0.04)}, LIF_NS,
                             refractory=2 * ms)
    # v's write is conditional on not_refractory, so its update is computed with the factor 1
    # (the coefficients no longer depend on the element; see specialize_not_refractory)
    assert not any("int(not_refractory)" in line for line in lines), lines


CUBA = """dv/dt = (ge + gi - (v - El))/taum : volt (unless refractory)
          dge/dt = -ge/taue : volt (unless refractory)
          dgi/dt = -gi/taui : volt (unless refractory)"""


def test_exact_coupled_system_is_a_sum_of_coefficient_times_state():
    # A X + C: each product coefficient a temporary (a launch invariant once lowered), so the
    # update of v costs one multiplication per coupled variable
    lines = compare_one_step(CUBA, "exact", {"v": uniform(-0.06, -0.05), "ge": uniform(0, 0.01),
                                             "gi": uniform(-0.01, 0)},
                             dict(taum=20 * ms, taue=5 * ms, taui=10 * ms, El=-49 * mV),
                             refractory=5 * ms)
    update = next(line for line in lines if line.startswith("_v = "))
    assert "__A0_1 * ge" in update and "__A0_2 * gi" in update, lines
    assert not any("int(not_refractory)" in line for line in lines), lines


def test_unflagged_variable_coupled_to_a_flagged_one_keeps_the_factor():
    # w has no flag and reads v: it is written in refractory elements too, where v's derivative
    # is 0, so its exact update keeps int(not_refractory); v's own update has the factor 1
    equations = """dv/dt = -v/tau : 1 (unless refractory)
                   dw/dt = (v - 2*w)/tau : 1"""
    lines = compare_one_step(equations, "exact", {"v": uniform(-1, 1), "w": uniform(-1, 1)},
                             dict(tau=10 * ms), refractory=2 * ms)
    assert [line.split(" = ")[0] for line in lines if "int(not_refractory)" in line] == ["__A1_0"]
    assert "_w = __A1_0 * v + " in "\n".join(lines), lines


def test_lif_default_choice_is_exact():
    assert spikec_code(LIF.replace(" (unless refractory)", ""), None, LIF_NS)[2] == "exact"


COUPLED = """dv/dt = (-v + a*w)/tau1 : 1
             dw/dt = (b*v - w + c)/tau2 : 1"""
COUPLED_NS = dict(a=0.5, b=0.2, c=0.3, tau1=10 * ms, tau2=20 * ms)


def test_coupled_linear_system_exact():
    compare_one_step(COUPLED, "exact", {"v": uniform(-1, 1), "w": uniform(-1, 1)}, COUPLED_NS)


HH = """dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
dm/dt = 0.32*(mV**-1)*4*mV/exprel((13.*mV-v+VT)/(4*mV))/ms*(1-m)-0.28*(mV**-1)*5*mV/exprel((v-VT-40.*mV)/(5*mV))/ms*m : 1
dn/dt = 0.032*(mV**-1)*5*mV/exprel((15.*mV-v+VT)/(5*mV))/ms*(1.-n)-.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n : 1
dh/dt = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h : 1
I : amp"""
HH_NS = dict(gl=5e-5 * siemens * 0.02, El=-60 * mV, EK=-90 * mV, ENa=50 * mV,
             g_na=100 * msiemens * 0.02, g_kd=30 * msiemens * 0.02, Cm=1 * ufarad * 0.02,
             VT=-63 * mV)


def test_hodgkin_huxley_exponential_euler():
    state = {"v": uniform(-0.08, 0.02), "m": uniform(0, 1), "n": uniform(0, 1),
             "h": uniform(0, 1)}
    compare_one_step(HH.replace("I : amp", "").replace(" + I)", ")"), "exponential_euler",
                     state, HH_NS)
    assert spikec_code(HH.replace("I : amp", "").replace(" + I)", ")"), ["exact", "exponential_euler"],
                       HH_NS)[2] == "exponential_euler"



IZHIKEVICH = """dv/dt = (0.04*v**2 + 5*v + 140 - u + I)/ms : 1
                du/dt = a*(b*v - u)/ms : 1"""
IZ_NS = dict(a=0.02, b=0.2, I=10.0)


def test_izhikevich_euler_and_default_choice():
    compare_one_step(IZHIKEVICH, "euler", {"v": uniform(-70, 30), "u": uniform(-20, 0)}, IZ_NS)
    assert spikec_code(IZHIKEVICH, None, IZ_NS)[2] == "euler"  # exact refuses: not linear


ADEX = """dvm/dt = (gL*(EL - vm) + gL*DeltaT*exp((vm - VT)/DeltaT) + I - w)/C : volt
          dw/dt = (a*(vm - EL) - w)/tauw : amp"""
ADEX_NS = dict(gL=30 * nS, EL=-70.6 * mV, DeltaT=2 * mV, VT=-50.4 * mV, I=1 * nA, C=281 * pF,
               a=4 * nS, tauw=144 * ms)


@pytest.mark.parametrize("method", ["rk4", "rk2", "euler", "heun", "milstein"])
def test_adex_explicit_methods(method):
    compare_one_step(ADEX, method, {"vm": uniform(-0.07, -0.045), "w": uniform(0, 1e-10)},
                     ADEX_NS)


OU = "dv/dt = (mu - v)/tau + sigma*xi/sqrt(tau) : volt"
OU_NS = dict(mu=-55 * mV, tau=20 * ms, sigma=5 * mV)


@pytest.mark.parametrize("method", ["euler", "heun", "milstein"])
def test_ornstein_uhlenbeck(method):
    compare_one_step(OU, method, {"v": uniform(-0.07, -0.04)}, OU_NS, noise_names=["xi"])


def test_ornstein_uhlenbeck_default_choice_is_euler():
    lines, _, used, _ = spikec_code(OU, None, OU_NS)
    assert used == "euler"
    assert lines[0] == "_dW_xi = sqrt(dt) * randn()"


MULTIPLICATIVE = "dv/dt = -v/tau + sigma*v*xi/sqrt(tau) : 1"
MULT_NS = dict(tau=20 * ms, sigma=0.5)


@pytest.mark.parametrize("method", ["heun", "milstein"])
def test_multiplicative_noise(method):
    compare_one_step(MULTIPLICATIVE, method, {"v": uniform(-1, 1)}, MULT_NS, noise_names=["xi"])


def test_multiplicative_noise_default_choice_is_heun():
    assert spikec_code(MULTIPLICATIVE, None, MULT_NS)[2] == "heun"


TWO_NOISES = """dv/dt = -v/tau + s*xi_1/sqrt(tau) + s*w*xi_2/sqrt(tau) : 1
                dw/dt = -w/tau + s*v*xi_2/sqrt(tau) : 1"""


def test_heun_with_two_noise_names():
    compare_one_step(TWO_NOISES, "heun", {"v": uniform(-1, 1), "w": uniform(-1, 1)},
                     dict(tau=10 * ms, s=0.3), noise_names=["xi_1", "xi_2"])


@pytest.mark.parametrize("method", ["euler", "rk2", "rk4", "exponential_euler"])
def test_unless_refractory_with_every_deterministic_method(method):
    equations = """dv/dt = (El - v + g*(Ee - v))/tau : volt (unless refractory)
                   dg/dt = -g/taug : 1"""
    compare_one_step(equations, method, {"v": uniform(-0.07, -0.04), "g": uniform(0, 1)},
                     dict(El=-60 * mV, Ee=0 * mV, tau=10 * ms, taug=5 * ms), refractory=2 * ms)


@pytest.mark.parametrize("equations, method, fragment", [
    (IZHIKEVICH, "exact", "not linear"),
    (OU, "exact", "stochastic"),
    (OU, "rk4", "stochastic"),
    (MULTIPLICATIVE, "euler", "multiplicative noise"),
    (TWO_NOISES, "milstein", "diagonal noise"),
    ("dv/dt = -v**2/tau : 1", "exponential_euler", "not linear in 'v'"),
    ("dv/dt = 1/tau : 1", "exact", "singular"),
    ("dv/dt = -v/tau*sin(t/tau) : 1", "exact", "not constant over a time step"),
])
def test_a_method_that_cannot_apply_is_a_clear_error(equations, method, fragment):
    namespace = dict(tau=10 * ms, sigma=0.5, mu=0 * mV, s=0.1, a=0.02, b=0.2, I=10.0)
    if equations == OU:
        namespace.update(OU_NS)
    with pytest.raises(Exception) as caught:
        spikec_code(equations, method, namespace)
    message = str(caught.value)
    assert fragment in message and "@neurongroup" in message and method in message


TIME_DEPENDENT = "dv/dt = -v/tau + sin(2*pi*t/tau)/tau : 1"


@pytest.mark.parametrize("method", ["euler", "rk2", "rk4", "heun", "milstein"])
def test_time_dependent_equation(method):
    """rk2 and rk4 evaluate f at t + dt/2 and t + dt: a time-dependent input checks that."""
    compare_one_step(TIME_DEPENDENT, method, {"v": uniform(-1, 1)}, dict(tau=3 * ms))


coefficient = st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 3))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(coefficient, min_size=6, max_size=6))
def test_random_linear_systems_exact_agree_with_brian_or_both_refuse(c):
    """Brian and spikec accept the same 2-variable linear systems for `exact` (real eigenvalues,
    non-singular), and then compute the same step."""
    from brian2.stateupdaters.base import UnsupportedEquationsException
    equations = (f"dv/dt = ({c[0]}*v + {c[1]}*w + {c[2]})/ms : 1\n"
                 f"dw/dt = ({c[3]}*v + {c[4]}*w + {c[5]})/ms : 1")
    state = {"v": uniform(-1, 1), "w": uniform(-1, 1)}
    try:
        from tests.passes.test_integrate_helpers import brian_code
        brian_code(equations, "exact")
        brian_refuses = False
    except UnsupportedEquationsException:
        brian_refuses = True
    if brian_refuses:
        with pytest.raises(PassError, match="cannot integrate"):
            spikec_code(equations, "exact", {})
    else:
        compare_one_step(equations, "exact", state, {}, rtol=1e-9)


def test_event_driven_equations_advance_over_the_time_since_the_last_update():
    module = parse_module("""
model.clock @c {dt = 0.0001}
model.group @G {size = 2, clock = @c, dtype = f64, methods = ["euler"]} body() {
  model.variable @v {role = "state", dim = "1"} : f64
  model.equation @v {kind = "differential", expr = "-v / (10 * ms)"}
  model.constant @ms {value = 0.001, dim = "s"}
}
model.synapses @S {size = 0, clock = @c, dtype = f64, methods = ["exact", "euler", "heun"], source = @G, target = @G} body() {
  model.variable @apre {role = "state", dim = "1", flags = ["event-driven"]} : f64
  model.variable @x {role = "state", dim = "1", flags = ["clock-driven"]} : f64
  model.constant @taupre {value = 0.02, dim = "s"}
  model.equation @apre {kind = "differential", expr = "-apre / taupre"}
  model.equation @x {kind = "differential", expr = "-x / taupre"}
  model.pathway @pre {direction = "pre", event = "spike", code = ["apre += 1"]}
}""")
    synapses = module.ops[2]
    code = [str(s) for s in event_driven_update(synapses)]
    assert code == ["_apre = apre * exp(-((t - lastupdate) / taupre))", "apre = _apre"] or \
        "lastupdate" in code[0]
    apre, t, lastupdate, taupre = 0.7, 0.05, 0.02, 0.02
    scope = {"apre": apre, "t": t, "lastupdate": lastupdate, "taupre": taupre, "exp": np.exp}
    exec("\n".join(code), {}, scope)
    assert scope["apre"] == pytest.approx(apre * np.exp(-(t - lastupdate) / taupre), rel=1e-14)


def test_event_driven_equations_that_are_not_linear_are_an_error():
    module = parse_module("""
model.clock @c {dt = 0.0001}
model.group @G {size = 2, clock = @c, dtype = f64, methods = ["euler"]} body() {
}
model.synapses @S {size = 0, clock = @c, dtype = f64, methods = ["exact"], source = @G, target = @G} body() {
  model.variable @apre {role = "state", dim = "1", flags = ["event-driven"]} : f64
  model.constant @taupre {value = 0.02, dim = "s"}
  model.equation @apre {kind = "differential", expr = "-apre**2 / taupre"}
}""")
    with pytest.raises(EquationError, match="clock-driven"):
        event_driven_update(module.ops[2])
