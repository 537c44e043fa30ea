"""The pipeline cache: a model is lowered by the pass pipeline once, not once per process.

Running the default pipeline costs 0.2-1.4 s on a warm integration cache (importing the pass
modules and networkx, lowering, verifying after each pass, sympy for event-driven equations),
while its result depends only on its input: the model IR, the pipeline (passes and options), the
pass manager's settings, and the code that runs (spikec's sources; sympy, numpy and Python's
versions). None of the passes reads the device, the environment or anything outside the module,
so the result is the same for every backend; each backend's kernel cache then keys on its target.

Key: sha256 of the printed model IR (exact: floats by `repr`; the model IR holds no per-synapse
data, only sizes, constants and code), the pipeline string, the settings, the cache format,
spikec's version, a hash of every `.py` and `.lark` file of the spikec package (so any edit to a
pass, the IR or the integrator misses), sympy's `release.py`, numpy's and Python's versions.
Value: the kernel IR after the pipeline, as `spikec.ir.serialize` bytes. Two levels, like the
kernel and integration caches:

* in memory: key -> bytes, decoded afresh on each hit (callers own and may change the module);
* on disk, under ``$SPIKEC_CACHE_DIR/pipeline`` (default ``~/.cache/spikec/pipeline``): key ->
  ``<key>.module``.

A miss returns `loads(dumps(module))` too, so the module a later hit returns is built the same way
as the one the first build used (same value numbering, uses in text order): the backend sees the
same objects either way. Failures (a pass error) are not cached. What prints as the passes run
(`spikec ir --print-ir-after-all`, `schedule{explain=true}`) and settings that are not plain
values bypass the cache. Disable the disk level with
``SPIKEC_CACHE_DIR=off`` or pass ``PipelineCache(directory=None)``. Files are written to a temporary
name and renamed. The files hold pickled Python classes: the cache directory is trusted as the
kernel cache's compiled objects, which spikec loads and runs, are.
"""

from __future__ import annotations

import hashlib
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from spikec.cache_directory import CacheStatistics, DiskStore, cache_directory
from spikec.ir import serialize
from spikec.ir.core import Module
from spikec.ir.printer import print_module

FORMAT_VERSION = 1
# Pass-manager settings that do not print: the only ones a cached result may stand for.
CACHEABLE_SETTINGS = frozenset({"verify_each"})
# Pass options that print (to stderr) as the pass runs: a pipeline setting one is not cached.
PRINTING_OPTION = re.compile(r"\bexplain\s*=\s*(?!false\b|0\b)")


@dataclass
class PipelineCache:
    """An explicit cache object (see the module docstring)."""

    directory: Path | None
    memory: dict[str, bytes] = field(default_factory=dict)
    statistics: CacheStatistics = field(default_factory=CacheStatistics)

    @classmethod
    def from_environment(cls) -> "PipelineCache":
        return cls(cache_directory("pipeline"))

    @staticmethod
    def cacheable(pipeline: str, settings: Mapping[str, object]) -> bool:
        """Whether a cached result may stand for running `pipeline` with `settings`: not when
        they print (the pass manager's print settings, `schedule{explain=true}`)."""
        return not PRINTING_OPTION.search(pipeline) and all(
            k in CACHEABLE_SETTINGS and isinstance(v, (bool, int, str, type(None)))
            for k, v in settings.items())

    def key(self, model: Module, pipeline: str, settings: Mapping[str, object]) -> str:
        digest = hashlib.sha256()
        for name, value in sorted(versions().items()):
            digest.update(f"{name}={value}\0".encode())
        digest.update(f"pipeline={pipeline}\0".encode())
        digest.update(f"settings={sorted((k, repr(v)) for k, v in settings.items())}\0".encode())
        digest.update(print_module(model).encode())
        return digest.hexdigest()

    def get_or_lower(self, key: str, lower: Callable[[], Module]) -> tuple[Module, bool]:
        """(the lowered module for `key`, whether it came from the cache); on a miss `lower()`
        runs and its result is kept when it can be encoded."""
        data = self.memory.get(key)
        if data is not None:
            module = self._decode(data)
            if module is not None:
                self.statistics.memory_hits += 1
                return module, True
        data = DiskStore(self.directory).read(f"{key}.module")
        if data is not None:
            module = self._decode(data)
            if module is not None:
                self.statistics.disk_hits += 1
                self.memory[key] = data
                return module, True
        self.statistics.misses += 1
        module = lower()
        try:
            data = serialize.dumps(module)
        except ValueError:  # not encodable exactly: use it as it is, cache nothing
            return module, False
        self.memory[key] = data
        DiskStore(self.directory).write(f"{key}.module", data)
        return serialize.loads(data), False

    def clear_memory(self) -> None:
        self.memory.clear()

    @staticmethod
    def _decode(data: bytes) -> Module | None:
        try:
            return serialize.loads(data)
        except ValueError:  # damaged: lower again (and overwrite it)
            return None


_VERSIONS: list[dict[str, str]] = []


def versions() -> dict[str, str]:
    """What a lowered module depends on besides the model and the pipeline (computed once per
    process, ~6 ms, without importing sympy)."""
    if not _VERSIONS:
        import numpy

        import spikec
        from spikec.passes.integration_cache import versions as integration_versions

        package = Path(spikec.__file__).parent
        digest = hashlib.sha256()
        for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".lark")):
            digest.update(f"{path.relative_to(package).as_posix()}\0".encode())
            digest.update(path.read_bytes())
        _VERSIONS.append({"format": str(FORMAT_VERSION), "spikec": spikec.__version__,
                          "sources": digest.hexdigest(),
                          "sympy": integration_versions()["sympy"], "numpy": numpy.__version__,
                          "python": f"{platform.python_implementation()} {platform.python_version()}"})
    return _VERSIONS[0]


_DEFAULT: list[PipelineCache] = []


def default_pipeline_cache() -> PipelineCache:
    """The process's pipeline cache, configured from the environment on first use."""
    if not _DEFAULT:
        _DEFAULT.append(PipelineCache.from_environment())
    return _DEFAULT[0]
