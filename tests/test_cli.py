"""The command line end to end: outputs, messages and exit codes."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import peermatch as pm
from peermatch.cli import main
from tests.validator import violations


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_match_writes_valid_groups(tmp_path, capsys):
    src = tmp_path / "cands.csv"
    pm.synth_candidates(80, seed=4).to_csv(src, index=False)
    out = tmp_path / "groups.csv"
    summ = tmp_path / "summary.json"
    code, stdout, err = run(["match", src, "--out", out, "--min-size", 6, "--max-size", 9,
                             "--time-limit", 2, "--summary", summ], capsys)
    assert code == 0, err
    raw = pd.read_csv(src, dtype=str, keep_default_na=False)
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert violations(raw, got, 6, 9) == []
    assert "80 candidates" in stdout and "all satisfied" in stdout
    s = json.loads(summ.read_text())
    assert s["placed"] == 80 and sum(s["group_sizes"]) == 80


def test_json_output(tmp_path, capsys):
    src = tmp_path / "c.csv"
    pm.synth_candidates(30, seed=2).to_csv(src, index=False)
    code, stdout, _ = run(["match", src, "--out", tmp_path / "g.csv", "--min-size", 4,
                           "--max-size", 6, "--time-limit", 1, "--json"], capsys)
    assert code == 0
    assert json.loads(stdout)["candidates"] == 30


def test_missing_file_exit_2(tmp_path, capsys):
    code, _, err = run(["match", tmp_path / "nope.csv", "--out", tmp_path / "g.csv"], capsys)
    assert code == 2 and "nope.csv" in err and "Traceback" not in err
    assert not (tmp_path / "g.csv").exists()


def test_min_greater_than_max_exit_2(tmp_path, capsys):
    src = tmp_path / "c.csv"
    pm.synth_candidates(30, seed=2).to_csv(src, index=False)
    code, _, err = run(["match", src, "--out", tmp_path / "g.csv", "--min-size", 9,
                        "--max-size", 5], capsys)
    assert code == 2 and "min_size=9" in err and "max_size=5" in err


def test_usage_error_exit_2(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["match"])
    assert exc.value.code == 2


def test_infeasible_competitors_exit_3(tmp_path, capsys):
    rows = [{"id": f"c{i:02d}", "industry": "Dental", "region": "North", "employees": "9"}
            for i in range(30)]
    rows += [{"id": f"x{i:03d}", "industry": f"I{i}", "region": "North", "employees": "9"}
             for i in range(170)]
    src = tmp_path / "c.csv"
    pd.DataFrame(rows).to_csv(src, index=False)
    out = tmp_path / "g.csv"
    code, _, err = run(["match", src, "--out", out, "--min-size", 8, "--max-size", 12],
                       capsys)
    assert code == 3
    assert "Dental" in err and "North" in err and "30 groups" in err
    assert not out.exists()


def test_synth_and_validate(tmp_path, capsys):
    src = tmp_path / "s.csv"
    code, _, _ = run(["synth", 120, "--seed", 7, "--out", src], capsys)
    assert code == 0 and len(pd.read_csv(src)) == 120
    code, stdout, _ = run(["validate", src, "--min-size", 8, "--max-size", 12], capsys)
    assert code == 0 and "120 candidates" in stdout


def test_config_file(tmp_path, capsys):
    src = tmp_path / "c.csv"
    df = pm.synth_candidates(40, seed=9).rename(columns={"industry": "Sector"})
    df.to_csv(src, index=False)
    cfg = tmp_path / "job.toml"
    cfg.write_text('[match]\nmin_size = 4\nmax_size = 6\ntime_limit = 1\n'
                   '[columns]\nindustry = "Sector"\n[weights]\ngoals = 2.0\n')
    out = tmp_path / "g.csv"
    code, _, err = run(["match", src, "--out", out, "--config", cfg], capsys)
    assert code == 0, err
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert got["group"].value_counts().between(4, 6).all()
    bad = tmp_path / "bad.toml"
    bad.write_text("[match]\nmin_sise = 4\n")
    code, _, err = run(["match", src, "--out", out, "--config", bad], capsys)
    assert code == 2 and "min_sise" in err and "min_size" in err


def test_rule_flags_and_seats(tmp_path, capsys):
    df = pm.synth_candidates(60, seed=12)
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    out = tmp_path / "g.csv"
    code, _, err = run(["match", src, "--out", out, "--min-size", 4, "--max-size", 8,
                        "--time-limit", 2, "--separate-tiers", "--competitors", "industry"],
                       capsys)
    assert code == 0, err
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert violations(df, got, 4, 8, competitors=("industry",)) == []
    assert (got.groupby("group")["tier"].nunique() == 1).all()
    # A prospect joins the table with an empty group cell.
    prospect = df.iloc[[0]].assign(id="P001", conflicts="")
    table = pd.concat([got, prospect.assign(group="")], ignore_index=True)
    seats = tmp_path / "seats.csv"
    table.to_csv(seats, index=False)
    code, stdout, err = run(["seats", seats, "P001", "--max-size", 9, "--json"], capsys)
    assert code == 0, err
    ranked = json.loads(stdout)
    assert ranked and ranked[0]["rank"] == 1
    own = got.loc[got["id"] == df["id"][0], "group"].item()
    # The group of the prospect's twin holds a competitor (same industry).
    assert any(r["group"] == own and not r["fits"] and "competitor" in r["reason"]
               for r in ranked) or own not in [r["group"] for r in ranked]
    code, _, err = run(["seats", seats, "NOPE"], capsys)
    assert code == 2 and "NOPE" in err


def test_encoding_and_separator_options(tmp_path, capsys):
    src = tmp_path / "latin.csv"
    src.write_bytes("id;industry;employees;region\n1;Zürich Bank;10;Zürich\n2;Law;3;Genève\n"
                    "3;Food;30;Zürich\n".encode("cp1252"))
    out = tmp_path / "g.csv"
    code, _, err = run(["match", src, "--out", out, "--min-size", 1, "--max-size", 3,
                        "--time-limit", 1], capsys)
    assert code == 0 and "Warning:" in err and "Windows-1252" in err and "Traceback" not in err
    assert "Zürich Bank" in out.read_text(encoding="utf-8")
    code, _, err = run(["match", src, "--out", out, "--min-size", 1, "--max-size", 3,
                        "--time-limit", 1, "--encoding", "cp1252", "--sep", ";"], capsys)
    assert code == 0 and "Warning" not in err
