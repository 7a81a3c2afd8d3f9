"""Free-text answers as vectors: TF-IDF of intake answers, or vectors brought by the user.

An intake form's answers ("What do you want to achieve in the next two years?") are a few
sentences per member. :func:`peermatch.features.encode` turns every column declared as
text (``ColumnSpec(kind="text")``, see :func:`peermatch.features.TextColumn`) into one
row per candidate: TF-IDF weights over one vocabulary shared by all text columns (so one
member's offers can meet another's wants), or the rows of a matrix of vectors computed
elsewhere. The affinity components built from them are in :mod:`peermatch.components`;
:func:`shared_terms` and :func:`offers_meeting_wants` name the overlap of two members, for
explanations.

This module imports numpy, scipy and pandas at import time; scikit-learn is loaded when
text is first vectorised, so a run without text columns never imports it.
"""

from __future__ import annotations

import math
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import ConfigError

__all__ = [
    "QUOTE_FILLER",
    "TEXT_SIDES",
    "TFIDF_OPTIONS",
    "TextFeature",
    "check_vectors",
    "group_terms",
    "in_their_words",
    "load_vectors",
    "offers_meeting_wants",
    "pair_cosines",
    "shared_terms",
    "text_cell",
    "tfidf_rows",
    "vectors_from_columns",
]

#: Where a text column enters the affinity: the member's wants (goals), what they offer
#: (expertise), or a component of its own.
TEXT_SIDES: tuple[str, ...] = ("wants", "offers", "own")

#: Options of scikit-learn's ``TfidfVectorizer`` used for every text column: sublinear
#: term frequency, English stop words dropped, word unigrams and bigrams, unit rows.
TFIDF_OPTIONS: dict = {"sublinear_tf": True, "stop_words": "english", "ngram_range": (1, 2),
                       "norm": "l2"}

#: Words too vague to quote as what two members share ("goal", "plan", "business", "next
#: spring"): the intent verbs, time words and generic nouns and adjectives of intake
#: answers, beyond scikit-learn's English stop words (which TF-IDF drops already). They
#: still count in the affinity; explanations skip them (and numbers), except as one word of
#: a phrase whose other word is distinctive ("remote work", "market share").
QUOTE_FILLER: frozenset[str] = frozenset("""
    goal goals aim aims plan plans planned want wants wanted wanting need needs needed hope
    hoping wish like love help helping helped make making made think thinking figure sort
    fix fixed improve improving improved better best good great strong big biggest small
    smarter grow growing grown grew learn learned learning lot lots thing things way ways
    work working worked business businesses year years month months week weeks day days
    time times today soon spring summer autumn winter term longer long short future ago
    started start starting really just especially overall including able new happy honest
    busy clear focus hard right run runs running ran going sure ask share sharing spent
    spend led dealt build built building personally previous role people group rethink
    invest investing struggle struggling burning scale scaling strengthen customer customers
    loyal
    """.split())

# scikit-learn's default token pattern (what TfidfVectorizer splits answers with).
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# What may stand between the two words of a quoted phrase: spaces and at most one short
# (stop) word, no punctuation ("sell the company", "distributors in Mexico").
_BETWEEN = re.compile(r"\s+(?:\w+\s+)?")

# Rows and ids spelled out in a vectors error message.
_SHOWN = 5
# Two shared words are named as their two-word term when it is used by at least this
# share of the answers that use the rarer word (they are one phrase: "seed round").
_PHRASE = 0.8



@dataclass(frozen=True)
class TextFeature:
    """One encoded text column (the output of :func:`peermatch.features.encode`).

    Attributes
    ----------
    name : str
        Column name (of the table, or of the vectors for a column given as vectors only).
    side : {"wants", "offers", "own"}
        Where the column enters the affinity (see :data:`TEXT_SIDES`).
    tfidf : scipy.sparse.csr_array of shape (n, len(terms)) of float64
        TF-IDF weights of each answer; an empty answer is a zero row. Rows are unit vectors
        before terms used by a single answer are dropped (such a term cannot be shared, so
        every cosine between two answers is exact).
    terms : list of str
        The shared vocabulary (words and two-word phrases), one per column of ``tfidf``.
    vectors : ndarray of shape (n, d) of float64 or None
        Unit rows of the user's vectors; when given they replace ``tfidf`` in the affinity
        (``tfidf`` still names the shared words in explanations).
    source : str
        ``"tfidf"``, or where the vectors came from (a file, or columns).
    term_share : ndarray of shape (len(terms),) of float64 or None
        Share of the non-empty answers (of all text columns) that use each term.
    answers : sequence of str or None
        The answers as written (one per candidate, "" for none): explanations quote the
        shared terms in the members' own spelling ("Mexico", "sell the company").
    """

    name: str
    side: str
    tfidf: sp.csr_array
    terms: list[str]
    vectors: np.ndarray | None = None
    source: str = "tfidf"
    term_share: np.ndarray | None = None
    answers: Sequence[str] | None = None

    @property
    def matrix(self):
        """The rows the affinity compares: ``vectors`` when given, else ``tfidf``."""
        return self.vectors if self.vectors is not None else self.tfidf

    @property
    def answered(self) -> np.ndarray:
        """Where the candidate wrote something (a non-zero TF-IDF row), shape ``(n,)``."""
        return np.diff(self.tfidf.indptr) > 0


def text_cell(v) -> str:
    """A table cell as text for vectorising: empty for a missing cell, NFC otherwise.

    >>> text_cell(None), text_cell(float("nan")), text_cell(12), text_cell("Cafe\u0301")
    ('', '', '12', 'Café')
    """
    if v is None or v is pd.NA:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    s = str(v)
    return s if s.isascii() else unicodedata.normalize("NFC", s)


def tfidf_rows(columns: Sequence[Sequence[str]],
               ) -> tuple[list[sp.csr_array], list[str], np.ndarray]:
    """TF-IDF rows of several text columns over one shared vocabulary.

    Parameters
    ----------
    columns : sequence of sequence of str
        The answers of each column, one string per candidate ("" for no answer).

    Returns
    -------
    matrices : list of scipy.sparse.csr_array of float64
        One per column, shape ``(n, len(terms))``, sorted indices.
    terms : list of str
        The vocabulary: the terms used by at least two answers (of any column).
    share : ndarray of shape (len(terms),) of float64
        Share of the non-empty answers that use each term.

    Notes
    -----
    One ``TfidfVectorizer(**TFIDF_OPTIONS)`` is fitted on every non-empty answer of every
    column, so the inverse document frequencies and the term columns are shared, and an
    offer can meet a want. Rows are L2-normalised over all terms; the terms of a single
    answer are then dropped: they take part in no product between two different answers
    (so cosines are unchanged) and are most of the bigrams and typos. Time
    ``O(total words)``; memory ``O(nnz)``.

    Examples
    --------
    >>> (a, b), terms, share = tfidf_rows([["export to Mexico", ""], ["", "exports; Mexico"]])
    >>> terms, a.shape, b.nnz, share.tolist()
    (['mexico'], (2, 1), 1, [1.0])
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    n_cols = len(columns)
    docs = [d for col in columns for d in col if d.strip()]
    lengths = [len(col) for col in columns]
    vec = TfidfVectorizer(**TFIDF_OPTIONS, dtype=np.float64)
    try:
        vec.fit(docs)
    except ValueError:  # nothing but empty answers and stop words: no vocabulary
        return [sp.csr_array((k, 0)) for k in lengths], [], np.zeros(0)
    mats = [sp.csr_array(vec.transform(list(col))) for col in columns]
    df = np.zeros(len(vec.vocabulary_), dtype=np.int64)
    for M in mats:
        df += np.bincount(M.indices, minlength=df.size)
    keep = np.flatnonzero(df >= 2)
    names = vec.get_feature_names_out()
    out = []
    for k in range(n_cols):
        M = sp.csr_array(mats[k][:, keep])
        M.sort_indices()
        out.append(M)
    return out, [str(names[t]) for t in keep], df[keep] / max(1, len(docs))


# --------------------------------------------------------------------------- vectors


def load_vectors(path, n: int, ids: Sequence[str], column: str) -> tuple[np.ndarray, str]:
    """Read a ``.npy`` matrix of vectors, one row per candidate, and check it.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``numpy.save``: a 2-D array of numbers, row ``k`` for the
        candidate on row ``k`` of the table (table order).
    n : int
        Number of candidates.
    ids : sequence of str
        Candidate ids, for messages.
    column : str
        The text column the vectors stand for, for messages.

    Returns
    -------
    vectors : ndarray of shape (n, d) of float64
        Unit rows.
    source : str
        The file name.

    Raises
    ------
    ConfigError
        Missing or unreadable file, not a 2-D numeric array, a row count other than ``n``,
        non-finite values, or all-zero rows; the message names the file.
    """
    name = os.fspath(path)
    where = f"{name} (vectors of text column {column!r})"
    if not os.path.isfile(name):
        raise ConfigError(f"{where}: file not found; give the path of a .npy file written "
                          f"by numpy.save.")
    try:
        M = np.load(name, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{where}: not a .npy array file ({exc}); write the matrix with "
                          f"numpy.save.") from None
    if not isinstance(M, np.ndarray):  # an .npz archive
        raise ConfigError(f"{where}: holds several arrays (.npz); save one matrix with "
                          f"numpy.save.")
    return check_vectors(M, n, ids, where), name


def vectors_from_columns(cells: dict[str, Sequence], lines: Sequence[int], n: int,
                         ids: Sequence[str], column: str, source: str) -> np.ndarray:
    """Vectors given as numeric table columns (one dimension each), checked.

    ``cells`` maps each column name to its cells; an empty or non-numeric cell is an error
    naming the column and the line.
    """
    where = f"{source}, vectors of text column {column!r} (columns {list(cells)})"
    M = np.empty((n, len(cells)))
    bad = []
    for c, (col, values) in enumerate(cells.items()):
        for k, v in enumerate(values):
            try:
                x = float(str(v).strip()) if isinstance(v, str) else float(v)
            except (TypeError, ValueError):
                x = math.nan
            if not math.isfinite(x):
                bad.append(f"line {int(lines[k])}, column {col!r}: {v!r}")
            M[k, c] = x
    if bad:
        more = f" (and {len(bad) - _SHOWN} more)" if len(bad) > _SHOWN else ""
        raise ConfigError(f"{where}: {len(bad)} cell(s) are not finite numbers: "
                          f"{'; '.join(bad[:_SHOWN])}{more}. Give every candidate a vector.")
    return check_vectors(M, n, ids, where)


def check_vectors(M, n: int, ids: Sequence[str], where: str) -> np.ndarray:
    """Check a matrix of vectors and return it with unit rows (float64).

    ``where`` starts every message (it names the file). Rows must number ``n``, be finite
    and not all zero (a zero vector has no direction to compare).

    >>> check_vectors(np.array([[3.0, 4.0], [0.0, 2.0]]), 2, ["a", "b"], "v.npy").tolist()
    [[0.6, 0.8], [0.0, 1.0]]
    >>> check_vectors(np.zeros((2, 2)), 2, ["a", "b"], "v.npy")
    Traceback (most recent call last):
    ...
    peermatch.errors.ConfigError: v.npy: 2 all-zero row(s): rows 0, 1 (ids 'a', 'b'). ...
    """
    M = np.asarray(M)
    if M.ndim != 2 or not (np.issubdtype(M.dtype, np.integer)
                           or np.issubdtype(M.dtype, np.floating)) or M.dtype == np.bool_:
        raise ConfigError(f"{where}: expected a 2-D array of numbers (one row per candidate). "
                          f"Got an array of shape {M.shape} and dtype {M.dtype}.")
    if M.shape[0] != n:
        raise ConfigError(f"{where}: the matrix has {M.shape[0]} rows but the candidates table "
                          f"has n={n}; it needs one row per candidate, in table order.")
    M = M.astype(np.float64)
    if M.shape[1] == 0:
        raise ConfigError(f"{where}: the vectors have no columns (shape {M.shape}).")
    finite = np.isfinite(M).all(axis=1)
    if not finite.all():
        raise ConfigError(f"{where}: {_rows(~finite, ids)} hold NaN or infinite values; "
                          f"give every candidate a finite vector.")
    norms = np.sqrt(np.einsum("ij,ij->i", M, M))
    zero = norms == 0
    if zero.any():
        raise ConfigError(f"{where}: {int(zero.sum())} all-zero row(s): {_rows(zero, ids)}. "
                          f"A zero vector has no direction to compare; give every candidate "
                          f"a vector (an empty answer has one too).")
    return M / norms[:, None]


def _rows(mask: np.ndarray, ids: Sequence[str]) -> str:
    """``rows 3, 7 (ids 'M0003', 'M0007')`` for the first rows of ``mask``."""
    rows = np.flatnonzero(mask)
    shown = rows[:_SHOWN]
    more = f" and {rows.size - _SHOWN} more" if rows.size > _SHOWN else ""
    return (f"rows {', '.join(str(int(r)) for r in shown)} "
            f"(ids {', '.join(repr(str(ids[r])) for r in shown)}){more}")


# --------------------------------------------------------------------------- explanations


def shared_terms(features, i: int, j: int, k: int = 5, *, side: str = "wants",
                 max_share: float = 0.2, column: str | None = None) -> list[str]:
    """The distinctive terms two members both wrote, most telling first.

    Parameters
    ----------
    features : Features
        Encoded candidates with text columns (:func:`peermatch.features.encode`).
    i, j : int
        The two members (row indices).
    k : int, default=5
        At most this many terms.
    side : {"wants", "offers", "own"}, default="wants"
        Which text columns to read (their TF-IDF rows are summed per member).
    max_share : float, default=0.2
        Terms used by more than this share of the answers ("business", "next year") say
        nothing about these two and are not named.
    column : str or None, default=None
        Read this text column only (of ``side``), not all the columns of the side.

    Returns
    -------
    list of str
        Words of the shared vocabulary ranked by the product of the two members' TF-IDF
        weights (common words weigh little, words both stress weigh most), without the
        filler of :data:`QUOTE_FILLER` and numbers; a named word that is one phrase with
        another shared word ("seed round": a shared two-word term used by nearly every
        answer that uses the rarer word) is named as the phrase. Each is spelled as the
        members wrote it (:func:`in_their_words`: "Mexico", "sell the company"). Empty
        when they share nothing, or no text column of that side was declared.

    See Also
    --------
    offers_meeting_wants : what one member offers that the other wants.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import CandidateTable
    >>> from peermatch.features import TextColumn, encode
    >>> answers = ["Open a sales office in Mexico and find distributors",
    ...            "Export to Mexico through distributors", "Hire a CFO", ""]
    >>> t = CandidateTable(
    ...     frame=pd.DataFrame({"id": list("abcd"), "plans": answers}), source="<DataFrame>",
    ...     columns={"id": "id"}, lines=np.arange(2, 6), ids=np.array(list("abcd"), dtype=object),
    ...     industry=np.array(["x"] * 4, dtype=object), employees=np.ones(4),
    ...     revenue=np.full(4, np.nan))
    >>> f = encode(t, specs=[TextColumn("plans", side="wants")])
    >>> shared_terms(f, 0, 1, max_share=1), shared_terms(f, 0, 2, max_share=1)
    (['Mexico through distributors'], [])

    (In so small a table every word is used by many answers: ``max_share=1`` keeps them.)
    """
    a = _side_row(features, i, side, column)
    b = _side_row(features, j, side, column)
    said = _answers(features, i, side, column) + _answers(features, j, side, column)
    return in_their_words(_ranked(a, b, features, k, max_share), said)


def offers_meeting_wants(features, i: int, j: int, k: int = 5, *,
                         max_share: float = 0.2, column: str | None = None) -> list[str]:
    """Terms of member ``i``'s offers that meet member ``j``'s wants, most telling first.

    The offers-side TF-IDF rows of ``i`` against the wants-side rows of ``j`` (one shared
    vocabulary), ranked and filtered as in :func:`shared_terms`. Call it both ways for
    the two directions of the inspiration component. ``column`` reads that offers column
    only (the wants side is always every wants column, as in the affinity).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import CandidateTable
    >>> from peermatch.features import TextColumn, encode
    >>> t = CandidateTable(
    ...     frame=pd.DataFrame({"id": list("abc"),
    ...                         "want": ["Find distributors in Mexico", "Raise a seed round",
    ...                                  "Grow export sales"],
    ...                         "offer": ["Built a board", "Ran export sales through "
    ...                                   "distributors in Mexico", "Raised a seed round"]}),
    ...     source="<DataFrame>", columns={"id": "id"}, lines=np.arange(2, 5),
    ...     ids=np.array(list("abc"), dtype=object), industry=np.array(["x"] * 3, dtype=object),
    ...     employees=np.ones(3), revenue=np.full(3, np.nan))
    >>> f = encode(t, specs=[TextColumn("want", side="wants"),
    ...                        TextColumn("offer", side="offers")])
    >>> offers_meeting_wants(f, 1, 0, max_share=1), offers_meeting_wants(f, 0, 1, max_share=1)
    (['distributors in Mexico'], [])
    """
    a = _side_row(features, i, "offers", column)
    b = _side_row(features, j, "wants")
    said = _answers(features, i, "offers", column) + _answers(features, j, "wants")
    return in_their_words(_ranked(a, b, features, k, max_share), said)


def group_terms(features, members: Sequence[int], k: int = 3, *, side: str = "wants",
                max_share: float = 0.2) -> list[list[str]]:
    """For each member of a group, the distinctive terms they share with the others.

    Ranked as in :func:`shared_terms`, with the other members' TF-IDF rows (of ``side``)
    summed: a word that several groupmates also use weighs more. ``O(group x nnz)``.

    Parameters
    ----------
    features : Features
        Encoded candidates with text columns.
    members : sequence of int
        The group's rows.
    k, side, max_share
        As for :func:`shared_terms`.

    Returns
    -------
    list of list of str
        One list per member, in the order of ``members`` (empty: nothing shared).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import CandidateTable
    >>> from peermatch.features import TextColumn, encode
    >>> answers = ["Export to Mexico", "Find distributors in Mexico", "Hire a CFO",
    ...            "Hire engineers"]
    >>> t = CandidateTable(
    ...     frame=pd.DataFrame({"id": list("abcd"), "plans": answers}), source="<DataFrame>",
    ...     columns={"id": "id"}, lines=np.arange(2, 6), ids=np.array(list("abcd"), dtype=object),
    ...     industry=np.array(["x"] * 4, dtype=object), employees=np.ones(4),
    ...     revenue=np.full(4, np.nan))
    >>> f = encode(t, specs=[TextColumn("plans", side="wants")])
    >>> group_terms(f, [0, 1, 2], max_share=1)
    [['Mexico'], ['Mexico'], []]
    """
    rows = [_side_row(features, int(i), side) for i in members]
    total: dict[int, float] = {}
    for row in rows:
        for t, v in row.items():
            total[t] = total.get(t, 0.0) + v
    said = [_answers(features, int(i), side) for i in members]
    out = []
    for m, a in enumerate(rows):
        others = {t: total[t] - v for t, v in a.items() if total[t] - v > 0}
        # the member's own spelling first, then the groupmates'
        words = said[m] + [x for o, ans in enumerate(said) if o != m for x in ans]
        out.append(in_their_words(_ranked(a, others, features, k, max_share), words))
    return out


def pair_cosines(feature: TextFeature, i, j) -> np.ndarray:
    """Cosine of the rows the affinity compares (``feature.matrix``) for each pair
    ``(i[k], j[k])``: ``O(pairs x nnz per row)`` (or ``x d`` for vectors), no ``n x n``.

    >>> import scipy.sparse as sp
    >>> tf = TextFeature("x", "own", sp.csr_array(np.array([[0.6, 0.8], [1.0, 0.0]])), ["a", "b"])
    >>> pair_cosines(tf, [0, 0], [1, 0]).round(2).tolist()
    [0.6, 1.0]
    """
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    M = feature.matrix
    if isinstance(M, np.ndarray):
        return np.einsum("ij,ij->i", M[i], M[j])
    return np.asarray(M[i].multiply(M[j]).sum(axis=1), dtype=np.float64).ravel()


def _side_row(features, i: int, side: str, column: str | None = None) -> dict[int, float]:
    """Summed TF-IDF weights of member ``i`` over the text columns of ``side`` (only
    ``column`` when given)."""
    if side not in TEXT_SIDES:
        raise ConfigError(f"The 'side' parameter must be one of {list(TEXT_SIDES)}. Got "
                          f"{side!r} instead.")
    row: dict[int, float] = {}
    for tf in getattr(features, "texts", {}).values():
        if tf.side != side or (column is not None and tf.name != column):
            continue
        M = tf.tfidf
        s = slice(M.indptr[i], M.indptr[i + 1])
        for t, v in zip(M.indices[s].tolist(), M.data[s].tolist(), strict=True):
            row[t] = row.get(t, 0.0) + v
    return row


def _ranked(a: dict[int, float], b: dict[int, float], features, k: int,
            max_share: float) -> list[str]:
    """Shared words by the product of weights; two listed words that form a phrase (a
    shared two-word term used by nearly every answer using the rarer word, such as
    "seed round") are named as the phrase."""
    terms, share = _terms_of(features)
    shared = [t for t in a.keys() & b.keys() if share is None or share[t] <= max_share]
    # filler words and numbers are not named, but may be one word of a phrase
    words = sorted(((a[t] * b[t], terms[t]) for t in shared
                    if " " not in terms[t] and not _vague(terms[t])),
                   key=lambda x: (-x[0], x[1]))
    listed = {terms[t]: t for t in shared if " " not in terms[t]}
    phrases: dict[str, list[str]] = {}
    for t in sorted(shared, key=lambda t: (-a[t] * b[t], terms[t])):
        x, _, y = terms[t].partition(" ")
        if y and x in listed and y in listed and (
                share is None
                or share[t] >= _PHRASE * min(share[listed[x]], share[listed[y]])):
            phrases.setdefault(x, []).append(terms[t])
            phrases.setdefault(y, []).append(terms[t])
    out: list[str] = []
    used: set[str] = set()
    for _, w in words:
        if w in used:
            continue
        phrase = next((p for p in phrases.get(w, ()) if not used & set(p.split())), w)
        out.append(phrase)
        used.update(phrase.split())
        if len(out) == k:
            break
    return out


def in_their_words(terms: Sequence[str], answers: Sequence[str]) -> list[str]:
    """Each term (lowercase, as TF-IDF spells it) as the answers write it.

    A word takes the spelling most used where it is not the first word of a sentence
    ("Mexico", "ERP"); a word found only first in a sentence keeps capitals that are not
    just the sentence's ("ERP"), and is otherwise lowercase. The two words of a phrase are
    quoted with what stands between them when that is at most one short word ("sell the
    company", "distributors in Mexico"), else side by side. A term not found in the
    answers (vectors without answers) is returned as it is.

    Parameters
    ----------
    terms : sequence of str
        Terms of the vocabulary (words, or two words joined by a space).
    answers : sequence of str
        The answers to look in, the preferred first (ties go to the earlier answer).

    Returns
    -------
    list of str
        One per term, in order.

    Examples
    --------
    >>> in_their_words(["mexico", "erp", "sell company", "export"],
    ...                ["Export to Mexico. ERP first", "We could sell the company"])
    ['Mexico', 'ERP', 'sell the company', 'export']
    """
    if not terms or not any(answers):
        return list(terms)
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    tokens = [_tokens(a, ENGLISH_STOP_WORDS) for a in answers]
    return [_spelled(t, answers, tokens) for t in terms]


def _tokens(text: str, stop) -> list[tuple[str, int, int, bool]]:
    """``(word, start, end, first in a sentence)`` of each word TF-IDF keeps."""
    out = []
    for m in _TOKEN.finditer(text):
        w = m.group().lower()
        if w in stop:
            continue
        k = m.start() - 1
        while k >= 0 and text[k].isspace():
            k -= 1
        out.append((w, m.start(), m.end(), k < 0 or text[k] in ".!?"))
    return out


def _spelled(term: str, answers: Sequence[str], tokens) -> str:
    """The most telling spelling of ``term`` in the answers (see :func:`in_their_words`)."""
    parts = term.split(" ")
    seen: list[tuple[int, str]] = []  # (rank: lower is better, spelling)
    for text, tk in zip(answers, tokens, strict=True):
        for q in range(len(tk) - len(parts) + 1):
            if all(tk[q + m][0] == p for m, p in enumerate(parts)):
                seen.append(_spelling(text, tk[q:q + len(parts)]))
    if not seen:
        return term
    counts = Counter(x for _, x in seen)
    best = min(range(len(seen)), key=lambda q: (seen[q][0], -counts[seen[q][1]], q))
    return seen[best][1]


def _spelling(text: str, span) -> tuple[int, str]:
    """One occurrence's spelling, ranked: 0 mid-sentence, 1 first in a sentence (its
    capital may be the sentence's), +1 for a phrase with more than a short word between."""
    (_, s0, e0, first), *rest = span
    word = text[s0:e0]
    if first and word[:1].isupper() and word[1:].islower():
        word = word.lower()  # capitalised as the sentence's first word only
    rank = int(first)
    if rest:
        _, s1, e1, _ = rest[0]
        between = text[e0:s1]
        if _BETWEEN.fullmatch(between):
            word = " ".join([word, *between.split(), text[s1:e1]])
        else:
            word, rank = f"{word} {text[s1:e1]}", rank + 1
    return rank, word


def _vague(word: str) -> bool:
    return word in QUOTE_FILLER or word.isdigit()


def _answers(features, i: int, side: str, column: str | None = None) -> list[str]:
    """Member ``i``'s answers in the text columns of ``side`` (only ``column`` if given)."""
    return [str(tf.answers[i]) for tf in getattr(features, "texts", {}).values()
            if tf.side == side and (column is None or tf.name == column)
            and tf.answers is not None]


def _terms_of(features) -> tuple[list[str], np.ndarray | None]:
    for tf in getattr(features, "texts", {}).values():
        return tf.terms, tf.term_share
    return [], None
