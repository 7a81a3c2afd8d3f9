"""Hard rules: who may not (or must) share a group, and checks that explain clashes.

Rules are declared on the candidates table (columns, ids) by :class:`Rules` and
compiled into arrays of a :class:`~peermatch.problem.Problem` by
:func:`build_problem`. :func:`diagnose` runs cheap checks before any solving and
says, in the rules' own words, what makes a request impossible;
:func:`check_grouping` verifies a finished grouping against every rule.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from .affinity import is_dense
from .candidates import CandidateTable
from .errors import ConfigError
from .features import normalize_term, sector_key
from .problem import GroupSum, Problem

__all__ = ["Rules", "Compiled", "SoftTerm", "Part", "competitor_classes", "conflict_pairs",
           "read_pairs", "build_problem", "diagnose", "check_grouping", "meeting_slots",
           "check_sizes", "partition", "compile_parts", "Violation", "check_violations",
           "RULE_FAMILIES", "rule_families", "keep_parts_apart"]


#: How labels are compared (trimmed, case-folded, inner whitespace collapsed): the
#: one normaliser, shared with the features.
_norm = normalize_term

#: The competitor columns by default; a default column the table lacks drops out of
#: the rule, a column named explicitly must exist.
DEFAULT_COMPETITORS = ("industry", "region")


@dataclass(frozen=True)
class Rules:
    """The hard rules (and rule-like soft terms) of a grouping, declared on the table.

    Every setting is optional; the defaults keep competitors and declared conflicts
    apart and nothing else. See ``docs/rules.md`` for the TOML form of each.

    Parameters
    ----------
    competitors : tuple of str, default=("industry", "region")
        Candidates equal on all of these columns compete and never share a group.
        Values are compared trimmed and case-insensitively. With the default, a table
        without a region column compares industries alone; any column named
        explicitly must exist. ``()`` switches the rule off. A candidate whose region cell is empty
        competes with the same industry in every region.
    industry_depth : int, optional
        For numeric industry codes (e.g. NAICS), compare only the first
        ``industry_depth`` digits, so ``541511`` and ``541512`` compete at depth 4; a
        plain label is never cut. Also defines the *sector* used by
        ``max_per_group={"sector": c}`` when the table has no ``sector`` column.
    competitor_exceptions : tuple of str, default=()
        Industries (labels, or codes at depth) exempt from the competitor rule.
    conflicts : bool, default=True
        Honour the ``conflicts`` column (ids separated by ``;``; symmetric).
    conflict_file : str or DataFrame, optional
        Extra conflict pairs: a CSV with columns ``id_a, id_b`` and optionally
        ``reason`` (competitor, customer, supplier, personal, ...).
    together : tuple of (str, str), default=()
        Pairs of ids that must share a group.
    pins : dict of str to str, default={}
        Member id -> group name that member must join.
    allowed_groups : dict of str to list of str, default={}
        Member id -> the only group names that member may join.
    locked_groups : tuple of str, default=()
        Existing groups (from the ``group`` column) that must stay exactly as they are.
    max_per_group : dict of str to int, default={}
        Column -> at most this many members sharing one value of it in a group
        (``"sector"`` = industry at ``industry_depth``).
    at_least_one : tuple of (str, str), default=()
        ``(column, value)`` pairs: every group has a member with that value (for list
        columns such as ``expertise``: a member listing it).
    no_isolated : tuple of str, default=()
        Columns (e.g. a gender or minority column) for which nobody may be the only
        member of their value in a group.
    balance : dict of str to float, default={}
        Numeric column -> tolerance: every group's mean is within this distance of
        the overall mean (hard). ``"20%"`` means 20 % of the overall mean.
    balance_penalty : dict of str to float, default={}
        Numeric column -> weight of a soft penalty on the spread of group means
        (folded into the affinity, see ``docs/rules.md``).
    spread : tuple of str, default=()
        Categorical columns whose members spread evenly over the groups (each group
        holds the floor or the ceiling of its share of every value).
    separate_tiers : bool, default=False
        Never mix tiers (the ``tier`` column): each tier is grouped on its own.
    same_region : bool, default=False
        In-person groups: every group stays within one region.
    common_slot : bool, default=False
        Every group has a meeting slot (``availability``) shared by at least
        ``slot_quorum`` of its members; the output names it.
    slot_quorum : float, default=1.0
        Share of members who must share the slot.
    keep_existing : bool, default=True
        With a ``group`` column, existing members stay in their group and new
        candidates fill the open seats (or form new groups).
    move_cost : float, optional
        With ``keep_existing=False``: affinity bonus for keeping former groupmates
        together, i.e. a cost of moving an existing member.
    history : tuple of str or DataFrame, default=()
        Previous groupings (tables with ``id`` and ``group``) for rounds without repeats.
    max_repeats : int, optional
        Hard: no pair may meet again more than this many times (0 = never again).
    repeat_penalty : float, default=0.0
        Soft: affinity subtracted per previous meeting of a pair.

    Examples
    --------
    >>> Rules().competitors
    ('industry', 'region')
    >>> r = Rules(competitors=("industry",), industry_depth=4, max_per_group={"sector": 2})
    >>> r.max_per_group
    {'sector': 2}
    """

    competitors: tuple[str, ...] = ("industry", "region")
    industry_depth: int | None = None
    competitor_exceptions: tuple[str, ...] = ()
    conflicts: bool = True
    conflict_file: Any = None
    together: tuple[tuple[str, str], ...] = ()
    pins: Mapping[str, str] = field(default_factory=dict)
    allowed_groups: Mapping[str, Sequence[str]] = field(default_factory=dict)
    locked_groups: tuple[str, ...] = ()
    max_per_group: Mapping[str, int] = field(default_factory=dict)
    at_least_one: tuple[tuple[str, str], ...] = ()
    no_isolated: tuple[str, ...] = ()
    balance: Mapping[str, float | str] = field(default_factory=dict)
    balance_penalty: Mapping[str, float] = field(default_factory=dict)
    spread: tuple[str, ...] = ()
    separate_tiers: bool = False
    same_region: bool = False
    common_slot: bool = False
    slot_quorum: float = 1.0
    keep_existing: bool = True
    move_cost: float | None = None
    history: tuple[Any, ...] = ()
    max_repeats: int | None = None
    repeat_penalty: float = 0.0

    def __post_init__(self) -> None:
        _check_rule_types(self)

        def fix(name, conv):
            object.__setattr__(self, name, conv(getattr(self, name)))

        def tup(x):
            if x is None:
                return ()
            return (x,) if isinstance(x, str) else tuple(x)

        fix("competitors", tup)
        fix("competitor_exceptions", tup)
        fix("locked_groups", lambda x: tuple(str(v) for v in tup(x)))
        fix("no_isolated", tup)
        fix("spread", tup)
        fix("together", lambda x: tuple((str(a), str(b)) for a, b in (x or ())))
        fix("at_least_one", lambda x: tuple((str(a), str(b)) for a, b in (x or ())))
        fix("history", lambda x: (x,) if isinstance(x, (str, os.PathLike, pd.DataFrame))
            else tuple(x or ()))
        fix("pins", lambda x: {str(k): str(v) for k, v in dict(x or {}).items()})
        fix("allowed_groups", lambda x: {str(k): [str(v) for v in tup(vs)]
                                         for k, vs in dict(x or {}).items()})
        fix("max_per_group", lambda x: dict(x or {}))
        fix("balance", lambda x: dict(x or {}))
        fix("balance_penalty", lambda x: dict(x or {}))
        if self.industry_depth is not None and (
            not _is_int(self.industry_depth) or self.industry_depth < 1
        ):
            raise ConfigError("The 'industry_depth' parameter of Rules must be a positive int or "
                              f"None. Got {self.industry_depth!r} instead.")
        for col, cap in self.max_per_group.items():
            if not _is_int(cap) or cap < 1:
                raise ConfigError(f"The 'max_per_group' cap of {col!r} must be a positive int. "
                                  f"Got {cap!r} instead.")
        if not 0.0 < float(self.slot_quorum) <= 1.0:
            raise ConfigError("The 'slot_quorum' parameter of Rules must be in (0, 1]. "
                              f"Got {self.slot_quorum!r} instead.")
        if self.max_repeats is not None and (not _is_int(self.max_repeats)
                                             or self.max_repeats < 0):
            raise ConfigError("The 'max_repeats' parameter of Rules must be an int >= 0 or None. "
                              f"Got {self.max_repeats!r} instead.")
        for name in ("repeat_penalty", "move_cost"):
            v = getattr(self, name)
            if v is not None and not (_is_number(v) and np.isfinite(v) and v >= 0):
                raise ConfigError(f"The {name!r} parameter of Rules must be a finite number "
                                  f">= 0. Got {v!r} instead.")

    @property
    def needs_fixed_count(self) -> bool:
        """True when a rule refers to group names or shares, so the count must be fixed."""
        return bool(self.pins or self.allowed_groups or self.at_least_one or self.spread
                    or self.balance)

    def to_dict(self) -> dict:
        """The rules as a plain dict (TOML-ready; DataFrames are left out)."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, pd.DataFrame):
                continue
            if isinstance(v, tuple):
                v = [list(x) if isinstance(x, tuple) else x for x in v
                     if not isinstance(x, pd.DataFrame)]
            out[f.name] = v
        return out


_BOOL_RULES = ("conflicts", "separate_tiers", "same_region", "common_slot", "keep_existing")
_NAME_LISTS = ("competitors", "competitor_exceptions", "no_isolated", "spread")
_PAIR_LISTS = ("together", "at_least_one")
_MAPPINGS = ("pins", "allowed_groups", "max_per_group", "balance", "balance_penalty")


def _is_int(v) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(
        v, (bool, np.bool_))


def _check_rule_types(r: Rules) -> None:
    """Reject settings of the wrong type before anything uses them.

    TOML and Python both land here, so ``separate_tiers = "no"`` fails instead of
    counting as true, and a number where a list of column names belongs fails
    instead of being taken apart character by character.
    """
    def bad(name, want, v):
        return ConfigError(f"The {name!r} parameter of Rules must be {want}. Got {v!r} "
                           "instead.")

    for name in _BOOL_RULES:
        v = getattr(r, name)
        if not isinstance(v, (bool, np.bool_)):
            raise bad(name, "true or false", v)
    for name in _NAME_LISTS:
        v = getattr(r, name)
        items = (v,) if isinstance(v, str) else v
        if v is not None and (not isinstance(items, (list, tuple))
                              or not all(isinstance(x, str) for x in items)):
            raise bad(name, "a list of strings", v)
    v = r.locked_groups
    items = (v,) if isinstance(v, (str, int)) else v
    if not isinstance(items, (list, tuple)) or not all(
            isinstance(x, (str, int)) and not isinstance(x, bool) for x in items):
        raise bad("locked_groups", "a list of group names", v)
    for name in _PAIR_LISTS:
        v = getattr(r, name)
        if v is not None and (not isinstance(v, (list, tuple)) or not all(
                isinstance(x, (list, tuple)) and len(x) == 2
                and all(isinstance(y, (str, int)) and not isinstance(y, bool) for y in x)
                for x in v)):
            raise bad(name, "a list of [a, b] pairs of strings", v)
    for name in _MAPPINGS:
        v = getattr(r, name)
        if v is not None and not isinstance(v, Mapping):
            raise bad(name, "a table (mapping)", v)
    for k, g in dict(r.pins or {}).items():
        if not isinstance(g, (str, int)) or isinstance(g, bool):
            raise bad("pins", "a table of member id = group name", {k: g})
    for k, gs in dict(r.allowed_groups or {}).items():
        items = (gs,) if isinstance(gs, str) else gs
        if not isinstance(items, (list, tuple)) or not all(
                isinstance(x, (str, int)) and not isinstance(x, bool) for x in items):
            raise bad("allowed_groups", "a table of member id = [group names]", {k: gs})
    for k, t in dict(r.balance or {}).items():
        ok = (_is_number(t) and np.isfinite(t) and t >= 0) or (
            isinstance(t, str) and re.fullmatch(r"\s*\d+(\.\d*)?\s*%\s*", t) is not None)
        if not ok:
            raise bad("balance", "a table of column = tolerance (a number >= 0 or a "
                      "percentage such as \"20%\")", {k: t})
    for k, lam in dict(r.balance_penalty or {}).items():
        if not (_is_number(lam) and np.isfinite(lam) and lam >= 0):
            raise bad("balance_penalty", "a table of column = weight (a number >= 0)", {k: lam})
    if not _is_number(r.slot_quorum):
        raise bad("slot_quorum", "a number in (0, 1]", r.slot_quorum)
    if r.conflict_file is not None and not isinstance(r.conflict_file,
                                                      (str, os.PathLike, pd.DataFrame)):
        raise bad("conflict_file", "a file name or a DataFrame", r.conflict_file)
    hist = (r.history,) if isinstance(r.history, (str, os.PathLike, pd.DataFrame)) else r.history
    if hist is not None and (not isinstance(hist, (list, tuple)) or not all(
            isinstance(h, (str, os.PathLike, pd.DataFrame)) for h in hist)):
        raise bad("history", "a list of file names or DataFrames", r.history)


def _column_values(table: CandidateTable, col: str, depth: int | None) -> np.ndarray | None:
    """Normalised values of a rule column, or None when the table lacks it."""
    if col == "sector" and not _has_column(table, "sector"):
        col, depth = "industry", depth
    elif col == "sector":
        depth = None
    if col == "industry":
        vals = table.industry
        if depth is not None:
            vals = np.array([sector_key(v, depth) for v in vals], dtype=object)
    elif col in ("region", "tier", "group") and getattr(table, col) is not None:
        vals = getattr(table, col)
    elif col in table.frame.columns:
        vals = table.frame[col].to_numpy(dtype=object)
    elif col in table.columns:
        vals = table.frame[table.columns[col]].to_numpy(dtype=object)
    else:
        return None
    return np.array([_norm(v) for v in vals], dtype=object)


def competitor_classes(table: CandidateTable, rules: Rules) -> tuple[list[np.ndarray],
                                                                      list[str], np.ndarray]:
    """Sets of mutual competitors under ``rules``.

    Returns
    -------
    classes : list of ndarray of int
        Row positions of each set of two or more candidates that compete with one
        another (equal on every competitor column).
    labels : list of str
        A readable description of each class, e.g. ``"industry 'Retail' in region 'West'"``.
    wildcard_pairs : ndarray of shape (k, 2)
        Extra competitor pairs for candidates whose non-industry competitor cells are
        empty (they compete with every candidate of their industry).

    Examples
    --------
    >>> import pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": ["a", "b", "c"], "industry": ["Retail", "retail ",
    ...     "Law"], "employees": ["5", "6", "7"]}))
    >>> classes, labels, _ = competitor_classes(t, Rules())
    >>> [c.tolist() for c in classes], labels
    ([[0, 1]], ["industry 'Retail'"])
    """
    cols = [c for c in rules.competitors]
    values = {}
    for c in cols:
        v = _column_values(table, c, rules.industry_depth if c in ("industry", "sector")
                           else None)
        if v is not None:
            values[c] = v
        elif not (rules.competitors == DEFAULT_COMPETITORS and c != "industry"):
            raise ConfigError(f"{table.source}: the competitor rule names column {c!r}, which "
                              f"the table does not have. Columns found: "
                              f"{list(table.frame.columns)}. Fix the column name (or map it "
                              "with --column), or leave it out of --competitors.")
    empty = np.zeros((0, 2), dtype=np.int64)
    if not values:
        return [], [], empty
    exceptions = {_norm(x) for x in rules.competitor_exceptions}
    if "industry" in values and exceptions:
        exempt = np.array([v in exceptions for v in values["industry"]])
    else:
        exempt = np.zeros(table.n, dtype=bool)
    keys = list(values)
    others = [k for k in keys if k != "industry"]
    buckets: dict[tuple, list[int]] = defaultdict(list)
    wild: list[int] = []
    for i in range(table.n):
        if exempt[i]:
            continue
        if any(values[k][i] == "" for k in others):
            wild.append(i)
            continue
        buckets[tuple(values[k][i] for k in keys)].append(i)
    # Show each class with the spelling of its first member, not the normalised key.
    classes, labels = [], []
    for rows in buckets.values():
        if len(rows) < 2:
            continue
        classes.append(np.array(rows, dtype=np.int64))
        first = rows[0]
        parts = []
        for k in keys:
            raw = _raw_value(table, k, first, rules.industry_depth)
            parts.append(f"{k} '{raw}'" if k == keys[0] else f"in {k} '{raw}'")
        labels.append(" ".join(parts))
    pairs = []
    if wild:
        # A wildcard row competes with every row sharing its non-empty competitor values.
        for i in wild:
            mask = np.ones(table.n, dtype=bool)
            for k in keys:
                if values[k][i] != "":
                    mask &= values[k] == values[k][i]
            mask &= ~exempt
            mask[i] = False
            for j in np.flatnonzero(mask):
                pairs.append((min(i, j), max(i, j)))
    wp = np.unique(np.array(pairs, dtype=np.int64), axis=0) if pairs else empty
    return classes, labels, wp


def _has_column(table: CandidateTable, col: str) -> bool:
    """Whether ``col`` is a column of the table (its own name or a mapped canonical one)."""
    return col in table.frame.columns or col in table.columns


def _raw_value(table: CandidateTable, col: str, i: int, depth: int | None) -> str:
    if col == "sector" and not _has_column(table, "sector"):
        col = "industry"
    if col == "industry":
        v = str(table.industry[i])
        return sector_key(v.strip(), depth) if depth is not None else v
    arr = getattr(table, col, None) if col in ("region", "tier", "group") else None
    if arr is not None:
        return str(arr[i])
    name = col if col in table.frame.columns else table.columns.get(col, col)
    return str(table.frame[name].iloc[i]).strip()


def conflict_pairs(table: CandidateTable) -> np.ndarray:
    """Explicit conflict pairs from the ``conflicts`` column, as sorted index pairs.

    Conflicts are symmetric: listing ``b`` on ``a``'s row is enough.

    >>> import pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": ["a", "b", "c"], "industry": ["x", "y", "z"],
    ...     "employees": ["1", "2", "3"], "conflicts": ["c", "", ""]}))
    >>> conflict_pairs(t).tolist()
    [[0, 2]]
    """
    pos = {str(x): i for i, x in enumerate(table.ids)}
    pairs = set()
    for i, lst in enumerate(table.conflicts or []):
        for other in lst:
            j = pos.get(str(other))
            if j is not None and j != i:
                pairs.add((min(i, j), max(i, j)))
    if not pairs:
        return np.zeros((0, 2), dtype=np.int64)
    return np.array(sorted(pairs), dtype=np.int64)


def _list_values(table: CandidateTable, col: str) -> list[list[str]] | None:
    """Normalised tokens of a list column (goals, expertise, availability), or None."""
    if col in ("goals", "expertise", "availability", "conflicts"):
        lists = getattr(table, col)
        if col not in table.columns:
            return None
        return [[_norm(t) for t in lst] for lst in lists]
    return None


def _require_column(table: CandidateTable, col: str, rule: str) -> None:
    if col in ("industry", "sector"):  # "sector" without such a column: industry at depth
        return
    if _list_values(table, col) is None and _column_values(table, col, None) is None:
        raise ConfigError(f"{table.source}: rule {rule} names column {col!r}, which the table "
                          f"does not have. Columns found: {list(table.frame.columns)}.")


def _ids_to_rows(table: CandidateTable, ids, rule: str,
                 elsewhere: frozenset[str] = frozenset()) -> list[int | None]:
    """Row of each id; None for ids of another part (``elsewhere``); unknown ids raise."""
    pos = {str(x): i for i, x in enumerate(table.ids)}
    missing = [str(x) for x in ids if str(x) not in pos and str(x) not in elsewhere]
    if missing:
        raise ConfigError(f"{table.source}: rule {rule} names unknown candidate id(s) "
                          f"{missing[:10]}{' ...' if len(missing) > 10 else ''}; check the ids.")
    return [pos.get(str(x)) for x in ids]


def read_pairs(source, table: CandidateTable,
               elsewhere: frozenset[str] = frozenset()) -> tuple[np.ndarray, list[str]]:
    """Conflict pairs from a pairs file (``id_a,id_b[,reason]``) as index pairs and reasons.

    Ids in neither ``table`` nor ``elsewhere`` (ids of other parts of a split table)
    raise :class:`~peermatch.errors.CandidatesError` naming the file, line and id.
    """
    from .errors import CandidatesError

    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<conflict pairs>"
    if isinstance(source, pd.DataFrame):
        df = source.astype(str)
    else:
        df = _read_csv(source, name, "conflict pairs", "id_a,id_b,reason")
    cols = {c.strip().casefold(): c for c in df.columns}
    if "id_a" not in cols or "id_b" not in cols:
        raise CandidatesError(f"{name}: conflict pairs need columns 'id_a' and 'id_b' (and "
                              f"optionally 'reason'). Found {list(df.columns)}.")
    pos = {str(x): i for i, x in enumerate(table.ids)}
    pairs, reasons, bad = [], [], []
    for k, row in enumerate(df.itertuples(index=False)):
        r = dict(zip(df.columns, row, strict=True))
        a, b = str(r[cols["id_a"]]).strip(), str(r[cols["id_b"]]).strip()
        for x, col in ((a, "id_a"), (b, "id_b")):
            if x not in pos and x not in elsewhere:
                bad.append(f"line {k + 2}, column '{col}': unknown id {x!r}")
        if a == b:
            bad.append(f"line {k + 2}: {a!r} is paired with themselves")
        elif a in pos and b in pos:
            i, j = sorted((pos[a], pos[b]))
            pairs.append((i, j))
            reasons.append(str(r[cols["reason"]]).strip() if "reason" in cols else "")
    if bad:
        raise CandidatesError(f"{name}: {len(bad)} bad row(s) in the conflict pairs: "
                              + "; ".join(bad[:10]) + (" ..." if len(bad) > 10 else "")
                              + ". Every id must appear in the candidates table, and a pair "
                              "names two different candidates.")
    return np.array(pairs, dtype=np.int64).reshape(-1, 2), reasons


def _read_csv(source, name: str, what: str, expected: str) -> pd.DataFrame:
    """A side file (conflict pairs, previous grouping) as strings, with clear errors."""
    from .errors import CandidatesError

    try:
        return pd.read_csv(source, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CandidatesError(f"{name}: {what} file not found. Check the path.") from None
    except IsADirectoryError:
        raise CandidatesError(f"{name}: is a folder; expected a {what} CSV file.") from None
    except PermissionError:
        raise CandidatesError(f"{name}: cannot read the {what} file (permission denied)."
                              ) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise CandidatesError(f"{name}: cannot read the {what} ({exc}). Expected a CSV with "
                              f"columns {expected}.") from None


def _history_counts(table: CandidateTable, history) -> dict[tuple[int, int], int]:
    """How often each pair of current candidates shared a group in previous groupings."""
    pos = {str(x): i for i, x in enumerate(table.ids)}
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for k, h in enumerate(history):
        name = os.fspath(h) if isinstance(h, (str, os.PathLike)) else f"history[{k}]"
        df = h if isinstance(h, pd.DataFrame) else _read_csv(h, name, "previous grouping",
                                                              "id,group")
        cols = {c.strip().casefold(): c for c in df.columns}
        if "id" not in cols or "group" not in cols:
            raise ConfigError(f"{name}: a previous grouping needs columns 'id' and 'group'. "
                              f"Found {list(df.columns)}.")
        members: dict[str, list[int]] = defaultdict(list)
        for i, g in zip(df[cols["id"]].astype(str), df[cols["group"]].astype(str), strict=True):
            if i.strip() in pos and g.strip():
                members[g.strip()].append(pos[i.strip()])
        for rows in members.values():
            rows = sorted(set(rows))
            for a in range(len(rows)):
                for b in range(a + 1, len(rows)):
                    counts[(rows[a], rows[b])] += 1
    return counts


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


def _group_names(existing: list[str], m: int) -> list[str]:
    """Existing names first, then 1, 2, ... skipping numbers already used."""
    names = list(existing)
    used = set(names)
    k = 1
    while len(names) < m:
        if str(k) not in used:
            names.append(str(k))
        k += 1
    return names


@dataclass
class _Build:
    """The solver arrays under construction: each rule family's compile step adds to it."""

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
        self.sum_rules.append(rule)
        self.sums.append(GroupSum(coef=coef, lo=lo, hi=hi, name=name))

    def indicator(self, rows) -> np.ndarray:
        coef = np.zeros(self.n)
        coef[rows] = 1.0
        return coef

    def group_idx(self, name: str, rule: str) -> int:
        gindex = self._gindex if self._gindex is not None else {
            g: k for k, g in enumerate(self.names or [])}
        self._gindex = gindex
        if name not in gindex:
            names = self.names or []
            raise ConfigError(f"{self.table.source}: rule {rule} names group {name!r}; the "
                              f"groups are {names[:20]}{' ...' if len(names) > 20 else ''}.")
        return gindex[name]

    def allow_only(self, i: int, gs: list[int]) -> None:
        if self.allowed is None:
            self.allowed = np.ones((self.n, self.m), dtype=bool)
        mask = np.zeros(self.m, dtype=bool)
        mask[gs] = True
        self.allowed[i] &= mask


def _compile_competitors(b: _Build) -> None:
    """Each set of mutual competitors holds at most one member per group."""
    b.classes, b.class_labels, b.wild = competitor_classes(b.table, b.rules)
    for rows, label in zip(b.classes, b.class_labels, strict=True):
        b.add_sum("competitors", b.indicator(rows), f"competitors: {label}", hi=1.0)
    for i, j in b.wild:
        b.pair_reasons[(int(i), int(j))] = "competitors (same industry, region unknown)"
        b.pair_rules[(int(i), int(j))] = "competitors"
    b.apart.append(b.wild)


def _compile_conflicts(b: _Build) -> None:
    """Declared conflicts: from the conflicts column and from a pairs file."""
    rules, table = b.rules, b.table
    conf = conflict_pairs(table) if rules.conflicts else np.zeros((0, 2), dtype=np.int64)
    for i, j in conf:
        b.pair_reasons.setdefault((int(i), int(j)), "declared conflict")
        b.pair_rules.setdefault((int(i), int(j)), "conflicts")
    if rules.conflict_file is not None:
        extra, why = read_pairs(rules.conflict_file, table, b.elsewhere)
        for (i, j), r in zip(extra.tolist(), why, strict=True):
            b.pair_reasons[(i, j)] = r or "declared conflict"
            b.pair_rules.setdefault((i, j), "conflicts")
        conf = np.unique(np.concatenate([conf, extra]), axis=0) if len(extra) else conf
    b.conf = conf
    b.apart.append(conf)


def _compile_history(b: _Build) -> None:
    """Rounds without repeats: pairs that met too often are kept apart, or cost affinity."""
    rules = b.rules
    if not rules.history:
        return
    counts = _history_counts(b.table, rules.history)
    if rules.max_repeats is not None:
        rp = [p for p, c in counts.items() if c > rules.max_repeats]
        for p in rp:
            b.pair_reasons.setdefault(p, f"met {counts[p]} time(s) before")
            b.pair_rules.setdefault(p, "max_repeats")
        b.apart.append(np.array(sorted(rp), dtype=np.int64).reshape(-1, 2))
    if rules.repeat_penalty and counts:
        ij = np.array(list(counts), dtype=np.int64).reshape(-1, 2)
        c = np.array(list(counts.values()), dtype=float)
        b.soft.append(SoftTerm("repeat_penalty", "pairs", float(rules.repeat_penalty), (ij, c)))
        if not is_dense(b.A_work):
            b.A_work = b.A_work.plus_pairs(ij[:, 0], ij[:, 1], -rules.repeat_penalty * c)
        else:
            W = b.dense_copy()
            for (i, j), k in counts.items():
                W[i, j] -= rules.repeat_penalty * k
                W[j, i] -= rules.repeat_penalty * k


def _compile_group_count(b: _Build, n_groups: int | None) -> None:
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
        m = k_ex + max(0, -(-(new - seats) // max_size)) if rules.keep_existing else max(
            k_ex, -(-n // max_size))
        b.notes.append(f"{k_ex} existing groups kept; {m - k_ex} new group(s) for "
                       f"{int(np.sum(existing < 0))} new candidates.")
    elif fixed_count and m is None:
        m = max(-(-n // max_size), largest)
        b.notes.append(f"The number of groups is fixed to {m} (the fewest that fit), since the "
                       "rules name groups or shares of groups; pass n_groups to choose another.")
    if existing is not None and m is not None and m < len(existing_names):
        raise ConfigError(f"n_groups={m} is smaller than the {len(existing_names)} existing "
                          "groups in the 'group' column.")
    b.m = m
    b.names = _group_names(existing_names, m) if m is not None else None
    if m is not None:
        b.bounds = np.tile(np.array([[b.min_size, max_size]], dtype=np.int64), (m, 1))


def _compile_existing(b: _Build) -> None:
    """Existing members stay (locked groups exactly), or moving them costs affinity."""
    existing, rules, m = b.existing, b.rules, b.m
    if existing is None:
        return
    min_size, max_size = b.min_size, b.max_size
    old_sizes = np.bincount(existing[existing >= 0], minlength=m)
    b.allowed = allowed = np.ones((b.n, m), dtype=bool)
    for g, name in enumerate(b.existing_names):
        members = existing == g
        if name in rules.locked_groups:
            # A locked group keeps exactly its members: nobody leaves, nobody joins.
            b.bounds[g] = old_sizes[g]
            allowed[~members, g] = False
            allowed[np.ix_(members, np.arange(m) != g)] = False
            if not min_size <= old_sizes[g] <= max_size:
                b.reasons.append(f"Locked group {name!r} has {old_sizes[g]} members, outside "
                                 f"the group sizes {min_size}-{max_size}. Change the size "
                                 "range or unlock the group.")
        elif rules.keep_existing:
            allowed[np.ix_(members, np.arange(m) != g)] = False
            if old_sizes[g] > max_size:
                # The same check as a finished grouping's: no group is larger than
                # max_size, existing or not.
                b.reasons.append(f"Existing group {name!r} has {old_sizes[g]} members, more "
                                 f"than --max-size {max_size}, and existing members stay "
                                 f"in their group. Raise --max-size to {old_sizes[g]}, split "
                                 "the group, or set keep_existing = false.")
    if rules.keep_existing or not rules.move_cost:
        return
    b.soft.append(SoftTerm("move_cost", "moves", float(rules.move_cost), existing.copy()))
    # A bonus for former groupmates staying together is a cost for each move.
    if not is_dense(b.A_work):
        pi, pj, pv = [], [], []
        for g in range(len(b.existing_names)):
            rows = np.flatnonzero(existing == g)
            if len(rows) > 1:
                a, c = np.triu_indices(len(rows), 1)
                pi.append(rows[a])
                pj.append(rows[c])
                pv.append(np.full(len(a), rules.move_cost / (len(rows) - 1)))
        if pi:
            b.A_work = b.A_work.plus_pairs(np.concatenate(pi), np.concatenate(pj),
                                           np.concatenate(pv))
    else:
        W = b.dense_copy()
        for g in range(len(b.existing_names)):
            rows = np.flatnonzero(existing == g)
            if len(rows) > 1:
                W[np.ix_(rows, rows)] += rules.move_cost / (len(rows) - 1)
        np.fill_diagonal(W, 0.0)


def _compile_placement(b: _Build) -> None:
    """Pins and allowed groups restrict where a member may go."""
    for member, g in b.rules.pins.items():
        (i,) = _ids_to_rows(b.table, [member], "pins", b.elsewhere)
        if i is not None:
            b.allow_only(i, [b.group_idx(g, "pins")])
    for member, gs in b.rules.allowed_groups.items():
        (i,) = _ids_to_rows(b.table, [member], "allowed_groups", b.elsewhere)
        if i is not None:
            b.allow_only(i, [b.group_idx(g, "allowed_groups") for g in gs])


def _compile_together(b: _Build) -> None:
    """Together-pairs become must-link pairs (one unit for the solver)."""
    rules = b.rules
    if not rules.together:
        return
    flat = _ids_to_rows(b.table, [x for pair in rules.together for x in pair], "together",
                        b.elsewhere)
    keep = []
    for (x, y), (ix, iy) in zip(rules.together, zip(flat[::2], flat[1::2], strict=True),
                                strict=True):
        if ix is not None and iy is not None:
            keep.append((ix, iy))
        elif (ix is None) != (iy is None):
            b.reasons.append(f"{x} and {y} must be together, but the rules keep their tiers "
                             "or regions apart. Drop the together-pair or the separation.")
    b.must_link = np.array(keep, dtype=np.int64).reshape(-1, 2) if keep else None


def _compile_caps(b: _Build) -> None:
    """Composition caps: at most c members sharing one value of a column."""
    table, rules = b.table, b.rules
    for col, cap in rules.max_per_group.items():
        _require_column(table, col, "max_per_group")
        depth = rules.industry_depth if col == "sector" else None
        vals = _column_values(table, col, depth)
        uniq, inv, cnt = np.unique(vals, return_inverse=True, return_counts=True)
        for k in np.flatnonzero(cnt > cap):
            if uniq[k] == "":
                continue
            rows = np.flatnonzero(inv == k)
            raw = _raw_value(table, col, int(rows[0]), depth)
            b.add_sum("max_per_group", b.indicator(rows),
                      f"at most {cap} members with {col} '{raw}' per group", hi=float(cap))


def _compile_presence(b: _Build) -> None:
    """Required presence: every group has a member with a given value."""
    table = b.table
    for col, value in b.rules.at_least_one:
        _require_column(table, col, "at_least_one")
        lv = _list_values(table, col)
        v = _norm(value)
        if lv is not None:
            has = np.array([v in lst for lst in lv])
        else:
            has = _column_values(table, col, None) == v
        b.add_sum("at_least_one", has.astype(float), f"at least one member with {col} "
                  f"'{value}'", lo=1.0)


def _compile_balance(b: _Build) -> None:
    """Hard balance: each group's mean within tol of the overall mean, as two linear rules."""
    for col, tol in b.rules.balance.items():
        x = _numeric(b.table, col)
        known = np.isfinite(x)
        mu = float(x[known].mean()) if known.any() else 0.0
        if isinstance(tol, str) and tol.strip().endswith("%"):
            t = abs(mu) * float(tol.strip()[:-1]) / 100.0
        else:
            t = float(tol)
        xi = np.where(known, x, mu)  # a missing value counts as average
        b.add_sum("balance", xi - mu - t, f"mean {col} at most {mu + t:,.4g} in every group",
                  hi=0.0)
        b.add_sum("balance", xi - mu + t, f"mean {col} at least {mu - t:,.4g} in every group",
                  lo=0.0)


def _compile_balance_penalty(b: _Build) -> None:
    """Soft balance: lambda sum_g (sum_{i in g} z_i)^2 = const + 2 lambda sum_pairs z_i z_j."""
    for col, lam in b.rules.balance_penalty.items():
        x = _numeric(b.table, col)
        known = np.isfinite(x)
        if known.sum() > 1 and x[known].std() > 0:
            z = np.where(known, (x - x[known].mean()) / x[known].std(), 0.0)
            b.soft.append(SoftTerm(f"balance_penalty {col}", "square", float(lam), z))
            if not is_dense(b.A_work):
                b.A_work = b.A_work.plus_outer(z, -2.0 * float(lam))
            else:
                W = b.dense_copy()
                W -= (2.0 * float(lam)) * np.outer(z, z).astype(W.dtype)
                np.fill_diagonal(W, 0.0)


def _compile_spread(b: _Build) -> None:
    """Even spread of a category: every group holds the floor or ceiling of its share."""
    table, m = b.table, b.m
    for col in b.rules.spread:
        _require_column(table, col, "spread")
        vals = _column_values(table, col, None)
        uniq, inv, cnt = np.unique(vals, return_inverse=True, return_counts=True)
        for k in range(len(uniq)):
            if uniq[k] == "":
                continue
            rows = np.flatnonzero(inv == k)
            raw = _raw_value(table, col, int(rows[0]), None)
            lo, hi = cnt[k] // m, -(-cnt[k] // m)
            b.add_sum("spread", b.indicator(rows),
                      f"{col} '{raw}' spread evenly ({lo}-{hi} per group)",
                      lo=float(lo), hi=float(hi))


def _compile_isolation(b: _Build) -> None:
    """Nobody the only member of their value (no-singleton labels)."""
    for col in b.rules.no_isolated:
        _require_column(b.table, col, "no_isolated")
        vals = _column_values(b.table, col, None)
        _, inv = np.unique(vals, return_inverse=True)
        lab = inv.astype(np.int64)
        lab[vals == ""] = -1
        b.no_single.append(lab)


def _compile_slots(b: _Build) -> None:
    """A common meeting slot: the availability matrix, slots named by first spelling."""
    table = b.table
    if not b.rules.common_slot:
        return
    if "availability" not in table.columns:
        raise ConfigError(f"{table.source}: common_slot needs an 'availability' column "
                          "(meeting slots separated by ';').")
    norm = [[_norm(t) for t in lst] for lst in table.availability]
    first: dict[str, str] = {}
    for lst, rawl in zip(norm, table.availability, strict=True):
        for t, r in zip(lst, rawl, strict=True):
            first.setdefault(t, r)
    keys = sorted(first)
    b.slot_names = [first[k] for k in keys]
    kidx = {k: s for s, k in enumerate(keys)}
    b.slots = np.zeros((b.n, len(keys)), dtype=bool)
    for i, lst in enumerate(norm):
        b.slots[i, [kidx[t] for t in lst]] = True


#: The compile steps, in order: pair rules first (they set the fewest groups), then
#: the group count, then the rules that refer to groups.
_PAIR_STEPS = (_compile_competitors, _compile_conflicts, _compile_history)
_GROUP_STEPS = (_compile_existing, _compile_placement, _compile_together, _compile_caps,
                _compile_presence, _compile_balance, _compile_balance_penalty, _compile_spread,
                _compile_isolation, _compile_slots)


def build_problem(table: CandidateTable, A: np.ndarray, *, min_size: int, max_size: int,
                  n_groups: int | None = None, rules: Rules | None = None,
                  elsewhere: frozenset[str] = frozenset()) -> Compiled:
    """Compile ``rules`` on ``table`` into a :class:`~peermatch.problem.Problem`.

    Each set of mutual competitors becomes a :class:`~peermatch.problem.GroupSum`
    "at most one per group" (tighter for the solver than all its pairs); wildcard
    competitors, declared conflicts and forbidden repeats become cannot-link pairs;
    soft terms (balance penalty, repeat penalty, move cost) are folded into a copy
    of the affinity. With a free number of groups, the largest set of mutual
    competitors sets the fewest groups; rules that name groups or shares of groups
    fix the count to the smallest that fits (see ``Compiled.notes``). Each rule
    family is one ``_compile_*`` step.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("xxyz"),
    ...     "employees": ["1", "2", "3", "4"]}))
    >>> c = build_problem(t, np.zeros((4, 4)), min_size=2, max_size=2)
    >>> len(c.problem.group_sums), c.problem.group_count_range()
    (1, (2, 2))
    """
    b = _Build(table, rules or Rules(), A, min_size, max_size, elsewhere, A_work=A)
    for step in _PAIR_STEPS:
        step(b)
    _compile_group_count(b, n_groups)
    for step in _GROUP_STEPS:
        step(b)
    apart = [x for x in b.apart if len(x)]
    cl = np.unique(np.concatenate(apart), axis=0) if apart else None
    largest = max((len(c) for c in b.classes), default=1)
    problem = Problem(
        b.A_work, bounds=b.bounds, min_size=None if b.bounds is not None else min_size,
        max_size=None if b.bounds is not None else max_size, n_groups=b.m,
        min_groups=largest if b.m is None and largest > 1 else None, cannot_link=cl,
        must_link=b.must_link, allowed=b.allowed, group_sums=tuple(b.sums), slots=b.slots,
        slot_quorum=float(b.rules.slot_quorum), no_singleton=tuple(b.no_single),
        names=tuple(str(x) for x in table.ids))
    return Compiled(problem=problem, rules=b.rules, classes=b.classes,
                    class_labels=b.class_labels, competitor_pairs=b.wild,
                    conflict_pairs=b.conf, pair_reasons=b.pair_reasons,
                    pair_rules=b.pair_rules, sum_rules=b.sum_rules, group_names=b.names,
                    slot_names=b.slot_names, existing=b.existing, notes=b.notes,
                    reasons=b.reasons, soft=b.soft)


def _numeric(table: CandidateTable, col: str) -> np.ndarray:
    if col == "employees":
        return np.asarray(table.employees, dtype=float)
    if col == "revenue":
        return np.asarray(table.revenue, dtype=float)
    name = col if col in table.frame.columns else table.columns.get(col)
    if name is None or name not in table.frame.columns:
        raise ConfigError(f"{table.source}: balance rule names column {col!r}, which the table "
                          f"does not have. Columns found: {list(table.frame.columns)}.")
    raw = table.frame[name].astype(str).str.strip()
    x = pd.to_numeric(raw.where(raw != ""), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(np.isnan(x) & (raw != "").to_numpy())
    if len(bad):
        i = int(bad[0])
        raise ConfigError(f"{table.source}, line {table.lines[i]}, column {name!r}: value "
                          f"{raw.iloc[i]!r} is not a number, but the balance rule needs numbers."
                          f" ({len(bad)} such cell(s).)")
    return x


def _group_span(p: Problem) -> tuple[int, int, str]:
    if p.bounds is not None:
        return len(p.bounds), len(p.bounds), "the given group sizes"
    sizes = f"groups of {p.min_size}-{p.max_size}"
    if p.n_groups is not None:
        return p.n_groups, p.n_groups, sizes
    # Sizes alone (not min_groups): the competitor check below explains a larger minimum.
    return -(-p.n // p.max_size), p.n // p.min_size, sizes


#: How each rule that keeps pairs apart is named in a diagnosis, and its fix.
_APART_RULES = {
    "competitors": ("compete", "relax the competitor rule"),
    "conflicts": ("are in declared conflict", "remove a conflict"),
    "max_repeats": ("met in earlier rounds", "raise max_repeats"),
    "separate_tiers": ("are in different tiers", "drop separate_tiers"),
    "same_region": ("are in different regions", "drop same_region"),
}


def _clique_reason(compiled: Compiled, clique, names, m_hi: int) -> str:
    """A set of candidates that must all be apart, naming the rules that keep them apart."""
    clique = sorted(int(i) for i in clique)
    in_class = np.full(compiled.problem.n, -1)
    for k, rows in enumerate(compiled.classes):
        in_class[rows] = k
    fams: dict[str, int] = {}
    for x, i in enumerate(clique):
        for j in clique[x + 1:]:
            if in_class[i] >= 0 and in_class[i] == in_class[j]:
                fam = "competitors"
            else:
                fam = compiled.pair_rules.get((i, j), "conflicts")
            fams[fam] = fams.get(fam, 0) + 1
    order = sorted(fams, key=lambda f: (-fams[f], f))
    who = ", ".join(sorted(names[i] for i in clique)[:8]) + (" ..." if len(clique) > 8 else "")
    if order == ["conflicts"]:
        return (f"{len(clique)} candidates are in conflict with one another ({who}) and need "
                f"{len(clique)} groups, but at most {m_hi} fit. Remove a conflict or use more, "
                "smaller groups.")
    why = "; ".join(f"{fams[f]} pair(s) {_APART_RULES.get(f, (f, ''))[0]}" for f in order)
    fix = ", or ".join(_APART_RULES.get(f, ("", f"relax {f}"))[1] for f in order)
    return (f"{len(clique)} candidates must all be in different groups ({who}: {why}) and "
            f"need {len(clique)} groups, but at most {m_hi} fit. {fix[0].upper()}{fix[1:]}, "
            "or use more, smaller groups.")


@dataclass
class _Span:
    """What every diagnosis needs: the problem, names, and how many groups can exist."""

    compiled: Compiled
    names: tuple[str, ...]
    m_lo: int
    m_hi: int
    sizes: str

    @property
    def p(self) -> Problem:
        return self.compiled.problem


def _diagnose_competitors(c: _Span, found: list[str]) -> list[str]:
    """A set of k mutual competitors needs k groups."""
    p, n, out = c.p, c.p.n, []
    for rows, label in zip(c.compiled.classes, c.compiled.class_labels, strict=True):
        k = len(rows)
        if k > c.m_hi:
            fix = (f"Lower --min-size to {n // k}, or relax the competitor rule."
                   if p.n_groups is None and p.bounds is None and n // k >= 1
                   else f"Use at least {k} groups, or relax the competitor rule.")
            out.append(f"{k} candidates compete ({label}) and need {k} groups, but {n} "
                       f"candidates in {c.sizes} make at most {c.m_hi} groups. {fix}")
    return out


def _diagnose_apart(c: _Span, found: list[str]) -> list[str]:
    """A clique of the whole keep-apart graph (conflicts, repeats, wildcard competitors)."""
    p = c.p
    # Count the edges before building the graph: at 100,000 candidates the competitor sets
    # alone are tens of millions of pairs (class edges form disjoint cliques, each checked
    # by _diagnose_competitors, so only the pairs can make a larger clique).
    n_edges = len(p.cannot_link) + sum(len(r) * (len(r) - 1) // 2 for r in c.compiled.classes)
    if not len(p.cannot_link) or found or n_edges > 200_000:
        return []
    import networkx as nx

    G = nx.Graph()
    G.add_edges_from(map(tuple, p.cannot_link.tolist()))
    for rows in c.compiled.classes:
        G.add_edges_from((int(a), int(b)) for x, a in enumerate(rows) for b in rows[x + 1:])
    clique = max(nx.find_cliques(G), key=len) if G.number_of_nodes() else []
    return [_clique_reason(c.compiled, clique, c.names, c.m_hi)] if len(clique) > c.m_hi else []


def _diagnose_together(c: _Span, found: list[str]) -> list[str]:
    """Together-pairs against conflicts, and together-sets too large for a group."""
    p, names, out = c.p, c.names, []
    if not len(p.must_link):
        return out
    cl = {tuple(x) for x in p.cannot_link.tolist()}
    for rows in c.compiled.classes:
        rs = set(rows.tolist())
        for i, j in p.must_link.tolist():
            if i in rs and j in rs:
                cl.add((i, j))
    for i, j in p.must_link.tolist():
        if (i, j) in cl:
            why = c.compiled.pair_reasons.get((i, j), "competitors")
            out.append(f"{names[i]} and {names[j]} must be together but are in conflict "
                       f"({why}). Drop one of the two rules.")
    import networkx as nx

    G = nx.Graph()
    G.add_edges_from(map(tuple, p.must_link.tolist()))
    cap = int(p.bounds[:, 1].max()) if p.bounds is not None else p.max_size
    for comp in nx.connected_components(G):
        if len(comp) > cap:
            out.append(f"{len(comp)} candidates are linked by together-pairs "
                       f"({', '.join(sorted(names[i] for i in comp)[:6])} ...) but a group "
                       f"holds at most {cap}. Remove a together-pair.")
    return out


def _diagnose_placement(c: _Span, found: list[str]) -> list[str]:
    """Pins, allowed and existing groups against capacity."""
    p, names, out = c.p, c.names, []
    if p.allowed is None:
        return out
    compiled = c.compiled
    gnames = compiled.group_names or [str(g + 1) for g in range(p.allowed.shape[1])]
    nobody = np.flatnonzero(~p.allowed.any(axis=1))
    for i in nobody[:10]:
        out.append(f"{names[i]} may join no group (pins, allowed groups and locked groups "
                   "exclude every group). Check the rules for this member.")
    only = p.allowed.sum(axis=1) == 1
    pinned = np.bincount(np.argmax(p.allowed, axis=1)[only], minlength=p.allowed.shape[1])
    hi = p.bounds[:, 1] if p.bounds is not None else np.full(len(pinned), p.max_size)
    for g in np.flatnonzero(pinned > hi):
        out.append(f"{pinned[g]} members are pinned to group {gnames[g]!r}, which holds "
                   f"at most {hi[g]}. Unpin some or raise --max-size.")
    if compiled.existing is not None and compiled.rules.keep_existing:
        lo = p.bounds[:, 0]
        old = np.bincount(compiled.existing[compiled.existing >= 0], minlength=len(lo))
        short = np.maximum(0, lo - old)[: int(compiled.existing.max()) + 1]
        new = int(np.sum(compiled.existing < 0))
        if short.sum() > new:
            worst = int(np.argmax(short))
            out.append(f"Existing groups need {int(short.sum())} more members to reach "
                       f"--min-size (group {gnames[worst]!r} has {old[worst]}), but only "
                       f"{new} new candidates are available. Lower --min-size or merge groups.")
    return out


def _diagnose_counts(c: _Span, found: list[str]) -> list[str]:
    """Presence rules and caps against the number of members they count."""
    out = []
    sum_rules = c.compiled.sum_rules
    for k, s in enumerate(c.p.group_sums):
        rule = sum_rules[k] if k < len(sum_rules) else ""
        lo_b, hi_b = s.bounds(c.m_hi)
        pos = s.coef > 0
        if np.all(s.coef[pos] == 1.0) and np.all((s.coef == 0) | pos):
            total = int(pos.sum())
            if np.isfinite(lo_b).all() and lo_b.sum() > total:
                out.append(f"Rule '{s.name}' needs {int(lo_b.sum())} such members for "
                           f"{c.m_hi} groups, but only {total} exist. Relax the rule.")
            # Competitor sets have their own diagnosis, with their own fix.
            if np.isfinite(hi_b).all() and hi_b.sum() < total and rule != "competitors":
                out.append(f"Rule '{s.name}' allows {int(hi_b.sum())} such members in "
                           f"{c.m_hi} groups, but {total} exist. Raise the cap.")
    return out


def _diagnose_isolation(c: _Span, found: list[str]) -> list[str]:
    """A protected value held by one candidate leaves them alone in any group."""
    out = []
    for lab in c.p.no_singleton:
        vals, cnt = np.unique(lab[lab >= 0], return_counts=True)
        for v in vals[cnt == 1]:
            i = int(np.flatnonzero(lab == v)[0])
            out.append(f"{c.names[i]} is the only candidate of their kind for the no-isolated "
                       "rule, so they would be alone in any group. Drop the rule for this "
                       "column or add candidates.")
    return out


def _diagnose_slots(c: _Span, found: list[str]) -> list[str]:
    """Availability too thin for a common meeting slot."""
    p, names, out = c.p, c.names, []
    if p.slots is None:
        return out
    none = np.flatnonzero(~p.slots.any(axis=1))
    if len(none) and p.slot_quorum >= 1.0:
        who = ", ".join(names[i] for i in none[:8])
        out.append(f"{len(none)} candidate(s) list no availability ({who}) but every "
                   "member must share a meeting slot. Add their slots or lower slot_quorum.")
    lo_size = int(p.bounds[:, 0].min()) if p.bounds is not None else p.min_size
    need = int(np.ceil(p.slot_quorum * lo_size - 1e-9))
    per_slot = p.slots.sum(axis=0)
    if p.slots.shape[1] == 0 or per_slot.max() < need:
        out.append(f"No meeting slot is shared by {need} candidates, the fewest a group "
                   "needs. Add availability or lower slot_quorum.")
    elif p.slot_quorum >= 1.0:
        # Everyone shares the group's slot: a member whose every slot is shared by
        # fewer than the smallest group cannot be placed anywhere.
        reach = np.where(p.slots, per_slot[None, :], 0).max(axis=1)
        stuck = np.flatnonzero((reach < lo_size) & p.slots.any(axis=1))
        if len(stuck):
            who = ", ".join(names[i] for i in stuck[:8]) + (" ..." if len(stuck) > 8 else "")
            out.append(f"{len(stuck)} candidate(s) ({who}) share each of their meeting "
                       f"slots with fewer than {lo_size} candidates (themselves included), so "
                       "no group of theirs can share a slot. Add availability or lower "
                       "slot_quorum.")
    return out


#: The cheap impossibility proofs, in the order they run: ``(rule family, check)``.
#: Each check gets the span and the reasons found so far and returns its own.
DIAGNOSES: tuple[tuple[str, Callable[[_Span, list[str]], list[str]]], ...] = (
    ("competitors", _diagnose_competitors),
    ("conflicts", _diagnose_apart),
    ("together", _diagnose_together),
    ("placement", _diagnose_placement),
    ("max_per_group", _diagnose_counts),
    ("no_isolated", _diagnose_isolation),
    ("common_slot", _diagnose_slots),
)


def diagnose(compiled: Compiled) -> list[str]:
    """Cheap checks that prove a request impossible, each in plain words with the fix.

    Returns an empty list when nothing obvious is wrong (the solver may still prove
    infeasibility later, with its own reasons). The group count comes first; then
    each check of :data:`DIAGNOSES`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("xxxy"),
    ...     "employees": ["1", "2", "3", "4"]}))
    >>> print(diagnose(build_problem(t, np.zeros((4, 4)), min_size=2, max_size=2))[0])
    3 candidates compete (industry 'x') and need 3 groups, but 4 candidates in groups
    of 2-2 make at most 2 groups. Lower --min-size to 1, or relax the competitor rule.
    """
    p = compiled.problem
    n = p.n
    reasons: list[str] = list(compiled.reasons)
    if n == 0:
        return ["There are no candidates to group."]
    m_lo, m_hi, sizes = _group_span(p)
    if p.bounds is not None:
        lo_sum, hi_sum = int(p.bounds[:, 0].sum()), int(p.bounds[:, 1].sum())
    elif p.n_groups is not None:
        lo_sum, hi_sum = p.n_groups * p.min_size, p.n_groups * p.max_size
    else:
        lo_sum = hi_sum = None
    if lo_sum is not None and not lo_sum <= n <= hi_sum:
        return reasons + [f"{n} candidates cannot fill {m_lo} groups with {sizes}: they "
                          f"hold {lo_sum}-{hi_sum} members. Change the number of groups or the "
                          "sizes."]
    if m_lo > m_hi:
        return reasons + [f"{n} candidates cannot be split into {sizes}: {m_lo} groups are "
                          f"needed but only {m_hi} fit the minimum size. Widen the size range."]
    span = _Span(compiled, p.names or tuple(str(i) for i in range(n)), m_lo, m_hi, sizes)
    for _, check in DIAGNOSES:
        reasons.extend(check(span, reasons))
    return reasons


def meeting_slots(compiled: Compiled, labels: np.ndarray) -> list[str]:
    """The meeting slot of each group: the slot most of its members share ('' if none)."""
    p = compiled.problem
    labels = np.asarray(labels)
    m = int(labels.max()) + 1 if len(labels) else 0
    if p.slots is None or p.slots.shape[1] == 0:
        return [""] * m
    Z = np.zeros((m, p.n))
    Z[labels, np.arange(p.n)] = 1.0
    counts = Z @ p.slots
    return [compiled.slot_names[int(np.argmax(c))] if c.max() > 0 else "" for c in counts]


@dataclass(frozen=True)
class Violation:
    """One broken hard rule of a grouping.

    Attributes
    ----------
    rule : str
        The rule family (a key of :data:`RULE_FAMILIES`, e.g. ``"competitors"``).
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


@dataclass(frozen=True)
class RuleFamily:
    """One family of hard rules: the settings that switch it on and how it reads.

    ``key`` is the :attr:`Violation.rule` of its violations; ``settings`` the
    :class:`Rules` fields that turn it on (empty: always on); ``describe(rules,
    sizes)`` says in words what it asks for (``sizes`` is ``(lo, hi)`` or None).
    """

    key: str
    settings: tuple[str, ...]
    describe: Callable[[Rules, tuple[int, int] | None], str]

    def active(self, rules: Rules) -> bool:
        if self.key == "conflicts":
            return bool(rules.conflicts or rules.conflict_file is not None)
        if self.key == "max_repeats":
            return bool(rules.history) and rules.max_repeats is not None
        return not self.settings or any(bool(getattr(rules, f)) for f in self.settings)


def _cols(x) -> str:
    return ", ".join(x)


#: Every hard-rule family, in the order reports list them. Adding a rule: see
#: ``docs/rules.md`` ("How to add a rule").
RULE_FAMILIES: tuple[RuleFamily, ...] = (
    RuleFamily("sizes", (), lambda r, sz: f"Group sizes within {sz[0]}-{sz[1]}" if sz
               else "Group sizes"),
    RuleFamily("competitors", ("competitors",), lambda r, sz: "No two competitors in a group "
               "(same " + " and ".join(r.competitors) + ")"),
    RuleFamily("conflicts", ("conflicts", "conflict_file"),
               lambda r, sz: "No declared conflict of interest in a group"),
    RuleFamily("max_repeats", ("history",), lambda r, sz: "No pair meets again more than "
               f"{r.max_repeats} time(s)"),
    RuleFamily("together", ("together",), lambda r, sz: f"{len(r.together)} pair(s) kept "
               "together"),
    RuleFamily("placement", ("pins", "allowed_groups", "locked_groups"),
               lambda r, sz: "Pinned, allowed and locked groups respected"),
    RuleFamily("max_per_group", ("max_per_group",), lambda r, sz: "Composition caps: " + ", ".join(
        f"at most {c} per {col}" for col, c in r.max_per_group.items())),
    RuleFamily("at_least_one", ("at_least_one",), lambda r, sz: "Every group has " + ", ".join(
        f"a member with {c} '{v}'" for c, v in r.at_least_one)),
    RuleFamily("balance", ("balance",), lambda r, sz: "Balanced group means of "
               + _cols(r.balance)),
    RuleFamily("spread", ("spread",), lambda r, sz: "Even spread of " + _cols(r.spread)),
    RuleFamily("no_isolated", ("no_isolated",), lambda r, sz: "Nobody isolated on "
               + _cols(r.no_isolated)),
    RuleFamily("separate_tiers", ("separate_tiers",), lambda r, sz: "Tiers never mix"),
    RuleFamily("same_region", ("same_region",), lambda r, sz: "Every group within one region"),
    RuleFamily("common_slot", ("common_slot",), lambda r, sz: f"A meeting slot shared by "
               f"{r.slot_quorum:.0%} of each group"),
)


def rule_families(rules: Rules, sizes: tuple[int, int] | None = None) -> list[tuple[str, str]]:
    """``(key, description)`` of every rule family in force under ``rules``.

    >>> rule_families(Rules(), (8, 12))[0]
    ('sizes', 'Group sizes within 8-12')
    >>> [key for key, _ in rule_families(Rules(same_region=True))]
    ['sizes', 'competitors', 'conflicts', 'same_region']
    """
    return [(f.key, f.describe(rules, sizes)) for f in RULE_FAMILIES if f.active(rules)]


def check_violations(compiled: Compiled, labels: np.ndarray) -> list[Violation]:
    """Every broken hard rule of a grouping, as :class:`Violation` values.

    The one check of a finished grouping: ``match``, ``report --check``,
    :meth:`MatchResult.validate <peermatch.result.MatchResult.validate>` and
    :func:`check_grouping` use it, and it formats the solver's own checks
    (:func:`peermatch.problem.breaches`).

    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("xxyz"),
    ...     "employees": ["1", "2", "3", "4"]}))
    >>> c = build_problem(t, np.zeros((4, 4)), min_size=2, max_size=2)
    >>> [(v.rule, v.group, v.members) for v in check_violations(c, np.array([0, 0, 1, 1]))]
    [('competitors', '1', ('a', 'b'))]
    """
    from .problem import breaches

    p = compiled.problem
    labels = np.asarray(labels)
    names = p.names or tuple(str(i) for i in range(p.n))
    if labels.shape != (p.n,) or labels.min(initial=0) < 0:
        unplaced = tuple(names[i] for i in np.flatnonzero(labels < 0)) if labels.shape == (
            p.n,) else ()
        return [Violation("sizes", None, unplaced, "not every candidate is placed")]
    labels = labels.astype(np.int64)
    m = max(int(labels.max()) + 1 if p.n else 0, p.n_groups or 0)
    gn = compiled.group_names or [str(g + 1) for g in range(m)]
    gn = list(gn) + [str(g + 1) for g in range(len(gn), m)]
    out: list[Violation] = []

    def members_of(g):
        return tuple(names[i] for i in np.flatnonzero(labels == g))

    for b in breaches(p, labels, m):
        if b.kind == "sizes":
            sizes = np.bincount(labels, minlength=m)
            bounds = p.bounds_for(m)
            for g in b.items:
                out.append(Violation("sizes", gn[g], members_of(g),
                                     f"group {gn[g]} has {sizes[g]} members, outside "
                                     f"{bounds[g, 0]}-{bounds[g, 1]}"))
        elif b.kind == "cannot_link":
            for i, j in p.cannot_link[b.items]:
                key = (int(i), int(j))
                why = compiled.pair_reasons.get(key, "conflict")
                out.append(Violation(compiled.pair_rules.get(key, "conflicts"), gn[labels[i]],
                                     (names[i], names[j]),
                                     f"group {gn[labels[i]]} holds {names[i]} and {names[j]} "
                                     f"({why})", why))
        elif b.kind == "must_link":
            for i, j in p.must_link[b.items]:
                out.append(Violation("together", None, (names[i], names[j]),
                                     f"{names[i]} and {names[j]} must be together"))
        elif b.kind == "allowed":
            for i in b.items:
                out.append(Violation("placement", gn[labels[i]], (names[i],),
                                     f"{names[i]} is in group {gn[labels[i]]}, which they may "
                                     "not join"))
        elif b.kind == "group_sums":
            s = p.group_sums[b.index]
            rule = (compiled.sum_rules[b.index] if b.index < len(compiled.sum_rules)
                    else "other")
            tot = np.bincount(labels, weights=s.coef, minlength=m)
            lo, hi = s.bounds(m)
            for g in b.items:
                lim = (f"at most {hi[g]:g}" if np.isfinite(hi[g]) and tot[g] > hi[g]
                       else f"at least {lo[g]:g}")
                mem = tuple(names[i] for i in np.flatnonzero((labels == g) & (s.coef != 0)))
                detail = s.name.split(": ", 1)[1] if rule == "competitors" else s.name
                out.append(Violation(rule, gn[g], mem,
                                     f"group {gn[g]} breaks {s.name} ({tot[g]:g} members, "
                                     f"{lim})", detail))
        elif b.kind == "no_singleton":
            for i in b.items:
                out.append(Violation("no_isolated", gn[labels[i]], (names[i],),
                                     f"{names[i]} is isolated in group {gn[labels[i]]}"))
        elif b.kind == "slots":
            sizes = np.bincount(labels, minlength=m)
            for g in b.items:
                need = int(np.ceil(p.slot_quorum * sizes[g] - 1e-9))
                out.append(Violation("common_slot", gn[g], members_of(g),
                                     f"group {gn[g]} has no meeting slot shared by {need} "
                                     "members"))
    return out


def check_grouping(compiled: Compiled, labels: np.ndarray) -> list[str]:
    """Every broken hard rule of a grouping, in plain words (empty when all hold).

    The messages of :func:`check_violations`.

    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("xxyz"),
    ...     "employees": ["1", "2", "3", "4"]}))
    >>> c = build_problem(t, np.zeros((4, 4)), min_size=2, max_size=2)
    >>> check_grouping(c, np.array([0, 1, 0, 1]))
    []
    >>> check_grouping(c, np.array([0, 0, 1, 1]))
    ["group 1 breaks competitors: industry 'x' (2 members, at most 1)"]
    """
    return [v.message for v in check_violations(compiled, labels)]


# --------------------------------------------------------------------------------------
# Sizes, tiers and regions: the rules that split the candidates before compiling
# --------------------------------------------------------------------------------------

def check_sizes(group_size, n_groups, n: int, source: str) -> tuple[int, int]:
    """The ``(min, max)`` group size, checked against each other and the candidate count.

    Raises
    ------
    ConfigError
        Sizes that are not a pair of ints, ``min > max``, or a count that no number
        of groups can cover.

    >>> check_sizes((4, 6), None, 20, "t.csv")
    (4, 6)
    """
    try:
        lo, hi = (int(x) for x in group_size)
    except (TypeError, ValueError):
        raise ConfigError("The 'group_size' parameter of match must be a (min, max) pair of "
                          f"ints. Got {group_size!r} instead.") from None
    if lo < 1:
        raise ConfigError(f"The minimum group size must be at least 1. Got min_size={lo}.")
    if lo > hi:
        raise ConfigError(f"min_size={lo} is larger than max_size={hi}; "
                          "the minimum group size must not exceed the maximum.")
    if n_groups is not None:
        if not _is_int(n_groups) or n_groups < 1:
            raise ConfigError("The 'n_groups' parameter of match must be a positive int or None. "
                              f"Got {n_groups!r} instead.")
        if not n_groups * lo <= n <= n_groups * hi:
            raise ConfigError(f"{source}: {n} candidates cannot fill {n_groups} groups of "
                              f"{lo}-{hi} members (they hold {n_groups * lo}-{n_groups * hi}). "
                              "Change --groups or the size range.")
    else:
        if n < lo:
            raise ConfigError(f"{source}: only {n} candidates, fewer than min_size={lo}. "
                              f"Lower --min-size to {n} or add candidates.")
        if -(-n // hi) > n // lo:
            raise ConfigError(f"{source}: {n} candidates cannot be split into groups of {lo}-{hi}"
                              f" (at least {-(-n // hi)} groups are needed to respect the maximum,"
                              f" but only {n // lo} fit the minimum). Widen the size range.")
    return lo, hi


@dataclass
class Part:
    """One independent sub-problem (a tier and/or region when the rules separate them)."""

    label: str
    rows: np.ndarray
    compiled: Any
    reasons: list[str] = field(default_factory=list)
    solve: Any = None
    offset: int = -1


def partition(table: CandidateTable, rules: Rules, n_groups=None) -> list[tuple[str, np.ndarray]]:
    """Rows of each independent part: tiers never mix, in-person groups stay in one region.

    >>> import pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("wxyz"),
    ...     "employees": ["1", "2", "3", "4"], "tier": ["CEO", "ceo ", "VP", "VP"]}))
    >>> [(label, rows.tolist()) for label, rows in partition(t, Rules(separate_tiers=True))]
    [("tier 'CEO'", [0, 1]), ("tier 'VP'", [2, 3])]
    """
    keys = []
    if rules.separate_tiers:
        if table.tier is None:
            raise ConfigError(f"{table.source}: separate_tiers needs a 'tier' column.")
        keys.append(("tier", table.tier))
    if rules.same_region:
        if table.region is None:
            raise ConfigError(f"{table.source}: same_region needs a 'region' column.")
        keys.append(("region", table.region))
    if not keys:
        return [("", np.arange(table.n))]
    combos: dict[tuple, list[int]] = {}
    for i in range(table.n):
        k = tuple(_norm(v[i]) for _, v in keys)
        combos.setdefault(k, []).append(i)
    out = []
    for rows in combos.values():
        first = rows[0]
        label = ", ".join(f"{name} '{str(v[first]).strip()}'" for name, v in keys)
        out.append((label, np.array(rows, dtype=np.int64)))
    return out


def keep_parts_apart(compiled: Compiled, table: CandidateTable, rules: Rules,
                     labels: np.ndarray) -> None:
    """Make the tier/region split checkable on a finished grouping of the whole table.

    A group that mixes parts gets a cannot-link pair between a member of each part
    (tagged ``separate_tiers`` or ``same_region``), so :func:`check_violations` names
    it like any other rule. ``compiled`` is changed in place.
    """
    if not (rules.separate_tiers or rules.same_region):
        return
    parts = partition(table, rules, None)
    if len(parts) < 2:
        return
    p = compiled.problem
    labels = np.asarray(labels)
    part_of = np.empty(table.n, dtype=np.int64)
    for q, (_, rows) in enumerate(parts):
        part_of[rows] = q
    extra = []
    for g in np.unique(labels[labels >= 0]):
        first: dict[int, int] = {}
        for i in np.flatnonzero(labels == g):
            first.setdefault(int(part_of[i]), int(i))
        reps = list(first.values())
        for j in reps[1:]:
            a, b = sorted((reps[0], j))
            extra.append((a, b))
            compiled.pair_reasons[(a, b)] = (
                f"{parts[part_of[a]][0]} and {parts[part_of[b]][0]} must not mix")
            tiers_differ = rules.separate_tiers and table.tier is not None and (
                _norm(table.tier[a]) != _norm(table.tier[b]))
            compiled.pair_rules[(a, b)] = "separate_tiers" if tiers_differ else "same_region"
    if extra:
        cl = np.asarray(extra, dtype=np.int64)
        if p.cannot_link is not None and len(p.cannot_link):
            cl = np.unique(np.concatenate([p.cannot_link, cl]), axis=0)
        p.cannot_link = cl


def compile_parts(table: CandidateTable, A, *, min_size: int, max_size: int,
                  n_groups: int | None = None, rules: Rules | None = None,
                  after=None) -> list[Part]:
    """Split ``table`` by the tier/region rules, check each part's size and compile it.

    The one path from rules to solver input, shared by ``match`` and ``validate``: a
    part too small for a group carries that reason (and no compiled problem); every
    other part carries its :func:`build_problem` and :func:`diagnose` reasons,
    prefixed with the part's label. With several parts, ``n_groups`` is shared over them
    in proportion to their sizes (:func:`peermatch.sizes.share_groups`); ``after(compiled,
    label)``, when given, may tighten each compiled part before its diagnosis.

    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": list("abcde"), "industry": list("vwxyz"),
    ...     "employees": ["1"] * 5, "tier": ["CEO"] * 4 + ["VP"]}))
    >>> parts = compile_parts(t, np.zeros((5, 5)), min_size=2, max_size=3,
    ...                       rules=Rules(separate_tiers=True))
    >>> [p.reasons[0][:40] if p.reasons else None for p in parts]
    [None, "tier 'VP': 1 candidates cannot form grou"]
    """
    rules = rules or Rules()
    split = partition(table, rules, n_groups)
    counts = [n_groups] * len(split)
    if n_groups is not None and len(split) > 1:
        # n_groups over the parts in proportion to their sizes (largest remainder)
        from .sizes import share_groups

        counts = share_groups(n_groups, [len(r) for _, r in split], min_size, max_size,
                              [label for label, _ in split])
    parts: list[Part] = []
    for (label, rows), part_groups in zip(split, counts, strict=True):
        whole = len(rows) == table.n
        sub = table if whole else table.subset(rows)
        if whole:
            A_sub = A
        elif is_dense(A):
            A_sub = A[np.ix_(rows, rows)]
        else:
            A_sub = A.subset(rows)
        prefix = f"{label}: " if label else ""
        if len(rows) < min_size or -(-len(rows) // max_size) > len(rows) // min_size:
            parts.append(Part(label, rows, None, [
                f"{prefix}{len(rows)} candidates cannot form groups of {min_size}-{max_size}. "
                "Turn off the rule that separates them, or change the size range."]))
            continue
        others = (frozenset() if len(split) == 1 else
                  frozenset(str(x) for x in np.delete(table.ids, rows)))
        compiled = build_problem(sub, A_sub, min_size=min_size, max_size=max_size,
                                 n_groups=part_groups, rules=rules, elsewhere=others)
        if after is not None:  # e.g. match's size shaping (even sizes, per-group bounds)
            after(compiled, label)
        parts.append(Part(label, rows, compiled, [prefix + r for r in diagnose(compiled)]))
    return parts
