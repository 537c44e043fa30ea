"""Philox4x32-10 (Salmon et al., SC'11; Random123) in numpy, and spikec's random-number scheme.

Philox is counter-based: a draw is a pure function of a 128-bit counter and a 64-bit key, so every
element of every kernel can compute its own random numbers in parallel, and the interpreter, the
CPU backend and the GPU backend all produce the same bits. spikec's mapping (docs/ir.md repeats it;
backends must follow it exactly):

* key     = (seed mod 2**32, stream)
* counter = (element mod 2**32, draw, step mod 2**32, step div 2**32)
* the draw gives four 32-bit words w0..w3 (`philox4x32`);
* uniform = ((w0 >> 5) * 2**26 + (w1 >> 6)) * 2**-53, a float64 in [0, 1) with 53 random bits
  (the formula of Python's `random.random`);
* normal  = sqrt(-2 log(1 - u1)) * cos(2 pi u2), Box-Muller's cosine branch, with u1 the uniform
  above from (w0, w1) and u2 the same formula applied to (w2, w3). 1 - u1 lies in (0, 1], so the
  log is finite. The sine branch is not used, so one draw gives one normal.

Uniforms are bit-exact across backends; normals also go through log, sqrt and cos, which libm and
libdevice compute to within an ulp or two, so backends agree with the interpreter to ~1e-15.
"""

from __future__ import annotations

import numpy as np

MULTIPLIERS = (np.uint64(0xD2511F53), np.uint64(0xCD9E8D57))
WEYL = (np.uint32(0x9E3779B9), np.uint32(0xBB67AE85))
ROUNDS = 10
_LOW = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def _mulhilo(multiplier: np.uint64, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    product = x.astype(np.uint64) * multiplier
    return (product >> _SHIFT).astype(np.uint32), (product & _LOW).astype(np.uint32)


def philox4x32(counter: tuple, key: tuple, rounds: int = ROUNDS) -> tuple[np.ndarray, ...]:
    """Philox4x32-`rounds` of the counter words (c0, c1, c2, c3) and key words (k0, k1).

    Each word may be a scalar or an array (broadcast together); returns four uint32 arrays."""
    c0, c1, c2, c3 = np.broadcast_arrays(*(np.asarray(c, dtype=np.uint64).astype(np.uint32) for c in counter))
    k0, k1 = (np.asarray(k, dtype=np.uint64).astype(np.uint32) for k in key)
    with np.errstate(over="ignore"):
        for round_index in range(rounds):
            if round_index:
                k0, k1 = k0 + WEYL[0], k1 + WEYL[1]
            hi0, lo0 = _mulhilo(MULTIPLIERS[0], c0)
            hi1, lo1 = _mulhilo(MULTIPLIERS[1], c2)
            c0, c1, c2, c3 = hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0
    return c0, c1, c2, c3


def draw_words(seed: int, stream: int, step: int, element: object, draw: int) -> tuple[np.ndarray, ...]:
    """The four words of one draw, with spikec's counter and key layout (module docstring)."""
    element = np.asarray(element, dtype=np.int64).astype(np.uint64) & _LOW
    step = int(step)
    counter = (element, draw, step & 0xFFFFFFFF, (step >> 32) & 0xFFFFFFFF)
    return philox4x32(counter, (seed & 0xFFFFFFFF, stream))


def words_to_uniform(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """53 random bits from two words as a float64 in [0, 1)."""
    a = (high >> np.uint32(5)).astype(np.float64)
    b = (low >> np.uint32(6)).astype(np.float64)
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)


def uniform(seed: int, stream: int, step: int, element: object, draw: int) -> np.ndarray:
    w0, w1, _, _ = draw_words(seed, stream, step, element, draw)
    return words_to_uniform(w0, w1)


def normal(seed: int, stream: int, step: int, element: object, draw: int) -> np.ndarray:
    w0, w1, w2, w3 = draw_words(seed, stream, step, element, draw)
    u1, u2 = words_to_uniform(w0, w1), words_to_uniform(w2, w3)
    return np.sqrt(-2.0 * np.log(1.0 - u1)) * np.cos(2.0 * np.pi * u2)
