"""Kernels over `positions(...)` and `history(...)` (spike-history propagation): the CPU
executable against the interpreter over many steps of random spikes and delays, the CPU's visit
order (Brian's: longer delays first, then spike order, then synapse number), and the space's
reference order on a hand-made history."""

from __future__ import annotations

import numpy as np
import pytest

from spikec.backends.abi import ModulePlan
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.ir.attributes import SymbolRef
from spikec.ir.history_spaces import History
from spikec.ir.interpreter import Interpreter
from tests.backends.samples import parsed

ROWS = 4  # R: delays of 0..3 steps


def history_module(n_pre: int, n_post: int, n_syn: int, p: float) -> str:
    """Sources spike with probability p; their lists are recorded into the history; the history
    kernel adds w into its target (float and integer atomics), counts its own visits, stamps the
    step it last ran at, and takes a rank from a counter (the visit order, on the CPU)."""
    width = n_pre + 1
    return f"""
kernel.array @G._spikespace {{length = {width}}} : i32
kernel.array @S._post {{length = {n_syn}}} : i32
kernel.array @S._history {{length = {ROWS * width}}} : i32
kernel.array @S._bundle_offsets {{length = {n_pre * ROWS + 1}}} : i32
kernel.array @S._bundle_synapses {{length = {n_syn}}} : i32
kernel.array @S.w {{length = {n_syn}}} : f64
kernel.array @S.visits {{length = {n_syn}}} : i32
kernel.array @S.last_step {{length = {n_syn}}} : i64
kernel.array @S.rank {{length = {n_syn}}} : i64
kernel.array @S.counter {{length = 1}} : i64
kernel.array @H.x {{length = {n_post}}} : f64
kernel.array @H.n {{length = {n_post}}} : i64
kernel.clock @defaultclock {{dt = 0.0001}}
kernel.kernel @G.fire {{space = elements({n_pre})}} invariants() {{
  %p = kernel.arg "p" : f64
}} body(%i: i64) {{
  %u = kernel.rand_uniform %i {{stream = 7, draw = 0}} : f64
  %c = kernel.cmp lt, %u, %p : f64
  kernel.emit_spike @G._spikespace, %i if %c
}}
kernel.kernel @S.record_count {{space = elements(1)}} invariants() {{
}} body(%i: i64) {{
  %step = kernel.step : i64
  %rows = kernel.constant {ROWS} : i64
  %row = kernel.mod %step, %rows : i64
  %width = kernel.constant {width} : i64
  %start = kernel.mul %row, %width : i64
  %last = kernel.constant {n_pre} : i64
  %count = kernel.load @G._spikespace[%last] : i32
  %slot = kernel.add %start, %last : i64
  kernel.store @S._history[%slot], %count : i32
}}
kernel.kernel @S.record {{space = positions(@G._spikespace)}} invariants() {{
}} body(%p: i64) {{
  %step = kernel.step : i64
  %rows = kernel.constant {ROWS} : i64
  %row = kernel.mod %step, %rows : i64
  %width = kernel.constant {width} : i64
  %start = kernel.mul %row, %width : i64
  %neuron = kernel.load @G._spikespace[%p] : i32
  %slot = kernel.add %start, %p : i64
  kernel.store @S._history[%slot], %neuron : i32
}}
kernel.kernel @S.deliver {{space = history(@S._history, @S._bundle_offsets, @S._bundle_synapses, {ROWS})}} invariants() {{
}} body(%s: i64) {{
  %post = kernel.load @S._post[%s] : i32
  %w = kernel.load @S.w[%s] : f64
  kernel.atomic_add @H.x[%post], %w : f64
  %one = kernel.constant 1 : i64
  kernel.atomic_add @H.n[%post], %one : i64
  %k = kernel.load @S.visits[%s] : i32
  %one32 = kernel.constant 1 : i32
  %k2 = kernel.add %k, %one32 : i32
  kernel.store @S.visits[%s], %k2 : i32
  %step = kernel.step : i64
  kernel.store @S.last_step[%s], %step : i64
  %zero = kernel.constant 0 : i64
  %c = kernel.load @S.counter[%zero] : i64
  kernel.store @S.rank[%s], %c : i64
  %c2 = kernel.add %c, %one : i64
  kernel.store @S.counter[%zero], %c2 : i64
}}
kernel.schedule step() {{
  kernel.clear_spikes @G._spikespace {{clock = @defaultclock}}
  kernel.launch @G.fire {{clock = @defaultclock, args = {{p = {p}}}}}
  kernel.launch @S.record_count {{clock = @defaultclock}}
  kernel.launch @S.record {{clock = @defaultclock}}
  kernel.launch @S.deliver {{clock = @defaultclock}}
}}
"""


def history_arrays(n_pre: int, n_post: int, n_syn: int, seed: int) -> dict[str, np.ndarray]:
    """Random synapses and delays; bundles by (source, delay), by number (as the runtime's
    `history_bundles`)."""
    rng = np.random.default_rng(seed)
    pre = rng.integers(0, n_pre, n_syn)
    delay = rng.integers(0, ROWS, n_syn)
    bundle = pre * ROWS + delay
    offsets = np.zeros(n_pre * ROWS + 1, np.int32)
    np.cumsum(np.bincount(bundle, minlength=n_pre * ROWS), out=offsets[1:])
    return {"S._post": rng.integers(0, n_post, n_syn).astype(np.int32),
            "S._bundle_offsets": offsets,
            "S._bundle_synapses": np.argsort(bundle, kind="stable").astype(np.int32),
            "S.w": rng.uniform(-1.0, 2.0, n_syn)}


@pytest.mark.parametrize("n_pre, n_post, n_syn, p", [(5, 4, 30, 0.4), (40, 30, 600, 0.2),
                                                     (3, 2, 0, 0.5), (20, 10, 200, 0.0)])
def test_history_on_the_cpu_matches_the_interpreter_in_brians_order(n_pre, n_post, n_syn, p):
    module = parsed(history_module(n_pre, n_post, n_syn, p))
    arrays = history_arrays(n_pre, n_post, n_syn, seed=n_syn + 1)
    interpreter = Interpreter(module, {**ModulePlan(module).check_arrays(arrays)}, seed=3)
    executable = CpuExecutable(module, arrays, seed=3, cache=CompileCache(None))
    space = module.lookup("S.deliver").space
    visited = 0
    for step in range(12):
        counter = int(executable.read("S.counter")[0])
        interpreter.run(1)
        executable.run(1)
        due = space.indices(interpreter.arrays, step)
        visited += len(due)
        np.testing.assert_array_equal(executable.read("S.rank")[due],
                                      counter + np.arange(len(due)), err_msg=f"step {step}")
        for name in ("S._history", "S.visits", "S.last_step", "H.n"):
            np.testing.assert_array_equal(executable.read(name), interpreter.arrays[name],
                                          err_msg=f"{name} at step {step}")
        np.testing.assert_allclose(executable.read("H.x"), interpreter.arrays["H.x"],
                                   rtol=1e-12, atol=1e-12)
    assert visited == int(executable.read("S.visits").sum())
    assert p == 0.0 or n_syn == 0 or visited > 0


def test_history_indices_are_in_brians_delivery_order():
    """Two sources, R = 3: source 1 spiked at step 0 and source 0 at step 1; at step 2 the events
    sent at step 0 with delay 2 come first, then those sent at step 1 with delay 1, each bundle by
    synapse number; rows of steps before 0 are not read."""
    space = History(SymbolRef("h"), SymbolRef("o"), SymbolRef("s"), 3)
    # synapse: (source, delay): 0:(0,1) 1:(1,2) 2:(0,1) 3:(1,0) 4:(1,2) 5:(0,2)
    bundle = np.array([0 * 3 + 1, 1 * 3 + 2, 0 * 3 + 1, 1 * 3 + 0, 1 * 3 + 2, 0 * 3 + 2])
    offsets = np.zeros(7, np.int32)
    np.cumsum(np.bincount(bundle, minlength=6), out=offsets[1:])
    history = np.zeros(9, np.int32)          # rows of N + 1 = 3 entries
    history[0:3] = [1, 0, 1]                 # step 0: [1]
    history[3:6] = [0, 0, 1]                 # step 1: [0]
    history[6:9] = [0, 1, 2]                 # step 2: [0, 1]
    arrays = {"h": history, "o": offsets, "s": np.argsort(bundle, kind="stable").astype(np.int32)}
    # step 2: d=2 from step 0 (source 1: 1, 4), d=1 from step 1 (source 0: 0, 2), d=0 from
    # step 2 (source 0: none; source 1: 3)
    assert list(space.indices(arrays, 2)) == [1, 4, 0, 2, 3]
    # step 0: only d = 0 (row 0, source 1: synapse 3); rows 1 and 2 would be steps -2, -1
    assert list(space.indices(arrays, 0)) == [3]
