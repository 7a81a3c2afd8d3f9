"""What a chair meets: even group sizes by default, --target-size with --groups, Ctrl-C,
``--out -``, a closed standard output, and ``validate``'s list of columns."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

import peermatch as pm
from peermatch.errors import ConfigError

from ._cli import distinct_candidates, run
from .validator import violations


@pytest.fixture(scope="module")
def cands(tmp_path_factory):
    """48 candidates without competitors: any sizes are possible."""
    path = tmp_path_factory.mktemp("chair") / "candidates.csv"
    distinct_candidates(48, seed=5).to_csv(path, index=False)
    return path


def _sizes(path) -> list[int]:
    groups = pd.read_csv(path, dtype=str, keep_default_na=False)
    return sorted(groups["group"].value_counts().tolist())


# -- even sizes by default ------------------------------------------------------------


def test_sizes_are_even_by_default_on_the_command_line(cands, tmp_path, capsys):
    """--groups 6 --min-size 6 --max-size 10 once gave 6, 10, 6, 10, 6, 10."""
    out = tmp_path / "g.csv"
    code, stdout, err = run(["match", cands, "--out", out, "--groups", 6, "--min-size", 6,
                             "--max-size", 10, "--time-limit", 1], capsys)
    assert code == 0, err
    assert _sizes(out) == [8] * 6
    assert "48 candidates -> 6 groups of 8; status" in stdout


def test_free_sizes_stay_available(cands, tmp_path, capsys):
    out, summ = tmp_path / "g.csv", tmp_path / "s.json"
    code, _, err = run(["match", cands, "--out", out, "--groups", 6, "--min-size", 6,
                        "--max-size", 10, "--time-limit", 1, "--free-sizes",
                        "--summary", summ], capsys)
    assert code == 0, err
    sizes = _sizes(out)
    assert len(sizes) == 6 and sum(sizes) == 48 and 6 <= min(sizes) <= max(sizes) <= 10
    from peermatch.result import size_counts

    s = json.loads(summ.read_text())
    assert sum(s["size_counts"].values()) == 6
    assert {int(k): v for k, v in s["size_counts"].items()} == size_counts(sizes)


def test_free_sizes_from_the_config_file(cands, tmp_path, capsys):
    cfg = tmp_path / "job.toml"
    cfg.write_text("[match]\neven_sizes = false\n", encoding="utf-8")
    out = tmp_path / "g.csv"
    code, _, err = run(["match", cands, "--out", out, "--groups", 6, "--min-size", 6,
                        "--max-size", 10, "--time-limit", 1, "--config", cfg], capsys)
    assert code == 0, err
    # the command line wins over the file
    code, _, err = run(["match", cands, "--out", out, "--groups", 6, "--min-size", 6,
                        "--max-size", 10, "--time-limit", 1, "--config", cfg,
                        "--even-sizes"], capsys)
    assert code == 0, err
    assert _sizes(out) == [8] * 6


def test_python_match_is_even_by_default():
    df = distinct_candidates(50, seed=2)
    fast = {"max_iter": 300}  # the sizes are hard constraints: any grouping shows them
    res = pm.match(df, min_size=6, max_size=10, n_groups=6, time_limit=1, seed=0, options=fast)
    assert sorted(res.group_stats["size"]) == [8, 8, 8, 8, 9, 9]
    res = pm.match(df, min_size=6, max_size=12, time_limit=1, seed=0, options=fast)
    assert sorted(res.group_stats["size"]) == [10] * 5  # the fewest groups that hold them
    free = pm.match(df, min_size=6, max_size=10, n_groups=6, time_limit=1, seed=0,
                    even_sizes=False, options=fast)
    assert free.success and sum(free.group_stats["size"]) == 50


def test_existing_groups_keep_their_sizes_by_default():
    """A full existing group of 12 among 62 candidates: even sizes (10-11) would not hold
    it, so sizes are free unless asked for."""
    df = distinct_candidates(62, seed=4)
    df["group"] = ["A"] * 12 + ["B"] * 8 + [""] * 42
    res = pm.match(df, min_size=8, max_size=12, time_limit=1, seed=0,
                   options={"max_iter": 300})
    assert res.success and res.validate() == []
    assert not pm.match(df, min_size=8, max_size=12, time_limit=1, seed=0, even_sizes=True).success


def test_no_grouping_with_even_sizes_points_to_free_sizes():
    """Eight share Monday, four Tuesday: two even groups of 6 cannot both meet, 8 + 4 can."""
    df = distinct_candidates(12, seed=1)
    df["availability"] = ["Mon AM"] * 8 + ["Tue AM"] * 4
    rules = pm.Rules(common_slot=True)
    res = pm.match(df, min_size=4, max_size=8, rules=rules, time_limit=2)
    assert res.status in ("infeasible", "unknown") and "--free-sizes" in res.reasons[-1]
    free = pm.match(df, min_size=4, max_size=8, rules=rules, time_limit=2, even_sizes=False)
    assert free.success and sorted(free.group_stats["size"]) == [4, 8]
    assert not any("free sizes" in r for r in free.reasons)


def test_no_free_sizes_hint_when_free_sizes_cannot_help():
    """Three per slot, groups of at least 4: no sizes make it, so even sizes go unnamed."""
    df = distinct_candidates(12, seed=1)
    df["availability"] = ["Mon AM", "Tue AM", "Wed AM", "Thu AM"] * 3
    rules = pm.Rules(common_slot=True)
    res = pm.match(df, min_size=4, max_size=6, rules=rules, time_limit=1)
    assert res.status == "infeasible" and res.reasons
    assert not any("free sizes" in r for r in res.reasons)


def test_the_summary_line_counts_groups_of_each_size():
    from peermatch.result import describe_sizes

    assert describe_sizes([12] * 38 + [11] * 4) == "42 groups: 38 of 12, 4 of 11"
    assert describe_sizes([9]) == "1 group of 9"


# -- --target-size with --groups ----------------------------------------------------------


def test_target_size_and_groups_that_disagree_are_refused(cands, tmp_path, capsys):
    out = tmp_path / "g.csv"
    code, stdout, err = run(["match", cands, "--out", out, "--groups", 3, "--target-size", 10,
                             "--min-size", 4, "--max-size", 20, "--time-limit", 1], capsys)
    assert code == 2 and not out.exists() and "Traceback" not in err
    assert "--groups" in err and "--target-size" in err and "number of groups wins" in err
    assert "16" in err  # the size those groups have
    with pytest.raises(ConfigError, match="disagree"):
        pm.match(pd.read_csv(cands, dtype=str, keep_default_na=False), min_size=4, max_size=20,
                 n_groups=3, target_size=10, time_limit=1)


def test_target_size_and_groups_that_agree_are_combined(cands, tmp_path, capsys):
    out = tmp_path / "g.csv"
    code, _, err = run(["match", cands, "--out", out, "--groups", 5, "--target-size", 10,
                        "--min-size", 4, "--max-size", 20, "--time-limit", 1], capsys)
    assert code == 0, err
    assert _sizes(out) == [9, 9, 10, 10, 10]
    code, _, err = run(["match", cands, "--out", out, "--groups", 5, "--target-size", 10,
                        "--min-size", 4, "--max-size", 20, "--time-limit", 1,
                        "--free-sizes"], capsys)
    assert code == 2 and "--free-sizes" in err


# -- Ctrl-C -------------------------------------------------------------------------------

CHILD_MATCH = textwrap.dedent("""
    import importlib, sys
    M = importlib.import_module("peermatch.match")
    solve = M.SolveSettings.solve
    def announced(self, *a, **k):
        print("solving", file=sys.stderr, flush=True)
        return solve(self, *a, **k)
    M.SolveSettings.solve = announced
    from peermatch.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_ctrl_c_exits_130_after_writing_the_best_grouping(tmp_path):
    df = pm.synth_candidates(300, seed=3)
    src, out = tmp_path / "c.csv", tmp_path / "g.csv"
    df.to_csv(src, index=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_MATCH, "match", str(src), "--out", str(out),
         "--time-limit", "60"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"))
    for line in proc.stderr:
        if "solving" in line:
            break
    time.sleep(2.0)
    proc.send_signal(signal.SIGINT)
    text, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted after" in text and "method auto" not in text
    groups = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert violations(df.astype(str), groups, 8, 12) == []


# -- --out - ------------------------------------------------------------------------------


def test_out_dash_writes_the_csv_to_standard_output(cands, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run(["match", cands, "--out", "-", "--min-size", 6, "--max-size", 10,
                             "--time-limit", 1], capsys)
    assert code == 0, err
    assert not (tmp_path / "-").exists()
    groups = pd.read_csv(io.StringIO(stdout), dtype=str, keep_default_na=False)
    raw = pd.read_csv(cands, dtype=str, keep_default_na=False)
    assert violations(raw, groups, 6, 10) == []
    assert "48 candidates ->" in err and "wrote standard output" in err


def test_out_dash_with_json_and_dash_elsewhere_are_refused(cands, tmp_path, capsys,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = run(["match", cands, "--out", "-", "--json", "--time-limit", 1],
                            capsys)
    assert code == 2 and "--json" in err and stdout == ""
    code, _, err = run(["match", cands, "--out", "-", "--summary", "-", "--time-limit", 1],
                       capsys)
    assert code == 2 and "standard output" in err
    assert not (tmp_path / "-").exists()


# -- a closed standard output -------------------------------------------------------------


@pytest.mark.parametrize("argv", [["explain", "GROUPS", "M0007"], ["validate", "CANDS"],
                                  ["synth", "50"]])
def test_a_closed_standard_output_ends_quietly(argv, cands, tmp_path):
    groups = tmp_path / "g.csv"
    if "GROUPS" in argv:
        assert pm.cli.main(["match", str(cands), "--out", str(groups), "--min-size", "6",
                            "--max-size", "10", "--time-limit", "1", "-q"]) == 0
    argv = [str(groups) if a == "GROUPS" else str(cands) if a == "CANDS" else a for a in argv]
    proc = subprocess.Popen([sys.executable, "-m", "peermatch", *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # as `| head` does once it has its lines
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert proc.returncode == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err


# -- validate's columns -------------------------------------------------------------------


def test_validate_lists_columns_in_file_order_and_the_passed_through_ones(tmp_path, capsys):
    df = distinct_candidates(30, seed=1)
    df = df.rename(columns={"industry": "Sector"}).assign(notes="met at the fair")
    src = tmp_path / "c.csv"
    df.to_csv(src, index=False)
    code, stdout, err = run(["validate", src, "--column", "industry=Sector", "--min-size", 4,
                             "--max-size", 6], capsys)
    assert code == 0, err
    known = [c if c != "Sector" else "Sector (industry)" for c in df.columns
             if c not in ("naics", "notes")]
    assert f"columns {known}" in stdout
    assert "other columns, passed through unchanged: ['naics', 'notes']" in stdout


# -- limits no one means --------------------------------------------------------------------


def test_a_time_limit_no_one_means_is_refused(cands, tmp_path, capsys):
    out = tmp_path / "g.csv"
    code, _, err = run(["match", cands, "--out", out, "--time-limit", "1e308"], capsys)
    assert code == 2 and not out.exists() and "Traceback" not in err
    assert "--time-limit" in err and "604800" in err.replace(",", "")
