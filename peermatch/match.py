"""The main job: candidates table in, validated grouping out."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._compat import group_size_pair
from .budget import Budget, check_time_limit
from .candidates import CandidateTable
from .errors import ConfigError
from .grouping import check_bounds
from .result import MatchResult
from .rules import Part, Rules, check_sizes, partition
from .scored import DENSE_MAX_N, REPRESENTATIONS, load_table, score_table
from .shaped import even_sizes_hint, resolve_even_sizes, shaped_parts

__all__ = ["match", "load_table", "score_table", "SolveSettings"]


@dataclass(frozen=True)
class SolveSettings:
    """How each part of a match is solved: the arguments of :func:`peermatch.solve`
    that every part shares (the time each part gets comes from the call's budget)."""

    method: str = "auto"
    seed: int | None = 0
    workers: int = 1
    options: Mapping[str, Any] | None = None
    callback: Callable[[dict], None] | None = None
    init: Any = None
    fairness: float = 0.0

    def solve(self, problem, time_limit: float, *, scheduler=None, init: bool = True):
        """:func:`peermatch.solve` of ``problem`` with these settings."""
        from .solve import solve

        kwargs = {} if scheduler is None else {"scheduler": scheduler}
        return solve(problem, method=self.method, time_limit=time_limit, seed=self.seed,
                     workers=self.workers, options=self.options or None,
                     callback=self.callback, init=self.init if init else None,
                     fairness=self.fairness, **kwargs)


@group_size_pair
def match(
    candidates: str | os.PathLike | pd.DataFrame | CandidateTable,
    *,
    min_size: int = 8,
    max_size: int = 12,
    n_groups: int | None = None,
    weights: Any = None,
    rules: Rules | None = None,
    affinity: np.ndarray | None = None,
    method: str = "auto",
    time_limit: float = 10.0,
    seed: int | None = 0,
    workers: int = 1,
    columns: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    callback: Callable[[dict], None] | None = None,
    init: Any = None,
    scheduler: Any = None,
    fairness: float = 0.0,
    even_sizes: bool | None = None,
    target_size: int | None = None,
    group_sizes: Mapping[str, Any] | None = None,
) -> MatchResult:
    """Split candidates into peer groups that obey every hard rule and inspire each other.

    Parameters
    ----------
    candidates : path, DataFrame or CandidateTable
        The candidates (see ``docs/input.md`` for the columns).
    min_size, max_size : int, default=8, 12
        Smallest and largest group (``group_size=(min, max)`` is the deprecated spelling).
    n_groups : int, optional
        Number of groups; by default the solver picks the count that scores best. With
        rules that split the candidates into parts (tiers, regions) the groups are shared
        over the parts in proportion to their sizes (largest remainder, within each part's
        range).
    weights : Weights, optional
        How much each affinity component counts (default ``Weights()``).
    rules : Rules, optional
        Hard rules (default: no two candidates of the same industry and region in a
        group, and no explicit conflict pair).
    affinity : ndarray of shape (n, n), optional
        Bring your own pair scores instead of computing them from the weights.
    method : str, default="auto"
        Solver method, see :func:`peermatch.solve`.
    time_limit : float, default=10.0
        Seconds for building the solver's model and solving, in (0, one week]: one
        :class:`~peermatch.budget.Budget` for the whole solve, shared over the parts
        (and a Dask cluster's start-up). Reading and scoring the table come before it.
    seed : int, default=0
        Seed; the same input, seed and budget give the same groups (one worker).
    workers : int, default=1
        Solver threads; more than one can change results between runs.
    columns : dict, optional
        Canonical column name -> column name in the table.
    options : dict, optional
        Method-specific solver options.
    callback : callable, optional
        Called with a progress dict (``elapsed``, ``objective``) during the solve.
    init : array-like of shape (n,) of int, optional
        A warm start: the 0-based group of each candidate, in table order (e.g.
        ``previous.labels``), satisfying every hard rule; the search continues from it.
        Not with rules that split the candidates into parts (tiers, regions).
    scheduler : None, str or distributed.Client, default=None
        None solves in this process. ``"local"`` / ``"local:N"`` starts a Dask LocalCluster
        of N worker processes for the call (closed after), ``"tcp://host:port"`` uses a
        running scheduler, a ``dask.distributed.Client`` is used as it is. Independent
        parts (tiers, regions) then run side by side, one task each; one large part sends
        its sub-problems to the workers. Needs ``pip install 'peermatch[distributed]'``;
        start-up counts in ``time_limit``; in the reproducible mode (``seed`` and
        ``options={"max_iter": N}``) the groups are those of the in-process run. See
        ``docs/distributed.md``.
    fairness : float, default=0.0
        In ``[0, 1]``. 0: the highest total affinity. 1: the highest *floor* first (the
        worst member's mean affinity to the rest of their group), then the highest total
        with that floor. Between: the floor target ``f0 + fairness * (f1 - f0)`` (``f0``
        the floor of the total-maximising grouping, ``f1`` the highest floor reached), the
        total maximised subject to it. See ``docs/fairness.md``.
    even_sizes : bool, optional
        True (the default): group sizes differ by at most one (groups with a fixed size,
        such as locked groups, keep it; the others share the remaining candidates
        evenly), and a free number of groups is the fewest that hold the candidates.
        False: free sizes, anywhere within ``min_size``-``max_size`` (the solver then favours
        larger groups, which hold more pairs). Left out, sizes are even unless the
        candidates have existing groups (a filled ``group`` column), or ``group_sizes``
        or ``init`` is given: the sizes these bring are kept.
    target_size : int, optional
        Preferred group size: the number of groups nearest ``n / target_size`` within the
        size range (per part when rules split the candidates). With ``n_groups`` too,
        it must be one of the sizes that count gives (``n // n_groups`` or one more);
        the groups then have even sizes. Else a ``ConfigError`` says so: the number
        of groups fixes the sizes, so give one of the two.
    group_sizes : dict of str to int or (int, int), optional
        Per-group bounds by group name (e.g. an existing group with its own capacity):
        an int is a capacity, a pair ``(min, max)``; ``min_size``/``max_size`` bound
        every group, ``group_sizes`` tightens named ones. Needs a fixed number of groups
        (``n_groups`` or existing groups).

    Returns
    -------
    MatchResult
        Check ``result.success``; a grouping that cannot exist comes back with
        ``status="infeasible"`` and ``reasons``, not as an exception.

    Raises
    ------
    CandidatesError
        The table cannot be read or has bad values.
    ConfigError
        A parameter is invalid (sizes that cannot cover the candidates, ...).

    Examples
    --------
    >>> import peermatch as pm
    >>> df = pm.synth_candidates(40, seed=3)
    >>> res = pm.match(df, min_size=4, max_size=6, time_limit=2, seed=0)
    >>> res.status in ("optimal", "feasible"), res.validate()
    (True, [])
    >>> sorted(res.groups["group"].value_counts())  # even sizes, the fewest groups
    [5, 5, 6, 6, 6, 6, 6]
    """
    from .config import check_match_setting
    from .scoring import Weights

    check_time_limit(time_limit, "The 'time_limit' parameter of match")
    for key, value in (("time_limit", time_limit), ("method", method), ("workers", workers)):
        check_match_setting(key, value, f"The {key!r} parameter of match")
    options = dict(options or {})
    representation = str(options.pop("representation", "auto"))
    if representation not in REPRESENTATIONS:
        raise ConfigError(f"The 'representation' option of match must be one of "
                          f"{', '.join(REPRESENTATIONS)}. Got {representation!r} instead.")
    # The solver's kernels load (from numba's disk cache, or compile) in the background
    # while the table is read and scored, instead of out of the search's budget.
    from .solve.local import warm_up

    warm_up(timeout=0)
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    table = load_table(candidates, columns)
    timings["read"] = time.perf_counter() - t0
    rules = rules or Rules()
    weights = weights if weights is not None else Weights()
    lo, hi = check_sizes(check_bounds("match", min_size, max_size), n_groups, table.n,
                         table.source)
    from .sizes import check_group_sizes
    from .solve.fairness import check_fairness

    fairness = check_fairness(fairness)
    sizes_given = check_group_sizes(group_sizes)
    if target_size is not None and (isinstance(target_size, bool) or not isinstance(
            target_size, (int, np.integer)) or not lo <= target_size <= hi):
        raise ConfigError(f"The 'target_size' parameter of match must be an int within the "
                          f"size range {lo}-{hi}. Got {target_size!r} instead.")
    # existing groups (a filled ``group`` column), per-group bounds and a warm start bring
    # sizes of their own: left out, even sizes then do not apply
    own_sizes = bool(sizes_given) or init is not None or (
        table.group is not None and bool(np.any(table.group != "")))
    even_sizes = resolve_even_sizes(even_sizes, table.n, (lo, hi), n_groups, target_size,
                                    own_sizes)

    t = time.perf_counter()
    if affinity is not None:
        from .features import encode
        from .scoring import check_affinity

        feats = encode(table, industry_depth=rules.industry_depth,
                       specs=getattr(weights, "columns", ()))
        A = check_affinity(affinity, table.n)
    else:
        feats, A = score_table(table, weights, rules, representation)
    timings["score"] = time.perf_counter() - t

    t = time.perf_counter()
    parts = shaped_parts(table, A, lo, hi, n_groups, rules, group_sizes=sizes_given,
                         even_sizes=even_sizes, target_size=target_size)
    timings["rules"] = time.perf_counter() - t

    t = time.perf_counter()
    # The one budget of the solve: every part, retry and the cluster's start-up share it.
    max_iter = options.get("max_iter")
    budget = Budget(time_limit, max_iter=max_iter if isinstance(max_iter, (int, np.integer))
                    and not isinstance(max_iter, bool) else None)
    settings = SolveSettings(method=method, seed=seed, workers=workers, options=options,
                             callback=callback, init=init, fairness=fairness)
    session, own_session = _open_scheduler(scheduler, budget, reasons_found=any(
        p.reasons for p in parts))
    try:
        res = _solve_parts(table, parts, A, settings, budget, session)
    finally:
        if own_session:
            session.close()
    timings["solve"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - t0
    hint = even_sizes_hint(table, A, lo, hi, n_groups, rules, parts, group_sizes=sizes_given,
                           even_sizes=even_sizes, target_size=target_size,
                           failed=bool(res["reasons"]))
    if hint:
        res["reasons"].append(hint)
        res["message"] += " " + hint
    return MatchResult(**res, table=table, affinity=A, parts=parts, rules=rules,
                       weights=weights, features=feats, seed=seed, timings=timings)


def _open_scheduler(scheduler, budget: Budget, reasons_found: bool):
    """The Dask session of ``scheduler=`` (None: in process) and whether this call owns it."""
    if scheduler is None:
        return None, False
    from .solve.distributed import Session, connect, parse_scheduler

    if isinstance(scheduler, Session):
        return scheduler, False
    spec = parse_scheduler(scheduler)
    if reasons_found:  # nothing to solve: no cluster to start (the spec is still checked)
        return None, False
    # started in the background: the solver's construction and descent run meanwhile
    return connect(spec, timeout=budget.time_limit, wait=False), True


def _solve_parts(table, parts: list[Part], A, settings: SolveSettings, budget: Budget,
                 session) -> dict[str, Any]:
    """Solve the compiled parts (here, or on the cluster of ``session``): the fields of
    the :class:`MatchResult` that the solve decides."""
    if session is not None and budget.left() < 0.1:
        # the cluster's start-up took the budget: the parts still get a moment
        budget = Budget(0.1, max_iter=budget.max_iter)
    reasons: list[str] = list(dict.fromkeys(r for p in parts for r in p.reasons))
    if settings.init is not None and len(parts) > 1:
        raise ConfigError("The 'init' parameter of match cannot be combined with rules that "
                          "split the candidates (separate_tiers, same_region).")
    remote = [None] * len(parts)
    interrupted = False
    if not reasons:
        if session is not None and len(parts) > 1:
            remote = _solve_remote(parts, A, settings, budget, session)
        interrupted = _solve_here(parts, remote, settings, budget, session)
    solved = not reasons
    labels, bound, statuses, method_used = _collect(table, parts, reasons)
    info = _solver_info(table, parts, remote, settings, session, interrupted, solved)
    status, msg, score = _outcome(A, labels, statuses, reasons)
    return {"status": status, "message": msg, "score": score,
            "bound": bound if statuses and not reasons else np.nan, "labels": labels,
            "method": "+".join(dict.fromkeys(method_used)) or "diagnose",
            "reasons": reasons, "solver": info}


def _solve_remote(parts: list[Part], A, settings: SolveSettings, budget: Budget, session):
    """Each part as one task on the cluster: its SolveResult, or None when lost."""
    from .solve.distributed import solve_parts

    jobs = [{"problem": p.compiled.problem, "rows": p.rows,
             "kwargs": {"method": settings.method, "seed": settings.seed,
                        "workers": settings.workers, "options": settings.options or None}}
            for p in parts]
    return solve_parts(session, jobs, A, budget.deadline)


def _solve_here(parts: list[Part], remote: list, settings: SolveSettings, budget: Budget,
                session) -> bool:
    """Solve in this process every part not solved on a worker; True on Ctrl-C."""
    interrupted = False
    left_rows = sum(len(p.rows) for p, done in zip(parts, remote, strict=True) if done is None)
    for p, done in zip(parts, remote, strict=True):
        if done is not None:  # solved on a worker
            p.solve = done
            continue
        # In process (also a part whose task was lost): each part gets the share of the
        # budget still left that its size is of the candidates still to place, so time a
        # part does not need goes to the rest.
        share = max(0.1, budget.left() * len(p.rows) / left_rows)
        left_rows -= len(p.rows)
        if interrupted:  # Ctrl-C in an earlier part: the rest only constructs
            share = 0.1
        p.solve = settings.solve(p.compiled.problem, share,
                                 scheduler=session if len(parts) == 1 else None)
        interrupted = interrupted or bool(p.solve.get("interrupted"))
    # A part that found nothing in its share gets the time the others left over.
    for p in parts:
        left = budget.left()
        if p.solve.status == "unknown" and left > 0.2 and not interrupted:
            again = settings.solve(p.compiled.problem, left)
            if again.status != "unknown":
                p.solve = again
    return interrupted


def _collect(table, parts: list[Part], reasons: list[str]):
    """Labels in table order, the summed bound, each part's status and method; the
    reasons of parts without a grouping are added to ``reasons``."""
    from .scoring import grouping_score

    labels = np.full(table.n, -1, dtype=np.int64)
    statuses, method_used, bound, offset = [], [], 0.0, 0
    if reasons:
        return labels, bound, statuses, method_used
    for p in parts:
        res = p.solve
        statuses.append(res.status)
        method_used.append(res.method)
        if not res.success:
            prefix = f"{p.label}: " if p.label else ""
            why = list(res.get("reasons", []) or []) or [res.message]
            p.reasons = [prefix + w for w in why]
            reasons.extend(p.reasons)
            continue
        lab = np.asarray(res.labels, dtype=np.int64)
        labels[p.rows] = lab + offset
        p.offset = offset
        offset += int(lab.max()) + 1
        b = res.get("bound", np.nan)
        bound += b if b is not None else np.nan
        # The solver's objective holds a constant from folded soft terms; the bound
        # is reported against affinity minus penalties, so remove it.
        bound -= res.objective - (grouping_score(p.compiled.problem.affinity, lab)
                                  - sum(p.compiled.penalties(lab).values()))
    return labels, bound, statuses, method_used


def _solver_info(table, parts: list[Part], remote: list, settings: SolveSettings, session,
                 interrupted: bool, solved: bool) -> dict:
    """What the solver reports: one part's SolveResult, or a line per part; the floor
    phase's reference grouping, Ctrl-C and where the work ran (``solved``: the parts
    were solved, no rule check stopped the match first)."""
    info: dict = {}
    if solved:
        info = dict(parts[0].solve) if len(parts) == 1 else {
            "parts": [{"label": p.label, "n": len(p.rows), "status": p.solve.status,
                       "objective": p.solve.get("objective")} for p in parts]}
        if settings.fairness > 0 and all(p.solve.success for p in parts):
            # the groupings before the floor phase, in table order: the summary measures
            # them as it measures the result
            ref = np.full(table.n, -1, dtype=np.int64)
            for p in parts:
                ref[p.rows] = np.asarray(p.solve.get("reference_labels", p.solve.labels)) + p.offset
            info = {**info, "fairness": settings.fairness, "reference_labels": ref}
    if interrupted:
        info = {**info, "interrupted": True}
    if session is not None:
        where = dict(info.get("distributed") or session.describe())
        if len(parts) > 1:
            where.update(parts=len(parts), parts_on_workers=sum(r is not None for r in remote),
                         part_workers=sorted({r["worker"] for r in remote if r is not None}))
        info = {**info, "distributed": where}
    return info


def _outcome(A, labels: np.ndarray, statuses: list[str], reasons: list[str]):
    """``(status, message, score)`` of the whole match; ``reasons`` is made plain in place."""
    from .scoring import grouping_score
    from .solve import STATUS_MESSAGES

    if not reasons:
        status = "optimal" if all(s == "optimal" for s in statuses) else "feasible"
        # The score is the raw total affinity of the grouping, as group_stats and the
        # report compute it; soft penalties are their own figures (result.penalties).
        return status, STATUS_MESSAGES[status], grouping_score(A, labels)
    # Infeasible when a check or a solver proved it; unknown when time ran out.
    status = "unknown" if statuses and "infeasible" not in statuses else "infeasible"
    head = ("No grouping can satisfy the hard rules" if status == "infeasible" else
            "No grouping was found within the time limit")
    generic = {STATUS_MESSAGES["unknown"], STATUS_MESSAGES["infeasible"]}
    reasons[:] = _plain_reasons(reasons, generic)
    said = [r for r in reasons if r not in generic]
    msg = head + (": " + " ".join(said) if said else ".")
    if status == "unknown":
        msg += " Infeasibility is not proved: a longer time limit may find one."
    return status, msg, np.nan


def _plain_reasons(reasons: list[str], generic: set[str]) -> list[str]:
    """Reasons without repeats, a part's generic status sentence cut to its label."""
    out = []
    for r in dict.fromkeys(reasons):
        label, _, text = r.rpartition(": ") if r.endswith(tuple(generic)) else ("", "", r)
        if text in generic and label:
            out.append(f"{label}: nothing found within its share of the time limit.")
        else:
            out.append(r)
    return list(dict.fromkeys(out))


# Former names, kept for code that imported them from here.
_load_table, _score_table, _check_sizes = load_table, score_table, check_sizes
_Part, _partition = Part, partition
__all__ += ["DENSE_MAX_N", "REPRESENTATIONS"]
