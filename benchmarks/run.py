"""The benchmark matrix: the Brian2CUDA paper's models (and the Potjans-Diesmann microcircuit) on
spikec (cpu, cuda), Brian 2 (numpy, cython runtime; C++ standalone) and Brian2CUDA, each point
(model, size, target) in its own process.

    python benchmarks/run.py --quick                      # small sizes, spikec-cpu + brian2-numpy
    python benchmarks/run.py --models cuba cobahh_pseudo --targets spikec-cuda brian2cuda \
        --sizes 1000 10000 100000 --duration 1.0 --out results/h100
    python benchmarks/run.py --merge call1/rows.json call2/rows.json --out results/all

Writes `<out>/rows.json` (one row per point, rewritten after every point: status ok / skipped /
error / timeout, setup/compile/run/total seconds, spikes, synapses, neurons, peak GPU memory where
`nvidia-smi` exists), `<out>/table.md`, and with matplotlib `<out>/time_<model>.png` (log-log run
time against size, one line per target) and `<out>/speedup_<model>.png` (each target against
`--baseline`). Targets whose simulator is not installed are skipped with a note; models that
spikec cannot lower yet are rows with status 'skipped' and the reason.

Times, per point: `setup_s` builds the objects in Python (connect, initial values; for the
standalone devices: code generation, the binary's own set-up before the run loop), `compile_s`
is model to first step (spikec and Brian runtime: `run(0*ms)`; standalone: the compiler),
`run_s` the simulation loop of `duration` biological seconds (standalone: measured inside the
binary), `total_s` the child's whole wall time including `import`.

The CPU peers run on one thread unless told otherwise: brian2-cpp without OpenMP
(`--openmp-threads 0`), spikec-cpu with `SPIKEC_CPU_THREADS=1` (`--spikec-cpu-threads`); rows say
`threads` (spikec: what its executable used) and `load_before` (the load average at the start).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name: (module, build options, quick sizes, full sizes, what the size counts)
MODELS = {
    "cobahh_uncoupled": ("cobahh", {"coupling": "uncoupled"}, [1000, 4000],
                         [1000, 10000, 100000, 1000000, 10000000], "neurons"),
    "cobahh_pseudo": ("cobahh", {"coupling": "pseudo"}, [1000, 2000],
                      [1000, 10000, 100000], "neurons"),
    "cobahh_coupled": ("cobahh", {"coupling": "coupled"}, [1000, 2000],
                       [1000, 10000, 100000], "neurons"),
    "cuba": ("cuba", {}, [1000, 4000], [1000, 10000, 100000, 1000000], "neurons"),
    "brunel_hakim_homog": ("brunel_hakim", {"delays": "homogeneous"}, [1000, 4000],
                           [1000, 10000, 100000, 1000000], "neurons"),
    "brunel_hakim_heterog": ("brunel_hakim", {"delays": "heterogeneous"}, [1000, 4000],
                             [1000, 10000, 100000], "neurons"),
    "stdp": ("stdp", {"delays": "none"}, [2000, 10000],
             [10000, 100000, 1000000, 10000000], "synapses"),
    "stdp_homog": ("stdp", {"delays": "homogeneous"}, [2000, 10000],
                   [10000, 100000, 1000000, 10000000], "synapses"),
    "stdp_heterog": ("stdp", {"delays": "heterogeneous"}, [2000, 10000],
                     [10000, 100000, 1000000, 10000000], "synapses"),
    "mushroom_body": ("mushroom_body", {}, [300, 1000],
                      [1000, 10000, 100000, 1000000], "Kenyon cells"),
    "microcircuit": ("microcircuit", {}, [400],
                     [7717, 77169], "neurons"),
}
QUICK_MODELS = ["cobahh_uncoupled", "cobahh_pseudo", "cuba", "brunel_hakim_homog",
                "brunel_hakim_heterog", "stdp_homog", "stdp_heterog", "mushroom_body",
                "microcircuit"]
# target: (simulator module, device)
TARGETS = {
    "spikec-cpu": ("spikec", "cpu"),
    "spikec-cuda": ("spikec", "cuda"),
    "brian2-numpy": ("brian2", "numpy"),
    "brian2-cython": ("brian2", "cython"),
    "brian2-cpp": ("brian2", "cpp_standalone"),
    "brian2cuda": ("brian2", "cuda_standalone"),
}
# spikec errors that mean "not supported yet", reported as skipped
UNSUPPORTED = re.compile(r"cannot be lowered yet|not (yet )?supported|not lowered yet|"
                         r"has no attribute 'PoissonInput'|is not implemented", re.I)


# ---------------------------------------------------------------- one point (child process)

class GpuMemory:
    """Peak device memory in use (nvidia-smi, sampled every 0.2 s) above the level at start."""

    def __init__(self):
        self.tool = shutil.which("nvidia-smi")
        self.base = self.peak = self._used()
        self._stop = threading.Event()
        if self.tool:
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()

    def _used(self):
        if not self.tool:
            return None
        try:
            out = subprocess.run([self.tool, "--query-gpu=memory.used",
                                  "--format=csv,noheader,nounits"], capture_output=True,
                                 text=True, timeout=10).stdout.split()
            return int(out[0]) * 2**20 if out else None
        except (OSError, subprocess.SubprocessError, ValueError):
            return None

    def _poll(self):
        while not self._stop.wait(0.2):
            used = self._used()
            if used is not None and (self.peak is None or used > self.peak):
                self.peak = used

    def stop(self):
        self._stop.set()
        if self.base is None or self.peak is None:
            return None
        return self.peak - self.base


def _brian2cuda_prefs(sim):
    """The preferences that made Brian2CUDA 1.0b1 build with CUDA 13 on the H100."""
    import brian2cuda  # noqa: F401  (registers cuda_standalone)
    prefs = sim.prefs
    prefs.devices.cuda_standalone.cuda_backend.detect_gpus = False
    prefs.devices.cuda_standalone.cuda_backend.gpu_id = int(os.environ.get("BRIAN2CUDA_GPU_ID", "0"))
    prefs.devices.cuda_standalone.cuda_backend.compute_capability = float(
        os.environ.get("BRIAN2CUDA_COMPUTE_CAPABILITY", "9.0"))
    cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    if cuda_home:
        prefs.devices.cuda_standalone.cuda_backend.cuda_path = cuda_home
    prefs.devices.cuda_standalone.no_pre_references = True
    prefs.codegen.cpp.extra_compile_args_gcc = [
        "-std=c++17" if arg == "-std=c++11" else arg
        for arg in prefs.codegen.cpp.extra_compile_args_gcc]
    # the makefile template hard-codes `NVCCFLAGS = -I. -std=c++11`, but CUDA 13's thrust/CUB need
    # C++17: the loaded template is replaced in memory (measure() also checks the generated file)
    from brian2.codegen.templates import CodeObjectTemplate
    from brian2cuda.codeobject import CUDAStandaloneCodeObject
    templater = CUDAStandaloneCodeObject.templater
    source = templater.env.loader.get_source(templater.env, "makefile")[0]
    if "-std=c++11" in source:
        source = source.replace("-std=c++11", "-std=c++17")
        templater.templates._templates["makefile"] = CodeObjectTemplate(
            templater.env.from_string(source), source)


def _insert_run_timer(sim, device: str, stamp_file: str) -> None:
    """Chrono stamps around the run loop inside the standalone binary, written to `stamp_file`.
    On cuda_standalone a cudaDeviceSynchronize() precedes each stamp (Brian2CUDA's launches are
    asynchronous, and Brian's own `_last_run_time` is taken without one)."""
    headers = list(sim.prefs.codegen.cpp.headers)
    for header in ("<chrono>", "<fstream>"):
        if header not in headers:
            headers.append(header)
    sim.prefs.codegen.cpp.headers = headers
    sync = "CUDA_SAFE_CALL(cudaDeviceSynchronize());" if device == "cuda_standalone" else ""
    dev = sim.get_device()
    dev.insert_code("before_network_run",
                    f"{sync} const auto _bench_run_start = std::chrono::steady_clock::now();")
    dev.insert_code("after_network_run", (
        f"{sync} {{ const double _bench_run_s = std::chrono::duration<double>("
        "std::chrono::steady_clock::now() - _bench_run_start).count(); "
        f"std::ofstream _bench_out({json.dumps(stamp_file)}); _bench_out.precision(9); "
        "_bench_out << _bench_run_s << std::endl; }"))


def measure(model: str, size: int, target: str, duration: float, monitor: bool,
            workdir: str, threads: int = 0) -> dict:
    start_all = time.perf_counter()
    module_name, options, *_ = MODELS[model]
    sim_name, device = TARGETS[target]
    row = {"model": model, "size": size, "target": target, "simulator": sim_name,
           "device": device, "duration_s": duration}
    gpu = GpuMemory() if device in ("cuda", "cuda_standalone") else None
    sim = importlib.import_module(sim_name)
    sys.path.insert(0, str(ROOT))
    models = importlib.import_module(f"benchmarks.models.{module_name}")
    standalone = device in ("cpp_standalone", "cuda_standalone")
    if sim_name == "spikec":
        sim.set_device(device)
        if device == "cpu":
            row["threads"] = os.environ.get("SPIKEC_CPU_THREADS") or "auto"
    elif standalone:
        if device == "cuda_standalone":
            _brian2cuda_prefs(sim)
        else:  # 0: Brian's default, no OpenMP (one thread)
            sim.prefs.devices.cpp_standalone.openmp_threads = threads
            row["threads"] = threads or 1
        sim.set_device(device, build_on_run=False, directory=workdir)
        stamp_file = str(Path(workdir) / "bench_run_seconds.txt")
        _insert_run_timer(sim, device, stamp_file)
    else:
        sim.prefs.codegen.target = device
    sim.seed(1)
    row["import_s"] = time.perf_counter() - start_all
    if module_name == "mushroom_body":
        options = dict(options, duration=duration)
    start = time.perf_counter()
    net, info = models.build(sim, size, monitor=monitor, **options)
    row["setup_s"] = time.perf_counter() - start
    if standalone:
        net.run(duration * sim.second, namespace={})
        dev = sim.get_device()
        start = time.perf_counter()
        dev.build(directory=workdir, compile=False, run=False, with_output=False)
        row["setup_s"] += time.perf_counter() - start  # code generation
        makefile = Path(workdir) / "makefile"
        if device == "cuda_standalone" and makefile.exists():
            text = makefile.read_text()
            row["makefile_std"] = sorted(set(re.findall(r"-std=c\+\+\d+", text)))
            makefile.write_text(text.replace("-std=c++11", "-std=c++17"))
        from brian2.codegen.cpp_prefs import get_compiler_and_args
        start = time.perf_counter()
        dev.compile_source(workdir, get_compiler_and_args()[0], False, False)
        row["compile_s"] = time.perf_counter() - start
        start = time.perf_counter()
        dev.run(workdir, with_output=False)
        binary_s = time.perf_counter() - start
        # the run loop: our stamps inside the binary (after a device synchronisation on the GPU);
        # Brian's own timer (`_last_run_time`, no synchronisation) is kept to compare
        row["run_s_brian"] = float(dev._last_run_time)
        row["run_s"] = float(Path(stamp_file).read_text().split()[0])
        row["setup_s"] += binary_s - row["run_s"]  # the binary's set-up (synapse creation...)
    else:
        start = time.perf_counter()
        net.run(0 * sim.ms, namespace={})
        row["compile_s"] = time.perf_counter() - start
        start = time.perf_counter()
        net.run(duration * sim.second, namespace={})
        row["run_s"] = time.perf_counter() - start
    row["spikes"] = int(sum(int(m.num_spikes) for m in info["spike_monitors"])) if monitor else None
    row["synapses"] = int(sum(len(s) for s in info["synapses"]))
    row["neurons"] = int(info["neurons"])
    if "scale" in info:
        row["scale"] = info["scale"]
    row["realtime_factor"] = row["run_s"] / duration
    executable = getattr(getattr(net, "build", None), "executable", None)
    if sim_name == "spikec" and hasattr(executable, "threads"):
        row["threads"] = int(executable.threads)  # the count the CPU executable used
    row["gpu_memory_bytes"] = gpu.stop() if gpu else None
    row["total_s"] = time.perf_counter() - start_all
    row["status"] = "ok"
    return row


def child(spec: str) -> None:
    """`--one` entry: measure one point and print its row as the last line of stdout."""
    model, size, target, duration, monitor, *rest = json.loads(spec)
    threads = rest[0] if rest else 0
    with tempfile.TemporaryDirectory(prefix="spikec-bench-") as workdir:
        try:
            row = measure(model, size, target, duration, monitor, workdir, threads)
        except BaseException as error:  # noqa: BLE001 (every failure becomes a row)
            message = f"{type(error).__name__}: {error}".strip()
            first = message.splitlines()[0]
            first = first.split("failed: ")[-1][:400]  # a PassError's own message
            skipped = TARGETS[target][0] == "spikec" and (
                isinstance(error, NotImplementedError) or UNSUPPORTED.search(message))
            row = {"model": model, "size": size, "target": target,
                   "simulator": TARGETS[target][0], "device": TARGETS[target][1],
                   "duration_s": duration, "status": "skipped" if skipped else "error",
                   "reason": ("spikec cannot run this yet: " if skipped else "") + first}
            if not skipped:
                import traceback
                traceback.print_exc()
    sys.stdout.flush()
    print("\n" + json.dumps(row))


# ---------------------------------------------------------------- the matrix (parent)

def available(target: str) -> str | None:
    """None when the target can be tried here, else why not."""
    sim_name, device = TARGETS[target]
    if importlib.util.find_spec(sim_name) is None:
        return f"{sim_name} is not installed"
    if device == "cython" and importlib.util.find_spec("Cython") is None:
        return "Cython is not installed"
    if device == "cpp_standalone" and not (shutil.which("g++") or shutil.which("c++")):
        return "no C++ compiler"
    if device == "cuda_standalone":
        if importlib.util.find_spec("brian2cuda") is None:
            return "brian2cuda is not installed"
        if not shutil.which("nvcc") and not os.environ.get("CUDA_HOME"):
            return "no nvcc (set CUDA_HOME)"
    return None


def run_point(model, size, target, duration, monitor, timeout, threads=0,
              spikec_threads="1") -> dict:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, PYTHONPATH=path)
    if spikec_threads and target == "spikec-cpu":  # spikec-cuda's connect keeps every core
        env["SPIKEC_CPU_THREADS"] = str(spikec_threads)
    spec = json.dumps([model, size, target, duration, monitor, threads])
    base = {"model": model, "size": size, "target": target, "simulator": TARGETS[target][0],
            "device": TARGETS[target][1], "duration_s": duration}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    try:
        done = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", spec],
                              capture_output=True, text=True, env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return dict(base, status="timeout", reason=f"ran past {timeout} s")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (done.stderr or done.stdout)[-1500:]
        return dict(base, status="error", reason=f"exit {done.returncode}: {tail}")
    row = json.loads(lines[-1])
    row["load_before"] = load  # the 1-minute load average when the point started (shared machines)
    if row["status"] == "error":
        row["stderr_tail"] = done.stderr[-3000:]
    return row


def progress(done: int, total: int, started: float, label: str) -> None:
    width = 30
    filled = int(width * done / max(total, 1))
    elapsed = time.perf_counter() - started
    eta = elapsed / done * (total - done) if done else 0.0
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                     f"{elapsed:6.0f}s eta {eta:5.0f}s  {label[:50]:50}")
    if done == total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def fmt(value, digits=3):
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e4 else f"{value:.3g}"
    return str(value)


def table(rows) -> str:
    head = ("| model | size | target | status | setup s | compile s | run s | total s | "
            "spikes | synapses | GPU MB |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
    lines = []
    for r in rows:
        if r["status"] == "ok":
            mem = r.get("gpu_memory_bytes")
            lines.append(f"| {r['model']} | {r['size']} | {r['target']} | ok | "
                         f"{fmt(r['setup_s'])} | {fmt(r['compile_s'])} | {fmt(r['run_s'])} | "
                         f"{fmt(r['total_s'])} | {fmt(r['spikes'])} | {fmt(r['synapses'])} | "
                         f"{'' if mem is None else round(mem / 2**20)} |")
        else:
            reason = r.get("reason", "").replace("|", "/").replace("\n", " ")[:160]
            lines.append(f"| {r['model']} | {r['size']} | {r['target']} | {r['status']}: "
                         f"{reason} | | | | | | | |")
    return head + "\n".join(lines) + "\n"


def comparison(rows, target: str, peer: str) -> str:
    """Markdown: run and compile time of `target` beside `peer` for each (model, size) both ran,
    and their ratio (below 1: `target` faster)."""
    found = {(r["model"], r["size"], r["target"]): r for r in rows if r["status"] == "ok"}
    lines = [f"| model | size | {target} run s | {peer} run s | ratio | {target} compile s | "
             f"{peer} compile s |", "|---|---|---|---|---|---|---|"]
    for (model, size, name), row in found.items():
        other = found.get((model, size, peer))
        if name != target or other is None:
            continue
        ratio = row["run_s"] / other["run_s"] if other["run_s"] else None
        lines.append(f"| {model} | {size} | {fmt(row['run_s'])} | {fmt(other['run_s'])} | "
                     f"**{fmt(ratio, 2)}** | {fmt(row['compile_s'])} | {fmt(other['compile_s'])} |")
    return "\n".join(lines) + "\n"


def merge(paths: list[str], out: Path, baseline: str | None) -> int:
    """Rows of several runs (e.g. several device calls) as one: rows.json, table.md, plots."""
    rows = [row for path in paths for row in json.loads(Path(path).read_text())]
    out.mkdir(parents=True, exist_ok=True)
    (out / "rows.json").write_text(json.dumps(rows, indent=1))
    targets = list(dict.fromkeys(r["target"] for r in rows))
    text = table(rows)
    if "spikec-cuda" in targets and "brian2cuda" in targets:
        text += "\n" + comparison(rows, "spikec-cuda", "brian2cuda")
    (out / "table.md").write_text(text)
    print(text)
    chosen = baseline or next((t for t in ("brian2cuda", "brian2-cpp") if t in targets), targets[0])
    for line in plots(rows, out, chosen):
        print(line if line.startswith("plots skipped") else f"plot: {line}")
    return 0


def plots(rows, out: Path, baseline: str) -> list[str]:
    """PNG files written, or a note when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return ["plots skipped: matplotlib is not installed (pip install matplotlib)"]

    def save(fig, ax, xlabel, ylabel, title, path):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return str(path)

    written = []
    ok = [r for r in rows if r["status"] == "ok"]
    for model in dict.fromkeys(r["model"] for r in ok):
        unit = MODELS[model][4]
        series = {}
        for r in ok:
            if r["model"] == model:
                series.setdefault(r["target"], []).append((r["size"], r["run_s"], r["total_s"]))
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for target, points in series.items():
            points.sort()
            line, = ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=target)
            ax.plot([p[0] for p in points], [p[2] for p in points], "x:", color=line.get_color(),
                    alpha=0.6)
        written.append(save(fig, ax, unit, "seconds (o- run loop, x: total wall)",
                            f"{model}, {ok[0]['duration_s']} s biological",
                            out / f"time_{model}.png"))
        base = {size: run for size, run, _ in series.get(baseline, [])}
        if not base or len(series) < 2:
            continue
        fig, ax = plt.subplots(figsize=(6, 4.5))
        for target, points in series.items():
            if target == baseline:
                continue
            pairs = [(size, base[size] / run) for size, run, _ in sorted(points) if size in base]
            if pairs:
                ax.plot([p[0] for p in pairs], [p[1] for p in pairs], "o-", label=target)
        ax.axhline(1.0, color="grey", lw=0.8)
        written.append(save(fig, ax, unit, f"speedup over {baseline} (run loop)", model,
                            out / f"speedup_{model}.png"))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="small sizes, 0.1 s biological, spikec-cpu and brian2-numpy")
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), metavar="MODEL",
                        help=f"default: all ({', '.join(MODELS)})")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), metavar="TARGET",
                        help=f"default: all installed ({', '.join(TARGETS)}); "
                             "--quick: spikec-cpu brian2-numpy")
    parser.add_argument("--sizes", nargs="+", type=float,
                        help="sizes for every model (default: each model's own list)")
    parser.add_argument("--duration", type=float, help="biological seconds (default 1.0; quick 0.1)")
    parser.add_argument("--no-monitors", action="store_true",
                        help="no SpikeMonitor (the paper's setting); rows then have no spikes")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per point")
    parser.add_argument("--openmp-threads", type=int, default=0,
                        help="OpenMP threads for brian2-cpp (default 0: single-threaded)")
    parser.add_argument("--spikec-cpu-threads", default="1",
                        help="SPIKEC_CPU_THREADS for spikec-cpu (default 1: single-threaded, as "
                             "brian2-cpp's default; 'auto': spikec's policy)")
    parser.add_argument("--baseline", default=None,
                        help="target the speedup plots divide by (default brian2-cpp, else the "
                             "first Brian target run)")
    parser.add_argument("--out", default="benchmark-results", help="output folder")
    parser.add_argument("--merge", nargs="+", metavar="ROWS_JSON",
                        help="run nothing: combine these rows.json files into --out (table, plots)")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.one:
        child(options.one)
        return 0
    if options.merge:
        return merge(options.merge, Path(options.out), options.baseline)
    if str(ROOT) not in sys.path:  # `available` finds spikec in this checkout, as the children do
        sys.path.insert(0, str(ROOT))

    models = options.models or (QUICK_MODELS if options.quick else list(MODELS))
    targets = options.targets or (["spikec-cpu", "brian2-numpy"] if options.quick
                                  else list(TARGETS))
    duration = options.duration or (0.1 if options.quick else 1.0)
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    notes, runnable = [], []
    for target in targets:
        why = available(target)
        if why:
            notes.append(f"{target} skipped: {why}")
        else:
            runnable.append(target)
    for note in notes:
        print("note:", note, file=sys.stderr)
    points = []
    for model in models:
        sizes = ([int(s) for s in options.sizes] if options.sizes
                 else MODELS[model][2 if options.quick else 3])
        for size in sizes:
            for target in runnable:
                points.append((model, size, target))
    rows = []
    started = time.perf_counter()
    for k, (model, size, target) in enumerate(points):
        progress(k, len(points), started, f"{model} {size} {target}")
        row = run_point(model, size, target, duration, not options.no_monitors, options.timeout,
                        options.openmp_threads, options.spikec_cpu_threads)
        rows.append(row)
        (out / "rows.json").write_text(json.dumps(rows, indent=1))
    progress(len(points), len(points), started, "done")
    baseline = options.baseline or next(
        (t for t in ("brian2-cpp", "brian2-cython", "brian2-numpy") if t in runnable),
        runnable[0] if runnable else "")
    text = table(rows)
    (out / "table.md").write_text(text + "".join(f"\n{n}" for n in notes) + "\n")
    print(text)
    for note in notes:
        print("note:", note)
    for line in plots(rows, out, baseline):
        print(line if line.startswith("plots skipped") else f"plot: {line}")
    print(f"rows: {out / 'rows.json'} ({len(rows)} points, "
          f"{sum(r['status'] == 'ok' for r in rows)} ok, "
          f"{sum(r['status'] == 'skipped' for r in rows)} skipped, "
          f"{sum(r['status'] not in ('ok', 'skipped') for r in rows)} failed; "
          f"{time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
