"""Sub-problems of a grouping: the members of a few groups, re-assigned among those groups.

Internal module. The objective is a sum over groups and every hard rule is a rule about
one group's members, so "re-optimise the members of groups ``G1..Gk``, the other groups
fixed" is an exact, self-contained problem: its members, their affinity block and the
rules restricted to them (:func:`subproblem`). Its solution is written back with
:func:`write_back`. :class:`RuleIndex` keeps the whole problem's rules in forms that
restrict fast to a set of rows; :mod:`peermatch.solve.decompose` searches with these.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .. import core
from ..problem import GroupSum, Problem
from ._prep import group_sum_matrix, pair_adjacency

__all__ = ["SUB_MEMBERS", "SUB_GROUPS", "default_sub_size", "sub_groups", "nearly_whole",
           "SubProblem", "RuleIndex", "subproblem", "write_back"]

_EPS = 1e-9


#: Members and groups per sub-problem at most (the tuning constant ``sub_size`` sets the members).
SUB_MEMBERS, SUB_GROUPS = 240, 24


def default_sub_size(n: int, m: int) -> int:
    """Members per sub-problem: large enough for the kernel to shine, small enough to be fast.

    At most 240 members and 24 groups: with small groups (4-6) a sub-problem of 240
    members holds 48 groups, and the tabu search's neighbourhood (members x groups) is
    twice as slow to scan for no more scope (benchmarks/options_ab.py,
    benchmarks/results/options_ab_sub_size.csv).
    """
    return int(max(2, min(n, SUB_MEMBERS, round(SUB_GROUPS * n / max(m, 1)))))


def sub_groups(size: int, n: int, m: int) -> int:
    """Groups per sub-problem of about ``size`` members, with ``n`` members in ``m``
    groups: at least 2, at most ``m``.

    >>> sub_groups(240, 1000, 84), sub_groups(default_sub_size(198, 14), 198, 14)
    (20, 14)
    """
    mean = n / max(m, 1)
    return int(min(np.clip(round(size / max(mean, 1.0)), 2, max(m, 2)), m))


def nearly_whole(n: int, m: int) -> bool:
    """Would a sub-problem of the default size hold three quarters of the ``m`` groups or
    more? The decomposition then restarts (nearly) the whole problem from its best
    grouping with short runs and no perturbation, and the whole-problem search does
    better: on tiers of 198 and 295 members in 14 and 21 groups (groups of 12-16, 2 s and
    3 s), the population search gained 0.4-0.6 % over sub-problems of 14 and 17 groups.

    >>> nearly_whole(198, 14), nearly_whole(507, 36), nearly_whole(200, 40)
    (True, False, False)
    """
    return sub_groups(default_sub_size(n, m), n, m) >= 0.75 * m


@dataclass
class SubProblem:
    """The members of ``groups`` as a :class:`Problem` with ``len(groups)`` groups."""

    groups: np.ndarray      # (k,) global group ids; local group g is groups[g]
    rows: np.ndarray        # (s,) global element ids, local element a is rows[a]
    problem: Problem | None  # local problem (fixed group count, bounds of those groups);
    #                          None for a lean sub-problem (see DecompositionSearch)
    labels: np.ndarray      # (s,) current local labels
    value: float            # current objective of the sub-problem (NaN on a lean one
    #                          until its search is loaded: DecompositionSearch._search)
    block: np.ndarray | None = None  # (s, s) affinity block of ``rows``


class RuleIndex:
    """Rules of the whole problem in forms that restrict fast to a set of rows."""

    def __init__(self, problem: Problem):
        n = problem.n
        self.n = n
        self.cl = pair_adjacency(problem.cannot_link, n)
        self.ml = pair_adjacency(problem.must_link, n)
        sums = problem.group_sums
        self.sums = sums
        self.m = problem.n_groups
        R = len(sums)
        self.lo = np.empty((R, self.m))
        self.hi = np.empty((R, self.m))
        self.clique = np.zeros(R, dtype=bool)
        if R:
            for r, s in enumerate(sums):
                c = np.asarray(s.coef, dtype=float)
                self.lo[r], self.hi[r] = s.bounds(self.m)
                # "At most one member of this set per group" (competitors): inside a
                # sub-problem it is a clique of cannot-link pairs, which the kernel checks
                # in O(1) per move, instead of a group sum.
                nz = c[c != 0]
                self.clique[r] = (bool(np.all(nz == 1.0)) and bool(np.all(self.hi[r] == 1.0))
                                  and bool(np.all(self.lo[r] <= 0.0)))
        self.coef = group_sum_matrix(sums)
        self.zero_ok = np.all(self.lo <= _EPS, axis=1) & np.all(self.hi >= -_EPS, axis=1)
        # Lean sub-problems (no Problem, no scipy: see DecompositionSearch._compute_lean)
        # when the rules are sizes, cannot-link pairs and clique sets only: the common case
        # (competitors, conflicts), where building a validated Problem cost more than
        # solving it.
        self.lean = (self.ml is None and problem.allowed is None and problem.slots is None
                     and not problem.no_singleton and bool(np.all(self.clique)))
        if self.lean:
            if self.cl is not None:
                self.cl_ptr = self.cl.indptr.astype(np.int64)
                self.cl_idx = self.cl.indices.astype(np.int64)
            else:
                self.cl_ptr, self.cl_idx = np.zeros(n + 1, np.int64), np.zeros(0, np.int64)
            if self.coef is not None:
                self.cq_ptr = self.coef.indptr.astype(np.int64)
                self.cq_idx = self.coef.indices.astype(np.int64)
            else:
                self.cq_ptr, self.cq_idx = np.zeros(n + 1, np.int64), np.zeros(0, np.int64)

    @staticmethod
    def _pairs(M, rows, pos):
        sub = M[rows]
        sub = sp.coo_array(sub)
        keep = pos[sub.col] >= 0
        a, b = sub.row[keep], pos[sub.col[keep]]
        upper = a < b
        return np.stack([a[upper], b[upper]], 1).astype(np.int64)


def subproblem(problem: Problem, labels: np.ndarray, groups: np.ndarray, *,
               members: list[np.ndarray] | None = None, index: RuleIndex | None = None,
               pos: np.ndarray | None = None) -> SubProblem:
    """The sub-problem of re-assigning the members of ``groups`` among those groups.

    Parameters
    ----------
    problem : Problem
        The whole problem, with a fixed number of groups.
    labels : ndarray of shape (n,)
        A valid grouping of the whole problem.
    groups : ndarray of shape (k,)
        Distinct group ids.
    members, index, pos
        Caches of :class:`DecompositionSearch` (members of each group, the rule index, an
        ``n``-long scratch array of ``-1``); computed when omitted.

    Returns
    -------
    SubProblem

    Examples
    --------
    >>> import numpy as np
    >>> A = np.arange(36, dtype=float).reshape(6, 6); A = A + A.T; np.fill_diagonal(A, 0)
    >>> p = Problem(A, min_size=2, max_size=2, n_groups=3, cannot_link=[(0, 2)])
    >>> sub = subproblem(p, np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1]))
    >>> sub.rows.tolist(), sub.labels.tolist(), sub.problem.cannot_link.tolist()
    ([0, 1, 2, 3], [0, 0, 1, 1], [[0, 2]])
    """
    groups = np.asarray(groups, dtype=np.int64)
    m = problem.n_groups
    if members is None:
        rows = np.flatnonzero(np.isin(labels, groups))
    else:
        rows = np.sort(np.concatenate([members[g] for g in groups]))
    if index is None:
        index = RuleIndex(problem)
    own_pos = pos is None
    if own_pos:
        pos = np.full(problem.n, -1, dtype=np.int64)
    pos[rows] = np.arange(len(rows))
    try:
        gpos = np.full(m, -1, dtype=np.int64)
        gpos[groups] = np.arange(len(groups))
        local = gpos[labels[rows]]
        bounds = problem.bounds_for(m)[groups]
        cl = index._pairs(index.cl, rows, pos) if index.cl is not None else None
        ml = index._pairs(index.ml, rows, pos) if index.ml is not None else None
        sums = []
        if index.coef is not None:
            Cd = index.coef[rows].toarray()               # (s, R), small
            present = np.any(Cd != 0, axis=0)
            cq = present & index.clique
            if cq.any():
                # pairs of members sharing a clique set (an equality table, no BLAS:
                # a tiny matrix product costs more in thread start-up than this)
                a_idx, r_idx = np.nonzero(Cd[:, cq])
                i, j = np.nonzero(np.triu(r_idx[:, None] == r_idx[None, :], 1))
                if len(i):
                    extra = np.unique(np.sort(np.stack([a_idx[i], a_idx[j]], 1), axis=1),
                                      axis=0).astype(np.int64)
                    cl = extra if cl is None else np.concatenate([cl, extra])
            for r in np.flatnonzero(present & ~index.clique):
                sums.append(GroupSum(coef=Cd[:, r].copy(), lo=index.lo[r, groups],
                                     hi=index.hi[r, groups], name=index.sums[r].name))
            # A rule with no member here still binds when 0 is outside its bounds (a valid
            # grouping never has such a group, but the sub-problem stays exact anyway).
            for r in np.flatnonzero(~present & ~index.zero_ok):
                sums.append(GroupSum(coef=np.zeros(len(rows)), lo=index.lo[r, groups],
                                     hi=index.hi[r, groups], name=index.sums[r].name))
        allowed = None
        if problem.allowed is not None:
            allowed = problem.allowed[np.ix_(rows, groups)]
        slots = problem.slots[rows] if problem.slots is not None else None
        ns = tuple(np.asarray(c)[rows] for c in problem.no_singleton)
        A = np.asarray(core.block(problem.affinity, rows), dtype=np.float64)
        sub = Problem(A, bounds=bounds, cannot_link=cl, must_link=ml, allowed=allowed,
                      group_sums=tuple(sums), slots=slots, slot_quorum=problem.slot_quorum,
                      no_singleton=ns)
    finally:
        pos[rows] = -1
    # pairs in the same local group, from the block at hand (no per-group split)
    return SubProblem(groups, rows, sub, local, _local_value(A, local), A)


def _local_value(A: np.ndarray, local: np.ndarray) -> float:
    """Objective of the local labels ``local`` on the block ``A`` (no per-group split)."""
    same = local[:, None] == local[None, :]
    return 0.5 * float(np.sum(A, where=same))


def write_back(labels: np.ndarray, sub: SubProblem, new_local: np.ndarray) -> None:
    """Write a sub-problem's grouping into the global ``labels`` (in place)."""
    labels[sub.rows] = sub.groups[np.asarray(new_local, dtype=np.int64)]
