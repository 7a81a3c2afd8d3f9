"""FeatureAffinity (blocks computed from the features) against the dense affinity matrix."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import peermatch
from peermatch import affinity as fa_mod
from peermatch import components
from peermatch.affinity import FeatureAffinity, block_of
from peermatch.features import ColumnSpec, encode
from peermatch.scoring import Weights, affinity
from tests.test_scoring import RPE, SETTINGS, tables, weights_st

RTOL, ATOL = 1e-6, 1e-9

NUM_SIM = ColumnSpec("tenure", weight=0.4)
NUM_DIS = ColumnSpec("tenure", mode="dissimilar", weight=-0.7, scale=3.0)
CAT_SIM = ColumnSpec("club", kind="categorical", weight=0.6)
CAT_DIS = ColumnSpec("club", kind="categorical", mode="dissimilar", weight=-0.5)

WEIGHTS = {
    "default": Weights(),
    "negative": Weights(goals=-1.0, inspiration=0.5, caliber=-0.25, diversity=-1.0,
                        caliber_scale=0.4),
    "num-similar+cat-dissimilar": Weights(caliber=0.0, columns=(NUM_SIM, CAT_DIS)),
    "num-dissimilar+cat-similar": Weights(diversity=2.0, columns=(NUM_DIS, CAT_SIM)),
    "columns-only": Weights(goals=0, inspiration=0, caliber=0, diversity=0,
                            columns=(NUM_DIS, CAT_SIM)),
    "one-term": Weights(goals=0, inspiration=1.0, caliber=0, diversity=0),
    "all-zero": Weights(goals=0, inspiration=0, caliber=0, diversity=0),
}


def synth_features(n: int, seed: int, weights: Weights, *, unknown: bool = True):
    """Synthetic candidates read and encoded like a user file, with gaps on purpose."""
    rng = np.random.default_rng(seed)
    df = peermatch.synth_candidates(n, seed=seed)
    tenure = rng.normal(5, 3, n).round(1).astype(str).astype(object)
    club = rng.choice(["north", "South ", "south", "east"], n).astype(object)
    if unknown:
        df.loc[rng.random(n) < 0.15, "goals"] = ""
        df.loc[rng.random(n) < 0.15, "expertise"] = ""
        tenure[rng.random(n) < 0.2] = ""
        club[rng.random(n) < 0.2] = ""
    df["tenure"] = tenure
    df["club"] = club
    t = peermatch.read_candidates(df)
    if unknown:  # read_candidates wants a size on every row: blank some afterwards
        gone = rng.random(n) < 0.15
        t.employees[gone] = np.nan
        t.revenue[gone] = np.nan
    return encode(t, specs=weights.columns, industry_depth=2)


@pytest.fixture(scope="module", params=list(WEIGHTS))
def case(request):
    w = WEIGHTS[request.param]
    f = synth_features(160, 3, w)
    return f, w, affinity(f, w)


def random_index(rng, n, k):
    """Indices with repeats, unsorted, always including some shared with the other side."""
    idx = rng.integers(0, n, k)
    idx[: k // 4] = idx[0]  # repeats
    return idx


# --------------------------------------------------------------------------- blocks


def test_block_matches_dense(case):
    f, w, A = case
    F = FeatureAffinity(f, w)
    rng = np.random.default_rng(0)
    for k, l in [(1, 1), (7, 13), (40, 25), (160, 160)]:
        r = random_index(rng, f.n, k)
        c = np.concatenate([random_index(rng, f.n, l), r[:3]])  # shares some rows: diagonal
        B = F.block(r, c)
        assert B.shape == (r.size, c.size) and B.dtype == np.float64
        np.testing.assert_allclose(B, A[np.ix_(r, c)], rtol=RTOL, atol=ATOL)
        assert np.all(B[r[:, None] == c[None, :]] == 0)
    r = rng.permutation(f.n)[:50]
    np.testing.assert_allclose(F.block(r), A[np.ix_(r, r)], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(F.to_dense(), A, rtol=RTOL, atol=ATOL)


def test_rows_and_getitem(case, monkeypatch):
    f, w, A = case
    F = FeatureAffinity(f, w)
    monkeypatch.setattr(fa_mod, "_ROW_CHUNK", 37)  # several chunks, a ragged last one
    for i in (0, 5, f.n - 1):
        np.testing.assert_allclose(F.row(i), A[i], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(F[i], A[i], rtol=RTOL, atol=ATOL)
        assert F.row(i)[i] == 0
    np.testing.assert_allclose(F[np.int64(-1)], A[-1], rtol=RTOL, atol=ATOL)
    r, c = [3, 1, 3, 99], [1, 3, 50]
    np.testing.assert_allclose(F[np.ix_(r, c)], A[np.ix_(r, c)], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(block_of(F, r, c), block_of(A, r, c), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(block_of(F, r), A[np.ix_(r, r)], rtol=RTOL, atol=ATOL)


@SETTINGS
@given(t=tables(min_n=1, max_n=30), w=weights_st, data=st.data(),
       sparse=st.booleans())
def test_block_matches_dense_small_tables(t, w, data, sparse):
    # Tables with unknown sizes, empty goal sets, empty cells of user columns.
    f = encode(t, specs=w.columns, revenue_per_employee=RPE)
    idx = st.lists(st.integers(0, f.n - 1), max_size=12)
    r = np.array(data.draw(idx), dtype=np.int64)
    c = np.array(data.draw(idx), dtype=np.int64)
    old = components._DENSE_CELLS_MAX
    try:
        if sparse:
            components._DENSE_CELLS_MAX = -1  # sparse @ sparse co-occurrence products
        F = FeatureAffinity(f, w)
    finally:
        components._DENSE_CELLS_MAX = old
    A = affinity(f, w)
    np.testing.assert_allclose(F.block(r, c), A[np.ix_(r, c)], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(F.to_dense(), A, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(F.row(f.n - 1), A[-1], rtol=RTOL, atol=ATOL)
    lo, hi = F.bounds()
    off = A[~np.eye(f.n, dtype=bool)]
    assert off.size == 0 or (lo <= off.min() and off.max() <= hi)


def test_float32():
    w = WEIGHTS["num-dissimilar+cat-similar"]
    f = synth_features(120, 5, w)
    A32 = affinity(f, w, dtype=np.float32)
    F = FeatureAffinity(f, w, dtype=np.float32)
    assert F.dtype == np.float32
    rng = np.random.default_rng(1)
    r, c = random_index(rng, f.n, 30), random_index(rng, f.n, 45)
    B = F.block(r, c)
    assert B.dtype == np.float32
    np.testing.assert_allclose(B, A32[np.ix_(r, c)], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(F.row(7), A32[7], rtol=1e-5, atol=1e-5)
    G = F.plus_pairs([1, 2], [2, 3], 0.5).plus_outer(np.linspace(-1, 1, f.n), -0.3)
    assert G.block(r, c).dtype == np.float32 and G.to_dense().dtype == np.float32


def test_attributes_and_memory():
    w = WEIGHTS["num-similar+cat-dissimilar"]
    f = synth_features(2000, 2, w)
    F = FeatureAffinity(f, w)
    assert F.n == len(F) == 2000 and F.shape == (2000, 2000) and F.ndim == 2
    assert F.representation == "features" and F.dtype == np.float64
    assert F.features is f and F.weights is w
    assert 0 < F.nbytes < 2000 * 2000 * 8 / 20  # O(n d), far below the dense 32 MB
    assert "n=2000" in repr(F)
    assert F.block([], [1, 2]).shape == (0, 2) and F.block([4], []).shape == (1, 0)


def test_bad_indices():
    f = synth_features(20, 1, Weights())
    F = FeatureAffinity(f)
    msg = r"\.block\(rows, cols\)"
    for key in (slice(0, 3), (0, 1), [0, 1], (np.arange(3), np.arange(3)), True, 1.5,
                (slice(None), 0)):
        with pytest.raises(TypeError, match=msg):
            F[key]
    with pytest.raises(IndexError):
        F.block([0, 20])
    with pytest.raises(IndexError):
        F[-21]
    with pytest.raises(TypeError):
        F.block([0.5, 1.0])
    with pytest.raises(ValueError):
        F.block(np.zeros((2, 2), dtype=int))
    np.testing.assert_array_equal(F.block([-1, 0]), F.block([19, 0]))


# --------------------------------------------------------------------------- views, corrections


def dense_pairs(n, i, j, v):
    D = np.zeros((n, n))
    v = np.broadcast_to(np.asarray(v, dtype=float), np.shape(i))
    np.add.at(D, (i, j), v)
    np.add.at(D, (j, i), v)
    return D


def test_subset(case):
    f, w, A = case
    F = FeatureAffinity(f, w)
    rng = np.random.default_rng(2)
    rows = rng.permutation(f.n)[:70]
    S = F.subset(rows)
    assert S.n == 70 and S.shape == (70, 70)
    assert S._prep is F._prep  # features shared, not copied
    np.testing.assert_array_equal(S.index, rows)
    sub = A[np.ix_(rows, rows)]
    a, b = random_index(rng, 70, 25), random_index(rng, 70, 30)
    np.testing.assert_allclose(S.block(a, b), sub[np.ix_(a, b)], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(S.to_dense(), sub, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(S.row(3), sub[3], rtol=RTOL, atol=ATOL)
    inner = np.array([5, 0, 69, 12])
    SS = S.subset(inner)
    np.testing.assert_array_equal(SS.index, rows[inner])
    np.testing.assert_allclose(SS.to_dense(), sub[np.ix_(inner, inner)], rtol=RTOL, atol=ATOL)
    with pytest.raises(ValueError, match="distinct"):
        F.subset([1, 2, 1])


def test_plus_pairs_and_outer(case):
    f, w, A = case
    n = f.n
    rng = np.random.default_rng(4)
    F = FeatureAffinity(f, w)
    i1, j1 = rng.integers(0, n, 300), rng.integers(0, n, 300)
    i1[:5], j1[:5] = 7, 7  # self-pairs: ignored
    i1[5:8], j1[5:8] = (3, 9, 3), (9, 3, 9)  # repeated and reversed pairs add up
    v1 = rng.normal(size=300)
    i2, j2 = rng.integers(0, n, 50), rng.integers(0, n, 50)
    z1, z2 = rng.normal(size=n), (rng.random(n) < 0.3).astype(float)
    G = (F.plus_pairs(i1, j1, v1).plus_outer(z1, -0.8).plus_pairs(i2, j2, 0.25)
         .plus_outer(z2, 1.5))
    D = (A + dense_pairs(n, i1, j1, v1) + dense_pairs(n, i2, j2, 0.25)
         - 0.8 * np.outer(z1, z1) + 1.5 * np.outer(z2, z2))
    np.fill_diagonal(D, 0)
    r, c = random_index(rng, n, 60), np.concatenate([random_index(rng, n, 80), [3, 9, 7]])
    r[-3:] = (3, 9, 7)
    np.testing.assert_allclose(G.block(r, c), D[np.ix_(r, c)], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(G.to_dense(), D, rtol=RTOL, atol=ATOL)
    for i in (3, 7, 9):
        np.testing.assert_allclose(G.row(i), D[i], rtol=RTOL, atol=ATOL)
    # The original is untouched; a subset keeps the corrections of its rows.
    np.testing.assert_allclose(F.to_dense(), A, rtol=RTOL, atol=ATOL)
    rows = rng.permutation(n)[:40]
    np.testing.assert_allclose(G.subset(rows).to_dense(), D[np.ix_(rows, rows)],
                               rtol=RTOL, atol=ATOL)
    # Corrections on a subset are in the subset's numbering.
    H = F.subset(rows).plus_pairs([0], [1], 2.0)
    want = A[np.ix_(rows, rows)] + dense_pairs(40, [0], [1], 2.0)
    np.testing.assert_allclose(H.to_dense(), want, rtol=RTOL, atol=ATOL)
    # A bonus that cancels out leaves no stored correction.
    assert F.plus_pairs([1, 2], [2, 1], [1.0, -1.0])._pairs is None
    with pytest.raises(ValueError, match="shape"):
        F.plus_outer(np.ones(n - 1), 1.0)
    with pytest.raises(ValueError, match="finite"):
        F.plus_pairs([0], [1], np.nan)
    with pytest.raises(ValueError, match="same length"):
        F.plus_pairs([0, 1], [1], 1.0)


@pytest.mark.parametrize("name", ["default", "negative", "num-dissimilar+cat-similar",
                                  "all-zero"])
def test_bounds(name):
    w = WEIGHTS[name]
    f = synth_features(120, 6, w)
    F = FeatureAffinity(f, w)
    rng = np.random.default_rng(5)
    z = rng.normal(size=f.n)
    variants = [F, F.plus_pairs(rng.integers(0, 120, 40), rng.integers(0, 120, 40),
                                rng.normal(0, 3, 40)),
                F.plus_outer(z, -0.5).plus_outer(np.abs(z), 0.2)]
    for G in variants:
        lo, hi = G.bounds()
        D = G.to_dense()
        off = D[~np.eye(f.n, dtype=bool)]
        assert lo <= off.min() and off.max() <= hi
    lo, hi = F.bounds()
    neg = sum(min(x, 0) for x in (w.goals, w.inspiration, w.caliber, w.diversity))
    neg += sum(min(c.weight, 0) for c in w.columns)
    assert lo == pytest.approx(neg, abs=1e-12)
    assert (lo < 0) == (neg < 0)
    assert FeatureAffinity(synth_features(1, 0, w), w).bounds() == (0.0, 0.0)


def test_compiled_blocks_equal_the_numpy_path_bit_for_bit(case, monkeypatch):
    """The compiled block kernel (used once compiled) gives exactly the numpy path's
    numbers, so which one ran never changes a grouping."""
    from peermatch.solve import _kernels_sub

    f, w, _ = case
    F = FeatureAffinity(f, w)
    rng = np.random.default_rng(11)
    blocks = [(random_index(rng, f.n, 40), random_index(rng, f.n, 90)) for _ in range(3)]
    blocks.append((rng.permutation(f.n)[:5], rng.permutation(f.n)))  # short x long
    _kernels_sub.compile_now()
    compiled = [F.block(r, c) for r, c in blocks]
    monkeypatch.setattr(_kernels_sub, "READY", False)
    for (r, c), B in zip(blocks, compiled, strict=True):
        np.testing.assert_array_equal(B, F.block(r, c))
        np.testing.assert_allclose(B, _[np.ix_(r, c)] * (r[:, None] != c[None, :]),
                                   rtol=RTOL, atol=ATOL)


def test_view_state_rebuilds_a_view_on_shared_features(case):
    """What a worker that already holds the features needs to rebuild a view."""
    f, w, _ = case
    rng = np.random.default_rng(8)
    F = FeatureAffinity(f, w)
    rows = rng.permutation(f.n)[:40]
    V = F.plus_pairs([1, 2], [3, 4], [0.5, -0.25]).plus_outer(rng.normal(size=f.n), 0.3)
    V = V.subset(rows)
    assert F.shares_features(V) and V.shares_features(F)
    assert not F.shares_features(FeatureAffinity(f, w))  # same numbers, other features
    assert not F.shares_features(np.zeros((f.n, f.n)))
    index, pairs, Z, coef = V.view_state
    assert index.tolist() == rows.tolist() and Z.shape == (40, 1) and coef.tolist() == [0.3]
    B = F.with_view_state(V.view_state)
    assert B.shape == V.shape and B.shares_features(F)
    np.testing.assert_array_equal(B.to_dense(), V.to_dense())
    assert F.view_state == (None, None, None, None)
