"""Read and validate candidate tables (CSV files or pandas DataFrames).

This module is the single door for candidate data: every table goes through
:func:`read_candidates`, and code behind it assumes a validated
:class:`CandidateTable`.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CandidatesError, ConfigError, DataWarning

__all__ = ["CANONICAL_COLUMNS", "LIST_COLUMNS", "CandidateTable", "read_candidates"]

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
        Unique, trimmed ids.
    industry : ndarray of shape (n,) of object
        Trimmed industry labels or codes (never empty).
    employees, revenue : ndarray of shape (n,) of float
        Company size; NaN where missing or where the column is absent.
    goals, expertise, availability, conflicts : list of list of str
        Trimmed, non-empty tokens of the ``;``-separated lists (empty lists where
        the column is absent). ``conflicts`` holds ids that exist in ``ids``.
    region, tier, group : ndarray of shape (n,) of object, or None
        Trimmed strings (``""`` where missing), None when the column is absent.
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

#: At most this many problems of one kind are spelled out in an error message.
_MAX_LISTED = 10
#: Delimiters tried, in order of preference, when ``sep=None``.
_SNIFF_DELIMITERS = (",", ";", "\t", "|")
_SEP_NAMES = {",": "comma ','", ";": "semicolon ';'", "\t": "tab", "|": "pipe '|'"}
_SEP_ALIASES = {"\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_BLANKS_RE = re.compile(r"[\s_]+")  # \s covers no-break and thin spaces too
_SIZE_EXPECTED = {
    "employees": "a non-negative number of employees",
    "revenue": "a non-negative revenue amount (a plain number, no currency sign)",
}
_QUOTE_HINT = ("A value that contains the separator, a quote or a line break must be enclosed "
               "in double quotes, and a quote inside it doubled (\"\").")


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
    :class:`~peermatch.errors.DataWarning`. The delimiter (``,``, ``;``, tab or
    ``|``) is detected from the header and the first rows. Windows line ends,
    blank lines (also lines with only separators), whitespace around header names
    and spaces after a separator (so ``a, "b, c"`` reads as two cells) are handled
    silently.

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
    sep = _check_sep(sep)
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
        text = _read_text(Path(name), name, encoding)
        frame, lines, header_line, sep = _parse_csv_text(text, name, sep)
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

def _check_sep(sep):
    if sep is None:
        return None
    if not isinstance(sep, str):
        raise ConfigError(f"sep must be a single character such as ',', ';' or '\\t'. "
                          f"Got {sep!r} instead.")
    sep = _SEP_ALIASES.get(sep.lower() if len(sep) > 1 else sep, sep)
    if len(sep) != 1 or sep in "\"\r\n" or sep.isalnum():
        raise ConfigError(f"sep must be a single character such as ',', ';' or '\\t'. "
                          f"Got {sep!r} instead.")
    return sep


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
        low = value.strip().casefold()
        if low in seen:
            raise ConfigError(f"columns= maps both {seen[low]!r} and {canon!r} to column "
                              f"{value!r}. Expected one column per name.")
        seen[low] = canon
    return out


# --------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------

def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _read_text(path: Path, name: str, encoding: str | None) -> str:
    """The decoded text of the file at ``path``, or a CandidatesError."""
    try:
        if path.is_dir():
            raise CandidatesError(f"{name}: this is a folder, not a file. Expected the path of "
                                  "a candidates CSV file; pass the file inside it.")
        data = path.read_bytes()
    except FileNotFoundError:
        raise CandidatesError(
            f"{name}: file not found (no such file: {path.absolute()}). Check the spelling "
            f"and the folder; a relative path starts from the current folder "
            f"{Path.cwd()}.") from None
    except IsADirectoryError:
        raise CandidatesError(f"{name}: this is a folder, not a file. Expected the path of "
                              "a candidates CSV file.") from None
    except PermissionError:
        raise CandidatesError(f"{name}: permission denied; the file cannot be read. Check "
                              "its permissions or copy it somewhere readable.") from None
    except OSError as exc:
        raise CandidatesError(f"{name}: the file cannot be read ({exc.strerror or exc}).") \
            from None
    if not data:
        raise CandidatesError(
            f"{name}: the file is empty (0 bytes). Expected a header line naming the columns "
            "(at least 'id', 'industry' and 'employees' or 'revenue') and one row per "
            "candidate below it.")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise CandidatesError(
            f"{name}: this looks like an Excel workbook (or another binary file), not a CSV "
            "text file. Export it as CSV (Excel: File > Save As > CSV UTF-8), or read it "
            "with pandas.read_excel and pass the DataFrame.")

    if encoding is not None:
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ConfigError(f"encoding={encoding!r} is not a known text encoding. "
                              "Expected e.g. 'utf-8', 'cp1252' or 'latin-1'.") from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise CandidatesError(
                f"{name}, line {_line_of(data, exc.start)}: the bytes "
                f"{data[exc.start:exc.end]!r} cannot be decoded as {encoding}. Pass the "
                "file's real encoding (e.g. encoding='cp1252', command line --encoding "
                "cp1252), or leave encoding out to let peermatch detect it.") from None
        return _check_text(text.removeprefix("\ufeff"), name)

    for bom, enc in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                     (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return _check_text(data.decode(enc), name)
            except UnicodeDecodeError as exc:
                raise CandidatesError(
                    f"{name}: the file starts with a {enc.upper()} byte order mark but "
                    f"cannot be decoded as {enc.upper()} ({exc.reason}). Save it again as "
                    "CSV UTF-8.") from None
    if b"\x00" in data:
        nul_line = _line_of(data, data.index(b"\x00"))
        raise CandidatesError(
            f"{name}, line {nul_line}: the file contains NUL "
            "bytes, so it is not a text CSV file (or it is UTF-16 without a byte order "
            "mark). Export the table as CSV UTF-8.")
    try:
        return _check_text(data.decode("utf-8-sig"), name)
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        bad = data[exc.start:exc.end]
    for enc, label in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1 (ISO-8859-1)")):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        warnings.warn(
            f"{name}: the file is not valid UTF-8 (line {line} has the byte {bad!r}), so it "
            f"was read as {label}. Check accented letters, e.g. in names; to silence this, "
            f"save the file as CSV UTF-8 or pass encoding={enc!r} (command line: --encoding "
            f"{enc}).", DataWarning, stacklevel=4)
        return _check_text(text, name)
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _check_text(text: str, name: str) -> str:
    if not text.strip():
        raise CandidatesError(
            f"{name}: the file holds only blank lines. Expected a header line naming the "
            "columns (at least 'id', 'industry' and 'employees' or 'revenue') and one row "
            "per candidate below it.")
    return text


def _reader(text: str, sep: str, strict: bool):
    return csv.reader(io.StringIO(text, newline=""), delimiter=sep, quotechar='"',
                      doublequote=True, skipinitialspace=True, strict=strict)


def _is_blank(fields: list[str]) -> bool:
    return not fields[0].strip() and all(not f.strip() for f in fields)


def _sniff(text: str) -> str:
    """The most plausible delimiter among :data:`_SNIFF_DELIMITERS` (``","`` if unsure).

    The header must split into at least two fields; among such delimiters the one
    under which most of the first rows have as many fields as the header wins, then
    the one giving the most header fields, then the earlier one in the list.
    """
    sample = text[:65536]
    best, best_score = ",", None
    for d in _SNIFF_DELIMITERS:
        recs: list[list[str]] = []
        try:
            for fields in _reader(sample, d, strict=False):
                if fields and not _is_blank(fields):
                    recs.append(fields)
                if len(recs) >= 30:
                    break
        except csv.Error:
            pass
        if not recs or len(recs[0]) < 2:
            continue
        h = len(recs[0])
        body = recs[1:]
        consistency = sum(len(r) == h for r in body) / len(body) if body else 1.0
        score = (consistency, h)
        if best_score is None or score > best_score:
            best, best_score = d, score
    return best


def _parse_csv_text(text: str, name: str, sep: str | None):
    """Parse CSV text into ``(frame, lines, header_line, sep)``."""
    if sep is None:
        sep = _sniff(text)
    sep_name = _SEP_NAMES.get(sep, repr(sep))
    records: list[tuple[int, list[str]]] = []
    reader = _reader(text, sep, strict=True)
    prev = 0
    try:
        for fields in reader:
            start, prev = prev + 1, reader.line_num
            if fields and not _is_blank(fields):
                records.append((start, fields))
    except csv.Error as exc:
        start = prev + 1
        msg = str(exc)
        if "unexpected end of data" in msg:
            raise CandidatesError(
                f"{name}, line {start}: a quoted value opened on this line is never closed "
                "(a '\"' is missing), so the rest of the file would run into one cell. Close "
                f"the quote or remove the stray '\"'. {_QUOTE_HINT}") from None
        if "expected after" in msg:
            raise CandidatesError(
                f"{name}, line {reader.line_num}: a quoted value is followed by other "
                f"characters before the next separator ({sep_name}). Expected the separator "
                f"right after the closing '\"'. {_QUOTE_HINT}") from None
        raise CandidatesError(f"{name}, line {start}: the row cannot be read as CSV ({msg}). "
                              f"{_QUOTE_HINT}") from None

    header_line, raw_header = records[0]
    header = [h.strip() for h in raw_header]
    header = [h if h else f"Unnamed: {j}" for j, h in enumerate(header)]
    if len(header) == 1:
        others = [d for d in _SNIFF_DELIMITERS if d != sep and d in header[0]]
        if others:
            d = others[0]
            arg = "'\\t'" if d == "\t" else repr(d)
            raise CandidatesError(
                f"{name}, line {header_line}: the header splits into one single column "
                f"{header[0]!r} with the delimiter {sep_name}, but it contains "
                f"{_SEP_NAMES[d]} characters. The file is probably {_SEP_NAMES[d]}-delimited; "
                f"pass sep={arg} (command line: --sep {arg}).")
    dups = sorted({h for h in header if header.count(h) > 1})
    if dups:
        raise CandidatesError(
            f"{name}, line {header_line}: duplicate column names {dups}. Expected each column "
            "name once; rename or delete the repeated column(s).")
    body = records[1:]
    if not body:
        raise CandidatesError(
            f"{name}: the file has a header (line {header_line}) but no data rows. Expected "
            "one row per candidate below the header; add the candidates or check that this "
            "is the right file.")

    n_fields = len(header)
    problems = []
    for line, fields in body:
        if len(fields) == n_fields:
            continue
        head = (f"{name}, line {line}: expected {n_fields} fields (as in the header on line "
                f"{header_line}), saw {len(fields)}.")
        if len(fields) > n_fields:
            if _is_blank(fields[n_fields:]):
                fix = (f"The extra fields are empty: remove the trailing {sep_name} "
                       "separators.")
            else:
                fix = (f"A value probably contains an unquoted {sep_name}: enclose it in "
                       "double quotes (e.g. \"Acme, Inc.\"), or remove the extra separator.")
        else:
            fix = ("Cells are missing or the row was cut; add the missing separators (empty "
                   "cells are fine) so that no value lands in the wrong column.")
        problems.append(("rows with a wrong number of fields", f"{head} {fix}"))
    _raise_problems(name, problems)

    frame = pd.DataFrame([f for _, f in body], columns=header, dtype=str)
    lines = np.array([line for line, _ in body], dtype=np.int64)
    return frame, lines, header_line, sep


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
        by_low.setdefault(c.strip().casefold(), []).append(c)
    resolved: dict[str, str] = {}
    missing_mapped: list[tuple[str, str]] = []
    for canon, actual in mapping.items():
        if actual in header:
            resolved[canon] = actual
            continue
        cands = by_low.get(actual.strip().casefold(), [])
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
                     f"{_SEP_NAMES.get(sep, repr(sep))}: if the file uses another delimiter, "
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


def _split(raw: str, list_sep: str) -> list[str]:
    if not raw or raw.isspace():
        return []
    toks = re.split(list_sep, raw) if len(list_sep) > 1 else raw.split(list_sep)
    return [t.strip() for t in toks if t.strip()]


def _build_table(frame: pd.DataFrame, lines: np.ndarray, name: str,
                 resolved: dict[str, str], list_sep: str) -> CandidateTable:
    n = len(frame)
    is_df = name == "<DataFrame>"

    def col_label(canon: str) -> str:
        actual = resolved[canon]
        return f"column {actual!r}" if actual == canon else f"column {actual!r} ({canon})"

    def at(i: int) -> str:
        return f"line {lines[i]} (row {i})" if is_df else f"line {lines[i]}"

    def loc(i: int, canon: str) -> str:
        return f"{name}, {at(i)}, {col_label(canon)}"

    def cells(canon: str) -> list[str]:
        return frame[resolved[canon]].tolist()

    problems: list[tuple[str, str]] = []

    # ids
    raw_ids = cells("id")
    ids = np.array([v.strip() for v in raw_ids], dtype=object)
    where: dict[str, list[int]] = {}
    for i, v in enumerate(ids):
        if not v:
            problems.append(("empty ids", f"{loc(i, 'id')}: the id is empty (value "
                             f"{raw_ids[i]!r}). Expected a unique id for every candidate; fill "
                             "it in or delete the row."))
        else:
            where.setdefault(v, []).append(i)
    for v, rows in where.items():
        if len(rows) > 1:
            shown = ", ".join(str(lines[i]) for i in rows)
            problems.append(("duplicate ids", f"{name}, {col_label('id')}: id {v!r} appears "
                             f"{len(rows)} times, on lines {shown}. Expected unique ids; give "
                             "each candidate its own id, or delete the repeated row(s)."))

    # industry
    raw_ind = cells("industry")
    industry = np.array([v.strip() for v in raw_ind], dtype=object)
    for i, v in enumerate(industry):
        if not v:
            problems.append(("empty industry cells", f"{loc(i, 'industry')}: the industry is "
                             f"empty (value {raw_ind[i]!r}). Expected an industry label or code "
                             "(e.g. 'Software' or NAICS '541511'); fill it in."))

    # company size
    size_cols = [c for c in ("employees", "revenue") if c in resolved]
    sizes = {c: np.full(n, np.nan) for c in ("employees", "revenue")}
    bad = np.zeros(n, dtype=bool)
    for c in size_cols:
        raw = cells(c)
        other = "revenue" if c == "employees" else "employees"
        for i, cell in enumerate(raw):
            value, why = _parse_size(cell)
            sizes[c][i] = value
            if why is None:
                continue
            bad[i] = True
            fix = (f"fix the cell or leave it empty if {resolved[other]!r} is given"
                   if len(size_cols) == 2 else "fix the cell")
            problems.append(("company size problems", f"{loc(i, c)}: {why}. Expected "
                             f"{_SIZE_EXPECTED[c]}; {fix}."))
    if len(size_cols) == 1:
        c = size_cols[0]
        other = "revenue" if c == "employees" else "employees"
        for i in np.flatnonzero(np.isnan(sizes[c]) & ~bad):
            problems.append(("company size problems", f"{loc(i, c)}: the value is missing. "
                             f"Expected {_SIZE_EXPECTED[c]} in every row (the table has no "
                             f"{other!r} column); fill it in."))
    else:
        both = np.isnan(sizes["employees"]) & np.isnan(sizes["revenue"]) & ~bad
        for i in np.flatnonzero(both):
            problems.append(("company size problems", f"{name}, {at(i)}, columns "
                             f"{resolved['employees']!r} and {resolved['revenue']!r}: both are "
                             "empty. Expected the company size in at least one of them; fill "
                             "in the number of employees or the revenue."))

    # lists
    lists: dict[str, list[list[str]]] = {}
    for c in LIST_COLUMNS:
        lists[c] = ([_split(v, list_sep) for v in cells(c)] if c in resolved
                    else [[] for _ in range(n)])
    if "conflicts" in resolved:
        known = set(where)
        folded = {v.casefold(): v for v in known}
        sep_word = "';'" if list_sep == ";" else "'|' or ','"
        for i, toks in enumerate(lists["conflicts"]):
            for t in toks:
                if t == ids[i]:
                    problems.append(("conflict problems", f"{loc(i, 'conflicts')}: candidate "
                                     f"{t!r} lists itself. Expected ids of other candidates; "
                                     f"remove {t!r} from the cell."))
                elif t not in known:
                    close = folded.get(t.casefold())
                    hint = f" (did you mean {close!r}?)" if close else ""
                    problems.append(("conflict problems", f"{loc(i, 'conflicts')}: id {t!r} "
                                     f"is not in the table{hint}. Expected ids of other "
                                     f"candidates (column {resolved['id']!r}) separated by "
                                     f"{sep_word}; fix the id or remove it."))

    _raise_problems(name, problems)

    def opt(canon: str):
        if canon not in resolved:
            return None
        return np.array([v.strip() for v in cells(canon)], dtype=object)

    return CandidateTable(
        frame=frame, source=name, columns=dict(resolved), lines=lines, ids=ids,
        industry=industry, employees=sizes["employees"], revenue=sizes["revenue"],
        goals=lists["goals"], expertise=lists["expertise"],
        availability=lists["availability"], conflicts=lists["conflicts"],
        region=opt("region"), tier=opt("tier"), group=opt("group"),
    )


def _raise_problems(name: str, problems: list[tuple[str, str]]) -> None:
    """Raise one CandidatesError listing ``problems`` (``(kind, message)``), if any."""
    if not problems:
        return
    messages = [m for _, m in problems]
    if len(problems) == 1:
        err = CandidatesError(messages[0])
    else:
        kinds: dict[str, list[str]] = {}
        for kind, msg in problems:
            kinds.setdefault(kind, []).append(msg)
        parts = [f"{name}: {len(problems)} problems in the candidates table; fix them and "
                 "try again."]
        for kind, msgs in kinds.items():
            shown = msgs[:_MAX_LISTED]
            more = (f", the first {len(shown)} shown" if len(msgs) > len(shown) else "")
            parts.append(f"{kind} ({len(msgs)}{more}):")
            parts += [f"  - {m}" for m in shown]
            if len(msgs) > len(shown):
                parts.append(f"  ... and {len(msgs) - len(shown)} more {kind}.")
        err = CandidatesError("\n".join(parts))
    err.problems = messages
    raise err


# Public names of the CSV helpers that other modules use.
parse_csv_text, read_text, split_list = _parse_csv_text, _read_text, _split
