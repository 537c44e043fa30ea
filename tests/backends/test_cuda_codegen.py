"""PTX generation on any machine: random modules and the samples compile, and ptxas accepts them."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings

from spikec.backends.abi import ModulePlan
from spikec.backends.cuda_codegen import absorbed_clears, find_libdevice, generate_ptx, lower_for_cuda
from spikec.errors import SpikecError
from tests.backends.samples import GATHER, NOISY_LIF, TWO_CLOCKS, parsed, random_spikes, uniform_recorder
from tests.ir.kernel_generator import kernel_modules


def _ptxas() -> str | None:
    try:
        from cuda import pathfinder

        found = pathfinder.find_nvidia_binary_utility("ptxas")
        if found:
            return found
    except Exception:
        pass
    return shutil.which("ptxas")


PTXAS = _ptxas()
needs_ptxas = pytest.mark.skipif(PTXAS is None, reason="ptxas not found: `pip install nvidia-cuda-nvcc-cu12`")


def ptx_of(module, arch: str = "sm_90", internalize: bool = True) -> str:
    return generate_ptx(lower_for_cuda(ModulePlan(module)), arch, internalize=internalize)


def assemble(ptx: str, tmp_path, arch: str = "sm_90") -> None:
    source = tmp_path / "module.ptx"
    source.write_text(ptx)
    result = subprocess.run([PTXAS, f"-arch={arch}", str(source), "-o", str(tmp_path / "module.cubin")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_libdevice_is_found():
    assert find_libdevice().name == "libdevice.10.bc"


def test_libdevice_in_the_named_cuda_home_comes_first(tmp_path, monkeypatch):
    """$CUDA_HOME's libdevice is taken without asking cuda-pathfinder (no import on a warm
    kernel-cache hit); a CUDA_HOME without one falls through to the other places."""
    named = tmp_path / "nvvm" / "libdevice" / "libdevice.10.bc"
    named.parent.mkdir(parents=True)
    named.write_bytes(b"BC")
    monkeypatch.setenv("CUDA_HOME", str(tmp_path))
    assert find_libdevice() == named
    monkeypatch.setenv("CUDA_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("CUDA_PATH", str(tmp_path))
    assert find_libdevice() == named
    monkeypatch.setenv("CUDA_PATH", str(tmp_path / "elsewhere"))
    try:
        assert find_libdevice() != named
    except SpikecError:  # no libdevice anywhere else on this machine
        pass


@needs_ptxas
@pytest.mark.parametrize("text", [NOISY_LIF, TWO_CLOCKS, GATHER, uniform_recorder(1000)])
def test_sample_modules_assemble(text, tmp_path):
    ptx = ptx_of(parsed(text))
    for entry in ("spikec_tick_begin", "spikec_tick_end"):
        assert f".visible .entry {entry}(" in ptx
    assemble(ptx, tmp_path)


@needs_ptxas
def test_other_architectures(tmp_path):
    assemble(ptx_of(parsed(NOISY_LIF), "sm_80"), tmp_path, "sm_80")


def test_internalized_libdevice_leaves_only_what_is_called():
    module = parsed(NOISY_LIF)
    small = ptx_of(module)
    assert ".func" not in small or "__nv_" not in small  # inlined or removed
    assert len(small) < 100_000
    assert len(ptx_of(module, internalize=False)) > 5 * len(small)


@needs_ptxas
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module=kernel_modules())
def test_random_modules_assemble(module, tmp_path_factory):
    assemble(ptx_of(module), tmp_path_factory.mktemp("ptx"))


@needs_ptxas
def test_multi_block_compaction_assembles_without_spills(tmp_path):
    ptx = ptx_of(parsed(random_spikes(100_000)))
    for entry in ("spikec_count_tiles_i32", "spikec_scatter_tiles_i32", "spikec_count_tiles_i64",
                  "spikec_scatter_tiles_i64", "spikec_tick_next"):
        assert f".visible .entry {entry}(" in ptx
    assert ".visible .entry spikec_compact_i32(" in ptx  # kept: one_block_limit can select it
    source = tmp_path / "module.ptx"
    source.write_text(ptx)
    result = subprocess.run([PTXAS, "-arch=sm_90", "-v", str(source), "-o", str(tmp_path / "m.cubin")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert " 0 bytes spill stores" in result.stderr and "bytes stack frame" in result.stderr
    assert not [line for line in result.stderr.splitlines() if "spill stores" in line
                and not line.strip().startswith("0 bytes stack frame, 0 bytes spill stores")]


def test_clears_absorbed_by_the_next_compaction():
    # random_spikes: clear P (leading: tick_begin), launch P.fire, clear Q, launch Q.relay (emits Q)
    assert absorbed_clears(ModulePlan(parsed(random_spikes(10)))) == {2: 3}
    # TWO_CLOCKS: the last clear is followed by no launch; NOISY_LIF's clear is a leading one
    assert absorbed_clears(ModulePlan(parsed(TWO_CLOCKS))) == {}
    assert absorbed_clears(ModulePlan(parsed(NOISY_LIF))) == {}
    # a kernel that reads the list it emits into (its index space) keeps its clear separate
    relay_reads_own = random_spikes(10).replace("kernel.clear_spikes @Q._spikespace {clock = @defaultclock}\n"
                                                "  kernel.launch @Q.relay",
                                                "kernel.clear_spikes @P._spikespace {clock = @defaultclock}\n"
                                                "  kernel.launch @Q.relay")
    assert absorbed_clears(ModulePlan(parsed(relay_reads_own))) == {}
