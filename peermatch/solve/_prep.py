"""Problem preparation shared by every method: must-link units, rule arrays, a validator.

Internal module: the functions here assume a validated :class:`~peermatch.problem.Problem`
(its ``__post_init__`` checked shapes and ranges) with a fixed number of groups.

Must-link pairs are handled by *contraction*: every connected component of the must-link
graph becomes one **unit** that always moves as a whole. The local search and the greedy
construction work on units (weight = number of members, affinity between units = sum of
member affinities, pair sums inside a unit are a constant), so no move can ever split a
must-link pair. The CP-SAT models work on elements and state must-link as equalities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from ..problem import CONSTRAINT_NAMES, Problem, breaches

__all__ = ["Prepared", "prepare", "toy", "TOY_LABELS", "violations", "F_ALLOWED", "F_CANNOT_LINK",
           "F_GROUP_SUMS", "F_SLOTS", "F_NO_SINGLETON", "F_UNIT_WEIGHTS", "F_FREE"]

_EPS = 1e-9

#: Positions in ``Prepared.flags`` (the kernels take the flags as one int array).
F_ALLOWED, F_CANNOT_LINK, F_GROUP_SUMS, F_SLOTS, F_NO_SINGLETON, F_UNIT_WEIGHTS, F_FREE = range(7)


@dataclass
class Prepared:
    """Arrays of one problem with ``m`` groups, over must-link units (see module docstring)."""

    problem: Problem
    m: int
    unit_of: np.ndarray          # (n,) unit of each element
    members: list                # members[u] = element indices of unit u
    w: np.ndarray                # (nu,) unit weights (member counts)
    A: np.ndarray                # (nu, nu) contracted affinity, zero diagonal
    const: float                 # affinity inside units (always collected)
    lo: np.ndarray               # (m,) size bounds
    hi: np.ndarray
    conf_ptr: np.ndarray         # CSR of the unit conflict graph
    conf_idx: np.ndarray
    allowed: np.ndarray          # (nu, m) bool
    gs_ptr: np.ndarray           # per-unit sparse (row, coef) lists of the group sums
    gs_row: np.ndarray
    gs_coef: np.ndarray
    gs_lo: np.ndarray            # (R, m)
    gs_hi: np.ndarray
    slot_av: np.ndarray          # (nu, S) members available at each slot
    quorum: float
    ns_ptr: np.ndarray           # per-unit sparse (label key, count) lists of no_singleton
    ns_idx: np.ndarray
    ns_cnt: np.ndarray
    n_keys: int
    flags: np.ndarray            # has_allowed, has_cl, has_gs, has_slots, has_ns, unit_w, free
    contradictions: list         # rule families that contradict inside a unit

    @property
    def nu(self) -> int:
        return len(self.w)

    def to_elements(self, unit_labels: np.ndarray) -> np.ndarray:
        """Element labels from unit labels."""
        return np.asarray(unit_labels, dtype=np.int64)[self.unit_of]

    def match_labels(self, unit_labels: np.ndarray) -> np.ndarray:
        """Free-label mode: relabel groups so every size fits its own bounds (matching)."""
        lab = np.asarray(unit_labels, dtype=np.int64)
        if not self.flags[F_FREE]:
            return lab
        size = np.bincount(lab, weights=self.w, minlength=self.m).astype(np.int64)
        used = np.zeros(self.m, dtype=bool)
        to = np.empty(self.m, dtype=np.int64)
        for g in np.argsort(size, kind="stable"):
            ok = ~used & (self.lo <= size[g]) & (size[g] <= self.hi)
            if not ok.any():
                raise RuntimeError("peermatch internal error: group sizes match no bounds")
            k = int(np.flatnonzero(ok)[np.argmin(self.hi[ok])])
            used[k] = True
            to[g] = k
        return to[lab]

    def to_units(self, labels: np.ndarray) -> np.ndarray:
        """Unit labels from element labels (the label of each unit's first member)."""
        if len(self.members) == len(self.unit_of):
            return np.asarray(labels, dtype=np.int64)[self.unit_of]
        return np.asarray(labels, dtype=np.int64)[[mem[0] for mem in self.members]]


def _csr(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray | None, nrow: int):
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    ptr = np.zeros(nrow + 1, dtype=np.int64)
    np.add.at(ptr, rows + 1, 1)
    ptr = np.cumsum(ptr)
    return ptr, cols.astype(np.int64), (None if vals is None else vals[order])


def pair_adjacency(pairs: np.ndarray, n: int):
    """Symmetric ``n x n`` int8 CSR adjacency of index ``pairs`` (k, 2), or None if empty.

    >>> pair_adjacency(np.array([[0, 2]]), 3).toarray().tolist()
    [[0, 0, 1], [0, 0, 0], [1, 0, 0]]
    """
    import scipy.sparse as sp

    if not len(pairs):
        return None
    r = np.concatenate([pairs[:, 0], pairs[:, 1]])
    c = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return sp.csr_array((np.ones(len(r), dtype=np.int8), (r, c)), shape=(n, n))


def group_sum_matrix(sums) -> object:
    """The coefficients of ``sums`` (GroupSum) as an ``n x R`` CSR matrix, or None if empty.

    >>> from peermatch.problem import GroupSum
    >>> group_sum_matrix([GroupSum(coef=np.array([1.0, 0.0]))]).toarray().tolist()
    [[1.0], [0.0]]
    """
    import scipy.sparse as sp

    if not sums:
        return None
    cols = [sp.csc_array(np.asarray(s.coef, dtype=float).reshape(-1, 1)) for s in sums]
    return sp.csr_array(sp.hstack(cols, format="csr"))


def _units(problem: Problem) -> tuple[np.ndarray, list]:
    """The must-link units: the unit of each element and the members of each unit."""
    n = problem.n
    ml = problem.must_link
    if len(ml):
        g = coo_matrix((np.ones(len(ml)), (ml[:, 0], ml[:, 1])), shape=(n, n))
        _, comp = connected_components(g, directed=False)
        # Renumber units by their smallest member so unit order follows element order.
        first = np.full(comp.max() + 1, n, dtype=np.int64)
        np.minimum.at(first, comp, np.arange(n))
        rank = np.empty_like(first)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        unit_of = rank[comp].astype(np.int64)
    else:
        unit_of = np.arange(n, dtype=np.int64)
    nu = int(unit_of.max()) + 1 if n else 0
    order = np.argsort(unit_of, kind="stable")
    cuts = np.flatnonzero(np.diff(unit_of[order])) + 1
    if nu == n:  # no must-link: every unit is one element (no n-way split: it is slow)
        members = list(np.arange(n, dtype=np.int64).reshape(-1, 1))
    else:
        members = np.split(order, cuts) if n else []
    return unit_of, members


def _group_sum_arrays(problem: Problem, unit_of: np.ndarray, nu: int, m: int):
    """Per-unit sparse (rule, coefficient) lists of the group sums and their bounds."""
    R = len(problem.group_sums)
    if not R:
        return (np.zeros(nu + 1, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0),
                np.zeros((0, m)), np.zeros((0, m)))
    coef = np.zeros((nu, R))
    gs_lo = np.empty((R, m))
    gs_hi = np.empty((R, m))
    for r, s in enumerate(problem.group_sums):
        c = np.asarray(s.coef, dtype=float)
        np.add.at(coef[:, r], unit_of, c)
        gs_lo[r], gs_hi[r] = s.bounds(m)
    uu, rr = np.nonzero(coef)
    gs_ptr, gs_row, gs_coef = _csr(uu, rr, coef[uu, rr], nu)
    return gs_ptr, gs_row, gs_coef, gs_lo, gs_hi


def _no_singleton_arrays(problem: Problem, unit_of: np.ndarray, nu: int):
    """Per-unit sparse (label key, count) lists of the no-singleton rules, and the number
    of keys."""
    if not problem.no_singleton:
        return (np.zeros(nu + 1, dtype=np.int64), np.zeros(0, dtype=np.int64),
                np.zeros(0, dtype=np.int64), 0)
    keys, offset = [], 0
    for c in problem.no_singleton:
        k = np.where(c >= 0, c + offset, -1)
        keys.append(k)
        offset += int(c.max()) + 1 if len(c) and c.max() >= 0 else 0
    K = np.stack(keys, 1)  # (n, L)
    e_idx, col = np.nonzero(K >= 0)
    uk = np.stack([unit_of[e_idx], K[e_idx, col]], 1)
    pairs, cnt = np.unique(uk, axis=0, return_counts=True)
    ns_ptr, ns_idx, ns_cnt = _csr(pairs[:, 0], pairs[:, 1], cnt.astype(np.int64), nu)
    return ns_ptr, ns_idx, ns_cnt, offset


def prepare(problem: Problem, m: int, *, affinity: bool = True) -> Prepared:
    """Contract must-link components and build the rule arrays for ``m`` groups.

    ``affinity=False`` leaves the contracted affinity out (an empty ``A``): enough for the
    min-conflicts repair, which reads the rules only, at sizes where no ``n x n`` matrix
    exists.
    """
    n = problem.n
    A = problem.affinity
    bounds = problem.bounds_for(m)
    unit_of, members = _units(problem)
    nu = len(members)
    w = np.bincount(unit_of, minlength=nu).astype(np.int64)
    contradictions: list[str] = []

    if not affinity:
        Au, const = np.zeros((0, 0)), 0.0
    elif nu == n:
        # Shared, not copied: at n = 10,000 the matrix is 800 MB. Nothing writes to it.
        Au = A if A.dtype == np.float64 else A.astype(np.float64)
        const = 0.0
    else:
        Z = np.zeros((n, nu))
        Z[np.arange(n), unit_of] = 1.0
        Au = Z.T @ A @ Z
        const = 0.5 * float(np.trace(Au))
        np.fill_diagonal(Au, 0.0)
    Au = np.ascontiguousarray(Au, dtype=np.float64)  # one compiled specialisation

    # Cannot-link between units; a cannot-link pair inside a unit is a contradiction.
    cl = problem.cannot_link
    if len(cl):
        ua, ub = unit_of[cl[:, 0]], unit_of[cl[:, 1]]
        if np.any(ua == ub):
            contradictions += [CONSTRAINT_NAMES["must_link"], CONSTRAINT_NAMES["cannot_link"]]
        keep = ua != ub
        pairs = np.unique(np.sort(np.stack([ua[keep], ub[keep]], 1), axis=1), axis=0)
        rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
        cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
        conf_ptr, conf_idx, _ = _csr(rows, cols, None, nu)
    else:
        conf_ptr, conf_idx = np.zeros(nu + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)

    if problem.allowed is not None:
        allowed = np.ones((nu, m), dtype=bool)
        np.logical_and.at(allowed, unit_of, problem.allowed)
        if np.any(~allowed.any(axis=1)):
            contradictions.append(CONSTRAINT_NAMES["allowed"])
    else:
        allowed = np.ones((nu, m), dtype=bool)

    R = len(problem.group_sums)
    gs_ptr, gs_row, gs_coef, gs_lo, gs_hi = _group_sum_arrays(problem, unit_of, nu, m)

    if problem.slots is not None:
        S = problem.slots.shape[1]
        slot_av = np.zeros((nu, S), dtype=np.int64)
        np.add.at(slot_av, unit_of, problem.slots.astype(np.int64))
    else:
        slot_av = np.zeros((nu, 0), dtype=np.int64)

    ns_ptr, ns_idx, ns_cnt, n_keys = _no_singleton_arrays(problem, unit_of, nu)

    # Free-label mode: when groups differ by their size bounds only, the local search
    # treats groups as unlabelled (any size multiset matchable to the bounds is feasible)
    # and labels are assigned by a matching at the end.
    free = (problem.allowed is None and bool(np.all(w == 1))
            and not np.all(bounds == bounds[0])
            and all(np.all(gs_lo[r] == gs_lo[r, 0]) and np.all(gs_hi[r] == gs_hi[r, 0])
                    for r in range(R)))
    flags = np.array([problem.allowed is not None, len(conf_idx) > 0, R > 0,
                      problem.slots is not None, n_keys > 0, bool(np.all(w == 1)), free],
                     dtype=np.int64)
    return Prepared(problem, m, unit_of, members, w, Au, const,
                    bounds[:, 0].astype(np.int64).copy(), bounds[:, 1].astype(np.int64).copy(),
                    conf_ptr, conf_idx, np.ascontiguousarray(allowed), gs_ptr, gs_row,
                    np.asarray(gs_coef, dtype=float), np.ascontiguousarray(gs_lo),
                    np.ascontiguousarray(gs_hi), np.ascontiguousarray(slot_av),
                    float(problem.slot_quorum), ns_ptr, ns_idx,
                    np.asarray(ns_cnt, dtype=np.int64), n_keys, flags, contradictions)


def violations(problem: Problem, labels: np.ndarray, m: int | None = None) -> list[str]:
    """Every hard rule a labelling breaks, as plain sentences (empty list = valid).

    A summary per constraint (count and first example) of
    :func:`peermatch.problem.breaches`, the one implementation of the checks.

    >>> import numpy as np
    >>> from peermatch.problem import Problem
    >>> violations(Problem(np.ones((4, 4)), min_size=2, max_size=2, cannot_link=[(0, 1)]),
    ...            np.array([0, 0, 1, 1]))
    ['cannot-link pairs: 1 pair(s) share a group, e.g. elements 0 and 1']
    """
    labels = np.asarray(labels, dtype=np.int64)
    n = problem.n
    if m is None:
        m = problem.n_groups if problem.n_groups is not None else int(labels.max()) + 1
    if labels.shape != (n,) or labels.min(initial=0) < 0 or labels.max(initial=0) >= m:
        return [f"labels must be {n} integers in 0..{m - 1}"]
    out: list[str] = []
    size = None
    for b in breaches(problem, labels, m):
        first = int(b.items[0])
        if b.kind == "sizes":
            bd = problem.bounds_for(m)
            size = np.bincount(labels, minlength=m) if size is None else size
            out.append(f"group sizes: {len(b.items)} group(s) out of bounds, e.g. group {first} "
                       f"has {size[first]} members, bounds [{bd[first, 0]}, {bd[first, 1]}]")
        elif b.kind == "cannot_link":
            i, j = problem.cannot_link[first]
            out.append(f"cannot-link pairs: {len(b.items)} pair(s) share a group, "
                       f"e.g. elements {i} and {j}")
        elif b.kind == "must_link":
            i, j = problem.must_link[first]
            out.append(f"must-link pairs: {len(b.items)} pair(s) are apart, "
                       f"e.g. elements {i} and {j}")
        elif b.kind == "allowed":
            out.append(f"allowed groups: {len(b.items)} element(s) in a group they may not "
                       f"join, e.g. element {first}")
        elif b.kind == "group_sums":
            s = problem.group_sums[b.index]
            lo, hi = s.bounds(m)
            tot = float(np.asarray(s.coef, dtype=float)[labels == first].sum())
            out.append(f"{s.name}: group {first} sums to {tot:g}, bounds [{lo[first]:g}, "
                       f"{hi[first]:g}]")
        elif b.kind == "slots":
            size = np.bincount(labels, minlength=m) if size is None else size
            need = math.ceil(problem.slot_quorum * size[first] - _EPS)
            out.append(f"common meeting slot: group {first} has no slot with {need} of its "
                       f"{size[first]} members available")
        elif b.kind == "no_singleton":
            alone = len(b.items)
            out.append(f"no isolated member: rule {b.index} leaves {alone} "
                       "member(s) alone with their label in a group")
    return out


#: The labels of :func:`toy`'s problem: two groups of three.
TOY_LABELS = (0, 0, 0, 1, 1, 1)


def toy(rules: bool) -> Prepared:
    """Six candidates in two groups of 2-4, with one cannot-link pair when ``rules``: the
    input the kernels' warm-ups compile on (every argument with its real dtype)."""
    A = np.ones((6, 6)) - np.eye(6)
    kw = {"cannot_link": [(0, 3)]} if rules else {}
    return prepare(Problem(A, bounds=[(2, 4), (2, 4)], **kw), 2)
