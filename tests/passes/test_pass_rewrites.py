"""What each pass does to small kernels, checked on the printed IR (the lit tests show more)."""

from __future__ import annotations

import numpy as np
import pytest

from spikec.ir.interpreter import Interpreter, allocate_arrays
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.passes.manager import run_pipeline

HEADER = "kernel.array @x {length = 3} : f64\nkernel.array @out {length = 3} : f64\n"


def kernel(body: str, invariants: str = "") -> str:
    return HEADER + f"kernel.kernel @k {{space = elements(3)}} invariants() {{\n{invariants}}} body(%i: i64) {{\n{body}}}\n"


def rewrite(text: str, pipeline: str) -> str:
    module = parse_module(text)
    run_pipeline(module, pipeline)
    return print_module(module)


@pytest.mark.parametrize("constant, folds", [("-0.0", True), ("0.0", False)])
def test_fold_x_plus_zero_only_for_negative_zero(constant, folds):
    text = kernel(f"%v = kernel.load @x[%i] : f64\n%z = kernel.constant {constant} : f64\n"
                  "%s = kernel.add %v, %z : f64\nkernel.store @out[%i], %s : f64\n")
    result = rewrite(text, "fold")
    assert ("kernel.add" not in result) == folds
    # and the reason: -0.0 + 0.0 is +0.0, so x + 0.0 is not x
    module = parse_module(text)
    arrays = allocate_arrays(module)
    arrays["x"][:] = -0.0
    Interpreter(module, arrays).launch("k")
    assert np.signbit(arrays["out"][0]) == folds


def test_fold_does_not_touch_x_times_zero_for_floats_but_does_for_integers():
    floats = kernel("%v = kernel.load @x[%i] : f64\n%z = kernel.constant 0.0 : f64\n"
                    "%s = kernel.mul %v, %z : f64\nkernel.store @out[%i], %s : f64\n")
    assert "kernel.mul" in rewrite(floats, "fold")
    ints = kernel("%z = kernel.constant 0 : i64\n%s = kernel.mul %i, %z : i64\n%f = kernel.cast %s : i64 -> f64\n"
                  "kernel.store @out[%i], %f : f64\n")
    assert "kernel.mul" not in rewrite(ints, "fold")


def test_fold_math_option():
    text = kernel("%a = kernel.constant 1.0 : f64\n%e = kernel.math exp, %a : f64\nkernel.store @out[%i], %e : f64\n")
    assert "kernel.math" not in rewrite(text, "fold")
    assert "kernel.math" in rewrite(text, "fold{fold-math=false}")


def test_cse_merges_commuted_operands_and_sees_invariants_from_the_body():
    text = kernel("%v = kernel.load @x[%i] : f64\n%a = kernel.add %v, %t : f64\n%b = kernel.add %t, %v : f64\n"
                  "%c = kernel.constant 2.0 : f64\n%s = kernel.mul %a, %b : f64\n%s2 = kernel.mul %s, %c : f64\n"
                  "kernel.store @out[%i], %s2 : f64\n",
                  invariants="%t = kernel.constant 1.0 : f64\n%c0 = kernel.constant 2.0 : f64\n")
    result = rewrite(text, "cse")
    assert result.count("kernel.add") == 1
    assert result.count("kernel.constant 2.0") == 1  # the body's copy reuses the invariants' one


def test_cse_loads_respects_writes_between():
    text = kernel("%a = kernel.load @x[%i] : f64\nkernel.store @out[%i], %a : f64\n%b = kernel.load @x[%i] : f64\n"
                  "kernel.store @x[%i], %a : f64\n%c = kernel.load @x[%i] : f64\n%s = kernel.add %b, %c : f64\n"
                  "kernel.store @out[%i], %s : f64\n")
    assert rewrite(text, "cse").count("kernel.load") == 2  # b merges with a; c follows a store to @x
    assert rewrite(text, "cse{cse-loads=false}").count("kernel.load") == 3


def test_dce_keeps_side_effects_and_prunes_arguments_and_launch_values():
    text = (kernel("%v = kernel.load @x[%i] : f64\n%w = kernel.mul %v, %v : f64\nkernel.store @out[%i], %v : f64\n",
                   invariants="%tau = kernel.arg \"tau\" : f64\n%dt = kernel.arg \"dt\" : f64\n%r = kernel.div %dt, %tau : f64\n")
            + "kernel.clock @c {dt = 0.1}\nkernel.schedule step() {\n  kernel.launch @k {clock = @c, args = {tau = 1.0, dt = 0.1}}\n}\n")
    result = rewrite(text, "dce")
    assert "kernel.mul" not in result and "kernel.div" not in result and "kernel.arg" not in result
    assert "kernel.store" in result and "kernel.load" in result
    assert "kernel.launch @k {clock = @c}" in result
    assert "kernel.arg" in rewrite(text, "dce{prune-arguments=false}")


def test_hoist_moves_invariant_chains_with_their_constants_but_not_step_time_rand_or_loads():
    text = kernel("%one = kernel.constant 1.0 : f64\n%r = kernel.div %one, %tau : f64\n%e = kernel.math exp, %r : f64\n"
                  "%t = kernel.time : f64\n%u = kernel.mul %t, %e : f64\n%v = kernel.load @x[%i] : f64\n"
                  "%w = kernel.mul %v, %e : f64\n%w2 = kernel.add %w, %one : f64\n%w3 = kernel.add %w2, %u : f64\n"
                  "kernel.store @out[%i], %w3 : f64\n",
                  invariants="%tau = kernel.arg \"tau\" : f64\n")
    result = rewrite(text, "hoist-invariants")
    invariants, body = result.split("} body")
    assert "kernel.div" in invariants and "kernel.math exp" in invariants and "kernel.constant 1.0" in invariants
    assert "kernel.time" in body and "kernel.load" in body and "%u = kernel.mul %t" in body
    assert "kernel.constant 1.0" in body  # still used by the body, so copied rather than moved
    assert rewrite(text, "hoist-invariants{hoist-constants=true}").split("} body")[1].count("kernel.constant") == 0
