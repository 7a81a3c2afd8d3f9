"""Fairness: raise the floor, the worst member's mean affinity to the rest of their group.

Internal module (see ``docs/fairness.md``). The total-maximising search happily leaves one
member in a group where they have no peer; a fairness level ``F`` in ``[0, 1]`` trades
total for floor:

* ``F = 0``: nothing here runs (the grouping is bit for bit the total-maximising one).
* ``F = 1``: lexicographic: the highest floor the search can reach, then the highest total
  with that floor.
* ``0 < F < 1``: the floor target is ``f0 + F * (f1 - f0)``, where ``f0`` is the floor of
  the total-maximising grouping and ``f1`` the highest floor reached; the total is then
  maximised subject to ``floor >= target``.

Local search (every method but ``"exact"``, any size): :class:`FloorSearch` works on
pairs of groups. Each step re-assigns members between two groups (a move or a swap); the
two-group rearrangement is checked against every hard rule with the exact sub-problem of
:func:`~peermatch.solve.decompose.subproblem` and :func:`~peermatch.solve._prep.violations`
(no rule is re-implemented here). Phase 1 targets the worst member: the best step for the
floor (ties: the smallest total loss). Phase 2 takes back total with steps that keep every
member at or above the target. Both are deterministic given the grouping (with many
groups, partner groups are sampled with the solver's seeded generator). With a dense
affinity, phase 0 (:func:`reweighted_start`) and phase 3 (:func:`reweighted_recovery`)
re-run the ordinary search on reweighted affinities, before and after.

CP-SAT (``method="exact"``): :func:`solve_exact_fair` adds an integer ``t`` with
``t * (|g| - 1) <= sum_j a_ij y_ij`` for each member ``i`` of each group ``g`` (``t`` is
the scaled floor) and solves three stages: total (the reference), floor, total subject
to the floor target.
"""

from __future__ import annotations

import math
import time
from numbers import Real

import numpy as np

from .. import core
from ..budget import SHARES
from ..core import member_fits
from ..errors import ConfigError
from ..problem import Problem
from ._prep import violations
from .plan import RECOVERY_ROUNDS  # rounds of phase 3 (reweighted_recovery) by default
from .subproblems import RuleIndex, subproblem

__all__ = ["check_fairness", "member_fits", "FloorSearch", "raise_floor", "solve_exact_fair"]

_EPS = 1e-9
#: phase 0's share of the time left, with (True) and without phase 3 after it
_START = {True: SHARES["fairness.start"], False: SHARES["fairness.start_alone"]}
#: phase 1's share of the time left, with (True) and without phase 3 after it
_RAISE = {True: SHARES["fairness.raise"], False: SHARES["fairness.raise_alone"]}
#: With more groups than this, partner groups are sampled instead of all tried.
ALL_PARTNERS_M = 60


def check_fairness(fairness) -> float:
    """``fairness`` as a float in ``[0, 1]``, or a :class:`ConfigError`.

    >>> check_fairness(0.5)
    0.5
    """
    if isinstance(fairness, bool) or not isinstance(fairness, Real) or not (
            0.0 <= float(fairness) <= 1.0):
        raise ConfigError("The 'fairness' parameter must be a number in [0, 1] (0: the "
                          f"highest total, 1: the highest floor first). Got {fairness!r} "
                          "instead.")
    return float(fairness)


def _div(x: np.ndarray, d: int) -> np.ndarray:
    """Mean affinity to ``d`` groupmates (0 for a member alone, as in quality.member_scores)."""
    return x / d if d > 0 else np.zeros_like(x)


def _short(f: np.ndarray, tau: float, axis=None) -> np.ndarray:
    """How far fits fall short of ``tau``, summed (``inf``, a member who left, adds 0)."""
    return np.maximum(tau - f, 0.0).sum(axis=axis) if axis is not None else np.maximum(
        tau - f, 0.0)


def _pair_ops(B: np.ndarray, lab: np.ndarray, can_gh: bool, can_hg: bool,
              tau: float = -np.inf):
    """Every move and swap between the two groups of a pair, evaluated at once.

    ``B`` is the affinity block of the pair's members, ``lab`` their local group (0 or 1).
    Returns ``(kind, a, b, new_min, delta)``: kind 0 swaps local members ``a`` (group 0)
    and ``b`` (group 1), kind 1 moves ``a`` to group 1, kind 2 moves ``b`` to group 0;
    ``new_min`` is the lowest member fit of the two groups afterwards, ``delta`` the change
    of the total and ``short`` the sum of the members' shortfalls below ``tau``.
    """
    G, H = np.flatnonzero(lab == 0), np.flatnonzero(lab == 1)
    sg, sh = len(G), len(H)
    C0 = B[:, G].sum(axis=1)            # affinity of every member to group 0
    C1 = B[:, H].sum(axis=1)
    BGG, BHH, BGH = B[np.ix_(G, G)], B[np.ix_(H, H)], B[np.ix_(G, H)]
    kinds, aa, bb, mins, deltas, shorts = [], [], [], [], [], []
    if sg and sh:
        # swap a (in G) with b (in H): [a, b, x] tensors of the members' new fits
        fg = _div(C0[G][None, None, :] - BGG[:, None, :] + BGH.T[None, :, :], sg - 1)
        fg[np.arange(sg), :, np.arange(sg)] = np.inf           # a has left G
        fh = _div(C1[H][None, None, :] - BHH[None, :, :] + BGH[:, None, :], sh - 1)
        fh[:, np.arange(sh), np.arange(sh)] = np.inf           # b has left H
        fb = _div(C0[H][None, :] - BGH, sg - 1)                 # b in G
        fa = _div(C1[G][:, None] - BGH, sh - 1)                 # a in H
        nm = np.minimum(np.minimum(fg.min(axis=2, initial=np.inf),
                                   fh.min(axis=2, initial=np.inf)), np.minimum(fa, fb))
        d = C0[H][None, :] - C0[G][:, None] + C1[G][:, None] - C1[H][None, :] - 2 * BGH
        if np.isfinite(tau):
            shorts.append((_short(fg, tau, 2) + _short(fh, tau, 2) + _short(fa, tau)
                           + _short(fb, tau)).ravel())
        ia, ib = np.meshgrid(np.arange(sg), np.arange(sh), indexing="ij")
        kinds.append(np.zeros(sg * sh, dtype=np.int64))
        aa.append(G[ia.ravel()])
        bb.append(H[ib.ravel()])
        mins.append(nm.ravel())
        deltas.append(d.ravel())
    for kind, S, T, CS, CT, BSS, BST, ok in ((1, G, H, C0, C1, BGG, BGH, can_gh),
                                             (2, H, G, C1, C0, BHH, BGH.T, can_hg)):
        ss, st = len(S), len(T)
        if not ok or ss == 0:
            continue
        # move a from S to T: the rest of S, the members of T and a itself
        fs = _div(CS[S][None, :] - BSS, ss - 2)
        fs[np.arange(ss), np.arange(ss)] = np.inf
        ft = _div(CT[T][None, :] + BST, st)
        fa = _div(CT[S], st)
        nm = np.minimum(np.minimum(fs.min(axis=1, initial=np.inf),
                                   ft.min(axis=1, initial=np.inf)), fa)
        if np.isfinite(tau):
            shorts.append(_short(fs, tau, 1) + _short(ft, tau, 1) + _short(fa, tau))
        kinds.append(np.full(ss, kind, dtype=np.int64))
        aa.append(S if kind == 1 else np.full(ss, -1))
        bb.append(S if kind == 2 else np.full(ss, -1))
        mins.append(nm)
        deltas.append(CT[S] - CS[S])
    if not kinds:
        e = np.zeros(0)
        return e.astype(np.int64), e.astype(np.int64), e.astype(np.int64), e, e, e
    mins = np.concatenate(mins)
    return (np.concatenate(kinds), np.concatenate(aa), np.concatenate(bb), mins,
            np.concatenate(deltas),
            np.concatenate(shorts) if shorts else np.zeros_like(mins))


class FloorSearch:
    """Moves and swaps between pairs of groups that raise the floor (see the module notes).

    Parameters
    ----------
    problem : Problem
        The problem with a fixed number of groups (dense or affinity-object affinity).
    labels : ndarray of shape (n,)
        A valid grouping; it is copied.
    rng : numpy.random.Generator
        Samples partner groups when there are more than :data:`ALL_PARTNERS_M` groups.
    """

    def __init__(self, problem: Problem, labels: np.ndarray, rng: np.random.Generator):
        self.problem = problem
        self.m = int(problem.n_groups)
        self.labels = np.asarray(labels, dtype=np.int64).copy()
        self.rng = rng
        self.bounds = problem.bounds_for(self.m)
        self.index = RuleIndex(problem)
        self.pos = np.full(problem.n, -1, dtype=np.int64)
        self._members()
        self.fits = member_fits(problem.affinity, self.labels, self.m)
        self.gmin = np.array([self.fits[mem].min() if len(mem) else np.inf
                              for mem in self.members])
        self.steps: list[tuple[np.ndarray, np.ndarray, float]] = []
        self.n_checks = 0
        self.n_moves = 0
        #: escape with a tabu walk when plain descent on the shortfall is stuck
        self.tabu = True

    def _members(self) -> None:
        order = np.argsort(self.labels, kind="stable")
        cuts = np.searchsorted(self.labels[order], np.arange(1, self.m))
        self.members = [np.asarray(x, dtype=np.int64) for x in np.split(order, cuts)]

    @property
    def floor(self) -> float:
        """The lowest member fit of the current grouping."""
        return float(self.fits.min()) if len(self.fits) else 0.0

    # -- one pair of groups ------------------------------------------------------------
    def _pair(self, g: int, h: int, tau: float = -np.inf):
        rows = np.sort(np.concatenate([self.members[g], self.members[h]]))
        lab = (self.labels[rows] == h).astype(np.int64)
        B = np.asarray(core.block(self.problem.affinity, rows), dtype=np.float64)
        sg, sh = len(self.members[g]), len(self.members[h])
        can_gh = sg - 1 >= self.bounds[g, 0] and sh + 1 <= self.bounds[h, 1]
        can_hg = sh - 1 >= self.bounds[h, 0] and sg + 1 <= self.bounds[g, 1]
        return rows, lab, B, _pair_ops(B, lab, can_gh, can_hg, tau)

    @staticmethod
    def _apply_local(lab: np.ndarray, kind: int, a: int, b: int) -> np.ndarray:
        new = lab.copy()
        if kind in (0, 1):
            new[a] = 1
        if kind in (0, 2):
            new[b] = 0
        return new

    def _valid(self, g: int, h: int, new_local: np.ndarray, cache: dict) -> bool:
        """Every hard rule on the two rearranged groups (the exact sub-problem's check)."""
        if "sub" not in cache:
            cache["sub"] = subproblem(self.problem, self.labels, np.array([g, h]),
                                      members=self.members, index=self.index, pos=self.pos)
        self.n_checks += 1
        return not violations(cache["sub"].problem, new_local, 2)

    def _commit(self, g: int, h: int, rows: np.ndarray, B: np.ndarray,
                new_local: np.ndarray) -> None:
        old = self.labels[rows].copy()
        self.labels[rows] = np.where(new_local == 0, g, h)
        for k, grp in ((0, g), (1, h)):
            sel = new_local == k
            self.members[grp] = rows[sel]
            s = int(sel.sum())
            own = B[np.ix_(sel, sel)].sum(axis=1)
            self.fits[rows[sel]] = own / (s - 1) if s > 1 else 0.0
            self.gmin[grp] = self.fits[rows[sel]].min() if s else np.inf
        self.n_moves += 1
        self.steps.append((rows, old, self.floor))

    def _partners(self, g: int, who: int | None = None) -> np.ndarray:
        m = self.m
        others = np.delete(np.arange(m), g)
        if m <= ALL_PARTNERS_M:
            return others
        picks = [self.rng.choice(others, size=min(8, len(others)), replace=False)]
        if who is not None:
            # the groups of the candidates the member likes most
            row = np.asarray(core.block(self.problem.affinity, np.array([who]),
                                    np.arange(self.problem.n)), dtype=np.float64)[0]
            top = np.argpartition(-row, min(40, len(row) - 1))[:40]
            picks.append(self.labels[top])
        out = np.unique(np.concatenate(picks))
        return out[out != g]

    # -- phases --------------------------------------------------------------------------
    def raise_floor(self, deadline: float, cap: float = np.inf) -> bool:
        """Phase 1: raise the floor in steps of a target ``tau``; True when it rose.

        For each target, :meth:`_close_gap` removes the members' shortfalls below ``tau``
        (never lowering the floor). Reached: the next target is higher; missed: the step
        halves, four misses end the phase.
        """
        before = self.floor
        fits = self.fits
        step = max(float(np.median(fits) - fits.min()) / 8.0, 1e-6 * (1 + abs(fits.min())))
        misses = 0
        while misses < 4 and time.perf_counter() < deadline and self.floor < cap:
            tau = min(self.floor + step, cap)
            if self._close_gap(tau, deadline) or (self.tabu and self._tabu_gap(tau, deadline)):
                step *= 1.5
            else:
                step /= 2.0
                misses += 1
        return self.floor > before + _EPS * (1 + abs(before))

    def _close_gap(self, tau: float, deadline: float, tries: int = 4) -> bool:
        """Steps that shrink the total shortfall below ``tau`` until nobody falls short
        (True) or no step of the members furthest below helps (False)."""
        while time.perf_counter() < deadline:
            low = np.flatnonzero(self.fits < tau - _EPS * (1 + abs(tau)))
            if not len(low):
                return True
            floor = self.floor
            low = low[np.argsort(self.fits[low], kind="stable")]
            moved = False
            for w in low[:tries]:
                g = int(self.labels[w])
                if self._best_step(g, int(w), tau, floor, deadline):
                    moved = True
                    break
            if not moved:
                return False
        return False

    def _tabu_gap(self, tau: float, deadline: float, patience: int = 30,
                  tenure: int = 7) -> bool:
        """A tabu walk on the shortfall below ``tau`` when no step shrinks it: the best step
        of the member furthest below (worsening allowed, moved members tabu for ``tenure``
        steps), back to the best grouping seen when ``patience`` steps bring nothing.
        True when nobody falls short any more."""
        tol = _EPS * (1 + abs(tau))
        start_floor = self.floor
        short = float(_short(self.fits, tau).sum())
        best = (short, self.labels.copy())
        tabu_until = np.zeros(len(self.labels), dtype=np.int64)
        it = stale = 0
        while stale < patience and time.perf_counter() < deadline:
            it += 1
            w = int(np.argmin(np.where(tabu_until > it, np.inf, self.fits)))
            g = int(self.labels[w])
            cands = []
            for h in self._partners(g, w):
                h = int(h)
                rows, lab, B, (kind, a, b, nm, d, sh) = self._pair(g, h, tau)
                cur = float(_short(self.fits[rows], tau).sum())
                moved_a = np.where(a >= 0, tabu_until[rows[np.maximum(a, 0)]] > it, False)
                moved_b = np.where(b >= 0, tabu_until[rows[np.maximum(b, 0)]] > it, False)
                aspire = short + sh - cur < best[0] - tol
                ok = np.flatnonzero(~(moved_a | moved_b) | aspire)
                if len(ok):
                    top = ok[np.lexsort((-d[ok], sh[ok] - cur))[:3]]
                    cands.extend((float(sh[k] - cur), float(d[k]), h, int(kind[k]), int(a[k]),
                                  int(b[k]), rows, lab, B) for k in top)
            cands.sort(key=lambda c: (c[0], -c[1], c[2], c[3], c[4], c[5]))
            caches: dict[int, dict] = {}
            for _, _, h, kind, a, b, rows, lab, B in cands[:20]:
                new = self._apply_local(lab, kind, a, b)
                if self._valid(g, h, new, caches.setdefault(h, {})):
                    self._commit(g, h, rows, B, new)
                    for x in (a, b):
                        if x >= 0:
                            tabu_until[rows[x]] = it + tenure
                    break
            else:
                break
            short = float(_short(self.fits, tau).sum())
            if short < best[0] - tol and self.floor >= start_floor - _EPS * (1 + abs(start_floor)):
                best, stale = (short, self.labels.copy()), 0
                if short <= tol:
                    return True
            else:
                stale += 1
        changed = np.flatnonzero(self.labels != best[1])
        if len(changed):  # back to the best grouping of the walk, as one recorded step
            old = self.labels[changed].copy()
            self.labels[:] = best[1]
            self._members()
            self.fits = member_fits(self.problem.affinity, self.labels, self.m)
            self.gmin = np.array([self.fits[mem].min() if len(mem) else np.inf
                                  for mem in self.members])
            self.steps.append((changed, old, self.floor))
        return best[0] <= tol

    def _best_step(self, g: int, w: int, tau: float, floor: float, deadline: float) -> bool:
        """The valid step between ``g`` and a partner that most reduces the shortfall."""
        cands = []
        tol = _EPS * (1 + abs(tau))
        for h in self._partners(g, w):
            h = int(h)
            rows, lab, B, (kind, a, b, nm, d, sh) = self._pair(g, h, tau)
            cur = float(_short(self.fits[rows], tau).sum())
            ok = np.flatnonzero((sh < cur - tol) & (nm >= floor - _EPS * (1 + abs(floor))))
            if len(ok):
                best = ok[np.lexsort((-d[ok], sh[ok] - cur))[:4]]
                cands.extend((float(sh[k] - cur), float(d[k]), h, int(kind[k]), int(a[k]),
                              int(b[k]), rows, lab, B) for k in best)
            if time.perf_counter() >= deadline:
                break
        # the largest cut of the shortfall first, then the smallest loss of total; the
        # partner and members break ties (determinism)
        cands.sort(key=lambda c: (c[0], -c[1], c[2], c[3], c[4], c[5]))
        caches: dict[int, dict] = {}
        for _, _, h, kind, a, b, rows, lab, B in cands[:40]:
            new = self._apply_local(lab, kind, a, b)
            if self._valid(g, h, new, caches.setdefault(h, {})):
                self._commit(g, h, rows, B, new)
                return True
        return False

    def recover_total(self, target: float, deadline: float, max_sweeps: int = 20) -> int:
        """Phase 2: steps that raise the total and keep every fit at or above ``target``."""
        done = 0
        tol = _EPS * (1 + abs(target))
        for _ in range(max_sweeps):
            before = done
            for g in range(self.m):
                for h in self._partners(g):
                    h = int(h)
                    if self.m <= ALL_PARTNERS_M and h < g:
                        continue  # each pair once per sweep
                    if time.perf_counter() >= deadline:
                        return done
                    rows, lab, B, (kind, a, b, nm, d, _) = self._pair(g, h)
                    ok = np.flatnonzero((nm >= target - tol) & (d > _EPS * (1 + np.abs(d))))
                    if not len(ok):
                        continue
                    cache: dict = {}
                    for k in ok[np.lexsort((ok, -d[ok]))][:8]:
                        new = self._apply_local(lab, int(kind[k]), int(a[k]), int(b[k]))
                        if self._valid(g, h, new, cache):
                            self._commit(g, h, rows, B, new)
                            done += 1
                            break
            if done == before:
                break
        return done


def reweighted_start(problem: Problem, labels: np.ndarray, deadline: float, resolve,
                     rounds: int = 8, reproducible: bool = False) -> np.ndarray:
    """Phase 0 (dense affinity): re-run the total-maximising search on reweighted affinities.

    A Lagrangian view of "every fit at least ``tau``": member ``i``'s pairs are weighted
    ``1 + mu_i + mu_j``, and ``mu_i`` grows while ``i`` falls short of ``tau`` (a little
    above the best floor so far). ``resolve(problem, init, deadline)`` runs the ordinary
    search (every hard rule) warm-started from ``init``. Returns the grouping with the
    highest floor seen (ties: the highest total), the start included. With
    ``reproducible`` each round may use all the time left (its work is bounded by the
    search's ``max_iter``), so the clock never cuts a round short.
    """
    A = np.asarray(problem.affinity, dtype=np.float64)
    m = int(problem.n_groups)
    fits = member_fits(A, labels, m)
    best = (float(fits.min()), problem.objective(labels), labels)
    cur = labels
    mu = np.zeros(problem.n)
    mean_size = problem.n / max(m, 1)
    eta = 150.0 / max(mean_size - 1.0, 1.0) ** 2
    scale = max(abs(float(np.median(fits))), 1e-12)
    for r in range(rounds):
        left = deadline - time.perf_counter()
        if left <= 0.02:
            break
        f_best = best[0]
        tau = f_best + 0.1 * max(float(np.median(fits)) - f_best, 0.05 * scale)
        mu = np.maximum(0.0, mu + eta * (tau - fits) / scale)
        q = problem.with_affinity(A * (1.0 + mu[:, None] + mu[None, :]))
        until = deadline if reproducible else time.perf_counter() + left / (rounds - r)
        cur = np.asarray(resolve(q, cur, until), dtype=np.int64)
        fits = member_fits(A, cur, m)
        key = (float(fits.min()), problem.objective(cur))
        if key > best[:2]:
            best = (*key, cur)
    return best[2]


def reweighted_recovery(problem: Problem, labels: np.ndarray, target: float, deadline: float,
                        resolve, rng: np.random.Generator, rounds: int = RECOVERY_ROUNDS,
                        weight: float = 1.0, reproducible: bool = False
                        ) -> tuple[np.ndarray, int, int]:
    """Phase 3 (dense affinity): take total back at a fixed floor target.

    Phase 2 stops at the first grouping no single move or swap improves, often far below
    what the floor allows. Here the ordinary search re-runs from the best grouping so far
    on affinities where members with little slack above ``target`` weigh more
    (``1 + weight * (mu_i + mu_j)``; ``mu_i`` grows while ``i``'s slack is under 30 % of the
    median member's), so it gives up total where the floor needs it and takes it back
    elsewhere. Its grouping, which may dip under the target, is repaired (phase 1 capped
    at ``target``) and polished (phase 2); it is kept only when every fit is at least
    ``target`` and the total is higher; members the re-run left under the target weigh
    more in the next round. With ``reproducible`` exactly ``rounds`` rounds run; on the
    clock each round gets about ``1 / rounds`` of the time left (a quarter of it for the
    re-run, the rest for repair and polish) and rounds go on while time is left. Returns
    the best grouping (``labels`` itself when no round beats it) and the moves and rule
    checks the rounds made.
    """
    A = np.asarray(problem.affinity, dtype=np.float64)
    m = int(problem.n_groups)
    tol = _EPS * (1 + abs(target))
    best, best_total = np.asarray(labels, dtype=np.int64), problem.objective(labels)
    mu = np.zeros(problem.n)
    moves = checks = 0
    r = 0
    # reproducible: exactly ``rounds`` rounds; on the clock: rounds of about
    # ``1 / rounds`` of the time each, for as long as time is left
    while (r < rounds) if reproducible else (r < 10 * rounds):
        left = deadline - time.perf_counter()
        if left <= 0.02:
            break
        end = deadline if reproducible else time.perf_counter() + left / max(rounds - r, 1)
        fits = member_fits(A, best, m)
        scale = max(float(np.median(fits)) - target, tol)
        mu = np.maximum(0.0, mu + 0.5 * np.clip(0.3 - (fits - target) / scale, -1.0, 1.0))
        q = problem.with_affinity(A * (1.0 + weight * (mu[:, None] + mu[None, :])))
        mid = end if reproducible else time.perf_counter() + SHARES["fairness.rerun"] * (
            end - time.perf_counter())
        cur = np.asarray(resolve(q, best, mid), dtype=np.int64)
        # members the re-run left under the target weigh more in the next round
        mu += np.clip((target - member_fits(A, cur, m)) / scale, 0.0, 1.0)
        fs = FloorSearch(problem, cur, rng)
        if fs.floor < target - tol:
            fs.raise_floor(end, cap=target)
        if fs.floor >= target - tol:
            fs.recover_total(target, end)
            total = problem.objective(fs.labels)
            if total > best_total:
                best, best_total = fs.labels, total
        moves, checks = moves + fs.n_moves, checks + fs.n_checks
        r += 1
    return best, moves, checks


def raise_floor(problem: Problem, labels: np.ndarray, fairness: float, deadline: float,
                rng: np.random.Generator, resolve=None, reproducible: bool = False,
                recovery_rounds: int = RECOVERY_ROUNDS) -> dict:
    """The floor phase on a valid grouping of a fixed-count problem.

    ``resolve(problem, init, deadline)`` (optional) re-runs the ordinary search for phase 0
    (:func:`reweighted_start`) and ``recovery_rounds`` rounds of phase 3
    (:func:`reweighted_recovery`; 0 skips it), dense affinities only. With ``reproducible`` (the
    solver's ``max_iter`` mode) every stage runs to its own end and ``deadline`` is only a
    safety net, so the result does not depend on the clock. Returns ``labels`` (the new
    grouping, every hard rule holding), ``floor``, ``floor_reference`` and
    ``objective_reference`` (floor and total of the grouping it started from),
    ``floor_max`` (the highest floor reached) and ``floor_target``.

    Examples
    --------
    >>> import numpy as np
    >>> from peermatch.problem import Problem
    >>> A = np.array([[0, 10, 3, 0], [10, 0, 0, 3], [3, 0, 0, 0], [0, 3, 0, 0]], dtype=float)
    >>> p = Problem(A, min_size=2, max_size=2, n_groups=2)
    >>> out = raise_floor(p, np.array([0, 0, 1, 1]), 1.0, float("inf"),
    ...                   np.random.default_rng(0))
    >>> out["floor_reference"], out["objective_reference"], out["floor"], out["labels"].tolist()
    (0.0, 10.0, 3.0, [0, 1, 0, 1])
    """
    labels = np.asarray(labels, dtype=np.int64)

    def until(share: float) -> float:
        """The end of a stage given ``share`` of the time left."""
        if reproducible or not np.isfinite(deadline):
            return deadline
        return time.perf_counter() + share * (deadline - time.perf_counter())

    f0 = float(member_fits(problem.affinity, labels, int(problem.n_groups)).min())
    ref_total = problem.objective(labels)
    start = labels
    # dense affinity: phase 0 before, phase 3 after (each a share of the time)
    dense = resolve is not None and isinstance(problem.affinity, np.ndarray)
    recover = dense and recovery_rounds > 0
    if dense:
        start = reweighted_start(problem, labels, until(_START[recover]), resolve,
                                 reproducible=reproducible)
    fs = FloorSearch(problem, start, rng)
    if fairness >= 1.0:
        # lexicographic: raise the floor, take back total at that floor, again while the
        # floor still rises
        stop = until(SHARES["fairness.lexicographic"]) if recover else deadline
        while time.perf_counter() < stop:
            if not fs.raise_floor(stop):
                break
            fs.recover_total(fs.floor, stop)
        target = f1 = fs.floor
        if fs.n_moves == 0:
            fs.recover_total(fs.floor, stop)
    else:
        fs.raise_floor(until(_RAISE[recover]))
        f1 = max(fs.floor, f0)
        target = f0 + fairness * (f1 - f0)
        # from the reference grouping, only as far as the target: less total given up
        near = FloorSearch(problem, labels, rng)
        near.raise_floor(until(_RAISE[recover]), cap=target)
        if near.floor >= target - _EPS * (1 + abs(target)):
            fs = near
        fs.recover_total(target, until(SHARES["fairness.recover"]) if recover else deadline)
    extra = (0, 0)
    if recover:
        lab, *extra = reweighted_recovery(problem, fs.labels, target, deadline, resolve, rng,
                                          rounds=recovery_rounds, reproducible=reproducible)
        if lab is not fs.labels:
            fs = FloorSearch(problem, lab, rng)
    lab = fs.labels
    bad = violations(problem, lab, fs.m)
    if bad:  # never hand out a grouping that breaks a rule
        raise RuntimeError("peermatch internal error, the floor phase broke a rule: "
                           + "; ".join(bad))
    return {"labels": lab, "floor": fs.floor, "floor_reference": f0,
            "objective_reference": ref_total, "floor_max": f1, "floor_target": target,
            "fairness_moves": fs.n_moves + extra[0], "fairness_checks": fs.n_checks + extra[1]}


# -- CP-SAT ----------------------------------------------------------------------------
def _floor_model(model, x, y, problem: Problem, m: int, scale: int):
    """Add the scaled floor ``t`` to a complete model of :func:`cpsat.build`.

    ``t * (|g| - 1) <= sum_j a_ij y_ij`` for every member ``i`` of every group ``g``.
    Returns ``(t, total)``, the floor variable and the total as a linear expression.
    """
    from ortools.sat.python import cp_model

    LE = cp_model.LinearExpr
    n = problem.n
    ia = np.round(np.asarray(problem.affinity, dtype=np.float64) * scale).astype(np.int64)
    tv = [(v, int(ia[i, j])) for (i, j), v in y.items() if ia[i, j] != 0]
    total = LE.weighted_sum([v for v, _ in tv], [c for _, c in tv])
    b = problem.bounds_for(m)
    pos, neg = np.where(ia > 0, ia, 0).sum(axis=1), np.where(ia < 0, ia, 0).sum(axis=1)
    t = model.new_int_var(int(neg.min()), int(max(pos.max(), 0)), "floor (scaled)")
    own = []
    for i in range(n):
        terms = [(y[(min(i, j), max(i, j))], int(ia[i, j])) for j in range(n)
                 if j != i and ia[i, j] != 0 and (min(i, j), max(i, j)) in y]
        own.append(LE.weighted_sum([v for v, _ in terms], [c for _, c in terms]))
    big = int(np.abs(ia).sum()) + 1
    for g in range(m):
        size = model.new_int_var(max(int(b[g, 0]) - 1, 0), max(int(b[g, 1]) - 1, 0),
                                 f"size of group {g} minus one")
        model.add(size == LE.sum([x[(i, g)] for i in range(n)]) - 1)
        prod = model.new_int_var(-big * n, big * n, f"floor times size of group {g}")
        model.add_multiplication_equality(prod, [t, size])
        for i in range(n):
            model.add(own[i] >= prod).only_enforce_if(x[(i, g)])
    return t, total


def solve_exact_fair(problem: Problem, m: int, fairness: float, *, time_limit: float,
                     seed: int, workers: int, verbose: bool = False) -> dict:
    """The complete CP-SAT model with a floor variable, in three stages (module notes).

    Returns the dict of :func:`peermatch.solve.cpsat.solve_exact` plus ``floor``,
    ``floor_reference`` and ``objective_reference``.
    """
    from . import cpsat

    deadline = time.perf_counter() + float(time_limit)
    n = problem.n
    elements, groups = np.arange(n), np.arange(m)
    out = {"status": "unknown", "labels": None, "bound": math.nan}
    try:
        model, x, y, _, scale = cpsat.build(problem, m, elements, groups, objective="full",
                                             symmetry=True, deadline=deadline)
    except cpsat.BuildTimeout:
        return out
    A = np.asarray(problem.affinity, dtype=np.float64)
    t, total = _floor_model(model, x, y, problem, m, scale)

    def run(share: float):
        left = deadline - time.perf_counter()
        solver = cpsat.make_solver(max(left * share, 0.01), seed, workers, verbose)
        code = solver.solve(model)
        return solver, cpsat.cpsat_status(code)

    statuses = []
    model.maximize(total)
    s1, st = run(SHARES["fairness.exact_total"])
    statuses.append(st)
    if st not in ("optimal", "feasible"):
        out["status"] = st
        return out
    ref = cpsat.read_labels(s1, x, elements, groups, n)
    bound = s1.best_objective_bound / scale
    f0 = float(member_fits(A, ref, m).min())
    ref_t = int(s1.value(t))

    def hint(labels):
        model.clear_hints()
        for (i, g), var in x.items():
            model.add_hint(var, int(labels[i] == g))

    hint(ref)
    model.maximize(t)
    s2, st = run(SHARES["fairness.exact_floor"])
    statuses.append(st)
    best_t = int(s2.value(t)) if st in ("optimal", "feasible") else ref_t
    ok = st in ("optimal", "feasible")
    lab2 = cpsat.read_labels(s2, x, elements, groups, n) if ok else ref
    need = math.ceil(ref_t + fairness * (best_t - ref_t) - 1e-9)
    model.add(t >= need)
    hint(lab2)
    model.maximize(total)
    s3, st = run(1.0)
    statuses.append(st)
    ok = st in ("optimal", "feasible")
    labels = cpsat.read_labels(s3, x, elements, groups, n) if ok else lab2
    out.update(status="optimal" if all(s == "optimal" for s in statuses) else "feasible",
               labels=labels, bound=bound, floor=float(member_fits(A, labels, m).min()),
               floor_reference=f0, objective_reference=problem.objective(ref),
               reference_labels=ref)
    return out
