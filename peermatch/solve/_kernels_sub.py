"""Compiled helpers that build sub-problems of the decomposition fast.

Internal module. At 10,000 candidates and more the decomposition solves thousands of
~160-member sub-problems; building each one in numpy and scipy (a feature block, the
conflict graph restricted to the members, a validated :class:`~peermatch.problem.Problem`)
cost more than solving it. These kernels do the expensive parts (the block of the
affinity, feature or dense, and the conflict graph) in one pass each, without holding the
GIL (the decomposition's threads build sub-problems side by side), and give exactly the
numbers the numpy path gives (same operations in the same order), so
which path ran never changes a result.

``READY`` is set once :func:`compile_now` has compiled (or loaded) them; callers use the
numpy path until then, so a first run never waits for this compilation.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from .._jitcfg import CACHE

__all__ = ["READY", "compile_now", "feature_block", "dense_block", "sub_conflicts"]

#: True once the kernels are compiled (or loaded from the disk cache) in this process.
READY = False

@intrinsic
def _popcount(typingctx, x):
    """Bits set in a uint64: LLVM's ``ctpop``, one instruction on CPUs that have it."""
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.ctpop(args[0])

    return sig, codegen


@njit(cache=CACHE, nogil=True, inline="always")
def _put(out, a, b, v, first):
    """The first term of a block is written, later ones added (as the numpy path does)."""
    if first:
        out[a, b] = v
    else:
        out[a, b] += v


@njit(cache=CACHE, nogil=True)
def feature_block(rows, cols, Gb, Xb, gsize, inv, sector, cal, w, use, out):
    """``out[a, b]`` = weighted sum of the goals, inspiration, caliber and diversity scores
    of candidates ``rows[a]`` and ``cols[b]`` (see :mod:`peermatch.scoring`).

    ``Gb``/``Xb`` are the goal and expertise bit masks (n, words); ``cal`` the caliber
    block (computed by the caller, unknown sizes filled); ``w`` the four weights and
    ``use`` which of them are non-zero, in the order of the numpy path's terms. One simple
    loop per component over the block (with the column data gathered once), so each
    loop vectorises; the operations are those of the numpy path, in its order.
    """
    nr, nc = rows.size, cols.size
    words = Gb.shape[1]
    Gc = np.empty((words, nc), dtype=np.uint64)
    Xc = np.empty((words, nc), dtype=np.uint64)
    for k in range(words):
        for b in range(nc):
            Gc[k, b] = Gb[cols[b], k]
            Xc[k, b] = Xb[cols[b], k]
    first = True
    if use[0]:
        gs_c = gsize[cols]
        w0 = w[0]
        for a in range(nr):
            i = rows[a]
            gi = gsize[i]
            for b in range(nc):
                inter = 0
                for k in range(words):
                    inter += _popcount(Gb[i, k] & Gc[k, b])
                fi = float(inter)
                out[a, b] = fi / ((gi + gs_c[b]) - fi) * w0
        first = False
    if use[1]:
        inv_c = inv[cols]
        w1 = w[1]
        for a in range(nr):
            i = rows[a]
            inv_i = inv[i]
            for b in range(nc):
                e1 = 0
                e2 = 0
                for k in range(words):
                    e1 += _popcount(Xb[i, k] & Gc[k, b])
                    e2 += _popcount(Gb[i, k] & Xc[k, b])
                f1 = float(e1) * inv_c[b]
                f2 = float(e2) * inv_i
                _put(out, a, b, ((f1 + (f1 + 1.0) * f2) * (1 / 3)) * w1, first)
        first = False
    if use[2]:
        w2 = w[2]
        for a in range(nr):
            for b in range(nc):
                _put(out, a, b, cal[a, b] * w2, first)
        first = False
    if use[3]:
        sec_c = sector[cols]
        w3 = w[3]
        for a in range(nr):
            si = sector[rows[a]]
            for b in range(nc):
                _put(out, a, b, (1.0 if si != sec_c[b] else 0.0) * w3, first)


@njit(cache=CACHE, nogil=True)
def dense_block(A, rows):
    """``A[np.ix_(rows, rows)]`` as a new C-contiguous array: the same numbers (a copy),
    without holding the GIL, so a second thread's sub-problem is built meanwhile."""
    s = rows.size
    out = np.empty((s, s), dtype=A.dtype)
    for a in range(s):
        Ai = A[rows[a]]
        for b in range(s):
            out[a, b] = Ai[rows[b]]
    return out


@njit(cache=CACHE, nogil=True)
def sub_conflicts(rows, pos, cl_ptr, cl_idx, cq_ptr, cq_idx):
    """The conflict graph of the members ``rows`` as a CSR ``(ptr, idx)`` over local
    indices: cannot-link pairs (CSR ``cl_ptr``/``cl_idx`` over all candidates) and pairs
    that share a clique set (CSR ``cq_ptr``/``cq_idx``: each candidate's clique ids).

    ``pos[rows[a]] == a`` and ``pos`` is ``-1`` elsewhere. Neighbours come in increasing
    order, as :func:`peermatch.solve._prep.prepare` builds them.
    """
    s = rows.size
    M = np.zeros((s, s), dtype=np.bool_)
    for a in range(s):
        i = rows[a]
        for k in range(cl_ptr[i], cl_ptr[i + 1]):
            b = pos[cl_idx[k]]
            if b >= 0 and b != a:
                M[a, b] = True
                M[b, a] = True
    n_e = 0
    for a in range(s):
        i = rows[a]
        n_e += cq_ptr[i + 1] - cq_ptr[i]
    if n_e > 1:
        key = np.empty(n_e, dtype=np.int64)
        who = np.empty(n_e, dtype=np.int64)
        e = 0
        for a in range(s):
            i = rows[a]
            for k in range(cq_ptr[i], cq_ptr[i + 1]):
                key[e] = cq_idx[k]
                who[e] = a
                e += 1
        order = np.argsort(key)
        start = 0
        while start < n_e:
            stop = start + 1
            while stop < n_e and key[order[stop]] == key[order[start]]:
                stop += 1
            for x in range(start, stop):
                for y in range(x + 1, stop):
                    a, b = who[order[x]], who[order[y]]
                    if a != b:
                        M[a, b] = True
                        M[b, a] = True
            start = stop
    ptr = np.zeros(s + 1, dtype=np.int64)
    for a in range(s):
        c = 0
        for b in range(s):
            if M[a, b]:
                c += 1
        ptr[a + 1] = ptr[a] + c
    idx = np.empty(ptr[s], dtype=np.int64)
    for a in range(s):
        k = ptr[a]
        for b in range(s):
            if M[a, b]:
                idx[k] = b
                k += 1
    return ptr, idx


def compile_now() -> None:
    """Compile (or load from the disk cache) the kernels on tiny inputs; sets ``READY``."""
    global READY
    r = np.array([0, 1], dtype=np.intp)
    bits = np.ones((2, 1), dtype=np.uint64)
    out = np.empty((2, 2))
    feature_block(r, r, bits, bits, np.ones(2), np.ones(2), np.zeros(2, dtype=np.int64),
                  np.zeros((2, 2)), np.ones(4), np.ones(4, dtype=np.bool_), out)
    dense_block(out, r)
    ptr = np.array([0, 1, 2], dtype=np.int64)
    sub_conflicts(np.array([0, 1], dtype=np.int64), np.array([0, 1], dtype=np.int64),
                  ptr, np.array([1, 0], dtype=np.int64), ptr, np.array([0, 0], dtype=np.int64))
    READY = True
