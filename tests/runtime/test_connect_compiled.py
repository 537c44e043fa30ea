"""The compiled connect (`spikec.runtime.connect_compiled`) against the numpy reference
(`spikec.runtime.connect`, what the interpreter device runs): the same synapses in the same order
for the same seed, the same errors, and the fallback for the forms it does not compile."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import spikec
from spikec.errors import EquationError
from spikec.runtime import code_runner, connect, connect_compiled
from spikec.runtime.connectivity import grouped
from spikec.runtime.devices import device_settings

# name: (connect keyword arguments, whether the compiled walk takes the form)
FORMS = {
    "p": ({"p": 0.1}, True),
    "p_one": ({"p": 1}, True),
    "p_string_above_one": ({"p": "1.5"}, True),
    "p_outer_only": ({"p": "i / N_pre"}, True),
    "condition": ({"condition": "i != j"}, True),
    "condition_p": ({"condition": "i != j", "p": 0.3}, True),
    "condition_band": ({"condition": "abs(i - j) < 3"}, True),
    "condition_outer_only": ({"condition": "i % 3 == 0", "p": 0.5}, True),
    "condition_variables": ({"condition": "x_pre < x_post + 3 and rand() < 0.5"}, True),
    "rand_in_p": ({"p": "exp(-abs(i - j) / 10.)"}, True),
    "p_on_target_variable": ({"p": "x_post / 20"}, True),
    "window": ({"j": "k for k in range(i - 3, i + 4) if k != i", "skip_if_invalid": True}, True),
    "negative_step": ({"j": "k for k in range(N_post - 1, i, -2)"}, True),
    "sample_p": ({"j": "k for k in sample(N_post, p=0.2)"}, True),
    "sample_p_step": ({"j": "k for k in sample(2, N_post, 3, p=0.6)"}, True),
    "sample_p_on_i": ({"j": "k for k in sample(N_post, p=i / (2.0 * N_pre))"}, True),
    "sample_size": ({"j": "k for k in sample(N_post, size=3)"}, False),
    "one_to_one": ({"j": "i"}, True),
    "expression_with_if": ({"j": "i + 1 if i < N_pre - 1"}, True),
    "target_condition_skip": ({"j": "k for k in range(i - 2, i + 30) if x_post < 9",
                               "skip_if_invalid": True}, True),
    "over_i": ({"i": "k for k in range(N_pre) if k != j and rand() < 0.4"}, True),
    "n_constant": ({"condition": "i == j", "n": 3}, True),
    "n_zero": ({"p": 0.5, "n": 0}, True),
    "n_expression": ({"condition": "i != j", "n": "1 + (i + j) % 3"}, True),
    "randn": ({"condition": "randn() > 0.5"}, False),
    "arrays": ({"i": np.array([3, 0, 6, 3]), "j": np.array([1, 8, 0, 1]), "p": 0.5}, False),
}


def connected(device: str, kwargs: dict, seed: int = 7, sizes=(23, 29), float32=False):
    """(i, j) of one connect call on `device`, and whether the compiled walk built them."""
    device_settings.device = device
    spikec.seed(seed)
    source = spikec.NeuronGroup(sizes[0], "x : 1", threshold="x > 100")
    target = spikec.NeuronGroup(sizes[1], "x : 1\nv : 1")
    source.x = "i * 0.5"
    target.x = "20 - i"
    S = spikec.Synapses(source, target, "w : 1", on_pre="v += w", name="S",
                        dtype=np.float32 if float32 else np.float64)
    S.connect(**kwargs)
    return np.asarray(S.i), np.asarray(S.j)


@pytest.fixture
def walks(monkeypatch):
    """Records, for each generator connect, whether the compiled walk built it (None: it
    raised, after failing on a candidate)."""
    used: list[bool | None] = []

    def recording(build):
        used.append(None)
        pairs = connect_compiled.walk_compiled(build)
        used[-1] = pairs is not None
        return pairs

    monkeypatch.setattr(code_runner, "walk_compiled", recording)
    saved = device_settings.device
    yield used
    device_settings.device = saved


@pytest.fixture
def small_pieces(monkeypatch):
    """Tiny buffers, row blocks and thread pieces, so a small connect crosses every boundary:
    buffers that fill mid-row, rows bigger than a buffer, several blocks and threads."""
    monkeypatch.setattr(connect_compiled, "BUFFER", 16)
    monkeypatch.setattr(connect_compiled, "PARALLEL_WORK", 0)
    monkeypatch.setattr(connect, "ROW_BLOCK", 8)


def assert_same(kwargs, **options):
    reference = connected("interpreter", kwargs, **options)
    compiled = connected("cpu", kwargs, **options)
    assert np.array_equal(reference[0], compiled[0]) and np.array_equal(reference[1], compiled[1])
    return reference


@pytest.mark.parametrize("name", sorted(FORMS))
def test_same_synapses_as_the_reference(name, walks):
    kwargs, compiled = FORMS[name]
    pre, _ = assert_same(kwargs)
    assert len(pre) > 0 or name == "n_zero"
    assert walks == ([compiled] if not name == "arrays" else [])


@pytest.mark.parametrize("name", ["p", "condition_p", "window", "sample_p_step", "n_expression",
                                  "target_condition_skip", "over_i"])
def test_same_synapses_across_buffers_blocks_and_threads(name, walks, small_pieces):
    assert_same(FORMS[name][0], sizes=(41, 37))
    assert walks == [True]


def test_a_row_bigger_than_the_buffer(walks, small_pieces):
    pre, _ = assert_same({"condition": "i < 2", "n": 5})
    assert np.bincount(pre).max() > 16


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), n_pre=st.integers(1, 40), n_post=st.integers(1, 40),
       p=st.floats(0, 1), form=st.sampled_from(["p", "condition_p", "sample_p", "rand_in_p"]))
def test_same_synapses_for_any_seed_size_and_p(seed, n_pre, n_post, p, form):
    kwargs = dict(FORMS[form][0])
    if "p" in kwargs and not isinstance(kwargs["p"], str):
        kwargs["p"] = p
    saved = device_settings.device
    try:
        assert_same(kwargs, seed=seed, sizes=(n_pre, n_post))
    finally:
        device_settings.device = saved


def test_float32_synapses(walks):
    assert_same({"p": "exp(-abs(i - j) / 7.) * 0.9"}, float32=True)
    assert walks == [True, True] or walks == [True]


@pytest.mark.parametrize("kwargs, message", [
    ({"j": "i + 3"}, "index j=23 is outside the allowed range 0..22"),
    ({"j": "k for k in range(i - 1, i + 2) if x_post > 0"}, "index j=-1 is outside"),
    ({"condition": "i != j", "n": "29 - i"}, "n is negative for some pairs"),
])
def test_same_errors_as_the_reference(kwargs, message, walks, small_pieces):
    errors = []
    for device in ("interpreter", "cpu"):
        with pytest.raises(EquationError) as caught:
            connected(device, kwargs, sizes=(60, 23))
        errors.append(str(caught.value))
    assert errors[0] == errors[1] and message in errors[0]
    assert walks == [None]


def test_csr_grouping_is_lexsort_order():
    """Several connect calls interleave synapse numbers: the grouping by target must still be
    ordered by source, then number, as `np.lexsort` orders it."""
    rng = np.random.default_rng(3)
    for size in (0, 1, 2, 50, 3000):
        for sorted_pre in (True, False):
            pre = rng.integers(0, 13, size).astype(np.int32)
            post = rng.integers(0, 17, size).astype(np.int32)
            if sorted_pre:
                pre.sort()
            for indices, count, then in ((pre, 13, post), (post, 17, pre)):
                offsets, order = grouped(indices, count, then)
                assert np.array_equal(order, np.lexsort((np.arange(size), then, indices)))
                assert np.array_equal(offsets[1:], np.cumsum(np.bincount(indices,
                                                                         minlength=count)))


def test_later_random_code_does_not_depend_on_the_walk(walks, small_pieces):
    """Evaluating connect code must not move the streams of later host code: a second connect
    and a `rand()` initialiser after a first connect draw the same on both walks."""
    results = []
    for device in ("interpreter", "cpu"):
        device_settings.device = device
        spikec.seed(11)
        G = spikec.NeuronGroup(30, "x : 1\nv : 1", threshold="v > 1")
        G.x = "i * 0.3"
        S = spikec.Synapses(G, G, "w : 1", on_pre="v += w")
        S.connect(condition="x_pre < x_post + 2 and rand() < 0.5")
        S.connect(j="k for k in sample(N_post, p=0.3)")
        S.w = "rand()"
        results.append((np.asarray(S.i), np.asarray(S.j), np.asarray(S.w)))
    assert all(np.array_equal(a, b) for a, b in zip(*results))
    assert walks == [True, True]
