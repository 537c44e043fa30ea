"""Every pass keeps the interpreter's results: random well-typed modules and inputs, run before and
after the pass, must give bit-identical arrays; the result must verify and round-trip as text."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings

from spikec.ir.equality import module_difference
from spikec.ir.interpreter import Interpreter
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.ir.verify import verify_module
from spikec.passes.manager import run_pipeline
from tests.ir.kernel_generator import array_inputs, kernel_modules, same_arrays

PIPELINES = ["fold", "fold{fold-math=false}", "cse", "cse{cse-loads=false}", "dce",
             "dce{prune-arguments=false}", "hoist-invariants", "hoist-invariants{hoist-constants=true}",
             "div-by-power-of-two", "fold,cse,hoist-invariants,dce", "fuse-kernels",
             "schedule,fuse-kernels"]


def _run(module, arrays, seed=7):
    state = copy.deepcopy(arrays)
    Interpreter(module, state, seed=seed).run(3)
    return state


@pytest.mark.parametrize("pipeline", PIPELINES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module=kernel_modules(), arrays=array_inputs())
def test_pass_keeps_interpreter_results(pipeline, module, arrays):
    verify_module(module)
    expected = _run(module, arrays)
    original_text = print_module(module)
    report = run_pipeline(module, pipeline)
    verify_module(module)
    assert same_arrays(expected, _run(module, arrays)), f"{pipeline} changed the results of:\n{original_text}"
    text = print_module(module)
    assert module_difference(parse_module(text), module) is None
    # a pass that reports no change must have left the text alone, and the other way round
    assert report.changed == (text != original_text), f"{pipeline}: changed flag is wrong for\n{original_text}"
