"""`group` means one thing everywhere a user sees it: the group's name.

``MatchResult.groups``, ``MatchResult.group_stats``, the groups CSV, the HTML report and
``explain`` (text and ``--json``) all name a group the same way; the 0-based number is
``label`` (``MatchResult.labels``, ``group_stats["label"]``).
"""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from peermatch.cli import main
from peermatch.report import from_grouping, render_report
from peermatch.scoring import grouping_score


@pytest.fixture(scope="module")
def res():
    return pm.match(pm.synth_candidates(60, seed=3), min_size=8, max_size=12, time_limit=2,
                    seed=0, options={"max_iter": 2000})


def _block_totals(r):
    """Total affinity inside each group, by name, computed here from the matrix."""
    names = r.groups["group"].to_numpy()
    A = np.asarray(r.affinity)
    out = {}
    for g in pd.unique(names):
        rows = np.flatnonzero(names == g)
        out[g] = float(A[np.ix_(rows, rows)].sum() / 2)
    return out


def test_groups_and_group_stats_join_without_off_by_one(res):
    assert res.success
    st = res.group_stats
    assert list(st.columns[:2]) == ["group", "label"]
    assert st["group"].tolist() == [res.group_names[k] for k in st["label"]]
    assert st["label"].tolist() == list(range(res.n_groups))
    # the same values, the same type: a plain merge on "group" lines every member up
    assert set(st["group"]) == set(res.groups["group"])
    members = res.groups.merge(st, on="group", validate="many_to_one")
    assert len(members) == len(res.groups)
    sizes = res.groups["group"].value_counts()
    assert (st.set_index("group")["size"] == sizes.reindex(st["group"])).all()
    # each group's measures are that group's: totals recomputed from the members agree
    totals = _block_totals(res)
    for row in st.itertuples():
        assert row.total == pytest.approx(totals[row.group], abs=1e-9)
    # and the labels are the same grouping
    names = np.array(res.group_names, dtype=object)
    assert (names[res.labels] == res.groups["group"].to_numpy()).all()


def test_csv_report_and_explain_name_groups_as_groups_does(res, tmp_path):
    path = tmp_path / "groups.csv"
    res.to_csv(path)
    csv = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert csv["group"].tolist() == res.groups["group"].tolist()

    again = from_grouping(path, min_size=8, max_size=12)
    assert again.group_stats.set_index("group")["total"].to_dict() == pytest.approx(
        res.group_stats.set_index("group")["total"].to_dict())

    page = render_report(res)
    cards = {html.unescape(m.group(1)): m.group(2) for m in re.finditer(
        r'<article class="card[^"]*" data-group="([^"]*)">(.*?)</article>', page, re.S)}
    assert set(cards) == set(res.group_stats["group"])
    for row in res.group_stats.itertuples():
        assert f'<dd data-stat="size">{row.size}</dd>' in cards[row.group]

    for k in (0, 17, len(res.groups) - 1):
        member, group = res.groups.loc[k, "id"], res.groups.loc[k, "group"]
        assert f" is in group {group} with " in res.explain(member)


def test_explain_json_names_the_group_as_the_csv(res, tmp_path, capsys):
    path = tmp_path / "groups.csv"
    res.to_csv(path)
    member, group = res.groups.loc[5, "id"], res.groups.loc[5, "group"]
    assert main(["explain", str(path), member, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["group"] == group
    assert data["next_group"] in set(res.groups["group"]) - {group}


def test_existing_group_names_reach_group_stats():
    df = pm.synth_candidates(24, seed=2).assign(group=["north"] * 8 + ["south"] * 8
                                                + ["west"] * 8)
    r = from_grouping(df, min_size=8, max_size=8)
    assert sorted(r.group_stats["group"]) == ["north", "south", "west"]
    A = np.asarray(r.affinity)
    for row in r.group_stats.itertuples():
        lab = np.where(df["group"].to_numpy() == row.group, 0, -1)
        assert row.total == pytest.approx(grouping_score(A, lab), abs=1e-9)
