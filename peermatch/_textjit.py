"""The compiled kernels behind :mod:`peermatch.textkernel` (imported on first use).

Internal module. Cached on disk like the solver's kernels (:mod:`peermatch._jitcfg`), so a
run with text columns loads them (a fraction of a second) instead of compiling them (a few
seconds per value type) each time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._jitcfg import CACHE

__all__ = ["band", "block", "dense", "sym"]


@njit(cache=CACHE, nogil=True)
def band(lptr, lind, ldat, r0, r1, rptr, rind, rdat, c0, out):
    for i in range(r0, r1):
        row = out[i - r0]
        for a in range(lptr[i], lptr[i + 1]):
            t = lind[a]
            v = ldat[a]
            lo = rptr[t]
            if c0 > 0:
                lo += np.searchsorted(rind[lo:rptr[t + 1]], c0)
            for b in range(lo, rptr[t + 1]):
                row[rind[b] - c0] += v * rdat[b]


@njit(cache=CACHE, nogil=True)
def group(rptr, rind, rdat, cols, slots):
    """Entries of rows ``cols`` grouped by term: ``slots[t]`` the group of term ``t``
    (to be reset by the caller), the groups' terms in order of first use, the start
    of each group (``start[g]:start[g + 1]``) and the groups' positions and values."""
    size = 0
    for q in range(cols.size):
        size += rptr[cols[q] + 1] - rptr[cols[q]]
    terms = np.empty(size, dtype=np.int64)
    start = np.zeros(size + 1, dtype=np.int64)
    k = 0
    for q in range(cols.size):
        for b in range(rptr[cols[q]], rptr[cols[q] + 1]):
            t = rind[b]
            if slots[t] < 0:
                slots[t] = k
                terms[k] = t
                k += 1
            start[slots[t] + 1] += 1
    for g in range(k):
        start[g + 1] += start[g]
    fill = start[:k].copy()
    pos = np.empty(size, dtype=np.uint32)
    val = np.empty(size, dtype=rdat.dtype)
    for q in range(cols.size):
        for b in range(rptr[cols[q]], rptr[cols[q] + 1]):
            g = slots[rind[b]]
            f = fill[g]
            fill[g] = f + 1
            pos[f] = q
            val[f] = rdat[b]
    return terms[:k], start[:k + 1], pos, val

@njit(cache=CACHE, nogil=True)
def block(lptr, lind, ldat, rows, rptr, rind, rdat, cols, slots, out):
    out[:, :] = 0
    terms, start, pos, val = group(rptr, rind, rdat, cols, slots)
    for p in range(rows.size):
        r = rows[p]
        row = out[p]
        for a in range(lptr[r], lptr[r + 1]):
            g = slots[lind[a]]
            if g < 0:  # a term no column uses
                continue
            v = ldat[a]
            for e in range(start[g], start[g + 1]):
                row[pos[e]] += v * val[e]
    slots[terms] = -1

@njit(cache=CACHE, nogil=True)
def sym(ptr, ind, dat, rows, slots, out):
    out[:, :] = 0
    terms, start, pos, val = group(ptr, ind, dat, rows, slots)
    slots[terms] = -1
    for g in range(start.size - 1):
        # a group lists its rows in block order: pos[a] <= pos[b] for a <= b
        for a in range(start[g], start[g + 1]):
            v = val[a]
            row = out[pos[a]]
            for b in range(a, start[g + 1]):
                row[pos[b]] += v * val[b]
    for p in range(rows.size):
        for q in range(p):
            out[p, q] = out[q, p]


@njit(cache=CACHE, nogil=True, fastmath=True)
def dense(left, rows, right, cols, out):
    # the columns' rows gathered term by term, then each output row accumulated in a
    # scratch row: the inner loop vectorises (fastmath: fused multiply-adds)
    m = cols.size
    rt = np.empty((right.shape[1], m), dtype=right.dtype)
    for q in range(m):
        for k in range(right.shape[1]):
            rt[k, q] = right[cols[q], k]
    acc = np.empty(m, dtype=out.dtype)
    for p in range(rows.size):
        acc[:] = 0
        for k in range(left.shape[1]):
            v = left[rows[p], k]
            if v != 0:
                for q in range(m):
                    acc[q] += v * rt[k, q]
        for q in range(m):
            out[p, q] += acc[q]
