"""Synaptic events per second for each propagation strategy, and whether the strategy that
`select-propagation` picks is the fastest measured one (or within 20% of it).

    python benchmarks/synapse_events.py --quick                 # this 2-core CPU, < 1 minute
    python benchmarks/synapse_events.py --preset cpu --out cpu.json
    python benchmarks/synapse_events.py --device cuda --preset gpu --out gpu.json
    python benchmarks/synapse_events.py --rows accumulate:homogeneous:10000:100:1,10 ...

A row is `effect:delays:N:K:rates`: a PoissonGroup of N sources at each rate (Hz, comma-separated)
onto N targets (`dv/dt = -v/(10*ms)`), `connect(p=K/N)` (about K synapses per source, M = N*K in
all), with

* effect `accumulate`: `v_post += w` (order-independent: push-atomic, pull-ordered,
  dendritic-ring are candidates);
* effect `plastic`: `v_post += w; apre += 0.01; w = clip(w + 0.001*apre, 0, 0.1)` with an
  event-driven trace `apre` (writes synaptic variables when the event arrives);
* effect `ordered`: `v_post = 0.99*v_post + w` (order-dependent: only the ordered strategies);
* delays `homogeneous`: `delay=1*ms` for every synapse; `heterogeneous`: `S.delay = 'rand()*4*ms'`.

Each row runs in its own process: connectivity is built once, then, for every strategy in
`spikec.passes.select_propagation.STRATEGIES`, the Synapses' `propagation` is set to it and a new
Network is built and timed at each rate (the source's `rates` set between runs: a warm-up run,
then the median of `--repeats` runs of `--duration` biological seconds). A strategy the pass
refuses for the effect is "not applicable"; one it accepts but that cannot be built yet (e.g.
per-synapse delays before their lowering lands) is "skipped" with the error. The pass's own choice is read by running `select-propagation` on the
model IR without the override; its time is the time of the forced run of that same strategy
(the override only sets the pathway's strategy attribute, so the kernels are the same).

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
import statistics
import subprocess
import sys
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

# (rows, duration in biological seconds, repeats); a row is effect:delays:N:K:rate[,rate...]
ALL = ("accumulate", "plastic", "ordered")
PRESETS = {
    "quick": ([f"{e}:{d}:2000:100:5,50" for e in ALL for d in DELAYS], 0.02, 3),
    "cpu": ([f"{e}:{d}:10000:{k}:1,10,50" for e in ALL for d in DELAYS for k in (10, 100)],
            0.02, 3),
    # the homogeneous rows first (they run today), the largest (1e8 synapses) last
    "gpu": ([f"{e}:homogeneous:{n}:{k}:1,10,50" for e in ALL
             for n, k in ((10000, 1000), (100000, 100), (1000000, 10))]
            + ["accumulate:homogeneous:100000:1000:1,10"]
            + [f"{e}:heterogeneous:{n}:{k}:1,10,50" for e in ("accumulate", "plastic")
               for n, k in ((10000, 1000), (1000000, 10))]
            + ["plastic:homogeneous:100000:1000:1,10"],
            0.1, 3),
}


def parse_row(text: str) -> dict:
    effect, delays, n, k, rates = text.split(":")
    if effect not in EFFECTS or delays not in DELAYS:
        raise SystemExit(f"bad row {text!r}: effect in {sorted(EFFECTS)}, delays in {DELAYS}")
    return {"effect": effect, "delays": delays, "n": int(n), "k": int(k),
            "rates": [float(r) for r in rates.split(",")]}


def automatic_choice(model_ir) -> tuple[str, str]:
    """What select-propagation picks for the (single) pathway of `model_ir` (no override)."""
    from spikec.ir.model import PathwayOp
    from spikec.passes.manager import PassManager
    PassManager.from_pipeline("select-propagation").run(model_ir)
    pathway = next(op for op in model_ir.walk() if isinstance(op, PathwayOp))
    return pathway.attributes["strategy"], pathway.attributes["reason"]


def measure(device: str, row: dict, duration: float, repeats: int,
            strategies: list[str] | None = None) -> list[dict]:
    """One row, in this process: every strategy (or those of `strategies`) on the same
    connectivity, each at every rate (the source's `rates` is set between runs, no rebuild). One
    result per rate."""
    sys.path.insert(0, str(ROOT))
    import spikec
    from spikec.errors import SpikecError
    from spikec.frontend.build_model import build_model_ir
    from spikec.passes.select_propagation import STRATEGIES

    ms, Hz = spikec.ms, spikec.Hz
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
    S.w = "0.01*rand()"
    if row["delays"] == "heterogeneous":
        S.delay = "rand()*4*ms"
    M = len(S)
    connect_s = time.perf_counter() - start
    dt = float(spikec.defaultclock.dt / spikec.second)
    S.propagation = {}
    choice, reason = automatic_choice(build_model_ir([source, target, S], {}))
    results = [{"effect": row["effect"], "delays": row["delays"], "n": n, "k": k, "rate": rate,
                "device": device, "synapses": M, "connect_s": connect_s,
                "duration_bio_s": duration, "steps": round(duration / dt),
                "events": rate * duration * M, "choice": choice, "choice_reason": reason,
                "strategies": {}} for rate in row["rates"]]
    for strategy in strategies or STRATEGIES:
        S.propagation = {"pre": strategy}
        net = spikec.Network(source, target, S)
        try:
            start = time.perf_counter()
            net.run(0 * ms)
            build_s = time.perf_counter() - start
        except SpikecError as error:
            text = str(error).strip().splitlines()[0].split(" failed: ")[-1]
            refused = "is wrong for this pathway" in text
            for result in results:
                result["strategies"][strategy] = {
                    "status": "not applicable" if refused else "skipped", "reason": text}
            continue
        for result in results:
            source.rates = result["rate"] * Hz
            net.run(max(2 * dt, duration / 5) * spikec.second)  # warm-up
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                net.run(duration * spikec.second)
                times.append(time.perf_counter() - start)
            run_s = statistics.median(times)
            result["strategies"][strategy] = {
                "status": "ok", "build_s": build_s, "run_s": run_s, "run_s_all": times,
                "events_per_s": result["events"] / run_s,
                "us_per_step": run_s / result["steps"] * 1e6}
        del net
        gc.collect()
    for result in results:
        timed = {s: e["run_s"] for s, e in result["strategies"].items() if e["status"] == "ok"}
        if timed:
            fastest = min(timed, key=timed.get)
            result["fastest"] = fastest
            chosen = timed.get(result["choice"])
            result["choice_over_fastest"] = None if chosen is None else chosen / timed[fastest]
            result["choice_ok"] = None if chosen is None else chosen <= TOLERANCE * timed[fastest]
    return results


def run_row(device: str, text: str, duration: float, repeats: int, env: dict,
            timeout: float, strategies: list[str] | None = None) -> list[dict] | None:
    command = [sys.executable, __file__, "--one", device, text, str(duration), str(repeats)]
    command += ["--strategies", *strategies] if strategies else []
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"  {text}: stopped after {timeout} s", file=sys.stderr)
        return None
    if done.returncode != 0:
        print(f"  {text}: failed: {done.stderr.strip()[-600:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def short(strategy: str | None) -> str:
    return {"push-atomic": "push", "pull-ordered": "pull", "dendritic-ring": "ring",
            "spike-queue": "queue", None: "-"}[strategy]


def format_row(r: dict, strategies) -> str:
    cells = []
    for s in strategies:
        e = r["strategies"].get(s, {})
        if e.get("status") == "ok":
            mark = "*" if s == r["choice"] else " "
            cells.append(f"{e['events_per_s'] / 1e6:9.2f}{mark}")
        else:
            cells.append(f"{'n/a' if e.get('status') == 'not applicable' else 'skip':>9} ")
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
    parser.add_argument("--rows", nargs="+", help="effect:delays:N:K:rate (overrides the preset)")
    parser.add_argument("--duration", type=float, help="biological seconds per timed run")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--cpu-threads", default="1", help="SPIKEC_CPU_THREADS for the CPU")
    parser.add_argument("--budget-s", type=float, help="start no new row after this many s")
    parser.add_argument("--row-timeout-s", type=float, default=3600.0)
    parser.add_argument("--out", default="synapse_events.json")
    parser.add_argument("--strategies", nargs="+", help="time only these (default: every strategy)")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        device, text, duration, repeats = options.one
        print(json.dumps(measure(device, parse_row(text), float(duration), int(repeats),
                                 options.strategies)))
        return
    rows, duration, repeats = PRESETS["quick" if options.quick else options.preset or "quick"]
    rows = options.rows or rows
    duration = options.duration or duration
    repeats = options.repeats or repeats
    sys.path.insert(0, str(ROOT))
    from spikec.passes.select_propagation import STRATEGIES
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONPATH=path, SPIKEC_CPU_THREADS=options.cpu_threads)
    print(f"device {options.device}, {duration} s biological per run, median of {repeats}; "
          "M events/s per strategy (* = the pass's choice); ok = choice within 20% of fastest")
    print(f"{'effect':10} {'delays':6} {'N':>8} {'synapses':>10} {'Hz':>5} "
          + " ".join(f"{short(s):>10}" for s in STRATEGIES) + "  chose fast  ratio ok")
    results = []
    began = time.perf_counter()
    for text in rows:
        if options.budget_s and time.perf_counter() - began > options.budget_s:
            print(f"  {text}: not run (--budget-s {options.budget_s} spent)")
            continue
        found = run_row(options.device, text, duration, repeats, env, options.row_timeout_s,
                        options.strategies)
        for result in found or []:
            results.append(result)
            print(format_row(result, STRATEGIES), flush=True)
        Path(options.out).write_text(json.dumps(results, indent=1))
    skipped = {f"{s}: {e['reason']}" for r in results for s, e in r["strategies"].items()
               if e["status"] == "skipped"}
    for reason in sorted(skipped):
        print(f"skipped {reason}")
    bad = [r for r in results if r.get("choice_ok") is False]
    print(f"20% rule: {'holds in every timed row' if not bad else f'fails in {len(bad)} rows'}")


if __name__ == "__main__":
    main()
