"""The state one :func:`~peermatch.solve.solve` call hands to its engines."""

from __future__ import annotations

import math
import time

import numpy as np

from ..budget import Budget
from .plan import Plan

__all__ = ["Context"]


class Context:
    """Budget, randomness, options, plan and progress reporting of one solve call.

    ``budget`` covers the whole call; ``search`` is the part of it the total-maximising
    search may spend (all of it, or what the fairness floor phase leaves).
    """

    def __init__(self, budget: Budget, rng: np.random.Generator, workers: int, options: dict,
                 callback, plan: Plan, t0: float | None = None):
        self.budget = budget
        self.search = budget
        self.t0 = budget.t0 if t0 is None else t0
        self.rng = rng
        self.workers = int(workers)
        self.options = options
        self.callback = callback
        self.plan = plan
        self.history: list[tuple[float, float]] = []
        self.best = -math.inf
        self.time_to_best = math.nan
        # The best valid grouping seen so far (labels, number of groups): what an interrupt
        # (Ctrl-C) anywhere in the search returns.
        self.best_labels: np.ndarray | None = None
        self.best_m = 0
        self._last_cb = -math.inf
        self.fairness = 0.0
        #: a peermatch.solve.distributed.Session when a Dask scheduler was asked for
        self.session = None

    @property
    def deadline(self) -> float:
        """The end of the search (``time.perf_counter()`` instant)."""
        return self.search.deadline

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
