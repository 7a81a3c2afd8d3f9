"""Encode a validated candidates table as arrays for vectorized scoring.

Data flows one way: :class:`~peermatch.candidates.CandidateTable` -> :func:`encode` ->
:class:`Features` -> :mod:`peermatch.scoring`. Every array in :class:`Features` has one
row per candidate, in table order, and holds no NaN: missing values are explicit
(``-1`` codes, a ``size_known`` mask, a ``known`` mask per user column).
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._compat import renamed_keywords
from .candidates import CandidateTable
from .errors import ConfigError
from .text import (
    TEXT_SIDES,
    TextFeature,
    load_vectors,
    text_cell,
    tfidf_rows,
    vectors_from_columns,
)

__all__ = [
    "DEFAULT_REVENUE_PER_EMPLOYEE",
    "MAX_WEIGHT",
    "MIN_SCALE",
    "ColumnFeature",
    "ColumnSpec",
    "Features",
    "TextColumn",
    "encode",
    "normalize_term",
]

#: Revenue per employee (currency units) used to turn revenue into an employee-equivalent
#: size when too few rows give both numbers to estimate it from the data.
DEFAULT_REVENUE_PER_EMPLOYEE: float = 200_000.0

#: Largest magnitude of a weight. Weights are relative (only their ratios matter); far
#: larger ones would overflow the affinity sums to infinity or NaN.
MAX_WEIGHT: float = 1e12
#: Smallest scale (of a numeric column, of company size): differences are divided by it,
#: and a smaller one would overflow them to infinity.
MIN_SCALE: float = 1e-300

_KINDS = ("numeric", "categorical", "text")
_MODES = ("similar", "dissimilar")
_LEADING_DIGITS = re.compile(r"^(\d+)")
# Rows giving both employees and revenue needed before their ratio replaces the default.
_MIN_RATIO_ROWS = 3


def normalize_term(text: str) -> str:
    """Return the matching key of a label: whitespace collapsed, case folded.

    Parameters
    ----------
    text : str
        A goal, expertise, industry, region, slot or category label.

    Returns
    -------
    str
        The key two labels must share to count as the same term.

    Examples
    --------
    >>> normalize_term("  Supply   Chain ")
    'supply chain'
    >>> normalize_term("Cafe\u0301 Supply") == normalize_term("Caf\u00e9 Supply")
    True
    """
    s = " ".join(str(text).split())
    if s.isascii():
        return s.casefold()
    # NFD before casefold and NFC after: Unicode's definition of a caseless match, so a
    # label typed with a combining accent is the same term as its precomposed form.
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", s).casefold())


@dataclass(frozen=True)
class ColumnSpec:
    """A user-declared column that enters the affinity.

    Parameters
    ----------
    name : str
        Column name in ``table.frame``.
    kind : {"numeric", "categorical", "text"}, default="numeric"
        How cells are read: numbers, labels compared for equality, or free text (answers of
        an intake form, turned into TF-IDF vectors; see :func:`TextColumn`).
    mode : {"similar", "dissimilar"}, default="similar"
        Whether pairs score high when their values are close (same) or far (different).
        Text columns are "similar" only.
    weight : float, default=1.0
        Weight of the column's component in the affinity (any float of magnitude at most
        :data:`MAX_WEIGHT`).
    scale : float or None, default=None
        Numeric columns only: the difference at which similarity reaches 0; None uses the
        range (max - min) of the column.
    side : {"wants", "offers", "own"} or None, default=None
        Text columns only (None means "own"): the answer states what the member wants
        (compared with the others' wants: shared goals), what they offer (compared with
        the others' wants: inspiration), or is a component of its own (compared with the
        same column of the others).
    vectors : str, or tuple of str, or None, default=None
        Text columns only: vectors computed elsewhere (any embedding model) that replace
        the TF-IDF vectors in the affinity: the path of a ``.npy`` matrix with one row per
        candidate in table order, or the names of numeric columns holding them. The text
        column itself may then be absent (its words are only used in explanations).

    Examples
    --------
    >>> ColumnSpec("years_in_role", mode="dissimilar", weight=0.2).mode
    'dissimilar'
    >>> ColumnSpec("intake_goals", kind="text", side="wants").side
    'wants'
    """

    name: str
    kind: str = "numeric"
    mode: str = "similar"
    weight: float = 1.0
    scale: float | None = None
    side: str | None = None
    vectors: str | tuple[str, ...] | None = None

    def __post_init__(self):
        where = f"ColumnSpec({self.name!r})"
        if not isinstance(self.name, str) or not self.name:
            raise ConfigError(f"The 'name' parameter of ColumnSpec must be a non-empty string. "
                              f"Got {self.name!r} instead.")
        if self.kind not in _KINDS:
            raise ConfigError(f"The 'kind' parameter of {where} must be one of {list(_KINDS)}. "
                              f"Got {self.kind!r} instead.")
        if self.mode not in _MODES:
            raise ConfigError(f"The 'mode' parameter of {where} must be one of {list(_MODES)}. "
                              f"Got {self.mode!r} instead.")
        bad = weight_problem(self.weight)
        if bad:
            raise ConfigError(f"The 'weight' parameter of {where} must be {bad}. "
                              f"Got {self.weight!r} instead.")
        object.__setattr__(self, "weight", float(self.weight))
        if self.scale is not None:
            if self.kind != "numeric":
                raise ConfigError(f"The 'scale' parameter of {where} applies to numeric columns "
                                  f"only; remove it or set kind='numeric'.")
            if not is_finite_number(self.scale) or not self.scale >= MIN_SCALE:
                raise ConfigError(f"The 'scale' parameter of {where} must be a positive finite "
                                  f"number (at least {MIN_SCALE:g}) or None. Got {self.scale!r} "
                                  f"instead.")
            object.__setattr__(self, "scale", float(self.scale))
        self._check_text(where)

    def _check_text(self, where: str) -> None:
        """The text-only fields: ``side`` and ``vectors`` (normalised in place)."""
        if self.kind != "text":
            for key in ("side", "vectors"):
                if getattr(self, key) is not None:
                    raise ConfigError(f"The {key!r} parameter of {where} applies to text "
                                      f"columns only; remove it or set kind='text'.")
            return
        if self.mode != "similar":
            raise ConfigError(f"The 'mode' parameter of {where} must be 'similar' for a text "
                              f"column (answers are compared for closeness). Got "
                              f"{self.mode!r} instead.")
        side = "own" if self.side is None else self.side
        if side not in TEXT_SIDES:
            raise ConfigError(f"The 'side' parameter of {where} must be one of "
                              f"{list(TEXT_SIDES)}. Got {self.side!r} instead.")
        object.__setattr__(self, "side", side)
        v = self.vectors
        if v is None:
            return
        if isinstance(v, str | os.PathLike):
            v = os.fspath(v)
            ok = bool(v)
        else:
            v = tuple(v) if isinstance(v, Sequence) else v
            ok = isinstance(v, tuple) and bool(v) and all(isinstance(c, str) and c for c in v)
        if not ok:
            raise ConfigError(f"The 'vectors' parameter of {where} must be the path of a .npy "
                              f"file or a list of column names. Got {self.vectors!r} instead.")
        object.__setattr__(self, "vectors", v)

    @classmethod
    def from_dict(cls, d: Mapping) -> ColumnSpec:
        """Build a spec from a mapping (e.g. a TOML ``[[weights.columns]]`` entry).

        Examples
        --------
        >>> ColumnSpec.from_dict({"name": "tenure", "weight": 0.5}).weight
        0.5
        """
        valid = ("name", "kind", "mode", "weight", "scale", "side", "vectors")
        if not isinstance(d, Mapping):
            raise ConfigError(f"A weights column entry must be a table with keys {list(valid)}. "
                              f"Got {d!r} instead.")
        unknown = sorted(set(d) - set(valid))
        if unknown:
            raise ConfigError(f"Unknown key(s) {unknown} in weights column entry "
                              f"{d.get('name', '?')!r}; valid keys are {list(valid)}.")
        if "name" not in d:
            raise ConfigError(f"A weights column entry needs a 'name' key. Got {dict(d)!r}.")
        return cls(**dict(d))

    def to_dict(self) -> dict:
        """Return the spec as a plain dict (``scale`` left out when None)."""
        out = asdict(self)
        for key in ("scale", "side", "vectors"):
            if out[key] is None:
                del out[key]
        if isinstance(out.get("vectors"), tuple):
            out["vectors"] = list(out["vectors"])
        return out


def TextColumn(name: str, side: str = "own", weight: float = 1.0, *,  # noqa: N802
               vectors: str | os.PathLike | Sequence[str] | None = None) -> ColumnSpec:
    """Declare a free-text column (an intake answer) as part of the affinity.

    Shorthand for ``ColumnSpec(name, kind="text", side=side, weight=weight,
    vectors=vectors)``: put it in ``Weights(columns=...)``.

    Parameters
    ----------
    name : str
        The column of the candidates table.
    side : {"wants", "offers", "own"}, default="own"
        ``"wants"``: what the member wants to achieve; pairs who want the same things score
        high ("shared goals", the cosine of their answers). ``"offers"``: what they can help
        with; it scores against the others' wants, both ways, with a bonus for mutual pairs
        ("inspiration"). ``"own"``: a component of its own, the cosine of two members'
        answers in this column.
    weight : float, default=1.0
        Weight of the column's component.
    vectors : str, os.PathLike, sequence of str or None, default=None
        Vectors computed elsewhere that replace TF-IDF: a ``.npy`` file or column names.

    Returns
    -------
    ColumnSpec

    Examples
    --------
    >>> TextColumn("intake_goals", side="wants", weight=2.0)
    ColumnSpec(name='intake_goals', kind='text', mode='similar', weight=2.0, scale=None, \
side='wants', vectors=None)
    """
    return ColumnSpec(name, kind="text", side=side, weight=weight, vectors=vectors)


@dataclass(frozen=True)
class ColumnFeature:
    """One encoded user column (see :class:`ColumnSpec`).

    Attributes
    ----------
    name : str
        Column name.
    kind : {"numeric", "categorical"}
        How the column was read.
    values : ndarray of shape (n,) of float
        Numbers (numeric) or category codes as floats (categorical); 0 where missing.
    known : ndarray of shape (n,) of bool
        False where the cell was empty.
    labels : list of str
        Categorical only: display label of each code.
    span : float
        Numeric only: max - min of the known values (0 when fewer than two).
    """

    name: str
    kind: str
    values: np.ndarray
    known: np.ndarray
    labels: list[str] = field(default_factory=list)
    span: float = 0.0


@dataclass
class Features:
    """Candidates encoded as arrays (the output of :func:`encode`).

    Attributes
    ----------
    ids, names : ndarray of shape (n,) of object
        Candidate ids, and display names (the id where there is no name).
    industry, sector : ndarray of shape (n,) of int64
        Codes of the normalised industry label and of its sector (the label cut to
        ``industry_depth`` digits for numeric codes; the label itself otherwise).
    industry_labels, sector_labels : list of str
        Display label of each code.
    log_size : ndarray of shape (n,) of float64
        ``log10`` of company size in employees (employee-equivalent from revenue where
        employees are missing); 0 where unknown, see ``size_known``.
    size_known : ndarray of shape (n,) of bool
        Where a size is known.
    size_source : ndarray of shape (n,) of int8
        0 unknown, 1 employees, 2 revenue.
    size_text : ndarray of shape (n,) of object
        Size in words, for explanations (``"120 employees"``, ``"revenue 3.2M"``).
    revenue_per_employee : float
        Conversion factor used for revenue-only rows.
    goals, expertise : scipy.sparse.csr_array of shape (n, len(vocab)) of float64
        Multi-hot matrices over one shared vocabulary, so expertise can meet goals.
    vocab : list of str
        Display label of each goal/expertise term (first spelling seen).
    region, tier : ndarray of shape (n,) of int64
        Codes, ``-1`` where missing (or the column is absent).
    region_labels, tier_labels : list of str
        Display label of each code.
    availability : scipy.sparse.csr_array of shape (n, len(slot_labels))
        Multi-hot meeting slots.
    slot_labels : list of str
        Display label of each slot.
    columns : dict of str to ColumnFeature
        Encoded user columns, by name.
    industry_depth : int or None
        The depth used for ``sector``.
    texts : dict of str to TextFeature
        Encoded text columns (``ColumnSpec(kind="text")``), by name.
    """

    ids: np.ndarray
    names: np.ndarray
    industry: np.ndarray
    industry_labels: list[str]
    sector: np.ndarray
    sector_labels: list[str]
    log_size: np.ndarray
    size_known: np.ndarray
    size_source: np.ndarray
    size_text: np.ndarray
    revenue_per_employee: float
    goals: sp.csr_array
    expertise: sp.csr_array
    vocab: list[str]
    region: np.ndarray
    region_labels: list[str]
    tier: np.ndarray
    tier_labels: list[str]
    availability: sp.csr_array
    slot_labels: list[str]
    columns: dict[str, ColumnFeature] = field(default_factory=dict)
    industry_depth: int | None = None
    texts: dict[str, TextFeature] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of candidates."""
        return len(self.ids)

    def __len__(self) -> int:
        return len(self.ids)

    def goal_terms(self, i: int) -> list[str]:
        """Display labels of candidate ``i``'s goals."""
        return [self.vocab[t] for t in _row_indices(self.goals, i)]

    def expertise_terms(self, i: int) -> list[str]:
        """Display labels of candidate ``i``'s expertise."""
        return [self.vocab[t] for t in _row_indices(self.expertise, i)]


@renamed_keywords(columns="specs")
def encode(
    table: CandidateTable,
    *,
    industry_depth: int | None = None,
    specs: Sequence[ColumnSpec] = (),
    revenue_per_employee: float | None = None,
) -> Features:
    """Encode a validated candidates table as arrays.

    Assumes ``table`` went through :func:`peermatch.read_candidates` (or was built as a
    valid :class:`~peermatch.candidates.CandidateTable`); only the user columns are checked.

    Parameters
    ----------
    table : CandidateTable
        The candidates.
    industry_depth : int or None, default=None
        For numeric industry codes (NAICS, SIC: a label starting with digits), the number of
        leading digits that define the sector; e.g. 2 makes ``541511`` and ``541211`` the same
        sector ``54``. Non-numeric labels are their own sector. None: sector = industry.
    specs : sequence of ColumnSpec, default=()
        User columns to read from ``table.frame`` (usually ``weights.columns``). Text
        columns are vectorised together (one TF-IDF vocabulary) into ``texts``. (Formerly
        ``columns``, a name that elsewhere means the rename map of the table's column
        names; that keyword still works, with a DeprecationWarning.)
    revenue_per_employee : float or None, default=None
        Factor turning revenue into an employee-equivalent size for rows without employees.
        None estimates it as the geometric median ratio over rows giving both (at least 3),
        else uses :data:`DEFAULT_REVENUE_PER_EMPLOYEE`.

    Returns
    -------
    Features

    Raises
    ------
    ConfigError
        A bad parameter, a missing user column, a cell of a numeric user column that is
        not a number (the message names the column, the line and the value), or bad
        vectors of a text column (the message names the file).

    Notes
    -----
    Size: ``log10(max(employees, 1))`` where employees are known (and >= 0); else
    ``log10(revenue / revenue_per_employee)`` clipped at 0 where revenue > 0; else unknown.
    Using one employee-equivalent scale lets revenue-only rows be compared with the rest.
    Terms (goals, expertise, slots, labels) match after :func:`normalize_term`.
    Runs in ``O(n + total list length)``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import CandidateTable
    >>> t = CandidateTable(
    ...     frame=pd.DataFrame({"id": ["a", "b"]}), source="<DataFrame>", columns={"id": "id"},
    ...     lines=np.array([2, 3]), ids=np.array(["a", "b"], dtype=object),
    ...     industry=np.array(["541511", "541211"], dtype=object),
    ...     employees=np.array([100.0, np.nan]), revenue=np.array([np.nan, 2e6]),
    ...     goals=[["Growth"], ["growth ", "hiring"]], expertise=[["hiring"], []])
    >>> f = encode(t, industry_depth=2)
    >>> f.vocab, f.sector.tolist(), f.industry.tolist()
    (['Growth', 'hiring'], [0, 0], [0, 1])
    >>> np.round(f.log_size, 2).tolist(), f.size_text.tolist()
    ([2.0, 1.0], ['100 employees', 'revenue 2M'])
    """
    if industry_depth is not None and (
        isinstance(industry_depth, bool) or not isinstance(industry_depth, int | np.integer)
        or industry_depth < 1
    ):
        raise ConfigError(f"The 'industry_depth' parameter of encode must be a positive integer "
                          f"or None. Got {industry_depth!r} instead.")
    if revenue_per_employee is not None and (
        not is_finite_number(revenue_per_employee) or revenue_per_employee <= 0
    ):
        raise ConfigError(f"The 'revenue_per_employee' parameter of encode must be a positive "
                          f"finite number or None. Got {revenue_per_employee!r} instead.")
    n = table.n
    ids = np.asarray(table.ids, dtype=object)

    # Names: the name column when present (blank cells fall back to the id).
    names = ids.copy()
    name_col = table.columns.get("name")
    if name_col is not None and name_col in table.frame.columns:
        raw = table.frame[name_col].to_numpy(dtype=object)
        names = np.array([" ".join(str(v).split()) if _present(v) else ids[k]
                          for k, v in enumerate(raw)], dtype=object)

    industry, industry_labels = _codes([str(v) for v in table.industry])
    sector_keys = [sector_key(lbl, industry_depth) for lbl in industry_labels]
    sector_of_industry, sector_labels = _codes(sector_keys)
    sector = sector_of_industry[industry] if n else np.zeros(0, dtype=np.int64)

    log_size, size_known, size_source, size_text, rpe = _sizes(
        np.asarray(table.employees, dtype=float), np.asarray(table.revenue, dtype=float),
        revenue_per_employee)

    # One vocabulary for goals and expertise: "expertise meets goal" is a column match.
    goal_lists = _lists(table.goals, n)
    exp_lists = _lists(table.expertise, n)
    vocab_index: dict[str, int] = {}
    vocab: list[str] = []
    goal_rows = _token_rows(goal_lists, vocab_index, vocab)
    exp_rows = _token_rows(exp_lists, vocab_index, vocab)
    goals = _csr(goal_rows, len(vocab))
    expertise = _csr(exp_rows, len(vocab))

    slot_index: dict[str, int] = {}
    slot_labels: list[str] = []
    availability = _csr(_token_rows(_lists(table.availability, n), slot_index, slot_labels),
                        len(slot_labels))

    region, region_labels = _optional_codes(table.region, n)
    tier, tier_labels = _optional_codes(table.tier, n)

    encoded = {}
    for spec in specs:
        if not isinstance(spec, ColumnSpec):
            raise ConfigError(f"The 'specs' parameter of encode must hold ColumnSpec objects. "
                              f"Got {spec!r} instead.")
        if spec.kind != "text":
            encoded[spec.name] = _encode_column(table, spec)
    texts = _encode_texts(table, [s for s in specs if s.kind == "text"])

    return Features(
        ids=ids, names=names,
        industry=industry, industry_labels=industry_labels,
        sector=sector, sector_labels=sector_labels,
        log_size=log_size, size_known=size_known, size_source=size_source, size_text=size_text,
        revenue_per_employee=rpe,
        goals=goals, expertise=expertise, vocab=vocab,
        region=region, region_labels=region_labels, tier=tier, tier_labels=tier_labels,
        availability=availability, slot_labels=slot_labels,
        columns=encoded, industry_depth=industry_depth, texts=texts,
    )


# --------------------------------------------------------------------------- helpers


def weight_problem(w) -> str | None:
    """What is wrong with a weight (None: nothing), as the end of "must be ...".

    >>> weight_problem(0.5) is None, weight_problem(1e300)
    (True, 'a number of magnitude at most 1e+12 (weights are relative: scale them all down)')
    """
    if not is_finite_number(w):
        return "a finite number"
    if abs(float(w)) > MAX_WEIGHT:
        return (f"a number of magnitude at most {MAX_WEIGHT:g} (weights are relative: scale "
                f"them all down)")
    return None


def is_finite_number(x) -> bool:
    """True for a real number (not a bool) that is finite as a float.

    >>> is_finite_number(2), is_finite_number(True), is_finite_number(10**400)
    (True, False, False)
    """
    if not isinstance(x, int | float | np.integer | np.floating) or isinstance(x, bool):
        return False
    try:
        return math.isfinite(float(x))
    except OverflowError:  # an int beyond the float range
        return False


def _present(v) -> bool:
    """True for a non-blank cell."""
    if v is None:
        return False
    if isinstance(v, float) and math.isnan(v):
        return False
    return bool(str(v).strip()) and v is not pd.NA


def _row_indices(m: sp.csr_array, i: int) -> np.ndarray:
    return m.indices[m.indptr[i]:m.indptr[i + 1]]


def _codes(values: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Codes by first appearance of each normalised value; labels keep the first spelling."""
    index: dict[str, int] = {}
    labels: list[str] = []
    codes = np.empty(len(values), dtype=np.int64)
    for k, v in enumerate(values):
        key = normalize_term(v)
        c = index.get(key)
        if c is None:
            c = index[key] = len(labels)
            labels.append(" ".join(str(v).split()))
        codes[k] = c
    return codes, labels


def _optional_codes(values, n: int) -> tuple[np.ndarray, list[str]]:
    """Codes of an optional label column; ``-1`` for blanks and absent columns."""
    if values is None:
        return np.full(n, -1, dtype=np.int64), []
    present = np.array([_present(v) for v in values], dtype=bool)
    codes = np.full(n, -1, dtype=np.int64)
    sub, labels = _codes([str(v) for v, p in zip(values, present, strict=True) if p])
    codes[present] = sub
    return codes, labels


def sector_key(label: str, depth: int | None) -> str:
    """The sector of an industry label: its leading code cut to ``depth`` digits.

    The one definition of a sector, used by the affinity and by every rule: only a
    numeric code (e.g. NAICS) is cut; a plain label is its own sector, so "Retail" and
    "Retail Banking" stay different at any depth.

    >>> sector_key("541511 Custom software", 4), sector_key("Retail Banking", 4)
    ('5415', 'Retail Banking')
    """
    if depth is None:
        return label
    m = _LEADING_DIGITS.match(label.strip())
    return m.group(1)[:depth] if m else label


def _lists(lists, n: int) -> list[list[str]]:
    return list(lists) if lists else [[] for _ in range(n)]


def _token_rows(lists: list[list[str]], index: dict[str, int], labels: list[str]):
    """``(indices, indptr)`` of token lists, growing the shared ``index``/``labels``."""
    indptr = [0]
    indices: list[int] = []
    for tokens in lists:
        row = set()
        for tok in tokens:
            key = normalize_term(tok)
            if not key:
                continue
            c = index.get(key)
            if c is None:
                c = index[key] = len(labels)
                labels.append(" ".join(str(tok).split()))
            row.add(c)
        indices.extend(sorted(row))
        indptr.append(len(indices))
    return indices, indptr


def _csr(rows, width: int) -> sp.csr_array:
    """Multi-hot CSR matrix (values 1.0, sorted column indices) of ``(indices, indptr)``."""
    indices, indptr = rows
    return sp.csr_array(
        (np.ones(len(indices)), np.asarray(indices, dtype=np.int64),
         np.asarray(indptr, dtype=np.int64)),
        shape=(len(indptr) - 1, width),
    )


def _fmt_amount(x: float) -> str:
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{suffix}"
    return f"{x:.3g}"


def _sizes(employees: np.ndarray, revenue: np.ndarray, rpe: float | None):
    n = len(employees)
    emp_ok = np.isfinite(employees) & (employees >= 0)
    rev_ok = np.isfinite(revenue) & (revenue > 0)
    if rpe is None:
        both = emp_ok & rev_ok & (employees > 0)
        if both.sum() >= _MIN_RATIO_ROWS:
            # Geometric median of revenue per employee, robust to a few odd rows.
            rpe = float(10 ** np.median(np.log10(revenue[both]) - np.log10(employees[both])))
        else:
            rpe = DEFAULT_REVENUE_PER_EMPLOYEE
    log_size = np.zeros(n)
    source = np.zeros(n, dtype=np.int8)
    log_size[emp_ok] = np.log10(np.maximum(employees[emp_ok], 1.0))
    source[emp_ok] = 1
    from_rev = rev_ok & ~emp_ok
    log_size[from_rev] = np.maximum(np.log10(revenue[from_rev]) - math.log10(rpe), 0.0)
    source[from_rev] = 2
    text = np.empty(n, dtype=object)
    for k in range(n):
        if source[k] == 1:
            e = employees[k]
            text[k] = f"{int(e) if float(e).is_integer() else e:,} employees"
        elif source[k] == 2:
            text[k] = f"revenue {_fmt_amount(revenue[k])}"
        else:
            text[k] = "size unknown"
    return log_size, source > 0, source, text, float(rpe)


def _encode_column(table: CandidateTable, spec: ColumnSpec) -> ColumnFeature:
    frame = table.frame
    if spec.name not in frame.columns:
        raise ConfigError(f"Column {spec.name!r} declared in the weights is not in "
                          f"{table.source}; available columns: {list(frame.columns)}.")
    cells = frame[spec.name].to_numpy(dtype=object)
    n = len(cells)
    known = np.array([_present(v) for v in cells], dtype=bool)
    if spec.kind == "categorical":
        codes, labels = _codes([str(v) for v, k in zip(cells, known, strict=True) if k])
        values = np.zeros(n)
        values[known] = codes
        return ColumnFeature(spec.name, "categorical", values, known, labels, 0.0)
    values = np.zeros(n)
    bad = []
    for k in np.flatnonzero(known):
        v = cells[k]
        try:
            x = float(str(v).strip().replace(",", "")) if isinstance(v, str) else float(v)
        except (TypeError, ValueError):
            x = math.nan
        if not math.isfinite(x):
            bad.append((int(table.lines[k]), v))
        else:
            values[k] = x
    if bad:
        shown = "; ".join(f"line {line}: {v!r}" for line, v in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        raise ConfigError(f"Column {spec.name!r} of {table.source} is declared numeric but has "
                          f"{len(bad)} value(s) that are not finite numbers: {shown}{more}. "
                          f"Fix the cells, leave them empty, or declare kind='categorical'.")
    span = 0.0
    if known.sum() >= 2:
        lo, hi = float(values[known].min()), float(values[known].max())
        span = hi - lo  # Python floats: an overflow gives inf, without a numpy warning
    if not math.isfinite(span):  # its differences would overflow the affinity to NaN
        raise ConfigError(f"Column {spec.name!r} of {table.source} spans more than the largest "
                          f"float (from {lo:g} to {hi:g}); rescale it (e.g. divide it by a "
                          f"power of ten).")
    return ColumnFeature(spec.name, "numeric", values, known, [], span)


def _encode_texts(table: CandidateTable, specs: list[ColumnSpec]) -> dict[str, TextFeature]:
    """TF-IDF rows of every text column over one vocabulary, and the vectors given."""
    if not specs:
        return {}
    frame, n = table.frame, table.n
    missing = [s.name for s in specs if s.name not in frame.columns and s.vectors is None]
    if missing:
        raise ConfigError(f"Text column(s) {missing} declared in the weights are not in "
                          f"{table.source}; available columns: {list(frame.columns)}.")
    docs = [[text_cell(v) for v in frame[s.name].to_numpy(dtype=object)]
            if s.name in frame.columns else [""] * n for s in specs]
    mats, terms, share = tfidf_rows(docs)
    ids = [str(x) for x in table.ids]
    out = {}
    for spec, M, said in zip(specs, mats, docs, strict=True):
        vectors, source = None, "tfidf"
        if isinstance(spec.vectors, str):
            vectors, source = load_vectors(spec.vectors, n, ids, spec.name)
        elif spec.vectors is not None:
            absent = [c for c in spec.vectors if c not in frame.columns]
            if absent:
                raise ConfigError(f"Vector column(s) {absent} of text column {spec.name!r} are "
                                  f"not in {table.source}; available columns: "
                                  f"{list(frame.columns)}.")
            cells = {c: frame[c].to_numpy(dtype=object) for c in spec.vectors}
            vectors = vectors_from_columns(cells, table.lines, n, ids, spec.name, table.source)
            source = f"columns {list(spec.vectors)}"
        out[spec.name] = TextFeature(spec.name, spec.side, M, terms, vectors, source, share,
                                     said)
    return out
