"""An independent validator of groupings, written from the raw table cells only.

It shares no code with peermatch: it re-reads the strings of the candidates table as
the user gave it (a DataFrame or a CSV file), applies every documented hard rule
(``docs/rules.md``) by plain loops, and reports every violation. Of peermatch it only
reads the fields of a ``Rules`` value (any object with those attributes will do).

The rule families, by the keys the library reports them under:

* ``sizes``: everyone placed, every group within ``min_size..max_size`` (and
  ``n_groups`` groups when given);
* ``competitors``: no two members equal on every competitor column (trimmed,
  case-folded; numeric industry codes cut to ``industry_depth``; an empty non-industry
  cell matches every value; ``competitor_exceptions`` exempt);
* ``conflicts``: no pair named in the ``conflicts`` column or ``conflict_file``;
* ``max_repeats``: no pair that met more than ``max_repeats`` times in ``history``;
* ``together``: each pair in one group;
* ``placement``: pins, allowed groups, locked groups, and existing members staying
  in their group (``keep_existing``);
* ``max_per_group``, ``at_least_one``, ``no_isolated``: per-group counts of a value;
* ``balance``: each group's mean within the tolerance of the mean of its tier/region
  part (a missing value counts as that mean);
* ``spread``: each value's count per group is the floor or ceiling of its share over
  the groups of its part;
* ``separate_tiers``, ``same_region``: no group mixes tiers / regions;
* ``common_slot``: a slot shared by ``ceil(slot_quorum * size)`` members, and the
  ``meeting_slot`` column names such a slot.

:func:`findings` returns ``(family, message)`` pairs; :func:`violations` the messages.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections import Counter, defaultdict

import pandas as pd

#: Every family this validator checks (the keys of docs/rules.md, plus "table" for the
#: output table itself: rows, ids and pass-through columns).
FAMILIES = ("table", "sizes", "competitors", "conflicts", "max_repeats", "together",
            "placement", "max_per_group", "at_least_one", "balance", "spread", "no_isolated",
            "separate_tiers", "same_region", "common_slot")

#: Rule settings and their defaults, as documented for ``peermatch.Rules``.
DEFAULTS = {
    "competitors": ("industry", "region"), "industry_depth": None,
    "competitor_exceptions": (), "conflicts": True, "conflict_file": None, "together": (),
    "pins": {}, "allowed_groups": {}, "locked_groups": (), "max_per_group": {},
    "at_least_one": (), "no_isolated": (), "balance": {}, "spread": (),
    "separate_tiers": False, "same_region": False, "common_slot": False,
    "slot_quorum": 1.0, "keep_existing": True, "history": (), "max_repeats": None,
}
CANONICAL = ("id", "name", "industry", "employees", "revenue", "goals", "expertise",
             "region", "availability", "conflicts", "tier", "group")
LISTS = ("goals", "expertise", "availability", "conflicts")
_EPS = 1e-9


def _norm(s) -> str:
    """The matching key of a label: NFC, inner whitespace collapsed, case-folded."""
    return " ".join(unicodedata.normalize("NFC", str(s)).split()).casefold()


def _cell(v) -> str:
    """A cell as the string the user typed ('' for an empty or missing one)."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (list, tuple, set, frozenset)):
        return ";".join(_cell(x) for x in v)
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def _frame(x) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        return x
    return pd.read_csv(x, dtype=str, keep_default_na=False)


def _find(df: pd.DataFrame, name: str) -> str | None:
    for c in df.columns:
        if str(c).strip().casefold() == name:
            return c
    return None


def _setting(rules, name):
    value = getattr(rules, name, DEFAULTS[name]) if rules is not None else DEFAULTS[name]
    if name in ("competitors", "competitor_exceptions", "no_isolated", "spread",
                "locked_groups", "history"):
        if value is None:
            return ()
        if isinstance(value, (str, os.PathLike, pd.DataFrame)):
            return (value,)
        return tuple(value)
    return value


class _Table:
    """The candidates' cells, read the documented way, and the grouping of each row."""

    def __init__(self, raw: pd.DataFrame, columns: dict[str, str] | None, list_sep: str):
        self.raw = raw
        self.sep = list_sep
        self.names = [str(c).strip() for c in raw.columns]
        self.canon: dict[str, object] = {}
        for canon in CANONICAL:
            want = (columns or {}).get(canon)
            for c, name in zip(raw.columns, self.names, strict=True):
                if (want is not None and name.casefold() == want.strip().casefold()) or (
                        want is None and name.casefold() == canon):
                    self.canon[canon] = c
                    break
        self.ids = [_cell(x).strip() for x in raw[self.canon["id"]]]
        self.n = len(self.ids)

    def column(self, col: str):
        """The DataFrame column the rules mean by ``col``, or None."""
        if col in self.canon:
            return self.canon[col]
        for c, name in zip(self.raw.columns, self.names, strict=True):
            if name == col:
                return c
        return None

    def cells(self, col: str) -> list[str] | None:
        c = self.column(col)
        return None if c is None else [_cell(x).strip() for x in self.raw[c]]

    def values(self, col: str, depth: int | None = None) -> list[str] | None:
        """Normalised values of a rule column ("sector": the industry at depth unless the
        table has its own sector column)."""
        if col == "sector" and self.column("sector") is None:
            col = "industry"
        elif col == "sector":
            depth = None
        cells = self.cells(col)
        if cells is None:
            return None
        if col == "industry" and depth is not None:
            cells = [_sector(v, depth) for v in cells]
        return [_norm(v) for v in cells]

    def tokens(self, col: str) -> list[list[str]] | None:
        """Normalised tokens of a list column, or None for other columns."""
        if col not in LISTS or col not in self.canon:
            return None
        out = []
        for v in self.cells(col):
            toks = re.split(self.sep, v) if len(self.sep) > 1 else v.split(self.sep)
            out.append([_norm(t) for t in toks if t.strip()])
        return out

    def numbers(self, col: str) -> list[float | None] | None:
        cells = self.cells(col)
        if cells is None:
            return None
        out: list[float | None] = []
        for v in cells:
            s = re.sub(r"[\s_]+", "", v) if col in ("employees", "revenue") else v
            try:
                x = float(s) if s else None
            except ValueError:
                x = None
            out.append(x if x is not None and math.isfinite(x) else None)
        return out


def _sector(label: str, depth: int) -> str:
    digits = re.match(r"^(\d+)", label.strip())
    return digits.group(1)[:depth] if digits else label


def _groups(t: _Table, out: pd.DataFrame) -> tuple[list[str], dict[str, list[int]]]:
    gcol = _find(out, "group")
    group = [_cell(g).strip() for g in out[gcol]] if gcol is not None else [""] * t.n
    members: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(group):
        if g:
            members[g].append(i)
    return group, dict(members)


def _pairs_in_groups(members):
    for g, rows in members.items():
        for x, i in enumerate(rows):
            for j in rows[x + 1:]:
                yield g, i, j


# --------------------------------------------------------------------------------------
# The families


def _check_table(t: _Table, out: pd.DataFrame):
    if len(out) != t.n:
        yield f"{t.n} input rows but {len(out)} output rows"
        return
    idc = t.canon["id"]
    if idc not in out.columns or [_cell(x).strip() for x in out[idc]] != t.ids:
        yield "output ids differ from input ids (order or content)"
    for c in t.raw.columns:  # every input column passes through untouched
        if str(c).strip().casefold() == "group":
            continue
        if c not in out.columns or [_cell(x) for x in out[c]] != [_cell(x) for x in t.raw[c]]:
            yield f"column {c!r} changed"


def _check_sizes(t, group, members, min_size, max_size, n_groups, group_sizes):
    for i, g in enumerate(group):
        if not g:
            yield f"{t.ids[i]} not placed"
    for g, rows in members.items():
        lo, hi = _bounds(group_sizes.get(g), min_size, max_size)
        if not lo <= len(rows) <= hi:
            yield f"group {g} has {len(rows)} members, outside {lo}-{hi}"
    if n_groups is not None and len(members) != n_groups:
        yield f"{len(members)} groups instead of {n_groups}"


def _bounds(size, lo, hi):
    """A group's own size (an int, or a (min, max) pair) instead of the common range."""
    if size is None:
        return lo, hi
    return (size, size) if isinstance(size, int) else tuple(size)


def _check_competitors(t, rules, members):
    cols = _setting(rules, "competitors")
    depth = _setting(rules, "industry_depth")
    values = {}
    for c in cols:
        v = t.values(c, depth if c in ("industry", "sector") else None)
        if v is not None:
            values[c] = v
        elif not (tuple(cols) == DEFAULTS["competitors"] and c != "industry"):
            yield f"the competitor column {c!r} is missing"
    if not values:
        return
    exceptions = {_norm(x) for x in _setting(rules, "competitor_exceptions")}
    exempt = [("industry" in values and values["industry"][i] in exceptions)
              for i in range(t.n)]
    keys = list(values)
    wild = [any(values[k][i] == "" for k in keys if k != "industry") for i in range(t.n)]

    def covers(a, b):  # a's non-empty values all equal b's
        return all(values[k][a] == "" or values[k][a] == values[k][b] for k in keys)

    for g, i, j in _pairs_in_groups(members):
        if exempt[i] or exempt[j]:
            continue
        same = all(values[k][i] == values[k][j] for k in keys)
        if same or (wild[i] and covers(i, j)) or (wild[j] and covers(j, i)):
            yield f"competitors {t.ids[i]} and {t.ids[j]} share group {g}"


def _check_conflicts(t, rules, group):
    pos = {x: i for i, x in enumerate(t.ids)}
    pairs = []
    cells = t.cells("conflicts") if "conflicts" in t.canon else None
    if _setting(rules, "conflicts") and cells is not None:
        for i, cell in enumerate(cells):
            for other in re.split(t.sep, cell) if len(t.sep) > 1 else cell.split(t.sep):
                if other.strip() in pos:
                    pairs.append((i, pos[other.strip()], "conflicts column"))
    source = _setting(rules, "conflict_file")
    if source is not None:
        df = _frame(source)
        col = {str(c).strip().casefold(): c for c in df.columns}
        for a, b in zip(df[col["id_a"]], df[col["id_b"]], strict=True):
            a, b = _cell(a).strip(), _cell(b).strip()
            if a in pos and b in pos:
                pairs.append((pos[a], pos[b], "conflict file"))
    for i, j, where in pairs:
        if i != j and group[i] and group[i] == group[j]:
            yield f"conflict {t.ids[i]} / {t.ids[j]} ({where}) share group {group[i]}"


def _check_repeats(t, rules, group):
    history, cap = _setting(rules, "history"), _setting(rules, "max_repeats")
    if not history or cap is None:
        return
    pos = {x: i for i, x in enumerate(t.ids)}
    met: Counter = Counter()
    for h in history:
        df = _frame(h)
        idc, gc = _find(df, "id"), _find(df, "group")
        before: dict[str, set[int]] = defaultdict(set)
        for i, g in zip(df[idc], df[gc], strict=True):
            i, g = _cell(i).strip(), _cell(g).strip()
            if i in pos and g:
                before[g].add(pos[i])
        for rows in before.values():
            rows = sorted(rows)
            for x, a in enumerate(rows):
                for b in rows[x + 1:]:
                    met[(a, b)] += 1
    for (a, b), k in met.items():
        if k > cap and group[a] and group[a] == group[b]:
            yield f"{t.ids[a]} and {t.ids[b]} met {k} time(s) before and share group {group[a]}"


def _check_together(t, rules, group):
    pos = {x: i for i, x in enumerate(t.ids)}
    for a, b in _setting(rules, "together"):
        a, b = str(a).strip(), str(b).strip()
        if a not in pos or b not in pos:
            yield f"together names unknown id(s) {a!r}, {b!r}"
        elif not group[pos[a]] or group[pos[a]] != group[pos[b]]:
            yield f"{a} and {b} must be together (groups {group[pos[a]]!r}, {group[pos[b]]!r})"


def _check_placement(t, rules, group, members, check_existing):
    pos = {x: i for i, x in enumerate(t.ids)}
    for member, g in dict(_setting(rules, "pins")).items():
        i = pos.get(str(member).strip())
        if i is None or group[i] != str(g).strip():
            yield f"{member} is pinned to group {g} but is in {group[i] if i is not None else '?'}"
    for member, gs in dict(_setting(rules, "allowed_groups")).items():
        gs = [gs] if isinstance(gs, str) else gs
        i = pos.get(str(member).strip())
        if i is None or group[i] not in {str(x).strip() for x in gs}:
            yield f"{member} may only join {list(gs)}"
    old = t.cells("group") if "group" in t.canon else None
    locked = {str(g).strip() for g in _setting(rules, "locked_groups")}
    if old is None:
        if locked:
            yield f"locked groups {sorted(locked)} but the table has no group column"
        return
    keep = check_existing and _setting(rules, "keep_existing")
    for i, g in enumerate(old):
        if g and (g in locked or keep) and group[i] != g:
            yield f"{t.ids[i]} left existing group {g} for {group[i]!r}"
    for g in locked:
        joined = [t.ids[i] for i in members.get(g, []) if old[i] != g]
        if joined:
            yield f"locked group {g} was joined by {joined}"


def _value_counts(rows, vals):
    return Counter(vals[i] for i in rows if vals[i] != "")


def _check_caps(t, rules, members):
    depth = _setting(rules, "industry_depth")
    for col, cap in dict(_setting(rules, "max_per_group")).items():
        vals = t.values(col, depth if col == "sector" else None)
        if vals is None:
            yield f"max_per_group column {col!r} is missing"
            continue
        for g, rows in members.items():
            for v, k in _value_counts(rows, vals).items():
                if k > cap:
                    yield f"group {g} has {k} members with {col} {v!r} (cap {cap})"


def _check_presence(t, rules, members):
    for col, value in _setting(rules, "at_least_one"):
        toks, vals, want = t.tokens(col), t.values(col), _norm(value)
        if toks is None and vals is None:
            yield f"at_least_one column {col!r} is missing"
            continue
        for g, rows in members.items():
            has = [want in toks[i] for i in rows] if toks is not None else [
                vals[i] == want for i in rows]
            if not any(has):
                yield f"group {g} has no member with {col} {value!r}"


def _check_isolated(t, rules, members):
    for col in _setting(rules, "no_isolated"):
        vals = t.values(col)
        if vals is None:
            yield f"no_isolated column {col!r} is missing"
            continue
        for g, rows in members.items():
            for v, k in _value_counts(rows, vals).items():
                if k == 1:
                    yield f"group {g} holds a single member with {col} {v!r}"


def _parts(t, rules, members):
    """``{part key: {group: rows of that part in it}}`` for the tier/region split."""
    keys = []
    if _setting(rules, "separate_tiers"):
        keys.append(t.values("tier"))
    if _setting(rules, "same_region"):
        keys.append(t.values("region"))
    keys = [k for k in keys if k is not None]
    parts: dict[tuple, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for g, rows in members.items():
        for i in rows:
            parts[tuple(k[i] for k in keys)][g].append(i)
    return parts


def _check_split(t, rules, members, family, col):
    if not _setting(rules, family):
        return
    vals = t.values(col)
    if vals is None:
        yield f"{family} needs a {col!r} column"
        return
    for g, rows in members.items():
        seen = sorted({vals[i] for i in rows})
        if len(seen) > 1:
            yield f"group {g} mixes {col}s {seen}"


def _check_balance(t, rules, parts):
    for col, tol in dict(_setting(rules, "balance")).items():
        x = t.numbers(col)
        if x is None:
            yield f"balance column {col!r} is missing"
            continue
        for groups in parts.values():
            rows = [i for rs in groups.values() for i in rs]
            known = [x[i] for i in rows if x[i] is not None]
            mu = sum(known) / len(known) if known else 0.0
            if isinstance(tol, str) and tol.strip().endswith("%"):
                d = abs(mu) * float(tol.strip()[:-1]) / 100.0
            else:
                d = float(tol)
            for g, rs in groups.items():
                mean = sum(x[i] if x[i] is not None else mu for i in rs) / len(rs)
                if abs(mean - mu) > d + 1e-7 * (1.0 + abs(mu) + d):
                    yield (f"group {g} has mean {col} {mean:.6g}, outside {mu:.6g} +- {d:.6g}")


def _check_spread(t, rules, parts):
    for col in _setting(rules, "spread"):
        vals = t.values(col)
        if vals is None:
            yield f"spread column {col!r} is missing"
            continue
        for groups in parts.values():
            m = len(groups)
            total = _value_counts([i for rs in groups.values() for i in rs], vals)
            for g, rs in groups.items():
                here = _value_counts(rs, vals)
                for v, c in total.items():
                    if not c // m <= here.get(v, 0) <= -(-c // m):
                        yield (f"group {g} has {here.get(v, 0)} members with {col} {v!r}, "
                               f"not {c // m}-{-(-c // m)} ({c} over {m} groups)")


def _check_slots(t, rules, members, out):
    if not _setting(rules, "common_slot"):
        return
    toks = t.tokens("availability")
    if toks is None:
        yield "common_slot needs an 'availability' column"
        return
    q = float(_setting(rules, "slot_quorum"))
    scol = _find(out, "meeting_slot")
    for g, rows in members.items():
        need = math.ceil(q * len(rows) - _EPS)
        count = Counter(s for i in rows for s in set(toks[i]))
        if max(count.values(), default=0) < need:
            yield f"group {g}: no slot shared by {need} of its {len(rows)} members"
        if scol is None:
            yield f"group {g}: the output has no meeting_slot column"
            continue
        named = {_norm(_cell(out[scol].iloc[i])) for i in rows}
        if len(named) != 1:
            yield f"group {g}: its members show different meeting slots {sorted(named)}"
        elif count.get(next(iter(named)), 0) < need:
            yield f"group {g}: meeting slot {next(iter(named))!r} is shared by fewer than {need}"


# --------------------------------------------------------------------------------------
# Entry points


def findings(raw, out, min_size: int, max_size: int,
             competitors: tuple[str, ...] | None = None, n_groups: int | None = None, *,
             rules=None, columns: dict[str, str] | None = None, list_sep: str = ";",
             check_existing: bool = True,
             group_sizes: dict | None = None) -> list[tuple[str, str]]:
    """Every broken rule of the grouping ``out`` of ``raw``, as ``(family, message)``.

    Parameters
    ----------
    raw : DataFrame or path
        The candidates table as the user gave it.
    out : DataFrame or path
        The grouping: the input rows in input order, with a ``group`` column (and
        ``meeting_slot`` under ``common_slot``).
    min_size, max_size, n_groups : int
        The sizes asked for.
    competitors : tuple of str, optional
        The competitor columns; default: ``rules.competitors``, else industry and region.
    rules : peermatch.Rules, optional
        The rules in force (only its fields are read).
    columns : dict, optional
        The ``columns=`` rename map given to peermatch (canonical name -> column).
    check_existing : bool, default True
        Check that existing members (the input's ``group`` column) stay in their group
        under ``keep_existing``; off for commands that move members on purpose (repair).
    group_sizes : dict, optional
        Group name -> its own size (an int or a ``(min, max)`` pair), as ``match`` takes.
    """
    raw, out = _frame(raw), _frame(out)
    if competitors is not None:
        rules = _Override(rules, competitors=tuple(competitors))
    t = _Table(raw, columns, list_sep)
    errs = [("table", m) for m in _check_table(t, out)]
    if errs and len(out) != t.n:
        return errs
    group, members = _groups(t, out)
    parts = _parts(t, rules, members)
    checks = [
        ("sizes", _check_sizes(t, group, members, min_size, max_size, n_groups,
                               dict(group_sizes or {}))),
        ("competitors", _check_competitors(t, rules, members)),
        ("conflicts", _check_conflicts(t, rules, group)),
        ("max_repeats", _check_repeats(t, rules, group)),
        ("together", _check_together(t, rules, group)),
        ("placement", _check_placement(t, rules, group, members, check_existing)),
        ("max_per_group", _check_caps(t, rules, members)),
        ("at_least_one", _check_presence(t, rules, members)),
        ("balance", _check_balance(t, rules, parts)),
        ("spread", _check_spread(t, rules, parts)),
        ("no_isolated", _check_isolated(t, rules, members)),
        ("separate_tiers", _check_split(t, rules, members, "separate_tiers", "tier")),
        ("same_region", _check_split(t, rules, members, "same_region", "region")),
        ("common_slot", _check_slots(t, rules, members, out)),
    ]
    for family, found in checks:
        errs.extend((family, m) for m in found)
    return errs


def violations(raw, out, min_size: int, max_size: int,
               competitors: tuple[str, ...] | None = None, n_groups: int | None = None,
               **kw) -> list[str]:
    """Every broken rule of the grouping ``out`` of ``raw`` (see :func:`findings`), as
    ``"family: message"`` strings; empty when every rule holds."""
    return [f"{fam}: {msg}" for fam, msg in findings(raw, out, min_size, max_size,
                                                     competitors, n_groups, **kw)]


def broken_families(*args, **kw) -> set[str]:
    """The families :func:`findings` reports for a grouping."""
    return {fam for fam, _ in findings(*args, **kw)}


class _Override:
    """``rules`` with some settings replaced."""

    def __init__(self, rules, **changes):
        self._rules, self._changes = rules, changes

    def __getattr__(self, name):
        if name in self._changes:
            return self._changes[name]
        return getattr(self._rules, name, DEFAULTS.get(name))

