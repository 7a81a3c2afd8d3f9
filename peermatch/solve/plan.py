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

__all__ = ["METHODS", "OPTIONS", "TUNING", "RETIRED", "Setting", "Plan", "plan",
           "check_options", "warn_unused", "setting", "given", "RECOVERY_ROUNDS",
           "EXACT_MAX_N", "DECOMPOSE_N", "POPULATION", "POPULATION_MAX", "LNS_GROUPS",
           "default_threads"]

#: Valid values of ``method``.
METHODS = ("auto", "exact", "local", "hybrid")

#: With ``method="auto"``, problems up to this many elements go to the exact CP-SAT model
#: (``options["exact_max_n"]`` overrides it).
EXACT_MAX_N = 16

#: From this many candidates on, the local search works on sub-problems of a few groups
#: (:mod:`peermatch.solve.decompose`); below it, on the whole problem at once.
DECOMPOSE_N = 1000

#: Rounds of the floor phase's reweighted recovery (tuning ``fairness_rounds``).
RECOVERY_ROUNDS = 3

#: Pool size of the population phase of ``method="local"``: between ``POPULATION`` and
#: ``POPULATION_MAX``, one member per ``CHILDREN_PER_MEMBER`` children the budget holds
#: (estimated from the first member's search; tuning ``population`` fixes it). A large
#: pool pays where the budget holds a thousand children (MDGPLIB at the literature
#: limits: mean gap 0.117 -> 0.018 % at n = 240 with 20 instead of 8) and costs where it
#: holds a few dozen, the pool's first members then eating the budget (peer programmes of
#: 300-700 candidates in 10 s, 30-130 children: -0.14 % median with 20).
POPULATION = 8
POPULATION_MAX = 20
CHILDREN_PER_MEMBER = 30

#: Groups freed by each CP-SAT repair of ``method="hybrid"``.
LNS_GROUPS = 3

#: Share of the tabu search's perturbations, and of the decomposition's sub-problems, that
#: start with a *regroup*: one group dissolved and rebuilt from the others' spare members
#: (tuning ``regroup``). 0.1, 0.2 and 0.4 measured level over the programme families
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

#: The options a caller sets, validated once, in one table. Everything else the search
#: does is fixed by the problem or by :data:`TUNING`.
OPTIONS: dict[str, Setting] = {
    "verbose": Setting(("any",), False, "a bool"),
    # the reproducible mode, part of the call's budget: every plan honours it
    "max_iter": Setting(("any",), None, "a number >= 1", _number(1)),
    "threads": Setting(_DEC, "min(2, cores)", "an int >= 1", _number(1)),
    "decompose": Setting(("any",), f"n >= {DECOMPOSE_N} or a feature affinity", "a bool"),
    "exact_max_n": Setting(("auto",), EXACT_MAX_N, "an int >= 0", _number(0)),
    "fairness_share": Setting(("floor",), SHARES["solve.floor"], *_SHARE),
    "tuning": Setting(("any",), {}, "a dict of names from peermatch.solve.plan.TUNING",
                      lambda v: isinstance(v, Mapping)),
}

#: The search's constants, reached through ``options={"tuning": {...}}``: for measuring
#: them side by side (``benchmarks/options_ab.py`` runs the programme families of
#: ``benchmarks/families.py`` with and without a change), not for getting a good grouping.
#: Each default is the one the families' median favoured, or one a test shortens
#: (``child_iter``, ``lns_time``); docs/solver.md (*The search's constants*) gives the
#: figures.
TUNING: dict[str, Setting] = {
    "population": Setting(("population", "tabu"),
                          f"{POPULATION}-{POPULATION_MAX} by the children the budget holds",
                          "an int >= 0", _number(0)),
    "child_iter": Setting(("population",), "2.5 * depth", "a number >= 1", _number(1)),
    "regroup": Setting(_TABU, REGROUP, *_SHARE),
    "lns_share": Setting(("hybrid",), SHARES["hybrid.repair"], *_SHARE),
    "lns_time": Setting(("hybrid",), 1.0, "a number > 0", _number(0)),
    "screen_share": Setting(("count",), SHARES["solve.screen"], *_SHARE),
    "sub_size": Setting(_DEC, "min(n, 240, 24 groups)", "an int >= 2", _number(2)),
    "iter_share": Setting(_DEC, "0.65 (one chunk) or 0.45", "a number > 0", _number(0)),
    "near_share": Setting(_DEC, 0.9, *_SHARE),
    "pool": Setting(_DEC, 12, "an int >= 1", _number(1)),
    "batch": Setting(_DEC, 4, "an int >= 1", _number(1)),
    # lean sub-problems give the same arrays as full ones: False is for checking that
    "lean": Setting(_DEC, True, "a bool"),
    "descent_share": Setting(_DEC, SHARES["decompose.descent"], *_SHARE),
    "fairness_rounds": Setting(("floor",), RECOVERY_ROUNDS, "an int >= 0",
                               _number(0, integer=True)),
}

#: Options of earlier versions that are now fixed, with why (said in the warning).
RETIRED: dict[str, str] = {
    **dict.fromkeys(("tenure", "depth", "strength"),
                    "the tabu search derives it from the units per group"),
    "lns_groups": "CP-SAT repairs free 3 groups",
    "sub_iter": "the tuning constant 'iter_share' sets the iterations per sub-problem",
    "chunk_size": "descent chunks hold the whole problem up to 6,000 members, else 2,000",
    **dict.fromkeys(("pool_share", "pool_mode", "profile_pool"),
                    "sub-problems draw a random pool of partner groups (the other pools "
                    "measured no better)"),
    "chunk_order": "descent chunks follow the groups' similarity order",
    "reconstruct": "measured no better than the streaming construction's grouping",
    "skip_descent": "the descent always runs first",
}


def setting(options: Mapping[str, Any], name: str) -> Any:
    """The value of option or tuning constant ``name``: the one given (a tuning constant
    in ``options["tuning"]``), else its default in :data:`OPTIONS` or :data:`TUNING` (where
    the default depends on the problem it is a string: see :func:`given`).

    >>> setting({}, "pool"), setting({"tuning": {"pool": 3}}, "pool")
    (12, 3)
    """
    if name in TUNING:
        return (options.get("tuning") or {}).get(name, TUNING[name].default)
    return options.get(name, OPTIONS[name].default)


def given(options: Mapping[str, Any], name: str) -> Any:
    """The value given for option or tuning constant ``name``, else None (the engine
    then computes the default from the problem).

    >>> given({"tuning": {"sub_size": 60}}, "sub_size"), given({}, "sub_size")
    (60, None)
    """
    if name in TUNING:
        return (options.get("tuning") or {}).get(name)
    return options.get(name)


def _check_value(name: str, s: Setting, value: Any, where: str) -> None:
    if s.check(value):
        return
    if name == "fairness_rounds":
        raise ConfigError(f"The {where} must be an int >= 0 (0 skips the reweighted "
                          f"recovery). Got {value!r} instead.")
    raise ConfigError(f"The {where} must be {s.accepts}. Got {value!r} instead.")


def check_options(options: Mapping[str, Any] | None) -> dict:
    """``options`` as a dict, each known value checked against :data:`OPTIONS`, and each
    entry of ``options["tuning"]`` against :data:`TUNING`.

    Unknown option names are left in (the caller warns about them, with the plan; the
    engines never read them); a value of the wrong kind, or an unknown tuning name, is a
    :class:`~peermatch.errors.ConfigError`.

    >>> check_options({"max_iter": 500, "tuning": {"regroup": 0.1}})
    {'max_iter': 500, 'tuning': {'regroup': 0.1}}
    >>> check_options({"tuning": {"pool": 0}})
    Traceback (most recent call last):
    ...
    peermatch.errors.ConfigError: The 'pool' tuning constant must be an int >= 1. Got 0 instead.
    """
    out = dict(options or {})
    for name, value in out.items():
        if name in OPTIONS:
            _check_value(name, OPTIONS[name], value, f"{name!r} option")
    tuning = out.get("tuning") or {}
    unknown = sorted(set(tuning) - set(TUNING))
    if unknown:
        raise ConfigError(f"Unknown tuning constant(s) {', '.join(map(repr, unknown))}. "
                          f"Known: {', '.join(TUNING)}.")
    for name, value in tuning.items():
        _check_value(name, TUNING[name], value, f"{name!r} tuning constant")
    if "tuning" in out:
        out["tuning"] = dict(tuning)
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
        Options (and tuning constants) given that this plan does not read
        (:func:`solve` warns about them).
    tuning : tuple of (str, value)
        The tuning constants given (:data:`TUNING`), printed with the plan so that a
        run's label says when the search was not the default one.
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
    tuning: tuple[tuple[str, Any], ...] = ()

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
        if self.tuning:
            lines.append("  tuning:   " + ", ".join(f"{k}={v!r}" for k, v in self.tuning)
                         + "  -- search constants not at their defaults")
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
                              f"{LNS_GROUPS} groups")
    pop = given(options, "population")
    if pop is None:
        return "population", (f"a pool of {POPULATION}-{POPULATION_MAX} by the budget: "
                              "crossover of tabu searches (one tabu search under 4 units "
                              "per group)")
    if int(pop) >= 2:
        return "population", (f"population = {int(pop)} >= 2: crossover of tabu searches "
                               "(one tabu search under 4 units per group)")
    return "tabu", f"population = {int(pop)} < 2: one iterated tabu search"


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
    tuning = options.get("tuning") or {}
    unused = tuple(sorted(
        [k for k in options if k in OPTIONS and not used.intersection(OPTIONS[k].used_by)]
        + [k for k in tuning if not used.intersection(TUNING[k].used_by)]))
    if unused or tuning:
        p = Plan(**{**p.__dict__, "unused": unused, "tuning": tuple(sorted(tuning.items()))})
    return p


def warn_unused(p: Plan, options: Mapping, stacklevel: int = 3) -> None:
    """Warn (:class:`SolverOptionWarning`) about unknown options and options ``p`` does
    not read."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        why = [f" '{k}': {RETIRED[k]}." if k in RETIRED else
               f" '{k}' is a tuning constant: options={{'tuning': {{'{k}': ...}}}}."
               for k in unknown if k in RETIRED or k in TUNING]
        warnings.warn(f"Unknown solver options (ignored): {', '.join(unknown)}. Known "
                      f"options: {', '.join(sorted(OPTIONS))}." + "".join(why),
                      SolverOptionWarning, stacklevel=stacklevel)
    if p.unused:
        warnings.warn(f"Solver options not used by this plan ({p.search}): "
                      f"{', '.join(p.unused)}.", SolverOptionWarning, stacklevel=stacklevel)
