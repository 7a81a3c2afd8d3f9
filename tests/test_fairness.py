"""Fair and even groups: the floor, even sizes, target size, per-group sizes, shared counts."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from peermatch.cli import main
from peermatch.errors import ConfigError
from peermatch.problem import Problem
from peermatch.sizes import share_groups
from peermatch.solve import solve
from peermatch.solve.fairness import raise_floor, reweighted_recovery

from .validator import violations as independent_violations

FAST = {"max_iter": 300}


def fits(A, labels) -> np.ndarray:
    """Each member's mean affinity to the rest of their group, by plain loops."""
    A = np.asarray(A, dtype=float)
    out = np.zeros(len(labels))
    for i in range(len(labels)):
        mates = [j for j in range(len(labels)) if labels[j] == labels[i] and j != i]
        out[i] = sum(A[i, j] for j in mates) / len(mates) if mates else 0.0
    return out


def total(A, labels) -> float:
    A = np.asarray(A, dtype=float)
    return sum(A[i, j] for i, j in itertools.combinations(range(len(labels)), 2)
               if labels[i] == labels[j])


@pytest.fixture(scope="module")
def df():
    return pm.synth_candidates(90, seed=23)


def _match(df, **kw):
    kw.setdefault("min_size", 6)
    kw.setdefault("max_size", 9)
    # max_iter ends the search of the plain rules; with competitors, parts of the search
    # run on the clock (the construction's repair, the floor phase's rounds), and spend
    # more the more time they are given: 10 s is ample for 90 candidates.
    kw.setdefault("time_limit", 10)
    return pm.match(df, seed=0, options=FAST, **kw)


@pytest.fixture(scope="module")
def shared_run(df):
    """``_match(df, **kw)``, run once per set of arguments for the whole module.

    Several tests check different properties of the same run (the floor phase at
    ``fairness=1.0`` takes seconds); none of them changes the result. The module runs on
    one worker (tests/conftest.py), so each run is made once.
    """
    runs: dict[str, pm.MatchResult] = {}

    def run(**kw):
        key = repr(sorted(kw.items()))
        if key not in runs:
            runs[key] = _match(df, **kw)
        return runs[key]

    return run


# Without side rules the construction never needs the clock-bound repair, so max_iter
# alone fixes the outcome (the determinism tests below rely on it).
PLAIN = pm.Rules(competitors=())


def test_fairness_zero_is_unchanged(df):
    a = _match(df, rules=PLAIN)
    b = _match(df, rules=PLAIN, fairness=0.0)
    assert np.array_equal(a.labels, b.labels) and a.score == b.score
    assert "floor_reference" not in b.solver


def test_fairness_one_raises_the_floor(df, shared_run):
    a = shared_run()
    b = shared_run(fairness=1.0)
    assert b.success and b.validate() == []
    fa, fb = fits(a.affinity, a.labels).min(), fits(b.affinity, b.labels).min()
    assert fb > fa
    # the reported figures agree with the independent ones
    s = b.summary()
    assert s["floor"] == pytest.approx(fb, abs=1e-6)
    assert s["fairness"]["level"] == 1.0
    assert s["fairness"]["score_reference"] >= b.score - 1e-6
    assert b.solver["floor_reference"] <= s["floor"] + 1e-9
    out = b.groups
    assert independent_violations(df, out, 6, 9) == []


def test_fairness_is_deterministic(df):
    # max_iter drives the work; the generous time limit only keeps the clock out of it
    a = _match(df, rules=PLAIN, fairness=0.5, time_limit=90)
    b = _match(df, rules=PLAIN, fairness=0.5, time_limit=90)
    assert np.array_equal(a.labels, b.labels)


def test_fairness_between_lies_between(shared_run):
    r0, r5, r1 = (shared_run(fairness=F) for F in (0.0, 0.5, 1.0))
    f = [fits(r.affinity, r.labels).min() for r in (r0, r5, r1)]
    assert f[0] <= f[1] + 1e-9
    # the target of 0.5 is half-way between the same run's reference floor and best floor
    assert r5.solver["floor"] >= r5.solver["floor_target"] - 1e-9
    assert r5.solver["floor_target"] <= r5.solver["floor_max"] + 1e-9


def test_fairness_rejects_bad_values(df):
    for bad in (-0.1, 1.5, "high", True):
        with pytest.raises(ConfigError, match="fairness"):
            pm.match(df, fairness=bad, time_limit=1)
    for bad in (-1, 1.5, True):  # refused before any search runs
        with pytest.raises(ConfigError, match="fairness_rounds"):
            pm.match(df, fairness=1.0, time_limit=60, options={"tuning": {"fairness_rounds": bad}})


@pytest.mark.parametrize("kind", ["tiers+history", "regions+slots"])
def test_floor_phase_keeps_every_rule(df, kind):
    if kind == "tiers+history":
        hist = pd.DataFrame({"id": df["id"], "group": [str(i // 6) for i in range(len(df))]})
        rules, key = pm.Rules(separate_tiers=True, history=(hist,), max_repeats=0), "tier"
    else:
        rules = pm.Rules(competitors=(), same_region=True, common_slot=True, slot_quorum=0.5)
        key = "region"
    kw = dict(min_size=4, max_size=8, rules=rules, seed=0, time_limit=10, options=FAST)
    res = pm.match(df, fairness=1.0, even_sizes=True, **kw)
    assert res.success, res.message
    assert res.validate() == []
    assert independent_violations(df, res.groups, 4, 8, rules=rules) == []
    lab = res.labels
    for g in np.unique(lab):
        assert df[lab == g][key].nunique() == 1
    if kind == "tiers+history":
        met = {(a, b) for _, grp in hist.groupby("group") for a in grp["id"] for b in grp["id"]}
        for g in np.unique(lab):
            ids = df["id"][lab == g].tolist()
            assert not any((a, b) in met for a in ids for b in ids if a != b)
    # even sizes within every part
    for part, rows in df.groupby(key).groups.items():
        sizes = np.bincount(lab[np.asarray(rows)])
        sizes = sizes[sizes > 0]
        assert sizes.max() - sizes.min() <= 1, part
    s = res.summary()
    assert s["floor"] >= s["fairness"]["floor_reference"] - 1e-9


def test_floor_phase_with_existing_groups(df):
    d = df.copy()
    d["group"] = ""
    # existing members who do not compete with one another
    first = d.drop_duplicates(["industry", "region"]).index[:11]
    d.loc[first[:6], "group"] = "Alpha"
    d.loc[first[6:], "group"] = "Beta"
    res = pm.match(d, min_size=6, max_size=9, seed=0, time_limit=10, options=FAST, fairness=1.0,
                   group_sizes={"Alpha": (10, 12)})
    assert res.success and res.validate() == []
    assert independent_violations(d, res.groups, 6, 9, group_sizes={"Alpha": (10, 12)}) == []
    g = res.groups.set_index("id")["group"]
    assert (g.loc[d["id"][first[:6]]] == "Alpha").all()
    assert (g.loc[d["id"][first[6:]]] == "Beta").all()
    # an existing group with its own capacity, above max_size
    assert 10 <= (g == "Alpha").sum() <= 12


def test_raise_floor_matches_brute_force_on_a_tiny_instance():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(8, 8))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0)
    p = Problem(A, min_size=4, max_size=4, n_groups=2, cannot_link=[(0, 1)])
    best_floor = -np.inf
    for rest in itertools.combinations(range(1, 8), 3):
        lab = np.ones(8, dtype=np.int64)
        lab[[0, *rest]] = 0
        if lab[1] != lab[0]:
            best_floor = max(best_floor, fits(A, lab).min())
    start = np.array([0, 1, 0, 1, 0, 1, 0, 1])
    out = raise_floor(p, start, 1.0, float("inf"), np.random.default_rng(0))
    assert out["labels"][0] != out["labels"][1]
    assert fits(A, out["labels"]).min() == pytest.approx(out["floor"])
    assert out["floor"] >= fits(A, start).min() - 1e-12
    # exact: the CP-SAT floor model reaches the brute-force optimum
    r = solve(p, "exact", time_limit=6, fairness=1.0)
    assert r.labels[0] != r.labels[1]
    assert fits(A, r.labels).min() == pytest.approx(best_floor, abs=1e-6)
    assert r["floor"] == pytest.approx(best_floor, abs=1e-6)
    # and then the best total among the groupings with that floor
    best_total = max(total(A, lab) for lab in _partitions(8) if lab[0] != lab[1]
                     and fits(A, lab).min() >= best_floor - 1e-9)
    assert r.objective == pytest.approx(best_total, abs=1e-6)


def _partitions(n):
    for rest in itertools.combinations(range(1, n), n // 2 - 1):
        lab = np.ones(n, dtype=np.int64)
        lab[[0, *rest]] = 0
        yield lab


def test_even_sizes_differ_by_at_most_one():
    df = pm.synth_candidates(60, seed=8)
    res = pm.match(df, min_size=5, max_size=9, n_groups=9, even_sizes=True, seed=0, time_limit=6,
                   options=FAST)
    sizes = np.bincount(res.labels)
    assert res.success and len(sizes) == 9 and sizes.max() - sizes.min() <= 1
    assert independent_violations(df, res.groups, 5, 9) == []


def test_target_size_picks_the_nearest_count():
    df = pm.synth_candidates(100, seed=8)
    res = pm.match(df, min_size=8, max_size=12, target_size=10, even_sizes=True, seed=0,
                   time_limit=6, options=FAST)
    assert res.n_groups == 10 and set(np.bincount(res.labels)) == {10}
    with pytest.raises(ConfigError, match="target_size"):
        pm.match(df, min_size=8, max_size=12, target_size=20, time_limit=1)


def test_groups_with_tiers_are_shared_in_proportion():
    df = pm.synth_candidates(120, seed=2)
    rules = pm.Rules(separate_tiers=True)
    res = pm.match(df, min_size=5, max_size=12, n_groups=14, rules=rules, seed=0, time_limit=6,
                   options=FAST)
    assert res.success and res.n_groups == 14
    assert independent_violations(df, res.groups, 5, 12, n_groups=14, rules=rules) == []
    counts = df["tier"].value_counts()
    want = share_groups(14, counts.to_list(), 5, 12)
    for (tier, k), w in zip(counts.items(), want, strict=True):
        assert len(np.unique(res.labels[(df["tier"] == tier).to_numpy()])) == w, tier
        assert abs(w - 14 * k / len(df)) < 1.0 + 1e-9


def test_share_groups():
    assert share_groups(10, [60, 40], 8, 12) == [6, 4]
    assert sum(share_groups(9, [33, 33, 34], 2, 20)) == 9
    # a small part keeps the count its size needs
    assert share_groups(9, [90, 9], 8, 12) == [8, 1]
    with pytest.raises(ConfigError, match="cannot be shared"):
        share_groups(2, [60, 40], 8, 12)
    with pytest.raises(ConfigError, match="cannot form groups"):
        share_groups(5, [60, 5], 8, 12)


def test_group_sizes_errors(df):
    with pytest.raises(ConfigError, match="fixed"):
        pm.match(df, group_sizes={"1": 8}, time_limit=1)
    with pytest.raises(ConfigError, match="unknown group"):
        pm.match(df, min_size=6, max_size=9, n_groups=12, group_sizes={"Nope": 8}, time_limit=1)
    with pytest.raises(ConfigError, match="group_sizes"):
        pm.match(df, min_size=6, max_size=9, n_groups=12, group_sizes={"1": "big"}, time_limit=1)


def test_cli_options_parsed_and_reported(tmp_path, capsys):
    path = tmp_path / "c.csv"
    pm.synth_candidates(60, seed=8).to_csv(path, index=False)
    out = tmp_path / "g.csv"
    code = main(["match", str(path), "--out", str(out), "--min-size", "5", "--max-size", "9",
                 "--fairness", "1", "--even-sizes", "--target-size", "7", "--time-limit", "6",
                 "--json"])
    assert code == 0
    s = json.loads(capsys.readouterr().out)
    assert s["fairness"]["level"] == 1.0 and s["floor"] >= s["fairness"]["floor_reference"]
    assert max(s["group_sizes"]) - min(s["group_sizes"]) <= 1 and s["groups"] == 9
    code = main(["match", str(path), "--out", str(out), "--fairness", "2", "--time-limit", "1"])
    assert code == 2


def test_toml_keys(tmp_path):
    from peermatch.config import load_config

    p = tmp_path / "job.toml"
    p.write_text('[match]\nfairness = 0.5\neven_sizes = true\ntarget_size = 10\n'
                 '[match.group_sizes]\n"Alpha" = [6, 10]\n', encoding="utf-8")
    m = load_config(p)["match"]
    assert m == {"fairness": 0.5, "even_sizes": True, "target_size": 10,
                 "group_sizes": {"Alpha": [6, 10]}}
    p.write_text('[match]\neven_sizes = 1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="even_sizes"):
        load_config(p)


@pytest.mark.parametrize("options", [{"decompose": True},
                                     {"decompose": True, "representation": "features"}])
def test_floor_phase_on_the_large_input_paths(df, options):
    # the paths used from 1,000 candidates on (sub-problems) and above 5,000 (affinity from
    # the features), forced on a small input
    res = pm.match(df, min_size=6, max_size=9, seed=0, time_limit=10, fairness=1.0,
                   options={**FAST, **options})
    assert res.success and res.validate() == []
    assert res.solver.get("decomposition")
    A = res.affinity if isinstance(res.affinity, np.ndarray) else res.affinity.block(
        np.arange(len(df)))
    assert fits(A, res.labels).min() == pytest.approx(res.summary()["floor"], abs=1e-6)
    s = res.summary()
    assert s["floor"] >= s["fairness"]["floor_reference"] - 1e-9


def test_report_shows_the_floor(shared_run):
    from peermatch.report import render_report

    html = render_report(shared_run(fairness=1.0))
    assert "floor (worst member&#x27;s fit)" in html or "floor (worst member's fit)" in html
    assert "before the floor phase" in html


def test_reweighted_recovery_takes_back_total_at_the_floor():
    # Phase 3 starts where the greedy phases stop: every fit stays at or above the
    # target, every rule holds, and the total goes up.
    rng = np.random.default_rng(15)
    A = rng.normal(size=(48, 48))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0)
    cl = [(i, i + 1) for i in range(0, 48, 2)]
    p = Problem(A, min_size=5, max_size=7, n_groups=8, cannot_link=cl)
    start = solve(p, "local", seed=0, options=FAST).labels
    greedy = raise_floor(p, start, 1.0, float("inf"), np.random.default_rng(0))
    target = greedy["floor"]

    def resolve(q, init, deadline):
        return solve(q, "local", seed=0, options=FAST, init=init).labels

    lab, moves, checks = reweighted_recovery(p, greedy["labels"], target, float("inf"),
                                             resolve, np.random.default_rng(0),
                                             reproducible=True)
    assert fits(A, lab).min() >= target - 1e-9
    assert all(lab[i] != lab[j] for i, j in cl)
    sizes = np.bincount(lab, minlength=8)
    assert sizes.min() >= 5 and sizes.max() <= 7
    assert total(A, lab) > total(A, greedy["labels"]) + 1e-9
    assert moves > 0 and checks > 0
