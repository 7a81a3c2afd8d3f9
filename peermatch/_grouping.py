"""An existing grouping, loaded once, with the hard-rule checks of a hand-made change.

Internal module shared by :mod:`peermatch.pairs`, :mod:`peermatch.calendar`,
:mod:`peermatch.lifecycle` and :mod:`peermatch.explain`. It writes no rule logic of its
own: every check goes through :func:`peermatch.rules.build_problem` and
:func:`peermatch.rules.check_grouping` (the same checks as ``MatchResult.validate``), plus
the tier / region separation that ``peermatch.report.from_grouping`` words the same way.
"""

from __future__ import annotations

import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .candidates import CandidateTable
from .errors import CandidatesError, ConfigError
from .rules import Rules

__all__ = ["Grouping", "with_groups", "natural_key", "load_scored", "find_member"]


def natural_key(name: str):
    """Sort key that puts group ``2`` before ``10``."""
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.casefold())
            for t in re.findall(r"\d+|\D+", str(name))] or [(2, 0, "")]


def with_groups(table: CandidateTable, names: Sequence[str]) -> CandidateTable:
    """A copy of ``table`` whose ``group`` column (cells and attribute) holds ``names``."""
    names = np.array([str(x) for x in names], dtype=object)
    frame = table.frame.copy()
    columns = dict(table.columns)
    col = columns.get("group")
    if col is None:
        col = "group"
        while col in frame.columns:
            col = "_" + col
        columns["group"] = col
    frame[col] = list(names)
    return replace(table, frame=frame, columns=columns, group=names)


def find_member(ids: Sequence[str], key: str, source: str = "") -> int:
    """Position of member ``key`` in ``ids``, or a ConfigError that suggests close ids."""
    ids = [str(x) for x in ids]
    key = str(key).strip()
    pos = {x: i for i, x in enumerate(ids)}
    if key in pos:
        return pos[key]
    folded = [x for x in ids if x.casefold() == key.casefold()]
    near = folded or difflib.get_close_matches(key, ids, n=3)
    hint = (f" Did you mean {', '.join(repr(x) for x in near)}?" if near
            else f" Ids look like {', '.join(ids[:3])}.")
    where = f" in {source}" if source else ""
    raise ConfigError(f"no member with id {key!r}{where} ({len(ids)} candidates).{hint}")


def load_scored(source, *, weights=None, columns=None):
    """``(table, features, affinity, labels, group_names, weights)`` of a grouping.

    ``source`` is a path, DataFrame, CandidateTable with a complete ``group`` column,
    or a successful :class:`~peermatch.result.MatchResult`. No rule is compiled.
    """
    from .match import _load_table, _score_table
    from .result import MatchResult
    from .scoring import Weights

    if isinstance(source, MatchResult):
        if not source.success:
            raise ConfigError(f"The grouping is not usable ({source.status}): there are no "
                              "groups to work on.")
        return (source.table, source.features, source.affinity,
                np.asarray(source.labels, dtype=np.int64), list(source.group_names),
                source.weights)
    table = _load_table(source, columns)
    if table.group is None:
        raise CandidatesError(f"{table.source}: no 'group' column, so there are no groups. Use "
                              "the output of 'peermatch match', or name your column with "
                              "--column group=YOURS.")
    groups = np.array([str(g).strip() for g in table.group], dtype=object)
    empty = np.flatnonzero(groups == "")
    if len(empty):
        lines = ", ".join(str(x) for x in table.lines[empty][:10])
        raise CandidatesError(f"{table.source}: {len(empty)} row(s) have an empty 'group' cell "
                              f"(line(s) {lines}). Place them first: 'peermatch repair' fills "
                              "open seats with new members.")
    names = sorted(dict.fromkeys(groups.tolist()), key=natural_key)
    index = {g: k for k, g in enumerate(names)}
    labels = np.array([index[g] for g in groups], dtype=np.int64)
    weights = weights if weights is not None else Weights()
    from .rules import Rules as _Rules

    feats, A = _score_table(table, weights, _Rules())
    return table, feats, A, labels, names, weights


@dataclass
class Grouping:
    """A grouping with its rules compiled for checking changes (internal).

    Labels are in the compiled problem's own order (``names[g]`` is group ``g``).
    ``keep_existing`` is not a rule of a hand-made move (the file *is* the existing
    grouping), so it is switched off here; locked groups stay locked.
    """

    table: CandidateTable
    features: Any
    affinity: Any
    weights: Any
    rules: Rules
    labels: np.ndarray
    names: list[str]
    lo: int
    hi: int
    compiled: Any = None
    parts: list = field(default_factory=list)
    part_of: np.ndarray | None = None
    _base: dict = field(default_factory=dict, repr=False)

    # -- construction --------------------------------------------------------------------
    @classmethod
    def from_source(cls, source, *, weights=None, rules: Rules | None = None,
                    group_size=None, columns=None) -> Grouping:
        """From a groups CSV / DataFrame / CandidateTable or a MatchResult."""
        from .report import from_grouping
        from .result import MatchResult

        if isinstance(source, MatchResult):
            return cls.from_result(source, group_size=group_size)
        res = from_grouping(source, weights=weights, rules=rules, group_size=group_size,
                            columns=columns)
        return cls.from_result(res, group_size=group_size)

    @classmethod
    def from_result(cls, result, *, group_size=None) -> Grouping:
        """From a successful MatchResult (of ``match``, ``from_grouping`` or ``repair``)."""
        if not result.success:
            raise ConfigError(f"The grouping is not usable ({result.status}): there are no "
                              "groups to check.")
        names = list(result.group_names)
        labels = np.asarray(result.labels, dtype=np.int64)
        lo, hi = _size_range(result, group_size)
        return cls.build(result.table, result.affinity, result.features, result.weights,
                         result.rules, [names[g] for g in labels], lo, hi)

    @classmethod
    def build(cls, table, A, features, weights, rules, row_groups, lo, hi) -> Grouping:
        from .rules import build_problem

        rules = rules or Rules()
        t = with_groups(table, row_groups)
        m = len(set(row_groups))
        crules = replace(rules, keep_existing=False, move_cost=None)
        compiled = build_problem(t, A, min_size=lo, max_size=hi, n_groups=m, rules=crules)
        p = compiled.problem
        bounds = np.tile(np.array([[lo, hi]], dtype=np.int64), (m, 1))
        locked = [g for g, nm in enumerate(compiled.group_names) if nm in rules.locked_groups]
        if locked and p.bounds is not None:
            bounds[locked] = p.bounds[locked]
        p.bounds = bounds
        labels = np.asarray(compiled.existing, dtype=np.int64)
        g = cls(table=t, features=features, affinity=A, weights=weights, rules=rules,
                labels=labels, names=[str(x) for x in compiled.group_names[:m]], lo=lo, hi=hi,
                compiled=compiled)
        if rules.separate_tiers or rules.same_region:
            from .match import _partition

            parts = _partition(t, rules, None)
            if len(parts) > 1:
                g.parts = parts
                g.part_of = np.empty(t.n, dtype=np.int64)
                for q, (_, rows) in enumerate(parts):
                    g.part_of[rows] = q
        return g

    # -- lookups -------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return [str(x) for x in self.table.ids]

    @property
    def m(self) -> int:
        return len(self.names)

    def member(self, key: str) -> int:
        return find_member(self.ids, key, str(self.table.source))

    def group(self, name: str) -> int:
        key = str(name).strip()
        if key in self.names:
            return self.names.index(key)
        shown = sorted(self.names, key=natural_key)
        raise ConfigError(f"no group {key!r} in {self.table.source}; the groups are "
                          f"{', '.join(shown[:20])}{' ...' if len(shown) > 20 else ''}.")

    def name_of(self, i: int) -> str:
        """Display name of member ``i`` (the ``name`` column when there is one)."""
        if self.features is not None:
            return str(self.features.names[i])
        return self.ids[i]

    def who(self, i: int) -> str:
        nm, key = self.name_of(i), self.ids[i]
        return key if nm == key else f"{nm} ({key})"

    def sizes(self, labels=None) -> np.ndarray:
        lab = self.labels if labels is None else labels
        return np.bincount(lab, minlength=self.m)

    # -- checks --------------------------------------------------------------------------
    def violations(self, labels=None, *, sizes: bool = True) -> list[str]:
        """Every broken hard rule (``sizes=False``: group sizes left out)."""
        from .rules import check_grouping

        lab = self.labels if labels is None else np.asarray(labels, dtype=np.int64)
        p = self.compiled.problem
        saved = p.bounds
        if not sizes:
            p.bounds = np.tile(np.array([[0, max(self.table.n, 1)]], dtype=np.int64),
                               (self.m, 1))
        try:
            out = list(check_grouping(self.compiled, lab))
        finally:
            p.bounds = saved
        out.extend(self._mixing(lab))
        return out

    def _mixing(self, labels: np.ndarray) -> list[str]:
        """Groups that mix tiers / regions, worded as ``from_grouping`` words them."""
        if self.part_of is None:
            return []
        out = []
        ids = self.ids
        for g in range(self.m):
            first: dict[int, int] = {}
            for i in np.flatnonzero(labels == g):
                first.setdefault(int(self.part_of[i]), int(i))
            reps = list(first.values())
            for j in reps[1:]:
                a, b = sorted((reps[0], j))
                why = (f"{self.parts[self.part_of[a]][0]} and {self.parts[self.part_of[b]][0]} "
                       "must not mix")
                out.append(f"group {self.names[g]} holds {ids[a]} and {ids[b]} ({why})")
        return out

    def baseline(self, *, sizes: bool = True) -> list[str]:
        if sizes not in self._base:
            self._base[sizes] = self.violations(sizes=sizes)
        return self._base[sizes]

    def new_violations(self, labels, *, sizes: bool = True) -> list[str]:
        """Rules ``labels`` breaks that the current grouping does not."""
        before = Counter(self.baseline(sizes=sizes))
        out = []
        for v in self.violations(labels, sizes=sizes):
            if before[v] > 0:
                before[v] -= 1
            else:
                out.append(v)
        return out

    def fixed_violations(self, labels) -> list[str]:
        """Rules the current grouping breaks that ``labels`` no longer breaks."""
        after = Counter(self.violations(labels))
        out = []
        for v in self.baseline():
            if after[v] > 0:
                after[v] -= 1
            else:
                out.append(v)
        return out

    def score(self, labels=None) -> float:
        """Total affinity (with the rules' soft terms), as ``MatchResult.score``."""
        from .scoring import grouping_score

        lab = self.labels if labels is None else labels
        return float(grouping_score(self.compiled.problem.affinity, lab))

    def mean_affinity(self, i: int, g: int, labels=None) -> float:
        """Mean affinity of member ``i`` to the members of group ``g`` other than ``i``."""
        from .affinity import block_of

        lab = self.labels if labels is None else labels
        mates = np.flatnonzero((lab == g) & (np.arange(len(lab)) != i))
        if not len(mates):
            return 0.0
        return float(block_of(self.affinity, [i], mates)[0].mean())

    def moved(self, *moves: tuple[int, int]) -> np.ndarray:
        lab = self.labels.copy()
        for i, g in moves:
            lab[int(i)] = int(g)
        return lab

    def legal_join(self, i: int, g: int) -> tuple[list[str], bool]:
        """``(rules broken other than sizes, has a free seat)`` if ``i`` moved to ``g``."""
        lab = self.moved((i, g))
        broken = self.new_violations(lab, sizes=False)
        hi = int(self.compiled.problem.bounds[g, 1])
        return broken, bool(self.sizes()[g] < hi)


def _size_range(result, group_size) -> tuple[int, int]:
    gs = (None, None) if group_size is None else tuple(group_size)
    bounds = result.size_bounds()
    sizes = np.bincount(result.labels[result.labels >= 0])
    lo = gs[0] if gs[0] is not None else (bounds[0] if bounds else int(sizes.min()))
    hi = gs[1] if gs[1] is not None else (bounds[1] if bounds else int(sizes.max()))
    lo, hi = int(lo), int(hi)
    if lo < 1 or lo > hi:
        raise ConfigError(f"min_size={lo} and max_size={hi}: need 1 <= min_size <= max_size.")
    return lo, hi
