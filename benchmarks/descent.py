"""A strong, plain baseline: numpy greedy + first-improvement move/swap descent, multi-start.

The baseline peermatch is compared against at scale (``benchmarks/at_scale.py``). It is
written to win within its class, not to lose:

* ``W = A Z`` bookkeeping: ``W[i, g]`` is the affinity of candidate ``i`` to the members of
  group ``g`` (an ``(n, m)`` array stored column-major, so a group's column is contiguous);
  the gain of every move of ``i`` is ``W[i, :] - W[i, p(i)]`` and the gain of every swap of
  ``i`` with any ``j`` is one vector expression of length ``n``;
* an accepted move or swap costs two column updates of ``W`` (``O(n)``) plus ``O(deg)``
  for the conflict counts;
* feasibility is ``O(1)`` per candidate group: a per-(class, group) member count for
  conflict classes ("competitors": at most one member of a class per group) and a
  per-(candidate, group) count of cannot-link partners;
* multi-start from randomised greedy constructions while time remains, keeping the best.

Usage (library only)::

    from descent import plain_descent, problem_arrays
    labels, objective, info = plain_descent(A, m, lo, hi, seconds=10, seed=0)
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["plain_descent", "problem_arrays", "grouping_objective"]

GREEDY_TRIES = 10


def grouping_objective(A: np.ndarray, labels: np.ndarray) -> float:
    """``sum over pairs i < j with labels[i] == labels[j] of A[i, j]``, group block by block.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Symmetric affinity with zero diagonal.
    labels : ndarray of shape (n,)
        Group of each element.

    Returns
    -------
    float
        The objective, summed in float64.

    Examples
    --------
    >>> grouping_objective(np.ones((3, 3)) - np.eye(3), np.array([0, 0, 1]))
    1.0
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    cuts = np.flatnonzero(np.diff(labels[order])) + 1
    total = 0.0
    for idx in np.split(order, cuts):
        total += float(np.asarray(A[np.ix_(idx, idx)], dtype=np.float64).sum())
    return 0.5 * total


def _neighbours(cannot_link, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Cannot-link partners as CSR ``(indptr, indices)``, each row sorted and unique."""
    if cannot_link is None or len(cannot_link) == 0:
        return np.zeros(n + 1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    cl = np.asarray(cannot_link, dtype=np.int64).reshape(-1, 2)
    if cl.min() < 0 or cl.max() >= n:
        raise ValueError(f"cannot_link holds an index outside 0..{n - 1}")
    if np.any(cl[:, 0] == cl[:, 1]):
        raise ValueError("cannot_link pairs an element with itself")
    cl = np.unique(np.sort(cl, axis=1), axis=0)
    both = np.concatenate([cl, cl[:, ::-1]])
    order = np.lexsort((both[:, 1], both[:, 0]))
    src, dst = both[order, 0], both[order, 1]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    return indptr, dst


class _Search:
    """State of one start: labels, sizes, ``W``, own affinities and conflict counts."""

    def __init__(self, A, m, lo, hi, cls, n_classes, indptr, nbrs, tol):
        self.A, self.m, self.lo, self.hi = A, m, lo, hi
        self.n = A.shape[0]
        self.cls, self.C = cls, n_classes  # class n_classes is the dummy "no class" row
        self.indptr, self.nbrs = indptr, nbrs
        self.deg = np.diff(indptr)
        self.has_cl = len(nbrs) > 0
        self.tol = tol
        self.buf = np.empty(self.n, dtype=np.float64)

    def nb(self, i: int) -> np.ndarray:
        return self.nbrs[self.indptr[i]:self.indptr[i + 1]]

    # -- construction ----------------------------------------------------------------------
    def reset(self) -> None:
        n, m = self.n, self.m
        self.labels = np.full(n, -1, dtype=np.int64)
        self.size = np.zeros(m, dtype=np.int64)
        self.W = np.zeros((n, m), dtype=np.float64, order="F")
        self.cnt = np.zeros((self.C + 1, m), dtype=np.int32)
        self.CL = np.zeros((n, m), dtype=np.int32) if self.has_cl else None
        self.ejections = 0

    def _shift(self, i: int, g: int, h: int) -> None:
        """Move ``i`` from ``g`` to ``h``: labels, sizes, ``W`` and conflict counts."""
        a = self.A[i]
        if g >= 0:
            self.W[:, g] -= a
            self.size[g] -= 1
        self.W[:, h] += a
        self.size[h] += 1
        self.labels[i] = h
        c = self.cls[i]
        if c < self.C:
            if g >= 0:
                self.cnt[c, g] -= 1
            self.cnt[c, h] += 1
        if self.CL is not None and self.deg[i]:
            nb = self.nb(i)
            if g >= 0:
                self.CL[nb, g] -= 1
            self.CL[nb, h] += 1

    def _eject(self, i: int, fits: np.ndarray, room: np.ndarray) -> int:
        """Make room for ``i`` by an ejection chain; return the group freed for it, or -1.

        Breadth-first over groups: from the groups ``i`` fits into, a member may move
        to any group it fits into, and so on, until a group with room is reached; then
        every member on the path moves one step along it (the last into the group with
        room), which frees one seat in a group ``i`` fits into. Each group appears at most
        once on a path and only loses the member that moves on, so every step stays
        feasible. ``room`` marks the groups that may grow.
        """
        m = self.m
        visited = fits.copy()  # roots: no room there, else i would not need a chain
        parent = np.full(m, -1, dtype=np.int64)  # group the member moving in comes from
        via = np.full(m, -1, dtype=np.int64)     # member moving into the group
        frontier = np.flatnonzero(fits)
        while frontier.size:
            K = np.flatnonzero(np.isin(self.labels, frontier))
            if K.size == 0:
                return -1
            src = self.labels[K]
            ok = self.cnt[self.cls[K]] == 0
            if self.CL is not None:
                ok &= self.CL[K] == 0
            ok &= ~visited[None, :]
            hit = ok & room[None, :]
            if hit.any():
                gain = np.where(hit, self.W[K] - self.W[K, src][:, None], -np.inf)
                a, h = np.unravel_index(int(np.argmax(gain)), gain.shape)
                k, g, h = int(K[a]), int(src[a]), int(h)
                while True:  # unwind the path from the group with room back to a root
                    self._shift(k, g, h)
                    self.ejections += 1
                    if parent[g] < 0:
                        return g
                    k, g, h = int(via[g]), int(parent[g]), g
            reach = ok.any(axis=0)
            new = np.flatnonzero(reach)
            if new.size == 0:
                return -1
            first = np.argmax(ok[:, new], axis=0)  # one member per newly reached group
            via[new] = K[first]
            parent[new] = src[first]
            visited[new] = True
            frontier = new
        return -1

    def greedy(self, order: np.ndarray) -> bool:
        """Place candidates in ``order``; False when stuck or a group ends below ``lo``.

        A candidate that fits no group with room makes room by an ejection chain (see
        :meth:`_eject`).
        """
        self.reset()
        n, m = self.n, self.m
        target = np.full(m, n // m, dtype=np.int64)
        target[: n % m] += 1
        size, W, cnt, CL, cls = self.size, self.W, self.cnt, self.CL, self.cls
        for i in order:
            i = int(i)
            fits = cnt[cls[i]] == 0
            if CL is not None and self.deg[i]:
                fits &= CL[i] == 0
            # a group under its target, else a chain ending under a target (sizes stay
            # on target), else a group with room, else a chain ending in one
            g = -1
            for room in (size < target, size < self.hi):
                ok = fits & room
                if ok.any():
                    cand = np.flatnonzero(ok)
                    vals = W[i, cand]
                    tie = cand[vals >= vals.max() - self.tol]
                    g = int(tie[np.argmin(size[tie])])
                else:
                    g = self._eject(i, fits, room)
                if g >= 0:
                    break
            if g < 0:
                return False
            self._shift(i, -1, g)
        if np.any(size < self.lo):
            return False
        self.own = W[np.arange(n), self.labels]
        self.objective = 0.5 * float(self.own.sum())
        return True

    # -- updates -----------------------------------------------------------------------------
    def _refresh_own(self, g: int, h: int) -> None:
        for grp in (g, h):
            mem = np.flatnonzero(self.labels == grp)
            self.own[mem] = self.W[mem, grp]

    def apply_move(self, i: int, g: int, h: int, gain: float) -> None:
        self._shift(i, g, h)
        self._refresh_own(g, h)
        self.objective += gain

    def apply_swap(self, i: int, j: int, gain: float) -> None:
        g, h = int(self.labels[i]), int(self.labels[j])
        d = np.subtract(self.A[j], self.A[i], out=self.buf)
        self.W[:, g] += d
        self.W[:, h] -= d
        self.labels[i], self.labels[j] = h, g
        ci, cj = self.cls[i], self.cls[j]
        if ci != cj:
            if ci < self.C:
                self.cnt[ci, g] -= 1
                self.cnt[ci, h] += 1
            if cj < self.C:
                self.cnt[cj, h] -= 1
                self.cnt[cj, g] += 1
        if self.CL is not None:
            if self.deg[i]:
                nb = self.nb(i)
                self.CL[nb, g] -= 1
                self.CL[nb, h] += 1
            if self.deg[j]:
                nb = self.nb(j)
                self.CL[nb, h] -= 1
                self.CL[nb, g] += 1
        self._refresh_own(g, h)
        self.objective += gain

    # -- neighbourhoods ----------------------------------------------------------------------
    def try_move(self, i: int, row: np.ndarray) -> bool:
        """Apply the best improving feasible move of ``i``; False when there is none.

        ``row`` is a contiguous copy of ``W[i]``.
        """
        g = int(self.labels[i])
        if self.size[g] <= self.lo:
            return False
        wig = row[g]
        if row.max() - wig <= self.tol:
            return False
        ok = self.size < self.hi
        ok[g] = False
        ok &= self.cnt[self.cls[i]] == 0
        if self.CL is not None and self.deg[i]:
            ok &= self.CL[i] == 0
        if not ok.any():
            return False
        cand = ok.nonzero()[0]
        vals = row[cand]
        k = int(np.argmax(vals))
        gain = float(vals[k] - wig)
        if gain <= self.tol:
            return False
        self.apply_move(i, g, int(cand[k]), gain)
        return True

    def try_swap(self, i: int, row: np.ndarray) -> bool:
        """Apply the best improving feasible swap of ``i`` with any ``j``; False if none.

        ``row`` is a contiguous copy of ``W[i]`` (a small array the gather reads from cache).
        """
        labels = self.labels
        g = int(labels[i])
        wig = float(row[g])
        # gain[j] = W[i, p(j)] - W[i, g] + W[j, g] - W[j, p(j)] - 2 A[i, j]
        gain = np.take(row, labels, out=self.buf)
        gain -= self.own
        gain += self.W[:, g]
        a = self.A[i]
        gain -= a
        gain -= a
        S = (gain > wig + self.tol).nonzero()[0]
        if S.size == 0:
            return False
        hS = labels[S]
        keep = hS != g
        S, hS = S[keep], hS[keep]
        if S.size == 0:
            return False
        ok = np.ones(S.size, dtype=bool)
        if self.C:
            ci, cS = self.cls[i], self.cls[S]
            same = (cS == ci).astype(np.int32)
            ok &= self.cnt[ci, hS] - same <= 0   # i joins p(j) as j leaves it
            ok &= self.cnt[cS, g] - same <= 0    # j joins g as i leaves it
        if self.CL is not None:
            adj = (np.isin(S, self.nb(i)).astype(np.int32) if self.deg[i]
                   else np.zeros(S.size, dtype=np.int32))
            ok &= self.CL[i, hS] - adj <= 0
            ok &= self.CL[S, g] - adj <= 0
        if not ok.any():
            return False
        S = S[ok]
        vals = gain[S]
        k = int(np.argmax(vals))
        self.apply_swap(i, int(S[k]), float(vals[k] - wig))
        return True

    def descend(self, rng: np.random.Generator, deadline: float) -> tuple[bool, int, int, int]:
        """Sweeps until one finds no improvement (or the deadline).

        Returns ``(local_optimum, sweeps, moves, swaps)``.
        """
        sweeps = moves = swaps = 0
        clock = time.perf_counter
        while True:
            sweeps += 1
            improved = False
            for i in rng.permutation(self.n):
                if clock() >= deadline:
                    return False, sweeps, moves, swaps
                i = int(i)
                row = self.W[i].copy()
                if self.try_move(i, row):
                    moves += 1
                    improved = True
                elif self.try_swap(i, row):
                    swaps += 1
                    improved = True
            if not improved:
                return True, sweeps, moves, swaps


def plain_descent(A, m: int, lo: int, hi: int, *, conflict_class=None, cannot_link=None,
                  seconds: float, seed: int | None, max_starts: int | None = None):
    """Multi-start greedy + first-improvement move/swap descent, under a wall-time limit.

    Maximises ``F(p) = sum over pairs i < j with p(i) == p(j) of A[i, j]`` over labellings
    ``p`` of ``n`` candidates into exactly ``m`` groups of ``lo..hi`` members, no two
    candidates of one conflict class and no cannot-link pair in a group.

    Each start builds a greedy grouping (candidates in random order, hardest first: most
    conflicts, i.e. largest class plus most cannot-link partners; each to the feasible
    group under its target size with the largest affinity ``W[i, g]``, ties to the smaller
    group; target sizes spread ``n`` over ``m``), then sweeps over the candidates in
    random order: for candidate ``i`` it applies the best improving feasible *move* to a
    group with room, else the best improving feasible *swap* with a candidate of another
    group, and goes on with the next candidate. A start ends when a full sweep improves
    nothing (a local optimum of both neighbourhoods) or at the deadline.

    Parameters
    ----------
    A : ndarray of shape (n, n)
        Symmetric affinity with zero diagonal, float32 or float64 (not copied).
    m : int
        Number of groups.
    lo, hi : int
        Smallest and largest group size; needs ``m * lo <= n <= m * hi``.
    conflict_class : ndarray of shape (n,) of int, optional
        Class of each candidate, ``-1`` for none; two candidates of one class ``>= 0``
        may not share a group (competitors).
    cannot_link : array-like of shape (k, 2), optional
        Index pairs that may not share a group.
    seconds : float
        Wall-time limit for everything (set-up, constructions, descents). The first
        greedy construction always completes, so a feasible grouping always comes back.
    seed : int or None
        Seed of the random orders.
    max_starts : int, optional
        Stop after this many starts even if time remains.

    Returns
    -------
    labels : ndarray of shape (n,) of int64
        Group of each candidate in ``0..m-1``, the best grouping found.
    objective : float
        Its objective, recomputed from ``A`` group by group.
    info : dict
        ``starts`` (number of starts), ``start_seconds`` (wall time of each), ``start_objectives``,
        ``greedy_objectives``, ``local_optimum`` (whether each start ended at a local
        optimum rather than the deadline), ``sweeps``, ``moves``, ``swaps`` (per start),
        ``first_objective`` (objective after the first start), ``best_start`` (0-based),
        ``greedy_retries`` (constructions that got stuck and restarted with another order),
        ``greedy_ejections`` (members moved by ejection chains, see Notes) and ``wall_time``.

    Raises
    ------
    ValueError
        Sizes that cannot hold ``n`` candidates in ``m`` groups, or bad conflict arrays.
    RuntimeError
        The greedy construction found no feasible grouping in several random orders.

    Notes
    -----
    When every group a candidate fits into is full (tight packings: many competitor
    classes, groups at the top of their size range), the construction makes room by an
    ejection chain: a member of such a group moves to a group where it fits, whose member
    moves on, and so on up to a group with room (shortest chain, breadth-first). When no
    chain exists the construction restarts with another random order.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> A = rng.random((12, 12)); A = A + A.T; np.fill_diagonal(A, 0)
    >>> labels, obj, info = plain_descent(A, 3, 4, 4, seconds=1, seed=0, max_starts=2)
    >>> np.bincount(labels).tolist(), info["starts"]
    ([4, 4, 4], 2)
    """
    t0 = time.perf_counter()
    deadline = t0 + float(seconds)
    if not isinstance(A, np.ndarray) and hasattr(A, "to_dense"):
        raise TypeError("plain_descent needs a dense matrix; densify the affinity object "
                        "(A.to_dense()) before timing, or use problem_arrays")
    A = np.asarray(A)
    if A.dtype not in (np.float32, np.float64):
        A = A.astype(np.float64)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be square, got shape {A.shape}")
    n = A.shape[0]
    m, lo, hi = int(m), int(lo), int(hi)
    if m < 1 or lo < 0 or hi < lo or not m * lo <= n <= m * hi:
        raise ValueError(f"{n} candidates cannot fill {m} groups of {lo}-{hi}")
    if conflict_class is None:
        raw = np.full(n, -1, dtype=np.int64)
    else:
        raw = np.asarray(conflict_class, dtype=np.int64)
        if raw.shape != (n,):
            raise ValueError(f"conflict_class must have shape ({n},), got {raw.shape}")
    # renumber classes 0..C-1 (singleton classes carry no conflict); C is "no class"
    real = raw >= 0
    uniq, inv, counts = np.unique(raw[real], return_inverse=True, return_counts=True)
    C = len(uniq)
    cls = np.full(n, C, dtype=np.int64)
    cls[real] = inv
    class_size = np.zeros(C + 1, dtype=np.int64)
    class_size[:C] = counts
    indptr, nbrs = _neighbours(cannot_link, n)
    hardness = np.maximum(class_size[cls] - 1, 0) + np.diff(indptr)
    scale = float(np.abs(A[: min(n, 256)]).max()) if n else 1.0
    tol = 1e-9 * max(1.0, scale)

    rng = np.random.default_rng(seed)
    search = _Search(A, m, lo, hi, cls, C, indptr, nbrs, tol)
    info: dict = {"starts": 0, "start_seconds": [], "start_objectives": [],
                  "greedy_objectives": [], "local_optimum": [], "sweeps": [], "moves": [],
                  "swaps": [], "first_objective": None, "best_start": -1, "greedy_retries": 0,
                  "greedy_ejections": 0}
    best_labels, best_obj = None, -np.inf
    while True:
        ts = time.perf_counter()
        for _ in range(GREEDY_TRIES):
            perm = rng.permutation(n)
            order = perm[np.argsort(-hardness[perm], kind="stable")]
            ok = search.greedy(order)
            info["greedy_ejections"] += search.ejections
            if ok:
                break
            info["greedy_retries"] += 1
        else:
            raise RuntimeError(f"greedy construction found no feasible grouping of {n} "
                               f"candidates into {m} groups of {lo}-{hi} in {GREEDY_TRIES} "
                               "random orders")
        info["greedy_objectives"].append(search.objective)
        local, sweeps, moves, swaps = search.descend(rng, deadline)
        obj = search.objective
        info["starts"] += 1
        info["start_seconds"].append(time.perf_counter() - ts)
        info["start_objectives"].append(obj)
        info["local_optimum"].append(local)
        info["sweeps"].append(sweeps)
        info["moves"].append(moves)
        info["swaps"].append(swaps)
        if info["first_objective"] is None:
            info["first_objective"] = grouping_objective(A, search.labels)
        if obj > best_obj:
            best_obj, best_labels = obj, search.labels.copy()
            info["best_start"] = info["starts"] - 1
        if time.perf_counter() >= deadline or (max_starts is not None
                                               and info["starts"] >= max_starts):
            break
    exact = grouping_objective(A, best_labels)
    info["wall_time"] = time.perf_counter() - t0
    return best_labels, exact, info


def problem_arrays(problem, m: int | None = None):
    """Arrays of a :class:`peermatch.problem.Problem` for :func:`plain_descent`.

    Parameters
    ----------
    problem : peermatch.problem.Problem
        Affinity, sizes, cannot-link pairs and "at most one per group" group sums (how
        ``peermatch.rules.build_problem`` compiles competitors).
    m : int, optional
        Number of groups; required when the problem leaves it free.

    Returns
    -------
    A : ndarray of shape (n, n)
        ``problem.affinity`` (not copied), or its dense matrix (``to_dense()``) when the
        problem holds an affinity object computing blocks on demand
        (``peermatch.affinity.FeatureAffinity``, what ``peermatch.match`` uses above
        ``peermatch.match.DENSE_MAX_N`` candidates).
    m, lo, hi : int
        Number of groups and the size range.
    conflict_class : ndarray of shape (n,) of int64
        Class of each candidate (``-1`` none): one class per group sum with ``hi == 1``,
        ``lo <= 0`` and 0/1 coefficients. A candidate in several such sums keeps its first
        class; the later sums' members then become cannot-link pairs.
    cannot_link : ndarray of shape (k, 2) of int64
        ``problem.cannot_link`` plus those overlap pairs.

    Raises
    ------
    ValueError
        A rule the baseline does not model (must-link, allowed groups, slots,
        no-singleton, per-group size bounds that differ, other group sums), or a free
        number of groups without ``m``.

    Examples
    --------
    >>> from peermatch.problem import GroupSum, Problem
    >>> p = Problem(np.zeros((4, 4)), min_size=2, max_size=2,
    ...             group_sums=[GroupSum(np.array([1.0, 1, 0, 0]), hi=1)])
    >>> A, m, lo, hi, cc, cl = problem_arrays(p, m=2)
    >>> (m, lo, hi), cc.tolist(), cl.shape
    ((2, 2, 2), [0, 0, -1, -1], (0, 2))
    """
    unsupported = []
    if len(problem.must_link):
        unsupported.append("must-link pairs")
    if problem.allowed is not None:
        unsupported.append("allowed groups")
    if problem.slots is not None:
        unsupported.append("meeting slots")
    if len(problem.no_singleton):
        unsupported.append("no-singleton rules")
    if unsupported:
        raise ValueError("the plain baseline does not model " + ", ".join(unsupported))
    if m is None:
        m = problem.n_groups
    if m is None:
        raise ValueError("the problem leaves the number of groups free; pass m")
    m = int(m)
    if problem.n_groups is not None and problem.n_groups != m:
        raise ValueError(f"the problem has {problem.n_groups} groups, not {m}")
    if problem.bounds is not None:
        b = np.asarray(problem.bounds)
        if np.any(b != b[0]):
            raise ValueError("the plain baseline needs one size range for every group; "
                             "this problem has per-group bounds that differ")
        lo, hi = int(b[0, 0]), int(b[0, 1])
    else:
        lo, hi = int(problem.min_size), int(problem.max_size)
    n = problem.n
    cc = np.full(n, -1, dtype=np.int64)
    extra = []
    k = 0
    for s in problem.group_sums:
        glo, ghi = s.bounds(m)
        coef = np.asarray(s.coef, dtype=float)
        if not (np.all(ghi == 1.0) and np.all(glo <= 0.0) and np.all((coef == 0) | (coef == 1))):
            raise ValueError(f"group sum {s.name!r} is not an 'at most one member per group' "
                             "rule (hi == 1, lo <= 0, 0/1 coefficients); the plain baseline "
                             "models no other group sums")
        members = np.flatnonzero(coef == 1)
        if len(members) < 2:
            continue
        if np.all(cc[members] < 0):
            cc[members] = k
            k += 1
        else:
            a, b2 = np.triu_indices(len(members), 1)
            extra.append(np.stack([members[a], members[b2]], axis=1))
    cl = np.asarray(problem.cannot_link, dtype=np.int64).reshape(-1, 2)
    if extra:
        cl = np.unique(np.concatenate([cl, *extra]), axis=0)
    A = problem.affinity
    if not isinstance(A, np.ndarray):
        A = A.to_dense()
    return A, m, lo, hi, cc, cl
