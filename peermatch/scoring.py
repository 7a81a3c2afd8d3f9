"""Weights, pairwise affinity, and the incremental gains a local search needs.

The affinity of candidates ``i`` and ``j`` is ``A[i, j] = sum_k w_k * S_k[i, j]``, every
component ``S_k`` an ``n x n`` matrix with values in ``[0, 1]`` and a zero diagonal
(formulas in ``docs/scoring.md`` and in :func:`affinity_components`). The objective of a
grouping ``p`` is ``F(p) = sum over i < j with p(i) == p(j) of A[i, j]``.

A solver never recomputes ``F``: it keeps ``W = A @ Z`` (``Z`` the one-hot assignment,
self-pairs left out) and reads every move and swap gain from it in one array expression.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp

from .errors import ConfigError, DataWarning
from .features import ColumnFeature, ColumnSpec, Features

__all__ = [
    "check_labels",
    "CALIBER_UNKNOWN",
    "COLUMN_UNKNOWN",
    "ColumnSpec",
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

#: Caliber of a pair where either size is unknown: neutral, neither close nor far.
CALIBER_UNKNOWN: float = 0.5
#: Score of a user column for a pair where either cell is empty: neutral.
COLUMN_UNKNOWN: float = 0.5

_BASE_COMPONENTS = ("goals", "inspiration", "caliber", "diversity")
_WEIGHT_KEYS = ("goals", "inspiration", "caliber", "diversity", "caliber_scale", "columns")
# Above this many cells (vocabulary x n), the right factor of co-occurrence products is sparse.
_DENSE_CELLS_MAX = 50_000_000
# Target bytes of one row block of temporaries: small enough to stay in cache.
_BLOCK_BYTES = 1 << 21


# --------------------------------------------------------------------------- weights


@dataclass(frozen=True)
class Weights:
    """How much each affinity component counts.

    Parameters
    ----------
    goals : float, default=1.0
        Shared goals (Jaccard overlap of goal sets).
    inspiration : float, default=1.0
        Expertise of one meets goals of the other, both ways, mutual pairs first.
    caliber : float, default=0.5
        Similar company size.
    diversity : float, default=0.3
        Different sectors.
    caliber_scale : float, default=1.0
        ``tau`` of the caliber component: sizes ``tau`` decades apart score ``exp(-1)``.
        Must be positive.
    columns : tuple of ColumnSpec, default=()
        User columns, each with its own mode and weight.

    Notes
    -----
    Weights are "how much you care" and may be any finite float: 0 switches a component
    off, a negative weight pushes such pairs apart (e.g. ``diversity=-1`` groups by
    industry). Validation happens at construction; the dataclass is frozen.

    Examples
    --------
    >>> w = Weights(caliber=0.0)
    >>> w.to_dict()["caliber"], Weights.from_dict(w.to_dict()) == w
    (0.0, True)
    """

    goals: float = 1.0
    inspiration: float = 1.0
    caliber: float = 0.5
    diversity: float = 0.3
    caliber_scale: float = 1.0
    columns: tuple[ColumnSpec, ...] = ()

    def __post_init__(self):
        self.validate()

    def validate(self) -> Weights:
        """Check every field; raise :class:`~peermatch.errors.ConfigError` if one is bad.

        Returns
        -------
        Weights
            ``self``, so calls chain.
        """
        for name in _BASE_COMPONENTS + ("caliber_scale",):
            v = getattr(self, name)
            if (isinstance(v, bool) or not isinstance(v, int | float | np.integer | np.floating)
                    or not math.isfinite(float(v))):
                raise ConfigError(f"The {name!r} parameter of Weights must be a finite number. "
                                  f"Got {v!r} instead.")
            object.__setattr__(self, name, float(v))
        if self.caliber_scale <= 0:
            raise ConfigError(f"The 'caliber_scale' parameter of Weights must be > 0 (decades "
                              f"of company size). Got {self.caliber_scale!r} instead.")
        cols = self.columns
        if isinstance(cols, ColumnSpec | Mapping | str):
            cols = (cols,)
        specs = tuple(c if isinstance(c, ColumnSpec) else ColumnSpec.from_dict(c) for c in cols)
        names = [c.name for c in specs]
        dup = sorted({x for x in names if names.count(x) > 1})
        if dup:
            raise ConfigError(f"The 'columns' parameter of Weights names column(s) {dup} more "
                              f"than once; give each column one entry.")
        object.__setattr__(self, "columns", specs)
        return self

    @classmethod
    def from_dict(cls, d: Mapping) -> Weights:
        """Build weights from a mapping such as the ``[weights]`` table of a TOML file.

        Parameters
        ----------
        d : mapping
            Keys among ``goals, inspiration, caliber, diversity, caliber_scale, columns``;
            ``columns`` is a list of mappings with keys of :class:`ColumnSpec`.

        Raises
        ------
        ConfigError
            An unknown key (the message lists the valid ones) or a bad value.

        Examples
        --------
        >>> Weights.from_dict({"goals": 2, "columns": [{"name": "tenure"}]}).columns[0].name
        'tenure'
        """
        if not isinstance(d, Mapping):
            raise ConfigError(f"Weights must be given as a table (mapping). Got {d!r} instead.")
        unknown = sorted(set(d) - set(_WEIGHT_KEYS))
        if unknown:
            raise ConfigError(f"Unknown weights key(s) {unknown}; valid keys are "
                              f"{list(_WEIGHT_KEYS)}.")
        kw = dict(d)
        if "columns" in kw:
            cols = kw["columns"]
            if isinstance(cols, Mapping) or not isinstance(cols, Sequence) or isinstance(cols,
                                                                                        str):
                raise ConfigError("The 'columns' key of the weights must be a list of tables "
                                  "([[weights.columns]] entries).")
            kw["columns"] = tuple(ColumnSpec.from_dict(c) for c in cols)
        return cls(**kw)

    @classmethod
    def from_toml(cls, path: str | os.PathLike) -> Weights:
        """Read the ``[weights]`` table of a TOML file.

        Format::

            [weights]
            goals = 1.0
            inspiration = 1.0
            caliber = 0.5
            diversity = 0.3
            caliber_scale = 1.0

            [[weights.columns]]
            name = "years_in_role"
            kind = "numeric"        # or "categorical"
            mode = "dissimilar"     # or "similar"
            weight = 0.2

        Raises
        ------
        ConfigError
            Missing file, invalid TOML, no ``[weights]`` table, unknown key or bad value;
            the message names the file.
        """
        from .config import read_toml

        name = os.fspath(path)
        doc = read_toml(path, "weights")
        if "weights" not in doc:
            raise ConfigError(f"{name}: no [weights] table; found tables {sorted(doc)}.")
        try:
            return cls.from_dict(doc["weights"])
        except ConfigError as exc:
            raise ConfigError(f"{name} [weights]: {exc}") from None

    def to_dict(self) -> dict:
        """Return the weights as plain types (what :meth:`from_dict` reads back)."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "columns"}
        out["columns"] = [c.to_dict() for c in self.columns]
        return out

    def to_toml(self) -> str:
        """Return the weights as a TOML ``[weights]`` table (what :meth:`from_toml` reads).

        Examples
        --------
        >>> print(Weights(columns=(ColumnSpec("tenure"),)).to_toml(), end="")
        [weights]
        goals = 1.0
        inspiration = 1.0
        caliber = 0.5
        diversity = 0.3
        caliber_scale = 1.0
        <BLANKLINE>
        [[weights.columns]]
        name = "tenure"
        kind = "numeric"
        mode = "similar"
        weight = 1.0
        """
        d = self.to_dict()
        lines = ["[weights]"]
        lines += [f"{k} = {d[k]!r}" for k in _WEIGHT_KEYS if k != "columns"]
        for col in d["columns"]:
            lines += ["", "[[weights.columns]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in col.items()]
        return "\n".join(lines) + "\n"


def _toml_value(v) -> str:
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(float(v))


# --------------------------------------------------------------------------- affinity


def affinity(features: Features, weights: Weights | None = None, *,
             dtype=np.float64, n_jobs: int | None = None) -> np.ndarray:
    """Pairwise affinity ``A = sum_k w_k * S_k`` of encoded candidates.

    Parameters
    ----------
    features : Features
        Output of :func:`peermatch.features.encode` (with the weights' user columns).
    weights : Weights or None, default=None
        None uses ``Weights()``. Components with weight 0 are skipped.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        float32 halves memory (``4 n^2`` bytes) and is faster; use it for large ``n``.
    n_jobs : int or None, default=None
        Threads over row blocks; None uses the CPU count.

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
    equality and size closeness are broadcasts of codes and log sizes. Time and memory are
    ``O(n^2)``; only ``A`` and one block of temporaries are held.

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
    prep = _Prep(features, weights, dtype)
    n = features.n
    A = np.empty((n, n), dtype=prep.dtype)
    terms = [(name, w) for name, w in prep.weighted() if w != 0.0]

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

    _run_blocks(work, n, prep.block_rows, n_jobs, prep.dtype)
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
    prep = _Prep(features, weights, dtype)
    n = features.n
    out = {}
    for name, _ in prep.weighted():
        S = np.empty((n, n), dtype=prep.dtype)

        def work(r0, r1, ws, S=S, name=name):
            prep.component(name, r0, r1, S[r0:r1], ws)
            _zero_diag(S[r0:r1], r0)

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


class _Prep:
    """Per-call precomputation shared by the row-block kernels (no validation of features).

    Holds ``O(n d)`` arrays only: :meth:`component` writes a row band ``r0:r1`` of a
    component against every column (what :func:`affinity` runs), :meth:`block` any block
    ``rows x cols`` (what :class:`peermatch.affinity.FeatureAffinity` runs). Both share the
    kernels below, so they give the same values.
    """

    def __init__(self, f: Features, w: Weights, dtype):
        dt = np.dtype(dtype)
        if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ConfigError(f"The 'dtype' parameter must be float32 or float64. Got {dtype!r}.")
        self.dtype = dt
        self.f = f
        self.w = w
        n = f.n
        self.n = n
        self.block_rows = max(8, min(max(n, 1), _BLOCK_BYTES // max(1, n * dt.itemsize)))
        V = len(f.vocab)
        # Co-occurrence counts are (sparse multi-hot rows) @ (dense transposed matrix): scipy's
        # single-threaded sparse-dense product costs nnz(rows) * n, less than a dense GEMM
        # (V * n per row), and unlike BLAS it cannot oversubscribe the block threads.
        # Very large vocabularies fall back to sparse @ sparse.
        self.dense = V * n <= _DENSE_CELLS_MAX
        gsize = np.asarray(f.goals.sum(axis=1)).ravel().astype(dt)
        # Jaccard denominators: an empty goal set counts as size 0.5 so that the union is
        # never 0 (the intersection is then 0, hence the score too): no clamping pass.
        self.gsize = np.where(gsize > 0, gsize, 0.5).astype(dt)
        # Goals scaled by 1/|G_j| (0 rows for empty sets), so X_i . Gn_j = e_ij directly.
        inv = np.divide(1, gsize, out=np.zeros_like(gsize), where=gsize > 0)
        self.G = sp.csr_array(f.goals, dtype=dt)
        self.X = sp.csr_array(f.expertise, dtype=dt)
        self.Gn = sp.csr_array(sp.diags_array(inv) @ self.G, dtype=dt)

        def right(M):
            return np.ascontiguousarray(M.T.toarray()) if self.dense else M.T.tocsc()

        self.GT, self.XT, self.GnT = right(self.G), right(self.X), right(self.Gn)
        # Term sets as bit masks for blocks (FeatureAffinity.block): co-occurrence counts
        # are popcounts of ANDed words, no sparse indexing and no BLAS call (whose thread
        # start-up costs far more than a 160 x 160 product). Built on first use.
        self._bits = None
        self._inv = inv
        self.logs = (f.log_size / w.caliber_scale).astype(dt)
        self.size_known = np.asarray(f.size_known, dtype=bool)
        self.size_unknown = np.flatnonzero(~self.size_known)
        self.sector = f.sector
        self.columns: list[tuple[ColumnSpec, ColumnFeature]] = []
        # Per weighted column: (spec, values in dtype, known mask, unknown indices, scale).
        self._cols: dict[str, tuple] = {}
        for spec in w.columns:
            col = f.columns.get(spec.name)
            if col is None:
                raise ConfigError(f"Column {spec.name!r} is weighted but was not encoded; pass "
                                  f"columns=weights.columns to encode().")
            if col.kind != spec.kind:
                raise ConfigError(f"Column {spec.name!r} is weighted as {spec.kind} but was "
                                  f"encoded as {col.kind}; encode with the same ColumnSpec.")
            self.columns.append((spec, col))
            known = np.asarray(col.known, dtype=bool)
            scale = spec.scale if spec.scale is not None else col.span
            self._cols["column:" + spec.name] = (spec, col.values.astype(dt), known,
                                                 np.flatnonzero(~known), scale)

    def weighted(self) -> list[tuple[str, float]]:
        out = [(k, getattr(self.w, k)) for k in _BASE_COMPONENTS]
        out += [("column:" + s.name, s.weight) for s, _ in self.columns]
        return out

    def nbytes(self) -> int:
        """Bytes held by the precomputed arrays (roughly: scipy index arrays included)."""
        total = 0
        for M in (self.G, self.X, self.Gn, self.GT, self.XT, self.GnT):
            if sp.issparse(M):
                total += M.data.nbytes + M.indices.nbytes + M.indptr.nbytes
            else:
                total += M.nbytes
        for a in (self.gsize, self.logs, self.size_known, self.size_unknown, self.sector):
            total += a.nbytes
        for _, x, known, unknown, _ in self._cols.values():
            total += x.nbytes + known.nbytes + unknown.nbytes
        return total

    def _bit_masks(self):
        """``(goal bits, expertise bits)``, ``(n, words)`` uint64, or None (huge vocabulary
        or a numpy without ``bitwise_count``)."""
        if self._bits is None:
            V = self.G.shape[1]
            words = max(1, -(-V // 64))
            if words > 8 or not hasattr(np, "bitwise_count"):
                self._bits = False
            else:
                def bits(M):
                    coo = sp.coo_array(M)
                    B = np.zeros((self.n, words), dtype=np.uint64)
                    one = np.left_shift(np.uint64(1), (coo.col % 64).astype(np.uint64))
                    np.bitwise_or.at(B, (coo.row, coo.col // 64), one)
                    return B

                self._bits = (bits(self.G), bits(self.X))
        return self._bits or None

    def _cooc(self, left, right_t, out: np.ndarray) -> None:
        """``out = left @ right_t``: counts of shared terms (``left`` sparse rows)."""
        prod = left @ right_t
        out[...] = prod if self.dense else prod.toarray()

    def component(self, name: str, r0: int, r1: int, out: np.ndarray,
                  ws: list[np.ndarray]) -> None:
        """Write rows ``r0:r1`` of component ``name`` into ``out`` (diagonal not cleared).

        ``ws`` holds two scratch blocks of at least ``r1 - r0`` rows: reusing them avoids a
        page-faulting allocation per block.
        """
        b = r1 - r0
        if name == "goals":
            self._cooc(self.G[r0:r1], self.GT, out)
            _jaccard(out, self.gsize[r0:r1], self.gsize, ws[0][:b])
        elif name == "inspiration":
            self._cooc(self.X[r0:r1], self.GnT, out)
            back = ws[0][:b]
            self._cooc(self.Gn[r0:r1], self.XT, back)
            _inspiration(out, back, ws[1][:b])
        elif name == "caliber":
            _caliber(self.logs[r0:r1], self.logs, out)
            if self.size_unknown.size:
                rows = self.size_unknown[(self.size_unknown >= r0) & (self.size_unknown < r1)]
                _fill_unknown(out, rows - r0, self.size_unknown, CALIBER_UNKNOWN)
        elif name == "diversity":
            np.not_equal(self.sector[r0:r1, None], self.sector[None, :], out=out)
        elif name.startswith("column:"):
            spec, x, _, unknown, scale = self._cols[name]
            _column_kernel(spec, scale, x[r0:r1], x, out)
            if unknown.size:
                rows = unknown[(unknown >= r0) & (unknown < r1)]
                _fill_unknown(out, rows - r0, unknown, COLUMN_UNKNOWN)
        else:  # pragma: no cover - names come from weighted()
            raise KeyError(name)

    def block(self, name: str, rows: np.ndarray, cols: np.ndarray, out: np.ndarray) -> None:
        """Write component ``name`` of the block ``rows x cols`` into ``out`` (diagonal kept).

        ``rows`` and ``cols`` are integer index arrays (any order, repeats allowed); ``out``
        has shape ``(len(rows), len(cols))`` and this object's dtype. Sparse operands are
        row-sliced (``csr[rows]``), the transposed right-hand ones column-selected
        (``right_t[:, cols]``): time ``O(nnz(rows) * len(cols) + d)``, no ``n``-sized work.
        """
        if out.size == 0:
            return
        if name in ("goals", "inspiration") and self._bit_masks() is not None:
            Gb, Xb = self._bits
            if name == "goals":
                out[...] = _popcount_and(Gb[rows], Gb[cols])
                _jaccard(out, self.gsize[rows], self.gsize[cols], np.empty_like(out))
            else:
                # e_ij = |X_i & G_j| / |G_j|, e_ji = |G_i & X_j| / |G_i| (0 for empty sets)
                out[...] = _popcount_and(Xb[rows], Gb[cols])
                out *= self._inv[cols][None, :]
                back = _popcount_and(Gb[rows], Xb[cols]).astype(out.dtype)
                back *= self._inv[rows][:, None]
                _inspiration(out, back, np.empty_like(out))
            return
        if name == "goals":
            self._cooc(self.G[rows], self.GT[:, cols], out)
            _jaccard(out, self.gsize[rows], self.gsize[cols], np.empty_like(out))
        elif name == "inspiration":
            self._cooc(self.X[rows], self.GnT[:, cols], out)
            back = np.empty_like(out)
            self._cooc(self.Gn[rows], self.XT[:, cols], back)
            _inspiration(out, back, np.empty_like(out))
        elif name == "caliber":
            _caliber(self.logs[rows], self.logs[cols], out)
            if self.size_unknown.size:
                _fill_unknown(out, np.flatnonzero(~self.size_known[rows]),
                              np.flatnonzero(~self.size_known[cols]), CALIBER_UNKNOWN)
        elif name == "diversity":
            np.not_equal(self.sector[rows, None], self.sector[None, cols], out=out)
        elif name.startswith("column:"):
            spec, x, known, unknown, scale = self._cols[name]
            _column_kernel(spec, scale, x[rows], x[cols], out)
            if unknown.size:
                _fill_unknown(out, np.flatnonzero(~known[rows]), np.flatnonzero(~known[cols]),
                              COLUMN_UNKNOWN)
        else:
            raise KeyError(name)


# Kernels shared by _Prep.component (a row band against all columns) and _Prep.block (any
# block): the left operands are the block's rows, the right ones its columns.


def _popcount_and(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``|L_a & R_b|`` for bit-mask rows ``left`` (r, words) and ``right`` (c, words)."""
    acc = np.bitwise_count(left[:, None, 0] & right[None, :, 0])
    for k in range(1, left.shape[1]):
        acc += np.bitwise_count(left[:, None, k] & right[None, :, k])
    return acc


def _jaccard(out: np.ndarray, size_r: np.ndarray, size_c: np.ndarray, union: np.ndarray) -> None:
    """``out`` holds ``|G_i & G_j|``; turn it into ``|G_i & G_j| / |G_i | G_j|``."""
    np.add(size_r[:, None], size_c[None, :], out=union)
    union -= out
    out /= union


def _inspiration(out: np.ndarray, back: np.ndarray, prod: np.ndarray) -> None:
    """``out`` holds ``e_ij``, ``back`` holds ``e_ji``: ``out = (e_ij + e_ji + e_ij e_ji) / 3``."""
    # (e_ij + e_ji + e_ij e_ji) / 3 = (e_ij + e_ji (1 + e_ij)) / 3
    np.add(out, 1, out=prod)
    prod *= back
    out += prod
    out *= 1 / 3


def _caliber(logs_r: np.ndarray, logs_c: np.ndarray, out: np.ndarray) -> None:
    """``exp(-|logs_r[a] - logs_c[b]|)`` (logs already divided by the caliber scale)."""
    np.subtract(logs_r[:, None], logs_c[None, :], out=out)
    np.abs(out, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)


def _fill_unknown(out: np.ndarray, rows: np.ndarray, cols: np.ndarray, value: float) -> None:
    """Set the block rows ``rows`` and columns ``cols`` (positions in ``out``) to ``value``."""
    if cols.size:
        out[:, cols] = value
    if rows.size:
        out[rows] = value


def _column_kernel(spec: ColumnSpec, scale: float, x_r: np.ndarray, x_c: np.ndarray,
                   out: np.ndarray) -> None:
    """A user column's score for known cells (unknown ones are filled by the caller)."""
    if spec.kind == "categorical":
        op = np.equal if spec.mode == "similar" else np.not_equal
        op(x_r[:, None], x_c[None, :], out=out)
        return
    np.subtract(x_r[:, None], x_c[None, :], out=out)
    np.abs(out, out=out)
    if scale > 0:
        out *= 1 / scale
        np.minimum(out, 1, out=out)
    else:  # all equal: every pair is at distance 0
        out.fill(0)
    if spec.mode == "similar":
        np.subtract(1, out, out=out)


def _zero_diag(block: np.ndarray, r0: int) -> None:
    k = np.arange(block.shape[0])
    block[k, r0 + k] = 0


def _run_blocks(work, n: int, block_rows: int, n_jobs: int | None, dtype, n_scratch=3) -> None:
    """Call ``work(r0, r1, scratch)`` on every row block, each thread with its own scratch."""
    jobs = (os.cpu_count() or 1) if n_jobs is None else max(1, int(n_jobs))
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


_labels = check_labels  # the former private name


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
    from .affinity import as_affinity, is_dense

    A = as_affinity(A)
    lab = check_labels(labels, A.shape[0])
    if not is_dense(A):
        placed = lab >= 0
        if not placed.any():
            return 0.0
        idx = np.flatnonzero(placed)
        sub = lab[idx]
        return float(sum(0.5 * A.block(idx[sub == g]).sum() for g in np.unique(sub)))
    rows, cols = _same_group_pairs(lab)
    return float(A[rows, cols].sum(dtype=np.float64))


def _same_group_pairs(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``i < j`` with ``lab[i] == lab[j] >= 0``, vectorised in ``O(sum size^2)``."""
    order = np.flatnonzero(lab >= 0)
    order = order[np.argsort(lab[order], kind="stable")]
    if order.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    g = lab[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, order.size])
    # For sorted position k (group start s, size z): pair it with positions k+1 .. s+z-1.
    ends = np.repeat(starts + sizes, sizes)
    pos = np.arange(order.size)
    count = ends - pos - 1
    total = int(count.sum())
    first = np.repeat(pos, count)
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    second = first + 1 + offset
    return order[first], order[second]
