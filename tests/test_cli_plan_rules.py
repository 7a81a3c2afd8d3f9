"""The plan on the command line (``match --verbose``, ``MatchResult.plans``) and rule
settings by name (``--rule NAME=VALUE``), declared ones of a registered family included."""

from __future__ import annotations

import pandas as pd
import pytest

import peermatch as pm
from peermatch.rules import REGISTRY, Family, Setting, register

from ._cli import distinct_candidates, run


@pytest.fixture(scope="module")
def cands(tmp_path_factory):
    path = tmp_path_factory.mktemp("plan") / "candidates.csv"
    df = distinct_candidates(40, seed=3)
    df["tier"] = ["CEO"] * 20 + ["Owner"] * 20
    df.to_csv(path, index=False)
    return path


def test_verbose_prints_the_plan_on_standard_error(cands, tmp_path, capsys):
    code, out, err = run(["match", cands, "--out", tmp_path / "g.csv", "--min-size", 4,
                          "--max-size", 6, "--time-limit", 1, "--verbose"], capsys)
    assert code == 0, err
    assert "plan: method 'auto' -> " in err
    for part in ("count:", "start:", "search:", "floor:", "executor:"):
        assert part in err
    assert "plan:" not in out  # stdout keeps the summary only


def test_verbose_names_each_part(cands, tmp_path, capsys):
    code, _, err = run(["match", cands, "--out", tmp_path / "g.csv", "--min-size", 4,
                        "--max-size", 6, "--time-limit", 1, "--separate-tiers", "-v"], capsys)
    assert code == 0, err
    assert "tier 'CEO': plan:" in err and "tier 'Owner': plan:" in err


def test_result_plans_match_what_the_solver_followed(cands):
    res = pm.match(cands, min_size=4, max_size=6, time_limit=1, seed=0, options={"max_iter": 300})
    [(label, plan)] = res.plans
    assert plan is res.solver["plan"]
    assert plan.search in str(plan)
    split = pm.match(cands, min_size=4, max_size=6, time_limit=1, seed=0,
                     rules=pm.Rules(separate_tiers=True), options={"max_iter": 300})
    assert [lab for lab, _ in split.plans] == [p.label for p in split.parts]


def test_rule_sets_any_rules_setting(cands, tmp_path, capsys):
    out = tmp_path / "g.csv"
    code, _, err = run(["match", cands, "--out", out, "--min-size", 4, "--max-size", 6,
                        "--time-limit", 1, "--rule", "max_per_group={tier = 3}"], capsys)
    assert code == 0, err
    groups = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert groups.groupby("group")["tier"].value_counts().max() <= 3


@pytest.mark.parametrize("item, words", [
    ("no_such_rule=1", "is not a rule setting"),
    ("slot_quorum", "write it as NAME=VALUE"),
    ("max_per_group=3", "max_per_group"),
])
def test_rule_errors_name_the_setting(cands, tmp_path, capsys, item, words):
    code, _, err = run(["match", cands, "--out", tmp_path / "g.csv", "--time-limit", 1,
                        "--rule", item], capsys)
    assert code == 2
    assert words in err
    assert not (tmp_path / "g.csv").exists()


class _Band(Family):
    """At most ``test_band_cap`` of the first four rows in a group."""

    key = "test_band"
    order = 998
    settings = ("test_band_cap",)
    declares = (Setting("test_band_cap", None, None),)

    def describe(self, rules, sizes):
        return f"At most {rules.test_band_cap} of the first four per group"

    def compile(self, b):
        if self.active(b.rules):
            b.add_sum(self.key, b.indicator([0, 1, 2, 3]), "test band",
                      hi=float(b.rules.test_band_cap))


def test_rule_reaches_a_declared_setting_of_a_registered_family(cands, tmp_path, capsys):
    register(_Band)
    try:
        out = tmp_path / "g.csv"
        code, _, err = run(["match", cands, "--out", out, "--min-size", 4, "--max-size", 6,
                            "--time-limit", 1, "--rule", "test_band_cap=1"], capsys)
        assert code == 0, err
        groups = pd.read_csv(out, dtype=str, keep_default_na=False)
        first = groups.iloc[:4]["group"]
        assert first.nunique() == 4  # one of the first four rows per group at most
    finally:
        REGISTRY.remove("test_band")
    with pytest.raises(TypeError):
        pm.Rules(test_band_cap=1)  # forgotten with its family
