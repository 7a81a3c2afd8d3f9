"""The maths every layer shares: blocks, pair sums, member fits, group counts, group names.

A grouping is a label per candidate, groups ``0..m-1`` (``-1``: unplaced, in no group).
The affinity ``A`` is either a dense ``n x n`` array or an object with a
``block(rows, cols)`` method (:class:`peermatch.affinity.FeatureAffinity`); every function
here reads it through :func:`block`, so both forms give the same numbers.

This module imports numpy only: everything else in peermatch may import it. Functions
here do not validate their input (callers have); the compiled kernels of
``peermatch.solve`` keep their own copies of this arithmetic, tested against these.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "block",
    "fewest_groups",
    "fill_group_names",
    "group_count_range",
    "group_members",
    "group_names",
    "group_pair_sum",
    "group_pair_sums",
    "member_fits",
    "natural_key",
    "pair_total",
    "pair_total_by_groups",
    "same_group_pairs",
]

_TOKENS = re.compile(r"\d+|\D+")


# --------------------------------------------------------------------------- blocks


def block(A, rows, cols=None) -> np.ndarray:
    """The block ``A[np.ix_(rows, cols)]`` of a dense matrix or an affinity object.

    Parameters
    ----------
    A : ndarray of shape (n, n) or object with ``block(rows, cols)``
        The affinity.
    rows : array-like of int
        Row indices (any order, repeats allowed).
    cols : array-like of int or None, default=None
        Column indices; None uses ``rows``.

    Returns
    -------
    ndarray of shape (len(rows), len(cols))
        In ``A``'s dtype.

    Examples
    --------
    >>> block(np.arange(9.0).reshape(3, 3), [2, 0]).tolist()
    [[8.0, 6.0], [2.0, 0.0]]
    >>> block(np.arange(9.0).reshape(3, 3), [1], [0, 2]).tolist()
    [[3.0, 5.0]]
    """
    if not isinstance(A, np.ndarray) and hasattr(A, "block"):
        return A.block(rows, cols)
    A = np.asarray(A)
    r = np.asarray(rows, dtype=np.intp).reshape(-1)
    c = r if cols is None else np.asarray(cols, dtype=np.intp).reshape(-1)
    return A[np.ix_(r, c)]


def group_members(labels: np.ndarray, m: int) -> list[np.ndarray]:
    """Members of each group ``0..m-1``, each in increasing index order.

    Labels outside ``0..m-1`` (``-1``: unplaced) belong to no group. ``O(n log n)``.

    >>> [g.tolist() for g in group_members(np.array([1, -1, 0, 1]), 3)]
    [[2], [0, 3], []]
    """
    labels = np.asarray(labels)
    order = np.argsort(labels, kind="stable")
    cuts = np.searchsorted(labels[order], np.arange(m + 1))
    return [order[cuts[g]:cuts[g + 1]] for g in range(m)]


# --------------------------------------------------------------------------- pair sums


def group_pair_sum(A, members) -> float:
    """``sum over member pairs i < j of A[i, j]``: half the sum of the members' block.

    0 for a group under two members.

    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> group_pair_sum(A, [0, 1, 2]), group_pair_sum(A, [2])
    (6.0, 0.0)
    """
    if len(members) < 2:
        return 0.0
    return 0.5 * float(block(A, members).sum())


def group_pair_sums(A, labels: np.ndarray, m: int) -> np.ndarray:
    """:func:`group_pair_sum` of every group ``0..m-1``, shape ``(m,)``.

    ``O(sum of squared group sizes)``: one block per group, nothing ``n x n``.

    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> group_pair_sums(A, np.array([0, 0, 1]), 2).tolist()
    [1.0, 0.0]
    """
    return np.array([group_pair_sum(A, mem) for mem in group_members(labels, m)],
                    dtype=np.float64)


def pair_total_by_groups(A, labels: np.ndarray, m: int) -> float:
    """The objective summed group block by group block: ``sum_g group_pair_sum(g)``.

    Groups are added in label order, each as ``0.5 * float(block sum)``; an engine that
    compares values computed this way gets the same bits from here.

    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> pair_total_by_groups(A, np.array([0, 0, 1]), 2)
    1.0
    """
    total = 0.0
    for mem in group_members(labels, m):
        if len(mem) > 1:
            total += 0.5 * float(block(A, mem).sum())
    return total


def pair_total(A, labels: np.ndarray) -> float:
    """Objective ``F = sum over pairs i < j in the same group of A[i, j]``.

    Parameters
    ----------
    A : ndarray of shape (n, n) or object with ``block``
        Affinity (of a dense one only the upper triangle is read).
    labels : ndarray of shape (n,) of int
        Groups; ``-1`` (unplaced) candidates pair with nobody.

    Returns
    -------
    float

    Notes
    -----
    Dense: gathers only the same-group pairs (:func:`same_group_pairs`) and sums them in
    float64, ``O(sum of size^2)`` time and memory. Otherwise group blocks, each halved.

    Examples
    --------
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> pair_total(A, np.array([0, 0, 1])), pair_total(A, np.array([0, 0, 0]))
    (1.0, 6.0)
    """
    if not isinstance(A, np.ndarray) and hasattr(A, "block"):
        placed = labels >= 0
        if not placed.any():
            return 0.0
        idx = np.flatnonzero(placed)
        sub = labels[idx]
        return float(sum(0.5 * A.block(idx[sub == g]).sum() for g in np.unique(sub)))
    rows, cols = same_group_pairs(labels)
    return float(A[rows, cols].sum(dtype=np.float64))


def same_group_pairs(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``i < j`` with ``labels[i] == labels[j] >= 0``, vectorised.

    ``O(sum of size^2)``; pairs come group by group (in label order), each group's in
    row-major order of the upper triangle.

    >>> [a.tolist() for a in same_group_pairs(np.array([0, 1, 0, 0]))]
    [[0, 0, 2], [2, 3, 3]]
    """
    order = np.flatnonzero(labels >= 0)
    order = order[np.argsort(labels[order], kind="stable")]
    if order.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    g = labels[order]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[starts, order.size])
    # For sorted position k (group start s, size z): pair it with positions k+1 .. s+z-1.
    ends = np.repeat(starts + sizes, sizes)
    pos = np.arange(order.size)
    count = ends - pos - 1
    total = int(count.sum())
    first = np.repeat(pos, count)
    offset = np.arange(total) - np.repeat(np.cumsum(count) - count, count)
    second = first + 1 + offset
    return order[first], order[second]


# --------------------------------------------------------------------------- member fits


def member_fits(A, labels: np.ndarray, m: int) -> np.ndarray:
    """Each member's fit: mean affinity to the rest of their group, block by block.

    Parameters
    ----------
    A : ndarray of shape (n, n) or object with ``block``
        Symmetric affinity.
    labels : ndarray of shape (n,) of int
        Groups ``0..m-1`` (``-1``: unplaced).
    m : int
        Number of groups.

    Returns
    -------
    ndarray of shape (n,) of float64
        ``sum_{j in g, j != i} A[i, j] / (size(g) - 1)``; 0 for a member alone and for
        unplaced candidates.

    Notes
    -----
    ``O(sum of squared group sizes)`` time, one group's block in memory at a time.

    Examples
    --------
    >>> A = np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float)
    >>> member_fits(A, np.array([0, 0, 1]), 2).tolist()
    [1.0, 1.0, 0.0]
    """
    fits = np.zeros(len(labels))
    for mem in group_members(labels, m):
        if len(mem) > 1:
            fits[mem] = np.asarray(block(A, mem), dtype=np.float64).sum(axis=1) / (len(mem) - 1)
    return fits


# --------------------------------------------------------------------------- group counts


def fewest_groups(n: int, max_size: int) -> int:
    """Fewest groups of at most ``max_size`` members that hold ``n`` candidates: ``ceil(n / max)``.

    >>> fewest_groups(25, 12), fewest_groups(24, 12), fewest_groups(0, 12)
    (3, 2, 0)
    """
    return -(-n // max_size)


def group_count_range(n: int, min_size: int, max_size: int) -> tuple[int, int]:
    """Fewest and most groups of ``min_size``-``max_size`` members that ``n`` candidates fill.

    ``(ceil(n / max_size), n // min_size)``; no count works when the first exceeds the
    second.

    >>> group_count_range(30, 8, 12), group_count_range(13, 8, 12)
    ((3, 3), (2, 1))
    """
    return -(-n // max_size), n // min_size


# --------------------------------------------------------------------------- group names


def fill_group_names(names: Sequence[str | None], taken: Iterable[str] = ()) -> list[str]:
    """Name the unnamed groups: each ``None`` gets the smallest number ``1, 2, ...`` not taken.

    Given names are kept, in place; numbers already used as names, or listed in ``taken``
    (names no group here has, such as those of groups gone), are skipped.

    >>> fill_group_names([None, "2", None, "Alpha", None])
    ['1', '2', '3', 'Alpha', '4']
    >>> fill_group_names([None, None], taken=["1"])
    ['2', '3']
    """
    taken = {x for x in names if x is not None} | {str(x) for x in taken}
    out: list[str] = []
    k = 1
    for x in names:
        if x is None:
            while str(k) in taken:
                k += 1
            x = str(k)
            taken.add(x)
        out.append(x)
    return out


def group_names(m: int, existing: Iterable[str] = ()) -> list[str]:
    """Names of ``m`` groups: the ``existing`` names first, then ``1, 2, ...`` not taken.

    More existing names than ``m`` are all kept.

    >>> group_names(3), group_names(4, ["2", "Alpha"])
    (['1', '2', '3'], ['2', 'Alpha', '1', '3'])
    """
    names: list[str | None] = list(existing)
    names += [None] * (m - len(names))
    return fill_group_names(names)


def natural_key(name) -> list[tuple[int, int, str]]:
    """Sort key that puts group ``2`` before ``10`` (digits by value, text case-folded).

    >>> sorted(["10", "2", "b", "A1"], key=natural_key)
    ['2', '10', 'A1', 'b']
    """
    return [(0, int(t), "") if t.isdigit() else (1, 0, t.casefold())
            for t in _TOKENS.findall(str(name))] or [(2, 0, "")]
