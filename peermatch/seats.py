"""Open seats: which existing group fits a prospect best — the chair's daily question."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from .affinity import block_of
from .candidates import CandidateTable
from .errors import ConfigError
from .rules import Rules, _norm, competitor_classes, conflict_pairs

__all__ = ["rank_groups"]


def rank_groups(
    grouping: str | os.PathLike | pd.DataFrame | CandidateTable,
    prospect: str,
    *,
    max_size: int = 12,
    weights=None,
    rules: Rules | None = None,
    columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Rank the existing groups a prospect could join, with the reason each fits or not.

    ``grouping`` is a table with a ``group`` column (e.g. a previous output of
    ``peermatch match``) holding the prospect's row too (with an empty ``group`` cell,
    or any group, which is then left out of the ranking).

    A group *fits* when it has an open seat (fewer than ``max_size`` members), holds
    no competitor of the prospect, nobody in declared conflict with them, and, when the
    rules ask, the same tier, the same region and a meeting slot the prospect shares.
    Fitting groups come first, best mean affinity first.

    Returns
    -------
    pandas.DataFrame
        ``rank, group, size, fits, mean_affinity, best_match, reason``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": ["a", "b", "c", "d", "p"],
    ...     "industry": ["Law", "Retail", "Food", "Retail", "Retail"],
    ...     "employees": ["10", "12", "300", "20", "15"],
    ...     "group": ["1", "1", "2", "2", ""]})
    >>> r = rank_groups(df, "p", max_size=3)
    >>> r[["group", "fits"]].values.tolist()
    [['1', False], ['2', False]]
    >>> print(r["reason"].iloc[0])
    competitor in the group: b (industry 'Retail')
    """
    from .match import load_table, score_table
    from .scoring import Weights

    rules = rules or Rules()
    table = load_table(grouping, columns)
    if table.group is None:
        raise ConfigError(f"{table.source}: ranking groups needs a 'group' column with the "
                          "existing groups.")
    ids = [str(x) for x in table.ids]
    if str(prospect) not in ids:
        raise ConfigError(f"{table.source}: no candidate with id {prospect!r}.")
    p = ids.index(str(prospect))
    _, A = score_table(table, weights if weights is not None else Weights(), rules)
    groups = np.array([str(g).strip() for g in table.group], dtype=object)
    own = groups[p]
    names = [g for g in dict.fromkeys(groups.tolist()) if g and g != own]

    # Competitors and conflicts of the prospect, with a readable label each.
    rival: dict[int, str] = {}
    classes, labels, wild = competitor_classes(table, rules)
    for rows, label in zip(classes, labels, strict=True):
        if p in rows:
            rival.update({int(j): label for j in rows if j != p})
    for i, j in wild:
        if p in (i, j):
            rival[int(j if i == p else i)] = "same industry, region unknown"
    conflict = set()
    if rules.conflicts:
        for i, j in conflict_pairs(table):
            if p in (i, j):
                conflict.add(int(j if i == p else i))
    slots_p = {_norm(s) for s in table.availability[p]} if table.availability else set()

    rows = []
    for g in names:
        mem = np.flatnonzero(groups == g)
        why = []
        if len(mem) >= max_size:
            why.append(f"full ({len(mem)} of {max_size} seats taken)")
        riv = [j for j in mem if j in rival]
        if riv:
            why.append("competitor in the group: " + ", ".join(
                f"{ids[j]} ({rival[j]})" for j in riv[:3]))
        con = [j for j in mem if j in conflict]
        if con:
            why.append("declared conflict with " + ", ".join(ids[j] for j in con[:3]))
        if rules.separate_tiers and table.tier is not None:
            tiers = {_norm(table.tier[j]) for j in mem}
            if tiers and _norm(table.tier[p]) not in tiers:
                why.append(f"other tier ({', '.join(sorted(str(table.tier[j]) for j in mem[:1]))})")
        if rules.same_region and table.region is not None:
            regs = {_norm(table.region[j]) for j in mem}
            if _norm(table.region[p]) not in regs:
                why.append(f"other region ({table.region[mem[0]]})")
        if rules.common_slot and table.availability:
            common = set.intersection(*[{_norm(s) for s in table.availability[j]} for j in mem])
            if not common & slots_p:
                why.append("no shared meeting slot")
        aff = block_of(A, [p], mem)[0]
        best = int(mem[np.argmax(aff)])
        rows.append({"group": g, "size": len(mem), "fits": not why,
                     "mean_affinity": float(aff.mean()), "best_match": ids[best],
                     "reason": "; ".join(why) if why else
                     f"open seat ({len(mem)} of {max_size}); strongest tie with {ids[best]}"})
    out = pd.DataFrame(rows, columns=["group", "size", "fits", "mean_affinity", "best_match",
                                      "reason"])
    out = out.sort_values(["fits", "mean_affinity"], ascending=[False, False], kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)
