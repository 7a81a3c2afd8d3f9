"""Compiled kernels of the text components: sparse rows times sparse columns, into a
dense block.

The text components multiply TF-IDF rows (a few dozen terms each) by the transposed
matrix of every candidate's rows. scipy's sparse product builds a sparse result first
(two passes and an index per product term) that is then scattered into the dense block;
these kernels add every product term straight into the block, about five times faster.
A block of a solver's neighbourhood (a few hundred rows) groups its entries by term in a
small hash table, so its cost depends on its own entries only, not on the vocabulary.
numba is imported and the kernels compiled on first use, so runs without text columns
never pay for it.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import scipy.sparse as sp

__all__ = ["sparse_block", "add_sparse_product", "single_threaded_blas"]

_KERNELS = None
_LOCK = threading.Lock()


def add_sparse_product(left: sp.csr_array, r0: int, r1: int, right_t: sp.csr_array,
                       out: np.ndarray) -> None:
    """``out += left[r0:r1] @ right_t``, ``right_t`` (terms x columns) in CSR.

    Parameters
    ----------
    left : scipy.sparse.csr_array of shape (n, V)
        Rows; ``out.dtype`` values.
    r0, r1 : int
        The band of rows of ``left``.
    right_t : scipy.sparse.csr_array of shape (V, m)
        The right factor, one row per term (a transposed matrix of rows).
    out : ndarray of shape (r1 - r0, m)
        Added to in place (C-contiguous rows).

    Notes
    -----
    ``O(sum over the band's entries (i, t) of the entries of row t of right_t)``: the
    number of product terms, nothing more. Releases the GIL.

    Examples
    --------
    >>> L = sp.csr_array(np.array([[1.0, 2.0], [0.0, 1.0]]))
    >>> out = np.ones((1, 2))
    >>> add_sparse_product(L, 1, 2, sp.csr_array(L.T), out)
    >>> out.tolist()
    [[3.0, 2.0]]
    """
    band, _, _ = _compiled()
    band(left.indptr, left.indices, left.data, r0, r1, right_t.indptr, right_t.indices,
         right_t.data, out)


def sparse_block(left: sp.csr_array, rows: np.ndarray, right: sp.csr_array,
                     cols: np.ndarray, out: np.ndarray) -> None:
    """``out = left[rows] @ right[cols].T`` for row index arrays of two CSR matrices.

    The entries of the smaller side are grouped by term (an open-addressing table keyed by
    term, then one counting pass, so each term's entries lie next to each other); each
    entry of the other side looks its term up and walks that group.
    ``O(entries + product terms)``: nothing of the number of rows of either matrix nor of
    the vocabulary. When ``left is right`` and ``rows is cols`` the block is symmetric:
    each term's group is multiplied with itself, the upper triangle only, and mirrored
    (half the product terms).

    Parameters
    ----------
    left, right : scipy.sparse.csr_array of shapes (n, V) and (m, V)
        Rows of the two factors; ``out.dtype`` values.
    rows, cols : ndarray of int
        Row positions in ``left`` and in ``right`` (repeats allowed).
    out : ndarray of shape (len(rows), len(cols))
        Overwritten.

    Examples
    --------
    >>> M = sp.csr_array(np.array([[1.0, 2.0], [0.0, 1.0], [3.0, 0.0]]))
    >>> out = np.full((2, 2), 9.0)
    >>> sparse_block(M, np.array([0, 2]), M, np.array([1, 0]), out)
    >>> out.tolist()
    [[2.0, 5.0], [0.0, 3.0]]
    >>> i = np.array([0, 2, 0])
    >>> sparse_block(M, i, M, i, out := np.empty((3, 3)))
    >>> out.tolist()
    [[5.0, 3.0, 5.0], [3.0, 9.0, 3.0], [5.0, 3.0, 5.0]]
    """
    _, block, sym = _compiled()
    if left is right and rows is cols:
        r = np.asarray(rows, dtype=np.int64)
        sym(left.indptr, left.indices, left.data, r, out)
        return
    r = np.asarray(rows, dtype=np.int64)
    c = np.asarray(cols, dtype=np.int64)
    if r.size < c.size:  # group the smaller side: the table stays small
        block(right.indptr, right.indices, right.data, c, left.indptr, left.indices,
              left.data, r, out.T)
    else:
        block(left.indptr, left.indices, left.data, r, right.indptr, right.indices,
              right.data, c, out)


def single_threaded_blas():
    """A context in which BLAS runs on one thread (a no-op without threadpoolctl).

    The text components call BLAS on many small products from several threads at once
    (one per row band); letting each call start its own BLAS threads as well
    oversubscribes the cores and runs several times slower. threadpoolctl comes with
    scikit-learn, which text columns need anyway.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _compiled():
    global _KERNELS
    with _LOCK:
        if _KERNELS is None:
            _KERNELS = _build()
        return _KERNELS


def _build():  # pragma: no cover - compiled code
    from numba import njit

    @njit(nogil=True)
    def band(lptr, lind, ldat, r0, r1, rptr, rind, rdat, out):
        for i in range(r0, r1):
            row = out[i - r0]
            for a in range(lptr[i], lptr[i + 1]):
                t = lind[a]
                v = ldat[a]
                for b in range(rptr[t], rptr[t + 1]):
                    row[rind[b]] += v * rdat[b]

    @njit(nogil=True, inline="always")
    def slot(key, t, mask):
        # linear probing from a multiplicative hash of the term
        h = (t * 2654435761) & mask
        while key[h] != -1 and key[h] != t:
            h = (h + 1) & mask
        return h

    @njit(nogil=True)
    def group(rptr, rind, rdat, cols):
        """Entries of rows ``cols`` grouped by term: the table's keys, the start of each
        slot's group (``start[h]:start[h + 1]``), and the groups' positions and values."""
        size = 0
        for q in range(cols.size):
            size += rptr[cols[q] + 1] - rptr[cols[q]]
        cap = 16
        while cap < 2 * size:
            cap *= 2
        mask = cap - 1
        key = np.full(cap, -1, dtype=np.int64)
        start = np.zeros(cap + 1, dtype=np.int64)
        where = np.empty(size, dtype=np.int64)
        e = 0
        for q in range(cols.size):
            for b in range(rptr[cols[q]], rptr[cols[q] + 1]):
                h = slot(key, rind[b], mask)
                key[h] = rind[b]
                start[h + 1] += 1
                where[e] = h
                e += 1
        for h in range(cap):
            start[h + 1] += start[h]
        fill = start[:cap].copy()
        pos = np.empty(size, dtype=np.int64)
        val = np.empty(size, dtype=rdat.dtype)
        e = 0
        for q in range(cols.size):
            for b in range(rptr[cols[q]], rptr[cols[q] + 1]):
                k = fill[where[e]]
                fill[where[e]] = k + 1
                pos[k] = q
                val[k] = rdat[b]
                e += 1
        return key, start, pos, val

    @njit(nogil=True)
    def block(lptr, lind, ldat, rows, rptr, rind, rdat, cols, out):
        out[:, :] = 0
        key, start, pos, val = group(rptr, rind, rdat, cols)
        mask = key.size - 1
        for p in range(rows.size):
            r = rows[p]
            for a in range(lptr[r], lptr[r + 1]):
                h = slot(key, lind[a], mask)
                v = ldat[a]
                for e in range(start[h], start[h + 1]):
                    out[p, pos[e]] += v * val[e]

    @njit(nogil=True)
    def sym(ptr, ind, dat, rows, out):
        out[:, :] = 0
        key, start, pos, val = group(ptr, ind, dat, rows)
        for h in range(key.size):
            # a group lists its rows in block order: pos[a] <= pos[b] for a <= b
            for a in range(start[h], start[h + 1]):
                v = val[a]
                row = out[pos[a]]
                for b in range(a, start[h + 1]):
                    row[pos[b]] += v * val[b]
        for p in range(rows.size):
            for q in range(p):
                out[p, q] = out[q, p]

    return band, block, sym
