"""The index spaces of synaptic propagation: outgoing (push) and segments (pull)."""

import re

import numpy as np
import pytest

from spikec.errors import KernelRuntimeError, VerificationError
from spikec.ir.interpreter import Interpreter
from spikec.ir.parser import parse_module
from spikec.ir.verify import verify_module

# Synapses 0..5: (pre, post) = (0,1) (0,2) (1,0) (2,1) (2,2) (1,1); sorted by pre: 0,1 | 2,5 | 3,4
# Incoming, by post in synapse order: post 0: [2]; post 1: [0, 3, 5]; post 2: [1, 4]
MODULE = """
kernel.array @G._spikespace {length = 4} : i32
kernel.array @S._pre {length = 6} : i32
kernel.array @S._post {length = 6} : i32
kernel.array @S._pre_offsets {length = 4} : i32
kernel.array @S._pre_synapses {length = 6} : i32
kernel.array @S._post_offsets {length = 4} : i32
kernel.array @S._post_synapses {length = 6} : i32
kernel.array @S.w {length = 6} : f64
kernel.array @S.order {length = 6} : i64
kernel.array @H.x {length = 3} : f64

kernel.kernel @S.push {space = outgoing(@G._spikespace, @S._pre_offsets, @S._pre_synapses)} invariants() {
} body(%s: i64) {
  %post = kernel.load @S._post[%s] : i32
  %w = kernel.load @S.w[%s] : f64
  kernel.atomic_add @H.x[%post], %w : f64
}

kernel.kernel @S.pull {space = segments(@S._post_offsets, @S._post_synapses, 3)} invariants() {
} body(%s: i64) {
  %post = kernel.load @S._post[%s] : i32
  %w = kernel.load @S.w[%s] : f64
  %x = kernel.load @H.x[%post] : f64
  %half = kernel.constant 0.5 : f64
  %scaled = kernel.mul %x, %half : f64
  %next = kernel.add %scaled, %w : f64
  kernel.store @H.x[%post], %next : f64
}
"""


def arrays(spiking: list[int]) -> dict[str, np.ndarray]:
    spikes = np.zeros(4, np.int32)
    spikes[:len(spiking)] = spiking
    spikes[-1] = len(spiking)
    return {
        "G._spikespace": spikes,
        "S._pre": np.array([0, 0, 1, 2, 2, 1], np.int32),
        "S._post": np.array([1, 2, 0, 1, 2, 1], np.int32),
        "S._pre_offsets": np.array([0, 2, 4, 6], np.int32),
        "S._pre_synapses": np.array([0, 1, 2, 5, 3, 4], np.int32),
        "S._post_offsets": np.array([0, 1, 4, 6], np.int32),
        "S._post_synapses": np.array([2, 0, 3, 5, 1, 4], np.int32),
        "S.w": np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0]),
        "S.order": np.zeros(6, np.int64),
        "H.x": np.zeros(3),
    }


def test_spaces_print_parse_and_verify():
    module = parse_module(MODULE)
    verify_module(module)
    assert "outgoing(@G._spikespace, @S._pre_offsets, @S._pre_synapses)" in str(module)
    assert "segments(@S._post_offsets, @S._post_synapses, 3)" in str(module)
    assert str(parse_module(str(module))) == str(module)


def test_outgoing_visits_the_synapses_of_spiking_sources():
    module = parse_module(MODULE)
    data = arrays([0, 2])
    Interpreter(module, data).launch("S.push")
    # sources 0 and 2 spike: synapses 0 (->1, w1), 1 (->2, w2), 3 (->1, w8), 4 (->2, w16)
    np.testing.assert_array_equal(data["H.x"], [0.0, 9.0, 18.0])
    assert list(module.lookup("S.push").space.indices(data)) == [0, 1, 3, 4]


def test_segments_run_in_order_within_each_segment():
    """x = x*0.5 + w is not commutative: the result depends on the order, synapse order."""
    module = parse_module(MODULE)
    data = arrays([])
    data["H.x"][:] = [1.0, 1.0, 1.0]
    Interpreter(module, data).launch("S.pull")
    expected = np.array([1.0, 1.0, 1.0])
    for post, synapses in {0: [2], 1: [0, 3, 5], 2: [1, 4]}.items():
        for s in synapses:
            expected[post] = expected[post] * 0.5 + data["S.w"][s]
    np.testing.assert_array_equal(data["H.x"], expected)


def test_segment_rounds():
    module = parse_module(MODULE)
    rounds = module.lookup("S.pull").space.rounds(arrays([]))
    assert [list(r) for r in rounds] == [[2, 0, 1], [3, 4], [5]]


@pytest.mark.parametrize("replace, message", [
    ("segments(@S._post_offsets, @S._post_synapses, 3)",
     "needs count + 1 = 5 entries"),
    ("outgoing(@G._spikespace, @S._pre_offsets, @S.w)", "must hold i32 or i64"),
    ("outgoing(@G._spikespace, @S._post, @S._pre_synapses)", "one entry per source plus one"),
])
def test_verifier_checks_the_arrays(replace, message):
    text = MODULE.replace("segments(@S._post_offsets, @S._post_synapses, 3)",
                          "segments(@S._post_offsets, @S._post_synapses, 4)") \
        if replace.startswith("segments") else MODULE.replace(
            "outgoing(@G._spikespace, @S._pre_offsets, @S._pre_synapses)", replace)
    with pytest.raises(VerificationError, match=re.escape(message)):
        verify_module(parse_module(text))


def test_bad_offsets_are_a_runtime_error():
    module = parse_module(MODULE)
    data = arrays([0])
    data["S._pre_offsets"][1] = 9
    with pytest.raises(KernelRuntimeError, match="offsets"):
        Interpreter(module, data).launch("S.push")
