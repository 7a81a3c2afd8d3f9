"""A compiled kernel of the text components: sparse rows times sparse columns, into a
dense block.

The text components multiply TF-IDF rows (a few dozen terms each) by the transposed
matrix of every candidate's rows. scipy's sparse product builds a sparse result first
(two passes and an index per product term) that is then scattered into the dense block;
this kernel adds every product term straight into the block, about five times faster.
numba is imported and the kernel compiled on first use, so runs without text columns
never pay for it.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import scipy.sparse as sp

__all__ = ["add_sparse_block", "add_sparse_product", "single_threaded_blas"]

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
    band, _ = _compiled()
    band(left.indptr, left.indices, left.data, r0, r1, right_t.indptr, right_t.indices,
         right_t.data, out)


def add_sparse_block(left: sp.csr_array, rows: np.ndarray, right: sp.csr_array,
                     cols: np.ndarray, out: np.ndarray) -> None:
    """``out += left[rows] @ right[cols].T`` for row index arrays of two CSR matrices.

    The entries of ``right[cols]`` are chained by term first, then each entry of
    ``left[rows]`` walks the chain of its term: ``O(V + entries + product terms)`` (``V``
    the number of terms), nothing of the number of rows of either matrix.

    Examples
    --------
    >>> M = sp.csr_array(np.array([[1.0, 2.0], [0.0, 1.0], [3.0, 0.0]]))
    >>> out = np.zeros((2, 2))
    >>> add_sparse_block(M, np.array([0, 2]), M, np.array([1, 0]), out)
    >>> out.tolist()
    [[2.0, 5.0], [0.0, 3.0]]
    """
    _, block = _compiled()
    block(left.indptr, left.indices, left.data, np.asarray(rows, dtype=np.int64),
          right.indptr, right.indices, right.data, np.asarray(cols, dtype=np.int64),
          right.shape[1], out)


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

    @njit(nogil=True)
    def block(lptr, lind, ldat, rows, rptr, rind, rdat, cols, n_terms, out):
        size = 0
        for q in range(cols.size):
            size += rptr[cols[q] + 1] - rptr[cols[q]]
        if size == 0:
            return
        head = np.full(n_terms, -1, dtype=np.int64)
        nxt = np.empty(size, dtype=np.int64)
        pos = np.empty(size, dtype=np.int64)
        val = np.empty(size, dtype=rdat.dtype)
        e = 0
        for q in range(cols.size):
            for b in range(rptr[cols[q]], rptr[cols[q] + 1]):
                t = rind[b]
                nxt[e] = head[t]
                head[t] = e
                pos[e] = q
                val[e] = rdat[b]
                e += 1
        for p in range(rows.size):
            r = rows[p]
            for a in range(lptr[r], lptr[r + 1]):
                v = ldat[a]
                e = head[lind[a]]
                while e >= 0:
                    out[p, pos[e]] += v * val[e]
                    e = nxt[e]

    return band, block
