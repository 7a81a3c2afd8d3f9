"""The engines one plan runs on a fixed number of groups: exact CP-SAT, the local search
(tabu, population, hybrid) and the decomposition into sub-problems.

Every engine has one signature, ``engine(problem, m, ctx, budget, *, start=None,
max_iter=None) -> Outcome``: the problem with ``m`` groups, the call's
:class:`~peermatch.solve._context.Context` (plan, options, randomness, progress), the
:class:`~peermatch.budget.Budget` it may spend, an optional warm start and iteration bound.
"""

from __future__ import annotations

import math
import time

import numpy as np

from ..budget import SHARES, Budget
from ..problem import Problem
from ._context import Context
from ._hybrid import hybrid_loop
from ._prep import prepare, violations
from ._start import feasible_start, infeasible, scale_start
from .outcome import Outcome
from .plan import given, setting

__all__ = ["solve_fixed", "solve_exact", "solve_local", "solve_decomposed"]


def solve_fixed(problem: Problem, m: int, ctx: Context, *, budget: Budget | None = None,
                start: np.ndarray | None = None, max_iter: int | None = None) -> Outcome:
    """Run the plan's engine on ``problem`` with ``m`` groups within ``budget`` (default:
    the search's)."""
    if budget is None:
        budget = ctx.search
    if max_iter is None:
        max_iter = ctx.options.get("max_iter")
    if ctx.plan.engine == "exact":
        engine = solve_exact
    elif ctx.plan.decompose:
        engine = solve_decomposed
    else:
        engine = solve_local
    return engine(problem, m, ctx, budget, start=start, max_iter=max_iter)


def solve_exact(problem: Problem, m: int, ctx: Context, budget: Budget, *,
                start=None, max_iter=None) -> Outcome:
    """CP-SAT on the complete model; on infeasibility, a diagnosis names the rules
    (``start`` and ``max_iter`` are not used)."""
    from . import cpsat

    verbose = bool(setting(ctx.options, "verbose"))
    if ctx.fairness > 0:
        from .fairness import solve_exact_fair

        out = solve_exact_fair(problem, m, ctx.fairness, time_limit=budget.left(),
                               seed=ctx.seed_int(), workers=ctx.workers, verbose=verbose)
    else:
        out = cpsat.solve_exact(problem, m, time_limit=budget.left(), seed=ctx.seed_int(),
                                workers=ctx.workers, verbose=verbose)
    res = Outcome(out["status"], labels=out["labels"], bound=out["bound"], n_groups=m,
                  method="exact")
    fair = {k: out[k] for k in ("floor", "floor_reference", "objective_reference",
                                "reference_labels") if k in out}
    if fair:
        res = res.replace(**fair, fairness=ctx.fairness)
    if out["labels"] is not None:
        res.time_to_feasible = ctx.elapsed()
        ctx.progress(problem.objective(out["labels"]), n_groups=m)
    if out["status"] == "infeasible":
        # Naming the rules needs a second model; within the time limit only.
        diag = {"families": []}
        if budget.left() > 0.05:
            diag = cpsat.diagnose(problem, m, time_limit=budget.left(),
                                  seed=ctx.seed_int(), workers=ctx.workers, verbose=verbose)
        return infeasible(diag["families"], m, "exact")
    return res


def _numpy_while_compiling(prep, units, rules: bool, ctx: Context, deadline: float):
    """First use on this install: the kernels compile in the background while the numpy
    search improves the construction. Returns the units and the seconds waited."""
    from .local import kernels_compiled, kernels_ready
    from .numpy_engine import numpy_search

    t_wait = time.perf_counter()
    best_val = -math.inf
    while not kernels_ready(rules, time.perf_counter()) and time.perf_counter() < deadline:
        units, val = numpy_search(prep, units, min(deadline, time.perf_counter() + 1.0),
                                  ctx.rng)
        if val > best_val + 1e-9:
            best_val = val
            ctx.progress(val + prep.const, n_groups=prep.m, labels=lambda u=units: (
                prep.to_elements(prep.match_labels(u))))
        else:
            break  # no progress: wait for the kernels
    # (the wait is reported only when the kernels compiled, not for a slow cache load)
    return units, round(time.perf_counter() - t_wait, 3) if kernels_compiled() else None


def _checked(problem: Problem, labels: np.ndarray, m: int) -> np.ndarray:
    bad = violations(problem, labels, m)
    if bad:  # a kernel bug: never hand out a grouping that breaks a rule
        raise RuntimeError("peermatch internal error, the local search broke a rule: "
                           + "; ".join(bad))
    return labels


def solve_local(problem: Problem, m: int, ctx: Context, budget: Budget, *,
                start=None, max_iter=None) -> Outcome:
    """Construction + compiled iterated tabu search (+ CP-SAT repairs when the plan's
    engine is ``"hybrid"``)."""
    from .local import TabuSearch, kernels_compiled, kernels_loaded, kernels_ready, needs_rules

    deadline = budget.deadline
    name = ctx.plan.engine
    hybrid = name == "hybrid"
    prep = prepare(problem, m)
    rules = needs_rules(prep)
    kernels_ready(rules, 0.0)  # start compiling / loading in the background now
    if start is not None:
        units = prep.to_units(start)
    else:
        units, verdict = feasible_start(problem, prep, ctx, budget)
        if units is None:
            verdict.method = name
            return verdict
    t_feasible = ctx.elapsed()
    ctx.progress(float(problem.objective(prep.to_elements(units))),
                 labels=lambda: prep.to_elements(prep.match_labels(units)), n_groups=m)
    seed = ctx.seed_int()
    compile_wait = None
    # A load from numba's disk cache is waited for (a share of the time at most); while
    # the kernels compile (first run on this install), the numpy search runs (not in the
    # reproducible mode: its progress depends on the clock).
    if ctx.plan.compile_fallback and not kernels_loaded(
            rules, budget.until(SHARES["solve.cache_load"])):
        units, compile_wait = _numpy_while_compiling(prep, units, rules, ctx, deadline)
    if not kernels_ready(rules, deadline):
        # The compilation outlasts the time limit: the numpy search's grouping is the
        # answer (compilation goes on for later calls).
        labels = prep.to_elements(prep.match_labels(units))
        return Outcome("feasible", labels=labels, n_groups=m, method=name,
                       time_to_feasible=t_feasible, compile_cut=kernels_compiled(),
                       compile_wait=compile_wait)
    ts = TabuSearch(prep, units, ctx.options, seed=seed)

    def on_slice():
        ctx.progress(ts.best_value + prep.const, labels=lambda: prep.to_elements(ts.best_labels),
                     n_groups=m, iteration=ts.iterations)

    if hybrid:
        hybrid_loop(problem, prep, ts, ctx, budget, max_iter, on_slice)
    else:
        pop = given(ctx.options, "population")  # None: sized by the budget
        if (pop is None or int(pop) >= 2) and prep.nu >= 4 * prep.m and prep.m >= 2:
            from .population import PopulationSearch

            child_iter = int(given(ctx.options, "child_iter") or 2.5 * ts.params[2])
            ps = PopulationSearch(prep, ts, ctx.rng, pop, child_iter)
            ps.run(deadline, max_iter, lambda v: ctx.progress(
                v + prep.const, labels=lambda: prep.to_elements(ts.best_labels), n_groups=m,
                iteration=ts.iterations))
        elif ts.run_until(deadline, max_iter, on_slice):
            raise KeyboardInterrupt
    labels = _checked(problem, prep.to_elements(ts.best_labels), m)
    return Outcome("feasible", labels=labels, n_groups=m, method=name,
                   iterations=ts.iterations, n_restarts=ts.n_restarts,
                   time_to_feasible=t_feasible, compile_wait=compile_wait)


def _kernels_ready(t: float) -> bool:
    from .local import kernels_ready

    return kernels_ready(True, t) and kernels_ready(False, t)


def _sub_problems_while_compiling(ds, out: Outcome, ctx: Context, deadline: float,
                                  improved) -> bool:
    """First run on this install: the kernels compile in the background while the numpy
    search works on the sub-problems. True when the compilation outlasts the time limit
    (``out`` then holds the grouping)."""
    from .local import kernels_compiled

    now = time.perf_counter()
    ds.reconstruct(now + SHARES["decompose.compile"] * max(deadline - now, 0.0))
    improved(ds.value)

    def done() -> bool:
        t = time.perf_counter()
        return t >= deadline or _kernels_ready(t)

    if ds.run_numpy(done, improved):
        raise KeyboardInterrupt
    if kernels_compiled():  # (not said of a slow load from the disk cache)
        out.compile_wait = round(time.perf_counter() - now, 3)
    if _kernels_ready(time.perf_counter()):
        return False
    out.labels, out.iterations, out.n_restarts = ds.labels, 0, ds.n_sub
    out.compile_cut = kernels_compiled()
    return True


def solve_decomposed(problem: Problem, m: int, ctx: Context, budget: Budget, *,
                     start=None, max_iter=None) -> Outcome:
    """Large problems: construction, then descent + tabu on sub-problems of a few groups."""
    from .decompose import DecompositionSearch
    from .local import kernels_loaded, kernels_ready

    deadline = budget.deadline
    name = ctx.plan.engine
    kernels_ready(True, 0.0)  # sub-problems with cannot-link pairs use the rules kernel
    kernels_ready(False, 0.0)
    if start is not None:
        labels = np.asarray(start, dtype=np.int64)
    else:
        labels, verdict = scale_start(problem, m, ctx, budget)
        if labels is None:
            verdict.method = name
            return verdict
    t_feasible = ctx.elapsed()
    executor = None
    if ctx.plan.executor == "dask":
        from .distributed import DaskMap

        # timed mode: a few sub-problems per worker thread each round (the reproducible
        # mode keeps the in-process batch, hence the in-process groups)
        executor = DaskMap(ctx.session, problem, ctx.options,
                           auto_batch=given(ctx.options, "batch") is None
                           and max_iter is None)
    ds = DecompositionSearch(problem, labels, ctx.rng, ctx.options, executor=executor)
    ctx.progress(ds.value, labels=ds.labels, n_groups=m)
    out = Outcome("feasible", n_groups=m, method=name, time_to_feasible=t_feasible,
                  representation=getattr(problem.affinity, "representation", "dense"),
                  decomposition=True)

    def improved(v):
        ctx.progress(v, labels=lambda: ds.labels, n_groups=m, iteration=ds.iterations)

    try:
        # (not in the reproducible mode: how far the numpy search gets depends on the clock)
        if (ctx.plan.compile_fallback
                and not kernels_loaded(None, budget.until(SHARES["solve.cache_load"]))
                and _sub_problems_while_compiling(ds, out, ctx, deadline, improved)):
            return out
        interrupted = ds.run(deadline, max_iter, improved)
    finally:
        if executor is not None:
            executor.close()
            out.distributed = {**ctx.session.describe(), **executor.stats}
    if interrupted:
        raise KeyboardInterrupt
    out.labels = _checked(problem, ds.labels, m)
    out.iterations, out.n_restarts = ds.iterations, ds.n_sub
    out.sub_problems, out.sub_improved, out.interrupted = ds.n_sub, ds.n_improved, interrupted
    return out
