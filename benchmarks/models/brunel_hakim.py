"""Brunel & Hakim (1999): sparsely connected inhibitory LIF neurons driven by noise, as Brian's
example and Brian2CUDA's BrunelHakim{Homog,Heterog}Delays: tau 20 ms, threshold 20 mV, reset
10 mV, refractory 2 ms, C = 1000 inputs per neuron (p = C/N), J = 0.1 mV.

delays:
- 'homogeneous': 2 ms for every synapse, muext 25 mV, sigmaext 1 mV;
- 'heterogeneous': delay = 4*ms*rand() per synapse, muext 27 mV, sigmaext 0.33 mV (the paper's
  choice for a similar activity regime).
"""

DELAYS = ("homogeneous", "heterogeneous")


def build(sim, n: int, delays: str = "homogeneous", monitor: bool = False, **_):
    """(Network, info) for `n` neurons; `sim` is brian2 or spikec."""
    if delays not in DELAYS:
        raise ValueError(f"delays must be one of {DELAYS}, not {delays!r}")
    ms, mV = sim.ms, sim.mV
    heterogeneous = delays == "heterogeneous"
    ns = {"Vr": 10 * mV, "theta": 20 * mV, "tau": 20 * ms, "J": 0.1 * mV,
          "muext": (27 if heterogeneous else 25) * mV,
          "sigmaext": (0.33 if heterogeneous else 1.0) * mV}
    eqs = "dV/dt = (-V+muext + sigmaext * sqrt(tau) * xi)/tau : volt"
    group = sim.NeuronGroup(n, eqs, threshold="V>theta", reset="V=Vr", refractory=2 * ms,
                            method="euler", namespace=ns, name="brunel_hakim")
    group.V = ns["Vr"]
    conn = sim.Synapses(group, group, on_pre="V += -J", namespace=ns, name="brunel_hakim_syn",
                        **({} if heterogeneous else {"delay": 2 * ms}))
    conn.connect(p=min(1000.0 / n, 1.0))
    if heterogeneous:
        conn.delay = "4*ms * rand()"
    monitors = [sim.SpikeMonitor(group, name="brunel_hakim_spikes")] if monitor else []
    return sim.Network(group, conn, *monitors), {"neurons": n, "synapses": [conn],
                                                 "spike_monitors": monitors}
