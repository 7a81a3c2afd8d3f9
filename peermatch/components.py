"""The affinity components, computed block by block from the encoded features.

:class:`ScoringPrep` holds the per-call precomputation (``O(n d)``: sparse goal and
expertise matrices, log sizes, sector codes, user columns) and writes any component of a
block of candidates with the kernels below. :func:`peermatch.scoring.affinity` runs it
on row bands to build the dense matrix, :class:`peermatch.affinity.FeatureAffinity` on
any block; both share the kernels, so they give the same values. Formulas: see
:func:`peermatch.scoring.affinity_components`.
"""

from __future__ import annotations

import threading

import numpy as np
import scipy.sparse as sp

from .errors import ConfigError
from .features import ColumnFeature, ColumnSpec, Features
from .text import TextFeature
from .textkernel import add_dense_block, add_sparse_product, sparse_block
from .weights import BASE_COMPONENTS, Weights

__all__ = ["CALIBER_UNKNOWN", "COLUMN_UNKNOWN", "ScoringPrep"]

#: Caliber of a pair where either size is unknown: neutral, neither close nor far.
CALIBER_UNKNOWN: float = 0.5
#: Score of a user column for a pair where either cell is empty: neutral.
COLUMN_UNKNOWN: float = 0.5

# Above this many cells (vocabulary x n), the right factor of co-occurrence products is sparse.
_DENSE_CELLS_MAX = 50_000_000
# Target bytes of one row block of temporaries: small enough to stay in cache.
_BLOCK_BYTES = 1 << 21
# Text terms used by at least this share of the rows are multiplied as dense columns
# (BLAS); the rest, most terms, as sparse rows. At most _DENSE_TERMS_MAX dense terms.
_DENSE_DF_SHARE = 0.2
_DENSE_DF_MIN = 32
_DENSE_TERMS_MAX = 1024


class ScoringPrep:
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
        self.inv = inv
        self.logs = (f.log_size / w.caliber_scale).astype(dt)
        self.size_known = np.asarray(f.size_known, dtype=bool)
        self.size_unknown = np.flatnonzero(~self.size_known)
        self.sector = f.sector
        self.columns: list[tuple[ColumnSpec, ColumnFeature]] = []
        # Per weighted column: (spec, values in dtype, known mask, unknown indices, scale).
        self._cols: dict[str, tuple] = {}
        self.texts = TextPrep(f, w, dt)
        for spec in w.columns:
            if spec.kind == "text":
                continue
            col = f.columns.get(spec.name)
            if col is None:
                raise ConfigError(f"Column {spec.name!r} is weighted but was not encoded; pass "
                                  f"specs=weights.columns to encode().")
            if col.kind != spec.kind:
                raise ConfigError(f"Column {spec.name!r} is weighted as {spec.kind} but was "
                                  f"encoded as {col.kind}; encode with the same ColumnSpec.")
            self.columns.append((spec, col))
            known = np.asarray(col.known, dtype=bool)
            scale = spec.scale if spec.scale is not None else col.span
            values = col.values
            if spec.kind == "numeric" and scale > 0:
                # divided here, in float64: a float32 block can hold neither the cells of a
                # tiny scale (1e-173 rounds to 0) nor its inverse (inf, then 0 * inf = NaN)
                values, scale = np.asarray(values, dtype=np.float64) / scale, 1.0
            self._cols["column:" + spec.name] = (spec, values.astype(dt), known,
                                                 np.flatnonzero(~known), scale)

    def weighted(self) -> list[tuple[str, float]]:
        out = [(k, getattr(self.w, k)) for k in BASE_COMPONENTS]
        out += [("column:" + s.name, s.weight) for s, _ in self.columns]
        out += self.texts.weighted()
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
        return total + self.texts.nbytes()

    def bit_masks(self):
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
        elif name.startswith("text:"):
            self.texts.band(name, r0, r1, out, ws[0][:b], ws[1][:b])
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
        if name in ("goals", "inspiration") and self.bit_masks() is not None:
            Gb, Xb = self._bits
            if name == "goals":
                out[...] = _popcount_and(Gb[rows], Gb[cols])
                _jaccard(out, self.gsize[rows], self.gsize[cols], np.empty_like(out))
            else:
                # e_ij = |X_i & G_j| / |G_j|, e_ji = |G_i & X_j| / |G_i| (0 for empty sets)
                out[...] = _popcount_and(Xb[rows], Gb[cols])
                out *= self.inv[cols][None, :]
                back = _popcount_and(Gb[rows], Xb[cols]).astype(out.dtype)
                back *= self.inv[rows][:, None]
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
        elif name.startswith("text:"):
            self.texts.block(name, rows, cols, out)
        else:
            raise KeyError(name)


class TextPrep:
    """The text components of the affinity (no validation of features).

    For each weighted text column ``c`` (rows ``T_c``: unit TF-IDF vectors, or the user's
    unit vectors), the component ``"text:<c>"`` is

    * side "wants" or "own": ``cos(T_c[i], T_c[j])``;
    * side "offers": ``(e_ij + e_ji + e_ij * e_ji) / 3`` with ``e_ij = cos(T_c[i], W[j])``,
      ``W`` the member's wants (the unit sum of their wants-side rows): the inspiration
      formula of the tag goals, mutual bonus included.

    A cosine of user vectors is clipped to ``[0, 1]`` (opposite directions count as
    unrelated); TF-IDF cosines are ``>= 0`` already. An empty answer is a zero row and
    scores 0 with everyone.

    TF-IDF rows are split by term: the few terms used by many answers (by about
    ``_DENSE_DF_SHARE`` of the rows on both sides of a product) are held as dense columns,
    the many rare terms stay sparse. A row band against every column (the dense matrix)
    multiplies the frequent terms with BLAS and the rare ones in the compiled sparse
    product of :mod:`peermatch.textkernel`; :func:`peermatch.scoring.affinity` asks only
    for the columns from the band's first row on (the components are symmetric). A block
    ``k x l`` of :meth:`block` (a solver's neighbourhood) takes the rare terms through one
    compiled pass that groups the block's entries by term, ``O(e + p)`` (``e`` stored
    entries of its rows and columns, ``p`` their shared-term products; half of ``p`` for a
    block of the same rows and columns, which is symmetric), and the frequent ones through
    a compiled dense loop, ``O(k l f)``: an exact product without any ``n``- or
    vocabulary-sized work. Memory is ``O(n f + nnz)`` (``f`` frequent terms: tens in
    practice, at most ``_DENSE_TERMS_MAX``).
    """

    def __init__(self, f: Features, w: Weights, dt: np.dtype):
        self.dtype = dt
        texts = getattr(f, "texts", {})
        specs = [s for s in w.columns if s.kind == "text"]
        absent = [s.name for s in specs if s.name not in texts]
        if absent:
            raise ConfigError(f"Text column(s) {absent} are weighted but were not encoded; pass "
                              f"specs=weights.columns to encode().")
        self.specs = specs
        rows = {s.name: _as_rows(texts[s.name], dt) for s in specs}
        wants = [texts[s.name] for s in specs if s.side == "wants"]
        offers = [texts[s.name] for s in specs if s.side == "offers"]
        W = _combined_wants(wants, offers, dt) if offers else None
        # the products taken: each column with itself, offers with the wants both ways
        pairs = [(rows[s.name], W if s.side == "offers" else rows[s.name]) for s in specs]
        dense_terms = _frequent_terms([(L, R) for L, R in pairs if sp.issparse(L)], f.n)
        # "text:<name>" -> (side, rows of the column); rows split as above when sparse
        self._rows = {"text:" + s.name: (s.side, _split(rows[s.name], dense_terms, dt))
                      for s in specs}
        self._wants = None if W is None else _split(W, dense_terms, dt)
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        # a lock cannot be pickled (a FeatureAffinity is shipped to the workers of a
        # distributed solve); each copy gets its own
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def weighted(self) -> list[tuple[str, float]]:
        return [("text:" + s.name, s.weight) for s in self.specs]

    def nbytes(self) -> int:
        mats = [M for _, M in self._rows.values()]
        if self._wants is not None:
            mats.append(self._wants)
        return sum(M.nbytes() if isinstance(M, _SplitRows) else M.nbytes for M in mats)

    def band(self, name: str, r0: int, r1: int, out: np.ndarray, back: np.ndarray,
             prod: np.ndarray, c0: int = 0) -> None:
        """Rows ``r0:r1`` of component ``name`` against every column from ``c0`` on (the
        dense path; ``c0 = r0`` gives the part on and right of the diagonal, which is all a
        symmetric matrix needs); ``back`` and ``prod`` are scratch blocks of ``out``'s
        shape."""
        side, M = self._rows[name]
        rows, cols = slice(r0, r1), slice(c0, None)
        if side != "offers":
            self._dot(M, rows, M, cols, out)
            return
        self._dot(M, rows, self._wants, cols, out)
        self._dot(self._wants, rows, M, cols, back)
        _inspiration(out, back, prod)

    def block(self, name: str, rows, cols, out: np.ndarray) -> None:
        """Component ``name`` of the block ``rows x cols`` (index arrays or slices)."""
        side, M = self._rows[name]
        if side != "offers":
            self._dot(M, rows, M, cols, out)
            return
        self._dot(M, rows, self._wants, cols, out)
        if rows is cols:  # e_ji of a block with the same rows and columns: the transpose
            back = np.ascontiguousarray(out.T)
        else:
            back = np.empty_like(out)
            self._dot(self._wants, rows, M, cols, back)
        _inspiration(out, back, np.empty_like(out))

    def _dot(self, L, rows, R, cols, out: np.ndarray) -> None:
        """``out = L[rows] @ R[cols].T``: cosines of unit rows (dense vectors clipped)."""
        if not isinstance(L, _SplitRows):
            np.matmul(L[rows], R[cols].T, out=out)
            np.clip(out, 0, 1, out=out)
            return
        if (isinstance(rows, slice) and isinstance(cols, slice) and cols.stop is None
                and cols.step is None):
            # a band against every column (from cols.start on): the frequent terms with
            # BLAS, the rare ones in one sparse product with R's transposed rare part
            np.matmul(L.F[rows], R.F[cols].T, out=out)
            add_sparse_product(L.R, rows.start, rows.stop, R.rare_t(self._lock), out,
                               cols.start or 0)
            return
        # a block: the rare terms in one compiled pass over the block's own entries, the
        # frequent ones in a compiled dense loop (a BLAS call costs more than the whole
        # product of a few hundred rows); the same rows on both sides (rows is cols) give
        # a symmetric block, half the sparse work
        n = L.R.shape[0]
        r = _positions(rows, n)
        c = r if cols is rows else _positions(cols, n)
        sparse_block(L.R, r, R.R, c, out)
        if L.F.shape[1]:
            add_dense_block(L.F, r, R.F, c, out)


class _SplitRows:
    """Rows of a TF-IDF matrix split by term: ``F`` dense (frequent terms), ``R`` sparse."""

    def __init__(self, M: sp.csr_array, dense_terms: np.ndarray, dt: np.dtype):
        rare = np.setdiff1d(np.arange(M.shape[1]), dense_terms)
        self.F = np.ascontiguousarray(M[:, dense_terms].toarray(), dtype=dt)
        self.R = sp.csr_array(M[:, rare], dtype=dt)
        self.R.sort_indices()
        self._rt = None

    def rare_t(self, lock: threading.Lock) -> sp.csr_array:
        """The rare part transposed (terms x rows), CSR with sorted indices: built on first
        use."""
        with lock:
            if self._rt is None:
                self._rt = sp.csr_array(self.R.T.tocsr())
                self._rt.sort_indices()  # a band from column c0 on searches its rows
            return self._rt

    def nbytes(self) -> int:
        mats = [self.R] + ([self._rt] if self._rt is not None else [])
        return self.F.nbytes + sum(_nbytes(M) for M in mats)


def _frequent_terms(pairs: list[tuple[sp.csr_array, sp.csr_array]], n: int) -> np.ndarray:
    """The terms to multiply densely: those whose share of the product terms of some
    product ``L @ R.T`` (``df_L(t) * df_R(t)``) reaches ``_DENSE_DF_SHARE**2 * n**2``; at
    most ``_DENSE_TERMS_MAX`` of them (the costliest), sorted."""
    if not pairs or n == 0:
        return np.zeros(0, dtype=np.intp)
    V = pairs[0][0].shape[1]

    def df(M):
        return np.bincount(M.indices, minlength=V).astype(np.float64)

    cost = np.max([df(L) * df(R) for L, R in pairs], axis=0)
    need = max(_DENSE_DF_MIN, _DENSE_DF_SHARE * n) ** 2
    terms = np.flatnonzero(cost >= need)
    if terms.size > _DENSE_TERMS_MAX:
        terms = np.sort(terms[np.argsort(-cost[terms], kind="stable")[:_DENSE_TERMS_MAX]])
    return terms


def _split(M, dense_terms: np.ndarray, dt: np.dtype):
    return _SplitRows(M, dense_terms, dt) if sp.issparse(M) else M


def _positions(idx, n: int) -> np.ndarray:
    """Row positions of an index array or a slice."""
    return np.arange(n)[idx] if isinstance(idx, slice) else np.asarray(idx)


def _as_rows(tf: TextFeature, dt: np.dtype):
    """The rows a text column is scored with, in ``dt``: sparse CSR or a dense array."""
    M = tf.matrix
    if sp.issparse(M):
        return sp.csr_array(M, dtype=dt)
    return np.ascontiguousarray(M, dtype=dt)


def _combined_wants(wants: list[TextFeature], offers: list[TextFeature], dt: np.dtype):
    """Unit sum of each member's wants-side rows: what an offer is compared with."""
    if not wants:
        raise ConfigError(f"Text column(s) {[t.name for t in offers]} are declared "
                          f"side='offers' but no text column is side='wants': offers are "
                          f"scored against wants; declare the answers about goals "
                          f"side='wants'.")
    kinds = {t.name: ("tfidf" if t.vectors is None else f"vectors of {t.vectors.shape[1]} "
                      f"dimensions") for t in wants + offers}
    if len(set(kinds.values())) > 1:
        raise ConfigError(f"Offers are scored against wants, so all text columns of both sides "
                          f"need vectors of one space; got {kinds}. Give vectors for all of "
                          f"them (of one model) or for none.")
    if len(wants) == 1:
        return _as_rows(wants[0], dt)
    if wants[0].vectors is None:
        S = sp.csr_array(sum(t.tfidf for t in wants[1:]) + wants[0].tfidf)
        norms = np.sqrt(np.asarray(S.multiply(S).sum(axis=1)).ravel())
        inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return sp.csr_array(sp.diags_array(inv) @ S, dtype=dt)
    V = np.sum([t.vectors for t in wants], axis=0)
    norms = np.linalg.norm(V, axis=1)
    return (V / np.where(norms > 0, norms, 1.0)[:, None]).astype(dt)


def _nbytes(M) -> int:
    if sp.issparse(M):
        return M.data.nbytes + M.indices.nbytes + M.indptr.nbytes
    return M.nbytes


# Kernels shared by ScoringPrep.component (a row band against all columns) and
# ScoringPrep.block (any
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
