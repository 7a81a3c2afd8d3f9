"""The pure numpy search (peermatch.solve.numpy_engine), checked by plain loops."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from peermatch.problem import GroupSum, Problem
from peermatch.solve._prep import prepare
from peermatch.solve.numpy_engine import numpy_search, objective

FAR = 60.0  # seconds: runs that stop on max_iter


def planted_instance(seed: int, *, n: int = 36, m: int = 4, lo: int = 7, hi: int = 11,
                     must_link: bool = True, balance: bool = True):
    """A random problem with every rule the search handles, and a feasible labelling.

    Rules are drawn around a random labelling ``start`` (so it satisfies all of them):
    cannot-link pairs across its groups, "at most one per group" sets with members in
    different groups, an "at least one per group" set, an "at most two per group" set,
    a two-sided real-valued balance sum, allowed groups (the start's group always
    allowed) and must-link pairs inside its groups.
    """
    rng = np.random.default_rng(seed)
    sizes = np.full(m, lo)
    for _ in range(n - lo * m):
        g = rng.choice(np.flatnonzero(sizes < hi))
        sizes[g] += 1
    start = rng.permutation(np.repeat(np.arange(m), sizes))
    A = rng.random((n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    cl = []
    while len(cl) < n // 3:
        i, j = rng.integers(0, n, 2)
        if start[i] != start[j]:
            cl.append((int(i), int(j)))
    sums = []
    for _ in range(3):  # competitor sets: at most one per group
        members = [int(rng.choice(np.flatnonzero(start == g))) for g in range(m)]
        coef = np.zeros(n)
        coef[members[:rng.integers(2, m + 1)]] = 1.0
        sums.append(GroupSum(coef, hi=1.0, name="at most one"))
    coef = np.zeros(n)  # at least one per group
    for g in range(m):
        coef[rng.choice(np.flatnonzero(start == g), 2, replace=False)] = 1.0
    sums.append(GroupSum(coef, lo=1.0, name="at least one"))
    coef = (rng.random(n) < 0.4).astype(float)  # at most two per group (not a clique)
    tot = np.bincount(start, weights=coef, minlength=m)
    sums.append(GroupSum(coef, hi=np.maximum(tot, 2.0), name="at most two"))
    if balance:  # a real-valued sum with both bounds
        coef = rng.normal(size=n)
        tot = np.bincount(start, weights=coef, minlength=m)
        sums.append(GroupSum(coef, lo=tot.min() - 0.5, hi=tot.max() + 0.5, name="balance"))
    allowed = rng.random((n, m)) < 0.8
    allowed[np.arange(n), start] = True
    ml = []
    if must_link:
        for g in range(m):
            mem = np.flatnonzero(start == g)
            ml.append((int(mem[0]), int(mem[1])))
    P = Problem(A, min_size=lo, max_size=hi, n_groups=m, cannot_link=cl,
                must_link=ml or None, allowed=allowed, group_sums=tuple(sums))
    return P, start


def loop_errors(P: Problem, labels, m: int) -> list[str]:
    """Every broken rule, by plain loops over elements (independent of the solver)."""
    labels = [int(x) for x in labels]
    n = len(labels)
    errors = []
    b = P.bounds_for(m)
    for g in range(m):
        size = sum(1 for x in labels if x == g)
        if not b[g, 0] <= size <= b[g, 1]:
            errors.append(f"group {g} has {size} members")
    for i, j in P.cannot_link:
        if labels[i] == labels[j]:
            errors.append(f"cannot-link {i}, {j}")
    for i, j in P.must_link:
        if labels[i] != labels[j]:
            errors.append(f"must-link {i}, {j}")
    if P.allowed is not None:
        for i in range(n):
            if not P.allowed[i][labels[i]]:
                errors.append(f"{i} not allowed in {labels[i]}")
    for s in P.group_sums:
        lo, hi = s.bounds(m)
        for g in range(m):
            tot = sum(float(s.coef[i]) for i in range(n) if labels[i] == g)
            if not lo[g] - 1e-7 <= tot <= hi[g] + 1e-7:
                errors.append(f"{s.name}: group {g} sums to {tot}")
    return errors


def loop_objective(A, labels) -> float:
    n = len(labels)
    return sum(float(A[i][j]) for i in range(n) for j in range(i + 1, n)
               if labels[i] == labels[j])


def run(prep, units, seed=0, max_iter=300, seconds=FAR, **kw):
    return numpy_search(prep, units, time.perf_counter() + seconds,
                        np.random.default_rng(seed), max_iter=max_iter, **kw)


@pytest.mark.parametrize("seed", range(6))
def test_feasible_exact_value_never_worse(seed):
    P, start = planted_instance(seed, must_link=seed % 2 == 0, balance=seed % 3 != 2)
    m = P.n_groups
    assert loop_errors(P, start, m) == []
    prep = prepare(P, m)
    units = prep.to_units(start)
    calls = []
    best, value = run(prep, units, seed=seed, callback=calls.append)
    labels = prep.to_elements(best)
    assert loop_errors(P, labels, m) == []
    exact = loop_objective(P.affinity, labels)
    assert value + prep.const == pytest.approx(exact, abs=1e-9)
    start_value = loop_objective(P.affinity, start)
    assert exact >= start_value - 1e-9
    assert exact > start_value  # a random labelling is always improvable here
    assert calls and all(b >= a - 1e-9 for a, b in itertools.pairwise(calls))
    assert calls[-1] == pytest.approx(value, abs=1e-6)
    assert np.array_equal(units, prep.to_units(start))  # the start is not modified


@pytest.mark.parametrize("seed", range(3))
def test_deterministic(seed):
    P, start = planted_instance(10 + seed)
    prep = prepare(P, P.n_groups)
    units = prep.to_units(start)
    a, va = run(prep, units, seed=seed, max_iter=120)
    b, vb = run(prep, units, seed=seed, max_iter=120)
    assert np.array_equal(a, b) and va == vb
    c, _ = run(prep, units, seed=seed + 100, max_iter=120)
    assert loop_errors(P, prep.to_elements(c), P.n_groups) == []


def test_units_of_different_weights_keep_size_bounds():
    # must-link triples and pairs (units of weight 3, 2, 1) with tight size ranges
    rng = np.random.default_rng(5)
    n, m = 30, 3
    A = rng.random((n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    ml = [(0, 1), (1, 2), (3, 4), (5, 6), (6, 7), (8, 9), (10, 11)]
    start = np.repeat(np.arange(m), n // m)
    P = Problem(A, min_size=9, max_size=11, n_groups=m, must_link=ml)
    assert loop_errors(P, start, m) == []
    prep = prepare(P, m)
    assert prep.w.max() == 3
    for seed in range(4):
        best, value = run(prep, prep.to_units(start), seed=seed, max_iter=200)
        labels = prep.to_elements(best)
        assert loop_errors(P, labels, m) == []
        assert value + prep.const == pytest.approx(loop_objective(A, labels), abs=1e-9)


def brute_force(A, m, size, cannot_link=()):
    n = len(A)
    best = -np.inf
    for combo in itertools.combinations(range(1, n), size - 1):
        g0 = {0, *combo}
        labels = [0 if i in g0 else 1 for i in range(n)]
        if any(labels[i] == labels[j] for i, j in cannot_link):
            continue
        best = max(best, loop_objective(A, labels))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_tiny_instance_reaches_brute_force_optimum(seed):
    rng = np.random.default_rng(100 + seed)
    A = rng.normal(size=(8, 8))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    cl = [(0, 1), (2, 4)] if seed % 2 else []
    P = Problem(A, min_size=4, max_size=4, n_groups=2, cannot_link=cl or None)
    prep = prepare(P, 2)
    start = np.array([0, 1, 0, 1, 1, 0, 0, 1])  # feasible for both sets of pairs
    assert loop_errors(P, start, 2) == []
    best, value = run(prep, prep.to_units(start), seed=seed, max_iter=200)
    assert loop_errors(P, prep.to_elements(best), 2) == []
    assert value == pytest.approx(brute_force(A, 2, 4, cl), abs=1e-9)


def test_moves_change_sizes_when_it_pays():
    # two cliques of 5 and 3 members; sizes 2..6 let the search regroup them exactly
    A = np.zeros((8, 8))
    A[:5, :5] = 1.0
    A[5:, 5:] = 1.0
    np.fill_diagonal(A, 0.0)
    P = Problem(A, min_size=2, max_size=6, n_groups=2)
    prep = prepare(P, 2)
    best, value = run(prep, np.array([0, 0, 0, 0, 1, 1, 1, 1]), max_iter=100)
    assert value == 13.0  # 10 + 3: one group of 5, one of 3
    assert sorted(np.bincount(best).tolist()) == [3, 5]


def test_unhandled_rules_return_the_start():
    rng = np.random.default_rng(0)
    A = rng.random((8, 8))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    slots = np.ones((8, 2), dtype=bool)
    start = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    for P in (Problem(A, min_size=4, max_size=4, n_groups=2, slots=slots),
              Problem(A, min_size=4, max_size=4, n_groups=2,
                      no_singleton=(np.array([0, 0, 1, 1, 0, 0, 1, 1]),))):
        prep = prepare(P, 2)
        best, value = run(prep, start, max_iter=50)
        assert np.array_equal(best, start)
        assert value == pytest.approx(objective(prep.A, start, 2))


def test_stops_at_the_deadline():
    rng = np.random.default_rng(1)
    n, m = 240, 20
    A = rng.random((n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    prep = prepare(Problem(A, min_size=12, max_size=12, n_groups=m), m)
    start = np.repeat(np.arange(m), n // m)
    t0 = time.perf_counter()
    best, value = numpy_search(prep, start, t0 + 0.3, np.random.default_rng(0))
    # (how close to the deadline it stops is measured in benchmarks, not asserted here)
    assert np.array_equal(np.bincount(best, minlength=m), np.full(m, 12))
    assert value > objective(A, start, m)
