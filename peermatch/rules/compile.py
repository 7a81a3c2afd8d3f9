"""From rules to solver input: :func:`build_problem` runs every family's compile step."""

from __future__ import annotations

import numpy as np

from ..candidates import CandidateTable
from ..problem import Problem
from .builder import Builder, compile_group_count
from .compiled import Compiled
from .registry import REGISTRY
from .spec import Rules

__all__ = ["build_problem"]


def build_problem(table: CandidateTable, A: np.ndarray, *, min_size: int, max_size: int,
                  n_groups: int | None = None, rules: Rules | None = None,
                  elsewhere: frozenset[str] = frozenset()) -> Compiled:
    """Compile ``rules`` on ``table`` into a :class:`~peermatch.problem.Problem`.

    Each set of mutual competitors becomes a :class:`~peermatch.problem.GroupSum`
    "at most one per group" (tighter for the solver than all its pairs); wildcard
    competitors, declared conflicts and forbidden repeats become cannot-link pairs;
    soft terms (balance penalty, repeat penalty, move cost) are folded into a copy
    of the affinity. With a free number of groups, the largest set of mutual
    competitors sets the fewest groups; rules that name groups or shares of groups
    fix the count to the smallest that fits (see ``Compiled.notes``). Each rule
    family of :data:`~peermatch.rules.REGISTRY` compiles itself, phase by phase
    (:data:`~peermatch.rules.base.PHASES`): pair rules, then the group count, then
    placement, then the rules on each group's make-up.

    ``elsewhere`` holds the ids of the other parts of a split table: a rule may name
    them without error (the pair or pin then concerns another part).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("xxyz"),
    ...     "employees": ["1", "2", "3", "4"]}))
    >>> c = build_problem(t, np.zeros((4, 4)), min_size=2, max_size=2)
    >>> len(c.problem.group_sums), c.problem.group_count_range()
    (1, (2, 2))
    """
    b = Builder(table, rules or Rules(), A, min_size, max_size, elsewhere, A_work=A)
    for family in REGISTRY.in_phase("pairs"):
        family.compile(b)
    compile_group_count(b, n_groups)
    for phase in ("placement", "groups"):
        for family in REGISTRY.in_phase(phase):
            family.compile(b)
    apart = [x for x in b.apart if len(x)]
    cl = np.unique(np.concatenate(apart), axis=0) if apart else None
    largest = max((len(c) for c in b.classes), default=1)
    problem = Problem(
        b.A_work, bounds=b.bounds, min_size=None if b.bounds is not None else min_size,
        max_size=None if b.bounds is not None else max_size, n_groups=b.m,
        min_groups=largest if b.m is None and largest > 1 else None, cannot_link=cl,
        must_link=b.must_link, allowed=b.allowed, group_sums=tuple(b.sums), slots=b.slots,
        slot_quorum=float(b.rules.slot_quorum), no_singleton=tuple(b.no_single),
        names=tuple(str(x) for x in table.ids))
    return Compiled(problem=problem, rules=b.rules, classes=b.classes,
                    class_labels=b.class_labels, competitor_pairs=b.wild,
                    conflict_pairs=b.conf, pair_reasons=b.pair_reasons,
                    pair_rules=b.pair_rules, sum_rules=b.sum_rules, group_names=b.names,
                    slot_names=b.slot_names, existing=b.existing, notes=b.notes,
                    reasons=b.reasons, soft=b.soft)
