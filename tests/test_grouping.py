"""One grouping loader: every command that reads an existing grouping goes through
peermatch.grouping.read_grouping, with the same errors and one group order."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import peermatch as pm
from peermatch.cli import main
from peermatch.explain import explain_together
from peermatch.grouping import Grouping, read_grouping
from peermatch.lifecycle import read_after_attrition
from peermatch.pairs import accountability_pairs
from peermatch.report import from_grouping
from peermatch.seats import rank_groups

NO_COMP = pm.Rules(competitors=())


def grouped(names, seed=3):
    df = pm.synth_candidates(len(names), seed=seed, conflict_rate=0.0)
    df["group"] = names
    return df


def test_groups_listed_in_natural_order():
    df = grouped(["10", "2", "1", "2", "10", "1"] * 2)
    g = read_grouping(df)
    assert g.names == ["10", "2", "1"]                # numbered as the rule engine does
    assert [g.names[k] for k in g.order] == ["1", "2", "10"]
    pairs = accountability_pairs(df, weights=None)
    assert list(dict.fromkeys(pairs.frame["group"])) == ["1", "2", "10"]
    ranked = rank_groups(df.assign(group=["10", "2", "1", "2", "10", ""] * 2), "M0006",
                         max_size=20, rules=NO_COMP)
    assert set(ranked["group"]) == {"1", "2", "10"}


@pytest.mark.parametrize("call", [
    lambda df: from_grouping(df),
    lambda df: read_grouping(df),
    lambda df: pm.check_move(df, "M0001", "1"),
    lambda df: explain_together(df, "M0001", "M0002"),
    lambda df: accountability_pairs(df),
    lambda df: pm.group_calendars(df, start="2025-01-01"),
    lambda df: rank_groups(df, "M0001"),
    lambda df: pm.repair(df, min_size=2, max_size=4),
], ids=["report", "read_grouping", "move", "explain", "pairs", "calendar", "seats", "repair"])
def test_same_error_for_a_missing_group_column(call):
    df = pm.synth_candidates(8, seed=1)
    with pytest.raises(pm.CandidatesError, match="no 'group' column, so there are no groups"):
        call(df)


def test_empty_group_cells_are_one_error_unless_allowed():
    df = grouped(["1"] * 7 + [""])
    with pytest.raises(pm.CandidatesError, match=r"empty 'group' cell \(line\(s\) 9\)"):
        read_grouping(df)
    g = read_grouping(df, allow_unplaced=True)
    assert g.labels.tolist() == [0] * 7 + [-1] and g.sizes().tolist() == [7]


def test_a_result_is_read_as_its_own_grouping():
    res = pm.match(pm.synth_candidates(24, seed=2), min_size=6, max_size=8, time_limit=1)
    g = read_grouping(res)
    assert isinstance(g, Grouping) and g.violations() == []
    assert sorted(g.names) == sorted(res.group_names)
    assert g.affinity is res.affinity


def test_checks_leave_the_compiled_problem_as_built():
    df = grouped(["1"] * 6 + ["2"] * 4)
    g = read_grouping(df, min_size=5, max_size=6, rules=NO_COMP)
    before = g.compiled.problem.bounds.copy()
    assert g.violations(sizes=False) == []
    assert any("outside 5-6" in v for v in g.violations())
    assert np.array_equal(g.compiled.problem.bounds, before)


def test_old_keyword_names_warn_and_work():
    df = grouped(["1"] * 4 + ["2"] * 4)
    with pytest.warns(DeprecationWarning, match="table_or_path"):
        res = from_grouping(table_or_path=df, rules=NO_COMP)
    assert res.n_groups == 2
    with pytest.warns(DeprecationWarning, match="grouping"):
        explain_together(grouping=df, a="M0001", b="M0008", rules=NO_COMP)
    with pytest.warns(DeprecationWarning, match="grouping"):
        rank_groups(grouping=df, prospect="M0001", rules=NO_COMP)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_grouping(df, rules=NO_COMP)


def test_group_size_pair_warns_and_means_min_size_max_size():
    """``group_size=(min, max)`` is the old spelling of ``min_size=, max_size=``."""
    df = grouped(["1"] * 4 + ["2"] * 4)
    for call in (lambda **kw: from_grouping(df, rules=NO_COMP, **kw),
                 lambda **kw: read_grouping(df, rules=NO_COMP, **kw),
                 lambda **kw: pm.check_move(df, "M0001", "2", rules=NO_COMP, **kw),
                 lambda **kw: explain_together(df, "M0001", "M0008", rules=NO_COMP, **kw)):
        with pytest.warns(DeprecationWarning, match=r"group_size=\(min, max\)"):
            old = call(group_size=(3, 5))
        new = call(min_size=3, max_size=5)
        assert type(old) is type(new)
    with pytest.warns(DeprecationWarning, match="group_size"):
        G = read_grouping(df, group_size=(3, None))
    assert (G.lo, G.hi) == (3, 4)
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="both"):
        read_grouping(df, group_size=(3, 5), min_size=3)
    with pytest.warns(DeprecationWarning), pytest.raises(pm.ConfigError, match="pair"):
        read_grouping(df, group_size=5)
    fast = dict(time_limit=5, rules=NO_COMP, options={"max_iter": 100})
    res = pm.match(pm.synth_candidates(12, seed=1), min_size=4, max_size=6, **fast)
    with pytest.warns(DeprecationWarning, match="as_grouping"):
        G = res.as_grouping(group_size=(4, 6))
    assert (G.lo, G.hi) == (4, 6)
    with pytest.warns(DeprecationWarning, match="match"):
        old = pm.match(pm.synth_candidates(12, seed=1), group_size=(4, 6), **fast)
    assert old.labels.tolist() == res.labels.tolist()


def test_departed_members_in_conflicts_are_dropped_with_a_note(tmp_path):
    df = grouped(["1"] * 8)
    df.loc[0, "conflicts"] = "M0002; X999"
    table, notes = read_after_attrition(df)
    assert table.n == 8 and "X999" in notes[0]
    clean, none = read_after_attrition(df.assign(conflicts=""))
    assert none == [] and clean.n == 8
    # any other problem fails the read as read_candidates does
    with pytest.raises(pm.CandidatesError, match="lists itself"):
        read_after_attrition(df.assign(conflicts=["M0001"] + [""] * 7))


@pytest.mark.parametrize("limit", [1e308, float("inf"), 0, -1])
def test_time_limit_outside_the_accepted_range_is_refused(limit):
    df = grouped(["1"] * 8)
    with pytest.raises(pm.ConfigError, match="604800"):
        pm.match(df, min_size=4, max_size=4, time_limit=limit)
    with pytest.raises(pm.ConfigError, match="604800"):
        pm.repair(df, min_size=4, max_size=8, time_limit=limit)


def test_cli_refuses_an_overflowing_time_limit(tmp_path, capsys):
    src = tmp_path / "c.csv"
    pm.synth_candidates(12, seed=1).to_csv(src, index=False)
    code = main(["match", str(src), "--out", str(tmp_path / "g.csv"), "--time-limit", "1e308"])
    err = capsys.readouterr().err
    assert code == 2 and "--time-limit" in err and "604800" in err
