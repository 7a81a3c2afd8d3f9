"""Pure numpy local search: batched tabu search on random blocks of a few groups.

Internal module. The compiled search (:mod:`peermatch.solve._kernels`) needs numba to
compile its kernels first (25-50 s on a fresh install); :func:`numpy_search` is the search
that runs meanwhile. It needs nothing but numpy and works, like the kernels, on the
must-link *units* of a :class:`~peermatch.solve._prep.Prepared`.

Why blocks
----------
The objective is a sum over groups, and a move or swap between two groups changes those
two groups only. Split the ``m`` groups at random into blocks of about ``q`` groups: the
units of one block can be regrouped among the block's groups without touching any other
group, so the blocks are independent sub-problems, and every hard rule (sizes, cannot-link,
allowed groups, group sums) is a rule on single groups, hence on single blocks. One
*iteration* applies one tabu step in every block at once: the gains of every move and
every swap of every block are a few array expressions over a ``(B, L, L)`` stack (``B``
blocks of at most ``L`` units), so numpy's per-call overhead is paid once for all blocks.
After a short run (``T`` iterations) each block keeps the best grouping it saw, the
groups are split into new random blocks, and so on until the deadline. Over rounds every
pair of groups meets often, and a block of ``q`` groups allows the chains of moves
between several groups that plain move/swap descent cannot find; the short runs, each
restarted from the best grouping of its block, act as an iterated local search whose
perturbation is the tabu walk itself.

Bookkeeping inside a block (``b`` block, ``i, j`` units, ``k`` local group):

* ``W[b, i, k]``: affinity of unit ``i`` to the members of local group ``k``
  (``W = A Z`` per block); a move of ``i`` to ``k`` gains ``D[b, i, k] = W[b, i, k] -
  W[b, i, own]`` and a swap of ``i`` and ``j`` gains ``D[b, i, k_j] + D[b, j, k_i] - 2
  A[i, j]``; the ``(B, L, L)`` array of ``D[b, i, k_j]`` is one batched product
  ``D @ Z^T``. An applied move updates two columns, ``O(L)``.
* ``C[b, i, k]``: cannot-link partners of ``i`` in ``k``, plus one for ``i``'s own group,
  plus one when ``i`` may not join ``k`` (allowed groups). A swap of ``i`` and ``j`` is
  then feasible for these rules exactly when ``C[b, i, k_j] + C[b, j, k_i] = 2 adj[i, j]``
  (a partner leaving is the only partner there), again one batched product.
* group sums: "at most one member per group" sums with 0/1 coefficients become cannot-link
  pairs between their members (equivalent and far cheaper); every other sum keeps its
  totals ``S[b, r, k]`` and its swaps are checked on ``(B, L, L)`` arrays, one sum at a
  time.
* sizes with unit weights > 1 (must-link units) are checked per swap; with unit weights
  a swap never changes a size.

Meeting slots, no-singleton rules and free-label mode are not handled: with any of them
on, :func:`numpy_search` returns the start unchanged.
"""

from __future__ import annotations

import time

import numpy as np

from .. import core
from ._prep import F_ALLOWED, F_CANNOT_LINK, F_GROUP_SUMS, F_UNIT_WEIGHTS, Prepared

__all__ = ["numpy_search", "objective"]

_TOL = 1e-9
#: Units per block the search aims at (``q`` groups of the average size).
_BLOCK_UNITS = 96
#: Largest "at most one per group" sum turned into cannot-link pairs (s^2 pairs).
_CLIQUE_MAX = 256
#: Iterations per round (each block runs this many tabu steps before re-blocking).
_ROUND_ITER = 40
#: Rounds in a row without a single feasible step before the search gives up early.
_STUCK = 50


def objective(A: np.ndarray, labels: np.ndarray, m: int) -> float:
    """Sum of ``A`` over the pairs of units with the same label.

    Parameters
    ----------
    A : ndarray of shape (nu, nu)
        Symmetric affinity between units, zero diagonal.
    labels : ndarray of shape (nu,) of int
        Group of each unit, in ``0..m-1``.
    m : int
        Number of groups.

    Returns
    -------
    float
        ``sum over u < v with labels[u] == labels[v] of A[u, v]``, summed group by group
        (``O(sum of squared group sizes)``, nothing ``nu x m`` is built):
        :func:`peermatch.core.pair_total_by_groups`.

    Examples
    --------
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> objective(A, np.array([0, 0, 1]), 2)
    1.0
    """
    return core.pair_total_by_groups(A, np.asarray(labels, dtype=np.int64), m)


class _Model:
    """Static arrays of one prepared problem, in the form the blocks gather from."""

    def __init__(self, prep: Prepared):
        nu, m = prep.nu, prep.m
        flags = prep.flags
        self.nu, self.m = nu, m
        self.A = prep.A
        self.w = np.asarray(prep.w, dtype=np.int64)
        self.unit_w = bool(flags[F_UNIT_WEIGHTS]) or bool(np.all(self.w == 1))
        self.lo = np.asarray(prep.lo, dtype=np.int64)
        self.hi = np.asarray(prep.hi, dtype=np.int64)
        self.allowed = (np.asarray(prep.allowed, dtype=bool)
                        if flags[F_ALLOWED] and not np.all(prep.allowed) else None)
        # Conflict edges (both directions): cannot-link pairs and the members of every
        # "at most one per group" sum; every other group sum stays a sum.
        edges = []
        if flags[F_CANNOT_LINK] and len(prep.conf_idx):
            src = np.repeat(np.arange(nu), np.diff(prep.conf_ptr))
            edges.append(np.stack([src, prep.conf_idx], 1))
        R = prep.gs_lo.shape[0]
        generic = []
        if flags[F_GROUP_SUMS] and R:
            unit_of_entry = np.repeat(np.arange(nu), np.diff(prep.gs_ptr))
            by_row = np.argsort(prep.gs_row, kind="stable")
            cuts = np.searchsorted(prep.gs_row[by_row], np.arange(R + 1))
            for r in range(R):
                sel = by_row[cuts[r]:cuts[r + 1]]
                if not len(sel):
                    continue  # no unit contributes: the sum stays 0, as in the start
                us, cs = unit_of_entry[sel], prep.gs_coef[sel]
                if (np.all(cs == 1.0) and np.all(prep.gs_hi[r] == 1.0)
                        and np.all(prep.gs_lo[r] <= 0.0) and len(us) <= _CLIQUE_MAX):
                    a, b = np.meshgrid(us, us, indexing="ij")
                    off = a != b
                    edges.append(np.stack([a[off], b[off]], 1))
                else:
                    generic.append(r)
        self.edges = np.unique(np.concatenate(edges), axis=0) if edges else None
        if self.edges is not None and not len(self.edges):
            self.edges = None
        if generic:
            coef = np.zeros((nu, R))
            coef[np.repeat(np.arange(nu), np.diff(prep.gs_ptr)), prep.gs_row] = prep.gs_coef
            self.coef = np.ascontiguousarray(coef[:, generic])          # (nu, Rg)
            self.gs_lo = np.ascontiguousarray(prep.gs_lo[generic])      # (Rg, m)
            self.gs_hi = np.ascontiguousarray(prep.gs_hi[generic])
        else:
            self.coef = None
        # Moves change sizes; with fixed sizes and unit weights only swaps can be feasible.
        self.moves = not (self.unit_w and np.all(self.lo == self.hi))
        avg = max(nu / max(m, 1), 1.0)
        self.q = int(min(m, max(2, round(_BLOCK_UNITS / avg))))
        # largest |A| (two passes, no n x n temporary)
        self.amax = max(float(self.A.max()), -float(self.A.min())) if nu else 0.0
        self.tenure = (max(2, int(0.1 * avg) + 2), max(4, int(0.5 * avg) + 5))


class _Blocks:
    """One round: the groups split into ``B`` blocks of ``q`` or ``q - 1`` groups.

    Blocks are padded to ``L`` units (``valid`` marks the real ones) and ``q`` local
    groups (``gs == -1``: a pad group with size bounds 0, which nobody can join).
    """

    def __init__(self, model: _Model, p: np.ndarray, rng: np.random.Generator):
        M = model
        m, nu = M.m, M.nu
        B = max(1, int(round(m / M.q)))
        q = -(-m // B)                               # ceil: blocks of q or q - 1 groups
        perm = rng.permutation(m)
        gs = np.full((B, q), -1, dtype=np.int64)     # -1: a pad group (takes nobody)
        slot = np.arange(m)
        gs[slot % B, slot // B] = perm
        blk = np.empty(m, dtype=np.int64)
        loc = np.empty(m, dtype=np.int64)
        blk[perm] = slot % B
        loc[perm] = slot // B
        sb = blk[p]
        order = np.lexsort((rng.random(nu), sb))     # random order inside each block
        cnt = np.bincount(sb, minlength=B)
        L = int(cnt.max())
        pos = np.arange(nu) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        bo = sb[order]
        idx = np.zeros((B, L), dtype=np.int64)
        valid = np.zeros((B, L), dtype=bool)
        idx[bo, pos] = order
        valid[bo, pos] = True
        self.B, self.L, self.q = B, L, q
        self.gs, self.idx, self.valid = gs, idx, valid
        self.bi = np.arange(B)
        real = gs >= 0
        gsc = np.where(real, gs, 0)

        vv = valid[:, :, None] & valid[:, None, :]
        As = M.A[idx[:, :, None], idx[:, None, :]]
        As[~vv] = 0.0
        self.As = As
        lab = np.where(valid, loc[p[idx]], 0)
        self.lab = lab
        Z = np.zeros((B, L, q))
        bb, ii = np.nonzero(valid)
        Z[bb, ii, lab[bb, ii]] = 1.0
        self.Z = Z
        self.Zt = np.ascontiguousarray(Z.transpose(0, 2, 1))   # (B, q, L)
        self.W = As @ Z
        wl = np.where(valid, M.w[idx], 0)
        self.wl = wl
        self.sz = np.zeros((B, q), dtype=np.int64)
        np.add.at(self.sz, (bb, lab[bb, ii]), wl[bb, ii])
        self.lo_s = np.where(real, M.lo[gsc], 0)
        self.hi_s = np.where(real, M.hi[gsc], 0)
        # conflict adjacency inside blocks (partners in different blocks never meet)
        adj = np.zeros((B, L, L))
        if M.edges is not None:
            bpos = np.empty(nu, dtype=np.int64)
            bpos[order] = pos
            e = M.edges
            e = e[sb[e[:, 0]] == sb[e[:, 1]]]
            adj[sb[e[:, 0]], bpos[e[:, 0]], bpos[e[:, 1]]] = 1.0
        self.adj = adj
        # C: partners in each group, plus one where the unit may not go (allowed groups)
        C = adj @ Z
        if M.allowed is not None:
            al = M.allowed[idx[:, :, None], gsc[:, None, :]] & real[:, None, :]
            C += ~al
        self.C = C
        # Penalties: ``pen`` (tabu) exceeds twice any gain, ``big`` (infeasible) exceeds
        # ``pen`` twice over; pairs with a pad gain -inf.
        self.pen = 4.0 * (4.0 * M.amax * L + 1.0)
        self.big = 8.0 * self.pen
        self.A2 = np.where(vv, 2.0 * As - 2.0 * self.big * adj, np.inf)
        self.ar = np.arange(L)[None, :]
        self.stack = np.empty((B, 2 * L, q))
        self.R = np.empty((B, 2 * L, L))
        self.G = np.empty((B, L, L))
        self.G2 = np.empty((B, L, L))
        self.ten = rng.integers(M.tenure[0], M.tenure[1] + 1, (_ROUND_ITER + 1, 2, B))
        if M.coef is not None:
            cf = M.coef[idx] * valid[:, :, None]                    # (B, L, Rg)
            self.cf = cf
            self.S = np.einsum("bir,bik->brk", cf, Z)   # (B, Rg, q)
            self.glo = np.where(real[:, None, :], M.gs_lo[:, gsc].transpose(1, 0, 2), -np.inf)
            self.ghi = np.where(real[:, None, :], M.gs_hi[:, gsc].transpose(1, 0, 2), np.inf)
        else:
            self.cf = None
        self.f0 = 0.5 * np.einsum("bik,bik->b", self.W, Z)
        self.f = self.f0.copy()
        self.fb = self.f0.copy()
        self.blab = lab.copy()
        self.tabu = np.zeros((B, L, q), dtype=np.int64)

    def _swap_gs_bad(self):
        """(B, L, L) mask of swaps that break a generic group sum (one sum at a time).

        A swap puts ``c_j - c_i`` into the group of ``i``, so it keeps the bounds there
        iff ``lo - S + c_i <= c_j <= hi - S + c_i``: a window per ``i`` that ``c_j`` must
        fall in; the same test with ``i`` and ``j`` exchanged covers the group of ``j``.
        """
        cf, lab, bi = self.cf, self.lab, self.bi[:, None]
        bad = np.zeros((self.B, self.L, self.L), dtype=bool)
        for r in range(cf.shape[2]):
            c = cf[:, :, r]
            if not c.any():
                continue
            s = self.S[:, r][bi, lab]                               # (B, L): sum in i's group
            lo, hi = self.glo[:, r][bi, lab], self.ghi[:, r][bi, lab]
            wlo = lo - s + c - _TOL * (1.0 + np.abs(lo))
            whi = hi - s + c + _TOL * (1.0 + np.abs(hi))
            out = (c[:, None, :] < wlo[:, :, None]) | (c[:, None, :] > whi[:, :, None])
            bad |= out
            bad |= out.transpose(0, 2, 1)
        return bad

    def _move_gs_ok(self):
        """(B, L, q) mask of moves that keep every generic group sum."""
        cf, S, lab, bi = self.cf, self.S, self.lab, self.bi[:, None]
        St = S.transpose(0, 2, 1)                                   # (B, q, Rg)
        lo = self.glo.transpose(0, 2, 1)
        hi = self.ghi.transpose(0, 2, 1)
        out = St[bi, lab] - cf                                      # own group after
        tol = _TOL * (1.0 + np.abs(out))
        out_ok = ((out >= lo[bi, lab] - tol) & (out <= hi[bi, lab] + tol)).all(axis=2)
        new = St[:, None, :, :] + cf[:, :, None, :]                 # (B, L, q, Rg)
        tol = _TOL * (1.0 + np.abs(new))
        in_ok = ((new >= lo[:, None] - tol) & (new <= hi[:, None] + tol)).all(axis=3)
        return in_ok & out_ok[:, :, None]

    def step(self, it: int, M: _Model) -> bool:
        """One tabu step in every block; False when no block has an admissible step."""
        B, L, q, bi = self.B, self.L, self.q, self.bi
        W, Z, lab = self.W, self.Z, self.lab
        big, pen = self.big, self.pen
        D = W - W[bi[:, None], self.ar, lab][:, :, None]           # (B, L, q) move gains
        tb = self.tabu > it
        # One batched product over the local groups of j gives, for every pair (i, j),
        # D[b, i, k_j] - big * C[b, i, k_j] (C counts the own group too) and the tabu
        # status of i entering k_j. Feasible swaps have C[i, k_j] + C[j, k_i] = 2 adj[i, j]
        # and keep their gain exactly; any other pair loses at least ``big``.
        st = self.stack
        np.multiply(self.C + Z, -big, out=st[:, :L])
        st[:, :L] += D
        st[:, L:] = tb
        R = np.matmul(st, self.Zt, out=self.R)                      # (B, 2L, L)
        P, T = R[:, :L], R[:, L:]
        G = np.add(P, P.transpose(0, 2, 1), out=self.G)
        G -= self.A2                                                # A2 = 2 A - 2 big adj
        if not M.unit_w:
            G -= big * self._swap_size_bad()
        if self.cf is not None:
            G -= big * self._swap_gs_bad()
        thr = self.fb - self.f + _TOL * (1.0 + np.abs(self.fb))    # aspiration level
        flat = G.reshape(B, -1)
        ka = flat.argmax(axis=1)
        va = flat[bi, ka]
        Tn = np.add(T, T.transpose(0, 2, 1), out=self.G2)
        Tn *= -pen
        Tn += G                                                     # tabu pairs lose pen
        kn = Tn.reshape(B, -1).argmax(axis=1)
        vn = Tn.reshape(B, -1)[bi, kn]
        asp = va > thr                                              # aspiration
        k = np.where(asp, ka, kn)
        ok = np.where(asp, va > -0.5 * big, vn > -0.5 * pen)
        i, j = k // L, k % L
        ki, kj = lab[bi, i], lab[bi, j]
        v = np.where(ok, D[bi, i, kj] + D[bi, j, ki] - 2.0 * self.As[bi, i, j], -np.inf)
        y = np.where(ok, j, -1)                                     # swap partner, -1: move
        if M.moves:
            szl = self.sz[bi[:, None], lab]
            mbad = self.C + Z
            mbad += ((szl - self.wl < self.lo_s[bi[:, None], lab]) | ~self.valid)[:, :, None]
            mbad += self.sz[:, None, :] + self.wl[:, :, None] > self.hi_s[:, None, :]
            if self.cf is not None:
                mbad += ~self._move_gs_ok()
            Dm = D - big * mbad
            ma = Dm.reshape(B, -1).argmax(axis=1)
            mva = Dm.reshape(B, -1)[bi, ma]
            Dm -= pen * tb
            mn = Dm.reshape(B, -1).argmax(axis=1)
            mvn = Dm.reshape(B, -1)[bi, mn]
            masp = mva > thr
            mk = np.where(masp, ma, mn)
            mv = np.where(masp & (mva > -0.5 * big), mva, np.where(mvn > -0.5 * pen, mvn, -np.inf))
            mwin = mv > v
            if mwin.any():
                i = np.where(mwin, mk // q, i)
                kj = np.where(mwin, mk % q, kj)
                y[mwin] = -1
                v = np.where(mwin, mv, v)
        act = v > -np.inf
        if not act.any():
            return False
        b, x, y, t, v = bi[act], i[act], y[act], kj[act], v[act]
        f = lab[b, x]
        self._apply(b, x, y, f, t)
        ten = self.ten[it]
        self.tabu[b, x, f] = it + ten[0, b]
        sw = y >= 0
        self.tabu[b[sw], y[sw], t[sw]] = it + ten[1, b[sw]]
        self.f[b] += v
        imp = self.f > self.fb + _TOL * (1.0 + np.abs(self.fb))
        if imp.any():
            self.fb[imp] = self.f[imp]
            self.blab[imp] = lab[imp]
        return True

    def _swap_size_bad(self):
        """(B, L, L) mask of swaps that break a size bound (units of different weights)."""
        bi, lab = self.bi[:, None], self.lab
        szl = self.sz[bi, lab]
        lol, hil = self.lo_s[bi, lab], self.hi_s[bi, lab]
        d = self.wl[:, None, :] - self.wl[:, :, None]               # w_j - w_i
        a = szl[:, :, None] + d                                     # group of i after
        c = szl[:, None, :] - d                                     # group of j after
        return ((a < lol[:, :, None]) | (a > hil[:, :, None])
                | (c < lol[:, None, :]) | (c > hil[:, None, :]))

    def _apply(self, b, x, y, f, t):
        """Unit ``x`` of block ``b`` goes from local group ``f`` to ``t`` and, where
        ``y >= 0``, unit ``y`` from ``t`` to ``f`` (one step per block, vectors)."""
        sw = y >= 0
        yc = np.where(sw, y, 0)
        col = self.As[b, :, x] - self.As[b, :, yc] * sw[:, None]
        self.W[b, :, f] -= col
        self.W[b, :, t] += col
        a = self.adj[b, :, x] - self.adj[b, :, yc] * sw[:, None]
        self.C[b, :, f] -= a
        self.C[b, :, t] += a
        dw = self.wl[b, x] - self.wl[b, yc] * sw
        self.sz[b, f] -= dw
        self.sz[b, t] += dw
        if self.cf is not None:
            c = self.cf[b, x] - self.cf[b, yc] * sw[:, None]
            self.S[b, :, f] -= c
            self.S[b, :, t] += c
        for u, fr, to, sel in ((x, f, t, slice(None)), (y[sw], t[sw], f[sw], sw)):
            bb = b[sel]
            self.Z[bb, u, fr] = 0.0
            self.Z[bb, u, to] = 1.0
            self.Zt[bb, fr, u] = 0.0
            self.Zt[bb, to, u] = 1.0
            self.lab[bb, u] = to

    def write_back(self, p: np.ndarray) -> float:
        """Put every block's best grouping into ``p``; returns the total gain."""
        gain = self.fb - self.f0
        better = gain > 0.0
        if better.any():
            sel = self.valid & better[:, None]
            newg = np.take_along_axis(self.gs, self.blab, axis=1)
            p[self.idx[sel]] = newg[sel]
        return float(gain[better].sum())


def _supported(prep: Prepared) -> bool:
    f = prep.flags
    return not (f[3] or f[4] or f[6]) and prep.m >= 2 and prep.nu >= 2


def numpy_search(prep: Prepared, units: np.ndarray, deadline: float,
                 rng: np.random.Generator, *, max_iter: int | None = None,
                 callback=None) -> tuple[np.ndarray, float]:
    """Improve a feasible grouping of units with batched tabu search, in pure numpy.

    Each round splits the groups into random blocks of about ``q`` groups (``q`` so that
    a block holds about 96 units), runs 40 tabu iterations in all blocks at once (best
    admissible move or swap inside each block; a unit may not return to a group it left
    for a few iterations unless that beats the block's best, aspiration) and keeps each
    block's best grouping. Every applied step keeps every hard rule. See the module
    docstring for the bookkeeping.

    Parameters
    ----------
    prep : Prepared
        The problem over must-link units.
    units : ndarray of shape (nu,) of int
        Feasible unit labels (every rule holds); not modified.
    deadline : float
        ``time.perf_counter()`` value to stop at; the clock is read at every iteration
        (about 1 ms), so the call returns within a few milliseconds of it.
    rng : numpy.random.Generator
        Source of every random choice (blocks, orders, tabu tenures).
    max_iter : int, optional
        Stop after this many iterations (one tabu step in every block). With it, and a
        deadline that does not come first, the result depends on ``rng`` only.
    callback : callable, optional
        ``callback(value)`` after each round that improved the best value.

    Returns
    -------
    best_units : ndarray of shape (nu,) of int64
        The best feasible unit labels found (the start when nothing better was found).
    best_value : float
        Their objective: sum of ``prep.A`` over unit pairs in the same group (without
        ``prep.const``).

    Notes
    -----
    Meeting slots (``flags[3]``), no-singleton rules (``flags[4]``) and free-label mode
    (``flags[6]``) are not handled: with any of them the start comes back unchanged, as
    it does with fewer than two groups or units.

    Examples
    --------
    >>> import time
    >>> from peermatch.problem import Problem
    >>> from peermatch.solve._prep import prepare
    >>> A = np.kron(np.eye(2), np.ones((3, 3))); np.fill_diagonal(A, 0)
    >>> prep = prepare(Problem(A, min_size=3, max_size=3), 2)
    >>> labels, value = numpy_search(prep, np.array([0, 1, 0, 1, 0, 1]),
    ...                              time.perf_counter() + 5, np.random.default_rng(0),
    ...                              max_iter=50)
    >>> labels.tolist(), value
    ([0, 0, 0, 1, 1, 1], 6.0)
    """
    p = np.array(units, dtype=np.int64, copy=True)
    value = objective(prep.A, p, prep.m)
    if not _supported(prep):
        return p, value
    model = _Model(prep)
    clock = time.perf_counter
    done = 0
    stuck = 0  # consecutive rounds in which no block had any feasible step
    while clock() < deadline and (max_iter is None or done < max_iter) and stuck < _STUCK:
        blocks = _Blocks(model, p, rng)
        for it in range(1, _ROUND_ITER + 1):
            if clock() >= deadline or (max_iter is not None and done >= max_iter):
                break
            done += 1
            if not blocks.step(it, model):
                stuck = stuck + 1 if it == 1 else 0
                break
        else:
            stuck = 0
        gain = blocks.write_back(p)
        if gain > 0.0:
            value += gain
            if callback is not None:
                callback(value)
    return p, objective(prep.A, p, prep.m)
