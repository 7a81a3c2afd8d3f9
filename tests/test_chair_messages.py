"""What a chair reads: repair failures in sentences, members named with their ids, seats
for a seated member, every unreadable meeting slot at once, pairs of another grouping
refused, consistent numbers in ``explain --with``, one seat wording, ids in any Unicode
form."""

from __future__ import annotations

import json
import re
import unicodedata

import pandas as pd

import peermatch as pm
from peermatch.explain import TogetherExplanation, explain_result, explain_together
from peermatch.lifecycle import read_after_attrition
from peermatch.report import from_grouping, render_report
from peermatch.seats import rank_groups

from ._cli import distinct_candidates, run

NO_COMP = pm.Rules(competitors=())


def grouping(sizes, seed=3, **cols):
    """Candidates without competitors or conflicts, in groups A, B, C, ... of ``sizes``."""
    df = distinct_candidates(sum(sizes), seed=seed)
    df["group"] = [g for g, k in zip("ABCDEFGH", sizes, strict=False) for _ in range(k)]
    for k, v in cols.items():
        df[k] = v
    return df


# --------------------------------------------------------------------------------------
# 1. repair: one sentence per repair tried, the rules in force, fixes the user can make
# --------------------------------------------------------------------------------------

def slot_bound():
    """Groups A and B (8 each, room up to 10) meet Monday and Tuesday; the 2 members left
    in C can only make Wednesday: with a common slot, no repair exists."""
    df = grouping([8, 8, 2])
    df["availability"] = ["Mon AM"] * 8 + ["Tue AM"] * 8 + ["Wed AM"] * 2
    df["meeting_slot"] = ["Mon-AM"] * 8 + ["Tue-AM"] * 8 + ["Wed-AM"] * 2
    return df


def test_repair_failure_names_the_rules_in_force_in_sentences():
    rules = pm.Rules(competitors=(), common_slot=True)
    fixed = pm.repair(slot_bound(), min_size=6, max_size=10, rules=rules, time_limit=5)
    assert fixed.status == "infeasible"
    msg = fixed.message
    # no rule family fragments, no pins nobody set, no quorum without its setting
    assert "allowed groups:" not in msg and "common meeting slot:" not in msg
    assert "pinned" not in msg and "lower the slot quorum" not in msg
    assert "keeping no small group" not in msg and "lower slot_quorum" not in msg
    assert len(fixed.reasons) == 1
    for sentence in fixed.reasons:
        assert sentence[0].isupper() and sentence.endswith("."), sentence
    assert fixed.reasons[0].startswith("Dissolving group C (its 2 members M0017 and M0018 "
                                       "moving to groups with room) fails: ")
    # fixes with their command-line form
    assert "--common-slot" in msg and "--min-size 2" in msg and "peermatch move" in msg
    assert "Add meeting slots to the availability of M0017 and M0018." in msg
    assert "slot_quorum below 1; command line: slot_quorum in the [rules] table of --config" in msg


def test_repair_failure_found_by_the_solver_names_its_rules():
    """C's members share Wednesday with the full group B: only the solver finds that no
    repair exists; its rule families become words and fixes."""
    df = grouping([8, 10, 2])
    df["availability"] = ["Mon AM"] * 8 + ["Wed AM"] * 12
    df["meeting_slot"] = ["Mon-AM"] * 8 + ["Wed-AM"] * 12
    fixed = pm.repair(df, min_size=6, max_size=10, rules=pm.Rules(competitors=(), common_slot=True),
                      time_limit=5)
    assert fixed.status == "infeasible"
    assert fixed.reasons[0].startswith("Dissolving group C") and " is impossible while " in (
        fixed.reasons[0])
    assert "every member of a group can make its meeting slot" in fixed.message
    assert ":" not in fixed.reasons[0]
    assert "--max-size" in fixed.message or "healthy groups stay" in fixed.message


def test_repair_rule_words_name_only_rules_in_force():
    from peermatch._repairtext import attempt_sentence

    fams = ["allowed groups", "common meeting slot"]
    plain = attempt_sentence("Dissolving group 4", fams, rules=pm.Rules(common_slot=True),
                             lo=6, hi=10)
    assert plain == ("Dissolving group 4 is impossible while the members of the healthy groups "
                     "stay where they are and every member of a group can make its meeting "
                     "slot.")
    pinned = attempt_sentence("Dissolving group 4", fams, lo=6, hi=10,
                              rules=pm.Rules(common_slot=True, slot_quorum=0.75,
                                             pins={"M1": "2"}))
    assert "pinned, restricted or locked members" in pinned and "at least 75%" in pinned


def test_repair_failure_on_the_command_line(tmp_path, capsys):
    src = tmp_path / "now.csv"
    slot_bound().to_csv(src, index=False)
    out = tmp_path / "fixed.csv"
    code, stdout, err = run(["repair", src, "--out", out, "--min-size", 6, "--max-size", 10,
                             "--competitors", "none", "--common-slot", "--time-limit", 5],
                            capsys)
    assert code == 3 and not out.exists() and "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == "Error: No repair obeys every hard rule. Tried:"
    assert lines[1].startswith("  - Dissolving group C") and lines[2] == "To repair, any of:"
    assert all(x.startswith("  - ") and x.endswith(".") for x in lines[3:])
    assert "leave out --common-slot" in err and "pinned" not in err


# --------------------------------------------------------------------------------------
# 2. members named with their ids (names repeat)
# --------------------------------------------------------------------------------------

def twins():
    df = grouping([6, 6], seed=4)
    df["name"] = "Quinn Rossi"  # everyone has the same name
    return df


def test_explain_names_groupmates_with_their_ids():
    res = from_grouping(twins(), rules=NO_COMP)
    text = explain_result(res, "M0001").to_text(top=5)
    ties = [x for x in text.splitlines() if x.startswith("  - ")]
    assert len(ties) == 5
    assert all(re.match(r"  - Quinn Rossi \(M\d{4}, affinity -?\d+\.\d\d\): ", x) for x in ties)


def test_explain_with_names_both_with_their_ids(tmp_path, capsys):
    src = tmp_path / "g.csv"
    twins().to_csv(src, index=False)
    code, out, err = run(["explain", src, "M0001", "--with", "M0012", "--competitors",
                          "none"], capsys)
    assert code == 0, err
    assert "Quinn Rossi (M0001) is in group A and Quinn Rossi (M0012) in group B" in out


def test_report_member_lines_and_pair_cards_name_ids(tmp_path):
    res = from_grouping(twins(), rules=NO_COMP)
    pairs = pm.accountability_pairs(res)
    html = render_report(res, pairs=pairs)
    assert re.search(r"Quinn Rossi \(M\d{4}, affinity", html)  # weakest-fit explanations
    assert re.search(r"Quinn Rossi \(M\d{4}\) &amp; Quinn Rossi \(M\d{4}\)", html)  # pairs


def test_seats_and_pairs_name_members_with_ids():
    df = twins()
    df.loc[len(df)] = {**df.iloc[0].to_dict(), "id": "P1", "group": ""}
    ranked = rank_groups(df, "P1", max_size=8, rules=NO_COMP)
    assert ranked["reason"].str.contains(r"strongest tie with Quinn Rossi \(M\d{4}\)").all()
    pairs = pm.accountability_pairs(twins())
    assert pairs.frame["names"].str.fullmatch(
        r"Quinn Rossi \(M\d{4}\)( & Quinn Rossi \(M\d{4}\))+").all()


# --------------------------------------------------------------------------------------
# 3 and 7. seats: a seated member is told so; one wording for seats
# --------------------------------------------------------------------------------------

def test_seats_for_a_seated_member_says_so_first(tmp_path, capsys):
    src = tmp_path / "g.csv"
    grouping([6, 6, 6]).to_csv(src, index=False)
    code, out, err = run(["seats", src, "M0001", "--max-size", 8], capsys)
    assert code == 0, err
    first, second = out.splitlines()[:2]
    assert first == ("Note: M0001 is already in group A; the ranking is of the other groups "
                     "(check a move with 'peermatch move').")
    assert second == "Other groups for M0001, best first:"
    assert "group A " not in out
    code, out, err = run(["seats", src, "M0001", "--json"], capsys)
    assert code == 0 and "already in group A" in err
    assert sorted(r["group"] for r in json.loads(out)) == ["B", "C"]
    assert rank_groups(grouping([6, 6, 6]), "M0001", max_size=8).attrs["seated_in"] == "A"


def test_seats_words_open_and_full_seats_alike():
    df = grouping([8, 12])
    df.loc[len(df)] = {**df.iloc[0].to_dict(), "id": "P1", "group": "",
                       "industry": "Elsewhere"}
    ranked = rank_groups(df, "P1", max_size=12, rules=NO_COMP).set_index("group")
    assert ranked.loc["A", "reason"].startswith("8 of 12 seats taken, 4 open; strongest tie")
    assert ranked.loc["B", "reason"] == "full: 12 of 12 seats taken, none open"


# --------------------------------------------------------------------------------------
# 8. seats for an unknown id: how to add the prospect
# --------------------------------------------------------------------------------------

def test_seats_unknown_id_hints_at_adding_the_prospect(tmp_path, capsys):
    src = tmp_path / "g.csv"
    grouping([6, 6]).to_csv(src, index=False)
    code, out, err = run(["seats", src, "M0501"], capsys)
    assert code == 2 and out == "" and "Traceback" not in err
    assert "no candidate with id 'M0501'" in err
    assert "add their row" in err and "empty 'group' cell" in err


# --------------------------------------------------------------------------------------
# 4. calendar: every unreadable slot at once, with its lines
# --------------------------------------------------------------------------------------

def test_calendar_reports_every_unreadable_slot(tmp_path, capsys):
    df = grouping([3, 3, 3])
    df["meeting_slot"] = ["Tus-AM"] * 3 + ["Tue-AM"] * 3 + ["Someday"] * 3
    src = tmp_path / "g.csv"
    df.to_csv(src, index=False)
    folder = tmp_path / "cal"
    code, out, err = run(["calendar", src, "--start", "2025-01-06", "--out", folder], capsys)
    assert code == 2 and not folder.exists() and "Traceback" not in err
    assert "2 meeting slots" in err
    assert "group A, lines 2, 3, 4: meeting slot 'Tus-AM'" in err
    assert "group C, lines 8, 9, 10: meeting slot 'Someday'" in err


# --------------------------------------------------------------------------------------
# 5. pairs of another grouping are refused
# --------------------------------------------------------------------------------------

def test_report_refuses_pairs_of_another_grouping(tmp_path, capsys):
    src = tmp_path / "g.csv"
    grouping([4, 4]).to_csv(src, index=False)
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"group": ["A", "A", "Z", "A"], "member_1": ["M0001", "X9", "M0005", "M0003"],
                  "member_2": ["M0002", "X8", "M0006", "M0007"]}).to_csv(pairs, index=False)
    out = tmp_path / "r.html"
    code, stdout, err = run(["report", src, "--out", out, "--pairs", pairs], capsys)
    assert code == 2 and not out.exists() and "Traceback" not in err
    assert "2 id(s) are not members of it (X9, X8)" in err
    assert "1 pair(s) are in a group it does not have (group Z: M0005 & M0006)" in err
    assert "M0007 (in group B)" in err and "peermatch pairs" in err
    folder = tmp_path / "cal"
    df = grouping([4, 4], meeting_slot="Tue-AM")
    df.to_csv(src, index=False)
    code, _, err = run(["calendar", src, "--start", "2025-01-06", "--out", folder, "--pairs",
                        pairs], capsys)
    assert code == 2 and not folder.exists() and "X9" in err


def test_pairs_of_this_grouping_are_drawn(tmp_path):
    res = from_grouping(grouping([4, 4]), rules=NO_COMP)
    html = render_report(res, pairs=pm.accountability_pairs(res))
    assert html.count('class="pairs"') == 4  # a heading and a list per card


# --------------------------------------------------------------------------------------
# 6. explain --with: the numbers shown agree
# --------------------------------------------------------------------------------------

def test_explain_with_shows_a_change_equal_to_the_difference_shown():
    ex = TogetherExplanation(ids=("a", "b"), names=("a", "b"), groups=("1", "2"),
                             together=False, affinity=0.5, score=146.234,
                             best={"kind": "move", "moves": [["a", "1", "2"]],
                                   "score_delta": -2.645})
    text = " ".join(ex.to_text().split())
    m = re.search(r"costs (\d+\.\d+) of total affinity \(score (\d+\.\d+) -> (\d+\.\d+)\)",
                  text)
    assert m, text
    cost, before, after = m.groups()
    assert f"{float(before) - float(after):.2f}" == cost == "2.64"


def test_explain_with_tiny_change_is_not_shown_as_zero():
    ex = TogetherExplanation(ids=("a", "b"), names=("a", "b"), groups=("1", "2"),
                             together=False, affinity=0.5, score=10.0,
                             best={"kind": "move", "moves": [["a", "1", "2"]],
                                   "score_delta": 0.0004})
    assert "gains 0.0004 of total affinity (score 10.0000 -> 10.0004)" in " ".join(
        ex.to_text().split())


# --------------------------------------------------------------------------------------
# Ids in another Unicode form are the same id
# --------------------------------------------------------------------------------------

NFC_ID = unicodedata.normalize("NFC", "Zoë-1")
NFD_ID = unicodedata.normalize("NFD", "Zoë-1")


def accented():
    df = grouping([4, 4])
    df.loc[0, "id"] = NFC_ID
    return df


def test_explain_and_seats_find_an_id_typed_in_another_form(tmp_path, capsys):
    assert NFC_ID != NFD_ID
    assert explain_result(from_grouping(accented(), rules=NO_COMP), NFD_ID).id == NFC_ID
    assert explain_together(accented(), NFD_ID, "M0008", rules=NO_COMP).ids[0] == NFC_ID
    assert rank_groups(accented(), NFD_ID, rules=NO_COMP).attrs["seated_in"] == "A"
    src = tmp_path / "g.csv"
    accented().to_csv(src, index=False)
    code, out, err = run(["explain", src, NFD_ID, "--competitors", "none"], capsys)
    assert code == 0 and "is in group A" in out, err


def test_attrition_keeps_a_conflict_written_in_another_form():
    df = accented()
    df.loc[5, "conflicts"] = NFD_ID
    table, notes = read_after_attrition(df)
    assert notes == []
    assert [unicodedata.normalize("NFC", x) for x in table.conflicts[5]] == [NFC_ID]


def test_move_shows_a_change_equal_to_the_difference_shown():
    from peermatch.move import MoveCheck

    mv = MoveCheck(member="a", name="a", from_group="1", to_group="2", breaks=[], fixes=[],
                   score_before=1146.2349, score_after=1143.5851, member_before=0.5,
                   member_after=0.4)
    assert "score 1,146.23 -> 1,143.59 (-2.64)" in mv.to_text()


def test_repair_blocked_by_competitors_suggests_their_rule_only():
    df = grouping([6, 6, 2])
    df.loc[[0, 6, 12], "industry"] = "Bakery"  # three competitors need three groups
    df["region"] = "West"
    fixed = pm.repair(df, min_size=6, max_size=10, rules=pm.Rules(), time_limit=5)
    assert fixed.status == "infeasible"
    assert "3 members compete (industry 'Bakery' in region 'West')" in fixed.message
    assert "Relax the competitor rule (competitors; command line: --competitors)." in (
        fixed.message)
    assert "declared conflict" not in fixed.message and "slot" not in fixed.message


def test_repair_out_of_time_suggests_more_time():
    from peermatch._repairtext import failure_message

    msg = failure_message(["Dissolving group C fails: no grouping was found within the time "
                           "limit, and infeasibility is not proved."], ["time limit"],
                          pm.Rules(), [("C", 2)], ["M1", "M2"])
    assert "Allow more time for the search (time_limit; command line: --time-limit)." in msg
    assert "slot" not in msg and "competitor" not in msg
