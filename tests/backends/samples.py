"""Hand-written kernel-IR modules the backend tests share."""

from __future__ import annotations

from spikec.ir.parser import parse_module
from spikec.ir.verify import verify_module

# A noisy leaky neuron group with threshold, reset and a spike list: the typical kernel.
def noisy_lif(n: int) -> str:
    return f"""
kernel.array @G.v {{length = {n}}} : f64
kernel.array @G._spikespace {{length = {n + 1}}} : i32
kernel.clock @defaultclock {{dt = 0.0001}}
kernel.kernel @G.update {{space = elements({n})}} invariants() {{
  %dt = kernel.arg "dt" : f64
  %tau = kernel.arg "tau" : f64
  %decay = kernel.div %dt, %tau : f64
}} body(%i: i64) {{
  %v = kernel.load @G.v[%i] : f64
  %r = kernel.rand_normal %i {{stream = 1, draw = 0}} : f64
  %dv = kernel.mul %v, %decay : f64
  %v_next = kernel.sub %v, %dv : f64
  %v2 = kernel.add %v_next, %r : f64
  %th = kernel.constant 1.0 : f64
  %c = kernel.cmp gt, %v2, %th : f64
  %z = kernel.constant 0.0 : f64
  %v3 = kernel.select %c, %z, %v2 : f64
  kernel.store @G.v[%i], %v3 : f64
  kernel.emit_spike @G._spikespace, %i if %c
}}
kernel.schedule step() {{
  kernel.clear_spikes @G._spikespace {{clock = @defaultclock}}
  kernel.launch @G.update {{clock = @defaultclock, args = {{dt = 0.0001, tau = 0.01}}}}
}}
"""


NOISY_LIF = noisy_lif(100)


def parsed(text: str):
    module = parse_module(text)
    verify_module(module)
    return module


def uniform_recorder(n: int, length: int | None = None) -> str:
    """Stores a uniform (stream 2, draw 1) and a normal (stream 3, draw 0) per element and step."""
    return f"""
kernel.array @R.u {{length = {length or n}}} : f64
kernel.array @R.z {{length = {length or n}}} : f64
kernel.clock @defaultclock {{dt = 0.001}}
kernel.kernel @R.draw {{space = elements({n})}} invariants() {{
}} body(%i: i64) {{
  %u = kernel.rand_uniform %i {{stream = 2, draw = 1}} : f64
  %z = kernel.rand_normal %i {{stream = 3, draw = 0}} : f64
  kernel.store @R.u[%i], %u : f64
  kernel.store @R.z[%i], %z : f64
}}
kernel.schedule step() {{
  kernel.launch @R.draw {{clock = @defaultclock}}
}}
"""


# Two clocks (dt 1 ms and 2.5 ms), a spikes(...) space kernel reading a list another kernel fills,
# integer atomics, a clear in the middle of the schedule, and a shared counter.
TWO_CLOCKS = """
kernel.array @G.v {length = 64} : f64
kernel.array @G.hits {length = 64} : i64
kernel.array @G.count {length = 1} : i32
kernel.array @G._spikespace {length = 65} : i64
kernel.clock @fast {dt = 0.001}
kernel.clock @slow {dt = 0.0025}
kernel.kernel @G.update {space = elements(64)} invariants() {
  %k = kernel.arg "k" : f64
} body(%i: i64) {
  %v = kernel.load @G.v[%i] : f64
  %u = kernel.rand_uniform %i {stream = 0, draw = 0} : f64
  %v2 = kernel.add %v, %u : f64
  %t = kernel.constant 1.5 : f64
  %c = kernel.cmp gt, %v2, %t : f64
  %z = kernel.constant 0.0 : f64
  %v3 = kernel.select %c, %z, %v2 : f64
  kernel.store @G.v[%i], %v3 : f64
  kernel.emit_spike @G._spikespace, %i if %c
}
kernel.kernel @G.count_spikes {space = spikes(@G._spikespace)} invariants() {
} body(%i: i64) {
  %one = kernel.constant 1 : i64
  kernel.atomic_add @G.hits[%i], %one : i64
  %zero = kernel.constant 0 : i32
  %one32 = kernel.constant 1 : i32
  kernel.atomic_add @G.count[%zero], %one32 : i32
}
kernel.schedule step() {
  kernel.clear_spikes @G._spikespace {clock = @fast}
  kernel.launch @G.update {clock = @fast, args = {k = 2.0}}
  kernel.launch @G.count_spikes {clock = @slow}
  kernel.clear_spikes @G._spikespace {clock = @slow}
}
"""

# An index read from an array, so a bad value there is a run-time error.
GATHER = """
kernel.array @G.x {length = 8} : f64
kernel.array @G.j {length = 8} : i32
kernel.clock @defaultclock {dt = 0.001}
kernel.kernel @G.gather {space = elements(8)} invariants() {
} body(%i: i32) {
  %j = kernel.load @G.j[%i] : i32
  %x = kernel.load @G.x[%j] : f64
  kernel.store @G.x[%i], %x : f64
}
kernel.schedule step() {
  kernel.launch @G.gather {clock = @defaultclock}
}
"""


def own_elements(n: int, m: int, b_first: bool = False) -> str:
    """State carried from tick to tick where each kernel touches only its own element: A.update
    (n elements) and B.update (m, on a slower clock) in one phase, A.mirror (reading A.v) in the
    next. With `b_first` A.update starts at B's last chunk in its phase and A.mirror at chunk 0,
    so an element of A.v is on another thread in each phase."""
    first, second = ("B", "A") if b_first else ("A", "B")
    return f"""
kernel.array @A.v {{length = {n}}} : f64
kernel.array @A.w {{length = {n}}} : f64
kernel.array @B.v {{length = {m}}} : f64
kernel.clock @defaultclock {{dt = 0.001}}
kernel.clock @slow {{dt = 0.003}}
kernel.kernel @A.update {{space = elements({n})}} invariants() {{
}} body(%i: i64) {{
  %v = kernel.load @A.v[%i] : f64
  %u = kernel.rand_uniform %i {{stream = 4, draw = 0}} : f64
  %decay = kernel.constant 0.9 : f64
  %kept = kernel.mul %v, %decay : f64
  %next = kernel.add %kept, %u : f64
  kernel.store @A.v[%i], %next : f64
}}
kernel.kernel @B.update {{space = elements({m})}} invariants() {{
}} body(%i: i64) {{
  %v = kernel.load @B.v[%i] : f64
  %one = kernel.constant 1.0 : f64
  %next = kernel.add %v, %one : f64
  kernel.store @B.v[%i], %next : f64
}}
kernel.kernel @A.mirror {{space = elements({n})}} invariants() {{
}} body(%i: i64) {{
  %v = kernel.load @A.v[%i] : f64
  %w = kernel.load @A.w[%i] : f64
  %sum = kernel.add %w, %v : f64
  kernel.store @A.w[%i], %sum : f64
}}
kernel.schedule step() {{
  kernel.launch @{first}.update {{clock = @{'slow' if first == 'B' else 'defaultclock'}}}
  kernel.launch @{second}.update {{clock = @{'slow' if second == 'B' else 'defaultclock'}}}
  kernel.launch @A.mirror {{clock = @defaultclock}}
}}
"""


def random_spikes(n: int, p: float = 0.3) -> str:
    """Element i spikes with probability p (uniform draws, so exact on every target); a second
    kernel over the spiking neurons re-emits every other one into a second list (position order)."""
    return f"""
kernel.array @P._spikespace {{length = {n + 1}}} : i32
kernel.array @Q._spikespace {{length = {n + 1}}} : i64
kernel.array @P.count {{length = {n}}} : i32
kernel.clock @defaultclock {{dt = 0.0001}}
kernel.kernel @P.fire {{space = elements({n})}} invariants() {{
  %p = kernel.arg "p" : f64
}} body(%i: i64) {{
  %u = kernel.rand_uniform %i {{stream = 5, draw = 0}} : f64
  %c = kernel.cmp lt, %u, %p : f64
  kernel.emit_spike @P._spikespace, %i if %c
}}
kernel.kernel @Q.relay {{space = spikes(@P._spikespace)}} invariants() {{
}} body(%i: i32) {{
  %two = kernel.constant 2 : i32
  %r = kernel.mod %i, %two : i32
  %zero = kernel.constant 0 : i32
  %even = kernel.cmp eq, %r, %zero : i32
  %n = kernel.load @P.count[%i] : i32
  %one = kernel.constant 1 : i32
  %n2 = kernel.add %n, %one : i32
  kernel.store @P.count[%i], %n2 : i32
  kernel.emit_spike @Q._spikespace, %i if %even
}}
kernel.schedule step() {{
  kernel.clear_spikes @P._spikespace {{clock = @defaultclock}}
  kernel.launch @P.fire {{clock = @defaultclock, args = {{p = {p}}}}}
  kernel.clear_spikes @Q._spikespace {{clock = @defaultclock}}
  kernel.launch @Q.relay {{clock = @defaultclock}}
}}
"""
