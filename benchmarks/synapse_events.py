"""Synaptic events per second for each propagation strategy, and whether the strategy that
`select-propagation` picks is the fastest measured one (or within 20% of it).

    python benchmarks/synapse_events.py --quick                 # this 2-core CPU, ~30 s
    python benchmarks/synapse_events.py --preset cpu --out cpu.json
    python benchmarks/synapse_events.py --device cuda --preset gpu --out gpu.json
    python benchmarks/synapse_events.py --device cuda --preset gpu-1e9 --out gpu_1e9.json
    python benchmarks/synapse_events.py --rows accumulate:homogeneous:10000:100:1,10 ...

A row is `effect:delays:N:K:rates[:option...]`: a PoissonGroup of N sources at each rate (Hz,
comma-separated) onto N targets (`dv/dt = -v/(10*ms)`), `connect(p=K/N)` (about K synapses per
source, M = N*K in all), with

* effect `accumulate`: `v_post += w` (order-independent: push-atomic, pull-ordered,
  dendritic-ring are candidates);
* effect `plastic`: `v_post += w; apre += 0.01; w = clip(w + 0.001*apre, 0, 0.1)` with an
  event-driven trace `apre` (writes synaptic variables when the event arrives);
* effect `ordered`: `v_post = 0.99*v_post + w` (order-dependent: only the ordered strategies);
* delays `homogeneous`: `delay=1*ms` for every synapse; `heterogeneous`: per synapse, uniform
  in [0, 4) ms.

`w` is uniform in [0, 0.01) and the heterogeneous delays are drawn with numpy's generator (seed
1) and assigned as arrays: the string form (`S.w = '0.01*rand()'`) runs in the host interpreter,
6.8 s for 10^7 synapses on the 2-core workspace, which would take minutes and ~10x the memory
at 10^9. Row options (the preset's defaults otherwise): `d=SECONDS` biological time per timed
run, `r=REPEATS`, `w=STEPS` of warm-up per rate (default: a fifth of a run), `skip=S1+S2`
strategies not to time at this row (reported "not timed" with the reason in `NOT_TIMED`).

Each row runs in its own process: connectivity is built once; then, the pass's choice first, for
every strategy in `spikec.passes.select_propagation.STRATEGIES` the Synapses' `propagation` is set
to it and the model is compiled. A strategy the pass refuses for the effect is "not applicable";
one it accepts but that cannot be built is "skipped" with the error. Strategies whose kernel IR
is identical to that of a strategy already timed in the row (push-atomic and dendritic-ring with a
homogeneous delay, pull-ordered and spike-queue with a homogeneous delay, push/pull/spike-queue
with per-synapse delays: the lowering maps them onto the same kernels) are reported as "same
kernels" with that strategy's figures, not timed twice (`--time-identical` times them anyway).
The others get a new Network, timed at each rate (the source's `rates` set between runs: a
warm-up, then the median of up to `r` runs; with `--repeat-budget-s`, no further run once the
runs of that rate took that long). Between strategies the network's device memory is released
(values back to host arrays) so that two copies of 10^9 synapses are never on the GPU at once.
The pass's own choice is read by running `select-propagation` on the model IR without the
override; its time is that of the forced run of the same strategy (the override only sets the
pathway's strategy attribute, so the kernels are the same).

The row's process prints its results after every strategy; a row stopped by `--row-timeout-s`
or `--stop-s`, or killed (e.g. out of memory), keeps the strategies it finished and reports the
others "not timed" with what stopped them.

Events = rate x duration x M (the expected number of (spike, synapse) pairs; the source's spike
count over a run is Poisson with mean N x rate x duration, so this is within a few percent for the
rows below). Events/s divides it by the whole run time, which also holds the neurons' state
update and threshold: a lower bound of the propagation's own rate.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1.20  # the pass's choice must run within 20% of the fastest strategy's time

EFFECTS = {
    "accumulate": ("w : 1", "v_post += w"),
    "plastic": ("w : 1\ndapre/dt = -apre/(20*ms) : 1 (event-driven)",
                "v_post += w\napre += 0.01\nw = clip(w + 0.001*apre, 0, 0.1)"),
    "ordered": ("w : 1", "v_post = 0.99*v_post + w"),
}
DELAYS = ("homogeneous", "heterogeneous")

# Why a row's `skip=` leaves a strategy untimed, by (delays, strategy). Measured on the 2-core
# workspace: `queue_order` (numpy lexsort of the M synapses on 4 keys, host side, at every build)
# 0.2 s at 10^6 synapses and 7.4 s at 10^7; on the H100 the queue walks every synapse each step
# (2.2 ms per step at 10^7: docs/performance.md, "Heterogeneous delays on the H100").
NOT_TIMED = {
    ("heterogeneous", "spike-queue"):
        "too slow to build at this size: the host's queue_order (numpy lexsort of the M synapses "
        "on 4 keys, at every build) took 0.2 s at 10^6 and 7.4 s at 10^7 on the 2-core "
        "workspace, O(M log M) and worse out of cache: ~2 minutes at 10^8, over 12 at 10^9 (a "
        "device call has 10); each step then walks all M synapses (~0.22 ns each on the H100 "
        "at 10^7: ~0.2 s per step at 10^9)",
}

# (rows, duration in biological seconds, repeats); a row is effect:delays:N:K:rate[,rate...]
ALL = ("accumulate", "plastic", "ordered")
PRESETS = {
    "quick": ([f"{e}:{d}:2000:100:5,50" for e in ALL for d in DELAYS], 0.02, 3),
    "cpu": ([f"{e}:{d}:10000:{k}:1,10,50" for e in ALL for d in DELAYS for k in (10, 100)],
            0.02, 3),
    # 10^7 synapses, then 10^8 (10^5 x 1000)
    "gpu": ([f"{e}:homogeneous:{n}:{k}:1,10,50" for e in ALL
             for n, k in ((10000, 1000), (100000, 100), (1000000, 10))]
            + [f"{e}:heterogeneous:{n}:{k}:1,10,50" for e in ALL
               for n, k in ((10000, 1000), (1000000, 10))]
            + [f"{e}:homogeneous:100000:1000:1,10,50" for e in ALL]
            + ["accumulate:heterogeneous:100000:1000:1,10,50:skip=spike-queue"],
            0.05, 3),
    # 10^9 synapses (10^6 x 1000): 50 steps per run after 2 warm-up steps (a pull walks all
    # 10^9 synapses every step, ~0.1 s). One strategy's build moves 33-49 GB through the host
    # (~90 B per synapse at its peak, ~130 for plastic: more than the H100 machine's 128 GiB),
    # so the rows go from the most telling to the least likely to fit.
    "gpu-1e9": (["accumulate:homogeneous:1000000:1000:1,10,50:w=2",
                 "accumulate:heterogeneous:1000000:1000:1,10,50:w=2:skip=spike-queue",
                 "ordered:homogeneous:1000000:1000:1,10,50:w=2",
                 "plastic:homogeneous:1000000:1000:1,10,50:w=2"],
                0.005, 3),
}


def parse_row(text: str) -> dict:
    """`effect:delays:N:K:rates[:d=..][:r=..][:w=..][:skip=a+b]` as a dict (options: None)."""
    effect, delays, n, k, rates, *options = text.split(":")
    if effect not in EFFECTS or delays not in DELAYS:
        raise SystemExit(f"bad row {text!r}: effect in {sorted(EFFECTS)}, delays in {DELAYS}")
    row = {"text": text, "effect": effect, "delays": delays, "n": int(n), "k": int(k),
           "rates": [float(r) for r in rates.split(",")], "duration": None, "repeats": None,
           "warmup_steps": None, "skip": []}
    for option in options:
        key, _, value = option.partition("=")
        if key == "d":
            row["duration"] = float(value)
        elif key == "r":
            row["repeats"] = int(value)
        elif key == "w":
            row["warmup_steps"] = int(value)
        elif key == "skip":
            row["skip"] = value.split("+")
        else:
            raise SystemExit(f"bad row option {option!r} in {text!r}: d=, r=, w= or skip=")
    return row


def automatic_choice(model_ir) -> tuple[str, str]:
    """What select-propagation picks for the (single) pathway of `model_ir` (no override)."""
    from spikec.ir.model import PathwayOp
    from spikec.passes.manager import PassManager
    PassManager.from_pipeline("select-propagation").run(model_ir)
    pathway = next(op for op in model_ir.walk() if isinstance(op, PathwayOp))
    return pathway.attributes["strategy"], pathway.attributes["reason"]


def release(net, groups) -> None:
    """Free `net`'s executable (device memory) before the next strategy's build: the groups'
    values go back to host arrays, as before a first build. Without this the old executable
    lives on behind the groups' values until the new one exists: two copies on the GPU."""
    from spikec.frontend.variables import HostValues
    for group in groups:
        arrays = group.values.all_arrays()
        host = HostValues(group.owner, 0, group.variables, group.dtype)
        host.arrays, host.size = arrays, len(group)
        group.values = host
    if net.build is not None:
        net.build.executable.close()
        net.build = None


def device_free_gib(device: str) -> float | None:
    if device != "cuda":
        return None
    try:
        from spikec.backends.cuda_driver_core import memory_info
        return memory_info()[0] / 2**30
    except Exception:  # no context yet
        return None


def host_peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def measure(device: str, row: dict, duration: float, repeats: int,
            strategies: list[str] | None = None, repeat_budget_s: float | None = None,
            time_identical: bool = False, emit=lambda results: None) -> list[dict]:
    """One row, in this process: every strategy (or those of `strategies`) on the same
    connectivity, each at every rate (the source's `rates` is set between runs, no rebuild). One
    result per rate; `emit(results)` after every strategy."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    import spikec
    from spikec.errors import SpikecError
    from spikec.frontend.build_model import build_model_ir
    from spikec.passes.select_propagation import STRATEGIES
    from spikec.runtime.compile import compile_model
    from spikec.runtime.devices import device_settings

    ms, Hz = spikec.ms, spikec.Hz
    duration = row["duration"] or duration
    repeats = row["repeats"] or repeats
    spikec.set_device(device)
    spikec.seed(1)
    n, k = row["n"], row["k"]
    model, on_pre = EFFECTS[row["effect"]]
    start = time.perf_counter()
    source = spikec.PoissonGroup(n, rates=row["rates"][0] * Hz)
    target = spikec.NeuronGroup(n, "dv/dt = -v/(10*ms) : 1")
    kwargs = {"delay": 1 * ms} if row["delays"] == "homogeneous" else {}
    S = spikec.Synapses(source, target, model, on_pre=on_pre, **kwargs)
    S.connect(p=min(1.0, k / n))
    M = len(S)
    rng = np.random.default_rng(1)
    values = rng.random(M)
    values *= 0.01
    S.w = values
    if row["delays"] == "heterogeneous":
        values = rng.random(M)
        values *= 4e-3
        S.delay = values * spikec.second
    del values
    connect_s = time.perf_counter() - start
    print(f"  {row['text']}: {M} synapses in {connect_s:.1f} s, host peak "
          f"{host_peak_gib():.1f} GiB", file=sys.stderr, flush=True)
    dt = float(spikec.defaultclock.dt / spikec.second)
    steps = round(duration / dt)
    warmup = (row["warmup_steps"] * dt if row["warmup_steps"] is not None
              else max(2 * dt, duration / 5))
    S.propagation = {}
    choice, reason = automatic_choice(build_model_ir([source, target, S], {}))
    results = [{"effect": row["effect"], "delays": row["delays"], "n": n, "k": k, "rate": rate,
                "device": device, "synapses": M, "connect_s": connect_s,
                "duration_bio_s": duration, "steps": steps, "warmup_steps": round(warmup / dt),
                "events": rate * duration * M, "choice": choice, "choice_reason": reason,
                "strategies": {s: {"status": "pending"} for s in strategies or STRATEGIES}}
               for rate in row["rates"]]
    emit(results)

    def time_strategy(strategy: str) -> None:
        """Build `strategy`'s network, time it at every rate, release it."""
        S.propagation = {"pre": strategy}
        for result in results:
            result["strategies"][strategy] = {"status": "running"}
        emit(results)
        net = spikec.Network(source, target, S)
        free_before = device_free_gib(device)
        try:
            start = time.perf_counter()
            net.run(0 * ms)
            build_s = time.perf_counter() - start
        except SpikecError as error:
            text = str(error).strip().splitlines()[0].split(" failed: ")[-1]
            for result in results:
                result["strategies"][strategy] = {"status": "skipped", "reason": text}
            emit(results)
            return
        print(f"  {row['text']}: {strategy} built in {build_s:.1f} s, host peak "
              f"{host_peak_gib():.1f} GiB", file=sys.stderr, flush=True)
        for result in results:
            source.rates = result["rate"] * Hz
            net.run(warmup * spikec.second)
            times = []
            while len(times) < repeats:
                start = time.perf_counter()
                net.run(duration * spikec.second)
                times.append(time.perf_counter() - start)
                if repeat_budget_s is not None and sum(times) >= repeat_budget_s:
                    break
            run_s = statistics.median(times)
            result["strategies"][strategy] = {
                "status": "ok", "build_s": build_s, "run_s": run_s, "run_s_all": times,
                "events_per_s": result["events"] / run_s,
                "us_per_step": run_s / result["steps"] * 1e6,
                "host_peak_gib": host_peak_gib(), "device_free_gib_before_build": free_before}
            print(f"  {row['text']}: {strategy} at {result['rate']:g} Hz: "
                  f"{run_s / steps * 1e6:.1f} us per step ({len(times)} runs)",
                  file=sys.stderr, flush=True)
        release(net, (source, target, S))
        del net
        gc.collect()
        emit(results)

    order = sorted(strategies or STRATEGIES, key=lambda s: s != choice)  # the choice first
    kernels: dict[str, list[str]] = {}  # kernel IR text -> the strategies lowered to it, in order
    for strategy in order:
        S.propagation = {"pre": strategy}
        try:
            text = str(compile_model([source, target, S], {}, device_settings.pipeline).kernel_ir)
        except SpikecError as error:
            text = str(error).strip().splitlines()[0].split(" failed: ")[-1]
            refused = "is wrong for this pathway" in text
            for result in results:
                result["strategies"][strategy] = {
                    "status": "not applicable" if refused else "skipped", "reason": text}
            continue
        kernels.setdefault(text, []).append(strategy)
    emit(results)
    for members in kernels.values():
        skipped = [m for m in members if m in row["skip"]]
        if skipped:
            why = NOT_TIMED.get((row["delays"], skipped[0]), "excluded by the row's skip= option")
            for result in results:
                for m in members:
                    result["strategies"][m] = {"status": "not timed", "reason": why if m in skipped
                                               else f"same kernels as {skipped[0]}: {why}"}
            emit(results)
            continue
        for result in results:
            for strategy in members[1:]:
                result["strategies"][strategy] = {"status": "pending", "as": members[0]}
        for strategy in members if time_identical else members[:1]:
            time_strategy(strategy)
        for strategy in members[1:] if not time_identical else []:
            for result in results:
                entry = result["strategies"][members[0]]
                result["strategies"][strategy] = {
                    **entry, "as": members[0],
                    "status": "same kernels" if entry["status"] == "ok" else entry["status"]}
        emit(results)
    return conclude(results)


def timed_s(entry: dict) -> float | None:
    return entry["run_s"] if entry.get("status") in ("ok", "same kernels") else None


def conclude(results: list[dict]) -> list[dict]:
    """Add the fastest strategy and the choice's ratio to it (the 20% rule) to each result."""
    for result in results:
        timed = {s: timed_s(e) for s, e in result["strategies"].items() if timed_s(e) is not None}
        if timed:
            # a tie (same kernels) goes to the choice
            fastest = min(timed, key=lambda s: (timed[s], s != result["choice"]))
            result["fastest"] = fastest
            chosen = timed.get(result["choice"])
            result["choice_over_fastest"] = None if chosen is None else chosen / timed[fastest]
            result["choice_ok"] = None if chosen is None else chosen <= TOLERANCE * timed[fastest]
    return results


def stopped(results: list[dict], why: str) -> list[dict]:
    """A row's last printed results after its process stopped: what did not finish is not timed."""
    for result in results:
        for strategy, entry in result["strategies"].items():
            if entry["status"] in ("pending", "running"):
                where = "while it ran" if entry["status"] == "running" else "before it started"
                same = f"same kernels as {entry['as']}; " if "as" in entry else ""
                result["strategies"][strategy] = {"status": "not timed",
                                                  "reason": f"{same}{why} ({where})"}
    return conclude(results)


def run_row(device: str, text: str, duration: float, repeats: int, env: dict,
            timeout: float, strategies: list[str] | None = None, extra: list[str] = ()
            ) -> list[dict] | None:
    """Run one row in a fresh process; its stderr (progress) passes through, its stdout holds
    one JSON line of results per finished strategy, of which the last is kept."""
    command = [sys.executable, __file__, "--one", device, text, str(duration), str(repeats),
               *extra]
    command += ["--strategies", *strategies] if strategies else []
    with tempfile.TemporaryFile("w+") as out:
        why = None
        try:
            done = subprocess.run(command, stdout=out, text=True, env=env, timeout=timeout)
            if done.returncode != 0:
                why = f"the row's process failed (exit {done.returncode}" + (
                    ", killed: likely out of host memory)" if done.returncode == -9 else ")")
        except subprocess.TimeoutExpired:
            why = f"the row was stopped after {timeout:.0f} s (time limit)"
        out.seek(0)
        lines = [line for line in out.read().splitlines() if line.startswith("[")]
    if why:
        print(f"  {text}: {why}", file=sys.stderr)
    if not lines:
        return None
    results = json.loads(lines[-1])
    return stopped(results, why) if why else results


def short(strategy: str | None) -> str:
    return {"push-atomic": "push", "pull-ordered": "pull", "dendritic-ring": "ring",
            "spike-queue": "queue", "spike-history": "history", None: "-"}[strategy]


def format_row(r: dict, strategies) -> str:
    cells = []
    for s in strategies:
        e = r["strategies"].get(s, {})
        if e.get("status") in ("ok", "same kernels"):
            mark = "*" if s == r["choice"] else ("=" if e["status"] == "same kernels" else " ")
            cells.append(f"{e['events_per_s'] / 1e6:9.2f}{mark}")
        else:
            label = {"not applicable": "n/a", "not timed": "untimed"}.get(e.get("status"), "skip")
            cells.append(f"{label:>9} ")
    ratio = r.get("choice_over_fastest")
    verdict = "-" if ratio is None else ("yes" if r["choice_ok"] else "NO")
    return (f"{r['effect']:10} {r['delays'][:6]:6} {r['n']:8d} {r['synapses']:10d} "
            f"{r['rate']:5g} " + " ".join(cells)
            + f"  {short(r['choice']):5} {short(r.get('fastest')):5} "
              f"{'' if ratio is None else f'{ratio:5.2f}':5} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="the small CPU preset")
    parser.add_argument("--preset", choices=sorted(PRESETS))
    parser.add_argument("--rows", nargs="+",
                        help="effect:delays:N:K:rate[:option...] (overrides the preset)")
    parser.add_argument("--duration", type=float, help="biological seconds per timed run")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--repeat-budget-s", type=float,
                        help="no further timed run of a strategy at a rate once its runs "
                             "took this long")
    parser.add_argument("--time-identical", action="store_true",
                        help="also time strategies whose kernels equal one already timed")
    parser.add_argument("--cpu-threads", default="1", help="SPIKEC_CPU_THREADS for the CPU")
    parser.add_argument("--budget-s", type=float, help="start no new row after this many s")
    parser.add_argument("--stop-s", type=float, help="stop a running row at this many s")
    parser.add_argument("--row-timeout-s", type=float, default=3600.0)
    parser.add_argument("--out", default="synapse_events.json")
    parser.add_argument("--strategies", nargs="+", help="time only these (default: every strategy)")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        device, text, duration, repeats = options.one
        emit = lambda results: print(json.dumps(results), flush=True)  # noqa: E731
        emit(measure(device, parse_row(text), float(duration), int(repeats), options.strategies,
                     options.repeat_budget_s, options.time_identical, emit))
        return
    rows, duration, repeats = PRESETS["quick" if options.quick else options.preset or "quick"]
    rows = options.rows or rows
    for text in rows:
        parse_row(text)  # bad rows fail before anything runs
    duration = options.duration or duration
    repeats = options.repeats or repeats
    extra = ["--repeat-budget-s", str(options.repeat_budget_s)] if options.repeat_budget_s else []
    extra += ["--time-identical"] if options.time_identical else []
    sys.path.insert(0, str(ROOT))
    from spikec.passes.select_propagation import STRATEGIES
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONPATH=path, SPIKEC_CPU_THREADS=options.cpu_threads)
    print(f"device {options.device}, {duration} s biological per run (unless a row says d=), "
          f"median of {repeats}; M events/s per strategy (* = the pass's choice, = same kernels "
          "as a timed strategy); ok = choice within 20% of fastest")
    print(f"{'effect':10} {'delays':6} {'N':>8} {'synapses':>10} {'Hz':>5} "
          + " ".join(f"{short(s):>10}" for s in STRATEGIES) + "  chose fast  ratio ok")
    results = []
    began = time.perf_counter()
    for text in rows:
        elapsed = time.perf_counter() - began
        if options.budget_s is not None and elapsed > options.budget_s:
            print(f"  {text}: not run (--budget-s {options.budget_s} spent)")
            continue
        timeout = options.row_timeout_s
        if options.stop_s is not None:
            timeout = min(timeout, options.stop_s - elapsed)
        found = run_row(options.device, text, duration, repeats, env, timeout,
                        options.strategies, extra)
        for result in found or []:
            result["row"] = text
            results.append(result)
            print(format_row(result, STRATEGIES), flush=True)
        Path(options.out).write_text(json.dumps(results, indent=1))
    untimed = {f"{s}: {e['status']}: {e['reason']}" for r in results
               for s, e in r["strategies"].items() if e["status"] in ("skipped", "not timed")}
    for reason in sorted(untimed):
        print(f"untimed {reason}")
    bad = [r for r in results if r.get("choice_ok") is False]
    print(f"20% rule: {'holds in every timed row' if not bad else f'fails in {len(bad)} rows'} "
          f"({len(results)} rows, {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
