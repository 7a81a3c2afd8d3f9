"""Which engines solve a problem, decided once, with the reason for each choice.

:func:`plan` is pure: from the problem's size and rules, the method and the options it
names the way the group count is found, the start, the search, the floor phase and the
executor, each with a one-line reason. :func:`peermatch.solve.solve` makes one plan per
call and follows it (``SolveResult.plan``); ``print(plan)`` shows it.

This module imports nothing of peermatch above the core layer, so that configuration
code can read :data:`METHODS` and :data:`OPTIONS` without loading any engine.

Examples
--------
>>> import numpy as np
>>> from peermatch.problem import Problem
>>> p = plan(Problem(np.ones((40, 40)), min_size=4, max_size=6, n_groups=8), "auto")
>>> p.search, p.start
('population', 'greedy construction')
>>> p.reasons["search"].split(";")[0]
'n = 40 > 16'
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np

from ..budget import SHARES
from ..errors import ConfigError
from ._result import SolverOptionWarning

__all__ = ["METHODS", "OPTIONS", "Setting", "Plan", "plan", "check_options", "warn_unused",
           "setting", "RECOVERY_ROUNDS",
           "EXACT_MAX_N", "DECOMPOSE_N", "POPULATION", "default_threads"]

#: Valid values of ``method``.
METHODS = ("auto", "exact", "local", "hybrid")

#: With ``method="auto"``, problems up to this many elements go to the exact CP-SAT model
#: (``options["exact_max_n"]`` overrides it).
EXACT_MAX_N = 16

#: From this many candidates on, the local search works on sub-problems of a few groups
#: (:mod:`peermatch.solve.decompose`); below it, on the whole problem at once.
DECOMPOSE_N = 1000

#: Rounds of the floor phase's reweighted recovery (``options["fairness_rounds"]``).
RECOVERY_ROUNDS = 3

#: Pool size of the population phase of ``method="local"`` (``options["population"]``).
POPULATION = 8

#: Share of the tabu search's perturbations, and of the decomposition's sub-problems, that
#: start with a *regroup*: one group dissolved and rebuilt from the others' spare members
#: (``options["regroup"]``). 0.1, 0.2 and 0.4 measured level over the programme families
#: (``benchmarks/families.py``), all ahead of 0 (+1.0 % on clustered communities).
REGROUP = 0.2


def default_threads() -> int:
    """Threads that solve sub-problems of a decomposition unless ``options["threads"]``
    says: two where the machine has them (one step's sub-problems are independent)."""
    return min(2, os.cpu_count() or 1)


# -- the settings table ----------------------------------------------------------------------
def _number(lo: float | None = None, hi: float | None = None, integer: bool = False):
    def check(v) -> bool:
        if isinstance(v, bool) or not isinstance(v, Integral if integer else Real):
            return False
        return (lo is None or v >= lo) and (hi is None or v <= hi)
    return check


def _pair(v) -> bool:
    return (isinstance(v, (tuple, list)) and len(v) == 2
            and all(isinstance(x, Real) and not isinstance(x, bool) for x in v))


def _choice(*values: str):
    return lambda v: v in values


def _any(v) -> bool:
    return True


@dataclass(frozen=True)
class Setting:
    """One solver option: who reads it, its default, what it accepts.

    ``used_by`` names the parts of a :class:`Plan` that read the option (see
    :meth:`Plan.uses`); ``"any"`` for one every plan reads.
    """

    used_by: tuple[str, ...]
    default: Any
    accepts: str
    check: Callable[[Any], bool] = field(default=_any, repr=False, compare=False)


_TABU = ("tabu", "population", "hybrid", "decomposition")
_DEC = ("decomposition",)
_SHARE = ("a number in [0, 1]", _number(0, 1))

#: Every option of :func:`peermatch.solve.solve`, validated once, in one table.
OPTIONS: dict[str, Setting] = {
    "verbose": Setting(("any",), False, "a bool"),
    # the reproducible mode, part of the call's budget: every plan honours it
    "max_iter": Setting(("any",), None, "a number >= 1", _number(1)),
    "tenure": Setting(_TABU, "from the units per group", "a (min, max) pair", _pair),
    "depth": Setting(_TABU, "max(50, 2 * units)", "an int >= 1", _number(1)),
    "strength": Setting(_TABU, "from the units", "a (min, max) pair", _pair),
    "lns_share": Setting(("hybrid",), SHARES["hybrid.repair"], *_SHARE),
    "lns_groups": Setting(("hybrid",), 3, "an int >= 0", _number(0)),
    "lns_time": Setting(("hybrid",), 1.0, "a number > 0", _number(0)),
    "exact_max_n": Setting(("auto",), EXACT_MAX_N, "an int >= 0", _number(0)),
    "screen_share": Setting(("count",), SHARES["solve.screen"], *_SHARE),
    "population": Setting(("population", "tabu"), POPULATION, "an int >= 0", _number(0)),
    "child_iter": Setting(("population",), "2.5 * depth", "a number >= 1", _number(1)),
    "decompose": Setting(("any",), f"n >= {DECOMPOSE_N} or a feature affinity", "a bool"),
    "sub_size": Setting(_DEC, "min(n, 240, 24 groups)", "an int >= 2", _number(2)),
    "sub_iter": Setting(_DEC, "from the sub-problem size", "an int >= 1", _number(1)),
    "chunk_size": Setting(_DEC, "from n", "an int >= 1", _number(1)),
    "chunk_order": Setting(_DEC, "similar", "'similar' or 'random'",
                           _choice("similar", "random")),
    "reconstruct": Setting(_DEC, False, "a bool"),
    "near_share": Setting(_DEC, 0.9, *_SHARE),
    "pool": Setting(_DEC, 12, "an int >= 1", _number(1)),
    "pool_share": Setting(_DEC, 1.0, "a number > 0", _number(0)),
    "pool_mode": Setting(_DEC, "random", "'random', 'profile' or 'all'",
                         _choice("random", "profile", "all")),
    "batch": Setting(_DEC, 4, "an int >= 1", _number(1)),
    "threads": Setting(_DEC, "min(2, cores)", "an int >= 1", _number(1)),
    "profile_pool": Setting(_DEC, 4, "an int >= 1", _number(1)),
    "lean": Setting(_DEC, True, "a bool"),
    "regroup": Setting(_TABU, REGROUP, *_SHARE),
    "descent_share": Setting(_DEC, SHARES["decompose.descent"], *_SHARE),
    "iter_share": Setting(_DEC, "0.65 (one chunk) or 0.45", "a number > 0", _number(0)),
    "skip_descent": Setting(_DEC, False, "a bool"),
    "fairness_share": Setting(("floor",), SHARES["solve.floor"], *_SHARE),
    "fairness_rounds": Setting(("floor",), RECOVERY_ROUNDS, "an int >= 0",
                               _number(0, integer=True)),
}


def setting(options: Mapping[str, Any], name: str) -> Any:
    """The value of option ``name``: the one given, else its default in :data:`OPTIONS`
    (for options whose default depends on the problem, engines compute it themselves).

    >>> setting({}, "lns_groups"), setting({"lns_groups": 2}, "lns_groups")
    (3, 2)
    """
    return options.get(name, OPTIONS[name].default)


def check_options(options: Mapping[str, Any] | None) -> dict:
    """``options`` as a dict, each known value checked against :data:`OPTIONS`.

    Unknown names are left in (the caller warns about them, with the plan); a value of
    the wrong kind is a :class:`~peermatch.errors.ConfigError`.

    >>> check_options({"lns_share": 0.5})
    {'lns_share': 0.5}
    >>> check_options({"lns_share": 2})
    Traceback (most recent call last):
    ...
    peermatch.errors.ConfigError: The 'lns_share' option must be a number in [0, 1]. Got 2 instead.
    """
    out = dict(options or {})
    for name, value in out.items():
        s = OPTIONS.get(name)
        if s is None or s.check(value):
            continue
        if name == "fairness_rounds":
            raise ConfigError("The 'fairness_rounds' option must be an int >= 0 (0 skips the "
                              f"reweighted recovery). Got {value!r} instead.")
        raise ConfigError(f"The {name!r} option must be {s.accepts}. Got {value!r} instead.")
    return out


# -- the plan --------------------------------------------------------------------------------
_PARTS = ("count", "start", "search", "floor", "executor")


@dataclass(frozen=True)
class Plan:
    """How one :func:`~peermatch.solve.solve` call runs: one choice per part, with reasons.

    Attributes
    ----------
    method : str
        The method asked for (one of :data:`METHODS`).
    engine : {"exact", "local", "hybrid"}
        The method it resolves to (``"auto"`` picks one).
    count : str
        How the number of groups is found: fixed, from a warm start, or screened.
    start : str
        How the first valid grouping is made.
    search : str
        The search: ``"exact CP-SAT"``, ``"tabu"``, ``"population"``, ``"hybrid LNS"``
        or ``"decomposition"``.
    floor : str
        The fairness floor: ``"none"``, ``"floor phase"`` or ``"in the CP-SAT model"``.
    executor : str
        Where sub-problems run: ``"serial"``, ``"threads (k)"`` or ``"dask"``.
    at_scale : bool
        True when the problem is large enough for sub-problems (or has a feature
        affinity), whatever the method: the group-count screening then takes the fewest
        groups outright for non-negative affinities.
    compile_fallback : bool
        True when a numpy search may run while the compiled kernels compile (timed
        mode only: the reproducible mode waits for them).
    reasons : dict of str
        One sentence per part.
    unused : tuple of str
        Options given that this plan does not read (:func:`solve` warns about them).
    blocks : int
        Independent parts solved one after the other (1: the whole problem at once); set
        by :func:`~peermatch.solve.solve` when allowed groups split the problem.
    """

    method: str
    engine: str
    count: str
    start: str
    search: str
    floor: str
    executor: str
    at_scale: bool
    compile_fallback: bool
    reasons: dict = field(default_factory=dict, compare=False)
    unused: tuple[str, ...] = ()
    blocks: int = 1

    def with_blocks(self, k: int) -> Plan:
        """This plan, with the problem split into ``k`` independent parts."""
        why = ("allowed groups split candidates and groups into parts that share nothing; "
               "each is solved on its own plan, with time in proportion to its rows")
        return Plan(**{**self.__dict__, "blocks": int(k),
                       "reasons": {**self.reasons, "blocks": why}})

    @property
    def decompose(self) -> bool:
        """True when the search works on sub-problems of a few groups."""
        return self.search == "decomposition"

    @property
    def floor_phase(self) -> bool:
        """True when a fairness floor phase follows the total-maximising search."""
        return self.floor == "floor phase"

    def uses(self) -> frozenset[str]:
        """The part names (as in :attr:`Setting.used_by`) whose options this plan reads."""
        used = {"any", self.search_tag}
        if self.method == "auto":
            used.add("auto")
        if self.count.startswith("screened"):
            used.add("count")
        if self.floor_phase:
            # the floor phase re-runs the ordinary local search on reweighted affinities
            used |= {"floor", "decomposition" if self.decompose else "population", "tabu"}
        return frozenset(used)

    @property
    def search_tag(self) -> str:
        return {"exact CP-SAT": "exact", "hybrid LNS": "hybrid"}.get(self.search, self.search)

    def __str__(self) -> str:
        head = f"plan: method {self.method!r}"
        if self.engine != self.method:
            head += f" -> {self.engine!r}"
        lines = [head]
        for part in _PARTS:
            lines.append(f"  {part + ':':10s}{getattr(self, part)}  -- {self.reasons[part]}")
        if self.blocks > 1:
            lines.append(f"  {'blocks:':10s}{self.blocks} independent parts  -- "
                         f"{self.reasons['blocks']}")
        if self.compile_fallback:
            lines.append("  (timed mode: a numpy search runs while the kernels compile)")
        if self.unused:
            lines.append(f"  options not used by this plan: {', '.join(self.unused)}")
        return "\n".join(lines)


def _n(x: int) -> str:
    return f"{x:,}"


def _engine(problem, method: str, options: Mapping) -> tuple[str, str]:
    if method != "auto":
        return method, f"method {method!r} asked for"
    exact_max = int(setting(options, "exact_max_n"))
    if problem.n <= exact_max:
        return "exact", f"n = {_n(problem.n)} <= {exact_max}: proves optimality"
    # Side rules too: CP-SAT repairs of a few groups (method="hybrid") found no
    # improvement in 30 % of the time at 40-700 candidates, while the population
    # search was never worse and up to 1.8 % better (benchmarks/results/side_rules_engine.csv)
    return "local", f"n = {_n(problem.n)} > {exact_max}"


def _decomposes(problem, options: Mapping) -> tuple[bool, str]:
    opt = options.get("decompose")
    if opt is not None:
        return bool(opt), f"options['decompose'] = {opt!r}"
    if not isinstance(problem.affinity, np.ndarray):
        return True, "a feature affinity (no n x n matrix): sub-problems of a few groups"
    if problem.n >= DECOMPOSE_N:
        return True, f"n = {_n(problem.n)} >= {_n(DECOMPOSE_N)}: sub-problems of a few groups"
    return False, f"n = {_n(problem.n)} < {_n(DECOMPOSE_N)}: the whole problem at once"


def _count(problem, init) -> tuple[str, str]:
    if init is not None and problem.n_groups is None:
        return "from the warm start", "init given: max(init) + 1 groups"
    if problem.n_groups is not None:
        return f"fixed, {problem.n_groups}", "the problem fixes the number of groups"
    lo, hi = problem.group_count_range()
    if lo > hi or hi < 1:
        return "none fits", (f"no number of groups splits n = {_n(problem.n)} into sizes "
                             f"{problem.min_size}..{problem.max_size}")
    if lo == hi:
        return f"fixed, {lo}", f"sizes {problem.min_size}..{problem.max_size} allow one count"
    return f"screened in {lo}..{hi}", ("n_groups=None: a short search per count, the rest "
                                       "for the best")


def _search(engine: str, decompose: bool, why_dec: str, options: Mapping) -> tuple[str, str]:
    if engine == "exact":
        return "exact CP-SAT", "the complete model"
    if decompose:
        return "decomposition", why_dec + ", descent then tabu search"
    if engine == "hybrid":
        return "hybrid LNS", (f"{why_dec}; tabu slices, CP-SAT repairs of "
                              f"{setting(options, 'lns_groups')} groups")
    pop = int(setting(options, "population"))
    if pop >= 2:
        return "population", (f"population = {pop} >= 2: crossover of tabu searches "
                               "(one tabu search under 4 units per group)")
    return "tabu", f"population = {pop} < 2: one iterated tabu search"


def _start(engine: str, decompose: bool, problem, init) -> tuple[str, str]:
    if init is not None and engine != "exact":
        return "warm start", "init given: the search continues from it"
    if engine == "exact":
        return "CP-SAT", "the exact model finds its own first grouping"
    if decompose:
        how = ("a min-conflicts repair when a rule breaks (no n x n matrix)"
               if not isinstance(problem.affinity, np.ndarray) else
               "greedy + repair when a rule breaks, CP-SAT when that fails")
        return "streaming construction", how
    return "greedy construction", ("a min-conflicts repair when a rule breaks, CP-SAT when "
                                   "that fails")


def _floor(engine: str, fairness: float, options: Mapping) -> tuple[str, str]:
    if fairness <= 0:
        return "none", "fairness = 0: the total only"
    if engine == "exact":
        return "in the CP-SAT model", f"fairness = {fairness:g}: a floor variable"
    share = setting(options, "fairness_share")
    return "floor phase", f"fairness = {fairness:g}: {share:.0%} of the time after the search"


def _executor(decompose: bool, scheduler, options: Mapping) -> tuple[str, str]:
    if not decompose:
        if scheduler is not None:
            return "serial", "too small for sub-problems: solved on the driver"
        return "serial", "one search"
    if scheduler is not None:
        return "dask", "a scheduler was given: sub-problems on Dask workers"
    threads = max(1, int(options.get("threads", default_threads())))
    if threads > 1:
        return f"threads ({threads})", "the sub-problems of one step in parallel"
    return "serial", "one thread"


def plan(problem, method: str = "auto", options: Mapping[str, Any] | None = None, *,
         fairness: float = 0.0, scheduler=None, init=None) -> Plan:
    """Decide how :func:`~peermatch.solve.solve` runs on ``problem``; nothing is solved.

    Parameters
    ----------
    problem : Problem
        The problem (its size, affinity kind and rules are read, nothing else).
    method : {"auto", "exact", "local", "hybrid"}, default="auto"
    options : dict, optional
        Solver options (see :data:`OPTIONS`); checked.
    fairness : float, default=0.0
        The floor weight in ``[0, 1]``.
    scheduler : optional
        Anything not None: a Dask scheduler was asked for.
    init : array-like, optional
        A warm start.

    Returns
    -------
    Plan

    Raises
    ------
    ConfigError
        Unknown ``method``, or an option of the wrong kind.
    """
    meth = str(method).lower()
    if meth not in METHODS:
        raise ConfigError(f"Unknown method {method!r}. Valid methods: {', '.join(METHODS)}.")
    options = check_options(options)
    engine, why_engine = _engine(problem, meth, options)
    at_scale, why_dec = _decomposes(problem, options)
    decompose = at_scale and engine != "exact"
    parts = {"count": _count(problem, init),
             "start": _start(engine, decompose, problem, init),
             "search": _search(engine, decompose, why_dec, options),
             "floor": _floor(engine, float(fairness), options),
             "executor": _executor(decompose, scheduler, options)}
    reasons = {k: v[1] for k, v in parts.items()}
    if engine != meth:
        reasons["search"] = why_engine + "; " + reasons["search"]
    p = Plan(meth, engine, *(parts[k][0] for k in _PARTS), at_scale=at_scale,
             compile_fallback=engine != "exact" and options.get("max_iter") is None,
             reasons=reasons)
    used = p.uses()
    unused = tuple(sorted(k for k in options if k in OPTIONS
                          and not used.intersection(OPTIONS[k].used_by)))
    if unused:
        p = Plan(**{**p.__dict__, "unused": unused})
    return p


def warn_unused(p: Plan, options: Mapping, stacklevel: int = 3) -> None:
    """Warn (:class:`SolverOptionWarning`) about unknown options and options ``p`` does
    not read."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        warnings.warn(f"Unknown solver options: {', '.join(unknown)}. Known options: "
                      f"{', '.join(sorted(OPTIONS))}.", SolverOptionWarning,
                      stacklevel=stacklevel)
    if p.unused:
        warnings.warn(f"Solver options not used by this plan ({p.search}): "
                      f"{', '.join(p.unused)}.", SolverOptionWarning, stacklevel=stacklevel)
