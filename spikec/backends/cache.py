"""The kernel cache: a module never compiles twice in a process, and compiled artifacts survive it.

Key: sha256 of the printed kernel IR, the target (triple, CPU name and features, or sm_XX) and the
versions that change the output (spikec, a fingerprint of the backend sources, llvmlite, LLVM,
libdevice's hash). Two levels:

* in memory: key -> the loaded program (a JIT engine with its entry point, or a PTX text and its
  kernel table), so a second compile of the same module in the process costs a dictionary lookup;
* on disk, under ``$SPIKEC_CACHE_DIR`` (default ``~/.cache/spikec``): key -> the expensive artifact,
  the PTX text (``<key>.ptx``) or the CPU object file (``<key>.o``, through MCJIT's object-cache
  hooks). On a disk hit the cheap lowering to LLVM IR runs again (it also rebuilds the kernel table),
  the optimisation and machine-code generation do not.

Disable the disk level with ``SPIKEC_CACHE_DIR=off`` (or ``none``/``0``/empty), or pass
``CompileCache(directory=None)``; ``cache.clear_memory()`` forgets the in-memory level.
Files are written to a temporary name and renamed, so concurrent processes never read half a file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TypeVar

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

    def write(self, key: str, suffix: str, data: bytes) -> None:
        DiskStore(self.directory).write(f"{key}{suffix}", data)

    def clear_memory(self) -> None:
        self.memory.clear()


_FINGERPRINT: list[str] = []


def default_versions() -> dict[str, str]:
    if not _FINGERPRINT:
        digest = hashlib.sha256()
        for path in sorted(Path(__file__).parent.glob("*.py")):
            digest.update(path.read_bytes())
        _FINGERPRINT.append(digest.hexdigest()[:16])
    import spikec

    return {"spikec": spikec.__version__, "backends": _FINGERPRINT[0], "llvmlite": llvmlite.__version__,
            "llvm": ".".join(map(str, llvm.llvm_version_info))}


_DEFAULT: list[CompileCache] = []


def default_cache() -> CompileCache:
    """The process's cache, configured from the environment on first use."""
    if not _DEFAULT:
        _DEFAULT.append(CompileCache.from_environment())
    return _DEFAULT[0]
