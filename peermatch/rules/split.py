"""The tier / region split of a table: which rows form each independent part.

Tiers never mix and in-person groups stay in one region, so a table splits into parts
that are solved on their own (:mod:`peermatch.rules.parts`). The rules that depend on a
whole population (balance around a mean, the even spread of a category) apply within
each part, so a grouping checked as a whole needs the same split
(:meth:`peermatch.rules.builder.Builder.part_split`).
"""

from __future__ import annotations

import numpy as np

from ..candidates import CandidateTable
from ..errors import ConfigError
from .columns import norm
from .spec import Rules

__all__ = ["partition"]


def partition(table: CandidateTable, rules: Rules, n_groups=None) -> list[tuple[str, np.ndarray]]:
    """Rows of each independent part: tiers never mix, in-person groups stay in one region.

    >>> import pandas as pd
    >>> from peermatch.candidates import read_candidates
    >>> t = read_candidates(pd.DataFrame({"id": list("abcd"), "industry": list("wxyz"),
    ...     "employees": ["1", "2", "3", "4"], "tier": ["CEO", "ceo ", "VP", "VP"]}))
    >>> [(label, rows.tolist()) for label, rows in partition(t, Rules(separate_tiers=True))]
    [("tier 'CEO'", [0, 1]), ("tier 'VP'", [2, 3])]
    """
    keys = []
    if rules.separate_tiers:
        if table.tier is None:
            raise ConfigError(f"{table.source}: separate_tiers needs a 'tier' column.")
        keys.append(("tier", table.tier))
    if rules.same_region:
        if table.region is None:
            raise ConfigError(f"{table.source}: same_region needs a 'region' column.")
        keys.append(("region", table.region))
    if not keys:
        return [("", np.arange(table.n))]
    combos: dict[tuple, list[int]] = {}
    for i in range(table.n):
        k = tuple(norm(v[i]) for _, v in keys)
        combos.setdefault(k, []).append(i)
    out = []
    for rows in combos.values():
        first = rows[0]
        label = ", ".join(f"{name} '{str(v[first]).strip()}'" for name, v in keys)
        out.append((label, np.array(rows, dtype=np.int64)))
    return out
