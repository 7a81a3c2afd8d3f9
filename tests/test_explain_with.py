"""explain with the hard rules: the legal next-best group, --with, --json, the report."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from peermatch.cli import main
from peermatch.explain import explain_member, explain_result, explain_together
from peermatch.report import from_grouping, render_report


def competes(t, i, j) -> bool:
    """Plain competitor test from the raw cells: same industry and region."""
    f = t.frame
    return (f.loc[i, "industry"].strip().casefold() == f.loc[j, "industry"].strip().casefold()
            and f.loc[i, "region"].strip().casefold() == f.loc[j, "region"].strip().casefold())


@pytest.fixture(scope="module")
def result():
    df = pm.synth_candidates(90, seed=44)
    # Crowd two industries so competitors often sit in a member's best other group.
    df["industry"] = df["industry"].replace("Software", "Software House")
    df.loc[::11, ["industry", "region"]] = ["Software", "West"]
    df.loc[5::11, ["industry", "region"]] = ["Retail", "West"]
    res = pm.match(df, min_size=8, max_size=12, time_limit=2, seed=0)
    assert res.success
    return res


def test_next_best_group_never_holds_a_competitor(result):
    t = result.table
    old_bad = 0
    for i in range(t.n):
        old = explain_member(i, result.affinity, result.labels, result.features,
                             result.weights, group_names=result.group_names)
        new = explain_result(result, i)
        if old.next_label is not None:
            mates = np.flatnonzero(result.labels == old.next_label)
            old_bad += any(competes(t, i, j) for j in mates)
        if new.next_label is not None:
            mates = np.flatnonzero(result.labels == new.next_label)
            assert not any(competes(t, i, j) for j in mates), i
            assert new.next_score <= old.next_score + 1e-12
        for _, _, _, why in new.blocked:
            assert why
    assert old_bad > 0  # the old next-best named competitors' groups: the bug is exercised


def test_blocked_groups_are_named_in_the_text(result):
    for i in range(result.table.n):
        ex = explain_result(result, i)
        if ex.blocked:
            text = " ".join(ex.to_text().split())
            assert "may not join it: " in text and "breaks competitors" in text
            assert ex.to_dict()["better_but_blocked"][0]["breaks"]
            return
    pytest.fail("no member had a better group blocked by a rule")


def test_matchresult_explain_uses_the_rules(result):
    for i in range(result.table.n):
        ex = explain_result(result, i)
        if ex.blocked:
            assert "may not join it" in result.explain(str(result.table.ids[i]))
            return


def test_explain_together_pair_rules_and_costs():
    df = pm.synth_candidates(16, seed=2, conflict_rate=0.0)
    df["group"] = ["1"] * 8 + ["2"] * 8
    df["industry"] = [f"i{k}" for k in range(16)]
    df["region"] = "West"
    df.loc[15, "industry"] = df.loc[0, "industry"]
    df.loc[14, "conflicts"] = "M0002"
    df.loc[1, "conflicts"] = "M0015"
    comp = explain_together(df, "M0001", "M0016")
    assert comp.pair_rules and "they compete" in comp.pair_rules[0] and comp.best is None
    assert "can never share a group" in comp.to_text()
    conf = explain_together(df, "M0002", "M0015")
    assert conf.pair_rules == ["declared conflict"] and conf.best is None
    free = explain_together(df, "M0003", "M0012", min_size=8, max_size=8)
    assert free.pair_rules == [] and free.best["kind"] == "swap"
    # Its cost, recomputed on the swapped grouping by from_grouping.
    (x, _, to), (y, _, back) = free.best["moves"]
    moved = df.copy()
    moved.loc[moved["id"] == x, "group"] = to
    moved.loc[moved["id"] == y, "group"] = back
    after = from_grouping(moved, min_size=8, max_size=8)
    assert after.validate() == []
    before = from_grouping(df, min_size=8, max_size=8).score
    assert free.best["score_delta"] == pytest.approx(after.score - before, abs=1e-6)
    # The best legal swap is the best of all legal swaps.
    legal = [o["score_delta"] for o in free.options if not o["breaks"]]
    assert free.best["score_delta"] == max(legal)
    # Moves change the sizes: with fixed sizes only swaps are legal.
    assert all(o["breaks"] for o in free.options if o["kind"] == "move")
    same = explain_together(df, "M0003", "M0004")
    assert same.together and "are both in group 1" in same.to_text()
    with pytest.raises(pm.ConfigError):
        explain_together(df, "M0003", "M0003")


def test_cli_explain_with_and_json(tmp_path, capsys):
    df = pm.synth_candidates(16, seed=2, conflict_rate=0.0)
    df["group"] = ["1"] * 8 + ["2"] * 8
    src = tmp_path / "g.csv"
    df.to_csv(src, index=False)
    assert main(["explain", str(src), "M0003", "--with", "M0012", "--competitors",
                 "none"]) == 0
    out = capsys.readouterr().out
    assert "M0003" in out and "M0012" in out and "put them together" in out
    assert main(["explain", str(src), "M0003", "--with", "M0012", "--competitors", "none",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["member"] == "M0003" and data["with"] == "M0012" and data["options"]
    assert main(["explain", str(src), "M0003", "--json", "--top", "2"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["member"] == "M0003" and data["group"] == "1" and len(data["top"]) == 2
    assert all("affinity" in p for p in data["top"])
    nxt = data["next_best_group"]
    assert nxt is None or (nxt["legal"] is True and nxt["group"] == "2")
    assert main(["explain", str(src), "M0003", "--with", "NOBODY"]) == 2
    assert "no member with id 'NOBODY'" in capsys.readouterr().err


def test_report_shows_pairs_and_meeting_slot(tmp_path, capsys):
    res = pm.match(pm.synth_candidates(30, seed=4), min_size=6, max_size=8, time_limit=1,
                   rules=pm.Rules(common_slot=True))
    pairs = pm.accountability_pairs(res)
    page = render_report(res, pairs=pairs)
    assert page.count('class="pairs"') == 2 * res.n_groups
    assert "Meeting slot:" in page
    first = pairs.frame.iloc[0]
    assert "Accountability pairs:" in page
    # Re-reported from the CSV, without --common-slot: the slot column still shows.
    g, p = tmp_path / "g.csv", tmp_path / "p.csv"
    res.to_csv(g)
    pairs.to_csv(p)
    out = tmp_path / "r.html"
    assert main(["report", str(g), "--out", str(out), "--pairs", str(p), "-q"]) == 0
    html = out.read_text(encoding="utf-8")
    assert "Meeting slot:" in html and "Accountability pairs:" in html
    assert str(res.table.frame.loc[res.table.ids.tolist().index(first.member_1), "name"]) \
        in html
    plain = render_report(from_grouping(pd.read_csv(g, dtype=str).drop(
        columns="meeting_slot")))
    assert "Meeting slot:" not in plain and "Accountability pairs:" not in plain
