"""Sizes, tiers and regions: the rules that split the candidates before compiling.

:func:`compile_parts` is the one path from rules to solver input, shared by ``match``
and ``validate``: it splits the table by tier and region (:func:`partition`), checks
each part's size and compiles and diagnoses it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .. import core
from ..affinity import is_dense
from ..candidates import CandidateTable
from ..errors import ConfigError
from ..sizes import share_groups
from .columns import norm
from .compile import build_problem
from .compiled import Compiled
from .diagnosis import diagnose
from .spec import Rules, is_int
from .split import partition

__all__ = ["check_sizes", "Part", "partition", "keep_parts_apart", "compile_parts"]


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
        if not is_int(n_groups) or n_groups < 1:
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
        fewest, most = core.group_count_range(n, lo, hi)
        if fewest > most:
            raise ConfigError(f"{source}: {n} candidates cannot be split into groups of {lo}-{hi}"
                              f" (at least {fewest} groups are needed to respect the maximum,"
                              f" but only {most} fit the minimum). Widen the size range.")
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
                norm(table.tier[a]) != norm(table.tier[b]))
            compiled.pair_rules[(a, b)] = "separate_tiers" if tiers_differ else "same_region"
    if extra:
        cl = np.asarray(extra, dtype=np.int64)
        if p.cannot_link is not None and len(p.cannot_link):
            cl = np.unique(np.concatenate([p.cannot_link, cl]), axis=0)
        # a new problem with the extra pairs (the affinity is not checked again)
        compiled.problem = replace(p, cannot_link=cl)


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
        fewest, most = core.group_count_range(len(rows), min_size, max_size)
        if len(rows) < min_size or fewest > most:
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
