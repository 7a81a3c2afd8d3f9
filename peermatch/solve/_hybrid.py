"""The hybrid search: tabu search slices alternating with CP-SAT repairs of a few groups
(large neighbourhood search)."""

from __future__ import annotations

import time

from ..budget import Budget
from ..problem import Problem
from ._context import Context
from .plan import LNS_GROUPS, setting

__all__ = ["hybrid_loop", "ITER_SECONDS", "MIN_DET_TIME", "REPAIR_SECONDS", "repair_counts"]

#: Rough seconds per tabu iteration per ``nu * (nu + m)`` (measured ~4e-9 at n = 60).
ITER_SECONDS = 4e-9
#: Smallest deterministic time of one CP-SAT repair under ``max_iter``.
MIN_DET_TIME = 0.01
#: Fixed seconds of one CP-SAT repair whatever its deterministic time: building the
#: sub-model and CP-SAT's presolve (measured 0.08 s for 3 groups of 6-9 members).
REPAIR_SECONDS = 0.06
#: Repairs after each tabu slice when the iterations leave room for them.
REPAIRS_PER_SLICE = 2
SLICES = 10


def repair_counts(max_iter: int, nu: int, m: int, share: float) -> list[int]:
    """How many CP-SAT repairs follow each of the ``SLICES`` tabu slices under ``max_iter``.

    The repairs get ``share`` of the work as the clock-driven loop does: their count is
    what ``share / (1 - share)`` of the slices' estimated seconds pays for at
    ``REPAIR_SECONDS`` each, at most ``REPAIRS_PER_SLICE`` a slice, spread evenly. A small
    ``max_iter`` therefore gives a short run: 300 iterations on 90 members are a hundredth
    of a second of tabu search, and twenty repairs would take a hundred times that.

    >>> repair_counts(300, 90, 10, 0.3)
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    >>> repair_counts(4000, 500, 42, 0.3)
    [2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
    >>> repair_counts(1000, 500, 42, 0.3)
    [0, 1, 1, 0, 1, 1, 0, 1, 1, 1]
    """
    tabu_s = int(max_iter) * ITER_SECONDS * nu * (nu + m)
    total = int(share / max(1 - share, 0.05) * tabu_s / REPAIR_SECONDS)
    total = min(total, REPAIRS_PER_SLICE * SLICES)
    return [(s + 1) * total // SLICES - s * total // SLICES for s in range(SLICES)]


def hybrid_loop(problem: Problem, prep, ts, ctx: Context, budget: Budget, max_iter,
                on_slice) -> None:
    """Alternate tabu search slices of ``ts`` with CP-SAT repairs of a few groups."""
    from . import cpsat

    deadline = budget.deadline
    m = prep.m
    share = float(setting(ctx.options, "lns_share"))
    k = min(LNS_GROUPS, m)
    t_rep = float(setting(ctx.options, "lns_time"))
    if k < 2:
        ts.run_until(deadline, max_iter, on_slice)
        return
    total = max(deadline - time.perf_counter(), 0.0)
    cycle = max(0.3, total / 20)
    det_time, counts, done = None, [], 0
    if max_iter is not None:
        # Iterations, not seconds, drive the search: ten slices of max_iter / 10 tabu
        # iterations, each followed by the repairs the slices pay for (repair_counts),
        # whose deterministic time matches the share of the work given to CP-SAT
        # (iterations priced at ITER_SECONDS * nu (nu + m)), so a small max_iter gives a
        # short run (the time limit is only a safety net).
        step = max(1, int(max_iter) // SLICES)
        slice_s = step * ITER_SECONDS * prep.nu * (prep.nu + m)
        det_time = min(t_rep, max(MIN_DET_TIME, share / max(1 - share, 0.05) * slice_s / 2))
        counts = repair_counts(max_iter, prep.nu, m, share)
    try:
        while time.perf_counter() < deadline:
            if max_iter is not None:
                if ts.iterations >= max_iter:
                    break
                ts.run_until(deadline, min(ts.iterations + step, max_iter), on_slice)
            else:
                ts.run_until(min(deadline, time.perf_counter() + (1 - share) * cycle),
                             None, on_slice)
            t_end = time.perf_counter() + share * cycle
            n_rep = 1000 if max_iter is None else counts[min(done, SLICES - 1)]
            done += 1
            for _ in range(n_rep):
                left = deadline - time.perf_counter()
                if left < 0.05 or (max_iter is None and time.perf_counter() >= t_end):
                    break
                groups = ctx.rng.choice(m, size=k, replace=False)
                labels = prep.to_elements(ts.best_labels)
                new = cpsat.resolve_groups(problem, m, labels, groups,
                                   time_limit=left if det_time is not None else min(t_rep, left),
                                   seed=ctx.seed_int(), workers=ctx.workers,
                                   deterministic=det_time is not None, det_time=det_time)
                if new is not None:
                    ts.load(prep.to_units(new))
                    on_slice()
    except KeyboardInterrupt:
        on_slice()
        raise
