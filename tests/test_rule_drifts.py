"""One rule, one answer: match, validate, report --check and the scores agree.

Each test pins down a place where two commands (or two figures) used to disagree.
The expected values come from the inputs (plain loops, hand-made tables), not from
peermatch.
"""

from __future__ import annotations

import importlib
import json

import pandas as pd

import peermatch as pm
from peermatch.report import from_grouping
from peermatch.rules import competitor_classes
from peermatch.solve._result import STATUS_MESSAGES
from tests._cli import distinct_candidates as _distinct
from tests._cli import run
from tests.validator import violations


# ---------------------------------------------------------------- tiers: validate == match
def test_validate_and_match_agree_on_a_tier_too_small(tmp_path, capsys):
    df = _distinct(30, seed=1)
    df["tier"] = ["CEO"] * 27 + ["Founder"] * 3
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    sizes = ["--min-size", 4, "--max-size", 6, "--separate-tiers"]
    code_v, _, err_v = run(["validate", src, *sizes], capsys)
    code_m, _, err_m = run(["match", src, "--out", tmp_path / "g.csv", "--time-limit", 1,
                            *sizes], capsys)
    assert code_v == code_m == 3
    assert "tier 'Founder': 3 candidates cannot form groups of 4-6" in err_v
    assert "tier 'Founder': 3 candidates cannot form groups of 4-6" in err_m


# ---------------------------------------------------------------- sizes: match == report --check
def test_existing_group_over_max_size_is_broken_for_match_and_report(tmp_path, capsys):
    df = _distinct(20, seed=2)
    df["group"] = ["A"] * 8 + ["B"] * 5 + [""] * 7  # A already holds 8 > --max-size 6
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    code_m, _, err_m = run(["match", src, "--out", tmp_path / "g.csv", "--min-size", 4,
                            "--max-size", 6, "--time-limit", 1], capsys)
    assert code_m == 3 and "'A' has 8 members" in err_m and not (tmp_path / "g.csv").exists()
    full = df.copy()
    full.loc[13:, "group"] = ["B", "C", "C", "C", "C", "B", "C"]
    done = tmp_path / "done.csv"
    full.to_csv(done, index=False)
    code_r, _, err_r = run(["report", done, "--out", tmp_path / "r.html", "--min-size", 4,
                            "--max-size", 6, "--check"], capsys)
    assert code_r == 3 and "group A has 8 members" in err_r


# ---------------------------------------------------------------- one score
def test_score_is_the_sum_of_group_totals_with_a_soft_balance_rule(tmp_path, capsys):
    df = pm.synth_candidates(48, seed=5)
    cfg = tmp_path / "job.toml"
    cfg.write_text("[rules]\nbalance_penalty = { employees = 2.0 }\n")
    src, out, summ = tmp_path / "c.csv", tmp_path / "g.csv", tmp_path / "s.json"
    df.to_csv(src, index=False)
    code, _, err = run(["match", src, "--out", out, "--summary", summ, "--min-size", 5,
                        "--max-size", 7, "--time-limit", 2, "--config", cfg], capsys)
    assert code == 0, err
    s = json.loads(summ.read_text())
    rules = pm.Rules(balance_penalty={"employees": 2.0})
    res = from_grouping(pd.read_csv(out, dtype=str, keep_default_na=False), rules=rules,
                        min_size=5, max_size=7)
    # The written file, re-scored, gives the summary's figures to the last digit.
    assert round(res.score, 6) == s["score"]
    assert round(float(res.group_stats["total"].sum()), 6) == s["score"]
    assert {k: round(v, 6) for k, v in res.penalties.items()} == s["penalties"]
    # The penalty is the documented lambda * sum_g (sum_{i in g} z_i)^2, by plain loops.
    emp = df["employees"].astype(float).to_numpy()
    z = (emp - emp.mean()) / emp.std()
    groups = pd.read_csv(out, dtype=str)["group"].to_numpy()
    expect = 2.0 * sum(z[groups == g].sum() ** 2 for g in set(groups))
    assert abs(s["penalties"]["balance_penalty employees"] - expect) < 1e-6
    assert abs(s["objective"] - (s["score"] - expect)) < 1e-5
    code, stdout, _ = run(["report", out, "--out", tmp_path / "r.html", "--min-size", 5,
                           "--max-size", 7, "--config", cfg, "--json"], capsys)
    assert code == 0 and json.loads(stdout)["score"] == s["score"]


def test_match_score_equals_group_totals_in_python():
    df = pm.synth_candidates(40, seed=6)
    rules = pm.Rules(balance_penalty={"revenue": 1.5})
    # an iteration cap ends the search: score and totals agree for any grouping
    res = pm.match(df, min_size=4, max_size=6, rules=rules, time_limit=2, seed=0,
                   options={"max_iter": 300})
    assert res.success
    assert abs(res.score - float(res.group_stats["total"].sum())) < 1e-9
    assert res.penalties["balance_penalty revenue"] > 0
    assert abs(res.objective - (res.score - res.penalties["balance_penalty revenue"])) < 1e-9


# ---------------------------------------------------------------- one sector
def test_labels_are_not_cut_at_industry_depth():
    t = pm.read_candidates(pd.DataFrame({
        "id": list("abcd"), "industry": ["Retail", "Retail Banking", "541511", "541512"],
        "employees": ["1", "2", "3", "4"]}))
    classes, _, _ = competitor_classes(t, pm.Rules(competitors=("industry",), industry_depth=4))
    # Codes compete at depth 4; the two labels are different industries at any depth.
    assert [sorted(c.tolist()) for c in classes] == [[2, 3]]
    from peermatch.features import encode

    f = encode(t, industry_depth=4)
    assert f.sector[0] != f.sector[1] and f.sector[2] == f.sector[3]


def test_a_sector_column_of_the_table_is_what_max_per_group_caps():
    df = _distinct(24, seed=7)
    df["sector"] = ["Tech", "Food", "Health", "Retail"] * 6
    rules = pm.Rules(max_per_group={"sector": 1})
    res = pm.match(df, min_size=4, max_size=4, rules=rules, time_limit=2, seed=0,
                   options={"max_iter": 300})  # the cap is a hard rule, whatever the score
    assert res.success, res.message
    out = res.groups
    assert violations(df, out, 4, 4, rules=rules) == []
    for _, rows in out.groupby("group").groups.items():
        assert df.loc[rows, "sector"].value_counts().max() == 1


# ---------------------------------------------------------------- diagnosis names the rule
def test_clique_of_earlier_meetings_is_named_as_history(tmp_path):
    df = _distinct(12, seed=3)
    ids = df["id"].tolist()
    hist = pd.DataFrame({"id": ids[:5], "group": ["1"] * 5})  # five met together
    res = pm.match(df, min_size=3, max_size=4, n_groups=4, time_limit=1,
                   rules=pm.Rules(history=(hist,), max_repeats=0))
    assert res.status == "infeasible"
    why = " ".join(res.reasons)
    assert "met in earlier rounds" in why and "max_repeats" in why
    assert "conflict" not in why


def test_mixed_clique_names_both_rules():
    df = _distinct(12, seed=3)
    ids = df["id"].tolist()
    df.loc[0, "conflicts"] = ids[1]
    hist = pd.DataFrame({"id": ids[:5], "group": ["1"] * 5})
    res = pm.match(df, min_size=3, max_size=4, n_groups=4, time_limit=1,
                   rules=pm.Rules(history=(hist,), max_repeats=0))
    why = " ".join(res.reasons)
    assert res.status == "infeasible" and "met in earlier rounds" in why
    assert "declared conflict" in why


def test_impossible_slot_rule_is_proved_not_unknown(capsys, tmp_path):
    df = _distinct(16, seed=4)
    df["availability"] = ["Mon AM"] * 15 + ["Fri PM"]  # the last shares no slot
    res = pm.match(df, min_size=4, max_size=4, rules=pm.Rules(common_slot=True), time_limit=2)
    assert res.status == "infeasible"
    assert any(df["id"][15] in r and "slot" in r for r in res.reasons)
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    code, _, err = run(["validate", src, "--min-size", 4, "--max-size", 4, "--common-slot"],
                       capsys)
    assert code == 3 and df["id"][15] in err


def test_messages_say_each_reason_once(tmp_path, capsys):
    df = _distinct(30, seed=1)
    df["tier"] = ["CEO"] * 27 + ["Founder"] * 3
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    _, _, err = run(["match", src, "--out", tmp_path / "g.csv", "--min-size", 4, "--max-size",
                     6, "--separate-tiers", "--time-limit", 1], capsys)
    lines = [ln.strip(" -") for ln in err.splitlines() if ln.strip()]
    for ln in lines:
        for sentence in ln.split(". "):
            if len(sentence) > 20:
                assert err.count(sentence) == 1, sentence


def test_unknown_message_does_not_repeat_itself(monkeypatch):
    solve_mod = importlib.import_module("peermatch.solve")
    real = solve_mod.solve

    def nothing(problem, method="auto", **kw):
        out = real(problem, method, **kw)
        return out.__class__(**{**dict(out), "status": "unknown", "labels": None,
                                "success": False, "message": STATUS_MESSAGES["unknown"]})

    monkeypatch.setattr(solve_mod, "solve", nothing)
    res = pm.match(_distinct(12), min_size=3, max_size=4, time_limit=0.5)
    assert res.status == "unknown"
    assert res.message.count("within the time limit") == 1, res.message


def test_a_part_that_found_nothing_gets_the_time_left(monkeypatch):
    """With tiers, a part that came back 'unknown' is solved again with the leftover."""
    solve_mod = importlib.import_module("peermatch.solve")
    real = solve_mod.solve
    calls = []

    def first_fails(problem, method="auto", **kw):
        calls.append(kw["time_limit"])
        out = real(problem, method, **kw)
        if len(calls) == 1:
            return out.__class__(**{**dict(out), "status": "unknown", "labels": None,
                                    "success": False})
        return out

    monkeypatch.setattr(solve_mod, "solve", first_fails)
    df = _distinct(24, seed=2)
    df["tier"] = ["CEO"] * 12 + ["VP"] * 12
    res = pm.match(df, min_size=3, max_size=4, rules=pm.Rules(separate_tiers=True), time_limit=3)
    assert res.success and len(calls) == 3, (res.message, calls)
    assert violations(df, res.groups, 3, 4, rules=pm.Rules(separate_tiers=True)) == []


def test_raise_for_status_raises_infeasible_error_with_the_reasons():
    df = _distinct(12)
    df.loc[:4, "industry"] = "Dental"
    res = pm.match(df, min_size=3, max_size=4, rules=pm.Rules(competitors=("industry",)),
                   time_limit=1)
    assert res.status == "infeasible"
    try:
        res.raise_for_status()
    except pm.InfeasibleError as exc:
        assert exc.reasons == res.reasons and exc.status == "infeasible"
        assert "5 candidates compete" in exc.reasons[0]
    else:
        raise AssertionError("no InfeasibleError")
