"""Tests of the solver engine: validity on random problems, exact optima, infeasibility."""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peermatch.mdgplib import read_best_known, read_instance, score
from peermatch.problem import GroupSum, Problem
from peermatch.solve import SolverOptionWarning, solve, solve_affinity

DATA = Path(__file__).parent / "data" / "mdgplib"


# --- an independent validator --------------------------------------------------------------

def check_grouping(problem: Problem, labels: np.ndarray, m: int) -> list[str]:
    """Every rule, checked with plain loops (independent of peermatch.solve)."""
    n = problem.n
    errors = []
    labels = [int(x) for x in labels]
    if len(labels) != n or any(not 0 <= g < m for g in labels):
        return ["not every element is placed exactly once in 0..m-1"]
    members = {g: [i for i in range(n) if labels[i] == g] for g in range(m)}
    if problem.bounds is not None:
        bounds = [tuple(map(int, b)) for b in problem.bounds]
    else:
        bounds = [(problem.min_size, problem.max_size)] * m
    for g in range(m):
        if not bounds[g][0] <= len(members[g]) <= bounds[g][1]:
            errors.append(f"size of group {g}")
    for i, j in problem.cannot_link:
        if labels[i] == labels[j]:
            errors.append(f"cannot-link {i},{j}")
    for i, j in problem.must_link:
        if labels[i] != labels[j]:
            errors.append(f"must-link {i},{j}")
    if problem.allowed is not None:
        for i in range(n):
            if not problem.allowed[i][labels[i]]:
                errors.append(f"allowed {i}")
    for s in problem.group_sums:
        lo = np.broadcast_to(s.lo, (m,))
        hi = np.broadcast_to(s.hi, (m,))
        for g in range(m):
            tot = sum(float(s.coef[i]) for i in members[g])
            if tot < lo[g] - 1e-9 or tot > hi[g] + 1e-9:
                errors.append(f"{s.name} in group {g}")
    if problem.slots is not None:
        for g in range(m):
            need = math.ceil(problem.slot_quorum * len(members[g]) - 1e-9)
            best = max((sum(bool(problem.slots[i][t]) for i in members[g])
                        for t in range(problem.slots.shape[1])), default=0)
            if best < need:
                errors.append(f"slot of group {g}")
    for c in problem.no_singleton:
        for g in range(m):
            labs = [int(c[i]) for i in members[g] if c[i] >= 0]
            if any(labs.count(x) == 1 for x in labs):
                errors.append(f"singleton in group {g}")
    return errors


def plain_objective(A: np.ndarray, labels) -> float:
    total = 0.0
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            if labels[i] == labels[j]:
                total += A[i, j]
    return total


def brute_force(problem: Problem, m: int):
    """Best objective over all labelings (None when infeasible). Small n only."""
    best = None
    for lab in itertools.product(range(m), repeat=problem.n):
        if lab[0] != 0:  # harmless restriction? no: groups are labelled, keep all
            pass
        if not check_grouping(problem, np.array(lab), m):
            v = plain_objective(problem.affinity, lab)
            best = v if best is None or v > best else best
    return best


# --- random problems -----------------------------------------------------------------------

@st.composite
def problems(draw, max_n=12):
    n = draw(st.integers(4, max_n))
    m = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2 ** 31 - 1))
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n)) + draw(st.sampled_from([0.0, 1.0]))
    A = np.round((A + A.T) / 2, 2)
    lo = draw(st.integers(1, max(1, n // m)))
    hi = draw(st.integers(lo, n))
    kw: dict = {"min_size": lo, "max_size": hi, "n_groups": m}
    if draw(st.booleans()):
        b = [(max(1, lo - int(rng.integers(0, 2))), hi + int(rng.integers(0, 2)))
             for _ in range(m)]
        kw = {"bounds": b}
    if draw(st.booleans()):
        k = int(rng.integers(1, n))
        kw["cannot_link"] = [tuple(rng.choice(n, 2, replace=False)) for _ in range(k)]
    if draw(st.booleans()):
        kw["must_link"] = [tuple(rng.choice(n, 2, replace=False))
                           for _ in range(int(rng.integers(1, 3)))]
    if draw(st.booleans()):
        kw["allowed"] = rng.random((n, m)) < 0.85
    if draw(st.booleans()):
        coef = (rng.random(n) < 0.4).astype(float)
        kw["group_sums"] = (GroupSum(coef, lo=0, hi=int(rng.integers(1, 3)), name="cap X"),)
    if draw(st.booleans()):
        kw["slots"] = rng.random((n, 3)) < 0.7
        kw["slot_quorum"] = draw(st.sampled_from([0.5, 0.75, 1.0]))
    if draw(st.booleans()):
        kw["no_singleton"] = (np.where(rng.random(n) < 0.5, rng.integers(0, 2, n), -1),)
    return Problem(A, **kw)


def assert_nothing_missed(problem: Problem, res) -> None:
    """A method that returns no grouping must be right: CP-SAT finds none either."""
    ref = solve(problem, "exact", time_limit=10, seed=0)
    assert not ref.success, (f"{res.method} returned {res.status!r} but a valid grouping "
                             "exists")
    if res.status == "infeasible":
        assert ref.status in ("infeasible", "unknown")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(["local", "hybrid", "exact", "auto"]))
def test_random_problems_give_valid_groupings(problem, method):
    res = solve(problem, method, time_limit=3, seed=1, options={"max_iter": 300}
                if method in ("local", "hybrid") else None)
    m = problem.n_groups
    assert res.status in ("optimal", "feasible", "infeasible", "unknown")
    if res.success:
        assert check_grouping(problem, res.labels, m) == []
        assert res.objective == pytest.approx(plain_objective(problem.affinity, res.labels))
    else:
        assert_nothing_missed(problem, res)
        assert np.all(res.labels == -1)
        if res.status == "infeasible":
            assert res.reasons


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_n=7))
def test_verdicts_match_brute_force(problem):
    m = problem.n_groups
    best = brute_force(problem, m)
    res = solve(problem, "exact", time_limit=10, seed=0)
    if best is None:
        assert res.status == "infeasible"
    else:
        assert res.status == "optimal"
        assert res.objective == pytest.approx(best)
        loc = solve(problem, "local", time_limit=3, seed=0, options={"max_iter": 200})
        assert loc.success and check_grouping(problem, loc.labels, m) == []


# --- exact optima on MDGPLIB ---------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.stem for p in DATA.glob("*_n01[02]_*.txt")))
def test_exact_reaches_best_known_on_mdgplib_small(name):
    A, bounds = read_instance(DATA / f"{name}.txt")
    bks = read_best_known(DATA / "BKS.csv")[name]
    res = solve(Problem(A, bounds=bounds), "exact", time_limit=50, seed=0, workers=1)
    assert res.status == "optimal"
    assert res.objective == pytest.approx(bks, abs=1e-6)
    assert score(A, bounds, res.labels) == pytest.approx(bks, abs=1e-6)


def test_local_search_on_mdgplib_n60_respects_labelled_bounds():
    A, bounds = read_instance(DATA / "RanReal_n060_ds_01.txt")
    res = solve(Problem(A, bounds=bounds), "local", time_limit=2, seed=0,
                options={"max_iter": 300})  # the bounds hold for any grouping returned
    assert res.status == "feasible"
    sizes = np.bincount(res.labels, minlength=len(bounds))
    assert np.all((bounds[:, 0] <= sizes) & (sizes <= bounds[:, 1]))
    assert res.objective == pytest.approx(score(A, bounds, res.labels))


def test_read_instance_shape_and_symmetry():
    A, bounds = read_instance(DATA / "Geo_n030_ss_01.txt")
    assert A.shape == (30, 30) and bounds.shape == (5, 2)
    assert np.allclose(A, A.T) and np.all(np.diag(A) == 0)


# --- infeasibility -------------------------------------------------------------------------

@pytest.mark.parametrize("method", ["exact", "local", "hybrid", "auto"])
def test_cannot_link_clique_larger_than_group_count(method):
    clique = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    p = Problem(np.ones((9, 9)), min_size=3, max_size=3, n_groups=3, cannot_link=clique)
    res = solve(p, method, time_limit=5)
    assert res.status == "infeasible" and not res.success
    assert any(r.startswith("cannot-link pairs") for r in res.reasons)


def test_min_sizes_above_n():
    p = Problem(np.ones((7, 7)), min_size=4, max_size=5, n_groups=2)
    res = solve(p, "local", time_limit=5)
    assert res.status == "infeasible"
    assert any(r.startswith("group sizes") for r in res.reasons)


def test_group_sum_named_in_reasons():
    coef = np.array([1.0] * 5 + [0.0] * 3)
    p = Problem(np.ones((8, 8)), min_size=4, max_size=4, n_groups=2,
                group_sums=(GroupSum(coef, hi=2, name="at most 2 lawyers"),))
    res = solve(p, "hybrid", time_limit=5)
    assert res.status == "infeasible"
    assert any("at most 2 lawyers" in r for r in res.reasons)


def test_free_count_with_impossible_sizes():
    res = solve_affinity(np.ones((7, 7)), min_size=4, max_size=5, time_limit=2)
    assert res.status == "infeasible" and any("group sizes" in r for r in res.reasons)


# --- entry point behaviour -----------------------------------------------------------------

def test_unknown_method_raises():
    with pytest.raises(ValueError, match="Valid methods"):
        solve(Problem(np.ones((4, 4)), min_size=2, max_size=2), "simplex")


def test_unknown_option_warns():
    with pytest.warns(SolverOptionWarning, match="bogus"):
        solve(Problem(np.ones((4, 4)), min_size=2, max_size=2, n_groups=2), "local",
              time_limit=1, options={"bogus": 1, "max_iter": 10})


def test_method_name_is_case_insensitive():
    res = solve(Problem(np.ones((4, 4)), min_size=2, max_size=2, n_groups=2), "EXACT")
    assert res.status == "optimal" and res.method == "exact"


@pytest.mark.parametrize("method", ["local", "hybrid"])
def test_fixed_seed_and_max_iter_are_deterministic(method):
    rng = np.random.default_rng(3)
    A = rng.normal(size=(40, 40))
    A = (A + A.T) / 2
    p = Problem(A, min_size=4, max_size=6, n_groups=8,
                cannot_link=[(0, 1), (2, 3), (4, 5)])
    opts = ({"max_iter": 400, "tuning": {"lns_time": 0.05}} if method == "hybrid"
            else {"max_iter": 400})
    runs = [solve(p, method, time_limit=30, seed=7, options=opts)
            for _ in range(2)]
    assert np.array_equal(runs[0].labels, runs[1].labels)
    assert runs[0].objective == runs[1].objective
    assert runs[0].iterations == 400


def test_free_group_count_follows_sign_of_affinity():
    rng = np.random.default_rng(0)
    B = rng.random((24, 24))
    B = (B + B.T) / 2
    # an iteration cap ends each search; the sign alone decides the count
    kw = dict(min_size=3, max_size=8, time_limit=2, method="local", options={"max_iter": 300})
    pos = solve_affinity(B + 0.5, **kw)
    neg = solve_affinity(-(B + 0.5), **kw)
    assert pos.success and neg.success
    assert pos.n_groups == 3 and neg.n_groups == 8
    assert pos.n_groups < neg.n_groups


def test_result_fields_and_callback():
    seen = []
    rng = np.random.default_rng(1)
    A = rng.random((30, 30))
    A = A + A.T
    res = solve_affinity(A, min_size=5, max_size=5, n_groups=6, time_limit=1, method="local",
                         callback=seen.append)
    for key in ("labels", "objective", "status", "success", "message", "bound", "n_groups",
                "method", "wall_time", "iterations", "n_restarts", "time_to_best", "history"):
        assert key in res
    assert seen and "elapsed" in seen[0] and "objective" in seen[0]
    assert res.history[-1][1] == pytest.approx(res.objective)
    assert res.wall_time < 5


def test_must_link_units_move_together():
    rng = np.random.default_rng(5)
    A = rng.normal(size=(20, 20))
    A = (A + A.T) / 2
    ml = [(0, 1), (1, 2), (5, 9)]
    p = Problem(A, min_size=4, max_size=6, n_groups=4, must_link=ml,
                cannot_link=[(0, 5)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = solve(p, "local", time_limit=2, options={"max_iter": 500})
    assert res.success and check_grouping(p, res.labels, 4) == []


# --- population phase (group-based crossover + tabu search) --------------------------------

@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(max_n=40))
def test_population_phase_keeps_every_rule(problem):
    # Small children budget so many crossovers happen within max_iter.
    opts = {"max_iter": 800, "tuning": {"child_iter": 40, "population": 4}}
    res = solve(problem, "local", time_limit=5, seed=2, options=opts)
    if res.success:
        assert check_grouping(problem, res.labels, problem.n_groups) == []
        assert res.objective == pytest.approx(plain_objective(problem.affinity, res.labels))
    else:
        assert_nothing_missed(problem, res)


def test_crossover_children_respect_sizes_cannot_link_and_allowed():
    from peermatch.solve._prep import prepare
    from peermatch.solve.construct import greedy
    from peermatch.solve.population import crossover

    rng = np.random.default_rng(11)
    n, m = 60, 6
    A = rng.normal(size=(n, n))
    A = (A + A.T) / 2
    bounds = [(8, 12), (9, 11), (6, 14), (10, 10), (7, 13), (8, 12)]
    cl = [tuple(rng.choice(n, 2, replace=False)) for _ in range(40)]
    allowed = rng.random((n, m)) < 0.9
    p = Problem(A, bounds=bounds, cannot_link=cl, allowed=allowed)
    prep = prepare(p, m)
    parents = [greedy(prep, np.random.default_rng(s)) for s in range(6)]
    parents = [x for x in parents if x is not None]
    assert len(parents) >= 2
    made = 0
    for k in range(30):
        child = crossover(prep, parents[k % len(parents)], parents[(k + 1) % len(parents)], rng)
        if child is not None:
            made += 1
            assert check_grouping(p, child, m) == []
    assert made > 0


def test_population_phase_is_deterministic_and_beats_plain_tabu():
    rng = np.random.default_rng(4)
    A = rng.random((60, 60))
    A = (A + A.T) / 2
    p = Problem(A, bounds=[(4, 8), (5, 7), (6, 10), (5, 6), (4, 9), (6, 8), (5, 9), (6, 7)])
    opts = {"max_iter": 4000, "tuning": {"child_iter": 300}}
    runs = [solve(p, "local", time_limit=30, seed=3, options=opts) for _ in range(2)]
    assert runs[0].success and np.array_equal(runs[0].labels, runs[1].labels)
    assert runs[0].iterations == 4000
    assert check_grouping(p, runs[0].labels, 8) == []
    # The same iteration budget without the population phase (one individual: plain tabu).
    plain = solve(p, "local", time_limit=30, seed=3,
                  options={"max_iter": 4000, "tuning": {"population": 1}})
    assert plain.success and plain.iterations == 4000
    assert check_grouping(p, plain.labels, 8) == []
    assert runs[0].objective > plain.objective


# --- time limits: model building counts ----------------------------------------------------

def _crowded_problem(n_experts: int) -> Problem:
    """Many group sums, slots and no-singleton: a large CP-SAT model for its size."""
    rng = np.random.default_rng(4)
    n, m = 400, 20
    A = rng.random((n, n))
    A = (A + A.T) / 2
    perm = rng.permutation(n)
    sums = []
    for k in range(40):
        coef = np.zeros(n)
        coef[perm[5 * k:5 * k + 5]] = 1
        sums.append(GroupSum(coef, hi=1, name=f"competitors {k}"))
    coef = np.zeros(n)
    coef[perm[200:200 + n_experts]] = 1
    sums.append(GroupSum(coef, lo=1, name="at least one expert"))
    label = np.full(n, -1)
    label[perm[250:310]] = rng.integers(0, 6, 60)
    return Problem(A, min_size=18, max_size=22, n_groups=m, group_sums=tuple(sums),
                   slots=rng.random((n, 6)) < 0.6, slot_quorum=0.5, no_singleton=(label,))


@pytest.mark.parametrize("n_experts", [20, 19])
def test_short_time_limit_returns_valid_or_no_verdict(n_experts):
    # 19 experts for 20 groups: infeasible, and neither the greedy nor the repair can
    # tell; the CP-SAT fallback must fit in what is left of the 2 s (or be skipped).
    problem = _crowded_problem(n_experts)
    res = solve(problem, "hybrid", time_limit=2, seed=0)
    if n_experts == 20:
        assert res.status in ("feasible", "unknown")
    else:
        assert res.status in ("infeasible", "unknown")
    if res.success:
        assert check_grouping(problem, res.labels, res.n_groups) == []
    else:
        assert np.all(res.labels == -1)


def test_cpsat_models_stop_building_at_the_deadline():
    import time

    from peermatch.solve import cpsat

    problem = _crowded_problem(20)
    everything = np.arange(problem.n)
    with pytest.raises(cpsat.BuildTimeout):
        cpsat.build(problem, 20, everything, np.arange(20), objective=None, diagnose=True,
                     deadline=time.perf_counter() - 1)
    assert cpsat.diagnose(problem, 20, time_limit=1e-4, seed=1, workers=1)["status"] == "unknown"
    assert cpsat.solve_exact(problem, 20, time_limit=1e-4, seed=1, workers=1)["status"] == "unknown"
    labels = np.arange(problem.n) % 20
    assert cpsat.resolve_groups(problem, 20, labels, [0, 1], time_limit=1e-4, seed=1) is None
    assert 0 < cpsat.build_seconds(problem, 20) < 5


def _counting_repairs(monkeypatch) -> list:
    from peermatch.solve import cpsat

    calls: list = []
    real = cpsat.resolve_groups

    def counted(*args, **kw):
        calls.append(kw.get("det_time"))
        return real(*args, **kw)

    monkeypatch.setattr(cpsat, "resolve_groups", counted)
    return calls


def test_hybrid_with_max_iter_stops_on_iterations_and_is_deterministic(monkeypatch):
    # Side rules: the iteration budget, not the 60 s time limit, ends the run, and the
    # CP-SAT repairs it pays for (a large repair share) run on deterministic time.
    from peermatch.solve._hybrid import repair_counts

    rng = np.random.default_rng(5)
    n = 60
    A = rng.random((n, n))
    A = (A + A.T) / 2
    coef = (rng.random(n) < 0.3).astype(float)
    p = Problem(A, min_size=5, max_size=7, n_groups=10,
                group_sums=(GroupSum(coef, hi=3, name="at most 3 seniors"),),
                slots=rng.random((n, 4)) < 0.7, slot_quorum=0.5)
    calls = _counting_repairs(monkeypatch)
    options = {"max_iter": 5000, "tuning": {"lns_share": 0.9}}
    runs = [solve(p, "hybrid", time_limit=60, seed=3, options=options) for _ in range(2)]
    assert np.array_equal(runs[0].labels, runs[1].labels)
    assert runs[0].iterations == runs[1].iterations == 5000
    assert runs[0].status == "feasible"
    assert check_grouping(p, runs[0].labels, 10) == []
    per_run = sum(repair_counts(5000, n, 10, 0.9))
    assert per_run >= 10 and len(calls) == 2 * per_run
    assert all(d is not None for d in calls)  # deterministic time, not the clock


def test_a_small_max_iter_pays_for_no_repair(monkeypatch):
    # 300 iterations on 90 members are a hundredth of a second of tabu search: the
    # repairs (about 0.08 s each) would be a hundred times the work asked for
    calls = _counting_repairs(monkeypatch)
    rng = np.random.default_rng(2)
    A = rng.random((90, 90))
    p = Problem((A + A.T) / 2, min_size=6, max_size=9, n_groups=12)
    res = solve(p, "hybrid", time_limit=60, seed=0, options={"max_iter": 300})
    assert res.iterations == 300 and check_grouping(p, res.labels, 12) == []
    assert calls == []


def test_pool_is_sized_by_the_children_the_budget_holds():
    from peermatch.solve import plan as plan_mod
    from peermatch.solve._prep import prepare
    from peermatch.solve.construct import greedy
    from peermatch.solve.local import TabuSearch
    from peermatch.solve.population import PopulationSearch, pool_size

    lo, hi, per = plan_mod.POPULATION, plan_mod.POPULATION_MAX, plan_mod.CHILDREN_PER_MEMBER
    assert pool_size(0) == lo and pool_size(10 ** 9) == hi
    assert [pool_size(c) for c in range(0, 40 * per, per)] == sorted(
        pool_size(c) for c in range(0, 40 * per, per))
    assert pool_size(per * (lo + 3)) == lo + 3

    rng = np.random.default_rng(8)
    A = rng.random((48, 48))
    A = (A + A.T) / 2
    p = Problem(A, min_size=6, max_size=10, n_groups=6)
    prep = prepare(p, 6)
    sizes = {}
    for max_iter in (40 * 20, 40 * 400, 40 * 4000):
        ts = TabuSearch(prep, greedy(prep, np.random.default_rng(0)), {}, seed=1)
        ps = PopulationSearch(prep, ts, np.random.default_rng(2), None, child_iter=40)
        ps.run(float("inf"), max_iter)
        assert ts.iterations == max_iter
        # the first member's run took one child's budget; the rest sizes the pool
        sizes[max_iter] = ps.pop_size
        assert ps.pop_size == pool_size(max_iter / 40 - 1)
        if max_iter / 40 - 1 >= ps.pop_size + 4:
            assert len(ps.pool) == ps.pop_size  # (distinct local optima: 48 candidates)
        assert check_grouping(p, prep.to_elements(ps.best), 6) == []
    assert sizes[40 * 20] == lo and sizes[40 * 4000] == hi
    # a fixed pool is kept whatever the budget
    ts = TabuSearch(prep, greedy(prep, np.random.default_rng(0)), {}, seed=1)
    ps = PopulationSearch(prep, ts, np.random.default_rng(2), 5, child_iter=40)
    ps.run(float("inf"), 40 * 4000)
    assert ps.pop_size == 5
