"""Checking a finished grouping against the rules, and listing the rules in force.

The checks themselves run once, in :func:`peermatch.problem.breaches`, on the solver's
arrays; :func:`check_violations` says each breach in words and files it under the rule
family that made the broken constraint (the tag of a group sum or a cannot-link pair,
or the family that owns the primitive), then adds each family's own checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..problem import Breach, Problem, breaches
from .compiled import Compiled, Violation
from .registry import REGISTRY
from .spec import Rules

__all__ = ["check_violations", "check_grouping", "rule_families", "meeting_slots"]


@dataclass
class _Seen:
    """A grouping as a check reads it: labels, group and member names."""

    compiled: Compiled
    labels: np.ndarray
    m: int
    gn: list[str]
    names: tuple[str, ...]

    @property
    def p(self) -> Problem:
        return self.compiled.problem

    def members_of(self, g: int) -> tuple[str, ...]:
        return tuple(self.names[i] for i in np.flatnonzero(self.labels == g))


def _sizes(s: _Seen, b: Breach) -> list[Violation]:
    sizes = np.bincount(s.labels, minlength=s.m)
    bounds = s.p.bounds_for(s.m)
    locked = set(s.compiled.rules.locked_groups)
    return [Violation(REGISTRY.owner("sizes"), s.gn[g], s.members_of(g),
                      f"group {s.gn[g]} has {sizes[g]} members, outside "
                      f"{bounds[g, 0]}-{bounds[g, 1]}"
                      + (" (a locked group keeps its members)" if s.gn[g] in locked else ""))
            for g in b.items]


def _cannot_link(s: _Seen, b: Breach) -> list[Violation]:
    out, names, gn, labels = [], s.names, s.gn, s.labels
    default = REGISTRY.owner("cannot_link")
    for i, j in s.p.cannot_link[b.items]:
        key = (int(i), int(j))
        why = s.compiled.pair_reasons.get(key, "conflict")
        out.append(Violation(s.compiled.pair_rules.get(key, default), gn[labels[i]],
                             (names[i], names[j]),
                             f"group {gn[labels[i]]} holds {names[i]} and {names[j]} "
                             f"({why})", why))
    return out


def _must_link(s: _Seen, b: Breach) -> list[Violation]:
    names = s.names
    return [Violation(REGISTRY.owner("must_link"), None, (names[i], names[j]),
                      f"{names[i]} and {names[j]} must be together")
            for i, j in s.p.must_link[b.items]]


def _allowed(s: _Seen, b: Breach) -> list[Violation]:
    names, gn, labels = s.names, s.gn, s.labels
    out = []
    for i in b.items:
        why = _placement_reason(s, int(i))
        out.append(Violation(REGISTRY.owner("allowed"), gn[labels[i]], (names[i],),
                             f"{names[i]} is in group {gn[labels[i]]}, which they may not "
                             f"join" + (f" ({why})" if why else ""), why))
    return out


def _placement_reason(s: _Seen, i: int) -> str:
    """Why member ``i`` may not be in its group, from the placement settings (locked
    groups, existing groups kept, pins, allowed groups); empty when none says."""
    rules, existing, gn = s.compiled.rules, s.compiled.existing, s.gn
    here = gn[s.labels[i]]
    own = gn[existing[i]] if existing is not None and existing[i] >= 0 else None
    member = s.names[i]
    if own is not None and own in rules.locked_groups:
        return f"they belong to locked group {own}: its members stay in it"
    if here in rules.locked_groups:
        return f"group {here} is locked: nobody joins it"
    if own is not None and rules.keep_existing:
        return f"existing members stay in their group, {own} (keep_existing)"
    if member in rules.pins:
        return f"pinned to group {rules.pins[member]}"
    if member in rules.allowed_groups:
        return f"allowed groups: {', '.join(rules.allowed_groups[member])}"
    return ""


def _group_sums(s: _Seen, b: Breach) -> list[Violation]:
    out, gn, labels = [], s.gn, s.labels
    gs = s.p.group_sums[b.index]
    sum_rules = s.compiled.sum_rules
    rule = sum_rules[b.index] if b.index < len(sum_rules) else "other"
    family = REGISTRY.get(rule)
    detail = family.detail(gs.name) if family is not None else gs.name
    tot = np.bincount(labels, weights=gs.coef, minlength=s.m)
    lo, hi = gs.bounds(s.m)
    for g in b.items:
        lim = (f"at most {hi[g]:g}" if np.isfinite(hi[g]) and tot[g] > hi[g]
               else f"at least {lo[g]:g}")
        mem = tuple(s.names[i] for i in np.flatnonzero((labels == g) & (gs.coef != 0)))
        size = int(np.sum(labels == g))
        how = (family.breach(float(tot[g]), size, lim) if family is not None
               else f"{tot[g]:g} members, {lim}")
        out.append(Violation(rule, gn[g], mem, f"group {gn[g]} breaks {gs.name} ({how})",
                             detail))
    return out


def _no_singleton(s: _Seen, b: Breach) -> list[Violation]:
    names, gn, labels = s.names, s.gn, s.labels
    return [Violation(REGISTRY.owner("no_singleton"), gn[labels[i]], (names[i],),
                      f"{names[i]} is isolated in group {gn[labels[i]]}") for i in b.items]


def _slots(s: _Seen, b: Breach) -> list[Violation]:
    sizes = np.bincount(s.labels, minlength=s.m)
    out = []
    for g in b.items:
        need = int(np.ceil(s.p.slot_quorum * sizes[g] - 1e-9))
        out.append(Violation(REGISTRY.owner("slots"), s.gn[g], s.members_of(g),
                             f"group {s.gn[g]} has no meeting slot shared by {need} members"))
    return out


#: How the breach of each solver primitive reads (see :data:`peermatch.problem.CONSTRAINTS`).
_SAY: dict[str, Callable[[_Seen, Breach], list[Violation]]] = {
    "sizes": _sizes, "cannot_link": _cannot_link, "must_link": _must_link,
    "allowed": _allowed, "group_sums": _group_sums, "no_singleton": _no_singleton,
    "slots": _slots,
}


def check_violations(compiled: Compiled, labels: np.ndarray) -> list[Violation]:
    """Every broken hard rule of a grouping, as :class:`Violation` values.

    The one check of a finished grouping: ``match``, ``report --check``,
    :meth:`MatchResult.validate <peermatch.result.MatchResult.validate>` and
    :func:`check_grouping` use it, and it formats the solver's own checks
    (:func:`peermatch.problem.breaches`) in their order, then adds each rule family's
    own :meth:`~peermatch.rules.base.Family.check`.

    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> from peermatch.rules import build_problem
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("xxyz"),
    ...     "employees": ["1", "2", "3", "4"]}))
    >>> c = build_problem(t, np.zeros((4, 4)), min_size=2, max_size=2)
    >>> [(v.rule, v.group, v.members) for v in check_violations(c, np.array([0, 0, 1, 1]))]
    [('competitors', '1', ('a', 'b'))]
    """
    p = compiled.problem
    labels = np.asarray(labels)
    names = p.names or tuple(str(i) for i in range(p.n))
    if labels.shape != (p.n,) or labels.min(initial=0) < 0:
        unplaced = tuple(names[i] for i in np.flatnonzero(labels < 0)) if labels.shape == (
            p.n,) else ()
        return [Violation(REGISTRY.owner("sizes"), None, unplaced,
                          "not every candidate is placed")]
    labels = labels.astype(np.int64)
    m = max(int(labels.max()) + 1 if p.n else 0, p.n_groups or 0)
    gn = compiled.group_names or [str(g + 1) for g in range(m)]
    gn = list(gn) + [str(g + 1) for g in range(len(gn), m)]
    seen = _Seen(compiled, labels, m, gn, names)
    out: list[Violation] = []
    for b in breaches(p, labels, m):
        out.extend(_SAY[b.kind](seen, b))
    for family in REGISTRY:
        out.extend(family.check(compiled, labels))
    return out


def check_grouping(compiled: Compiled, labels: np.ndarray) -> list[str]:
    """Every broken hard rule of a grouping, in plain words (empty when all hold).

    The messages of :func:`check_violations`.

    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> from peermatch.rules import build_problem
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("xxyz"),
    ...     "employees": ["1", "2", "3", "4"]}))
    >>> c = build_problem(t, np.zeros((4, 4)), min_size=2, max_size=2)
    >>> check_grouping(c, np.array([0, 1, 0, 1]))
    []
    >>> check_grouping(c, np.array([0, 0, 1, 1]))
    ["group 1 breaks competitors: industry 'x' (2 members, at most 1)"]
    """
    return [v.message for v in check_violations(compiled, labels)]


def rule_families(rules: Rules, sizes: tuple[int, int] | None = None) -> list[tuple[str, str]]:
    """``(key, description)`` of every rule family in force under ``rules``.

    >>> from peermatch.rules import Rules
    >>> rule_families(Rules(), (8, 12))[0]
    ('sizes', 'Group sizes within 8-12')
    >>> [key for key, _ in rule_families(Rules(same_region=True))]
    ['sizes', 'competitors', 'conflicts', 'same_region']
    """
    return [(f.key, f.describe(rules, sizes)) for f in REGISTRY if f.active(rules)]


def meeting_slots(compiled: Compiled, labels: np.ndarray) -> list[str]:
    """The meeting slot of each group: the slot most of its members share ('' if none)."""
    p = compiled.problem
    labels = np.asarray(labels)
    m = int(labels.max()) + 1 if len(labels) else 0
    if p.slots is None or p.slots.shape[1] == 0:
        return [""] * m
    Z = np.zeros((m, p.n))
    Z[labels, np.arange(p.n)] = 1.0
    counts = Z @ p.slots
    return [compiled.slot_names[int(np.argmax(c))] if c.max() > 0 else "" for c in counts]
