"""Compile time of spikec, stage by stage: model script to the first step.

    python benchmarks/compile_time.py --device cpu --out compile_time.json

For each model (LIF, COBAHH uncoupled, Izhikevich; and the benchmark models of
`benchmarks/models/` at 1000 neurons: CUBA, COBAHH pseudo-coupled, Brunel-Hakim, STDP,
mushroom body) two fresh processes run `build + net.run(0*ms)`:
'cold' with an empty cache directory (`SPIKEC_CACHE_DIR`: kernel cache and integration cache),
'warm' with the directory the cold one left. Each process reports:

    import            `import spikec`
    objects           the model script's objects (NeuronGroup: parsing, checks, initial values;
                      connect and synaptic host code included)
    connect           `Synapses.connect` (part of objects: generator walk, compiled or numpy)
    run0              `net.run(0*ms)`: what benchmarks/run.py reports as compile_s
    model_ir          the frontend's `build_model_ir`
    pipeline_setup    parsing the pipeline string (importing the pass modules)
    pass:<name>       each pass, as the pass manager times it
    manager_overhead  the pass manager's own work (verification, reproducer bookkeeping)
    pipeline_cache    the pipeline cache's own work (key: printing and hashing the model IR;
                      decoding a hit; encoding and writing a miss)
    backend           `create_executable` (code generation or cache load, JIT, arrays)
    initial_arrays    the executable's initial arrays (state, connectivity, queue tables)
    after_import      everything after `import spikec` up to the end of `run(0*ms)`
    other             after_import minus the stages above (storage, monitors, drains)

Stage times are measured by wrapping the runtime's functions in the child process. With
`--repeats N` the cold/warm pair runs N times (each cold one with a new empty directory); the
JSON keeps every run and the table shows the medians.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lif(sim):
    ms, mV = sim.ms, sim.mV
    G = sim.NeuronGroup(1000, """dv/dt = (El - v + I)/tau : volt (unless refractory)
                                 I : volt (constant)""",
                        threshold="v > vt", reset="v = vr", refractory=2 * ms, method="exact",
                        namespace={"tau": 10 * ms, "El": -70 * mV, "vt": -50 * mV, "vr": -75 * mV})
    G.v = -70 * mV
    G.I = "i*0.02*mV + 15*mV"
    return sim.Network(G)


def cobahh(sim):
    from benchmarks.models import cobahh_uncoupled
    return cobahh_uncoupled.build(sim, 1000)


def izhikevich(sim):
    ms, mV = sim.ms, sim.mV
    G = sim.NeuronGroup(1000, """dv/dt = (0.04/ms/mV)*v**2 + (5/ms)*v + 140*mV/ms - u + I : volt
                                 du/dt = a*(b*v - u) : volt/second
                                 I : volt/second (constant)
                                 a : Hz (constant)
                                 b : Hz (constant)""",
                        threshold="v >= 30*mV", reset="v = -65*mV; u += 8*mV/ms", method="euler")
    G.v, G.u = -65 * mV, -13 * mV / ms
    G.a, G.b = 0.02 / ms, 0.2 / ms
    G.I = "(5 + 5*i/1000)*mV/ms"
    return sim.Network(G)


def _benchmark(module: str, **options):
    def build(sim):
        import importlib
        return importlib.import_module(f"benchmarks.models.{module}").build(sim, 1000, **options)[0]
    return build


MODELS = {"lif": lif, "cobahh": cobahh, "izhikevich": izhikevich,
          "cuba": _benchmark("cuba"), "cobahh_pseudo": _benchmark("cobahh", coupling="pseudo"),
          "brunel_hakim": _benchmark("brunel_hakim"), "stdp": _benchmark("stdp"),
          "mushroom_body": _benchmark("mushroom_body")}
BENCHMARK_MODELS = ["cuba", "cobahh_pseudo", "brunel_hakim", "stdp", "mushroom_body"]


def measure(model: str, device: str) -> dict:
    """One fresh-process build of `model`, stage by stage (runs in the child process)."""
    times: dict[str, float] = {}

    def timed(module, name: str, stage: str) -> None:
        function = getattr(module, name)

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                times[stage] = times.get(stage, 0.0) + time.perf_counter() - start
        setattr(module, name, wrapper)

    start = time.perf_counter()
    import spikec
    times["import"] = time.perf_counter() - start
    import spikec.passes.manager as manager
    import spikec.runtime.code_runner as code_runner
    import spikec.runtime.compile as compile_module
    import spikec.runtime.network as network
    timed(compile_module, "build_model_ir", "model_ir")
    timed(manager, "parse_pipeline", "pipeline_setup")
    timed(manager.PassManager, "run", "pass_manager")
    timed(network, "create_executable", "backend")
    timed(code_runner, "build_synapses", "connect")
    timed(network.Network, "_initial_arrays", "initial_arrays")
    if hasattr(compile_module, "lower_model"):
        timed(compile_module, "lower_model", "lowering")

    spikec.set_device(device)
    spikec.seed(1)
    begin = time.perf_counter()
    net = MODELS[model](spikec)
    times["objects"] = time.perf_counter() - begin
    start = time.perf_counter()
    net.run(0 * spikec.ms, namespace={})
    times["run0"] = time.perf_counter() - start
    times["after_import"] = time.perf_counter() - begin
    passes = 0.0
    for record in net.build.compiled.report.records:
        times[f"pass:{record.name}"] = record.seconds
        passes += record.seconds
    manager_seconds = times.pop("pass_manager", 0.0)
    times["manager_overhead"] = manager_seconds - passes
    if "lowering" in times:  # the pipeline cache's own work: key, encoding, disk
        times["pipeline_cache"] = (times.pop("lowering") - manager_seconds
                                   - times.get("pipeline_setup", 0.0))
    staged = sum(v for k, v in times.items()
                 if k not in ("import", "after_import", "connect", "run0"))
    times["other"] = times["after_import"] - staged
    return {"model": model, "device": device, "seconds": times}


def run_model(model: str, device: str, cache: str) -> dict:
    """One cold and one warm process for `model` (seconds per stage of each)."""
    rows = {}
    for phase in ("cold", "warm"):
        path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
        env = dict(os.environ, SPIKEC_CACHE_DIR=cache, PYTHONPATH=path)
        command = [sys.executable, __file__, "--one", model, device]
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"{model} {phase} failed:\n{done.stderr[-3000:]}")
        rows[phase] = json.loads(done.stdout.strip().splitlines()[-1])["seconds"]
    return {"model": model, "device": device, **rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="+", default=list(MODELS),
                        help=f"default: all; 'benchmarks' = {' '.join(BENCHMARK_MODELS)}")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="compile_time.json")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.one:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(measure(*options.one)))
        return
    models = [m for name in options.models
              for m in (BENCHMARK_MODELS if name == "benchmarks" else [name])]
    rows = []
    for model in models:
        runs = []
        for _ in range(options.repeats):
            with tempfile.TemporaryDirectory() as cache:
                runs.append(run_model(model, options.device, cache))
        median = {phase: {stage: statistics.median(r[phase].get(stage, 0.0) for r in runs)
                          for stage in runs[0][phase]} for phase in ("cold", "warm")}
        rows.append({"model": model, "device": options.device, "median": median, "runs": runs})
        stages = sorted(median["cold"], key=lambda s: -median["cold"][s])
        print(f"{model} on {options.device} (median of {options.repeats}): {'cold s':>8} {'warm s':>8}")
        for stage in stages:
            print(f"  {stage:40} {median['cold'][stage]:8.3f} {median['warm'].get(stage, 0):8.3f}")
    Path(options.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
