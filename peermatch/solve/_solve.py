"""Solver entry points: :func:`solve` (one door, many methods) and :func:`solve_affinity`.

:func:`solve` makes one :class:`~peermatch.solve.plan.Plan` and one
:class:`~peermatch.budget.Budget`, runs the plan's engines (:mod:`._engines`, the group
count screening of :mod:`._counts`, the floor phase) and turns their
:class:`~peermatch.solve.outcome.Outcome` into a :class:`SolveResult`.
"""

from __future__ import annotations

import math
import time
import warnings
from numbers import Integral

import numpy as np

from ..budget import Budget
from ..errors import ConfigError
from ..problem import Problem
from ._context import Context
from ._counts import solve_free_count
from ._engines import solve_fixed
from ._prep import violations
from ._result import STATUS_MESSAGES, SolveResult, SolverOptionWarning
from .blocks import independent_blocks, solve_blocks
from .outcome import Outcome
from .plan import METHODS, plan, setting, warn_unused

__all__ = ["solve", "solve_affinity", "METHODS"]


def solve(problem: Problem, method: str = "auto", *, time_limit: float = 10.0, seed=0,
          workers: int = 1, options: dict | None = None, callback=None,
          init=None, scheduler=None, fairness: float = 0.0,
          budget: Budget | None = None) -> SolveResult:
    """Find a grouping that satisfies every hard rule of ``problem`` and maximises affinity.

    Maximises ``F(p) = sum over pairs i < j with p(i) == p(j) of A[i, j]`` subject to the
    rules of :class:`~peermatch.problem.Problem` (the constrained Maximally Diverse Grouping
    Problem). Anytime: on the time limit or ``KeyboardInterrupt`` the best grouping found
    so far is returned with status ``"feasible"``.

    Parameters
    ----------
    problem : Problem
        Affinity and hard rules. With ``n_groups=None`` (and no ``bounds``) the solver
        also chooses the number of groups (see Notes).
    method : {"auto", "exact", "local", "hybrid"}, default="auto"
        ``"exact"``: CP-SAT on the complete model (proves optimality on small inputs).
        ``"local"``: greedy construction + compiled iterated tabu search inside a
        population phase (group-based crossover).
        ``"hybrid"``: local search alternating with CP-SAT repair of 2-3 groups (large
        neighbourhood search); on request only (the population search did better at
        equal time with and without side rules).
        ``"auto"``: ``"exact"`` for ``n <= 16``, else ``"local"``.
    time_limit : float, default=10.0
        Seconds for the whole call, model building and compilation included.
    seed : None, int or numpy.random.Generator, default=0
        Converted once; every random choice (numba's generator, CP-SAT's ``random_seed``,
        neighbourhood choice) derives from it.
    workers : int, default=1
        CP-SAT search workers. The local search runs on one thread.
    options : dict, optional
        Checked against :data:`peermatch.solve.plan.OPTIONS` (unknown ones, and ones the
        plan does not use, warn with :class:`SolverOptionWarning` and are ignored):

        - ``max_iter`` (local, hybrid): total tabu iterations per group count; with it a
          run is reproducible (see Notes). The time limit still applies.
        - ``threads`` (default 2 where the machine has them): threads that solve the
          sub-problems of a large problem.
        - ``decompose`` (default from 1,000 candidates): sub-problems of a few groups.
        - ``exact_max_n`` (auto, default 16): largest ``n`` sent to ``"exact"``.
        - ``fairness_share`` (default 0.5): see ``fairness``.
        - ``verbose``: CP-SAT search log.
        - ``tuning``: a dict of the search's constants
          (:data:`peermatch.solve.plan.TUNING`), for measuring them side by side; the
          defaults are the ones the benchmark suite favoured.
    init : array-like of shape (n,) of int, optional
        A valid grouping to start from (a warm start: labels ``0..m-1``, every hard rule
        holding); it fixes the number of groups to ``max(init) + 1`` unless the problem
        fixes it. The local search continues from it (``"exact"`` ignores it).
    callback : callable, optional
        ``callback(progress)`` with ``progress = {"elapsed", "objective", ...}``, called on
        every improvement and at least every 0.5 s while the local search runs. Must be
        cheap.
    scheduler : None, str or distributed.Client, default=None
        Where sub-problems of a large problem are solved: None in this process; "local"
        or "local:N" a Dask LocalCluster of N worker processes for this call; a scheduler
        address "tcp://host:port"; or a dask.distributed Client (see
        ``docs/distributed.md``; needs ``pip install 'peermatch[distributed]'``). Start-up
        counts in ``time_limit``; in the reproducible mode the groups are those of the
        in-process run. The result's ``distributed`` entry says what ran where.
    fairness : float, default=0.0
        In ``[0, 1]``: 0 maximises the total (unchanged); 1 raises the floor (the worst
        member's mean affinity to the rest of their group) first, then the total; between
        them the floor target is ``f0 + fairness * (f1 - f0)`` (see ``docs/fairness.md``).
        Local methods spend ``options["fairness_share"]`` (default 0.5) of the time on a
        floor phase after the total-maximising search (its reweighted recovery runs 3
        rounds: the tuning constant ``fairness_rounds``); ``"exact"`` adds the
        floor to the CP-SAT model. The result then has ``floor``, ``floor_reference`` and
        ``objective_reference`` (floor and total before the floor phase).
    budget : peermatch.budget.Budget, optional
        The time this call may spend, when a caller hands down part of its own (then
        ``time_limit`` is not read; the budget's ``max_iter``, when set, is the default
        of ``options["max_iter"]``).

    Returns
    -------
    SolveResult
        ``labels``, ``objective``, ``status``, ``success``, ``message``, ``bound``,
        ``n_groups``, ``method``, ``wall_time``, ``iterations``, ``n_restarts``,
        ``time_to_feasible``, ``time_to_best``, ``history`` ((seconds, objective) at every
        improvement), ``plan`` (the :class:`~peermatch.solve.plan.Plan` followed:
        ``print(res.plan)``) and, when infeasible, ``reasons``.

    Raises
    ------
    ValueError
        Unknown ``method``.

    Notes
    -----
    **Free number of groups.** Candidate counts are ``ceil(n / max_size) ..
    floor(n / min_size)``. With no negative affinity fewer, larger groups hold more pairs,
    so only the two smallest counts are screened; with no positive affinity the two
    largest; otherwise up to five counts spread over the range, then the neighbours of the
    best one. Screening takes 30 % of the time in equal parts (the tuning constant
    ``screen_share``); the rest goes to the best count, started from its screening result.

    **Determinism.** With ``max_iter`` and ``workers=1`` the same seed gives the same
    grouping (iterations, not seconds, drive the search; CP-SAT repairs then use a
    deterministic time limit). With only a wall-clock limit, the number of iterations done
    depends on machine load, so two runs can differ.

    Examples
    --------
    >>> import numpy as np
    >>> from peermatch.problem import Problem
    >>> A = np.array([[0, 5, 1, 1], [5, 0, 1, 1], [1, 1, 0, 5], [1, 1, 5, 0]], dtype=float)
    >>> res = solve(Problem(A, min_size=2, max_size=2, n_groups=2), method="exact")
    >>> res.status, res.objective, sorted(map(int, res.labels))
    ('optimal', 10.0, [0, 0, 1, 1])
    """
    meth = str(method).lower()
    if meth not in METHODS:
        raise ConfigError(f"Unknown method {method!r}. Valid methods: {', '.join(METHODS)}.")
    if not isinstance(problem, Problem):
        raise ConfigError("The 'problem' parameter of solve must be a peermatch Problem. "
                          f"Got {type(problem).__name__} instead.")
    if budget is None and not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise ConfigError("The 'time_limit' parameter of solve must be a positive number. "
                          f"Got {time_limit!r} instead.")
    if not (isinstance(workers, Integral) and workers >= 1):
        raise ConfigError(f"The 'workers' parameter of solve must be an int >= 1. "
                          f"Got {workers!r} instead.")
    from .fairness import check_fairness

    fair = check_fairness(fairness)
    options = dict(options or {})
    if budget is not None and budget.max_iter is not None:
        options.setdefault("max_iter", budget.max_iter)
    the_plan = plan(problem, meth, options, fairness=fair, scheduler=scheduler, init=init)
    warn_unused(the_plan, options)
    t0 = None
    if budget is None:
        budget = Budget(time_limit, max_iter=options.get("max_iter"))
    else:
        t0 = time.perf_counter()
    ctx = Context(budget, _check_seed(seed), workers, options, callback, the_plan, t0=t0)
    ctx.fairness = fair
    if the_plan.floor_phase:  # the total-maximising search leaves the floor phase its share
        ctx.search = budget.head(1 - float(setting(options, "fairness_share")))
    own_session = False
    if scheduler is not None:
        from .distributed import Session, connect

        if isinstance(scheduler, Session):
            ctx.session = scheduler
        else:
            # started in the background: construction and descent run meanwhile
            ctx.session = connect(scheduler, timeout=ctx.left(), wait=False)
            own_session = True
    try:
        return _solve_with(problem, meth, ctx, init)
    finally:
        if own_session:
            ctx.session.close()


def _solve_with(problem: Problem, meth: str, ctx: Context, init) -> SolveResult:
    try:
        if init is not None:
            p0, start = _check_init(problem, init)
            out = solve_fixed(p0, p0.n_groups, ctx, start=start)
        elif problem.n_groups is None:
            out = solve_free_count(problem, meth, ctx)
        else:
            out = _solve_parts(problem, meth, ctx)
    except KeyboardInterrupt:
        # Ctrl-C anywhere (construction, compilation wait, search, screening of group
        # counts): the best valid grouping seen so far, if any, marked as interrupted.
        if ctx.best_labels is not None:
            out = Outcome("feasible", labels=ctx.best_labels, n_groups=ctx.best_m,
                          method=meth, interrupted=True)
        else:
            out = Outcome("unknown", n_groups=problem.n_groups or 0, method=meth,
                          interrupted=True)
    if ctx.plan.floor_phase and out.labels is not None and not out.interrupted:
        ctx.search = ctx.budget
        out = _floor_phase(problem, out, ctx)
    return _finish(problem, out, ctx)


def _solve_parts(problem: Problem, meth: str, ctx: Context) -> Outcome:
    """A fixed group count: the independent parts one by one when allowed groups split the
    problem (:mod:`.blocks`), else the whole."""
    if ctx.plan.engine != "exact" and ctx.session is None:
        parts = independent_blocks(problem)
        if len(parts) > 1:
            ctx.plan = ctx.plan.with_blocks(len(parts))
            out = solve_blocks(problem, parts, meth, ctx, solve)
            if out is not None:
                return out
    return solve_fixed(problem, problem.n_groups, ctx)


def _floor_phase(problem: Problem, out: Outcome, ctx: Context) -> Outcome:
    """The fairness floor phase (:mod:`peermatch.solve.fairness`) on a search's grouping."""
    from .fairness import raise_floor

    m = int(out.n_groups)
    p_m = problem if problem.n_groups is not None else problem.with_groups(m)
    rounds_iter = ctx.options.get("max_iter")
    opts = {k: v for k, v in ctx.options.items() if k != "fairness_share"}
    rounds = setting(ctx.options, "fairness_rounds")
    if rounds_iter is not None:
        opts["max_iter"] = max(1, int(rounds_iter) // 8)

    def resolve(q, init, deadline):
        # the ordinary search on reweighted affinities, warm-started (phase 0); the
        # options were checked against this call's plan
        left = deadline - time.perf_counter()
        if left <= 0.01:
            return init
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SolverOptionWarning)
            r = solve(q, "local", time_limit=left, seed=ctx.seed_int(), workers=ctx.workers,
                      options=opts, init=init)
        return r.labels if r.success else init

    try:
        res = raise_floor(p_m, np.asarray(out.labels, dtype=np.int64), ctx.fairness,
                          ctx.deadline, ctx.rng, resolve=resolve,
                          reproducible=rounds_iter is not None, recovery_rounds=rounds)
    except KeyboardInterrupt:  # the search's grouping stands
        return out.replace(interrupted=True)
    return out.replace(**res, status="feasible", fairness=ctx.fairness,
                       reference_labels=np.asarray(out.labels, dtype=np.int64))


def _check_init(problem: Problem, init) -> tuple[Problem, np.ndarray]:
    """The problem with the warm start's group count, and the start as int64 labels."""
    try:
        lab = np.asarray(init, dtype=np.int64).reshape(-1)
    except (TypeError, ValueError):
        raise ConfigError("The 'init' parameter must be an array of group labels (ints). "
                          f"Got {type(init).__name__} instead.") from None
    if lab.shape != (problem.n,) or lab.min(initial=0) < 0:
        raise ConfigError(f"The 'init' parameter must hold {problem.n} labels >= 0. "
                          f"Got shape {lab.shape} instead.")
    m = problem.n_groups if problem.n_groups is not None else int(lab.max()) + 1
    p0 = problem if problem.n_groups is not None else problem.with_groups(m)
    bad = violations(p0, lab, m)
    if bad:
        raise ConfigError("The 'init' grouping breaks hard rules, so it cannot be a warm "
                          "start: " + "; ".join(bad))
    return p0, lab


def _finish(problem: Problem, out: Outcome, ctx: Context) -> SolveResult:
    status = out.status
    labels = out.labels
    if labels is None:
        labels = np.full(problem.n, -1, dtype=np.int64)
        objective = math.nan
    else:
        labels = np.asarray(labels, dtype=np.int64)
        objective = problem.objective(labels)
    res = SolveResult(
        labels=labels, objective=objective, status=status,
        success=status in ("optimal", "feasible"), message=STATUS_MESSAGES[status],
        bound=float(out.bound), n_groups=int(out.n_groups),
        method=out.method, wall_time=ctx.elapsed(),
        iterations=int(out.iterations), n_restarts=int(out.n_restarts),
        time_to_feasible=float(out.time_to_feasible),
        time_to_best=ctx.time_to_best if status in ("optimal", "feasible") else math.nan,
        history=list(ctx.history),
    )
    if out.message:  # a stage's own explanation (e.g. the large-input construction)
        res["message"] += " " + out.message[0].upper() + out.message[1:] + "."
    res.update(out.extras())
    if ctx.session is not None and "distributed" not in res:
        # too small for sub-problems: solved here, on the driver
        res["distributed"] = {**ctx.session.describe(), "tasks": 0}
    if status == "infeasible":
        res["reasons"] = list(out.reasons)
        if res["reasons"]:
            res["message"] += " Rules to relax: " + "; ".join(res["reasons"])
    res["plan"] = ctx.plan
    return res


def _check_seed(seed) -> np.random.Generator:
    if seed is None or isinstance(seed, Integral):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    raise ConfigError("The 'seed' parameter of solve must be None, an int or a "
                      f"numpy.random.Generator. Got {seed!r} instead.")


def solve_affinity(A, *, min_size=None, max_size=None, bounds=None, n_groups=None,
                   cannot_link=None, must_link=None, time_limit: float = 10.0, seed=0,
                   method: str = "auto", workers: int = 1, options: dict | None = None,
                   callback=None, init=None) -> SolveResult:
    """Group the rows of an affinity matrix: a thin wrapper building a Problem for :func:`solve`.

    Parameters
    ----------
    A : array-like of shape (n, n)
        Symmetric affinity (higher = better together); the diagonal is ignored.
    min_size, max_size : int, optional
        One size range for every group.
    bounds : array-like of shape (m, 2), optional
        Per-group ``(lo, hi)`` sizes (fixes the number of groups; labels follow this order).
    n_groups : int, optional
        Number of groups; None with no ``bounds`` lets the solver choose (see :func:`solve`).
    cannot_link, must_link : array-like of shape (k, 2), optional
        Index pairs kept apart / together.
    time_limit, seed, method, workers, options, callback, init
        As in :func:`solve` (``init``: a warm start, labels ``0..m-1``).

    Returns
    -------
    SolveResult

    Examples
    --------
    >>> import numpy as np
    >>> A = -np.ones((6, 6))
    >>> res = solve_affinity(A, min_size=2, max_size=3, time_limit=5)
    >>> res.n_groups, res.objective
    (3, -3.0)
    """
    problem = Problem(np.asarray(A, dtype=float), bounds=bounds, min_size=min_size,
                      max_size=max_size, n_groups=n_groups, cannot_link=cannot_link,
                      must_link=must_link)
    return solve(problem, method, time_limit=time_limit, seed=seed, workers=workers,
                 options=options, callback=callback, init=init)
