"""The Potjans & Diesmann (2014) cortical microcircuit: 8 populations (L2/3, L4, L5, L6, each
excitatory and inhibitory) of current-based LIF neurons with exponential synaptic currents
(NEST's iaf_psc_exp), 77,169 neurons and ~3e8 synapses at full scale. Constants: the published
model as in NEST's PyNEST example (Potjans_2014/network_params.py; this is our own code).

- Neurons: C_m 250 pF, tau_m 10 ms, E_L = V_reset = -65 mV, V_th -50 mV, t_ref 2 ms,
  tau_syn 0.5 ms (excitatory and inhibitory alike, so one current I); V0 ~ N(-58 mV, 10 mV).
- Connectivity: per projection a fixed total number of synapses (sources and targets drawn
  uniformly, multapses and autapses allowed) K = log(1 - p) / log(1 - 1/(N_pre N_post)) from the
  full-scale sizes, times `scale`: in-degrees stay those of the full model at every scale.
- Weights: mean PSP 0.15 mV -> 87.8 pA (the iaf_psc_exp PSC for that PSP), g = -4 for
  inhibitory sources, doubled for L4E -> L2/3E; relative sd 0.1, clipped to keep their sign.
- Delays: N(1.5 ms, 0.75 ms) from excitatory, N(0.75 ms, 0.375 ms) from inhibitory sources,
  clipped below at dt: heterogeneous delays.
- Background: `background='poisson'` (default): K_ext independent 8 Hz Poisson inputs per neuron
  (PoissonInput), weight 87.8 pA; `background='dc'`: NEST's DC alternative,
  I = 8 Hz * K_ext * 87.8 pA * tau_syn.

`n` is the total number of neurons; scale = n / 77169 (n = 77169 is the full model). Figure of
merit: real-time factor = wall time / biological time.
"""

import math

import numpy as np

POPULATIONS = ("L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I")
N_FULL = (20683, 5834, 21915, 5479, 4850, 1065, 14395, 2948)
FULL_SIZE = sum(N_FULL)  # 77169
# connection probabilities, [target][source]
CONN_PROBS = (
    (0.1009, 0.1689, 0.0437, 0.0818, 0.0323, 0.0, 0.0076, 0.0),
    (0.1346, 0.1371, 0.0316, 0.0515, 0.0755, 0.0, 0.0042, 0.0),
    (0.0077, 0.0059, 0.0497, 0.135, 0.0067, 0.0003, 0.0453, 0.0),
    (0.0691, 0.0029, 0.0794, 0.1597, 0.0033, 0.0, 0.1057, 0.0),
    (0.1004, 0.0622, 0.0505, 0.0057, 0.0831, 0.3726, 0.0204, 0.0),
    (0.0548, 0.0269, 0.0257, 0.0022, 0.06, 0.3158, 0.0086, 0.0),
    (0.0156, 0.0066, 0.0211, 0.0166, 0.0572, 0.0197, 0.0396, 0.2252),
    (0.0364, 0.001, 0.0034, 0.0005, 0.0277, 0.008, 0.0658, 0.1443),
)
K_EXT = (1600, 1500, 2100, 1900, 2000, 1900, 2900, 2100)
BG_RATE_HZ = 8.0
PSP_E_MV = 0.15
G_REL = -4.0
PSP_REL_SD = 0.1
MEAN_DELAY_MS = {"E": 1.5, "I": 0.75}
REL_SD_DELAY = 0.5
C_M_PF, TAU_M_MS, TAU_SYN_MS = 250.0, 10.0, 0.5


def psc_over_psp(c_m=C_M_PF, tau_m=TAU_M_MS, tau_syn=TAU_SYN_MS) -> float:
    """pA of an exponential current whose PSP peaks at 1 mV (iaf_psc_exp; pF, ms)."""
    sub = 1.0 / (tau_syn - tau_m)
    pre = tau_m * tau_syn / c_m * sub
    frac = (tau_m / tau_syn) ** sub
    return 1.0 / (pre * (frac**tau_m - frac**tau_syn))


def synapse_counts(scale: float) -> np.ndarray:
    """Synapses per projection [target][source] at `scale` (in-degrees of the full model)."""
    counts = np.zeros((8, 8), dtype=np.int64)
    for t in range(8):
        for s in range(8):
            p = CONN_PROBS[t][s]
            if p > 0:
                full = math.log(1.0 - p) / math.log(1.0 - 1.0 / (N_FULL[t] * N_FULL[s]))
                counts[t, s] = int(round(full * scale))
    return counts


def build(sim, n: int = FULL_SIZE, background: str = "poisson", seed: int = 1,
          monitor: bool = False, **_):
    """(Network, info) for about `n` neurons in all; `sim` is brian2 or spikec."""
    if background not in ("poisson", "dc"):
        raise ValueError(f"background must be 'poisson' or 'dc', not {background!r}")
    scale = n / FULL_SIZE
    sizes = [max(1, int(round(size * scale))) for size in N_FULL]
    ms, mV, pA = sim.ms, sim.mV, sim.pA
    w_mean = PSP_E_MV * psc_over_psp()  # 87.8 pA
    tau_syn = TAU_SYN_MS * ms
    groups = []
    for name, size, k_ext in zip(POPULATIONS, sizes, K_EXT):
        ns = {"C_m": C_M_PF * sim.pF, "tau_m": TAU_M_MS * ms, "E_L": -65 * mV,
              "V_reset": -65 * mV, "V_th": -50 * mV, "tau_syn": tau_syn,
              "I_dc": (BG_RATE_HZ * k_ext * w_mean * TAU_SYN_MS * 1e-3 * pA
                       if background == "dc" else 0 * pA)}
        G = sim.NeuronGroup(size, """
            dv/dt = (E_L - v)/tau_m + (I + I_dc)/C_m : volt (unless refractory)
            dI/dt = -I/tau_syn : amp
            """, threshold="v > V_th", reset="v = V_reset", refractory=2 * ms,
            method="exact", namespace=ns, name=f"pd_{name}")
        G.v = "-58*mV + 10*mV*randn()"
        G.I = 0 * pA
        groups.append(G)
    inputs = []
    if background == "poisson":
        for G, k_ext in zip(groups, K_EXT):
            inputs.append(sim.PoissonInput(G, "I", N=k_ext, rate=BG_RATE_HZ * sim.Hz,
                                           weight=w_mean * pA))
    rng = np.random.default_rng(seed)
    counts = synapse_counts(scale)
    synapses = []
    for t, target in enumerate(groups):
        for s, source in enumerate(groups):
            if counts[t, s] == 0:
                continue
            kind = POPULATIONS[s][-1]
            mean = w_mean * (1.0 if kind == "E" else G_REL) * (2.0 if (t, s) == (0, 2) else 1.0)
            mean_delay = MEAN_DELAY_MS[kind]
            ns = {"w_mean": mean * pA, "w_sd": abs(mean) * PSP_REL_SD * pA,
                  "w_low": (0.0 if kind == "E" else -1e12) * pA,
                  "w_high": (1e12 if kind == "E" else 0.0) * pA,
                  "d_mean": mean_delay * ms, "d_sd": mean_delay * REL_SD_DELAY * ms,
                  "d_low": 0.1 * ms, "d_high": 1e3 * ms}
            S = sim.Synapses(source, target, "w : amp (constant)", on_pre="I += w",
                             namespace=ns, name=f"pd_{POPULATIONS[s]}_to_{POPULATIONS[t]}")
            pre = rng.integers(len(source), size=counts[t, s], dtype=np.int32)
            post = rng.integers(len(target), size=counts[t, s], dtype=np.int32)
            order = np.argsort(pre, kind="stable")
            S.connect(i=pre[order], j=post[order])
            S.w = "clip(w_mean + w_sd*randn(), w_low, w_high)"
            S.delay = "clip(d_mean + d_sd*randn(), d_low, d_high)"
            synapses.append(S)
    monitors = ([sim.SpikeMonitor(G, name=f"pd_{name}_spikes")
                 for G, name in zip(groups, POPULATIONS)] if monitor else [])
    return sim.Network(*groups, *inputs, *synapses, *monitors), {
        "neurons": sum(sizes), "synapses": synapses, "spike_monitors": monitors,
        "scale": scale, "synapses_expected": int(counts.sum())}
