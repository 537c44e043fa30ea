"""CUBA: Vogels & Abbott's current-based LIF network, as Brian's CUBA example without monitors
(Brian2CUDA's CUBAFixedConnectivityNoMonitor): 80% excitatory, 20% inhibitory, refractory 5 ms,
~80 synapses per neuron (p = 80/N per pathway), we = 1.62 mV, wi = -9 mV, exact integration."""


def build(sim, n: int, monitor: bool = False, **_):
    """(Network, info) for `n` neurons; `sim` is brian2 or spikec."""
    ms, mV = sim.ms, sim.mV
    ns = {"taum": 20 * ms, "taue": 5 * ms, "taui": 10 * ms, "Vt": -50 * mV, "Vr": -60 * mV,
          "El": -49 * mV, "Ne": int(0.8 * n),
          "we": (60 * 0.27 / 10) * mV, "wi": (-20 * 4.5 / 10) * mV}
    eqs = """
    dv/dt  = (ge+gi-(v-El))/taum : volt (unless refractory)
    dge/dt = -ge/taue : volt (unless refractory)
    dgi/dt = -gi/taui : volt (unless refractory)
    """
    P = sim.NeuronGroup(n, eqs, threshold="v>Vt", reset="v = Vr", refractory=5 * ms,
                        method="exact", namespace=ns, name="cuba")
    P.v = "Vr + rand() * (Vt - Vr)"
    P.ge = 0 * mV
    P.gi = 0 * mV
    Ce = sim.Synapses(P, P, on_pre="ge += we", namespace=ns, name="cuba_exc")
    Ci = sim.Synapses(P, P, on_pre="gi += wi", namespace=ns, name="cuba_inh")
    p = min(80.0 / n, 1.0)
    Ce.connect("i<Ne", p=p)
    Ci.connect("i>=Ne", p=p)
    monitors = [sim.SpikeMonitor(P, name="cuba_spikes")] if monitor else []
    return sim.Network(P, Ce, Ci, *monitors), {"neurons": n, "synapses": [Ce, Ci],
                                               "spike_monitors": monitors}
