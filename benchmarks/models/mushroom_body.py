"""Mushroom body (Nowotny et al.), as the Brian2GeNN / Brian2CUDA benchmark (MushroomBody in
brian2cuda/tests/features/speed.py): 100 projection neurons (SpikeGeneratorGroup) presenting
noisy odour patterns every 50 ms, N Traub-Miles Kenyon cells (iKC) and 100 output neurons (eKC)
with refractoriness 'V > 0*mV', exponential_euler; PN -> iKC with p = 0.15; iKC -> eKC with
pair-based STDP (event-driven traces, 10 ms), p = 1e4/N for N > 1e4 (all-to-all below); eKC ->
eKC all-to-all (lateral inhibition). Constants are the benchmark's.

The input: 10 base patterns of 20 PNs; presentation k (at k*50 ms + 1 ms + U(0, 2 ms)) is a
variant of one of them with Binomial(20, 0.1) PNs replaced by random ones. The benchmark draws
these with numpy's global generator; here a numpy Generator seeded with `seed` draws them, so
every simulator gets the same input spikes.
"""

import numpy as np

N_AL = 100
N_LB = 100


def input_spikes(duration_s: float, seed: int = 1):
    """(indices, times in seconds) of the PN spikes for `duration_s` seconds."""
    rng = np.random.default_rng(seed)
    n_patterns, pattern_size, p_perturb = 10, int(0.2 * N_AL), 0.1
    patterns = [rng.choice(N_AL, pattern_size, replace=False) for _ in range(n_patterns)]
    n_presentations = max(1, int(np.ceil(duration_s / 0.05)))
    indices, times = [], []
    for k in range(n_presentations):
        variant = rng.permutation(patterns[rng.integers(n_patterns)])
        replaced = rng.binomial(pattern_size, p_perturb)
        if replaced:
            variant = variant[:-replaced]
        variant = np.unique(np.concatenate([variant, rng.integers(N_AL, size=replaced)]))
        start = k * 0.05 + 0.001 + rng.random() * 0.002
        indices.append(variant)
        times.append(np.full(len(variant), start))
    return np.concatenate(indices).astype(np.int32), np.concatenate(times)


TRAUB_MILES = """
dV/dt = -(1/C)*(g_Na*m**3*h*(V - E_Na) +
                g_K*n**4*(V - E_K) +
                g_leak*(V - E_leak) +
                I_syn) : volt
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
alpha_m = 0.32*(mV**-1)*(13*mV-V+VT)/
         (exp((13*mV-V+VT)/(4*mV))-1.)/ms : Hz
beta_m = 0.28*(mV**-1)*(V-VT-40*mV)/
        (exp((V-VT-40*mV)/(5*mV))-1)/ms : Hz
alpha_h = 0.128*exp((17*mV-V+VT)/(18*mV))/ms : Hz
beta_h = 4./(1+exp((40*mV-V+VT)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*(15*mV-V+VT)/
         (exp((15*mV-V+VT)/(5*mV))-1.)/ms : Hz
beta_n = .5*exp((10*mV-V+VT)/(40*mV))/ms : Hz
"""


def build(sim, n: int, duration: float = 10.0, seed: int = 1, monitor: bool = False, **_):
    """(Network, info) for `n` Kenyon cells; `sim` is brian2 or spikec. `duration` (seconds)
    sets how many odour presentations the input holds."""
    ms, mV, nS, uS = sim.ms, sim.mV, sim.nS, sim.uS
    n_kckc = min(n, 10000)
    g_scaling = max(n_kckc / 2500, 1)
    ns = {"g_Na": 7.15 * uS, "E_Na": 50 * mV, "g_K": 1.43 * uS, "E_K": -95 * mV,
          "g_leak": 0.0267 * uS, "E_leak": -63.56 * mV, "C": 0.3 * sim.nF, "VT": -63 * mV,
          "E_e": 0 * mV, "E_i": -92 * mV,
          "tau_PN_iKC": 2 * ms, "tau_iKC_eKC": 10 * ms, "tau_eKC_eKC": 5 * ms,
          "w_eKC_eKC": 75 * nS, "tau_pre": 10 * ms, "tau_post": 10 * ms,
          "dApre": 0.1 * nS / g_scaling, "dApost": -0.1 * nS / g_scaling,
          "g_max": 3.75 * nS / g_scaling, "g_scaling": g_scaling, "scale": 0.675}
    indices, times = input_spikes(float(duration), int(seed))
    PN = sim.SpikeGeneratorGroup(N_AL, indices, times * sim.second, name="mb_pn")
    iKC = sim.NeuronGroup(n, TRAUB_MILES + """
        I_syn = g_PN_iKC*(V - E_e): amp
        dg_PN_iKC/dt = -g_PN_iKC/tau_PN_iKC : siemens
        """, threshold="V>0*mV", refractory="V>0*mV", method="exponential_euler",
        namespace=ns, name="mb_ikc")
    eKC = sim.NeuronGroup(N_LB, TRAUB_MILES + """
        I_syn = g_iKC_eKC*(V - E_e) + g_eKC_eKC*(V - E_i): amp
        dg_iKC_eKC/dt = -g_iKC_eKC/tau_iKC_eKC : siemens
        dg_eKC_eKC/dt = -g_eKC_eKC/tau_eKC_eKC : siemens
        """, threshold="V>0*mV", refractory="V>0*mV", method="exponential_euler",
        namespace=ns, name="mb_ekc")
    PN_iKC = sim.Synapses(PN, iKC, "weight : siemens", on_pre="g_PN_iKC += scale*weight",
                          namespace=ns, name="mb_pn_ikc")
    iKC_eKC = sim.Synapses(iKC, eKC, """
        g_raw : siemens
        dApre/dt = -Apre / tau_pre : siemens (event-driven)
        dApost/dt = -Apost / tau_post : siemens (event-driven)
        """, on_pre="""
        g_iKC_eKC += g_raw
        Apre += dApre
        g_raw = clip(g_raw + Apost, 0*siemens, g_max)
        """, on_post="""
        Apost += dApost
        g_raw = clip(g_raw + Apre, 0*siemens, g_max)
        """, delay=0 * ms, namespace=ns, name="mb_ikc_ekc")
    eKC_eKC = sim.Synapses(eKC, eKC, on_pre="g_eKC_eKC += scale*w_eKC_eKC", delay=0 * ms,
                           namespace=ns, name="mb_ekc_ekc")
    PN_iKC.connect(p=0.15)
    if n > 10000:
        iKC_eKC.connect(p=10000.0 / n)
    else:
        iKC_eKC.connect()
    eKC_eKC.connect()
    # all synapses "inactive", then 20% active
    PN_iKC.weight = "10*nS + 1.25*nS*randn()"
    iKC_eKC.g_raw = "rand()*g_max/10/g_scaling"
    iKC_eKC.g_raw["rand() < 0.2"] = "(2.5*nS + 0.5*nS*randn())/g_scaling"
    for group in (iKC, eKC):
        group.V = ns["E_leak"]
        group.h = 1
        group.m = 0
        group.n = 0.5
    monitors = ([sim.SpikeMonitor(iKC, name="mb_ikc_spikes"),
                 sim.SpikeMonitor(eKC, name="mb_ekc_spikes")] if monitor else [])
    synapses = [PN_iKC, iKC_eKC, eKC_eKC]
    return sim.Network(PN, iKC, eKC, *synapses, *monitors), {
        "neurons": N_AL + n + N_LB, "synapses": synapses, "spike_monitors": monitors}
