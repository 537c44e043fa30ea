"""Neuron models used by the runtime tests, each written once against a simulator module
(`brian2` or `spikec`), as a user's script would be with only the import changed. Each returns what
its monitors recorded, as plain arrays."""

def lif(sim, method="exact"):
    ms, mV = sim.ms, sim.mV
    tau, El, vt, vr = 10 * ms, -70 * mV, -50 * mV, -75 * mV
    G = sim.NeuronGroup(6, """dv/dt = (El - v + I)/tau : volt (unless refractory)
                              I : volt (constant)""",
                        threshold="v > vt", reset="v = vr", refractory=2 * ms, method=method,
                        namespace={"tau": tau, "El": El, "vt": vt, "vr": vr})
    G.v = El
    G.I = "i*6*mV + 15*mV"
    spikes, trace = sim.SpikeMonitor(G), sim.StateMonitor(G, "v", record=[0, 5])
    sim.Network(G, spikes, trace).run(30 * ms)
    return {"i": spikes.i[:], "t": spikes.t_[:], "v": trace.v_[:], "trace_t": trace.t_[:]}


def hodgkin_huxley(sim):
    """COBAHH's neuron (Traub-Miles), uncoupled, with exponential_euler."""
    ms, mV, um, cm = sim.ms, sim.mV, sim.umetre, sim.cmetre
    area = 20000 * um**2
    namespace = {"Cm": 1 * sim.ufarad * cm**-2 * area, "gl": 5e-5 * sim.siemens * cm**-2 * area,
                 "El": -65 * mV, "EK": -90 * mV, "ENa": 50 * mV,
                 "g_na": 100 * sim.msiemens * cm**-2 * area,
                 "g_kd": 30 * sim.msiemens * cm**-2 * area, "VT": -63 * mV}
    eqs = """
    dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
    dm/dt = 0.32*(mV**-1)*4*mV/exprel((13.*mV-v+VT)/(4*mV))/ms*(1-m)-0.28*(mV**-1)*5*mV/exprel((v-VT-40.*mV)/(5*mV))/ms*m : 1
    dn/dt = 0.032*(mV**-1)*5*mV/exprel((15.*mV-v+VT)/(5*mV))/ms*(1.-n)-.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n : 1
    dh/dt = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h : 1
    I : amp (constant)
    """
    G = sim.NeuronGroup(4, eqs, threshold="v > -20*mV", refractory=3 * ms,
                        method="exponential_euler", namespace=namespace)
    G.v = "El + (randn()*0 + i)*2*mV"
    G.I = "i*0.3*nA"
    spikes, trace = sim.SpikeMonitor(G), sim.StateMonitor(G, ["v", "m"], record=True)
    sim.Network(G, spikes, trace).run(20 * ms)
    return {"i": spikes.i[:], "t": spikes.t_[:], "v": trace.v_[:], "m": trace.m_[:]}


def izhikevich(sim):
    ms, mV = sim.ms, sim.mV
    eqs = """dv/dt = (0.04/ms/mV)*v**2 + (5/ms)*v + 140*mV/ms - u + I : volt
             du/dt = a*(b*v - u) : volt/second
             I : volt/second (constant)
             a : Hz (constant)
             b : Hz (constant)"""
    G = sim.NeuronGroup(3, eqs, threshold="v >= 30*mV", reset="v = -65*mV; u += 8*mV/ms",
                        method="euler")
    G.v, G.u = -65 * mV, -13 * mV / ms
    G.a, G.b = 0.02 / ms, 0.2 / ms
    G.I = "(5 + 5*i)*mV/ms"
    spikes, trace = sim.SpikeMonitor(G), sim.StateMonitor(G, "u", record=True)
    sim.Network(G, spikes, trace).run(50 * ms)
    return {"i": spikes.i[:], "t": spikes.t_[:], "u": trace.u_[:]}


def adex(sim):
    ms, mV, nS, pF, nA = sim.ms, sim.mV, sim.nS, sim.pF, sim.nA
    namespace = {"C": 281 * pF, "gL": 30 * nS, "EL": -70.6 * mV, "VT": -50.4 * mV,
                 "DeltaT": 2 * mV, "tauw": 144 * ms, "a": 4 * nS, "b": 0.0805 * nA,
                 "Vr": -70.6 * mV}
    eqs = """dvm/dt = (gL*(EL - vm) + gL*DeltaT*exp((vm - VT)/DeltaT) + I - w)/C : volt
             dw/dt = (a*(vm - EL) - w)/tauw : amp
             I : amp (constant)"""
    G = sim.NeuronGroup(2, eqs, threshold="vm > VT + 5*DeltaT", reset="vm = Vr; w += b",
                        method="rk4", namespace=namespace)
    G.vm = -70.6 * mV
    G.I = "(1 + i)*nA"
    spikes, trace = sim.SpikeMonitor(G), sim.StateMonitor(G, ["vm", "w"], record=True)
    sim.Network(G, spikes, trace).run(40 * ms)
    return {"i": spikes.i[:], "t": spikes.t_[:], "vm": trace.vm_[:], "w": trace.w_[:]}


def events_and_regular_code(sim):
    """Custom events with run_on_event, run_regularly on its own clock, a refractory condition,
    a shared variable, a subexpression, and a population rate monitor."""
    ms, mV = sim.ms, sim.mV
    eqs = """dv/dt = (drive - v)/(5*ms) : volt (unless refractory)
             drive = base + i*3*mV : volt
             base : volt (shared)
             crossings : integer
             kicks : 1"""
    G = sim.NeuronGroup(5, eqs, threshold="v > 10*mV", reset="v = 0*mV",
                        refractory="v > 8*mV", events={"half": "v > 5*mV and crossings < 3"},
                        method="exact")
    G.run_on_event("half", "crossings += 1")
    G.run_regularly("kicks += 0.5", dt=1 * ms)
    G.base = 9 * mV
    spikes = sim.SpikeMonitor(G)
    halves = sim.EventMonitor(G, "half")
    rate = sim.PopulationRateMonitor(G)
    trace = sim.StateMonitor(G, ["v", "drive"], record=[1, 4], dt=0.5 * ms)
    sim.Network(G, spikes, halves, rate, trace).run(25 * ms)
    return {"i": spikes.i[:], "t": spikes.t_[:], "half_i": halves.i[:], "half_t": halves.t_[:],
            "rate": rate.rate_[:], "v": trace.v_[:], "drive": trace.drive_[:],
            "crossings": G.crossings[:], "kicks": G.kicks[:]}


def assert_same_records(found: dict, expected: dict, rtol: float, atol: float = 0.0) -> None:
    """Integer records (indices, counts) equal exactly; float records within tolerance."""
    import numpy as np

    assert found.keys() == expected.keys()
    for key in expected:
        want, got = np.asarray(expected[key]), np.asarray(found[key])
        assert got.shape == want.shape, key
        if want.dtype.kind in "iub":
            np.testing.assert_array_equal(got, want, err_msg=key)
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=key)
