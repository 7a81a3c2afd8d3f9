"""Bad input on the command line: a clear message, exit 2 (or 3), and nothing written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from peermatch.cli import main
from peermatch.errors import OutputError
from peermatch.problem import Problem
from peermatch.solve import solve


def run(argv, capsys):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture()
def cands(tmp_path):
    src = tmp_path / "cands.csv"
    pm.synth_candidates(30, seed=2).to_csv(src, index=False)
    return src


def _match(src, out, *extra):
    return ["match", src, "--out", out, "--min-size", 4, "--max-size", 6, "--time-limit", 1,
            *extra]


def _nothing_written(folder, keep=("cands.csv",)):
    return sorted(p.name for p in folder.iterdir() if p.name not in keep) == []


def test_missing_history_file(tmp_path, cands, capsys):
    code, _, err = run(_match(cands, tmp_path / "g.csv", "--history", tmp_path / "nope.csv"),
                       capsys)
    assert code == 2 and "nope.csv" in err and "not found" in err
    assert "Traceback" not in err and _nothing_written(tmp_path)


def test_out_names_a_folder_fails_before_solving(tmp_path, cands, capsys):
    folder = tmp_path / "outdir"
    folder.mkdir()
    code, _, err = run(_match(cands, folder, "--time-limit", 30), capsys)
    assert code == 2 and "is a folder" in err and "Traceback" not in err
    assert list(folder.iterdir()) == []


def test_report_in_missing_folder_writes_nothing(tmp_path, cands, capsys):
    out, summ = tmp_path / "g.csv", tmp_path / "s.json"
    code, _, err = run(_match(cands, out, "--summary", summ, "--report",
                              tmp_path / "nodir" / "r.html"), capsys)
    assert code == 2 and "nodir" in err and "does not exist" in err
    assert not out.exists() and not summ.exists()


def test_output_that_overwrites_the_input_is_refused(tmp_path, cands, capsys):
    before = cands.read_text()
    code, _, err = run(_match(cands, cands), capsys)
    assert code == 2 and "input" in err
    assert cands.read_text() == before


def test_two_outputs_on_one_path(tmp_path, cands, capsys):
    out = tmp_path / "g.csv"
    code, _, err = run(_match(cands, out, "--summary", out), capsys)
    assert code == 2 and "two outputs" in err and not out.exists()


def test_report_command_checks_its_output_first(tmp_path, cands, capsys):
    df = pd.read_csv(cands, dtype=str, keep_default_na=False)
    df["group"] = [str(k % 5 + 1) for k in range(len(df))]
    g = tmp_path / "groups.csv"
    df.to_csv(g, index=False)
    code, _, err = run(["report", g, "--out", tmp_path / "nodir" / "r.html"], capsys)
    assert code == 2 and "does not exist" in err and "Traceback" not in err


@pytest.mark.parametrize("toml, key", [
    ('[rules]\nseparate_tiers = "no"\n', "separate_tiers"),
    ('[rules]\nconflicts = 0\n', "conflicts"),
    ('[rules]\ncompetitors = "industry"\nno_isolated = 3\n', "no_isolated"),
    ('[rules]\nslot_quorum = "half"\n', "slot_quorum"),
    ('[rules]\nbalance = { employees = "lots" }\n', "balance"),
    ('[rules]\npins = ["a"]\n', "pins"),
    ('[rules]\nmax_per_group = { region = true }\n', "max_per_group"),
    ('[match]\ntime_limit = -1\n', "time_limit"),
    ('[match]\nworkers = 0\n', "workers"),
    ('[match]\nmethod = "fastest"\n', "method"),
])
def test_toml_values_of_the_wrong_type_or_range(tmp_path, cands, capsys, toml, key):
    cfg = tmp_path / "job.toml"
    cfg.write_text(toml)
    code, _, err = run(_match(cands, tmp_path / "g.csv", "--config", cfg), capsys)
    assert code == 2, err
    assert key in err and "job.toml" in err and "Traceback" not in err
    assert not (tmp_path / "g.csv").exists()


@pytest.mark.parametrize("opt, value", [
    ("--time-limit", "-5"), ("--time-limit", "0"), ("--time-limit", "nan"),
    ("--workers", "0"), ("--seed", "-1"), ("--max-size", "0"), ("--groups", "0"),
    ("--method", "quick"),
])
def test_option_out_of_range(tmp_path, cands, capsys, opt, value):
    code, _, err = run(_match(cands, tmp_path / "g.csv", opt, value), capsys)
    assert code == 2 and opt in err and "Traceback" not in err
    assert not (tmp_path / "g.csv").exists()


def test_validate_rejects_bad_options_too(cands, capsys):
    code, _, err = run(["validate", cands, "--max-size", "0"], capsys)
    assert code == 2 and "--max-size" in err


def test_competitor_column_that_does_not_exist(tmp_path, cands, capsys):
    code, _, err = run(_match(cands, tmp_path / "g.csv", "--competitors", "industry,nosuch"),
                       capsys)
    assert code == 2 and "'nosuch'" in err and not (tmp_path / "g.csv").exists()
    code, _, err = run(["validate", cands, "--competitors", "industry,nosuch"], capsys)
    assert code == 2 and "'nosuch'" in err


def test_default_competitors_tolerate_a_missing_region(tmp_path, capsys):
    df = pm.synth_candidates(30, seed=2).drop(columns=["region"])
    src = tmp_path / "cands.csv"
    df.to_csv(src, index=False)
    code, _, err = run(_match(src, tmp_path / "g.csv"), capsys)
    assert code == 0, err


def test_self_pair_in_conflict_file(tmp_path, cands, capsys):
    ids = pd.read_csv(cands, dtype=str)["id"].tolist()
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(f"id_a,id_b,reason\n{ids[0]},{ids[1]},customer\n{ids[2]},{ids[2]},oops\n")
    code, _, err = run(_match(cands, tmp_path / "g.csv", "--conflict-file", pairs), capsys)
    assert code == 2 and "pairs.csv" in err and "line 3" in err and ids[2] in err
    assert not (tmp_path / "g.csv").exists()


def test_conflict_file_that_is_a_folder(tmp_path, cands, capsys):
    code, _, err = run(_match(cands, tmp_path / "g.csv", "--conflict-file", tmp_path), capsys)
    assert code == 2 and "folder" in err and "Traceback" not in err


@pytest.fixture()
def nan_in_summary(monkeypatch):
    # Some solver paths report no time-to-feasible (NaN): --json must print null.
    from peermatch.result import MatchResult

    real = MatchResult.summary

    def summary(self):
        out = real(self)
        out.setdefault("solver", {})["time_to_feasible"] = float("nan")
        return out

    monkeypatch.setattr(MatchResult, "summary", summary)


def _strict(text):
    def no_nan(x):
        raise AssertionError(f"{x} in the JSON output")

    return json.loads(text, parse_constant=no_nan)


def test_json_is_strict(tmp_path, cands, capsys, nan_in_summary):
    code, out, err = run(_match(cands, tmp_path / "g.csv", "--json"), capsys)
    assert code == 0, err
    assert _strict(out)["solver"]["time_to_feasible"] is None


def test_summary_file_is_strict_json(tmp_path, cands, capsys, nan_in_summary):
    summ = tmp_path / "s.json"
    code, _, err = run(_match(cands, tmp_path / "g.csv", "--summary", summ), capsys)
    assert code == 0, err
    _strict(summ.read_text())


def test_report_json_is_strict(tmp_path, cands, capsys, nan_in_summary):
    df = pd.read_csv(cands, dtype=str, keep_default_na=False)
    df["group"] = [str(k % 5 + 1) for k in range(len(df))]
    g = tmp_path / "groups.csv"
    df.to_csv(g, index=False)
    code, out, err = run(["report", g, "--out", tmp_path / "r.html", "--json"], capsys)
    assert code == 0, err
    _strict(out)


def test_seats_top_must_be_positive(tmp_path, cands, capsys):
    df = pd.read_csv(cands, dtype=str, keep_default_na=False)
    df["group"] = [str(k % 5 + 1) for k in range(len(df))]
    df.loc[0, "group"] = ""
    g = tmp_path / "groups.csv"
    df.to_csv(g, index=False)
    code, _, err = run(["seats", g, df["id"][0], "--top", "0"], capsys)
    assert code == 2 and "--top" in err


def test_python_api_rejects_the_same_values():
    df = pm.synth_candidates(20, seed=1)
    with pytest.raises(pm.ConfigError, match="time_limit"):
        pm.match(df, min_size=4, max_size=6, time_limit=-1)
    with pytest.raises(pm.ConfigError, match="method"):
        pm.match(df, min_size=4, max_size=6, method="nope")
    with pytest.raises(pm.ConfigError, match="separate_tiers"):
        pm.Rules(separate_tiers="no")
    with pytest.raises(pm.ConfigError, match="method"):
        solve(Problem(np.zeros((4, 4)), min_size=2, max_size=2), method="nope")


def test_any_write_failure_is_an_output_error(tmp_path):
    from peermatch.output import write_all

    with pytest.raises(OutputError, match="is a folder"):
        write_all([(tmp_path / "ok.txt", "a"), (tmp_path, "b")])
    assert not (tmp_path / "ok.txt").exists()


def test_config_that_is_a_folder(tmp_path, cands, capsys):
    code, _, err = run(_match(cands, tmp_path / "g.csv", "--config", tmp_path), capsys)
    assert code == 2 and "folder" in err and "Traceback" not in err


def test_config_that_is_not_text(tmp_path, cands, capsys):
    cfg = tmp_path / "job.toml"
    cfg.write_bytes(b"\xff\xfe[match]\n")
    code, _, err = run(_match(cands, tmp_path / "g.csv", "--config", cfg), capsys)
    assert code == 2 and "job.toml" in err and "Traceback" not in err


def test_crm_export_gzip_sep_line_long_notes_and_nfd_text(tmp_path, capsys):
    """A gzip CSV with Excel's sep= line, 320 kB notes and NFD accents runs, unchanged."""
    import gzip

    df = pm.synth_candidates(30, seed=2)
    forms = {1: "Cafe\u0301 Supply", 4: "Cafe\u0301 Supply", 2: "Caf\u00e9 Supply",
             7: "Caf\u00e9 Supply", 9: "Caf\u00e9 Supply"}
    df["industry"] = [forms.get(k, ind) for k, ind in enumerate(df["industry"])]
    df["notes"] = [("Long call notes; \"quoted\", and\nmore. " * 9000)[:320_000] if k == 3
                   else "" for k in range(len(df))]
    src = tmp_path / "crm.csv.gz"
    src.write_bytes(gzip.compress(("sep=;\n" + df.to_csv(index=False, sep=";")).encode()))
    out = tmp_path / "g.csv"
    code, _, err = run(_match(src, out, "--competitors", "industry"), capsys)
    assert code == 0, err
    assert "Traceback" not in err
    got = pd.read_csv(out, dtype=str, keep_default_na=False)
    # Every input cell passes through as read: accents in their own form, the long notes.
    pd.testing.assert_frame_equal(got[list(df.columns)], df, check_dtype=False)
    cafe = got[got["industry"].isin(["Cafe\u0301 Supply", "Caf\u00e9 Supply"])]
    assert cafe["group"].is_unique  # one form or the other, they compete


def test_damaged_gzip_is_named_without_a_traceback(tmp_path, capsys):
    import gzip

    src = tmp_path / "cands.csv.gz"
    src.write_bytes(gzip.compress(pm.synth_candidates(30, seed=2).to_csv().encode())[:-40])
    code, _, err = run(["validate", src], capsys)
    assert code == 2 and "cands.csv.gz" in err and "gzip" in err
    assert "NUL" not in err and "Traceback" not in err
