"""Affinity computed on demand from the encoded features, for inputs too large for ``n x n``.

:func:`peermatch.scoring.affinity` builds the dense matrix: ``8 n^2`` bytes, 80 GB at
``n = 100,000``. :class:`FeatureAffinity` holds the encoded features instead (``O(n d)``:
the multi-hot goal/expertise matrices, log sizes, sector codes, user columns) and computes
any block ``A[rows][:, cols]`` when asked, with the same kernels as the dense builder, so
values agree to float rounding. Soft rule corrections (pair bonuses and penalties, low-rank
balance terms) are kept as a sparse matrix and a few vectors and added block by block.

Callers that accept either form read blocks through :func:`block_of`.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np
import scipy.sparse as sp

from . import core
from .components import ScoringPrep
from .features import Features
from .weights import BASE_COMPONENTS, Weights

__all__ = ["FeatureAffinity", "block_of"]

# Columns per chunk of FeatureAffinity.row: temporaries of one chunk stay in cache.
_ROW_CHUNK = 16384
# Rows per band of FeatureAffinity.to_dense.
_DENSE_BAND = 256
# Bit masks of no words, for the compiled block kernel when no term reads them.
_NO_BITS = np.zeros((1, 0), dtype=np.uint64)


class FeatureAffinity:
    """Pairwise affinity ``A = sum_k w_k * S_k`` computed block by block from the features.

    Holds ``O(n d)`` memory (never an ``n x n`` array) and gives, for any ``rows`` and
    ``cols``, the block ``A[np.ix_(rows, cols)]`` of :func:`peermatch.scoring.affinity`
    (same formulas and kernels; equal to float rounding), zero diagonal included.

    Parameters
    ----------
    features : Features
        Output of :func:`peermatch.features.encode` (with the weights' user columns).
    weights : Weights or None, default=None
        None uses ``Weights()``. Components with weight 0 are skipped.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        dtype of the blocks (and of the precomputed feature arrays).

    Attributes
    ----------
    n : int
        Number of candidates (of this view, see :meth:`subset`).
    shape : tuple of int
        ``(n, n)``.
    dtype : numpy.dtype
        dtype of the blocks.
    ndim : int
        Always 2.
    nbytes : int
        Bytes held (precomputed feature arrays, index map, corrections): ``O(n d)``.
    representation : str
        ``"features"`` (a dense matrix is the other representation).

    Raises
    ------
    ConfigError
        A weighted user column was not encoded, or with another kind; a bad dtype.

    See Also
    --------
    peermatch.scoring.affinity : the dense matrix, for ``n`` up to a few ten thousands.
    block_of : a block of either representation.

    Notes
    -----
    A block ``k x l`` costs ``O((nnz(rows) + k) * l)`` per component: co-occurrence counts
    are products of the row-sliced sparse goal/expertise matrices with column-selected
    transposed ones, the rest are broadcasts of ``k`` against ``l`` values. Nothing scales
    with ``n`` but :meth:`row`. Objects are immutable: :meth:`plus_pairs`,
    :meth:`plus_outer` and :meth:`subset` return new ones sharing the features.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import CandidateTable
    >>> from peermatch.features import encode
    >>> from peermatch.scoring import affinity
    >>> t = CandidateTable(
    ...     frame=pd.DataFrame({"id": list("abc")}), source="<DataFrame>",
    ...     columns={"id": "id"}, lines=np.arange(2, 5), ids=np.array(list("abc"), dtype=object),
    ...     industry=np.array(["retail", "retail", "software"], dtype=object),
    ...     employees=np.array([10.0, 100.0, np.nan]), revenue=np.full(3, np.nan),
    ...     goals=[["growth"], ["growth", "hiring"], []], expertise=[[], ["growth"], ["hiring"]])
    >>> f = encode(t)
    >>> A = FeatureAffinity(f)
    >>> A.shape, A.representation
    ((3, 3), 'features')
    >>> np.round(A.block([0, 2], [1, 2, 2]), 3)
    array([[1.017, 0.55 , 0.55 ],
           [0.717, 0.   , 0.   ]])
    >>> np.allclose(A.to_dense(), affinity(f))
    True
    >>> B = A.plus_pairs(0, 1, -1.0)
    >>> np.round(B[0], 3), np.round(B[np.ix_([1], [0])], 3)
    (array([0.   , 0.017, 0.55 ]), array([[0.017]]))
    >>> A.bounds()
    (0.0, 2.8...)
    """

    representation = "features"
    ndim = 2

    def __init__(self, features: Features, weights: Weights | None = None, *,
                 dtype=np.float64):
        weights = Weights() if weights is None else weights
        prep = ScoringPrep(features, weights, dtype)
        self._init(prep, None, None, None, None)

    def _init(self, prep: ScoringPrep, index, pairs, Z, coef) -> None:
        self._prep = prep
        self._terms = [(name, w) for name, w in prep.weighted() if w != 0.0]
        # Rows of the features behind the rows of this view; None: all, in order.
        self._index = index
        self._n = prep.n if index is None else len(index)
        # Soft corrections, in this view's numbering: symmetric sparse (zero diagonal) ...
        self._pairs = pairs
        # ... and low-rank terms sum_k coef[k] * Z[:, k] Z[:, k]^T off the diagonal.
        self._Z = Z
        self._coef = coef

    def _view(self, index, pairs, Z, coef) -> FeatureAffinity:
        out = object.__new__(FeatureAffinity)
        out._init(self._prep, index, pairs, Z, coef)
        return out

    # ------------------------------------------------------------------ array-like

    @property
    def n(self) -> int:
        """Number of candidates."""
        return self._n

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, n)``."""
        return (self._n, self._n)

    @property
    def dtype(self) -> np.dtype:
        """dtype of the blocks."""
        return self._prep.dtype

    @property
    def nbytes(self) -> int:
        """Bytes held (roughly): precomputed feature arrays, index map, corrections.

        The :class:`~peermatch.features.Features` object referenced (ids, names, labels)
        is not counted; views made by :meth:`subset` share, and each count, the arrays.
        """
        total = self._prep.nbytes()
        if self._index is not None:
            total += self._index.nbytes
        if self._pairs is not None:
            P = self._pairs
            total += P.data.nbytes + P.indices.nbytes + P.indptr.nbytes
        if self._Z is not None:
            total += self._Z.nbytes + self._coef.nbytes
        return int(total)

    @property
    def features(self) -> Features:
        """The encoded candidates (all of them: a :meth:`subset` view maps into them)."""
        return self._prep.f

    @property
    def weights(self) -> Weights:
        """The weights of the components."""
        return self._prep.w

    @property
    def index(self) -> np.ndarray:
        """Row of :attr:`features` behind each candidate of this view, shape ``(n,)``."""
        return np.arange(self._n) if self._index is None else self._index.copy()

    @property
    def view_state(self) -> tuple:
        """What this view adds to the shared features: ``(index, pairs, Z, coef)``.

        ``index`` maps the view's rows to feature rows (None: all, in order); ``pairs``
        the sparse pair corrections (or None); ``Z`` and ``coef`` the rank-one terms (or
        None). Small next to the features: ship it instead of the object to a process that
        already holds an object with the same features, and rebuild the view there with
        :meth:`with_view_state`. Read-only: the arrays must not be modified.
        """
        return (self._index, self._pairs, self._Z, self._coef)

    def with_view_state(self, state: tuple) -> FeatureAffinity:
        """The view of this object's features described by ``state`` (see :attr:`view_state`).

        ``B.with_view_state(A.view_state)`` equals ``A`` when ``B.shares_features(A)``.
        """
        index, pairs, Z, coef = state
        return self._view(index, pairs, Z, coef)

    def shares_features(self, other) -> bool:
        """True when ``other`` is a FeatureAffinity over the same precomputed features
        (a :meth:`subset`, :meth:`plus_pairs` or :meth:`plus_outer` of a common ancestor)."""
        return isinstance(other, FeatureAffinity) and other._prep is self._prep

    def __len__(self) -> int:
        return self._n

    def __repr__(self) -> str:
        extra = []
        if self._index is not None:
            extra.append(f"subset of {self._prep.n}")
        if self._pairs is not None:
            extra.append(f"{self._pairs.nnz // 2} pair corrections")
        if self._Z is not None:
            extra.append(f"{self._Z.shape[1]} outer corrections")
        more = "".join(", " + e for e in extra)
        return f"FeatureAffinity(n={self._n}, dtype={self.dtype.name}{more})"

    def __getitem__(self, key):
        """``A[i]`` (row ``i``) or ``A[np.ix_(rows, cols)]`` (a block); nothing else."""
        if isinstance(key, numbers.Integral) and not isinstance(key, bool | np.bool_):
            return self.row(key)
        if (isinstance(key, tuple) and len(key) == 2
                and all(isinstance(k, np.ndarray) for k in key)
                and key[0].ndim == 2 and key[1].ndim == 2
                and key[0].shape[1] == 1 and key[1].shape[0] == 1):
            return self.block(key[0][:, 0], key[1][0])
        raise TypeError(
            f"FeatureAffinity supports A[i] (one row) and A[np.ix_(rows, cols)] (a block) "
            f"only; got an index of type {type(key).__name__}. Use A.block(rows, cols) for a "
            f"block, A.row(i) for a row, or A.to_dense() for the whole (small) matrix.")

    # ------------------------------------------------------------------ blocks

    def _check_index(self, idx, what: str) -> np.ndarray:
        a = np.asarray(idx)
        if a.ndim == 0:
            a = a.reshape(1)
        if a.ndim != 1:
            raise ValueError(f"The {what!r} parameter must be a 1-D array of candidate "
                             f"indices. Got an array of shape {a.shape}.")
        if a.size == 0:
            return np.zeros(0, dtype=np.intp)
        if not np.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_:
            raise TypeError(f"The {what!r} parameter must hold integer candidate indices. "
                            f"Got dtype {a.dtype}.")
        a = a.astype(np.intp, copy=False)
        lo, hi = int(a.min()), int(a.max())
        if lo < -self._n or hi >= self._n:
            bad = lo if lo < -self._n else hi
            raise IndexError(f"Index {bad} in {what!r} is out of bounds for n={self._n} "
                             f"candidates.")
        if lo < 0:
            a = np.where(a < 0, a + self._n, a)
        return a

    def _global(self, idx):
        """Feature rows of view indices (an array or a slice)."""
        if self._index is None:
            return idx
        return self._index[idx]

    def _base(self, grows, gcols, out: np.ndarray) -> None:
        """Weighted sum of the components for feature rows/cols (arrays or slices)."""
        if not self._terms or out.size == 0:
            out.fill(0)
            return
        terms = self._terms
        start = self._fused(grows, gcols, out)
        if start == len(terms):
            return
        tmp = np.empty_like(out) if len(terms) > 1 else None
        for k in range(start, len(terms)):
            name, w = terms[k]
            dest = out if k == 0 else tmp
            self._prep.block(name, grows, gcols, dest)
            if k == 0:
                if w != 1.0:
                    dest *= w
            elif w == 1.0:
                out += dest
            else:
                dest *= w
                out += dest

    def _fused(self, grows, gcols, out: np.ndarray) -> int:
        """The base components of a block in one compiled pass, when the kernel is ready
        (bit-identical to the numpy path); returns how many terms it wrote (0: none)."""
        # The model layer does not import the solver: it uses the kernel module once the
        # solver has loaded it. The warm-up thread may still be importing it (the module is
        # then in sys.modules without its names): READY, set last, once it is compiled, is
        # the hand-over, so a half-imported module reads as "not ready".
        kern = sys.modules.get("peermatch.solve._kernels_sub")
        if (getattr(kern, "READY", False) is not True or out.dtype != np.float64
                or not isinstance(grows, np.ndarray) or not isinstance(gcols, np.ndarray)):
            return 0
        prep = self._prep
        k = 0
        w = np.zeros(4)
        use = np.zeros(4, dtype=np.bool_)
        while k < len(self._terms) and self._terms[k][0] in BASE_COMPONENTS:
            j = BASE_COMPONENTS.index(self._terms[k][0])
            w[j], use[j] = self._terms[k][1], True
            k += 1
        bits = prep.bit_masks() if use[:2].any() else None
        if k == 0 or (use[:2].any() and bits is None):
            return 0
        # Without goals and inspiration the kernel reads no bits: zero words, nothing to index.
        Gb, Xb = bits if bits else (_NO_BITS, _NO_BITS)
        cal = np.empty((0, 0))
        if use[2]:
            cal = np.empty_like(out)
            prep.block("caliber", grows, gcols, cal)
        kern.feature_block(grows, gcols, Gb, Xb, prep.gsize, prep.inv, prep.sector, cal, w,
                           use, out)
        return k

    def _add_corrections(self, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> None:
        if self._pairs is not None:
            a, b, v = _sparse_block(self._pairs, rows, cols)
            if a.size:
                out[a, b] += v  # (a, b) unique: C holds one entry per (row, col)
        if self._Z is not None:
            # a few rank-one terms: outer products, no BLAS call (thread start-up costs
            # more than the product itself on small blocks)
            Zr, Zc = self._Z[rows] * self._coef, self._Z[cols]
            for k in range(Zr.shape[1]):
                out += np.multiply.outer(Zr[:, k], Zc[:, k])

    def block(self, rows, cols=None) -> np.ndarray:
        """The block ``A[np.ix_(rows, cols)]``.

        Parameters
        ----------
        rows : array-like of int, shape (k,)
            Candidate indices, any order, repeats allowed (negative ones count from the
            end, as in numpy).
        cols : array-like of int, shape (l,), or None, default=None
            Same; None uses ``rows``.

        Returns
        -------
        ndarray of shape (k, l) and dtype :attr:`dtype`
            0 wherever ``rows[a] == cols[b]`` (self-pairs never count).

        Raises
        ------
        TypeError, ValueError, IndexError
            Indices that are not integers, not 1-D, or out of bounds.
        """
        rows = self._check_index(rows, "rows")
        cols = rows if cols is None else self._check_index(cols, "cols")
        out = np.empty((rows.size, cols.size), dtype=self.dtype)
        if out.size == 0:
            return out
        grows = self._global(rows)
        # one array for both sides tells the text components the block is symmetric
        gcols = grows if cols is rows else self._global(cols)
        self._base(grows, gcols, out)
        self._add_corrections(rows, cols, out)
        a, b = _matches(cols, rows)  # self-pairs, repeats included
        out[a, b] = 0
        return out

    def row(self, i: int) -> np.ndarray:
        """Row ``i``: affinities of candidate ``i`` to every candidate, shape ``(n,)``.

        Computed in column chunks (cache-sized temporaries); ``O(n)`` time and memory.
        Negative ``i`` counts from the end.
        """
        if isinstance(i, bool | np.bool_) or not isinstance(i, numbers.Integral):
            raise TypeError(f"The 'i' parameter must be an integer. Got {i!r}.")
        i = int(i)
        if not -self._n <= i < self._n:
            raise IndexError(f"Row {i} is out of bounds for n={self._n} candidates.")
        i %= self._n
        n = self._n
        out = np.empty(n, dtype=self.dtype)
        gi = self._global(slice(i, i + 1))
        for c0 in range(0, n, _ROW_CHUNK):
            c1 = min(n, c0 + _ROW_CHUNK)
            self._base(gi, self._global(slice(c0, c1)), out[None, c0:c1])
        if self._pairs is not None:
            P = self._pairs
            s = slice(P.indptr[i], P.indptr[i + 1])
            out[P.indices[s]] += P.data[s]
        if self._Z is not None:
            out += self._Z @ (self._Z[i] * self._coef)
        out[i] = 0
        return out

    def to_dense(self) -> np.ndarray:
        """The whole ``n x n`` matrix (for small ``n``: tests, reports), built in row bands.

        Returns
        -------
        ndarray of shape (n, n) and dtype :attr:`dtype`
            Symmetric, zero diagonal; what :func:`peermatch.scoring.affinity` returns, plus
            the corrections.
        """
        n = self._n
        A = np.empty((n, n), dtype=self.dtype)
        cols = self._global(slice(0, n))
        for r0 in range(0, n, _DENSE_BAND):
            r1 = min(n, r0 + _DENSE_BAND)
            self._base(self._global(slice(r0, r1)), cols, A[r0:r1])
        if self._pairs is not None:
            A += self._pairs.toarray()
        if self._Z is not None:
            A += (self._Z * self._coef) @ self._Z.T
        np.fill_diagonal(A, 0)
        return A

    # ------------------------------------------------------------------ views and corrections

    def subset(self, rows) -> FeatureAffinity:
        """The affinity among candidates ``rows`` only, renumbered ``0 .. len(rows) - 1``.

        Parameters
        ----------
        rows : array-like of int
            Distinct candidate indices of this object.

        Returns
        -------
        FeatureAffinity
            ``B`` with ``B.block(a, b) == A.block(rows[a], rows[b])``; it shares the features
            (only an index map of ``len(rows)`` entries is new) and carries the corrections
            restricted to ``rows``.
        """
        rows = self._check_index(rows, "rows")
        if np.unique(rows).size != rows.size:
            raise ValueError("The 'rows' parameter of subset must hold distinct candidate "
                             "indices (a candidate cannot appear twice).")
        index = rows if self._index is None else self._index[rows]
        pairs = None
        if self._pairs is not None:
            pairs = sp.csr_array(self._pairs[rows][:, rows])
            pairs.eliminate_zeros()
            pairs = pairs if pairs.nnz else None
        Z = None if self._Z is None else np.ascontiguousarray(self._Z[rows])
        return self._view(index, pairs, Z, self._coef)

    def plus_pairs(self, i, j, values) -> FeatureAffinity:
        """Add ``values`` to ``A[i, j]`` and ``A[j, i]`` (a symmetric sparse correction).

        Parameters
        ----------
        i, j : array-like of int
            Pairs of candidates (same shape). Self-pairs ``i == j`` are ignored (the
            diagonal stays 0); repeated pairs add up, and ``(i, j)`` and ``(j, i)`` both
            given count twice.
        values : float or array-like of float
            Broadcast to the shape of ``i``: bonuses (positive) or penalties (negative).

        Returns
        -------
        FeatureAffinity
            A new object; corrections of earlier calls are kept and add up.
        """
        i = self._check_index(i, "i")
        j = self._check_index(j, "j")
        if i.shape != j.shape:
            raise ValueError(f"The 'i' and 'j' parameters must have the same length. Got "
                             f"{i.size} and {j.size}.")
        v = np.broadcast_to(np.asarray(values, dtype=np.float64), i.shape)
        if not np.all(np.isfinite(v)):
            raise ValueError("The 'values' parameter must be finite.")
        off = i != j
        i, j, v = i[off], j[off], v[off]
        n = self._n
        C = sp.coo_array((np.concatenate([v, v]), (np.concatenate([i, j]),
                                                   np.concatenate([j, i]))), shape=(n, n))
        C = sp.csr_array(C)
        if self._pairs is not None:
            C = sp.csr_array(C + self._pairs)
        C.sum_duplicates()
        C.eliminate_zeros()
        return self._view(self._index, C if C.nnz else None, self._Z, self._coef)

    def plus_outer(self, z, coef: float) -> FeatureAffinity:
        """Add ``coef * z_i * z_j`` to every off-diagonal ``A[i, j]`` (a rank-one term).

        Parameters
        ----------
        z : array-like of float, shape (n,)
            One value per candidate (e.g. a standardised column, or a 0/1 indicator).
        coef : float
            Scale (negative for a penalty, e.g. ``-2 lambda`` of a soft balance rule).

        Returns
        -------
        FeatureAffinity
            A new object; terms of earlier calls are kept and add up.
        """
        z = np.asarray(z, dtype=np.float64)
        if z.shape != (self._n,):
            raise ValueError(f"The 'z' parameter must have shape ({self._n},), one value per "
                             f"candidate. Got shape {z.shape}.")
        if not (np.all(np.isfinite(z)) and isinstance(coef, numbers.Real)
                and math.isfinite(float(coef))):
            raise ValueError("The 'z' and 'coef' parameters of plus_outer must be finite.")
        if self._Z is None:
            Z, c = z[:, None].copy(), np.array([float(coef)])
        else:
            Z = np.column_stack([self._Z, z])
            c = np.append(self._coef, float(coef))
        return self._view(self._index, self._pairs, Z, c)

    def bounds(self) -> tuple[float, float]:
        """Cheap bounds ``lo <= A[i, j] <= hi`` on every off-diagonal entry.

        Every component lies in ``[0, 1]``, so the weights give ``sum of negative weights``
        and ``sum of positive weights``; the corrections add their extreme values (pair
        corrections where they are not zero, the products ``z_i z_j`` of outer terms). A
        tiny margin covers float rounding. ``(0.0, 0.0)`` when ``n < 2``.

        Returns
        -------
        tuple of float
            ``(lo, hi)``; ``lo < 0 < hi`` may mean mixed signs.
        """
        if self._n < 2:
            return 0.0, 0.0
        ws = [w for _, w in self._terms]
        lo = sum(min(w, 0.0) for w in ws)
        hi = sum(max(w, 0.0) for w in ws)
        mag = sum(abs(w) for w in ws)
        if self._pairs is not None and self._pairs.nnz:
            d = self._pairs.data
            lo += min(0.0, float(d.min()))
            hi += max(0.0, float(d.max()))
            mag += float(np.abs(d).max())
        if self._Z is not None:
            for k, c in enumerate(self._coef):
                z = self._Z[:, k]
                a, b = float(z.min()), float(z.max())
                prods = (a * a, b * b, a * b)
                tlo, thi = c * min(prods), c * max(prods)
                lo += min(tlo, thi)
                hi += max(tlo, thi)
                mag += abs(c) * max(prods, key=abs)
        tol = 16 * float(np.finfo(self.dtype).eps) * max(1.0, mag)
        return lo - tol if lo else lo, hi + tol if hi else hi


def block_of(A, rows, cols=None) -> np.ndarray:
    """The block ``A[np.ix_(rows, cols)]`` of a dense matrix or a :class:`FeatureAffinity`.

    Parameters
    ----------
    A : ndarray of shape (n, n) or FeatureAffinity
        The affinity.
    rows : array-like of int
        Row indices.
    cols : array-like of int or None, default=None
        Column indices; None uses ``rows``.

    Returns
    -------
    ndarray of shape (len(rows), len(cols))

    Examples
    --------
    >>> import numpy as np
    >>> block_of(np.arange(9.0).reshape(3, 3), [2, 0]).tolist()
    [[8.0, 6.0], [2.0, 0.0]]
    """
    return core.block(A, rows, cols)


def _matches(cols: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All ``(p, q)`` with ``keys[p] == cols[q]`` (repeats on either side expand).

    ``O((len(keys) + len(cols)) log len(cols) + output)``: binary search in sorted ``cols``.
    """
    if keys.size < cols.size and keys.size:
        # sort the short side (a few seed members against a pool of thousands)
        q, p = _matches(keys, cols)
        order = np.lexsort((q, p))
        return p[order], q[order]
    order = np.argsort(cols, kind="stable")
    sc = cols[order]
    lo = np.searchsorted(sc, keys, "left")
    m = np.searchsorted(sc, keys, "right") - lo
    total = int(m.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty
    first = np.cumsum(m) - m
    q = order[np.repeat(lo - first, m) + np.arange(total)]
    return np.repeat(np.arange(keys.size), m), q


def _sparse_block(C: sp.csr_array, rows: np.ndarray, cols: np.ndarray):
    """Entries of ``C[np.ix_(rows, cols)]`` as ``(a, b, values)`` (positions in the block).

    Rows are gathered from ``indptr``, their column indices matched against ``cols`` by
    :func:`_matches`: ``O(nnz(C[rows]) log l + l log l + output)``, nothing of size ``n``.
    """
    start = C.indptr[rows]
    cnt = (C.indptr[rows + 1] - start).astype(np.intp)
    total = int(cnt.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, np.zeros(0, dtype=C.dtype)
    first = np.cumsum(cnt) - cnt
    a = np.repeat(np.arange(rows.size), cnt)
    pos = np.arange(total) - np.repeat(first - start, cnt)
    p, b = _matches(cols, C.indices[pos])
    return a[p], b, C.data[pos[p]]


def as_affinity(A):
    """``A`` itself when it is a :class:`FeatureAffinity`, else ``np.asarray(A)``.

    >>> as_affinity([[0, 1], [1, 0]]).shape
    (2, 2)
    """
    return A if isinstance(A, FeatureAffinity) else np.asarray(A)


def is_dense(A) -> bool:
    """True for an ``n x n`` array, False for an affinity object computing blocks.

    >>> is_dense(np.zeros((2, 2)))
    True
    """
    return not isinstance(A, FeatureAffinity)
