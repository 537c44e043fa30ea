"""Parse and check a Hodgkin-Huxley model (Traub-Miles, as in Brian's COBAHH example) and print a
summary of its equations. What spikec can do so far: parse, resolve names, check units."""

from spikec import *

area = 20000 * umetre**2
Cm = 1 * ufarad * cm**-2 * area
gl = 5e-5 * siemens * cm**-2 * area
El = -60 * mV
EK = -90 * mV
ENa = 50 * mV
g_na = 100 * msiemens * cm**-2 * area
g_kd = 30 * msiemens * cm**-2 * area
VT = -63 * mV
taue, taui = 5 * ms, 10 * ms
Ee, Ei = 0 * mV, -80 * mV

eqs = Equations('''
dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v) -
         g_na*(m*m*m)*h*(v-ENa) -
         g_kd*(n*n*n*n)*(v-EK))/Cm : volt
dm/dt = alpha_m*(1-m)-beta_m*m : 1
dn/dt = alpha_n*(1-n)-beta_n*n : 1
dh/dt = alpha_h*(1-h)-beta_h*h : 1
dge/dt = -ge*(1./taue) : siemens
dgi/dt = -gi*(1./taui) : siemens
alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
''')
eqs.check_units()  # resolves Cm, gl, ... from this script's globals, checks every dimension

print(f"{len(eqs)} equations; external names: {', '.join(sorted(eqs.identifiers))}")
print(f"{'name':10} {'kind':22} {'dimension':22} flags")
for name, eq in eqs.items():
    print(f"{name:10} {eq.type:22} {str(eq.dim):22} {', '.join(eq.flags)}")
print("units check: ok")
