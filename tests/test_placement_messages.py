"""A broken placement rule says which setting it comes from (locked group, pin, ...)."""

from __future__ import annotations

import peermatch as pm


def _grouped():
    df = pm.synth_candidates(24, seed=2)
    df["group"] = ["1"] * 8 + ["2"] * 8 + ["3"] * 8
    return df


def test_a_move_out_of_a_locked_group_names_the_lock():
    df = _grouped()
    member = df["id"][0]  # in group 1
    mv = pm.check_move(df, member, "2", min_size=7, max_size=9,
                       rules=pm.Rules(competitors=(), locked_groups=("1",)))
    assert not mv.ok
    assert any(f"{member} is in group 2, which they may not join (they belong to locked "
               "group 1" in b for b in mv.breaks), mv.breaks
    assert any(b.startswith("group 1 has 7 members") and "locked group" in b
               for b in mv.breaks), mv.breaks


def test_a_move_into_a_locked_group_names_the_lock():
    df = _grouped()
    member = df["id"][8]  # in group 2
    mv = pm.check_move(df, member, "1", min_size=7, max_size=9,
                       rules=pm.Rules(competitors=(), locked_groups=("1",)))
    assert not mv.ok
    assert any("(group 1 is locked: nobody joins it)" in b for b in mv.breaks), mv.breaks


def test_a_pin_is_named():
    df = _grouped()
    member = df["id"][0]
    mv = pm.check_move(df, member, "2", min_size=7, max_size=9,
                       rules=pm.Rules(competitors=(), pins={member: "1"}))
    assert not mv.ok
    assert any("(pinned to group 1)" in b for b in mv.breaks), mv.breaks
    ok = pm.check_move(df, df["id"][9], "3", min_size=7, max_size=9,
                       rules=pm.Rules(competitors=(), pins={member: "1"}))
    assert ok.ok, ok.breaks
