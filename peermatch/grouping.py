"""An existing grouping, read once: the one way a grouping that is not being solved comes in.

A grouping is a candidates table whose ``group`` column says who is where (the output of
``peermatch match``), or a :class:`~peermatch.result.MatchResult`. :func:`read_grouping`
reads either into a :class:`Grouping`; ``report``, ``explain``, ``seats``, ``pairs``,
``calendar``, ``move`` and ``repair`` all start from it, so the same missing column gives
the same error everywhere and groups are listed in one order (the natural order of their
names: ``2`` before ``10``).

A :class:`Grouping` writes no rule logic of its own: it compiles the rules with
:func:`peermatch.rules.build_problem` and checks them with
:func:`peermatch.rules.check_grouping` (the checks of ``MatchResult.validate``), plus the
tier / region separation, worded as ``peermatch.report.from_grouping`` words it.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ._compat import group_size_pair, renamed_keywords
from .candidates import CandidateTable, text_key
from .core import block, natural_key
from .errors import CandidatesError, ConfigError
from .rules import Compiled, Rules
from .scored import load_table, score_table

__all__ = ["Grouping", "read_grouping", "natural_key", "with_groups", "find_member",
           "size_range", "check_bounds"]


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
    """Position of member ``key`` in ``ids``, or a ConfigError that suggests close ids.

    Ids are compared by :func:`peermatch.candidates.text_key` (trimmed, NFC), so an id
    typed in another Unicode form finds its member."""
    ids = [str(x) for x in ids]
    key = text_key(str(key))
    pos = {text_key(x): i for i, x in enumerate(ids)}
    if key in pos:
        return pos[key]
    folded = [x for x in ids if text_key(x).casefold() == key.casefold()]
    near = folded or difflib.get_close_matches(key, ids, n=3)
    hint = (f" Did you mean {', '.join(repr(x) for x in near)}?" if near
            else f" Ids look like {', '.join(ids[:3])}.")
    where = f" in {source}" if source else ""
    raise ConfigError(f"no member with id {key!r}{where} ({len(ids)} candidates).{hint}")


def check_bounds(where: str, min_size: Any, max_size: Any, *,
                 optional: bool = False) -> tuple[Any, Any]:
    """``min_size`` and ``max_size`` as ints (None stays None when ``optional``).

    Raises
    ------
    ConfigError
        A bound that is not an int, naming the parameter and the function ``where``.

    >>> check_bounds("match", 4, 6.0), check_bounds("report", None, 9, optional=True)
    ((4, 6), (None, 9))
    """
    out = []
    for name, x in (("min_size", min_size), ("max_size", max_size)):
        if x is None and optional:
            out.append(None)
            continue
        try:
            out.append(int(x))
        except (TypeError, ValueError):
            raise ConfigError(f"The '{name}' parameter of {where} must be an int"
                              f"{' or None' if optional else ''}. Got {x!r} instead.") from None
    return out[0], out[1]


def size_range(min_size: int | None, max_size: int | None, counts) -> tuple[int, int]:
    """The ``(min, max)`` group size to check a grouping against.

    A missing (None) bound is the smallest / largest group of the grouping itself
    (``counts``), clipped to the other bound, so only the sizes you state are checked.

    >>> size_range(None, None, [8, 10]), size_range(9, None, [8, 10]), size_range(None, 7, [8])
    ((8, 10), (9, 10), (7, 7))
    """
    lo, hi = check_bounds("read_grouping", min_size, max_size, optional=True)
    counts = np.asarray(counts, dtype=np.int64)
    smallest = int(counts.min()) if len(counts) else 1
    largest = int(counts.max()) if len(counts) else 1
    if lo is None:
        lo = smallest if hi is None else min(smallest, hi)
    if hi is None:
        hi = max(largest, lo)
    if lo < 1 or lo > hi:
        raise ConfigError(f"min_size={lo} and max_size={hi}: need 1 <= min_size <= max_size.")
    return lo, hi


@renamed_keywords(source="groups")
@group_size_pair
def read_grouping(groups, *, weights: Any = None, columns: Mapping[str, str] | None = None,
                  rules: Rules | None = None, min_size: int | None = None,
                  max_size: int | None = None, allow_unplaced: bool = False) -> Grouping:
    """Read an existing grouping: the one way a grouping comes in.

    Parameters
    ----------
    groups : path, DataFrame, CandidateTable or MatchResult
        Candidates with a ``group`` column (any non-empty label per row), such as the
        CSV written by ``peermatch match``; or a successful result (its own table,
        scores, rules and weights are used, and ``weights``, ``rules`` and ``columns``
        are ignored). (Formerly ``source``; that keyword still works, with a
        DeprecationWarning.)
    weights : Weights, optional
        Scoring weights (default ``Weights()``); the table is scored on first use.
    columns : dict, optional
        Canonical column name -> column name in the table (e.g. ``{"group": "Team"}``).
    rules : Rules, optional
        Hard rules to check changes against (default ``Rules()``).
    min_size, max_size : int, optional
        Allowed group sizes; a bound left out (None) is the smallest / largest group
        of the grouping itself (see :func:`size_range`). ``group_size=(min, max)`` is
        the deprecated spelling.
    allow_unplaced : bool, default=False
        Accept rows with an empty ``group`` cell (new members, a prospect): their label
        is ``-1``. By default such a row is an error.

    Returns
    -------
    Grouping

    Raises
    ------
    CandidatesError
        The table cannot be read, has no ``group`` column, or a row has no group.
    ConfigError
        A setting is invalid, or a result holds no grouping.

    Examples
    --------
    >>> import peermatch as pm
    >>> df = pm.synth_candidates(12, seed=1)
    >>> df["group"] = ["10", "2"] * 6
    >>> g = read_grouping(df)
    >>> g.names, [g.names[k] for k in g.order], (g.lo, g.hi)
    (['10', '2'], ['2', '10'], (6, 6))
    """
    as_grouping = getattr(groups, "as_grouping", None)
    if callable(as_grouping):  # a MatchResult (or anything that holds a grouping)
        return as_grouping(min_size=min_size, max_size=max_size)
    table = load_table(groups, columns)
    if table.group is None:
        raise CandidatesError(
            f"{table.source}: no 'group' column, so there are no groups to work on. Use the "
            "output of 'peermatch match', or name your column with --column group=YOURS "
            "(columns={'group': 'YOURS'} in Python).")
    cells = np.array([str(g).strip() for g in table.group], dtype=object)
    empty = np.flatnonzero(cells == "")
    if len(empty) and not allow_unplaced:
        lines = ", ".join(str(x) for x in table.lines[empty][:10])
        more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
        raise CandidatesError(
            f"{table.source}: {len(empty)} row(s) have an empty 'group' cell (line(s) "
            f"{lines}{more}). Every candidate needs a group here; fill them in, or place new "
            "candidates with 'peermatch repair' (or 'peermatch match').")
    return Grouping(table, weights=weights, rules=rules, min_size=min_size, max_size=max_size)


class Grouping:
    """An existing grouping with its scores and rules, for checking and describing it.

    Make one with :func:`read_grouping`. Groups are numbered as the rule engine numbers
    them (the order in which they first appear in the table): ``names[g]`` is group
    ``g`` and ``labels[i]`` member ``i``'s group (``-1``: no group yet); :attr:`order`
    lists them in the natural order of their names, the order every listing uses.
    Features and affinity are computed on first use; the rules are compiled on first
    use for checking changes (``keep_existing`` is off: a hand-made move *is* a change
    of the existing grouping; locked groups stay locked).

    Attributes
    ----------
    table : CandidateTable
        The candidates, with the ``group`` column.
    rules : Rules
    weights : Weights
    labels : ndarray of shape (n,)
    names : list of str
    lo, hi : int
        Group sizes the checks allow.
    """

    @group_size_pair
    def __init__(self, table: CandidateTable, *, weights: Any = None,
                 rules: Rules | None = None, min_size: int | None = None,
                 max_size: int | None = None, features: Any = None,
                 affinity: Any = None) -> None:
        from .scoring import Weights

        self.table = table
        self.rules = rules or Rules()
        self.weights = weights if weights is not None else Weights()
        cells = [str(g).strip() for g in table.group]
        self.names = [str(g) for g in dict.fromkeys(c for c in cells if c)]
        index = {g: k for k, g in enumerate(self.names)}
        self.labels = np.array([index.get(c, -1) for c in cells], dtype=np.int64)
        counts = np.bincount(self.labels[self.labels >= 0], minlength=len(self.names))
        self.lo, self.hi = size_range(min_size, max_size, counts)
        self._features, self._affinity = features, affinity
        self._compiled: Compiled | None = None
        self._loose: Compiled | None = None
        self.parts: list = []
        self.part_of: np.ndarray | None = None
        self._base: dict = {}

    # -- construction --------------------------------------------------------------------
    @classmethod
    @group_size_pair
    def from_result(cls, result, *, min_size: int | None = None,
                    max_size: int | None = None) -> Grouping:
        """From a successful MatchResult (of ``match``, ``from_grouping`` or ``repair``)."""
        if not result.success:
            raise ConfigError(f"The grouping is not usable ({result.status}): there are no "
                              "groups to work on.")
        names = list(result.group_names)
        labels = np.asarray(result.labels, dtype=np.int64)
        table = with_groups(result.table, [names[g] for g in labels])
        if result.rules.common_slot:  # the slot each group meets at, as result.groups has it
            slots = result.meeting_slots
            table.frame["meeting_slot"] = [slots[g] for g in labels]
        bounds = result.size_bounds()
        if min_size is None or max_size is None:
            sizes = np.bincount(labels)
            if min_size is None:
                min_size = bounds[0] if bounds else int(sizes.min())
            if max_size is None:
                max_size = bounds[1] if bounds else int(sizes.max())
        return cls(table, weights=result.weights, rules=result.rules, min_size=min_size,
                   max_size=max_size,
                   features=result.features, affinity=result.affinity)

    @classmethod
    def build(cls, table, A, features, weights, rules, row_groups, lo, hi) -> Grouping:
        """The grouping ``row_groups`` (a name per row) of ``table``, already scored."""
        return cls(with_groups(table, row_groups), weights=weights, rules=rules,
                   min_size=lo, max_size=hi, features=features, affinity=A)

    # -- scores --------------------------------------------------------------------------
    @property
    def features(self):
        """The encoded candidates (computed on first use)."""
        if self._features is None:
            self._features, self._affinity = score_table(self.table, self.weights, self.rules)
        return self._features

    @property
    def affinity(self):
        """The pair affinity (a matrix or a FeatureAffinity; computed on first use)."""
        if self._affinity is None:
            self._features, self._affinity = score_table(self.table, self.weights, self.rules)
        return self._affinity

    # -- the rules -----------------------------------------------------------------------
    def compile(self, *, moves: bool = True) -> Compiled:
        """The rules compiled on this grouping, with its group sizes as bounds.

        ``moves=True`` (what :attr:`compiled` holds): for checking changes, with
        ``keep_existing`` and ``move_cost`` off; a locked group keeps its exact size.
        ``moves=False``: the grouping as it is, re-scored: the rules as given, every
        group within ``lo``-``hi``, and groups that mix tiers / regions named as broken
        pairs (:func:`peermatch.rules.keep_parts_apart`).
        """
        from .rules import build_problem, keep_parts_apart

        rules = replace(self.rules, keep_existing=False, move_cost=None) if moves else self.rules
        m = len(self.names)
        compiled = build_problem(self.table, self.affinity, min_size=self.lo, max_size=self.hi,
                                 n_groups=m, rules=rules)
        p = compiled.problem
        bounds = np.tile(np.array([[self.lo, self.hi]], dtype=np.int64), (m, 1))
        if moves and p.bounds is not None:
            locked = [g for g, nm in enumerate(compiled.group_names[:m])
                      if nm in self.rules.locked_groups]
            bounds[locked] = p.bounds[locked]
        # Sizes are checked against the range stated, also for groups already outside it.
        compiled = replace(compiled, problem=replace(p, bounds=bounds))
        if not moves:
            keep_parts_apart(compiled, self.table, self.rules, self.labels)
        return compiled

    @property
    def compiled(self) -> Compiled:
        """:meth:`compile` for checking changes (compiled on first use)."""
        if self._compiled is None:
            self._compiled = self.compile()
            if self.rules.separate_tiers or self.rules.same_region:
                from .rules import partition

                parts = partition(self.table, self.rules, None)
                if len(parts) > 1:
                    self.parts = parts
                    self.part_of = np.empty(self.table.n, dtype=np.int64)
                    for q, (_, rows) in enumerate(parts):
                        self.part_of[rows] = q
        return self._compiled

    def _sizes_free(self) -> Compiled:
        """:attr:`compiled` with every group size allowed (the rules but sizes)."""
        if self._loose is None:
            c = self.compiled
            loose = np.tile(np.array([[0, max(self.table.n, 1)]], dtype=np.int64), (self.m, 1))
            self._loose = replace(c, problem=replace(c.problem, bounds=loose))
        return self._loose

    # -- lookups -------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        return [str(x) for x in self.table.ids]

    @property
    def m(self) -> int:
        """The number of groups."""
        return len(self.names)

    @property
    def order(self) -> list[int]:
        """The groups in the natural order of their names (``2`` before ``10``)."""
        return sorted(range(self.m), key=lambda g: natural_key(self.names[g]))

    def member(self, key: str) -> int:
        """Position of the member with id ``key`` (a ConfigError suggests close ids)."""
        return find_member(self.ids, key, str(self.table.source))

    def group(self, name: str) -> int:
        """Label of the group called ``name``."""
        key = str(name).strip()
        if key in self.names:
            return self.names.index(key)
        shown = [self.names[g] for g in self.order]
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
        return np.bincount(lab[lab >= 0], minlength=self.m)

    # -- checks --------------------------------------------------------------------------
    def violations(self, labels=None, *, sizes: bool = True) -> list[str]:
        """Every broken hard rule (``sizes=False``: group sizes left out)."""
        from .rules import check_grouping

        lab = self.labels if labels is None else np.asarray(labels, dtype=np.int64)
        out = list(check_grouping(self.compiled if sizes else self._sizes_free(), lab))
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
        """The rules the grouping as it is breaks (cached)."""
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

        lab = self.labels if labels is None else labels
        mates = np.flatnonzero((lab == g) & (np.arange(len(lab)) != i))
        if not len(mates):
            return 0.0
        return float(block(self.affinity, [i], mates)[0].mean())

    def moved(self, *moves: tuple[int, int]) -> np.ndarray:
        """The labels with each ``(member, group)`` move made."""
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
