"""STDP (Song, Miller & Abbott 2000) as Brian2CUDA's STDPCUDA benchmarks: N Poisson inputs at
15 Hz onto N/1000 conductance-based LIF neurons, each receiving a contiguous block of 1000
inputs (N synapses in all), weights rand()*gmax with gmax = 0.01, pair-based STDP with
event-driven traces (tau 20 ms, dApost = -1.05 dApre), weights clipped to [0, gmax].

delays: 'none' (0 ms, STDPCUDA), 'homogeneous' (2 ms), 'heterogeneous' (4*ms*rand(), i.e.
Brian2CUDA's '2 * 2*ms * rand()'). `n` is the number of synapses (= Poisson inputs) and must be a
multiple of 1000.
"""

DELAYS = ("none", "homogeneous", "heterogeneous")
K_POISSON = 1000


def build(sim, n: int, delays: str = "homogeneous", monitor: bool = False, **_):
    """(Network, info) for `n` synapses; `sim` is brian2 or spikec."""
    if delays not in DELAYS:
        raise ValueError(f"delays must be one of {DELAYS}, not {delays!r}")
    if n % K_POISSON or n <= 0:
        raise ValueError(f"STDP needs a positive multiple of {K_POISSON} inputs, not {n}")
    ms, mV = sim.ms, sim.mV
    taupre = taupost = 20 * ms
    gmax = 0.01
    dApre = 0.01
    dApost = -dApre * taupre / taupost * 1.05
    ns = {"taum": 10 * ms, "taupre": taupre, "taupost": taupost, "Ee": 0 * mV, "vt": -54 * mV,
          "vr": -60 * mV, "El": -74 * mV, "taue": 5 * ms, "gmax": gmax,
          "dApre": dApre * gmax, "dApost": dApost * gmax, "K_poisson": K_POISSON}
    inputs = sim.PoissonGroup(n, rates=15 * sim.Hz, name="stdp_inputs")
    neurons = sim.NeuronGroup(n // K_POISSON, """
        dv/dt = (ge * (Ee-vr) + El - v) / taum : volt
        dge/dt = -ge / taue : 1
        """, threshold="v>vt", reset="v = vr", method="exact", namespace=ns, name="stdp_neurons")
    delay = {"none": {"delay": 0 * ms}, "homogeneous": {"delay": 2 * ms}, "heterogeneous": {}}
    S = sim.Synapses(inputs, neurons, """
        w : 1
        dApre/dt = -Apre / taupre : 1 (event-driven)
        dApost/dt = -Apost / taupost : 1 (event-driven)
        """, on_pre="""
        ge += w
        Apre += dApre
        w = clip(w + Apost, 0, gmax)
        """, on_post="""
        Apost += dApost
        w = clip(w + Apre, 0, gmax)
        """, namespace=ns, name="stdp_synapses", **delay[delays])
    # input i onto neuron i // 1000: Brian2CUDA's condition
    # 'i < (j+1)*K_poisson and i >= j*K_poisson', as a one-target generator (same synapses,
    # same order, without evaluating N * N/1000 candidate pairs)
    S.connect(j="i // K_poisson")
    S.w = "rand() * gmax"
    if delays == "heterogeneous":
        S.delay = "4*ms * rand()"
    monitors = [sim.SpikeMonitor(neurons, name="stdp_spikes")] if monitor else []
    return sim.Network(inputs, neurons, S, *monitors), {
        "neurons": n + n // K_POISSON, "synapses": [S], "spike_monitors": monitors}
