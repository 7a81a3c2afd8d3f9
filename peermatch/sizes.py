"""Group sizes a chair can accept: even sizes, a target size, per-group bounds, shares of groups.

Internal helpers of :func:`peermatch.match` (see ``docs/fairness.md``):

* :func:`share_groups` shares a total number of groups over independent parts (tiers,
  regions) in proportion to their sizes (largest remainder), within each part's range.
* :func:`choose_count` picks the number of groups of a part for ``target_size`` or
  ``even_sizes``.
* :func:`apply_sizes` tightens a compiled problem's per-group bounds: ``group_sizes``
  (existing groups with their own capacity) and ``even_sizes`` (sizes differ by at most
  one).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from .core import group_count_range, group_names
from .errors import ConfigError

__all__ = ["share_groups", "count_range", "choose_count", "check_group_sizes", "apply_sizes"]


def count_range(n: int, lo: int, hi: int) -> tuple[int, int]:
    """Fewest and most groups of ``lo``-``hi`` members that ``n`` candidates can fill.

    >>> count_range(30, 8, 12)
    (3, 3)
    """
    return group_count_range(n, lo, hi)


def share_groups(total: int, sizes, lo: int, hi: int, labels=None) -> list[int]:
    """Share ``total`` groups over parts of ``sizes`` candidates, in proportion.

    Each part first gets the whole part of its quota ``total * size / sum(sizes)``,
    clamped to the counts its size allows (``ceil(size / hi) .. size // lo``); the groups
    left go one by one to the parts with the largest remainders that still have room
    (ties: the larger part, then the earlier one).

    Raises
    ------
    ConfigError
        When no share fits: too few or too many groups for the parts' ranges.

    Examples
    --------
    >>> share_groups(10, [60, 40], 8, 12)
    [6, 4]
    >>> share_groups(13, [50, 50, 20], 8, 12)
    [6, 5, 2]
    """
    sizes = [int(s) for s in sizes]
    labels = list(labels) if labels is not None else [f"part {k + 1}" for k in range(len(sizes))]
    ranges = [count_range(s, lo, hi) for s in sizes]
    bad = [f"{lab} ({s} candidates)" for lab, s, (a, b) in zip(labels, sizes, ranges,
                                                                  strict=True) if a > b]
    if bad:
        raise ConfigError(f"{', '.join(bad)} cannot form groups of {lo}-{hi}. Turn off the "
                          "rule that separates them, or change the size range.")
    need, room = sum(a for a, _ in ranges), sum(b for _, b in ranges)
    if not need <= total <= room:
        detail = "; ".join(f"{lab}: {a}-{b}" for lab, (a, b) in zip(labels, ranges, strict=True))
        raise ConfigError(f"{total} groups cannot be shared over the parts the rules separate: "
                          f"they take {need}-{room} groups of {lo}-{hi} ({detail}). Change "
                          "--groups or the size range.")
    n = sum(sizes)
    quota = [total * s / n for s in sizes]
    share = [min(max(int(q), a), b) for q, (a, b) in zip(quota, ranges, strict=True)]
    order = sorted(range(len(sizes)), key=lambda k: (-(quota[k] - int(quota[k])), -sizes[k], k))
    while sum(share) != total:
        step = 1 if sum(share) < total else -1
        for k in (order if step == 1 else order[::-1]):
            a, b = ranges[k]
            if a <= share[k] + step <= b:
                share[k] += step
                break
    return share


def choose_count(n: int, lo: int, hi: int, *, target_size: int | None = None,
                 min_groups: int | None = None, nonnegative: bool = True) -> int:
    """The number of groups of ``n`` candidates for ``target_size`` (or even sizes).

    With ``target_size``: the count nearest ``n / target_size`` in the allowed range (ties:
    fewer groups). Without it: the fewest groups when no affinity is negative (fewer, larger
    groups hold more pairs, as the solver's own choice), else the middle of the range.

    >>> choose_count(100, 8, 12, target_size=10)
    10
    >>> choose_count(100, 8, 12)
    9
    """
    a, b = count_range(n, lo, hi)
    if min_groups is not None:
        a = max(a, int(min_groups))
    if a > b:
        return a  # diagnose() explains why no count fits
    if target_size is not None:
        ideal = n / float(target_size)
        return min(range(a, b + 1), key=lambda c: (abs(c - ideal), c))
    return a if nonnegative else (a + b) // 2


def check_group_sizes(group_sizes) -> dict[str, tuple[int, int]]:
    """``group_sizes`` as ``{name: (lo, hi)}``; an int means ``(1, int)`` (a capacity).

    ``min_size``/``max_size`` bound every group; ``group_sizes`` tightens named groups
    within them.

    >>> check_group_sizes({"Alpha": [6, 10], "Beta": 14})
    {'Alpha': (6, 10), 'Beta': (1, 14)}
    """
    if group_sizes is None:
        return {}
    if not isinstance(group_sizes, Mapping):
        raise ConfigError("The 'group_sizes' parameter must map group names to a capacity "
                          f"(int) or a [min, max] pair. Got {group_sizes!r} instead.")
    out = {}
    for name, v in group_sizes.items():
        try:
            lo, hi = (1, int(v)) if isinstance(v, (int, np.integer)) else (int(v[0]), int(v[1]))
            if isinstance(v, bool) or not 0 <= lo <= hi or (not isinstance(
                    v, (int, np.integer)) and len(v) != 2):
                raise ValueError
        except (TypeError, ValueError, IndexError):
            raise ConfigError(f"group_sizes[{name!r}] must be a capacity (int >= 1) or a "
                              f"[min, max] pair with 0 <= min <= max. Got {v!r} instead.") from None
        out[str(name)] = (lo, hi)
    return out


def apply_sizes(compiled, *, group_sizes: Mapping[str, tuple[int, int]] | None = None,
                even_sizes: bool = False, target_size: int | None = None,
                label: str = "") -> set[str]:
    """Tighten the group bounds of ``compiled.problem`` (replaced by a problem built with
    the new bounds); return the group names used.

    ``group_sizes`` replaces the bounds of the named groups (a locked group keeps its
    exact size, which must lie in the range). ``even_sizes`` makes the sizes of the groups
    whose size is not fixed differ by at most one: the candidates they share, ``r``, over
    their count ``k`` give each ``floor(r / k)`` or ``ceil(r / k)`` members. A free number
    of groups is fixed first (:func:`choose_count`).
    """
    p = compiled.problem
    prefix = f"{label}: " if label else ""
    used: set[str] = set()
    if not (group_sizes or even_sizes or target_size):
        return used
    if p.n_groups is None:
        if group_sizes:
            raise ConfigError("group_sizes names groups, so the number of groups must be "
                              "fixed: pass n_groups (--groups), or use existing groups.")
        A = p.affinity
        a_min = A.bounds()[0] if hasattr(A, "bounds") else float(np.min(A))
        m = choose_count(p.n, p.min_size, p.max_size, target_size=target_size,
                         min_groups=p.min_groups, nonnegative=a_min >= 0)
        if m > p.n // p.min_size:
            return used  # no count fits: diagnose() says why
        p = p.with_groups(m)
        compiled.notes.append(f"{prefix}{m} groups"
                              + (f" (nearest {p.n / target_size:.1f} for target size "
                                 f"{target_size})" if target_size else " (even sizes)") + ".")
    m = p.n_groups
    b = p.bounds_for(m).copy()
    names = compiled.group_names or group_names(m)
    locked = set(compiled.rules.locked_groups) if compiled.rules is not None else set()
    for g, name in enumerate(names):
        if name not in (group_sizes or {}):
            continue
        lo, hi = group_sizes[name]
        used.add(name)
        if name in locked:
            if not lo <= b[g, 0] <= hi:
                raise ConfigError(f"{prefix}group {name!r} is locked with {b[g, 0]} members, "
                                  f"outside its group_sizes range {lo}-{hi}.")
            continue
        b[g] = (lo, hi)
    if even_sizes:
        flex = b[:, 0] < b[:, 1]
        k = int(flex.sum())
        if k:
            r = p.n - int(b[~flex, 0].sum())
            q, extra = divmod(r, k)
            lo_e, hi_e = np.maximum(b[flex, 0], q), np.minimum(b[flex, 1], q + (extra > 0))
            if np.any(lo_e > hi_e) or r < 0:
                g = int(np.flatnonzero(flex)[np.flatnonzero(lo_e > hi_e)[0]]) if np.any(
                    lo_e > hi_e) else 0
                raise ConfigError(f"{prefix}even sizes give each of the {k} groups {q}"
                                  f"{f'-{q + 1}' if extra else ''} members, but group "
                                  f"{names[g]!r} holds {b[g, 0]}-{b[g, 1]}. Change the number "
                                  "of groups, the size range or group_sizes, or allow "
                                  "free sizes (--free-sizes, even_sizes=False).")
            b[flex, 0], b[flex, 1] = lo_e, hi_e
    # a new problem with these bounds: the one the rules compiled is never changed
    compiled.problem = replace(p, bounds=b)
    return used
