"""Independent parts of a problem (allowed groups that split it), solved apart."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from peermatch.problem import GroupSum, Problem
from peermatch.solve import solve
from peermatch.solve.blocks import independent_blocks, restrict


def _tiers(n_per: list[int], groups_per: list[int], seed: int = 0, **rules) -> Problem:
    """Tiers: the members of tier t may join only the groups of tier t."""
    rng = np.random.default_rng(seed)
    n, m = sum(n_per), sum(groups_per)
    X = rng.normal(size=(n, 4))
    A = X @ X.T
    np.fill_diagonal(A, 0)
    tier = np.repeat(np.arange(len(n_per)), n_per)
    gtier = np.repeat(np.arange(len(groups_per)), groups_per)
    # shuffle rows so that a tier is not a run of consecutive rows
    order = rng.permutation(n)
    allowed = tier[order][:, None] == gtier[None, :]
    return Problem(A[np.ix_(order, order)], n_groups=m, allowed=allowed, **rules)


def _breaks(p: Problem, labels: np.ndarray) -> list[str]:
    """Every hard rule ``labels`` breaks, by plain loops (shares no code with the solver)."""
    out = []
    bounds = p.bounds_for(p.n_groups)
    for g in range(p.n_groups):
        size = sum(1 for x in labels if x == g)
        if not bounds[g][0] <= size <= bounds[g][1]:
            out.append(f"group {g} has {size} members")
    for i in range(p.n):
        if not 0 <= labels[i] < p.n_groups or not p.allowed[i][labels[i]]:
            out.append(f"member {i} in group {labels[i]}, not allowed")
    for i, j in p.cannot_link:
        if labels[i] == labels[j]:
            out.append(f"{i} and {j} share a group")
    for s in p.group_sums:
        lo, hi = s.bounds(p.n_groups)
        for g in range(p.n_groups):
            total = sum(s.coef[i] for i in range(p.n) if labels[i] == g)
            if not lo[g] - 1e-9 <= total <= hi[g] + 1e-9:
                out.append(f"{s.name} of group {g} is {total}")
    return out


def _value(A: np.ndarray, labels) -> float:
    return sum(A[i][j] for i in range(len(labels)) for j in range(i + 1, len(labels))
               if labels[i] == labels[j])


def test_blocks_follow_the_allowed_groups():
    p = _tiers([30, 20, 10], [3, 2, 1], min_size=8, max_size=12)
    parts = independent_blocks(p)
    assert len(parts) == 3
    rows = np.concatenate([r for r, _ in parts])
    groups = np.concatenate([g for _, g in parts])
    assert sorted(rows.tolist()) == list(range(p.n))
    assert sorted(groups.tolist()) == list(range(p.n_groups))
    for r, g in parts:
        # every member of a part may join every group of it, and no group of another
        assert p.allowed[np.ix_(r, g)].all()
        assert p.allowed[r].sum() == len(r) * len(g)
    assert [r[0] for r, _ in parts] == sorted(r[0] for r, _ in parts)


def test_one_part_when_allowed_does_not_split():
    p = _tiers([30], [3], min_size=8, max_size=12)
    assert len(independent_blocks(p)) == 1
    q = Problem(p.affinity, min_size=8, max_size=12, n_groups=3)
    assert len(independent_blocks(q)) == 1
    # a group no one may join: the whole problem's search reports it
    al = np.ones((30, 3), dtype=bool)
    al[:, 2] = False
    al[:15, 1] = False
    al[15:, 0] = False
    assert len(independent_blocks(Problem(p.affinity, min_size=1, max_size=30, n_groups=3,
                                          allowed=al))) == 1


def test_must_link_joins_parts():
    p = _tiers([12, 12], [2, 2], min_size=4, max_size=8)
    r0, r1 = (r for r, _ in independent_blocks(p))
    q = Problem(p.affinity, n_groups=4, min_size=4, max_size=8, allowed=p.allowed,
                must_link=[(r0[0], r1[0])])
    assert len(independent_blocks(q)) == 1


def test_restrict_maps_every_rule():
    p0 = _tiers([12, 8], [2, 1], min_size=3, max_size=8)
    (r0, g0), (r1, g1) = independent_blocks(p0)
    coef = np.arange(p0.n, dtype=float) % 3
    p = Problem(p0.affinity, n_groups=3, min_size=3, max_size=8, allowed=p0.allowed,
                cannot_link=[(r0[0], r0[1]), (r0[2], r1[0])],
                group_sums=[GroupSum(coef, lo=0, hi=[9, 8, 7], name="load")],
                names=[f"m{i}" for i in range(p0.n)])
    q = restrict(p, r0, g0)
    assert q.n == len(r0) and q.n_groups == 2 and q.allowed is None
    assert q.cannot_link.tolist() == [[0, 1]]  # the pair across parts is dropped
    assert q.names == tuple(f"m{i}" for i in r0)
    lo, hi = q.group_sums[0].bounds(2)
    assert hi.tolist() == [9, 8] and q.group_sums[0].coef.tolist() == coef[r0].tolist()
    np.testing.assert_array_equal(q.affinity, p.affinity[np.ix_(r0, r0)])
    q1 = restrict(p, r1, g1)
    assert q1.group_sums[0].bounds(1)[1].tolist() == [7]


@pytest.mark.parametrize("seed", [0, 1])
def test_solve_by_parts_is_valid_and_reproducible(seed):
    p = _tiers([40, 30, 20], [4, 3, 2], seed=seed, min_size=8, max_size=12,
               cannot_link=[(0, 1), (2, 3), (4, 5)])
    opts = {"max_iter": 3000}
    r = solve(p, time_limit=30, seed=seed, options=opts)
    assert r.success and _breaks(p, r.labels) == []
    assert r.plan.blocks == 3 and "blocks:" in str(r.plan)
    assert r.objective == pytest.approx(_value(p.affinity, r.labels))
    again = solve(p, time_limit=30, seed=seed, options=opts)
    np.testing.assert_array_equal(r.labels, again.labels)


def test_small_parts_are_solved_to_optimality():
    # two tiers of 6 members in 2 groups of 3: each part goes to the exact model
    p = _tiers([6, 6], [2, 2], seed=3, min_size=3, max_size=3)
    r = solve(p, time_limit=20)
    assert r.status == "optimal" and _breaks(p, r.labels) == []
    best = -np.inf
    for r0, _ in independent_blocks(p):  # brute force over each part's groupings
        part = -np.inf
        for lab in itertools.product(range(2), repeat=6):
            if lab.count(0) == 3:
                part = max(part, _value(p.affinity[np.ix_(r0, r0)], lab))
        best = part if best == -np.inf else best + part
    assert r.objective == pytest.approx(best)
    assert r.bound == pytest.approx(best)


def test_locked_groups_are_taken_as_they_are():
    p = _tiers([10, 10, 30], [1, 1, 3], min_size=8, max_size=12)
    r = solve(p, time_limit=20, options={"max_iter": 2000})
    assert r.success and _breaks(p, r.labels) == []
    assert r.plan.blocks == 3


def test_an_infeasible_part_is_reported_by_the_whole_search():
    # tier 1 has 5 members for 1 group of at least 8
    p = _tiers([30, 5], [3, 1], min_size=8, max_size=12)
    r = solve(p, time_limit=3, options={"max_iter": 300})  # the search of the rest ends early
    assert not r.success and r.status in ("infeasible", "unknown")
    if r.status == "infeasible":
        assert r.reasons


CHILD = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, sys.argv[1])
    from test_blocks import _breaks, _tiers
    from peermatch.solve import solve
    p = _tiers([200, 100], [20, 10], min_size=8, max_size=12)
    print("ready", flush=True)
    r = solve(p, time_limit=60, seed=0)
    print(json.dumps({"wall": r.wall_time, "interrupted": bool(r.get("interrupted")),
                      "success": bool(r.success), "breaks": _breaks(p, r.labels)}))
""")


def test_ctrl_c_in_a_part_keeps_a_valid_grouping():
    proc = subprocess.Popen([sys.executable, "-c", CHILD, os.path.dirname(__file__)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if "ready" in line:
            break
    time.sleep(2.5)  # construction done (kernels loaded or not): inside the first part
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    info = json.loads(out.strip().splitlines()[-1])
    assert info["success"] and info["interrupted"] and info["breaks"] == []
    # the solver's own record: the parts left got their construction, not their share
    assert info["wall"] < 0.5 * 60


def test_a_part_one_sub_problem_would_cover_gets_the_whole_part_search(monkeypatch):
    """At scale the parts keep the decomposition, except a part so small that one
    sub-problem would hold most of its groups: that one gets the whole-part search."""
    from peermatch.solve import _solve

    real = _solve.solve
    searches = []

    def spy(problem, *args, **kwargs):
        r = real(problem, *args, **kwargs)
        searches.append((problem.n, r.plan.search))
        return r

    monkeypatch.setattr(_solve, "solve", spy)
    # a tier of 1,000 in 84 groups (sub-problems of 20 groups) and one of 196 in 14
    p = _tiers([1000, 196], [84, 14], seed=3, min_size=10, max_size=16)
    res = real(p, "local", time_limit=120, seed=0, options={"max_iter": 3000})
    assert res.success and res.plan.blocks == 2
    assert sorted(searches) == [(196, "population"), (1000, "decomposition")]
    assert _breaks(p, res.labels) == []
    assert res.objective == pytest.approx(_value(p.affinity, res.labels), rel=1e-9)
