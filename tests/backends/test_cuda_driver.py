"""The CUDA driver layer: CPU-only checks (availability, parameter packing, argument validation)
run everywhere; tests marked `cuda` run hand-written PTX on a GPU and are skipped without one."""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest

from spikec.errors import SpikecError
from spikec.backends import cuda_driver as cuda
from spikec.backends.cuda_driver_samples import sample_ptx

BAD_PTX = """.version 8.0
.target sm_90
.address_size 64
.visible .entry bad(.param .u64 p)
{
    .reg .f32 %f<2>;
    add.f32 %f1, %undefined_register, %f1;
    ret;
}
"""


# ------------------------------------------------------------------------------------------------
# No GPU needed


def test_available_agrees_with_reason():
    reason = cuda.unavailable_reason()
    assert isinstance(reason, str)
    assert cuda.available() == (reason == "")


def test_require_available_names_the_reason_and_the_cpu_fallback():
    if cuda.available():
        pytest.skip("a GPU is present")
    with pytest.raises(cuda.CudaError) as caught:
        cuda.require_available()
    assert cuda.unavailable_reason() in str(caught.value)
    assert "set_device('cpu')" in str(caught.value)
    assert isinstance(caught.value, SpikecError)


def test_parameters_keep_their_width():
    class FakeBuffer:
        device_pointer = 0x1122334455667788

    params = cuda.KernelParams([FakeBuffer(), np.float32(2.5), np.int32(-1), np.float64(1.5),
                                np.uint64(2**63), ctypes.c_uint16(7)])
    assert params.count == 6
    assert params.slot_bytes(0) == (0x1122334455667788).to_bytes(8, "little")
    assert params.slot_bytes(1)[:4] == np.float32(2.5).tobytes()
    assert params.slot_bytes(2)[:4] == b"\xff\xff\xff\xff"
    assert params.slot_bytes(3) == np.float64(1.5).tobytes()
    assert params.slot_bytes(4) == (2**63).to_bytes(8, "little")
    assert params.slot_bytes(5)[:2] == (7).to_bytes(2, "little")
    # The pointer array holds the address of each 8-byte slot, in order.
    pointers = np.frombuffer(ctypes.string_at(params.address, 8 * 6), dtype=np.uint64)
    assert np.all(np.diff(pointers.astype(np.int64)) == 8) and pointers[0] % 8 == 0
    assert ctypes.string_at(int(pointers[3]), 8) == np.float64(1.5).tobytes()


def test_parameter_set_rewrites_one_slot_in_place():
    params = cuda.KernelParams([np.int64(-1), np.int32(5)])
    address = params.address
    params.set(0, np.int32(3))
    assert params.slot_bytes(0) == (3).to_bytes(8, "little")      # upper bytes cleared
    assert params.address == address


def test_no_parameters_is_a_null_pointer_array():
    assert cuda.KernelParams([]).address == 0


@pytest.mark.parametrize("value", [3, 2.5, "x", np.zeros(4)])
def test_parameters_without_a_fixed_width_are_refused(value):
    with pytest.raises(TypeError, match="fixed width|numpy scalar"):
        cuda.KernelParams([value])


def test_parameters_wider_than_8_bytes_are_refused():
    with pytest.raises(TypeError, match="at most 8"):
        cuda.KernelParams([np.complex128(1 + 2j)])


@pytest.mark.parametrize("block", [0, (1, 2, 3, 4), (32, -1)])
def test_bad_launch_shapes_are_refused_before_the_driver(block):
    with pytest.raises(ValueError, match="grid and block"):
        cuda.launch(cuda.Function(None, "k"), grid=1, block=block)


def test_check_reports_name_and_hint():
    driver = pytest.importorskip("cuda.bindings.driver")
    assert cuda.check((driver.CUresult.CUDA_SUCCESS, 7)) == 7
    assert cuda.check((driver.CUresult.CUDA_SUCCESS, 1, 2)) == (1, 2)
    assert cuda.check((driver.CUresult.CUDA_SUCCESS,)) is None
    with pytest.raises(cuda.CudaError) as caught:
        cuda.check((driver.CUresult.CUDA_ERROR_NO_DEVICE,), "cuDeviceGet")
    assert caught.value.error_name == "CUDA_ERROR_NO_DEVICE"
    assert "cuDeviceGet failed: CUDA_ERROR_NO_DEVICE" in str(caught.value)
    assert "set_device('cpu')" in str(caught.value)


@pytest.mark.skipif(shutil.which("ptxas") is None, reason="ptxas not installed")
def test_sample_ptx_assembles(tmp_path):
    path = tmp_path / "samples.ptx"
    path.write_text(sample_ptx("sm_90"))
    result = subprocess.run(["ptxas", "-arch=sm_90", str(path), "-o", str(tmp_path / "s.cubin")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------------------------------------
# GPU


def assert_fma_close(y, a, x, b):
    """y == fma(a, x, b) to within 2 ulps of the terms: the kernel's fma rounds once, numpy's
    a*x + b twice, so near cancellation a plain relative tolerance fails (seen on an H100)."""
    exact = a.astype(np.float64) * x.astype(np.float64) + np.float64(b)
    scale = np.abs(a.astype(np.float64) * x) + abs(np.float64(b))
    assert np.all(np.abs(y - exact) <= 2 * np.finfo(y.dtype).eps * scale), "kernel result off"


@pytest.fixture(scope="module")
def context():
    return cuda.Context.primary(0)


@pytest.fixture(scope="module")
def samples(context):
    return cuda.Module(sample_ptx(context.device.arch), "samples")


@pytest.mark.cuda
def test_a_context_warmed_up_in_the_background_is_the_one_primary_returns(context):
    """`warm_up` (what `set_device('cuda')` starts) retains the primary context on its thread;
    `primary` on this thread returns that same object, current here, whether or not the thread
    has finished."""
    from spikec.backends.cuda_driver_core import _driver, check

    thread = cuda.Context.warm_up(0)
    found = cuda.Context.primary(0)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert cuda.Context.primary(0) is found
    assert int(check(_driver().cuCtxGetCurrent(), "cuCtxGetCurrent")) == int(found.handle)


@pytest.mark.cuda
def test_device_properties(context):
    device = context.device
    assert device.name
    assert device.arch.startswith("sm_") and device.compute_capability[0] >= 5
    assert device.multiprocessor_count > 0
    free, total = context.memory_info()
    assert 0 < free <= total == device.total_memory


@pytest.mark.cuda
@pytest.mark.parametrize("dtype, n_type", [(np.float32, np.uint32), (np.float64, np.uint64)])
def test_affine_kernel(samples, dtype, n_type):
    rng = np.random.default_rng()
    n = 1000 + int(rng.integers(0, 100))          # not a multiple of the block
    a, b = dtype(rng.normal()), dtype(rng.normal())
    x = rng.normal(size=n).astype(dtype)
    x_device = cuda.DeviceArray.from_host(x)
    y_device = cuda.DeviceArray(n + 1, dtype)
    y_device.set(np.full(n + 1, np.nan, dtype))     # poison, and a guard element past n
    kernel = samples.function("affine_" + np.dtype(dtype).name.replace("float", "f"))
    cuda.launch(kernel, grid=(n + 127) // 128, block=128, args=[x_device, y_device, a, b, n_type(n)])
    y = y_device.to_host()
    assert_fma_close(y[:n], a, x, b)
    assert np.isnan(y[n])                           # bounds check held


@pytest.mark.cuda
def test_prepared_launch_and_parameter_update(samples):
    x = cuda.DeviceArray.from_host(np.arange(256, dtype=np.float32))
    y = cuda.DeviceArray(256, np.float32)
    prepared = cuda.PreparedLaunch(samples.function("affine_f32"), 2, 128,
                                   [x, y, np.float32(2), np.float32(1), np.uint32(256)])
    prepared()
    np.testing.assert_array_equal(y.to_host(), 2 * np.arange(256) + 1)
    prepared.params.set(2, np.float32(-1))
    prepared()
    np.testing.assert_array_equal(y.to_host(), -np.arange(256) + 1)


@pytest.mark.cuda
def test_bad_ptx_error_holds_the_jit_log(context):
    with pytest.raises(cuda.CudaError) as caught:
        cuda.Module(BAD_PTX, "bad")
    error = caught.value
    assert error.error_name == "CUDA_ERROR_INVALID_PTX"
    assert "undefined_register" in error.log
    assert "JIT log" in str(error) and "undefined_register" in str(error)


@pytest.mark.cuda
def test_unknown_kernel_name(samples):
    with pytest.raises(cuda.CudaError, match="CUDA_ERROR_NOT_FOUND"):
        samples.function("no_such_kernel")


@pytest.mark.cuda
def test_out_of_memory_names_the_sizes(context):
    with pytest.raises(cuda.CudaError) as caught:
        cuda.DeviceBuffer(1 << 50)                  # 1 PiB
    message = str(caught.value)
    assert caught.value.error_name == "CUDA_ERROR_OUT_OF_MEMORY"
    assert "asked for 1073741824.0 MiB" in message and "free of" in message
    cuda.DeviceBuffer(1 << 20).free()               # the context is still usable


@pytest.mark.cuda
def test_buffers_memset_and_device_copy(context):
    source = cuda.DeviceBuffer(4096)
    source.memset32(0x3F800000)                     # float32 1.0
    target = cuda.DeviceBuffer(4096)
    target.memset(0xAB)
    target.copy_from_device(source, nbytes=2048)
    out = np.empty(1024, np.float32)
    target.copy_to_host(out)
    np.testing.assert_array_equal(out[:512], 1.0)
    assert out[512:].view(np.uint8).tolist() == [0xAB] * 2048
    source.free()
    source.free()                                   # idempotent
    assert cuda.DeviceBuffer(0).device_pointer == 0


@pytest.mark.cuda
def test_async_copies_with_pinned_memory_and_events(samples):
    n = 1 << 20
    stream = cuda.Stream()
    host_in = cuda.pinned_empty(n, np.float32)
    host_in[:] = np.random.default_rng().normal(size=n)
    host_out = cuda.pinned_empty(n, np.float32)
    host_out[:] = np.nan
    x, y = cuda.DeviceArray(n, np.float32), cuda.DeviceArray(n, np.float32)
    start, end = cuda.Event(), cuda.Event()
    start.record(stream)
    x.set(host_in, stream)
    cuda.launch(samples.function("affine_f32"), n // 256, 256,
                [x, y, np.float32(3), np.float32(0.5), np.uint32(n)], stream=stream)
    y.to_host(host_out, stream)
    end.record(stream)
    stream.synchronize()
    assert_fma_close(host_out, np.float32(3), host_in, np.float32(0.5))
    assert 0 < start.elapsed_ms(end) < 10_000


@pytest.mark.cuda
@pytest.mark.parametrize("captured_steps, replays", [(1, 1000), (10, 100)])
def test_graph_replay_counts(samples, captured_steps, replays):
    counter = cuda.DeviceArray.zeros(1, np.uint32)
    increment = samples.function("increment")

    def record(stream):
        for _ in range(captured_steps):
            cuda.launch(increment, 1, 32, [counter], stream=stream)

    graph = cuda.Graph.capture(record)
    assert graph.node_count == captured_steps
    assert counter.to_host()[0] == 0                # capture ran nothing
    graph.launch(times=replays)
    graph.synchronize()
    assert counter.to_host()[0] == captured_steps * replays
    graph.destroy()


@pytest.mark.cuda
def test_graph_captures_memsets_too(samples):
    counter = cuda.DeviceArray(1, np.uint32)
    increment = samples.function("increment")

    def record(stream):
        counter.buffer.memset(0, stream)
        cuda.launch(increment, 1, 1, [counter], stream=stream)
        cuda.launch(increment, 1, 1, [counter], stream=stream)

    graph = cuda.Graph.capture(record)
    graph.launch(times=5)
    graph.synchronize()
    assert counter.to_host()[0] == 2


@pytest.mark.cuda
def test_garbage_collected_during_capture_is_freed_after_it(samples):
    """A device buffer in a reference cycle, garbage when a capture starts: the collector does
    not run inside the capture (its cuMemFree would invalidate it), and runs again after."""
    import gc
    import weakref

    class Cycle:
        pass

    counter = cuda.DeviceArray.zeros(1, np.uint32)
    increment = samples.function("increment")
    seen = []

    def record(stream):
        gc.set_threshold(1)  # a collection at nearly every allocation from here, were it on
        for _ in range(50):
            [Cycle() for _ in range(20)]
            cuda.launch(increment, 1, 1, [counter], stream=stream)
        seen.append(alive() is not None)

    thresholds = gc.get_threshold()
    gc.set_threshold(10**9)  # no collection before the capture starts
    try:
        garbage = Cycle()
        garbage.self, garbage.array = garbage, cuda.DeviceArray.zeros(1024, np.uint8)
        alive = weakref.ref(garbage.array)
        del garbage
        graph = cuda.Graph.capture(record)
    finally:
        gc.set_threshold(*thresholds)
    assert seen == [True] and gc.isenabled()
    graph.launch()
    graph.synchronize()
    assert counter.to_host()[0] == 50
    gc.collect()
    assert alive() is None


@pytest.mark.cuda
def test_failed_capture_leaves_the_stream_usable(samples):
    stream = cuda.Stream()

    def record(stream):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        cuda.Graph.capture(record, stream)
    counter = cuda.DeviceArray.zeros(1, np.uint32, stream)
    cuda.launch(samples.function("increment"), 1, 1, [counter], stream=stream)
    stream.synchronize()
    assert counter.to_host()[0] == 1
