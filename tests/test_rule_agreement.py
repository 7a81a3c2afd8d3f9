"""validate, match and report --check give the same diagnosis on the same input."""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

import peermatch as pm
from tests._cli import distinct_candidates as _distinct
from tests._cli import run
from tests.validator import broken_families


def _competitors(tmp):
    df = _distinct(12)
    df.loc[:4, "industry"] = "Dental"
    df.loc[:4, "region"] = "North"
    return df, ""


def _conflict_clique(tmp):
    df = _distinct(12)
    ids = df["id"].tolist()
    for k in range(5):
        df.loc[k, "conflicts"] = ";".join(ids[k + 1:5])
    return df, ""


def _history_clique(tmp):
    df = _distinct(12)
    hist = tmp / "round1.csv"
    pd.DataFrame({"id": df["id"][:5], "group": ["1"] * 5}).to_csv(hist, index=False)
    return df, f'[rules]\nhistory = ["{hist.as_posix()}"]\nmax_repeats = 0\n'


def _together_in_conflict(tmp):
    df = _distinct(12)
    df.loc[0, "conflicts"] = df["id"][1]
    return df, f'[rules]\ntogether = [["{df["id"][0]}", "{df["id"][1]}"]]\n'


def _pins_over_capacity(tmp):
    df = _distinct(12)
    pins = ", ".join(f'{i} = "1"' for i in df["id"][:5])
    return df, f"[rules]\npins = {{ {pins} }}\n"


def _isolated(tmp):
    df = _distinct(12)
    df["gender"] = ["F"] * 11 + ["M"]
    return df, '[rules]\nno_isolated = ["gender"]\n'


def _slot(tmp):
    df = _distinct(12)
    df["availability"] = ["Mon AM"] * 11 + ["Fri PM"]
    return df, "[rules]\ncommon_slot = true\n"


def _tier(tmp):
    df = _distinct(14)
    df["tier"] = ["CEO"] * 12 + ["VP"] * 2
    return df, "[rules]\nseparate_tiers = true\n"


def _existing_over_max(tmp):
    df = _distinct(14)
    df["group"] = ["A"] * 6 + ["B"] * 4 + ["C"] * 4
    return df, ""


def _presence(tmp):
    df = _distinct(12)
    df["expertise"] = ["finance"] + ["marketing"] * 11
    return df, '[rules]\nat_least_one = [["expertise", "finance"]]\n'


CASES = {"competitors": _competitors, "conflict clique": _conflict_clique,
         "history clique": _history_clique, "together vs conflict": _together_in_conflict,
         "pins over capacity": _pins_over_capacity, "isolated": _isolated,
         "slot": _slot, "tier too small": _tier, "existing over max": _existing_over_max,
         "presence": _presence}


def _reasons(err: str, prefix: str) -> list[str]:
    return sorted(ln.strip()[len(prefix):] for ln in err.splitlines()
                  if ln.strip().startswith(prefix))


@pytest.mark.parametrize("case", sorted(CASES))
def test_validate_and_match_agree(tmp_path, capsys, case):
    df, toml = CASES[case](tmp_path)
    src, cfg = tmp_path / "c.csv", tmp_path / "job.toml"
    df.to_csv(src, index=False)
    cfg.write_text(toml)
    sizes = ["--min-size", 3, "--max-size", 4, "--config", cfg]
    code_v, _, err_v = run(["validate", src, *sizes], capsys)
    code_m, _, err_m = run(["match", src, "--out", tmp_path / "g.csv", "--time-limit", 2,
                            *sizes], capsys)
    assert code_v == code_m == 3, (err_v, err_m)
    assert _reasons(err_v, "Error: ") == _reasons(err_m, "- ") != []
    assert not (tmp_path / "g.csv").exists()


@pytest.mark.parametrize("case", ["competitors", "conflict clique", "history clique",
                                  "together vs conflict", "isolated", "slot", "tier too small",
                                  "existing over max", "presence"])
def test_report_check_breaks_the_rule_that_match_names(tmp_path, capsys, case):
    """A grouping put together by hand breaks, per report --check, the family match names."""
    df, toml = CASES[case](tmp_path)
    df = df.copy()
    if "group" not in df or case == "existing over max":
        # Three groups of four and, for 14 rows, one of two: the offenders together.
        df["group"] = [str(k // 4 + 1) for k in range(len(df))]
    if case == "existing over max":
        df["group"] = ["A"] * 6 + ["B"] * 4 + ["C"] * 4
    if case == "tier too small":  # the two VPs join a CEO
        df["group"] = ["1"] * 4 + ["2"] * 4 + ["3"] * 3 + ["4"] * 3
    src, cfg = tmp_path / "g.csv", tmp_path / "job.toml"
    df.to_csv(src, index=False)
    cfg.write_text(toml)
    code, out, err = run(["report", src, "--out", tmp_path / "r.html", "--min-size", 3,
                          "--max-size", 4, "--config", cfg, "--check"], capsys)
    assert code == 3, (out, err)
    family = {"competitors": "competitors", "conflict clique": "conflict",
              "history clique": "met 1 time(s) before", "together vs conflict": "conflict",
              "isolated": "isolated", "slot": "meeting slot", "tier too small": "must not mix",
              "existing over max": "6 members", "presence": "at least one member"}[case]
    assert family in err, err
    # The independent validator finds the same family broken in the same grouping.
    key = {"competitors": "competitors", "conflict clique": "conflicts",
           "history clique": "max_repeats", "together vs conflict": "conflicts",
           "isolated": "no_isolated", "slot": "common_slot", "tier too small": "separate_tiers",
           "existing over max": "sizes", "presence": "at_least_one"}[case]
    rules = pm.Rules(**tomllib.loads(toml).get("rules", {}))
    assert key in broken_families(df.assign(group=""), df, 3, 4, rules=rules)


def test_seats_fit_exactly_when_report_check_finds_nothing_new():
    """A group fits the prospect iff putting them there breaks no rule for report --check."""
    from peermatch.report import from_grouping
    from peermatch.seats import rank_groups

    df = pm.synth_candidates(40, seed=9)
    rules = pm.Rules(separate_tiers=True, common_slot=True, slot_quorum=0.5)
    df["group"] = [str(k % 8 + 1) for k in range(40)]
    prospect = df["id"][0]
    table = df.copy()
    table.loc[0, "group"] = ""
    ranked = rank_groups(table, prospect, max_size=6, rules=rules)
    assert ranked["fits"].any() and not ranked["fits"].all()
    for row in ranked.itertuples():
        placed = table.copy()
        placed.loc[0, "group"] = row.group
        res = from_grouping(placed, rules=rules, min_size=1, max_size=6)
        found = res.violations()
        assert all(isinstance(v, pm.Violation) for v in found)
        mine = [v for v in found
                if v.group == row.group and (v.rule == "sizes" or prospect in v.members)]
        assert row.fits == (not mine), (row.group, row.reason, [v.message for v in mine])


def test_a_grouping_read_back_is_checked_tier_by_tier_as_match_made_it():
    """Balance and spread apply within each tier (and region) when match splits the
    table; a grouping read back (report --check, validate, the workbench) is checked the
    same way, not against the whole table's mean and counts."""
    from peermatch.grouping import Grouping, read_grouping
    from peermatch.report import from_grouping

    df = pm.synth_candidates(120, seed=3)
    rules = pm.Rules(separate_tiers=True, balance={"employees": "60%"}, spread=("region",))
    res = pm.match(df, min_size=8, max_size=12, rules=rules, time_limit=30, seed=0,
                   options={"max_iter": 300})
    assert res.success and res.validate() == []
    assert from_grouping(res.groups, rules=rules, min_size=8, max_size=12).validate() == []
    G = read_grouping(res.groups, rules=rules, min_size=8, max_size=12)
    assert isinstance(G, Grouping) and G.violations() == []
    # the rules as compiled for the check name each tier, with that tier's own mean
    names = [s.name for s in G.compiled.problem.group_sums]
    for tier, rows in df.groupby("tier").groups.items():
        mu = pd.to_numeric(df.loc[rows, "employees"]).mean()
        assert f"tier '{tier}': mean employees at most {1.6 * mu:,.4g} in every group" in names
    # one group's sizes raised tenfold: its tier's band breaks, named with the tier
    out = res.groups.copy()
    g = out["group"].iloc[0]
    mine = out["group"] == g
    out["employees"] = [str(int(float(e)) * 10) if m else e
                        for e, m in zip(out["employees"], mine, strict=True)]
    broken = from_grouping(out, rules=rules, min_size=8, max_size=12).validate()
    tier = out.loc[mine, "tier"].iloc[0]
    assert any(v.startswith(f"group {g} breaks tier '{tier}': mean employees at most")
               and "its mean is" in v for v in broken), broken
