"""Synapse creation (`Synapses.connect`) and synaptic variables against Brian 2 (the oracle).

Deterministic connect forms must give Brian's (i, j) lists in Brian's order (synapse numbers);
random forms must have Brian's statistics and be reproducible with `seed()`.
"""

import numpy as np
import pytest

import spikec
from spikec.errors import DimensionMismatchError, EquationError, SpikecError

brian2 = pytest.importorskip("brian2")
pytestmark = pytest.mark.brian

N_PRE, N_POST = 7, 9


def make(sim, connects, model="w : 1"):
    """Source (7 neurons) and target (9) with variables x; synapses connected by `connects`,
    a list of keyword dictionaries, one per connect call."""
    source = sim.NeuronGroup(N_PRE, "x : 1\nv : volt", threshold="x > 100")
    target = sim.NeuronGroup(N_POST, "x : 1\nv : volt")
    source.x = "i * 1.5"
    target.x = "9 - i"
    S = sim.Synapses(source, target, model, on_pre="v += 1*mV")
    for kwargs in connects:
        S.connect(**kwargs)
    return S


def brian_synapses(connects, model="w : 1"):
    brian2.start_scope()
    brian2.prefs.codegen.target = "numpy"
    return make(brian2, connects, model)


DETERMINISTIC = {
    "all_to_all": [{}],
    "true": [{"condition": True}],
    "condition": [{"condition": "i != j"}],
    "condition_band": [{"condition": "abs(i - j) <= 2 and i + j > 3"}],
    "condition_outer_only": [{"condition": "i < 3"}],
    "condition_variables": [{"condition": "x_pre > x_post"}],
    "condition_unsuffixed_target": [{"condition": "x > 4 and x_pre < 6"}],
    "one_to_one": [{"j": "i"}],
    "expression_with_if": [{"j": "i + 1 if i < N_pre - 1"}],
    "generator_window": [{"j": "k for k in range(i-3, i+4) if k != i",
                          "skip_if_invalid": True}],
    "generator_step": [{"j": "k for k in range(i, N_post, 3)"}],
    "generator_negative_step": [{"j": "k for k in range(N_post - 1, i, -2)"}],
    "generator_neighbours": [{"j": "i+(-1)**k for k in range(2) if i>0 and i<N_pre-1"}],
    "generator_condition_on_target": [{"j": "k for k in range(N_post) if x_post < 5",
                                       "skip_if_invalid": True}],
    "generator_over_i": [{"i": "k for k in range(N_pre) if k != j"}],
    "generator_over_i_condition": [{"i": "k for k in range(3) if k < j"}],
    "expression_over_i": [{"i": "j - 2 if j > 1"}],
    "arrays": [{"i": np.array([3, 0, 6, 3]), "j": np.array([1, 8, 0, 1])}],
    "scalar_and_array": [{"i": 2, "j": np.array([4, 5, 6])}],
    "scalars": [{"i": 1, "j": 2}],
    "multiple_n": [{"condition": "i == j", "n": 3}],
    "n_expression": [{"j": "k for k in range(3)", "n": "i % 3"}],
    "arrays_n": [{"i": np.array([0, 1]), "j": np.array([1, 0]), "n": 2}],
    "repeated_calls": [{"condition": "i == j"}, {"j": "k for k in range(2)"},
                       {"i": np.array([6]), "j": np.array([8])}],
    "false": [{"condition": False}, {"i": 0, "j": 0}],
}


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_deterministic_connect_matches_brian(name):
    connects = DETERMINISTIC[name]
    expected = brian_synapses(connects)
    found = make(spikec, connects)
    assert len(found) == len(expected)
    np.testing.assert_array_equal(found.i[:], expected.i[:])
    np.testing.assert_array_equal(found.j[:], expected.j[:])
    np.testing.assert_array_equal(found.N_incoming[:], expected.N_incoming[:])
    np.testing.assert_array_equal(found.N_outgoing[:], expected.N_outgoing[:])
    assert found.i[:].dtype == np.int32 and found.j[:].dtype == np.int32


ASSIGNMENTS = [
    ("w", "i + j"),
    ("w", "x_pre * 2 - x_post"),
    ("w", "x + N_incoming + 10 * N_outgoing"),
    ("w", "N_pre * 100 + N_post"),
]


@pytest.mark.parametrize("variable, code", ASSIGNMENTS)
def test_string_assignment_matches_brian(variable, code):
    connects = [{"condition": "i != j"}]
    expected, found = brian_synapses(connects), make(spikec, connects)
    setattr(expected, variable, code)
    setattr(found, variable, code)
    np.testing.assert_allclose(getattr(found, variable)[:], getattr(expected, variable)[:])


def test_indexing_and_conditions_match_brian():
    connects = [{"j": "k for k in range(i-2, i+3)", "skip_if_invalid": True}]
    results = []
    for S in (brian_synapses(connects), make(spikec, connects)):
        S.w = "i * 10 + j"
        S.w["i > j"] = 5
        S.w[3] = -1
        S.w[np.array([0, 1])] = np.array([7.0, 8.0])
        S.w["x_post < 4"] = "w * 2"
        results.append((np.asarray(S.w[:]), np.asarray(S.w["i < j"]), float(S.w[4]),
                        np.asarray(S.j[:])[np.asarray(S.i[:]) == 2]))
    for found, expected in zip(results[1], results[0]):
        np.testing.assert_allclose(found, expected)


def test_delays_per_synapse_and_per_pathway():
    spikec.seed(3)
    S = make(spikec, [{"condition": "i != j"}])
    S.delay = "1*ms + 0.5*ms*j"
    assert np.allclose(np.asarray(S.delay[:]), (1 + 0.5 * S.j[:]) * 1e-3)
    S.pre.delay = "4*ms*rand()"
    delays = np.asarray(S.pre.delay[:])
    assert np.all((delays >= 0) & (delays < 4e-3)) and len(np.unique(delays)) == len(S)
    source = spikec.NeuronGroup(3, "v : 1", threshold="v > 1")
    T = spikec.Synapses(source, source, "w : 1", on_pre="v += w", delay=2 * spikec.ms)
    T.connect()
    assert np.allclose(np.asarray(T.delay[:]), 2e-3)


def test_variables_need_connect_first():
    S = make(spikec, [])
    with pytest.raises(EquationError, match="before connect"):
        S.w = 1


# -- random connectivity: statistics ------------------------------------------------------------
def big(N_pre=1000, N_post=800):
    G = spikec.NeuronGroup(N_pre, "x : 1", threshold="x > 1")
    H = spikec.NeuronGroup(N_post, "x : 1")
    return G, H, spikec.Synapses(G, H, "w : 1", on_pre="x += w")


def within_sigmas(count, n, p, sigmas=4.0):
    return abs(count - n * p) <= sigmas * np.sqrt(n * p * (1 - p))


@pytest.mark.parametrize("kwargs", [{"p": 0.1}, {"condition": "i != j", "p": 0.05},
                                    {"j": "k for k in sample(N_post, p=0.2)"},
                                    {"p": "0.1 + 0 * j"}])
def test_p_gives_binomial_counts(kwargs):
    spikec.seed(11)
    G, H, S = big()
    S.connect(**kwargs)
    p = 0.1 if "j" not in kwargs else 0.2
    p = 0.05 if "condition" in kwargs else p
    candidates = 1000 * 800 - (800 if "condition" in kwargs else 0)
    assert within_sigmas(len(S), candidates, p)
    outgoing = np.bincount(S.i[:], minlength=1000)
    assert abs(outgoing.var() - 800 * p * (1 - p)) < 0.25 * 800 * p * (1 - p)
    pairs = S.i[:].astype(np.int64) * 800 + S.j[:]
    assert len(np.unique(pairs)) == len(pairs)            # no pair twice
    assert np.all(np.diff(pairs) > 0)                     # Brian's order: by i, then j
    if "condition" in kwargs:
        assert not np.any(S.i[:] == S.j[:])
    incoming = np.bincount(S.j[:], minlength=800)
    assert abs(incoming.mean() - 1000 * p) < 4 * np.sqrt(1000 * p / 800)


def test_p_rows_are_independent():
    """Neighbouring sources' targets are uncorrelated: overlaps as expected for independent
    rows (p**2 per target)."""
    spikec.seed(5)
    G, H, S = big(400, 2000)
    S.connect(p=0.3)
    rows = np.zeros((400, 2000), dtype=bool)
    rows[S.i[:], S.j[:]] = True
    overlap = (rows[:-1] & rows[1:]).sum(axis=1)
    assert abs(overlap.mean() - 2000 * 0.09) < 4 * np.sqrt(2000 * 0.09 * 0.91 / 399)
    columns = rows.mean(axis=0)
    assert abs(columns.mean() - 0.3) < 0.01


def test_p_depending_on_i_and_sample_size():
    spikec.seed(2)
    G, H, S = big(200, 500)
    S.connect(j="k for k in sample(N_post, p=i*1.0/(N_pre-1))")
    counts = np.bincount(S.i[:], minlength=200)
    assert counts[0] == 0 and counts[-1] == 500
    expected = 500 * np.arange(200) / 199
    assert abs(counts.sum() - expected.sum()) < 4 * np.sqrt((expected * (1 - expected / 500))
                                                            .sum())
    G, H, T = big(50, 100)
    T.connect(j="k for k in sample(N_post, size=i//2)")
    np.testing.assert_array_equal(np.bincount(T.i[:], minlength=50), np.arange(50) // 2)
    pairs = T.i[:].astype(np.int64) * 100 + T.j[:]
    assert np.all(np.diff(pairs) > 0)
    # every target equally likely: pooled over rows, a flat histogram
    G, H, U = big(400, 10)
    U.connect(j="k for k in sample(N_post, size=3)")
    histogram = np.bincount(U.j[:], minlength=10)
    assert np.all(np.abs(histogram - 120) < 4 * np.sqrt(120))


def test_arrays_with_p_and_brian_like_fraction():
    spikec.seed(9)
    G, H, S = big(1000, 1000)
    S.connect(i=np.arange(1000), j=np.arange(1000)[::-1], p=0.25)
    assert within_sigmas(len(S), 1000, 0.25)
    np.testing.assert_array_equal(S.j[:], 999 - S.i[:])


def test_seed_makes_connectivity_reproducible():
    results = []
    for _ in range(2):
        spikec.seed(42)
        G, H, S = big(100, 100)
        S.connect(p=0.1)
        S.connect(condition="rand() < 0.05")
        S.w = "rand()"
        results.append((S.i[:], S.j[:], np.asarray(S.w[:])))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    first = results[0][0]
    spikec.seed(43)
    G, H, S = big(100, 100)
    S.connect(p=0.1)
    assert len(S) != len(first) or not np.array_equal(S.i[:], first[:len(S)])


def test_brian_statistics_agree_for_p():
    """Brian's and spikec's counts for the same p= connect are compatible (two-sample)."""
    brian2.start_scope()
    brian2.seed(1)
    G = brian2.NeuronGroup(300, "x : 1")
    S = brian2.Synapses(G, G)
    S.connect(condition="i != j", p=0.2)
    spikec.seed(1)
    H = spikec.NeuronGroup(300, "x : 1")
    T = spikec.Synapses(H, H)
    T.connect(condition="i != j", p=0.2)
    sigma = np.sqrt(2 * 300 * 299 * 0.2 * 0.8)
    assert abs(len(S) - len(T)) < 4 * sigma


# -- errors -------------------------------------------------------------------------------------
def test_out_of_range_generator_without_skip_if_invalid():
    with pytest.raises(Exception, match="outside allowed range"):
        brian_synapses([{"j": "k for k in range(i-1, i+2)"}])
    with pytest.raises(EquationError, match=r"j=-1 is outside the allowed range 0\.\.8") as err:
        make(spikec, [{"j": "k for k in range(i-1, i+2)"}])
    assert "skip_if_invalid" in str(err.value) and "^" in str(err.value)


def test_out_of_range_with_condition_on_target():
    with pytest.raises(EquationError, match="condition refers"):
        make(spikec, [{"j": "k for k in range(i-1, i+2) if x_post > 0"}])


def test_syntax_errors_point_into_the_generator():
    with pytest.raises(SpikecError) as err:
        make(spikec, [{"j": "k for k in rnge(i)"}])
    assert "unknown iterator 'rnge'" in str(err.value) and "column 12" in str(err.value)
    with pytest.raises(SpikecError, match="sample\\(\\) takes one keyword"):
        make(spikec, [{"j": "k for k in sample(N_post)"}])
    with pytest.raises(SpikecError, match="generator expression"):
        make(spikec, [{"condition": "k for k in range(3)"}])


@pytest.mark.parametrize("kwargs, error, text", [
    ({"condition": "x_pre > 3*mV"}, DimensionMismatchError, "cannot compare"),
    ({"condition": "i + j"}, SpikecError, "must be a condition"),
    ({"condition": "y_pre > 0"}, SpikecError, "unknown identifier 'y_pre'"),
    ({"j": "i * 0.5"}, EquationError, "must be an integer"),
    ({"j": "k for k in range(j)"}, EquationError, "cannot depend on 'j'"),
    ({"j": "k for k in range(N_post) if N_incoming > 2"}, EquationError, "N_incoming"),
    ({"condition": "i != j", "i": 3}, EquationError, "cannot be combined"),
    ({"j": "i", "p": 0.5}, EquationError, "cannot be combined with p"),
    ({"i": np.array([0, 1, 2]), "j": np.array([1, 2])}, EquationError, "different lengths"),
    ({"i": np.array([0, 7]), "j": np.array([1, 1])}, EquationError, "outside 0..6"),
    ({"j": "k for k in sample(N_post, size=N_post + 1)"}, EquationError, "bigger than"),
    ({"p": 1.5}, EquationError, "probability"),
])
def test_connect_errors(kwargs, error, text):
    with pytest.raises(error, match=text):
        make(spikec, [kwargs])


def test_namespace_and_level_resolve_names():
    spikec.seed(0)
    width = 1
    S = make(spikec, [{"j": "k for k in range(i-width, i+width+1)", "skip_if_invalid": True,
                          "level": 1}])  # names of make's caller, this test
    assert len(S) == 7 * 3 - 1
    T = make(spikec, [{"condition": "abs(i - j) <= width", "namespace": {"width": 0}}])
    np.testing.assert_array_equal(T.i[:], T.j[:])
