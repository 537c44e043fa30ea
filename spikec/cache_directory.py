"""Where spikec keeps what it caches on disk: `$SPIKEC_CACHE_DIR` (default `~/.cache/spikec`), one
folder per cache (`integrate/`, `parsers/`, `pipeline/`; compiled kernels at the top).
`SPIKEC_CACHE_DIR=off` (or `none`, `0`, `false`, `no`, empty) turns every disk cache off; the
in-memory levels stay."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

DISABLED = {"", "0", "off", "none", "false", "no"}


def cache_directory(folder: str = "") -> Path | None:
    """The folder of one disk cache, or None when disk caches are off (not created here)."""
    setting = os.environ.get("SPIKEC_CACHE_DIR")
    if setting is None:
        return Path.home() / ".cache" / "spikec" / folder
    return None if setting.strip().lower() in DISABLED else Path(setting) / folder


@dataclass
class CacheStatistics:
    """How a cache answered: from memory, from disk, or by building."""

    memory_hits: int = 0
    disk_hits: int = 0
    misses: int = 0


@dataclass(frozen=True)
class DiskStore:
    """The files of one disk cache (`directory` None: disk caching is off). Writes are atomic
    (a temporary file renamed into place), so a crash never leaves a half-written entry; a
    read-only or full disk only costs the next process a rebuild."""

    directory: Path | None

    def read(self, name: str) -> bytes | None:
        if self.directory is None:
            return None
        try:
            return (self.directory / name).read_bytes()
        except OSError:
            return None

    def write(self, name: str, data: bytes) -> None:
        if self.directory is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
            with os.fdopen(handle, "wb") as file:
                file.write(data)
            os.replace(temporary, self.directory / name)
        except OSError:
            pass
