"""The start of a search: a first grouping that keeps every hard rule, or a verdict."""

from __future__ import annotations

import time

import numpy as np

from ..budget import SHARES, Budget
from ..problem import Problem
from ._context import Context
from ._prep import prepare, violations
from .outcome import Outcome
from .plan import setting

__all__ = ["feasible_start", "scale_start", "sizes_broken", "infeasible", "QUICK_UNITS"]

#: Up to this many units, a greedy grouping that breaks a rule goes to CP-SAT first: on a
#: problem this small it finds a start or proves there is none at once, where the repair
#: would spend most of the time limit before giving up on an infeasible problem.
QUICK_UNITS = 64


def infeasible(families: list[str], m: int, meth: str) -> Outcome:
    """The "infeasible" outcome naming the rule ``families`` responsible."""
    from .cpsat import reason_sentence

    return Outcome("infeasible", n_groups=m, method=meth,
                   reasons=[reason_sentence(f) for f in dict.fromkeys(families)])


def _repaired(problem: Problem, prep, lab: np.ndarray, ctx: Context, deadline: float):
    """The min-conflicts repair of a greedy grouping (sizes and allowed groups hold), or
    None; CP-SAT keeps some time to prove infeasibility when the repair cannot succeed."""
    from . import cpsat
    from .min_conflicts import min_conflicts

    # When the CP-SAT model could not even be built in the time left, the repair
    # keeps the whole budget.
    left = max(ctx.left(deadline), 0.0)
    cp_ok = cpsat.build_seconds(problem, prep.m) < SHARES["start.cpsat_build"] * left
    until = time.perf_counter() + (SHARES["start.repair"] if cp_ok else 1.0) * left
    fixed = min_conflicts(prep, lab, ctx.seed_int(), until)
    if fixed is not None and not violations(problem, prep.to_elements(fixed), prep.m):
        return fixed
    return None


def _quick_verdict(problem: Problem, prep, ctx: Context, deadline: float):
    """CP-SAT's short first look at a tiny problem: ``(units, None)``, ``(None,
    infeasible outcome)``, or None when it did not decide in its time."""
    from . import cpsat

    left = ctx.left(deadline)
    limit = min(1.0, SHARES["start.quick"] * left)
    if limit < 0.05 or cpsat.build_seconds(problem, prep.m) > 0.5 * limit:
        return None
    diag = cpsat.diagnose(problem, prep.m, time_limit=limit, seed=ctx.seed_int(),
                          workers=ctx.workers, verbose=bool(setting(ctx.options, "verbose")))
    if diag["status"] == "feasible":
        return prep.to_units(diag["labels"]), None
    if diag["status"] == "infeasible":
        return None, infeasible(diag["families"] or prep.contradictions, prep.m, "")
    return None


def feasible_start(problem: Problem, prep, ctx: Context, budget: Budget):
    """A feasible unit labelling (greedy, else repair, else CP-SAT) and None, or None and
    an infeasible/unknown :class:`Outcome`."""
    from . import cpsat
    from .construct import greedy

    deadline = budget.deadline
    m = prep.m
    if not prep.contradictions:
        for attempt in range(3):
            if ctx.left(deadline) <= 0:
                break
            # The last attempt forces its way through (breaking conflicts for the repair).
            lab = greedy(prep, ctx.rng, force=attempt == 2)
            if lab is None:
                if ctx.left(deadline) < SHARES["start.force"] * (deadline - ctx.t0):
                    lab = greedy(prep, ctx.rng, force=True)
                if lab is None:
                    continue
            if not violations(problem, prep.to_elements(lab), m):
                return lab, None
            if prep.nu <= QUICK_UNITS:
                quick = _quick_verdict(problem, prep, ctx, deadline)
                if quick is not None:
                    return quick
            # Sizes and allowed groups hold; the repair fixes the others (conflicts,
            # presence, spread, balance, meeting slot, isolation).
            fixed = _repaired(problem, prep, lab, ctx, deadline)
            if fixed is not None:
                return fixed, None
            break
    left = ctx.left(deadline)
    if left < 0.05 or cpsat.build_seconds(problem, m) > left:
        # Too little time left to even build the CP-SAT model: no verdict (the build
        # itself also watches the clock, in case this estimate is optimistic).
        if prep.contradictions:
            return None, infeasible(prep.contradictions, m, "")
        return None, Outcome("unknown", n_groups=m)
    diag = cpsat.diagnose(problem, m, time_limit=left, seed=ctx.seed_int(),
                          workers=ctx.workers, verbose=bool(setting(ctx.options, "verbose")))
    if diag["status"] == "feasible":
        return prep.to_units(diag["labels"]), None
    if diag["status"] == "infeasible":
        return None, infeasible(diag["families"] or prep.contradictions, m, "")
    return None, Outcome(diag["status"], n_groups=m)


def scale_start(problem: Problem, m: int, ctx: Context, budget: Budget):
    """A valid element labelling for a large problem and None, or None and a verdict."""
    from .construct import stream_greedy

    lab = None
    if not len(problem.must_link):
        for _ in range(3):
            if budget.left() <= 0:
                break
            lab = stream_greedy(problem, m, ctx.rng)
            if lab is not None and not violations(problem, lab, m):
                return lab, None
    if not isinstance(problem.affinity, np.ndarray):
        # Rules the streaming construction does not know (meeting slots, isolation, lower
        # bounds of group sums): the min-conflicts repair reads the rules only, so it runs
        # without an n x n matrix, from the construction (sizes and allowed groups hold).
        if lab is not None and not sizes_broken(problem, lab, m):
            from .min_conflicts import min_conflicts

            prep = prepare(problem, m, affinity=False)
            until = budget.until(SHARES["start.repair"])
            units = min_conflicts(prep, prep.to_units(lab), ctx.seed_int(), until)
            if units is not None:
                fixed = prep.to_elements(units)
                if not violations(problem, fixed, m):
                    return fixed, None
        return None, Outcome("unknown", n_groups=m,
                             message="the construction for large inputs found no grouping "
                                     "that satisfies every rule within 60 % of the time "
                                     "limit; a longer time limit may find one")
    prep = prepare(problem, m)
    units, verdict = feasible_start(problem, prep, ctx, budget)
    if units is None:
        return None, verdict
    return prep.to_elements(units), None


def sizes_broken(problem: Problem, labels: np.ndarray, m: int) -> bool:
    """Does ``labels`` break the size bounds or the allowed groups?"""
    b = problem.bounds_for(m)
    size = np.bincount(labels, minlength=m)
    if np.any((size < b[:, 0]) | (size > b[:, 1])):
        return True
    return problem.allowed is not None and not bool(
        problem.allowed[np.arange(problem.n), labels].all())
