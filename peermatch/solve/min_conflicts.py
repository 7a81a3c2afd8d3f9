"""Violation repair: from a start that keeps the structural rules to one that keeps them all.

Internal module: works on the must-link units of a :class:`~peermatch.solve._prep.Prepared`.

The greedy construction keeps group sizes, cannot-link pairs, allowed groups and the upper
bounds of group sums when it can, but it does not steer lower bounds of group sums (at
least one expert per group, even spread, hard balance), the common meeting slot or the
no-isolated rule, and under many conflicts it may have to break a cannot-link pair
(``force=True``). This module closes that gap with a min-conflicts tabu search: sizes and
allowed groups stay hard in every move, and the other rules are measured by a violation

    V(p) = sum over groups g of
             max(0, lo[g] - |g|)  (members missing to reach the minimum size)
           + number of cannot-link pairs inside g
           + sum over group sums r of  max(0, lo[r,g] - S[r,g], S[r,g] - hi[r,g]) / scale[r]
           + max(0, ceil(q |g|) - max_t count of members of g available at slot t)
           + number of protected labels held by exactly one member of g

which the search drives to zero with moves (a unit to another group) and swaps (two
units of two groups), picking the best non-tabu step from a violated group at each
iteration. Affinity plays no part here: the compiled local search optimises it afterwards
under every rule. Each step is evaluated in ``O(rules touched by the units)``.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit

from .._jitcfg import CACHE
from ._prep import Prepared

__all__ = ["compile_now", "min_conflicts"]

_EPS = 1e-9


@njit(cache=CACHE)
def _pen(s, lo, hi):
    if s < lo - _EPS:
        return lo - s
    if s > hi + _EPS:
        return s - hi
    return 0.0


@njit(cache=CACHE)
def _need(size, quorum):
    return np.ceil(quorum * size - 1e-9)


@njit(cache=CACHE)
def _group_viol(g, size, S, gs_lo, gs_hi, scale, cnt_slot, quorum, cnt_ns, clc, lo):
    v = float(clc[g]) + max(0, lo[g] - size[g])
    for r in range(S.shape[0]):
        v += _pen(S[r, g], gs_lo[r, g], gs_hi[r, g]) / scale[r]
    T = cnt_slot.shape[1]
    if T > 0:
        best = 0
        for t in range(T):
            if cnt_slot[g, t] > best:
                best = cnt_slot[g, t]
        v += max(0.0, _need(size[g], quorum) - best)
    for k in range(cnt_ns.shape[0]):
        if cnt_ns[k, g] == 1:
            v += 1.0
    return v


@njit(cache=CACHE)
def _slot_viol(cnt_row, size, quorum, av_minus, av_plus):
    """Slot violation of a group whose counts change by ``av_plus - av_minus``."""
    T = cnt_row.shape[0]
    if T == 0:
        return 0.0
    best = 0
    for t in range(T):
        c = cnt_row[t] - av_minus[t] + av_plus[t]
        if c > best:
            best = c
    return max(0.0, _need(size, quorum) - best)


@njit(cache=CACHE)
def _delta(u, v, g, h, lab, w, lo, size, S, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi, scale,
           slot_av, cnt_slot, quorum, ns_ptr, ns_idx, ns_cnt, cnt_ns, dS, dK, zero_av, NB, uv):
    """Change of V when unit u moves g -> h and (v >= 0) unit v moves h -> g.

    ``uv`` is 1 when u and v are a cannot-link pair (then they stay apart after a swap).
    """
    # Minimum sizes (a forced start may leave a group short) and cannot-link pairs.
    wv0 = w[v] if v >= 0 else 0
    d = float(max(0, lo[g] - (size[g] - w[u] + wv0)) - max(0, lo[g] - size[g])
              + max(0, lo[h] - (size[h] + w[u] - wv0)) - max(0, lo[h] - size[h]))
    d += float(NB[u, h] - NB[u, g])
    if v >= 0:
        d += float(NB[v, g] - NB[v, h] - 2 * uv)
    # Group sums: accumulate the change of S[:, g] in dS (S[:, h] changes by -dS).
    for k in range(gs_ptr[u], gs_ptr[u + 1]):
        dS[gs_row[k]] -= gs_coef[k]
    if v >= 0:
        for k in range(gs_ptr[v], gs_ptr[v + 1]):
            dS[gs_row[k]] += gs_coef[k]
    for k in range(gs_ptr[u], gs_ptr[u + 1]):
        d += _rowdelta(gs_row[k], g, h, S, dS, gs_lo, gs_hi, scale)
    if v >= 0:
        for k in range(gs_ptr[v], gs_ptr[v + 1]):
            d += _rowdelta(gs_row[k], g, h, S, dS, gs_lo, gs_hi, scale)
    for k in range(gs_ptr[u], gs_ptr[u + 1]):
        dS[gs_row[k]] = 0.0
    if v >= 0:
        for k in range(gs_ptr[v], gs_ptr[v + 1]):
            dS[gs_row[k]] = 0.0
    # Meeting slot of both groups.
    wv = w[v] if v >= 0 else 0
    sg, sh = size[g] - w[u] + wv, size[h] + w[u] - wv
    if slot_av.shape[1] > 0:
        av_v = slot_av[v] if v >= 0 else zero_av
        d += _slot_viol(cnt_slot[g], sg, quorum, slot_av[u], av_v)
        d += _slot_viol(cnt_slot[h], sh, quorum, av_v, slot_av[u])
        d -= _slot_viol(cnt_slot[g], size[g], quorum, zero_av, zero_av)
        d -= _slot_viol(cnt_slot[h], size[h], quorum, zero_av, zero_av)
    # Protected labels: dK holds the change of the counts in g (h changes by -dK).
    if ns_ptr[-1] > 0:
        for k in range(ns_ptr[u], ns_ptr[u + 1]):
            dK[ns_idx[k]] -= ns_cnt[k]
        if v >= 0:
            for k in range(ns_ptr[v], ns_ptr[v + 1]):
                dK[ns_idx[k]] += ns_cnt[k]
        d += _nsdelta(u, g, h, ns_ptr, ns_idx, cnt_ns, dK)
        if v >= 0:
            d += _nsdelta(v, g, h, ns_ptr, ns_idx, cnt_ns, dK)
        for k in range(ns_ptr[u], ns_ptr[u + 1]):
            dK[ns_idx[k]] = 0
        if v >= 0:
            for k in range(ns_ptr[v], ns_ptr[v + 1]):
                dK[ns_idx[k]] = 0
    return d


@njit(cache=CACHE)
def _rowdelta(r, g, h, S, dS, gs_lo, gs_hi, scale):
    """Change of the penalty of row r in g and h; counted once per row (dS marks it)."""
    if dS[r] == 0.0:
        return 0.0
    x = dS[r]
    out = (_pen(S[r, g] + x, gs_lo[r, g], gs_hi[r, g]) - _pen(S[r, g], gs_lo[r, g], gs_hi[r, g])
           + _pen(S[r, h] - x, gs_lo[r, h], gs_hi[r, h]) - _pen(S[r, h], gs_lo[r, h],
                                                                gs_hi[r, h])) / scale[r]
    dS[r] = 1e-300 if x > 0 else -1e-300  # mark as counted (tiny, never a real change)
    return out


@njit(cache=CACHE)
def _nsdelta(u, g, h, ns_ptr, ns_idx, cnt_ns, dK):
    d = 0.0
    for k in range(ns_ptr[u], ns_ptr[u + 1]):
        key = ns_idx[k]
        x = dK[key]
        if x == 0:
            continue
        before = (cnt_ns[key, g] == 1) + (cnt_ns[key, h] == 1)
        after = (cnt_ns[key, g] + x == 1) + (cnt_ns[key, h] - x == 1)
        d += after - before
        dK[key] = 0  # counted once
    return d


@njit(cache=CACHE)
def _apply(u, g, h, lab, w, size, S, gs_ptr, gs_row, gs_coef, slot_av, cnt_slot, ns_ptr,
           ns_idx, ns_cnt, cnt_ns, NB, clc, conf_ptr, conf_idx):
    clc[g] -= NB[u, g]
    clc[h] += NB[u, h]
    for k in range(conf_ptr[u], conf_ptr[u + 1]):
        j = conf_idx[k]
        NB[j, g] -= 1
        NB[j, h] += 1
    lab[u] = h
    size[g] -= w[u]
    size[h] += w[u]
    for k in range(gs_ptr[u], gs_ptr[u + 1]):
        S[gs_row[k], g] -= gs_coef[k]
        S[gs_row[k], h] += gs_coef[k]
    for t in range(slot_av.shape[1]):
        cnt_slot[g, t] -= slot_av[u, t]
        cnt_slot[h, t] += slot_av[u, t]
    for k in range(ns_ptr[u], ns_ptr[u + 1]):
        cnt_ns[ns_idx[k], g] -= ns_cnt[k]
        cnt_ns[ns_idx[k], h] += ns_cnt[k]


@njit(cache=CACHE)
def _adjacent(u, v, conf_ptr, conf_idx):
    for k in range(conf_ptr[u], conf_ptr[u + 1]):
        if conf_idx[k] == v:
            return 1
    return 0


@njit(cache=CACHE)
def repair_run(lab, w, lo, hi, conf_ptr, conf_idx, allowed, gs_ptr, gs_row, gs_coef, gs_lo,
               gs_hi, scale, slot_av, quorum, ns_ptr, ns_idx, ns_cnt, n_keys, tabu,
               it0, n_iter, n_swap, seed):
    """Run up to ``n_iter`` repair steps in place; returns (violation left, iterations)."""
    np.random.seed(seed)
    nu = lab.shape[0]
    m = lo.shape[0]
    R = gs_lo.shape[0]
    T = slot_av.shape[1]
    size = np.zeros(m, dtype=np.int64)
    S = np.zeros((R, m))
    cnt_slot = np.zeros((m, T), dtype=np.int64)
    cnt_ns = np.zeros((n_keys, m), dtype=np.int64)
    NB = np.zeros((nu, m), dtype=np.int32)   # cannot-link partners of each unit per group
    clc = np.zeros(m, dtype=np.int64)        # cannot-link pairs inside each group
    for u in range(nu):
        for k in range(conf_ptr[u], conf_ptr[u + 1]):
            j = conf_idx[k]
            NB[u, lab[j]] += 1
            if j > u and lab[j] == lab[u]:
                clc[lab[u]] += 1
    for u in range(nu):
        g = lab[u]
        size[g] += w[u]
        for k in range(gs_ptr[u], gs_ptr[u + 1]):
            S[gs_row[k], g] += gs_coef[k]
        for t in range(T):
            cnt_slot[g, t] += slot_av[u, t]
        for k in range(ns_ptr[u], ns_ptr[u + 1]):
            cnt_ns[ns_idx[k], g] += ns_cnt[k]
    viol = np.zeros(m)
    for g in range(m):
        viol[g] = _group_viol(g, size, S, gs_lo, gs_hi, scale, cnt_slot, quorum, cnt_ns, clc, lo)
    dS = np.zeros(max(R, 1))
    dK = np.zeros(max(n_keys, 1), dtype=np.int64)
    zero_av = np.zeros(T, dtype=np.int64)
    bad = np.empty(m, dtype=np.int64)
    mem = np.empty(nu, dtype=np.int64)
    it = 0
    while it < n_iter:
        total = viol.sum()
        if total <= 1e-7:
            return 0.0, it
        nb = 0
        for g in range(m):
            if viol[g] > 1e-7:
                bad[nb] = g
                nb += 1
        g = bad[np.random.randint(nb)]
        nm = 0
        for u in range(nu):
            if lab[u] == g:
                mem[nm] = u
                nm += 1
        best, bu, bv, bh = 1e300, -1, -1, -1
        step = it0 + it
        for a in range(nm):
            u = mem[a]
            is_tabu = tabu[u] > step
            for h in range(m):
                if h == g or not allowed[u, h]:
                    continue
                # Move u: g -> h.
                if size[h] + w[u] <= hi[h]:
                    d = _delta(u, -1, g, h, lab, w, lo, size, S, gs_ptr, gs_row, gs_coef, gs_lo,
                               gs_hi, scale, slot_av, cnt_slot, quorum, ns_ptr, ns_idx, ns_cnt,
                               cnt_ns, dS, dK, zero_av, NB, 0) + np.random.random() * 1e-6
                    if (not is_tabu or total + d < 1e-7) and d < best:
                        best, bu, bv, bh = d, u, -1, h
            # Swaps of u with sampled units of other groups.
            for _ in range(n_swap):
                v = np.random.randint(nu)
                h = lab[v]
                if h == g or not allowed[u, h] or not allowed[v, g]:
                    continue
                if is_tabu and tabu[v] > step:
                    continue
                sg = size[g] - w[u] + w[v]
                sh = size[h] + w[u] - w[v]
                if sg > hi[g] or sh > hi[h]:
                    continue
                uv = _adjacent(u, v, conf_ptr, conf_idx)
                d = _delta(u, v, g, h, lab, w, lo, size, S, gs_ptr, gs_row, gs_coef, gs_lo, gs_hi,
                           scale, slot_av, cnt_slot, quorum, ns_ptr, ns_idx, ns_cnt, cnt_ns,
                           dS, dK, zero_av, NB, uv) + np.random.random() * 1e-6
                if d < best:
                    best, bu, bv, bh = d, u, v, h
        it += 1
        if bu < 0:
            continue
        _apply(bu, g, bh, lab, w, size, S, gs_ptr, gs_row, gs_coef, slot_av, cnt_slot,
               ns_ptr, ns_idx, ns_cnt, cnt_ns, NB, clc, conf_ptr, conf_idx)
        if bv >= 0:
            _apply(bv, bh, g, lab, w, size, S, gs_ptr, gs_row, gs_coef, slot_av, cnt_slot,
                   ns_ptr, ns_idx, ns_cnt, cnt_ns, NB, clc, conf_ptr, conf_idx)
        tenure = 3 + np.random.randint(8)
        tabu[bu] = step + tenure
        if bv >= 0:
            tabu[bv] = step + tenure
        viol[g] = _group_viol(g, size, S, gs_lo, gs_hi, scale, cnt_slot, quorum, cnt_ns, clc, lo)
        viol[bh] = _group_viol(bh, size, S, gs_lo, gs_hi, scale, cnt_slot, quorum, cnt_ns, clc, lo)
    return viol.sum(), it


def min_conflicts(prep: Prepared, units: np.ndarray, seed: int, deadline: float,
                  chunk: int = 500) -> np.ndarray | None:
    """Unit labels satisfying every rule, from ``units`` (which keep sizes and allowed groups).

    Runs the compiled min-conflicts search in chunks until the violation is zero or the
    ``deadline`` (a ``time.perf_counter()`` value) passes; None when time runs out.
    """
    lab = np.ascontiguousarray(units, dtype=np.int64).copy()
    R = prep.gs_lo.shape[0]
    if R:
        # Rows in their own units (employees, counts): normalise by the largest coefficient.
        scale = np.full(R, 1e-12)
        np.maximum.at(scale, prep.gs_row, np.abs(prep.gs_coef))
    else:
        scale = np.ones(0)
    tabu = np.zeros(len(lab), dtype=np.int64)
    n_swap = int(min(64, max(8, prep.nu // 8)))
    step, k = 0, 0
    while time.perf_counter() < deadline:
        left, done = repair_run(lab, prep.w, prep.lo, prep.hi, prep.conf_ptr, prep.conf_idx,
                                prep.allowed, prep.gs_ptr, prep.gs_row, prep.gs_coef,
                                prep.gs_lo, prep.gs_hi, scale, prep.slot_av, prep.quorum,
                                prep.ns_ptr, prep.ns_idx, prep.ns_cnt, int(prep.n_keys), tabu,
                                step, chunk, n_swap, (seed * 7919 + k) % (2**31 - 1))
        step += int(done)
        k += 1
        if left <= 1e-7:
            return lab
    return None


def compile_now() -> None:
    """Compile (or load from the disk cache) the repair kernels on a tiny input.

    ``make`` calls it once after installing, beside the search's warm-up: the repair runs
    only for inputs with side rules (slots, group sums, conflicts a construction could not
    place), and compiling it then costs a run several seconds.

    >>> compile_now()
    """
    from ._prep import TOY_LABELS, toy

    min_conflicts(toy(True), np.array(TOY_LABELS), seed=0, deadline=time.perf_counter() + 600.0)
