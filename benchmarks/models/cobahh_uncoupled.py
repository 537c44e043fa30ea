"""COBAHH without synapses or monitors, as in the Brian2CUDA paper's benchmark suite: Traub-Miles
Hodgkin-Huxley neurons with exponentially decaying conductances ge, gi, exponential_euler,
threshold v > -20 mV, refractory 3 ms. State update bound: 6 f64 state variables per neuron."""


def build(sim, n: int):
    """The network for `n` neurons; `sim` is the simulator module (`brian2` or `spikec`)."""
    ms, mV, umetre, cm = sim.ms, sim.mV, sim.umetre, sim.cmetre
    area = 20000 * umetre**2
    namespace = {
        "Cm": (1 * sim.ufarad * cm**-2) * area, "gl": (5e-5 * sim.siemens * cm**-2) * area,
        "El": -60 * mV, "EK": -90 * mV, "ENa": 50 * mV,
        "g_na": (100 * sim.msiemens * cm**-2) * area, "g_kd": (30 * sim.msiemens * cm**-2) * area,
        "VT": -63 * mV, "taue": 5 * ms, "taui": 10 * ms, "Ee": 0 * mV, "Ei": -80 * mV,
    }
    eqs = """
    dv/dt = (gl*(El-v)+ge*(Ee-v)+gi*(Ei-v)-
             g_na*(m*m*m)*h*(v-ENa)-
             g_kd*(n*n*n*n)*(v-EK))/Cm : volt
    dm/dt = alpha_m*(1-m)-beta_m*m : 1
    dn/dt = alpha_n*(1-n)-beta_n*n : 1
    dh/dt = alpha_h*(1-h)-beta_h*h : 1
    dge/dt = -ge*(1./taue) : siemens
    dgi/dt = -gi*(1./taui) : siemens
    alpha_m = 0.32*(mV**-1)*(13.*mV-v+VT)/
             (exp((13.*mV-v+VT)/(4.*mV))-1.)/ms : Hz
    beta_m = 0.28*(mV**-1.)*(v-VT-40.*mV)/
            (exp((v-VT-40.*mV)/(5.*mV))-1.)/ms : Hz
    alpha_h = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms : Hz
    beta_h = 4./(1.+exp((40.*mV-v+VT)/(5.*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1.)*(15.*mV-v+VT)/
             (exp((15.*mV-v+VT)/(5.*mV))-1.)/ms : Hz
    beta_n = .5*exp((10.*mV-v+VT)/(40.*mV))/ms : Hz
    """
    P = sim.NeuronGroup(n, eqs, threshold="v>-20*mV", refractory=3 * ms,
                        method="exponential_euler", namespace=namespace)
    P.v = "El + (randn() * 5 - 5)*mV"
    P.ge = "(randn() * 1.5 + 4) * 10.*nS"
    P.gi = "(randn() * 12 + 20) * 10.*nS"
    return sim.Network(P)
