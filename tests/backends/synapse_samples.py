"""Synaptic propagation modules for the backend tests: random CSR connectivity, random spikes, a
push kernel over `outgoing(...)` (atomic adds) and a pull kernel over `segments(...)` (a
non-commutative update in synapse order), as `lower-to-kernels` builds them (after
tests/ir/test_synapse_spaces.py)."""

from __future__ import annotations

import numpy as np


def synapse_module(n_pre: int, n_post: int, n_syn: int, p: float = 0.3) -> str:
    """Each step: source i spikes with probability p (uniform draws: exact everywhere) and stamps
    the step; push: every synapse of a spiking source adds w to x (float atomics), 1 to n (integer
    atomics) of its target and counts its own pushes; pull: every target walks its incoming
    synapses in order, y = y * 0.5 + w where the source spiked this step, and each such synapse
    records the y it produced and counts its pulls. Offsets/items of the pre side are i32, of the
    post side i64 (both index types)."""
    return f"""
kernel.array @G._spikespace {{length = {n_pre + 1}}} : i32
kernel.array @G.stamp {{length = {n_pre}}} : i64
kernel.array @S._pre {{length = {n_syn}}} : i32
kernel.array @S._post {{length = {n_syn}}} : i32
kernel.array @S._pre_offsets {{length = {n_pre + 1}}} : i32
kernel.array @S._pre_synapses {{length = {n_syn}}} : i32
kernel.array @S._post_offsets {{length = {n_post + 1}}} : i64
kernel.array @S._post_synapses {{length = {n_syn}}} : i64
kernel.array @S.w {{length = {n_syn}}} : f64
kernel.array @S.pushes {{length = {n_syn}}} : i32
kernel.array @S.pulls {{length = {n_syn}}} : i32
kernel.array @S.seen {{length = {n_syn}}} : f64
kernel.array @S.u {{length = {n_syn}}} : f64
kernel.array @H.x {{length = {n_post}}} : f64
kernel.array @H.n {{length = {n_post}}} : i64
kernel.array @H.y {{length = {n_post}}} : f64
kernel.clock @defaultclock {{dt = 0.0001}}
kernel.kernel @G.fire {{space = elements({n_pre})}} invariants() {{
  %p = kernel.arg "p" : f64
}} body(%i: i64) {{
  %u = kernel.rand_uniform %i {{stream = 7, draw = 0}} : f64
  %c = kernel.cmp lt, %u, %p : f64
  %step = kernel.step : i64
  %one = kernel.constant 1 : i64
  %stamp = kernel.add %step, %one : i64
  kernel.store @G.stamp[%i], %stamp if %c : i64
  kernel.emit_spike @G._spikespace, %i if %c
}}
kernel.kernel @S.push {{space = outgoing(@G._spikespace, @S._pre_offsets, @S._pre_synapses)}} invariants() {{
}} body(%s: i64) {{
  %post = kernel.load @S._post[%s] : i32
  %w = kernel.load @S.w[%s] : f64
  kernel.atomic_add @H.x[%post], %w : f64
  %one = kernel.constant 1 : i64
  kernel.atomic_add @H.n[%post], %one : i64
  %k = kernel.load @S.pushes[%s] : i32
  %one32 = kernel.constant 1 : i32
  %k2 = kernel.add %k, %one32 : i32
  kernel.store @S.pushes[%s], %k2 : i32
  %u = kernel.rand_uniform %s {{stream = 8, draw = 0}} : f64
  kernel.store @S.u[%s], %u : f64
}}
kernel.kernel @S.pull {{space = segments(@S._post_offsets, @S._post_synapses, {n_post})}} invariants() {{
}} body(%s: i32) {{
  %pre = kernel.load @S._pre[%s] : i32
  %post = kernel.load @S._post[%s] : i32
  %stamp = kernel.load @G.stamp[%pre] : i64
  %step = kernel.step : i64
  %one = kernel.constant 1 : i64
  %now = kernel.add %step, %one : i64
  %active = kernel.cmp eq, %stamp, %now : i64
  %w = kernel.load @S.w[%s] : f64
  %y = kernel.load @H.y[%post] : f64
  %half = kernel.constant 0.5 : f64
  %scaled = kernel.mul %y, %half : f64
  %next = kernel.add %scaled, %w : f64
  kernel.store @H.y[%post], %next if %active : f64
  kernel.store @S.seen[%s], %next if %active : f64
  %k = kernel.load @S.pulls[%s] : i32
  %one32 = kernel.constant 1 : i32
  %k2 = kernel.add %k, %one32 : i32
  kernel.store @S.pulls[%s], %k2 if %active : i32
}}
kernel.schedule step() {{
  kernel.clear_spikes @G._spikespace {{clock = @defaultclock}}
  kernel.launch @G.fire {{clock = @defaultclock, args = {{p = {p}}}}}
  kernel.launch @S.push {{clock = @defaultclock}}
  kernel.launch @S.pull {{clock = @defaultclock}}
}}
"""


def csr(rows: np.ndarray, n_rows: int, offsets_dtype, items_dtype) -> tuple[np.ndarray, np.ndarray]:
    """(offsets, items): the synapses of each row in synapse order."""
    counts = np.bincount(rows, minlength=n_rows)
    offsets = np.zeros(n_rows + 1, dtype=offsets_dtype)
    np.cumsum(counts, out=offsets[1:])
    return offsets, np.argsort(rows, kind="stable").astype(items_dtype)


def synapse_arrays(n_pre: int, n_post: int, n_syn: int, seed: int, empty_every: int = 7) -> dict:
    """Random connectivity where every `empty_every`-th target has no synapse (empty segments) and
    out-degrees vary (sources drawn from a skewed distribution)."""
    rng = np.random.default_rng(seed)
    targets = np.array([t for t in range(n_post) if empty_every == 0 or t % empty_every != 3] or [0])
    pre = np.minimum((rng.random(n_syn) ** 2 * n_pre).astype(np.int64), n_pre - 1)
    post = rng.choice(targets, n_syn)
    pre_offsets, pre_synapses = csr(pre, n_pre, np.int32, np.int32)
    post_offsets, post_synapses = csr(post, n_post, np.int64, np.int64)
    return {"S._pre": pre.astype(np.int32), "S._post": post.astype(np.int32),
            "S._pre_offsets": pre_offsets, "S._pre_synapses": pre_synapses,
            "S._post_offsets": post_offsets, "S._post_synapses": post_synapses,
            "S.w": rng.uniform(-1.0, 2.0, n_syn), "H.y": rng.uniform(0.0, 1.0, n_post)}


# Arrays whose values come from float atomic adds: summed in an order the GPU (and CPU threads)
# do not fix, so they agree with the sequential sum within rounding only.
FLOAT_ATOMIC_ARRAYS = {"H.x"}


def with_slow_push(text: str) -> str:
    """The push on a second clock of 3 steps' dt: launches of clocks not due must do nothing."""
    text = text.replace("kernel.clock @defaultclock {dt = 0.0001}",
                        "kernel.clock @defaultclock {dt = 0.0001}\nkernel.clock @slow {dt = 0.0003}")
    return text.replace("kernel.launch @S.push {clock = @defaultclock}", "kernel.launch @S.push {clock = @slow}")


def with_source_store(text: str) -> str:
    """The push also stores each synapse's w at its source (``G.last[pre] = w``): the row's last
    synapse wins, so the order inside a row matters and the row must be walked in order."""
    text = text.replace("kernel.clock @defaultclock",
                        f"kernel.array @G.last {{length = {_length(text, '@G.stamp')}}} : f64\n"
                        "kernel.clock @defaultclock", 1)
    return text.replace("  kernel.atomic_add @H.x[%post], %w : f64\n",
                        "  kernel.atomic_add @H.x[%post], %w : f64\n"
                        "  %pre = kernel.load @S._pre[%s] : i32\n"
                        "  kernel.store @G.last[%pre], %w : f64\n", 1)


def _length(text: str, array: str) -> int:
    line = next(line for line in text.splitlines() if line.startswith(f"kernel.array {array} "))
    return int(line.split("length = ")[1].split("}")[0])
