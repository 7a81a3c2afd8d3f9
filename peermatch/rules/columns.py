"""Reading the rule columns of a candidates table: competitors, conflicts, side files.

These helpers read what a rule names (a column, a list column, ids, a pairs file, a
previous grouping) with the same normalisation and the same errors for every family.
"""

from __future__ import annotations

import os
from collections import defaultdict

import numpy as np
import pandas as pd

from ..candidates import CandidateTable
from ..errors import CandidatesError, ConfigError
from ..features import normalize_term, sector_key
from .spec import Rules

__all__ = ["DEFAULT_COMPETITORS", "competitor_classes", "conflict_pairs", "read_pairs",
           "history_counts", "norm", "column_values", "has_column", "raw_value", "list_values",
           "require_column", "ids_to_rows", "numeric_column", "read_side_csv"]

#: How labels are compared (trimmed, case-folded, inner whitespace collapsed): the
#: one normaliser, shared with the features.
norm = normalize_term

#: The competitor columns by default; a default column the table lacks drops out of
#: the rule, a column named explicitly must exist.
DEFAULT_COMPETITORS = ("industry", "region")


def column_values(table: CandidateTable, col: str, depth: int | None) -> np.ndarray | None:
    """Normalised values of a rule column, or None when the table lacks it."""
    if col == "sector" and not has_column(table, "sector"):
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
    return np.array([norm(v) for v in vals], dtype=object)


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
        v = column_values(table, c, rules.industry_depth if c in ("industry", "sector")
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
    exceptions = {norm(x) for x in rules.competitor_exceptions}
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
            raw = raw_value(table, k, first, rules.industry_depth)
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


def has_column(table: CandidateTable, col: str) -> bool:
    """Whether ``col`` is a column of the table (its own name or a mapped canonical one)."""
    return col in table.frame.columns or col in table.columns


def raw_value(table: CandidateTable, col: str, i: int, depth: int | None) -> str:
    """Row ``i``'s value of a rule column as spelled in the table (for messages)."""
    if col == "sector" and not has_column(table, "sector"):
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


def list_values(table: CandidateTable, col: str) -> list[list[str]] | None:
    """Normalised tokens of a list column (goals, expertise, availability), or None."""
    if col in ("goals", "expertise", "availability", "conflicts"):
        lists = getattr(table, col)
        if col not in table.columns:
            return None
        return [[norm(t) for t in lst] for lst in lists]
    return None


def require_column(table: CandidateTable, col: str, rule: str) -> None:
    """Raise a :class:`~peermatch.errors.ConfigError` when ``rule`` names a missing column."""
    if col in ("industry", "sector"):  # "sector" without such a column: industry at depth
        return
    if list_values(table, col) is None and column_values(table, col, None) is None:
        raise ConfigError(f"{table.source}: rule {rule} names column {col!r}, which the table "
                          f"does not have. Columns found: {list(table.frame.columns)}.")


def ids_to_rows(table: CandidateTable, ids, rule: str,
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
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<conflict pairs>"
    if isinstance(source, pd.DataFrame):
        df = source.astype(str)
    else:
        df = read_side_csv(source, name, "conflict pairs", "id_a,id_b,reason")
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


def read_side_csv(source, name: str, what: str, expected: str) -> pd.DataFrame:
    """A side file (conflict pairs, previous grouping) as strings, with clear errors."""
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


def history_counts(table: CandidateTable, history) -> dict[tuple[int, int], int]:
    """How often each pair of current candidates shared a group in previous groupings."""
    pos = {str(x): i for i, x in enumerate(table.ids)}
    counts: dict[tuple[int, int], int] = defaultdict(int)
    for k, h in enumerate(history):
        name = os.fspath(h) if isinstance(h, (str, os.PathLike)) else f"history[{k}]"
        df = h if isinstance(h, pd.DataFrame) else read_side_csv(h, name, "previous grouping",
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



def numeric_column(table: CandidateTable, col: str) -> np.ndarray:
    """A numeric column as floats (NaN where empty); a non-number cell raises."""
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

