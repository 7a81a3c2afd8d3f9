"""Open seats: which existing group fits a prospect best — the chair's daily question."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from ._compat import renamed_keywords
from .candidates import CandidateTable
from .core import block
from .errors import ConfigError
from .explain import who_is
from .rules import (
    Rules,
    Violation,
    build_problem,
    check_violations,
    keep_parts_apart,
)

__all__ = ["rank_groups"]


@renamed_keywords(grouping="groups")
def rank_groups(
    groups: str | os.PathLike | pd.DataFrame | CandidateTable,
    prospect: str,
    *,
    max_size: int = 12,
    weights=None,
    rules: Rules | None = None,
    columns: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Rank the existing groups a prospect could join, with the reason each fits or not.

    ``groups`` is a table with a ``group`` column (e.g. a previous output of
    ``peermatch match``, read by :func:`peermatch.grouping.read_grouping`) holding the
    prospect's row too, with an empty ``group`` cell. (Formerly ``grouping``; that
    keyword still works, with a DeprecationWarning.)

    A member who already has a group is ranked like a prospect against the *other*
    groups (where could they move?); their own group is left out of the ranking and
    named in ``attrs["seated_in"]`` of the result (None for a prospect), and
    ``peermatch seats`` says so before the ranking. A move is checked with
    :func:`peermatch.move.check_move` (``peermatch move``).

    A group *fits* when it has an open seat (fewer than ``max_size`` members), holds
    no competitor of the prospect, nobody in declared conflict with them, and, when the
    rules ask, the same tier, the same region and a meeting slot the prospect shares.
    Fitting groups come first, best mean affinity first.

    Returns
    -------
    pandas.DataFrame
        ``rank, group, size, fits, mean_affinity, best_match, reason``; the reason of a
        group with room reads ``"8 of 12 seats taken, 4 open; strongest tie with Name
        (id)"``, of a full one ``"full: 12 of 12 seats taken, none open"``.

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
    >>> other = df.assign(industry=["Law", "Retail", "Food", "Retail", "Tech"])
    >>> print(rank_groups(other, "p", max_size=4)["reason"].iloc[0])
    2 of 4 seats taken, 2 open; strongest tie with ...
    >>> rank_groups(df, "a", max_size=4).attrs["seated_in"]
    '1'
    """
    from .grouping import read_grouping

    if isinstance(max_size, bool) or not isinstance(max_size, (int, np.integer)) or max_size < 1:
        raise ConfigError(f"The 'max_size' parameter of rank_groups must be a positive int. "
                          f"Got {max_size!r} instead.")
    G = read_grouping(groups, weights=weights, rules=rules, columns=columns,
                      allow_unplaced=True)
    table, rules = G.table, G.rules
    ids = [str(x) for x in table.ids]
    p = _prospect_row(ids, prospect, str(table.source))
    A = G.affinity
    cells = np.array([str(g).strip() for g in table.group], dtype=object)
    own = cells[p]
    names = [G.names[g] for g in G.order if G.names[g] != own]
    by_id = {x: G.name_of(k) for k, x in enumerate(ids)}

    def who(x: str, extra: str = "") -> str:
        return who_is(by_id.get(x, x), x, extra)

    # The existing members and the prospect (as a newcomer), checked by the rule engine:
    # the same checks as match and report --check, not a copy of them.
    rows = np.array(sorted({p, *np.flatnonzero((cells != "") & (cells != own))}),
                    dtype=np.int64)
    sub = table.subset(rows)
    sub_groups = cells[rows].copy()
    at = int(np.flatnonzero(rows == p)[0])
    sub_groups[at] = ""
    sub = replace(sub, group=sub_groups)
    zeros = np.broadcast_to(np.float32(0), (sub.n, sub.n))
    compiled = build_problem(sub, zeros, min_size=1, max_size=max_size, rules=rules)
    base = np.asarray(compiled.existing, dtype=np.int64)
    gindex = {g: k for k, g in enumerate(compiled.group_names or [])}

    out_rows = []
    for g in names:
        mem = np.flatnonzero(cells == g)
        labels = base.copy()
        labels[at] = gindex[g]
        keep_parts_apart(compiled, sub, rules, labels)
        found = [v for v in check_violations(compiled, labels)
                 if v.group == g and (v.rule == "sizes" or ids[p] in v.members)]
        seats = _seats_words(len(mem), max_size)
        why = _seat_reasons(found, ids[p], seats, sub, at, labels == gindex[g], who)
        aff = block(A, [p], mem)[0]
        best = int(mem[np.argmax(aff)])
        out_rows.append({"group": g, "size": len(mem), "fits": not why,
                         "mean_affinity": float(aff.mean()), "best_match": ids[best],
                         "reason": "; ".join(why) if why else
                         f"{seats}; strongest tie with {who(ids[best])}"})
    out = pd.DataFrame(out_rows, columns=["group", "size", "fits", "mean_affinity", "best_match",
                                          "reason"])
    out = out.sort_values(["fits", "mean_affinity"], ascending=[False, False], kind="stable")
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out = out.reset_index(drop=True)
    out.attrs["seated_in"] = own or None
    return out


def _prospect_row(ids: list[str], prospect, source: str) -> int:
    """The row of ``prospect`` (ids compared by :func:`~peermatch.candidates.text_key`), or
    a ConfigError saying how to add the prospect."""
    from .candidates import text_key

    key = text_key(str(prospect))
    for k, x in enumerate(ids):
        if text_key(x) == key:
            return k
    folded = [x for x in ids if text_key(x).casefold() == key.casefold()]
    near = folded or difflib.get_close_matches(key, ids, n=3)
    hint = f" (close ids: {', '.join(repr(x) for x in near)})" if near else ""
    raise ConfigError(f"{source}: no candidate with id {key!r} ({len(ids)} rows). For a new "
                      "prospect, add their row to this table first, with the same columns as "
                      f"the others and an empty 'group' cell; otherwise check the id{hint}.")


def _seats_words(size: int, max_size: int) -> str:
    """``"8 of 12 seats taken, 4 open"`` (``"none open"`` when full)."""
    free = max_size - size
    return f"{size} of {max_size} seats taken, {free if free > 0 else 'none'} open"


def _seat_reasons(found: list[Violation], me: str, seats: str, sub, at: int,
                  in_group: np.ndarray, who: Callable[..., str]) -> list[str]:
    """The violations of joining a group, in the words of a chair filling a seat
    (members named ``Name (id)`` by ``who``)."""
    by: dict[str, list[Violation]] = {}
    for v in found:
        by.setdefault(v.rule, []).append(v)
    why = []
    if "sizes" in by:
        why.append(f"full: {seats}")
    if "competitors" in by:
        rivals = [(x, v.detail) for v in by["competitors"] for x in v.members if x != me]
        why.append("competitor in the group: " + ", ".join(
            who(x, d) for x, d in list(dict.fromkeys(rivals))[:3]))
    for rule, words in (("conflicts", "declared conflict with "),
                        ("max_repeats", "met before: ")):
        if rule in by:
            names = [who(x) for v in by[rule] for x in v.members if x != me]
            why.append(words + ", ".join(list(dict.fromkeys(names))[:3]))
    if "separate_tiers" in by:
        other = next(i for i in np.flatnonzero(in_group) if i != at)
        why.append(f"other tier ({sub.tier[other]})")
    if "same_region" in by:
        other = next(i for i in np.flatnonzero(in_group) if i != at)
        why.append(f"other region ({sub.region[other]})")
    if "common_slot" in by:
        why.append("no shared meeting slot")
    shown = {"sizes", "competitors", "conflicts", "max_repeats", "separate_tiers",
             "same_region", "common_slot"}
    why.extend(v.message for v in found if v.rule not in shown)
    return why
