"""Independent blocks: allowed groups that split a problem into parts solved apart.

Internal module. When ``Problem.allowed`` splits candidates and groups into parts that
share nothing (tiers: each tier's members may join only its own groups; locked groups:
each keeps its own members), the objective is a sum over the parts and every rule is a
rule about one group's members, so the parts are independent problems. Solving each on
its own is exact, and the search never spends a move on a candidate that may not go
where the move sends it: on programmes with tiers the same seconds reach a better total.

:func:`independent_blocks` finds the parts (connected components of the graph whose
edges are allowed candidate-group pairs and must-link pairs), :func:`restrict` makes one
part a :class:`~peermatch.problem.Problem`, and :func:`solve_blocks` solves them one after
the other, each with a share of the time (or of ``max_iter``) proportional to its size.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from ..problem import GroupSum, Problem
from ._context import Context
from ._prep import violations
from ._result import SolverOptionWarning
from .outcome import Outcome
from .subproblems import nearly_whole

__all__ = ["independent_blocks", "restrict", "solve_blocks", "BLOCK_CELLS_MAX"]

#: Most affinity cells (sum of each part's rows squared) copied for the parts of a dense
#: affinity; a feature affinity is restricted without copying anything ``n x n``.
BLOCK_CELLS_MAX = 60_000_000


def independent_blocks(problem: Problem) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(rows, groups)`` of each independent part of ``problem``, ordered by first row.

    One part (every row, every group) unless ``allowed`` splits the problem; also one
    part when some group may hold no one or some candidate may join no group (the whole
    problem's search reports those), or when a dense affinity would need more than
    :data:`BLOCK_CELLS_MAX` copied cells.

    Examples
    --------
    >>> import numpy as np
    >>> allowed = np.array([[1, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 1]], dtype=bool)
    >>> p = Problem(np.ones((4, 4)), min_size=1, max_size=2, n_groups=3, allowed=allowed)
    >>> [(r.tolist(), g.tolist()) for r, g in independent_blocks(p)]
    [([0, 1], [0, 1]), ([2, 3], [2])]
    """
    n = problem.n
    whole = [(np.arange(n), np.arange(problem.n_groups or 0))]
    if problem.allowed is None:
        return whole
    m = problem.n_groups
    i, g = np.nonzero(problem.allowed)
    ml = np.asarray(problem.must_link, dtype=np.int64).reshape(-1, 2)
    # candidates are nodes 0..n-1, groups n..n+m-1
    a = np.concatenate([i, ml[:, 0]])
    b = np.concatenate([n + g, ml[:, 1]])
    graph = sp.coo_array((np.ones(a.size, dtype=np.int8), (a, b)), shape=(n + m, n + m))
    k, comp = connected_components(graph, directed=False)
    if k == 1:
        return whole
    parts = []
    for c in np.unique(comp[:n]):  # ordered by first row
        rows, groups = np.flatnonzero(comp[:n] == c), np.flatnonzero(comp[n:] == c)
        if groups.size == 0:
            return whole
        parts.append((rows, groups))
    if sum(len(g) for _, g in parts) < m:  # a group no candidate may join
        return whole
    if isinstance(problem.affinity, np.ndarray) and (
            sum(len(r) ** 2 for r, _ in parts) > BLOCK_CELLS_MAX):
        return whole
    return parts


def restrict(problem: Problem, rows: np.ndarray, groups: np.ndarray) -> Problem:
    """Part ``(rows, groups)`` of ``problem`` as a problem of its own (local labels
    ``0..len(groups)-1`` stand for ``groups``); exact when no rule links it to the rest.

    Examples
    --------
    >>> import numpy as np
    >>> p = Problem(np.ones((4, 4)), min_size=1, max_size=2, n_groups=2,
    ...             cannot_link=[(0, 1), (1, 2)], allowed=np.eye(2, dtype=bool)[[0, 0, 1, 1]])
    >>> q = restrict(p, np.array([0, 1]), np.array([0]))
    >>> q.n, q.n_groups, q.cannot_link.tolist(), q.allowed is None
    (2, 1, [[0, 1]], True)
    """
    pos = np.full(problem.n, -1, dtype=np.int64)
    pos[rows] = np.arange(rows.size)

    def pairs(p):
        q = pos[np.asarray(p, dtype=np.int64).reshape(-1, 2)]
        return q[(q >= 0).all(axis=1)]

    m = problem.n_groups
    A = problem.affinity
    A = A.subset(rows) if hasattr(A, "subset") else A[np.ix_(rows, rows)]
    allowed = problem.allowed[np.ix_(rows, groups)] if problem.allowed is not None else None
    if allowed is not None and allowed.all():
        allowed = None
    sums = []
    for s in problem.group_sums:
        lo, hi = s.bounds(m)
        sums.append(GroupSum(coef=np.asarray(s.coef)[rows], lo=np.asarray(lo)[groups],
                             hi=np.asarray(hi)[groups], name=s.name))
    return Problem(
        A, bounds=problem.bounds_for(m)[groups], cannot_link=pairs(problem.cannot_link),
        must_link=pairs(problem.must_link), allowed=allowed, group_sums=tuple(sums),
        slots=None if problem.slots is None else problem.slots[rows],
        slot_quorum=problem.slot_quorum,
        no_singleton=tuple(np.asarray(c)[rows] for c in problem.no_singleton),
        names=None if problem.names is None else tuple(np.asarray(problem.names)[rows]))


def solve_blocks(problem: Problem, parts, meth: str, ctx: Context, solve_one) -> Outcome | None:
    """Solve the independent ``parts`` one after the other; None when one has no valid
    grouping (the caller then searches the whole problem, whose diagnosis names the rules).

    Each part gets the share of the time left (and of ``max_iter``) that its rows are of
    the rows left; a part with one group has one grouping, checked and taken at once.
    ``solve_one`` is :func:`peermatch.solve.solve` (passed in: this module sits below it).
    """
    n, m = problem.n, problem.n_groups
    labels = np.full(n, -1, dtype=np.int64)
    max_iter = ctx.options.get("max_iter")
    done, rows_left = 0.0, n
    out = Outcome("optimal", n_groups=m, bound=0.0, interrupted=None)
    methods = []
    for rows, groups in parts:
        sub = restrict(problem, rows, groups)
        share = rows.size / rows_left
        rows_left -= rows.size
        if groups.size == 1 and not violations(sub, np.zeros(rows.size, np.int64), 1):
            labels[rows] = groups[0]
            done += sub.objective(np.zeros(rows.size, np.int64))
            out.bound += sub.objective(np.zeros(rows.size, np.int64))
            continue
        budget = ctx.search.child(fraction=share)
        if out.interrupted:  # Ctrl-C: the parts left get time for their construction only
            budget = ctx.search.child(seconds=min(budget.left(), _start_seconds(rows.size)))
        opts = dict(ctx.options)
        if ctx.plan.decompose:
            # the parts keep the whole's scale: sub-problems of a few groups, not the
            # population search a part of its size would get on its own (measured better
            # on tiers of a few hundred candidates each), unless one sub-problem would be
            # nearly the whole part (then the whole-part search is better: nearly_whole)
            opts.setdefault("decompose", not (isinstance(sub.affinity, np.ndarray)
                                              and nearly_whole(rows.size, groups.size)))
        if max_iter is not None:
            opts["max_iter"] = max(1, round(int(max_iter) * rows.size / n))
        t0 = ctx.elapsed()
        seed = ctx.seed_int()
        with warnings.catch_warnings():  # the options were checked against the whole plan
            warnings.simplefilter("ignore", SolverOptionWarning)
            try:
                r = solve_one(sub, meth, seed=seed, workers=ctx.workers, options=opts,
                              budget=budget, callback=_reporter(ctx, done))
            except KeyboardInterrupt:  # between two stages of the part's own solve
                out.interrupted = True
                r = solve_one(sub, meth, seed=seed, workers=ctx.workers, options=opts,
                              budget=ctx.search.child(seconds=_start_seconds(rows.size)))
        if not r.success:
            if out.interrupted:
                return Outcome("unknown", n_groups=m, method=meth, interrupted=True)
            return None
        labels[rows] = groups[r.labels]
        done += r.objective
        out.bound += r.bound if r.status == "optimal" else math.inf
        out.status = "optimal" if out.status == "optimal" and r.status == "optimal" else "feasible"
        out.iterations += r.iterations
        out.n_restarts += r.n_restarts
        out.time_to_feasible = t0 + r.time_to_feasible
        out.interrupted = out.interrupted or r.get("interrupted") or None
        methods.append(r.method)
    ctx.progress(done)
    # the grouping behind the best value (the parts' callbacks could not give it)
    ctx.best_labels, ctx.best_m = labels.copy(), m
    if out.status != "optimal":
        out.bound = math.nan if not math.isfinite(out.bound) else out.bound
    meth_used = "+".join(dict.fromkeys(methods)) or "exact"
    return out.replace(labels=labels, method=meth_used, sub_problems=len(parts),
                       time_to_feasible=out.time_to_feasible if methods else ctx.elapsed())


def _start_seconds(rows: int) -> float:
    """Seconds enough for a part's first valid grouping (greedy construction and repair)."""
    return 0.5 + rows / 2000.0


def _reporter(ctx: Context, done: float):
    """A part's callback: its best value plus the parts before it, as the whole's progress
    (a part's labels are known only when it returns, so none are recorded here)."""
    def report(progress: dict) -> None:
        ctx.progress(done + float(progress["objective"]))
    return report

