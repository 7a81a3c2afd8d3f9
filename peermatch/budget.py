"""One time budget per public call: how many seconds a call has, and who gets which share.

A :class:`Budget` is made once, at a public entry point (``match``, ``solve``, ``repair``,
``seats``, ``pairs`` ...), from the ``time_limit`` the user granted, and handed down. Code
below the entry point never reads the clock against a number of its own: it asks its budget
for what is left, or for a child budget with one of the named shares of :data:`SHARES`.
A ``time_limit`` therefore always covers the whole call.

Examples
--------
>>> b = Budget(10.0)
>>> 9.0 < b.left() <= 10.0
True
>>> start = b.share("start")             # a child: SHARES["start"] of what is left
>>> start.deadline <= b.deadline
True
>>> Budget(5.0, max_iter=1000).reproducible
True
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping

from .errors import ConfigError

__all__ = ["Budget", "SHARES", "MAX_TIME_LIMIT", "check_time_limit"]

#: The longest ``time_limit`` accepted, in seconds (one week): a larger value is a typo
#: or an overflow (``1e308``), and a run that long would only end when it is killed.
MAX_TIME_LIMIT = 7 * 24 * 3600.0

#: Every fixed split of a call's time, in one table: ``budget.share(name)`` gives a child
#: budget of this fraction of the time then left. Engines name their share here rather
#: than writing a fraction beside the code that spends it.
SHARES: dict[str, float] = {
    # solve: construction of a first valid grouping, before the search proper
    "start": 0.1,
    # solve: the screening of candidate group counts, all counts together
    # (default of the tuning constant screen_share)
    "solve.screen": 0.3,
    # solve with fairness > 0: the floor phase, after the total-maximising search
    # (default of options["fairness_share"]; a share of the whole call)
    "solve.floor": 0.5,
    # start: the min-conflicts repair of a greedy grouping, leaving CP-SAT the rest to
    # prove infeasibility (and the repair of a large construction)
    "start.repair": 0.6,
    # start, tiny problems (peermatch.solve._start.QUICK_UNITS): CP-SAT's first look, before
    # the repair (at most 1 s)
    "start.quick": 0.2,
    # start: CP-SAT is tried after the repair only when its model builds in this share
    # of the time left
    "start.cpsat_build": 0.4,
    # start: once less than this share of the start's span is left, the greedy
    # construction forces its way through
    "start.force": 0.5,
    # hybrid: CP-SAT repairs of a few groups, the rest tabu search
    # (default of the tuning constant lns_share)
    "hybrid.repair": 0.3,
    # decomposition: construction and descent, before the sub-problem search
    # (default of the tuning constant descent_share)
    "decompose.descent": 0.6,
    # decomposition, first use: the numpy reconstruction while the kernels compile
    "decompose.compile": 0.4,
    # solve, timed mode: the most of the time left spent waiting for the kernels to load
    # from numba's disk cache (then the numpy search runs until they are loaded)
    "solve.cache_load": 0.5,
    # fairness floor phase (shares of the time left at each stage): phase 0, the
    # reweighted start, with and without the phase 3 recovery after it
    "fairness.start": 0.25,
    "fairness.start_alone": 0.5,
    # phase 1, raising the floor (fairness < 1), with and without phase 3
    "fairness.raise": 0.35,
    "fairness.raise_alone": 0.5,
    # phase 2, taking total back at the target (fairness < 1, before phase 3)
    "fairness.recover": 0.4,
    # fairness = 1 before phase 3: the lexicographic rounds
    "fairness.lexicographic": 1 / 3,
    # phase 3: the re-run of the search in each round (the rest repairs and polishes)
    "fairness.rerun": 0.25,
    # exact fairness (CP-SAT): the highest total, then the highest floor (the rest: the
    # highest total at the target floor)
    "fairness.exact_total": 1 / 3,
    "fairness.exact_floor": 0.5,
    # diagnosis of an infeasible model: each trial of the deletion filter (at least 1 s)
    "diagnose.deletion": 0.25,
}


def check_time_limit(value, where: str = "time_limit") -> float:
    """Return ``value`` as seconds, or raise :class:`ConfigError` naming the accepted range.

    >>> check_time_limit(30)
    30.0
    >>> check_time_limit(1e308)
    Traceback (most recent call last):
    ...
    peermatch.errors.ConfigError: time_limit must be a number of seconds in (0, 604800] ...
    """
    try:
        t = float(value)
    except (TypeError, ValueError):
        t = math.nan
    if isinstance(value, bool) or not (0.0 < t <= MAX_TIME_LIMIT):
        raise ConfigError(
            f"{where} must be a number of seconds in (0, {MAX_TIME_LIMIT:.0f}] (at most a "
            f"week); got {value!r}. Give the seconds the run may take, e.g. 30.")
    return t


class Budget:
    """The seconds (and, in reproducible mode, the iterations) one call may spend.

    Parameters
    ----------
    time_limit : float
        Seconds from now that the whole call may take.
    max_iter : int, optional
        An iteration bound: with it, engines stop on iterations rather than on the clock,
        so the same input and seed give the same result on any machine
        (:attr:`reproducible`). The clock still bounds the call as a safety net.
    deadline : float, optional
        An absolute ``time.perf_counter()`` instant to end at instead of
        ``now + time_limit``: how child budgets are made.
    """

    __slots__ = ("t0", "deadline", "max_iter")

    def __init__(self, time_limit: float, *, max_iter: int | None = None,
                 deadline: float | None = None) -> None:
        self.t0 = time.perf_counter()
        self.deadline = self.t0 + float(time_limit) if deadline is None else float(deadline)
        self.max_iter = None if max_iter is None else int(max_iter)

    def __repr__(self) -> str:
        it = "" if self.max_iter is None else f", max_iter={self.max_iter}"
        return f"Budget(left={self.left():.3f}s{it})"

    @property
    def time_limit(self) -> float:
        """The seconds this budget had when it was made."""
        return self.deadline - self.t0

    @property
    def reproducible(self) -> bool:
        """True when the work is bounded by iterations, not by the clock."""
        return self.max_iter is not None

    def elapsed(self) -> float:
        """Seconds since this budget was made."""
        return time.perf_counter() - self.t0

    def left(self) -> float:
        """Seconds left (negative once the deadline has passed)."""
        return self.deadline - time.perf_counter()

    def expired(self) -> bool:
        """True once the deadline has passed."""
        return time.perf_counter() >= self.deadline

    def child(self, *, fraction: float | None = None, seconds: float | None = None) -> Budget:
        """A budget ending after ``fraction`` of the time left, or ``seconds`` from now,
        and never after this one."""
        now = time.perf_counter()
        left = max(self.deadline - now, 0.0)
        span = left * float(fraction) if fraction is not None else float(seconds or 0.0)
        return Budget(0.0, max_iter=self.max_iter, deadline=min(self.deadline, now + span))

    def head(self, fraction: float) -> Budget:
        """A child budget ending once ``fraction`` of this budget's whole time, counted
        from its start, has passed (``share`` counts from now).

        >>> b = Budget(10.0)
        >>> abs(b.head(0.5).deadline - (b.t0 + 5.0)) < 1e-9
        True
        """
        return Budget(0.0, max_iter=self.max_iter,
                      deadline=min(self.deadline, self.t0 + float(fraction) * self.time_limit))

    def until(self, fraction: float) -> float:
        """The instant (``time.perf_counter()``) ``fraction`` of the time left from now."""
        now = time.perf_counter()
        return now + float(fraction) * max(self.deadline - now, 0.0)

    def share(self, name: str) -> Budget:
        """A child budget of ``SHARES[name]`` of the time left."""
        return self.child(fraction=SHARES[name])

    def split(self, shares: Mapping[str, float]) -> dict[str, Budget]:
        """Consecutive child budgets, in the order given, of the given fractions of the
        time left now (fractions that add up to less than 1 leave the rest unplanned).

        >>> parts = Budget(10.0).split({"start": 0.2, "search": 0.8})
        >>> parts["start"].deadline < parts["search"].deadline
        True
        """
        now = time.perf_counter()
        left = max(self.deadline - now, 0.0)
        out, acc = {}, 0.0
        for name, f in shares.items():
            acc += float(f)
            out[name] = Budget(0.0, max_iter=self.max_iter,
                               deadline=min(self.deadline, now + acc * left))
        return out
