"""Pairwise affinity, and the incremental gains a local search needs.

The affinity of candidates ``i`` and ``j`` is ``A[i, j] = sum_k w_k * S_k[i, j]``, every
component ``S_k`` an ``n x n`` matrix with values in ``[0, 1]`` and a zero diagonal
(formulas in ``docs/scoring.md`` and in :func:`affinity_components`), weighted by
:class:`~peermatch.weights.Weights`. The objective of a grouping ``p`` is
``F(p) = sum over i < j with p(i) == p(j) of A[i, j]``.

A solver never recomputes ``F``: it keeps ``W = A @ Z`` (``Z`` the one-hot assignment,
self-pairs left out) and reads every move and swap gain from it in one array expression.

The weights live in :mod:`peermatch.weights`, the component kernels in
:mod:`peermatch.components`; both are re-exported here.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp

from . import core
from ._compat import renamed_keywords
from .components import CALIBER_UNKNOWN, COLUMN_UNKNOWN, ScoringPrep
from .errors import ConfigError, DataWarning
from .features import ColumnSpec, Features
from .textkernel import single_threaded_blas
from .weights import BASE_COMPONENTS, Weights

__all__ = [
    "check_labels",
    "BASE_COMPONENTS",
    "CALIBER_UNKNOWN",
    "COLUMN_UNKNOWN",
    "ColumnSpec",
    "ScoringPrep",
    "Weights",
    "affinity",
    "affinity_components",
    "apply_move",
    "check_affinity",
    "group_affinity",
    "grouping_score",
    "move_gains",
    "swap_gain",
    "swap_gains",
]


# --------------------------------------------------------------------------- affinity


@renamed_keywords(n_jobs="workers")
def affinity(features: Features, weights: Weights | None = None, *,
             dtype=np.float64, workers: int | None = None) -> np.ndarray:
    """Pairwise affinity ``A = sum_k w_k * S_k`` of encoded candidates.

    Parameters
    ----------
    features : Features
        Output of :func:`peermatch.features.encode` (with the weights' user columns).
    weights : Weights or None, default=None
        None uses ``Weights()``. Components with weight 0 are skipped.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        float32 halves memory (``4 n^2`` bytes) and is faster; use it for large ``n``.
    workers : int or None, default=None
        Threads over row blocks; None uses the CPU count. (Formerly ``n_jobs``; that
        keyword still works, with a DeprecationWarning.)

    Returns
    -------
    ndarray of shape (n, n)
        Symmetric, zero diagonal.

    Raises
    ------
    ConfigError
        A weighted user column was not encoded, or was encoded with another kind.

    Notes
    -----
    Built in row blocks that fit in cache: co-occurrence counts are matrix products of the
    multi-hot goal/expertise matrices (BLAS, or sparse products for large vocabularies),
    equality and size closeness are broadcasts of codes and log sizes. Text components
    (sparse products, symmetric) are added afterwards on and right of the diagonal only,
    and mirrored. Time and memory are ``O(n^2)``; only ``A`` and one block of temporaries
    are held.

    See Also
    --------
    affinity_components : the unweighted components, for inspection and explanations.
    check_affinity : validate a matrix you bring yourself.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import CandidateTable
    >>> from peermatch.features import encode
    >>> t = CandidateTable(
    ...     frame=pd.DataFrame({"id": list("abc")}), source="<DataFrame>",
    ...     columns={"id": "id"}, lines=np.arange(2, 5), ids=np.array(list("abc"), dtype=object),
    ...     industry=np.array(["retail", "retail", "software"], dtype=object),
    ...     employees=np.array([10.0, 100.0, np.nan]), revenue=np.full(3, np.nan),
    ...     goals=[["growth"], ["growth", "hiring"], []], expertise=[[], ["growth"], ["hiring"]])
    >>> np.round(affinity(encode(t)), 3)
    array([[0.   , 1.017, 0.55 ],
           [1.017, 0.   , 0.717],
           [0.55 , 0.717, 0.   ]])
    """
    weights = Weights() if weights is None else weights
    prep = ScoringPrep(features, weights, dtype)
    n = features.n
    A = np.empty((n, n), dtype=prep.dtype)
    weighted = [(name, w) for name, w in prep.weighted() if w != 0.0]
    # text components (sparse products, symmetric) are added afterwards, computed on and
    # right of the diagonal only and mirrored: half their product terms
    terms = [(name, w) for name, w in weighted if not name.startswith("text:")]
    texts = [(name, w) for name, w in weighted if name.startswith("text:")]

    def work(r0: int, r1: int, ws: list[np.ndarray]) -> None:
        out = A[r0:r1]
        if not terms:
            out.fill(0)
            return
        tmp = ws[0][: r1 - r0]
        for k, (name, w) in enumerate(terms):
            dest = out if k == 0 else tmp
            prep.component(name, r0, r1, dest, ws[1:])
            if k == 0:
                if w != 1.0:
                    dest *= w
            elif w == 1.0:
                out += dest
            else:
                dest *= w
                out += dest
        _zero_diag(out, r0)

    with _blas_for(prep):
        _run_blocks(work, n, prep.block_rows, workers, prep.dtype)
        if texts:
            _run_blocks(lambda r0, r1, ws: _add_text_upper(prep, texts, A, r0, r1, ws), n,
                        prep.block_rows, workers, prep.dtype, 4)
    return A


def affinity_components(features: Features, weights: Weights | None = None, *,
                        dtype=np.float64) -> dict[str, np.ndarray]:
    """The unweighted affinity components, each ``n x n`` in ``[0, 1]`` with a zero diagonal.

    Parameters
    ----------
    features : Features
        Encoded candidates.
    weights : Weights or None, default=None
        Only ``caliber_scale`` and ``columns`` (modes, scales) are used here.
    dtype : dtype, default=numpy.float64

    Returns
    -------
    dict of str to ndarray
        ``"goals"``, ``"inspiration"``, ``"caliber"``, ``"diversity"`` and
        ``"column:<name>"`` per user column. With ``G_i`` the goal set and ``X_i`` the
        expertise set of ``i``:

        * goals: ``|G_i & G_j| / |G_i | G_j|`` (Jaccard; 0 when both sets are empty);
        * inspiration: ``(e_ij + e_ji + e_ij * e_ji) / 3`` with
          ``e_ij = |X_i & G_j| / |G_j|`` (0 when ``G_j`` is empty): the mean of both
          directions plus a mutual bonus, so that for the same total a mutual pair beats a
          one-sided one;
        * caliber: ``exp(-|log10 s_i - log10 s_j| / tau)``, ``CALIBER_UNKNOWN`` (0.5) when
          either size is unknown;
        * diversity: 1 when the sectors differ, else 0;
        * numeric column: similar ``1 - min(|x_i - x_j| / scale, 1)``, dissimilar
          ``min(|x_i - x_j| / scale, 1)`` (scale defaults to the column's range);
          categorical: similar ``[c_i == c_j]``, dissimilar ``[c_i != c_j]``;
          ``COLUMN_UNKNOWN`` (0.5) when either cell is empty.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import CandidateTable
    >>> from peermatch.features import encode
    >>> t = CandidateTable(
    ...     frame=pd.DataFrame({"id": ["a", "b"]}), source="<DataFrame>", columns={"id": "id"},
    ...     lines=np.array([2, 3]), ids=np.array(["a", "b"], dtype=object),
    ...     industry=np.array(["retail", "software"], dtype=object),
    ...     employees=np.array([10.0, 100.0]), revenue=np.full(2, np.nan),
    ...     goals=[["pricing"], ["hiring"]], expertise=[["hiring"], ["pricing"]])
    >>> S = affinity_components(encode(t))
    >>> {k: round(float(v[0, 1]), 3) for k, v in S.items()}
    {'goals': 0.0, 'inspiration': 1.0, 'caliber': 0.368, 'diversity': 1.0}
    """
    weights = Weights() if weights is None else weights
    prep = ScoringPrep(features, weights, dtype)
    n = features.n
    out = {}
    for name, _ in prep.weighted():
        S = np.empty((n, n), dtype=prep.dtype)

        def work(r0, r1, ws, S=S, name=name):
            prep.component(name, r0, r1, S[r0:r1], ws)
            _zero_diag(S[r0:r1], r0)

        with _blas_for(prep):
            _run_blocks(work, n, prep.block_rows, None, prep.dtype, 2)
        out[name] = S
    return out


def check_affinity(A, n: int | None = None, *, rtol: float = 1e-6) -> np.ndarray:
    """Validate an affinity matrix you bring yourself.

    Parameters
    ----------
    A : array-like of shape (n, n)
        Pairwise affinities (any finite values; larger = better together).
    n : int or None, default=None
        Expected number of candidates.
    rtol : float, default=1e-6
        Asymmetry up to ``rtol * max(1, max|A|)`` is repaired (with a warning).

    Returns
    -------
    ndarray of shape (n, n) of float64
        A symmetric copy with a zero diagonal (self-pairs never count).

    Raises
    ------
    ConfigError
        Not square, wrong size, non-finite entries, or clearly asymmetric (the message gives
        the worst pair).

    Warns
    -----
    DataWarning
        When a nearly symmetric matrix was symmetrised as ``(A + A.T) / 2``.

    Examples
    --------
    >>> check_affinity([[0, 1], [1, 0]], 2).tolist()
    [[0.0, 1.0], [1.0, 0.0]]
    """
    try:
        M = np.array(A, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError("The affinity matrix must be a 2-D array of numbers.") from None
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ConfigError(f"The affinity matrix must be square (n x n). Got shape {M.shape} "
                          f"instead.")
    if n is not None and M.shape[0] != n:
        raise ConfigError(f"The affinity matrix is {M.shape[0]} x {M.shape[1]} but there are "
                          f"n={n} candidates; it needs one row and column per candidate.")
    bad = ~np.isfinite(M)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise ConfigError(f"The affinity matrix has {int(bad.sum())} non-finite entries, "
                          f"e.g. A[{i}, {j}] = {M[i, j]}; replace them with numbers.")
    if M.size:
        diff = np.abs(M - M.T)
        worst = float(diff.max())
        if worst > 0:
            tol = rtol * max(1.0, float(np.abs(M).max()))
            i, j = np.unravel_index(int(diff.argmax()), diff.shape)
            if worst > tol:
                raise ConfigError(
                    f"The affinity matrix must be symmetric: A[{i}, {j}] = {M[i, j]!r} but "
                    f"A[{j}, {i}] = {M[j, i]!r}. Pass (A + A.T) / 2 to use the mean of both.")
            warnings.warn(f"The affinity matrix was nearly symmetric (largest difference "
                          f"{worst:.3g} at [{i}, {j}]); using (A + A.T) / 2.",
                          DataWarning, stacklevel=2)
            M = (M + M.T) / 2
    np.fill_diagonal(M, 0.0)
    return M


def _blas_for(prep: ScoringPrep):
    """One BLAS thread per row-band thread while text components are built."""
    return single_threaded_blas() if prep.texts.specs else contextlib.nullcontext()


def _add_text_upper(prep: ScoringPrep, texts: list[tuple[str, float]], A: np.ndarray,
                    r0: int, r1: int, ws: list[np.ndarray]) -> None:
    """Add the weighted text components of rows ``r0:r1``, columns ``r0:``, to ``A`` and
    their transpose below the diagonal block; the diagonal stays 0.

    Bands write disjoint parts of ``A`` (rows ``r0:r1`` from column ``r0``, columns
    ``r0:r1`` below row ``r1``), so threads need no lock.
    """
    b, m = r1 - r0, A.shape[0] - r0
    T, tmp, back, prod = (w.reshape(-1)[: b * m].reshape(b, m) for w in ws)
    for k, (name, w) in enumerate(texts):
        dest = T if k == 0 else tmp
        prep.texts.band(name, r0, r1, dest, back, prod, c0=r0)
        if w != 1.0:
            dest *= w
        if k:
            T += dest
    A[r0:r1, r0:] += T
    A[r1:, r0:r1] += T[:, b:].T
    _zero_diag(A[r0:r1], r0)


def _zero_diag(block: np.ndarray, r0: int) -> None:
    k = np.arange(block.shape[0])
    block[k, r0 + k] = 0


def _run_blocks(work, n: int, block_rows: int, workers: int | None, dtype, n_scratch=3) -> None:
    """Call ``work(r0, r1, scratch)`` on every row block, each thread with its own scratch."""
    jobs = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    jobs = min(jobs, -(-n // block_rows)) if n else 1

    def run(part: range) -> None:
        ws = [np.empty((block_rows, n), dtype=dtype) for _ in range(n_scratch)]
        for r0 in part:
            work(r0, min(n, r0 + block_rows), ws)

    starts = range(0, n, block_rows)
    if jobs <= 1:
        run(starts)
        return
    # numpy ufuncs and BLAS release the GIL: threads over interleaved row blocks.
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(run, [starts[k::jobs] for k in range(jobs)]))


# --------------------------------------------------------------------------- gains


def check_labels(labels, n: int | None = None) -> np.ndarray:
    """Group labels as an int64 array, checked: 1-D integers, one per candidate.

    >>> check_labels([0, 1, 1], 3).tolist()
    [0, 1, 1]
    """
    lab = np.asarray(labels)
    if lab.ndim != 1 or (lab.size and not np.issubdtype(lab.dtype, np.integer)):
        raise ConfigError(f"The 'labels' parameter must be a 1-D array of integer group "
                          f"indices. Got an array of shape {lab.shape} and dtype {lab.dtype}.")
    if n is not None and lab.shape[0] != n:
        raise ConfigError(f"The 'labels' parameter has {lab.shape[0]} entries but A has n={n} "
                          f"rows; give one label per candidate.")
    return lab.astype(np.int64, copy=False)


#: The name under which other modules may import :func:`check_labels` (one function).
label_codes = check_labels


def group_affinity(A: np.ndarray, labels, m: int | None = None) -> np.ndarray:
    """Affinity of every candidate to every group: ``W[i, g] = sum_{j in g, j != i} A[i, j]``.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Symmetric affinity.
    labels : array-like of shape (n,) of int
        Group of each candidate in ``0..m-1``; ``-1`` marks an unplaced candidate (it
        belongs to no group, its row of ``W`` is still filled).
    m : int or None, default=None
        Number of groups; None uses ``labels.max() + 1``.

    Returns
    -------
    ndarray of shape (n, m)
        Same dtype as ``A`` (float64 for integer input).

    Notes
    -----
    ``W = A @ Z`` with ``Z`` the one-hot assignment, computed as the sparse product
    ``(Z.T @ A).T`` (sums of member rows, valid because ``A`` is symmetric): ``O(n^2)``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> group_affinity(A, [0, 0, 1]).tolist()
    [[1.0, 2.0], [1.0, 3.0], [5.0, 0.0]]
    """
    A = np.asarray(A)
    n = A.shape[0]
    lab = check_labels(labels, n)
    if m is None:
        m = int(lab.max()) + 1 if lab.size else 0
    if lab.size and int(lab.max()) >= m:
        raise ConfigError(f"A label is {int(lab.max())} but m={m} groups were given; labels must "
                          f"be in 0..m-1 (or -1 for unplaced).")
    dt = A.dtype if np.issubdtype(A.dtype, np.floating) else np.float64
    placed = np.flatnonzero(lab >= 0)
    Zt = sp.csr_array((np.ones(placed.size, dtype=dt), (lab[placed], placed)), shape=(m, n))
    W = np.ascontiguousarray((Zt @ A.astype(dt, copy=False)).T)
    # Self-pairs never count (A may come with a non-zero diagonal).
    W[placed, lab[placed]] -= np.diagonal(A)[placed]
    return W


def move_gains(W: np.ndarray, labels) -> np.ndarray:
    """Gain in ``F`` of moving each candidate to each group: ``W[i, h] - W[i, p(i)]``.

    Parameters
    ----------
    W : ndarray of shape (n, m)
        From :func:`group_affinity` (kept up to date with :func:`apply_move`).
    labels : array-like of shape (n,) of int
        Current groups (``-1``: unplaced, whose gains are the insertion gains ``W[i, h]``).

    Returns
    -------
    ndarray of shape (n, m)
        0 in each candidate's current group. Size rules are not checked here.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[1.0, 2.0], [1.0, 3.0], [5.0, 0.0]])
    >>> move_gains(W, [0, 0, 1]).tolist()
    [[0.0, 1.0], [0.0, 2.0], [5.0, 0.0]]
    """
    W = np.asarray(W)
    lab = check_labels(labels, W.shape[0])
    own = np.where(lab >= 0, W[np.arange(W.shape[0]), np.maximum(lab, 0)], 0)
    return W - own[:, None]


def swap_gain(A: np.ndarray, W: np.ndarray, labels, i: int, j: int) -> float:
    """Gain in ``F`` of swapping the groups of ``i`` and ``j`` (0 when they share one).

    ``W[i, p(j)] - W[i, p(i)] + W[j, p(i)] - W[j, p(j)] - 2 A[i, j]``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> lab = np.array([0, 0, 1])
    >>> swap_gain(A, group_affinity(A, lab), lab, 0, 2)
    2.0
    """
    return float(swap_gains(A, W, labels, np.array([i]), np.array([j]))[0])


def swap_gains(A: np.ndarray, W: np.ndarray, labels, I, J) -> np.ndarray:
    """Vectorised :func:`swap_gain` for arrays of pairs ``(I[k], J[k])``.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Symmetric affinity.
    W : ndarray of shape (n, m)
        From :func:`group_affinity`.
    labels : array-like of shape (n,) of int
        Current groups (all placed).
    I, J : array-like of int
        Candidate pairs, same shape.

    Returns
    -------
    ndarray of float, shape of ``I``
        0 where ``I`` and ``J`` are in the same group.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> lab = np.array([0, 0, 1])
    >>> swap_gains(A, group_affinity(A, lab), lab, [0, 1, 0], [2, 2, 1]).tolist()
    [2.0, 1.0, 0.0]
    """
    lab = check_labels(labels)
    I = np.asarray(I, dtype=np.int64)
    J = np.asarray(J, dtype=np.int64)
    pi, pj = lab[I], lab[J]
    g = W[I, pj] - W[I, pi] + W[J, pi] - W[J, pj] - 2 * A[I, J]
    return np.where(pi == pj, 0.0, g)


def apply_move(A: np.ndarray, W: np.ndarray, labels: np.ndarray, i: int, g: int) -> float:
    """Move candidate ``i`` to group ``g``, updating ``W`` and ``labels`` in place in ``O(n)``.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Symmetric affinity.
    W : ndarray of shape (n, m)
        Modified in place.
    labels : ndarray of shape (n,) of int
        Modified in place (must be a writable integer array).
    i, g : int
        Candidate and target group (``g = -1`` unplaces ``i``).

    Returns
    -------
    float
        The gain in ``F`` realised by the move.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> lab = np.array([0, 0, 1]); W = group_affinity(A, lab)
    >>> apply_move(A, W, lab, 1, 1), lab.tolist(), W.tolist()
    (2.0, [0, 1, 1], [[0.0, 3.0], [1.0, 3.0], [2.0, 3.0]])
    """
    old = int(labels[i])
    if old == g:
        return 0.0
    row = A[i]  # row i == column i: A is symmetric, and a row is contiguous
    diag = row[i]
    gain = (W[i, g] if g >= 0 else 0.0) - (W[i, old] if old >= 0 else 0.0)
    if old >= 0:
        W[:, old] -= row
        W[i, old] += diag  # i's own row never counts itself
    if g >= 0:
        W[:, g] += row
        W[i, g] -= diag
    labels[i] = g
    return float(gain)


def grouping_score(A: np.ndarray, labels) -> float:
    """Objective ``F = sum over pairs i < j in the same group of A[i, j]``.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Affinity (only the upper triangle is read).
    labels : array-like of shape (n,) of int
        Groups; ``-1`` (unplaced) candidates pair with nobody.

    Returns
    -------
    float

    Notes
    -----
    Gathers only same-group pairs: ``O(sum of size^2)`` time and memory, not ``O(n^2 m)``.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> grouping_score(A, [0, 0, 1]), grouping_score(A, [0, 0, 0])
    (1.0, 6.0)
    """
    # A dense matrix as an array; an affinity object (with ``block``) as it is.
    if isinstance(A, np.ndarray) or not hasattr(A, "block"):
        A = np.asarray(A)
    lab = check_labels(labels, A.shape[0])
    return core.pair_total(A, lab)
