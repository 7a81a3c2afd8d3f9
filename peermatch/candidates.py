"""Read and validate candidate tables (CSV files or pandas DataFrames).

This module is the single door for candidate data: every table goes through
:func:`read_candidates`, and code behind it assumes a validated
:class:`CandidateTable`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._csvfile import SEP_NAMES, check_sep, parse_csv_text, raise_problems, read_text
from .errors import CandidatesError, ConfigError

__all__ = [
    "CANONICAL_COLUMNS",
    "LIST_COLUMNS",
    "CandidateTable",
    "parse_csv_text",
    "read_candidates",
    "read_text",
    "split_list",
    "text_key",
]

#: Columns peermatch understands, matched case-insensitively (after trimming) unless a
#: ``columns=`` mapping says otherwise. Every other column passes through untouched.
CANONICAL_COLUMNS: tuple[str, ...] = (
    "id", "name", "industry", "employees", "revenue", "goals", "expertise",
    "region", "availability", "conflicts", "tier", "group",
)
#: Columns holding lists separated by ``;``.
LIST_COLUMNS: tuple[str, ...] = ("goals", "expertise", "availability", "conflicts")


@dataclass
class CandidateTable:
    """A validated candidates table.

    Attributes
    ----------
    frame : pandas.DataFrame
        The table exactly as read (every column, cells as strings, ``""`` for
        empty cells), index ``0..n-1`` in input order. Written back to the output.
    source : str
        File name, or ``"<DataFrame>"``; used in messages.
    columns : dict of str to str
        Canonical name -> column name in ``frame``, for the canonical columns present.
    lines : ndarray of shape (n,) of int
        1-based line in the source file of each row (the header is line 1); for a
        DataFrame, the row position + 2 so messages read the same.
    ids : ndarray of shape (n,) of object
        Trimmed ids as typed, unique (also when compared in Unicode NFC).
    industry : ndarray of shape (n,) of object
        Trimmed industry labels or codes (never empty), in Unicode NFC.
    employees, revenue : ndarray of shape (n,) of float
        Company size; NaN where missing or where the column is absent.
    goals, expertise, availability, conflicts : list of list of str
        Trimmed, non-empty tokens of the ``;``-separated lists, in Unicode NFC (empty
        lists where the column is absent). ``conflicts`` holds ids as spelled in
        ``ids``.
    region, tier : ndarray of shape (n,) of object, or None
        Trimmed strings in Unicode NFC (``""`` where missing), None when the column
        is absent.
    group : ndarray of shape (n,) of object, or None
        Trimmed group names as typed (``""`` where missing), None when the column is
        absent.
    """

    frame: pd.DataFrame
    source: str
    columns: dict[str, str]
    lines: np.ndarray
    ids: np.ndarray
    industry: np.ndarray
    employees: np.ndarray
    revenue: np.ndarray
    goals: list[list[str]] = field(default_factory=list)
    expertise: list[list[str]] = field(default_factory=list)
    availability: list[list[str]] = field(default_factory=list)
    conflicts: list[list[str]] = field(default_factory=list)
    region: np.ndarray | None = None
    tier: np.ndarray | None = None
    group: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n(self) -> int:
        """Number of candidates."""
        return len(self.ids)

    def subset(self, rows: np.ndarray) -> CandidateTable:
        """The table restricted to ``rows`` (positions), in that order.

        ``conflicts`` entries pointing outside the subset are dropped.
        """
        rows = np.asarray(rows, dtype=np.int64)
        keep = set(self.ids[rows].tolist())

        def pick(lst):
            return [lst[i] for i in rows] if lst else []

        def opt(a):
            return None if a is None else a[rows]

        return CandidateTable(
            frame=self.frame.iloc[rows].reset_index(drop=True),
            source=self.source,
            columns=dict(self.columns),
            lines=self.lines[rows],
            ids=self.ids[rows],
            industry=self.industry[rows],
            employees=self.employees[rows],
            revenue=self.revenue[rows],
            goals=pick(self.goals),
            expertise=pick(self.expertise),
            availability=pick(self.availability),
            conflicts=[[c for c in self.conflicts[i] if c in keep] for i in rows]
            if self.conflicts else [],
            region=opt(self.region),
            tier=opt(self.tier),
            group=opt(self.group),
        )


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------

_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_BLANKS_RE = re.compile(r"[\s_]+")  # \s covers no-break and thin spaces too
_SIZE_EXPECTED = {
    "employees": "a non-negative number of employees",
    "revenue": "a non-negative revenue amount (a plain number, no currency sign)",
}


def read_candidates(source, *, columns: dict[str, str] | None = None, sep: str | None = None,
                    encoding: str | None = None) -> CandidateTable:
    """Read and validate a candidates table.

    Every cell is read as a string, so nothing is converted behind your back
    (ids and NAICS codes keep their leading zeros). Canonical columns
    (:data:`CANONICAL_COLUMNS`) are matched case-insensitively after trimming the
    header names, unless ``columns`` says which column holds which; every other
    column passes through untouched in :attr:`CandidateTable.frame`.

    The table must have an ``id`` column (unique, non-empty ids), an ``industry``
    column (a label or a code such as NAICS ``"541511"``, never empty) and at least
    one of the company size columns ``employees`` and ``revenue``. With one of the two,
    every row needs a valid value in it; with both, every row needs a valid value in
    at least one of them. Sizes are plain non-negative numbers: spaces and
    underscores are ignored (``"1 200"``, ``"1_200"``), decimals and scientific
    notation are accepted, thousands separators such as ``","`` and currency signs
    are not.

    List columns (``goals``, ``expertise``, ``availability``, ``conflicts``) are
    split on ``;``, tokens trimmed and empty tokens dropped. In a ``;``-delimited
    file the lists cannot use an unquoted ``;``, so there the list separator is
    ``|`` or ``,`` (a quoted cell may still use ``;``). ``conflicts`` holds ids of
    other candidates of the table.

    Files are decoded as UTF-8 (a byte order mark is dropped; UTF-16 with a byte
    order mark is read too). A file that is not valid UTF-8 is read as
    Windows-1252 (or Latin-1 when even that fails) with a
    :class:`~peermatch.errors.DataWarning`. A compressed file (gzip, bz2, xz, or a
    zip or tar archive holding one file) is read whatever its name, as pandas
    does. The delimiter (``,``, ``;``, tab or ``|``) is the one named by Excel's
    first line ``sep=;`` when there is one, else detected from the header and the
    first rows. Windows line ends, blank lines (also lines with only separators),
    whitespace around header names and spaces after a separator (so
    ``a, "b, c"`` reads as two cells) are handled silently. A cell may hold up to
    16 Mi characters (long free-text notes are fine).

    Text compared between rows (ids, industry, region, tier, list tokens) is
    compared in Unicode normal form NFC, so "Café" typed with a combining accent
    is the same as "Café" typed with a precomposed one. The parsed fields hold
    that form; :attr:`CandidateTable.frame`, written to the output, keeps every
    cell as read.

    Parameters
    ----------
    source : str, path-like or pandas.DataFrame
        Path of a CSV file, or a DataFrame. Non-string cells of a DataFrame are
        converted to strings (missing values to ``""``, whole floats such as
        ``12.0`` to ``"12"``, list-likes joined with ``;``).
    columns : dict of str to str, optional
        Canonical name -> name of the column holding it, for columns whose names
        differ, e.g. ``{"industry": "Sector", "employees": "Headcount"}``
        (command line: ``--column industry=Sector``).
    sep : str, optional
        Field delimiter of the file (one character; ``"\\t"`` or ``"tab"`` for a
        tab). Detected when None.
    encoding : str, optional
        Text encoding of the file (e.g. ``"cp1252"``); skips the detection.

    Returns
    -------
    CandidateTable
        The table as read plus the parsed, validated canonical fields.

    Raises
    ------
    CandidatesError
        If the file cannot be read (missing, a folder, empty, only a header, not
        text, badly quoted) or the table is invalid: required columns missing,
        rows with a wrong number of fields, empty or duplicate ids, empty industry
        cells, company sizes that are missing, not numbers or negative, conflicts
        naming unknown ids or the candidate itself. The message names the file,
        line and column, the offending value, what was expected and how to fix
        it; all problems are reported at once (the first ten of each kind spelled
        out) and are also listed in the exception's ``problems`` attribute.
    ConfigError
        If ``columns``, ``sep`` or ``encoding`` is invalid.
    TypeError
        If ``source`` is neither a path nor a DataFrame.

    Warns
    -----
    DataWarning
        If the file is not valid UTF-8 and was read as Windows-1252 or Latin-1.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "ID": ["007", "042"],
    ...     "Sector": ["541511", "Retail"],
    ...     "employees": [12.0, None],
    ...     "revenue": ["", "2.5e6"],
    ...     "goals": ["growth; hiring", ""],
    ...     "notes": ["keeps its column", ""],
    ... })
    >>> table = read_candidates(df, columns={"industry": "Sector"})
    >>> table.source, len(table)
    ('<DataFrame>', 2)
    >>> table.ids.tolist(), table.industry.tolist()
    (['007', '042'], ['541511', 'Retail'])
    >>> table.employees.tolist(), table.revenue.tolist()
    ([12.0, nan], [nan, 2500000.0])
    >>> table.goals
    [['growth', 'hiring'], []]
    >>> table.columns["industry"], table.lines.tolist()
    ('Sector', [2, 3])
    >>> table.frame["employees"].tolist()
    ['12', '']
    """
    sep = check_sep(sep)
    mapping = _check_mapping(columns)
    if isinstance(source, pd.DataFrame):
        if sep is not None or encoding is not None:
            raise ConfigError("sep= and encoding= apply to CSV files only; source is a "
                              "DataFrame. Leave them out.")
        name = "<DataFrame>"
        frame = _frame_from_dataframe(source)
        lines = np.arange(2, len(frame) + 2, dtype=np.int64)
        header_line = None
        list_sep = ";"
        index_names = [str(x) for x in source.index.names if x is not None]
    elif isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        if isinstance(name, bytes):
            name = os.fsdecode(name)
        text = read_text(Path(name), name, encoding)
        frame, lines, header_line, sep = parse_csv_text(text, name, sep)
        list_sep = "[;|,]" if sep == ";" else ";"
        index_names = []
    else:
        raise TypeError("read_candidates expects a CSV file path (str or pathlib.Path) or a "
                        f"pandas DataFrame. Got {type(source).__name__} instead.")
    resolved = _resolve_columns(list(frame.columns), mapping, name, header_line, sep,
                                index_names)
    return _build_table(frame, lines, name, resolved, list_sep)


# --------------------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------------------

def _check_mapping(columns) -> dict[str, str]:
    if columns is None:
        return {}
    if not isinstance(columns, dict):
        raise ConfigError("columns must map canonical names to column names, e.g. "
                          f"{{'industry': 'Sector'}}. Got {type(columns).__name__} instead.")
    out: dict[str, str] = {}
    for key, value in columns.items():
        canon = key.strip().lower() if isinstance(key, str) else key
        if canon not in CANONICAL_COLUMNS:
            raise ConfigError(
                f"columns= maps {key!r}, which is not a column peermatch knows. Expected "
                f"keys among {list(CANONICAL_COLUMNS)}, e.g. columns={{'industry': 'Sector'}}.")
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"columns= maps {key!r} to {value!r}. Expected the name of a "
                              "column of the table (a non-empty string).")
        if canon in out:
            raise ConfigError(f"columns= maps {canon!r} twice. Give one column per name.")
        out[canon] = value
    seen: dict[str, str] = {}
    for canon, value in out.items():
        low = text_key(value).casefold()
        if low in seen:
            raise ConfigError(f"columns= maps both {seen[low]!r} and {canon!r} to column "
                              f"{value!r}. Expected one column per name.")
        seen[low] = canon
    return out


# --------------------------------------------------------------------------------------
# DataFrames
# --------------------------------------------------------------------------------------

def _cell_to_str(v) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, (set, frozenset)):
        return ";".join(sorted(_cell_to_str(x) for x in v))
    if isinstance(v, (list, tuple, np.ndarray, pd.Series)):
        return ";".join(_cell_to_str(x) for x in v)
    try:
        if bool(pd.isna(v)):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if math.isfinite(f) and f.is_integer() and abs(f) < 2.0**53:
            return str(int(f))
        return str(v) if isinstance(v, np.floating) else repr(f)
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    return str(v)


def _frame_from_dataframe(df: pd.DataFrame) -> pd.DataFrame:
    name = "<DataFrame>"
    names = [str(c).strip() for c in df.columns]
    if not names:
        raise CandidatesError(f"{name}: the DataFrame has no columns. Expected at least "
                              "'id', 'industry' and 'employees' or 'revenue'.")
    dups = sorted({c for c in names if names.count(c) > 1})
    if dups:
        raise CandidatesError(f"{name}: duplicate column names {dups}. Expected each column "
                              "name once; rename or drop the repeated column(s).")
    if len(df) == 0:
        raise CandidatesError(f"{name}: the DataFrame has columns but no rows. Expected one "
                              "row per candidate.")
    data = {c: [_cell_to_str(v) for v in df.iloc[:, j].tolist()] for j, c in enumerate(names)}
    return pd.DataFrame(data, columns=names, dtype=str)


# --------------------------------------------------------------------------------------
# Columns and cells
# --------------------------------------------------------------------------------------

def _resolve_columns(header: list[str], mapping: dict[str, str], name: str,
                     header_line: int | None, sep: str | None,
                     index_names: list[str]) -> dict[str, str]:
    where = name if header_line is None else f"{name}, line {header_line}"
    by_low: dict[str, list[str]] = {}
    for c in header:
        by_low.setdefault(text_key(c).casefold(), []).append(c)
    resolved: dict[str, str] = {}
    missing_mapped: list[tuple[str, str]] = []
    for canon, actual in mapping.items():
        if actual in header:
            resolved[canon] = actual
            continue
        cands = by_low.get(text_key(actual).casefold(), [])
        if len(cands) == 1:
            resolved[canon] = cands[0]
        elif cands:
            raise CandidatesError(
                f"{where}: columns= maps {canon!r} to {actual!r}, which matches several "
                f"columns {cands}. Give the exact column name.")
        else:
            missing_mapped.append((canon, actual))
    used = set(resolved.values())
    for canon in CANONICAL_COLUMNS:
        if canon in mapping:
            continue
        cands = [c for c in by_low.get(canon, []) if c not in used]
        if len(cands) == 1:
            resolved[canon] = cands[0]
        elif cands:
            raise CandidatesError(
                f"{where}: columns {cands} all match {canon!r} (names are compared ignoring "
                f"case). Rename all but one, or choose one with columns={{{canon!r}: "
                f"{cands[0]!r}}} (command line: --column {canon}={cands[0]}).")

    found = f"Columns found: {header}."
    if missing_mapped:
        parts = []
        for canon, actual in missing_mapped:
            close = difflib.get_close_matches(actual, header, n=1, cutoff=0.6)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            parts.append(f"columns= maps {canon!r} to {actual!r}, which is not a column of the "
                         f"table.{hint}")
        raise CandidatesError(f"{where}: {' '.join(parts)} {found} Fix the name in the "
                              "mapping (command line: --column NAME=COLUMN).")

    missing = [c for c in ("id", "industry") if c not in resolved]
    no_size = "employees" not in resolved and "revenue" not in resolved
    if not missing and not no_size:
        return resolved
    parts = []
    if missing:
        parts.append(f"required columns expected but not found: {missing}.")
    if no_size:
        parts.append("At least one company size column, 'employees' or 'revenue', is "
                     "required but neither was found.")
    parts.append(found)
    free = [c for c in header if c not in resolved.values()]
    hints = []
    for canon in missing + (["employees", "revenue"] if no_size else []):
        close = difflib.get_close_matches(canon, [c.casefold() for c in free], n=1, cutoff=0.6)
        if close:
            col = next(c for c in free if c.casefold() == close[0])
            hints.append(f"Did you mean {col!r} for {canon!r}?")
        if canon in index_names:
            hints.append(f"The DataFrame index is named {canon!r}: call df.reset_index() "
                         "first.")
    parts += hints
    example = (missing or ["employees"])[0]
    parts.append(
        "Rename the column(s) in the file, or say which column holds each one: "
        f"read_candidates(..., columns={{{example!r}: 'YourColumn'}}) (command line: "
        f"--column {example}=YourColumn).")
    if len(header) == 1 and sep is not None:
        parts.append(f"Only one column was found with the delimiter "
                     f"{SEP_NAMES.get(sep, repr(sep))}: if the file uses another delimiter, "
                     "pass it with sep= (command line: --sep).")
    raise CandidatesError(f"{where}: " + " ".join(parts))


def _parse_size(raw: str) -> tuple[float, str | None]:
    """``(value, problem)``; value NaN and problem None for an empty cell."""
    s = raw.strip()
    if not s:
        return math.nan, None
    compact = _BLANKS_RE.sub("", s)
    if _NUMBER_RE.fullmatch(compact):
        value = float(compact)
        if not math.isfinite(value):
            return math.nan, f"value {raw!r} is too large"
        if value < 0:
            return math.nan, f"value {raw!r} is negative"
        return value, None
    if re.fullmatch(r"[$€£¥]?[+-]?[\d.,']+[$€£¥]?", compact) and re.search(r"\d", compact):
        return math.nan, (f"value {raw!r} is not a plain number (thousands separators, decimal "
                          "commas and currency signs are not accepted: write 1200, not "
                          "1,200 or $1200; 1.5, not 1,5)")
    return math.nan, f"value {raw!r} is not a number"


def split_list(raw: str, list_sep: str) -> list[str]:
    """The trimmed, non-empty tokens of a list cell.

    Parameters
    ----------
    raw : str
        The cell.
    list_sep : str
        The list separator: one character, or a regular expression of several
        (``"[;|,]"`` in a ``;``-delimited file).

    Returns
    -------
    list of str
        Tokens as written (trimmed only).

    Examples
    --------
    >>> split_list("growth;; hiring ;", ";"), split_list("a|b, c", "[;|,]")
    (['growth', 'hiring'], ['a', 'b', 'c'])
    """
    if not raw or raw.isspace():
        return []
    toks = re.split(list_sep, raw) if len(list_sep) > 1 else raw.split(list_sep)
    return [t.strip() for t in toks if t.strip()]


def text_key(text: str) -> str:
    """The form of a cell compared with others: trimmed, in Unicode normal form NFC.

    "Café" typed with a combining accent (NFD, as some Mac and web exports write it)
    and "Café" with a precomposed one (NFC) are the same text to a reader, so they
    are one industry, region, tag or id. Only the parsed fields of a
    :class:`CandidateTable` hold keys; its ``frame`` keeps every cell as read.

    >>> text_key(" Cafe\\u0301 ") == "Caf\\u00e9"
    True
    """
    s = text.strip()
    # Pure ASCII is always NFC: skip the normalisation on the common path.
    return s if s.isascii() else unicodedata.normalize("NFC", s)


@dataclass
class _Where:
    """Where a cell is, for messages."""

    name: str
    lines: np.ndarray
    resolved: dict[str, str]

    def col(self, canon: str) -> str:
        actual = self.resolved[canon]
        return f"column {actual!r}" if actual == canon else f"column {actual!r} ({canon})"

    def at(self, i: int) -> str:
        line = f"line {self.lines[i]}"
        return f"{line} (row {i})" if self.name == "<DataFrame>" else line

    def cell(self, i: int, canon: str) -> str:
        return f"{self.name}, {self.at(i)}, {self.col(canon)}"


def _check_ids(raw_ids: list[str], where: _Where, problems: list) -> tuple[np.ndarray, dict]:
    """Trimmed ids, and the row of each id by its :func:`text_key`; problems appended."""
    ids = np.array([v.strip() for v in raw_ids], dtype=object)
    rows_of: dict[str, list[int]] = {}
    for i, v in enumerate(ids):
        if not v:
            problems.append(("empty ids", f"{where.cell(i, 'id')}: the id is empty (value "
                             f"{raw_ids[i]!r}). Expected a unique id for every candidate; "
                             "fill it in or delete the row."))
        else:
            rows_of.setdefault(text_key(v), []).append(i)
    for rows in rows_of.values():
        if len(rows) > 1:
            shown = ", ".join(str(where.lines[i]) for i in rows)
            forms = (" (written in different Unicode forms, which look the same)"
                     if len({ids[i] for i in rows}) > 1 else "")
            problems.append(("duplicate ids", f"{where.name}, {where.col('id')}: id "
                             f"{ids[rows[0]]!r} appears {len(rows)} times{forms}, on lines "
                             f"{shown}. Expected unique ids; give each candidate its own id, "
                             "or delete the repeated row(s)."))
    return ids, {key: ids[rows[0]] for key, rows in rows_of.items()}


def _check_industry(raw: list[str], where: _Where, problems: list) -> np.ndarray:
    industry = np.array([text_key(v) for v in raw], dtype=object)
    for i, v in enumerate(industry):
        if not v:
            problems.append(("empty industry cells", f"{where.cell(i, 'industry')}: the "
                             f"industry is empty (value {raw[i]!r}). Expected an industry "
                             "label or code (e.g. 'Software' or NAICS '541511'); fill it in."))
    return industry


def _check_sizes(frame: pd.DataFrame, where: _Where, problems: list) -> dict[str, np.ndarray]:
    """``{"employees": ..., "revenue": ...}`` as floats, NaN where missing."""
    resolved, n = where.resolved, len(frame)
    size_cols = [c for c in ("employees", "revenue") if c in resolved]
    sizes = {c: np.full(n, np.nan) for c in ("employees", "revenue")}
    bad = np.zeros(n, dtype=bool)
    for c in size_cols:
        other = "revenue" if c == "employees" else "employees"
        for i, cell in enumerate(frame[resolved[c]].tolist()):
            value, why = _parse_size(cell)
            sizes[c][i] = value
            if why is None:
                continue
            bad[i] = True
            fix = (f"fix the cell or leave it empty if {resolved[other]!r} is given"
                   if len(size_cols) == 2 else "fix the cell")
            problems.append(("company size problems", f"{where.cell(i, c)}: {why}. Expected "
                             f"{_SIZE_EXPECTED[c]}; {fix}."))
    if len(size_cols) == 1:
        c = size_cols[0]
        other = "revenue" if c == "employees" else "employees"
        for i in np.flatnonzero(np.isnan(sizes[c]) & ~bad):
            problems.append(("company size problems", f"{where.cell(i, c)}: the value is "
                             f"missing. Expected {_SIZE_EXPECTED[c]} in every row (the table "
                             f"has no {other!r} column); fill it in."))
    else:
        both = np.isnan(sizes["employees"]) & np.isnan(sizes["revenue"]) & ~bad
        for i in np.flatnonzero(both):
            problems.append(("company size problems", f"{where.name}, {where.at(i)}, columns "
                             f"{resolved['employees']!r} and {resolved['revenue']!r}: both "
                             "are empty. Expected the company size in at least one of them; "
                             "fill in the number of employees or the revenue."))
    return sizes


def _check_conflicts(lists: list[list[str]], ids: np.ndarray, id_of: dict[str, str],
                     where: _Where, list_sep: str, problems: list) -> list[list[str]]:
    """Conflict tokens as the ids of the table (matched by :func:`text_key`)."""
    folded = {key.casefold(): v for key, v in id_of.items()}
    sep_word = "';'" if list_sep == ";" else "'|' or ','"
    out = []
    for i, toks in enumerate(lists):
        row = []
        for t in toks:
            found = id_of.get(t)
            if found == ids[i]:
                problems.append(("conflict problems", f"{where.cell(i, 'conflicts')}: "
                                 f"candidate {t!r} lists itself. Expected ids of other "
                                 f"candidates; remove {t!r} from the cell."))
            elif found is None:
                close = folded.get(t.casefold())
                hint = f" (did you mean {close!r}?)" if close else ""
                problems.append(("conflict problems", f"{where.cell(i, 'conflicts')}: id "
                                 f"{t!r} is not in the table{hint}. Expected ids of other "
                                 f"candidates (column {where.resolved['id']!r}) separated by "
                                 f"{sep_word}; fix the id or remove it."))
            row.append(found)
        out.append(row)
    return out


def _build_table(frame: pd.DataFrame, lines: np.ndarray, name: str,
                 resolved: dict[str, str], list_sep: str) -> CandidateTable:
    """Parse and check the canonical columns; raise every problem at once.

    Fields compared with others (ids aside, kept as typed) hold :func:`text_key`
    forms; ``frame`` keeps the cells as read, so the output passes them through.
    """
    n = len(frame)
    where = _Where(name, lines, resolved)

    def cells(canon: str) -> list[str]:
        return frame[resolved[canon]].tolist()

    problems: list[tuple[str, str]] = []
    ids, id_of = _check_ids(cells("id"), where, problems)
    industry = _check_industry(cells("industry"), where, problems)
    sizes = _check_sizes(frame, where, problems)
    lists: dict[str, list[list[str]]] = {}
    for c in LIST_COLUMNS:
        lists[c] = ([[text_key(t) for t in split_list(v, list_sep)] for v in cells(c)]
                    if c in resolved else [[] for _ in range(n)])
    if "conflicts" in resolved:
        lists["conflicts"] = _check_conflicts(lists["conflicts"], ids, id_of, where,
                                              list_sep, problems)
    raise_problems(name, problems)

    def opt(canon: str):
        if canon not in resolved:
            return None
        # The group column names groups in the output: kept as typed, only trimmed.
        key = str.strip if canon == "group" else text_key
        return np.array([key(v) for v in cells(canon)], dtype=object)

    return CandidateTable(
        frame=frame, source=name, columns=dict(resolved), lines=lines, ids=ids,
        industry=industry, employees=sizes["employees"], revenue=sizes["revenue"],
        goals=lists["goals"], expertise=lists["expertise"],
        availability=lists["availability"], conflicts=lists["conflicts"],
        region=opt("region"), tier=opt("tier"), group=opt("group"),
    )


# Old private names, kept while other modules move to the public ones.
_parse_csv_text = parse_csv_text
_read_text = read_text
_split = split_list
