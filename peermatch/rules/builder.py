"""The solver arrays under construction: each rule family's compile step adds to a
:class:`Builder`, and :func:`compile_group_count` fixes the number of groups between
the pair rules and the rules that refer to groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import core
from ..candidates import CandidateTable
from ..errors import ConfigError
from ..problem import GroupSum
from .compiled import SoftTerm
from .spec import Rules
from .split import partition

__all__ = ["Builder", "compile_group_count"]


@dataclass
class Builder:
    """The solver arrays under construction: each rule family's compile step adds to it.

    A family that compiles to the existing primitives needs only :meth:`add_sum`
    (a group sum with bounds, tagged with the family key), :meth:`keep_apart`
    (cannot-link pairs), :meth:`allow_only` (allowed groups), ``no_single`` (labels
    nobody may be alone with) or ``slots``; a soft rule folds into ``A_work`` and
    appends a :class:`SoftTerm` to ``soft``. ``m`` and ``names`` (the number and
    names of the groups) are known in the ``"placement"`` and ``"groups"`` phases.
    """

    table: CandidateTable
    rules: Rules
    A: Any
    min_size: int
    max_size: int
    elsewhere: frozenset[str]
    A_work: Any = None
    notes: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    soft: list[SoftTerm] = field(default_factory=list)
    sums: list[GroupSum] = field(default_factory=list)
    sum_rules: list[str] = field(default_factory=list)  # the rule family of each group sum
    apart: list[np.ndarray] = field(default_factory=list)  # cannot-link pair arrays
    pair_reasons: dict[tuple[int, int], str] = field(default_factory=dict)
    pair_rules: dict[tuple[int, int], str] = field(default_factory=dict)
    classes: list[np.ndarray] = field(default_factory=list)
    class_labels: list[str] = field(default_factory=list)
    wild: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    conf: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    existing: np.ndarray | None = None
    existing_names: list[str] = field(default_factory=list)
    m: int | None = None
    names: list[str] | None = None
    bounds: np.ndarray | None = None
    allowed: np.ndarray | None = None
    must_link: np.ndarray | None = None
    no_single: list[np.ndarray] = field(default_factory=list)
    slots: np.ndarray | None = None
    slot_names: list[str] = field(default_factory=list)
    _gindex: dict[str, int] | None = None
    _split: list | None = None

    @property
    def n(self) -> int:
        return self.table.n

    def dense_copy(self) -> np.ndarray:
        """The affinity to fold soft terms into: a private copy of the caller's matrix."""
        if self.A_work is self.A:
            A = self.A
            self.A_work = np.array(A, dtype=np.float64 if A.dtype != np.float32 else np.float32)
        return self.A_work

    def add_sum(self, rule: str, coef: np.ndarray, name: str, lo=-np.inf, hi=np.inf) -> None:
        """A group sum ``lo <= sum_{i in g} coef_i <= hi`` of family ``rule``, named ``name``."""
        self.sum_rules.append(rule)
        self.sums.append(GroupSum(coef=coef, lo=lo, hi=hi, name=name))

    def keep_apart(self, rule: str, pairs: np.ndarray, reason: str) -> None:
        """Cannot-link ``pairs`` (sorted row pairs) of family ``rule``, with their reason.

        A pair that an earlier family keeps apart keeps that family's tag and reason.
        """
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        for i, j in pairs.tolist():
            self.pair_reasons.setdefault((i, j), reason)
            self.pair_rules.setdefault((i, j), rule)
        self.apart.append(pairs)

    def part_split(self) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
        """The tier / region parts of the table, for the rules that depend on a population.

        Returns ``(label, rows, groups)`` per part: ``groups`` is a boolean mask over the
        ``m`` groups of those whose (first) existing member is in the part, or None when
        the table is a single part, as it is when ``match`` compiles a part on its own.
        A grouping compiled as a whole (:class:`peermatch.grouping.Grouping`) thus
        checks balance and spread within each tier and region, as ``match`` made them.
        """
        if self._split is not None:  # balance and spread both ask; the split is O(n)
            return self._split
        self._split = self._part_split()
        return self._split

    def _part_split(self) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
        split = partition(self.table, self.rules)
        if len(split) == 1:
            return [(split[0][0], split[0][1], None)]
        part_of = np.empty(self.n, dtype=np.int64)
        for q, (_, rows) in enumerate(split):
            part_of[rows] = q
        first = np.full(self.m or 0, -1, dtype=np.int64)
        if self.existing is not None:
            for i in np.flatnonzero(self.existing >= 0)[::-1]:  # the first member wins
                first[self.existing[i]] = part_of[i]
        return [(label, rows, first == q) for q, (label, rows) in enumerate(split)]

    def indicator(self, rows) -> np.ndarray:
        """A 0/1 coefficient vector over the rows (``1`` on ``rows``)."""
        coef = np.zeros(self.n)
        coef[rows] = 1.0
        return coef

    def group_idx(self, name: str, rule: str) -> int:
        """Position of the group ``name`` (named by ``rule``); an unknown name raises."""
        gindex = self._gindex if self._gindex is not None else {
            g: k for k, g in enumerate(self.names or [])}
        self._gindex = gindex
        if name not in gindex:
            names = self.names or []
            raise ConfigError(f"{self.table.source}: rule {rule} names group {name!r}; the "
                              f"groups are {names[:20]}{' ...' if len(names) > 20 else ''}.")
        return gindex[name]

    def allow_only(self, i: int, gs: list[int]) -> None:
        """Row ``i`` may join only the groups ``gs`` (and those allowed before)."""
        if self.allowed is None:
            self.allowed = np.ones((self.n, self.m), dtype=bool)
        mask = np.zeros(self.m, dtype=bool)
        mask[gs] = True
        self.allowed[i] &= mask


def compile_group_count(b: Builder, n_groups: int | None) -> None:
    """Existing groups, and the number of groups when a rule needs it fixed."""
    table, rules, n, max_size = b.table, b.rules, b.n, b.max_size
    if table.group is not None and any(str(g).strip() for g in table.group):
        b.existing_names = list(dict.fromkeys(str(g).strip() for g in table.group
                                              if str(g).strip()))
        idx = {g: k for k, g in enumerate(b.existing_names)}
        b.existing = np.array([idx.get(str(g).strip(), -1) for g in table.group],
                              dtype=np.int64)
    existing, existing_names = b.existing, b.existing_names
    unknown_locked = [g for g in rules.locked_groups if g not in existing_names]
    if unknown_locked:
        raise ConfigError(f"{table.source}: locked group(s) {unknown_locked} do not appear in "
                          f"the 'group' column. Existing groups: {existing_names[:20]}.")
    largest = max((len(c) for c in b.classes), default=1)
    fixed_count = n_groups is not None or rules.needs_fixed_count or existing is not None
    m: int | None = n_groups
    if existing is not None and m is None:
        k_ex = len(existing_names)
        old_sizes = np.bincount(existing[existing >= 0], minlength=k_ex)
        locked = np.array([g in rules.locked_groups for g in existing_names])
        new = int(np.sum(existing < 0)) if rules.keep_existing else 0
        seats = int(np.sum(np.maximum(0, max_size - old_sizes[~locked])))
        m = k_ex + max(0, core.fewest_groups(new - seats, max_size)) if (
            rules.keep_existing) else max(k_ex, core.fewest_groups(n, max_size))
        b.notes.append(f"{k_ex} existing groups kept; {m - k_ex} new group(s) for "
                       f"{int(np.sum(existing < 0))} new candidates.")
    elif fixed_count and m is None:
        m = max(core.fewest_groups(n, max_size), largest)
        b.notes.append(f"The number of groups is fixed to {m} (the fewest that fit), since the "
                       "rules name groups or shares of groups; pass n_groups to choose another.")
    if existing is not None and m is not None and m < len(existing_names):
        raise ConfigError(f"n_groups={m} is smaller than the {len(existing_names)} existing "
                          "groups in the 'group' column.")
    b.m = m
    b.names = core.group_names(m, existing_names) if m is not None else None
    if m is not None:
        b.bounds = np.tile(np.array([[b.min_size, max_size]], dtype=np.int64), (m, 1))
