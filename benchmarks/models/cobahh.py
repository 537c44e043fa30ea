"""COBAHH, the Brian2CUDA paper's definitions (brian2cuda/tests/features/speed.py, COBAHH*):
Traub-Miles Hodgkin-Huxley neurons with exponential conductances ge, gi, exponential_euler,
threshold v > -20 mV, refractory 3 ms, 80% excitatory / 20% inhibitory, no monitors.

coupling:
- 'uncoupled': no synapses (the same as cobahh_uncoupled.py);
- 'pseudo': ~1000 synapses per neuron (p = 1000/N for each of the exc and inh pathways) with
  weights rand() * 1e-9 nS, effectively zero (COBAHHPseudocoupled1000, the Brian2GeNN paper's);
- 'coupled': Brian's COBAHH example, p = 0.02, we = 6 nS, wi = 67 nS (COBAHHCoupled).

The excitatory and inhibitory pathways are Synapses(P, P) restricted with conditions on i
(`i < Ne`, `i >= Ne`) rather than subgroups, which draws the same distribution.
"""

COUPLINGS = ("uncoupled", "pseudo", "coupled")


def build(sim, n: int, coupling: str = "pseudo", monitor: bool = False, **_):
    """(Network, info) for `n` neurons; `sim` is brian2 or spikec."""
    if coupling not in COUPLINGS:
        raise ValueError(f"coupling must be one of {COUPLINGS}, not {coupling!r}")
    ms, mV, umetre, cm = sim.ms, sim.mV, sim.umetre, sim.cmetre
    area = 20000 * umetre**2
    ns = {
        "Cm": (1 * sim.ufarad * cm**-2) * area, "gl": (5e-5 * sim.siemens * cm**-2) * area,
        "El": -60 * mV, "EK": -90 * mV, "ENa": 50 * mV,
        "g_na": (100 * sim.msiemens * cm**-2) * area, "g_kd": (30 * sim.msiemens * cm**-2) * area,
        "VT": -63 * mV, "taue": 5 * ms, "taui": 10 * ms, "Ee": 0 * mV, "Ei": -80 * mV,
        "Ne": int(0.8 * n),
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
    alpha_m = 0.32*(mV**-1)*(13*mV-v+VT)/
             (exp((13*mV-v+VT)/(4*mV))-1.)/ms : Hz
    beta_m = 0.28*(mV**-1)*(v-VT-40*mV)/
            (exp((v-VT-40*mV)/(5*mV))-1)/ms : Hz
    alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
    beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
    alpha_n = 0.032*(mV**-1)*(15*mV-v+VT)/
             (exp((15*mV-v+VT)/(5*mV))-1.)/ms : Hz
    beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
    """
    P = sim.NeuronGroup(n, eqs, threshold="v>-20*mV", refractory=3 * ms,
                        method="exponential_euler", namespace=ns, name="cobahh")
    objects, synapses = [P], []
    if coupling != "uncoupled":
        p = 1000.0 / n if coupling == "pseudo" else 0.02
        Ce = sim.Synapses(P, P, "we : siemens (constant)", on_pre="ge += we", namespace=ns,
                          name="cobahh_exc")
        Ci = sim.Synapses(P, P, "wi : siemens (constant)", on_pre="gi += wi", namespace=ns,
                          name="cobahh_inh")
        Ce.connect("i < Ne", p=min(p, 1.0))
        Ci.connect("i >= Ne", p=min(p, 1.0))
        if coupling == "pseudo":
            Ce.we = "rand() * 1e-9*nS"
            Ci.wi = "rand() * 1e-9*nS"
        else:
            Ce.we = 6 * sim.nS
            Ci.wi = 67 * sim.nS
        synapses = [Ce, Ci]
        objects += synapses
    P.v = "El + (randn() * 5 - 5)*mV"
    P.ge = "(randn() * 1.5 + 4) * 10.*nS"
    P.gi = "(randn() * 12 + 20) * 10.*nS"
    monitors = [sim.SpikeMonitor(P, name="cobahh_spikes")] if monitor else []
    return sim.Network(*objects, *monitors), {"neurons": n, "synapses": synapses,
                                               "spike_monitors": monitors}
