"""The integration cache: a system of differential equations is integrated with sympy once, not once
per build or per process.

Integrating is the most expensive step of a build (importing sympy alone takes ~0.3 s, expanding
and differentiating a Hodgkin-Huxley system another ~0.3 s), and its result depends only on its
input: the equations' right-hand sides (subexpressions substituted), which variables are
`(unless refractory)`, which functions are constant over a step, and the list of methods to try.

Key: sha256 of that input (code trees, encoded exactly: floats by `repr`), the cache format, the
spikec version, a fingerprint of the sources that compute the result (the state updaters, the
sympy conversion, the integrate pass) and sympy's `release.py`. Value: the method that applied and
the statements of one step. Two levels, like the kernel cache (`spikec/backends/cache.py`):

* in memory: key -> (method, statements), so a rebuild in the process costs a lookup;
* on disk, under ``$SPIKEC_CACHE_DIR/integrate`` (default ``~/.cache/spikec/integrate``): key ->
  a JSON file, so a new process needs neither sympy nor its import.

Failures (no method applies) are not cached: they raise, and are computed again next time.
Disable the disk level with ``SPIKEC_CACHE_DIR=off`` or pass ``IntegrationCache(directory=None)``;
`clear_memory()` forgets the in-memory level. Files are written to a temporary name and renamed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from spikec.cache_directory import CacheStatistics, DiskStore, cache_directory
from spikec.ir.expression import (BinaryOp, BoolOp, Call, Compare, Expr, Name, Number, Statement,
                                  UnaryOp)

FORMAT_VERSION = 1
Result = tuple[str, tuple[Statement, ...]]  # (method, statements of one step)


@dataclass
class IntegrationCache:
    """An explicit cache object (see the module docstring)."""

    directory: Path | None
    memory: dict[str, Result] = field(default_factory=dict)
    statistics: CacheStatistics = field(default_factory=CacheStatistics)

    @classmethod
    def from_environment(cls) -> "IntegrationCache":
        return cls(cache_directory("integrate"))

    def key(self, trees: dict[str, Expr], unless_refractory: Iterable[str],
            locally_constant: Iterable[str], methods: Iterable[str]) -> str:
        data = {"versions": versions(), "names": list(trees),
                "trees": [encode(tree) for tree in trees.values()],
                "unless_refractory": sorted(unless_refractory),
                "locally_constant": sorted(locally_constant), "methods": list(methods)}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    def get_or_integrate(self, key: str, integrate: Callable[[], Result]) -> Result:
        """The cached result for `key`; on a miss `integrate()` runs and its result is kept."""
        found = self.memory.get(key)
        if found is not None:
            self.statistics.memory_hits += 1
            return found
        found = self._read(key)
        if found is not None:
            self.statistics.disk_hits += 1
        else:
            self.statistics.misses += 1
            found = integrate()
            self._write(key, found)
        self.memory[key] = found
        return found

    def clear_memory(self) -> None:
        self.memory.clear()

    def _read(self, key: str) -> Result | None:
        data = DiskStore(self.directory).read(f"{key}.json")
        if data is None:
            return None
        try:
            decoded = json.loads(data)
            return decoded["method"], tuple(decode_statement(s) for s in decoded["statements"])
        except (ValueError, KeyError, TypeError):  # damaged: integrate again
            return None

    def _write(self, key: str, result: Result) -> None:
        method, statements = result
        text = json.dumps({"method": method, "statements": [encode_statement(s) for s in statements]})
        DiskStore(self.directory).write(f"{key}.json", text.encode())


_VERSIONS: list[dict[str, str]] = []


def versions() -> dict[str, str]:
    """What the cached results depend on besides their input (computed once per process, without
    importing sympy)."""
    if not _VERSIONS:
        import spikec

        passes = Path(__file__).parent
        sources = sorted((passes / "state_updaters").glob("*.py")) + [
            passes / "integrate.py", passes.parent / "ir" / "expression_sympy.py"]
        digest = hashlib.sha256()
        for path in sources:
            digest.update(path.read_bytes())
        spec = importlib.util.find_spec("sympy")
        release = Path(spec.origin).with_name("release.py") if spec and spec.origin else None
        sympy = release.read_text() if release is not None and release.exists() else "unknown"
        _VERSIONS.append({"format": str(FORMAT_VERSION), "spikec": spikec.__version__,
                          "sources": digest.hexdigest()[:16], "sympy": sympy.strip()})
    return _VERSIONS[0]


def encode(expr: Expr) -> list:
    """A JSON-able form of a code tree, exact (positions are left out)."""
    if isinstance(expr, Number):
        return ["Number", expr.value]
    if isinstance(expr, Name):
        return ["Name", expr.id]
    if isinstance(expr, UnaryOp):
        return ["UnaryOp", expr.op, encode(expr.operand)]
    if isinstance(expr, Call):
        return ["Call", expr.func, [encode(a) for a in expr.args]]
    if isinstance(expr, (BinaryOp, Compare, BoolOp)):
        return [type(expr).__name__, expr.op, encode(expr.left), encode(expr.right)]
    raise TypeError(f"not an expression tree: {expr!r}")


_BINARY = {"BinaryOp": BinaryOp, "Compare": Compare, "BoolOp": BoolOp}


def decode(data: list) -> Expr:
    kind = data[0]
    if kind == "Number":
        return Number(data[1])
    if kind == "Name":
        return Name(data[1])
    if kind == "UnaryOp":
        return UnaryOp(data[1], decode(data[2]))
    if kind == "Call":
        return Call(data[1], tuple(decode(a) for a in data[2]))
    return _BINARY[kind](data[1], decode(data[2]), decode(data[3]))


def encode_statement(statement: Statement) -> list:
    return [statement.target, statement.op, encode(statement.expr)]


def decode_statement(data: list) -> Statement:
    return Statement(data[0], data[1], decode(data[2]))


_DEFAULT: list[IntegrationCache] = []


def default_integration_cache() -> IntegrationCache:
    """The process's integration cache, configured from the environment on first use."""
    if not _DEFAULT:
        _DEFAULT.append(IntegrationCache.from_environment())
    return _DEFAULT[0]
