"""Code generators from kernel IR: the shared lowering to LLVM IR (`lower_to_llvm`), the CPU target
(`cpu`: MCJIT, the whole schedule loop in native code) and the CUDA target (`cuda_codegen`: PTX
with libdevice; `cuda`: the executable replaying CUDA graphs; `cuda_driver`: the thin, checked layer
over the CUDA driver API that loads and launches it). docs/backends.md explains the design.

    backend = get_backend("cpu")          # or "cuda"
    exe = backend.executable(module, arrays, seed=1)
    exe.run(100)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from spikec.backends.errors import BackendUnavailableError
from spikec.backends.executable import Executable
from spikec.ir.core import Module


@dataclass(frozen=True)
class Backend:
    """A target: `executable(module, arrays=None, seed=0)` compiles (or reuses) and loads."""

    name: str
    factory: Callable[..., Executable]

    def executable(self, module: Module, arrays: Mapping[str, np.ndarray] | None = None,
                   seed: int = 0, **options: object) -> Executable:
        return self.factory(module, arrays, seed, **options)


def get_backend(name: str) -> Backend:
    """The backend called `name` ("cpu" or "cuda"); "cuda" raises `BackendUnavailableError` when
    cuda-bindings, the driver or a GPU is missing."""
    if name == "cpu":
        from spikec.backends.cpu import CpuExecutable

        return Backend("cpu", CpuExecutable)
    if name == "cuda":
        from spikec.backends.cuda import CudaExecutable, require_cuda

        require_cuda()
        return Backend("cuda", CudaExecutable)
    raise BackendUnavailableError(f"unknown backend {name!r}", hint="use 'cpu' or 'cuda'")


__all__ = ["Backend", "Executable", "get_backend"]
