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

from ._prep import Prepared

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


def greedy(prep: Prepared, rng: np.random.Generator) -> np.ndarray | None:
    """Unit labels of a grouping respecting sizes, cannot-link, allowed and group-sum caps.

    Returns None when the greedy gets stuck (some unit has no open group). Randomised only
    in tie-breaking through ``rng``.
    """
    nu, m = prep.nu, prep.m
    w = prep.w
    n = int(w.sum())
    target = target_sizes(prep.lo, prep.hi, n)
    if target is None:
        return None
    size = np.zeros(m, dtype=np.int64)
    labels = np.full(nu, -1, dtype=np.int64)
    open_ = prep.allowed.copy()             # allowed and no conflict with a placed unit
    deg = np.diff(prep.conf_ptr)
    W = np.zeros((nu, m))                    # affinity to members already placed
    R = prep.gs_lo.shape[0]
    S = np.zeros((R, m))
    noise = rng.random(nu) * 1e-3
    prio = deg * 1.0 + w * 0.5 + noise       # static tie-break: hardest units first
    unplaced = np.ones(nu, dtype=bool)
    for _ in range(nu):
        room = prep.hi - size
        fits = open_ & (w[:, None] <= room[None, :])
        n_open = fits.sum(axis=1).astype(float)
        key = np.where(unplaced, n_open - prio / (prio.max() + 1.0), np.inf)
        u = int(np.argmin(key))
        cand = fits[u].copy()
        if R:
            k0, k1 = prep.gs_ptr[u], prep.gs_ptr[u + 1]
            rows, coef = prep.gs_row[k0:k1], prep.gs_coef[k0:k1]
            if len(rows):
                new = S[rows] + coef[:, None]
                cand &= np.all(new <= prep.gs_hi[rows] + 1e-9, axis=0)
        if not cand.any():
            return None
        under = (target - size) >= w[u]
        deficit = (target - size) / np.maximum(target, 1)
        score = np.where(cand, under * 1e6 + deficit * 1e3, -np.inf)
        aff = W[u]
        span = np.abs(aff).max()
        if span > 0:
            score = score + 0.5 * aff / span
        g = int(np.argmax(score + rng.random(m) * 1e-6))
        labels[u] = g
        unplaced[u] = False
        size[g] += w[u]
        nb = prep.conf_idx[prep.conf_ptr[u]:prep.conf_ptr[u + 1]]
        open_[nb, g] = False
        W[:, g] += prep.A[:, u]
        if R:
            S[rows, g] += coef
    return labels
