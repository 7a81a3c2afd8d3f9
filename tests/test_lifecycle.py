"""Group lifecycle: repair after attrition and joiners, checked moves, and the must-show
figures of benchmarks/lifecycle.py on a held-out grouping of 200."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import peermatch as pm
from peermatch.cli import main
from peermatch.report import from_grouping
from tests.validator import violations

from ._bench import load_benchmark

bench = load_benchmark("lifecycle")

NO_COMP = pm.Rules(competitors=())


def grouped(sizes, seed=7, **extra):
    df = pm.synth_candidates(sum(sizes), seed=seed, conflict_rate=0.0)
    df["group"] = [name for name, k in zip("ABCDEFGH", sizes, strict=False) for _ in range(k)]
    for k, v in extra.items():
        df[k] = v
    return df


# --------------------------------------------------------------------------------------
# The must-show figures (held-out seed, independent checks)
# --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def figures():
    # 4 s, not 2: the repair's time limit covers all its attempts, and on a busy machine
    # (the suite runs on every core) 2 s ran out before any attempt finished.
    # max_iter ends the two matches (about 2 s each instead of the 4 s limit); what is
    # checked below is the pairs, calendars and repair made from their groupings
    return bench.figures(n=200, seed=bench.SEED, time_limit=4.0, options={"max_iter": 1000})


def test_everyone_in_exactly_one_pair_or_triad_of_their_group(figures):
    for r in (figures["round_1"], figures["round_2"]):
        assert r["everyone_once"] and r["wrong_group"] == 0 and r["bad_units"] == 0
        assert r["one_triad_per_odd_group"]


def test_pair_affinity_within_one_percent_of_the_reference(figures):
    for r in (figures["round_1"], figures["round_odd"], figures["repair"]["pairs_after"]):
        assert 0.99 <= r["min_ratio_to_reference"] <= 1.0 + 1e-9
        assert r["everyone_once"] and r["one_triad_per_odd_group"]
    assert figures["round_odd"]["odd_groups"] == figures["groups"]  # triads checked too


def test_second_round_repeats_no_pair(figures):
    assert figures["round_2"]["repeated_pairs"] == 0
    assert figures["round_2"]["reported_repeats"] == 0


def test_one_valid_recurring_calendar_per_group(figures):
    c = figures["calendars"]
    assert c["files"] == c["groups"] == figures["groups"]
    assert c["valid_recurring_on_weekday"] == c["groups"]


def test_repair_after_three_groups_shrink(figures):
    r = figures["repair"]
    assert r["status"] == "repaired" and len(r["groups_hit"]) == 3
    assert all(k < 8 for k in r["sizes_left"])
    assert r["validator_errors"] == 0 and r["peermatch_violations"] == 0
    assert r["healthy_members_moved"] == 0


# --------------------------------------------------------------------------------------
# repair
# --------------------------------------------------------------------------------------

def test_repair_merges_fewest_moves_and_keeps_healthy_groups():
    df = grouped([10, 10, 5, 4])
    res = pm.repair(df, min_size=8, max_size=12, rules=NO_COMP, time_limit=1)
    assert res.success and res.dissolved == ["D"] and res.kept == ["C"]
    assert res.n_moved == 4 and res.n_joined == 0  # D's four: C takes three, one elsewhere
    out = res.groups
    assert (out["group"][:20] == df["group"][:20]).all()
    assert (out["group"][20:25] == "C").all()
    assert sorted(out["group"].unique()) == ["A", "B", "C"]
    assert violations(df, out, 8, 12, rules=NO_COMP, check_existing=False) == []
    assert set(res.moves["from"]) == {"D"} and res.moves["why"].str.contains("dissolved").all()


def test_repair_places_joiners_in_open_seats_without_moves():
    df = grouped([9, 9, 9])
    df.loc[[3, 12], "group"] = ""  # two new members (rows with an empty group)
    res = pm.repair(df, min_size=7, max_size=10, rules=NO_COMP, time_limit=1)
    assert res.success and res.n_moved == 0 and res.n_joined == 2
    assert (res.groups["group"] != "").all()
    kept = df["group"] != ""
    assert (res.groups["group"][kept] == df["group"][kept]).all()


def test_repair_group_size_pair_is_deprecated():
    df = grouped([9, 9, 9])
    df.loc[[3, 12], "group"] = ""
    with pytest.warns(DeprecationWarning, match="repair"):
        res = pm.repair(df, group_size=(7, 10), rules=NO_COMP, time_limit=1)
    assert res.success and res.n_moved == 0 and res.n_joined == 2


def test_repair_forms_a_new_group_for_many_joiners():
    df = grouped([10, 10, 8])
    df.loc[20:27, "group"] = ""  # eight new members, every group full but one seat... none
    res = pm.repair(df, min_size=8, max_size=10, rules=NO_COMP, time_limit=1)
    assert res.success and res.new_groups == ["1"]
    assert sorted(res.groups["group"].value_counts().tolist()) == [8, 10, 10]


def test_repair_sheds_an_oversized_group():
    df = grouped([14, 10, 9])
    res = pm.repair(df, min_size=8, max_size=12, rules=NO_COMP, time_limit=1)
    assert res.success
    sizes = res.groups["group"].value_counts()
    assert sizes.max() <= 12 and res.n_moved == 2 and set(res.moves["from"]) == {"A"}
    assert (res.groups["group"][14:] == df["group"][14:]).all()


def test_repair_keeps_competitors_apart():
    df = grouped([8, 8, 4])
    df["industry"] = [f"i{k}" for k in range(20)]
    df["region"] = "West"
    df.loc[16, "industry"] = df.loc[0, "industry"]  # C's first member competes with A's
    res = pm.repair(df, min_size=8, max_size=12, time_limit=1)
    assert res.success and res.violations == []
    assert res.groups.loc[16, "group"] == "B"
    assert violations(df, res.groups, 8, 12, check_existing=False) == []


def test_repair_out_of_time_is_unknown_not_infeasible(monkeypatch):
    """An attempt that ran out of time proves nothing: the status says so."""
    from peermatch import lifecycle
    from peermatch.solve import SolveResult

    def out_of_time(*args, **kwargs):
        return SolveResult(status="unknown", success=False, labels=None, reasons=[],
                           message="No grouping was found within the time limit.")

    monkeypatch.setattr(lifecycle, "_solve_one", out_of_time)
    df = grouped([10, 10, 8])
    df.loc[20:27, "group"] = ""
    res = pm.repair(df, min_size=8, max_size=10, rules=NO_COMP, time_limit=1)
    assert res.status == "unknown" and not res.success
    assert "--time-limit" in res.message


def test_repair_unchanged_and_infeasible():
    df = grouped([8, 8])
    same = pm.repair(df, min_size=8, max_size=12, rules=NO_COMP)
    assert same.status == "unchanged" and same.n_moved == 0 and same.success
    bad = pm.repair(grouped([8, 3]), min_size=8, max_size=8, rules=NO_COMP, time_limit=1)
    assert bad.status == "infeasible" and not bad.success and bad.reasons
    with pytest.raises(pm.ConfigError):
        bad.to_csv("never.csv")
    with pytest.raises(pm.ConfigError, match="min_size=9"):
        pm.repair(df, min_size=9, max_size=8)


def test_repair_cleans_conflicts_naming_members_who_left(tmp_path):
    df = grouped([10, 10, 10])
    df.loc[0, "conflicts"] = "M0025"
    df.loc[24, "conflicts"] = "M0001"
    left = df.drop(index=range(21, 27))  # M0022..M0027 leave: C has four
    res = pm.repair(left, min_size=8, max_size=12, rules=NO_COMP, time_limit=1)
    assert res.success and any("no longer in the table (M0025)" in x for x in res.notes)
    assert res.groups.loc[0, "conflicts"] == ""
    path = tmp_path / "left.csv"
    left.to_csv(path, index=False)
    assert main(["repair", str(path), "--out", str(tmp_path / "new.csv"), "--min-size", "8",
                 "--competitors", "none", "--time-limit", "1", "-q"]) == 0


def test_repair_with_common_slot_recomputes_meeting_slot():
    df = grouped([8, 8, 4])
    df["availability"] = "Tue AM"
    rules = pm.Rules(competitors=(), common_slot=True)
    res = pm.repair(df, min_size=8, max_size=12, rules=rules, time_limit=1)
    assert res.success and (res.groups["meeting_slot"] == "Tue AM").all()
    assert violations(df, res.groups, 8, 12, rules=rules, check_existing=False) == []


def test_repair_result_feeds_report_and_pairs():
    res = pm.repair(grouped([10, 10, 4]), min_size=8, max_size=12, rules=NO_COMP, time_limit=1)
    mr = res.result
    assert mr.success and mr.validate() == []
    assert len(pm.accountability_pairs(mr).frame) > 0
    s = res.summary()
    assert s["moved"] == res.n_moved and json.dumps(s)


def test_cli_repair(tmp_path, capsys):
    df = grouped([10, 10, 4])
    src = tmp_path / "now.csv"
    df.to_csv(src, index=False)
    out, moves = tmp_path / "new.csv", tmp_path / "moves.csv"
    code = main(["repair", str(src), "--out", str(out), "--moves", str(moves),
                 "--min-size", "8", "--max-size", "12", "--competitors", "none",
                 "--time-limit", "1"])
    text = capsys.readouterr().out
    assert code == 0 and "dissolved C" in text and "wrote" in text
    new = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert violations(df, new, 8, 12, rules=NO_COMP, check_existing=False) == []
    assert len(pd.read_csv(moves)) == 4
    code = main(["repair", str(src), "--out", str(out), "--min-size", "11", "--max-size",
                 "11", "--competitors", "none", "--time-limit", "1"])
    assert code == 3 and "No repair obeys every hard rule" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# check_move
# --------------------------------------------------------------------------------------

def test_check_move_names_broken_rules_and_score_change():
    df = grouped([9, 9])
    df["industry"] = [f"i{k}" for k in range(18)]
    df["region"] = "West"
    df.loc[10, "industry"] = df.loc[0, "industry"]
    rules = pm.Rules()
    bad = pm.check_move(df, "M0001", "B", min_size=8, max_size=10, rules=rules)
    assert not bad.ok and any("breaks competitors" in v for v in bad.breaks)
    good = pm.check_move(df, "M0002", "B", min_size=8, max_size=10, rules=rules)
    assert good.ok and good.breaks == [] and "keeps every hard rule" in good.to_text()
    # The score change, recomputed independently on the moved grouping.
    before = from_grouping(df, rules=rules, min_size=8, max_size=10).score
    moved = df.copy()
    moved.loc[1, "group"] = "B"
    after = from_grouping(moved, rules=rules, min_size=8, max_size=10)
    assert after.validate() == []
    assert good.score_delta == pytest.approx(after.score - before)
    assert list(good.groups["group"]) == list(moved["group"])
    size = pm.check_move(df, "M0002", "B", min_size=9, max_size=9, rules=rules)
    assert {"group A has 8 members, outside 9-9", "group B has 10 members, outside 9-9"} == \
        set(size.breaks)
    with pytest.raises(pm.ConfigError, match="already in group A"):
        pm.check_move(df, "M0002", "A")
    with pytest.raises(pm.ConfigError, match="no group 'Z'"):
        pm.check_move(df, "M0002", "Z")
    with pytest.raises(pm.ConfigError, match="Did you mean 'M0002'"):
        pm.check_move(df, "m0002", "B")


def test_check_move_mends_a_broken_rule():
    df = grouped([7, 9])
    mv = pm.check_move(df, "M0016", "A", min_size=8, max_size=8, rules=NO_COMP)
    assert mv.ok and len(mv.fixes) == 2


def test_cli_move(tmp_path, capsys):
    df = grouped([9, 9])
    src = tmp_path / "g.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "moved.csv"
    assert main(["move", str(src), "M0001", "B", "--min-size", "8", "--max-size", "10",
                 "--competitors", "none", "--out", str(out)]) == 0
    assert "keeps every hard rule" in capsys.readouterr().out
    assert pd.read_csv(out, dtype=str)["group"].iloc[0] == "B"
    assert main(["move", str(src), "M0001", "B", "--min-size", "9", "--competitors", "none",
                 "--json"]) == 3
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["breaks"] and "score_delta" in data
    assert main(["move", str(src), "NOBODY", "B"]) == 2
    assert "no member with id 'NOBODY'" in capsys.readouterr().err
