"""Greedy construction of a feasible grouping (graph-colouring view of the conflict graph).

Internal module: works on the must-link units of a :class:`~peermatch.solve._prep.Prepared`.

The greedy is DSATUR-like: at each step it places the unit with the *fewest* groups still
open to it (no cannot-link partner inside, allowed, room left), ties broken by conflict
degree and weight, into the open group that is furthest below its target size (targets
spread ``n`` over the groups between their bounds), ties broken by affinity to the members
already there. Group-sum upper bounds are checked on placement. Lower bounds of group sums,
meeting slots and no-singleton rules are not steered; when the result breaks any rule the
caller falls back to CP-SAT. Runs in ``O(nu * m)`` vector work per step.
"""

from __future__ import annotations

import numpy as np

from ._prep import Prepared, group_sum_matrix, pair_adjacency

__all__ = ["greedy", "target_sizes"]


def target_sizes(lo: np.ndarray, hi: np.ndarray, n: int) -> np.ndarray | None:
    """Sizes within ``[lo, hi]`` summing to ``n``, as even as possible (None if impossible)."""
    if lo.sum() > n or hi.sum() < n:
        return None
    t = lo.copy()
    rest = n - int(t.sum())
    while rest > 0:
        room = hi - t
        open_ = np.flatnonzero(room > 0)
        # Raise the currently smallest groups first (water filling).
        level = t[open_].min()
        low = open_[t[open_] == level]
        k = min(rest, len(low))
        t[low[:k]] += 1
        rest -= k
    return t


def greedy(prep: Prepared, rng: np.random.Generator, *, force: bool = False,
           affinity_first: bool = False) -> np.ndarray | None:
    """Unit labels of a grouping respecting sizes, cannot-link, allowed and group-sum caps.

    Returns None when the greedy gets stuck (some unit has no open group). With
    ``force=True`` a stuck unit goes to the allowed group with room that is furthest
    below its target instead, breaking a cannot-link pair or a cap, which
    :func:`~peermatch.solve.min_conflicts.min_conflicts` then mends. Randomised only in tie-breaking
    through ``rng``.

    The number of groups still open to each unit is kept up to date incrementally (a
    placement only closes the group for the placed unit's conflict partners and, once
    the group's room shrinks, for units too heavy for what is left), so each step costs
    ``O(nu + m)`` plus the unit's degree, and the whole greedy ``O(nu^2 + nu m)``.
    """
    nu, m = prep.nu, prep.m
    w = prep.w
    n = int(w.sum())
    target = target_sizes(prep.lo, prep.hi, n)
    if target is None:
        return None
    size = np.zeros(m, dtype=np.int64)
    labels = np.full(nu, -1, dtype=np.int64)
    # Group-major layouts (m x nu): each placement touches one contiguous row.
    open_t = np.ascontiguousarray(prep.allowed.T)  # allowed, no conflict with a placed unit
    room = (prep.hi - size).astype(np.int64)
    n_open = (open_t & (w[None, :] <= room[:, None])).sum(axis=0).astype(np.float64)
    deg = np.diff(prep.conf_ptr)
    W_t = np.zeros((m, nu))                  # affinity to the members already placed
    R = prep.gs_lo.shape[0]
    S = np.zeros((R, m))
    noise = rng.random(nu) * 1e-3
    prio = deg * 1.0 + w * 0.5 + noise       # static tie-break: hardest units first
    tie = prio / (prio.max() + 1.0) if nu else prio
    key = n_open - tie                        # fewest open groups first (DSATUR)
    A = prep.A
    for _ in range(nu):
        u = int(np.argmin(key))
        cand = open_t[:, u] & (w[u] <= room)
        if R:
            k0, k1 = prep.gs_ptr[u], prep.gs_ptr[u + 1]
            rows, coef = prep.gs_row[k0:k1], prep.gs_coef[k0:k1]
            if len(rows):
                new = S[rows] + coef[:, None]
                cand &= np.all(new <= prep.gs_hi[rows] + 1e-9, axis=0)
        if not cand.any():
            if not force:
                return None
            cand = prep.allowed[u] & (w[u] <= room)
            if not cand.any():
                return None
        under = (target - size) >= w[u]
        deficit = (target - size) / np.maximum(target, 1)
        aff = W_t[:, u]
        span = np.abs(aff).max()
        if affinity_first:
            score = np.where(cand, under * 1e6 + deficit * 1e-3, -np.inf)
            if span > 0:
                score = score + 1e3 * aff / span
        else:
            score = np.where(cand, under * 1e6 + deficit * 1e3, -np.inf)
            if span > 0:
                score = score + 0.5 * aff / span
        g = int(np.argmax(score + rng.random(m) * 1e-6))
        labels[u] = g
        key[u] = np.inf
        r0 = room[g]
        r1 = r0 - w[u]
        # The placed unit's conflict partners lose g (if it still counted for them).
        nb = prep.conf_idx[prep.conf_ptr[u]:prep.conf_ptr[u + 1]]
        row = open_t[g]
        lose = nb[row[nb] & (w[nb] <= r0)]
        n_open[lose] -= 1
        key[lose] -= 1                        # placed units stay at inf
        row[nb] = False
        # Units too heavy for the room left lose g as well.
        if r1 < w.max():
            heavy = row & (w > r1) & (w <= r0)
            heavy[u] = False
            n_open[heavy] -= 1
            key[heavy] -= 1
        room[g] = r1
        size[g] += w[u]
        W_t[g] += A[u]  # the row (contiguous) equals the column: A is symmetric
        if R:
            S[rows, g] += coef
    return labels


def stream_greedy(problem, m: int, rng: np.random.Generator) -> np.ndarray | None:
    """Element labels respecting sizes, competitor sets, cannot-link and caps, in
    ``O(n log n + n * deg)``: no affinity is read, nothing ``n x m`` is held.

    The construction for large problems (the search that follows does the optimising).
    Members of large "at most one per group" sets (competitors) come first, set by set,
    each to the next group in a round-robin order that is below its target size and
    takes it (no cannot-link partner inside, allowed, caps kept); a set of ``k``
    members then lands in ``k`` different groups as long as ``k <= m``. Must-link pairs
    are not supported here (the caller uses :func:`greedy` for them). Returns None when
    some element finds no group.
    """
    import scipy.sparse as sp

    n = problem.n
    bounds = problem.bounds_for(m)
    lo, hi = bounds[:, 0].astype(np.int64), bounds[:, 1].astype(np.int64)
    target = target_sizes(lo, hi, n)
    if target is None:
        return None
    sums = problem.group_sums
    R = len(sums)
    # element -> (sum, coef) lists; sums' per-group totals and bounds
    if R:
        coef = group_sum_matrix(sums)
        ghi = np.stack([s.bounds(m)[1] for s in sums])
        size_of = np.asarray((coef != 0).sum(axis=0)).ravel()
        # hardest first: members of the largest sets, set by set
        key_set = np.full(n, -1, dtype=np.int64)
        best = np.zeros(n)
        cc = sp.coo_array(coef)
        for r in np.argsort(size_of, kind="stable"):  # the largest set wins ties last
            rows = cc.row[cc.col == r]
            key_set[rows] = r
            best[rows] = size_of[r]
    else:
        coef = None
        key_set = np.full(n, -1, dtype=np.int64)
        best = np.zeros(n)
    adj = pair_adjacency(problem.cannot_link, n)
    deg = np.diff(adj.indptr) if adj is not None else np.zeros(n, dtype=np.int64)
    order = np.lexsort((rng.random(n), key_set, -deg, -best))
    S = np.zeros((R, m))
    size = np.zeros(m, dtype=np.int64)
    labels = np.full(n, -1, dtype=np.int64)
    allowed = problem.allowed
    ptr = int(rng.integers(m)) if m else 0
    for i in order:
        if coef is not None:
            k0, k1 = coef.indptr[i], coef.indptr[i + 1]
            rows_i, coef_i = coef.indices[k0:k1], coef.data[k0:k1]
        if adj is not None:
            nb = adj.indices[adj.indptr[i]:adj.indptr[i + 1]]
            taken = labels[nb]
            taken = taken[taken >= 0]
        placed = False
        for phase in (0, 1):
            cap = target if phase == 0 else hi
            for step in range(m):
                g = (ptr + step) % m
                if size[g] >= cap[g]:
                    continue
                if allowed is not None and not allowed[i, g]:
                    continue
                if adj is not None and len(taken) and np.any(taken == g):
                    continue
                if coef is not None and len(rows_i) and np.any(
                        S[rows_i, g] + coef_i > ghi[rows_i, g] + 1e-9):
                    continue
                labels[i] = g
                size[g] += 1
                if coef is not None and len(rows_i):
                    S[rows_i, g] += coef_i
                ptr = (g + 1) % m
                placed = True
                break
            if placed:
                break
        if not placed:
            return None
    return labels
