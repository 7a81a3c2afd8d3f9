"""The plain numpy baseline of benchmarks/descent.py, checked by plain loops."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from peermatch.problem import GroupSum, Problem

from ._bench import load_benchmark

plain_descent = load_benchmark("descent").plain_descent
problem_arrays = load_benchmark("descent").problem_arrays


def random_instance(n: int, seed: int, negative: bool = False):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n)) if negative else rng.random((n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    cc = rng.permutation(np.arange(n) // 3)  # classes of at most three members
    cc[rng.random(n) < 0.25] = -1  # some candidates have no competitor
    pairs = rng.integers(0, n, (n // 2, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return A, cc, pairs


def loop_objective(A, labels) -> float:
    n = len(labels)
    return sum(float(A[i][j]) for i in range(n) for j in range(i + 1, n)
               if labels[i] == labels[j])


def loop_errors(labels, m, lo, hi, cc, pairs) -> list[str]:
    labels = [int(x) for x in labels]
    errors = []
    if any(not 0 <= g < m for g in labels):
        errors.append("a label outside 0..m-1")
    size = [0] * m
    for g in labels:
        if 0 <= g < m:
            size[g] += 1
    errors += [f"group {g} has {s} members" for g, s in enumerate(size) if not lo <= s <= hi]
    n = len(labels)
    for i in range(n):
        for j in range(i + 1, n):
            if labels[i] == labels[j] and cc is not None and cc[i] >= 0 and cc[i] == cc[j]:
                errors.append(f"{i} and {j} of class {cc[i]} share group {labels[i]}")
    for i, j in pairs if pairs is not None else []:
        if labels[i] == labels[j]:
            errors.append(f"cannot-link {i}, {j} share group {labels[i]}")
    return errors


def feasible(labels, m, lo, hi, cc, pairs) -> bool:
    return not loop_errors(labels, m, lo, hi, cc, pairs)


@pytest.mark.parametrize("negative", [False, True])
def test_valid_grouping_and_objective(negative):
    n, m, lo, hi = 40, 4, 8, 12
    A, cc, pairs = random_instance(n, 1, negative)
    labels, obj, info = plain_descent(A, m, lo, hi, conflict_class=cc, cannot_link=pairs,
                                      seconds=5, seed=3, max_starts=3)
    assert labels.shape == (n,)
    assert loop_errors(labels, m, lo, hi, cc, pairs) == []
    assert obj == pytest.approx(loop_objective(A, labels), abs=1e-9)
    assert info["starts"] == 3 and all(info["local_optimum"])
    assert len(info["start_seconds"]) == 3
    assert info["first_objective"] == pytest.approx(info["start_objectives"][0], abs=1e-8)
    assert obj == pytest.approx(max(info["start_objectives"]), abs=1e-8)
    assert obj >= max(info["greedy_objectives"]) - 1e-9


def test_same_seed_same_grouping():
    A, cc, pairs = random_instance(30, 2)
    a = plain_descent(A, 3, 8, 12, conflict_class=cc, cannot_link=pairs, seconds=5, seed=7,
                      max_starts=2)
    b = plain_descent(A, 3, 8, 12, conflict_class=cc, cannot_link=pairs, seconds=5, seed=7,
                      max_starts=2)
    assert np.array_equal(a[0], b[0]) and a[1] == b[1]


def brute_force(A, cc=None, pairs=None) -> float:
    """Best split of 8 elements into 2 groups of 4, by enumeration."""
    best = -np.inf
    for rest in itertools.combinations(range(1, 8), 3):
        labels = [0 if i == 0 or i in rest else 1 for i in range(8)]
        if feasible(labels, 2, 4, 4, cc, pairs):
            best = max(best, loop_objective(A, labels))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_tiny_reaches_brute_force_optimum(seed):
    rng = np.random.default_rng(100 + seed)
    A = rng.normal(size=(8, 8))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    labels, obj, _ = plain_descent(A, 2, 4, 4, seconds=5, seed=seed, max_starts=10)
    assert obj == pytest.approx(brute_force(A), abs=1e-9)
    cc = np.array([0, 0, -1, 1, 1, -1, -1, -1])
    pairs = np.array([[2, 5], [6, 7]])
    labels, obj, _ = plain_descent(A, 2, 4, 4, conflict_class=cc, cannot_link=pairs,
                                   seconds=5, seed=seed, max_starts=10)
    assert feasible(labels, 2, 4, 4, cc, pairs)
    assert obj == pytest.approx(brute_force(A, cc, pairs), abs=1e-9)


def test_ends_at_local_optimum():
    n, m, lo, hi = 36, 4, 7, 11
    A, cc, pairs = random_instance(n, 4, negative=True)
    labels, obj, info = plain_descent(A, m, lo, hi, conflict_class=cc, cannot_link=pairs,
                                      seconds=5, seed=0, max_starts=1)
    assert info["local_optimum"] == [True]
    lab = [int(x) for x in labels]
    size = np.bincount(lab, minlength=m).tolist()
    base = loop_objective(A, lab)
    tol = 1e-9
    checked = 0
    for i in range(n):
        for h in range(m):  # every move to a group with room
            if h == lab[i] or size[lab[i]] <= lo or size[h] >= hi:
                continue
            new = lab.copy()
            new[i] = h
            if feasible(new, m, lo, hi, cc, pairs):
                checked += 1
                assert loop_objective(A, new) <= base + tol, f"improving move {i} -> {h}"
        for j in range(i + 1, n):  # every swap across groups
            if lab[i] == lab[j]:
                continue
            new = lab.copy()
            new[i], new[j] = lab[j], lab[i]
            if feasible(new, m, lo, hi, cc, pairs):
                checked += 1
                assert loop_objective(A, new) <= base + tol, f"improving swap {i} <-> {j}"
    assert checked > 100


def test_time_limit_is_respected():
    A, cc, pairs = random_instance(400, 5)
    _, _, info = plain_descent(A, 40, 8, 12, conflict_class=cc, cannot_link=pairs,
                               seconds=0.3, seed=0)
    assert info["wall_time"] < 1.0
    assert info["starts"] >= 1


def test_problem_arrays_competitors_and_refusals():
    n = 8
    A = np.ones((n, n))
    comp = GroupSum(coef=np.array([1.0, 1, 0, 0, 0, 0, 0, 0]), hi=1.0, name="comp a")
    overlap = GroupSum(coef=np.array([0.0, 1, 1, 0, 0, 0, 0, 0]), hi=1.0, name="comp b")
    p = Problem(A, min_size=4, max_size=4, cannot_link=[(4, 5)], group_sums=[comp, overlap])
    A2, m, lo, hi, cc, cl = problem_arrays(p, m=2)
    assert A2 is p.affinity and (m, lo, hi) == (2, 4, 4)
    assert cc.tolist() == [0, 0, -1, -1, -1, -1, -1, -1]
    assert {tuple(x) for x in cl.tolist()} == {(1, 2), (4, 5)}
    labels, _, _ = plain_descent(A2, m, lo, hi, conflict_class=cc, cannot_link=cl, seconds=2,
                                 seed=0, max_starts=1)
    assert feasible(labels, 2, 4, 4, None, [(0, 1), (1, 2), (4, 5)])
    with pytest.raises(ValueError, match="pass m"):
        problem_arrays(p)
    cap = GroupSum(coef=np.ones(n), hi=2.0, name="at most two")
    with pytest.raises(ValueError, match="at most two"):
        problem_arrays(Problem(A, min_size=4, max_size=4, n_groups=2, group_sums=[cap]))
    with pytest.raises(ValueError, match="must-link"):
        problem_arrays(Problem(A, min_size=4, max_size=4, n_groups=2, must_link=[(0, 1)]))


def test_greedy_that_cannot_fit_raises():
    A = np.zeros((8, 8))
    cc = np.array([0, 0, 0, -1, -1, -1, -1, -1])  # three competitors, two groups
    with pytest.raises(RuntimeError, match="no feasible grouping"):
        plain_descent(A, 2, 4, 4, conflict_class=cc, seconds=1, seed=0)


def test_tight_packing_uses_ejections():
    # every group full (120 = 10 x 12) and every candidate in a class of 2-10 members
    m, n = 10, 120
    rng = np.random.default_rng(3)
    A = rng.random((n, n))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0.0)
    sizes, total = [], 0
    while total < n:
        s = int(min(rng.integers(2, m + 1), n - total))
        sizes.append(s)
        total += s
    cc = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    labels, obj, info = plain_descent(A, m, 8, 12, conflict_class=cc, seconds=5, seed=3,
                                      max_starts=3)
    assert info["greedy_ejections"] > 0
    assert loop_errors(labels, m, 8, 12, cc, None) == []
    assert obj == pytest.approx(loop_objective(A, labels), abs=1e-9)


def test_affinity_object_must_be_densified_first():
    class Blocks:  # stands for peermatch.affinity.FeatureAffinity
        shape = (8, 8)

        def to_dense(self):
            return np.zeros((8, 8))

    with pytest.raises(TypeError, match="to_dense"):
        plain_descent(Blocks(), 2, 4, 4, seconds=1, seed=0)
