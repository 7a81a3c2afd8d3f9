"""The grouping problem in matrix form: the one object every solver reads.

Data flows one way: candidates -> features -> scoring + rules -> :class:`Problem`
-> solve -> result. A :class:`Problem` knows nothing of tables or column names;
it holds the affinity matrix and the hard rules as arrays over element indices
``0..n-1`` and group indices ``0..m-1``.

Maths (see ``docs/model.md``): find labels ``p : {0..n-1} -> {0..m-1}`` maximising

    F(p) = sum over pairs i < j with p(i) == p(j) of A[i, j]

subject to

* sizes: ``bounds[g, 0] <= |{i : p(i) = g}| <= bounds[g, 1]``;
* cannot-link: ``p(i) != p(j)`` for every row ``(i, j)`` of ``cannot_link``;
* must-link: ``p(i) == p(j)`` for every row of ``must_link``;
* allowed groups: ``allowed[i, p(i)]`` is true;
* group sums: for every :class:`GroupSum` ``s`` and group ``g``,
  ``s.lo[g] <= sum_{i : p(i) = g} s.coef[i] <= s.hi[g]`` (composition caps such as
  "at most 2 members of one sector", "at least one member with expertise X", hard
  balance of a numeric attribute);
* common slot: when ``slots`` is given, every group has a slot ``s`` at which at
  least ``ceil(slot_quorum * size)`` of its members are available;
* no singleton: for every labels array ``c`` in ``no_singleton``, no group holds
  exactly one element with a given label ``c[i] >= 0`` (nobody is isolated).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import core
from .errors import ConfigError

__all__ = ["GroupSum", "Problem", "Breach", "breaches", "CONSTRAINTS", "CONSTRAINT_NAMES",
           "pair_sum"]


@dataclass(frozen=True)
class GroupSum:
    """A linear rule on every group: ``lo[g] <= sum of coef[i] over members i of g <= hi[g]``.

    Parameters
    ----------
    coef : ndarray of shape (n,)
        Contribution of each element (0 for elements the rule ignores).
    lo, hi : float or ndarray of shape (m,)
        Bounds per group; ``-inf`` / ``inf`` switch a side off.
    name : str
        Plain-language name of the rule, used in diagnostics
        (e.g. ``"at most 2 members from sector 'Retail'"``).

    Examples
    --------
    >>> import numpy as np
    >>> cap = GroupSum(coef=np.array([1.0, 1.0, 0.0]), lo=-np.inf, hi=1, name="one lawyer at most")
    >>> cap.bounds(2)
    (array([-inf, -inf]), array([1., 1.]))
    """

    coef: np.ndarray
    lo: float | np.ndarray = -np.inf
    hi: float | np.ndarray = np.inf
    name: str = "group sum"

    def bounds(self, m: int) -> tuple[np.ndarray, np.ndarray]:
        """Return ``(lo, hi)`` broadcast to arrays of length ``m``."""
        lo = np.broadcast_to(np.asarray(self.lo, dtype=float), (m,)).copy()
        hi = np.broadcast_to(np.asarray(self.hi, dtype=float), (m,)).copy()
        return lo, hi


def _pairs(x, name: str, n: int) -> np.ndarray:
    if x is None:
        return np.zeros((0, 2), dtype=np.int64)
    arr = np.asarray(x, dtype=np.int64)
    if arr.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ConfigError(f"The {name!r} parameter must be an array of index pairs of shape "
                          f"(k, 2). Got shape {arr.shape} instead.")
    if arr.min() < 0 or arr.max() >= n:
        raise ConfigError(f"The {name!r} parameter holds an index outside 0..{n - 1}.")
    if np.any(arr[:, 0] == arr[:, 1]):
        i = int(arr[arr[:, 0] == arr[:, 1]][0, 0])
        raise ConfigError(f"The {name!r} parameter pairs element {i} with itself.")
    arr = np.sort(arr, axis=1)
    return np.unique(arr, axis=0)


def _check_matrix(A: np.ndarray, block: int = 256) -> None:
    """Finite and symmetric, checked tile by tile: no n x n temporaries, cache-friendly."""
    n = A.shape[0]
    tol = 1e-6 if A.dtype == np.float32 else 1e-9
    buf = np.empty((block, block), dtype=A.dtype)
    for s in range(0, n, block):
        for t in range(s, n, block):
            upper, lower = A[s:s + block, t:t + block], A[t:t + block, s:s + block]
            d = buf[:upper.shape[0], :upper.shape[1]]
            # |A - A.T| on the tile pair; a NaN or inf in either tile makes it non-finite.
            with np.errstate(invalid="ignore", over="ignore"):
                np.subtract(upper, lower.T, out=d)
            np.abs(d, out=d)
            worst = float(d.max())
            if not np.isfinite(worst):
                raise ConfigError("The affinity matrix holds NaN or infinite values; "
                                  "replace them with finite numbers (e.g. 0).")
            if worst > tol * (1.0 + float(np.abs(upper).max())):
                raise ConfigError("The affinity matrix must be symmetric; use (A + A.T) / 2.")


def _check_bounds(bounds, n_groups: int | None) -> np.ndarray:
    """Per-group ``(lo, hi)`` sizes as an ``(m, 2)`` int array, checked."""
    b = np.asarray(bounds, dtype=np.int64)
    if b.ndim != 2 or b.shape[1] != 2 or len(b) == 0:
        raise ConfigError("The 'bounds' parameter must be a list of (lo, hi) pairs. "
                          f"Got shape {b.shape} instead.")
    if np.any(b[:, 0] > b[:, 1]) or np.any(b[:, 0] < 0):
        g = int(np.flatnonzero((b[:, 0] > b[:, 1]) | (b[:, 0] < 0))[0])
        raise ConfigError(f"Group {g} has bounds ({b[g, 0]}, {b[g, 1]}); "
                          "need 0 <= lo <= hi.")
    if n_groups is not None and n_groups != len(b):
        raise ConfigError(f"n_groups={n_groups} disagrees with len(bounds)={len(b)}.")
    return b


@dataclass(frozen=True)
class Problem:
    """A grouping problem: affinity matrix plus hard rules, as arrays.

    Frozen: its attributes cannot be set after construction. Build a changed copy with
    :meth:`with_bounds`, :meth:`with_groups`, :meth:`with_affinity` or
    :func:`dataclasses.replace`; a copy made from a problem shares its affinity and does
    not check it again. (Arrays are shared, not copied: do not change them in place.)

    Sizes are given either as explicit per-group ``bounds`` (the number of groups is
    then ``len(bounds)``) or as ``min_size``/``max_size`` with an optional
    ``n_groups``; with ``n_groups=None`` the solver chooses the count that scores best.

    Parameters
    ----------
    affinity : ndarray of shape (n, n)
        Symmetric, float32 or float64 (kept as given, not copied: a 10,000 x 10,000
        matrix is 800 MB in float64); a non-zero diagonal is zeroed on a copy.
    bounds : array-like of shape (m, 2), optional
        ``(lo, hi)`` size of each group.
    min_size, max_size : int, optional
        One size range for every group (used when ``bounds`` is None).
    n_groups : int, optional
        Number of groups; None lets the solver choose.
    min_groups : int, optional
        With a free number of groups, the fewest allowed (e.g. the size of the
        largest set of mutual competitors); :meth:`group_count_range` honours it.
    cannot_link, must_link : array-like of shape (k, 2), optional
        Index pairs that must be apart / together.
    allowed : ndarray of shape (n, m) of bool, optional
        ``allowed[i, g]`` is False when ``i`` may not join group ``g`` (pins, locked
        groups, allowed-group sets). Needs a fixed number of groups.
    group_sums : sequence of GroupSum
        Linear rules per group (composition caps, hard balance).
    slots : ndarray of shape (n, S) of bool, optional
        Availability of each element at each meeting slot.
    slot_quorum : float, default=1.0
        Share of a group's members that must share one slot.
    no_singleton : sequence of ndarray of shape (n,)
        Label arrays (``-1`` = not protected); no group may hold exactly one
        element of a label.
    names : sequence of str, optional
        Element names, used in solver variable names and messages.

    Examples
    --------
    >>> import numpy as np
    >>> A = np.ones((4, 4))
    >>> p = Problem(A, min_size=2, max_size=2, cannot_link=[(0, 1)])
    >>> p.n, p.group_count_range()
    (4, (2, 2))
    >>> import dataclasses
    >>> dataclasses.replace(p, cannot_link=[(0, 2)]).cannot_link.tolist()
    [[0, 2]]
    """

    affinity: np.ndarray
    bounds: np.ndarray | None = None
    min_size: int | None = None
    max_size: int | None = None
    n_groups: int | None = None
    min_groups: int | None = None
    cannot_link: np.ndarray | None = None
    must_link: np.ndarray | None = None
    allowed: np.ndarray | None = None
    group_sums: tuple[GroupSum, ...] = field(default_factory=tuple)
    slots: np.ndarray | None = None
    slot_quorum: float = 1.0
    no_singleton: tuple[np.ndarray, ...] = field(default_factory=tuple)
    names: tuple[str, ...] | None = None
    # The affinity this problem checked: dataclasses.replace passes it on with the fields,
    # so a copy whose affinity is that same object skips the O(n^2) check.
    _checked: Any = field(default=None, repr=False, compare=False)

    # Arrays make a Problem unhashable, frozen or not.
    __hash__ = None  # type: ignore[assignment]

    def _set(self, **values) -> None:
        """Write attributes during construction (or on a fresh copy): the class is frozen."""
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __post_init__(self) -> None:
        if hasattr(self.affinity, "block") and not isinstance(self.affinity, np.ndarray):
            # An affinity object (peermatch.affinity.FeatureAffinity): blocks on demand,
            # symmetric with a zero diagonal by construction.
            A = self.affinity
        elif self._checked is not None and self._checked is self.affinity:
            A = self.affinity  # a copy of a checked problem: same matrix, checked already
        else:
            A = np.asarray(self.affinity)
            if A.dtype not in (np.float32, np.float64):
                A = A.astype(np.float64)
            if A.ndim != 2 or A.shape[0] != A.shape[1]:
                raise ConfigError("The affinity matrix must be square. "
                                  f"Got shape {A.shape} instead.")
            _check_matrix(A)
            if np.any(np.diagonal(A) != 0):
                A = A.copy()  # never modify the caller's matrix
                np.fill_diagonal(A, 0.0)
        self._set(affinity=A, _checked=A)
        n = A.shape[0]
        if self.bounds is not None:
            b = _check_bounds(self.bounds, self.n_groups)
            self._set(bounds=b, n_groups=len(b))
        else:
            lo = 1 if self.min_size is None else int(self.min_size)
            hi = n if self.max_size is None else int(self.max_size)
            if lo < 1 or hi < lo:
                raise ConfigError(f"min_size={lo} and max_size={hi}: "
                                  "need 1 <= min_size <= max_size.")
            self._set(min_size=lo, max_size=hi)
        self._set(cannot_link=_pairs(self.cannot_link, "cannot_link", n),
                  must_link=_pairs(self.must_link, "must_link", n))
        if self.allowed is not None:
            if self.n_groups is None:
                raise ConfigError("'allowed' needs a fixed number of groups (n_groups or bounds).")
            al = np.asarray(self.allowed, dtype=bool)
            if al.shape != (n, self.n_groups):
                raise ConfigError(f"'allowed' must have shape (n, m) = ({n}, {self.n_groups}). "
                                  f"Got {al.shape} instead.")
            self._set(allowed=al)
        self._set(group_sums=tuple(self.group_sums))
        if self.slots is not None:
            s = np.asarray(self.slots, dtype=bool)
            if s.ndim != 2 or s.shape[0] != n:
                raise ConfigError(f"'slots' must have shape (n, S) with n={n}. Got {s.shape}.")
            self._set(slots=s)
        if not 0.0 < self.slot_quorum <= 1.0:
            raise ConfigError(f"slot_quorum must be in (0, 1]. Got {self.slot_quorum!r} instead.")
        self._set(no_singleton=tuple(np.asarray(c, dtype=np.int64) for c in self.no_singleton))
        if self.names is not None:
            self._set(names=tuple(str(x) for x in self.names))
            if len(self.names) != n:
                raise ConfigError(f"len(names)={len(self.names)} but n={n}.")

    @property
    def n(self) -> int:
        """Number of elements."""
        return self.affinity.shape[0]

    def group_count_range(self) -> tuple[int, int]:
        """Smallest and largest number of groups the size rules allow.

        Returns ``(m, m)`` when the number of groups is fixed. When ``lo > hi`` no
        count works.
        """
        if self.n_groups is not None:
            return self.n_groups, self.n_groups
        lo, hi = core.group_count_range(self.n, self.min_size, self.max_size)
        if self.min_groups is not None:
            lo = max(lo, int(self.min_groups))
        return lo, hi

    def bounds_for(self, m: int) -> np.ndarray:
        """Per-group ``(lo, hi)`` bounds for ``m`` groups, as an ``(m, 2)`` int array."""
        if self.bounds is not None:
            return self.bounds
        return np.tile(np.array([[self.min_size, self.max_size]], dtype=np.int64), (m, 1))

    def with_groups(self, m: int) -> Problem:
        """A copy of this problem with the number of groups fixed to ``m``."""
        if self.n_groups is not None and self.n_groups != m:
            raise ConfigError(f"This problem has {self.n_groups} groups, not {m}.")
        # Everything but the group count is already validated: copy fields, skip the checks
        # (the affinity matrix is shared, not copied: it can be gigabytes).
        new = copy.copy(self)
        new._set(bounds=self.bounds_for(m), n_groups=m, min_groups=None)
        return new

    def with_bounds(self, bounds) -> Problem:
        """A copy of this problem with per-group size ``bounds`` (which fix the group count).

        Cheap: the affinity (shared, not copied) and the other rules are not checked again,
        only the new bounds. The way to change a problem's sizes without writing to it.

        >>> import numpy as np
        >>> p = Problem(np.ones((4, 4)), min_size=1, max_size=4)
        >>> q = p.with_bounds([(1, 3), (1, 3)])
        >>> q.n_groups, q.bounds.tolist(), p.n_groups
        (2, [[1, 3], [1, 3]], None)
        """
        b = _check_bounds(bounds, None)
        if self.allowed is not None and self.allowed.shape[1] != len(b):
            raise ConfigError(f"'allowed' has {self.allowed.shape[1]} groups but the new "
                              f"bounds have {len(b)}; give one (lo, hi) pair per group.")
        new = copy.copy(self)
        new._set(bounds=b, n_groups=len(b), min_groups=None)
        return new

    def with_affinity(self, affinity) -> Problem:
        """A copy of this problem with another affinity of the same elements, unchecked.

        For solvers that reweigh the affinity (it stays symmetric with a zero diagonal by
        their construction) or ship it in another form; nothing else is copied.
        """
        new = copy.copy(self)
        new._set(affinity=affinity, _checked=affinity)
        return new

    def objective(self, labels: np.ndarray) -> float:
        """``sum over i < j in the same group of A[i, j]`` for a labelling.

        >>> import numpy as np
        >>> Problem(np.ones((3, 3))).objective(np.array([0, 0, 1]))
        1.0
        """
        # One objective for the solvers, the result's score and the report.
        return pair_sum(self.affinity, labels)


def _check_labels(labels, n: int) -> np.ndarray:
    lab = np.asarray(labels)
    if lab.ndim != 1 or (lab.size and not np.issubdtype(lab.dtype, np.integer)):
        raise ConfigError(f"The 'labels' parameter must be a 1-D array of integer group "
                          f"indices. Got an array of shape {lab.shape} and dtype {lab.dtype}.")
    if lab.shape[0] != n:
        raise ConfigError(f"The 'labels' parameter has {lab.shape[0]} entries but A has n={n} "
                          f"rows; give one label per candidate.")
    return lab.astype(np.int64, copy=False)


def pair_sum(A, labels) -> float:
    """``sum over pairs i < j in the same group of A[i, j]`` (``-1`` labels pair with nobody).

    ``A`` is an ``n x n`` array or an affinity object computing blocks (``A.block(rows)``).
    :func:`peermatch.core.pair_total` with the labels checked, as
    :func:`peermatch.scoring.grouping_score` computes it.

    >>> import numpy as np
    >>> pair_sum(np.array([[0, 1, 2], [1, 0, 3], [2, 3, 0]], dtype=float), [0, 0, 1])
    1.0
    """
    return core.pair_total(A, _check_labels(labels, A.shape[0]))


_EPS = 1e-9

#: The constraint arrays of a :class:`Problem`, in the order :func:`breaches` checks them.
CONSTRAINTS = ("sizes", "cannot_link", "must_link", "allowed", "group_sums", "slots",
               "no_singleton")

#: Plain names of the constraints, as the solver reports them in ``SolveResult.reasons``
#: ("group sizes" ...). Group sums are named by their own :attr:`GroupSum.name`.
CONSTRAINT_NAMES: dict[str, str] = {
    "sizes": "group sizes",
    "cannot_link": "cannot-link pairs",
    "must_link": "must-link pairs",
    "allowed": "allowed groups",
    "slots": "common meeting slot",
    "no_singleton": "no isolated member",
}


@dataclass(frozen=True)
class Breach:
    """Where a labelling breaks one constraint array of a :class:`Problem`.

    ``kind`` is one of :data:`CONSTRAINTS`; ``index`` the group sum or no-singleton
    rule (``-1`` for the others); ``items`` the failing entries: groups (sizes, group
    sums, slots), rows of the pair array (cannot/must link) or elements (allowed,
    no_singleton).
    """

    kind: str
    index: int
    items: np.ndarray


def breaches(problem: Problem, labels: np.ndarray, m: int) -> list[Breach]:
    """Every constraint of ``problem`` that ``labels`` (valid 0..m-1) breaks.

    The one implementation of the hard-rule checks: the solver's validator
    (``solve._prep.violations``) and the rule engine (``rules.check_violations``)
    both format these. Vectorised: ``O(n + pairs + rules * n)``, no ``m x n`` arrays.

    >>> import numpy as np
    >>> p = Problem(np.ones((4, 4)), min_size=2, max_size=2, cannot_link=[(0, 1)])
    >>> [(b.kind, b.items.tolist()) for b in breaches(p, np.array([0, 0, 1, 1]), 2)]
    [('cannot_link', [0])]
    """
    import math

    labels = np.asarray(labels, dtype=np.int64)
    n = problem.n
    out: list[Breach] = []
    b = problem.bounds_for(m)
    size = np.bincount(labels, minlength=m)
    bad = np.flatnonzero((size < b[:, 0]) | (size > b[:, 1]))
    if len(bad):
        out.append(Breach("sizes", -1, bad))
    cl = problem.cannot_link
    if len(cl):
        bad = np.flatnonzero(labels[cl[:, 0]] == labels[cl[:, 1]])
        if len(bad):
            out.append(Breach("cannot_link", -1, bad))
    ml = problem.must_link
    if len(ml):
        bad = np.flatnonzero(labels[ml[:, 0]] != labels[ml[:, 1]])
        if len(bad):
            out.append(Breach("must_link", -1, bad))
    if problem.allowed is not None:
        bad = np.flatnonzero(~problem.allowed[np.arange(n), labels])
        if len(bad):
            out.append(Breach("allowed", -1, bad))
    for k, s in enumerate(problem.group_sums):
        lo, hi = s.bounds(m)
        tot = np.bincount(labels, weights=np.asarray(s.coef, dtype=float), minlength=m)
        tol = _EPS * (1.0 + np.abs(tot))
        bad = np.flatnonzero((tot < lo - tol) | (tot > hi + tol))
        if len(bad):
            out.append(Breach("group_sums", k, bad))
    if problem.slots is not None:
        cnt = np.zeros((m, problem.slots.shape[1]), dtype=np.int64)  # (m, S), no m x n
        np.add.at(cnt, labels, problem.slots.astype(np.int64))
        best = cnt.max(axis=1) if cnt.shape[1] else np.zeros(m, dtype=np.int64)
        need = np.array([math.ceil(problem.slot_quorum * s - _EPS) for s in size])
        bad = np.flatnonzero((best < need) & (size > 0))
        if len(bad):
            out.append(Breach("slots", -1, bad))
    for t, c in enumerate(problem.no_singleton):
        sel = np.flatnonzero(c >= 0)
        if len(sel):
            key = c[sel] * m + labels[sel]
            _, inv, cnt = np.unique(key, return_inverse=True, return_counts=True)
            alone = sel[cnt[inv] == 1]
            if len(alone):
                out.append(Breach("no_singleton", t, alone))
    return out
