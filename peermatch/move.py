"""Check a hand-made move before a chair makes it: which hard rules it breaks, what it costs.

:func:`check_move` answers a chair's question: which hard rules does moving this member
into that group break (of those the grouping keeps now), which broken ones does it mend,
and what does it do to the score? The grouping is read by
:func:`peermatch.grouping.read_grouping`; the checks are those of ``MatchResult.validate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ._compat import group_size_pair
from .errors import ConfigError
from .explain import shown_change
from .rules import Rules

__all__ = ["MoveCheck", "check_move"]


@dataclass
class MoveCheck:
    """What moving one member into another group does (the output of :func:`check_move`).

    Attributes
    ----------
    member, name : str
        Id and display name of the member.
    from_group, to_group : str
        Their group now, and the group they would join.
    ok : bool
        True when the move breaks no hard rule that holds now.
    breaks : list of str
        Hard rules the move breaks (that the grouping keeps now).
    fixes : list of str
        Broken rules of the grouping that the move mends.
    score_before, score_after : float
        Total affinity of the grouping before and after.
    member_before, member_after : float
        The member's mean affinity to their group before and after.
    groups : pandas.DataFrame
        The grouping with the move made (every input row and column).
    """

    member: str
    name: str
    from_group: str
    to_group: str
    breaks: list[str]
    fixes: list[str]
    score_before: float
    score_after: float
    member_before: float
    member_after: float
    groups: pd.DataFrame = field(repr=False, default=None)

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def score_delta(self) -> float:
        return self.score_after - self.score_before

    def to_dict(self) -> dict:
        return {"member": self.member, "name": self.name, "from": self.from_group,
                "to": self.to_group, "ok": self.ok, "breaks": list(self.breaks),
                "fixes": list(self.fixes), "score_before": round(self.score_before, 6),
                "score_after": round(self.score_after, 6),
                "score_delta": round(self.score_delta, 6),
                "member_mean_affinity_before": round(self.member_before, 6),
                "member_mean_affinity_after": round(self.member_after, 6),
                "text": self.to_text()}

    def to_text(self) -> str:
        who = self.member if self.name == self.member else f"{self.name} ({self.member})"
        lines = [f"Moving {who} from group {self.from_group} to group {self.to_group}:"]
        if self.ok:
            lines.append("  keeps every hard rule.")
        else:
            lines.append(f"  breaks {len(self.breaks)} hard rule"
                         f"{'s' if len(self.breaks) != 1 else ''}:")
            lines.extend(f"    - {v}" for v in self.breaks)
        if self.fixes:
            lines.append(f"  mends {len(self.fixes)} broken rule"
                         f"{'s' if len(self.fixes) != 1 else ''}:")
            lines.extend(f"    - {v}" for v in self.fixes)
        d = self.score_delta
        before, after, diff = shown_change(self.score_before, self.score_after, thousands=True)
        lines.append(f"  score {before} -> {after} ({'+' if d >= 0 else '-'}{diff}); "
                     f"{self.name}'s mean affinity to the group {self.member_before:.2f} -> "
                     f"{self.member_after:.2f}.")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


@group_size_pair
def check_move(groups, member: str, group: str, *, min_size: int | None = None,
               max_size: int | None = None, weights=None, rules: Rules | None = None,
               columns=None) -> MoveCheck:
    """Check a hand-made move of ``member`` into ``group`` before a chair makes it.

    Parameters
    ----------
    groups : path, DataFrame, CandidateTable or MatchResult
        The grouping as it is.
    member : str
        Id of the member to move.
    group : str
        Name of the group they would join (an existing group).
    min_size, max_size : int, optional
        Allowed sizes; a bound left out (None) is the smallest / largest group of the
        grouping itself, so only sizes you state are checked. ``group_size=(min, max)``
        is the deprecated spelling.
    weights, rules, columns
        As for :func:`peermatch.report.from_grouping` (ignored for a MatchResult).

    Returns
    -------
    MoveCheck
        ``ok``, ``breaks`` (in the words of ``MatchResult.validate``), the score change.

    Examples
    --------
    >>> import peermatch as pm
    >>> df = pm.synth_candidates(16, seed=2)
    >>> df["group"] = ["1"] * 8 + ["2"] * 8
    >>> mv = check_move(df, "M0001", "2", min_size=8, max_size=9, rules=pm.Rules(competitors=()))
    >>> mv.ok, mv.breaks
    (False, ['group 1 has 7 members, outside 8-9'])
    """
    from .grouping import read_grouping

    G = read_grouping(groups, weights=weights, rules=rules, min_size=min_size,
                      max_size=max_size, columns=columns)
    i, h = G.member(member), G.group(group)
    g = int(G.labels[i])
    if g == h:
        raise ConfigError(f"{G.ids[i]} is already in group {G.names[h]}.")
    lab = G.moved((i, h))
    frame = G.table.frame.copy()
    frame[G.table.columns["group"]] = [G.names[x] for x in lab]
    return MoveCheck(member=G.ids[i], name=G.name_of(i), from_group=G.names[g],
                     to_group=G.names[h], breaks=G.new_violations(lab),
                     fixes=G.fixed_violations(lab), score_before=G.score(),
                     score_after=G.score(lab), member_before=G.mean_affinity(i, g),
                     member_after=G.mean_affinity(i, h, lab), groups=frame)
