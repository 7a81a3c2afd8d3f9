"""Vectorized scoring against plain-Python double-loop references."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peermatch import components
from peermatch.candidates import CandidateTable
from peermatch.errors import ConfigError, DataWarning
from peermatch.features import ColumnSpec, encode
from peermatch.scoring import (
    CALIBER_UNKNOWN,
    COLUMN_UNKNOWN,
    Weights,
    affinity,
    affinity_components,
    apply_move,
    check_affinity,
    group_affinity,
    grouping_score,
    move_gains,
    swap_gain,
    swap_gains,
)

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TERMS = ["growth", "Growth ", "hiring", "  HIRING", "pricing", "exit", "board  building",
         "Board building"]
INDUSTRIES = ["Retail", "retail ", "541511", "541211", "5415", "Law", "44-45 Retail"]
RPE = 1000.0  # revenue per employee passed to encode, so references need not estimate it


def make_table(industry, employees, revenue, goals, expertise, extra=None):
    n = len(industry)
    ids = np.array([f"m{k}" for k in range(n)], dtype=object)
    frame = pd.DataFrame({"id": ids, **(extra or {})})
    return CandidateTable(
        frame=frame, source="<test>", columns={"id": "id"}, lines=np.arange(2, n + 2),
        ids=ids, industry=np.array(industry, dtype=object),
        employees=np.array(employees, dtype=float), revenue=np.array(revenue, dtype=float),
        goals=[list(g) for g in goals], expertise=[list(x) for x in expertise])


@st.composite
def tables(draw, min_n=1, max_n=9):
    n = draw(st.integers(min_n, max_n))
    size = st.one_of(st.just(math.nan), st.floats(0, 1e5, allow_subnormal=False))
    lists = st.lists(st.lists(st.sampled_from(TERMS), max_size=4), min_size=n, max_size=n)
    num = st.one_of(st.just(""), st.integers(-5, 5).map(str), st.floats(-3, 3).map(repr))
    cat = st.sampled_from(["", "a", "A ", "b", "c"])
    return make_table(
        draw(st.lists(st.sampled_from(INDUSTRIES), min_size=n, max_size=n)),
        draw(st.lists(size, min_size=n, max_size=n)),
        draw(st.lists(size, min_size=n, max_size=n)),
        draw(lists), draw(lists),
        extra={"score": draw(st.lists(num, min_size=n, max_size=n)),
               "club": draw(st.lists(cat, min_size=n, max_size=n))})


weights_st = st.builds(
    Weights,
    goals=st.floats(-2, 2), inspiration=st.floats(-2, 2), caliber=st.floats(-2, 2),
    diversity=st.floats(-2, 2), caliber_scale=st.floats(0.1, 3),
    columns=st.tuples(
        st.builds(ColumnSpec, name=st.just("score"), kind=st.just("numeric"),
                  mode=st.sampled_from(["similar", "dissimilar"]), weight=st.floats(-1, 1),
                  scale=st.one_of(st.none(), st.floats(0.5, 5))),
        st.builds(ColumnSpec, name=st.just("club"), kind=st.just("categorical"),
                  mode=st.sampled_from(["similar", "dissimilar"]), weight=st.floats(-1, 1))))


# --------------------------------------------------------------------------- references


def norm(t):
    return " ".join(t.split()).lower()


def ref_size(t, i):
    e, r = t.employees[i], t.revenue[i]
    if math.isfinite(e) and e >= 0:
        return math.log10(max(e, 1.0))
    if math.isfinite(r) and r > 0:
        return max(math.log10(r) - math.log10(RPE), 0.0)
    return None


def ref_sector(label, depth):
    m = re.match(r"\d+", label.strip())
    if depth is not None and m:
        return m.group(0)[:depth]
    return norm(label)


def ref_num(t, name):
    out = []
    for v in t.frame[name]:
        out.append(float(v) if str(v).strip() else None)
    return out


def ref_components(t, w, depth=None):
    n = t.n
    G = [{norm(x) for x in g} for g in t.goals]
    X = [{norm(x) for x in g} for g in t.expertise]
    size = [ref_size(t, i) for i in range(n)]
    sec = [ref_sector(x, depth) for x in t.industry]
    score = ref_num(t, "score")
    known = [x for x in score if x is not None]
    span = max(known) - min(known) if len(known) >= 2 else 0.0
    club = [norm(v) if str(v).strip() else None for v in t.frame["club"]]

    def e(i, j):
        return len(X[i] & G[j]) / len(G[j]) if G[j] else 0.0

    out = {k: np.zeros((n, n)) for k in ("goals", "inspiration", "caliber", "diversity",
                                          "column:score", "column:club")}
    specs = {c.name: c for c in w.columns}
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            union = G[i] | G[j]
            out["goals"][i, j] = len(G[i] & G[j]) / len(union) if union else 0.0
            out["inspiration"][i, j] = (e(i, j) + e(j, i) + e(i, j) * e(j, i)) / 3
            if size[i] is None or size[j] is None:
                out["caliber"][i, j] = CALIBER_UNKNOWN
            else:
                out["caliber"][i, j] = math.exp(-abs(size[i] - size[j]) / w.caliber_scale)
            out["diversity"][i, j] = float(sec[i] != sec[j])
            spec = specs.get("score")
            if spec is not None:
                if score[i] is None or score[j] is None:
                    v = COLUMN_UNKNOWN
                else:
                    scale = spec.scale if spec.scale is not None else span
                    d = min(abs(score[i] - score[j]) / scale, 1.0) if scale > 0 else 0.0
                    v = 1 - d if spec.mode == "similar" else d
                out["column:score"][i, j] = v
            spec = specs.get("club")
            if spec is not None:
                if club[i] is None or club[j] is None:
                    v = COLUMN_UNKNOWN
                else:
                    same = club[i] == club[j]
                    v = float(same if spec.mode == "similar" else not same)
                out["column:club"][i, j] = v
    return {k: v for k, v in out.items() if not k.startswith("column:")
            or k[len("column:"):] in specs}


def ref_affinity(t, w, depth=None):
    S = ref_components(t, w, depth)
    wt = {"goals": w.goals, "inspiration": w.inspiration, "caliber": w.caliber,
          "diversity": w.diversity, **{"column:" + c.name: c.weight for c in w.columns}}
    return sum(wt[k] * S[k] for k in S)


def ref_score(A, lab):
    n = len(lab)
    return sum(A[i, j] for i in range(n) for j in range(i + 1, n)
               if lab[i] == lab[j] and lab[i] >= 0)


def ref_W(A, lab, m):
    n = len(lab)
    W = np.zeros((n, m))
    for i in range(n):
        for j in range(n):
            if j != i and lab[j] >= 0:
                W[i, lab[j]] += A[i, j]
    return W


# --------------------------------------------------------------------------- affinity


@SETTINGS
@given(t=tables(), w=weights_st, depth=st.sampled_from([None, 1, 2, 4]))
def test_components_and_affinity_match_loops(t, w, depth):
    f = encode(t, industry_depth=depth, specs=w.columns, revenue_per_employee=RPE)
    ref = ref_components(t, w, depth)
    got = affinity_components(f, w)
    assert set(got) == set(ref)
    for k in ref:
        np.testing.assert_allclose(got[k], ref[k], atol=1e-12, err_msg=k)
        assert np.all(got[k] >= -1e-12) and np.all(got[k] <= 1 + 1e-12), k
        np.testing.assert_array_equal(np.diagonal(got[k]), 0)
        np.testing.assert_allclose(got[k], got[k].T, atol=1e-12)
    A = affinity(f, w)
    np.testing.assert_allclose(A, ref_affinity(t, w, depth), atol=1e-10)
    np.testing.assert_allclose(A, A.T, atol=1e-12)


@SETTINGS
@given(t=tables(min_n=1, max_n=30), w=weights_st)
def test_blocked_threaded_sparse_paths_agree(t, w):
    f = encode(t, specs=w.columns, revenue_per_employee=RPE)
    ref = ref_affinity(t, w)
    old = (components._BLOCK_BYTES, components._DENSE_CELLS_MAX)
    try:
        components._BLOCK_BYTES = 1  # 8-row blocks
        components._DENSE_CELLS_MAX = -1  # sparse @ sparse co-occurrence products
        for jobs in (1, 2):
            np.testing.assert_allclose(affinity(f, w, workers=jobs), ref, atol=1e-10)
    finally:
        components._BLOCK_BYTES, components._DENSE_CELLS_MAX = old
    A32 = affinity(f, w, dtype=np.float32)
    assert A32.dtype == np.float32
    np.testing.assert_allclose(A32, ref, atol=1e-4)


def test_mutual_inspiration_beats_one_sided():
    # a <-> b meet each other's goal; c's expertise meets d's goal, not the reverse.
    t = make_table(["x"] * 4, [10] * 4, [math.nan] * 4,
                   goals=[["pricing"], ["hiring"], ["exit"], ["growth"]],
                   expertise=[["hiring"], ["pricing"], ["growth"], ["legal"]])
    S = affinity_components(encode(t))["inspiration"]
    assert S[0, 1] > S[2, 3] > 0
    assert S[0, 1] == pytest.approx(1.0)
    # Same total of the two directions: mutual (0.5, 0.5) beats one-sided (1, 0).
    t2 = make_table(["x"] * 4, [10] * 4, [math.nan] * 4,
                    goals=[["a", "b"], ["c", "d"], ["e"], ["f"]],
                    expertise=[["c"], ["a"], ["f"], []])
    S2 = affinity_components(encode(t2))["inspiration"]
    assert S2[0, 1] > S2[2, 3]


def test_edge_cases_n1_n2_empty_missing_equal():
    t1 = make_table(["x"], [math.nan], [math.nan], [[]], [[]])
    A = affinity(encode(t1))
    assert A.shape == (1, 1) and A[0, 0] == 0
    t2 = make_table(["x", "x"], [math.nan, 5], [math.nan, math.nan], [[], []], [[], []])
    S = affinity_components(encode(t2))
    assert S["goals"][0, 1] == 0 and S["inspiration"][0, 1] == 0
    assert S["caliber"][0, 1] == CALIBER_UNKNOWN and S["diversity"][0, 1] == 0
    # All-equal numeric column: every pair at distance 0.
    t3 = make_table(["x"] * 3, [1] * 3, [math.nan] * 3, [[]] * 3, [[]] * 3,
                    extra={"v": ["2", "2", "2"]})
    w = Weights(columns=(ColumnSpec("v", mode="dissimilar"),))
    S3 = affinity_components(encode(t3, specs=w.columns), w)
    assert np.all(S3["column:v"] == 0)
    assert np.all(S3["caliber"][~np.eye(3, dtype=bool)] == 1)


def test_a_tiny_numeric_scale_stays_finite_in_float32():
    # 1 / scale overflows float32: the distance 1 between 0 and 1.45e-173 is kept, no NaN
    t = make_table(["x"] * 3, [1] * 3, [math.nan] * 3, [[]] * 3, [[]] * 3,
                   extra={"score": ["", "0", "1.45e-173"]})
    w = Weights(goals=0, inspiration=0, caliber=0, diversity=0,
                columns=(ColumnSpec("score", mode="dissimilar"),))
    f = encode(t, specs=w.columns)
    A64, A32 = affinity(f, w), affinity(f, w, dtype=np.float32)
    assert np.isfinite(A32).all()
    np.testing.assert_allclose(A32, A64, atol=1e-6)
    assert A64[1, 2] == pytest.approx(1.0)  # as far apart as the column goes


def test_zero_weights_give_zero_matrix():
    t = make_table(["x", "y"], [1, 2], [math.nan] * 2, [["a"], ["a"]], [["a"], []])
    w = Weights(goals=0, inspiration=0, caliber=0, diversity=0)
    assert np.all(affinity(encode(t), w) == 0)


def test_affinity_rejects_unencoded_column():
    t = make_table(["x", "y"], [1, 2], [math.nan] * 2, [[], []], [[], []], extra={"v": ["1", "2"]})
    w = Weights(columns=(ColumnSpec("v"),))
    with pytest.raises(ConfigError, match="'v'.*not encoded"):
        affinity(encode(t), w)
    with pytest.raises(ConfigError, match="categorical"):
        affinity(encode(t, specs=w.columns), Weights(columns=(ColumnSpec("v", "categorical"),)))


def test_old_keywords_columns_and_n_jobs_warn_and_work():
    """``encode(columns=)`` is now ``specs=`` and ``affinity(n_jobs=)`` ``workers=``."""
    t = make_table(["x", "y"], [1, 2], [math.nan] * 2, [["a"], ["a"]], [["a"], []],
                   extra={"v": ["1", "2"]})
    w = Weights(columns=(ColumnSpec("v", "categorical"),))
    with pytest.warns(DeprecationWarning, match=r"encode\(columns="):
        f = encode(t, columns=w.columns)
    assert list(f.columns) == ["v"]
    with pytest.warns(DeprecationWarning, match=r"affinity\(n_jobs="):
        old = affinity(f, w, n_jobs=1)
    np.testing.assert_array_equal(old, affinity(f, w, workers=1))


# --------------------------------------------------------------------------- weights


def test_weights_toml_round_trip(tmp_path):
    w = Weights(goals=2.0, inspiration=0.0, caliber=-0.5, diversity=0.25, caliber_scale=0.5,
                columns=(ColumnSpec("tenure", mode="dissimilar", weight=0.2, scale=3.0),
                         ColumnSpec('club "x"', kind="categorical")))
    p = tmp_path / "w.toml"
    p.write_text(w.to_toml())
    assert Weights.from_toml(p) == w
    assert Weights.from_dict(w.to_dict()) == w


def test_weights_unknown_key_lists_valid(tmp_path):
    p = tmp_path / "w.toml"
    p.write_text("[weights]\ngoals = 1\ngoal = 2\n")
    with pytest.raises(ConfigError) as exc:
        Weights.from_toml(p)
    msg = str(exc.value)
    assert "goal" in msg and "caliber_scale" in msg and "w.toml" in msg
    p.write_text("[weights]\n[[weights.columns]]\nname = 'x'\nwieght = 1\n")
    with pytest.raises(ConfigError, match="wieght"):
        Weights.from_toml(p)
    p.write_text("[rules]\n")
    with pytest.raises(ConfigError, match="no \\[weights\\]"):
        Weights.from_toml(p)


@pytest.mark.parametrize("kw", [{"goals": math.nan}, {"caliber": "1"}, {"caliber_scale": 0},
                                {"diversity": True}, {"caliber_scale": -1}])
def test_weights_validation(kw):
    with pytest.raises(ConfigError):
        Weights(**kw)


@pytest.mark.parametrize("name", ["goals", "inspiration", "caliber", "diversity"])
@pytest.mark.parametrize("value", [1e308, -1e300, 1e13, math.inf, 10**400])
def test_huge_weights_are_refused_by_name(name, value):
    # They would overflow the affinity to inf/NaN, and the error would then blame an
    # affinity matrix the user never gave.
    with pytest.raises(ConfigError, match=f"'{name}' parameter of Weights must be"):
        Weights(**{name: value})


def test_huge_column_weight_and_tiny_scales_are_refused():
    with pytest.raises(ConfigError, match="'weight' parameter of ColumnSpec\\('tenure'\\)"
                                          ".*magnitude at most"):
        ColumnSpec("tenure", weight=1e300)
    with pytest.raises(ConfigError, match="'scale' parameter"):
        ColumnSpec("tenure", scale=1e-310)
    with pytest.raises(ConfigError, match="'caliber_scale' parameter.*at least"):
        Weights(caliber_scale=1e-310)
    with pytest.raises(ConfigError, match="'caliber_scale' parameter.*finite"):
        Weights(caliber_scale=10**400)
    with pytest.raises(ConfigError, match="magnitude at most"):
        Weights.from_dict({"goals": 1.0, "columns": [{"name": "tenure", "weight": -1e20}]})


def test_largest_weights_keep_the_affinity_finite():
    t = make_table(["x", "y", "x"], [1, 2000, math.nan], [math.nan] * 3,
                   [["a"], ["a", "b"], []], [["b"], [], ["a"]], extra={"tenure": ["1", "9", ""]})
    big = 1e12
    spec = ColumnSpec("tenure", weight=-big)
    w = Weights(goals=big, inspiration=big, caliber=big, diversity=big, columns=(spec,))
    f = encode(t, specs=w.columns, revenue_per_employee=RPE)
    for dtype in (np.float64, np.float32):
        A = affinity(f, w, dtype=dtype)
        assert np.isfinite(A).all()
        assert np.isfinite(grouping_score(A, np.zeros(t.n, dtype=np.int64)))


def test_weights_negative_allowed_and_duplicate_columns():
    assert Weights(diversity=-1).diversity == -1.0
    with pytest.raises(ConfigError, match="more than once"):
        Weights(columns=(ColumnSpec("a"), ColumnSpec("a")))
    with pytest.raises(ConfigError, match="mode"):
        ColumnSpec("a", mode="close")


def test_check_affinity():
    A = np.array([[5.0, 1.0], [1.0, 7.0]])
    np.testing.assert_array_equal(check_affinity(A, 2), [[0, 1], [1, 0]])
    with pytest.raises(ConfigError, match="square"):
        check_affinity(np.zeros((2, 3)))
    with pytest.raises(ConfigError, match="n=3"):
        check_affinity(np.zeros((2, 2)), 3)
    with pytest.raises(ConfigError, match="non-finite"):
        check_affinity([[0, np.nan], [np.nan, 0]])
    with pytest.raises(ConfigError, match="symmetric"):
        check_affinity([[0, 1], [2, 0]])
    with pytest.warns(DataWarning):
        B = check_affinity([[0, 1], [1 + 1e-9, 0]])
    assert B[0, 1] == B[1, 0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_affinity(A)


# --------------------------------------------------------------------------- gains


@st.composite
def groupings(draw, max_n=12, unplaced=False):
    n = draw(st.integers(1, max_n))
    m = draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    M = rng.normal(size=(n, n))
    A = (M + M.T) / 2  # symmetric, diagonal kept non-zero on purpose: it must never count
    lo = -1 if unplaced else 0
    lab = rng.integers(lo, m, n)
    return A, lab, m


@SETTINGS
@given(g=groupings(unplaced=True))
def test_group_affinity_and_score(g):
    A, lab, m = g
    np.testing.assert_allclose(group_affinity(A, lab, m), ref_W(A, lab, m), atol=1e-12)
    assert grouping_score(A, lab) == pytest.approx(ref_score(A, lab), abs=1e-9)


@SETTINGS
@given(g=groupings())
def test_move_and_swap_gains_equal_score_differences(g):
    A, lab, m = g
    n = len(lab)
    W = group_affinity(A, lab, m)
    G = move_gains(W, lab)
    base = ref_score(A, lab)
    for i in range(n):
        for h in range(m):
            moved = lab.copy()
            moved[i] = h
            assert G[i, h] == pytest.approx(ref_score(A, moved) - base, abs=1e-9)
    I, J = np.triu_indices(n, 1)
    SG = swap_gains(A, W, lab, I, J)
    for k, (i, j) in enumerate(zip(I, J, strict=True)):
        swapped = lab.copy()
        swapped[i], swapped[j] = lab[j], lab[i]
        want = ref_score(A, swapped) - base
        assert SG[k] == pytest.approx(want, abs=1e-9)
        assert swap_gain(A, W, lab, i, j) == pytest.approx(want, abs=1e-9)


@SETTINGS
@given(g=groupings(unplaced=True), moves=st.lists(st.tuples(st.integers(0, 11),
                                                           st.integers(-1, 4)), max_size=6))
def test_apply_move_keeps_W_exact(g, moves):
    A, lab, m = g
    lab = lab.copy()
    W = group_affinity(A, lab, m)
    for i, h in moves:
        i, h = i % len(lab), (h if h < 0 else h % m)
        before = ref_score(A, lab)
        gain = apply_move(A, W, lab, i, h)
        assert lab[i] == h
        assert gain == pytest.approx(ref_score(A, lab) - before, abs=1e-9)
        np.testing.assert_allclose(W, ref_W(A, lab, m), atol=1e-9)


def test_gain_edge_cases():
    A = np.zeros((1, 1))
    assert grouping_score(A, [0]) == 0
    np.testing.assert_array_equal(group_affinity(A, [0]), [[0]])
    np.testing.assert_array_equal(move_gains(group_affinity(A, [0], 2), [0]), [[0, 0]])
    assert grouping_score(np.zeros((0, 0)), np.zeros(0, dtype=int)) == 0
    with pytest.raises(ConfigError, match="m=1"):
        group_affinity(np.zeros((2, 2)), [0, 1], 1)
    with pytest.raises(ConfigError, match="integer"):
        grouping_score(np.zeros((2, 2)), [0.5, 1.0])
