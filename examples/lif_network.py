"""Leaky integrate-and-fire neurons driven by a constant input: a Brian 2 script, with only the
import line changed. Runs on the CPU by default; `spikec run examples/lif_network.py --device cuda`
runs it on an NVIDIA GPU."""

from spikec import *

tau = 10*ms
El, vt, vr = -70*mV, -50*mV, -75*mV
G = NeuronGroup(100, '''dv/dt = (El - v + I)/tau : volt (unless refractory)
                        I : volt (constant)''',
                threshold='v > vt', reset='v = vr', refractory=2*ms, method='exact')
G.v = 'El + rand()*(vt - El)'
G.I = '15*mV + 10*mV*i/N'
spikes = SpikeMonitor(G)
trace = StateMonitor(G, 'v', record=[0, 99])
run(100*ms, report='text')

print(f"{spikes.num_spikes} spikes from {len(G)} neurons in 100 ms")
print(f"mean rate: {spikes.num_spikes / len(G) / 0.1:.1f} Hz; "
      f"neuron 99 fired {spikes.count[99]} times, neuron 0 {spikes.count[0]} times")
print(f"v of neuron 0 at the end: {trace.v[0, -1]}")
