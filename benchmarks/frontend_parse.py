"""How long the frontend takes on a 200-line model: parsing, `Equations(...)`, `check_units`.

Not a test: run `python3 benchmarks/frontend_parse.py` and read the numbers. The model is 20
Hodgkin-Huxley-style compartments (one membrane equation, three gates with their rate
subexpressions, parameters), 10 lines each. The first run is reported apart: it builds the Lark
parsers and fills the unit registry's caches, which later runs reuse.
"""

from __future__ import annotations

import statistics
import time

COMPARTMENT = """\
dv{k}/dt = (gl*(El - v{k}) - gna{k}*m{k}**3*h{k}*(v{k} - ENa) - gk*n{k}**4*(v{k} - EK) + I{k})/Cm : volt
dm{k}/dt = alpha_m{k}*(1 - m{k}) - beta_m{k}*m{k} : 1
dh{k}/dt = alpha_h{k}*(1 - h{k}) - beta_h{k}*h{k} : 1
dn{k}/dt = 0.032*(mV**-1)*5*mV/exprel((15*mV - v{k} + VT)/(5*mV))/ms*(1 - n{k}) - .5*exp((10*mV - v{k} + VT)/(40*mV))/ms*n{k} : 1
alpha_m{k} = 0.32*(mV**-1)*4*mV/exprel((13*mV - v{k} + VT)/(4*mV))/ms : Hz
beta_m{k} = 0.28*(mV**-1)*5*mV/exprel((v{k} - VT - 40*mV)/(5*mV))/ms : Hz
alpha_h{k} = 0.128*exp((17*mV - v{k} + VT)/(18*mV))/ms : Hz
beta_h{k} = 4./(1 + exp((40*mV - v{k} + VT)/(5*mV)))/ms : Hz
I{k} = I0*sin(2*pi*f*t) + sigma*sqrt(Cm/gl)*xi_{k}*gl*mV : amp  # noisy drive
gna{k} : siemens (constant)
"""

COMPARTMENTS = 20


def model_text() -> str:
    return "".join(COMPARTMENT.format(k=k) for k in range(COMPARTMENTS))


def namespace() -> dict:
    from spikec.units import mV, ms, nS, nA, pF, Hz
    return {"gl": 5 * nS, "El": -60 * mV, "ENa": 50 * mV, "EK": -90 * mV, "gk": 30 * nS,
            "Cm": 200 * pF, "VT": -63 * mV, "I0": 0.1 * nA, "f": 10 * Hz, "sigma": 0.5}


def one_run(text: str, names: dict) -> tuple[float, float, float]:
    """Seconds for parsing alone, for `Equations(...)` (parsing included), for `check_units`."""
    from spikec.frontend.equation_parser import parse_equations_text
    from spikec.frontend.equations import Equations

    start = time.perf_counter()
    parse_equations_text(text)
    parsed = time.perf_counter()
    eqs = Equations(text)
    built = time.perf_counter()
    eqs.check_units(namespace=names)
    checked = time.perf_counter()
    return parsed - start, built - parsed, checked - built


def main(runs: int = 15) -> None:
    start = time.perf_counter()
    import spikec.frontend.equations  # noqa: F401 -- import cost reported apart
    imported = time.perf_counter() - start
    text = model_text()
    names = namespace()
    print(f"model: {len(text.splitlines())} lines, {len(text)} characters; import {imported*1e3:.0f} ms")
    cold = one_run(text, names)
    warm = [one_run(text, names) for _ in range(runs)]
    labels = ("parse", "Equations(...)", "check_units")
    print(f"{'':16}{'cold (1st run)':>16}{f'median of {runs}':>16}{'min':>10}")
    for i, label in enumerate(labels):
        samples = [w[i] for w in warm]
        print(f"{label:16}{cold[i]*1e3:>13.1f} ms{statistics.median(samples)*1e3:>13.1f} ms"
              f"{min(samples)*1e3:>7.1f} ms")
    total = [w[1] + w[2] for w in warm]
    print(f"{'Equations+check':16}{(cold[1] + cold[2])*1e3:>13.1f} ms"
          f"{statistics.median(total)*1e3:>13.1f} ms{min(total)*1e3:>7.1f} ms")


if __name__ == "__main__":
    main()
