"""The `spikec` command: run a script, show its IR at each stage, report errors cleanly."""

import subprocess
import sys
from pathlib import Path

import pytest

from spikec.tools.cli import main

SCRIPT = """
from spikec import *
tau = 10*ms
G = NeuronGroup(3, 'dv/dt = (1.5 - v)/tau : 1', threshold='v > 1', reset='v = 0', method='exact')
M = SpikeMonitor(G)
run(20*ms)
print('spikes:', M.num_spikes)
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "model.py"
    path.write_text(SCRIPT)
    return path


def test_run_executes_the_script(script, capsys):
    assert main(["run", str(script), "--device", "interpreter"]) == 0
    assert "spikes: 3" in capsys.readouterr().out  # each crosses once, at 11 ms


@pytest.mark.parametrize("stage, marker", [("model", "model.group @"), ("kernel", "kernel.schedule"),
                                           ("llvm", "define ")])
def test_ir_prints_each_stage(script, capsys, stage, marker):
    assert main(["ir", str(script), "--stage", stage]) == 0
    output = capsys.readouterr().out
    assert marker in output
    assert "spikes:" not in output  # build-only: the script stopped at run()


def test_ir_ptx_stage_needs_no_gpu(script, capsys):
    pytest.importorskip("llvmlite")
    try:
        from spikec.backends.cuda_codegen import find_libdevice
        find_libdevice()
    except Exception as error:
        pytest.skip(f"libdevice not found: {error}")
    assert main(["ir", str(script), "--stage", "ptx"]) == 0
    assert ".entry" in capsys.readouterr().out


def test_print_ir_after_all_shows_every_pass(script, capsys):
    assert main(["ir", str(script), "--stage", "kernel", "--print-ir-after-all"]) == 0
    dumps = capsys.readouterr().err
    for name in ("integrate", "lower-to-kernels", "cse"):
        assert name in dumps


def test_model_errors_are_reported_without_traceback(tmp_path, capsys):
    path = tmp_path / "bad.py"
    path.write_text("from spikec import *\nG = NeuronGroup(2, 'dv/dt = -v/tau : volt')\nrun(1*ms)\n")
    assert main(["run", str(path)]) == 1
    error = capsys.readouterr().err
    assert "UnknownIdentifierError" in error and "tau" in error and "Traceback" not in error


def test_the_console_script_is_installed(script):
    result = subprocess.run([sys.executable, "-m", "spikec.tools.cli", "ir", str(script),
                             "--stage", "model"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and "model.clock" in result.stdout
