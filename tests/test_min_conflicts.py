"""The min-conflicts search (violation repair) turns a start that keeps only sizes into one
that keeps every rule."""

from __future__ import annotations

import math
import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peermatch.problem import GroupSum, Problem
from peermatch.solve._prep import prepare
from peermatch.solve.construct import greedy
from peermatch.solve.min_conflicts import min_conflicts


def _broken(p: Problem, lab: np.ndarray, m: int) -> list[str]:
    """Plain-loop check of every rule (independent of the library's own validator)."""
    out = []
    for g in range(m):
        mem = [i for i in range(p.n) if lab[i] == g]
        lo, hi = p.bounds_for(m)[g]
        if not lo <= len(mem) <= hi:
            out.append(f"size {g}")
        for i, j in p.cannot_link:
            if lab[i] == g and lab[j] == g:
                out.append(f"cl {i} {j}")
        for s in p.group_sums:
            tot = sum(s.coef[i] for i in mem)
            lo_s, hi_s = s.bounds(m)
            if tot < lo_s[g] - 1e-9 or tot > hi_s[g] + 1e-9:
                out.append(f"{s.name} {g}")
        if p.slots is not None and mem:
            need = math.ceil(p.slot_quorum * len(mem) - 1e-9)
            if max(sum(p.slots[i, t] for i in mem) for t in range(p.slots.shape[1])) < need:
                out.append(f"slot {g}")
        for c in p.no_singleton:
            vals = [c[i] for i in mem if c[i] >= 0]
            if any(vals.count(v) == 1 for v in vals):
                out.append(f"isolated {g}")
    for i, j in p.must_link:
        if lab[i] != lab[j]:
            out.append(f"ml {i} {j}")
    return out


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), m=st.integers(2, 6), size=st.integers(4, 7))
def test_repair_reaches_every_rule(seed, m, size):
    # Rules derived from a hidden grouping, so a grouping that keeps them all exists.
    rng = np.random.default_rng(seed)
    n = m * size
    hidden = rng.permutation(np.repeat(np.arange(m), size))
    A = rng.normal(size=(n, n))
    A = (A + A.T) / 2
    expert = np.zeros(n)
    gender = np.full(n, -1, dtype=np.int64)  # -1: not protected
    slots = rng.random((n, 4)) < 0.3
    for g in range(m):
        mem = np.flatnonzero(hidden == g)
        expert[rng.choice(mem)] = 1.0
        gender[mem[:2 * int(rng.integers(0, size // 2 + 1))]] = 1
        slots[mem[: (size + 1) // 2], g % 4] = True
    pairs = rng.integers(0, n, size=(2 * n, 2))
    cl = pairs[hidden[pairs[:, 0]] != hidden[pairs[:, 1]]]
    p = Problem(A, min_size=size, max_size=size, n_groups=m, cannot_link=cl,
                group_sums=(GroupSum(expert, lo=1.0, name="expert"),), slots=slots,
                slot_quorum=0.5, no_singleton=(gender,))
    assert _broken(p, hidden, m) == []
    prep = prepare(p, m)
    start = greedy(prep, rng, force=True)
    assert start is not None
    fixed = min_conflicts(prep, start, seed=seed, deadline=time.perf_counter() + 10.0)
    assert fixed is not None
    assert _broken(p, prep.to_elements(fixed), m) == []


def test_repair_fixes_a_violating_start():
    # Two experts must be split over two groups; the start puts them together.
    A = np.zeros((8, 8))
    expert = np.array([1.0, 1, 0, 0, 0, 0, 0, 0])
    p = Problem(A, min_size=4, max_size=4, n_groups=2, cannot_link=[(2, 3)],
                group_sums=(GroupSum(expert, lo=1.0, name="expert"),))
    prep = prepare(p, 2)
    start = np.array([0, 0, 0, 0, 1, 1, 1, 1])   # both experts in 0, conflict 2-3 in 0
    assert _broken(p, start, 2)
    fixed = min_conflicts(prep, start, seed=1, deadline=time.perf_counter() + 5.0)
    assert fixed is not None and _broken(p, prep.to_elements(fixed), 2) == []
