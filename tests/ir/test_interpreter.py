"""The reference interpreter: the semantics of "each element processed in index order"."""

from __future__ import annotations

import numpy as np
import pytest

from spikec.errors import KernelRuntimeError
from spikec.ir import philox
from spikec.ir.interpreter import Interpreter, allocate_arrays
from spikec.ir.parser import parse_module
from spikec.ir.verify import verify_module


def module(text: str):
    parsed = parse_module(text)
    verify_module(parsed)
    return parsed


ARRAYS = """kernel.array @x {length = 4} : f64
kernel.array @n {length = 4} : i32
kernel.array @out {length = 4} : f64
kernel.array @spikes {length = 5} : i32
kernel.clock @defaultclock {dt = 0.5}
"""


def run_body(body: str, invariants: str = "", space: str = "elements(4)", **values):
    m = module(ARRAYS + f"kernel.kernel @k {{space = {space}}} invariants() {{\n{invariants}}} body(%i: i64) {{\n{body}}}\n")
    arrays = allocate_arrays(m)
    for name, value in values.items():
        arrays[name][:] = value
    Interpreter(m, arrays, seed=11).launch("k", {"tau": 2.0}, step=3, time=1.5)
    return arrays


def test_conflicting_stores_last_element_wins():
    arrays = run_body("%z = kernel.constant 2 : i32\n%v = kernel.cast %i : i64 -> f64\n"
                      "kernel.store @x[%z], %v : f64\n")
    assert arrays["x"][2] == 3.0


def test_masked_store_and_conflicts_among_active_elements():
    arrays = run_body("%z = kernel.constant 0 : i32\n%v = kernel.cast %i : i64 -> f64\n"
                      "%two = kernel.constant 2 : i64\n%m = kernel.cmp le, %i, %two : i64\n"
                      "kernel.store @x[%z], %v if %m : f64\n", x=[9, 9, 9, 9])
    assert list(arrays["x"]) == [2.0, 9, 9, 9]


def test_atomic_add_accumulates_every_element():
    arrays = run_body("%v = kernel.load @n[%i] : i32\n%w = kernel.cast %i : i64 -> f64\n"
                      "kernel.atomic_add @out[%v], %w : f64\n", n=[1, 1, 3, 1])
    assert list(arrays["out"]) == [0.0, 0 + 1 + 3, 0.0, 2.0]


def test_emit_spike_appends_in_element_order_and_counts():
    arrays = run_body("%v = kernel.load @x[%i] : f64\n%t = kernel.constant 1.0 : f64\n"
                      "%s = kernel.cmp gt, %v, %t : f64\nkernel.emit_spike @spikes, %i if %s\n",
                      x=[2.0, 0.0, 5.0, 1.5], spikes=[0, 0, 0, 0, 0])
    assert list(arrays["spikes"]) == [0, 2, 3, 0, 3]


def test_spikes_space_runs_for_listed_elements_only():
    arrays = run_body("%one = kernel.constant 1.0 : f64\nkernel.store @out[%i], %one : f64\n",
                      space="spikes(@spikes)", spikes=[1, 3, 0, 0, 2])
    assert list(arrays["out"]) == [0.0, 1.0, 0.0, 1.0]


def test_scalar_effects_happen_once_per_element_and_not_at_all_without_elements():
    body = "%z = kernel.constant 0 : i32\n%one = kernel.constant 1.0 : f64\nkernel.atomic_add @out[%z], %one : f64\n"
    assert run_body(body)["out"][0] == 4.0
    assert run_body(body, space="spikes(@spikes)", spikes=[0, 0, 0, 0, 0])["out"][0] == 0.0


def test_load_after_own_store_sees_it():
    arrays = run_body("%c = kernel.constant 7.0 : f64\nkernel.store @x[%i], %c : f64\n"
                      "%v = kernel.load @x[%i] : f64\nkernel.store @out[%i], %v : f64\n")
    assert list(arrays["out"]) == [7.0] * 4


def test_arguments_invariants_step_time():
    arrays = run_body("%s = kernel.step : i64\n%sf = kernel.cast %s : i64 -> f64\n%t = kernel.time : f64\n"
                      "%a = kernel.add %sf, %t : f64\n%b = kernel.add %a, %half : f64\nkernel.store @out[%i], %b : f64\n",
                      invariants="%tau = kernel.arg \"tau\" : f64\n%one = kernel.constant 1.0 : f64\n"
                                 "%half = kernel.div %one, %tau : f64\n")
    assert list(arrays["out"]) == [3 + 1.5 + 0.5] * 4


@pytest.mark.parametrize("op, a, b, expected", [
    ("div", 7, -2, -3), ("div", -7, 2, -3), ("div", 5, 0, 0), ("floordiv", -7, 2, -4), ("floordiv", 3, 0, 0),
    ("mod", -7, 3, 2), ("mod", 7, -3, -2), ("mod", 4, 0, 0),
])
def test_integer_division_semantics(op, a, b, expected):
    arrays = run_body(f"%a = kernel.constant {a} : i32\n%b = kernel.constant {b} : i32\n"
                      f"%r = kernel.{op} %a, %b : i32\n%f = kernel.cast %r : i32 -> f64\nkernel.store @out[%i], %f : f64\n")
    assert arrays["out"][0] == expected


@pytest.mark.parametrize("a, b, expected", [(-7.5, 2.0, 0.5), (7.5, -2.0, -0.5), (6.0, 3.0, 0.0)])
def test_float_mod_has_the_sign_of_the_divisor(a, b, expected):
    arrays = run_body(f"%a = kernel.constant {a} : f64\n%b = kernel.constant {b} : f64\n"
                      "%r = kernel.mod %a, %b : f64\nkernel.store @out[%i], %r : f64\n")
    assert arrays["out"][0] == expected


def test_f32_arithmetic_stays_f32():
    arrays = run_body("%a = kernel.constant 0.1 : f64\n%b = kernel.cast %a : f64 -> f32\n%c = kernel.add %b, %b : f32\n"
                      "%d = kernel.cast %c : f32 -> f64\nkernel.store @out[%i], %d : f64\n")
    assert arrays["out"][0] == float(np.float32(0.1) + np.float32(0.1))


def test_random_numbers_follow_the_philox_scheme():
    arrays = run_body("%u = kernel.rand_uniform %i {stream = 4, draw = 1} : f64\nkernel.store @x[%i], %u : f64\n"
                      "%g = kernel.rand_normal %i {stream = 4, draw = 2} : f64\nkernel.store @out[%i], %g : f64\n")
    assert np.array_equal(arrays["x"], philox.uniform(11, 4, 3, np.arange(4), 1))
    assert np.array_equal(arrays["out"], philox.normal(11, 4, 3, np.arange(4), 2))


def test_out_of_range_index_is_an_error_naming_the_op():
    with pytest.raises(KernelRuntimeError, match=r"index 9 is outside 0..3 in kernel @k, op 'kernel.store @x\[%c\]"):
        run_body("%c = kernel.constant 9 : i32\n%v = kernel.constant 1.0 : f64\nkernel.store @x[%c], %v : f64\n")


def test_wrong_array_dtype_is_rejected():
    m = module(ARRAYS)
    arrays = allocate_arrays(m)
    arrays["x"] = np.zeros(4, dtype=np.float32)
    with pytest.raises(KernelRuntimeError, match="array x must be f64"):
        Interpreter(m, arrays)


def test_schedule_runs_clocks_in_time_order_and_clears_spikes():
    m = module("""kernel.array @count {length = 2} : i64
kernel.array @spikes {length = 3} : i32
kernel.clock @fast {dt = 0.5}
kernel.clock @slow {dt = 1.0}
kernel.kernel @tick {space = elements(1)} invariants() {
  %which = kernel.arg "which" : i32
} body(%i: i64) {
  %one = kernel.constant 1 : i64
  kernel.atomic_add @count[%which], %one : i64
  kernel.emit_spike @spikes, %i
}
kernel.schedule step() {
  kernel.clear_spikes @spikes {clock = @fast}
  kernel.launch @tick {clock = @fast, args = {which = 0}}
  kernel.launch @tick {clock = @slow, args = {which = 1}}
}
""")
    interpreter = Interpreter(m)
    times = [interpreter.tick() for _ in range(4)]
    assert times == [0.0, 0.5, 1.0, 1.5]
    assert list(interpreter.arrays["count"]) == [4, 2]
    assert interpreter.arrays["spikes"][-1] == 1  # cleared every fast step, one spike per launch
