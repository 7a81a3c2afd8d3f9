"""A free number of groups: screen a few candidate counts, then search the best one."""

from __future__ import annotations

import math

import numpy as np

from ..problem import Problem
from ._context import Context
from ._engines import solve_fixed
from .outcome import Outcome
from .plan import setting

__all__ = ["solve_free_count", "value_of", "candidate_counts"]


def value_of(problem: Problem, out: Outcome) -> float:
    """The objective of an outcome's grouping (``-inf`` without one)."""
    return problem.objective(out.labels) if out.labels is not None else -math.inf


def candidate_counts(problem: Problem, counts: list[int], at_scale: bool
                     ) -> tuple[list[int], bool]:
    """The counts to screen, and whether the affinity has both signs (then the neighbours
    of the best one are screened too)."""
    # The diagonal is zero, so min/max over the whole matrix decide the signs of the
    # off-diagonal entries without an n x n copy.
    A = problem.affinity
    a_min, a_max = A.bounds() if hasattr(A, "bounds") else (A.min(), A.max())
    if problem.n < 2 or a_min >= 0:
        # Non-negative affinities: fewer, larger groups hold more pairs. At scale the
        # fewest groups is taken outright (a screening run would cost a whole search).
        return (counts[:1] if at_scale else counts[:2]), False
    if a_max <= 0:
        return counts[-2:], False
    return sorted({counts[int(round(t))] for t in np.linspace(0, len(counts) - 1, 5)}), True


def solve_free_count(problem: Problem, meth: str, ctx: Context) -> Outcome:
    """Choose the number of groups (strategy in the Notes of :func:`solve`)."""
    lo, hi = problem.group_count_range()
    if lo > hi or hi < 1:
        from .cpsat import reason_sentence

        return Outcome("infeasible", n_groups=0, method=meth,
                       reasons=[reason_sentence("group sizes") + f" (no number of groups "
                                f"splits n={problem.n} into sizes "
                                f"{problem.min_size}..{problem.max_size})"])
    counts = list(range(lo, hi + 1))
    if len(counts) == 1:
        return solve_fixed(problem.with_groups(lo), lo, ctx)
    cand, mixed = candidate_counts(problem, counts, ctx.plan.at_scale)
    if len(cand) == 1:
        return solve_fixed(problem.with_groups(cand[0]), cand[0], ctx)
    share = float(setting(ctx.options, "screen_share"))
    max_iter = ctx.options.get("max_iter")
    n_screen = len(cand) + (2 if mixed else 0)
    slot = share * ctx.left() / n_screen
    screen_iter = None if max_iter is None else max(1, int(max_iter) // (2 * n_screen))
    results: dict[int, Outcome] = {}

    def screen(c: int) -> None:
        results[c] = solve_fixed(problem.with_groups(c), c, ctx,
                                 budget=ctx.search.child(seconds=slot), max_iter=screen_iter)

    for c in cand:
        screen(c)

    def value(c):
        return value_of(problem, results[c])

    ok = [c for c in results if results[c].labels is not None]
    if mixed and ok:
        best = max(ok, key=value)
        for c in (best - 1, best + 1):
            if lo <= c <= hi and c not in results:
                screen(c)
        ok = [c for c in results if results[c].labels is not None]
    if not ok:
        # Report the verdict of the count a user would expect first.
        first = results[cand[0]]
        if all(r.status == "infeasible" for r in results.values()):
            return first
        return Outcome("unknown", n_groups=0, method=meth)
    best = max(ok, key=value)
    r = results[best]
    if r.status == "optimal" or ctx.left() <= 0.01:
        return r
    final = solve_fixed(problem.with_groups(best), best, ctx, start=r.labels)
    if final.labels is None or value_of(problem, final) < value(best):
        return r
    if final.status != "optimal":
        final.iterations = final.iterations + sum(x.iterations for x in results.values())
    return final
