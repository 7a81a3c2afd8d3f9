"""The programme families of benchmarks/families.py build the instances they describe."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ._bench import load_benchmark

families = load_benchmark("families")
NAMES = [f["name"] for f in families.FAMILIES]
N = 120


def _count(problem) -> int:
    """The fixed count, or the smallest count a free family allows."""
    return problem.n_groups if problem.n_groups is not None else problem.group_count_range()[0]


@pytest.mark.parametrize("name", NAMES)
def test_family_builds_a_feasible_instance(name):
    fam = families.family(name)
    problem, meta = families.build_instance(fam, N, 0)
    lo, hi = fam["size"]
    assert problem.n == N and (problem.min_size, problem.max_size) == (lo, hi)
    assert (problem.n_groups is None) == (fam["groups"] == "free")
    first, last = problem.group_count_range()
    assert first <= last and first * lo <= N <= last * hi
    m = _count(problem)
    # a grouping that keeps every rule exists: the plain descent's first start finds one
    labels = np.full(N, -1)
    for rows, groups, (A, mp, lo_, hi_, cc, cl), _ in families.baseline_parts(problem, m):
        lab, _, _ = families.plain_descent(A, mp, lo_, hi_, conflict_class=cc,
                                           cannot_link=cl, seconds=5, seed=0, max_starts=1)
        labels[rows] = groups[lab]
    assert families.violations(problem.with_groups(m), labels, m) == []


@pytest.mark.parametrize("name", NAMES)
def test_family_affinity_and_rules_as_designed(name):
    fam = families.family(name)
    problem, meta = families.build_instance(fam, N, 1)
    A = problem.affinity
    off = A[~np.eye(N, dtype=bool)]
    assert np.allclose(A, A.T) and np.all(np.diagonal(A) == 0)
    if fam["affinity"] == "mixed":
        assert 0.3 < (off < 0).mean() < 0.9 and (off > 0).any()
    else:
        assert off.min() >= 0
    if fam["affinity"] == "flat":
        assert off.std() < 0.05 * off.mean()
    if fam["affinity"] == "clustered":
        assert np.median(off) < 0.2 < 0.8 < np.quantile(off, 0.95)
    rules = fam["rules"]
    m = _count(problem)
    assert (len(problem.group_sums) > 0) == (rules in ("competitors", "heavy"))
    assert (len(problem.cannot_link) > 0) == (rules == "conflicts")
    assert (problem.allowed is not None) == (rules == "tiers")
    if rules == "heavy":  # the largest cell close to the group count, and within it
        assert 0.9 * m - 1 <= meta["largest_class"] <= m
    if rules in ("competitors", "heavy"):
        for s in problem.group_sums:
            assert s.hi == 1 and np.count_nonzero(s.coef) <= m
    if rules == "conflicts":
        assert 0.9 * N <= len(problem.cannot_link) <= N
    if rules == "tiers":
        tiers, group_tiers = meta["tiers"], meta["group_tiers"]
        assert len(set(tiers.tolist())) == families.N_TIERS
        assert np.array_equal(problem.allowed, tiers[:, None] == group_tiers[None, :])
        for t in range(families.N_TIERS):
            k, size = int((group_tiers == t).sum()), int((tiers == t).sum())
            assert k * fam["size"][0] <= size <= k * fam["size"][1]


def test_instances_are_reproducible_and_families_distinct():
    fam = families.family(NAMES[0])
    a, _ = families.build_instance(fam, N, 3)
    b, _ = families.build_instance(fam, N, 3)
    c, _ = families.build_instance(fam, N, 4)
    assert np.array_equal(a.affinity, b.affinity)
    assert not np.array_equal(a.affinity, c.affinity)
    assert len(set(NAMES)) == len(NAMES)
    with pytest.raises(KeyError, match="no family"):
        families.family("nope")


def test_best_known_file_round_trip(tmp_path):
    path = tmp_path / "best.csv"
    best = {"x_n1_s0": {"instance": "x_n1_s0", "family": "x", "n": 1, "seed": 0,
                        "best_known": 10.0, "source": "test"}}
    families.write_best(path, best)
    back = families.read_best(path)
    assert float(back["x_n1_s0"]["best_known"]) == 10.0
    assert families.gap_pct(10.0, 9.99) == pytest.approx(0.1)
    assert families.read_best(tmp_path / "missing.csv") == {}


def test_options_ab_writes_one_checked_row_per_option_set(tmp_path, capsys):
    ab = load_benchmark("options_ab")
    out = tmp_path / "ab.csv"
    assert ab.main(["--size", "120:0.3", "--options", "{}", '{"tuning": {"regroup": 0}}',
                    "--families", "mixed-tiers-small", "--seeds", "0", "--cores", "1",
                    "--out", str(out)]) == 0
    import csv

    rows = list(csv.DictReader(open(out)))
    assert [r["options"] for r in rows] == ["{}", '{"tuning": {"regroup": 0}}']
    assert all(r["family"] == "mixed-tiers-small" and r["violations"] == "0" for r in rows)
    assert float(rows[0]["diff_pct"]) == 0.0
    first, second = (float(r["score"]) for r in rows)
    assert float(rows[1]["diff_pct"]) == pytest.approx(100 * (second - first) / abs(first),
                                                       abs=1e-3)
    assert "mixed-tiers-small" in capsys.readouterr().out


def test_mdgplib_script_scores_each_instance_with_the_options_given(tmp_path, capsys):
    import csv

    from peermatch.mdgplib import read_best_known, read_instance, score

    mdg = load_benchmark("mdgplib")
    folder = Path(__file__).parent / "data" / "mdgplib"
    files = [folder / "Geo_n012_ds_01.txt", folder / "RanInt_n012_ss_01.txt"]
    out = tmp_path / "r.csv"
    mdg.main([*map(str, files), "--time-limit", "5", "--out", str(out), "--assignments",
              str(tmp_path / "labels"),
              "--options", '{"max_iter": 300, "tuning": {"population": 1}}'])
    rows = list(csv.DictReader(open(out)))
    assert [r["instance"] for r in rows] == [f.stem for f in files]
    best = read_best_known(folder / "BKS.csv")
    for r, f in zip(rows, files, strict=True):
        assert json.loads(r["options"]) == {"max_iter": 300, "tuning": {"population": 1}}
        A, bounds = read_instance(f)
        labels = np.loadtxt(tmp_path / "labels" / f"{f.stem}.txt", dtype=int)
        # the row's objective is the written grouping's, re-scored from the instance
        assert float(r["objective"]) == pytest.approx(score(A, bounds, labels), abs=1e-3)
        gap = 100 * (best[f.stem] - score(A, bounds, labels)) / best[f.stem]
        assert float(r["gap_pct"]) == pytest.approx(gap, abs=1e-3)
        assert gap >= -1e-6  # these best-known values are proven optima
    assert "RanInt" in capsys.readouterr().out
