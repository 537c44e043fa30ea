"""spikec's CUDA driver layer, in one import: a thin, checked layer over `cuda.bindings.driver`.

    from spikec.backends import cuda_driver as cuda
    if cuda.available():
        context = cuda.Context.primary()                  # device 0, made current
        module = cuda.Module(ptx_text)                    # JIT errors carry the JIT log
        x = cuda.DeviceArray.from_host(np.arange(1024, dtype=np.float32))
        cuda.launch(module.function("saxpy"), grid=4, block=256, args=[x, np.float32(2), np.int32(1024)])
        graph = cuda.Graph.capture(lambda s: cuda.launch(step, 4, 256, args, stream=s))
        graph.launch(times=1000)                          # one cuGraphLaunch per replay

The pieces live in `cuda_driver_core` (errors, device, context, streams, events, modules),
`cuda_driver_launch` (kernel parameters and launches), `cuda_driver_memory` (device buffers and arrays, pinned host arrays) and `cuda_graph`.
Nothing imports cuda-bindings until a GPU is asked for; `available()` and `unavailable_reason()`
work everywhere. docs/cuda-driver.md has the measured costs (launch, graph node, copy, JIT).
"""

from .cuda_driver_core import (CudaError, Context, Device, Event, Function, Module, Stream, available,
                               check, memory_info, require_available, unavailable_reason)
from .cuda_driver_launch import KernelParams, PreparedLaunch, launch, param_bytes
from .cuda_driver_memory import DeviceArray, DeviceBuffer, pinned_empty
from .cuda_graph import Graph

__all__ = [
    "CudaError", "Context", "Device", "DeviceArray", "DeviceBuffer", "Event", "Function", "Graph",
    "KernelParams", "Module", "PreparedLaunch", "Stream", "available", "check", "launch",
    "memory_info", "param_bytes", "pinned_empty", "require_available", "unavailable_reason",
]
