"""The large-scale search: exact sub-problems, warm-started search, features representation.

Every grouping is checked by plain loops written here (or by tests/validator.py on the
CSV cells), never by the solver's own checks alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import peermatch as pm
from peermatch.problem import GroupSum, Problem
from peermatch.solve import solve
from peermatch.solve.construct import stream_greedy
from peermatch.solve.decompose import DecompositionSearch, subproblem, write_back

from .validator import violations as csv_violations


def _loops_ok(problem: Problem, labels, m: int) -> list[str]:
    """Plain-loop check of sizes, cannot-link, must-link and group sums."""
    bad = []
    n = problem.n
    lab = [int(x) for x in labels]
    if len(lab) != n or min(lab) < 0 or max(lab) >= m:
        return ["labels out of range"]
    b = problem.bounds_for(m)
    for g in range(m):
        size = sum(1 for x in lab if x == g)
        if not b[g, 0] <= size <= b[g, 1]:
            bad.append(f"group {g} has {size}")
    for i, j in problem.cannot_link:
        if lab[i] == lab[j]:
            bad.append(f"cannot-link {i},{j}")
    for i, j in problem.must_link:
        if lab[i] != lab[j]:
            bad.append(f"must-link {i},{j}")
    for s in problem.group_sums:
        lo, hi = s.bounds(m)
        for g in range(m):
            tot = sum(float(s.coef[i]) for i in range(n) if lab[i] == g)
            if tot < lo[g] - 1e-9 or tot > hi[g] + 1e-9:
                bad.append(f"{s.name} in group {g}: {tot}")
    return bad


def _objective_loops(A, labels) -> float:
    n = len(labels)
    return sum(float(A[i, j]) for i in range(n) for j in range(i + 1, n)
               if labels[i] == labels[j])


def _instance(n=60, m=6, seed=0, classes=20):
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n, 3))
    A = F @ F.T + rng.normal(scale=0.3, size=(n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0)
    cls = rng.permutation(np.arange(n) % classes)  # every set fits in the groups
    sums = []
    for c in range(classes):
        coef = (cls == c).astype(float)
        if coef.sum() > 1:
            sums.append(GroupSum(coef=coef, hi=1.0, name=f"class {c}"))
    cl = [(i, i + 1) for i in range(0, n - 1, 7)]
    return Problem(A, min_size=n // m - 2, max_size=n // m + 2, n_groups=m,
                   cannot_link=cl, group_sums=tuple(sums))


def test_subproblem_is_exact_and_write_back_keeps_rules():
    p = _instance()
    m = p.n_groups
    lab = stream_greedy(p, m, np.random.default_rng(1))
    assert lab is not None and _loops_ok(p, lab, m) == []
    groups = np.array([0, 2, 5])
    sub = subproblem(p, lab, groups)
    # the sub-problem's value plus the other groups' is the whole objective
    rest = np.setdiff1d(np.arange(p.n), sub.rows)
    others = _objective_loops(p.affinity[np.ix_(rest, rest)], lab[rest])
    assert sub.value + others == pytest.approx(_objective_loops(p.affinity, lab))
    # the competitor sets became cannot-link pairs inside the sub-problem
    for a, b in sub.problem.cannot_link:
        i, j = sub.rows[a], sub.rows[b]
        assert any((i, j) == tuple(sorted(x)) for x in p.cannot_link) or any(
            s.coef[i] == 1 and s.coef[j] == 1 for s in p.group_sums)
    # solving the sub-problem and writing it back keeps every rule of the whole problem
    res = solve(sub.problem, "local", time_limit=5, seed=0, options={"max_iter": 300})
    assert res.success
    new = lab.copy()
    write_back(new, sub, res.labels)
    assert _loops_ok(p, new, m) == []
    assert _objective_loops(p.affinity, new) >= _objective_loops(p.affinity, lab) - 1e-6 or (
        res.objective < sub.value)


def test_decomposition_improves_keeps_rules_and_is_reproducible():
    p = _instance(n=120, m=12, seed=3)
    m = p.n_groups
    lab = stream_greedy(p, m, np.random.default_rng(0))
    start = _objective_loops(p.affinity, lab)
    runs = []
    for _ in range(2):
        ds = DecompositionSearch(p, lab, np.random.default_rng(7), {"tuning": {"sub_size": 40}})
        ds.run(float("inf"), max_iter=3000)
        assert _loops_ok(p, ds.labels, m) == []
        assert ds.value == pytest.approx(_objective_loops(p.affinity, ds.labels))
        runs.append(ds.labels.copy())
    assert np.array_equal(runs[0], runs[1])
    assert _objective_loops(p.affinity, runs[0]) > start


def test_solve_decomposed_with_must_link_and_free_count():
    rng = np.random.default_rng(5)
    n = 90
    A = rng.random((n, n))
    A = (A + A.T) / 2
    p = Problem(A, min_size=8, max_size=11, cannot_link=[(0, 1), (2, 3)],
                must_link=[(4, 5), (5, 6)])
    res = solve(p, "local", time_limit=30, seed=0,
                options={"decompose": True, "max_iter": 2000, "tuning": {"sub_size": 30}})
    assert res.success and res.decomposition
    m = int(res.labels.max()) + 1
    assert _loops_ok(p.with_groups(m), res.labels, m) == []
    assert res.objective == pytest.approx(_objective_loops(A, res.labels))


def test_interrupt_returns_the_best_grouping_so_far():
    p = _instance(n=120, m=12, seed=4)
    calls = []

    def stop(progress):
        calls.append(progress["objective"])
        if len(calls) >= 3:
            raise KeyboardInterrupt

    res = solve(p, "local", time_limit=60, seed=0, options={"decompose": True},
                callback=stop)
    assert res.success and res.interrupted
    assert len(calls) == 3  # nothing ran on after the interrupt
    assert _loops_ok(p, res.labels, p.n_groups) == []


@pytest.mark.parametrize("rules", [pm.Rules(), pm.Rules(max_per_group={"region": 4})])
def test_features_representation_matches_dense(tmp_path, rules):
    df = pm.synth_candidates(220, seed=2)
    kw = dict(min_size=8, max_size=12, time_limit=20, seed=0, rules=rules)
    opts = {"max_iter": 1500, "decompose": True, "tuning": {"sub_size": 60}}
    dense = pm.match(df, options={**opts, "representation": "dense"}, **kw)
    feats = pm.match(df, options={**opts, "representation": "features"}, **kw)
    assert dense.success and feats.success
    assert feats.summary()["solver"]["representation"] == "features"
    assert dense.summary()["solver"]["representation"] == "dense"
    # same algorithm, same random choices, same blocks (to rounding): same groups
    assert np.array_equal(dense.labels, feats.labels)
    assert feats.score == pytest.approx(dense.score, rel=1e-9)
    st = feats.group_stats
    assert st["total"].sum() == pytest.approx(feats.score, rel=1e-9)
    out = tmp_path / "g.csv"
    feats.to_csv(out)
    assert csv_violations(df.astype(str), pd.read_csv(out, dtype=str, keep_default_na=False),
                          8, 12, rules=rules) == []


@pytest.mark.parametrize("decompose", [False, True])
def test_cold_start_runs_the_numpy_search_while_kernels_compile(monkeypatch, decompose):
    """Kernels never ready (a compilation longer than the budget): the numpy search's
    grouping comes back, valid, better than the construction, and the result says so."""
    from peermatch.solve import local

    monkeypatch.setattr(local, "kernels_ready", lambda rules, deadline: False)
    monkeypatch.setattr(local, "kernels_loaded", lambda rules, deadline: False)
    monkeypatch.setattr(local, "kernels_compiled", lambda: True)
    p = _instance(n=120, m=12, seed=6)
    res = solve(p, "local", time_limit=1.5, seed=0, options={"decompose": decompose})
    assert res.success and res.compile_cut
    assert _loops_ok(p, res.labels, p.n_groups) == []
    lab0 = stream_greedy(p, p.n_groups, np.random.default_rng(0))
    assert res.objective > _objective_loops(p.affinity, lab0)


def test_threads_do_not_change_the_groups():
    """Sub-problems run in batches on disjoint groups; the thread count only executes them."""
    df = pm.synth_candidates(1100, seed=4)
    runs = [pm.match(df, min_size=8, max_size=12, time_limit=60, seed=0,
                     options={"max_iter": 4000, "threads": t, "tuning": {"batch": 2}})
            for t in (1, 2)]
    assert runs[0].success and runs[1].success
    assert np.array_equal(runs[0].labels, runs[1].labels)
    assert runs[0].summary()["solver"]["decomposition"]


@pytest.mark.parametrize("n", [60, 1200])
def test_warm_start_continues_from_a_given_grouping(n):
    df = pm.synth_candidates(n, seed=8)
    first = pm.match(df, min_size=8, max_size=12, time_limit=10, seed=0,
                     options={"max_iter": 200})
    assert first.success
    again = pm.match(df, min_size=8, max_size=12, time_limit=10, seed=1, init=first.labels,
                     options={"max_iter": 2000})
    assert again.success and again.validate() == []
    assert int(again.labels.max()) == int(first.labels.max())  # the start's group count
    assert again.score >= first.score - 1e-9


def test_warm_start_must_be_valid():
    rng = np.random.default_rng(0)
    A = rng.random((12, 12))
    A = (A + A.T) / 2
    good = np.repeat([0, 1, 2], 4)
    res = pm.solve_affinity(A, min_size=4, max_size=4, cannot_link=[(0, 4)], init=good,
                            method="local", time_limit=5, options={"max_iter": 50})
    assert res.success and res.objective >= _objective_loops(A, good) - 1e-9
    with pytest.raises(pm.ConfigError, match="cannot-link"):
        pm.solve_affinity(A, min_size=4, max_size=4, cannot_link=[(0, 1)], init=good)
    with pytest.raises(pm.ConfigError, match="12 labels"):
        pm.solve_affinity(A, min_size=4, max_size=4, init=good[:5])


def test_lean_subproblems_give_the_same_groups(monkeypatch):
    """Sub-problems built directly by the compiled path (sizes, cannot-link and clique
    sets) are the ones subproblem() + prepare() build: same groups, reproducible mode."""
    calls = []
    lean = DecompositionSearch._lean
    monkeypatch.setattr(DecompositionSearch, "_lean",
                        lambda self, *a: calls.append(1) or lean(self, *a))
    df = pm.synth_candidates(1100, seed=5)
    runs = [pm.match(df, min_size=8, max_size=12, time_limit=60, seed=0,
                     options={"max_iter": 3000, "tuning": {"lean": lean}})
            for lean in (True, False)]
    assert runs[0].success and runs[1].success
    problem = runs[0].parts[0].compiled.problem
    assert len(problem.cannot_link) and len(problem.group_sums)  # both rule kinds present
    assert runs[0].summary()["solver"]["decomposition"]
    assert np.array_equal(runs[0].labels, runs[1].labels)
    assert csv_violations(df, runs[0].groups, 8, 12) == []
    assert 0.9 * runs[0].solver["sub_problems"] <= len(calls)  # the step phase was lean


@pytest.mark.parametrize("rules", [pm.Rules(common_slot=True), pm.Rules(no_isolated=("region",))],
                         ids=["common_slot", "no_isolated"])
def test_rules_the_stream_construction_does_not_know_are_repaired_at_scale(rules):
    """Without an n x n matrix (features representation) a meeting slot per group and "no
    member alone with their region" still come back satisfied (checked by plain loops)."""
    df = pm.synth_candidates(400, seed=6)
    res = pm.match(df, min_size=8, max_size=12, time_limit=20, seed=0, rules=rules,
                   options={"representation": "features", "max_iter": 2000})
    assert res.success, res.message
    assert res.summary()["solver"]["representation"] == "features"
    groups = res.groups
    assert csv_violations(df.astype(str), groups.astype(str), 8, 12, rules=rules) == []
    for _, g in groups.groupby("group"):
        if rules.common_slot:
            slots = [{s.strip() for s in str(a).split(";")} for a in g["availability"]]
            assert set.intersection(*slots), "a group without a common meeting slot"
        else:
            counts = g["region"].str.strip().str.casefold().value_counts()
            assert (counts >= 2).all(), "a member alone with their region in a group"


@pytest.mark.parametrize("seed", range(3))
def test_descent_ends_at_a_local_optimum_with_its_bookkeeping_right(seed):
    """The first-improvement descent (run on W transposed): its gain is the objective's
    change, W is written back right, and no feasible move or swap improves (plain loops)."""
    from peermatch.solve._prep import prepare
    from peermatch.solve.local import TabuSearch

    rng = np.random.default_rng(seed)
    n, m = 48, 6
    A = rng.normal(size=(n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    cl = [(i, i + 1) for i in range(0, 24, 2)]     # consecutive: apart in the start
    # one competitor set (at most one member per group), apart in the start too
    comp = np.zeros(n)
    comp[[30, 31, 32, 33]] = 1.0
    P = Problem(A, min_size=7, max_size=9, n_groups=m, cannot_link=cl,
                group_sums=(GroupSum(coef=comp, hi=1.0),))
    start = np.arange(n) % m
    assert _loops_ok(P, start, m) == []
    prep = prepare(P, m)
    ts = TabuSearch(prep, prep.to_units(start), {}, seed=seed)
    gain = ts.descend()
    p, W = ts.state[0].copy(), ts.state[1]
    labels = prep.to_elements(p)
    assert _loops_ok(P, labels, m) == []
    obj = lambda lab: sum(A[i, j] for i in range(n) for j in range(i + 1, n)  # noqa: E731
                          if lab[i] == lab[j])
    assert gain > 0
    assert obj(labels) == pytest.approx(obj(start) + gain, abs=1e-9)
    B = prep.A
    for u in range(len(p)):
        for g in range(m):
            assert W[u, g] == pytest.approx(sum(B[u, v] for v in range(len(p)) if p[v] == g),
                                            abs=1e-9)
    # a local optimum: every feasible move or swap (checked by the loops) gains nothing
    base = obj(labels)
    for i in range(n):
        for h in range(m):
            if h != labels[i]:
                lab = labels.copy()
                lab[i] = h
                if _loops_ok(P, lab, m) == []:
                    assert obj(lab) <= base + 1e-9
        for j in range(i + 1, n):
            if labels[i] != labels[j]:
                lab = labels.copy()
                lab[i], lab[j] = labels[j], labels[i]
                if _loops_ok(P, lab, m) == []:
                    assert obj(lab) <= base + 1e-9


def _regroup_problem(seed: int, rules: bool):
    """Three communities of like members (affinity about 1 inside, about 0 across), groups
    of 4-7: which community fills how many groups is what moves and swaps cannot change."""
    rng = np.random.default_rng(seed)
    n, m = 40, 7
    community = np.repeat([0, 1, 2], [9, 13, 18])
    A = (community[:, None] == community[None, :]) + 0.05 * rng.random((n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    kw = {}
    if rules:
        comp = np.zeros(n)
        comp[[0, 10, 25, 26]] = 1.0   # at most one of these per group
        kw = {"cannot_link": [(1, 2), (11, 30), (20, 21)],
              "group_sums": (GroupSum(coef=comp, hi=1.0),)}
    return Problem(A, min_size=4, max_size=7, n_groups=m, **kw), m


@pytest.mark.parametrize("rules", [False, True])
@pytest.mark.parametrize("seed", range(2))
def test_regroup_keeps_every_rule_and_reports_the_objectives_change(seed, rules):
    """A regroup of any group (both kernel variants) leaves a grouping that keeps every
    rule (plain loops), with W right, and returns exactly the change of the pair total."""
    from peermatch.solve._prep import prepare
    from peermatch.solve.local import TabuSearch

    P, m = _regroup_problem(seed, rules)
    A = P.affinity
    prep = prepare(P, m)
    start = TabuSearch(prep, prep.to_units(_first_grouping(P, m)), {}, seed=seed)
    start.descend()
    local_opt = start.state[0].copy()
    assert _loops_ok(P, prep.to_elements(local_opt), m) == []
    changed = 0
    for g in range(m):
        ts = TabuSearch(prep, local_opt, {}, seed=seed)
        before = _objective_loops(A, prep.to_elements(ts.state[0]))
        delta = ts.regroup(g)
        p = ts.state[0]
        labels = prep.to_elements(p)
        assert _loops_ok(P, labels, m) == [], f"regroup of group {g} broke a rule"
        assert _objective_loops(A, labels) == pytest.approx(before + delta, abs=1e-9)
        assert ts.value == pytest.approx(before + delta, abs=1e-9)
        W = ts.state[1]
        for u in range(len(p)):
            for h in range(m):
                assert W[u, h] == pytest.approx(A[u, p == h].sum(), abs=1e-9)
        changed += not np.array_equal(p, local_opt)
    assert changed > 0


def _first_grouping(problem: Problem, m: int) -> np.ndarray:
    """A feasible first grouping (the solver's own start, then checked by the loops)."""
    res = solve(problem, method="local", time_limit=5, seed=0,
                options={"max_iter": 1, "tuning": {"regroup": 0.0}})
    assert res.labels is not None
    return res.labels


def _regrouped_then_descended(prep, units: np.ndarray, g: int) -> float:
    from peermatch.solve.local import TabuSearch

    ts = TabuSearch(prep, units, {}, seed=0)
    ts.regroup(g)
    ts.descend()
    return ts.value


@pytest.mark.parametrize("seed", range(3))
def test_regroup_escapes_a_local_optimum_of_moves_and_swaps(seed):
    """From a grouping no move or swap improves, a regroup followed by the descent
    improves: it hands a group from one community to another."""
    from peermatch.solve._prep import prepare
    from peermatch.solve.local import TabuSearch

    P, m = _regroup_problem(seed, rules=False)
    prep = prepare(P, m)
    ts = TabuSearch(prep, prep.to_units(_first_grouping(P, m)), {}, seed=seed)
    ts.descend()
    local_opt = ts.state[0].copy()
    again = TabuSearch(prep, local_opt, {}, seed=seed)
    assert again.descend() == 0.0, "not a local optimum of moves and swaps"
    best = max(_regrouped_then_descended(prep, local_opt, g) for g in range(m))
    assert best > again.value + 0.5


def test_the_regroup_share_follows_what_regroups_gain():
    """Sub-problems that start with a regroup are counted apart: the share of regroups
    rises (to twice the option's, at most 0.5) where they gain more than the others and
    falls (to a tenth) where they gain nothing; the decision travels in the seed's bit."""
    P, m = _regroup_problem(0, rules=False)
    labels = _first_grouping(P, m)
    ds = DecompositionSearch(P, labels, np.random.default_rng(0), {"tuning": {"regroup": 0.2}})
    assert ds._regroup_rate() == 0.2                      # nothing counted yet
    for seed, gain in [(2, 1.0), (3, 5.0)] * 10:          # even seed: no regroup
        ds._tally([(np.arange(2), seed)], [gain])
    assert ds._regroup_rate() == pytest.approx(0.4)       # 5x the gain: capped at twice
    for seed, gain in [(2, 1.0), (3, 0.0)] * 2000:
        ds._tally([(np.arange(2), seed)], [gain])
    assert ds._regroup_rate() == pytest.approx(0.02)      # a tenth of the option's
    ds._tally([(np.arange(2), 3)], [None])                # a dropped sub-problem: not counted
    assert ds._regroup_tally[1, 0] == 2010
    off = DecompositionSearch(P, labels, np.random.default_rng(0), {"tuning": {"regroup": 0.0}})
    bits = {seed & 1 for _ in range(20) for _, seed in off._choose_batch()}
    on = DecompositionSearch(P, labels, np.random.default_rng(0), {"tuning": {"regroup": 0.5}})
    assert {seed & 1 for _ in range(20) for _, seed in on._choose_batch()} == {0, 1}
    assert bits == {0, 1}  # without regroups the seeds are drawn as before (any parity)


def _communities(n_groups: int, mixed: bool):
    """Groups of 6 from communities of 6 (about 1 per pair inside one, 0.05 across); with
    ``mixed`` the first two groups trade half their members, so each is astride two."""
    n = 6 * n_groups
    community = np.arange(n) // 6
    A = np.where(community[:, None] == community[None, :], 1.0, 0.05)
    A += np.random.default_rng(0).random((n, n)) * 0.01
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    labels = community.copy()
    if mixed:
        labels[[0, 1, 2]], labels[[6, 7, 8]] = 1, 0
    return Problem(A, min_size=6, max_size=6, n_groups=n_groups), labels


def test_a_regroup_aims_at_a_group_astride_two_communities_half_of_the_time():
    """``_aim`` points a regroup at the group worth least per pair when it is worth under
    half the median (a group mixing two communities); with no such group it draws nothing
    and leaves the seed as it is, so other programmes search as before."""
    P, labels = _communities(8, mixed=True)
    ds = DecompositionSearch(P, labels, np.random.default_rng(3))
    groups = np.array([0, 2, 3, 4, 5])                # group 0 is astride; 1..5 pure but 1
    aimed = 0
    seeds = [s for s in range(1, 2500, 2) if (s >> 1) % len(groups) != 0][:1000]
    for seed in seeds:                                # odd: the sub-problem regroups
        new = ds._aim(seed, groups)
        assert new & 1 == 1 and 0 < new < 2 ** 31
        if new != seed:
            assert (new >> 1) % len(groups) == 0      # the target is group 0's local index
            aimed += 1
    assert 400 < aimed < 600                          # about half of them
    pure, labels = _communities(8, mixed=False)
    ds = DecompositionSearch(pure, labels, np.random.default_rng(3))
    state = ds.rng.bit_generator.state
    assert all(ds._aim(seed, groups) == seed for seed in range(1, 200, 2))
    assert ds.rng.bit_generator.state == state        # nothing drawn


@pytest.mark.parametrize("n, m, members, groups", [
    (1000, 100, 240, 24),    # groups of 10: 240 members
    (1000, 200, 120, 24),    # groups of 5: 24 groups, not 48
    (1000, 71, 240, 17),     # groups of about 14: 240 members
    (100, 20, 100, 20),      # a small problem: all of it
])
def test_a_subproblem_holds_at_most_240_members_and_24_groups(n, m, members, groups):
    from peermatch.solve.decompose import default_sub_size

    rng = np.random.default_rng(0)
    A = rng.random((n, n))
    A = (A + A.T) / 2
    p = Problem(A, min_size=1, max_size=n, n_groups=m)
    lab = np.arange(n) % m
    assert default_sub_size(n, m) == members
    ds = DecompositionSearch(p, lab, np.random.default_rng(0))
    assert ds.k == groups
    busy = np.zeros(m, dtype=bool)
    for _ in range(20):
        chosen = ds.choose(busy)
        assert len(chosen) == groups and len(set(chosen.tolist())) == groups


def test_with_tiers_a_subproblem_keeps_to_the_seeds_tier():
    # three tiers: members of tier t may join only the groups of tier t, so a sub-problem
    # that mixed tiers would be three small ones side by side
    n, m, tiers = 300, 30, 3
    rng = np.random.default_rng(2)
    A = rng.normal(size=(n, n))
    A = (A + A.T) / 2
    tier_of_member = np.arange(n) % tiers
    tier_of_group = np.arange(m) % tiers
    allowed = tier_of_member[:, None] == tier_of_group[None, :]
    p = Problem(A, min_size=8, max_size=12, n_groups=m, allowed=allowed)
    lab = np.empty(n, dtype=np.int64)
    for t in range(tiers):  # a valid start: each tier's members round-robin on its groups
        rows, gs = np.flatnonzero(tier_of_member == t), np.flatnonzero(tier_of_group == t)
        lab[rows] = gs[np.arange(len(rows)) % len(gs)]
    for near in (1.0, 0.0):  # the neighbourhood choice and the random one
        ds = DecompositionSearch(p, lab, np.random.default_rng(3),
                                 {"tuning": {"sub_size": 40, "near_share": near}})
        for _ in range(30):
            chosen = ds.choose()
            assert len(chosen) == 4
            assert len(set(tier_of_group[chosen].tolist())) == 1, chosen
    ds = DecompositionSearch(p, lab, np.random.default_rng(3), {"tuning": {"sub_size": 40}})
    ds.run(float("inf"), max_iter=2000)
    assert _loops_ok(p, ds.labels, m) == []
    assert bool(np.all(allowed[np.arange(n), ds.labels]))
    assert ds.value == pytest.approx(_objective_loops(A, ds.labels))


def test_with_small_groups_both_sub_problem_sizes_are_tried_and_the_better_gets_more():
    # groups of 5: the default sub-problem is 24 groups (120 members), the large one 240
    # members (48 groups); each size's share follows its gain per unit of work
    n, m = 800, 160
    rng = np.random.default_rng(4)
    F = rng.normal(size=(n, 4))
    A = F @ F.T - 1.0
    np.fill_diagonal(A, 0)
    p = Problem(A, min_size=4, max_size=6, n_groups=m)
    lab = np.arange(n) % m
    ds = DecompositionSearch(p, lab, np.random.default_rng(1))
    assert (ds.k, ds.k_large) == (24, 48)
    r = 2 ** 2.5  # the work of a large sub-problem over a default one's
    assert ds._large_rate() == pytest.approx(1 / (1 + r))  # half the work each at first
    ds._size_tally[:] = [[1.0, 1.0, 10.0], [3.0, 1.0, 10.0]]  # the large gains 3x per work
    assert ds._large_rate() == pytest.approx((0.75 / r) / (0.75 / r + 0.25))
    ds._size_tally[:] = [[1.0, 1.0, 10.0], [0.0, 1.0, 10.0]]  # never below a tenth
    assert ds._large_rate() == pytest.approx((0.1 / r) / (0.1 / r + 0.9))
    runs = []
    for _ in range(2):
        ds = DecompositionSearch(p, lab, np.random.default_rng(1))
        ds.run(float("inf"), max_iter=12_000)
        assert _loops_ok(p, ds.labels, m) == []
        assert ds.value == pytest.approx(_objective_loops(A, ds.labels))
        assert ds._size_tally[0, 2] > 0 and ds._size_tally[1, 2] > 0  # both sizes solved
        runs.append(ds.labels.copy())
    assert np.array_equal(runs[0], runs[1])
    # a size given in the options is kept: one size only
    ds = DecompositionSearch(p, lab, np.random.default_rng(1), {"tuning": {"sub_size": 120}})
    assert ds.k == ds.k_large == 24
    # groups of 10: 24 groups are 240 members already, one size
    p10 = Problem(A, min_size=8, max_size=12, n_groups=80)
    assert DecompositionSearch(p10, np.arange(n) % 80, np.random.default_rng(1)).k_large == 24


def test_dense_block_kernel_copies_the_block_numpy_takes():
    """The compiled block of a dense matrix (built without the GIL) holds numpy's
    ``A[np.ix_(rows, rows)]`` entry for entry, read by plain loops."""
    from peermatch.solve import _kernels_sub

    rng = np.random.default_rng(3)
    A = rng.normal(size=(50, 50))
    rows = np.sort(rng.choice(50, size=17, replace=False)).astype(np.int64)
    B = _kernels_sub.dense_block(A, rows)
    assert B.shape == (17, 17) and B.flags.c_contiguous
    for a in range(17):
        for b in range(17):
            assert B[a, b] == A[rows[a], rows[b]]


def test_one_long_tabu_slice_is_the_same_search_as_many_short_ones():
    """``run_until(first=...)`` only changes how the iterations are cut into kernel calls:
    the grouping, the best value and the iteration count come out the same."""
    from peermatch.solve._prep import prepare
    from peermatch.solve.local import TabuSearch

    rng = np.random.default_rng(4)
    A = rng.random((60, 60))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    p = Problem(A, min_size=4, max_size=6, n_groups=12, cannot_link=[(0, 1), (2, 3)])
    prep = prepare(p, 12)
    start = prep.to_units(np.arange(60) % 12)
    out = []
    for first in (1, 700):
        ts = TabuSearch(prep, start, {}, seed=11)
        ts.run_until(float("inf"), 700, first=first)
        out.append((ts.iterations, ts.best_value, ts.best_labels.tolist(), ts.state[0].tolist()))
    assert out[0][0] == out[1][0] == 700
    assert out[0] == out[1]
