"""Solver entry points: :func:`solve` (one door, many methods) and :func:`solve_affinity`."""

from __future__ import annotations

import math
import time
import warnings
from numbers import Integral

import numpy as np

from ..errors import ConfigError
from ..problem import Problem
from ._prep import prepare, violations
from ._result import STATUS_MESSAGES, SolveResult, SolverOptionWarning

__all__ = ["solve", "solve_affinity", "METHODS"]

#: Valid values of ``method``.
METHODS = ("auto", "exact", "local", "hybrid")

#: Options understood by the methods (see the Options section of :func:`solve`).
_OPTIONS = {
    "verbose": ("exact", "local", "hybrid"),
    "max_iter": ("local", "hybrid"),
    "tenure": ("local", "hybrid"),
    "depth": ("local", "hybrid"),
    "strength": ("local", "hybrid"),
    "lns_share": ("hybrid",),
    "lns_groups": ("hybrid",),
    "lns_time": ("hybrid",),
    "exact_max_n": ("auto",),
    "screen_share": ("exact", "local", "hybrid"),
    "population": ("local",),
    "child_iter": ("local",),
    "decompose": ("local", "hybrid"),
    "sub_size": ("local", "hybrid"),
    "sub_iter": ("local", "hybrid"),
    "chunk_size": ("local", "hybrid"),
    "chunk_order": ("local", "hybrid"),
    "reconstruct": ("local", "hybrid"),
    "near_share": ("local", "hybrid"),
    "pool": ("local", "hybrid"),
    "pool_share": ("local", "hybrid"),
    "pool_mode": ("local", "hybrid"),
    "batch": ("local", "hybrid"),
    "threads": ("local", "hybrid"),
    "profile_pool": ("local", "hybrid"),
    "lean": ("local", "hybrid"),
    "descent_share": ("local", "hybrid"),
    "iter_share": ("local", "hybrid"),
    "fairness_share": ("local", "hybrid"),
    "fairness_rounds": ("local", "hybrid"),
}

#: From this many candidates on, the local search works on sub-problems of a few groups
#: (:mod:`peermatch.solve.decompose`); below it, on the whole problem at once.
DECOMPOSE_N = 1000


def _decomposes(problem: Problem, options: dict) -> bool:
    opt = options.get("decompose")
    if opt is not None:
        return bool(opt)
    return problem.n >= DECOMPOSE_N or not isinstance(problem.affinity, np.ndarray)


class _Context:
    """Clock, randomness, options and progress reporting of one :func:`solve` call."""

    def __init__(self, time_limit, rng, workers, options, callback):
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + float(time_limit)
        self.rng = rng
        self.workers = int(workers)
        self.options = options
        self.callback = callback
        self.history: list[tuple[float, float]] = []
        self.best = -math.inf
        self.time_to_best = math.nan
        # The best valid grouping seen so far (labels, number of groups): what an interrupt
        # (Ctrl-C) anywhere in the search returns.
        self.best_labels: np.ndarray | None = None
        self.best_m = 0
        self._last_cb = -math.inf
        self.fairness = 0.0
        self.floor_phase = False
        self.time_limit = float(time_limit)
        #: a peermatch.solve.distributed.Session when a Dask scheduler was asked for
        self.session = None

    def elapsed(self) -> float:
        return time.perf_counter() - self.t0

    def left(self, deadline: float | None = None) -> float:
        return (self.deadline if deadline is None else deadline) - time.perf_counter()

    def seed_int(self) -> int:
        return int(self.rng.integers(1, 2 ** 31 - 1))

    def progress(self, value: float, labels=None, **info) -> None:
        """Record an objective value (and, with ``labels``, a callable or array giving the
        valid grouping behind it); call the callback on improvement or every 0.5 s."""
        now = self.elapsed()
        improved = value > self.best + 1e-9 * (1.0 + abs(self.best if self.best > -math.inf
                                                         else 0.0))
        if improved:
            self.best = value
            self.time_to_best = now
            if labels is not None:
                lab = labels() if callable(labels) else labels
                self.best_labels = np.array(lab, dtype=np.int64)
                self.best_m = int(info.get("n_groups", 0))
            self.history.append((round(now, 4), float(value)))
        if self.callback is not None and (improved or now - self._last_cb >= 0.5):
            self._last_cb = now
            self.callback({"elapsed": now, "objective": self.best, **info})


def _check_seed(seed) -> np.random.Generator:
    if seed is None or isinstance(seed, Integral):
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    raise ConfigError("The 'seed' parameter of solve must be None, an int or a "
                      f"numpy.random.Generator. Got {seed!r} instead.")


def _has_side_rules(problem: Problem) -> bool:
    return bool(problem.group_sums or problem.slots is not None or problem.no_singleton
                or problem.allowed is not None or len(problem.must_link))


def solve(problem: Problem, method: str = "auto", *, time_limit: float = 10.0, seed=0,
          workers: int = 1, options: dict | None = None, callback=None,
          init=None, scheduler=None, fairness: float = 0.0) -> SolveResult:
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
        neighbourhood search); best when side rules leave local search few moves.
        ``"auto"``: ``"exact"`` for ``n <= 16``, ``"hybrid"`` with side rules
        (group sums, slots, no-singleton, allowed groups, must-link), else ``"local"``.
    time_limit : float, default=10.0
        Seconds for the whole call, model building and compilation included.
    seed : None, int or numpy.random.Generator, default=0
        Converted once; every random choice (numba's generator, CP-SAT's ``random_seed``,
        neighbourhood choice) derives from it.
    workers : int, default=1
        CP-SAT search workers. The local search runs on one thread.
    options : dict, optional
        Method options (unknown ones warn with :class:`SolverOptionWarning`):

        - ``max_iter`` (local, hybrid): total tabu iterations per group count; with it a
          run is reproducible (see Notes). The time limit still applies.
        - ``tenure`` ``(min, max)``, ``depth`` (iterations without improvement ending a
          round), ``strength`` ``(min, max)`` random swaps per perturbation.
        - ``population`` (local, default 8): pool size of the population phase (group-based
          crossover + tabu search); 0 or 1 runs one iterated tabu search instead.
          ``child_iter`` (default ``2.5 * depth``): tabu iterations per child.
        - ``lns_share`` (hybrid, default 0.3): share of time spent in CP-SAT repairs;
          ``lns_groups`` (default 3) groups freed per repair; ``lns_time`` (default 1.0)
          seconds per repair.
        - ``exact_max_n`` (auto, default 16): largest ``n`` sent to ``"exact"``.
        - ``screen_share`` (default 0.3): share of time spent comparing group counts.
        - ``verbose``: CP-SAT search log.
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
        floor phase after the total-maximising search (``options["fairness_rounds"]``,
        default 3, the rounds of its reweighted recovery; 0 skips it); ``"exact"`` adds the
        floor to the CP-SAT model. The result then has ``floor``, ``floor_reference`` and
        ``objective_reference`` (floor and total before the floor phase).

    Returns
    -------
    SolveResult
        ``labels``, ``objective``, ``status``, ``success``, ``message``, ``bound``,
        ``n_groups``, ``method``, ``wall_time``, ``iterations``, ``n_restarts``,
        ``time_to_feasible``, ``time_to_best``, ``history`` ((seconds, objective) at every
        improvement) and, when infeasible, ``reasons``.

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
    best one. Screening takes ``screen_share`` of the time in equal parts; the rest goes to
    the best count, started from its screening result.

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
    if not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise ConfigError("The 'time_limit' parameter of solve must be a positive number. "
                          f"Got {time_limit!r} instead.")
    if not (isinstance(workers, Integral) and workers >= 1):
        raise ConfigError(f"The 'workers' parameter of solve must be an int >= 1. "
                          f"Got {workers!r} instead.")
    options = dict(options or {})
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        warnings.warn(f"Unknown solver options: {', '.join(unknown)}. Known options: "
                      f"{', '.join(sorted(_OPTIONS))}.", SolverOptionWarning, stacklevel=2)
    ctx = _Context(time_limit, _check_seed(seed), workers, options, callback)
    from .fairness import RECOVERY_ROUNDS, check_fairness

    ctx.fairness = check_fairness(fairness)
    floor_phase = ctx.fairness > 0 and not (
        meth == "exact" or (meth == "auto" and problem.n <= int(options.get("exact_max_n", 16))))
    rounds = options.get("fairness_rounds", RECOVERY_ROUNDS)
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 0:
        raise ConfigError("The 'fairness_rounds' option must be an int >= 0 (0 skips the "
                          f"reweighted recovery). Got {rounds!r} instead.")
    if floor_phase:  # the total-maximising search leaves the floor phase its share
        ctx.deadline = ctx.t0 + (1 - float(options.get("fairness_share", 0.5))) * time_limit
    ctx.floor_phase = floor_phase
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


def _solve_with(problem: Problem, meth: str, ctx: _Context, init) -> SolveResult:
    try:
        if init is not None:
            p0, start = _check_init(problem, init)
            out = _solve_fixed(p0, p0.n_groups, meth, ctx, start=start)
        elif problem.n_groups is None:
            out = _solve_free_count(problem, meth, ctx)
        else:
            out = _solve_fixed(problem, problem.n_groups, meth, ctx)
    except KeyboardInterrupt:
        # Ctrl-C anywhere (construction, compilation wait, search, screening of group
        # counts): the best valid grouping seen so far, if any, marked as interrupted.
        if ctx.best_labels is not None:
            out = {"status": "feasible", "labels": ctx.best_labels, "n_groups": ctx.best_m,
                   "method": meth, "interrupted": True}
        else:
            out = {"status": "unknown", "labels": None, "n_groups": problem.n_groups or 0,
                   "method": meth, "interrupted": True}
    if ctx.floor_phase and out.get("labels") is not None and not out.get("interrupted"):
        ctx.deadline = ctx.t0 + ctx.time_limit
        out = _floor_phase(problem, out, ctx)
    return _finish(problem, out, ctx)


def _floor_phase(problem: Problem, out: dict, ctx: _Context) -> dict:
    """The fairness floor phase (:mod:`peermatch.solve.fairness`) on a search's grouping."""
    from .fairness import RECOVERY_ROUNDS, raise_floor

    m = int(out["n_groups"])
    p_m = problem if problem.n_groups is not None else problem.with_groups(m)
    rounds_iter = ctx.options.get("max_iter")
    opts = {k: v for k, v in ctx.options.items()
            if k not in ("fairness_share", "fairness_rounds")}
    rounds = ctx.options.get("fairness_rounds", RECOVERY_ROUNDS)
    if rounds_iter is not None:
        opts["max_iter"] = max(1, int(rounds_iter) // 8)

    def resolve(q, init, deadline):
        # the ordinary search on reweighted affinities, warm-started (phase 0)
        left = deadline - time.perf_counter()
        if left <= 0.01:
            return init
        r = solve(q, "local", time_limit=left, seed=ctx.seed_int(), workers=ctx.workers,
                  options=opts, init=init)
        return r.labels if r.success else init

    try:
        res = raise_floor(p_m, np.asarray(out["labels"], dtype=np.int64), ctx.fairness,
                          ctx.deadline, ctx.rng, resolve=resolve,
                          reproducible=rounds_iter is not None, recovery_rounds=rounds)
    except KeyboardInterrupt:  # the search's grouping stands
        return {**out, "interrupted": True}
    return {**out, **res, "status": "feasible", "fairness": ctx.fairness,
            "reference_labels": np.asarray(out["labels"], dtype=np.int64)}


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


def _finish(problem: Problem, out: dict, ctx: _Context) -> SolveResult:
    status = out["status"]
    labels = out.get("labels")
    if labels is None:
        labels = np.full(problem.n, -1, dtype=np.int64)
        objective = math.nan
    else:
        labels = np.asarray(labels, dtype=np.int64)
        objective = problem.objective(labels)
    res = SolveResult(
        labels=labels, objective=objective, status=status,
        success=status in ("optimal", "feasible"), message=STATUS_MESSAGES[status],
        bound=float(out.get("bound", math.nan)), n_groups=int(out.get("n_groups", 0)),
        method=out.get("method", ""), wall_time=ctx.elapsed(),
        iterations=int(out.get("iterations", 0)), n_restarts=int(out.get("n_restarts", 0)),
        time_to_feasible=float(out.get("time_to_feasible", math.nan)),
        time_to_best=ctx.time_to_best if status in ("optimal", "feasible") else math.nan,
        history=list(ctx.history),
    )
    if out.get("message"):  # a stage's own explanation (e.g. the large-input construction)
        res["message"] += " " + out["message"][0].upper() + out["message"][1:] + "."
    for key in ("representation", "decomposition", "compile_cut", "compile_wait", "interrupted",
                "sub_problems", "sub_improved", "distributed", "fairness", "floor",
                "floor_reference", "objective_reference", "floor_max", "floor_target",
                "fairness_moves", "reference_labels"):
        if key in out:
            res[key] = out[key]
    if ctx.session is not None and "distributed" not in res:
        # too small for sub-problems: solved here, on the driver
        res["distributed"] = {**ctx.session.describe(), "tasks": 0}
    if status == "infeasible":
        res["reasons"] = list(out.get("reasons", []))
        if res["reasons"]:
            res["message"] += " Rules to relax: " + "; ".join(res["reasons"])
    return res


def _solve_fixed(problem: Problem, m: int, meth: str, ctx: _Context, *,
                 deadline: float | None = None, start: np.ndarray | None = None,
                 max_iter: int | None = None) -> dict:
    if deadline is None:
        deadline = ctx.deadline
    if max_iter is None:
        max_iter = ctx.options.get("max_iter")
    if meth == "auto":
        if problem.n <= int(ctx.options.get("exact_max_n", 16)):
            meth = "exact"
        elif _has_side_rules(problem):
            meth = "hybrid"
        else:
            meth = "local"
    if meth == "exact":
        return _solve_exact(problem, m, ctx, deadline)
    return _solve_local(problem, m, ctx, deadline, start=start, max_iter=max_iter,
                        hybrid=meth == "hybrid")


def _infeasible(families: list[str], m: int, meth: str) -> dict:
    from .cpsat import reason_sentence

    return {"status": "infeasible", "labels": None, "n_groups": m, "method": meth,
            "reasons": [reason_sentence(f) for f in dict.fromkeys(families)]}


def _solve_exact(problem: Problem, m: int, ctx: _Context, deadline: float) -> dict:
    """CP-SAT on the complete model; on infeasibility, a diagnosis names the rules."""
    from . import cpsat

    verbose = bool(ctx.options.get("verbose", False))
    if ctx.fairness > 0:
        from .fairness import solve_exact_fair

        out = solve_exact_fair(problem, m, ctx.fairness, time_limit=ctx.left(deadline),
                               seed=ctx.seed_int(), workers=ctx.workers, verbose=verbose)
    else:
        out = cpsat.solve_exact(problem, m, time_limit=ctx.left(deadline), seed=ctx.seed_int(),
                                workers=ctx.workers, verbose=verbose)
    res = {"status": out["status"], "labels": out["labels"], "bound": out["bound"],
           "n_groups": m, "method": "exact"}
    for key in ("floor", "floor_reference", "objective_reference", "reference_labels"):
        if key in out:
            res[key] = out[key]
            res["fairness"] = ctx.fairness
    if out["labels"] is not None:
        res["time_to_feasible"] = ctx.elapsed()
        ctx.progress(problem.objective(out["labels"]), n_groups=m)
    if out["status"] == "infeasible":
        # Naming the rules needs a second model; within the time limit only.
        diag = {"families": []}
        if ctx.left(deadline) > 0.05:
            diag = cpsat.diagnose(problem, m, time_limit=ctx.left(deadline),
                                  seed=ctx.seed_int(), workers=ctx.workers, verbose=verbose)
        return _infeasible(diag["families"], m, "exact")
    return res


def _feasible_start(problem: Problem, prep, ctx: _Context, deadline: float):
    """A feasible unit labelling (greedy, else CP-SAT) or an infeasible/unknown verdict."""
    from . import cpsat
    from .construct import greedy

    m = prep.m
    if not prep.contradictions:
        for attempt in range(3):
            if ctx.left(deadline) <= 0:
                break
            # The last attempt forces its way through (breaking conflicts for the repair).
            lab = greedy(prep, ctx.rng, force=attempt == 2)
            if lab is None:
                if ctx.left(deadline) < 0.5 * (deadline - ctx.t0):
                    lab = greedy(prep, ctx.rng, force=True)
                if lab is None:
                    continue
            if not violations(problem, prep.to_elements(lab), m):
                return lab, None
            # Sizes and allowed groups hold; the min-conflicts repair fixes the others
            # (conflicts, presence, spread, balance, meeting slot, isolation), leaving
            # CP-SAT some time to prove infeasibility when the repair cannot succeed.
            from .repair import repair

            # When the CP-SAT model could not even be built in the time left, the repair
            # keeps the whole budget.
            left = max(ctx.left(deadline), 0.0)
            cp_ok = cpsat.build_seconds(problem, m) < 0.4 * left
            until = time.perf_counter() + (0.6 if cp_ok else 1.0) * left
            fixed = repair(prep, lab, ctx.seed_int(), until)
            if fixed is not None and not violations(problem, prep.to_elements(fixed), m):
                return fixed, None
            break
    left = ctx.left(deadline)
    if left < 0.05 or cpsat.build_seconds(problem, m) > left:
        # Too little time left to even build the CP-SAT model: no verdict (the build
        # itself also watches the clock, in case this estimate is optimistic).
        if prep.contradictions:
            return None, _infeasible(prep.contradictions, m, "")
        return None, {"status": "unknown", "labels": None, "n_groups": m}
    diag = cpsat.diagnose(problem, m, time_limit=left, seed=ctx.seed_int(),
                          workers=ctx.workers, verbose=bool(ctx.options.get("verbose", False)))
    if diag["status"] == "feasible":
        return prep.to_units(diag["labels"]), None
    if diag["status"] == "infeasible":
        return None, _infeasible(diag["families"] or prep.contradictions, m, "")
    return None, {"status": diag["status"], "labels": None, "n_groups": m}


def _solve_local(problem: Problem, m: int, ctx: _Context, deadline: float, *,
                 start=None, max_iter=None, hybrid=False) -> dict:
    """Construction + compiled iterated tabu search (+ CP-SAT repairs when ``hybrid``)."""
    from .local import TabuSearch, kernels_ready, needs_rules

    name = "hybrid" if hybrid else "local"
    if _decomposes(problem, ctx.options):
        return _solve_decomposed(problem, m, ctx, deadline, start=start, max_iter=max_iter,
                                 name=name)
    prep = prepare(problem, m)
    rules = needs_rules(prep)
    kernels_ready(rules, 0.0)  # start compiling / loading in the background now
    if start is not None:
        units = prep.to_units(start)
    else:
        units, verdict = _feasible_start(problem, prep, ctx, deadline)
        if units is None:
            verdict["method"] = name
            return verdict
    t_feasible = ctx.elapsed()
    ctx.progress(float(problem.objective(prep.to_elements(units))),
                 labels=lambda: prep.to_elements(prep.match_labels(units)), n_groups=m)
    seed = ctx.seed_int()
    compile_wait = None
    # (not with max_iter, the reproducible mode: the numpy search's progress depends on
    # the clock; such a run waits for the kernels)
    if max_iter is None and not kernels_ready(rules, time.perf_counter()):
        # First use on this install: the kernels compile in the background while the
        # numpy search improves the construction; the compiled search takes over after.
        from .numpy_engine import numpy_search

        t_wait = time.perf_counter()
        best_val = -math.inf
        while not kernels_ready(rules, time.perf_counter()) and time.perf_counter() < deadline:
            units, val = numpy_search(prep, units, min(deadline, time.perf_counter() + 1.0),
                                      ctx.rng)
            if val > best_val + 1e-9:
                best_val = val
                ctx.progress(val + prep.const, n_groups=m, labels=lambda u=units: (
                    prep.to_elements(prep.match_labels(u))))
            else:
                break  # no progress: wait for the kernels
        compile_wait = round(time.perf_counter() - t_wait, 3)
    if not kernels_ready(rules, deadline):
        # The compilation outlasts the time limit: the numpy search's grouping is the
        # answer (compilation goes on for later calls).
        labels = prep.to_elements(prep.match_labels(units))
        return {"status": "feasible", "labels": labels, "n_groups": m, "method": name,
                "iterations": 0, "n_restarts": 0, "time_to_feasible": t_feasible,
                "compile_cut": True, "compile_wait": compile_wait}
    ts = TabuSearch(prep, units, ctx.options, seed=seed)

    def on_slice():
        ctx.progress(ts.best_value + prep.const, labels=lambda: prep.to_elements(ts.best_labels),
                     n_groups=m, iteration=ts.iterations)

    if not hybrid:
        pop = int(ctx.options.get("population", 8))
        if pop >= 2 and prep.nu >= 4 * prep.m and prep.m >= 2:
            from .population import PopulationSearch

            child_iter = int(ctx.options.get("child_iter", 2.5 * ts.params[2]))
            ps = PopulationSearch(prep, ts, ctx.rng, pop, child_iter)
            ps.run(deadline, max_iter, lambda v: ctx.progress(
                v + prep.const, labels=lambda: prep.to_elements(ts.best_labels), n_groups=m,
                iteration=ts.iterations))
        elif ts.run_until(deadline, max_iter, on_slice):
            raise KeyboardInterrupt
    else:
        _hybrid_loop(problem, prep, ts, ctx, deadline, max_iter, on_slice)
    labels = prep.to_elements(ts.best_labels)
    bad = violations(problem, labels, m)
    if bad:  # a kernel bug: never hand out a grouping that breaks a rule
        raise RuntimeError("peermatch internal error, the local search broke a rule: "
                           + "; ".join(bad))
    out = {"status": "feasible", "labels": labels, "n_groups": m, "method": name,
           "iterations": ts.iterations, "n_restarts": ts.n_restarts,
           "time_to_feasible": t_feasible}
    if compile_wait is not None:
        out["compile_wait"] = compile_wait
    return out


def _scale_start(problem: Problem, m: int, ctx: _Context, deadline: float):
    """A valid element labelling for a large problem, or (None, verdict)."""
    from .construct import stream_greedy

    lab = None
    if not len(problem.must_link):
        for _ in range(3):
            if ctx.left(deadline) <= 0:
                break
            lab = stream_greedy(problem, m, ctx.rng)
            if lab is not None and not violations(problem, lab, m):
                return lab, None
    if not isinstance(problem.affinity, np.ndarray):
        # Rules the streaming construction does not know (meeting slots, isolation, lower
        # bounds of group sums): the min-conflicts repair reads the rules only, so it runs
        # without an n x n matrix, from the construction (sizes and allowed groups hold).
        if lab is not None and not _sizes_broken(problem, lab, m):
            from .repair import repair

            prep = prepare(problem, m, affinity=False)
            until = time.perf_counter() + 0.6 * max(ctx.left(deadline), 0.0)
            units = repair(prep, prep.to_units(lab), ctx.seed_int(), until)
            if units is not None:
                fixed = prep.to_elements(units)
                if not violations(problem, fixed, m):
                    return fixed, None
        return None, {"status": "unknown", "labels": None, "n_groups": m,
                      "message": "the construction for large inputs found no grouping that "
                                 "satisfies every rule within 60 % of the time limit; a "
                                 "longer time limit may find one"}
    prep = prepare(problem, m)
    units, verdict = _feasible_start(problem, prep, ctx, deadline)
    if units is None:
        return None, verdict
    return prep.to_elements(units), None


def _sizes_broken(problem: Problem, labels: np.ndarray, m: int) -> bool:
    """Does ``labels`` break the size bounds or the allowed groups?"""
    b = problem.bounds_for(m)
    size = np.bincount(labels, minlength=m)
    if np.any((size < b[:, 0]) | (size > b[:, 1])):
        return True
    return problem.allowed is not None and not bool(
        problem.allowed[np.arange(problem.n), labels].all())


def _solve_decomposed(problem: Problem, m: int, ctx: _Context, deadline: float, *,
                      start=None, max_iter=None, name="local") -> dict:
    """Large problems: construction, then descent + tabu on sub-problems of a few groups."""
    from .decompose import DecompositionSearch
    from .local import kernels_ready

    kernels_ready(True, 0.0)  # sub-problems with cannot-link pairs use the rules kernel
    kernels_ready(False, 0.0)
    if start is not None:
        labels = np.asarray(start, dtype=np.int64)
    else:
        labels, verdict = _scale_start(problem, m, ctx, deadline)
        if labels is None:
            verdict["method"] = name
            return verdict
    t_feasible = ctx.elapsed()
    executor = None
    if ctx.session is not None:
        from .distributed import DaskMap

        # timed mode: a few sub-problems per worker thread each round (the reproducible
        # mode keeps the in-process batch, hence the in-process groups)
        executor = DaskMap(ctx.session, problem, ctx.options,
                           auto_batch="batch" not in ctx.options and max_iter is None)
    ds = DecompositionSearch(problem, labels, ctx.rng, ctx.options, executor=executor)
    ctx.progress(ds.value, labels=ds.labels, n_groups=m)
    out = {"status": "feasible", "n_groups": m, "method": name, "time_to_feasible": t_feasible,
           "representation": getattr(problem.affinity, "representation", "dense"),
           "decomposition": True}
    def improved(v):
        ctx.progress(v, labels=lambda: ds.labels, n_groups=m, iteration=ds.iterations)

    now = time.perf_counter()
    # With max_iter (the reproducible mode) the run waits for the kernels instead: how far
    # the numpy search gets while they compile depends on the clock.
    if max_iter is None and not (kernels_ready(True, now) and kernels_ready(False, now)):
        # First run on this install: the kernels compile in the background while the
        # numpy search works on the sub-problems; the compiled search takes over after.
        ds.reconstruct(now + 0.4 * max(deadline - now, 0.0))
        improved(ds.value)

        def done() -> bool:
            t = time.perf_counter()
            return t >= deadline or (kernels_ready(True, t) and kernels_ready(False, t))

        if ds.run_numpy(done, improved):
            raise KeyboardInterrupt
        out["compile_wait"] = round(time.perf_counter() - now, 3)
        if not (kernels_ready(True, time.perf_counter())
                and kernels_ready(False, time.perf_counter())):
            out.update(labels=ds.labels, iterations=0, n_restarts=ds.n_sub, compile_cut=True)
            if executor is not None:
                executor.close()
                out["distributed"] = {**ctx.session.describe(), **executor.stats}
            return out
    try:
        interrupted = ds.run(deadline, max_iter, improved)
    finally:
        if executor is not None:
            executor.close()
            out["distributed"] = {**ctx.session.describe(), **executor.stats}
    if interrupted:
        raise KeyboardInterrupt
    labels = ds.labels
    bad = violations(problem, labels, m)
    if bad:  # a kernel bug: never hand out a grouping that breaks a rule
        raise RuntimeError("peermatch internal error, the local search broke a rule: "
                           + "; ".join(bad))
    out.update(labels=labels, iterations=ds.iterations, n_restarts=ds.n_sub,
               sub_problems=ds.n_sub, sub_improved=ds.n_improved, interrupted=interrupted)
    return out


#: Rough seconds per tabu iteration per ``nu * (nu + m)`` (measured ~4e-9 at n = 60).
_ITER_SECONDS = 4e-9
#: Smallest deterministic time of one CP-SAT repair under ``max_iter``.
_MIN_DET_TIME = 0.01


def _hybrid_loop(problem, prep, ts, ctx, deadline, max_iter, on_slice) -> None:
    """Alternate tabu search slices with CP-SAT repairs of a few groups."""
    from . import cpsat

    m = prep.m
    share = float(ctx.options.get("lns_share", 0.3))
    k = min(int(ctx.options.get("lns_groups", 3)), m)
    t_rep = float(ctx.options.get("lns_time", 1.0))
    if k < 2:
        ts.run_until(deadline, max_iter, on_slice)
        return
    total = max(deadline - time.perf_counter(), 0.0)
    cycle = max(0.3, total / 20)
    det_time = None
    if max_iter is not None:
        # Iterations, not seconds, drive the search: ten slices of max_iter / 10 tabu
        # iterations, each followed by two repairs whose deterministic time matches the
        # share of the work given to CP-SAT (iterations priced at _ITER_SECONDS * nu (nu + m)),
        # so a small max_iter gives a short run (the time limit is only a safety net).
        step = max(1, int(max_iter) // 10)
        slice_s = step * _ITER_SECONDS * prep.nu * (prep.nu + m)
        det_time = min(t_rep, max(_MIN_DET_TIME, share / max(1 - share, 0.05) * slice_s / 2))
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
            for _ in range(2 if max_iter is not None else 1000):
                left = deadline - time.perf_counter()
                if left < 0.05 or (max_iter is None and time.perf_counter() >= t_end):
                    break
                groups = ctx.rng.choice(m, size=k, replace=False)
                labels = prep.to_elements(ts.best_labels)
                new = cpsat.repair(problem, m, labels, groups,
                                   time_limit=left if det_time is not None else min(t_rep, left),
                                   seed=ctx.seed_int(), workers=ctx.workers,
                                   deterministic=det_time is not None, det_time=det_time)
                if new is not None:
                    ts.load(prep.to_units(new))
                    on_slice()
    except KeyboardInterrupt:
        on_slice()
        raise


def _solve_free_count(problem: Problem, meth: str, ctx: _Context) -> dict:
    """Choose the number of groups (strategy in the Notes of :func:`solve`)."""
    lo, hi = problem.group_count_range()
    if lo > hi or hi < 1:
        from .cpsat import reason_sentence

        return {"status": "infeasible", "labels": None, "n_groups": 0, "method": meth,
                "reasons": [reason_sentence("group sizes") + f" (no number of groups splits "
                            f"n={problem.n} into sizes {problem.min_size}..{problem.max_size})"]}
    counts = list(range(lo, hi + 1))
    if len(counts) == 1:
        return _solve_fixed(problem.with_groups(lo), lo, meth, ctx)
    # The diagonal is zero, so min/max over the whole matrix decide the signs of the
    # off-diagonal entries without an n x n copy.
    A = problem.affinity
    a_min, a_max = A.bounds() if hasattr(A, "bounds") else (A.min(), A.max())
    mixed = False
    if problem.n < 2 or a_min >= 0:
        # Non-negative affinities: fewer, larger groups hold more pairs. At scale the
        # fewest groups is taken outright (a screening run would cost a whole search).
        cand = counts[:1] if _decomposes(problem, ctx.options) else counts[:2]
    elif a_max <= 0:
        cand = counts[-2:]
    else:
        cand = sorted({counts[int(round(t))] for t in np.linspace(0, len(counts) - 1, 5)})
        mixed = True
    if len(cand) == 1:
        return _solve_fixed(problem.with_groups(cand[0]), cand[0], meth, ctx)
    share = float(ctx.options.get("screen_share", 0.3))
    max_iter = ctx.options.get("max_iter")
    n_screen = len(cand) + (2 if mixed else 0)
    slot = share * ctx.left() / n_screen
    screen_iter = None if max_iter is None else max(1, int(max_iter) // (2 * n_screen))
    results: dict[int, dict] = {}

    def screen(c: int) -> None:
        results[c] = _solve_fixed(problem.with_groups(c), c, meth, ctx,
                                  deadline=time.perf_counter() + slot, max_iter=screen_iter)

    for c in cand:
        screen(c)

    def value(c):
        r = results[c]
        return problem.objective(r["labels"]) if r.get("labels") is not None else -math.inf

    ok = [c for c in results if results[c].get("labels") is not None]
    if mixed and ok:
        best = max(ok, key=value)
        for c in (best - 1, best + 1):
            if lo <= c <= hi and c not in results:
                screen(c)
        ok = [c for c in results if results[c].get("labels") is not None]
    if not ok:
        # Report the verdict of the count a user would expect first.
        first = results[cand[0]]
        if all(r["status"] == "infeasible" for r in results.values()):
            return first
        return {"status": "unknown", "labels": None, "n_groups": 0, "method": meth}
    best = max(ok, key=value)
    r = results[best]
    if r["status"] == "optimal" or ctx.left() <= 0.01:
        return r
    final = _solve_fixed(problem.with_groups(best), best, meth, ctx, start=r["labels"])
    if final.get("labels") is None or value_of(problem, final) < value(best):
        return r
    if final["status"] != "optimal":
        final["iterations"] = final.get("iterations", 0) + sum(
            x.get("iterations", 0) for x in results.values())
    return final


def value_of(problem: Problem, out: dict) -> float:
    return problem.objective(out["labels"]) if out.get("labels") is not None else -math.inf


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
