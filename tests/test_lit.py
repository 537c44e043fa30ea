"""Runs the lit + FileCheck tests (tests/lit/**/*.ir) from pytest: one pytest item per file, so
plain ``python3 -m pytest`` runs them and a failure shows lit's own output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

LIT_ROOT = Path(__file__).parent / "lit"
TESTS = sorted(p.relative_to(LIT_ROOT).as_posix() for p in LIT_ROOT.rglob("*.ir"))


@pytest.mark.parametrize("test", TESTS)
def test_lit(test):
    result = subprocess.run([sys.executable, "-c", "from lit.main import main; main()", "-v", str(LIT_ROOT / test)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"lit failed for {test}:\n{result.stdout}\n{result.stderr}"
