"""Large-scale search: re-optimise a few groups at a time with the compiled tabu kernel.

Internal module. The objective is a sum over groups and every hard rule is a rule about
one group's members, so "re-optimise the members of groups ``G1..Gk``, the other groups
fixed" is an exact, self-contained problem: its members, their affinity block and the
rules restricted to them (:func:`subproblem`, from :mod:`peermatch.solve.subproblems`).
Its solution is written back with :func:`write_back`; an improvement of the sub-problem
is an improvement of the whole, and feasibility is kept by construction. Sub-problems on
disjoint sets of groups commute.

:class:`DecompositionSearch` repeats this from the current grouping (a warm start, never
from scratch), so each sub-problem starts where the last left it and the tabu kernel's own
perturbation does the diversification inside the neighbourhood. Which groups to take
together alternates between

* *random* groups (for diversity-type affinities any two groups can trade members), and
* *neighbourhoods*: a seed group and the groups whose members have the highest mean
  affinity to its members (for similarity-type affinities the gains are among groups
  competing for the same kind of member),

with a bias towards groups that were visited least since their last improvement.

Nothing here needs an ``n x n`` matrix: blocks come from
:func:`peermatch.affinity.block_of`, so the same code serves a dense matrix and a
:class:`~peermatch.affinity.FeatureAffinity`; memory is ``O(n)`` plus one sub-problem.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import core
from ..problem import Problem
from .plan import default_threads, given, setting
from .subproblems import (
    SUB_MEMBERS,
    RuleIndex,
    SubProblem,
    default_sub_size,
    sub_groups,
    subproblem,
    write_back,
)

__all__ = ["SubProblem", "SubOutcome", "Outcome", "DecompositionSearch", "subproblem", "write_back",
           "outcome", "default_sub_size", "RuleIndex"]

_EPS = 1e-9


@dataclass
class SubOutcome:
    """What a solved sub-problem changes: all the driver needs, small enough to travel
    (the whole search's result is a :class:`peermatch.solve.outcome.Outcome`)."""

    groups: np.ndarray              # (k,) global group ids
    gain: float                     # > 0 only when new_local is set
    iterations: int                 # kernel iterations spent
    rows: np.ndarray | None = None  # (s,) global element ids (sorted), when improved
    new_local: np.ndarray | None = None   # (s,) new local labels, when improved
    values: np.ndarray | None = None      # (k,) objective of each group after, when improved


Outcome = SubOutcome  # the former name


def outcome(groups, sub: SubProblem, prep, best_units, best_value, iters) -> SubOutcome:
    """The :class:`SubOutcome` of a solved sub-problem: a gain above rounding, or nothing.

    Pure (reads only its arguments), so it runs next to the kernel: on a thread, or on a
    Dask worker (:mod:`peermatch.solve.distributed`).
    """
    gain = best_value + prep.const - sub.value
    if not gain > _EPS * (1.0 + abs(sub.value)):
        return SubOutcome(np.asarray(groups), 0.0, int(iters))
    new_local = np.asarray(prep.to_elements(best_units), dtype=np.int64)
    B = sub.block if sub.block is not None else sub.problem.affinity
    # group values from the sub-problem's own block (no new affinity work), all groups in
    # one pass: each member's affinity to its new group, summed per group
    same = new_local[:, None] == new_local[None, :]
    inside = np.einsum("ij,ij->i", B, same)
    values = 0.5 * np.bincount(new_local, weights=inside, minlength=len(groups))
    return SubOutcome(np.asarray(groups), float(gain), int(iters), sub.rows, new_local, values)


class DecompositionSearch:
    """Warm-started sub-problem search over a whole grouping (see the module docstring).

    Parameters
    ----------
    problem : Problem
        Fixed number of groups; ``problem.affinity`` a dense matrix or an affinity object.
    labels : ndarray of shape (n,)
        A valid grouping (every hard rule holds).
    rng : numpy.random.Generator
        Drives every choice (sub-problems, kernel seeds).
    options : dict
        Solver options: ``threads``, and the tuning constants of the decomposition
        (``sub_size``, ``iter_share``, ``near_share``, ``pool``, ``batch``, ``lean``,
        ``regroup``, ``descent_share``: :data:`peermatch.solve.plan.TUNING`) under
        ``options["tuning"]``.
    executor : object, optional
        Solves each batch of :meth:`step` elsewhere: ``executor.map(search, batch,
        deadline, max_iter)`` returns one :class:`SubOutcome` (or None: dropped, e.g. a lost
        worker) per ``(groups, seed)`` of the batch, as :meth:`compute` + :func:`outcome`
        would (:class:`peermatch.solve.distributed.DaskMap`). None: in this process.
    """

    def __init__(self, problem: Problem, labels: np.ndarray, rng: np.random.Generator,
                 options: dict | None = None, executor=None):
        self.problem = problem
        self.m = int(problem.n_groups)
        self.labels = np.asarray(labels, dtype=np.int64).copy()
        self.rng = rng
        self.options = dict(options or {})
        n, m = problem.n, self.m
        self.index = RuleIndex(problem)
        self.pos = np.full(n, -1, dtype=np.int64)
        self.members_from_labels()
        mean_size = n / max(m, 1)
        self.sub_size = int(given(self.options, "sub_size") or default_sub_size(n, m))
        self.k = sub_groups(self.sub_size, n, m)
        # With small groups, 24 groups (the default) are fewer than 240 members: the other
        # size is then tried too, and each size's share follows its gain per unit of work
        # (_large_rate). Neither wins everywhere: 24 groups of 4-6 gained on shared goals,
        # 240 members on mixed-sign tiers at 5,000 (benchmarks/options_ab.py).
        large = int(round(SUB_MEMBERS / max(mean_size, 1.0)))
        self.k_large = (large if given(self.options, "sub_size") is None and large > self.k
                        and 3 * large <= m else self.k)
        self._size_tally = np.zeros((2, 3))  # [gain, work, count]: default size, large
        # kernel iterations per sub-problem, per member: where one descent covers the whole
        # problem, long runs on each sub-problem pay; with hundreds of groups to cover
        # (chunked descent), more and shorter ones do (measured at 1,000 and 10,000)
        share = given(self.options, "iter_share")
        self._iter_share = float((0.65 if self._default_chunk() == n else 0.45)
                                 if share is None else share)
        self.group_value = np.array([self._group_value(g) for g in range(m)])
        self.value = float(self.group_value.sum())
        self.stale = np.zeros(m)        # visits since the group last improved
        self.iterations = 0
        self.n_sub = 0
        self.n_improved = 0
        self.descended = False
        #: "compiled" (the numba tabu kernel) or "numpy" (while the kernels compile)
        self.engine = "compiled"
        self.numpy_slice = 0.05
        #: sub-problems per step (fixed: results never depend on the thread count) and
        #: threads that solve them
        self.batch = max(1, int(setting(self.options, "batch")))
        self.threads = max(1, int(self.options.get("threads", default_threads())))
        self._pool = None
        #: one position buffer per sub-problem of a batch (``pos`` is the first)
        self.scratch = [self.pos]
        self._bounds = problem.bounds_for(m)
        # lean sub-problems once their kernel is compiled (they give the same arrays, so
        # switching never changes a result); the tuning constant lean=False turns them off
        self.lean = self.index.lean and bool(setting(self.options, "lean"))
        self.executor = executor
        #: regroup share (adapted: _regroup_rate); [count, gain] without and with one
        self._regroup_share = float(setting(self.options, "regroup"))
        self._regroup_tally = np.zeros((2, 2))

    # -- bookkeeping ---------------------------------------------------------------
    def members_from_labels(self) -> None:
        """Rebuild ``members`` and ``sizes`` from ``labels``."""
        order = np.argsort(self.labels, kind="stable")
        cuts = np.searchsorted(self.labels[order], np.arange(1, self.m))
        self.members = [np.asarray(x, dtype=np.int64) for x in np.split(order, cuts)]
        self.sizes = np.array([len(x) for x in self.members], dtype=np.int64)

    def _store(self, sub: SubProblem, groups: np.ndarray, new_local: np.ndarray) -> None:
        """Members and values of ``groups`` after writing back ``new_local`` (values from
        the sub-problem's own block: no new affinity work)."""
        B = sub.block if sub.block is not None else sub.problem.affinity
        for g_local, g in enumerate(groups):
            sel = np.flatnonzero(new_local == g_local)
            self.members[g] = sub.rows[sel]
            self.sizes[g] = len(sel)
            self.group_value[g] = core.group_pair_sum(B, sel)

    def _group_value(self, g: int) -> float:
        return core.group_pair_sum(self.problem.affinity, self.members[g])

    # -- choosing sub-problems ---------------------------------------------------------
    def _weights(self) -> np.ndarray:
        w = 1.0 / (1.0 + self.stale)
        return w / w.sum()

    def choose(self, busy: np.ndarray | None = None, k: int | None = None) -> np.ndarray:
        """The groups of the next sub-problem, none of them ``busy`` (a boolean mask of
        the groups already taken by this batch); ``k`` groups (default ``self.k``) unless
        fewer are free."""
        m, rng = self.m, self.rng
        k = self.k if k is None else int(k)
        free = np.arange(m) if busy is None else np.flatnonzero(~busy)
        if k >= len(free):
            return free
        p = self._weights()[free]
        p /= p.sum()
        near = float(setting(self.options, "near_share"))
        if rng.random() >= near:
            if self.problem.allowed is None:
                return np.sort(rng.choice(free, size=k, replace=False, p=p))
            at = int(rng.choice(len(free), p=p))
            others = self._reach(int(free[at]), np.delete(free, at))
            take = rng.choice(others, size=min(k - 1, len(others)), replace=False)
            return np.sort(np.concatenate([[free[at]], take]))
        at = int(rng.choice(len(free), p=p))
        seed = int(free[at])
        others = self._reach(seed, np.delete(free, at))
        # a random pool of pool * k groups, not all of them where there are more: a seed's
        # fixed top neighbours would come back every time (less diversity, measured worse;
        # so did a pool of the groups nearest in affinity profile). Up to about 12 * k
        # groups (1,000 candidates) the pool is every group.
        pool_size = min(len(others), int(setting(self.options, "pool")) * k)
        pool = rng.choice(others, size=pool_size, replace=False)
        return self._top_neighbours(seed, pool, k)

    def _reach(self, seed: int, others: np.ndarray) -> np.ndarray:
        """The groups of ``others`` that a member of ``seed`` may join: all of them unless
        allowed groups (tiers, pins) say otherwise. With tiers, a sub-problem that mixes
        them is several small ones side by side, the members of one tier unable to reach
        the other's groups; one tier per sub-problem gives the search its whole scope."""
        allowed, mem = self.problem.allowed, self.members[seed]
        if allowed is None or len(mem) == 0:
            return others
        ok = allowed[np.ix_(mem, others)].any(axis=0)
        return others[ok] if ok.any() else others

    def _top_neighbours(self, seed: int, pool: np.ndarray, k: int) -> np.ndarray:
        """``seed`` and the ``k - 1`` groups of ``pool`` with the highest mean affinity to
        its members."""
        pool_size = len(pool)
        mem = self.members[seed]
        cols = np.concatenate([self.members[g] for g in pool])
        if len(mem) == 0 or len(cols) == 0:
            return np.sort(np.concatenate([[seed], pool[:k - 1]]))
        B = core.block(self.problem.affinity, mem, cols).sum(axis=0)
        sizes = self.sizes[pool]
        owner = np.repeat(np.arange(pool_size), sizes)
        score = np.bincount(owner, weights=B, minlength=pool_size)
        score /= np.maximum(sizes, 1)
        best = pool[np.argsort(-score, kind="stable")[:k - 1]]
        return np.sort(np.concatenate([[seed], best]))

    # -- phase 0: affinity-aware construction on large chunks ---------------------------
    def reconstruct(self, deadline: float) -> None:
        """Rebuild each chunk with the affinity-aware greedy (rules kept by the greedy and
        checked); a chunk keeps its grouping when the greedy fails or scores lower."""
        from ._prep import prepare, violations
        from .construct import greedy

        size = self._default_chunk()
        for groups in self._chunks(size):
            if time.perf_counter() >= deadline:
                return
            sub = subproblem(self.problem, self.labels, groups, members=self.members,
                             index=self.index, pos=self.pos)
            prep = prepare(sub.problem, len(groups))
            lab = greedy(prep, self.rng, affinity_first=True)
            if lab is None:
                continue
            new_local = prep.to_elements(lab)
            if violations(sub.problem, new_local, len(groups)):
                continue
            if sub.problem.objective(new_local) <= sub.value:
                continue
            write_back(self.labels, sub, new_local)
            self._store(sub, groups, new_local)
        self.value = float(self.group_value.sum())

    # -- phase 1: descent on large chunks ---------------------------------------------
    def _default_chunk(self) -> int:
        """The whole problem when its dense matrix is at hand and small enough for one
        descent (a chunk restricts where a member can go), else 2,000 members."""
        n = self.problem.n
        if isinstance(self.problem.affinity, np.ndarray) and n <= 6000:
            return n
        return 2000

    def _group_profiles(self) -> np.ndarray:
        """Each group's mean affinity to 32 random landmark members, centred: ``(m, 32)``."""
        n, m = self.problem.n, self.m
        marks = np.sort(self.rng.choice(n, size=min(32, n), replace=False))
        prof = np.asarray(core.block(self.problem.affinity, np.arange(n), marks), dtype=float)
        G = np.zeros((m, len(marks)))
        np.add.at(G, self.labels, prof)
        G /= np.maximum(np.bincount(self.labels, minlength=m), 1)[:, None]
        G -= G.mean(axis=0)
        return G

    def _group_order(self) -> np.ndarray:
        """Groups along the leading direction of their affinity profiles: each group's mean
        affinity to 32 random landmark members, projected on the first principal axis.
        Groups close in this order hold members who fit each other's groups (for
        similarity-type affinities), so contiguous chunks of it are the chunks where a
        descent finds the most (O(32 n) affinity entries)."""
        G = self._group_profiles()
        try:
            _, _, vt = np.linalg.svd(G, full_matrices=False)
            return np.argsort(G @ vt[0], kind="stable")
        except np.linalg.LinAlgError:  # pragma: no cover - degenerate profiles
            return np.arange(self.m)

    def _chunks(self, size: int) -> list[np.ndarray]:
        m, rng = self.m, self.rng
        if self.problem.n <= 1.5 * size:
            return [np.arange(m)]
        self._passes = getattr(self, "_passes", 0) + 1
        if self._passes > 1:
            # contiguous chunks of the similarity order, cut at a random offset each pass
            order = np.roll(self._group_order(), -int(rng.integers(m)))
            sizes = np.array([len(self.members[g]) for g in order])
            cut = np.searchsorted(np.cumsum(sizes), np.arange(size, sizes.sum(), size))
            return [np.sort(c) for c in np.split(order, np.unique(cut)) if len(c) > 1]
        perm = rng.permutation(m)
        sizes = np.array([len(self.members[g]) for g in perm])
        cut = np.searchsorted(np.cumsum(sizes), np.arange(size, sizes.sum(), size))
        return [np.sort(c) for c in np.split(perm, np.unique(cut)) if len(c) > 1]

    def _solve_groups(self, groups: np.ndarray, run) -> float:
        """Solve the sub-problem of ``groups`` with ``run(ts, prep)``; write back a gain."""
        from ._prep import prepare

        if self.engine == "compiled" and self.lean and _kernels_sub_ready():
            # the arrays subproblem() + prepare give, without a validated Problem: on the
            # descent's chunks of 2,000 members that validation cost more than the descent
            sub, prep = self._lean(groups, self.pos)
        else:
            sub = subproblem(self.problem, self.labels, groups, members=self.members,
                             index=self.index, pos=self.pos)
            prep = prepare(sub.problem, len(groups))
        if self.engine == "numpy":
            # kernels still compiling (first run on this install): the numpy search
            from .numpy_engine import numpy_search

            units, value = numpy_search(prep, prep.to_units(sub.labels),
                                        min(run, time.perf_counter() + self.numpy_slice),
                                        self.rng)
            best_units, best_value, iters = prep.match_labels(units), value, 0
        else:
            ts = self._search(sub, prep, int(self.rng.integers(1, 2 ** 31 - 1)))
            run(ts, prep)
            best_units, best_value, iters = ts.best_labels, ts.best_value, ts.iterations
        return self._apply(groups, sub, prep, best_units, best_value, iters)

    def descend(self, deadline: float, on_improve=None) -> None:
        """Phase 1: first-improvement descent on chunks of members (:meth:`_default_chunk`),
        new chunks while a pass gains more than 0.05 %."""
        size = self._default_chunk()

        def run(ts, prep):
            while time.perf_counter() < deadline:
                if ts.descend(1) <= 0:
                    break

        for _ in range(20):
            before = self.value
            for groups in self._chunks(size):
                if time.perf_counter() >= deadline:
                    return
                if self._solve_groups(groups, run) > 0 and on_improve is not None:
                    on_improve(self.value)
            if self.problem.n <= 1.5 * size or self.value - before <= 5e-4 * abs(before):
                return

    # -- one step ------------------------------------------------------------------
    def compute(self, groups: np.ndarray, seed: int, pos: np.ndarray, deadline: float,
                max_iter: int | None):
        """Build and solve one sub-problem; reads the grouping, writes nothing shared (so
        disjoint sub-problems can run on threads: the kernels release the GIL)."""
        from ._prep import prepare

        if self.lean and _kernels_sub_ready():
            sub, prep = self._lean(groups, pos)
        else:
            sub = subproblem(self.problem, self.labels, groups, members=self.members,
                             index=self.index, pos=pos)
            prep = prepare(sub.problem, len(groups))
        ts = self._search(sub, prep, seed)
        if self._regroup_share > 0 and seed & 1 and len(groups) > 2 and not prep.flags[6]:
            ts.regroup((seed >> 1) % len(groups))
        n_it = int(max(50, self._iter_share * prep.nu))
        if max_iter is not None:
            n_it = max(1, min(n_it, int(max_iter)))
        # one kernel call for the whole run (a few milliseconds), not slices growing from
        # one iteration: the same result (the kernel's state carries over bit for bit)
        ts.run_until(deadline, ts.iterations + n_it, first=n_it)
        return sub, prep, ts.best_labels, ts.best_value, ts.iterations

    def _lean(self, groups: np.ndarray, pos: np.ndarray):
        """The sub-problem of ``groups`` and its prepared arrays, built directly (no
        Problem, no scipy): the same arrays :func:`subproblem` + ``prepare`` give when the
        rules are sizes, cannot-link pairs and clique sets (``RuleIndex.lean``)."""
        from ._kernels_sub import dense_block, sub_conflicts
        from ._prep import Prepared

        ix = self.index
        rows = np.sort(np.concatenate([self.members[g] for g in groups]))
        s, k = len(rows), len(groups)
        gpos = np.full(self.m, -1, dtype=np.int64)
        gpos[groups] = np.arange(k)
        local = gpos[self.labels[rows]]
        A = self.problem.affinity
        if isinstance(A, np.ndarray) and A.dtype == np.float64 and A.flags.c_contiguous:
            A = dense_block(A, rows)  # the same copy as numpy's, without the GIL
        else:
            A = np.ascontiguousarray(core.block(A, rows), dtype=np.float64)
        pos[rows] = np.arange(s)
        try:
            conf_ptr, conf_idx = sub_conflicts(rows, pos, ix.cl_ptr, ix.cl_idx, ix.cq_ptr,
                                               ix.cq_idx)
        finally:
            pos[rows] = -1
        bounds = self._bounds[groups]
        lo = bounds[:, 0].astype(np.int64)
        hi = bounds[:, 1].astype(np.int64)
        free = not np.all(bounds == bounds[0])
        flags = np.array([0, len(conf_idx) > 0, 0, 0, 0, 1, free], dtype=np.int64)
        z = np.zeros(0, dtype=np.int64)
        prep = Prepared(None, k, np.arange(s, dtype=np.int64),
                        list(np.arange(s, dtype=np.int64).reshape(-1, 1)),
                        np.ones(s, dtype=np.int64), A, 0.0, lo, hi, conf_ptr, conf_idx,
                        np.ones((s, k), dtype=bool), np.zeros(s + 1, dtype=np.int64), z,
                        np.zeros(0), np.zeros((0, k)), np.zeros((0, k)),
                        np.zeros((s, 0), dtype=np.int64), float(self.problem.slot_quorum),
                        np.zeros(s + 1, dtype=np.int64), z, z, 0, flags, [])
        # value: the kernel's own objective of ``local``, set once the search is loaded
        # (:meth:`_search`), which computes it anyway
        sub = SubProblem(groups, rows, None, local, math.nan, A)
        return sub, prep

    def _search(self, sub: SubProblem, prep, seed: int):
        """The tabu search of a sub-problem, loaded with its current grouping; the
        sub-problem's value is the kernel's (same arithmetic on the lean path and the
        other, so both take the same decisions)."""
        from .local import TabuSearch

        ts = TabuSearch(prep, prep.to_units(sub.labels), self.options, seed=seed)
        sub.value = ts.value + prep.const
        return ts

    def _apply(self, groups, sub, prep, best_units, best_value, iters) -> float:
        """Write a solved sub-problem back when it gained; returns the gain (>= 0)."""
        return self._commit(outcome(groups, sub, prep, best_units, best_value, iters))

    def _commit(self, o: SubOutcome) -> float:
        """Write an :class:`SubOutcome` back (when it gained); returns the gain (>= 0)."""
        self.iterations += o.iterations
        self.n_sub += 1
        self.stale[o.groups] += 1
        if o.new_local is None:
            return 0.0
        self.labels[o.rows] = o.groups[o.new_local]
        for g_local, g in enumerate(o.groups):
            self.members[g] = o.rows[o.new_local == g_local]
            self.sizes[g] = len(self.members[g])
        self.group_value[o.groups] = o.values
        self.value = float(self.group_value.sum())
        self.stale[o.groups] = 0
        self.n_improved += 1
        return o.gain

    def sync_labels(self, rows: np.ndarray, labels: np.ndarray) -> None:
        """Set the labels of ``rows``; the members of every touched group follow (a replica
        catching up with the driver's grouping; group values are not kept there)."""
        rows = np.asarray(rows, dtype=np.int64)
        labels = np.asarray(labels, dtype=np.int64)
        if not len(rows):
            return
        touched = np.unique(np.concatenate([self.labels[rows], labels]))
        self.labels[rows] = labels
        sel = np.flatnonzero(np.isin(self.labels, touched))
        lab = self.labels[sel]
        order = np.argsort(lab, kind="stable")  # members stay sorted, as on the driver
        cuts = np.searchsorted(lab[order], touched[1:])
        for g, mem in zip(touched, np.split(sel[order], cuts), strict=True):
            self.members[g] = mem
            self.sizes[g] = len(mem)

    def _choose_batch(self) -> list[tuple[np.ndarray, int]]:
        """Up to ``batch`` sub-problems on disjoint groups, each with its kernel seed."""
        busy = np.zeros(self.m, dtype=bool)
        batch = []
        while len(batch) < self.batch and (not batch or (~busy).sum() >= 2):
            # each sub-problem of a batch chosen among the groups the others left free
            k = self.k
            if self.k_large > self.k and self.rng.random() < self._large_rate():
                k = self.k_large
            groups = self.choose(busy if batch else None, k)
            busy[groups] = True
            seed = int(self.rng.integers(1, 2 ** 31 - 1))
            if self._regroup_share > 0:
                # the seed's lowest bit says whether the sub-problem starts with a regroup
                # (so the decision travels with it, to a thread or a Dask worker)
                seed = (seed & ~1) | int(self.rng.random() < self._regroup_rate())
                if seed & 1:
                    seed = self._aim(seed, groups)
            batch.append((groups, seed))
        return batch

    def _aim(self, seed: int, groups: np.ndarray) -> int:
        """``seed``, its regroup aimed at a group astride communities when ``groups`` hold
        one: a group whose value per pair of members is under half the median of
        ``groups`` (a community's groups are worth about the same per pair; one mixing
        two is worth about half). Half of such regroups aim there, the others stay at
        random. Where no group stands out, nothing is drawn and the seed is unchanged.
        The regroup's target is ``(seed >> 1) % len(groups)`` (:meth:`compute`)."""
        k = len(groups)
        size = self.sizes[groups].astype(float)
        per_pair = self.group_value[groups] / np.maximum(size * (size - 1) / 2, 1.0)
        mid = float(np.median(per_pair))
        weakest = int(np.argmin(per_pair))
        if not (mid > 0 and per_pair[weakest] < 0.5 * mid) or self.rng.random() < 0.5:
            return seed
        base = (seed >> 1) // k * k
        if base + weakest >= 2 ** 30:
            base -= k
        return ((base + weakest) << 1) | 1

    def _regroup_rate(self) -> float:
        """The share of sub-problems to start with a regroup: the option's share until ten
        of each kind were solved, then scaled by the mean gain of a sub-problem with a
        regroup over one without (between a tenth and twice the option's, at most 0.5).
        Regroups pay where communities compete for groups and cost elsewhere; the tally
        follows the write-backs, so the rate depends on the seed and the results only."""
        (n_plain, g_plain), (n_rg, g_rg) = self._regroup_tally
        if min(n_plain, n_rg) < 10:
            return self._regroup_share
        ratio = (g_rg / n_rg) / max(g_plain / n_plain, 1e-12)
        return float(min(0.5, self._regroup_share * np.clip(ratio, 0.1, 2.0)))

    def _large_rate(self) -> float:
        """The chance that a sub-problem takes the large size (``k_large`` groups).

        The large size's share of the work follows its gain per unit of work against the
        default size's: half at first (until ten of each were solved), then
        ``rate_large / (rate_default + rate_large)``, between a tenth and nine tenths. The
        work of a sub-problem is members² x groups^0.5 (its iterations scale with its
        members; a large one, twice the groups and members, took 5.5 times a default one's
        time at 5,000 candidates in groups of 4-6, and this counts it 5.7 times); the
        chance is the share divided by that ratio. Recent sub-problems count most (each
        tally decays by 2 % per sub-problem), as the gains fall with time.
        """
        (g0, w0, c0), (g1, w1, c1) = self._size_tally
        share = 0.5
        if min(c0, c1) >= 10 and w0 > 0 and w1 > 0:
            r0, r1 = g0 / w0, g1 / w1
            share = float(np.clip(r1 / (r0 + r1), 0.1, 0.9)) if r0 + r1 > 0 else 0.5
        ratio = (self.k_large / self.k) ** 2.5
        return share / ratio / (share / ratio + 1.0 - share)

    def _tally(self, batch: list, gains: list) -> float:
        """Tally each gain (None: dropped) by regroup or not and by size; returns their
        total. In batch order, so the rates depend on the seed and the results only."""
        total = 0.0
        for (groups, seed), gain in zip(batch, gains, strict=True):
            if gain is not None:
                self._regroup_tally[seed & 1] += (1.0, gain)
                if self.k_large > self.k:
                    s = float(self.sizes[groups].sum())
                    self._size_tally *= 0.98
                    work = s * s * math.sqrt(len(groups))
                    self._size_tally[int(len(groups) > self.k)] += (gain, work, 1.0)
                total += gain
        return total

    def step(self, deadline: float, max_iter: int | None = None) -> float:
        """Solve a batch of ``batch`` sub-problems on disjoint groups (on up to ``threads``
        threads), write them back in order; returns the total gain (>= 0).

        The next batch is chosen while this one is solved (choosing costs about a third of
        a sub-problem's time, and would leave the cores idle), so it is chosen from the
        grouping before this batch's write-backs; the sub-problems themselves are built
        from the grouping at the time they are solved. The batches, the kernel seeds and
        the order of write-backs depend on the seed only, never on the number of threads
        or their timing: with ``max_iter`` the result is the same on one thread or several.
        """
        batch = self._next if getattr(self, "_next", None) else self._choose_batch()
        self._next = None
        if self.executor is not None:
            # elsewhere (e.g. Dask workers); None: a sub-problem dropped (its worker lost)
            outs = self.executor.map(self, batch, deadline, max_iter)
            self._next = self._choose_batch()
            return self._tally(batch, [None if o is None else self._commit(o) for o in outs])
        while len(self.scratch) < len(batch):
            self.scratch.append(np.full(self.problem.n, -1, dtype=np.int64))
        if self.threads > 1 and len(batch) > 1:
            if self._pool is None:
                from concurrent.futures import ThreadPoolExecutor

                self._pool = ThreadPoolExecutor(max_workers=self.threads,
                                                thread_name_prefix="peermatch-sub")
            futures = [self._pool.submit(self.compute, g, s, self.scratch[t], deadline, max_iter)
                       for t, (g, s) in enumerate(batch)]
            try:
                self._next = self._choose_batch()   # while the kernels run
            finally:
                results = [f.result() for f in futures]
        else:
            results = [self.compute(g, s, self.scratch[t], deadline, max_iter)
                       for t, (g, s) in enumerate(batch)]
            self._next = self._choose_batch()
        return self._tally(batch, [self._apply(g, *r)
                                   for (g, _), r in zip(batch, results, strict=True)])

    def close(self) -> None:
        """Stop the worker threads (if any)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def run_numpy(self, until, on_improve=None) -> bool:
        """Sub-problems solved by the numpy search while ``until()`` is false (the kernels
        compile meanwhile); True if interrupted."""
        self.engine = "numpy"
        try:
            while not until():
                if self._solve_groups(self.choose(), float("inf")) > 0 and on_improve:
                    on_improve(self.value)
        except KeyboardInterrupt:
            return True
        finally:
            self.engine = "compiled"
        return False

    def run(self, deadline: float, max_iter: int | None = None, on_improve=None) -> bool:
        """Steps until ``deadline`` or ``max_iter`` kernel iterations; True if interrupted."""
        try:
            if not self.descended:
                self.descended = True
                # construction and descent get at most 60 % (descent_share) of the time left: the
                # sub-problem search after them is where the last per cent comes from
                share = setting(self.options, "descent_share")
                early = time.perf_counter() + float(share) * max(
                    deadline - time.perf_counter(), 0.0)
                if on_improve is not None:
                    on_improve(self.value)
                self.descend(early, on_improve)
            while time.perf_counter() < deadline:
                left = None if max_iter is None else int(max_iter) - self.iterations
                if left is not None and left <= 0:
                    break
                if self.step(deadline, left) > 0 and on_improve is not None:
                    on_improve(self.value)
        except KeyboardInterrupt:
            # labels are only written between kernel calls: they are a valid grouping
            return True
        finally:
            self.close()
        return False


def _kernels_sub_ready() -> bool:
    from . import _kernels_sub

    return _kernels_sub.READY


def objective_by_groups(A, labels: np.ndarray, m: int) -> float:
    """``sum over groups of the affinity of member pairs``, block by block (no n x n work).

    :func:`peermatch.core.pair_total_by_groups`; unplaced members (``-1``) pair with nobody.
    """
    return core.pair_total_by_groups(A, labels, m)


def __getattr__(name: str):
    # the block helper moved to peermatch.core; the old name works for one release
    if name == "affinity_block":
        import warnings

        warnings.warn("peermatch.solve.decompose.affinity_block is deprecated; use "
                      "peermatch.core.block.", DeprecationWarning, stacklevel=2)
        return core.block
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
