"""The CUDA program from the kernel cache (`spikec/backends/cuda_launch.py`, `compile_cuda`): a
disk hit gives exactly the PTX and the launch metadata a miss computed, without lowering; every
knob that changes them changes the key; a damaged or partial entry is built again. No GPU needed."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pytest

import spikec
from spikec.backends import cuda_launch, cuda_rows, cuda_tick_kernel
from spikec.backends.abi import ModulePlan
from spikec.backends.cache import CompileCache
from spikec.backends.cuda import compile_cuda, cuda_cache_key
from spikec.backends.cuda_codegen import lower_for_cuda
from spikec.backends.cuda_tick_kernel import TickShape
from spikec.ir.core import Module
from spikec.runtime.devices import device_settings
from tests.backends.samples import NOISY_LIF, parsed
from tests.passes.test_pipeline_cache import MODELS, lowered_by_passes, model_ir_of

# The three paths of the executable: a launch per kernel, the one-block and the grid tick kernel.
SHAPES = {"launches": None, "block": TickShape(256), "grid": TickShape(256, grid=True)}


@pytest.fixture(scope="module")
def kernel_irs() -> dict[str, Module]:
    """The benchmark models' kernel IR (small; the pipeline cache's test models: every kind of
    kernel and tick plan the pipeline produces for them: delays, plasticity, spike generators,
    HH, exact LIF)."""
    device, seed = device_settings.device, device_settings.seed
    spikec.set_device("cpu")
    try:
        return {name: lowered_by_passes(model_ir_of(name)) for name in MODELS}
    finally:
        device_settings.device, device_settings.seed = device, seed


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("model", MODELS)
def test_a_disk_hit_gives_the_program_a_miss_computed(kernel_irs, tmp_path, model, shape):
    module = kernel_irs[model]
    missed = compile_cuda(module, "sm_90", CompileCache(tmp_path), tick_shape=SHAPES[shape])
    cache = CompileCache(tmp_path)  # a new process: nothing in memory
    hit = compile_cuda(module, "sm_90", cache, tick_shape=SHAPES[shape])
    assert not missed.from_disk and hit.from_disk
    assert (cache.statistics.disk_hits, cache.statistics.misses) == (1, 0)
    assert hit.launch == missed.launch and hit.ptx == missed.ptx
    # and the metadata describes the PTX: the kernels it launches are entries there
    entries = set(re.findall(r"\.entry\s+(\w+)", hit.ptx))
    plan = ModulePlan(module)
    assert [kernel.kernel for kernel in hit.launch.kernels] == list(plan.kernels)
    if SHAPES[shape] is None:
        assert {kernel.function_name for kernel in hit.launch.kernels} <= entries
        assert hit.launch.tick is None
    else:  # the kernels are device functions of the one entry
        assert cuda_tick_kernel.ENTRY in entries and hit.launch.tick.grid_blocks >= 1
        assert set(hit.launch.tick.arrays) <= set(plan.arrays)


def keys_under(monkeypatch, module: Module, settings: dict[str, str]) -> str:
    """The key `CudaExecutable` would use with these environment settings."""
    for name in ("SPIKEC_CUDA_TICK_KERNEL", "SPIKEC_CUDA_TICK_BLOCK", "SPIKEC_CUDA_TICK_TIMERS",
                 cuda_rows.ENVIRONMENT):
        monkeypatch.delenv(name, raising=False)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    shape = cuda_tick_kernel.choose_tick_shape(ModulePlan(module), None, clusters=True)
    return cuda_cache_key(module, "sm_90", CompileCache(None), cuda_rows.parse_row_lanes(None), shape)


def test_each_knob_that_changes_the_program_changes_the_key(monkeypatch, kernel_irs):
    module = kernel_irs["brunel_hakim_heterog"]
    settings = [{"SPIKEC_CUDA_TICK_KERNEL": "0"}, {"SPIKEC_CUDA_TICK_KERNEL": "1"},
                {"SPIKEC_CUDA_TICK_KERNEL": "grid"}, {"SPIKEC_CUDA_TICK_KERNEL": "cluster"},
                {"SPIKEC_CUDA_TICK_KERNEL": "1", "SPIKEC_CUDA_TICK_BLOCK": "512"},
                {"SPIKEC_CUDA_TICK_KERNEL": "grid", "SPIKEC_CUDA_TICK_BLOCK": "128"},
                {"SPIKEC_CUDA_TICK_KERNEL": "1", "SPIKEC_CUDA_TICK_TIMERS": "1"},
                {"SPIKEC_CUDA_TICK_KERNEL": "0", cuda_rows.ENVIRONMENT: "1"},
                {"SPIKEC_CUDA_TICK_KERNEL": "0", cuda_rows.ENVIRONMENT: "32"}]
    keys = [keys_under(monkeypatch, module, setting) for setting in settings]
    assert len(set(keys)) == len(keys)
    # the policy (unset or 'auto') chooses the one-block kernel at this size: that key
    assert keys_under(monkeypatch, module, {}) == keys[1]
    assert keys_under(monkeypatch, module, {"SPIKEC_CUDA_TICK_KERNEL": "auto"}) == keys[1]


def test_a_changed_knob_misses_a_filled_cache(tmp_path):
    module = parsed(NOISY_LIF)
    cache = CompileCache(tmp_path)
    compile_cuda(module, "sm_90", cache, row_lanes=cuda_rows.AUTO, tick_shape=TickShape(64))
    for row_lanes, shape in ((cuda_rows.AUTO, TickShape(64, timers=True)), (cuda_rows.AUTO, TickShape(128)),
                             (cuda_rows.AUTO, TickShape(64, grid=True)), (cuda_rows.AUTO, None), (4, None)):
        fresh = CompileCache(tmp_path)
        assert not compile_cuda(module, "sm_90", fresh, row_lanes=row_lanes, tick_shape=shape).from_disk
        assert fresh.statistics.misses == 1
    again = CompileCache(tmp_path)
    assert compile_cuda(module, "sm_90", again, tick_shape=TickShape(64)).from_disk


def test_the_register_cap_is_not_in_the_program(monkeypatch, kernel_irs):
    """SPIKEC_CUDA_MAX_REGISTERS is applied by the driver's JIT when the PTX is loaded: the PTX and
    the metadata do not depend on it, so it is rightly not in the key."""
    module = kernel_irs["cobahh_pseudo"]
    programs = []
    for cap in ("32", "0", None):
        if cap is None:
            monkeypatch.delenv("SPIKEC_CUDA_MAX_REGISTERS", raising=False)
        else:
            monkeypatch.setenv("SPIKEC_CUDA_MAX_REGISTERS", cap)
        programs.append(compile_cuda(module, "sm_90", CompileCache(None)))
    assert all(p.ptx == programs[0].ptx and p.launch == programs[0].launch for p in programs)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong type", "other format", "missing"])
def test_a_damaged_or_partial_entry_is_built_again(tmp_path, damage):
    module = parsed(NOISY_LIF)
    first = compile_cuda(module, "sm_90", CompileCache(tmp_path), tick_shape=TickShape(64))
    [path] = tmp_path.glob(f"*{cuda_launch.SUFFIX}")
    text = path.read_text()
    if damage == "missing":
        path.unlink()
    else:
        path.write_text({"garbage": "{not json", "truncated": text[:len(text) // 2],
                         "wrong type": text.replace('"position_capacity":', '"position_capacity":"')
                                           .replace(',"row_lanes"', '","row_lanes"'),
                         "other format": text.replace('"format":1', '"format":0')}[damage])
    cache = CompileCache(tmp_path)
    again = compile_cuda(module, "sm_90", cache, tick_shape=TickShape(64))
    assert not again.from_disk and cache.statistics.misses == 1 and cache.statistics.disk_hits == 0
    assert again.launch == first.launch
    assert cuda_launch.loads(path.read_bytes()) == first.launch  # rewritten whole


def test_loads_rejects_what_dumps_never_writes():
    launch = compile_cuda(parsed(NOISY_LIF), "sm_90", CompileCache(None), tick_shape=TickShape(64)).launch
    kernel = launch.kernels[0]
    for broken in (replace(launch, kernels=(replace(kernel, row_lanes=True),)),
                   replace(launch, kernels=(replace(kernel, arrays=("a", 3)),)),
                   replace(launch, compaction_errors=(("k", "l"),))):
        with pytest.raises(ValueError):
            cuda_launch.loads(cuda_launch.dumps(broken))
    with pytest.raises(ValueError):
        cuda_launch.loads(cuda_launch.dumps(launch).replace(b'"tick":{', b'"tick":{"extra":1,'))


@pytest.mark.parametrize("shape", ["launches", "grid"])
def test_the_metadata_is_what_the_lowering_launches(kernel_irs, shape):
    """Field by field against the lowered module the executable used to read (`KernelABI`, the
    error list, the compactions' codes, the tick kernel's table)."""
    for module in kernel_irs.values():
        plan, tick_shape = ModulePlan(module), SHAPES[shape]
        text = (cuda_tick_kernel.lower_for_tick_kernel(plan, tick_shape) if tick_shape
                else lower_for_cuda(plan))
        launch, lowered = cuda_launch.from_text(text, tick_shape), text.lowered
        assert cuda_launch.loads(cuda_launch.dumps(launch)) == launch
        assert [(k.kernel, k.function_name, list(k.arrays), [op.spike_list.name for op in k.emits],
                 k.position_capacity, k.row_lanes) for k in lowered.kernels.values()] == \
            [(k.kernel, k.function_name, list(k.arrays), list(k.emits), k.position_capacity, k.row_lanes)
             for k in launch.kernels]
        assert list(launch.errors) == lowered.errors and launch.errors
        assert {(kernel, name): launch.compaction_error(kernel, name)
                for kernel, name, _ in launch.compaction_errors} == text.compaction_errors
        if tick_shape:
            assert list(launch.tick.arrays) == cuda_tick_kernel.entry_arrays(lowered)
            assert list(launch.tick.emits) == cuda_tick_kernel.entry_emits(lowered)
            assert launch.tick.grid_blocks == cuda_tick_kernel.grid_blocks(lowered, tick_shape.threads)


class RecordingDriver:
    """Stands in for `spikec.backends.cuda_driver` where no GPU is: allocations get numbers in
    creation order, launches are recorded (entry, grid, block, arguments), graphs record their
    launches as they are captured. Enough for `CudaExecutable`'s host side up to its first run."""

    def __init__(self):
        self.launches: list[tuple] = []
        self.allocations = 0
        driver = self

        class Handle:
            def __init__(self, *args, **kwargs):
                self.name = args[0] if args and isinstance(args[0], str) and len(args[0]) < 80 else None

            def __getattr__(self, name):  # make_current, synchronize, destroy, ...
                return lambda *args, **kwargs: None

        class DeviceArray:
            def __init__(self, size, dtype):
                driver.allocations += 1
                self.number, self.size, self.dtype = driver.allocations, size, np.dtype(dtype)
                self.device_pointer = self.number

            @classmethod
            def from_host(cls, values, stream=None):
                return cls(values.size, values.dtype)

            @classmethod
            def zeros(cls, size, dtype=np.float64, stream=None):
                return cls(size, dtype)

        class Function(Handle):
            def max_active_blocks(self, threads, shared_bytes=0):
                return 2

            def max_active_clusters(self, blocks, threads):
                return 1

        class Module(Handle):
            def function(self, name):
                return Function(name)

        class Device(Handle):
            arch, multiprocessor_count = "sm_90", 4

        class Context(Handle):
            @classmethod
            def primary(cls, device=0):
                return cls()

        class Graph(Handle):
            @classmethod
            def capture(cls, record, stream=None):
                record(stream)
                return cls()

        def launch(function, grid, block, args, stream=None, cooperative=False, cluster=0):
            described = tuple(("array", a.number, a.size, a.dtype.str) if isinstance(a, DeviceArray) else repr(a)
                              for a in args)
            driver.launches.append((function.name, grid, block, described, cooperative, cluster))

        self.DeviceArray, self.Module, self.Device, self.Context, self.Graph = (DeviceArray, Module, Device,
                                                                                 Context, Graph)
        self.Stream, self.launch = Handle, launch
        self.PreparedLaunch = lambda function, grid, block, args, stream, cooperative=False, cluster=0: launch(
            function, grid, block, args, stream, cooperative, cluster)
        self.unavailable_reason = lambda: None


@pytest.mark.parametrize("tick_kernel", [False, True, "grid", "cluster"])
@pytest.mark.parametrize("model", ["brunel_hakim_heterog", "mushroom_body"])
def test_an_executable_from_a_hit_launches_as_one_from_a_miss(monkeypatch, kernel_irs, tmp_path, model,
                                                                tick_kernel):
    """`CudaExecutable` reads only the launch metadata: built on a miss and on a disk hit, it
    allocates the same buffers and records the same launches (through a recording driver)."""
    from spikec.backends import cuda as cuda_backend

    recorded = []
    for _ in range(2):
        driver = RecordingDriver()
        monkeypatch.setattr(cuda_backend, "_driver", lambda: driver)
        executable = cuda_backend.CudaExecutable(kernel_irs[model], cache=CompileCache(tmp_path),
                                                 tick_kernel=tick_kernel)
        recorded.append((executable.program.from_disk, driver.allocations, driver.launches))
    (missed, *miss), (hit, *from_disk) = recorded
    assert not missed and hit
    assert miss == from_disk and miss[1]
