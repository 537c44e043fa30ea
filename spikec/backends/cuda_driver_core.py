"""The CUDA driver API, thinly: errors, the device and its primary context, PTX modules, streams
and events, over NVIDIA's `cuda.bindings.driver` (the optional `cuda` extra).

Every driver call goes through `check`, which turns a failing `CUresult` into a `CudaError` that
names the call, the driver's error name and text, and a hint. Nothing here imports
`cuda.bindings` at module load: `available()` says whether a GPU can be used, and why not, on any
machine. Import `spikec.backends.cuda_driver` (the facade) rather than this module.
"""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from typing import Any


from spikec.errors import SpikecError

_NO_DEVICE_HINT = "install the NVIDIA driver (and `pip install spikec[cuda]`), or use set_device('cpu')"

# Hints by driver error name: what a user can do about it.
_HINTS = {
    "CUDA_ERROR_NO_DEVICE": _NO_DEVICE_HINT,
    "CUDA_ERROR_INSUFFICIENT_DRIVER": "update the NVIDIA driver, or use set_device('cpu')",
    "CUDA_ERROR_NOT_INITIALIZED": "call available() (which runs cuInit) before any other driver call",
    "CUDA_ERROR_INVALID_PTX": "the PTX did not compile: read the JIT log above; dump the PTX with the "
                              "backend's PTX output and run `ptxas` on it",
    "CUDA_ERROR_UNSUPPORTED_PTX_VERSION": "the driver is older than the PTX ISA version; update the "
                                          "driver or lower the PTX version",
    "CUDA_ERROR_NOT_FOUND": "no kernel of that name in the module (PTX names are mangled if not "
                            "declared .visible .entry)",
    "CUDA_ERROR_INVALID_VALUE": "an argument is out of range (grid or block size, size 0, null pointer)",
    "CUDA_ERROR_LAUNCH_FAILED": "a kernel faulted; the context is now unusable: restart the process "
                                "and run with compute-sanitizer to find the access",
    "CUDA_ERROR_ILLEGAL_ADDRESS": "a kernel read or wrote outside its arrays; the context is now "
                                  "unusable: restart the process and run with compute-sanitizer",
    "CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED": "a synchronizing call was made while a stream was "
                                             "being captured into a graph",
}


class CudaError(SpikecError):
    """A CUDA driver call that failed: `call` is the function, `error_name` the driver's code
    name (``CUDA_ERROR_OUT_OF_MEMORY``), `log` the JIT log where there is one."""

    kind = "CUDA error"

    def __init__(self, message: str, call: str = "", error_name: str = "", hint: str | None = None,
                 log: str = ""):
        self.call = call
        self.error_name = error_name
        self.log = log
        super().__init__(message, hint=hint)


@functools.cache
def _driver():
    """The `cuda.bindings.driver` module, imported on first use (cached: launches call this)."""
    from cuda.bindings import driver
    return driver


def error_text(err: Any) -> tuple[str, str]:
    """The driver's name and description of a `CUresult`, e.g. ("CUDA_ERROR_OUT_OF_MEMORY",
    "out of memory"); falls back to the enum's name when the driver cannot say."""
    name = getattr(err, "name", str(err))
    try:
        driver = _driver()
        status, text = driver.cuGetErrorString(err)
        description = text.decode() if status == driver.CUresult.CUDA_SUCCESS and text else ""
    except Exception:                      # no bindings or no driver library: the name must do
        description = ""
    return name, description


def check(result: Any, call: str = "CUDA driver call", hint: str | None = None) -> Any:
    """Check a cuda-bindings result tuple `(err, *values)`; return None, the value, or the values.

    Raises `CudaError` naming `call`, the driver's error and a hint (the given one, or the
    standard hint for that error)."""
    err, *values = result if isinstance(result, tuple) else (result,)
    if int(err) != 0:
        name, description = error_text(err)
        message = f"{call} failed: {name}" + (f" ({description})" if description else "")
        raise CudaError(message, call, name, hint or _HINTS.get(name))
    if not values:
        return None
    return values[0] if len(values) == 1 else tuple(values)


# ------------------------------------------------------------------------------------------------
# Availability


@functools.cache
def unavailable_reason() -> str:
    """Why the GPU cannot be used here, or "" when it can. Computed once (cached): it calls
    cuInit, which loads the driver library."""
    try:
        driver = _driver()
    except ImportError as error:
        return f"cuda-bindings is not installed ({error}); `pip install spikec[cuda]`"
    try:
        status, = driver.cuInit(0)
    except Exception as error:             # the driver library itself is missing
        return f"no NVIDIA driver library: {error}"
    if int(status):
        return f"cuInit failed: {error_text(status)[0]}"
    status, count = driver.cuDeviceGetCount()
    if int(status) or count < 1:
        return "the NVIDIA driver reports no CUDA device"
    return ""


def available() -> bool:
    """True when cuda-bindings imports, cuInit succeeds and there is at least one device."""
    return unavailable_reason() == ""


def require_available() -> None:
    """Raise a `CudaError` saying why the GPU cannot be used, if it cannot."""
    reason = unavailable_reason()
    if reason:
        raise CudaError(f"no usable CUDA GPU: {reason}", "cuInit", "CUDA_ERROR_NO_DEVICE",
                        _NO_DEVICE_HINT)


# ------------------------------------------------------------------------------------------------
# Device and context


@dataclass(frozen=True)
class Device:
    """A CUDA device, by ordinal, with the properties a backend needs to pick a target."""

    ordinal: int = 0

    @functools.cached_property
    def handle(self):
        require_available()
        return check(_driver().cuDeviceGet(self.ordinal), "cuDeviceGet")

    def attribute(self, name: str) -> int:
        """A `CU_DEVICE_ATTRIBUTE_*` value, by the part after the prefix ("MULTIPROCESSOR_COUNT")."""
        driver = _driver()
        attribute = getattr(driver.CUdevice_attribute, "CU_DEVICE_ATTRIBUTE_" + name)
        return check(driver.cuDeviceGetAttribute(attribute, self.handle), f"cuDeviceGetAttribute({name})")

    @property
    def name(self) -> str:
        raw = check(_driver().cuDeviceGetName(256, self.handle), "cuDeviceGetName")
        return raw.split(b"\0", 1)[0].decode()

    @property
    def compute_capability(self) -> tuple[int, int]:
        return self.attribute("COMPUTE_CAPABILITY_MAJOR"), self.attribute("COMPUTE_CAPABILITY_MINOR")

    @property
    def arch(self) -> str:
        """The PTX target of this device, e.g. 'sm_90'."""
        major, minor = self.compute_capability
        return f"sm_{major}{minor}"

    @property
    def multiprocessor_count(self) -> int:
        return self.attribute("MULTIPROCESSOR_COUNT")

    @property
    def total_memory(self) -> int:
        """Bytes of device memory."""
        return check(_driver().cuDeviceTotalMem(self.handle), "cuDeviceTotalMem")


def memory_info() -> tuple[int, int]:
    """(free, total) bytes of device memory of the current context's device."""
    return check(_driver().cuMemGetInfo(), "cuMemGetInfo")


class Context:
    """The primary context of a device, retained and made current on this thread.

    The primary context is the one the CUDA runtime (and so PyTorch, CuPy) shares: spikec's
    buffers can then be handed to them. `Context.primary(ordinal)` caches one per device."""

    _primary: dict[int, "Context"] = {}     # explicit cache: one retained context per device
    _lock = threading.Lock()                # `warm_up`'s thread and the caller retain it once

    def __init__(self, device: Device):
        self.device = device
        self.handle = check(_driver().cuDevicePrimaryCtxRetain(device.handle), "cuDevicePrimaryCtxRetain")
        self.make_current()

    @classmethod
    def primary(cls, ordinal: int = 0) -> "Context":
        """The retained primary context of device `ordinal`, made current on this thread."""
        with cls._lock:
            context = cls._primary.get(ordinal)
            if context is None:
                context = cls._primary[ordinal] = cls(Device(ordinal))
                return context
        context.make_current()
        return context

    @classmethod
    def warm_up(cls, ordinal: int = 0) -> threading.Thread:
        """Retain device `ordinal`'s primary context on a background thread: creating it takes
        ~0.1 s (H100) that the driver spends without the GIL, so it overlaps whatever the caller
        does next (building a model's objects); `primary` then finds it (or waits for it). An
        error is left for `primary` to raise on the caller's thread."""
        def retain() -> None:
            try:
                cls.primary(ordinal)
            except Exception:  # noqa: BLE001 - the caller's own primary() reports it
                pass

        thread = threading.Thread(target=retain, name=f"spikec-cuda-context-{ordinal}", daemon=True)
        thread.start()
        return thread

    def make_current(self) -> None:
        """Bind this context to the calling thread (each thread that calls the driver needs it)."""
        check(_driver().cuCtxSetCurrent(self.handle), "cuCtxSetCurrent")

    def synchronize(self) -> None:
        """Wait for all work on the device; reports faults of earlier kernels."""
        check(_driver().cuCtxSynchronize(), "cuCtxSynchronize")

    def memory_info(self) -> tuple[int, int]:
        """(free, total) bytes of device memory."""
        return memory_info()


# ------------------------------------------------------------------------------------------------
# Streams and events


class Stream:
    """A CUDA stream (non-blocking with respect to the legacy default stream).

    Asynchronous copies from host arrays keep those arrays alive here until `synchronize()`: the
    copy reads them after the call returns."""

    def __init__(self):
        driver = _driver()
        flags = driver.CUstream_flags.CU_STREAM_NON_BLOCKING
        self.handle = check(driver.cuStreamCreate(flags), "cuStreamCreate")
        self._pending_host_arrays: list[Any] = []

    def keep_alive(self, host_object: Any) -> None:
        self._pending_host_arrays.append(host_object)

    def synchronize(self) -> None:
        check(_driver().cuStreamSynchronize(self.handle), "cuStreamSynchronize")
        self._pending_host_arrays.clear()

    def destroy(self) -> None:
        if self.handle is not None:
            check(_driver().cuStreamDestroy(self.handle), "cuStreamDestroy")
            self.handle = None


def stream_handle(stream: Stream | None):
    """The driver handle of `stream`; None means the legacy default stream (handle 0)."""
    return _legacy_stream() if stream is None else stream.handle


def cluster_launch_config(blocks: int, threads: int, cluster: int, stream_handle_value, shared_mem: int = 0):
    """A `CUlaunchConfig` for cuLaunchKernelEx: `blocks` blocks of `threads` threads in
    clusters of `cluster` blocks (the driver's attribute; PTX without `.reqnctapercluster`)."""
    driver = _driver()
    attribute = driver.CUlaunchAttribute()
    attribute.id = driver.CUlaunchAttributeID.CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION
    attribute.value.clusterDim.x, attribute.value.clusterDim.y, attribute.value.clusterDim.z = cluster, 1, 1
    config = driver.CUlaunchConfig()
    config.gridDimX, config.gridDimY, config.gridDimZ = blocks, 1, 1
    config.blockDimX, config.blockDimY, config.blockDimZ = threads, 1, 1
    config.sharedMemBytes = shared_mem
    config.hStream = stream_handle_value
    config.attrs = [attribute]
    config.numAttrs = 1
    return config


@functools.cache
def _legacy_stream():
    return _driver().CUstream(0)


class Event:
    """A CUDA event: record it on a stream, wait for it, measure milliseconds between two."""

    def __init__(self, timing: bool = True):
        driver = _driver()
        flags = driver.CUevent_flags.CU_EVENT_DEFAULT if timing else driver.CUevent_flags.CU_EVENT_DISABLE_TIMING
        self.handle = check(driver.cuEventCreate(flags), "cuEventCreate")

    def record(self, stream: Stream | None = None) -> "Event":
        check(_driver().cuEventRecord(self.handle, stream_handle(stream)), "cuEventRecord")
        return self

    def synchronize(self) -> None:
        check(_driver().cuEventSynchronize(self.handle), "cuEventSynchronize")

    def elapsed_ms(self, end: "Event") -> float:
        """Milliseconds from this event to `end` (both recorded; waits for `end`)."""
        end.synchronize()
        return float(check(_driver().cuEventElapsedTime(self.handle, end.handle), "cuEventElapsedTime"))


# ------------------------------------------------------------------------------------------------
# Modules and functions

_JIT_LOG_BYTES = 1 << 16


def _decode_log(buffer: bytes | bytearray) -> str:
    return bytes(buffer).split(b"\0", 1)[0].decode(errors="replace").strip()


class Module:
    """A module loaded from PTX text by the driver's JIT (cuModuleLoadDataEx).

    A JIT failure raises `CudaError` whose message holds the JIT's error log. `load_seconds` is
    the wall time of the load (the JIT compile), `info_log` the JIT's informational output.
    `max_registers` caps the registers per thread of every kernel (CU_JIT_MAX_REGISTERS): more
    resident threads per SM, at the price of spills; None leaves the choice to the JIT."""

    def __init__(self, ptx: str, name: str = "module", max_registers: int | None = None):
        driver = _driver()
        option = driver.CUjit_option
        error_log, info_log = bytearray(_JIT_LOG_BYTES), bytearray(_JIT_LOG_BYTES)
        options = [option.CU_JIT_ERROR_LOG_BUFFER, option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                   option.CU_JIT_INFO_LOG_BUFFER, option.CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES]
        values = [error_log, _JIT_LOG_BYTES, info_log, _JIT_LOG_BYTES]
        if max_registers is not None:
            options.append(option.CU_JIT_MAX_REGISTERS)
            values.append(max_registers)
        image = ptx.encode() + b"\0"                 # the driver reads PTX up to a NUL
        start = time.perf_counter()
        try:
            status, handle = driver.cuModuleLoadDataEx(image, len(options), options, values)
        except TypeError:                    # bindings that take only bytes as a char* buffer
            error_log, info_log = bytes(_JIT_LOG_BYTES), bytes(_JIT_LOG_BYTES)
            values = [error_log, _JIT_LOG_BYTES, info_log, _JIT_LOG_BYTES] + values[4:]
            status, handle = driver.cuModuleLoadDataEx(image, len(options), options, values)
        self.load_seconds = time.perf_counter() - start
        self.name = name
        self.info_log = _decode_log(info_log)
        if int(status):
            error_name, description = error_text(status)
            log = _decode_log(error_log)
            message = f"loading PTX module '{name}' failed: {error_name} ({description})"
            if log:
                message += "\nJIT log:\n" + log
            raise CudaError(message, "cuModuleLoadDataEx", error_name, _HINTS.get(error_name), log)
        self.handle = handle
        self._functions: dict[str, Function] = {}

    def function(self, name: str) -> "Function":
        """The kernel `name` (a `.visible .entry` in the PTX)."""
        if name not in self._functions:
            handle = check(_driver().cuModuleGetFunction(self.handle, name.encode()),
                           f"cuModuleGetFunction('{name}') in module '{self.name}'")
            self._functions[name] = Function(handle, name)
        return self._functions[name]

    def unload(self) -> None:
        if self.handle is not None:
            check(_driver().cuModuleUnload(self.handle), "cuModuleUnload")
            self.handle = None


@dataclass(frozen=True)
class Function:
    """A kernel of a loaded module."""

    handle: Any
    name: str

    def attribute(self, name: str) -> int:
        """A `CU_FUNC_ATTRIBUTE_*` value by the part after the prefix ("NUM_REGS")."""
        driver = _driver()
        attribute = getattr(driver.CUfunction_attribute, "CU_FUNC_ATTRIBUTE_" + name)
        return check(driver.cuFuncGetAttribute(attribute, self.handle), f"cuFuncGetAttribute({name})")

    def max_active_clusters(self, blocks: int, threads: int) -> int:
        """Clusters of `blocks` blocks of `threads` threads the GPU holds at once (0: none fits).
        Above 8 blocks (a non-portable size) the function is first allowed such clusters."""
        driver = _driver()
        if blocks > 8:
            check(driver.cuFuncSetAttribute(
                self.handle, driver.CUfunction_attribute.CU_FUNC_ATTRIBUTE_NON_PORTABLE_CLUSTER_SIZE_ALLOWED, 1),
                f"cuFuncSetAttribute('{self.name}', NON_PORTABLE_CLUSTER_SIZE_ALLOWED)")
        config = cluster_launch_config(blocks, threads, blocks, _legacy_stream())
        status, count = driver.cuOccupancyMaxActiveClusters(self.handle, config)
        if int(status):  # a size the GPU does not launch at all
            return 0
        return int(count)

    def max_active_blocks(self, threads: int, shared_bytes: int = 0) -> int:
        """Blocks of `threads` threads that one multiprocessor holds at once (occupancy)."""
        return int(check(_driver().cuOccupancyMaxActiveBlocksPerMultiprocessor(self.handle, threads, shared_bytes),
                         f"cuOccupancyMaxActiveBlocksPerMultiprocessor('{self.name}')"))
