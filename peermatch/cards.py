"""What a group's card in the report shows beyond its members' table: the meeting slot,
the accountability pairs and, with text columns, what each member writes about with the
rest of the group. Self-contained: :mod:`peermatch.pairs` and :mod:`peermatch.calendar`
make the data shown here; :func:`peermatch.text.group_terms` names the words.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

import numpy as np

from .candidates import CandidateTable
from .result import MatchResult
from .text import group_terms

__all__ = ["group_slots", "member_topics", "pair_lists", "table_cell"]

_E = html.escape
# Terms named per member on a card.
_TOPICS = 3


def table_cell(table: CandidateTable, canon: str, i: int) -> str:
    """The cell of canonical column ``canon`` on row ``i`` as text ("" without it)."""
    col = table.columns.get(canon)
    return "" if col is None else str(table.frame.at[i, col])


def member_topics(result: MatchResult, members: Sequence[int]) -> list[list[str]]:
    """What each of ``members`` (one group) writes about with the others: the distinctive
    terms of their goals answers (the ``wants`` text columns; ``own`` ones without any)
    that groupmates use too. Empty list when the weights declare no text column."""
    f = result.features
    texts = getattr(f, "texts", None) or {}
    specs = [s for s in result.weights.columns if s.kind == "text" and s.name in texts]
    sides = {s.side for s in specs}
    side = "wants" if "wants" in sides else "own" if "own" in sides else None
    if side is None:
        return []
    return group_terms(f, [int(i) for i in members], _TOPICS, side=side)


def group_slots(result: MatchResult) -> list[str] | None:
    """Meeting slot per group label: the common-slot rule's, else a ``meeting_slot`` column
    of the table (the most common value among the group's members); None when neither."""
    if result.rules.common_slot:
        return result.meeting_slots
    frame = result.table.frame
    col = next((c for c in frame.columns if str(c).strip().casefold() == "meeting_slot"), None)
    if col is None:
        return None
    cells = frame[col].astype(str).str.strip().tolist()
    out = []
    for g in range(result.n_groups):
        vals = [cells[i] for i in np.flatnonzero(result.labels == g) if cells[i]]
        out.append(max(dict.fromkeys(vals), key=vals.count) if vals else "")
    return out if any(out) else None


def pair_lists(result: MatchResult, pairs: Any) -> dict[str, str]:
    """Group name -> the HTML list of its accountability pairs ("" when none given)."""
    if pairs is None:
        return {}
    from .explain import who_is
    from .pairs import pairs_for_grouping

    t, lab = result.table, result.labels
    pairs = pairs_for_grouping(pairs, {str(t.ids[i]): result.group_names[int(lab[i])]
                                       for i in range(t.n) if lab[i] >= 0},
                               f"the grouping of {t.source}")
    name = {str(t.ids[i]): who_is(table_cell(t, "name", i) or str(t.ids[i]), str(t.ids[i]))
            for i in range(t.n)}
    f = pairs.frame
    out: dict[str, list[str]] = {}
    for r in f.to_dict("records"):
        units = [str(r.get(c, "") or "").strip() for c in ("member_1", "member_2", "member_3")]
        who = " &amp; ".join(_E(name.get(x, x)) for x in units if x and x != "nan")
        aff = r.get("affinity", "")
        try:
            aff_s = f' <span class="muted">({float(aff):.2f})</span>'
        except (TypeError, ValueError):
            aff_s = ""
        why = str(r.get("reason", "") or "")
        out.setdefault(str(r["group"]).strip(), []).append(
            f'<li title="{_E(why)}">{who}{aff_s}</li>')
    return {g: ('<p class="pairs">Accountability pairs:</p><ul class="pairs">'
                + "".join(items) + "</ul>") for g, items in out.items()}
