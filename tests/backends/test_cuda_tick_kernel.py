"""The one-block tick kernel (`spikec.backends.cuda_tick_kernel`): its PTX and policy on any
machine, and (under `-m cuda`) the same results as the CPU on the modules the multi-kernel path is
tested with."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from spikec.backends import cuda_tick_kernel, get_backend
from spikec.backends.abi import ModulePlan
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.backends.cuda_codegen import generate_ptx
from spikec.backends.cuda_tick_kernel import choose_tick_block, lower_for_tick_kernel
from spikec.errors import SpikecError
from tests.backends.helpers import assert_arrays_match
from tests.backends.samples import GATHER, NOISY_LIF, TWO_CLOCKS, parsed, random_spikes, uniform_recorder
from tests.backends.synapse_samples import synapse_arrays, synapse_module
from tests.backends.test_cuda_codegen import PTXAS, needs_ptxas
from tests.ir.kernel_generator import kernel_modules

NO_DISK = CompileCache(None)
SAMPLES = [NOISY_LIF, TWO_CLOCKS, GATHER, uniform_recorder(1000), random_spikes(3000),
           synapse_module(300, 200, 4000)]


@pytest.fixture(autouse=True)
def policy_environment(monkeypatch):
    monkeypatch.delenv(cuda_tick_kernel.ENVIRONMENT, raising=False)
    monkeypatch.delenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, raising=False)


def tick_ptx(module, block: int = 1024) -> str:
    return generate_ptx(lower_for_tick_kernel(ModulePlan(module), block))


def ptxas_report(ptx: str, tmp_path) -> str:
    import subprocess

    source = tmp_path / "ticks.ptx"
    source.write_text(ptx)
    result = subprocess.run([PTXAS, "-arch=sm_90", "-v", str(source), "-o", str(tmp_path / "ticks.cubin")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return result.stderr


# -- PTX (any machine) -------------------------------------------------------------------------------
@needs_ptxas
@pytest.mark.parametrize("text", SAMPLES, ids=["lif", "two-clocks", "gather", "uniforms", "spikes", "synapses"])
@pytest.mark.parametrize("block", [1024, 256])
def test_one_entry_that_assembles_within_the_block_register_budget(text, block, tmp_path):
    ptx = tick_ptx(parsed(text), block)
    assert re.findall(r"\.visible \.entry (\w+)\(", ptx) == ["spikec_ticks"]
    assert re.search(rf"\.maxntid {block}\b", ptx)
    registers = int(re.search(r"Used (\d+) registers", ptxas_report(ptx, tmp_path)).group(1))
    assert registers <= 65536 // block


def test_the_schedule_runs_in_order_with_barriers_between_steps():
    """TWO_CLOCKS: update (emits), its compaction, count_spikes, the clear on the slow clock."""
    lowered = lower_for_tick_kernel(ModulePlan(parsed(TWO_CLOCKS)), 1024).lowered
    text = str(lowered.llvm_module)
    body = text[text.index('@"spikec_ticks"('):]
    calls = re.findall(r'call void @"(spikec_k\d+_\w+|spikec_compact_i\d+|llvm\.nvvm\.barrier0)"', body)
    steps = ["spikec_k0_G_update", "spikec_compact_i64", "spikec_k1_G_count_spikes"]
    assert [c for c in calls if c != "llvm.nvvm.barrier0"] == steps
    for step in steps:  # each step is followed by a barrier
        assert calls[calls.index(step) + 1] == "llvm.nvvm.barrier0"
    # the clear of the slow clock's list, then the tick end, each followed by a barrier too
    assert calls.count("llvm.nvvm.barrier0") == 1 + 3 + 2
    assert any("overflows" in message and "@G.update" in message for message in lowered.errors)


@needs_ptxas
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module=kernel_modules())
def test_random_modules_assemble_as_tick_kernels(module, tmp_path_factory):
    ptxas_report(tick_ptx(module), tmp_path_factory.mktemp("ptx"))


# -- the policy -----------------------------------------------------------------------------------------
def test_small_modules_take_the_tick_kernel_with_whole_warps():
    assert choose_tick_block(ModulePlan(parsed(NOISY_LIF))) == 128        # 100 positions
    assert choose_tick_block(ModulePlan(parsed(random_spikes(3000)))) == 1024
    # above 256 threads a multiple of 256, so push rows may keep groups of up to 256 lanes
    assert choose_tick_block(ModulePlan(parsed(random_spikes(300)))) == 512
    assert choose_tick_block(ModulePlan(parsed(random_spikes(20_000)))) is None   # too many positions


def test_too_much_work_per_tick_keeps_the_multi_kernel_path(monkeypatch):
    plan = ModulePlan(parsed(uniform_recorder(2000)))
    assert choose_tick_block(plan) == 1024
    monkeypatch.setattr(cuda_tick_kernel, "MAX_WORK", cuda_tick_kernel.work_per_tick(plan) - 1)
    assert choose_tick_block(plan) is None
    assert choose_tick_block(plan, True) == 1024      # forced


def test_the_option_and_the_environment_force_either_path(monkeypatch):
    small, large = ModulePlan(parsed(NOISY_LIF)), ModulePlan(parsed(random_spikes(20_000)))
    assert choose_tick_block(small, False) is None and choose_tick_block(large, "on") == 1024
    monkeypatch.setenv(cuda_tick_kernel.ENVIRONMENT, "1")
    assert choose_tick_block(large) == 1024
    assert choose_tick_block(large, "auto") is None   # the option wins
    monkeypatch.setenv(cuda_tick_kernel.ENVIRONMENT, "0")
    assert choose_tick_block(small) is None
    monkeypatch.setenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, "512")
    assert choose_tick_block(small, True) == 512
    with pytest.raises(SpikecError, match="does not choose"):
        choose_tick_block(small, "maybe")
    monkeypatch.setenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, "100")
    with pytest.raises(SpikecError, match="multiple of 32"):
        choose_tick_block(small, True)


def test_too_many_parameters_for_one_launch(monkeypatch):
    plan = ModulePlan(parsed(NOISY_LIF))
    monkeypatch.setattr(cuda_tick_kernel, "MAX_PARAMETERS", 2)
    assert choose_tick_block(plan) is None
    with pytest.raises(SpikecError, match="parameters"):
        choose_tick_block(plan, True)


# -- on the GPU: the same results as the CPU -------------------------------------------------------------
def both(module, arrays=None, seed=0, **options):
    options.setdefault("tick_kernel", True)
    gpu = get_backend("cuda").executable(module, arrays, seed, cache=NO_DISK, **options)
    assert gpu.tick_block == (cuda_tick_kernel.choose_tick_block(gpu.plan, options["tick_kernel"]))
    return CpuExecutable(module, arrays, seed, cache=NO_DISK), gpu


def read_all(executable) -> dict:
    return {name: executable.read(name) for name in executable.plan.arrays}


def compare(cpu, gpu, chunks, exact=True):
    for chunk in chunks:
        cpu.run(chunk)
        gpu.run(chunk)
        assert gpu.clock_steps == cpu.clock_steps
        assert_arrays_match(read_all(cpu), read_all(gpu), exact=exact)


# Around the block (1024 threads) and the compaction's chunk (8192 positions), all/none spiking.
@pytest.mark.cuda
@pytest.mark.parametrize("n, p", [(100, 0.3), (1023, 0.3), (1025, 0.3), (5000, 1.0), (8192, 0.3),
                                  (8193, 0.5), (20_000, 0.3), (3000, 0.0)])
def test_spike_lists_match_the_cpu(n, p):
    cpu, gpu = both(parsed(random_spikes(n, p)), seed=n)
    assert gpu.graph is None
    compare(cpu, gpu, (1, 1, 5, 16, 33))
    spikes = gpu.read("P._spikespace")
    assert (spikes[-1] > 0) == (p > 0)


@pytest.mark.cuda
@pytest.mark.parametrize("block", ["32", "256"])
def test_blocks_smaller_than_the_positions(block, monkeypatch):
    monkeypatch.setenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, block)
    cpu, gpu = both(parsed(random_spikes(3000)), seed=2)
    assert gpu.tick_block == int(block)
    compare(cpu, gpu, (1, 7, 20))


@pytest.mark.cuda
def test_clocks_not_due_and_clears_on_other_clocks():
    from tests.backends.test_cuda_executable import CLEAR_ON_ANOTHER_CLOCK

    cpu, gpu = both(parsed(TWO_CLOCKS), seed=9)
    compare(cpu, gpu, (1, 3, 4, 17, 40))
    cpu, gpu = both(parsed(CLEAR_ON_ANOTHER_CLOCK), seed=3)
    compare(cpu, gpu, (1, 1, 2, 7, 30))


@pytest.mark.cuda
def test_noise_and_chosen_by_the_policy():
    v0 = {"G.v": np.linspace(0, 1, 100)}
    cpu, gpu = both(parsed(NOISY_LIF), v0, seed=4, tick_kernel=None)
    assert gpu.tick_block == 128
    for _ in range(20):
        cpu.run(1)
        gpu.run(1)
        np.testing.assert_array_equal(gpu.read("G._spikespace"), cpu.read("G._spikespace"))
    np.testing.assert_allclose(gpu.read("G.v"), cpu.read("G.v"), rtol=1e-12)


@pytest.mark.cuda
@pytest.mark.parametrize("n_pre, n_post, n_syn, p", [(255, 257, 3000, 0.3), (1, 300, 600, 1.0),
                                                      (3000, 3000, 30_000, 1.0), (1000, 1000, 20_000, 0.0)])
def test_push_and_pull_match_the_cpu(n_pre, n_post, n_syn, p):
    from tests.backends.test_synapse_spaces_cuda import compare as compare_synapses

    cpu, gpu = both(parsed(synapse_module(n_pre, n_post, n_syn, p)),
                    synapse_arrays(n_pre, n_post, n_syn, n_syn), 11)
    compare_synapses(cpu, gpu, (1, 1, 5, 16, 17))
