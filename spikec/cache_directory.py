"""Where spikec keeps what it caches on disk: `$SPIKEC_CACHE_DIR` (default `~/.cache/spikec`), one
folder per cache (`integrate/`, `parsers/`; compiled kernels at the top). `SPIKEC_CACHE_DIR=off`
(or `none`, `0`, `false`, `no`, empty) turns every disk cache off; the in-memory levels stay."""

from __future__ import annotations

import os
from pathlib import Path

DISABLED = {"", "0", "off", "none", "false", "no"}


def cache_directory(folder: str = "") -> Path | None:
    """The folder of one disk cache, or None when disk caches are off (not created here)."""
    setting = os.environ.get("SPIKEC_CACHE_DIR")
    if setting is None:
        return Path.home() / ".cache" / "spikec" / folder
    return None if setting.strip().lower() in DISABLED else Path(setting) / folder
