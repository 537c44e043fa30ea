"""Models with subgroups (`G[a:b]`) used by the runtime tests, each written once against a
simulator module (`brian2` or `spikec`), with deterministic input (spike generators, connectivity
from conditions), so spikec and Brian can be compared spike for spike."""

import numpy as np


def _input(sim, n=6):
    ms = sim.ms
    indices = [0, 1, 2, 3, 4, 5, 0, 2, 4, 1, 3, 5, 2]
    times = np.array([1, 1, 1.5, 2, 3, 3, 5, 5, 6.5, 7, 9, 9, 12]) * ms
    return sim.SpikeGeneratorGroup(n, indices, times)


def exc_inh(sim, propagation=None, delay_ms=0.0, per_synapse_delays=False):
    """COBAHH's split of one group into excitatory P[:7] and inhibitory P[7:] neurons:
    input onto Pe, Pe onto all of P, Pi onto Pe; monitors on the whole group and on subgroups."""
    ms = sim.ms
    inp = _input(sim)
    P = sim.NeuronGroup(10, """dv/dt = (ge - gi - v)/(5*ms) : 1
                               dge/dt = -ge/(3*ms) : 1
                               dgi/dt = -gi/(8*ms) : 1""",
                        threshold="v > 0.3", reset="v = 0", method="exact")
    Pe, Pi = P[:7], P[7:]
    kwargs = {"propagation": propagation} if propagation else {}
    feed = sim.Synapses(inp, Pe, on_pre="ge += 0.9", **kwargs)
    feed.connect(j="i")
    if delay_ms:
        kwargs["delay"] = delay_ms * ms
    Ce = sim.Synapses(Pe, P, "w : 1", on_pre="ge += w", **kwargs)
    Ce.connect(condition="i != j and (i + j) % 3 != 0")
    Ce.w = "0.2 + 0.01*i + 0.02*j"
    kwargs.pop("delay", None)
    Ci = sim.Synapses(Pi, Pe, on_pre="gi += 0.5 + 0.1*i + 0.01*j", **kwargs)
    Ci.connect()
    if per_synapse_delays:
        Ce.delay = "(0.3*i + 0.2*j)*ms"
        Ci.delay = "(1 + 0.5*i + 0.1*j)*ms"
    spikes, inhibitory = sim.SpikeMonitor(P), sim.SpikeMonitor(Pi)
    trace = sim.StateMonitor(Pi, ["v", "gi"], record=[0, 2])
    rate = sim.PopulationRateMonitor(Pe)
    sim.Network(inp, P, feed, Ce, Ci, spikes, inhibitory, trace, rate).run(20 * ms)
    return {"i": spikes.i[:], "t": spikes.t_[:], "pi_i": inhibitory.i[:],
            "pi_t": inhibitory.t_[:], "v": trace.v_[:], "gi": trace.gi_[:],
            "rate": rate.rate_[:], "Ci_i": np.asarray(Ci.i[:]), "Ci_j": np.asarray(Ci.j[:]),
            "Ce_i": np.asarray(Ce.i[:]), "Ce_j": np.asarray(Ce.j[:])}


def summed_onto_subgroups(sim):
    """Two summed variables writing the same parent variable through disjoint subgroups (Brian
    allows it), from a subgroup source; elements outside both keep their own value."""
    ms = sim.ms
    G = sim.NeuronGroup(5, "dv/dt = (1 + 0.1*i - v)/(5*ms) : 1", threshold="v > 0.9",
                        reset="v = 0", method="exact")
    H = sim.NeuronGroup(7, """dy/dt = (I - y)/(3*ms) : 1
                              I : 1""", method="exact")
    H.I = 0.25
    model = """ds/dt = -s/(2*ms) : 1 (clock-driven)
               w : 1
               I_post = w*s : 1 (summed)"""
    A = sim.Synapses(G[1:], H[:3], model, on_pre="s += 1", method="exact")
    A.connect(condition="i != j")
    A.w = "0.5 + i - j"
    B = sim.Synapses(G, H[4:6], model, on_pre="s += 1", method="exact")
    B.connect(j="i % 2")
    B.w = "0.2*(i + 1)"
    trace = sim.StateMonitor(H, ["y", "I"], record=True)
    sim.Network(G, H, A, B, trace).run(15 * ms)
    return {"y": trace.y_[:], "I": trace.I_[:]}


def on_post_between_subgroups(sim):
    """An `on_post` pathway whose target is a subgroup: only its neurons' spikes trigger it, and
    its non-commutative effect on the source (a subgroup too) keeps Brian's order, with
    per-synapse delays (spike-queue)."""
    ms = sim.ms
    P = sim.NeuronGroup(8, "x : 1")
    Q = sim.NeuronGroup(8, "dv/dt = (1.2 + 0.3*i - v)/(2*ms) : 1", threshold="v > 1",
                        reset="v = 0", method="exact")
    S = sim.Synapses(P[5:], Q[2:7], "w : 1", on_post="x_pre = x_pre*0.5 + w")
    S.connect(condition="(i + j) % 2 == 0")
    S.w = "1 + i + 10*j"
    S.post.delay = "(0.5 + 0.3*j + 0.2*i)*ms"
    trace = sim.StateMonitor(P, "x", record=True)
    sim.Network(P, Q, S, trace).run(15 * ms)
    return {"x": trace.x_[:], "i": np.asarray(S.i[:]), "j": np.asarray(S.j[:])}


def monitors_on_subgroups(sim):
    """Spike, event, state and rate monitors on subgroups: relative indices, recorded variables
    (a subexpression using the parent's `i`), and only the range's events."""
    ms, mV = sim.ms, sim.mV
    G = sim.NeuronGroup(8, """dv/dt = (drive - v)/(5*ms) : volt
                              drive = 12*mV + i*1*mV : volt""",
                        threshold="v > 10*mV", reset="v = 0*mV", method="exact",
                        events={"half": "v > 5*mV"})
    middle = G[2:6]
    spikes = sim.SpikeMonitor(middle, variables="v")
    # when= given: Brian's default puts a subgroup's event monitor before its custom events'
    # detection (docs/neurons.md, differences).
    halves = sim.EventMonitor(G[5:], "half", when="resets")
    trace = sim.StateMonitor(middle, ["v", "drive"], record=True)
    picked = sim.StateMonitor(G[3:][1:4], "drive", record=[0, 2])
    rate = sim.PopulationRateMonitor(G[6:])
    sim.Network(G, spikes, halves, trace, picked, rate).run(12 * ms)
    return {"i": spikes.i[:], "t": spikes.t_[:], "spike_v": spikes.v_[:],
            "count": np.asarray(spikes.count[:]), "half_i": halves.i[:],
            "half_t": halves.t_[:], "v": trace.v_[:], "drive": trace.drive_[:],
            "picked": picked.drive_[:], "rate": rate.rate_[:]}


def variable_access(sim):
    """Reading and writing variables through subgroups: values, slices, conditions and string
    code where `i` and `N` are the subgroup's, but a parent subexpression's are the parent's."""
    G = sim.NeuronGroup(12, """v : 1
                               u : 1
                               c : 1 (shared)
                               drive = 100 + i + N : 1""")
    sub = G[4:10]
    sub.v = "i*0.5 + N"
    G[:3].u = 7
    sub.u[1:3] = 2
    sub.u["i >= 4"] = "drive + i"
    inner = sub[2:]
    inner.v["v > 6"] = -1
    sub.c = 3
    return {"v": np.asarray(G.v[:]), "u": np.asarray(G.u[:]), "sub_v": np.asarray(sub.v[:]),
            "inner_u": np.asarray(inner.u[:]), "drive": np.asarray(sub.drive[:]),
            "i": np.asarray(inner.i[:]), "N": np.asarray(inner.N), "c": np.ravel(G.c[:])}


def connect_on_subgroups(sim):
    """Connect forms between subgroups of one group: conditions on i, j and x_pre/x_post,
    generators and explicit arrays, with subgroup-relative indices; N_incoming/N_outgoing count
    within the synapses."""
    G = sim.NeuronGroup(20, "x : 1")
    G.x = "i*1.5"
    S = sim.Synapses(G[3:11], G[8:16], "w : 1")
    S.connect(condition="x_pre + j > x_post - 4 and i != j")
    S.connect(j="k for k in range(i - 1, i + 2) if k >= 0 and k < N_post")
    S.connect(i=[0, 7], j=[7, 0])
    S.w = "x_pre - x_post + N_incoming + 0.1*N_outgoing"
    return {"i": np.asarray(S.i[:]), "j": np.asarray(S.j[:]), "w": np.asarray(S.w[:]),
            "N_incoming": np.asarray(S.N_incoming[:]), "N_outgoing": np.asarray(S.N_outgoing[:])}
