"""Synaptic models used by the runtime tests, each written once against a simulator module
(`brian2` or `spikec`). Inputs are deterministic (spike generators, fixed connectivity), so
results can be compared spike for spike. Each returns plain arrays of what it recorded."""

import numpy as np


def _sources(sim, n=6):
    """n neurons spiking on a fixed, irregular schedule (several per step at times)."""
    ms = sim.ms
    indices = np.array([0, 1, 2, 3, 4, 5, 0, 2, 4, 1, 3, 5, 0, 1, 2, 3, 4, 5, 2, 2])
    times = np.array([1, 1, 1.5, 2, 3, 3, 5, 5, 6.5, 7, 8, 8, 10, 10.5, 11, 12, 12, 12, 15,
                      18]) * ms
    return sim.SpikeGeneratorGroup(n, indices, times)


def _record(sim, targets, names, *extra):
    trace = sim.StateMonitor(targets, names, record=True)
    return trace, sim.Network(targets, trace, *extra)


def accumulate(sim, delay_ms=0.0, propagation=None):
    """v_post += w onto leaky targets (push-atomic by default), optional homogeneous delay."""
    ms = sim.ms
    G = _sources(sim)
    H = sim.NeuronGroup(4, "dv/dt = -v/(10*ms) : 1", method="exact")
    kwargs = {"propagation": propagation} if propagation else {}
    S = sim.Synapses(G, H, "w : 1", on_pre="v_post += w", delay=delay_ms * ms, **kwargs)
    S.connect(condition="(i + 2*j) % 3 != 0")
    S.w = "0.1 + 0.05*i + 0.2*j"
    trace, net = _record(sim, H, "v", G, S)
    net.run(25 * ms)
    return {"i": np.asarray(S.i[:]), "j": np.asarray(S.j[:]), "v": trace.v_[:]}


def accumulate_delayed(sim, propagation=None, refractory=False):
    """v_post += w with a different delay per synapse (dendritic-ring by default); with
    `refractory`, targets that spike and ignore inputs for 2 ms (`unless refractory`, decided
    when the event arrives)."""
    ms = sim.ms
    G = _sources(sim)
    if refractory:
        H = sim.NeuronGroup(4, "dv/dt = -v/(10*ms) : 1 (unless refractory)", threshold="v > 0.6",
                            reset="v = 0", refractory=2 * ms, method="exact")
    else:
        H = sim.NeuronGroup(4, "dv/dt = -v/(10*ms) : 1", method="exact")
    kwargs = {"propagation": propagation} if propagation else {}
    S = sim.Synapses(G, H, "w : 1", on_pre="v_post += w", **kwargs)
    S.connect(condition="(i + 2*j) % 3 != 0")
    S.w = "0.1 + 0.05*i + 0.2*j"
    S.delay = "i*0.7*ms + j*0.3*ms"
    trace, net = _record(sim, H, "v", G, S)
    found = {}
    if refractory:
        spikes = sim.SpikeMonitor(H)
        net.add(spikes)
    net.run(25 * ms)
    if refractory:
        found.update(spike_i=spikes.i[:], spike_t=spikes.t_[:])
    return {"v": trace.v_[:], **found}


def counted_delayed(sim, propagation=None):
    """Integer-valued accumulations with per-synapse delays onto variables without dynamics:
    every sum is exact, so strategies adding in different orders agree bit for bit."""
    ms = sim.ms
    G = _sources(sim)
    H = sim.NeuronGroup(4, "x : 1\ny : 1")
    kwargs = {"propagation": propagation} if propagation else {}
    S = sim.Synapses(G, H, "w : 1", on_pre="x_post += w\ny_post -= 2*w", **kwargs)
    S.connect(condition="(i + j) % 4 != 1")
    S.w = "1 + i + 3*j"
    S.delay = "i*0.7*ms + j*0.3*ms"
    trace, net = _record(sim, H, ["x", "y"], G, S)
    net.run(25 * ms)
    return {"x": trace.x_[:], "y": trace.y_[:]}


def converging_delayed(sim, refractory=False):
    """Three pathways with per-synapse delays add into one target variable (dendritic rings,
    which `merge-rings` folds into one): excitation from one generator, inhibition from
    another, and with `refractory` a recurrent pathway of spiking targets that ignore inputs
    for 2 ms. Weights are multiples of 1/8: every arriving sum is exact, whatever the order."""
    ms = sim.ms
    G = _sources(sim)
    F = sim.SpikeGeneratorGroup(3, np.array([0, 1, 2, 0, 2, 1]), np.array([2, 2.5, 4, 9, 9, 13]) * ms)
    if refractory:
        H = sim.NeuronGroup(4, "dv/dt = -v/(10*ms) : 1 (unless refractory)", threshold="v > 0.9",
                            reset="v = 0", refractory=2 * ms, method="exact")
    else:
        H = sim.NeuronGroup(4, "dv/dt = -v/(10*ms) : 1", method="exact")
    excite = sim.Synapses(G, H, "w : 1", on_pre="v_post += w")
    excite.connect(condition="(i + 2*j) % 3 != 0")
    excite.w = "0.125*(1 + i + 2*j)"
    excite.delay = "i*0.7*ms + j*0.3*ms"
    inhibit = sim.Synapses(F, H, "w : 1", on_pre="v_post -= w")
    inhibit.connect()
    inhibit.w = "0.125*(1 + j)"
    inhibit.delay = "0.2*ms + i*1.1*ms + j*0.4*ms"
    objects = [G, F, excite, inhibit]
    if refractory:
        recurrent = sim.Synapses(H, H, "w : 1", on_pre="v_post += w")
        recurrent.connect(condition="i != j")
        recurrent.w = "0.25"
        recurrent.delay = "0.5*ms + 0.9*ms*j"
        spikes = sim.SpikeMonitor(H)
        objects += [recurrent, spikes]
    trace, net = _record(sim, H, "v", *objects)
    net.run(25 * ms)
    found = {"spike_i": spikes.i[:], "spike_t": spikes.t_[:]} if refractory else {}
    return {"v": trace.v_[:], **found}


def delayed_on_either_side(sim, direction="pre", code="x = x*0.5 + w\nhits += 1",
                           propagation=None):
    """Per-synapse delays on an `on_pre` pathway (spikes of the generator reach x of 3 neurons)
    or an `on_post` one (the generator is the target; x is the source's). The default effect is
    not commutative, so only Brian's delivery order (events sent earlier first, then spike order,
    then synapse number) gives these values; `code="x += w"` accumulates (dendritic-ring)."""
    ms = sim.ms
    spiking = _sources(sim)
    P = sim.NeuronGroup(3, "x : 1")
    side = "_post" if direction == "pre" else "_pre"
    code = code.replace("x ", f"x{side} ").replace("x*", f"x{side}*")
    kwargs = {"propagation": propagation} if propagation else {}
    if direction == "pre":
        S = sim.Synapses(spiking, P, "w : 1\nhits : 1", on_pre=code, **kwargs)
        S.connect(j="i % 3")
        S.connect(i=[5, 4, 0, 3], j=[0, 0, 1, 0])
        S.delay = "(1 + 0.4*i - 0.9*j)*ms"  # some events of one step were sent at different
    else:                                    # steps, the later from a lower source: order tested
        S = sim.Synapses(P, spiking, "w : 1\nhits : 1", on_post=code, **kwargs)
        S.connect(i="j % 3")
        S.connect(i=[0, 0, 1, 0], j=[5, 4, 0, 3])
        S.post.delay = "(1 + 0.4*j - 0.9*i)*ms"
    S.w = "1 + i + 10*j"
    trace, net = _record(sim, P, "x", spiking, S)
    net.run(25 * ms)
    return {"x": trace.x_[:], "hits": np.asarray(S.hits[:])}


def non_commutative(sim, propagation=None):
    """x_post = x_post*0.5 + w, counted per synapse: only Brian's synapse order gives this."""
    ms = sim.ms
    G = _sources(sim)
    H = sim.NeuronGroup(3, "x : 1")
    kwargs = {"propagation": propagation} if propagation else {}
    S = sim.Synapses(G, H, "w : 1\nhits : 1", on_pre="x_post = x_post*0.5 + w\nhits += 1",
                     **kwargs)
    S.connect(j="i % 3")
    S.connect(i=[5, 4, 0], j=[0, 0, 1])
    S.w = "1 + i + 10*j"
    trace, net = _record(sim, H, "x", G, S)
    net.run(25 * ms)
    return {"x": trace.x_[:], "hits": np.asarray(S.hits[:])}


def stdp(sim, delays=False, propagation=None):
    """Song-Abbott STDP: event-driven traces, clip, on_pre and on_post pathways, LIF targets;
    with `delays`, different delays per synapse on both pathways (spike-history, or the
    `propagation` forced on both)."""
    ms, mV = sim.ms, sim.mV
    namespace = {"taupre": 20 * ms, "taupost": 20 * ms, "wmax": 0.02, "Apre": 0.001,
                 "Apost": -0.00105, "taum": 10 * ms, "Ee": 0 * mV, "El": -74 * mV,
                 "vt": -54 * mV, "vr": -60 * mV, "taue": 5 * ms}
    G = _sources(sim)
    H = sim.NeuronGroup(2, """dv/dt = (ge * (Ee - v) + El - v) / taum : volt
                              dge/dt = -ge / taue : 1""",
                        threshold="v > vt", reset="v = vr", method="euler", namespace=namespace)
    H.v = -60 * mV
    S = sim.Synapses(G, H, """w : 1
                              dapre/dt = -apre / taupre : 1 (event-driven)
                              dapost/dt = -apost / taupost : 1 (event-driven)""",
                     on_pre="""ge += w*8
                               apre += Apre
                               w = clip(w + apost, 0, wmax)""",
                     on_post="""apost += Apost
                                w = clip(w + apre, 0, wmax)""", namespace=namespace,
                     **({"propagation": propagation} if propagation else {}))
    S.connect()
    S.w = "0.01 + 0.001*i"
    if delays:
        S.delay = "i*0.7*ms + j*0.3*ms"
        S.post.delay = "(5 - i)*0.4*ms + j*0.2*ms"
    spikes = sim.SpikeMonitor(H)
    weights = sim.StateMonitor(S, "w", record=[0, 5, 11])
    trace, net = _record(sim, H, "v", G, S, spikes, weights)
    net.run(25 * ms)
    return {"spike_i": spikes.i[:], "spike_t": spikes.t_[:], "v": trace.v_[:],
            "w": np.asarray(S.w[:]), "w_trace": weights.w_[:], "apre": np.asarray(S.apre[:])}


def summed(sim):
    """A summed variable (I_post) driving the targets' state update, and a clock-driven
    synaptic variable."""
    ms = sim.ms
    G = sim.NeuronGroup(4, "dv/dt = (1 + 0.1*i - v)/(5*ms) : 1", threshold="v > 0.9",
                        reset="v = 0", method="exact")
    H = sim.NeuronGroup(2, """dy/dt = (I - y)/(3*ms) : 1
                              I : 1""", method="exact")
    S = sim.Synapses(G, H, """ds/dt = -s/(2*ms) : 1 (clock-driven)
                              w : 1
                              I_post = w*s : 1 (summed)""", on_pre="s += 1", method="exact")
    S.connect()
    S.w = "0.5 + i - j"
    trace, net = _record(sim, H, ["y", "I"], G, S)
    net.run(20 * ms)
    return {"y": trace.y_[:], "I": trace.I_[:]}
