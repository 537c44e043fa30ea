"""benchmarks/run.py --quick, at its smallest: one model, one size, 10 ms, in a subprocess.
Checks the rows' shape and consistency, never timings."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quick_run_writes_rows(tmp_path):
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--models", "cuba",
         "--sizes", "500", "--duration", "0.01", "--out", str(out)],
        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = json.loads((out / "rows.json").read_text())
    targets = {row["target"] for row in rows}
    expected = {"spikec-cpu"} | ({"brian2-numpy"} if importlib.util.find_spec("brian2") else set())
    assert targets == expected, (targets, done.stderr[-2000:])
    for row in rows:
        assert row["status"] == "ok", row
        assert row["model"] == "cuba" and row["size"] == 500 and row["duration_s"] == 0.01
        for key in ("setup_s", "compile_s", "run_s", "total_s"):
            assert row[key] >= 0, (key, row)
        assert row["total_s"] >= row["run_s"]
        assert row["neurons"] == 500
        # ~80 synapses per neuron (p = 80/N for each of the two pathways)
        assert 30_000 < row["synapses"] < 50_000, row
        assert row["spikes"] >= 0
    assert "| cuba | 500 | spikec-cpu | ok |" in (out / "table.md").read_text()
    if "brian2-numpy" not in targets:
        assert "brian2-numpy skipped: brian2 is not installed" in done.stdout


def test_unknown_model_is_refused():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--models", "nope"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0 and "invalid choice" in done.stderr
