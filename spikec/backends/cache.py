"""The kernel cache: a module never compiles twice in a process, and compiled artifacts survive it.

Key: sha256 of the printed kernel IR, the target (triple, CPU name and features, or sm_XX, and
the backend's options: the CUDA tick kernel's shape, row lanes) and the versions that change the
output (spikec, a hash of every source file of the spikec package, llvmlite, LLVM, libdevice's
hash). Two levels:

* in memory: key -> the loaded program (a JIT engine with its entry point, or a PTX text and its
  launch metadata), so a second compile of the same module in the process costs a dictionary lookup;
* on disk, under ``$SPIKEC_CACHE_DIR`` (default ``~/.cache/spikec``): key -> the program's files.
  CUDA: the PTX text (``<key>.ptx``) and the launch metadata (``<key>.launch.json``,
  `spikec.backends.cuda_launch`), so a hit does no lowering at all. CPU: the object file
  (``<key>.o``, through MCJIT's object-cache hooks); on a hit the cheap lowering to LLVM IR runs
  again (it also rebuilds the kernel table), the optimisation and machine-code generation do not.

Disable the disk level with ``SPIKEC_CACHE_DIR=off`` (or ``none``/``0``/empty), or pass
``CompileCache(directory=None)``; ``cache.clear_memory()`` forgets the in-memory level.
Files are written to a temporary name and renamed, so concurrent processes never read half a file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence, TypeVar

import llvmlite
from llvmlite import binding as llvm

from spikec.cache_directory import CacheStatistics, DiskStore, cache_directory

T = TypeVar("T")


@dataclass
class CompileCache:
    """An explicit cache object (see the module docstring)."""

    directory: Path | None
    memory: dict[str, object] = field(default_factory=dict)
    statistics: CacheStatistics = field(default_factory=CacheStatistics)

    @classmethod
    def from_environment(cls) -> "CompileCache":
        return cls(cache_directory())

    def key(self, module_text: str, target: str, **versions: str) -> str:
        parts = [module_text, target, *(f"{k}={v}" for k, v in sorted({**default_versions(), **versions}.items()))]
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def get_or_build(self, key: str, build: Callable[[], T]) -> T:
        """The in-memory program for `key`, built (and kept) on a miss."""
        if key in self.memory:
            self.statistics.memory_hits += 1
            return self.memory[key]  # type: ignore[return-value]
        program = build()
        self.memory[key] = program
        return program

    def read(self, key: str, suffix: str) -> bytes | None:
        data = DiskStore(self.directory).read(f"{key}{suffix}")
        if data is not None:
            self.statistics.disk_hits += 1
        return data

    def read_entry(self, key: str, suffixes: Sequence[str], decode: Callable[[list[bytes]], T]) -> T | None:
        """`decode` of the files of one entry (`<key><suffix>` for each suffix), counted as one
        disk hit; None when a file is missing or `decode` raises ValueError (a damaged entry:
        the caller builds again and overwrites it)."""
        store = DiskStore(self.directory)
        files = [store.read(f"{key}{suffix}") for suffix in suffixes]
        if any(data is None for data in files):
            return None
        try:
            value = decode(files)  # type: ignore[arg-type]
        except ValueError:
            return None
        self.statistics.disk_hits += 1
        return value

    def write(self, key: str, suffix: str, data: bytes) -> None:
        DiskStore(self.directory).write(f"{key}{suffix}", data)

    def clear_memory(self) -> None:
        self.memory.clear()


def default_versions() -> dict[str, str]:
    """What compiled code depends on besides the module and the target. The sources are the
    whole package's, not only the backends': the lowering and the launch metadata also follow
    `spikec.ir` and the passes the CUDA tick kernel calls (`passes.kernel_dependencies`). The
    pipeline cache hashes the same files (once per process, ~6 ms), so a run pays nothing more."""
    import spikec
    from spikec.passes.pipeline_cache import versions

    return {"spikec": spikec.__version__, "sources": versions()["sources"], "llvmlite": llvmlite.__version__,
            "llvm": ".".join(map(str, llvm.llvm_version_info))}


_DEFAULT: list[CompileCache] = []


def default_cache() -> CompileCache:
    """The process's cache, configured from the environment on first use."""
    if not _DEFAULT:
        _DEFAULT.append(CompileCache.from_environment())
    return _DEFAULT[0]
