"""Population phase of the local search: group-based crossover + iterated tabu search.

Internal module. A small pool of good groupings is kept; each generation picks two
parents, builds a child by *group-based crossover* (repeatedly take the group with the
highest affinity per member among the parent's groups, members already placed removed,
from alternating parents; then place the remaining units greedily, lower bounds first)
and improves it with the compiled iterated tabu search (:class:`~.local.TabuSearch`) for
a fixed number of iterations. The child replaces the worst pool member when it is better
and not already in the pool.

Every child is checked against *all* hard rules before it enters the search (the same
validator as the final result); a child that breaks one (possible only with rules the
crossover does not steer: group sums, slots, no-singleton, must-link weights) is
dropped and a strongly perturbed copy of a parent (feasible by construction) is used
instead. All randomness comes from one numpy Generator and iterations (not seconds)
drive the search when ``max_iter`` is set, so runs are reproducible.
"""

from __future__ import annotations

import time

import numpy as np

from ._prep import F_CANNOT_LINK, Prepared, violations
from .plan import CHILDREN_PER_MEMBER, POPULATION, POPULATION_MAX

__all__ = ["crossover", "PopulationSearch", "pool_size"]


def crossover(prep: Prepared, pa: np.ndarray, pb: np.ndarray,
              rng: np.random.Generator) -> np.ndarray | None:
    """Group-based crossover of two feasible unit labellings (labels fit their own bounds).

    Returns feasible-by-sizes / cannot-link / allowed unit labels, or None when the
    greedy completion gets stuck. Other rules are checked by the caller.
    """
    child, size = _inherit(prep, (pa, pb), rng)
    return _complete(prep, child, size, rng)


def _inherit(prep: Prepared, parents: tuple, rng: np.random.Generator):
    """The parents' groups, taken in turn, each the best mean affinity left: the partial
    child (``-1`` unplaced) and its group sizes."""
    nu, m = prep.nu, prep.m
    A, w = prep.A, prep.w
    child = np.full(nu, -1, dtype=np.int64)
    # intra[k][g]: affinity inside parent k's group g restricted to unplaced units;
    # cnt[k][g]: their total weight.
    intra, cnt, AZ = [], [], []
    for par in parents:
        Z = np.zeros((nu, m))
        Z[np.arange(nu), par] = 1.0
        az = A @ Z
        intra.append(0.5 * np.einsum("ug,ug->g", Z, az))
        cnt.append(np.bincount(par, weights=w, minlength=m).astype(float))
        AZ.append(az)
    used = np.zeros(m, dtype=bool)
    size = np.zeros(m, dtype=np.int64)
    k = int(rng.integers(2))
    noise = rng.random((m, 2)) * 1e-9
    for _ in range(m):
        par = parents[k]
        score = np.where(used, -np.inf, intra[k] / np.maximum(cnt[k], 1.0)
                         * (1.0 + noise[:, k]))
        g = int(np.argmax(score))
        used[g] = True
        mem = np.flatnonzero((par == g) & (child < 0))
        child[mem] = g
        size[g] = int(w[mem].sum())
        # remove the placed units from both parents' group statistics
        for j, other in enumerate(parents):
            for u in mem:
                h = other[u]
                intra[j][h] -= AZ[j][u, h]
                AZ[j][:, h] -= A[:, u]
                cnt[j][h] -= w[u]
        k = 1 - k
    return child, size


def _complete(prep: Prepared, child: np.ndarray, size: np.ndarray,
              rng: np.random.Generator) -> np.ndarray | None:
    """Place the units the parents' groups left out: lower bounds first, then the best
    affinity gain among open groups; then fill the remaining deficits by moves."""
    nu, m = prep.nu, prep.m
    A, w, lo, hi = prep.A, prep.w, prep.lo, prep.hi
    rest = np.flatnonzero(child < 0)
    rng.shuffle(rest)
    Zc = np.zeros((nu, m))
    placed = child >= 0
    Zc[np.flatnonzero(placed), child[placed]] = 1.0
    Wc = A @ Zc
    conf = prep.flags[F_CANNOT_LINK] != 0
    if conf:
        Cc = np.zeros((nu, m), dtype=np.int64)
        for u in np.flatnonzero(placed):
            nb = prep.conf_idx[prep.conf_ptr[u]:prep.conf_ptr[u + 1]]
            Cc[nb, child[u]] += 1
    left = int(w[rest].sum())
    for u in rest:
        deficit = np.maximum(lo - size, 0)
        ok = (size + w[u] <= hi) & prep.allowed[u]
        if conf:
            ok &= Cc[u] == 0
        if left <= int(deficit.sum()):  # every remaining unit must fill a deficit
            ok &= deficit > 0
        if not ok.any():
            return None
        g = int(np.argmax(np.where(ok, Wc[u], -np.inf)))
        child[u] = g
        size[g] += w[u]
        left -= int(w[u])
        Wc[:, g] += A[:, u]
        if conf:
            nb = prep.conf_idx[prep.conf_ptr[u]:prep.conf_ptr[u + 1]]
            Cc[nb, g] += 1
    # Remaining deficits: move the best-gain unit from a group above its lower bound.
    for _ in range(nu):
        short = np.flatnonzero(size < lo)
        if not len(short):
            break
        h = int(short[0])
        cand = ((size[child] - w) >= lo[child]) & (child != h) & prep.allowed[:, h]
        cand &= size[h] + w <= hi[h]
        if conf:
            cand &= Cc[:, h] == 0
        if not cand.any():
            return None
        gain = np.where(cand, Wc[:, h] - Wc[np.arange(nu), child], -np.inf)
        u = int(np.argmax(gain))
        g = int(child[u])
        child[u] = h
        size[g] -= w[u]
        size[h] += w[u]
        Wc[:, g] -= A[:, u]
        Wc[:, h] += A[:, u]
        if conf:
            nb = prep.conf_idx[prep.conf_ptr[u]:prep.conf_ptr[u + 1]]
            Cc[nb, g] -= 1
            Cc[nb, h] += 1
    if np.any(size < lo) or np.any(size > hi):
        return None
    return child


def pool_size(children: float) -> int:
    """The pool for a budget of ``children`` children: one member per
    ``CHILDREN_PER_MEMBER`` of them, between ``POPULATION`` and ``POPULATION_MAX``
    (:mod:`peermatch.solve.plan` gives the figures behind them).

    >>> pool_size(60), pool_size(400), pool_size(5000)
    (8, 13, 20)
    """
    return int(min(max(round(children / CHILDREN_PER_MEMBER), POPULATION), POPULATION_MAX))


def _canonical(lab: np.ndarray) -> np.ndarray:
    """Labels renumbered by first appearance (equal for equal partitions)."""
    _, first, inv = np.unique(lab, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first)] = np.arange(len(first))
    return rank[inv]


class PopulationSearch:
    """Memetic driver around one :class:`~.local.TabuSearch` (see module docstring).

    Parameters
    ----------
    prep : Prepared
    ts : TabuSearch
        Started from a feasible grouping; reused for every child.
    rng : numpy.random.Generator
    pop_size : int or None
        Pool size; None sizes it by the budget (:func:`pool_size`).
    child_iter : int
        Tabu iterations spent on each pool member / child.
    """

    def __init__(self, prep: Prepared, ts, rng: np.random.Generator, pop_size: int | None,
                 child_iter: int):
        self.prep = prep
        self.ts = ts
        self.rng = rng
        self.sized_by_budget = pop_size is None
        self.pop_size = POPULATION if pop_size is None else max(2, int(pop_size))
        self.child_iter = max(1, int(child_iter))
        self.pool: list[np.ndarray] = []
        self.values: list[float] = []
        self.best = ts.state[7].copy()
        self.best_value = ts.best_value
        self.n_children = 0
        self.n_failed = 0
        # crossover steers sizes, cannot-link and allowed groups; with other rules the
        # child is validated (and usually falls back to a perturbed parent)
        f = prep.flags
        self._simple = not (f[2] or f[3] or f[4]) and bool(f[5])

    def _improve(self, deadline: float, max_iter: int | None,
                 on_slice=None) -> tuple[np.ndarray, float]:
        ts = self.ts
        target = ts.iterations + self.child_iter
        if max_iter is not None:
            target = min(target, max_iter)
        cb = None
        if on_slice is not None:
            def cb():
                on_slice(max(self.best_value, ts.best_value))
        ts.run_until(deadline, target, cb)
        lab = ts.state[7].copy()
        val = ts.best_value
        if val > self.best_value:
            self.best_value = val
            self.best = lab.copy()
        return lab, val

    def _valid(self, units: np.ndarray) -> bool:
        if self._simple:
            return True
        prep = self.prep
        return not violations(prep.problem, prep.to_elements(units), prep.m)

    def _insert(self, lab: np.ndarray, val: float) -> None:
        """Add to the pool (while not full) or replace the worst member when better."""
        tol = 1e-9 * (1.0 + abs(val))
        key = _canonical(lab)
        for i, v in enumerate(self.values):
            if abs(v - val) <= tol and np.array_equal(_canonical(self.pool[i]), key):
                return
        if len(self.pool) < self.pop_size:
            self.pool.append(lab)
            self.values.append(val)
            return
        worst = int(np.argmin(self.values))
        if val > self.values[worst] + tol:
            self.pool[worst] = lab
            self.values[worst] = val

    def _perturbed(self, lab: np.ndarray, strength: int) -> np.ndarray:
        ts = self.ts
        ts.restart(lab)
        ts.perturb(strength)
        return ts.state[0].copy()

    def run(self, deadline: float, max_iter: int | None, on_slice=None) -> None:
        """Search until ``deadline`` or ``max_iter`` total tabu iterations."""
        ts = self.ts
        prep = self.prep
        strong = max(2, prep.nu // 3)

        def done():
            return (time.perf_counter() >= deadline
                    or (max_iter is not None and ts.iterations >= max_iter))

        # initial pool: the start, then strongly perturbed copies of it, each improved
        ts.restart(ts.state[7].copy())
        t0, it0 = time.perf_counter(), ts.iterations
        lab, val = self._improve(deadline, max_iter, on_slice)
        self._insert(lab, val)
        if on_slice is not None:
            on_slice(self.best_value)
        # The children the budget holds, at the first member's pace; with max_iter from
        # iterations only (reproducible). They size the pool, and with too few for a
        # population (pool + a few children) the search goes on from the first member.
        if max_iter is not None:
            children = (max_iter - ts.iterations) / self.child_iter
        else:
            per_child = (time.perf_counter() - t0) * self.child_iter / max(ts.iterations - it0, 1)
            children = (deadline - time.perf_counter()) / max(per_child, 1e-9)
        if self.sized_by_budget:
            self.pop_size = pool_size(children)
        if children < self.pop_size + 4 and not done():
            ts.run_until(deadline, max_iter,
                         None if on_slice is None else lambda: on_slice(ts.best_value))
            self.best_value = max(self.best_value, ts.best_value)
            ts.restart(ts.state[7].copy())
            return
        tries = 0
        while len(self.pool) < self.pop_size and tries < 2 * self.pop_size and not done():
            tries += 1
            ts.restart(self._perturbed(self.pool[0], strong))
            lab, val = self._improve(deadline, max_iter, on_slice)
            self._insert(lab, val)
            if on_slice is not None:
                on_slice(self.best_value)
        if len(self.pool) < 2:  # no diversity found: plain iterated tabu search
            ts.restart(self.best)
            ts.run_until(deadline, max_iter,
                         None if on_slice is None else lambda: on_slice(ts.best_value))
            return
        while not done():
            i, j = self.rng.choice(len(self.pool), size=2, replace=False)
            pa = prep.match_labels(self.pool[i])
            pb = prep.match_labels(self.pool[j])
            child = crossover(prep, pa, pb, self.rng)
            self.n_children += 1
            if child is None or not self._valid(child):
                self.n_failed += 1
                child = self._perturbed(self.pool[i], strong)
            ts.restart(child)
            lab, val = self._improve(deadline, max_iter, on_slice)
            self._insert(lab, val)
            if on_slice is not None:
                on_slice(self.best_value)
        ts.restart(self.best)
