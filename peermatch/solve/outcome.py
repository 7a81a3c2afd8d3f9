"""What an engine hands back: one typed :class:`Outcome` instead of a dict of optional keys."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Outcome", "EXTRA_KEYS"]

#: Fields copied to :class:`~peermatch.solve.SolveResult` only when set (not None): what
#: some engines say and others do not.
EXTRA_KEYS = ("representation", "decomposition", "compile_cut", "compile_wait", "interrupted",
              "sub_problems", "sub_improved", "distributed", "fairness", "floor",
              "floor_reference", "objective_reference", "floor_max", "floor_target",
              "fairness_moves", "reference_labels")


@dataclass
class Outcome:
    """The result of one engine run (or of the whole search) before it becomes a
    :class:`~peermatch.solve.SolveResult`.

    ``labels`` is None when no grouping was found. Optional fields left at None are not
    reported.
    """

    status: str
    labels: np.ndarray | None = None
    n_groups: int = 0
    method: str = ""
    bound: float = math.nan
    iterations: int = 0
    n_restarts: int = 0
    time_to_feasible: float = math.nan
    #: a stage's own explanation, appended to the status message
    message: str = ""
    #: for "infeasible": the rules responsible, in plain words
    reasons: list[str] = field(default_factory=list)
    # -- reported when set ---------------------------------------------------------------
    representation: str | None = None
    decomposition: bool | None = None
    compile_cut: bool | None = None
    compile_wait: float | None = None
    interrupted: bool | None = None
    sub_problems: int | None = None
    sub_improved: int | None = None
    distributed: dict | None = None
    fairness: float | None = None
    floor: float | None = None
    floor_reference: float | None = None
    objective_reference: float | None = None
    floor_max: float | None = None
    floor_target: float | None = None
    fairness_moves: int | None = None
    reference_labels: np.ndarray | None = None

    @property
    def found(self) -> bool:
        """True when the outcome holds a grouping."""
        return self.labels is not None

    def replace(self, **changes: Any) -> Outcome:
        """A copy with ``changes``; keys that are not fields are ignored (an engine's
        dict may say more than an outcome keeps)."""
        names = {f.name for f in dataclasses.fields(self)}
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if k in names})

    def extras(self) -> dict[str, Any]:
        """The optional fields that are set, by name."""
        return {k: getattr(self, k) for k in EXTRA_KEYS if getattr(self, k) is not None}
