"""Device memory: raw buffers (`DeviceBuffer`), typed arrays over them (`DeviceArray`), and page-
locked host arrays (`pinned_empty`) for copies that really run asynchronously.

Host arrays are passed to the driver by address, so they must be C-contiguous; an asynchronous
copy keeps its host array alive on the stream until `Stream.synchronize()`. A copy from pageable
(ordinary numpy) memory is staged by the driver and returns only when the host side is read.
"""

from __future__ import annotations

import ctypes
import weakref
from typing import Any

import numpy as np

from .cuda_driver_core import CudaError, Stream, _driver, check, memory_info, stream_handle


def _host_address(array: np.ndarray, nbytes: int, what: str) -> int:
    if not array.flags.c_contiguous:
        raise ValueError(f"{what}: the host array must be C-contiguous (use np.ascontiguousarray)")
    if array.nbytes < nbytes:
        raise ValueError(f"{what}: the host array holds {array.nbytes} bytes, {nbytes} are needed")
    return int(array.ctypes.data)


def _mib(nbytes: int) -> str:
    return f"{nbytes / 2**20:.1f} MiB"


class DeviceBuffer:
    """`nbytes` bytes of device memory (cuMemAlloc), freed by `free()` or when collected.

    Passed as a kernel argument, a buffer is its device address (`device_pointer`)."""

    def __init__(self, nbytes: int):
        if nbytes < 0:
            raise ValueError(f"a device buffer cannot hold {nbytes} bytes")
        self.nbytes = int(nbytes)
        self.device_pointer = 0          # size 0: no allocation, a null pointer
        if self.nbytes:
            status, pointer = _driver().cuMemAlloc(self.nbytes)
            if int(status):
                self._raise_allocation_error(status)
            self.device_pointer = int(pointer)

    def _raise_allocation_error(self, status: Any) -> None:
        try:
            free, total = memory_info()
            sizes = f"asked for {_mib(self.nbytes)}; {_mib(free)} free of {_mib(total)}"
        except CudaError:
            sizes = f"asked for {_mib(self.nbytes)}"
        try:
            check((status,), f"cuMemAlloc({self.nbytes} bytes)")
        except CudaError as error:
            raise CudaError(f"{error.message}: {sizes}", error.call, error.error_name,
                            "use fewer neurons or synapses, free other GPU programs' memory, "
                            "or use set_device('cpu')") from None

    def free(self) -> None:
        """Release the memory (idempotent)."""
        if self.device_pointer:
            pointer, self.device_pointer = self.device_pointer, 0
            check(_driver().cuMemFree(pointer), "cuMemFree")

    def __del__(self):
        try:
            self.free()
        except Exception:                # interpreter shutdown, or a context already gone
            pass

    def _check_size(self, nbytes: int, what: str) -> int:
        nbytes = self.nbytes if nbytes is None else int(nbytes)
        if not 0 <= nbytes <= self.nbytes:
            raise ValueError(f"{what}: {nbytes} bytes do not fit a buffer of {self.nbytes}")
        return nbytes

    def copy_from_host(self, array: np.ndarray, stream: Stream | None = None, nbytes: int | None = None) -> None:
        """Copy the host array's first `nbytes` bytes (default: the buffer's size) in; with a
        stream, asynchronously (only truly so from pinned memory)."""
        nbytes = self._check_size(nbytes, "copy to device")
        if not nbytes:
            return
        source = _host_address(array, nbytes, "copy to device")
        driver = _driver()
        if stream is None:
            check(driver.cuMemcpyHtoD(self.device_pointer, source, nbytes), "cuMemcpyHtoD")
        else:
            check(driver.cuMemcpyHtoDAsync(self.device_pointer, source, nbytes, stream.handle), "cuMemcpyHtoDAsync")
            stream.keep_alive(array)

    def copy_to_host(self, array: np.ndarray, stream: Stream | None = None, nbytes: int | None = None) -> np.ndarray:
        """Copy the first `nbytes` bytes out into `array`; with a stream, asynchronously (the
        array is valid after `stream.synchronize()`). Returns `array`."""
        nbytes = self._check_size(nbytes, "copy to host")
        if not nbytes:
            return array
        if not array.flags.writeable:
            raise ValueError("copy to host: the host array is read-only")
        target = _host_address(array, nbytes, "copy to host")
        driver = _driver()
        if stream is None:
            check(driver.cuMemcpyDtoH(target, self.device_pointer, nbytes), "cuMemcpyDtoH")
        else:
            check(driver.cuMemcpyDtoHAsync(target, self.device_pointer, nbytes, stream.handle), "cuMemcpyDtoHAsync")
            stream.keep_alive(array)
        return array

    def copy_from_device(self, source: "DeviceBuffer", nbytes: int | None = None, stream: Stream | None = None) -> None:
        """Device-to-device copy of `nbytes` (default: this buffer's size) from `source`."""
        nbytes = self._check_size(nbytes, "device copy")
        source._check_size(nbytes, "device copy")
        if nbytes:
            check(_driver().cuMemcpyDtoDAsync(self.device_pointer, source.device_pointer, nbytes,
                                              stream_handle(stream)), "cuMemcpyDtoDAsync")

    def memset(self, byte: int = 0, stream: Stream | None = None) -> None:
        """Set every byte to `byte` (asynchronous on `stream`, or the default stream)."""
        if self.nbytes:
            check(_driver().cuMemsetD8Async(self.device_pointer, byte & 0xFF, self.nbytes,
                                            stream_handle(stream)), "cuMemsetD8Async")

    def memset32(self, word: int, stream: Stream | None = None) -> None:
        """Set every 4-byte word to `word` (e.g. the bits of a float32); size must be a multiple of 4."""
        if self.nbytes % 4:
            raise ValueError(f"memset32 needs a size that is a multiple of 4, not {self.nbytes}")
        if self.nbytes:
            check(_driver().cuMemsetD32Async(self.device_pointer, word & 0xFFFFFFFF, self.nbytes // 4,
                                             stream_handle(stream)), "cuMemsetD32Async")

    def __repr__(self) -> str:
        return f"DeviceBuffer({self.nbytes} bytes at {self.device_pointer:#x})"


class DeviceArray:
    """A typed, C-ordered array in device memory: a `DeviceBuffer` with a shape and dtype.

    Passed as a kernel argument, it is its device address."""

    def __init__(self, shape: int | tuple[int, ...], dtype: Any = np.float64):
        self.shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.size = int(np.prod(self.shape, dtype=np.int64))
        self.buffer = DeviceBuffer(self.size * self.dtype.itemsize)

    @classmethod
    def from_host(cls, array: np.ndarray, stream: Stream | None = None) -> "DeviceArray":
        """A device copy of `array` (same shape and dtype)."""
        array = np.ascontiguousarray(array)
        device_array = cls(array.shape, array.dtype)
        device_array.buffer.copy_from_host(array, stream)
        return device_array

    @classmethod
    def zeros(cls, shape: int | tuple[int, ...], dtype: Any = np.float64,
              stream: Stream | None = None) -> "DeviceArray":
        """An array of zero bytes; the memset is ordered on `stream` (default: the legacy stream)."""
        device_array = cls(shape, dtype)
        device_array.buffer.memset(0, stream)
        return device_array

    @property
    def device_pointer(self) -> int:
        return self.buffer.device_pointer

    @property
    def nbytes(self) -> int:
        return self.buffer.nbytes

    def to_host(self, out: np.ndarray | None = None, stream: Stream | None = None) -> np.ndarray:
        """The contents as a numpy array (into `out` if given; with a stream, valid after it syncs)."""
        if out is None:
            out = np.empty(self.shape, self.dtype)
        elif out.dtype != self.dtype or out.size != self.size:
            raise ValueError(f"to_host: out is {out.dtype}[{out.size}], the array is {self.dtype}[{self.size}]")
        return self.buffer.copy_to_host(out, stream)

    def set(self, array: np.ndarray, stream: Stream | None = None) -> None:
        """Overwrite the contents from a host array of the same size (converted to this dtype)."""
        array = np.ascontiguousarray(array, dtype=self.dtype)
        if array.size != self.size:
            raise ValueError(f"set: {array.size} values for an array of {self.size}")
        self.buffer.copy_from_host(array, stream)

    def free(self) -> None:
        self.buffer.free()

    def __repr__(self) -> str:
        return f"DeviceArray(shape={self.shape}, dtype={self.dtype}, at {self.device_pointer:#x})"


def pinned_empty(shape: int | tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """A numpy array in page-locked host memory (cuMemAllocHost), freed with the array.

    Copies between pinned memory and the device run asynchronously and at full PCIe speed."""
    dtype = np.dtype(dtype)
    count = int(np.prod((shape,) if isinstance(shape, (int, np.integer)) else shape, dtype=np.int64))
    nbytes = max(1, count * dtype.itemsize)
    address = int(check(_driver().cuMemAllocHost(nbytes), f"cuMemAllocHost({nbytes} bytes)"))
    storage = (ctypes.c_byte * nbytes).from_address(address)
    weakref.finalize(storage, _free_host, address)
    return np.frombuffer(storage, dtype=dtype, count=count).reshape(shape)


def _free_host(address: int) -> None:
    try:
        _driver().cuMemFreeHost(address)
    except Exception:                    # interpreter shutdown
        pass
