"""The kernel cache: in memory within a process, on disk across processes, and switched off."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np

from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable, compile_cpu
from spikec.backends.cuda import compile_cuda
from tests.backends.samples import NOISY_LIF, parsed

CHILD = textwrap.dedent("""
    import sys
    from spikec.backends.cache import CompileCache
    from spikec.backends.cpu import compile_cpu
    from spikec.backends.cuda import compile_cuda
    from tests.backends.samples import NOISY_LIF, parsed
    cache = CompileCache.from_environment()
    cpu = compile_cpu(parsed(NOISY_LIF), cache)
    ptx = compile_cuda(parsed(NOISY_LIF), "sm_90", cache)
    print(cpu.from_disk, ptx.from_disk, cache.statistics.misses)
""")


def test_a_second_compile_in_the_process_is_a_memory_hit():
    cache = CompileCache(None)
    first = compile_cpu(parsed(NOISY_LIF), cache)
    second = compile_cpu(parsed(NOISY_LIF), cache)  # a new but equal module
    assert second is first
    assert cache.statistics.memory_hits == 1 and cache.statistics.misses == 1
    assert compile_cuda(parsed(NOISY_LIF), "sm_90", cache) is compile_cuda(parsed(NOISY_LIF), "sm_90", cache)
    assert compile_cuda(parsed(NOISY_LIF), "sm_80", cache) is not compile_cuda(parsed(NOISY_LIF), "sm_90", cache)


def test_the_disk_cache_survives_the_process(tmp_path):
    path = os.pathsep.join([os.getcwd(), *filter(None, [os.environ.get("PYTHONPATH")])])
    environment = {**os.environ, "SPIKEC_CACHE_DIR": str(tmp_path), "PYTHONPATH": path}
    runs = [subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=environment)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout.split() == ["False", "False", "2"]
    assert runs[1].stdout.split() == ["True", "True", "0"]
    assert sorted(p.name.split(".", 1)[1] for p in tmp_path.iterdir()) == ["launch.json", "o", "ptx"]


def test_a_program_loaded_from_disk_runs_like_a_fresh_one(tmp_path):
    module = parsed(NOISY_LIF)
    fresh = CpuExecutable(module, {"G.v": np.linspace(0, 1, 100)}, seed=2, cache=CompileCache(tmp_path))
    again = CpuExecutable(module, {"G.v": np.linspace(0, 1, 100)}, seed=2, cache=CompileCache(tmp_path))
    assert again.program.from_disk and not fresh.program.from_disk
    fresh.run(10)
    again.run(10)
    np.testing.assert_array_equal(fresh.read("G.v"), again.read("G.v"))


def test_the_disk_cache_can_be_switched_off(monkeypatch):
    monkeypatch.setenv("SPIKEC_CACHE_DIR", "off")
    assert CompileCache.from_environment().directory is None


NETWORK = textwrap.dedent("""
    import hashlib
    import spikec
    from spikec.backends.cache import default_cache
    from benchmarks.models import brunel_hakim
    spikec.seed(3)
    net = brunel_hakim.build(spikec, 300, delays="heterogeneous")[0]
    net.run(5 * spikec.ms, namespace={})
    executable = net.build.executable
    digest = hashlib.sha256()
    for op in net.build.compiled.kernel_ir.ops:
        if op.name == "kernel.array":
            digest.update(executable.read(op.attributes["sym_name"].name).tobytes())
    statistics = default_cache().statistics
    print(statistics.misses, statistics.disk_hits, digest.hexdigest())
""")


def test_a_fresh_process_with_a_filled_cache_compiles_nothing(tmp_path):
    """Connect walkers, the CSR build's counting sort and the network's kernels all come from the
    disk cache in a second process (no LLVM optimization or code generation), and it simulates
    bit for bit as the first."""
    path = os.pathsep.join([os.getcwd(), *filter(None, [os.environ.get("PYTHONPATH")])])
    environment = {**os.environ, "SPIKEC_CACHE_DIR": str(tmp_path), "PYTHONPATH": path}
    runs = [subprocess.run([sys.executable, "-c", NETWORK], capture_output=True, text=True,
                           env=environment) for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    (misses, disk_hits, first), (misses_again, disk_hits_again, second) = (
        run.stdout.split() for run in runs)
    assert int(misses) >= 3 and int(disk_hits) == 0  # a connect walker, counting sort, kernels
    assert (int(misses_again), int(disk_hits_again)) == (0, int(misses))
    assert first == second
