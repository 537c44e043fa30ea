"""A native function compiled from LLVM IR text through the kernel cache: what compiled connect
(`spikec.backends.connect_llvm`) and compiled host code (`spikec.backends.host_code_llvm`) share.

Both build one exported function per piece of model code, print its module, and key the cache by
that text and the host target (`cpu.host_target`) under a tag naming the kind of function. Code
that prints the same text reuses the compiled function: from memory in this process, from the
disk level's object file (`cpu.jit`) in a later one. So whatever varies between calls that should
share machine code (seeds, streams, sizes, a namespace's constants) must reach the function at
run time, not as constants in its text.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from llvmlite import binding as llvm

from spikec.backends.cache import CompileCache, default_cache
from spikec.backends.cpu import host_target, jit


@dataclass
class NativeFunction:
    """A compiled function (kept alive with its engine) and the messages of its error codes
    (code c is `errors[c - 1]`, as `LoweredModule.errors`)."""

    engine: llvm.ExecutionEngine
    function: Any                    # the ctypes function
    errors: list[str] = field(default_factory=list)
    compile_seconds: float = 0.0
    from_disk: bool = False


def compile_native(text: str, tag: str, function_name: str, signature: type,
                   errors: list[str], cache: CompileCache | None = None,
                   started: float | None = None) -> NativeFunction:
    """The function `function_name` of the LLVM IR `text`, as a ctypes `signature`; from the
    cache when the same text was compiled for this host under `tag` before. `started` is when the
    caller began building `text` (compile_seconds counts from there)."""
    started = time.perf_counter() if started is None else started
    cache = default_cache() if cache is None else cache
    key = cache.key(text, f"{tag}:{host_target()}")

    def compile_() -> NativeFunction:
        engine, from_disk = jit(text, cache, key)  # machine code from the disk cache when there
        function = signature(engine.get_function_address(function_name))
        return NativeFunction(engine, function, list(errors), time.perf_counter() - started,
                              from_disk)

    return cache.get_or_build(key, compile_)

