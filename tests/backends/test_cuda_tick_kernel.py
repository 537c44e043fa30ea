"""The one-block tick kernel (`spikec.backends.cuda_tick_kernel`): its PTX and policy on any
machine, and (under `-m cuda`) the same results as the CPU on the modules the multi-kernel path is
tested with."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from spikec.backends import cuda_tick_kernel, get_backend
from spikec.backends.abi import ModulePlan
from spikec.backends.cache import CompileCache
from spikec.backends.cpu import CpuExecutable
from spikec.backends.cuda_codegen import generate_ptx
from spikec.backends.cuda_tick_kernel import TickShape, choose_tick_shape, lower_for_tick_kernel
from spikec.errors import SpikecError
from tests.backends.helpers import assert_arrays_match
from tests.backends.samples import (GATHER, NOISY_LIF, TWO_CLOCKS, own_elements, parsed, random_spikes,
                                   uniform_recorder)
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
    monkeypatch.delenv(cuda_tick_kernel.TIMERS_ENVIRONMENT, raising=False)


def tick_ptx(module, block: int = 1024, grid: bool = False) -> str:
    return tick_ptx_shape(module, TickShape(block, grid))


def tick_ptx_shape(module, shape: TickShape) -> str:
    return generate_ptx(lower_for_tick_kernel(ModulePlan(module), shape))


def choose_tick_block(plan, option=None) -> int | None:
    """The one-block shape's threads (None: not the one-block tick kernel)."""
    shape = choose_tick_shape(plan, option)
    assert shape is None or not shape.grid
    return shape.threads if shape else None


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
@pytest.mark.parametrize("block, grid, cluster", [(1024, False, False), (256, False, False), (256, True, False),
                                                  (64, True, True)])
def test_one_entry_that_assembles_within_the_block_register_budget(text, block, grid, cluster, tmp_path):
    ptx = tick_ptx_shape(parsed(text), TickShape(block, grid, cluster=cluster))
    assert re.findall(r"\.visible \.entry (\w+)\(", ptx) == ["spikec_ticks"]
    assert re.search(rf"\.maxntid {block}\b", ptx)
    registers = int(re.search(r"Used (\d+) registers", ptxas_report(ptx, tmp_path)).group(1))
    assert registers <= 65536 // block


def entry_calls(shape: TickShape, text: str = TWO_CLOCKS) -> tuple[list[str], list[str]]:
    lowered = lower_for_tick_kernel(ModulePlan(parsed(text)), shape).lowered
    llvm = str(lowered.llvm_module)
    body = llvm[llvm.index('@"spikec_ticks"('):]
    pattern = (r'call (?:void|i32) @"(spikec_k\d+_\w+|spikec_compact_i\d+|spikec_tile_\w+_i\d+|'
               r'llvm\.nvvm\.barrier0(?:\.popc)?|llvm\.nvvm\.barrier\.cluster\.\w+)"|(atomicrmw)')
    calls = ["grid" if atomic else call for call, atomic in re.findall(pattern, body)]
    return calls, lowered.errors


def test_the_schedule_runs_in_order_with_barriers_where_steps_depend():
    """TWO_CLOCKS: update (emits), its compaction, count_spikes (reads the list), the clear on the
    slow clock (writes it): each depends on the one before, so a barrier separates each pair."""
    calls, errors = entry_calls(TickShape(1024))
    steps = ["spikec_k0_G_update", "spikec_compact_i64", "spikec_k1_G_count_spikes"]
    assert [c for c in calls if c != "llvm.nvvm.barrier0"] == steps
    for step in steps:  # each step is followed by a barrier
        assert calls[calls.index(step) + 1] == "llvm.nvvm.barrier0"
    # the tick begin, the blocks' copies of the clocks' words, the three steps, the clear, then
    # the tick end: a barrier after each
    assert calls.count("llvm.nvvm.barrier0") == 1 + 1 + 3 + 1 + 1
    assert any("overflows" in message and "@G.update" in message for message in errors)


@pytest.mark.parametrize("tiled", [False, True], ids=["one-block-compaction", "tiles"])
@pytest.mark.parametrize("inline", [cuda_tick_kernel.INLINE_CHUNK_LAUNCHES, 0], ids=["inline", "table"])
def test_the_grid_barrier_is_a_block_barrier_an_atomic_arrival_and_a_block_barrier(inline, tiled, monkeypatch):
    """Each barrier of the one-block entry but two becomes block barrier, atomic arrival, block
    barrier (the two after the blocks' copies of the clocks' words and after the tick's end stay
    block barriers: each block advances its own copy); and each phase with launches takes its
    chunks in a loop (thread 0's atomic add on the phase's counter between two block barriers;
    TWO_CLOCKS: two such phases), after building its chunk
    table where it has more than INLINE_CHUNK_LAUNCHES launches (a block barrier after the
    counts' warp sums, one after the table); a compaction by tiles (G.update has fixed positions,
    so at any size) becomes the emitting chunk's counting barrier, then the tiles' scatters: no
    barrier more than one block per list (`compacts_in_tiles` false forces that one).
    Calls in text order (the loop's blocks are not in program order), so counted."""
    monkeypatch.setattr(cuda_tick_kernel, "INLINE_CHUNK_LAUNCHES", inline)
    if not tiled:
        monkeypatch.setattr(cuda_tick_kernel, "compacts_in_tiles", lambda shape: False)
    one_block, _ = entry_calls(TickShape(256))
    grid, _ = entry_calls(TickShape(256, grid=True))
    grid_barriers = one_block.count("llvm.nvvm.barrier0") - 2
    assert one_block.count("spikec_compact_i64") == 1
    assert grid.count("grid") == grid_barriers + 2
    assert grid.count("llvm.nvvm.barrier0") == 2 * grid_barriers + 2 + 2 * 2 + (0 if inline else 2 * 2)
    assert grid.count("llvm.nvvm.barrier0.popc") == (1 if tiled else 0)
    assert "spikec_tile_count_i64" not in grid
    in_tiles = {"spikec_tile_scatter_i64": ["spikec_compact_i64"], "llvm.nvvm.barrier0.popc": []}
    assert [d for c in grid if c not in ("grid", "llvm.nvvm.barrier0") for d in in_tiles.get(c, [c])] == \
        [c for c in one_block if c != "llvm.nvvm.barrier0"]


def test_the_cluster_barrier_replaces_the_grid_barrier():
    """On a cluster each grid barrier (block barrier, atomic arrival, block barrier) becomes the
    hardware's arrive and wait, which also waits for the block; the block barriers, the chunks'
    atomic adds (one per phase with launches: two in TWO_CLOCKS) and the steps stay as on a grid."""
    grid, _ = entry_calls(TickShape(64, grid=True))
    cluster, _ = entry_calls(TickShape(64, grid=True, cluster=True))
    barriers = grid.count("grid") - 2
    assert cluster.count("grid") == 2
    assert cluster.count("llvm.nvvm.barrier.cluster.arrive") == cluster.count("llvm.nvvm.barrier.cluster.wait") \
        == barriers
    assert cluster.count("llvm.nvvm.barrier0") == grid.count("llvm.nvvm.barrier0") - 2 * barriers
    arrive_wait = ["llvm.nvvm.barrier.cluster.arrive", "llvm.nvvm.barrier.cluster.wait"]
    assert [c for c in cluster if c not in arrive_wait + ["grid", "llvm.nvvm.barrier0"]] == \
        [c for c in grid if c not in ("grid", "llvm.nvvm.barrier0")]
    ptx = tick_ptx_shape(parsed(TWO_CLOCKS), TickShape(64, grid=True, cluster=True))
    assert "barrier.cluster.arrive;" in ptx and "barrier.cluster.wait;" in ptx
    assert "membar.gl" not in ptx


def test_the_cluster_shape_is_chosen_with_clusters_between_one_block_and_its_limit(monkeypatch):
    """Above one block's work and up to CLUSTER_MAX_POSITIONS positions per phase a GPU with clusters takes
    the cluster, its blocks as small as spread the largest kernel over CLUSTER_MAX_BLOCKS;
    without clusters, or above the limit, the grid; forcing it without clusters is an error."""
    plan = ModulePlan(parsed(uniform_recorder(1000)))
    monkeypatch.setattr(cuda_tick_kernel, "MAX_WORK", cuda_tick_kernel.work_per_tick(plan) - 1)
    assert choose_tick_shape(plan, clusters=True) == TickShape(64, grid=True, cluster=True)
    # the grid, its blocks spread over THREAD_TICK_BLOCKS (the ticks are thread-local)
    assert choose_tick_shape(plan) == TickShape(32, grid=True)
    assert str(choose_tick_shape(plan, "cluster", clusters=True)) == "cluster64"
    monkeypatch.setattr(cuda_tick_kernel, "CLUSTER_MAX_POSITIONS", 999)
    assert choose_tick_shape(plan, clusters=True) == TickShape(32, grid=True)
    sizes = {n: cuda_tick_kernel.cluster_threads(ModulePlan(parsed(uniform_recorder(n))))
             for n in (100, 512, 513, 1000, 4096, 20_000)}
    assert sizes == {100: 32, 512: 32, 513: 64, 1000: 64, 4096: 256, 20_000: 256}
    with pytest.raises(SpikecError, match="thread-block clusters"):
        choose_tick_shape(plan, "cluster")
    assert [cuda_tick_kernel.has_clusters(arch) for arch in ("sm_80", "sm_89", "sm_90", "sm_90a", "sm_100")] == \
        [False, False, True, True, True]
    with pytest.raises(ValueError, match="is a grid"):
        TickShape(64, cluster=True)


def test_ticks_where_each_thread_keeps_to_its_own_elements():
    """Launches over elements that write only their own element and read what a step writes only
    there, no lists, no clears, and each written array at the same chunk of every phase: the ticks
    are thread-local. A list, a clear or a read of another element's value is not; nor an array
    whose element is on another thread in another phase (`b_first`: A.update starts at B's last
    chunk, A.mirror at chunk 0)."""
    local = ModulePlan(parsed(own_elements(1000, 300)))
    assert cuda_tick_kernel.thread_local_ticks(local, 64)
    assert cuda_tick_kernel.thread_local_ticks(ModulePlan(parsed(uniform_recorder(500))), 32)
    assert not cuda_tick_kernel.thread_local_ticks(ModulePlan(parsed(own_elements(1000, 300, b_first=True))), 64)
    for text in (TWO_CLOCKS, NOISY_LIF, GATHER, synapse_module(300, 200, 4000)):
        assert not cuda_tick_kernel.thread_local_ticks(ModulePlan(parsed(text)), 64)
    # each thread runs its element's ticks alone (`build_thread_ticks`): one barrier, after every
    # thread read the state's clocks (a grid barrier, or the cluster's arrive and wait), then the
    # chunk and tick loops hold the three launches and no barrier at all
    launches = ["spikec_k0_A_update", "spikec_k1_B_update", "spikec_k2_A_mirror"]
    calls, _ = entry_calls(TickShape(64, grid=True), own_elements(1000, 300))
    assert calls == ["llvm.nvvm.barrier0", "grid", "llvm.nvvm.barrier0"] + launches
    calls, _ = entry_calls(TickShape(64, grid=True, cluster=True), own_elements(1000, 300))
    assert calls == ["llvm.nvvm.barrier.cluster.arrive", "llvm.nvvm.barrier.cluster.wait"] + launches
    # with timers the ticks stay in step: block barriers between phases and ticks, no grid barrier
    # but the first (the timers' words are atomics, counted as "grid" here, after each launch)
    calls, _ = entry_calls(TickShape(64, grid=True, timers=True), own_elements(1000, 300))
    assert calls.count("llvm.nvvm.barrier0") > 3 and calls.index("spikec_k0_A_update") > 3
    calls, _ = entry_calls(TickShape(64, grid=True), own_elements(1000, 300, b_first=True))
    assert calls.count("grid") > 1


def test_tiles_of_a_list_over_spikes_are_counted_after_a_grid_barrier(monkeypatch):
    """random_spikes: P.fire (fixed positions) counts its flags in its chunks; Q.relay runs over
    P's spikes (chunks of spikes, not of positions), so its tiles count their flags after the
    phase's barrier, then a grid barrier, then its tiles scatter; that only where its list has
    more than TILED_COMPACTION_MIN_TILES tiles (20,000 positions: 10 of 2048), else one block
    compacts it."""
    calls, _ = entry_calls(TickShape(256, grid=True), random_spikes(20_000))
    fire, relay = calls.index("spikec_k0_P_fire"), calls.index("spikec_k1_Q_relay")
    assert calls[fire + 1] == "llvm.nvvm.barrier0.popc"
    assert "llvm.nvvm.barrier0.popc" not in calls[relay:]
    after_relay = calls[relay:]
    count = after_relay.index("spikec_tile_count_i64")
    assert after_relay[count + 1:count + 4] == ["llvm.nvvm.barrier0", "grid", "llvm.nvvm.barrier0"]
    assert after_relay[count + 4] == "spikec_tile_scatter_i64"
    calls, _ = entry_calls(TickShape(256, grid=True), random_spikes(16_384))  # 8 tiles
    relay = calls.index("spikec_k1_Q_relay")
    assert "spikec_compact_i64" in calls[relay:] and "spikec_tile_count_i64" not in calls
    assert calls[calls.index("spikec_k0_P_fire") + 1] == "llvm.nvvm.barrier0.popc"


def test_independent_steps_share_a_phase():
    """A barrier separates two consecutive launches exactly when the second depends on the first
    (reads what it wrote or emitted, or writes what it touched), on a module with pushes."""
    text = synapse_module(300, 200, 4000)
    plan = ModulePlan(parsed(text))
    lowered = lower_for_tick_kernel(plan, TickShape(256)).lowered
    kernel_of = {abi.function_name: abi.kernel for abi in lowered.kernels.values()}
    calls, _ = entry_calls(TickShape(256), text)
    launches = [i for i, call in enumerate(calls) if call in kernel_of]
    pairs = 0
    for i, j in zip(launches, launches[1:]):
        if any(call.startswith("spikec_compact") for call in calls[i:j]):
            continue
        reads_a, writes_a, emits_a = cuda_tick_kernel.step_accesses(plan, kernel_of[calls[i]])
        reads_b, writes_b, emits_b = cuda_tick_kernel.step_accesses(plan, kernel_of[calls[j]])
        depends = reads_b & (writes_a | emits_a) or (writes_b | emits_b) & (reads_a | writes_a | emits_a)
        assert ("llvm.nvvm.barrier0" in calls[i:j]) == bool(depends), (calls[i], calls[j])
        pairs += 1
    assert pairs > 0


@pytest.mark.parametrize("grid", [False, True], ids=["block", "grid"])
def test_timers_read_the_global_timer_after_each_barrier_of_a_tick(grid):
    """TWO_CLOCKS has four intervals (the clear of the list and update, its compaction,
    count_spikes, the clear on the slow clock; the tick's end counts in the next tick's first);
    the timed entry reads %globaltimer once before the loop and once after each of them."""
    plan = ModulePlan(parsed(TWO_CLOCKS))
    assert cuda_tick_kernel.tick_intervals(plan) == [
        "phase 0: clear G._spikespace, G.update", "phase 0 compactions: G._spikespace",
        "phase 1: G.count_spikes", "phase 2: clear G._spikespace"]
    timed = str(lower_for_tick_kernel(plan, TickShape(256, grid, timers=True)).lowered.llvm_module)
    plain = str(lower_for_tick_kernel(plan, TickShape(256, grid)).lowered.llvm_module)
    assert cuda_tick_kernel.tick_launches(plan) == ["G.update", "G.count_spikes"]
    # once before the loop, after each interval's barrier, before and after each launch
    assert timed.count("call i64 @\"llvm.nvvm.read.ptx.sreg.globaltimer\"()") == 1 + 4 + 2 * 2
    assert "globaltimer" not in plain
    untimed_calls, _ = entry_calls(TickShape(256, grid))
    timed_calls, _ = entry_calls(TickShape(256, grid, timers=True))
    steps = [call for call in untimed_calls if call not in ("grid", "llvm.nvvm.barrier0")]
    assert [call for call in timed_calls if call not in ("grid", "llvm.nvvm.barrier0")] == steps
    # a block barrier after each launch (the block's time), the same grid barriers
    assert timed_calls.count("llvm.nvvm.barrier0") == untimed_calls.count("llvm.nvvm.barrier0") + 2


def test_long_push_rows_span_chunks_on_the_grid():
    """On the grid a row's lanes may span blocks' chunks: about two iterations per lane up to
    GRID_MAX_LANES; one block keeps groups within the block; (1, 300, 600): one row of 600."""
    assert [cuda_tick_kernel.grid_lanes(mean, 256) for mean in (100, 453, 600, 1117, 5000)] == \
        [256, 256, 512, 1024, 1024]
    plan = ModulePlan(parsed(synapse_module(1, 300, 600, 1.0)))
    grid = lower_for_tick_kernel(plan, TickShape(256, grid=True)).lowered
    block = lower_for_tick_kernel(plan, TickShape(256)).lowered
    assert sorted(abi.row_lanes for abi in grid.kernels.values())[-1] == 512
    assert sorted(abi.row_lanes for abi in block.kernels.values())[-1] == 256


def test_the_timers_environment(monkeypatch):
    plan = ModulePlan(parsed(TWO_CLOCKS))
    monkeypatch.setenv(cuda_tick_kernel.TIMERS_ENVIRONMENT, "1")
    assert choose_tick_shape(plan, "grid") == TickShape(cuda_tick_kernel.GRID_BLOCK, grid=True, timers=True)
    assert str(choose_tick_shape(plan, True)).endswith("+timers")  # a separate kernel-cache entry
    monkeypatch.setenv(cuda_tick_kernel.TIMERS_ENVIRONMENT, "sometimes")
    with pytest.raises(SpikecError, match="SPIKEC_CUDA_TICK_TIMERS"):
        choose_tick_shape(plan, True)


@needs_ptxas
@pytest.mark.parametrize("grid", [False, True], ids=["block", "grid"])
def test_a_timed_entry_assembles(grid, tmp_path):
    ptxas_report(tick_ptx_shape(parsed(synapse_module(300, 200, 4000)), TickShape(256, grid, timers=True)),
                 tmp_path)


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
    # too many positions for one block: the grid up to GRID_MAX_POSITIONS, then launches
    assert choose_tick_shape(ModulePlan(parsed(random_spikes(20_000)))) == TickShape(cuda_tick_kernel.GRID_BLOCK, True)
    assert choose_tick_shape(ModulePlan(parsed(random_spikes(40_000)))) is None


def test_a_phase_with_more_launches_than_threads_keeps_launches(monkeypatch):
    """The grid's chunk table counts a launch per thread: a phase of more launches than a block
    has threads does not take the grid, and forced onto it is an error saying what to do."""
    plan = ModulePlan(parsed(random_spikes(20_000)))
    assert cuda_tick_kernel.most_launches_in_a_phase(plan) == 1
    assert choose_tick_shape(plan) == TickShape(cuda_tick_kernel.GRID_BLOCK, True)
    monkeypatch.setattr(cuda_tick_kernel, "most_launches_in_a_phase", lambda plan, phases=None: 300)
    assert choose_tick_shape(plan) is None
    with pytest.raises(SpikecError, match="phase of 300 launches, more than its 256 threads") as error:
        lower_for_tick_kernel(plan, TickShape(256, grid=True))
    assert "SPIKEC_CUDA_TICK_KERNEL=0" in error.value.hint


def test_too_much_work_per_tick_for_one_block_takes_the_grid(monkeypatch):
    """uniform_recorder's ticks are thread-local: the grid at any size (`build_thread_ticks`), its
    blocks as small as spread the launch over THREAD_TICK_BLOCKS; a schedule that is not takes
    blocks of GRID_BLOCK up to GRID_MAX_POSITIONS, then launches."""
    plan = ModulePlan(parsed(uniform_recorder(2000)))
    assert choose_tick_block(plan) == 1024
    monkeypatch.setattr(cuda_tick_kernel, "MAX_WORK", cuda_tick_kernel.work_per_tick(plan) - 1)
    assert choose_tick_shape(plan) == TickShape(32, grid=True)
    assert choose_tick_block(plan, True) == 1024      # forced
    monkeypatch.setattr(cuda_tick_kernel, "GRID_MAX_POSITIONS", 0)
    assert choose_tick_shape(plan) == TickShape(32, grid=True)
    sizes = {n: choose_tick_shape(ModulePlan(parsed(uniform_recorder(n)))).threads
             for n in (5000, 10_000, 40_000, 1_000_000)}
    assert sizes == {5000: 64, 10_000: 128, 40_000: 256, 1_000_000: 256}
    monkeypatch.setattr(cuda_tick_kernel, "thread_local_ticks", lambda plan, threads, phases=None: False)
    assert choose_tick_shape(plan) is None
    monkeypatch.setattr(cuda_tick_kernel, "GRID_MAX_POSITIONS", 2000)
    assert choose_tick_shape(plan) == TickShape(cuda_tick_kernel.GRID_BLOCK, grid=True)


def test_the_option_and_the_environment_force_either_path(monkeypatch):
    small, large = ModulePlan(parsed(NOISY_LIF)), ModulePlan(parsed(random_spikes(40_000)))
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


def test_the_entry_takes_a_table_not_one_parameter_per_array():
    """(table, state, barrier, ticks) whatever the number of arrays: a launch takes at most 4 KB
    of parameters, fewer than the microcircuit's ~450 arrays would need."""
    for text in (NOISY_LIF, synapse_module(300, 200, 4000)):
        ptx = tick_ptx(parsed(text), 256, grid=True)
        entry = ptx[ptx.index(".entry spikec_ticks("):]
        assert len(re.findall(r"spikec_ticks_param_\d+", entry[:entry.index(")")])) == 4


def test_the_grid_shape_is_forced_or_chosen_below_its_limit(monkeypatch):
    large = ModulePlan(parsed(random_spikes(20_000)))
    assert choose_tick_shape(large, "grid") == TickShape(cuda_tick_kernel.GRID_BLOCK, grid=True)
    monkeypatch.setattr(cuda_tick_kernel, "GRID_MAX_POSITIONS", 20_000)
    assert choose_tick_shape(large) == TickShape(cuda_tick_kernel.GRID_BLOCK, grid=True)
    monkeypatch.setattr(cuda_tick_kernel, "GRID_MAX_POSITIONS", 19_999)
    assert choose_tick_shape(large) is None
    monkeypatch.setenv(cuda_tick_kernel.ENVIRONMENT, "grid")
    monkeypatch.setenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, "512")
    assert choose_tick_shape(large) == TickShape(512, grid=True)


# -- on the GPU: the same results as the CPU -------------------------------------------------------------
def both(module, arrays=None, seed=0, **options):
    options.setdefault("tick_kernel", True)
    options.setdefault("cache", NO_DISK)
    gpu = get_backend("cuda").executable(module, arrays, seed, **options)
    assert gpu.tick_shape == cuda_tick_kernel.choose_tick_shape(gpu.plan, options["tick_kernel"], gpu.clusters)
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
SHAPES = pytest.mark.parametrize("shape", [True, "grid", "cluster"], ids=["block", "grid", "cluster"])


@pytest.mark.cuda
@SHAPES
@pytest.mark.parametrize("n, p", [(100, 0.3), (1023, 0.3), (1025, 0.3), (5000, 1.0), (8192, 0.3),
                                  (8193, 0.5), (20_000, 0.3), (3000, 0.0)])
def test_spike_lists_match_the_cpu(n, p, shape):
    cpu, gpu = both(parsed(random_spikes(n, p)), seed=n, tick_kernel=shape)
    assert gpu.graph is None
    compare(cpu, gpu, (1, 1, 5, 16, 33))
    spikes = gpu.read("P._spikespace")
    assert (spikes[-1] > 0) == (p > 0)


@pytest.mark.cuda
@pytest.mark.parametrize("shape", ["grid", "cluster"])
@pytest.mark.parametrize("block", ["32", "256"])
def test_more_chunks_than_blocks_on_the_grid(block, shape, monkeypatch):
    """200,000 positions are 782 chunks of 256 (6250 of 32): more than the blocks the GPU holds at
    once (or a cluster has), so blocks take chunks from the phase's counter, tick after tick (the
    counter reset)."""
    monkeypatch.setenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, block)
    cpu, gpu = both(parsed(random_spikes(200_000, 0.3)), seed=3, tick_kernel=shape)
    positions = max(launch.position_capacity for launch in gpu.program.launch.kernels)
    assert -(-positions // int(block)) > gpu.tick_blocks
    compare(cpu, gpu, (1, 2, 9))


@pytest.mark.cuda
@pytest.mark.parametrize("block", ["32", "256"])
def test_blocks_smaller_than_the_positions(block, monkeypatch):
    monkeypatch.setenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, block)
    cpu, gpu = both(parsed(random_spikes(3000)), seed=2)
    assert gpu.tick_shape.threads == int(block)
    compare(cpu, gpu, (1, 7, 20))


@pytest.mark.cuda
@pytest.mark.parametrize("shape", ["grid", "cluster", "grid+timers"])
@pytest.mark.parametrize("block", ["32", "256"])
@pytest.mark.parametrize("b_first", [False, True], ids=["thread-local", "not-thread-local"])
def test_thread_local_ticks_match_the_cpu(b_first, block, shape, monkeypatch):
    """5000 elements are 157 chunks of 32: more than the blocks, which take them in a fixed order
    (and, thread-local, run all the ticks of a chunk before the next: `build_thread_ticks`; with
    timers, tick by tick with block barriers); B on a slower clock; the same module with A's
    elements on other threads in each phase keeps its barriers. Compared after each run of ticks."""
    monkeypatch.setenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, block)
    if shape.endswith("+timers"):
        monkeypatch.setenv(cuda_tick_kernel.TIMERS_ENVIRONMENT, "1")
        shape = shape.removesuffix("+timers")
    cpu, gpu = both(parsed(own_elements(5000, 700, b_first)), seed=4, tick_kernel=shape)
    assert cuda_tick_kernel.thread_local_ticks(gpu.plan, int(block)) is not b_first
    compare(cpu, gpu, (1, 2, 7, 30))


@pytest.mark.cuda
@SHAPES
def test_clocks_not_due_and_clears_on_other_clocks(shape):
    from tests.backends.test_cuda_executable import CLEAR_ON_ANOTHER_CLOCK

    cpu, gpu = both(parsed(TWO_CLOCKS), seed=9, tick_kernel=shape)
    compare(cpu, gpu, (1, 3, 4, 17, 40))
    cpu, gpu = both(parsed(CLEAR_ON_ANOTHER_CLOCK), seed=3, tick_kernel=shape)
    compare(cpu, gpu, (1, 1, 2, 7, 30))


@pytest.mark.cuda
@pytest.mark.parametrize("model", ["pushes-and-pulls", "more-chunks-than-blocks"])
def test_the_chunk_table_matches_the_cpu(model, monkeypatch):
    """Phases find their chunks' launches through the chunk table (`chunk_table`, forced for
    every phase here), with one to three launches per phase, and more chunks than blocks."""
    from tests.backends.test_synapse_spaces_cuda import compare as compare_synapses

    monkeypatch.setattr(cuda_tick_kernel, "INLINE_CHUNK_LAUNCHES", 0)
    if model == "pushes-and-pulls":
        module, arrays = parsed(synapse_module(300, 200, 4000)), synapse_arrays(300, 200, 4000, seed=5)
        cpu, gpu = both(module, arrays, 5, tick_kernel="grid", cache=CompileCache(None))
        compare_synapses(cpu, gpu, (1, 5, 40))
    else:
        cpu, gpu = both(parsed(random_spikes(200_000, 0.3)), seed=3, tick_kernel="grid", cache=CompileCache(None))
        compare(cpu, gpu, (1, 2, 9))
    assert "spikec_ticks_$_firsts" in gpu.program.ptx  # the table in shared memory (unused inline)


@pytest.mark.cuda
@pytest.mark.parametrize("shape", ["grid", "cluster"])
@pytest.mark.parametrize("block", ["32", "256"])
@pytest.mark.parametrize("model", ["spikes-20000", "spikes-8193-all", "spikes-3000-none", "clears-in-the-phase",
                                   "two-clocks", "synapses"])
def test_every_compaction_in_tiles_matches_the_cpu(model, block, shape, monkeypatch):
    """Every grid compaction by tiles (TILED_COMPACTION_MIN_TILES forced to 0): lists of fixed
    positions counted in their emitting chunks, lists over spikes by the count function, both in
    one phase (random_spikes); a clear of the list in the emitter's phase, due or not on the
    emitter's ticks (CLEAR_ON_ANOTHER_CLOCK: the count before must not race with it); partial,
    full and empty tiles, 32 and 256 threads (chunks of 32 and 256 positions per tile's 8), on
    a grid and on a cluster."""
    from tests.backends.test_cuda_executable import CLEAR_ON_ANOTHER_CLOCK
    from tests.backends.test_synapse_spaces_cuda import compare as compare_synapses

    monkeypatch.setattr(cuda_tick_kernel, "TILED_COMPACTION_MIN_TILES", 0)
    monkeypatch.setenv(cuda_tick_kernel.BLOCK_ENVIRONMENT, block)
    options = {"tick_kernel": shape, "cache": CompileCache(None)}
    if model == "synapses":
        module, arrays = parsed(synapse_module(300, 200, 4000)), synapse_arrays(300, 200, 4000, seed=5)
        cpu, gpu = both(module, arrays, 5, **options)
        compare_synapses(cpu, gpu, (1, 5, 40))
        assert "bar.red.popc" in gpu.program.ptx
        return
    texts = {"spikes-20000": random_spikes(20_000, 0.3), "spikes-8193-all": random_spikes(8193, 1.0),
             "spikes-3000-none": random_spikes(3000, 0.0), "clears-in-the-phase": CLEAR_ON_ANOTHER_CLOCK,
             "two-clocks": TWO_CLOCKS}
    cpu, gpu = both(parsed(texts[model]), seed=7, **options)
    compare(cpu, gpu, (1, 1, 2, 7, 30))
    assert "bar.red.popc" in gpu.program.ptx  # an emitting chunk's counting barrier


@pytest.mark.cuda
@SHAPES
def test_timed_ticks_give_the_same_results_and_each_interval_a_time(shape, monkeypatch):
    from tests.backends.test_synapse_spaces_cuda import compare as compare_synapses

    monkeypatch.setenv(cuda_tick_kernel.TIMERS_ENVIRONMENT, "1")
    cpu, gpu = both(parsed(synapse_module(300, 200, 4000)), synapse_arrays(300, 200, 4000, seed=5), 5,
                    tick_kernel=shape)
    assert gpu.tick_shape.timers
    compare_synapses(cpu, gpu, (1, 5))
    before = gpu.tick_times()
    start = time.perf_counter()
    gpu.run(200)
    elapsed = time.perf_counter() - start
    after = gpu.tick_times()
    cpu.run(200)
    compare_synapses(cpu, gpu, (1,))
    assert list(after) == cuda_tick_kernel.tick_intervals(gpu.plan)
    spent = [after[name] - before[name] for name in after]
    assert all(value > 0 for value in spent)
    assert sum(spent) < elapsed  # the run's own ticks, within its wall time
    launches = gpu.tick_launch_times()
    assert [name for name, *_ in launches] == cuda_tick_kernel.tick_launches(gpu.plan)
    for name, spent, most, runs in launches:
        assert runs >= 207 and 0 < most <= spent, name  # every tick ran it, on one block or more


@pytest.mark.cuda
def test_noise_and_chosen_by_the_policy():
    v0 = {"G.v": np.linspace(0, 1, 100)}
    cpu, gpu = both(parsed(NOISY_LIF), v0, seed=4, tick_kernel=None)
    assert gpu.tick_shape == TickShape(128)
    for _ in range(20):
        cpu.run(1)
        gpu.run(1)
        np.testing.assert_array_equal(gpu.read("G._spikespace"), cpu.read("G._spikespace"))
    np.testing.assert_allclose(gpu.read("G.v"), cpu.read("G.v"), rtol=1e-12)


@pytest.mark.cuda
@SHAPES
@pytest.mark.parametrize("n_pre, n_post, n_syn, p", [(255, 257, 3000, 0.3), (1, 300, 600, 1.0),
                                                      (3000, 3000, 30_000, 1.0), (1000, 1000, 20_000, 0.0)])
def test_push_and_pull_match_the_cpu(n_pre, n_post, n_syn, p, shape):
    from tests.backends.test_synapse_spaces_cuda import compare as compare_synapses

    cpu, gpu = both(parsed(synapse_module(n_pre, n_post, n_syn, p)),
                    synapse_arrays(n_pre, n_post, n_syn, n_syn), 11, tick_kernel=shape)
    compare_synapses(cpu, gpu, (1, 1, 5, 16, 17))
