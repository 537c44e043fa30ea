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
        if row["target"] == "spikec-cpu":  # run.py's default: one thread, as brian2-cpp's
            assert row["threads"] == 1, row
    assert "| cuba | 500 | spikec-cpu | ok |" in (out / "table.md").read_text()
    if "brian2-numpy" not in targets:
        assert "brian2-numpy skipped: brian2 is not installed" in done.stdout


def test_unknown_model_is_refused():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--models", "nope"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert done.returncode != 0 and "invalid choice" in done.stderr


def test_merge_combines_calls_and_compares_peers(tmp_path):
    def row(target, size, run_s):
        return {"model": "cuba", "size": size, "target": target, "status": "ok", "setup_s": 0.1,
                "compile_s": 1.0, "run_s": run_s, "total_s": run_s + 2, "spikes": 1, "synapses": 2,
                "neurons": size, "duration_s": 1.0}
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps([row("spikec-cuda", 1000, 0.1), row("spikec-cuda", 10000, 0.4)]))
    second.write_text(json.dumps([row("brian2cuda", 1000, 0.5)]))
    out = tmp_path / "merged"
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--merge", str(first),
                           str(second), "--out", str(out)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(json.loads((out / "rows.json").read_text())) == 3
    text = (out / "table.md").read_text()
    # only the size both ran is compared: 0.1 / 0.5
    assert "| cuba | 1000 | 0.1 | 0.5 | **0.2** |" in text
    assert "| cuba | 10000 | 0.4 |" not in text
