"""Philox4x32-10 against the Random123 known-answer vectors, and the uniform/normal derivation."""

from __future__ import annotations

import numpy as np
import pytest

from spikec.ir import philox

KNOWN_ANSWERS = [  # counter, key, result (Random123 kat_vectors, philox4x32 10 rounds)
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter, key, expected", KNOWN_ANSWERS)
def test_known_answers(counter, key, expected):
    assert tuple(int(w) for w in philox.philox4x32(counter, key)) == expected


def test_vectorised_draws_equal_scalar_draws():
    elements = np.arange(50)
    vector = philox.draw_words(seed=5, stream=2, step=2**33 + 7, element=elements, draw=3)
    for e in (0, 17, 49):
        scalar = philox.draw_words(5, 2, 2**33 + 7, e, 3)
        assert [int(w[e]) for w in vector] == [int(w) for w in scalar]


def test_counter_and_key_layout():
    words = philox.draw_words(seed=1, stream=9, step=(3 << 32) | 4, element=5, draw=6)
    assert [int(w) for w in words] == [int(w) for w in philox.philox4x32((5, 6, 4, 3), (1, 9))]


def test_uniform_uses_53_bits_in_unit_interval():
    assert philox.words_to_uniform(np.uint32(0), np.uint32(0)) == 0.0
    top = philox.words_to_uniform(np.uint32(0xFFFFFFFF), np.uint32(0xFFFFFFFF))
    assert top == 1.0 - 2.0 ** -53
    values = philox.uniform(0, 0, 0, np.arange(200_000), 0)
    assert 0.0 <= values.min() and values.max() < 1.0
    assert abs(values.mean() - 0.5) < 0.005 and abs(values.var() - 1 / 12) < 0.002


def test_normal_is_box_muller_cosine_branch_and_standard():
    w0, w1, w2, w3 = philox.draw_words(3, 1, 10, np.arange(5), 0)
    u1, u2 = philox.words_to_uniform(w0, w1), philox.words_to_uniform(w2, w3)
    expected = np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
    assert np.array_equal(philox.normal(3, 1, 10, np.arange(5), 0), expected)
    values = philox.normal(0, 4, 1, np.arange(200_000), 1)
    assert abs(values.mean()) < 0.01 and abs(values.std() - 1) < 0.01


def test_different_streams_draws_steps_seeds_differ():
    base = philox.uniform(0, 0, 0, np.arange(8), 0)
    for other in (philox.uniform(1, 0, 0, np.arange(8), 0), philox.uniform(0, 1, 0, np.arange(8), 0),
                  philox.uniform(0, 0, 1, np.arange(8), 0), philox.uniform(0, 0, 0, np.arange(8), 1)):
        assert not np.any(base == other)
