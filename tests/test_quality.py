"""Group quality measures and explanations against plain-Python references."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peermatch.candidates import CandidateTable
from peermatch.explain import explain_member
from peermatch.features import encode
from peermatch.quality import group_stats, grouping_stats, member_scores
from peermatch.scoring import Weights, affinity

SETTINGS = settings(max_examples=50, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
TERMS = ["growth", "Growth", "hiring", "pricing", "exit"]


def make_table(industry, employees, goals, expertise, names=None):
    n = len(industry)
    ids = np.array([f"m{k}" for k in range(n)], dtype=object)
    frame = pd.DataFrame({"id": ids, "name": names if names is not None else ids})
    return CandidateTable(
        frame=frame, source="<test>", columns={"id": "id", "name": "name"},
        lines=np.arange(2, n + 2), ids=ids, industry=np.array(industry, dtype=object),
        employees=np.array(employees, dtype=float), revenue=np.full(n, np.nan),
        goals=[list(g) for g in goals], expertise=[list(x) for x in expertise])


@st.composite
def cases(draw):
    n = draw(st.integers(1, 10))
    lists = st.lists(st.lists(st.sampled_from(TERMS), max_size=3), min_size=n, max_size=n)
    t = make_table(
        draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)),
        draw(st.lists(st.one_of(st.just(math.nan), st.floats(1, 1e4)), min_size=n,
                      max_size=n)),
        draw(lists), draw(lists))
    lab = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)))
    return t, lab


def norm(t):
    return t.strip().lower()


def ref_stats(A, lab, t):
    rows = []
    G = [{norm(x) for x in g} for g in t.goals]
    X = [{norm(x) for x in g} for g in t.expertise]
    for g in range(lab.max() + 1):
        mem = [i for i in range(len(lab)) if lab[i] == g]
        s = len(mem)
        total = sum(A[i, j] for a, i in enumerate(mem) for j in mem[a + 1:])
        npairs = s * (s - 1) / 2
        ms = [sum(A[i, j] for j in mem if j != i) / (s - 1) if s > 1 else 0.0 for i in mem]
        goals = [x for i in mem for x in G[i]]
        shared = sum(1 for x in set(goals) if goals.count(x) >= 2)
        wanted = [(i, x) for i in mem for x in G[i]]
        cov = [any(x in X[j] for j in mem if j != i) for i, x in wanted]
        secs = [t.industry[i] for i in mem]
        blau = 1 - sum((secs.count(c) / s) ** 2 for c in set(secs)) if s else 0.0
        logs = [math.log10(max(t.employees[i], 1)) for i in mem if math.isfinite(t.employees[i])]
        mu = sum(logs) / len(logs) if logs else 0
        rows.append({
            "label": g, "size": s, "total": total, "mean_pair": total / npairs if s > 1 else 0,
            "min_member": min(ms) if ms else 0.0, "mean_member": sum(ms) / s if s else 0.0,
            "shared_goals": shared, "goal_coverage": sum(cov) / len(cov) if cov else math.nan,
            "industry_variety": blau,
            "size_spread": math.sqrt(sum((x - mu) ** 2 for x in logs) / len(logs))
            if logs else math.nan})
    return pd.DataFrame(rows)


@SETTINGS
@given(c=cases())
def test_group_stats_and_member_scores_match_loops(c):
    t, lab = c
    f = encode(t)
    A = affinity(f)
    got = group_stats(A, lab, f)
    ref = ref_stats(A, lab, t)
    assert list(got.columns) == list(ref.columns)
    for col in ref.columns:
        np.testing.assert_allclose(got[col].to_numpy(float), ref[col].to_numpy(float),
                                   atol=1e-9, err_msg=col)
    ms = member_scores(A, lab)
    for i in range(len(lab)):
        mates = [j for j in range(len(lab)) if lab[j] == lab[i] and j != i]
        want = sum(A[i, j] for j in mates) / len(mates) if mates else 0.0
        assert ms[i] == pytest.approx(want, abs=1e-9)
    s = grouping_stats(A, lab, f)
    nonempty = ref[ref["size"] > 0]
    assert s["n_groups"] == len(nonempty)
    assert s["worst_mean_pair"] == pytest.approx(nonempty["mean_pair"].min())
    assert s["mean_pair_spread"] == pytest.approx(nonempty["mean_pair"].std(ddof=0), abs=1e-9)
    assert s["min_member"] == pytest.approx(ms.min())
    assert s["total"] == pytest.approx(nonempty["total"].sum(), abs=1e-9)


def test_singletons_empty_goals_and_unplaced():
    t = make_table(["a", "a", "b"], [10, math.nan, 100], [[], [], []], [["x"], [], []])
    f = encode(t)
    A = affinity(f)
    st_ = group_stats(A, [0, 1, -1], f)
    assert st_["size"].tolist() == [1, 1]
    assert st_["mean_pair"].tolist() == [0, 0] and st_["min_member"].tolist() == [0, 0]
    assert st_["goal_coverage"].isna().all() and st_["shared_goals"].tolist() == [0, 0]
    assert st_["size_spread"].iloc[0] == 0 and np.isnan(st_["size_spread"].iloc[1])
    assert grouping_stats(A, [0, 1, -1])["n_unplaced"] == 1
    assert member_scores(A, [-1, -1, -1]).tolist() == [0, 0, 0]


def test_explain_member_names_goals_and_next_group():
    t = make_table(["retail", "software", "retail", "law"], [120, 150, 5, math.nan],
                   [["growth", "pricing"], ["growth", "hiring"], ["exit"], ["hiring"]],
                   [["hiring"], ["pricing"], [], ["growth"]],
                   names=["Ana", "Ben", "Cy", "Di"])
    f = encode(t)
    w = Weights()
    A = affinity(f, w)
    lab = np.array([0, 0, 1, 1])
    ex = explain_member(0, A, lab, f, w)
    assert ex.peers[0].name == "Ben" and ex.peers[0].affinity == pytest.approx(A[0, 1])
    assert sum(ex.peers[0].parts.values()) == pytest.approx(A[0, 1])
    assert ex.next_label == 1 and ex.next_score == pytest.approx((A[0, 2] + A[0, 3]) / 2)
    assert ex.margin == pytest.approx(A[0, 1] - ex.next_score)
    text = ex.to_text()
    for word in ("Ana", "Ben", "growth", "pricing", "hiring", "120 vs 150 employees",
                 "Next-best group: 2"):
        assert word in text
    alone = explain_member(2, A, np.array([0, 0, 1, 2]), f, w, group_names=["A", "B", "C"])
    assert alone.peers == [] and "alone in group B" in alone.to_text()
    only = explain_member(0, A, np.zeros(4, dtype=int), f, w)
    assert only.next_label is None and len(only.peers) == 3
    bare = explain_member(0, A, lab)  # no features: numbers only
    assert bare.peers[0].reasons == [] and "0" in bare.to_text()
