"""Cheap proofs that a request is impossible, in the rules' own words with the fix.

:func:`diagnose` checks the group count, then runs each family's diagnosis in the
order of :data:`~peermatch.rules.REGISTRY`. The checks of a primitive that several
families compile to (the clique of keep-apart pairs, the counts of group sums) live
here and are run by the family that owns them in the diagnosis order.
"""

from __future__ import annotations

import numpy as np

from .. import core
from ..problem import Problem
from .base import Span
from .compiled import Compiled
from .registry import REGISTRY

__all__ = ["diagnose", "group_span", "clique_reason", "diagnose_apart", "diagnose_sum_counts"]


def group_span(p: Problem) -> tuple[int, int, str]:
    """The fewest and most groups the sizes allow, and the size rule in words."""
    if p.bounds is not None:
        return len(p.bounds), len(p.bounds), "the given group sizes"
    sizes = f"groups of {p.min_size}-{p.max_size}"
    if p.n_groups is not None:
        return p.n_groups, p.n_groups, sizes
    # Sizes alone (not min_groups): the competitor check below explains a larger minimum.
    return (*core.group_count_range(p.n, p.min_size, p.max_size), sizes)


def _apart_words(key: str) -> tuple[str, str] | None:
    """How a diagnosis names a pair kept apart by family ``key``, and its fix."""
    family = REGISTRY.get(key)
    return family.apart if family is not None else None


def clique_reason(compiled: Compiled, clique, names, m_hi: int) -> str:
    """A set of candidates that must all be apart, naming the rules that keep them apart."""
    clique = sorted(int(i) for i in clique)
    in_class = np.full(compiled.problem.n, -1)
    for k, rows in enumerate(compiled.classes):
        in_class[rows] = k
    fams: dict[str, int] = {}
    for x, i in enumerate(clique):
        for j in clique[x + 1:]:
            if in_class[i] >= 0 and in_class[i] == in_class[j]:
                fam = "competitors"
            else:
                fam = compiled.pair_rules.get((i, j), "conflicts")
            fams[fam] = fams.get(fam, 0) + 1
    order = sorted(fams, key=lambda f: (-fams[f], f))
    who = ", ".join(sorted(names[i] for i in clique)[:8]) + (" ..." if len(clique) > 8 else "")
    if order == ["conflicts"]:
        return (f"{len(clique)} candidates are in conflict with one another ({who}) and need "
                f"{len(clique)} groups, but at most {m_hi} fit. Remove a conflict or use more, "
                "smaller groups.")
    words = {f: _apart_words(f) for f in order}
    why = "; ".join(f"{fams[f]} pair(s) {(words[f] or (f, ''))[0]}" for f in order)
    fix = ", or ".join((words[f] or ("", f"relax {f}"))[1] for f in order)
    return (f"{len(clique)} candidates must all be in different groups ({who}: {why}) and "
            f"need {len(clique)} groups, but at most {m_hi} fit. {fix[0].upper()}{fix[1:]}, "
            "or use more, smaller groups.")


def diagnose_apart(c: Span, found: list[str]) -> list[str]:
    """A clique of the whole keep-apart graph (conflicts, repeats, wildcard competitors)."""
    p = c.p
    # Count the edges before building the graph: at 100,000 candidates the competitor sets
    # alone are tens of millions of pairs (class edges form disjoint cliques, each checked
    # by the competitor diagnosis, so only the pairs can make a larger clique).
    n_edges = len(p.cannot_link) + sum(len(r) * (len(r) - 1) // 2 for r in c.compiled.classes)
    if not len(p.cannot_link) or found or n_edges > 200_000:
        return []
    import networkx as nx

    G = nx.Graph()
    G.add_edges_from(map(tuple, p.cannot_link.tolist()))
    for rows in c.compiled.classes:
        G.add_edges_from((int(a), int(b)) for x, a in enumerate(rows) for b in rows[x + 1:])
    clique = max(nx.find_cliques(G), key=len) if G.number_of_nodes() else []
    return [clique_reason(c.compiled, clique, c.names, c.m_hi)] if len(clique) > c.m_hi else []


def diagnose_sum_counts(c: Span, found: list[str]) -> list[str]:
    """Group sums of 0/1 counts (presence rules, caps) against the members they count."""
    out = []
    sum_rules = c.compiled.sum_rules
    for k, s in enumerate(c.p.group_sums):
        rule = sum_rules[k] if k < len(sum_rules) else ""
        lo_b, hi_b = s.bounds(c.m_hi)
        pos = s.coef > 0
        if np.all(s.coef[pos] == 1.0) and np.all((s.coef == 0) | pos):
            total = int(pos.sum())
            if np.isfinite(lo_b).all() and lo_b.sum() > total:
                out.append(f"Rule '{s.name}' needs {int(lo_b.sum())} such members for "
                           f"{c.m_hi} groups, but only {total} exist. Relax the rule.")
            # Competitor sets have their own diagnosis, with their own fix.
            if np.isfinite(hi_b).all() and hi_b.sum() < total and rule != "competitors":
                out.append(f"Rule '{s.name}' allows {int(hi_b.sum())} such members in "
                           f"{c.m_hi} groups, but {total} exist. Raise the cap.")
    return out


def diagnose(compiled: Compiled) -> list[str]:
    """Cheap checks that prove a request impossible, each in plain words with the fix.

    Returns an empty list when nothing obvious is wrong (the solver may still prove
    infeasibility later, with its own reasons). The group count comes first; then
    each family's :meth:`~peermatch.rules.base.Family.diagnose`, in the order of
    :data:`~peermatch.rules.REGISTRY`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> from peermatch.rules import build_problem
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("xxxy"),
    ...     "employees": ["1", "2", "3", "4"]}))
    >>> print(diagnose(build_problem(t, np.zeros((4, 4)), min_size=2, max_size=2))[0])
    3 candidates compete (industry 'x') and need 3 groups, but 4 candidates in groups
    of 2-2 make at most 2 groups. Lower --min-size to 1, or relax the competitor rule.
    """
    p = compiled.problem
    n = p.n
    reasons: list[str] = list(compiled.reasons)
    if n == 0:
        return ["There are no candidates to group."]
    m_lo, m_hi, sizes = group_span(p)
    if p.bounds is not None:
        lo_sum, hi_sum = int(p.bounds[:, 0].sum()), int(p.bounds[:, 1].sum())
    elif p.n_groups is not None:
        lo_sum, hi_sum = p.n_groups * p.min_size, p.n_groups * p.max_size
    else:
        lo_sum = hi_sum = None
    if lo_sum is not None and not lo_sum <= n <= hi_sum:
        return reasons + [f"{n} candidates cannot fill {m_lo} groups with {sizes}: they "
                          f"hold {lo_sum}-{hi_sum} members. Change the number of groups or the "
                          "sizes."]
    if m_lo > m_hi:
        return reasons + [f"{n} candidates cannot be split into {sizes}: {m_lo} groups are "
                          f"needed but only {m_hi} fit the minimum size. Widen the size range."]
    span = Span(compiled, p.names or tuple(str(i) for i in range(n)), m_lo, m_hi, sizes)
    for family in REGISTRY:
        reasons.extend(family.diagnose(span, reasons))
    return reasons
