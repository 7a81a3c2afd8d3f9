"""Compiled kernels of the text components: sparse rows times sparse columns, into a
dense block.

The text components multiply TF-IDF rows (a few dozen terms each) by the transposed
matrix of every candidate's rows. scipy's sparse product builds a sparse result first
(two passes and an index per product term) that is then scattered into the dense block;
these kernels add every product term straight into the block, about five times faster.
A block of a solver's neighbourhood (a few hundred rows) groups its entries by term, so
its cost depends on its own entries only, not on the vocabulary; its frequent terms (dense
columns) go through a compiled dense loop.
numba is imported and the kernels compiled on first use, so runs without text columns
never pay for it.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import scipy.sparse as sp

__all__ = ["add_dense_block", "add_sparse_product", "single_threaded_blas", "sparse_block",
           "warm_up"]

_KERNELS = None
_LOCK = threading.Lock()
# Per thread: term -> group of the block being multiplied, -1 between calls.
_SCRATCH = threading.local()


def add_sparse_product(left: sp.csr_array, r0: int, r1: int, right_t: sp.csr_array,
                       out: np.ndarray, c0: int = 0) -> None:
    """``out += left[r0:r1] @ right_t[:, c0:]``, ``right_t`` (terms x columns) in CSR.

    Parameters
    ----------
    left : scipy.sparse.csr_array of shape (n, V)
        Rows; ``out.dtype`` values.
    r0, r1 : int
        The band of rows of ``left``.
    right_t : scipy.sparse.csr_array of shape (V, m)
        The right factor, one row per term (a transposed matrix of rows).
    out : ndarray of shape (r1 - r0, m - c0)
        Added to in place (C-contiguous rows).
    c0 : int, default=0
        The first column; ``right_t`` must have sorted indices when it is not 0.

    Notes
    -----
    ``O(sum over the band's entries (i, t) of the entries of row t of right_t)``: the
    number of product terms (those of columns ``>= c0``, each row of ``right_t`` entered
    by a binary search), nothing more. Releases the GIL.

    Examples
    --------
    >>> L = sp.csr_array(np.array([[1.0, 2.0], [0.0, 1.0]]))
    >>> out = np.ones((1, 2))
    >>> add_sparse_product(L, 1, 2, sp.csr_array(L.T), out)
    >>> out.tolist()
    [[3.0, 2.0]]
    """
    band = _compiled()[0]
    band(left.indptr, left.indices, left.data, r0, r1, right_t.indptr, right_t.indices,
         right_t.data, c0, out)


def sparse_block(left: sp.csr_array, rows: np.ndarray, right: sp.csr_array,
                     cols: np.ndarray, out: np.ndarray) -> None:
    """``out = left[rows] @ right[cols].T`` for row index arrays of two CSR matrices.

    The entries of the side with fewer rows are grouped by term (one counting pass, so
    each term's entries lie next to each other; a per-thread table from term to group,
    reset after each call, finds a term's group); each entry of the other side walks its
    term's group. ``O(entries + product terms)``: nothing of the number of rows of either
    matrix, and of the vocabulary only the table (``4 V`` bytes per calling thread, made
    once). When ``left is right`` and ``rows is cols`` the block is symmetric: each term's
    group is multiplied with itself, the upper triangle only, and mirrored (half the
    product terms).

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
    _, block, sym, _ = _compiled()
    slots = _term_slots(left.shape[1])
    r = np.asarray(rows, dtype=np.int64)
    if left is right and rows is cols:
        sym(left.indptr, left.indices, left.data, r, slots, out)
        return
    c = np.asarray(cols, dtype=np.int64)
    if r.size < c.size:  # group the side with fewer rows
        block(right.indptr, right.indices, right.data, c, left.indptr, left.indices,
              left.data, r, slots, out.T)
    else:
        block(left.indptr, left.indices, left.data, r, right.indptr, right.indices,
              right.data, c, slots, out)


def add_dense_block(left: np.ndarray, rows: np.ndarray, right: np.ndarray, cols: np.ndarray,
                    out: np.ndarray) -> None:
    """``out += left[rows] @ right[cols].T`` for dense rows of a few columns (the
    frequent terms); zeros of ``left`` are skipped.

    Examples
    --------
    >>> F = np.array([[1.0, 0.0], [2.0, 1.0]])
    >>> out = np.ones((2, 2))
    >>> add_dense_block(F, np.array([1, 0]), F, np.array([0, 1]), out)
    >>> out.tolist()
    [[3.0, 6.0], [2.0, 3.0]]
    """
    *_, dense = _compiled()
    dense(left, np.asarray(rows, dtype=np.int64), right, np.asarray(cols, dtype=np.int64), out)


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


def _term_slots(n_terms: int) -> np.ndarray:
    slots = getattr(_SCRATCH, "slots", None)
    if slots is None or slots.size < n_terms:
        slots = _SCRATCH.slots = np.full(max(n_terms, 1), -1, dtype=np.int32)
    return slots


def _compiled():
    global _KERNELS
    with _LOCK:
        if _KERNELS is None:
            _KERNELS = _build()
        return _KERNELS


def _build():
    from . import _textjit as J  # numba is imported here: runs without text never pay it

    return J.band, J.block, J.sym, J.dense


def warm_up() -> None:
    """Compile the kernels for both value types (or load them from the disk cache).

    ``make`` calls it once after installing, beside the solver's warm-up, so that the
    first run with text columns does not spend seconds compiling.

    Examples
    --------
    >>> warm_up()
    """
    for dtype in (np.float64, np.float32):
        M = sp.csr_array(np.array([[1.0, 2.0], [0.0, 1.0], [3.0, 0.0]], dtype=dtype))
        i, j = np.array([0, 2]), np.array([1, 0, 2])
        sparse_block(M, i, M, j, np.empty((2, 3), dtype=dtype))
        sparse_block(M, j, M, i, np.empty((3, 2), dtype=dtype))
        sparse_block(M, i, M, i, np.empty((2, 2), dtype=dtype))
        add_sparse_product(M, 0, 2, sp.csr_array(M.T), np.zeros((2, 3), dtype=dtype))
        D = M.toarray()
        add_dense_block(D, i, D, j, np.zeros((2, 3), dtype=dtype))
