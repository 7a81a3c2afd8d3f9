"""The HTML report, re-scoring of existing groupings, and the report/explain commands."""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from peermatch.cli import build_parser, main
from peermatch.errors import CandidatesError, ConfigError
from peermatch.quality import member_scores
from peermatch.report import from_grouping, render_report, rule_checks, write_report


@pytest.fixture(scope="module")
def example_result():
    # an iteration cap ends the search: the report of any valid grouping is checked
    return pm.match(pm.load_example(), min_size=8, max_size=12, time_limit=3, seed=0,
                    options={"max_iter": 300})


@pytest.fixture(scope="module")
def example_page(example_result):
    return render_report(example_result)


@pytest.fixture(scope="module")
def small_result():
    return pm.match(pm.synth_candidates(40, seed=1), min_size=8, max_size=10, time_limit=1, seed=0,
                    options={"max_iter": 300})


@pytest.fixture(scope="module")
def groups_csv(tmp_path_factory, small_result):
    path = tmp_path_factory.mktemp("groups") / "groups.csv"
    small_result.to_csv(path)
    return path


def _cards(page: str) -> dict[str, str]:
    """Group name -> the HTML of its card."""
    out = {}
    for m in re.finditer(r'<article class="card[^"]*" data-group="([^"]*)">(.*?)</article>',
                         page, re.S):
        out[html.unescape(m.group(1))] = m.group(2)
    return out


def _kpi(page: str, name: str) -> str:
    m = re.search(rf'data-kpi="{re.escape(name)}"><b>([^<]*)</b>', page)
    assert m, name
    return html.unescape(m.group(1))


# -- content -----------------------------------------------------------------------------

def test_every_group_appears_with_its_members(example_result, example_page):
    assert example_result.success
    cards = _cards(example_page)
    names = example_result.group_names
    assert sorted(cards) == sorted(names)
    ids = example_result.table.ids
    for g, name in enumerate(names):
        card = cards[name]
        members = ids[example_result.labels == g]
        cells = re.findall(r"<tr(?: class=\"flag\")?><td>([^<]*)</td>", card)
        assert sorted(cells) == sorted(str(x) for x in members)
        assert f"<h3>Group {html.escape(name)}</h3>" in card


def test_numbers_match_the_result(example_result, example_page):
    s = example_result.summary()
    assert _kpi(example_page, "candidates") == f"{s['candidates']:,}" == "500"
    assert _kpi(example_page, "groups") == str(example_result.n_groups)
    assert _kpi(example_page, "score (total affinity)") == f"{example_result.score:,.2f}"
    assert _kpi(example_page, "status") == example_result.status
    sizes = s["group_sizes"]
    assert _kpi(example_page, "group sizes") == f"{min(sizes)}–{max(sizes)}"
    worst = example_result.group_stats["mean_pair"].min()
    assert _kpi(example_page, "worst group mean pair affinity") == f"{worst:.3f}"
    assert f"<td>Seed</td><td>{example_result.seed}</td>" in example_page
    assert f"<td>Method</td><td>{html.escape(example_result.method)}</td>" in example_page


def test_group_measures_match_group_stats(example_result, example_page):
    cards = _cards(example_page)
    stats = example_result.group_stats
    for _, row in stats.iterrows():
        card = cards[row["group"]]
        shown = re.search(r'<dd data-stat="mean_pair">([^<]*)</dd>', card).group(1)
        assert shown == f"{row['mean_pair']:.3f}"
        assert re.search(r'<dd data-stat="size">(\d+)</dd>', card).group(1) == str(row["size"])
        blau = re.search(r'<dd data-stat="industry_variety">([^<]*)</dd>', card).group(1)
        assert blau == f"{row['industry_variety']:.3f}"
    assert "Mean pair affinity" in example_page and "Industry variety (Blau)" in example_page
    assert "Most isolated member" in example_page


def test_rules_listed_and_all_satisfied(example_result, example_page):
    assert example_result.validate() == []
    assert "✓ All hard rules are satisfied." in example_page
    for _, desc, bad in rule_checks(example_result):
        assert bad == []
        assert f'<span class="ok">✓</span> {html.escape(desc)}' in example_page
    assert "Group sizes within 11-12" in example_page  # even: 500 in 42 groups of 8-12
    assert "competitors" in example_page and "separate_tiers" in example_page  # settings table


def test_charts_and_weakest_members(example_result, example_page):
    svgs = re.findall(r"<svg.*?</svg>", example_page, re.S)
    assert len(svgs) == 5
    for s in svgs:
        ET.fromstring(s)  # well-formed
    for caption in ("Group size distribution", "Mean pair affinity per group",
                    "Industry mix per group", "Member satisfaction", "Affinity heatmap"):
        assert caption in example_page
    # The heatmap shows the weakest group by default.
    st = example_result.group_stats
    weakest = st.loc[st["mean_pair"].idxmin(), "group"]
    assert f"Affinity heatmap of group {html.escape(weakest)}" in example_page
    # The 10 lowest member scores are flagged with their explanation.
    ms = member_scores(example_result.affinity, example_result.labels)
    low = example_result.table.ids[np.argsort(ms, kind="stable")[:10]]
    flagged = re.findall(r'<details class="member" data-id="([^"]*)">', example_page)
    assert flagged == [str(x) for x in low]
    assert example_page.count("Next-best group:") == 10


def test_self_contained(example_page):
    low = example_page.lower()
    assert low.startswith("<!doctype html>")
    assert "<script" not in low
    assert "<link" not in low
    assert "http://" not in low and "https://" not in low
    assert "@import" not in low
    assert "url(" not in low
    assert "<img" not in low and "<iframe" not in low and "<object" not in low
    assert not re.search(r"\b(src|href)\s*=", low)
    assert "<svg" in low


def test_user_text_is_escaped():
    df = pm.synth_candidates(40, seed=1)
    df.loc[0, "name"] = "<b>Eve & Co</b>"
    df.loc[1, "industry"] = "<script>alert(1)</script>"
    res = pm.match(df, min_size=8, max_size=10, time_limit=1, seed=0, options={"max_iter": 300})
    page = render_report(res, title="A <title> & more")
    assert "&lt;b&gt;Eve &amp; Co&lt;/b&gt;" in page
    assert "<b>Eve" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script" not in page
    assert "<title>A &lt;title&gt; &amp; more</title>" in page


def test_group_names_are_escaped():
    df = pm.synth_candidates(24, seed=2)
    df["group"] = ["<G&1>" if k % 2 else "G2" for k in range(24)]
    page = render_report(from_grouping(df))
    assert 'data-group="&lt;G&amp;1&gt;"' in page and "<G&1>" not in page


def test_unsuccessful_result_renders():
    df = pm.synth_candidates(20, seed=1)
    df["industry"], df["region"] = "Software", "West"  # everybody competes
    res = pm.match(df, min_size=4, max_size=5, time_limit=1)
    assert not res.success
    page = render_report(res)
    assert "No grouping (infeasible)" in page
    assert "Unplaced candidates" in page and "<article" not in page


def test_write_report_and_heatmap_group(tmp_path, small_result):
    path = tmp_path / "r.html"
    name = small_result.group_names[-1]
    write_report(small_result, path, title="Forum 2025", heatmap_group=name)
    text = path.read_text(encoding="utf-8")
    assert "<title>Forum 2025</title>" in text
    assert f"Affinity heatmap of group {name}" in text
    with pytest.raises(ConfigError, match="not a group"):
        render_report(small_result, heatmap_group="nope")


# -- from_grouping -----------------------------------------------------------------------

def test_from_grouping_round_trip(groups_csv, small_result):
    res = from_grouping(groups_csv, min_size=8, max_size=10)
    assert res.status == "feasible" and res.success and res.method == "existing"
    assert res.validate() == []
    assert res.score == pytest.approx(small_result.score, abs=1e-6)
    assert sorted(res.group_names) == sorted(small_result.group_names)
    # Same members in each named group.
    a = small_result.groups.set_index("id")["group"]
    b = res.groups.set_index("id")["group"]
    assert (a.loc[b.index] == b).all()
    pd.testing.assert_series_equal(
        res.group_stats.set_index("group")["mean_pair"].sort_index(),
        small_result.group_stats.set_index("group")["mean_pair"].sort_index())


def test_from_grouping_reports_broken_rules():
    df = pm.synth_candidates(30, seed=4)
    df["industry"] = ["Software"] * 4 + ["Retail"] * 26
    df["region"] = "West"
    df["group"] = ["A"] * 10 + ["B"] * 10 + ["C"] * 10  # four competitors in A
    res = from_grouping(df, min_size=10, max_size=12)
    bad = res.validate()
    assert any("competitors" in v and "group A" in v for v in bad)
    page = render_report(res)
    assert "✗ Some hard rules are broken." in page
    for v in bad[:50]:
        assert html.escape(v) in page


def test_from_grouping_checks_sizes_and_parts():
    df = pm.synth_candidates(24, seed=3)
    df["group"] = ["x"] * 8 + ["y"] * 16
    assert from_grouping(df).validate() == [] or all(
        "outside" not in v for v in from_grouping(df).validate())
    bad = from_grouping(df, min_size=6, max_size=12).validate()
    assert any("group y has 16 members, outside 6-12" in v for v in bad)
    df["tier"] = ["CEO", "Owner"] * 12
    res = from_grouping(df, rules=pm.Rules(competitors=(), separate_tiers=True))
    mixed = [v for v in res.validate() if "must not mix" in v]
    assert len(mixed) == 2
    assert [k for k, _, b in rule_checks(res) if b] == ["separate_tiers"]


def test_from_grouping_errors(tmp_path):
    df = pm.synth_candidates(12, seed=1)
    with pytest.raises(CandidatesError, match="no 'group' column"):
        from_grouping(df)
    df["group"] = ["1"] * 11 + [""]
    with pytest.raises(CandidatesError, match=r"empty 'group' cell \(line\(s\) 13\)"):
        from_grouping(df)
    df["group"] = "1"
    with pytest.raises(ConfigError, match="min_size=5 and max_size=4"):
        from_grouping(df, min_size=5, max_size=4)


def test_from_grouping_mapped_group_column():
    df = pm.synth_candidates(16, seed=1)
    df["Team"] = ["red", "blue"] * 8
    res = from_grouping(df, columns={"group": "Team"})
    assert sorted(res.group_names) == ["blue", "red"]


# -- command line ------------------------------------------------------------------------

def test_cli_report(tmp_path, groups_csv, capsys):
    out = tmp_path / "report.html"
    code = main(["report", str(groups_csv), "--out", str(out), "--min-size", "8",
                 "--max-size", "10"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "40 candidates in" in captured.out and "hard rules: all satisfied" in captured.out
    assert f"wrote {out}" in captured.out
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "groups.csv" in page

    code = main(["report", str(groups_csv), "--out", str(out), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert code == 0 and summary["candidates"] == 40 and summary["violations"] == []

    # --check turns broken rules into exit 3; the report is still written.
    out2 = tmp_path / "strict.html"
    code = main(["report", str(groups_csv), "--out", str(out2), "--max-size", "5", "--check",
                 "--quiet"])
    captured = capsys.readouterr()
    assert code == 3 and out2.exists() and captured.out == ""


def test_cli_report_input_errors(tmp_path, capsys):
    code = main(["report", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("Error:") and "missing.csv" in err
    plain = tmp_path / "plain.csv"
    pm.synth_candidates(12, seed=1).to_csv(plain, index=False)
    code = main(["report", str(plain), "--out", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and "no 'group' column" in err
    assert not (tmp_path / "r.html").exists()
    grouped = tmp_path / "grouped.csv"
    pm.synth_candidates(12, seed=1).assign(group="1").to_csv(grouped, index=False)
    code = main(["report", str(grouped), "--out", str(tmp_path / "nowhere" / "r.html")])
    err = capsys.readouterr().err
    assert code == 2 and "Error: cannot write" in err and "folder exists" in err


def test_cli_explain(groups_csv, small_result, capsys):
    member = str(small_result.table.ids[5])
    code = main(["explain", str(groups_csv), member])
    out = capsys.readouterr().out
    assert code == 0
    group = small_result.group_names[small_result.labels[5]]
    assert f"({member}) is in group {group} with" in out
    assert "Strongest ties:" in out and "Next-best group:" in out

    code = main(["explain", str(groups_csv), member, "--json", "--top", "1"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["id"] == member and data["group"] == group
    assert len(data["peers"]) == int(np.sum(small_result.labels == small_result.labels[5])) - 1


def test_cli_explain_unknown_member(groups_csv, capsys):
    code = main(["explain", str(groups_csv), "NOBODY"])
    captured = capsys.readouterr()
    assert code == 2
    assert "Error: no member with id 'NOBODY'" in captured.err and captured.out == ""
    code = main(["explain", str(groups_csv), "m0003"])
    assert code == 2 and "Did you mean 'M0003'?" in capsys.readouterr().err


def test_cli_match_writes_report(tmp_path, capsys):
    cands = tmp_path / "cands.csv"
    pm.synth_candidates(40, seed=1).to_csv(cands, index=False)
    out, rep = tmp_path / "groups.csv", tmp_path / "report.html"
    code = main(["match", str(cands), "--out", str(out), "--min-size", "8", "--max-size", "10",
                 "--time-limit", "1", "--report", str(rep), "--quiet"])
    assert code == 0, capsys.readouterr().err
    page = rep.read_text(encoding="utf-8")
    assert "Hard rules" in page and page.count("<article") == len(
        set(pd.read_csv(out)["group"]))


@pytest.mark.parametrize("command", ["report", "explain"])
def test_help_has_example(command):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    text = sub.choices[command].format_help()
    assert "example:" in text and f"peermatch {command} groups.csv" in text


def test_cli_report_rule_flags(tmp_path, capsys):
    df = pm.synth_candidates(24, seed=3)
    df["group"] = ["x"] * 12 + ["y"] * 12
    df["tier"] = ["CEO", "Owner"] * 12
    path = tmp_path / "g.csv"
    df.to_csv(path, index=False)
    out = tmp_path / "r.html"
    code = main(["report", str(path), "--out", str(out), "--competitors", "none",
                 "--separate-tiers", "--check"])
    captured = capsys.readouterr()
    assert code == 3 and "hard rules: 2 broken" in captured.out
    assert "must not mix" in captured.err and "✗" in out.read_text(encoding="utf-8")


def test_cli_docs_list_every_option():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, p in sub.choices.items():
        assert f"## `peermatch {name}`" in doc, name
        for action in p._actions:
            for opt in action.option_strings:
                assert opt in doc, (name, opt)
