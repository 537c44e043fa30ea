"""CUDA graphs: record a sequence of launches and copies once, replay it with one driver call.

A graph is built by *stream capture*: the recording function issues its launches on a stream in
capture mode, the driver records them as nodes instead of running them, and the result is
instantiated once. We capture rather than assemble kernel nodes one by one (cuGraphAddKernelNode)
because capture records exactly what a plain run does (the same `launch`, memset and copy calls,
parameters packed the same way), so a step loop has one code path whether or not it is captured,
and memsets and copies need no node type of their own. The price is that the recording function
must not synchronize (the driver reports CUDA_ERROR_STREAM_CAPTURE_* if it does).

A replay costs one cuGraphLaunch and no other host work: the parameters, including device
pointers, are frozen at capture. Anything that changes between steps (the step counter, the
spike count) must live in device memory and be updated by a kernel in the graph.
"""

from __future__ import annotations

import gc
from typing import Callable

from .cuda_driver_core import Stream, _driver, check


class Graph:
    """An instantiated (executable) CUDA graph."""

    def __init__(self, graph_handle, stream: Stream):
        driver = _driver()
        self.stream = stream
        self.graph = graph_handle
        self.node_count = int(check(driver.cuGraphGetNodes(graph_handle, 0), "cuGraphGetNodes")[-1])
        self.executable = check(driver.cuGraphInstantiate(graph_handle, 0), "cuGraphInstantiate")
        # Upload once now, so the first replay is not slower than the others.
        check(driver.cuGraphUpload(self.executable, stream.handle), "cuGraphUpload")

    @classmethod
    def capture(cls, record: Callable[[Stream], None], stream: Stream | None = None) -> "Graph":
        """Capture what `record(stream)` issues on `stream` (a new one if not given) into a graph.

        Capture ends even when `record` raises, so the stream stays usable. Python's cyclic
        garbage collector is off meanwhile: a collection inside `record` may finalize a dead
        executable's `DeviceBuffer`, and its `cuMemFree` on this thread invalidates the capture
        (CUDA_ERROR_STREAM_CAPTURE_INVALIDATED at the next launch; seen on the H100 after a
        failed test left an executable in a reference cycle)."""
        driver = _driver()
        stream = stream or Stream()
        mode = driver.CUstreamCaptureMode.CU_STREAM_CAPTURE_MODE_THREAD_LOCAL
        collecting = gc.isenabled()
        gc.disable()
        try:
            check(driver.cuStreamBeginCapture(stream.handle, mode), "cuStreamBeginCapture")
            try:
                record(stream)
            except BaseException:
                status, graph = driver.cuStreamEndCapture(stream.handle)
                if int(status) == 0 and graph is not None and int(graph):
                    driver.cuGraphDestroy(graph)
                raise
            graph = check(driver.cuStreamEndCapture(stream.handle), "cuStreamEndCapture")
        finally:
            if collecting:
                gc.enable()
        return cls(graph, stream)

    def launch(self, times: int = 1, stream: Stream | None = None) -> None:
        """Replay the graph `times` times on `stream` (default: the capture stream); asynchronous."""
        driver = _driver()
        handle = (stream or self.stream).handle
        executable = self.executable
        graph_launch = driver.cuGraphLaunch
        for _ in range(times):
            status, = graph_launch(executable, handle)
            if int(status):
                check((status,), "cuGraphLaunch")

    def synchronize(self) -> None:
        self.stream.synchronize()

    def destroy(self) -> None:
        driver = _driver()
        if self.executable is not None:
            check(driver.cuGraphExecDestroy(self.executable), "cuGraphExecDestroy")
            check(driver.cuGraphDestroy(self.graph), "cuGraphDestroy")
            self.executable = self.graph = None
