"""The CUDA executable's launch metadata as plain data, cached with the PTX.

Launching the kernels of a PTX module needs more than its text: each kernel's entry name, the
arrays it takes and in which order, the spike lists it emits into (their scratch buffers and
compactions), how many positions a launch has and how many lanes share a row (grid sizes), the
error messages behind the codes a kernel records, and for the tick kernel the layout of its
pointer table and the blocks its largest launch can use. All of it is fixed by the lowering to
LLVM IR (`cuda_codegen.lower_for_cuda`, `cuda_tick_kernel.lower_for_tick_kernel`), which costs
0.1-0.3 s in a fresh process (the lowering, and networkx through the tick kernel's phases), so the
kernel cache keeps it next to the PTX under the same key (`<key>.launch.json`), and a hit never
lowers. A miss computes it from the lowered module (`from_text`), and the executable reads only
this, never the lowered module, so a hit and a miss launch alike.

The file is JSON of these dataclasses (no pickle: nothing in it is code). `loads` checks the
format version, the fields and their types, and raises ValueError for anything else; the cache
treats that as a damaged entry and builds again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from spikec.backends import cuda_tick_kernel
from spikec.backends.cuda_codegen import CudaModuleText

FORMAT_VERSION = 1
SUFFIX = ".launch.json"


@dataclass(frozen=True)
class KernelLaunch:
    """One kernel of the module: how `CudaExecutable` calls it (see `lower_to_llvm.KernelABI`)."""

    kernel: str                    # the kernel-IR name (plan.kernels' key)
    function_name: str             # the PTX entry
    arrays: tuple[str, ...]        # its array parameters, in order
    emits: tuple[str, ...]         # the spike lists it emits into, in op order
    position_capacity: int         # the most positions a launch has (grid, scratch sizes)
    row_lanes: int                 # threads per row of a row space


@dataclass(frozen=True)
class TickTable:
    """What `spikec_ticks` expects of its launch: its pointer table is `arrays`' buffers, then
    the flags, values and count buffers of each (kernel, list) of `emits`; `grid_blocks`, the
    blocks its largest launch can use (grid shape; the executable caps it at what fits)."""

    arrays: tuple[str, ...]
    emits: tuple[tuple[str, str], ...]
    grid_blocks: int


@dataclass(frozen=True)
class LaunchMetadata:
    """Everything the executable needs from the lowering besides the PTX."""

    kernels: tuple[KernelLaunch, ...]                  # in the module's kernel order
    errors: tuple[str, ...]                            # error code - 1 -> message ({value} inside)
    compaction_errors: tuple[tuple[str, str, int], ...]  # (kernel, list, error code)
    tick: TickTable | None                             # with the tick kernel only

    def kernel(self, name: str) -> KernelLaunch:
        """The kernel called `name` in the kernel IR."""
        for launch in self.kernels:
            if launch.kernel == name:
                return launch
        raise KeyError(name)

    def compaction_error(self, kernel: str, spike_list: str) -> int:
        """The error code the compaction of `spike_list` after `kernel` records on overflow."""
        for owner, name, code in self.compaction_errors:
            if (owner, name) == (kernel, spike_list):
                return code
        raise KeyError((kernel, spike_list))


def from_text(text: CudaModuleText, tick_shape: cuda_tick_kernel.TickShape | None) -> LaunchMetadata:
    """The metadata of a freshly lowered module (with `tick_shape`, of its tick kernel)."""
    lowered = text.lowered
    kernels = tuple(KernelLaunch(abi.kernel, abi.function_name, tuple(abi.arrays),
                                 tuple(op.spike_list.name for op in abi.emits), abi.position_capacity,
                                 abi.row_lanes) for abi in lowered.kernels.values())
    tick = None
    if tick_shape is not None:
        tick = TickTable(tuple(cuda_tick_kernel.entry_arrays(lowered)),
                         tuple(cuda_tick_kernel.entry_emits(lowered)),
                         cuda_tick_kernel.grid_blocks(lowered, tick_shape.threads))
    compaction = tuple((kernel, name, code) for (kernel, name), code in text.compaction_errors.items())
    return LaunchMetadata(kernels, tuple(lowered.errors), compaction, tick)


def dumps(metadata: LaunchMetadata) -> bytes:
    """The JSON bytes of `metadata` (what `loads` reads back)."""
    return json.dumps({"format": FORMAT_VERSION, **asdict(metadata)}, separators=(",", ":")).encode()


def loads(data: bytes) -> LaunchMetadata:
    """The metadata `dumps` wrote; ValueError when the bytes are not exactly that."""
    try:
        document = json.loads(data)
        if document.pop("format") != FORMAT_VERSION:
            raise ValueError("another format version")
        _fields(document, LaunchMetadata)
        kernels = tuple(_kernel(entry) for entry in _list(document["kernels"]))
        errors = tuple(_string(message) for message in _list(document["errors"]))
        compaction = tuple((_string(kernel), _string(name), _integer(code))
                           for kernel, name, code in _list(document["compaction_errors"]))
        tick = document["tick"]
        if tick is not None:
            _fields(tick, TickTable)
            tick = TickTable(tuple(_string(name) for name in _list(tick["arrays"])),
                             tuple((_string(kernel), _string(name)) for kernel, name in _list(tick["emits"])),
                             _integer(tick["grid_blocks"]))
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"damaged launch metadata: {error!r}") from None
    return LaunchMetadata(kernels, errors, compaction, tick)


def _kernel(entry: object) -> KernelLaunch:
    _fields(entry, KernelLaunch)
    return KernelLaunch(_string(entry["kernel"]), _string(entry["function_name"]),
                        tuple(_string(name) for name in _list(entry["arrays"])),
                        tuple(_string(name) for name in _list(entry["emits"])),
                        _integer(entry["position_capacity"]), _integer(entry["row_lanes"]))


def _fields(entry: object, cls: type) -> None:
    if not isinstance(entry, dict) or set(entry) != set(cls.__dataclass_fields__):
        raise ValueError(f"not the fields of {cls.__name__}: {entry!r:.200}")


def _list(value: object) -> list:
    if not isinstance(value, list):
        raise ValueError(f"expected a list, not {value!r:.200}")
    return value


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, not {value!r:.200}")
    return value


def _integer(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"expected an integer, not {value!r:.200}")
    return value
