"""Kernel launches: parameters packed into the array of pointers cuLaunchKernel takes, one-off
launches, and prepared launches that cost one driver call.

Import `spikec.backends.cuda_driver` (the facade) rather than this module.
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any, Sequence

import numpy as np

from .cuda_driver_core import Function, Stream, _driver, check, cluster_launch_config, stream_handle


def param_bytes(value: Any) -> bytes:
    """The bytes a kernel parameter holds: a device pointer (anything with an int
    `device_pointer`, or a `CUdeviceptr`) is 8 bytes; a numpy scalar or ctypes value keeps its
    own width. Plain Python int/float are refused: their width would be a guess."""
    pointer = getattr(value, "device_pointer", None)
    if pointer is not None:
        return int(pointer).to_bytes(8, "little")
    if isinstance(value, np.generic):
        return value.tobytes()
    if isinstance(value, (ctypes._SimpleCData, ctypes.Structure)):
        return bytes(value)
    if type(value).__name__ == "CUdeviceptr":
        return int(value).to_bytes(8, "little")
    raise TypeError(f"kernel parameter {value!r} of type {type(value).__name__} has no fixed width: "
                    "pass a DeviceBuffer, a numpy scalar (np.int32(n), np.float64(x)) or a ctypes value")


# struct formats of the numpy scalar types, so that packing skips the general path.
_SCALAR_FORMATS = {np.float32: "<f", np.float64: "<d", np.int8: "<b", np.uint8: "<B",
                   np.int16: "<h", np.uint16: "<H", np.int32: "<i", np.uint32: "<I",
                   np.int64: "<q", np.uint64: "<Q"}
_ARRAY_TYPES: dict[int, type] = {}          # cache: ctypes array type of 2N uint64 words, by N


class KernelParams:
    """Kernel parameters packed once into the form cuLaunchKernel's `kernelParams` takes: an array
    of N pointers, each to one parameter's bytes (the driver reads sizes from the kernel image).

    One ctypes array of 2N 8-byte words holds the N pointers, then N slots (PTX scalars and
    pointers are at most 8 bytes). Packing once and launching many times keeps per-launch host
    work to one driver call; `set(i, value)` rewrites one slot (a step counter, say) in place.
    Packing is a few struct writes because a plain `launch` pays for it on every call."""

    __slots__ = ("count", "_words", "address")

    def __init__(self, args: Sequence[Any]):
        count = self.count = len(args)
        array_type = _ARRAY_TYPES.get(count)
        if array_type is None:
            array_type = _ARRAY_TYPES[count] = ctypes.c_uint64 * (2 * count)
        self._words = array_type()
        # The address of the pointer array (0 for a kernel without parameters).
        self.address = ctypes.addressof(self._words) if count else 0
        slots = self.address + 8 * count
        struct.pack_into(f"<{count}Q", self._words, 0, *range(slots, slots + 8 * count, 8))
        for index, value in enumerate(args):
            self.set(index, value)

    def set(self, index: int, value: Any) -> None:
        word = self.count + index
        scalar_format = _SCALAR_FORMATS.get(type(value))
        if scalar_format is not None:
            self._words[word] = 0
            struct.pack_into(scalar_format, self._words, 8 * word, value)
            return
        pointer = getattr(value, "device_pointer", None)
        if pointer is not None:
            self._words[word] = pointer
            return
        raw = param_bytes(value)
        if len(raw) > 8:
            raise TypeError(f"kernel parameter {index} is {len(raw)} bytes; at most 8 are supported")
        self._words[word] = int.from_bytes(raw.ljust(8, b"\0"), "little")

    def slot_bytes(self, index: int) -> bytes:
        return self._words[self.count + index].to_bytes(8, "little")


def _dim3(value: int | Sequence[int]) -> tuple[int, int, int]:
    if type(value) is int and value >= 1:                  # the common case, quickly
        return value, 1, 1
    dims = (value,) if isinstance(value, (int, np.integer)) else tuple(value)
    if not 1 <= len(dims) <= 3 or any(int(d) < 1 for d in dims):
        raise ValueError(f"grid and block sizes are 1 to 3 positive integers, got {value!r}")
    return tuple(int(d) for d in dims) + (1,) * (3 - len(dims))


def launch(function: Function, grid: int | Sequence[int], block: int | Sequence[int],
           args: Sequence[Any] | KernelParams = (), stream: Stream | None = None,
           shared_mem: int = 0) -> None:
    """Launch `function` on `grid` blocks of `block` threads with `args` (see `param_bytes`).

    `args` may be a prepacked `KernelParams` (cheaper for repeated launches; `PreparedLaunch` is
    cheaper still). The launch is asynchronous: errors inside the kernel show up at the next
    synchronizing call."""
    params = args if isinstance(args, KernelParams) else KernelParams(args)
    gx, gy, gz = _dim3(grid)
    bx, by, bz = _dim3(block)
    status, = _driver().cuLaunchKernel(function.handle, gx, gy, gz, bx, by, bz, shared_mem,
                                       stream_handle(stream), params.address, 0)
    if int(status):
        check((status,), f"cuLaunchKernel('{function.name}', grid={grid}, block={block})")


class PreparedLaunch:
    """One kernel launch with everything resolved ahead: calling it costs one cuLaunchKernel.

    For step loops that are not captured in a graph; `params.set(i, value)` changes an argument
    between calls. `cooperative`: cuLaunchCooperativeKernel, which fails rather than start a grid
    whose blocks cannot all be resident at once (a kernel with a grid barrier needs that).
    `cluster`: cuLaunchKernelEx with clusters of that many blocks (a one-dimensional grid and
    block; the blocks of a cluster are resident together)."""

    def __init__(self, function: Function, grid: int | Sequence[int], block: int | Sequence[int],
                 args: Sequence[Any] | KernelParams = (), stream: Stream | None = None,
                 shared_mem: int = 0, cooperative: bool = False, cluster: int = 0):
        self.function = function
        self.params = args if isinstance(args, KernelParams) else KernelParams(args)
        driver = _driver()
        if cluster:
            if cooperative:
                raise ValueError("a launch is cooperative or in clusters, not both")
            config = cluster_launch_config(_dim3(grid)[0], _dim3(block)[0], cluster, stream_handle(stream),
                                           shared_mem)
            self._launch, self._name = driver.cuLaunchKernelEx, "cuLaunchKernelEx"
            self._arguments = (config, function.handle, self.params.address, 0)
            return
        self._arguments = (function.handle, *_dim3(grid), *_dim3(block), shared_mem,
                           stream_handle(stream), self.params.address)
        if cooperative:
            self._launch, self._name = driver.cuLaunchCooperativeKernel, "cuLaunchCooperativeKernel"
        else:
            self._launch, self._name = driver.cuLaunchKernel, "cuLaunchKernel"
            self._arguments += (0,)

    def __call__(self) -> None:
        status, = self._launch(*self._arguments)
        if int(status):
            check((status,), f"{self._name}('{self.function.name}')")
