"""What compiling the rules makes (:class:`Compiled`, :class:`SoftTerm`) and what a check
of a grouping finds (:class:`Violation`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..problem import Problem
from .spec import Rules

__all__ = ["Compiled", "SoftTerm", "Violation"]


@dataclass
class Compiled:
    """What :func:`build_problem` made of the rules, for messages, checks and output."""

    problem: Problem
    rules: Rules = field(default_factory=Rules)
    classes: list[np.ndarray] = field(default_factory=list)
    class_labels: list[str] = field(default_factory=list)
    competitor_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    conflict_pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    pair_reasons: dict[tuple[int, int], str] = field(default_factory=dict)
    group_names: list[str] | None = None
    slot_names: list[str] = field(default_factory=list)
    existing: np.ndarray | None = None      # existing group of each row (-1 = new)
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)  # clashes found while compiling
    pair_rules: dict[tuple[int, int], str] = field(default_factory=dict)  # rule of each pair
    sum_rules: list[str] = field(default_factory=list)  # rule of each problem.group_sums
    soft: list[SoftTerm] = field(default_factory=list)  # soft terms folded into the affinity

    def penalties(self, labels: np.ndarray) -> dict[str, float]:
        """Each soft term's penalty for a grouping (see :class:`SoftTerm`)."""
        return {t.name: t.penalty(labels) for t in self.soft}


@dataclass
class SoftTerm:
    """A soft rule folded into the affinity, and how much it costs a grouping.

    The solver maximises ``affinity - sum of penalties`` (plus a constant that no
    grouping can change); :meth:`penalty` gives each term's own figure, so the raw
    affinity and the penalties are reported separately.

    * ``"square"``: ``weight * sum_g (sum_{i in g} z_i)^2`` (``data`` = ``z``);
    * ``"pairs"``: ``weight * sum of c_ij`` over pairs sharing a group
      (``data`` = ``(ij, c)``, e.g. earlier meetings);
    * ``"moves"``: for each existing group of ``k`` members, ``weight / (k - 1)`` per
      pair of former groupmates now apart (``data`` = existing group of each row).
    """

    name: str
    kind: str
    weight: float
    data: Any

    def penalty(self, labels: np.ndarray) -> float:
        lab = np.asarray(labels, dtype=np.int64)
        if self.kind == "square":
            m = int(lab.max()) + 1 if len(lab) else 0
            sums = np.bincount(lab, weights=self.data, minlength=m)
            return float(self.weight * np.sum(sums ** 2))
        if self.kind == "pairs":
            ij, c = self.data
            same = lab[ij[:, 0]] == lab[ij[:, 1]]
            return float(self.weight * c[same].sum())
        old = self.data
        cost = 0.0
        for g in np.unique(old[old >= 0]):
            rows = np.flatnonzero(old == g)
            if len(rows) > 1:
                _, cnt = np.unique(lab[rows], return_counts=True)
                together = int(np.sum(cnt * (cnt - 1) // 2))
                apart = len(rows) * (len(rows) - 1) // 2 - together
                cost += self.weight / (len(rows) - 1) * apart
        return float(cost)



@dataclass(frozen=True)
class Violation:
    """One broken hard rule of a grouping.

    Attributes
    ----------
    rule : str
        The rule family (a key of :data:`~peermatch.rules.REGISTRY`, e.g. ``"competitors"``).
    group : str or None
        Name of the group concerned (None when the rule is not about one group).
    members : tuple of str
        Ids of the members involved.
    message : str
        The violation in plain words.
    detail : str
        The rule's own label: the competitor set (``"industry 'Retail'"``), the
        reason of a pair (``"customer"``), the cap, ...
    """

    rule: str
    group: str | None
    members: tuple[str, ...]
    message: str
    detail: str = ""  # the rule's own words: a competitor set, a pair's reason, ...

    def __str__(self) -> str:
        return self.message

