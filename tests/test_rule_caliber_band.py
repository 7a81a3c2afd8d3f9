"""The caliber band rule: no two members whose companies differ more than ``caliber_band``
times in employees share a group. Checked from the table with plain loops."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from peermatch.errors import ConfigError
from peermatch.rules import REGISTRY, rule_families
from peermatch.rules.families.caliber_band import far_pairs

from ._cli import distinct_candidates, run
from .validator import violations


def _band_breaches(df: pd.DataFrame, band: float) -> list[tuple[str, str]]:
    """Pairs in one group whose employee counts differ more than ``band`` times."""
    out = []
    for _, g in df.groupby("group"):
        sizes = [(r.id, max(float(r.employees), 1.0)) for r in g.itertuples()]
        for (a, x), (b, y) in itertools.combinations(sizes, 2):
            if max(x, y) > band * min(x, y):
                out.append((a, b))
    return out


def test_far_pairs_match_a_plain_loop():
    rng = np.random.default_rng(4)
    x = np.exp(rng.uniform(0, 9, 300))
    x[::17] = np.nan
    x[::23] = 0.0
    got = {tuple(p) for p in far_pairs(x, 10.0).tolist()}
    want = {(i, j) for i, j in itertools.combinations(range(len(x)), 2)
            if np.isfinite(x[i]) and np.isfinite(x[j])
            and max(x[i], x[j], 1) > 10 * max(min(x[i], x[j]), 1)}
    assert got == want


def test_setting_is_checked_and_listed():
    assert pm.Rules(caliber_band=10).caliber_band == 10.0
    for bad in (0.5, "10", float("inf"), True):
        with pytest.raises(ConfigError, match="caliber_band"):
            pm.Rules(caliber_band=bad)
    assert "caliber_band" in [f.key for f in REGISTRY]
    assert dict(rule_families(pm.Rules(caliber_band=10)))["caliber_band"].startswith(
        "Company sizes within a factor 10")


def test_match_keeps_every_group_within_the_band():
    df = pm.synth_candidates(120, seed=2)
    df["employees"] = np.round(np.exp(np.random.default_rng(2).uniform(np.log(5),
                                                                      np.log(2000), 120)))
    rules = pm.Rules(caliber_band=20)
    # an iteration cap ends the search: the band is a hard rule, whatever the score
    res = pm.match(df, min_size=4, max_size=8, rules=rules, time_limit=5, seed=0,
                   options={"max_iter": 300})
    assert res.success, res.message
    assert _band_breaches(res.groups, 20) == []
    assert violations(df, res.groups, 4, 8, rules=rules) == []
    assert res.validate() == []


def test_a_hand_made_grouping_that_breaks_it_is_reported(tmp_path, capsys):
    df = distinct_candidates(8, seed=1)
    df["employees"] = [5, 6, 7, 8, 500, 600, 700, 800]
    df["group"] = ["1", "1", "1", "2", "2", "2", "2", "1"]  # M0008 (800) in a group of 5-7
    path = tmp_path / "g.csv"
    df.to_csv(path, index=False)
    code, _, err = run(["report", path, "--out", tmp_path / "r.html", "--min-size", 4,
                        "--max-size", 4, "--rule", "caliber_band=10", "--check"], capsys)
    assert code == 3
    assert "caliber" in err.lower() or "company sizes" in err.lower(), err
    assert len(_band_breaches(df, 10)) == 6  # 800 against 5, 6 and 7; 8 against 500-700


def test_an_impossible_band_is_diagnosed_alike_by_validate_and_match(tmp_path, capsys):
    df = distinct_candidates(9, seed=1)
    df["employees"] = [2, 30, 500, 8000, 3, 40, 600, 9000, 4]  # four scales, three groups
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    args = ["--min-size", 3, "--max-size", 3, "--rule", "caliber_band=10"]
    code_v, _, err_v = run(["validate", src, *args], capsys)
    code_m, _, err_m = run(["match", src, "--out", tmp_path / "g.csv", "--time-limit", 2,
                            *args], capsys)
    assert code_v == code_m == 3, (err_v, err_m)
    assert "raise caliber_band" in err_v.lower() and "raise caliber_band" in err_m.lower()
    assert not (tmp_path / "g.csv").exists()


def test_too_narrow_a_band_for_the_programme_is_refused(monkeypatch):
    from peermatch.rules.families import caliber_band

    monkeypatch.setattr(caliber_band, "MAX_PAIRS", 100)
    with pytest.raises(ConfigError, match="too narrow"):
        far_pairs(np.arange(1.0, 200.0) ** 2, 2.0)
