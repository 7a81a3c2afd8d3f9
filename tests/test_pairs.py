"""Accountability pairs: exact pairing, history avoidance, reasons, the pairs command."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from peermatch.cli import main
from peermatch.pairs import PAIR_COLUMNS, best_pairing, read_pair_history


def partitions(items):
    """Every split of ``items`` into pairs plus (odd count) one triad, by plain recursion."""
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for k in range(len(rest)):
        for tail in partitions(rest[:k] + rest[k + 1:]):
            yield [(first, rest[k]), *tail]
    if len(items) % 2 == 1:
        for a, b in itertools.combinations(range(len(rest)), 2):
            left = [x for i, x in enumerate(rest) if i not in (a, b)]
            for tail in partitions(left):
                if all(len(u) == 2 for u in tail):
                    yield [(first, rest[a], rest[b]), *tail]


def value(W, units):
    return sum(W[a, b] for u in units for a, b in itertools.combinations(u, 2))


@pytest.mark.parametrize("k", [2, 3, 4, 5, 6, 7, 8, 9])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_best_pairing_is_exact(k, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(k, k))
    W = (W + W.T) / 2
    units, exact = best_pairing(W)
    assert exact
    assert sorted(x for u in units for x in u) == list(range(k))
    assert sum(len(u) == 3 for u in units) == k % 2
    best = max(value(W, p) for p in partitions(range(k)))
    assert value(W, units) == pytest.approx(best)


def test_even_groups_match_networkx():
    rng = np.random.default_rng(5)
    W = rng.random((10, 10))
    W = (W + W.T) / 2
    G = nx.complete_graph(10)
    for a, b in G.edges:
        G[a][b]["weight"] = W[a, b]
    ref = sum(W[a, b] for a, b in nx.max_weight_matching(G, maxcardinality=True))
    units, _ = best_pairing(W)
    assert value(W, units) == pytest.approx(ref)


def test_history_avoided_when_possible_fewest_repeats_otherwise():
    rng = np.random.default_rng(3)
    W = rng.random((6, 6))
    W = (W + W.T) / 2
    first, _ = best_pairing(W)
    rep = np.zeros((6, 6), dtype=bool)
    for a, b in first:
        rep[a, b] = rep[b, a] = True
    second, _ = best_pairing(W, rep)
    assert not any(rep[a, b] for a, b in second)
    # Best among the non-repeating choices, by brute force.
    ok = [p for p in partitions(range(6)) if not any(rep[a, b] for a, b in p)]
    assert value(W, second) == pytest.approx(max(value(W, p) for p in ok))
    # Five people after a pair and a triad: one repeat is unavoidable, and enough.
    W5 = W[:5, :5]
    units, _ = best_pairing(W5)
    rep5 = np.zeros((5, 5), dtype=bool)
    for u in units:
        for a, b in itertools.combinations(u, 2):
            rep5[a, b] = rep5[b, a] = True
    again, _ = best_pairing(W5, rep5)
    assert sum(rep5[a, b] for u in again for a, b in itertools.combinations(u, 2)) == 1


@pytest.fixture(scope="module")
def grouped():
    res = pm.match(pm.synth_candidates(40, seed=21), min_size=6, max_size=9, time_limit=1)
    assert res.success
    return res


def test_pairs_cover_every_member_once_inside_their_group(grouped):
    pairs = pm.accountability_pairs(grouped)
    f = pairs.frame
    assert list(f.columns) == list(PAIR_COLUMNS)
    group_of = dict(zip(grouped.groups["id"], grouped.groups["group"], strict=True))
    seen = []
    for r in f.itertuples(index=False):
        mem = [x for x in (r.member_1, r.member_2, r.member_3) if x]
        assert 2 <= len(mem) <= 3
        assert {group_of[x] for x in mem} == {r.group}
        seen.extend(mem)
    assert sorted(seen) == sorted(grouped.table.ids)
    sizes = grouped.groups["group"].value_counts()
    triads = f[f["member_3"] != ""]["group"].value_counts()
    for g, s in sizes.items():
        assert triads.get(g, 0) == s % 2
    assert pairs.repeats == 0 and pairs.notes == []
    assert (f["reason"] != "").all()
    assert f["reason"].str.contains("goal|expertise|industry|size").all()


def test_pairs_from_csv_equal_pairs_from_result(grouped, tmp_path):
    path = tmp_path / "g.csv"
    grouped.to_csv(path)
    a = pm.accountability_pairs(grouped).frame
    b = pm.accountability_pairs(path).frame
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_second_round_repeats_nothing(grouped, tmp_path):
    first = pm.accountability_pairs(grouped)
    path = tmp_path / "p1.csv"
    first.to_csv(path)
    second = pm.accountability_pairs(grouped, history=[str(path)])

    def ties(f):
        return {frozenset(p) for r in f.itertuples(index=False)
                for p in itertools.combinations([x for x in (r.member_1, r.member_2,
                                                              r.member_3) if x], 2)}

    assert second.repeats == 0 and not ties(first.frame) & ties(second.frame)
    assert (second.frame["met_before"] == 0).all()


def test_small_groups_and_history_errors():
    df = pm.synth_candidates(4, seed=1)
    df["group"] = ["a", "b", "b", "b"]
    p = pm.accountability_pairs(df)
    assert p.by_group() == {"a": [("M0001",)], "b": [("M0002", "M0003", "M0004")]}
    assert "one member" in p.notes[0]
    with pytest.raises(pm.ConfigError, match="member_1"):
        read_pair_history(pd.DataFrame({"id": ["a"], "group": ["1"]}))
    with pytest.raises(pm.ConfigError, match="not found"):
        read_pair_history("/nonexistent/pairs.csv")


def test_cli_pairs(grouped, tmp_path, capsys):
    g = tmp_path / "g.csv"
    grouped.to_csv(g)
    out1, out2 = tmp_path / "p1.csv", tmp_path / "p2.csv"
    assert main(["pairs", str(g), "--out", str(out1)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert main(["pairs", str(g), "--out", str(out2), "--history", str(out1), "--json"]) == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["repeats"] == 0 and len(data["pairs"]) == len(pd.read_csv(out2))
    first = pd.read_csv(out1, dtype=str, keep_default_na=False)
    assert list(first.columns)[:4] == ["group", "member_1", "member_2", "member_3"]


def test_cli_pairs_warns_when_repeats_are_unavoidable(tmp_path, capsys):
    df = pm.synth_candidates(5, seed=2).assign(group="1")
    g = tmp_path / "g.csv"
    df.to_csv(g, index=False)
    p1, p2 = tmp_path / "p1.csv", tmp_path / "p2.csv"
    assert main(["pairs", str(g), "--out", str(p1), "-q"]) == 0
    assert main(["pairs", str(g), "--out", str(p2), "--history", str(p1)]) == 0
    err = capsys.readouterr().err
    assert "Warning: group 1: every choice repeats a pair" in err
