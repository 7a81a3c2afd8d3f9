"""The independent validator (tests/validator.py) catches a broken grouping of every family.

Each case starts from one valid grouping of twelve candidates under every rule at
once, breaks one rule by hand, and expects the validator to name that rule's family.
The last tests check that the validator and peermatch's own check agree on random
groupings.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from tests.validator import FAMILIES, broken_families, findings, violations

ALL_ON = dict(
    competitors=("industry", "region"), max_per_group={"gender": 2},
    at_least_one=(("expertise", "finance"),), no_isolated=("gender",),
    balance={"employees": "10%"}, spread=("gender",), separate_tiers=True, same_region=True,
    common_slot=True, slot_quorum=0.75,
)


def _table() -> pd.DataFrame:
    """Twelve candidates in three valid groups of four (rows 0-3, 4-7, 8-11)."""
    return pd.DataFrame({
        "id": [f"a{i}" for i in range(12)],
        "industry": [f"Ind{i}" for i in range(12)],
        "employees": ["10", "20", "30", "40"] * 3,
        "region": ["North"] * 8 + ["South"] * 4,
        "tier": ["CEO"] * 4 + ["VP"] * 4 + ["CEO"] * 4,
        "gender": ["f", "f", "m", "m"] * 3,
        "expertise": ["finance; law", "sales", "sales", "sales"] * 3,
        "availability": ["Mon AM; Tue PM", "Mon AM", "mon  am", "Tue PM"] * 3,
        "conflicts": [""] * 12,
    })


def _grouping(df: pd.DataFrame, groups=None) -> pd.DataFrame:
    out = df.copy()
    out["group"] = groups or [str(k // 4 + 1) for k in range(12)]
    out["meeting_slot"] = "Mon AM"
    return out


def _found(df, out, *, lo=4, hi=4, **rules):
    return broken_families(df, out, lo, hi, rules=pm.Rules(**{**ALL_ON, **rules}))


def test_the_valid_grouping_breaks_nothing():
    df = _table()
    assert violations(df, _grouping(df), 4, 4, rules=pm.Rules(**ALL_ON)) == []
    # A CSV file as the user gave it reads the same.
    assert violations(df, _grouping(df), 4, 4, n_groups=3) == []


def _swap(groups, a, b):
    groups = list(groups)
    groups[a], groups[b] = groups[b], groups[a]
    return groups


BASE = [str(k // 4 + 1) for k in range(12)]


def test_sizes():
    df = _table()
    assert "sizes" in _found(df, _grouping(df, ["2"] + BASE[1:]))
    unplaced = _grouping(df, [""] + BASE[1:])
    assert "sizes" in _found(df, unplaced, lo=3)
    assert "sizes" in broken_families(df, _grouping(df), 4, 4, n_groups=4)


def test_table_rows_ids_and_columns_pass_through():
    df = _table()
    assert "table" in broken_families(df, _grouping(df).iloc[::-1], 4, 4)
    out = _grouping(df)
    out.loc[0, "employees"] = "11"
    assert "table" in broken_families(df, out, 4, 4)


@pytest.mark.parametrize("change", ["same", "depth", "wildcard", "sector"])
def test_competitors(change):
    df = _table()
    kw = {}
    if change == "same":  # case and spaces do not tell competitors apart
        df.loc[1, "industry"] = " ind0 "
    elif change == "depth":
        df.loc[0, "industry"], df.loc[1, "industry"] = "541511", "541512 Software"
        assert _found(df, _grouping(df)) == set()
        kw["industry_depth"] = 4
    elif change == "wildcard":  # an empty region competes in every region
        df.loc[1, "industry"], df.loc[1, "region"] = "Ind0", ""
        kw["same_region"] = False
    else:
        df["sector"] = [f"s{i}" for i in range(12)]
        df.loc[1, "sector"] = "S0"
        kw["competitors"] = ("sector",)
    assert "competitors" in _found(df, _grouping(df), **kw)
    if change in ("same", "depth"):  # an exempt industry competes with nobody
        exempt = "5415" if change == "depth" else "IND0"
        assert "competitors" not in _found(df, _grouping(df), competitor_exceptions=(exempt,),
                                           **kw)
    assert "competitors" not in _found(df, _grouping(df), **{**kw, "competitors": ()})


def test_conflicts_column_and_file():
    df = _table()
    df.loc[0, "conflicts"] = "a5; a1"
    assert "conflicts" in _found(df, _grouping(df))
    assert "conflicts" not in _found(df, _grouping(df), conflicts=False)
    df = _table()
    pairs = pd.DataFrame({"id_a": ["a2"], "id_b": ["a3"], "reason": ["supplier"]})
    assert "conflicts" in _found(df, _grouping(df), conflict_file=pairs)


def test_conflict_file_on_disk(tmp_path):
    df = _table()
    path = tmp_path / "pairs.csv"
    path.write_text("id_a,id_b\na9,a10\n")
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "g.csv"
    _grouping(df).to_csv(out, index=False)
    assert "conflicts" in broken_families(src, out, 4, 4, rules=pm.Rules(conflict_file=str(path)))


def test_max_repeats():
    df = _table()
    hist = pd.DataFrame({"id": ["a0", "a1", "a4"], "group": ["x", "x", "y"]})
    assert "max_repeats" in _found(df, _grouping(df), history=(hist,), max_repeats=0)
    assert "max_repeats" not in _found(df, _grouping(df), history=(hist,), max_repeats=1)
    twice = (hist, hist)
    assert "max_repeats" in _found(df, _grouping(df), history=twice, max_repeats=1)


def test_together():
    df = _table()
    assert "together" in _found(df, _grouping(df), together=(("a0", "a8"),))
    assert "together" not in _found(df, _grouping(df), together=(("a0", "a3"),))


def test_placement_pins_and_allowed_groups():
    df = _table()
    assert "placement" in _found(df, _grouping(df), pins={"a0": "3"})
    assert "placement" not in _found(df, _grouping(df), pins={"a0": "1"})
    assert "placement" in _found(df, _grouping(df), allowed_groups={"a0": ["2", "3"]})
    assert "placement" not in _found(df, _grouping(df), allowed_groups={"a0": ["1", "3"]})


def test_placement_locked_and_existing_groups():
    df = _table()
    df["group"] = ["A"] * 4 + [""] * 8
    out = _grouping(df, ["A"] * 4 + ["2"] * 4 + ["3"] * 4)
    assert "placement" not in _found(df, out, locked_groups=("A",))
    moved = _grouping(df, _swap(out["group"], 3, 4))  # a3 leaves A, a4 joins it
    assert "placement" in _found(df, moved, locked_groups=("A",))
    df["group"] = ["A"] + [""] * 11
    out = _grouping(df, ["A", "A", "A", "A"] + BASE[4:])
    assert "placement" not in _found(df, out)
    moved = _grouping(df, ["B"] * 4 + BASE[4:])
    assert "placement" in _found(df, moved)
    assert "placement" not in _found(df, moved, keep_existing=False)
    assert "placement" not in broken_families(df, moved, 4, 4, rules=pm.Rules(**ALL_ON),
                                              check_existing=False)


def test_max_per_group():
    df = _table()
    assert "max_per_group" in _found(df, _grouping(df), max_per_group={"gender": 1})
    df["industry"] = ["541511", "541512", "5211", "5212"] * 3
    sector = {"max_per_group": {"sector": 1}, "industry_depth": 4}
    assert "max_per_group" in _found(df, _grouping(df), **sector)
    assert "max_per_group" not in _found(df, _grouping(df), **{**sector, "industry_depth": 6})


def test_at_least_one():
    df = _table()
    df.loc[8, "expertise"] = "sales;lawyer"
    assert "at_least_one" in _found(df, _grouping(df))
    df.loc[8, "expertise"] = "sales ; FINANCE "
    assert "at_least_one" not in _found(df, _grouping(df))
    assert "at_least_one" in _found(df, _grouping(df), at_least_one=(("gender", "x"),))


def test_balance():
    df = _table()
    out = _grouping(df, _swap(BASE, 0, 11))  # group 1: 40, 20, 30, 40 (mean 32.5 vs 25)
    df2 = df.copy()
    df2["tier"], df2["region"] = "CEO", "North"
    assert "balance" in _found(df2, out, balance={"employees": "20%"})
    assert "balance" not in _found(df2, out, balance={"employees": "30%"})
    assert "balance" not in _found(df2, out, balance={"employees": 7.5})
    assert "balance" in _found(df2, out, balance={"employees": 7.4})
    df2.loc[0, "employees"] = ""  # a missing value counts as the mean
    assert "balance" in _found(df2, _grouping(df2), balance={"employees": 1})


def test_balance_is_per_tier():
    df = _table()
    df["employees"] = ["10", "20", "30", "40"] * 2 + ["10", "20", "30", "40"]
    df.loc[4:7, "employees"] = ["100", "100", "100", "100"]  # the VP tier is its own part
    assert "balance" not in _found(df, _grouping(df), balance={"employees": 0})
    assert "balance" in _found(df, _grouping(df), balance={"employees": 0},
                               separate_tiers=False, same_region=False)


def test_spread():
    df = _table()
    kw = {"no_isolated": (), "max_per_group": {}, "same_region": False}
    assert "spread" not in _found(df, _grouping(df), **kw)
    df.loc[10:11, "gender"] = "f"  # CEO tier: 6 f over 2 groups, but group 1 holds 2
    assert "spread" in _found(df, _grouping(df), **kw)
    # Without the tier split, the VP group's 2 f count too: 8 over 3 groups is 2-3 each.
    assert "spread" in _found(df, _grouping(df), **{**kw, "separate_tiers": False})
    df.loc[10:11, "gender"] = "m"
    assert "spread" not in _found(df, _grouping(df), **{**kw, "separate_tiers": False})


def test_no_isolated():
    df = _table()
    df.loc[1, "gender"] = "m"
    assert "no_isolated" in _found(df, _grouping(df))
    df.loc[0, "gender"] = ""  # an empty cell is no value
    assert "no_isolated" not in _found(df, _grouping(df), spread=(), max_per_group={})


def test_separate_tiers_and_same_region():
    df = _table()
    df.loc[0, "tier"] = "VP"
    assert "separate_tiers" in _found(df, _grouping(df))
    df = _table()
    df.loc[0, "region"] = " north "
    assert "same_region" not in _found(df, _grouping(df))
    df.loc[0, "region"] = "South"
    assert "same_region" in _found(df, _grouping(df))


def test_common_slot():
    df = _table()
    assert "common_slot" in _found(df, _grouping(df), slot_quorum=1.0)
    out = _grouping(df)
    out["meeting_slot"] = "Tue PM"  # shared by only 2 of 4
    assert "common_slot" in _found(df, out)
    assert "common_slot" in _found(df, _grouping(df).drop(columns="meeting_slot"))
    df["availability"] = ["Mon AM", "Tue PM", "Wed AM", "Thu PM"] * 3
    assert "common_slot" in _found(df, _grouping(df), slot_quorum=0.5)


def test_every_family_has_a_case():
    names = {n for n in globals() if n.startswith("test_")}
    for fam in FAMILIES:
        key = {"table": "test_table_rows_ids_and_columns_pass_through",
               "conflicts": "test_conflicts_column_and_file",
               "placement": "test_placement_pins_and_allowed_groups",
               "same_region": "test_separate_tiers_and_same_region",
               "separate_tiers": "test_separate_tiers_and_same_region"}.get(fam, f"test_{fam}")
        assert key in names, fam


# ------------------------------------------------------- agreement with peermatch's check
def _random_case(seed: int):
    """A random grouping of 24 candidates under a random subset of the rules."""
    rng = np.random.default_rng(seed)
    n = 24
    df = pm.synth_candidates(n, seed=seed)
    ids = df["id"].tolist()
    df["conflicts"] = ""
    df.loc[0, "conflicts"] = ids[int(rng.integers(1, n))]
    df["gender"] = rng.choice(["f", "m", "x"], size=n, p=[0.45, 0.45, 0.1])
    df["tier"] = rng.choice(["CEO", "VP"], size=n)
    df["region"] = rng.choice(["North", "South", ""], size=n, p=[0.45, 0.45, 0.1])
    df["availability"] = [";".join(rng.choice(["Mon", "Tue", "Wed"], size=2, replace=False))
                          for _ in range(n)]
    df["industry"] = rng.choice(["541511", "541512", "5211", "Retail", "retail "], size=n)
    df["group"] = [str(g) for g in rng.permutation(np.arange(n) % 4) + 1]
    hist = pd.DataFrame({"id": ids, "group": rng.permutation(np.arange(n) % 3)})
    options = {
        "competitors": ("industry", "region"), "industry_depth": 4,
        "competitor_exceptions": ("5211",), "conflicts": False,
        "conflict_file": pd.DataFrame({"id_a": ids[4:6], "id_b": ids[6:8]}),
        "max_per_group": {"gender": 2}, "at_least_one": (("expertise", "finance"),),
        "no_isolated": ("gender",), "together": ((ids[1], ids[2]),), "pins": {ids[3]: "2"},
        "allowed_groups": {ids[9]: ["1", "4"]}, "balance": {"employees": "40%"},
        "spread": ("tier",), "common_slot": True, "slot_quorum": 0.5,
        "separate_tiers": True, "same_region": True, "history": (hist,), "max_repeats": 0,
    }
    chosen = {k: v for k, v in options.items() if rng.random() < 0.3}
    chosen.setdefault("competitors", ())  # on by default: off unless drawn
    if chosen.get("separate_tiers") or chosen.get("same_region"):
        # report --check checks the whole table as one part; match balances and spreads
        # within each tier/region part.
        chosen.pop("balance", None)
        chosen.pop("spread", None)
    if "max_repeats" in chosen:
        chosen["history"] = (hist,)
    return df, pm.Rules(**chosen)


@pytest.mark.parametrize("seed", range(40))
def test_validator_agrees_with_peermatch_on_random_groupings(seed):
    from peermatch.report import from_grouping

    df, rules = _random_case(seed)
    res = from_grouping(df, rules=rules, min_size=5, max_size=7)
    theirs = {v.rule for v in res.violations()}
    out = df.copy()
    if rules.common_slot:
        out["meeting_slot"] = res.groups["meeting_slot"]
    # The table as given had no groups: the grouping is the output.
    found = findings(df.assign(group=""), out, 5, 7, rules=rules)
    mine = {fam for fam, _ in found} - {"table"}
    assert theirs <= mine, (mine, theirs)
    # peermatch names a pair that breaks two pair rules (say a conflict between members of
    # two tiers) once, under one of them; every pair found here must be among its findings.
    pairs = {frozenset(v.members) for v in res.violations() if len(v.members) == 2}
    for fam, msg in found:
        if fam in mine - theirs:
            assert fam in ("conflicts", "max_repeats", "competitors"), (fam, msg)
            named = frozenset(x for x in df["id"] if re.search(rf"\b{x}\b", msg))
            assert named in pairs, (fam, msg)


def test_random_groupings_break_and_keep_each_family():
    """The agreement above is not vacuous: each family is both broken and kept."""
    broken: dict[str, int] = {}
    for seed in range(40):
        df, rules = _random_case(seed)
        out = df.copy()
        out["meeting_slot"] = "Mon"
        for fam in broken_families(df.assign(group=""), out, 5, 7, rules=rules):
            broken[fam] = broken.get(fam, 0) + 1
    for fam in FAMILIES:
        if fam not in ("table", "sizes"):
            assert 0 < broken.get(fam, 0) < 40, (fam, broken)
