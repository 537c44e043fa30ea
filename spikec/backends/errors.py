"""The errors the backends raise (all `SpikecError`s, so users see one kind of message)."""

from __future__ import annotations

from spikec.errors import SpikecError


class UnsupportedOpError(SpikecError, NotImplementedError):
    """An op (or a form of it) that a backend's lowering does not handle yet. Names the op, the
    kernel and how to reproduce the failure with ``spikec-opt``."""

    kind = "unsupported op"

    def __init__(self, op_name: str, kernel: str, target: str, detail: str = ""):
        self.op_name = op_name
        message = f"the {target} backend cannot lower {op_name} (kernel @{kernel})"
        if detail:
            message += f": {detail}"
        hint = ("reproduce with `spikec-opt FILE.ir` on the kernel IR printed by "
                "`--print-ir-after-all`, then report the op and the pipeline")
        super().__init__(message, hint=hint)


class BackendUnavailableError(SpikecError):
    """A backend that cannot run on this machine (no GPU, no driver, no cuda-bindings)."""

    kind = "backend unavailable"


class ToolchainError(SpikecError):
    """A code-generation tool that is missing or failed (libdevice, ptxas, LLVM)."""

    kind = "toolchain error"
